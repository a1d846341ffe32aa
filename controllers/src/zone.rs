//! The Zone controller: publishes a zone and its recordsets into storage.
//!
//! observe: the Zone, its Recordsets (index), its Pool (cache) and what
//! storage holds; decide: `designate_central::plan::plan`; act: one storage
//! transaction, then the statuses that changed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use designate_central::managed::{self, managed_rrset_id};
use designate_central::plan::{Plan, PlanInput, PoolView, Published, plan};
use designate_central::{
    Privileges, Quotas, RecordsetInput, Rrset, ZoneInput, ZoneKind, ZoneOwner,
};
use designate_crd::copies::Copies;
use designate_crd::grant::{self, DesignateId, GrantKey, Mark};
use designate_crd::{
    IMPORTING_ANNOTATION, NameserverStatus, Pool, Recordset, RecordsetStatus, ResourceAction,
    ResourceStatus, Zone, ZoneStatus,
};
use designate_storage::{StoredZone, ZoneChange, ZoneStatusNotice};
use futures::{Stream, StreamExt, TryStreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, ListParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tracing::{debug, info, instrument, warn};

use crate::Provisioned;
use crate::echo::Echoes;
use crate::nameservers::PoolServers;
use crate::propagation::{Answer, Verdict, nameserver_statuses, verdict};
use crate::status::{Confirmation, RecordsetOutcome, ZoneOutcome, recordset_status, zone_status};
use crate::{Context, Error, Outcome};
use crate::{events, secondary, tsig};

/// Finalizer holding a zone until its published data is removed.
pub const ZONE_FINALIZER: &str = "zones.designate.openstack.org/cleanup";

/// The controller's name in metrics.
const CONTROLLER: &str = "zone";

/// How often a zone is checked even when nothing triggers it.
const RESYNC: Duration = Duration::from_secs(300);

/// How long a zone provisioned may be missing on a nameserver before it is
/// provisioned again.
const LOST_GRACE: Duration = Duration::from_secs(2);

/// How often a zone whose pool target's Secret is missing looks again.
const SECRET_RECHECK: Duration = Duration::from_secs(5);

/// How long after its creation a zone an import fills waits for the import
/// to take its mark off before it is published all the same (an import of
/// 100,000 records takes about 10 s).
const IMPORT_HOLD: Duration = Duration::from_secs(300);

/// Status writes in flight at once for one zone's recordsets.
const STATUS_WRITES: usize = 64;

/// The controller and its zones' changes, one of its triggers.
pub(crate) fn controller(
    client: &Client,
    ids: Option<GrantKey>,
    copies: Copies<Zone>,
    echoes: Arc<Echoes<Zone>>,
) -> (
    Controller<Zone>,
    impl Stream<Item = ObjectRef<Zone>> + Send + 'static,
) {
    let (controller, changes) = crate::watch::controller(
        client,
        watcher::Config::default().any_semantic(),
        ids,
        copies,
    );
    let changes = changes.try_filter(move |zone| futures::future::ready(!echoes.is_echo(zone)));
    (controller, crate::watch::requests(changes))
}

/// Runs `controller` on `triggers`: its zones' changes and every other
/// reason to look at a zone.
pub(crate) async fn run(
    controller: Controller<Zone>,
    triggers: impl Stream<Item = ObjectRef<Zone>> + Send + 'static,
    context: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    crate::admission::run(
        CONTROLLER,
        controller,
        triggers,
        reconcile,
        error_policy,
        context,
        shutdown,
    )
    .await;
}

#[instrument(skip_all, fields(zone = %zone.name_any(), namespace = zone.namespace().unwrap_or_default()))]
async fn reconcile(zone: Arc<Zone>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = zone.namespace().ok_or(Error::MissingNamespace)?;
    // A transfer's copy waiting for its move to commit is not the zone yet.
    if grant::in_transfer(&zone.metadata) && zone.metadata.deletion_timestamp.is_none() {
        return Ok(Action::await_change());
    }
    let moved = grant::marked(ctx.settings.grant_key.as_ref(), zone.as_ref(), Mark::Moved);
    let api = Api::<Zone>::namespaced(ctx.client.clone(), &namespace);
    let started = Instant::now();
    let result = finalizer(&api, ZONE_FINALIZER, zone, |event| async {
        let done = match event {
            // Its copy in the accepting project is the zone now.
            Event::Apply(_) | Event::Cleanup(_) if moved => {
                Ok((Action::await_change(), Outcome::Unchanged))
            }
            Event::Apply(zone) => apply(&api, &zone, &ctx).await,
            Event::Cleanup(zone) => cleanup(&zone, &ctx).await,
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

/// Everything observed about one zone before deciding.
struct Observed {
    zone: ZoneInput,
    pool: Option<(PoolView, Arc<Pool>)>,
    recordsets: Vec<Arc<Recordset>>,
    inputs: Vec<RecordsetInput>,
    /// What the zone's signed grant lets it do beyond a member.
    privileges: Privileges,
    /// The quotas of the zone's project.
    quotas: Quotas,
    fingerprint: String,
}

async fn apply(api: &Api<Zone>, zone: &Zone, ctx: &Context) -> Result<(Action, Outcome), Error> {
    // Published once after its import, not at each of its recordsets.
    if let Some(left) = import_hold(zone, k8s_openapi::jiff::Timestamp::now()) {
        debug!("zone being imported");
        return Ok((Action::requeue(left), Outcome::Unchanged));
    }
    ctx.recordsets.ready().await;
    crate::store_ready(&ctx.pools).await?;
    // Before their first lists no TLD or blacklist would refuse anything.
    crate::store_ready(&ctx.tlds).await?;
    crate::store_ready(&ctx.blacklists).await?;
    ctx.quotas.ready().await?;
    // Before their first lists a keyed zone would be provisioned unsigned.
    ctx.keyring.ready().await?;
    let observed = observe(zone, ctx);
    let state = ctx.storage.zone_state(&observed.zone.id).await?;
    if let Some(state) = &state
        && state.fingerprint == observed.fingerprint
        && statuses_current(zone, &observed.recordsets, state.serial)
        && !check_due(ctx, &observed)
        && !provision_due(ctx, &observed)
        && moving_from(zone, &observed).is_none()
        && !(observed.zone.kind == ZoneKind::Secondary
            && (ctx.secondaries.due(&observed.zone.id, zone)
                || ctx.secondaries.copy_due(&observed.zone.id, state.serial)))
    {
        debug!("zone unchanged");
        return Ok((requeue_settled(&observed, ctx), Outcome::Unchanged));
    }

    let mut stored = match state {
        Some(_) => ctx.storage.load_zone(&observed.zone.id).await?,
        None => None,
    };
    // A zone that kept its id through a transfer (a signed id, checked on
    // the way in) changed project: Central refuses that of any other.
    if let Some(stored) = &mut stored
        && zone.annotations().contains_key(grant::ID_ANNOTATION)
    {
        stored.zone.project.clone_from(&observed.zone.project);
    }
    let related: Vec<ZoneOwner> = ctx
        .storage
        .related_zones(&observed.zone.name)
        .await?
        .into_iter()
        .filter(|z| z.id != observed.zone.id)
        .collect();
    // Only whether the quota is reached matters: counted up to it, and not
    // at all when it is unlimited (negative) or the zone is published.
    let project_zone_count = match (&stored, u64::try_from(observed.quotas.zones)) {
        (None, Ok(limit)) => {
            ctx.storage
                .count_project_zones(&observed.zone.project, limit)
                .await?
        }
        _ => 0,
    };
    let published_rrsets: Vec<Rrset> = stored
        .iter()
        .flat_map(|s| s.rrsets.iter().map(|r| r.rrset.clone()))
        .collect();
    let mut plan = plan(
        &PlanInput {
            zone: &observed.zone,
            pool: observed.pool.as_ref().map(|(p, _)| p),
            recordsets: &observed.inputs,
            published: stored.as_ref().map(|s| Published {
                zone: &s.zone,
                rrsets: &published_rrsets,
            }),
            project_zone_count,
            related: &related,
            privileges: observed.privileges,
        },
        // Checked on a zone's first publication only (as Designate's
        // `create_zone`): a published zone plans as an update.
        &crate::quotas::config(
            crate::rules::central_config(
                &ctx.settings.central,
                &ctx.tlds.state(),
                &ctx.blacklists.state(),
            ),
            observed.quotas,
        ),
    );

    let masters = match observed.zone.kind {
        ZoneKind::Secondary => {
            secondary_content(ctx, zone, &observed, stored.as_ref(), &mut plan).await
        }
        ZoneKind::Primary => secondary::Checked::default(),
    };
    if masters.expired {
        return expire(api, zone, ctx, &observed, stored.as_ref(), &plan, masters).await;
    }
    let serial_before = stored.as_ref().map(|s| s.serial);
    let published = match publish(ctx, &observed, stored.as_ref(), &mut plan).await {
        Ok(published) => published,
        Err(error) => {
            // What a secondary zone's masters gave is not stored: its next
            // check starts afresh (a whole transfer), not from this copy.
            ctx.secondaries.forget(&observed.zone.id);
            return Err(error);
        }
    };
    let mut moving_from = moving_from(zone, &observed);
    let mut propagation = match &published {
        Some(publication) => {
            let moving = moving_from.is_some();
            propagate(
                ctx,
                zone,
                &observed,
                serial_before,
                publication.serial,
                moving,
            )
            .await?
        }
        None => Propagation::default(),
    };
    propagation.masters = masters;
    // A pool move: the zone leaves the old pool's nameservers once the new
    // pool's serve it; until then the status names the old pool, so that a
    // crash in between still knows where to take it off.
    if let Some(old) = &moving_from
        && propagation.verdict == Verdict::Confirmed
    {
        if let Some(old_pool) = ctx.pools.get(&ObjectRef::new(old)) {
            unprovision(ctx, zone, &old_pool, false).await?;
        }
        info!(from = %old, "zone moved: off the old pool's nameservers");
        moving_from = None;
    }
    let writes = write_statuses(
        api,
        zone,
        ctx,
        &observed,
        moving_from.as_deref(),
        &plan,
        published.as_ref(),
        &propagation,
    )
    .await?;
    if let (ZoneKind::Secondary, Some(publication)) = (observed.zone.kind, &published) {
        crate::transferred::copy(ctx, zone, &observed.zone.id, publication.serial).await?;
    }
    let outcome = match (published.as_ref().map(|p| p.serial), writes) {
        (serial, _) if serial != serial_before => Outcome::Published,
        (_, 0) => Outcome::Unchanged,
        _ => Outcome::StatusOnly,
    };
    let action = match propagation.verdict {
        Verdict::Waiting(after) => Action::requeue(after),
        _ => requeue_settled(&observed, ctx),
    };
    Ok((action, outcome))
}

/// A secondary zone's content is its master's, not Central's plan: the
/// copy published last, or a new transfer when a check is due and the
/// master's serial moved. The plan's SOA fields, records and serial are
/// replaced with those.
async fn secondary_content(
    ctx: &Context,
    zone: &Zone,
    observed: &Observed,
    stored: Option<&StoredZone>,
    plan: &mut Plan,
) -> secondary::Checked {
    let id = &observed.zone.id;
    let Some(row) = plan.row.as_mut() else {
        return secondary::Checked::default();
    };
    let mut transferred = false;
    plan.upsert.clear();
    plan.delete.clear();
    // Serials only go up, or the pool's nameservers stop following: the
    // master's when it is above what is published, else one more.
    let next_serial = |master: Option<i64>| match (stored.map(|s| s.serial), master) {
        (Some(published), Some(master)) if master > published => master,
        (Some(published), _) => published + 1,
        // Never transferred: serial 1 (as Designate's), below any master's.
        (None, master) => master.unwrap_or(1),
    };
    match stored {
        Some(stored) => {
            row.soa = stored.zone.soa.clone();
            // A change of the zone's own fields (a description) keeps the
            // content, at a serial above the published one.
            if *row != stored.zone {
                plan.serial = Some(next_serial(None));
            }
        }
        None => plan.serial = Some(next_serial(None)),
    }
    if ctx.secondaries.due(id, zone) {
        // The copy's serial is the master's only as known in this process.
        let copy = ctx
            .secondaries
            .copy_serial(id, zone)
            .zip(stored)
            .map(|(serial, stored)| secondary::LastCopy {
                serial,
                rrsets: stored.rrsets.iter().map(|r| &r.rrset).collect(),
            });
        let key = ctx.keyring.master_key(id);
        let pulled = secondary::pull(
            &observed.zone.masters,
            id,
            &observed.zone.name,
            copy.as_ref(),
            key.as_ref().map(|k| &k.signer),
        )
        .await;
        ctx.secondaries.checked(id, zone, &pulled);
        match pulled {
            secondary::Pulled::Transferred(transfer) => {
                info!(
                    serial = transfer.serial,
                    rrsets = transfer.rrsets.len(),
                    "zone transferred from its master"
                );
                row.soa = transfer.soa;
                let soa_id = managed_rrset_id(id, "SOA");
                let kept: std::collections::HashSet<&str> =
                    transfer.rrsets.iter().map(|r| r.id.as_str()).collect();
                plan.delete = stored
                    .into_iter()
                    .flat_map(|s| &s.rrsets)
                    .map(|r| r.rrset.id.as_str())
                    .filter(|rs_id| !kept.contains(rs_id) && *rs_id != soa_id)
                    .map(str::to_string)
                    .collect();
                plan.upsert = transfer.rrsets;
                plan.serial = Some(next_serial(Some(transfer.serial)));
                transferred = true;
            }
            secondary::Pulled::Unchanged => debug!("master's serial unchanged"),
            secondary::Pulled::Failed(failure) => {
                warn!(reason = failure.reason, message = %failure.message, "zone not transferred");
            }
        }
    }
    let had_copy = ctx.secondaries.transferred_serial(id).is_some()
        || stored.is_some_and(|s| s.rrsets.iter().any(|r| r.rrset.type_ != "SOA"));
    let expire = row.soa.expire;
    let expired = had_copy && ctx.secondaries.expired(id, zone, expire);
    let failed = ctx.secondaries.failure(id).map(|failure| {
        if expired {
            let message = format!(
                "no master confirmed the copy within its SOA's expire ({expire} s), so the \
                 pool's nameservers no longer serve it; {}",
                failure.message
            );
            ("Expired", message, had_copy)
        } else {
            (failure.reason, failure.message, had_copy)
        }
    });
    secondary::Checked {
        failed,
        transferred,
        expired,
    }
}

/// A secondary zone past its SOA's expire: taken off the pool's
/// nameservers (storage keeps the copy, and the zone is provisioned again
/// once a master gives it), its status ERROR (`Expired`).
async fn expire(
    api: &Api<Zone>,
    zone: &Zone,
    ctx: &Context,
    observed: &Observed,
    stored: Option<&StoredZone>,
    plan: &Plan,
    masters: secondary::Checked,
) -> Result<(Action, Outcome), Error> {
    if let Some((_, pool)) = &observed.pool {
        unprovision(ctx, zone, pool, false).await?;
        ctx.provisioned(&observed.zone.id, crate::Provisioned::Failed);
    }
    let published = stored.map(|stored| Publication {
        serial: stored.serial,
        rrset_serials: HashMap::new(),
    });
    let propagation = Propagation {
        masters,
        nameservers: Some(Vec::new()),
        ..Propagation::default()
    };
    let writes = write_statuses(
        api,
        zone,
        ctx,
        observed,
        None,
        plan,
        published.as_ref(),
        &propagation,
    )
    .await?;
    let outcome = match writes {
        0 => Outcome::Unchanged,
        _ => Outcome::StatusOnly,
    };
    Ok((
        Action::requeue(ctx.secondaries.until_next(&observed.zone.id)),
        outcome,
    ))
}

/// What is published after acting: the zone's serial and the serial at
/// which each recordset last changed.
struct Publication {
    serial: i64,
    rrset_serials: HashMap<String, i64>,
}

/// Applies the plan to storage, if it changes anything.
async fn publish(
    ctx: &Context,
    observed: &Observed,
    stored: Option<&StoredZone>,
    plan: &mut Plan,
) -> Result<Option<Publication>, Error> {
    let mut publication = stored.map(|s| Publication {
        serial: s.serial,
        rrset_serials: s
            .rrsets
            .iter()
            .map(|r| (r.rrset.id.clone(), r.serial))
            .collect(),
    });
    let Some(row) = plan.row.clone() else {
        return Ok(publication);
    };
    if !plan.changes(stored.map(|s| &s.zone)) {
        if let Some(stored) = stored
            && stored.fingerprint != observed.fingerprint
        {
            ctx.storage
                .set_fingerprint(&row.id, stored.serial, &observed.fingerprint)
                .await?;
        }
        return Ok(publication);
    }
    let change = ZoneChange {
        zone: row,
        fingerprint: observed.fingerprint.clone(),
        base_serial: stored.map(|s| s.serial),
        upsert: std::mem::take(&mut plan.upsert),
        delete: std::mem::take(&mut plan.delete),
        serial: plan.serial,
    };
    match ctx.storage.publish(&change, unix_now()).await {
        Ok(serial) => {
            info!(
                serial,
                upserted = change.upsert.len(),
                deleted = change.delete.len(),
                "zone published"
            );
            let publication = publication.get_or_insert_with(|| Publication {
                serial,
                rrset_serials: HashMap::new(),
            });
            publication.serial = serial;
            for rrset in &change.upsert {
                publication.rrset_serials.insert(rrset.id.clone(), serial);
            }
            for id in &change.delete {
                publication.rrset_serials.remove(id);
            }
        }
        Err(designate_storage::Error::NameTaken(_)) => {
            plan.zone_error = Some(designate_central::Error::DuplicateZone(
                "Duplicate Zone".into(),
            ));
            plan.row = None;
        }
        Err(other) => return Err(other.into()),
    }
    Ok(publication)
}

/// Where a published serial stands on the pool's nameservers.
struct Propagation {
    verdict: Verdict,
    /// What a secondary zone's masters gave in this reconcile.
    masters: secondary::Checked,
    /// Per-nameserver lines; `None` when the nameservers were not asked.
    nameservers: Option<Vec<NameserverStatus>>,
    /// What keeps the change from the nameservers (while `Waiting`).
    blocked: Option<Error>,
}

impl Default for Propagation {
    fn default() -> Self {
        Self {
            verdict: Verdict::Confirmed,
            masters: secondary::Checked::default(),
            nameservers: None,
            blocked: None,
        }
    }
}

/// Makes the pool's servers serve `serial` and reports how far they are:
/// provisions a new zone on the targets (and a zone a nameserver lost),
/// sends NOTIFY for a new serial, asks every nameserver for its serial.
async fn propagate(
    ctx: &Context,
    zone: &Zone,
    observed: &Observed,
    serial_before: Option<i64>,
    serial: i64,
    moving: bool,
) -> Result<Propagation, Error> {
    let Some((view, pool)) = &observed.pool else {
        return Ok(Propagation::default());
    };
    let id = &observed.zone.id;
    let key = ctx.keyring.zone_key(id, &view.id);
    let digest = tsig::key_digest(key.as_ref());
    // A zone moving to this pool is new to its targets.
    let provision_due = serial_before.is_none() || moving || ctx.provision_due(id, digest);
    let servers = PoolServers::new(pool).signed_with(key);
    if servers.is_empty() {
        return Ok(Propagation {
            nameservers: Some(Vec::new()),
            ..Propagation::default()
        });
    }
    let name = &observed.zone.name;
    let settings = &ctx.settings.propagation;
    let mut watch = ctx.watch(id, serial, zone);
    if provision_due {
        match servers.provision(ctx, id, name).await {
            Ok(()) => ctx.provisioned(id, Provisioned::With(digest)),
            // Waits, saying why, until the Pool or its Secret is fixed.
            Err(error) if error.is_target_problem() => {
                ctx.provisioned(id, Provisioned::Failed);
                return Ok(Propagation {
                    verdict: Verdict::Waiting(SECRET_RECHECK),
                    nameservers: None,
                    blocked: Some(error),
                    masters: secondary::Checked::default(),
                });
            }
            Err(other) => return Err(other),
        }
    }
    // A zone's first serial needs no NOTIFY to the nameservers:
    // provisioning handed it to each target (with its content, or with a
    // transfer asked at once), and a NOTIFY would have a secondary check it
    // again (PowerDNS then transfers a zone it was created with).
    match serial_before {
        None => servers.notify_also(ctx, name, serial).await,
        Some(before) if before != serial => servers.notify(ctx, name, serial).await,
        Some(_) => {}
    }
    let mut observations = servers.observe(ctx, name).await;
    let lost = observations.iter().any(|o| o.answer == Answer::NotServed);
    let shown_failed = zone.status.as_ref().and_then(|s| s.status) == Some(ResourceStatus::Error);
    // A zone a nameserver lost (a BIND restarted without it) is put back,
    // at most once per grace: a zone just provisioned is not served until
    // its first transfer, and one a nameserver cannot transfer (a wrong
    // key) would be provisioned at every poll. A zone that timed out is
    // driven again at each of its checks, which it gets ever less often.
    let lost = lost && serial_before.is_some() && watch.since.elapsed() >= LOST_GRACE;
    if lost || shown_failed {
        info!(lost, "provisioning the zone again");
        if lost {
            ctx.events.publish(
                zone,
                events::Note::normal(
                    "Healed",
                    "a nameserver had lost the zone: provisioned on the pool's targets again",
                ),
            );
        }
        servers.provision(ctx, id, name).await?;
        ctx.provisioned(id, Provisioned::With(digest));
        servers.notify(ctx, name, serial).await;
        watch = ctx.restart_watch(id, serial);
        observations = servers.observe(ctx, name).await;
    }
    let verdict = verdict(
        serial,
        &observations,
        settings.threshold_percentage,
        watch.since.elapsed(),
        settings.timeout,
    );
    if !matches!(verdict, Verdict::Waiting(_)) {
        ctx.mark_checked(id, verdict == Verdict::Failed);
    }
    Ok(Propagation {
        nameservers: Some(nameserver_statuses(
            serial,
            &observations,
            verdict == Verdict::Failed,
        )),
        verdict,
        blocked: None,
        masters: secondary::Checked::default(),
    })
}

/// The Event a recordset's status change deserves: its refusals and
/// timeouts, and its recovery from one (the zone's Events tell the rest;
/// one per recordset change would double the writes of a bulk load).
fn recordset_event(
    current: Option<&RecordsetStatus>,
    desired: &RecordsetStatus,
) -> Option<events::Note> {
    let failed = |s: &RecordsetStatus| s.status == Some(ResourceStatus::Error);
    let was_failed = current.is_some_and(failed);
    if !failed(desired) && !was_failed {
        return None;
    }
    let current = current.cloned().unwrap_or_default();
    let quiet = ["WaitingForNameservers", "ZoneNotReady"];
    events::transition(&(&current).into(), &desired.into(), &quiet)
}

/// The pool a zone is moving away from: the one its status names (where it
/// was published and served) when the zone now names another.
fn moving_from(zone: &Zone, observed: &Observed) -> Option<String> {
    let shown = zone.status.as_ref()?.pool.as_deref()?;
    let (view, _) = observed.pool.as_ref()?;
    (shown != view.name).then(|| shown.to_string())
}

/// Whether a settled zone is due for a look at its nameservers.
fn check_due(ctx: &Context, observed: &Observed) -> bool {
    let Some((_, pool)) = &observed.pool else {
        return false;
    };
    !PoolServers::new(pool).is_empty() && ctx.check_in(&observed.zone.id).is_zero()
}

/// Whether the zone's backends are to be provisioned again (see
/// [`Context::provision_due`]).
fn provision_due(ctx: &Context, observed: &Observed) -> bool {
    let Some((view, _)) = &observed.pool else {
        return false;
    };
    let key = ctx.keyring.zone_key(&observed.zone.id, &view.id);
    ctx.provision_due(&observed.zone.id, tsig::key_digest(key.as_ref()))
}

/// How much longer `zone` waits for its import to end
/// ([`IMPORTING_ANNOTATION`]): none unmarked, or once [`IMPORT_HOLD`] has
/// passed since it was made.
fn import_hold(zone: &Zone, now: k8s_openapi::jiff::Timestamp) -> Option<Duration> {
    if !zone.annotations().contains_key(IMPORTING_ANNOTATION) {
        return None;
    }
    let created = zone.metadata.creation_timestamp.as_ref()?.0;
    let waited = Duration::try_from(now.duration_since(created)).unwrap_or_default();
    IMPORT_HOLD
        .checked_sub(waited)
        .filter(|left| !left.is_zero())
}

/// When to look at a settled zone again: at its next check.
fn requeue_settled(observed: &Observed, ctx: &Context) -> Action {
    let after = match &observed.pool {
        Some((_, pool)) if !PoolServers::new(pool).is_empty() => {
            let next = ctx.check_in(&observed.zone.id);
            if next.is_zero() {
                ctx.settings.propagation.heal_interval
            } else {
                next
            }
        }
        _ => RESYNC,
    };
    // A secondary zone's next check of its masters may come first.
    Action::requeue(match observed.zone.kind {
        ZoneKind::Secondary => after.min(ctx.secondaries.until_next(&observed.zone.id)),
        ZoneKind::Primary => after,
    })
}

/// The SOA record a SECONDARY zone serves at `serial`: its masters' once
/// transferred, Central's until then (as MiniDNS answers it).
fn served_soa(observed: &Observed, plan: &Plan, serial: Option<i64>) -> Option<String> {
    if observed.zone.kind != ZoneKind::Secondary {
        return None;
    }
    let row = plan.row.as_ref()?;
    Some(managed::soa_rdata(&row.soa, serial?))
}

#[allow(
    clippy::too_many_arguments,
    reason = "one status write, from everything the reconcile learned"
)]
async fn write_statuses(
    api: &Api<Zone>,
    zone: &Zone,
    ctx: &Context,
    observed: &Observed,
    moving_from: Option<&str>,
    plan: &Plan,
    published: Option<&Publication>,
    propagation: &Propagation,
) -> Result<usize, Error> {
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let confirmation = match propagation.verdict {
        Verdict::Confirmed => Confirmation::Confirmed,
        Verdict::Waiting(_) => Confirmation::Waiting,
        Verdict::Failed => Confirmation::Failed,
    };
    let zone_serial = published.map(|p| p.serial);
    let desired = zone_status(
        zone.status.as_ref(),
        zone.metadata.generation,
        ZoneOutcome {
            refusal: plan.zone_error.as_ref(),
            serial: zone_serial,
            pool: moving_from.or(observed.pool.as_ref().map(|(p, _)| p.name.as_str())),
            confirmation,
            nameservers: propagation.nameservers.clone(),
            blocked: propagation
                .blocked
                .as_ref()
                .map(|error| (error.reason(), error.to_string())),
            transfer_failed: propagation.masters.failed.clone(),
            transferred: propagation.masters.transferred,
            soa: served_soa(observed, plan, zone_serial),
        },
        &now,
    );
    let zone_write = zone.status.as_ref() != Some(&desired);
    if zone_write {
        // Told on the bus before it shows: a crash in between tells it at
        // the next reconcile, and storage tells each serial's status once.
        if let (Some(serial), Some(notice)) = (zone_serial, status_notice(&desired, plan)) {
            ctx.storage
                .note_zone_status(&zone.designate_id(), serial, notice)
                .await?;
        }
        ctx.zone_echoes.expect(zone, &desired);
        ctx.write_status(CONTROLLER, api, &zone.name_any(), &desired)
            .await?;
        let current = zone.status.clone().unwrap_or_default();
        // Not yet published: nothing to tell.
        if let Some(note) = events::transition(&(&current).into(), &(&desired).into(), &["Pending"])
        {
            ctx.events.publish(zone, note);
        }
    }

    let namespace = zone.namespace().unwrap_or_default();
    let rs_api = Api::<Recordset>::namespaced(ctx.client.clone(), &namespace);
    let zone_refusal = plan.zone_error.as_ref().map(|e| e.to_string());
    let writes: Vec<(Arc<Recordset>, RecordsetStatus)> = observed
        .recordsets
        .iter()
        .filter_map(|rs| {
            let id = rs.designate_id();
            let serial = published.and_then(|p| p.rrset_serials.get(&id).copied());
            let outcome = match (plan.recordset_errors.get(&id), serial, zone_serial) {
                (Some(refusal), serial, _) => RecordsetOutcome::Refused { refusal, serial },
                (None, Some(serial), Some(_)) => RecordsetOutcome::Published {
                    serial,
                    confirmation,
                },
                _ => RecordsetOutcome::ZoneNotReady {
                    reason: "ZoneNotReady",
                    message: match &zone_refusal {
                        Some(refusal) => {
                            format!("zone {} is not published: {refusal}", zone.name_any())
                        }
                        None => format!("zone {} is not published yet", zone.name_any()),
                    },
                },
            };
            // A new set published and only waiting for the nameservers is
            // left without a status until they serve it: REST shows it
            // PENDING all the same, and an import of 10,000 sets makes
            // 10,000 writes fewer.
            if rs.status.is_none()
                && matches!(
                    outcome,
                    RecordsetOutcome::Published {
                        confirmation: Confirmation::Waiting,
                        ..
                    }
                )
            {
                return None;
            }
            let desired =
                recordset_status(rs.status.as_ref(), rs.metadata.generation, outcome, &now);
            let changed = rs.status.as_ref() != Some(&desired);
            if changed && let Some(note) = recordset_event(rs.status.as_ref(), &desired) {
                ctx.events.publish(&**rs, note);
            }
            changed.then(|| (rs.clone(), desired))
        })
        .collect();
    let results: Vec<Result<(), Error>> = futures::stream::iter(writes)
        .map(|(rs, status)| {
            let rs_api = rs_api.clone();
            async move {
                ctx.recordsets.echoes.expect(&rs, &status);
                match ctx
                    .write_status(CONTROLLER, &rs_api, &rs.name_any(), &status)
                    .await
                {
                    Ok(written) => {
                        ctx.recordsets.written(&rs, written);
                        Ok(())
                    }
                    // Deleted since observed: its zone is replanned anyway.
                    Err(Error::Kube(kube::Error::Api(e))) if e.code == 404 => Ok(()),
                    Err(other) => Err(other),
                }
            }
        })
        .buffer_unordered(STATUS_WRITES)
        .collect()
        .await;
    let writes = results.len() + usize::from(zone_write);
    results.into_iter().collect::<Result<(), Error>>()?;
    Ok(writes)
}

/// The status Designate's `update_status` would notify: the nameservers
/// have the serial (ACTIVE), or failed it (ERROR). A refusal is Central's
/// answer to a request, not the nameservers'.
fn status_notice(desired: &ZoneStatus, plan: &Plan) -> Option<ZoneStatusNotice> {
    match desired.status? {
        ResourceStatus::Active => Some(ZoneStatusNotice::Active),
        ResourceStatus::Error if plan.zone_error.is_none() => Some(ZoneStatusNotice::Error {
            action: match desired.action {
                Some(ResourceAction::Update) => "UPDATE",
                _ => "CREATE",
            },
        }),
        _ => None,
    }
}

async fn cleanup(zone: &Zone, ctx: &Context) -> Result<(Action, Outcome), Error> {
    let id = zone.designate_id();
    // Off every backend first; the finalizer holds the zone until then.
    let pool = ctx.pools.get(&ObjectRef::new(Context::pool_name(zone)));
    // An admin's abandon leaves the zone on its nameservers (Designate's).
    let abandoned = designate_crd::grant::abandoned(ctx.settings.grant_key.as_ref(), zone);
    if abandoned {
        info!("zone abandoned: left on its nameservers");
    }
    if let Some(pool) = &pool
        && !abandoned
        && ctx.storage.zone_state(&id).await?.is_some()
        && let Err(error) = unprovision(ctx, zone, pool, zone.hard_delete()).await
    {
        // Shown (ERROR, DELETE, the reason) and tried again until it goes.
        let api =
            Api::<Zone>::namespaced(ctx.client.clone(), &zone.namespace().unwrap_or_default());
        let status = delete_failed(zone.status.as_ref(), zone.metadata.generation, &error);
        if zone.status.as_ref() != Some(&status) {
            ctx.write_status(CONTROLLER, &api, &zone.name_any(), &status)
                .await?;
        }
        return Err(error);
    }
    ctx.forget_watch(&id);
    ctx.secondaries.forget(&id);
    ctx.zone_echoes.forget(zone);
    // Read from the API server, not the index: a recordset deleted just
    // before its zone may still be in the index, and its delete is notified
    // only if storage learns it is gone.
    let namespace = zone.namespace().unwrap_or_default();
    let rs_api = Api::<Recordset>::namespaced(ctx.client.clone(), &namespace);
    let recordsets: Vec<Recordset> = recordsets_of(&rs_api, &zone.name_any())
        .await?
        .into_iter()
        .map(|mut rs| {
            grant::drop_unsigned_id(ctx.settings.grant_key.as_ref(), &mut rs);
            rs
        })
        .collect();
    let remaining = recordsets.iter().map(|rs| rs.designate_id()).collect();
    let removed = ctx.storage.delete_zone(&id, &remaining).await?;
    // Designate deletes a zone's recordsets with it; so do we, so that a
    // zone created again under the same name starts empty.
    for rs in recordsets {
        ctx.metrics.wrote(CONTROLLER);
        match rs_api
            .delete(&rs.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(other) => return Err(other.into()),
        }
    }
    info!(removed, "zone unpublished");
    // Zones refused because of this one (same name elsewhere, the project's
    // zone quota) may be published now.
    ctx.requeue(ctx.zones.state_filter(|other| {
        other.uid() != zone.uid()
            && (other.spec.name.eq_ignore_ascii_case(&zone.spec.name)
                || (other.namespace() == zone.namespace()
                    && other.status.as_ref().and_then(|s| s.status) == Some(ResourceStatus::Error)))
    }));
    Ok((Action::await_change(), Outcome::Cleanup))
}

/// The recordsets of zone `name` the API server holds: selected by the
/// server (`spec.zoneRef` is a selectable field), or, where it does not
/// know selectable fields (Kubernetes before 1.31 refuses the selector),
/// every recordset of the namespace filtered here.
async fn recordsets_of(api: &Api<Recordset>, name: &str) -> Result<Vec<Recordset>, kube::Error> {
    let selected = ListParams::default().fields(&format!("spec.zoneRef={name}"));
    let listed = match api.list(&selected).await {
        Err(kube::Error::Api(e)) if e.code == 400 => api.list(&ListParams::default()).await?,
        other => other?,
    };
    Ok(listed
        .items
        .into_iter()
        .filter(|rs| rs.spec.zone_ref == name)
        .collect())
}

/// Takes the zone off the pool's targets (`purge`: with its files, a hard
/// delete) and checks no nameserver serves it any more.
async fn unprovision(ctx: &Context, zone: &Zone, pool: &Pool, purge: bool) -> Result<(), Error> {
    let id = zone.designate_id();
    let key = ctx.keyring.zone_key(&id, &pool.designate_id());
    let servers = PoolServers::new(pool).signed_with(key);
    servers.unprovision(ctx, &zone.spec.name, purge).await?;
    let serving: Vec<String> = servers
        .observe(ctx, &zone.spec.name)
        .await
        .into_iter()
        .filter(|o| matches!(o.answer, Answer::Serial(_)))
        .map(|o| format!("{}:{}", o.host, o.port))
        .collect();
    if !serving.is_empty() {
        return Err(Error::StillServed {
            zone: zone.spec.name.clone(),
            servers: serving.join(", "),
        });
    }
    Ok(())
}

/// The status of a zone whose delete failed on the backends (pure):
/// Designate's ERROR with action DELETE, and why.
fn delete_failed(
    current: Option<&ZoneStatus>,
    generation: Option<i64>,
    error: &Error,
) -> ZoneStatus {
    let current = current.cloned().unwrap_or_default();
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    ZoneStatus {
        status: Some(ResourceStatus::Error),
        action: Some(ResourceAction::Delete),
        conditions: vec![crate::status::ready(
            &current.conditions,
            false,
            error.reason(),
            format!("not removed from the pool's nameservers: {error}"),
            generation,
            &now,
        )],
        ..current
    }
}

fn error_policy(_zone: Arc<Zone>, error: &Error, _ctx: Arc<Context>) -> Action {
    warn!(reason = error.reason(), %error, "zone reconcile failed");
    // A lost race with another writer is retried at once; the rest back off.
    match error.reason() {
        "Conflict" => Action::requeue(Duration::from_millis(10)),
        _ => Action::requeue(Duration::from_secs(5)),
    }
}

fn observe(zone: &Zone, ctx: &Context) -> Observed {
    let namespace = zone.namespace().unwrap_or_default();
    let pool = ctx
        .pools
        .get(&ObjectRef::new(Context::pool_name(zone)))
        .filter(|p| p.metadata.deletion_timestamp.is_none());
    let recordsets: Vec<Arc<Recordset>> = ctx
        .recordsets
        .of_zone(&namespace, &zone.name_any())
        .into_iter()
        // A copy of a secondary zone's transfer is never the zone's content.
        .filter(|rs| rs.metadata.deletion_timestamp.is_none() && !rs.is_transferred())
        .collect();
    let inputs = recordsets.iter().map(|rs| rs.to_input()).collect();
    let privileges = crate::rules::privileges(ctx.settings.grant_key.as_ref(), zone);
    let quotas = ctx.quotas.of_namespace(&namespace);
    let fingerprint = fingerprint(
        zone,
        pool.as_deref(),
        &recordsets,
        privileges,
        ctx.quotas.digest(ctx.settings_digest, &quotas),
    );
    Observed {
        zone: zone.to_input(),
        pool: pool.map(|p| (pool_view(&p), p)),
        recordsets,
        inputs,
        privileges,
        quotas,
        fingerprint,
    }
}

/// Whether the zone's and its recordsets' statuses already reflect their
/// current generation at the published `serial`: then nothing needs writing.
fn statuses_current(zone: &Zone, recordsets: &[Arc<Recordset>], serial: i64) -> bool {
    let settled = |status: Option<ResourceStatus>| {
        matches!(status, Some(ResourceStatus::Active | ResourceStatus::Error))
    };
    let zone_current = zone.status.as_ref().is_some_and(|s| {
        s.observed_generation == zone.metadata.generation
            && s.serial == Some(serial)
            && settled(s.status)
    });
    zone_current
        && recordsets.iter().all(|rs| {
            rs.status.as_ref().is_some_and(|s| {
                s.observed_generation == rs.metadata.generation && settled(s.status)
            })
        })
}

/// A digest of every input of the plan: equal digests plan equal changes.
fn fingerprint(
    zone: &Zone,
    pool: Option<&Pool>,
    recordsets: &[Arc<Recordset>],
    privileges: Privileges,
    settings_digest: u64,
) -> String {
    let mut text = format!(
        "{}/{:?}/{settings_digest}",
        zone.uid().unwrap_or_default(),
        zone.metadata.generation
    );
    // A granted zone's digest differs from an ungranted one's; zones
    // without a grant keep the digest they had.
    if privileges != Privileges::default() {
        text.push_str(&format!(
            "|grant {}/{}",
            privileges.blacklisted_zone, privileges.low_ttl
        ));
    }
    if let Some(pool) = pool {
        text.push_str(&format!(
            "|pool {}/{:?}",
            pool.uid().unwrap_or_default(),
            pool.metadata.generation
        ));
    }
    for rs in recordsets {
        text.push_str(&format!(
            "|{}/{:?}",
            rs.uid().unwrap_or_default(),
            rs.metadata.generation
        ));
    }
    format!("{:016x}", crate::fnv1a(text.as_bytes()))
}

pub(crate) fn pool_view(pool: &Pool) -> PoolView {
    PoolView {
        id: pool.designate_id(),
        name: pool.name_any(),
        ns_records: pool.ns_records(),
    }
}

fn unix_now() -> i64 {
    k8s_openapi::jiff::Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::{SignedDuration, Timestamp};

    fn zone(annotated: bool, created: Timestamp) -> Zone {
        let mut zone = Zone::new("z.example", Default::default());
        zone.metadata.creation_timestamp = Some(Time(created));
        if annotated {
            zone.annotations_mut()
                .insert(IMPORTING_ANNOTATION.into(), "task".into());
        }
        zone
    }

    #[test]
    fn an_importing_zone_waits_for_its_import_for_a_while() {
        let created = Timestamp::from_second(1_800_000_000).unwrap();
        let after = |secs: i64| created + SignedDuration::from_secs(secs);
        assert_eq!(import_hold(&zone(false, created), after(1)), None);
        assert_eq!(
            import_hold(&zone(true, created), after(1)),
            Some(IMPORT_HOLD - Duration::from_secs(1))
        );
        // A clock behind the API server's waits no longer than the hold.
        assert_eq!(
            import_hold(&zone(true, created), after(-5)),
            Some(IMPORT_HOLD)
        );
        let hold = i64::try_from(IMPORT_HOLD.as_secs()).unwrap();
        assert_eq!(import_hold(&zone(true, created), after(hold)), None);
        assert_eq!(import_hold(&zone(true, created), after(hold + 60)), None);
    }
}
