//! E-mail rows: the visitor's contact on a conversation, the durable outbox, the stop-link key.

use async_trait::async_trait;
use porchlight_protocol::SiteId;

use super::{SqliteStore, StoreError};

/// Where a conversation's replies may be e-mailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub site: String,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub stopped: bool,
    /// Operator replies up to this id were e-mailed already.
    pub emailed_up_to: i64,
    pub page_path: Option<String>,
}

/// An e-mail to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail<'a> {
    pub site: &'a str,
    pub kind: &'a str,
    pub dedupe_key: String,
    pub to_addr: &'a str,
    pub conversation_id: Option<&'a str>,
    pub send_after_ms: i64,
}

/// A queued e-mail that is due.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EmailRow {
    pub id: i64,
    pub site: String,
    pub kind: String,
    pub to_addr: String,
    pub conversation_id: Option<String>,
    pub attempts: i64,
}

#[async_trait]
pub trait EmailStore: Send + Sync {
    /// Sets (or with `None` removes) the visitor's e-mail on a conversation.
    async fn set_contact(
        &self,
        conversation_id: &str,
        email: Option<&str>,
        locale: Option<&str>,
    ) -> Result<(), StoreError>;

    async fn contact(&self, conversation_id: &str) -> Result<Option<Contact>, StoreError>;

    /// No more e-mails for this conversation (the stop link).
    async fn stop_emails(&self, conversation_id: &str) -> Result<bool, StoreError>;

    /// Queues an e-mail once per `dedupe_key`.
    async fn queue_email(&self, email: NewEmail<'_>, now_ms: i64) -> Result<(), StoreError>;

    async fn due_emails(&self, now_ms: i64, limit: u32) -> Result<Vec<EmailRow>, StoreError>;

    /// Sent (or, for a reply e-mail with nothing new left to say, merged into an earlier one).
    /// `emailed_up_to` moves the conversation's mark in the same transaction.
    async fn email_sent(
        &self,
        id: i64,
        subject: Option<&str>,
        now_ms: i64,
        emailed_up_to: Option<(&str, i64)>,
    ) -> Result<(), StoreError>;

    /// A failed attempt: tried again at `next_attempt_ms`, or, `permanent`, never again.
    async fn email_failed(
        &self,
        id: i64,
        attempts: i64,
        next_attempt_ms: i64,
        permanent: bool,
        error: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// The e-mail addresses of the operators who work on `site`.
    async fn operator_emails(&self, site: &SiteId) -> Result<Vec<String>, StoreError>;

    /// The named secret, made from `fresh` on first use.
    async fn secret(&self, name: &str, fresh: String) -> Result<String, StoreError>;

    /// E-mails of a site that failed for good, newest first (for the console).
    async fn failed_emails(&self, site: &SiteId, limit: u32) -> Result<Vec<(String, String, i64)>, StoreError>;
}

#[async_trait]
impl EmailStore for SqliteStore {
    async fn set_contact(
        &self,
        conversation_id: &str,
        email: Option<&str>,
        locale: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE conversations SET visitor_email = ?, visitor_locale = COALESCE(?, visitor_locale), emails_stopped = 0
             WHERE id = ?",
        )
        .bind(email)
        .bind(locale)
        .bind(conversation_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn contact(&self, conversation_id: &str) -> Result<Option<Contact>, StoreError> {
        let row: Option<(String, Option<String>, Option<String>, i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT site, visitor_email, visitor_locale, emails_stopped, emailed_up_to, page_path
             FROM conversations WHERE id = ?",
        )
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(site, email, locale, stopped, emailed_up_to, page_path)| Contact {
            site,
            email,
            locale,
            stopped: stopped != 0,
            emailed_up_to,
            page_path,
        }))
    }

    async fn stop_emails(&self, conversation_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let changed = sqlx::query("UPDATE conversations SET emails_stopped = 1 WHERE id = ?")
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // What is still queued for it is not sent either.
        sqlx::query(
            "UPDATE email_outbox SET failed_ms = created_ms, last_error = 'stopped by the visitor'
             WHERE conversation_id = ? AND kind = 'visitor_reply' AND sent_ms IS NULL AND failed_ms IS NULL",
        )
        .bind(conversation_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    async fn queue_email(&self, email: NewEmail<'_>, now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO email_outbox (site, kind, dedupe_key, to_addr, conversation_id, created_ms, send_after_ms, next_attempt_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(email.site)
        .bind(email.kind)
        .bind(&email.dedupe_key)
        .bind(email.to_addr)
        .bind(email.conversation_id)
        .bind(now_ms)
        .bind(email.send_after_ms)
        .bind(email.send_after_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn due_emails(&self, now_ms: i64, limit: u32) -> Result<Vec<EmailRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, site, kind, to_addr, conversation_id, attempts FROM email_outbox
             WHERE sent_ms IS NULL AND failed_ms IS NULL AND next_attempt_ms <= ? ORDER BY id LIMIT ?",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn email_sent(
        &self,
        id: i64,
        subject: Option<&str>,
        now_ms: i64,
        emailed_up_to: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE email_outbox SET sent_ms = ?, subject = ? WHERE id = ?")
            .bind(now_ms)
            .bind(subject)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some((conversation_id, up_to)) = emailed_up_to {
            sqlx::query("UPDATE conversations SET emailed_up_to = MAX(emailed_up_to, ?) WHERE id = ?")
                .bind(up_to)
                .bind(conversation_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn email_failed(
        &self,
        id: i64,
        attempts: i64,
        next_attempt_ms: i64,
        permanent: bool,
        error: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE email_outbox SET attempts = ?, next_attempt_ms = ?, last_error = ?, failed_ms = ? WHERE id = ?",
        )
        .bind(attempts)
        .bind(next_attempt_ms)
        .bind(error)
        .bind(permanent.then_some(now_ms))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn operator_emails(&self, site: &SiteId) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT email FROM operators
             WHERE all_sites = 1 OR id IN (SELECT operator_id FROM operator_sites WHERE site = ?) ORDER BY email",
        )
        .bind(site.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    async fn secret(&self, name: &str, fresh: String) -> Result<String, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(&fresh)
            .execute(&mut *tx)
            .await?;
        let value: String = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = ?")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(value)
    }

    async fn failed_emails(&self, site: &SiteId, limit: u32) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kind, COALESCE(last_error, ''), failed_ms FROM email_outbox
             WHERE site = ? AND failed_ms IS NOT NULL ORDER BY failed_ms DESC LIMIT ?",
        )
        .bind(site.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
