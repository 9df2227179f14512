//! The frame's side of the conversation with the loader on the host page.
//!
//! * The frame's query params ([`FrameParams`]) name the site, the host page's origin and the API
//!   endpoint. (The `locale` param is read by the server, which inlines that language's strings.)
//! * Messages are plain JS objects `{porchlight: 1, type: "…", …}` (protocol `frame` module),
//!   sent only to `window.parent` at the exact host origin, and accepted only from
//!   `window.parent` at that origin.

use porchlight_protocol::frame::{query, FrameToLoader, LoaderToFrame, ENVELOPE_VERSION};
use porchlight_protocol::json::ToJson;
use porchlight_protocol::SiteId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameParams {
    pub site: SiteId,
    /// Serialized origin of the host page, e.g. `https://shop.example`.
    pub host_origin: String,
    /// API base URL without a trailing slash.
    pub endpoint: String,
}

/// Why the frame cannot work with the params it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupProblem {
    /// `origin` missing or not an origin: the frame never posts anything.
    Origin,
    Site,
    Endpoint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    pub problem: SetupProblem,
    /// Still known when only the site or endpoint is wrong, so the visitor can close the panel.
    pub host_origin: Option<String>,
}

impl FrameParams {
    /// From the query's `(name, value)` pairs (already percent-decoded) and the frame's own
    /// origin, the default endpoint.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        own_origin: &str,
    ) -> Result<FrameParams, SetupError> {
        let (mut site, mut origin, mut endpoint) = (None, None, None);
        for (name, value) in pairs {
            let slot = match name {
                query::SITE => &mut site,
                query::HOST_ORIGIN => &mut origin,
                query::ENDPOINT => &mut endpoint,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        let host_origin = origin.and_then(parse_origin);
        let fail = |problem| SetupError { problem, host_origin: host_origin.clone() };
        let Some(origin) = host_origin.clone() else { return Err(fail(SetupProblem::Origin)) };
        let site = site.and_then(|s| SiteId::parse(s).ok()).ok_or_else(|| fail(SetupProblem::Site))?;
        let endpoint = match endpoint.filter(|e| !e.is_empty()) {
            None => parse_endpoint(own_origin),
            Some(e) => parse_endpoint(e),
        }
        .ok_or_else(|| fail(SetupProblem::Endpoint))?;
        Ok(FrameParams { site, host_origin: origin, endpoint })
    }
}

/// An `http(s)://host[:port]` origin exactly as browsers serialize it (lowercase, no path),
/// so it can be compared with `MessageEvent.origin` byte for byte.
pub fn parse_origin(raw: &str) -> Option<String> {
    let raw = raw.to_ascii_lowercase();
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"))?;
    let (host, port) = if rest.starts_with('[') {
        let end = rest.find(']')? + 1;
        match &rest[end..] {
            "" => (&rest[..end], None),
            tail => (&rest[..end], Some(tail.strip_prefix(':')?)),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && !host.starts_with('.')
            && !host.ends_with('.')
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0'));
    (host_ok && port_ok).then_some(raw)
}

/// An `http(s)` base URL: its origin plus an optional path, no query or fragment. Returns it
/// without a trailing slash.
pub fn parse_endpoint(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('/');
    if raw.contains(['?', '#', ' ', '\\']) {
        return None;
    }
    let scheme_len = if raw.starts_with("https://") {
        8
    } else if raw.starts_with("http://") {
        7
    } else {
        return None;
    };
    let authority_end = raw[scheme_len..].find('/').map_or(raw.len(), |i| i + scheme_len);
    let origin = parse_origin(&raw[..authority_end])?;
    Some(format!("{origin}{}", &raw[authority_end..]))
}

/// The JSON of an outgoing message: the protocol type plus the envelope marker, e.g.
/// `{"porchlight":1,"type":"ready"}`: the envelope field goes in front of the protocol's own JSON.
pub fn envelope_json(message: &FrameToLoader) -> String {
    let json = message.to_json();
    let rest = json.strip_prefix('{').unwrap_or("}");
    format!("{{\"porchlight\":{ENVELOPE_VERSION},{rest}")
}

/// Longest page path or title kept as context (a hostile page could send megabytes).
pub const MAX_PAGE_TEXT: usize = 300;

/// An incoming message from its envelope's `porchlight` and `type` fields (and `text` for its
/// string fields), or `None` for anything that isn't ours (or a type this version doesn't know).
pub fn parse_incoming(
    version: Option<f64>,
    kind: Option<&str>,
    text: impl Fn(&str) -> Option<String>,
) -> Option<LoaderToFrame> {
    if version != Some(f64::from(ENVELOPE_VERSION)) {
        return None;
    }
    let clipped = |name: &str| text(name).map(|t| t.chars().take(MAX_PAGE_TEXT).collect()).unwrap_or_default();
    match kind? {
        "open" => Some(LoaderToFrame::Open { path: clipped("path"), title: clipped("title") }),
        "closed" => Some(LoaderToFrame::Closed),
        _ => None,
    }
}

/// Sends messages to the host page; `None` origin (tests, broken setup) sends nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bridge {
    host_origin: Option<String>,
}

impl Bridge {
    pub fn new(host_origin: Option<String>) -> Bridge {
        Bridge { host_origin }
    }

    /// Whether messages go anywhere (a valid host origin is known).
    pub fn is_enabled(&self) -> bool {
        self.host_origin.is_some()
    }

    pub fn post(&self, message: &FrameToLoader) {
        let (Some(origin), Some(window)) = (&self.host_origin, web_sys::window()) else { return };
        let Ok(Some(parent)) = window.parent() else { return };
        let Ok(data) = js_sys::JSON::parse(&envelope_json(message)) else { return };
        let _ = parent.post_message(&data, origin);
    }

    /// `{type: "event", name, detail}` for host listeners.
    pub fn event(&self, name: &str, detail: &[(&str, &str)]) {
        let detail = detail.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.post(&FrameToLoader::Event { name: name.to_owned(), detail });
    }

    /// Calls `on` for each message from the host page (right origin, sent by `window.parent`).
    /// The listener lives as long as the frame.
    pub fn listen(&self, on: impl Fn(LoaderToFrame) + 'static) {
        use wasm_bindgen::{closure::Closure, JsCast};

        let (Some(origin), Some(window)) = (self.host_origin.clone(), web_sys::window()) else { return };
        let parent = window.parent().ok().flatten();
        let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if event.origin() != origin {
                return;
            }
            let from_parent = match (event.source(), &parent) {
                (Some(source), Some(parent)) => js_sys::Object::is(&source, parent),
                _ => false,
            };
            if !from_parent {
                return;
            }
            let data = event.data();
            if !data.is_object() {
                return;
            }
            let field = |name: &str| js_sys::Reflect::get(&data, &name.into()).ok();
            let kind = field("type").and_then(|k| k.as_string());
            let text = |name: &str| field(name).and_then(|v| v.as_string());
            if let Some(message) = parse_incoming(field("porchlight").and_then(|v| v.as_f64()), kind.as_deref(), text) {
                on(message);
            }
        });
        let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
        handler.forget();
    }
}

/// The params of this frame, from `location.search`.
pub fn read_params() -> Result<FrameParams, SetupError> {
    let no_origin = SetupError { problem: SetupProblem::Origin, host_origin: None };
    let location = web_sys::window().ok_or_else(|| no_origin.clone())?.location();
    let search = location.search().unwrap_or_default();
    let own_origin = location.origin().unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).map_err(|_| no_origin)?;
    let get = |name: &'static str| params.get(name).map(|v| (name, v));
    let pairs: Vec<(&str, String)> =
        [query::SITE, query::HOST_ORIGIN, query::ENDPOINT].into_iter().filter_map(get).collect();
    FrameParams::parse(pairs.iter().map(|(k, v)| (*k, v.as_str())), &own_origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://widget.example";

    #[test]
    fn params() {
        let p = FrameParams::parse(
            [("site", "demo"), ("origin", "https://Shop.example"), ("locale", "en-GB"), ("site", "other")],
            OWN,
        )
        .unwrap();
        assert_eq!(p.site.as_str(), "demo", "the first value wins");
        assert_eq!(p.host_origin, "https://shop.example");
        assert_eq!(p.endpoint, OWN, "the endpoint defaults to the frame's origin");

        let p = FrameParams::parse(
            [("site", "demo"), ("origin", "http://localhost:3000"), ("endpoint", "https://api.example/pl/")],
            OWN,
        )
        .unwrap();
        assert_eq!(p.endpoint, "https://api.example/pl");
    }

    #[test]
    fn a_missing_or_bad_origin_is_a_setup_error_without_an_origin() {
        for origin in [
            None,
            Some("*"),
            Some("null"),
            Some("https://shop.example/"),
            Some("javascript:alert(1)"),
            Some("https://a b"),
        ] {
            let mut pairs = vec![("site", "demo")];
            pairs.extend(origin.map(|o| ("origin", o)));
            let err = FrameParams::parse(pairs, OWN).unwrap_err();
            assert_eq!(err.problem, SetupProblem::Origin, "{origin:?}");
            assert_eq!(err.host_origin, None);
        }
    }

    #[test]
    fn a_bad_site_or_endpoint_keeps_the_origin() {
        let err = FrameParams::parse([("site", "../x"), ("origin", "https://shop.example")], OWN).unwrap_err();
        assert_eq!(err.problem, SetupProblem::Site);
        assert_eq!(err.host_origin.as_deref(), Some("https://shop.example"));
        let err =
            FrameParams::parse([("site", "demo"), ("origin", "https://shop.example"), ("endpoint", "ftp://x")], OWN)
                .unwrap_err();
        assert_eq!(err.problem, SetupProblem::Endpoint);
    }

    #[test]
    fn origins() {
        for ok in [
            "https://shop.example",
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
            "http://[::1]",
            "https://xn--bcher-kva.example",
        ] {
            assert_eq!(parse_origin(ok).as_deref(), Some(ok));
        }
        for bad in [
            "shop.example",
            "https://",
            "https://shop.example:",
            "https://shop.example:0x1",
            "https://shop.example/path",
            "https://user@shop.example",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn envelopes() {
        assert_eq!(
            envelope_json(&FrameToLoader::Unread { count: 2, label: "Help".into() }),
            r#"{"porchlight":1,"type":"unread","count":2,"label":"Help"}"#
        );
        let event = FrameToLoader::Event {
            name: "rating".into(),
            detail: [("value".to_owned(), "good".to_owned()), ("id".to_owned(), "r1".to_owned())].into(),
        };
        assert_eq!(
            envelope_json(&event),
            r#"{"porchlight":1,"type":"event","name":"rating","detail":{"id":"r1","value":"good"}}"#
        );
        let none = |_: &str| None;
        let page = |name: &str| match name {
            "path" => Some("/pricing".to_owned()),
            "title" => Some("x".repeat(MAX_PAGE_TEXT + 50)),
            _ => None,
        };
        let open = LoaderToFrame::Open { path: "/pricing".into(), title: "x".repeat(MAX_PAGE_TEXT) };
        assert_eq!(parse_incoming(Some(1.0), Some("open"), page), Some(open.clone()));
        assert_eq!(
            parse_incoming(Some(1.0), Some("open"), none),
            Some(LoaderToFrame::Open { path: String::new(), title: String::new() })
        );
        assert_eq!(parse_incoming(Some(1.0), Some("closed"), none), Some(LoaderToFrame::Closed));
        assert_eq!(parse_incoming(None, Some("open"), none), None);
        assert_eq!(parse_incoming(Some(2.0), Some("open"), none), None);
        assert_eq!(parse_incoming(Some(1.0), Some("explode"), none), None);
        assert_eq!(parse_incoming(Some(1.0), None, none), None);
        // The names match the protocol's own serialization.
        for m in [open, LoaderToFrame::Closed] {
            let json = serde_json::to_value(&m).unwrap();
            let field = |name: &str| json[name].as_str().map(str::to_owned);
            assert_eq!(parse_incoming(Some(1.0), json["type"].as_str(), field), Some(m));
        }
    }
}
