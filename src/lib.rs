//! Porchlight's visitor widget: a Leptos CSR app running in its own cross-origin frame
//! (`/frame?site=…&origin=…&endpoint=…&locale=…`, document: `index.html`, into which the server
//! inlines the strings of the visitor's language: see `i18n`).
//!
//! Layout: plain state types with native tests (`chat`, `callback`, `rating`, `wait`, `tabs`,
//! `i18n`), one HTTP module (`api`), the host-page bridge (`bridge`), and thin components
//! (`app`, `chat_view`, `callback_view`, `rating_view`).

pub mod api;
pub mod app;
pub mod bridge;
pub mod callback;
pub mod callback_view;
pub mod chat;
pub mod chat_view;
pub mod clock;
pub mod contact_view;
pub mod i18n;
pub mod ids;
pub mod live;
pub mod outbox;
pub mod rating;
pub mod rating_view;
pub mod sound;
pub mod tabs;
pub mod wait;

use wasm_bindgen::prelude::wasm_bindgen;

/// The id of the element in `index.html` the app replaces.
pub const ROOT_ID: &str = "porchlight-root";

/// Entry point, called by the wasm-bindgen glue. Does nothing on pages without
/// `#porchlight-root` (e.g. wasm-bindgen-test pages).
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
    let setup = bridge::read_params();
    // With a missing or bad origin the bridge is disabled: the frame never posts.
    let bridge = bridge::Bridge::new(match &setup {
        Ok(params) => Some(params.host_origin.clone()),
        Err(error) => error.host_origin.clone(),
    });
    let locale = i18n::Locale::from_document();
    app::mount(root, setup, locale, bridge.clone());
    bridge.post(&locale.launcher_ready());
}
