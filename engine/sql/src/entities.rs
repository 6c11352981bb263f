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
        // ksqlDB's SchemaInfo: the base type, precision and scale as parameters.
        SqlType::Decimal { precision, scale } => json!({
            "type": "DECIMAL", "fields": null, "memberSchema": null,
            "parameters": {"precision": precision, "scale": scale},
        }),
        other => json!({"type": type_name(other), "fields": null, "memberSchema": null}),
    }
}

pub fn field_json(c: &Column) -> Json {
    let mut f = json!({"name": c.name, "schema": schema_json(&c.ty)});
    match c.kind {
        ColumnKind::Key => f["type"] = json!("KEY"),
        ColumnKind::Header => f["type"] = json!("HEADER"),
        ColumnKind::Value => {}
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
    stats: (&str, &str),
) -> Json {
    let window = window_type(s.window);
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
            "statistics": if extended { stats.0 } else { "" },
            "errorStats": if extended { stats.1 } else { "" },
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

/// `DESCRIBE STREAMS|TABLES [EXTENDED]`: the `source_descriptions` entity.
pub fn source_descriptions(text: &str, descriptions: Vec<Json>) -> Json {
    json!({
        "@type": "source_descriptions",
        "statementText": text,
        "sourceDescriptions": descriptions,
        "warnings": [],
    })
}

fn window_type(w: Option<crate::ast::WindowKind>) -> Option<&'static str> {
    w.map(|w| match w {
        crate::ast::WindowKind::Tumbling { .. } => "TUMBLING",
        crate::ast::WindowKind::Hopping { .. } => "HOPPING",
        crate::ast::WindowKind::Session { .. } => "SESSION",
    })
}

/// What ksqlDB's `QueryDescription` says of one query.
pub struct QueryDetail<'a> {
    pub id: &'a str,
    pub statement: &'a str,
    pub window: Option<crate::ast::WindowKind>,
    pub fields: &'a [Column],
    pub sources: &'a [String],
    pub sinks: &'a [String],
    pub topology: String,
    pub execution_plan: String,
    pub overridden: &'a serde_json::Map<String, Json>,
    /// `host:port` → state; empty for `EXPLAIN <statement>` (nothing runs).
    pub host_state: Option<(&'a str, &'a str)>,
    pub query_type: &'a str,
    /// Sluice's addition (ksqlDB clients ignore unknown fields): the query's own throughput in
    /// ksqlDB's stats format, since ksqlDB's only per-topic `statistics` mix queries.
    pub stats: Option<(String, String)>,
}

/// ksqlDB's `QueryDescription` object.
pub fn query_description(q: &QueryDetail) -> Json {
    let mut d = json!({
        "id": q.id,
        "statementText": q.statement,
        "windowType": window_type(q.window),
        "fields": q.fields.iter().map(field_json).collect::<Vec<_>>(),
        "sources": q.sources,
        "sinks": q.sinks,
        "topology": q.topology,
        "executionPlan": q.execution_plan,
        "overriddenProperties": q.overridden,
        "ksqlHostQueryStatus": q.host_state.map(|(h, s)| json!({h: s})).unwrap_or_else(|| json!({})),
        "queryType": q.query_type,
        "queryErrors": [],
        "tasksMetadata": [],
        "consumerGroupId": format!("_confluent-ksql-default_query_{}", q.id),
        "state": q.host_state.map(|(_, s)| s),
    });
    if let Some((stats, errors)) = &q.stats {
        d["statistics"] = json!(stats);
        d["errorStats"] = json!(errors);
    }
    d
}

/// `EXPLAIN`: the `queryDescription` entity.
pub fn query_description_entity(text: &str, q: &QueryDetail) -> Json {
    json!({
        "@type": "queryDescription",
        "statementText": text,
        "queryDescription": query_description(q),
        "warnings": [],
    })
}

/// `SHOW QUERIES EXTENDED`: the `query_descriptions` entity.
pub fn query_descriptions(text: &str, queries: &[QueryDetail]) -> Json {
    json!({
        "@type": "query_descriptions",
        "statementText": text,
        "queryDescriptions": queries.iter().map(query_description).collect::<Vec<_>>(),
        "warnings": [],
    })
}

/// `SHOW FUNCTIONS`: the `function_names` entity.
pub fn function_names(text: &str) -> Json {
    json!({
        "@type": "function_names",
        "statementText": text,
        "functions": crate::functions::FUNCTIONS.iter().map(|f| json!({
            "name": f.name,
            "type": f.kind.name(),
            "category": f.category,
        })).collect::<Vec<_>>(),
        "warnings": [],
    })
}

/// `DESCRIBE FUNCTION`: the `describe_function` entity.
pub fn describe_function(text: &str, f: &crate::functions::Function) -> Json {
    let variants: Vec<Json> = f
        .variants
        .iter()
        .map(|v| {
            let args: Vec<Json> = v
                .args
                .iter()
                .enumerate()
                .map(|(i, (name, ty))| {
                    let variadic = v.variadic && i + 1 == v.args.len();
                    let ty = if variadic {
                        format!("{ty}[]")
                    } else {
                        ty.to_string()
                    };
                    json!({"name": name, "type": ty, "description": "", "isVariadic": variadic})
                })
                .collect();
            json!({
                "arguments": args,
                "argumentTypes": args.iter().map(|a| a["type"].clone()).collect::<Vec<_>>(),
                "returnType": v.returns,
                "description": if v.description.is_empty() { f.description } else { v.description },
            })
        })
        .collect();
    json!({
        "@type": "describe_function",
        "statementText": text,
        "name": f.name,
        "description": f.description,
        "author": "sluice",
        "version": "",
        "path": "internal",
        "functions": variants,
        "type": f.kind.name(),
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
