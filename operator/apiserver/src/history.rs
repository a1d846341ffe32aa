//! Watch history: each kind's recent events, kept by a byte budget of its
//! own, so that a burst of writes to one kind does not expire the watches
//! of every other kind. A watch resuming from a version older than its
//! kind's history gets 410 Expired and relists, as from kube-apiserver.
//! As kube-apiserver's watch cache, it keeps what a watcher resuming
//! within [`FRESH`] needs, and of older events only the last
//! [`KEPT_ANYWAY`]: after a bulk load, the load's events do not stay in
//! memory for ever.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::store::LogEvent;

/// How long an event is kept at least (within the byte budget):
/// kube-apiserver's `eventFreshDuration`.
const FRESH: Duration = Duration::from_secs(75);
/// Events of a kind kept however old (kube-apiserver's lower bound of a
/// watch cache).
const KEPT_ANYWAY: usize = 100;

#[derive(Debug, Default)]
struct KindLog {
    /// Each event with its size in bytes and when it was logged.
    events: VecDeque<(Arc<LogEvent>, usize, Instant)>,
    bytes: usize,
    /// Every event of the kind after this resourceVersion is in `events`.
    horizon: u64,
}

impl KindLog {
    fn drop_oldest(&mut self) {
        if let Some((dropped, size, _)) = self.events.pop_front() {
            self.bytes -= size;
            self.horizon = dropped.resource_version;
        }
    }

    fn drop_stale(&mut self, now: Instant) {
        while self.events.len() > KEPT_ANYWAY
            && self
                .events
                .front()
                .is_some_and(|(_, _, at)| now.duration_since(*at) > FRESH)
        {
            self.drop_oldest();
        }
        // What a burst grew is given back once it is over.
        if self.events.capacity() > 4 * self.events.len().max(KEPT_ANYWAY) {
            self.events.shrink_to(2 * self.events.len());
        }
    }
}

#[derive(Debug)]
pub struct History {
    kinds: HashMap<String, KindLog>,
    /// Bytes of objects each kind keeps (at least its latest event).
    budget: usize,
    /// The resourceVersion the history starts at (the store's, when opened).
    start: u64,
}

impl History {
    pub fn new(budget: usize, start: u64) -> Self {
        Self {
            kinds: HashMap::new(),
            budget,
            start,
        }
    }

    /// Appends an event of `size` bytes logged `now`, dropping the kind's
    /// oldest ones past the budget, or stale.
    pub fn push(&mut self, event: Arc<LogEvent>, size: usize, now: Instant) {
        let start = self.start;
        let log = self
            .kinds
            .entry(event.type_key.clone())
            .or_insert_with(|| KindLog {
                horizon: start,
                ..KindLog::default()
            });
        log.bytes += size;
        log.events.push_back((event, size, now));
        while log.bytes > self.budget && log.events.len() > 1 {
            log.drop_oldest();
        }
        log.drop_stale(now);
    }

    /// Drops every kind's stale events: a kind written no more keeps only
    /// its last ones.
    pub fn expire(&mut self, now: Instant) {
        for log in self.kinds.values_mut() {
            log.drop_stale(now);
        }
    }

    /// The kind's events after `after` up to `upto`; `None` when `after`
    /// is older than the kind's history.
    pub fn after(&self, type_key: &str, after: u64, upto: u64) -> Option<Vec<Arc<LogEvent>>> {
        let Some(log) = self.kinds.get(type_key) else {
            return (after >= self.start).then(Vec::new);
        };
        if after < log.horizon {
            return None;
        }
        let first = log
            .events
            .partition_point(|(e, _, _)| e.resource_version <= after);
        Some(
            log.events
                .range(first..)
                .map(|(e, _, _)| e)
                .take_while(|e| e.resource_version <= upto)
                .cloned()
                .collect(),
        )
    }

    /// Forgets the events after `rv`: their writes were undone.
    pub fn truncate_after(&mut self, rv: u64) {
        for log in self.kinds.values_mut() {
            while log
                .events
                .back()
                .is_some_and(|(e, _, _)| e.resource_version > rv)
            {
                if let Some((_, size, _)) = log.events.pop_back() {
                    log.bytes -= size;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::EventType;

    fn event(type_key: &str, rv: u64) -> Arc<LogEvent> {
        Arc::new(LogEvent {
            resource_version: rv,
            type_key: type_key.into(),
            namespace: String::new(),
            kind: EventType::Added,
            object: crate::store::ObjectRef::new(&json!({})),
            old: None,
        })
    }

    fn versions(events: Option<Vec<Arc<LogEvent>>>) -> Option<Vec<u64>> {
        events.map(|e| e.iter().map(|e| e.resource_version).collect())
    }

    #[test]
    fn a_burst_on_one_kind_expires_only_its_own_watches() {
        let mut history = History::new(300, 10);
        let now = Instant::now();
        history.push(event("zones", 11), 100, now);
        for rv in 12..40 {
            history.push(event("configmaps", rv), 100, now);
        }
        assert_eq!(versions(history.after("zones", 10, 39)), Some(vec![11]));
        assert_eq!(
            versions(history.after("configmaps", 36, 39)),
            Some(vec![37, 38, 39])
        );
        assert!(
            history.after("configmaps", 35, 39).is_none(),
            "older than its history"
        );
        assert_eq!(versions(history.after("leases", 10, 39)), Some(vec![]));
        assert!(
            history.after("leases", 9, 39).is_none(),
            "before the store opened"
        );
        assert_eq!(
            versions(history.after("configmaps", 36, 38)),
            Some(vec![37, 38])
        );
    }

    #[test]
    fn undone_events_are_forgotten() {
        let mut history = History::new(1000, 0);
        for rv in 1..=4 {
            history.push(event("zones", rv), 10, Instant::now());
        }
        history.truncate_after(2);
        assert_eq!(versions(history.after("zones", 0, 10)), Some(vec![1, 2]));
    }

    #[test]
    fn stale_events_go_but_the_last_of_each_kind_stay() {
        let mut history = History::new(usize::MAX, 0);
        let start = Instant::now();
        let later = start + FRESH / 2;
        for rv in 1..=1000 {
            history.push(event("zones", rv), 10, start);
        }
        for rv in 1001..=1010 {
            history.push(event("zones", rv), 10, later);
        }
        // Within FRESH of the first: a watcher lagging that much resumes.
        assert_eq!(history.after("zones", 0, 1010).map(|e| e.len()), Some(1010));

        history.expire(start + FRESH + Duration::from_secs(1));
        assert!(history.after("zones", 0, 1010).is_none(), "stale: relist");
        let kept = versions(history.after("zones", 910, 1010)).unwrap();
        assert_eq!(kept, (911..=1010).collect::<Vec<_>>());
        assert!(history.after("zones", 909, 1010).is_none());

        // Long after, the last ones of the kind are still there.
        history.expire(later + 10 * FRESH);
        assert_eq!(
            history.after("zones", 910, 1010).map(|e| e.len()),
            Some(100)
        );
    }
}
