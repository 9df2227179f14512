-- Callback topics, consent and status changes; the durable webhook outbox.
-- Never edit once released: add a new numbered migration instead.

ALTER TABLE callbacks ADD COLUMN topic TEXT;
-- When the visitor consented (NULL: the site asks for no consent).
ALTER TABLE callbacks ADD COLUMN consent_ms INTEGER;
ALTER TABLE callbacks ADD COLUMN updated_ms INTEGER;
CREATE INDEX callbacks_site_status_due ON callbacks (site, status, due_ms);

-- One row per event and endpoint, written in the same transaction as the event's row, so an
-- accepted request always has its webhooks queued. Delivered rows keep `delivered_ms`.
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL,
    site            TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    -- The exact JSON that is signed and posted.
    body            TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    delivered_ms    INTEGER,
    last_error      TEXT,
    UNIQUE (event_id, endpoint)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_ms) WHERE delivered_ms IS NULL;
