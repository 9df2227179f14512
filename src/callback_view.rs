//! The "Call me" tab. State: [`crate::callback::CallbackForm`].

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::{CallbackReceipt, NewCallback};

use crate::api::Api;
use crate::app::{need, Connectivity};
use crate::bridge::Bridge;
use crate::callback::{CallbackForm, When};
use crate::clock::{format_time, now_ms, utc_offset_min};
use crate::i18n::{Key, Locale};
use crate::ids::new_key;

#[component]
pub fn CallbackView() -> impl IntoView {
    let locale = need::<Locale>();
    let form = RwSignal::new(CallbackForm::default());
    let receipt = RwSignal::new(None::<CallbackReceipt>);
    let general = RwSignal::new(None::<String>);

    let pending = RwSignal::new(false);
    // The inputs are uncontrolled (the DOM keeps what was typed); a success resets them.
    let form_el = NodeRef::<leptos::html::Form>::new();
    let submit = {
        let (api, connectivity, bridge) = (need::<Api>(), need::<Connectivity>(), need::<Bridge>());
        move |(key, body): (String, NewCallback)| {
            let (api, bridge) = (api.clone(), bridge.clone());
            pending.set(true);
            spawn_local(async move {
                let result = api.request_callback(&key, &body).await;
                connectivity.note(&result);
                pending.try_set(false);
                match result {
                    Ok(done) => {
                        form.try_update(CallbackForm::succeeded);
                        if let Some(el) = form_el.try_get_untracked().flatten() {
                            el.reset();
                        }
                        general.try_set(None);
                        bridge.event("callback", &[("reference", &done.reference)]);
                        receipt.try_set(Some(done));
                    }
                    Err(failure) => {
                        if let Some(errors) = failure.field_errors() {
                            form.try_update(|f| f.set_errors(errors.clone()));
                        }
                        let other = form
                            .try_with_untracked(|f| f.other_errors().next().map(|(field, code)| locale.field_error(field, code)))
                            .flatten();
                        general.try_set(Some(other.map_or_else(|| failure.message(locale), str::to_owned)));
                    }
                }
            });
        }
    };

    let on_submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let preferred = form.with_untracked(|f| f.when.preferred_ms(now_ms(), utc_offset_min()));
        general.set(None);
        if let Some(job) = form.try_update(|f| f.prepare(preferred, new_key)).flatten() {
            submit(job);
        }
    };

    let confirmation = move || {
        receipt.get().map(|r| {
            let thanks = locale.format(Key::CbThanks, &[("time", &format_time(r.due_ms, locale))]);
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
            <div class="pl-live" role="status" aria-live="polite">{confirmation}</div>
            <form class="pl-form" novalidate node_ref=form_el on:submit=on_submit hidden=move || receipt.with(Option::is_some)>
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
                        prop:value=move || form.with(|f| f.when.as_str())
                        on:change=move |e| form.update(|f| {
                            f.when = When::parse(&event_target_value(&e));
                            f.edited("preferred_ms");
                        })
                    >
                        {when_options(locale)}
                    </select>
                </div>
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
                <div class="pl-live" role="status" aria-live="polite">
                    {move || general.get().map(|text| view! { <p class="pl-error" data-testid="pl-cb-error">{text}</p> })}
                </div>
                <button type="submit" class="pl-button pl-primary pl-wide" data-testid="pl-cb-submit" disabled=move || pending.get()>
                    {move || locale.text(if pending.get() { Key::CbSending } else { Key::CbSubmit })}
                </button>
            </form>
        </div>
    }
}

/// The "when" choices that make sense at the time the form is drawn.
fn when_options(locale: Locale) -> impl IntoView {
    When::choices(now_ms(), utc_offset_min())
        .into_iter()
        .map(|when| {
            let label = match when {
                When::Asap => Key::CbAsap,
                When::LaterToday => Key::CbLaterToday,
                When::TomorrowMorning => Key::CbTomorrowMorning,
            };
            view! { <option value=when.as_str()>{locale.text(label)}</option> }
        })
        .collect_view()
}

fn error_id(field: &str) -> String {
    format!("pl-cb-{field}-error")
}

fn invalid(form: RwSignal<CallbackForm>, field: &'static str) -> impl Fn() -> Option<&'static str> + Copy {
    move || form.with(|f| f.error(field).map(|_| "true"))
}

fn described_by(form: RwSignal<CallbackForm>, field: &'static str, hint: Option<&'static str>) -> impl Fn() -> Option<String> {
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
