//! The sea-orm entities of the tables; `schema` holds their DDL.
//!
//! Ids are strings (uuids), times are unix seconds (`BIGINT`), and lists are JSON.

/// A pool: what MiniDNS and the backends need of it.
pub(crate) mod pool {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pools")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub description: Option<String>,
        #[sea_orm(column_type = "JsonBinary")]
        pub ns_records: Json,
        #[sea_orm(column_type = "JsonBinary")]
        pub nameservers: Json,
        #[sea_orm(column_type = "JsonBinary")]
        pub also_notifies: Json,
        #[sea_orm(column_type = "JsonBinary")]
        pub targets: Json,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A published zone: its fields, SOA fields and current serial.
pub(crate) mod zone {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "zones")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub project: String,
        pub name: String,
        /// `name` in lower case: the indexed key lookups by name use
        /// (DNS names compare ASCII case-insensitively).
        pub name_key: String,
        /// `name_key` with its labels in reverse (`com.example.`): a zone's
        /// descendants are the keys that start with its own.
        pub name_rkey: String,
        pub pool_id: String,
        pub kind: String,
        pub ttl: i64,
        #[sea_orm(column_type = "Text", nullable)]
        pub description: Option<String>,
        #[sea_orm(column_type = "JsonBinary")]
        pub masters: Json,
        pub soa_mname: String,
        pub soa_email: String,
        pub soa_refresh: i64,
        pub soa_retry: i64,
        pub soa_expire: i64,
        pub soa_minimum: i64,
        pub serial: i64,
        #[sea_orm(column_type = "Text")]
        pub fingerprint: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A recordset; `serial` is the zone serial at which its content last changed.
pub(crate) mod recordset {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "recordsets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub zone_id: String,
        pub name: String,
        #[sea_orm(column_name = "type", enum_name = "RrType")]
        pub rr_type: String,
        pub ttl: Option<i64>,
        #[sea_orm(column_type = "Text", nullable)]
        pub description: Option<String>,
        pub managed: bool,
        pub serial: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One record of a recordset; `serial` is the zone serial that added it.
pub(crate) mod record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub recordset_id: String,
        pub zone_id: String,
        #[sea_orm(column_type = "Text")]
        pub data: String,
        pub position: i32,
        pub serial: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One version of a zone in the history: its serial and SOA.
pub(crate) mod zone_version {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "zone_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub zone_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub serial: i64,
        pub soa_ttl: i64,
        #[sea_orm(column_type = "Text")]
        pub soa_data: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One record removed (`del`) or added (`add`) by the version `serial`.
pub(crate) mod record_change {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "record_changes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub zone_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub serial: i64,
        /// Order within the version: removals first, then additions.
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        pub op: String,
        pub name: String,
        #[sea_orm(column_name = "type", enum_name = "RrType")]
        pub rr_type: String,
        pub ttl: i64,
        #[sea_orm(column_type = "Text")]
        pub data: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A notification waiting to be sent, written in the transaction of the
/// change it tells of; removed once the broker confirmed it.
pub(crate) mod outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_outbox")]
    pub struct Model {
        /// Commit order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// The notification's `message_id`, the same on every resend.
        pub message_id: String,
        pub event_type: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub payload: Json,
        /// Unix microseconds of the commit.
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What the notifications last said of an object that lives only in the
/// Kubernetes API (a TLD, a blacklist, a TSIG key, a pool), so that a change
/// is notified once and a delete missed while no leader ran still is.
pub(crate) mod notified_object {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notified_objects")]
    pub struct Model {
        /// `tld`, `blacklist`, `tsigkey`, `pool`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        /// The object's id; `""` marks the kind as baselined.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub payload: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The schema versions applied to this database.
pub(crate) mod schema_migration {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "designate_schema_migrations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i64,
        pub applied_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// How many zones each project has, in a few rows per project (by the last
/// character of the zone's id), so that a quota check reads a handful of
/// rows instead of counting the project's zones, and concurrent creates in
/// one project seldom wait on the same row.
pub(crate) mod project_zone_count {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "project_zone_counts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub project: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub shard: String,
        pub zones: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
