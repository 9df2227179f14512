//! The Rate tab: the site's scale as native radios (arrow keys move and choose, one click
//! records), a spoken "Thank you", "Tell us more", undo and change within the window.
//! State: [`RatingState`]; requests go through the panel's [`Courier`] (outbox), so a rating
//! made offline is sent when the frame can reach the server again, even after a reload.
//!
//! The same view is the satisfaction prompt after a callback is done (or a chat ended): given a
//! `context`, it rates that instead of the page, keeps its own saved state, and its element ids
//! and test ids start with [`id_prefix`] so it can share the panel with the Rate tab.

use leptos::prelude::*;
use porchlight_protocol::{AvailabilityState, RatingContext, RatingContextKind, RatingScale, RatingValue};

use crate::app::{parts, Parts};
use crate::clock::now_ms;
use crate::i18n::{Key, Locale};
use crate::ids::new_key;
use crate::outbox::{self, storage_key, Courier};
use crate::rating::{check_comment, CommentError, Confirmed, RatingState, Status, KIND, MAX_COMMENT_TEXT};
use crate::tabs::Tab;

/// The start of a rating view's ids and test ids: `pl-rating` for the Rate tab, `pl-cb-rating`
/// after a callback, `pl-chat-rating` after a chat.
pub fn id_prefix(context: Option<&RatingContext>) -> &'static str {
    match context.map(|c| c.kind) {
        Some(RatingContextKind::Callback) => "pl-cb-rating",
        Some(RatingContextKind::Chat) => "pl-chat-rating",
        _ => "pl-rating",
    }
}

/// `{prefix}-{name}`.
fn join(prefix: &str, name: &str) -> String {
    [prefix, "-", name].concat()
}

/// `data-testid` (and `id`) of a value's radio: `pl-rating-bad|neutral|good`, `-up|down`, `-1`…`-5`.
fn testid(prefix: &str, scale: RatingScale, value: RatingValue) -> String {
    let name = match (scale, value) {
        (RatingScale::Thumbs2, RatingValue::Good) => "up",
        (RatingScale::Thumbs2, _) => "down",
        _ => value.as_str(),
    };
    join(prefix, name)
}

/// Where a rating's state is saved: the Rate tab's under `rating`, a contextual one under its
/// kind and reference, so neither overwrites the other.
fn state_name(context: Option<&RatingContext>) -> String {
    match context {
        Some(c) if c.kind != RatingContextKind::Standalone => {
            [KIND, " ", c.kind.as_str(), " ", c.ref_id.as_deref().unwrap_or_default()].concat()
        }
        _ => KIND.to_owned(),
    }
}

fn symbol(scale: RatingScale, value: RatingValue) -> &'static str {
    match (scale, value) {
        (RatingScale::Thumbs2, RatingValue::Good) => "👍",
        (RatingScale::Thumbs2, _) => "👎",
        (_, RatingValue::Bad) => "😞",
        (_, RatingValue::Neutral) => "😐",
        (_, RatingValue::Good) => "😊",
        _ => "★",
    }
}

fn label(locale: Locale, value: RatingValue) -> String {
    let key = match value {
        RatingValue::Bad => Key::RateBad,
        RatingValue::Neutral => Key::RateNeutral,
        RatingValue::Good => Key::RateGood,
        n => return locale.count(Key::RateStars, n.as_str().parse().unwrap_or(1), &[]),
    };
    locale.text(key).to_owned()
}

/// The rating's state, the clock it is judged by, and where it goes: a `Copy` bundle the
/// handlers share.
#[derive(Clone, Copy)]
struct Rating {
    state: RwSignal<RatingState>,
    /// The panel's clock (ticks while open): the change window closes by it.
    now: RwSignal<i64>,
    courier: Courier,
    storage_key: StoredValue<String>,
}

impl Rating {
    /// Applies a visitor's action; when it changed something, syncs.
    fn act(self, action: impl FnOnce(&mut RatingState, i64) -> bool) {
        if self.state.try_update(|s| action(s, now_ms())).unwrap_or(false) {
            self.sync();
        }
    }

    /// Queues what the server lacks and saves the state (only once the visitor has acted).
    fn sync(self) {
        let now = now_ms();
        let _ = self.now.try_set(now);
        let Some(entry) = self.state.try_update(|s| s.next(now, new_key)) else { return };
        let json = self.state.try_with_untracked(|s| s.is_started().then(|| s.to_json())).flatten();
        self.storage_key.try_with_value(|key| outbox::store(key, json.as_deref()));
        if let Some(entry) = entry {
            self.courier.send(entry);
        }
    }
}

/// `context`: what is rated (a done callback, an ended chat); without it, the standalone
/// "How are we doing?" of the Rate tab, which records the host page.
#[component]
pub fn RatingView(#[prop(optional)] context: Option<RatingContext>) -> impl IntoView {
    let Parts { locale, tabs, site, bridge, courier, live, api, .. } = parts();
    let key = storage_key(&api, &state_name(context.as_ref()));
    let prefix = id_prefix(context.as_ref());
    let id = move |name: &str| join(prefix, name);
    let context_kind = context.as_ref().map(|c| c.kind.as_str());
    let legend = match context.as_ref().map(|c| c.kind) {
        Some(RatingContextKind::Callback) => Key::RateLegendCallback,
        _ => Key::RateLegend,
    };

    let now = now_ms();
    let mut saved =
        outbox::load(&key).and_then(|json| RatingState::from_json(&json, now)).unwrap_or_default().in_context(context);
    saved.resume(|key| courier.contains(key));
    let started = saved.is_started();
    let rating = Rating { state: RwSignal::new(saved), now: live.now, courier, storage_key: StoredValue::new(key) };
    let state = rating.state;
    courier.listen(KIND, move |key, report| {
        // Every rating prompt hears every rating report: `on_report` picks this one's keys.
        let Some(confirmed) = state.try_update(|s| s.on_report(key, &report, now_ms())).flatten() else {
            rating.sync();
            return;
        };
        let record = state.try_with_untracked(|s| s.record().map(|r| (r.value, r.id.clone()))).flatten();
        if let Some((value, id)) = record {
            let mut detail = vec![("value", value.as_str()), ("id", id.as_str())];
            if let Some(kind) = context_kind {
                detail.push(("context", kind));
            }
            match confirmed {
                Confirmed::Created => {}
                Confirmed::Changed => detail.push(("changed", "1")),
                Confirmed::Undone => detail.push(("undone", "1")),
            }
            bridge.event("rating", &detail);
        }
        rating.sync();
    });
    if started {
        // A rating from before a reload: finish what was queued.
        rating.sync();
    }

    let open = move || state.with(|s| s.is_open(rating.now.get()));
    let can_change = move || open() && state.with(|s| s.chosen().is_some());

    // The site's scale until the visitor has rated (then the one rated on). Rebuilt only when
    // the config arrives, not on every state change, so keyboard focus stays put.
    let radios = move || {
        let site_scale = site.config.with(|c| c.as_ref().map(|c| c.rating_scale).unwrap_or_default());
        let scale = state.with_untracked(|s| if s.is_started() { s.scale() } else { site_scale });
        scale
            .values()
            .iter()
            .map(|&value| {
                let id = testid(prefix, scale, value);
                view! {
                    <label class="pl-face">
                        <input
                            type="radio"
                            class="pl-face-input"
                            name=prefix
                            id=id.clone()
                            value=value.as_str()
                            data-testid=id
                            prop:checked=move || state.with(|s| s.chosen() == Some(value))
                            prop:disabled=move || !open()
                            on:change=move |_| rating.act(move |s, now| {
                                s.set_scale(scale);
                                // The page the visitor is on now (the loader reports it on open).
                                live.page.with_untracked(|p| s.set_page(&p.path, &p.title));
                                s.choose(value, now)
                            })
                        />
                        <span class="pl-face-card">
                            <span class="pl-face-emoji" aria-hidden="true">{symbol(scale, value)}</span>
                            <span class="pl-face-text">{label(locale, value)}</span>
                        </span>
                    </label>
                }
            })
            .collect_view()
    };

    let status = move || {
        let (name, class, text) = match state.with(RatingState::status)? {
            Status::Failed(failure) => ("error", "pl-error", failure.message(locale)),
            Status::Pending => ("pending", "pl-hint", locale.text(Key::RatePending).to_owned()),
            Status::CommentThanks => ("comment-thanks", "pl-thanks", locale.text(Key::RateMoreThanks).to_owned()),
            Status::Thanks => ("thanks", "pl-thanks", locale.text(Key::RateThanks).to_owned()),
            Status::Sorry => ("sorry", "pl-hint", locale.text(Key::RateSorry).to_owned()),
            Status::Undone => ("undone", "pl-hint", locale.text(Key::RateUndone).to_owned()),
        };
        Some(view! { <p class=class data-testid=id(name)>{text}</p> })
    };

    // "Tell us more": a counter that turns into the reason when the text is too long.
    let draft = RwSignal::new(String::new());
    let counter = move || {
        draft.with(|d| match check_comment(d) {
            Err(CommentError::TooLong) => locale.format(Key::RateTooLong, &[("max", MAX_COMMENT_TEXT)]),
            _ => locale.count(Key::RateCount, d.chars().count() as u64, &[("max", MAX_COMMENT_TEXT)]),
        })
    };
    // A complaint's comment box is cleared when the visitor changes their mind to a good rating.
    let was_negative = StoredValue::new(false);
    Effect::new(move || {
        let chosen = state.with(RatingState::chosen);
        let negative = chosen.is_some_and(RatingValue::is_negative);
        if was_negative.get_value() && chosen.is_some() && !negative {
            draft.set(String::new());
        }
        was_negative.set_value(negative);
    });
    let someone_there = move || {
        live.availability
            .with(|a| a.as_ref().is_some_and(|a| matches!(a.state, AvailabilityState::Open | AvailabilityState::Busy)))
    };
    let send_comment = move |_| {
        let text = draft.get_untracked();
        rating.act(move |s, now| s.set_comment(&text, now).is_ok());
    };

    view! {
        // The form scopes the radio group to this panel.
        <form class="pl-rate" on:submit=|e| e.prevent_default()>
            <fieldset class="pl-rating" data-testid=prefix>
                <legend class="pl-legend">{locale.text(legend)}</legend>
                <div class="pl-faces">{radios}</div>
            </fieldset>
            <div class="pl-live" role="status" aria-live="polite">{status}</div>
            <p class="pl-hint" data-testid=id("closed") hidden=move || open() || state.with(|s| s.record().is_none())>
                {locale.text(Key::RateClosed)}
            </p>
            {move || state.with(RatingState::offers_recovery).then(|| view! {
                <div class="pl-recovery" data-testid=id("recovery")>
                    <p>{locale.text(Key::RateRecovery)}</p>
                    <div class="pl-actions">
                        // Only what can happen now: a chat if someone is there, else a message.
                        <button type="button" class="pl-button pl-primary" data-testid=id("recovery-chat")
                            on:click=move |_| tabs.go_to(Tab::Chat)>
                            {move || locale.text(if someone_there() { Key::RateChatNow } else { Key::RateLeaveMessage })}
                        </button>
                        <button type="button" class="pl-button pl-secondary" on:click=move |_| tabs.go_to(Tab::Callback)>
                            {locale.text(Key::RateCallMe)}
                        </button>
                    </div>
                </div>
            })}
            // Hidden rather than removed, so what is typed survives every state change.
            <div class="pl-more" hidden=move || !can_change()>
                <label class="pl-label" for=id("comment")>
                    {locale.text(Key::RateMore)}" "<span class="pl-optional">{locale.text(Key::CbOptional)}</span>
                </label>
                <textarea
                    id=id("comment")
                    class="pl-input"
                    rows="3"
                    data-testid=id("comment")
                    aria-describedby=id("count")
                    prop:value=move || draft.get()
                    on:input=move |e| draft.set(event_target_value(&e))
                ></textarea>
                <p class="pl-hint" id=id("count") data-testid=id("count")>{counter}</p>
                <div class="pl-actions">
                    <button type="button" class="pl-button pl-secondary" data-testid=id("comment-send") on:click=send_comment>
                        {locale.text(Key::ChatSend)}
                    </button>
                    <button type="button" class="pl-button pl-secondary" data-testid=id("undo")
                        on:click=move |_| rating.act(|s, now| s.undo(now))>
                        {locale.text(Key::RateUndo)}
                    </button>
                </div>
            </div>
        </form>
    }
}
