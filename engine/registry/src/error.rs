//! The registry's one error type, and the one place it becomes Confluent's error JSON
//! (`{"error_code": 40401, "message": "..."}`, HTTP status = the code's first three digits).

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    #[error("Schema {0} not found")]
    SchemaNotFound(String),
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Subject '{subject}' Version {version} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted { subject: String, version: i32 },
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectLevelCompatibilityNotConfigured(String),
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectLevelModeNotConfigured(String),
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{details}]")]
    Incompatible { subject: String, details: String },
    #[error("Invalid schema {0}")]
    InvalidSchema(String),
    #[error("The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")]
    InvalidVersion(String),
    #[error("Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")]
    InvalidCompatibilityLevel,
    #[error("Invalid mode. Valid values are READWRITE, READONLY, IMPORT")]
    InvalidMode,
    #[error("Subject {0} is in read-only mode")]
    ReadOnly(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("Error while storing the schema: {0}")]
    Store(String),
    #[error("HTTP 404 Not Found")]
    NoRoute,
}

impl RegistryError {
    /// Confluent's error code.
    pub fn error_code(&self) -> u32 {
        use RegistryError::*;
        match self {
            SubjectNotFound(_) => 40401,
            VersionNotFound(_) => 40402,
            SchemaNotFound(_) => 40403,
            SubjectSoftDeleted(_) => 40404,
            SubjectNotSoftDeleted(_) => 40405,
            VersionNotSoftDeleted { .. } => 40407,
            SubjectLevelCompatibilityNotConfigured(_) => 40408,
            SubjectLevelModeNotConfigured(_) => 40409,
            Incompatible { .. } => 409,
            InvalidSchema(_) => 42201,
            InvalidVersion(_) => 42202,
            InvalidCompatibilityLevel => 42203,
            InvalidMode => 42204,
            ReadOnly(_) => 42205,
            BadRequest(_) => 400,
            Store(_) => 50001,
            NoRoute => 404,
        }
    }

    /// The HTTP status: the error code's first three digits.
    pub fn http_status(&self) -> u16 {
        let code = self.error_code();
        let mut status = code;
        while status >= 1000 {
            status /= 10;
        }
        status as u16
    }
}

impl From<sluice_log::LogError> for RegistryError {
    fn from(e: sluice_log::LogError) -> Self {
        RegistryError::Store(e.to_string())
    }
}

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_the_codes_first_digits() {
        assert_eq!(
            RegistryError::SubjectNotFound("s".into()).http_status(),
            404
        );
        assert_eq!(RegistryError::InvalidSchema("x".into()).http_status(), 422);
        assert_eq!(
            RegistryError::Incompatible {
                subject: "s".into(),
                details: String::new()
            }
            .http_status(),
            409
        );
        assert_eq!(RegistryError::Store("x".into()).http_status(), 500);
    }
}
