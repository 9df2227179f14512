//! Chat messages, written many at a time: the group-commit writer gathers the messages queued
//! while the previous COMMIT was syncing and stores them with **one** multi-row `INSERT`.
//!
//! Why: chat is the write that arrives most often (10,000 open conversations at one message a
//! second each is 10,000 writes a second), and every statement on the writer connection is a
//! hand-off to sqlx's SQLite thread and back, one after another on the single writer. A lent
//! transaction costs two or three such round trips per message; a batch of 200 messages costs
//! one (the `INSERT`, committed by itself: [`insert_and_commit`]), or four in a transaction
//! shared with other requests or webhook events.
//!
//! A message needs no decision between statements (its row is fully known beforehand), so it is
//! queued as data rather than as a lease on the connection.
//!
//! Nearly every batch is all new messages, so the `INSERT` is tried first on its own and the
//! unique index finds the rare retry: the batch then costs one statement instead of two, and the
//! writer, which every message waits on in turn, is free sooner.

use std::collections::HashMap;

use porchlight_protocol::MessageAck;
use serde_json::json;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::{queue_events, OutboxEvent, Stored};
use crate::domain::webhooks::{envelope, event, Outbox};

/// One message to store, as the writer receives it.
#[derive(Debug, Clone)]
pub(crate) struct MessageAppend {
    pub conversation_id: String,
    pub client_id: String,
    pub author: &'static str,
    /// The operator's display name on a reply.
    pub author_name: Option<String>,
    pub body: String,
    pub created_ms: i64,
    pub outbox: Outbox,
}

/// Stores `messages` (in this order, so ids follow it) on the writer's open transaction and
/// queues their webhook events. A message whose `(conversation, client id)` is already stored (a
/// retry, also one earlier in the same batch) stores nothing and answers the stored row.
///
/// One statement whatever the batch size when every message is new ([`insert_all_new`]);
/// otherwise two ([`insert_checked`]). (`RETURNING` would stream every row back through sqlx's
/// channel, a wake-up per row.)
///
/// One result per message, in order. An `Err` means a statement failed: the caller rolls back
/// to before this call (the batch is all or nothing) and may retry the messages one by one.
pub(crate) async fn insert_batch(
    conn: &mut SqliteConnection,
    messages: &[MessageAppend],
) -> Result<Vec<Stored<MessageAck>>, sqlx::Error> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let (results, new_rows) = match insert_all_new(conn, messages).await {
        Ok(ids) => (created(messages, &ids), ids.into_iter().zip(messages).collect()),
        // A retry (its key is stored, or twice in this batch) or a message the database refuses:
        // the statement left nothing behind, so look each message up first.
        Err(_) => insert_checked(conn, messages).await?,
    };
    queue_message_events(conn, &new_rows).await?;
    Ok(results)
}

/// Stores `messages`, all new and of sites without webhook endpoints, with one `INSERT` run
/// outside any transaction: SQLite commits it by itself (and syncs it, as any COMMIT), or
/// undoes it whole if any key is taken. The writer's hot path for chat: one round trip to the
/// connection's thread per batch where a transaction takes four (`BEGIN`, `SAVEPOINT`,
/// `INSERT`, `COMMIT`), and no statement journal (a statement inside a transaction copies
/// every page it changes first, so that it can be undone alone). `None` when the batch needs
/// the careful way ([`insert_batch`] in a transaction): a webhook event to queue with the rows,
/// or a statement that failed (a retry in the batch), which left nothing behind.
pub(crate) async fn insert_and_commit(
    conn: &mut SqliteConnection,
    messages: &[MessageAppend],
) -> Option<Vec<Stored<MessageAck>>> {
    if messages.is_empty() || messages.iter().any(|m| !m.outbox.endpoints.is_empty()) {
        return None;
    }
    match insert_all_new(conn, messages).await {
        Ok(ids) => Some(created(messages, &ids)),
        Err(e) => {
            tracing::debug!(error = %e, messages = messages.len(), "message batch needs the careful way");
            None
        }
    }
}

/// The answers to `messages`, all stored anew under `ids` (in the same order).
fn created(messages: &[MessageAppend], ids: &[i64]) -> Vec<Stored<MessageAck>> {
    messages
        .iter()
        .zip(ids)
        .map(|(m, &id)| Stored::Created(MessageAck { id, client_id: m.client_id.clone(), created_ms: m.created_ms }))
        .collect()
}

/// Stores every message with one `INSERT` that fails as a whole (SQLite undoes a failed
/// statement's rows and keeps the transaction) if any message's key is already taken. Returns
/// their ids, in order: `AUTOINCREMENT` numbers the rows of one statement on the only writer one
/// after another in `VALUES` order, so they end at the statement's last rowid.
async fn insert_all_new(conn: &mut SqliteConnection, messages: &[MessageAppend]) -> Result<Vec<i64>, sqlx::Error> {
    let mut insert: QueryBuilder<Sqlite> =
        QueryBuilder::new("INSERT INTO messages (conversation_id, client_id, author, body, created_ms, author_name) ");
    insert.push_values(messages, |mut row, m| {
        row.push_bind(&m.conversation_id)
            .push_bind(&m.client_id)
            .push_bind(m.author)
            .push_bind(&m.body)
            .push_bind(m.created_ms)
            .push_bind(&m.author_name);
    });
    let done = insert.build().execute(&mut *conn).await?;
    let stored = messages.len() as i64;
    if done.rows_affected() != stored as u64 {
        // Cannot happen without a conflict clause; refuse rather than hand out wrong ids.
        return Err(sqlx::Error::Protocol(format!("{} of {stored} messages stored", done.rows_affected())));
    }
    let first = done.last_insert_rowid() - stored + 1;
    Ok((first..=done.last_insert_rowid()).collect())
}

/// The careful way, for a batch with a retry in it: one `SELECT` for the last id given out and
/// the messages already stored, one `INSERT` of the new rows under explicit ids; each retry
/// answers the stored row. Explicit ids are safe because this runs on the only writer, inside
/// its transaction; `AUTOINCREMENT` still never reuses an id, as SQLite moves `sqlite_sequence`
/// up to the largest id inserted.
#[allow(clippy::type_complexity)]
async fn insert_checked<'m>(
    conn: &mut SqliteConnection,
    messages: &'m [MessageAppend],
) -> Result<(Vec<Stored<MessageAck>>, Vec<(i64, &'m MessageAppend)>), sqlx::Error> {
    // The first row carries the last id given out; the others are messages already stored.
    let mut lookup: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT NULL AS conversation_id, NULL AS client_id,
                COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0) AS id, NULL AS created_ms
         UNION ALL
         SELECT m.conversation_id, m.client_id, m.id, m.created_ms FROM (",
    );
    lookup.push_values(messages, |mut row, m| {
        row.push_bind(&m.conversation_id).push_bind(&m.client_id);
    });
    lookup.push(") AS k JOIN messages AS m ON m.conversation_id = k.column1 AND m.client_id = k.column2");
    let mut last_id = 0;
    let mut known: HashMap<(String, String), MessageAck> = HashMap::new();
    for row in lookup.build().fetch_all(&mut *conn).await? {
        match row.try_get::<Option<String>, _>("conversation_id")? {
            None => last_id = row.try_get("id")?,
            Some(conversation_id) => {
                let client_id: String = row.try_get("client_id")?;
                let ack = MessageAck {
                    id: row.try_get("id")?,
                    client_id: client_id.clone(),
                    created_ms: row.try_get("created_ms")?,
                };
                known.insert((conversation_id, client_id), ack);
            }
        }
    }

    let mut results = Vec::with_capacity(messages.len());
    let mut new_rows: Vec<(i64, &MessageAppend)> = Vec::with_capacity(messages.len());
    for m in messages {
        let key = (m.conversation_id.clone(), m.client_id.clone());
        if let Some(ack) = known.get(&key) {
            results.push(Stored::Existing(ack.clone()));
            continue;
        }
        last_id += 1;
        let ack = MessageAck { id: last_id, client_id: m.client_id.clone(), created_ms: m.created_ms };
        // A second message with this key later in the batch is a replay of this one.
        known.insert(key, ack.clone());
        new_rows.push((last_id, m));
        results.push(Stored::Created(ack));
    }
    if new_rows.is_empty() {
        return Ok((results, new_rows));
    }
    let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO messages (id, conversation_id, client_id, author, body, created_ms, author_name) ",
    );
    insert.push_values(&new_rows, |mut row, (id, m)| {
        row.push_bind(*id)
            .push_bind(&m.conversation_id)
            .push_bind(&m.client_id)
            .push_bind(m.author)
            .push_bind(&m.body)
            .push_bind(m.created_ms)
            .push_bind(&m.author_name);
    });
    insert.build().execute(&mut *conn).await?;
    Ok((results, new_rows))
}

/// Queues a `message.created` webhook event per new message of a site with endpoints.
async fn queue_message_events(
    conn: &mut SqliteConnection,
    new_rows: &[(i64, &MessageAppend)],
) -> Result<(), sqlx::Error> {
    let events: Vec<OutboxEvent> = new_rows
        .iter()
        .filter(|(_, m)| !m.outbox.endpoints.is_empty())
        .map(|(id, m)| {
            let data = json!({
                "conversation_id": m.conversation_id, "id": id, "client_id": m.client_id,
                "author": m.author, "author_name": m.author_name, "body": m.body, "created_ms": m.created_ms,
            });
            let event_id = crate::domain::new_id("ev");
            let body = envelope(&event_id, event::MESSAGE_CREATED, &m.outbox.site, m.created_ms, data);
            OutboxEvent { event_id, outbox: &m.outbox, kind: event::MESSAGE_CREATED, body, created_ms: m.created_ms }
        })
        .collect();
    queue_events(conn, &events).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sqlx::Row;

    use super::*;
    use crate::store::{SqliteStore, Store};

    fn message(conversation: &str, client_id: &str, endpoints: &[&str]) -> MessageAppend {
        MessageAppend {
            conversation_id: conversation.into(),
            client_id: client_id.into(),
            author: "operator",
            author_name: None,
            body: format!("body of {client_id}"),
            created_ms: 1_000,
            outbox: Outbox { site: "demo".into(), endpoints: endpoints.iter().map(|e| e.to_string()).collect() },
        }
    }

    /// Hundreds of messages in flight at once share batches: each is stored once, a replay of
    /// its client id answers the stored row, each conversation's ids follow the order its
    /// messages were sent in, a message of a missing conversation fails alone, and every new
    /// message of a site with webhook endpoints queues one event per endpoint.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_messages_are_stored_once_in_order_and_a_bad_one_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("chat.db")).await.unwrap());
        for c in 0..20 {
            sqlx::query("INSERT INTO conversations (id, site, first_client_id, token_hash, created_ms) VALUES (?, 'demo', ?, 'h', 0)")
                .bind(format!("c{c}"))
                .bind(format!("first{c}"))
                .execute(store.pool())
                .await
                .unwrap();
        }

        // 20 conversations × 10 messages, each conversation's sent one after another (as the
        // route's per-conversation lock does), all conversations at once; every message of
        // conversation 0 is sent twice; conversation 7 has two webhook endpoints.
        let tasks: Vec<_> = (0..20)
            .map(|c| {
                let store = store.clone();
                tokio::spawn(async move {
                    let endpoints: &[&str] = if c == 7 { &["https://a.test/hook", "https://b.test/hook"] } else { &[] };
                    let mut acks = Vec::new();
                    for n in 0..10 {
                        let m = message(&format!("c{c}"), &format!("m{n}"), endpoints);
                        let first = store.writer.append_message(m.clone()).await.unwrap();
                        assert!(first.is_created(), "c{c} m{n} is new");
                        if c == 0 {
                            let again = store.writer.append_message(m).await.unwrap();
                            assert!(!again.is_created(), "a replay stores nothing");
                            assert_eq!(again.into_inner(), first.clone().into_inner());
                        }
                        acks.push(first.into_inner().id);
                    }
                    acks
                })
            })
            .collect();
        let missing = {
            let store = store.clone();
            tokio::spawn(async move { store.writer.append_message(message("no-such-conversation", "x", &[])).await })
        };
        let mut sent_ids = Vec::new();
        for task in tasks {
            let ids = task.await.unwrap();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids follow the sending order: {ids:?}");
            sent_ids.push(ids);
        }
        assert!(missing.await.unwrap().is_err(), "a message of a missing conversation is refused");

        for (c, ids) in sent_ids.iter().enumerate() {
            let stored: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE conversation_id = ? ORDER BY id")
                .bind(format!("c{c}"))
                .fetch_all(store.pool())
                .await
                .unwrap();
            assert_eq!(&stored, ids, "conversation c{c}: each message stored once, under the id it was told");
        }
        let events = sqlx::query("SELECT endpoint, event_type, body FROM webhook_outbox ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(events.len(), 20, "10 new messages × 2 endpoints, none for replays or other sites");
        for row in &events {
            assert_eq!(row.get::<String, _>("event_type"), event::MESSAGE_CREATED);
            let body: serde_json::Value = serde_json::from_str(&row.get::<String, _>("body")).unwrap();
            assert_eq!(body["data"]["conversation_id"], "c7");
        }
        store.close().await;
    }

    /// An all-new batch takes the one-statement way and gets consecutive ids in batch order; a
    /// batch with a retry in it (of an earlier batch, or twice in itself) falls back to the
    /// lookup, stores each new message once and answers each retry with the stored row.
    #[tokio::test]
    async fn a_batch_with_a_retry_in_it_answers_the_stored_rows() {
        use sqlx::{Connection, Executor};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("chat.db")).await.unwrap();
        let mut conn = store.pool().acquire().await.unwrap().detach();
        for c in ["a", "b"] {
            sqlx::query("INSERT INTO conversations (id, site, first_client_id, token_hash, created_ms) VALUES (?, 'demo', ?, 'h', 0)")
                .bind(c)
                .bind(format!("first-{c}"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn.execute("BEGIN IMMEDIATE").await.unwrap();
        let first =
            insert_batch(&mut conn, &[message("a", "m1", &[]), message("b", "m1", &[]), message("a", "m2", &[])])
                .await
                .unwrap();
        let ids: Vec<i64> = first.iter().map(|s| s.clone().into_inner().id).collect();
        assert!(first.iter().all(Stored::is_created));
        assert_eq!(ids, [ids[0], ids[0] + 1, ids[0] + 2], "consecutive, in batch order");

        let second = insert_batch(
            &mut conn,
            &[message("b", "m2", &[]), message("a", "m1", &[]), message("b", "m2", &[]), message("a", "m3", &[])],
        )
        .await
        .unwrap();
        conn.execute("COMMIT").await.unwrap();
        assert!(second[0].is_created());
        assert_eq!(second[1], Stored::Existing(first[0].clone().into_inner()), "a retry of an earlier batch");
        assert_eq!(second[2], Stored::Existing(second[0].clone().into_inner()), "a retry within the batch");
        assert!(second[3].is_created());
        assert!(second[0].clone().into_inner().id > ids[2]);
        assert!(second[3].clone().into_inner().id > second[0].clone().into_inner().id);

        let stored: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, conversation_id, client_id FROM messages ORDER BY id")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let expected: Vec<(i64, String, String)> = [&first[0], &first[1], &first[2], &second[0], &second[3]]
            .iter()
            .zip([("a", "m1"), ("b", "m1"), ("a", "m2"), ("b", "m2"), ("a", "m3")])
            .map(|(s, (c, m))| ((*s).clone().into_inner().id, c.to_owned(), m.to_owned()))
            .collect();
        assert_eq!(stored, expected, "each message once, under the id it was told");
        conn.close().await.unwrap();
        store.close().await;
    }
}
