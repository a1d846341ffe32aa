//! `/v2/blacklists`: Designate's zone blacklist, kept as cluster-scoped
//! `Blacklist` objects (the id is the object's uid). Their patterns are
//! searched in the name of every zone created ([`crate::rules`]); callers
//! with `use_blacklisted_zone` are exempt.
//!
//! Checks run in Designate's order: the body (adapter, then `validate()`)
//! before the policy, which Central checks, then storage's unique pattern.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_crd::{
    BLACKLIST_DESCRIPTION_MAX_LEN, BLACKLIST_PATTERN_MAX_LEN, Blacklist, BlacklistSpec, grant,
    names,
};
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

/// Designate's read-only `Blacklist` fields.
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

/// `BlacklistsController`: its sort keys and filters.
const BLACKLISTS: list::Collection = list::Collection {
    sort_keys: &["created_at", "id", "updated_at", "pattern"],
    filters: &["pattern"],
};

/// Whether `pattern` is a regular expression zone names can be searched
/// with. Designate compiles it with Python's `re`; ours is the `regex`
/// crate Central evaluates with, so what is accepted can be applied
/// (Python-only syntax, such as look-arounds, is refused).
pub(crate) fn is_pattern(pattern: &str) -> bool {
    !pattern.is_empty() && regex::Regex::new(pattern).is_ok()
}

/// `DenylistFields(maxLength)`: a string, not too long, and a regular
/// expression (Designate checks the description that way too).
fn denylist_field(field: &str, value: &Value, max_len: usize) -> Result<Option<String>, ApiError> {
    let Some(text) = coerce_string(field, value)? else {
        return Ok(None);
    };
    if text.chars().count() > max_len {
        return Err(value_error(&format!("Value too long for {field}")));
    }
    if !is_pattern(&text) {
        return Err(value_error(&format!(
            "{text} is not a valid regular expression"
        )));
    }
    Ok(Some(text))
}

/// What a create or update body sets.
#[derive(Debug, Default, PartialEq)]
struct BlacklistInput {
    pattern: Option<String>,
    /// `Some(None)`: cleared.
    description: Option<Option<String>>,
}

/// `BlacklistAPIv2Adapter.parse` then `Blacklist.validate()`, on a new
/// blacklist (`None`) or the one updated (its read-only fields as rendered).
fn parse(body: &Map<String, Value>, existing: Option<&Value>) -> Result<BlacklistInput, ApiError> {
    let mut input = BlacklistInput::default();
    let mut refused = Vec::new();
    for (key, value) in body {
        match key.as_str() {
            "pattern" => {
                let pattern = denylist_field("pattern", value, BLACKLIST_PATTERN_MAX_LEN)?
                    .ok_or_else(|| value_error("Field `pattern' cannot be None"))?;
                input.pattern = Some(pattern);
            }
            "description" => {
                input.description = Some(denylist_field(
                    "description",
                    value,
                    BLACKLIST_DESCRIPTION_MAX_LEN,
                )?);
            }
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
            "Provided object does not match schema. Keys [{keys}] are not valid for blacklist"
        )));
    }
    if existing.is_none() && input.pattern.is_none() {
        return Err(ApiError::schema(
            json!(["records", 0]),
            "'pattern' is a required property".into(),
            "required",
            json!(["pattern"]),
        ));
    }
    Ok(input)
}

fn duplicate_blacklist() -> ApiError {
    ApiError::new(409, "duplicate_blacklist", "Duplicate Blacklist")
}

fn blacklist_not_found() -> ApiError {
    ApiError::new(404, "blacklist_not_found", "Could not find Blacklist")
}

impl Api {
    /// Whether another blacklist has `pattern`: the unique key compares
    /// case-insensitively (MySQL's collation).
    fn pattern_taken(&self, pattern: &str, except: Option<&str>) -> bool {
        self.cache
            .blacklists
            .tree_named(&pattern.to_lowercase())
            .iter()
            .any(|b| Some(grant::id_of(&b.metadata)) != except)
    }

    /// A blacklist by the id in a path, after the policy check `rule`.
    fn find_blacklist(
        &self,
        caller: &Caller,
        rule: &str,
        id: &str,
    ) -> Result<Arc<Blacklist>, ApiError> {
        check_uuid("blacklist_id", id)?;
        caller.require(rule, &Target::new())?;
        self.cache
            .blacklists
            .get(id)
            .ok_or_else(blacklist_not_found)
    }

    fn blacklist_api(&self) -> kube::Api<Blacklist> {
        kube::Api::all(self.client.clone())
    }
}

/// A blacklist as Designate renders it.
#[derive(Serialize)]
struct BlacklistJson<'a> {
    id: &'a str,
    pattern: &'a str,
    description: Option<&'a str>,
    created_at: Option<String>,
    updated_at: Option<String>,
    links: Links,
}

/// The blacklist in its `dns.blacklist.*` notifications.
pub fn notice(blacklist: &Blacklist) -> Value {
    notice_payload(render(blacklist, ""))
}

fn render<'a>(blacklist: &'a Blacklist, base: &str) -> BlacklistJson<'a> {
    let id = grant::id_of(&blacklist.metadata);
    BlacklistJson {
        id,
        pattern: &blacklist.spec.pattern,
        description: blacklist.spec.description.as_deref(),
        created_at: blacklist.metadata.creation_timestamp.as_ref().map(datetime),
        updated_at: updated_at(blacklist),
        links: Links {
            self_: format!("{base}/v2/blacklists/{id}"),
        },
    }
}

/// A blacklist as lists filter and sort it.
struct BlacklistView(Arc<Blacklist>);

impl list::Listed for BlacklistView {
    fn id(&self) -> &str {
        grant::id_of(&self.0.metadata)
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        let micros = |t: Option<Timestamp>| list::Field::Int(t.map(|t| t.as_microsecond()));
        match key {
            "pattern" => list::Field::Text(Some(&self.0.spec.pattern)),
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
    let query = Query::parse(&query_pairs(raw.as_deref()), &BLACKLISTS)?;
    caller.require("find_blacklists", &Target::new())?;
    let views: Vec<BlacklistView> = api
        .cache
        .blacklists
        .all()
        .into_iter()
        .map(BlacklistView)
        .collect();
    let base = base_url(&headers);
    page_answer("blacklists", views, &query, &headers, &uri, |b| {
        json!(render(&b.0, &base))
    })
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let blacklist = api.find_blacklist(&caller, "get_blacklist", &id)?;
    Ok(axum::Json(render(&blacklist, &base_url(&headers))).into_response())
}

pub async fn create(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let body = body::object(&headers, &payload)?;
    let input = parse(&body, None)?;
    caller.require("create_blacklist", &Target::new())?;
    let pattern = input.pattern.unwrap_or_default();
    if api.pattern_taken(&pattern, None) {
        return Err(duplicate_blacklist());
    }
    let blacklist = Blacklist::new(
        &names::blacklist(&pattern),
        BlacklistSpec {
            pattern,
            description: input.description.flatten(),
        },
    );
    let taken = async |b: &Blacklist| Ok(api.pattern_taken(&b.spec.pattern, None));
    let made = create_readable(
        &api.blacklist_api(),
        &api.cache.blacklists,
        blacklist,
        "blacklist",
        taken,
        duplicate_blacklist,
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
    check_uuid("blacklist_id", &id)?;
    let body = body::object(&headers, &payload)?;
    let blacklist = api.find_blacklist(&caller, "get_blacklist", &id)?;
    let base = base_url(&headers);
    let shown = serde_json::to_value(render(&blacklist, &base)).map_err(ApiError::unknown)?;
    let input = parse(&body, Some(&shown))?;
    caller.require("update_blacklist", &Target::new())?;
    if let Some(pattern) = &input.pattern
        && api.pattern_taken(pattern, Some(&id))
    {
        return Err(duplicate_blacklist());
    }
    let mut spec = Map::new();
    if let Some(pattern) = input.pattern {
        spec.insert("pattern".into(), json!(pattern));
    }
    if let Some(description) = input.description {
        spec.insert("description".into(), json!(description));
    }
    let patched = merge_patch(
        &api.blacklist_api(),
        &api.cache.blacklists,
        (&id, &blacklist.name_any()),
        Map::new(),
        spec,
        blacklist_not_found,
    )
    .await?;
    Ok(axum::Json(render(&patched, &base)).into_response())
}

pub async fn delete(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let blacklist = api.find_blacklist(&caller, "delete_blacklist", &id)?;
    match api
        .blacklist_api()
        .delete(&blacklist.name_any(), &DeleteParams::default())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => return Err(blacklist_not_found()),
        Err(error) => return Err(error.into()),
    }
    api.cache.blacklists.wait_for_delete(&id, None).await;
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
    fn an_invalid_regex_gets_designates_message() {
        // Golden 121.
        assert_eq!(
            message(parse(&object(r#"{"pattern": "(unclosed"}"#), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message (unclosed is not a valid regular expression"
        );
        // Tempest's invalid patterns.
        for pattern in ["", "#(*&^%$%$#@$"] {
            let body = json!({ "pattern": pattern });
            let error = parse(body.as_object().unwrap(), None).unwrap_err();
            assert_eq!(error.type_, "invalid_object", "{pattern}");
        }
        let long = json!({ "pattern": "a".repeat(1000) });
        assert_eq!(
            message(parse(long.as_object().unwrap(), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message Value too long for pattern"
        );
    }

    #[test]
    fn the_description_is_a_denylist_field_too() {
        let long = json!({"pattern": "a", "description": "a".repeat(161)});
        assert_eq!(
            message(parse(long.as_object().unwrap(), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message Value too long for description"
        );
        assert_eq!(
            message(parse(&object(r#"{"pattern": "a", "description": "("}"#), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message ( is not a valid regular expression"
        );
        assert_eq!(
            parse(&object(r#"{"pattern": "a", "description": null}"#), None).unwrap(),
            BlacklistInput {
                pattern: Some("a".into()),
                description: Some(None)
            }
        );
    }

    #[test]
    fn bodies_get_designates_errors() {
        assert_eq!(
            message(parse(&object(r#"{"pattern": "a", "bogus": 1}"#), None).unwrap_err()),
            "Provided object does not match schema. Keys ['bogus'] are not valid for blacklist"
        );
        assert_eq!(
            message(parse(&object(r#"{"pattern": null}"#), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message Field `pattern' cannot be None"
        );
        assert_eq!(
            message(parse(&object(r#"{"id": "x", "pattern": "a"}"#), None).unwrap_err()),
            "Provided object is not valid. Got a NotImplementedError error with message Cannot load 'id' in the base class"
        );
        let missing = parse(&object(r#"{"description": "x"}"#), None).unwrap_err();
        assert_eq!(
            missing.body("r")["errors"]["errors"][0]["message"],
            "'pattern' is a required property"
        );
    }

    #[test]
    fn updates_may_repeat_read_only_fields_unchanged() {
        let shown = json!({"id": "x", "updated_at": null});
        let ok = parse(&object(r#"{"id": "x", "description": "d"}"#), Some(&shown)).unwrap();
        assert_eq!(ok.description, Some(Some("d".into())));
        assert_eq!(
            message(parse(&object(r#"{"id": "y"}"#), Some(&shown)).unwrap_err()),
            "Provided object does not match schema. Keys ['id'] are not valid for blacklist"
        );
    }

    #[test]
    fn patterns_the_crd_rule_accepts_are_the_ones_the_api_accepts() {
        for pattern in [r"^([A-Za-z0-9_\-]+\.)*blocked\.org\.$", "example", "com.$"] {
            assert!(is_pattern(pattern), "{pattern}");
        }
        for pattern in ["", "(unclosed", "(?!python-only)", "[z-a]"] {
            assert!(!is_pattern(pattern), "{pattern}");
        }
    }

    #[test]
    fn object_names_are_readable_or_a_hash() {
        assert_eq!(names::blacklist("example.com"), "example.com");
        assert!(names::blacklist("^example\\.com\\.$").starts_with("blacklist-"));
        assert_eq!(names::blacklist("^A$"), names::blacklist("^a$"));
    }
}
