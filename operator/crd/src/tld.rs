//! The `Tld` kind: a top-level domain zones may be created under (Designate's
//! TLD list). Cluster-scoped: the list is the operator's, not a tenant's.
//! While none exists any TLD is allowed.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Designate's `RE_TLDNAME` without its look-arounds (RE2 and ECMA 262 have
/// none): dot-separated labels of `[A-Za-z0-9_-]`, 1 to 63 long, no leading
/// or trailing hyphen, no trailing dot.
pub const TLD_NAME_PATTERN: &str = r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$";

/// Longest TLD name: `RE_TLDNAME` refuses 255 characters or more.
pub const TLD_NAME_MAX_LEN: usize = 254;

/// Desired state of a TLD; the fields of a Designate v2 TLD.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "Tld",
    plural = "tlds",
    derive = "PartialEq",
    shortname = "dtld",
    category = "designate",
    selectable = ".spec.name",
    doc = "A top-level domain zones may be created under; with none, any TLD is allowed (Designate v2 TLD).",
    printcolumn(name = "TLD", type_ = "string", json_path = ".spec.name"),
    printcolumn(
        name = "Description",
        type_ = "string",
        json_path = ".spec.description"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct TldSpec {
    /// The TLD without a trailing dot, as Designate stores it, e.g. `com` or
    /// `co.uk`. Zone names are matched against it exactly.
    #[schemars(length(min = 1, max = TLD_NAME_MAX_LEN), pattern(TLD_NAME_PATTERN))]
    pub name: String,

    /// Free-form description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 160))]
    pub description: Option<String>,
}
