//! `/v2/zones/{zone_id}/recordsets` and `/v2/recordsets`.

use designate_crd::grant::DesignateId;
use std::borrow::Cow;
use std::ops::Bound;
use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_central::{RecordsetInput, Rrset, ZoneSets, rules};
use designate_crd::{RECORDSET_PROJECT_ANNOTATION, Recordset, RecordsetSpec, Zone, names};
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use kube::ResourceExt;
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::cache::{MANAGED_TYPES, OrderKey, created_micros, order_key, zone_key};
use crate::error::ApiError;
use crate::list::{self, Query};
use crate::render::{RecordsetView, ZoneView};
use crate::zones::{ZoneViews, accepted_or_ok, check_uuid, created, list_answer, query_pairs};
use crate::{Api, Shared, base_url, body};
use designate_identity::policy::{Target, Value as PolicyValue};

const CREATE_KEYS: &[&str] = &["name", "type", "records", "ttl", "description"];
const UPDATE_KEYS: &[&str] = &["records", "ttl", "description"];

impl Api {
    /// A zone's recordsets: the managed SOA and NS, then its resources.
    pub(crate) fn recordsets_of(&self, zone: &ZoneView) -> Vec<RecordsetView> {
        let mut views = zone.managed(&self.settings.central);
        views.extend(
            self.cache
                .recordsets_in(&zone.zone)
                .into_iter()
                .map(|rs| self.recordset_view(rs, &zone.zone, &zone.project)),
        );
        views
    }

    /// A recordset as shown: its project is the zone's, or that of a
    /// project the zone is shared with that made it (Designate's
    /// recordset `tenant_id`), while the share lasts.
    pub(crate) fn recordset_view(
        &self,
        rs: Arc<Recordset>,
        zone: &Arc<Zone>,
        zone_project: &Arc<str>,
    ) -> RecordsetView {
        let project = match rs.annotations().get(RECORDSET_PROJECT_ANNOTATION) {
            Some(project) if self.cache.shared_with(zone, project) => Arc::from(project.as_str()),
            _ => zone_project.clone(),
        };
        RecordsetView::new(rs, zone.clone(), project)
    }

    /// A recordset of a zone by id: looked up by id, not found among the
    /// zone's (each unpacked, where the mirror keeps them packed).
    fn find_recordset(&self, zone: &ZoneView, id: &str) -> Result<RecordsetView, ApiError> {
        check_uuid("recordset_id", id)?;
        let listed_in_zone = |rs: &Recordset| {
            rs.metadata.deletion_timestamp.is_none()
                && rs.metadata.namespace == zone.zone.metadata.namespace
                && rs.spec.zone_ref == zone.zone.name_any()
        };
        if let Some(rs) = self
            .cache
            .recordsets
            .get(id)
            .filter(|rs| listed_in_zone(rs))
        {
            return Ok(self.recordset_view(rs, &zone.zone, &zone.project));
        }
        zone.managed(&self.settings.central)
            .into_iter()
            .find(|rs| rs.id() == id)
            .ok_or_else(ApiError::recordset_not_found)
    }

    fn zone_for(&self, caller: &Caller, zone_id: &str) -> Result<ZoneView, ApiError> {
        Ok(self.zone_view(self.find_zone(caller, zone_id)?))
    }

    /// Central's target for a change to a recordset of `zone`.
    fn recordset_target(&self, caller: &Caller, zone: &ZoneView, rs: &RecordsetView) -> Target {
        let mut target = self.zone_target(caller, zone);
        target.insert(
            "recordset_project_id",
            PolicyValue::Str(rs.project.to_string()),
        );
        target
    }
}

/// A recordset view as Central's published form.
fn rrset(view: &RecordsetView) -> Rrset {
    let rs = view.resource();
    Rrset {
        id: view.id().to_string(),
        name: view.name().to_string(),
        type_: view.type_().to_string(),
        ttl: rs.and_then(|rs| rs.spec.ttl).map(i64::from),
        records: view.records().to_vec(),
        description: rs.and_then(|rs| rs.spec.description.clone()),
        managed: view.is_managed(),
    }
}

/// Names of the zones below `zone` (records there belong to them).
fn child_zones(api: &Api, zone: &Zone) -> Vec<String> {
    api.cache
        .zones_at_or_below(&zone.spec.name)
        .iter()
        .filter(|z| !z.spec.name.eq_ignore_ascii_case(&zone.spec.name))
        .map(|z| z.spec.name.clone())
        .collect()
}

/// The zone's recordsets as Central's zone-wide rules see them.
fn zone_sets(api: &Api, zone: &ZoneView) -> ZoneSets {
    api.recordsets_of(zone).iter().map(rrset).collect()
}

/// Central's rules for `input` among the zone's `accepted` sets (the set
/// itself, when updated, among them).
fn validate(
    api: &Api,
    caller: &Caller,
    zone: &ZoneView,
    input: &RecordsetInput,
    existing: Option<&RecordsetView>,
    accepted: &ZoneSets,
) -> Result<Rrset, ApiError> {
    Ok(rules::validate_recordset(
        &zone.zone.to_input(),
        input,
        // The quotas of the zone's project.
        &crate::quotas::for_project(api, Cow::Borrowed(&api.settings.central), &zone.project),
        caller.privileges(),
        accepted,
        &child_zones(api, &zone.zone),
        existing.map(rrset).as_ref(),
    )?)
}

fn render_page(
    page: list::Page<RecordsetView>,
    headers: &HeaderMap,
    uri: &OriginalUri,
) -> Response {
    let base = base_url(headers);
    let next = page
        .full
        .then(|| page.items.last().map(|rs| rs.id().to_string()))
        .flatten();
    let items = page.items.iter().map(|rs| rs.render(&base)).collect();
    let total = (!hide_counts(headers)).then_some(page.total);
    list_answer("recordsets", items, next.as_deref(), total, headers, uri)
}

/// `OpenStack-DNS-Hide-Counts`: no `total_count` in recordset lists.
fn hide_counts(headers: &HeaderMap) -> bool {
    headers
        .get("OpenStack-DNS-Hide-Counts")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

pub async fn list(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    Path(zone_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    // Designate: the paging parameters and filters (400), then Central's
    // get_zone (404) and find_recordsets.
    check_uuid("zone_id", &zone_id)?;
    let query = Query::parse(&query_pairs(raw.as_deref()), &list::RECORDSETS)?;
    let zone = api.zone_for(&caller, &zone_id)?;
    caller.require("get_zone", &api.zone_target(&caller, &zone))?;
    caller.require_own("find_recordsets")?;
    let page = if query.in_creation_order() {
        zone_in_creation_order(&api, &zone, &query)?
    } else {
        list::page(api.recordsets_of(&zone), &query)?
    };
    Ok(render_page(page, &headers, &uri))
}

/// A page of one zone's recordsets in creation order: the first `limit`
/// of its recordsets after the marker in the mirror's order of the zone,
/// merged with its managed ones (which share the zone's `created_at`).
/// Costs the page, not the zone.
fn zone_in_creation_order(
    api: &Api,
    zone: &ZoneView,
    query: &Query,
) -> Result<list::Page<RecordsetView>, ApiError> {
    let group = zone_key(zone.zone.namespace().as_deref(), &zone.zone.name_any());
    let created = created_micros(&zone.zone.metadata);
    let managed: Vec<(OrderKey, RecordsetView)> = zone
        .managed(&api.settings.central)
        .into_iter()
        .map(|rs| ((created, Arc::from(rs.id())), rs))
        .collect();
    let after = match &query.marker {
        None => None,
        Some(marker) => Some(
            managed
                .iter()
                .find(|(key, _)| *key.1 == **marker)
                .map(|(key, _)| key.clone())
                .or_else(|| {
                    let rs = api.cache.recordsets.get(marker)?;
                    let key = order_key(rs.as_ref());
                    api.cache
                        .recordsets
                        .group_holds(&group, &key)
                        .then_some(key)
                })
                .ok_or_else(ApiError::marker_not_found)?,
        ),
    };
    let past = |key: &OrderKey| match &after {
        None => true,
        Some(after) if query.descending => key < after,
        Some(after) => key > after,
    };
    let total = managed.len() + api.cache.recordset_count_in(&zone.zone);
    let start = after.as_ref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut taken = Vec::with_capacity(query.limit);
    // Views made after the walk: one mirror's lock at a time.
    api.cache
        .recordsets
        .walk_group(&group, start, query.descending, |key, rs| {
            taken.push((key.clone(), rs.clone()));
            list::until_full(&taken, query.limit)
        });
    let mut entries: Vec<(OrderKey, RecordsetView)> = managed
        .into_iter()
        .filter(|(key, _)| past(key))
        .chain(
            taken
                .into_iter()
                .map(|(key, rs)| (key, api.recordset_view(rs, &zone.zone, &zone.project))),
        )
        .collect();
    entries.sort_by(|(a, _), (b, _)| if query.descending { b.cmp(a) } else { a.cmp(b) });
    entries.truncate(query.limit);
    Ok(list::Page {
        full: entries.len() == query.limit,
        total,
        items: entries.into_iter().map(|(_, rs)| rs).collect(),
    })
}

/// A recordset of a cross-zone list page: a resource, or a zone's managed
/// SOA or NS (which share the zone's `created_at`).
enum Entry {
    Resource(Arc<Recordset>, Arc<Zone>),
    Managed(Arc<Zone>, &'static str, Arc<str>),
}

/// A page of the caller's recordsets of all zones in creation order: the
/// first `limit` recordsets after the marker in the recordsets' mirror
/// order, merged with the first `limit` managed ones in the order of the
/// zones' aliases. Costs the page, not every recordset.
fn all_in_creation_order(
    api: &Api,
    caller: &Caller,
    query: &Query,
) -> Result<list::Page<RecordsetView>, ApiError> {
    let after = match &query.marker {
        None => None,
        Some(marker) => {
            Some(marker_key(api, caller, marker).ok_or_else(ApiError::marker_not_found)?)
        }
    };
    let scope = api.scope(caller);
    let mut entries = candidates_after(api, scope.as_deref(), after.as_ref(), query);
    // Two sorted runs: the sort merges them.
    entries.sort_by(|(a, _), (b, _)| if query.descending { b.cmp(a) } else { a.cmp(b) });
    entries.truncate(query.limit);
    let mut viewer = ZoneViews::new(api);
    let items: Vec<RecordsetView> = entries
        .into_iter()
        .map(|(_, entry)| match entry {
            Entry::Resource(rs, zone) => {
                let project = viewer.project(&zone);
                api.recordset_view(rs, &zone, &project)
            }
            Entry::Managed(zone, type_, id) => {
                viewer
                    .view(zone)
                    .managed_recordset(&api.settings.central, type_, id.to_string())
            }
        })
        .collect();
    Ok(list::Page {
        full: items.len() == query.limit,
        total: api.cache.recordset_total(scope.as_deref()),
        items,
    })
}

/// Where a marker stands: a recordset of a zone the caller sees, or the
/// managed SOA or NS of one.
fn marker_key(api: &Api, caller: &Caller, marker: &str) -> Option<OrderKey> {
    let resource = api
        .cache
        .recordsets
        .get(marker)
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .filter(|rs| {
            api.cache
                .zone_of(rs)
                .is_some_and(|zone| api.sees(caller, &zone))
        })
        .map(|rs| order_key(rs.as_ref()));
    resource.or_else(|| {
        api.cache
            .zones
            .by_alias(marker)
            .filter(|zone| api.sees(caller, zone))
            .map(|zone| (created_micros(&zone.metadata), Arc::from(marker)))
    })
}

/// The page's candidates: the first `limit` recordsets after `after`, and
/// the first `limit` managed ones (the zones' aliases), each run sorted.
fn candidates_after(
    api: &Api,
    scope: Option<&str>,
    after: Option<&OrderKey>,
    query: &Query,
) -> Vec<(OrderKey, Entry)> {
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    let mut resources = Vec::with_capacity(2 * query.limit);
    let mut from = start.cloned();
    loop {
        // Taken first, their zones looked up after: one mirror's lock at a
        // time (see `Mirror::walk`).
        let wanted = query.limit - resources.len();
        let mut taken = Vec::with_capacity(wanted);
        api.cache
            .recordsets
            .walk(scope, from.as_ref(), query.descending, |key, rs| {
                taken.push((key.clone(), rs.clone()));
                list::until_full(&taken, wanted)
            });
        let exhausted = taken.len() < wanted;
        if let Some((last, _)) = taken.last() {
            from = Bound::Excluded(last.clone());
        }
        for (key, rs) in taken {
            // A recordset without its zone is in no list.
            if let Some(zone) = api.cache.zone_of(&rs) {
                resources.push((key, Entry::Resource(rs, zone)));
            }
        }
        if exhausted || resources.len() == query.limit {
            break;
        }
    }
    let mut managed = Vec::with_capacity(query.limit);
    api.cache
        .zones
        .walk_aliases(scope, start, query.descending, |key, zone, at| {
            let entry = Entry::Managed(zone.clone(), MANAGED_TYPES[at], key.1.clone());
            managed.push((key.clone(), entry));
            list::until_full(&managed, query.limit)
        });
    resources.extend(managed);
    resources
}

pub async fn list_all(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require_own("find_recordsets")?;
    let query = Query::parse(&query_pairs(raw.as_deref()), &list::CROSS_ZONE_RECORDSETS)?;
    let page = if query.in_creation_order() && api.shares_no_zone_with(&caller) {
        all_in_creation_order(&api, &caller, &query)?
    } else {
        let mut viewer = ZoneViews::new(&api);
        let views = api
            .visible_zones(&caller)
            .into_iter()
            .flat_map(|zone| {
                let zone = viewer.view(zone);
                // In a zone shared with it, a project lists its own sets.
                let shared = api.shared_with_caller(&caller, &zone);
                let project = caller.project.as_str();
                api.recordsets_of(&zone)
                    .into_iter()
                    .filter(move |rs| !shared || *rs.project == *project)
            })
            .collect();
        list::page(views, &query)?
    };
    Ok(render_page(page, &headers, &uri))
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path((zone_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let zone = api.zone_for(&caller, &zone_id)?;
    let rs = api.find_recordset(&zone, &id)?;
    caller.require("get_recordset", &api.zone_target(&caller, &zone))?;
    Ok(axum::Json(rs.render(&base_url(&headers))).into_response())
}

/// `GET /v2/recordsets/{id}`: Designate redirects to the recordset's place
/// under its zone.
pub async fn locate(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_own("find_recordset")?;
    check_uuid("recordset_id", &id)?;
    let zone = match api.cache.recordsets.get(&id) {
        Some(rs) => api.cache.zone_of(&rs),
        // A managed SOA or NS.
        None => api.cache.zones.by_alias(&id),
    }
    .ok_or_else(ApiError::recordset_not_found)?;
    // Designate finds the recordset across projects, then refuses its zone.
    if !api.sees(&caller, &zone) {
        return Err(ApiError::zone_not_found());
    }
    let zone_id = zone.designate_id();
    let location = format!("{}/v2/zones/{zone_id}/recordsets/{id}", base_url(&headers));
    Ok((
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location)],
    )
        .into_response())
}

fn input(body: &Map<String, Value>) -> Result<RecordsetInput, ApiError> {
    Ok(RecordsetInput {
        id: String::new(),
        name: body::string(body, "name")?.unwrap_or_default(),
        type_: body::string(body, "type")?.unwrap_or_default(),
        ttl: body::integer(body, "ttl")?,
        records: body::records(body)?.unwrap_or_default(),
        description: body::string(body, "description")?,
    })
}

fn refuse_deleting(zone: &ZoneView) -> Result<(), ApiError> {
    if zone.action() == "DELETE" {
        return Err(ApiError::bad_request("Can not update a deleting zone"));
    }
    Ok(())
}

pub async fn create(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(zone_id): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    // Designate: the body (400), then the zone (404), then the policy (403).
    let body = body::object(&headers, &payload)?;
    body::only(&body, CREATE_KEYS, "recordset")?;
    let input = input(&body)?;
    let zone = api.zone_for(&caller, &zone_id)?;
    let view = create_recordset(&api, &caller, &zone, &input).await?;
    // Designate: 201 for a set without records (ACTIVE at once), else 202.
    let status = if input.records.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    let body = view.render(&base_url(&headers));
    Ok(created(status, &body.links, &body))
}

/// Central's `create_recordset`: the policy, the rules, then the
/// Recordset object in the zone's namespace.
pub(crate) async fn create_recordset(
    api: &Api,
    caller: &Caller,
    zone: &ZoneView,
    input: &RecordsetInput,
) -> Result<RecordsetView, ApiError> {
    let mut created = create_recordsets(api, caller, zone, std::slice::from_ref(input)).await?;
    Ok(created.remove(0))
}

/// How many of a batch's objects are written at once: the API server
/// commits the writes that arrive together in one transaction, so more in
/// flight wait less (an import of 10,000: 64 took ~1.0 s, 256 ~0.75 s,
/// 1,024 no less).
const CREATES_IN_FLIGHT: usize = 256;

/// [`create_recordset`] for many sets of one zone (an import): each is
/// checked against the zone and the sets before it, all before the first
/// is written, so a refused one leaves the zone as it was.
pub(crate) async fn create_recordsets(
    api: &Api,
    caller: &Caller,
    zone: &ZoneView,
    inputs: &[RecordsetInput],
) -> Result<Vec<RecordsetView>, ApiError> {
    let shared = api.shared_with_caller(caller, zone);
    caller.require("create_recordset", &api.zone_target(caller, zone))?;
    refuse_deleting(zone)?;
    let mut accepted = zone_sets(api, zone);
    let mut objects = Vec::with_capacity(inputs.len());
    for input in inputs {
        accepted.push(validate(api, caller, zone, input, None, &accepted)?);
        objects.push(recordset_object(caller, zone, input, shared));
    }
    // In order, a few at a time (a stream of borrowing closures would not
    // be `Send` here).
    let mut made = Vec::with_capacity(objects.len());
    let mut writing = FuturesOrdered::new();
    for object in &objects {
        if writing.len() == CREATES_IN_FLIGHT
            && let Some(next) = writing.next().await
        {
            made.push(next?);
        }
        writing.push_back(create_object(api, object));
    }
    while let Some(next) = writing.next().await {
        made.push(next?);
    }
    Ok(made
        .into_iter()
        .map(|made| api.recordset_view(Arc::new(made), &zone.zone, &zone.project))
        .collect())
}

async fn create_object(api: &Api, object: &Recordset) -> Result<Recordset, ApiError> {
    api.cache
        .recordsets
        .create_unique(&api.client, object, || {
            ApiError::new(409, "duplicate_recordset", "Duplicate RecordSet")
        })
        .await
}

/// The Recordset object `input` makes in the zone's namespace.
fn recordset_object(
    caller: &Caller,
    zone: &ZoneView,
    input: &RecordsetInput,
    shared: bool,
) -> Recordset {
    let mut recordset = Recordset::new(
        &names::recordset(&input.name, zone.name(), &input.type_),
        RecordsetSpec {
            zone_ref: zone.zone.name_any(),
            name: input.name.clone(),
            type_: input.type_.clone(),
            ttl: input.ttl.and_then(|t| i32::try_from(t).ok()),
            records: input.records.clone(),
            description: input.description.clone(),
        },
    );
    recordset.metadata.namespace = zone.zone.namespace();
    if shared {
        // Made by the project the zone is shared with: it owns the set.
        recordset.metadata.annotations = Some(
            [(
                RECORDSET_PROJECT_ANNOTATION.to_string(),
                caller.project.clone(),
            )]
            .into(),
        );
    }
    recordset
}

pub async fn update(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path((zone_id, id)): Path<(String, String)>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    // Designate's order: the JSON (400), the recordset (404, get_recordset),
    // the managed-record rules (400), the object (400), then Central's
    // update_recordset (403, then its rules).
    let body = body::json(&headers, &payload)?;
    let zone = api.zone_for(&caller, &zone_id)?;
    let current = api.find_recordset(&zone, &id)?;
    caller.require("get_recordset", &api.zone_target(&caller, &zone))?;
    if current.is_managed() {
        // Ours are the SOA and the apex NS, made from the zone and its pool.
        let message = if !caller.edit_managed_records {
            "Managed records may not be updated"
        } else if current.type_() == "SOA" {
            "Updating SOA recordsets is not allowed"
        } else {
            "Updating a root zone NS record is not allowed"
        };
        return Err(ApiError::bad_request(message));
    }
    let body = body::into_object(body)?;
    let base = base_url(&headers);
    body::only_or_unchanged(
        &body,
        UPDATE_KEYS,
        || serde_json::to_value(current.render(&base)).unwrap_or_default(),
        "recordset",
    )?;
    caller.require(
        "update_recordset",
        &api.recordset_target(&caller, &zone, &current),
    )?;
    refuse_deleting(&zone)?;
    let mut changed = RecordsetInput {
        id: id.clone(),
        ..rrset_input(&current)
    };
    let mut patch = Map::new();
    if body.contains_key("records") {
        changed.records = body::records(&body)?.unwrap_or_default();
        patch.insert("records".into(), json!(changed.records));
    }
    if body.contains_key("ttl") {
        changed.ttl = body::integer(&body, "ttl")?;
        patch.insert("ttl".into(), json!(changed.ttl));
    }
    if body.contains_key("description") {
        changed.description = body::string(&body, "description")?;
        patch.insert("description".into(), json!(changed.description));
    }
    validate(
        &api,
        &caller,
        &zone,
        &changed,
        Some(&current),
        &zone_sets(&api, &zone),
    )?;
    let Some(rs) = current.resource() else {
        return Err(ApiError::bad_request("Managed records may not be updated"));
    };
    let patched = api
        .cache
        .recordsets
        .patch_spec(&api.client, rs, Value::Object(patch))
        .await?;
    let view = api.recordset_view(Arc::new(patched), &zone.zone, &zone.project);
    Ok(accepted_or_ok(
        view.is_pending(),
        view.render(&base_url(&headers)),
    ))
}

fn rrset_input(view: &RecordsetView) -> RecordsetInput {
    let rs = rrset(view);
    RecordsetInput {
        id: rs.id,
        name: rs.name,
        type_: rs.type_,
        ttl: rs.ttl,
        records: rs.records,
        description: rs.description,
    }
}

pub async fn delete(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path((zone_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let zone = api.zone_for(&caller, &zone_id)?;
    let current = api.find_recordset(&zone, &id)?;
    caller.require(
        "delete_recordset",
        &api.recordset_target(&caller, &zone, &current),
    )?;
    refuse_deleting(&zone)?;
    let Some(rs) = current.resource() else {
        let message = if current.type_() == "SOA" {
            "Deleting a SOA recordset is not allowed"
        } else {
            "Managed records may not be deleted"
        };
        return Err(ApiError::bad_request(message));
    };
    let shown = api.cache.recordsets.delete(&api.client, rs).await?;
    let view = api.recordset_view(Arc::new(shown), &zone.zone, &zone.project);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(view.render(&base_url(&headers))),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_readable_and_one_per_set() {
        let www = names::recordset("www.example.org.", "example.org.", "A");
        assert!(
            www.starts_with("www-a-") && www.len() == "www-a-".len() + 8,
            "{www}"
        );
        assert!(names::recordset("example.org.", "example.org.", "MX").starts_with("apex-mx-"));
        assert!(
            names::recordset("_sip._tcp.example.org.", "example.org.", "SRV")
                .starts_with("sip-srv-")
        );
        assert_eq!(
            www,
            names::recordset("WWW.example.org.", "example.org.", "A")
        );
        assert_ne!(
            www,
            names::recordset("www.example.org.", "example.org.", "AAAA")
        );
        assert_ne!(
            www,
            names::recordset("www.example.org.", "example.net.", "A")
        );
    }
}
