//! The built-in connectors: FileStreamSource / FileStreamSink (Apache Kafka's
//! `connect-file`), Datagen (Confluent's `kafka-connect-datagen`), Confluent's JDBC source and
//! sink (`jdbc_source`, `jdbc_sink`, sharing `jdbc`), Debezium's PostgreSQL connector
//! (`pg_cdc`) and Confluent's HTTP sink (`http_sink`), with their upstream class names and
//! config keys; `pg_connect` opens the PostgreSQL connections of JDBC and CDC (sslmode). Each
//! owns its own source system; none touches topics.

pub mod datagen;
pub mod file;
pub mod http_sink;
pub mod jdbc;
pub mod jdbc_sink;
pub mod jdbc_source;
pub mod pg_cdc;
pub mod pg_connect;
