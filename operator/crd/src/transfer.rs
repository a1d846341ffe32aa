//! Zone transfers between projects (Designate's `zone_transfer_requests`
//! and `zone_transfer_accepts`): a `ZoneTransferRequest` in the zone's
//! namespace offers the zone, with a key, to one project or any; a
//! `ZoneTransferAccept` in the accepting project's namespace takes it. The
//! controllers then move the Zone and its Recordsets into that namespace
//! with the same ids (see [`crate::grant::TRANSFER_ANNOTATION`]).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::nullable_enum;
use crate::tsigkey::UUID_PATTERN;

/// When a moved object was first made (RFC 3339): its copy in the new
/// project is a new object, and Designate keeps the zone's and recordsets'
/// `created_at` across a transfer.
pub const CREATED_AT_ANNOTATION: &str = "designate.openstack.org/created-at";

/// An object's Designate `created_at`: before any move, else its creation.
pub fn created_at(meta: &ObjectMeta) -> Option<Timestamp> {
    let moved = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(CREATED_AT_ANNOTATION));
    moved
        .and_then(|at| at.parse().ok())
        .or(meta.creation_timestamp.as_ref().map(|t| t.0))
}

/// Designate's `key` and `description` (`StringFields(maxLength=160)`).
pub const TRANSFER_TEXT_MAX_LEN: usize = 160;

/// Designate's `tenant_id` columns.
pub const TRANSFER_PROJECT_MAX_LEN: usize = 255;

/// Where a request or an accept stands (Designate's `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferState {
    Active,
    Pending,
    Complete,
    Error,
}

impl TransferState {
    /// The wire (and Designate API) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Pending => "PENDING",
            Self::Complete => "COMPLETE",
            Self::Error => "ERROR",
        }
    }
}

/// A zone offered to another project.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "ZoneTransferRequest",
    plural = "zonetransferrequests",
    namespaced,
    status = "ZoneTransferRequestStatus",
    derive = "PartialEq",
    shortname = "dxfrreq",
    category = "designate",
    doc = "A Zone of the same namespace offered to another project (Designate's /v2/zones/{id}/tasks/transfer_requests): a ZoneTransferAccept with the key moves the zone into the accepting project.",
    printcolumn(name = "Zone", type_ = "string", json_path = ".spec.zoneName"),
    printcolumn(
        name = "Target Project",
        type_ = "string",
        json_path = ".spec.targetProjectId"
    ),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ZoneTransferRequestSpec {
    /// The zone offered (its id). Immutable.
    #[schemars(length(max = 36), pattern(UUID_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "zoneId is immutable"}]))]
    pub zone_id: String,
    /// The zone's DNS name, as Designate shows it. Immutable.
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "zoneName is immutable"}]))]
    pub zone_name: String,
    /// What an accept must present. Immutable.
    #[schemars(length(min = 1, max = TRANSFER_TEXT_MAX_LEN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "key is immutable"}]))]
    pub key: String,
    /// The only project that may accept; any project when not given.
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = TRANSFER_PROJECT_MAX_LEN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "targetProjectId is immutable"}]))]
    pub target_project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = TRANSFER_TEXT_MAX_LEN))]
    pub description: Option<String>,
    /// The project that offers it (Designate's `tenant_id`); the
    /// namespace's project when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = TRANSFER_PROJECT_MAX_LEN))]
    pub project_id: Option<String>,
}

/// A request's state; `ACTIVE` until an accept used it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneTransferRequestStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = nullable_enum)]
    pub status: Option<TransferState>,
    /// The accept (its uid) that claimed the request: one accept moves the
    /// zone, every other is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 36), pattern(UUID_PATTERN))]
    pub accepted_by: Option<String>,
    /// When the request was last changed by an accept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Time>,
}

/// A transfer request taken up by this namespace's project.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "ZoneTransferAccept",
    plural = "zonetransferaccepts",
    namespaced,
    status = "ZoneTransferAcceptStatus",
    derive = "PartialEq",
    shortname = "dxfracc",
    category = "designate",
    doc = "The acceptance of a ZoneTransferRequest by this namespace's project (Designate's /v2/zones/tasks/transfer_accepts): with the request's key, the zone and its recordsets move into this namespace, keeping their ids.",
    printcolumn(
        name = "Request",
        type_ = "string",
        json_path = ".spec.zoneTransferRequestId"
    ),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status"),
    printcolumn(name = "Zone", type_ = "string", json_path = ".status.zoneId"),
    printcolumn(name = "Message", type_ = "string", json_path = ".status.message"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ZoneTransferAcceptSpec {
    /// The request accepted (its id). Immutable.
    #[schemars(length(max = 36), pattern(UUID_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "zoneTransferRequestId is immutable"}]))]
    pub zone_transfer_request_id: String,
    /// The request's key. Immutable.
    #[schemars(length(min = 1, max = TRANSFER_TEXT_MAX_LEN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "key is immutable"}]))]
    pub key: String,
    /// The accepting project (Designate's `tenant_id`); the namespace's
    /// project when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = TRANSFER_PROJECT_MAX_LEN))]
    pub project_id: Option<String>,
}

/// How an accept went.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneTransferAcceptStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = nullable_enum)]
    pub status: Option<TransferState>,
    /// Why it failed (Designate's error message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = TRANSFER_TEXT_MAX_LEN))]
    pub message: Option<String>,
    /// The zone moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 36), pattern(UUID_PATTERN))]
    pub zone_id: Option<String>,
    /// When the accept ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Time>,
}

#[cfg(test)]
mod created_at_tests {
    use super::*;

    #[test]
    fn a_moved_object_keeps_its_first_creation() {
        let made: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        let mut meta = ObjectMeta {
            creation_timestamp: Some(Time("2026-12-01T00:00:00Z".parse().unwrap())),
            ..ObjectMeta::default()
        };
        assert_eq!(
            created_at(&meta),
            meta.creation_timestamp.as_ref().map(|t| t.0)
        );
        meta.annotations = Some([(CREATED_AT_ANNOTATION.to_string(), made.to_string())].into());
        assert_eq!(created_at(&meta), Some(made));
    }
}
