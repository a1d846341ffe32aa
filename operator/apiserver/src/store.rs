//! The object store: every object in memory (reads never touch disk), each
//! write admitted and applied under one lock, given the next global
//! resourceVersion, logged for watchers and committed to SQLite before it
//! is acknowledged. Watchers see an event only once it is durable.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::error::{ApiError, Error};
use crate::metrics::Metrics;
use crate::object::{self, Admitted, FieldValidation, Part};
use crate::patch::{self, PatchType};
use crate::persist::{self, Change, Writer};
use crate::registry::{CRD_KEY, NAMESPACE_KEY, Registry, ResourceType};
use crate::rules::Rules;
use crate::selector::{FieldSelector, LabelSelector};

pub type ObjectRef = Arc<Value>;

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

/// One change, as watchers see it. `old` lets a filtered watch turn a
/// change into ADDED/DELETED when an object enters or leaves the filter.
#[derive(Debug)]
pub struct LogEvent {
    pub resource_version: u64,
    pub type_key: String,
    pub namespace: String,
    pub kind: EventType,
    pub object: ObjectRef,
    pub old: Option<ObjectRef>,
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
    pub fn matches(&self, namespace: &str, object: &Value) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace)
            && self.labels.matches(object)
            && self.fields.matches(object)
    }
}

type Bucket = BTreeMap<(String, String), ObjectRef>;

struct State {
    /// Copied on change, so requests share it without holding the lock.
    registry: Arc<Registry>,
    rules: Rules,
    objects: HashMap<String, Bucket>,
    resource_version: u64,
    log: VecDeque<Arc<LogEvent>>,
    /// Every event after this resourceVersion is still in `log`.
    horizon: u64,
    log_capacity: usize,
    poisoned: bool,
}

impl State {
    fn register(&mut self, rt: ResourceType) {
        self.rules.register(&rt);
        Arc::make_mut(&mut self.registry).insert(rt);
    }
}

/// Pending changes of one write, applied to the state as they are made.
pub struct Txn<'a> {
    state: &'a mut State,
    dry_run: bool,
    changes: Vec<Change>,
    events: Vec<LogEvent>,
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

    /// Stores `object` at the next resourceVersion.
    fn put(
        &mut self,
        type_key: &str,
        ns: &str,
        name: &str,
        mut object: Value,
        kind: EventType,
    ) -> ObjectRef {
        if self.dry_run {
            return Arc::new(object);
        }
        self.state.resource_version += 1;
        let rv = self.state.resource_version;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let object = Arc::new(object);
        let old = self
            .state
            .objects
            .entry(type_key.to_string())
            .or_default()
            .insert((ns.to_string(), name.to_string()), object.clone());
        self.changes.push(Change {
            key: storage_key(type_key, ns, name),
            resource_version: rv,
            body: Some(object.to_string()),
        });
        self.events.push(LogEvent {
            resource_version: rv,
            type_key: type_key.to_string(),
            namespace: ns.to_string(),
            kind,
            object: object.clone(),
            old,
        });
        object
    }

    /// Removes an object; its last state carries the deletion's resourceVersion.
    fn remove(&mut self, type_key: &str, ns: &str, name: &str, last: &Value) -> ObjectRef {
        if self.dry_run {
            return Arc::new(last.clone());
        }
        self.state.resource_version += 1;
        let rv = self.state.resource_version;
        let mut last = last.clone();
        last["metadata"]["resourceVersion"] = json!(rv.to_string());
        let last = Arc::new(last);
        let old = self
            .state
            .objects
            .get_mut(type_key)
            .and_then(|b| b.remove(&(ns.to_string(), name.to_string())));
        self.changes.push(Change {
            key: storage_key(type_key, ns, name),
            resource_version: rv,
            body: None,
        });
        self.events.push(LogEvent {
            resource_version: rv,
            type_key: type_key.to_string(),
            namespace: ns.to_string(),
            kind: EventType::Deleted,
            object: last.clone(),
            old,
        });
        last
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
                return (Arc::new(old.clone()), true);
            }
            let mut next = old.clone();
            object::mark_deleting(rt, &mut next);
            return (self.put(&key, ns, name, next, EventType::Modified), true);
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
        let mut current = Arc::new(old.clone());
        if !object::is_deleting(old) {
            let mut next = old.clone();
            object::mark_deleting(rt, &mut next);
            current = self.put(NAMESPACE_KEY, "", name, next, EventType::Modified);
        }
        for (child_rt, child, obj) in self.namespace_objects(name) {
            self.delete(&child_rt, name, &child, &obj);
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
        if let Some(namespace) = self.get(NAMESPACE_KEY, "", ns)
            && object::is_deleting(&namespace)
            && self.namespace_objects(ns).is_empty()
        {
            self.remove(NAMESPACE_KEY, "", ns, &namespace.clone());
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
        old: &ObjectRef,
        next: Value,
    ) -> Result<ObjectRef, ApiError> {
        if next == **old {
            return Ok(old.clone());
        }
        if object::is_deleting(&next) && object::finalizers(&next).is_empty() {
            let last = self.remove(&rt.key(), ns, name, &next);
            self.finish_namespace(ns);
            return Ok(last);
        }
        self.state.rules.check(rt, &next, Some(old))?;
        Ok(self.put(&rt.key(), ns, name, next, EventType::Modified))
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
    state: Mutex<State>,
    writer: Writer,
    committed: watch::Receiver<u64>,
}

impl Store {
    /// Opens (or creates) the store in `data_dir` and loads every object.
    pub async fn open(
        data_dir: &Path,
        log_capacity: usize,
        metrics: Arc<Metrics>,
    ) -> Result<Self, Error> {
        let (db, loaded) = persist::open(data_dir).await?;
        let mut state = State {
            registry: Arc::new(Registry::default()),
            rules: Rules::default(),
            objects: HashMap::new(),
            resource_version: loaded.resource_version,
            log: VecDeque::new(),
            horizon: loaded.resource_version,
            log_capacity: log_capacity.max(1),
            poisoned: false,
        };
        for (key, rv, body) in loaded.objects {
            let object: Value =
                serde_json::from_str(&body).map_err(|source| Error::CorruptObject {
                    key: key.clone(),
                    source,
                })?;
            let mut parts = key.rsplitn(3, '/');
            let (name, ns, type_key) = (parts.next(), parts.next(), parts.next());
            let (Some(name), Some(ns), Some(type_key)) = (name, ns, type_key) else {
                continue;
            };
            if type_key == CRD_KEY {
                let crd: CustomResourceDefinition = serde_json::from_value(object.clone())
                    .map_err(|source| Error::CorruptObject {
                        key: key.clone(),
                        source,
                    })?;
                state.register(ResourceType::from_crd(&crd)?);
            }
            state.resource_version = state.resource_version.max(rv);
            state
                .objects
                .entry(type_key.to_string())
                .or_default()
                .insert((ns.to_string(), name.to_string()), Arc::new(object));
        }
        state.horizon = state.resource_version;
        let (committed_tx, committed) = watch::channel(state.resource_version);
        let store = Self {
            state: Mutex::new(state),
            writer: Writer::spawn(db, committed_tx, metrics),
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

    /// Runs one write under the lock, then waits until it is durable.
    async fn write<T>(
        &self,
        dry_run: bool,
        f: impl FnOnce(&mut Txn) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (out, ack) = {
            let mut state = self.lock();
            if state.poisoned {
                return Err(ApiError::internal(
                    "storage failed earlier; restart the control plane",
                ));
            }
            let mut txn = Txn {
                state: &mut state,
                dry_run,
                changes: Vec::new(),
                events: Vec::new(),
            };
            let out = f(&mut txn)?;
            let Txn {
                changes, events, ..
            } = txn;
            if changes.is_empty() {
                return Ok(out);
            }
            let rv = state.resource_version;
            for event in events {
                state.log.push_back(Arc::new(event));
            }
            while state.log.len() > state.log_capacity {
                if let Some(dropped) = state.log.pop_front() {
                    state.horizon = dropped.resource_version;
                }
            }
            (out, self.writer.queue(changes, rv))
        };
        match ack.await {
            Ok(Ok(())) => Ok(out),
            Ok(Err(e)) => {
                self.lock().poisoned = true;
                Err(ApiError::internal(format!("storage: {e}")))
            }
            Err(_) => Err(Error::WriterStopped.into()),
        }
    }

    // ---- reads ----

    pub fn resource(&self, type_key: &str) -> Option<ResourceType> {
        self.lock().registry.get(type_key).cloned()
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.lock().registry.clone()
    }

    pub fn get(&self, rt: &ResourceType, ns: Option<&str>, name: &str) -> Option<ObjectRef> {
        self.lock()
            .objects
            .get(&rt.key())?
            .get(&(ns.unwrap_or_default().to_string(), name.to_string()))
            .cloned()
    }

    /// Current resourceVersion (of the last acknowledged or pending write).
    pub fn resource_version(&self) -> u64 {
        self.lock().resource_version
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
        let rv = start_rv.unwrap_or(state.resource_version);
        let empty = Bucket::new();
        let bucket = state.objects.get(&rt.key()).unwrap_or(&empty);
        let start = match (after, &filter.namespace) {
            (Some(key), _) => Bound::Excluded(key),
            (None, Some(ns)) => Bound::Included((ns.clone(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        // Keys sort by namespace first: a namespaced list stops at its end.
        let mut matching = bucket
            .range((start, Bound::Unbounded))
            .take_while(|((ns, _), _)| filter.namespace.as_ref().is_none_or(|want| want == ns))
            .filter(|((ns, _), obj)| filter.matches(ns, obj));
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

    /// Durable events after `after` (and up to the committed version), or
    /// `None` when `after` is older than the retained history (410 Expired).
    pub fn events_after(&self, after: u64) -> Option<Vec<Arc<LogEvent>>> {
        let committed = *self.committed.borrow();
        let state = self.lock();
        if after < state.horizon {
            return None;
        }
        let start = state.log.partition_point(|e| e.resource_version <= after);
        Some(
            state
                .log
                .range(start..)
                .take_while(|e| e.resource_version <= committed)
                .cloned()
                .collect(),
        )
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
        } = object::admit(rt, body, &name, opts.validation)?;
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
                Ok(txn.put(&rt.key(), ns_key, &name, object, EventType::Added))
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
        let Admitted { object, warnings } = object::admit(rt, body, name, opts.validation)?;
        let ns_key = ns.unwrap_or_default();
        let object = self
            .write(opts.dry_run, |txn| {
                let old = txn
                    .get(&rt.key(), ns_key, name)
                    .ok_or_else(|| ApiError::not_found(&rt.qualified(), name))?;
                let next = object::prepare_update(rt, &old, object, part, true)?;
                txn.finish_update(rt, ns_key, name, &old, next)
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
        let absent = self.get(rt, Some(ns_key), name).is_none();
        if absent && patch_type == PatchType::Apply && part == Part::Main {
            let mut body = patch_doc;
            body["metadata"]["name"] = json!(name);
            return self.create(rt, ns, body, opts).await;
        }
        let mut warnings = Vec::new();
        let object = self
            .write(opts.dry_run, |txn| {
                let old = txn
                    .get(&rt.key(), ns_key, name)
                    .ok_or_else(|| ApiError::not_found(&rt.qualified(), name))?;
                let mut doc = (*old).clone();
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
                let admitted = object::admit(rt, doc, name, opts.validation)?;
                warnings = admitted.warnings;
                let next = object::prepare_update(rt, &old, admitted.object, part, false)?;
                txn.finish_update(rt, ns_key, name, &old, next)
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
                    .ok_or_else(|| ApiError::not_found(&rt.qualified(), name))?;
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
                Some(old) if old.get("spec") == body.get("spec") => {}
                Some(old) => {
                    let mut next = body.clone();
                    next["metadata"] = old["metadata"].clone();
                    next["status"] = old["status"].clone();
                    txn.put(CRD_KEY, "", &name, next, EventType::Modified);
                }
                None => {
                    let mut next = body.clone();
                    object::prepare_create(&crd_rt, &mut next, &name, None);
                    txn.put(CRD_KEY, "", &name, next, EventType::Added);
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
        Some(obj) if object::is_deleting(&obj) => Err(ApiError::forbidden(format!(
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
