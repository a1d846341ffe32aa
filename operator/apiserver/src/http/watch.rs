//! Watch: a chunked stream of newline-delimited JSON events, in
//! resourceVersion order, each sent once it is durable; bookmarks;
//! `timeoutSeconds`; in-stream 410 Expired when the requested version is
//! older than the retained history (kube-runtime then relists).

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_stream::wrappers::ReceiverStream;

use crate::error::ApiError;
use crate::store::{EventType, Filter, LogEvent, ObjectRef};

use super::{App, Query, Target, filter, table, wants_table};

/// kube-apiserver's default: a random time in [30, 60) minutes; we take 30.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Watch {
    target_key: String,
    filter: Filter,
    table: Option<(crate::registry::ResourceType, Query)>,
    api_version: String,
    kind: String,
}

impl Watch {
    /// An event's line: the object as stored, or its table row.
    fn line(&self, kind: &str, object: &ObjectRef) -> Bytes {
        match &self.table {
            Some((rt, query)) => {
                let table = table::table(rt, std::slice::from_ref(object), 0, query);
                event_line(kind, &table.to_string())
            }
            None => event_line(kind, &object.json()),
        }
    }

    /// Whether the event's object is in the filter; parsed only when the
    /// filter looks past the namespace.
    fn selects(&self, event: &LogEvent) -> bool {
        self.filter.selects(&event.namespace, &event.object)
    }

    /// The event this watcher sees for a change, if any: a change that
    /// moves an object into or out of the filter is ADDED or DELETED.
    fn render(&self, event: &LogEvent) -> Option<Bytes> {
        if event.type_key != self.target_key {
            return None;
        }
        let now = event.kind != EventType::Deleted && self.selects(event);
        let before = match event.kind {
            EventType::Added => false,
            EventType::Deleted => self.selects(event),
            EventType::Modified => match &event.old {
                Some(old) => self.filter.matches(&event.namespace, old),
                // What the filter reads did not change.
                None => now,
            },
        };
        let kind = match (before, now) {
            (false, true) if event.kind == EventType::Modified => "ADDED",
            (_, true) => event.kind.as_str(),
            (true, false) => "DELETED",
            (false, false) => return None,
        };
        Some(self.line(kind, &event.object))
    }

    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let mut line = json!({"type": "BOOKMARK", "object": {"kind": self.kind, "apiVersion": self.api_version, "metadata": metadata}}).to_string();
        line.push('\n');
        Bytes::from(line)
    }
}

/// One watch event line: `{"type":..,"object":..}` and a newline.
fn event_line(kind: &str, object_json: &str) -> Bytes {
    let mut line = String::with_capacity(object_json.len() + kind.len() + 30);
    line.push_str("{\"type\":\"");
    line.push_str(kind);
    line.push_str("\",\"object\":");
    line.push_str(object_json);
    line.push_str("}\n");
    Bytes::from(line)
}

fn expired(rv: u64) -> Bytes {
    let status = ApiError::gone(format!("too old resource version: {rv}")).to_status();
    let mut line = json!({"type": "ERROR", "object": status}).to_string();
    line.push('\n');
    Bytes::from(line)
}

pub fn serve(
    app: &App,
    target: &Target,
    headers: &HeaderMap,
    query: &Query,
) -> Result<Response, ApiError> {
    let filter = filter(target, query)?;
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let bookmarks = query.flag("allowWatchBookmarks");
    let send_initial = query.flag("sendInitialEvents");
    let requested = match query.get("resourceVersion") {
        None | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let watch = Watch {
        target_key: target.rt.key(),
        filter,
        table: wants_table(headers).then(|| (target.rt.clone(), Query(query.0.clone()))),
        api_version: target.rt.api_version(),
        kind: target.rt.kind.clone(),
    };
    // Without a version (or with sendInitialEvents) the watch starts with
    // the current state as ADDED events, as kube-apiserver does.
    let initial = match (requested, send_initial) {
        (Some(rv), false) => (Vec::new(), rv),
        _ => {
            let page = app.store.list(&target.rt, &watch.filter, None, None)?;
            (page.items, page.resource_version)
        }
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::convert::Infallible>>(256);
    let store = app.store.clone();
    let bookmark_interval = app.bookmark_interval;
    let watchers = app.metrics.watchers.clone();
    tokio::spawn(async move {
        watchers.inc();
        // Decremented however the stream ends.
        let _open = scopeguard(move || {
            watchers.dec();
        });
        let (objects, mut last) = initial;
        for object in objects {
            if tx.send(Ok(watch.line("ADDED", &object))).await.is_err() {
                return;
            }
        }
        if send_initial && bookmarks && tx.send(Ok(watch.bookmark(last, true))).await.is_err() {
            return;
        }
        let mut committed = store.committed();
        let deadline = Instant::now() + timeout;
        let mut ticker =
            tokio::time::interval_at(Instant::now() + bookmark_interval, bookmark_interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let Some((events, reached)) = store.events_after(&watch.target_key, last) else {
                let _ = tx.send(Ok(expired(last))).await;
                return;
            };
            for event in events {
                if let Some(line) = watch.render(&event)
                    && tx.send(Ok(line)).await.is_err()
                {
                    return;
                }
            }
            // Bookmarks carry the version reached, though no event of the
            // kind came: a watch resumed from it skips nothing.
            last = reached;
            tokio::select! {
                changed = committed.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep_until(deadline) => return,
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(Ok(watch.bookmark(last, false))).await.is_err() {
                        return;
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });
    let mut response = Response::new(Body::from_stream(ReceiverStream::new(rx)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Runs `f` when dropped.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
