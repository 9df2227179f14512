//! The Rate tab: three faces as native radios. State: [`crate::rating::RatingState`].

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::{RatingScale, RatingValue};

use crate::api::Api;
use crate::app::{need, Connectivity, Tabs};
use crate::bridge::Bridge;
use crate::i18n::{Key, Locale};
use crate::ids::new_key;
use crate::rating::{Attempt, RatingState};
use crate::tabs::Tab;

const FACES: [(RatingValue, &str, Key, &str); 3] = [
    (RatingValue::Bad, "😞", Key::RateBad, "pl-rating-bad"),
    (RatingValue::Neutral, "😐", Key::RateNeutral, "pl-rating-neutral"),
    (RatingValue::Good, "😊", Key::RateGood, "pl-rating-good"),
];

#[component]
pub fn RatingView() -> impl IntoView {
    let locale = need::<Locale>();
    let tabs = need::<Tabs>();
    let state = RwSignal::new(RatingState::default());

    let post = {
        let (api, connectivity, bridge) = (need::<Api>(), need::<Connectivity>(), need::<Bridge>());
        move |attempt: Attempt| {
            let (api, bridge) = (api.clone(), bridge.clone());
            spawn_local(async move {
                let result = api.rate(&attempt.key, &attempt.body).await;
                connectivity.note(&result);
                if let Ok(receipt) = &result {
                    bridge.event("rating", &[("value", receipt.value.as_str()), ("id", &receipt.id)]);
                }
                state.try_update(|s| s.finish(attempt.seq, result));
            });
        }
    };
    // Both the radios and the Retry button post; `Callback` makes `post` Copy.
    let post = Callback::new(post);
    let choose = move |value: RatingValue| {
        if let Some(attempt) = state.try_update(|s| s.choose(value, RatingScale::Faces3, new_key)).flatten() {
            post.run(attempt);
        }
    };
    let retry = move |_| {
        if let Some(attempt) = state.try_update(RatingState::retry).flatten() {
            post.run(attempt);
        }
    };

    let faces = FACES
        .into_iter()
        .map(|(value, emoji, key, testid)| {
            view! {
                <label class="pl-face">
                    <input
                        type="radio"
                        class="pl-face-input"
                        name="pl-rating"
                        id=testid
                        value=value.as_str()
                        data-testid=testid
                        prop:checked=move || state.with(|s| s.chosen() == Some(value))
                        on:change=move |_| choose(value)
                    />
                    <span class="pl-face-card">
                        <span class="pl-face-emoji" aria-hidden="true">{emoji}</span>
                        <span class="pl-face-text">{locale.text(key)}</span>
                    </span>
                </label>
            }
        })
        .collect_view();

    view! {
        // The form scopes the radio group to this panel.
        <form class="pl-rate" on:submit=|e| e.prevent_default()>
            <fieldset class="pl-rating" data-testid="pl-rating">
                <legend class="pl-legend">{locale.text(Key::RateLegend)}</legend>
                <div class="pl-faces">{faces}</div>
            </fieldset>
            <div class="pl-live" role="status" aria-live="polite">
                {move || state.with(|s| s.recorded().is_some()).then(|| view! {
                    <p class="pl-thanks" data-testid="pl-rating-thanks">{locale.text(Key::RateThanks)}</p>
                })}
                {move || state.with(|s| s.error().map(|f| f.message(locale))).map(|text| view! {
                    <div class="pl-error" data-testid="pl-rating-error">
                        <p>{text}</p>
                        <button type="button" class="pl-button pl-secondary" on:click=retry>{locale.text(Key::Retry)}</button>
                    </div>
                })}
            </div>
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
        </form>
    }
}
