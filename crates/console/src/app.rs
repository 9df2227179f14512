//! The console's components. Every text from the server (messages, names, notes) is rendered
//! as a text node by Leptos: never as HTML. Every text of our own comes from the operator's
//! bundle ([`Locale`], provided as context), dates and numbers from `Intl` in their locale.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::{
    Author, CallbackStatus, CannedReply, ChatMessage, ConsoleConversation, ConsoleEvent, InboxItem, NewMessage,
    OperatorCallback, OperatorMe, PastConversation, PresenceStatus, RatingSummary, RatingValue,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::alerts::{self, Unseen};
use crate::api::{self, Failure};
use crate::i18n::{Key, Locale};
use crate::logic::{
    author_label, canned_matches, expand_canned, format_promise, is_breached, merge_messages, order_inbox,
    rating_label, reply_problem, share_label, should_send_typing, status_label, total_label, wait_label,
    CALLBACK_STATUSES, TYPING_SHOWN_MS,
};

/// The console clock ticks this often (waiting times, typing indicator).
const TICK_MS: u64 = 1000;
/// Ticks between reloads while the live stream is down (polling fallback), and while it is up
/// (a safety net for anything the notifications missed).
const POLL_TICKS_OFFLINE: u32 = 4;
const POLL_TICKS_LIVE: u32 = 30;
/// Ticks between heartbeats (the server expires presence after 60 s without one or an open event stream).
const HEARTBEAT_TICKS: u32 = 20;

pub fn mount(root: web_sys::HtmlElement, locale: Locale) {
    leptos::mount::mount_to(root, move || view! { <App locale/> }).forget();
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Local date and time of a Unix ms instant in the operator's locale (the browser's own variant
/// of it when it has one: an `en-GB` operator gets a 24-hour clock), e.g. "10 Mar 2026, 10:00".
fn when(locale: Locale, ms: i64) -> String {
    let browser = web_sys::window().and_then(|w| w.navigator().language());
    let tag = locale.intl_tag(browser.as_deref());
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_locale_string(&tag, &options))
}

/// The time of day now in an IANA `zone`, in the operator's locale ("14:05").
fn time_in(locale: Locale, ms: i64, zone: &str) -> String {
    let browser = web_sys::window().and_then(|w| w.navigator().language());
    let tag = locale.intl_tag(browser.as_deref());
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    let _ = js_sys::Reflect::set(&options, &"timeZone".into(), &zone.into());
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_locale_string(&tag, &options))
}

/// The same instant for `<time datetime>`.
fn iso(ms: i64) -> String {
    String::from(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).to_iso_string())
}

/// A client id for a reply: `co-` and 20 random base-36 characters.
fn new_client_id() -> String {
    let mut bytes = [0u8; 20];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::from("co-");
    id.extend(bytes.iter().map(|b| alphabet[usize::from(*b) % alphabet.len()] as char));
    id
}

#[component]
fn App(locale: Locale) -> impl IntoView {
    provide_context(locale);
    let me = RwSignal::new(None::<OperatorMe>);
    let checked = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(who) = api::me().await {
            me.set(Some(who));
        }
        checked.set(true);
    });
    move || {
        if !checked.get() {
            view! { <p class="co-loading" role="status">{locale.text(Key::Loading)}</p> }.into_any()
        } else if let Some(who) = me.get() {
            view! { <Console who me/> }.into_any()
        } else {
            view! { <Login me/> }.into_any()
        }
    }
}

#[component]
fn Login(me: RwSignal<Option<OperatorMe>>) -> impl IntoView {
    let t = expect_context::<Locale>();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::login(email.get_untracked(), password.get_untracked()).await {
                Ok(who) => {
                    password.set(String::new());
                    me.set(Some(who));
                }
                Err(Failure::Unauthorized) => error.set(Some(t.text(Key::LoginWrong).into())),
                Err(failure) => error.set(Some(failure.message(t))),
            }
            busy.try_set(false);
        });
    };
    view! {
        <main class="co-login-page">
            <form class="co-card co-login" on:submit=submit>
                <h1>{t.text(Key::ConsoleTitle)}</h1>
                <label>
                    {t.text(Key::LoginEmail)}
                    <input type="email" name="email" autocomplete="username" required data-testid="co-email" bind:value=email/>
                </label>
                <label>
                    {t.text(Key::LoginPassword)}
                    <input type="password" name="password" autocomplete="current-password" required data-testid="co-password" bind:value=password/>
                </label>
                <button type="submit" data-testid="co-login" disabled=move || busy.get()>{t.text(Key::LoginSubmit)}</button>
                {move || error.get().map(|e| view! { <p class="co-error" role="alert" data-testid="co-login-error">{e}</p> })}
            </form>
        </main>
    }
}

/// Everything the signed-in console shares between its panels.
#[derive(Clone, Copy)]
struct Shared {
    locale: Locale,
    me: RwSignal<Option<OperatorMe>>,
    site: RwSignal<String>,
    /// The console clock in server time (client clock plus the offset seen on the last inbox).
    now: RwSignal<i64>,
    offset: RwSignal<f64>,
    inbox: RwSignal<Vec<InboxItem>>,
    inbox_error: RwSignal<Option<String>>,
    inbox_loading: StoredValue<(bool, bool)>,
    selected: RwSignal<Option<String>>,
    conversation: RwSignal<Option<ConsoleConversation>>,
    visitor_typing_until: RwSignal<f64>,
    live: RwSignal<bool>,
    /// Visitor messages not seen yet (the count in the tab title).
    unseen: RwSignal<Unseen>,
    /// The document's own title, before any count.
    base_title: StoredValue<String>,
    /// Bumped when a promise breaks: the ledger panel reloads.
    ledger_version: RwSignal<u32>,
    /// The inbox view: `all`, `mine` or `unassigned`.
    view: RwSignal<&'static str>,
    /// The site's canned replies (`/shortcut` in the reply box).
    replies: RwSignal<Vec<CannedReply>>,
}

impl Shared {
    /// Shows a conversation (from the inbox, the history, or a visitor's earlier ones).
    fn open(self, id: String) {
        if self.selected.get_untracked().as_deref() == Some(id.as_str()) {
            return;
        }
        self.conversation.set(None);
        self.visitor_typing_until.set(0.0);
        self.unseen.update(Unseen::seen);
        self.selected.set(Some(id.clone()));
        self.load_conversation(id);
    }

    /// Reloads the inbox; calls made while a load is running coalesce into one more load.
    fn reload_inbox(self) {
        let busy = self.inbox_loading.with_value(|(busy, _)| *busy);
        if busy {
            self.inbox_loading.update_value(|(_, again)| *again = true);
            return;
        }
        self.inbox_loading.set_value((true, false));
        spawn_local(async move {
            loop {
                let site = self.site.get_untracked();
                let result = api::inbox(&site, self.view.get_untracked()).await;
                if self.site.try_get_untracked().as_deref() != Some(site.as_str()) {
                    // The operator switched sites meanwhile: load again for the new one.
                } else {
                    match result {
                        Ok(inbox) => {
                            self.offset.set(inbox.now_ms as f64 - now_ms());
                            self.now.set(inbox.now_ms);
                            let mut items = inbox.conversations;
                            order_inbox(&mut items);
                            self.inbox.set(items);
                            self.inbox_error.set(None);
                        }
                        Err(Failure::Unauthorized) => {
                            self.me.set(None);
                            return;
                        }
                        Err(failure) => self.inbox_error.set(Some(failure.message(self.locale))),
                    }
                }
                let again = self.inbox_loading.try_with_value(|(_, again)| *again).unwrap_or(false);
                if !again {
                    self.inbox_loading.try_set_value((false, false));
                    return;
                }
                self.inbox_loading.set_value((true, false));
            }
        });
    }

    fn load_conversation(self, id: String) {
        spawn_local(async move {
            let result = api::conversation(&id).await;
            if self.selected.try_get_untracked().flatten().as_deref() != Some(id.as_str()) {
                return;
            }
            match result {
                Ok(loaded) => self.conversation.update(|current| match current {
                    Some(c) if c.conversation_id == loaded.conversation_id => {
                        merge_messages(&mut c.messages, loaded.messages);
                        c.closed_ms = loaded.closed_ms;
                        c.visitor_email = loaded.visitor_email;
                        c.rating = loaded.rating;
                        c.previous = loaded.previous;
                    }
                    _ => *current = Some(loaded),
                }),
                Err(Failure::Unauthorized) => self.me.set(None),
                Err(_) => {}
            }
        });
    }

    fn add_messages(self, id: &str, messages: Vec<ChatMessage>) {
        self.conversation.update(|c| {
            if let Some(c) = c.as_mut().filter(|c| c.conversation_id == id) {
                merge_messages(&mut c.messages, messages);
            }
        });
    }

    /// One notification of the operator stream.
    fn on_event(self, name: &str, event: ConsoleEvent) {
        let open = self.selected.get_untracked().as_deref() == Some(event.conversation_id.as_str());
        match name {
            "message" => {
                if let Some(message) = &event.message {
                    let from_visitor = message.author == Author::Visitor;
                    let hidden = alerts::tab_hidden();
                    if self.unseen.try_update(|u| u.arrived(from_visitor, open, hidden)) == Some(true) {
                        alerts::chime();
                        alerts::notify(self.locale.text(Key::AlertNewMessage), &message.body);
                    }
                }
                if let Some(message) = event.message {
                    if open {
                        if message.author == Author::Visitor {
                            self.visitor_typing_until.set(0.0);
                        }
                        self.add_messages(&event.conversation_id, vec![message]);
                    }
                }
                if event.site == self.site.get_untracked() {
                    self.reload_inbox();
                }
            }
            "typing" if open && event.typing.is_some_and(|t| t.author == Author::Visitor) => {
                self.visitor_typing_until.set(now_ms() + TYPING_SHOWN_MS);
            }
            // A promise broke: the inbox shows it as breached at once.
            "promise_broken" => {
                self.reload_inbox();
                self.ledger_version.update(|v| *v += 1);
            }
            "closed" => {
                if let (true, Some(closed)) = (open, event.closed) {
                    self.conversation.update(|c| {
                        if let Some(c) = c.as_mut() {
                            c.closed_ms = Some(closed.closed_ms);
                        }
                    });
                }
                self.reload_inbox();
            }
            _ => {}
        }
    }
}

/// The operator stream (`GET /v1/console/events`), with the listeners it needs kept alive
/// until the console is left.
struct LiveStream {
    source: web_sys::EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for LiveStream {
    /// Closed before its listeners go, so a late event never calls a dropped closure.
    fn drop(&mut self) {
        self.source.close();
    }
}

fn connect(shared: Shared) -> Option<LiveStream> {
    let source = web_sys::EventSource::new("/v1/console/events").ok()?;
    let mut listeners = Vec::new();
    for name in ["message", "typing", "closed", "promise_broken"] {
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let Some(data) = e.dyn_ref::<web_sys::MessageEvent>().and_then(|m| m.data().as_string()) else { return };
            if let Ok(event) = serde_json::from_str::<ConsoleEvent>(&data) {
                shared.on_event(name, event);
            }
        });
        source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref()).ok()?;
        listeners.push(listener);
    }
    // (Re)connected: notifications are not replayed, so catch up by reloading.
    let opened = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        shared.live.set(true);
        shared.reload_inbox();
        if let Some(id) = shared.selected.get_untracked() {
            shared.load_conversation(id);
        }
    });
    source.add_event_listener_with_callback("open", opened.as_ref().unchecked_ref()).ok()?;
    listeners.push(opened);
    // The browser retries by itself; until then the console polls.
    let failed = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| shared.live.set(false));
    source.add_event_listener_with_callback("error", failed.as_ref().unchecked_ref()).ok()?;
    listeners.push(failed);
    Some(LiveStream { source, _listeners: listeners })
}

#[component]
fn Console(who: OperatorMe, me: RwSignal<Option<OperatorMe>>) -> impl IntoView {
    let t = expect_context::<Locale>();
    let shared = Shared {
        locale: t,
        me,
        site: RwSignal::new(who.sites.first().cloned().unwrap_or_default()),
        now: RwSignal::new(now_ms() as i64),
        offset: RwSignal::new(0.0),
        inbox: RwSignal::new(Vec::new()),
        inbox_error: RwSignal::new(None),
        inbox_loading: StoredValue::new((false, false)),
        selected: RwSignal::new(None),
        conversation: RwSignal::new(None),
        visitor_typing_until: RwSignal::new(0.0),
        live: RwSignal::new(false),
        unseen: RwSignal::new(Unseen::default()),
        ledger_version: RwSignal::new(0),
        view: RwSignal::new("all"),
        replies: RwSignal::new(Vec::new()),
        base_title: StoredValue::new(
            web_sys::window().and_then(|w| w.document()).map(|d| d.title()).unwrap_or_default(),
        ),
    };
    provide_context(shared);
    // The count follows the signal; the title goes back to normal once everything is seen.
    Effect::new(move || {
        let title = shared.unseen.get().title(&shared.base_title.get_value());
        alerts::show(&title);
    });

    let stream = StoredValue::new_local(connect(shared));
    let ticks = StoredValue::new(0u32);
    let was_hidden = StoredValue::new(false);
    let tick = move || {
        shared.now.set((now_ms() + shared.offset.get_untracked()) as i64);
        // Coming back to a hidden tab is seeing what is on it; otherwise opening the conversation is.
        let hidden = alerts::tab_hidden();
        if was_hidden.get_value() && !hidden {
            shared.unseen.update(Unseen::seen);
        }
        was_hidden.set_value(hidden);
        let n = ticks.with_value(|n| n + 1);
        ticks.set_value(n);
        let every = if shared.live.get_untracked() { POLL_TICKS_LIVE } else { POLL_TICKS_OFFLINE };
        // The heartbeat that keeps this operator's "online" true (the server expires it after
        // 60 s of silence: a closed laptop goes away by itself).
        if n % HEARTBEAT_TICKS == 0 {
            spawn_local(async {
                let _ = api::heartbeat().await;
            });
        }
        if n % every == 0 {
            shared.reload_inbox();
            if let Some(id) = shared.selected.get_untracked() {
                shared.load_conversation(id);
            }
        }
    };
    let timer = set_interval_with_handle(tick, std::time::Duration::from_millis(TICK_MS)).ok();
    on_cleanup(move || {
        if let Some(timer) = timer {
            timer.clear();
        }
        stream.try_with_value(|s| {
            if let Some(s) = s {
                s.source.close();
            }
        });
    });
    // Closing the tab is leaving: away now (a reload's first request brings the operator back).
    let _ = window_event_listener(leptos::ev::pagehide, move |_| {
        if shared.me.get_untracked().is_some() {
            api::leave();
        }
    });
    // Everything per site loads again when the operator switches site.
    Effect::new(move || {
        let site = shared.site.get();
        shared.selected.set(None);
        shared.conversation.set(None);
        shared.reload_inbox();
        shared.replies.set(Vec::new());
        spawn_local(async move {
            if let Ok(loaded) = api::canned_replies(&site).await {
                if shared.site.try_get_untracked().as_deref() == Some(site.as_str()) {
                    shared.replies.set(loaded.replies);
                }
            }
        });
    });

    let logout = move |_| {
        spawn_local(async move {
            let _ = api::logout().await;
            me.set(None);
        });
    };
    let name = who.name.clone();
    let sites = who.sites.clone();
    let many_sites = sites.len() > 1;
    view! {
        <div class="co-app">
            <header class="co-header">
                <h1>{t.text(Key::ConsoleTitle)}</h1>
                <Show when=move || many_sites>
                    <label class="co-site">
                        {t.text(Key::SiteLabel)} " "
                        <select data-testid="co-site" on:change=move |e| shared.site.set(event_target_value(&e))>
                            {sites.iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                </Show>
                <PresenceToggle/>
                <NotifyButton/>
                <span class="co-live" data-testid="co-live" data-live=move || shared.live.get().to_string()>
                    {move || t.text(if shared.live.get() { Key::LiveOn } else { Key::LiveOff })}
                </span>
                <span class="co-who" data-testid="co-operator">{name}</span>
                <button type="button" data-testid="co-logout" on:click=logout>{t.text(Key::Logout)}</button>
            </header>
            <main class="co-main">
                <InboxPanel/>
                <ConversationPanel/>
                <aside class="co-side">
                    <Show when=move || me.with(|m| m.as_ref().is_some_and(|m| m.admin))>
                        <AdminPanel/>
                        <OperatorsPanel/>
                    </Show>
                    <HistoryPanel/>
                    <CallbacksPanel/>
                    <RatingsPanel/>
                    <PromisesPanel/>
                </aside>
            </main>
        </div>
    }
}

/// Desktop alerts: the browser asks for permission only after this click.
#[component]
fn NotifyButton() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let permission = RwSignal::new(alerts::permission());
    let ask = move |_| alerts::ask(move |answer| permission.set(Some(answer)));
    let sound = RwSignal::new(alerts::sound_on());
    let toggle_sound = move |_| {
        let on = !sound.get_untracked();
        alerts::set_sound(on);
        sound.set(on);
    };
    view! {
        <Show when=move || permission.get().as_deref() == Some("default")>
            <button type="button" class="co-notify" data-testid="co-notify" on:click=ask>
                {t.text(Key::AlertEnable)}
            </button>
        </Show>
        <button type="button" class="co-secondary co-sound" data-testid="co-sound"
            aria-pressed=move || if sound.get() { "true" } else { "false" } on:click=toggle_sound>
            {t.text(Key::AlertSound)}
        </button>
    }
}

#[component]
fn PresenceToggle() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let status = RwSignal::new(None::<PresenceStatus>);
    let error = RwSignal::new(None::<String>);
    // The operator's real presence for the site, after every log-in, reload and site switch.
    Effect::new(move || {
        let site = shared.site.get();
        status.set(None);
        spawn_local(async move {
            if let Ok(presence) = api::presence(&site).await {
                // Unless the operator toggled meanwhile: their click is newer than this answer.
                if shared.site.get_untracked() == site && status.get_untracked().is_none() {
                    status.set(Some(presence.status));
                }
            }
        });
    });
    let toggle = move |_| {
        let next = if status.get_untracked() == Some(PresenceStatus::Online) {
            PresenceStatus::Away
        } else {
            PresenceStatus::Online
        };
        let site = shared.site.get_untracked();
        spawn_local(async move {
            match api::set_presence(site, next).await {
                Ok(presence) => {
                    status.set(Some(presence.status));
                    error.set(None);
                }
                Err(failure) => error.set(Some(failure.message(t))),
            }
        });
    };
    let label = move || {
        t.text(match status.get() {
            Some(PresenceStatus::Online) => Key::PresenceOnline,
            Some(PresenceStatus::Away) => Key::PresenceAway,
            _ => Key::PresenceUnset,
        })
    };
    let state = move || match status.get() {
        Some(PresenceStatus::Online) => "online",
        Some(PresenceStatus::Away) => "away",
        _ => "unknown",
    };
    view! {
        <button
            type="button"
            class="co-presence"
            data-testid="co-presence"
            data-status=state
            aria-pressed=move || (status.get() == Some(PresenceStatus::Online)).to_string()
            title=t.text(Key::PresenceHint)
            on:click=toggle
        >
            {label}
        </button>
        {move || error.get().map(|e| view! { <span class="co-error" role="alert">{e}</span> })}
    }
}

#[component]
fn InboxPanel() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let open = move |id: String| shared.open(id);
    let rows = move || {
        shared
            .inbox
            .get()
            .into_iter()
            .map(|item| {
                let id = item.conversation_id.clone();
                let current = {
                    let id = id.clone();
                    move || (shared.selected.get().as_deref() == Some(id.as_str())).to_string()
                };
                let preview = item.last_message.as_ref().map_or_else(
                    || t.text(Key::InboxNoMessages).to_owned(),
                    |m| t.format(Key::InboxPreview, &[("author", author_label(t, m.author)), ("text", &m.body)]),
                );
                let item_for_breach = item.clone();
                let breached = Memo::new(move |_| is_breached(&item_for_breach, shared.now.get()));
                let item_for_label = item.clone();
                let label = move || wait_label(t, &item_for_label, shared.now.get());
                let promise = t.format(Key::InboxPromise, &[("promise", &format_promise(t, item.promise_secs))]);
                // Who is waiting, at a glance: language, page, e-mail (what the visitor gave).
                let who_waits = [item.visitor_locale.clone(), item.page_path.clone(), item.visitor_email.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                view! {
                    <li>
                        <button
                            type="button"
                            class="co-inbox-item"
                            class:co-breached=move || breached.get()
                            data-testid="co-inbox-item"
                            data-conversation=id.clone()
                            data-breached=move || breached.get().to_string()
                            aria-current=current
                            title=promise
                            on:click=move |_| open(id.clone())
                        >
                            <span class="co-preview" dir="auto" data-testid="co-inbox-preview">{preview}</span>
                            <span class="co-who-waits" dir="auto" data-testid="co-inbox-visitor">{who_waits}</span>
                            <span class="co-wait" data-testid="co-inbox-wait">{label}</span>
                            {item.assignee.as_ref().map(|a| view! {
                                <span class="co-assignee" data-testid="co-inbox-assignee">
                                    <bdi>{t.format(Key::AssignedTo, &[("name", &a.name)])}</bdi>
                                </span>
                            })}
                            <Show when=move || breached.get()>
                                <span class="co-badge" data-testid="co-inbox-breach">{t.text(Key::InboxBreached)}</span>
                            </Show>
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="co-panel co-inbox" data-testid="co-inbox">
            <h2>{t.text(Key::InboxTitle)}</h2>
            <div class="co-views" role="group" aria-label=t.text(Key::InboxTitle)>
                {[("all", Key::ViewAll), ("mine", Key::ViewMine), ("unassigned", Key::ViewUnassigned)]
                    .into_iter()
                    .map(|(name, key)| view! {
                        <button type="button" class="co-secondary" data-testid=format!("co-view-{name}")
                            aria-pressed=move || (shared.view.get() == name).to_string()
                            on:click=move |_| {
                                shared.view.set(name);
                                shared.reload_inbox();
                            }>
                            {t.text(key)}
                        </button>
                    })
                    .collect_view()}
            </div>
            {move || shared.inbox_error.get().map(|e| view! { <p class="co-error" role="alert">{e}</p> })}
            <Show when=move || shared.inbox.with(Vec::is_empty)>
                <p class="co-empty" data-testid="co-inbox-empty">{t.text(Key::InboxEmpty)}</p>
            </Show>
            <ul class="co-list">{rows}</ul>
        </section>
    }
}

#[component]
fn ConversationPanel() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    let last_typing = StoredValue::new(None::<f64>);

    let messages = move || shared.conversation.with(|c| c.as_ref().map(|c| c.messages.clone()).unwrap_or_default());
    let closed = move || shared.conversation.with(|c| c.as_ref().is_some_and(|c| c.closed_ms.is_some()));
    let claim = move |_| {
        let (Some(id), Some(me)) = (shared.selected.get_untracked(), shared.me.get_untracked()) else { return };
        spawn_local(async move {
            match api::assign(&id, Some(me.id)).await {
                Ok(()) => shared.reload_inbox(),
                Err(failure) => error.set(Some(failure.message(t))),
            }
        });
    };
    // Colleagues to transfer to, fresh for each conversation opened.
    let team = RwSignal::new(Vec::<porchlight_protocol::TeamMember>::new());
    let choice = RwSignal::new(String::new());
    let transferred = RwSignal::new(None::<String>);
    // Where the transcript went; also after close ("send me this" is often asked at the end).
    let mailed = RwSignal::new(None::<String>);
    Effect::new(move || {
        let opened = shared.selected.get().is_some();
        transferred.set(None);
        mailed.set(None);
        // No conversation on screen, no list to show: no request.
        if !opened {
            return;
        }
        let site = shared.site.get_untracked();
        spawn_local(async move {
            if let Ok(loaded) = api::team(&site).await {
                team.set(loaded.members);
            }
        });
    });
    let transfer = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        choice.set(value.clone());
        let Some(id) = shared.selected.get_untracked() else { return };
        if value.is_empty() {
            return;
        }
        let to = (value != "-").then(|| value.clone());
        let name = team.with_untracked(|m| m.iter().find(|m| m.id == value).map(|m| m.name.clone()));
        spawn_local(async move {
            match api::assign(&id, to).await {
                Ok(()) => {
                    transferred.set(Some(match name {
                        Some(name) => t.format(Key::Transferred, &[("name", &name)]),
                        None => t.text(Key::ViewUnassigned).to_owned(),
                    }));
                    choice.set(String::new());
                    shared.reload_inbox();
                }
                Err(failure) => error.set(Some(failure.message(t))),
            }
        });
    };
    let has_email = move || shared.conversation.with(|c| c.as_ref().is_some_and(|c| c.visitor_email.is_some()));
    let send_transcript = move |_| {
        let Some(id) = shared.selected.get_untracked() else { return };
        spawn_local(async move {
            match api::transcript(&id).await {
                Ok(to) => mailed.set(Some(t.format(Key::TranscriptSent, &[("to", &to)]))),
                Err(failure) => error.set(Some(failure.message(t))),
            }
        });
    };
    let colleagues = move || {
        let me = shared.me.with(|m| m.as_ref().map(|m| m.id.clone()));
        team.get()
            .into_iter()
            .filter(|m| Some(&m.id) != me.as_ref())
            .map(|m| {
                let label = if m.online {
                    let (open, capacity) = (m.open.to_string(), m.capacity.to_string());
                    t.format(Key::TeamOnline, &[("name", &m.name), ("open", &open), ("capacity", &capacity)])
                } else {
                    t.format(Key::TeamAway, &[("name", &m.name)])
                };
                view! { <option value=m.id>{label}</option> }
            })
            .collect_view()
    };
    let visitor_typing = move || shared.now.get() > 0 && now_ms() < shared.visitor_typing_until.get();
    // Who the visitor is: the page, their language and local time, the e-mail, their rating.
    let visitor = move || {
        shared.conversation.with(|c| {
            let Some(c) = c.as_ref() else { return Vec::new() };
            let now = shared.now.get();
            let rated = c.rating.as_deref().and_then(RatingValue::parse).map(|v| rating_label(t, v));
            [
                c.page_title.as_ref().map(|title| t.format(Key::VisitorPage, &[("title", title)])),
                c.visitor_locale.as_ref().map(|lang| t.format(Key::VisitorLanguage, &[("lang", lang)])),
                c.visitor_time_zone
                    .as_ref()
                    .map(|zone| t.format(Key::VisitorLocalTime, &[("time", &time_in(t, now, zone)), ("zone", zone)])),
                c.visitor_email.as_ref().map(|email| t.format(Key::VisitorEmail, &[("email", email)])),
                rated.map(|value| t.format(Key::VisitorRated, &[("value", &value)])),
            ]
            .into_iter()
            .flatten()
            .collect()
        })
    };
    let previous = move || shared.conversation.with(|c| c.as_ref().map(|c| c.previous.clone()).unwrap_or_default());
    let suggestions =
        move || shared.replies.with(|r| canned_matches(&draft.get(), r).into_iter().cloned().collect::<Vec<_>>());

    let send = move || {
        let Some(id) = shared.selected.get_untracked() else { return };
        let body = draft.get_untracked();
        if let Some(problem) = reply_problem(t, &body) {
            error.set(Some(problem.into()));
            return;
        }
        if sending.get_untracked() {
            return;
        }
        sending.set(true);
        error.set(None);
        let message = NewMessage { client_id: new_client_id(), body };
        spawn_local(async move {
            // One retry with the same client id: the server stores it once either way.
            let mut result = api::reply(&id, &message).await;
            if matches!(result, Err(Failure::Offline)) {
                result = api::reply(&id, &message).await;
            }
            match result {
                Ok(ack) => {
                    draft.set(String::new());
                    last_typing.set_value(None);
                    let mine = ChatMessage {
                        id: ack.id,
                        client_id: ack.client_id,
                        author: Author::Operator,
                        body: message.body,
                        created_ms: ack.created_ms,
                        author_name: None,
                    };
                    shared.add_messages(&id, vec![mine]);
                    shared.reload_inbox();
                }
                Err(Failure::Unauthorized) => shared.me.set(None),
                Err(failure) => error.set(Some(failure.message(t))),
            }
            sending.try_set(false);
        });
    };
    let on_submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        send();
    };
    let on_keydown = move |e: ev::KeyboardEvent| {
        // `/shortcut` and Tab: the canned reply's text replaces the shortcut.
        if e.key() == "Tab" && !e.shift_key() {
            if let Some(text) = shared.replies.with_untracked(|r| expand_canned(&draft.get_untracked(), r)) {
                e.prevent_default();
                draft.set(text);
            }
            return;
        }
        if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
            e.prevent_default();
            send();
        }
    };
    let on_input = move |_| {
        let now = now_ms();
        if !should_send_typing(last_typing.get_value(), now) {
            return;
        }
        let Some(id) = shared.selected.get_untracked() else { return };
        last_typing.set_value(Some(now));
        spawn_local(async move {
            let _ = api::typing(&id).await;
        });
    };
    let close = move |_| {
        let Some(id) = shared.selected.get_untracked() else { return };
        spawn_local(async move {
            match api::close(&id).await {
                Ok(closed) => {
                    shared.conversation.update(|c| {
                        if let Some(c) = c.as_mut().filter(|c| c.conversation_id == id) {
                            c.closed_ms = Some(closed.closed_ms);
                        }
                    });
                    shared.reload_inbox();
                }
                Err(failure) => error.set(Some(failure.message(t))),
            }
        });
    };
    let header = move || {
        shared.conversation.with(|c| {
            c.as_ref().map(|c| {
                let started = when(t, c.created_ms);
                match &c.page_path {
                    Some(page) => t.format(Key::ConversationStartedOn, &[("when", &started), ("page", page)]),
                    None => t.format(Key::ConversationStarted, &[("when", &started)]),
                }
            })
        })
    };

    view! {
        <section class="co-panel co-conversation" data-testid="co-conversation">
            <Show
                when=move || shared.selected.with(Option::is_some)
                fallback=move || view! { <p class="co-empty">{t.text(Key::ConversationPick)}</p> }
            >
                <h2>{t.text(Key::ConversationTitle)}</h2>
                <p class="co-meta">{header}</p>
                <ul class="co-visitor" data-testid="co-visitor">
                    {move || visitor().into_iter().map(|line| view! { <li dir="auto">{line}</li> }).collect_view()}
                </ul>
                <Show when=move || shared.conversation.with(|c| c.as_ref().is_some_and(|c| !c.previous.is_empty()))>
                    <h3 class="co-subtitle">{t.text(Key::PreviousTitle)}</h3>
                    <ul class="co-list co-previous">
                        {move || previous().into_iter().map(|p| past_item(shared, p, "co-previous-item")).collect_view()}
                    </ul>
                </Show>
                // Focusable and named: a scrolling list must be reachable by keyboard.
                <ol class="co-messages" aria-live="polite" tabindex="0" aria-label=t.text(Key::MessagesLabel)>
                    <For each=messages key=|m| m.id let:m>
                        <li
                            class="co-message"
                            class:co-mine=m.author == Author::Operator
                            data-testid="co-message"
                            data-author=match m.author {
                                Author::Visitor => "visitor",
                                Author::Operator => "operator",
                                Author::Unknown => "unknown",
                            }
                        >
                            <span class="co-author">{author_label(t, m.author)}</span>
                            <time class="co-time" datetime=iso(m.created_ms)>{when(t, m.created_ms)}</time>
                            // `dir="auto"`: a visitor writing English to an Arabic console (or the
                            // reverse) gets their own text direction.
                            <p class="co-body" dir="auto" data-testid="co-message-body">{m.body}</p>
                        </li>
                    </For>
                </ol>
                <Show when=visitor_typing>
                    <p class="co-typing" data-testid="co-typing" role="status">{t.text(Key::VisitorTyping)}</p>
                </Show>
                <Show
                    when=move || !closed()
                    fallback=move || view! { <p class="co-closed" data-testid="co-conversation-closed">{t.text(Key::ConversationClosed)}</p> }
                >
                    <form class="co-reply-form" on:submit=on_submit>
                        <textarea
                            rows="3"
                            placeholder=t.text(Key::ReplyPlaceholder)
                            aria-label=t.text(Key::ReplyLabel)
                            data-testid="co-reply"
                            bind:value=draft
                            on:input=on_input
                            on:keydown=on_keydown
                        ></textarea>
                        <Show when=move || !shared.replies.with(Vec::is_empty)>
                            <p class="co-hint">{t.text(Key::CannedHint)}</p>
                        </Show>
                        <ul class="co-canned" data-testid="co-canned">
                            {move || suggestions().into_iter().map(|r| {
                                let text = r.text.clone();
                                view! {
                                    <li>
                                        <button type="button" class="co-secondary" data-testid="co-canned-item"
                                            on:click=move |_| draft.set(text.clone())>
                                            "/" {r.shortcut} " — " <span dir="auto">{r.text}</span>
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <div class="co-actions">
                            <button type="submit" data-testid="co-send" disabled=move || sending.get()>{t.text(Key::ReplySend)}</button>
                            <button type="button" class="co-secondary" data-testid="co-claim" on:click=claim>
                                {t.text(Key::Claim)}
                            </button>
                            <button type="button" class="co-secondary" data-testid="co-close-conversation" on:click=close>
                                {t.text(Key::ConversationClose)}
                            </button>
                            <label class="co-transfer">
                                <span>{t.text(Key::TransferTo)}</span>
                                <select data-testid="co-transfer" prop:value=move || choice.get() on:change=transfer>
                                    <option value="">{t.text(Key::TransferChoose)}</option>
                                    {colleagues}
                                    <option value="-">{t.text(Key::TransferNobody)}</option>
                                </select>
                            </label>
                        </div>
                        {move || transferred.get().map(|n| view! { <p class="co-notice" role="status" data-testid="co-transferred">{n}</p> })}
                    </form>
                </Show>
                <Show when=has_email>
                    <p class="co-actions">
                        <button type="button" class="co-secondary" data-testid="co-transcript" on:click=send_transcript>
                            {t.text(Key::TranscriptSend)}
                        </button>
                        {move || mailed.get().map(|n| view! { <span class="co-notice" role="status" data-testid="co-transcript-sent">{n}</span> })}
                    </p>
                </Show>
                {move || error.get().map(|e| view! { <p class="co-error" role="alert" data-testid="co-reply-error">{e}</p> })}
            </Show>
        </section>
    }
}

/// Admins: one person's data on the current site (export shown as JSON, erase after a question),
/// dead webhook deliveries (retry or drop all), and the audit log.
#[component]
fn AdminPanel() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let kind = RwSignal::new("email".to_owned());
    let value = RwSignal::new(String::new());
    let asking = RwSignal::new(false);
    let result = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let dead = RwSignal::new(0u64);
    let audit = RwSignal::new(Vec::<String>::new());
    let refresh = move || {
        spawn_local(async move {
            if let Ok(list) = api::dead_webhooks().await {
                dead.set(list["dead"].as_array().map_or(0, |d| d.len() as u64));
            }
            if let Ok(log) = api::audit().await {
                let lines = log["entries"].as_array().into_iter().flatten().take(10).map(|e| {
                    format!(
                        "{} · {} · {} · {} · {}",
                        when(t, e["at_ms"].as_i64().unwrap_or(0)),
                        e["actor"].as_str().unwrap_or(""),
                        e["action"].as_str().unwrap_or(""),
                        e["selector"].as_str().unwrap_or(""),
                        t.number(e["rows"].as_u64().unwrap_or(0)),
                    )
                });
                audit.set(lines.collect());
            }
        });
    };
    refresh();
    let run = move |action: &'static str| {
        let (site, kind, value) = (shared.site.get_untracked(), kind.get_untracked(), value.get_untracked());
        asking.set(false);
        spawn_local(async move {
            match api::data(action, &site, &kind, value.trim()).await {
                Ok(answer) if action == "erase" => {
                    let rows: u64 =
                        answer["removed"].as_object().map_or(0, |r| r.values().filter_map(|v| v.as_u64()).sum());
                    result.set(Some(t.count(Key::DataRemoved, rows, &[])));
                    error.set(None);
                }
                Ok(answer) => {
                    result.set(serde_json::to_string_pretty(&answer).ok());
                    error.set(None);
                }
                Err(Failure::Fields(_)) => error.set(Some(t.text(Key::DataInvalid).into())),
                Err(Failure::Unauthorized) => shared.me.set(None),
                Err(failure) => error.set(Some(failure.message(t))),
            }
            refresh();
        });
    };
    let dead_action = move |action: &'static str| {
        spawn_local(async move {
            if let Err(failure) = api::dead_webhooks_all(action).await {
                error.set(Some(failure.message(t)));
            }
            refresh();
        });
    };
    view! {
        <section class="co-panel co-admin" data-testid="co-admin">
            <h2>{t.text(Key::AdminTitle)}</h2>
            <form class="co-history-form" on:submit=move |e: ev::SubmitEvent| { e.prevent_default(); run("export"); }>
                <select data-testid="co-data-kind" aria-label=t.text(Key::DataKind)
                    on:change=move |e| kind.set(event_target_value(&e))>
                    <option value="email">{t.text(Key::DataKindEmail)}</option>
                    <option value="phone">{t.text(Key::DataKindPhone)}</option>
                    <option value="conversation">{t.text(Key::DataKindConversation)}</option>
                </select>
                <input type="text" data-testid="co-data-value" aria-label=t.text(Key::DataValue) bind:value=value/>
            </form>
            <div class="co-actions">
                <button type="button" class="co-secondary" data-testid="co-data-export" on:click=move |_| run("export")>
                    {t.text(Key::DataExport)}
                </button>
                <button type="button" class="co-secondary" data-testid="co-data-erase" on:click=move |_| asking.set(true)>
                    {t.text(Key::DataErase)}
                </button>
            </div>
            <Show when=move || asking.get()>
                <div role="group" aria-labelledby="co-erase-q">
                    <p id="co-erase-q">{move || t.format(Key::DataEraseConfirm, &[("site", &shared.site.get())])}</p>
                    <button type="button" data-testid="co-data-erase-yes" on:click=move |_| run("erase")>{t.text(Key::DataErase)}</button>
                    " "
                    <button type="button" class="co-secondary" on:click=move |_| asking.set(false)>{t.text(Key::DataKeep)}</button>
                </div>
            </Show>
            {move || error.get().map(|e| view! { <p class="co-error" role="alert" data-testid="co-data-error">{e}</p> })}
            {move || result.get().map(|r| view! { <pre class="co-data-result" data-testid="co-data-result" tabindex="0">{r}</pre> })}
            <h3 class="co-subtitle" data-testid="co-dead">{move || t.count(Key::DeadTitle, dead.get(), &[])}</h3>
            <Show when=move || { dead.get() > 0 }>
                <div class="co-actions">
                    <button type="button" class="co-secondary" data-testid="co-dead-retry" on:click=move |_| dead_action("retry")>{t.text(Key::DeadRetry)}</button>
                    <button type="button" class="co-secondary" data-testid="co-dead-drop" on:click=move |_| dead_action("drop")>{t.text(Key::DeadDrop)}</button>
                </div>
            </Show>
            <h3 class="co-subtitle">{t.text(Key::AuditTitle)}</h3>
            <ul class="co-list co-audit" data-testid="co-audit">
                {move || audit.get().into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
            </ul>
        </section>
    }
}

/// The message for a form field the server refused.
fn operator_field_message(t: Locale, field: &str) -> &'static str {
    t.text(match field {
        "email" => Key::OperatorsFieldEmail,
        "name" => Key::OperatorsFieldName,
        "password" => Key::OperatorsFieldPassword,
        "sites" => Key::OperatorsFieldSites,
        _ => Key::OperatorsFieldCapacity,
    })
}

/// Admins: the operator accounts (capacity changed in place, removal after a question) and a
/// form that adds one. `porchlight operator` does the same from the command line.
#[component]
fn OperatorsPanel() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let accounts = RwSignal::new(Vec::<porchlight_protocol::OperatorAccount>::new());
    let notice = RwSignal::new(None::<String>);
    let errors = RwSignal::new(Vec::<String>::new());
    let removing = RwSignal::new(None::<String>);
    let (email, name, password, sites) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let admin = RwSignal::new(false);
    let capacity = RwSignal::new("3".to_owned());
    let reload = move || {
        spawn_local(async move {
            if let Ok(list) = api::operators().await {
                accounts.set(list.operators);
            }
        });
    };
    reload();
    let failed = move |failure: Failure| match failure {
        Failure::Fields(fields) => {
            notice.set(None);
            errors.set(fields.iter().map(|f| operator_field_message(t, f).to_owned()).collect());
        }
        Failure::Status(409) => errors.set(vec![t.text(Key::OperatorsExists).to_owned()]),
        Failure::Unauthorized => shared.me.set(None),
        other => errors.set(vec![other.message(t)]),
    };
    let done = move || {
        errors.set(Vec::new());
        notice.set(Some(t.text(Key::OperatorsDone).to_owned()));
        reload();
    };
    let add = move |e: ev::SubmitEvent| {
        e.prevent_default();
        let listed: Vec<String> =
            sites.get_untracked().split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let new = porchlight_protocol::NewOperator {
            email: email.get_untracked(),
            name: name.get_untracked(),
            password: password.get_untracked(),
            sites: (!listed.is_empty()).then_some(listed),
            admin: admin.get_untracked(),
            // Not a number: 0, which the server refuses with the capacity message.
            capacity: Some(capacity.get_untracked().trim().parse().unwrap_or(0)),
        };
        spawn_local(async move {
            match api::add_operator(&new).await {
                Ok(_) => {
                    for field in [email, name, password, sites] {
                        field.set(String::new());
                    }
                    done();
                }
                Err(failure) => failed(failure),
            }
        });
    };
    let row = move |account: porchlight_protocol::OperatorAccount| {
        let me = shared.me.with_untracked(|m| m.as_ref().map(|m| m.id.clone()));
        let own = me.as_deref() == Some(account.id.as_str());
        let chats = RwSignal::new(account.capacity.to_string());
        let every = t.text(Key::OperatorsEvery).to_owned();
        let line = t.format(
            Key::OperatorsLine,
            &[
                ("name", &account.name),
                ("email", &account.email),
                ("sites", &account.sites.as_ref().map_or(every, |s| s.join(", "))),
            ],
        );
        let (id, save_id, ask_id, name) =
            (account.id.clone(), account.id.clone(), account.id.clone(), account.name.clone());
        let save = move |_| {
            let access = porchlight_protocol::OperatorAccess {
                sites: account.sites.clone(),
                admin: account.admin,
                capacity: chats.get_untracked().trim().parse().unwrap_or(0),
            };
            let id = save_id.clone();
            spawn_local(async move {
                match api::update_operator(&id, &access).await {
                    Ok(_) => done(),
                    Err(failure) => failed(failure),
                }
            });
        };
        let remove = move |_| {
            let id = id.clone();
            removing.set(None);
            spawn_local(async move {
                match api::remove_operator(&id).await {
                    Ok(()) => done(),
                    Err(failure) => failed(failure),
                }
            });
        };
        let asking = move || removing.get().as_deref() == Some(ask_id.as_str());
        let ask_this = account.id.clone();
        let label_id = format!("co-op-cap-{}", account.id);
        view! {
            <li class="co-operator" data-testid="co-operator" data-operator=account.id.clone()>
                <span dir="auto">{line}</span>
                {account.admin.then(|| view! { " · " <strong>{t.text(Key::OperatorsAdminMark)}</strong> })}
                <span class="co-actions">
                    <label for=label_id.clone()>{t.text(Key::OperatorsCapacity)}</label>
                    <input id=label_id type="number" min="1" max="50" class="co-capacity" data-testid="co-operator-capacity" bind:value=chats/>
                    <button type="button" class="co-secondary" data-testid="co-operator-save" on:click=save>{t.text(Key::OperatorsSave)}</button>
                    {(!own).then(|| view! {
                        <button type="button" class="co-secondary" data-testid="co-operator-remove"
                            on:click=move |_| removing.set(Some(ask_this.clone()))>{t.text(Key::OperatorsRemove)}</button>
                    })}
                </span>
                <Show when=asking>
                    <p role="group">
                        {t.format(Key::OperatorsRemoveAsk, &[("name", &name)])} " "
                        <button type="button" data-testid="co-operator-remove-yes" on:click=remove.clone()>{t.text(Key::OperatorsRemove)}</button>
                        " "
                        <button type="button" class="co-secondary" on:click=move |_| removing.set(None)>{t.text(Key::DataKeep)}</button>
                    </p>
                </Show>
            </li>
        }
    };
    view! {
        <section class="co-panel co-operators" data-testid="co-operators">
            <h2>{t.text(Key::OperatorsTitle)}</h2>
            <ul class="co-list">{move || accounts.get().into_iter().map(row).collect_view()}</ul>
            <h3 class="co-subtitle">{t.text(Key::OperatorsAdd)}</h3>
            <form class="co-operator-form" on:submit=add data-testid="co-operator-form">
                <label>{t.text(Key::OperatorsEmail)}<input type="email" autocomplete="off" data-testid="co-op-email" bind:value=email/></label>
                <label>{t.text(Key::OperatorsName)}<input type="text" autocomplete="off" data-testid="co-op-name" bind:value=name/></label>
                <label>{t.text(Key::OperatorsPassword)}<input type="password" autocomplete="new-password" data-testid="co-op-password" bind:value=password/></label>
                <label>{t.text(Key::OperatorsSites)}<input type="text" autocomplete="off" data-testid="co-op-sites" bind:value=sites/></label>
                <label>{t.text(Key::OperatorsCapacity)}<input type="number" min="1" max="50" data-testid="co-op-capacity" bind:value=capacity/></label>
                <label class="co-check"><input type="checkbox" data-testid="co-op-admin" bind:checked=admin/>{t.text(Key::OperatorsIsAdmin)}</label>
                <button type="submit" data-testid="co-op-add">{t.text(Key::OperatorsAdd)}</button>
            </form>
            <div role="alert" data-testid="co-operators-errors">
                {move || errors.get().into_iter().map(|e| view! { <p class="co-error">{e}</p> }).collect_view()}
            </div>
            {move || notice.get().map(|n| view! { <p class="co-notice" role="status" data-testid="co-operators-done">{n}</p> })}
        </section>
    }
}

/// One past conversation as a button that opens it (read-only once closed).
fn past_item(shared: Shared, past: PastConversation, testid: &'static str) -> impl IntoView {
    let t = shared.locale;
    let line = t.format(Key::PastLine, &[("when", &when(t, past.created_ms)), ("snippet", &past.snippet)]);
    let id = past.conversation_id.clone();
    view! {
        <li>
            <button type="button" class="co-past" data-testid=testid data-conversation=past.conversation_id
                on:click=move |_| shared.open(id.clone())>
                <span dir="auto">{line}</span>
            </button>
        </li>
    }
}

/// Searches closed and open conversations of the site (messages, visitor e-mail, page).
#[component]
fn HistoryPanel() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Vec<PastConversation>>);
    let error = RwSignal::new(None::<String>);
    let search = move |e: ev::SubmitEvent| {
        e.prevent_default();
        let (site, q) = (shared.site.get_untracked(), query.get_untracked());
        spawn_local(async move {
            match api::history(&site, q.trim()).await {
                Ok(history) => {
                    found.set(Some(history.conversations));
                    error.set(None);
                }
                Err(Failure::Unauthorized) => shared.me.set(None),
                Err(failure) => error.set(Some(failure.message(t))),
            }
        });
    };
    Effect::new(move || {
        shared.site.track();
        found.set(None);
    });
    view! {
        <section class="co-panel co-history" data-testid="co-history">
            <h2>{t.text(Key::HistoryTitle)}</h2>
            <form class="co-history-form" role="search" on:submit=search>
                <input type="search" data-testid="co-history-q" aria-label=t.text(Key::HistorySearch)
                    placeholder=t.text(Key::HistorySearch) bind:value=query/>
                <button type="submit" class="co-secondary" data-testid="co-history-search">{t.text(Key::HistorySubmit)}</button>
            </form>
            {move || error.get().map(|e| view! { <p class="co-error" role="alert">{e}</p> })}
            {move || found.get().map(|list| if list.is_empty() {
                view! { <p class="co-empty" data-testid="co-history-empty">{t.text(Key::HistoryEmpty)}</p> }.into_any()
            } else {
                view! {
                    <ul class="co-list">{list.into_iter().map(|p| past_item(shared, p, "co-history-item")).collect_view()}</ul>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn CallbacksPanel() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let list = RwSignal::new(Vec::<OperatorCallback>::new());
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let load = move || {
        let site = shared.site.get_untracked();
        spawn_local(async move {
            match api::callbacks(&site).await {
                Ok(callbacks) => {
                    list.try_set(callbacks.callbacks);
                    loaded.try_set(true);
                    error.try_set(None);
                }
                Err(Failure::Unauthorized) => {
                    error.try_set(Some(t.text(Key::CallbacksForbidden).into()));
                }
                Err(failure) => {
                    error.try_set(Some(failure.message(t)));
                }
            }
        });
    };
    Effect::new(move || {
        shared.site.track();
        load();
    });
    let set_status = move |reference: String, raw: String| {
        let status = CallbackStatus::parse(&raw);
        let site = shared.site.get_untracked();
        spawn_local(async move {
            match api::set_callback_status(&site, &reference, status).await {
                Ok(follow_up) => {
                    list.update(|l| {
                        if let Some(c) = l.iter_mut().find(|c| c.reference == reference) {
                            c.status = follow_up.status;
                            c.due_ms = follow_up.due_ms;
                        }
                    });
                    error.set(None);
                }
                Err(failure) => error.set(Some(failure.message(t))),
            }
        });
    };
    let rows = move || {
        list.get()
            .into_iter()
            .map(|c| {
                let reference = c.reference.clone();
                let current = c.status;
                let (pending, due_ms) = (matches!(current, CallbackStatus::Received | CallbackStatus::Scheduled), c.due_ms);
                let detail = [c.topic.clone(), c.note.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                view! {
                    <li class="co-callback" data-testid="co-callback" data-reference=c.reference.clone() data-status=current.as_str()>
                        <span class="co-callback-who">
                            {c.name.clone()} " · "
                            <a href=format!("tel:{}", c.phone) data-testid="co-callback-phone" dir="ltr">
                                {c.phone_display.clone().unwrap_or_else(|| c.phone.clone())}
                            </a>
                            // Against the server's clock (the console learns its offset), live.
                            {move || (pending && due_ms < shared.now.get()).then(|| view! {
                                " " <strong class="co-overdue" data-testid="co-callback-overdue">{t.text(Key::CallbackOverdue)}</strong>
                            })}
                        </span>
                        <span class="co-callback-due">
                            {t.format(Key::CallbackDue, &[("when", &when(t, c.due_ms)), ("reference", &c.reference)])}
                        </span>
                        <span class="co-callback-note">{detail}</span>
                        <select
                            data-testid="co-callback-status"
                            aria-label=t.text(Key::CallbackStatusLabel)
                            on:change=move |e| set_status(reference.clone(), event_target_value(&e))
                        >
                            {CALLBACK_STATUSES
                                .iter()
                                .map(|s| view! { <option value=s.as_str() selected=*s == current>{status_label(t, *s)}</option> })
                                .collect_view()}
                        </select>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="co-panel co-callbacks" data-testid="co-callbacks">
            <h2>{t.text(Key::CallbacksTitle)}</h2>
            <button type="button" class="co-secondary" on:click=move |_| load()>{t.text(Key::Refresh)}</button>
            {move || error.get().map(|e| view! { <p class="co-error" role="alert" data-testid="co-callbacks-error">{e}</p> })}
            <Show when=move || loaded.get() && list.with(Vec::is_empty)>
                <p class="co-empty" data-testid="co-callbacks-empty">{t.text(Key::CallbacksEmpty)}</p>
            </Show>
            <ul class="co-list">{rows}</ul>
        </section>
    }
}

/// The promise ledger: per kind, kept / broken / void and the kept rate, and the worst breaks.
#[component]
fn PromisesPanel() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let summary = RwSignal::new(None::<porchlight_protocol::PromiseSummary>);
    let error = RwSignal::new(None::<String>);
    let load = move || {
        let site = shared.site.get_untracked();
        spawn_local(async move {
            match api::promises(&site).await {
                Ok(s) => {
                    summary.try_set(Some(s));
                    error.try_set(None);
                }
                Err(failure) => {
                    error.try_set(Some(failure.message(t)));
                }
            }
        });
    };
    Effect::new(move || {
        shared.site.track();
        shared.ledger_version.track();
        load();
    });
    let kind_label = move |kind: &str| {
        t.text(match kind {
            "chat_first_reply" => Key::PromiseKindChat,
            "callback" => Key::PromiseKindCallback,
            _ => Key::PromiseKindMessage,
        })
    };
    let body = move || {
        summary.get().map(|s| {
            s.kinds
                .into_iter()
                .filter(|k| k.total > 0)
                .map(|k| {
                    let line = t.format(Key::PromiseLine, &[
                        ("kind", kind_label(&k.kind)),
                        ("kept", &t.number(u64::from(k.kept))),
                        ("broken", &t.number(u64::from(k.broken))),
                        ("void", &t.number(u64::from(k.void))),
                    ]);
                    let rate = k.kept_rate.map(|r| t.format(Key::PromiseRate, &[("rate", &t.number((r * 100.0).round() as u64))]));
                    let worst = k
                        .worst
                        .iter()
                        .map(|b| {
                            let what = match b.late_secs {
                                Some(secs) => t.format(Key::PromiseLate, &[("minutes", &t.number(((secs + 59) / 60).max(0) as u64))]),
                                None => t.text(Key::PromiseUnanswered).to_owned(),
                            };
                            let id = b.subject_id.clone();
                            let open = move |_| {
                                if id.starts_with("cv_") {
                                    shared.selected.set(Some(id.clone()));
                                    shared.load_conversation(id.clone());
                                }
                            };
                            view! {
                                <li data-testid="co-promise-break">
                                    <button type="button" class="co-link" on:click=open>{b.subject_id.clone()}</button>" "{what}
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <li data-testid="co-promise-kind" data-kind=k.kind.clone() data-broken=k.broken.to_string()>
                            <p>{line}" "{rate}</p>
                            <ul class="co-breaks">{worst}</ul>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    // Who kept the promises they answered: one line per operator.
    let operators = move || {
        summary.get().map(|s| {
            s.by_operator
                .into_iter()
                .map(|o| {
                    let name = o.name.unwrap_or_else(|| t.text(Key::PromiseAutomation).to_owned());
                    let line = t.format(
                        Key::PromiseByOperator,
                        &[
                            ("name", &name),
                            ("kept", &t.number(u64::from(o.kept))),
                            ("total", &t.number(u64::from(o.kept + o.broken))),
                        ],
                    );
                    view! { <li data-testid="co-promise-operator" dir="auto">{line}</li> }
                })
                .collect_view()
        })
    };
    view! {
        <section class="co-panel co-promises" data-testid="co-promises">
            <h2>{t.text(Key::PromisesTitle)}</h2>
            <button type="button" class="co-secondary" on:click=move |_| load()>{t.text(Key::Refresh)}</button>
            {move || error.get().map(|e| view! { <p class="co-error" role="alert">{e}</p> })}
            <ul class="co-counts">{body}</ul>
            <ul class="co-counts co-by-operator">{operators}</ul>
        </section>
    }
}

#[component]
fn RatingsPanel() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let t = shared.locale;
    let summary = RwSignal::new(None::<RatingSummary>);
    let error = RwSignal::new(None::<String>);
    let load = move || {
        let site = shared.site.get_untracked();
        spawn_local(async move {
            match api::ratings(&site).await {
                Ok(s) => {
                    summary.try_set(Some(s));
                    error.try_set(None);
                }
                Err(Failure::Unauthorized) => {
                    error.try_set(Some(t.text(Key::RatingsForbidden).into()));
                }
                Err(failure) => {
                    error.try_set(Some(failure.message(t)));
                }
            }
        });
    };
    Effect::new(move || {
        shared.site.track();
        load();
    });
    let body = move || {
        summary.get().map(|s| {
            let counts = s
                .counts
                .iter()
                .map(|c| {
                    let line = t.format(
                        Key::RatingsCountLine,
                        &[("value", &rating_label(t, c.value)), ("count", &t.number(c.count))],
                    );
                    view! { <li data-value=c.value.as_str()>{line}</li> }
                })
                .collect_view();
            // What they said, and what they rated: a chat opens in place.
            let recent = s
                .recent
                .iter()
                .map(|r| {
                    let value = RatingValue::parse(&r.value).map_or_else(|| r.value.clone(), |v| rating_label(t, v));
                    let about = match (r.context_kind.as_str(), r.context_ref.clone()) {
                        ("chat", Some(id)) => Some(
                            view! {
                                <button type="button" class="co-secondary" data-testid="co-rating-chat"
                                    on:click=move |_| shared.open(id.clone())>{t.text(Key::RatingsOpenChat)}</button>
                            }
                            .into_any(),
                        ),
                        ("callback", Some(reference)) => Some(
                            view! { <span>{t.format(Key::RatingsOnCallback, &[("reference", &reference)])}</span> }
                                .into_any(),
                        ),
                        _ => None,
                    };
                    view! {
                        <li data-testid="co-rating-recent">
                            <strong>{value}</strong> " · " {when(t, r.created_ms)}
                            {r.comment.clone().map(|c| view! { " · " <q dir="auto">{c}</q> })}
                            {about.map(|a| view! { " · " {a} })}
                        </li>
                    }
                })
                .collect_view();
            let has_recent = !s.recent.is_empty();
            view! {
                <p class="co-share" data-testid="co-ratings-share">{share_label(t, &s)}</p>
                <p data-testid="co-ratings-total">{total_label(t, &s)}</p>
                <ul class="co-counts">{counts}</ul>
                {has_recent.then(|| view! {
                    <h3 class="co-subtitle">{t.text(Key::RatingsRecent)}</h3>
                    <ul class="co-list co-recent-ratings">{recent}</ul>
                })}
            }
        })
    };
    view! {
        <section class="co-panel co-ratings" data-testid="co-ratings-summary">
            <h2>{t.text(Key::RatingsTitle)}</h2>
            <button type="button" class="co-secondary" on:click=move |_| load()>{t.text(Key::Refresh)}</button>
            {move || error.get().map(|e| view! { <p class="co-error" role="alert" data-testid="co-ratings-error">{e}</p> })}
            {body}
        </section>
    }
}
