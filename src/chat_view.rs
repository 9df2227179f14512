//! The Chat tab: the optimistic message log, the composer, the operator's typing indicator and,
//! once the operator closes the conversation, its rating. State: [`crate::chat::ChatLog`];
//! replies, typing and the close come live through [`crate::live::LiveChat`].

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::frame::FrameToLoader;
use porchlight_protocol::{Author, AvailabilityState, PageContext, RatingContext, RatingContextKind};

use crate::api::Api;
use crate::app::{parts, Connectivity, Parts};
use crate::bridge::Bridge;
use crate::chat::{should_clear_input, ChatLog, Done, Entry, Job, Session, Status, Visitor};
use crate::clock::{format_when, now_ms};
use crate::contact_view::{EmailAsk, ForgetChat};
use crate::i18n::{Key, Locale};
use crate::ids::new_key;
use crate::live::{Incoming, LiveChat, Note, TypingThrottle, TYPING_SHOWN_MS};
use crate::outbox::{self, storage_key};
use crate::rating_view::RatingView;
use crate::sound;
use crate::tabs::Tab;
use crate::wait::{reply_due_ms, LateWatch};

#[component]
pub fn ChatView() -> impl IntoView {
    let Parts { locale, site, live, tabs, api, bridge, connectivity, .. } = parts();
    // A conversation from before a reload (or from another tab) carries on.
    let saved_key = StoredValue::new(storage_key(&api, "chat"));
    let restored = saved_key.with_value(|k| outbox::load(k)).and_then(|json| ChatLog::restore(&json, now_ms()));
    let mut restored = restored.unwrap_or_default();
    restored.ensure_create_key(crate::ids::new_key);
    let log = RwSignal::new(restored);
    let save = move || {
        let json = log.with_untracked(ChatLog::saved);
        saved_key.with_value(|k| outbox::store(k, json.as_deref()));
    };
    let draft = RwSignal::new(String::new());
    // A problem with the text itself (empty, too long), found before sending.
    let input_error = RwSignal::new(None::<&'static str>);
    // Running late: the first unanswered message's deadline is the wait shown when it was sent.
    let late = RwSignal::new(LateWatch::default());
    // The header names whoever answers the open conversation, and until someone does, counts
    // from this visitor's own first message.
    Effect::new(move || {
        let who = log.with(|l| l.answered_by().map(str::to_owned));
        let due =
            log.with(|l| l.open_session().is_some()).then(|| late.get().due_ms()).flatten().filter(|_| who.is_none());
        if live.talking_to.get_untracked() != who {
            live.talking_to.set(who);
        }
        if live.answer_due.get_untracked() != due {
            live.answer_due.set(due);
        }
    });

    // The operator is typing: shown until a few seconds after their last signal, or their message.
    let operator_typing = RwSignal::new(false);
    let typing_signals = StoredValue::new(0u32);
    let show_typing = move || {
        let n = typing_signals.get_value().wrapping_add(1);
        typing_signals.set_value(n);
        operator_typing.set(true);
        set_timeout(
            move || {
                if typing_signals.try_get_value() == Some(n) {
                    operator_typing.try_set(false);
                }
            },
            std::time::Duration::from_millis(TYPING_SHOWN_MS),
        );
    };

    // The chime for new replies: off unless the visitor turned it on (kept in the frame's
    // storage only then). Of several tabs, the one holding the stream rings.
    let sound_key = StoredValue::new(storage_key(&api, "sound"));
    let sound_on = RwSignal::new(sound_key.with_value(|k| outbox::load(k)).is_some());
    let stream_tab = StoredValue::new(None::<LiveChat>);

    // Returns the conversation to follow when another tab's is adopted.
    let on_note = move |note: Note| match note {
        Note::Event(_, Incoming::Messages(messages)) => {
            let operator = messages.iter().any(|m| m.author == Author::Operator);
            if log.try_update(|l| l.receive(messages)).unwrap_or(0) > 0 {
                late.update(LateWatch::replied);
                // Stored "on" counts whichever tab turned it on; without storage, this tab's box.
                let on = sound_key.with_value(|k| outbox::load(k)).map_or(sound_on.get_untracked(), |_| true);
                if on && stream_tab.get_value().is_some_and(LiveChat::holds_stream) {
                    sound::chime();
                }
            }
            if operator {
                operator_typing.set(false);
            }
            None
        }
        Note::Event(_, Incoming::OperatorTyping) => {
            show_typing();
            None
        }
        Note::Event(id, Incoming::Closed(closed_ms)) => {
            if log.try_update(|l| l.close(&id, closed_ms)) == Some(true) {
                operator_typing.set(false);
                save();
            }
            None
        }
        Note::Session(conversation_id, token) => {
            let session = Session { conversation_id, token, closed_ms: None };
            // The tab that started it has saved it.
            let adopted = log.try_update(|l| l.adopt(session.clone(), 0)) == Some(true);
            adopted.then_some(session)
        }
        Note::Seen(_, id) => {
            log.try_update(|l| l.note_seen(id));
            None
        }
    };
    let live_chat = LiveChat::start(&api, move || log.with_untracked(ChatLog::read_up_to), on_note);
    stream_tab.set_value(Some(live_chat));
    // A conversation from before a reload is followed at once.
    if let Some(session) = log.with_untracked(|l| l.session().cloned()) {
        live_chat.follow(&session);
    }

    // Unread: operator messages that arrived while the panel was closed, for the launcher's
    // badge. Opening the panel sees them all, in every tab.
    let posted_unread = StoredValue::new(0u32);
    Effect::new({
        let bridge = bridge.clone();
        move || {
            let open = live.open.get();
            log.track();
            if open && log.with_untracked(ChatLog::unread) > 0 {
                // Untracked: only the count depends on it, and it is read just below.
                if let Some(Some(seen)) = log.try_update_untracked(ChatLog::mark_seen) {
                    save();
                    if let Some(id) = log.with_untracked(|l| l.session().map(|s| s.conversation_id.clone())) {
                        live_chat.announce_seen(&id, seen);
                    }
                }
            }
            let count = log.with_untracked(ChatLog::unread);
            if posted_unread.get_value() != count {
                posted_unread.set_value(count);
                let state = live.availability.with_untracked(|a| a.as_ref().map(|a| a.state));
                bridge.post(&FrameToLoader::Unread { count, label: locale.launcher_label(state, count) });
            }
        }
    });

    let sent = Callback::new(move |started: bool| {
        let posted = site.config.with_untracked(|c| c.as_ref().map_or(300, |c| c.promises.chat_first_reply_secs));
        let due = live.availability.with_untracked(|a| reply_due_ms(a.as_ref(), posted, now_ms()));
        late.update(|w| w.sent(due));
        save(); // acknowledged: no longer kept as unsent
        if started {
            if let Some(session) = log.with_untracked(|l| l.session().cloned()) {
                live_chat.follow(&session);
                live_chat.announce(&session);
            }
        }
    });

    // The visitor's typing, throttled; only into an open conversation.
    let typing = StoredValue::new(TypingThrottle::default());
    let signal_typing = {
        let api = api.clone();
        move || {
            let Some(session) = log.with_untracked(|l| l.open_session().cloned()) else { return };
            if typing.try_update_value(|t| t.should_send(now_ms())) == Some(true) {
                let api = api.clone();
                spawn_local(async move {
                    let _ = api.typing(&session.conversation_id, &session.token).await;
                });
            }
        }
    };

    let late_notice = move || {
        late.get().is_late(live.now.get()).then(|| {
            let offer = live.availability.with(|a| {
                a.as_ref()
                    .map(|a| locale.format(Key::LateOffer, &[("when", &format_when(a.message.reply_by_ms, locale))]))
            });
            view! {
                <div class="pl-late" data-testid="pl-late">
                    <p class="pl-late-title">{locale.text(Key::LateSorry)}</p>
                    <p>{offer}</p>
                    <button type="button" class="pl-button pl-secondary" data-testid="pl-late-callback"
                        on:click=move |_| tabs.go_to(Tab::Callback)>
                        {locale.text(Key::WaitCallMe)}
                    </button>
                </div>
            }
        })
    };

    // A message that failed for a passing reason (offline, the server restarting, a rate limit)
    // goes out again by itself after the backoff (1 s doubling to a minute; the Retry button
    // sends it at once). `retry_waiting` is set once `pump` exists: the retry calls `pump`, and
    // `pump` schedules the retry.
    let retry_waiting = StoredValue::new(None::<Callback<()>>);
    let run_retry = move || {
        if let Some(Some(retry)) = retry_waiting.try_get_value() {
            retry.run(());
        }
    };
    let when_idle = Callback::new(move |()| {
        if let Some(delay) = log.with_untracked(|l| l.retry_in_ms(js_sys::Math::random())) {
            set_timeout(run_retry, std::time::Duration::from_millis(u64::try_from(delay).unwrap_or(0)));
        }
    });
    let pump = {
        move || {
            typing.update_value(TypingThrottle::reset);
            // Goes with a first message: where the visitor is, in which language and time zone.
            let page = live.page.with_untracked(|p| {
                (!p.path.is_empty()).then(|| PageContext {
                    path: p.path.clone(),
                    title: Some(p.title.clone()).filter(|t| !t.is_empty()),
                })
            });
            let visitor = Visitor { page, locale: Some(locale.tag().to_owned()), time_zone: crate::clock::time_zone() };
            log.update_untracked(|l| l.set_visitor(visitor));
            send_queued(log, draft, api.clone(), connectivity, bridge.clone(), sent, when_idle);
        }
    };
    retry_waiting.set_value(Some(Callback::new({
        let pump = pump.clone();
        move |()| {
            if log.try_update(ChatLog::retry_waiting) == Some(true) {
                pump();
            }
        }
    })));
    // The visitor deleted the conversation: nothing of it is kept here either.
    let deleted = RwSignal::new(false);
    let on_deleted = Callback::new(move |()| {
        log.update(|l| {
            l.forget();
            l.ensure_create_key(new_key);
        });
        save();
        live_chat.forget();
        late.set(LateWatch::default());
        deleted.set(true);
    });
    let send = {
        let pump = pump.clone();
        move || {
            let text = draft.get_untracked();
            match log.try_update(|l| l.submit(new_key(), &text)) {
                Some(Ok(_)) => {
                    deleted.set(false);
                    if sound_on.get_untracked() {
                        // A gesture in the frame: after a reload, the first chance to allow the chime.
                        sound::unlock();
                    }
                    input_error.set(None);
                    // Kept from the moment it is written: a reload sends it (same client id).
                    save();
                    pump();
                }
                Some(Err(errors)) => {
                    input_error.set(errors.0.first().map(|e| locale.field_error("body", e.code)));
                }
                None => {}
            }
        }
    };
    // Messages written before a reload and not yet acknowledged go out now.
    if log.with_untracked(ChatLog::has_queued) {
        pump();
    }
    let retry = Callback::new(move |client_id: String| {
        if log.try_update(|l| l.retry(&client_id)) == Some(true) {
            pump();
        }
    });
    let on_submit = {
        let send = send.clone();
        move |e: ev::SubmitEvent| {
            e.prevent_default();
            send();
        }
    };
    // Enter sends, Shift+Enter is a new line; never while an IME is composing.
    let on_keydown = move |e: ev::KeyboardEvent| {
        if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
            e.prevent_default();
            send();
        }
    };
    let error_text = move || {
        input_error.get().map(str::to_owned).or_else(|| {
            log.with(|l| {
                l.last_error().map(|f| match f.field_errors().and_then(|e| e.0.first()) {
                    Some(e) => locale.field_error(&e.field, e.code).to_owned(),
                    None => f.message(locale),
                })
            })
        })
    };
    let intro = move || {
        site.config
            .get()
            .and_then(|c| c.greeting)
            .filter(|g| !g.trim().is_empty())
            .unwrap_or_else(|| locale.text(Key::ChatIntro).to_owned())
    };

    // The e-mail field, when it helps: a conversation exists, nobody has answered, and nobody is
    // online, it is outside hours, or the promise is running late. A memo, so the field keeps what
    // was typed while messages come and go.
    let email_ask = Memo::new(move |_| {
        let session = log.with(|l| {
            l.answered_by()
                .is_none()
                .then(|| l.open_session().map(|s| (s.conversation_id.clone(), s.token.clone())))
                .flatten()
        })?;
        let nobody = live.availability.with(|a| {
            a.as_ref().is_some_and(|a| matches!(a.state, AvailabilityState::NobodyOnline | AvailabilityState::Closed))
        });
        (nobody || late.get().is_late(live.now.get())).then_some(session)
    });

    // The conversation to offer deleting; a memo, so a new message does not reset the question.
    let forgettable =
        Memo::new(move |_| log.with(|l| l.session().map(|s| (s.conversation_id.clone(), s.token.clone()))));

    // Once per closed conversation (not on every change of the log), so the rating keeps its state.
    let closed = Memo::new(move |_| log.with(|l| l.closed_conversation().map(str::to_owned)));

    // Keep the newest message in view.
    let scroller = NodeRef::<leptos::html::Div>::new();
    Effect::new(move || {
        log.with(|l| l.entries().len());
        if let Some(el) = scroller.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });

    view! {
        <div class="pl-chat">
            // Focusable so keyboard users can scroll a long conversation (axe: scrollable-region-focusable).
            <div class="pl-chat-scroll" tabindex="0" node_ref=scroller>
                <p class="pl-intro">{intro}</p>
                <div class="pl-sound">
                    <input
                        id="pl-chat-sound"
                        type="checkbox"
                        class="pl-check"
                        data-testid="pl-chat-sound"
                        prop:checked=move || sound_on.get()
                        on:change=move |e| {
                            let on = event_target_checked(&e);
                            if on {
                                sound::unlock();
                            }
                            sound_on.set(on);
                            sound_key.with_value(|k| outbox::store(k, on.then_some("on")));
                        }
                    />
                    <label for="pl-chat-sound">{locale.text(Key::ChatSound)}</label>
                </div>
                <ol class="pl-chat-log" aria-label=locale.text(Key::ChatLogLabel) aria-live="polite">
                    // Re-rendered whole on each change: a visitor's log is short, and a keyed
                    // <For> costs more WASM than it saves here.
                    {move || log.with(|l| l.entries().iter().map(|e| message_view(e.clone(), locale, retry)).collect_view())}
                </ol>
                {move || closed.get().map(|id| view! {
                    <div class="pl-chat-end" data-testid="pl-chat-ended">
                        <p class="pl-chat-ended">{locale.text(Key::ChatEnded)}</p>
                        <RatingView context=RatingContext { kind: RatingContextKind::Chat, ref_id: Some(id) }/>
                    </div>
                })}
                {move || email_ask.get().map(|(id, token)| view! { <EmailAsk conversation_id=id token=token/> })}
                {move || forgettable.get().map(|(id, token)| view! { <ForgetChat conversation_id=id token=token on_deleted/> })}
                <div class="pl-live" role="status" aria-live="polite">
                    {late_notice}
                    {move || deleted.get().then(|| view! { <p data-testid="pl-chat-deleted">{locale.text(Key::ChatDeleted)}</p> })}
                    {move || error_text().map(|text| view! { <p class="pl-error" data-testid="pl-chat-error">{text}</p> })}
                </div>
            </div>
            <p class="pl-typing" data-testid="pl-chat-typing" role="status" aria-live="polite">
                {move || operator_typing.get().then(|| locale.text(Key::ChatOperatorTyping))}
            </p>
            <form class="pl-chat-form" on:submit=on_submit>
                <label for="pl-chat-input" class="pl-sr-only">{locale.text(Key::ChatInputLabel)}</label>
                <textarea
                    id="pl-chat-input"
                    name="message"
                    class="pl-input pl-chat-input"
                    data-testid="pl-chat-input"
                    rows="2"
                    placeholder=locale.text(Key::ChatPlaceholder)
                    prop:value=move || draft.get()
                    on:input=move |e| {
                        let text = event_target_value(&e);
                        if !text.trim().is_empty() {
                            signal_typing();
                        }
                        draft.set(text);
                        input_error.set(None);
                    }
                    on:keydown=on_keydown
                ></textarea>
                <button type="submit" class="pl-button pl-primary" data-testid="pl-chat-send">
                    {locale.text(Key::ChatSend)}
                </button>
            </form>
        </div>
    }
}

fn message_view(entry: Entry, locale: Locale, retry: Callback<String>) -> impl IntoView {
    let status = entry.status;
    let label = match status {
        Status::Queued | Status::InFlight => Key::ChatSending,
        Status::Sent => Key::ChatSent,
        Status::Failed | Status::Waiting => Key::ChatFailed,
    };
    let (id, operator) = (entry.client_id, entry.operator);
    // Who answered and when: the operator's name (initials as the avatar) and the time.
    let who = operator.then(|| {
        let name = entry.author_name.clone().filter(|n| !n.trim().is_empty());
        let initials = name.as_deref().map(initials).unwrap_or_default();
        let time = entry.created_ms.map(|ms| crate::clock::format_time(ms, locale)).unwrap_or_default();
        view! {
            <p class="pl-msg-meta pl-msg-who" data-testid="pl-chat-author">
                {name.clone().map(|_| view! { <span class="pl-avatar" aria-hidden="true">{initials}</span> })}
                {name.map(|n| view! { <bdi class="pl-msg-name">{n}</bdi> })}
                <time class="pl-msg-time">{time}</time>
            </p>
        }
    });
    view! {
        <li class="pl-msg" class:pl-msg-operator=operator data-testid="pl-chat-message" data-status=status.as_str()
            data-author=if operator { "operator" } else { "visitor" }>
            <p class="pl-msg-body">
                {operator.then(|| view! { <span class="pl-sr-only">{locale.text(Key::ChatReply)}" "</span> })}
                {entry.body}
            </p>
            {who}
            <p class="pl-msg-meta" hidden=operator>
                <span class="pl-msg-status" class:pl-msg-failed=status.is_failed()>
                    {(status == Status::Sent).then(|| view! { <span aria-hidden="true">"✓ "</span> })}
                    {locale.text(label)}
                </span>
                {status.is_failed().then(|| view! {
                    <button type="button" class="pl-button pl-link" on:click=move |_| retry.run(id.clone())>
                        {locale.text(Key::Retry)}
                    </button>
                })}
            </p>
        </li>
    }
}

/// Up to two initials of a display name ("Ann Lee" → "AL"), for the reply's avatar.
pub fn initials(name: &str) -> String {
    // ASCII upper-casing only: `char::to_uppercase` links Unicode's case tables (kilobytes of
    // WASM), and a name's first letters are usually capitals already.
    name.split_whitespace().filter_map(|w| w.chars().next()).take(2).map(|c| c.to_ascii_uppercase()).collect()
}

/// Sends queued messages one after another until none is left. Returns at once if a request is
/// already under way: that loop will pick up what was queued since. `on_sent` learns whether
/// the message started a conversation; `when_idle` is told when the loop has nothing left.
fn send_queued(
    log: RwSignal<ChatLog>,
    draft: RwSignal<String>,
    api: Api,
    connectivity: Connectivity,
    bridge: Bridge,
    on_sent: Callback<bool>,
    when_idle: Callback<()>,
) {
    spawn_local(async move {
        while let Some(job) = log.try_update(ChatLog::start_next).flatten() {
            let client_id = job.client_id().to_owned();
            let starts = matches!(job, Job::Start(_));
            let outcome = match &job {
                Job::Start(first) => api.start_conversation(first).await.map(Done::Started),
                Job::Append { conversation_id, token, message } => {
                    api.send_message(conversation_id, token, message).await.map(Done::Appended)
                }
            };
            connectivity.note(&outcome);
            if let Some(sent) = log.try_update(|l| l.finish(&client_id, outcome)).flatten() {
                if draft.with_untracked(|d| should_clear_input(d, &sent)) {
                    draft.set(String::new());
                }
                bridge.event("message", &[]);
                on_sent.run(starts);
            }
        }
        when_idle.run(());
    });
}
