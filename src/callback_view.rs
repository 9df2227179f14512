//! The "Call me" tab, and the follow-up banner of a request made earlier. State:
//! [`crate::callback::CallbackForm`] and [`Submission`]. A submission goes through the panel's
//! [`Courier`] (outbox), so a request made offline is sent when the frame can reach the server
//! again, even after a reload, and is stored once.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::{
    CallbackFollowUp, CallbackReceipt, CallbackSlots, CallbackStatus, RatingContext, RatingContextKind, SiteId,
};

use crate::app::{parts, Parts};
use crate::callback::{
    entry, follow_up_of, is_final, parse_saved, parse_slot, saved, status_text, CallbackForm, Outcome, Submission, KIND,
};
use crate::clock::{format_time, format_when, now_ms};
use crate::i18n::{Key, Locale};
use crate::ids::new_key;
use crate::rating_view::RatingView;
use crate::tabs::Tab;

/// The frame's `localStorage` key for the follow-up of this site's last request. Written only
/// after a submission; storage errors (blocked third-party storage) just lose the follow-up.
fn storage_key(site: &SiteId) -> String {
    ["porchlight.callback.", site.as_str()].concat()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Keeps what is needed to follow a delivered request up later (its reference and token).
fn remember(site: &SiteId, receipt: &CallbackReceipt) {
    if let (Some(token), Some(s)) = (&receipt.token, storage()) {
        let _ = s.set_item(&storage_key(site), &saved(&receipt.reference, token));
    }
}

/// "Your callback PL-… is scheduled for Monday at 10:00": fetched with the request's token each
/// time the panel opens, while a request is saved. A finished request is shown once, then
/// forgotten; a done one with the one-click satisfaction rating. A request still in the outbox
/// from before a reload is shown here as saved, then as booked once delivered: the visitor may
/// not open the Call me tab again.
#[component]
pub fn CallbackFollowUpView() -> impl IntoView {
    let Parts { locale, live, api, tabs, courier, .. } = parts();
    let follow_up = RwSignal::new(None::<CallbackFollowUp>);
    let restored = RwSignal::new(Submission::restore(courier.queued(KIND).as_ref()));
    // Refused once the server could be reached (e.g. the chosen time has passed meanwhile): the
    // Call me tab has the reason; say so on the others until the visitor goes there.
    let refused = RwSignal::new(false);
    courier.listen(KIND, move |key, report| match restored.try_update(|s| s.on_report(key, &report)).flatten() {
        Some(Outcome::Delivered(receipt)) => {
            follow_up.try_set(Some(follow_up_of(&receipt, now_ms())));
        }
        Some(Outcome::Refused(_)) => {
            refused.try_set(true);
        }
        None => {}
    });
    Effect::new(move || {
        if tabs.current.get() == Tab::Callback && refused.get() {
            refused.set(false);
        }
    });
    let cancel_api = api.clone();
    Effect::new(move || {
        if !live.open.get() {
            return;
        }
        let key = storage_key(api.site());
        let Some(raw) = storage().and_then(|s| s.get_item(&key).ok().flatten()) else { return };
        let api = api.clone();
        spawn_local(async move {
            let Some((reference, token)) = parse_saved(&raw) else { return };
            if let Ok(f) = api.callback_status(reference, token).await {
                if is_final(f.status) {
                    if let Some(s) = storage() {
                        let _ = s.remove_item(&key);
                    }
                }
                follow_up.try_set(Some(f));
            }
        });
    });
    // The Call me tab shows a saved request itself.
    let queued = move || restored.with(|s| s.key().is_some()) && tabs.current.get() != Tab::Callback;
    let saved_banner = move || {
        queued().then(|| {
            view! {
                <div class="pl-banner pl-banner-callback" data-testid="pl-cb-status" data-status="queued">
                    <p>{locale.text(Key::CbQueued)}</p>
                </div>
            }
        })
    };
    let refused_banner = move || {
        refused.get().then(|| {
            view! {
                <div class="pl-banner pl-banner-error" data-testid="pl-cb-status" data-status="refused">
                    <p>{locale.text(Key::CbRefused)}</p>
                    <button type="button" class="pl-button pl-secondary" on:click=move |_| tabs.go_to(Tab::Callback)>
                        {locale.text(Key::WaitCallMe)}
                    </button>
                </div>
            }
        })
    };
    let status_banner = move || {
        if restored.with(|s| s.key().is_some()) {
            return None;
        }
        follow_up.get().map(|f| {
            let unreachable = f.status == CallbackStatus::Unreachable;
            // Still to come: the visitor may call it off.
            let cancel = (!is_final(f.status)).then(|| {
                let api = cancel_api.clone();
                let on_cancel = move |_| {
                    let key = storage_key(api.site());
                    let Some(raw) = storage().and_then(|s| s.get_item(&key).ok().flatten()) else { return };
                    let api = api.clone();
                    spawn_local(async move {
                        let Some((reference, token)) = parse_saved(&raw) else { return };
                        if api.cancel_callback(reference, token).await.is_ok() {
                            if let Some(s) = storage() {
                                let _ = s.remove_item(&key);
                            }
                            follow_up.try_update(|f| f.as_mut().map(|f| f.status = CallbackStatus::Cancelled));
                        }
                    });
                };
                view! {
                    <button type="button" class="pl-button pl-secondary" data-testid="pl-cb-cancel" on:click=on_cancel>
                        {locale.text(Key::CbCancel)}
                    </button>
                }
            });
            // The satisfaction prompt: the rating carries the callback as its context.
            let rating = (f.status == CallbackStatus::Done).then(|| {
                let context = RatingContext { kind: RatingContextKind::Callback, ref_id: Some(f.reference.clone()) };
                view! { <RatingView context/> }
            });
            view! {
                <div class="pl-banner pl-banner-callback" data-testid="pl-cb-status" data-status=f.status.as_str()>
                    <p>{status_text(locale, &f, |ms| format_when(ms, locale))}</p>
                    {unreachable.then(|| view! {
                        <button type="button" class="pl-button pl-secondary" on:click=move |_| tabs.go_to(Tab::Callback)>
                            {locale.text(Key::WaitCallMe)}
                        </button>
                    })}
                    {cancel}
                    {rating}
                </div>
            }
        })
    };
    view! { {saved_banner}{refused_banner}{status_banner} }
}

#[component]
pub fn CallbackView() -> impl IntoView {
    let Parts { locale, site, tabs, courier, api, bridge, .. } = parts();
    let consent_text = move || site.config.with(|c| c.as_ref().and_then(|c| c.consent_text.clone()));
    let form = RwSignal::new(CallbackForm::default());
    // The bookable times, fetched the first time the tab is shown.
    let slots = RwSignal::new(None::<CallbackSlots>);
    Effect::new({
        let api = api.clone();
        move |done: Option<bool>| {
            if done == Some(true) || tabs.current.get() != Tab::Callback {
                return done.unwrap_or(false);
            }
            let api = api.clone();
            spawn_local(async move {
                if let Ok(answer) = api.callback_slots().await {
                    slots.try_set(Some(answer));
                }
            });
            true
        }
    });
    let general = RwSignal::new(None::<String>);
    // The inputs are uncontrolled (the DOM keeps what was typed); a success resets them.
    let form_el = NodeRef::<leptos::html::Form>::new();
    // The slot of the request just sent (the form is cleared once it is booked).
    let booked_slot = StoredValue::new(None::<i64>);

    // A request saved before a reload is still on its way: show it as saved, not an empty form
    // that would invite a second request.
    let submission = RwSignal::new(Submission::restore(courier.queued(KIND).as_ref()));
    courier.listen(KIND, {
        let (api, bridge) = (api.clone(), bridge.clone());
        move |key, report| match submission.try_update(|s| s.on_report(key, &report)).flatten() {
            Some(Outcome::Delivered(done)) => {
                remember(api.site(), &done);
                form.try_update(CallbackForm::succeeded);
                if let Some(el) = form_el.try_get_untracked().flatten() {
                    el.reset();
                }
                general.try_set(None);
                bridge.event("callback", &[("reference", &done.reference)]);
            }
            Some(Outcome::Refused(failure)) => {
                if let Some(errors) = failure.field_errors() {
                    form.try_update(|f| f.set_errors(errors.clone()));
                    focus_first_invalid(form_el);
                }
                let other = form
                    .try_with_untracked(|f| {
                        f.other_errors().next().map(|(field, code)| locale.field_error(field, code))
                    })
                    .flatten();
                general.try_set(Some(other.map_or_else(|| failure.message(locale), str::to_owned)));
            }
            None => {}
        }
    });
    let pending = move || submission.with(|s| matches!(s, Submission::Sending(_)));

    let on_submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        if !submission.with_untracked(Submission::can_submit) {
            return;
        }
        general.set(None);
        let consent_required = consent_text().is_some();
        if let Some((key, body)) = form.try_update(|f| f.prepare(consent_required, new_key)).flatten() {
            // Saved in the outbox before the first try: from here it is never lost.
            submission.update(|s| s.submit(key.clone()));
            booked_slot.set_value(body.preferred_ms);
            courier.send(entry(key, &body));
        } else {
            focus_first_invalid(form_el);
        }
    };

    // Saved while offline (or the server is failing): the outbox keeps trying. A rate limit
    // says how long.
    let queued = move || {
        submission
            .with(|s| match s {
                Submission::Queued(_, failure @ crate::api::ApiFailure::RateLimited { .. }) => {
                    Some(failure.message(locale))
                }
                Submission::Queued(..) => Some(locale.text(Key::CbQueued).to_owned()),
                _ => None,
            })
            .map(|text| view! { <p class="pl-hint pl-cb-queued" data-testid="pl-cb-queued">{text}</p> })
    };

    let confirmation = move || {
        submission
            .with(|s| match s {
                Submission::Delivered(r) => Some(r.clone()),
                _ => None,
            })
            .map(|r| {
                // A chosen slot is a window ("between 12:00 and 12:30"), not a deadline.
                let thanks = match booked_slot.get_value() {
                    Some(start) if start < r.due_ms => locale.format(
                        Key::CbThanksBetween,
                        &[("from", &format_when(start, locale)), ("to", &format_time(r.due_ms, locale))],
                    ),
                    _ => locale.format(Key::CbThanks, &[("when", &format_when(r.due_ms, locale))]),
                };
                let reference = locale.format(Key::CbReference, &[("reference", &r.reference)]);
                view! {
                    <div class="pl-confirm" data-testid="pl-cb-confirmation">
                        <p class="pl-confirm-title">{thanks}</p>
                        <p class="pl-confirm-ref">{reference}</p>
                    </div>
                }
            })
    };

    view! {
        <div class="pl-callback">
            <div class="pl-live" role="status" aria-live="polite">{confirmation}{queued}</div>
            <form class="pl-form" novalidate node_ref=form_el on:submit=on_submit hidden=move || !submission.with(Submission::shows_form)>
                <p class="pl-intro">{locale.text(Key::CbIntro)}</p>
                <div class="pl-field">
                    <label class="pl-label" for="pl-cb-name">{locale.text(Key::CbName)}</label>
                    <input
                        id="pl-cb-name"
                        name="name"
                        type="text"
                        class="pl-input"
                        data-testid="pl-cb-name"
                        autocomplete="name"
                        aria-required="true"
                        aria-invalid=invalid(form, "name")
                        aria-describedby=described_by(form, "name", None)
                        on:input=move |e| form.update(|f| {
                            f.name = event_target_value(&e);
                            f.edited("name");
                        })
                    />
                    {field_error(form, locale, "name")}
                </div>
                <div class="pl-field">
                    <label class="pl-label" for="pl-cb-phone">{locale.text(Key::CbPhone)}</label>
                    <input
                        id="pl-cb-phone"
                        name="phone"
                        type="tel"
                        inputmode="tel"
                        class="pl-input"
                        data-testid="pl-cb-phone"
                        autocomplete="tel"
                        aria-required="true"
                        aria-invalid=invalid(form, "phone")
                        aria-describedby=described_by(form, "phone", Some("pl-cb-phone-hint"))
                        on:input=move |e| form.update(|f| {
                            f.phone = event_target_value(&e);
                            f.edited("phone");
                        })
                    />
                    <p class="pl-hint" id="pl-cb-phone-hint">{locale.text(Key::CbPhoneHint)}</p>
                    {field_error(form, locale, "phone")}
                </div>
                <div class="pl-field">
                    <label class="pl-label" for="pl-cb-when">{locale.text(Key::CbWhen)}</label>
                    <select
                        id="pl-cb-when"
                        name="when"
                        class="pl-input pl-select"
                        data-testid="pl-cb-when"
                        aria-invalid=invalid(form, "preferred_ms")
                        aria-describedby=described_by(form, "preferred_ms", None)
                        on:change=move |e| form.update(|f| {
                            f.preferred_ms = parse_slot(&event_target_value(&e));
                            f.edited("preferred_ms");
                        })
                    >
                        <option value="">
                            {move || match slots.with(|s| s.as_ref().map(|s| s.asap_due_ms)) {
                                Some(due) => locale.format(Key::CbAsapBy, &[("when", &format_when(due, locale))]),
                                None => locale.text(Key::CbAsap).to_owned(),
                            }}
                        </option>
                        {move || slots.with(|s| {
                            s.iter().flat_map(|s| &s.slots).map(|slot| {
                                view! { <option value=slot.start_ms.to_string()>{format_when(slot.start_ms, locale)}</option> }
                            }).collect_view()
                        })}
                    </select>
                    {field_error(form, locale, "preferred_ms")}
                </div>
                {move || site.config.with(|c| {
                    // The site's values are what the server checks; the labels are in the
                    // visitor's language when the site has them.
                    let topics: Vec<(String, String)> = c
                        .as_ref()
                        .map(|c| c.callback_topics.iter().map(|t| (t.clone(), c.topic_label(t).to_owned())).collect())
                        .unwrap_or_default();
                    (!topics.is_empty()).then(|| view! {
                        <div class="pl-field">
                            <label class="pl-label" for="pl-cb-topic">{locale.text(Key::CbTopic)}</label>
                            <select id="pl-cb-topic" name="topic" class="pl-input pl-select" data-testid="pl-cb-topic"
                                on:change=move |e| form.update(|f| f.topic = event_target_value(&e))>
                                <option value="">{locale.text(Key::CbTopicNone)}</option>
                                {topics.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                            </select>
                        </div>
                    })
                })}
                <div class="pl-field">
                    <label class="pl-label" for="pl-cb-note">
                        {locale.text(Key::CbNote)} " " <span class="pl-optional">{locale.text(Key::CbOptional)}</span>
                    </label>
                    <textarea
                        id="pl-cb-note"
                        name="note"
                        class="pl-input"
                        data-testid="pl-cb-note"
                        rows="3"
                        aria-invalid=invalid(form, "note")
                        aria-describedby=described_by(form, "note", None)
                        on:input=move |e| form.update(|f| {
                            f.note = event_target_value(&e);
                            f.edited("note");
                        })
                    ></textarea>
                    {field_error(form, locale, "note")}
                </div>
                // Honeypot: hidden from people and assistive tech; bots fill it in.
                <div class="pl-hp" aria-hidden="true">
                    <label for="pl-cb-website">{locale.text(Key::CbHoneypot)}</label>
                    <input
                        id="pl-cb-website"
                        name="website"
                        type="text"
                        tabindex="-1"
                        autocomplete="off"
                        aria-hidden="true"
                        on:input=move |e| form.update(|f| f.website = event_target_value(&e))
                    />
                </div>
                {move || consent_text().map(|text| view! {
                    <div class="pl-field pl-consent">
                        <input
                            id="pl-cb-consent"
                            name="consent"
                            type="checkbox"
                            class="pl-check"
                            data-testid="pl-cb-consent"
                            aria-required="true"
                            aria-invalid=invalid(form, "consent")
                            aria-describedby=described_by(form, "consent", None)
                            on:change=move |e| form.update(|f| {
                                f.consent = event_target_checked(&e);
                                f.edited("consent");
                            })
                        />
                        <label for="pl-cb-consent">{text}</label>
                        {field_error(form, locale, "consent")}
                    </div>
                })}
                <div class="pl-live" role="status" aria-live="polite">
                    {move || general.get().map(|text| view! { <p class="pl-error" data-testid="pl-cb-error">{text}</p> })}
                </div>
                <button type="submit" class="pl-button pl-primary pl-wide" data-testid="pl-cb-submit" disabled=pending>
                    {move || locale.text(if pending() { Key::CbSending } else { Key::CbSubmit })}
                </button>
            </form>
        </div>
    }
}

fn error_id(field: &str) -> String {
    format!("pl-cb-{field}-error")
}

fn invalid(form: RwSignal<CallbackForm>, field: &'static str) -> impl Fn() -> Option<&'static str> + Copy {
    move || form.with(|f| f.error(field).map(|_| "true"))
}

fn described_by(
    form: RwSignal<CallbackForm>,
    field: &'static str,
    hint: Option<&'static str>,
) -> impl Fn() -> Option<String> {
    move || {
        let error = form.with(|f| f.error(field).map(|_| error_id(field)));
        let ids: Vec<String> = hint.map(str::to_owned).into_iter().chain(error).collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

fn field_error(form: RwSignal<CallbackForm>, locale: Locale, field: &'static str) -> impl IntoView {
    move || {
        form.with(|f| f.error(field)).map(|code| {
            view! {
                <p class="pl-field-error" id=error_id(field) data-testid=format!("pl-cb-error-{field}")>
                    {locale.field_error(field, code)}
                </p>
            }
        })
    }
}

/// After a refused submit, the first field to fix gets focus (which scrolls it into view), once
/// its error is drawn.
fn focus_first_invalid(form: NodeRef<leptos::html::Form>) {
    use wasm_bindgen::JsCast;
    request_animation_frame(move || {
        let field =
            form.try_get_untracked().flatten().and_then(|f| f.query_selector("[aria-invalid=true]").ok().flatten());
        if let Some(field) = field.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = field.focus();
        }
    });
}
