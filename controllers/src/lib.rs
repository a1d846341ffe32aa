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

mod error;
mod index;
mod metrics;
pub mod pool;
pub mod propagation;
pub mod recordset;
pub mod status;
pub mod zone;

use std::future::Future;
use std::sync::Arc;

use designate_crd::{Pool, Zone};
use designate_storage::Storage;
use futures::{FutureExt, StreamExt};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

pub use error::Error;
use index::RecordsetIndex;
pub use metrics::{Metrics, Outcome};

/// Field manager of every write the operator makes.
pub const FIELD_MANAGER: &str = "designate-operator";

/// The pool of a Zone that names none.
pub const DEFAULT_POOL: &str = "default";

/// How the controllers are configured.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Central's rules.
    pub central: designate_central::Config,
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
    zones: Store<Zone>,
    /// Zones to replan because another zone changed under them.
    requeue: mpsc::UnboundedSender<ObjectRef<Zone>>,
    metrics: Arc<Metrics>,
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

    /// One status write, as a server-side apply of the whole status.
    async fn write_status<K>(
        &self,
        controller: &'static str,
        api: &Api<K>,
        name: &str,
        status: &impl Serialize,
    ) -> Result<(), Error>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    {
        let patch = json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "status": status,
        });
        self.metrics.wrote(controller);
        api.patch_status(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
        Ok(())
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
    let zone_controller = zone::controller(&client);
    let (pools, pool_writer) = reflector::store::<Pool>();
    let (requeue, requeued) = mpsc::unbounded_channel();
    let context = Arc::new(Context {
        client: client.clone(),
        storage,
        settings_digest: fnv1a(format!("{:?}", settings.central).as_bytes()),
        settings,
        recordsets: Arc::new(RecordsetIndex::default()),
        pools,
        zones: zone_controller.store(),
        requeue,
        metrics,
    });

    // A pool change replans the zones it serves.
    let pool_triggers = {
        let context = context.clone();
        watcher::watcher(Api::<Pool>::all(client.clone()), watcher::Config::default())
            .default_backoff()
            .reflect(pool_writer)
            .touched_objects()
            .filter_map(|pool| async move { pool.ok() })
            .flat_map(move |pool| {
                let zones = context.zones_of_pool(&pool.name_any());
                futures::stream::iter(zones.into_iter().map(|z| ObjectRef::from_obj(&*z)))
            })
    };
    let recordset_triggers = index::feed(context.recordsets.clone(), Api::all(client.clone()));

    tokio::join!(
        zone::run(
            zone_controller
                .reconcile_on(pool_triggers)
                .reconcile_on(recordset_triggers)
                .reconcile_on(UnboundedReceiverStream::new(requeued)),
            context.clone(),
            shutdown.clone(),
        ),
        recordset::run(context.clone(), shutdown.clone()),
        pool::run(context, shutdown),
    );
}

/// FNV-1a: a digest stable across processes and Rust releases (std's hasher
/// is neither promised), for fingerprints kept in storage.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
