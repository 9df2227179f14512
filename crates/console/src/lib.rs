//! Porchlight's operator console: a Leptos CSR app served by the server at `/console`
//! (document: `index.html`), talking to `/v1/console/…` same-origin with the session cookie.
//!
//! Layout: plain logic with native tests (`logic`), one HTTP module (`api`), the operator's
//! language (`i18n`: keys; bundles in `i18n/{tag}.json`, inlined by the server) and the
//! components (`app`): log-in, presence, inbox, conversation with live replies, callback queue,
//! ratings.

pub mod alerts;
pub mod api;
pub mod app;
pub mod i18n;
pub mod logic;

use wasm_bindgen::prelude::wasm_bindgen;

/// The id of the element in `index.html` the app replaces.
pub const ROOT_ID: &str = "console-root";

/// Entry point, called by the wasm-bindgen glue. Does nothing on pages without `#console-root`.
#[wasm_bindgen(start)]
pub fn start() {
    use wasm_bindgen::JsCast;

    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(ROOT_ID))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    root.set_text_content(None);
    app::mount(root, i18n::Locale::from_document());
}
