//! The ksqlDB dialect of sqlparser, and the bridge from sqlparser's expression tree to ours.
//!
//! sqlparser does the tokenizing, operator precedence and the standard predicates (CASE,
//! BETWEEN, IN, LIKE, IS [NOT] NULL, IS [NOT] DISTINCT FROM). Its dialect hooks hand us the
//! ksqlDB-only parts: function calls (any name, lambdas as arguments), `CAST(x AS <ksqlDB
//! type>)`, `ARRAY[..]`, `MAP(k := v)`, `STRUCT(f := v)`, `a->b` and `a[i]`. What a hook
//! builds is kept in a side table and stands in sqlparser's tree as a placeholder identifier
//! (a quote style no input can produce) until [`KsqlDialect::convert`] turns the tree into
//! [`crate::ast::Expr`], rejecting everything ksqlDB does not have. No I/O.

use std::cell::RefCell;

use sqlparser::ast::{
    AccessExpr, BinaryOperator, Expr as SExpr, Ident as SIdent, InTarget, Spanned, Subscript,
    UnaryOperator, Value,
};
use sqlparser::dialect::Dialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::ast::{BinaryOp, Expr, Ident, Literal, SqlType, UnaryOp};
use crate::error::{quote_token, Fail};
use crate::keywords;

/// Placeholders are backtick identifiers starting with a control character, which no input
/// can contain (the tokenizer step rejects control characters): `\u{1}N` stands for the
/// N-th expression we built, `\u{2}NAME` for the (canonical) field name after `->`.
const PLACEHOLDER: char = '\u{1}';
const FIELD: char = '\u{2}';
/// How deep `ARRAY<MAP<STRING, STRUCT<...>>>` may nest.
const MAX_TYPE_DEPTH: usize = 32;

// Precedences (sqlparser's scale: higher binds tighter).
const PREC_OR: u8 = 5;
const PREC_AND: u8 = 10;
const PREC_IS: u8 = 17;
const PREC_LIKE: u8 = 19;
const PREC_CMP: u8 = 20;
const PREC_CONCAT: u8 = 25;
const PREC_ADD: u8 = 30;
const PREC_MUL: u8 = 40;
const PREC_SUBSCRIPT: u8 = 50;
const PREC_DEREF: u8 = 100;

#[derive(Debug, Default)]
pub(crate) struct KsqlDialect {
    built: RefCell<Vec<Expr>>,
}

impl Dialect for KsqlDialect {
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_ascii_alphabetic() || ch == '_'
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_ascii_alphanumeric() || ch == '_' || ch == '@'
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`' || ch == '"'
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<SExpr, ParserError>> {
        let tok = parser.peek_token_ref().clone();
        let Token::Word(w) = &tok.token else {
            return None;
        };
        let next = parser.peek_nth_token_ref(1).token.clone();
        if w.quote_style.is_none() {
            let upper = w.value.to_ascii_uppercase();
            match upper.as_str() {
                // sqlparser's own: literals, CASE, NOT.
                "TRUE" | "FALSE" | "NULL" | "CASE" | "NOT" => return None,
                "CAST" if next == Token::LParen => return Some(self.hook(parser, Self::cast)),
                "ARRAY" if next == Token::LBracket => return Some(self.hook(parser, Self::array)),
                "MAP" if next == Token::LParen => return Some(self.hook(parser, Self::map)),
                "STRUCT" if next == Token::LParen => {
                    return Some(self.hook(parser, Self::structure))
                }
                _ => {}
            }
            if keywords::is_reserved(&upper) {
                return Some(Err(Fail::new(
                    tok.span.start.line,
                    tok.span.start.column,
                    format!("Syntax error at or near {}", quote_token(&w.value)),
                )
                .into_parser_error()));
            }
        }
        if next == Token::LParen {
            return Some(self.hook(parser, Self::function));
        }
        parser.next_token();
        Some(Ok(SExpr::Identifier(SIdent {
            value: w.value.clone(),
            quote_style: w.quote_style,
            span: tok.span,
        })))
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &SExpr,
        _precedence: u8,
    ) -> Option<Result<SExpr, ParserError>> {
        match parser.peek_token_ref().token {
            Token::Arrow => {
                parser.next_token();
                Some(
                    parse_ident(parser)
                        .map_err(Fail::into_parser_error)
                        .map(|field| SExpr::BinaryOp {
                            left: Box::new(expr.clone()),
                            op: BinaryOperator::Arrow,
                            right: Box::new(SExpr::Identifier(SIdent::with_quote(
                                '`',
                                format!("{FIELD}{}", field.0),
                            ))),
                        }),
                )
            }
            Token::LBracket => {
                parser.next_token();
                Some((|| {
                    let index = parser.parse_expr()?;
                    parser.expect_token(&Token::RBracket)?;
                    Ok(SExpr::CompoundFieldAccess {
                        root: Box::new(expr.clone()),
                        access_chain: vec![AccessExpr::Subscript(Subscript::Index { index })],
                    })
                })())
            }
            _ => None,
        }
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        let word = |n: usize| match &parser.peek_nth_token_ref(n).token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        };
        let prec = match &parser.peek_token_ref().token {
            Token::Word(_) => match word(0).as_deref() {
                Some("OR") => PREC_OR,
                Some("AND") => PREC_AND,
                Some("IS") => PREC_IS,
                Some("IN") | Some("BETWEEN") => PREC_CMP,
                Some("LIKE") => PREC_LIKE,
                Some("NOT") => match word(1).as_deref() {
                    Some("IN") | Some("BETWEEN") => PREC_CMP,
                    Some("LIKE") => PREC_LIKE,
                    _ => 0,
                },
                _ => 0,
            },
            Token::Eq | Token::Neq | Token::Lt | Token::LtEq | Token::Gt | Token::GtEq => PREC_CMP,
            Token::StringConcat => PREC_CONCAT,
            Token::Plus | Token::Minus => PREC_ADD,
            Token::Mul | Token::Div | Token::Mod => PREC_MUL,
            Token::LBracket => PREC_SUBSCRIPT,
            Token::Arrow => PREC_DEREF,
            _ => 0,
        };
        Some(Ok(prec))
    }
}

type Built = Result<Expr, Fail>;

impl KsqlDialect {
    pub fn new() -> Self {
        Self::default()
    }

    /// Run one of our primary-expression parsers and leave a placeholder in sqlparser's tree.
    fn hook(
        &self,
        parser: &mut Parser,
        f: fn(&Self, &mut Parser) -> Built,
    ) -> Result<SExpr, ParserError> {
        let span = parser.peek_token_ref().span;
        let expr = f(self, parser).map_err(Fail::into_parser_error)?;
        let mut built = self.built.borrow_mut();
        built.push(expr);
        Ok(SExpr::Identifier(SIdent {
            value: format!("{PLACEHOLDER}{}", built.len() - 1),
            quote_style: Some('`'),
            span,
        }))
    }

    /// Parse one expression at the parser's position into our tree.
    pub fn expr(&self, parser: &mut Parser) -> Built {
        let fallback = pos(parser.peek_token_ref());
        let e = parser
            .parse_expr()
            .map_err(|e| Fail::from_parser_error(e, fallback))?;
        self.convert(e)
    }

    /// `CAST ( expr AS type )`
    fn cast(&self, p: &mut Parser) -> Built {
        p.next_token();
        expect(p, &Token::LParen, "'('")?;
        let expr = self.expr(p)?;
        expect_word(p, "AS")?;
        let ty = parse_type(p, 0)?;
        expect(p, &Token::RParen, "')'")?;
        Ok(Expr::Cast {
            expr: Box::new(expr),
            ty,
        })
    }

    /// `ARRAY [ a, b ]`
    fn array(&self, p: &mut Parser) -> Built {
        p.next_token();
        p.next_token();
        let mut items = Vec::new();
        if !p.consume_token(&Token::RBracket) {
            loop {
                items.push(self.expr(p)?);
                if p.consume_token(&Token::RBracket) {
                    break;
                }
                expect(p, &Token::Comma, "{',', ']'}")?;
            }
        }
        Ok(Expr::Array(items))
    }

    /// `MAP ( k := v, ... )`
    fn map(&self, p: &mut Parser) -> Built {
        p.next_token();
        p.next_token();
        let mut entries = Vec::new();
        if !p.consume_token(&Token::RParen) {
            loop {
                let k = self.expr(p)?;
                expect(p, &Token::Assignment, "':='")?;
                entries.push((k, self.expr(p)?));
                if p.consume_token(&Token::RParen) {
                    break;
                }
                expect(p, &Token::Comma, "{',', ')'}")?;
            }
        }
        Ok(Expr::Map(entries))
    }

    /// `STRUCT ( name := v, ... )`
    fn structure(&self, p: &mut Parser) -> Built {
        p.next_token();
        p.next_token();
        let mut fields = Vec::new();
        if !p.consume_token(&Token::RParen) {
            loop {
                let name = parse_ident(p)?;
                expect(p, &Token::Assignment, "':='")?;
                fields.push((name, self.expr(p)?));
                if p.consume_token(&Token::RParen) {
                    break;
                }
                expect(p, &Token::Comma, "{',', ')'}")?;
            }
        }
        Ok(Expr::Struct(fields))
    }

    /// `name ( [* | arg, ...] )`, where an argument may be a lambda.
    fn function(&self, p: &mut Parser) -> Built {
        let name = parse_ident(p)?;
        p.next_token(); // (
        let mut args = Vec::new();
        if p.peek_token_ref().token == Token::Mul && p.peek_nth_token_ref(1).token == Token::RParen
        {
            p.next_token();
            p.next_token();
            return Ok(Expr::Function {
                name,
                args,
                star: true,
            });
        }
        if !p.consume_token(&Token::RParen) {
            loop {
                let at = pos(p.peek_token_ref());
                let arg = if let Some(unit) = time_unit_argument(p) {
                    Expr::TimeUnit(unit)
                } else {
                    match self.lambda(p)? {
                        Some(lambda) => lambda,
                        None => self.expr(p)?,
                    }
                };
                // ksqlDB: lambdas come last, after at least one ordinary argument.
                let is_lambda = matches!(arg, Expr::Lambda { .. });
                let after_lambda = matches!(args.last(), Some(Expr::Lambda { .. }));
                if (is_lambda && args.is_empty()) || (after_lambda && !is_lambda) {
                    return Err(Fail::new(
                        at.0,
                        at.1,
                        "Syntax error: a lambda can only follow the function's other arguments",
                    ));
                }
                args.push(arg);
                if p.consume_token(&Token::RParen) {
                    break;
                }
                expect(p, &Token::Comma, "{',', ')'}")?;
            }
        }
        Ok(Expr::Function {
            name,
            args,
            star: false,
        })
    }

    /// `x => body` or `(x, y) => body`, if that is what comes next.
    fn lambda(&self, p: &mut Parser) -> Result<Option<Expr>, Fail> {
        let is_param = |t: &Token| matches!(t, Token::Word(_));
        let params_len = if is_param(&p.peek_token_ref().token)
            && p.peek_nth_token_ref(1).token == Token::RArrow
        {
            1
        } else if p.peek_token_ref().token == Token::LParen {
            // ( w , w , ... ) =>
            let mut n = 1;
            loop {
                if !is_param(&p.peek_nth_token_ref(n).token) {
                    return Ok(None);
                }
                match p.peek_nth_token_ref(n + 1).token {
                    Token::Comma => n += 2,
                    Token::RParen => break,
                    _ => return Ok(None),
                }
            }
            if p.peek_nth_token_ref(n + 2).token != Token::RArrow {
                return Ok(None);
            }
            n + 3
        } else {
            return Ok(None);
        };
        let mut params = Vec::new();
        if params_len == 1 {
            params.push(parse_ident(p)?);
        } else {
            p.next_token();
            loop {
                params.push(parse_ident(p)?);
                if p.consume_token(&Token::RParen) {
                    break;
                }
                expect(p, &Token::Comma, "{',', ')'}")?;
            }
        }
        expect(p, &Token::RArrow, "'=>'")?;
        let body = self.expr(p)?;
        Ok(Some(Expr::Lambda {
            params,
            body: Box::new(body),
        }))
    }

    /// sqlparser's tree → ours; anything ksqlDB does not have is a syntax error at its start.
    pub fn convert(&self, e: SExpr) -> Built {
        // A chain's span would walk the whole chain: binary operators find their own.
        let at = match &e {
            SExpr::BinaryOp { .. } => sqlparser::tokenizer::Location::new(1, 1),
            _ => e.span().start,
        };
        let unsupported = |what: &dyn std::fmt::Display| {
            let mut text = what.to_string();
            if text.contains([PLACEHOLDER, FIELD]) {
                text = "this expression".to_string();
            } else if text.chars().count() > 40 {
                text = text.chars().take(40).collect::<String>() + "...";
            }
            Fail::new(
                at.line,
                at.column,
                format!("Syntax error at or near '{text}': not ksqlDB syntax"),
            )
        };
        let b = |e: SExpr| -> Result<Box<Expr>, Fail> { Ok(Box::new(self.convert(e)?)) };
        Ok(match e {
            SExpr::Identifier(id) => {
                if let Some(n) = id.value.strip_prefix(PLACEHOLDER) {
                    let n: usize = n.parse().map_err(|_| unsupported(&"?"))?;
                    self.built
                        .borrow()
                        .get(n)
                        .cloned()
                        .ok_or_else(|| unsupported(&"?"))?
                } else if id.quote_style == Some('\'') || id.value.starts_with(FIELD) {
                    return Err(unsupported(&id.value));
                } else {
                    Expr::Column {
                        source: None,
                        name: canonical(&id),
                    }
                }
            }
            SExpr::CompoundIdentifier(parts) => {
                if parts.len() != 2 || parts.iter().any(|p| is_placeholder(&p.value)) {
                    return Err(unsupported(&"."));
                }
                Expr::Column {
                    source: Some(canonical(&parts[0])),
                    name: canonical(&parts[1]),
                }
            }
            SExpr::CompoundFieldAccess { root, access_chain } => {
                let mut base = self.convert(*root)?;
                for access in access_chain {
                    base = match access {
                        AccessExpr::Subscript(Subscript::Index { index }) => Expr::Subscript {
                            base: Box::new(base),
                            index: b(index)?,
                        },
                        AccessExpr::Dot(SExpr::Identifier(id))
                            if matches!(id.quote_style, None | Some('`') | Some('"'))
                                && !is_placeholder(&id.value) =>
                        {
                            match base {
                                Expr::Column { source: None, name } => Expr::Column {
                                    source: Some(name),
                                    name: canonical(&id),
                                },
                                _ => return Err(unsupported(&id)),
                            }
                        }
                        _ => return Err(unsupported(&"access")),
                    };
                }
                base
            }
            SExpr::Value(v) => Expr::Literal(match v.value {
                Value::Number(text, _) => {
                    number(&text, false).ok_or_else(|| invalid_number(at.line, at.column, &text))?
                }
                Value::SingleQuotedString(s) => Literal::String(s),
                Value::Boolean(b) => Literal::Boolean(b),
                Value::Null => Literal::Null,
                other => return Err(unsupported(&other)),
            }),
            SExpr::Nested(e) => self.convert(*e)?,
            SExpr::UnaryOp { op, expr } => match (op, *expr) {
                (UnaryOperator::Minus, SExpr::Value(v)) if matches!(v.value, Value::Number(..)) => {
                    let Value::Number(text, _) = v.value else {
                        unreachable!("checked by the guard")
                    };
                    Expr::Literal(
                        number(&text, true)
                            .ok_or_else(|| invalid_number(at.line, at.column, &text))?,
                    )
                }
                (op, expr) => Expr::Unary {
                    op: match op {
                        UnaryOperator::Minus => UnaryOp::Minus,
                        UnaryOperator::Plus => UnaryOp::Plus,
                        UnaryOperator::Not => UnaryOp::Not,
                        other => return Err(unsupported(&other)),
                    },
                    expr: b(expr)?,
                },
            },
            SExpr::BinaryOp { left, op, right } => {
                // `a OR b OR c ...` is as deep as it is long: walk its left spine in a loop.
                let mut spine = vec![(op, *right)];
                let mut leftmost = *left;
                while let SExpr::BinaryOp { left, op, right } = leftmost {
                    spine.push((op, *right));
                    leftmost = *left;
                }
                let mut acc = self.convert(leftmost)?;
                for (op, right) in spine.into_iter().rev() {
                    acc = self.binary(acc, op, right)?;
                }
                acc
            }
            SExpr::IsNull(e) => Expr::IsNull {
                expr: b(*e)?,
                negated: false,
            },
            SExpr::IsNotNull(e) => Expr::IsNull {
                expr: b(*e)?,
                negated: true,
            },
            SExpr::IsDistinctFrom(l, r) => Expr::IsDistinctFrom {
                left: b(*l)?,
                negated: false,
                right: b(*r)?,
            },
            SExpr::IsNotDistinctFrom(l, r) => Expr::IsDistinctFrom {
                left: b(*l)?,
                negated: true,
                right: b(*r)?,
            },
            SExpr::Between {
                expr,
                negated,
                low,
                high,
            } => Expr::Between {
                expr: b(*expr)?,
                negated,
                low: b(*low)?,
                high: b(*high)?,
            },
            SExpr::In {
                expr,
                target: InTarget::List(list),
                negated,
                global: false,
            } => Expr::InList {
                expr: b(*expr)?,
                negated,
                list: list
                    .into_iter()
                    .map(|e| self.convert(e))
                    .collect::<Result<_, _>>()?,
            },
            SExpr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => {
                let escape = match escape_char.map(|e| *e) {
                    None => None,
                    Some(SExpr::Value(v)) => match &v.value {
                        Value::SingleQuotedString(s) if s.chars().count() == 1 => s.chars().next(),
                        _ => return Err(unsupported(&v)),
                    },
                    Some(other) => return Err(unsupported(&other)),
                };
                Expr::Like {
                    expr: b(*expr)?,
                    negated,
                    pattern: b(*pattern)?,
                    escape,
                }
            }
            SExpr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => Expr::Case {
                operand: operand.map(|o| b(*o)).transpose()?,
                whens: conditions
                    .into_iter()
                    .map(|w| Ok((self.convert(w.condition)?, self.convert(w.result)?)))
                    .collect::<Result<_, Fail>>()?,
                else_result: else_result.map(|e| b(*e)).transpose()?,
            },
            other => return Err(unsupported(&other)),
        })
    }
}

/// A window unit as a function argument (`TIMESTAMPADD(SECONDS, 5, ts)`), consumed if so.
fn time_unit_argument(p: &mut Parser) -> Option<crate::ast::TimeUnit> {
    let unit = match &p.peek_token_ref().token {
        Token::Word(w) if w.quote_style.is_none() => keywords::time_unit(&w.value)?,
        _ => return None,
    };
    // A unit comes first, before the amount: `MIN(DAY)` is a column named DAY.
    if !matches!(p.peek_nth_token_ref(1).token, Token::Comma) {
        return None;
    }
    p.next_token();
    Some(unit)
}

impl KsqlDialect {
    fn binary(&self, left: Expr, op: BinaryOperator, right: SExpr) -> Built {
        let at = right.span().start;
        let unsupported = |what: &str| {
            Fail::new(
                at.line,
                at.column,
                format!("Syntax error at or near '{what}': not ksqlDB syntax"),
            )
        };
        if op == BinaryOperator::Arrow {
            return match right {
                SExpr::Identifier(id) if id.value.starts_with(FIELD) => Ok(Expr::Dereference {
                    base: Box::new(left),
                    field: Ident(id.value[FIELD.len_utf8()..].to_string()),
                }),
                _ => Err(unsupported("->")),
            };
        }
        let op = match op {
            BinaryOperator::Plus => BinaryOp::Add,
            BinaryOperator::Minus => BinaryOp::Subtract,
            BinaryOperator::Multiply => BinaryOp::Multiply,
            BinaryOperator::Divide => BinaryOp::Divide,
            BinaryOperator::Modulo => BinaryOp::Modulo,
            BinaryOperator::StringConcat => BinaryOp::Concat,
            BinaryOperator::Eq => BinaryOp::Eq,
            BinaryOperator::NotEq => BinaryOp::NotEq,
            BinaryOperator::Lt => BinaryOp::Lt,
            BinaryOperator::LtEq => BinaryOp::LtEq,
            BinaryOperator::Gt => BinaryOp::Gt,
            BinaryOperator::GtEq => BinaryOp::GtEq,
            BinaryOperator::And => BinaryOp::And,
            BinaryOperator::Or => BinaryOp::Or,
            other => return Err(unsupported(&other.to_string())),
        };
        Ok(Expr::Binary {
            left: Box::new(left),
            op,
            right: Box::new(self.convert(right)?),
        })
    }
}

fn is_placeholder(value: &str) -> bool {
    value.starts_with([PLACEHOLDER, FIELD])
}

fn pos(t: &TokenWithSpan) -> (u64, u64) {
    (t.span.start.line, t.span.start.column)
}

/// The text of a token for messages.
pub(crate) fn token_text(t: &Token) -> String {
    match t {
        Token::EOF => "<EOF>".to_string(),
        Token::Word(w) if w.quote_style.is_none() => w.value.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn mismatch_here(p: &Parser, expected: &str) -> Fail {
    let t = p.peek_token_ref();
    let (line, column) = pos(t);
    Fail::mismatched(line, column, &token_text(&t.token), expected)
}

pub(crate) fn expect(p: &mut Parser, token: &Token, expected: &str) -> Result<(), Fail> {
    if p.consume_token(token) {
        Ok(())
    } else {
        Err(mismatch_here(p, expected))
    }
}

/// Is the token `n` ahead the unquoted word `word` (any case)?
pub(crate) fn word_at(p: &Parser, n: usize, word: &str) -> bool {
    matches!(&p.peek_nth_token_ref(n).token,
        Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

pub(crate) fn eat_word(p: &mut Parser, word: &str) -> bool {
    if word_at(p, 0, word) {
        p.next_token();
        true
    } else {
        false
    }
}

pub(crate) fn expect_word(p: &mut Parser, word: &str) -> Result<(), Fail> {
    if eat_word(p, word) {
        Ok(())
    } else {
        Err(mismatch_here(p, &format!("'{word}'")))
    }
}

/// An identifier: quoted (as written) or an unquoted non-reserved word (upper-cased).
pub(crate) fn parse_ident(p: &mut Parser) -> Result<Ident, Fail> {
    let t = p.peek_token_ref().clone();
    match &t.token {
        Token::Word(w) if w.quote_style.is_some() => {
            p.next_token();
            Ok(Ident(w.value.clone()))
        }
        Token::Word(w) => {
            if keywords::is_reserved(&w.value) {
                let (line, column) = pos(&t);
                return Err(Fail::new(
                    line,
                    column,
                    format!(
                        "\"{v}\" is a reserved keyword and it can't be used as an identifier. \
                         You can use it as an identifier by escaping it as `{v}`",
                        v = w.value
                    ),
                ));
            }
            p.next_token();
            Ok(Ident(w.value.to_ascii_uppercase()))
        }
        _ => Err(mismatch_here(p, "an identifier")),
    }
}

fn canonical(id: &SIdent) -> Ident {
    match id.quote_style {
        None => Ident(id.value.to_ascii_uppercase()),
        Some(_) => Ident(id.value.clone()),
    }
}

/// Classify a number token as ksqlDB does: exponent → DOUBLE, point → DECIMAL, else integer.
fn number(text: &str, negative: bool) -> Option<Literal> {
    let sign = if negative { "-" } else { "" };
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if let Some((mantissa, exp)) = text.split_once(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        let (a, b) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        return (digits_ok(a) && digits_ok(b) && !exp.is_empty() && digits_ok(exp))
            .then(|| Literal::Double(format!("{sign}{text}")));
    }
    if let Some((a, b)) = text.split_once('.') {
        return (digits_ok(a) && digits_ok(b) && !(a.is_empty() && b.is_empty()))
            .then(|| Literal::Decimal(format!("{sign}{text}")));
    }
    if text.is_empty() || !digits_ok(text) {
        return None;
    }
    format!("{sign}{text}")
        .parse::<i64>()
        .ok()
        .map(Literal::Integer)
}

fn invalid_number(line: u64, column: u64, text: &str) -> Fail {
    Fail::new(line, column, format!("Invalid numeric literal: {text}"))
}

/// A ksqlDB type: `ARRAY<T>`, `MAP<K, V>`, `STRUCT<f T, ...>`, `DECIMAL(p, s)`, a base type,
/// or the name of a type registered with `CREATE TYPE`.
pub(crate) fn parse_type(p: &mut Parser, depth: usize) -> Result<SqlType, Fail> {
    if depth > MAX_TYPE_DEPTH {
        let (line, column) = pos(p.peek_token_ref());
        return Err(Fail::new(
            line,
            column,
            "Syntax error: the type is nested too deeply",
        ));
    }
    let t = p.peek_token_ref().clone();
    let Token::Word(w) = &t.token else {
        return Err(mismatch_here(p, "a type"));
    };
    if w.quote_style.is_some() {
        p.next_token();
        return Ok(SqlType::Custom(Ident(w.value.clone())));
    }
    let upper = w.value.to_ascii_uppercase();
    let next = p.peek_nth_token_ref(1).token.clone();
    let angle = next == Token::Lt || next == Token::Neq;
    let ty = match upper.as_str() {
        "ARRAY" if angle => {
            p.next_token();
            expect(p, &Token::Lt, "'<'")?;
            let inner = parse_type(p, depth + 1)?;
            expect(p, &Token::Gt, "'>'")?;
            return Ok(SqlType::Array(Box::new(inner)));
        }
        "MAP" if angle => {
            p.next_token();
            expect(p, &Token::Lt, "'<'")?;
            let k = parse_type(p, depth + 1)?;
            expect(p, &Token::Comma, "','")?;
            let v = parse_type(p, depth + 1)?;
            expect(p, &Token::Gt, "'>'")?;
            return Ok(SqlType::Map(Box::new(k), Box::new(v)));
        }
        "STRUCT" if angle => {
            p.next_token();
            if p.consume_token(&Token::Neq) {
                return Ok(SqlType::Struct(Vec::new()));
            }
            expect(p, &Token::Lt, "'<'")?;
            let mut fields = Vec::new();
            if !p.consume_token(&Token::Gt) {
                loop {
                    let name = parse_ident(p)?;
                    fields.push((name, parse_type(p, depth + 1)?));
                    if p.consume_token(&Token::Gt) {
                        break;
                    }
                    expect(p, &Token::Comma, "{',', '>'}")?;
                }
            }
            return Ok(SqlType::Struct(fields));
        }
        "DECIMAL" => {
            p.next_token();
            expect(p, &Token::LParen, "'('")?;
            let precision = small_number(p)?;
            expect(p, &Token::Comma, "','")?;
            let scale = small_number(p)?;
            expect(p, &Token::RParen, "')'")?;
            return Ok(SqlType::Decimal { precision, scale });
        }
        "BOOLEAN" => SqlType::Boolean,
        "INT" | "INTEGER" => SqlType::Int,
        "BIGINT" => SqlType::Bigint,
        "DOUBLE" => SqlType::Double,
        "STRING" | "VARCHAR" => SqlType::String,
        "BYTES" => SqlType::Bytes,
        "DATE" => SqlType::Date,
        "TIME" => SqlType::Time,
        "TIMESTAMP" => SqlType::Timestamp,
        _ if keywords::is_reserved(&upper) => {
            let (line, column) = pos(&t);
            return Err(Fail::new(
                line,
                column,
                format!("Syntax error at or near {}", quote_token(&w.value)),
            ));
        }
        _ => SqlType::Custom(Ident(upper)),
    };
    p.next_token();
    Ok(ty)
}

fn small_number(p: &mut Parser) -> Result<u32, Fail> {
    match &p.peek_token_ref().token {
        Token::Number(n, _) => match n.parse() {
            Ok(v) => {
                p.next_token();
                Ok(v)
            }
            Err(_) => Err(mismatch_here(p, "a number")),
        },
        _ => Err(mismatch_here(p, "a number")),
    }
}
