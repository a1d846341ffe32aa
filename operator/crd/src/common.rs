//! Types shared by several kinds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Regular expression for a fully qualified DNS name with its trailing dot (one or more
/// labels of at most 63 characters, no leading or trailing hyphen, `_` allowed as in Designate).
/// Written for RE2 (the apiserver) and ECMA 262 (clients) alike: no look-arounds.
pub(crate) const FQDN_PATTERN: &str = r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+$";

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
