//! One copy of each object for the watches of one process.
//!
//! The controllers' caches and the REST API's mirrors watch the same
//! kinds. Where both run in one process (`standalone`), each would hold
//! its own copy of every Zone and Recordset. The controllers' cache keeps
//! the copy (typed for Zones, [`Packed`] for the many Recordsets); another
//! holder takes the cache's copy of an object at the same version, whether
//! it decoded the object before the cache did ([`Copies::tell`] tells it)
//! or after ([`Copies::kept`]).

use std::fmt;
use std::sync::{Arc, RwLock};

use kube::Resource;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::Event;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::packed::Packed;
use crate::{Recordset, Zone};

/// One holder's copy of an object.
pub enum Held<K> {
    Typed(Arc<K>),
    /// Unpacked when read.
    Packed(Packed<K>),
}

impl<K> Clone for Held<K> {
    fn clone(&self) -> Self {
        match self {
            Self::Typed(object) => Self::Typed(object.clone()),
            Self::Packed(object) => Self::Packed(object.clone()),
        }
    }
}

impl<K: Resource + Serialize + DeserializeOwned> Held<K> {
    /// The object.
    pub fn object(&self) -> Arc<K> {
        match self {
            Self::Typed(object) => object.clone(),
            Self::Packed(object) => Arc::new(object.unpack()),
        }
    }

    /// Whether it holds `object` at the same version.
    pub fn is_version_of(&self, object: &K) -> bool {
        match self {
            Self::Typed(held) => same_version(held.as_ref(), object),
            Self::Packed(held) => held.is_version_of(object),
        }
    }

    /// Whether both hold the same object at the same version, and whether
    /// that is one copy already.
    fn shares(&self, other: &Self) -> (bool, bool) {
        match (self, other) {
            (Self::Typed(a), Self::Typed(b)) => {
                (same_version(a.as_ref(), b.as_ref()), Arc::ptr_eq(a, b))
            }
            (Self::Packed(a), Self::Packed(b)) => (a.same_version(b), false),
            (Self::Typed(a), Self::Packed(b)) | (Self::Packed(b), Self::Typed(a)) => {
                (b.is_version_of(a), false)
            }
        }
    }

    /// Takes `other` in its place where it holds the same object at the
    /// same version as another copy.
    pub fn adopt(&mut self, other: &Self) {
        if let (true, false) = self.shares(other) {
            *self = other.clone();
        }
    }
}

/// What is told the objects the cache took.
type Adopter<K> = Arc<dyn Fn(&[Held<K>]) + Send + Sync>;

/// Finds the cache's copy of an object.
type Lookup<K> = Arc<dyn Fn(&K) -> Option<Held<K>> + Send + Sync>;

/// The copies of one kind's objects the watches of a process share.
pub struct Copies<K> {
    inner: Arc<RwLock<Inner<K>>>,
}

struct Inner<K> {
    cache: Option<Lookup<K>>,
    adopters: Vec<Adopter<K>>,
}

impl<K> Default for Copies<K> {
    fn default() -> Self {
        Self {
            inner: Arc::new(RwLock::new(Inner {
                cache: None,
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
            .field("cache", &inner.cache.is_some())
            .field("adopters", &inner.adopters.len())
            .finish()
    }
}

impl<K: Resource + Serialize + DeserializeOwned> Copies<K> {
    /// The kept copy of `object`, if the cache holds the same version.
    pub fn kept(&self, object: &K) -> Option<Held<K>> {
        let lookup = self.inner.read().expect("copies lock").cache.clone()?;
        lookup(object).filter(|kept| kept.is_version_of(object))
    }

    /// Has `adopt` told the objects the cache takes from now on.
    pub fn on_applied(&self, adopt: impl Fn(&[Held<K>]) + Send + Sync + 'static) {
        self.inner
            .write()
            .expect("copies lock")
            .adopters
            .push(Arc::new(adopt));
    }

    /// The controllers' cache: `lookup` finds the copy it keeps of an
    /// object.
    pub fn keep(&self, lookup: impl Fn(&K) -> Option<Held<K>> + Send + Sync + 'static) {
        self.inner.write().expect("copies lock").cache = Some(Arc::new(lookup));
    }

    /// Whether any other holder wants to be told.
    pub fn told(&self) -> bool {
        !self.inner.read().expect("copies lock").adopters.is_empty()
    }

    /// Tells the other holders the copies the cache took.
    pub fn tell(&self, objects: &[Held<K>]) {
        let adopters = self.inner.read().expect("copies lock").adopters.clone();
        for adopt in adopters {
            adopt(objects);
        }
    }
}

impl<K> Copies<K>
where
    K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// The controllers' cache is a reflector's `store` of typed copies.
    pub fn keep_store(&self, store: Store<K>) {
        self.keep(move |object| store.get(&ObjectRef::from_obj(object)).map(Held::Typed));
    }

    /// Tells the other holders what `store` took with `event` (applied to
    /// it already).
    pub fn applied(&self, event: &Event<K>, store: &Store<K>) {
        if !self.told() {
            return;
        }
        let objects: Vec<Held<K>> = match event {
            Event::Apply(object) => store
                .get(&ObjectRef::from_obj(object))
                .into_iter()
                .map(Held::Typed)
                .collect(),
            Event::InitDone => store.state().into_iter().map(Held::Typed).collect(),
            Event::Init | Event::InitApply(_) | Event::Delete(_) => return,
        };
        self.tell(&objects);
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
        copies.keep_store(reader.clone());
        let Some(Held::Typed(kept)) = copies.kept(&recordset("1")) else {
            panic!("same version")
        };
        assert!(Arc::ptr_eq(&kept, &reader.state()[0]));
        assert!(copies.kept(&recordset("2")).is_none(), "newer version");
    }

    #[test]
    fn a_copy_is_adopted_only_at_the_same_version() {
        let mut packer = crate::packed::Packer::default();
        let mut held = Held::Typed(Arc::new(recordset("1")));
        held.adopt(&Held::Packed(Packed::pack(&recordset("2"), &mut packer)));
        assert!(matches!(held, Held::Typed(_)), "another version");
        held.adopt(&Held::Packed(Packed::pack(&recordset("1"), &mut packer)));
        assert!(matches!(held, Held::Packed(_)));
        assert_eq!(
            held.object().metadata.resource_version.as_deref(),
            Some("1")
        );
    }

    #[test]
    fn holders_are_told_what_the_store_took() {
        let copies = Copies::<Recordset>::default();
        let told = Arc::new(Mutex::new(Vec::new()));
        let into = told.clone();
        copies.on_applied(move |objects| {
            into.lock()
                .unwrap()
                .extend(objects.iter().map(Held::object))
        });
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
