//! The Recordset controller: a Recordset whose Zone does not exist gets a
//! status saying so. Recordsets of existing zones are published, and their
//! statuses written, by the Zone controller, which sees the whole zone.

use std::future::Future;
use std::sync::Arc;

use designate_crd::{Recordset, Zone};
use futures::TryStreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{WatchStreamExt, watcher};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::{instrument, warn};

use crate::status::{RecordsetOutcome, recordset_status};
use crate::watch::Reporting;
use crate::{Context, Error, Outcome};

/// Runs the controller; its watch also feeds the recordset index, whose
/// touched zones go to `touched` (the Zone controller's trigger).
pub(crate) async fn run(
    context: Arc<Context>,
    touched: mpsc::UnboundedSender<ObjectRef<Zone>>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let (store, writer) = reflector::store::<Recordset>();
    let index = context.recordsets.clone();
    let copies = context.settings.copies.recordsets.clone();
    copies.keep(store.clone());
    let reader = store.clone();
    let changes = reflector::reflector(
        writer,
        crate::watch::watch(
            &context.client,
            watcher::Config::default().any_semantic(),
            Reporting::Report(context.client.clone()),
            context.settings.grant_key.clone(),
        ),
    )
    .inspect_ok(move |event| {
        copies.applied(event, &reader);
        for (namespace, zone) in index.apply(event, &reader) {
            // Fails only once the Zone controller stopped.
            let _ = touched.send(ObjectRef::new(&zone).within(&namespace));
        }
    })
    .applied_objects();
    crate::admission::run(
        CONTROLLER,
        Controller::for_stream(futures::stream::pending(), store),
        crate::watch::requests(changes),
        reconcile,
        error_policy,
        context,
        shutdown,
    )
    .await;
}

/// The controller's name in metrics.
const CONTROLLER: &str = "recordset";

#[instrument(skip_all, fields(recordset = %rs.name_any(), namespace = rs.namespace().unwrap_or_default()))]
async fn reconcile(rs: Arc<Recordset>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let result = mark_orphan(&rs, &ctx).await;
    ctx.metrics.reconciled(
        CONTROLLER,
        *result.as_ref().unwrap_or(&Outcome::Failed),
        started,
    );
    // The zone may be created later: its controller takes over then.
    result.map(|_| Action::await_change())
}

/// Writes the status of a recordset whose zone does not exist.
async fn mark_orphan(rs: &Recordset, ctx: &Context) -> Result<Outcome, Error> {
    let namespace = rs.namespace().ok_or(Error::MissingNamespace)?;
    crate::store_ready(&ctx.zones).await?;
    if designate_crd::grant::in_transfer(&rs.metadata) {
        return Ok(Outcome::Unchanged);
    }
    let zone = ObjectRef::<Zone>::new(&rs.spec.zone_ref).within(&namespace);
    if ctx.zones.get(&zone).is_some() || rs.metadata.deletion_timestamp.is_some() {
        // The Zone controller owns this recordset's status.
        return Ok(Outcome::Unchanged);
    }
    let desired = recordset_status(
        rs.status.as_ref(),
        rs.metadata.generation,
        RecordsetOutcome::ZoneNotReady {
            reason: "ZoneNotFound",
            message: format!(
                "zone {} does not exist in namespace {namespace}",
                rs.spec.zone_ref
            ),
        },
        &Time(k8s_openapi::jiff::Timestamp::now()),
    );
    if rs.status.as_ref() == Some(&desired) {
        return Ok(Outcome::Unchanged);
    }
    let api = Api::<Recordset>::namespaced(ctx.client.clone(), &namespace);
    ctx.write_status(CONTROLLER, &api, &rs.name_any(), &desired)
        .await?;
    Ok(Outcome::StatusOnly)
}

fn error_policy(_rs: Arc<Recordset>, error: &Error, _ctx: Arc<Context>) -> Action {
    warn!(reason = error.reason(), %error, "recordset reconcile failed");
    Action::requeue(Duration::from_secs(5))
}
