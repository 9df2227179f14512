//! The Chat tab: the optimistic message log and the composer. State: [`crate::chat::ChatLog`].

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::Api;
use crate::app::{need, Connectivity, Live, Site, Tabs};
use crate::bridge::Bridge;
use crate::chat::{should_clear_input, ChatLog, Done, Entry, Job, Status};
use crate::clock::{format_when, now_ms};
use crate::i18n::{Key, Locale};
use crate::ids::new_key;
use crate::tabs::Tab;
use crate::wait::{reply_due_ms, LateWatch};

#[component]
pub fn ChatView() -> impl IntoView {
    let locale = need::<Locale>();
    let site = need::<Site>();
    let log = RwSignal::new(ChatLog::default());
    let draft = RwSignal::new(String::new());
    // A problem with the text itself (empty, too long), found before sending.
    let input_error = RwSignal::new(None::<&'static str>);
    let (live, tabs, api) = (need::<Live>(), need::<Tabs>(), need::<Api>());
    // Running late: the first unanswered message's deadline is the wait shown when it was sent.
    let late = RwSignal::new(LateWatch::default());
    let sent = Callback::new(move |()| {
        let posted = site.config.with_untracked(|c| c.as_ref().map_or(300, |c| c.promises.chat_first_reply_secs));
        let due = live.availability.with_untracked(|a| reply_due_ms(a.as_ref(), posted, now_ms()));
        late.update(|w| w.sent(due));
    });

    // Operator replies: read back on every tick of the open panel (SSE comes with the chat issue).
    let reading = StoredValue::new(false);
    Effect::new({
        let api = api.clone();
        move || {
            live.now.track();
            let Some(s) = log.with_untracked(|l| l.session().cloned()) else { return };
            if reading.get_value() {
                return;
            }
            reading.set_value(true);
            let (api, after) = (api.clone(), log.with_untracked(ChatLog::read_up_to));
            spawn_local(async move {
                let result = api.messages(&s.conversation_id, &s.token, after).await;
                reading.try_set_value(false);
                if let Ok(list) = result {
                    if log.try_update(|l| l.receive(list.messages)) == Some(true) {
                        late.update(LateWatch::replied);
                    }
                }
            });
        }
    });
    let late_notice = move || {
        late.get().is_late(live.now.get()).then(|| {
            let offer = live.availability.with(|a| {
                a.as_ref().map(|a| locale.format(Key::LateOffer, &[("when", &format_when(a.message.reply_by_ms, locale))]))
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

    let pump = {
        let (connectivity, bridge) = (need::<Connectivity>(), need::<Bridge>());
        move || send_queued(log, draft, api.clone(), connectivity, bridge.clone(), sent)
    };
    let send = {
        let pump = pump.clone();
        move || {
            let text = draft.get_untracked();
            match log.try_update(|l| l.submit(new_key(), &text)) {
                Some(Ok(_)) => {
                    input_error.set(None);
                    pump();
                }
                Some(Err(errors)) => {
                    input_error.set(errors.0.first().map(|e| locale.field_error("body", e.code)));
                }
                None => {}
            }
        }
    };
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
            <div class="pl-chat-scroll" node_ref=scroller>
                <p class="pl-intro">{intro}</p>
                <ol class="pl-chat-log" aria-label=locale.text(Key::ChatLogLabel) aria-live="polite">
                    // Re-rendered whole on each change: a visitor's log is short, and a keyed
                    // <For> costs more WASM than it saves here.
                    {move || log.with(|l| l.entries().iter().map(|e| message_view(e.clone(), locale, retry)).collect_view())}
                </ol>
                <div class="pl-live" role="status" aria-live="polite">
                    {late_notice}
                    {move || error_text().map(|text| view! { <p class="pl-error" data-testid="pl-chat-error">{text}</p> })}
                </div>
            </div>
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
                        draft.set(event_target_value(&e));
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
        Status::Failed => Key::ChatFailed,
    };
    let (id, operator) = (entry.client_id, entry.operator);
    view! {
        <li class="pl-msg" class:pl-msg-operator=operator data-testid="pl-chat-message" data-status=status.as_str()
            data-author=if operator { "operator" } else { "visitor" }>
            <p class="pl-msg-body">
                {operator.then(|| view! { <span class="pl-sr-only">{locale.text(Key::ChatReply)}" "</span> })}
                {entry.body}
            </p>
            <p class="pl-msg-meta" hidden=operator>
                <span class="pl-msg-status" class:pl-msg-failed=status == Status::Failed>
                    {(status == Status::Sent).then(|| view! { <span aria-hidden="true">"✓ "</span> })}
                    {locale.text(label)}
                </span>
                {(status == Status::Failed).then(|| view! {
                    <button type="button" class="pl-button pl-link" on:click=move |_| retry.run(id.clone())>
                        {locale.text(Key::Retry)}
                    </button>
                })}
            </p>
        </li>
    }
}

/// Sends queued messages one after another until none is left. Returns at once if a request is
/// already under way: that loop will pick up what was queued since.
fn send_queued(
    log: RwSignal<ChatLog>,
    draft: RwSignal<String>,
    api: Api,
    connectivity: Connectivity,
    bridge: Bridge,
    on_sent: Callback<()>,
) {
    spawn_local(async move {
        while let Some(job) = log.try_update(ChatLog::start_next).flatten() {
            let client_id = job.client_id().to_owned();
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
                on_sent.run(());
            }
        }
    });
}
