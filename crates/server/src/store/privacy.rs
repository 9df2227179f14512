//! Personal data rows: everything held about one person (export, erase), what is past its
//! retention (purged in small batches), the audit log, dead webhook deliveries, and the checks
//! and copies operations need (readiness, backup).
//!
//! A person is found by a [`Subject`]; from it, every row that belongs to them: their
//! conversations (messages, tokens), callbacks, ratings given in those conversations or about
//! those callbacks, promises made to them, e-mails to them, and webhook events carrying any of it.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use porchlight_protocol::SiteId;
use serde_json::Value;
use sqlx::{Row, SqliteConnection};

use super::{SqliteStore, StoreError};
use crate::domain::retention::Purge;

/// Whose data: an e-mail address (as the visitor gave it), a phone number (E.164, as stored),
/// or one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Email(&'a str),
    Phone(&'a str),
    Conversation(&'a str),
}

impl Subject<'_> {
    /// The selector's kind, what the audit log keeps (never its value).
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Email(_) => "email",
            Subject::Phone(_) => "phone",
            Subject::Conversation(_) => "conversation",
        }
    }
}

/// Rows removed, by table.
pub type Removed = BTreeMap<&'static str, u64>;

/// One audit entry: who did what to whom (by selector kind only), when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub site: String,
    pub selector: String,
    pub rows: i64,
}

/// A webhook delivery that stopped being retried.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct DeadWebhook {
    pub id: i64,
    pub site: String,
    pub event_id: String,
    pub event_type: String,
    pub endpoint: String,
    pub attempts: i64,
    pub created_ms: i64,
    pub dead_ms: i64,
    pub last_error: Option<String>,
}

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Everything held about the subject on this site, as JSON (one snapshot).
    async fn export_person(&self, site: &SiteId, subject: Subject<'_>) -> Result<Value, StoreError>;

    /// Deletes everything held about the subject on this site, in one transaction; promises made
    /// to them stay in the ledger's counts under an id that leads nowhere.
    async fn erase_person(&self, site: &SiteId, subject: Subject<'_>) -> Result<Removed, StoreError>;

    /// Removes (or anonymises) at most `limit` rows of one kind older than `cutoff_ms`; returns
    /// how many. Callers loop while a full batch comes back, so no write waits long behind it.
    async fn purge(&self, site: &SiteId, what: Purge, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError>;

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;

    async fn dead_webhooks(&self) -> Result<Vec<DeadWebhook>, StoreError>;

    /// Whether the operator may export, erase and see the audit log and dead deliveries.
    async fn is_admin(&self, operator_id: &str) -> Result<bool, StoreError>;

    /// Dead rows (`None`: all) are retried from now on, as if new.
    async fn revive_webhooks(&self, ids: Option<&[i64]>, now_ms: i64) -> Result<u64, StoreError>;

    /// Dead rows (`None`: all) are deleted.
    async fn drop_webhooks(&self, ids: Option<&[i64]>) -> Result<u64, StoreError>;

    /// Work waiting: (webhook deliveries to try, dead webhook deliveries, e-mails to send).
    async fn backlogs(&self) -> Result<(i64, i64, i64), StoreError>;

    /// A write through the writer that changes nothing, for readiness checks.
    async fn probe_write(&self) -> Result<(), StoreError>;

    /// Whether every migration this binary carries is applied.
    async fn migrations_applied(&self) -> Result<bool, StoreError>;

    /// A consistent copy of the live database at `path` (which must not exist), taken from one
    /// read snapshot while writes go on.
    async fn backup(&self, path: &Path) -> Result<(), StoreError>;
}

/// The rows that belong to a subject, found once and then exported or deleted.
#[derive(Debug, Default)]
struct Found {
    conversations: Vec<String>,
    callbacks: Vec<String>,
    ratings: Vec<String>,
    email: Option<String>,
}

impl Found {
    fn json(list: &[String]) -> String {
        serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
    }

    /// Conversation ids and callback references: what promises and e-mails point at.
    fn subjects(&self) -> String {
        let all: Vec<String> = self.conversations.iter().chain(&self.callbacks).cloned().collect();
        Found::json(&all)
    }
}

async fn strings(conn: &mut SqliteConnection, sql: &str, binds: &[&str]) -> Result<Vec<String>, sqlx::Error> {
    let mut query = sqlx::query_scalar::<_, String>(sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    query.fetch_all(&mut *conn).await
}

async fn find(conn: &mut SqliteConnection, site: &str, subject: Subject<'_>) -> Result<Found, sqlx::Error> {
    let mut found = Found::default();
    match subject {
        Subject::Email(email) => {
            found.email = Some(email.to_owned());
            found.conversations = strings(
                conn,
                "SELECT id FROM conversations WHERE site = ?1 AND visitor_email = ?2 COLLATE NOCASE
                 UNION SELECT conversation_id FROM email_outbox
                       WHERE site = ?1 AND to_addr = ?2 COLLATE NOCASE AND conversation_id IS NOT NULL",
                &[site, email],
            )
            .await?;
        }
        Subject::Phone(phone) => {
            found.callbacks =
                strings(conn, "SELECT reference FROM callbacks WHERE site = ? AND phone = ?", &[site, phone]).await?;
        }
        Subject::Conversation(id) => {
            found.conversations =
                strings(conn, "SELECT id FROM conversations WHERE site = ? AND id = ?", &[site, id]).await?;
        }
    }
    found.ratings = strings(
        conn,
        "SELECT id FROM ratings WHERE site = ?1 AND (
             (context_kind = 'chat' AND context_ref IN (SELECT value FROM json_each(?2)))
          OR (context_kind = 'callback' AND context_ref IN (SELECT value FROM json_each(?3))))",
        &[site, &Found::json(&found.conversations), &Found::json(&found.callbacks)],
    )
    .await?;
    Ok(found)
}

/// Each statement selects (or deletes) one table's rows of the subject. Binds: ?1 site,
/// ?2 conversation ids, ?3 callback references, ?4 rating ids, ?5 conversations and callbacks,
/// ?6 the e-mail address (or NULL).
const CONVERSATIONS: &str = "FROM conversations WHERE site = ?1 AND id IN (SELECT value FROM json_each(?2))";
const MESSAGES: &str = "FROM messages WHERE conversation_id IN (SELECT value FROM json_each(?2))";
const CALLBACKS: &str = "FROM callbacks WHERE site = ?1 AND reference IN (SELECT value FROM json_each(?3))";
const RATINGS: &str = "FROM ratings WHERE site = ?1 AND id IN (SELECT value FROM json_each(?4))";
const PROMISES: &str = "FROM promises WHERE site = ?1 AND subject_id IN (SELECT value FROM json_each(?5))";
const EMAILS: &str = "FROM email_outbox WHERE site = ?1 AND (conversation_id IN (SELECT value FROM json_each(?2))
                          OR (?6 IS NOT NULL AND to_addr = ?6 COLLATE NOCASE))";
/// Webhook bodies are the envelope of `webhooks::envelope`; what ties one to a person is in `data`.
const WEBHOOKS: &str = "FROM webhook_outbox WHERE site = ?1 AND (
       json_extract(body, '$.data.conversation_id') IN (SELECT value FROM json_each(?2))
    OR json_extract(body, '$.data.reference') IN (SELECT value FROM json_each(?3))
    OR json_extract(body, '$.data.id') IN (SELECT value FROM json_each(?4))
    OR json_extract(body, '$.data.subject_id') IN (SELECT value FROM json_each(?5))
    OR json_extract(body, '$.data.context.ref_id') IN (SELECT value FROM json_each(?5)))";

fn bound<'q>(
    sql: &'q str,
    site: &'q str,
    found: &Found,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    sqlx::query(sql)
        .bind(site)
        .bind(Found::json(&found.conversations))
        .bind(Found::json(&found.callbacks))
        .bind(Found::json(&found.ratings))
        .bind(found.subjects())
        .bind(found.email.clone())
}

/// One table's rows of the subject as a JSON array, built by SQLite.
async fn export_table(
    conn: &mut SqliteConnection,
    site: &str,
    found: &Found,
    object: &str,
    from: &str,
) -> Result<Value, sqlx::Error> {
    let sql = format!("SELECT COALESCE(json_group_array(json_object({object})), '[]') {from}");
    let text: String = bound(&sql, site, found).fetch_one(&mut *conn).await?.try_get(0)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// What an export holds, table by table: every column that says something about the person.
const EXPORTED: [(&str, &str, &str); 7] = [
    (
        "conversations",
        "'id', id, 'created_ms', created_ms, 'closed_ms', closed_ms, 'page_path', page_path,
         'visitor_email', visitor_email, 'visitor_locale', visitor_locale, 'emails_stopped', emails_stopped",
        CONVERSATIONS,
    ),
    (
        "messages",
        "'conversation_id', conversation_id, 'id', id, 'author', author, 'author_name', author_name,
         'body', body, 'created_ms', created_ms",
        MESSAGES,
    ),
    (
        "callbacks",
        "'reference', reference, 'name', name, 'phone', phone, 'topic', topic, 'note', note,
         'status', status, 'preferred_ms', preferred_ms, 'due_ms', due_ms, 'consent_ms', consent_ms,
         'created_ms', created_ms, 'updated_ms', updated_ms",
        CALLBACKS,
    ),
    (
        "ratings",
        "'id', id, 'value', value, 'comment', comment, 'page_path', page_path, 'page_title', page_title,
         'context_kind', context_kind, 'context_ref', context_ref, 'created_ms', created_ms,
         'updated_ms', updated_ms, 'undone_ms', undone_ms",
        RATINGS,
    ),
    (
        "promises",
        "'kind', kind, 'subject_id', subject_id, 'promised_ms', promised_ms, 'due_ms', due_ms,
         'outcome', outcome, 'resolved_ms', resolved_ms, 'void_reason', void_reason",
        PROMISES,
    ),
    (
        "emails",
        "'kind', kind, 'to', to_addr, 'conversation_id', conversation_id, 'subject', subject,
         'created_ms', created_ms, 'sent_ms', sent_ms, 'failed_ms', failed_ms",
        EMAILS,
    ),
    (
        "webhook_events",
        "'event_id', event_id, 'type', event_type, 'endpoint', endpoint, 'created_ms', created_ms,
         'delivered_ms', delivered_ms, 'dead_ms', dead_ms, 'body', json(body)",
        WEBHOOKS,
    ),
];

/// Rows past retention, oldest first, at most `?3` of them. Binds: ?1 site, ?2 cutoff, ?3 limit.
const OLD_CONVERSATIONS: &str = "SELECT id FROM conversations c WHERE site = ?1 AND created_ms < ?2
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.created_ms >= ?2)
     ORDER BY created_ms LIMIT ?3";
const OLD_CALLBACKS: &str = "SELECT reference FROM callbacks WHERE site = ?1 AND created_ms < ?2 AND due_ms < ?2
     ORDER BY created_ms LIMIT ?3";

/// Deletes the subject's rows (`found`); returns the count per table.
async fn delete_found(conn: &mut SqliteConnection, site: &str, found: &Found) -> Result<Removed, sqlx::Error> {
    let mut removed = Removed::new();
    // Children before parents; promises are kept for the ledger's counts but lose their subject.
    for (table, from) in [
        ("webhook_events", WEBHOOKS),
        ("emails", EMAILS),
        ("ratings", RATINGS),
        ("messages", MESSAGES),
        ("conversations", CONVERSATIONS),
        ("callbacks", CALLBACKS),
    ] {
        let done = bound(&format!("DELETE {from}"), site, found).execute(&mut *conn).await?;
        removed.insert(table, done.rows_affected());
    }
    let anonymised = bound(
        "UPDATE promises SET subject_id = 'erased-' || id
         WHERE site = ?1 AND subject_id IN (SELECT value FROM json_each(?5))",
        site,
        found,
    )
    .execute(&mut *conn)
    .await?;
    removed.insert("promises_anonymised", anonymised.rows_affected());
    Ok(removed)
}

impl SqliteStore {
    /// Forgets remembered facts about conversations that no longer exist.
    fn forget_conversations(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        self.sites.forget(|id| ids.contains(id));
        self.tokens.forget(|(id, _)| ids.contains(id));
    }
}

#[async_trait]
impl PrivacyStore for SqliteStore {
    async fn export_person(&self, site: &SiteId, subject: Subject<'_>) -> Result<Value, StoreError> {
        // One read transaction: every table from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let found = find(&mut tx, site.as_str(), subject).await?;
        let mut export = serde_json::Map::new();
        for (name, object, from) in EXPORTED {
            export.insert(name.into(), export_table(&mut tx, site.as_str(), &found, object, from).await?);
        }
        tx.commit().await?;
        Ok(Value::Object(export))
    }

    async fn erase_person(&self, site: &SiteId, subject: Subject<'_>) -> Result<Removed, StoreError> {
        let mut tx = self.write_tx().await?;
        let found = find(&mut tx, site.as_str(), subject).await?;
        let removed = delete_found(&mut tx, site.as_str(), &found).await?;
        tx.commit().await?;
        self.forget_conversations(&found.conversations);
        Ok(removed)
    }

    async fn purge(&self, site: &SiteId, what: Purge, cutoff_ms: i64, limit: u32) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let site = site.as_str();
        let count = match what {
            Purge::Conversations | Purge::Callbacks => {
                let (sql, is_conversation) = match what {
                    Purge::Conversations => (OLD_CONVERSATIONS, true),
                    _ => (OLD_CALLBACKS, false),
                };
                let ids: Vec<String> =
                    sqlx::query_scalar(sql).bind(site).bind(cutoff_ms).bind(limit).fetch_all(&mut *tx).await?;
                let found = if is_conversation {
                    Found { conversations: ids, ..Found::default() }
                } else {
                    Found { callbacks: ids, ..Found::default() }
                };
                // Their ratings keep their value (the reports count it) but lose the link.
                bound(
                    "UPDATE ratings SET context_ref = NULL, comment = NULL, page_title = NULL WHERE site = ?1 AND (
                         (context_kind = 'chat' AND context_ref IN (SELECT value FROM json_each(?2)))
                      OR (context_kind = 'callback' AND context_ref IN (SELECT value FROM json_each(?3))))",
                    site,
                    &found,
                )
                .execute(&mut *tx)
                .await?;
                let removed = delete_found(&mut tx, site, &found).await?;
                tx.commit().await?;
                self.forget_conversations(&found.conversations);
                return Ok(removed
                    .get(if is_conversation { "conversations" } else { "callbacks" })
                    .copied()
                    .unwrap_or(0));
            }
            Purge::RatingComments => sqlx::query(
                "UPDATE ratings SET comment = NULL, page_title = NULL WHERE id IN (
                     SELECT id FROM ratings WHERE site = ?1 AND created_ms < ?2
                        AND (comment IS NOT NULL OR page_title IS NOT NULL) ORDER BY created_ms LIMIT ?3)",
            ),
            Purge::VisitorEmails => sqlx::query(
                "UPDATE conversations SET visitor_email = NULL WHERE id IN (
                     SELECT id FROM conversations c WHERE site = ?1 AND created_ms < ?2 AND visitor_email IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.created_ms >= ?2)
                     LIMIT ?3)",
            ),
            Purge::FinishedOutbox => {
                let webhooks = sqlx::query(
                    "DELETE FROM webhook_outbox WHERE id IN (
                         SELECT id FROM webhook_outbox WHERE site = ?1
                            AND (delivered_ms < ?2 OR dead_ms < ?2) LIMIT ?3)",
                )
                .bind(site)
                .bind(cutoff_ms)
                .bind(limit)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let emails = sqlx::query(
                    "DELETE FROM email_outbox WHERE id IN (
                         SELECT id FROM email_outbox WHERE site = ?1 AND (sent_ms < ?2 OR failed_ms < ?2) LIMIT ?3)",
                )
                .bind(site)
                .bind(cutoff_ms)
                .bind(limit)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                return Ok(webhooks.max(emails));
            }
        }
        .bind(site)
        .bind(cutoff_ms)
        .bind(limit)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(count)
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO audit_log (at_ms, actor, action, site, selector, rows) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(entry.at_ms)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.site)
            .bind(&entry.selector)
            .bind(entry.rows)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(sqlx::query_as("SELECT at_ms, actor, action, site, selector, rows FROM audit_log ORDER BY id DESC LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn dead_webhooks(&self) -> Result<Vec<DeadWebhook>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, site, event_id, event_type, endpoint, attempts, created_ms, dead_ms, last_error
             FROM webhook_outbox WHERE dead_ms IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn is_admin(&self, operator_id: &str) -> Result<bool, StoreError> {
        let admin: Option<i64> = sqlx::query_scalar("SELECT admin FROM operators WHERE id = ?")
            .bind(operator_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(admin == Some(1))
    }

    async fn revive_webhooks(&self, ids: Option<&[i64]>, now_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE webhook_outbox SET dead_ms = NULL, revived_ms = ?1, next_attempt_ms = 0, attempts = 0
             WHERE dead_ms IS NOT NULL AND (?2 IS NULL OR id IN (SELECT value FROM json_each(?2)))",
        )
        .bind(now_ms)
        .bind(ids.map(|ids| serde_json::to_string(ids).unwrap_or_default()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn drop_webhooks(&self, ids: Option<&[i64]>) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "DELETE FROM webhook_outbox
             WHERE dead_ms IS NOT NULL AND (?1 IS NULL OR id IN (SELECT value FROM json_each(?1)))",
        )
        .bind(ids.map(|ids| serde_json::to_string(ids).unwrap_or_default()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn backlogs(&self) -> Result<(i64, i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM webhook_outbox WHERE delivered_ms IS NULL AND dead_ms IS NULL),
                    (SELECT COUNT(*) FROM webhook_outbox WHERE dead_ms IS NOT NULL),
                    (SELECT COUNT(*) FROM email_outbox WHERE sent_ms IS NULL AND failed_ms IS NULL)",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn probe_write(&self) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // Takes the write lock (SQLite writes nothing for an update that matches no row).
        sqlx::query("UPDATE server_secrets SET value = value WHERE name = ''").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn migrations_applied(&self) -> Result<bool, StoreError> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1").fetch_all(&self.pool).await?;
        Ok(sqlx::migrate!("./migrations").iter().all(|m| applied.contains(&m.version)))
    }

    async fn backup(&self, path: &Path) -> Result<(), StoreError> {
        let target = path.to_str().ok_or_else(|| sqlx::Error::Protocol("backup path is not UTF-8".into()))?;
        // VACUUM INTO copies one read snapshot, page by page, into a new compact file; the writer
        // goes on meanwhile (WAL readers never block it).
        sqlx::query("VACUUM INTO ?").bind(target).execute(&self.pool).await?;
        Ok(())
    }
}
