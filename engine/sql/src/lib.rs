//! sluice-sql: the ksqlDB dialect. This crate owns the statement model ([`ast`]), the parser
//! (sqlparser's tokenizer and expression parser, with our own layer for ksqlDB's statements
//! and clauses), statement splitting with `${variable}` substitution, ksqlDB-style syntax
//! errors with line and column, and a pretty printer whose output parses back to the same
//! statement. It never does I/O: text in, statements (or an error) out.
//!
//! ```
//! use sluice_sql::{parse, Statement};
//! let parsed = parse("CREATE STREAM s (id INT KEY, v STRING) WITH (KAFKA_TOPIC='t', FORMAT='JSON');").unwrap();
//! assert!(matches!(parsed[0].statement, Statement::CreateSource(_)));
//! assert_eq!(parsed[0].statement.to_string(),
//!     "CREATE STREAM S (ID INTEGER KEY, V STRING) WITH (KAFKA_TOPIC='t', FORMAT='JSON')");
//! ```

pub mod ast;
pub mod catalog;
pub mod connectors;
mod dialect;
mod display;
pub mod engine;
pub mod entities;
pub mod error;
pub mod explain;
pub mod expr;
pub mod functions;
pub mod io;
pub mod keywords;
pub mod metrics;
pub mod operators;
mod parser;
pub mod plan;
pub mod plan_join;
pub mod print;
pub mod schemas;
mod split;
pub mod value;

use std::collections::BTreeMap;

pub use ast::*;
pub use error::SqlError;

/// One statement of a request, with the text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedStatement {
    /// The statement as written, from its first token to its `;` (included when present):
    /// ksqlDB's `statementText`. Variables are not substituted here.
    pub text: String,
    pub statement: Statement,
    /// 1-based line and column of the statement's first token in the request.
    pub line: u64,
    pub column: u64,
}

/// Parses requests the way one ksqlDB session does: `DEFINE` / `UNDEFINE` statements change
/// the variables that `${name}` refers to in the statements after them.
#[derive(Debug, Clone)]
pub struct KsqlParser {
    /// The session's variables (`DEFINE`d names are case-sensitive).
    pub variables: BTreeMap<String, String>,
    /// `ksql.variable.substitution.enable` (default true).
    pub substitute_variables: bool,
}

impl Default for KsqlParser {
    fn default() -> Self {
        KsqlParser {
            variables: BTreeMap::new(),
            substitute_variables: true,
        }
    }
}

impl KsqlParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse every statement of `sql`, in order. The first statement that fails fails the
    /// whole request (as ksqlDB rejects a request before running any of it); the error's
    /// position is in `sql`'s own lines and columns.
    pub fn parse(&mut self, sql: &str) -> Result<Vec<ParsedStatement>, SqlError> {
        let mut out = Vec::new();
        for chunk in split::split(sql) {
            let text = &sql[chunk.start..chunk.end_with_semicolon];
            let body = &sql[chunk.start..chunk.end];
            let absolute = |line: u64, column: u64| {
                if line <= 1 {
                    (chunk.line, chunk.column + column.saturating_sub(1))
                } else {
                    (chunk.line + line - 1, column)
                }
            };
            let substituted;
            let body = if self.substitute_variables && body.contains("${") {
                substituted = split::substitute(body, &self.variables).map_err(|bad| {
                    let (line, column) = absolute(bad.line, bad.column);
                    SqlError::IllegalArgument {
                        line,
                        column,
                        message: bad.message(line, column),
                        statement: text.to_string(),
                    }
                })?;
                substituted.as_str()
            } else {
                body
            };
            let statement =
                parser::parse_statement_text(body, chunk.semicolon).map_err(|fail| {
                    let (line, column) = absolute(fail.line, fail.column);
                    SqlError::Syntax {
                        line,
                        column,
                        message: fail.message,
                        statement: text.to_string(),
                    }
                })?;
            match &statement {
                Statement::DefineVariable { name, value } => {
                    self.variables.insert(name.clone(), value.clone());
                }
                Statement::UndefineVariable { name } => {
                    self.variables.remove(name);
                }
                _ => {}
            }
            out.push(ParsedStatement {
                text: text.to_string(),
                statement,
                line: chunk.line,
                column: chunk.column,
            });
        }
        Ok(out)
    }
}

/// Parse every statement of `sql` in a fresh session (no variables defined beforehand).
pub fn parse(sql: &str) -> Result<Vec<ParsedStatement>, SqlError> {
    KsqlParser::new().parse(sql)
}

/// Parse exactly one statement (a trailing `;` is optional).
pub fn parse_statement(sql: &str) -> Result<Statement, SqlError> {
    let mut parsed = parse(sql)?;
    match parsed.len() {
        1 => Ok(parsed.remove(0).statement),
        n => Err(SqlError::Syntax {
            line: 1,
            column: 1,
            message: format!("Expected exactly one statement, found {n}"),
            statement: sql.to_string(),
        }),
    }
}
