//! The workbench's one error type, and the one place it becomes an HTTP answer: a status plus
//! an [`ApiError`] JSON body. Also the extractors that turn malformed JSON bodies, query
//! strings and paths into `400 bad_request` instead of axum's plain-text rejections. Never
//! decides *whether* something is an error: handlers and the Kafka layer do.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use serde::de::DeserializeOwned;
use sluice_api::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum WorkbenchError {
    /// 404: an unknown cluster, topic, partition or group.
    #[error("{0}")]
    NotFound(String),
    /// 400: the request itself is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// 409: the request clashes with the current state (an active group, an existing topic).
    #[error("{0}")]
    Conflict(String),
    /// 502: the cluster answered with an error.
    #[error("{0}")]
    Kafka(String),
    /// 503: the cluster could not be reached in time.
    #[error("{0}")]
    Unavailable(String),
    /// 502 `unavailable`: the cluster's schema registry could not be reached, or failed.
    #[error("{0}")]
    RegistryUnavailable(String),
    /// 502 `unavailable`: the cluster's ksqlDB server could not be reached.
    #[error("{0}")]
    KsqlUnavailable(String),
    /// 502 `unavailable`: the cluster's Kafka Connect worker could not be reached.
    #[error("{0}")]
    ConnectUnavailable(String),
    /// 500: a fault of the workbench itself (I/O on its own files, a failed task).
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = WorkbenchError> = std::result::Result<T, E>;

impl WorkbenchError {
    pub fn status(&self) -> StatusCode {
        match self {
            WorkbenchError::NotFound(_) => StatusCode::NOT_FOUND,
            WorkbenchError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WorkbenchError::Conflict(_) => StatusCode::CONFLICT,
            WorkbenchError::Kafka(_) => StatusCode::BAD_GATEWAY,
            WorkbenchError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WorkbenchError::RegistryUnavailable(_)
            | WorkbenchError::KsqlUnavailable(_)
            | WorkbenchError::ConnectUnavailable(_) => StatusCode::BAD_GATEWAY,
            WorkbenchError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable `code` of [`ApiError`].
    pub fn code(&self) -> &'static str {
        match self {
            WorkbenchError::NotFound(_) => "not_found",
            WorkbenchError::BadRequest(_) => "bad_request",
            WorkbenchError::Conflict(_) => "conflict",
            WorkbenchError::Kafka(_) => "kafka",
            WorkbenchError::Unavailable(_)
            | WorkbenchError::RegistryUnavailable(_)
            | WorkbenchError::KsqlUnavailable(_)
            | WorkbenchError::ConnectUnavailable(_) => "unavailable",
            WorkbenchError::Internal(_) => "internal",
        }
    }

    pub fn to_api_error(&self) -> ApiError {
        ApiError {
            code: self.code().to_string(),
            message: self.to_string(),
        }
    }

    /// A Kafka error code from a per-resource result (topic, group, config) of an admin call.
    pub fn from_code(what: &str, code: RDKafkaErrorCode) -> WorkbenchError {
        let message = format!("{what}: {code}");
        match code {
            RDKafkaErrorCode::UnknownTopicOrPartition
            | RDKafkaErrorCode::UnknownTopic
            | RDKafkaErrorCode::UnknownPartition
            | RDKafkaErrorCode::GroupIdNotFound => WorkbenchError::NotFound(message),
            RDKafkaErrorCode::TopicAlreadyExists | RDKafkaErrorCode::NonEmptyGroup => {
                WorkbenchError::Conflict(message)
            }
            RDKafkaErrorCode::InvalidPartitions
            | RDKafkaErrorCode::InvalidReplicationFactor
            | RDKafkaErrorCode::InvalidConfig
            | RDKafkaErrorCode::InvalidRequest
            | RDKafkaErrorCode::InvalidTopic
            | RDKafkaErrorCode::InvalidArgument
            | RDKafkaErrorCode::PolicyViolation => WorkbenchError::BadRequest(message),
            c if is_unreachable(c) => WorkbenchError::Unavailable(message),
            _ => WorkbenchError::Kafka(message),
        }
    }
}

/// Codes that mean "could not talk to the cluster" rather than "the cluster said no".
fn is_unreachable(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::AllBrokersDown
            | RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::MessageTimedOut
            | RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::Resolve
            | RDKafkaErrorCode::BrokerNotAvailable
            | RDKafkaErrorCode::LeaderNotAvailable
            | RDKafkaErrorCode::CoordinatorNotAvailable
            | RDKafkaErrorCode::NetworkException
            | RDKafkaErrorCode::Authentication
            | RDKafkaErrorCode::SaslAuthenticationFailed
            | RDKafkaErrorCode::SSL
    )
}

impl From<KafkaError> for WorkbenchError {
    fn from(e: KafkaError) -> Self {
        match e.rdkafka_error_code() {
            Some(code) => WorkbenchError::from_code("kafka", code),
            None => match e {
                KafkaError::ClientConfig(..) | KafkaError::ClientCreation(_) => {
                    WorkbenchError::BadRequest(format!("cluster connection settings: {e}"))
                }
                KafkaError::Canceled => WorkbenchError::Unavailable(e.to_string()),
                other => WorkbenchError::Kafka(other.to_string()),
            },
        }
    }
}

impl From<tokio::task::JoinError> for WorkbenchError {
    fn from(e: tokio::task::JoinError) -> Self {
        WorkbenchError::Internal(format!("a background task failed: {e}"))
    }
}

impl IntoResponse for WorkbenchError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(code = self.code(), "workbench request failed: {self}");
        }
        (status, Json(self.to_api_error())).into_response()
    }
}

/// A JSON body whose rejections are `400 bad_request` JSON.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WorkbenchError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(WorkbenchError::BadRequest(json_rejection_text(&e))),
        }
    }
}

fn json_rejection_text(e: &JsonRejection) -> String {
    format!("invalid JSON body: {}", e.body_text())
}

/// A query string whose rejections are `400 bad_request` JSON.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WorkbenchError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

fn query_rejection(e: QueryRejection) -> WorkbenchError {
    WorkbenchError::BadRequest(format!("invalid query string: {}", e.body_text()))
}

/// Path parameters whose rejections are `400 bad_request` JSON.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = WorkbenchError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(path_rejection(e)),
        }
    }
}

fn path_rejection(e: PathRejection) -> WorkbenchError {
    WorkbenchError::BadRequest(format!("invalid path: {}", e.body_text()))
}
