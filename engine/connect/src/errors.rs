//! Connect's error handling for one task: `errors.tolerance` (none | all),
//! `errors.retry.timeout` / `errors.retry.delay.max.ms` (retrying operations that failed with a
//! retriable error), `errors.log.enable` / `errors.log.include.messages`, and for sinks the
//! dead letter queue (`errors.deadletterqueue.topic.name`, with Connect's `__connect.errors.*`
//! context headers when `errors.deadletterqueue.context.headers.enable`). It decides what
//! happens to a failed record; it never converts or transforms.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::config::{boolean, int, Config};
use crate::data::Header;
use crate::error::ConnectError;

/// Where in the pipeline a record failed (Connect's `Stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    KeyConverter,
    ValueConverter,
    HeaderConverter,
    Transformation,
    TaskPut,
    TaskPoll,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::TaskPut => "TASK_PUT",
            Stage::TaskPoll => "TASK_POLL",
        }
    }
}

/// A task's error settings.
#[derive(Debug, Clone)]
pub struct ErrorPolicy {
    pub tolerate_all: bool,
    /// -1: retry forever.
    pub retry_timeout_ms: i64,
    pub retry_delay_max_ms: i64,
    pub log: bool,
    pub log_messages: bool,
    pub dlq_topic: Option<String>,
    pub dlq_context_headers: bool,
}

impl ErrorPolicy {
    pub fn from_config(c: &Config) -> ErrorPolicy {
        ErrorPolicy {
            tolerate_all: c
                .get("errors.tolerance")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("all")),
            retry_timeout_ms: int(c, "errors.retry.timeout", 0),
            retry_delay_max_ms: int(c, "errors.retry.delay.max.ms", 60_000).max(1),
            log: boolean(c, "errors.log.enable", false),
            log_messages: boolean(c, "errors.log.include.messages", false),
            dlq_topic: c
                .get("errors.deadletterqueue.topic.name")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            dlq_context_headers: boolean(c, "errors.deadletterqueue.context.headers.enable", false),
        }
    }

    /// Whether a retriable failure that started at `since` may be tried again, and after how
    /// long (exponential from 300 ms, capped by `errors.retry.delay.max.ms`).
    pub fn retry_after(&self, since: Instant, attempt: u32) -> Option<Duration> {
        let elapsed = since.elapsed().as_millis() as i64;
        if self.retry_timeout_ms == 0
            || (self.retry_timeout_ms > 0 && elapsed >= self.retry_timeout_ms)
        {
            return None;
        }
        let delay = (300i64 << attempt.min(16)).min(self.retry_delay_max_ms);
        let delay = if self.retry_timeout_ms > 0 {
            delay.min(self.retry_timeout_ms - elapsed).max(1)
        } else {
            delay
        };
        Some(Duration::from_millis(delay as u64))
    }

    /// Logs a failed record as Connect's `LogReporter` does, when `errors.log.enable`.
    pub fn log_failure(
        &self,
        connector: &str,
        task: usize,
        stage: Stage,
        error: &ConnectError,
        what: &str,
    ) {
        if !self.log {
            return;
        }
        if self.log_messages {
            tracing::error!(connector, task, stage = stage.as_str(), record = what, error = %error, "Error encountered in task {connector}-{task}");
        } else {
            tracing::error!(connector, task, stage = stage.as_str(), error = %error, "Error encountered in task {connector}-{task}");
        }
    }
}

/// Connect's exception class for an error, for traces and DLQ headers.
pub fn exception_class(e: &ConnectError) -> &'static str {
    match e {
        ConnectError::Data(_) => "org.apache.kafka.connect.errors.DataException",
        ConnectError::Retriable(_) => "org.apache.kafka.connect.errors.RetriableException",
        _ => "org.apache.kafka.connect.errors.ConnectException",
    }
}

/// The trace a FAILED status shows: the exception line, then where it happened.
pub fn trace(e: &ConnectError, context: &str) -> String {
    format!("{}: {e}\n\tat {context}\n", exception_class(e))
}

/// The record context a sink failure happened on.
pub struct FailedRecord<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub connector: &'a str,
    pub task: usize,
    pub stage: Stage,
    /// The class that failed (converter or transform class, or the connector's).
    pub class_name: &'a str,
}

/// Connect's DLQ context headers (`DeadLetterQueueReporter`), appended to the record's own.
pub fn dlq_headers(r: &FailedRecord<'_>, error: &ConnectError) -> Vec<Header> {
    let h = |k: &str, v: String| (k.to_string(), Some(Bytes::from(v)));
    vec![
        h("__connect.errors.topic", r.topic.to_string()),
        h("__connect.errors.partition", r.partition.to_string()),
        h("__connect.errors.offset", r.offset.to_string()),
        h("__connect.errors.connector.name", r.connector.to_string()),
        h("__connect.errors.task.id", r.task.to_string()),
        h("__connect.errors.stage", r.stage.as_str().to_string()),
        h("__connect.errors.class.name", r.class_name.to_string()),
        h(
            "__connect.errors.exception.class.name",
            exception_class(error).to_string(),
        ),
        h("__connect.errors.exception.message", error.to_string()),
        h(
            "__connect.errors.exception.stacktrace",
            trace(error, r.class_name),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stop_at_the_timeout() {
        let mut c = Config::new();
        let p = ErrorPolicy::from_config(&c);
        assert!(p.retry_after(Instant::now(), 0).is_none());
        c.insert("errors.retry.timeout".into(), "1000".into());
        c.insert("errors.retry.delay.max.ms".into(), "500".into());
        let p = ErrorPolicy::from_config(&c);
        assert_eq!(
            p.retry_after(Instant::now(), 5),
            Some(Duration::from_millis(500))
        );
        assert!(p
            .retry_after(Instant::now() - Duration::from_secs(2), 0)
            .is_none());
    }
}
