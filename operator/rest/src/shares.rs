//! `/v2/zones/{zone_id}/shares`: Designate's shared zones (API 2.1), kept
//! as `ZoneShare` objects in the zone's namespace (the id is the uid, or
//! the id a transfer carried with the zone).
//! The target project sees the zone (`shared: true`) and keeps recordsets
//! of its own in it ([`crate::recordsets`]); a zone with shares is deleted
//! only with `X-Designate-Delete-Shares`.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_crd::grant::{self, DesignateId};
use designate_crd::{
    RECORDSET_PROJECT_ANNOTATION, SHARE_PROJECT_MAX_LEN, SHARE_ZONE_ID_ANNOTATION, Zone, ZoneShare,
    ZoneShareSpec, share_owners,
};
use designate_identity::policy::Target;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::{Caller, project_target};
use crate::cache::zone_key;
use crate::error::ApiError;
use crate::fields::{coerce_string, value_error};
use crate::list::{self, Query};
use crate::render::{datetime, notice_payload};
use crate::zones::{check_uuid, created, page_answer, query_pairs};
use crate::{Api, Shared, base_url, body};

fn not_found() -> ApiError {
    ApiError::new(404, "shared_zone_not_found", "Could not find SharedZone")
}

/// The shares of a zone, whoever made them.
pub(crate) fn of_zone(api: &Api, zone: &Zone) -> Vec<Arc<ZoneShare>> {
    api.cache.zone_shares.group(&zone_key(
        zone.metadata.namespace.as_deref(),
        &zone.name_any(),
    ))
}

/// Removes a share and waits until the mirror no longer holds it.
pub(crate) async fn remove(api: &Api, share: &ZoneShare) -> Result<(), ApiError> {
    api.cache.zone_shares.delete(&api.client, share).await?;
    api.cache
        .zone_shares
        .wait_for_delete(grant::id_of(&share.metadata), None)
        .await;
    Ok(())
}

/// A share with what it renders from: its zone's id and the project that
/// made it.
struct ShareView {
    share: Arc<ZoneShare>,
    zone_id: String,
    project_id: Arc<str>,
}

impl ShareView {
    fn new(api: &Api, share: Arc<ZoneShare>, zone: &Zone) -> Self {
        let project_id = api.project_named(
            share.spec.project_id.as_deref(),
            share.metadata.namespace.as_deref(),
        );
        Self {
            zone_id: zone.designate_id(),
            share,
            project_id,
        }
    }

    /// Designate's `_find_shared_zones`: the projects on either side see a
    /// share, and callers across all projects.
    fn visible_to(&self, caller: &Caller) -> bool {
        caller.all_projects
            || *self.project_id == caller.project
            || self.share.spec.target_project_id == caller.project
    }

    fn render(&self, base: &str) -> ShareJson<'_> {
        let id = grant::id_of(&self.share.metadata);
        ShareJson {
            id,
            zone_id: &self.zone_id,
            project_id: &self.project_id,
            target_project_id: &self.share.spec.target_project_id,
            created_at: designate_crd::created_at(&self.share.metadata).map(|t| datetime(&Time(t))),
            // A share is never updated.
            updated_at: None,
            links: ShareLinks {
                self_: format!("{base}/v2/zones/{}/shares/{id}", self.zone_id),
                zone: format!("{base}/v2/zones/{}", self.zone_id),
            },
        }
    }
}

impl list::Listed for ShareView {
    fn id(&self) -> &str {
        grant::id_of(&self.share.metadata)
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        match key {
            "id" => list::Field::Text(Some(grant::id_of(&self.share.metadata))),
            "target_project_id" => list::Field::Text(Some(&self.share.spec.target_project_id)),
            "created_at" => list::Field::Int(
                designate_crd::created_at(&self.share.metadata).map(|t| t.as_microsecond()),
            ),
            _ => list::Field::Text(None),
        }
    }
}

/// A share as Designate renders it.
#[derive(Serialize)]
struct ShareJson<'a> {
    id: &'a str,
    zone_id: &'a str,
    project_id: &'a str,
    target_project_id: &'a str,
    created_at: Option<String>,
    updated_at: Option<String>,
    links: ShareLinks,
}

#[derive(Serialize)]
struct ShareLinks {
    #[serde(rename = "self")]
    self_: String,
    zone: String,
}

/// The share in its `dns.zone.share` and `dns.zone.unshare` notifications,
/// from the share alone (the notifier has no mirrors): the zone's id from
/// the owner reference the API sets, or the one a transfer wrote with its
/// copy. None for a transfer's copy not yet shown.
pub fn notice(share: &ZoneShare) -> Option<Value> {
    if grant::in_transfer(&share.metadata) {
        return None;
    }
    let zone_id = share
        .annotations()
        .get(SHARE_ZONE_ID_ANNOTATION)
        .cloned()
        .or_else(|| {
            share
                .owner_references()
                .iter()
                .find(|owner| owner.kind == "Zone")
                .map(|owner| owner.uid.clone())
        })
        .unwrap_or_default();
    let view = ShareView {
        share: Arc::new(share.clone()),
        zone_id,
        project_id: Arc::from(share.spec.project_id.as_deref().unwrap_or_default()),
    };
    Some(notice_payload(view.render("")))
}

impl Api {
    /// A share of a zone by the ids in a path, as the caller may see it.
    fn find_share(&self, caller: &Caller, zone_id: &str, id: &str) -> Result<ShareView, ApiError> {
        check_uuid("zone_id", zone_id)?;
        check_uuid("zone_share_id", id)?;
        let share = self.cache.zone_shares.get(id).ok_or_else(not_found)?;
        let zone = self
            .cache
            .zone_of_share(&share)
            .filter(|zone| zone.designate_id() == zone_id)
            .ok_or_else(not_found)?;
        let view = ShareView::new(self, share, &zone);
        if !view.visible_to(caller) {
            return Err(not_found());
        }
        Ok(view)
    }
}

/// `SharedZoneAPIv2Adapter.parse`: the target project, nothing else.
fn parse(body: &Map<String, Value>) -> Result<String, ApiError> {
    let refused: Vec<String> = body
        .keys()
        .filter(|key| *key != "target_project_id")
        .map(|key| format!("'{key}'"))
        .collect();
    if !refused.is_empty() {
        return Err(ApiError::invalid_object(format!(
            "Provided object does not match schema. Keys [{}] are not valid for shared_zone",
            refused.join(", ")
        )));
    }
    let target = body
        .get("target_project_id")
        .map(|value| coerce_string("target_project_id", value))
        .transpose()?
        .flatten()
        .ok_or_else(|| value_error("Field `target_project_id' cannot be None"))?;
    if target.chars().count() > SHARE_PROJECT_MAX_LEN {
        return Err(value_error("Value too long for target_project_id"));
    }
    Ok(target)
}

pub async fn list(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    Path(zone_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    check_uuid("zone_id", &zone_id)?;
    let query = Query::parse(&query_pairs(raw.as_deref()), &list::SHARES)?;
    caller.require("find_zone_shares", &Target::new())?;
    if !caller.all_projects {
        // Another project's shares are asked for by their target.
        let target = query.filter("target_project_id").unwrap_or(&caller.project);
        caller.require("find_project_zone_share", &project_target(target))?;
    }
    // Designate lists the shares it finds, of a zone it does not look up.
    let views: Vec<ShareView> = match api.cache.zones.get(&zone_id) {
        Some(zone) => of_zone(&api, &zone)
            .into_iter()
            .map(|share| ShareView::new(&api, share, &zone))
            .filter(|view| view.visible_to(&caller))
            .collect(),
        None => Vec::new(),
    };
    let base = base_url(&headers);
    page_answer("shared_zones", views, &query, &headers, &uri, |view| {
        json!(view.render(&base))
    })
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path((zone_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let view = api.find_share(&caller, &zone_id, &id)?;
    caller.require("get_zone_share", &project_target(&view.project_id))?;
    Ok(axum::Json(view.render(&base_url(&headers))).into_response())
}

pub async fn create(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(zone_id): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    check_uuid("zone_id", &zone_id)?;
    let body = body::object(&headers, &payload)?;
    // `keystone.verify_project_id` asks with the caller's token, which
    // tells only those who may read other projects; we ask with the
    // service user's, so only for callers across projects.
    if caller.allowed("all_tenants", &Target::new())
        && let Some(target) = body.get("target_project_id").and_then(Value::as_str)
        && let Err(refused) = api.verify_project(target).await
    {
        return Ok(refused);
    }
    let target = parse(&body)?;
    let zone = api.find_zone(&caller, &zone_id)?;
    let view = api.zone_view(zone.clone());
    caller.require("share_zone", &project_target(&view.project))?;
    if *view.project == target {
        return Err(ApiError::bad_request(
            "Cannot share the zone with the zone owner.",
        ));
    }
    let zone_ref = zone.name_any();
    let mut share = ZoneShare::new(
        &designate_crd::names::share(&zone_ref, &target),
        ZoneShareSpec {
            zone_ref,
            target_project_id: target,
            project_id: Some(caller.project.clone()),
        },
    );
    share.metadata.namespace = zone.namespace();
    // Notifications name the zone by its owner reference.
    share.metadata.owner_references = share_owners(&zone);
    let made = api
        .cache
        .zone_shares
        .create_unique(&api.client, &share, || {
            ApiError::new(409, "duplicate_shared_zone", "Duplicate SharedZone")
        })
        .await?;
    let view = ShareView::new(&api, Arc::new(made), &zone);
    let body = view.render(&base_url(&headers));
    let location = body.links.self_.clone();
    Ok(created(
        StatusCode::CREATED,
        &crate::render::Links { self_: location },
        &body,
    ))
}

pub async fn delete(
    State(api): Shared,
    caller: Caller,
    Path((zone_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let view = api.find_share(&caller, &zone_id, &id)?;
    caller.require("unshare_zone", &project_target(&view.project_id))?;
    let target = &view.share.spec.target_project_id;
    let zone = api.cache.zones.get(&view.zone_id).ok_or_else(not_found)?;
    let name = &zone.spec.name;
    let target_owns_subzone = api.cache.zones_at_or_below(name).iter().any(|sub| {
        !sub.spec.name.eq_ignore_ascii_case(name)
            && *api.project_of(&sub.namespace().unwrap_or_default()) == **target
    });
    if target_owns_subzone {
        return Err(ApiError::new(
            400,
            "shared_zone_has_sub_zone",
            format!(
                "Please delete all subzones owned by project {target} before unsharing this zone"
            ),
        ));
    }
    let target_owns_recordsets = api.cache.recordsets_in(&zone).iter().any(|rs| {
        rs.annotations()
            .get(RECORDSET_PROJECT_ANNOTATION)
            .is_some_and(|owner| owner == target)
    });
    if target_owns_recordsets {
        return Err(ApiError::new(
            400,
            "shared_zone_has_recordsets",
            format!(
                "Please delete all recordsets owned by project {target} before unsharing this zone."
            ),
        ));
    }
    remove(&api, &view.share).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn bodies_name_the_target_project_only() {
        assert_eq!(
            parse(&object(r#"{"target_project_id": "p2"}"#)).unwrap(),
            "p2"
        );
        let extra = parse(&object(r#"{"target_project_id": "p2", "x": 1}"#)).unwrap_err();
        assert_eq!(
            extra.message.as_deref(),
            Some("Provided object does not match schema. Keys ['x'] are not valid for shared_zone")
        );
        assert_eq!(parse(&object("{}")).unwrap_err().code, 400);
        let long = format!(r#"{{"target_project_id": "{}"}}"#, "p".repeat(37));
        assert_eq!(parse(&object(&long)).unwrap_err().code, 400);
    }
}
