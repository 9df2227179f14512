//! Middleware on every request: the write rate limit per client and site, and the request
//! metrics.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::origin::site_segment;

/// Middleware: writes (POST, PUT, DELETE) under `/v1/sites/{site}/` spend a token; out of tokens → 429 with
/// `Retry-After`. Runs after the site guard, so the site is known to exist. Typing signals store
/// nothing and have their own per-conversation limit, so they do not spend the IP's budget.
pub async fn limit_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::POST | Method::PUT | Method::DELETE)
        && !request.uri().path().ends_with("/typing")
    {
        if let Some(site) = site_segment(request.uri().path()) {
            let ip = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            if let Err(wait) = state.limiter().check(ip, site, Instant::now()) {
                let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                return AppError::RateLimited { retry_after_secs: retry_after_secs.max(1) }.into_response();
            }
        }
    }
    next.run(request).await
}

/// Middleware: counts and times every request by its route.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics().observe_request(method, route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
