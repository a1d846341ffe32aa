//! Prometheus metrics of the controllers.

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    controller: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: &'static str,
}

/// How a reconcile ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing changed: inputs matched what is published and shown.
    Unchanged,
    /// Storage was changed (a zone change published, a pool stored).
    Published,
    /// Only statuses were written.
    StatusOnly,
    /// A cleanup ran (finalizer).
    Cleanup,
    /// The reconcile failed and will be retried.
    Failed,
}

impl Outcome {
    const fn label(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Published => "published",
            Self::StatusOnly => "status_only",
            Self::Cleanup => "cleanup",
            Self::Failed => "failed",
        }
    }
}

/// The controllers' counters and latencies.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ReconcileLabels, Counter>,
    reconcile_seconds: Family<ControllerLabels, Histogram>,
    api_writes: Family<ControllerLabels, Counter>,
    waiting: Family<ControllerLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let reconcile_seconds = Family::<ControllerLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        let api_writes = Family::<ControllerLabels, Counter>::default();
        let waiting = Family::<ControllerLabels, Gauge>::default();
        let mut registry = Registry::with_prefix("designate_controller");
        registry.register(
            "reconciles",
            "Reconciles by controller and outcome",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time of one reconcile",
            reconcile_seconds.clone(),
        );
        registry.register(
            "api_writes",
            "Writes to the Kubernetes API (statuses, deletes) by controller",
            api_writes.clone(),
        );
        registry.register(
            "waiting",
            "Requests waiting for a controller to take them",
            waiting.clone(),
        );
        Self {
            registry,
            reconciles,
            reconcile_seconds,
            api_writes,
            waiting,
        }
    }
}

impl Metrics {
    pub(crate) fn reconciled(&self, controller: &'static str, outcome: Outcome, started: Instant) {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                controller,
                outcome: outcome.label(),
            })
            .inc();
        if outcome != Outcome::Failed {
            self.reconcile_seconds
                .get_or_create(&ControllerLabels { controller })
                .observe(started.elapsed().as_secs_f64());
        }
    }

    pub(crate) fn wrote(&self, controller: &'static str) {
        self.api_writes
            .get_or_create(&ControllerLabels { controller })
            .inc();
    }

    /// Reconciles of `controller` that ended with `outcome` so far.
    pub fn reconciles(&self, controller: &'static str, outcome: Outcome) -> u64 {
        let labels = ReconcileLabels {
            controller,
            outcome: outcome.label(),
        };
        self.reconciles.get_or_create(&labels).get()
    }

    /// The gauge of `controller`'s waiting requests.
    pub(crate) fn waiting(&self, controller: &'static str) -> Gauge {
        self.waiting
            .get_or_create(&ControllerLabels { controller })
            .clone()
    }

    /// Kubernetes API writes of `controller` so far.
    pub fn api_writes(&self, controller: &'static str) -> u64 {
        self.api_writes
            .get_or_create(&ControllerLabels { controller })
            .get()
    }

    /// The metrics in the Prometheus text format, without the closing `# EOF`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut out, &self.registry);
        out
    }
}
