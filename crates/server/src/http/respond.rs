//! Response helpers every route uses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::app::error::AppError;

/// 201 for something new, 200 for the stored answer to a repeated request.
pub fn respond<T: serde::Serialize>(created: bool, body: T) -> Response {
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(body)).into_response()
}

/// A private answer: no cache may keep a copy.
pub fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A report's window from `?days=N` (the last N site-local days, `default` when absent): the
/// days, and the instant it starts; without days and default, everything (`i64::MIN`).
pub fn report_window(
    site: &crate::domain::Site,
    now_ms: i64,
    query: Option<&str>,
    default: Option<u32>,
) -> Result<(Option<u32>, i64), AppError> {
    let days = crate::http::extract::days_param(query, default)?;
    let from_ms = match days {
        Some(days) => crate::domain::ratings::window_start_ms(site.hours.timezone(), now_ms, days)
            .ok_or_else(|| AppError::Internal("report window out of range".into()))?,
        None => i64::MIN,
    };
    Ok((days, from_ms))
}

/// A CSV file to download as `{name}-{site}.csv`, never cached.
pub fn csv_download(body: String, name: &str, site: &crate::domain::Site) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}-{}.csv\"", site.id.as_str()))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    no_store(response)
}
