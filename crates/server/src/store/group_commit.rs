//! Group commit: every write transaction runs on one dedicated connection, and the transactions
//! that queue up while one COMMIT is being synced to disk are committed together by the next.
//!
//! With `synchronous = FULL` each COMMIT waits for an fsync of the WAL (about 1.5 ms on the
//! development VM's disk, so at most ~600 commits a second). A write is acknowledged only after
//! the COMMIT that contains it has returned, so batching keeps the promise "a 2xx is on disk"
//! while one fsync covers dozens of requests.
//!
//! How a batch runs, on the writer thread (a batch of chat messages alone skips all of this;
//! see below):
//! 1. `BEGIN IMMEDIATE` when the first request arrives (after any messages queued before it);
//! 2. for each queued request: `SAVEPOINT`, lend the connection to the request's task (a
//!    [`WriteTx`]), and take it back when the request commits or drops it — `RELEASE` keeps its
//!    work (sent together with the next `SAVEPOINT` or the `COMMIT`, to save a round trip),
//!    `ROLLBACK TO` undoes only that request's work, so one failing request never spoils
//!    another's;
//! 3. `COMMIT` once the queue is empty (or the batch is full), then tell every request that
//!    committed whether its work is durable.
//!
//! Chat messages skip the lease: they are queued as data and stored together with one statement
//! ([`super::message_batch`]). The writer gathers queued messages before it opens a
//! transaction: when the batch holds nothing else (nearly always, under chat load), that one
//! `INSERT` runs on its own and SQLite commits it: one round trip to sqlx's thread per batch
//! instead of four. Otherwise (a request among them, a webhook event to queue, a retried
//! message) the messages are stored just before the transaction's COMMIT, in a savepoint.
//!
//! The writer loop runs on a thread of its own (with a one-thread runtime), not as a task on the
//! server's runtime: a batch is a chain of round trips to sqlx's SQLite thread, and each answer
//! wakes the writer. As a task it then waited in the workers' run queue behind every ready
//! request and event stream (at 10,000 messages a second, 40% of a batch's time and up to 16 ms
//! at once), and every message in flight waited with it.
//!
//! A request's queries see the rows of earlier requests of the same batch (same connection), so
//! `INSERT … ON CONFLICT DO NOTHING` idempotency works inside a batch as it does across batches.
//! Readers on other connections see a batch only after its COMMIT, which is also when the first
//! of its requests is answered.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use porchlight_protocol::MessageAck;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Executor};
use tokio::sync::{mpsc, oneshot};

use super::message_batch::{self, MessageAppend};
use super::Stored;

/// At most this many requests share one COMMIT ...
const MAX_BATCH: usize = 256;
/// ... and a batch stops taking new requests after this long, so the first one is not kept
/// waiting behind a long queue.
const MAX_BATCH_TIME: Duration = Duration::from_millis(5);

/// A request for the connection: the writer answers with a lease when it is this request's turn.
type Lend = oneshot::Sender<WriteTx>;

/// Told to a committed request once its batch's COMMIT is done: `Err` carries why it failed.
type Durable = oneshot::Sender<Result<(), String>>;

/// Told to a queued message once its batch's COMMIT is done.
type MessageReply = oneshot::Sender<Result<Stored<MessageAck>, String>>;

/// What waits in the writer's queue.
enum Job {
    /// A request that runs its own statements on the lent connection.
    Lend(Lend),
    /// A chat message, stored together with the batch's other messages.
    Message(MessageAppend, MessageReply),
}

impl Job {
    /// The request behind it gave up waiting (its client went away): nothing to run.
    fn is_abandoned(&self) -> bool {
        match self {
            Job::Lend(lend) => lend.is_closed(),
            Job::Message(_, reply) => reply.is_closed(),
        }
    }
}

enum Outcome {
    Commit(Durable),
    Rollback,
}

struct Returned {
    conn: SqliteConnection,
    outcome: Outcome,
}

/// Asks the writer to finish a WAL checkpoint before its next batch: set by the checkpoint task
/// when its passes cannot catch up with the writer (see `checkpoint_regularly`).
#[derive(Clone, Default)]
pub(crate) struct FinishCheckpoint(Arc<AtomicBool>);

impl FinishCheckpoint {
    pub(crate) fn request(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// True once per request. A plain load first: the flag is almost always clear, and a swap
    /// would write its cache line on every batch.
    fn take(&self) -> bool {
        self.0.load(Ordering::Relaxed) && self.0.swap(false, Ordering::AcqRel)
    }
}

/// What the writer reports to `/metrics`: shared handles, updated by the writer thread.
#[derive(Clone)]
pub struct WriterMetrics {
    /// Requests waiting for the writer, as seen when a batch starts.
    pub queue_depth: prometheus_client::metrics::gauge::Gauge,
    /// Requests (and chat messages) per committed batch.
    pub batch_size: prometheus_client::metrics::histogram::Histogram,
    /// The COMMIT's duration, which is mostly the WAL's fsync.
    pub commit_seconds: prometheus_client::metrics::histogram::Histogram,
}

impl Default for WriterMetrics {
    fn default() -> Self {
        use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
        WriterMetrics {
            queue_depth: Default::default(),
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            commit_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 14)),
        }
    }
}

/// The one writer of the database. Cheap to share behind the store.
pub(crate) struct GroupCommit {
    pub(crate) metrics: WriterMetrics,
    requests: mpsc::UnboundedSender<Job>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    /// Resolves when the writer thread has closed the connection (an error if it panicked).
    finished: Mutex<Option<oneshot::Receiver<()>>>,
}

impl GroupCommit {
    /// Opens the writer's connection and starts its thread. When `finish_checkpoint` is
    /// requested, the writer runs a checkpoint before its next batch.
    pub(crate) async fn start(
        options: SqliteConnectOptions,
        finish_checkpoint: FinishCheckpoint,
    ) -> Result<GroupCommit, sqlx::Error> {
        let conn = options.connect().await?;
        let (requests, queue) = mpsc::unbounded_channel();
        let (shutdown, stop) = oneshot::channel();
        let (finished_tx, finished) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let metrics = WriterMetrics::default();
        let reported = metrics.clone();
        std::thread::Builder::new().name("porchlight-db-writer".into()).spawn(move || {
            runtime.block_on(writer(options, conn, queue, stop, &finish_checkpoint, &reported));
            let _ = finished_tx.send(());
        })?;
        Ok(GroupCommit {
            metrics,
            requests,
            shutdown: Mutex::new(Some(shutdown)),
            finished: Mutex::new(Some(finished)),
        })
    }

    /// Waits for this request's turn on the writer connection. The transaction is already open:
    /// run the queries on `&mut *tx`, then [`WriteTx::commit`]; dropping it rolls back.
    pub(crate) async fn begin(&self) -> Result<WriteTx, sqlx::Error> {
        let (lend, lease) = oneshot::channel();
        self.requests.send(Job::Lend(lend)).map_err(|_| sqlx::Error::PoolClosed)?;
        lease.await.map_err(|_| sqlx::Error::PoolClosed)
    }

    /// Stores a chat message in the next batch; returns once it is durable.
    pub(crate) async fn append_message(&self, message: MessageAppend) -> Result<Stored<MessageAck>, sqlx::Error> {
        let (reply, stored) = oneshot::channel();
        self.requests.send(Job::Message(message, reply)).map_err(|_| sqlx::Error::PoolClosed)?;
        match stored.await {
            Ok(Ok(stored)) => Ok(stored),
            Ok(Err(why)) => Err(sqlx::Error::Protocol(format!("storing a message failed: {why}"))),
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
    }

    /// Finishes every queued request, commits, and closes the connection. Later writes fail with
    /// `PoolClosed`.
    pub(crate) async fn close(&self) {
        if let Some(shutdown) = self.shutdown.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = shutdown.send(());
        }
        let finished = self.finished.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(finished) = finished {
            if finished.await.is_err() {
                tracing::error!("database writer thread failed");
            }
        }
    }
}

/// One request's share of a batch: derefs to the connection, inside a savepoint.
pub struct WriteTx {
    conn: Option<SqliteConnection>,
    back: Option<oneshot::Sender<Returned>>,
}

impl WriteTx {
    /// Keeps this request's work and waits until the batch's COMMIT has made it durable.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let (durable, done) = oneshot::channel();
        self.give_back(Outcome::Commit(durable));
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(sqlx::Error::Protocol(format!("group commit failed: {why}"))),
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
    }

    /// Undoes this request's work (as dropping it does).
    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        self.give_back(Outcome::Rollback);
        Ok(())
    }

    fn give_back(&mut self, outcome: Outcome) {
        if let (Some(conn), Some(back)) = (self.conn.take(), self.back.take()) {
            // The writer is waiting on this channel for as long as a lease is out.
            let _ = back.send(Returned { conn, outcome });
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        self.give_back(Outcome::Rollback);
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().expect("a lease holds the connection until it is given back")
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("a lease holds the connection until it is given back")
    }
}

/// Boxed with an explicit lifetime: sqlx's `Executor` is implemented per lifetime, and an
/// `async fn` here makes the spawned writer's future fail the higher-ranked `Send` check.
fn exec<'c>(conn: &'c mut SqliteConnection, sql: &'static str) -> BoxFuture<'c, Result<(), sqlx::Error>> {
    Box::pin(async move { conn.execute(sql).await.map(|_| ()) })
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

async fn writer(
    options: SqliteConnectOptions,
    mut conn: SqliteConnection,
    mut queue: mpsc::UnboundedReceiver<Job>,
    mut stop: oneshot::Receiver<()>,
    finish_checkpoint: &FinishCheckpoint,
    metrics: &WriterMetrics,
) {
    let mut stopping = false;
    loop {
        let first = if stopping {
            queue.recv().await
        } else {
            tokio::select! {
                biased;
                job = queue.recv() => job,
                _ = &mut stop => {
                    // No new requests; the ones already queued still run.
                    stopping = true;
                    queue.close();
                    continue;
                }
            }
        };
        let Some(first) = first else { break };
        if first.is_abandoned() {
            continue;
        }
        metrics.queue_depth.set(queue.len() as i64);
        if finish_checkpoint.take() {
            // The checkpoint task copied most of the WAL while batches went on; what they
            // committed meanwhile is copied here, between two batches, so that the next
            // transaction starts the WAL over instead of growing it.
            if let Err(e) = exec(&mut conn, super::CHECKPOINT_PASS).await {
                tracing::warn!(error = %e, "finishing a WAL checkpoint failed");
            }
        }
        // Messages gather first, with no transaction open: a batch of messages alone (nearly
        // every batch under chat load) is stored and committed by one statement.
        let started = Instant::now();
        let mut messages = Messages::default();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            let Job::Message(message, reply) = job else {
                next = Some(job);
                break;
            };
            messages.push(message, reply);
            if messages.len() < MAX_BATCH && started.elapsed() < MAX_BATCH_TIME {
                next = queue.try_recv().ok();
            }
        }
        if next.is_none() {
            if messages.is_empty() {
                continue;
            }
            let committing = Instant::now();
            if let Some(stored) = message_batch::insert_and_commit(&mut conn, &messages.rows).await {
                metrics.commit_seconds.observe(committing.elapsed().as_secs_f64());
                metrics.batch_size.observe(messages.len() as f64);
                for (reply, stored) in messages.replies.into_iter().zip(stored) {
                    let _ = reply.send(Ok(stored));
                }
                continue;
            }
        }
        conn = run_batch(&options, conn, &mut queue, next, messages, started, metrics).await;
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the database writer connection");
    }
}

/// The messages of a batch, each with whom to tell how it went.
#[derive(Default)]
struct Messages {
    rows: Vec<MessageAppend>,
    replies: Vec<MessageReply>,
}

impl Messages {
    /// Adds a message unless its request gave up waiting.
    fn push(&mut self, message: MessageAppend, reply: MessageReply) {
        if !reply.is_closed() {
            self.rows.push(message);
            self.replies.push(reply);
        }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One batch in a transaction: `first` (the request that ended the gathering of messages, if
/// any) and whatever else is queued, then `messages` and those queued meanwhile, then COMMIT.
/// Gives the connection back (a fresh one if it broke).
async fn run_batch(
    options: &SqliteConnectOptions,
    mut conn: SqliteConnection,
    queue: &mut mpsc::UnboundedReceiver<Job>,
    first: Option<Job>,
    mut messages: Messages,
    started: Instant,
    metrics: &WriterMetrics,
) -> SqliteConnection {
    if let Err(e) = exec(&mut conn, "BEGIN IMMEDIATE").await {
        // Dropping the batch fails its requests. The connection may be broken: reopen it.
        tracing::error!(error = %e, "cannot begin a write transaction");
        drop((first, messages));
        return match options.connect().await {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::error!(error = %e, "cannot reopen the database writer connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                conn
            }
        };
    }
    let mut durable: Vec<Durable> = Vec::new();
    let mut next = first;
    let mut broken: Option<String> = None;
    // The last request's savepoint, still to be released: its RELEASE rides along with the
    // next request's SAVEPOINT or with the COMMIT, one round trip to the connection's thread
    // instead of two (each is a thread hand-off, the writer's main cost).
    let mut unreleased = false;
    while let Some(job) = next.take() {
        match job {
            Job::Message(message, reply) => messages.push(message, reply),
            Job::Lend(lend) => match lend_one(conn, lend, unreleased).await {
                Ok((back, step)) => {
                    conn = back;
                    unreleased = step.unreleased;
                    durable.extend(step.durable);
                }
                Err((back, why, outcome)) => {
                    conn = back;
                    durable.extend(outcome);
                    broken = Some(why);
                    break;
                }
            },
        }
        if durable.len() + messages.len() < MAX_BATCH && started.elapsed() < MAX_BATCH_TIME {
            next = queue.try_recv().ok();
        }
    }
    let Messages { rows, replies } = messages;
    let mut outcomes = Vec::new();
    // The messages' savepoint, released together with the COMMIT.
    let mut messages_open = false;
    if broken.is_none() && !rows.is_empty() {
        match store_messages(&mut conn, &rows, unreleased).await {
            Ok(stored) => {
                outcomes = stored;
                unreleased = false;
                messages_open = true;
            }
            Err(why) => broken = Some(why),
        }
    }
    let commit = match (unreleased, messages_open) {
        (true, _) => "RELEASE request; COMMIT",
        (false, true) => "RELEASE messages; COMMIT",
        (false, false) => "COMMIT",
    };
    let committing = Instant::now();
    let result = match broken {
        Some(why) => Err(why),
        None => exec(&mut conn, commit).await.map_err(|e| e.to_string()),
    };
    if result.is_ok() {
        metrics.commit_seconds.observe(committing.elapsed().as_secs_f64());
        metrics.batch_size.observe((durable.len() + replies.len()) as f64);
    }
    if let Err(why) = &result {
        tracing::error!(error = %why, requests = durable.len() + replies.len(), "write batch failed; rolled back");
        let _ = exec(&mut conn, "ROLLBACK").await;
    }
    for d in durable {
        let _ = d.send(result.clone());
    }
    // A failed batch fails every message, whatever its own outcome was; otherwise each
    // message has its outcome, in order.
    let mut outcomes = outcomes.into_iter();
    for reply in replies {
        let outcome = result.clone().and_then(|()| outcomes.next().unwrap_or_else(|| Err("not stored".into())));
        let _ = reply.send(outcome);
    }
    conn
}

/// Stores the batch's messages in one savepoint with one multi-row INSERT. If that statement
/// fails, the messages are tried one at a time, each in its own savepoint, so one bad message
/// (say, of a conversation that is gone) fails alone. Releases the previous request's savepoint
/// first if `unreleased`; leaves the savepoint `messages` open, for the COMMIT to release in the
/// same round trip. `Err` when the transaction itself is broken.
async fn store_messages(
    conn: &mut SqliteConnection,
    rows: &[MessageAppend],
    unreleased: bool,
) -> Result<Vec<Result<Stored<MessageAck>, String>>, String> {
    let open = if unreleased { "RELEASE request; SAVEPOINT messages" } else { "SAVEPOINT messages" };
    exec(conn, open).await.map_err(|e| e.to_string())?;
    let outcomes = match message_batch::insert_batch(conn, rows).await {
        Ok(all) => all.into_iter().map(Ok).collect(),
        Err(batch_error) => {
            tracing::warn!(error = %batch_error, messages = rows.len(), "message batch failed; storing one by one");
            exec(conn, "ROLLBACK TO messages").await.map_err(|e| e.to_string())?;
            let mut one_by_one = Vec::with_capacity(rows.len());
            for row in rows {
                exec(conn, "SAVEPOINT message").await.map_err(|e| e.to_string())?;
                let outcome = message_batch::insert_batch(conn, std::slice::from_ref(row)).await;
                let close = if outcome.is_ok() { "RELEASE message" } else { "ROLLBACK TO message; RELEASE message" };
                exec(conn, close).await.map_err(|e| e.to_string())?;
                one_by_one.push(outcome.map(|mut one| one.remove(0)).map_err(|e| e.to_string()));
            }
            one_by_one
        }
    };
    Ok(outcomes)
}

/// What running one request left behind.
struct Step {
    /// The request committed: told once the batch's COMMIT is done.
    durable: Option<Durable>,
    /// Its savepoint is still open (kept work, RELEASE not yet sent).
    unreleased: bool,
}

/// Runs one request inside a savepoint, first releasing the previous request's savepoint if
/// `unreleased`. `Ok` with what is left to do; `Err` when the transaction itself is broken (the
/// whole batch must roll back).
#[allow(clippy::type_complexity)]
async fn lend_one(
    mut conn: SqliteConnection,
    lend: Lend,
    unreleased: bool,
) -> Result<(SqliteConnection, Step), (SqliteConnection, String, Option<Durable>)> {
    if lend.is_closed() {
        return Ok((conn, Step { durable: None, unreleased }));
    }
    let open = if unreleased { "RELEASE request; SAVEPOINT request" } else { "SAVEPOINT request" };
    if let Err(e) = exec(&mut conn, open).await {
        return Err((conn, e.to_string(), None));
    }
    let (back, returned) = oneshot::channel();
    let lease = WriteTx { conn: Some(conn), back: Some(back) };
    if let Err(mut lease) = lend.send(lease) {
        // The request gave up waiting (its client went away): nothing ran.
        let conn = lease.conn.take().expect("unsent lease still holds the connection");
        lease.back = None;
        return Ok((conn, Step { durable: None, unreleased: true }));
    }
    let Returned { conn, outcome } = returned.await.expect("a lease always gives the connection back");
    match outcome {
        Outcome::Commit(d) => Ok((conn, Step { durable: Some(d), unreleased: true })),
        Outcome::Rollback => release(conn, "ROLLBACK TO request; RELEASE request", None)
            .await
            .map(|(conn, durable)| (conn, Step { durable, unreleased: false })),
    }
}

#[allow(clippy::type_complexity)]
async fn release(
    mut conn: SqliteConnection,
    sql: &'static str,
    durable: Option<Durable>,
) -> Result<(SqliteConnection, Option<Durable>), (SqliteConnection, String, Option<Durable>)> {
    match exec(&mut conn, sql).await {
        Ok(()) => Ok((conn, durable)),
        Err(e) => Err((conn, e.to_string(), durable)),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::Row;

    use super::*;

    /// A WAL database file `name` in `dir`, with foreign keys enforced.
    fn database(dir: &tempfile::TempDir, name: &str) -> SqliteConnectOptions {
        SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.path().join(name).display()))
            .unwrap()
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .foreign_keys(true)
    }

    /// The migrated schema with one conversation, `c`, to write messages to.
    async fn with_conversation(options: &SqliteConnectOptions) -> SqliteConnection {
        let mut conn = options.connect().await.unwrap();
        sqlx::migrate!("./migrations").run(&mut conn).await.unwrap();
        conn.execute("INSERT INTO conversations (id, site, first_client_id, token_hash, created_ms) VALUES ('c', 'demo', 'f', 'h', 0)")
            .await
            .unwrap();
        conn
    }

    /// A visitor message.
    fn message(conversation: &str, client_id: &str) -> MessageAppend {
        MessageAppend {
            conversation_id: conversation.into(),
            client_id: client_id.into(),
            author: "visitor",
            author_name: None,
            body: "hi".into(),
            created_ms: 5,
            outbox: Default::default(),
        }
    }

    /// Many requests in flight at once share batches; those that roll back (or give up) leave no
    /// trace, the others are all there, and each committed request was told it is durable.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rollback_in_a_batch_undoes_only_that_request() {
        let dir = tempfile::tempdir().unwrap();
        let options = database(&dir, "t.db");
        let writer = std::sync::Arc::new(GroupCommit::start(options.clone(), Default::default()).await.unwrap());
        let mut tx = writer.begin().await.unwrap();
        tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)").await.unwrap();
        tx.commit().await.unwrap();

        let tasks: Vec<_> = (0..300i64)
            .map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    let mut tx = writer.begin().await.unwrap();
                    sqlx::query("INSERT INTO t (n) VALUES (?)").bind(n).execute(&mut *tx).await.unwrap();
                    match n % 3 {
                        0 => tx.rollback().await.unwrap(),
                        1 => drop(tx),
                        _ => tx.commit().await.unwrap(),
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        writer.close().await;

        let mut conn = options.connect().await.unwrap();
        let rows = sqlx::query("SELECT n FROM t ORDER BY n").fetch_all(&mut conn).await.unwrap();
        let stored: Vec<i64> = rows.iter().map(|r| r.get("n")).collect();
        let expected: Vec<i64> = (0..300).filter(|n| n % 3 == 2).collect();
        assert_eq!(stored, expected);
    }

    /// When the batch's one INSERT fails, the messages are stored one by one: the bad one fails
    /// alone, the good ones before and after it are stored and answered.
    #[tokio::test]
    async fn a_message_batch_that_fails_is_retried_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = with_conversation(&database(&dir, "m.db")).await;
        let batch = [message("c", "a"), message("gone", "b"), message("c", "c")];
        conn.execute("BEGIN IMMEDIATE").await.unwrap();
        let outcomes = store_messages(&mut conn, &batch, false).await.unwrap();
        conn.execute("RELEASE messages; COMMIT").await.unwrap();
        assert!(matches!(&outcomes[0], Ok(Stored::Created(ack)) if ack.client_id == "a"));
        assert!(outcomes[1].as_ref().is_err_and(|e| e.contains("FOREIGN KEY")), "{:?}", outcomes[1]);
        assert!(matches!(&outcomes[2], Ok(Stored::Created(ack)) if ack.client_id == "c"));
        let stored: Vec<String> =
            sqlx::query_scalar("SELECT client_id FROM messages ORDER BY id").fetch_all(&mut conn).await.unwrap();
        assert_eq!(stored, ["a", "c"]);
    }

    /// Through the writer: messages queued together (the one-statement path, which the bad one
    /// makes fail as a whole) are each answered: the bad one with its error, the others stored
    /// once; a replay of a stored one answers its row.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_message_among_queued_ones_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let options = database(&dir, "w.db");
        let mut conn = with_conversation(&options).await;
        let writer = std::sync::Arc::new(GroupCommit::start(options, Default::default()).await.unwrap());
        let mut first_id = None;
        for round in 0..20 {
            let sends: Vec<_> = (0..30)
                .map(|n| {
                    let conversation = if n == 15 { "gone" } else { "c" };
                    let writer = writer.clone();
                    let append = message(conversation, &format!("{round:02}-{n:02}"));
                    tokio::spawn(async move { writer.append_message(append).await })
                })
                .collect();
            for (n, send) in sends.into_iter().enumerate() {
                let outcome = send.await.unwrap();
                if n == 15 {
                    assert!(outcome.is_err_and(|e| e.to_string().contains("FOREIGN KEY")));
                } else {
                    let Ok(Stored::Created(ack)) = outcome else { panic!("{round}-{n}: {outcome:?}") };
                    first_id = first_id.or(Some(ack.id));
                }
            }
        }
        let replay = writer.append_message(message("c", "00-00")).await.unwrap();
        assert!(matches!(replay, Stored::Existing(ref ack) if Some(ack.id) == first_id), "{replay:?}");
        writer.close().await;

        let stored: Vec<String> =
            sqlx::query_scalar("SELECT client_id FROM messages ORDER BY id").fetch_all(&mut conn).await.unwrap();
        let expected: Vec<String> =
            (0..20).flat_map(|round| (0..30).filter(|&n| n != 15).map(move |n| format!("{round:02}-{n:02}"))).collect();
        let mut sorted = stored.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "each good message once");
        assert_eq!(stored.len(), 20 * 29);
    }
}
