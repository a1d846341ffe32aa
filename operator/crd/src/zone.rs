//! The `Zone` kind: a DNS zone owned by a tenant (the object's namespace).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{
    DESCRIPTION_MAX_LEN, FQDN_PATTERN, LIST_MAX, MESSAGE_MAX_LEN, NAME_MAX_LEN, ResourceAction,
    ResourceStatus, SERIAL_MAX, TTL_MAX, condition_bounds, nullable_enum,
};

/// Desired state of a DNS zone; the fields of a Designate v2 zone.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "Zone",
    plural = "zones",
    namespaced,
    status = "ZoneStatus",
    derive = "PartialEq",
    shortname = "zn",
    category = "designate",
    selectable = ".spec.name",
    doc = "A DNS zone served by the nameservers of a Pool (Designate v2 zone).",
    printcolumn(name = "FQDN", type_ = "string", json_path = ".spec.name"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status"),
    printcolumn(name = "Action", type_ = "string", json_path = ".status.action"),
    printcolumn(name = "Serial", type_ = "integer", json_path = ".status.serial"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
// Cross-field rules of Designate's zone create API, enforced by the apiserver.
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.type != 'PRIMARY' || has(self.email)", "message": "email is required for PRIMARY zones"},
    {"rule": "self.type != 'SECONDARY' || (has(self.masters) && size(self.masters) > 0)", "message": "masters are required for SECONDARY zones"},
    {"rule": "self.type != 'PRIMARY' || !has(self.masters) || size(self.masters) == 0", "message": "masters are only allowed for SECONDARY zones"},
]))]
pub struct ZoneSpec {
    /// Fully qualified zone name with its trailing dot, e.g. `example.com.`. Immutable.
    #[schemars(length(min = 1, max = NAME_MAX_LEN), pattern(FQDN_PATTERN))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "name is immutable"}]))]
    pub name: String,

    /// Contact address for the SOA record (required for PRIMARY zones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = NAME_MAX_LEN), pattern(r"^[^@\s]+@[^@\s]+$"))]
    pub email: Option<String>,

    /// Default TTL of the zone's records, in seconds (Designate default: 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = TTL_MAX))]
    pub ttl: Option<i32>,

    /// Free-form description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = DESCRIPTION_MAX_LEN))]
    pub description: Option<String>,

    /// PRIMARY (records managed here) or SECONDARY (transferred from `masters`). Immutable.
    #[serde(rename = "type", default)]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "type is immutable"}]))]
    pub type_: ZoneType,

    /// Primary servers of a SECONDARY zone, as `host` or `host:port`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(min = 1, max = NAME_MAX_LEN)))]
    pub masters: Vec<String>,

    /// Name of the Pool serving this zone; the default pool when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub pool_ref: Option<String>,

    /// Scheduler hints and other key/value attributes (Designate zone attributes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend(
        "additionalProperties" = {"type": "string", "maxLength": 50},
        "maxProperties" = 64,
        "x-kubernetes-validations" = [{"rule": "self.all(k, size(k) <= 50)", "message": "attribute keys are at most 50 characters"}],
    ))]
    pub attributes: BTreeMap<String, String>,
}

/// Zone type; serialized as `PRIMARY` or `SECONDARY`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ZoneType {
    #[default]
    Primary,
    Secondary,
}

/// On a Zone being deleted: its nameservers drop whatever they kept of it
/// (Designate's `X-Designate-Hard-Delete`: BIND's zone file too). Not
/// signed: it can only clean up after the zone's own delete.
pub const HARD_DELETE_ANNOTATION: &str = "designate.openstack.org/hard-delete";

/// On a SECONDARY Zone: when a transfer from its masters was last asked for
/// (`tasks/xfr`); a new value makes the controllers check the masters now.
pub const XFR_ANNOTATION: &str = "designate.openstack.org/xfr-requested";

/// On a Zone an import is filling (the import task's id): the controllers
/// publish it once, when the import has made every recordset and takes the
/// mark off, rather than again and again as the recordsets stream in. Not
/// signed: it can only delay the zone's own publication, and the
/// controllers stop waiting a while after the zone was made (an import
/// that died).
pub const IMPORTING_ANNOTATION: &str = "designate.openstack.org/importing";

impl Zone {
    /// Whether its delete is a hard delete ([`HARD_DELETE_ANNOTATION`]).
    pub fn hard_delete(&self) -> bool {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(HARD_DELETE_ANNOTATION))
            .is_some_and(|v| v == "true")
    }
}

impl ZoneType {
    /// The wire (and Designate API) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "PRIMARY",
            Self::Secondary => "SECONDARY",
        }
    }
}

/// Observed state of a zone, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneStatus {
    /// Provisioning state on the pool's nameservers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = nullable_enum)]
    pub status: Option<ResourceStatus>,

    /// Change in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = nullable_enum)]
    pub action: Option<ResourceAction>,

    /// Current SOA serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = SERIAL_MAX))]
    pub serial: Option<i64>,

    /// Name of the Pool the zone was scheduled to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub pool: Option<String>,

    /// Per-nameserver propagation state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["host", "port"]))]
    #[schemars(length(max = LIST_MAX))]
    pub nameservers: Vec<NameserverStatus>,

    /// Standard conditions (e.g. `Ready`), one per type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    #[schemars(transform = condition_bounds)]
    pub conditions: Vec<Condition>,

    /// `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = i64::MAX))]
    pub observed_generation: Option<i64>,

    /// When the zone was first provisioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Time>,

    /// When the zone was last changed on the nameservers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Time>,

    /// When a SECONDARY zone was last transferred from its masters
    /// (Designate's `transferred_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_at: Option<Time>,

    /// The SOA record a SECONDARY zone serves (its masters' once
    /// transferred, at the published serial): REST lists it as the zone's
    /// SOA recordset, as Designate stores a transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = SOA_MAX_LEN))]
    pub soa: Option<String>,
}

/// Two names of at most 255 characters and five 10-digit numbers.
const SOA_MAX_LEN: usize = 600;

/// Propagation state of the zone on one nameserver of its pool.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NameserverStatus {
    /// Nameserver address (IP or host name).
    #[schemars(length(max = NAME_MAX_LEN))]
    pub host: String,

    /// Nameserver DNS port.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,

    /// SOA serial the nameserver last answered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = SERIAL_MAX))]
    pub serial: Option<i64>,

    /// Whether the nameserver serves the current serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = nullable_enum)]
    pub status: Option<ResourceStatus>,

    /// Human-readable detail, e.g. the last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MESSAGE_MAX_LEN))]
    pub message: Option<String>,
}
