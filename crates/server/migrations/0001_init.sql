-- Porchlight schema, version 1. Never edit once released: add a new numbered migration instead.
-- Times are Unix milliseconds (UTC). Tokens are stored only as SHA-256 hex digests.

CREATE TABLE ratings (
    id              TEXT PRIMARY KEY NOT NULL,
    site            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    value           TEXT NOT NULL,
    page_path       TEXT,
    page_title      TEXT,
    comment         TEXT,
    created_ms      INTEGER NOT NULL,
    UNIQUE (site, idempotency_key)
);

CREATE TABLE callbacks (
    id              TEXT PRIMARY KEY NOT NULL,
    site            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    reference       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    -- Normalised: an optional leading '+' and digits only.
    phone           TEXT NOT NULL,
    preferred_ms    INTEGER,
    note            TEXT,
    status          TEXT NOT NULL DEFAULT 'received',
    due_ms          INTEGER NOT NULL,
    token_hash      TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    UNIQUE (site, idempotency_key)
);

-- Honeypot hits are counted, not stored: the bot's data is never kept.
CREATE TABLE spam_drops (
    site       TEXT PRIMARY KEY NOT NULL,
    count      INTEGER NOT NULL DEFAULT 0,
    last_ms    INTEGER NOT NULL
);

CREATE TABLE conversations (
    id              TEXT PRIMARY KEY NOT NULL,
    site            TEXT NOT NULL,
    -- The client id of the opening message: makes starting a conversation idempotent.
    first_client_id TEXT NOT NULL,
    -- Hash of the token issued when the conversation was created.
    token_hash      TEXT NOT NULL,
    page_path       TEXT,
    created_ms      INTEGER NOT NULL,
    UNIQUE (site, first_client_id)
);

-- Further tokens for a conversation: a replayed start (the visitor's first response was lost)
-- gets a fresh token, and earlier ones stay valid so no open tab is locked out.
CREATE TABLE conversation_tokens (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    token_hash      TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, token_hash)
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    author          TEXT NOT NULL CHECK (author IN ('visitor', 'operator')),
    body            TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    UNIQUE (conversation_id, client_id)
);
