//! Join planning: `FROM a JOIN b ON ... [JOIN c ON ...]` becomes a [`JoinPlan`] (the inputs,
//! one step per JOIN, left-deep) and an ordinary [`Plan`] over the joined row, as ksqlDB
//! names it: every input column prefixed with its source's alias (`L_A`), plus each input's
//! `ROWTIME`, `ROWPARTITION` and `ROWOFFSET`, and the join key first. ksqlDB's rules:
//! - a column selected without an alias keeps its bare name when only one input has it,
//!   else `ALIAS_NAME`; `*` and `x.*` always give `ALIAS_NAME`;
//! - the result's key is the join key; the select item that becomes the key column is the
//!   first of the join's "viable" key expressions (the left join column, the right one, and,
//!   when a join continues on an earlier join's key, that join's) that the projection holds;
//! - a FULL OUTER join, or one on two non-column expressions, has a synthetic key `ROWKEY`
//!   (which `SELECT *` includes);
//! - stream-stream joins need WITHIN, stream-table joins join on the table's primary key and
//!   are INNER or LEFT, table-stream joins do not exist.

use crate::ast::{
    BinaryOp, Expr, Ident, JoinKind, Query, Relation, SelectItem, SourceKind, SqlType,
};
use crate::catalog::{Catalog, Column, ColumnKind, Source};
use crate::error::SqlError;
use crate::expr::type_of;
use crate::plan::{children_mut, plan, Plan};

/// The name of the join key column in the joined row when it is not synthetic.
pub const JOIN_KEY: &str = "KSQL_JOIN_KEY";
/// Pseudo columns every input contributes to the joined row.
const INPUT_PSEUDO: [(&str, SqlType); 3] = [
    ("ROWTIME", SqlType::Bigint),
    ("ROWPARTITION", SqlType::Int),
    ("ROWOFFSET", SqlType::Bigint),
];

/// One source of a join.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinInput {
    pub source: Source,
    /// The alias (or the source name): the prefix of its columns in the joined row.
    pub alias: String,
    /// Index of its first column in the joined row.
    pub offset: usize,
}

impl JoinInput {
    /// Columns of this input in the joined row: its own, then its pseudo columns.
    pub fn width(&self) -> usize {
        self.source.columns.len() + INPUT_PSEUDO.len()
    }
}

/// What kind of operator one JOIN is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOp {
    /// Windowed: `before`/`after` in ms; `grace` None keeps ksqlDB's behaviour without a
    /// GRACE PERIOD (non-matches emitted at once, records kept 24 hours).
    StreamStream {
        before: i64,
        after: i64,
        grace: Option<i64>,
    },
    StreamTable,
    TableTable,
}

/// One JOIN: the accumulated left side with input `right`.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinStep {
    pub kind: JoinKind,
    pub op: JoinOp,
    /// Over the joined row.
    pub left_key: Expr,
    pub right_key: Expr,
    /// The input joined on the right.
    pub right: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JoinPlan {
    pub inputs: Vec<JoinInput>,
    pub steps: Vec<JoinStep>,
    /// The joined row's columns: the key, then every input's columns.
    pub schema: Vec<Column>,
}

impl JoinPlan {
    /// Whether the join's result is a table (all inputs are tables).
    pub fn is_table(&self) -> bool {
        self.inputs
            .iter()
            .all(|i| i.source.kind == SourceKind::Table)
    }
}

struct Ctx<'a> {
    inputs: &'a [JoinInput],
    /// The synthetic key's name, when the final key is synthetic.
    synthetic: Option<&'a str>,
}

impl Ctx<'_> {
    fn input_named(&self, q: &Ident) -> Option<usize> {
        self.inputs
            .iter()
            .position(|i| i.alias == q.0)
            .or_else(|| self.inputs.iter().position(|i| i.source.name == q.0))
    }

    /// The joined row's column for `[q.]name`, and the input it belongs to (None: a pseudo
    /// column of the joined row itself, or the synthetic key).
    fn resolve(
        &self,
        q: Option<&Ident>,
        name: &Ident,
    ) -> Result<(Option<usize>, String), SqlError> {
        let has = |i: &JoinInput, n: &str| {
            i.source.columns.iter().any(|c| c.name == n) || INPUT_PSEUDO.iter().any(|p| p.0 == n)
        };
        match q {
            Some(q) => {
                let Some(i) = self.input_named(q) else {
                    return Err(SqlError::statement(format!(
                        "Source '{}' cannot be resolved.",
                        q.0
                    )));
                };
                let input = &self.inputs[i];
                if !has(input, &name.0) {
                    return Err(SqlError::statement(format!(
                        "Column '{}.{}' cannot be resolved.",
                        q.0, name.0
                    )));
                }
                Ok((Some(i), format!("{}_{}", input.alias, name.0)))
            }
            None => {
                if crate::expr::PSEUDO_COLUMNS.contains(&name.as_str())
                    || self.synthetic == Some(name.as_str())
                {
                    return Ok((None, name.0.clone()));
                }
                let found: Vec<usize> = (0..self.inputs.len())
                    .filter(|i| {
                        self.inputs[*i]
                            .source
                            .columns
                            .iter()
                            .any(|c| c.name == name.0)
                    })
                    .collect();
                match found.as_slice() {
                    [i] => Ok((Some(*i), format!("{}_{}", self.inputs[*i].alias, name.0))),
                    [] => Err(crate::expr::unknown_column(name)),
                    many => Err(SqlError::statement(format!(
                        "Column '{}' is ambiguous. Could be any of: {}",
                        name.0,
                        many.iter()
                            .map(|i| format!("{}.{}", self.inputs[*i].alias, name.0))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            }
        }
    }

    /// `e` over the joined row (unqualified, prefixed names), and the inputs it reads.
    fn rewrite(&self, e: &Expr, used: &mut Vec<usize>) -> Result<Expr, SqlError> {
        if let Expr::Column { source, name } = e {
            let (input, column) = self.resolve(source.as_ref(), name)?;
            if let Some(i) = input {
                if !used.contains(&i) {
                    used.push(i);
                }
            }
            return Ok(col(&column));
        }
        if let Expr::Lambda { .. } = e {
            return Ok(e.clone());
        }
        let mut out = e.clone();
        for child in children_mut(&mut out) {
            *child = self.rewrite(child, used)?;
        }
        Ok(out)
    }

    /// ksqlDB's name for a select item without an alias.
    fn item_name(&self, e: &Expr, unnamed: &mut usize) -> String {
        match e {
            Expr::Column { source, name } => {
                if source.is_none()
                    && (crate::expr::PSEUDO_COLUMNS.contains(&name.as_str())
                        || self.synthetic == Some(name.as_str()))
                {
                    return name.0.clone();
                }
                let holders = self
                    .inputs
                    .iter()
                    .filter(|i| i.source.columns.iter().any(|c| c.name == name.0))
                    .count();
                match self.resolve(source.as_ref(), name) {
                    Ok((Some(_), prefixed)) if holders != 1 => prefixed,
                    _ => name.0.clone(),
                }
            }
            Expr::Dereference { field, .. } => field.0.clone(),
            _ => {
                let n = format!("KSQL_COL_{unnamed}");
                *unnamed += 1;
                n
            }
        }
    }
}

fn col(name: &str) -> Expr {
    Expr::Column {
        source: None,
        name: Ident(name.to_string()),
    }
}

fn kind_text(kind: JoinKind) -> &'static str {
    match kind {
        JoinKind::Inner => "[INNER] JOIN",
        JoinKind::Left => "[LEFT] OUTER JOIN",
        JoinKind::Right => "[RIGHT] OUTER JOIN",
        JoinKind::Full => "[FULL] OUTER JOIN",
    }
}

/// Plans a query whose FROM has joins.
pub fn plan_join(query: &Query, catalog: &Catalog) -> Result<Plan, SqlError> {
    let Relation { source, joins } = &query.from;
    let mut inputs: Vec<JoinInput> = Vec::new();
    let mut offset = 1;
    for s in std::iter::once(source).chain(joins.iter().map(|j| &j.source)) {
        let src = catalog.get(&s.name.0)?.clone();
        let alias = s.alias.as_ref().unwrap_or(&s.name).0.clone();
        if inputs.iter().any(|i| i.alias == alias) {
            return Err(SqlError::statement(format!(
                "Can not join '{0}' to '{0}': self joins are not yet supported.",
                src.name
            )));
        }
        let input = JoinInput {
            source: src,
            alias,
            offset,
        };
        offset += input.width();
        inputs.push(input);
    }
    for i in &inputs {
        if i.source.window.is_some() {
            return Err(SqlError::statement(format!(
                "Joins with windowed sources are not supported yet: {}",
                i.source.name
            )));
        }
    }
    // The joined row, its key column filled in below.
    let mut schema = vec![Column::new(JOIN_KEY, SqlType::String, ColumnKind::Key)];
    for i in &inputs {
        for c in &i.source.columns {
            schema.push(Column::new(
                format!("{}_{}", i.alias, c.name),
                c.ty.clone(),
                ColumnKind::Value,
            ));
        }
        for (p, ty) in &INPUT_PSEUDO {
            schema.push(Column::new(
                format!("{}_{p}", i.alias),
                ty.clone(),
                ColumnKind::Value,
            ));
        }
    }
    let ctx = Ctx {
        inputs: &inputs,
        synthetic: None,
    };
    // The steps, with ksqlDB's checks.
    let mut steps = Vec::new();
    // Per step: (expressions equal to the key, viable key columns as (joined, written)).
    let mut key_exprs: Vec<Expr> = Vec::new();
    let mut viable: Vec<(Expr, Expr)> = Vec::new();
    let mut left_table = inputs[0].source.kind == SourceKind::Table;
    let mut left_name = inputs[0].source.name.clone();
    let mut synthetic = false;
    for (n, join) in joins.iter().enumerate() {
        let right = n + 1;
        let right_src = &inputs[right].source;
        let Expr::Binary {
            left: a,
            op: BinaryOp::Eq,
            right: b,
        } = &join.on
        else {
            return Err(SqlError::statement(format!(
                "Unsupported join expression: {}. Joins must be on the equality of two expressions.",
                join.on
            )));
        };
        let (mut ua, mut ub) = (Vec::new(), Vec::new());
        let ja = ctx.rewrite(a, &mut ua)?;
        let jb = ctx.rewrite(b, &mut ub)?;
        let only_right = |u: &Vec<usize>| !u.is_empty() && u.iter().all(|i| *i == right);
        let only_left = |u: &Vec<usize>| u.iter().all(|i| *i < right);
        let (lk, rk, lo, ro) = if only_right(&ub) && only_left(&ua) {
            (ja, jb, a.as_ref(), b.as_ref())
        } else if only_right(&ua) && only_left(&ub) {
            (jb, ja, b.as_ref(), a.as_ref())
        } else {
            return Err(SqlError::statement(format!(
                "Invalid comparison expression '{}' in join '{}'. Each side of the join comparision must contain references from exactly one source.",
                join.on, join.on
            )));
        };
        let right_table = right_src.kind == SourceKind::Table;
        let op = match (left_table, right_table) {
            (false, false) => {
                let Some(w) = join.within else {
                    return Err(SqlError::statement(
                        "Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn about how to specify a WITHIN clause with a stream-stream join, please visit: https://docs.confluent.io/current/ksql/docs/syntax-reference.html#create-stream-as-select",
                    ));
                };
                let before = w.before.millis() as i64;
                JoinOp::StreamStream {
                    before,
                    after: w.after.map_or(before, |a| a.millis() as i64),
                    grace: w.grace.map(|g| g.millis() as i64),
                }
            }
            (false, true) => {
                if join.within.is_some() {
                    return Err(SqlError::statement(
                        "A window definition was provided for a Stream-Table join. These joins are not windowed. Please drop the window definition (ie. the WITHIN clause) and try to execute your join again.",
                    ));
                }
                if matches!(join.kind, JoinKind::Full | JoinKind::Right) {
                    let kind = if join.kind == JoinKind::Full {
                        "full-outer"
                    } else {
                        "right-outer"
                    };
                    return Err(SqlError::statement(format!(
                        "Invalid join type: {kind} join not supported for stream-table join. Got {left_name} {} {}.",
                        kind_text(join.kind),
                        right_src.name
                    )));
                }
                JoinOp::StreamTable
            }
            (true, false) => {
                return Err(SqlError::statement(format!(
                    "Invalid join order: table-stream joins are not supported; only stream-table joins. Got {left_name} {} {}.",
                    kind_text(join.kind),
                    right_src.name
                )));
            }
            (true, true) => {
                if join.within.is_some() {
                    return Err(SqlError::statement(
                        "A window definition was provided for a Table-Table join. These joins are not windowed. Please drop the window definition (i.e. the WITHIN clause) and try to execute your Table-Table join again.",
                    ));
                }
                JoinOp::TableTable
            }
        };
        if right_table {
            let keys: Vec<&Column> = right_src.key_columns().collect();
            let on_key =
                keys.len() == 1 && rk == col(&format!("{}_{}", inputs[right].alias, keys[0].name));
            if !on_key {
                let what = if left_table {
                    "table-table"
                } else {
                    "stream-table"
                };
                return Err(SqlError::statement(format!(
                    "Invalid join condition: {what} joins require to join on the table's primary key. Got {} = {}.",
                    lo, ro
                )));
            }
        }
        let lt = type_of(&lk, &schema, false)?;
        let rt = type_of(&rk, &schema, false)?;
        if lt != rt && !(is_int(&lt) && is_int(&rt)) {
            return Err(SqlError::statement(format!(
                "Invalid join condition: types don't match. Got {lo}{{{}}} = {ro}{{{}}}.",
                crate::value::type_name(&lt),
                crate::value::type_name(&rt)
            )));
        }
        // The key of this step's result.
        let continues = key_exprs.contains(&lk);
        let mut v: Vec<(Expr, Expr)> = Vec::new();
        if continues {
            v.extend(viable.iter().cloned());
        } else if matches!(lk, Expr::Column { .. }) {
            v.push((lk.clone(), lo.clone()));
        }
        if matches!(rk, Expr::Column { .. }) {
            v.push((rk.clone(), ro.clone()));
        }
        let mut ke = vec![lk.clone(), rk.clone()];
        if continues {
            ke.extend(key_exprs.iter().cloned());
        }
        synthetic = join.kind == JoinKind::Full || v.is_empty();
        key_exprs = ke;
        viable = if synthetic { Vec::new() } else { v };
        schema[0].ty = lt;
        steps.push(JoinStep {
            kind: join.kind,
            op,
            left_key: lk,
            right_key: rk,
            right,
        });
        left_table = left_table && right_table;
        left_name = right_src.name.clone();
    }
    let synthetic_name = synthetic_key_name(&inputs);
    let synthetic_name = synthetic_name.as_str();
    if synthetic {
        schema[0].name = synthetic_name.to_string();
    }
    let ctx = Ctx {
        inputs: &inputs,
        synthetic: synthetic.then_some(synthetic_name),
    };
    // The select list, every item named.
    let mut items: Vec<(Expr, String)> = Vec::new();
    let mut unnamed = 0usize;
    let star = |i: &JoinInput, items: &mut Vec<(Expr, String)>| {
        for c in &i.source.columns {
            let n = format!("{}_{}", i.alias, c.name);
            items.push((col(&n), n));
        }
    };
    for item in &query.select {
        match item {
            SelectItem::Wildcard => {
                if synthetic {
                    items.push((col(synthetic_name), synthetic_name.to_string()));
                }
                for i in &inputs {
                    star(i, &mut items);
                }
            }
            SelectItem::QualifiedWildcard(q) => {
                let Some(i) = ctx.input_named(q) else {
                    return Err(SqlError::statement(format!(
                        "Source '{}' cannot be resolved.",
                        q.0
                    )));
                };
                star(&inputs[i], &mut items);
            }
            SelectItem::Expr { expr, alias } => {
                let name = match alias {
                    Some(a) => a.0.clone(),
                    None => ctx.item_name(expr, &mut unnamed),
                };
                items.push((ctx.rewrite(expr, &mut Vec::new())?, name));
            }
        }
    }
    // The item that becomes the key column.
    let chosen = if synthetic {
        items.iter().position(|(e, _)| *e == col(synthetic_name))
    } else {
        viable
            .iter()
            .find_map(|(v, _)| items.iter().position(|(e, _)| e == v))
    };
    if let Some(i) = chosen {
        items[i].0 = col(&schema[0].name);
    }
    let missing: Vec<String> = match chosen {
        Some(_) => Vec::new(),
        None if synthetic => vec![synthetic_name.to_string()],
        None => viable.iter().map(|(_, o)| o.to_string()).collect(),
    };
    let rewrite_all = |es: &[Expr]| -> Result<Vec<Expr>, SqlError> {
        es.iter().map(|e| ctx.rewrite(e, &mut Vec::new())).collect()
    };
    let joined = Source {
        name: inputs
            .iter()
            .map(|i| i.source.name.as_str())
            .collect::<Vec<_>>()
            .join("_"),
        kind: if left_table {
            SourceKind::Table
        } else {
            SourceKind::Stream
        },
        topic: inputs[0].source.topic.clone(),
        key_format: inputs[0].source.key_format,
        value_format: inputs[0].source.value_format,
        columns: schema.clone(),
        window: None,
        timestamp_column: None,
        timestamp_format: None,
        headers: Vec::new(),
        statement: String::new(),
        value_schema_id: None,
        key_schema_id: None,
        wrap_single_value: inputs[0].source.wrap_single_value,
        delimiter: inputs[0].source.delimiter,
    };
    let rewritten = Query {
        select: items
            .into_iter()
            .map(|(expr, name)| SelectItem::Expr {
                expr,
                alias: Some(Ident(name)),
            })
            .collect(),
        from: Relation {
            source: crate::ast::AliasedSource {
                name: Ident(joined.name.clone()),
                alias: None,
            },
            joins: Vec::new(),
        },
        window: query.window,
        where_clause: query
            .where_clause
            .as_ref()
            .map(|w| ctx.rewrite(w, &mut Vec::new()))
            .transpose()?,
        group_by: rewrite_all(&query.group_by)?,
        partition_by: rewrite_all(&query.partition_by)?,
        having: query
            .having
            .as_ref()
            .map(|h| ctx.rewrite(h, &mut Vec::new()))
            .transpose()?,
        emit: query.emit,
        limit: query.limit,
    };
    let mut scratch = Catalog::default();
    scratch.sources.insert(joined.name.clone(), joined.clone());
    let mut p = plan(&rewritten, &scratch)?;
    if !p.is_aggregate() && query.partition_by.is_empty() {
        p.missing_keys = missing;
        p.missing_are_grouping = false;
    }
    p.join = Some(JoinPlan {
        inputs,
        steps,
        schema,
    });
    Ok(p)
}

/// ksqlDB's synthetic join key: `ROWKEY`, or `ROWKEY_n` past any such column of the inputs.
fn synthetic_key_name(inputs: &[JoinInput]) -> String {
    let taken = inputs
        .iter()
        .flat_map(|i| i.source.columns.iter())
        .filter_map(|c| match c.name.strip_prefix("ROWKEY") {
            Some("") => Some(0),
            Some(rest) => rest.strip_prefix('_')?.parse::<u64>().ok(),
            None => None,
        })
        .max();
    match taken {
        None => "ROWKEY".to_string(),
        Some(n) => format!("ROWKEY_{}", n + 1),
    }
}

fn is_int(t: &SqlType) -> bool {
    matches!(t, SqlType::Int | SqlType::Bigint)
}

/// ksqlDB's message for a join query whose projection lacks the key.
pub fn missing_key_message(sink: &str, missing: &[String]) -> String {
    let what = if missing.len() == 1 {
        "join expression"
    } else {
        "join expressions"
    };
    let list = match missing {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    format!(
        "The query used to build `{sink}` must include the {what} {list} in its projection (eg, SELECT {}...).",
        missing.first().cloned().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::declared_source;

    fn catalog(ddls: &[&str]) -> Catalog {
        let mut catalog = Catalog::default();
        for ddl in ddls {
            let crate::Statement::CreateSource(c) = crate::parse_statement(ddl).unwrap() else {
                panic!("not a CREATE")
            };
            let (source, _) = declared_source(&c, ddl).unwrap();
            catalog.sources.insert(source.name.clone(), source);
        }
        catalog
    }

    fn plan_of(c: &Catalog, sql: &str) -> Result<Plan, SqlError> {
        let crate::Statement::Query(q) = crate::parse_statement(sql).unwrap() else {
            panic!("not a query")
        };
        crate::plan::plan(&q, c)
    }

    fn schema(p: &Plan) -> String {
        p.output
            .iter()
            .map(|c| {
                let key = if c.kind == ColumnKind::Key {
                    " KEY"
                } else {
                    ""
                };
                format!("{} {}{key}", c.name, crate::value::type_name(&c.ty))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    const L: &str =
        "CREATE STREAM L (A INT KEY, B INT, C INT) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON');";
    const R: &str =
        "CREATE STREAM R (A INT KEY, B INT, C INT) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON');";
    const T: &str = "CREATE TABLE T (ID INT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');";

    #[test]
    fn select_star_prefixes_every_column_and_keys_on_the_left_join_column() {
        let c = catalog(&[L, R]);
        let p = plan_of(&c, "SELECT * FROM L JOIN R WITHIN 10 SECONDS ON L.A = R.A;").unwrap();
        assert_eq!(
            schema(&p),
            "L_A INTEGER KEY, L_B INTEGER, L_C INTEGER, R_A INTEGER, R_B INTEGER, R_C INTEGER"
        );
        // On an expression of the left side, the right column is the key.
        let p = plan_of(
            &c,
            "SELECT L.*, R.* FROM L LEFT JOIN R WITHIN 10 SECONDS ON ABS(L.A) = R.A;",
        )
        .unwrap();
        assert_eq!(schema(&p).split(',').next().unwrap(), "R_A INTEGER KEY");
        // FULL OUTER: a synthetic ROWKEY that `*` includes.
        let p = plan_of(
            &c,
            "SELECT * FROM L FULL OUTER JOIN R WITHIN 10 SECONDS ON L.A = R.A;",
        )
        .unwrap();
        assert_eq!(schema(&p).split(',').next().unwrap(), "ROWKEY INTEGER KEY");
        // ... named past a ROWKEY column of an input.
        let k =
            "CREATE STREAM K (ROWKEY INT KEY, V INT) WITH (KAFKA_TOPIC='k', VALUE_FORMAT='JSON');";
        let p = plan_of(
            &catalog(&[L, k]),
            "SELECT * FROM L JOIN K WITHIN 1 SECOND ON ABS(L.A) = ABS(K.ROWKEY);",
        )
        .unwrap();
        assert_eq!(
            schema(&p).split(',').next().unwrap(),
            "ROWKEY_1 INTEGER KEY"
        );
    }

    #[test]
    fn unique_columns_keep_their_names_ambiguous_ones_get_the_alias() {
        let c = catalog(&[L, T]);
        let p = plan_of(
            &c,
            "SELECT l.a, l.b, name FROM L l LEFT JOIN T t ON l.a = t.id;",
        )
        .unwrap();
        assert_eq!(schema(&p), "A INTEGER KEY, B INTEGER, NAME STRING");
        let e = plan_of(&c, "SELECT a, name FROM L JOIN T ON L.A = T.ID;");
        assert!(e.is_ok());
        let e = plan_of(
            &catalog(&[L, R]),
            "SELECT L.A, B FROM L JOIN R WITHIN 1 SECOND ON L.A = R.A;",
        )
        .unwrap_err();
        assert!(e.to_string().contains("Column 'B' is ambiguous"), "{e}");
    }

    #[test]
    fn ksqldb_join_errors() {
        let c = catalog(&[L, R, T]);
        let msg = |sql: &str| plan_of(&c, sql).unwrap_err().to_string();
        assert!(msg("SELECT * FROM L JOIN R ON L.A = R.A;")
            .contains("Stream-Stream joins must have a WITHIN clause"));
        assert!(msg("SELECT * FROM L FULL OUTER JOIN T ON L.A = T.ID;").contains(
            "Invalid join type: full-outer join not supported for stream-table join. Got L [FULL] OUTER JOIN T."
        ));
        assert!(msg("SELECT * FROM L JOIN T ON CAST(L.B AS STRING) = T.ID;")
            .contains("types don't match"));
        assert!(msg("SELECT * FROM L JOIN T ON L.B = T.NAME;")
            .contains("stream-table joins require to join on the table's primary key"));
        assert!(msg("SELECT * FROM T JOIN L ON T.ID = L.A;").contains("Invalid join order"));
        let p = plan_of(
            &c,
            "SELECT L.B, R.B FROM L JOIN R WITHIN 1 SECOND ON L.A = R.A;",
        )
        .unwrap();
        assert_eq!(
            p.check_persistent("OUTPUT").unwrap_err().to_string(),
            "The query used to build `OUTPUT` must include the join expressions L.A or R.A in its projection (eg, SELECT L.A...)."
        );
    }
}
