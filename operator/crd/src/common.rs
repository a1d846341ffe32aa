//! Types shared by several kinds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Regular expression for a fully qualified DNS name with its trailing dot (one or more
/// labels of at most 63 characters, no leading or trailing hyphen, `_` allowed as in Designate).
/// Written for RE2 (the apiserver) and ECMA 262 (clients) alike: no look-arounds.
pub(crate) const FQDN_PATTERN: &str = r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+$";

/// Designate's bound of a TTL (`IntegerFields(minimum=0, maximum=2147483647)`):
/// that of the `i32` it is held in.
pub(crate) const TTL_MAX: i64 = i32::MAX as i64;

/// Designate's bound of a zone serial (`IntegerFields(maximum=4294967295)`).
pub(crate) const SERIAL_MAX: i64 = u32::MAX as i64;

/// Longest description Designate accepts (`StringFields(maxLength=160)`).
pub(crate) const DESCRIPTION_MAX_LEN: usize = 160;

/// Longest DNS name Designate accepts (`DomainField(maxLength=255)`).
pub(crate) const NAME_MAX_LEN: usize = 255;

/// Longest human-readable message in a status, as `metav1.Condition`'s.
pub(crate) const MESSAGE_MAX_LEN: usize = 32768;

/// Most entries of a list in a Pool or in a status: far more than any pool
/// has, and bounded so the apiserver can estimate the cost of CEL rules.
pub(crate) const LIST_MAX: usize = 64;

/// Provisioning state of a zone or recordset on the pool's nameservers
/// (Designate's `status`). Serialized as `PENDING`, `ACTIVE` or `ERROR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceStatus {
    // No doc comments on unit variants: schemars would emit a `oneOf` of `const`s
    // instead of a plain `enum`.
    Pending,
    Active,
    Error,
}

impl ResourceStatus {
    /// The wire (and Designate API) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Active => "ACTIVE",
            Self::Error => "ERROR",
        }
    }
}

/// The change in progress for a zone or recordset (Designate's `action`).
/// Serialized as `CREATE`, `UPDATE`, `DELETE` or `NONE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceAction {
    Create,
    Update,
    Delete,
    None,
}

impl ResourceAction {
    /// The wire (and Designate API) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::None => "NONE",
        }
    }
}

/// Field transform for `Option<ResourceStatus>`-like fields: schemars lists `null` among the
/// enum values, while OpenAPI expresses it with `nullable: true` (added by kube-derive)
/// and Kubernetes' own schemas never list it.
pub(crate) fn nullable_enum(schema: &mut schemars::Schema) {
    if let Some(serde_json::Value::Array(values)) = schema.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
}

/// Field transform for `Vec<Condition>`: the bounds `metav1.Condition` has
/// upstream (its kubebuilder markers), which k8s-openapi's schema lacks.
pub(crate) fn condition_bounds(schema: &mut schemars::Schema) {
    use serde_json::json;
    schema.insert("maxItems".into(), json!(LIST_MAX));
    let Some(properties) = schema
        .get_mut("items")
        .and_then(|items| items.get_mut("properties"))
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    let mut bound = |field: &str, bounds: serde_json::Value| {
        if let (Some(serde_json::Value::Object(node)), serde_json::Value::Object(bounds)) =
            (properties.get_mut(field), bounds)
        {
            node.extend(bounds);
        }
    };
    bound("type", json!({"minLength": 1, "maxLength": 316}));
    bound("status", json!({"enum": ["True", "False", "Unknown"]}));
    bound(
        "observedGeneration",
        json!({"minimum": 0, "maximum": i64::MAX}),
    );
    bound("reason", json!({"minLength": 1, "maxLength": 1024}));
    bound("message", json!({"maxLength": MESSAGE_MAX_LEN}));
}
