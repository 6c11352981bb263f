//! sluice-connect: a Kafka-Connect-compatible connector runtime and REST API inside Sluice.
//! Connectors and tasks run as tokio tasks ([`worker`]); configs, offsets and statuses live in
//! the compacted `connect-configs`, `connect-offsets` and `connect-status` topics of Sluice's
//! log in Connect's own record formats ([`store`]); Connect's REST API is [`http`]. Connectors
//! plug in through [`plugin`]; converters, transforms and error handling are Connect's, by
//! their upstream names and keys. It reaches topics in-process through `sluice-log` and the
//! embedded schema registry in-process through `sluice-registry`; its network clients are the
//! connectors' own and the registry converters' client of a registry `schema.registry.url`
//! names ([`registry_client`]).

pub mod config;
pub mod connectors;
pub mod converters;
pub mod data;
pub mod error;
pub mod errors;
pub mod http;
pub mod plugin;
pub mod registry_client;
pub mod store;
pub mod transforms;
pub mod worker;

pub use error::{ConnectError, Result};
pub use worker::{GroupOffsets, Worker, WorkerConfig};
