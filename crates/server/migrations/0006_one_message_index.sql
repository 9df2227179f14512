-- Every stored chat message wrote two index entries, each on its own page of an index spread
-- over all open conversations. The UNIQUE (conversation_id, client_id) index already finds a
-- conversation's messages; the per-author scans that used this one read one conversation at a
-- time, which the remaining index serves.
DROP INDEX messages_conversation_author;
