//! All HTTP of the console: same-origin `fetch` with the session cookie
//! (`credentials: same-origin`), JSON through the protocol crate's types.
//!
//! Writes always carry `Content-Type: application/json` (also when there is nothing to say,
//! as `{}`): the server's CSRF check wants it next to the browser's own `Origin`.

use porchlight_protocol::{
    CallbackFollowUp, CallbackList, CallbackStatus, CallbackStatusUpdate, CannedReplies, ConsoleConversation,
    ConsolePresenceUpdate, ConversationClosed, History, Inbox, MessageAck, NewMessage, OperatorLogin, OperatorMe,
    Presence, PresenceStatus, PromiseSummary, RatingSummary,
};
use serde::de::DeserializeOwned;

use crate::i18n::{Key, Locale};

/// A request that did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No response (network, timeout).
    Offline,
    /// 401: not signed in (or wrong credentials on log-in, or a route that wants the operator
    /// token rather than the session).
    Unauthorized,
    /// Any other non-2xx. The API's own message is English and written for developers, so the
    /// operator sees the status in their language instead.
    Status(u16),
    /// 422: the fields the server refused (their names), for a form to mark in its own words.
    Fields(Vec<String>),
    /// A 2xx whose body is not what this console expects (a server of another release).
    Unexpected,
}

impl Failure {
    pub fn message(&self, locale: Locale) -> String {
        match self {
            Failure::Offline => locale.text(Key::ErrOffline).into(),
            Failure::Unauthorized => locale.text(Key::ErrSession).into(),
            Failure::Status(429) => locale.text(Key::ErrTooMany).into(),
            Failure::Status(status) => locale.format(Key::ErrStatus, &[("status", &locale.number(u64::from(*status)))]),
            Failure::Fields(_) => locale.format(Key::ErrStatus, &[("status", &locale.number(422))]),
            Failure::Unexpected => locale.text(Key::ErrUnexpected).into(),
        }
    }
}

fn classify(status: u16) -> Failure {
    if status == 401 {
        Failure::Unauthorized
    } else {
        Failure::Status(status)
    }
}

/// `/v1/...` path segments chosen by the server are URL-safe; escape anything else anyway.
pub fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn conversation_path(id: &str, rest: &str) -> String {
    format!("/v1/console/conversations/{}{rest}", encode_segment(id))
}

pub async fn me() -> Result<OperatorMe, Failure> {
    json("GET", "/v1/console/me", None).await
}

pub async fn login(email: String, password: String) -> Result<OperatorMe, Failure> {
    json("POST", "/v1/console/login", Some(to_json(&OperatorLogin { email, password }))).await
}

pub async fn logout() -> Result<(), Failure> {
    empty("POST", "/v1/console/logout", Some("{}".into())).await
}

pub async fn set_presence(site: String, status: PresenceStatus) -> Result<Presence, Failure> {
    json("PUT", "/v1/console/presence", Some(to_json(&ConsolePresenceUpdate { site, status }))).await
}

pub async fn presence(site: &str) -> Result<Presence, Failure> {
    json("GET", &format!("/v1/console/presence?site={}", encode_segment(site)), None).await
}

/// The tab is closing (`pagehide`): the operator is away now, not after the server's expiry.
/// `keepalive` lets the request outlive the page; nobody waits for its answer.
pub fn leave() {
    use web_sys::{Headers, RequestCredentials, RequestInit, RequestMode};
    let Some(window) = web_sys::window() else { return };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_mode(RequestMode::SameOrigin);
    init.set_credentials(RequestCredentials::SameOrigin);
    let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &true.into());
    if let Ok(headers) = Headers::new() {
        let _ = headers.set("Content-Type", "application/json");
        init.set_headers(&headers);
    }
    init.set_body(&wasm_bindgen::JsValue::from_str("{}"));
    let _ = window.fetch_with_str_and_init("/v1/console/leave", &init);
}

pub async fn heartbeat() -> Result<(), Failure> {
    empty("POST", "/v1/console/heartbeat", Some("{}".into())).await
}

/// `view`: `mine`, `unassigned` or `all`.
pub async fn inbox(site: &str, view: &str) -> Result<Inbox, Failure> {
    json("GET", &format!("/v1/console/inbox?site={}&view={view}", encode_segment(site)), None).await
}

/// Claim (`Some(my id)`), transfer or unassign (`None`).
pub async fn assign(id: &str, operator_id: Option<String>) -> Result<(), Failure> {
    empty("POST", &conversation_path(id, "/assign"), Some(to_json(&porchlight_protocol::AssignUpdate { operator_id })))
        .await
}

pub async fn conversation(id: &str) -> Result<ConsoleConversation, Failure> {
    json("GET", &conversation_path(id, ""), None).await
}

pub async fn reply(id: &str, body: &NewMessage) -> Result<MessageAck, Failure> {
    json("POST", &conversation_path(id, "/messages"), Some(to_json(body))).await
}

pub async fn typing(id: &str) -> Result<(), Failure> {
    empty("POST", &conversation_path(id, "/typing"), Some("{}".into())).await
}

pub async fn close(id: &str) -> Result<ConversationClosed, Failure> {
    json("POST", &conversation_path(id, "/close"), Some("{}".into())).await
}

pub async fn promises(site: &str) -> Result<PromiseSummary, Failure> {
    json("GET", &format!("/v1/sites/{}/promises/summary?days=30", encode_segment(site)), None).await
}

pub async fn callbacks(site: &str) -> Result<CallbackList, Failure> {
    json("GET", &format!("/v1/sites/{}/callbacks?status=pending", encode_segment(site)), None).await
}

pub async fn set_callback_status(
    site: &str,
    reference: &str,
    status: CallbackStatus,
) -> Result<CallbackFollowUp, Failure> {
    let path = format!("/v1/sites/{}/callbacks/{}/status", encode_segment(site), encode_segment(reference));
    json("PUT", &path, Some(to_json(&CallbackStatusUpdate { status, due_ms: None }))).await
}

/// Conversations of the last 90 days whose messages, e-mail or page contain `q`.
pub async fn history(site: &str, q: &str) -> Result<History, Failure> {
    let path = format!("/v1/console/history?site={}&q={}", encode_segment(site), encode_segment(q));
    json("GET", &path, None).await
}

pub async fn canned_replies(site: &str) -> Result<CannedReplies, Failure> {
    json("GET", &format!("/v1/console/replies?site={}", encode_segment(site)), None).await
}

/// E-mails the whole conversation to the visitor; answers the address it goes to, masked.
pub async fn transcript(id: &str) -> Result<String, Failure> {
    let answer: serde_json::Value = json("POST", &conversation_path(id, "/transcript"), Some("{}".into())).await?;
    answer["to"].as_str().map(str::to_owned).ok_or(Failure::Unexpected)
}

/// The site's operators, online first: whom a conversation can be transferred to.
pub async fn team(site: &str) -> Result<porchlight_protocol::Team, Failure> {
    json("GET", &format!("/v1/console/team?site={}", encode_segment(site)), None).await
}

/// Admins: one person's data on `site`, named by `kind` (`email`, `phone`, `conversation`).
pub async fn data(action: &str, site: &str, kind: &str, value: &str) -> Result<serde_json::Value, Failure> {
    let mut body = serde_json::Map::new();
    body.insert("site".into(), site.into());
    body.insert(kind.into(), value.into());
    json("POST", &format!("/v1/console/data/{action}"), Some(serde_json::Value::Object(body).to_string())).await
}

/// Admins: the audit log, newest first.
pub async fn audit() -> Result<serde_json::Value, Failure> {
    json("GET", "/v1/console/audit", None).await
}

/// Admins: every operator account.
pub async fn operators() -> Result<porchlight_protocol::OperatorAccounts, Failure> {
    json("GET", "/v1/console/operators", None).await
}

/// Admins: a new account.
pub async fn add_operator(
    new: &porchlight_protocol::NewOperator,
) -> Result<porchlight_protocol::OperatorAccount, Failure> {
    json("POST", "/v1/console/operators", Some(to_json(new))).await
}

/// Admins: an account's sites, role and capacity, all three replaced.
pub async fn update_operator(
    id: &str,
    access: &porchlight_protocol::OperatorAccess,
) -> Result<porchlight_protocol::OperatorAccount, Failure> {
    json("PUT", &format!("/v1/console/operators/{}", encode_segment(id)), Some(to_json(access))).await
}

/// Admins: removes an account (a JSON body, as every cookie write carries).
pub async fn remove_operator(id: &str) -> Result<(), Failure> {
    empty("DELETE", &format!("/v1/console/operators/{}", encode_segment(id)), Some("{}".into())).await
}

/// Admins: dead webhook deliveries.
pub async fn dead_webhooks() -> Result<serde_json::Value, Failure> {
    json("GET", "/v1/console/webhooks/dead", None).await
}

/// Admins: `retry` or `drop` every dead delivery.
pub async fn dead_webhooks_all(action: &str) -> Result<serde_json::Value, Failure> {
    json("POST", &format!("/v1/console/webhooks/dead/{action}"), Some(r#"{"ids":null}"#.into())).await
}

pub async fn ratings(site: &str) -> Result<RatingSummary, Failure> {
    json("GET", &format!("/v1/sites/{}/ratings/summary?days=30", encode_segment(site)), None).await
}

fn to_json<T: serde::Serialize>(body: &T) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

async fn json<T: DeserializeOwned>(method: &str, path: &str, body: Option<String>) -> Result<T, Failure> {
    let (status, text) = fetch_text(method, path, body).await.ok_or(Failure::Offline)?;
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|_| Failure::Unexpected)
    } else if status == 422 {
        let fields = serde_json::from_str::<porchlight_protocol::ApiError>(&text)
            .map(|e| e.error.fields.0.into_iter().map(|f| f.field).collect())
            .unwrap_or_default();
        Err(Failure::Fields(fields))
    } else {
        Err(classify(status))
    }
}

async fn empty(method: &str, path: &str, body: Option<String>) -> Result<(), Failure> {
    let (status, _) = fetch_text(method, path, body).await.ok_or(Failure::Offline)?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(classify(status))
    }
}

const TIMEOUT_MS: i32 = 15_000;

/// One `fetch`: status and body, `None` when no response arrived. Boxed: one state machine for
/// every request (smaller WASM).
/// A request under way: status and body, or `None` when no response arrived.
type Pending<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Option<(u16, String)>> + 'a>>;

fn fetch_text<'a>(method: &'a str, path: &'a str, body: Option<String>) -> Pending<'a> {
    Box::pin(async move {
        use wasm_bindgen::{closure::Closure, JsCast, JsValue};
        use wasm_bindgen_futures::JsFuture;
        use web_sys::{AbortController, Headers, RequestCredentials, RequestInit, RequestMode, Response};

        let window = web_sys::window()?;
        let headers = Headers::new().ok()?;
        headers.set("Accept", "application/json").ok()?;
        let init = RequestInit::new();
        init.set_method(method);
        init.set_mode(RequestMode::SameOrigin);
        init.set_credentials(RequestCredentials::SameOrigin);
        if let Some(body) = body {
            headers.set("Content-Type", "application/json").ok()?;
            init.set_body(&JsValue::from_str(&body));
        }
        init.set_headers(&headers);
        let controller = AbortController::new().ok();
        let timer = controller.as_ref().and_then(|controller| {
            init.set_signal(Some(&controller.signal()));
            let controller = controller.clone();
            let abort = Closure::once_into_js(move || controller.abort());
            window.set_timeout_with_callback_and_timeout_and_arguments_0(abort.unchecked_ref(), TIMEOUT_MS).ok()
        });
        let result = async {
            let response: Response =
                JsFuture::from(window.fetch_with_str_and_init(path, &init)).await.ok()?.dyn_into().ok()?;
            let status = response.status();
            let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string().unwrap_or_default();
            Some((status, text))
        }
        .await;
        if let Some(timer) = timer {
            window.clear_timeout_with_handle(timer);
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_failures() {
        assert_eq!(conversation_path("cv_1-a", "/close"), "/v1/console/conversations/cv_1-a/close");
        assert_eq!(conversation_path("a/b?", ""), "/v1/console/conversations/a%2Fb%3F");
        assert_eq!(classify(401), Failure::Unauthorized);
        assert_eq!(classify(404), Failure::Status(404));
        let en = crate::i18n::en();
        assert_eq!(classify(500).message(en), "The server answered 500.");
        assert_eq!(Failure::Status(429).message(en), "Too many attempts. Wait a moment and try again.");
        assert_eq!(Failure::Offline.message(en), "The server cannot be reached. Retrying…");
    }
}
