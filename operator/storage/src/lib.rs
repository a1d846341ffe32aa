//! `designate-storage`: the published zone data (pools, zones, recordsets,
//! records and the serial history for IXFR) in SQL through sea-orm.
//!
//! The same schema runs on SQLite (standalone), MySQL/MariaDB and PostgreSQL.
//! Every change of one zone is one transaction that takes the zone's row lock,
//! checks the serial the change was planned against, and stamps the next serial.

use designate_central::{NsRecord, Rrset, ZoneOwner, ZoneRow};

/// Errors of storage; `reason()` is the stable label.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The zone changed since the change was planned (another writer won).
    #[error("zone {zone} changed concurrently: planned against serial {planned:?}, found {found:?}")]
    Conflict {
        zone: String,
        planned: Option<i64>,
        found: Option<i64>,
    },
    /// Another zone of the same name exists in the pool.
    #[error("zone name {0} is already taken in this pool")]
    NameTaken(String),
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Db(_) => "DatabaseError",
            Self::Conflict { .. } => "Conflict",
            Self::NameTaken(_) => "DuplicateZone",
        }
    }
}

/// A DNS server address.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

/// A pool as storage keeps it (what MiniDNS and the backends need).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoolRecord {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub ns_records: Vec<NsRecord>,
    pub nameservers: Vec<HostPort>,
    pub also_notifies: Vec<HostPort>,
    /// Backend targets, without secrets (driver-specific JSON).
    pub targets: serde_json::Value,
}

/// The cheap summary of a published zone, for no-op reconciles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneState {
    pub serial: i64,
    pub fingerprint: String,
}

/// A published recordset with the serial at which its content last changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRrset {
    pub rrset: Rrset,
    pub serial: i64,
}

/// A published zone with all its recordsets (SOA included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredZone {
    pub zone: ZoneRow,
    pub serial: i64,
    pub fingerprint: String,
    pub rrsets: Vec<StoredRrset>,
}

/// One change of one zone, applied in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneChange {
    /// The zone's new zone-level fields.
    pub zone: ZoneRow,
    /// Opaque digest of the inputs this change was planned from.
    pub fingerprint: String,
    /// The serial the change was planned against; `None` creates the zone.
    pub base_serial: Option<i64>,
    /// Recordsets to create or replace (full content), never the SOA.
    pub upsert: Vec<Rrset>,
    /// Ids of recordsets to remove.
    pub delete: Vec<String>,
}

/// A database holding published zones.
#[derive(Clone, Debug)]
pub struct Storage {
    db: sea_orm::DatabaseConnection,
}

impl Storage {
    /// Connects to `url` (`sqlite://path?mode=rwc`, `mysql://...`, `postgres://...`)
    /// and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let db = sea_orm::Database::connect(url).await?;
        Ok(Self { db })
    }

    pub async fn upsert_pool(&self, pool: &PoolRecord) -> Result<(), Error> {
        let _ = (&self.db, pool);
        unimplemented!()
    }

    pub async fn delete_pool(&self, id: &str) -> Result<(), Error> {
        let _ = id;
        unimplemented!()
    }

    /// Serial and fingerprint of a published zone: one indexed row.
    pub async fn zone_state(&self, id: &str) -> Result<Option<ZoneState>, Error> {
        let _ = id;
        unimplemented!()
    }

    /// A published zone with all its recordsets.
    pub async fn load_zone(&self, id: &str) -> Result<Option<StoredZone>, Error> {
        let _ = id;
        unimplemented!()
    }

    /// Zones of any project named `name`, or an ancestor or descendant of it.
    pub async fn related_zones(&self, name: &str) -> Result<Vec<ZoneOwner>, Error> {
        let _ = name;
        unimplemented!()
    }

    /// Number of zones of a project.
    pub async fn count_project_zones(&self, project: &str) -> Result<u64, Error> {
        let _ = project;
        unimplemented!()
    }

    /// Applies one change in one transaction and returns the new serial
    /// (`max(old + 1, now_unix)`).
    pub async fn publish(&self, change: &ZoneChange, now_unix: i64) -> Result<i64, Error> {
        let _ = (change, now_unix);
        unimplemented!()
    }

    /// Removes a zone and everything published for it; `false` when absent.
    pub async fn delete_zone(&self, id: &str) -> Result<bool, Error> {
        let _ = id;
        unimplemented!()
    }
}
