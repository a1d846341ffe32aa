//! `designate-storage`: the published zone data (pools, zones, recordsets,
//! records and the serial history for IXFR) in SQL through sea-orm.
//!
//! The same schema runs on SQLite (standalone), MySQL/MariaDB and PostgreSQL.
//! Every change of one zone is one transaction that takes the zone's row lock
//! (`SELECT ... FOR UPDATE` on MySQL/PostgreSQL; on SQLite, which has no row
//! locks, `BEGIN IMMEDIATE` behind a per-process writer mutex), checks the
//! serial the change was planned against, and stamps the next serial.
//!
//! Each version also records the records it removed and added (at their
//! effective TTLs) and its SOA, for IXFR ([`Storage::changes_since`]). The
//! history is bounded per zone: the last [`DEFAULT_HISTORY_LIMIT`] changes
//! (see [`Storage::with_history_limit`]), pruned as new versions come; a
//! secondary further behind transfers the whole zone.

mod entity;
mod noted;
mod outbox;
mod publish;
mod schema;
mod serve;
pub mod testing;

pub use noted::{ListedObject, NotifiedKind, ZoneStatusNotice};
pub use outbox::OutboxMessage;
pub use serve::ZoneSnapshot;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use designate_central::{NsRecord, Rrset, Soa, ZoneKind, ZoneOwner, ZoneRow};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::sqlx::sqlite::SqliteSynchronous;
use sea_orm::{
    AccessMode, ActiveModelTrait, ColumnTrait, Condition, ConnectOptions, ConnectionTrait,
    Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    IntoActiveModel, IsolationLevel, NotSet, QueryFilter, QueryOrder, QuerySelect, RuntimeErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::entity::{
    pool, project_zone_count, record, record_change, recordset, zone, zone_version,
};

/// Errors of storage; `reason()` is the stable label.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The zone changed since the change was planned (another writer won).
    #[error(
        "zone {zone} changed concurrently: planned against serial {planned:?}, found {found:?}"
    )]
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
    /// The serial to publish at, instead of the next one storage would
    /// stamp: a secondary zone serves its master's.
    pub serial: Option<i64>,
}

/// One resource record as served, with its effective TTL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceRecord {
    pub name: String,
    pub type_: String,
    pub ttl: i64,
    pub data: String,
}

/// One step of a zone's history, in IXFR order: the SOA it replaced, the
/// records it removed, its own SOA, the records it added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneVersion {
    pub serial: i64,
    pub old_soa: ResourceRecord,
    pub removed: Vec<ResourceRecord>,
    pub new_soa: ResourceRecord,
    pub added: Vec<ResourceRecord>,
}

/// A published zone without its recordsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneHead {
    pub zone: ZoneRow,
    pub serial: i64,
    pub fingerprint: String,
}

/// How many changes back `changes_since` can answer by default: a secondary
/// further behind gets `None` and must transfer the whole zone.
pub const DEFAULT_HISTORY_LIMIT: u64 = 100;

/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A database holding published zones.
#[derive(Clone, Debug)]
pub struct Storage {
    db: DatabaseConnection,
    /// SQLite has no row locks: writers of this process queue here instead of
    /// spinning on the database lock.
    writer: Option<Arc<Mutex<()>>>,
    history_limit: u64,
    /// Set when notifications are written to the outbox; wakes the relay.
    outbox: Option<Arc<tokio::sync::Notify>>,
}

impl Storage {
    /// Connects to `url` (`sqlite://path?mode=rwc`, `mysql://...`, `postgres://...`)
    /// and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let mut options = ConnectOptions::new(url);
        options
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                // FULL: a version lost to a power cut would have its serial
                // handed out again. WAL is set below, once per file.
                o.synchronous(SqliteSynchronous::Full)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
            })
            .map_sqlx_postgres_opts(|o| {
                // Each statement planned for its parameters and the tables
                // as they are: a prepared statement's generic plan, made
                // while a table was small, is kept until the next ANALYZE
                // (a table scan per query at 100,000 zones where
                // autovacuum is off).
                o.options([("plan_cache_mode", "force_custom_plan")])
            });
        let db = Database::connect(options).await?;
        let sqlite = db.get_database_backend() == DbBackend::Sqlite;
        if sqlite {
            use_wal(&db).await?;
        }
        schema::migrate(&db, unix_now()).await?;
        schema::fill_reversed_names(&db).await?;
        let writer = sqlite.then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            db,
            writer,
            history_limit: DEFAULT_HISTORY_LIMIT,
            outbox: None,
        })
    }

    /// Keeps the last `versions` changes of each zone for `changes_since`
    /// (older ones are pruned when the zone is next published).
    pub fn with_history_limit(mut self, versions: u64) -> Self {
        self.history_limit = versions;
        self
    }

    /// Closes the connections (shared by every clone).
    pub async fn close(self) -> Result<(), Error> {
        Ok(self.db.close().await?)
    }

    pub async fn upsert_pool(&self, pool: &PoolRecord) -> Result<(), Error> {
        let now = unix_now();
        let mut row = pool::Model {
            id: pool.id.clone(),
            name: pool.name.clone(),
            description: pool.description.clone(),
            ns_records: to_json(&pool.ns_records)?,
            nameservers: to_json(&pool.nameservers)?,
            also_notifies: to_json(&pool.also_notifies)?,
            targets: pool.targets.clone(),
            created_at: now,
            updated_at: now,
        }
        .into_active_model();
        let (_guard, txn) = self.begin_write().await?;
        let result = async {
            if pool::Entity::find_by_id(pool.id.as_str())
                .one(&txn)
                .await?
                .is_some()
            {
                row = row.reset_all();
                row.created_at = NotSet;
                pool::Entity::update_many()
                    .set(row)
                    .filter(pool::Column::Id.eq(pool.id.as_str()))
                    .exec(&txn)
                    .await?;
            } else {
                pool::Entity::insert(row)
                    .exec_without_returning(&txn)
                    .await?;
            }
            Ok(())
        }
        .await;
        finish(txn, result).await
    }

    /// Removes a pool; zones keep their `pool_id`.
    pub async fn delete_pool(&self, id: &str) -> Result<(), Error> {
        pool::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    pub async fn pool(&self, id: &str) -> Result<Option<PoolRecord>, Error> {
        pool::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(pool_record)
            .transpose()
    }

    /// All pools, by name.
    pub async fn pools(&self) -> Result<Vec<PoolRecord>, Error> {
        pool::Entity::find()
            .order_by_asc(pool::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(pool_record)
            .collect()
    }

    /// Serial and fingerprint of a published zone: one indexed row.
    pub async fn zone_state(&self, id: &str) -> Result<Option<ZoneState>, Error> {
        let state: Option<(i64, String)> = zone::Entity::find_by_id(id)
            .select_only()
            .column(zone::Column::Serial)
            .column(zone::Column::Fingerprint)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(state.map(|(serial, fingerprint)| ZoneState {
            serial,
            fingerprint,
        }))
    }

    /// A published zone with all its recordsets (by name and type).
    pub async fn load_zone(&self, id: &str) -> Result<Option<StoredZone>, Error> {
        let txn = self.begin_read().await?;
        let Some(row) = zone::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(None);
        };
        let rrsets = load_rrsets(&txn, id).await?;
        txn.commit().await?;
        let head = zone_head(row)?;
        Ok(Some(StoredZone {
            zone: head.zone,
            serial: head.serial,
            fingerprint: head.fingerprint,
            rrsets,
        }))
    }

    /// The zones named `name` (ASCII case-insensitive, as DNS queries are):
    /// one per pool that holds it.
    pub async fn zones_by_name(&self, name: &str) -> Result<Vec<ZoneHead>, Error> {
        zone::Entity::find()
            .filter(lower_name().eq(name.to_ascii_lowercase()))
            .order_by_asc(zone::Column::PoolId)
            .all(&self.db)
            .await?
            .into_iter()
            .map(zone_head)
            .collect()
    }

    /// Zones of any project named `name`, or an ancestor or descendant of it
    /// (label-wise and ASCII case-insensitive: `fooexample.com.` is not a
    /// descendant of `example.com.`), by name.
    pub async fn related_zones(&self, name: &str) -> Result<Vec<ZoneOwner>, Error> {
        let name = name.to_ascii_lowercase();
        let mut exact: Vec<&str> = vec![&name];
        exact.extend(
            name.match_indices('.')
                .map(|(i, _)| &name[i + 1..])
                .filter(|suffix| !suffix.is_empty()),
        );
        // Descendants: reversed names that start with this one's, a range
        // of the index ('/' follows '.'). The filter below is exact.
        let reversed = reversed_name(&name);
        let after = format!("{}/", reversed.trim_end_matches('.'));
        let rows: Vec<(String, String, String)> = zone::Entity::find()
            .select_only()
            .column(zone::Column::Id)
            .column(zone::Column::Name)
            .column(zone::Column::Project)
            .filter(
                Condition::any().add(lower_name().is_in(exact)).add(
                    Condition::all()
                        .add(zone::Column::NameRkey.gt(reversed.as_str()))
                        .add(zone::Column::NameRkey.lt(after)),
                ),
            )
            .order_by_asc(zone::Column::Name)
            .order_by_asc(zone::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter(|(_, zone, _)| {
                let zone = zone.to_ascii_lowercase();
                zone == name
                    || name.ends_with(&format!(".{zone}"))
                    || zone.ends_with(&format!(".{name}"))
            })
            .map(|(id, name, project)| ZoneOwner { id, name, project })
            .collect())
    }

    /// Number of zones of a project, up to `up_to` (all a quota check
    /// needs): read from the project's count, a few rows whatever its size.
    pub async fn count_project_zones(&self, project: &str, up_to: u64) -> Result<u64, Error> {
        let shards: Vec<i64> = project_zone_count::Entity::find()
            .select_only()
            .column(project_zone_count::Column::Zones)
            .filter(project_zone_count::Column::Project.eq(project))
            .into_tuple()
            .all(&self.db)
            .await?;
        let zones = u64::try_from(shards.iter().sum::<i64>()).unwrap_or(0);
        Ok(Ord::min(zones, up_to))
    }

    /// The versions of a zone after `serial` up to the current one, oldest
    /// first (empty when `serial` is current); `None` when the zone is gone or
    /// its history does not reach back to `serial`.
    pub async fn changes_since(
        &self,
        zone_id: &str,
        serial: i64,
    ) -> Result<Option<Vec<ZoneVersion>>, Error> {
        let txn = self.begin_read().await?;
        let Some(zone) = zone::Entity::find_by_id(zone_id).one(&txn).await? else {
            return Ok(None);
        };
        if zone.serial == serial {
            return Ok(Some(Vec::new()));
        }
        let versions = zone_version::Entity::find()
            .filter(zone_version::Column::ZoneId.eq(zone_id))
            .filter(zone_version::Column::Serial.gte(serial))
            .order_by_asc(zone_version::Column::Serial)
            .all(&txn)
            .await?;
        if versions.first().map(|v| v.serial) != Some(serial) {
            return Ok(None);
        }
        let changes = record_change::Entity::find()
            .filter(record_change::Column::ZoneId.eq(zone_id))
            .filter(record_change::Column::Serial.gt(serial))
            .order_by_asc(record_change::Column::Serial)
            .order_by_asc(record_change::Column::Seq)
            .all(&txn)
            .await?;
        txn.commit().await?;

        let soa = |v: &zone_version::Model| ResourceRecord {
            name: zone.name.clone(),
            type_: "SOA".into(),
            ttl: v.soa_ttl,
            data: v.soa_data.clone(),
        };
        let mut changes = changes.into_iter().peekable();
        let mut out = Vec::with_capacity(versions.len() - 1);
        for pair in versions.windows(2) {
            let (old, new) = (&pair[0], &pair[1]);
            let mut version = ZoneVersion {
                serial: new.serial,
                old_soa: soa(old),
                removed: Vec::new(),
                new_soa: soa(new),
                added: Vec::new(),
            };
            while let Some(change) = changes.next_if(|c| c.serial == new.serial) {
                let rr = ResourceRecord {
                    name: change.name,
                    type_: change.rr_type,
                    ttl: change.ttl,
                    data: change.data,
                };
                if change.op == publish::OP_DEL {
                    version.removed.push(rr);
                } else {
                    version.added.push(rr);
                }
            }
            out.push(version);
        }
        Ok(Some(out))
    }

    /// A write transaction: `READ COMMITTED` on MySQL/PostgreSQL (row locks do
    /// the serialising), `BEGIN IMMEDIATE` behind the process's writer lock on
    /// SQLite.
    async fn begin_write(
        &self,
    ) -> Result<(Option<OwnedMutexGuard<()>>, DatabaseTransaction), Error> {
        let guard = match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        let options = match self.db.get_database_backend() {
            DbBackend::Sqlite => TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            },
            _ => TransactionOptions {
                isolation_level: Some(IsolationLevel::ReadCommitted),
                ..Default::default()
            },
        };
        Ok((guard, self.db.begin_with_options(options).await?))
    }

    /// A read-only snapshot for reads of several statements.
    async fn begin_read(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.db.get_database_backend() {
            // A deferred transaction reads one snapshot under WAL.
            DbBackend::Sqlite => self.db.begin().await,
            _ => {
                self.db
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await
            }
        }
    }
}

/// `name` (lower case, with its trailing dot) with its labels in reverse:
/// `sub.example.com.` is `com.example.sub.`.
pub(crate) fn reversed_name(name: &str) -> String {
    let mut labels: Vec<&str> = name.split('.').filter(|l| !l.is_empty()).collect();
    labels.reverse();
    let mut reversed = labels.join(".");
    reversed.push('.');
    reversed
}

/// The zones' lower-cased name, indexed.
fn lower_name() -> Expr {
    Expr::col(zone::Column::NameKey)
}

/// Commits on success, rolls back (and keeps the first error) on failure.
async fn finish<T>(txn: DatabaseTransaction, result: Result<T, Error>) -> Result<T, Error> {
    match result {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(error)
        }
    }
}

/// All recordsets of a zone with their records, by name and type.
async fn load_rrsets(txn: &DatabaseTransaction, zone_id: &str) -> Result<Vec<StoredRrset>, DbErr> {
    let sets = recordset::Entity::find()
        .filter(recordset::Column::ZoneId.eq(zone_id))
        .order_by_asc(recordset::Column::Name)
        .order_by_asc(recordset::Column::RrType)
        .all(txn)
        .await?;
    let mut records: HashMap<String, Vec<String>> = HashMap::new();
    for record in record::Entity::find()
        .filter(record::Column::ZoneId.eq(zone_id))
        .order_by_asc(record::Column::RecordsetId)
        .order_by_asc(record::Column::Position)
        .all(txn)
        .await?
    {
        records
            .entry(record.recordset_id)
            .or_default()
            .push(record.data);
    }
    Ok(sets
        .into_iter()
        .map(|set| StoredRrset {
            rrset: Rrset {
                records: records.remove(&set.id).unwrap_or_default(),
                id: set.id,
                name: set.name,
                type_: set.rr_type,
                ttl: set.ttl,
                description: set.description,
                managed: set.managed,
            },
            serial: set.serial,
        })
        .collect())
}

fn zone_head(row: zone::Model) -> Result<ZoneHead, Error> {
    let kind = match row.kind.as_str() {
        "PRIMARY" => ZoneKind::Primary,
        "SECONDARY" => ZoneKind::Secondary,
        other => return Err(DbErr::Type(format!("unknown zone kind {other:?}")).into()),
    };
    Ok(ZoneHead {
        zone: ZoneRow {
            id: row.id,
            project: row.project,
            name: row.name,
            pool_id: row.pool_id,
            kind,
            ttl: row.ttl,
            description: row.description,
            masters: from_json(row.masters)?,
            soa: Soa {
                mname: row.soa_mname,
                email: row.soa_email,
                refresh: row.soa_refresh,
                retry: row.soa_retry,
                expire: row.soa_expire,
                minimum: row.soa_minimum,
            },
        },
        serial: row.serial,
        fingerprint: row.fingerprint,
    })
}

fn pool_record(row: pool::Model) -> Result<PoolRecord, Error> {
    Ok(PoolRecord {
        id: row.id,
        name: row.name,
        description: row.description,
        ns_records: from_json(row.ns_records)?,
        nameservers: from_json(row.nameservers)?,
        also_notifies: from_json(row.also_notifies)?,
        targets: row.targets,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, DbErr> {
    serde_json::to_value(value).map_err(|e| DbErr::Json(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, DbErr> {
    serde_json::from_value(value).map_err(|e| DbErr::Json(e.to_string()))
}

/// Switches a SQLite file to WAL (readers never block the writer; the mode
/// stays with the file). The switch takes the file's exclusive lock without
/// SQLite's busy handler, so it fails at once while another process opening
/// the same new file holds it: retried here for as long as a write would wait.
async fn use_wal(db: &DatabaseConnection) -> Result<(), Error> {
    let deadline = tokio::time::Instant::now() + SQLITE_BUSY_TIMEOUT;
    loop {
        match db.execute_unprepared("PRAGMA journal_mode=WAL").await {
            Err(e) if is_sqlite_busy(&e) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            result => return Ok(result.map(drop)?),
        }
    }
}

/// SQLITE_BUSY or one of its extended codes (the low byte is 5).
fn is_sqlite_busy(error: &DbErr) -> bool {
    database_code(error)
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// The database's own error code (SQLSTATE on MySQL and PostgreSQL, the
/// result code on SQLite) of a statement that failed there.
fn database_code(error: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = error
    else {
        return None;
    };
    match &**e {
        sea_orm::sqlx::Error::Database(db) => db.code().map(|code| code.into_owned()),
        _ => None,
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
