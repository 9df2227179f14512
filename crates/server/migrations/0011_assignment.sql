-- Assignment: who works on an open conversation, and how many chats an operator takes at once.
-- Never edit once released: add a new numbered migration instead.

ALTER TABLE conversations ADD COLUMN assignee TEXT;
ALTER TABLE operators ADD COLUMN capacity INTEGER NOT NULL DEFAULT 3;
CREATE INDEX conversations_assignee_open ON conversations (assignee) WHERE closed_ms IS NULL;
