//! The Zone controller's own status writes, known when the watch brings
//! them back.
//!
//! Each status write comes back as a watch event: a request to reconcile
//! the zone (for a recordset, the zone it belongs to). The reconcile that
//! wrote it knew everything that version holds, so the request would plan
//! the zone again only to find it unchanged, at a cost that grows with the
//! zone. Such an echo is dropped. The write is noted before it is sent (its
//! event may come before its answer): a version that holds anything else
//! (a change made meanwhile, another writer's status) is a request like any
//! other.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use kube::core::object::HasStatus;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde_json::Value;

use crate::watch::besides_status;

/// The status writes of one kind on their way, by the object's uid: the
/// digest of the version written over besides its status, and the status
/// written (as JSON).
pub(crate) struct Echoes<K> {
    by_uid: Mutex<HashMap<String, (u64, Value)>>,
    kind: std::marker::PhantomData<fn(&K)>,
}

impl<K> Default for Echoes<K> {
    fn default() -> Self {
        Self {
            by_uid: Mutex::default(),
            kind: std::marker::PhantomData,
        }
    }
}

impl<K> Echoes<K>
where
    K: Resource + HasStatus + Serialize,
    K::Status: Serialize,
{
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (u64, Value)>> {
        // Nothing panics while holding it.
        self.by_uid.lock().expect("echoes lock")
    }

    /// Notes that `status` is about to be written over `observed`.
    pub(crate) fn expect(&self, observed: &K, status: &K::Status) {
        if let (Some(uid), Some(digest), Ok(status)) = (
            observed.uid(),
            besides_status(observed),
            serde_json::to_value(Some(status)),
        ) {
            self.lock().insert(uid, (digest, status));
        }
    }

    /// Whether the watched version `object` is the echo of a write noted
    /// by [`Self::expect`]: the object written over with the status
    /// written. The note goes with the object's first event after it,
    /// whether that is the echo or not.
    pub(crate) fn is_echo(&self, object: &K) -> bool {
        let Some(uid) = object.meta().uid.as_deref() else {
            return false;
        };
        let Some((digest, status)) = self.lock().remove(uid) else {
            return false;
        };
        // Compared as written: the API keeps times to the second.
        serde_json::to_value(object.status()).ok() == Some(status)
            && besides_status(object) == Some(digest)
    }

    /// Forgets an object that is gone.
    pub(crate) fn forget(&self, object: &K) {
        if let Some(uid) = object.meta().uid.as_deref() {
            self.lock().remove(uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::{Zone, ZoneSpec, ZoneStatus};

    fn zone(version: &str) -> Zone {
        let mut zone = Zone::new(
            "example-com",
            ZoneSpec {
                name: "example.com.".into(),
                email: Some("admin@example.com".into()),
                ..Default::default()
            },
        );
        zone.metadata.namespace = Some("tenant".into());
        zone.metadata.uid = Some("u1".into());
        zone.metadata.resource_version = Some(version.into());
        zone
    }

    fn status(serial: i64) -> ZoneStatus {
        ZoneStatus {
            serial: Some(serial),
            ..Default::default()
        }
    }

    fn written(version: &str, serial: i64) -> Zone {
        let mut zone = zone(version);
        zone.status = Some(status(serial));
        zone
    }

    #[test]
    fn a_status_write_comes_back_once_as_an_echo() {
        let echoes = Echoes::default();
        echoes.expect(&zone("1"), &status(7));
        assert!(echoes.is_echo(&written("2", 7)));
        assert!(!echoes.is_echo(&written("2", 7)), "an echo comes once");
    }

    #[test]
    fn a_version_that_holds_anything_else_is_no_echo() {
        let mut described = written("2", 7);
        described.spec.description = Some("changed meanwhile".into());
        let mut labelled = written("2", 7);
        labelled.labels_mut().insert("a".into(), "b".into());
        for other in [described, labelled, written("2", 8)] {
            let echoes = Echoes::default();
            echoes.expect(&zone("1"), &status(7));
            assert!(!echoes.is_echo(&other), "{other:?}");
        }
    }

    #[test]
    fn another_event_first_takes_the_note_with_it() {
        let echoes = Echoes::default();
        echoes.expect(&zone("1"), &status(7));
        let mut changed = zone("2");
        changed.spec.description = Some("changed".into());
        assert!(!echoes.is_echo(&changed));
        // The write's own event then plans the zone too: nothing is lost.
        assert!(!echoes.is_echo(&written("3", 7)));
    }

    #[test]
    fn a_zone_forgotten_has_no_echo() {
        let echoes = Echoes::default();
        echoes.expect(&zone("1"), &status(7));
        echoes.forget(&zone("1"));
        assert!(!echoes.is_echo(&written("2", 7)));
    }
}
