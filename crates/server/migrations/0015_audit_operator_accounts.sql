-- The audit log also records changes to operator accounts made from the console (who added,
-- changed or removed which account). SQLite cannot change a CHECK, so the table is rebuilt.
-- Never edit once released: add a new numbered migration instead.
CREATE TABLE audit_log_new (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('export', 'erase', 'visitor_erase',
                                              'operator.add', 'operator.update', 'operator.remove')),
    site      TEXT NOT NULL,
    -- For a person: which kind of selector (never its value). For an account: its id.
    selector  TEXT NOT NULL CHECK (selector IN ('email', 'phone', 'conversation') OR selector LIKE 'operator op\_%' ESCAPE '\'),
    -- Rows removed (erase) or returned (export); 1 for an account change.
    rows      INTEGER NOT NULL
);
INSERT INTO audit_log_new (id, at_ms, actor, action, site, selector, rows)
    SELECT id, at_ms, actor, action, site, selector, rows FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
