//! The SQL surface: the engine's [`StreamIo`] over Sluice's log (in-process reads and appends
//! on the partitions, topics created in the store as the broker creates them), its
//! [`SchemaSource`] over the embedded schema registry (in-process calls), and ksqlDB's
//! REST API on the SQL port (`POST /ksql`, `/query-stream`, `/query` (SELECT and PRINT),
//! `/inserts-stream`, `/close-query`, `GET /info`, `/healthcheck`, `/status`), over HTTP/1.1
//! and over HTTP/2 without TLS (prior knowledge, as ksqlDB's Java client connects). It owns
//! HTTP glue only: statements run in sluice-sql.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value as Json};
use sluice_log::keyed;
use sluice_log::{LogError, LogStore, TopicConfig};
use sluice_registry::model::{SchemaReference, SchemaType};
use sluice_registry::registry::{SchemaInput, VersionSpec};
use sluice_registry::{RegistryError, SchemaRegistry};
use sluice_sql::engine::{Engine, Props};
use sluice_sql::entities;
use sluice_sql::io::{InRecord, OutRecord, StreamIo};
use sluice_sql::schemas::{RegisteredText, SchemaSource};
use sluice_sql::{KsqlParser, ParsedStatement, SqlError, Statement};

const KSQL_JSON: &str = "application/vnd.ksql.v1+json";
const DELIMITED: &str = "application/vnd.ksqlapi.delimited.v1";

/// The embedded schema registry, for the SQL engine's AVRO / JSON_SR / PROTOBUF formats.
pub struct RegistrySchemas {
    pub registry: Arc<SchemaRegistry>,
}

fn registry_err(e: RegistryError) -> SqlError {
    SqlError::statement(format!("Schema registry: {e}"))
}

impl RegistrySchemas {
    fn text(
        &self,
        id: u32,
        schema_type: SchemaType,
        text: String,
        references: Vec<SchemaReference>,
    ) -> Result<RegisteredText, SqlError> {
        let references = references
            .into_iter()
            .map(|r| {
                let v = self
                    .registry
                    .version(&r.subject, VersionSpec::Number(r.version), false)
                    .map_err(registry_err)?;
                Ok((r.name, v.schema))
            })
            .collect::<Result<_, SqlError>>()?;
        Ok(RegisteredText {
            id,
            schema_type,
            text,
            references,
        })
    }
}

impl SchemaSource for RegistrySchemas {
    fn latest(&self, subject: &str) -> Result<Option<RegisteredText>, SqlError> {
        match self.registry.version(subject, VersionSpec::Latest, false) {
            Ok(v) => self
                .text(v.id, v.schema_type, v.schema, v.references)
                .map(Some),
            Err(RegistryError::SubjectNotFound(_) | RegistryError::VersionNotFound(_)) => Ok(None),
            Err(e) => Err(registry_err(e)),
        }
    }

    fn by_id(&self, id: u32) -> Result<RegisteredText, SqlError> {
        let (t, text, refs) = self.registry.schema_by_id(id).map_err(registry_err)?;
        self.text(id, t, text, refs)
    }

    fn register(
        &self,
        subject: &str,
        schema_type: SchemaType,
        text: &str,
    ) -> Result<u32, SqlError> {
        self.registry
            .register(
                subject,
                SchemaInput {
                    schema_type,
                    schema: text.to_string(),
                    references: Vec::new(),
                    id: None,
                    version: None,
                },
                false,
            )
            .map_err(registry_err)
    }
}

/// Topics of the embedded log, for the SQL engine.
pub struct LogIo {
    pub store: Arc<LogStore>,
    /// Called after every append, so long-polling Kafka fetches see query output at once.
    pub on_append: Box<dyn Fn() + Send + Sync>,
}

fn io_err(e: LogError) -> SqlError {
    SqlError::Io(e.to_string())
}

impl LogIo {
    fn partition(&self, topic: &str, p: i32) -> Result<sluice_log::SharedPartition, SqlError> {
        self.store
            .topic(topic)
            .and_then(|t| t.partition(p))
            .ok_or_else(|| SqlError::Io(format!("topic {topic} partition {p} does not exist")))
    }
}

impl StreamIo for LogIo {
    fn partitions(&self, topic: &str) -> Result<Option<i32>, SqlError> {
        Ok(self.store.topic(topic).map(|t| t.partition_count()))
    }

    fn create_topic(&self, topic: &str, partitions: i32, compact: bool) -> Result<(), SqlError> {
        if self.store.topic(topic).is_some() {
            return Ok(());
        }
        let overrides: &[(&str, &str)] = if compact {
            &[("cleanup.policy", "compact")]
        } else if topic == sluice_sql::engine::COMMAND_TOPIC {
            &[("retention.ms", "-1")]
        } else {
            &[]
        };
        let config = TopicConfig::from_overrides(overrides.iter().copied()).map_err(io_err)?;
        match self.store.create_topic(topic, partitions, config, false) {
            Ok(_) | Err(LogError::TopicExists(_)) => Ok(()),
            Err(e) => Err(io_err(e)),
        }
    }

    fn delete_topic(&self, topic: &str) -> Result<(), SqlError> {
        self.store.delete_topic(topic).map_err(io_err)
    }

    fn topics(&self) -> Result<Vec<(String, i32)>, SqlError> {
        Ok(self
            .store
            .topics()
            .iter()
            .map(|t| (t.name.clone(), t.partition_count()))
            .collect())
    }

    fn offsets(&self, topic: &str, partition: i32) -> Result<(i64, i64), SqlError> {
        let p = self.partition(topic, partition)?;
        let log = p.lock();
        Ok((log.log_start_offset(), log.log_end_offset()))
    }

    fn read(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        max_bytes: usize,
    ) -> Result<Vec<InRecord>, SqlError> {
        let p = self.partition(topic, partition)?;
        Ok(keyed::read_timed(&p, from, max_bytes)
            .map_err(io_err)?
            .into_iter()
            .map(|r| InRecord {
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                headers: r.headers,
            })
            .collect())
    }

    fn append(&self, topic: &str, partition: i32, records: &[OutRecord]) -> Result<(), SqlError> {
        if records.is_empty() {
            return Ok(());
        }
        let p = self.partition(topic, partition)?;
        let recs: Vec<_> = records
            .iter()
            .map(|r| {
                (
                    r.key.clone().map(Bytes::from),
                    r.value.clone().map(Bytes::from),
                    r.timestamp,
                )
            })
            .collect();
        keyed::append_timed(&p, &recs).map_err(io_err)?;
        (self.on_append)();
        Ok(())
    }
}

pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/ksql", post(ksql))
        .route("/query-stream", post(query_stream))
        .route("/query", post(query))
        .route("/inserts-stream", post(inserts_stream))
        .route("/close-query", post(close_query))
        .route("/info", get(info))
        .route("/healthcheck", get(healthcheck))
        .route("/status", get(status))
        .with_state(engine)
}

fn respond(status: StatusCode, body: &Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, KSQL_JSON)],
        body.to_string(),
    )
        .into_response()
}

/// The request body as a JSON object, or ksqlDB's 400 `generic_error`.
fn request(body: &Bytes) -> Result<serde_json::Map<String, Json>, Box<Response>> {
    match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(o)) => Ok(o),
        Ok(_) | Err(_) => Err(Box::new(respond(
            StatusCode::BAD_REQUEST,
            &entities::generic_error(
                40000,
                "Error parsing request: the body is not a JSON object",
            ),
        ))),
    }
}

fn props_of(o: &serde_json::Map<String, Json>, key: &str) -> Props {
    o.get(key)
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

async fn ksql(State(engine): State<Arc<Engine>>, body: Bytes) -> Response {
    let o = match request(&body) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let Some(sql) = o.get("ksql").and_then(Json::as_str).map(str::to_string) else {
        return respond(
            StatusCode::BAD_REQUEST,
            &entities::generic_error(40000, "Error parsing request: missing field 'ksql'"),
        );
    };
    let props = props_of(&o, "streamsProperties");
    let run = tokio::task::spawn_blocking(move || {
        let mut parser = KsqlParser::new();
        if let Some(vars) = o.get("sessionVariables").and_then(Json::as_object) {
            for (k, v) in vars {
                parser
                    .variables
                    .insert(k.clone(), v.as_str().map_or(v.to_string(), str::to_string));
            }
        }
        let statements = match parser.parse(&sql) {
            Ok(s) => s,
            Err(e) => return Err(entities::statement_error(&e, &sql)),
        };
        let mut out = Vec::new();
        for stmt in &statements {
            match engine.execute(stmt, &props) {
                Ok(Json::Null) => {}
                Ok(entity) => out.push(entity),
                Err(e) => {
                    let mut err = entities::statement_error(&e, &stmt.text);
                    err["entities"] = Json::Array(out);
                    return Err(err);
                }
            }
        }
        Ok(Json::Array(out))
    })
    .await;
    match run {
        Ok(Ok(body)) => respond(StatusCode::OK, &body),
        Ok(Err(err)) => respond(StatusCode::BAD_REQUEST, &err),
        Err(e) => respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            &entities::generic_error(50000, &format!("statement failed: {e}")),
        ),
    }
}

/// What `/query` runs: a SELECT or a PRINT.
enum Runnable {
    Select(Box<sluice_sql::Query>, ParsedStatement),
    Print(sluice_sql::Print, ParsedStatement),
}

/// A parsed SELECT (or PRINT, when `print` allows it), or the error response.
fn runnable_of(sql: &str, print: bool) -> Result<Runnable, Box<Response>> {
    let bad = |e: &SqlError| {
        Box::new(respond(
            StatusCode::BAD_REQUEST,
            &entities::statement_error(e, sql),
        ))
    };
    let mut parsed = KsqlParser::new().parse(sql).map_err(|e| bad(&e))?;
    if parsed.len() != 1 {
        return Err(bad(&SqlError::statement(
            "Expected exactly one statement: a SELECT",
        )));
    }
    let stmt = parsed.remove(0);
    match stmt.statement.clone() {
        Statement::Query(q) => Ok(Runnable::Select(q, stmt)),
        Statement::Print(p) if print => Ok(Runnable::Print(p, stmt)),
        _ if print => Err(bad(&SqlError::statement(
            "The /query endpoint only runs SELECT and PRINT statements; use /ksql",
        ))),
        _ => Err(bad(&SqlError::statement(
            "The /query-stream endpoint only runs SELECT queries; use /ksql",
        ))),
    }
}

/// Lines from a channel as a streamed body, each followed by a newline.
fn line_body(lines: tokio::sync::mpsc::Receiver<String>) -> Body {
    Body::from_stream(futures_util::stream::unfold(
        lines,
        |mut lines| async move {
            let l = lines.recv().await?;
            Some((Ok::<_, Infallible>(Bytes::from(l + "\n")), lines))
        },
    ))
}

/// `PRINT` through `/query`: ksqlDB's text lines, streamed until LIMIT or the client leaves.
fn run_print(
    engine: &Engine,
    p: &sluice_sql::Print,
    stmt: &ParsedStatement,
    sql: &str,
) -> Response {
    match engine.print_topic(p) {
        Ok(lines) => ([(header::CONTENT_TYPE, KSQL_JSON)], line_body(lines)).into_response(),
        Err(e) => respond(
            StatusCode::BAD_REQUEST,
            &entities::statement_error(&e.in_statement(&stmt.text), sql),
        ),
    }
}

/// Rows as `(header, rows)` streams in one of the two result formats.
enum Shape {
    /// `/query-stream`: header object, then one array per row (delimited lines or a JSON array).
    Stream { json_array: bool },
    /// `/query`: `[{"header":...},{"row":{"columns":[...]}},...]`.
    Legacy,
}

fn header_line(shape: &Shape, id: &str, columns: &[sluice_sql::catalog::Column]) -> String {
    match shape {
        Shape::Stream { .. } => json!({
            "queryId": id,
            "columnNames": columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            "columnTypes": entities::column_types(columns),
        })
        .to_string(),
        Shape::Legacy => json!({"header": {
            "queryId": id,
            "schema": columns.iter().map(|c| format!("`{}` {}", c.name, sluice_sql::value::type_name(&c.ty))).collect::<Vec<_>>().join(", "),
        }})
        .to_string(),
    }
}

fn row_line(shape: &Shape, row: Vec<sluice_sql::value::Value>) -> String {
    // Exact decimals (`1.50`), so the row is written as text, not through serde_json numbers.
    let arr = sluice_sql::value::rest_row_text(&row);
    match shape {
        Shape::Stream { .. } => arr,
        Shape::Legacy => format!("{{\"row\":{{\"columns\":{arr}}}}}"),
    }
}

async fn run_select(engine: Arc<Engine>, sql: String, props: Props, shape: Shape) -> Response {
    let (q, stmt) = match runnable_of(&sql, matches!(shape, Shape::Legacy)) {
        Ok(Runnable::Select(q, stmt)) => (q, stmt),
        Ok(Runnable::Print(p, stmt)) => return run_print(&engine, &p, &stmt, &sql),
        Err(r) => return *r,
    };
    // Delimited: every line ends with a newline. JSON arrays: elements joined by ",\n".
    let (open, lead, trail, close, content_type) = match shape {
        Shape::Stream { json_array: false } => ("", "", "\n", "", DELIMITED),
        Shape::Stream { json_array: true } => ("[", ",\n", "", "]", "application/json"),
        Shape::Legacy => ("[", ",\n", "", "]", KSQL_JSON),
    };
    let bad = |e: SqlError| {
        let e = sluice_sql::engine::with_position(e.in_statement(&stmt.text), &stmt);
        respond(
            StatusCode::BAD_REQUEST,
            &entities::statement_error(&e, &sql),
        )
    };
    if !q.is_push() {
        let e2 = Arc::clone(&engine);
        let result = tokio::task::spawn_blocking(move || e2.pull_query(&q)).await;
        let result = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return bad(e),
            Err(e) => return bad(SqlError::Io(e.to_string())),
        };
        let mut body = String::from(open);
        body.push_str(&header_line(&shape, &result.id, &result.columns));
        body.push_str(trail);
        for row in result.rows {
            body.push_str(lead);
            body.push_str(&row_line(&shape, row));
            body.push_str(trail);
        }
        body.push_str(close);
        return ([(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let push = match engine.push_query(&q, &props) {
        Ok(p) => p,
        Err(e) => return bad(e),
    };
    let first = format!(
        "{open}{}{trail}",
        header_line(&shape, &push.id, &push.columns)
    );
    let legacy = matches!(shape, Shape::Legacy);
    let state = (Some(first), push.rows, shape, false);
    let stream =
        futures_util::stream::unfold(state, move |(first, mut rows, shape, done)| async move {
            if let Some(f) = first {
                return Some((
                    Ok::<_, Infallible>(Bytes::from(f)),
                    (None, rows, shape, false),
                ));
            }
            if done {
                return None;
            }
            match rows.recv().await {
                Some(row) => {
                    let line = format!("{lead}{}{trail}", row_line(&shape, row));
                    Some((Ok(Bytes::from(line)), (None, rows, shape, false)))
                }
                None => {
                    let end = if legacy {
                        format!("{lead}{}{close}", json!({"finalMessage": "Limit Reached"}))
                    } else {
                        close.to_string()
                    };
                    Some((Ok(Bytes::from(end)), (None, rows, shape, true)))
                }
            }
        });
    (
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn query_stream(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let o = match request(&body) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let Some(sql) = o.get("sql").and_then(Json::as_str).map(str::to_string) else {
        return respond(
            StatusCode::BAD_REQUEST,
            &entities::generic_error(40000, "Error parsing request: missing field 'sql'"),
        );
    };
    let json_array = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    run_select(
        engine,
        sql,
        props_of(&o, "properties"),
        Shape::Stream { json_array },
    )
    .await
}

async fn query(State(engine): State<Arc<Engine>>, body: Bytes) -> Response {
    let o = match request(&body) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let Some(sql) = o.get("ksql").and_then(Json::as_str).map(str::to_string) else {
        return respond(
            StatusCode::BAD_REQUEST,
            &entities::generic_error(40000, "Error parsing request: missing field 'ksql'"),
        );
    };
    run_select(
        engine,
        sql,
        props_of(&o, "streamsProperties"),
        Shape::Legacy,
    )
    .await
}

async fn close_query(State(engine): State<Arc<Engine>>, body: Bytes) -> Response {
    let o = match request(&body) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let id = o.get("queryId").and_then(Json::as_str).unwrap_or_default();
    if engine.close_query(id) {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "",
        )
            .into_response()
    } else {
        respond(
            StatusCode::BAD_REQUEST,
            &entities::generic_error(40001, &format!("No query with id {id}")),
        )
    }
}

async fn info() -> Response {
    respond(
        StatusCode::OK,
        &json!({"KsqlServerInfo": {
            "version": "0.29.0",
            "kafkaClusterId": "sluice",
            "ksqlServiceId": "default_",
            "serverStatus": "RUNNING",
        }}),
    )
}

async fn healthcheck() -> Response {
    respond(
        StatusCode::OK,
        &json!({"isHealthy": true, "details": {
            "metastore": {"isHealthy": true},
            "kafka": {"isHealthy": true},
            "commandRunner": {"isHealthy": true},
        }}),
    )
}

async fn status() -> Response {
    respond(StatusCode::OK, &json!({"commandStatuses": {}}))
}

/// Longest line `/inserts-stream` buffers (one row).
const MAX_INSERT_LINE: usize = 8 << 20;

/// The next newline-terminated line of `buf` (without the newline), taken out of it.
fn take_line(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let i = buf.iter().position(|b| *b == b'\n')?;
    let mut line: Vec<u8> = buf.drain(..=i).collect();
    line.pop();
    Some(line)
}

fn insert_ack(seq: u64, result: Result<(), (u32, String)>) -> Json {
    match result {
        Ok(()) => json!({"status": "ok", "seq": seq}),
        Err((code, message)) => {
            json!({"status": "error", "seq": seq, "error_code": code, "message": message})
        }
    }
}

/// `POST /inserts-stream` (HTTP/1.1 streaming, as ksqlDB): the first line is
/// `{"target": "STREAM"}`, then one JSON object per line, each written to the stream's topic
/// with the stream's formats (the engine's `Inserter`, shared with `INSERT INTO ... VALUES`);
/// each row is answered with `{"status":"ok","seq":N}` or an error object as it is written
/// (delimited lines, or a JSON array with `Accept: application/json`). A line that is not JSON
/// ends the stream with its error, as in ksqlDB; a row that cannot be written is answered
/// with its error and the stream goes on.
async fn inserts_stream(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    use futures_util::StreamExt;
    let json_array = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let bad = |code: u32, message: &str| {
        respond(
            StatusCode::BAD_REQUEST,
            &entities::generic_error(code, message),
        )
    };
    let mut data = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut ended = false;
    let args = loop {
        if let Some(line) = take_line(&mut buf) {
            break line;
        }
        if buf.len() > MAX_INSERT_LINE {
            return bad(
                40000,
                "Invalid JSON in request: the arguments line is too long",
            );
        }
        match data.next().await {
            Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
            Some(Err(e)) => return bad(40000, &format!("Error reading the request: {e}")),
            None => {
                ended = true;
                break std::mem::take(&mut buf);
            }
        }
    };
    let target = match serde_json::from_slice::<Json>(&args) {
        Ok(Json::Object(o)) => match o.get("target").and_then(Json::as_str) {
            Some(t) => t.to_string(),
            None => return bad(40000, "Invalid JSON in request: missing field 'target'"),
        },
        Ok(_) | Err(_) => {
            return bad(
                40000,
                "Invalid JSON in request: the arguments are not a JSON object",
            )
        }
    };
    let e2 = Arc::clone(&engine);
    let inserter = tokio::task::spawn_blocking(move || {
        e2.inserter(&target)
            .or_else(|first| e2.inserter(&target.to_uppercase()).map_err(|_| first))
    })
    .await;
    let inserter = match inserter {
        Ok(Ok(i)) => Arc::new(i),
        Ok(Err(e)) => return bad(40000, e.message()),
        Err(e) => return bad(50000, &format!("inserts failed: {e}")),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(64);
    tokio::spawn(async move {
        let mut seq = 0u64;
        let mut first = true;
        let send = |ack: Json, first: &mut bool| {
            let text = if json_array {
                let lead = if *first { "" } else { ",\n" };
                format!("{lead}{ack}")
            } else {
                format!("{ack}\n")
            };
            *first = false;
            text
        };
        loop {
            let mut lines = Vec::new();
            while let Some(line) = take_line(&mut buf) {
                lines.push(line);
            }
            if ended && !buf.iter().all(u8::is_ascii_whitespace) {
                lines.push(std::mem::take(&mut buf));
            }
            lines.retain(|l| !l.iter().all(u8::is_ascii_whitespace));
            if !lines.is_empty() {
                let inserter = Arc::clone(&inserter);
                let from = seq;
                let done = tokio::task::spawn_blocking(move || {
                    let mut acks = Vec::new();
                    for (i, line) in lines.iter().enumerate() {
                        let seq = from + i as u64;
                        let row = match serde_json::from_slice::<Json>(line) {
                            Ok(r) => r,
                            Err(_) => {
                                let err =
                                    Err((40000, "Invalid JSON in inserts stream".to_string()));
                                acks.push(insert_ack(seq, err));
                                return (acks, true);
                            }
                        };
                        let result = inserter
                            .insert_json(&row)
                            .map_err(|e| (40000, e.message().to_string()));
                        acks.push(insert_ack(seq, result));
                    }
                    (acks, false)
                })
                .await;
                let Ok((acks, stop)) = done else { return };
                seq += acks.len() as u64;
                for ack in acks {
                    if tx.send(send(ack, &mut first)).await.is_err() {
                        return;
                    }
                }
                if stop {
                    break;
                }
            }
            if ended {
                break;
            }
            if buf.len() > MAX_INSERT_LINE {
                let err = insert_ack(
                    seq,
                    Err((
                        40000,
                        "Invalid JSON in inserts stream: the row is too long".into(),
                    )),
                );
                let _ = tx.send(send(err, &mut first)).await;
                break;
            }
            match data.next().await {
                Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                Some(Err(_)) => break,
                None => ended = true,
            }
        }
        if json_array {
            let _ = tx.send("]".into()).await;
        }
    });
    let open = json_array.then(|| "[".to_string());
    let content_type = if json_array {
        "application/json"
    } else {
        DELIMITED
    };
    (
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(futures_util::stream::unfold(
            (open, rx),
            |(open, mut rx)| async move {
                if let Some(o) = open {
                    return Some((Ok::<_, Infallible>(Bytes::from(o)), (None, rx)));
                }
                rx.recv().await.map(|t| (Ok(Bytes::from(t)), (None, rx)))
            },
        )),
    )
        .into_response()
}
