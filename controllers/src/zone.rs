//! The Zone controller.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use designate_crd::{ResourceAction, ResourceStatus, Zone, ZoneStatus};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tracing::{info, instrument, warn};

use crate::{Error, FIELD_MANAGER};

/// Finalizer holding a zone until its published data is removed.
pub const ZONE_FINALIZER: &str = "zones.designate.openstack.org/cleanup";

struct Context {
    client: Client,
}

pub async fn run(client: Client, shutdown: impl Future<Output = ()> + Send + Sync + 'static) {
    let zones = Api::<Zone>::all(client.clone());
    let context = Arc::new(Context { client });
    Controller::new(zones, watcher::Config::default().any_semantic())
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(error) = result {
                warn!(%error, "zone reconcile failed");
            }
        })
        .await;
}

#[instrument(skip_all, fields(zone = %zone.name_any(), namespace = zone.namespace().unwrap_or_default()))]
async fn reconcile(zone: Arc<Zone>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = zone.namespace().ok_or(Error::MissingNamespace)?;
    let api = Api::<Zone>::namespaced(ctx.client.clone(), &namespace);
    finalizer(&api, ZONE_FINALIZER, zone, |event| async {
        match event {
            Event::Apply(zone) => apply(&api, &zone).await,
            Event::Cleanup(zone) => cleanup(&zone).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

async fn apply(api: &Api<Zone>, zone: &Zone) -> Result<Action, Error> {
    let desired = desired_status(zone, Time(now()));
    if zone.status.as_ref() != Some(&desired) {
        let patch = json!({
            "apiVersion": Zone::api_version(&()),
            "kind": Zone::kind(&()),
            "status": desired,
        });
        api.patch_status(
            &zone.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
        info!(generation = ?zone.metadata.generation, "zone status written");
    }
    Ok(Action::requeue(Duration::from_secs(300)))
}

async fn cleanup(zone: &Zone) -> Result<Action, Error> {
    // Nothing is published yet; Central's storage cleanup goes here.
    info!(zone = %zone.name_any(), "zone released");
    Ok(Action::await_change())
}

fn error_policy(_zone: Arc<Zone>, error: &Error, _ctx: Arc<Context>) -> Action {
    warn!(reason = error.reason(), %error, "reconcile error");
    Action::requeue(Duration::from_secs(5))
}

fn now() -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::now()
}

/// The status a zone should show, keeping timestamps of unchanged parts so
/// that an unchanged zone yields an equal status (and no write).
pub fn desired_status(zone: &Zone, now: Time) -> ZoneStatus {
    let current = zone.status.clone().unwrap_or_default();
    let generation = zone.metadata.generation;
    let action = if current.observed_generation.is_none()
        || current.action == Some(ResourceAction::Create)
    {
        ResourceAction::Create
    } else {
        ResourceAction::Update
    };
    let ready = Condition {
        type_: "Ready".into(),
        status: "False".into(),
        reason: "Pending".into(),
        message: "zone accepted; waiting to be published to the pool's nameservers".into(),
        observed_generation: generation,
        last_transition_time: now.clone(),
    };
    let ready = match current.conditions.iter().find(|c| c.type_ == "Ready") {
        Some(old) if old.status == ready.status && old.reason == ready.reason => Condition {
            last_transition_time: old.last_transition_time.clone(),
            ..ready
        },
        _ => ready,
    };
    ZoneStatus {
        status: Some(ResourceStatus::Pending),
        action: Some(action),
        observed_generation: generation,
        conditions: vec![ready],
        created_at: current.created_at.clone().or(Some(now)),
        ..current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::ZoneSpec;

    fn zone(generation: i64) -> Zone {
        let mut zone = Zone::new(
            "example-com",
            ZoneSpec {
                name: "example.com.".into(),
                ..Default::default()
            },
        );
        zone.metadata.generation = Some(generation);
        zone
    }

    #[test]
    fn new_zone_is_pending_create() {
        let status = desired_status(&zone(1), Time(now()));
        assert_eq!(status.status, Some(ResourceStatus::Pending));
        assert_eq!(status.action, Some(ResourceAction::Create));
        assert_eq!(status.observed_generation, Some(1));
    }

    #[test]
    fn unchanged_zone_needs_no_status_write() {
        let mut z = zone(1);
        z.status = Some(desired_status(&z, Time(now())));
        let later = Time(now() + k8s_openapi::jiff::SignedDuration::from_secs(60));
        assert_eq!(desired_status(&z, later), z.status.clone().unwrap());
    }

    #[test]
    fn spec_change_updates_observed_generation() {
        let mut z = zone(1);
        z.status = Some(desired_status(&z, Time(now())));
        z.metadata.generation = Some(2);
        assert_eq!(desired_status(&z, Time(now())).observed_generation, Some(2));
    }
}
