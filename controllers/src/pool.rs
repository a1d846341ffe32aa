//! The Pool controller: keeps each Pool in storage (MiniDNS and the
//! backends read it there) and refuses to let go of a pool that still
//! serves zones, as Designate refuses to delete one.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use designate_crd::grant::DesignateId;
use designate_crd::{Pool, PoolStatus};
use designate_storage::{HostPort, PoolRecord};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::{PredicateConfig, WatchStreamExt, watcher};
use tracing::{info, instrument, warn};

use crate::nameservers::{backend_target, target_secret};
use crate::status::ready;
use crate::zone::pool_view;
use crate::{Context, Error, Outcome};

/// Finalizer holding a pool until no zone uses it.
pub const POOL_FINALIZER: &str = "pools.designate.openstack.org/cleanup";

/// The controller's name in metrics.
const CONTROLLER: &str = "pool";

/// How often the zone count in the status is refreshed.
const RESYNC: Duration = Duration::from_secs(30);

/// How often a pool with a target problem (a missing Secret) looks again.
const SECRET_RECHECK: Duration = Duration::from_secs(5);

pub(crate) async fn run(
    context: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let (controller, changes) = crate::watch::controller::<Pool>(
        &context.client,
        watcher::Config::default().any_semantic(),
        context.settings.grant_key.clone(),
        Default::default(),
    );
    crate::admission::run(
        CONTROLLER,
        controller,
        // Not its own status writes: the zone count moves with every zone
        // created, and `RESYNC` refreshes it.
        crate::watch::requests(
            changes.predicate_filter(crate::watch::besides_status, PredicateConfig::default()),
        ),
        reconcile,
        error_policy,
        context,
        shutdown,
    )
    .await;
}

#[instrument(skip_all, fields(pool = %pool.name_any()))]
async fn reconcile(pool: Arc<Pool>, ctx: Arc<Context>) -> Result<Action, Error> {
    let api = Api::<Pool>::all(ctx.client.clone());
    let started = Instant::now();
    let result = finalizer(&api, POOL_FINALIZER, pool, |event| async {
        let done = match event {
            Event::Apply(pool) => apply(&api, &pool, &ctx).await,
            Event::Cleanup(pool) => cleanup(&pool, &ctx).await,
        };
        done.map(|(action, outcome)| {
            ctx.metrics.reconciled(CONTROLLER, outcome, started);
            action
        })
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)));
    if result.is_err() {
        ctx.metrics.reconciled(CONTROLLER, Outcome::Failed, started);
    }
    result
}

async fn apply(api: &Api<Pool>, pool: &Pool, ctx: &Context) -> Result<(Action, Outcome), Error> {
    ctx.storage.upsert_pool(&pool_record(pool)).await?;
    crate::store_ready(&ctx.zones).await?;
    let zones = ctx.zones_of_pool(&pool.name_any()).len();
    let current = pool.status.clone().unwrap_or_default();
    let generation = pool.metadata.generation;
    let problem = target_problem(pool, ctx).await?;
    let (ok, reason, message) = match &problem {
        Some(error) => (false, error.reason(), error.to_string()),
        None => (
            true,
            "Accepted",
            format!(
                "{} NS record(s), {} target(s)",
                pool.spec.ns_records.len(),
                pool.spec.targets.len()
            ),
        ),
    };
    let desired = PoolStatus {
        conditions: vec![ready(
            &current.conditions,
            ok,
            reason,
            message,
            generation,
            &Time(k8s_openapi::jiff::Timestamp::now()),
        )],
        observed_generation: generation,
        zone_count: Some(zones as i64),
    };
    if pool.status.as_ref() != Some(&desired) {
        ctx.write_status(CONTROLLER, api, &pool.name_any(), &desired)
            .await?;
    }
    let again = if problem.is_some() {
        SECRET_RECHECK
    } else {
        RESYNC
    };
    Ok((Action::requeue(again), Outcome::Published))
}

/// The first problem of the pool's targets: one naming what the
/// operator does not allow, or a Secret that is not there.
async fn target_problem(pool: &Pool, ctx: &Context) -> Result<Option<Error>, Error> {
    for spec in &pool.spec.targets {
        if let Err(error) = ctx.settings.target_rules.check(&backend_target(spec)?) {
            return Ok(Some(error.into()));
        }
        if let Some(secret_ref) = &spec.secret_ref {
            match target_secret(ctx, secret_ref).await {
                Ok(_) => {}
                Err(problem) if problem.is_target_problem() => return Ok(Some(problem)),
                Err(other) => return Err(other),
            }
        }
    }
    Ok(None)
}

async fn cleanup(pool: &Pool, ctx: &Context) -> Result<(Action, Outcome), Error> {
    let zones = ctx.zones_of_pool(&pool.name_any()).len();
    if zones > 0 {
        return Err(Error::PoolInUse {
            pool: pool.name_any(),
            zones,
        });
    }
    ctx.storage.delete_pool(&pool.designate_id()).await?;
    info!("pool removed");
    Ok((Action::await_change(), Outcome::Cleanup))
}

fn error_policy(_pool: Arc<Pool>, error: &Error, _ctx: Arc<Context>) -> Action {
    warn!(reason = error.reason(), %error, "pool reconcile failed");
    Action::requeue(Duration::from_secs(5))
}

fn pool_record(pool: &Pool) -> PoolRecord {
    let host_ports = |list: &[designate_crd::HostPort]| {
        list.iter()
            .map(|hp| HostPort {
                host: hp.host.clone(),
                port: u16::try_from(hp.port).unwrap_or(53),
            })
            .collect()
    };
    let view = pool_view(pool);
    PoolRecord {
        id: view.id,
        name: view.name,
        description: pool.spec.description.clone(),
        ns_records: view.ns_records,
        nameservers: host_ports(&pool.spec.nameservers),
        also_notifies: host_ports(&pool.spec.also_notifies),
        // Secrets stay in their Secret: only the reference is kept.
        targets: serde_json::to_value(&pool.spec.targets).unwrap_or_default(),
    }
}
