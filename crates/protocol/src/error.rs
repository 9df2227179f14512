//! The one error shape of the API: `{"error": {"code", "message", "fields": [...]}}`.

use serde::{Deserialize, Serialize};

/// What went wrong, as a stable machine-readable code. The HTTP status follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not valid JSON or does not have the expected shape.
    MalformedJson,
    /// 400: a create request came without an `Idempotency-Key` header (or with an invalid one).
    MissingIdempotencyKey,
    /// 401: no or wrong credentials (operator endpoints, conversation tokens).
    Unauthorized,
    /// 403: the request's `Origin` is not one of the site's configured origins.
    OriginNotAllowed,
    /// 404: no site with this id.
    SiteNotFound,
    /// 404: no such resource (conversation, callback, route).
    NotFound,
    /// 405: the path exists but not with this method; `Allow` lists the ones it has.
    MethodNotAllowed,
    /// 413: the body is larger than [`crate::MAX_BODY_BYTES`].
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the JSON is well formed but some fields are invalid; see `fields`.
    ValidationFailed,
    /// 409: the rating's change window is over; it can no longer be changed or undone.
    ChangeWindowClosed,
    /// 422: this `Idempotency-Key` (or message client id) was already used for a request with
    /// another body; nothing was stored.
    IdempotencyKeyReused,
    /// 409: the request conflicts with what is stored (a repeated conversation create without
    /// its create key, a change to a rating that was undone).
    Conflict,
    /// 429: too many requests; retry after the `Retry-After` header's seconds.
    RateLimited,
    /// 500: the server failed; nothing about it is sent to the client.
    Internal,
    /// A code this version does not know (a newer server): treat by HTTP status.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedJson | ErrorCode::MissingIdempotencyKey => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::OriginNotAllowed => 403,
            ErrorCode::SiteNotFound | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::ChangeWindowClosed | ErrorCode::Conflict => 409,
            ErrorCode::ValidationFailed | ErrorCode::IdempotencyKeyReused => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
        }
    }
}

/// Why one field was rejected. The widget translates these; `message` is English for humans
/// reading the API directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    Required,
    TooShort,
    TooLong,
    Invalid,
    /// A value outside the allowed set (e.g. a rating value the site's scale doesn't have).
    Unsupported,
    /// Well formed, but not a value in use (a phone number no line in its country can have).
    NotInUse,
    /// A phone number in national form where the site has no default country to read it in.
    NoCountryCode,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The JSON field name, e.g. `"phone"` or `"page.path"`.
    pub field: String,
    pub code: FieldErrorCode,
    pub message: String,
}

/// The field errors of one request; empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: &str, code: FieldErrorCode, message: impl Into<String>) {
        self.0.push(FieldError { field: field.to_owned(), code, message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }

    /// `Ok(())` when there are no errors, so validators can end with `errors.into_result()`.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "FieldErrors::is_empty")]
    pub fields: FieldErrors,
}

/// The body of every non-2xx API response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorBody,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { error: ErrorBody { code, message: message.into(), fields: FieldErrors::default() } }
    }

    pub fn validation(fields: FieldErrors) -> Self {
        ApiError {
            error: ErrorBody { code: ErrorCode::ValidationFailed, message: "Some fields are invalid.".into(), fields },
        }
    }
}
