//! `GET /demo`: a pretend shop that embeds the widget exactly as a customer would. It is meant to
//! be opened as `http://localhost:PORT/demo` while the widget is served from
//! `http://127.0.0.1:PORT`, so the two are different origins like in production, and it is
//! served under a strict CSP so the widget is tested against one.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::locales::escape_html;
use crate::app::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/demo", get(demo_page)).route("/demo.css", get(demo_css))
}

/// The tag a customer pastes into their pages.
pub fn snippet(state: &AppState) -> String {
    format!(r#"<script src="{}/porchlight.js" data-site="{}" async></script>"#, state.public_base(), state.demo_site())
}

async fn demo_page(State(state): State<AppState>) -> Response {
    let snippet = snippet(&state);
    let site_name = state.site(state.demo_site().as_str()).map(|s| s.name.clone()).unwrap_or_default();
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} · Porchlight demo</title>
<link rel="stylesheet" href="/demo.css">
</head>
<body>
<header class="shop-header">
  <strong class="logo">{name}</strong>
  <nav><a href="/demo">Shop</a> <a href="/demo">Delivery</a> <a href="/demo">Contact</a></nav>
</header>
<main>
  <section class="hero">
    <h1>Warm lights for long evenings</h1>
    <p>Hand-made lamps, shipped across the Baltics in two days.</p>
  </section>
  <section class="products" aria-label="Products">
    <article class="product"><h2>Porch lantern</h2><p>Brass and glass, weatherproof.</p><p class="price">€89</p><button type="button">Add to cart</button></article>
    <article class="product"><h2>Reading lamp</h2><p>Dimmable warm LED, oak base.</p><p class="price">€64</p><button type="button">Add to cart</button></article>
    <article class="product"><h2>Candle set</h2><p>Six beeswax candles, 40 h each.</p><p class="price">€24</p><button type="button">Add to cart</button></article>
  </section>
  <section class="install">
    <h2>Add Porchlight to your site</h2>
    <p>Paste this one line before <code>&lt;/body&gt;</code>. The help button in the corner of this page is that line at work.</p>
    <pre><code>{snippet_text}</code></pre>
  </section>
</main>
<footer>Demo page of the Porchlight reference server. Nothing here is for sale.</footer>
{snippet}
</body>
</html>
"#,
        name = escape_html(&site_name),
        snippet_text = escape_html(&snippet),
    );
    let widget = state.public_origin().to_string();
    let csp = format!(
        "default-src 'none'; script-src 'self' {widget}; frame-src {widget}; style-src 'self'; img-src 'self'; \
         connect-src 'self' {widget}"
    );
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

async fn demo_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], DEMO_CSS).into_response()
}

const DEMO_CSS: &str = r#"
body { margin: 0; font-family: system-ui, sans-serif; color: #1d1d1f; background: #faf7f2; line-height: 1.5; }
.shop-header { display: flex; justify-content: space-between; align-items: center; padding: 1rem 2rem; background: #2b2118; color: #fff; }
.shop-header a { color: #f5d9a8; margin-left: 1rem; text-decoration: none; }
.logo { font-size: 1.25rem; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 2rem 4rem; }
.hero { padding: 2rem 0; }
.hero h1 { margin: 0 0 .5rem; font-size: 2rem; }
.products { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; }
.product { background: #fff; border-radius: .75rem; padding: 1rem 1.25rem; box-shadow: 0 1px 3px rgb(0 0 0 / .12); }
.product h2 { margin: 0; font-size: 1.1rem; }
.price { font-weight: 600; }
button { font: inherit; padding: .4rem .9rem; border-radius: .5rem; border: 1px solid #2b2118; background: #f5d9a8; cursor: pointer; }
.install pre { background: #2b2118; color: #f5d9a8; padding: 1rem; border-radius: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
footer { text-align: center; color: #6b625a; padding: 2rem; font-size: .875rem; }
"#;
