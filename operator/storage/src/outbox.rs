//! The notification outbox: what Designate notifies of a change
//! (`dns.zone.create`, `dns.recordset.update`, ...) is written in the
//! transaction of the change, so a notification exists exactly when its
//! change committed; a relay sends the rows to the bus and removes them once
//! the broker confirmed them (at least once, each with a stable
//! `message_id`).
//!
//! The payloads are Designate's objects as its default notification plugin
//! sends them: the object's fields as a flat dict (`tenant_id`, `serial`,
//! `status`, `action`, ...). Storage derives the events from what the
//! transaction changes, so a repeated reconcile that changes nothing
//! notifies nothing. Managed recordsets (SOA, apex NS) are not notified, as
//! in Designate.

use chrono::{TimeZone, Utc};
use designate_central::{Rrset, ZoneRow};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::entity::{outbox, record, recordset};
use crate::{Error, Storage};

/// One notification of the outbox, ready for the bus.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxMessage {
    /// Commit order; what [`Storage::outbox_done`] takes.
    pub seq: i64,
    pub message_id: Uuid,
    pub event_type: String,
    pub payload: Value,
    /// Unix microseconds of the commit.
    pub created_at: i64,
}

/// The notifications of one transaction, staged until it writes them.
#[derive(Default)]
pub(crate) struct Notices(Vec<(&'static str, Value)>);

/// What a notification says happened to its object.
#[derive(Clone, Copy)]
pub(crate) enum Happened {
    Created,
    Updated,
    Deleted,
}

impl Happened {
    /// The object's `action` right after the change (its status is PENDING
    /// until the nameservers have it).
    fn action(self) -> &'static str {
        match self {
            Self::Created => "CREATE",
            Self::Updated => "UPDATE",
            Self::Deleted => "DELETE",
        }
    }
}

/// A zone as a payload: its fields when the change committed.
pub(crate) struct ZoneFacts<'a> {
    pub row: &'a ZoneRow,
    pub serial: i64,
    pub created_at: i64,
    /// `None` for a zone never updated.
    pub updated_at: Option<i64>,
}

impl Notices {
    pub(crate) fn push(&mut self, event_type: &'static str, payload: Value) {
        self.0.push((event_type, payload));
    }

    /// Pushes the notice of an event, if there is one.
    pub(crate) fn push_event(&mut self, event_type: Option<&'static str>, payload: Value) {
        if let Some(event_type) = event_type {
            self.push(event_type, payload);
        }
    }

    /// `dns.zone.<verb>` and its legacy twin `dns.domain.<verb>`.
    pub(crate) fn zone(&mut self, happened: Happened, zone: &ZoneFacts<'_>) {
        let payload = zone_payload(happened, zone);
        let (zone_event, domain_event) = match happened {
            Happened::Created => ("dns.zone.create", "dns.domain.create"),
            Happened::Updated => ("dns.zone.update", "dns.domain.update"),
            Happened::Deleted => ("dns.zone.delete", "dns.domain.delete"),
        };
        self.0.push((zone_event, payload.clone()));
        self.0.push((domain_event, payload));
    }

    /// `dns.zone.update` (and its twin) of a status the nameservers
    /// reached, as Designate's `update_status` sends it.
    pub(crate) fn zone_status(&mut self, zone: &ZoneFacts<'_>, status: &str, action: &str) {
        let mut payload = zone_payload(Happened::Updated, zone);
        payload["status"] = json!(status);
        payload["action"] = json!(action);
        self.0.push(("dns.zone.update", payload.clone()));
        self.0.push(("dns.domain.update", payload));
    }

    /// `dns.recordset.<verb>`, unless the recordset is managed.
    pub(crate) fn recordset(
        &mut self,
        happened: Happened,
        zone: &ZoneRow,
        rrset: &Rrset,
        times: (i64, Option<i64>),
    ) {
        if rrset.managed {
            return;
        }
        let event = match happened {
            Happened::Created => "dns.recordset.create",
            Happened::Updated => "dns.recordset.update",
            Happened::Deleted => "dns.recordset.delete",
        };
        self.0
            .push((event, recordset_payload(happened, zone, rrset, times)));
    }

    /// Writes the staged notifications in `txn`; nothing when the outbox is off.
    pub(crate) async fn write(self, txn: &DatabaseTransaction, enabled: bool) -> Result<(), DbErr> {
        if !enabled || self.0.is_empty() {
            return Ok(());
        }
        let created_at = unix_micros();
        let rows = self
            .0
            .into_iter()
            .map(|(event_type, payload)| outbox::ActiveModel {
                seq: NotSet,
                message_id: Set(Uuid::new_v4().to_string()),
                event_type: Set(event_type.to_string()),
                payload: Set(payload),
                created_at: Set(created_at),
            });
        outbox::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }
}

impl Storage {
    /// Writes notifications into the outbox from now on (a bus is
    /// configured); without it no row is written.
    pub fn with_outbox(mut self) -> Self {
        self.outbox = Some(std::sync::Arc::default());
        self
    }

    pub(crate) fn outbox_enabled(&self) -> bool {
        self.outbox.is_some()
    }

    /// Wakes a relay of this process after a commit that notified.
    pub(crate) fn outbox_written(&self) {
        if let Some(notify) = &self.outbox {
            notify.notify_one();
        }
    }

    /// Resolves after this process committed notifications (at once if it
    /// did since the last call); a relay also polls, for other processes.
    pub async fn outbox_changed(&self) {
        match &self.outbox {
            Some(notify) => notify.notified().await,
            None => std::future::pending().await,
        }
    }

    /// The oldest `limit` notifications not yet sent, in commit order.
    pub async fn outbox(&self, limit: u64) -> Result<Vec<OutboxMessage>, Error> {
        let rows = outbox::Entity::find()
            .order_by_asc(outbox::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| OutboxMessage {
                seq: row.seq,
                message_id: Uuid::parse_str(&row.message_id).unwrap_or_else(|_| Uuid::nil()),
                event_type: row.event_type,
                payload: row.payload,
                created_at: row.created_at,
            })
            .collect())
    }

    /// Removes notifications the broker confirmed.
    pub async fn outbox_done(&self, seqs: &[i64]) -> Result<(), Error> {
        if seqs.is_empty() {
            return Ok(());
        }
        outbox::Entity::delete_many()
            .filter(outbox::Column::Seq.is_in(seqs.iter().copied()))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// Whether the zone-level fields a user sets differ (serials, fingerprints
/// and the pool's primary nameserver are not an update of the zone).
pub(crate) fn zone_fields_changed(old: &ZoneRow, new: &ZoneRow) -> bool {
    let mut old = old.clone();
    old.soa.mname.clone_from(&new.soa.mname);
    old != *new
}

/// Whether an upsert changes what was published of a recordset.
pub(crate) fn rrset_changed(old: &(Vec<record::Model>, recordset::Model), new: &Rrset) -> bool {
    let (records, set) = old;
    let mut before: Vec<&str> = records.iter().map(|r| r.data.as_str()).collect();
    let mut after: Vec<&str> = new.records.iter().map(String::as_str).collect();
    before.sort_unstable();
    after.sort_unstable();
    set.ttl != new.ttl || set.description != new.description || before != after
}

/// The `Rrset` a published recordset was.
pub(crate) fn stored_rrset(set: &recordset::Model, records: &[record::Model]) -> Rrset {
    Rrset {
        id: set.id.clone(),
        name: set.name.clone(),
        type_: set.rr_type.clone(),
        ttl: set.ttl,
        records: records.iter().map(|r| r.data.clone()).collect(),
        description: set.description.clone(),
        managed: set.managed,
    }
}

fn zone_payload(happened: Happened, zone: &ZoneFacts<'_>) -> Value {
    let row = zone.row;
    json!({
        "id": row.id,
        "shard": shard(&row.id),
        "tenant_id": row.project,
        "name": row.name,
        "email": row.soa.email,
        "ttl": row.ttl,
        "refresh": row.soa.refresh,
        "retry": row.soa.retry,
        "expire": row.soa.expire,
        "minimum": row.soa.minimum,
        "parent_zone_id": null,
        "serial": zone.serial,
        "description": row.description,
        "status": "PENDING",
        "action": happened.action(),
        "pool_id": row.pool_id,
        "type": row.kind.as_str(),
        "masters": row.masters.iter().map(|m| json!({"host": host_port(m).0, "port": host_port(m).1})).collect::<Vec<_>>(),
        "attributes": [],
        "transferred_at": null,
        "delayed_notify": false,
        "increment_serial": false,
        "created_at": python_time(zone.created_at),
        "updated_at": zone.updated_at.map(python_time),
    })
}

fn recordset_payload(
    happened: Happened,
    zone: &ZoneRow,
    rrset: &Rrset,
    (created_at, updated_at): (i64, Option<i64>),
) -> Value {
    let records: Vec<Value> = rrset
        .records
        .iter()
        .map(|data| {
            json!({
                "data": data,
                "zone_id": zone.id,
                "recordset_id": rrset.id,
                "tenant_id": zone.project,
                "managed": false,
                "status": "PENDING",
                "action": happened.action(),
            })
        })
        .collect();
    json!({
        "id": rrset.id,
        "shard": shard(&zone.id),
        "tenant_id": zone.project,
        "zone_id": zone.id,
        "zone_name": zone.name,
        "name": rrset.name,
        "type": rrset.type_,
        "ttl": rrset.ttl,
        "description": rrset.description,
        "records": records,
        "status": "PENDING",
        "action": happened.action(),
        "created_at": python_time(created_at),
        "updated_at": updated_at.map(python_time),
    })
}

/// Designate's shard of an id: its first three hex digits.
fn shard(id: &str) -> Option<u16> {
    u16::from_str_radix(id.get(..3)?, 16).ok()
}

/// A master `host:port` (`[v6]:port`) as Designate's `{host, port}`.
fn host_port(master: &str) -> (String, u16) {
    match master.rsplit_once(':') {
        Some((host, port))
            if !host.is_empty()
                && (!host.contains(':') || host.starts_with('['))
                && port.parse::<u16>().is_ok() =>
        {
            (
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port.parse().unwrap_or(53),
            )
        }
        _ => (master.to_string(), 53),
    }
}

/// oslo's `jsonutils` form of a datetime: `2026-12-05T08:00:00.000000`.
fn python_time(unix: i64) -> String {
    Utc.timestamp_opt(unix, 0)
        .single()
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

fn unix_micros() -> i64 {
    Utc::now().timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_read_as_designate_host_and_port() {
        assert_eq!(host_port("192.0.2.1:5354"), ("192.0.2.1".into(), 5354));
        assert_eq!(host_port("[2001:db8::1]:53"), ("2001:db8::1".into(), 53));
        assert_eq!(host_port("192.0.2.1"), ("192.0.2.1".into(), 53));
        assert_eq!(host_port("2001:db8::1"), ("2001:db8::1".into(), 53));
    }

    #[test]
    fn shards_are_the_first_three_hex_digits() {
        assert_eq!(shard("a1b2c3d4-0000-0000-0000-000000000000"), Some(0xa1b));
        assert_eq!(shard("zz"), None);
    }

    #[test]
    fn times_are_oslo_strings() {
        assert_eq!(python_time(0), "1970-01-01T00:00:00.000000");
    }
}
