//! A Designate database's rows as this operator's objects, with the same
//! ids (pure: [`crate::database`] reads, the binary writes).
//!
//! Zones, recordsets, shares, pools, TLDs, blacklists and TSIG keys keep
//! their Designate ids: each object carries the id annotation signed with the operator's
//! grant key, which every reader honours (`grant::drop_unsigned_id`), and
//! its `created_at`, so lists keep Designate's order; a recordset a
//! sharee made stays its project's. What is left out is said in `notes`:
//! - the managed SOA and apex NS recordsets: the operator makes its own
//!   (their ids are derived from the zone's);
//! - a SECONDARY zone's recordsets: they are its masters', transferred
//!   again;
//! - zones being deleted, and a pool whose name a Pool here has: that Pool
//!   is kept with its id, and zones and POOL-scoped keys name it.

use std::collections::{BTreeMap, BTreeSet};

use designate_central::Privileges;
use designate_crd::grant::{self, GrantKey};
use designate_crd::{
    Blacklist, BlacklistSpec, CREATED_AT_ANNOTATION, Quota, QuotaSpec,
    RECORDSET_PROJECT_ANNOTATION, Recordset, RecordsetSpec, SHARE_ZONE_ID_ANNOTATION, Tld, TldSpec,
    TsigAlgorithm, TsigKey, TsigKeySpec, TsigScope, TsigSecretRef, Zone, ZoneShare, ZoneShareSpec,
    ZoneSpec, ZoneType, names,
};
use k8s_openapi::jiff::Timestamp;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use crate::Error;
use crate::database::{Designate, PoolRow, ZoneRow};
use crate::pools;

/// The pool zones naming no pool are served by (`designate_controllers::DEFAULT_POOL`).
const DEFAULT_POOL: &str = "default";

/// Where the objects go: each project's namespace, and the id of each
/// Pool (by name) once the pools are in place.
pub struct Places<'a> {
    pub namespaces: &'a BTreeMap<String, String>,
    pub pool_ids: &'a BTreeMap<String, String>,
}

/// What an import writes after the pools, in this order.
#[derive(Debug, Default)]
pub struct Objects {
    pub tlds: Vec<Tld>,
    pub blacklists: Vec<Blacklist>,
    /// Each key with its secret (for the Secret written once the key is).
    pub tsigkeys: Vec<(TsigKey, String)>,
    pub quotas: Vec<Quota>,
    pub zones: Vec<Zone>,
    /// Without their owner reference to the zone (its uid is known once
    /// the zone is made: `designate_crd::share_owners`).
    pub shares: Vec<ZoneShare>,
    pub recordsets: Vec<Recordset>,
    pub notes: Vec<String>,
}

impl Designate {
    /// The projects that own zones: each needs its namespace first.
    pub fn projects(&self) -> BTreeSet<String> {
        self.zones.iter().map(|z| z.project.clone()).collect()
    }
}

/// The Pools to create: Designate's pools whose names are not taken here
/// (`existing`), as `pools.yaml` would give them, with their ids; a pool of
/// a taken name is kept as it is, with its id (noted).
pub fn pools(
    db: &Designate,
    key: &GrantKey,
    existing: &BTreeSet<String>,
    namespace: &str,
) -> Result<pools::Imported, Error> {
    let mut notes = Vec::new();
    let mut values = Vec::new();
    let mut ids = Vec::new();
    for pool in &db.pools {
        if existing.contains(&pool.name) {
            notes.push(format!(
                "pool {}: a Pool of that name exists here and is kept as it is",
                pool.name
            ));
        } else if pool.ns_records.is_empty() {
            notes.push(format!(
                "pool {}: no NS records, left out (Designate's pool update refuses it too)",
                pool.name
            ));
        } else {
            values.push(pools_yaml_entry(pool));
            ids.push(pool.id.as_str());
        }
    }
    let mut imported = pools::from_values(values, namespace)?;
    // One Pool per entry, in order.
    for (pool, id) in imported.pools.iter_mut().zip(ids) {
        keep_id(key, pool, id, None);
    }
    notes.append(&mut imported.notes);
    imported.notes = notes;
    Ok(imported)
}

/// A pool's rows as the `pools.yaml` entry that describes it.
fn pools_yaml_entry(pool: &PoolRow) -> Value {
    let servers = |list: &[(String, i32)]| -> Vec<Value> {
        list.iter()
            .map(|(host, port)| json!({"host": host, "port": port}))
            .collect()
    };
    json!({
        "name": pool.name,
        "description": pool.description,
        "attributes": pool.attributes.iter().cloned().collect::<BTreeMap<_, _>>(),
        "ns_records": pool.ns_records.iter()
            .map(|(hostname, priority)| json!({"hostname": hostname, "priority": priority}))
            .collect::<Vec<_>>(),
        "nameservers": servers(&pool.nameservers),
        "also_notifies": servers(&pool.also_notifies),
        "targets": pool.targets.iter().map(|t| json!({
            "type": t.type_,
            "description": t.description,
            "masters": servers(&t.masters),
            "options": t.options.iter().cloned().collect::<BTreeMap<_, _>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Designate's `created_at` (`YYYY-MM-DD HH:MM:SS[.f]`, UTC) as the
/// annotation's RFC 3339.
fn created_at(at: Option<&str>) -> Option<String> {
    let at = at?.trim().replace(' ', "T");
    let at = if at.ends_with('Z') || at.contains('+') {
        at
    } else {
        format!("{at}Z")
    };
    at.parse::<Timestamp>().ok().map(|t| t.to_string())
}

/// Signs `id` as the Designate id of `object` (placed and named already),
/// with its `created_at`.
fn keep_id<K: Resource<DynamicType = ()>>(
    key: &GrantKey,
    object: &mut K,
    id: &str,
    made: Option<&str>,
) {
    let kind = K::kind(&());
    let meta = object.meta_mut();
    let annotations = meta.annotations.get_or_insert_default();
    annotations.extend(grant::id_annotations(
        key,
        &kind,
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default(),
        id,
    ));
    if let Some(made) = created_at(made) {
        annotations.insert(CREATED_AT_ANNOTATION.to_string(), made);
    }
}

/// The zones made, by Designate id: the row, the namespace, the object name.
type Placed<'a> = BTreeMap<&'a str, (&'a ZoneRow, String, String)>;

/// Everything but the pools, for the pools and namespaces of `places`.
pub fn objects(db: &Designate, key: &GrantKey, places: &Places<'_>) -> Objects {
    let mut out = Objects::default();
    let pool_names: BTreeMap<&str, &str> = db
        .pools
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    for row in &db.tlds {
        let mut tld = Tld::new(
            &names::tld(&row.name),
            TldSpec {
                name: row.name.clone(),
                description: row.description.clone(),
            },
        );
        keep_id(key, &mut tld, &row.id, None);
        out.tlds.push(tld);
    }
    for row in &db.blacklists {
        let mut blacklist = Blacklist::new(
            &names::blacklist(&row.pattern),
            BlacklistSpec {
                pattern: row.pattern.clone(),
                description: row.description.clone(),
            },
        );
        keep_id(key, &mut blacklist, &row.id, None);
        out.blacklists.push(blacklist);
    }
    tsigkeys(db, key, places, &pool_names, &mut out);
    quotas(db, &mut out);
    let mut placed = Placed::new();
    for row in &db.zones {
        let Some(zone) = zone(row, key, places, &pool_names, &mut out.notes) else {
            continue;
        };
        let namespace = zone.metadata.namespace.clone().unwrap_or_default();
        let object = zone.metadata.name.clone().unwrap_or_default();
        placed.insert(row.id.as_str(), (row, namespace, object));
        out.zones.push(zone);
    }
    let shared = shares(db, key, &placed, &mut out);
    recordsets(db, key, &placed, &shared, &mut out);
    out
}

/// Designate's shares of the zones placed: the zone, the project that
/// shared it, the target. The (zone id, target project) pairs shared.
fn shares<'a>(
    db: &'a Designate,
    key: &GrantKey,
    placed: &Placed<'_>,
    out: &mut Objects,
) -> BTreeSet<(&'a str, &'a str)> {
    let mut shared = BTreeSet::new();
    for row in &db.shares {
        let Some((_, namespace, zone_object)) = placed.get(row.zone_id.as_str()) else {
            continue;
        };
        let mut share = ZoneShare::new(
            &names::share(zone_object, &row.target_project),
            ZoneShareSpec {
                zone_ref: zone_object.clone(),
                target_project_id: row.target_project.clone(),
                project_id: Some(row.project.clone()),
            },
        );
        share.metadata.namespace = Some(namespace.clone());
        keep_id(key, &mut share, &row.id, row.created_at.as_deref());
        share
            .annotations_mut()
            .insert(SHARE_ZONE_ID_ANNOTATION.to_string(), row.zone_id.clone());
        shared.insert((row.zone_id.as_str(), row.target_project.as_str()));
        out.shares.push(share);
    }
    shared
}

/// The recordsets of the zones placed, but the managed ones and those of
/// SECONDARY zones (noted).
fn recordsets(
    db: &Designate,
    key: &GrantKey,
    placed: &Placed<'_>,
    shared: &BTreeSet<(&str, &str)>,
    out: &mut Objects,
) {
    let mut transferred = BTreeMap::<&str, usize>::new();
    for row in &db.recordsets {
        let Some((zone, namespace, zone_object)) = placed.get(row.zone_id.as_str()) else {
            continue;
        };
        if zone.type_ == "SECONDARY" {
            *transferred.entry(zone.name.as_str()).or_default() += 1;
            continue;
        }
        let managed =
            row.type_ == "SOA" || (row.type_ == "NS" && row.name.eq_ignore_ascii_case(&zone.name));
        if managed {
            continue;
        }
        // A set the zone's sharee made stays that project's while the share
        // does (as the REST API marks one).
        let sharee = row
            .project
            .as_deref()
            .filter(|p| *p != zone.project && shared.contains(&(row.zone_id.as_str(), *p)));
        let mut recordset = Recordset::new(
            &names::recordset(&row.name, &zone.name, &row.type_),
            RecordsetSpec {
                zone_ref: zone_object.clone(),
                name: row.name.clone(),
                type_: row.type_.clone(),
                ttl: row.ttl,
                records: row.records.clone(),
                description: row.description.clone(),
            },
        );
        recordset.metadata.namespace = Some(namespace.clone());
        if let Some(project) = sharee {
            recordset.annotations_mut().insert(
                RECORDSET_PROJECT_ANNOTATION.to_string(),
                project.to_string(),
            );
        }
        keep_id(key, &mut recordset, &row.id, row.created_at.as_deref());
        out.recordsets.push(recordset);
    }
    for (zone, count) in transferred {
        out.notes.push(format!(
            "zone {zone}: SECONDARY, its {count} recordsets are transferred from its masters again"
        ));
    }
}

fn zone(
    row: &ZoneRow,
    key: &GrantKey,
    places: &Places<'_>,
    pool_names: &BTreeMap<&str, &str>,
    notes: &mut Vec<String>,
) -> Option<Zone> {
    let type_ = match row.type_.as_str() {
        "PRIMARY" => ZoneType::Primary,
        "SECONDARY" => ZoneType::Secondary,
        other => {
            notes.push(format!(
                "zone {} ({}): type {other} is not supported, left out",
                row.name, row.id
            ));
            return None;
        }
    };
    if row.action == "DELETE" || row.status == "DELETED" {
        notes.push(format!(
            "zone {} ({}): being deleted, left out",
            row.name, row.id
        ));
        return None;
    }
    let Some(namespace) = places.namespaces.get(&row.project) else {
        notes.push(format!(
            "zone {} ({}): project {} has no namespace, left out",
            row.name, row.id, row.project
        ));
        return None;
    };
    let pool = row
        .pool_id
        .as_deref()
        .and_then(|id| pool_names.get(id).copied())
        .unwrap_or(DEFAULT_POOL);
    if !places.pool_ids.contains_key(pool) {
        notes.push(format!(
            "zone {} ({}): its pool {pool} is not here, left out",
            row.name, row.id
        ));
        return None;
    }
    let name = names::zone(&row.name);
    // A SECONDARY zone's email and TTL are its masters' (Central refuses
    // them on one).
    let primary = type_ == ZoneType::Primary;
    let mut zone = Zone::new(
        &name,
        ZoneSpec {
            name: row.name.clone(),
            email: primary.then(|| row.email.clone()),
            ttl: row.ttl.filter(|_| primary),
            description: row.description.clone(),
            type_,
            masters: row
                .masters
                .iter()
                .map(|(host, port)| format!("{host}:{port}"))
                .collect(),
            pool_ref: (pool != DEFAULT_POOL).then(|| pool.to_string()),
            attributes: row.attributes.iter().cloned().collect(),
        },
    );
    // Designate accepted the zone: whatever a blacklist or the minimum TTL
    // says now, it is not refused on its way in.
    let privileges = Privileges {
        low_ttl: true,
        blacklisted_zone: true,
        edit_managed_records: false,
    };
    zone.metadata.annotations = grant::annotations(key, namespace, &name, &row.name, privileges);
    zone.metadata.namespace = Some(namespace.clone());
    keep_id(key, &mut zone, &row.id, row.created_at.as_deref());
    Some(zone)
}

fn tsigkeys(
    db: &Designate,
    key: &GrantKey,
    places: &Places<'_>,
    pool_names: &BTreeMap<&str, &str>,
    out: &mut Objects,
) {
    for row in &db.tsigkeys {
        let parsed = (
            serde_json::from_value::<TsigAlgorithm>(Value::String(row.algorithm.clone())),
            match row.scope.as_str() {
                "POOL" => Some(TsigScope::Pool),
                "ZONE" => Some(TsigScope::Zone),
                _ => None,
            },
        );
        let (Ok(algorithm), Some(scope)) = parsed else {
            out.notes.push(format!(
                "TSIG key {} ({}): algorithm {} / scope {} unknown, left out",
                row.name, row.id, row.algorithm, row.scope
            ));
            continue;
        };
        // A POOL key names the pool of the same name here.
        let resource_id = match scope {
            TsigScope::Zone => Some(row.resource_id.clone()),
            TsigScope::Pool => pool_names
                .get(row.resource_id.as_str())
                .and_then(|name| places.pool_ids.get(*name))
                .cloned(),
        };
        let Some(resource_id) = resource_id else {
            out.notes.push(format!(
                "TSIG key {} ({}): its pool {} is not here, left out",
                row.name, row.id, row.resource_id
            ));
            continue;
        };
        let mut tsigkey = TsigKey::new(
            &names::tsigkey(&row.name),
            TsigKeySpec {
                name: row.name.clone(),
                algorithm,
                scope,
                resource_id,
                secret_ref: TsigSecretRef {
                    name: format!("tsigkey-{}", row.id),
                },
            },
        );
        keep_id(key, &mut tsigkey, &row.id, None);
        out.tsigkeys.push((tsigkey, row.secret.clone()));
    }
}

/// One Quota per project, from Designate's rows of (project, resource).
fn quotas(db: &Designate, out: &mut Objects) {
    let mut specs: BTreeMap<&str, QuotaSpec> = BTreeMap::new();
    for row in &db.quotas {
        let spec = specs.entry(&row.project).or_insert_with(|| QuotaSpec {
            project_id: row.project.clone(),
            ..QuotaSpec::default()
        });
        let limit = Some(row.hard_limit);
        match row.resource.as_str() {
            "zones" => spec.zones = limit,
            "zone_recordsets" => spec.zone_recordsets = limit,
            "zone_records" => spec.zone_records = limit,
            "recordset_records" => spec.recordset_records = limit,
            "api_export_size" => spec.api_export_size = limit,
            other => out.notes.push(format!(
                "quota {other} of project {}: unknown resource, left out",
                row.project
            )),
        }
    }
    out.quotas = specs
        .into_iter()
        .map(|(project, spec)| Quota::new(&names::quota(project), spec))
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::{QuotaRow, RecordsetRow, ShareRow, TsigKeyRow};
    use designate_crd::grant::DesignateId;

    const POOL_ID: &str = "794ccc2c-d751-44fe-b57f-8894c9f5c842";
    const ZONE_ID: &str = "d167bb50-de23-497f-a2d4-fd07e6e8cea8";

    fn key() -> GrantKey {
        GrantKey::new(&[7; 32]).unwrap()
    }

    fn db() -> Designate {
        Designate {
            pools: vec![PoolRow {
                id: POOL_ID.into(),
                name: "default".into(),
                ns_records: vec![("ns1.example.net.".into(), 1)],
                ..PoolRow::default()
            }],
            zones: vec![
                ZoneRow {
                    id: ZONE_ID.into(),
                    project: "project-a".into(),
                    name: "example.org.".into(),
                    email: "hostmaster@example.net".into(),
                    ttl: Some(600),
                    type_: "PRIMARY".into(),
                    status: "ACTIVE".into(),
                    action: "NONE".into(),
                    pool_id: Some(POOL_ID.into()),
                    created_at: Some("2026-12-06 11:46:05".into()),
                    ..ZoneRow::default()
                },
                ZoneRow {
                    id: "d167bb50-0000-497f-a2d4-fd07e6e8cea8".into(),
                    project: "project-a".into(),
                    name: "going.org.".into(),
                    type_: "PRIMARY".into(),
                    status: "PENDING".into(),
                    action: "DELETE".into(),
                    ..ZoneRow::default()
                },
            ],
            recordsets: [
                ("SOA", "example.org.", "project-a"),
                ("NS", "example.org.", "project-a"),
                ("A", "www.example.org.", "project-a"),
                ("A", "c.example.org.", "project-c"),
            ]
            .iter()
            .enumerate()
            .map(|(n, (type_, name, project))| RecordsetRow {
                id: format!("aa7098e2-c53d-43b9-9dd1-e3713ef2f4{n:02}"),
                zone_id: ZONE_ID.into(),
                project: Some((*project).into()),
                name: (*name).into(),
                type_: (*type_).into(),
                records: vec!["192.0.2.1".into()],
                ..RecordsetRow::default()
            })
            .collect(),
            shares: vec![ShareRow {
                id: "5b1c2a54-0d0e-4f1a-9c55-2f4b7e0a9d11".into(),
                zone_id: ZONE_ID.into(),
                project: "project-a".into(),
                target_project: "project-c".into(),
                created_at: None,
            }],
            tsigkeys: vec![TsigKeyRow {
                id: "7ca7743e-c4e0-4cd7-adbe-d4fdcc5b79c1".into(),
                name: "pool-key".into(),
                algorithm: "hmac-sha256".into(),
                secret: "c2VjcmV0".into(),
                scope: "POOL".into(),
                resource_id: POOL_ID.into(),
            }],
            quotas: vec![QuotaRow {
                project: "project-a".into(),
                resource: "zones".into(),
                hard_limit: 7,
            }],
            ..Designate::default()
        }
    }

    fn verified<K: Resource<DynamicType = ()>>(key: &GrantKey, mut object: K) -> String {
        assert!(!grant::drop_unsigned_id(Some(key), &mut object), "signed");
        object.designate_id()
    }

    #[test]
    fn objects_keep_designate_ids_and_leave_out_managed_sets() {
        let key = key();
        let namespaces = BTreeMap::from([("project-a".to_string(), "project-a".to_string())]);
        let pool_ids = BTreeMap::from([("default".to_string(), "our-pool-uid".to_string())]);
        let places = Places {
            namespaces: &namespaces,
            pool_ids: &pool_ids,
        };
        let objects = objects(&db(), &key, &places);
        let [zone] = objects.zones.as_slice() else {
            panic!("one zone: {:?}", objects.zones);
        };
        assert_eq!(verified(&key, zone.clone()), ZONE_ID);
        assert_eq!(zone.metadata.namespace.as_deref(), Some("project-a"));
        assert_eq!(zone.spec.pool_ref, None);
        assert_eq!(
            designate_crd::created_at(&zone.metadata).map(|t| t.to_string()),
            Some("2026-12-06T11:46:05Z".into())
        );
        let (privileges, refusal) = grant::verified(Some(&key), zone);
        assert!(privileges.blacklisted_zone && refusal.is_none());
        let [recordset, sharees] = objects.recordsets.as_slice() else {
            panic!("only the A sets: {:?}", objects.recordsets);
        };
        assert_eq!(
            sharees.annotations().get(RECORDSET_PROJECT_ANNOTATION),
            Some(&"project-c".to_string())
        );
        assert!(
            recordset
                .annotations()
                .get(RECORDSET_PROJECT_ANNOTATION)
                .is_none()
        );
        let [share] = objects.shares.as_slice() else {
            panic!("one share");
        };
        assert_eq!(
            verified(&key, share.clone()),
            "5b1c2a54-0d0e-4f1a-9c55-2f4b7e0a9d11"
        );
        assert_eq!(share.spec.zone_ref, "example.org");
        assert_eq!(recordset.spec.zone_ref, "example.org");
        assert_eq!(
            verified(&key, recordset.clone()),
            "aa7098e2-c53d-43b9-9dd1-e3713ef2f402"
        );
        let [(tsigkey, secret)] = objects.tsigkeys.as_slice() else {
            panic!("one key");
        };
        assert_eq!(tsigkey.spec.resource_id, "our-pool-uid");
        assert_eq!(secret, "c2VjcmV0");
        assert_eq!(objects.quotas[0].spec.zones, Some(7));
        assert!(objects.notes.iter().any(|n| n.contains("going.org.")));
    }

    #[test]
    fn pools_keep_their_ids_unless_the_name_is_taken() {
        let taken = BTreeSet::from(["default".to_string()]);
        let key = key();
        let imported = pools(&db(), &key, &taken, "designate").unwrap();
        assert!(imported.pools.is_empty());
        assert_eq!(imported.notes.len(), 1);
        let imported = pools(&db(), &key, &BTreeSet::new(), "designate").unwrap();
        let [pool] = imported.pools.as_slice() else {
            panic!("one pool");
        };
        assert_eq!(pool.spec.ns_records[0].hostname, "ns1.example.net.");
        assert_eq!(verified(&key, pool.clone()), POOL_ID);
    }
}
