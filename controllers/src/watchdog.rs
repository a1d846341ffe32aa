//! The nameserver watchdog: finds a nameserver that lost its zones (a BIND
//! restarted empty) within seconds instead of at the next heal check.
//! Every [`PROBE_INTERVAL`] it asks each pool's nameservers for one of the
//! pool's served zones, another one each time; a served zone that one of
//! them no longer serves makes every zone of the pool be checked (and put
//! back where lost) at once. One SOA query per nameserver and interval.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use designate_crd::grant::DesignateId;
use designate_crd::{ResourceStatus, Zone};
use futures::FutureExt;
use kube::ResourceExt;
use tracing::info;

use crate::Context;
use crate::nameservers::PoolServers;
use crate::propagation::Answer;

/// How often each pool's nameservers are probed.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// Probes until `shutdown`.
pub(crate) async fn run(ctx: Arc<Context>, shutdown: impl Future<Output = ()>) {
    let shutdown = shutdown.fuse();
    futures::pin_mut!(shutdown);
    // Which served zone of each pool is probed next.
    let mut turns: HashMap<String, usize> = HashMap::new();
    loop {
        futures::select! {
            () = tokio::time::sleep(PROBE_INTERVAL).fuse() => {}
            () = shutdown => return,
        }
        for pool in ctx.pools.state() {
            if pool.spec.nameservers.is_empty() {
                continue;
            }
            let name = pool.name_any();
            let mut served: Vec<Arc<Zone>> = ctx
                .zones_of_pool(&name)
                .into_iter()
                .filter(|zone| is_served(zone))
                .collect();
            if served.is_empty() {
                continue;
            }
            served.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
            let turn = turns.entry(name.clone()).or_default();
            let zone = &served[*turn % served.len()];
            *turn = turn.wrapping_add(1);
            let key = ctx
                .keyring
                .zone_key(&zone.designate_id(), &pool.designate_id());
            let observations = PoolServers::new(&pool)
                .signed_with(key)
                .observe(&ctx, &zone.spec.name)
                .await;
            let lost: Vec<String> = observations
                .iter()
                .filter(|o| o.answer == Answer::NotServed)
                .map(|o| format!("{}:{}", o.host, o.port))
                .collect();
            if !lost.is_empty() {
                info!(pool = %name, zone = %zone.spec.name, nameservers = ?lost, "a served zone is missing on a nameserver: checking the pool's zones now");
                ctx.check_now(ctx.zones_of_pool(&name));
            }
        }
    }
}

/// Whether the zone was confirmed on its nameservers and is not going away.
fn is_served(zone: &Zone) -> bool {
    zone.metadata.deletion_timestamp.is_none()
        && zone.status.as_ref().and_then(|s| s.status) == Some(ResourceStatus::Active)
}
