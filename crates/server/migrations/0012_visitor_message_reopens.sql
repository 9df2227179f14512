-- A visitor's message to a closed conversation reopens it, in the same statement that stores
-- the message: no read before every message on the chat's hot path.
-- Never edit once released: add a new numbered migration instead.
CREATE TRIGGER messages_visitor_reopens AFTER INSERT ON messages
WHEN NEW.author = 'visitor'
BEGIN
    UPDATE conversations SET closed_ms = NULL WHERE id = NEW.conversation_id AND closed_ms IS NOT NULL;
END;
