//! Expression evaluation and typing over one row: column lookup (including the pseudo columns
//! ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND), arithmetic, comparison, three-
//! valued boolean logic, LIKE, IN, BETWEEN, IS [NOT] NULL, CASE, CAST, subscripts and the
//! common scalar functions (string, math, date/time, bytes), exact DECIMAL arithmetic with
//! ksqlDB's result types, TIMESTAMP/DATE/TIME compared with ISO strings, with ksqlDB's NULL
//! semantics (a NULL operand gives NULL; a failed
//! evaluation of a row gives NULL, as ksqlDB logs and continues). Aggregates are not
//! evaluated here: the planner replaces them by columns first. No I/O.

use std::cmp::Ordering;

use crate::ast::{BinaryOp, Expr, Ident, Literal, SqlType, UnaryOp};
use crate::catalog::Column;
use crate::decimal::{self, Decimal};
use crate::error::SqlError;
use crate::temporal;
use crate::value::{type_name, Value};

/// Where a row came from: the pseudo columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowMeta {
    pub rowtime: i64,
    pub partition: i32,
    pub offset: i64,
    /// `(WINDOWSTART, WINDOWEND)` of a windowed row.
    pub window: Option<(i64, i64)>,
}

/// One row to evaluate against: its columns (by schema position) and pseudo columns.
pub struct Row<'a> {
    pub schema: &'a [Column],
    pub values: &'a [Value],
    pub meta: RowMeta,
}

pub const PSEUDO_COLUMNS: [&str; 5] = [
    "ROWTIME",
    "ROWPARTITION",
    "ROWOFFSET",
    "WINDOWSTART",
    "WINDOWEND",
];

/// The position of column `name` in `schema` (unqualified; a qualifier must name the source).
pub fn resolve(schema: &[Column], name: &Ident) -> Option<usize> {
    schema.iter().position(|c| c.name == name.0)
}

/// The type of a pseudo column, if `name` is one (window bounds only on windowed rows).
fn pseudo_type(name: &str, windowed: bool) -> Option<SqlType> {
    match name {
        "ROWTIME" | "ROWOFFSET" => Some(SqlType::Bigint),
        "ROWPARTITION" => Some(SqlType::Int),
        "WINDOWSTART" | "WINDOWEND" if windowed => Some(SqlType::Bigint),
        _ => None,
    }
}

/// Evaluates `expr` over `row`. Errors are for statements that cannot run at all (an unknown
/// column); a value that cannot be computed (division by zero, bad cast) is NULL.
pub fn eval(expr: &Expr, row: &Row<'_>) -> Result<Value, SqlError> {
    Ok(match expr {
        Expr::Column { name, .. } => match resolve(row.schema, name) {
            Some(i) => row.values.get(i).cloned().unwrap_or(Value::Null),
            None => match name.as_str() {
                "ROWTIME" => Value::Bigint(row.meta.rowtime),
                "ROWPARTITION" => Value::Int(row.meta.partition),
                "ROWOFFSET" => Value::Bigint(row.meta.offset),
                "WINDOWSTART" => row.meta.window.map_or(Value::Null, |w| Value::Bigint(w.0)),
                "WINDOWEND" => row.meta.window.map_or(Value::Null, |w| Value::Bigint(w.1)),
                _ => return Err(unknown_column(name)),
            },
        },
        Expr::Literal(l) => literal(l),
        Expr::Unary { op, expr } => {
            let v = eval(expr, row)?;
            match (op, v) {
                (_, Value::Null) => Value::Null,
                (UnaryOp::Plus, v) => v,
                (UnaryOp::Minus, Value::Int(i)) => Value::Int(i.wrapping_neg()),
                (UnaryOp::Minus, Value::Bigint(i)) => Value::Bigint(i.wrapping_neg()),
                (UnaryOp::Minus, Value::Double(d)) => Value::Double(-d),
                (UnaryOp::Minus, Value::Decimal(d)) => Value::Decimal(d.neg()),
                (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
                _ => Value::Null,
            }
        }
        Expr::Binary { left, op, right } => {
            if let Some(v) = compare_column_with_string(left, *op, right, row) {
                return Ok(v);
            }
            let l = eval(left, row)?;
            match op {
                BinaryOp::And => {
                    if l == Value::Bool(false) {
                        return Ok(Value::Bool(false));
                    }
                    let r = eval(right, row)?;
                    match (l, r) {
                        (_, Value::Bool(false)) => Value::Bool(false),
                        (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                        _ => Value::Null,
                    }
                }
                BinaryOp::Or => {
                    if l == Value::Bool(true) {
                        return Ok(Value::Bool(true));
                    }
                    let r = eval(right, row)?;
                    match (l, r) {
                        (_, Value::Bool(true)) => Value::Bool(true),
                        (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                        _ => Value::Null,
                    }
                }
                BinaryOp::Divide => {
                    let r = eval(right, row)?;
                    if matches!((&l, &r), (Value::Decimal(_), _) | (_, Value::Decimal(_))) {
                        return Ok(decimal_divide(&l, &r, left, right, row));
                    }
                    binary(*op, l, r)
                }
                _ => binary(*op, l, eval(right, row)?),
            }
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let v = eval(expr, row)?;
            let lo = v.sql_cmp(&eval(low, row)?);
            let hi = v.sql_cmp(&eval(high, row)?);
            match (lo, hi) {
                (Some(a), Some(b)) => {
                    Value::Bool((a != Ordering::Less && b != Ordering::Greater) != *negated)
                }
                _ => Value::Null,
            }
        }
        Expr::InList {
            expr,
            negated,
            list,
        } => {
            let v = eval(expr, row)?;
            if v.is_null() {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            for item in list {
                let x = eval(item, row)?;
                match v.sql_cmp(&x) {
                    Some(Ordering::Equal) => return Ok(Value::Bool(!*negated)),
                    None if x.is_null() => saw_null = true,
                    _ => {}
                }
            }
            if saw_null {
                Value::Null
            } else {
                Value::Bool(*negated)
            }
        }
        Expr::Like {
            expr,
            negated,
            pattern,
            escape,
        } => match (eval(expr, row)?, eval(pattern, row)?) {
            (Value::String(s), Value::String(p)) => Value::Bool(like(&s, &p, *escape) != *negated),
            _ => Value::Null,
        },
        Expr::IsNull { expr, negated } => Value::Bool(eval(expr, row)?.is_null() != *negated),
        Expr::IsDistinctFrom {
            left,
            negated,
            right,
        } => {
            let (l, r) = (eval(left, row)?, eval(right, row)?);
            let same = match (&l, &r) {
                (Value::Null, Value::Null) => true,
                (Value::Null, _) | (_, Value::Null) => false,
                _ => l.sql_cmp(&r) == Some(Ordering::Equal),
            };
            Value::Bool(same == *negated)
        }
        Expr::Case {
            operand,
            whens,
            else_result,
        } => {
            let op = operand.as_ref().map(|o| eval(o, row)).transpose()?;
            for (when, then) in whens {
                let w = eval(when, row)?;
                let hit = match &op {
                    Some(o) => o.sql_cmp(&w) == Some(Ordering::Equal),
                    None => w == Value::Bool(true),
                };
                if hit {
                    return eval(then, row);
                }
            }
            match else_result {
                Some(e) => eval(e, row)?,
                None => Value::Null,
            }
        }
        Expr::Cast { expr, ty } => cast(eval(expr, row)?, ty),
        Expr::Function { name, args, .. } => {
            let vals = args
                .iter()
                .map(|a| match a {
                    // A time unit argument (TIMESTAMPADD's) is its length in milliseconds.
                    Expr::TimeUnit(u) => Ok(Value::Bigint(u.millis() as i64)),
                    a => eval(a, row),
                })
                .collect::<Result<Vec<_>, _>>()?;
            scalar(name.as_str(), vals)?
        }
        Expr::Subscript { base, index } => match (eval(base, row)?, eval(index, row)?) {
            (Value::Array(a), i) => match i.as_i64() {
                Some(i) if i > 0 => a.get(i as usize - 1).cloned().unwrap_or(Value::Null),
                Some(i) if i < 0 => {
                    let back = i.unsigned_abs() as usize;
                    if back <= a.len() {
                        a[a.len() - back].clone()
                    } else {
                        Value::Null
                    }
                }
                _ => Value::Null,
            },
            (Value::Map(m), Value::String(k)) => m.get(&k).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Expr::Dereference { base, field } => match eval(base, row)? {
            Value::Struct(f) => f
                .into_iter()
                .find(|(n, _)| *n == field.0)
                .map(|(_, v)| v)
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Expr::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| eval(i, row))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Map(entries) => {
            let mut m = std::collections::BTreeMap::new();
            for (k, v) in entries {
                if let Value::String(k) = eval(k, row)? {
                    m.insert(k, eval(v, row)?);
                }
            }
            Value::Map(m)
        }
        Expr::Struct(fields) => Value::Struct(
            fields
                .iter()
                .map(|(n, e)| Ok((n.0.clone(), eval(e, row)?)))
                .collect::<Result<_, SqlError>>()?,
        ),
        Expr::TimeUnit(_) | Expr::Lambda { .. } => {
            return Err(SqlError::statement(
                "Lambdas and time units are only allowed as function arguments",
            ))
        }
    })
}

pub fn unknown_column(name: &Ident) -> SqlError {
    SqlError::statement(format!("Column '{}' cannot be resolved.", name.0))
}

pub fn literal(l: &Literal) -> Value {
    match l {
        Literal::Null => Value::Null,
        Literal::Boolean(b) => Value::Bool(*b),
        Literal::Integer(i) => match i32::try_from(*i) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Bigint(*i),
        },
        Literal::Decimal(s) => Decimal::parse(s).map_or(Value::Null, Value::Decimal),
        Literal::Double(s) => s.parse().map_or(Value::Null, Value::Double),
        Literal::String(s) => Value::String(s.clone()),
    }
}

fn binary(op: BinaryOp, l: Value, r: Value) -> Value {
    if l.is_null() || r.is_null() {
        return Value::Null;
    }
    // A BIGINT time compared with a string: the string is a timestamp (typing allowed it
    // only for ROWTIME and window bounds); a TIMESTAMP, DATE or TIME with a string: the
    // string in that type's ISO form.
    let (l, r) = match (&l, &r) {
        (Value::Timestamp(_) | Value::Date(_) | Value::Time(_), Value::String(t))
            if is_comparison(op) =>
        {
            match temporal_of(&l, t) {
                Some(v) => (l, v),
                None => return Value::Null,
            }
        }
        (Value::String(t), Value::Timestamp(_) | Value::Date(_) | Value::Time(_))
            if is_comparison(op) =>
        {
            match temporal_of(&r, t) {
                Some(v) => (v, r),
                None => return Value::Null,
            }
        }
        (Value::Bigint(_), Value::String(t)) if is_comparison(op) => match parse_timestamp(t) {
            Some(ms) => (l, Value::Bigint(ms)),
            None => return Value::Null,
        },
        (Value::String(t), Value::Bigint(_)) if is_comparison(op) => match parse_timestamp(t) {
            Some(ms) => (Value::Bigint(ms), r),
            None => return Value::Null,
        },
        _ => (l, r),
    };
    let cmp = |f: fn(Ordering) -> bool| match l.sql_cmp(&r) {
        Some(o) => Value::Bool(f(o)),
        None => Value::Null,
    };
    match op {
        BinaryOp::Eq => cmp(|o| o == Ordering::Equal),
        BinaryOp::NotEq => cmp(|o| o != Ordering::Equal),
        BinaryOp::Lt => cmp(|o| o == Ordering::Less),
        BinaryOp::LtEq => cmp(|o| o != Ordering::Greater),
        BinaryOp::Gt => cmp(|o| o == Ordering::Greater),
        BinaryOp::GtEq => cmp(|o| o != Ordering::Less),
        BinaryOp::Concat => Value::String(format!("{}{}", l.render(), r.render())),
        BinaryOp::Add if matches!((&l, &r), (Value::String(_), Value::String(_))) => {
            Value::String(format!("{}{}", l.render(), r.render()))
        }
        _ => arithmetic(op, &l, &r),
    }
}

/// `column <op> 'literal'` (either way round) on a STRING value, compared in place: the
/// common WHERE shape, without copying either string. None when the shape differs.
fn compare_column_with_string(
    left: &Expr,
    op: BinaryOp,
    right: &Expr,
    row: &Row<'_>,
) -> Option<Value> {
    if !is_comparison(op) {
        return None;
    }
    let (name, literal, flipped) = match (left, right) {
        (Expr::Column { name, .. }, Expr::Literal(Literal::String(s))) => (name, s, false),
        (Expr::Literal(Literal::String(s)), Expr::Column { name, .. }) => (name, s, true),
        _ => return None,
    };
    let value = row.values.get(resolve(row.schema, name)?)?;
    let ord = match value {
        Value::Null => return Some(Value::Null),
        Value::String(v) if flipped => literal.as_str().cmp(v.as_str()),
        Value::String(v) => v.as_str().cmp(literal.as_str()),
        _ => return None,
    };
    Some(Value::Bool(match op {
        BinaryOp::Eq => ord == Ordering::Equal,
        BinaryOp::NotEq => ord != Ordering::Equal,
        BinaryOp::Lt => ord == Ordering::Less,
        BinaryOp::LtEq => ord != Ordering::Greater,
        BinaryOp::Gt => ord == Ordering::Greater,
        BinaryOp::GtEq => ord != Ordering::Less,
        _ => return None,
    }))
}

fn is_comparison(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq
    )
}

/// A timestamp string as epoch milliseconds (see [`temporal::parse_timestamp`]).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    temporal::parse_timestamp(s)
}

/// `text` as a value of `like`'s temporal type.
fn temporal_of(like: &Value, text: &str) -> Option<Value> {
    Some(match like {
        Value::Timestamp(_) => Value::Timestamp(temporal::parse_timestamp(text)?),
        Value::Date(_) => Value::Date(i32::try_from(temporal::parse_date(text)?).ok()?),
        Value::Time(_) => Value::Time(temporal::parse_time(text)? as i32),
        _ => return None,
    })
}

/// DECIMAL division at ksqlDB's result scale (`max(6, s1 + p2 + 1)`, p2 the right operand's
/// declared precision); a DOUBLE operand makes it a DOUBLE division. NULL on division by zero.
fn decimal_divide(l: &Value, r: &Value, left: &Expr, right: &Expr, row: &Row<'_>) -> Value {
    if l.is_null() || r.is_null() {
        return Value::Null;
    }
    let (Some(a), Some(b)) = (l.as_decimal(), r.as_decimal()) else {
        return arithmetic(BinaryOp::Divide, l, r);
    };
    let windowed = row.meta.window.is_some();
    let ty = |e: &Expr, v: &Value| match type_of(e, row.schema, windowed) {
        Ok(t) => decimal_type(&t),
        Err(_) => Some((v.as_decimal()?.precision().max(v.as_decimal()?.scale), 0)),
    };
    let (Some(lt), Some(rt)) = (ty(left, l), ty(right, r)) else {
        return Value::Null;
    };
    let (_, scale) = decimal::result_type('/', lt, rt);
    a.div(&b, scale).map_or(Value::Null, Value::Decimal)
}

/// The (precision, scale) of a type that widens to DECIMAL.
pub fn decimal_type(t: &SqlType) -> Option<(u32, u32)> {
    match t {
        SqlType::Int => Some(decimal::int_type(false)),
        SqlType::Bigint => Some(decimal::int_type(true)),
        SqlType::Decimal { precision, scale } => Some((*precision, *scale)),
        _ => None,
    }
}

fn arithmetic(op: BinaryOp, l: &Value, r: &Value) -> Value {
    if matches!((l, r), (Value::Decimal(_), _) | (_, Value::Decimal(_))) {
        if let (Some(a), Some(b)) = (l.as_decimal(), r.as_decimal()) {
            let out = match op {
                BinaryOp::Add => a.add(&b),
                BinaryOp::Subtract => a.sub(&b),
                BinaryOp::Multiply => a.mul(&b),
                BinaryOp::Divide => a.div(&b, 6.max(a.scale + b.precision() + 1)),
                BinaryOp::Modulo => a.rem(&b),
                _ => None,
            };
            return out.map_or(Value::Null, Value::Decimal);
        }
    }
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => {
            let (a, b) = (*a, *b);
            match op {
                BinaryOp::Add => Value::Int(a.wrapping_add(b)),
                BinaryOp::Subtract => Value::Int(a.wrapping_sub(b)),
                BinaryOp::Multiply => Value::Int(a.wrapping_mul(b)),
                BinaryOp::Divide => a.checked_div(b).map_or(Value::Null, Value::Int),
                BinaryOp::Modulo => a.checked_rem(b).map_or(Value::Null, Value::Int),
                _ => Value::Null,
            }
        }
        _ => match (l.as_i64(), r.as_i64()) {
            (Some(a), Some(b)) => match op {
                BinaryOp::Add => Value::Bigint(a.wrapping_add(b)),
                BinaryOp::Subtract => Value::Bigint(a.wrapping_sub(b)),
                BinaryOp::Multiply => Value::Bigint(a.wrapping_mul(b)),
                BinaryOp::Divide => a.checked_div(b).map_or(Value::Null, Value::Bigint),
                BinaryOp::Modulo => a.checked_rem(b).map_or(Value::Null, Value::Bigint),
                _ => Value::Null,
            },
            _ => match (l.as_f64(), r.as_f64()) {
                (Some(a), Some(b)) => Value::Double(match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Subtract => a - b,
                    BinaryOp::Multiply => a * b,
                    BinaryOp::Divide => a / b,
                    BinaryOp::Modulo => a % b,
                    _ => return Value::Null,
                }),
                _ => Value::Null,
            },
        },
    }
}

/// SQL LIKE: `%` any run, `_` one character, `escape` makes the next character literal.
pub fn like(s: &str, pattern: &str, escape: Option<char>) -> bool {
    let s: Vec<char> = s.chars().collect();
    let mut p: Vec<(char, bool)> = Vec::new(); // (char, literal)
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        if Some(c) == escape {
            if let Some(n) = it.next() {
                p.push((n, true));
            }
        } else {
            p.push((c, false));
        }
    }
    // Iterative wildcard matching with backtracking to the last `%`.
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && !p[pi].1 && p[pi].0 == '%' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && ((!p[pi].1 && p[pi].0 == '_') || p[pi].0 == s[si]) {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && !p[pi].1 && p[pi].0 == '%' {
        pi += 1;
    }
    pi == p.len()
}

/// CAST: NULL when the value does not convert (ksqlDB logs and returns null). Which casts
/// exist at all is [`check_cast`]'s (typing) business.
pub fn cast(v: Value, ty: &SqlType) -> Value {
    if v.is_null() {
        return v;
    }
    match ty {
        SqlType::String => Value::String(v.render()),
        SqlType::Int => match v {
            Value::Int(_) => v,
            Value::Bigint(i) => Value::Int(i as i32),
            Value::Double(d) => Value::Int(d as i32),
            // BigDecimal.intValue truncates toward zero.
            Value::Decimal(d) => Value::Int(
                d.unscaled
                    .checked_div(10i128.pow(d.scale.min(38)))
                    .map_or(0, |x| x as i32),
            ),
            Value::String(s) => s.trim().parse().map_or(Value::Null, Value::Int),
            _ => Value::Null,
        },
        SqlType::Bigint => match v {
            Value::Int(i) => Value::Bigint(i as i64),
            Value::Bigint(_) => v,
            Value::Double(d) => Value::Bigint(d as i64),
            Value::Decimal(d) => Value::Bigint(
                // BigDecimal.longValue truncates toward zero.
                d.unscaled
                    .checked_div(10i128.pow(d.scale.min(38)))
                    .map_or(0, |x| x as i64),
            ),
            Value::String(s) => s.trim().parse().map_or(Value::Null, Value::Bigint),
            _ => Value::Null,
        },
        SqlType::Double => match v {
            Value::String(s) => s.trim().parse().map_or(Value::Null, Value::Double),
            other => other.as_f64().map_or(Value::Null, Value::Double),
        },
        SqlType::Decimal { precision, scale } => {
            let d = match &v {
                Value::String(s) => Decimal::parse(s),
                Value::Double(d) => Decimal::from_f64(*d),
                other => other.as_decimal(),
            };
            d.and_then(|d| d.fit(*precision, *scale))
                .map_or(Value::Null, Value::Decimal)
        }
        SqlType::Boolean => match v {
            Value::Bool(_) => v,
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
        SqlType::Timestamp => match v {
            Value::Timestamp(_) => v,
            Value::Date(d) => Value::Timestamp(i64::from(d) * temporal::MS_PER_DAY),
            Value::String(s) => temporal::parse_timestamp(&s).map_or(Value::Null, Value::Timestamp),
            _ => Value::Null,
        },
        SqlType::Date => match v {
            Value::Date(_) => v,
            Value::Timestamp(t) => Value::Date(t.div_euclid(temporal::MS_PER_DAY) as i32),
            Value::String(s) => temporal::parse_date(&s)
                .and_then(|d| i32::try_from(d).ok())
                .map_or(Value::Null, Value::Date),
            _ => Value::Null,
        },
        SqlType::Time => match v {
            Value::Time(_) => v,
            Value::Timestamp(t) => Value::Time(t.rem_euclid(temporal::MS_PER_DAY) as i32),
            Value::String(s) => {
                temporal::parse_time(&s).map_or(Value::Null, |t| Value::Time(t as i32))
            }
            _ => Value::Null,
        },
        SqlType::Bytes => match v {
            Value::Bytes(_) => v,
            Value::String(s) => crate::value::unbase64(&s).map_or(Value::Null, Value::Bytes),
            _ => Value::Null,
        },
        SqlType::Array(inner) => match v {
            Value::Array(a) => Value::Array(a.into_iter().map(|x| cast(x, inner)).collect()),
            _ => Value::Null,
        },
        SqlType::Map(_, vt) => match v {
            Value::Map(m) => Value::Map(m.into_iter().map(|(k, x)| (k, cast(x, vt))).collect()),
            _ => Value::Null,
        },
        _ => v,
    }
}

/// ksqlDB's castability of the types this engine has (`CastEvaluator`): numbers and
/// STRING among themselves, the temporal types to and from STRING and among themselves
/// (not TIME ↔ DATE), BYTES only to BYTES, containers element-wise.
pub fn check_cast(from: &SqlType, to: &SqlType) -> Result<(), SqlError> {
    use SqlType as T;
    let numeric = |t: &T| matches!(t, T::Int | T::Bigint | T::Double | T::Decimal { .. });
    let ok = match (from, to) {
        (a, b) if a == b => true,
        // STRING to BYTES decodes base64; BYTES to STRING is not a cast in ksqlDB.
        (T::String, T::Bytes) => true,
        (T::Bytes, _) | (_, T::Bytes) => false,
        (_, T::String) => true,
        (T::String, T::Timestamp | T::Date | T::Time) => true,
        (T::Timestamp, T::Date | T::Time) | (T::Date, T::Timestamp) => true,
        (T::Timestamp | T::Date | T::Time, _) | (_, T::Timestamp | T::Date | T::Time) => false,
        (a, b) if numeric(a) && numeric(b) => true,
        (T::String, b) if numeric(b) || *b == T::Boolean => true,
        (T::Array(a), T::Array(b)) => return check_cast(a, b),
        (T::Map(_, a), T::Map(_, b)) => return check_cast(a, b),
        (T::Struct(_), T::Struct(_)) => true,
        // Casts among the older types stay as they were: NULL when a value does not convert.
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(SqlError::statement(format!(
            "Cast of {} to {} is not supported",
            type_name(from),
            type_name(to)
        )))
    }
}

fn arg_count(name: &str, args: &[Value], ok: impl Fn(usize) -> bool) -> Result<(), SqlError> {
    if ok(args.len()) {
        Ok(())
    } else {
        Err(SqlError::statement(format!(
            "Function '{name}' does not accept {} arguments",
            args.len()
        )))
    }
}

/// The scalar functions. NULL in gives NULL out except for the null-handling functions.
fn scalar(name: &str, args: Vec<Value>) -> Result<Value, SqlError> {
    let s = |i: usize| match args.get(i) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    Ok(match name {
        "UCASE" | "LCASE" | "LEN" | "TRIM" | "LTRIM" | "RTRIM" => {
            arg_count(name, &args, |n| n == 1)?;
            match s(0) {
                None => Value::Null,
                Some(x) => match name {
                    "UCASE" => Value::String(x.to_uppercase()),
                    "LCASE" => Value::String(x.to_lowercase()),
                    "LEN" => Value::Int(x.chars().count() as i32),
                    "TRIM" => Value::String(x.trim().into()),
                    "LTRIM" => Value::String(x.trim_start().into()),
                    _ => Value::String(x.trim_end().into()),
                },
            }
        }
        "CONCAT" => Value::String(
            args.iter()
                .filter(|v| !v.is_null())
                .map(Value::render)
                .collect(),
        ),
        "SUBSTRING" => {
            arg_count(name, &args, |n| n == 2 || n == 3)?;
            let (Some(x), Some(pos)) = (s(0), args.get(1).and_then(Value::as_i64)) else {
                return Ok(Value::Null);
            };
            let chars: Vec<char> = x.chars().collect();
            let n = chars.len() as i64;
            let start = if pos > 0 {
                pos - 1
            } else if pos < 0 {
                (n + pos).max(0)
            } else {
                0
            };
            let len = match args.get(2) {
                Some(v) => match v.as_i64() {
                    Some(l) => l.max(0),
                    None => return Ok(Value::Null),
                },
                None => n,
            };
            let from = start.clamp(0, n) as usize;
            let to = (start.saturating_add(len)).clamp(0, n) as usize;
            Value::String(chars[from..to.max(from)].iter().collect())
        }
        "INSTR" => {
            arg_count(name, &args, |n| (2..=4).contains(&n))?;
            let (Some(x), Some(sub)) = (s(0), s(1)) else {
                return Ok(Value::Null);
            };
            let position = args.get(2).map_or(Some(1), Value::as_i64);
            let occurrence = args.get(3).map_or(Some(1), Value::as_i64);
            match (position, occurrence) {
                (Some(p), Some(o)) if p != 0 && o > 0 => Value::Int(instr(x, sub, p, o)),
                _ => Value::Int(0),
            }
        }
        "LPAD" | "RPAD" => {
            arg_count(name, &args, |n| n == 3)?;
            match (s(0), args[1].as_i64(), s(2)) {
                // ksqlDB: an empty padding string gives NULL.
                (Some(_), Some(_), Some("")) => Value::Null,
                (Some(x), Some(len), Some(pad)) if len >= 0 => {
                    let len = len as usize;
                    let chars: Vec<char> = x.chars().collect();
                    if chars.len() >= len {
                        Value::String(chars[..len.min(chars.len())].iter().collect())
                    } else {
                        let fill: String = pad.chars().cycle().take(len - chars.len()).collect();
                        Value::String(if name == "LPAD" {
                            format!("{fill}{x}")
                        } else {
                            format!("{x}{fill}")
                        })
                    }
                }
                _ => Value::Null,
            }
        }
        "REPLACE" => match (s(0), s(1), s(2)) {
            (Some(x), Some(a), Some(b)) => Value::String(x.replace(a, b)),
            _ => Value::Null,
        },
        "ABS" => match args.first() {
            Some(Value::Int(i)) => Value::Int(i.wrapping_abs()),
            Some(Value::Bigint(i)) => Value::Bigint(i.wrapping_abs()),
            Some(Value::Double(d)) => Value::Double(d.abs()),
            Some(Value::Decimal(d)) => Value::Decimal(Decimal::new(d.unscaled.abs(), d.scale)),
            _ => Value::Null,
        },
        "CEIL" | "FLOOR" => match args.first() {
            Some(Value::Double(d)) => {
                Value::Double(if name == "CEIL" { d.ceil() } else { d.floor() })
            }
            Some(Value::Decimal(d)) => {
                let unit = 10i128.pow(d.scale.min(38));
                let q = d.unscaled.div_euclid(unit);
                let exact = d.unscaled.rem_euclid(unit) == 0;
                let v = if name == "CEIL" && !exact { q + 1 } else { q };
                Value::Decimal(Decimal::new(v, 0))
            }
            Some(v @ (Value::Int(_) | Value::Bigint(_))) => v.clone(),
            _ => Value::Null,
        },
        "ROUND" => {
            arg_count(name, &args, |n| n == 1 || n == 2)?;
            let digits = args.get(1).and_then(Value::as_i64);
            match (args.first(), digits) {
                (Some(Value::Double(d)), None) => Value::Bigint(round_half_up(*d, 0) as i64),
                (Some(Value::Double(d)), Some(n)) => Value::Double(round_half_up(*d, n as i32)),
                (Some(v @ (Value::Int(_) | Value::Bigint(_))), _) => v.clone(),
                (Some(Value::Decimal(d)), None) => d.rescale(0).map_or(Value::Null, Value::Decimal),
                // Rounded at `n` places, kept at the value's scale (its type).
                (Some(Value::Decimal(d)), Some(n)) => {
                    let places = n.clamp(0, i64::from(d.scale)) as u32;
                    d.rescale(places)
                        .and_then(|r| r.rescale(d.scale))
                        .map_or(Value::Null, Value::Decimal)
                }
                _ => Value::Null,
            }
        }
        "SQRT" => args
            .first()
            .and_then(Value::as_f64)
            .map_or(Value::Null, |d| Value::Double(d.sqrt())),
        "IFNULL" => {
            arg_count(name, &args, |n| n == 2)?;
            let mut a = args.into_iter();
            match (a.next(), a.next()) {
                (Some(Value::Null), Some(b)) => b,
                (Some(x), _) => x,
                _ => Value::Null,
            }
        }
        "COALESCE" => args
            .into_iter()
            .find(|v| !v.is_null())
            .unwrap_or(Value::Null),
        "NULLIF" => {
            arg_count(name, &args, |n| n == 2)?;
            if args[0].sql_cmp(&args[1]) == Some(Ordering::Equal) {
                Value::Null
            } else {
                args[0].clone()
            }
        }
        "AS_VALUE" => {
            arg_count(name, &args, |n| n == 1)?;
            args.into_iter().next().unwrap_or(Value::Null)
        }
        "INITCAP" => match s(0) {
            Some(x) => Value::String(initcap(x)),
            None => Value::Null,
        },
        "ARRAY_LENGTH" => match args.first() {
            Some(Value::Array(a)) => Value::Int(a.len() as i32),
            _ => Value::Null,
        },
        _ if is_temporal_function(name) => return temporal_function(name, &args),
        other => {
            return Err(SqlError::statement(format!(
                "Can't find any functions with the name '{other}'"
            )))
        }
    })
}

/// The date/time and bytes functions of [`temporal_function`].
pub fn is_temporal_function(name: &str) -> bool {
    matches!(
        name,
        "FORMAT_TIMESTAMP"
            | "PARSE_TIMESTAMP"
            | "FORMAT_DATE"
            | "PARSE_DATE"
            | "FORMAT_TIME"
            | "PARSE_TIME"
            | "FROM_UNIXTIME"
            | "UNIX_TIMESTAMP"
            | "UNIX_DATE"
            | "TIMESTAMPADD"
            | "TIMESTAMPSUB"
            | "DATEADD"
            | "DATESUB"
            | "TIMEADD"
            | "TIMESUB"
            | "CONVERT_TZ"
            | "TIMESTAMPTOSTRING"
            | "STRINGTOTIMESTAMP"
            | "DATETOSTRING"
            | "STRINGTODATE"
            | "FROM_BYTES"
            | "TO_BYTES"
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A function's failure on one row: ksqlDB logs it and the value is NULL; a malformed
/// pattern or zone is the same failure on every row, so also NULL here (the statement runs).
fn temporal_function(name: &str, args: &[Value]) -> Result<Value, SqlError> {
    let n = args.len();
    let arity = |ok: &[usize]| arg_count(name, args, |k| ok.contains(&k));
    let text = |i: usize| match args.get(i) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    // An optional time zone argument at `i` (UTC when absent).
    let zone = |i: usize| -> Option<i64> {
        match args.get(i) {
            None => Some(0),
            Some(Value::String(z)) => temporal::zone_offset(z).ok(),
            _ => None,
        }
    };
    let ms = |i: usize| match args.get(i) {
        Some(Value::Timestamp(t) | Value::Bigint(t)) => Some(*t),
        Some(Value::Int(t)) => Some(i64::from(*t)),
        _ => None,
    };
    let out = match name {
        "FORMAT_TIMESTAMP" | "TIMESTAMPTOSTRING" => {
            arity(&[2, 3])?;
            (|| {
                let s = temporal::format_pattern(ms(0)?, text(1)?, zone(2)?).ok()?;
                Some(Value::String(s))
            })()
        }
        "PARSE_TIMESTAMP" | "STRINGTOTIMESTAMP" => {
            arity(&[2, 3])?;
            (|| {
                let t = temporal::parse_pattern(text(0)?, text(1)?, zone(2)?).ok()?;
                Some(if name == "PARSE_TIMESTAMP" {
                    Value::Timestamp(t)
                } else {
                    Value::Bigint(t)
                })
            })()
        }
        "FORMAT_DATE" | "DATETOSTRING" => {
            arity(&[2])?;
            (|| {
                let days = match args.first()? {
                    Value::Date(d) | Value::Int(d) => i64::from(*d),
                    _ => return None,
                };
                let s = temporal::format_pattern(days * temporal::MS_PER_DAY, text(1)?, 0).ok()?;
                Some(Value::String(s))
            })()
        }
        "PARSE_DATE" | "STRINGTODATE" => {
            arity(&[2])?;
            (|| {
                let t = temporal::parse_pattern(text(0)?, text(1)?, 0).ok()?;
                let days = i32::try_from(t.div_euclid(temporal::MS_PER_DAY)).ok()?;
                Some(if name == "PARSE_DATE" {
                    Value::Date(days)
                } else {
                    Value::Int(days)
                })
            })()
        }
        "FORMAT_TIME" => {
            arity(&[2])?;
            (|| {
                let Value::Time(t) = args.first()? else {
                    return None;
                };
                let s = temporal::format_pattern(i64::from(*t), text(1)?, 0).ok()?;
                Some(Value::String(s))
            })()
        }
        "PARSE_TIME" => {
            arity(&[2])?;
            (|| {
                let t = temporal::parse_pattern(text(0)?, text(1)?, 0).ok()?;
                Some(Value::Time(t.rem_euclid(temporal::MS_PER_DAY) as i32))
            })()
        }
        "FROM_UNIXTIME" => {
            arity(&[1])?;
            ms(0).map(Value::Timestamp)
        }
        "UNIX_TIMESTAMP" => {
            arity(&[0, 1])?;
            if n == 0 {
                Some(Value::Bigint(now_ms()))
            } else {
                ms(0).map(Value::Bigint)
            }
        }
        "UNIX_DATE" => {
            arity(&[0, 1])?;
            if n == 0 {
                Some(Value::Int(now_ms().div_euclid(temporal::MS_PER_DAY) as i32))
            } else {
                match args.first() {
                    Some(Value::Date(d)) => Some(Value::Int(*d)),
                    _ => None,
                }
            }
        }
        "TIMESTAMPADD" | "TIMESTAMPSUB" | "DATEADD" | "DATESUB" | "TIMEADD" | "TIMESUB" => {
            arity(&[3])?;
            (|| {
                let unit = args.first()?.as_i64()?;
                let amount = args.get(1)?.as_i64()?;
                let sign = if name.ends_with("SUB") { -1 } else { 1 };
                let delta = unit.checked_mul(amount)?.checked_mul(sign)?;
                Some(match args.get(2)? {
                    Value::Timestamp(t) => Value::Timestamp(t.checked_add(delta)?),
                    Value::Date(d) => {
                        // Whole days only, as ksqlDB's DATEADD (a smaller unit is an error there).
                        if unit < temporal::MS_PER_DAY {
                            return None;
                        }
                        let days = i64::from(*d) + delta / temporal::MS_PER_DAY;
                        Value::Date(i32::try_from(days).ok()?)
                    }
                    Value::Time(t) => {
                        if unit >= temporal::MS_PER_DAY {
                            return None;
                        }
                        Value::Time((i64::from(*t) + delta).rem_euclid(temporal::MS_PER_DAY) as i32)
                    }
                    _ => return None,
                })
            })()
        }
        "CONVERT_TZ" => {
            arity(&[3])?;
            (|| {
                let t = ms(0)?;
                Some(Value::Timestamp(
                    t.checked_sub(zone(1)?)?.checked_add(zone(2)?)?,
                ))
            })()
        }
        "FROM_BYTES" => {
            arity(&[2])?;
            (|| {
                let Value::Bytes(b) = args.first()? else {
                    return None;
                };
                Some(Value::String(
                    match text(1)?.to_ascii_lowercase().as_str() {
                        "hex" => b.iter().map(|x| format!("{x:02X}")).collect(),
                        "utf8" => String::from_utf8(b.clone()).ok()?,
                        "ascii" => b.iter().map(|x| char::from(*x & 0x7f)).collect(),
                        "base64" => crate::value::base64(b),
                        _ => return None,
                    },
                ))
            })()
        }
        "TO_BYTES" => {
            arity(&[2])?;
            (|| {
                let s = text(0)?;
                Some(Value::Bytes(match text(1)?.to_ascii_lowercase().as_str() {
                    "hex" => {
                        if s.len() % 2 != 0 {
                            return None;
                        }
                        (0..s.len())
                            .step_by(2)
                            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
                            .collect::<Option<_>>()?
                    }
                    "utf8" => s.as_bytes().to_vec(),
                    "ascii" => s.bytes().collect(),
                    "base64" => crate::value::unbase64(s)?,
                    _ => return None,
                }))
            })()
        }
        other => {
            return Err(SqlError::statement(format!(
                "Can't find any functions with the name '{other}'"
            )))
        }
    };
    Ok(out.unwrap_or(Value::Null))
}

/// The return type of a function of [`temporal_function`].
fn temporal_function_type(
    name: &str,
    args: &[Expr],
    t: &dyn Fn(&Expr) -> Result<SqlType, SqlError>,
) -> Result<SqlType, SqlError> {
    let mut types = Vec::new();
    for a in args {
        types.push(match a {
            Expr::TimeUnit(_) => None,
            a => Some(t(a)?),
        });
    }
    let bad = || {
        SqlError::statement(format!(
            "Function '{name}' does not accept parameters ({}).",
            types
                .iter()
                .map(|x| x.as_ref().map_or("INTERVALUNIT".to_string(), type_name))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    let is = |i: usize, want: &[SqlType]| match types.get(i) {
        Some(Some(ty)) => want.contains(ty),
        _ => false,
    };
    let unit = |i: usize| matches!(args.get(i), Some(Expr::TimeUnit(_)));
    let string = [SqlType::String];
    let ok = match name {
        "FORMAT_TIMESTAMP" => {
            is(0, &[SqlType::Timestamp]) && is(1, &string) && (types.len() == 2 || is(2, &string))
        }
        "TIMESTAMPTOSTRING" => {
            is(0, &[SqlType::Bigint, SqlType::Int])
                && is(1, &string)
                && (types.len() == 2 || is(2, &string))
        }
        "PARSE_TIMESTAMP" | "STRINGTOTIMESTAMP" => {
            is(0, &string) && is(1, &string) && (types.len() == 2 || is(2, &string))
        }
        "FORMAT_DATE" => is(0, &[SqlType::Date]) && is(1, &string),
        "DATETOSTRING" => is(0, &[SqlType::Int]) && is(1, &string),
        "FORMAT_TIME" => is(0, &[SqlType::Time]) && is(1, &string),
        "PARSE_DATE" | "PARSE_TIME" | "STRINGTODATE" => is(0, &string) && is(1, &string),
        "FROM_UNIXTIME" => is(0, &[SqlType::Bigint, SqlType::Int]),
        "UNIX_TIMESTAMP" => types.is_empty() || is(0, &[SqlType::Timestamp]),
        "UNIX_DATE" => types.is_empty() || is(0, &[SqlType::Date]),
        "TIMESTAMPADD" | "TIMESTAMPSUB" => {
            unit(0) && is(1, &[SqlType::Int, SqlType::Bigint]) && is(2, &[SqlType::Timestamp])
        }
        "DATEADD" | "DATESUB" => {
            unit(0) && is(1, &[SqlType::Int, SqlType::Bigint]) && is(2, &[SqlType::Date])
        }
        "TIMEADD" | "TIMESUB" => {
            unit(0) && is(1, &[SqlType::Int, SqlType::Bigint]) && is(2, &[SqlType::Time])
        }
        "CONVERT_TZ" => is(0, &[SqlType::Timestamp]) && is(1, &string) && is(2, &string),
        "FROM_BYTES" => is(0, &[SqlType::Bytes]) && is(1, &string),
        "TO_BYTES" => is(0, &string) && is(1, &string),
        _ => false,
    };
    // A NULL literal argument types as STRING here; let it through (NULL in, NULL out).
    let has_null = args
        .iter()
        .any(|a| matches!(a, Expr::Literal(Literal::Null)));
    if !ok && !has_null {
        return Err(bad());
    }
    Ok(match name {
        "FORMAT_TIMESTAMP" | "TIMESTAMPTOSTRING" | "FORMAT_DATE" | "DATETOSTRING"
        | "FORMAT_TIME" | "FROM_BYTES" => SqlType::String,
        "PARSE_TIMESTAMP" | "FROM_UNIXTIME" | "TIMESTAMPADD" | "TIMESTAMPSUB" | "CONVERT_TZ" => {
            SqlType::Timestamp
        }
        "STRINGTOTIMESTAMP" | "UNIX_TIMESTAMP" => SqlType::Bigint,
        "PARSE_DATE" | "DATEADD" | "DATESUB" => SqlType::Date,
        "PARSE_TIME" | "TIMEADD" | "TIMESUB" => SqlType::Time,
        "STRINGTODATE" | "UNIX_DATE" => SqlType::Int,
        _ => SqlType::Bytes,
    })
}

/// ksqlDB's INSTR: the 1-based character position of the `occurrence`-th `sub` searching
/// forward from `position`, or backward from `-position` characters before the end; 0 if none.
fn instr(x: &str, sub: &str, position: i64, occurrence: i64) -> i32 {
    let chars: Vec<char> = x.chars().collect();
    let needle: Vec<char> = sub.chars().collect();
    let n = chars.len() as i64;
    let at = |i: i64| {
        i >= 0
            && i + needle.len() as i64 <= n
            && chars[i as usize..i as usize + needle.len()] == needle[..]
    };
    let mut found = 0;
    if position > 0 {
        let mut i = position - 1;
        while i < n {
            if at(i) {
                found += 1;
                if found == occurrence {
                    return (i + 1) as i32;
                }
            }
            i += 1;
        }
    } else {
        let mut i = n + position;
        while i >= 0 {
            if at(i) {
                found += 1;
                if found == occurrence {
                    return (i + 1) as i32;
                }
            }
            i -= 1;
        }
    }
    0
}

/// Upper-cases the first letter of each space-separated word, lower-cases the rest.
fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c.is_whitespace();
    }
    out
}

/// Java's `Math.round`-style half-up rounding at `digits` decimals.
fn round_half_up(d: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (d * f + 0.5).floor() / f
}

/// The aggregate functions this engine runs.
pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "COUNT"
            | "SUM"
            | "AVG"
            | "MIN"
            | "MAX"
            | "COLLECT_LIST"
            | "COLLECT_SET"
            | "EARLIEST_BY_OFFSET"
            | "LATEST_BY_OFFSET"
            | "COUNT_DISTINCT"
            | "TOPK"
            | "TOPKDISTINCT"
    )
}

/// The type of `expr` over `schema`, or the statement error ksqlDB gives.
pub fn type_of(expr: &Expr, schema: &[Column], windowed: bool) -> Result<SqlType, SqlError> {
    let t = |e: &Expr| type_of(e, schema, windowed);
    Ok(match expr {
        Expr::Column { name, .. } => match resolve(schema, name) {
            Some(i) => schema[i].ty.clone(),
            None => pseudo_type(name.as_str(), windowed).ok_or_else(|| unknown_column(name))?,
        },
        Expr::Literal(l) => match literal(l) {
            Value::Int(_) => SqlType::Int,
            Value::Bigint(_) => SqlType::Bigint,
            Value::Double(_) => SqlType::Double,
            // ksqlDB types `1.50` as DECIMAL(3, 2), `0.05` as DECIMAL(2, 2).
            Value::Decimal(d) => SqlType::Decimal {
                precision: d.precision().max(d.scale).max(1),
                scale: d.scale,
            },
            Value::Bool(_) => SqlType::Boolean,
            _ => SqlType::String,
        },
        Expr::InList {
            expr: item, list, ..
        } if t(item)? == SqlType::Boolean => {
            // ksqlDB coerces the list to BOOLEAN: only boolean values or 'true'/'false' text.
            for e in list {
                match (e, t(e)?) {
                    (_, SqlType::Boolean) => {}
                    (Expr::Literal(Literal::String(s)), _) => {
                        if !s.eq_ignore_ascii_case("true") && !s.eq_ignore_ascii_case("false") {
                            return Err(SqlError::statement(format!(
                                "Invalid Predicate: invalid input syntax for type BOOLEAN: \"{s}\"."
                            )));
                        }
                    }
                    (e, other) => {
                        return Err(SqlError::statement(format!(
                            "Invalid Predicate: operator does not exist: BOOLEAN = {} ({e})\nHint: You might need to add explicit type casts.",
                            type_name(&other)
                        )))
                    }
                }
            }
            SqlType::Boolean
        }
        Expr::Unary {
            op: UnaryOp::Not, ..
        }
        | Expr::Between { .. }
        | Expr::InList { .. }
        | Expr::Like { .. }
        | Expr::IsNull { .. }
        | Expr::IsDistinctFrom { .. } => {
            visit_children(expr, &mut |e| t(e).map(|_| ()))?;
            SqlType::Boolean
        }
        Expr::Unary { expr, .. } => t(expr)?,
        Expr::Binary { left, op, right } => {
            let (l, r) = (t(left)?, t(right)?);
            match op {
                BinaryOp::And | BinaryOp::Or => {
                    for side in [&l, &r] {
                        if *side != SqlType::Boolean {
                            return Err(SqlError::statement(format!(
                                "Logical binary expects two boolean values.  Actual {} and {}",
                                type_name(&l),
                                type_name(&r)
                            )));
                        }
                    }
                    SqlType::Boolean
                }
                BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq => {
                    let numeric = |x: &SqlType| {
                        matches!(
                            x,
                            SqlType::Int
                                | SqlType::Bigint
                                | SqlType::Double
                                | SqlType::Decimal { .. }
                        )
                    };
                    // ROWTIME and window bounds compare with timestamp strings.
                    let time_col = |e: &Expr| {
                        matches!(e, Expr::Column { name, .. }
                            if matches!(name.as_str(), "ROWTIME" | "WINDOWSTART" | "WINDOWEND"))
                    };
                    let temporal = |x: &SqlType| {
                        matches!(x, SqlType::Timestamp | SqlType::Date | SqlType::Time)
                    };
                    let time_vs_string = (time_col(left) && r == SqlType::String)
                        || (time_col(right) && l == SqlType::String)
                        || (temporal(&l) && r == SqlType::String)
                        || (temporal(&r) && l == SqlType::String)
                        || matches!(
                            (&l, &r),
                            (SqlType::Timestamp, SqlType::Date)
                                | (SqlType::Date, SqlType::Timestamp)
                        );
                    if !(l == r || time_vs_string || numeric(&l) && numeric(&r)) {
                        return Err(SqlError::statement(format!(
                            "Cannot compare {} ({}) to {} ({}) with {}.",
                            left,
                            type_name(&l),
                            right,
                            type_name(&r),
                            op_symbol(*op)
                        )));
                    }
                    SqlType::Boolean
                }
                BinaryOp::Concat => SqlType::String,
                _ => match (&l, &r) {
                    (SqlType::String, SqlType::String) if *op == BinaryOp::Add => SqlType::String,
                    (SqlType::Int, SqlType::Int) => SqlType::Int,
                    (SqlType::Int | SqlType::Bigint, SqlType::Int | SqlType::Bigint) => {
                        SqlType::Bigint
                    }
                    (
                        SqlType::Decimal { .. },
                        SqlType::Int | SqlType::Bigint | SqlType::Decimal { .. },
                    )
                    | (SqlType::Int | SqlType::Bigint, SqlType::Decimal { .. }) => {
                        let c = match op {
                            BinaryOp::Add => '+',
                            BinaryOp::Subtract => '-',
                            BinaryOp::Multiply => '*',
                            BinaryOp::Divide => '/',
                            _ => '%',
                        };
                        let (precision, scale) = decimal::result_type(
                            c,
                            decimal_type(&l).unwrap_or((10, 0)),
                            decimal_type(&r).unwrap_or((10, 0)),
                        );
                        SqlType::Decimal { precision, scale }
                    }
                    (
                        SqlType::Int | SqlType::Bigint | SqlType::Double | SqlType::Decimal { .. },
                        SqlType::Int | SqlType::Bigint | SqlType::Double | SqlType::Decimal { .. },
                    ) => SqlType::Double,
                    _ => {
                        return Err(SqlError::statement(format!(
                            "Error processing expression: {}. Unsupported arithmetic types. {} {}",
                            expr,
                            type_name(&l),
                            type_name(&r)
                        )))
                    }
                },
            }
        }
        Expr::Case {
            whens, else_result, ..
        } => match whens.first() {
            Some((_, then)) => t(then)?,
            None => match else_result {
                Some(e) => t(e)?,
                None => SqlType::String,
            },
        },
        Expr::Cast { expr, ty } => {
            crate::catalog::check_type(ty)?;
            check_cast(&t(expr)?, ty)?;
            ty.clone()
        }
        Expr::Function { name, args, star } => {
            let arg = |i: usize| args.get(i).map(&t).transpose();
            match name.as_str() {
                "COUNT" | "COUNT_DISTINCT" => {
                    if !*star {
                        arg(0)?;
                    }
                    SqlType::Bigint
                }
                "SUM" | "MIN" | "MAX" | "EARLIEST_BY_OFFSET" | "LATEST_BY_OFFSET" | "ABS"
                | "AS_VALUE" | "IFNULL" | "COALESCE" | "NULLIF" => {
                    arg(0)?.unwrap_or(SqlType::String)
                }
                "AVG" | "SQRT" => SqlType::Double,
                "COLLECT_LIST" | "COLLECT_SET" => {
                    SqlType::Array(Box::new(arg(0)?.unwrap_or(SqlType::String)))
                }
                "TOPK" | "TOPKDISTINCT" => {
                    let k = match args.get(1) {
                        Some(Expr::Literal(crate::ast::Literal::Integer(k))) if args.len() == 2 => {
                            *k
                        }
                        _ => {
                            return Err(SqlError::statement(format!(
                                "Function '{}' takes a column and an INT literal: {name}(col, k)",
                                name.0
                            )))
                        }
                    };
                    if k < 1 {
                        return Err(SqlError::statement(format!(
                            "{}: k must be a positive integer, got {k}",
                            name.0
                        )));
                    }
                    let ty = arg(0)?.unwrap_or(SqlType::String);
                    if !matches!(
                        ty,
                        SqlType::Int
                            | SqlType::Bigint
                            | SqlType::Double
                            | SqlType::String
                            | SqlType::Decimal { .. }
                            | SqlType::Timestamp
                            | SqlType::Date
                            | SqlType::Time
                    ) {
                        return Err(SqlError::statement(format!(
                            "Function '{}' does not accept parameters ({}).",
                            name.0,
                            crate::value::type_name(&ty)
                        )));
                    }
                    SqlType::Array(Box::new(ty))
                }
                "CEIL" | "FLOOR" => match arg(0)? {
                    Some(SqlType::Decimal { precision, scale }) => SqlType::Decimal {
                        precision: (precision - scale.min(precision) + 1).min(38),
                        scale: 0,
                    },
                    other => other.unwrap_or(SqlType::String),
                },
                "ROUND" => match (arg(0)?, args.len()) {
                    (Some(SqlType::Double), 1) => SqlType::Bigint,
                    (Some(SqlType::Decimal { precision, scale }), 1) => SqlType::Decimal {
                        precision: (precision - scale.min(precision) + 1).min(38),
                        scale: 0,
                    },
                    (Some(ty), _) => ty,
                    (None, _) => SqlType::Bigint,
                },
                "LEN" | "ARRAY_LENGTH" | "INSTR" => SqlType::Int,
                n if is_temporal_function(n) => temporal_function_type(n, args, &t)?,
                "UCASE" | "LCASE" | "INITCAP" | "LPAD" | "RPAD" | "TRIM" | "LTRIM" | "RTRIM"
                | "CONCAT" | "SUBSTRING" | "REPLACE" => {
                    for a in args {
                        t(a)?;
                    }
                    SqlType::String
                }
                other => {
                    return Err(SqlError::statement(format!(
                        "Can't find any functions with the name '{other}'"
                    )))
                }
            }
        }
        Expr::Subscript { base, .. } => match t(base)? {
            SqlType::Array(e) => *e,
            SqlType::Map(_, v) => *v,
            other => {
                return Err(SqlError::statement(format!(
                    "Cannot subscript a value of type {}",
                    type_name(&other)
                )))
            }
        },
        Expr::Dereference { base, field } => match t(base)? {
            SqlType::Struct(fields) => fields
                .into_iter()
                .find(|(n, _)| n == field)
                .map(|(_, ty)| ty)
                .ok_or_else(|| unknown_column(field))?,
            _ => return Err(unknown_column(field)),
        },
        Expr::Array(items) => SqlType::Array(Box::new(
            items
                .first()
                .map(&t)
                .transpose()?
                .unwrap_or(SqlType::String),
        )),
        Expr::Map(entries) => SqlType::Map(
            Box::new(SqlType::String),
            Box::new(
                entries
                    .first()
                    .map(|(_, v)| t(v))
                    .transpose()?
                    .unwrap_or(SqlType::String),
            ),
        ),
        Expr::Struct(fields) => SqlType::Struct(
            fields
                .iter()
                .map(|(n, e)| Ok((n.clone(), t(e)?)))
                .collect::<Result<_, SqlError>>()?,
        ),
        Expr::TimeUnit(_) | Expr::Lambda { .. } => {
            return Err(SqlError::statement(
                "Lambdas and time units are only allowed as function arguments",
            ))
        }
    })
}

fn op_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Eq => "=",
        BinaryOp::NotEq => "<>",
        BinaryOp::Lt => "<",
        BinaryOp::LtEq => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::GtEq => ">=",
        _ => "?",
    }
}

/// Calls `f` on each direct child of `expr`.
pub fn visit_children(
    expr: &Expr,
    f: &mut dyn FnMut(&Expr) -> Result<(), SqlError>,
) -> Result<(), SqlError> {
    match expr {
        Expr::Column { .. } | Expr::Literal(_) | Expr::TimeUnit(_) => Ok(()),
        Expr::Unary { expr, .. } | Expr::IsNull { expr, .. } | Expr::Cast { expr, .. } => f(expr),
        Expr::Binary { left, right, .. } | Expr::IsDistinctFrom { left, right, .. } => {
            f(left)?;
            f(right)
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            f(expr)?;
            f(low)?;
            f(high)
        }
        Expr::InList { expr, list, .. } => {
            f(expr)?;
            list.iter().try_for_each(f)
        }
        Expr::Like { expr, pattern, .. } => {
            f(expr)?;
            f(pattern)
        }
        Expr::Case {
            operand,
            whens,
            else_result,
        } => {
            if let Some(o) = operand {
                f(o)?;
            }
            for (w, t) in whens {
                f(w)?;
                f(t)?;
            }
            else_result.as_deref().map_or(Ok(()), f)
        }
        Expr::Function { args, .. } | Expr::Array(args) => args.iter().try_for_each(f),
        Expr::Subscript { base, index } => {
            f(base)?;
            f(index)
        }
        Expr::Dereference { base, .. } => f(base),
        Expr::Map(entries) => entries.iter().try_for_each(|(k, v)| {
            f(k)?;
            f(v)
        }),
        Expr::Struct(fields) => fields.iter().try_for_each(|(_, e)| f(e)),
        Expr::Lambda { body, .. } => f(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Column, ColumnKind};

    fn eval_sql(sql: &str) -> Value {
        let schema = vec![
            Column::new("APP", SqlType::String, ColumnKind::Value),
            Column::new("N", SqlType::Int, ColumnKind::Value),
            Column::new("MISSING", SqlType::Int, ColumnKind::Value),
        ];
        let values = vec![
            Value::String("order-service".into()),
            Value::Int(7),
            Value::Null,
        ];
        let q = match crate::parse_statement(&format!("SELECT {sql} FROM S;")).unwrap() {
            crate::Statement::Query(q) => q,
            other => panic!("not a query: {other:?}"),
        };
        let crate::SelectItem::Expr { expr, .. } = &q.select[0] else {
            panic!("no expression")
        };
        let row = Row {
            schema: &schema,
            values: &values,
            meta: RowMeta {
                rowtime: 42,
                ..RowMeta::default()
            },
        };
        eval(expr, &row).unwrap()
    }

    #[test]
    fn operators_follow_sql_null_semantics() {
        assert_eq!(eval_sql("N + 1"), Value::Int(8));
        assert_eq!(eval_sql("N / 0"), Value::Null);
        // ksqlDB: 2.0 is DECIMAL(2, 1); INT / DECIMAL(2, 1) is DECIMAL(17, 6).
        assert_eq!(
            eval_sql("N / 2.0"),
            Value::Decimal(Decimal::new(3_500_000, 6))
        );
        assert_eq!(eval_sql("N / 2.0E0"), Value::Double(3.5));
        assert_eq!(eval_sql("MISSING + 1"), Value::Null);
        assert_eq!(eval_sql("MISSING = 1 OR N = 7"), Value::Bool(true));
        assert_eq!(eval_sql("MISSING = 1 AND N = 7"), Value::Null);
        assert_eq!(eval_sql("MISSING IS NULL"), Value::Bool(true));
        assert_eq!(eval_sql("N BETWEEN 1 AND 7"), Value::Bool(true));
        assert_eq!(eval_sql("N IN (1, 2)"), Value::Bool(false));
        assert_eq!(eval_sql("N IN (1, NULL)"), Value::Null);
        assert_eq!(eval_sql("APP LIKE 'order%'"), Value::Bool(true));
        assert_eq!(eval_sql("APP LIKE '%-serv_ce'"), Value::Bool(true));
        assert_eq!(eval_sql("APP LIKE 'x%'"), Value::Bool(false));
        assert_eq!(eval_sql("ROWTIME"), Value::Bigint(42));
        assert_eq!(
            eval_sql("ROWTIME > '1970-01-01T00:00:00.041'"),
            Value::Bool(true)
        );
        assert_eq!(eval_sql("ROWTIME < '1970-01-01'"), Value::Bool(false));
        assert_eq!(
            parse_timestamp("2020-02-29T12:30:00Z"),
            Some(1_582_979_400_000)
        );
        assert_eq!(
            parse_timestamp("2020-02-29T13:30:00+01:00"),
            Some(1_582_979_400_000)
        );
        assert_eq!(parse_timestamp("nope"), None);
    }

    /// Evaluates and types `sql` over a row of the new types.
    fn typed(sql: &str) -> (Value, Result<SqlType, SqlError>) {
        let schema = vec![
            Column::new("TS", SqlType::Timestamp, ColumnKind::Value),
            Column::new("D", SqlType::Date, ColumnKind::Value),
            Column::new("T", SqlType::Time, ColumnKind::Value),
            Column::new(
                "PRICE",
                SqlType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                ColumnKind::Value,
            ),
            Column::new(
                "QTY",
                SqlType::Decimal {
                    precision: 5,
                    scale: 1,
                },
                ColumnKind::Value,
            ),
            Column::new("B", SqlType::Bytes, ColumnKind::Value),
            Column::new("N", SqlType::Int, ColumnKind::Value),
        ];
        let values = vec![
            Value::Timestamp(1_609_502_400_000), // 2021-01-01T12:00:00Z
            Value::Date(18_628),
            Value::Time(45_000_000),
            Value::Decimal(Decimal::new(1999, 2)),
            Value::Decimal(Decimal::new(25, 1)),
            Value::Bytes(vec![0xca, 0xfe]),
            Value::Int(3),
        ];
        let q = match crate::parse_statement(&format!("SELECT {sql} FROM S;")).unwrap() {
            crate::Statement::Query(q) => q,
            other => panic!("not a query: {other:?}"),
        };
        let crate::SelectItem::Expr { expr, .. } = &q.select[0] else {
            panic!("no expression")
        };
        let row = Row {
            schema: &schema,
            values: &values,
            meta: RowMeta::default(),
        };
        (eval(expr, &row).unwrap(), type_of(expr, &schema, false))
    }

    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::parse(s).unwrap())
    }

    fn dec_type(precision: u32, scale: u32) -> SqlType {
        SqlType::Decimal { precision, scale }
    }

    #[test]
    fn decimal_arithmetic_keeps_ksqldbs_precision_and_scale() {
        assert_eq!(typed("PRICE + QTY"), (dec("22.49"), Ok(dec_type(11, 2))));
        assert_eq!(typed("PRICE - QTY"), (dec("17.49"), Ok(dec_type(11, 2))));
        assert_eq!(typed("PRICE * QTY"), (dec("49.975"), Ok(dec_type(16, 3))));
        assert_eq!(
            typed("PRICE / QTY"),
            (dec("7.99600000"), Ok(dec_type(17, 8)))
        );
        assert_eq!(typed("PRICE % QTY"), (dec("2.49"), Ok(dec_type(6, 2))));
        // INT widens to DECIMAL(10, 0).
        assert_eq!(typed("PRICE * N"), (dec("59.97"), Ok(dec_type(21, 2))));
        assert_eq!(typed("PRICE / 0"), (Value::Null, Ok(dec_type(21, 13))));
        // 0.1 + 0.2 is exact.
        assert_eq!(typed("0.1 + 0.2").0, dec("0.3"));
        assert_eq!(typed("PRICE > 19.9").0, Value::Bool(true));
        assert_eq!(typed("PRICE = 19.990").0, Value::Bool(true));
        assert_eq!(
            typed("CAST(PRICE AS STRING)").0,
            Value::String("19.99".into())
        );
        assert_eq!(typed("CAST(PRICE AS INT)").0, Value::Int(19));
        assert_eq!(typed("CAST('1.005' AS DECIMAL(4, 2))").0, dec("1.01"));
        assert_eq!(typed("CAST('123.4' AS DECIMAL(3, 1))").0, Value::Null);
        assert_eq!(typed("ROUND(PRICE)"), (dec("20"), Ok(dec_type(9, 0))));
        assert_eq!(typed("ROUND(PRICE, 1)").0, dec("20.00"));
        assert_eq!(typed("FLOOR(PRICE)").0, dec("19"));
        assert_eq!(typed("CEIL(PRICE)").0, dec("20"));
        assert_eq!(typed("ABS(-PRICE)").0, dec("19.99"));
        assert_eq!(typed("PRICE * 1.5E0").0, Value::Double(29.985));
    }

    #[test]
    fn temporal_values_compare_cast_and_format() {
        assert_eq!(typed("TS > '2021-01-01T11:59:59'").0, Value::Bool(true));
        assert_eq!(typed("TS < '2021-01-01'").0, Value::Bool(false));
        assert_eq!(typed("D = '2021-01-01'").0, Value::Bool(true));
        assert_eq!(typed("T >= '12:30'").0, Value::Bool(true));
        assert_eq!(typed("TS > D").0, Value::Bool(true));
        assert_eq!(
            typed("CAST(TS AS STRING)").0,
            Value::String("2021-01-01T12:00:00.000".into())
        );
        assert_eq!(typed("CAST(TS AS DATE)").0, Value::Date(18_628));
        assert_eq!(typed("CAST(TS AS TIME)").0, Value::Time(43_200_000));
        assert_eq!(
            typed("CAST(D AS TIMESTAMP)").0,
            Value::Timestamp(1_609_459_200_000)
        );
        assert_eq!(
            typed("CAST('2021-01-01T00:00:00' AS TIMESTAMP)").0,
            Value::Timestamp(1_609_459_200_000)
        );
        assert_eq!(
            typed("CAST(T AS STRING)").0,
            Value::String("12:30:00".into())
        );
        assert!(typed("CAST(N AS TIMESTAMP)").1.is_err());
        assert!(typed("CAST(N AS DECIMAL(2, 3))").1.is_err());
        assert!(typed("CAST(N AS DECIMAL(40, 3))").1.is_err());
        assert!(typed("CAST(B AS STRING)").1.is_err());
        assert_eq!(
            typed("CAST('yv4=' AS BYTES)"),
            (Value::Bytes(vec![0xca, 0xfe]), Ok(SqlType::Bytes))
        );
        assert!(typed("TS = 5").1.is_err());
        assert_eq!(
            typed("FORMAT_TIMESTAMP(TS, 'yyyy-MM-dd HH:mm:ss.SSS')"),
            (
                Value::String("2021-01-01 12:00:00.000".into()),
                Ok(SqlType::String)
            )
        );
        assert_eq!(
            typed("FORMAT_TIMESTAMP(TS, 'HH:mm XXX', '+05:30')").0,
            Value::String("17:30 +05:30".into())
        );
        assert_eq!(
            typed("PARSE_TIMESTAMP('2021-01-01 13:00:00', 'yyyy-MM-dd HH:mm:ss', 'UTC+01:00')"),
            (Value::Timestamp(1_609_502_400_000), Ok(SqlType::Timestamp))
        );
        assert_eq!(
            typed("PARSE_TIMESTAMP('nope', 'yyyy-MM-dd')").0,
            Value::Null
        );
        assert_eq!(
            typed("PARSE_TIMESTAMP('2021-01-01', 'yyyy-MM-dd', 'Mars/Olympus')").0,
            Value::Null
        );
        assert_eq!(
            typed("FORMAT_DATE(D, 'dd/MM/yyyy')").0,
            Value::String("01/01/2021".into())
        );
        assert_eq!(
            typed("PARSE_DATE('31/12/2020', 'dd/MM/yyyy')"),
            (Value::Date(18_627), Ok(SqlType::Date))
        );
        assert_eq!(
            typed("FORMAT_TIME(T, 'hh:mm a')").0,
            Value::String("12:30 PM".into())
        );
        assert_eq!(
            typed("PARSE_TIME('01:02:03', 'HH:mm:ss')").0,
            Value::Time(3_723_000)
        );
        assert_eq!(
            typed("FROM_UNIXTIME(0)"),
            (Value::Timestamp(0), Ok(SqlType::Timestamp))
        );
        assert_eq!(
            typed("UNIX_TIMESTAMP(TS)").0,
            Value::Bigint(1_609_502_400_000)
        );
        assert_eq!(typed("UNIX_DATE(D)").0, Value::Int(18_628));
        assert!(matches!(typed("UNIX_TIMESTAMP()").0, Value::Bigint(t) if t > 1_600_000_000_000));
        assert_eq!(
            typed("TIMESTAMPADD(HOURS, 2, TS)").0,
            Value::Timestamp(1_609_509_600_000)
        );
        assert_eq!(
            typed("TIMESTAMPSUB(DAYS, 1, TS)").0,
            Value::Timestamp(1_609_416_000_000)
        );
        assert_eq!(typed("DATEADD(DAYS, 31, D)").0, Value::Date(18_659));
        assert_eq!(typed("DATESUB(DAYS, 1, D)").0, Value::Date(18_627));
        assert_eq!(typed("TIMEADD(HOURS, 12, T)").0, Value::Time(1_800_000));
        assert_eq!(
            typed("CONVERT_TZ(TS, 'UTC', '-08:00')").0,
            Value::Timestamp(1_609_473_600_000)
        );
        assert!(typed("TIMESTAMPADD(HOURS, 2, D)").1.is_err());
        assert!(typed("FORMAT_TIMESTAMP(N, 'yyyy')").1.is_err());
    }

    #[test]
    fn bytes_convert_with_encodings() {
        assert_eq!(
            typed("FROM_BYTES(B, 'hex')"),
            (Value::String("CAFE".into()), Ok(SqlType::String))
        );
        assert_eq!(
            typed("FROM_BYTES(B, 'base64')").0,
            Value::String("yv4=".into())
        );
        assert_eq!(
            typed("TO_BYTES('cafe', 'hex')"),
            (Value::Bytes(vec![0xca, 0xfe]), Ok(SqlType::Bytes))
        );
        assert_eq!(
            typed("TO_BYTES('abc', 'utf8')").0,
            Value::Bytes(b"abc".to_vec())
        );
        assert_eq!(typed("TO_BYTES('xyz', 'hex')").0, Value::Null);
        assert_eq!(typed("B = TO_BYTES('yv4=', 'base64')").0, Value::Bool(true));
        assert_eq!(
            Value::Bytes(vec![0xca, 0xfe]).to_rest_json(),
            serde_json::json!("yv4=")
        );
    }

    #[test]
    fn functions_and_casts() {
        assert_eq!(
            eval_sql("UCASE(APP)"),
            Value::String("ORDER-SERVICE".into())
        );
        assert_eq!(eval_sql("LEN(APP)"), Value::Int(13));
        assert_eq!(
            eval_sql("SUBSTRING(APP, 1, 5)"),
            Value::String("order".into())
        );
        assert_eq!(
            eval_sql("SUBSTRING(APP, -7)"),
            Value::String("service".into())
        );
        assert_eq!(
            eval_sql("CONCAT(APP, '/', N)"),
            Value::String("order-service/7".into())
        );
        assert_eq!(eval_sql("CAST(N AS STRING)"), Value::String("7".into()));
        assert_eq!(eval_sql("CAST('x' AS INT)"), Value::Null);
        assert_eq!(eval_sql("ROUND(2.5E0)"), Value::Bigint(3));
        assert_eq!(eval_sql("ROUND(2.5)"), Value::Decimal(Decimal::new(3, 0)));
        assert_eq!(eval_sql("ABS(-N)"), Value::Int(7));
        assert_eq!(
            eval_sql("CASE WHEN N > 5 THEN 'big' ELSE 'small' END"),
            Value::String("big".into())
        );
        assert_eq!(eval_sql("IFNULL(MISSING, 3)"), Value::Int(3));
        assert_eq!(eval_sql("INSTR(APP, 'serv')"), Value::Int(7));
        assert_eq!(eval_sql("INSTR('corporate floor', 'or', 4)"), Value::Int(5));
        assert_eq!(
            eval_sql("INSTR('corporate floor', 'or', -3, 2)"),
            Value::Int(2)
        );
        assert_eq!(eval_sql("INSTR('short', 'or', 4)"), Value::Int(0));
        assert_eq!(
            eval_sql("LPAD('ab', 5, 'xy')"),
            Value::String("xyxab".into())
        );
        assert_eq!(eval_sql("RPAD(APP, 3, 'z')"), Value::String("ord".into()));
        assert_eq!(eval_sql("LPAD('ab', 5, '')"), Value::Null);
        assert_eq!(
            eval_sql("INITCAP('hello wORLD')"),
            Value::String("Hello World".into())
        );
    }
}
