//! The broker's error type, and the one place where internal errors become Kafka error codes.

use kafka_protocol::ResponseError;
use sluice_log::LogError;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("{0:?}")]
    Kafka(ResponseError),
}

pub type Result<T, E = BrokerError> = std::result::Result<T, E>;

/// Maps a log error to the Kafka error code a client expects.
pub fn log_error_code(e: &LogError) -> i16 {
    use ResponseError as R;
    let r = match e {
        LogError::Io(_) | LogError::Poisoned(_) => R::KafkaStorageError,
        LogError::CorruptBatch(_) => R::CorruptMessage,
        LogError::InvalidBatch(_) => R::InvalidRecord,
        LogError::UnsupportedMagic(_) => R::UnsupportedForMessageFormat,
        LogError::OutOfOrderSequence { .. } => R::OutOfOrderSequenceNumber,
        LogError::ProducerFenced { .. } => R::InvalidProducerEpoch,
        LogError::OffsetOutOfRange { .. } => R::OffsetOutOfRange,
        LogError::RecordTooLarge { .. } => R::MessageTooLarge,
        LogError::TopicExists(_) => R::TopicAlreadyExists,
        LogError::UnknownTopic(_) => R::UnknownTopicOrPartition,
        LogError::InvalidTopic(_) => R::InvalidTopicException,
        LogError::InvalidConfig { .. } => R::InvalidConfig,
        LogError::InvalidPartitions(_) => R::InvalidPartitions,
        LogError::FormatVersion { .. } | LogError::BadMetadata { .. } => R::KafkaStorageError,
    };
    r.code()
}

impl BrokerError {
    pub fn code(&self) -> i16 {
        match self {
            BrokerError::Log(e) => log_error_code(e),
            BrokerError::Io(_) => ResponseError::KafkaStorageError.code(),
            BrokerError::Protocol(_) => ResponseError::InvalidRequest.code(),
            BrokerError::Kafka(r) => r.code(),
        }
    }
}
