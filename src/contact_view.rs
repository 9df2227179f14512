//! "Where should we send the reply?": one optional e-mail field in the chat, offered only when it
//! helps (nobody online, outside hours, or the promise running late) and only once the
//! conversation exists. The confirmation says exactly what will happen. And the visitor's own
//! "Delete this conversation".

use leptos::prelude::*;
use leptos::task::spawn_local;
use porchlight_protocol::ContactUpdate;

use crate::api::ApiFailure;
use crate::app::{parts, Parts};
use crate::clock::format_when;
use crate::i18n::Key;

#[component]
pub fn EmailAsk(conversation_id: String, token: String) -> impl IntoView {
    let Parts { locale, api, .. } = parts();
    let ids = StoredValue::new((conversation_id, token));
    let api = StoredValue::new(api);
    let email = RwSignal::new(String::new());
    let saved = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let body = ContactUpdate { email: email.get_untracked(), locale: Some(locale.tag().to_owned()) };
        let ((id, token), api) = (ids.get_value(), api.get_value());
        spawn_local(async move {
            match api.set_contact(&id, &token, &body).await {
                Ok(done) => {
                    let when = format_when(done.reply_by_ms, locale);
                    saved.set(Some(
                        locale.format(Key::ChatEmailSaved, &[("email", &done.email_masked), ("when", &when)]),
                    ));
                }
                Err(f) if f.field_errors().is_some() => error.set(Some(locale.text(Key::ChatEmailInvalid).to_owned())),
                Err(f) => error.set(Some(f.message(locale))),
            }
        });
    };
    // Two optional parts rather than one `into_any` match: `AnyView` would link its type-erased
    // machinery into the WASM for this one place.
    view! {
        {move || saved.get().map(|text| view! { <p class="pl-email-saved" data-testid="pl-email-saved">{text}</p> })}
        <form class="pl-email" data-testid="pl-email" novalidate hidden=move || saved.get().is_some() on:submit=submit>
            <label for="pl-email-input">{locale.text(Key::ChatEmailAsk)}</label>
            <input id="pl-email-input" class="pl-input" type="email" autocomplete="email" data-testid="pl-email-input"
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || email.get() on:input=move |e| { email.set(event_target_value(&e)); error.set(None); }/>
            <button type="submit" class="pl-button pl-secondary" data-testid="pl-email-save">
                {locale.text(Key::ChatEmailSave)}
            </button>
            {move || error.get().map(|e| view! { <p class="pl-error" role="alert" data-testid="pl-email-error">{e}</p> })}
        </form>
    }
}

/// "Delete this conversation": asks once, then erases it on the server by its token. A
/// conversation already gone (deleted in another tab) counts as deleted.
#[component]
pub fn ForgetChat(conversation_id: String, token: String, on_deleted: Callback<()>) -> impl IntoView {
    let Parts { locale, api, .. } = parts();
    let ids = StoredValue::new((conversation_id, token));
    let api = StoredValue::new(api);
    let asking = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let keep = NodeRef::<leptos::html::Button>::new();
    let ask = move |_| {
        asking.set(true);
        // The link hides: focus goes to the safe answer, not to the page's start (once the
        // question shows: the DOM follows the signal after this handler).
        set_timeout(
            move || {
                if let Some(keep) = keep.get_untracked() {
                    let _ = keep.focus();
                }
            },
            std::time::Duration::ZERO,
        );
    };
    let delete = move |_| {
        let ((id, token), api) = (ids.get_value(), api.get_value());
        spawn_local(async move {
            match api.delete_conversation(&id, &token).await {
                Ok(()) | Err(ApiFailure::Rejected(_, 404)) => on_deleted.run(()),
                Err(f) => error.set(Some(f.message(locale))),
            }
        });
    };
    view! {
        <div class="pl-forget">
            <button type="button" class="pl-link" data-testid="pl-chat-delete" hidden=move || asking.get() on:click=ask>
                {locale.text(Key::ChatDelete)}
            </button>
            <div role="group" aria-labelledby="pl-forget-q" hidden=move || !asking.get()>
                <p id="pl-forget-q">{locale.text(Key::ChatDeleteConfirm)}</p>
                <button type="button" class="pl-button pl-secondary" data-testid="pl-chat-delete-yes" on:click=delete>
                    {locale.text(Key::ChatDeleteYes)}
                </button>
                <button type="button" class="pl-button pl-primary" data-testid="pl-chat-delete-no" node_ref=keep
                    on:click=move |_| asking.set(false)>
                    {locale.text(Key::ChatDeleteNo)}
                </button>
            </div>
            {move || error.get().map(|e| view! { <p class="pl-error" role="alert" data-testid="pl-chat-delete-error">{e}</p> })}
        </div>
    }
}
