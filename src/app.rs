//! The panel: header, connection banner, tabs. Thin: state lives in the plain types of
//! `chat`, `callback`, `rating`, `wait`, `tabs`; HTTP in `api`; the host page in `bridge`.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::frame::{FrameToLoader, LoaderToFrame};
use porchlight_protocol::{Availability, SiteConfig};

use crate::api::{Api, ApiFailure};
use crate::bridge::{Bridge, FrameParams, SetupError};
use crate::callback_view::{CallbackFollowUpView, CallbackView};
use crate::chat_view::ChatView;
use crate::clock::{format_when, now_ms};
use crate::i18n::{Key, Locale};
use crate::outbox::Courier;
use crate::rating_view::RatingView;
use crate::tabs::Tab;
use crate::wait::{Line, WaitWording};

/// What the panel shares with its parts, provided as one context value: one lookup (and one
/// copy of the lookup code in the WASM) instead of one per type.
#[derive(Clone)]
pub struct Parts {
    pub api: Api,
    pub bridge: Bridge,
    pub locale: Locale,
    pub connectivity: Connectivity,
    pub site: Site,
    pub tabs: Tabs,
    pub live: Live,
    pub courier: Courier,
}

/// The panel's [`Parts`], from inside the panel.
pub fn parts() -> Parts {
    use_context::<Parts>().expect("the panel's parts are rendered inside <Panel>, which provides their context")
}

/// Whether the API answered lately. Any request that gets no response turns the offline banner
/// on; any response turns it off.
#[derive(Debug, Clone, Copy)]
pub struct Connectivity {
    pub offline: RwSignal<bool>,
}

impl Connectivity {
    pub fn note<T>(&self, result: &Result<T, ApiFailure>) {
        let offline = matches!(result, Err(ApiFailure::Offline));
        if self.offline.get_untracked() != offline {
            self.offline.set(offline);
        }
    }
}

/// The site's configuration once loaded (`None` while loading or when it failed).
#[derive(Debug, Clone, Copy)]
pub struct Site {
    pub config: Signal<Option<SiteConfig>>,
}

/// The site's availability and the visitor's clock, kept fresh while the panel is open:
/// availability is fetched on mount (for the launcher's mark) and then every
/// [`REFRESH_TICKS`] ticks with `If-None-Match`; nothing runs while the panel is closed.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub availability: RwSignal<Option<Availability>>,
    /// Whether the host page shows the panel (the loader says `open` / `closed`).
    pub open: RwSignal<bool>,
    /// The visitor's clock at the last tick: every [`TICK_MS`] while the panel is open.
    pub now: RwSignal<i64>,
    /// The host page the visitor opened the panel on (context for ratings and chats).
    pub page: RwSignal<HostPage>,
    /// Who answers this visitor's open chat (set by the chat once an operator has replied): the
    /// header then names them instead of promising a wait. `Some("")` for an unnamed operator.
    pub talking_to: RwSignal<Option<String>>,
    /// While this visitor waits for a first answer: by when it was promised (their own message's
    /// time plus the wait shown then). The header counts from it, not from zero.
    pub answer_due: RwSignal<Option<i64>>,
}

/// The host page's path (no query or fragment) and title, as the loader reported them on open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPage {
    pub path: String,
    pub title: String,
}

pub const TICK_MS: u64 = 5_000;
/// Availability is refreshed every 30 s while the panel is open.
pub const REFRESH_TICKS: u32 = 2;

/// The selected tab; parts of the panel can send the visitor to another tab.
#[derive(Debug, Clone, Copy)]
pub struct Tabs {
    pub current: RwSignal<Tab>,
}

impl Tabs {
    /// Selects `tab` and moves focus to its first control once it is shown.
    pub fn go_to(&self, tab: Tab) {
        self.current.set(tab);
        request_animation_frame(move || focus_by_id(tab.first_control_id()));
    }
}

pub fn focus_by_id(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = document().get_element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// Starts the frame in `root`: the panel, or an error when the frame was opened with bad params.
/// (Two typed mounts rather than one `AnyView`: smaller WASM.)
///
/// The panel starts in steps, each a task of its own, because a frame on the host's own site
/// (and on most phones) runs on the host page's main thread: first only what the launcher needs
/// (the site's theme and availability: a few fetches); then, when the frame is idle or the
/// visitor opens the panel, the header and tabs; then each tab's content (see [`Panel`]).
pub fn mount(root: web_sys::HtmlElement, setup: Result<FrameParams, SetupError>, locale: Locale, bridge: Bridge) {
    match setup {
        Ok(params) => {
            // The panel's reactive owner lives as long as the frame.
            std::mem::forget(start(root, Api::new(&params.endpoint, params.site), locale, bridge));
        }
        Err(_) => {
            leptos::mount::mount_to(root, move || view! { <SetupErrorView locale bridge/> }).forget();
        }
    }
}

/// Starts the panel for one site in `root` (see [`mount`]); it lives as long as the returned
/// reactive owner.
pub fn start(root: web_sys::HtmlElement, api: Api, locale: Locale, bridge: Bridge) -> Owner {
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let owner = Owner::new();
    owner.with(|| start_panel(root, api, locale, bridge));
    owner
}

/// The site's brand colour for the visitor's colour scheme (its dark variant under a dark
/// scheme), on the panel through custom properties (CSSOM, which the frame's `style-src 'self'`
/// allows) and on the launcher through the loader, with the site's launcher text.
fn apply_theme(site: &SiteConfig, bridge: &Bridge) {
    let dark = window().match_media("(prefers-color-scheme: dark)").ok().flatten().is_some_and(|m| m.matches());
    let colors = site.theme.as_ref().map(|t| match (&t.dark_color, &t.dark_text_color) {
        (Some(color), Some(ink)) if dark => (color.clone(), ink.clone()),
        _ => (t.color.clone(), t.text_color.clone()),
    });
    if let (Some((color, ink)), Some(root)) = (&colors, document().document_element()) {
        use wasm_bindgen::JsCast;
        if let Ok(root) = root.dyn_into::<web_sys::HtmlElement>() {
            let _ = root.style().set_property("--pl-accent", color);
            let _ = root.style().set_property("--pl-accent-ink", ink);
        }
    }
    let (color, text_color) = colors.unzip();
    if color.is_some() || site.launcher_text.is_some() {
        bridge.post(&FrameToLoader::Theme { color, text_color, text: site.launcher_text.clone() });
    }
}

/// Shown instead of the panel when the loader's params are unusable. With a bad origin the
/// bridge is disabled, so the close button posts nothing.
#[component]
pub fn SetupErrorView(locale: Locale, bridge: Bridge) -> impl IntoView {
    // Without a host origin the close button could not reach the host page: leave it out.
    let close = bridge.is_enabled().then(|| {
        view! {
            <button type="button" class="pl-close" data-testid="pl-close" aria-label=locale.text(Key::Close)
                on:click=move |_| bridge.post(&FrameToLoader::Close)>
                <span aria-hidden="true">"×"</span>
            </button>
        }
    });
    view! {
        <main class="pl-panel" data-testid="pl-panel" lang=locale.tag() dir=locale.dir()>
            <header class="pl-header">
                <div class="pl-heading">
                    <h1 class="pl-title">{locale.text(Key::DefaultSiteName)}</h1>
                </div>
                {close}
            </header>
            <p class="pl-banner pl-banner-error" role="alert" data-testid="pl-setup-error">{locale.text(Key::SetupError)}</p>
        </main>
    }
}

/// What the panel needs before it is drawn, kept by the frame from its start.
#[derive(Clone, Copy)]
pub struct Shell {
    config: RwSignal<Option<Result<SiteConfig, ApiFailure>>>,
    load_config: Callback<()>,
    heading: NodeRef<leptos::html::H1>,
}

/// Fetches the site's config and availability (for the launcher), provides the panel's
/// [`Parts`], listens to the loader, and draws [`Panel`] into `root` once the frame is idle, or
/// on open if that comes first. Runs inside the frame's reactive owner.
fn start_panel(root: web_sys::HtmlElement, api: Api, locale: Locale, bridge: Bridge) {
    let connectivity = Connectivity { offline: RwSignal::new(false) };
    let tabs = Tabs { current: RwSignal::new(Tab::Chat) };
    // The site config: `None` while loading. A plain signal and task (rather than a
    // LocalResource) keep the WASM smaller.
    let config = RwSignal::new(None::<Result<SiteConfig, ApiFailure>>);
    let load_config = {
        let (api, bridge) = (api.clone(), bridge.clone());
        Callback::new(move |()| {
            let (api, bridge) = (api.clone(), bridge.clone());
            spawn_local(async move {
                let result = api.config(locale.tag()).await;
                connectivity.note(&result);
                if let Ok(site) = &result {
                    apply_theme(site, &bridge);
                }
                config.try_set(Some(result));
            });
        })
    };
    load_config.run(());
    let live = Live {
        availability: RwSignal::new(None),
        open: RwSignal::new(false),
        now: RwSignal::new(now_ms()),
        page: RwSignal::new(HostPage::default()),
        talking_to: RwSignal::new(None),
        answer_due: RwSignal::new(None),
    };
    let etag = StoredValue::new(None::<String>);
    let refresh = {
        let (api, bridge) = (api.clone(), bridge.clone());
        Callback::new(move |()| {
            let (api, bridge) = (api.clone(), bridge.clone());
            spawn_local(async move {
                // A failed refresh keeps the last answer; the config request reports offline.
                let Some(tag) = etag.try_get_value() else { return };
                if let Ok(Some((answer, tag))) = api.availability(tag.as_deref()).await {
                    let label = locale.launcher_status_label(answer.state);
                    bridge.post(&FrameToLoader::Status { state: answer.state, label });
                    etag.try_set_value(tag);
                    live.availability.try_set(Some(answer));
                }
            });
        })
    };
    refresh.run(());
    let site = Site { config: Signal::derive(move || config.get().and_then(Result::ok)) };
    provide_context(Parts {
        courier: Courier::start(&api, connectivity),
        api,
        bridge: bridge.clone(),
        locale,
        connectivity,
        site,
        tabs,
        live,
    });

    let heading = NodeRef::<leptos::html::H1>::new();
    // One timer for the panel's life that does nothing while the panel is closed (no clearing
    // and re-arming on every open: simpler, and immune to a fake clock's large timer ids).
    let ticks = std::cell::Cell::new(0u32);
    let tick = move || {
        if live.open.try_get_untracked() == Some(true) {
            ticks.set(ticks.get() + 1);
            live.now.set(now_ms());
            if ticks.get().is_multiple_of(REFRESH_TICKS) {
                refresh.run(());
            }
        }
    };
    let _ = set_interval_with_handle(tick, std::time::Duration::from_millis(TICK_MS));

    let shell = Shell { config, load_config, heading };
    // Weak: the loader's listener below lives for ever and must not keep the panel's owner
    // (and its timers and outbox) alive once whoever started the panel drops it.
    let owner = Owner::current().map(|o| o.downgrade());
    let root = StoredValue::new_local(Some(root));
    // Draws the panel once. Called from the loader's messages, outside any reactive owner: the
    // panel is mounted under the frame's, where its parts are provided.
    let draw = move || {
        let owner = owner.as_ref().and_then(|o| o.upgrade());
        if let (Some(root), Some(owner)) = (root.try_update_value(Option::take).flatten(), owner) {
            owner.with(|| leptos::mount::mount_to(root, move || view! { <Panel shell/> }).forget());
        }
    };
    // In a task of its own, after the fetches above have started.
    request_idle_callback(draw.clone());
    bridge.listen(move |message| {
        // `try_`: the listener outlives the panel if it is ever unmounted.
        let open = match message {
            LoaderToFrame::Open { path, title } => {
                live.page.try_set(HostPage { path, title });
                true
            }
            LoaderToFrame::Closed => false,
        };
        if live.open.try_set(open).is_none() && open {
            draw();
            // Into the panel, unless the visitor is already in it (the open message can arrive
            // after a fast click into a field: stealing focus then would drop their typing).
            let body: Option<web_sys::Element> = document().body().map(Into::into);
            let in_panel = document().active_element().is_some_and(|e| Some(&e) != body.as_ref());
            if !in_panel {
                if let Some(h) = heading.try_get_untracked().flatten() {
                    let _ = h.focus();
                }
            }
            live.now.set(now_ms());
            refresh.run(());
        }
    });
}

/// The panel for one site, drawn by [`start_panel`] (which provides its [`Parts`]).
#[component]
pub fn Panel(shell: Shell) -> impl IntoView {
    let Parts { locale, bridge, connectivity, tabs, live, site, .. } = parts();
    let Shell { config, load_config, heading } = shell;
    let close = {
        let bridge = bridge.clone();
        move || bridge.post(&FrameToLoader::Close)
    };
    let esc = window_event_listener(ev::keydown, {
        let close = close.clone();
        move |e| {
            if matches!(e.key().as_str(), "Escape" | "Esc") && !e.default_prevented() {
                close();
            }
        }
    });
    on_cleanup(move || esc.remove());

    let name = move || site.config.get().map_or_else(|| locale.text(Key::DefaultSiteName).to_owned(), |c| c.name);
    // Live availability once known; until then the posted promise, once the config (or its
    // failure) is in, so the line doesn't jump from the default.
    let line = move || {
        live.availability.with(|a| a.as_ref().map(Line::of)).or_else(|| {
            config.with(|c| {
                let posted = c.as_ref()?.as_ref().map_or(300, |c| c.promises.chat_first_reply_secs);
                Some(Line::Posted(WaitWording::from_secs(posted)))
            })
        })
    };
    // A memo, so the live region below changes (and is announced) only when the words do, not
    // on every tick.
    // Once a person has answered in this conversation, the header says who is talking and nothing
    // about waiting: a wait line above a live chat would be untrue.
    let wait = Memo::new(move |_| match live.talking_to.get() {
        Some(who) => {
            let who = if who.trim().is_empty() { name() } else { who };
            Some(locale.format(Key::ChatWith, &[("name", &who)]))
        }
        None => match (live.answer_due.get(), line()) {
            // Someone is there and this visitor is waiting: their own deadline, or an apology.
            (Some(due), Some(Line::Open(_) | Line::Busy(_))) => Some(if live.now.get() < due {
                locale.format(Key::WaitAnswerBy, &[("when", &format_when(due, locale))])
            } else {
                locale.text(Key::WaitRunningLate).to_owned()
            }),
            (_, l) => l.map(|l| l.text(locale, live.now.get(), |ms| format_when(ms, locale))),
        },
    });
    let call_me = move || {
        (live.talking_to.get().is_none() && line().is_some_and(Line::offers_callback)).then(|| {
            view! {
                <button type="button" class="pl-button pl-wait-action" data-testid="pl-wait-callback"
                    on:click=move |_| tabs.go_to(Tab::Callback)>
                    {locale.text(Key::WaitCallMe)}
                </button>
            }
        })
    };
    // In slices, so no task is long: the header and tabs now, then each tab's content in a task
    // of its own, the selected one first; a tab the visitor picks is drawn at once. Once drawn, a
    // tab stays (nothing typed is lost on a switch).
    let slice = RwSignal::new(0u8);
    next_slice(slice);
    let drawn = move |tab: Tab| {
        Memo::new(move |was: Option<&bool>| {
            was == Some(&true) || slice.get() > tab as u8 || (slice.get() > 0 && tabs.current.get() == tab)
        })
    };
    let drawn = [drawn(Tab::Chat), drawn(Tab::Callback), drawn(Tab::Rating)];
    let drawn = move |tab: Tab| drawn[tab as usize];
    let config_problem = move || config.get().and_then(Result::err).filter(|f| *f != ApiFailure::Offline);

    view! {
        <main class="pl-panel" data-testid="pl-panel" lang=locale.tag() dir=locale.dir() data-open=move || live.open.get().then_some("")>
            <header class="pl-header">
                <div class="pl-heading">
                    <h1 class="pl-title" id="pl-title" tabindex="-1" node_ref=heading>{name}</h1>
                    <p class="pl-wait" data-testid="pl-wait-line" aria-live="polite" data-state=move || if live.talking_to.get().is_some() { Some("talking") } else { line().map(Line::state) }>{wait}</p>
                    {call_me}
                </div>
                <button type="button" class="pl-close" data-testid="pl-close" aria-label=locale.text(Key::Close) on:click=move |_| close()>
                    <span aria-hidden="true">"×"</span>
                </button>
            </header>
            <div class="pl-banners" role="status" aria-live="polite">
                <CallbackFollowUpView/>
                {move || connectivity.offline.get().then(|| view! {
                    <div class="pl-banner pl-banner-offline" data-testid="pl-offline">
                        <p>{locale.text(Key::Offline)}</p>
                        <button type="button" class="pl-button pl-secondary" on:click=move |_| load_config.run(())>
                            {locale.text(Key::Retry)}
                        </button>
                    </div>
                })}
                {move || config_problem().map(|failure| {
                    let setup = failure.is_setup_problem();
                    view! {
                        <div class="pl-banner pl-banner-error" data-testid=if setup { "pl-setup-error" } else { "pl-config-error" }>
                            <p>{failure.message(locale)}</p>
                            {(!setup).then(|| view! {
                                <button type="button" class="pl-button pl-secondary" on:click=move |_| load_config.run(())>
                                    {locale.text(Key::Retry)}
                                </button>
                            })}
                        </div>
                    }
                })}
            </div>
            <TabList/>
            <div class="pl-body">
                // All three stay mounted (hidden when not selected), so nothing typed is lost
                // when the visitor switches tabs. Written out rather than a <TabPanel> taking
                // `Children`: boxing each tab into an AnyView costs WASM.
                <section class="pl-tabpanel pl-tabpanel-chat" role="tabpanel" id=Tab::Chat.panel_id()
                    aria-labelledby=Tab::Chat.id() hidden=move || tabs.current.get() != Tab::Chat>
                    {move || drawn(Tab::Chat).get().then(|| view! { <ChatView/> })}
                </section>
                <section class="pl-tabpanel pl-tabpanel-callback" role="tabpanel" id=Tab::Callback.panel_id()
                    aria-labelledby=Tab::Callback.id() hidden=move || tabs.current.get() != Tab::Callback>
                    {move || drawn(Tab::Callback).get().then(|| view! { <CallbackView/> })}
                </section>
                <section class="pl-tabpanel pl-tabpanel-rating" role="tabpanel" id=Tab::Rating.panel_id()
                    aria-labelledby=Tab::Rating.id() hidden=move || tabs.current.get() != Tab::Rating>
                    {move || drawn(Tab::Rating).get().then(|| view! { <RatingView/> })}
                </section>
            </div>
        </main>
    }
}

/// Draws the next tab in a task of its own (a timer, so the browser may paint and handle input
/// in between), then schedules the one after.
fn next_slice(slice: RwSignal<u8>) {
    set_timeout(
        move || {
            if slice.try_update(|n| *n += 1).is_some() && slice.get_untracked() <= Tab::Rating as u8 {
                next_slice(slice);
            }
        },
        std::time::Duration::ZERO,
    );
}

#[component]
fn TabList() -> impl IntoView {
    let Parts { tabs, locale, .. } = parts();
    let on_key = move |e: ev::KeyboardEvent| {
        if let Some(next) = tabs.current.get_untracked().after_key(&e.key()) {
            e.prevent_default();
            tabs.current.set(next);
            focus_by_id(next.id());
        }
    };
    let buttons = Tab::ALL
        .into_iter()
        .map(|tab| {
            let selected = move || tabs.current.get() == tab;
            view! {
                <button
                    type="button"
                    role="tab"
                    class="pl-tab"
                    id=tab.id()
                    data-testid=tab.id()
                    aria-controls=tab.panel_id()
                    aria-selected=move || if selected() { "true" } else { "false" }
                    tabindex=move || if selected() { "0" } else { "-1" }
                    on:click=move |_| tabs.current.set(tab)
                >
                    {locale.text(tab.label())}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="pl-tabs" role="tablist" aria-label=locale.text(Key::TabsLabel) on:keydown=on_key>
            {buttons}
        </div>
    }
}
