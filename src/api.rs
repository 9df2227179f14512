//! All HTTP of the widget: one [`Api`] value per frame, raw `fetch` through web-sys (smaller
//! than gloo-net), JSON through the protocol crate's types and its serde-free [`porchlight_protocol::json`].
//!
//! Every failure becomes one [`ApiFailure`]; the components only ever see that and the protocol
//! response types.

use porchlight_protocol::json::{FromJson, ToJson};
use porchlight_protocol::{
    ApiError, Availability, CallbackFollowUp, CallbackSlots, ContactSaved, ContactUpdate, ConversationCreated,
    ErrorCode, FieldErrors, MessageAck, NewConversation, NewMessage, SiteConfig, SiteId, API_PREFIX,
    IDEMPOTENCY_HEADER,
};

use crate::i18n::{Key, Locale};

/// A request that could not be completed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// No response: network down, endpoint unreachable, blocked by CSP/CORS, or timed out.
    Offline,
    /// 429. The seconds come from `Retry-After` when the server exposes it.
    RateLimited { retry_after_secs: Option<u32> },
    /// A 4xx with the API's error body.
    Rejected(ApiError, u16),
    /// A 5xx, or any response we could not make sense of.
    Server(u16),
}

impl ApiFailure {
    /// The per-field errors of a 422, to show next to the fields.
    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            ApiFailure::Rejected(e, _) if e.error.code == ErrorCode::ValidationFailed && !e.error.fields.is_empty() => {
                Some(&e.error.fields)
            }
            _ => None,
        }
    }

    /// The site id or its allowed origins are wrong: retrying will not help.
    pub fn is_setup_problem(&self) -> bool {
        matches!(self, ApiFailure::Rejected(e, _) if matches!(e.error.code, ErrorCode::SiteNotFound | ErrorCode::OriginNotAllowed))
    }

    /// One sentence for the visitor.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            ApiFailure::Offline => locale.text(Key::Offline).to_owned(),
            ApiFailure::RateLimited { retry_after_secs: Some(n) } if *n > 1 => {
                locale.count(Key::RateLimited, u64::from(*n), &[])
            }
            ApiFailure::RateLimited { .. } => locale.text(Key::RateLimitedMoment).to_owned(),
            f if f.is_setup_problem() => locale.text(Key::SetupError).to_owned(),
            ApiFailure::Rejected(e, _) if e.error.code == ErrorCode::ValidationFailed => {
                locale.text(Key::CheckFields).to_owned()
            }
            ApiFailure::Rejected(..) | ApiFailure::Server(_) => locale.text(Key::ServerError).to_owned(),
        }
    }
}

/// Turns a non-2xx response into an [`ApiFailure`].
pub fn classify(status: u16, retry_after: Option<&str>, body: &str) -> ApiFailure {
    if status == 429 {
        return ApiFailure::RateLimited { retry_after_secs: retry_after.and_then(parse_retry_after) };
    }
    if (400..500).contains(&status) {
        if let Some(error) = ApiError::from_json_str(body) {
            return ApiFailure::Rejected(error, status);
        }
        // A 404 without our error body is a wrong endpoint or site path.
        if status == 404 {
            return ApiFailure::Rejected(ApiError::new(ErrorCode::SiteNotFound, "Not found."), status);
        }
    }
    ApiFailure::Server(status)
}

/// `Retry-After` as delta-seconds (the HTTP-date form is not used by our server).
pub fn parse_retry_after(raw: &str) -> Option<u32> {
    raw.trim().parse().ok()
}

/// The API of one site, at one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// Base URL without a trailing slash, e.g. `https://widget.example`.
    endpoint: String,
    site: SiteId,
}

impl Api {
    pub fn new(endpoint: &str, site: SiteId) -> Api {
        Api { endpoint: endpoint.trim_end_matches('/').to_owned(), site }
    }

    pub fn site(&self) -> &SiteId {
        &self.site
    }

    /// `{endpoint}/v1/sites/{site}/{rest}`. Site ids are `[a-z0-9-]`, so need no escaping.
    pub fn url(&self, rest: &str) -> String {
        format!("{}{}/sites/{}/{}", self.endpoint, API_PREFIX, self.site, rest)
    }

    /// The site's config with its texts in `language` when the site has them.
    pub async fn config(&self, language: &str) -> Result<SiteConfig, ApiFailure> {
        fetch_json("GET", &format!("{}?locale={language}", self.url("config")), None, &[]).await
    }

    pub async fn start_conversation(&self, body: &NewConversation) -> Result<ConversationCreated, ApiFailure> {
        fetch_json("POST", &self.url("conversations"), Some(to_json(body)?), &[]).await
    }

    /// Where the reply should go if the visitor is not here when it comes.
    pub async fn set_contact(
        &self,
        conversation_id: &str,
        token: &str,
        body: &ContactUpdate,
    ) -> Result<ContactSaved, ApiFailure> {
        let url = self.url(&format!("conversations/{}/contact", encode_segment(conversation_id)));
        fetch_json("PUT", &url, Some(to_json(body)?), &[("Authorization", &bearer(token))]).await
    }

    pub async fn send_message(
        &self,
        conversation_id: &str,
        token: &str,
        body: &NewMessage,
    ) -> Result<MessageAck, ApiFailure> {
        let url = self.url(&format!("conversations/{}/messages", encode_segment(conversation_id)));
        fetch_json("POST", &url, Some(to_json(body)?), &[("Authorization", &bearer(token))]).await
    }

    /// `GET …/availability`, conditional on the `ETag` of the last answer: `Ok(None)` is a 304
    /// (nothing changed). On 200 it returns the answer and its `ETag`.
    pub async fn availability(&self, etag: Option<&str>) -> Result<Option<(Availability, Option<String>)>, ApiFailure> {
        let headers: &[(&str, &str)] = match etag {
            Some(tag) => &[("If-None-Match", tag)],
            None => &[],
        };
        let (status, retry_after, etag, text) =
            fetch_text("GET", &self.url("availability"), None, headers).await.ok_or(ApiFailure::Offline)?;
        match status {
            304 => Ok(None),
            200..=299 => Availability::from_json_str(&text).map(|a| Some((a, etag))).ok_or(ApiFailure::Server(status)),
            _ => Err(classify(status, retry_after.as_deref(), &text)),
        }
    }

    /// The messages after `after` (a server id) of our conversation, oldest first: the
    /// `MessageList` JSON as it came, so the tab holding the stream can relay it to the others.
    pub async fn messages(&self, conversation_id: &str, token: &str, after: i64) -> Result<String, ApiFailure> {
        let url = self.url(&format!("conversations/{}/messages?after={after}", encode_segment(conversation_id)));
        let (status, retry_after, _, text) =
            fetch_text("GET", &url, None, &[("Authorization", &bearer(token))]).await.ok_or(ApiFailure::Offline)?;
        if (200..300).contains(&status) {
            Ok(text)
        } else {
            Err(classify(status, retry_after.as_deref(), &text))
        }
    }

    /// The conversation's event stream. `EventSource` cannot send headers, so the token goes in
    /// the query (the server accepts it there for this route only); `after` is where a fresh
    /// stream starts, a reconnecting one sends `Last-Event-ID` instead.
    pub fn events_url(&self, conversation_id: &str, token: &str, after: i64) -> String {
        let id = encode_segment(conversation_id);
        self.url(&format!("conversations/{id}/events?after={after}&token={}", encode_segment(token)))
    }

    /// Tells the operator the visitor is typing (never stored; the server drops extras).
    pub async fn typing(&self, conversation_id: &str, token: &str) -> Result<(), ApiFailure> {
        self.with_token("POST", &format!("conversations/{}/typing", encode_segment(conversation_id)), token).await
    }

    /// The visitor's own "Delete this conversation": everything in it is erased on the server.
    pub async fn delete_conversation(&self, conversation_id: &str, token: &str) -> Result<(), ApiFailure> {
        self.with_token("DELETE", &format!("conversations/{}", encode_segment(conversation_id)), token).await
    }

    /// A request with the conversation's token whose answer has no body worth reading.
    async fn with_token(&self, method: &str, rest: &str, token: &str) -> Result<(), ApiFailure> {
        let auth = bearer(token);
        let (status, retry_after, _, text) =
            fetch_text(method, &self.url(rest), Some("{}".into()), &[("Authorization", &auth)])
                .await
                .ok_or(ApiFailure::Offline)?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(classify(status, retry_after.as_deref(), &text))
        }
    }

    pub async fn callback_slots(&self) -> Result<CallbackSlots, ApiFailure> {
        fetch_json("GET", &self.url("callbacks/slots"), None, &[]).await
    }

    /// A callback's status, read with the token of its receipt.
    pub async fn callback_status(&self, reference: &str, token: &str) -> Result<CallbackFollowUp, ApiFailure> {
        let url = self.url(&format!("callbacks/{}", encode_segment(reference)));
        fetch_json("GET", &url, None, &[("Authorization", &bearer(token))]).await
    }

    /// The visitor cancels the callback they booked (its token).
    pub async fn cancel_callback(&self, reference: &str, token: &str) -> Result<(), ApiFailure> {
        self.with_token("DELETE", &format!("callbacks/{}", encode_segment(reference)), token).await
    }

    /// One outbox request (`crate::outbox`) to `{site}/{rest}`, with its idempotency key and an
    /// optional bearer token: the body of a 2xx (empty for a 204), else the failure. Ratings go
    /// this way (`POST ratings`, then `PUT`/`DELETE ratings/{id}` with the rating's token), and
    /// callback requests (`POST callbacks`).
    pub async fn send(
        &self,
        method: &str,
        rest: &str,
        body: Option<String>,
        key: &str,
        token: Option<&str>,
    ) -> Result<String, ApiFailure> {
        let auth = token.map(bearer);
        let mut headers = vec![(IDEMPOTENCY_HEADER, key)];
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth));
        }
        let (status, retry_after, _, text) =
            fetch_text(method, &self.url(rest), body, &headers).await.ok_or(ApiFailure::Offline)?;
        if (200..300).contains(&status) {
            Ok(text)
        } else {
            Err(classify(status, retry_after.as_deref(), &text))
        }
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn to_json(body: &impl ToJson) -> Result<String, ApiFailure> {
    Ok(body.to_json())
}

/// Server-chosen ids are URL-safe today; escape anything else rather than trust it.
fn encode_segment(raw: &str) -> String {
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

/// Give up on a request after this long and call it [`ApiFailure::Offline`].
const TIMEOUT_MS: i32 = 15_000;

async fn fetch_json<T: FromJson>(
    method: &str,
    url: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> Result<T, ApiFailure> {
    let (status, retry_after, _, text) = fetch_text(method, url, body, headers).await.ok_or(ApiFailure::Offline)?;
    if (200..300).contains(&status) {
        T::from_json_str(&text).ok_or(ApiFailure::Server(status))
    } else {
        Err(classify(status, retry_after.as_deref(), &text))
    }
}

/// Status, `Retry-After`, `ETag`, body.
type Reply = Option<(u16, Option<String>, Option<String>, String)>;

/// One `fetch`: `None` when no response arrived. Cookies are never sent (`credentials: omit`).
/// Boxed, so every request shares one copy of this state machine (smaller WASM).
fn fetch_text<'a>(
    method: &'a str,
    url: &'a str,
    body: Option<String>,
    extra_headers: &'a [(&'a str, &'a str)],
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + 'a>> {
    Box::pin(fetch_text_inner(method, url, body, extra_headers))
}

async fn fetch_text_inner(method: &str, url: &str, body: Option<String>, extra_headers: &[(&str, &str)]) -> Reply {
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AbortController, Headers, RequestCredentials, RequestInit, RequestMode, Response};

    let window = web_sys::window()?;
    let headers = Headers::new().ok()?;
    headers.set("Accept", "application/json").ok()?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    if let Some(body) = body {
        headers.set("Content-Type", "application/json").ok()?;
        init.set_body(&JsValue::from_str(&body));
    }
    for (name, value) in extra_headers {
        headers.set(name, value).ok()?;
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
            JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.ok()?.dyn_into().ok()?;
        let status = response.status();
        let header = |name: &str| response.headers().get(name).ok().flatten();
        let (retry_after, etag) = (header("Retry-After"), header("ETag"));
        let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string().unwrap_or_default();
        Some((status, retry_after, etag, text))
    }
    .await;

    if let Some(timer) = timer {
        window.clear_timeout_with_handle(timer);
    }
    result
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::FieldErrorCode;

    use super::*;

    #[test]
    fn urls() {
        let api = Api::new("https://w.example/", SiteId::parse("demo").unwrap());
        assert_eq!(api.url("config"), "https://w.example/v1/sites/demo/config");
        assert_eq!(encode_segment("c_1-a"), "c_1-a");
        assert_eq!(encode_segment("a/b?"), "a%2Fb%3F");
        assert_eq!(
            api.events_url("cv_1", "t+k/=", 42),
            "https://w.example/v1/sites/demo/conversations/cv_1/events?after=42&token=t%2Bk%2F%3D"
        );
    }

    #[test]
    fn rate_limits_read_retry_after() {
        assert_eq!(classify(429, Some("12"), ""), ApiFailure::RateLimited { retry_after_secs: Some(12) });
        assert_eq!(classify(429, None, ""), ApiFailure::RateLimited { retry_after_secs: None });
        assert_eq!(
            ApiFailure::RateLimited { retry_after_secs: Some(12) }.message(Locale::en()),
            "You're sending a lot right now. Please wait 12 seconds."
        );
    }

    #[test]
    fn validation_errors_carry_fields() {
        let body = r#"{"error":{"code":"validation_failed","message":"x","fields":[{"field":"phone","code":"too_short","message":"m"}]}}"#;
        let failure = classify(422, None, body);
        assert_eq!(failure.field_errors().unwrap().get("phone").unwrap().code, FieldErrorCode::TooShort);
        assert_eq!(failure.message(Locale::en()), "Please check the highlighted fields.");
    }

    #[test]
    fn unknown_site_is_a_setup_problem() {
        let body = r#"{"error":{"code":"site_not_found","message":"No such site."}}"#;
        assert!(classify(404, None, body).is_setup_problem());
        assert!(classify(404, None, "<html>").is_setup_problem());
        assert_eq!(classify(404, None, body).message(Locale::en()), "This help widget isn't set up correctly.");
    }

    #[test]
    fn everything_else_is_our_fault() {
        assert_eq!(classify(500, None, "oops"), ApiFailure::Server(500));
        assert_eq!(classify(400, None, "not json"), ApiFailure::Server(400));
        assert_eq!(
            classify(503, None, "").message(Locale::en()),
            "Something went wrong on our side. Sorry! Try again."
        );
        assert!(ApiFailure::Offline.message(Locale::en()).starts_with("We can't reach our server right now."));
    }
}
