//! One decoded copy of each object for the watches of one process.
//!
//! The controllers' reflectors and the REST API's mirrors watch the same
//! kinds. Where both run in one process (`standalone`), each would hold
//! its own copy of every Zone and Recordset. The controllers' store keeps
//! the copy; another holder takes the store's copy of an object at the
//! same version, whether it decoded the object before the store did
//! ([`Copies::applied`] tells it) or after ([`Copies::kept`]).

use std::fmt;
use std::sync::{Arc, RwLock};

use kube::Resource;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::Event;

use crate::{Recordset, Zone};

/// What is told the objects the store took.
type Adopter<K> = Arc<dyn Fn(&[Arc<K>]) + Send + Sync>;

/// Finds the store's copy of an object.
type Lookup<K> = Arc<dyn Fn(&K) -> Option<Arc<K>> + Send + Sync>;

/// The copies of one kind's objects the watches of a process share.
pub struct Copies<K> {
    inner: Arc<RwLock<Inner<K>>>,
}

struct Inner<K> {
    store: Option<Lookup<K>>,
    adopters: Vec<Adopter<K>>,
}

impl<K> Default for Copies<K> {
    fn default() -> Self {
        Self {
            inner: Arc::new(RwLock::new(Inner {
                store: None,
                adopters: Vec::new(),
            })),
        }
    }
}

impl<K> Clone for Copies<K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K: Resource<DynamicType = ()>> fmt::Debug for Copies<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.read().expect("copies lock");
        f.debug_struct("Copies")
            .field("kind", &K::kind(&()))
            .field("store", &inner.store.is_some())
            .field("adopters", &inner.adopters.len())
            .finish()
    }
}

impl<K: Resource> Copies<K> {
    /// The kept copy of `object`, if the store holds the same version.
    pub fn kept(&self, object: &K) -> Option<Arc<K>> {
        let lookup = self.inner.read().expect("copies lock").store.clone()?;
        lookup(object).filter(|kept| same_version(kept.as_ref(), object))
    }

    /// Has `adopt` told the objects the store takes from now on.
    pub fn on_applied(&self, adopt: impl Fn(&[Arc<K>]) + Send + Sync + 'static) {
        self.inner
            .write()
            .expect("copies lock")
            .adopters
            .push(Arc::new(adopt));
    }
}

impl<K> Copies<K>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    /// The controllers' store: the copies kept.
    pub fn keep(&self, store: Store<K>) {
        self.inner.write().expect("copies lock").store = Some(Arc::new(move |object| {
            store.get(&ObjectRef::from_obj(object))
        }));
    }

    /// Tells the other holders what `store` took with `event` (applied to
    /// it already).
    pub fn applied(&self, event: &Event<K>, store: &Store<K>) {
        let adopters = self.inner.read().expect("copies lock").adopters.clone();
        if adopters.is_empty() {
            return;
        }
        let objects = match event {
            Event::Apply(object) => store
                .get(&ObjectRef::from_obj(object))
                .into_iter()
                .collect(),
            Event::InitDone => store.state(),
            Event::Init | Event::InitApply(_) | Event::Delete(_) => return,
        };
        for adopt in adopters {
            adopt(&objects);
        }
    }
}

/// Whether two copies are of the same object at the same version (and so
/// hold the same).
pub fn same_version<K: Resource>(a: &K, b: &K) -> bool {
    let (a, b) = (a.meta(), b.meta());
    a.uid.is_some()
        && a.resource_version.is_some()
        && a.uid == b.uid
        && a.resource_version == b.resource_version
}

/// The kinds whose copies are shared: the many.
#[derive(Clone, Debug, Default)]
pub struct SharedCopies {
    pub zones: Copies<Zone>,
    pub recordsets: Copies<Recordset>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecordsetSpec;
    use kube::runtime::reflector::store;
    use std::sync::Mutex;

    fn recordset(version: &str) -> Recordset {
        let mut rs = Recordset::new(
            "www-a",
            RecordsetSpec {
                zone_ref: "example".into(),
                name: "www.example.com.".into(),
                type_: "A".into(),
                ttl: None,
                records: vec!["192.0.2.1".into()],
                description: None,
            },
        );
        rs.metadata.namespace = Some("p".into());
        rs.metadata.uid = Some("uid-1".into());
        rs.metadata.resource_version = Some(version.into());
        rs
    }

    #[test]
    fn the_store_copy_is_taken_only_at_the_same_version() {
        let copies = Copies::<Recordset>::default();
        assert!(copies.kept(&recordset("1")).is_none(), "no store yet");
        let (reader, mut writer) = store();
        writer.apply_watcher_event(&Event::Apply(recordset("1")));
        copies.keep(reader.clone());
        let kept = copies.kept(&recordset("1")).expect("same version");
        assert!(Arc::ptr_eq(&kept, &reader.state()[0]));
        assert!(copies.kept(&recordset("2")).is_none(), "newer version");
    }

    #[test]
    fn holders_are_told_what_the_store_took() {
        let copies = Copies::<Recordset>::default();
        let told = Arc::new(Mutex::new(Vec::new()));
        let into = told.clone();
        copies.on_applied(move |objects| into.lock().unwrap().extend(objects.iter().cloned()));
        let (reader, mut writer) = store();
        for event in [
            Event::Init,
            Event::InitApply(recordset("1")),
            Event::InitDone,
            Event::Apply(recordset("2")),
            Event::Delete(recordset("2")),
        ] {
            writer.apply_watcher_event(&event);
            copies.applied(&event, &reader);
        }
        let told = told.lock().unwrap();
        let versions: Vec<_> = told
            .iter()
            .map(|rs| rs.metadata.resource_version.clone().unwrap())
            .collect();
        assert_eq!(versions, ["1", "2"]);
    }
}
