//! The `TsigKey` kind: a TSIG key (RFC 8945) Designate's zone transfers and
//! NOTIFYs are signed with, for a pool's zones or one zone. Cluster-scoped:
//! keys are the operator's, not a tenant's. The secret itself lives in a
//! Secret in the operator's namespace (key `secret`), never in this object.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::{CustomResource, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest key name Designate accepts (`StringFields(maxLength=160)`).
pub const TSIG_NAME_MAX_LEN: usize = 160;

/// Longest secret Designate accepts (`StringFields(maxLength=160)`).
pub const TSIG_SECRET_MAX_LEN: usize = 160;

/// The key of the Secret's data that holds the TSIG secret.
pub const TSIG_SECRET_KEY: &str = "secret";

/// The label that ties a key's Secret to the key (value: the key's uid),
/// so that one watch of labelled Secrets feeds every key's secret.
pub const TSIG_SECRET_LABEL: &str = "designate.openstack.org/tsigkey";

/// The Secret in `namespace` that holds `key`'s `secret`: labelled and
/// owned by the key (written once the key exists: it needs its uid).
pub fn tsig_secret(key: &TsigKey, namespace: &str, secret: &str) -> Secret {
    let uid = key.uid().unwrap_or_default();
    Secret {
        metadata: ObjectMeta {
            name: Some(key.spec.secret_ref.name.clone()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                TSIG_SECRET_LABEL.to_string(),
                uid.clone(),
            )])),
            owner_references: Some(vec![OwnerReference {
                api_version: TsigKey::api_version(&()).into_owned(),
                kind: TsigKey::kind(&()).into_owned(),
                name: key.name_any(),
                uid,
                ..OwnerReference::default()
            }]),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            TSIG_SECRET_KEY.to_string(),
            ByteString(secret.as_bytes().to_vec()),
        )])),
        type_: Some("Opaque".into()),
        ..Secret::default()
    }
}

/// A lowercase UUID with hyphens, as Designate renders ids.
pub const UUID_PATTERN: &str = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/// Desired state of a TSIG key; the fields of a Designate v2 TSIG key but
/// the secret.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "TsigKey",
    plural = "tsigkeys",
    derive = "PartialEq",
    shortname = "dtsig",
    category = "designate",
    selectable = ".spec.name",
    doc = "A TSIG key that signs zone transfers and NOTIFYs of a pool's zones or of one zone (Designate v2 TSIG key); the secret is in a Secret.",
    printcolumn(name = "Key", type_ = "string", json_path = ".spec.name"),
    printcolumn(name = "Algorithm", type_ = "string", json_path = ".spec.algorithm"),
    printcolumn(name = "Scope", type_ = "string", json_path = ".spec.scope"),
    printcolumn(name = "Resource", type_ = "string", json_path = ".spec.resourceId"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct TsigKeySpec {
    /// The key's name as nameservers know it (Designate's `name`), e.g.
    /// `pool-key`.
    #[schemars(length(max = TSIG_NAME_MAX_LEN))]
    pub name: String,

    /// The HMAC algorithm.
    pub algorithm: TsigAlgorithm,

    /// Whether the key is a pool's or a zone's.
    pub scope: TsigScope,

    /// The id (uid) of the Pool (scope `POOL`) or Zone (scope `ZONE`).
    #[schemars(length(max = 36), pattern(UUID_PATTERN))]
    pub resource_id: String,

    /// The Secret, in the operator's namespace, whose `secret` key holds the
    /// key's secret as Designate takes it (the base64 text nameservers are
    /// configured with).
    pub secret_ref: TsigSecretRef,
}

/// A Secret in the operator's namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TsigSecretRef {
    /// Secret name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// TSIG algorithms Designate accepts (`TSIG_ALGORITHMS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TsigAlgorithm {
    // No doc comments on unit variants: schemars would emit a `oneOf`.
    #[serde(rename = "hmac-md5")]
    HmacMd5,
    #[serde(rename = "hmac-sha1")]
    HmacSha1,
    #[serde(rename = "hmac-sha224")]
    HmacSha224,
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    #[serde(rename = "hmac-sha384")]
    HmacSha384,
    #[serde(rename = "hmac-sha512")]
    HmacSha512,
}

impl TsigAlgorithm {
    /// All of them, in Designate's order (that of its `ENUM` column).
    pub const ALL: [Self; 6] = [
        Self::HmacMd5,
        Self::HmacSha1,
        Self::HmacSha224,
        Self::HmacSha256,
        Self::HmacSha384,
        Self::HmacSha512,
    ];

    /// Designate's (and BIND's) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HmacMd5 => "hmac-md5",
            Self::HmacSha1 => "hmac-sha1",
            Self::HmacSha224 => "hmac-sha224",
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha384 => "hmac-sha384",
            Self::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm Designate spells `text`.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// What a TSIG key is for (Designate's `TSIG_SCOPES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TsigScope {
    Pool,
    Zone,
}

impl TsigScope {
    /// Both, in Designate's order.
    pub const ALL: [Self; 2] = [Self::Pool, Self::Zone];

    /// Designate's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pool => "POOL",
            Self::Zone => "ZONE",
        }
    }

    /// The scope Designate spells `text`.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in TsigAlgorithm::ALL {
            assert_eq!(TsigAlgorithm::from_name(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        for s in TsigScope::ALL {
            assert_eq!(TsigScope::from_name(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(TsigAlgorithm::from_name("hmac-bogus"), None);
        assert_eq!(TsigScope::from_name("pool"), None);
    }
}
