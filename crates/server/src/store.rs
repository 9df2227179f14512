//! Storage behind a trait, so routes don't know SQL and another database can be added beside
//! SQLite. Every create is idempotent: `INSERT … ON CONFLICT DO NOTHING` then read back the row
//! that won, in one write transaction, so concurrent identical requests store one row and all
//! get the same answer.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use porchlight_protocol::{Author, ChatMessage, MessageAck, RatingReceipt, RatingValue, SiteId};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::domain::availability::{ConversationTiming, OperatorStatus};
use crate::domain::{
    IdempotencyKey, Reference, TokenHash, ValidCallback, ValidConversation, ValidMessage, ValidRating,
};

/// Whether a create stored something new (201) or found the earlier result of the same request
/// (200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored<T> {
    Created(T),
    Existing(T),
}

impl<T> Stored<T> {
    pub fn is_created(&self) -> bool {
        matches!(self, Stored::Created(_))
    }

    pub fn into_inner(self) -> T {
        match self {
            Stored::Created(t) | Stored::Existing(t) => t,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A freshly generated callback reference is already taken; generate another and retry.
    #[error("callback reference already taken")]
    ReferenceTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A callback row as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRecord {
    pub reference: String,
    pub status: String,
    pub due_ms: i64,
}

/// What a new callback row needs besides the visitor's input.
#[derive(Debug, Clone)]
pub struct NewCallbackRow<'a> {
    pub id: &'a str,
    pub reference: &'a Reference,
    pub callback: &'a ValidCallback,
    pub due_ms: i64,
    pub token_hash: &'a TokenHash,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationStart {
    pub conversation_id: String,
    pub first_message: MessageAck,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn insert_rating(
        &self,
        site: &SiteId,
        key: &IdempotencyKey,
        id: &str,
        rating: &ValidRating,
        now_ms: i64,
    ) -> Result<Stored<RatingReceipt>, StoreError>;

    async fn insert_callback(
        &self,
        site: &SiteId,
        key: &IdempotencyKey,
        row: NewCallbackRow<'_>,
    ) -> Result<Stored<CallbackRecord>, StoreError>;

    /// Counts a honeypot hit for the site. Nothing of the request is kept.
    async fn count_spam_drop(&self, site: &SiteId, now_ms: i64) -> Result<(), StoreError>;

    /// Starts a conversation with its first message, idempotent on the message's client id.
    /// `token_hash` becomes the conversation's token when it is created; on a replay it is added
    /// as an extra valid token (see the migration).
    async fn start_conversation(
        &self,
        site: &SiteId,
        id: &str,
        conversation: &ValidConversation,
        token_hash: &TokenHash,
        now_ms: i64,
    ) -> Result<Stored<ConversationStart>, StoreError>;

    /// `None` when the conversation does not exist for this site; `Some(false)` when it does but
    /// the token is not one of its tokens.
    async fn check_conversation_token(
        &self,
        site: &SiteId,
        conversation_id: &str,
        token_hash: &TokenHash,
    ) -> Result<Option<bool>, StoreError>;

    async fn add_message(
        &self,
        conversation_id: &str,
        message: &ValidMessage,
        author: Author,
        now_ms: i64,
    ) -> Result<Stored<MessageAck>, StoreError>;

    /// Messages oldest first, only those with an id above `after`.
    async fn messages(&self, conversation_id: &str, after: i64) -> Result<Vec<ChatMessage>, StoreError>;

    /// The presence an operator last set for the site, with when; `None` if never set.
    async fn presence(&self, site: &SiteId) -> Result<Option<(OperatorStatus, i64)>, StoreError>;

    async fn set_presence(&self, site: &SiteId, status: OperatorStatus, now_ms: i64) -> Result<(), StoreError>;

    /// Start and first operator reply of the site's conversations started at or after
    /// `since_ms`, for the availability estimate.
    async fn conversation_timings(&self, site: &SiteId, since_ms: i64) -> Result<Vec<ConversationTiming>, StoreError>;

    /// Waits for in-flight queries and closes the connections.
    async fn close(&self);
}

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, sqlx::Error> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A receipt promises the row is on disk: FULL syncs the WAL on every commit.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front, so two writers queue on the busy
    /// timeout instead of one failing when it upgrades from reading to writing.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

fn parse_author(raw: &str) -> Author {
    match raw {
        "visitor" => Author::Visitor,
        "operator" => Author::Operator,
        _ => Author::Unknown,
    }
}

fn author_str(author: Author) -> &'static str {
    match author {
        Author::Operator => "operator",
        // Unknown never comes from this server's own callers; store the safe default.
        Author::Visitor | Author::Unknown => "visitor",
    }
}

fn created_or_existing<T>(created: bool, value: T) -> Stored<T> {
    if created {
        Stored::Created(value)
    } else {
        Stored::Existing(value)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_rating(
        &self,
        site: &SiteId,
        key: &IdempotencyKey,
        id: &str,
        rating: &ValidRating,
        now_ms: i64,
    ) -> Result<Stored<RatingReceipt>, StoreError> {
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO ratings (id, site, idempotency_key, value, page_path, page_title, comment, created_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (site, idempotency_key) DO NOTHING",
        )
        .bind(id)
        .bind(site.as_str())
        .bind(key.as_str())
        .bind(rating.value.as_str())
        .bind(&rating.page_path)
        .bind(&rating.page_title)
        .bind(&rating.comment)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let row = sqlx::query("SELECT id, value, created_ms FROM ratings WHERE site = ? AND idempotency_key = ?")
            .bind(site.as_str())
            .bind(key.as_str())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let value: String = row.try_get("value")?;
        let receipt = RatingReceipt {
            id: row.try_get("id")?,
            value: RatingValue::parse(&value)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown rating value {value:?}").into()))?,
            created_ms: row.try_get("created_ms")?,
        };
        Ok(created_or_existing(inserted, receipt))
    }

    async fn insert_callback(
        &self,
        site: &SiteId,
        key: &IdempotencyKey,
        row: NewCallbackRow<'_>,
    ) -> Result<Stored<CallbackRecord>, StoreError> {
        let mut tx = self.write_tx().await?;
        let result = sqlx::query(
            "INSERT INTO callbacks (id, site, idempotency_key, reference, name, phone, preferred_ms, note,
                                    status, due_ms, token_hash, created_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?)
             ON CONFLICT (site, idempotency_key) DO NOTHING",
        )
        .bind(row.id)
        .bind(site.as_str())
        .bind(key.as_str())
        .bind(row.reference.as_str())
        .bind(&row.callback.name)
        .bind(row.callback.phone.as_str())
        .bind(row.callback.preferred_ms)
        .bind(&row.callback.note)
        .bind(row.due_ms)
        .bind(row.token_hash.as_str())
        .bind(row.now_ms)
        .execute(&mut *tx)
        .await;
        let inserted = match result {
            Ok(done) => done.rows_affected() == 1,
            // Only `reference` can still collide: the idempotency conflict is handled above.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(StoreError::ReferenceTaken),
            Err(e) => return Err(e.into()),
        };
        let found =
            sqlx::query("SELECT reference, status, due_ms FROM callbacks WHERE site = ? AND idempotency_key = ?")
                .bind(site.as_str())
                .bind(key.as_str())
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        let record = CallbackRecord {
            reference: found.try_get("reference")?,
            status: found.try_get("status")?,
            due_ms: found.try_get("due_ms")?,
        };
        Ok(created_or_existing(inserted, record))
    }

    async fn count_spam_drop(&self, site: &SiteId, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO spam_drops (site, count, last_ms) VALUES (?, 1, ?)
             ON CONFLICT (site) DO UPDATE SET count = count + 1, last_ms = excluded.last_ms",
        )
        .bind(site.as_str())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn start_conversation(
        &self,
        site: &SiteId,
        id: &str,
        conversation: &ValidConversation,
        token_hash: &TokenHash,
        now_ms: i64,
    ) -> Result<Stored<ConversationStart>, StoreError> {
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO conversations (id, site, first_client_id, token_hash, page_path, created_ms)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (site, first_client_id) DO NOTHING",
        )
        .bind(id)
        .bind(site.as_str())
        .bind(&conversation.first.client_id)
        .bind(token_hash.as_str())
        .bind(&conversation.page_path)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let conversation_id: String =
            sqlx::query_scalar("SELECT id FROM conversations WHERE site = ? AND first_client_id = ?")
                .bind(site.as_str())
                .bind(&conversation.first.client_id)
                .fetch_one(&mut *tx)
                .await?;
        if inserted {
            sqlx::query(
                "INSERT INTO messages (conversation_id, client_id, author, body, created_ms)
                 VALUES (?, ?, 'visitor', ?, ?)",
            )
            .bind(&conversation_id)
            .bind(&conversation.first.client_id)
            .bind(&conversation.first.body)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO conversation_tokens (conversation_id, token_hash, created_ms) VALUES (?, ?, ?)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&conversation_id)
            .bind(token_hash.as_str())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        let ack =
            sqlx::query("SELECT id, client_id, created_ms FROM messages WHERE conversation_id = ? AND client_id = ?")
                .bind(&conversation_id)
                .bind(&conversation.first.client_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        let start = ConversationStart {
            conversation_id,
            first_message: MessageAck {
                id: ack.try_get("id")?,
                client_id: ack.try_get("client_id")?,
                created_ms: ack.try_get("created_ms")?,
            },
        };
        Ok(created_or_existing(inserted, start))
    }

    async fn check_conversation_token(
        &self,
        site: &SiteId,
        conversation_id: &str,
        token_hash: &TokenHash,
    ) -> Result<Option<bool>, StoreError> {
        let found: Option<bool> = sqlx::query_scalar(
            "SELECT c.token_hash = ?1
                    OR EXISTS (SELECT 1 FROM conversation_tokens t
                               WHERE t.conversation_id = c.id AND t.token_hash = ?1)
             FROM conversations c WHERE c.id = ?2 AND c.site = ?3",
        )
        .bind(token_hash.as_str())
        .bind(conversation_id)
        .bind(site.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(found)
    }

    async fn add_message(
        &self,
        conversation_id: &str,
        message: &ValidMessage,
        author: Author,
        now_ms: i64,
    ) -> Result<Stored<MessageAck>, StoreError> {
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO messages (conversation_id, client_id, author, body, created_ms) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (conversation_id, client_id) DO NOTHING",
        )
        .bind(conversation_id)
        .bind(&message.client_id)
        .bind(author_str(author))
        .bind(&message.body)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let row =
            sqlx::query("SELECT id, client_id, created_ms FROM messages WHERE conversation_id = ? AND client_id = ?")
                .bind(conversation_id)
                .bind(&message.client_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        let ack = MessageAck {
            id: row.try_get("id")?,
            client_id: row.try_get("client_id")?,
            created_ms: row.try_get("created_ms")?,
        };
        Ok(created_or_existing(inserted, ack))
    }

    async fn messages(&self, conversation_id: &str, after: i64) -> Result<Vec<ChatMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, client_id, author, body, created_ms FROM messages
             WHERE conversation_id = ? AND id > ? ORDER BY id LIMIT 1000",
        )
        .bind(conversation_id)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let author: String = row.try_get("author")?;
                Ok(ChatMessage {
                    id: row.try_get("id")?,
                    client_id: row.try_get("client_id")?,
                    author: parse_author(&author),
                    body: row.try_get("body")?,
                    created_ms: row.try_get("created_ms")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn presence(&self, site: &SiteId) -> Result<Option<(OperatorStatus, i64)>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as("SELECT status, updated_ms FROM presence WHERE site = ?")
            .bind(site.as_str())
            .fetch_optional(&self.pool)
            .await?;
        // The CHECK constraint keeps other values out; one would read as "away", the safe side.
        Ok(row.map(|(status, updated_ms)| (OperatorStatus::parse(&status).unwrap_or(OperatorStatus::Away), updated_ms)))
    }

    async fn set_presence(&self, site: &SiteId, status: OperatorStatus, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO presence (site, status, updated_ms) VALUES (?, ?, ?)
             ON CONFLICT (site) DO UPDATE SET status = excluded.status, updated_ms = excluded.updated_ms",
        )
        .bind(site.as_str())
        .bind(status.as_str())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn conversation_timings(&self, site: &SiteId, since_ms: i64) -> Result<Vec<ConversationTiming>, StoreError> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT c.created_ms,
                    (SELECT MIN(m.created_ms) FROM messages m
                     WHERE m.conversation_id = c.id AND m.author = 'operator')
             FROM conversations c WHERE c.site = ? AND c.created_ms >= ?",
        )
        .bind(site.as_str())
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(started_ms, first_reply_ms)| ConversationTiming { started_ms, first_reply_ms })
            .collect())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
