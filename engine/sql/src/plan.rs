//! The planner: a `Query` over the catalog becomes a [`Plan`] (source, filter, then either a
//! projection or a grouped/windowed aggregation with its output expressions), with the output
//! schema and ksqlDB's checks (unknown columns, key missing from the projection, non-aggregate
//! columns outside GROUP BY, WHERE must be BOOLEAN). It only reads the catalog.

use crate::ast::{Expr, Ident, Query, SelectItem, SqlType, WindowExpr};
use crate::catalog::{Catalog, Column, ColumnKind, Source};
use crate::error::SqlError;
use crate::expr::{is_aggregate, type_of, visit_children};
use crate::value::type_name;

/// One aggregate function call of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    pub name: String,
    pub args: Vec<Expr>,
    pub star: bool,
    pub arg_type: Option<SqlType>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggregatePlan {
    /// Over the source schema.
    pub group_by: Vec<Expr>,
    pub calls: Vec<AggCall>,
    /// `KSQL_GROUP_i` then `KSQL_AGG_i`: what `select` and `having` are evaluated over.
    pub inter_schema: Vec<Column>,
    pub window: Option<WindowExpr>,
    pub having: Option<Expr>,
    /// `EMIT FINAL`: a window's row is emitted once, when the window closes.
    pub emit_final: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// One expression per output column, over the source schema.
    Project(Vec<Expr>),
    /// One expression per output column, over the aggregate's intermediate schema.
    Aggregate(AggregatePlan, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub source: Source,
    pub filter: Option<Expr>,
    pub body: Body,
    /// Output columns (keys first), aligned with the body's expressions.
    pub output: Vec<Column>,
    pub limit: Option<u64>,
    /// Key columns (or grouping expressions) the projection leaves out: a persistent query
    /// must select them (ksqlDB's rule), a transient one need not.
    pub missing_keys: Vec<String>,
    /// True when the missing keys are grouping expressions rather than source key columns.
    pub missing_are_grouping: bool,
    /// The joins of a `FROM a JOIN b ...`: `source` is then the joined row.
    pub join: Option<crate::plan_join::JoinPlan>,
}

/// `A`, `A and B`, `A, B and C`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Plan {
    /// ksqlDB's checks of a persistent query's projection, naming the sink.
    pub fn check_persistent(&self, sink: &str) -> Result<(), SqlError> {
        for c in &self.output {
            if crate::expr::PSEUDO_COLUMNS.contains(&c.name.as_str()) {
                return Err(SqlError::statement(format!(
                    "Reserved column name in select: `{}`. Please remove or alias the column.",
                    c.name
                )));
            }
        }
        if self.join.is_some() && !self.missing_are_grouping && !self.missing_keys.is_empty() {
            return Err(SqlError::statement(crate::plan_join::missing_key_message(
                sink,
                &self.missing_keys,
            )));
        }
        if !self.missing_keys.is_empty() {
            let what = match (self.missing_are_grouping, self.missing_keys.len()) {
                (true, 1) => "grouping expression",
                (true, _) => "grouping expressions",
                (false, 1) => "key column",
                (false, _) => "key columns",
            };
            return Err(SqlError::statement(format!(
                "The query used to build `{sink}` must include the {what} {} in its projection (eg, SELECT {}...).",
                and_list(&self.missing_keys),
                self.missing_keys.join(", ")
            )));
        }
        Ok(())
    }
}

impl Plan {
    /// The sources the query reads: the joined inputs, or its one source.
    pub fn inputs(&self) -> Vec<&crate::catalog::Source> {
        match &self.join {
            Some(j) => j.inputs.iter().map(|i| &i.source).collect(),
            None => vec![&self.source],
        }
    }
    pub fn is_aggregate(&self) -> bool {
        matches!(self.body, Body::Aggregate(..))
    }
    pub fn window(&self) -> Option<WindowExpr> {
        match &self.body {
            Body::Aggregate(a, _) => a.window,
            Body::Project(_) => self.source.window.map(|kind| WindowExpr {
                kind,
                retention: None,
                grace: None,
            }),
        }
    }
}

fn contains_aggregate(e: &Expr) -> bool {
    let mut found = false;
    let _ = visit(e, &mut |x| {
        if let Expr::Function { name, .. } = x {
            if is_aggregate(name.as_str()) {
                found = true;
            }
        }
    });
    found
}

fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) -> Result<(), SqlError> {
    f(e);
    visit_children(e, &mut |c| visit(c, f))
}

/// Output column name of a select item: its alias, its column name, or `KSQL_COL_n`.
fn column_name(expr: &Expr, alias: &Option<Ident>, unnamed: &mut usize) -> String {
    if let Some(a) = alias {
        return a.0.clone();
    }
    match expr {
        Expr::Column { name, .. } => name.0.clone(),
        Expr::Dereference { field, .. } => field.0.clone(),
        _ => {
            let n = format!("KSQL_COL_{unnamed}");
            *unnamed += 1;
            n
        }
    }
}

/// Plans `query` over `catalog`. The source's own columns are the input schema.
pub fn plan(query: &Query, catalog: &Catalog) -> Result<Plan, SqlError> {
    if !query.from.joins.is_empty() {
        return crate::plan_join::plan_join(query, catalog);
    }
    let source = catalog.get(&query.from.source.name.0)?.clone();
    let windowed = source.window.is_some();
    let schema = source.columns.clone();
    // A qualifier must name the source (or its alias).
    let qualifiers = [
        Some(&query.from.source.name),
        query.from.source.alias.as_ref(),
    ];
    let mut bad_qualifier = None;
    for item in &query.select {
        if let SelectItem::Expr { expr, .. } = item {
            let _ = visit(expr, &mut |e| {
                if let Expr::Column {
                    source: Some(q), ..
                } = e
                {
                    if !qualifiers.contains(&Some(q)) {
                        bad_qualifier = Some(q.0.clone());
                    }
                }
            });
        }
    }
    if let Some(q) = bad_qualifier {
        return Err(SqlError::statement(format!(
            "Source '{q}' cannot be resolved."
        )));
    }
    if let Some(w) = &query.where_clause {
        if contains_aggregate(w) {
            return Err(SqlError::statement(
                "WHERE clause can not contain aggregate functions; use HAVING",
            ));
        }
        let t = type_of(w, &schema, windowed).map_err(|e| context("WHERE", e))?;
        if t != SqlType::Boolean {
            return Err(SqlError::statement(format!(
                "Type error in WHERE expression: Should evaluate to boolean but is {} ({}) instead.",
                w,
                type_name(&t)
            )));
        }
    }
    // Expand the select list.
    let mut items: Vec<(Expr, String)> = Vec::new();
    let mut unnamed = 0usize;
    for item in &query.select {
        match item {
            SelectItem::Wildcard | SelectItem::QualifiedWildcard(_) => {
                for c in schema.iter().filter(|c| c.kind == ColumnKind::Key) {
                    items.push((col(&c.name), c.name.clone()));
                }
                if windowed {
                    for w in ["WINDOWSTART", "WINDOWEND"] {
                        items.push((col(w), w.to_string()));
                    }
                }
                for c in schema.iter().filter(|c| c.kind != ColumnKind::Key) {
                    items.push((col(&c.name), c.name.clone()));
                }
            }
            SelectItem::Expr { expr, alias } => {
                let name = column_name(expr, alias, &mut unnamed);
                items.push((expr.clone(), name));
            }
        }
    }
    let aggregate = !query.group_by.is_empty() || items.iter().any(|(e, _)| contains_aggregate(e));
    if query.window.is_some() && !aggregate {
        return Err(SqlError::statement(
            "WINDOW clause requires a GROUP BY clause.",
        ));
    }
    if query.emit == Some(crate::ast::Emit::Final) && query.window.is_none() {
        return Err(SqlError::statement(
            "EMIT FINAL is only supported for windowed aggregations.",
        ));
    }
    if let Some(w) = &query.window {
        if aggregate && source.kind == crate::ast::SourceKind::Table {
            return Err(SqlError::statement(
                "Windowing not supported for table aggregations.",
            ));
        }
        crate::operators::window::check_retention(w)?;
    }
    if query.having.is_some() && !aggregate {
        return Err(SqlError::statement("HAVING requires a GROUP BY clause."));
    }
    let mut names = std::collections::HashSet::new();
    for (_, n) in &items {
        if !names.insert(n.clone()) {
            return Err(SqlError::statement(format!(
                "Cannot create a stream or table with duplicate column name: {n}"
            )));
        }
    }
    if aggregate && !query.partition_by.is_empty() {
        return Err(SqlError::statement(
            "Queries only support one of PARTITION BY or GROUP BY.",
        ));
    }
    if !aggregate {
        let partition = &query.partition_by;
        // PARTITION BY NULL: no key at all.
        let partition_null = matches!(
            partition.as_slice(),
            [Expr::Literal(crate::ast::Literal::Null)]
        );
        for p in partition {
            type_of(p, &schema, windowed).map_err(|e| context("PARTITION BY", e))?;
        }
        let mut seen = vec![false; partition.len()];
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for (e, n) in items {
            if matches!(e, Expr::Literal(crate::ast::Literal::Null)) {
                return Err(SqlError::statement(
                    "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).",
                ));
            }
            let ty = type_of(&e, &schema, windowed).map_err(|err| context("SELECT", err))?;
            let is_key = if partition.is_empty() {
                matches!(&e, Expr::Column { name, .. }
                    if schema.iter().any(|c| c.name == name.0 && c.kind == ColumnKind::Key))
            } else {
                match partition.iter().position(|p| *p == e) {
                    Some(i) if !seen[i] && !partition_null => {
                        seen[i] = true;
                        true
                    }
                    _ => false,
                }
            };
            if is_key {
                keys.push((e, Column::new(n, ty, ColumnKind::Key)));
            } else {
                values.push((e, Column::new(n, ty, ColumnKind::Value)));
            }
        }
        if !partition_null {
            // A PARTITION BY expression left out of the projection is still the key.
            for (i, p) in partition.iter().enumerate() {
                if !seen[i] {
                    let name = column_name(p, &None, &mut unnamed);
                    let ty = type_of(p, &schema, windowed)?;
                    keys.push((p.clone(), Column::new(name, ty, ColumnKind::Key)));
                }
            }
        }
        let missing_keys: Vec<String> = if partition.is_empty() {
            schema
                .iter()
                .filter(|c| c.kind == ColumnKind::Key)
                .filter(|c| {
                    !keys
                        .iter()
                        .any(|(e, _)| matches!(e, Expr::Column { name, .. } if name.0 == c.name))
                })
                .map(|c| c.name.clone())
                .collect()
        } else {
            Vec::new()
        };
        keys.extend(values);
        let (exprs, output): (Vec<_>, Vec<_>) = keys.into_iter().unzip();
        return Ok(Plan {
            source,
            filter: query.where_clause.clone(),
            body: Body::Project(exprs),
            output,
            limit: query.limit,
            missing_keys,
            missing_are_grouping: false,
            join: None,
        });
    }
    if query.group_by.is_empty() {
        return Err(SqlError::statement(
            "Aggregate queries without GROUP BY are not supported yet",
        ));
    }
    // Intermediate schema: group expressions, then aggregate calls.
    let mut inter = Vec::new();
    for (i, g) in query.group_by.iter().enumerate() {
        if contains_aggregate(g) {
            return Err(SqlError::statement(
                "GROUP BY does not support aggregate functions",
            ));
        }
        let ty = type_of(g, &schema, windowed).map_err(|e| context("GROUP BY", e))?;
        inter.push(Column::new(format!("KSQL_GROUP_{i}"), ty, ColumnKind::Key));
    }
    let mut calls: Vec<AggCall> = Vec::new();
    let mut rewrite_ctx = Rewrite {
        table_source: source.kind == crate::ast::SourceKind::Table,
        group_by: &query.group_by,
        calls: &mut calls,
        schema: &schema,
        windowed,
    };
    let mut keys: Vec<(Expr, Column)> = Vec::new();
    let mut values: Vec<(Expr, Column)> = Vec::new();
    let mut key_seen = vec![false; query.group_by.len()];
    for (e, n) in &items {
        if let Some(i) = query.group_by.iter().position(|g| g == e) {
            if !key_seen[i] {
                key_seen[i] = true;
                keys.push((
                    col(&format!("KSQL_GROUP_{i}")),
                    Column::new(n.clone(), inter[i].ty.clone(), ColumnKind::Key),
                ));
                continue;
            }
        }
        let rewritten = rewrite_ctx.rewrite(e)?;
        values.push((
            rewritten,
            Column::new(n.clone(), SqlType::String, ColumnKind::Value),
        ));
    }
    let having = query
        .having
        .as_ref()
        .map(|h| rewrite_ctx.rewrite(h))
        .transpose()?;
    for (i, c) in calls.iter().enumerate() {
        let ty = type_of(
            &Expr::Function {
                name: Ident(c.name.clone()),
                args: c.args.clone(),
                star: c.star,
            },
            &schema,
            windowed,
        )?;
        inter.push(Column::new(format!("KSQL_AGG_{i}"), ty, ColumnKind::Value));
    }
    for (e, c) in values.iter_mut() {
        c.ty = type_of(e, &inter, query.window.is_some())?;
    }
    let missing_keys: Vec<String> = key_seen
        .iter()
        .zip(&query.group_by)
        .filter(|(seen, _)| !**seen)
        .map(|(_, g)| g.to_string())
        .collect();
    keys.extend(values);
    let (exprs, output): (Vec<_>, Vec<_>) = keys.into_iter().unzip();
    Ok(Plan {
        source,
        filter: query.where_clause.clone(),
        body: Body::Aggregate(
            AggregatePlan {
                group_by: query.group_by.clone(),
                calls,
                inter_schema: inter,
                window: query.window,
                having,
                emit_final: query.emit == Some(crate::ast::Emit::Final),
            },
            exprs,
        ),
        output,
        limit: query.limit,
        missing_keys,
        missing_are_grouping: true,
        join: None,
    })
}

fn col(name: &str) -> Expr {
    Expr::Column {
        source: None,
        name: Ident(name.to_string()),
    }
}

fn context(clause: &str, e: SqlError) -> SqlError {
    match e {
        SqlError::Statement { message, statement } if message.starts_with("Column '") => {
            SqlError::Statement {
                message: format!("{clause} column {}", &message["Column ".len()..]),
                statement,
            }
        }
        other => other,
    }
}

struct Rewrite<'a> {
    table_source: bool,
    group_by: &'a [Expr],
    calls: &'a mut Vec<AggCall>,
    schema: &'a [Column],
    windowed: bool,
}

impl Rewrite<'_> {
    /// Replaces grouping expressions and aggregate calls by intermediate columns.
    fn rewrite(&mut self, e: &Expr) -> Result<Expr, SqlError> {
        if let Some(i) = self.group_by.iter().position(|g| g == e) {
            return Ok(col(&format!("KSQL_GROUP_{i}")));
        }
        match e {
            Expr::Function { name, args, star } if is_aggregate(name.as_str()) => {
                if args.iter().any(contains_aggregate) {
                    return Err(SqlError::statement("Aggregate functions can not be nested"));
                }
                let arg_type = match args.first() {
                    Some(a) => Some(
                        type_of(a, self.schema, self.windowed).map_err(|e| context("SELECT", e))?,
                    ),
                    None => None,
                };
                // `COUNT()` is `COUNT(*)`.
                let star = *star || (args.is_empty() && name.as_str() == "COUNT");
                if !star && args.is_empty() {
                    return Err(SqlError::statement(format!(
                        "Function '{}' requires an argument",
                        name.0
                    )));
                }
                if self.table_source
                    && matches!(
                        name.as_str(),
                        "MIN"
                            | "MAX"
                            | "EARLIEST_BY_OFFSET"
                            | "LATEST_BY_OFFSET"
                            | "COUNT_DISTINCT"
                            | "TOPK"
                            | "TOPKDISTINCT"
                    )
                {
                    return Err(SqlError::statement(format!(
                        "The aggregation functions {} cannot be applied to a table source, only to a stream source.",
                        name.0
                    )));
                }
                let call = AggCall {
                    name: name.0.clone(),
                    args: args.clone(),
                    star,
                    arg_type,
                };
                let i = match self.calls.iter().position(|c| *c == call) {
                    Some(i) => i,
                    None => {
                        self.calls.push(call);
                        self.calls.len() - 1
                    }
                };
                Ok(col(&format!("KSQL_AGG_{i}")))
            }
            Expr::Column { name, .. } => {
                if crate::expr::PSEUDO_COLUMNS[3..].contains(&name.as_str()) {
                    return Ok(e.clone());
                }
                if crate::expr::resolve(self.schema, name).is_none() {
                    return Err(crate::expr::unknown_column(name));
                }
                Err(SqlError::statement(format!(
                    "Non-aggregate SELECT expression(s) not part of GROUP BY: {}\nEither add the column(s) to the GROUP BY or remove them from the SELECT.",
                    name.0
                )))
            }
            _ => {
                let mut out = e.clone();
                let mut err = None;
                for child in children_mut(&mut out) {
                    match self.rewrite(child) {
                        Ok(r) => *child = r,
                        Err(x) => {
                            err = Some(x);
                            break;
                        }
                    }
                }
                match err {
                    Some(x) => Err(x),
                    None => Ok(out),
                }
            }
        }
    }
}

/// The direct children of `e`, mutably.
pub(crate) fn children_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match e {
        Expr::Column { .. } | Expr::Literal(_) | Expr::TimeUnit(_) => vec![],
        Expr::Unary { expr, .. } | Expr::IsNull { expr, .. } | Expr::Cast { expr, .. } => {
            vec![expr.as_mut()]
        }
        Expr::Binary { left, right, .. } | Expr::IsDistinctFrom { left, right, .. } => {
            vec![left.as_mut(), right.as_mut()]
        }
        Expr::Between {
            expr, low, high, ..
        } => vec![expr.as_mut(), low.as_mut(), high.as_mut()],
        Expr::InList { expr, list, .. } => {
            let mut v = vec![expr.as_mut()];
            v.extend(list.iter_mut());
            v
        }
        Expr::Like { expr, pattern, .. } => vec![expr.as_mut(), pattern.as_mut()],
        Expr::Case {
            operand,
            whens,
            else_result,
        } => {
            let mut v: Vec<&mut Expr> = Vec::new();
            if let Some(o) = operand {
                v.push(o.as_mut());
            }
            for (w, t) in whens.iter_mut() {
                v.push(w);
                v.push(t);
            }
            if let Some(x) = else_result {
                v.push(x.as_mut());
            }
            v
        }
        Expr::Function { args, .. } | Expr::Array(args) => args.iter_mut().collect(),
        Expr::Subscript { base, index } => vec![base.as_mut(), index.as_mut()],
        Expr::Dereference { base, .. } => vec![base.as_mut()],
        Expr::Map(entries) => entries.iter_mut().flat_map(|(k, v)| [k, v]).collect(),
        Expr::Struct(fields) => fields.iter_mut().map(|(_, e)| e).collect(),
        Expr::Lambda { body, .. } => vec![body.as_mut()],
    }
}
