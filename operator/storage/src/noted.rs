//! Notifications of the objects that live only in the Kubernetes API (TLDs,
//! blacklists, TSIG keys, pools): the leader watches them and notes each
//! object as it now is; storage compares with what it noted last and writes
//! `dns.<kind>.create/update/delete` into the outbox in the same
//! transaction. So a change is notified once, however often it is seen
//! again (relists, restarts, a new leader), and a delete made while no
//! leader ran is notified at the next listing.
//!
//! A zone's status is noted the same way: Designate's `update_status`
//! notifies `dns.zone.update` once the nameservers have a serial (ACTIVE)
//! or failed it (ERROR); [`Storage::note_zone_status`] writes that once per
//! serial and status, however often the controllers reconcile.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use crate::entity::{notified_object, zone};
use crate::outbox::{Happened, Notices, ZoneFacts};
use crate::{Error, Storage, finish};

/// The kind under which a zone's last notified status is kept.
pub(crate) const ZONE_STATUS: &str = "zone_status";

/// A zone status Designate's `update_status` notifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneStatusNotice {
    /// Every nameserver has the serial: ACTIVE, action NONE.
    Active,
    /// The nameservers failed it: ERROR, the action it failed.
    Error { action: &'static str },
}

impl ZoneStatusNotice {
    fn status_action(self) -> (&'static str, &'static str) {
        match self {
            Self::Active => ("ACTIVE", "NONE"),
            Self::Error { action } => ("ERROR", action),
        }
    }
}

/// The marker row's id: the kind has been listed once (its baseline).
const BASELINE: &str = "";

/// The kinds whose changes Designate notifies and that storage does not
/// otherwise hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifiedKind {
    Tld,
    Blacklist,
    TsigKey,
    Pool,
    /// A zone shared with a project: shared and unshared, never updated.
    ZoneShare,
    ZoneExport,
    ZoneImport,
    ZoneTransferRequest,
    /// Notified when made only (Designate's accept is never updated by
    /// its API).
    ZoneTransferAccept,
}

impl NotifiedKind {
    /// Designate's name of the kind in its event types.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tld => "tld",
            Self::Blacklist => "blacklist",
            Self::TsigKey => "tsigkey",
            Self::Pool => "pool",
            Self::ZoneShare => "zone_share",
            Self::ZoneExport => "zone_export",
            Self::ZoneImport => "zone_import",
            Self::ZoneTransferRequest => "zone_transfer_request",
            Self::ZoneTransferAccept => "zone_transfer_accept",
        }
    }

    /// The event of a change (`None`: Designate notifies none).
    fn event(self, happened: Happened) -> Option<&'static str> {
        use Happened::{Created, Deleted, Updated};
        Some(match (self, happened) {
            (Self::Tld, Created) => "dns.tld.create",
            (Self::Tld, Updated) => "dns.tld.update",
            (Self::Tld, Deleted) => "dns.tld.delete",
            (Self::Blacklist, Created) => "dns.blacklist.create",
            (Self::Blacklist, Updated) => "dns.blacklist.update",
            (Self::Blacklist, Deleted) => "dns.blacklist.delete",
            (Self::TsigKey, Created) => "dns.tsigkey.create",
            (Self::TsigKey, Updated) => "dns.tsigkey.update",
            (Self::TsigKey, Deleted) => "dns.tsigkey.delete",
            (Self::Pool, Created) => "dns.pool.create",
            (Self::Pool, Updated) => "dns.pool.update",
            (Self::Pool, Deleted) => "dns.pool.delete",
            (Self::ZoneShare, Created) => "dns.zone.share",
            (Self::ZoneShare, Deleted) => "dns.zone.unshare",
            (Self::ZoneShare, Updated) => return None,
            (Self::ZoneExport, Created) => "dns.zone_export.create",
            (Self::ZoneExport, Updated) => "dns.zone_export.update",
            (Self::ZoneExport, Deleted) => "dns.zone_export.delete",
            (Self::ZoneImport, Created) => "dns.zone_import.create",
            (Self::ZoneImport, Updated) => "dns.zone_import.update",
            (Self::ZoneImport, Deleted) => "dns.zone_import.delete",
            (Self::ZoneTransferRequest, Created) => "dns.zone_transfer_request.create",
            (Self::ZoneTransferRequest, Updated) => "dns.zone_transfer_request.update",
            (Self::ZoneTransferRequest, Deleted) => "dns.zone_transfer_request.delete",
            (Self::ZoneTransferAccept, Created) => "dns.zone_transfer_accept.create",
            (Self::ZoneTransferAccept, Updated | Deleted) => return None,
        })
    }
}

/// An object as a listing of the Kubernetes API shows it.
#[derive(Clone, Debug)]
pub struct ListedObject {
    pub id: String,
    pub payload: Value,
    /// Made since this process began notifying: notified as created even
    /// by its kind's first listing.
    pub recent: bool,
}

impl Storage {
    /// Notes every object of `kind` the Kubernetes API lists now: new ones
    /// are created, changed ones updated, noted ones no longer listed
    /// deleted. The first listing of a kind ever is its baseline: noted,
    /// and only its recent objects notified (the others predate the bus).
    pub async fn note_listed(
        &self,
        kind: NotifiedKind,
        listed: Vec<ListedObject>,
    ) -> Result<(), Error> {
        let (_guard, txn) = self.begin_write().await?;
        let result = async {
            let mut noted: HashMap<String, Value> = rows(&txn, kind)
                .await?
                .into_iter()
                .map(|row| (row.id, row.payload))
                .collect();
            let baselined = noted.remove(BASELINE).is_some();
            let mut notices = Notices::default();
            for object in listed {
                let before = noted.remove(&object.id);
                if baselined || object.recent {
                    note(&txn, kind, &object.id, before, object.payload, &mut notices).await?;
                } else {
                    insert(&txn, kind, &object.id, object.payload).await?;
                }
            }
            for (id, payload) in noted {
                forget(&txn, kind, &id).await?;
                notices.push_event(kind.event(Happened::Deleted), payload);
            }
            if !baselined {
                insert(&txn, kind, BASELINE, Value::Object(Default::default())).await?;
            }
            notices.write(&txn, self.outbox_enabled()).await?;
            Ok(())
        }
        .await;
        self.commit_notices(txn, result).await
    }

    /// Notes one object as it now is.
    pub async fn note_object(
        &self,
        kind: NotifiedKind,
        id: &str,
        payload: Value,
    ) -> Result<(), Error> {
        let (_guard, txn) = self.begin_write().await?;
        let result = async {
            let before = noted(&txn, kind.name(), id).await?;
            let mut notices = Notices::default();
            note(&txn, kind, id, before, payload, &mut notices).await?;
            notices.write(&txn, self.outbox_enabled()).await?;
            Ok(())
        }
        .await;
        self.commit_notices(txn, result).await
    }

    /// Notes an object deleted, notified with what was last noted of it.
    pub async fn note_deleted(&self, kind: NotifiedKind, id: &str) -> Result<(), Error> {
        let (_guard, txn) = self.begin_write().await?;
        let result = async {
            if let Some(before) = noted(&txn, kind.name(), id).await? {
                forget(&txn, kind, id).await?;
                let mut notices = Notices::default();
                notices.push_event(kind.event(Happened::Deleted), before);
                notices.write(&txn, self.outbox_enabled()).await?;
            }
            Ok(())
        }
        .await;
        self.commit_notices(txn, result).await
    }

    /// Notes that zone `id`'s `serial` reached `notice` on its
    /// nameservers: `dns.zone.update` (and `dns.domain.update`) with the
    /// zone's fields and that status, once per serial and status. Nothing
    /// for a zone gone or already at another serial, or without a bus.
    pub async fn note_zone_status(
        &self,
        id: &str,
        serial: i64,
        notice: ZoneStatusNotice,
    ) -> Result<(), Error> {
        if !self.outbox_enabled() {
            return Ok(());
        }
        let (status, action) = notice.status_action();
        let status_noted =
            serde_json::json!({"serial": serial, "status": status, "action": action});
        let (_guard, txn) = self.begin_write().await?;
        let result = async {
            let Some(row) = zone::Entity::find_by_id(id).one(&txn).await? else {
                return Ok(());
            };
            if row.serial != serial {
                return Ok(());
            }
            let before = noted(&txn, ZONE_STATUS, id).await?;
            if write_if_changed(&txn, ZONE_STATUS, id, before, status_noted).await? == Written::Same
            {
                return Ok(());
            }
            let facts = ZoneFacts {
                row: &crate::zone_head(row.clone())?.zone,
                serial,
                created_at: row.created_at,
                updated_at: Some(row.updated_at),
            };
            let mut notices = Notices::default();
            notices.zone_status(&facts, status, action);
            notices.write(&txn, true).await?;
            Ok(())
        }
        .await;
        self.commit_notices(txn, result).await
    }

    async fn commit_notices(
        &self,
        txn: DatabaseTransaction,
        result: Result<(), Error>,
    ) -> Result<(), Error> {
        let result = finish(txn, result).await;
        if result.is_ok() {
            self.outbox_written();
        }
        result
    }
}

/// Stages the create or update `payload` is against `before`, and notes it.
async fn note(
    txn: &DatabaseTransaction,
    kind: NotifiedKind,
    id: &str,
    before: Option<Value>,
    payload: Value,
    notices: &mut Notices,
) -> Result<(), Error> {
    let happened = match write_if_changed(txn, kind.name(), id, before, payload.clone()).await? {
        Written::Inserted => Happened::Created,
        Written::Updated => Happened::Updated,
        Written::Same => return Ok(()),
    };
    notices.push_event(kind.event(happened), payload);
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    Inserted,
    Updated,
    Same,
}

/// Notes `payload` for `(kind, id)` unless `before` (what was noted) is it.
async fn write_if_changed(
    txn: &DatabaseTransaction,
    kind: &str,
    id: &str,
    before: Option<Value>,
    payload: Value,
) -> Result<Written, Error> {
    match before {
        None => {
            insert_row(txn, kind, id, payload).await?;
            Ok(Written::Inserted)
        }
        Some(before) if before != payload => {
            notified_object::Entity::update_many()
                .col_expr(
                    notified_object::Column::Payload,
                    sea_orm::sea_query::Expr::value(payload),
                )
                .filter(notified_object::Column::Kind.eq(kind))
                .filter(notified_object::Column::Id.eq(id))
                .exec(txn)
                .await?;
            Ok(Written::Updated)
        }
        Some(_) => Ok(Written::Same),
    }
}

/// What was last noted of `(kind, id)`.
async fn noted(txn: &DatabaseTransaction, kind: &str, id: &str) -> Result<Option<Value>, Error> {
    Ok(
        notified_object::Entity::find_by_id((kind.to_string(), id.to_string()))
            .one(txn)
            .await?
            .map(|row| row.payload),
    )
}

async fn rows(
    txn: &DatabaseTransaction,
    kind: NotifiedKind,
) -> Result<Vec<notified_object::Model>, Error> {
    Ok(notified_object::Entity::find()
        .filter(notified_object::Column::Kind.eq(kind.name()))
        .all(txn)
        .await?)
}

async fn insert(
    txn: &DatabaseTransaction,
    kind: NotifiedKind,
    id: &str,
    payload: Value,
) -> Result<(), Error> {
    insert_row(txn, kind.name(), id, payload).await
}

async fn insert_row(
    txn: &DatabaseTransaction,
    kind: &str,
    id: &str,
    payload: Value,
) -> Result<(), Error> {
    notified_object::Entity::insert(notified_object::ActiveModel {
        kind: Set(kind.into()),
        id: Set(id.into()),
        payload: Set(payload),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

async fn forget(txn: &DatabaseTransaction, kind: NotifiedKind, id: &str) -> Result<(), Error> {
    notified_object::Entity::delete_by_id((kind.name().to_string(), id.to_string()))
        .exec(txn)
        .await?;
    Ok(())
}
