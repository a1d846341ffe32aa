//! Structural-schema handling of custom resources, as kube-apiserver does it:
//! pruning of unknown fields, defaulting, and validation (422 causes).

use serde_json::{Map, Value};

use crate::error::Cause;

/// Removes fields the schema does not declare; returns their paths.
pub fn prune(schema: &Value, value: &mut Value, path: &str, unknown: &mut Vec<String>) {
    let preserve = schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let child_path = join(path, &key);
                if let Some(child_schema) = props.and_then(|p| p.get(&key)) {
                    if let Some(child) = map.get_mut(&key) {
                        prune(child_schema, child, &child_path, unknown);
                    }
                } else if let Some(child_schema) = additional.filter(|a| a.is_object()) {
                    if let Some(child) = map.get_mut(&key) {
                        prune(child_schema, child, &child_path, unknown);
                    }
                } else if !preserve && additional != Some(&Value::Bool(true)) {
                    map.remove(&key);
                    unknown.push(child_path);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune(item_schema, item, &format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

/// Fills in `default`s of absent properties, recursively.
pub fn apply_defaults(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (key, child_schema) in props {
                    if !map.contains_key(key)
                        && let Some(default) = child_schema.get("default")
                    {
                        map.insert(key.clone(), default.clone());
                    }
                    if let Some(child) = map.get_mut(key) {
                        apply_defaults(child_schema, child);
                    }
                }
            } else if let Some(additional) =
                schema.get("additionalProperties").filter(|a| a.is_object())
            {
                for child in map.values_mut() {
                    apply_defaults(additional, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    apply_defaults(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

/// Validates `value` against an OpenAPI v3 (structural) schema.
pub fn validate(schema: &Value, value: &Value, path: &str, causes: &mut Vec<Cause>) {
    let s = |k: &str| schema.get(k);
    if value.is_null() {
        if s("nullable").and_then(Value::as_bool) == Some(true) || schema_is_open(schema) {
            return;
        }
        if let Some(expected) = s("type").and_then(Value::as_str) {
            causes.push(type_cause(path, expected, value));
        }
        return;
    }
    if s("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
        if !(value.is_string() || is_integer(value)) {
            causes.push(Cause {
                reason: "FieldValueTypeInvalid",
                field: path.to_string(),
                message: format!(
                    "Invalid value: \"{t}\": {path} in body must be of type integer or string: \"{t}\"",
                    t = type_name(value)
                ),
            });
        }
        return;
    }
    if let Some(expected) = s("type").and_then(Value::as_str) {
        let ok = match expected {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => is_integer(value),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !ok {
            causes.push(type_cause(path, expected, value));
            return;
        }
    }
    if let Some(allowed) = s("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let supported: Vec<String> = allowed.iter().map(render).collect();
        causes.push(Cause {
            reason: "FieldValueNotSupported",
            field: path.to_string(),
            message: format!(
                "Unsupported value: {}: supported values: {}",
                render(value),
                supported.join(", ")
            ),
        });
    }
    match value {
        Value::String(text) => validate_string(schema, text, path, causes),
        Value::Number(_) => validate_number(schema, value, path, causes),
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(max) = s("maxItems").and_then(Value::as_u64)
                && len > max
            {
                causes.push(Cause {
                    reason: "FieldValueTooMany",
                    field: path.to_string(),
                    message: format!("Too many: {len}: must have at most {max} items"),
                });
            }
            if let Some(min) = s("minItems").and_then(Value::as_u64)
                && len < min
            {
                causes.push(invalid_cause(
                    path,
                    value,
                    &format!("{path} in body should have at least {min} items"),
                ));
            }
            if let Some(item_schema) = s("items") {
                for (i, item) in items.iter().enumerate() {
                    validate(item_schema, item, &format!("{path}[{i}]"), causes);
                }
            }
        }
        Value::Object(map) => validate_object(schema, map, path, None, causes),
        _ => {}
    }
}

/// [`validate`] of an update's object against the stored `old`: the
/// top-level fields left as they were are not walked, since ratcheting
/// drops every error found in an unchanged value anyway (a status write
/// leaves the spec unvalidated).
pub fn validate_update(schema: &Value, value: &Value, old: &Value, causes: &mut Vec<Cause>) {
    match (value, old) {
        (Value::Object(map), Value::Object(old))
            if schema.get("type").and_then(Value::as_str) == Some("object") =>
        {
            validate_object(schema, map, "", Some(old), causes);
        }
        _ => validate(schema, value, "", causes),
    }
}

/// `unchanged_in`: the same object as stored, whose equal fields are
/// skipped.
fn validate_object(
    schema: &Value,
    map: &Map<String, Value>,
    path: &str,
    unchanged_in: Option<&Map<String, Value>>,
    causes: &mut Vec<Cause>,
) {
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                causes.push(Cause {
                    reason: "FieldValueRequired",
                    field: join(path, name),
                    message: "Required value".into(),
                });
            }
        }
    }
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (key, child) in map {
        if unchanged_in.and_then(|old| old.get(key)) == Some(child) {
            continue;
        }
        let child_schema = props.and_then(|p| p.get(key)).or(additional);
        if let Some(child_schema) = child_schema {
            validate(child_schema, child, &join(path, key), causes);
        }
    }
    let len = map.len() as u64;
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && len > max
    {
        causes.push(Cause {
            reason: "FieldValueTooMany",
            field: path.to_string(),
            message: format!("Too many: {len}: must have at most {max} items"),
        });
    }
    if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
        && len < min
    {
        causes.push(invalid_cause(
            path,
            &Value::Object(map.clone()),
            &format!("{path} in body should have at least {min} properties"),
        ));
    }
}

fn validate_string(schema: &Value, text: &str, path: &str, causes: &mut Vec<Cause>) {
    let len = text.chars().count() as u64;
    let value = Value::String(text.to_string());
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        causes.push(Cause {
            reason: "FieldValueTooLong",
            field: path.to_string(),
            message: format!("Too long: may not be more than {max} bytes"),
        });
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        causes.push(invalid_cause(
            path,
            &value,
            &format!("{path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && compiled(pattern).is_some_and(|re| !re.is_match(text))
    {
        causes.push(invalid_cause(
            path,
            &value,
            &format!("{path} in body should match '{pattern}'"),
        ));
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && chrono::DateTime::parse_from_rfc3339(text).is_err()
    {
        causes.push(invalid_cause(
            path,
            &value,
            &format!(
                "{path} in body must be of type date-time: {}",
                render(&value)
            ),
        ));
    }
}

fn validate_number(schema: &Value, value: &Value, path: &str, causes: &mut Vec<Cause>) {
    let Some(n) = value.as_f64() else { return };
    let exclusive = |k: &str| schema.get(k).and_then(Value::as_bool).unwrap_or(false);
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let (bad, words) = if exclusive("exclusiveMinimum") {
            (n <= min, "greater than")
        } else {
            (n < min, "greater than or equal to")
        };
        if bad {
            causes.push(invalid_cause(
                path,
                value,
                &format!("{path} in body should be {words} {}", render_number(min)),
            ));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let (bad, words) = if exclusive("exclusiveMaximum") {
            (n >= max, "less than")
        } else {
            (n > max, "less than or equal to")
        };
        if bad {
            causes.push(invalid_cause(
                path,
                value,
                &format!("{path} in body should be {words} {}", render_number(max)),
            ));
        }
    }
}

/// The regex of a schema `pattern`, compiled once per process: patterns
/// come from installed CRDs (a small, fixed set), and compiling them on
/// every request cost a fifth of a write's CPU.
fn compiled(pattern: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static CACHE: LazyLock<Mutex<HashMap<String, Option<regex::Regex>>>> =
        LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| {
            regex::Regex::new(pattern)
                .inspect_err(
                    |e| tracing::warn!(%pattern, error = %e, "schema pattern does not compile"),
                )
                .ok()
        })
        .clone()
}

/// A schema node with no type that accepts anything (e.g. preserve-unknown).
fn schema_is_open(schema: &Value) -> bool {
    schema.get("type").is_none()
}

fn is_integer(value: &Value) -> bool {
    value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) if is_integer(value) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_cause(path: &str, expected: &str, value: &Value) -> Cause {
    let got = type_name(value);
    Cause {
        reason: "FieldValueTypeInvalid",
        field: path.to_string(),
        message: format!(
            "Invalid value: \"{got}\": {path} in body must be of type {expected}: \"{got}\""
        ),
    }
}

fn invalid_cause(path: &str, value: &Value, detail: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid",
        field: path.to_string(),
        message: format!("Invalid value: {}: {detail}", render(value)),
    }
}

/// Go-like rendering of a value in messages: strings quoted, containers named.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "\"array\"".into(),
        Value::Object(_) => "\"object\"".into(),
        other => other.to_string(),
    }
}

fn render_number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The value at a cause's `field` path (`spec.records[0]`), as
/// [`validate`] writes them.
pub fn at_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .filter(|part| !part.is_empty())
        .try_fold(value, |value, part| {
            let (key, indexes) = part.split_once('[').unwrap_or((part, ""));
            let mut value = if key.is_empty() {
                value
            } else {
                value.get(key)?
            };
            for index in indexes.split('[').filter(|index| !index.is_empty()) {
                let index: usize = index.trim_end_matches(']').parse().ok()?;
                value = value.get(index)?;
            }
            Some(value)
        })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_causes_lead_to_their_values() {
        let value = json!({"spec": {"records": ["a", "b"], "m": [[1, 2]]}});
        assert_eq!(at_path(&value, "spec.records[1]"), Some(&json!("b")));
        assert_eq!(at_path(&value, "spec.m[0][1]"), Some(&json!(2)));
        assert_eq!(at_path(&value, "spec.ttl"), None);
        assert_eq!(at_path(&value, ""), Some(&value));
    }
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "pattern": "\\.$", "maxLength": 10},
                        "ttl": {"type": "integer", "minimum": 1, "nullable": true},
                        "type": {"type": "string", "enum": ["PRIMARY", "SECONDARY"], "default": "PRIMARY"},
                        "records": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
                        "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }
            }
        })
    }

    fn causes(value: Value) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        validate(&schema(), &value, "", &mut out);
        out.into_iter().map(|c| (c.field, c.reason)).collect()
    }

    #[test]
    fn valid_object_has_no_causes() {
        assert!(causes(json!({"spec": {"name": "a.", "ttl": 5, "records": ["x"], "attributes": {"k": "v"}}})).is_empty());
        assert!(causes(json!({"spec": {"name": "a.", "ttl": null}})).is_empty());
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(
            causes(json!({"spec": {}})),
            vec![("spec.name".into(), "FieldValueRequired")]
        );
        assert_eq!(
            causes(json!({"spec": {"name": "a.", "ttl": "x"}})),
            vec![("spec.ttl".into(), "FieldValueTypeInvalid")]
        );
        assert_eq!(
            causes(json!({"spec": {"name": "a"}})),
            vec![("spec.name".into(), "FieldValueInvalid")]
        );
        assert_eq!(
            causes(json!({"spec": {"name": "abcdefghij."}})),
            vec![("spec.name".into(), "FieldValueTooLong")]
        );
        assert_eq!(
            causes(json!({"spec": {"name": "a.", "ttl": 0}})),
            vec![("spec.ttl".into(), "FieldValueInvalid")]
        );
        assert_eq!(
            causes(json!({"spec": {"name": "a.", "type": "X"}})),
            vec![("spec.type".into(), "FieldValueNotSupported")]
        );
        assert_eq!(
            causes(json!({"spec": {"name": "a.", "records": ["a", "b", "c"]}})),
            vec![("spec.records".into(), "FieldValueTooMany")]
        );
        assert_eq!(
            causes(json!({"spec": {"name": "a.", "records": [1]}})),
            vec![("spec.records[0]".into(), "FieldValueTypeInvalid")]
        );
        assert_eq!(
            causes(json!({"spec": {"name": "a.", "attributes": {"k": 1}}})),
            vec![("spec.attributes.k".into(), "FieldValueTypeInvalid")]
        );
    }

    #[test]
    fn prune_removes_undeclared_fields_only() {
        let mut value = json!({"spec": {"name": "a.", "bogus": 1, "attributes": {"k": "v"}, "free": {"any": 1}}, "extra": true});
        let mut unknown = Vec::new();
        prune(&schema(), &mut value, "", &mut unknown);
        assert_eq!(unknown, vec!["extra".to_string(), "spec.bogus".to_string()]);
        assert_eq!(
            value,
            json!({"spec": {"name": "a.", "attributes": {"k": "v"}, "free": {"any": 1}}})
        );
    }

    #[test]
    fn defaults_fill_absent_fields() {
        let mut value = json!({"spec": {"name": "a."}});
        apply_defaults(&schema(), &mut value);
        assert_eq!(value["spec"]["type"], "PRIMARY");
    }
}

#[cfg(test)]
mod update_tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}}},
                "status": {"type": "object", "properties": {"serial": {"type": "integer"}}}
            }
        })
    }

    fn causes(value: &Value, old: &Value) -> Vec<String> {
        let mut causes = Vec::new();
        validate_update(&schema(), value, old, &mut causes);
        causes.into_iter().map(|c| c.field).collect()
    }

    #[test]
    fn an_update_validates_the_fields_it_changes() {
        let stored = json!({"spec": {"name": "toolong"}, "status": {"serial": 1}});
        // A status write leaves the spec (stored under an older schema) alone.
        let status = json!({"spec": {"name": "toolong"}, "status": {"serial": 2}});
        assert!(causes(&status, &stored).is_empty());
        let bad_status = json!({"spec": {"name": "toolong"}, "status": {"serial": "x"}});
        assert_eq!(causes(&bad_status, &stored), ["status.serial"]);
        let renamed = json!({"spec": {"name": "longer"}, "status": {"serial": 1}});
        assert_eq!(causes(&renamed, &stored), ["spec.name"]);
    }
}
