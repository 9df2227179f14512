-- What the console shows about the visitor of a conversation (docs/team.md).
ALTER TABLE conversations ADD COLUMN page_title TEXT;
ALTER TABLE conversations ADD COLUMN visitor_time_zone TEXT;
CREATE INDEX ratings_context ON ratings (context_ref) WHERE context_ref IS NOT NULL;
