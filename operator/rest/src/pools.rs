//! `/v2/pools`: Designate's pools over the cluster-scoped `Pool` objects
//! (the id is the object's uid). Reads for admins; creates, updates and
//! deletes as Designate 23 still allows them (deprecated there in favour of
//! `designate-manage pool update`; here kubectl edits the same objects).
//!
//! Designate's `name` may be any text of up to 50 characters: a pool made
//! here is named after it where that is an object name, and keeps it (and
//! its `project_id`, `updated_at`) in annotations, so it can be renamed.
//! Checks run in Designate's order: the body (adapter, `validate()`), then
//! the policy in Central, then storage's unique name. A pool that still
//! serves zones is not deleted (Designate's `InvalidOperation`; the Pool
//! controller's finalizer holds it too).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_crd::{Pool, PoolNsRecord, PoolSpec, grant};
use designate_identity::policy::Target;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::DeleteParams;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::fields::{UPDATED_AT, coerce_string, python_type, updated_at};
use crate::list::{self, Query};
use crate::render::{Links, datetime, notice_payload};
use crate::writes::{create_readable, merge_patch};
use crate::zones::{check_uuid, created, page_answer, query_pairs};
use crate::{Api, Shared, base_url, body};

/// Designate's name of a pool, where the object's name cannot hold it.
pub const NAME: &str = "designate.openstack.org/name";
/// The project a pool was made for (Designate's `tenant_id`).
pub const PROJECT_ID: &str = "designate.openstack.org/project-id";

/// `Pool` fields: `name` `StringFields(maxLength=50)`, `description`
/// (160), `tenant_id` (36).
const NAME_MAX_LEN: usize = 50;
const DESCRIPTION_MAX_LEN: usize = 160;
const PROJECT_ID_MAX_LEN: usize = 36;
/// `PoolAttribute` keys and values: `StringFields(maxLength=50)`.
const ATTRIBUTE_MAX_LEN: usize = 50;
/// `PoolNsRecord.priority`: `IntegerFields(minimum=1, maximum=10000)`.
const PRIORITY_RANGE: (i64, i64) = (1, 10_000);

/// The adapter's error for a field whose `coerce()` raised `exception`.
fn coerce_error(exception: &str, message: &str) -> ApiError {
    let article = if exception.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    ApiError::invalid_object(format!(
        "Provided object is not valid. Got {article} {exception} error with message {message}"
    ))
}

fn value_error(message: &str) -> ApiError {
    coerce_error("ValueError", message)
}

/// A string field of at most `max` characters.
fn string_field(field: &str, value: &Value, max: usize) -> Result<Option<String>, ApiError> {
    let text = coerce_string(field, value)?;
    if text.as_ref().is_some_and(|t| t.chars().count() > max) {
        return Err(value_error(&format!("Value too long for {field}")));
    }
    Ok(text)
}

/// Designate's `DomainField` (`RE_ZONENAME`), with its messages.
fn domain_field(field: &str, value: &Value) -> Result<String, ApiError> {
    let text = string_field(field, value, 255)?
        .ok_or_else(|| value_error(&format!("Field `{field}' cannot be None")))?;
    if let Some(label) = text.split('.').find(|l| l.len() > 63) {
        return Err(value_error(&format!("Host {label} is too long")));
    }
    if !text.ends_with('.') {
        return Err(value_error(&format!(
            "Domain {text} does not end with a dot"
        )));
    }
    let valid = text.len() < 255
        && text.trim_end_matches('.').len() + 1 == text.len()
        && text[..text.len() - 1].split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if !valid {
        return Err(value_error(&format!("Domain {text} is invalid")));
    }
    Ok(text)
}

/// oslo's `IntegerField` (Python's `int()`), then Designate's bounds.
fn priority_field(value: &Value) -> Result<i32, ApiError> {
    let number = crate::fields::coerce_int(value)?
        .ok_or_else(|| value_error("Field `priority' cannot be None"))?;
    if number < PRIORITY_RANGE.0 {
        return Err(value_error(&format!(
            "Value must be >= {} for field priority",
            PRIORITY_RANGE.0
        )));
    }
    if number > PRIORITY_RANGE.1 {
        return Err(value_error("Value too high for priority"));
    }
    Ok(i32::try_from(number).unwrap_or(i32::MAX))
}

/// `Provided object does not match schema. Keys [...] are not valid for <resource>`.
fn keys_error(keys: &[&str], resource: &str) -> ApiError {
    let keys = keys
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    ApiError::invalid_object(format!(
        "Provided object does not match schema. Keys [{keys}] are not valid for {resource}"
    ))
}

/// A `'<field>' is a required property` schema error of `validate()`.
fn required(path: Value, field: &str) -> ApiError {
    ApiError::schema(
        path,
        format!("'{field}' is a required property"),
        "required",
        json!([field]),
    )
}

/// `PoolNsRecordListAPIv2Adapter.parse` then `validate()`.
fn ns_records(value: &Value) -> Result<Vec<PoolNsRecord>, ApiError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => {
            return Err(coerce_error(
                "TypeError",
                "'NoneType' object is not iterable",
            ));
        }
        // Python iterates over a dict's keys, a string's characters: none
        // of them an object.
        Value::Object(_) | Value::String(_) => {
            return Err(coerce_error(
                "AttributeError",
                "'str' object has no attribute 'items'",
            ));
        }
        other => {
            return Err(coerce_error(
                "TypeError",
                &format!("'{}' object is not iterable", python_type(other)),
            ));
        }
    };
    let mut records = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let Value::Object(fields) = item else {
            return Err(coerce_error(
                "AttributeError",
                &format!("'{}' object has no attribute 'items'", python_type(item)),
            ));
        };
        let (mut hostname, mut priority) = (None, None);
        let mut refused = Vec::new();
        for (key, value) in fields {
            match key.as_str() {
                "hostname" => hostname = Some(domain_field("hostname", value)?),
                "priority" => priority = Some(priority_field(value)?),
                key => refused.push(key),
            }
        }
        if !refused.is_empty() {
            return Err(keys_error(&refused, "ns_record"));
        }
        let hostname =
            hostname.ok_or_else(|| required(json!(["ns_records", index]), "hostname"))?;
        let priority =
            priority.ok_or_else(|| required(json!(["ns_records", index]), "priority"))?;
        records.push(PoolNsRecord { hostname, priority });
    }
    Ok(records)
}

/// `PoolAttributeListAPIv2Adapter.parse`: an object of strings.
fn attributes(value: &Value) -> Result<BTreeMap<String, String>, ApiError> {
    let Value::Object(map) = value else {
        return Err(coerce_error(
            "AttributeError",
            &format!("'{}' object has no attribute 'items'", python_type(value)),
        ));
    };
    let mut attributes = BTreeMap::new();
    for (key, value) in map {
        if key.chars().count() > ATTRIBUTE_MAX_LEN {
            return Err(value_error("Value too long for key"));
        }
        let value = string_field("value", value, ATTRIBUTE_MAX_LEN)?
            .ok_or_else(|| value_error("Field `value' cannot be None"))?;
        attributes.insert(key.clone(), value);
    }
    Ok(attributes)
}

/// What a create or update body sets.
#[derive(Debug, Default, PartialEq)]
struct PoolInput {
    name: Option<String>,
    /// `Some(None)`: cleared.
    description: Option<Option<String>>,
    project_id: Option<Option<String>>,
    attributes: Option<BTreeMap<String, String>>,
    ns_records: Option<Vec<PoolNsRecord>>,
}

/// `PoolAPIv2Adapter.parse` then `Pool.validate()`, on a new pool
/// (`None`) or the one updated (as rendered).
fn parse(body: &Map<String, Value>, existing: Option<&Value>) -> Result<PoolInput, ApiError> {
    let mut input = PoolInput::default();
    let mut refused = Vec::new();
    for (key, value) in body {
        match key.as_str() {
            "name" => {
                input.name = Some(
                    string_field("name", value, NAME_MAX_LEN)?
                        .ok_or_else(|| value_error("Field `name' cannot be None"))?,
                );
            }
            "description" => {
                input.description = Some(string_field("description", value, DESCRIPTION_MAX_LEN)?);
            }
            // Immutable once set.
            "project_id" => {
                let held = existing
                    .and_then(|e| e.get("project_id"))
                    .filter(|p| !p.is_null() && p.as_str() != Some(""));
                if held.is_some_and(|held| held != value) {
                    refused.push(key.as_str());
                    break;
                }
                input.project_id = Some(string_field("tenant_id", value, PROJECT_ID_MAX_LEN)?);
            }
            "attributes" => input.attributes = Some(attributes(value)?),
            "ns_records" => input.ns_records = Some(ns_records(value)?),
            // Read-only: a new object has none yet (Python fails reading
            // it); an existing one takes its own value back unchanged.
            "id" | "created_at" | "updated_at" => match existing {
                None => {
                    return Err(coerce_error(
                        "NotImplementedError",
                        &format!("Cannot load '{key}' in the base class"),
                    ));
                }
                Some(existing) if existing.get(key) == Some(value) => {}
                Some(_) => {
                    refused.push(key.as_str());
                    break;
                }
            },
            key => refused.push(key),
        }
    }
    if !refused.is_empty() {
        return Err(keys_error(&refused, "pool"));
    }
    if existing.is_none() && input.name.is_none() {
        return Err(required(json!([]), "name"));
    }
    Ok(input)
}

fn duplicate_pool() -> ApiError {
    ApiError::new(409, "duplicate_pool", "Duplicate Pool")
}

/// The pool's name as Designate shows it.
fn display_name(pool: &Pool) -> &str {
    match pool.annotations().get(NAME) {
        Some(name) => name,
        None => pool.metadata.name.as_deref().unwrap_or_default(),
    }
}

/// Whether a pool is listed: one being deleted is gone for Designate.
fn live(pool: &Pool) -> bool {
    pool.metadata.deletion_timestamp.is_none()
}

impl Api {
    /// Whether another live pool is named `name` (the unique key compares
    /// case-insensitively, MySQL's collation).
    fn pool_taken(&self, name: &str, except: Option<&str>) -> bool {
        self.cache.pools.all().iter().any(|pool| {
            live(pool)
                && Some(grant::id_of(&pool.metadata)) != except
                && display_name(pool).to_lowercase() == name.to_lowercase()
        })
    }

    /// A live pool by id.
    fn live_pool(&self, id: &str) -> Result<Arc<Pool>, ApiError> {
        self.cache
            .pools
            .get(id)
            .filter(|p| live(p))
            .ok_or_else(ApiError::pool_not_found)
    }

    /// Whether any zone not being deleted is served by the pool.
    fn pool_serves_zones(&self, pool: &Pool) -> bool {
        let name = pool.name_any();
        self.cache.zones.all().iter().any(|zone| {
            let served_by = zone
                .status
                .as_ref()
                .and_then(|s| s.pool.as_deref())
                .or(zone.spec.pool_ref.as_deref())
                .unwrap_or(&self.settings.default_pool);
            zone.metadata.deletion_timestamp.is_none() && served_by == name
        })
    }

    fn pool_api(&self) -> kube::Api<Pool> {
        kube::Api::all(self.client.clone())
    }
}

/// A pool as Designate renders it (targets and nameservers stay private).
#[derive(Serialize)]
struct PoolJson<'a> {
    id: &'a str,
    project_id: Option<&'a str>,
    name: &'a str,
    description: Option<&'a str>,
    attributes: &'a BTreeMap<String, String>,
    ns_records: Vec<NsRecordJson<'a>>,
    created_at: Option<String>,
    updated_at: Option<String>,
    links: Links,
}

#[derive(Serialize)]
struct NsRecordJson<'a> {
    priority: i32,
    hostname: &'a str,
}

fn render<'a>(pool: &'a Pool, base: &str) -> PoolJson<'a> {
    let id = grant::id_of(&pool.metadata);
    PoolJson {
        id,
        project_id: pool.annotations().get(PROJECT_ID).map(String::as_str),
        name: display_name(pool),
        description: pool.spec.description.as_deref(),
        attributes: &pool.spec.attributes,
        ns_records: pool
            .spec
            .ns_records
            .iter()
            .map(|ns| NsRecordJson {
                priority: ns.priority,
                hostname: &ns.hostname,
            })
            .collect(),
        created_at: pool.metadata.creation_timestamp.as_ref().map(datetime),
        updated_at: updated_at(pool),
        links: Links {
            self_: format!("{base}/v2/pools/{id}"),
        },
    }
}

/// The pool in its `dns.pool.*` notifications.
pub fn notice(pool: &Pool) -> Value {
    notice_payload(render(pool, ""))
}

/// A pool as lists filter and sort it.
struct PoolView(Arc<Pool>);

impl list::Listed for PoolView {
    fn id(&self) -> &str {
        grant::id_of(&self.0.metadata)
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        let micros = |t: Option<Timestamp>| list::Field::Int(t.map(|t| t.as_microsecond()));
        match key {
            "name" => list::Field::Text(Some(display_name(&self.0))),
            "id" => list::Field::Text(Some(grant::id_of(&self.0.metadata))),
            "created_at" => micros(self.0.metadata.creation_timestamp.as_ref().map(|t| t.0)),
            "updated_at" => micros(
                self.0
                    .annotations()
                    .get(UPDATED_AT)
                    .and_then(|t| t.parse().ok()),
            ),
            _ => list::Field::Text(None),
        }
    }
}

pub async fn list(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    // Paging parameters are read before Central checks the policy.
    let query = Query::parse(&query_pairs(raw.as_deref()), &list::POOLS)?;
    caller.require("find_pools", &Target::new())?;
    let views: Vec<PoolView> = api
        .cache
        .pools
        .all()
        .into_iter()
        .filter(|p| live(p))
        .map(PoolView)
        .collect();
    let base = base_url(&headers);
    page_answer("pools", views, &query, &headers, &uri, |p| {
        json!(render(&p.0, &base))
    })
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_uuid("pool_id", &id)?;
    caller.require("get_pool", &Target::new())?;
    let pool = api.live_pool(&id)?;
    Ok(axum::Json(render(&pool, &base_url(&headers))).into_response())
}

pub async fn create(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let body = body::object(&headers, &payload)?;
    let input = parse(&body, None)?;
    caller.require("create_pool", &Target::new())?;
    let name = input.name.unwrap_or_default();
    if api.pool_taken(&name, None) {
        return Err(duplicate_pool());
    }
    // A pool without NS records is made (as Designate does); it takes no
    // zones until it has one.
    let ns_records = input.ns_records.unwrap_or_default();
    let mut pool = Pool::new(
        &designate_crd::names::object_name(&name, "pool"),
        PoolSpec {
            description: input.description.flatten(),
            attributes: input.attributes.unwrap_or_default(),
            ns_records,
            ..PoolSpec::default()
        },
    );
    // Central: a pool without a project is the caller's.
    let project = input.project_id.flatten().unwrap_or(caller.project.clone());
    pool.annotations_mut().insert(NAME.into(), name.clone());
    pool.annotations_mut().insert(PROJECT_ID.into(), project);
    // Asked of the server too: a racing create may not be mirrored yet.
    let taken = async |pool: &Pool| {
        let holder = api.pool_api().get_opt(&pool.name_any()).await?;
        Ok(api.pool_taken(&name, None)
            || holder.is_some_and(|p| display_name(&p).to_lowercase() == name.to_lowercase()))
    };
    let made = create_readable(
        &api.pool_api(),
        &api.cache.pools,
        pool,
        "pool",
        taken,
        duplicate_pool,
    )
    .await?;
    let body = render(&made, &base_url(&headers));
    Ok(created(StatusCode::CREATED, &body.links, &body))
}

pub async fn update(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    check_uuid("pool_id", &id)?;
    let body = body::object(&headers, &payload)?;
    caller.require("get_pool", &Target::new())?;
    let pool = api.live_pool(&id)?;
    let base = base_url(&headers);
    let shown = serde_json::to_value(render(&pool, &base)).map_err(ApiError::unknown)?;
    let input = parse(&body, Some(&shown))?;
    caller.require("update_pool", &Target::new())?;
    if input.ns_records.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::new(
            400,
            "last_server_delete_not_allowed",
            "Not allowed to delete last of servers",
        ));
    }
    if let Some(name) = &input.name
        && api.pool_taken(name, Some(&id))
    {
        return Err(duplicate_pool());
    }
    let mut spec = Map::new();
    if let Some(description) = input.description {
        spec.insert("description".into(), json!(description));
    }
    if let Some(attributes) = input.attributes {
        // A merge patch merges maps: the keys gone are removed by null.
        let mut patch: Map<String, Value> = pool
            .spec
            .attributes
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect();
        patch.extend(attributes.into_iter().map(|(k, v)| (k, json!(v))));
        spec.insert("attributes".into(), Value::Object(patch));
    }
    if let Some(records) = input.ns_records {
        spec.insert("nsRecords".into(), json!(records));
    }
    let mut annotations = Map::new();
    if let Some(name) = input.name {
        annotations.insert(NAME.into(), json!(name));
    }
    if let Some(project) = input.project_id {
        annotations.insert(PROJECT_ID.into(), json!(project));
    }
    let patched = merge_patch(
        &api.pool_api(),
        &api.cache.pools,
        (&id, &pool.name_any()),
        annotations,
        spec,
        ApiError::pool_not_found,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(render(&patched, &base))).into_response())
}

pub async fn delete(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_uuid("pool_id", &id)?;
    caller.require("delete_pool", &Target::new())?;
    let pool = api.live_pool(&id)?;
    if api.pool_serves_zones(&pool) {
        return Err(ApiError::new(
            400,
            "invalid_operation",
            "pool must not contain zones",
        ));
    }
    let deleting = match api
        .pool_api()
        .delete(&pool.name_any(), &DeleteParams::default())
        .await
    {
        Ok(either) => either.left(),
        Err(kube::Error::Api(e)) if e.code == 404 => return Err(ApiError::pool_not_found()),
        Err(error) => return Err(error.into()),
    };
    // Gone, or marked for deletion while the controller lets it go (lists
    // no longer show it).
    let version = deleting.and_then(|p| p.metadata.resource_version);
    api.cache
        .pools
        .wait_for_delete(&id, version.as_deref())
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    fn message(error: ApiError) -> String {
        error.message.unwrap_or_default()
    }

    #[test]
    fn a_create_body_is_read_as_designate_reads_it() {
        let input = parse(
            &object(
                r#"{"name": "Example Pool", "project_id": "1", "description": null,
                    "attributes": {"region": "east"},
                    "ns_records": [{"hostname": "ns1.example.org.", "priority": 1}]}"#,
            ),
            None,
        )
        .unwrap();
        assert_eq!(input.name.as_deref(), Some("Example Pool"));
        assert_eq!(input.project_id, Some(Some("1".into())));
        assert_eq!(input.description, Some(None));
        assert_eq!(input.attributes.unwrap()["region"], "east");
        assert_eq!(
            input.ns_records.unwrap(),
            [PoolNsRecord {
                hostname: "ns1.example.org.".into(),
                priority: 1
            }]
        );
    }

    #[test]
    fn bad_fields_are_invalid_objects_with_designates_messages() {
        let refused = |text: &str| {
            let error = parse(&object(text), None).unwrap_err();
            assert_eq!((error.code, error.type_), (400, "invalid_object"), "{text}");
            error
        };
        assert_eq!(
            message(refused(&format!(r#"{{"name": "{}"}}"#, "x".repeat(51)))),
            "Provided object is not valid. Got a ValueError error with message Value too long for name"
        );
        assert_eq!(
            message(refused(
                r#"{"name": "p", "ns_records": [{"hostname": "ns1_example_org_", "priority": 1}]}"#
            )),
            "Provided object is not valid. Got a ValueError error with message Domain ns1_example_org_ does not end with a dot"
        );
        assert_eq!(
            message(refused(
                r#"{"name": "p", "ns_records": [{"hostname": "ns1.example.org.", "priority": -1}]}"#
            )),
            "Provided object is not valid. Got a ValueError error with message Value must be >= 1 for field priority"
        );
        assert_eq!(
            message(refused(
                r#"{"name": "p", "ns_records": [{"hostname": "a..b.", "priority": 1}]}"#
            )),
            "Provided object is not valid. Got a ValueError error with message Domain a..b. is invalid"
        );
        assert_eq!(
            message(refused(r#"{"name": "p", "targets": []}"#)),
            "Provided object does not match schema. Keys ['targets'] are not valid for pool"
        );
        assert_eq!(
            message(refused(r#"{"name": "p", "id": "x"}"#)),
            "Provided object is not valid. Got a NotImplementedError error with message Cannot load 'id' in the base class"
        );
        assert!(refused(r#"{"description": "no name"}"#).errors.is_some());
        refused(
            r#"{"name": "p", "ns_records": [{"hostname": "ns1.example.org.", "priority": 10001}]}"#,
        );
        refused(r#"{"name": "p", "ns_records": [{"hostname": "ns1.example.org."}]}"#);
        refused(
            r#"{"name": "p", "ns_records": [{"hostname": "ns1.example.org.", "priority": 1, "x": 1}]}"#,
        );
        refused(r#"{"name": "p", "attributes": ["a"]}"#);
        refused(r#"{"name": "p", "ns_records": {"hostname": "ns1.example.org."}}"#);
    }

    #[test]
    fn updates_keep_the_project_and_take_read_only_fields_back_unchanged() {
        let shown = json!({"id": "i", "project_id": "1", "created_at": "c"});
        assert!(parse(&object(r#"{"project_id": "1", "id": "i"}"#), Some(&shown)).is_ok());
        assert_eq!(
            message(parse(&object(r#"{"project_id": "2"}"#), Some(&shown)).unwrap_err()),
            "Provided object does not match schema. Keys ['project_id'] are not valid for pool"
        );
        assert!(parse(&object(r#"{"created_at": "other"}"#), Some(&shown)).is_err());
        // A pool without a project may be given one.
        let unowned = json!({"id": "i", "project_id": null});
        assert!(parse(&object(r#"{"project_id": "2"}"#), Some(&unowned)).is_ok());
    }
}
