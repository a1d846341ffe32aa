//! Central's zone and recordset rules (Designate's `central/service.py`, the
//! v2 API controllers and adapters, and `objects/`), applied in Designate's
//! order so that the same error wins when several apply.
//!
//! A Designate request goes through three layers, and so do these rules:
//! 1. the API: the adapter parses the body field by field (syntax, ranges,
//!    lengths → `invalid_object`), then the object's `validate()` (zone
//!    type rules; record type, type-specific name rules, rdata), then the
//!    controller's own checks (SOA, TLSA names);
//! 2. Central: quotas first, then names, TTL, placement, ownership;
//! 3. storage: unique keys (`duplicate_*`).
//!
//! Name comparisons follow Designate: exact (case-sensitive) where Designate
//! compares Python strings (zone containment, CNAME at the apex, child zone
//! placement, TLD suffixes), case-insensitive where it asks the database
//! (MySQL's default collation: duplicates, CNAME conflicts, zone ownership).

mod names;
mod recordset;
mod zone;

pub use names::{master_endpoint, split_host_port};

use crate::error::{Error, QuotaResource};
use crate::model::{Config, Privileges, RecordsetInput, Rrset, ZoneInput, ZoneOwner};
use crate::zone_sets::ZoneSets;

/// Validates a zone on create (`existing == None`) or update (`existing` is the
/// zone as last accepted), in Designate's order:
/// - API: `masters` (`host[:port]`, port 1..65535); on update, `name`, `type`
///   and `project` are immutable; `name` syntax, `email` syntax, `ttl` range,
///   `description` length; then the type rules (PRIMARY: no masters, email
///   required; SECONDARY: masters required, no email or TTL);
/// - create: quota `zones`, the name rules of Central (length, two labels,
///   TLDs, blacklists), `min_ttl`, ownership across projects, duplicate;
/// - update: `min_ttl` when the TTL changes.
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
    zone::validate(zone, existing, cfg, privileges, project_zone_count, related)
}

/// Validates a recordset of `zone` against the recordsets already accepted in
/// it (`accepted`, managed ones included, the recordset itself excluded) and
/// the names of the zone's child zones, and returns it normalised as published.
/// `existing` is the recordset as published, for an update: as in Designate the
/// `zone_recordsets` quota then does not apply and `min_ttl` only to a new TTL.
///
/// Designate's order:
/// - an update of the managed SOA or apex NS set (its id is the managed one);
/// - API: `name` syntax, `description` length, `ttl` range; record type known
///   and supported; SRV and NS name rules; rdata of every record; SOA refused;
///   TLSA name;
/// - Central: quota `zone_recordsets`, `min_ttl`, name length, name inside the
///   zone, CNAME at the apex or beside other types, child zone placement, one
///   CNAME record at most, quotas `zone_records` and `recordset_records`;
/// - storage: duplicate recordset, then duplicate record.
pub fn validate_recordset(
    zone: &ZoneInput,
    rs: &RecordsetInput,
    cfg: &Config,
    privileges: Privileges,
    accepted: &ZoneSets,
    child_zones: &[String],
    existing: Option<&Rrset>,
) -> Result<Rrset, Error> {
    recordset::validate(zone, rs, cfg, privileges, accepted, child_zones, existing)
}

/// Whether `name` is `parent` or below it (both FQDNs with trailing dots,
/// compared case-insensitively).
pub fn is_within(name: &str, parent: &str) -> bool {
    // Without allocating: callers ask it of every zone per request.
    let (name, parent) = (name.as_bytes(), parent.as_bytes());
    let Some(cut) = name.len().checked_sub(parent.len()) else {
        return false;
    };
    name[cut..].eq_ignore_ascii_case(parent) && (cut == 0 || name[cut - 1] == b'.')
}

/// Designate's `Quota.limit_check` for one resource: `value` is the count
/// after the change; a negative `limit` means unlimited.
pub fn check_quota(resource: QuotaResource, limit: i64, value: u64) -> Result<(), Error> {
    match u64::try_from(limit) {
        Ok(limit) if value > limit => Err(Error::OverQuota(resource)),
        _ => Ok(()),
    }
}

/// A field that failed its `coerce()` while the API adapter parsed the body:
/// Designate wraps the `ValueError` in this `invalid_object` message.
fn field_error(message: &str) -> Error {
    Error::InvalidObject(format!(
        "Provided object is not valid. Got a ValueError error with message {message}"
    ))
}

/// `IntegerFields(minimum=0, maximum=2147483647)` of `ttl`.
fn check_ttl_field(ttl: Option<i64>) -> Result<(), Error> {
    match ttl {
        Some(ttl) if ttl < 0 => Err(field_error("Value must be >= 0 for field ttl")),
        Some(ttl) if ttl > i64::from(i32::MAX) => Err(field_error("Value too high for ttl")),
        _ => Ok(()),
    }
}

/// `StringFields(maxLength=160)` of `description`.
fn check_description_field(description: Option<&str>) -> Result<(), Error> {
    match description {
        Some(d) if names::py_len(d) > 160 => Err(field_error("Value too long for description")),
        _ => Ok(()),
    }
}

/// Central's `_is_valid_ttl`: not below `min_ttl` unless `use_low_ttl`.
fn check_min_ttl(ttl: Option<i64>, cfg: &Config, privileges: Privileges) -> Result<(), Error> {
    match ttl {
        Some(ttl) if ttl < cfg.min_ttl && !privileges.low_ttl => Err(Error::InvalidTtl(format!(
            "TTL is below the minimum: {}",
            cfg.min_ttl
        ))),
        _ => Ok(()),
    }
}
