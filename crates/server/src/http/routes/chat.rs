//! Live chat for visitors: the conversation's event stream (SSE with `Last-Event-ID` resume)
//! and the typing signal. Also the one place messages are stored and published, for visitors
//! and operators alike ([`post_message`]).

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, StreamExt};
use porchlight_protocol::{Author, ChatMessage, ConversationClosed, FieldErrorCode, TypingEvent};
use tokio::sync::broadcast::error::RecvError;

use crate::app::chat::authorize_visitor;
use crate::app::error::AppError;
use crate::app::events::{LiveEvent, LiveEventKind, Subscription};
use crate::app::state::AppState;
use crate::domain::Token;
use crate::http::extract::{ConversationId, CurrentSite};
use crate::http::sse::sse_response;

/// Comment lines on an idle stream, so proxies and browsers keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// A replay reads the log in pages of this size (the store's page limit).
const REPLAY_PAGE: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/conversations/{id}/events", get(conversation_events))
        .route("/v1/sites/{site}/conversations/{id}/typing", post(visitor_typing))
}

/// The visitor's token: `Authorization: Bearer`, or `?token=` because `EventSource` cannot set
/// headers. A query token can end up in proxy logs; it grants only this one conversation.
fn visitor_token(headers: &HeaderMap, query: &[(String, String)]) -> Result<Token, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.trim().split_once(' ').ok_or(AppError::Unauthorized)?;
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            return Ok(Token::from_bearer(token.trim()));
        }
        return Err(AppError::Unauthorized);
    }
    query
        .iter()
        .find(|(k, v)| k == "token" && !v.is_empty())
        .map(|(_, v)| Token::from_bearer(v))
        .ok_or(AppError::Unauthorized)
}

fn parse_query(raw: Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect()
}

/// Where to resume: `Last-Event-ID` (sent by a reconnecting `EventSource`) beats `?after=`.
fn resume_after(headers: &HeaderMap, query: &[(String, String)]) -> Result<i64, AppError> {
    let invalid = || AppError::field("after", FieldErrorCode::Invalid, "Last-Event-ID / after must be a message id.");
    if let Some(value) = headers.get("last-event-id") {
        let text = value.to_str().map_err(|_| invalid())?.trim();
        return if text.is_empty() { Ok(0) } else { text.parse::<i64>().map_err(|_| invalid()) };
    }
    match query.iter().find(|(k, _)| k == "after") {
        None => Ok(0),
        Some((_, v)) => v.trim().parse::<i64>().map_err(|_| invalid()),
    }
}

pub(crate) fn message_event(message: &ChatMessage) -> Event {
    Event::default()
        .event("message")
        .id(message.id.to_string())
        .data(serde_json::to_string(message).unwrap_or_default())
}

fn typing_event(author: Author) -> Event {
    Event::default().event("typing").data(serde_json::to_string(&TypingEvent { author }).unwrap_or_default())
}

fn closed_event(closed_ms: i64) -> Event {
    Event::default().event("closed").data(serde_json::to_string(&ConversationClosed { closed_ms }).unwrap_or_default())
}

async fn conversation_events(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ConversationId(id): ConversationId,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let query = parse_query(query);
    let token = visitor_token(&headers, &query)?;
    authorize_visitor(&state, &site, &id, &token).await?;
    let after = resume_after(&headers, &query)?;

    // Subscribe first, then read the log: a message stored in between is in both, and the
    // live side skips ids already replayed.
    let subscription = state.events().subscribe_conversation(&id);
    let mut replay = Vec::new();
    let mut last_id = after;
    loop {
        let page = state.store().messages(&id, last_id).await?;
        let full = page.len() >= REPLAY_PAGE;
        if let Some(last) = page.last() {
            last_id = last.id;
        }
        replay.extend(page.iter().map(message_event));
        if !full {
            break;
        }
    }
    if let Some(closed_ms) = state.store().conversation(&id).await?.and_then(|c| c.closed_ms) {
        replay.push(closed_event(closed_ms));
    }
    let live = Live { subscription, last_id, shutdown: state.events().shutdown_signal() };
    let events = stream::iter(replay.into_iter().map(Ok)).chain(stream::unfold(live, next_live));
    Ok(sse_response(events))
}

struct Live {
    subscription: Subscription,
    last_id: i64,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The next event for the visitor; `None` ends the stream (shutdown, or the stream fell behind:
/// the browser reconnects with `Last-Event-ID` and the replay fills the gap).
async fn next_live(mut live: Live) -> Option<(Result<Event, Infallible>, Live)> {
    loop {
        let received = tokio::select! {
            received = live.subscription.recv() => received,
            _ = live.shutdown.wait_for(|down| *down) => return None,
        };
        let event = match received {
            Ok(event) => event,
            Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
        };
        let out = match &event.kind {
            LiveEventKind::Message(message) if message.id > live.last_id => {
                live.last_id = message.id;
                message_event(message)
            }
            LiveEventKind::Message(_) => continue,
            // The visitor's own typing (from another tab) is not news to them.
            LiveEventKind::Typing(Author::Operator) => typing_event(Author::Operator),
            LiveEventKind::Typing(_) => continue,
            LiveEventKind::Closed { closed_ms } => closed_event(*closed_ms),
            LiveEventKind::PromiseBroken { .. } => continue,
        };
        return Some((Ok(out), live));
    }
}

/// The visitor is typing: relayed to the operator, never stored. Throttled per conversation
/// instead of spending the IP's write budget.
async fn visitor_typing(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    ConversationId(id): ConversationId,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let token = visitor_token(&headers, &[])?;
    authorize_visitor(&state, &site, &id, &token).await?;
    if let Err(wait) = state.typing_limiter().check(std::net::Ipv4Addr::UNSPECIFIED.into(), &id, Instant::now()) {
        return Err(AppError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
    }
    state.events().publish(LiveEvent {
        site: site.id.as_str().to_owned(),
        conversation_id: id,
        kind: LiveEventKind::Typing(Author::Visitor),
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn last_event_id_beats_after_and_garbage_is_refused() {
        let q = vec![("after".to_owned(), "5".to_owned())];
        assert_eq!(resume_after(&HeaderMap::new(), &q).unwrap(), 5);
        assert_eq!(resume_after(&headers("last-event-id", "9"), &q).unwrap(), 9);
        assert_eq!(resume_after(&HeaderMap::new(), &[]).unwrap(), 0);
        assert!(resume_after(&headers("last-event-id", "x"), &[]).is_err());
    }

    #[test]
    fn token_from_header_or_query() {
        let q = vec![("token".to_owned(), "abc".to_owned())];
        assert_eq!(visitor_token(&HeaderMap::new(), &q).unwrap(), Token::from_bearer("abc"));
        assert_eq!(visitor_token(&headers("authorization", "Bearer xyz"), &q).unwrap(), Token::from_bearer("xyz"));
        assert!(visitor_token(&headers("authorization", "Basic xyz"), &q).is_err());
        assert!(visitor_token(&HeaderMap::new(), &[]).is_err());
    }
}
