//! Reaching a visitor after they leave: `PUT|DELETE /v1/sites/{site}/conversations/{id}/contact`
//! (the visitor's token) sets or removes the e-mail their replies go to, and
//! `GET|POST /v1/email/stop` is the one-click stop link every e-mail carries.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use porchlight_protocol::{ContactSaved, ContactUpdate, FieldErrorCode};

use crate::app::email::{mask, parse_email, stop_secret, stop_signature};
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::http::extract::{ApiJson, Bearer, ConversationId, CurrentSite};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/conversations/{id}/contact", put(set_contact).delete(remove_contact))
        .route("/v1/sites/{site}/conversations/{id}/transcript", axum::routing::post(visitor_transcript))
        .route("/v1/email/stop", get(stop).post(stop))
}

/// The visitor asks for the conversation by e-mail (to the address they gave): 202 with where it
/// goes, masked.
async fn visitor_transcript(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ConversationId(id): ConversationId,
    Bearer(token): Bearer,
) -> Result<Response, AppError> {
    crate::app::chat::authorize_visitor(&state, &site, &id, &token).await?;
    let to = crate::app::email::transcript_requested(&state, &site, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "to": to }))).into_response())
}

async fn set_contact(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ConversationId(id): ConversationId,
    Bearer(token): Bearer,
    ApiJson(update): ApiJson<ContactUpdate>,
) -> Result<Response, AppError> {
    crate::app::chat::authorize_visitor(&state, &site, &id, &token).await?;
    let email = parse_email(&update.email).map_err(|code| {
        let (code, message) = match code {
            "required" => (FieldErrorCode::Required, "email is required."),
            "too_long" => (FieldErrorCode::TooLong, "email must be at most 254 characters."),
            _ => (FieldErrorCode::Invalid, "email must be an address like name@example.com."),
        };
        AppError::field("email", code, message)
    })?;
    let locale = update
        .locale
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty() && l.len() <= 35 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    state.store().set_contact(&id, Some(&email), locale).await?;
    let now_ms = state.clock().now_ms();
    let shown = crate::app::ledger::current_availability(&state, &site, now_ms).await?;
    let body = ContactSaved { email_masked: mask(&email), reply_by_ms: shown.message.reply_by_ms };
    Ok(Json(body).into_response())
}

async fn remove_contact(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ConversationId(id): ConversationId,
    Bearer(token): Bearer,
) -> Result<Response, AppError> {
    crate::app::chat::authorize_visitor(&state, &site, &id, &token).await?;
    state.store().set_contact(&id, None, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `?c=<conversation>&s=<signature>`: no more e-mails about that conversation. GET for a click
/// in the e-mail, POST for mail clients' one-click unsubscribe (RFC 8058).
async fn stop(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, AppError> {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    let (conversation, signature) = (param("c"), param("s"));
    let secret = stop_secret(&state).await?;
    let expected = stop_signature(&secret, conversation);
    let valid = !conversation.is_empty() && crate::domain::same_secret(signature.as_bytes(), expected.as_bytes());
    if !valid {
        return Ok(page(StatusCode::NOT_FOUND, "This link is not valid."));
    }
    state.store().stop_emails(conversation).await?;
    tracing::info!(conversation = %conversation, "e-mails stopped by the visitor");
    Ok(page(StatusCode::OK, "You will get no more e-mails about this conversation."))
}

fn page(status: StatusCode, text: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Porchlight</title><p style=\"font:16px system-ui;margin:2em\">{text}</p></html>"
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
