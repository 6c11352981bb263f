//! The SELECT operator of non-aggregate queries: one expression per output column.

use crate::ast::Expr;
use crate::catalog::Column;
use crate::error::SqlError;
use crate::expr::{eval, Row, RowMeta};
use crate::value::Value;

pub struct Project {
    exprs: Vec<Expr>,
}

impl Project {
    pub fn new(exprs: Vec<Expr>) -> Self {
        Project { exprs }
    }

    pub fn apply(
        &self,
        schema: &[Column],
        values: &[Value],
        meta: RowMeta,
    ) -> Result<Vec<Value>, SqlError> {
        let row = Row {
            schema,
            values,
            meta,
        };
        self.exprs.iter().map(|e| eval(e, &row)).collect()
    }
}
