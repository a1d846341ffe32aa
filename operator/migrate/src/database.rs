//! Reading a Designate 23 database (MySQL/MariaDB or PostgreSQL, the
//! schema `designate-manage database sync` makes): the rows an import
//! carries over, as plain values. The only IO of this crate.
//!
//! Designate stores UUIDs as 32 hex digits on MySQL and as `uuid` on
//! PostgreSQL, enums as native enums on PostgreSQL: every such column is
//! read as text and ids are put back into their dashed form.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, QueryResult, Statement};

use crate::Error;

/// A Designate pool, with the rows that hang off it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub ns_records: Vec<(String, i32)>,
    pub nameservers: Vec<(String, i32)>,
    pub also_notifies: Vec<(String, i32)>,
    pub targets: Vec<TargetRow>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetRow {
    pub type_: String,
    pub description: Option<String>,
    pub masters: Vec<(String, i32)>,
    pub options: Vec<(String, String)>,
}

/// A zone that is not deleted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZoneRow {
    pub id: String,
    pub project: String,
    pub name: String,
    pub email: String,
    pub ttl: Option<i32>,
    pub description: Option<String>,
    pub type_: String,
    pub status: String,
    pub action: String,
    pub pool_id: Option<String>,
    pub masters: Vec<(String, i32)>,
    pub attributes: Vec<(String, String)>,
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC (Designate's `utcnow()`).
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordsetRow {
    pub id: String,
    pub zone_id: String,
    pub project: Option<String>,
    pub name: String,
    pub type_: String,
    pub ttl: Option<i32>,
    pub description: Option<String>,
    pub records: Vec<String>,
    pub created_at: Option<String>,
}

/// A zone shared with another project (Designate 2023.2+).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShareRow {
    pub id: String,
    pub zone_id: String,
    /// The project that shared it.
    pub project: String,
    pub target_project: String,
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TldRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlacklistRow {
    pub id: String,
    pub pattern: String,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TsigKeyRow {
    pub id: String,
    pub name: String,
    pub algorithm: String,
    pub secret: String,
    pub scope: String,
    pub resource_id: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuotaRow {
    pub project: String,
    pub resource: String,
    pub hard_limit: i64,
}

/// What an import reads from a Designate database.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Designate {
    pub pools: Vec<PoolRow>,
    pub zones: Vec<ZoneRow>,
    pub recordsets: Vec<RecordsetRow>,
    pub shares: Vec<ShareRow>,
    pub tlds: Vec<TldRow>,
    pub blacklists: Vec<BlacklistRow>,
    pub tsigkeys: Vec<TsigKeyRow>,
    pub quotas: Vec<QuotaRow>,
}

/// Reads the database at `url` (`mysql://…`, `postgres://…`; oslo.db's
/// `mysql+pymysql://` is taken too).
pub async fn read(url: &str) -> Result<Designate, Error> {
    let url = sqlalchemy_to_sqlx(url);
    let db = Database::connect(url.as_str())
        .await
        .map_err(|e| Error::Database(e.to_string()))?;
    let reader = Reader {
        backend: db.get_database_backend(),
        db: &db,
    };
    let result = reader.read().await;
    let _ = db.close().await;
    result
}

/// oslo.db's URL (`mysql+pymysql://`, `postgresql+psycopg2://`) as sqlx
/// takes it.
fn sqlalchemy_to_sqlx(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let scheme = match scheme.split('+').next().unwrap_or(scheme) {
                "postgresql" => "postgres",
                other => other,
            };
            format!("{scheme}://{rest}")
        }
        None => url.to_string(),
    }
}

/// Designate's UUID column value in its dashed form.
fn dashed(id: &str) -> String {
    let id = id.trim();
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        let id = id.to_ascii_lowercase();
        format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..]
        )
    } else {
        id.to_ascii_lowercase()
    }
}

struct Reader<'a> {
    backend: DbBackend,
    db: &'a DatabaseConnection,
}

impl Reader<'_> {
    /// A column read as text, whatever its type on this backend.
    fn text(&self, column: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("CAST({column} AS TEXT)"),
            _ => format!("CAST({column} AS CHAR)"),
        }
    }

    /// A column name, quoted (`key` is reserved on MySQL).
    fn column(&self, name: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("\"{name}\""),
            _ => format!("`{name}`"),
        }
    }

    async fn rows(&self, sql: String) -> Result<Vec<QueryResult>, Error> {
        self.db
            .query_all_raw(Statement::from_string(self.backend, sql.clone()))
            .await
            .map_err(|e| Error::Database(format!("{e} (in `{sql}`)")))
    }

    /// `(owner id, a, b)` rows of a child table, grouped by owner.
    async fn pairs<A, B>(
        &self,
        table: &str,
        owner: &str,
        a: &str,
        b: &str,
    ) -> Result<BTreeMap<String, Vec<(A, B)>>, Error>
    where
        A: sea_orm::TryGetable,
        B: sea_orm::TryGetable,
    {
        let sql = format!(
            "SELECT {} AS owner, {} AS a, {} AS b FROM {table} ORDER BY created_at, id",
            self.text(owner),
            self.column(a),
            self.column(b),
        );
        let mut grouped: BTreeMap<String, Vec<(A, B)>> = BTreeMap::new();
        for row in self.rows(sql).await? {
            let owner: String = get(&row, "owner")?;
            grouped
                .entry(dashed(&owner))
                .or_default()
                .push((get(&row, "a")?, get(&row, "b")?));
        }
        Ok(grouped)
    }

    async fn read(&self) -> Result<Designate, Error> {
        Ok(Designate {
            pools: self.pools().await?,
            zones: self.zones().await?,
            recordsets: self.recordsets().await?,
            shares: self.shares().await?,
            tlds: self.tlds().await?,
            blacklists: self.blacklists().await?,
            tsigkeys: self.tsigkeys().await?,
            quotas: self.quotas().await?,
        })
    }

    async fn pools(&self) -> Result<Vec<PoolRow>, Error> {
        let mut attributes = self
            .pairs::<String, String>("pool_attributes", "pool_id", "key", "value")
            .await?;
        let mut ns_records = self
            .pairs::<String, i32>("pool_ns_records", "pool_id", "hostname", "priority")
            .await?;
        let mut nameservers = self
            .pairs::<String, i32>("pool_nameservers", "pool_id", "host", "port")
            .await?;
        let mut also_notifies = self
            .pairs::<String, i32>("pool_also_notifies", "pool_id", "host", "port")
            .await?;
        let mut masters = self
            .pairs::<String, i32>("pool_target_masters", "pool_target_id", "host", "port")
            .await?;
        let mut options = self
            .pairs::<String, String>("pool_target_options", "pool_target_id", "key", "value")
            .await?;
        let mut targets: BTreeMap<String, Vec<TargetRow>> = BTreeMap::new();
        let sql = format!(
            "SELECT {} AS id, {} AS pool_id, {} AS type, description FROM pool_targets ORDER BY created_at, id",
            self.text("id"),
            self.text("pool_id"),
            self.text("type"),
        );
        for row in self.rows(sql).await? {
            let id = dashed(&get::<String>(&row, "id")?);
            targets
                .entry(dashed(&get::<String>(&row, "pool_id")?))
                .or_default()
                .push(TargetRow {
                    type_: get(&row, "type")?,
                    description: get(&row, "description")?,
                    masters: masters.remove(&id).unwrap_or_default(),
                    options: options.remove(&id).unwrap_or_default(),
                });
        }
        let sql = format!(
            "SELECT {} AS id, name, description FROM pools ORDER BY created_at, id",
            self.text("id")
        );
        let mut pools = Vec::new();
        for row in self.rows(sql).await? {
            let id = dashed(&get::<String>(&row, "id")?);
            pools.push(PoolRow {
                name: get(&row, "name")?,
                description: get(&row, "description")?,
                attributes: attributes.remove(&id).unwrap_or_default(),
                ns_records: ns_records.remove(&id).unwrap_or_default(),
                nameservers: nameservers.remove(&id).unwrap_or_default(),
                also_notifies: also_notifies.remove(&id).unwrap_or_default(),
                targets: targets.remove(&id).unwrap_or_default(),
                id,
            });
        }
        Ok(pools)
    }

    async fn zones(&self) -> Result<Vec<ZoneRow>, Error> {
        let mut masters = self
            .pairs::<String, i32>("zone_masters", "zone_id", "host", "port")
            .await?;
        let mut attributes = self
            .pairs::<String, String>("zone_attributes", "zone_id", "key", "value")
            .await?;
        // Designate soft-deletes: `deleted` is '0' while the zone lives.
        let sql = format!(
            "SELECT {} AS id, tenant_id, name, email, ttl, description, {} AS type, {} AS status, \
             {} AS action, {} AS pool_id, {} AS created_at FROM zones WHERE deleted = '0' \
             ORDER BY created_at, id",
            self.text("id"),
            self.text("type"),
            self.text("status"),
            self.text("action"),
            self.text("pool_id"),
            self.text("created_at"),
        );
        let mut zones = Vec::new();
        for row in self.rows(sql).await? {
            let id = dashed(&get::<String>(&row, "id")?);
            zones.push(ZoneRow {
                project: get::<Option<String>>(&row, "tenant_id")?.unwrap_or_default(),
                name: get(&row, "name")?,
                email: get(&row, "email")?,
                ttl: get(&row, "ttl")?,
                description: get(&row, "description")?,
                type_: get(&row, "type")?,
                status: get(&row, "status")?,
                action: get(&row, "action")?,
                pool_id: get::<Option<String>>(&row, "pool_id")?.map(|id| dashed(&id)),
                created_at: get(&row, "created_at")?,
                masters: masters.remove(&id).unwrap_or_default(),
                attributes: attributes.remove(&id).unwrap_or_default(),
                id,
            });
        }
        Ok(zones)
    }

    async fn recordsets(&self) -> Result<Vec<RecordsetRow>, Error> {
        // One column wanted: read twice.
        let mut records = self
            .pairs::<String, String>("records", "recordset_id", "data", "data")
            .await?;
        let sql = format!(
            "SELECT {} AS id, {} AS zone_id, tenant_id, name, {} AS type, ttl, description, \
             {} AS created_at FROM recordsets ORDER BY created_at, id",
            self.text("id"),
            self.text("zone_id"),
            self.text("type"),
            self.text("created_at"),
        );
        let mut recordsets = Vec::new();
        for row in self.rows(sql).await? {
            let id = dashed(&get::<String>(&row, "id")?);
            recordsets.push(RecordsetRow {
                zone_id: dashed(&get::<String>(&row, "zone_id")?),
                project: get(&row, "tenant_id")?,
                name: get(&row, "name")?,
                type_: get(&row, "type")?,
                ttl: get(&row, "ttl")?,
                description: get(&row, "description")?,
                created_at: get(&row, "created_at")?,
                records: records
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(data, _)| data)
                    .collect(),
                id,
            });
        }
        Ok(recordsets)
    }

    async fn shares(&self) -> Result<Vec<ShareRow>, Error> {
        let sql = format!(
            "SELECT {} AS id, {} AS zone_id, project_id, target_project_id, {} AS created_at \
             FROM shared_zones ORDER BY created_at, id",
            self.text("id"),
            self.text("zone_id"),
            self.text("created_at"),
        );
        self.rows(sql)
            .await?
            .iter()
            .map(|row| {
                Ok(ShareRow {
                    id: dashed(&get::<String>(row, "id")?),
                    zone_id: dashed(&get::<String>(row, "zone_id")?),
                    project: get(row, "project_id")?,
                    target_project: get(row, "target_project_id")?,
                    created_at: get(row, "created_at")?,
                })
            })
            .collect()
    }

    async fn tlds(&self) -> Result<Vec<TldRow>, Error> {
        let sql = format!(
            "SELECT {} AS id, name, description FROM tlds ORDER BY created_at, id",
            self.text("id")
        );
        self.rows(sql)
            .await?
            .iter()
            .map(|row| {
                Ok(TldRow {
                    id: dashed(&get::<String>(row, "id")?),
                    name: get(row, "name")?,
                    description: get(row, "description")?,
                })
            })
            .collect()
    }

    async fn blacklists(&self) -> Result<Vec<BlacklistRow>, Error> {
        let sql = format!(
            "SELECT {} AS id, pattern, description FROM blacklists ORDER BY created_at, id",
            self.text("id")
        );
        self.rows(sql)
            .await?
            .iter()
            .map(|row| {
                Ok(BlacklistRow {
                    id: dashed(&get::<String>(row, "id")?),
                    pattern: get(row, "pattern")?,
                    description: get(row, "description")?,
                })
            })
            .collect()
    }

    async fn tsigkeys(&self) -> Result<Vec<TsigKeyRow>, Error> {
        let sql = format!(
            "SELECT {} AS id, name, {} AS algorithm, secret, {} AS scope, {} AS resource_id \
             FROM tsigkeys ORDER BY created_at, id",
            self.text("id"),
            self.text("algorithm"),
            self.text("scope"),
            self.text("resource_id"),
        );
        self.rows(sql)
            .await?
            .iter()
            .map(|row| {
                Ok(TsigKeyRow {
                    id: dashed(&get::<String>(row, "id")?),
                    name: get(row, "name")?,
                    algorithm: get(row, "algorithm")?,
                    secret: get(row, "secret")?,
                    scope: get(row, "scope")?,
                    resource_id: dashed(&get::<String>(row, "resource_id")?),
                })
            })
            .collect()
    }

    async fn quotas(&self) -> Result<Vec<QuotaRow>, Error> {
        let sql = "SELECT tenant_id, resource, hard_limit FROM quotas ORDER BY created_at, id";
        self.rows(sql.to_string())
            .await?
            .iter()
            .map(|row| {
                Ok(QuotaRow {
                    project: get::<Option<String>>(row, "tenant_id")?.unwrap_or_default(),
                    resource: get(row, "resource")?,
                    hard_limit: i64::from(get::<i32>(row, "hard_limit")?),
                })
            })
            .collect()
    }
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> Result<T, Error> {
    row.try_get("", column)
        .map_err(|e| Error::Database(format!("column {column}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_back_dashed() {
        assert_eq!(
            dashed("794ccc2cd75144feb57f8894c9f5c842"),
            "794ccc2c-d751-44fe-b57f-8894c9f5c842"
        );
        assert_eq!(
            dashed("794ccc2c-d751-44fe-b57f-8894c9f5c842"),
            "794ccc2c-d751-44fe-b57f-8894c9f5c842"
        );
    }

    #[test]
    fn oslo_db_urls_are_taken() {
        assert_eq!(
            sqlalchemy_to_sqlx("mysql+pymysql://root@127.0.0.1/designate"),
            "mysql://root@127.0.0.1/designate"
        );
        assert_eq!(
            sqlalchemy_to_sqlx("postgresql+psycopg2://u@h/d"),
            "postgres://u@h/d"
        );
        assert_eq!(sqlalchemy_to_sqlx("mysql://h/d"), "mysql://h/d");
    }
}
