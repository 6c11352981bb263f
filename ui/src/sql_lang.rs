//! The ksqlDB dialect as the SQL view needs it, no I/O: tokens for highlighting, statements
//! split at `;` (outside strings, quoted names and comments), the word being typed and the
//! completions for it, push/pull detection, and positions in ksqlDB's error messages.

use crate::highlight::Tok;

/// Keywords of the dialect (statements, clauses, operators, types, WITH properties).
pub const KEYWORDS: &[&str] = &[
    "ADVANCE",
    "ALL",
    "AND",
    "ARRAY",
    "AS",
    "ASC",
    "AT",
    "BEGINNING",
    "BETWEEN",
    "BIGINT",
    "BOOLEAN",
    "BY",
    "BYTES",
    "CASE",
    "CAST",
    "CHANGES",
    "CONNECTOR",
    "CONNECTORS",
    "CREATE",
    "DATE",
    "DAY",
    "DAYS",
    "DECIMAL",
    "DEFINE",
    "DELETE",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DOUBLE",
    "DROP",
    "ELSE",
    "EMIT",
    "END",
    "EXISTS",
    "EXPLAIN",
    "EXTENDED",
    "FALSE",
    "FINAL",
    "FROM",
    "FULL",
    "FUNCTIONS",
    "GRACE",
    "GROUP",
    "HAVING",
    "HEADERS",
    "HOPPING",
    "HOUR",
    "HOURS",
    "IF",
    "IN",
    "INNER",
    "INSERT",
    "INT",
    "INTEGER",
    "INTO",
    "IS",
    "JOIN",
    "KEY",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LIST",
    "MAP",
    "MILLISECOND",
    "MILLISECONDS",
    "MINUTE",
    "MINUTES",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "OUTER",
    "PARTITION",
    "PERIOD",
    "PRIMARY",
    "PRINT",
    "PROPERTIES",
    "QUERIES",
    "REPLACE",
    "RETENTION",
    "RIGHT",
    "SECOND",
    "SECONDS",
    "SELECT",
    "SESSION",
    "SET",
    "SHOW",
    "SINK",
    "SIZE",
    "SOURCE",
    "STREAM",
    "STREAMS",
    "STRING",
    "STRUCT",
    "TABLE",
    "TABLES",
    "TERMINATE",
    "THEN",
    "TIME",
    "TIMESTAMP",
    "TO",
    "TOPIC",
    "TOPICS",
    "TRUE",
    "TUMBLING",
    "TYPE",
    "TYPES",
    "UNSET",
    "VALUES",
    "VARCHAR",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHIN",
    // WITH properties
    "KAFKA_TOPIC",
    "KEY_FORMAT",
    "VALUE_FORMAT",
    "FORMAT",
    "PARTITIONS",
    "REPLICAS",
    "TIMESTAMP_FORMAT",
    "VALUE_DELIMITER",
    "WRAP_SINGLE_VALUE",
    "KEY_SCHEMA_ID",
    "VALUE_SCHEMA_ID",
];

/// Functions offered by completion (shown as `NAME(`).
pub const FUNCTIONS: &[&str] = &[
    "ABS",
    "AS_VALUE",
    "AVG",
    "CEIL",
    "COALESCE",
    "COLLECT_LIST",
    "COLLECT_SET",
    "CONCAT",
    "COUNT",
    "COUNT_DISTINCT",
    "EARLIEST_BY_OFFSET",
    "EXTRACTJSONFIELD",
    "FLOOR",
    "IFNULL",
    "LATEST_BY_OFFSET",
    "LCASE",
    "LEN",
    "MAX",
    "MIN",
    "REPLACE",
    "ROUND",
    "SPLIT",
    "SUBSTRING",
    "SUM",
    "TIMESTAMPTOSTRING",
    "TOPK",
    "TRIM",
    "UCASE",
    "WINDOWEND",
    "WINDOWSTART",
];

/// Pseudo columns every source has.
pub const PSEUDO: &[&str] = &["ROWTIME", "ROWPARTITION", "ROWOFFSET"];

fn is_keyword(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    KEYWORDS.contains(&upper.as_str())
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '@'
}

/// The end (exclusive) of a quoted run starting at `i` with `q`: `''` / ``` `` ``` inside
/// are the quote itself; an unclosed run goes to the end.
fn quoted_end(chars: &[char], i: usize, q: char) -> usize {
    let mut j = i + 1;
    while j < chars.len() {
        if chars[j] == q {
            if chars.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    chars.len()
}

fn comment_end(chars: &[char], i: usize) -> Option<usize> {
    match (chars[i], chars.get(i + 1)) {
        ('-', Some('-')) => {
            let mut j = i;
            while j < chars.len() && chars[j] != '\n' {
                j += 1;
            }
            Some(j)
        }
        ('/', Some('*')) => {
            let mut j = i + 2;
            while j < chars.len() && !(chars[j] == '*' && chars.get(j + 1) == Some(&'/')) {
                j += 1;
            }
            Some((j + 2).min(chars.len()))
        }
        _ => None,
    }
}

/// The text as highlighting tokens (concatenated, they are the text again).
pub fn tokens(text: &str) -> Vec<(Tok, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<(Tok, String)> = Vec::new();
    let mut push = |tok: Tok, a: usize, b: usize| {
        let s: String = chars[a..b].iter().collect();
        match out.last_mut() {
            Some((t, prev)) if *t == tok => prev.push_str(&s),
            _ => out.push((tok, s)),
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(j) = comment_end(&chars, i) {
            push(Tok::Comment, i, j);
            i = j;
        } else if c == '\'' {
            let j = quoted_end(&chars, i, '\'');
            push(Tok::Str, i, j);
            i = j;
        } else if c == '`' || c == '"' {
            let j = quoted_end(&chars, i, c);
            push(Tok::Key, i, j);
            i = j;
        } else if c.is_ascii_digit() {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            if j < chars.len() && is_ident_char(chars[j]) {
                // `1A`: not a number.
                while j < chars.len() && is_ident_char(chars[j]) {
                    j += 1;
                }
                push(Tok::Plain, i, j);
            } else {
                push(Tok::Num, i, j);
            }
            i = j;
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && is_ident_char(chars[j]) {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            let upper = word.to_ascii_uppercase();
            let tok = if matches!(upper.as_str(), "TRUE" | "FALSE" | "NULL") {
                Tok::Lit
            } else if is_keyword(&word) {
                Tok::Kw
            } else if chars.get(j) == Some(&'(') && FUNCTIONS.contains(&upper.as_str()) {
                Tok::Type
            } else {
                Tok::Plain
            };
            push(tok, i, j);
            i = j;
        } else if "(),;*=<>+-/%.[]:".contains(c) {
            push(Tok::Punct, i, i + 1);
            i += 1;
        } else {
            push(Tok::Plain, i, i + 1);
            i += 1;
        }
    }
    out
}

/// One statement of the editor's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// The statement, `;` included when present, without surrounding blanks and comments.
    pub text: String,
    /// Where it starts in the editor: 1-based line and column.
    pub line: u32,
    pub column: u32,
}

/// Splits at `;` outside strings, quoted names and comments. Pieces that hold only blanks
/// and comments are dropped; a statement keeps its own inner comments.
pub fn split(text: &str) -> Vec<Stmt> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    let finish = |a: usize, b: usize, out: &mut Vec<Stmt>| {
        let s: String = chars[a..b].iter().collect();
        let s = s.trim_end().to_string();
        if s.is_empty() {
            return;
        }
        let before = &chars[..a];
        let line = before.iter().filter(|c| **c == '\n').count() as u32 + 1;
        let column = before.iter().rev().take_while(|c| **c != '\n').count() as u32 + 1;
        out.push(Stmt {
            text: s,
            line,
            column,
        });
    };
    while i < chars.len() {
        let c = chars[i];
        if let Some(j) = comment_end(&chars, i) {
            i = j;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            if start.is_none() {
                start = Some(i);
            }
            if c == '\'' || c == '`' || c == '"' {
                i = quoted_end(&chars, i, c);
            } else if c == ';' {
                finish(start.take().expect("started"), i + 1, &mut out);
                i += 1;
            } else {
                i += 1;
            }
        }
    }
    if let Some(a) = start {
        finish(a, chars.len(), &mut out);
    }
    out
}

/// The words of a statement outside strings and comments, upper-cased (quoted names as
/// written, without their quotes).
pub fn words(text: &str) -> Vec<String> {
    tokens(text)
        .into_iter()
        .filter(|(t, _)| matches!(t, Tok::Kw | Tok::Plain | Tok::Type | Tok::Lit | Tok::Key))
        .flat_map(|(t, s)| {
            if t == Tok::Key {
                vec![s.trim_matches(|c| c == '`' || c == '"').to_string()]
            } else {
                s.split(|c: char| !is_ident_char(c))
                    .filter(|w| !w.is_empty())
                    .map(str::to_ascii_uppercase)
                    .collect()
            }
        })
        .collect()
}

/// What kind of statement this is, for choosing the endpoint and the result's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `SELECT ... EMIT CHANGES`: rows until stopped.
    Push,
    /// `SELECT` without `EMIT CHANGES`: the rows there are now.
    Pull,
    /// `SET 'prop'='value'` / `UNSET 'prop'`: the editor's own properties, as in ksqlDB's CLI.
    Set,
    Unset,
    /// Anything else goes to `/ksql`.
    Statement,
}

pub fn kind(text: &str) -> Kind {
    let w = words(text);
    match w.first().map(String::as_str) {
        Some("SELECT") => {
            if w.windows(2).any(|p| p[0] == "EMIT" && p[1] == "CHANGES") {
                Kind::Push
            } else {
                Kind::Pull
            }
        }
        Some("SET") => Kind::Set,
        Some("UNSET") => Kind::Unset,
        _ => Kind::Statement,
    }
}

/// The strings of a statement (`SET 'a'='b'` → `["a", "b"]`).
pub fn strings(text: &str) -> Vec<String> {
    tokens(text)
        .into_iter()
        .filter(|(t, _)| *t == Tok::Str)
        .map(|(_, s)| {
            s.strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .unwrap_or(&s)
                .replace("''", "'")
        })
        .collect()
}

/// The 1-based line and column an error message of ksqlDB points at: `line 3:15: ...` or
/// `Line: 3, Col: 15: ...`.
pub fn error_position(message: &str) -> Option<(u32, u32)> {
    let num = |s: &str| -> Option<(u32, usize)> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        Some((digits.parse().ok()?, digits.len()))
    };
    if let Some(at) = message.find("line ") {
        let rest = &message[at + 5..];
        if let Some((line, n)) = num(rest) {
            if let Some(rest) = rest[n..].strip_prefix(':') {
                if let Some((col, _)) = num(rest) {
                    return Some((line, col));
                }
            }
        }
    }
    if let Some(at) = message.find("Line: ") {
        let rest = &message[at + 6..];
        let (line, n) = num(rest)?;
        let rest = rest[n..].strip_prefix(", Col: ")?;
        let (col, _) = num(rest)?;
        return Some((line, col));
    }
    None
}

/// A position inside a statement made absolute in the editor.
pub fn absolute(stmt: &Stmt, line: u32, column: u32) -> (u32, u32) {
    if line <= 1 {
        (stmt.line, stmt.column + column.max(1) - 1)
    } else {
        (stmt.line + line - 1, column)
    }
}

/// The identifier being typed just before `caret` (a char index): its start and text.
pub fn word_before(text: &str, caret: usize) -> (usize, String) {
    let chars: Vec<char> = text.chars().collect();
    let caret = caret.min(chars.len());
    let mut a = caret;
    while a > 0 && is_ident_char(chars[a - 1]) {
        a -= 1;
    }
    (a, chars[a..caret].iter().collect())
}

/// Is the caret inside a string, a quoted name or a comment (no completion there)?
pub fn in_literal(text: &str, caret: usize) -> bool {
    let mut pos = 0;
    for (t, s) in tokens(text) {
        let n = s.chars().count();
        if caret > pos && caret < pos + n + usize::from(t == Tok::Comment) {
            return matches!(t, Tok::Str | Tok::Key | Tok::Comment);
        }
        pos += n;
    }
    false
}

/// One completion: what is inserted and what it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub text: String,
    /// `keyword`, `stream`, `table`, `column`, `function`.
    pub kind: &'static str,
    /// Shown after it (a column's type and source).
    pub detail: String,
}

/// A source the completion knows: its name, stream or table, and columns with types.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SourceInfo {
    pub name: String,
    pub is_table: bool,
    pub columns: Vec<(String, String)>,
}

/// Completions of `prefix` (case-insensitive prefix match): columns of the sources the
/// statement names first, then sources, keywords and functions, at most `max`.
pub fn complete(
    prefix: &str,
    statement: &str,
    sources: &[SourceInfo],
    max: usize,
) -> Vec<Suggestion> {
    let p = prefix.to_ascii_uppercase();
    if p.is_empty() {
        return Vec::new();
    }
    let named = words(statement);
    let mut out: Vec<Suggestion> = Vec::new();
    let mut add = |s: Suggestion| {
        if s.text.to_ascii_uppercase().starts_with(&p)
            && !s.text.eq_ignore_ascii_case(prefix)
            && !out.iter().any(|o| o.text == s.text)
        {
            out.push(s);
        }
    };
    let (mentioned, others): (Vec<&SourceInfo>, Vec<&SourceInfo>) = sources
        .iter()
        .partition(|s| named.iter().any(|w| w == &s.name.to_ascii_uppercase()));
    for s in mentioned.iter().chain(others.iter()) {
        for (c, ty) in &s.columns {
            add(Suggestion {
                text: c.clone(),
                kind: "column",
                detail: format!("{ty} · {}", s.name),
            });
        }
    }
    for s in sources {
        add(Suggestion {
            text: s.name.clone(),
            kind: if s.is_table { "table" } else { "stream" },
            detail: format!("{} columns", s.columns.len()),
        });
    }
    for k in KEYWORDS {
        add(Suggestion {
            text: (*k).to_string(),
            kind: "keyword",
            detail: String::new(),
        });
    }
    for f in FUNCTIONS {
        add(Suggestion {
            text: format!("{f}("),
            kind: "function",
            detail: String::new(),
        });
    }
    for c in PSEUDO {
        add(Suggestion {
            text: (*c).to_string(),
            kind: "column",
            detail: "pseudo column".into(),
        });
    }
    out.truncate(max);
    out
}

/// The source a persistent query reads: the first name after `FROM` in its statement.
pub fn source_of(query: &str) -> Option<String> {
    let w = words(query);
    let i = w.iter().position(|x| x == "FROM")?;
    w.get(i + 1).cloned()
}

/// ksqlDB's statistics string (`consumer-messages-per-sec:     12.30 consumer-total-messages:
/// 400 ... last-message: 2026-...`) as (name, number) pairs; the timestamps are left out.
pub fn parse_stats(text: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(colon) = rest.find(':') {
        let name = rest[..colon].trim().to_string();
        let after = rest[colon + 1..].trim_start();
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        if let Ok(v) = after[..end].parse::<f64>() {
            out.push((name, v));
        }
        rest = &after[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ksqldb_statistics() {
        let text = "consumer-messages-per-sec:     12.35 consumer-total-messages:       400     last-message: 2026-11-27T08:37:30.12Z";
        assert_eq!(
            parse_stats(text),
            vec![
                ("consumer-messages-per-sec".to_string(), 12.35),
                ("consumer-total-messages".to_string(), 400.0)
            ]
        );
        assert!(parse_stats("").is_empty());
    }

    #[test]
    fn splits_outside_quotes_and_comments() {
        let text = "-- a comment; not a statement\nCREATE STREAM s (a VARCHAR) WITH (KAFKA_TOPIC='x;y');\n\n  SELECT `we;ird` FROM s /* ; */ EMIT CHANGES;\nSHOW STREAMS";
        let s = split(text);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(
            s[0].text,
            "CREATE STREAM s (a VARCHAR) WITH (KAFKA_TOPIC='x;y');"
        );
        assert_eq!((s[0].line, s[0].column), (2, 1));
        assert_eq!((s[1].line, s[1].column), (4, 3));
        assert_eq!(s[2].text, "SHOW STREAMS");
        assert_eq!(kind(&s[1].text), Kind::Push);
        assert_eq!(kind("select * from t where app = 'x';"), Kind::Pull);
        assert_eq!(kind("SELECT 'EMIT CHANGES' FROM t;"), Kind::Pull);
        assert_eq!(kind("SET 'auto.offset.reset'='earliest';"), Kind::Set);
        assert_eq!(
            strings("SET 'auto.offset.reset'='earliest';"),
            vec!["auto.offset.reset", "earliest"]
        );
    }

    #[test]
    fn highlights_keywords_strings_numbers_comments() {
        let t = tokens("SELECT app, 42 FROM logs -- hi\nWHERE level = 'ERROR'");
        let of = |tok: Tok| -> Vec<String> {
            t.iter()
                .filter(|(k, _)| *k == tok)
                .map(|(_, s)| s.clone())
                .collect()
        };
        assert_eq!(of(Tok::Kw), vec!["SELECT", "FROM", "WHERE"]);
        assert_eq!(of(Tok::Num), vec!["42"]);
        assert_eq!(of(Tok::Str), vec!["'ERROR'"]);
        assert_eq!(of(Tok::Comment), vec!["-- hi"]);
        let joined: String = t.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            joined,
            "SELECT app, 42 FROM logs -- hi\nWHERE level = 'ERROR'"
        );
    }

    #[test]
    fn error_positions() {
        assert_eq!(
            error_position("line 2:7: Syntax Error\nmismatched input"),
            Some((2, 7))
        );
        assert_eq!(
            error_position("Line: 1, Col: 8: SELECT column 'NOPE' cannot be resolved."),
            Some((1, 8))
        );
        assert_eq!(error_position("Stream created"), None);
        let st = Stmt {
            text: String::new(),
            line: 3,
            column: 5,
        };
        assert_eq!(absolute(&st, 1, 3), (3, 7));
        assert_eq!(absolute(&st, 2, 3), (4, 3));
    }

    #[test]
    fn completes_columns_of_named_sources_first() {
        let sources = vec![
            SourceInfo {
                name: "LOGS_STREAM".into(),
                is_table: false,
                columns: vec![("LEVEL".into(), "STRING".into())],
            },
            SourceInfo {
                name: "ERROR_COUNTS".into(),
                is_table: true,
                columns: vec![("ERROR_COUNT".into(), "BIGINT".into())],
            },
        ];
        let s = complete("e", "SELECT e FROM error_counts", &sources, 20);
        assert_eq!(s[0].text, "ERROR_COUNT");
        assert!(s.iter().any(|x| x.text == "EMIT" && x.kind == "keyword"));
        let s = complete("lo", "SELECT * FROM lo", &sources, 20);
        assert_eq!(s[0].text, "LOGS_STREAM");
        assert_eq!(word_before("SELECT le", 9), (7, "le".into()));
        assert!(in_literal("WHERE a = 'ERR", 13));
        assert!(!in_literal("WHERE a = 'x' AND le", 20));
        assert_eq!(
            source_of("CREATE STREAM X AS SELECT * FROM logs_stream WHERE a = 1"),
            Some("LOGS_STREAM".into())
        );
    }
}
