//! Zone transfers between projects: a `ZoneTransferAccept` moves its
//! request's Zone, the zone's Recordsets and its ZoneShares into the
//! accept's namespace, keeping their Designate ids (Designate keeps a
//! transferred zone's shares, and its sharer).
//!
//! Kubernetes has no transaction over several objects, so the move is a
//! sequence of idempotent steps, reconciled until the accept is COMPLETE or
//! ERROR; a crash anywhere resumes it, and neither project ever sees the
//! zone in two places or a part of it:
//! 1. claim the request (its status names the accept; any other is refused);
//! 2. copy the recordsets, the zone and its shares into the accept's
//!    namespace, each with its id signed for its new place, its status,
//!    and the transfer mark that hides it;
//! 3. commit: the signed moved mark on the source zone hides it and keeps
//!    the controllers off it (its published data now belongs to the copy,
//!    which has the same id);
//! 4. delete the source's recordsets and shares (a share with the signed
//!    moved mark, so that its deletion notifies nothing), then unmark the
//!    copies' recordsets and shares, and last the zone copy, which shows
//!    the zone in its new project;
//! 5. delete the source zone (its cleanup leaves nameservers and storage
//!    alone), then mark the accept and the request COMPLETE.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use designate_crd::grant::{self, DesignateId, GrantKey, Mark};
use designate_crd::{
    CREATED_AT_ANNOTATION, Recordset, SHARE_ZONE_ID_ANNOTATION, TransferState, Zone, ZoneShare,
    ZoneTransferAccept, ZoneTransferAcceptStatus, ZoneTransferRequest, ZoneTransferRequestStatus,
    share_owners,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;
use tracing::{info, instrument, warn};

use crate::{Context, Error, Outcome};

/// The controller's name in metrics.
const CONTROLLER: &str = "transfer";

/// Designate's messages for a refused accept.
const USED: &str = "Zone Transfer Request has been used";
const INVALID: &str = "Zone Transfer Request Invalid";
const BAD_KEY: &str = "Key does not match stored key for request";
const NOT_TARGET: &str = "Forbidden";
const NO_ZONE: &str = "Could not find Zone";
const DELETING: &str = "Can not transfer a deleting zone";

/// Annotations a move does not carry: marks and signatures bound to the
/// source object. (A share's project keeps its recordsets: the share moves
/// with the zone.)
const LEFT_BEHIND: [&str; 6] = [
    grant::ABANDON_ANNOTATION,
    grant::MOVED_ANNOTATION,
    grant::ID_ANNOTATION,
    grant::ID_SIGNATURE_ANNOTATION,
    grant::PRIVILEGES_ANNOTATION,
    grant::SIGNATURE_ANNOTATION,
];

pub(crate) async fn run(
    context: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let (controller, changes) = crate::watch::controller::<ZoneTransferAccept>(
        &context.client,
        watcher::Config::default().any_semantic(),
        None,
        Default::default(),
    );
    crate::admission::run(
        CONTROLLER,
        controller,
        crate::watch::requests(changes),
        reconcile,
        error_policy,
        context,
        shutdown,
    )
    .await;
}

fn error_policy(_accept: Arc<ZoneTransferAccept>, error: &Error, _ctx: Arc<Context>) -> Action {
    warn!(reason = error.reason(), %error, "transfer reconcile failed");
    Action::requeue(Duration::from_secs(1))
}

#[instrument(skip_all, fields(accept = %accept.name_any(), namespace = accept.namespace().unwrap_or_default()))]
async fn reconcile(accept: Arc<ZoneTransferAccept>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let result = drive(&accept, &ctx).await;
    let outcome = match &result {
        Ok(true) => Outcome::Published,
        Ok(false) => Outcome::Unchanged,
        Err(_) => Outcome::Failed,
    };
    ctx.metrics.reconciled(CONTROLLER, outcome, started);
    result.map(|_| Action::await_change())
}

/// What the accept's request says about it, before anything moves.
pub(crate) fn refusal(
    request: &ZoneTransferRequest,
    accept: &ZoneTransferAccept,
    accepting_project: &str,
) -> Option<&'static str> {
    let status = request.status.clone().unwrap_or_default();
    let ours = status.accepted_by.as_deref() == accept.uid().as_deref();
    if status.accepted_by.is_some() && !ours {
        return Some(USED);
    }
    if !ours {
        match status.status {
            None | Some(TransferState::Active) => {}
            Some(TransferState::Complete) => return Some(USED),
            Some(_) => return Some(INVALID),
        }
    }
    if request.spec.key != accept.spec.key {
        return Some(BAD_KEY);
    }
    match &request.spec.target_project_id {
        Some(target) if target != accepting_project => Some(NOT_TARGET),
        _ => None,
    }
}

/// One pass over the accept; true when it wrote anything.
async fn drive(accept: &ZoneTransferAccept, ctx: &Context) -> Result<bool, Error> {
    let namespace = accept.namespace().ok_or(Error::MissingNamespace)?;
    let accepts = Api::<ZoneTransferAccept>::namespaced(ctx.client.clone(), &namespace);
    let state = accept.status.as_ref().and_then(|s| s.status);
    let request = find_request(ctx, &accept.spec.zone_transfer_request_id).await?;
    if state == Some(TransferState::Complete) {
        // A crash between the two last writes leaves the request ACTIVE.
        return match request {
            Some(request) => complete_request(ctx, &request, accept).await,
            None => Ok(false),
        };
    }
    if state == Some(TransferState::Error) {
        return Ok(false);
    }
    let Some(key) = ctx.settings.grant_key.clone() else {
        return Err(Error::GrantKey(
            "no grant key: ids cannot be carried".into(),
        ));
    };
    let Some(request) = request else {
        return finish(ctx, &accepts, accept, Err(INVALID)).await;
    };
    let project = accept
        .spec
        .project_id
        .clone()
        .unwrap_or_else(|| ctx.quotas.project_of(&namespace));
    if let Some(message) = refusal(&request, accept, &project) {
        return finish(ctx, &accepts, accept, Err(message)).await;
    }
    let zone_id = request.spec.zone_id.clone();
    let source_namespace = request.namespace().unwrap_or_default();
    let source = find_zone(ctx, &source_namespace, &zone_id).await?;
    let claimed = request
        .status
        .as_ref()
        .and_then(|s| s.accepted_by.as_deref())
        == accept.uid().as_deref();
    if !claimed {
        if source.is_none() {
            return finish(ctx, &accepts, accept, Err(NO_ZONE)).await;
        }
        if source
            .as_ref()
            .is_some_and(|z| z.metadata.deletion_timestamp.is_some())
        {
            return finish(ctx, &accepts, accept, Err(DELETING)).await;
        }
        claim(ctx, &request, accept).await?;
    }
    let mover = Mover {
        ctx,
        key: &key,
        mark: accept.name_any(),
        target: namespace.clone(),
    };
    match source {
        Some(source) => mover.move_zone(&source).await?,
        None => {
            // The source is gone: only the copy's unmarking may be left.
            let Some(copy) = find_zone(ctx, &namespace, &zone_id).await? else {
                return finish(ctx, &accepts, accept, Err(NO_ZONE)).await;
            };
            mover.unmark(&copy).await?;
        }
    }
    info!(zone = %request.spec.zone_name, from = %source_namespace, to = %namespace, "zone transferred");
    // The request first: an accept shown COMPLETE has its request used.
    complete_request(ctx, &request, accept).await?;
    finish(ctx, &accepts, accept, Ok(&zone_id)).await
}

/// The request of id `id`, read from the API (not a cache: it may have been
/// made a moment ago, in another namespace).
async fn find_request(ctx: &Context, id: &str) -> Result<Option<ZoneTransferRequest>, Error> {
    let requests = Api::<ZoneTransferRequest>::all(ctx.client.clone());
    Ok(requests
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .find(|r| r.uid().as_deref() == Some(id)))
}

/// The zone of Designate id `id` in `namespace`, from the API.
async fn find_zone(ctx: &Context, namespace: &str, id: &str) -> Result<Option<Zone>, Error> {
    let zones = Api::<Zone>::namespaced(ctx.client.clone(), namespace);
    Ok(zones
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|mut zone| {
            grant::drop_unsigned_id(ctx.settings.grant_key.as_ref(), &mut zone);
            zone
        })
        .find(|zone| zone.designate_id() == id))
}

/// Takes the request for `accept`: the status write carries the request's
/// resourceVersion, so of two accepts racing only one claims it.
async fn claim(
    ctx: &Context,
    request: &ZoneTransferRequest,
    accept: &ZoneTransferAccept,
) -> Result<(), Error> {
    let api = Api::<ZoneTransferRequest>::namespaced(
        ctx.client.clone(),
        &request.namespace().unwrap_or_default(),
    );
    let patch = json!({
        "metadata": {"resourceVersion": request.resource_version()},
        "status": ZoneTransferRequestStatus {
            status: Some(TransferState::Active),
            accepted_by: accept.uid(),
            updated_at: None,
        },
    });
    ctx.metrics.wrote(CONTROLLER);
    api.patch_status(
        &request.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

async fn complete_request(
    ctx: &Context,
    request: &ZoneTransferRequest,
    accept: &ZoneTransferAccept,
) -> Result<bool, Error> {
    let status = request.status.clone().unwrap_or_default();
    // Claimed a moment ago: the request read before holds no claim yet.
    let claimed = status.accepted_by.is_none() || status.accepted_by == accept.uid();
    if status.status == Some(TransferState::Complete) || !claimed {
        return Ok(false);
    }
    let api = Api::<ZoneTransferRequest>::namespaced(
        ctx.client.clone(),
        &request.namespace().unwrap_or_default(),
    );
    let done = ZoneTransferRequestStatus {
        status: Some(TransferState::Complete),
        accepted_by: accept.uid(),
        updated_at: Some(now()),
    };
    ctx.write_status(CONTROLLER, &api, &request.name_any(), &done)
        .await?;
    Ok(true)
}

/// Ends the accept: COMPLETE with the zone moved, or ERROR with why.
async fn finish(
    ctx: &Context,
    api: &Api<ZoneTransferAccept>,
    accept: &ZoneTransferAccept,
    outcome: Result<&str, &str>,
) -> Result<bool, Error> {
    let status = match outcome {
        Ok(zone_id) => ZoneTransferAcceptStatus {
            status: Some(TransferState::Complete),
            message: None,
            zone_id: Some(zone_id.to_string()),
            updated_at: Some(now()),
        },
        Err(message) => {
            info!(reason = message, "transfer refused");
            ZoneTransferAcceptStatus {
                status: Some(TransferState::Error),
                message: Some(message.to_string()),
                zone_id: None,
                updated_at: Some(now()),
            }
        }
    };
    ctx.write_status(CONTROLLER, api, &accept.name_any(), &status)
        .await?;
    Ok(true)
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// The kinds a move carries: namespaced objects of the API.
trait Carried:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
{
}

impl<K> Carried for K where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
{
}

/// One accept's move into `target`.
struct Mover<'a> {
    ctx: &'a Context,
    key: &'a GrantKey,
    /// The transfer mark's value: the accept's name.
    mark: String,
    target: String,
}

impl Mover<'_> {
    async fn move_zone(&self, source: &Zone) -> Result<(), Error> {
        let source_namespace = source.namespace().unwrap_or_default();
        let recordsets: Vec<Recordset> = self
            .of_zone(&source_namespace, &source.name_any(), |rs: &Recordset| {
                &rs.spec.zone_ref
            })
            .await?;
        let shares: Vec<ZoneShare> = self
            .of_zone(&source_namespace, &source.name_any(), |s: &ZoneShare| {
                &s.spec.zone_ref
            })
            .await?;
        let committed = grant::marked(Some(self.key), source, Mark::Moved);
        if !committed {
            for rs in &recordsets {
                self.copy(rs, rs.status.as_ref(), None).await?;
            }
            let zone = self.copy(source, source.status.as_ref(), None).await?;
            let sharer = self.ctx.quotas.project_of(&source_namespace);
            for share in &shares {
                let carried = carried_share(share, &sharer, &source.designate_id());
                self.copy(&carried, None::<&()>, share_owners(&zone))
                    .await?;
            }
            // Privileges an admin was granted hold in the new place too.
            let (privileges, _) = grant::verified(Some(self.key), source);
            if let Some(granted) = grant::annotations(
                self.key,
                &self.target,
                &zone.name_any(),
                &source.spec.name,
                privileges,
            ) {
                let granted = granted.into_iter().map(|(k, v)| (k, Some(v))).collect();
                self.annotate(&zone, granted).await?;
            }
            let (name, value) = grant::mark_annotation(self.key, source, Mark::Moved);
            self.annotate(source, BTreeMap::from([(name, Some(value))]))
                .await?;
        }
        for rs in &recordsets {
            self.delete(rs).await?;
        }
        for share in &shares {
            let (name, value) = grant::mark_annotation(self.key, share, Mark::Moved);
            match self
                .annotate(share, BTreeMap::from([(name, Some(value))]))
                .await
            {
                Err(Error::Kube(kube::Error::Api(e))) if e.code == 404 => continue,
                marked => self.delete(&marked?).await?,
            }
        }
        let copy = find_zone(self.ctx, &self.target, &source.designate_id())
            .await?
            .ok_or_else(|| Error::TransferBlocked {
                name: source.name_any(),
                namespace: self.target.clone(),
            })?;
        self.unmark(&copy).await?;
        self.delete(source).await
    }

    /// Shows the copies: the recordsets and shares first, the zone last.
    async fn unmark(&self, copy: &Zone) -> Result<(), Error> {
        let unmark = BTreeMap::from([(grant::TRANSFER_ANNOTATION.to_string(), None)]);
        let zone = copy.name_any();
        let recordsets: Vec<Recordset> = self
            .of_zone(&self.target, &zone, |rs: &Recordset| &rs.spec.zone_ref)
            .await?;
        for rs in recordsets
            .iter()
            .filter(|rs| grant::in_transfer(&rs.metadata))
        {
            self.annotate(rs, unmark.clone()).await?;
        }
        let shares: Vec<ZoneShare> = self
            .of_zone(&self.target, &zone, |s: &ZoneShare| &s.spec.zone_ref)
            .await?;
        for share in shares.iter().filter(|s| grant::in_transfer(&s.metadata)) {
            self.annotate(share, unmark.clone()).await?;
        }
        if grant::in_transfer(&copy.metadata) {
            self.annotate(copy, unmark).await?;
        }
        Ok(())
    }

    /// The objects of a kind in `namespace` that belong to the Zone object
    /// named `zone` (`zone_ref` reads the name they refer to).
    async fn of_zone<K: Carried>(
        &self,
        namespace: &str,
        zone: &str,
        zone_ref: fn(&K) -> &String,
    ) -> Result<Vec<K>, Error> {
        let api = Api::<K>::namespaced(self.ctx.client.clone(), namespace);
        Ok(api
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|o| zone_ref(o) == zone && o.meta().deletion_timestamp.is_none())
            .collect())
    }

    /// The API of `object`'s kind in its namespace.
    fn api_of<K: Carried>(&self, object: &K) -> Api<K> {
        Api::namespaced(
            self.ctx.client.clone(),
            &object.namespace().unwrap_or_default(),
        )
    }

    /// Deletes `object`; gone already is done.
    async fn delete<K: Carried>(&self, object: &K) -> Result<(), Error> {
        let api = self.api_of(object);
        self.ctx.metrics.wrote(CONTROLLER);
        ignore_gone(
            api.delete(&object.name_any(), &DeleteParams::default())
                .await
                .map(|_| ()),
        )
    }

    /// Makes (or finds, when a crash came after) `source`'s copy in the
    /// target namespace, hidden, with `source`'s id and status, owned by
    /// `owners`.
    async fn copy<K, S>(
        &self,
        source: &K,
        status: Option<&S>,
        owners: Option<Vec<OwnerReference>>,
    ) -> Result<K, Error>
    where
        K: Carried + serde::Serialize,
        S: serde::Serialize,
    {
        let api = Api::<K>::namespaced(self.ctx.client.clone(), &self.target);
        let name = source.name_any();
        let mut copy = source.clone();
        let mut annotations = source.annotations().clone();
        for left in LEFT_BEHIND {
            annotations.remove(left);
        }
        annotations.extend(grant::id_annotations(
            self.key,
            &K::kind(&()),
            &self.target,
            &name,
            &source.designate_id(),
        ));
        annotations.insert(grant::TRANSFER_ANNOTATION.to_string(), self.mark.clone());
        // Designate keeps `created_at` across a transfer.
        if let Some(created) = designate_crd::created_at(source.meta()) {
            annotations.insert(CREATED_AT_ANNOTATION.to_string(), created.to_string());
        }
        *copy.meta_mut() = ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(self.target.clone()),
            labels: source.meta().labels.clone(),
            annotations: Some(annotations),
            owner_references: owners,
            ..ObjectMeta::default()
        };
        self.ctx.metrics.wrote(CONTROLLER);
        let made = match api.create(&PostParams::default(), &copy).await {
            Ok(made) => made,
            Err(kube::Error::Api(e)) if e.code == 409 => {
                // Made before a crash: it must be this object's copy. (A
                // list, not a get: the roles' permissions stay as few.)
                let held = api
                    .list(&ListParams::default())
                    .await?
                    .items
                    .into_iter()
                    .find(|held| held.name_any() == name)
                    .map(|mut held| {
                        grant::drop_unsigned_id(Some(self.key), &mut held);
                        held
                    })
                    .filter(|held| held.designate_id() == source.designate_id());
                held.ok_or_else(|| Error::TransferBlocked {
                    name: name.clone(),
                    namespace: self.target.clone(),
                })?
            }
            Err(other) => return Err(other.into()),
        };
        if let Some(status) = status {
            // The copy is what the source was: as published and as served.
            let mut status = serde_json::to_value(status)?;
            if let Some(object) = status.as_object_mut() {
                if object.contains_key("observedGeneration") {
                    object.insert("observedGeneration".into(), json!(made.meta().generation));
                }
                // Designate's accept updates the zone (its `updated_at`).
                if K::kind(&()) == "Zone" {
                    let now = k8s_openapi::jiff::Timestamp::now();
                    object.insert("updatedAt".into(), json!(Time(now)));
                }
            }
            self.ctx.metrics.wrote(CONTROLLER);
            api.patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": status})),
            )
            .await?;
        }
        Ok(made)
    }

    /// Sets (`Some`) or removes (`None`) annotations of `object`.
    async fn annotate<K: Carried>(
        &self,
        object: &K,
        changes: BTreeMap<String, Option<String>>,
    ) -> Result<K, Error> {
        let api = self.api_of(object);
        self.ctx.metrics.wrote(CONTROLLER);
        Ok(api
            .patch(
                &object.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&json!({"metadata": {"annotations": changes}})),
            )
            .await?)
    }
}

/// `share` as it goes with its zone: its sharer named (it was the zone's
/// project, which changes), and the zone's id for its notifications.
fn carried_share(share: &ZoneShare, sharer: &str, zone_id: &str) -> ZoneShare {
    let mut carried = share.clone();
    carried
        .spec
        .project_id
        .get_or_insert_with(|| sharer.to_string());
    carried
        .annotations_mut()
        .insert(SHARE_ZONE_ID_ANNOTATION.to_string(), zone_id.to_string());
    carried
}

fn ignore_gone(result: Result<(), kube::Error>) -> Result<(), Error> {
    match result {
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::{ZoneTransferAcceptSpec, ZoneTransferRequestSpec};

    fn request(
        key: &str,
        target: Option<&str>,
        status: ZoneTransferRequestStatus,
    ) -> ZoneTransferRequest {
        let mut request = ZoneTransferRequest::new(
            "r",
            ZoneTransferRequestSpec {
                zone_id: "z".into(),
                zone_name: "a.org.".into(),
                key: key.into(),
                target_project_id: target.map(Into::into),
                ..Default::default()
            },
        );
        request.status = Some(status);
        request
    }

    fn accept(key: &str) -> ZoneTransferAccept {
        let mut accept = ZoneTransferAccept::new(
            "a",
            ZoneTransferAcceptSpec {
                zone_transfer_request_id: "r".into(),
                key: key.into(),
                project_id: None,
            },
        );
        accept.metadata.uid = Some("accept-1".into());
        accept
    }

    #[test]
    fn only_the_key_and_the_target_open_a_request_once() {
        let active = ZoneTransferRequestStatus::default();
        assert_eq!(
            refusal(&request("K", None, active.clone()), &accept("K"), "p2"),
            None
        );
        assert_eq!(
            refusal(&request("K", None, active.clone()), &accept("X"), "p2"),
            Some(BAD_KEY)
        );
        assert_eq!(
            refusal(
                &request("K", Some("p3"), active.clone()),
                &accept("K"),
                "p2"
            ),
            Some(NOT_TARGET)
        );
        assert_eq!(
            refusal(&request("K", Some("p2"), active), &accept("K"), "p2"),
            None
        );
        let claimed = |by: &str, state| ZoneTransferRequestStatus {
            status: Some(state),
            accepted_by: Some(by.into()),
            updated_at: None,
        };
        // Claimed by another accept, or used: refused; claimed by this one
        // (a crash mid-move): resumed, even once COMPLETE.
        let other = claimed("accept-2", TransferState::Active);
        assert_eq!(
            refusal(&request("K", None, other), &accept("K"), "p2"),
            Some(USED)
        );
        let ours = claimed("accept-1", TransferState::Complete);
        assert_eq!(refusal(&request("K", None, ours), &accept("K"), "p2"), None);
        let used = ZoneTransferRequestStatus {
            status: Some(TransferState::Complete),
            ..Default::default()
        };
        assert_eq!(
            refusal(&request("K", None, used), &accept("K"), "p2"),
            Some(USED)
        );
    }
}
