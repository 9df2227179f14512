-- Live chat: closing conversations; operator accounts and their console sessions.
-- Never edit once released: add a new numbered migration instead.

-- When an operator closed the conversation (NULL: open).
ALTER TABLE conversations ADD COLUMN closed_ms INTEGER;
CREATE INDEX conversations_site_open ON conversations (site, created_ms) WHERE closed_ms IS NULL;

CREATE TABLE operators (
    id            TEXT PRIMARY KEY NOT NULL,
    -- Lower-cased.
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    -- PHC string of an argon2id hash.
    password_hash TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
);

-- Console sessions. Only the SHA-256 hex of the cookie's random value is stored.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_ms);
