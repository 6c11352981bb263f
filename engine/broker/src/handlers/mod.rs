//! One module per Kafka API family. Handlers turn a decoded request into a response; they
//! never touch sockets, and every error becomes a Kafka error code in the response.

pub mod admin;
pub mod configs;
pub mod fetch;
pub mod metadata;
pub mod offsets;
pub mod produce;

use kafka_protocol::messages::{BrokerId, TopicName};
use kafka_protocol::protocol::StrBytes;
use sluice_log::Topic;

pub(crate) fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

pub(crate) fn topic_name(s: &str) -> TopicName {
    TopicName(sb(s))
}

pub(crate) fn topic_uuid(t: &Topic) -> uuid::Uuid {
    uuid::Uuid::from_bytes(t.id)
}

pub(crate) fn broker_id(id: i32) -> BrokerId {
    BrokerId(id)
}
