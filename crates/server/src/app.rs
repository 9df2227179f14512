//! The use cases: what the server does, callable without HTTP. Each takes the [`state::AppState`]
//! (sites, store, clock, event bus) and answers in [`error::AppError`]; the `http` layer above
//! only translates requests into these calls and their results into responses.

pub mod admin;
pub mod assignment;
pub mod callbacks;
pub mod chat;
pub mod config;
pub mod email;
pub mod error;
pub mod events;
pub mod ledger;
pub mod locales;
pub mod metrics;
pub mod operators;
pub mod presence;
pub mod privacy;
pub mod rate_limit;
pub mod state;
pub mod webhooks;
