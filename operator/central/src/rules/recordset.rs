//! Recordset rules: the v2 API (`RecordSetsController`, `RecordSet.validate()`),
//! then Central's `_create_recordset_in_storage` / `_validate_recordset`, then
//! storage's unique keys.

use std::collections::HashSet;

use super::names::{self, NameField};
use super::{check_description_field, check_min_ttl, check_quota, check_ttl_field, field_error};
use crate::error::{Error, QuotaResource};
use crate::managed::managed_rrset_id;
use crate::model::{Config, Privileges, RecordsetInput, Rrset, ZoneInput};
use crate::rdata;
use crate::zone_sets::ZoneSets;

pub(super) fn validate(
    zone: &ZoneInput,
    rs: &RecordsetInput,
    cfg: &Config,
    privileges: Privileges,
    accepted: &ZoneSets,
    child_zones: &[String],
    existing: Option<&Rrset>,
) -> Result<Rrset, Error> {
    check_managed_update(zone, rs, privileges)?;

    // API: the body's fields, in the order of Designate's examples.
    if let Some(message) = names::name_field_error(&rs.name, NameField::Host, "name", Some(255)) {
        return Err(field_error(&message));
    }
    check_description_field(rs.description.as_deref())?;
    check_ttl_field(rs.ttl)?;

    // API: `RecordSet.validate()`.
    rdata::check_type(&rs.type_, &cfg.supported_record_types)?;
    check_type_name(rs)?;
    let records = rdata::normalize_recordset(&rs.name, &rs.type_, &rs.records)?;

    // API: the controller.
    if rs.type_ == "SOA" {
        return Err(Error::BadRequest(
            "Creating a SOA recordset is not allowed".into(),
        ));
    }
    if rs.type_ == "TLSA" {
        check_tlsa_name(&rs.name)?;
    }

    // Central. SOA and NS count towards `zone_recordsets`, checked on create.
    if existing.is_none() {
        check_quota(
            QuotaResource::ZoneRecordsets,
            cfg.quotas.zone_recordsets,
            accepted.count_except(&rs.id) as u64 + 1,
        )?;
    }
    if existing.is_none_or(|old| old.ttl != rs.ttl) {
        check_min_ttl(rs.ttl, cfg, privileges)?;
    }
    check_location(zone, rs, cfg)?;
    check_cname_placement(zone, rs, accepted)?;
    check_child_zones(zone, rs, child_zones)?;
    if rs.type_ == "CNAME" && rs.records.len() > 1 {
        return Err(Error::BadRequest(
            "CNAME recordsets may not have more than 1 record".into(),
        ));
    }
    // Record quotas are Central's on a create or a change of records
    // (`_enforce_record_quota`): a quota lowered later does not refuse
    // records already published unchanged.
    let records_changed = existing.is_none_or(|old| old.records != records);
    if !rs.records.is_empty() && records_changed {
        // Managed records (SOA, apex NS) are left out of record quotas.
        let zone_records = accepted.records_except(&rs.id);
        check_quota(
            QuotaResource::ZoneRecords,
            cfg.quotas.zone_records,
            (zone_records + rs.records.len()) as u64,
        )?;
        check_quota(
            QuotaResource::RecordsetRecords,
            cfg.quotas.recordset_records,
            rs.records.len() as u64,
        )?;
    }

    // Storage: unique (zone, name, type), then unique record per set. The
    // REST API collapses repeated strings of a body before this point; a
    // repeat that reaches here is refused, not silently dropped.
    if accepted
        .named_except(&rs.name, &rs.id)
        .any(|r| r.type_ == rs.type_)
    {
        return Err(Error::DuplicateRecordset("Duplicate RecordSet".into()));
    }
    let mut seen = HashSet::new();
    if !records.iter().all(|r| seen.insert(r)) {
        return Err(Error::DuplicateRecord("Duplicate Record".into()));
    }

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

/// `put_one` on the managed SOA or apex NS set: refused before the body is
/// read, the managed check first.
fn check_managed_update(
    zone: &ZoneInput,
    rs: &RecordsetInput,
    privileges: Privileges,
) -> Result<(), Error> {
    let message = if rs.id == managed_rrset_id(&zone.id, "SOA") {
        "Updating SOA recordsets is not allowed"
    } else if rs.id == managed_rrset_id(&zone.id, "NS") {
        "Updating a root zone NS record is not allowed"
    } else {
        return Ok(());
    };
    if !privileges.edit_managed_records {
        return Err(Error::BadRequest(
            "Managed records may not be updated".into(),
        ));
    }
    Err(Error::BadRequest(message.into()))
}

/// The record types' overrides of the `name` field (`get_recordset_schema_changes`):
/// SRV names start with `_service._proto.`, NS names are plain domains (no
/// wildcard). `validate()` reports either as "name is invalid".
fn check_type_name(rs: &RecordsetInput) -> Result<(), Error> {
    let valid = match rs.type_.as_str() {
        // `SRVField(maxLength=255)`.
        "SRV" => {
            names::py_len(&rs.name) <= 255
                && rs.name.split('.').all(|l| names::py_len(l) <= 63)
                && names::matches_srv_re(&rs.name)
        }
        "NS" => names::name_field_error(&rs.name, NameField::Domain, "name", None).is_none(),
        _ => true,
    };
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidObject("name is invalid".into()))
    }
}

/// `RecordSetsController._validate_tlsa_recordset_name` (RFC 6698 §3).
fn check_tlsa_name(name: &str) -> Result<(), Error> {
    match names::tlsa_port(name) {
        None => Err(Error::BadRequest(
            "TLSA recordset name must follow the format _port._protocol.domain \
             (e.g. _443._tcp.example.com.) as required by RFC 6698 Section 3"
                .into(),
        )),
        Some(port) if port > 65535 => Err(Error::BadRequest(format!(
            "TLSA recordset name contains invalid port {port}: port must be in range 0-65535"
        ))),
        Some(_) => Ok(()),
    }
}

/// Central's `_is_valid_recordset_name` (exact suffix match, as in Python).
fn check_location(zone: &ZoneInput, rs: &RecordsetInput, cfg: &Config) -> Result<(), Error> {
    if names::py_len(&rs.name) > cfg.max_recordset_name_len {
        return Err(Error::InvalidRecordsetName("Name too long".into()));
    }
    if rs.name != zone.name && !rs.name.ends_with(&format!(".{}", zone.name)) {
        return Err(Error::InvalidRecordsetLocation(
            "RecordSet is not contained within it's parent zone".into(),
        ));
    }
    Ok(())
}

/// Central's `_is_valid_recordset_placement`: no CNAME at the apex, and a
/// CNAME shares its name with no other recordset (a database lookup, so
/// case-insensitive).
fn check_cname_placement(
    zone: &ZoneInput,
    rs: &RecordsetInput,
    accepted: &ZoneSets,
) -> Result<(), Error> {
    let is_cname = rs.type_ == "CNAME";
    if is_cname && rs.name == zone.name {
        return Err(Error::InvalidRecordsetLocation(
            "CNAME recordsets may not be created at the zone apex".into(),
        ));
    }
    // The set itself is not another recordset (Designate's check skips
    // the recordset's own id).
    if accepted
        .named_except(&rs.name, &rs.id)
        .any(|r| is_cname || r.type_ == "CNAME")
    {
        return Err(Error::InvalidRecordsetLocation(
            "CNAME recordsets may not share a name with any other records".into(),
        ));
    }
    Ok(())
}

/// Central's `_is_valid_recordset_placement_subzone`: a name at or below a
/// child zone belongs there. Designate looks at direct children only; among
/// the given zones the shortest match is the direct child it would name.
fn check_child_zones(
    zone: &ZoneInput,
    rs: &RecordsetInput,
    child_zones: &[String],
) -> Result<(), Error> {
    if rs.name == zone.name {
        return Ok(());
    }
    let child = child_zones
        .iter()
        .filter(|child| rs.name == **child || rs.name.ends_with(&format!(".{child}")))
        .min_by_key(|child| child.len());
    match child {
        Some(child) => Err(Error::InvalidRecordsetLocation(format!(
            "RecordSet belongs in a child zone: {child}"
        ))),
        None => Ok(()),
    }
}
