//! The `Pool` kind: a set of nameservers and the backends that provision them
//! (Designate's `pools.yaml` entry). Cluster-scoped; the object name is the pool name.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DESCRIPTION_MAX_LEN, FQDN_PATTERN, LIST_MAX, NAME_MAX_LEN, condition_bounds};

/// Desired state of a pool.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "Pool",
    plural = "pools",
    status = "PoolStatus",
    derive = "PartialEq",
    shortname = "dpool",
    category = "designate",
    doc = "A pool of nameservers and the backend targets that provision zones on them (Designate pool).",
    printcolumn(name = "Zones", type_ = "integer", json_path = ".status.zoneCount"),
    printcolumn(
        name = "Description",
        type_ = "string",
        json_path = ".spec.description",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct PoolSpec {
    /// Free-form description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = DESCRIPTION_MAX_LEN))]
    pub description: Option<String>,

    /// Key/value attributes matched by the zone scheduler.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("additionalProperties" = {"type": "string", "maxLength": 50}, "maxProperties" = 64))]
    pub attributes: BTreeMap<String, String>,

    /// NS records published at the apex of every zone in the pool; the lowest
    /// priority one is the SOA MNAME. A pool without any takes no zones
    /// (Designate's `no_servers_configured`).
    #[serde(default)]
    #[schemars(length(max = LIST_MAX))]
    pub ns_records: Vec<PoolNsRecord>,

    /// Nameservers polled for the zone serial to decide when a change is live.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = LIST_MAX))]
    pub nameservers: Vec<HostPort>,

    /// Backends that create and delete zones on the nameservers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = LIST_MAX))]
    pub targets: Vec<PoolTarget>,

    /// Extra servers sent a NOTIFY after every zone change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = LIST_MAX))]
    pub also_notifies: Vec<HostPort>,
}

/// An apex NS record of the pool's zones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PoolNsRecord {
    /// Nameserver host name with its trailing dot, e.g. `ns1.example.net.`.
    #[schemars(length(min = 1, max = NAME_MAX_LEN), pattern(FQDN_PATTERN))]
    pub hostname: String,

    /// Ordering among the NS records; lowest first (Designate: 1 to 10000).
    #[schemars(range(min = 1, max = 10000))]
    pub priority: i32,
}

/// A DNS server address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostPort {
    /// IP address or host name.
    #[schemars(length(min = 1, max = NAME_MAX_LEN))]
    pub host: String,

    /// DNS port.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
}

/// A backend that provisions the pool's zones on its nameservers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PoolTarget {
    /// Backend driver, as in Designate: `bind9`, `pdns4`, ...
    #[serde(rename = "type")]
    #[schemars(length(min = 1, max = 63), pattern(r"^[a-z0-9_]+$"))]
    pub type_: String,

    /// Free-form description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = DESCRIPTION_MAX_LEN))]
    pub description: Option<String>,

    /// Servers the backend transfers zones from (the operator's MiniDNS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = LIST_MAX))]
    pub masters: Vec<HostPort>,

    /// Driver options, as in Designate (`rndc_host`, `rndc_port`, `rndc_key_file`,
    /// `api_endpoint`, `host`, `port`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("additionalProperties" = {"type": "string", "maxLength": 255}, "maxProperties" = 64))]
    pub options: BTreeMap<String, String>,

    /// Secret whose keys are merged over `options`, for credentials such as
    /// `api_token` or `rndc_key`, which should not be stored in the Pool itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretRef>,
}

/// Reference to a Secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    /// Secret name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// Secret namespace; the operator's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// Observed state of a pool, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PoolStatus {
    /// Standard conditions (e.g. `Ready`), one per type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    #[schemars(transform = condition_bounds)]
    pub conditions: Vec<Condition>,

    /// `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = i64::MAX))]
    pub observed_generation: Option<i64>,

    /// Number of zones scheduled to this pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = i64::MAX))]
    pub zone_count: Option<i64>,
}
