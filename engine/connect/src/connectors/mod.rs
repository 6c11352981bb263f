//! The built-in connectors: FileStreamSource / FileStreamSink (Apache Kafka's
//! `connect-file`) and Datagen (Confluent's `kafka-connect-datagen`), with their upstream
//! class names and config keys. Each owns its own source system; none touches topics.

pub mod datagen;
pub mod file;
pub mod jdbc;
pub mod jdbc_sink;
pub mod jdbc_source;
pub mod pg_cdc;
