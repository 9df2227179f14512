//! The Porchlight reference server: the `/v1` API, the widget's assets and a demo page.
//!
//! `main.rs` is only the command line; everything else is here so tests can start a real server
//! in-process:
//!
//! ```no_run
//! # async fn run() -> Result<(), porchlight_server::StartError> {
//! let settings = porchlight_server::Settings { listen: "127.0.0.1:0".into(), ..Default::default() };
//! let server = porchlight_server::Server::bind(settings).await?;
//! println!("{}", server.banner());
//! server.run(std::future::pending()).await?;
//! # Ok(()) }
//! ```

pub mod app;
pub mod domain;
pub mod http;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use url::Url;

pub use app::config::Settings;
pub use app::state::AppState;
pub use http::routes::app;

use crate::domain::Site;
use crate::store::SqliteStore;

/// How long a shutdown waits for in-flight requests before giving up on them.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("cannot open database {path}: {source}")]
    Database { path: String, source: sqlx::Error },
    #[error("invalid public URL: {0}")]
    PublicUrl(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A bound, ready server. Binding first lets `--listen 127.0.0.1:0` work: the real port is known
/// before URLs and the built-in site's origins are made.
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
    webhook_delivery: domain::webhooks::DeliveryPolicy,
    limits: http::net::ConnectionLimits,
}

impl Server {
    pub async fn bind(settings: Settings) -> Result<Server, StartError> {
        let listener = TcpListener::bind(&settings.listen)
            .await
            .map_err(|source| StartError::Bind { addr: settings.listen.clone(), source })?;
        let local_addr = listener.local_addr()?;
        let port = local_addr.port();
        let public_url = match settings.public_url {
            Some(url) => url,
            None => {
                Url::parse(&format!("http://127.0.0.1:{port}")).map_err(|e| StartError::PublicUrl(e.to_string()))?
            }
        };
        let sites = if settings.sites.is_empty() { vec![Site::builtin_demo(port)] } else { settings.sites };
        // Once at start: which of a site's own texts visitors in a widget language get untranslated.
        let tags: Vec<&str> = app::locales::Language::all().map(|l| l.tag).collect();
        for site in &sites {
            for (text, languages) in site.text_fallbacks(&tags) {
                tracing::info!(site = %site.id, text, languages = %languages.join(","),
                    "no [sites.texts.<lang>] for these languages: visitors get the default text");
            }
        }
        let store = SqliteStore::open(&settings.database)
            .await
            .map_err(|source| StartError::Database { path: settings.database.display().to_string(), source })?;
        let state = AppState::new(
            sites,
            Arc::new(store),
            settings.writes_per_minute,
            settings.assets,
            public_url,
            settings.clock,
            settings.operator_token.as_ref(),
        )
        .with_smtp(settings.smtp);
        Ok(Server { listener, local_addr, state, webhook_delivery: settings.webhook_delivery, limits: settings.limits })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// What `porchlight serve` prints on start; tests and tooling parse the `listening on` line.
    pub fn banner(&self) -> String {
        format!(
            "listening on http://{addr}\nPorchlight is running.\n  Demo page:  http://localhost:{port}/demo\n  Paste this: {snippet}\n",
            addr = self.local_addr,
            port = self.local_addr.port(),
            snippet = http::routes::demo::snippet(&self.state),
        )
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// (up to [`DRAIN_TIMEOUT`]) and closes the database.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let app = app(self.state.clone());
        // Delivers queued webhook events, including those a previous run left undelivered.
        let webhook_worker = app::webhooks::Worker::spawn(self.state.clone(), self.webhook_delivery);
        // Breaks overdue promises as their deadlines pass.
        let sweeper = app::ledger::Sweeper::spawn(self.state.clone());
        // Sends queued e-mails (with `[smtp]`), including those a previous run left unsent.
        let mailer = app::email::Worker::spawn(self.state.clone());
        // Removes personal data past each site's retention.
        let retention = app::privacy::RetentionWorker::spawn(self.state.clone());
        let state = self.state.clone();
        let signal = async move {
            shutdown.await;
            // Event streams never end by themselves: end them so the drain can finish.
            state.events().shut_down();
            tracing::info!("shutting down: draining in-flight requests");
        };
        if !http::net::serve(self.listener, app, self.limits, signal, DRAIN_TIMEOUT).await {
            tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing anyway");
        }
        let result = Ok(());
        webhook_worker.stop().await;
        sweeper.stop().await;
        retention.stop().await;
        if let Some(mailer) = mailer {
            mailer.stop().await;
        }
        self.state.store().close().await;
        tracing::info!("stopped");
        result
    }
}
