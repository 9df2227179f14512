//! The built widget: the loader script, the frame document and fingerprinted assets, served
//! from the assets directory so a rebuild needs no restart.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use porchlight_protocol::frame::query;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use url::Url;

use crate::app::locales::Language;
use crate::app::state::AppState;
use crate::domain::origin::Origin;
use crate::domain::Site;
use crate::http::guard::is_own_origin;

const NOT_BUILT: &str = "widget not built: run `cargo xtask run` (or point --assets at the build output)\n";

pub fn router(state: &AppState) -> Router<AppState> {
    let assets = ServeDir::new(state.assets().join("assets")).precompressed_br().precompressed_gzip();
    // The operator console's fingerprinted files live in `<assets>/console/`, so the full
    // request path `/console/<file>` maps onto them as is.
    let console_files = ServeDir::new(state.assets()).precompressed_br().precompressed_gzip();
    Router::new()
        .route("/porchlight.js", get(loader))
        .route("/frame", get(frame))
        .route("/console", get(console))
        .merge(
            Router::new()
                .route_service("/console/{file}", console_files)
                .layer(middleware::from_fn_with_state(state.clone(), fingerprinted_headers)),
        )
        .nest_service(
            "/assets",
            Router::new()
                .fallback_service(assets)
                .layer(middleware::from_fn_with_state(state.clone(), fingerprinted_headers)),
        )
}

/// `GET /console`: the operator console's document (built by `cargo xtask build` from
/// `crates/console`), same-origin with the API, under a strict CSP and never framed. It speaks
/// the operator's language, picked from `Accept-Language`: the server inlines that bundle and
/// sets `<html lang dir>`, as for the frame.
async fn console(State(state): State<AppState>, request_headers: HeaderMap) -> Response {
    let accept_language = request_headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let language = Language::for_console(accept_language);
    let template = state.assets().join("console/console.html");
    let (body, encoding) =
        match document(&template, language, Language::inline_into_console, accepted_encoding(&request_headers)).await {
            Ok(document) => document,
            Err(_) => return text(StatusCode::NOT_FOUND, "console not built: run `cargo xtask build`\n"),
        };
    let csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
               connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(language.tag));
    // The document differs by language and encoding: a cache must not serve one operator's to another.
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding, Accept-Language"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    response
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// A 404 that says why when the whole build is missing, which is the usual cause in development.
fn missing(state: &AppState) -> Response {
    if state.assets().join("porchlight.js").is_file() {
        text(StatusCode::NOT_FOUND, "not found\n")
    } else {
        tracing::warn!(assets = %state.assets().display(), "widget assets missing");
        text(StatusCode::NOT_FOUND, NOT_BUILT)
    }
}

/// `GET /porchlight.js`: the loader customers paste. Its URL never changes, so it is cached only
/// briefly; everything it loads is fingerprinted and cached for good.
async fn loader(State(state): State<AppState>, request: Request) -> Response {
    let file = ServeFile::new(state.assets().join("porchlight.js")).precompressed_br().precompressed_gzip();
    let response = match file.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        return missing(&state);
    }
    let (mut parts, body) = response.into_parts();
    let headers = &mut parts.headers;
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    Response::from_parts(parts, body)
}

/// Headers for `/assets/*`: names carry a content hash, so a file never changes and may be
/// cached for a year. Errors are not cached that way: a 404 must not stick.
async fn fingerprinted_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::NOT_FOUND {
        return missing(&state);
    }
    let cacheable = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if cacheable {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    }
    response
}

/// `GET /frame?site=…&origin=…&endpoint=…&locale=…`: the widget's document, loaded in an iframe
/// on the customer's page. Its CSP's `frame-ancestors` is what stops any other page from
/// embedding it (and clickjacking visitors); `origin` is checked here too so a frame is never
/// set up to talk to a page the site did not configure.
async fn frame(State(state): State<AppState>, request_headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());

    let Some(site) = param(query::SITE).and_then(|id| state.site(id)) else {
        return text(StatusCode::NOT_FOUND, "unknown site\n");
    };
    let host_origin = param(query::HOST_ORIGIN).and_then(|o| Origin::parse(o).ok());
    if !host_origin.as_ref().is_some_and(|o| site.allows(o)) {
        // The visitor sees a plain apology; the site owner finds the cause in the server's log.
        tracing::warn!(
            site = %site.id,
            origin = host_origin.as_ref().map_or("(none)", Origin::as_str),
            "frame refused: the page's origin is not in the site's origins (add it to [[sites]] origins)"
        );
        return frame_refused("Support chat is not available on this page.");
    }

    let language = Language::pick(param(query::LOCALE).unwrap_or_default());
    let template = state.assets().join("frame.html");
    let (body, encoding) =
        match document(&template, language, Language::inline_into, accepted_encoding(&request_headers)).await {
            Ok(document) => document,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return missing(&state),
            Err(e) => {
                tracing::error!(error = %e, "cannot read frame.html");
                return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the widget frame\n");
            }
        };

    // The endpoint must be this server or one the site lists (`endpoints`): a parsed, allowed
    // origin is all that reaches the header, so a crafted parameter cannot add directives.
    let connect = match param(query::ENDPOINT).filter(|e| !e.is_empty()) {
        None => "'self'".to_owned(),
        Some(raw) => match allowed_endpoint(&state, &site, raw, &request_headers) {
            Some(origin) => format!("'self' {origin}"),
            None => {
                tracing::warn!(site = %site.id, "frame refused: its endpoint is not in the site's endpoints");
                return frame_refused("This site's widget is not set up for that endpoint.");
            }
        },
    };
    let ancestors = site.origins.iter().map(Origin::as_str).collect::<Vec<_>>().join(" ");
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src {connect}; frame-ancestors {ancestors}; base-uri 'none'; form-action 'none'; object-src 'none'"
    );
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    // The frame's HTML names fingerprinted assets: revalidate so a release takes effect at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    match HeaderValue::from_str(&csp) {
        Ok(value) => {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot build the frame policy\n"),
    }
    response
}

/// `raw` as a clean origin (scheme, host, port) when the site may use it: this server itself or
/// one of the site's `endpoints`. A host must be a plain DNS name or IP (no `;`, spaces or
/// quotes), whatever a URL parser lets through.
fn allowed_endpoint(state: &AppState, site: &Site, raw: &str, headers: &HeaderMap) -> Option<Origin> {
    let url = Url::parse(raw).ok()?;
    let host = url.host_str()?;
    if !host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':')) {
        return None;
    }
    let origin = Origin::of_url(&url)?;
    (is_own_origin(state, &origin, headers) || site.endpoints.contains(&origin)).then_some(origin)
}

/// The frame's own page when the widget cannot be set up here (a page origin or an endpoint the
/// site does not list): a sentence for the visitor inside the widget's frame, nothing to run.
fn frame_refused(sentence: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Porchlight</title>\
         <p style=\"font:14px system-ui;margin:12px\">{sentence}</p></html>"
    );
    let mut response = (StatusCode::FORBIDDEN, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The best encoding the browser accepts for a generated document: brotli, else gzip, else none.
fn accepted_encoding(request: &HeaderMap) -> Option<&'static str> {
    let accepted = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let accepts = |name: &str| {
        accepted.split(',').any(|part| {
            let mut fields = part.split(';');
            fields.next().is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
                && !fields.any(|f| f.trim().replace(' ', "") == "q=0")
        })
    };
    ["br", "gzip"].into_iter().find(|name| accepts(name))
}

/// A generated document: a template from the build (`frame.html`, `console.html`) with one
/// language inlined by `inline`, compressed for `encoding` (static files are precompressed at
/// build time instead). The same few documents are asked for on every page view, so each is
/// built once per template version, language and encoding; a request only looks at the
/// template's size and modification time, so a rebuild is picked up without a restart.
async fn document(
    template: &std::path::Path,
    language: Language,
    inline: fn(Language, &str) -> String,
    encoding: Option<&'static str>,
) -> std::io::Result<(Bytes, Option<&'static str>)> {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{LazyLock, Mutex};
    use std::time::SystemTime;

    /// Template path, modification time and size, language, encoding.
    type Key = (PathBuf, SystemTime, u64, &'static str, Option<&'static str>);
    /// The document and its `Content-Encoding`.
    type Document = (Bytes, Option<&'static str>);
    static DOCUMENTS: LazyLock<Mutex<HashMap<Key, Document>>> = LazyLock::new(Default::default);

    let meta = tokio::fs::metadata(template).await?;
    let key = (template.to_owned(), meta.modified()?, meta.len(), language.tag, encoding);
    if let Some(hit) = DOCUMENTS.lock().ok().and_then(|cache| cache.get(&key).cloned()) {
        return Ok(hit);
    }
    let body = inline(language, &tokio::fs::read_to_string(template).await?).into_bytes();
    let built = match encoding.and_then(|e| Some((compress_with(&body, e)?, e))) {
        Some((compressed, e)) => (Bytes::from(compressed), Some(e)),
        None => (Bytes::from(body), None),
    };
    if let Ok(mut cache) = DOCUMENTS.lock() {
        if cache.len() >= 64 {
            cache.clear(); // old builds' documents: a bound, not an eviction policy
        }
        cache.insert(key, built.clone());
    }
    Ok(built)
}

fn compress_with(body: &[u8], encoding: &str) -> Option<Vec<u8>> {
    use std::io::Write;
    if encoding == "br" {
        let mut out = Vec::with_capacity(body.len() / 3);
        let params = brotli::enc::BrotliEncoderParams { quality: 9, ..Default::default() };
        brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
        Some(out)
    } else {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(body).ok()?;
        encoder.finish().ok()
    }
}
