//! The operator console's API under `/v1/console/`: log-in with a session cookie, presence,
//! the inbox, conversations, replies, typing, closing and the operator event stream.
//!
//! Authentication: the `porchlight_session` cookie, or `Authorization: Bearer <operator token>`
//! (automation). Cookie-authenticated requests that change something must send `Content-Type:
//! application/json` and an `Origin` equal to this server's own origin (CSRF; see
//! [`crate::domain::accounts`]). These routes are not under `/v1/sites/`, so no CORS headers are ever added:
//! other origins cannot read the answers.
//!
//! An operator sees only their sites (`porchlight operator add --sites`); a conversation of
//! another site answers 404, as one that does not exist. Every console request, and the
//! console's heartbeat, keeps the operator's presence alive ([`crate::app::presence`]).

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures_util::stream;
use porchlight_protocol::{
    AssignUpdate, Assignee, Author, CannedReplies, ConsoleConversation, ConsoleEvent, ConsolePresenceUpdate,
    ConversationClosed, FieldErrorCode, History, Inbox, InboxItem, NewMessage, OperatorLogin, OperatorMe, Presence,
    PromiseBrokenEvent, Team, TeamMember, TypingEvent,
};
use tokio::sync::broadcast::error::RecvError;

use crate::app::chat::post_message;
use crate::app::error::AppError;
use crate::app::events::{LiveEvent, LiveEventKind};
use crate::app::state::AppState;
use crate::domain::accounts::{self, SESSION_TTL_MS};
use crate::domain::availability::OperatorStatus;
use crate::domain::{Site, Token, ValidMessage};
use crate::http::extract::ApiJson;
use crate::http::operator::{check_csrf, check_origin, cleared_cookie, session_cookie, session_token, ConsoleOperator};
use crate::http::respond::{no_store, report_window, respond};
use crate::http::sse::sse_response;
use crate::store::history::HistoryQuery;
use crate::store::{ConversationRow, Stored};

/// At most this many open conversations per site in the inbox.
const INBOX_LIMIT: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/console/login", post(login))
        .route("/v1/console/logout", post(logout))
        .route("/v1/console/me", get(me))
        .route("/v1/console/presence", put(set_presence).get(get_presence))
        .route("/v1/console/heartbeat", post(heartbeat))
        .route("/v1/console/leave", post(leave))
        .route("/v1/console/inbox", get(inbox))
        .route("/v1/console/events", get(operator_events))
        .route("/v1/console/conversations/{id}", get(conversation))
        .route("/v1/console/conversations/{id}/messages", post(reply))
        .route("/v1/console/conversations/{id}/typing", post(operator_typing))
        .route("/v1/console/conversations/{id}/close", post(close))
        .route("/v1/console/conversations/{id}/assign", post(assign))
        .route("/v1/console/conversations/{id}/transcript", post(transcript))
        .route("/v1/console/history", get(history))
        .route("/v1/console/replies", get(canned_replies))
        .route("/v1/console/team", get(team))
}

/// `Secure` when browsers reach us over https: the public URL says so, or the TLS-terminating
/// proxy does.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.public_url().scheme() == "https"
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

async fn me_of(state: &AppState, operator: &ConsoleOperator) -> Result<OperatorMe, AppError> {
    Ok(OperatorMe {
        id: operator.id.clone(),
        email: operator.email.clone(),
        name: operator.name.clone(),
        sites: state.site_ids().iter().map(|s| s.as_str().to_owned()).filter(|s| operator.can_see(s)).collect(),
        admin: operator.is_automation() || state.store().is_admin(&operator.id).await?,
    })
}

fn client_ip(extensions: &axum::http::Extensions) -> IpAddr {
    extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip())
}

async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OperatorLogin>,
) -> Result<Response, AppError> {
    // Log-in CSRF: a foreign page must not sign the browser in as someone else.
    check_origin(&state, &headers, false)?;
    if let Err(wait) = state.login_limiter().check(client_ip(&extensions), "console-login", Instant::now()) {
        return Err(AppError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
    }
    let stored = match accounts::normalise_email(&body.email) {
        Ok(email) => state.store().operator_by_email(&email).await?,
        Err(_) => None,
    };
    let hash = stored.as_ref().map(|o| o.password_hash.clone());
    let password = body.password;
    // Unknown e-mails are verified against a dummy hash: the same work, the same time.
    let ok = tokio::task::spawn_blocking(move || accounts::verify_password(&password, hash.as_deref()))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let operator = match (ok, stored) {
        (true, Some(operator)) => operator,
        _ => return Err(AppError::BadCredentials),
    };
    let token = Token::generate();
    let now_ms = state.clock().now_ms();
    state.store().create_session(&token.hash(), &operator.id, now_ms, now_ms + SESSION_TTL_MS).await?;
    tracing::info!(operator = %operator.id, "operator logged in");
    state.liveness().touch(&operator.id, now_ms);
    let sites = state.store().operator_sites(&operator.id).await?;
    let me =
        me_of(&state, &ConsoleOperator { id: operator.id, email: Some(operator.email), name: operator.name, sites })
            .await?;
    let mut response = no_store(Json(me).into_response());
    let cookie = HeaderValue::from_str(&session_cookie(&token, secure(&state, &headers)))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = session_token(&headers) {
        check_csrf(&state, &headers)?;
        let now_ms = state.clock().now_ms();
        // Logging out is leaving: away at once, not after the expiry.
        if let Some(operator) = state.store().session_operator(&token.hash(), now_ms).await? {
            state.liveness().forget(&operator.id);
        }
        state.store().delete_session(&token.hash(), now_ms).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let cookie = HeaderValue::from_str(&cleared_cookie(secure(&state, &headers)))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn me(State(state): State<AppState>, operator: ConsoleOperator) -> Result<Response, AppError> {
    Ok(no_store(Json(me_of(&state, &operator).await?).into_response()))
}

async fn set_presence(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    ApiJson(update): ApiJson<ConsolePresenceUpdate>,
) -> Result<Response, AppError> {
    let site = your_site(&state, &operator, &update.site)?;
    let status = OperatorStatus::from_wire(update.status).ok_or_else(|| {
        AppError::field("status", FieldErrorCode::Unsupported, "status must be \"online\" or \"away\".")
    })?;
    let now_ms = state.clock().now_ms();
    if operator.is_automation() {
        // Automation speaks for the site as a whole, as `PUT /v1/sites/{site}/presence`.
        state.store().set_presence(&site.id, status, now_ms).await?;
    } else {
        state.store().set_operator_presence(&operator.id, &site.id, status, now_ms).await?;
    }
    tracing::info!(site = %site.id, operator = %operator.id, status = status.as_str(), "operator presence set");
    Ok(no_store(Json(Presence { status: status.to_wire(), updated_ms: now_ms }).into_response()))
}

/// One of the operator's sites by id, or a field error.
fn your_site(state: &AppState, operator: &ConsoleOperator, id: &str) -> Result<std::sync::Arc<Site>, AppError> {
    state
        .site(id)
        .filter(|site| operator.can_see(site.id.as_str()))
        .ok_or_else(|| AppError::field("site", FieldErrorCode::Unsupported, "site must be one of your sites."))
}

/// `GET /v1/console/presence?site=S`: the operator's own choice for the site (`away` until they
/// choose), so the console shows the truth after every reload and log-in.
async fn get_presence(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let wanted = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "site")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let site = your_site(&state, &operator, &wanted)?;
    let (status, updated_ms) =
        state.store().operator_status(&operator.id, &site.id).await?.unwrap_or((OperatorStatus::Away, 0));
    Ok(no_store(Json(Presence { status: status.to_wire(), updated_ms }).into_response()))
}

/// The console is alive (sent every [`crate::app::presence::HEARTBEAT_MS`]); the extractor did the work.
async fn heartbeat(_operator: ConsoleOperator) -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The console's tab is closing (`pagehide`): the operator is away now, not after the expiry;
/// a reload's next request brings them back, and another open console keeps them live.
async fn leave(State(state): State<AppState>, operator: ConsoleOperator) -> StatusCode {
    state.liveness().forget(&operator.id);
    StatusCode::NO_CONTENT
}

async fn inbox(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let wanted = param("site");
    // `?view=mine|unassigned|all` (default all open).
    let view = param("view").unwrap_or_else(|| "all".into());
    if !matches!(view.as_str(), "mine" | "unassigned" | "all") {
        return Err(AppError::field("view", FieldErrorCode::Unsupported, "view must be mine, unassigned or all."));
    }
    let sites: Vec<std::sync::Arc<Site>> = match wanted {
        Some(id) => vec![your_site(&state, &operator, &id)?],
        None => state
            .site_ids()
            .iter()
            .filter(|id| operator.can_see(id.as_str()))
            .filter_map(|id| state.site(id.as_str()))
            .collect(),
    };
    let now_ms = state.clock().now_ms();
    let mut items = Vec::new();
    for site in sites {
        let promise_secs = site.promises.chat_first_reply_secs;
        let team = crate::app::assignment::team(&state, &site).await?;
        for row in state.store().open_conversations(&site.id, INBOX_LIMIT).await? {
            let reply_by_ms = row.waiting_since_ms.map(|since| since + i64::from(promise_secs) * 1000);
            // An assignee who went away no longer holds it: it is back in Unassigned.
            let assignee = row
                .assignee
                .as_deref()
                .and_then(|id| team.iter().find(|m| m.load.id == id && m.online))
                .map(|m| Assignee { id: m.load.id.clone(), name: m.load.name.clone() });
            let shown = match view.as_str() {
                "mine" => assignee.as_ref().is_some_and(|a| a.id == operator.id),
                "unassigned" => assignee.is_none(),
                _ => true,
            };
            if !shown {
                continue;
            }
            items.push(InboxItem {
                conversation_id: row.conversation_id,
                site: site.id.as_str().to_owned(),
                created_ms: row.created_ms,
                waiting_since_ms: row.waiting_since_ms,
                promise_secs,
                reply_by_ms,
                breached: reply_by_ms.is_some_and(|by| now_ms > by),
                last_message: row.last_message,
                assignee,
                page_path: row.page_path,
                visitor_locale: row.visitor_locale,
                visitor_email: row.visitor_email,
            });
        }
    }
    sort_inbox(&mut items);
    Ok(no_store(Json(Inbox { now_ms, conversations: items }).into_response()))
}

/// Longest waiting first; then conversations nobody waits on, most recent activity first.
fn sort_inbox(items: &mut [InboxItem]) {
    let activity = |i: &InboxItem| i.last_message.as_ref().map_or(i.created_ms, |m| m.created_ms);
    items.sort_by(|a, b| match (a.waiting_since_ms, b.waiting_since_ms) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.conversation_id.cmp(&b.conversation_id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => activity(b).cmp(&activity(a)),
    });
}

/// The conversation and its site, or 404 (also for a site no longer configured, and for one
/// that is not the operator's).
async fn find(
    state: &AppState,
    operator: &ConsoleOperator,
    id: &str,
) -> Result<(ConversationRow, std::sync::Arc<Site>), AppError> {
    let row = state.store().conversation(id).await?.ok_or(AppError::NotFound)?;
    operator.check_site(&row.site)?;
    let site = state.site(&row.site).ok_or(AppError::NotFound)?;
    Ok((row, site))
}

/// The conversation's site, for the routes that need nothing else of it (a reply, typing): the
/// store remembers it, so the busiest route reads nothing before it writes.
async fn site_of(state: &AppState, operator: &ConsoleOperator, id: &str) -> Result<std::sync::Arc<Site>, AppError> {
    let site = state.store().conversation_site(id).await?.ok_or(AppError::NotFound)?;
    operator.check_site(&site)?;
    state.site(&site).ok_or(AppError::NotFound)
}

async fn conversation(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (row, site) = find(&state, &operator, &id).await?;
    let mut messages = Vec::new();
    loop {
        let after = messages.last().map_or(0, |m: &porchlight_protocol::ChatMessage| m.id);
        let page = state.store().messages(&id, after).await?;
        let done = page.len() < 1000;
        messages.extend(page);
        if done {
            break;
        }
    }
    let visitor = state.store().visitor_context(&id).await?;
    let previous = match &visitor.email {
        Some(email) => state.store().conversations_of(&site.id, email, &id, PREVIOUS_SHOWN).await?,
        None => Vec::new(),
    };
    let body = ConsoleConversation {
        conversation_id: row.id,
        site: row.site,
        created_ms: row.created_ms,
        closed_ms: row.closed_ms,
        page_path: row.page_path,
        messages,
        visitor_email: visitor.email,
        page_title: visitor.page_title,
        visitor_locale: visitor.locale,
        visitor_time_zone: visitor.time_zone,
        rating: visitor.rating,
        previous,
    };
    Ok(no_store(Json(body).into_response()))
}

async fn reply(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    Path(id): Path<String>,
    ApiJson(new): ApiJson<NewMessage>,
) -> Result<Response, AppError> {
    let message = ValidMessage::parse(new)?;
    let site = site_of(&state, &operator, &id).await?;
    // Visitors see who answers them: the operator's display name on every reply.
    let name = (!operator.is_automation()).then_some(operator.name.as_str());
    let stored = post_message(&state, &site, &id, &message, Author::Operator, name).await?;
    if let Stored::Created(ack) = &stored {
        if let Err(e) = crate::app::ledger::replied(&state, &id, Some(&operator.id)).await {
            tracing::warn!(error = %e, "cannot resolve the conversation's promise");
        }
        // A visitor who left an e-mail and is not watching gets the reply by e-mail.
        if let Err(e) = crate::app::email::reply_posted(&state, &site, &id, ack.id).await {
            tracing::warn!(error = %e, "cannot queue the reply e-mail");
        }
    }
    if stored.is_created() {
        tracing::debug!(operator = %operator.id, conversation = %id, "operator replied");
    }
    Ok(respond(stored.is_created(), stored.into_inner()))
}

async fn operator_typing(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let site = site_of(&state, &operator, &id).await?;
    state.events().publish(LiveEvent {
        site: site.id.as_str().to_owned(),
        conversation_id: id,
        kind: LiveEventKind::Typing(Author::Operator),
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Claim (your own id), transfer (a colleague who works on the site) or unassign (`null`).
async fn assign(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<AssignUpdate>,
) -> Result<Response, AppError> {
    let (_row, site) = find(&state, &operator, &id).await?;
    if let Some(to) = &update.operator_id {
        let team = crate::app::assignment::team(&state, &site).await?;
        if !team.iter().any(|m| &m.load.id == to) {
            return Err(AppError::field(
                "operator_id",
                FieldErrorCode::Unsupported,
                "operator_id must be an operator of this site.",
            ));
        }
    }
    state.store().assign(&id, update.operator_id.as_deref()).await?;
    tracing::info!(operator = %operator.id, conversation = %id, to = ?update.operator_id, "conversation assigned");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// "E-mail the transcript": the whole conversation to the visitor's address; 202 with it, masked.
async fn transcript(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (_row, site) = find(&state, &operator, &id).await?;
    let to = crate::app::email::transcript_requested(&state, &site, &id).await?;
    tracing::info!(operator = %operator.id, conversation = %id, "transcript e-mailed");
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "to": to }))).into_response())
}

async fn close(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (_row, site) = find(&state, &operator, &id).await?;
    let closed_ms = state.store().close_conversation(&id, state.clock().now_ms()).await?.ok_or(AppError::NotFound)?;
    tracing::info!(operator = %operator.id, conversation = %id, "conversation closed");
    if let Err(e) = crate::app::ledger::closed(&state, &id).await {
        tracing::warn!(error = %e, "cannot void the conversation's promise");
    }
    state.events().publish(LiveEvent {
        site: site.id.as_str().to_owned(),
        conversation_id: id,
        kind: LiveEventKind::Closed { closed_ms },
    });
    Ok(no_store(Json(ConversationClosed { closed_ms }).into_response()))
}

/// Every new message, typing signal and close on the operator's sites. Notifications only (no
/// ids, no resume): after a reconnect the console reloads the inbox.
async fn operator_events(State(state): State<AppState>, operator: ConsoleOperator) -> Response {
    let sites: HashSet<String> =
        state.site_ids().iter().map(|s| s.as_str().to_owned()).filter(|s| operator.can_see(s)).collect();
    let receiver = state.events().subscribe_operators();
    let shutdown = state.events().shutdown_signal();
    // Held by the stream: the operator is live while it is open (and read).
    let alive = crate::app::presence::Liveness::stream_opened(&state, &operator.id);
    let events =
        stream::unfold((receiver, shutdown, sites, alive), |(mut receiver, mut shutdown, sites, alive)| async move {
            loop {
                let received = tokio::select! {
                    received = receiver.recv() => received,
                    _ = shutdown.wait_for(|down| *down) => return None,
                };
                let event = match received {
                    Ok(event) => event,
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                };
                if !sites.contains(&event.site) {
                    continue;
                }
                let out: Result<Event, Infallible> = Ok(console_event(&event));
                return Some((out, (receiver, shutdown, sites, alive)));
            }
        });
    sse_response(events)
}

fn console_event(event: &LiveEvent) -> Event {
    let mut body = ConsoleEvent {
        conversation_id: event.conversation_id.clone(),
        site: event.site.clone(),
        message: None,
        typing: None,
        closed: None,
        promise_broken: None,
    };
    let name = match &event.kind {
        LiveEventKind::Message(m) => {
            body.message = Some(m.clone());
            "message"
        }
        LiveEventKind::Typing(author) => {
            body.typing = Some(TypingEvent { author: *author });
            "typing"
        }
        LiveEventKind::Closed { closed_ms } => {
            body.closed = Some(ConversationClosed { closed_ms: *closed_ms });
            "closed"
        }
        LiveEventKind::PromiseBroken { kind, due_ms } => {
            body.promise_broken = Some(PromiseBrokenEvent { kind: (*kind).to_owned(), due_ms: *due_ms });
            "promise_broken"
        }
    };
    Event::default().event(name).data(serde_json::to_string(&body).unwrap_or_default())
}

/// The same visitor's other conversations shown beside one.
const PREVIOUS_SHOWN: u32 = 10;
/// History results per search.
const HISTORY_SHOWN: u32 = 50;
/// How far back a search looks without `days` ...
const HISTORY_DEFAULT_DAYS: u32 = 90;

/// `?site=S&q=TEXT&days=N&rating=V`: the site's conversations of the last N days (90) whose
/// messages, visitor e-mail or page contain TEXT, optionally with that chat rating; newest
/// first, at most 50. Closed ones open read-only.
async fn history(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let param = |name: &str| {
        crate::http::extract::query_param(query.as_deref(), name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    };
    let site = site_param(&state, &operator, param("site"))?;
    let (_, since_ms) = report_window(&site, state.clock().now_ms(), query.as_deref(), Some(HISTORY_DEFAULT_DAYS))?;
    let text = param("q");
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::field("q", FieldErrorCode::TooLong, "q must be at most 200 characters."));
    }
    let rating = param("rating");
    if let Some(value) = &rating {
        if porchlight_protocol::RatingValue::parse(value).is_none_or(|v| !site.rating_scale.values().contains(&v)) {
            return Err(AppError::field(
                "rating",
                FieldErrorCode::Invalid,
                "rating must be a value of the site's scale.",
            ));
        }
    }
    let search = HistoryQuery { text, since_ms, rating, limit: HISTORY_SHOWN };
    let conversations = state.store().search_history(&site.id, &search).await?;
    Ok(no_store(Json(History { conversations }).into_response()))
}

/// `?site=S`: the site's canned replies.
async fn canned_replies(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let site = site_param(&state, &operator, crate::http::extract::query_param(query.as_deref(), "site"))?;
    Ok(no_store(Json(CannedReplies { replies: site.canned_replies.clone() }).into_response()))
}

/// The site's operators, online first, then by name: who a conversation can be transferred to.
async fn team(
    State(state): State<AppState>,
    operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let site = site_param(&state, &operator, crate::http::extract::query_param(query.as_deref(), "site"))?;
    let mut members: Vec<TeamMember> = crate::app::assignment::team(&state, &site)
        .await?
        .into_iter()
        .map(|m| TeamMember {
            id: m.load.id,
            name: m.load.name,
            online: m.online,
            open: m.load.open,
            capacity: m.load.capacity,
        })
        .collect();
    members.sort_by(|a, b| b.online.cmp(&a.online).then_with(|| a.name.cmp(&b.name)));
    Ok(no_store(Json(Team { members }).into_response()))
}

/// The `site` parameter: a site the operator works on (404 otherwise, as for one that does not exist).
fn site_param(
    state: &AppState,
    operator: &ConsoleOperator,
    site: Option<String>,
) -> Result<std::sync::Arc<crate::domain::Site>, AppError> {
    let id = site.ok_or_else(|| AppError::field("site", FieldErrorCode::Required, "site is required."))?;
    operator.check_site(&id)?;
    state.site(&id).ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, waiting: Option<i64>, created: i64) -> InboxItem {
        InboxItem {
            conversation_id: id.into(),
            site: "demo".into(),
            created_ms: created,
            waiting_since_ms: waiting,
            promise_secs: 300,
            reply_by_ms: None,
            breached: false,
            last_message: None,
            assignee: None,
            page_path: None,
            visitor_locale: None,
            visitor_email: None,
        }
    }

    #[test]
    fn inbox_puts_the_longest_waiting_first() {
        let mut items = vec![
            item("answered-old", None, 1),
            item("new", Some(50), 50),
            item("old", Some(10), 10),
            item("answered-new", None, 9),
        ];
        sort_inbox(&mut items);
        let order: Vec<&str> = items.iter().map(|i| i.conversation_id.as_str()).collect();
        assert_eq!(order, ["old", "new", "answered-new", "answered-old"]);
    }
}
