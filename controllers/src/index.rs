//! An in-memory index of Recordsets by the Zone they belong to, fed by one
//! watch. The Zone controller reads a zone's recordsets from it (a reflector
//! store would mean scanning every recordset per reconcile) and gets each
//! recordset change as a request to reconcile its zone.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use designate_crd::grant::GrantKey;
use designate_crd::{Recordset, Zone};
use futures::{Stream, StreamExt, stream};
use kube::Client;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher::{self, Event};
use tokio::sync::watch;
use tracing::warn;

use crate::watch::Reporting;

/// A zone of a namespace: `(namespace, Zone object name)`.
pub type ZoneKey = (String, String);

type ByZone = HashMap<ZoneKey, HashMap<String, Arc<Recordset>>>;

/// Recordsets grouped by zone.
pub struct RecordsetIndex {
    by_zone: RwLock<ByZone>,
    ready: watch::Sender<bool>,
}

impl Default for RecordsetIndex {
    fn default() -> Self {
        Self {
            by_zone: RwLock::default(),
            ready: watch::channel(false).0,
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

    /// Applies one watch event; returns the zones it touches.
    fn apply(&self, event: Event<Recordset>, relist: &mut Option<ByZone>) -> Vec<ZoneKey> {
        match event {
            Event::Apply(rs) => {
                let key = Self::key_of(&rs);
                let mut by_zone = self.by_zone.write().expect("index lock");
                by_zone
                    .entry(key.clone())
                    .or_default()
                    .insert(rs.name_any(), Arc::new(rs));
                vec![key]
            }
            Event::Delete(rs) => {
                let key = Self::key_of(&rs);
                let mut by_zone = self.by_zone.write().expect("index lock");
                if let Some(set) = by_zone.get_mut(&key) {
                    set.remove(&rs.name_any());
                    if set.is_empty() {
                        by_zone.remove(&key);
                    }
                }
                vec![key]
            }
            Event::Init => {
                *relist = Some(ByZone::new());
                Vec::new()
            }
            Event::InitApply(rs) => {
                relist
                    .get_or_insert_default()
                    .entry(Self::key_of(&rs))
                    .or_default()
                    .insert(rs.name_any(), Arc::new(rs));
                Vec::new()
            }
            Event::InitDone => {
                let fresh = relist.take().unwrap_or_default();
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

/// Watches every Recordset, keeps `index` current, and yields the zones to
/// reconcile.
pub fn feed(
    index: Arc<RecordsetIndex>,
    client: &Client,
    ids: Option<GrantKey>,
) -> impl Stream<Item = ObjectRef<Zone>> + Send + 'static {
    let mut relist = None;
    // The Recordset controller reports what cannot be decoded.
    crate::watch::watch(
        client,
        watcher::Config::default().any_semantic(),
        Reporting::Log,
        ids,
    )
    .filter_map(|event| async move {
        event
            .map_err(|error| warn!(%error, "recordset watch failed; retrying"))
            .ok()
    })
    .flat_map(move |event| {
        let zones = index.apply(event, &mut relist);
        stream::iter(
            zones
                .into_iter()
                .map(|(namespace, zone)| ObjectRef::new(&zone).within(&namespace)),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::RecordsetSpec;

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
    fn groups_by_zone_and_forgets_deleted() {
        let index = RecordsetIndex::default();
        let mut relist = None;
        assert_eq!(
            index.apply(Event::Apply(rs("a", "z1")), &mut relist).len(),
            1
        );
        index.apply(Event::Apply(rs("b", "z1")), &mut relist);
        index.apply(Event::Apply(rs("c", "z2")), &mut relist);
        assert_eq!(index.of_zone("ns", "z1").len(), 2);
        index.apply(Event::Delete(rs("a", "z1")), &mut relist);
        assert_eq!(index.of_zone("ns", "z1").len(), 1);
        assert!(index.of_zone("other", "z1").is_empty());
    }

    #[test]
    fn own_write_replaces_only_the_version_it_was_made_from() {
        let index = RecordsetIndex::default();
        let mut relist = None;
        index.apply(Event::Apply(rs("a", "z1")), &mut relist);
        let observed = index.of_zone("ns", "z1").remove(0);
        let mut written = rs("a", "z1");
        written.metadata.resource_version = Some("2".into());
        index.written(&observed, written.clone());
        let version = |index: &RecordsetIndex| {
            index.of_zone("ns", "z1")[0]
                .metadata
                .resource_version
                .clone()
        };
        assert_eq!(version(&index), Some("2".into()));

        // The watch moved on (a newer version): it stays.
        let mut newer = rs("a", "z1");
        newer.metadata.resource_version = Some("3".into());
        index.apply(Event::Apply(newer), &mut relist);
        index.written(&observed, written.clone());
        assert_eq!(version(&index), Some("3".into()));

        // Deleted meanwhile: not brought back.
        let observed = index.of_zone("ns", "z1").remove(0);
        index.apply(Event::Delete(rs("a", "z1")), &mut relist);
        index.written(&observed, written);
        assert!(index.of_zone("ns", "z1").is_empty());
    }

    #[test]
    fn relist_replaces_and_touches_old_and_new_zones() {
        let index = RecordsetIndex::default();
        let mut relist = None;
        index.apply(Event::Init, &mut relist);
        index.apply(Event::InitApply(rs("gone", "old-zone")), &mut relist);
        // The first list touches nothing: every zone is reconciled anyway.
        assert!(index.apply(Event::InitDone, &mut relist).is_empty());
        assert!(*index.ready.borrow());
        index.apply(Event::Init, &mut relist);
        index.apply(Event::InitApply(rs("kept", "new-zone")), &mut relist);
        // Until the relist is complete the old view is served.
        assert_eq!(index.of_zone("ns", "old-zone").len(), 1);
        let touched = index.apply(Event::InitDone, &mut relist);
        assert_eq!(
            touched,
            vec![
                ("ns".to_string(), "new-zone".to_string()),
                ("ns".to_string(), "old-zone".to_string())
            ]
        );
        assert!(index.of_zone("ns", "old-zone").is_empty());
        assert!(*index.ready.borrow());
    }
}
