//! The `ZoneShare` kind: a Zone shared with another project (Designate's
//! shared zones, API 2.1). It lives in the zone's namespace, so only who
//! may change the zone may share it; the target project then sees the zone
//! and keeps recordsets of its own in it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Designate's `shared_zones.target_project_id` and `project_id` columns.
pub const SHARE_PROJECT_MAX_LEN: usize = 36;

/// The annotation naming the project that owns a Recordset of a shared
/// zone (Designate's recordset `tenant_id`), when it is not the zone's.
/// Honoured only while the zone is shared with that project.
pub const RECORDSET_PROJECT_ANNOTATION: &str = "designate.openstack.org/project-id";

/// On a share a transfer carried to the zone's new namespace: the zone's
/// Designate id, for the share's notifications (its owner reference holds
/// the uid of the zone's copy). Not signed: it names nothing but itself.
pub const SHARE_ZONE_ID_ANNOTATION: &str = "designate.openstack.org/zone-id";

/// A zone shared with another project.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "ZoneShare",
    plural = "zoneshares",
    namespaced,
    derive = "PartialEq",
    shortname = "dshare",
    category = "designate",
    selectable = ".spec.zoneRef",
    doc = "A Zone of the same namespace shared with another project (Designate's /v2/zones/{id}/shares): the project sees the zone and manages recordsets of its own in it.",
    printcolumn(name = "Zone", type_ = "string", json_path = ".spec.zoneRef"),
    printcolumn(
        name = "Target Project",
        type_ = "string",
        json_path = ".spec.targetProjectId"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ZoneShareSpec {
    /// Name of the Zone object (not the DNS name) in the same namespace. Immutable.
    #[schemars(length(min = 1, max = 253))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "zoneRef is immutable"}]))]
    pub zone_ref: String,
    /// The project the zone is shared with (a Keystone project id). Immutable.
    #[schemars(length(min = 1, max = SHARE_PROJECT_MAX_LEN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "targetProjectId is immutable"}]))]
    pub target_project_id: String,
    /// The project that shared it (Designate's `project_id`: the caller's
    /// project); the zone's project when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = SHARE_PROJECT_MAX_LEN))]
    pub project_id: Option<String>,
}

/// The owner references of a share of `zone`: the zone owns its shares, so
/// a cluster's garbage collector removes them with it (not a controller
/// reference: no controller manages shares).
pub fn share_owners(zone: &crate::Zone) -> Option<Vec<OwnerReference>> {
    zone.controller_owner_ref(&()).map(|owner| {
        vec![OwnerReference {
            controller: None,
            ..owner
        }]
    })
}
