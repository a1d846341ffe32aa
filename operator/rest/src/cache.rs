//! Watch-fed mirrors of the resources the API answers from, indexed the
//! way requests look them up (by uid, by zone), so that no request lists
//! the API server. A write waits until its own mirror shows it, so a
//! client reads its writes.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use designate_crd::{Pool, Recordset, Zone};
use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::error::{ApiError, Error};

/// The field manager of writes made on a client's behalf.
pub const FIELD_MANAGER: &str = "designate-rest";

/// How long a write waits for its watch event before answering anyway.
const OWN_WRITE_WAIT: Duration = Duration::from_secs(5);

/// The mirrors of every kind the API serves.
#[derive(Clone)]
pub struct Cache {
    pub zones: Mirror<Zone>,
    pub recordsets: Mirror<Recordset>,
    pub pools: Mirror<Pool>,
    pub namespaces: Mirror<Namespace>,
}

impl Cache {
    /// Starts the watches and waits for their first lists.
    pub async fn start(client: &Client) -> Result<Self, Error> {
        let cache = Self {
            zones: Mirror::start(Api::all(client.clone()), "zones", |z: &Zone| {
                format!("{}/{}", z.namespace().unwrap_or_default(), z.name_any())
            }),
            recordsets: Mirror::start(Api::all(client.clone()), "recordsets", |rs: &Recordset| {
                format!(
                    "{}/{}",
                    rs.namespace().unwrap_or_default(),
                    rs.spec.zone_ref
                )
            }),
            pools: Mirror::start(Api::all(client.clone()), "pools", |p: &Pool| p.name_any()),
            namespaces: Mirror::start(Api::all(client.clone()), "namespaces", |n: &Namespace| {
                n.name_any()
            }),
        };
        cache.zones.ready().await?;
        cache.recordsets.ready().await?;
        cache.pools.ready().await?;
        cache.namespaces.ready().await?;
        Ok(cache)
    }
}

/// One kind's objects by uid, and by a group key (a recordset's zone, a
/// zone's or pool's name).
pub struct Mirror<K> {
    state: Arc<RwLock<State<K>>>,
    changed: watch::Receiver<u64>,
    kind: &'static str,
}

impl<K> Clone for Mirror<K> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            changed: self.changed.clone(),
            kind: self.kind,
        }
    }
}

struct State<K> {
    by_uid: HashMap<String, Arc<K>>,
    groups: HashMap<String, BTreeSet<String>>,
    group_of: fn(&K) -> String,
    /// The objects of a relist being received (`Init` .. `InitDone`).
    relist: Option<Vec<K>>,
    ready: bool,
}

impl<K: Resource> State<K> {
    fn insert(&mut self, object: K) {
        let Some(uid) = object.meta().uid.clone() else {
            return;
        };
        self.remove(&uid);
        self.groups
            .entry((self.group_of)(&object))
            .or_default()
            .insert(uid.clone());
        self.by_uid.insert(uid, Arc::new(object));
    }

    fn remove(&mut self, uid: &str) {
        if let Some(old) = self.by_uid.remove(uid) {
            let group = (self.group_of)(&old);
            if let Some(members) = self.groups.get_mut(&group) {
                members.remove(uid);
                if members.is_empty() {
                    self.groups.remove(&group);
                }
            }
        }
    }

    fn apply(&mut self, event: Event<K>) {
        match event {
            Event::Apply(object) => self.insert(object),
            Event::Delete(object) => {
                if let Some(uid) = object.meta().uid.as_deref() {
                    self.remove(uid);
                }
            }
            Event::Init => self.relist = Some(Vec::new()),
            Event::InitApply(object) => self.relist.get_or_insert_default().push(object),
            Event::InitDone => {
                self.by_uid.clear();
                self.groups.clear();
                for object in self.relist.take().unwrap_or_default() {
                    self.insert(object);
                }
                self.ready = true;
            }
        }
    }
}

impl<K> Mirror<K>
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Default,
{
    fn start(api: Api<K>, kind: &'static str, group_of: fn(&K) -> String) -> Self {
        let state = Arc::new(RwLock::new(State {
            by_uid: HashMap::new(),
            groups: HashMap::new(),
            group_of,
            relist: None,
            ready: false,
        }));
        let (tx, changed) = watch::channel(0u64);
        let writer = state.clone();
        tokio::spawn(async move {
            let mut events =
                watcher::watcher(api, watcher::Config::default().any_semantic()).boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) => {
                        writer.write().expect("cache lock").apply(event);
                        tx.send_modify(|n| *n += 1);
                    }
                    Err(error) => tracing::warn!(kind, %error, "watch failed; retrying"),
                }
            }
        });
        Self {
            state,
            changed,
            kind,
        }
    }

    async fn ready(&self) -> Result<(), Error> {
        let mut changed = self.changed.clone();
        while !self.state.read().expect("cache lock").ready {
            changed
                .changed()
                .await
                .map_err(|_| Error::CacheStopped(self.kind))?;
        }
        Ok(())
    }
}

impl<K: Resource> Mirror<K> {
    pub fn get(&self, uid: &str) -> Option<Arc<K>> {
        self.state
            .read()
            .expect("cache lock")
            .by_uid
            .get(uid)
            .cloned()
    }

    /// Every object (in no particular order).
    pub fn all(&self) -> Vec<Arc<K>> {
        self.state
            .read()
            .expect("cache lock")
            .by_uid
            .values()
            .cloned()
            .collect()
    }

    /// The objects of a group (`namespace/zoneRef` for recordsets,
    /// `namespace/name` for zones, the name for pools and namespaces).
    pub fn group(&self, key: &str) -> Vec<Arc<K>> {
        let state = self.state.read().expect("cache lock");
        state
            .groups
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|uid| state.by_uid.get(uid).cloned())
            .collect()
    }

    /// Waits until the mirror holds `uid` at `resource_version` or later,
    /// so that a client reads its own write.
    pub async fn wait_for(&self, uid: &str, resource_version: Option<&str>) {
        let version = rv_number(resource_version.unwrap_or_default());
        self.wait_until(uid, |held| held.is_some_and(|v| v >= version))
            .await;
    }

    /// Waits until the mirror shows a delete: the object gone, or held at
    /// `resource_version` (its deletion mark) or later, as its finalizer
    /// may remove it before the mark is seen.
    pub async fn wait_for_delete(&self, uid: &str, resource_version: Option<&str>) {
        let version = resource_version.map(rv_number);
        self.wait_until(uid, |held| match (held, version) {
            (None, _) => true,
            (Some(held), Some(version)) => held >= version,
            (Some(_), None) => false,
        })
        .await;
    }

    /// Waits until `seen` holds of the resource version the mirror has of
    /// `uid` (`None`: not held). Gives up quietly after a while: the answer
    /// is right, only a read that follows at once could miss the write.
    async fn wait_until(&self, uid: &str, seen: impl Fn(Option<u64>) -> bool) {
        let held = |state: &State<K>| {
            state.by_uid.get(uid).map(|object| {
                rv_number(
                    object
                        .meta()
                        .resource_version
                        .as_deref()
                        .unwrap_or_default(),
                )
            })
        };
        let mut changed = self.changed.clone();
        let wait = async {
            while !seen(held(&self.state.read().expect("cache lock"))) {
                if changed.changed().await.is_err() {
                    return;
                }
            }
        };
        if tokio::time::timeout(OWN_WRITE_WAIT, wait).await.is_err() {
            tracing::warn!(
                kind = self.kind,
                uid,
                "own write not seen by the watch in time"
            );
        }
    }
}

/// Writes on a client's behalf, each answered once the mirror shows it.
impl<K> Mirror<K>
where
    K: Resource<Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned
        + Serialize
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default,
{
    fn api(client: &Client, object: &K) -> Api<K> {
        Api::namespaced(
            client.clone(),
            object.meta().namespace.as_deref().unwrap_or_default(),
        )
    }

    pub async fn create(&self, client: &Client, object: &K) -> Result<K, kube::Error> {
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        let made = Self::api(client, object).create(&params, object).await?;
        self.wait_for(
            &made.meta().uid.clone().unwrap_or_default(),
            made.meta().resource_version.as_deref(),
        )
        .await;
        Ok(made)
    }

    /// A JSON merge patch of the object's `spec`.
    pub async fn patch_spec(
        &self,
        client: &Client,
        object: &K,
        spec: Value,
    ) -> Result<K, kube::Error> {
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        let name = object.meta().name.clone().unwrap_or_default();
        let patch = Patch::Merge(json!({ "spec": spec }));
        let patched = Self::api(client, object)
            .patch(&name, &params, &patch)
            .await?;
        self.wait_for(
            &patched.meta().uid.clone().unwrap_or_default(),
            patched.meta().resource_version.as_deref(),
        )
        .await;
        Ok(patched)
    }

    /// Deletes the object and returns it as Designate shows it then: marked
    /// for deletion (whether its finalizer holds it or it is already gone).
    pub async fn delete(&self, client: &Client, object: &K) -> Result<K, kube::Error> {
        let name = object.meta().name.clone().unwrap_or_default();
        let deleting = match Self::api(client, object)
            .delete(&name, &DeleteParams::default())
            .await
        {
            Ok(either) => either.left(),
            Err(kube::Error::Api(e)) if e.code == 404 => None,
            Err(error) => return Err(error),
        };
        let uid = object.meta().uid.clone().unwrap_or_default();
        let version = deleting
            .as_ref()
            .and_then(|o| o.meta().resource_version.clone());
        self.wait_for_delete(&uid, version.as_deref()).await;
        let mut shown = deleting.unwrap_or_else(|| object.clone());
        shown
            .meta_mut()
            .deletion_timestamp
            .get_or_insert_with(|| Time(k8s_openapi::jiff::Timestamp::now()));
        Ok(shown)
    }
}

/// Resource versions are opaque to clients, but both the embedded API and
/// etcd give increasing integers; anything else compares as 0 (no wait).
fn rv_number(rv: &str) -> u64 {
    rv.parse().unwrap_or(0)
}

/// The API server refused a write Central let through (a CRD rule it
/// alone checks), or failed: a refusal is the client's 400, the rest ours.
impl From<kube::Error> for ApiError {
    fn from(error: kube::Error) -> Self {
        match error {
            kube::Error::Api(status) if matches!(status.code, 400 | 422) => {
                ApiError::invalid_object(status.message)
            }
            kube::Error::Api(status) if status.code == 409 => {
                ApiError::new(409, "duplicate", status.message)
            }
            other => ApiError::unknown(other),
        }
    }
}
