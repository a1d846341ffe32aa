//! Central's zone and recordset rules (Designate's `central/service.py` and
//! the v2 API schemas), applied in Designate's order so that the same error wins.

use crate::error::Error;
use crate::model::{Config, Privileges, RecordsetInput, Rrset, ZoneInput, ZoneOwner};

/// Validates a zone on create (`existing == None`) or update (`existing` is the
/// zone as last accepted), in Designate's order: quota (create only), name,
/// email, TTL, ownership across projects (create only).
///
/// - `project_zone_count`: zones the project already has, this one excluded;
/// - `related`: zones of any project whose name equals, is an ancestor of or a
///   descendant of `zone.name`, this one excluded.
pub fn validate_zone(
    zone: &ZoneInput,
    existing: Option<&ZoneInput>,
    cfg: &Config,
    privileges: Privileges,
    project_zone_count: u64,
    related: &[ZoneOwner],
) -> Result<(), Error> {
    let _ = (zone, existing, cfg, privileges, project_zone_count, related);
    Ok(())
}

/// Validates a recordset of `zone` against the recordsets already accepted in
/// it (`accepted`, managed ones included, the recordset itself excluded) and
/// the names of the zone's child zones, and returns it normalised as published.
/// Quotas (`zone_recordsets`, `zone_records`, `recordset_records`) are checked
/// here too, in Designate's order.
pub fn validate_recordset(
    zone: &ZoneInput,
    rs: &RecordsetInput,
    cfg: &Config,
    privileges: Privileges,
    accepted: &[Rrset],
    child_zones: &[String],
) -> Result<Rrset, Error> {
    let _ = (cfg, privileges, accepted, child_zones, zone);
    let records = crate::rdata::normalize_records(&rs.type_, &rs.records)?;
    Ok(Rrset {
        id: rs.id.clone(),
        name: rs.name.clone(),
        type_: rs.type_.clone(),
        ttl: rs.ttl,
        records,
        description: rs.description.clone(),
        managed: false,
    })
}

/// Whether `name` is `parent` or below it (both FQDNs with trailing dots,
/// compared case-insensitively).
pub fn is_within(name: &str, parent: &str) -> bool {
    let (name, parent) = (name.to_ascii_lowercase(), parent.to_ascii_lowercase());
    name == parent || name.ends_with(&format!(".{parent}"))
}
