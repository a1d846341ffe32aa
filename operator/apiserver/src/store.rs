//! The object store: every object in memory (reads never touch disk), each
//! write admitted and applied under one lock, given the next global
//! resourceVersion, logged for watchers and committed to SQLite before it
//! is acknowledged. Reads, lists and watches see only what is durable
//! ([`crate::pending`]); a write whose commit fails is undone, with every
//! write applied after it, so no version a client saw is ever issued again.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::error::{ApiError, Error};
use crate::history::History;
use crate::metrics::Metrics;
use crate::object::{self, Admitted, FieldValidation, Part};
use crate::patch::{self, PatchType};
use crate::pending::{Bucket, Key, Pending};
use crate::persist::{self, Change, Durability, Writer};
use crate::registry::{CRD_KEY, NAMESPACE_KEY, Registry, ResourceType};
use crate::rules::Rules;
use crate::selector::{FieldSelector, LabelSelector};
use crate::stored::Dictionaries;
pub use crate::stored::ObjectRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watchers see it.
#[derive(Debug)]
pub struct LogEvent {
    pub resource_version: u64,
    pub type_key: String,
    pub namespace: String,
    pub kind: EventType,
    /// The object, as the store keeps it.
    pub object: ObjectRef,
    /// Of a change: what a filter reads of the version it replaced (labels,
    /// name, namespace and a custom kind's selectable fields), so that a
    /// filtered watch turns a change into ADDED/DELETED when an object
    /// enters or leaves the filter; `None` when that is the same in both
    /// versions (most changes), or for other events.
    pub old: Option<Arc<Value>>,
}

/// What a filter can read of `old`, the version `new` replaced, where
/// that differs from what it reads of `new`: its metadata's labels and
/// `fields` (a custom kind's selectable fields; name and namespace do not
/// change). All of `old` for kinds whose field selectors may name any
/// field (`None`).
fn replaced(old: &Value, new: &Value, fields: Option<&[String]>) -> Option<Arc<Value>> {
    let Some(fields) = fields else {
        return Some(Arc::new(old.clone()));
    };
    let pointers: Vec<String> = std::iter::once("/metadata/labels".to_string())
        .chain(fields.iter().map(|f| format!("/{}", f.replace('.', "/"))))
        .collect();
    if pointers.iter().all(|p| old.pointer(p) == new.pointer(p)) {
        return None;
    }
    let mut kept = json!({"metadata": {}});
    for pointer in &pointers {
        let Some(value) = old.pointer(pointer) else {
            continue;
        };
        let mut at = &mut kept;
        let parts: Vec<&str> = pointer[1..].split('/').collect();
        for part in &parts[..parts.len() - 1] {
            at = &mut at[*part];
        }
        at[parts[parts.len() - 1]] = value.clone();
    }
    Some(Arc::new(kept))
}

/// Options common to writes.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub validation: FieldValidation,
    pub dry_run: bool,
}

/// DeleteOptions preconditions.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// A write's outcome: the object and any warnings for the client.
#[derive(Debug)]
pub struct Written {
    pub object: ObjectRef,
    pub warnings: Vec<String>,
    /// Create: the object is new. Delete: removal waits on finalizers.
    pub flag: bool,
}

/// One page of a list.
pub struct ListPage {
    pub items: Vec<ObjectRef>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
}

/// What a list or watch selects.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    /// Whether matching reads the object (labels or fields), not only its
    /// namespace.
    pub fn reads_object(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty()
    }

    /// [`Self::matches`] of a stored object, parsed only when the filter
    /// reads more than the namespace.
    pub fn selects(&self, namespace: &str, object: &ObjectRef) -> bool {
        if self.reads_object() {
            self.matches(namespace, &object.value())
        } else {
            self.matches(namespace, &Value::Null)
        }
    }

    pub fn matches(&self, namespace: &str, object: &Value) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace)
            && self.labels.matches(object)
            && self.fields.matches(object)
    }
}

struct State {
    /// Copied on change, so requests share it without holding the lock.
    registry: Arc<Registry>,
    rules: Rules,
    /// The live objects: every write applied, durable or not.
    objects: HashMap<String, Bucket>,
    /// The durable state of objects changed by writes not yet durable.
    pending: Pending,
    /// The last resourceVersion issued.
    issued: u64,
    /// The last durable resourceVersion: what readers see.
    committed: u64,
    /// Bumped when a failed commit undoes the writes not durable.
    epoch: u64,
    history: History,
    /// What each kind's objects are packed against.
    dictionaries: Dictionaries,
}

impl State {
    fn register(&mut self, rt: ResourceType) {
        self.rules.register(&rt);
        Arc::make_mut(&mut self.registry).insert(rt);
    }

    /// An object as readers see it: its durable state.
    fn durable(&self, type_key: &str, key: &Key) -> Option<ObjectRef> {
        match self.pending.durable(type_key, key) {
            Some(durable) => durable.cloned(),
            None => self.objects.get(type_key)?.get(key).cloned(),
        }
    }

    /// Puts `object` (or its absence) at `key` in the live objects.
    fn restore(&mut self, type_key: &str, key: Key, object: Option<ObjectRef>) {
        let bucket = self.objects.entry(type_key.to_string()).or_default();
        match object {
            Some(object) => bucket.insert(key, object),
            None => bucket.remove(&key),
        };
    }
}

/// The writer's view of the state: commits advance what readers see; a
/// failed one undoes everything not durable.
struct Shared(Arc<Mutex<State>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Durability for Shared {
    fn committed(&self, rv: u64) {
        let mut state = self.lock();
        state.committed = state.committed.max(rv);
        state.pending.committed(rv);
    }

    fn failed(&self) -> u64 {
        let mut state = self.lock();
        let undone: Vec<_> = state.pending.take().collect();
        for (type_key, key, durable) in undone {
            state.restore(&type_key, key, durable);
        }
        let committed = state.committed;
        state.history.truncate_after(committed);
        state.epoch += 1;
        state.epoch
    }
}

/// Pending changes of one write, applied to the state as they are made.
pub struct Txn<'a> {
    state: &'a mut State,
    dry_run: bool,
    changes: Vec<Change>,
    /// Each event with the size of its object in bytes.
    events: Vec<(LogEvent, usize)>,
    /// What each change replaced, to undo them when the write fails.
    undo: Vec<(String, Key, Option<ObjectRef>)>,
}

fn storage_key(type_key: &str, ns: &str, name: &str) -> String {
    format!("{type_key}/{ns}/{name}")
}

impl Txn<'_> {
    fn get(&self, type_key: &str, ns: &str, name: &str) -> Option<ObjectRef> {
        self.state
            .objects
            .get(type_key)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// Stores `object` at the next resourceVersion: a change of
    /// `replacing` (the version it replaces, as the caller read it), else
    /// a new object.
    fn put(
        &mut self,
        type_key: &str,
        ns: &str,
        name: &str,
        mut object: Value,
        replacing: Option<&Value>,
    ) -> ObjectRef {
        if self.dry_run {
            return ObjectRef::new(&object);
        }
        self.state.issued += 1;
        let rv = self.state.issued;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let json: Arc<str> = object.to_string().into();
        let stored = self.state.dictionaries.pack(type_key, &json);
        let key = (ns.to_string(), name.to_string());
        let old = self
            .state
            .objects
            .entry(type_key.to_string())
            .or_default()
            .insert(key.clone(), stored.clone());
        let kind = match replacing {
            Some(_) => EventType::Modified,
            None => EventType::Added,
        };
        // Only a change's filtering reads the version it replaced.
        let filtered = replacing.and_then(|old| {
            let rt = self.state.registry.get(type_key).filter(|rt| rt.custom);
            replaced(old, &object, rt.map(|rt| rt.selectable_fields.as_slice()))
        });
        self.record(
            type_key,
            key,
            Some(json),
            (kind, stored.clone(), filtered),
            old,
        );
        stored
    }

    /// Removes an object; its last state carries the deletion's resourceVersion.
    fn remove(&mut self, type_key: &str, ns: &str, name: &str, last: &Value) -> ObjectRef {
        let mut last = last.clone();
        if self.dry_run {
            return ObjectRef::new(&last);
        }
        self.state.issued += 1;
        let rv = self.state.issued;
        last["metadata"]["resourceVersion"] = json!(rv.to_string());
        let last = self.state.dictionaries.pack(type_key, &last.to_string());
        let key = (ns.to_string(), name.to_string());
        let old = self
            .state
            .objects
            .get_mut(type_key)
            .and_then(|b| b.remove(&key));
        self.record(
            type_key,
            key,
            None,
            (EventType::Deleted, last.clone(), None),
            old,
        );
        last
    }

    /// Records the change of `key` (to `kept`, the event's object as JSON,
    /// or gone) at the current resourceVersion: to commit, to undo if the
    /// write fails, to show readers the durable `old` meanwhile, and to
    /// tell watchers (`event`: its type, the object stored and, of a
    /// change, what a filter reads of the version it replaced).
    fn record(
        &mut self,
        type_key: &str,
        key: Key,
        kept: Option<Arc<str>>,
        (kind, object, replaced): (EventType, ObjectRef, Option<Arc<Value>>),
        old: Option<ObjectRef>,
    ) {
        let rv = self.state.issued;
        let size = object.kept();
        self.changes.push(Change {
            key: storage_key(type_key, &key.0, &key.1),
            resource_version: rv,
            body: kept,
        });
        self.state.pending.touch(type_key, &key, old.as_ref(), rv);
        self.events.push((
            LogEvent {
                resource_version: rv,
                type_key: type_key.to_string(),
                namespace: key.0.clone(),
                kind,
                object,
                old: replaced,
            },
            size,
        ));
        self.undo.push((type_key.to_string(), key, old));
    }

    fn namespace_objects(&self, ns: &str) -> Vec<(ResourceType, String, ObjectRef)> {
        let mut out = Vec::new();
        for rt in self.state.registry.all().filter(|t| t.namespaced) {
            if let Some(bucket) = self.state.objects.get(&rt.key()) {
                for ((_, name), obj) in in_namespace(bucket, ns) {
                    out.push((rt.clone(), name.clone(), obj.clone()));
                }
            }
        }
        out
    }

    /// Deletes an object, or marks it deleting while finalizers remain.
    /// Returns the object and whether removal is still pending.
    fn delete(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        old: &Value,
    ) -> (ObjectRef, bool) {
        let key = rt.key();
        if key == NAMESPACE_KEY {
            return self.delete_namespace(rt, name, old);
        }
        if !object::finalizers(old).is_empty() {
            if object::is_deleting(old) {
                return (ObjectRef::new(old), true);
            }
            let mut next = old.clone();
            object::mark_deleting(rt, &mut next);
            return (self.put(&key, ns, name, next, Some(old)), true);
        }
        let last = self.remove(&key, ns, name, old);
        self.finish_namespace(ns);
        (last, false)
    }

    fn delete_namespace(
        &mut self,
        rt: &ResourceType,
        name: &str,
        old: &Value,
    ) -> (ObjectRef, bool) {
        let mut current = ObjectRef::new(old);
        if !object::is_deleting(old) {
            let mut next = old.clone();
            object::mark_deleting(rt, &mut next);
            current = self.put(NAMESPACE_KEY, "", name, next, Some(old));
        }
        for (child_rt, child, obj) in self.namespace_objects(name) {
            self.delete(&child_rt, name, &child, &obj.value());
        }
        // An empty namespace goes at once.
        self.finish_namespace(name);
        match self.get(NAMESPACE_KEY, "", name) {
            Some(ns) if !self.dry_run => (ns, true),
            Some(_) => (current, true),
            None => (current, false),
        }
    }

    /// A terminating namespace goes once it is empty.
    fn finish_namespace(&mut self, ns: &str) {
        if ns.is_empty() {
            return;
        }
        if let Some(namespace) = self.get(NAMESPACE_KEY, "", ns).map(|n| n.value())
            && object::is_deleting(&namespace)
            && self.namespace_objects(ns).is_empty()
        {
            self.remove(NAMESPACE_KEY, "", ns, &namespace);
        }
    }

    /// Stores an updated object, unless nothing changed (no write, no event,
    /// as etcd3's store skips no-op updates); removes it when its last
    /// finalizer went while it was being deleted.
    fn finish_update(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        (stored, old): (&ObjectRef, &Value),
        next: Value,
    ) -> Result<ObjectRef, ApiError> {
        if next == *old {
            return Ok(stored.clone());
        }
        if object::is_deleting(&next) && object::finalizers(&next).is_empty() {
            let last = self.remove(&rt.key(), ns, name, &next);
            self.finish_namespace(ns);
            return Ok(last);
        }
        self.state.rules.check(rt, &next, Some(old))?;
        Ok(self.put(&rt.key(), ns, name, next, Some(old)))
    }
}

fn in_namespace<'a>(
    bucket: &'a Bucket,
    ns: &'a str,
) -> impl Iterator<Item = (&'a (String, String), &'a ObjectRef)> + 'a {
    bucket
        .range((ns.to_string(), String::new())..)
        .take_while(move |((n, _), _)| n == ns)
}

/// The store; cheap to share behind an `Arc`.
pub struct Store {
    state: Arc<Mutex<State>>,
    writer: Writer,
    committed: watch::Receiver<u64>,
}

impl Store {
    /// Opens (or creates) the store in `data_dir` and loads every object.
    pub async fn open(
        data_dir: &Path,
        history_bytes: usize,
        metrics: Arc<Metrics>,
    ) -> Result<Self, Error> {
        let (db, recorded) = persist::open(data_dir).await?;
        let mut state = State {
            registry: Arc::new(Registry::default()),
            rules: Rules::default(),
            objects: HashMap::new(),
            pending: Pending::default(),
            issued: recorded,
            committed: recorded,
            epoch: 0,
            history: History::new(history_bytes, recorded),
            dictionaries: Dictionaries::default(),
        };
        persist::load(&db, |key, rv, body| {
            let corrupt = |source| Error::CorruptObject {
                key: key.clone(),
                source,
            };
            let mut parts = key.rsplitn(3, '/');
            let (Some(name), Some(ns), Some(type_key)) = (parts.next(), parts.next(), parts.next())
            else {
                return Ok(());
            };
            // Checked, not kept parsed: only a CRD is read here.
            if type_key == CRD_KEY {
                let crd: CustomResourceDefinition = serde_json::from_str(&body).map_err(corrupt)?;
                state.register(ResourceType::from_crd(&crd)?);
            } else {
                serde_json::from_str::<IgnoredAny>(&body).map_err(corrupt)?;
            }
            let object = state.dictionaries.pack(type_key, &body);
            state
                .objects
                .entry(type_key.to_string())
                .or_default()
                .insert((ns.to_string(), name.to_string()), object);
            state.issued = state.issued.max(rv);
            Ok(())
        })
        .await?;
        // Watches from before the restart relist: the history is empty.
        state.committed = state.issued;
        state.history = History::new(history_bytes, state.issued);
        let (committed_tx, committed) = watch::channel(state.issued);
        let state = Arc::new(Mutex::new(state));
        let durability = Arc::new(Shared(state.clone()));
        let store = Self {
            state,
            writer: Writer::spawn(db, committed_tx, metrics, durability),
            committed,
        };
        store.ensure_default_namespaces().await?;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn ensure_default_namespaces(&self) -> Result<(), Error> {
        let rt = self
            .resource(NAMESPACE_KEY)
            .expect("namespaces are built in");
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            if self.get(&rt, None, ns).is_none() {
                let body = json!({"metadata": {"name": ns}});
                match self.create(&rt, None, body, &WriteOptions::default()).await {
                    Ok(_) => {}
                    Err(e) if e.reason == "AlreadyExists" => {}
                    Err(e) => {
                        return Err(Error::InvalidCrd {
                            name: ns.into(),
                            reason: e.message,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs one write under the lock, then waits until it is durable. A
    /// write that fails is not seen: a refused one is undone at once, one
    /// whose commit fails is undone by the writer (with those after it).
    async fn write<T>(
        &self,
        dry_run: bool,
        f: impl FnOnce(&mut Txn) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let queued = {
            let mut state = self.lock();
            let mut txn = Txn {
                state: &mut state,
                dry_run,
                changes: Vec::new(),
                events: Vec::new(),
                undo: Vec::new(),
            };
            let out = f(&mut txn);
            let Txn {
                changes,
                events,
                undo,
                ..
            } = txn;
            match out {
                Ok(out) if !changes.is_empty() => {
                    let rv = state.issued;
                    let now = Instant::now();
                    for (event, size) in events {
                        state.history.push(Arc::new(event), size, now);
                    }
                    Ok((out, self.writer.queue(changes, rv, state.epoch)))
                }
                // It read the live state, which may hold writes not yet
                // durable (a create this one conflicts with): answered once
                // those settle, so that a read after it agrees.
                unwritten => {
                    for (type_key, key, old) in undo.into_iter().rev() {
                        state.restore(&type_key, key, old);
                    }
                    Err((unwritten, state.issued))
                }
            }
        };
        let (out, ack) = match queued {
            Ok(queued) => queued,
            Err((unwritten, issued)) => {
                self.settle(issued).await;
                return unwritten;
            }
        };
        match ack.await {
            Ok(Ok(())) => Ok(out),
            Ok(Err(e)) => Err(ApiError::internal(format!(
                "storage: {e}; the write was not made"
            ))),
            Err(_) => Err(Error::WriterStopped.into()),
        }
    }

    /// Waits until no write issued at or before `rv` is in flight: each
    /// committed, or undone by a failed commit.
    async fn settle(&self, rv: u64) {
        let mut committed = self.committed.clone();
        loop {
            committed.borrow_and_update();
            {
                let state = self.lock();
                if state.committed >= rv || state.pending.is_empty() {
                    return;
                }
            }
            if committed.changed().await.is_err() {
                return;
            }
        }
    }

    // ---- reads ----

    pub fn resource(&self, type_key: &str) -> Option<ResourceType> {
        self.lock().registry.get(type_key).cloned()
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.lock().registry.clone()
    }

    /// An object as it is durably stored.
    pub fn get(&self, rt: &ResourceType, ns: Option<&str>, name: &str) -> Option<ObjectRef> {
        let key = (ns.unwrap_or_default().to_string(), name.to_string());
        self.lock().durable(&rt.key(), &key)
    }

    /// The resourceVersion of the last durable write: the version reads
    /// are at.
    pub fn resource_version(&self) -> u64 {
        self.lock().committed
    }

    /// A page of objects in key order, after the continue token's key.
    pub fn list(
        &self,
        rt: &ResourceType,
        filter: &Filter,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> Result<ListPage, ApiError> {
        let (start_rv, after) = match continue_token {
            Some(token) => {
                let (rv, ns, name) = decode_continue(token)?;
                (Some(rv), Some((ns, name)))
            }
            None => (None, None),
        };
        let state = self.lock();
        let rv = start_rv.unwrap_or(state.committed);
        let empty = Bucket::new();
        let type_key = rt.key();
        let live = state.objects.get(&type_key).unwrap_or(&empty);
        let start = match (after, &filter.namespace) {
            (Some(key), _) => Bound::Excluded(key),
            (None, Some(ns)) => Bound::Included((ns.clone(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        // Keys sort by namespace first: a namespaced list stops at its end.
        let mut matching = state
            .pending
            .durable_range(&type_key, live, start)
            .take_while(|((ns, _), _)| filter.namespace.as_ref().is_none_or(|want| want == ns))
            .filter(|((ns, _), obj)| filter.selects(ns, obj));
        let limit = limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut continue_token = None;
        for ((ns, name), obj) in matching.by_ref() {
            items.push(obj.clone());
            if items.len() == limit {
                continue_token = Some(encode_continue(rv, ns, name));
                break;
            }
        }
        // A full last page says so only when something follows it.
        if continue_token.is_some() && matching.next().is_none() {
            continue_token = None;
        }
        Ok(ListPage {
            items,
            resource_version: rv,
            continue_token,
        })
    }

    /// The durable events of a kind after `after`, and the version they
    /// reach; `None` when `after` is older than the kind's history, or
    /// newer than anything durable (a version of an earlier life of the
    /// store): 410 Expired, and the client relists.
    pub fn events_after(&self, type_key: &str, after: u64) -> Option<(Vec<Arc<LogEvent>>, u64)> {
        let state = self.lock();
        if after > state.committed {
            return None;
        }
        let events = state.history.after(type_key, after, state.committed)?;
        Some((events, state.committed))
    }

    /// Drops the watch history's stale events, now and then for ever: a
    /// kind no longer written keeps only its last events.
    pub(crate) async fn expire_history(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(Duration::from_secs(15));
        loop {
            ticks.tick().await;
            self.lock().history.expire(Instant::now());
        }
    }

    /// Notified with the resourceVersion of each durable commit.
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }

    // ---- writes ----

    pub async fn create(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if rt.read_only {
            return Err(ApiError::method_not_allowed());
        }
        let name = match object::meta_str(&body, "name").filter(|n| !n.is_empty()) {
            Some(name) => name.to_string(),
            None => match object::meta_str(&body, "generateName").filter(|n| !n.is_empty()) {
                Some(prefix) => format!("{prefix}{}", random_suffix()),
                None => String::new(),
            },
        };
        if rt.namespaced
            && let Some(body_ns) = object::meta_str(&body, "namespace")
            && !body_ns.is_empty()
            && Some(body_ns) != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        object::validate_name(rt, &name)?;
        let Admitted {
            mut object,
            warnings,
        } = object::admit(rt, body, &name, opts.validation, None)?;
        let ns_key = if rt.namespaced {
            ns.unwrap_or_default()
        } else {
            ""
        };
        let object = self
            .write(opts.dry_run, |txn| {
                check_namespace(txn, rt, ns_key)?;
                if txn.get(&rt.key(), ns_key, &name).is_some() {
                    return Err(ApiError::already_exists(&rt.qualified(), &name));
                }
                object::prepare_create(rt, &mut object, &name, rt.namespaced.then_some(ns_key));
                txn.state.rules.check(rt, &object, None)?;
                Ok(txn.put(&rt.key(), ns_key, &name, object, None))
            })
            .await?;
        Ok(Written {
            object,
            warnings,
            flag: true,
        })
    }

    pub async fn update(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        body: Value,
        part: Part,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if rt.read_only {
            return Err(ApiError::method_not_allowed());
        }
        check_body_name(&body, name)?;
        let ns_key = ns.unwrap_or_default();
        let mut warnings = Vec::new();
        let object = self
            .write(opts.dry_run, |txn| {
                let stored = txn
                    .get(&rt.key(), ns_key, name)
                    .ok_or_else(|| ApiError::not_found(&rt.qualified(), name))?;
                let old = stored.value();
                let admitted = object::admit(rt, body, name, opts.validation, Some(&old))?;
                warnings = admitted.warnings;
                let next = object::prepare_update(rt, &old, admitted.object, part, true)?;
                txn.finish_update(rt, ns_key, name, (&stored, &old), next)
            })
            .await?;
        Ok(Written {
            object,
            warnings,
            flag: false,
        })
    }

    /// Applies a patch; an apply patch creates the object when absent.
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        patch_type: PatchType,
        body: &[u8],
        part: Part,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if rt.read_only {
            return Err(ApiError::method_not_allowed());
        }
        let patch_doc: Value = match patch_type {
            PatchType::Apply => patch::parse_apply_body(body)?,
            _ => serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?,
        };
        if patch_type == PatchType::Apply {
            check_body_name(&patch_doc, name)?;
            if patch_doc.get("apiVersion").is_none() || patch_doc.get("kind").is_none() {
                return Err(ApiError::bad_request(
                    "apiVersion and kind must be set in an apply patch",
                ));
            }
        }
        let ns_key = ns.unwrap_or_default();
        // The live state: an apply after a create not yet durable patches it.
        let absent = self
            .lock()
            .objects
            .get(&rt.key())
            .is_none_or(|bucket| !bucket.contains_key(&(ns_key.to_string(), name.to_string())));
        if absent && patch_type == PatchType::Apply && part == Part::Main {
            let mut body = patch_doc;
            body["metadata"]["name"] = json!(name);
            return self.create(rt, ns, body, opts).await;
        }
        let mut warnings = Vec::new();
        let object = self
            .write(opts.dry_run, |txn| {
                let stored = txn
                    .get(&rt.key(), ns_key, name)
                    .ok_or_else(|| ApiError::not_found(&rt.qualified(), name))?;
                let old = stored.value();
                let mut doc = old.clone();
                match patch_type {
                    PatchType::Json => {
                        let ops = patch_doc.as_array().ok_or_else(|| {
                            ApiError::bad_request("a JSON patch must be an array of operations")
                        })?;
                        patch::json_patch(&mut doc, ops)?;
                    }
                    PatchType::Merge => patch::merge_patch(&mut doc, &patch_doc),
                    PatchType::Apply if part == Part::Status => {
                        // The applier owns .status: its applied status replaces the live one.
                        doc["status"] = patch_doc.get("status").cloned().unwrap_or(Value::Null);
                    }
                    PatchType::Apply => patch::apply(&mut doc, &patch_doc),
                }
                check_body_name(&doc, name)?;
                let admitted = object::admit(rt, doc, name, opts.validation, Some(&old))?;
                warnings = admitted.warnings;
                let next = object::prepare_update(rt, &old, admitted.object, part, false)?;
                txn.finish_update(rt, ns_key, name, (&stored, &old), next)
            })
            .await?;
        Ok(Written {
            object,
            warnings,
            flag: false,
        })
    }

    pub async fn delete(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        pre: &Preconditions,
        dry_run: bool,
    ) -> Result<Written, ApiError> {
        if rt.read_only {
            return Err(ApiError::method_not_allowed());
        }
        let ns_key = ns.unwrap_or_default();
        let (object, pending) = self
            .write(dry_run, |txn| {
                let old = txn
                    .get(&rt.key(), ns_key, name)
                    .ok_or_else(|| ApiError::not_found(&rt.qualified(), name))?
                    .value();
                check_preconditions(rt, &old, name, pre)?;
                Ok(txn.delete(rt, ns_key, name, &old))
            })
            .await?;
        Ok(Written {
            object,
            warnings: Vec::new(),
            flag: pending,
        })
    }

    /// Installs or updates a CRD (the operator's own, at start-up), which
    /// registers its kind. Unchanged CRDs are not rewritten.
    pub async fn install_crd(&self, crd: &CustomResourceDefinition) -> Result<(), Error> {
        let rt = ResourceType::from_crd(crd)?;
        let name = crd.metadata.name.clone().unwrap_or_default();
        let mut body = serde_json::to_value(crd).map_err(|source| Error::CorruptObject {
            key: name.clone(),
            source,
        })?;
        body["apiVersion"] = json!("apiextensions.k8s.io/v1");
        body["kind"] = json!("CustomResourceDefinition");
        body["status"] = json!({
            "acceptedNames": body["spec"]["names"].clone(),
            "storedVersions": [rt.version.clone()],
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": object::now_rfc3339()},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": object::now_rfc3339()},
            ],
        });
        let crd_rt = self.resource(CRD_KEY).expect("CRDs are built in");
        self.write(false, |txn| {
            match txn.get(CRD_KEY, "", &name) {
                Some(old) if old.value().get("spec") == body.get("spec") => {}
                Some(old) => {
                    let old = old.value();
                    let mut next = body.clone();
                    next["metadata"] = old["metadata"].clone();
                    next["status"] = old["status"].clone();
                    txn.put(CRD_KEY, "", &name, next, Some(&old));
                }
                None => {
                    let mut next = body.clone();
                    object::prepare_create(&crd_rt, &mut next, &name, None);
                    txn.put(CRD_KEY, "", &name, next, None);
                }
            }
            txn.state.register(rt.clone());
            Ok(())
        })
        .await
        .map_err(|e| Error::InvalidCrd {
            name: name.clone(),
            reason: e.message,
        })
    }
}

fn check_namespace(txn: &Txn, rt: &ResourceType, ns: &str) -> Result<(), ApiError> {
    if !rt.namespaced {
        return Ok(());
    }
    match txn.get(NAMESPACE_KEY, "", ns) {
        None => Err(ApiError::not_found("namespaces", ns)),
        Some(obj) if object::is_deleting(&obj.value()) => Err(ApiError::forbidden(format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        ))),
        Some(_) => Ok(()),
    }
}

fn check_body_name(body: &Value, url_name: &str) -> Result<(), ApiError> {
    match object::meta_str(body, "name") {
        Some(name) if name != url_name => Err(ApiError::bad_request(format!(
            "the name of the object ({name}) does not match the name on the URL ({url_name})"
        ))),
        _ => Ok(()),
    }
}

fn check_preconditions(
    rt: &ResourceType,
    old: &Value,
    name: &str,
    pre: &Preconditions,
) -> Result<(), ApiError> {
    let current_uid = object::meta_str(old, "uid").unwrap_or_default();
    if let Some(uid) = &pre.uid
        && uid != current_uid
    {
        return Err(ApiError::conflict(
            &rt.qualified(),
            name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {current_uid}"
            ),
        ));
    }
    let current_rv = object::meta_str(old, "resourceVersion").unwrap_or_default();
    if let Some(rv) = &pre.resource_version
        && rv != current_rv
    {
        return Err(ApiError::conflict(
            &rt.qualified(),
            name,
            &format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in meta: {current_rv}"
            ),
        ));
    }
    Ok(())
}

fn random_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Continue tokens: hex of `rv/namespace/name` (opaque to clients).
fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    format!("{rv}/{ns}/{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_continue(token: &str) -> Result<(u64, String, String), ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid");
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let text = String::from_utf8(bytes.ok_or_else(bad)?).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '/');
    let rv = parts.next().and_then(|r| r.parse().ok()).ok_or_else(bad)?;
    let ns = parts.next().ok_or_else(bad)?.to_string();
    let name = parts.next().ok_or_else(bad)?.to_string();
    Ok((rv, ns, name))
}
