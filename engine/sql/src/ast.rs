//! The ksqlDB statement model: statements, queries (select items, source, joins, window,
//! emit, partition by), column types and a closed expression tree. Names are canonical
//! (unquoted identifiers upper-cased, quoted ones kept as written), so two spellings of one
//! statement compare equal. Plain data: no parsing, no I/O.

use std::fmt;

/// A name as ksqlDB resolves it: unquoted identifiers are upper-cased, quoted ones
/// (`` `x` `` or `"x"`) are kept exactly.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(pub String);

/// Compact even in `{:#?}` trees: `Ident("NAME")`.
impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ident({:?})", self.0)
    }
}

impl Ident {
    pub fn new(name: impl Into<String>) -> Self {
        Ident(name.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Ident {
    fn from(s: &str) -> Self {
        Ident(s.to_string())
    }
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT ...`: a push query when it has `EMIT CHANGES|FINAL`, else a pull query.
    Query(Box<Query>),
    /// `CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] name [(columns)] [WITH (...)]`
    CreateSource(CreateSource),
    /// `CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] name [WITH (...)] AS SELECT ...`
    CreateAsSelect(CreateAsSelect),
    /// `INSERT INTO name [WITH (...)] SELECT ...`
    InsertInto {
        target: Ident,
        properties: Properties,
        query: Box<Query>,
    },
    /// `INSERT INTO name [(columns)] VALUES (...)`
    InsertValues {
        target: Ident,
        columns: Vec<Ident>,
        values: Vec<Expr>,
    },
    /// `DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC]`
    DropSource {
        kind: SourceKind,
        if_exists: bool,
        name: Ident,
        delete_topic: bool,
    },
    /// `ALTER STREAM|TABLE name ADD [COLUMN] col type, ...`
    AlterSource {
        kind: SourceKind,
        name: Ident,
        add_columns: Vec<(Ident, SqlType)>,
    },
    /// `SHOW|LIST ...`
    List(ListKind),
    /// `DESCRIBE name [EXTENDED]`
    DescribeSource { name: Ident, extended: bool },
    /// `DESCRIBE STREAMS|TABLES [EXTENDED]`
    DescribeSources { kind: SourceKind, extended: bool },
    /// `DESCRIBE FUNCTION f`
    DescribeFunction { name: Ident },
    /// `DESCRIBE CONNECTOR c`
    DescribeConnector { name: Ident },
    /// `EXPLAIN query_id` or `EXPLAIN statement`
    Explain(ExplainTarget),
    /// `TERMINATE query_id | ALL`
    Terminate(QueryTarget),
    /// `PAUSE query_id | ALL`
    Pause(QueryTarget),
    /// `RESUME query_id | ALL`
    Resume(QueryTarget),
    /// `PRINT topic [FROM BEGINNING] [INTERVAL|SAMPLE n] [LIMIT n]`
    Print(Print),
    /// `SET 'property' = 'value'`
    SetProperty { name: String, value: String },
    /// `ALTER SYSTEM 'property' = 'value'`
    AlterSystemProperty { name: String, value: String },
    /// `UNSET 'property'`
    UnsetProperty { name: String },
    /// `DEFINE name = 'value'` (the name is kept as written: variables are case-sensitive)
    DefineVariable { name: String, value: String },
    /// `UNDEFINE name`
    UndefineVariable { name: String },
    /// `CREATE TYPE [IF NOT EXISTS] name AS type`
    CreateType {
        if_not_exists: bool,
        name: Ident,
        ty: SqlType,
    },
    /// `DROP TYPE [IF EXISTS] name`
    DropType { if_exists: bool, name: Ident },
    /// `CREATE SOURCE|SINK CONNECTOR [IF NOT EXISTS] name WITH (...)`
    CreateConnector {
        kind: ConnectorKind,
        if_not_exists: bool,
        name: Ident,
        properties: Properties,
    },
    /// `DROP CONNECTOR [IF EXISTS] name`
    DropConnector { if_exists: bool, name: Ident },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Stream,
    Table,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectorKind {
    Source,
    Sink,
}

/// `CREATE ... STREAM|TABLE` with its own columns (or none, to infer them from the registry).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSource {
    pub kind: SourceKind,
    pub or_replace: bool,
    /// `CREATE SOURCE STREAM|TABLE`: read-only source (a table is materialized for pull queries).
    pub is_source: bool,
    pub if_not_exists: bool,
    pub name: Ident,
    /// Empty when the statement has no column list.
    pub columns: Vec<ColumnDef>,
    pub properties: Properties,
}

/// `CREATE STREAM|TABLE ... AS SELECT` (CSAS / CTAS).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateAsSelect {
    pub kind: SourceKind,
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub name: Ident,
    pub properties: Properties,
    pub query: Box<Query>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    pub name: Ident,
    pub ty: SqlType,
    pub constraint: Option<ColumnConstraint>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnConstraint {
    /// `KEY` (streams)
    Key,
    /// `PRIMARY KEY` (tables)
    PrimaryKey,
    /// `HEADERS`: all headers, as `ARRAY<STRUCT<KEY STRING, VALUE BYTES>>`
    Headers,
    /// `HEADER('name')`: one header's bytes
    Header(String),
}

/// A ksqlDB column type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SqlType {
    Boolean,
    /// `INT` / `INTEGER`
    Int,
    Bigint,
    Double,
    /// `STRING` / `VARCHAR`
    String,
    Bytes,
    Date,
    Time,
    Timestamp,
    Decimal {
        precision: u32,
        scale: u32,
    },
    Array(Box<SqlType>),
    Map(Box<SqlType>, Box<SqlType>),
    Struct(Vec<(Ident, SqlType)>),
    /// A type registered with `CREATE TYPE`.
    Custom(Ident),
}

/// `WITH (...)` properties, in the order written. Keys written as identifiers are canonical
/// (upper-cased unless quoted); keys written as strings are kept as written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Properties(pub Vec<Property>);

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub key: String,
    pub value: Literal,
}

impl Properties {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The value of `key`, matched case-insensitively (ksqlDB's property names are).
    pub fn get(&self, key: &str) -> Option<&Literal> {
        self.0
            .iter()
            .find(|p| p.key.eq_ignore_ascii_case(key))
            .map(|p| &p.value)
    }
}

/// A ksqlDB query: not a SQL query (no subqueries, one source and its joins, stream clauses).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    pub from: Relation,
    pub window: Option<WindowExpr>,
    pub where_clause: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub partition_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub emit: Option<Emit>,
    pub limit: Option<u64>,
}

impl Query {
    /// A push query (`EMIT CHANGES|FINAL`): results stream until the client stops.
    pub fn is_push(&self) -> bool {
        self.emit.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`
    Wildcard,
    /// `source.*`
    QualifiedWildcard(Ident),
    /// `expr [AS alias]`
    Expr { expr: Expr, alias: Option<Ident> },
}

/// `FROM source [alias] [joins...]`
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub source: AliasedSource,
    pub joins: Vec<Join>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AliasedSource {
    pub name: Ident,
    pub alias: Option<Ident>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub kind: JoinKind,
    pub source: AliasedSource,
    pub within: Option<JoinWindow>,
    pub on: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// `JOIN` / `INNER JOIN`
    Inner,
    /// `LEFT [OUTER] JOIN`
    Left,
    /// `RIGHT [OUTER] JOIN`
    Right,
    /// `FULL [OUTER] JOIN`
    Full,
}

/// `WITHIN n unit | (before, after) [GRACE PERIOD n unit]`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JoinWindow {
    pub before: Duration,
    /// `Some` only for `WITHIN (before, after)`.
    pub after: Option<Duration>,
    pub grace: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowExpr {
    pub kind: WindowKind,
    pub retention: Option<Duration>,
    pub grace: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowKind {
    Tumbling { size: Duration },
    Hopping { size: Duration, advance: Duration },
    Session { gap: Duration },
}

/// `n unit`, as written (units are not normalized, so `60 SECONDS` ≠ `1 MINUTE` here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    pub value: u64,
    pub unit: TimeUnit,
}

impl Duration {
    /// The length in milliseconds (saturating).
    pub fn millis(&self) -> u64 {
        self.value.saturating_mul(self.unit.millis())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Milliseconds,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    pub fn millis(&self) -> u64 {
        match self {
            TimeUnit::Milliseconds => 1,
            TimeUnit::Seconds => 1_000,
            TimeUnit::Minutes => 60_000,
            TimeUnit::Hours => 3_600_000,
            TimeUnit::Days => 86_400_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Emit {
    Changes,
    Final,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListKind {
    Streams {
        extended: bool,
    },
    Tables {
        extended: bool,
    },
    /// `[ALL] TOPICS [EXTENDED]`
    Topics {
        all: bool,
        extended: bool,
    },
    Queries {
        extended: bool,
    },
    Functions,
    Properties,
    Variables,
    Types,
    /// `[SOURCE|SINK] CONNECTORS`
    Connectors {
        kind: Option<ConnectorKind>,
    },
    ConnectorPlugins,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExplainTarget {
    QueryId(String),
    Statement(Box<Statement>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryTarget {
    /// A query id: canonical (upper-cased) when written as an identifier, as written when
    /// quoted or a string (transient query ids are lower-case).
    Id(String),
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Print {
    /// The topic as written (without quotes).
    pub topic: String,
    /// Written as an unquoted identifier: ksqlDB then also finds the topic ignoring case.
    pub case_insensitive: bool,
    pub from_beginning: bool,
    /// `INTERVAL n` / `SAMPLE n`: print every n-th record.
    pub interval: Option<u64>,
    pub limit: Option<u64>,
}

/// A ksqlDB expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `[source.]column`, including the pseudo columns (`ROWTIME`, `ROWPARTITION`,
    /// `ROWOFFSET`, `WINDOWSTART`, `WINDOWEND`) and lambda parameters.
    Column {
        source: Option<Ident>,
        name: Ident,
    },
    Literal(Literal),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        left: Box<Expr>,
        op: BinaryOp,
        right: Box<Expr>,
    },
    Between {
        expr: Box<Expr>,
        negated: bool,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    InList {
        expr: Box<Expr>,
        negated: bool,
        list: Vec<Expr>,
    },
    Like {
        expr: Box<Expr>,
        negated: bool,
        pattern: Box<Expr>,
        escape: Option<char>,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    IsDistinctFrom {
        left: Box<Expr>,
        negated: bool,
        right: Box<Expr>,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_result: Option<Box<Expr>>,
    },
    Cast {
        expr: Box<Expr>,
        ty: SqlType,
    },
    /// `NAME(args)`; `COUNT(*)` has `star` set and no args.
    Function {
        name: Ident,
        args: Vec<Expr>,
        star: bool,
    },
    /// `base[index]`: array index (1-based, negative from the end) or map lookup.
    Subscript {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `base->field`: struct field dereference.
    Dereference {
        base: Box<Expr>,
        field: Ident,
    },
    /// `ARRAY[a, b, ...]`
    Array(Vec<Expr>),
    /// `MAP(k := v, ...)`
    Map(Vec<(Expr, Expr)>),
    /// `STRUCT(name := v, ...)`
    Struct(Vec<(Ident, Expr)>),
    /// A window unit as a function argument: `TIMESTAMPADD(SECONDS, 5, ts)`.
    TimeUnit(TimeUnit),
    /// `x => body` / `(x, y) => body` (only as a function argument).
    Lambda {
        params: Vec<Ident>,
        body: Box<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Minus,
    Plus,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    /// `||`
    Concat,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

/// A literal. Numbers keep their text: `Integer` fits an i64 (INT when it fits an i32, as
/// ksqlDB types it), `Decimal` is `1.5` (ksqlDB's DECIMAL), `Double` has an exponent (`1.5E3`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Literal {
    Null,
    Boolean(bool),
    Integer(i64),
    Decimal(String),
    Double(String),
    String(String),
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceKind::Stream => "STREAM",
            SourceKind::Table => "TABLE",
        })
    }
}
