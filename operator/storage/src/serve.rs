//! The read side MiniDNS answers from: the zones enclosing a name, one RRset,
//! and a whole zone read in pages at one serial (AXFR), so that a large zone
//! is never held in memory and a transfer never mixes two versions.

use std::collections::HashMap;

use designate_central::managed::soa_rdata;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{record, recordset, zone};
use crate::{Error, ResourceRecord, Storage, ZoneHead, lower_name, zone_head};

impl Storage {
    /// The zones named `name` or one of its ancestors (ASCII
    /// case-insensitive), deepest first, then by pool.
    pub async fn zones_enclosing(&self, name: &str) -> Result<Vec<ZoneHead>, Error> {
        let name = name.to_ascii_lowercase();
        let mut candidates = vec![name.as_str()];
        candidates.extend(
            name.match_indices('.')
                .map(|(i, _)| &name[i + 1..])
                .filter(|suffix| !suffix.is_empty()),
        );
        let mut heads: Vec<ZoneHead> = zone::Entity::find()
            .filter(lower_name().is_in(candidates))
            .order_by_asc(zone::Column::PoolId)
            .all(&self.db)
            .await?
            .into_iter()
            .map(zone_head)
            .collect::<Result<_, _>>()?;
        // Stable: equal depths keep the pool order.
        heads.sort_by_key(|head| std::cmp::Reverse(head.zone.name.len()));
        Ok(heads)
    }

    /// The records of a zone's RRset `name`/`type_` (name ASCII
    /// case-insensitive) at their effective TTL, in order; `None` when the
    /// zone has no such RRset.
    pub async fn rrset_records(
        &self,
        zone_id: &str,
        name: &str,
        type_: &str,
    ) -> Result<Option<Vec<ResourceRecord>>, Error> {
        let txn = self.begin_read().await?;
        let Some(zone_ttl) = zone::Entity::find_by_id(zone_id)
            .select_only()
            .column(zone::Column::Ttl)
            .into_tuple::<i64>()
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let Some(set) = recordset::Entity::find()
            .filter(recordset::Column::ZoneId.eq(zone_id))
            .filter(recordset::Column::RrType.eq(type_))
            .filter(
                Expr::expr(Func::lower(Expr::col(recordset::Column::Name)))
                    .eq(name.to_ascii_lowercase()),
            )
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let data: Vec<String> = record::Entity::find()
            .select_only()
            .column(record::Column::Data)
            .filter(record::Column::RecordsetId.eq(set.id.as_str()))
            .order_by_asc(record::Column::Position)
            .into_tuple()
            .all(&txn)
            .await?;
        txn.commit().await?;
        let ttl = set.ttl.unwrap_or(zone_ttl);
        Ok(Some(
            data.into_iter()
                .map(|data| ResourceRecord {
                    name: set.name.clone(),
                    type_: set.rr_type.clone(),
                    ttl,
                    data,
                })
                .collect(),
        ))
    }

    /// A whole zone as of its current serial, for a transfer: its SOA, then
    /// its other records in pages of `page_size` RRsets. `None` when the
    /// zone does not exist.
    ///
    /// Nothing is held between pages (SQLite's pool has one connection, and
    /// a slow client must not hold up the writers): each page is read in a
    /// transaction of its own that checks the serial, so that a transfer
    /// never mixes two versions of the zone.
    pub async fn zone_snapshot(
        &self,
        zone_id: &str,
        page_size: u64,
    ) -> Result<Option<ZoneSnapshot>, Error> {
        let Some(row) = zone::Entity::find_by_id(zone_id).one(&self.db).await? else {
            return Ok(None);
        };
        let zone = zone_head(row)?;
        // The SOA RRset is rendered from the zone row by every publish, at the
        // zone TTL: render it from the row read.
        let soa = ResourceRecord {
            name: zone.zone.name.clone(),
            type_: "SOA".into(),
            ttl: zone.zone.ttl,
            data: soa_rdata(&zone.zone.soa, zone.serial),
        };
        Ok(Some(ZoneSnapshot {
            storage: self.clone(),
            zone,
            soa,
            after: None,
            done: false,
            page_size: Ord::max(page_size, 1),
        }))
    }
}

/// A zone as of one serial, read page by page (see [`Storage::zone_snapshot`]).
#[derive(Debug)]
pub struct ZoneSnapshot {
    storage: Storage,
    zone: ZoneHead,
    soa: ResourceRecord,
    /// (name, type) of the last RRset read: pages are keyset-paginated.
    after: Option<(String, String)>,
    done: bool,
    page_size: u64,
}

impl ZoneSnapshot {
    /// The zone as of the snapshot.
    pub fn zone(&self) -> &ZoneHead {
        &self.zone
    }

    /// The zone's SOA record as of the snapshot.
    pub fn soa(&self) -> &ResourceRecord {
        &self.soa
    }

    /// The records of the next RRsets other than the SOA (by name and type,
    /// each RRset's records in their order, at effective TTLs); `None` once
    /// all were read.
    /// [`Error::Conflict`] when the zone changed (or went) since the
    /// snapshot was taken: the transfer must start again.
    pub async fn next_page(&mut self) -> Result<Option<Vec<ResourceRecord>>, Error> {
        if self.done {
            return Ok(None);
        }
        let txn = self.storage.begin_read().await?;
        let page = self.read_page(&txn).await;
        txn.commit().await?;
        let page = page?;
        self.done = page.is_none();
        Ok(page)
    }

    async fn read_page(
        &mut self,
        txn: &DatabaseTransaction,
    ) -> Result<Option<Vec<ResourceRecord>>, Error> {
        let zone_id = self.zone.zone.id.as_str();
        let serial: Option<i64> = zone::Entity::find_by_id(zone_id)
            .select_only()
            .column(zone::Column::Serial)
            .into_tuple()
            .one(txn)
            .await?;
        if serial != Some(self.zone.serial) {
            return Err(Error::Conflict {
                zone: zone_id.to_string(),
                planned: Some(self.zone.serial),
                found: serial,
            });
        }
        // The next RRsets in (name, type) order: a range scan of the
        // (zone_id, name, type) index from the last one read.
        let mut sets = recordset::Entity::find()
            .select_only()
            .column(recordset::Column::Id)
            .column(recordset::Column::Name)
            .column(recordset::Column::RrType)
            .column(recordset::Column::Ttl)
            .filter(recordset::Column::ZoneId.eq(zone_id))
            .filter(recordset::Column::RrType.ne("SOA"));
        if let Some((name, type_)) = &self.after {
            // `(name, type) > after`, spelled so that every database starts
            // its scan at `name`.
            sets = sets
                .filter(recordset::Column::Name.gte(name.as_str()))
                .filter(
                    Condition::any()
                        .add(recordset::Column::Name.gt(name.as_str()))
                        .add(recordset::Column::RrType.gt(type_.as_str())),
                );
        }
        let sets: Vec<(String, String, String, Option<i64>)> = sets
            .order_by_asc(recordset::Column::Name)
            .order_by_asc(recordset::Column::RrType)
            .limit(self.page_size)
            .into_tuple()
            .all(txn)
            .await?;
        let Some((_, name, type_, _)) = sets.last() else {
            return Ok(None);
        };
        self.after = Some((name.clone(), type_.clone()));

        // Their records, by the (recordset_id, position) index. Not a join:
        // ordering by columns of two tables makes MySQL sort the whole zone.
        let records: Vec<(String, String)> = record::Entity::find()
            .select_only()
            .column(record::Column::RecordsetId)
            .column(record::Column::Data)
            .filter(record::Column::RecordsetId.is_in(sets.iter().map(|set| set.0.as_str())))
            .order_by_asc(record::Column::RecordsetId)
            .order_by_asc(record::Column::Position)
            .into_tuple()
            .all(txn)
            .await?;
        let mut by_set: HashMap<String, Vec<String>> = HashMap::with_capacity(sets.len());
        for (set, data) in records {
            by_set.entry(set).or_default().push(data);
        }
        let zone_ttl = self.zone.zone.ttl;
        let mut page = Vec::with_capacity(sets.len());
        for (id, name, type_, ttl) in sets {
            let ttl = ttl.unwrap_or(zone_ttl);
            for data in by_set.remove(&id).unwrap_or_default() {
                page.push(ResourceRecord {
                    name: name.clone(),
                    type_: type_.clone(),
                    ttl,
                    data,
                });
            }
        }
        Ok(Some(page))
    }
}
