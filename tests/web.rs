//! Browser tests: mount the real panel into a fresh element and check what a visitor would
//! notice. The API endpoint is unreachable on purpose (nothing listens there), which is also the
//! offline case the widget must handle well.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test --target wasm32-unknown-unknown --test web`

#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use porchlight_protocol::SiteId;
use porchlight_widget::api::Api;
use porchlight_widget::bridge::Bridge;
use porchlight_widget::i18n::Locale;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Nothing listens here, so every request fails without a response.
const UNREACHABLE: &str = "http://127.0.0.1:1";

struct Mounted {
    root: HtmlElement,
    _handle: Box<dyn std::any::Any>,
}

impl Mounted {
    async fn panel() -> Mounted {
        Mounted::panel_at(UNREACHABLE, Bridge::default()).await
    }

    /// The panel as the frame starts it, once all three tabs are drawn (it draws in steps).
    async fn panel_at(endpoint: &str, bridge: Bridge) -> Mounted {
        // Each test starts without a saved outbox or rating.
        window().local_storage().unwrap().unwrap().clear().unwrap();
        let document = document();
        let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&root).unwrap();
        let api = Api::new(endpoint, SiteId::parse("demo").unwrap());
        let owner = porchlight_widget::app::start(root.clone(), api, Locale::en(), bridge);
        let mounted = Mounted { root, _handle: Box::new(owner) };
        mounted
            .until("every tab drawn", |m| {
                ["pl-tabpanel-chat", "pl-tabpanel-callback", "pl-tabpanel-rating"]
                    .iter()
                    .all(|id| m.root.query_selector(&format!("#{id} > *")).ok().flatten().is_some())
            })
            .await;
        mounted
    }

    fn find(&self, testid: &str) -> Option<Element> {
        self.root.query_selector(&format!("[data-testid=\"{testid}\"]")).unwrap()
    }

    fn get(&self, testid: &str) -> Element {
        self.find(testid).unwrap_or_else(|| panic!("no [data-testid={testid}] in {}", self.root.inner_html()))
    }

    fn all(&self, testid: &str) -> Vec<Element> {
        let list = self.root.query_selector_all(&format!("[data-testid=\"{testid}\"]")).unwrap();
        (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect()
    }

    fn click(&self, testid: &str) {
        self.get(testid).unchecked_into::<HtmlElement>().click();
    }

    /// Types like a visitor: sets the value and fires `input`.
    fn type_into(&self, testid: &str, text: &str) {
        let el = self.get(testid);
        if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
            area.set_value(text);
        } else {
            el.unchecked_ref::<HtmlInputElement>().set_value(text);
        }
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        el.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
    }

    /// Waits until `done` holds, up to five seconds.
    async fn until(&self, what: &str, done: impl Fn(&Mounted) -> bool) {
        for _ in 0..100 {
            if done(self) {
                return;
            }
            sleep(50).await;
        }
        panic!("timed out waiting for: {what}\n{}", self.root.inner_html());
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.root.remove();
    }
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn text(el: &web_sys::Node) -> String {
    el.text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn rating_is_a_fieldset_of_three_labelled_radios() {
    let panel = Mounted::panel().await;
    sleep(0).await;
    let fieldset = panel.get("pl-rating");
    assert_eq!(fieldset.tag_name(), "FIELDSET");
    assert_eq!(text(&fieldset.query_selector("legend").unwrap().unwrap()), "How are we doing?");
    for (testid, label) in [("pl-rating-bad", "Bad"), ("pl-rating-neutral", "Okay"), ("pl-rating-good", "Good")] {
        let input: HtmlInputElement = panel.get(testid).unchecked_into();
        assert_eq!(input.type_(), "radio");
        let labels = input.labels().unwrap();
        assert_eq!(labels.length(), 1, "{testid} has a label");
        assert!(text(&labels.item(0).unwrap()).contains(label), "{testid} is labelled {label}");
        assert!(fieldset.contains(Some(&input)));
    }
}

#[wasm_bindgen_test]
async fn tabs_switch_by_click_and_arrow_keys() {
    let panel = Mounted::panel().await;
    sleep(0).await;
    let selected = |testid: &str| panel.get(testid).get_attribute("aria-selected").as_deref() == Some("true");
    assert!(selected("pl-tab-chat"));
    panel.click("pl-tab-rating");
    panel
        .until("rating tab selected", |p| {
            p.get("pl-tab-rating").get_attribute("aria-selected").as_deref() == Some("true")
        })
        .await;
    assert!(!selected("pl-tab-chat"));
    let rating_panel = panel.get("pl-rating").closest("[role=tabpanel]").unwrap().unwrap();
    assert!(!rating_panel.has_attribute("hidden"));

    let init = web_sys::KeyboardEventInit::new();
    init.set_key("ArrowRight");
    init.set_bubbles(true);
    let key = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    panel.get("pl-tab-rating").dispatch_event(&key).unwrap();
    panel
        .until("arrow wraps to chat", |p| {
            p.get("pl-tab-chat").get_attribute("aria-selected").as_deref() == Some("true")
        })
        .await;
    assert!(rating_panel.has_attribute("hidden"));
}

#[wasm_bindgen_test]
async fn unreachable_server_shows_the_offline_banner_and_the_default_wait_line() {
    let panel = Mounted::panel().await;
    panel.until("offline banner", |p| p.find("pl-offline").is_some()).await;
    assert!(text(&panel.get("pl-offline")).contains("We can't reach our server right now. What you type is kept"));
    assert_eq!(text(&panel.get("pl-wait-line")), "Typically replies in about 5 minutes");
    // The visitor can still use the tabs and type.
    assert!(panel.find("pl-chat-input").is_some() && panel.find("pl-cb-name").is_some());
}

#[wasm_bindgen_test]
async fn a_failed_chat_send_keeps_the_text_and_offers_retry() {
    let panel = Mounted::panel().await;
    sleep(0).await;
    panel.type_into("pl-chat-input", "Is the blue kettle in stock?");
    panel.click("pl-chat-send");
    panel.until("message shown", |p| p.find("pl-chat-message").is_some()).await;
    panel
        .until("send failed", |p| p.get("pl-chat-message").get_attribute("data-status").as_deref() == Some("failed"))
        .await;

    let messages = panel.all("pl-chat-message");
    assert_eq!(messages.len(), 1);
    assert!(text(&messages[0]).contains("Is the blue kettle in stock?"));
    assert!(text(&messages[0]).contains("Retry"));
    let input: HtmlTextAreaElement = panel.get("pl-chat-input").unchecked_into();
    assert_eq!(input.value(), "Is the blue kettle in stock?", "typed text is kept");
    assert!(text(&panel.get("pl-chat-error")).contains("We can't reach our server"));
    assert!(panel.find("pl-offline").is_some());

    // Sending the same text again retries the same message instead of adding a copy.
    panel.click("pl-chat-send");
    sleep(50).await;
    panel
        .until("retry failed too", |p| {
            p.get("pl-chat-message").get_attribute("data-status").as_deref() == Some("failed")
        })
        .await;
    assert_eq!(panel.all("pl-chat-message").len(), 1);
}

#[wasm_bindgen_test]
async fn callback_form_shows_field_errors_before_sending() {
    let panel = Mounted::panel().await;
    sleep(0).await;
    panel.click("pl-tab-callback");
    panel.type_into("pl-cb-phone", "12345");
    panel.click("pl-cb-submit");
    panel.until("field errors", |p| p.find("pl-cb-error-name").is_some()).await;

    assert_eq!(text(&panel.get("pl-cb-error-name")), "Please tell us your name.");
    assert_eq!(text(&panel.get("pl-cb-error-phone")), "That number looks too short.");
    let phone = panel.get("pl-cb-phone");
    assert_eq!(phone.get_attribute("aria-invalid").as_deref(), Some("true"));
    let described = phone.get_attribute("aria-describedby").unwrap_or_default();
    assert!(described.split(' ').any(|id| id == panel.get("pl-cb-error-phone").id()), "{described}");
    assert_eq!(phone.get_attribute("type").as_deref(), Some("tel"));
    assert_eq!(phone.get_attribute("autocomplete").as_deref(), Some("tel"));

    // Fixing a field clears its error; the typed values stay.
    panel.type_into("pl-cb-name", "Anna");
    panel.until("name error cleared", |p| p.find("pl-cb-error-name").is_none()).await;
    assert_eq!(panel.get("pl-cb-phone").unchecked_into::<HtmlInputElement>().value(), "12345");
}

/// The outbox the panel saved in the frame's storage (for the unreachable endpoint).
fn saved_outbox() -> String {
    let key = format!("porchlight {UNREACHABLE}/v1/sites/demo/outbox");
    window().local_storage().unwrap().unwrap().get_item(&key).unwrap().expect("an outbox is saved")
}

#[wasm_bindgen_test]
async fn an_offline_callback_is_kept_in_the_outbox_and_says_so() {
    let panel = Mounted::panel().await;
    sleep(0).await;
    panel.click("pl-tab-callback");
    panel.type_into("pl-cb-name", "Anna");
    panel.type_into("pl-cb-phone", "+371 2000 0000");
    panel.click("pl-cb-submit");
    panel.until("saved", |p| p.find("pl-cb-queued").is_some()).await;
    assert_eq!(text(&panel.get("pl-cb-queued")), "Saved — we'll send your request when you're back online.");
    assert!(panel.get("pl-cb-submit").closest("form").unwrap().unwrap().has_attribute("hidden"), "no second request");
    assert!(panel.find("pl-cb-confirmation").is_none());
    assert!(panel.find("pl-cb-status").is_none(), "the Call me tab says it; the banner is for the other tabs");
    assert!(saved_outbox().starts_with(r#"["callback","#), "the outbox is saved in the frame's storage");
}

#[wasm_bindgen_test]
async fn an_offline_rating_is_kept_in_the_outbox_and_says_so() {
    let panel = Mounted::panel().await;
    sleep(0).await;
    panel.click("pl-tab-rating");
    panel.click("pl-rating-bad");
    panel.until("pending", |p| p.find("pl-rating-pending").is_some()).await;
    assert_eq!(text(&panel.get("pl-rating-pending")), "Saved — we'll send it when you're back online.");
    assert!(panel.get("pl-rating-bad").unchecked_into::<HtmlInputElement>().checked());
    assert!(panel.find("pl-rating-thanks").is_none());
    assert!(panel.find("pl-rating-recovery").is_none(), "no recovery offer until the rating is recorded");
    assert!(saved_outbox().contains(r#"\"value\":\"bad\""#), "the outbox is saved in the frame's storage");
}

#[wasm_bindgen_test]
async fn nothing_is_stored_before_the_visitor_acts() {
    let panel = Mounted::panel().await;
    panel.until("offline banner", |p| p.find("pl-offline").is_some()).await;
    assert_eq!(window().local_storage().unwrap().unwrap().length().unwrap(), 0);
}

#[wasm_bindgen_test]
async fn the_close_button_is_labelled() {
    let panel = Mounted::panel().await;
    sleep(0).await;
    assert_eq!(panel.get("pl-close").get_attribute("aria-label").as_deref(), Some("Close"));
    assert!(panel.find("pl-panel").is_some());
}

// ---------------------------------------------------------------------------------------------
// With a fake server: `window.fetch` is replaced for the duration of a test. It answers the
// routes given (by method and URL suffix) and records every request; anything else fails like
// a network error.

const FAKE: &str = "https://api.test";

const FAKE_FETCH: &str = r#"
    const method = (init && init.method) || 'GET';
    const headers = {};
    if (init && init.headers) init.headers.forEach((v, k) => { headers[k] = v; });
    globalThis.__plCalls.push({ url: String(url), method, body: (init && init.body) || null, headers });
    for (const r of globalThis.__plRoutes) {
        if (r.method === method && String(url).split('?')[0].endsWith(r.path)) {
            const h = Object.assign({ 'content-type': 'application/json' }, r.headers || {});
            return Promise.resolve(new Response(r.status === 204 ? null : r.body, { status: r.status, headers: h }));
        }
    }
    return Promise.reject(new TypeError('Failed to fetch'));
"#;

struct FakeServer {
    original: wasm_bindgen::JsValue,
}

impl FakeServer {
    /// `routes`: (method, URL suffix, status, JSON body, extra headers).
    fn new(routes: &[(&str, &str, u16, serde_json::Value, serde_json::Value)]) -> FakeServer {
        let global = js_sys::global();
        let routes: Vec<serde_json::Value> = routes
            .iter()
            .map(|(method, path, status, body, headers)| {
                serde_json::json!({ "method": method, "path": path, "status": status, "body": body.to_string(), "headers": headers })
            })
            .collect();
        let set = |k: &str, v: &wasm_bindgen::JsValue| js_sys::Reflect::set(&global, &k.into(), v).unwrap();
        set("__plRoutes", &js_sys::JSON::parse(&serde_json::Value::from(routes).to_string()).unwrap());
        set("__plCalls", &js_sys::Array::new());
        let original = js_sys::Reflect::get(&window(), &"fetch".into()).unwrap();
        js_sys::Reflect::set(&window(), &"fetch".into(), &js_sys::Function::new_with_args("url, init", FAKE_FETCH))
            .unwrap();
        FakeServer { original }
    }

    fn calls(&self) -> Vec<serde_json::Value> {
        let calls = js_sys::Reflect::get(&js_sys::global(), &"__plCalls".into()).unwrap();
        serde_json::from_str(&js_sys::JSON::stringify(&calls).unwrap().as_string().unwrap()).unwrap()
    }

    fn calls_to(&self, method: &str, suffix: &str) -> Vec<serde_json::Value> {
        self.calls()
            .into_iter()
            .filter(|c| c["method"] == method && c["url"].as_str().unwrap().ends_with(suffix))
            .collect()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        js_sys::Reflect::set(&window(), &"fetch".into(), &self.original).unwrap();
    }
}

fn config_route(reply_secs: u32) -> (&'static str, &'static str, u16, serde_json::Value, serde_json::Value) {
    config_route_with_scale(reply_secs, "faces3")
}

fn config_route_with_scale(
    reply_secs: u32,
    scale: &str,
) -> (&'static str, &'static str, u16, serde_json::Value, serde_json::Value) {
    let config = serde_json::json!({
        "site": "demo", "name": "Demo Shop", "greeting": null, "timezone": "Europe/Riga",
        "promises": { "chat_first_reply_secs": reply_secs, "callback_business_hours": 2, "message_reply_business_days": 1 },
        "rating_scale": scale
    });
    ("GET", "/v1/sites/demo/config", 200, config, serde_json::json!({}))
}

fn body_of(call: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(call["body"].as_str().unwrap()).unwrap()
}

#[wasm_bindgen_test]
async fn config_names_the_site_and_words_the_wait() {
    let _server = FakeServer::new(&[config_route(7200)]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    panel.until("wait line", |p| !text(&p.get("pl-wait-line")).is_empty()).await;
    assert_eq!(text(&panel.get("pl-wait-line")), "Typically replies in about 2 hours");
    assert_eq!(text(&panel.root.query_selector("h1").unwrap().unwrap()), "Demo Shop");
    assert!(panel.find("pl-offline").is_none());
}

#[wasm_bindgen_test]
async fn an_unknown_site_says_the_widget_is_not_set_up() {
    let not_found = serde_json::json!({ "error": { "code": "site_not_found", "message": "No such site." } });
    let _server = FakeServer::new(&[("GET", "/v1/sites/demo/config", 404, not_found, serde_json::json!({}))]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    panel.until("setup error", |p| p.find("pl-setup-error").is_some()).await;
    assert_eq!(text(&panel.get("pl-setup-error")), "This help widget isn't set up correctly.");
    assert!(panel.find("pl-offline").is_none());
}

#[wasm_bindgen_test]
async fn chat_messages_are_acknowledged_and_later_ones_use_the_conversation() {
    let created = serde_json::json!({
        "conversation_id": "conv-1", "token": "tok-secret",
        "message": { "id": 1, "client_id": "ignored-by-widget", "created_ms": 1 }
    });
    let ack = serde_json::json!({ "id": 2, "client_id": "ignored-by-widget", "created_ms": 2 });
    let server = FakeServer::new(&[
        config_route(300),
        ("POST", "/v1/sites/demo/conversations", 201, created, serde_json::json!({})),
        ("POST", "/v1/sites/demo/conversations/conv-1/messages", 201, ack, serde_json::json!({})),
    ]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    sleep(0).await;
    panel.type_into("pl-chat-input", "Hello!");
    panel.click("pl-chat-send");
    panel
        .until("first sent", |p| {
            p.all("pl-chat-message").first().and_then(|m| m.get_attribute("data-status")).as_deref() == Some("sent")
        })
        .await;
    assert_eq!(panel.get("pl-chat-input").unchecked_into::<HtmlTextAreaElement>().value(), "", "cleared after success");
    assert!(text(&panel.get("pl-chat-message")).contains("Sent"));

    panel.type_into("pl-chat-input", "Second one");
    panel.click("pl-chat-send");
    panel
        .until("second sent", |p| {
            p.all("pl-chat-message").get(1).and_then(|m| m.get_attribute("data-status")).as_deref() == Some("sent")
        })
        .await;

    let start = server.calls_to("POST", "/conversations");
    assert_eq!(start.len(), 1);
    let first = body_of(&start[0]);
    assert_eq!(first["message"]["body"], "Hello!");
    assert!(porchlight_protocol::validate::is_valid_key(first["message"]["client_id"].as_str().unwrap()));
    let append = server.calls_to("POST", "/conversations/conv-1/messages");
    assert_eq!(append.len(), 1);
    assert_eq!(append[0]["headers"]["authorization"], "Bearer tok-secret");
    assert_eq!(body_of(&append[0])["body"], "Second one");
    assert!(panel.find("pl-chat-error").is_none());
}

#[wasm_bindgen_test]
async fn a_bad_rating_gets_an_apology_offers_help_and_tells_the_host() {
    let receipt = serde_json::json!({ "id": "r-1", "value": "bad", "created_ms": 1 });
    let server =
        FakeServer::new(&[config_route(300), ("POST", "/v1/sites/demo/ratings", 201, receipt, serde_json::json!({}))]);
    // The test page is its own parent, so the frame's messages come back to this window.
    let origin = window().location().origin().unwrap();
    let received = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let listener = {
        let received = received.clone();
        wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            received.borrow_mut().push(js_sys::JSON::stringify(&e.data()).unwrap().as_string().unwrap());
        })
    };
    window().add_event_listener_with_callback("message", listener.as_ref().unchecked_ref()).unwrap();

    let panel = Mounted::panel_at(FAKE, Bridge::new(Some(origin))).await;
    sleep(0).await;
    panel.click("pl-tab-rating");
    panel.click("pl-rating-bad");
    panel.until("the apology", |p| p.find("pl-rating-sorry").is_some()).await;
    assert_eq!(text(&panel.get("pl-rating-sorry")), "We're sorry it wasn't better.");
    assert!(panel.find("pl-rating-thanks").is_none(), "a complaint is not thanked");
    assert!(text(&panel.get("pl-rating-recovery")).contains("Can we help put it right?"));

    let calls = server.calls_to("POST", "/ratings");
    assert_eq!(calls.len(), 1);
    assert!(porchlight_protocol::validate::is_valid_key(calls[0]["headers"]["idempotency-key"].as_str().unwrap()));
    let body = body_of(&calls[0]);
    assert_eq!(body["value"], "bad");
    assert_eq!(body["scale"], "faces3");

    for _ in 0..40 {
        if received.borrow().iter().any(|m| m.contains("rating")) {
            break;
        }
        sleep(25).await;
    }
    let messages = received.borrow().clone();
    let event: serde_json::Value =
        serde_json::from_str(messages.iter().find(|m| m.contains("\"rating\"")).expect("rating event posted")).unwrap();
    assert_eq!(
        event,
        serde_json::json!({ "porchlight": 1, "type": "event", "name": "rating", "detail": { "value": "bad", "id": "r-1" } })
    );
    window().remove_event_listener_with_callback("message", listener.as_ref().unchecked_ref()).unwrap();

    // The recovery offer sends the visitor to the callback form.
    let recovery = panel.get("pl-rating-recovery");
    let buttons = recovery.query_selector_all("button").unwrap();
    buttons.item(1).unwrap().unchecked_into::<HtmlElement>().click();
    panel
        .until("callback tab", |p| p.get("pl-tab-callback").get_attribute("aria-selected").as_deref() == Some("true"))
        .await;
}

#[wasm_bindgen_test]
async fn a_callback_request_is_confirmed_with_its_reference() {
    let due = js_sys::Date::now() as i64 + 2 * 3_600_000;
    let receipt = serde_json::json!({ "reference": "PL-7K3Q9M", "status": "received", "due_ms": due, "token": "t" });
    let server = FakeServer::new(&[
        config_route(300),
        ("POST", "/v1/sites/demo/callbacks", 201, receipt, serde_json::json!({})),
    ]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    sleep(0).await;
    panel.click("pl-tab-callback");
    panel.type_into("pl-cb-name", "Anna");
    panel.type_into("pl-cb-phone", "+371 2000 0000");
    panel.type_into("pl-cb-note", "About my order");
    panel.click("pl-cb-submit");
    panel.until("confirmation", |p| p.find("pl-cb-confirmation").is_some()).await;
    let confirmation = text(&panel.get("pl-cb-confirmation"));
    assert!(confirmation.starts_with("Thanks! We'll call you by "), "{confirmation}");
    assert!(confirmation.contains("PL-7K3Q9M"), "{confirmation}");

    let calls = server.calls_to("POST", "/callbacks");
    assert_eq!(calls.len(), 1);
    assert!(porchlight_protocol::validate::is_valid_key(calls[0]["headers"]["idempotency-key"].as_str().unwrap()));
    let body = body_of(&calls[0]);
    assert_eq!(body["name"], "Anna");
    assert_eq!(body["phone"], "+371 2000 0000");
    assert_eq!(body["preferred_ms"], serde_json::Value::Null);
    assert_eq!(body["note"], "About my order");
    assert_eq!(body["website"], serde_json::Value::Null);
}

#[wasm_bindgen_test]
async fn server_field_errors_show_next_to_the_field_and_a_retry_reuses_the_key() {
    let rejected = serde_json::json!({ "error": { "code": "validation_failed", "message": "Some fields are invalid.",
        "fields": [{ "field": "phone", "code": "invalid", "message": "phone is not a number we can call." }] } });
    let server = FakeServer::new(&[
        config_route(300),
        ("POST", "/v1/sites/demo/callbacks", 422, rejected, serde_json::json!({})),
    ]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    sleep(0).await;
    panel.click("pl-tab-callback");
    panel.type_into("pl-cb-name", "Anna");
    panel.type_into("pl-cb-phone", "+371 2000 0000");
    panel.click("pl-cb-submit");
    panel.until("phone error", |p| p.find("pl-cb-error-phone").is_some()).await;
    assert_eq!(text(&panel.get("pl-cb-error-phone")), "Use digits, spaces and + - ( ) only.");
    assert_eq!(panel.get("pl-cb-phone").get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(text(&panel.get("pl-cb-error")), "Please check the highlighted fields.");

    panel.until("submit enabled", |p| !p.get("pl-cb-submit").has_attribute("disabled")).await;
    panel.click("pl-cb-submit");
    panel.until("second attempt", |_| server.calls_to("POST", "/callbacks").len() == 2).await;
    let calls = server.calls_to("POST", "/callbacks");
    assert_eq!(calls[0]["headers"]["idempotency-key"], calls[1]["headers"]["idempotency-key"]);
}

#[wasm_bindgen_test]
async fn rate_limits_say_how_long_to_wait() {
    let limited = serde_json::json!({ "error": { "code": "rate_limited", "message": "Slow down." } });
    let _server = FakeServer::new(&[
        config_route(300),
        ("POST", "/v1/sites/demo/ratings", 429, limited, serde_json::json!({ "retry-after": "12" })),
    ]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    sleep(0).await;
    panel.click("pl-rating-good");
    panel.until("rating error", |p| p.find("pl-rating-error").is_some()).await;
    assert!(text(&panel.get("pl-rating-error")).contains("You're sending a lot right now. Please wait 12 seconds."));
}

#[wasm_bindgen_test]
async fn an_open_message_from_the_host_focuses_the_panel_heading() {
    let _server = FakeServer::new(&[config_route(300)]);
    let origin = window().location().origin().unwrap();
    let panel = Mounted::panel_at(FAKE, Bridge::new(Some(origin.clone()))).await;
    sleep(0).await;
    let heading = panel.root.query_selector("h1").unwrap().unwrap();
    let focused = || document().active_element().is_some_and(|a| a == heading);
    assert!(!focused());

    // Not ours: no envelope marker.
    let foreign = js_sys::JSON::parse(r#"{"type":"open"}"#).unwrap();
    window().post_message(&foreign, &origin).unwrap();
    sleep(50).await;
    assert!(!focused());

    let open = js_sys::JSON::parse(r#"{"porchlight":1,"type":"open"}"#).unwrap();
    window().post_message(&open, &origin).unwrap();
    panel.until("heading focused", |_| focused()).await;
}

#[wasm_bindgen_test]
async fn a_frame_opened_with_bad_params_says_so() {
    let document = document();
    let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    let handle = leptos::mount::mount_to(root.clone(), || {
        view! { <porchlight_widget::app::SetupErrorView locale=Locale::en() bridge=Bridge::default()/> }
    });
    sleep(0).await;
    let error = root.query_selector("[data-testid=\"pl-setup-error\"]").unwrap().expect("setup error shown");
    assert_eq!(text(&error), "This help widget isn't set up correctly.");
    assert!(root.query_selector("[data-testid=\"pl-tab-chat\"]").unwrap().is_none());
    assert!(root.query_selector("[data-testid=\"pl-close\"]").unwrap().is_none(), "no host origin: nothing to close");
    drop(handle);
    root.remove();
}

// ---------------------------------------------------------------------------------------------
// Live availability (issue 3) and the callback form's site options (issue 5).

fn availability_route(
    state: &str,
    wait_secs: u32,
) -> (&'static str, &'static str, u16, serde_json::Value, serde_json::Value) {
    let now = js_sys::Date::now() as i64;
    let body = serde_json::json!({
        "state": state, "now_ms": now,
        "chat": { "expected_wait_secs": wait_secs, "posted_secs": 300, "basis": "history" },
        "callback": { "due_ms": now + 7_200_000 }, "message": { "reply_by_ms": now + 3_600_000 },
        "next_open_ms": null, "closes_ms": null
    });
    ("GET", "/v1/sites/demo/availability", 200, body, serde_json::json!({ "etag": "\"abc\"" }))
}

#[wasm_bindgen_test]
async fn live_availability_words_the_wait_offers_a_callback_and_tells_the_loader() {
    let _server = FakeServer::new(&[config_route(300), availability_route("busy", 1500)]);
    let origin = window().location().origin().unwrap();
    // The bridge posts to `window.parent`, which is this window in a test page.
    js_sys::eval("window.__plStatus = []; window.addEventListener('message', e => { if (e.data && e.data.type === 'status') window.__plStatus.push(e.data.state); });").unwrap();
    let panel = Mounted::panel_at(FAKE, Bridge::new(Some(origin))).await;
    panel.until("busy", |p| p.get("pl-wait-line").get_attribute("data-state").as_deref() == Some("busy")).await;
    assert_eq!(text(&panel.get("pl-wait-line")), "Busy right now: about 25 minutes. Prefer a callback?");
    panel
        .until("status posted", |_| {
            js_sys::eval("window.__plStatus.join()").unwrap().as_string().as_deref() == Some("busy")
        })
        .await;
    panel.click("pl-wait-callback");
    panel
        .until("callback tab", |p| p.get("pl-tab-callback").get_attribute("aria-selected").as_deref() == Some("true"))
        .await;
}

#[wasm_bindgen_test]
async fn nobody_online_is_never_shown_as_open() {
    let _server = FakeServer::new(&[config_route(300), availability_route("nobody_online", 60)]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    panel
        .until("nobody", |p| p.get("pl-wait-line").get_attribute("data-state").as_deref() == Some("nobody_online"))
        .await;
    let line = text(&panel.get("pl-wait-line"));
    // The reply-by time is an hour ahead: "today", or a weekday when that crosses midnight.
    assert!(line.starts_with("Nobody is online right now. We'll reply by ") && line.ends_with('.'), "{line}");
    assert!(panel.find("pl-wait-callback").is_none());
}

#[wasm_bindgen_test]
async fn the_sites_consent_box_is_required_and_its_topic_is_sent() {
    let (method, path, status, mut config, headers) = config_route(300);
    config["consent_text"] = "Call me about this.".into();
    config["callback_topics"] = serde_json::json!(["Orders", "Billing"]);
    let receipt = serde_json::json!({ "reference": "PL-7K3Q9M", "status": "received", "due_ms": js_sys::Date::now() as i64 + 60_000 });
    let server = FakeServer::new(&[
        (method, path, status, config, headers),
        ("POST", "/v1/sites/demo/callbacks", 201, receipt, serde_json::json!({})),
    ]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    panel.until("consent box", |p| p.find("pl-cb-consent").is_some() && p.find("pl-cb-topic").is_some()).await;
    panel.click("pl-tab-callback");
    panel.type_into("pl-cb-name", "Anna");
    panel.type_into("pl-cb-phone", "+371 2000 0000");
    panel.click("pl-cb-submit");
    panel.until("consent error", |p| p.find("pl-cb-error-consent").is_some()).await;
    assert_eq!(text(&panel.get("pl-cb-error-consent")), "Please tick the box so we may call you.");
    assert!(server.calls_to("POST", "/callbacks").is_empty());

    let topic = panel.get("pl-cb-topic");
    js_sys::Reflect::set(&topic, &"value".into(), &"Billing".into()).unwrap();
    topic.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    panel.click("pl-cb-consent");
    panel.until("consent error cleared", |p| p.find("pl-cb-error-consent").is_none()).await;
    panel.click("pl-cb-submit");
    panel.until("confirmation", |p| p.find("pl-cb-confirmation").is_some()).await;
    let body = body_of(&server.calls_to("POST", "/callbacks")[0]);
    assert_eq!((body["consent"].clone(), body["topic"].clone()), (true.into(), "Billing".into()));
}

#[wasm_bindgen_test]
async fn the_site_scale_sets_the_radios() {
    let _server = FakeServer::new(&[config_route_with_scale(300, "thumbs2")]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    panel.until("thumbs", |p| p.find("pl-rating-up").is_some()).await;
    assert!(panel.find("pl-rating-down").is_some() && panel.find("pl-rating-good").is_none());
    drop(panel);
    let _server = FakeServer::new(&[config_route_with_scale(300, "stars5")]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    panel.until("stars", |p| p.find("pl-rating-5").is_some()).await;
    for n in 1..=5 {
        let input: HtmlInputElement = panel.get(&format!("pl-rating-{n}")).unchecked_into();
        assert_eq!(input.type_(), "radio");
        let label = text(&input.labels().unwrap().item(0).unwrap());
        assert!(label.contains(if n == 1 { "1 star" } else { "stars" }), "{label}");
    }
}

#[wasm_bindgen_test]
async fn a_change_a_comment_and_undo_use_the_token_on_the_same_rating() {
    let until = js_sys::Date::now() as i64 + 600_000;
    let created = serde_json::json!({ "id": "rt_1", "value": "good", "created_ms": until - 600_000, "token": "tok-1",
        "changeable_until_ms": until, "undone": false });
    let changed = serde_json::json!({ "id": "rt_1", "value": "bad", "created_ms": until - 600_000, "token": null,
        "changeable_until_ms": until, "undone": false });
    let server = FakeServer::new(&[
        config_route(300),
        ("POST", "/v1/sites/demo/ratings", 201, created, serde_json::json!({})),
        ("PUT", "/v1/sites/demo/ratings/rt_1", 200, changed, serde_json::json!({})),
        ("DELETE", "/v1/sites/demo/ratings/rt_1", 204, serde_json::Value::Null, serde_json::json!({})),
    ]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    sleep(0).await;
    panel.click("pl-tab-rating");
    panel.click("pl-rating-good");
    panel.until("thanks", |p| p.find("pl-rating-thanks").is_some()).await;
    panel.click("pl-rating-bad");
    panel.until("recovery", |p| p.find("pl-rating-recovery").is_some()).await;
    panel.type_into("pl-rating-comment", "Too slow");
    panel.until("counter", |p| text(&p.get("pl-rating-count")) == "8 / 2000 characters").await;
    panel.click("pl-rating-comment-send");
    panel.until("comment thanks", |p| p.find("pl-rating-comment-thanks").is_some()).await;

    assert_eq!(server.calls_to("POST", "/ratings").len(), 1, "one create");
    let puts = server.calls_to("PUT", "/ratings/rt_1");
    assert_eq!(puts.len(), 2);
    assert!(puts.iter().all(|c| c["headers"]["authorization"] == "Bearer tok-1"));
    assert_eq!(body_of(&puts[0]), serde_json::json!({ "value": "bad", "comment": null }));
    assert_eq!(body_of(&puts[1]), serde_json::json!({ "value": "bad", "comment": "Too slow" }));

    panel.type_into("pl-rating-comment", &"x".repeat(2001));
    panel.until("too long", |p| text(&p.get("pl-rating-count")).starts_with("That's too long")).await;
    panel.click("pl-rating-comment-send");
    sleep(50).await;
    assert_eq!(server.calls_to("PUT", "/ratings/rt_1").len(), 2, "an over-long comment is not sent");

    panel.click("pl-rating-undo");
    panel.until("undone", |p| p.find("pl-rating-undone").is_some()).await;
    assert_eq!(server.calls_to("DELETE", "/ratings/rt_1").len(), 1);
    assert!(!panel.get("pl-rating-bad").unchecked_into::<HtmlInputElement>().checked());
}

#[wasm_bindgen_test]
async fn after_the_window_the_choice_stays_but_cannot_change() {
    let now = js_sys::Date::now() as i64;
    let created = serde_json::json!({ "id": "rt_2", "value": "neutral", "created_ms": now, "token": "tok-2",
        "changeable_until_ms": now, "undone": false });
    let server =
        FakeServer::new(&[config_route(300), ("POST", "/v1/sites/demo/ratings", 201, created, serde_json::json!({}))]);
    let panel = Mounted::panel_at(FAKE, Bridge::default()).await;
    sleep(0).await;
    panel.click("pl-tab-rating");
    panel.click("pl-rating-neutral");
    panel.until("closed", |p| !p.get("pl-rating-closed").has_attribute("hidden")).await;
    assert_eq!(text(&panel.get("pl-rating-closed")).trim(), "This rating can no longer be changed.");
    let good: HtmlInputElement = panel.get("pl-rating-good").unchecked_into();
    assert!(good.disabled());
    assert!(panel.get("pl-rating-neutral").unchecked_into::<HtmlInputElement>().checked());
    assert_eq!(server.calls_to("POST", "/ratings").len(), 1);
}
