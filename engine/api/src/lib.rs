//! sluice-api: the types of the workbench API (JSON over HTTP, and JSON messages over
//! WebSocket) on the workbench port, shared by the server (`engine/workbench`) and the UI
//! (`ui/`). Only serde types and path builders: no I/O, no heavy dependencies, compiles to
//! wasm32.
//!
//! Every route lives under [`API_PREFIX`]. A cluster is addressed by its id; the embedded
//! cluster's id is [`EMBEDDED_CLUSTER`]. Errors are an HTTP status with an [`ApiError`] body.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const API_PREFIX: &str = "/api/v1";
/// Id of the cluster the app embeds (always present, cannot be removed).
pub const EMBEDDED_CLUSTER: &str = "local";

/// Error body of every failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable kind: `not_found`, `bad_request`, `conflict`, `kafka`, `unavailable`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

// ---------------------------------------------------------------------------------------
// Clusters
// ---------------------------------------------------------------------------------------

/// `GET /clusters` → `Vec<ClusterInfo>`; `POST /clusters` with [`NewCluster`] →
/// `ClusterInfo`; `DELETE /clusters/{cluster}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    pub id: String,
    pub name: String,
    pub bootstrap_servers: String,
    pub embedded: bool,
    pub security: ClusterSecurity,
    pub schema_registry_url: Option<String>,
    pub connect_url: Option<String>,
    pub ksqldb_url: Option<String>,
}

/// Connection security. Passwords are write-only: never returned by the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSecurity {
    /// `PLAINTEXT` (default), `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` (librdkafka's names).
    pub protocol: String,
    /// `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` when SASL is used.
    pub sasl_mechanism: Option<String>,
    pub sasl_username: Option<String>,
    /// PEM file of the CA to trust for SSL.
    pub ssl_ca_location: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCluster {
    pub name: String,
    pub bootstrap_servers: String,
    #[serde(default)]
    pub security: ClusterSecurity,
    #[serde(default)]
    pub sasl_password: Option<String>,
    #[serde(default)]
    pub schema_registry_url: Option<String>,
    #[serde(default)]
    pub connect_url: Option<String>,
    #[serde(default)]
    pub ksqldb_url: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Overview and live rates
// ---------------------------------------------------------------------------------------

/// `GET /clusters/{cluster}/overview`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub cluster: ClusterInfo,
    /// The cluster id the brokers report, when they do.
    pub kafka_cluster_id: Option<String>,
    pub brokers: Vec<BrokerInfo>,
    /// User topics (internal ones, starting with `_`: `__consumer_offsets`, `_schemas`, are
    /// counted separately).
    pub topic_count: usize,
    pub internal_topic_count: usize,
    pub partition_count: usize,
    /// Sum over user topics of (end offset - start offset).
    pub message_count: i64,
    pub group_count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: u16,
}

/// One sample of cluster-wide rates. `GET /clusters/{cluster}/rates` → `Vec<RateSample>` (the
/// last minutes, oldest first); WebSocket `/clusters/{cluster}/rates/live` pushes one
/// `RateSample` per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateSample {
    pub ts_ms: i64,
    /// Records per second appended to user topics (end offsets' growth).
    pub produce_per_sec: f64,
    /// Records per second committed by consumer groups (committed offsets' growth).
    pub consume_per_sec: f64,
}

// ---------------------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------------------

/// `GET /clusters/{cluster}/topics` → `Vec<TopicSummary>`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSummary {
    pub name: String,
    pub partitions: usize,
    pub replication_factor: usize,
    /// Sum over partitions of (end offset - start offset).
    pub message_count: i64,
    /// Bytes on disk, when the cluster tells (the embedded one does).
    pub size_bytes: Option<u64>,
    pub internal: bool,
}

/// `POST /clusters/{cluster}/topics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTopic {
    pub name: String,
    pub partitions: i32,
    #[serde(default = "one")]
    pub replication_factor: i32,
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
}

fn one() -> i32 {
    1
}

/// `GET /clusters/{cluster}/topics/{topic}`; `DELETE` the same path deletes the topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicDetail {
    pub name: String,
    pub internal: bool,
    pub partitions: Vec<PartitionInfo>,
    pub configs: Vec<ConfigEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionInfo {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub start_offset: i64,
    pub end_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEntry {
    pub name: String,
    pub value: Option<String>,
    pub is_default: bool,
    pub read_only: bool,
    pub sensitive: bool,
}

/// `PUT /clusters/{cluster}/topics/{topic}/configs`: sets the given keys (others untouched).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlterConfigs {
    pub configs: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------

/// Where a browse starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFrom {
    Earliest,
    /// The last `limit` messages of each partition.
    Latest,
    Offset,
    Timestamp,
}

/// Query string of `GET /clusters/{cluster}/topics/{topic}/messages` (and of the live tail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowseQuery {
    pub from: StartFrom,
    /// Only this partition; all when absent.
    pub partition: Option<i32>,
    /// With `from=offset`.
    pub offset: Option<i64>,
    /// With `from=timestamp`, ms since the epoch.
    pub timestamp_ms: Option<i64>,
    /// Most messages to return (default 500, at most 100,000).
    pub limit: Option<usize>,
    /// Substring filters (case-sensitive); a message must match all given.
    pub key: Option<String>,
    pub value: Option<String>,
    /// Matches a header key, or `key=value`.
    pub header: Option<String>,
}

/// `GET /clusters/{cluster}/topics/{topic}/messages` → `MessagePage`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    /// Ordered by timestamp, then partition and offset.
    pub messages: Vec<Message>,
    /// Records read to find them (filters skip some).
    pub scanned: u64,
    /// True when the scan stopped at the end of every partition.
    pub reached_end: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
    /// UTF-8 text when the bytes are valid UTF-8, else base64 (see `key_base64`).
    pub key: Option<String>,
    pub key_base64: bool,
    pub value: Option<String>,
    pub value_base64: bool,
    pub headers: Vec<MessageHeader>,
    /// Schema id of a value in the Confluent wire format (magic 0, 4-byte id).
    pub value_schema_id: Option<u32>,
    pub key_schema_id: Option<u32>,
    /// Key plus value bytes.
    pub size: usize,
    /// A wire-format value decoded through the cluster's schema registry: the value as JSON
    /// text (Avro/Protobuf/JSON Schema data rendered as JSON), with the schema it was read
    /// with. None when the value is not in the wire format or the cluster has no registry.
    #[serde(default)]
    pub value_decoded: Option<DecodedData>,
    #[serde(default)]
    pub key_decoded: Option<DecodedData>,
}

/// Wire-format bytes read through the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecodedData {
    pub schema_id: u32,
    /// `AVRO`, `PROTOBUF` or `JSON`.
    pub schema_type: String,
    /// A subject the schema is registered under (the topic's `-value`/`-key` one first).
    pub subject: Option<String>,
    pub version: Option<i32>,
    /// The decoded data as JSON text; None when decoding failed (see `error`).
    pub json: Option<String>,
    /// Why the bytes could not be decoded (unknown id, registry unreachable, bad body).
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageHeader {
    pub key: String,
    pub value: Option<String>,
}

/// `POST /clusters/{cluster}/topics/{topic}/messages` → `ProduceResult`. Sends `records`
/// (each `copies` times, default 1) and waits for every acknowledgement (acks=all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceRequest {
    pub records: Vec<ProduceRecord>,
    #[serde(default)]
    pub copies: Option<u32>,
    /// Serialize every record's value (a JSON text) with this registered schema, in the
    /// Confluent wire format, as Confluent's serializers do. Raw bytes of the text when absent.
    #[serde(default)]
    pub value_schema: Option<SchemaChoice>,
    /// The same for keys.
    #[serde(default)]
    pub key_schema: Option<SchemaChoice>,
}

/// A registered schema to serialize with: a subject's version (latest when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaChoice {
    pub subject: String,
    #[serde(default)]
    pub version: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceRecord {
    pub key: Option<String>,
    pub value: Option<String>,
    #[serde(default)]
    pub headers: Vec<MessageHeader>,
    /// The partitioner picks when absent.
    pub partition: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceResult {
    pub produced: u64,
    /// (partition, offset) of the first and last record acknowledged.
    pub first: Option<(i32, i64)>,
    pub last: Option<(i32, i64)>,
}

// ---------------------------------------------------------------------------------------
// SQL (the selected cluster's ksqlDB server)
// ---------------------------------------------------------------------------------------
//
// `/clusters/{cluster}/ksql/{path}` forwards any request (method, query, `Content-Type`,
// `Accept`, body) to the cluster's ksqlDB URL and streams the answer back as it comes:
// ksqlDB's REST API (`/ksql`, `/query-stream`, `/query`, `/close-query`, `/info` ...),
// unchanged, whether the server is the embedded SQL engine or a remote ksqlDB. A push
// query's body never ends; the browser closing the request ends the upstream request too.
// A cluster without a ksqlDB URL answers 404 `not_found`; an unreachable server 502
// `unavailable`.

// ---------------------------------------------------------------------------------------
// Schemas (the selected cluster's schema registry)
// ---------------------------------------------------------------------------------------
//
// `/clusters/{cluster}/registry/{path}` forwards any request verbatim (method, query, body,
// content type) to the cluster's schema registry URL and answers with the registry's status
// and body: the Confluent REST API, unchanged, whether the registry is the embedded one or a
// remote Confluent Schema Registry. A cluster without a registry URL answers 404
// `not_found`; an unreachable registry 502 `unavailable`. The routes below add what the
// Confluent API does not give in one call.

/// `GET /clusters/{cluster}/schemas/subjects` (query `deleted=true` includes soft-deleted
/// subjects) → `Vec<SubjectSummary>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectSummary {
    pub subject: String,
    /// `AVRO`, `PROTOBUF` or `JSON`, of the latest version.
    pub schema_type: String,
    pub latest_version: i32,
    pub latest_id: u32,
    pub version_count: usize,
    /// The effective compatibility level (the subject's own, else the global one).
    pub compatibility: String,
    /// True when the level is the subject's own, not inherited from the global config.
    pub compatibility_overridden: bool,
    /// The effective mode (`READWRITE`, `READONLY`, `IMPORT`).
    pub mode: String,
    /// Soft-deleted (only listed with `deleted=true`).
    pub deleted: bool,
}

/// `POST /clusters/{cluster}/schemas/validate` → `SchemaValidation`: parses a schema as the
/// registry would (references resolved through the cluster's registry), for live editor
/// feedback. Never registers anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidateSchema {
    /// `AVRO` (default), `PROTOBUF` or `JSON`.
    #[serde(default)]
    pub schema_type: Option<String>,
    pub schema: String,
    #[serde(default)]
    pub references: Vec<SchemaReference>,
}

/// Confluent's schema reference (`name` as imported, `subject`, `version`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaReference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaValidation {
    pub valid: bool,
    pub errors: Vec<SchemaProblem>,
    /// The canonical form when valid (Avro canonical JSON, normalized .proto, JSON).
    pub canonical: Option<String>,
}

/// One problem, located when the parser says where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaProblem {
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// `GET /clusters/{cluster}/schemas/subjects/{subject}/compare?from=V&to=W` →
/// `SchemaComparison`: the two versions' texts (pretty-printed, for a side-by-side diff)
/// and whether going from `from` to `to` is backward compatible (`to` reads data written
/// with `from`) and forward compatible (`from` reads data written with `to`), with the
/// reasons when not, whatever the subject's configured level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaComparison {
    pub subject: String,
    pub schema_type: String,
    pub from_version: i32,
    pub to_version: i32,
    pub from_schema: String,
    pub to_schema: String,
    pub backward: CompatibilityVerdict,
    pub forward: CompatibilityVerdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompatibilityVerdict {
    pub compatible: bool,
    pub reasons: Vec<String>,
}

/// `GET /clusters/{cluster}/schemas/subjects/{subject}/form?version=V` (latest when absent)
/// → `SchemaForm`: the schema as a tree of fields, for a produce form generated from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaForm {
    pub subject: String,
    pub version: i32,
    pub schema_id: u32,
    pub schema_type: String,
    pub root: FormField,
}

/// One field of a generated form. A value typed into the form becomes the JSON the
/// registry-aware produce (`ProduceRequest::value_schema`) serializes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// Field name (empty for the root and for array items / map values).
    pub name: String,
    pub doc: Option<String>,
    pub kind: FormKind,
    /// The field accepts null (Avro `["null", T]`, proto3 `optional`, JSON Schema null type).
    pub nullable: bool,
    /// The default as JSON text, when the schema gives one.
    pub default: Option<String>,
    /// The field may be left out of the value (a JSON Schema property not in `required`, an
    /// Avro field with a default, any Protobuf field).
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FormKind {
    /// Avro record, Protobuf message, JSON Schema object. `type_name` is its full name.
    Record {
        type_name: Option<String>,
        fields: Vec<FormField>,
    },
    Enum {
        type_name: Option<String>,
        symbols: Vec<String>,
    },
    Array {
        items: Box<FormField>,
    },
    /// String-keyed map.
    Map {
        values: Box<FormField>,
    },
    /// One of several branches (Avro union other than the null one, Protobuf oneof). A
    /// Protobuf oneof's branches are records holding just the member field, so the value
    /// `{"oneof": {"member": v}}` says which member (produce accepts it, and the flat
    /// `{"member": v}` of protobuf's JSON).
    Union {
        branches: Vec<FormField>,
    },
    String,
    /// 32-bit and 64-bit integers.
    Int,
    Long,
    Float,
    Double,
    Boolean,
    /// Bytes / fixed, entered as text.
    Bytes,
    /// A logical type shown to the user: `date`, `timestamp-millis`, `uuid`, `decimal`...
    Logical {
        logical: String,
        base: Box<FormKind>,
    },
    /// Anything the form cannot express: raw JSON.
    Json,
}

// ---------------------------------------------------------------------------------------
// Consumer groups
// ---------------------------------------------------------------------------------------

/// `GET /clusters/{cluster}/groups` → `Vec<GroupSummary>`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub group_id: String,
    /// Kafka's state name: `Stable`, `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Dead`.
    pub state: String,
    pub protocol_type: String,
    pub members: usize,
    /// Total lag over the partitions it has committed offsets for.
    pub lag: i64,
    pub topics: Vec<String>,
}

/// `GET /clusters/{cluster}/groups/{group}`; `DELETE` the same path deletes an inactive group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub group_id: String,
    pub state: String,
    pub protocol_type: String,
    /// The assignor (`range`, `roundrobin`, `cooperative-sticky`, ...).
    pub protocol: String,
    pub members: Vec<GroupMember>,
    pub offsets: Vec<GroupOffset>,
    pub lag: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub member_id: String,
    pub client_id: String,
    pub client_host: String,
    pub assignment: Vec<TopicPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOffset {
    pub topic: String,
    pub partition: i32,
    /// None when the group has no committed offset there.
    pub committed: Option<i64>,
    pub end_offset: i64,
    pub lag: i64,
}

/// `GET /clusters/{cluster}/groups/{group}/lag` → `Vec<LagSample>` (sampled by the server
/// every few seconds while it runs, oldest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LagSample {
    pub ts_ms: i64,
    pub lag: i64,
}

/// `POST /clusters/{cluster}/groups/{group}/reset` → `Vec<GroupOffset>` (the new offsets).
/// Only for a group with no active members (`409 conflict` otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetOffsets {
    /// One topic, or every topic the group has offsets for.
    pub topic: Option<String>,
    /// One partition of `topic`, or all.
    pub partition: Option<i32>,
    pub to: ResetTo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResetTo {
    Earliest,
    Latest,
    Timestamp { timestamp_ms: i64 },
    Offset { offset: i64 },
}

// ---------------------------------------------------------------------------------------
// Live tail (WebSocket)
// ---------------------------------------------------------------------------------------

/// WebSocket `/clusters/{cluster}/topics/{topic}/tail` (query: `partition`, `key`, `value`,
/// `header` filters as in [`BrowseQuery`]): the server sends one `TailEvent` per JSON text
/// frame, starting at the current end of the topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// One event per frame, moved once: boxing the message would only change the UI's matches.
#[allow(clippy::large_enum_variant)]
pub enum TailEvent {
    Message { message: Message },
    Error { message: String },
}

/// Paths, so server routes and UI calls cannot drift apart.
pub mod paths {
    use super::API_PREFIX;

    pub fn clusters() -> String {
        format!("{API_PREFIX}/clusters")
    }
    pub fn cluster(c: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}")
    }
    pub fn overview(c: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/overview")
    }
    pub fn rates(c: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/rates")
    }
    pub fn rates_live(c: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/rates/live")
    }
    pub fn topics(c: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/topics")
    }
    pub fn topic(c: &str, t: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/topics/{t}")
    }
    pub fn topic_configs(c: &str, t: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/topics/{t}/configs")
    }
    pub fn messages(c: &str, t: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/topics/{t}/messages")
    }
    pub fn tail(c: &str, t: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/topics/{t}/tail")
    }
    pub fn groups(c: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/groups")
    }
    pub fn group(c: &str, g: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/groups/{g}")
    }
    pub fn group_lag(c: &str, g: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/groups/{g}/lag")
    }
    pub fn group_reset(c: &str, g: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/groups/{g}/reset")
    }
    /// The registry pass-through: `rest` is a Confluent path such as `subjects/s/versions`.
    pub fn registry(c: &str, rest: &str) -> String {
        format!(
            "{API_PREFIX}/clusters/{c}/registry/{}",
            rest.trim_start_matches('/')
        )
    }
    /// The ksqlDB pass-through: `rest` is a ksqlDB REST path such as `ksql` or `query-stream`.
    pub fn ksql(c: &str, rest: &str) -> String {
        format!(
            "{API_PREFIX}/clusters/{c}/ksql/{}",
            rest.trim_start_matches('/')
        )
    }
    /// The Kafka Connect pass-through: `rest` is a Connect REST path such as `connectors` or
    /// `connector-plugins/{type}/config/validate`.
    pub fn connect(c: &str, rest: &str) -> String {
        format!(
            "{API_PREFIX}/clusters/{c}/connect/{}",
            rest.trim_start_matches('/')
        )
    }
    pub fn subjects(c: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/schemas/subjects")
    }
    pub fn schema_validate(c: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/schemas/validate")
    }
    pub fn schema_compare(c: &str, s: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/schemas/subjects/{s}/compare")
    }
    pub fn schema_form(c: &str, s: &str) -> String {
        format!("{API_PREFIX}/clusters/{c}/schemas/subjects/{s}/form")
    }
}
