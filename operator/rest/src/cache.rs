//! Watch-fed mirrors of the resources the API answers from, indexed the
//! way requests look them up (by uid, by zone), so that no request lists
//! the API server. A write waits until its own mirror shows it, so a
//! client reads its writes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::ops::{Bound, ControlFlow};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use designate_crd::copies::{Copies, Held, SharedCopies};
use designate_crd::grant::{self, GrantKey, Mark};
use designate_crd::lenient::{Lenient, Undecodable, decoded};
use designate_crd::{
    Blacklist, FloatingIp, Pool, Quota, Recordset, Tld, TsigKey, Zone, ZoneShare, ZoneTask,
    ZoneTransferAccept, ZoneTransferRequest, ZoneType,
};
use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::error::{ApiError, Error};
use crate::tally::{Side, Tally};

/// Maps looked up per list item: a fast hash (keys are uids and names).
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

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
    pub tlds: Mirror<Tld>,
    pub blacklists: Mirror<Blacklist>,
    pub namespaces: Mirror<Namespace>,
    /// The service heartbeats: Leases labelled with a service name in the
    /// operator's namespace.
    pub leases: Mirror<Lease>,
    pub tsigkeys: Mirror<TsigKey>,
    /// The Secrets of TSIG keys: labelled, in the operator's namespace.
    pub tsig_secrets: Mirror<Secret>,
    /// Per-project quotas, found by the project they are for.
    pub quotas: Mirror<Quota>,
    /// The floating IPs the Sink learned, grouped by project, found by
    /// their key (`<region>:<id>`).
    pub floating_ips: Mirror<FloatingIp>,
    /// Zone shares, grouped by their zone (`namespace/zoneRef`), found by
    /// `<target project>/<namespace>/<zoneRef>` ([`share_key`]).
    pub zone_shares: Mirror<ZoneShare>,
    /// Zone exports and imports, in their projects' namespaces.
    pub zone_tasks: Mirror<ZoneTask>,
    /// Zone transfer requests, in their zones' namespaces.
    pub transfer_requests: Mirror<ZoneTransferRequest>,
    /// Zone transfer accepts, in the accepting projects' namespaces.
    pub transfer_accepts: Mirror<ZoneTransferAccept>,
    /// The recordsets of listed zones, per namespace.
    tally: Tally,
}

impl Cache {
    /// Starts the watches and waits for their first lists; `namespace` is
    /// the operator's, where services heartbeat.
    pub async fn start(
        client: &Client,
        namespace: &str,
        key: Option<GrantKey>,
        copies: &SharedCopies,
    ) -> Result<Self, Error> {
        let tally = Tally::default();
        let cache = Self {
            zones: Mirror::sharing(
                Api::all(client.clone()),
                "zones",
                Index {
                    group_of: |z: &Zone| zone_key(z.meta().namespace.as_deref(), &z.name_any()),
                    // Designate lists a zone being deleted (action DELETE).
                    listed: |_: &Zone| true,
                    aliases: managed_recordset_ids,
                    tree_name: |z: &Zone| Some(reversed_name(&z.spec.name)),
                    hidden: |z: &Zone, key| {
                        grant::in_transfer(&z.metadata) || grant::marked(key, z, Mark::Moved)
                    },
                },
                key.clone(),
                Along {
                    copies: copies.zones.clone(),
                    tally: Some((Side::Zones, tally.clone())),
                },
            ),
            recordsets: Mirror::sharing(
                Api::all(client.clone()),
                "recordsets",
                Index {
                    group_of: |rs: &Recordset| {
                        zone_key(rs.meta().namespace.as_deref(), &rs.spec.zone_ref)
                    },
                    // Designate removes a deleted set's row at once.
                    listed: |rs: &Recordset| rs.metadata.deletion_timestamp.is_none(),
                    aliases: |_: &Recordset| Vec::new(),
                    tree_name: |_: &Recordset| None,
                    hidden: |rs: &Recordset, _| grant::in_transfer(&rs.metadata),
                },
                key.clone(),
                Along {
                    copies: copies.recordsets.clone(),
                    tally: Some((Side::Recordsets, tally.clone())),
                },
            ),
            pools: Mirror::start(
                Api::all(client.clone()),
                "pools",
                Index::by_name(),
                key.clone(),
            ),
            tlds: Mirror::start(
                Api::all(client.clone()),
                "tlds",
                Index {
                    // Found by name as the unique key compares (MySQL's
                    // case-insensitive collation).
                    tree_name: |tld: &Tld| Some(tld.spec.name.to_ascii_lowercase()),
                    ..Index::by_name()
                },
                key.clone(),
            ),
            blacklists: Mirror::start(
                Api::all(client.clone()),
                "blacklists",
                Index {
                    // Found by pattern as the unique key compares (MySQL's
                    // case-insensitive collation).
                    tree_name: |b: &Blacklist| Some(b.spec.pattern.to_lowercase()),
                    ..Index::by_name()
                },
                key.clone(),
            ),
            namespaces: Mirror::start(
                Api::all(client.clone()),
                "namespaces",
                Index {
                    // Found by the project they are claimed for.
                    tree_name: |ns: &Namespace| {
                        crate::tenancy::claimed_project(ns).map(str::to_string)
                    },
                    ..Index::by_name()
                },
                key.clone(),
            ),
            leases: Mirror::start_with(
                Api::namespaced(client.clone(), namespace),
                "leases",
                Index::by_name(),
                watcher::Config::default().labels(crate::service_statuses::SERVICE_LABEL),
                key.clone(),
                Along::default(),
            ),
            tsigkeys: Mirror::start(
                Api::all(client.clone()),
                "tsigkeys",
                Index {
                    // Found by name as the unique key compares.
                    tree_name: |key: &TsigKey| Some(key.spec.name.to_ascii_lowercase()),
                    ..Index::by_name()
                },
                key.clone(),
            ),
            tsig_secrets: Mirror::start_with(
                Api::namespaced(client.clone(), namespace),
                "secrets",
                Index::by_name(),
                watcher::Config::default().labels(crate::tsigkeys::SECRET_LABEL),
                key.clone(),
                Along::default(),
            ),
            quotas: Mirror::start(
                Api::all(client.clone()),
                "quotas",
                Index {
                    tree_name: |quota: &Quota| Some(quota.spec.project_id.clone()),
                    ..Index::by_name()
                },
                key.clone(),
            ),
            floating_ips: Mirror::start(
                Api::all(client.clone()),
                "floatingips",
                Index {
                    group_of: |fip: &FloatingIp| fip.spec.project.clone(),
                    tree_name: |fip: &FloatingIp| Some(fip.spec.key()),
                    ..Index::by_name()
                },
                key.clone(),
            ),
            zone_shares: Mirror::start(
                Api::all(client.clone()),
                "zoneshares",
                Index {
                    group_of: |share: &ZoneShare| {
                        zone_key(share.meta().namespace.as_deref(), &share.spec.zone_ref)
                    },
                    tree_name: |share: &ZoneShare| {
                        Some(share_key(
                            &share.spec.target_project_id,
                            share.meta().namespace.as_deref(),
                            &share.spec.zone_ref,
                        ))
                    },
                    hidden: |share: &ZoneShare, _| grant::in_transfer(&share.metadata),
                    ..Index::by_name()
                },
                key.clone(),
            ),
            zone_tasks: Mirror::start(
                Api::all(client.clone()),
                "zonetasks",
                Index::by_name(),
                key.clone(),
            ),
            transfer_requests: Mirror::start(
                Api::all(client.clone()),
                "zonetransferrequests",
                Index::by_name(),
                key.clone(),
            ),
            transfer_accepts: Mirror::start(
                Api::all(client.clone()),
                "zonetransferaccepts",
                Index::by_name(),
                key.clone(),
            ),
            tally,
        };
        cache.zones.ready().await?;
        cache.recordsets.ready().await?;
        cache.pools.ready().await?;
        cache.tlds.ready().await?;
        cache.blacklists.ready().await?;
        cache.namespaces.ready().await?;
        cache.leases.ready().await?;
        cache.tsigkeys.ready().await?;
        cache.tsig_secrets.ready().await?;
        cache.quotas.ready().await?;
        cache.floating_ips.ready().await?;
        cache.zone_shares.ready().await?;
        cache.zone_tasks.ready().await?;
        cache.transfer_requests.ready().await?;
        cache.transfer_accepts.ready().await?;
        Ok(cache)
    }
}

/// The group of a zone (by its object name) and of its recordsets.
pub(crate) fn zone_key(namespace: Option<&str>, zone: &str) -> String {
    let namespace = namespace.unwrap_or_default();
    let mut key = String::with_capacity(namespace.len() + 1 + zone.len());
    key.push_str(namespace);
    key.push('/');
    key.push_str(zone);
    key
}

/// Where the shares of a zone with a project are found: by the project
/// first, so that the zones shared with a project are a prefix.
pub(crate) fn share_key(target_project: &str, namespace: Option<&str>, zone: &str) -> String {
    format!("{target_project}/{}", zone_key(namespace, zone))
}

impl Cache {
    /// Whether `zone` is shared with `project`.
    pub fn shared_with(&self, zone: &Zone, project: &str) -> bool {
        !self
            .zone_shares
            .tree_named(&share_key(
                project,
                zone.meta().namespace.as_deref(),
                &zone.name_any(),
            ))
            .is_empty()
    }

    /// Whether `zone` is shared with any project.
    pub fn is_shared(&self, zone: &Zone) -> bool {
        self.zone_shares
            .first_in_group(&zone_key(
                zone.meta().namespace.as_deref(),
                &zone.name_any(),
            ))
            .is_some()
    }

    /// The zones shared with `project`.
    pub fn zones_shared_with(&self, project: &str) -> Vec<Arc<Zone>> {
        let mut zones: Vec<Arc<Zone>> = self
            .zone_shares
            .tree_prefixed(&format!("{project}/"))
            .iter()
            // A project id holding `/` must not reach another's shares.
            .filter(|share| share.spec.target_project_id == project)
            .filter_map(|share| self.zone_of_share(share))
            .collect();
        // Found in key order: two shares of one zone with one project
        // (kubectl may make them) stand side by side.
        zones.dedup_by(|a, b| a.metadata.uid == b.metadata.uid);
        zones
    }

    /// The zone a share is of.
    pub fn zone_of_share(&self, share: &ZoneShare) -> Option<Arc<Zone>> {
        self.zones.first_in_group(&zone_key(
            share.meta().namespace.as_deref(),
            &share.spec.zone_ref,
        ))
    }

    /// The zone a recordset belongs to.
    pub fn zone_of(&self, rs: &Recordset) -> Option<Arc<Zone>> {
        let key = zone_key(rs.meta().namespace.as_deref(), &rs.spec.zone_ref);
        self.zones.first_in_group(&key)
    }

    /// A zone's recordsets (those lists show).
    pub fn recordsets_in(&self, zone: &Zone) -> Vec<Arc<Recordset>> {
        let key = zone_key(zone.meta().namespace.as_deref(), &zone.name_any());
        self.recordsets.group(&key)
    }

    /// How many recordsets of a zone lists show (its managed ones aside).
    pub fn recordset_count_in(&self, zone: &Zone) -> usize {
        let key = zone_key(zone.meta().namespace.as_deref(), &zone.name_any());
        self.recordsets.group_len(&key)
    }

    /// How many recordsets lists show in the zones of a namespace (all:
    /// `None`), each primary zone's managed SOA and NS included.
    pub fn recordset_total(&self, namespace: Option<&str>) -> usize {
        self.zones.alias_count(namespace) + self.tally.recordsets(namespace)
    }

    /// The zones named `name` or below it.
    pub fn zones_at_or_below(&self, name: &str) -> Vec<Arc<Zone>> {
        self.zones.tree_prefixed(&reversed_name(name))
    }

    /// The zones named by `name`'s ancestors (not `name` itself).
    pub fn zones_above(&self, name: &str) -> Vec<Arc<Zone>> {
        name.char_indices()
            .filter(|&(at, c)| c == '.' && at + 1 < name.len())
            .flat_map(|(at, _)| self.zones.tree_named(&reversed_name(&name[at + 1..])))
            .collect()
    }
}

/// A DNS name as the zones mirror keeps it in order: lowercase, labels
/// reversed (`www.example.org.` is `org.example.www.`), so that the names
/// below a zone's share its key as a prefix.
pub(crate) fn reversed_name(name: &str) -> String {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let mut reversed = name.rsplit('.').collect::<Vec<_>>().join(".");
    reversed.push('.');
    reversed
}

/// The types of a zone's managed recordsets, in the order of its aliases.
pub const MANAGED_TYPES: [&str; 2] = ["SOA", "NS"];

/// A zone's aliases: the ids of its managed recordsets (a SECONDARY has
/// only its SOA: Central makes no NS for it), which paths and list
/// markers may name and lists show.
fn managed_recordset_ids(zone: &Zone) -> Vec<String> {
    let id = grant::id_of(zone.meta());
    managed_types(zone.spec.type_)
        .iter()
        .map(|type_| designate_central::managed::managed_rrset_id(id, type_))
        .collect()
}

/// The types of a zone's managed recordsets, a prefix of [`MANAGED_TYPES`].
pub(crate) fn managed_types(type_: ZoneType) -> &'static [&'static str] {
    match type_ {
        ZoneType::Primary => &MANAGED_TYPES,
        ZoneType::Secondary => &MANAGED_TYPES[..1],
    }
}

/// How a mirror indexes its objects besides by uid.
pub struct Index<K> {
    /// The key of the group an object is found in (a recordset's zone, a
    /// zone's or pool's name).
    pub group_of: fn(&K) -> String,
    /// Whether lists show the object: only those are in groups and in
    /// creation order; the rest are found by uid alone.
    pub listed: fn(&K) -> bool,
    /// Other ids that lead to the object; they sort with its creation
    /// time.
    pub aliases: fn(&K) -> Vec<String>,
    /// A name kept in order, so that the listed objects under a prefix are
    /// found by a range (a zone's DNS name with its labels reversed).
    pub tree_name: fn(&K) -> Option<String>,
    /// Objects the API does not show at all (a transfer's copies before
    /// their move commits, the zone left behind after); the grant key
    /// checks the marks that must be signed.
    pub hidden: fn(&K, Option<&GrantKey>) -> bool,
}

impl<K: Resource> Index<K> {
    fn by_name() -> Self {
        Self {
            group_of: |object| object.meta().name.clone().unwrap_or_default(),
            listed: |_| true,
            aliases: |_| Vec::new(),
            tree_name: |_| None,
            hidden: |_, _| false,
        }
    }
}

/// What a mirror keeps besides itself.
pub(crate) struct Along<K> {
    /// The copies the controllers' store keeps, where they run alongside.
    copies: Copies<K>,
    /// The recordset counts its groups feed.
    tally: Option<(Side, Tally)>,
}

impl<K> Default for Along<K> {
    fn default() -> Self {
        Self {
            copies: Copies::default(),
            tally: None,
        }
    }
}

/// Where an object stands in Designate's default list order: `created_at`
/// (microseconds since the epoch), then id.
pub type OrderKey = (i64, Arc<str>);

/// An object's creation order key.
pub fn order_key<K: Resource>(object: &K) -> OrderKey {
    let meta = object.meta();
    (created_micros(meta), Arc::from(grant::id_of(meta)))
}

/// `created_at` in microseconds (kept across a transfer); none sorts
/// first, as MySQL's NULL.
pub fn created_micros(meta: &kube::api::ObjectMeta) -> i64 {
    designate_crd::created_at(meta).map_or(i64::MIN, |t| t.as_microsecond())
}

/// One kind's objects by uid, by group, by alias, and in creation order
/// per namespace and overall, kept by a watch.
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

/// Keys in creation order, per namespace ("" for cluster scope) and of
/// all namespaces together.
#[derive(Default)]
struct Ordered {
    by_namespace: HashMap<String, BTreeSet<OrderKey>>,
    all: BTreeSet<OrderKey>,
}

impl Ordered {
    fn insert(&mut self, namespace: &str, key: OrderKey) {
        self.all.insert(key.clone());
        self.by_namespace
            .entry(namespace.to_string())
            .or_default()
            .insert(key);
    }

    fn remove(&mut self, namespace: &str, key: &OrderKey) {
        self.all.remove(key);
        if let Some(keys) = self.by_namespace.get_mut(namespace) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_namespace.remove(namespace);
            }
        }
    }

    fn keys(&self, namespace: Option<&str>) -> Option<&BTreeSet<OrderKey>> {
        match namespace {
            None => Some(&self.all),
            Some(namespace) => self.by_namespace.get(namespace),
        }
    }

    fn len(&self, namespace: Option<&str>) -> usize {
        self.keys(namespace).map_or(0, BTreeSet::len)
    }

    /// The keys from `start` on (exclusive or inclusive), forwards or
    /// backwards.
    fn range<'a>(
        &'a self,
        namespace: Option<&str>,
        start: Bound<&OrderKey>,
        descending: bool,
    ) -> Box<dyn Iterator<Item = &'a OrderKey> + 'a> {
        match self.keys(namespace) {
            None => Box::new(std::iter::empty()),
            Some(keys) => from_start(keys, start, descending),
        }
    }

    fn clear(&mut self) {
        self.by_namespace.clear();
        self.all.clear();
    }
}

/// `keys` from `start` on, in either direction.
fn from_start<'a>(
    keys: &'a BTreeSet<OrderKey>,
    start: Bound<&OrderKey>,
    descending: bool,
) -> Box<dyn Iterator<Item = &'a OrderKey> + 'a> {
    if descending {
        Box::new(keys.range((Bound::Unbounded, start)).rev())
    } else {
        Box::new(keys.range((start, Bound::Unbounded)))
    }
}

/// An object's Designate id, one allocation shared by every index.
type Id = Arc<str>;

struct State<K> {
    /// By Designate id: the uid, or the id an object kept through a move.
    by_id: HashMap<Id, Held<K>>,
    /// Listed objects by group, in creation order.
    groups: HashMap<String, BTreeSet<OrderKey>>,
    /// Alias to its object's id and the alias's position among the
    /// object's aliases.
    aliases: HashMap<String, (Id, usize)>,
    /// Listed objects by tree name.
    tree: BTreeMap<String, BTreeSet<Id>>,
    /// Listed objects, and their aliases, in creation order.
    order: Ordered,
    alias_order: Ordered,
    index: Index<K>,
    grant_key: Option<GrantKey>,
    along: Along<K>,
    /// The objects of a relist being received (`Init` .. `InitDone`).
    relist: Option<Vec<K>>,
    ready: bool,
}

impl<K: Resource + Serialize + DeserializeOwned + Send + Sync + 'static> State<K> {
    /// An empty state that takes the copies `copies` keeps, now and as the
    /// store takes the objects it holds its own copies of.
    fn shared(index: Index<K>, grant_key: Option<GrantKey>, along: Along<K>) -> Arc<RwLock<Self>> {
        let copies = along.copies.clone();
        let state = Arc::new(RwLock::new(State {
            by_id: HashMap::default(),
            groups: HashMap::default(),
            tree: BTreeMap::new(),
            aliases: HashMap::default(),
            order: Ordered::default(),
            alias_order: Ordered::default(),
            index,
            grant_key,
            along,
            relist: None,
            ready: false,
        }));
        let adopting = Arc::downgrade(&state);
        copies.on_applied(move |objects| {
            let Some(state) = adopting.upgrade() else {
                return;
            };
            // Unpacked (for their ids) before the lock is taken.
            let keyed: Vec<(String, &Held<K>)> = objects
                .iter()
                .map(|held| (grant::id_of(held.object().meta()).to_string(), held))
                .collect();
            state.write().expect("cache lock").adopt(&keyed);
        });
        state
    }
}

impl<K: Resource + Serialize + DeserializeOwned> State<K> {
    fn insert(&mut self, mut object: K) {
        if object.meta().uid.is_none() {
            return;
        }
        if (self.index.hidden)(&object, self.grant_key.as_ref()) {
            self.remove_object(&object);
            return;
        }
        let uid: Id = Arc::from(grant::id_of(object.meta()));
        // Never read here, and a real API server's are the bulk of small
        // objects.
        object.meta_mut().managed_fields = None;
        self.remove(&uid);
        let listed = (self.index.listed)(&object);
        let namespace = object.meta().namespace.as_deref().unwrap_or_default();
        let key = (created_micros(object.meta()), uid.clone());
        for (at, alias) in (self.index.aliases)(&object).into_iter().enumerate() {
            if listed {
                self.alias_order
                    .insert(namespace, (key.0, Arc::from(alias.as_str())));
            }
            self.aliases.insert(alias, (uid.clone(), at));
        }
        if listed {
            let group = (self.index.group_of)(&object);
            let members = self.groups.entry(group.clone()).or_default();
            members.insert(key.clone());
            if let Some((side, tally)) = &self.along.tally {
                tally.set(*side, namespace, &group, members.len());
            }
            if let Some(name) = (self.index.tree_name)(&object) {
                self.tree.entry(name).or_default().insert(uid.clone());
            }
            self.order.insert(namespace, key);
        }
        let object = self
            .along
            .copies
            .kept(&object)
            .unwrap_or_else(|| Held::Typed(Arc::new(object)));
        self.by_id.insert(uid, object);
    }

    /// Holds the store's copies of these objects where this mirror holds
    /// the same version of its own.
    fn adopt(&mut self, objects: &[(String, &Held<K>)]) {
        for (id, object) in objects {
            if let Some(held) = self.by_id.get_mut(id.as_str()) {
                held.adopt(object);
            }
        }
    }

    /// Removes what the mirror holds under `object`'s id if it is this very
    /// object: a transfer's source and copy share an id, and the event of
    /// one must not remove the other.
    fn remove_object(&mut self, object: &K) {
        let id = grant::id_of(object.meta());
        if self
            .by_id
            .get(id)
            .is_some_and(|held| held.object().meta().uid == object.meta().uid)
        {
            self.remove(id);
        }
    }

    fn remove(&mut self, uid: &str) {
        let Some(old) = self.by_id.remove(uid) else {
            return;
        };
        let old = old.object();
        let namespace = old.meta().namespace.as_deref().unwrap_or_default();
        let key = order_key(old.as_ref());
        for alias in (self.index.aliases)(&old) {
            self.alias_order
                .remove(namespace, &(key.0, Arc::from(alias.as_str())));
            self.aliases.remove(&alias);
        }
        if !(self.index.listed)(&old) {
            return;
        }
        let group = (self.index.group_of)(&old);
        if let Some(members) = self.groups.get_mut(&group) {
            members.remove(&key);
            if let Some((side, tally)) = &self.along.tally {
                tally.set(*side, namespace, &group, members.len());
            }
            if members.is_empty() {
                self.groups.remove(&group);
            }
        }
        if let Some(name) = (self.index.tree_name)(&old)
            && let Some(members) = self.tree.get_mut(&name)
        {
            members.remove(uid);
            if members.is_empty() {
                self.tree.remove(&name);
            }
        }
        self.order.remove(namespace, &key);
    }

    fn apply(&mut self, event: Event<K>) {
        match event {
            Event::Apply(object) => self.insert(object),
            Event::Delete(object) => self.remove_object(&object),
            Event::Init => self.relist = Some(Vec::new()),
            Event::InitApply(object) => self.relist.get_or_insert_default().push(object),
            Event::InitDone => {
                self.by_id.clear();
                self.groups.clear();
                if let Some((side, tally)) = &self.along.tally {
                    tally.clear(*side);
                }
                self.tree.clear();
                self.aliases.clear();
                self.order.clear();
                self.alias_order.clear();
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
    K: Resource<DynamicType = ()>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    fn start(
        api: Api<Lenient<K>>,
        kind: &'static str,
        index: Index<K>,
        grant_key: Option<GrantKey>,
    ) -> Self {
        Self::sharing(api, kind, index, grant_key, Along::default())
    }

    /// A mirror of every object that keeps `along` besides itself.
    fn sharing(
        api: Api<Lenient<K>>,
        kind: &'static str,
        index: Index<K>,
        grant_key: Option<GrantKey>,
        along: Along<K>,
    ) -> Self {
        Self::start_with(
            api,
            kind,
            index,
            watcher::Config::default(),
            grant_key,
            along,
        )
    }

    /// A mirror of the objects `config` selects; those the types cannot
    /// hold are left out (the controllers report them).
    fn start_with(
        api: Api<Lenient<K>>,
        kind: &'static str,
        index: Index<K>,
        config: watcher::Config,
        grant_key: Option<GrantKey>,
        along: Along<K>,
    ) -> Self {
        let state = State::shared(index, grant_key.clone(), along);
        let (tx, changed) = watch::channel(0u64);
        let writer = state.clone();
        tokio::spawn(async move {
            // Backing off: a list that fails again at once (an object the
            // type cannot hold) must not spin.
            let config = config.any_semantic();
            let mut events = decoded(
                move || watcher::watcher(api.clone(), config.clone()).default_backoff(),
                move |bad: &Undecodable| tracing::warn!(kind, "{bad}; left out"),
            )
            .boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) => {
                        // An id the operator did not sign is no id.
                        let event = event.modify(|object| {
                            grant::drop_unsigned_id(grant_key.as_ref(), object);
                        });
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

impl<K: Resource + Serialize + DeserializeOwned> Mirror<K> {
    /// A count that moves on with every change the watch brings.
    pub fn version(&self) -> u64 {
        *self.changed.borrow()
    }

    /// One object of a group (a zone by its namespace and name).
    pub fn first_in_group(&self, key: &str) -> Option<Arc<K>> {
        let state = self.state.read().expect("cache lock");
        let (_, uid) = state.groups.get(key)?.first()?;
        state.by_id.get(uid).map(Held::object)
    }

    /// The listed objects whose tree name starts with `prefix`.
    pub fn tree_prefixed(&self, prefix: &str) -> Vec<Arc<K>> {
        let state = self.state.read().expect("cache lock");
        state
            .tree
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .flat_map(|(_, uids)| uids)
            .filter_map(|uid| state.by_id.get(uid).map(Held::object))
            .collect()
    }

    /// The listed objects whose tree name is `name`.
    pub fn tree_named(&self, name: &str) -> Vec<Arc<K>> {
        let state = self.state.read().expect("cache lock");
        state
            .tree
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|uid| state.by_id.get(uid).map(Held::object))
            .collect()
    }

    pub fn get(&self, uid: &str) -> Option<Arc<K>> {
        self.state
            .read()
            .expect("cache lock")
            .by_id
            .get(uid)
            .map(Held::object)
    }

    /// Every object (in no particular order).
    pub fn all(&self) -> Vec<Arc<K>> {
        self.state
            .read()
            .expect("cache lock")
            .by_id
            .values()
            .map(Held::object)
            .collect()
    }

    /// The object an alias leads to.
    pub fn by_alias(&self, alias: &str) -> Option<Arc<K>> {
        let state = self.state.read().expect("cache lock");
        let (uid, _) = state.aliases.get(alias)?;
        state.by_id.get(uid).map(Held::object)
    }

    /// How many listed objects a namespace holds (all namespaces: `None`).
    pub fn count(&self, namespace: Option<&str>) -> usize {
        self.state.read().expect("cache lock").order.len(namespace)
    }

    /// How many aliases the listed objects of a namespace have.
    pub fn alias_count(&self, namespace: Option<&str>) -> usize {
        self.state
            .read()
            .expect("cache lock")
            .alias_order
            .len(namespace)
    }

    /// Walks the listed objects of a namespace (all namespaces: `None`) in
    /// creation order, or its reverse, from `start` (exclusive or
    /// inclusive, in the walk's direction) until `visit` breaks. Costs the
    /// objects visited, not the size of the mirror. `visit` runs under
    /// this mirror's read lock and must not take any mirror's lock: a
    /// waiting writer blocks new readers, so two walks nested in opposite
    /// orders could deadlock with two watch writers.
    pub fn walk(
        &self,
        namespace: Option<&str>,
        start: Bound<&OrderKey>,
        descending: bool,
        mut visit: impl FnMut(&OrderKey, &Arc<K>) -> ControlFlow<()>,
    ) {
        let state = self.state.read().expect("cache lock");
        for key in state.order.range(namespace, start, descending) {
            if let Some(object) = state.by_id.get(key.1.as_ref())
                && visit(key, &object.object()).is_break()
            {
                return;
            }
        }
    }

    /// Walks the aliases of the listed objects as `walk` walks the
    /// objects, ordered by their objects' creation time, then by alias;
    /// `visit` gets the alias's object and position among its aliases.
    pub fn walk_aliases(
        &self,
        namespace: Option<&str>,
        start: Bound<&OrderKey>,
        descending: bool,
        mut visit: impl FnMut(&OrderKey, &Arc<K>, usize) -> ControlFlow<()>,
    ) {
        let state = self.state.read().expect("cache lock");
        for key in state.alias_order.range(namespace, start, descending) {
            if let Some((uid, at)) = state.aliases.get(key.1.as_ref())
                && let Some(object) = state.by_id.get(uid)
                && visit(key, &object.object(), *at).is_break()
            {
                return;
            }
        }
    }

    /// How many objects a group holds.
    pub fn group_len(&self, key: &str) -> usize {
        let state = self.state.read().expect("cache lock");
        state.groups.get(key).map_or(0, BTreeSet::len)
    }

    /// The objects of a group (`namespace/zoneRef` for recordsets,
    /// `namespace/name` for zones, the name for pools and namespaces); only
    /// those lists show.
    pub fn group(&self, key: &str) -> Vec<Arc<K>> {
        let state = self.state.read().expect("cache lock");
        state
            .groups
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|(_, uid)| state.by_id.get(uid).map(Held::object))
            .collect()
    }

    /// Whether a group holds the object of this creation order key.
    pub fn group_holds(&self, key: &str, member: &OrderKey) -> bool {
        let state = self.state.read().expect("cache lock");
        state.groups.get(key).is_some_and(|m| m.contains(member))
    }

    /// Walks a group's objects as `walk` walks a namespace's: in creation
    /// order from `start`, until `visit` breaks.
    pub fn walk_group(
        &self,
        key: &str,
        start: Bound<&OrderKey>,
        descending: bool,
        mut visit: impl FnMut(&OrderKey, &Arc<K>) -> ControlFlow<()>,
    ) {
        let state = self.state.read().expect("cache lock");
        let Some(members) = state.groups.get(key) else {
            return;
        };
        for member in from_start(members, start, descending) {
            if let Some(object) = state.by_id.get(member.1.as_ref())
                && visit(member, &object.object()).is_break()
            {
                return;
            }
        }
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
    /// Waits until the object of `id` is there and `done` with it; the
    /// caller bounds the wait.
    pub async fn wait_for_state(&self, id: &str, done: impl Fn(&K) -> bool) {
        let mut changed = self.changed.clone();
        while !self.get(id).is_some_and(|object| done(&object)) {
            if changed.changed().await.is_err() {
                return;
            }
        }
    }

    async fn wait_until(&self, uid: &str, seen: impl Fn(Option<u64>) -> bool) {
        let held = |state: &State<K>| {
            state.by_id.get(uid).map(|object| {
                rv_number(
                    object
                        .object()
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
            grant::id_of(made.meta()),
            made.meta().resource_version.as_deref(),
        )
        .await;
        Ok(made)
    }

    /// Creates the object, named so that the API server refuses a second
    /// of the same thing (two concurrent creates, a client's retry): a
    /// name taken is `duplicate`, Designate's 409.
    pub async fn create_unique(
        &self,
        client: &Client,
        object: &K,
        duplicate: fn() -> ApiError,
    ) -> Result<K, ApiError> {
        match self.create(client, object).await {
            Err(kube::Error::Api(e)) if e.code == 409 => Err(duplicate()),
            made => Ok(made?),
        }
    }

    /// A JSON merge patch of the object's `spec`.
    pub async fn patch_spec(
        &self,
        client: &Client,
        object: &K,
        spec: Value,
    ) -> Result<K, kube::Error> {
        self.patch(client, object, json!({ "spec": spec })).await
    }

    /// A JSON merge patch of the object: one write, all or nothing.
    pub async fn patch(&self, client: &Client, object: &K, patch: Value) -> Result<K, kube::Error> {
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        let name = object.meta().name.clone().unwrap_or_default();
        let patch = Patch::Merge(patch);
        let patched = Self::api(client, object)
            .patch(&name, &params, &patch)
            .await?;
        self.wait_for(
            grant::id_of(patched.meta()),
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
        let uid = grant::id_of(object.meta()).to_owned();
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
            kube::Error::Api(status) if matches!(status.code, 503 | 504) => {
                ApiError::store_unavailable(status.message)
            }
            // Not answered at all: down, or unreachable.
            other @ (kube::Error::HyperError(_) | kube::Error::Service(_)) => {
                ApiError::store_unavailable(other)
            }
            other => ApiError::unknown(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::packed::Packed;

    fn key(created: i64, id: &str) -> OrderKey {
        (created, Arc::from(id))
    }

    fn recordset(version: &str) -> Recordset {
        let mut rs = Recordset::new(
            "www-a",
            designate_crd::RecordsetSpec {
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
    fn a_mirror_holds_the_controllers_copy_of_the_same_version() {
        let copies = Copies::<Recordset>::default();
        let (store, mut writer) = kube::runtime::reflector::store();
        copies.keep_store(store.clone());
        let index = Index {
            group_of: |rs: &Recordset| rs.spec.zone_ref.clone(),
            ..Index::by_name()
        };
        let along = Along {
            copies: copies.clone(),
            tally: None,
        };
        let state = State::shared(index, None, along);
        let held = || match state.read().unwrap().by_id.get("uid-1").cloned() {
            Some(Held::Typed(held)) => held,
            _ => panic!("a typed copy"),
        };
        let stored = || store.state()[0].clone();
        let store_applies = |writer: &mut kube::runtime::reflector::store::Writer<Recordset>,
                             event: Event<Recordset>| {
            writer.apply_watcher_event(&event);
            copies.applied(&event, &store);
        };

        // The store took it first: the mirror takes the store's copy.
        store_applies(&mut writer, Event::Apply(recordset("1")));
        state.write().unwrap().apply(Event::Apply(recordset("1")));
        assert!(Arc::ptr_eq(&held(), &stored()));

        // The mirror first: its own copy, until the store takes the same.
        state.write().unwrap().apply(Event::Apply(recordset("2")));
        assert!(!Arc::ptr_eq(&held(), &stored()));
        assert_eq!(held().metadata.resource_version.as_deref(), Some("2"));
        store_applies(&mut writer, Event::Apply(recordset("2")));
        assert!(Arc::ptr_eq(&held(), &stored()));

        // A store behind the mirror: the newer copy stays.
        state.write().unwrap().apply(Event::Apply(recordset("3")));
        store_applies(&mut writer, Event::Apply(recordset("2")));
        assert_eq!(held().metadata.resource_version.as_deref(), Some("3"));
        assert_eq!(state.read().unwrap().groups["example"].len(), 1);
    }

    #[test]
    fn a_mirror_holds_the_packed_copy_it_is_told_of() {
        let copies = Copies::<Recordset>::default();
        let along = Along {
            copies: copies.clone(),
            tally: None,
        };
        let state = State::shared(Index::by_name(), None, along);
        let mut packer = designate_crd::packed::Packer::default();
        let mut packed = |version| Held::Packed(Packed::pack(&recordset(version), &mut packer));
        state.write().unwrap().apply(Event::Apply(recordset("1")));
        copies.tell(&[packed("2")]);
        let held = || state.read().unwrap().by_id.get("uid-1").cloned().unwrap();
        assert!(matches!(held(), Held::Typed(_)), "another version");
        copies.tell(&[packed("1")]);
        assert!(matches!(held(), Held::Packed(_)));
        let mirror_reads = held().object();
        assert_eq!(
            serde_json::to_value(&*mirror_reads).unwrap(),
            serde_json::to_value(recordset("1")).unwrap()
        );
    }

    fn ids<'a>(keys: impl Iterator<Item = &'a OrderKey>) -> Vec<String> {
        keys.map(|(_, id)| id.to_string()).collect()
    }

    #[test]
    fn reversed_names_put_descendants_under_their_zone() {
        let zone = reversed_name("Example.ORG.");
        assert_eq!(zone, "org.example.");
        assert!(reversed_name("a.www.example.org.").starts_with(&zone));
        assert!(!reversed_name("badexample.org.").starts_with(&zone));
        assert!(!reversed_name("example.org.uk.").starts_with(&zone));
        assert_eq!(reversed_name("."), ".");
    }

    #[test]
    fn ordered_keys_walk_from_a_marker_both_ways() {
        let mut order = Ordered::default();
        order.insert("a", key(2, "x"));
        order.insert("a", key(1, "z"));
        order.insert("b", key(1, "y"));
        order.insert("a", key(2, "w"));
        assert_eq!(
            ids(order.range(None, Bound::Unbounded, false)),
            ["y", "z", "w", "x"]
        );
        assert_eq!(
            ids(order.range(Some("a"), Bound::Excluded(&key(1, "z")), false)),
            ["w", "x"]
        );
        assert_eq!(
            ids(order.range(Some("a"), Bound::Excluded(&key(2, "w")), true)),
            ["z"]
        );
        assert_eq!((order.len(Some("a")), order.len(Some("c"))), (3, 0));
        order.remove("b", &key(1, "y"));
        assert_eq!((order.len(None), order.len(Some("b"))), (3, 0));
        assert!(!order.by_namespace.contains_key("b"));
    }
}
