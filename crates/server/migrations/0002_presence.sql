-- Operator presence per site, and an index for the availability estimate's history scan.
-- Never edit once released: add a new numbered migration instead.

CREATE TABLE presence (
    site       TEXT PRIMARY KEY NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('online', 'away')),
    updated_ms INTEGER NOT NULL
);

CREATE INDEX conversations_site_created ON conversations (site, created_ms);
CREATE INDEX messages_conversation_author ON messages (conversation_id, author, created_ms);
