//! The `Recordset` kind: all records of one name and type in a zone.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{
    DESCRIPTION_MAX_LEN, NAME_MAX_LEN, ResourceAction, ResourceStatus, SERIAL_MAX, TTL_MAX,
    condition_bounds, nullable_enum,
};

/// Like [`crate::common::FQDN_PATTERN`], plus Designate's optional leading `*` wildcard label.
const RECORDSET_NAME_PATTERN: &str =
    r"^(?:\*\.)?(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+$";

/// Longest record data: Designate's `records.data` is a (MySQL) `Text` column.
const RECORD_DATA_MAX_LEN: usize = 65535;

/// Field transform of `type`: the record types Designate knows (those
/// `[DEFAULT] supported_record_type` may name; SOA is refused by a rule).
fn record_types(schema: &mut schemars::Schema) {
    schema.insert(
        "enum".into(),
        designate_central::rdata::SUPPORTED_TYPES.into(),
    );
}

/// The label of a Recordset that copies part of a SECONDARY zone's last
/// transfer from its masters (the controllers write these, so that REST
/// and kubectl show what the zone serves). Such a set is never the zone's
/// content: the zone serves what its masters gave.
pub const TRANSFERRED_LABEL: &str = "designate.openstack.org/transferred";

/// Desired state of a recordset; the fields of a Designate v2 recordset.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "Recordset",
    plural = "recordsets",
    namespaced,
    status = "RecordsetStatus",
    derive = "PartialEq",
    shortname = "drs",
    category = "designate",
    selectable = ".spec.zoneRef",
    doc = "The records of one name and type in a Zone of the same namespace (Designate v2 recordset).",
    printcolumn(name = "Zone", type_ = "string", json_path = ".spec.zoneRef"),
    printcolumn(name = "FQDN", type_ = "string", json_path = ".spec.name"),
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type"),
    printcolumn(
        name = "Records",
        type_ = "string",
        json_path = ".spec.records",
        priority = 1
    ),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status"),
    printcolumn(name = "Action", type_ = "string", json_path = ".status.action"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct RecordsetSpec {
    /// Name of the Zone object (not the DNS name) in the same namespace. Immutable.
    #[schemars(length(min = 1, max = 253))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "zoneRef is immutable"}]))]
    pub zone_ref: String,

    /// Fully qualified owner name with its trailing dot, inside the zone
    /// (e.g. `www.example.com.`, `*.example.com.`). Immutable.
    #[schemars(length(min = 1, max = NAME_MAX_LEN), pattern(RECORDSET_NAME_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "name is immutable"}]))]
    pub name: String,

    /// Record type in upper case, e.g. `A`, `AAAA`, `MX`, `TXT`. SOA is managed by the zone. Immutable.
    #[serde(rename = "type")]
    #[schemars(transform = record_types)]
    #[schemars(extend("x-kubernetes-validations" = [
        {"rule": "self == oldSelf", "message": "type is immutable"},
        {"rule": "self != 'SOA'", "message": "SOA records are managed by the zone"},
    ]))]
    pub type_: String,

    /// TTL in seconds; the zone's TTL when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = TTL_MAX))]
    pub ttl: Option<i32>,

    /// Record data in presentation format, one entry per record (e.g. `10 mail.example.com.`).
    /// May be empty, as in Designate: the set exists but nothing is served.
    // How many a set holds is the project's `recordset_records` quota,
    // which Central checks: Designate states no fixed maximum.
    #[serde(default)]
    #[schemars(inner(length(max = RECORD_DATA_MAX_LEN)))]
    pub records: Vec<String>,

    /// Free-form description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = DESCRIPTION_MAX_LEN))]
    pub description: Option<String>,
}

/// Observed state of a recordset, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordsetStatus {
    /// Provisioning state on the pool's nameservers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = nullable_enum)]
    pub status: Option<ResourceStatus>,

    /// Change in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = nullable_enum)]
    pub action: Option<ResourceAction>,

    /// Zone serial that first contains the current records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = SERIAL_MAX))]
    pub serial: Option<i64>,

    /// Standard conditions (e.g. `Ready`), one per type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    #[schemars(transform = condition_bounds)]
    pub conditions: Vec<Condition>,

    /// `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = i64::MAX))]
    pub observed_generation: Option<i64>,

    /// When the records were first provisioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Time>,

    /// When the records were last changed on the nameservers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Time>,
}

impl Recordset {
    /// Whether this set copies a secondary zone's transfer
    /// ([`TRANSFERRED_LABEL`]).
    pub fn is_transferred(&self) -> bool {
        self.metadata
            .labels
            .as_ref()
            .is_some_and(|labels| labels.contains_key(TRANSFERRED_LABEL))
    }
}
