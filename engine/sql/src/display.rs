//! The pretty printer: every statement back to ksqlDB text that parses to the same statement
//! (names quoted with backticks only where needed, parentheses only where precedence needs
//! them, clauses in ksqlDB's order). Formatting only: no I/O.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;
use crate::keywords;

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if keywords::is_plain_identifier(&self.0) {
            f.write_str(&self.0)
        } else {
            write!(f, "`{}`", self.0.replace('`', "``"))
        }
    }
}

fn string_literal(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    write!(f, "'{}'", s.replace('\'', "''"))
}

/// A name that is an identifier when it can be one, else a string (property keys, query ids).
fn name_or_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    if keywords::is_plain_identifier(s) {
        f.write_str(s)
    } else {
        string_literal(f, s)
    }
}

fn comma_separated<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("NULL"),
            Literal::Boolean(true) => f.write_str("TRUE"),
            Literal::Boolean(false) => f.write_str("FALSE"),
            Literal::Integer(i) => write!(f, "{i}"),
            Literal::Decimal(d) | Literal::Double(d) => f.write_str(d),
            Literal::String(s) => string_literal(f, s),
        }
    }
}

impl Display for SqlType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SqlType::Boolean => f.write_str("BOOLEAN"),
            SqlType::Int => f.write_str("INTEGER"),
            SqlType::Bigint => f.write_str("BIGINT"),
            SqlType::Double => f.write_str("DOUBLE"),
            SqlType::String => f.write_str("STRING"),
            SqlType::Bytes => f.write_str("BYTES"),
            SqlType::Date => f.write_str("DATE"),
            SqlType::Time => f.write_str("TIME"),
            SqlType::Timestamp => f.write_str("TIMESTAMP"),
            SqlType::Decimal { precision, scale } => write!(f, "DECIMAL({precision}, {scale})"),
            SqlType::Array(t) => write!(f, "ARRAY<{t}>"),
            SqlType::Map(k, v) => write!(f, "MAP<{k}, {v}>"),
            SqlType::Struct(fields) => {
                f.write_str("STRUCT<")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name} {ty}")?;
                }
                f.write_str(">")
            }
            SqlType::Custom(name) => write!(f, "{name}"),
        }
    }
}

impl Display for TimeUnit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeUnit::Milliseconds => "MILLISECONDS",
            TimeUnit::Seconds => "SECONDS",
            TimeUnit::Minutes => "MINUTES",
            TimeUnit::Hours => "HOURS",
            TimeUnit::Days => "DAYS",
        })
    }
}

impl Display for Duration {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.unit)
    }
}

impl Display for Properties {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            name_or_string(f, &p.key)?;
            write!(f, "={}", p.value)?;
        }
        f.write_str(")")
    }
}

impl Display for ColumnDef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.ty)?;
        match &self.constraint {
            None => Ok(()),
            Some(ColumnConstraint::Key) => f.write_str(" KEY"),
            Some(ColumnConstraint::PrimaryKey) => f.write_str(" PRIMARY KEY"),
            Some(ColumnConstraint::Headers) => f.write_str(" HEADERS"),
            Some(ColumnConstraint::Header(k)) => {
                f.write_str(" HEADER(")?;
                string_literal(f, k)?;
                f.write_str(")")
            }
        }
    }
}

impl Display for QueryTarget {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            QueryTarget::All => f.write_str("ALL"),
            QueryTarget::Id(id) => name_or_string(f, id),
        }
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Query(q) => write!(f, "{q}"),
            Statement::CreateSource(c) => {
                f.write_str("CREATE ")?;
                if c.or_replace {
                    f.write_str("OR REPLACE ")?;
                }
                if c.is_source {
                    f.write_str("SOURCE ")?;
                }
                write!(f, "{} ", c.kind)?;
                if c.if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                write!(f, "{}", c.name)?;
                if !c.columns.is_empty() {
                    f.write_str(" (")?;
                    comma_separated(f, &c.columns)?;
                    f.write_str(")")?;
                }
                if !c.properties.is_empty() {
                    write!(f, " WITH {}", c.properties)?;
                }
                Ok(())
            }
            Statement::CreateAsSelect(c) => {
                f.write_str("CREATE ")?;
                if c.or_replace {
                    f.write_str("OR REPLACE ")?;
                }
                write!(f, "{} ", c.kind)?;
                if c.if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                write!(f, "{}", c.name)?;
                if !c.properties.is_empty() {
                    write!(f, " WITH {}", c.properties)?;
                }
                write!(f, " AS {}", c.query)
            }
            Statement::InsertInto {
                target,
                properties,
                query,
            } => {
                write!(f, "INSERT INTO {target}")?;
                if !properties.is_empty() {
                    write!(f, " WITH {properties}")?;
                }
                write!(f, " {query}")
            }
            Statement::InsertValues {
                target,
                columns,
                values,
            } => {
                write!(f, "INSERT INTO {target}")?;
                if !columns.is_empty() {
                    f.write_str(" (")?;
                    comma_separated(f, columns)?;
                    f.write_str(")")?;
                }
                f.write_str(" VALUES (")?;
                comma_separated(f, values)?;
                f.write_str(")")
            }
            Statement::DropSource {
                kind,
                if_exists,
                name,
                delete_topic,
            } => {
                write!(f, "DROP {kind} ")?;
                if *if_exists {
                    f.write_str("IF EXISTS ")?;
                }
                write!(f, "{name}")?;
                if *delete_topic {
                    f.write_str(" DELETE TOPIC")?;
                }
                Ok(())
            }
            Statement::AlterSource {
                kind,
                name,
                add_columns,
            } => {
                write!(f, "ALTER {kind} {name} ")?;
                for (i, (col, ty)) in add_columns.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "ADD COLUMN {col} {ty}")?;
                }
                Ok(())
            }
            Statement::List(kind) => {
                f.write_str("SHOW ")?;
                let ext = |e: &bool| if *e { " EXTENDED" } else { "" };
                match kind {
                    ListKind::Streams { extended } => write!(f, "STREAMS{}", ext(extended)),
                    ListKind::Tables { extended } => write!(f, "TABLES{}", ext(extended)),
                    ListKind::Topics { all, extended } => write!(
                        f,
                        "{}TOPICS{}",
                        if *all { "ALL " } else { "" },
                        ext(extended)
                    ),
                    ListKind::Queries { extended } => write!(f, "QUERIES{}", ext(extended)),
                    ListKind::Functions => f.write_str("FUNCTIONS"),
                    ListKind::Properties => f.write_str("PROPERTIES"),
                    ListKind::Variables => f.write_str("VARIABLES"),
                    ListKind::Types => f.write_str("TYPES"),
                    ListKind::Connectors { kind } => write!(
                        f,
                        "{}CONNECTORS",
                        match kind {
                            None => "",
                            Some(ConnectorKind::Source) => "SOURCE ",
                            Some(ConnectorKind::Sink) => "SINK ",
                        }
                    ),
                    ListKind::ConnectorPlugins => f.write_str("CONNECTOR PLUGINS"),
                }
            }
            Statement::DescribeSource { name, extended } => {
                write!(
                    f,
                    "DESCRIBE {name}{}",
                    if *extended { " EXTENDED" } else { "" }
                )
            }
            Statement::DescribeSources { kind, extended } => write!(
                f,
                "DESCRIBE {}{}",
                match kind {
                    SourceKind::Stream => "STREAMS",
                    SourceKind::Table => "TABLES",
                },
                if *extended { " EXTENDED" } else { "" }
            ),
            Statement::DescribeFunction { name } => write!(f, "DESCRIBE FUNCTION {name}"),
            Statement::DescribeConnector { name } => write!(f, "DESCRIBE CONNECTOR {name}"),
            Statement::Explain(ExplainTarget::QueryId(id)) => {
                f.write_str("EXPLAIN ")?;
                name_or_string(f, id)
            }
            Statement::Explain(ExplainTarget::Statement(s)) => write!(f, "EXPLAIN {s}"),
            Statement::Terminate(t) => write!(f, "TERMINATE {t}"),
            Statement::Pause(t) => write!(f, "PAUSE {t}"),
            Statement::Resume(t) => write!(f, "RESUME {t}"),
            Statement::Print(p) => {
                f.write_str("PRINT ")?;
                if p.case_insensitive {
                    f.write_str(&p.topic)?;
                } else {
                    string_literal(f, &p.topic)?;
                }
                if p.from_beginning {
                    f.write_str(" FROM BEGINNING")?;
                }
                if let Some(n) = p.interval {
                    write!(f, " INTERVAL {n}")?;
                }
                if let Some(n) = p.limit {
                    write!(f, " LIMIT {n}")?;
                }
                Ok(())
            }
            Statement::SetProperty { name, value } => {
                f.write_str("SET ")?;
                string_literal(f, name)?;
                f.write_str("=")?;
                string_literal(f, value)
            }
            Statement::AlterSystemProperty { name, value } => {
                f.write_str("ALTER SYSTEM ")?;
                string_literal(f, name)?;
                f.write_str("=")?;
                string_literal(f, value)
            }
            Statement::UnsetProperty { name } => {
                f.write_str("UNSET ")?;
                string_literal(f, name)
            }
            Statement::DefineVariable { name, value } => {
                write!(f, "DEFINE {name} = ")?;
                string_literal(f, value)
            }
            Statement::UndefineVariable { name } => write!(f, "UNDEFINE {name}"),
            Statement::CreateType {
                if_not_exists,
                name,
                ty,
            } => {
                f.write_str("CREATE TYPE ")?;
                if *if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                write!(f, "{name} AS {ty}")
            }
            Statement::DropType { if_exists, name } => {
                f.write_str("DROP TYPE ")?;
                if *if_exists {
                    f.write_str("IF EXISTS ")?;
                }
                write!(f, "{name}")
            }
            Statement::CreateConnector {
                kind,
                if_not_exists,
                name,
                properties,
            } => {
                f.write_str(match kind {
                    ConnectorKind::Source => "CREATE SOURCE CONNECTOR ",
                    ConnectorKind::Sink => "CREATE SINK CONNECTOR ",
                })?;
                if *if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                write!(f, "{name} WITH {properties}")
            }
            Statement::DropConnector { if_exists, name } => {
                f.write_str("DROP CONNECTOR ")?;
                if *if_exists {
                    f.write_str("IF EXISTS ")?;
                }
                write!(f, "{name}")
            }
        }
    }
}

impl Display for AliasedSource {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(a) = &self.alias {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Wildcard => f.write_str("*"),
            SelectItem::QualifiedWildcard(s) => write!(f, "{s}.*"),
            SelectItem::Expr { expr, alias } => {
                write!(f, "{expr}")?;
                if let Some(a) = alias {
                    write!(f, " AS {a}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for WindowExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.kind {
            WindowKind::Tumbling { size } => write!(f, "TUMBLING (SIZE {size}")?,
            WindowKind::Hopping { size, advance } => {
                write!(f, "HOPPING (SIZE {size}, ADVANCE BY {advance}")?
            }
            WindowKind::Session { gap } => write!(f, "SESSION ({gap}")?,
        }
        if let Some(r) = self.retention {
            write!(f, ", RETENTION {r}")?;
        }
        if let Some(g) = self.grace {
            write!(f, ", GRACE PERIOD {g}")?;
        }
        f.write_str(")")
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        comma_separated(f, &self.select)?;
        write!(f, " FROM {}", self.from.source)?;
        for j in &self.from.joins {
            f.write_str(match j.kind {
                JoinKind::Inner => " INNER JOIN ",
                JoinKind::Left => " LEFT OUTER JOIN ",
                JoinKind::Right => " RIGHT OUTER JOIN ",
                JoinKind::Full => " FULL OUTER JOIN ",
            })?;
            write!(f, "{}", j.source)?;
            if let Some(w) = &j.within {
                match w.after {
                    None => write!(f, " WITHIN {}", w.before)?,
                    Some(after) => write!(f, " WITHIN ({}, {after})", w.before)?,
                }
                if let Some(g) = w.grace {
                    write!(f, " GRACE PERIOD {g}")?;
                }
            }
            write!(f, " ON {}", j.on)?;
        }
        if let Some(w) = &self.window {
            write!(f, " WINDOW {w}")?;
        }
        if let Some(w) = &self.where_clause {
            write!(f, " WHERE {w}")?;
        }
        if !self.group_by.is_empty() {
            f.write_str(" GROUP BY ")?;
            comma_separated(f, &self.group_by)?;
        }
        if !self.partition_by.is_empty() {
            f.write_str(" PARTITION BY ")?;
            comma_separated(f, &self.partition_by)?;
        }
        if let Some(h) = &self.having {
            write!(f, " HAVING {h}")?;
        }
        match self.emit {
            Some(Emit::Changes) => f.write_str(" EMIT CHANGES")?,
            Some(Emit::Final) => f.write_str(" EMIT FINAL")?,
            None => {}
        }
        if let Some(n) = self.limit {
            write!(f, " LIMIT {n}")?;
        }
        Ok(())
    }
}

// ---- expressions ---------------------------------------------------------------------------

const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_NOT: u8 = 3;
const P_PREDICATE: u8 = 4;
const P_CONCAT: u8 = 5;
const P_ADD: u8 = 6;
const P_MUL: u8 = 7;
const P_UNARY: u8 = 8;
const P_POSTFIX: u8 = 9;
const P_ATOM: u8 = 10;

fn binary_prec(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => P_OR,
        BinaryOp::And => P_AND,
        BinaryOp::Eq
        | BinaryOp::NotEq
        | BinaryOp::Lt
        | BinaryOp::LtEq
        | BinaryOp::Gt
        | BinaryOp::GtEq => P_PREDICATE,
        BinaryOp::Concat => P_CONCAT,
        BinaryOp::Add | BinaryOp::Subtract => P_ADD,
        BinaryOp::Multiply | BinaryOp::Divide | BinaryOp::Modulo => P_MUL,
    }
}

fn binary_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Subtract => "-",
        BinaryOp::Multiply => "*",
        BinaryOp::Divide => "/",
        BinaryOp::Modulo => "%",
        BinaryOp::Concat => "||",
        BinaryOp::Eq => "=",
        BinaryOp::NotEq => "<>",
        BinaryOp::Lt => "<",
        BinaryOp::LtEq => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::GtEq => ">=",
        BinaryOp::And => "AND",
        BinaryOp::Or => "OR",
    }
}

fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Binary { op, .. } => binary_prec(*op),
        Expr::Unary {
            op: UnaryOp::Not, ..
        } => P_NOT,
        Expr::Unary { .. } => P_UNARY,
        Expr::Literal(Literal::Integer(i)) if *i < 0 => P_UNARY,
        Expr::Literal(Literal::Decimal(d) | Literal::Double(d)) if d.starts_with('-') => P_UNARY,
        Expr::Between { .. }
        | Expr::InList { .. }
        | Expr::Like { .. }
        | Expr::IsNull { .. }
        | Expr::IsDistinctFrom { .. } => P_PREDICATE,
        Expr::Subscript { .. } | Expr::Dereference { .. } => P_POSTFIX,
        _ => P_ATOM,
    }
}

/// `e` as an operand that must bind at least as tightly as `min`.
struct Operand<'a>(&'a Expr, u8);

impl Display for Operand<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if prec(self.0) < self.1 {
            write!(f, "({})", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column { source, name } => {
                if let Some(s) = source {
                    write!(f, "{s}.")?;
                }
                write!(f, "{name}")
            }
            Expr::Literal(l) => write!(f, "{l}"),
            Expr::Unary {
                op: UnaryOp::Not,
                expr,
            } => write!(f, "NOT {}", Operand(expr, P_NOT)),
            Expr::Unary { op, expr } => {
                let sign = if *op == UnaryOp::Minus { '-' } else { '+' };
                // `-(5)` is not the literal -5, and `- -x` must not become a comment.
                let operand = match &**expr {
                    Expr::Literal(
                        Literal::Integer(_) | Literal::Decimal(_) | Literal::Double(_),
                    ) => {
                        format!("({expr})")
                    }
                    _ => Operand(expr, P_UNARY).to_string(),
                };
                f.write_char(sign)?;
                if operand.starts_with(['-', '+']) {
                    f.write_char(' ')?;
                }
                f.write_str(&operand)
            }
            Expr::Binary { left, op, right } => {
                let p = binary_prec(*op);
                let left_min = if p == P_PREDICATE { p + 1 } else { p };
                write!(
                    f,
                    "{} {} {}",
                    Operand(left, left_min),
                    binary_symbol(*op),
                    Operand(right, p + 1)
                )
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => write!(
                f,
                "{} {}BETWEEN {} AND {}",
                Operand(expr, P_CONCAT),
                if *negated { "NOT " } else { "" },
                Operand(low, P_CONCAT),
                Operand(high, P_CONCAT)
            ),
            Expr::InList {
                expr,
                negated,
                list,
            } => {
                write!(
                    f,
                    "{} {}IN (",
                    Operand(expr, P_CONCAT),
                    if *negated { "NOT " } else { "" }
                )?;
                comma_separated(f, list)?;
                f.write_str(")")
            }
            Expr::Like {
                expr,
                negated,
                pattern,
                escape,
            } => {
                write!(
                    f,
                    "{} {}LIKE {}",
                    Operand(expr, P_CONCAT),
                    if *negated { "NOT " } else { "" },
                    Operand(pattern, P_CONCAT)
                )?;
                if let Some(c) = escape {
                    f.write_str(" ESCAPE ")?;
                    string_literal(f, &c.to_string())?;
                }
                Ok(())
            }
            Expr::IsNull { expr, negated } => write!(
                f,
                "{} IS {}NULL",
                Operand(expr, P_CONCAT),
                if *negated { "NOT " } else { "" }
            ),
            Expr::IsDistinctFrom {
                left,
                negated,
                right,
            } => write!(
                f,
                "{} IS {}DISTINCT FROM {}",
                Operand(left, P_CONCAT),
                if *negated { "NOT " } else { "" },
                Operand(right, P_CONCAT)
            ),
            Expr::Case {
                operand,
                whens,
                else_result,
            } => {
                f.write_str("CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (when, then) in whens {
                    write!(f, " WHEN {when} THEN {then}")?;
                }
                if let Some(e) = else_result {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            Expr::Cast { expr, ty } => write!(f, "CAST({expr} AS {ty})"),
            Expr::Function { name, args, star } => {
                write!(f, "{name}(")?;
                if *star {
                    f.write_str("*")?;
                }
                comma_separated(f, args)?;
                f.write_str(")")
            }
            Expr::Subscript { base, index } => {
                write!(f, "{}[{index}]", Operand(base, P_POSTFIX))
            }
            Expr::Dereference { base, field } => {
                write!(f, "{}->{field}", Operand(base, P_POSTFIX))
            }
            Expr::Array(items) => {
                f.write_str("ARRAY[")?;
                comma_separated(f, items)?;
                f.write_str("]")
            }
            Expr::Map(entries) => {
                f.write_str("MAP(")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} := {v}")?;
                }
                f.write_str(")")
            }
            Expr::Struct(fields) => {
                f.write_str("STRUCT(")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} := {v}")?;
                }
                f.write_str(")")
            }
            Expr::TimeUnit(unit) => write!(f, "{unit}"),
            Expr::Lambda { params, body } => {
                if params.len() == 1 {
                    write!(f, "{} => {body}", params[0])
                } else {
                    f.write_str("(")?;
                    comma_separated(f, params)?;
                    write!(f, ") => {body}")
                }
            }
        }
    }
}
