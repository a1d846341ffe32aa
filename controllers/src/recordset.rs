//! The Recordset controller: a Recordset whose Zone does not exist gets a
//! status saying so. Recordsets of existing zones are published, and their
//! statuses written, by the Zone controller, which sees the whole zone.

use std::future::Future;
use std::sync::Arc;

use designate_crd::{Recordset, Zone};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher::{self, Event};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tracing::{debug, instrument, warn};

use crate::admission::Admission;
use crate::status::{RecordsetOutcome, recordset_status};
use crate::watch::Reporting;
use crate::{Context, Error, Outcome};

/// A recordset to look at: `(namespace, zone, name)`, as the index finds
/// it.
type Request = (String, String, String);

/// Runs the controller; its watch feeds the recordset index (the
/// controllers' one copy of each Recordset, which its reconciles read
/// too), whose touched zones go to `touched` (the Zone controller's
/// trigger). Only a recordset whose zone the Zone controller does not have
/// is a request here.
pub(crate) async fn run(
    context: Arc<Context>,
    touched: mpsc::UnboundedSender<ObjectRef<Zone>>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let index = context.recordsets.clone();
    let copies = context.settings.copies.recordsets.clone();
    let held = index.clone();
    copies.keep(move |rs| held.held(rs));
    let (requests, requested) = mpsc::unbounded_channel::<Request>();
    let watch = {
        let context = context.clone();
        let requests = requests.clone();
        crate::watch::watch::<Recordset>(
            &context.client,
            watcher::Config::default().any_semantic(),
            Reporting::Report(context.client.clone()),
            context.settings.grant_key.clone(),
        )
        .for_each(move |event| {
            match event {
                Ok(event) => {
                    for (namespace, zone) in index.apply(&event, &copies) {
                        // Fails only once the Zone controller stopped.
                        let _ = touched.send(ObjectRef::new(&zone).within(&namespace));
                    }
                    request_orphans(&event, &context, &requests);
                }
                Err(error) => debug!(controller = CONTROLLER, %error, "watch failed"),
            }
            futures::future::ready(())
        })
    };
    let admission = Admission::new(
        2 * usize::from(crate::CONCURRENCY),
        context.metrics.waiting(CONTROLLER),
    );
    let reconciles = admission
        .admit(UnboundedReceiverStream::new(requested))
        .take_until(shutdown)
        .for_each_concurrent(None, |request| {
            let (context, admission, requests) =
                (context.clone(), admission.clone(), requests.clone());
            async move {
                if let Err(error) = reconcile(&request, &context).await {
                    warn!(reason = error.reason(), %error, "recordset reconcile failed");
                    let again = request.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(RETRY).await;
                        let _ = requests.send(again);
                    });
                }
                admission.finished(&request);
            }
        });
    // Stops with the reconciles (at shutdown, once those running end).
    futures::future::select(Box::pin(watch), Box::pin(reconciles)).await;
}

/// The recordsets of `event` the Zone controller does not cover: a written
/// one whose zone is not (yet) there; after a (re)list, those of every
/// zone not there, once the zones are known.
fn request_orphans(
    event: &Event<Recordset>,
    context: &Arc<Context>,
    requests: &mpsc::UnboundedSender<Request>,
) {
    match event {
        Event::Apply(rs) => {
            let namespace = rs.namespace().unwrap_or_default();
            let zone = ObjectRef::<Zone>::new(&rs.spec.zone_ref).within(&namespace);
            if context.zones.get(&zone).is_none() {
                let _ = requests.send((namespace, rs.spec.zone_ref.clone(), rs.name_any()));
            }
        }
        Event::InitDone => {
            let (context, requests) = (context.clone(), requests.clone());
            tokio::spawn(async move {
                if crate::store_ready(&context.zones).await.is_err() {
                    return;
                }
                for ((namespace, zone), names) in context.recordsets.zones() {
                    let zone_ref = ObjectRef::<Zone>::new(&zone).within(&namespace);
                    if context.zones.get(&zone_ref).is_some() {
                        continue;
                    }
                    for name in names {
                        let _ = requests.send((namespace.clone(), zone.clone(), name));
                    }
                }
            });
        }
        Event::Init | Event::InitApply(_) | Event::Delete(_) => {}
    }
}

/// The controller's name in metrics.
const CONTROLLER: &str = "recordset";

/// How long a failed reconcile waits to run again.
const RETRY: Duration = Duration::from_secs(5);

#[instrument(skip_all, fields(recordset = %request.2, namespace = %request.0))]
async fn reconcile(request: &Request, ctx: &Context) -> Result<(), Error> {
    let (namespace, zone, name) = request;
    // Gone since: nothing to mark.
    let Some(rs) = ctx.recordsets.get(namespace, zone, name) else {
        return Ok(());
    };
    let started = Instant::now();
    let result = mark_orphan(&rs.unpack(), ctx).await;
    ctx.metrics.reconciled(
        CONTROLLER,
        *result.as_ref().unwrap_or(&Outcome::Failed),
        started,
    );
    // The zone may be created later: its controller takes over then.
    result.map(|_| ())
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
