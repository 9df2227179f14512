-- A team behind the promise: presence per operator and site, the sites an operator works on,
-- operators' names on their replies.
-- Never edit once released: add a new numbered migration instead.

-- An operator's own choice per site. It counts as "online" only while their console is alive
-- (a heartbeat within the expiry, kept in memory): a closed laptop is away by itself.
CREATE TABLE operator_presence (
    operator_id TEXT NOT NULL,
    site        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('online', 'away')),
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (operator_id, site)
);

-- The sites an operator works on (unless `all_sites`).
CREATE TABLE operator_sites (
    operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    site        TEXT NOT NULL,
    PRIMARY KEY (operator_id, site)
);
ALTER TABLE operators ADD COLUMN all_sites INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operators ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
-- Accounts from before site lists keep seeing every site, as they did.
UPDATE operators SET all_sites = 1;

-- The display name of the operator who wrote a reply, as the visitor saw it.
ALTER TABLE messages ADD COLUMN author_name TEXT;

-- Per-site presence set from the console never expired: such a row is exactly the untrue
-- "online" this migration exists to end. The operator-token API can set it again.
DELETE FROM presence;
