//! Durable storage of objects in SQLite through sea-orm. One writer task
//! commits changes in arrival order, grouping whatever is queued into one
//! transaction (group commit), and only then acknowledges them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Schema, Set, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::Error;
use crate::metrics::Metrics;

mod object {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "objects")]
    pub struct Model {
        /// `group/plural/namespace/name`
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub resource_version: i64,
        #[sea_orm(column_type = "Text")]
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod meta {
    use sea_orm::entity::prelude::*;

    /// Control-plane counters; one row, `resource_version`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "meta")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub value: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

const RV_KEY: &str = "resource_version";
/// Rows per INSERT, well under SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 500;
/// Commits grouped into one transaction at most.
const MAX_GROUP: usize = 4096;

/// One object write: `None` body deletes.
#[derive(Debug)]
pub struct Change {
    pub key: String,
    pub resource_version: u64,
    pub body: Option<Arc<str>>,
}

struct Commit {
    changes: Vec<Change>,
    resource_version: u64,
    /// The store's epoch when the write was applied: a write applied
    /// before a failed commit was undone with it and is never written.
    epoch: u64,
    ack: oneshot::Sender<Result<(), String>>,
}

/// What the store does as commits land or fail, before they are
/// acknowledged.
pub trait Durability: Send + Sync + 'static {
    /// Every write up to `rv` is durable.
    fn committed(&self, rv: u64);
    /// A commit failed: undo every write not durable; returns the epoch of
    /// the writes applied from now on.
    fn failed(&self) -> u64;
}

/// Opens (or creates) the store's SQLite file in `data_dir`; returns it
/// and the last resourceVersion it recorded.
pub async fn open(data_dir: &Path) -> Result<(DatabaseConnection, u64), Error> {
    std::fs::create_dir_all(data_dir)?;
    // Objects include Secrets: the data dir is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let url = format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("apiserver.db").display()
    );
    let mut options = ConnectOptions::new(url);
    // One connection: the writer is the only user, and PRAGMAs are per connection.
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        .await?;
    let schema = Schema::new(db.get_database_backend());
    db.execute(
        schema
            .create_table_from_entity(object::Entity)
            .if_not_exists(),
    )
    .await?;
    db.execute(
        schema
            .create_table_from_entity(meta::Entity)
            .if_not_exists(),
    )
    .await?;
    let resource_version = meta::Entity::find_by_id(RV_KEY.to_string())
        .one(&db)
        .await?
        .map_or(0, |m| m.value as u64);
    Ok((db, resource_version))
}

/// Hands every stored object to `each` (its key, resourceVersion and
/// JSON), a page of them at a time in key order: never all of their text
/// in memory at once.
pub async fn load(
    db: &DatabaseConnection,
    mut each: impl FnMut(String, u64, String) -> Result<(), Error>,
) -> Result<(), Error> {
    const PAGE: u64 = 4096;
    let mut after: Option<String> = None;
    loop {
        let mut page = object::Entity::find().order_by_asc(object::Column::Key);
        if let Some(after) = after.take() {
            page = page.filter(object::Column::Key.gt(after));
        }
        let objects = page.limit(PAGE).all(db).await?;
        let full = objects.len() as u64 == PAGE;
        after = objects.last().map(|last| last.key.clone());
        for object in objects {
            each(object.key, object.resource_version as u64, object.body)?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// Handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Commit>,
}

impl Writer {
    pub fn spawn(
        db: DatabaseConnection,
        committed: watch::Sender<u64>,
        metrics: Arc<Metrics>,
        durability: Arc<dyn Durability>,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(db, rx, committed, metrics, durability));
        Self { tx }
    }

    pub fn queue(
        &self,
        changes: Vec<Change>,
        resource_version: u64,
        epoch: u64,
    ) -> oneshot::Receiver<Result<(), String>> {
        let (ack, done) = oneshot::channel();
        let _ = self.tx.send(Commit {
            changes,
            resource_version,
            epoch,
            ack,
        });
        done
    }
}

async fn run(
    db: DatabaseConnection,
    mut rx: mpsc::UnboundedReceiver<Commit>,
    committed: watch::Sender<u64>,
    metrics: Arc<Metrics>,
    durability: Arc<dyn Durability>,
) {
    let mut epoch = 0;
    let mut group = Vec::new();
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        // Writes applied before the last failure were undone with it.
        for undone in group.extract_if(.., |c: &mut Commit| c.epoch < epoch) {
            let _ = undone
                .ack
                .send(Err("an earlier write failed to commit".into()));
        }
        let Some(rv) = group.last().map(|c| c.resource_version) else {
            continue;
        };
        let started = std::time::Instant::now();
        let result = write_group(&db, &group).await;
        metrics.commits.inc();
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics
            .commit_batch
            .observe(group.iter().map(|c| c.changes.len()).sum::<usize>() as f64);
        let result = match result {
            Ok(()) => {
                durability.committed(rv);
                committed.send_replace(rv);
                Ok(())
            }
            Err(e) => {
                tracing::error!(reason = "StorageError", error = %e, "commit failed; its writes and those after it are undone");
                epoch = durability.failed();
                // Wakes the answers waiting for the undone writes to settle.
                committed.send_modify(|_| {});
                Err(e.to_string())
            }
        };
        for commit in group.drain(..) {
            let _ = commit.ack.send(result.clone());
        }
    }
}

async fn write_group(db: &DatabaseConnection, group: &[Commit]) -> Result<(), sea_orm::DbErr> {
    // Last write per key wins; a multi-row upsert may not name a key twice.
    let mut last: HashMap<&str, &Change> = HashMap::new();
    for change in group.iter().flat_map(|c| &c.changes) {
        last.insert(&change.key, change);
    }
    let (puts, deletes): (Vec<&Change>, Vec<&Change>) =
        last.into_values().partition(|c| c.body.is_some());
    let txn = db.begin().await?;
    for chunk in puts.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(|c| object::ActiveModel {
            key: Set(c.key.clone()),
            resource_version: Set(c.resource_version as i64),
            body: Set(c.body.as_deref().unwrap_or_default().to_string()),
        });
        object::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(object::Column::Key)
                    .update_columns([object::Column::ResourceVersion, object::Column::Body])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in deletes.chunks(INSERT_CHUNK) {
        use sea_orm::ColumnTrait;
        object::Entity::delete_many()
            .filter(object::Column::Key.is_in(chunk.iter().map(|c| c.key.clone())))
            .exec(&txn)
            .await?;
    }
    let rv = group.last().map_or(0, |c| c.resource_version);
    meta::Entity::insert(meta::ActiveModel {
        key: Set(RV_KEY.to_string()),
        value: Set(rv as i64),
    })
    .on_conflict(
        OnConflict::column(meta::Column::Key)
            .update_column(meta::Column::Value)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await
}
