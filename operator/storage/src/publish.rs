//! The write path of zones: `publish` and `delete_zone`, each one transaction
//! under the zone's lock, and the serial history they keep for IXFR.
//!
//! History bound: each zone keeps its last `history_limit` versions' changes
//! (plus the SOA of the version before them), pruned in the transaction that
//! adds a version; a secondary further behind transfers the whole zone.

use std::collections::{HashMap, HashSet};

use designate_central::managed::{managed_rrset_id, soa_rrset};
use designate_central::serial::next_serial;
use designate_central::{Rrset, ZoneRow};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel,
    NotSet, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};

use crate::entity::{project_zone_count, record, record_change, recordset, zone, zone_version};
use crate::outbox::{
    Happened, Notices, ZoneFacts, rrset_changed, stored_rrset, zone_fields_changed,
};
use crate::{Error, ResourceRecord, Storage, ZoneChange, finish, to_json};

pub(crate) const OP_DEL: &str = "del";
const OP_ADD: &str = "add";

/// Rows per multi-row `INSERT`, well below every backend's bind limit.
const INSERT_CHUNK: usize = 1000;

/// Ids per `IN (...)` list, for the same reason (SQLite allows 32,766
/// variables a statement, PostgreSQL 65,535).
const ID_CHUNK: usize = 1000;

/// Tries of a publish that hit a deadlock or serialization failure: the whole
/// transaction was rolled back, so running it again is safe.
const TRANSIENT_TRIES: u32 = 5;

impl Storage {
    /// Applies one change in one transaction and returns the new serial
    /// (`max(old + 1, now_unix)`, or the change's own: a secondary zone's is
    /// its master's).
    ///
    /// The SOA is storage's: it is re-rendered at the new serial, and SOA
    /// entries in `upsert` or `delete` are ignored.
    pub async fn publish(&self, change: &ZoneChange, now_unix: i64) -> Result<i64, Error> {
        let mut tries = 1;
        loop {
            match self.publish_once(change, now_unix).await {
                Err(Error::Db(error)) if tries < TRANSIENT_TRIES && is_transient(&error) => {
                    tracing::debug!(zone = %change.zone.id, %error, "publish retried");
                    tries += 1;
                }
                result => return result,
            }
        }
    }

    async fn publish_once(&self, change: &ZoneChange, now: i64) -> Result<i64, Error> {
        let (_guard, txn) = self.begin_write().await?;
        let result = apply(&txn, change, now, self.history_limit, self.outbox_enabled()).await;
        let result = finish(txn, result).await;
        if result.is_ok() {
            self.outbox_written();
        }
        match result {
            // Creating: the unique key hit may be the id (another writer
            // created the zone first) rather than the name.
            Err(Error::NameTaken(name)) if change.base_serial.is_none() => {
                match self.zone_state(&change.zone.id).await? {
                    Some(state) => Err(Error::Conflict {
                        zone: change.zone.id.clone(),
                        planned: None,
                        found: Some(state.serial),
                    }),
                    None => Err(Error::NameTaken(name)),
                }
            }
            result => result,
        }
    }

    /// Records that the zone as published at `serial` also matches the inputs
    /// digested as `fingerprint` (inputs changed, published data did not), so
    /// the next reconcile can tell it has nothing to do. A no-op when the
    /// zone moved past `serial` meanwhile.
    pub async fn set_fingerprint(
        &self,
        id: &str,
        serial: i64,
        fingerprint: &str,
    ) -> Result<(), Error> {
        zone::Entity::update_many()
            .col_expr(zone::Column::Fingerprint, Expr::value(fingerprint))
            .filter(zone::Column::Id.eq(id))
            .filter(zone::Column::Serial.eq(serial))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Removes a zone and everything published for it; `false` when absent.
    ///
    /// `remaining` are the ids of the zone's recordsets that still exist: a
    /// published one not among them was deleted by its owner before the zone
    /// and never republished, and is notified as deleted (Designate notifies
    /// a recordset's delete when asked), where the zone's own take nothing.
    pub async fn delete_zone(&self, id: &str, remaining: &HashSet<String>) -> Result<bool, Error> {
        let (_guard, txn) = self.begin_write().await?;
        let result = async {
            let found = zone::Entity::find_by_id(id)
                .lock_exclusive()
                .one(&txn)
                .await?;
            if let Some(old) = &found {
                let row = crate::zone_head(old.clone())?.zone;
                let mut notices = Notices::default();
                if self.outbox_enabled() {
                    let deleted: Vec<String> = recordset::Entity::find()
                        .select_only()
                        .column(recordset::Column::Id)
                        .filter(recordset::Column::ZoneId.eq(id))
                        .filter(recordset::Column::Managed.eq(false))
                        .into_tuple::<String>()
                        .all(&txn)
                        .await?
                        .into_iter()
                        .filter(|set| !remaining.contains(set))
                        .collect();
                    let ids = deleted.iter().map(String::as_str).collect();
                    let (sets, mut records) = published(&txn, id, ids, false).await?;
                    let now = crate::unix_now();
                    // In the order they were made, as a replay would send them.
                    let mut sets: Vec<_> = sets.into_values().collect();
                    sets.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
                    for set in sets {
                        let records = records.remove(&set.id).unwrap_or_default();
                        notices.recordset(
                            Happened::Deleted,
                            &row,
                            &stored_rrset(&set, &records),
                            (set.created_at, Some(now)),
                        );
                    }
                }
                record_change::Entity::delete_many()
                    .filter(record_change::Column::ZoneId.eq(id))
                    .exec(&txn)
                    .await?;
                zone_version::Entity::delete_many()
                    .filter(zone_version::Column::ZoneId.eq(id))
                    .exec(&txn)
                    .await?;
                record::Entity::delete_many()
                    .filter(record::Column::ZoneId.eq(id))
                    .exec(&txn)
                    .await?;
                recordset::Entity::delete_many()
                    .filter(recordset::Column::ZoneId.eq(id))
                    .exec(&txn)
                    .await?;
                zone::Entity::delete_by_id(id).exec(&txn).await?;
                count_zone(&txn, &old.project, id, -1).await?;
                crate::entity::notified_object::Entity::delete_by_id((
                    crate::noted::ZONE_STATUS.to_string(),
                    id.to_string(),
                ))
                .exec(&txn)
                .await?;
                notices.zone(
                    Happened::Deleted,
                    &ZoneFacts {
                        row: &row,
                        serial: old.serial,
                        created_at: old.created_at,
                        updated_at: Some(crate::unix_now()),
                    },
                );
                notices.write(&txn, self.outbox_enabled()).await?;
            }
            Ok(found.is_some())
        }
        .await;
        let result = finish(txn, result).await;
        if result.as_ref().is_ok_and(|found| *found) {
            self.outbox_written();
        }
        result
    }
}

/// The body of `publish`, inside its transaction.
async fn apply(
    txn: &DatabaseTransaction,
    change: &ZoneChange,
    now: i64,
    history_limit: u64,
    outbox: bool,
) -> Result<i64, Error> {
    let zone = &change.zone;
    let soa_id = managed_rrset_id(&zone.id, "SOA");
    let mut notices = Notices::default();

    // Lock (or create) the zone row and check the serial planned against.
    let (old_zone_ttl, serial, old_project) = match change.base_serial {
        None => {
            let serial = change.serial.unwrap_or_else(|| next_serial(None, now));
            zone::Entity::insert(zone_row(change, serial, now)?.into_active_model())
                .exec_without_returning(txn)
                .await
                .map_err(|e| name_taken(e, zone))?;
            let facts = ZoneFacts {
                row: zone,
                serial,
                created_at: now,
                updated_at: None,
            };
            notices.zone(Happened::Created, &facts);
            (None, serial, None)
        }
        Some(base) => {
            let found = zone::Entity::find_by_id(zone.id.as_str())
                .lock_exclusive()
                .one(txn)
                .await?;
            let old = match found {
                Some(old) if old.serial == base => old,
                other => {
                    return Err(Error::Conflict {
                        zone: zone.id.clone(),
                        planned: Some(base),
                        found: other.map(|o| o.serial),
                    });
                }
            };
            let serial = change
                .serial
                .unwrap_or_else(|| next_serial(Some(old.serial), now));
            let mut row = zone_row(change, serial, now)?
                .into_active_model()
                .reset_all();
            row.created_at = NotSet;
            zone::Entity::update_many()
                .set(row)
                .filter(zone::Column::Id.eq(zone.id.as_str()))
                .exec(txn)
                .await
                .map_err(|e| name_taken(e, zone))?;
            if zone_fields_changed(&crate::zone_head(old.clone())?.zone, zone) {
                let facts = ZoneFacts {
                    row: zone,
                    serial,
                    created_at: old.created_at,
                    updated_at: Some(now),
                };
                notices.zone(Happened::Updated, &facts);
            }
            (Some(old.ttl), serial, Some(old.project))
        }
    };
    let zone_ttl_changed = old_zone_ttl.is_some_and(|ttl| ttl != zone.ttl);
    let old_zone_ttl = old_zone_ttl.unwrap_or(zone.ttl);

    // What is published of the recordsets this change touches: the upserted,
    // the deleted, the SOA and, when the zone TTL changes, those inheriting it.
    let upserts: Vec<&Rrset> = change
        .upsert
        .iter()
        .filter(|r| r.id != soa_id && r.type_ != "SOA")
        .collect();
    let touched: Vec<&str> = upserts
        .iter()
        .map(|r| r.id.as_str())
        .chain(change.delete.iter().map(String::as_str))
        .chain([soa_id.as_str()])
        .collect();
    let (mut old_sets, mut old_records) =
        published(txn, &zone.id, touched, zone_ttl_changed).await?;

    let mut plan = Plan::new(zone, old_zone_ttl, serial, now);
    for id in &change.delete {
        if *id == soa_id {
            continue;
        }
        if let Some(old) = old_sets.remove(id) {
            let ttl = old.ttl.unwrap_or(old_zone_ttl);
            let records = old_records.remove(id).unwrap_or_default();
            let times = (old.created_at, Some(now));
            notices.recordset(
                Happened::Deleted,
                zone,
                &stored_rrset(&old, &records),
                times,
            );
            for record in records {
                plan.removed
                    .push(rr(&old.name, &old.rr_type, ttl, record.data));
            }
            plan.deleted.push(old.id);
        }
    }
    for rrset in upserts {
        let old = old_sets
            .remove(&rrset.id)
            .map(|set| (old_records.remove(&set.id).unwrap_or_default(), set));
        match &old {
            None => notices.recordset(Happened::Created, zone, rrset, (now, None)),
            Some(old) if rrset_changed(old, rrset) => {
                let times = (old.1.created_at, Some(now));
                notices.recordset(Happened::Updated, zone, rrset, times);
            }
            Some(_) => {}
        }
        plan.rrset(rrset, old, true);
    }
    // The SOA changes with every version; each version stores it apart.
    let soa = soa_rrset(&zone.id, &zone.name, &zone.soa, serial);
    let old_soa = old_sets
        .remove(&soa_id)
        .map(|set| (old_records.remove(&soa_id).unwrap_or_default(), set));
    plan.rrset(&soa, old_soa, false);
    // What is left inherits the zone TTL, which changed: re-added at the new TTL.
    let mut inherited: Vec<recordset::Model> = old_sets.into_values().collect();
    inherited.sort_by(|a, b| (&a.name, &a.rr_type).cmp(&(&b.name, &b.rr_type)));
    for set in &inherited {
        for record in old_records.remove(&set.id).unwrap_or_default() {
            plan.removed.push(rr(
                &set.name,
                &set.rr_type,
                old_zone_ttl,
                record.data.clone(),
            ));
            plan.added
                .push(rr(&set.name, &set.rr_type, zone.ttl, record.data));
        }
    }
    let inherited: Vec<String> = inherited.into_iter().map(|set| set.id).collect();
    plan.write(txn, &inherited).await?;

    // The version and its changes (none for the first: nothing precedes it).
    zone_version::Entity::insert(
        zone_version::Model {
            zone_id: zone.id.clone(),
            serial,
            soa_ttl: soa.ttl.unwrap_or(zone.ttl),
            soa_data: soa.records.first().cloned().unwrap_or_default(),
            created_at: now,
        }
        .into_active_model(),
    )
    .exec_without_returning(txn)
    .await?;
    if change.base_serial.is_some() {
        record_history(txn, &zone.id, serial, &plan.removed, &plan.added).await?;
        prune(txn, &zone.id, history_limit).await?;
    }
    notices.write(txn, outbox).await?;
    // Last: the count's row is held from here to the commit only.
    match old_project {
        None => count_zone(txn, &zone.project, &zone.id, 1).await?,
        Some(old) if old != zone.project => {
            count_zone(txn, &old, &zone.id, -1).await?;
            count_zone(txn, &zone.project, &zone.id, 1).await?;
        }
        Some(_) => {}
    }
    tracing::debug!(
        zone = %zone.id,
        serial,
        removed = plan.removed.len(),
        added = plan.added.len(),
        "published"
    );
    Ok(serial)
}

/// The writes of one publish, staged so that they go out in an order the
/// unique keys accept and in few statements.
struct Plan<'a> {
    zone: &'a ZoneRow,
    old_zone_ttl: i64,
    serial: i64,
    now: i64,
    /// Recordsets removed, with their records.
    deleted: Vec<String>,
    /// Recordsets whose row changes.
    updated: Vec<recordset::Model>,
    /// Recordsets new to the zone.
    inserted: Vec<recordset::Model>,
    /// Recordsets whose records are replaced by `records`.
    rewritten: Vec<String>,
    records: Vec<record::Model>,
    /// The history of this version, at effective TTLs.
    removed: Vec<ResourceRecord>,
    added: Vec<ResourceRecord>,
}

impl<'a> Plan<'a> {
    fn new(zone: &'a ZoneRow, old_zone_ttl: i64, serial: i64, now: i64) -> Self {
        Self {
            zone,
            old_zone_ttl,
            serial,
            now,
            deleted: Vec::new(),
            updated: Vec::new(),
            inserted: Vec::new(),
            rewritten: Vec::new(),
            records: Vec::new(),
            removed: Vec::new(),
            added: Vec::new(),
        }
    }

    /// Stages `rrset` over what was published of it (`old`: records, row).
    fn rrset(
        &mut self,
        rrset: &Rrset,
        old: Option<(Vec<record::Model>, recordset::Model)>,
        history: bool,
    ) {
        let zone = self.zone;
        let ttl = rrset.ttl.unwrap_or(zone.ttl);
        let (old_records, old) = match old {
            Some((records, set)) => (records, Some(set)),
            None => (Vec::new(), None),
        };
        // A record keeps its row when its data stays; the first equal one wins.
        let mut unmatched: Vec<Option<&record::Model>> = old_records.iter().map(Some).collect();
        let matches: Vec<Option<&record::Model>> = rrset
            .records
            .iter()
            .map(|data| {
                unmatched
                    .iter_mut()
                    .find(|r| r.is_some_and(|r| r.data == *data))
                    .and_then(Option::take)
            })
            .collect();
        // Another owner name, type or effective TTL re-adds every record.
        let same_rrs = old.as_ref().is_some_and(|old| {
            old.name == rrset.name
                && old.rr_type == rrset.type_
                && old.ttl.unwrap_or(self.old_zone_ttl) == ttl
        });
        let mut removed = Vec::new();
        let mut added = Vec::new();
        let mut rows = Vec::with_capacity(rrset.records.len());
        for (position, (data, matched)) in rrset.records.iter().zip(&matches).enumerate() {
            let kept = matched.filter(|_| same_rrs);
            if kept.is_none() {
                added.push(rr(&rrset.name, &rrset.type_, ttl, data.clone()));
            }
            rows.push(record::Model {
                id: matched.map_or_else(new_id, |r| r.id.clone()),
                recordset_id: rrset.id.clone(),
                zone_id: zone.id.clone(),
                data: data.clone(),
                position: i32::try_from(position).unwrap_or(i32::MAX),
                serial: kept.map_or(self.serial, |r| r.serial),
            });
        }
        if let Some(old) = &old {
            let old_ttl = old.ttl.unwrap_or(self.old_zone_ttl);
            let gone = old_records
                .iter()
                .zip(&unmatched)
                .filter(|(_, unmatched)| !same_rrs || unmatched.is_some());
            for (record, _) in gone {
                removed.push(rr(&old.name, &old.rr_type, old_ttl, record.data.clone()));
            }
        }

        let content_changed = !same_rrs || !removed.is_empty() || !added.is_empty();
        let row = recordset::Model {
            id: rrset.id.clone(),
            zone_id: zone.id.clone(),
            name: rrset.name.clone(),
            rr_type: rrset.type_.clone(),
            ttl: rrset.ttl,
            description: rrset.description.clone(),
            managed: rrset.managed,
            serial: if content_changed {
                self.serial
            } else {
                old.as_ref().map_or(self.serial, |old| old.serial)
            },
            created_at: old.as_ref().map_or(self.now, |old| old.created_at),
            updated_at: self.now,
        };
        let order_changed = !old_records.iter().map(|r| &r.data).eq(&rrset.records);
        match old {
            None => self.inserted.push(row),
            Some(old) => {
                // Serial and update time follow from the rest.
                let same_row = recordset::Model {
                    serial: old.serial,
                    updated_at: old.updated_at,
                    ..row.clone()
                } == old;
                if content_changed || !same_row {
                    self.updated.push(row);
                }
                if !content_changed && !order_changed {
                    return;
                }
                self.rewritten.push(rrset.id.clone());
            }
        }
        self.records.extend(rows);
        if history {
            self.removed.extend(removed);
            self.added.extend(added);
        }
    }

    /// Writes what was staged; `inherited` are recordsets re-added at the new
    /// zone TTL, whose rows only take the new serial.
    async fn write(&self, txn: &DatabaseTransaction, inherited: &[String]) -> Result<(), DbErr> {
        let replaced: Vec<&str> = self
            .deleted
            .iter()
            .chain(&self.rewritten)
            .map(String::as_str)
            .collect();
        for chunk in replaced.chunks(ID_CHUNK) {
            record::Entity::delete_many()
                .filter(record::Column::RecordsetId.is_in(chunk.iter().copied()))
                .exec(txn)
                .await?;
        }
        for chunk in self.deleted.chunks(ID_CHUNK) {
            recordset::Entity::delete_many()
                .filter(recordset::Column::Id.is_in(chunk.iter().map(String::as_str)))
                .exec(txn)
                .await?;
        }
        // Updates before inserts: a recordset may leave a name a new one takes.
        for row in &self.updated {
            let mut update = row.clone().into_active_model().reset_all();
            update.created_at = NotSet;
            recordset::Entity::update_many()
                .set(update)
                .filter(recordset::Column::Id.eq(row.id.as_str()))
                .exec(txn)
                .await?;
        }
        for chunk in self.inserted.chunks(INSERT_CHUNK) {
            recordset::Entity::insert_many(
                chunk
                    .iter()
                    .cloned()
                    .map(IntoActiveModel::into_active_model),
            )
            .exec_without_returning(txn)
            .await?;
        }
        for chunk in self.records.chunks(INSERT_CHUNK) {
            record::Entity::insert_many(
                chunk
                    .iter()
                    .cloned()
                    .map(IntoActiveModel::into_active_model),
            )
            .exec_without_returning(txn)
            .await?;
        }
        for chunk in inherited.chunks(ID_CHUNK) {
            recordset::Entity::update_many()
                .col_expr(recordset::Column::Serial, Expr::val(self.serial))
                .col_expr(recordset::Column::UpdatedAt, Expr::val(self.now))
                .filter(recordset::Column::Id.is_in(chunk.iter().map(String::as_str)))
                .exec(txn)
                .await?;
            record::Entity::update_many()
                .col_expr(record::Column::Serial, Expr::val(self.serial))
                .filter(record::Column::RecordsetId.is_in(chunk.iter().map(String::as_str)))
                .exec(txn)
                .await?;
        }
        Ok(())
    }
}

/// Recordsets by id, and the records of each in order.
type Published = (
    HashMap<String, recordset::Model>,
    HashMap<String, Vec<record::Model>>,
);

/// The published recordsets `ids` of a zone (plus, with `inherited`, those
/// without a TTL of their own), by id, and their records in order.
async fn published(
    txn: &DatabaseTransaction,
    zone_id: &str,
    ids: Vec<&str>,
    inherited: bool,
) -> Result<Published, DbErr> {
    let mut sets: HashMap<String, recordset::Model> = HashMap::new();
    let mut found = |rows: Vec<recordset::Model>| {
        sets.extend(rows.into_iter().map(|set| (set.id.clone(), set)));
    };
    for chunk in ids.chunks(ID_CHUNK) {
        found(
            recordset::Entity::find()
                .filter(recordset::Column::ZoneId.eq(zone_id))
                .filter(recordset::Column::Id.is_in(chunk.iter().copied()))
                .all(txn)
                .await?,
        );
    }
    if inherited {
        found(
            recordset::Entity::find()
                .filter(recordset::Column::ZoneId.eq(zone_id))
                .filter(recordset::Column::Ttl.is_null())
                .all(txn)
                .await?,
        );
    }
    let set_ids: Vec<&str> = sets.keys().map(String::as_str).collect();
    let mut records: HashMap<String, Vec<record::Model>> = HashMap::new();
    for chunk in set_ids.chunks(ID_CHUNK) {
        for record in record::Entity::find()
            .filter(record::Column::RecordsetId.is_in(chunk.iter().copied()))
            .order_by_asc(record::Column::RecordsetId)
            .order_by_asc(record::Column::Position)
            .all(txn)
            .await?
        {
            records
                .entry(record.recordset_id.clone())
                .or_default()
                .push(record);
        }
    }
    Ok((sets, records))
}

/// The changes of version `serial`: removals first, then additions.
async fn record_history(
    txn: &DatabaseTransaction,
    zone_id: &str,
    serial: i64,
    removed: &[ResourceRecord],
    added: &[ResourceRecord],
) -> Result<(), DbErr> {
    let changes: Vec<record_change::Model> = removed
        .iter()
        .map(|rr| (OP_DEL, rr))
        .chain(added.iter().map(|rr| (OP_ADD, rr)))
        .zip(0..)
        .map(|((op, rr), seq)| record_change::Model {
            zone_id: zone_id.into(),
            serial,
            seq,
            op: op.into(),
            name: rr.name.clone(),
            rr_type: rr.type_.clone(),
            ttl: rr.ttl,
            data: rr.data.clone(),
        })
        .collect();
    for chunk in changes.chunks(INSERT_CHUNK) {
        record_change::Entity::insert_many(
            chunk
                .iter()
                .cloned()
                .map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Keeps the newest `limit` changes of a zone (and the version before them).
async fn prune(txn: &DatabaseTransaction, zone_id: &str, limit: u64) -> Result<(), DbErr> {
    let oldest_kept: Option<i64> = zone_version::Entity::find()
        .select_only()
        .column(zone_version::Column::Serial)
        .filter(zone_version::Column::ZoneId.eq(zone_id))
        .order_by_desc(zone_version::Column::Serial)
        .offset(limit)
        .into_tuple()
        .one(txn)
        .await?;
    if let Some(oldest_kept) = oldest_kept {
        record_change::Entity::delete_many()
            .filter(record_change::Column::ZoneId.eq(zone_id))
            .filter(record_change::Column::Serial.lte(oldest_kept))
            .exec(txn)
            .await?;
        zone_version::Entity::delete_many()
            .filter(zone_version::Column::ZoneId.eq(zone_id))
            .filter(zone_version::Column::Serial.lt(oldest_kept))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Counts zone `zone_id` in (or, with -1, out of) `project`'s zones.
async fn count_zone(
    txn: &DatabaseTransaction,
    project: &str,
    zone_id: &str,
    delta: i64,
) -> Result<(), DbErr> {
    use project_zone_count::Column;
    project_zone_count::Entity::insert(project_zone_count::ActiveModel {
        project: Set(project.to_string()),
        shard: Set(count_shard(zone_id)),
        zones: Set(delta),
    })
    .on_conflict(
        OnConflict::columns([Column::Project, Column::Shard])
            .value(
                Column::Zones,
                Expr::col((project_zone_count::Entity, Column::Zones)).add(delta),
            )
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The row of a project's count a zone is counted in: its id's last
/// character (as schema version 6 counted the zones before it).
fn count_shard(zone_id: &str) -> String {
    zone_id.chars().last().map(String::from).unwrap_or_default()
}

fn zone_row(change: &ZoneChange, serial: i64, now: i64) -> Result<zone::Model, DbErr> {
    let zone = &change.zone;
    Ok(zone::Model {
        id: zone.id.clone(),
        project: zone.project.clone(),
        name: zone.name.clone(),
        name_key: zone.name.to_ascii_lowercase(),
        name_rkey: crate::reversed_name(&zone.name.to_ascii_lowercase()),
        pool_id: zone.pool_id.clone(),
        kind: zone.kind.as_str().into(),
        ttl: zone.ttl,
        description: zone.description.clone(),
        masters: to_json(&zone.masters)?,
        soa_mname: zone.soa.mname.clone(),
        soa_email: zone.soa.email.clone(),
        soa_refresh: zone.soa.refresh,
        soa_retry: zone.soa.retry,
        soa_expire: zone.soa.expire,
        soa_minimum: zone.soa.minimum,
        serial,
        fingerprint: change.fingerprint.clone(),
        created_at: now,
        updated_at: now,
    })
}

/// A unique key of the zone row: (name, pool) taken, or (creating) the id.
fn name_taken(error: DbErr, zone: &ZoneRow) -> Error {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::NameTaken(zone.name.clone()),
        _ => Error::Db(error),
    }
}

/// Deadlock or serialization failure (SQLSTATE 40001 on MySQL and
/// PostgreSQL, 40P01 on PostgreSQL).
fn is_transient(error: &DbErr) -> bool {
    matches!(
        crate::database_code(error).as_deref(),
        Some("40001" | "40P01")
    )
}

fn rr(name: &str, type_: &str, ttl: i64, data: String) -> ResourceRecord {
    ResourceRecord {
        name: name.into(),
        type_: type_.into(),
        ttl,
        data,
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
