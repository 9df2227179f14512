//! The `/v1` JSON API. Handlers only translate: wire type → domain type → store → wire type.
//! The site guard (origin, CORS) and the rate limiter have run before any of these.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use porchlight_protocol::{Author, ConversationCreated, FieldErrorCode, MessageList, NewConversation, NewMessage};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::webhooks::Outbox;
use crate::domain::{new_id, Token, ValidConversation, ValidMessage};
use crate::http::extract::{ApiJson, Bearer, ConversationId, CurrentSite};
use crate::http::respond::respond;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/config", get(site_config))
        .route("/v1/sites/{site}/conversations", post(start_conversation))
        .route("/v1/sites/{site}/conversations/{id}/messages", post(add_message).get(list_messages))
}

/// `?locale=lv-LV,en`: the visitor's languages, best first (the loader's list). The texts are
/// chosen from the query, never from `Accept-Language`, so the URL alone decides the answer and
/// shared caches need no `Vary`.
async fn site_config(CurrentSite(site): CurrentSite, RawQuery(query): RawQuery) -> Response {
    let locales = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "locale")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut response = Json(site.public_config(&locales)).into_response();
    // Short, so an edited config reaches visitors within a minute without a request per page.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    response
}

async fn start_conversation(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ApiJson(new): ApiJson<NewConversation>,
) -> Result<Response, AppError> {
    let conversation = ValidConversation::parse(new)?;
    let outbox = Outbox::for_site(&site);
    // A fresh token every time: on a replay (the first response was lost) it is added beside
    // the original, so the visitor can continue and any earlier tab keeps working. Only hashes
    // are stored.
    let token = Token::generate();
    // What the visitor was shown before writing: the promise they acted on.
    let now_ms = state.clock().now_ms();
    let (shown, team) = crate::app::ledger::availability_and_team(&state, &site, now_ms).await?;
    let stored = state
        .store()
        .start_conversation(&site.id, &new_id("cv"), &conversation, &token.hash(), now_ms, &outbox)
        .await?;
    let created = stored.is_created();
    let start = stored.into_inner();
    if created {
        // The promise the visitor acted on goes into the ledger; a failure there must not undo
        // the stored message.
        if let Err(e) =
            crate::app::ledger::conversation_started(&state, &site, &start.conversation_id, &shown, now_ms).await
        {
            tracing::warn!(error = %e, "cannot record the conversation's promise");
        }
        if let Err(e) = crate::app::assignment::assign_new(&state, &team, &start.conversation_id).await {
            tracing::warn!(error = %e, "cannot assign the conversation");
        }
        let first = &conversation.first;
        crate::app::chat::publish_message(
            &state,
            &site,
            &start.conversation_id,
            first,
            Author::Visitor,
            None,
            &start.first_message,
        );
    }
    let body = ConversationCreated {
        conversation_id: start.conversation_id,
        token: token.into_string(),
        message: start.first_message,
    };
    Ok(respond(created, body))
}

async fn add_message(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ConversationId(id): ConversationId,
    Bearer(token): Bearer,
    ApiJson(new): ApiJson<NewMessage>,
) -> Result<Response, AppError> {
    crate::app::chat::authorize_visitor(&state, &site, &id, &token).await?;
    let message = ValidMessage::parse(new)?;
    let key = std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    if let Err(wait) = state.conversation_limiter().check(key, &id, std::time::Instant::now()) {
        let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(AppError::RateLimited { retry_after_secs: retry_after_secs.max(1) });
    }
    let stored = crate::app::chat::post_message(&state, &site, &id, &message, Author::Visitor, None).await?;
    Ok(respond(stored.is_created(), stored.into_inner()))
}

async fn list_messages(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ConversationId(id): ConversationId,
    Bearer(token): Bearer,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    crate::app::chat::authorize_visitor(&state, &site, &id, &token).await?;
    let after = match url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).find(|(k, _)| k == "after") {
        None => 0,
        Some((_, v)) => v
            .parse::<i64>()
            .map_err(|_| AppError::field("after", FieldErrorCode::Invalid, "after must be a message id."))?,
    };
    let messages = state.store().messages(&id, after).await?;
    let mut response = Json(MessageList { messages }).into_response();
    // Private conversation: no cache may keep a copy.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
