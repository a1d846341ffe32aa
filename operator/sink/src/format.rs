//! Python's `%` formatting with named fields, as Designate's handlers
//! apply their `formatv4`/`formatv6` strings (`%(hostname)s.%(zone)s`):
//! `%(key)s` takes the value of `key` as Python's `str()` shows it, `%%`
//! is a percent sign. A key the data lacks is an error (Python's
//! `KeyError`: Designate logs it and makes no record).

use serde_json::{Map, Value};

use crate::Error;

/// `format` with the fields of `data`.
pub fn format(format: &str, data: &Map<String, Value>) -> Result<String, Error> {
    let bad = |message: String| Error::BadFormat {
        format: format.to_string(),
        message,
    };
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('%') {
            out.push('%');
            rest = after;
            continue;
        }
        let Some(named) = rest.strip_prefix('(') else {
            return Err(bad("a % not followed by (name)s or %".into()));
        };
        let (key, after) = named
            .split_once(")s")
            .ok_or_else(|| bad("a %( without its )s".into()))?;
        let value = data
            .get(key)
            .ok_or_else(|| bad(format!("no field {key:?} in the notification")))?;
        out.push_str(&python_str(value));
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

/// What Python's `str()` prints for a decoded JSON value.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data() -> Map<String, Value> {
        json!({"hostname": "vm-1", "zone": "example.org.", "n": 3, "none": null, "yes": true})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn named_fields_are_filled_as_python_does() {
        let data = data();
        assert_eq!(
            format("%(hostname)s.%(zone)s", &data).unwrap(),
            "vm-1.example.org."
        );
        assert_eq!(
            format("%(n)s-%(none)s-%(yes)s%%.x", &data).unwrap(),
            "3-None-True%.x"
        );
        assert_eq!(
            format("static.example.org.", &data).unwrap(),
            "static.example.org."
        );
    }

    #[test]
    fn missing_fields_and_bad_formats_are_errors() {
        let data = data();
        for bad in ["%(missing)s.%(zone)s", "%(hostname)d", "%(hostname", "100%"] {
            assert!(format(bad, &data).is_err(), "{bad}");
        }
    }
}
