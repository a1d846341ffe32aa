//! The `ZoneTask` kind: a zone export or import of a project (Designate's
//! `zone_tasks`, `/v2/zones/tasks/exports` and `/v2/zones/tasks/imports`),
//! in the project's namespace.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::nullable_enum;
use crate::tsigkey::UUID_PATTERN;

/// Designate's `zone_tasks.message` (`StringFields(maxLength=160)`).
pub const TASK_MESSAGE_MAX_LEN: usize = 160;

/// What a task does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ZoneTaskType {
    #[default]
    Export,
    Import,
}

/// Where a task stands (Designate's task `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ZoneTaskState {
    Pending,
    Complete,
    Error,
}

impl ZoneTaskState {
    /// The wire (and Designate API) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Complete => "COMPLETE",
            Self::Error => "ERROR",
        }
    }
}

/// A zone export or import.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "ZoneTask",
    plural = "zonetasks",
    namespaced,
    status = "ZoneTaskStatus",
    derive = "PartialEq",
    shortname = "dtask",
    category = "designate",
    doc = "A zone export or import of the namespace's project (Designate's /v2/zones/tasks/exports and /v2/zones/tasks/imports).",
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.taskType"),
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
pub struct ZoneTaskSpec {
    /// `EXPORT` or `IMPORT`. Immutable.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "taskType is immutable"}]))]
    pub task_type: ZoneTaskType,
    /// An export's zone (its id). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 36), pattern(UUID_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "zoneId is immutable"}]))]
    pub zone_id: Option<String>,
    /// The project the task is for (Designate's `tenant_id`: the caller's);
    /// the namespace's project when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub project_id: Option<String>,
}

/// How a task ended, once it did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneTaskStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = nullable_enum)]
    pub status: Option<ZoneTaskState>,
    /// Designate's message (`<zone> imported`, or why it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = TASK_MESSAGE_MAX_LEN))]
    pub message: Option<String>,
    /// The zone exported, or the zone an import made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 36), pattern(UUID_PATTERN))]
    pub zone_id: Option<String>,
    /// When the task ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Time>,
}
