//! The `FloatingIp` kind: a neutron floating IP the Sink learned from
//! neutron's notifications, with the project it belongs to. Designate asks
//! Neutron's API which floating IPs a project has before it lets the
//! project set their PTR records (`/v2/reverse/floatingips`); with no
//! Neutron to ask, these objects are that list. Cluster-scoped: they are
//! the cloud's, written by the Sink, not by tenants.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tsigkey::UUID_PATTERN;

/// Designate's region in a floating IP key (`RE_FIP`).
pub const REGION_PATTERN: &str = r"^[A-Za-z0-9.\-_]{1,100}$";

/// A dotted-quad IPv4 address (Designate's floating IP PTRs are IPv4 only).
pub const IPV4_PATTERN: &str = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$";

/// The label of a floating IP's PTR Recordset: the FloatingIp's object
/// name. The Sink removes what carries it when the floating IP goes.
pub const PTR_LABEL: &str = "designate.openstack.org/floatingip";

/// A floating IP of a project, as neutron's notifications described it.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "FloatingIp",
    plural = "floatingips",
    derive = "PartialEq",
    shortname = "dfip",
    category = "designate",
    doc = "A floating IP of a project, learned by the Sink from neutron's notifications; its PTR record is set through /v2/reverse/floatingips.",
    printcolumn(name = "Region", type_ = "string", json_path = ".spec.region"),
    printcolumn(name = "Address", type_ = "string", json_path = ".spec.address"),
    printcolumn(name = "Project", type_ = "string", json_path = ".spec.project"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct FloatingIpSpec {
    /// The region it is in: the first half of its key `<region>:<id>`.
    #[schemars(length(min = 1, max = 100), pattern(REGION_PATTERN))]
    pub region: String,
    /// Neutron's id of the floating IP.
    #[schemars(length(max = 36), pattern(UUID_PATTERN))]
    pub floatingip_id: String,
    /// The floating IPv4 address.
    #[schemars(length(max = 15), pattern(IPV4_PATTERN))]
    pub address: String,
    /// The project (tenant id) it belongs to.
    #[schemars(length(min = 1, max = 255))]
    pub project: String,
}

impl FloatingIpSpec {
    /// Designate's key of the floating IP: `<region>:<id>`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.region, self.floatingip_id)
    }
}

impl FloatingIp {
    /// The object name of the floating IP `id` in `region`: the id (unique
    /// in practice) and a hash of the region, which may hold characters
    /// object names cannot.
    pub fn object_name(region: &str, id: &str) -> String {
        // FNV-1a: stable across builds and platforms.
        let hash = region
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        format!("fip-{}-{:08x}", id.to_ascii_lowercase(), hash as u32)
    }
}
