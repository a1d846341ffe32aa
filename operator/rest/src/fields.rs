//! What the admin resources' modules (TLDs, blacklists, TSIG keys, pools,
//! quotas) share: oslo.versionedobjects' field coercion as Designate's
//! adapters report it, and the `updated_at` the API keeps in an annotation
//! (nothing reconciles these objects, so they have no status to keep it in).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde_json::Value;

use crate::error::ApiError;
use crate::render::datetime;

/// When the API last changed the object (Designate's `updated_at`).
pub const UPDATED_AT: &str = "designate.openstack.org/updated-at";

/// The adapter's error for a field whose `coerce()` raised `ValueError`.
pub fn value_error(message: &str) -> ApiError {
    ApiError::invalid_object(format!(
        "Provided object is not valid. Got a ValueError error with message {message}"
    ))
}

/// A JSON value's Python type name, as coercion errors print it.
pub fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A scalar as Python's `str()` writes it (`True`, `None`, `1.5`).
pub fn python_text(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A JSON value as oslo's `StringField` coerces it (numbers and booleans
/// become their Python text); `None` for `null`.
pub fn coerce_string(field: &str, value: &Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::Array(_) | Value::Object(_) => Err(value_error(&format!(
            "A string is required in field {field}, not a {}",
            python_type(value)
        ))),
        other => Ok(Some(python_text(other))),
    }
}

/// Now, to the second: Designate's `updated_at` column keeps no fraction.
pub fn now() -> String {
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}

/// When the API last changed `object`, if ever.
pub fn updated_time(object: &impl ResourceExt) -> Option<Timestamp> {
    object.annotations().get(UPDATED_AT)?.parse().ok()
}

/// `updated_at` as Designate renders it.
pub fn updated_at(object: &impl ResourceExt) -> Option<String> {
    updated_time(object).map(|time| datetime(&Time(time)))
}
