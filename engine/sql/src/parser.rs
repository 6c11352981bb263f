//! ksqlDB's statements, parsed by our own layer over sqlparser's token stream (as DataFusion's
//! `DFParser` wraps sqlparser's `Parser`): statement words, `WITH (...)`, column lists, and
//! the query clauses ksqlDB adds (`WINDOW`, `WITHIN`, `PARTITION BY`, `EMIT`). Expressions
//! go through sqlparser's expression parser with the ksqlDB dialect. One statement at a time;
//! splitting and variables are in [`crate::split`]. No I/O.

use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer};

use crate::ast::*;
use crate::dialect::{
    eat_word, expect, expect_word, mismatch_here, parse_ident, parse_type, token_text, word_at,
    KsqlDialect,
};
use crate::error::Fail;
use crate::keywords;

/// sqlparser's limit on expression nesting (each level is one `parse_subexpr`).
const RECURSION_LIMIT: usize = 64;
/// Our own limits, checked on the tokens before parsing, so that every tree we build (and
/// every recursive walk over it, ours or the engine's) stays shallow: brackets, CASE and runs
/// of prefix operators may nest this deep...
const MAX_NESTING: i64 = 24;
/// ...and a statement may have this many operators (a chain `a OR b OR ...` is a tree as
/// deep as it is long).
const MAX_OPERATORS: usize = 500;

/// Parse one statement's text (no trailing `;`). `semicolon` says whether a `;` ended it in
/// the input, so that running out of tokens is reported at that `;` as ksqlDB does.
pub(crate) fn parse_statement_text(text: &str, semicolon: bool) -> Result<Statement, Fail> {
    let dialect = KsqlDialect::new();
    let tokens = tokenize(&dialect, text)?;
    let open_brackets = check_limits(&tokens)?;
    let parser = Parser::new(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let mut sp = StmtParser {
        p: parser,
        d: &dialect,
    };
    let result = sp.statement().and_then(|s| {
        if sp.p.peek_token_ref().token == Token::EOF {
            Ok(s)
        } else {
            Err(mismatch_here(&sp.p, "';'"))
        }
    });
    result.map_err(|mut fail| {
        let at_end = sp.p.peek_token_ref().token == Token::EOF;
        if at_end && fail.message.contains("<EOF>") {
            if open_brackets > 0 {
                fail.message = "Syntax error at or near \";\"\n'}', ']', or ')' is missing".into();
            } else if semicolon {
                fail.message = fail.message.replace("<EOF>", "';'");
            }
        }
        fail
    })
}

fn tokenize(dialect: &KsqlDialect, text: &str) -> Result<Vec<TokenWithSpan>, Fail> {
    // Control characters never belong in a statement (and the dialect's placeholders rely
    // on no input containing them).
    let (mut line, mut column) = (1u64, 1u64);
    for c in text.chars() {
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
            return Err(Fail::new(
                line,
                column,
                format!("Syntax error: unexpected character U+{:04X}", c as u32),
            ));
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    let raw = Tokenizer::new(dialect, text)
        .tokenize_with_location()
        .map_err(|e| {
            Fail::new(
                e.location.line,
                e.location.column,
                tokenizer_message(&e.message),
            )
        })?;
    let mut tokens = Vec::with_capacity(raw.len() + 1);
    for t in raw {
        match t.token {
            Token::Whitespace(_) => {}
            // `ARRAY<ARRAY<INT>>`: ksqlDB has no shift operators, so `>>` is always two `>`.
            Token::ShiftRight => {
                let s = t.span.start;
                let mid = Location::new(s.line, s.column + 1);
                tokens.push(TokenWithSpan::new(Token::Gt, Span::new(s, mid)));
                tokens.push(TokenWithSpan::new(Token::Gt, Span::new(mid, t.span.end)));
            }
            _ => tokens.push(t),
        }
    }
    let end = end_location(text);
    tokens.push(TokenWithSpan::new(Token::EOF, Span::new(end, end)));
    Ok(tokens)
}

fn tokenizer_message(m: &str) -> String {
    if m.starts_with("Unterminated string literal") {
        "Syntax error: unterminated string literal".to_string()
    } else {
        format!("Syntax error: {m}")
    }
}

/// Enforce [`MAX_NESTING`] and [`MAX_OPERATORS`]; returns how many brackets are left open.
fn check_limits(tokens: &[TokenWithSpan]) -> Result<i64, Fail> {
    let word = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    let (mut depth, mut run, mut operators) = (0i64, 0i64, 0usize);
    let mut prev_ends_operand = false;
    for t in tokens {
        let w = word(&t.token);
        let w = w.as_deref();
        match (&t.token, w) {
            (Token::LParen | Token::LBracket | Token::LBrace, _) | (_, Some("CASE")) => depth += 1,
            (Token::RParen | Token::RBracket | Token::RBrace, _) | (_, Some("END")) => depth -= 1,
            _ => {}
        }
        let is_operator = matches!(
            t.token,
            Token::Plus
                | Token::Minus
                | Token::Mul
                | Token::Div
                | Token::Mod
                | Token::StringConcat
                | Token::Eq
                | Token::Neq
                | Token::Lt
                | Token::LtEq
                | Token::Gt
                | Token::GtEq
                | Token::Arrow
                | Token::LBracket
        ) || matches!(
            w,
            Some("AND" | "OR" | "NOT" | "IS" | "LIKE" | "BETWEEN" | "IN" | "WHEN")
        );
        if is_operator {
            operators += 1;
        }
        let prefix_operator = !prev_ends_operand
            && (matches!(t.token, Token::Minus | Token::Plus) || w == Some("NOT"));
        run = if prefix_operator { run + 1 } else { 0 };
        if depth + run > MAX_NESTING || operators > MAX_OPERATORS {
            let (line, column) = (t.span.start.line, t.span.start.column);
            return Err(Fail::new(
                line,
                column,
                if operators > MAX_OPERATORS {
                    format!("Syntax error: more than {MAX_OPERATORS} operators in one statement")
                } else {
                    format!("Syntax error: expressions nested more than {MAX_NESTING} deep")
                },
            ));
        }
        prev_ends_operand = matches!(
            t.token,
            Token::RParen | Token::RBracket | Token::Number(..) | Token::SingleQuotedString(_)
        ) || (matches!(t.token, Token::Word(_))
            && !is_operator
            && w != Some("CASE")
            && w != Some("THEN")
            && w != Some("ELSE")
            && w != Some("SELECT")
            && w != Some("WHERE"));
    }
    Ok(depth)
}

/// Where the character after `text` is (1-based line and column).
fn end_location(text: &str) -> Location {
    let (mut line, mut column) = (1u64, 1u64);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    Location::new(line, column)
}

struct StmtParser<'a> {
    p: Parser<'a>,
    d: &'a KsqlDialect,
}

type R<T> = Result<T, Fail>;

impl StmtParser<'_> {
    fn word(&self, n: usize, w: &str) -> bool {
        word_at(&self.p, n, w)
    }
    fn eat(&mut self, w: &str) -> bool {
        eat_word(&mut self.p, w)
    }
    fn expect(&mut self, w: &str) -> R<()> {
        expect_word(&mut self.p, w)
    }
    fn ident(&mut self) -> R<Ident> {
        parse_ident(&mut self.p)
    }
    fn expr(&mut self) -> R<Expr> {
        self.d.expr(&mut self.p)
    }
    fn fail(&self, expected: &str) -> Fail {
        mismatch_here(&self.p, expected)
    }
    fn peek(&self) -> &Token {
        &self.p.peek_token_ref().token
    }

    fn statement(&mut self) -> R<Statement> {
        let first = self.p.peek_token_ref().clone();
        let word = match &first.token {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
            _ => String::new(),
        };
        match word.as_str() {
            "SELECT" => Ok(Statement::Query(Box::new(self.query()?))),
            "CREATE" => self.create(),
            "INSERT" => self.insert(),
            "DROP" => self.drop(),
            "SHOW" | "LIST" => self.list(),
            "DESCRIBE" => self.describe(),
            "EXPLAIN" => self.explain(),
            "TERMINATE" | "PAUSE" | "RESUME" => {
                self.p.next_token();
                let target = self.query_target()?;
                Ok(match word.as_str() {
                    "TERMINATE" => Statement::Terminate(target),
                    "PAUSE" => Statement::Pause(target),
                    _ => Statement::Resume(target),
                })
            }
            "PRINT" => self.print(),
            "SET" => {
                self.p.next_token();
                let name = self.string()?;
                expect(&mut self.p, &Token::Eq, "'='")?;
                let value = self.string()?;
                Ok(Statement::SetProperty { name, value })
            }
            "UNSET" => {
                self.p.next_token();
                Ok(Statement::UnsetProperty {
                    name: self.string()?,
                })
            }
            "ALTER" => self.alter(),
            "DEFINE" => {
                self.p.next_token();
                let name = self.variable_name()?;
                expect(&mut self.p, &Token::Eq, "'='")?;
                let value = self.string()?;
                Ok(Statement::DefineVariable { name, value })
            }
            "UNDEFINE" => {
                self.p.next_token();
                Ok(Statement::UndefineVariable {
                    name: self.variable_name()?,
                })
            }
            _ => {
                let (line, column) = (first.span.start.line, first.span.start.column);
                match &first.token {
                    Token::Word(w) => Err(Fail::new(
                        line,
                        column,
                        format!(
                            "Unknown statement '{}'\nDid you mean '{}'?",
                            w.value,
                            keywords::closest_command(&w.value)
                        ),
                    )),
                    t => Err(Fail::mismatched(
                        line,
                        column,
                        &token_text(t),
                        "a statement (SELECT, CREATE, INSERT, DESCRIBE, PRINT, EXPLAIN, SHOW, \
                         LIST, TERMINATE, DROP, SET, DEFINE, UNDEFINE, UNSET, ALTER)",
                    )),
                }
            }
        }
    }

    fn string(&mut self) -> R<String> {
        match self.peek().clone() {
            Token::SingleQuotedString(s) => {
                self.p.next_token();
                Ok(s)
            }
            _ => Err(self.fail("STRING")),
        }
    }

    fn number(&mut self) -> R<u64> {
        match self.peek().clone() {
            Token::Number(n, _) if n.chars().all(|c| c.is_ascii_digit()) => match n.parse() {
                Ok(v) => {
                    self.p.next_token();
                    Ok(v)
                }
                Err(_) => Err(self.fail("a number")),
            },
            _ => Err(self.fail("INTEGER_VALUE")),
        }
    }

    /// DEFINE's variable names are plain identifiers, kept as written (case-sensitive).
    fn variable_name(&mut self) -> R<String> {
        match self.peek().clone() {
            Token::Word(w) if w.quote_style.is_none() => {
                self.p.next_token();
                Ok(w.value)
            }
            _ => Err(self.fail("IDENTIFIER")),
        }
    }

    /// A query id: an identifier (canonical) or a string / quoted identifier (as written).
    fn query_id(&mut self) -> R<String> {
        match self.peek().clone() {
            Token::SingleQuotedString(s) => {
                self.p.next_token();
                Ok(s)
            }
            _ => Ok(self.ident()?.0),
        }
    }

    fn query_target(&mut self) -> R<QueryTarget> {
        if self.eat("ALL") {
            Ok(QueryTarget::All)
        } else {
            Ok(QueryTarget::Id(self.query_id()?))
        }
    }

    fn if_not_exists(&mut self) -> R<bool> {
        if self.word(0, "IF") && self.word(1, "NOT") {
            self.p.next_token();
            self.p.next_token();
            self.expect("EXISTS")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn if_exists(&mut self) -> R<bool> {
        if self.word(0, "IF") && self.word(1, "EXISTS") {
            self.p.next_token();
            self.p.next_token();
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn create(&mut self) -> R<Statement> {
        self.p.next_token();
        let or_replace = if self.eat("OR") {
            self.expect("REPLACE")?;
            true
        } else {
            false
        };
        if !or_replace
            && (self.word(0, "SOURCE") || self.word(0, "SINK"))
            && self.word(1, "CONNECTOR")
        {
            let kind = if self.eat("SOURCE") {
                ConnectorKind::Source
            } else {
                self.p.next_token();
                ConnectorKind::Sink
            };
            self.p.next_token(); // CONNECTOR
            let if_not_exists = self.if_not_exists()?;
            let name = self.ident()?;
            self.expect("WITH")?;
            let properties = self.properties()?;
            return Ok(Statement::CreateConnector {
                kind,
                if_not_exists,
                name,
                properties,
            });
        }
        if !or_replace && self.eat("TYPE") {
            let if_not_exists = self.if_not_exists()?;
            let name = self.ident()?;
            self.expect("AS")?;
            let ty = parse_type(&mut self.p, 0)?;
            return Ok(Statement::CreateType {
                if_not_exists,
                name,
                ty,
            });
        }
        let is_source = self.eat("SOURCE");
        let kind = if self.eat("STREAM") {
            SourceKind::Stream
        } else if self.eat("TABLE") {
            SourceKind::Table
        } else if or_replace || is_source {
            return Err(self.fail("{'STREAM', 'TABLE'}"));
        } else {
            return Err(self.fail("{'STREAM', 'TABLE', 'TYPE', 'SOURCE', 'SINK', 'OR'}"));
        };
        let if_not_exists = self.if_not_exists()?;
        let name = self.ident()?;
        let mut columns = Vec::new();
        if self.peek() == &Token::LParen {
            columns = self.column_defs()?;
        }
        let properties = if self.eat("WITH") {
            self.properties()?
        } else {
            Properties::default()
        };
        if columns.is_empty() && !is_source && self.eat("AS") {
            let query = Box::new(self.query()?);
            return Ok(Statement::CreateAsSelect(CreateAsSelect {
                kind,
                or_replace,
                if_not_exists,
                name,
                properties,
                query,
            }));
        }
        Ok(Statement::CreateSource(CreateSource {
            kind,
            or_replace,
            is_source,
            if_not_exists,
            name,
            columns,
            properties,
        }))
    }

    fn column_defs(&mut self) -> R<Vec<ColumnDef>> {
        expect(&mut self.p, &Token::LParen, "'('")?;
        let mut columns = Vec::new();
        loop {
            let name = self.ident()?;
            let ty = parse_type(&mut self.p, 0)?;
            let constraint = if self.eat("PRIMARY") {
                self.expect("KEY")?;
                Some(ColumnConstraint::PrimaryKey)
            } else if self.eat("KEY") {
                Some(ColumnConstraint::Key)
            } else if self.eat("HEADERS") {
                Some(ColumnConstraint::Headers)
            } else if self.eat("HEADER") {
                expect(&mut self.p, &Token::LParen, "'('")?;
                let key = self.string()?;
                expect(&mut self.p, &Token::RParen, "')'")?;
                Some(ColumnConstraint::Header(key))
            } else {
                None
            };
            columns.push(ColumnDef {
                name,
                ty,
                constraint,
            });
            if self.p.consume_token(&Token::RParen) {
                return Ok(columns);
            }
            if !self.p.consume_token(&Token::Comma) {
                return Err(self.fail("{',', ')', 'KEY', 'PRIMARY', 'HEADERS', 'HEADER'}"));
            }
        }
    }

    /// `( key = literal, ... )`
    fn properties(&mut self) -> R<Properties> {
        expect(&mut self.p, &Token::LParen, "'('")?;
        let mut props = Vec::new();
        loop {
            let key = match self.peek().clone() {
                Token::SingleQuotedString(s) => {
                    self.p.next_token();
                    s
                }
                _ => self.ident()?.0,
            };
            expect(&mut self.p, &Token::Eq, "'='")?;
            let value = self.literal()?;
            props.push(Property { key, value });
            if self.p.consume_token(&Token::RParen) {
                return Ok(Properties(props));
            }
            expect(&mut self.p, &Token::Comma, "{',', ')'}")?;
        }
    }

    /// A property value: NULL, a (signed) number, TRUE/FALSE or a string.
    fn literal(&mut self) -> R<Literal> {
        let negative = self.p.consume_token(&Token::Minus);
        let t = self.p.peek_token_ref().clone();
        let lit = match &t.token {
            Token::Number(..) => {
                let (line, column) = (t.span.start.line, t.span.start.column);
                // Reuse the expression layer's number rules.
                let e = self.expr()?;
                return match e {
                    Expr::Literal(Literal::Integer(i)) if negative => Ok(Literal::Integer(-i)),
                    Expr::Literal(Literal::Decimal(d)) if negative => {
                        Ok(Literal::Decimal(format!("-{d}")))
                    }
                    Expr::Literal(Literal::Double(d)) if negative => {
                        Ok(Literal::Double(format!("-{d}")))
                    }
                    Expr::Literal(l) => Ok(l),
                    _ => Err(Fail::mismatched(
                        line,
                        column,
                        &token_text(&t.token),
                        "a literal",
                    )),
                };
            }
            _ if negative => return Err(self.fail("a number")),
            Token::SingleQuotedString(s) => Literal::String(s.clone()),
            Token::Word(w) if w.quote_style.is_none() => {
                match w.value.to_ascii_uppercase().as_str() {
                    "NULL" => Literal::Null,
                    "TRUE" => Literal::Boolean(true),
                    "FALSE" => Literal::Boolean(false),
                    _ => return Err(self.fail("a literal (STRING, number, TRUE, FALSE, NULL)")),
                }
            }
            _ => return Err(self.fail("a literal (STRING, number, TRUE, FALSE, NULL)")),
        };
        self.p.next_token();
        Ok(lit)
    }

    fn insert(&mut self) -> R<Statement> {
        self.p.next_token();
        self.expect("INTO")?;
        let target = self.ident()?;
        if self.peek() == &Token::LParen || self.word(0, "VALUES") {
            let mut columns = Vec::new();
            if self.p.consume_token(&Token::LParen) {
                loop {
                    columns.push(self.ident()?);
                    if self.p.consume_token(&Token::RParen) {
                        break;
                    }
                    expect(&mut self.p, &Token::Comma, "{',', ')'}")?;
                }
            }
            self.expect("VALUES")?;
            let values = self.paren_exprs()?;
            return Ok(Statement::InsertValues {
                target,
                columns,
                values,
            });
        }
        let properties = if self.eat("WITH") {
            self.properties()?
        } else {
            Properties::default()
        };
        if !self.word(0, "SELECT") {
            return Err(self.fail("{'SELECT', 'VALUES', 'WITH', '('}"));
        }
        let query = Box::new(self.query()?);
        Ok(Statement::InsertInto {
            target,
            properties,
            query,
        })
    }

    /// `( [expr, ...] )`
    fn paren_exprs(&mut self) -> R<Vec<Expr>> {
        expect(&mut self.p, &Token::LParen, "'('")?;
        let mut values = Vec::new();
        if self.p.consume_token(&Token::RParen) {
            return Ok(values);
        }
        loop {
            values.push(self.expr()?);
            if self.p.consume_token(&Token::RParen) {
                return Ok(values);
            }
            expect(&mut self.p, &Token::Comma, "{',', ')'}")?;
        }
    }

    fn drop(&mut self) -> R<Statement> {
        self.p.next_token();
        if self.eat("CONNECTOR") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropConnector {
                if_exists,
                name: self.ident()?,
            });
        }
        if self.eat("TYPE") {
            let if_exists = self.if_exists()?;
            return Ok(Statement::DropType {
                if_exists,
                name: self.ident()?,
            });
        }
        let kind = self.source_kind("{'STREAM', 'TABLE', 'CONNECTOR', 'TYPE'}")?;
        let if_exists = self.if_exists()?;
        let name = self.ident()?;
        let delete_topic = if self.eat("DELETE") {
            self.expect("TOPIC")?;
            true
        } else {
            false
        };
        Ok(Statement::DropSource {
            kind,
            if_exists,
            name,
            delete_topic,
        })
    }

    fn source_kind(&mut self, expected: &str) -> R<SourceKind> {
        if self.eat("STREAM") {
            Ok(SourceKind::Stream)
        } else if self.eat("TABLE") {
            Ok(SourceKind::Table)
        } else {
            Err(self.fail(expected))
        }
    }

    fn alter(&mut self) -> R<Statement> {
        self.p.next_token();
        if self.eat("SYSTEM") {
            let name = self.string()?;
            expect(&mut self.p, &Token::Eq, "'='")?;
            let value = self.string()?;
            return Ok(Statement::AlterSystemProperty { name, value });
        }
        let kind = self.source_kind("{'STREAM', 'TABLE', 'SYSTEM'}")?;
        let name = self.ident()?;
        let mut add_columns = Vec::new();
        loop {
            self.expect("ADD")?;
            self.eat("COLUMN");
            let col = self.ident()?;
            add_columns.push((col, parse_type(&mut self.p, 0)?));
            if !self.p.consume_token(&Token::Comma) {
                break;
            }
        }
        Ok(Statement::AlterSource {
            kind,
            name,
            add_columns,
        })
    }

    fn list(&mut self) -> R<Statement> {
        self.p.next_token();
        let extended = |s: &mut Self| s.eat("EXTENDED");
        let kind = if self.eat("STREAMS") {
            ListKind::Streams {
                extended: extended(self),
            }
        } else if self.eat("TABLES") {
            ListKind::Tables {
                extended: extended(self),
            }
        } else if self.word(0, "ALL") || self.word(0, "TOPICS") {
            let all = self.eat("ALL");
            self.expect("TOPICS")?;
            ListKind::Topics {
                all,
                extended: extended(self),
            }
        } else if self.eat("QUERIES") {
            ListKind::Queries {
                extended: extended(self),
            }
        } else if self.eat("FUNCTIONS") {
            ListKind::Functions
        } else if self.eat("PROPERTIES") {
            ListKind::Properties
        } else if self.eat("VARIABLES") {
            ListKind::Variables
        } else if self.eat("TYPES") {
            ListKind::Types
        } else if self.eat("CONNECTOR") {
            self.expect("PLUGINS")?;
            ListKind::ConnectorPlugins
        } else if self.word(0, "CONNECTORS")
            || ((self.word(0, "SOURCE") || self.word(0, "SINK")) && self.word(1, "CONNECTORS"))
        {
            let kind = if self.eat("SOURCE") {
                Some(ConnectorKind::Source)
            } else if self.eat("SINK") {
                Some(ConnectorKind::Sink)
            } else {
                None
            };
            self.p.next_token();
            ListKind::Connectors { kind }
        } else {
            return Err(self.fail(
                "{'STREAMS', 'TABLES', 'TOPICS', 'QUERIES', 'FUNCTIONS', 'PROPERTIES', \
                 'VARIABLES', 'TYPES', 'CONNECTORS'}",
            ));
        };
        Ok(Statement::List(kind))
    }

    fn describe(&mut self) -> R<Statement> {
        self.p.next_token();
        if self.word(0, "STREAMS") || self.word(0, "TABLES") {
            let kind = if self.eat("STREAMS") {
                SourceKind::Stream
            } else {
                self.p.next_token();
                SourceKind::Table
            };
            return Ok(Statement::DescribeSources {
                kind,
                extended: self.eat("EXTENDED"),
            });
        }
        let next_is_name = matches!(self.p.peek_nth_token_ref(1).token, Token::Word(_));
        if self.word(0, "FUNCTION") && next_is_name {
            self.p.next_token();
            return Ok(Statement::DescribeFunction {
                name: self.ident()?,
            });
        }
        if self.word(0, "CONNECTOR") && next_is_name {
            self.p.next_token();
            return Ok(Statement::DescribeConnector {
                name: self.ident()?,
            });
        }
        let name = self.ident()?;
        Ok(Statement::DescribeSource {
            name,
            extended: self.eat("EXTENDED"),
        })
    }

    fn explain(&mut self) -> R<Statement> {
        self.p.next_token();
        let statement_words = ["SELECT", "CREATE", "INSERT"];
        if statement_words.iter().any(|w| self.word(0, w)) {
            return Ok(Statement::Explain(ExplainTarget::Statement(Box::new(
                self.statement()?,
            ))));
        }
        Ok(Statement::Explain(ExplainTarget::QueryId(self.query_id()?)))
    }

    fn print(&mut self) -> R<Statement> {
        self.p.next_token();
        let (topic, case_insensitive) = match self.peek().clone() {
            Token::SingleQuotedString(s) => {
                self.p.next_token();
                (s, false)
            }
            Token::Word(w) if w.quote_style.is_some() => {
                self.p.next_token();
                (w.value, false)
            }
            Token::Word(_) => {
                let t = self.p.peek_token_ref().clone();
                let id = self.ident()?;
                let Token::Word(w) = t.token else {
                    unreachable!("checked above")
                };
                debug_assert_eq!(id.0, w.value.to_ascii_uppercase());
                (w.value, true)
            }
            _ => return Err(self.fail("{STRING, IDENTIFIER}")),
        };
        let from_beginning = if self.eat("FROM") {
            self.expect("BEGINNING")?;
            true
        } else {
            false
        };
        let interval = if self.eat("INTERVAL") || self.eat("SAMPLE") {
            Some(self.number()?)
        } else {
            None
        };
        let limit = if self.eat("LIMIT") {
            Some(self.number()?)
        } else {
            None
        };
        Ok(Statement::Print(Print {
            topic,
            case_insensitive,
            from_beginning,
            interval,
            limit,
        }))
    }

    // ---- queries -------------------------------------------------------------------------

    fn query(&mut self) -> R<Query> {
        self.expect("SELECT")?;
        let mut select = Vec::new();
        loop {
            select.push(self.select_item()?);
            if !self.p.consume_token(&Token::Comma) {
                break;
            }
        }
        if !self.word(0, "FROM") {
            return Err(self.fail("{',', 'FROM'}"));
        }
        self.p.next_token();
        let from = self.relation()?;
        // ksqlDB's grammar puts WINDOW before WHERE; the talk (and many users) write it
        // after WHERE, so both orders are accepted (and printed in ksqlDB's order).
        let mut window = if self.eat("WINDOW") {
            Some(self.window()?)
        } else {
            None
        };
        let where_clause = if self.eat("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        if window.is_none() && self.eat("WINDOW") {
            window = Some(self.window()?);
        }
        let group_by = if self.word(0, "GROUP") {
            self.p.next_token();
            self.expect("BY")?;
            self.expr_list()?
        } else {
            Vec::new()
        };
        let partition_by = if self.word(0, "PARTITION") && self.word(1, "BY") {
            self.p.next_token();
            self.p.next_token();
            self.expr_list()?
        } else {
            Vec::new()
        };
        let having = if self.eat("HAVING") {
            Some(self.expr()?)
        } else {
            None
        };
        let emit = if self.eat("EMIT") {
            if self.eat("CHANGES") {
                Some(Emit::Changes)
            } else if self.eat("FINAL") {
                Some(Emit::Final)
            } else {
                return Err(self.fail("{'CHANGES', 'FINAL'}"));
            }
        } else {
            None
        };
        let limit = if self.eat("LIMIT") {
            Some(self.number()?)
        } else {
            None
        };
        Ok(Query {
            select,
            from,
            window,
            where_clause,
            group_by,
            partition_by,
            having,
            emit,
            limit,
        })
    }

    /// GROUP BY / PARTITION BY: `e, e` or `(e, e)` or `()`.
    fn expr_list(&mut self) -> R<Vec<Expr>> {
        if self.peek() == &Token::LParen && self.p.peek_nth_token_ref(1).token == Token::RParen {
            self.p.next_token();
            self.p.next_token();
            return Ok(Vec::new());
        }
        // `(a, b)` is a tuple to sqlparser; ksqlDB reads it as the list a, b.
        if self.peek() == &Token::LParen {
            let start = self.p.get_current_index();
            let fallback = {
                let t = self.p.peek_token_ref();
                (t.span.start.line, t.span.start.column)
            };
            let parsed = self
                .p
                .parse_expr()
                .map_err(|e| Fail::from_parser_error(e, fallback))?;
            if let sqlparser::ast::Expr::Tuple(items) = parsed {
                if !matches!(self.peek(), Token::Comma) {
                    return items.into_iter().map(|e| self.d.convert(e)).collect();
                }
            }
            // Not a bare tuple: parse again as an ordinary list.
            while self.p.get_current_index() > start {
                self.p.prev_token();
            }
        }
        let mut list = vec![self.expr()?];
        while self.p.consume_token(&Token::Comma) {
            list.push(self.expr()?);
        }
        Ok(list)
    }

    fn select_item(&mut self) -> R<SelectItem> {
        if self.p.consume_token(&Token::Mul) {
            return Ok(SelectItem::Wildcard);
        }
        if matches!(self.peek(), Token::Word(_))
            && self.p.peek_nth_token_ref(1).token == Token::Period
            && self.p.peek_nth_token_ref(2).token == Token::Mul
        {
            let source = self.ident()?;
            self.p.next_token();
            self.p.next_token();
            return Ok(SelectItem::QualifiedWildcard(source));
        }
        let expr = self.expr()?;
        let alias = self.alias()?;
        Ok(SelectItem::Expr { expr, alias })
    }

    /// `[AS] alias`: after AS any identifier; without AS only one that cannot start the
    /// next clause.
    fn alias(&mut self) -> R<Option<Ident>> {
        if self.eat("AS") {
            return Ok(Some(self.ident()?));
        }
        let Token::Word(w) = self.peek().clone() else {
            return Ok(None);
        };
        let starts_clause = keywords::is_reserved(&w.value)
            || (self.word(0, "EMIT") && (self.word(1, "CHANGES") || self.word(1, "FINAL")))
            || (self.word(0, "PARTITION") && self.word(1, "BY"));
        if w.quote_style.is_none() && starts_clause {
            return Ok(None);
        }
        Ok(Some(self.ident()?))
    }

    fn aliased_source(&mut self) -> R<AliasedSource> {
        let name = self.ident()?;
        let alias = self.alias()?;
        Ok(AliasedSource { name, alias })
    }

    fn relation(&mut self) -> R<Relation> {
        let source = self.aliased_source()?;
        let mut joins = Vec::new();
        loop {
            let kind = if self.eat("JOIN") {
                JoinKind::Inner
            } else if self.word(0, "INNER") {
                self.p.next_token();
                self.expect("JOIN")?;
                JoinKind::Inner
            } else if self.word(0, "LEFT") || self.word(0, "RIGHT") || self.word(0, "FULL") {
                let kind = if self.eat("LEFT") {
                    JoinKind::Left
                } else if self.eat("RIGHT") {
                    JoinKind::Right
                } else {
                    self.p.next_token();
                    JoinKind::Full
                };
                self.eat("OUTER");
                self.expect("JOIN")?;
                kind
            } else {
                break;
            };
            let source = self.aliased_source()?;
            let within = if self.eat("WITHIN") {
                Some(self.join_window()?)
            } else {
                None
            };
            if !self.eat("ON") {
                return Err(self.fail(if within.is_some() {
                    "'ON'"
                } else {
                    "{'WITHIN', 'ON'}"
                }));
            }
            let on = self.expr()?;
            joins.push(Join {
                kind,
                source,
                within,
                on,
            });
        }
        Ok(Relation { source, joins })
    }

    fn join_window(&mut self) -> R<JoinWindow> {
        let (before, after) = if self.p.consume_token(&Token::LParen) {
            let before = self.duration()?;
            expect(&mut self.p, &Token::Comma, "','")?;
            let after = self.duration()?;
            expect(&mut self.p, &Token::RParen, "')'")?;
            (before, Some(after))
        } else {
            (self.duration()?, None)
        };
        let grace = self.grace()?;
        Ok(JoinWindow {
            before,
            after,
            grace,
        })
    }

    fn grace(&mut self) -> R<Option<Duration>> {
        if self.word(0, "GRACE") {
            self.p.next_token();
            self.expect("PERIOD")?;
            Ok(Some(self.duration()?))
        } else {
            Ok(None)
        }
    }

    fn duration(&mut self) -> R<Duration> {
        let value = self.number()?;
        let unit = match self.peek() {
            Token::Word(w) if w.quote_style.is_none() => keywords::time_unit(&w.value),
            _ => None,
        };
        match unit {
            Some(unit) => {
                self.p.next_token();
                Ok(Duration { value, unit })
            }
            None => Err(self.fail(
                "{'DAY', 'HOUR', 'MINUTE', 'SECOND', 'MILLISECOND', 'DAYS', 'HOURS', 'MINUTES', \
                 'SECONDS', 'MILLISECONDS'}",
            )),
        }
    }

    /// `TUMBLING (SIZE d [, RETENTION d] [, GRACE PERIOD d])`, `HOPPING (SIZE d, ADVANCE BY d
    /// ...)`, `SESSION (d ...)`.
    fn window(&mut self) -> R<WindowExpr> {
        let kind_word = if self.eat("TUMBLING") {
            "TUMBLING"
        } else if self.eat("HOPPING") {
            "HOPPING"
        } else if self.eat("SESSION") {
            "SESSION"
        } else {
            return Err(self.fail("{'TUMBLING', 'HOPPING', 'SESSION'}"));
        };
        expect(&mut self.p, &Token::LParen, "'('")?;
        let kind = match kind_word {
            "SESSION" => WindowKind::Session {
                gap: self.duration()?,
            },
            _ => {
                self.expect("SIZE")?;
                let size = self.duration()?;
                if kind_word == "HOPPING" {
                    expect(&mut self.p, &Token::Comma, "','")?;
                    self.expect("ADVANCE")?;
                    self.expect("BY")?;
                    WindowKind::Hopping {
                        size,
                        advance: self.duration()?,
                    }
                } else {
                    WindowKind::Tumbling { size }
                }
            }
        };
        let mut retention = None;
        let mut grace = None;
        while self.p.consume_token(&Token::Comma) {
            if retention.is_none() && grace.is_none() && self.eat("RETENTION") {
                retention = Some(self.duration()?);
            } else if grace.is_none() && self.word(0, "GRACE") {
                grace = self.grace()?;
            } else {
                return Err(self.fail(if grace.is_some() {
                    "')'"
                } else {
                    "{'RETENTION', 'GRACE'}"
                }));
            }
        }
        expect(&mut self.p, &Token::RParen, "')'")?;
        Ok(WindowExpr {
            kind,
            retention,
            grace,
        })
    }
}
