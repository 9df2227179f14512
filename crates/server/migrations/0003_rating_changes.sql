-- Ratings can be changed or undone within a window, and say what they rate.
-- Never edit once released: add a new numbered migration instead.

-- SHA-256 hex of the change token handed out with the first receipt (NULL for older rows:
-- they cannot be changed).
ALTER TABLE ratings ADD COLUMN token_hash TEXT;
-- Until when the rating may be changed or undone (the site's window at creation).
ALTER TABLE ratings ADD COLUMN changeable_until_ms INTEGER;
ALTER TABLE ratings ADD COLUMN updated_ms INTEGER;
-- Undo is a soft delete: the row stays so a replayed create cannot bring it back, but
-- summaries and exports leave it out.
ALTER TABLE ratings ADD COLUMN undone_ms INTEGER;
ALTER TABLE ratings ADD COLUMN context_kind TEXT NOT NULL DEFAULT 'standalone'
    CHECK (context_kind IN ('standalone', 'chat', 'callback'));
ALTER TABLE ratings ADD COLUMN context_ref TEXT;

CREATE INDEX ratings_site_created ON ratings (site, created_ms);
