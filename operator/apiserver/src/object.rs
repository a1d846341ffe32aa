//! Pure admission logic for one write: what kube-apiserver's REST strategy,
//! ObjectMeta validation and structural-schema handling do to an object
//! before it is stored. No IO and no locking here; `store` orchestrates.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, Cause};
use crate::registry::ResourceType;
use crate::schema;

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn parse(text: Option<&str>) -> Result<Self, ApiError> {
        match text {
            None | Some("") | Some("Warn") => Ok(Self::Warn),
            Some("Ignore") => Ok(Self::Ignore),
            Some("Strict") => Ok(Self::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}"
            ))),
        }
    }
}

const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

static SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$").unwrap()
});
static LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").unwrap());

/// Accessors on the `metadata` of a JSON object.
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Result of admitting a body: the object to store and warnings to return.
pub struct Admitted {
    pub object: Value,
    pub warnings: Vec<String>,
}

/// Checks and normalises a request body for `rt`: kind, metadata shape,
/// schema pruning, defaults, schema validation. `name` is the name the
/// object will have. An update passes the stored object as `old`: a field
/// it leaves as it was is not refused for breaking a bound the schema
/// gained since (kube-apiserver's CRD validation ratcheting), so objects
/// stored under an older schema can still have their status written.
pub fn admit(
    rt: &ResourceType,
    mut obj: Value,
    name: &str,
    validation: FieldValidation,
    old: Option<&Value>,
) -> Result<Admitted, ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: the object must be a JSON object",
            rt.kind, rt.version, rt.kind
        )));
    }
    check_type_meta(rt, &mut obj)?;
    let mut unknown = Vec::new();
    normalise_metadata(rt, &mut obj, &mut unknown)?;
    // Decode (prune, strict check), default, then validate: the order of
    // kube-apiserver, so a strict decoding error wins over a 422.
    let mut causes = Vec::new();
    if let Some(schema) = &rt.schema {
        let meta = obj.as_object_mut().and_then(|m| m.remove("metadata"));
        for k in ["apiVersion", "kind"] {
            obj.as_object_mut().map(|m| m.remove(k));
        }
        schema::prune(schema, &mut obj, "", &mut unknown);
        schema::apply_defaults(schema, &mut obj);
        match old {
            Some(old) => schema::validate_update(schema, &obj, old, &mut causes),
            None => schema::validate(schema, &obj, "", &mut causes),
        }
        if let Some(old) = old {
            causes.retain(|cause| {
                schema::at_path(old, &cause.field) != schema::at_path(&obj, &cause.field)
            });
        }
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        if let Some(meta) = meta {
            obj["metadata"] = meta;
        }
    }
    if validation == FieldValidation::Strict && !unknown.is_empty() {
        return Err(strict_error(rt, &unknown));
    }
    if rt.key() == "/secrets" {
        default_secret(&mut obj);
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(&rt.group, &rt.kind, name, causes));
    }
    let warnings = match validation {
        FieldValidation::Warn => unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Admitted {
        object: obj,
        warnings,
    })
}

/// A Secret's write-only `stringData` merges into `data`; `type` defaults
/// to Opaque.
fn default_secret(obj: &mut Value) {
    if let Some(Value::Object(strings)) = obj.as_object_mut().and_then(|m| m.remove("stringData")) {
        let data = obj
            .as_object_mut()
            .expect("object")
            .entry("data")
            .or_insert_with(|| json!({}));
        for (key, value) in strings {
            let text = value.as_str().unwrap_or_default();
            data[key] = json!(crate::proto::base64(text.as_bytes()));
        }
    }
    if obj.get("type").is_none_or(|t| t.is_null() || t == "") {
        obj["type"] = json!("Opaque");
    }
}

fn strict_error(rt: &ResourceType, unknown: &[String]) -> ApiError {
    let fields: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    ApiError::bad_request(format!(
        "{kind} in version \"{v}\" cannot be handled as a {kind}: strict decoding error: {}",
        fields.join(", "),
        kind = rt.kind,
        v = rt.version
    ))
}

fn check_type_meta(rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    let want = rt.api_version();
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => obj["apiVersion"] = json!(want),
        Some(got) if got != want => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({got}) does not match the expected API version ({want})"
            )));
        }
        Some(_) => {}
    }
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => obj["kind"] = json!(rt.kind),
        Some(got) if got != rt.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({got}) does not match the expected kind ({})",
                rt.kind
            )));
        }
        Some(_) => {}
    }
    Ok(())
}

/// Decodes metadata as ObjectMeta would: unknown fields pruned, string maps
/// checked, empty lists and maps dropped (Go's omitempty).
fn normalise_metadata(
    rt: &ResourceType,
    obj: &mut Value,
    unknown: &mut Vec<String>,
) -> Result<(), ApiError> {
    if obj
        .get("metadata")
        .is_some_and(|m| !m.is_object() && !m.is_null())
    {
        return Err(decode_error(rt, "metadata", "object"));
    }
    let meta = metadata_mut(obj);
    meta.retain(|k, _| {
        let known = OBJECT_META_FIELDS.contains(&k.as_str());
        if !known {
            unknown.push(format!("metadata.{k}"));
        }
        known
    });
    meta.retain(|_, v| !v.is_null());
    for field in ["labels", "annotations"] {
        if let Some(map) = meta.get(field) {
            let ok = map
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string));
            if !ok {
                return Err(decode_error(
                    rt,
                    &format!("metadata.{field}"),
                    "map[string]string",
                ));
            }
        }
    }
    if let Some(list) = meta.get("finalizers") {
        let ok = list
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(decode_error(rt, "metadata.finalizers", "[]string"));
        }
    }
    for field in [
        "name",
        "generateName",
        "namespace",
        "resourceVersion",
        "uid",
    ] {
        if meta.get(field).is_some_and(|v| !v.is_string()) {
            return Err(decode_error(rt, &format!("metadata.{field}"), "string"));
        }
    }
    meta.retain(|_, v| match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::String(s) => !s.is_empty(),
        _ => true,
    });
    meta.remove("managedFields");
    meta.remove("selfLink");
    if !rt.namespaced {
        meta.remove("namespace");
    }
    Ok(())
}

fn decode_error(rt: &ResourceType, field: &str, want: &str) -> ApiError {
    ApiError::bad_request(format!(
        "{kind} in version \"{v}\" cannot be handled as a {kind}: json: cannot unmarshal {field} into Go value of type {want}",
        kind = rt.kind,
        v = rt.version
    ))
}

/// 422 unless `name` is a valid object name for `rt`.
pub fn validate_name(rt: &ResourceType, name: &str) -> Result<(), ApiError> {
    let (ok, what, max) = if rt.plural == "namespaces" {
        (LABEL.is_match(name), "a lowercase RFC 1123 label", 63)
    } else {
        (
            SUBDOMAIN.is_match(name),
            "a lowercase RFC 1123 subdomain",
            253,
        )
    };
    let message = if name.is_empty() {
        return Err(ApiError::invalid(
            &rt.group,
            &rt.kind,
            name,
            vec![Cause {
                reason: "FieldValueRequired",
                field: "metadata.name".into(),
                message: "Required value: name or generateName is required".into(),
            }],
        ));
    } else if name.len() > max {
        format!("Invalid value: {name:?}: must be no more than {max} characters")
    } else if !ok {
        format!(
            "Invalid value: {name:?}: {what} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        )
    } else {
        return Ok(());
    };
    Err(ApiError::invalid(
        &rt.group,
        &rt.kind,
        name,
        vec![Cause {
            reason: "FieldValueInvalid",
            field: "metadata.name".into(),
            message,
        }],
    ))
}

/// Sets the server-owned metadata of a new object.
pub fn prepare_create(rt: &ResourceType, obj: &mut Value, name: &str, namespace: Option<&str>) {
    if rt.status_subresource && rt.custom {
        obj.as_object_mut().map(|m| m.remove("status"));
    }
    let meta = metadata_mut(obj);
    meta.insert("name".into(), json!(name));
    if let Some(ns) = namespace {
        meta.insert("namespace".into(), json!(ns));
    }
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
    for k in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "resourceVersion",
    ] {
        meta.remove(k);
    }
    if rt.custom {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
    if rt.plural == "namespaces" {
        obj["spec"] = json!({"finalizers": ["kubernetes"]});
        obj["status"] = json!({"phase": "Active"});
    }
}

/// Which part of an object a write targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Main,
    Status,
}

/// Merges an admitted update into the stored object as kube-apiserver's
/// update strategy does; returns the object to store.
pub fn prepare_update(
    rt: &ResourceType,
    old: &Value,
    new: Value,
    part: Part,
    require_rv: bool,
) -> Result<Value, ApiError> {
    let name = meta_str(old, "name").unwrap_or_default().to_string();
    let conflict = |why: &str| ApiError::conflict(&rt.qualified(), &name, why);
    match meta_str(&new, "resourceVersion") {
        Some(rv) if Some(rv) != meta_str(old, "resourceVersion") => {
            return Err(conflict(
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        None if require_rv && rt.custom => {
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                &name,
                vec![Cause {
                    reason: "FieldValueInvalid",
                    field: "metadata.resourceVersion".into(),
                    message: "Invalid value: 0x0: must be specified for an update".into(),
                }],
            ));
        }
        _ => {}
    }
    if let Some(uid) = meta_str(&new, "uid")
        && Some(uid) != meta_str(old, "uid")
    {
        return Err(conflict(&format!(
            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            meta_str(old, "uid").unwrap_or_default()
        )));
    }
    let mut next = match part {
        Part::Status => {
            let mut next = old.clone();
            match new.get("status") {
                Some(status) => next["status"] = status.clone(),
                None => {
                    next.as_object_mut().map(|m| m.remove("status"));
                }
            }
            next
        }
        Part::Main => {
            let mut next = new;
            if rt.status_subresource {
                match old.get("status") {
                    Some(status) => next["status"] = status.clone(),
                    None => {
                        next.as_object_mut().map(|m| m.remove("status"));
                    }
                }
            }
            let old_meta = old.get("metadata").cloned().unwrap_or_default();
            let meta = metadata_mut(&mut next);
            for k in [
                "name",
                "namespace",
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
            ] {
                match old_meta.get(k) {
                    Some(v) => meta.insert(k.into(), v.clone()),
                    None => meta.remove(k),
                };
            }
            next
        }
    };
    if is_deleting(old) {
        let before = finalizers(old);
        let added: Vec<String> = finalizers(&next)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                &name,
                vec![Cause {
                    reason: "FieldValueForbidden",
                    field: "metadata.finalizers".into(),
                    message: format!(
                        "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"
                    ),
                }],
            ));
        }
    }
    if rt.custom && spec_changed(old, &next) {
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        metadata_mut(&mut next).insert("generation".into(), json!(generation + 1));
    }
    if let Some(rv) = meta_str(old, "resourceVersion") {
        metadata_mut(&mut next).insert("resourceVersion".into(), json!(rv));
    }
    Ok(next)
}

/// Everything but metadata (and status, which never counts) changed?
fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("metadata");
            m.remove("status");
        }
        v
    };
    strip(old) != strip(new)
}

/// Marks an object as being deleted (finalizers pending).
pub fn mark_deleting(rt: &ResourceType, obj: &mut Value) {
    let generation = obj.pointer("/metadata/generation").and_then(Value::as_i64);
    let meta = metadata_mut(obj);
    meta.insert("deletionTimestamp".into(), json!(now_rfc3339()));
    meta.insert("deletionGracePeriodSeconds".into(), json!(0));
    if rt.custom
        && let Some(g) = generation
    {
        meta.insert("generation".into(), json!(g + 1));
    }
    if rt.plural == "namespaces" {
        obj["status"] = json!({"phase": "Terminating"});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone_type() -> ResourceType {
        let mut registry = crate::registry::Registry::default();
        let mut rt = registry.get("/configmaps").unwrap().clone();
        rt.group = "designate.openstack.org".into();
        rt.version = "v1alpha1".into();
        rt.plural = "zones".into();
        rt.kind = "Zone".into();
        rt.custom = true;
        rt.status_subresource = true;
        rt.schema = Some(std::sync::Arc::new(
            json!({"type": "object", "properties": {
                "spec": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "ttl": {"type": "integer"}}},
                "status": {"type": "object", "properties": {"serial": {"type": "integer"}}}
            }}),
        ));
        registry.insert(rt.clone());
        rt
    }

    fn stored() -> Value {
        let rt = zone_type();
        let mut obj = admit(
            &rt,
            json!({"metadata": {"name": "z"}, "spec": {"name": "a."}}),
            "z",
            FieldValidation::Strict,
            None,
        )
        .unwrap()
        .object;
        prepare_create(&rt, &mut obj, "z", Some("default"));
        obj["metadata"]["resourceVersion"] = json!("5");
        obj
    }

    #[test]
    fn create_sets_server_fields_and_drops_status() {
        let rt = zone_type();
        let mut obj = admit(&rt, json!({"metadata": {"name": "z", "finalizers": []}, "spec": {"name": "a."}, "status": {"serial": 3}}), "z", FieldValidation::Strict, None).unwrap().object;
        prepare_create(&rt, &mut obj, "z", Some("default"));
        assert_eq!(obj["metadata"]["generation"], 1);
        assert!(obj["metadata"]["uid"].is_string());
        assert!(obj.get("status").is_none());
        assert!(
            obj["metadata"].get("finalizers").is_none(),
            "empty lists dropped"
        );
        assert_eq!(obj["apiVersion"], "designate.openstack.org/v1alpha1");
    }

    #[test]
    fn strict_rejects_unknown_fields_and_warn_prunes() {
        let rt = zone_type();
        let body = json!({"metadata": {"name": "z", "bogus": 1}, "spec": {"name": "a.", "x": 1}});
        let err = admit(&rt, body.clone(), "z", FieldValidation::Strict, None)
            .err()
            .unwrap();
        assert_eq!(err.code, 400);
        assert!(
            err.message.contains("unknown field \"spec.x\""),
            "{}",
            err.message
        );
        let ok = admit(&rt, body, "z", FieldValidation::Warn, None).unwrap();
        assert!(ok.object["spec"].get("x").is_none());
        assert_eq!(ok.warnings.len(), 2);
    }

    #[test]
    fn an_update_keeping_a_field_that_breaks_a_newer_bound_is_taken() {
        let mut rt = zone_type();
        rt.schema = Some(std::sync::Arc::new(
            json!({"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"ttl": {"type": "integer", "maximum": 10}}},
                "status": {"type": "object", "properties": {"serial": {"type": "integer"}}}
            }}),
        ));
        let old = json!({"metadata": {"name": "z"}, "spec": {"ttl": 99}});
        let status =
            json!({"metadata": {"name": "z"}, "spec": {"ttl": 99}, "status": {"serial": 1}});
        assert!(
            admit(
                &rt,
                status.clone(),
                "z",
                FieldValidation::Strict,
                Some(&old)
            )
            .is_ok()
        );
        assert_eq!(
            admit(&rt, status, "z", FieldValidation::Strict, None)
                .err()
                .unwrap()
                .code,
            422
        );
        let changed = json!({"metadata": {"name": "z"}, "spec": {"ttl": 98}});
        let err = admit(&rt, changed, "z", FieldValidation::Strict, Some(&old))
            .err()
            .unwrap();
        assert!(err.message.contains("spec.ttl"), "{}", err.message);
    }

    #[test]
    fn invalid_field_is_422_naming_it() {
        let rt = zone_type();
        let err = admit(
            &rt,
            json!({"metadata": {"name": "z"}, "spec": {"ttl": "x"}}),
            "z",
            FieldValidation::Strict,
            None,
        )
        .err()
        .unwrap();
        assert_eq!(err.code, 422);
        let fields: Vec<_> = err.causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["spec.name", "spec.ttl"]);
    }

    #[test]
    fn stale_resource_version_conflicts() {
        let rt = zone_type();
        let old = stored();
        let mut new = old.clone();
        new["metadata"]["resourceVersion"] = json!("4");
        assert_eq!(
            prepare_update(&rt, &old, new, Part::Main, true)
                .unwrap_err()
                .code,
            409
        );
    }

    #[test]
    fn main_write_ignores_status_and_bumps_generation_on_spec_change() {
        let rt = zone_type();
        let old = stored();
        let mut new = old.clone();
        new["spec"]["ttl"] = json!(60);
        new["status"] = json!({"serial": 9});
        let next = prepare_update(&rt, &old, new, Part::Main, true).unwrap();
        assert_eq!(next["metadata"]["generation"], 2);
        assert!(next.get("status").is_none());
        let mut status = old.clone();
        status["status"] = json!({"serial": 9});
        status["spec"]["ttl"] = json!(1);
        let next = prepare_update(&rt, &old, status, Part::Status, true).unwrap();
        assert_eq!(next["metadata"]["generation"], 1);
        assert_eq!(next["status"]["serial"], 9);
        assert!(next["spec"].get("ttl").is_none());
    }

    #[test]
    fn no_new_finalizers_while_deleting() {
        let rt = zone_type();
        let mut old = stored();
        old["metadata"]["finalizers"] = json!(["a"]);
        mark_deleting(&rt, &mut old);
        let mut new = old.clone();
        new["metadata"]["finalizers"] = json!(["a", "b"]);
        assert_eq!(
            prepare_update(&rt, &old, new, Part::Main, false)
                .unwrap_err()
                .code,
            422
        );
    }

    #[test]
    fn names_are_validated() {
        let rt = zone_type();
        assert!(validate_name(&rt, "example-com").is_ok());
        assert_eq!(validate_name(&rt, "Example").unwrap_err().code, 422);
        assert_eq!(validate_name(&rt, "").unwrap_err().code, 422);
    }
}
