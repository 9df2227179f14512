//! `/metrics` in the Prometheus text format: requests by route and status with latency
//! histograms, rate-limit refusals, open event streams, the database writer's queue, batch
//! sizes and commit (fsync) time, and the webhook and e-mail backlogs.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::app::state::AppState;
use crate::store::WriterMetrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route's pattern (`/v1/sites/{site}/ratings`), never the path: ids and tokens stay out.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    audience: &'static str,
}

/// Every figure, registered once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    rate_limited: Family<RouteLabels, Counter>,
    streams: Family<StreamLabels, Gauge>,
    webhook_backlog: Gauge,
    webhook_dead: Gauge,
    email_backlog: Gauge,
    email_passes: Counter,
}

impl Metrics {
    /// The e-mail worker finished a pass: whatever was due then has been sent or retried.
    pub fn email_pass(&self) {
        self.email_passes.inc();
    }

    /// Counts one answered request: its latency, its status and, for a 429, a refusal.
    pub fn observe_request(&self, method: String, route: String, status: u16, seconds: f64) {
        let labels = RouteLabels { method, route };
        self.latency.get_or_create(&labels).observe(seconds);
        if status == 429 {
            self.rate_limited.get_or_create(&labels).inc();
        }
        self.requests.get_or_create(&RequestLabels { method: labels.method, route: labels.route, status }).inc();
    }

    pub fn new(writer: WriterMetrics) -> Metrics {
        let mut registry = Registry::with_prefix("porchlight");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_5, 2.0, 14))
        });
        registry.register("http_request_duration_seconds", "Time to the response's head, by route", latency.clone());
        let rate_limited = Family::<RouteLabels, Counter>::default();
        registry.register("rate_limited", "Requests refused with 429, by route", rate_limited.clone());
        let streams = Family::<StreamLabels, Gauge>::default();
        registry.register("sse_streams_open", "Open event streams (visitor chats, consoles)", streams.clone());
        registry.register(
            "db_writer_queue_depth",
            "Writes waiting for the writer at a batch's start",
            writer.queue_depth,
        );
        registry.register("db_batch_size", "Writes committed together per batch", writer.batch_size);
        registry.register("db_commit_seconds", "Time of a batch's COMMIT, mostly the WAL fsync", writer.commit_seconds);
        let webhook_backlog = Gauge::default();
        registry.register("webhook_backlog", "Webhook deliveries still to make", webhook_backlog.clone());
        let webhook_dead = Gauge::default();
        registry.register("webhook_dead", "Webhook deliveries given up on (dead letters)", webhook_dead.clone());
        let email_backlog = Gauge::default();
        registry.register("email_backlog", "E-mails still to send", email_backlog.clone());
        let email_passes = Counter::default();
        registry.register(
            "email_worker_passes",
            "Passes of the e-mail worker over its due outbox (each sends what is due)",
            email_passes.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            rate_limited,
            streams,
            webhook_backlog,
            webhook_dead,
            email_backlog,
            email_passes,
        }
    }

    /// The text exposition, with the gauges read now.
    pub async fn render(&self, state: &AppState) -> Result<String, crate::app::error::AppError> {
        let (visitors, consoles) = state.events().open_streams();
        self.streams.get_or_create(&StreamLabels { audience: "visitor" }).set(visitors as i64);
        self.streams.get_or_create(&StreamLabels { audience: "console" }).set(consoles as i64);
        let (webhooks, dead, emails) = state.store().backlogs().await?;
        self.webhook_backlog.set(webhooks);
        self.webhook_dead.set(dead);
        self.email_backlog.set(emails);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|e| crate::app::error::AppError::Internal(e.to_string()))?;
        Ok(text)
    }
}
