//! The HTTP edge: the router and its routes, extractors, middleware (site guard, rate limit,
//! metrics), the rendering of [`crate::app::error::AppError`] as the protocol's error JSON, and
//! the accept loop. Nothing below this layer imports from it.

pub mod error;
pub mod extract;
pub mod guard;
pub mod middleware;
pub mod net;
pub mod operator;
pub mod respond;
pub mod routes;
pub mod sse;
