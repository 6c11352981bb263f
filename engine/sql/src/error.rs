//! The crate's one error type, with ksqlDB's wording: `line L:C: Syntax Error\n<detail>`
//! (1-based line and column, as ksqlDB's ParsingException prints them), and the one place
//! sqlparser's errors are turned into it. No I/O.

use sqlparser::parser::ParserError;
use thiserror::Error;

/// Why a text did not parse. `statement` is the text of the failing statement.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SqlError {
    /// ksqlDB's `ParseFailedException`: the statement is not ksqlDB syntax.
    #[error("line {line}:{column}: Syntax Error\n{message}")]
    Syntax {
        line: u64,
        column: u64,
        message: String,
        statement: String,
    },
    /// A `${variable}` whose value cannot stand where it is used, or is not defined.
    #[error("line {line}:{column}: {message}")]
    IllegalArgument {
        line: u64,
        column: u64,
        message: String,
        statement: String,
    },
    /// ksqlDB's `KsqlStatementException`: the statement parses but cannot run (unknown
    /// source or column, type error, bad WITH property, ...).
    #[error("{message}")]
    Statement { message: String, statement: String },
    /// Reading or writing a topic failed (the `StreamIo` said why).
    #[error("{0}")]
    Io(String),
}

impl SqlError {
    pub fn line(&self) -> u64 {
        match self {
            SqlError::Syntax { line, .. } | SqlError::IllegalArgument { line, .. } => *line,
            SqlError::Statement { .. } | SqlError::Io(_) => 0,
        }
    }
    pub fn column(&self) -> u64 {
        match self {
            SqlError::Syntax { column, .. } | SqlError::IllegalArgument { column, .. } => *column,
            SqlError::Statement { .. } | SqlError::Io(_) => 0,
        }
    }
    /// The detail after `Syntax Error\n` (or the whole message of an illegal argument).
    pub fn message(&self) -> &str {
        match self {
            SqlError::Syntax { message, .. }
            | SqlError::IllegalArgument { message, .. }
            | SqlError::Statement { message, .. }
            | SqlError::Io(message) => message,
        }
    }
    /// The text of the statement that failed (ksqlDB's `statementText`).
    pub fn statement_text(&self) -> &str {
        match self {
            SqlError::Syntax { statement, .. }
            | SqlError::IllegalArgument { statement, .. }
            | SqlError::Statement { statement, .. } => statement,
            SqlError::Io(_) => "",
        }
    }
}

impl SqlError {
    /// A statement error whose text the caller fills in with [`SqlError::in_statement`].
    pub fn statement(message: impl Into<String>) -> Self {
        SqlError::Statement {
            message: message.into(),
            statement: String::new(),
        }
    }
    /// Names the statement text an error belongs to (for `statementText`).
    pub fn in_statement(self, text: &str) -> Self {
        match self {
            SqlError::Statement { message, .. } => SqlError::Statement {
                message,
                statement: text.to_string(),
            },
            other => other,
        }
    }
}

/// A failure inside one statement, positioned relative to that statement's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// The marker sqlparser puts before a position in its messages; our hooks use it too, so
/// one decoder serves both.
const AT_LINE: &str = " at Line: ";

impl Fail {
    pub fn new(line: u64, column: u64, message: impl Into<String>) -> Self {
        Fail {
            line: line.max(1),
            column: column.max(1),
            message: message.into(),
        }
    }

    /// `mismatched input 'FOUND' expecting EXPECTED`, ANTLR's (and so ksqlDB's) wording.
    pub fn mismatched(line: u64, column: u64, found: &str, expected: &str) -> Self {
        Fail::new(line, column, mismatched(found, expected))
    }

    /// Encode into a sqlparser error (for the dialect hooks, which must return one).
    pub fn into_parser_error(self) -> ParserError {
        ParserError::ParserError(format!(
            "{}{AT_LINE}{}, Column: {}",
            self.message, self.line, self.column
        ))
    }

    /// Decode a sqlparser error; `fallback` is the position to use when it carries none.
    pub fn from_parser_error(err: ParserError, fallback: (u64, u64)) -> Self {
        let text = match err {
            ParserError::RecursionLimitExceeded => {
                return Fail::new(
                    fallback.0,
                    fallback.1,
                    "Syntax error: the statement is nested too deeply",
                )
            }
            ParserError::ParserError(s) | ParserError::TokenizerError(s) => s,
        };
        let (body, line, column) = match text.rfind(AT_LINE) {
            Some(at) => {
                let pos = &text[at + AT_LINE.len()..];
                let mut parts = pos.split(", Column: ");
                let line = parts.next().and_then(|l| l.trim().parse().ok());
                let column = parts.next().and_then(|c| c.trim().parse().ok());
                match (line, column) {
                    (Some(l), Some(c)) => (text[..at].to_string(), l, c),
                    _ => (text.clone(), fallback.0, fallback.1),
                }
            }
            None => (text.clone(), fallback.0, fallback.1),
        };
        Fail::new(line, column, rephrase(&body))
    }
}

pub(crate) fn mismatched(found: &str, expected: &str) -> String {
    format!(
        "mismatched input {} expecting {expected}",
        quote_token(found)
    )
}

/// `'x'` around a token's text, unless it is already a quoted string or `<EOF>`.
pub(crate) fn quote_token(found: &str) -> String {
    if found == "<EOF>" || (found.starts_with('\'') && found.len() > 1) {
        found.to_string()
    } else {
        format!("'{found}'")
    }
}

/// sqlparser says `Expected: X, found: Y`; ksqlDB (ANTLR) says `mismatched input 'Y' expecting X`.
fn rephrase(body: &str) -> String {
    if let Some(rest) = body.strip_prefix("Expected: ") {
        if let Some(split) = rest.rfind(", found: ") {
            let expected = &rest[..split];
            let mut found = rest[split + ", found: ".len()..].to_string();
            if found == "EOF" {
                found = "<EOF>".to_string();
            }
            if expected == "an expression" {
                return format!("Syntax error at or near {}", quote_token(&found));
            }
            return mismatched(&found, expected);
        }
    }
    body.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_sqlparser_positions_and_rephrases() {
        let e = ParserError::ParserError("Expected: ), found: FORM at Line: 2, Column: 15".into());
        let f = Fail::from_parser_error(e, (1, 1));
        assert_eq!((f.line, f.column), (2, 15));
        assert_eq!(f.message, "mismatched input 'FORM' expecting )");
        let round = Fail::from_parser_error(f.clone().into_parser_error(), (9, 9));
        assert_eq!(round, f);
        let deep = Fail::from_parser_error(ParserError::RecursionLimitExceeded, (3, 4));
        assert_eq!((deep.line, deep.column), (3, 4));
    }
}
