//! An in-memory index of Recordsets by the Zone they belong to, fed by the
//! Recordset controller's watch: the controllers' one copy of each
//! Recordset, kept packed (a tenth of a typed copy) and unpacked when a
//! zone's reconcile reads its recordsets. The Zone controller reads a
//! zone's recordsets from it and gets each recordset change as a request to
//! reconcile its zone; the REST mirrors share its copies.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockWriteGuard};

use designate_crd::Recordset;
use designate_crd::copies::{Copies, Held};
use designate_crd::packed::{Packed, Packer};
use kube::ResourceExt;
use kube::runtime::watcher::Event;
use tokio::sync::watch;

use crate::echo::Echoes;

/// A zone of a namespace: `(namespace, Zone object name)`.
pub type ZoneKey = (String, String);

/// Recordsets by zone, then by object name.
type ByZone = HashMap<ZoneKey, HashMap<String, Packed<Recordset>>>;

struct Inner {
    by_zone: ByZone,
    /// The recordsets of a relist being received (`Init` .. `InitDone`):
    /// the old view serves until it is complete.
    relist: Option<ByZone>,
    packer: Packer,
}

/// Recordsets grouped by zone.
pub struct RecordsetIndex {
    inner: RwLock<Inner>,
    ready: watch::Sender<bool>,
    /// The Zone controller's status writes to recordsets: their events
    /// touch no zone.
    pub(crate) echoes: Echoes<Recordset>,
}

impl Default for RecordsetIndex {
    fn default() -> Self {
        Self {
            inner: RwLock::new(Inner {
                by_zone: ByZone::new(),
                relist: None,
                packer: Packer::default(),
            }),
            ready: watch::channel(false).0,
            echoes: Echoes::default(),
        }
    }
}

impl RecordsetIndex {
    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        // Nothing panics while holding it.
        self.inner.write().expect("index lock")
    }

    /// The recordsets of a zone, in creation order (then by name), so that
    /// zone-wide rules let the first one win.
    pub fn of_zone(&self, namespace: &str, zone: &str) -> Vec<Arc<Recordset>> {
        let key = (namespace.to_string(), zone.to_string());
        let packed: Vec<Packed<Recordset>> = self
            .inner
            .read()
            .expect("index lock")
            .by_zone
            .get(&key)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        let mut recordsets: Vec<Arc<Recordset>> =
            packed.iter().map(|rs| Arc::new(rs.unpack())).collect();
        recordsets.sort_by(|a, b| {
            let created = |r: &Recordset| r.metadata.creation_timestamp.clone().map(|t| t.0);
            created(a)
                .cmp(&created(b))
                .then_with(|| a.name_any().cmp(&b.name_any()))
        });
        recordsets
    }

    /// The copy of `rs` held, at whatever version.
    pub fn held(&self, rs: &Recordset) -> Option<Held<Recordset>> {
        self.get(&rs.namespace()?, &rs.spec.zone_ref, &rs.name_any())
            .map(Held::Packed)
    }

    /// Recordset `name` of a zone, as held.
    pub fn get(&self, namespace: &str, zone: &str, name: &str) -> Option<Packed<Recordset>> {
        let key = (namespace.to_string(), zone.to_string());
        self.inner
            .read()
            .expect("index lock")
            .by_zone
            .get(&key)?
            .get(name)
            .cloned()
    }

    /// Every zone recordsets name, with the names of its recordsets.
    pub fn zones(&self) -> Vec<(ZoneKey, Vec<String>)> {
        let inner = self.inner.read().expect("index lock");
        inner
            .by_zone
            .iter()
            .map(|(zone, set)| (zone.clone(), set.keys().cloned().collect()))
            .collect()
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
    pub fn written(&self, observed: &Recordset, written: Recordset) {
        let key = key_of(observed);
        let mut inner = self.write();
        let Inner {
            by_zone, packer, ..
        } = &mut *inner;
        if let Some(current) = by_zone
            .get_mut(&key)
            .and_then(|set| set.get_mut(&observed.name_any()))
            && current.is_version_of(observed)
        {
            *current = Packed::pack(&written, packer);
        }
    }

    /// Applies one watch event; the copies it takes are told to the other
    /// holders of `copies`. Returns the zones it touches.
    pub fn apply(&self, event: &Event<Recordset>, copies: &Copies<Recordset>) -> Vec<ZoneKey> {
        match event {
            Event::Apply(rs) => {
                let key = key_of(rs);
                let mut inner = self.write();
                let packed = Packed::pack(rs, &mut inner.packer);
                inner
                    .by_zone
                    .entry(key.clone())
                    .or_default()
                    .insert(rs.name_any(), packed.clone());
                drop(inner);
                copies.tell(&[Held::Packed(packed)]);
                // Neither the zone's own status writes nor its copies of a
                // transfer change what the zone serves.
                if self.echoes.is_echo(rs) || rs.is_transferred() {
                    return Vec::new();
                }
                vec![key]
            }
            Event::Delete(rs) => {
                self.echoes.forget(rs);
                let key = key_of(rs);
                let mut inner = self.write();
                if let Some(set) = inner.by_zone.get_mut(&key) {
                    set.remove(&rs.name_any());
                    if set.is_empty() {
                        inner.by_zone.remove(&key);
                    }
                }
                if rs.is_transferred() {
                    return Vec::new();
                }
                vec![key]
            }
            Event::Init => {
                self.write().relist = Some(ByZone::new());
                Vec::new()
            }
            Event::InitApply(rs) => {
                let mut inner = self.write();
                let packed = Packed::pack(rs, &mut inner.packer);
                inner
                    .relist
                    .get_or_insert_default()
                    .entry(key_of(rs))
                    .or_default()
                    .insert(rs.name_any(), packed);
                Vec::new()
            }
            Event::InitDone => {
                let mut inner = self.write();
                let fresh = inner.relist.take().unwrap_or_default();
                let old = std::mem::replace(&mut inner.by_zone, fresh);
                let kept: Vec<Held<Recordset>> = if copies.told() {
                    let all = inner.by_zone.values().flat_map(HashMap::values);
                    all.cloned().map(Held::Packed).collect()
                } else {
                    Vec::new()
                };
                let now: Vec<ZoneKey> = inner.by_zone.keys().cloned().collect();
                drop(inner);
                copies.tell(&kept);
                if !self.ready.send_replace(true) {
                    // The first list: no zone was planned before it (they
                    // wait for `ready`), and each is reconciled anyway.
                    return Vec::new();
                }
                // Zones whose recordsets may have changed while not watching.
                let mut touched: Vec<ZoneKey> = old.into_keys().chain(now).collect();
                touched.sort();
                touched.dedup();
                touched
            }
        }
    }
}

fn key_of(rs: &Recordset) -> ZoneKey {
    (rs.namespace().unwrap_or_default(), rs.spec.zone_ref.clone())
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
        rs.metadata.uid = Some(format!("uid-{name}"));
        rs.metadata.resource_version = Some("1".into());
        rs
    }

    fn versioned(name: &str, zone: &str, version: &str) -> Recordset {
        let mut rs = rs(name, zone);
        rs.metadata.resource_version = Some(version.into());
        rs
    }

    /// The index, fed `events` one by one.
    fn fed(events: impl IntoIterator<Item = Event<Recordset>>) -> RecordsetIndex {
        let index = RecordsetIndex::default();
        for event in events {
            index.apply(&event, &Copies::default());
        }
        index
    }

    #[test]
    fn holds_what_the_watch_brought_and_tells_the_other_holders() {
        let copies = Copies::<Recordset>::default();
        let told = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = told.clone();
        copies.on_applied(move |objects| {
            let mut told = into.lock().unwrap();
            told.extend(objects.iter().map(|held| held.object().name_any()));
        });
        let index = RecordsetIndex::default();
        for event in [
            Event::Init,
            Event::InitApply(rs("a", "z1")),
            Event::InitDone,
            Event::Apply(rs("b", "z1")),
        ] {
            index.apply(&event, &copies);
        }
        assert_eq!(*told.lock().unwrap(), ["a", "b"]);
        let held = index.of_zone("ns", "z1");
        assert_eq!(held.len(), 2);
        assert_eq!(
            serde_json::to_value(&*held[1]).unwrap(),
            serde_json::to_value(rs("b", "z1")).unwrap(),
            "read back whole"
        );
        assert!(
            index
                .held(&rs("a", "z1"))
                .is_some_and(|h| h.is_version_of(&rs("a", "z1")))
        );
    }

    #[test]
    fn groups_by_zone_and_forgets_deleted() {
        let index = fed([]);
        let copies = Copies::default();
        assert_eq!(index.apply(&Event::Apply(rs("a", "z1")), &copies).len(), 1);
        index.apply(&Event::Apply(rs("b", "z1")), &copies);
        index.apply(&Event::Apply(rs("c", "z2")), &copies);
        assert_eq!(index.of_zone("ns", "z1").len(), 2);
        index.apply(&Event::Delete(rs("a", "z1")), &copies);
        assert_eq!(index.of_zone("ns", "z1").len(), 1);
        assert!(index.of_zone("other", "z1").is_empty());
        assert_eq!(index.zones().len(), 2);
    }

    #[test]
    fn a_transfers_copies_are_held_but_request_no_reconcile() {
        let index = fed([]);
        let copies = Copies::default();
        let mut copy = rs("www", "z1");
        copy.metadata.labels =
            Some([(designate_crd::TRANSFERRED_LABEL.into(), "true".into())].into());
        assert!(index.apply(&Event::Apply(copy.clone()), &copies).is_empty());
        assert_eq!(index.of_zone("ns", "z1").len(), 1);
        assert!(index.apply(&Event::Delete(copy), &copies).is_empty());
        assert!(index.of_zone("ns", "z1").is_empty());
    }

    #[test]
    fn own_write_replaces_only_the_version_it_was_made_from() {
        let index = fed([Event::Apply(rs("a", "z1"))]);
        let copies = Copies::default();
        let observed = index.of_zone("ns", "z1").remove(0);
        let written = versioned("a", "z1", "2");
        index.written(&observed, written.clone());
        let version = |index: &RecordsetIndex| {
            index.of_zone("ns", "z1")[0]
                .metadata
                .resource_version
                .clone()
        };
        assert_eq!(version(&index), Some("2".into()));

        // The watch moved on (a newer version): it stays.
        index.apply(&Event::Apply(versioned("a", "z1", "3")), &copies);
        index.written(&observed, written.clone());
        assert_eq!(version(&index), Some("3".into()));

        // Deleted meanwhile: not brought back.
        let observed = index.of_zone("ns", "z1").remove(0);
        index.apply(&Event::Delete(rs("a", "z1")), &copies);
        index.written(&observed, written);
        assert!(index.of_zone("ns", "z1").is_empty());
    }

    #[test]
    fn relist_replaces_and_touches_old_and_new_zones() {
        let index = RecordsetIndex::default();
        let copies = Copies::default();
        let apply = |event| index.apply(&event, &copies);
        apply(Event::Init);
        apply(Event::InitApply(rs("gone", "old-zone")));
        // The first list touches nothing: every zone is reconciled anyway.
        assert!(apply(Event::InitDone).is_empty());
        assert!(*index.ready.borrow());
        apply(Event::Init);
        apply(Event::InitApply(rs("kept", "new-zone")));
        // Until the relist is complete the old view is served.
        assert_eq!(index.of_zone("ns", "old-zone").len(), 1);
        let touched = apply(Event::InitDone);
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
