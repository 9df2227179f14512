//! The promise ledger's rows (`promises`, migration 0009).

use std::collections::HashMap;

use async_trait::async_trait;
use porchlight_protocol::SiteId;
use serde_json::json;
use sqlx::Row;

use super::{enqueue, SqliteStore, StoreError};
use crate::domain::promises::{resolve, LedgerRow, Outcome, PromiseKind};
use crate::domain::webhooks::{event, Outbox};

/// A promise made to a visitor who acted on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPromise<'a> {
    pub kind: PromiseKind,
    pub subject_id: &'a str,
    pub promised_ms: i64,
    pub due_ms: i64,
}

/// A promise the sweeper found broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenPromise {
    pub site: String,
    pub kind: PromiseKind,
    pub subject_id: String,
    pub due_ms: i64,
}

/// A decided promise as calibration reads it: when it was made and due, when it was answered
/// (now, for a broken one still unanswered), and whether it was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub kind: PromiseKind,
    pub promised_ms: i64,
    pub due_ms: i64,
    pub answered_ms: i64,
    pub kept: bool,
}

#[async_trait]
pub trait PromiseStore: Send + Sync {
    /// Records a promise once (a repeated request records nothing new).
    async fn record_promise(&self, site: &SiteId, promise: NewPromise<'_>) -> Result<(), StoreError>;

    /// The answer to the promises of these kinds on `subject_id` came at `answered_ms`: kept or
    /// broken by its deadline; a promise the sweeper already broke keeps its outcome and learns
    /// how late the answer was. Nothing happens if none is waiting (a cheap read first: this
    /// runs on every operator reply).
    async fn answer_promise(
        &self,
        kinds: &[PromiseKind],
        subject_id: &str,
        answered_ms: i64,
        operator_id: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Nothing left to keep (e.g. `closed_unanswered`): open promises on `subject_id` are void.
    async fn void_promises(&self, subject_id: &str, reason: &str, now_ms: i64) -> Result<(), StoreError>;

    /// When the latest broken promise on `subject_id` was due.
    async fn last_broken_due(&self, subject_id: &str) -> Result<Option<i64>, StoreError>;

    /// Marks every open promise whose deadline has passed as broken and queues one
    /// `promise.broken` webhook event for each, in the same transaction.
    async fn break_overdue(
        &self,
        now_ms: i64,
        outboxes: &HashMap<String, Outbox>,
    ) -> Result<Vec<BrokenPromise>, StoreError>;

    /// The site's promises made since `since_ms`.
    async fn ledger(&self, site: &SiteId, since_ms: i64) -> Result<Vec<LedgerRow>, StoreError>;

    /// The last `limit` decided promises (kept or broken) of each kind, newest first, what the
    /// ledger's calibration learns from: one query for all kinds (availability asks on every
    /// panel's poll).
    async fn recent_decided(&self, site: &SiteId, now_ms: i64, limit: u32) -> Result<Vec<Decided>, StoreError>;
}

#[async_trait]
impl PromiseStore for SqliteStore {
    async fn record_promise(&self, site: &SiteId, promise: NewPromise<'_>) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO promises (site, kind, subject_id, promised_ms, due_ms) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (site, kind, subject_id) DO NOTHING",
        )
        .bind(site.as_str())
        .bind(promise.kind.as_str())
        .bind(promise.subject_id)
        .bind(promise.promised_ms)
        .bind(promise.due_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn answer_promise(
        &self,
        kinds: &[PromiseKind],
        subject_id: &str,
        answered_ms: i64,
        operator_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let waiting: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT id, kind, due_ms, outcome FROM promises WHERE subject_id = ? AND resolved_ms IS NULL",
        )
        .bind(subject_id)
        .fetch_all(&self.pool)
        .await?;
        let waiting: Vec<_> = waiting
            .into_iter()
            .filter(|(_, kind, _, outcome)| {
                PromiseKind::parse(kind).is_some_and(|k| kinds.contains(&k)) && outcome.as_deref() != Some("void")
            })
            .collect();
        if waiting.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for (id, _, due_ms, outcome) in waiting {
            let (resolved, _) = resolve(due_ms, answered_ms);
            // Broken stays broken; otherwise the answer decides.
            let outcome = if outcome.as_deref() == Some("broken") { Outcome::Broken } else { resolved };
            sqlx::query(
                "UPDATE promises SET outcome = ?, resolved_ms = ?, operator_id = ? WHERE id = ? AND resolved_ms IS NULL",
            )
            .bind(outcome.as_str())
            .bind(answered_ms)
            .bind(operator_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn last_broken_due(&self, subject_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT due_ms FROM promises WHERE subject_id = ? AND outcome = 'broken' ORDER BY due_ms DESC LIMIT 1",
        )
        .bind(subject_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn void_promises(&self, subject_id: &str, reason: &str, now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE promises SET outcome = 'void', void_reason = ?, resolved_ms = ?
             WHERE subject_id = ? AND outcome IS NULL",
        )
        .bind(reason)
        .bind(now_ms)
        .bind(subject_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn break_overdue(
        &self,
        now_ms: i64,
        outboxes: &HashMap<String, Outbox>,
    ) -> Result<Vec<BrokenPromise>, StoreError> {
        let due: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, site, kind, subject_id, promised_ms, due_ms FROM promises
             WHERE outcome IS NULL AND due_ms < ? ORDER BY due_ms LIMIT 500",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let mut broken = Vec::with_capacity(due.len());
        for (id, site, kind, subject_id, promised_ms, due_ms) in due {
            let changed = sqlx::query("UPDATE promises SET outcome = 'broken' WHERE id = ? AND outcome IS NULL")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Once per promise: a concurrent sweep or answer got there first.
            if changed == 0 {
                continue;
            }
            if let Some(outbox) = outboxes.get(&site) {
                let data = json!({
                    "kind": kind, "subject_id": subject_id, "promised_ms": promised_ms, "due_ms": due_ms,
                    "broken_ms": now_ms,
                });
                enqueue(&mut tx, outbox, event::PROMISE_BROKEN, now_ms, data).await?;
            }
            if let Some(kind) = PromiseKind::parse(&kind) {
                broken.push(BrokenPromise { site, kind, subject_id, due_ms });
            }
        }
        tx.commit().await?;
        Ok(broken)
    }

    async fn ledger(&self, site: &SiteId, since_ms: i64) -> Result<Vec<LedgerRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, subject_id, promised_ms, due_ms, outcome, resolved_ms, void_reason, operator_id FROM promises
             WHERE site = ? AND promised_ms >= ? ORDER BY promised_ms",
        )
        .bind(site.as_str())
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .filter_map(|row| {
                let kind: String = row.try_get("kind").ok()?;
                let outcome: Option<String> = row.try_get("outcome").ok()?;
                Some(Ok(LedgerRow {
                    kind: PromiseKind::parse(&kind)?,
                    subject_id: row.try_get("subject_id").ok()?,
                    promised_ms: row.try_get("promised_ms").ok()?,
                    due_ms: row.try_get("due_ms").ok()?,
                    outcome: outcome.as_deref().and_then(Outcome::parse),
                    resolved_ms: row.try_get("resolved_ms").ok()?,
                    void_reason: row.try_get("void_reason").ok()?,
                    operator_id: row.try_get("operator_id").ok()?,
                }))
            })
            .collect()
    }

    async fn recent_decided(&self, site: &SiteId, now_ms: i64, limit: u32) -> Result<Vec<Decided>, StoreError> {
        let rows: Vec<(String, i64, i64, i64, String)> = sqlx::query_as(
            "SELECT kind, promised_ms, due_ms, answered_ms, outcome FROM (
                 SELECT kind, promised_ms, due_ms, COALESCE(resolved_ms, ?1) AS answered_ms, outcome,
                        ROW_NUMBER() OVER (PARTITION BY kind ORDER BY COALESCE(resolved_ms, due_ms) DESC) AS n
                 FROM promises WHERE site = ?2 AND outcome IN ('kept', 'broken'))
             WHERE n <= ?3",
        )
        .bind(now_ms)
        .bind(site.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, promised_ms, due_ms, answered_ms, outcome)| {
                Some(Decided {
                    kind: PromiseKind::parse(&kind)?,
                    promised_ms,
                    due_ms,
                    answered_ms,
                    kept: outcome == "kept",
                })
            })
            .collect())
    }
}
