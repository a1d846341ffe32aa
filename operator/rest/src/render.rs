//! Resources as Designate renders them. A view borrows the resource and
//! answers the list fields (filters, sort keys) without rendering; only
//! the objects a response holds are rendered, as structs that serialize
//! straight into the answer (no JSON tree in between: a page of 1000 is
//! mostly that).

use designate_crd::grant;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Datelike, Timelike};
use designate_central::{Config, Soa, managed};
use designate_crd::{Pool, Recordset, ResourceAction, ResourceStatus, Zone, ZoneType};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::cache::managed_types;
use crate::list::{Field, Listed};

/// MySQL `ENUM` orders of Designate's tables (they sort by position).
const ZONE_TYPES: &[&str] = &["PRIMARY", "SECONDARY", "CATALOG"];
const STATUSES: &[&str] = &[
    "ACTIVE", "PENDING", "ERROR", "DELETED", "SUCCESS", "NO_ZONE",
];
const RECORD_TYPES: &[&str] = &[
    "A", "AAAA", "CNAME", "MX", "SRV", "TXT", "SPF", "NS", "PTR", "SSHFP", "SOA", "NAPTR", "CAA",
    "CERT", "TLSA", "HTTPS", "SVCB",
];

/// An object as Designate's notifications carry it (`dns.tld.create`, ...):
/// its fields as the API renders them, without the links.
pub(crate) fn notice_payload(rendered: impl Serialize) -> Value {
    let mut payload = serde_json::to_value(rendered).unwrap_or(Value::Null);
    if let Some(fields) = payload.as_object_mut() {
        fields.remove("links");
    }
    payload
}

/// Designate's datetime format (`%Y-%m-%dT%H:%M:%S.%f`, no zone).
pub fn datetime(time: &Time) -> String {
    DesignateTime(time.0).to_string()
}

/// A time that renders in Designate's format, written as it is serialized.
#[derive(Clone, Copy)]
pub struct DesignateTime(Timestamp);

impl DesignateTime {
    /// `YYYY-MM-DDTHH:MM:SS.ffffff`, written digit by digit: lists render
    /// two per item. Years past 9999 (not from an API server) show as 0.
    fn text(&self) -> [u8; 26] {
        let mut out = *b"0000-00-00T00:00:00.000000";
        let Some(t) =
            DateTime::from_timestamp(self.0.as_second(), self.0.subsec_nanosecond().max(0) as u32)
        else {
            return out;
        };
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, u32::try_from(t.year()).unwrap_or(0));
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        put(17, 2, t.second());
        put(20, 6, t.timestamp_subsec_micros());
        out
    }
}

impl fmt::Display for DesignateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.text()).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for DesignateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(std::str::from_utf8(&self.text()).unwrap_or_default())
    }
}

/// Pieces joined without the formatting machinery (two links per list
/// item add up).
fn concat(parts: &[&str]) -> String {
    let mut joined = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        joined.push_str(part);
    }
    joined
}

/// An object's `links`.
#[derive(Serialize)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_: String,
}

/// Status and action as Designate shows them while a change is in flight:
/// what the controller last wrote, unless the spec moved on since.
fn progress(
    deleting: bool,
    generation: Option<i64>,
    observed: Option<i64>,
    status: Option<ResourceStatus>,
    action: Option<ResourceAction>,
) -> (&'static str, &'static str) {
    if deleting {
        // A delete the backends refused shows as Designate shows it.
        if status == Some(ResourceStatus::Error) && action == Some(ResourceAction::Delete) {
            return ("ERROR", "DELETE");
        }
        return ("PENDING", "DELETE");
    }
    match status {
        Some(status) if observed >= generation => (
            status.as_str(),
            action.unwrap_or(ResourceAction::None).as_str(),
        ),
        // A change the controller has not published yet: Designate marks
        // every update UPDATE, even of an object still being created.
        _ if generation.unwrap_or(1) > 1 => ("PENDING", "UPDATE"),
        _ => ("PENDING", "CREATE"),
    }
}

/// The status and action of a set the zone itself makes (its SOA and NS,
/// a secondary's transferred sets): served with the zone's serial.
fn managed_progress(zone_pending: bool) -> (&'static str, &'static str) {
    if zone_pending {
        ("PENDING", "UPDATE")
    } else {
        ("ACTIVE", "NONE")
    }
}

/// A zone's status and action as Designate shows them.
fn zone_progress(zone: &Zone) -> (&'static str, &'static str) {
    let status = zone.status.as_ref();
    progress(
        zone.metadata.deletion_timestamp.is_some(),
        zone.metadata.generation,
        status.and_then(|s| s.observed_generation),
        status.and_then(|s| s.status),
        status.and_then(|s| s.action),
    )
}

/// Designate bumps `version` on every write of a row, the worker's status
/// updates included; a spec change and its confirmation count as two.
fn version(generation: Option<i64>, status: &str) -> i64 {
    let generation = generation.unwrap_or(1).max(1);
    2 * generation - i64::from(status == "PENDING")
}

/// A zone as the API shows it.
pub struct ZoneView {
    pub zone: Arc<Zone>,
    pub project: Arc<str>,
    pub pool: Option<Arc<Pool>>,
    /// Shared with any project.
    pub shared: bool,
    status: &'static str,
    action: &'static str,
    // Kept as timestamps: lists sort by them, and only a page is rendered.
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
}

impl ZoneView {
    pub fn new(zone: Arc<Zone>, project: Arc<str>, pool: Option<Arc<Pool>>, shared: bool) -> Self {
        let (status_text, action) = zone_progress(&zone);
        Self {
            created_at: designate_crd::created_at(&zone.metadata),
            updated_at: zone
                .status
                .as_ref()
                .and_then(|s| s.updated_at.as_ref())
                .map(|t| t.0),
            status: status_text,
            action,
            zone,
            project,
            pool,
            shared,
        }
    }

    pub fn id(&self) -> String {
        grant::id_of(&self.zone.metadata).to_owned()
    }

    pub fn name(&self) -> &str {
        &self.zone.spec.name
    }

    pub fn is_secondary(&self) -> bool {
        self.zone.spec.type_ == ZoneType::Secondary
    }

    pub fn is_pending(&self) -> bool {
        self.status == "PENDING"
    }

    pub fn action(&self) -> &'static str {
        self.action
    }

    fn type_str(&self) -> &'static str {
        if self.is_secondary() {
            "SECONDARY"
        } else {
            "PRIMARY"
        }
    }

    pub fn ttl(&self, cfg: &Config) -> i64 {
        self.zone.spec.ttl.map(i64::from).unwrap_or(cfg.default_ttl)
    }

    pub fn email<'a>(&'a self, cfg: &'a Config) -> &'a str {
        match &self.zone.spec.email {
            Some(email) if !self.is_secondary() => email,
            _ => &cfg.managed_resource_email,
        }
    }

    /// The serial published, else the one Designate gives a new zone
    /// (its creation time; 1 for a SECONDARY).
    pub fn serial(&self) -> i64 {
        let published = self.zone.status.as_ref().and_then(|s| s.serial);
        match published {
            Some(serial) => serial,
            None if self.is_secondary() => 1,
            None => self
                .zone
                .metadata
                .creation_timestamp
                .as_ref()
                .map_or(0, |t| t.0.as_second()),
        }
    }

    pub fn pool_id(&self) -> Option<&str> {
        self.pool.as_ref().map(|p| grant::id_of(&p.metadata))
    }

    /// The managed SOA and apex NS recordsets (a SECONDARY's SOA only).
    pub fn managed(&self, cfg: &Config) -> Vec<RecordsetView> {
        let zone_id = Listed::id(self);
        managed_types(self.zone.spec.type_)
            .iter()
            .map(|&type_| {
                self.managed_recordset(cfg, type_, managed::managed_rrset_id(zone_id, type_))
            })
            .collect()
    }

    /// The managed recordset of a type, whose id is known. Its records are
    /// made when first asked for: a list of many zones shows only a page of
    /// them.
    pub fn managed_recordset(
        &self,
        cfg: &Config,
        type_: &'static str,
        id: String,
    ) -> RecordsetView {
        let (status, action) = managed_progress(self.is_pending());
        RecordsetView {
            source: Source::Managed {
                id,
                type_,
                inputs: ManagedInputs {
                    pool: self.pool.clone(),
                    email: self.email(cfg).to_string(),
                    serial: self.serial(),
                    refresh: designate_central::plan::refresh_for(Listed::id(self), cfg),
                    retry: cfg.soa_retry,
                    expire: cfg.soa_expire,
                    minimum: cfg.soa_minimum,
                    served_soa: self.zone.status.as_ref().and_then(|s| s.soa.clone()),
                },
                records: OnceLock::new(),
            },
            zone: self.zone.clone(),
            project: self.project.clone(),
            status,
            action,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn render<'a>(&'a self, base: &str, cfg: &'a Config) -> ZoneJson<'a> {
        let id = Listed::id(self);
        let spec = &self.zone.spec;
        ZoneJson {
            id,
            pool_id: self.pool_id(),
            project_id: &self.project,
            name: &spec.name,
            email: self.email(cfg),
            description: spec.description.as_deref(),
            ttl: self.ttl(cfg),
            serial: self.serial(),
            shared: self.shared,
            status: self.status,
            action: self.action,
            version: version(self.zone.metadata.generation, self.status),
            attributes: &spec.attributes,
            type_: self.type_str(),
            masters: &spec.masters,
            created_at: self.created_at.map(DesignateTime),
            updated_at: self.updated_at.map(DesignateTime),
            // A secondary zone's last transfer from its masters (a zone
            // moved between projects keeps null, as Designate 23's).
            transferred_at: self
                .zone
                .status
                .as_ref()
                .and_then(|s| s.transferred_at.as_ref())
                .map(|t| DesignateTime(t.0)),
            links: Links {
                self_: concat(&[base, "/v2/zones/", id]),
            },
        }
    }
}

/// A zone as Designate's JSON shows it.
#[derive(Serialize)]
pub struct ZoneJson<'a> {
    id: &'a str,
    pool_id: Option<&'a str>,
    project_id: &'a str,
    name: &'a str,
    email: &'a str,
    description: Option<&'a str>,
    ttl: i64,
    serial: i64,
    shared: bool,
    status: &'static str,
    action: &'static str,
    version: i64,
    attributes: &'a BTreeMap<String, String>,
    #[serde(rename = "type")]
    type_: &'static str,
    masters: &'a [String],
    created_at: Option<DesignateTime>,
    updated_at: Option<DesignateTime>,
    transferred_at: Option<DesignateTime>,
    pub links: Links,
}

impl Listed for ZoneView {
    fn id(&self) -> &str {
        grant::id_of(&self.zone.metadata)
    }

    fn field(&self, key: &str) -> Field<'_> {
        let spec = &self.zone.spec;
        match key {
            "name" => Field::Text(Some(&spec.name)),
            "type" => Field::Enum(self.type_str(), ZONE_TYPES),
            "status" => Field::Enum(self.status, STATUSES),
            "email" => Field::Text(spec.email.as_deref()),
            "description" => Field::Text(spec.description.as_deref()),
            "ttl" => Field::Int(spec.ttl.map(i64::from)),
            "serial" => Field::Int(Some(self.serial())),
            "tenant_id" => Field::Text(Some(self.project.as_ref())),
            "created_at" => Field::Int(self.created_at.map(|t| t.as_microsecond())),
            "updated_at" => Field::Int(self.updated_at.map(|t| t.as_microsecond())),
            "id" => Field::Text(Some(grant::id_of(&self.zone.metadata))),
            _ => Field::Text(None),
        }
    }
}

/// Where a recordset comes from: a `Recordset` resource, or Central's
/// managed SOA and apex NS.
pub enum Source {
    Resource(Arc<Recordset>),
    Managed {
        id: String,
        type_: &'static str,
        inputs: ManagedInputs,
        records: OnceLock<Vec<String>>,
    },
}

/// What a zone's managed records are made from.
pub struct ManagedInputs {
    pool: Option<Arc<Pool>>,
    email: String,
    serial: i64,
    refresh: i64,
    retry: i64,
    expire: i64,
    minimum: i64,
    /// A SECONDARY zone's SOA as served (its masters' once transferred).
    served_soa: Option<String>,
}

impl ManagedInputs {
    /// The records Central generates, as it does.
    fn records(&self, type_: &str) -> Vec<String> {
        if type_ == "SOA"
            && let Some(soa) = &self.served_soa
        {
            return vec![soa.clone()];
        }
        let ns_records = self
            .pool
            .as_ref()
            .map(|p| p.ns_records())
            .unwrap_or_default();
        if type_ == "NS" {
            return managed::apex_ns_records(&ns_records);
        }
        let soa = Soa {
            mname: managed::mname(&ns_records).unwrap_or_default().to_string(),
            email: self.email.clone(),
            refresh: self.refresh,
            retry: self.retry,
            expire: self.expire,
            minimum: self.minimum,
        };
        vec![managed::soa_rdata(&soa, self.serial)]
    }
}

/// A recordset as the API shows it.
pub struct RecordsetView {
    pub source: Source,
    pub zone: Arc<Zone>,
    pub project: Arc<str>,
    status: &'static str,
    action: &'static str,
    // Kept as timestamps: lists sort by them, and only a page is rendered.
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
}

impl RecordsetView {
    pub fn new(rs: Arc<Recordset>, zone: Arc<Zone>, project: Arc<str>) -> Self {
        let status = rs.status.as_ref();
        let deleting = rs.metadata.deletion_timestamp.is_some();
        let (status_text, action) = if rs.spec.records.is_empty() && !deleting {
            // Designate derives a set's status from its records: none is ACTIVE.
            ("ACTIVE", "NONE")
        } else if rs.is_transferred() && !deleting {
            // A copy of a secondary zone's transfer is served with the
            // zone's serial, as its managed sets are.
            managed_progress(zone_progress(&zone).0 == "PENDING")
        } else {
            progress(
                deleting,
                rs.metadata.generation,
                status.and_then(|s| s.observed_generation),
                status.and_then(|s| s.status),
                status.and_then(|s| s.action),
            )
        };
        Self {
            created_at: designate_crd::created_at(&rs.metadata),
            updated_at: status.and_then(|s| s.updated_at.as_ref()).map(|t| t.0),
            status: status_text,
            action,
            source: Source::Resource(rs),
            zone,
            project,
        }
    }

    pub fn id(&self) -> &str {
        match &self.source {
            Source::Resource(rs) => grant::id_of(&rs.metadata),
            Source::Managed { id, .. } => id,
        }
    }

    pub fn is_pending(&self) -> bool {
        self.status == "PENDING"
    }

    pub fn is_managed(&self) -> bool {
        matches!(self.source, Source::Managed { .. })
    }

    pub fn status(&self) -> &'static str {
        self.status
    }

    pub fn action(&self) -> &'static str {
        self.action
    }

    pub fn type_(&self) -> &str {
        match &self.source {
            Source::Resource(rs) => &rs.spec.type_,
            Source::Managed { type_, .. } => type_,
        }
    }

    pub fn name(&self) -> &str {
        match &self.source {
            Source::Resource(rs) => &rs.spec.name,
            Source::Managed { .. } => &self.zone.spec.name,
        }
    }

    pub fn records(&self) -> &[String] {
        match &self.source {
            Source::Resource(rs) => &rs.spec.records,
            Source::Managed {
                type_,
                inputs,
                records,
                ..
            } => records.get_or_init(|| inputs.records(type_)),
        }
    }

    pub fn resource(&self) -> Option<&Arc<Recordset>> {
        match &self.source {
            Source::Resource(rs) => Some(rs),
            Source::Managed { .. } => None,
        }
    }

    pub(crate) fn ttl(&self) -> Option<i64> {
        self.resource().and_then(|rs| rs.spec.ttl).map(i64::from)
    }

    fn description(&self) -> Option<&str> {
        self.resource()
            .and_then(|rs| rs.spec.description.as_deref())
    }

    pub fn zone_id(&self) -> &str {
        grant::id_of(&self.zone.metadata)
    }

    pub fn render(&self, base: &str) -> RecordsetJson<'_> {
        let (id, zone_id) = (self.id(), self.zone_id());
        let generation = self.resource().and_then(|rs| rs.metadata.generation);
        RecordsetJson {
            id,
            zone_id,
            project_id: &self.project,
            name: self.name(),
            zone_name: &self.zone.spec.name,
            type_: self.type_(),
            records: self.records(),
            description: self.description(),
            ttl: self.ttl(),
            status: self.status,
            action: self.action,
            version: version(generation, self.status),
            created_at: self.created_at.map(DesignateTime),
            updated_at: self.updated_at.map(DesignateTime),
            links: Links {
                self_: concat(&[base, "/v2/zones/", zone_id, "/recordsets/", id]),
            },
        }
    }
}

/// A recordset as Designate's JSON shows it.
#[derive(Serialize)]
pub struct RecordsetJson<'a> {
    id: &'a str,
    zone_id: &'a str,
    project_id: &'a str,
    name: &'a str,
    zone_name: &'a str,
    #[serde(rename = "type")]
    type_: &'a str,
    records: &'a [String],
    description: Option<&'a str>,
    ttl: Option<i64>,
    status: &'static str,
    action: &'static str,
    version: i64,
    created_at: Option<DesignateTime>,
    updated_at: Option<DesignateTime>,
    pub links: Links,
}

impl Listed for RecordsetView {
    fn id(&self) -> &str {
        RecordsetView::id(self)
    }

    fn field(&self, key: &str) -> Field<'_> {
        match key {
            "name" => Field::Text(Some(self.name())),
            "type" => Field::Enum(self.type_(), RECORD_TYPES),
            "status" => Field::Enum(self.status, STATUSES),
            "ttl" => Field::Int(self.ttl()),
            "description" => Field::Text(self.description()),
            "data" | "records" => Field::Many(self.records().iter().map(String::as_str).collect()),
            "zone_id" => Field::Text(Some(self.zone_id())),
            "tenant_id" => Field::Text(Some(self.project.as_ref())),
            "created_at" => Field::Int(self.created_at.map(|t| t.as_microsecond())),
            "updated_at" => Field::Int(self.updated_at.map(|t| t.as_microsecond())),
            "id" => Field::Text(Some(RecordsetView::id(self))),
            _ => Field::Text(None),
        }
    }
}

/// A pool as the API shows it (targets and nameservers stay private).
pub fn pool(pool: &Pool, base: &str) -> Value {
    let id = grant::id_of(&pool.metadata);
    json!({
        "id": id,
        "project_id": null,
        "name": pool.name_any(),
        "description": pool.spec.description,
        "attributes": pool.spec.attributes,
        "ns_records": nameservers(pool),
        "created_at": pool.metadata.creation_timestamp.as_ref().map(datetime),
        "updated_at": null,
        "links": {"self": format!("{base}/v2/pools/{id}")},
    })
}

/// A pool's NS records as `GET /v2/zones/{id}/nameservers` lists them.
pub fn nameservers(pool: &Pool) -> Value {
    pool.spec
        .ns_records
        .iter()
        .map(|ns| json!({"priority": ns.priority, "hostname": ns.hostname}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::{ZoneSpec, ZoneStatus};

    #[test]
    fn a_secondary_lists_its_served_soa_and_no_ns() {
        let mut zone = Zone::new(
            "example-org",
            ZoneSpec {
                name: "example.org.".into(),
                type_: ZoneType::Secondary,
                masters: vec!["192.0.2.1".into()],
                ..ZoneSpec::default()
            },
        );
        let cfg = Config::default();
        let view = |zone: &Zone| ZoneView::new(Arc::new(zone.clone()), Arc::from("p"), None, false);
        let types = |views: &[RecordsetView]| {
            views
                .iter()
                .map(|v| v.type_().to_string())
                .collect::<Vec<_>>()
        };
        // Before its first transfer: Central's SOA at serial 1, as Designate's.
        let before = view(&zone).managed(&cfg);
        assert_eq!(types(&before), ["SOA"]);
        let soa = before[0].records()[0].clone();
        assert_eq!(soa.split(' ').nth(2), Some("1"), "{soa}");
        // Transferred: the masters' SOA as the zone serves it.
        let served = "ns1.master.net. admin.master.net. 2024010101 3600 600 86400 300";
        zone.status = Some(ZoneStatus {
            serial: Some(2_024_010_101),
            soa: Some(served.into()),
            ..ZoneStatus::default()
        });
        let after = view(&zone).managed(&cfg);
        assert_eq!(types(&after), ["SOA"]);
        assert_eq!(after[0].records(), [served]);
        assert_eq!(after[0].id(), before[0].id());
    }

    #[test]
    fn versions_count_writes_and_confirmations() {
        assert_eq!(version(Some(1), "PENDING"), 1);
        assert_eq!(version(Some(1), "ACTIVE"), 2);
        assert_eq!(version(Some(2), "PENDING"), 3);
    }

    #[test]
    fn an_unobserved_generation_is_pending() {
        let active = Some(ResourceStatus::Active);
        let none = Some(ResourceAction::None);
        assert_eq!(
            progress(false, Some(2), Some(2), active, none),
            ("ACTIVE", "NONE")
        );
        assert_eq!(
            progress(false, Some(3), Some(2), active, none),
            ("PENDING", "UPDATE")
        );
        assert_eq!(
            progress(false, Some(1), None, None, None),
            ("PENDING", "CREATE")
        );
        // Updated before the controller saw the create.
        assert_eq!(
            progress(false, Some(2), None, None, None),
            ("PENDING", "UPDATE")
        );
        assert_eq!(
            progress(true, Some(1), Some(1), active, none),
            ("PENDING", "DELETE")
        );
    }

    #[test]
    fn datetimes_have_microseconds_and_no_zone() {
        let t = Time("2026-11-25T12:44:08Z".parse().unwrap());
        assert_eq!(datetime(&t), "2026-11-25T12:44:08.000000");
        let t = Time("1999-01-02T03:04:05.000607Z".parse().unwrap());
        assert_eq!(
            serde_json::to_string(&DesignateTime(t.0)).unwrap(),
            "\"1999-01-02T03:04:05.000607\""
        );
    }
}
