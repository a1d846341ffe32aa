//! Resources as Designate renders them. A view borrows the resource and
//! answers the list fields (filters, sort keys) without rendering; only
//! the objects a response holds are turned into JSON.

use std::sync::{Arc, OnceLock};

use chrono::DateTime;
use designate_central::{Config, Soa, managed};
use designate_crd::{Pool, Recordset, ResourceAction, ResourceStatus, Zone, ZoneType};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde_json::{Value, json};

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

/// Designate's datetime format (`%Y-%m-%dT%H:%M:%S.%f`, no zone).
pub fn datetime(time: &Time) -> String {
    format_timestamp(time.0)
}

fn format_timestamp(ts: Timestamp) -> String {
    DateTime::from_timestamp(ts.as_second(), ts.subsec_nanosecond().max(0) as u32)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
        .unwrap_or_default()
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
        return ("PENDING", "DELETE");
    }
    match (status, action) {
        (None, _) => ("PENDING", "CREATE"),
        (Some(status), action) if observed >= generation => (
            status.as_str(),
            action.unwrap_or(ResourceAction::None).as_str(),
        ),
        // A new generation the controller has not published yet.
        (Some(ResourceStatus::Active), _)
        | (_, Some(ResourceAction::Update | ResourceAction::None)) => ("PENDING", "UPDATE"),
        _ => ("PENDING", "CREATE"),
    }
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
    status: &'static str,
    action: &'static str,
    // Kept as timestamps: lists sort by them, and only a page is rendered.
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
}

impl ZoneView {
    pub fn new(zone: Arc<Zone>, project: Arc<str>, pool: Option<Arc<Pool>>) -> Self {
        let status = zone.status.as_ref();
        let (status_text, action) = progress(
            zone.metadata.deletion_timestamp.is_some(),
            zone.metadata.generation,
            status.and_then(|s| s.observed_generation),
            status.and_then(|s| s.status),
            status.and_then(|s| s.action),
        );
        Self {
            created_at: zone.metadata.creation_timestamp.as_ref().map(|t| t.0),
            updated_at: status.and_then(|s| s.updated_at.as_ref()).map(|t| t.0),
            status: status_text,
            action,
            zone,
            project,
            pool,
        }
    }

    pub fn id(&self) -> String {
        self.zone.uid().unwrap_or_default()
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

    pub fn email(&self, cfg: &Config) -> String {
        match &self.zone.spec.email {
            Some(email) if !self.is_secondary() => email.clone(),
            _ => cfg.managed_resource_email.clone(),
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

    pub fn pool_id(&self) -> Option<String> {
        self.pool.as_ref().and_then(|p| p.uid())
    }

    /// The managed SOA and apex NS recordsets (none for a SECONDARY). Their
    /// records are made when first asked for: a list of many zones shows
    /// only a page of them.
    pub fn managed(&self, cfg: &Config) -> Vec<RecordsetView> {
        if self.is_secondary() {
            return Vec::new();
        }
        let id = self.id();
        let inputs = Arc::new(ManagedInputs {
            zone_id: id.clone(),
            zone_name: self.name().to_string(),
            pool: self.pool.clone(),
            email: self.email(cfg),
            serial: self.serial(),
            refresh: designate_central::plan::refresh_for(&id, cfg),
            retry: cfg.soa_retry,
            expire: cfg.soa_expire,
            minimum: cfg.soa_minimum,
        });
        let (status, action) = if self.is_pending() {
            ("PENDING", "UPDATE")
        } else {
            ("ACTIVE", "NONE")
        };
        ["SOA", "NS"]
            .into_iter()
            .map(|type_| RecordsetView {
                source: Source::Managed {
                    id: managed::managed_rrset_id(&id, type_),
                    type_,
                    inputs: inputs.clone(),
                    records: OnceLock::new(),
                },
                zone: self.zone.clone(),
                project: self.project.clone(),
                status,
                action,
                created_at: self.created_at,
                updated_at: self.updated_at,
            })
            .collect()
    }

    pub fn render(&self, base: &str, cfg: &Config) -> Value {
        let id = self.id();
        let spec = &self.zone.spec;
        json!({
            "id": id,
            "pool_id": self.pool_id(),
            "project_id": self.project.as_ref(),
            "name": spec.name,
            "email": self.email(cfg),
            "description": spec.description,
            "ttl": self.ttl(cfg),
            "serial": self.serial(),
            "shared": false,
            "status": self.status,
            "action": self.action,
            "version": version(self.zone.metadata.generation, self.status),
            "attributes": spec.attributes,
            "type": self.type_str(),
            "masters": spec.masters,
            "created_at": self.created_at.map(format_timestamp),
            "updated_at": self.updated_at.map(format_timestamp),
            "transferred_at": null,
            "links": {"self": format!("{base}/v2/zones/{id}")},
        })
    }
}

impl Listed for ZoneView {
    fn id(&self) -> &str {
        self.zone.metadata.uid.as_deref().unwrap_or_default()
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
            "id" => Field::Text(self.zone.metadata.uid.as_deref()),
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
        inputs: Arc<ManagedInputs>,
        records: OnceLock<Vec<String>>,
    },
}

/// What a zone's managed records are made from.
pub struct ManagedInputs {
    zone_id: String,
    zone_name: String,
    pool: Option<Arc<Pool>>,
    email: String,
    serial: i64,
    refresh: i64,
    retry: i64,
    expire: i64,
    minimum: i64,
}

impl ManagedInputs {
    /// The records Central generates, as it does.
    fn records(&self, type_: &str) -> Vec<String> {
        let ns_records = self
            .pool
            .as_ref()
            .map(|p| p.ns_records())
            .unwrap_or_default();
        if type_ == "NS" {
            return managed::apex_ns_rrset(&self.zone_id, &self.zone_name, &ns_records).records;
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
        let (status_text, action) =
            if rs.spec.records.is_empty() && rs.metadata.deletion_timestamp.is_none() {
                // Designate derives a set's status from its records: none is ACTIVE.
                ("ACTIVE", "NONE")
            } else {
                progress(
                    rs.metadata.deletion_timestamp.is_some(),
                    rs.metadata.generation,
                    status.and_then(|s| s.observed_generation),
                    status.and_then(|s| s.status),
                    status.and_then(|s| s.action),
                )
            };
        Self {
            created_at: rs.metadata.creation_timestamp.as_ref().map(|t| t.0),
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
            Source::Resource(rs) => rs.metadata.uid.as_deref().unwrap_or_default(),
            Source::Managed { id, .. } => id,
        }
    }

    pub fn is_managed(&self) -> bool {
        matches!(self.source, Source::Managed { .. })
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

    fn ttl(&self) -> Option<i64> {
        self.resource().and_then(|rs| rs.spec.ttl).map(i64::from)
    }

    fn description(&self) -> Option<&str> {
        self.resource()
            .and_then(|rs| rs.spec.description.as_deref())
    }

    pub fn zone_id(&self) -> &str {
        self.zone.metadata.uid.as_deref().unwrap_or_default()
    }

    pub fn render(&self, base: &str) -> Value {
        let (id, zone_id) = (self.id(), self.zone_id());
        let generation = self.resource().and_then(|rs| rs.metadata.generation);
        json!({
            "id": id,
            "zone_id": zone_id,
            "project_id": self.project.as_ref(),
            "name": self.name(),
            "zone_name": self.zone.spec.name,
            "type": self.type_(),
            "records": self.records(),
            "description": self.description(),
            "ttl": self.ttl(),
            "status": self.status,
            "action": self.action,
            "version": version(generation, self.status),
            "created_at": self.created_at.map(format_timestamp),
            "updated_at": self.updated_at.map(format_timestamp),
            "links": {"self": format!("{base}/v2/zones/{zone_id}/recordsets/{id}")},
        })
    }
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
    let id = pool.uid().unwrap_or_default();
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
        assert_eq!(
            progress(true, Some(1), Some(1), active, none),
            ("PENDING", "DELETE")
        );
    }

    #[test]
    fn datetimes_have_microseconds_and_no_zone() {
        let t = Time("2026-11-25T12:44:08Z".parse().unwrap());
        assert_eq!(datetime(&t), "2026-11-25T12:44:08.000000");
    }
}
