//! Chat use cases shared by the visitor's and the operator's routes: storing a message and
//! waking the open streams, and checking a visitor's token for a conversation.

use porchlight_protocol::{Author, ChatMessage, MessageAck};

use crate::app::error::AppError;
use crate::app::events::{LiveEvent, LiveEventKind};
use crate::app::state::AppState;
use crate::domain::webhooks::Outbox;
use crate::domain::{Site, Token, ValidMessage};
use crate::store::Stored;

/// Stores a message and publishes it to open streams, in id order per conversation.
pub async fn post_message(
    state: &AppState,
    site: &Site,
    conversation_id: &str,
    message: &ValidMessage,
    author: Author,
    author_name: Option<&str>,
) -> Result<Stored<MessageAck>, AppError> {
    let lock = state.events().conversation_lock(conversation_id);
    let _serialised = lock.lock().await;
    // A visitor's message to a closed conversation reopens it (history intact, back in the
    // inbox): a trigger on the insert does it (migration 0012), with no read on this path.
    let stored = state
        .store()
        .add_message(conversation_id, message, author, author_name, state.clock().now_ms(), &Outbox::for_site(site))
        .await?;
    if let Stored::Created(ack) = &stored {
        publish_message(state, site, conversation_id, message, author, author_name, ack);
    }
    Ok(stored)
}

pub fn publish_message(
    state: &AppState,
    site: &Site,
    conversation_id: &str,
    message: &ValidMessage,
    author: Author,
    author_name: Option<&str>,
    ack: &MessageAck,
) {
    state.events().publish(LiveEvent {
        site: site.id.as_str().to_owned(),
        conversation_id: conversation_id.to_owned(),
        kind: LiveEventKind::Message(ChatMessage {
            id: ack.id,
            client_id: ack.client_id.clone(),
            author,
            body: message.body.clone(),
            created_ms: ack.created_ms,
            author_name: author_name.map(str::to_owned),
        }),
    });
}

/// The visitor's token opens exactly one conversation of the site.
pub async fn authorize_visitor(
    state: &AppState,
    site: &Site,
    conversation_id: &str,
    token: &Token,
) -> Result<(), AppError> {
    match state.store().check_conversation_token(&site.id, conversation_id, &token.hash()).await? {
        Some(true) => Ok(()),
        // A wrong token answers like an unknown id: ids cannot be tested for existence.
        Some(false) | None => Err(AppError::NotFound),
    }
}
