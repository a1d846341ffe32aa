//! `/v2/tsigkeys`: Designate's TSIG keys, kept as cluster-scoped `TsigKey`
//! objects (the id is the object's uid) whose secret is in a Secret of the
//! operator's namespace (key `secret`), owned by the key. Designate 23
//! renders the secret in every answer; it is never in the `TsigKey`, nor in
//! a log line.
//!
//! Checks run in Designate's order: the body (adapter, then `validate()`)
//! before the policy, which Central checks, then the key's pool or zone,
//! then storage's unique name.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_crd::{
    TSIG_NAME_MAX_LEN, TSIG_SECRET_KEY, TSIG_SECRET_MAX_LEN, TsigAlgorithm, TsigKey, TsigKeySpec,
    TsigScope, TsigSecretRef, grant, names,
};
use designate_identity::policy::Target;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::cache::FIELD_MANAGER;
use crate::error::ApiError;
use crate::fields::{UPDATED_AT, python_text, python_type, updated_at, value_error};
use crate::list::{self, Collection, Query};
use crate::render::{Links, datetime, notice_payload};
use crate::writes::{create_readable, merge_patch};
use crate::zones::{check_uuid, created, page_answer, query_pairs};
use crate::{Api, Shared, base_url, body};

/// The label of the Secrets that hold TSIG secrets.
pub use designate_crd::TSIG_SECRET_LABEL as SECRET_LABEL;

/// `[service:api] allow_empty_secrets_for_tsig`, as Designate's CI (and
/// the reference run) sets it.
const ALLOW_EMPTY_SECRETS: bool = false;

/// Designate's read-only `TsigKey` fields.
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

/// `TsigKeysController`'s sort keys and filters.
const TSIGKEYS: Collection = Collection {
    sort_keys: &["created_at", "id", "updated_at", "name"],
    filters: &["name", "algorithm", "scope"],
};

/// Designate's `ENUM` columns sort in declaration order.
const ALGORITHM_ORDER: &[&str] = &[
    "hmac-md5",
    "hmac-sha1",
    "hmac-sha224",
    "hmac-sha256",
    "hmac-sha384",
    "hmac-sha512",
];
const SCOPE_ORDER: &[&str] = &["POOL", "ZONE"];

/// The adapter's error for a field whose `coerce()` raised a TypeError.
fn type_error(message: &str) -> ApiError {
    ApiError::invalid_object(format!(
        "Provided object is not valid. Got a TypeError with message {message}"
    ))
}

/// `StringFields(nullable=False, maxLength=...)`: numbers and booleans
/// become their Python text.
fn coerce_string(field: &str, value: &Value, max_len: usize) -> Result<String, ApiError> {
    let text = match value {
        Value::Null => return Err(value_error(&format!("Field `{field}' cannot be None"))),
        Value::Array(_) | Value::Object(_) => {
            return Err(value_error(&format!(
                "A string is required in field {field}, not a {}",
                python_type(value)
            )));
        }
        other => python_text(other),
    };
    if text.chars().count() > max_len {
        return Err(value_error(&format!("Value too long for {field}")));
    }
    Ok(text)
}

/// `EnumField`: the value must be one of the valid ones exactly.
fn coerce_enum<T>(field: &str, value: &Value, parse: fn(&str) -> Option<T>) -> Result<T, ApiError> {
    match value {
        Value::Null => Err(value_error(&format!("Field `{field}' cannot be None"))),
        Value::String(s) => {
            parse(s).ok_or_else(|| value_error(&format!("Field value {s} is invalid")))
        }
        other => Err(value_error(&format!(
            "Field value {} is invalid",
            python_text(other)
        ))),
    }
}

/// A UUID as Python's `uuid.UUID(hex=...)` reads it: `urn:`/`uuid:`
/// prefixes, braces and hyphens dropped, then 32 hex digits.
fn parse_uuid_hex(text: &str) -> Option<uuid::Uuid> {
    let hex = text.replace("urn:", "").replace("uuid:", "");
    let hex = hex.trim_matches(|c| c == '{' || c == '}').replace('-', "");
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    uuid::Uuid::parse_str(&hex).ok()
}

/// Designate's `UUIDFields` coercion: an integer that fits 128 bits, or a
/// UUID in hex. The id is kept canonical (as storage gives it back);
/// integers are kept as given and match nothing.
fn coerce_uuid(field: &str, value: &Value) -> Result<String, ApiError> {
    match value {
        Value::Null => Err(value_error(&format!("Field `{field}' cannot be None"))),
        Value::String(s) => {
            let digits = s.trim();
            let digits = digits.strip_prefix('+').unwrap_or(digits);
            if !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && digits.parse::<u128>().is_ok()
            {
                return Ok(s.clone());
            }
            parse_uuid_hex(s)
                .map(|id| id.hyphenated().to_string())
                .ok_or_else(|| value_error("badly formed hexadecimal UUID string"))
        }
        Value::Bool(_) => Ok(python_text(value)),
        Value::Number(n) if n.as_u64().is_some() || n.is_f64() => Ok(n.to_string()),
        Value::Number(_) => Err(ApiError::invalid_object(
            "Provided object is not valid. Got an AttributeError with message 'int' object has no attribute 'replace'",
        )),
        other => Err(type_error(&format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            python_type(other)
        ))),
    }
}

/// What a create or update body sets.
#[derive(Debug, Default, PartialEq)]
struct KeyInput {
    name: Option<String>,
    algorithm: Option<TsigAlgorithm>,
    secret: Option<String>,
    scope: Option<TsigScope>,
    resource_id: Option<String>,
}

/// `TsigKeyAPIv2Adapter.parse` then `TsigKey.validate()`, on a new key
/// (`existing: None`) or on the one updated (its fields as rendered).
fn parse(body: &Map<String, Value>, existing: Option<&Value>) -> Result<KeyInput, ApiError> {
    let mut input = KeyInput::default();
    let mut refused = Vec::new();
    for (key, value) in body {
        match key.as_str() {
            "name" => input.name = Some(coerce_string("name", value, TSIG_NAME_MAX_LEN)?),
            "secret" => {
                input.secret = Some(coerce_string("secret", value, TSIG_SECRET_MAX_LEN)?);
            }
            "algorithm" => {
                input.algorithm = Some(coerce_enum("algorithm", value, TsigAlgorithm::from_name)?);
            }
            "scope" => input.scope = Some(coerce_enum("scope", value, TsigScope::from_name)?),
            "resource_id" => input.resource_id = Some(coerce_uuid("resource_id", value)?),
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
            "Provided object does not match schema. Keys [{keys}] are not valid for tsigkey"
        )));
    }
    // `validate()`: the secret first, then the fields a new key must have,
    // in the object's field order.
    let secret = match (&input.secret, existing) {
        (Some(secret), _) => Some(secret.as_str()),
        (None, Some(existing)) => existing.get("secret").and_then(Value::as_str),
        (None, None) => None,
    };
    if !ALLOW_EMPTY_SECRETS && secret.is_none_or(str::is_empty) {
        return Err(ApiError::schema(
            json!(["type"]),
            "'secret' should not be empty".into(),
            "value",
            json!(["secret"]),
        ));
    }
    if existing.is_none() {
        let missing = [
            ("name", input.name.is_none()),
            ("algorithm", input.algorithm.is_none()),
            ("secret", input.secret.is_none()),
            ("scope", input.scope.is_none()),
            ("resource_id", input.resource_id.is_none()),
        ]
        .into_iter()
        .find(|(_, missing)| *missing);
        if let Some((field, _)) = missing {
            // `DesignateObject.validate()`'s error; the adapter appends
            // the field to the path.
            return Err(ApiError::schema(
                json!(["records", 0, field]),
                format!("'{field}' is a required property"),
                "required",
                json!([field]),
            ));
        }
    }
    Ok(input)
}

fn duplicate_tsigkey() -> ApiError {
    ApiError::new(409, "duplicate_tsigkey", "Duplicate TsigKey")
}

fn tsigkey_not_found() -> ApiError {
    ApiError::new(404, "tsigkey_not_found", "Could not find TsigKey")
}

/// A write of a key's Secret failed: said without the API server's
/// message, which could quote the object.
fn secret_write_failed(what: &str, error: &kube::Error) -> ApiError {
    let detail = match error {
        kube::Error::Api(status) => format!("{what}: {} {}", status.code, status.reason),
        _ => format!("{what}: the API server could not be reached"),
    };
    ApiError::unknown(detail)
}

impl Api {
    /// Whether another key has `name`: the table's unique key compares
    /// case-insensitively (MySQL's collation).
    fn tsigkey_taken(&self, name: &str, except: Option<&str>) -> bool {
        self.cache
            .tsigkeys
            .tree_named(&name.to_ascii_lowercase())
            .iter()
            .any(|key| Some(grant::id_of(&key.metadata)) != except)
    }

    /// A key by the id in a path, after `rule`'s policy check.
    fn find_tsigkey(
        &self,
        caller: &Caller,
        rule: &str,
        id: &str,
    ) -> Result<Arc<TsigKey>, ApiError> {
        check_uuid("tsigkey_id", id)?;
        caller.require(rule, &Target::new())?;
        self.cache.tsigkeys.get(id).ok_or_else(tsigkey_not_found)
    }

    /// Central's check that the key's resource is a pool or a zone (of any
    /// project) as its scope says.
    fn check_tsig_resource(&self, scope: TsigScope, id: &str) -> Result<(), ApiError> {
        let (exists, kind) = match scope {
            TsigScope::Zone => (self.cache.zones.get(id).is_some(), "zone"),
            TsigScope::Pool => (self.cache.pools.get(id).is_some(), "pool"),
        };
        if exists {
            return Ok(());
        }
        Err(ApiError::new(
            400,
            "invalid_tsigkey",
            format!("Resource ID {id} is not a valid {kind}"),
        ))
    }

    /// The secret of a key, from its Secret.
    fn tsig_secret(&self, key: &TsigKey) -> Option<String> {
        let secret = self
            .cache
            .tsig_secrets
            .first_in_group(&key.spec.secret_ref.name)?;
        let bytes = secret.data.as_ref()?.get(TSIG_SECRET_KEY)?;
        Some(String::from_utf8_lossy(&bytes.0).into_owned())
    }

    fn tsigkey_api(&self) -> kube::Api<TsigKey> {
        kube::Api::all(self.client.clone())
    }

    fn secret_api(&self) -> kube::Api<Secret> {
        kube::Api::namespaced(self.client.clone(), &self.settings.namespace)
    }

    /// Writes a key's Secret: its secret, labelled and owned by the key.
    async fn write_tsig_secret(&self, key: &TsigKey, secret: &str) -> Result<(), ApiError> {
        let name = &key.spec.secret_ref.name;
        let object = designate_crd::tsig_secret(key, &self.settings.namespace, secret);
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        let patch = json!({
            "metadata": {
                "labels": object.metadata.labels,
                "ownerReferences": object.metadata.owner_references,
            },
            "data": object.data,
        });
        let written = match self
            .secret_api()
            .patch(name, &params, &Patch::Merge(&patch))
            .await
        {
            Ok(written) => written,
            Err(kube::Error::Api(e)) if e.code == 404 => {
                let params = PostParams {
                    field_manager: Some(FIELD_MANAGER.into()),
                    ..PostParams::default()
                };
                self.secret_api()
                    .create(&params, &object)
                    .await
                    .map_err(|e| secret_write_failed("creating a TSIG key's Secret", &e))?
            }
            Err(error) => {
                return Err(secret_write_failed("updating a TSIG key's Secret", &error));
            }
        };
        self.cache
            .tsig_secrets
            .wait_for(
                written.metadata.uid.as_deref().unwrap_or_default(),
                written.metadata.resource_version.as_deref(),
            )
            .await;
        Ok(())
    }

    /// Deletes a key's Secret when the key owns it (one made by REST, or
    /// marked so): a Secret an operator named is left alone.
    async fn delete_tsig_secret(&self, key: &TsigKey) {
        let name = &key.spec.secret_ref.name;
        let Some(secret) = self.cache.tsig_secrets.first_in_group(name) else {
            return;
        };
        let owned = secret
            .owner_references()
            .iter()
            .any(|owner| Some(&owner.uid) == key.metadata.uid.as_ref());
        if !owned {
            return;
        }
        match self
            .secret_api()
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            // The key is gone; its owner reference lets a cluster's garbage
            // collector take the Secret.
            Err(error) => {
                let _ = secret_write_failed("deleting a TSIG key's Secret", &error);
            }
        }
        let uid = secret.metadata.uid.clone().unwrap_or_default();
        self.cache.tsig_secrets.wait_for_delete(&uid, None).await;
    }
}

/// A key as Designate renders it, secret and all.
#[derive(Serialize)]
struct KeyJson<'a> {
    id: &'a str,
    name: &'a str,
    algorithm: &'static str,
    secret: Option<String>,
    scope: &'static str,
    resource_id: &'a str,
    created_at: Option<String>,
    updated_at: Option<String>,
    links: Links,
}

fn render<'a>(key: &'a TsigKey, secret: Option<String>, base: &str) -> KeyJson<'a> {
    let id = grant::id_of(&key.metadata);
    KeyJson {
        id,
        name: &key.spec.name,
        algorithm: key.spec.algorithm.as_str(),
        secret,
        scope: key.spec.scope.as_str(),
        resource_id: &key.spec.resource_id,
        created_at: key.metadata.creation_timestamp.as_ref().map(datetime),
        updated_at: updated_at(key),
        links: Links {
            self_: format!("{base}/v2/tsigkeys/{id}"),
        },
    }
}

/// The key in its `dns.tsigkey.*` notifications. Designate sends the
/// secret too; here it never leaves its Secret.
pub fn notice(key: &TsigKey) -> Value {
    let mut payload = notice_payload(render(key, None, ""));
    if let Some(fields) = payload.as_object_mut() {
        fields.remove("secret");
    }
    payload
}

/// A key as lists filter and sort it.
struct KeyView(Arc<TsigKey>);

impl list::Listed for KeyView {
    fn id(&self) -> &str {
        grant::id_of(&self.0.metadata)
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        let micros = |t: Option<Timestamp>| list::Field::Int(t.map(|t| t.as_microsecond()));
        match key {
            "name" => list::Field::Text(Some(&self.0.spec.name)),
            "id" => list::Field::Text(Some(grant::id_of(&self.0.metadata))),
            "algorithm" => list::Field::Enum(self.0.spec.algorithm.as_str(), ALGORITHM_ORDER),
            "scope" => list::Field::Enum(self.0.spec.scope.as_str(), SCOPE_ORDER),
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
    let query = Query::parse(&query_pairs(raw.as_deref()), &TSIGKEYS)?;
    caller.require("find_tsigkeys", &Target::new())?;
    let views: Vec<KeyView> = api.cache.tsigkeys.all().into_iter().map(KeyView).collect();
    let base = base_url(&headers);
    page_answer("tsigkeys", views, &query, &headers, &uri, |k| {
        json!(render(&k.0, api.tsig_secret(&k.0), &base))
    })
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let key = api.find_tsigkey(&caller, "get_tsigkey", &id)?;
    let secret = api.tsig_secret(&key);
    Ok(axum::Json(render(&key, secret, &base_url(&headers))).into_response())
}

pub async fn create(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let body = body::object(&headers, &payload)?;
    let input = parse(&body, None)?;
    caller.require("create_tsigkey", &Target::new())?;
    // `parse` saw to it that a new key has every field.
    let (Some(name), Some(algorithm), Some(secret), Some(scope), Some(resource_id)) = (
        input.name,
        input.algorithm,
        input.secret,
        input.scope,
        input.resource_id,
    ) else {
        return Err(ApiError::unknown("a parsed TSIG key lacks a field"));
    };
    api.check_tsig_resource(scope, &resource_id)?;
    if api.tsigkey_taken(&name, None) {
        return Err(duplicate_tsigkey());
    }
    let key = TsigKey::new(
        &names::tsigkey(&name),
        TsigKeySpec {
            name,
            algorithm,
            scope,
            resource_id,
            secret_ref: TsigSecretRef {
                name: format!("tsigkey-{}", uuid::Uuid::new_v4()),
            },
        },
    );
    let taken = async |key: &TsigKey| Ok(api.tsigkey_taken(&key.spec.name, None));
    let made = create_readable(
        &api.tsigkey_api(),
        &api.cache.tsigkeys,
        key,
        "tsigkey",
        taken,
        duplicate_tsigkey,
    )
    .await?;
    if let Err(error) = api.write_tsig_secret(&made, &secret).await {
        // No key without its secret.
        let _ = api
            .tsigkey_api()
            .delete(&made.name_any(), &DeleteParams::default())
            .await;
        return Err(error);
    }
    let body = render(&made, Some(secret), &base_url(&headers));
    Ok(created(StatusCode::CREATED, &body.links, &body))
}

pub async fn update(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    check_uuid("tsigkey_id", &id)?;
    let body = body::object(&headers, &payload)?;
    let key = api.find_tsigkey(&caller, "get_tsigkey", &id)?;
    let base = base_url(&headers);
    let current_secret = api.tsig_secret(&key);
    let shown = serde_json::to_value(render(&key, current_secret.clone(), &base))
        .map_err(ApiError::unknown)?;
    let input = parse(&body, Some(&shown))?;
    caller.require("update_tsigkey", &Target::new())?;
    // Central checks the resource again when either was set.
    if input.scope.is_some() || input.resource_id.is_some() {
        let scope = input.scope.unwrap_or(key.spec.scope);
        let resource_id = input
            .resource_id
            .as_deref()
            .unwrap_or(&key.spec.resource_id);
        api.check_tsig_resource(scope, resource_id)?;
    }
    if let Some(name) = &input.name
        && api.tsigkey_taken(name, Some(&id))
    {
        return Err(duplicate_tsigkey());
    }
    if let Some(secret) = &input.secret
        && current_secret.as_ref() != Some(secret)
    {
        api.write_tsig_secret(&key, secret).await?;
    }
    let mut spec = Map::new();
    if let Some(name) = input.name {
        spec.insert("name".into(), json!(name));
    }
    if let Some(algorithm) = input.algorithm {
        spec.insert("algorithm".into(), json!(algorithm));
    }
    if let Some(scope) = input.scope {
        spec.insert("scope".into(), json!(scope));
    }
    if let Some(resource_id) = input.resource_id {
        spec.insert("resourceId".into(), json!(resource_id));
    }
    let patched = merge_patch(
        &api.tsigkey_api(),
        &api.cache.tsigkeys,
        (&id, &key.name_any()),
        Map::new(),
        spec,
        tsigkey_not_found,
    )
    .await?;
    let secret = api.tsig_secret(&patched);
    Ok(axum::Json(render(&patched, secret, &base)).into_response())
}

pub async fn delete(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let key = api.find_tsigkey(&caller, "delete_tsigkey", &id)?;
    match api
        .tsigkey_api()
        .delete(&key.name_any(), &DeleteParams::default())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => return Err(tsigkey_not_found()),
        Err(error) => return Err(error.into()),
    }
    api.delete_tsig_secret(&key).await;
    api.cache.tsigkeys.wait_for_delete(&id, None).await;
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

    const ZONE: &str = "794ccc2c-d751-44fe-b57f-8894c9f5c842";

    fn full(extra: &str) -> String {
        format!(
            r#"{{"name": "k", "algorithm": "hmac-sha256", "secret": "s", "scope": "POOL", "resource_id": "{ZONE}"{extra}}}"#
        )
    }

    #[test]
    fn a_full_body_parses() {
        assert_eq!(
            parse(&object(&full("")), None).unwrap(),
            KeyInput {
                name: Some("k".into()),
                algorithm: Some(TsigAlgorithm::HmacSha256),
                secret: Some("s".into()),
                scope: Some(TsigScope::Pool),
                resource_id: Some(ZONE.into()),
            }
        );
    }

    #[test]
    fn bodies_get_designates_errors() {
        let bogus = full("").replace("hmac-sha256", "hmac-bogus");
        assert_eq!(
            message(parse(&object(&bogus), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message Field value hmac-bogus is invalid"
        );
        let scope = full("").replace("POOL", "zababun");
        assert_eq!(
            message(parse(&object(&scope), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message Field value zababun is invalid"
        );
        let long = full("").replace(
            r#""name": "k""#,
            &format!(r#""name": "{}""#, "k".repeat(161)),
        );
        assert_eq!(
            message(parse(&object(&long), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message Value too long for name"
        );
        let bad_id = full("").replace(ZONE, "not-a-uuid");
        assert_eq!(
            message(parse(&object(&bad_id), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message badly formed hexadecimal UUID string"
        );
        assert_eq!(
            message(parse(&object(&full(r#", "bogus": 1"#)), None).unwrap_err()),
            "Provided object does not match schema. Keys ['bogus'] are not valid for tsigkey"
        );
        let null = full("").replace(r#""secret": "s""#, r#""secret": null"#);
        assert_eq!(
            message(parse(&object(&null), None).unwrap_err()),
            "Provided object is not valid. Got a ValueError error with message Field `secret' cannot be None"
        );
    }

    #[test]
    fn empty_secrets_are_refused() {
        for body in [
            full("").replace(r#""secret": "s""#, r#""secret": """#),
            full("").replace(r#""secret": "s", "#, ""),
        ] {
            let error = parse(&object(&body), None).unwrap_err();
            assert_eq!(
                error.body("r")["errors"]["errors"][0],
                json!({"path": ["type"], "message": "'secret' should not be empty",
                       "validator": "value", "validator_value": ["secret"]}),
                "{body}"
            );
        }
    }

    #[test]
    fn missing_fields_are_required_in_field_order() {
        let error = parse(&object(r#"{"secret": "s", "scope": "ZONE"}"#), None).unwrap_err();
        assert_eq!(
            error.body("r")["errors"]["errors"][0],
            json!({"path": ["records", 0, "name"], "message": "'name' is a required property",
                   "validator": "required", "validator_value": ["name"]})
        );
        let error = parse(
            &object(r#"{"name": "k", "algorithm": "hmac-md5", "secret": "s", "scope": "ZONE"}"#),
            None,
        )
        .unwrap_err();
        assert_eq!(
            error.body("r")["errors"]["errors"][0]["validator_value"],
            json!(["resource_id"])
        );
    }

    #[test]
    fn updates_keep_what_they_do_not_set() {
        let shown = json!({"id": "x", "secret": "old", "created_at": "2026-01-01T00:00:00.000000",
                           "updated_at": null});
        let ok = parse(&object(r#"{"secret": "NewSecret"}"#), Some(&shown)).unwrap();
        assert_eq!(ok.secret.as_deref(), Some("NewSecret"));
        assert_eq!(ok.name, None);
        assert!(parse(&object(r#"{"id": "x", "name": "n"}"#), Some(&shown)).is_ok());
        assert_eq!(
            message(parse(&object(r#"{"id": "y"}"#), Some(&shown)).unwrap_err()),
            "Provided object does not match schema. Keys ['id'] are not valid for tsigkey"
        );
        let empty = parse(&object(r#"{"secret": ""}"#), Some(&shown)).unwrap_err();
        assert_eq!(
            empty.body("r")["errors"]["errors"][0]["path"],
            json!(["type"])
        );
    }

    #[test]
    fn resource_ids_are_read_as_python_reads_uuids() {
        let id = |v: Value| coerce_uuid("resource_id", &v);
        assert_eq!(
            id(json!("{794CCC2C-D751-44FE-B57F-8894C9F5C842}")).unwrap(),
            ZONE
        );
        assert_eq!(id(json!("794ccc2cd75144feb57f8894c9f5c842")).unwrap(), ZONE);
        assert_eq!(id(json!("123")).unwrap(), "123");
        assert_eq!(id(json!(5)).unwrap(), "5");
        assert!(id(json!("")).is_err());
        assert!(id(json!(null)).is_err());
        assert!(id(json!([])).is_err());
    }

    #[test]
    fn object_names_are_the_name_or_a_hash() {
        assert_eq!(names::tsigkey("golden-key-1"), "golden-key-1");
        assert!(names::tsigkey("Patch tsigkey").starts_with("tsigkey-"));
    }
}
