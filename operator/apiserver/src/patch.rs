//! The patch types kube-apiserver accepts for custom resources.

use serde_json::Value;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Apply,
}

impl PatchType {
    /// From the request's `Content-Type`; strategic merge is refused for
    /// custom resources with 415, like kube-apiserver.
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/json-patch+json" => Ok(Self::Json),
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(Self::Apply),
            _ => Err(ApiError::unsupported_media_type(content_type)),
        }
    }
}

/// RFC 6902 JSON patch with the apiserver's quirk: a `test` of a path that
/// does not exist against `null` succeeds (kube-runtime's finalizer helper
/// relies on it). A failed test is a 422, an op on a bad path a 500 in the
/// real server; we answer 422 for both since the client sent a bad patch.
pub fn json_patch(target: &mut Value, ops: &[Value]) -> Result<(), ApiError> {
    for op in ops {
        let is_null_test = op.get("op").and_then(Value::as_str) == Some("test")
            && op.get("value").is_some_and(Value::is_null);
        if is_null_test {
            let path = op.get("path").and_then(Value::as_str).unwrap_or("");
            match target.pointer(path) {
                None | Some(Value::Null) => continue,
                Some(_) => return Err(test_failed(path)),
            }
        }
        let single: json_patch::Patch = serde_json::from_value(Value::Array(vec![op.clone()]))
            .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
        json_patch::patch(target, &single).map_err(|e| match e.kind {
            json_patch::PatchErrorKind::TestFailed => test_failed(&e.path.to_string()),
            _ => ApiError::new(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                format!("the server rejected our request due to an error in our request: {e}"),
            ),
        })?;
    }
    Ok(())
}

fn test_failed(path: &str) -> ApiError {
    ApiError::new(
        http::StatusCode::UNPROCESSABLE_ENTITY,
        "Invalid",
        format!(
            "the server rejected our request due to an error in our request: testing value {path} failed"
        ),
    )
}

/// RFC 7386 JSON merge patch: objects merge, `null` deletes, others replace.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(target_map) = target else {
        unreachable!()
    };
    for (key, value) in patch_map {
        if value.is_null() {
            target_map.remove(key);
        } else {
            merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Server-side apply, approximated: the applied configuration is merged
/// into the live object (objects merge, lists and scalars replace). Not
/// modelled: managedFields ownership, conflicts between managers, removal
/// of fields a manager stops applying, list-map merge keys.
pub fn apply(target: &mut Value, applied: &Value) {
    merge_patch(target, applied);
}

/// Parses an apply body, which is YAML (JSON being a subset of it).
pub fn parse_apply_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).or_else(|_| {
        serde_yaml::from_slice::<Value>(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_test_of_missing_path_succeeds() {
        let mut obj = json!({"metadata": {"name": "x"}});
        let ops = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}
        ]);
        json_patch(&mut obj, ops.as_array().unwrap()).unwrap();
        assert_eq!(obj["metadata"]["finalizers"], json!(["f"]));
    }

    #[test]
    fn null_test_of_present_path_fails_with_422() {
        let mut obj = json!({"metadata": {"finalizers": ["a"]}});
        let ops = json!([{"op": "test", "path": "/metadata/finalizers", "value": null}]);
        let err = json_patch(&mut obj, ops.as_array().unwrap()).unwrap_err();
        assert_eq!(err.code, 422);
    }

    #[test]
    fn failed_value_test_is_422_and_changes_nothing_visible() {
        let mut obj = json!({"metadata": {"finalizers": ["a"]}});
        let ops = json!([
            {"op": "test", "path": "/metadata/finalizers/0", "value": "b"},
            {"op": "remove", "path": "/metadata/finalizers/0"}
        ]);
        assert_eq!(
            json_patch(&mut obj, ops.as_array().unwrap())
                .unwrap_err()
                .code,
            422
        );
    }

    #[test]
    fn merge_patch_deletes_with_null() {
        let mut obj = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge_patch(&mut obj, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(obj, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn apply_body_accepts_yaml() {
        let v = parse_apply_body(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n").unwrap();
        assert_eq!(v["data"]["a"], "b");
    }

    #[test]
    fn strategic_merge_is_unsupported() {
        let err =
            PatchType::from_content_type("application/strategic-merge-patch+json").unwrap_err();
        assert_eq!(err.code, 415);
    }
}
