//! The crate's one error enum, and the one place an error becomes Connect's REST answer (an
//! HTTP status and `{"error_code": N, "message": "..."}`). It never decides what failed.

use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The request names a connector that does not exist.
    #[error("Connector {0} not found")]
    ConnectorNotFound(String),
    #[error("Connector {0} already exists")]
    ConnectorExists(String),
    #[error("Task not found: {0}")]
    TaskNotFound(String),
    /// A plugin name that matches no connector class (REST answers 404 on the plugin routes).
    #[error("Unknown plugin {0}.")]
    UnknownPlugin(String),
    /// A request Connect answers with 400 (bad JSON, invalid config, wrong state...).
    #[error("{0}")]
    BadRequest(String),
    /// A config value that does not satisfy its definition.
    #[error("Invalid value {value} for configuration {name}: {reason}")]
    InvalidConfig {
        name: String,
        value: String,
        reason: String,
    },
    /// A record that a converter, transform or connector could not handle.
    #[error("{0}")]
    Data(String),
    /// A failure worth retrying (within `errors.retry.timeout`).
    #[error("{0}")]
    Retriable(String),
    /// A connector or task failed (file I/O, a generator, ...).
    #[error("{0}")]
    Task(String),
    #[error("log: {0}")]
    Log(#[from] sluice_log::LogError),
    #[error("schema registry: {0}")]
    Registry(String),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, ConnectError>;

/// An error's message followed by its causes (`a: b: c`): the messages of client libraries
/// such as reqwest and tokio-postgres leave out why (refused, certificate not trusted, ...).
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        why.push_str(&format!(": {c}"));
        cause = c.source();
    }
    why
}

impl ConnectError {
    /// The HTTP status Connect answers with for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ConnectError::ConnectorNotFound(_)
            | ConnectError::TaskNotFound(_)
            | ConnectError::UnknownPlugin(_) => StatusCode::NOT_FOUND,
            ConnectError::ConnectorExists(_) => StatusCode::CONFLICT,
            ConnectError::BadRequest(_)
            | ConnectError::InvalidConfig { .. }
            | ConnectError::Data(_) => StatusCode::BAD_REQUEST,
            ConnectError::Task(_)
            | ConnectError::Retriable(_)
            | ConnectError::Log(_)
            | ConnectError::Registry(_)
            | ConnectError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Connect's error body: `error_code` is the HTTP status.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"error_code": self.status().as_u16(), "message": self.to_string()})
    }
}

impl axum::response::IntoResponse for ConnectError {
    fn into_response(self) -> axum::response::Response {
        (self.status(), axum::Json(self.body())).into_response()
    }
}
