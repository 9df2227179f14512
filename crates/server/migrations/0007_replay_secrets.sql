-- Security: a repeated create must prove it is the same request from the same visitor.
-- Never edit once released: add a new numbered migration instead.

-- SHA-256 of the widget's create key (NewConversation.create_key). A repeated create gets a
-- token only with the same key; NULL (older widgets) never hands one out again.
ALTER TABLE conversations ADD COLUMN create_key_hash TEXT;
-- SHA-256 of the request body as parsed, stored with its Idempotency-Key: the same key with
-- another body is refused (422 idempotency_key_reused) instead of answering the first receipt.
ALTER TABLE ratings ADD COLUMN request_hash TEXT;
ALTER TABLE callbacks ADD COLUMN request_hash TEXT;
