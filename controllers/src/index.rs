//! An in-memory index of Recordsets by the Zone they belong to, fed by the
//! Recordset controller's watch and sharing its reflector's copies. The
//! Zone controller reads a zone's recordsets from it (the store alone would
//! mean scanning every recordset per reconcile) and gets each recordset
//! change as a request to reconcile its zone.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use designate_crd::Recordset;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::Event;
use tokio::sync::watch;

use crate::echo::Echoes;

/// A zone of a namespace: `(namespace, Zone object name)`.
pub type ZoneKey = (String, String);

type ByZone = HashMap<ZoneKey, HashMap<String, Arc<Recordset>>>;

/// Recordsets grouped by zone.
pub struct RecordsetIndex {
    by_zone: RwLock<ByZone>,
    ready: watch::Sender<bool>,
    /// The Zone controller's status writes to recordsets: their events
    /// touch no zone.
    pub(crate) echoes: Echoes<Recordset>,
}

impl Default for RecordsetIndex {
    fn default() -> Self {
        Self {
            by_zone: RwLock::default(),
            ready: watch::channel(false).0,
            echoes: Echoes::default(),
        }
    }
}

impl RecordsetIndex {
    /// The recordsets of a zone, in creation order (then by name), so that
    /// zone-wide rules let the first one win.
    pub fn of_zone(&self, namespace: &str, zone: &str) -> Vec<Arc<Recordset>> {
        let key = (namespace.to_string(), zone.to_string());
        let mut recordsets: Vec<Arc<Recordset>> = self
            .by_zone
            .read()
            .expect("index lock")
            .get(&key)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        recordsets.sort_by(|a, b| {
            let created = |r: &Recordset| r.metadata.creation_timestamp.clone().map(|t| t.0);
            created(a)
                .cmp(&created(b))
                .then_with(|| a.name_any().cmp(&b.name_any()))
        });
        recordsets
    }

    /// Resolves once the first full list has been indexed: before that an
    /// empty answer would read as "every recordset was deleted".
    pub async fn ready(&self) {
        let mut ready = self.ready.subscribe();
        // The sender lives in `self`, so waiting cannot fail.
        let _ = ready.wait_for(|r| *r).await;
    }

    /// Puts `written`, the API's answer to our own write of `observed`, in
    /// its place, unless the watch moved past `observed` already (a newer
    /// version, or a delete). The reconcile that this very write triggers then
    /// finds the new status rather than the one it replaced, and does not
    /// write the same status again; the watch event brings the same version.
    pub fn written(&self, observed: &Arc<Recordset>, written: Recordset) {
        let key = Self::key_of(observed);
        let mut by_zone = self.by_zone.write().expect("index lock");
        if let Some(current) = by_zone
            .get_mut(&key)
            .and_then(|set| set.get_mut(&observed.name_any()))
            && Arc::ptr_eq(current, observed)
        {
            *current = Arc::new(written);
        }
    }

    fn key_of(rs: &Recordset) -> ZoneKey {
        (rs.namespace().unwrap_or_default(), rs.spec.zone_ref.clone())
    }

    /// Applies one watch event, once the Recordset controller's reflector
    /// `store` applied it: the index holds the store's own copies (one copy
    /// of each recordset in memory). Returns the zones it touches.
    pub fn apply(&self, event: &Event<Recordset>, store: &Store<Recordset>) -> Vec<ZoneKey> {
        match event {
            Event::Apply(rs) => {
                let key = Self::key_of(rs);
                let shared = store
                    .get(&ObjectRef::from_obj(rs))
                    .unwrap_or_else(|| Arc::new(rs.clone()));
                let mut by_zone = self.by_zone.write().expect("index lock");
                by_zone
                    .entry(key.clone())
                    .or_default()
                    .insert(rs.name_any(), shared);
                if self.echoes.is_echo(rs) {
                    return Vec::new();
                }
                vec![key]
            }
            Event::Delete(rs) => {
                self.echoes.forget(rs);
                let key = Self::key_of(rs);
                let mut by_zone = self.by_zone.write().expect("index lock");
                if let Some(set) = by_zone.get_mut(&key) {
                    set.remove(&rs.name_any());
                    if set.is_empty() {
                        by_zone.remove(&key);
                    }
                }
                vec![key]
            }
            // A relist: the old view serves until the store holds the new.
            Event::Init | Event::InitApply(_) => Vec::new(),
            Event::InitDone => {
                let mut fresh = ByZone::new();
                for rs in store.state() {
                    fresh
                        .entry(Self::key_of(&rs))
                        .or_default()
                        .insert(rs.name_any(), rs);
                }
                let mut by_zone = self.by_zone.write().expect("index lock");
                let old = std::mem::replace(&mut *by_zone, fresh);
                drop(by_zone);
                if !self.ready.send_replace(true) {
                    // The first list: no zone was planned before it (they
                    // wait for `ready`), and each is reconciled anyway.
                    return Vec::new();
                }
                // Zones whose recordsets may have changed while not watching.
                let mut touched: Vec<ZoneKey> = old.into_keys().collect();
                touched.extend(self.by_zone.read().expect("index lock").keys().cloned());
                touched.sort();
                touched.dedup();
                touched
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::RecordsetSpec;
    use kube::runtime::reflector::store::Writer;

    /// The index and the reflector store it reads, fed one event.
    struct Fed {
        index: RecordsetIndex,
        store: Store<Recordset>,
        writer: Writer<Recordset>,
    }

    impl Fed {
        fn new() -> Self {
            let (store, writer) = kube::runtime::reflector::store();
            Self {
                index: RecordsetIndex::default(),
                store,
                writer,
            }
        }

        fn apply(&mut self, event: Event<Recordset>) -> Vec<ZoneKey> {
            self.writer.apply_watcher_event(&event);
            self.index.apply(&event, &self.store)
        }
    }

    fn rs(name: &str, zone: &str) -> Recordset {
        let mut rs = Recordset::new(
            name,
            RecordsetSpec {
                zone_ref: zone.into(),
                name: format!("{name}.example.com."),
                type_: "A".into(),
                records: vec!["192.0.2.1".into()],
                ..Default::default()
            },
        );
        rs.metadata.namespace = Some("ns".into());
        rs
    }

    #[test]
    fn holds_the_stores_own_copies() {
        let mut fed = Fed::new();
        fed.apply(Event::Apply(rs("a", "z1")));
        let held = fed.index.of_zone("ns", "z1").remove(0);
        let stored = fed.store.get(&ObjectRef::from_obj(&*held)).unwrap();
        assert!(Arc::ptr_eq(&held, &stored));
        fed.apply(Event::Init);
        fed.apply(Event::InitApply(rs("a", "z1")));
        fed.apply(Event::InitDone);
        let held = fed.index.of_zone("ns", "z1").remove(0);
        let stored = fed.store.get(&ObjectRef::from_obj(&*held)).unwrap();
        assert!(Arc::ptr_eq(&held, &stored), "after a relist too");
    }

    #[test]
    fn groups_by_zone_and_forgets_deleted() {
        let mut fed = Fed::new();
        assert_eq!(fed.apply(Event::Apply(rs("a", "z1"))).len(), 1);
        fed.apply(Event::Apply(rs("b", "z1")));
        fed.apply(Event::Apply(rs("c", "z2")));
        assert_eq!(fed.index.of_zone("ns", "z1").len(), 2);
        fed.apply(Event::Delete(rs("a", "z1")));
        assert_eq!(fed.index.of_zone("ns", "z1").len(), 1);
        assert!(fed.index.of_zone("other", "z1").is_empty());
    }

    #[test]
    fn own_write_replaces_only_the_version_it_was_made_from() {
        let mut fed = Fed::new();
        fed.apply(Event::Apply(rs("a", "z1")));
        let observed = fed.index.of_zone("ns", "z1").remove(0);
        let mut written = rs("a", "z1");
        written.metadata.resource_version = Some("2".into());
        fed.index.written(&observed, written.clone());
        let version = |index: &RecordsetIndex| {
            index.of_zone("ns", "z1")[0]
                .metadata
                .resource_version
                .clone()
        };
        assert_eq!(version(&fed.index), Some("2".into()));

        // The watch moved on (a newer version): it stays.
        let mut newer = rs("a", "z1");
        newer.metadata.resource_version = Some("3".into());
        fed.apply(Event::Apply(newer));
        fed.index.written(&observed, written.clone());
        assert_eq!(version(&fed.index), Some("3".into()));

        // Deleted meanwhile: not brought back.
        let observed = fed.index.of_zone("ns", "z1").remove(0);
        fed.apply(Event::Delete(rs("a", "z1")));
        fed.index.written(&observed, written);
        assert!(fed.index.of_zone("ns", "z1").is_empty());
    }

    #[test]
    fn relist_replaces_and_touches_old_and_new_zones() {
        let mut fed = Fed::new();
        fed.apply(Event::Init);
        fed.apply(Event::InitApply(rs("gone", "old-zone")));
        // The first list touches nothing: every zone is reconciled anyway.
        assert!(fed.apply(Event::InitDone).is_empty());
        assert!(*fed.index.ready.borrow());
        fed.apply(Event::Init);
        fed.apply(Event::InitApply(rs("kept", "new-zone")));
        // Until the relist is complete the old view is served.
        assert_eq!(fed.index.of_zone("ns", "old-zone").len(), 1);
        let touched = fed.apply(Event::InitDone);
        assert_eq!(
            touched,
            vec![
                ("ns".to_string(), "new-zone".to_string()),
                ("ns".to_string(), "old-zone".to_string())
            ]
        );
        assert!(fed.index.of_zone("ns", "old-zone").is_empty());
        assert!(*fed.index.ready.borrow());
    }
}
