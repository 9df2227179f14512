//! Shared state of the running server: sites, storage, limiter and where the widget lives.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use porchlight_protocol::SiteId;
use sha2::{Digest, Sha256};
use url::Url;

use crate::app::config::{url_base, OperatorToken};
use crate::app::events::{EventBus, InProcessBus};
use crate::app::rate_limit::RateLimiter;
use crate::domain::clock::{Clock, SharedClock};
use crate::domain::origin::Origin;
use crate::domain::Site;
use crate::store::Store;

/// Cheap to clone: one `Arc` around everything.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    sites: HashMap<SiteId, Arc<Site>>,
    /// The site the demo page and the start-up snippet use: `demo` if configured, else the first.
    demo_site: SiteId,
    store: Arc<dyn Store>,
    limiter: RateLimiter,
    assets: PathBuf,
    public_url: Url,
    public_origin: Origin,
    clock: SharedClock,
    /// SHA-256 of the operator token; compared digest to digest so the comparison's timing
    /// says nothing about the token.
    operator_token_hash: Option<[u8; 32]>,
    /// Live chat fan-out.
    events: Arc<dyn EventBus>,
    /// Visitor messages per conversation.
    conversation_limiter: RateLimiter,
    /// Console log-in attempts per client IP.
    login_limiter: RateLimiter,
    /// Typing signals per conversation.
    typing_limiter: RateLimiter,
    /// When each operator's console was last heard from.
    liveness: crate::app::presence::Liveness,
    /// What `/metrics` reports.
    metrics: crate::app::metrics::Metrics,
    /// `[smtp]`, when e-mail is on.
    smtp: Option<crate::app::config::SmtpSettings>,
    /// The key of e-mail stop links, read (or made) once.
    stop_secret: tokio::sync::OnceCell<String>,
}

/// Visitor messages per conversation per minute (a burst of this many, refilled evenly).
pub const CONVERSATION_MESSAGES_PER_MINUTE: u32 = 20;
/// Console log-in attempts per client IP per minute.
pub const LOGINS_PER_MINUTE: u32 = 10;
/// Typing signals per conversation per minute (clients send about one every 2 s while typing).
pub const TYPING_PER_MINUTE: u32 = 60;

impl AppState {
    /// `sites` must not be empty (the server substitutes the built-in demo site before this).
    pub fn new(
        sites: Vec<Site>,
        store: Arc<dyn Store>,
        writes_per_minute: u32,
        assets: PathBuf,
        public_url: Url,
        clock: SharedClock,
        operator_token: Option<&OperatorToken>,
    ) -> AppState {
        let demo_site = sites
            .iter()
            .find(|s| s.id.as_str() == "demo")
            .or(sites.first())
            .map(|s| s.id.clone())
            .expect("at least one site");
        let public_origin = Origin::of_url(&public_url).expect("public_url is http(s), checked in config");
        let metrics = crate::app::metrics::Metrics::new(store.writer_metrics());
        AppState(Arc::new(Inner {
            metrics,
            sites: sites.into_iter().map(|s| (s.id.clone(), Arc::new(s))).collect(),
            demo_site,
            store,
            limiter: RateLimiter::new(writes_per_minute),
            assets,
            public_url,
            public_origin,
            clock,
            operator_token_hash: operator_token.map(|t| Sha256::digest(t.as_str().as_bytes()).into()),
            events: Arc::new(InProcessBus::default()),
            conversation_limiter: RateLimiter::new(CONVERSATION_MESSAGES_PER_MINUTE),
            login_limiter: RateLimiter::new(LOGINS_PER_MINUTE),
            typing_limiter: RateLimiter::new(TYPING_PER_MINUTE),
            liveness: crate::app::presence::Liveness::default(),
            smtp: None,
            stop_secret: tokio::sync::OnceCell::new(),
        }))
    }

    pub fn clock(&self) -> &dyn Clock {
        self.0.clock.as_ref()
    }

    /// True only when an operator token is configured and `presented` is it.
    pub fn is_operator(&self, presented: &str) -> bool {
        let Some(expected) = &self.0.operator_token_hash else {
            return false;
        };
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        crate::domain::same_secret(&presented, &expected[..])
    }

    /// Looks a site up by the raw path segment; an id that does not parse is simply unknown.
    pub fn site(&self, raw_id: &str) -> Option<Arc<Site>> {
        let id = SiteId::parse(raw_id).ok()?;
        self.0.sites.get(&id).cloned()
    }

    pub fn demo_site(&self) -> &SiteId {
        &self.0.demo_site
    }

    pub fn metrics(&self) -> &crate::app::metrics::Metrics {
        &self.0.metrics
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.0.limiter
    }

    pub fn assets(&self) -> &Path {
        &self.0.assets
    }

    /// The public URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub fn public_base(&self) -> String {
        url_base(&self.0.public_url)
    }

    pub fn public_origin(&self) -> &Origin {
        &self.0.public_origin
    }

    pub fn public_url(&self) -> &Url {
        &self.0.public_url
    }

    pub fn events(&self) -> &dyn EventBus {
        self.0.events.as_ref()
    }

    pub fn conversation_limiter(&self) -> &RateLimiter {
        &self.0.conversation_limiter
    }

    pub fn login_limiter(&self) -> &RateLimiter {
        &self.0.login_limiter
    }

    pub fn typing_limiter(&self) -> &RateLimiter {
        &self.0.typing_limiter
    }

    /// Every configured site id, sorted.
    /// The same state with e-mail sent through `smtp` (called once, at start).
    pub fn with_smtp(mut self, smtp: Option<crate::app::config::SmtpSettings>) -> AppState {
        Arc::get_mut(&mut self.0).expect("e-mail is set up before the state is shared").smtp = smtp;
        self
    }

    /// Cached once the store has it: every e-mail and every stop click needs it.
    pub fn stop_secret(&self) -> &tokio::sync::OnceCell<String> {
        &self.0.stop_secret
    }

    pub fn smtp(&self) -> Option<&crate::app::config::SmtpSettings> {
        self.0.smtp.as_ref()
    }

    pub fn liveness(&self) -> &crate::app::presence::Liveness {
        &self.0.liveness
    }

    pub fn site_ids(&self) -> Vec<SiteId> {
        let mut ids: Vec<SiteId> = self.0.sites.keys().cloned().collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids
    }
}
