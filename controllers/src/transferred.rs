//! A SECONDARY zone's transferred records as Recordset objects, so that
//! REST's recordset lists and `kubectl get recordsets` show what the zone
//! serves (Designate stores a transfer as the zone's recordsets). They
//! carry [`TRANSFERRED_LABEL`] and are a copy only: the zone serves what
//! its masters gave, never these. After each publication of a new serial
//! the copy is brought in line with storage's; the SOA stays out (no
//! Recordset may hold one), as do types Designate does not know.
//!
//! `changes` is pure; `copy` does the API writes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use designate_central::Rrset;
use designate_central::rdata::SUPPORTED_TYPES;
use designate_crd::{Recordset, RecordsetSpec, TRANSFERRED_LABEL, Zone, names};
use futures::StreamExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde_json::json;
use tracing::{info, warn};

use crate::{Context, Error};

const CONTROLLER: &str = "zone";

/// Writes in flight while a copy is brought in line.
const WRITES: usize = 64;

/// One write that brings the copy in line with the transfer.
#[derive(Debug, PartialEq)]
pub(crate) enum Change {
    Create(Box<Recordset>),
    /// A set's new TTL and records, by object name.
    Update {
        name: String,
        ttl: Option<i32>,
        records: Vec<String>,
    },
    Delete(String),
}

/// The writes that make the copy of `zone` (`current`: its sets with the
/// label) hold `transferred`'s sets: by owner name and type.
pub(crate) fn changes(
    zone: &Zone,
    transferred: &[Rrset],
    current: &[Arc<Recordset>],
) -> Vec<Change> {
    let key = |name: &str, type_: &str| (name.to_ascii_lowercase(), type_.to_string());
    let mut held: HashMap<(String, String), &Recordset> = current
        .iter()
        .filter(|rs| rs.is_transferred())
        .map(|rs| (key(&rs.spec.name, &rs.spec.type_), &**rs))
        .collect();
    let mut out = Vec::new();
    for rrset in transferred
        .iter()
        .filter(|r| r.type_ != "SOA" && SUPPORTED_TYPES.contains(&r.type_.as_str()))
    {
        let ttl = rrset.ttl.and_then(|ttl| i32::try_from(ttl).ok());
        match held.remove(&key(&rrset.name, &rrset.type_)) {
            Some(rs) if rs.spec.ttl == ttl && same_records(&rs.spec.records, &rrset.records) => {}
            Some(rs) => out.push(Change::Update {
                name: rs.name_any(),
                ttl,
                records: rrset.records.clone(),
            }),
            None => out.push(Change::Create(Box::new(copy_of(zone, rrset, ttl)))),
        }
    }
    let mut gone: Vec<String> = held.into_values().map(ResourceExt::name_any).collect();
    gone.sort();
    out.extend(gone.into_iter().map(Change::Delete));
    out
}

fn same_records(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&String> = a.iter().collect();
    let mut b: Vec<&String> = b.iter().collect();
    a.sort();
    b.sort();
    a == b
}

fn copy_of(zone: &Zone, rrset: &Rrset, ttl: Option<i32>) -> Recordset {
    let mut rs = Recordset::new(
        &names::recordset(&rrset.name, &zone.spec.name, &rrset.type_),
        RecordsetSpec {
            zone_ref: zone.name_any(),
            name: rrset.name.clone(),
            type_: rrset.type_.clone(),
            ttl,
            records: rrset.records.clone(),
            description: None,
        },
    );
    rs.metadata.namespace = zone.namespace();
    rs.metadata.labels = Some(BTreeMap::from([(
        TRANSFERRED_LABEL.to_string(),
        "true".to_string(),
    )]));
    rs
}

/// Brings the copy of `zone` in line with what storage published at
/// `serial`, once per serial (after a restart, once).
pub(crate) async fn copy(ctx: &Context, zone: &Zone, id: &str, serial: i64) -> Result<(), Error> {
    if !ctx.secondaries.copy_due(id, serial) {
        return Ok(());
    }
    let Some(stored) = ctx.storage.load_zone(id).await? else {
        return Ok(());
    };
    let transferred: Vec<Rrset> = stored.rrsets.into_iter().map(|r| r.rrset).collect();
    let namespace = zone.namespace().ok_or(Error::MissingNamespace)?;
    let current = ctx.recordsets.of_zone(&namespace, &zone.name_any());
    let changes = changes(zone, &transferred, &current);
    if !changes.is_empty() {
        let writes = changes.len();
        let api = Api::<Recordset>::namespaced(ctx.client.clone(), &namespace);
        let results: Vec<Result<bool, Error>> = futures::stream::iter(changes)
            .map(|change| {
                let api = api.clone();
                async move { write(ctx, &api, change).await }
            })
            .buffer_unordered(WRITES)
            .collect()
            .await;
        let mut skipped = 0;
        for result in results {
            skipped += usize::from(!result?);
        }
        info!(
            writes,
            skipped, serial, "transferred records copied as recordsets"
        );
    }
    ctx.secondaries.copied(id, serial);
    Ok(())
}

/// One write; `false` when the API server refused the set (a name taken by
/// a set of the zone's users, data it does not take): the zone serves it
/// all the same.
async fn write(ctx: &Context, api: &Api<Recordset>, change: Change) -> Result<bool, Error> {
    ctx.metrics.wrote(CONTROLLER);
    let written = match &change {
        Change::Create(rs) => api.create(&PostParams::default(), rs).await.map(drop),
        Change::Update { name, ttl, records } => {
            let patch = Patch::Merge(json!({"spec": {"ttl": ttl, "records": records}}));
            api.patch(name, &PatchParams::default(), &patch)
                .await
                .map(drop)
        }
        Change::Delete(name) => api.delete(name, &DeleteParams::default()).await.map(drop),
    };
    match written {
        Ok(()) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 404 && matches!(change, Change::Delete(_)) => {
            Ok(true)
        }
        Err(kube::Error::Api(e)) if matches!(e.code, 409 | 422) => {
            let name = match change {
                Change::Create(rs) => rs.meta().name.clone().unwrap_or_default(),
                Change::Update { name, .. } | Change::Delete(name) => name.clone(),
            };
            warn!(recordset = %name, reason = %e.reason, message = %e.message, "transferred set not copied");
            Ok(false)
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::ZoneSpec;

    fn zone() -> Zone {
        let mut zone = Zone::new(
            "example.org",
            ZoneSpec {
                name: "example.org.".into(),
                ..Default::default()
            },
        );
        zone.metadata.namespace = Some("p".into());
        zone
    }

    fn rrset(name: &str, type_: &str, ttl: i64, records: &[&str]) -> Rrset {
        Rrset {
            id: format!("{name}/{type_}"),
            name: name.into(),
            type_: type_.into(),
            ttl: Some(ttl),
            records: records.iter().map(|r| r.to_string()).collect(),
            description: None,
            managed: true,
        }
    }

    fn held(rrset: &Rrset) -> Arc<Recordset> {
        let ttl = rrset.ttl.map(|t| t as i32);
        Arc::new(copy_of(&zone(), rrset, ttl))
    }

    #[test]
    fn a_first_transfer_creates_every_set_but_the_soa() {
        let transferred = [
            rrset("example.org.", "SOA", 60, &["ns1. admin. 1 2 3 4 5"]),
            rrset("example.org.", "NS", 60, &["ns1.example.org."]),
            rrset("www.example.org.", "A", 60, &["192.0.2.1", "192.0.2.2"]),
            rrset("example.org.", "DNSKEY", 60, &["257 3 13 AAAA"]),
        ];
        let changes = changes(&zone(), &transferred, &[]);
        let created: Vec<(String, String)> = changes
            .iter()
            .map(|c| match c {
                Change::Create(rs) => {
                    assert!(rs.is_transferred());
                    assert_eq!(rs.spec.zone_ref, "example.org");
                    assert_eq!(rs.namespace().as_deref(), Some("p"));
                    (rs.spec.name.clone(), rs.spec.type_.clone())
                }
                other => panic!("not a create: {other:?}"),
            })
            .collect();
        assert_eq!(
            created,
            [
                ("example.org.".to_string(), "NS".to_string()),
                ("www.example.org.".to_string(), "A".to_string())
            ]
        );
    }

    #[test]
    fn a_later_transfer_writes_only_what_moved() {
        let same = rrset("example.org.", "NS", 60, &["ns1.example.org."]);
        let old_www = rrset("www.example.org.", "A", 60, &["192.0.2.1", "192.0.2.2"]);
        let gone = rrset("old.example.org.", "TXT", 60, &["\"bye\""]);
        let mut users = (*held(&rrset("mine.example.org.", "A", 60, &["192.0.2.9"]))).clone();
        users.metadata.labels = None;
        let current = [held(&same), held(&old_www), held(&gone), Arc::new(users)];
        let transferred = [
            same.clone(),
            // The same records in another order are the same set.
            rrset("WWW.example.org.", "A", 60, &["192.0.2.2", "192.0.2.1"]),
            rrset("mail.example.org.", "A", 300, &["192.0.2.25"]),
        ];
        let changes = changes(&zone(), &transferred, &current);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(matches!(&changes[0], Change::Create(rs) if rs.spec.name == "mail.example.org."));
        assert_eq!(changes[1], Change::Delete(held(&gone).name_any()));

        let moved = [
            same,
            rrset("www.example.org.", "A", 120, &["192.0.2.3"]),
            gone.clone(),
        ];
        let changes = super::changes(&zone(), &moved, &current);
        assert_eq!(
            changes,
            [Change::Update {
                name: held(&old_www).name_any(),
                ttl: Some(120),
                records: vec!["192.0.2.3".into()],
            }]
        );
    }
}
