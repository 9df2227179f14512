//! Messages between the loader (`porchlight.js`, on the host page) and the widget frame, sent
//! with `postMessage` to an exact target origin. Every message is an object with
//! `"porchlight": 1` and a `"type"`; anything else is ignored by both sides.
//!
//! Loader → frame: `{"porchlight":1,"type":"open","path":"/pricing","title":"Pricing"}`,
//! `{"porchlight":1,"type":"closed"}`.
//! Frame → loader: `ready` (with the launcher's translated texts), `theme` (brand colours),
//! `close` (the visitor closed the panel), `unread` (badge count),
//! `{"porchlight":1,"type":"status","state":"open","label":"…"}` (the launcher's status mark), and
//! `{"porchlight":1,"type":"event","name":"rating","detail":{...}}` for host listeners
//! registered with `Porchlight('on', name, fn)`.

use serde::{Deserialize, Serialize};

/// Marker and version of the postMessage envelope.
pub const ENVELOPE_VERSION: u8 = 1;

/// The frame's query parameters, set by the loader: `/frame?site=…&origin=…&endpoint=…&locale=…`.
pub mod query {
    pub const SITE: &str = "site";
    /// The host page's origin: the only origin the frame talks to and accepts messages from.
    pub const HOST_ORIGIN: &str = "origin";
    /// Base URL of the API (`data-endpoint`), default the widget host.
    pub const ENDPOINT: &str = "endpoint";
    pub const LOCALE: &str = "locale";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LoaderToFrame {
    /// The visitor opened the panel: take focus. Carries the host page the visitor is on
    /// (path without query or fragment, and the document title) as rating and chat context.
    Open {
        #[serde(default)]
        path: String,
        #[serde(default)]
        title: String,
    },
    /// The panel was closed by the host (`Porchlight('close')`) or the launcher.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FrameToLoader {
    /// The app is mounted and listening. Carries the launcher's texts in the visitor's
    /// language (the loader has no string tables).
    Ready {
        /// The launcher's visible text, e.g. "Help".
        text: String,
        /// The launcher's accessible name, e.g. "Open help: chat, call back or rate us".
        label: String,
        /// The iframe's `title`.
        frame_title: String,
    },
    /// The site's launcher look, once its config is known: the brand colour (`#rrggbb`, for the
    /// visitor's colour scheme) with the text colour picked for at least 4.5:1 contrast on it,
    /// and the site's own launcher text in the visitor's language. Absent fields keep the
    /// loader's defaults.
    Theme {
        #[serde(skip_serializing_if = "Option::is_none")]
        color: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        text_color: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// How many operator messages the visitor has not seen (0 clears the badge), with the
    /// launcher's accessible name saying so in words.
    Unread { count: u32, label: String },
    /// The visitor asked to close the panel (close button or Esc).
    Close,
    /// The site's availability, for the launcher's status mark. The frame fetches it (not the
    /// loader), so a host page whose CSP limits `connect-src` sees no blocked request.
    Status {
        state: crate::AvailabilityState,
        /// The launcher's accessible name including the state, in the visitor's language.
        label: String,
    },
    /// Something the host page may listen to with `Porchlight('on', name, fn)`.
    /// Details are a flat string map, so host listeners get a plain object.
    Event { name: String, detail: std::collections::BTreeMap<String, String> },
}
