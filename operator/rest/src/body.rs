//! Request bodies as Designate reads them: content type, JSON, the object's
//! allowed keys, and the types of its fields.

use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// A request's JSON object, with Designate's errors for anything else.
pub fn object(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    into_object(json(headers, body)?)
}

/// A request's JSON (`request.body_dict`: any JSON value), with Designate's
/// errors for a wrong content type, an empty body or bad JSON.
pub fn json(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            415,
            "unsupported_content_type",
            "Content-type must be application/json",
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            400,
            "empty_request_body",
            "Request Body is empty",
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::new(400, "invalid_json", error.to_string()))?;
    // `null` reads as nothing in Designate's `body_dict` too.
    if value.is_null() {
        return Err(ApiError::new(
            400,
            "empty_request_body",
            "Request Body is empty",
        ));
    }
    Ok(value)
}

/// The JSON object a body must be, once Designate's adapter reads it.
pub fn into_object(value: Value) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        // Designate answers 500 here (its own bug): say what is wrong.
        _ => Err(ApiError::invalid_object(
            "Provided object does not match schema. The body must be a JSON object",
        )),
    }
}

/// Refuses keys outside `allowed`, as Designate's adapters do.
pub fn only(body: &Map<String, Value>, allowed: &[&str], resource: &str) -> Result<(), ApiError> {
    refuse(
        body.keys().filter(|k| !allowed.contains(&k.as_str())),
        resource,
    )
}

/// [`only`] for an update: a key outside `allowed` may stand if it gives
/// the object's own value back unchanged (Designate's adapters refuse only
/// a change of a read-only or immutable field). `current` renders the
/// object, asked for only when such a key is there.
pub fn only_or_unchanged(
    body: &Map<String, Value>,
    allowed: &[&str],
    current: impl FnOnce() -> Value,
    resource: &str,
) -> Result<(), ApiError> {
    let mut others = body
        .iter()
        .filter(|(k, _)| !allowed.contains(&k.as_str()))
        .peekable();
    if others.peek().is_none() {
        return Ok(());
    }
    let current = current();
    refuse(
        others
            .filter(|(k, v)| current.get(k.as_str()) != Some(*v))
            .map(|(k, _)| k),
        resource,
    )
}

fn refuse<'k>(keys: impl Iterator<Item = &'k String>, resource: &str) -> Result<(), ApiError> {
    let mut refused: Vec<&str> = keys.map(String::as_str).collect();
    if refused.is_empty() {
        return Ok(());
    }
    refused.sort_unstable();
    let keys = refused
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(ApiError::invalid_object(format!(
        "Provided object does not match schema. Keys [{keys}] are not valid for {resource}"
    )))
}

/// The message of a field Designate's adapter could not take.
fn invalid(field: &str, expected: &str) -> ApiError {
    ApiError::invalid_object(format!(
        "Provided object is not valid. Got a ValueError error with message {field} must be {expected}"
    ))
}

/// An optional string field (`null` is absent).
pub fn string(body: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(field, "a string")),
    }
}

/// An optional integer field, coerced as Designate's adapters coerce it
/// (`"300"` and `300.5` are 300); Central checks its range.
pub fn integer(body: &Map<String, Value>, field: &str) -> Result<Option<i64>, ApiError> {
    body.get(field).map_or(Ok(None), crate::fields::coerce_int)
}

/// The records of a recordset body as Designate's adapter reads them: a
/// list (anything else, `null` too, is a schema error), each item kept once
/// (it reads them into a set) and made a string as the `Record.data` field
/// coerces it.
pub fn records(body: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let items = match body.get("records") {
        None => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ApiError::schema(
                serde_json::json!(["records"]),
                format!(
                    "'{}' is not a valid list of records",
                    crate::fields::python_text(other)
                ),
                "type",
                serde_json::json!(["list"]),
            ));
        }
    };
    if let Some(unhashable) = items.iter().find(|v| v.is_array() || v.is_object()) {
        return Err(ApiError::invalid_object(format!(
            "Provided object is not valid. Got a TypeError with message unhashable type: '{}'",
            crate::fields::python_type(unhashable)
        )));
    }
    let mut seen = std::collections::HashSet::new();
    let mut records = Vec::with_capacity(items.len());
    for item in items {
        let data = crate::fields::coerce_string("data", item)?
            .ok_or_else(|| crate::fields::value_error("Field `data' cannot be None"))?;
        if seen.insert(data.clone()) {
            records.push(data);
        }
    }
    Ok(Some(records))
}

/// An optional list of strings.
pub fn strings(body: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| invalid(field, "a list of strings")),
        Some(_) => Err(invalid(field, "a list of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-type", "application/json".parse().unwrap());
        h
    }

    #[test]
    fn bodies_are_checked_in_designates_order() {
        let err =
            |h: &HeaderMap, b: &str| object(h, &Bytes::from(b.to_string())).unwrap_err().type_;
        assert_eq!(err(&HeaderMap::new(), "{}"), "unsupported_content_type");
        assert_eq!(err(&json_headers(), ""), "empty_request_body");
        assert_eq!(err(&json_headers(), "{\"a\": "), "invalid_json");
        assert_eq!(err(&json_headers(), "[1, 2]"), "invalid_object");
    }

    #[test]
    fn updates_may_give_fields_back_unchanged() {
        let body: Map<String, Value> =
            serde_json::from_str(r#"{"name": "a.", "type": "A", "ttl": 5}"#).unwrap();
        let current = || serde_json::json!({"name": "a.", "type": "AAAA", "ttl": 1});
        let refused = only_or_unchanged(&body, &["ttl"], current, "recordset").unwrap_err();
        assert_eq!(
            refused.message.unwrap(),
            "Provided object does not match schema. Keys ['type'] are not valid for recordset"
        );
        let same = || serde_json::json!({"name": "a.", "type": "A"});
        assert!(only_or_unchanged(&body, &["ttl"], same, "recordset").is_ok());
    }

    #[test]
    fn records_are_read_as_the_adapter_reads_them() {
        let read = |text: &str| {
            let body: Map<String, Value> = serde_json::from_str(text).unwrap();
            records(&body)
        };
        assert_eq!(
            read(r#"{"records": [5, "5", true]}"#).unwrap().unwrap(),
            ["5", "True"]
        );
        let error = read(r#"{"records": "192.0.2.1"}"#).unwrap_err();
        assert_eq!(
            error.body("r")["errors"]["errors"][0],
            serde_json::json!({"path": ["records"], "validator": "type", "validator_value": ["list"],
                               "message": "'192.0.2.1' is not a valid list of records"})
        );
        assert!(read(r#"{"records": null}"#).is_err());
        assert!(read(r#"{"records": [["a"]]}"#).is_err());
    }

    #[test]
    fn repeated_records_count_once() {
        let body: Map<String, Value> =
            serde_json::from_str(r#"{"records": ["b", "a", "b"]}"#).unwrap();
        assert_eq!(records(&body).unwrap().unwrap(), ["b", "a"]);
    }

    #[test]
    fn unknown_keys_are_named() {
        let body: Map<String, Value> =
            serde_json::from_str(r#"{"name": "x", "bogus": 1}"#).unwrap();
        assert_eq!(
            only(&body, &["name"], "zone").unwrap_err().message.unwrap(),
            "Provided object does not match schema. Keys ['bogus'] are not valid for zone"
        );
    }
}
