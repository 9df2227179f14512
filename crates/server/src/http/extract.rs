//! Extractors whose rejection is [`AppError`], so a bad header or body gets the same JSON error
//! shape as a failed validation instead of axum's plain-text rejections.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use porchlight_protocol::FieldErrorCode;

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::origin::site_segment;
use crate::domain::{IdempotencyKey, Site, Token};

/// A JSON body. Wrong `Content-Type` → 415, too large → 413, not JSON or the wrong shape → 400
/// `malformed_json` (wrong types count as malformed: the client and server disagree on the
/// contract, which no field message can fix; 422 is kept for values a person can correct).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        match Json::<Object<T>>::from_request(request, state).await {
            Ok(Json(Object(value))) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Only a JSON object is a request body. serde would also read a struct from an array of its
/// fields in order (`["good"]` as a rating): a second wire format nobody documented or tests.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_any(ObjectVisitor(PhantomData)).map(Object)
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        _ => AppError::MalformedJson(rejection.body_text()),
    }
}

/// The site named in a `/v1/sites/{site}/…` path.
pub struct CurrentSite(pub Arc<Site>);

impl FromRequestParts<AppState> for CurrentSite {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        site_segment(parts.uri.path()).and_then(|id| state.site(id)).map(CurrentSite).ok_or(AppError::SiteNotFound)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let raw = parts.headers.get(porchlight_protocol::IDEMPOTENCY_HEADER).and_then(|v| v.to_str().ok());
        Ok(IdempotencyKey::parse(raw.map(str::trim))?)
    }
}

/// `Authorization: Bearer <token>`; anything else is 401.
pub struct Bearer(pub Token);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let value =
            parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(AppError::Unauthorized)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(AppError::Unauthorized)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(AppError::Unauthorized);
        }
        Ok(Bearer(Token::from_bearer(token)))
    }
}

/// The `{id}` of `/v1/sites/{site}/conversations/{id}/…`. A segment axum cannot decode cannot
/// name a conversation, so it is a 404 like any other unknown id.
pub struct ConversationId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ConversationId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path((_site, id)) =
            Path::<(String, String)>::from_request_parts(parts, state).await.map_err(|_| AppError::NotFound)?;
        Ok(ConversationId(id))
    }
}

/// The second path parameter of `/v1/sites/{site}/<resource>/{id}…` (a rating id, a callback
/// reference). Undecodable segments name nothing: 404.
pub struct ResourceId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path((_site, id)) =
            Path::<(String, String)>::from_request_parts(parts, state).await.map_err(|_| AppError::NotFound)?;
        Ok(ResourceId(id))
    }
}

/// An operator: `Authorization: Bearer <operator token>` matching the configured token.
/// Without a configured token every request is 401.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Bearer(token) = Bearer::from_request_parts(parts, state).await?;
        if state.is_operator(&token.into_string()) {
            Ok(Operator)
        } else {
            Err(AppError::Unauthorized)
        }
    }
}

/// A query parameter's value, decoded; `None` when absent.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `?days=N`, 1 to [`crate::domain::ratings::MAX_REPORT_DAYS`]; absent gives `default`.
pub fn days_param(query: Option<&str>, default: Option<u32>) -> Result<Option<u32>, AppError> {
    match query_param(query, "days") {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(days) if (1..=crate::domain::ratings::MAX_REPORT_DAYS).contains(&days) => Ok(Some(days)),
            _ => Err(AppError::field(
                "days",
                FieldErrorCode::Invalid,
                format!("days must be a whole number from 1 to {}.", crate::domain::ratings::MAX_REPORT_DAYS),
            )),
        },
    }
}
