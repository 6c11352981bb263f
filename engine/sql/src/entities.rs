//! ksqlDB's REST response entities as JSON (the `@type`d objects of `POST /ksql`, the
//! `/query-stream` header, error bodies). Pure data builders: no I/O, no engine state.

use serde_json::{json, Value as Json};

use crate::ast::SourceKind;
use crate::catalog::{Column, ColumnKind, Source};
use crate::error::SqlError;
use crate::value::type_name;

/// `currentStatus`: the answer to a statement that changed the metastore.
pub fn current_status(
    text: &str,
    command_id: &str,
    message: &str,
    query_id: Option<&str>,
    seq: i64,
) -> Json {
    json!({
        "@type": "currentStatus",
        "statementText": text,
        "commandId": command_id,
        "commandStatus": {"status": "SUCCESS", "message": message, "queryId": query_id},
        "commandSequenceNumber": seq,
        "warnings": [],
    })
}

fn source_info(s: &Source) -> Json {
    json!({
        "type": s.kind.to_string(),
        "name": s.name,
        "topic": s.topic,
        "keyFormat": s.key_format.name(),
        "valueFormat": s.value_format.name(),
        "isWindowed": s.window.is_some(),
    })
}

pub fn sources_list(text: &str, kind: SourceKind, sources: &[&Source]) -> Json {
    let list: Vec<Json> = sources.iter().map(|s| source_info(s)).collect();
    match kind {
        SourceKind::Stream => {
            json!({"@type": "streams", "statementText": text, "streams": list, "warnings": []})
        }
        SourceKind::Table => {
            json!({"@type": "tables", "statementText": text, "tables": list, "warnings": []})
        }
    }
}

/// One query of `SHOW QUERIES`.
pub struct QueryInfo {
    pub id: String,
    pub statement: String,
    pub sink: String,
    pub sink_topic: String,
    pub state: &'static str,
}

pub fn query_json(q: &QueryInfo) -> Json {
    json!({
        "queryString": q.statement,
        "sinks": [q.sink],
        "sinkKafkaTopics": [q.sink_topic],
        "id": q.id,
        "statusCount": {q.state: 1},
        "queryType": "PERSISTENT",
        "state": q.state,
    })
}

pub fn queries_list(text: &str, queries: &[QueryInfo]) -> Json {
    json!({
        "@type": "queries",
        "statementText": text,
        "queries": queries.iter().map(query_json).collect::<Vec<_>>(),
        "warnings": [],
    })
}

fn schema_json(ty: &crate::ast::SqlType) -> Json {
    use crate::ast::SqlType;
    match ty {
        SqlType::Array(e) => {
            json!({"type": "ARRAY", "fields": null, "memberSchema": schema_json(e)})
        }
        SqlType::Map(_, v) => {
            json!({"type": "MAP", "fields": null, "memberSchema": schema_json(v)})
        }
        SqlType::Struct(f) => {
            json!({"type": "STRUCT", "fields": f.iter().map(|(n, t)| json!({"name": n.0, "schema": schema_json(t)})).collect::<Vec<_>>(), "memberSchema": null})
        }
        SqlType::Int => json!({"type": "INTEGER", "fields": null, "memberSchema": null}),
        other => json!({"type": type_name(other), "fields": null, "memberSchema": null}),
    }
}

pub fn field_json(c: &Column) -> Json {
    let mut f = json!({"name": c.name, "schema": schema_json(&c.ty)});
    if c.kind == ColumnKind::Key {
        f["type"] = json!("KEY");
    }
    f
}

pub fn source_description(
    text: &str,
    s: &Source,
    partitions: i32,
    read: &[QueryInfo],
    write: &[QueryInfo],
    extended: bool,
) -> Json {
    let window = s.window.map(|w| match w {
        crate::ast::WindowKind::Tumbling { .. } => "TUMBLING",
        crate::ast::WindowKind::Hopping { .. } => "HOPPING",
        crate::ast::WindowKind::Session { .. } => "SESSION",
    });
    json!({
        "@type": "sourceDescription",
        "statementText": text,
        "sourceDescription": {
            "name": s.name,
            "windowType": window,
            "readQueries": read.iter().map(query_json).collect::<Vec<_>>(),
            "writeQueries": write.iter().map(query_json).collect::<Vec<_>>(),
            "fields": s.columns.iter().map(field_json).collect::<Vec<_>>(),
            "type": s.kind.to_string(),
            "timestamp": s.timestamp_column.clone().unwrap_or_default(),
            "statistics": "",
            "errorStats": "",
            "extended": extended,
            "keyFormat": s.key_format.name(),
            "valueFormat": s.value_format.name(),
            "topic": s.topic,
            "partitions": partitions,
            "replication": 1,
            "statement": s.statement,
            "queryOffsetSummaries": [],
            "sourceConstraints": [],
        },
        "warnings": [],
    })
}

pub fn topics_list(text: &str, topics: &[(String, i32)]) -> Json {
    json!({
        "@type": "kafka_topics",
        "statementText": text,
        "topics": topics.iter().map(|(n, p)| json!({"name": n, "replicaInfo": vec![1; (*p).max(0) as usize]})).collect::<Vec<_>>(),
        "warnings": [],
    })
}

/// The `statement_error` body (HTTP 400) for `err`, naming the statement that failed.
pub fn statement_error(err: &SqlError, text: &str) -> Json {
    let message = match err {
        SqlError::Syntax { .. } | SqlError::IllegalArgument { .. } => err.to_string(),
        other => other.message().to_string(),
    };
    let statement = match err.statement_text() {
        "" => text,
        s => s,
    };
    json!({
        "@type": "statement_error",
        "error_code": 40001,
        "message": message,
        "statementText": statement,
        "entities": [],
    })
}

/// The `generic_error` body for request-level problems (bad JSON, missing field).
pub fn generic_error(code: u32, message: &str) -> Json {
    json!({"@type": "generic_error", "error_code": code, "message": message})
}

/// `columnTypes` of a result header.
pub fn column_types(columns: &[Column]) -> Vec<String> {
    columns.iter().map(|c| type_name(&c.ty)).collect()
}
