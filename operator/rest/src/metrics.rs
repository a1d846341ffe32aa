//! Prometheus metrics of the REST API: requests by route, method and
//! status, and their latency.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route's pattern (`/v2/zones/{zone_id}`), not the path: ids
    /// would make a series per object.
    route: String,
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// Request counters and latencies.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    seconds: Family<RouteLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        let mut registry = Registry::with_prefix("designate_api");
        registry.register(
            "requests",
            "REST requests by method, route and status code",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer a REST request",
            seconds.clone(),
        );
        Self {
            registry,
            requests,
            seconds,
        }
    }
}

impl Metrics {
    pub(crate) fn answered(&self, method: &str, route: &str, code: u16, took: Duration) {
        let (method, route) = (method.to_string(), route.to_string());
        self.requests
            .get_or_create(&RequestLabels {
                method: method.clone(),
                route: route.clone(),
                code,
            })
            .inc();
        self.seconds
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    /// The metrics in the Prometheus text format, without the closing `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &self.registry);
        out
    }
}
