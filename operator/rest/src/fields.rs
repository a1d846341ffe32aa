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

/// Python's `repr()` of a string, as `int()`'s error quotes it.
pub fn py_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `int(text)` for base 10: surrounding whitespace, a sign,
/// digits with single `_` between them. `None` when Python refuses it;
/// values beyond `i64` saturate (they are out of range either way).
pub fn py_int(text: &str) -> Option<i64> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let magnitude = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    Some(if negative { -magnitude } else { magnitude })
}

/// A JSON value as oslo's `IntegerField` coerces it (Python's `int()`):
/// integers, floats truncated toward zero, booleans, numeric strings;
/// `None` for `null`. Values beyond `i64` saturate: the field's bounds
/// refuse them either way.
pub fn coerce_int(value: &Value) -> Result<Option<i64>, ApiError> {
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::Bool(b) => i64::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i,
            (None, Some(_), _) => i64::MAX,
            // `as` saturates, and the bounds are checked afterwards.
            (None, None, Some(f)) => f.trunc() as i64,
            _ => i64::MAX,
        },
        Value::String(s) => py_int(s).ok_or_else(|| {
            value_error(&format!(
                "invalid literal for int() with base 10: {}",
                py_repr(s)
            ))
        })?,
        Value::Array(_) | Value::Object(_) => {
            // The adapter reports a `TypeError` apart from other errors.
            return Err(ApiError::invalid_object(format!(
                "Provided object is not valid. Got a TypeError with message int() argument must be a string, a bytes-like object or a real number, not '{}'",
                python_type(value)
            )));
        }
    }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_are_coerced_as_python_int_does() {
        let int = |v: Value| coerce_int(&v).map_err(|e| e.message.unwrap_or_default());
        assert_eq!(int(json!("300")), Ok(Some(300)));
        assert_eq!(int(json!(" +3_00 ")), Ok(Some(300)));
        assert_eq!(int(json!(300.9)), Ok(Some(300)));
        assert_eq!(int(json!(-0.5)), Ok(Some(0)));
        assert_eq!(int(json!(true)), Ok(Some(1)));
        assert_eq!(int(json!(null)), Ok(None));
        assert_eq!(int(json!(1e300)), Ok(Some(i64::MAX)));
        assert_eq!(
            int(json!("300.0")),
            Err("Provided object is not valid. Got a ValueError error with message invalid literal for int() with base 10: '300.0'".into())
        );
        assert_eq!(
            int(json!([300])),
            Err("Provided object is not valid. Got a TypeError with message int() argument must be a string, a bytes-like object or a real number, not 'list'".into())
        );
    }
}
