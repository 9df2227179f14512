//! The live side of a chat: operator replies, typing and the close arrive over the
//! conversation's event stream (SSE), which every tab of this site in this browser shares.
//!
//! * One tab holds the stream: the one holding the Web Lock named after the conversation
//!   (`navigator.locks`). It relays every event on a `BroadcastChannel`; the other tabs read the
//!   history once and then follow the relay. When the holder goes away the lock passes to
//!   another tab, whose stream starts after the last id that tab has. Without Web Locks or
//!   `BroadcastChannel` (or when the browser refuses them to a third-party frame) every tab
//!   holds its own stream: more connections, same result.
//! * A cut stream is resumed by the browser itself (`Last-Event-ID`); when the browser gives up,
//!   the stream is reopened with `?after=` the last id read, backing off. After
//!   [`MAX_FAILURES`] failures in a row the tab polls instead, and tries the stream again now
//!   and then. Coming back online reopens the stream; a tab shown again after sleeping reads
//!   once what it may have missed.
//!
//! Once the conversation is closed (the stream says so after its replay) the stream is let go:
//! nothing more will come.
//!
//! Every path may deliver a message more than once (a replay overlapping a relay or a poll):
//! [`crate::chat::ChatLog::receive`] shows each once.
//!
//! The plain parts ([`parse_event`], [`parse_note`], [`Health`], [`Election`],
//! [`TypingThrottle`]) are tested natively; [`LiveChat`] is the browser glue.

use std::rc::Rc;

use leptos::prelude::*;
use porchlight_protocol::json::{FromJson, Json};
use porchlight_protocol::{ChatMessage, MessageList};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::{Api, ApiFailure};
use crate::chat::Session;
use crate::outbox::storage_key;

/// One event of a conversation's stream (or of a read of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// One message of the stream, or those a read returned.
    Messages(Vec<ChatMessage>),
    /// The operator is typing (the visitor's own typing is never sent back).
    OperatorTyping,
    Closed(i64),
}

/// An SSE event (or its relay) from its type and data; `None` for anything else. `messages`
/// is the body of a read (`MessageList`), which is how one message is read too (reading it as a
/// list of one measured 176 B smaller than a separate single-message path).
pub fn parse_event(kind: &str, data: &str) -> Option<Incoming> {
    let list = |json: &str| MessageList::from_json_str(json).map(|l| Incoming::Messages(l.messages));
    let field = |name: &str| Json::parse(data).map(|event| event.get(name).clone());
    match kind {
        "message" => list(&["{\"messages\":[", data, "]}"].concat()),
        "messages" => list(data),
        "typing" => (field("author")?.as_str()? == "operator").then_some(Incoming::OperatorTyping),
        "closed" => field("closed_ms")?.int().map(Incoming::Closed),
        _ => None,
    }
}

/// What one tab tells the others. On the channel it is an array of three strings: the kind
/// (an event type, `session` or `seen`), the conversation id, then the event's data, the
/// token, or the id seen up to. (Plain strings rather than a serde type: smaller WASM.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Event(String, Incoming),
    /// This tab started a conversation: conversation id, token.
    Session(String, String),
    /// The visitor saw this conversation up to this id in another tab.
    Seen(String, i64),
}

pub fn parse_note(fields: &[String]) -> Option<Note> {
    let [kind, conversation, rest] = fields else { return None };
    if conversation.is_empty() {
        return None;
    }
    match kind.as_str() {
        "session" if !rest.is_empty() => Some(Note::Session(conversation.clone(), rest.clone())),
        "seen" => Some(Note::Seen(conversation.clone(), rest.parse().ok()?)),
        kind => parse_event(kind, rest).map(|e| Note::Event(conversation.clone(), e)),
    }
}

/// Failures in a row before polling takes over.
pub const MAX_FAILURES: u32 = 4;
/// How often a tab polls while the stream is down.
pub const POLL_MS: u64 = 5_000;
/// While polling, every this many polls the stream is tried again.
pub const POLLS_PER_STREAM_TRY: u32 = 6;

/// What to do after the stream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The browser is reconnecting by itself (with `Last-Event-ID`).
    BrowserRetries,
    /// The browser gave up: open a new stream after this many ms.
    ReopenIn(u64),
    /// Too many failures: close it and poll.
    Poll,
}

/// Counts the stream's failures since it last opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    failures: u32,
}

impl Health {
    pub fn opened(&mut self) {
        self.failures = 0;
    }

    /// The stream reported an error; `browser_retries` when its `readyState` is `CONNECTING`.
    pub fn failed(&mut self, browser_retries: bool) -> Recovery {
        self.failures = self.failures.saturating_add(1);
        if self.polling() {
            Recovery::Poll
        } else if browser_retries {
            Recovery::BrowserRetries
        } else {
            Recovery::ReopenIn(1_000 << (self.failures - 1).min(4))
        }
    }

    pub fn polling(&self) -> bool {
        self.failures >= MAX_FAILURES
    }
}

/// Which conversation this tab follows, and whether it holds the stream for it. Lock requests
/// are numbered, so a lock granted for a conversation the tab has since left is let go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Election {
    conversation: Option<String>,
    generation: u32,
    leading: bool,
}

impl Election {
    /// Follows `conversation_id`: the number of the lock request to make, or `None` when it is
    /// followed already.
    pub fn follow(&mut self, conversation_id: &str) -> Option<u32> {
        if self.conversation.as_deref() == Some(conversation_id) {
            return None;
        }
        self.conversation = Some(conversation_id.to_owned());
        self.generation += 1;
        self.leading = false;
        Some(self.generation)
    }

    /// The lock of request `generation` was granted: whether to hold the stream (`false`: the tab
    /// has moved on, let it go at once).
    pub fn granted(&mut self, generation: u32) -> bool {
        self.leading = generation == self.generation;
        self.leading
    }

    pub fn is_leader(&self) -> bool {
        self.leading
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    pub fn conversation(&self) -> Option<&str> {
        self.conversation.as_deref()
    }

    /// Whether a note about `conversation_id` concerns this tab.
    pub fn is_current(&self, conversation_id: &str) -> bool {
        self.conversation.as_deref() == Some(conversation_id)
    }
}

/// The visitor's typing signal goes out at most this often.
pub const TYPING_EVERY_MS: i64 = 1_500;
/// The operator's typing indicator stays this long after their last signal.
pub const TYPING_SHOWN_MS: u64 = 4_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypingThrottle {
    last_ms: Option<i64>,
}

impl TypingThrottle {
    /// A keystroke at `now`: whether to send the signal.
    pub fn should_send(&mut self, now: i64) -> bool {
        let send = self.last_ms.is_none_or(|last| now - last >= TYPING_EVERY_MS);
        if send {
            self.last_ms = Some(now);
        }
        send
    }

    /// A message went out (it ends the operator's indicator): the next keystroke signals again.
    pub fn reset(&mut self) {
        self.last_ms = None;
    }
}

/// `navigator.locks`, declared here because web-sys has it only behind its unstable APIs.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[derive(Clone)]
    type Locks;
    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &Locks, name: &str, options: &JsValue, callback: &js_sys::Function) -> js_sys::Promise;
}

/// An open `EventSource` and its listener; closed before the listener goes, so a late event
/// never calls a dropped closure.
struct Stream {
    source: web_sys::EventSource,
    _listener: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Hands a note to the chat; returns the conversation to follow when the note changed it.
type Deliver = Rc<dyn Fn(Note) -> Option<Session>>;

struct Inner {
    api: Api,
    channel: Option<web_sys::BroadcastChannel>,
    locks: Option<Locks>,
    election: Election,
    health: Health,
    token: String,
    stream: Option<Stream>,
    /// Numbers streams, so events of a replaced one are ignored.
    stream_generation: u32,
    /// Resolving it lets go of the lock.
    release: Option<js_sys::Function>,
    polling: bool,
    /// The conversation was closed: nothing more will come, so no stream is kept open.
    ended: bool,
    deliver: Deliver,
    /// The last server id the tab has (where a new stream or a poll starts).
    after: Rc<dyn Fn() -> i64>,
}

/// The browser side: one per chat view, a `Copy` handle.
#[derive(Clone, Copy)]
pub struct LiveChat(StoredValue<Inner, LocalStorage>);

impl LiveChat {
    /// Sets up the channel to the other tabs. `deliver` gets every note, from this tab's stream
    /// or polls and from other tabs, and says when to follow another conversation (one that
    /// another tab started); `after` says where reading resumes.
    pub fn start(
        api: &Api,
        after: impl Fn() -> i64 + 'static,
        deliver: impl Fn(Note) -> Option<Session> + 'static,
    ) -> LiveChat {
        let window = web_sys::window();
        let channel = web_sys::BroadcastChannel::new(&storage_key(api, "chat")).ok();
        let locks = window
            .as_ref()
            .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"locks".into()).ok())
            .filter(|l| l.is_object())
            .map(JsCast::unchecked_into::<Locks>);
        let live = LiveChat(StoredValue::new_local(Inner {
            api: api.clone(),
            channel: channel.clone(),
            locks,
            election: Election::default(),
            health: Health::default(),
            token: String::new(),
            stream: None,
            stream_generation: 0,
            release: None,
            polling: false,
            ended: false,
            deliver: Rc::new(deliver),
            after: Rc::new(after),
        }));
        if let Some(channel) = channel {
            let on_note = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let fields: Vec<String> = js_sys::Array::from(&e.data()).iter().filter_map(|v| v.as_string()).collect();
                if let Some(note) = parse_note(&fields) {
                    live.deliver(note);
                }
            });
            channel.set_onmessage(Some(on_note.as_ref().unchecked_ref()));
            on_note.forget();
        }
        // After a sleep the stream may be dead without having said so.
        let online = window_event_listener_untyped("online", move |_| live.reopen());
        let shown = Closure::<dyn Fn()>::new(move || {
            if document().visibility_state() == web_sys::VisibilityState::Visible {
                live.catch_up();
            }
        });
        let _ = document().add_event_listener_with_callback("visibilitychange", shown.as_ref().unchecked_ref());
        shown.forget();
        on_cleanup(move || {
            online.remove();
            live.stop();
        });
        live
    }

    /// Whether this tab holds the conversation's stream (of several tabs, exactly one does).
    pub fn holds_stream(self) -> bool {
        self.0.try_with_value(|i| i.election.is_leader()).unwrap_or(false)
    }

    /// Follows `session`'s conversation (restored, started here, or adopted from another tab):
    /// holds its stream if no other tab does, else reads its history and follows the relay.
    pub fn follow(self, session: &Session) {
        let Some(generation) = self.0.try_update_value(|i| {
            let generation = i.election.follow(&session.conversation_id)?;
            i.token = session.token.clone();
            i.health = Health::default();
            i.stream = None;
            i.ended = false;
            if let Some(release) = i.release.take() {
                let _ = release.call0(&JsValue::NULL);
            }
            Some(generation)
        }) else {
            return;
        };
        let Some(generation) = generation else { return };
        let shared = self.0.try_with_value(|i| i.channel.is_some() && i.locks.is_some()) == Some(true);
        if !shared {
            self.lead(generation);
            return;
        }
        // First ask without waiting: if another tab holds the stream, read the history now,
        // then queue for the lock to take over when that tab goes.
        self.request_lock(generation, true);
    }

    /// Tells the other tabs about a conversation this tab started.
    pub fn announce(self, session: &Session) {
        self.post(&["session", &session.conversation_id, &session.token]);
    }

    /// Tells the other tabs the visitor has seen the conversation up to `id`.
    pub fn announce_seen(self, conversation_id: &str, id: i64) {
        self.post(&["seen", conversation_id, &id.to_string()]);
    }

    fn post(self, fields: &[&str]) {
        let Some(channel) = self.0.try_with_value(|i| i.channel.clone()).flatten() else { return };
        let array: js_sys::Array = fields.iter().map(|f| JsValue::from_str(f)).collect();
        let _ = channel.post_message(&array);
    }

    fn deliver(self, note: Note) {
        let current = match &note {
            Note::Event(id, _) | Note::Seen(id, _) => {
                self.0.try_with_value(|i| i.election.is_current(id)).unwrap_or(false)
            }
            Note::Session(..) => true,
        };
        // Cloned out first: delivering may call back into this handle.
        if let (true, Some(deliver)) = (current, self.0.try_with_value(|i| i.deliver.clone())) {
            if let Some(session) = deliver(note) {
                self.follow(&session);
            }
        }
    }

    fn request_lock(self, generation: u32, if_available: bool) {
        let Some(Some((locks, name))) = self.0.try_with_value(|i| {
            let id = i.election.conversation()?;
            Some((i.locks.clone()?, storage_key(&i.api, &format!("conversations/{id}/events"))))
        }) else {
            return;
        };
        let granted = Closure::once_into_js(move |lock: JsValue| -> JsValue {
            if lock.is_null() {
                // Another tab holds the stream.
                self.catch_up();
                self.request_lock(generation, false);
                return JsValue::UNDEFINED;
            }
            if self.0.try_update_value(|i| i.election.granted(generation)) != Some(true) {
                return JsValue::UNDEFINED;
            }
            // Held until resolved: when the conversation changes, or with the frame.
            let mut release = None;
            let hold = js_sys::Promise::new(&mut |resolve, _| release = Some(resolve));
            self.0.try_update_value(|i| i.release = release);
            self.open_stream();
            hold.into()
        });
        let options = js_sys::Object::new();
        if if_available {
            let _ = js_sys::Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
        }
        let request = locks.request(&name, &options, granted.unchecked_ref());
        // A frame denied the lock (storage blocked) holds its own stream.
        let refused = Closure::once(move |_: JsValue| self.lead(generation));
        let _ = request.catch(&refused);
        // One small leak per conversation followed; a rejection may come at any time.
        refused.forget();
    }

    /// Holds the stream without a lock.
    fn lead(self, generation: u32) {
        if self.0.try_update_value(|i| i.election.granted(generation)) == Some(true) {
            self.open_stream();
        }
    }

    fn open_stream(self) {
        let Some(Some((url, generation))) = self.0.try_update_value(|i| {
            if i.ended {
                return None;
            }
            let id = i.election.conversation()?.to_owned();
            i.stream = None;
            i.stream_generation += 1;
            Some((i.api.events_url(&id, &i.token, (i.after)()), i.stream_generation))
        }) else {
            return;
        };
        let Ok(source) = web_sys::EventSource::new(&url) else {
            self.on_failure(generation, false);
            return;
        };
        let listener =
            Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| self.on_stream(generation, e));
        for name in ["message", "typing", "closed", "open", "error"] {
            let _ = source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        self.0.try_update_value(|i| i.stream = Some(Stream { source, _listener: listener }));
    }

    fn on_stream(self, generation: u32, e: web_sys::Event) {
        let Some(Some((conversation, source))) = self.0.try_with_value(|i| {
            let current = i.stream_generation == generation;
            let stream = i.stream.as_ref().filter(|_| current)?;
            Some((i.election.conversation()?.to_owned(), stream.source.clone()))
        }) else {
            return;
        };
        let kind = e.type_();
        match kind.as_str() {
            "open" => {
                self.0.try_update_value(|i| {
                    i.health.opened();
                    i.polling = false;
                });
            }
            "error" => {
                let retrying = source.ready_state() == web_sys::EventSource::CONNECTING;
                self.on_failure(generation, retrying);
            }
            _ => {
                let Some(data) = e.dyn_ref::<web_sys::MessageEvent>().and_then(|m| m.data().as_string()) else {
                    return;
                };
                if let Some(event) = parse_event(&kind, &data) {
                    if let Incoming::Closed(_) = event {
                        // The replay is complete by now, and a closed conversation gets no more.
                        self.0.try_update_value(|i| {
                            i.ended = true;
                            i.polling = false;
                            i.stream = None;
                        });
                    }
                    self.post(&[&kind, &conversation, &data]);
                    self.deliver(Note::Event(conversation, event));
                }
            }
        }
    }

    fn on_failure(self, generation: u32, retrying: bool) {
        let Some(recovery) = self.0.try_update_value(|i| i.health.failed(retrying)) else { return };
        match recovery {
            Recovery::BrowserRetries => {}
            Recovery::ReopenIn(ms) => {
                self.0.try_update_value(|i| i.stream = None);
                set_timeout(
                    move || {
                        // Unless something else reopened it meanwhile.
                        if self.0.try_with_value(|i| i.stream_generation == generation && i.election.is_leader())
                            == Some(true)
                        {
                            self.open_stream();
                        }
                    },
                    std::time::Duration::from_millis(ms),
                );
            }
            Recovery::Poll => {
                let start = self.0.try_update_value(|i| {
                    i.stream = None;
                    !std::mem::replace(&mut i.polling, true)
                });
                if start == Some(true) {
                    let Some(conversation) = self.0.try_with_value(|i| i.election.generation()) else { return };
                    self.poll_loop(conversation, POLLS_PER_STREAM_TRY);
                }
            }
        }
    }

    /// Polls every [`POLL_MS`] while the stream is down, trying the stream again now and then.
    fn poll_loop(self, conversation: u32, polls_before_stream: u32) {
        let Some(go_on) = self.0.try_update_value(|i| {
            let go_on = i.polling && !i.ended && i.election.is_leader() && i.election.generation() == conversation;
            if !go_on {
                i.polling = false;
            }
            go_on
        }) else {
            return;
        };
        if !go_on {
            return;
        }
        let polls_before_stream = match polls_before_stream {
            0 => {
                self.open_stream();
                POLLS_PER_STREAM_TRY
            }
            n => n - 1,
        };
        self.catch_up();
        set_timeout(
            move || self.poll_loop(conversation, polls_before_stream),
            std::time::Duration::from_millis(POLL_MS),
        );
    }

    /// Reads what came after the last id once: a tab's history when another tab holds the
    /// stream, a poll, or what a sleeping tab may have missed. The holder relays what it reads.
    fn catch_up(self) {
        let Some(Some((api, id, token, after, leader))) = self.0.try_with_value(|i| {
            let id = i.election.conversation()?.to_owned();
            Some((i.api.clone(), id, i.token.clone(), (i.after)(), i.election.is_leader()))
        }) else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api.messages(&id, &token, after).await {
                Ok(json) => {
                    let Some(read) = parse_event("messages", &json) else { return };
                    if leader {
                        self.post(&["messages", &id, &json]);
                    }
                    self.deliver(Note::Event(id, read));
                }
                // The conversation is gone or the token no longer works: stop asking.
                Err(ApiFailure::Rejected(..)) => {
                    self.0.try_update_value(|i| i.polling = false);
                }
                Err(_) => {}
            }
        });
    }

    /// Back online: the old stream may be dead without knowing it.
    fn reopen(self) {
        if self.0.try_with_value(|i| i.election.is_leader()) == Some(true) {
            self.open_stream();
        }
    }

    /// The conversation is gone (the visitor deleted it): nothing more to follow or poll.
    pub fn forget(self) {
        self.0.try_update_value(|i| i.ended = true);
        self.stop();
    }

    fn stop(self) {
        self.0.try_update_value(|i| {
            i.stream = None;
            i.polling = false;
            if let Some(release) = i.release.take() {
                let _ = release.call0(&JsValue::NULL);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use porchlight_protocol::Author;

    use super::*;

    #[test]
    fn stream_events_and_relays_parse_and_anything_else_is_ignored() {
        let message =
            r#"{"id":7,"client_id":"op-00000007","author":"operator","body":"Hi \"there\"]}","created_ms":1}"#;
        let Some(Incoming::Messages(list)) = parse_event("message", message) else { panic!("a message") };
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].id, list[0].author, list[0].body.as_str()), (7, Author::Operator, "Hi \"there\"]}"));
        let read = format!(r#"{{"messages":[{message},{message}]}}"#);
        assert!(matches!(parse_event("messages", &read), Some(Incoming::Messages(l)) if l.len() == 2));
        assert_eq!(parse_event("typing", r#"{"author":"operator"}"#), Some(Incoming::OperatorTyping));
        assert_eq!(parse_event("typing", r#"{ "author" : "operator" }"#), Some(Incoming::OperatorTyping));
        assert_eq!(parse_event("typing", r#"{"author":"visitor"}"#), None);
        assert_eq!(parse_event("closed", r#"{"closed_ms":5}"#), Some(Incoming::Closed(5)));
        assert_eq!(
            parse_event("closed", r#"{"closed_ms": 1775000000000 }"#),
            Some(Incoming::Closed(1_775_000_000_000))
        );
        assert_eq!(parse_event("closed", r#"{"closed_ms":"x"}"#), None);
        assert_eq!(parse_event("closed", "{}"), None);
        assert_eq!(parse_event("message", "{"), None);
        assert_eq!(parse_event("message", r#"{"id":1}]},{"#), None, "no escape from the wrapping list");
        assert_eq!(parse_event("ping", "{}"), None);

        let note = |f: &[&str]| parse_note(&f.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            note(&["closed", "cv_1", r#"{"closed_ms":5}"#]),
            Some(Note::Event("cv_1".into(), Incoming::Closed(5)))
        );
        assert_eq!(note(&["session", "cv_1", "tok"]), Some(Note::Session("cv_1".into(), "tok".into())));
        assert_eq!(note(&["seen", "cv_1", "12"]), Some(Note::Seen("cv_1".into(), 12)));
        for bad in [
            &["seen", "cv_1", "x"][..],
            &["session", "cv_1", ""],
            &["session", "", "tok"],
            &["closed", "cv_1"],
            &["nope", "cv_1", "{}"],
        ] {
            assert_eq!(note(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_browser_retries_first_then_we_reopen_then_we_poll_until_the_stream_opens() {
        let mut health = Health::default();
        assert_eq!(health.failed(true), Recovery::BrowserRetries);
        assert_eq!(health.failed(false), Recovery::ReopenIn(2_000));
        health.opened();
        assert_eq!(health.failed(false), Recovery::ReopenIn(1_000), "an open stream resets the count");
        assert_eq!(health.failed(true), Recovery::BrowserRetries);
        assert_eq!(health.failed(false), Recovery::ReopenIn(4_000));
        assert!(!health.polling());
        assert_eq!(health.failed(true), Recovery::Poll);
        assert!(health.polling());
        assert_eq!(health.failed(false), Recovery::Poll, "a stream tried while polling that fails again");
        health.opened();
        assert!(!health.polling());
    }

    #[test]
    fn one_lock_request_per_conversation_and_stale_grants_are_let_go() {
        let mut election = Election::default();
        assert!(!election.is_leader());
        let first = election.follow("cv_1").unwrap();
        assert_eq!(election.follow("cv_1"), None, "already following it");
        assert!(election.is_current("cv_1") && !election.is_current("cv_2"));
        // The tab moved on to a new conversation before the first lock came.
        let second = election.follow("cv_2").unwrap();
        assert!(!election.granted(first));
        assert!(!election.is_leader());
        assert!(election.granted(second));
        assert!(election.is_leader());
        assert_eq!(election.conversation(), Some("cv_2"));
        // Following another conversation gives up leading until its lock comes.
        election.follow("cv_3").unwrap();
        assert!(!election.is_leader());
    }

    #[test]
    fn typing_goes_out_at_most_every_interval_and_again_at_once_after_a_message() {
        let mut throttle = TypingThrottle::default();
        assert!(throttle.should_send(10_000));
        assert!(!throttle.should_send(10_000 + TYPING_EVERY_MS - 1));
        assert!(throttle.should_send(10_000 + TYPING_EVERY_MS));
        throttle.reset();
        assert!(throttle.should_send(10_000 + TYPING_EVERY_MS + 1));
    }
}
