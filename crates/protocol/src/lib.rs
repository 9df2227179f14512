//! The Porchlight wire contract: JSON bodies of the `/v1` HTTP API and the messages the loader
//! and the widget frame exchange over `postMessage`.
//!
//! Both the widget (compiled to wasm) and the server import this crate, so a renamed field breaks
//! both sides in one `cargo check`. It depends on serde only: no tokio, sqlx, axum or leptos.
//!
//! Compatibility rule: widgets cached on customers' sites keep talking to newer servers, so new
//! fields are always `Option` / `#[serde(default)]`, and nothing is ever renamed inside `/v1`.
//!
//! Validation lives next to the types so the widget can run the same light checks before sending
//! (and show them in the visitor's language, by [`FieldErrorCode`]) that the server enforces.

/// English text for API clients (field-error messages, parse errors), or `""` in builds without
/// the `messages` feature: the widget shows its own translated words and carries none of these.
macro_rules! text {
    ($s:literal) => {
        if cfg!(feature = "messages") {
            $s
        } else {
            ""
        }
    };
}

/// [`text!`] with `format!` arguments.
macro_rules! message {
    ($($arg:tt)*) => {
        if cfg!(feature = "messages") {
            format!($($arg)*)
        } else {
            String::new()
        }
    };
}

pub mod availability;
pub mod callback;
pub mod chat;
pub mod color;
pub mod console;
pub mod error;
pub mod frame;
pub mod json;
pub mod promise;
pub mod rating;
pub mod site;
pub mod validate;

pub use availability::{
    Availability, AvailabilityState, CallbackExpectation, ChatExpectation, EstimateBasis, MessageExpectation, Presence,
    PresenceStatus, PresenceUpdate,
};
pub use callback::{
    CallbackChange, CallbackFollowUp, CallbackList, CallbackReceipt, CallbackSlot, CallbackSlots, CallbackStatus,
    CallbackStatusUpdate, NewCallback, OperatorCallback,
};
pub use chat::{
    Author, ChatMessage, ContactSaved, ContactUpdate, ConversationCreated, MessageAck, MessageList, NewConversation,
    NewMessage,
};
pub use console::{
    AssignUpdate, Assignee, CannedReplies, CannedReply, ConsoleConversation, ConsoleEvent, ConsolePresenceUpdate,
    ConversationClosed, History, Inbox, InboxItem, NewOperator, OperatorAccess, OperatorAccount, OperatorAccounts,
    OperatorLogin, OperatorMe, PastConversation, PromiseBrokenEvent, Team, TeamMember, TypingEvent,
};
pub use error::{ApiError, ErrorBody, ErrorCode, FieldError, FieldErrorCode, FieldErrors};
pub use promise::{DayPromises, OperatorPromises, PromiseBreak, PromiseKindSummary, PromiseSummary};
pub use rating::{
    DaySummary, NewRating, PageContext, PageSummary, RatingChange, RatingContext, RatingContextKind, RatingReceipt,
    RatingScale, RatingSummary, RatingValue, RecentRating, ValueCount, RECENT_RATINGS,
};
pub use site::{Promises, SiteConfig, SiteId, Theme};

/// Path prefix of every API route.
pub const API_PREFIX: &str = "/v1";

/// Header that carries the client's idempotency key on ratings and callbacks. A replay with the
/// same key returns the original result (200 instead of 201) and stores nothing new.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Largest request body the reference server accepts, in bytes (413 above it).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
