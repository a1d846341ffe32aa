//! `/v2/tlds`: Designate's TLD list, kept as cluster-scoped `Tld` objects
//! (the id is the object's uid). While any exists, zones are created only
//! under one of them ([`crate::rules::central_config`]).
//!
//! Checks run in Designate's order: the body (adapter, then `validate()`)
//! before the policy, which Central checks, then storage's unique name.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_crd::{TLD_NAME_MAX_LEN, Tld, TldSpec, grant, names};
use designate_identity::policy::Target;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::DeleteParams;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::fields::{UPDATED_AT, coerce_string, updated_at, value_error};
use crate::list::{self, Query};
use crate::render::{Links, datetime, notice_payload};
use crate::writes::{create_readable, merge_patch};
use crate::zones::{check_uuid, created, page_answer, query_pairs};
use crate::{Api, Shared, base_url, body};

/// Designate's read-only `Tld` fields (`name` and `description` are
/// writable).
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

/// `description`: `StringFields(nullable=True, maxLength=160)`.
const DESCRIPTION_MAX_LEN: usize = 160;

/// `TldField`'s check, `RE_TLDNAME`: labels of `[A-Za-z0-9_-]`, 1 to 63
/// long, neither starting nor ending with `-`, no trailing dot, under 255
/// characters in all.
fn is_tld_name(name: &str) -> bool {
    name.len() <= TLD_NAME_MAX_LEN
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// What a create or update body sets.
#[derive(Debug, Default, PartialEq)]
struct TldInput {
    name: Option<String>,
    /// `Some(None)`: cleared.
    description: Option<Option<String>>,
}

/// `TldAPIv2Adapter.parse` then `Tld.validate()`, on a new TLD (`None`)
/// or the one updated (its read-only fields as rendered).
fn parse(body: &Map<String, Value>, existing: Option<&Value>) -> Result<TldInput, ApiError> {
    let mut input = TldInput::default();
    let mut refused = Vec::new();
    for (key, value) in body {
        match key.as_str() {
            "name" => {
                let name = coerce_string("name", value)?
                    .ok_or_else(|| value_error("Field `name' cannot be None"))?;
                if name.chars().count() > 255 {
                    return Err(value_error("Value too long for name"));
                }
                if !is_tld_name(&name) {
                    return Err(value_error(&format!("{name} is not a TLD")));
                }
                input.name = Some(name);
            }
            "description" => {
                let description = coerce_string("description", value)?;
                if description
                    .as_ref()
                    .is_some_and(|d| d.chars().count() > DESCRIPTION_MAX_LEN)
                {
                    return Err(value_error("Value too long for description"));
                }
                input.description = Some(description);
            }
            // Read-only: a new object has none yet (Python fails reading
            // it); an existing one takes its own value back unchanged.
            key if READ_ONLY.contains(&key) => match existing {
                None => {
                    return Err(ApiError::invalid_object(format!(
                        "Provided object is not valid. Got a NotImplementedError error with message Cannot load '{key}' in the base class"
                    )));
                }
                Some(existing) if existing.get(key) == Some(value) => {}
                Some(_) => {
                    refused.push(key);
                    break;
                }
            },
            key => refused.push(key),
        }
    }
    if !refused.is_empty() {
        let keys = refused
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ApiError::invalid_object(format!(
            "Provided object does not match schema. Keys [{keys}] are not valid for tld"
        )));
    }
    if existing.is_none() && input.name.is_none() {
        // `DesignateObject.validate()`'s error, path and all.
        return Err(ApiError::schema(
            json!(["records", 0]),
            "'name' is a required property".into(),
            "required",
            json!(["name"]),
        ));
    }
    Ok(input)
}

fn duplicate_tld() -> ApiError {
    ApiError::new(409, "duplicate_tld", "Duplicate Tld")
}

impl Api {
    /// Whether another TLD has `name`: the table's unique key compares
    /// case-insensitively (MySQL's collation).
    fn tld_taken(&self, name: &str, except: Option<&str>) -> bool {
        self.cache
            .tlds
            .tree_named(&name.to_ascii_lowercase())
            .iter()
            .any(|tld| Some(grant::id_of(&tld.metadata)) != except)
    }

    /// A TLD by the id in a path, after `get_tld`'s policy check.
    fn find_tld(&self, caller: &Caller, rule: &str, id: &str) -> Result<Arc<Tld>, ApiError> {
        check_uuid("tld_id", id)?;
        caller.require(rule, &Target::new())?;
        self.cache.tlds.get(id).ok_or_else(ApiError::tld_not_found)
    }

    fn tld_api(&self) -> kube::Api<Tld> {
        kube::Api::all(self.client.clone())
    }
}

/// A TLD as Designate renders it.
#[derive(Serialize)]
struct TldJson<'a> {
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    created_at: Option<String>,
    updated_at: Option<String>,
    links: Links,
}

fn render<'a>(tld: &'a Tld, base: &str) -> TldJson<'a> {
    let id = grant::id_of(&tld.metadata);
    TldJson {
        id,
        name: &tld.spec.name,
        description: tld.spec.description.as_deref(),
        created_at: tld.metadata.creation_timestamp.as_ref().map(datetime),
        updated_at: updated_at(tld),
        links: Links {
            self_: format!("{base}/v2/tlds/{id}"),
        },
    }
}

/// The TLD in its `dns.tld.*` notifications.
pub fn notice(tld: &Tld) -> Value {
    notice_payload(render(tld, ""))
}

/// A TLD as lists filter and sort it.
struct TldView(Arc<Tld>);

impl list::Listed for TldView {
    fn id(&self) -> &str {
        grant::id_of(&self.0.metadata)
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        let micros = |t: Option<Timestamp>| list::Field::Int(t.map(|t| t.as_microsecond()));
        match key {
            "name" => list::Field::Text(Some(&self.0.spec.name)),
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
    let query = Query::parse(&query_pairs(raw.as_deref()), &list::TLDS)?;
    caller.require("find_tlds", &Target::new())?;
    let views: Vec<TldView> = api.cache.tlds.all().into_iter().map(TldView).collect();
    let base = base_url(&headers);
    page_answer("tlds", views, &query, &headers, &uri, |t| {
        json!(render(&t.0, &base))
    })
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let tld = api.find_tld(&caller, "get_tld", &id)?;
    Ok(axum::Json(render(&tld, &base_url(&headers))).into_response())
}

pub async fn create(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let body = body::object(&headers, &payload)?;
    let input = parse(&body, None)?;
    caller.require("create_tld", &Target::new())?;
    let name = input.name.unwrap_or_default();
    if api.tld_taken(&name, None) {
        return Err(duplicate_tld());
    }
    let tld = Tld::new(
        &names::tld(&name),
        TldSpec {
            name,
            description: input.description.flatten(),
        },
    );
    let taken = async |tld: &Tld| Ok(api.tld_taken(&tld.spec.name, None));
    let made = create_readable(
        &api.tld_api(),
        &api.cache.tlds,
        tld,
        "tld",
        taken,
        duplicate_tld,
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
    check_uuid("tld_id", &id)?;
    let body = body::object(&headers, &payload)?;
    let tld = api.find_tld(&caller, "get_tld", &id)?;
    let base = base_url(&headers);
    let shown = serde_json::to_value(render(&tld, &base)).map_err(ApiError::unknown)?;
    let input = parse(&body, Some(&shown))?;
    caller.require("update_tld", &Target::new())?;
    if let Some(name) = &input.name
        && api.tld_taken(name, Some(&id))
    {
        return Err(duplicate_tld());
    }
    let mut spec = Map::new();
    if let Some(name) = input.name {
        spec.insert("name".into(), json!(name));
    }
    if let Some(description) = input.description {
        spec.insert("description".into(), json!(description));
    }
    let patched = merge_patch(
        &api.tld_api(),
        &api.cache.tlds,
        (&id, &tld.name_any()),
        Map::new(),
        spec,
        ApiError::tld_not_found,
    )
    .await?;
    Ok(axum::Json(render(&patched, &base)).into_response())
}

pub async fn delete(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let tld = api.find_tld(&caller, "delete_tld", &id)?;
    match api
        .tld_api()
        .delete(&tld.name_any(), &DeleteParams::default())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => return Err(ApiError::tld_not_found()),
        Err(error) => return Err(error.into()),
    }
    // Nothing holds a TLD back: wait until it is gone from the mirror.
    api.cache.tlds.wait_for_delete(&id, None).await;
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
    fn tld_names_follow_designates_pattern() {
        for good in ["com", "co.uk", "_srv", "a-b", "xn--p1ai", "Test", "1"] {
            assert!(is_tld_name(good), "{good}");
        }
        for bad in [
            "",
            "com.",
            ".com",
            "-bad-",
            "a..b",
            "a b",
            "é",
            &"a".repeat(64),
        ] {
            assert!(!is_tld_name(bad), "{bad}");
        }
        let long = vec!["a".repeat(63); 4].join(".");
        assert_eq!(long.len(), 255);
        assert!(!is_tld_name(&long));
        assert!(is_tld_name(&long[..254]));
    }

    #[test]
    fn the_crd_pattern_agrees() {
        let pattern = regex::Regex::new(designate_crd::TLD_NAME_PATTERN).unwrap();
        for name in [
            "com", "co.uk", "_srv", "com.", "-bad-", "a..b", "a-", "a_b.c-d",
        ] {
            assert_eq!(pattern.is_match(name), is_tld_name(name), "{name}");
        }
    }

    #[test]
    fn object_names_are_the_tld_or_a_hash() {
        assert_eq!(names::tld("Co.UK"), "co.uk");
        assert!(names::tld("_srv").starts_with("tld-"));
        assert_eq!(names::tld("_srv"), names::tld("_SRV"));
    }

    #[test]
    fn bodies_get_designates_errors() {
        assert_eq!(
            message(parse(&object(r#"{"name": "-bad-"}"#), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message -bad- is not a TLD"
        );
        assert_eq!(
            message(parse(&object(r#"{"name": "com", "bogus": 1}"#), None).unwrap_err()),
            "Provided object does not match schema. Keys ['bogus'] are not valid for tld"
        );
        let long = format!(r#"{{"name": "com", "description": "{}"}}"#, "x".repeat(161));
        assert_eq!(
            message(parse(&object(&long), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message Value too long for description"
        );
        let missing = parse(&object(r#"{"description": "x"}"#), None).unwrap_err();
        assert_eq!(
            missing.body("r")["errors"]["errors"][0],
            json!({"path": ["records", 0], "message": "'name' is a required property",
                   "validator": "required", "validator_value": ["name"]})
        );
        assert_eq!(
            parse(&object(r#"{"name": "com", "description": null}"#), None).unwrap(),
            TldInput {
                name: Some("com".into()),
                description: Some(None)
            }
        );
    }

    #[test]
    fn updates_may_repeat_read_only_fields_unchanged() {
        let shown =
            json!({"id": "x", "updated_at": null, "created_at": "2026-01-01T00:00:00.000000"});
        let ok = parse(&object(r#"{"id": "x", "description": "d"}"#), Some(&shown)).unwrap();
        assert_eq!(ok.description, Some(Some("d".into())));
        assert_eq!(
            message(parse(&object(r#"{"id": "y"}"#), Some(&shown)).unwrap_err()),
            "Provided object does not match schema. Keys ['id'] are not valid for tld"
        );
        assert!(parse(&object("{}"), Some(&shown)).is_ok());
    }
}
