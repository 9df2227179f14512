//! The Rate tab: the site's scale as native radios (arrow keys move and choose, one click
//! records), a spoken "Thank you", "Tell us more", undo and change within the window.
//! State: [`RatingState`]; requests go through the panel's [`Courier`] (outbox), so a rating
//! made offline is sent when the frame can reach the server again, even after a reload.

use leptos::prelude::*;
use porchlight_protocol::{RatingScale, RatingValue};

use crate::api::Api;
use crate::app::{need, Live, Site, Tabs};
use crate::bridge::Bridge;
use crate::clock::now_ms;
use crate::i18n::{Key, Locale};
use crate::ids::new_key;
use crate::outbox::{self, storage_key, Courier};
use crate::rating::{check_comment, CommentError, Confirmed, RatingState, Status, KIND, MAX_COMMENT_TEXT};
use crate::tabs::Tab;

/// `data-testid` (and `id`) of a value's radio: `pl-rating-bad|neutral|good`, `-up|down`, `-1`…`-5`.
fn testid(scale: RatingScale, value: RatingValue) -> String {
    let name = match (scale, value) {
        (RatingScale::Thumbs2, RatingValue::Good) => "up",
        (RatingScale::Thumbs2, _) => "down",
        _ => value.as_str(),
    };
    let mut id = String::from("pl-rating-");
    id.push_str(name);
    id
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
        let json = self.state.with_untracked(|s| s.is_started().then(|| s.to_json()));
        self.storage_key.with_value(|key| outbox::store(key, json.as_deref()));
        if let Some(entry) = entry {
            self.courier.send(entry);
        }
    }
}

#[component]
pub fn RatingView() -> impl IntoView {
    let locale = need::<Locale>();
    let tabs = need::<Tabs>();
    let site = need::<Site>();
    let bridge = need::<Bridge>();
    let courier = need::<Courier>();
    let key = storage_key(&need::<Api>(), KIND);

    let now = now_ms();
    let mut saved = outbox::load(&key).and_then(|json| RatingState::from_json(&json, now)).unwrap_or_default();
    saved.resume(|key| courier.contains(key));
    let started = saved.is_started();
    let rating = Rating {
        state: RwSignal::new(saved),
        now: need::<Live>().now,
        courier,
        storage_key: StoredValue::new(key),
    };
    let state = rating.state;
    courier.listen(KIND, move |key, report| {
        let confirmed = state.try_update(|s| s.on_report(key, &report, now_ms())).flatten();
        let record = state.with_untracked(|s| s.record().map(|r| (r.value, r.id.clone())));
        if let (Some(confirmed), Some((value, id))) = (confirmed, record) {
            let mut detail = vec![("value", value.as_str()), ("id", id.as_str())];
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
                let id = testid(scale, value);
                view! {
                    <label class="pl-face">
                        <input
                            type="radio"
                            class="pl-face-input"
                            name="pl-rating"
                            id=id.clone()
                            value=value.as_str()
                            data-testid=id
                            prop:checked=move || state.with(|s| s.chosen() == Some(value))
                            prop:disabled=move || !open()
                            on:change=move |_| rating.act(move |s, now| {
                                s.set_scale(scale);
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
        let (testid, class, text) = match state.with(RatingState::status)? {
            Status::Failed(failure) => ("pl-rating-error", "pl-error", failure.message(locale)),
            Status::Pending => ("pl-rating-pending", "pl-hint", locale.text(Key::RatePending).to_owned()),
            Status::CommentThanks => ("pl-rating-comment-thanks", "pl-thanks", locale.text(Key::RateMoreThanks).to_owned()),
            Status::Thanks => ("pl-rating-thanks", "pl-thanks", locale.text(Key::RateThanks).to_owned()),
            Status::Undone => ("pl-rating-undone", "pl-hint", locale.text(Key::RateUndone).to_owned()),
        };
        Some(view! { <p class=class data-testid=testid>{text}</p> })
    };

    // "Tell us more": a counter that turns into the reason when the text is too long.
    let draft = RwSignal::new(String::new());
    let counter = move || {
        draft.with(|d| match check_comment(d) {
            Err(CommentError::TooLong) => locale.format(Key::RateTooLong, &[("max", MAX_COMMENT_TEXT)]),
            _ => locale.count(Key::RateCount, d.chars().count() as u64, &[("max", MAX_COMMENT_TEXT)]),
        })
    };
    let send_comment = move |_| {
        let text = draft.get_untracked();
        rating.act(move |s, now| s.set_comment(&text, now).is_ok());
    };

    view! {
        // The form scopes the radio group to this panel.
        <form class="pl-rate" on:submit=|e| e.prevent_default()>
            <fieldset class="pl-rating" data-testid="pl-rating">
                <legend class="pl-legend">{locale.text(Key::RateLegend)}</legend>
                <div class="pl-faces">{radios}</div>
            </fieldset>
            <div class="pl-live" role="status" aria-live="polite">{status}</div>
            <p class="pl-hint" data-testid="pl-rating-closed" hidden=move || open() || state.with(|s| s.record().is_none())>
                {locale.text(Key::RateClosed)}
            </p>
            {move || state.with(RatingState::offers_recovery).then(|| view! {
                <div class="pl-recovery" data-testid="pl-rating-recovery">
                    <p>{locale.text(Key::RateRecovery)}</p>
                    <div class="pl-actions">
                        <button type="button" class="pl-button pl-primary" on:click=move |_| tabs.go_to(Tab::Chat)>
                            {locale.text(Key::RateChatNow)}
                        </button>
                        <button type="button" class="pl-button pl-secondary" on:click=move |_| tabs.go_to(Tab::Callback)>
                            {locale.text(Key::RateCallMe)}
                        </button>
                    </div>
                </div>
            })}
            // Hidden rather than removed, so what is typed survives every state change.
            <div class="pl-more" hidden=move || !can_change()>
                <label class="pl-label" for="pl-rating-comment">
                    {locale.text(Key::RateMore)}" "<span class="pl-optional">{locale.text(Key::CbOptional)}</span>
                </label>
                <textarea
                    id="pl-rating-comment"
                    class="pl-input"
                    rows="3"
                    data-testid="pl-rating-comment"
                    aria-describedby="pl-rating-count"
                    on:input=move |e| draft.set(event_target_value(&e))
                ></textarea>
                <p class="pl-hint" id="pl-rating-count" data-testid="pl-rating-count">{counter}</p>
                <div class="pl-actions">
                    <button type="button" class="pl-button pl-secondary" data-testid="pl-rating-comment-send" on:click=send_comment>
                        {locale.text(Key::ChatSend)}
                    </button>
                    <button type="button" class="pl-button pl-link" data-testid="pl-rating-undo"
                        on:click=move |_| rating.act(|s, now| s.undo(now))>
                        {locale.text(Key::RateUndo)}
                    </button>
                </div>
            </div>
        </form>
    }
}
