-- E-mail: reaching a visitor who left, and alerting operators. Never edit once released.

-- Where the visitor asked the reply to go, in which language, and whether they stopped e-mails.
ALTER TABLE conversations ADD COLUMN visitor_email TEXT;
ALTER TABLE conversations ADD COLUMN visitor_locale TEXT;
ALTER TABLE conversations ADD COLUMN emails_stopped INTEGER NOT NULL DEFAULT 0;
-- Operator replies up to this message id have been e-mailed (one e-mail carries several).
ALTER TABLE conversations ADD COLUMN emailed_up_to INTEGER NOT NULL DEFAULT 0;

-- The durable e-mail outbox (the webhook outbox's pattern): a row per e-mail, sent once.
CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    site            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    -- What makes it the same e-mail: queued twice, sent once.
    dedupe_key      TEXT NOT NULL UNIQUE,
    to_addr         TEXT NOT NULL,
    conversation_id TEXT,
    -- Filled when sent (a reply e-mail is composed at send time, from the replies not yet sent).
    subject         TEXT,
    created_ms      INTEGER NOT NULL,
    send_after_ms   INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    sent_ms         INTEGER,
    -- A permanent failure (the server refused the address, or too many attempts).
    failed_ms       INTEGER,
    last_error      TEXT
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_ms) WHERE sent_ms IS NULL AND failed_ms IS NULL;

-- Server-side secrets made on first start (the key of e-mail stop links).
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
