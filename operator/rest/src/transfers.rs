//! Zone transfers between projects: `/v2/zones/{zone_id}/tasks/transfer_requests`,
//! `/v2/zones/tasks/transfer_requests[/{id}]` and
//! `/v2/zones/tasks/transfer_accepts[/{id}]`, kept as `ZoneTransferRequest`
//! objects in the zone's namespace and `ZoneTransferAccept` objects in the
//! accepting project's (the ids are their uids). The controllers move the
//! zone; an accept is answered once it has.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_crd::grant::DesignateId;
use designate_crd::{
    TRANSFER_PROJECT_MAX_LEN, TRANSFER_TEXT_MAX_LEN, TransferState, ZoneTransferAccept,
    ZoneTransferAcceptSpec, ZoneTransferRequest, ZoneTransferRequestSpec,
};
use designate_identity::policy::{Target, Value as PolicyValue};
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::{Caller, project_target};
use crate::error::ApiError;
use crate::fields::{UPDATED_AT, coerce_string, now, updated_at, value_error};
use crate::list::{self, Query};
use crate::render::{Links, datetime, notice_payload};
use crate::zones::{check_uuid, counted_page_answer, created, page_answer, query_pairs};
use crate::{Api, Shared, base_url, body};

/// How long an accept's answer waits for the controllers to move the zone.
const ACCEPT_WAIT: Duration = Duration::from_secs(10);

fn request_not_found() -> ApiError {
    ApiError::new(
        404,
        "zone_transfer_request_not_found",
        "Could not find ZoneTransferRequest",
    )
}

fn invalid_transfer(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "invalid_zone_transfer_request", message)
}

fn accept_not_found() -> ApiError {
    ApiError::new(
        404,
        "zone_transfer_accept_not_found",
        "Could not find ZoneTransferAccept",
    )
}

/// Designate's `_transfer_key_generator`: 8 of A-Z and 0-9, from the
/// system's random source (a v4 uuid's bytes).
fn new_key() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uuid::Uuid::new_v4().as_bytes()[..8]
        .iter()
        .map(|byte| char::from(CHARS[usize::from(*byte) % CHARS.len()]))
        .collect()
}

/// A request as the API shows it.
struct RequestView {
    request: Arc<ZoneTransferRequest>,
    project: Arc<str>,
}

impl RequestView {
    fn id(&self) -> &str {
        self.request.metadata.uid.as_deref().unwrap_or_default()
    }

    fn state(&self) -> TransferState {
        self.request
            .status
            .as_ref()
            .and_then(|s| s.status)
            .unwrap_or(TransferState::Active)
    }

    /// An accept has taken it (and is moving the zone).
    fn claimed(&self) -> bool {
        self.request
            .status
            .as_ref()
            .is_some_and(|s| s.accepted_by.is_some())
    }

    fn target(&self) -> Option<&str> {
        self.request.spec.target_project_id.as_deref()
    }

    /// Designate's storage filter: the projects on either side see a
    /// request, and callers across all projects.
    fn listed_for(&self, caller: &Caller) -> bool {
        caller.all_projects
            || *self.project == caller.project
            || self.target() == Some(&caller.project)
    }

    /// `get_zone_transfer_request`'s target.
    fn policy_target(&self) -> Target {
        let target = self
            .target()
            .map_or(PolicyValue::None, |t| PolicyValue::Str(t.to_string()));
        let mut policy = project_target(&self.project);
        policy.insert("target_project_id", target.clone());
        policy.insert("target_tenant_id", target);
        policy
    }

    fn updated_at(&self) -> Option<String> {
        let ended = self
            .request
            .status
            .as_ref()
            .and_then(|s| s.updated_at.as_ref())
            .map(datetime);
        ended.or_else(|| updated_at(self.request.as_ref()))
    }

    /// Designate's adapter: the key and the projects only for who may see
    /// the request in detail (its own project's readers, admins).
    fn render(&self, base: &str, detailed: bool) -> Value {
        let id = self.id();
        let mut body = json!({
            "id": id,
            "zone_id": self.request.spec.zone_id,
            "description": self.request.spec.description,
            "status": self.state().as_str(),
            "zone_name": self.request.spec.zone_name,
            "links": {"self": format!("{base}/v2/zones/tasks/transfer_requests/{id}")},
        });
        if detailed {
            body["project_id"] = json!(&*self.project);
            body["target_project_id"] = json!(self.target());
            body["key"] = json!(self.request.spec.key);
            body["created_at"] = json!(
                self.request
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(datetime)
            );
            body["updated_at"] = json!(self.updated_at());
        }
        body
    }
}

impl list::Listed for RequestView {
    fn id(&self) -> &str {
        RequestView::id(self)
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        field(key, self.id(), self.state(), &self.request.metadata)
    }
}

/// An accept as the API shows it.
struct AcceptView {
    accept: Arc<ZoneTransferAccept>,
    project: Arc<str>,
}

impl AcceptView {
    fn id(&self) -> &str {
        self.accept.metadata.uid.as_deref().unwrap_or_default()
    }

    fn state(&self) -> TransferState {
        self.accept
            .status
            .as_ref()
            .and_then(|s| s.status)
            .unwrap_or(TransferState::Pending)
    }

    fn zone_id(&self) -> Option<&str> {
        self.accept
            .status
            .as_ref()
            .and_then(|s| s.zone_id.as_deref())
    }

    fn render(&self, base: &str) -> AcceptJson<'_> {
        let id = self.id();
        let status = self.accept.status.as_ref();
        AcceptJson {
            id,
            zone_transfer_request_id: &self.accept.spec.zone_transfer_request_id,
            project_id: &self.project,
            key: &self.accept.spec.key,
            status: self.state().as_str(),
            zone_id: self.zone_id(),
            created_at: self
                .accept
                .metadata
                .creation_timestamp
                .as_ref()
                .map(datetime),
            updated_at: status.and_then(|s| s.updated_at.as_ref()).map(datetime),
            links: AcceptLinks {
                self_: format!("{base}/v2/zones/tasks/transfer_accepts/{id}"),
                zone: format!("{base}/v2/zones/{}", self.zone_id().unwrap_or("None")),
            },
        }
    }
}

impl list::Listed for AcceptView {
    fn id(&self) -> &str {
        AcceptView::id(self)
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        field(key, self.id(), self.state(), &self.accept.metadata)
    }
}

/// What lists of requests and accepts filter and sort by.
fn field<'a>(
    key: &str,
    id: &'a str,
    state: TransferState,
    meta: &kube::api::ObjectMeta,
) -> list::Field<'a> {
    match key {
        "id" => list::Field::Text(Some(id)),
        "status" => list::Field::Text(Some(state.as_str())),
        "created_at" => list::Field::Int(
            meta.creation_timestamp
                .as_ref()
                .map(|t| t.0.as_microsecond()),
        ),
        _ => list::Field::Text(None),
    }
}

#[derive(Serialize)]
struct AcceptJson<'a> {
    id: &'a str,
    zone_transfer_request_id: &'a str,
    project_id: &'a str,
    key: &'a str,
    status: &'static str,
    zone_id: Option<&'a str>,
    created_at: Option<String>,
    updated_at: Option<String>,
    links: AcceptLinks,
}

#[derive(Serialize)]
struct AcceptLinks {
    #[serde(rename = "self")]
    self_: String,
    zone: String,
}

impl Api {
    fn request_view(&self, request: Arc<ZoneTransferRequest>) -> RequestView {
        let project = self.project_named(
            request.spec.project_id.as_deref(),
            request.metadata.namespace.as_deref(),
        );
        RequestView { request, project }
    }

    fn accept_view(&self, accept: Arc<ZoneTransferAccept>) -> AcceptView {
        let project = self.project_named(
            accept.spec.project_id.as_deref(),
            accept.metadata.namespace.as_deref(),
        );
        AcceptView { accept, project }
    }

    /// A request by the id in a path, after `get_zone_transfer_request`'s
    /// policy (Designate finds it across projects first).
    fn find_request(&self, caller: &Caller, id: &str) -> Result<RequestView, ApiError> {
        check_uuid("zone_transfer_request_id", id)?;
        let view = self
            .cache
            .transfer_requests
            .get(id)
            .map(|request| self.request_view(request))
            .ok_or_else(request_not_found)?;
        caller.require("get_zone_transfer_request", &view.policy_target())?;
        Ok(view)
    }

    fn detailed(&self, caller: &Caller, view: &RequestView) -> bool {
        caller.allowed(
            "get_zone_transfer_request_detailed",
            &project_target(&view.project),
        )
    }
}

/// A request in its `dns.zone_transfer_request.*` notifications, from the
/// object alone (the notifier has no mirrors).
pub fn request_notice(request: &ZoneTransferRequest) -> Value {
    let view = RequestView {
        request: Arc::new(request.clone()),
        project: Arc::from(request.spec.project_id.as_deref().unwrap_or_default()),
    };
    notice_payload(view.render("", true))
}

/// An accept in its `dns.zone_transfer_accept.create` notification.
pub fn accept_notice(accept: &ZoneTransferAccept) -> Value {
    let view = AcceptView {
        accept: Arc::new(accept.clone()),
        project: Arc::from(accept.spec.project_id.as_deref().unwrap_or_default()),
    };
    notice_payload(view.render(""))
}

/// The request's fields a body may set (Designate's adapter: the rest are
/// read-only; `zone_id` and `zone_name` are the path's zone's).
#[derive(Debug)]
struct RequestBody {
    description: Option<Option<String>>,
    target_project_id: Option<Option<String>>,
}

fn parse_request(
    body: &Map<String, Value>,
    current: Option<&RequestView>,
) -> Result<RequestBody, ApiError> {
    let mut refused: Vec<&str> = Vec::new();
    for (key, value) in body {
        let unchanged = |held: Option<&str>| value.as_str() == held;
        let allowed = match key.as_str() {
            "description" => true,
            // Immutable: set once.
            "target_project_id" => {
                current.is_none_or(|v| v.target().is_none() || unchanged(v.target()))
            }
            "zone_id" => current.is_none_or(|v| unchanged(Some(&v.request.spec.zone_id))),
            "zone_name" => current.is_none_or(|v| unchanged(Some(&v.request.spec.zone_name))),
            _ => false,
        };
        if !allowed {
            refused.push(key);
        }
    }
    if !refused.is_empty() {
        let keys: Vec<String> = refused.iter().map(|k| format!("'{k}'")).collect();
        return Err(ApiError::invalid_object(format!(
            "Provided object does not match schema. Keys [{}] are not valid for transfer_request",
            keys.join(", ")
        )));
    }
    let text = |field: &str, max: usize| -> Result<Option<Option<String>>, ApiError> {
        let Some(value) = body.get(field) else {
            return Ok(None);
        };
        let text = coerce_string(field, value)?;
        if text.as_ref().is_some_and(|t| t.chars().count() > max) {
            return Err(value_error(&format!("Value too long for {field}")));
        }
        Ok(Some(text))
    };
    Ok(RequestBody {
        description: text("description", TRANSFER_TEXT_MAX_LEN)?,
        target_project_id: text("target_project_id", TRANSFER_PROJECT_MAX_LEN)?,
    })
}

/// The body of a create: Designate reads an empty one (or `null`) as `{}`.
fn object_or_empty(headers: &HeaderMap, payload: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match body::object(headers, payload) {
        Err(error) if error.type_ == "empty_request_body" => Ok(Map::new()),
        other => other,
    }
}

pub async fn create_request(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(zone_id): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    check_uuid("zone_id", &zone_id)?;
    let body = object_or_empty(&headers, &payload)?;
    let zone = api.find_zone(&caller, &zone_id)?;
    let parsed = parse_request(&body, None)?;
    let view = api.zone_view(zone.clone());
    if zone.metadata.deletion_timestamp.is_some() {
        return Err(ApiError::bad_request("Can not transfer a deleting zone"));
    }
    caller.require(
        "create_zone_transfer_request",
        &project_target(&view.project),
    )?;
    let active =
        api.cache.transfer_requests.all().into_iter().any(|r| {
            r.spec.zone_id == zone_id && api.request_view(r).state() == TransferState::Active
        });
    if active {
        return Err(ApiError::new(
            409,
            "duplicate_zone_transfer_request",
            "Duplicate ZoneTransferRequest",
        ));
    }
    let mut request = ZoneTransferRequest::new(
        "",
        ZoneTransferRequestSpec {
            zone_id: zone.designate_id(),
            zone_name: zone.spec.name.clone(),
            key: new_key(),
            target_project_id: parsed.target_project_id.flatten(),
            description: parsed.description.flatten(),
            project_id: Some(caller.project.clone()),
        },
    );
    request.metadata.name = None;
    request.metadata.generate_name = Some("transfer-".into());
    request.metadata.namespace = zone.namespace();
    let made = api
        .cache
        .transfer_requests
        .create(&api.client, &request)
        .await
        .map_err(ApiError::from)?;
    let view = api.request_view(Arc::new(made));
    let body = view.render(&base_url(&headers), true);
    let location = body["links"]["self"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(created(
        StatusCode::CREATED,
        &Links { self_: location },
        &body,
    ))
}

pub async fn list_requests(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(&query_pairs(raw.as_deref()), &list::TRANSFERS)?;
    caller.require("find_zone_transfer_requests", &Target::new())?;
    let views: Vec<RequestView> = api
        .cache
        .transfer_requests
        .all()
        .into_iter()
        .map(|request| api.request_view(request))
        .filter(|view| view.listed_for(&caller))
        .collect();
    let base = base_url(&headers);
    page_answer("transfer_requests", views, &query, &headers, &uri, |view| {
        view.render(&base, api.detailed(&caller, view))
    })
}

pub async fn show_request(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = api.find_request(&caller, &id)?;
    let detailed = api.detailed(&caller, &view);
    Ok(axum::Json(view.render(&base_url(&headers), detailed)).into_response())
}

pub async fn update_request(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    check_uuid("zone_transfer_request_id", &id)?;
    let body = body::object(&headers, &payload)?;
    let view = api.find_request(&caller, &id)?;
    let parsed = parse_request(&body, Some(&view))?;
    caller.require(
        "update_zone_transfer_request",
        &project_target(&view.project),
    )?;
    let mut spec = Map::new();
    if let Some(description) = parsed.description {
        spec.insert("description".into(), json!(description));
    }
    if let Some(Some(target)) = parsed.target_project_id
        && view.target().is_none()
    {
        spec.insert("targetProjectId".into(), json!(target));
    }
    let patched = api
        .cache
        .transfer_requests
        .patch(
            &api.client,
            &view.request,
            json!({"spec": spec, "metadata": {"annotations": {UPDATED_AT: now()}}}),
        )
        .await
        .map_err(ApiError::from)?;
    let view = api.request_view(Arc::new(patched));
    let detailed = api.detailed(&caller, &view);
    Ok(axum::Json(view.render(&base_url(&headers), detailed)).into_response())
}

pub async fn delete_request(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_uuid("zone_transfer_request_id", &id)?;
    // Designate's storage finds it among the caller's own (and targeted).
    let view = api
        .cache
        .transfer_requests
        .get(&id)
        .map(|request| api.request_view(request))
        .filter(|view| view.listed_for(&caller))
        .ok_or_else(request_not_found)?;
    caller.require(
        "delete_zone_transfer_request",
        &project_target(&view.project),
    )?;
    api.cache
        .transfer_requests
        .delete(&api.client, &view.request)
        .await
        .map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The accept's fields (Designate's adapter: `key` and the request).
fn parse_accept(body: &Map<String, Value>) -> Result<(String, String), ApiError> {
    body::only(
        body,
        &["key", "zone_transfer_request_id"],
        "transfer_accept",
    )?;
    let field = |name: &str| -> Result<String, ApiError> {
        body.get(name)
            .map(|value| coerce_string(name, value))
            .transpose()?
            .flatten()
            .ok_or_else(|| value_error(&format!("Field `{name}' cannot be None")))
    };
    let request_id = field("zone_transfer_request_id")?;
    check_uuid("zone_transfer_request_id", &request_id)?;
    let key = field("key")?;
    if key.chars().count() > TRANSFER_TEXT_MAX_LEN {
        return Err(value_error("Value too long for key"));
    }
    Ok((request_id, key))
}

pub async fn create_accept(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let body = body::object(&headers, &payload)?;
    let (request_id, key) = parse_accept(&body)?;
    let request = api.find_request(&caller, &request_id)?;
    if request.state() != TransferState::Active || request.claimed() {
        let message = match request.state() {
            TransferState::Complete | TransferState::Active => {
                "Zone Transfer Request has been used"
            }
            _ => "Zone Transfer Request Invalid",
        };
        return Err(invalid_transfer(message));
    }
    if request.request.spec.key != key {
        return Err(ApiError::new(
            403,
            "invalid_key",
            "Key does not match stored key for request",
        ));
    }
    let target = request
        .target()
        .map_or(PolicyValue::None, |t| PolicyValue::Str(t.to_string()));
    caller.require(
        "create_zone_transfer_accept",
        &Target::from([
            ("target_project_id", target.clone()),
            ("target_tenant_id", target),
        ]),
    )?;
    let zone = api
        .cache
        .zones
        .get(&request.request.spec.zone_id)
        .filter(|zone| zone.namespace() == request.request.namespace())
        .ok_or_else(ApiError::zone_not_found)?;
    if zone.metadata.deletion_timestamp.is_some() {
        return Err(ApiError::bad_request("Can not transfer a deleting zone"));
    }
    // The accepting project's zone quota, as Central's `_enforce_zone_quota`.
    let cfg = crate::quotas::for_project(
        &api,
        std::borrow::Cow::Borrowed(&api.settings.central),
        &caller.project,
    );
    let namespace = crate::zones::planned_namespace(&caller);
    if api.cache.zones.count(Some(&namespace)) as i64 >= cfg.quotas.zones {
        return Err(ApiError::new(
            413,
            "over_quota",
            "Quota exceeded for zones.",
        ));
    }
    let namespace = api.ensure_namespace(&caller).await?;
    let mut accept = ZoneTransferAccept::new(
        "",
        ZoneTransferAcceptSpec {
            zone_transfer_request_id: request_id,
            key,
            project_id: Some(caller.project.clone()),
        },
    );
    accept.metadata.name = None;
    accept.metadata.generate_name = Some("accept-".into());
    accept.metadata.namespace = Some(namespace.clone());
    let made = api
        .cache
        .transfer_accepts
        .create(&api.client, &accept)
        .await
        .map_err(ApiError::from)?;
    let id = made.metadata.uid.clone().unwrap_or_default();
    let request_id = request.id().to_string();
    let zone_id = request.request.spec.zone_id.clone();
    // Answered once the zone is in the caller's project, as Designate's
    // accept answers after its storage write.
    let moved = async {
        api.cache
            .transfer_accepts
            .wait_for_state(&id, |accept| {
                accept
                    .status
                    .as_ref()
                    .and_then(|s| s.status)
                    .is_some_and(|s| s != TransferState::Pending)
            })
            .await;
        let complete = api.cache.transfer_accepts.get(&id).is_some_and(|accept| {
            accept.status.as_ref().and_then(|s| s.status) == Some(TransferState::Complete)
        });
        if !complete {
            return;
        }
        api.cache
            .transfer_requests
            .wait_for_state(&request_id, |request| {
                request.status.as_ref().and_then(|s| s.status) != Some(TransferState::Active)
            })
            .await;
        api.cache
            .zones
            .wait_for_state(&zone_id, |zone| {
                zone.namespace().as_deref() == Some(&namespace)
            })
            .await;
    };
    let _ = tokio::time::timeout(ACCEPT_WAIT, moved).await;
    let made = api
        .cache
        .transfer_accepts
        .get(&id)
        .unwrap_or_else(|| Arc::new(made));
    let view = api.accept_view(made);
    if view.state() == TransferState::Error {
        let message = view
            .accept
            .status
            .as_ref()
            .and_then(|s| s.message.clone())
            .unwrap_or_default();
        return Err(invalid_transfer(message));
    }
    let body = view.render(&base_url(&headers));
    let location = body.links.self_.clone();
    Ok(created(
        StatusCode::CREATED,
        &Links { self_: location },
        &body,
    ))
}

pub async fn list_accepts(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(&query_pairs(raw.as_deref()), &list::TRANSFERS)?;
    caller.require("find_zone_transfer_accepts", &Target::new())?;
    let all: Vec<AcceptView> = api
        .cache
        .transfer_accepts
        .all()
        .into_iter()
        .map(|accept| api.accept_view(accept))
        .collect();
    // Designate's count ignores the project (its own quirk): the total of
    // every project's accepts that pass the filters.
    let status = query.filter("status");
    let total = all
        .iter()
        .filter(|view| status.is_none_or(|s| s.eq_ignore_ascii_case(view.state().as_str())))
        .count();
    let views: Vec<AcceptView> = all
        .into_iter()
        .filter(|view| caller.all_projects || *view.project == caller.project)
        .collect();
    let base = base_url(&headers);
    counted_page_answer(
        "transfer_accepts",
        views,
        &query,
        Some(total),
        &headers,
        &uri,
        |view| json!(view.render(&base)),
    )
}

pub async fn show_accept(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_uuid("transfer_accept_id", &id)?;
    let view = api
        .cache
        .transfer_accepts
        .get(&id)
        .map(|accept| api.accept_view(accept))
        .filter(|view| caller.all_projects || *view.project == caller.project)
        .ok_or_else(accept_not_found)?;
    caller.require("get_zone_transfer_accept", &project_target(&view.project))?;
    Ok(axum::Json(view.render(&base_url(&headers))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn keys_are_eight_of_designates_characters() {
        let key = new_key();
        assert_eq!(key.len(), 8);
        assert!(
            key.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert_ne!(new_key(), new_key());
    }

    #[test]
    fn request_bodies_set_description_and_target_only() {
        let parsed = parse_request(
            &object(r#"{"description": "d", "target_project_id": "p2"}"#),
            None,
        )
        .unwrap();
        assert_eq!(parsed.description, Some(Some("d".into())));
        assert_eq!(parsed.target_project_id, Some(Some("p2".into())));
        let refused = parse_request(&object(r#"{"key": "K", "status": "x"}"#), None).unwrap_err();
        assert_eq!(
            refused.message.as_deref(),
            Some(
                "Provided object does not match schema. Keys ['key', 'status'] are not valid for transfer_request"
            )
        );
        let long = format!(r#"{{"description": "{}"}}"#, "d".repeat(161));
        assert_eq!(parse_request(&object(&long), None).unwrap_err().code, 400);
    }

    #[test]
    fn an_empty_or_null_request_body_is_an_empty_object() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            "application/json".parse().unwrap(),
        );
        for body in ["", "null", " "] {
            assert_eq!(
                object_or_empty(&headers, &Bytes::from(body)).unwrap(),
                Map::new(),
                "{body:?}"
            );
        }
        assert_eq!(
            object_or_empty(&headers, &Bytes::from("[1]"))
                .unwrap_err()
                .code,
            400
        );
    }

    #[test]
    fn accept_bodies_need_the_request_and_the_key() {
        let id = "27f6ced5-f894-4d56-b62e-44e64e465cd9";
        let body = object(&format!(
            r#"{{"key": "K", "zone_transfer_request_id": "{id}"}}"#
        ));
        assert_eq!(
            parse_accept(&body).unwrap(),
            (id.to_string(), "K".to_string())
        );
        assert_eq!(
            parse_accept(&object(r#"{"key": "K"}"#)).unwrap_err().code,
            400
        );
        let bad = object(r#"{"key": "K", "zone_transfer_request_id": "x"}"#);
        assert_eq!(parse_accept(&bad).unwrap_err().type_, "invalid_uuid");
    }
}
