//! The "plan" step: from what a project asked for (a zone and its
//! recordsets) and what is published, to the changes storage must apply and
//! the verdict on each resource. Pure: the controllers observe before and act
//! after.
//!
//! Rules that need the whole zone (CNAME exclusivity, duplicates, quotas) are
//! applied in the recordsets' creation order, so the first one wins as it does
//! with Designate's synchronous API. A recordset that breaks a rule after it
//! was published keeps its published content: a bad update never loses data.

use std::collections::HashMap;

use crate::error::Error;
use crate::managed::{apex_ns_rrset, mname, soa_rrset};
use crate::model::{
    Config, NsRecord, Privileges, RecordsetInput, Rrset, Soa, ZoneInput, ZoneKind, ZoneOwner,
    ZoneRow,
};
use crate::rules::{is_within, validate_recordset, validate_zone};
use crate::zone_sets::ZoneSets;

/// The pool a zone is scheduled to, as the plan needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolView {
    pub id: String,
    pub name: String,
    pub ns_records: Vec<NsRecord>,
}

/// What is published for a zone now.
#[derive(Clone, Copy, Debug)]
pub struct Published<'a> {
    pub zone: &'a ZoneRow,
    /// Every published recordset, the managed SOA and NS included.
    pub rrsets: &'a [Rrset],
}

/// Everything the plan looks at.
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    pub zone: &'a ZoneInput,
    /// The zone's pool; `None` when the referenced pool does not exist.
    pub pool: Option<&'a PoolView>,
    /// The zone's recordsets, in creation order.
    pub recordsets: &'a [RecordsetInput],
    pub published: Option<Published<'a>>,
    /// Zones of the project other than this one.
    pub project_zone_count: u64,
    /// Zones of any project named like this one, its ancestors or descendants.
    pub related: &'a [ZoneOwner],
    pub privileges: Privileges,
}

/// The outcome of planning one zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Why the zone's spec was refused; when the zone is published already,
    /// its published fields stay and its recordsets are still planned.
    pub zone_error: Option<Error>,
    /// The zone row to publish; `None` when the zone cannot be published.
    pub row: Option<ZoneRow>,
    /// Recordsets to create or replace.
    pub upsert: Vec<Rrset>,
    /// Ids of published recordsets to remove.
    pub delete: Vec<String>,
    /// Refused recordsets by id; a recordset absent here is published as asked.
    pub recordset_errors: HashMap<String, Error>,
    /// The serial to publish at; storage's next one when `None`. Only a
    /// secondary zone's content (its master's, at its master's serial) sets
    /// it, and then it is a change by itself.
    pub serial: Option<i64>,
}

impl Plan {
    /// Whether applying the plan changes what is published.
    pub fn changes(&self, published: Option<&ZoneRow>) -> bool {
        match (&self.row, published) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(row), Some(old)) => {
                row != old
                    || !self.upsert.is_empty()
                    || !self.delete.is_empty()
                    || self.serial.is_some()
            }
        }
    }
}

/// Plans one zone.
pub fn plan(input: &PlanInput<'_>, cfg: &Config) -> Plan {
    let mut plan = Plan::default();
    let published_row = input.published.map(|p| p.zone);
    let row = match zone_row(input, cfg) {
        Ok(row) => Some(row),
        Err(error) => {
            plan.zone_error = Some(error);
            published_row.cloned()
        }
    };
    let Some(row) = row else {
        return plan;
    };

    let published_rrsets: HashMap<&str, &Rrset> = input
        .published
        .map(|p| p.rrsets.iter().map(|r| (r.id.as_str(), r)).collect())
        .unwrap_or_default();
    let mut desired = ZoneSets::with_capacity(input.recordsets.len() + 2);
    // The SOA takes part in the zone-wide rules (quota counts, names in use);
    // its rdata is rendered by storage with the new serial.
    desired.push(soa_rrset(&row.id, &row.name, &row.soa, 0));
    if row.kind == ZoneKind::Primary
        && let Some(pool) = input.pool
    {
        desired.push(apex_ns_rrset(&row.id, &row.name, &pool.ns_records));
    }
    let child_zones: Vec<String> = input
        .related
        .iter()
        .filter(|z| z.name != row.name && is_within(&z.name, &row.name))
        .map(|z| z.name.clone())
        .collect();
    for rs in input.recordsets {
        match validate_recordset(
            input.zone,
            rs,
            cfg,
            input.privileges,
            &desired,
            &child_zones,
            published_rrsets.get(rs.id.as_str()).copied(),
        ) {
            Ok(rrset) => desired.push(rrset),
            Err(error) => {
                // Keep what was published before the bad change.
                if let Some(old) = published_rrsets.get(rs.id.as_str()) {
                    desired.push((*old).clone());
                }
                plan.recordset_errors.insert(rs.id.clone(), error);
            }
        }
    }

    plan.upsert = desired
        .iter()
        .filter(|r| r.type_ != "SOA")
        .filter(|r| published_rrsets.get(r.id.as_str()) != Some(r))
        .cloned()
        .collect();
    plan.delete = input
        .published
        .map(|p| {
            p.rrsets
                .iter()
                .filter(|r| r.type_ != "SOA" && !desired.contains(&r.id))
                .map(|r| r.id.clone())
                .collect()
        })
        .unwrap_or_default();
    plan.row = Some(row);
    plan
}

/// The zone row to publish, or why the zone cannot be.
fn zone_row(input: &PlanInput<'_>, cfg: &Config) -> Result<ZoneRow, Error> {
    let zone = input.zone;
    let published = input.published.map(|p| p.zone);
    let existing = published.map(|row| ZoneInput {
        id: row.id.clone(),
        project: row.project.clone(),
        name: row.name.clone(),
        email: Some(row.soa.email.clone()),
        ttl: Some(row.ttl),
        description: row.description.clone(),
        kind: row.kind,
        masters: row.masters.clone(),
    });
    validate_zone(
        zone,
        existing.as_ref(),
        cfg,
        input.privileges,
        input.project_zone_count,
        input.related,
    )?;
    let pool = input
        .pool
        .ok_or_else(|| Error::NoValidPoolFound("No valid pool found".into()))?;
    let mname = mname(&pool.ns_records)
        .ok_or_else(|| Error::NoServersConfigured("No servers configured".into()))?;
    let email = match zone.kind {
        ZoneKind::Primary => zone.email.clone().unwrap_or_default(),
        ZoneKind::Secondary => cfg.managed_resource_email.clone(),
    };
    Ok(ZoneRow {
        id: zone.id.clone(),
        project: zone.project.clone(),
        name: zone.name.clone(),
        pool_id: pool.id.clone(),
        kind: zone.kind,
        ttl: zone.ttl.unwrap_or(cfg.default_ttl),
        description: zone.description.clone(),
        masters: zone.masters.clone(),
        soa: Soa {
            mname: mname.to_string(),
            email,
            // Designate draws refresh at random within its bounds once, at
            // creation; derive it from the id so planning stays pure.
            refresh: published
                .map(|row| row.soa.refresh)
                .unwrap_or_else(|| refresh_for(&zone.id, cfg)),
            retry: cfg.soa_retry,
            expire: cfg.soa_expire,
            minimum: cfg.soa_minimum,
        },
    })
}

/// A refresh value in `[soa_refresh_min, soa_refresh_max]` spread by zone id,
/// so that a pool's secondaries do not refresh every zone at once.
pub fn refresh_for(zone_id: &str, cfg: &Config) -> i64 {
    let span = (cfg.soa_refresh_max - cfg.soa_refresh_min).max(0) + 1;
    let spread = zone_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    cfg.soa_refresh_min + (spread % span as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> PoolView {
        PoolView {
            id: "pool-1".into(),
            name: "default".into(),
            ns_records: vec![NsRecord {
                hostname: "ns1.example.org.".into(),
                priority: 1,
            }],
        }
    }

    fn zone() -> ZoneInput {
        ZoneInput {
            id: "zone-1".into(),
            project: "tenant-a".into(),
            name: "example.com.".into(),
            email: Some("admin@example.com".into()),
            ..Default::default()
        }
    }

    fn rs(id: &str, name: &str, type_: &str, records: &[&str]) -> RecordsetInput {
        RecordsetInput {
            id: id.into(),
            name: name.into(),
            type_: type_.into(),
            records: records.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        }
    }

    fn input<'a>(
        zone: &'a ZoneInput,
        pool: &'a PoolView,
        recordsets: &'a [RecordsetInput],
        published: Option<Published<'a>>,
    ) -> PlanInput<'a> {
        PlanInput {
            zone,
            pool: Some(pool),
            recordsets,
            published,
            project_zone_count: 0,
            related: &[],
            privileges: Privileges::default(),
        }
    }

    #[test]
    fn new_zone_publishes_apex_ns_and_recordsets() {
        let (zone, pool) = (zone(), pool());
        let recordsets = [rs("rs-1", "www.example.com.", "A", &["192.0.2.1"])];
        let plan = plan(&input(&zone, &pool, &recordsets, None), &Config::default());
        assert_eq!(plan.zone_error, None);
        let row = plan.row.as_ref().unwrap();
        assert_eq!(row.soa.mname, "ns1.example.org.");
        assert_eq!(row.ttl, 3600);
        assert!((3500..=3600).contains(&row.soa.refresh));
        let types: Vec<&str> = plan.upsert.iter().map(|r| r.type_.as_str()).collect();
        assert_eq!(types, ["NS", "A"]);
        assert!(plan.changes(None));
    }

    #[test]
    fn unchanged_zone_plans_no_change() {
        let (zone, pool) = (zone(), pool());
        let recordsets = [rs("rs-1", "www.example.com.", "A", &["192.0.2.1"])];
        let cfg = Config::default();
        let first = plan(&input(&zone, &pool, &recordsets, None), &cfg);
        let row = first.row.clone().unwrap();
        let mut published = first.upsert.clone();
        published.push(soa_rrset(&row.id, &row.name, &row.soa, 42));
        let again = plan(
            &input(
                &zone,
                &pool,
                &recordsets,
                Some(Published {
                    zone: &row,
                    rrsets: &published,
                }),
            ),
            &cfg,
        );
        assert!(again.upsert.is_empty() && again.delete.is_empty());
        assert!(!again.changes(Some(&row)));
    }

    #[test]
    fn removed_recordset_is_deleted() {
        let (zone, pool) = (zone(), pool());
        let cfg = Config::default();
        let recordsets = [rs("rs-1", "www.example.com.", "A", &["192.0.2.1"])];
        let first = plan(&input(&zone, &pool, &recordsets, None), &cfg);
        let row = first.row.clone().unwrap();
        let next = plan(
            &input(
                &zone,
                &pool,
                &[],
                Some(Published {
                    zone: &row,
                    rrsets: &first.upsert,
                }),
            ),
            &cfg,
        );
        assert_eq!(next.delete, vec!["rs-1".to_string()]);
        assert!(next.upsert.is_empty());
    }

    #[test]
    fn bad_update_keeps_the_published_content() {
        let (zone, pool) = (zone(), pool());
        let cfg = Config::default();
        let good = [rs("rs-1", "www.example.com.", "A", &["192.0.2.1"])];
        let first = plan(&input(&zone, &pool, &good, None), &cfg);
        let row = first.row.clone().unwrap();
        let bad = [rs("rs-1", "www.example.com.", "A", &["300.0.0.1"])];
        let next = plan(
            &input(
                &zone,
                &pool,
                &bad,
                Some(Published {
                    zone: &row,
                    rrsets: &first.upsert,
                }),
            ),
            &cfg,
        );
        assert_eq!(next.recordset_errors["rs-1"].reason(), "InvalidRecord");
        assert!(next.upsert.is_empty() && next.delete.is_empty());
    }

    #[test]
    fn first_recordset_wins_a_conflict() {
        let (zone, pool) = (zone(), pool());
        let recordsets = [
            rs("rs-1", "www.example.com.", "CNAME", &["web.example.net."]),
            rs("rs-2", "www.example.com.", "A", &["192.0.2.1"]),
        ];
        let plan = plan(&input(&zone, &pool, &recordsets, None), &Config::default());
        assert_eq!(plan.recordset_errors.len(), 1);
        assert_eq!(
            plan.recordset_errors["rs-2"].reason(),
            "InvalidRecordsetLocation"
        );
        assert!(plan.upsert.iter().any(|r| r.id == "rs-1"));
    }

    #[test]
    fn quota_refuses_only_the_overflow() {
        let (zone, pool) = (zone(), pool());
        let cfg = Config {
            quotas: crate::model::Quotas {
                zone_recordsets: 3,
                ..Default::default()
            },
            ..Config::default()
        };
        // SOA and NS count: room for one more.
        let recordsets = [
            rs("rs-1", "a.example.com.", "A", &["192.0.2.1"]),
            rs("rs-2", "b.example.com.", "A", &["192.0.2.2"]),
        ];
        let plan = plan(&input(&zone, &pool, &recordsets, None), &cfg);
        assert_eq!(plan.recordset_errors["rs-2"].reason(), "OverQuota");
        assert!(!plan.recordset_errors.contains_key("rs-1"));
    }

    #[test]
    fn missing_pool_refuses_the_zone() {
        let zone = zone();
        let plan = plan(
            &PlanInput {
                pool: None,
                ..input(&zone, &pool(), &[], None)
            },
            &Config::default(),
        );
        assert_eq!(
            plan.zone_error.as_ref().map(Error::reason),
            Some("PoolNotFound")
        );
        assert!(plan.row.is_none());
        assert!(!plan.changes(None));
    }

    #[test]
    fn refresh_stays_within_bounds_and_is_stable() {
        let cfg = Config::default();
        for id in ["a", "b", "zone-1", "0f9c3a1e-7d0b-4c39-a5c2-3c1f9e1b2d4f"] {
            let r = refresh_for(id, &cfg);
            assert!((3500..=3600).contains(&r));
            assert_eq!(r, refresh_for(id, &cfg));
        }
    }
}
