//! Events expire as in kube-apiserver (`--event-ttl`, one hour): an Event
//! whose last occurrence is older than the TTL is deleted, so that they do
//! not pile up in the store for ever.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::store::{Filter, ObjectRef, Preconditions, Store};

/// The times an Event records its last occurrence under, core/v1's and
/// events.k8s.io/v1's; the latest counts.
const OCCURRED_AT: [&str; 5] = [
    "/lastTimestamp",
    "/deprecatedLastTimestamp",
    "/series/lastObservedTime",
    "/eventTime",
    "/metadata/creationTimestamp",
];

/// When `event` last occurred.
fn last_occurred(event: &Value) -> Option<DateTime<Utc>> {
    OCCURRED_AT
        .iter()
        .filter_map(|pointer| event.pointer(pointer)?.as_str())
        .filter_map(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|time| time.with_timezone(&Utc))
        .max()
}

/// Whether `event` is past `ttl` at `now` (pure).
pub(crate) fn expired(event: &Value, ttl: Duration, now: DateTime<Utc>) -> bool {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    last_occurred(event).is_some_and(|at| now - at >= ttl)
}

/// Deletes expired Events of both APIs every `every`, for ever.
pub(crate) async fn expire_events(store: Arc<Store>, ttl: Duration, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let registry = store.registry();
        for (group, version) in [("", "v1"), ("events.k8s.io", "v1")] {
            let Some(rt) = registry.find(group, version, "events") else {
                continue;
            };
            let Ok(page) = store.list(rt, &Filter::default(), None, None) else {
                continue;
            };
            let now = Utc::now();
            let events = page.items.iter().map(ObjectRef::value);
            for event in events.filter(|e| expired(e, ttl, now)) {
                let text = |pointer: &str| {
                    event
                        .pointer(pointer)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                let (Some(name), namespace) = (text("/metadata/name"), text("/metadata/namespace"))
                else {
                    continue;
                };
                // Not one written again since it was read.
                let unchanged = Preconditions {
                    uid: text("/metadata/uid"),
                    resource_version: text("/metadata/resourceVersion"),
                };
                if let Err(error) = store
                    .delete(rt, namespace.as_deref(), &name, &unchanged, false)
                    .await
                {
                    tracing::debug!(%name, ?error, "expired event not deleted");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_expires_from_its_last_occurrence() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let hour = Duration::from_secs(3600);
        let core = |last: &str| json!({"metadata": {"creationTimestamp": "2026-12-04T10:00:00Z"}, "lastTimestamp": last});
        assert!(expired(&core("2026-12-04T10:30:00Z"), hour, now));
        assert!(!expired(&core("2026-12-04T11:30:00Z"), hour, now));
        // events.k8s.io: a series still going on keeps it.
        let series = json!({"eventTime": "2026-12-04T09:00:00.000000Z",
                            "series": {"count": 3, "lastObservedTime": "2026-12-04T11:59:00.000000Z"}});
        assert!(!expired(&series, hour, now));
        assert!(!expired(&json!({}), hour, now), "no time: kept");
    }
}
