//! `/v2/zones` and `/v2/pools`.

use std::ops::{Bound, ControlFlow};
use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_central::{ZoneInput, ZoneKind, ZoneOwner, rules};
use designate_crd::grant::{self, DesignateId};
use designate_crd::{
    HARD_DELETE_ANNOTATION, IMPORTING_ANNOTATION, Pool, XFR_ANNOTATION, Zone, ZoneSpec, ZoneType,
    names,
};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value, json};

use crate::auth::{self, Caller};
use crate::cache::{HashMap, order_key};
use crate::error::ApiError;
use crate::list::{self, Query};
use crate::render::{self, Links, ZoneView};
use crate::tenancy::NO_NAMESPACE;
use crate::{Api, Shared, base_url, body};
use designate_identity::policy::Target;

const CREATE_KEYS: &[&str] = &[
    "name",
    "email",
    "ttl",
    "description",
    "type",
    "masters",
    "attributes",
];
const UPDATE_KEYS: &[&str] = &["email", "ttl", "description", "masters", "attributes"];

impl Api {
    /// The project a namespace belongs to; a namespace no project owns
    /// (reached only across all projects) shows as its own name.
    pub(crate) fn project_of(&self, namespace: &str) -> Arc<str> {
        self.cache
            .namespaces
            .first_in_group(namespace)
            .and_then(|ns| self.tenancy.project_owning(&self.cache, &ns).map(Arc::from))
            .unwrap_or_else(|| Arc::from(namespace))
    }

    /// The project an object names for itself (a task's, a share's,
    /// a transfer's `projectId`), else its namespace's.
    pub(crate) fn project_named(&self, named: Option<&str>, namespace: Option<&str>) -> Arc<str> {
        match named {
            Some(project) => Arc::from(project),
            None => self.project_of(namespace.unwrap_or_default()),
        }
    }

    /// Central's target for the caller's checks on a zone.
    pub(crate) fn zone_target(&self, caller: &Caller, zone: &ZoneView) -> Target {
        let type_ = match zone.zone.spec.type_ {
            ZoneType::Primary => "PRIMARY",
            ZoneType::Secondary => "SECONDARY",
        };
        auth::zone_target(&zone.project, type_, self.shared_with_caller(caller, zone))
    }

    /// Central's `_check_zone_share_permission`: the caller acts in a zone
    /// of another project that shares it with the caller's.
    pub(crate) fn shared_with_caller(&self, caller: &Caller, zone: &ZoneView) -> bool {
        !caller.all_projects
            && caller.project != *zone.project
            && self.cache.shared_with(&zone.zone, &caller.project)
    }

    /// The name of the Pool a zone is (or will be) served by.
    fn pool_name<'z>(&'z self, zone: &'z Zone) -> &'z str {
        zone.status
            .as_ref()
            .and_then(|s| s.pool.as_deref())
            .or(zone.spec.pool_ref.as_deref())
            .unwrap_or(&self.settings.default_pool)
    }

    pub(crate) fn pool_of(&self, zone: &Zone) -> Option<Arc<Pool>> {
        self.cache.pools.first_in_group(self.pool_name(zone))
    }

    pub(crate) fn zone_view(&self, zone: Arc<Zone>) -> ZoneView {
        ZoneViews::new(self).view(zone)
    }

    /// Whether the caller may see (and, policy allowing, change) a zone:
    /// its project's, or shared with its project.
    pub(crate) fn sees(&self, caller: &Caller, zone: &Zone) -> bool {
        caller.all_projects
            || (caller.namespace.is_some() && zone.namespace() == caller.namespace)
            || self.cache.shared_with(zone, &caller.project)
    }

    /// Whether no other project shares a zone with the caller's.
    pub(crate) fn shares_no_zone_with(&self, caller: &Caller) -> bool {
        self.shared_zones(caller).is_empty()
    }

    /// The zones other projects share with the caller's (none across all
    /// projects: those lists hold every zone already).
    fn shared_zones(&self, caller: &Caller) -> Vec<Arc<Zone>> {
        if caller.all_projects {
            return Vec::new();
        }
        self.cache
            .zones_shared_with(&caller.project)
            .into_iter()
            .filter(|zone| caller.namespace.is_none() || zone.namespace() != caller.namespace)
            .collect()
    }

    /// The namespace whose zones the caller sees (`None`: all of them).
    pub(crate) fn scope(&self, caller: &Caller) -> Option<String> {
        (!caller.all_projects).then(|| {
            caller
                .namespace
                .clone()
                .unwrap_or_else(|| NO_NAMESPACE.to_string())
        })
    }

    /// The zones the caller sees: its project's in creation order, then
    /// those shared with it.
    pub(crate) fn visible_zones(&self, caller: &Caller) -> Vec<Arc<Zone>> {
        let mut zones = Vec::new();
        self.cache.zones.walk(
            self.scope(caller).as_deref(),
            Bound::Unbounded,
            false,
            |_, zone| {
                zones.push(zone.clone());
                ControlFlow::Continue(())
            },
        );
        zones.extend(self.shared_zones(caller));
        zones
    }

    /// A zone by the id in a path, as the caller may see it.
    pub(crate) fn find_zone(&self, caller: &Caller, id: &str) -> Result<Arc<Zone>, ApiError> {
        check_uuid("zone_id", id)?;
        self.cache
            .zones
            .get(id)
            .filter(|zone| self.sees(caller, zone))
            .ok_or_else(ApiError::zone_not_found)
    }

    /// The caller's namespace, made on its project's first accepted write.
    /// An admin's sudo project is taken on the admin's word, as Designate
    /// does (it checks a project against Keystone only for quotas).
    pub(crate) async fn ensure_namespace(&self, caller: &Caller) -> Result<String, ApiError> {
        if let Some(namespace) = &caller.namespace {
            return Ok(namespace.clone());
        }
        self.tenancy
            .ensure(&self.client, &self.cache, &caller.project)
            .await
    }
}

/// Views of many zones, each project and pool looked up once.
pub(crate) struct ZoneViews<'a> {
    api: &'a Api,
    projects: HashMap<String, Arc<str>>,
    pools: HashMap<String, Option<Arc<Pool>>>,
}

impl<'a> ZoneViews<'a> {
    pub(crate) fn new(api: &'a Api) -> Self {
        Self {
            api,
            projects: HashMap::default(),
            pools: HashMap::default(),
        }
    }

    /// The project a zone belongs to.
    pub(crate) fn project(&mut self, zone: &Zone) -> Arc<str> {
        let namespace = zone.metadata.namespace.as_deref().unwrap_or_default();
        match self.projects.get(namespace) {
            Some(project) => project.clone(),
            None => {
                let project = self.api.project_of(namespace);
                self.projects.insert(namespace.to_string(), project.clone());
                project
            }
        }
    }

    pub(crate) fn view(&mut self, zone: Arc<Zone>) -> ZoneView {
        let api = self.api;
        let project = self.project(&zone);
        let pool_name = api.pool_name(&zone);
        let pool = match self.pools.get(pool_name) {
            Some(pool) => pool.clone(),
            None => {
                let pool = api.pool_of(&zone);
                self.pools.insert(pool_name.to_string(), pool.clone());
                pool
            }
        };
        let shared = api.cache.is_shared(&zone);
        ZoneView::new(zone, project, pool, shared)
    }
}

/// Designate's check of ids in paths.
pub(crate) fn check_uuid(field: &str, id: &str) -> Result<(), ApiError> {
    uuid::Uuid::parse_str(id)
        .map(drop)
        .map_err(|_| ApiError::new(400, "invalid_uuid", format!("Invalid UUID {field}: {id}")))
}

/// The query string as pairs, percent-decoded.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// One page of `views` (filtered, sorted and paged by `query`) answered
/// as the `collection` list, each rendered by `render`: the admin
/// resources' lists, which carry no total count.
pub(crate) fn page_answer<V: list::Listed>(
    collection: &'static str,
    views: Vec<V>,
    query: &list::Query,
    headers: &HeaderMap,
    uri: &OriginalUri,
    render: impl Fn(&V) -> serde_json::Value,
) -> Result<Response, ApiError> {
    counted_page_answer(collection, views, query, None, headers, uri, render)
}

/// [`page_answer`] with a `total_count`.
pub(crate) fn counted_page_answer<V: list::Listed>(
    collection: &'static str,
    views: Vec<V>,
    query: &list::Query,
    total: Option<usize>,
    headers: &HeaderMap,
    uri: &OriginalUri,
    render: impl Fn(&V) -> serde_json::Value,
) -> Result<Response, ApiError> {
    let page = list::page(views, query)?;
    let next = page
        .full
        .then(|| page.items.last().map(|v| v.id().to_string()))
        .flatten();
    let items: Vec<serde_json::Value> = page.items.iter().map(render).collect();
    Ok(list_answer(
        collection,
        items,
        next.as_deref(),
        total,
        headers,
        uri,
    ))
}

/// A list answer: the page rendered, links and total.
pub(crate) fn list_answer<T: Serialize>(
    collection: &'static str,
    items: Vec<T>,
    next_marker: Option<&str>,
    total: Option<usize>,
    headers: &HeaderMap,
    uri: &OriginalUri,
) -> Response {
    let base = base_url(headers);
    axum::Json(ListBody {
        collection,
        items,
        links: list::links(&base, uri.path(), &query_pairs(uri.query()), next_marker),
        total,
    })
    .into_response()
}

/// `{<collection>: [...], "links": {...}, "metadata": {"total_count": n}}`
struct ListBody<T> {
    collection: &'static str,
    items: Vec<T>,
    links: Value,
    total: Option<usize>,
}

impl<T: Serialize> Serialize for ListBody<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_map(None)?;
        body.serialize_entry(self.collection, &self.items)?;
        body.serialize_entry("links", &self.links)?;
        if let Some(total) = self.total {
            body.serialize_entry("metadata", &json!({ "total_count": total }))?;
        }
        body.end()
    }
}

/// 201/202 with the object and its `Location`.
pub(crate) fn created(status: StatusCode, links: &Links, body: impl Serialize) -> Response {
    let location = links.self_.clone();
    (status, [(header::LOCATION, location)], axum::Json(body)).into_response()
}

pub(crate) fn accepted_or_ok(pending: bool, body: impl Serialize) -> Response {
    let status = if pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    (status, axum::Json(body)).into_response()
}

/// The zones whose names clash with `name` (equal, ancestor, descendant),
/// for Central's ownership checks.
fn related(api: &Api, name: &str, except: Option<&str>) -> Vec<ZoneOwner> {
    let mut zones = api.cache.zones_at_or_below(name);
    zones.extend(api.cache.zones_above(name));
    zones
        .into_iter()
        .filter(|z| Some(grant::id_of(&z.metadata)) != except)
        .map(|z| ZoneOwner {
            id: z.designate_id(),
            name: z.spec.name.clone(),
            project: z.namespace().unwrap_or_default(),
        })
        .collect()
}

/// A page of the caller's zones in creation order, walked in the mirror's
/// order from the marker, and their total.
fn zones_in_creation_order(
    api: &Api,
    caller: &Caller,
    query: &Query,
) -> Result<list::Page<Arc<Zone>>, ApiError> {
    let after = match &query.marker {
        None => None,
        Some(marker) => Some(
            api.cache
                .zones
                .get(marker)
                .filter(|zone| api.sees(caller, zone))
                .map(|zone| order_key(zone.as_ref()))
                .ok_or_else(ApiError::marker_not_found)?,
        ),
    };
    let scope = api.scope(caller);
    let mut items = Vec::with_capacity(query.limit);
    api.cache.zones.walk(
        scope.as_deref(),
        after.as_ref().map_or(Bound::Unbounded, Bound::Excluded),
        query.descending,
        |_, zone| {
            items.push(zone.clone());
            list::until_full(&items, query.limit)
        },
    );
    Ok(list::Page {
        full: items.len() == query.limit,
        total: api.cache.zones.count(scope.as_deref()),
        items,
    })
}

pub async fn list(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require_own("find_zones")?;
    let query = Query::parse(&query_pairs(raw.as_deref()), &list::ZONES)?;
    let mut viewer = ZoneViews::new(&api);
    // Zones shared with the caller are few: merged by the full sort.
    let page = if query.in_creation_order() && api.shares_no_zone_with(&caller) {
        zones_in_creation_order(&api, &caller, &query)?.map(|zone| viewer.view(zone))
    } else {
        let views = api
            .visible_zones(&caller)
            .into_iter()
            .map(|zone| viewer.view(zone))
            .collect();
        list::page(views, &query)?
    };
    let base = base_url(&headers);
    let cfg = &api.settings.central;
    let next = page
        .full
        .then(|| page.items.last().map(ZoneView::id))
        .flatten();
    let items = page.items.iter().map(|z| z.render(&base, cfg)).collect();
    Ok(list_answer(
        "zones",
        items,
        next.as_deref(),
        Some(page.total),
        &headers,
        &uri,
    ))
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = api.zone_view(api.find_zone(&caller, &id)?);
    caller.require("get_zone", &api.zone_target(&caller, &view))?;
    let body = view.render(&base_url(&headers), &api.settings.central);
    Ok(axum::Json(body).into_response())
}

pub async fn nameservers(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = api.zone_view(api.find_zone(&caller, &id)?);
    caller.require("get_zone_ns_records", &api.zone_target(&caller, &view))?;
    let nameservers = view
        .pool
        .as_deref()
        .map(render::nameservers)
        .unwrap_or_else(|| json!([]));
    Ok(axum::Json(json!({ "nameservers": nameservers })).into_response())
}

/// The zone a create body asks for, as Central's input.
fn zone_input(body: &Map<String, Value>, namespace: String) -> Result<ZoneInput, ApiError> {
    let kind = match body::string(body, "type")?.as_deref() {
        None | Some("PRIMARY") => ZoneKind::Primary,
        Some("SECONDARY") => ZoneKind::Secondary,
        Some("CATALOG") => return Err(ApiError::forbidden()),
        Some(other) => {
            return Err(ApiError::invalid_object(format!(
                "Provided object is not valid. Got a ValueError error with message Field value {other} is invalid"
            )));
        }
    };
    Ok(ZoneInput {
        id: String::new(),
        project: namespace,
        name: body::string(body, "name")?.unwrap_or_default(),
        email: body::string(body, "email")?,
        ttl: body::integer(body, "ttl")?,
        description: body::string(body, "description")?,
        kind,
        masters: body::strings(body, "masters")?.unwrap_or_default(),
    })
}

/// Designate's `ZoneAttribute` fields: `key` and `value`, at most 50
/// characters each.
const ATTRIBUTE_MAX_LEN: usize = 50;

pub(crate) fn attributes(
    body: &Map<String, Value>,
) -> Result<Option<std::collections::BTreeMap<String, String>>, ApiError> {
    let invalid = |message: &str| {
        ApiError::invalid_object(format!(
            "Provided object is not valid. Got a ValueError error with message {message}"
        ))
    };
    match body.get("attributes") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => {
            let mut attributes = std::collections::BTreeMap::new();
            for (key, value) in map {
                let value = value
                    .as_str()
                    .ok_or_else(|| invalid("attributes must be strings"))?;
                // The object's coercion, field by field, as Designate's
                // StringFields(maxLength=50).
                for (field, text) in [("key", key.as_str()), ("value", value)] {
                    if text.chars().count() > ATTRIBUTE_MAX_LEN {
                        return Err(invalid(&format!("Value too long for {field}")));
                    }
                }
                attributes.insert(key.clone(), value.to_string());
            }
            Ok(Some(attributes))
        }
        Some(_) => Err(invalid("attributes must be an object")),
    }
}

/// The namespace a caller's project has, or the one it would get: before
/// its first write a project has none, and that name stands in for
/// Central's ownership and quota checks.
pub(crate) fn planned_namespace(caller: &Caller) -> String {
    caller
        .namespace
        .clone()
        .unwrap_or_else(|| designate_crd::names::project_namespace(&caller.project))
}

pub async fn create(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    // Designate: the body (400) before the policy (403).
    let body = body::object(&headers, &payload)?;
    body::only(&body, CREATE_KEYS, "zone")?;
    let input = zone_input(&body, planned_namespace(&caller))?;
    let attributes = attributes(&body)?.unwrap_or_default();
    let made = create_zone(&api, &caller, &input, attributes, None).await?;
    let view = api.zone_view(Arc::new(made));
    let body = view.render(&base_url(&headers), &api.settings.central);
    Ok(created(StatusCode::ACCEPTED, &body.links, &body))
}

/// Central's `create_zone`: the policy, the rules, then the Zone object in
/// the caller's namespace (made on its project's first write). A zone an
/// import fills is marked with the import's id, so that it is published
/// once, after its recordsets.
pub(crate) async fn create_zone(
    api: &Api,
    caller: &Caller,
    input: &ZoneInput,
    attributes: std::collections::BTreeMap<String, String>,
    importing: Option<&str>,
) -> Result<Zone, ApiError> {
    caller.require_own("create_zone")?;
    let project_zones = caller
        .namespace
        .as_deref()
        .map_or(0, |ns| api.cache.zones.count(Some(ns))) as u64;
    rules::validate_zone(
        input,
        None,
        // Central's TLD list is the Tld objects; the project's quotas.
        &crate::quotas::for_project(api, crate::rules::central_config(api), &caller.project),
        caller.privileges(),
        project_zones,
        &related(api, &input.name, None),
    )?;
    let namespace = api.ensure_namespace(caller).await?;
    let mut zone = Zone::new(
        &names::zone(&input.name),
        ZoneSpec {
            name: input.name.clone(),
            email: input.email.clone(),
            ttl: input.ttl.and_then(|t| i32::try_from(t).ok()),
            description: input.description.clone(),
            type_: match input.kind {
                ZoneKind::Primary => ZoneType::Primary,
                ZoneKind::Secondary => ZoneType::Secondary,
            },
            masters: input.masters.clone(),
            pool_ref: None,
            attributes,
        },
    );
    // What Central let this caller do beyond a member, signed for the
    // controllers, which plan the zone again without the caller.
    zone.metadata.annotations = crate::rules::grant(
        api,
        &namespace,
        &zone.name_any(),
        &input.name,
        caller.privileges(),
    );
    if let Some(task) = importing {
        zone.annotations_mut()
            .insert(IMPORTING_ANNOTATION.into(), task.into());
    }
    zone.metadata.namespace = Some(namespace);
    // Same object name: the same zone name in this project.
    api.cache
        .zones
        .create_unique(&api.client, &zone, || {
            ApiError::new(409, "duplicate_zone", "Duplicate Zone")
        })
        .await
}

pub async fn update(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let zone = api.find_zone(&caller, &id)?;
    caller.require(
        "update_zone",
        &api.zone_target(&caller, &api.zone_view(zone.clone())),
    )?;
    let body = body::object(&headers, &payload)?;
    let base = base_url(&headers);
    body::only_or_unchanged(
        &body,
        UPDATE_KEYS,
        || {
            let view = api.zone_view(zone.clone());
            serde_json::to_value(view.render(&base, &api.settings.central)).unwrap_or_default()
        },
        "zone",
    )?;
    if zone.meta().deletion_timestamp.is_some() {
        return Err(ApiError::bad_request("Can not update a deleting zone"));
    }
    let existing = zone.to_input();
    let mut changed = existing.clone();
    let mut patch = Map::new();
    if body.contains_key("email") {
        changed.email = body::string(&body, "email")?;
        patch.insert("email".into(), json!(changed.email));
    }
    if body.contains_key("ttl") {
        changed.ttl = body::integer(&body, "ttl")?;
        patch.insert("ttl".into(), json!(changed.ttl));
    }
    if body.contains_key("description") {
        changed.description = body::string(&body, "description")?;
        patch.insert("description".into(), json!(changed.description));
    }
    if body.contains_key("masters") {
        changed.masters = body::strings(&body, "masters")?.unwrap_or_default();
        patch.insert("masters".into(), json!(changed.masters));
    }
    if let Some(attributes) = attributes(&body)? {
        patch.insert("attributes".into(), json!(attributes));
    }
    rules::validate_zone(
        &changed,
        Some(&existing),
        &api.settings.central,
        caller.privileges(),
        0,
        &[],
    )?;
    let mut patch = json!({ "spec": patch });
    // The controllers check a changed TTL again, with the zone's grant.
    if changed.ttl != existing.ttl
        && let Some(grant) = crate::rules::grant_for_update(&api, &zone, caller.privileges())
    {
        patch["metadata"] = json!({ "annotations": grant });
    }
    let patched = api.cache.zones.patch(&api.client, &zone, patch).await?;
    let view = api.zone_view(Arc::new(patched));
    Ok(accepted_or_ok(
        view.is_pending(),
        view.render(&base_url(&headers), &api.settings.central),
    ))
}

/// Central's checks before a zone goes (deleted or abandoned): shares
/// (unless the caller deletes them too), then subzones; the shares to
/// remove with it.
fn refuse_delete(
    api: &Api,
    caller: &Caller,
    zone: &Zone,
) -> Result<Vec<Arc<designate_crd::ZoneShare>>, ApiError> {
    let shares = crate::shares::of_zone(api, zone);
    if !shares.is_empty() && !caller.delete_shares {
        return Err(ApiError::new(
            400,
            "zone_is_shared",
            "This zone is shared with other projects, please remove these shares before deletion or use the delete-shares modifier to override this warning.",
        ));
    }
    let name = &zone.spec.name;
    let has_children = api
        .cache
        .zones_at_or_below(name)
        .iter()
        .any(|z| !z.spec.name.eq_ignore_ascii_case(name));
    if has_children {
        return Err(ApiError::new(
            400,
            "zone_has_sub_zone",
            "Please delete any subzones before deleting this zone",
        ));
    }
    Ok(shares)
}

pub async fn delete(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let zone = api.find_zone(&caller, &id)?;
    caller.require(
        "delete_zone",
        &api.zone_target(&caller, &api.zone_view(zone.clone())),
    )?;
    for share in &refuse_delete(&api, &caller, &zone)? {
        crate::shares::remove(&api, share).await?;
    }
    // A hard delete (the caller's policy was checked with the header): the
    // nameservers drop the zone's files too.
    let zone = if caller.hard_delete && !zone.hard_delete() {
        let marked = json!({"metadata": {"annotations": {HARD_DELETE_ANNOTATION: "true"}}});
        Arc::new(api.cache.zones.patch(&api.client, &zone, marked).await?)
    } else {
        zone
    };
    // Gone at once (no finalizer) or going: either way Designate shows the
    // zone with action DELETE.
    let shown = api.cache.zones.delete(&api.client, &zone).await?;
    let view = api.zone_view(Arc::new(shown));
    let body = view.render(&base_url(&headers), &api.settings.central);
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

/// `POST /v2/zones/{zone_id}/tasks/abandon`: the zone is forgotten, and
/// left on its nameservers. The controllers honour only an abandon the
/// operator's key signed for this zone.
pub async fn abandon(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let zone = api.find_zone(&caller, &id)?;
    caller.require(
        "abandon_zone",
        &api.zone_target(&caller, &api.zone_view(zone.clone())),
    )?;
    let shares = refuse_delete(&api, &caller, &zone)?;
    let key = api
        .settings
        .grant_key
        .as_ref()
        .ok_or_else(|| ApiError::unknown("no grant key to sign an abandon with"))?;
    let (mark, signature) = designate_crd::grant::abandon_annotation(key, &zone);
    let marked = api
        .cache
        .zones
        .patch(
            &api.client,
            &zone,
            json!({ "metadata": { "annotations": { mark: signature } } }),
        )
        .await?;
    for share in &shares {
        crate::shares::remove(&api, share).await?;
    }
    api.cache.zones.delete(&api.client, &marked).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A task's 202: Designate answers an empty body, typed JSON.
fn accepted_empty() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        "",
    )
        .into_response()
}

/// `POST /v2/zones/{zone_id}/tasks/xfr`: a secondary zone's masters are
/// asked now (a new mark the controllers act on), not at the next refresh.
pub async fn xfr(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let zone = api.find_zone(&caller, &id)?;
    let view = api.zone_view(zone.clone());
    caller.require("xfr_zone", &crate::auth::project_target(&view.project))?;
    if zone.spec.type_ != ZoneType::Secondary {
        return Err(ApiError::bad_request("Can't XFR a non Secondary zone."));
    }
    let asked = k8s_openapi::jiff::Timestamp::now().to_string();
    api.cache
        .zones
        .patch(
            &api.client,
            &zone,
            json!({ "metadata": { "annotations": { XFR_ANNOTATION: asked } } }),
        )
        .await?;
    Ok(accepted_empty())
}

/// `POST /v2/zones/{zone_id}/tasks/pool_move` (admins): the zone to another
/// pool, `pool_id` or the one the scheduler picks (the default pool). The
/// controllers serve it from the new pool's nameservers before they take
/// it off the old pool's.
pub async fn pool_move(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let body = body::object(&headers, &payload)?;
    let zone = api.find_zone(&caller, &id)?;
    if zone.metadata.deletion_timestamp.is_some() {
        return Err(ApiError::bad_request("Can not move a deleting zone"));
    }
    let current = api.pool_of(&zone);
    let current_id = current
        .as_ref()
        .map(|p| grant::id_of(&p.metadata).to_owned());
    let asked = body::string(&body, "pool_id")?;
    body::only(&body, &["pool_id"], "zone")?;
    if asked.is_some() && asked == current_id {
        return Err(ApiError::bad_request(
            "Target pool must be different for zone pool move",
        ));
    }
    caller.require(
        "pool_move_zone",
        &crate::auth::project_target(&caller.project),
    )?;
    let target = match &asked {
        Some(pool_id) => api
            .cache
            .pools
            .get(pool_id)
            .ok_or_else(|| ApiError::bad_request("Target pool does not exist"))?,
        None => {
            // Designate's default scheduler: the default pool.
            let scheduled = api.cache.pools.first_in_group(&api.settings.default_pool);
            match scheduled {
                Some(pool) if Some(grant::id_of(&pool.metadata)) != current_id.as_deref() => pool,
                _ => return Err(ApiError::bad_request("No valid pool selected")),
            }
        }
    };
    if target.spec.ns_records.is_empty() {
        return Err(ApiError::new(
            500,
            "no_servers_configured",
            "No servers configured",
        ));
    }
    api.cache
        .zones
        .patch_spec(&api.client, &zone, json!({ "poolRef": target.name_any() }))
        .await?;
    Ok(accepted_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_object_names() {
        assert_eq!(names::zone("Example.ORG."), "example.org");
        assert!(names::zone("_tcp.example.org.").starts_with("zone-"));
    }

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            query_pairs(Some("name=page%2A-1.org.&limit=2")),
            vec![
                ("name".into(), "page*-1.org.".into()),
                ("limit".into(), "2".into())
            ]
        );
    }
}
