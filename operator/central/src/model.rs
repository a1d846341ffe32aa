//! The domain types Central works on: what a tenant asked for (inputs),
//! the configuration of the rules, and the published zone data that storage
//! keeps and MiniDNS serves.

use serde::{Deserialize, Serialize};

/// Designate's `[DEFAULT] quota_*` limits; a negative limit means unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    pub zones: i64,
    pub zone_recordsets: i64,
    pub zone_records: i64,
    pub recordset_records: i64,
    pub api_export_size: i64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            zones: 10,
            zone_recordsets: 500,
            zone_records: 500,
            recordset_records: 20,
            api_export_size: 1000,
        }
    }
}

/// The knobs of Central's rules, with Designate's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `[service:central] max_zone_name_len`.
    pub max_zone_name_len: usize,
    /// `[service:central] max_recordset_name_len`.
    pub max_recordset_name_len: usize,
    /// `[service:central] min_ttl`.
    pub min_ttl: i64,
    /// `[DEFAULT] default_ttl`: the TTL of a zone created without one.
    pub default_ttl: i64,
    /// `[DEFAULT] supported_record_type`.
    pub supported_record_types: Vec<String>,
    /// Known TLDs (without the trailing dot); empty means "any TLD".
    pub tlds: Vec<String>,
    /// Blacklist patterns (regular expressions searched in the zone name).
    pub blacklists: Vec<String>,
    /// Default quotas (per-project overrides come with the REST issue).
    pub quotas: Quotas,
    /// `[service:central] managed_resource_email`.
    pub managed_resource_email: String,
    /// `[service:central] managed_resource_tenant_id`: the project of the
    /// zones Designate makes itself (the reverse zones of floating IP PTRs).
    pub managed_resource_tenant_id: String,
    /// SOA timers: `[DEFAULT] default_soa_refresh_min/max`, `_retry`, `_expire`, `_minimum`.
    pub soa_refresh_min: i64,
    pub soa_refresh_max: i64,
    pub soa_retry: i64,
    pub soa_expire: i64,
    pub soa_minimum: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_zone_name_len: 255,
            max_recordset_name_len: 255,
            min_ttl: 0,
            default_ttl: 3600,
            supported_record_types: crate::rdata::SUPPORTED_TYPES
                .iter()
                .map(|t| t.to_string())
                .collect(),
            tlds: Vec::new(),
            blacklists: Vec::new(),
            quotas: Quotas::default(),
            managed_resource_email: "hostmaster@example.com".into(),
            managed_resource_tenant_id: "00000000-0000-0000-0000-000000000000".into(),
            soa_refresh_min: 3500,
            soa_refresh_max: 3600,
            soa_retry: 600,
            soa_expire: 86400,
            soa_minimum: 3600,
        }
    }
}

/// What the caller may do beyond a member's rights (Designate policies).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Privileges {
    /// `use_low_ttl`: TTLs below `min_ttl`.
    pub low_ttl: bool,
    /// `use_blacklisted_zone`: names matching a blacklist.
    pub blacklisted_zone: bool,
    /// `edit_managed_records`: change managed (apex NS) recordsets.
    pub edit_managed_records: bool,
}

/// Zone type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ZoneKind {
    #[default]
    Primary,
    Secondary,
}

impl ZoneKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "PRIMARY",
            Self::Secondary => "SECONDARY",
        }
    }
}

/// A zone as a tenant asked for it (a `Zone` resource or a REST body).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZoneInput {
    /// Stable id (the resource's uid).
    pub id: String,
    /// Owning project (the resource's namespace).
    pub project: String,
    /// FQDN with trailing dot.
    pub name: String,
    pub email: Option<String>,
    pub ttl: Option<i64>,
    pub description: Option<String>,
    pub kind: ZoneKind,
    pub masters: Vec<String>,
}

/// A recordset as a tenant asked for it (a `Recordset` resource or a REST body).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordsetInput {
    /// Stable id (the resource's uid).
    pub id: String,
    /// FQDN with trailing dot.
    pub name: String,
    /// Record type, upper case.
    pub type_: String,
    pub ttl: Option<i64>,
    pub records: Vec<String>,
    pub description: Option<String>,
}

/// Another project's (or our own) zone that a new zone name may clash with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneOwner {
    pub id: String,
    pub name: String,
    pub project: String,
}

/// An apex NS record of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsRecord {
    pub hostname: String,
    pub priority: i64,
}

/// The SOA fields kept on the zone; the serial is stamped when published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Soa {
    /// Primary nameserver (the pool NS record with the lowest priority).
    pub mname: String,
    /// Zone email, as given (`hostmaster@example.com`).
    pub email: String,
    pub refresh: i64,
    pub retry: i64,
    pub expire: i64,
    pub minimum: i64,
}

/// One published RRset: what storage keeps and MiniDNS serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rrset {
    /// Recordset id: the resource uid, or a derived id for managed sets.
    pub id: String,
    /// FQDN with trailing dot.
    pub name: String,
    pub type_: String,
    /// Own TTL; `None` means the zone's TTL.
    pub ttl: Option<i64>,
    /// Normalised rdata, in the order given.
    pub records: Vec<String>,
    pub description: Option<String>,
    /// Generated by Central (SOA, apex NS), not by a tenant.
    pub managed: bool,
}

/// The zone-level fields of a published zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRow {
    pub id: String,
    pub project: String,
    pub name: String,
    pub pool_id: String,
    pub kind: ZoneKind,
    pub ttl: i64,
    pub description: Option<String>,
    pub masters: Vec<String>,
    pub soa: Soa,
}
