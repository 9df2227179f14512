//! The use cases' one error type. Every failure of an API request ends up here; the http layer
//! renders it as the protocol's [`ApiError`] JSON with the status its [`ErrorCode`] implies, so
//! the widget has exactly one error shape to understand.

use porchlight_protocol::{ApiError, ErrorCode, FieldErrorCode, FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no site with this id")]
    SiteNotFound,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// Console log-in with an unknown e-mail or a wrong password (which one is not said).
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("origin not allowed")]
    OriginNotAllowed,
    #[error("missing or invalid Idempotency-Key header")]
    MissingIdempotencyKey,
    /// The body is not JSON, or JSON of the wrong shape. The text is serde's description; it
    /// goes back to the client that sent the body but is never logged (it can quote values).
    #[error("malformed JSON")]
    MalformedJson(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("the change window is over")]
    ChangeWindowClosed,
    #[error("idempotency key reused with another body")]
    IdempotencyKeyReused,
    /// 409 with a sentence saying what conflicts.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A validation failure of a single field.
    pub fn field(field: &str, code: FieldErrorCode, message: impl Into<String>) -> AppError {
        let mut errors = FieldErrors::default();
        errors.push(field, code, message);
        AppError::Validation(errors)
    }

    /// The protocol's error body for this failure (internal details are never in it).
    pub fn to_api_error(&self) -> ApiError {
        use AppError::*;
        match self {
            SiteNotFound => ApiError::new(ErrorCode::SiteNotFound, "No site with this id."),
            NotFound => ApiError::new(ErrorCode::NotFound, "Not found."),
            MethodNotAllowed => {
                ApiError::new(ErrorCode::MethodNotAllowed, "This method is not allowed here; see the Allow header.")
            }
            Unauthorized => ApiError::new(ErrorCode::Unauthorized, "A valid bearer token is required."),
            BadCredentials => ApiError::new(ErrorCode::Unauthorized, "Wrong e-mail or password."),
            OriginNotAllowed => {
                ApiError::new(ErrorCode::OriginNotAllowed, "This origin may not use this site's widget.")
            }
            MissingIdempotencyKey => ApiError::new(
                ErrorCode::MissingIdempotencyKey,
                "An Idempotency-Key header of 8-64 characters of A-Z, a-z, 0-9, - or _ is required.",
            ),
            MalformedJson(detail) => ApiError::new(ErrorCode::MalformedJson, format!("Malformed JSON: {detail}")),
            UnsupportedMediaType => {
                ApiError::new(ErrorCode::UnsupportedMediaType, "The body must be application/json.")
            }
            PayloadTooLarge => ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("The body is larger than {} bytes.", porchlight_protocol::MAX_BODY_BYTES),
            ),
            Validation(fields) => ApiError::validation(fields.clone()),
            ChangeWindowClosed => ApiError::new(
                ErrorCode::ChangeWindowClosed,
                "This rating can no longer be changed or undone: its change window is over.",
            ),
            IdempotencyKeyReused => ApiError::new(
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key (or client_id) was already used for a request with another body; nothing was stored. Use a new key for a new request.",
            ),
            Conflict(message) => ApiError::new(ErrorCode::Conflict, *message),
            RateLimited { .. } => ApiError::new(ErrorCode::RateLimited, "Too many requests; try again later."),
            // Internal details stay in the log; the client learns only that it was our fault.
            Database(_) | Internal(_) => ApiError::new(ErrorCode::Internal, "Internal server error."),
        }
    }
}

impl From<crate::domain::DomainError> for AppError {
    fn from(e: crate::domain::DomainError) -> Self {
        match e {
            crate::domain::DomainError::MissingIdempotencyKey => AppError::MissingIdempotencyKey,
            crate::domain::DomainError::Validation(fields) => AppError::Validation(fields),
        }
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Database(e) => AppError::Database(e),
            crate::store::StoreError::KeyReused => AppError::IdempotencyKeyReused,
            crate::store::StoreError::ReplayRefused => AppError::Conflict(
                "A conversation was already started with this message's client_id; repeat the create with its create_key.",
            ),
            other => AppError::Internal(other.to_string()),
        }
    }
}
