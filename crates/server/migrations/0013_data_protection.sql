-- Data protection and operations (docs/privacy.md).

-- A webhook delivery still failing this long after its event (or after an admin's retry) stops
-- being retried: dead, kept for an admin to retry or drop.
ALTER TABLE webhook_outbox ADD COLUMN dead_ms INTEGER;
ALTER TABLE webhook_outbox ADD COLUMN revived_ms INTEGER;
DROP INDEX webhook_outbox_due;
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_ms) WHERE delivered_ms IS NULL AND dead_ms IS NULL;
CREATE INDEX webhook_outbox_done ON webhook_outbox (site, delivered_ms) WHERE delivered_ms IS NOT NULL;

-- Who exported or erased a person's data, when, and by which kind of selector: never the
-- selector's value (that would be the personal data itself).
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('export', 'erase', 'visitor_erase')),
    site      TEXT NOT NULL,
    selector  TEXT NOT NULL CHECK (selector IN ('email', 'phone', 'conversation')),
    -- Rows removed (erase) or returned (export).
    rows      INTEGER NOT NULL
);

-- Finding a person, and what is past its retention, without scanning whole tables.
CREATE INDEX callbacks_site_phone ON callbacks (site, phone);
CREATE INDEX callbacks_site_created ON callbacks (site, created_ms);
CREATE INDEX conversations_site_email ON conversations (site, visitor_email COLLATE NOCASE) WHERE visitor_email IS NOT NULL;
CREATE INDEX email_outbox_to ON email_outbox (to_addr COLLATE NOCASE);
CREATE INDEX email_outbox_conversation ON email_outbox (conversation_id) WHERE conversation_id IS NOT NULL;
