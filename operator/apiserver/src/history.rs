//! Watch history: each kind's recent events, kept by a byte budget of its
//! own, so that a burst of writes to one kind does not expire the watches
//! of every other kind. A watch resuming from a version older than its
//! kind's history gets 410 Expired and relists, as from kube-apiserver.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::store::LogEvent;

#[derive(Debug, Default)]
struct KindLog {
    events: VecDeque<(Arc<LogEvent>, usize)>,
    bytes: usize,
    /// Every event of the kind after this resourceVersion is in `events`.
    horizon: u64,
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

    /// Appends an event of `size` bytes, dropping the kind's oldest ones
    /// past the budget.
    pub fn push(&mut self, event: Arc<LogEvent>, size: usize) {
        let start = self.start;
        let log = self
            .kinds
            .entry(event.type_key.clone())
            .or_insert_with(|| KindLog {
                horizon: start,
                ..KindLog::default()
            });
        log.bytes += size;
        log.events.push_back((event, size));
        while log.bytes > self.budget && log.events.len() > 1 {
            if let Some((dropped, size)) = log.events.pop_front() {
                log.bytes -= size;
                log.horizon = dropped.resource_version;
            }
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
            .partition_point(|(e, _)| e.resource_version <= after);
        Some(
            log.events
                .range(first..)
                .map(|(e, _)| e)
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
                .is_some_and(|(e, _)| e.resource_version > rv)
            {
                if let Some((_, size)) = log.events.pop_back() {
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
        history.push(event("zones", 11), 100);
        for rv in 12..40 {
            history.push(event("configmaps", rv), 100);
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
            history.push(event("zones", rv), 10);
        }
        history.truncate_after(2);
        assert_eq!(versions(history.after("zones", 0, 10)), Some(vec![1, 2]));
    }
}
