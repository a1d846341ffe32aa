//! `designate-controllers`: the kube-runtime controllers of the operator.
//!
//! Each reconcile is observe (the resource, the watch caches, storage) →
//! decide (a pure plan from `designate-central`) → act (one storage
//! transaction, then status writes only where something changed).
//!
//! - [`zone`]: publishes a Zone and its Recordsets into storage and writes
//!   their statuses; requeued by any change of its Recordsets or its Pool.
//! - [`recordset`]: marks Recordsets whose Zone does not exist.
//! - [`pool`]: keeps Pools in storage, refuses to drop one that serves zones.
//!
//! Tenancy: a Designate project is a Kubernetes namespace. A Zone's project
//! is its namespace; Recordsets name their Zone by object name within it.

mod admission;
mod echo;
mod error;
mod events;
pub mod grant;
mod index;
mod metrics;
mod nameservers;
pub mod pool;
pub mod propagation;
mod quotas;
pub mod recordset;
mod rules;
pub mod secondary;
pub mod status;
mod transfer;
mod transferred;
pub mod tsig;
mod watch;
mod watchdog;
pub mod zone;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use designate_crd::copies::SharedCopies;
use designate_crd::grant::{DesignateId, GrantKey};
use designate_crd::{Blacklist, Pool, Tld, Zone};
use designate_storage::Storage;
use futures::{FutureExt, StreamExt};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{PredicateConfig, WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

pub use error::Error;
use index::RecordsetIndex;
pub use metrics::{Metrics, Outcome};
use watch::Reporting;

/// Field manager of every write the operator makes.
pub const FIELD_MANAGER: &str = "designate-operator";

/// The pool of a Zone that names none.
pub const DEFAULT_POOL: &str = "default";

/// Reconciles in flight at once, per controller. kube-runtime polls every
/// running reconcile on each wakeup: with all 10k zones of a restart or a
/// bulk change in flight it spent most of its time there; storage and the
/// API serve far fewer at once anyway. The rest wait in the controller's
/// [`admission`].
const CONCURRENCY: u16 = 32;

fn controller_config() -> kube::runtime::controller::Config {
    kube::runtime::controller::Config::default().concurrency(CONCURRENCY)
}

/// How often a wait for a watch cache's first list looks again.
const READY_RECHECK: Duration = Duration::from_millis(100);

/// Waits until `store` holds its first full list. kube-runtime's
/// `Store::wait_until_ready` wakes only the last of several waiters that
/// polled it before the list (its oneshot keeps one waker): the others, such
/// as the Pool reconcile at a start with many zones, would wait forever.
async fn store_ready<K>(store: &Store<K>) -> Result<(), Error>
where
    K: reflector::Lookup + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    loop {
        if let Ok(ready) = tokio::time::timeout(READY_RECHECK, store.wait_until_ready()).await {
            return ready.map_err(|_| Error::CacheStopped);
        }
    }
}

/// How the controllers are configured.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Central's rules.
    pub central: designate_central::Config,
    pub propagation: PropagationSettings,
    /// The operator's namespace: where a pool target's Secret is looked up
    /// when its reference names none.
    pub namespace: String,
    /// Verifies the privileges the REST API granted a Zone (see
    /// [`designate_crd::grant`]); `None`: no grant is honoured.
    pub grant_key: Option<GrantKey>,
    /// What pool targets may name on the operator's machine.
    pub target_rules: designate_backends::TargetRules,
    /// Namespaces besides the operator's a target's Secret may be read from.
    pub target_secret_namespaces: Vec<String>,
    /// The Zones and Recordsets the controllers' stores keep, for the other
    /// watches of the process (the REST API's) to share.
    pub copies: SharedCopies,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            central: designate_central::Config::default(),
            propagation: PropagationSettings::default(),
            namespace: "default".into(),
            grant_key: None,
            target_rules: designate_backends::TargetRules::default(),
            target_secret_namespaces: Vec::new(),
            copies: SharedCopies::default(),
        }
    }
}

/// How changes are confirmed on the pool's nameservers (Designate's
/// `[service:worker]` threshold and polling options).
#[derive(Clone, Debug)]
pub struct PropagationSettings {
    /// Share of a pool's nameservers that must serve a serial (percent).
    pub threshold_percentage: u8,
    /// How long to wait for them before the zone shows `ERROR`.
    pub timeout: Duration,
    /// Timeout of one SOA query or NOTIFY (each tried up to 3 times).
    pub query_timeout: Duration,
    /// How often a settled zone's nameservers are checked again, to put
    /// back a zone a nameserver lost and to re-drive zones in `ERROR`.
    pub heal_interval: Duration,
}

impl Default for PropagationSettings {
    fn default() -> Self {
        Self {
            threshold_percentage: 100,
            timeout: Duration::from_secs(30),
            query_timeout: Duration::from_millis(200),
            heal_interval: Duration::from_secs(60),
        }
    }
}

/// What every reconcile can see.
pub(crate) struct Context {
    client: Client,
    storage: Storage,
    settings: Settings,
    /// Digest of `settings`, part of every zone's fingerprint, so that a
    /// configuration change (a quota, a TLD) replans every zone once.
    settings_digest: u64,
    recordsets: Arc<RecordsetIndex>,
    pools: Store<Pool>,
    /// The TLD list and the blacklists Central checks new zones against.
    tlds: Store<Tld>,
    blacklists: Store<Blacklist>,
    /// Per-project quotas (the `Quota` objects and the namespaces' projects).
    quotas: quotas::ProjectQuotas,
    zones: Store<Zone>,
    /// Zones to replan because another zone changed under them.
    requeue: mpsc::UnboundedSender<ObjectRef<Zone>>,
    metrics: Arc<Metrics>,
    /// Propagation in progress or settled, by zone uid.
    watches: Mutex<HashMap<String, ZoneWatch>>,
    /// The TSIG keys that sign the zones' NOTIFYs and polls.
    keyring: tsig::Keyring,
    /// How each zone's backends were last provisioned, by zone uid; in
    /// memory (after a restart, zones are provisioned again only when lost).
    provisioned: Mutex<HashMap<String, Provisioned>>,
    /// Writes the Events of Zones and Recordsets.
    events: events::Recorder,
    /// When each secondary zone's masters are asked next.
    secondaries: secondary::Secondaries,
    /// The zones' status writes, whose watch events are no request.
    zone_echoes: Arc<echo::Echoes<Zone>>,
}

/// Where one zone's propagation stands, in memory: after a restart it is
/// taken up from the zone's status.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ZoneWatch {
    serial: i64,
    /// When the nameservers were first asked to serve `serial`.
    since: Instant,
    /// When the nameservers, found settled, are to be checked next.
    next_check: Option<Instant>,
    /// Times the zone was driven again (provisioned, notified) since its
    /// serial was first published: spaces the checks of a zone that keeps
    /// timing out.
    redrives: u32,
}

/// The first wait before a zone that timed out is driven again; it doubles
/// with each redrive, up to the heal interval.
const REDRIVE_AFTER: Duration = Duration::from_secs(5);

/// How a zone's backends were last provisioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provisioned {
    /// With the key of this digest (or none).
    With(Option<u64>),
    /// Not: the try failed (the target's Secret is missing).
    Failed,
}

impl Context {
    /// The pool a zone is scheduled to, by name.
    fn pool_name(zone: &Zone) -> &str {
        zone.spec.pool_ref.as_deref().unwrap_or(DEFAULT_POOL)
    }

    /// Asks for `zones` to be reconciled again.
    fn requeue(&self, zones: impl IntoIterator<Item = Arc<Zone>>) {
        for zone in zones {
            // Fails only once the controller stopped: nothing left to do then.
            let _ = self.requeue.send(ObjectRef::from_obj(&*zone));
        }
    }

    /// The watch of `zone` (uid `id`) at `serial`: a new one for a new serial;
    /// the first after a restart starts when the status says it was written.
    fn watch(&self, id: &str, serial: i64, zone: &Zone) -> ZoneWatch {
        let mut watches = self.watches.lock().expect("watches lock");
        let watch = watches.entry(id.to_string()).or_insert_with(|| {
            let since = zone
                .status
                .as_ref()
                .filter(|s| s.serial == Some(serial))
                .and_then(|s| s.updated_at.as_ref())
                .map(|t| Instant::now() - nameservers::since(t))
                .unwrap_or_else(Instant::now);
            ZoneWatch {
                serial,
                since,
                next_check: None,
                redrives: 0,
            }
        });
        if watch.serial != serial {
            *watch = ZoneWatch {
                serial,
                since: Instant::now(),
                next_check: None,
                redrives: 0,
            };
        }
        *watch
    }

    /// Starts waiting for `serial` anew (the zone was driven again).
    fn restart_watch(&self, id: &str, serial: i64) -> ZoneWatch {
        let mut watches = self.watches.lock().expect("watches lock");
        let redrives = watches
            .get(id)
            .filter(|w| w.serial == serial)
            .map_or(0, |w| w.redrives.saturating_add(1));
        let watch = ZoneWatch {
            serial,
            since: Instant::now(),
            next_check: None,
            redrives,
        };
        watches.insert(id.to_string(), watch);
        watch
    }

    /// Records that the zone's nameservers were found settled: checked
    /// again after the heal interval, or sooner when it timed out.
    fn mark_checked(&self, id: &str, timed_out: bool) {
        let heal = self.settings.propagation.heal_interval;
        if let Some(watch) = self.watches.lock().expect("watches lock").get_mut(id) {
            let after = if timed_out {
                REDRIVE_AFTER
                    .saturating_mul(1 << watch.redrives.min(16))
                    .min(heal)
            } else {
                heal
            };
            watch.next_check = Some(Instant::now() + after);
        }
    }

    /// How long until the zone's nameservers are due for a check (zero when
    /// due now, or never checked).
    fn check_in(&self, id: &str) -> Duration {
        self.watches
            .lock()
            .expect("watches lock")
            .get(id)
            .and_then(|w| w.next_check)
            .map_or(Duration::ZERO, |at| {
                at.saturating_duration_since(Instant::now())
            })
    }

    /// Has `zones` checked on their nameservers at their next reconcile,
    /// which is now.
    fn check_now(&self, zones: Vec<Arc<Zone>>) {
        {
            let mut watches = self.watches.lock().expect("watches lock");
            for zone in &zones {
                if let Some(watch) = watches.get_mut(&zone.designate_id()) {
                    watch.next_check = None;
                }
            }
        }
        self.requeue(zones);
    }

    fn forget_watch(&self, id: &str) {
        self.watches.lock().expect("watches lock").remove(id);
        self.provisioned
            .lock()
            .expect("provisioned lock")
            .remove(id);
    }

    /// Whether the zone's backends are to be provisioned again with `key`
    /// (a digest of its identity): the last try failed, or they were
    /// provisioned with another key (made, changed or removed since).
    fn provision_due(&self, id: &str, key: Option<u64>) -> bool {
        let provisioned = self.provisioned.lock().expect("provisioned lock");
        match provisioned.get(id) {
            Some(Provisioned::With(with)) => *with != key,
            Some(Provisioned::Failed) => true,
            None => false,
        }
    }

    fn provisioned(&self, id: &str, outcome: Provisioned) {
        let mut provisioned = self.provisioned.lock().expect("provisioned lock");
        provisioned.insert(id.to_string(), outcome);
    }

    /// One status write, as a server-side apply of the whole status;
    /// returns the object as written.
    async fn write_status<K>(
        &self,
        controller: &'static str,
        api: &Api<K>,
        name: &str,
        status: &impl Serialize,
    ) -> Result<K, Error>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    {
        let patch = json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "status": status,
        });
        self.metrics.wrote(controller);
        Ok(api
            .patch_status(
                name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await?)
    }

    fn zones_of_pool(&self, pool: &str) -> Vec<Arc<Zone>> {
        self.zones
            .state_filter(|zone| Self::pool_name(zone) == pool)
    }
}

/// Runs every controller until `shutdown` resolves.
pub async fn run(
    client: Client,
    storage: Storage,
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let shutdown = shutdown.shared();
    let zone_echoes = Arc::new(echo::Echoes::default());
    let (zone_controller, zone_changes) = zone::controller(
        &client,
        settings.grant_key.clone(),
        settings.copies.zones.clone(),
        zone_echoes.clone(),
    );
    let (pools, pool_writer) = reflector::store::<Pool>();
    let (tlds, tld_writer) = reflector::store::<Tld>();
    let (blacklists, blacklist_writer) = reflector::store::<Blacklist>();
    let (requeue, requeued) = mpsc::unbounded_channel();
    let (project_quotas, quota_writers) = quotas::ProjectQuotas::new(settings.central.quotas);
    let (keyring, key_events) = tsig::Keyring::watch(client.clone(), &settings.namespace);
    let context = Arc::new(Context {
        client: client.clone(),
        storage,
        settings_digest: fnv1a(format!("{:?}", settings.central).as_bytes()),
        settings,
        recordsets: Arc::new(RecordsetIndex::default()),
        pools,
        tlds,
        blacklists,
        quotas: project_quotas,
        zones: zone_controller.store(),
        requeue,
        metrics,
        watches: Mutex::default(),
        keyring,
        provisioned: Mutex::default(),
        events: events::Recorder::new(client.clone()),
        secondaries: secondary::Secondaries::default(),
        zone_echoes,
    });

    // The one watch of each kind that reports what it cannot decode (the
    // controllers' own watches report theirs).
    let reporting = Reporting::Report(client.clone());
    // A pool change replans the zones it serves; not a change of its status
    // alone (its zone count moves with every zone created).
    let pool_triggers = {
        let context = context.clone();
        // Pools keep an id an import signed (`grant::id_annotations`).
        watch::watch::<Pool>(
            &client,
            watcher::Config::default(),
            Reporting::Log,
            context.settings.grant_key.clone(),
        )
        .reflect(pool_writer)
        .touched_objects()
        .predicate_filter(watch::besides_status, PredicateConfig::default())
        .filter_map(|pool| async move { pool.ok() })
        .flat_map(move |pool| {
            let zones = context.zones_of_pool(&pool.name_any());
            futures::stream::iter(zones.into_iter().map(|z| ObjectRef::from_obj(&*z)))
        })
    };
    // A TLD or blacklist change may let in the zones they refused: those
    // never published are planned again (published ones are not rechecked).
    let waiting_zones = |context: Arc<Context>| {
        move |_| {
            let zones = context.zones.state_filter(rules::waits_for_rules);
            futures::stream::iter(zones.into_iter().map(|z| ObjectRef::from_obj(&*z)))
        }
    };
    let tld_triggers =
        watch::watch::<Tld>(&client, watcher::Config::default(), reporting.clone(), None)
            .reflect(tld_writer)
            .filter_map(|event| async move { rules_changed(event) })
            .flat_map(waiting_zones(context.clone()));
    let blacklist_triggers =
        watch::watch::<Blacklist>(&client, watcher::Config::default(), reporting.clone(), None)
            .reflect(blacklist_writer)
            .filter_map(|event| async move { rules_changed(event) })
            .flat_map(waiting_zones(context.clone()));
    // A quota change replans its project's zones.
    let quota_triggers = quotas::triggers(&client, quota_writers, context.clone());
    // A changed key reconfigures the backends of the zones it signs.
    let key_triggers = tsig::triggers(key_events, context.clone());
    // The Recordset controller's watch feeds the recordset index; the
    // zones it touches are the Zone controller's to reconcile.
    let (touched, touched_zones) = mpsc::unbounded_channel();

    tokio::join!(
        zone::run(
            zone_controller,
            futures::stream::select_all([
                zone_changes.boxed(),
                pool_triggers.boxed(),
                tld_triggers.boxed(),
                blacklist_triggers.boxed(),
                quota_triggers.boxed(),
                key_triggers.boxed(),
                UnboundedReceiverStream::new(touched_zones).boxed(),
                UnboundedReceiverStream::new(requeued).boxed(),
            ]),
            context.clone(),
            shutdown.clone(),
        ),
        recordset::run(context.clone(), touched, shutdown.clone()),
        watchdog::run(context.clone(), shutdown.clone()),
        transfer::run(context.clone(), shutdown.clone()),
        pool::run(context, shutdown),
    );
}

/// Whether a watch event of Tld or Blacklist objects changed the rules:
/// a write, a delete (a removed blacklist lets names in), the end of a
/// (re)list.
fn rules_changed<K>(event: Result<watcher::Event<K>, watcher::Error>) -> Option<()> {
    match event {
        Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_) | watcher::Event::InitDone) => {
            Some(())
        }
        _ => None,
    }
}

pub(crate) use designate_crd::names::fnv1a;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_waiter_sees_the_cache_ready() {
        let (store, mut writer) = reflector::store::<Pool>();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store_ready(&store).await })
            })
            .collect();
        // Each waiter polls the cache before its first list is in.
        tokio::task::yield_now().await;
        writer.apply_watcher_event(&watcher::Event::Init);
        writer.apply_watcher_event(&watcher::Event::InitDone);
        for waiter in waiters {
            assert!(waiter.await.unwrap().is_ok());
        }
    }
}
