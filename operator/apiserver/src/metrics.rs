//! Prometheus metrics of the control plane, served at `/metrics` with
//! kube-apiserver's metric names where one exists.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub verb: String,
    pub resource: String,
    pub code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerbLabels {
    pub verb: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<VerbLabels, Histogram>,
    pub watchers: Gauge,
    pub commits: Counter,
    pub commit_seconds: Histogram,
    pub commit_batch: Histogram,
    extra: Option<crate::ExtraMetrics>,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Family::<VerbLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        let watchers = Gauge::default();
        let commits = Counter::default();
        let commit_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let commit_batch = Histogram::new(exponential_buckets(1.0, 2.0, 13));
        let mut registry = Registry::default();
        registry.register(
            "apiserver_request",
            "Requests by verb, resource and HTTP code",
            requests.clone(),
        );
        registry.register(
            "apiserver_request_duration_seconds",
            "Request latency by verb (watches: time to start streaming)",
            request_seconds.clone(),
        );
        registry.register("apiserver_watchers", "Open watch streams", watchers.clone());
        registry.register(
            "designate_apiserver_storage_commits",
            "SQLite transactions committed",
            commits.clone(),
        );
        registry.register(
            "designate_apiserver_storage_commit_duration_seconds",
            "Latency of one SQLite commit",
            commit_seconds.clone(),
        );
        registry.register(
            "designate_apiserver_storage_commit_writes",
            "Writes grouped into one commit",
            commit_batch.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            watchers,
            commits,
            commit_seconds,
            commit_batch,
            extra: None,
        }
    }
}

impl Metrics {
    pub fn with_extra(extra: Option<crate::ExtraMetrics>) -> Self {
        Self {
            extra,
            ..Self::default()
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &self.registry);
        if let Some(extra) = &self.extra {
            out.push_str(&(extra.0)());
        }
        out.push_str("# EOF\n");
        out
    }
}
