//! sluice-registry: a Confluent-compatible schema registry on Sluice's own log. Schemas,
//! configs and modes live in the compacted `_schemas` topic in Confluent's record format;
//! [`SchemaRegistry`] is the state and its operations, [`http`] the REST surface (Confluent's
//! routes, content types and error JSON), [`formats`] the schema languages, [`codec`] the
//! Confluent wire format (data ↔ JSON, no I/O; shared by the workbench and the SQL engine).

pub mod codec;
pub mod error;
pub mod formats;
pub mod http;
pub mod model;
pub mod registry;

pub use error::{RegistryError, Result};
pub use registry::{SchemaRegistry, SCHEMAS_TOPIC};
