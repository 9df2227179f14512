-- The promise ledger: every expectation a visitor acted on, and whether it was kept.
-- Never edit once released: add a new numbered migration instead.

CREATE TABLE promises (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    site        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('chat_first_reply', 'callback', 'message_reply')),
    -- The conversation id or the callback reference.
    subject_id  TEXT NOT NULL,
    promised_ms INTEGER NOT NULL,
    due_ms      INTEGER NOT NULL,
    outcome     TEXT CHECK (outcome IN ('kept', 'broken', 'void')),
    -- When the answer came (also after a break: how late it was).
    resolved_ms INTEGER,
    void_reason TEXT,
    -- Who answered (an operator id), for the per-operator view.
    operator_id TEXT,
    UNIQUE (site, kind, subject_id)
);
-- The sweeper's scan for promises that just broke.
CREATE INDEX promises_open_due ON promises (due_ms) WHERE outcome IS NULL;
CREATE INDEX promises_site_promised ON promises (site, promised_ms);
CREATE INDEX promises_subject ON promises (subject_id) WHERE resolved_ms IS NULL;
