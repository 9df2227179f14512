//! The promise ledger's report: `GET /v1/sites/{site}/promises/summary` and
//! `GET /v1/sites/{site}/promises.csv` (console session or operator token).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use porchlight_protocol::PromiseSummary;

use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::promises::{by_day, by_operator, summarize};
use crate::domain::ratings::DEFAULT_SUMMARY_DAYS;
use crate::http::extract::CurrentSite;
use crate::http::operator::ConsoleOperator;
use crate::http::respond::{csv_download, no_store, report_window};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{site}/promises/summary", get(summary))
        .route("/v1/sites/{site}/promises.csv", get(export_csv))
}

/// Kept, broken and void promises per kind over the last `?days=N` site-local days (default 30).
async fn summary(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    _operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    // Up to the moment: a deadline that just passed counts as broken now, not at the next sweep.
    crate::app::ledger::sweep(&state).await?;
    let now_ms = state.clock().now_ms();
    let (days, from_ms) = report_window(&site, now_ms, query.as_deref(), Some(DEFAULT_SUMMARY_DAYS))?;
    let days = days.unwrap_or(DEFAULT_SUMMARY_DAYS);
    let rows = state.store().ledger(&site.id, from_ms).await?;
    let names = state.store().operators().await?.into_iter().map(|o| (o.id, o.name)).collect();
    let body = PromiseSummary {
        site: site.id.as_str().to_owned(),
        days,
        from_ms,
        now_ms,
        kinds: summarize(&rows),
        by_operator: by_operator(&rows, &names),
        by_day: by_day(&rows, site.hours.timezone()),
    };
    Ok(no_store(Json(body).into_response()))
}

/// Every promise of the window, oldest first: kind, subject, promised, due, outcome, answered,
/// margin in seconds, void reason. Times are UTC RFC 3339.
async fn export_csv(
    State(state): State<AppState>,
    CurrentSite(site): CurrentSite,
    _operator: ConsoleOperator,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    crate::app::ledger::sweep(&state).await?;
    let (_, since_ms) = report_window(&site, state.clock().now_ms(), query.as_deref(), None)?;
    let rows = state.store().ledger(&site.id, since_ms).await?;
    let time = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default();
    let mut csv =
        String::from("kind,subject_id,promised_at,due_at,outcome,answered_at,margin_secs,void_reason,operator_id\r\n");
    for r in rows {
        let margin = r.resolved_ms.map(|at| ((r.due_ms - at) / 1000).to_string()).unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\r\n",
            r.kind.as_str(),
            r.subject_id,
            time(r.promised_ms),
            time(r.due_ms),
            r.outcome.map(|o| o.as_str()).unwrap_or("open"),
            r.resolved_ms.map(time).unwrap_or_default(),
            margin,
            r.void_reason.unwrap_or_default(),
            r.operator_id.unwrap_or_default(),
        ));
    }
    Ok(csv_download(csv, "promises", &site))
}
