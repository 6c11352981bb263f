//! The WHERE operator: keeps rows whose predicate is TRUE (NULL and FALSE drop the row).

use crate::ast::Expr;
use crate::catalog::Column;
use crate::error::SqlError;
use crate::expr::{eval, Row, RowMeta};
use crate::value::Value;

pub struct Filter {
    predicate: Option<Expr>,
}

impl Filter {
    pub fn new(predicate: Option<Expr>) -> Self {
        Filter { predicate }
    }

    pub fn passes(
        &self,
        schema: &[Column],
        values: &[Value],
        meta: RowMeta,
    ) -> Result<bool, SqlError> {
        match &self.predicate {
            None => Ok(true),
            Some(p) => Ok(eval(
                p,
                &Row {
                    schema,
                    values,
                    meta,
                },
            )? == Value::Bool(true)),
        }
    }
}
