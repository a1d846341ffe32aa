//! The schema: numbered migrations, applied once each and recorded in
//! `designate_schema_migrations`, each in one transaction. Every statement
//! is `IF NOT EXISTS` or, on MySQL (whose DDL commits at once), tolerated
//! when already done, so a migration cut short (or run by two replicas at
//! once) is simply run again.

use sea_orm::sea_query::{
    ColumnDef, Expr, ForeignKey, Func, Index, IndexCreateStatement, IntoIden, Query, Table,
    TableCreateStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Set, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use crate::entity::{
    notified_object, outbox, pool, project_zone_count, record, record_change, recordset,
    schema_migration, zone, zone_version,
};

/// The statements of one schema version, for a backend.
type Migration = fn(DbBackend) -> Vec<Statement>;

/// Schema versions in order; a new version appends here and never edits an old one.
const MIGRATIONS: &[(i64, Migration)] = &[(1, v1), (2, v2), (3, v3), (4, v4), (5, v5), (6, v6)];

/// Ids are uuids (36 characters); some room for other stable ids.
const ID_LEN: u32 = 64;
/// A DNS name in presentation format with its trailing dot.
const NAME_LEN: u32 = 255;

/// Key of the PostgreSQL advisory lock that serialises concurrent migrations.
const PG_MIGRATION_LOCK: i64 = 0x6465_7369_676e_6174;

/// Brings the schema up to date.
pub(crate) async fn migrate(db: &DatabaseConnection, now: i64) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let options = TransactionOptions {
        // SQLite: take the write lock up front so concurrent starters queue.
        sqlite_transaction_mode: (backend == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = db.begin_with_options(options).await?;
    if backend == DbBackend::Postgres {
        // PostgreSQL's catalog can race on two concurrent `CREATE TABLE IF NOT EXISTS`.
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [PG_MIGRATION_LOCK.into()],
        ))
        .await?;
    }
    txn.execute(&mysql_options(
        backend,
        Table::create()
            .table(schema_migration::Entity)
            .if_not_exists()
            .col(
                ColumnDef::new(schema_migration::Column::Version)
                    .big_integer()
                    .not_null()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(schema_migration::Column::AppliedAt)
                    .big_integer()
                    .not_null(),
            )
            .take(),
    ))
    .await?;
    let applied: Vec<i64> = schema_migration::Entity::find()
        .select_only()
        .column(schema_migration::Column::Version)
        .into_tuple()
        .all(&txn)
        .await?;
    for (version, statements) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tracing::info!(version, "applying schema migration");
        for statement in statements(backend) {
            match txn.execute_raw(statement).await {
                Err(error) if !done_already(backend, &error) => return Err(error),
                _ => {}
            }
        }
        schema_migration::Entity::insert(schema_migration::ActiveModel {
            version: Set(*version),
            applied_at: Set(now),
        })
        // Another replica may have recorded it meanwhile (MySQL commits DDL at once).
        .on_conflict_do_nothing()
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await
}

/// Version 1: pools, zones, recordsets, records and the serial history.
fn v1(backend: DbBackend) -> Vec<Statement> {
    let mut out = Vec::new();

    table(
        backend,
        &mut out,
        Table::create()
            .table(pool::Entity)
            .col(id(pool::Column::Id).primary_key())
            .col(string(pool::Column::Name, NAME_LEN).unique_key())
            .col(ColumnDef::new(pool::Column::Description).text().null())
            .col(json(pool::Column::NsRecords))
            .col(json(pool::Column::Nameservers))
            .col(json(pool::Column::AlsoNotifies))
            .col(json(pool::Column::Targets))
            .col(int(pool::Column::CreatedAt))
            .col(int(pool::Column::UpdatedAt))
            .take(),
        vec![],
    );

    // No foreign key to pools: pools are configuration and may be replaced
    // while zones still point at them.
    table(
        backend,
        &mut out,
        Table::create()
            .table(zone::Entity)
            .col(id(zone::Column::Id).primary_key())
            .col(string(zone::Column::Project, NAME_LEN))
            .col(string(zone::Column::Name, NAME_LEN))
            .col(id(zone::Column::PoolId))
            .col(string(zone::Column::Kind, 16))
            .col(int(zone::Column::Ttl))
            .col(ColumnDef::new(zone::Column::Description).text().null())
            .col(json(zone::Column::Masters))
            .col(string(zone::Column::SoaMname, NAME_LEN))
            .col(string(zone::Column::SoaEmail, NAME_LEN))
            .col(int(zone::Column::SoaRefresh))
            .col(int(zone::Column::SoaRetry))
            .col(int(zone::Column::SoaExpire))
            .col(int(zone::Column::SoaMinimum))
            .col(int(zone::Column::Serial))
            .col(ColumnDef::new(zone::Column::Fingerprint).text().not_null())
            .col(int(zone::Column::CreatedAt))
            .col(int(zone::Column::UpdatedAt))
            .index(
                Index::create()
                    .name("ux_zones_name_pool")
                    .unique()
                    .col(zone::Column::Name)
                    .col(zone::Column::PoolId),
            )
            .take(),
        vec![
            Index::create()
                .name("ix_zones_project")
                .table(zone::Entity)
                .col(zone::Column::Project)
                .take(),
        ],
    );

    table(
        backend,
        &mut out,
        Table::create()
            .table(recordset::Entity)
            .col(id(recordset::Column::Id).primary_key())
            .col(id(recordset::Column::ZoneId))
            .col(string(recordset::Column::Name, NAME_LEN))
            .col(string(recordset::Column::RrType, 16))
            .col(ColumnDef::new(recordset::Column::Ttl).big_integer().null())
            .col(ColumnDef::new(recordset::Column::Description).text().null())
            .col(
                ColumnDef::new(recordset::Column::Managed)
                    .boolean()
                    .not_null(),
            )
            .col(int(recordset::Column::Serial))
            .col(int(recordset::Column::CreatedAt))
            .col(int(recordset::Column::UpdatedAt))
            .index(
                Index::create()
                    .name("ux_recordsets_zone_name_type")
                    .unique()
                    .col(recordset::Column::ZoneId)
                    .col(recordset::Column::Name)
                    .col(recordset::Column::RrType),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_recordsets_zone")
                    .from(recordset::Entity, recordset::Column::ZoneId)
                    .to(zone::Entity, zone::Column::Id),
            )
            .take(),
        vec![],
    );

    table(
        backend,
        &mut out,
        Table::create()
            .table(record::Entity)
            .col(id(record::Column::Id).primary_key())
            .col(id(record::Column::RecordsetId))
            .col(id(record::Column::ZoneId))
            .col(ColumnDef::new(record::Column::Data).text().not_null())
            .col(
                ColumnDef::new(record::Column::Position)
                    .integer()
                    .not_null(),
            )
            .col(int(record::Column::Serial))
            .index(
                Index::create()
                    .name("ux_records_recordset_position")
                    .unique()
                    .col(record::Column::RecordsetId)
                    .col(record::Column::Position),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_records_recordset")
                    .from(record::Entity, record::Column::RecordsetId)
                    .to(recordset::Entity, recordset::Column::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_records_zone")
                    .from(record::Entity, record::Column::ZoneId)
                    .to(zone::Entity, zone::Column::Id),
            )
            .take(),
        vec![
            Index::create()
                .name("ix_records_zone")
                .table(record::Entity)
                .col(record::Column::ZoneId)
                .take(),
        ],
    );

    // The primary keys (zone_id, serial[, seq]) are the index that reads a
    // zone's history after a serial.
    table(
        backend,
        &mut out,
        Table::create()
            .table(zone_version::Entity)
            .col(id(zone_version::Column::ZoneId))
            .col(int(zone_version::Column::Serial))
            .col(int(zone_version::Column::SoaTtl))
            .col(
                ColumnDef::new(zone_version::Column::SoaData)
                    .text()
                    .not_null(),
            )
            .col(int(zone_version::Column::CreatedAt))
            .primary_key(
                Index::create()
                    .col(zone_version::Column::ZoneId)
                    .col(zone_version::Column::Serial),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_zone_versions_zone")
                    .from(zone_version::Entity, zone_version::Column::ZoneId)
                    .to(zone::Entity, zone::Column::Id),
            )
            .take(),
        vec![],
    );

    table(
        backend,
        &mut out,
        Table::create()
            .table(record_change::Entity)
            .col(id(record_change::Column::ZoneId))
            .col(int(record_change::Column::Serial))
            .col(
                ColumnDef::new(record_change::Column::Seq)
                    .integer()
                    .not_null(),
            )
            .col(string(record_change::Column::Op, 3))
            .col(string(record_change::Column::Name, NAME_LEN))
            .col(string(record_change::Column::RrType, 16))
            .col(int(record_change::Column::Ttl))
            .col(
                ColumnDef::new(record_change::Column::Data)
                    .text()
                    .not_null(),
            )
            .primary_key(
                Index::create()
                    .col(record_change::Column::ZoneId)
                    .col(record_change::Column::Serial)
                    .col(record_change::Column::Seq),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_record_changes_zone")
                    .from(record_change::Entity, record_change::Column::ZoneId)
                    .to(zone::Entity, zone::Column::Id),
            )
            .take(),
        vec![],
    );

    out
}

/// Version 2: the zones' lower-cased name, indexed, so that MiniDNS finds
/// a zone by name without scanning the table (`LOWER(name)` cannot use an
/// index on MariaDB).
fn v2(backend: DbBackend) -> Vec<Statement> {
    vec![
        backend.build(
            Table::alter()
                .table(zone::Entity)
                .add_column(string(zone::Column::NameKey, NAME_LEN).default("")),
        ),
        backend.build(Query::update().table(zone::Entity).value(
            zone::Column::NameKey,
            Expr::expr(Func::lower(Expr::col(zone::Column::Name))),
        )),
        zone_index(backend, "ix_zones_name_key", zone::Column::NameKey),
    ]
}

/// Version 3: the outbox of notifications (`dns.zone.create`, ...), filled
/// in the transactions of the changes and emptied by the relay to the bus.
fn v3(backend: DbBackend) -> Vec<Statement> {
    let mut out = Vec::new();
    table(
        backend,
        &mut out,
        Table::create()
            .table(outbox::Entity)
            .col(
                ColumnDef::new(outbox::Column::Seq)
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(id(outbox::Column::MessageId))
            .col(string(outbox::Column::EventType, 128))
            .col(json(outbox::Column::Payload))
            .col(int(outbox::Column::CreatedAt))
            .take(),
        vec![],
    );
    out
}

/// Version 4: what was last notified of the objects that live only in the
/// Kubernetes API (TLDs, blacklists, TSIG keys, pools).
fn v4(backend: DbBackend) -> Vec<Statement> {
    let mut out = Vec::new();
    table(
        backend,
        &mut out,
        Table::create()
            .table(notified_object::Entity)
            .col(string(notified_object::Column::Kind, 32))
            .col(id(notified_object::Column::Id))
            .col(json(notified_object::Column::Payload))
            .primary_key(
                Index::create()
                    .col(notified_object::Column::Kind)
                    .col(notified_object::Column::Id),
            )
            .take(),
        vec![],
    );
    out
}

/// Version 5: the zones' reversed name (`com.example.`), indexed and
/// compared bytewise, so that a zone's descendants are one index range
/// instead of a `LIKE '%.example.com.'` that reads every zone. Rows from
/// before are filled by [`fill_reversed_names`].
fn v5(backend: DbBackend) -> Vec<Statement> {
    let mut column = string(zone::Column::NameRkey, NAME_LEN);
    column.default("");
    // Byte order: '.' and '/' next to each other, punctuation not ignored
    // (a PostgreSQL database's locale collation would skip it).
    match backend {
        DbBackend::MySql => column.extra("COLLATE utf8mb4_bin"),
        DbBackend::Postgres => column.extra("COLLATE \"C\""),
        _ => &mut column,
    };
    vec![
        backend.build(Table::alter().table(zone::Entity).add_column(column)),
        zone_index(backend, "ix_zones_name_rkey", zone::Column::NameRkey),
    ]
}

/// Version 6: each project's zone count, kept by every zone insert, delete
/// and move between projects (`publish`), counted here from the zones
/// stored before. A run cut short counts again.
fn v6(backend: DbBackend) -> Vec<Statement> {
    let mut out = Vec::new();
    table(
        backend,
        &mut out,
        Table::create()
            .table(project_zone_count::Entity)
            .col(string(project_zone_count::Column::Project, NAME_LEN))
            .col(string(project_zone_count::Column::Shard, 4))
            .col(int(project_zone_count::Column::Zones))
            .primary_key(
                Index::create()
                    .col(project_zone_count::Column::Project)
                    .col(project_zone_count::Column::Shard),
            )
            .take(),
        vec![],
    );
    // The shard is the id's last character, as `publish` takes it.
    let length = match backend {
        DbBackend::MySql => "CHAR_LENGTH(id)",
        _ => "LENGTH(id)",
    };
    out.push(Statement::from_string(
        backend,
        "DELETE FROM project_zone_counts",
    ));
    out.push(Statement::from_string(
        backend,
        format!(
            "INSERT INTO project_zone_counts (project, shard, zones) \
             SELECT project, SUBSTR(id, {length}), COUNT(*) FROM zones \
             GROUP BY project, SUBSTR(id, {length})"
        ),
    ));
    out
}

/// An index of the zones added to the table: `IF NOT EXISTS` where the
/// backend has it (MySQL refuses a duplicate, tolerated by `done_already`).
fn zone_index(backend: DbBackend, name: &str, column: zone::Column) -> Statement {
    let mut index = Index::create();
    index.name(name).table(zone::Entity).col(column);
    if backend != DbBackend::MySql {
        index.if_not_exists();
    }
    backend.build(&index)
}

/// Fills the reversed name of zones stored before schema version 5 (found
/// by the index: none after the first start).
pub(crate) async fn fill_reversed_names(db: &DatabaseConnection) -> Result<(), DbErr> {
    let unfilled: Vec<(String, String)> = zone::Entity::find()
        .select_only()
        .column(zone::Column::Id)
        .column(zone::Column::NameKey)
        .filter(zone::Column::NameRkey.eq(""))
        .into_tuple()
        .all(db)
        .await?;
    for (id, name_key) in unfilled {
        zone::Entity::update_many()
            .col_expr(
                zone::Column::NameRkey,
                Expr::value(crate::reversed_name(&name_key)),
            )
            .filter(zone::Column::Id.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// MySQL commits each DDL statement at once, so a migration cut short
/// there has made some of its changes: run again, those are refused as
/// duplicates, and are done.
fn done_already(backend: DbBackend, error: &DbErr) -> bool {
    let message = error.to_string();
    backend == DbBackend::MySql
        && (message.contains("Duplicate column name") || message.contains("Duplicate key name"))
}

/// `CREATE TABLE IF NOT EXISTS` plus its plain indexes: inline on MySQL (which
/// has no `CREATE INDEX IF NOT EXISTS`), separate statements elsewhere (where
/// only unique constraints may be inline).
fn table(
    backend: DbBackend,
    out: &mut Vec<Statement>,
    mut create: TableCreateStatement,
    indexes: Vec<IndexCreateStatement>,
) {
    create.if_not_exists();
    if backend == DbBackend::MySql {
        for mut index in indexes {
            create.index(&mut index);
        }
        out.push(backend.build(&mysql_options(backend, create)));
    } else {
        out.push(backend.build(&create));
        for mut index in indexes {
            out.push(backend.build(index.if_not_exists()));
        }
    }
}

/// MySQL: InnoDB, and binary collation so names compare exactly as on the
/// other databases.
fn mysql_options(backend: DbBackend, mut create: TableCreateStatement) -> TableCreateStatement {
    if backend == DbBackend::MySql {
        create
            .engine("InnoDB")
            .character_set("utf8mb4")
            .collate("utf8mb4_bin");
    }
    create
}

fn id(col: impl IntoIden) -> ColumnDef {
    string(col, ID_LEN)
}

fn string(col: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(col).string_len(len).not_null().take()
}

fn int(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().take()
}

fn json(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).json_binary().not_null().take()
}
