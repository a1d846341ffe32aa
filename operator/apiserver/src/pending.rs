//! Writes applied in memory but not yet durable.
//!
//! Writes are applied to the live objects at once, so that the next write
//! (a conflict check, a uniqueness check) sees them, and committed to
//! SQLite in groups behind them. Readers must see only what is durable: for
//! each object a write touched since the last commit, the state it had
//! then is kept here, and reads take it in place of the live one. A failed
//! commit puts every one of them back.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use crate::store::ObjectRef;

/// `(namespace, name)`.
pub type Key = (String, String);

/// One kind's objects by key.
pub type Bucket = BTreeMap<Key, ObjectRef>;

#[derive(Debug)]
struct Held {
    /// The durable state: `None` when the object did not exist.
    durable: Option<ObjectRef>,
    /// The resourceVersion of the latest write to it.
    last: u64,
}

/// The durable state of every object changed by writes not yet durable.
#[derive(Debug, Default)]
pub struct Pending {
    kinds: HashMap<String, BTreeMap<Key, Held>>,
}

impl Pending {
    /// Notes a write at `rv` to an object whose live state was `before`.
    /// Only the first write since the last commit tells the durable state.
    pub fn touch(&mut self, type_key: &str, key: &Key, before: Option<&ObjectRef>, rv: u64) {
        let held = self.kinds.entry(type_key.to_string()).or_default();
        match held.get_mut(key) {
            Some(entry) => entry.last = rv,
            None => {
                held.insert(
                    key.clone(),
                    Held {
                        durable: before.cloned(),
                        last: rv,
                    },
                );
            }
        }
    }

    /// Every write up to `rv` is durable.
    pub fn committed(&mut self, rv: u64) {
        self.kinds.retain(|_, held| {
            held.retain(|_, entry| entry.last > rv);
            !held.is_empty()
        });
    }

    /// Whether no write is in flight.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The durable state of an object a pending write changed; `None` when
    /// no pending write touched it.
    pub fn durable(&self, type_key: &str, key: &Key) -> Option<Option<&ObjectRef>> {
        let entry = self.kinds.get(type_key)?.get(key)?;
        Some(entry.durable.as_ref())
    }

    /// Takes every held state out, to put them back in place of the live
    /// ones.
    pub fn take(&mut self) -> impl Iterator<Item = (String, Key, Option<ObjectRef>)> {
        std::mem::take(&mut self.kinds)
            .into_iter()
            .flat_map(|(type_key, held)| {
                held.into_iter()
                    .map(move |(key, entry)| (type_key.clone(), key, entry.durable))
            })
    }

    /// The durable objects of `live` (one kind's live objects) from
    /// `start` on, in key order.
    pub fn durable_range<'a>(
        &'a self,
        type_key: &str,
        live: &'a Bucket,
        start: Bound<Key>,
    ) -> impl Iterator<Item = (&'a Key, &'a ObjectRef)> + 'a {
        let mut live = live.range((start.clone(), Bound::Unbounded)).peekable();
        let mut held = self
            .kinds
            .get(type_key)
            .into_iter()
            .flat_map(move |held| held.range((start.clone(), Bound::Unbounded)))
            .peekable();
        std::iter::from_fn(move || {
            loop {
                let order = match (live.peek(), held.peek()) {
                    (None, None) => return None,
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (Some((live_key, _)), Some((held_key, _))) => live_key.cmp(held_key),
                };
                if order == Ordering::Less {
                    return live.next();
                }
                if order == Ordering::Equal {
                    live.next();
                }
                let (key, entry) = held.next()?;
                if let Some(durable) = &entry.durable {
                    return Some((key, durable));
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {

    use serde_json::json;

    use super::*;

    fn key(name: &str) -> Key {
        ("ns".into(), name.into())
    }

    fn obj(name: &str, version: u64) -> ObjectRef {
        ObjectRef::new(&json!({"name": name, "v": version}))
    }

    fn names<'a>(items: impl Iterator<Item = (&'a Key, &'a ObjectRef)>) -> Vec<String> {
        items
            .map(|(key, obj)| format!("{}@{}", key.1, obj.value()["v"]))
            .collect()
    }

    #[test]
    fn readers_see_the_durable_state_until_it_is_committed() {
        // Durable: a@1, b@1, d@1. Pending: a changed to @2, b deleted,
        // c created, d changed twice.
        let mut live = Bucket::new();
        for name in ["a", "b", "d"] {
            live.insert(key(name), obj(name, 1));
        }
        let mut pending = Pending::default();
        let t = "zones";
        pending.touch(t, &key("a"), live.get(&key("a")), 10);
        live.insert(key("a"), obj("a", 2));
        pending.touch(t, &key("b"), live.get(&key("b")), 11);
        live.remove(&key("b"));
        pending.touch(t, &key("c"), None, 12);
        live.insert(key("c"), obj("c", 1));
        pending.touch(t, &key("d"), live.get(&key("d")), 13);
        live.insert(key("d"), obj("d", 2));
        pending.touch(t, &key("d"), live.get(&key("d")), 14);
        live.insert(key("d"), obj("d", 3));

        let all = |pending: &Pending| names(pending.durable_range(t, &live, Bound::Unbounded));
        assert_eq!(all(&pending), ["a@1", "b@1", "d@1"]);
        assert_eq!(
            names(pending.durable_range(t, &live, Bound::Excluded(key("a")))),
            ["b@1", "d@1"]
        );
        assert_eq!(pending.durable(t, &key("c")), Some(None));
        assert_eq!(pending.durable(t, &key("x")), None);

        pending.committed(13);
        assert_eq!(
            all(&pending),
            ["a@2", "c@1", "d@1"],
            "d's last write is not durable"
        );
        pending.committed(14);
        assert_eq!(all(&pending), ["a@2", "c@1", "d@3"]);
        assert_eq!(pending.take().count(), 0);
    }

    #[test]
    fn a_failed_commit_gets_the_durable_states_back() {
        let mut pending = Pending::default();
        pending.touch("zones", &key("a"), Some(&obj("a", 1)), 5);
        pending.touch("zones", &key("a"), Some(&obj("a", 2)), 6);
        pending.touch("zones", &key("n"), None, 7);
        let mut back: Vec<_> = pending
            .take()
            .map(|(_, key, durable)| (key.1, durable.and_then(|o| o.value()["v"].as_u64())))
            .collect();
        back.sort();
        assert_eq!(back, [("a".into(), Some(1)), ("n".into(), None)]);
    }
}
