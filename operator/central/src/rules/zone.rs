//! Zone rules: the v2 API (`ZoneAPIv2Adapter`, `Zone.validate()`), then
//! Central's `create_zone` / `update_zone`, then storage's unique key.

use regex::Regex;

use super::names::{self, NameField};
use super::{
    check_description_field, check_min_ttl, check_quota, check_ttl_field, field_error,
    split_host_port,
};
use crate::error::{Error, QuotaResource};
use crate::model::{Config, Privileges, ZoneInput, ZoneKind, ZoneOwner};

pub(super) fn validate(
    zone: &ZoneInput,
    existing: Option<&ZoneInput>,
    cfg: &Config,
    privileges: Privileges,
    project_zone_count: u64,
    related: &[ZoneOwner],
) -> Result<(), Error> {
    // The adapter parses `masters` before the other keys of the body.
    zone.masters.iter().try_for_each(|m| check_master(m))?;
    if let Some(existing) = existing {
        check_immutable(zone, existing)?;
    }
    check_fields(zone)?;
    check_type_rules(zone, existing)?;
    match existing {
        None => {
            check_quota(
                QuotaResource::Zones,
                cfg.quotas.zones,
                project_zone_count.saturating_add(1),
            )?;
            check_zone_name(&zone.name, cfg, privileges)?;
            check_min_ttl(zone.ttl, cfg, privileges)?;
            check_ownership(zone, related)
        }
        // `update_zone` checks only a changed TTL: a raised `min_ttl` does
        // not lock existing zones.
        Some(existing) if zone.ttl != existing.ttl => check_min_ttl(zone.ttl, cfg, privileges),
        Some(_) => Ok(()),
    }
}

/// `ZoneMaster.port`: `IntegerFields(minimum=1, maximum=65535)`. Designate
/// does not check the host.
fn check_master(master: &str) -> Result<(), Error> {
    match split_host_port(master).1 {
        port if port < 1 => Err(field_error("Value must be >= 1 for field port")),
        port if port > 65535 => Err(field_error("Value too high for port")),
        _ => Ok(()),
    }
}

/// The adapter refuses a changed immutable (`name`, `type`) or read-only
/// (`project_id`) key, before Central's own "Renaming a zone is not allowed"
/// could be reached.
fn check_immutable(zone: &ZoneInput, existing: &ZoneInput) -> Result<(), Error> {
    let changed = if zone.name != existing.name {
        "name"
    } else if zone.kind != existing.kind {
        "type"
    } else if zone.project != existing.project {
        "project_id"
    } else {
        return Ok(());
    };
    Err(Error::InvalidObject(format!(
        "Provided object does not match schema. Keys ['{changed}'] are not valid for zone"
    )))
}

/// The fields' `coerce()` while the body is parsed.
fn check_fields(zone: &ZoneInput) -> Result<(), Error> {
    if let Some(message) = names::name_field_error(&zone.name, NameField::Domain, "name", Some(255))
    {
        return Err(field_error(&message));
    }
    if let Some(message) = zone.email.as_deref().and_then(names::email_field_error) {
        return Err(field_error(&message));
    }
    check_ttl_field(zone.ttl)?;
    check_description_field(zone.description.as_deref())
}

/// `Zone.validate()`. Designate reports these as a list under the generic
/// "Provided object does not match schema"; the first entry's message is kept.
fn check_type_rules(zone: &ZoneInput, existing: Option<&ZoneInput>) -> Result<(), Error> {
    let message = match zone.kind {
        ZoneKind::Primary if !zone.masters.is_empty() => "'masters' has more items than allowed",
        ZoneKind::Primary if zone.email.is_none() => "'email' is a required property",
        ZoneKind::Secondary if zone.masters.is_empty() => "'masters' is a required property",
        // Only keys set by this request count (`obj_what_changed`): a stored
        // secondary zone carries the managed email and the default TTL.
        ZoneKind::Secondary if given(&zone.email, existing.map(|e| &e.email)) => {
            "'email' can't be specified when type is SECONDARY"
        }
        ZoneKind::Secondary if given(&zone.ttl, existing.map(|e| &e.ttl)) => {
            "'ttl' can't be specified when type is SECONDARY"
        }
        _ => return Ok(()),
    };
    Err(Error::InvalidObject(message.into()))
}

/// Whether a field is set by this request: present, and different from the
/// stored value on update.
fn given<T: PartialEq>(value: &Option<T>, stored: Option<&Option<T>>) -> bool {
    value.is_some() && stored.is_none_or(|stored| stored != value)
}

/// Central's `_is_valid_zone_name`.
fn check_zone_name(name: &str, cfg: &Config, privileges: Privileges) -> Result<(), Error> {
    let invalid = |message: &str| Err(Error::InvalidZoneName(message.into()));
    if names::py_len(name) > cfg.max_zone_name_len {
        return invalid("Name too long");
    }
    let labels: Vec<&str> = name.trim_matches('.').split('.').collect();
    if labels.len() <= 1 {
        return invalid("More than one label is required");
    }
    if !cfg.tlds.is_empty() {
        // Suffixes are matched in Python (exact); "same as a TLD" is a
        // storage lookup (case-insensitive).
        let has_tld = (0..labels.len()).any(|i| cfg.tlds.contains(&labels[i..].join(".")));
        if !has_tld {
            return Err(Error::InvalidTld("Invalid TLD".into()));
        }
        let stripped = name.trim_end_matches('.').to_lowercase();
        if cfg.tlds.iter().any(|tld| tld.to_lowercase() == stripped) {
            return invalid("Zone name cannot be the same as a TLD");
        }
    }
    if !privileges.blacklisted_zone && is_blacklisted(name, &cfg.blacklists) {
        return Err(Error::BlacklistedZone("Blacklisted zone name".into()));
    }
    Ok(())
}

/// Central's `_is_blacklisted_zone_name`: each pattern is searched in the
/// name. Designate counts a pattern that takes too long as a match; here a
/// pattern the `regex` crate cannot compile (Python-only syntax) fails closed
/// the same way. Matching itself is linear, so no timeout is needed.
fn is_blacklisted(name: &str, patterns: &[String]) -> bool {
    patterns
        .iter()
        .any(|pattern| Regex::new(pattern).map_or(true, |re| re.is_match(name)))
}

/// Central's `_check_zone_ownership_conflicts` (across projects and pools),
/// then the storage unique key (one pool for now, so any same-name zone).
fn check_ownership(zone: &ZoneInput, related: &[ZoneOwner]) -> Result<(), Error> {
    // The zone itself, if listed, is no conflict.
    let others = || related.iter().filter(|z| z.id != zone.id);
    let foreign = |z: &ZoneOwner| z.project != zone.project;
    let named = |z: &ZoneOwner, name: &str| z.name.eq_ignore_ascii_case(name);

    if others().any(|z| named(z, &zone.name) && foreign(z)) {
        return Err(Error::DuplicateZone(
            "Zone already exists, owned by a different tenant".into(),
        ));
    }
    // Only the nearest existing ancestor counts.
    let labels: Vec<&str> = zone.name.split('.').collect();
    for i in 1..labels.len() {
        let ancestor = labels[i..].join(".");
        let mut found = others().filter(|z| named(z, &ancestor)).peekable();
        if found.peek().is_none() {
            continue;
        }
        if found.any(foreign) {
            return Err(Error::IllegalChildZone(
                "Unable to create subzone in another tenants zone".into(),
            ));
        }
        break;
    }
    let suffix = format!(".{}", zone.name.to_ascii_lowercase());
    if others().any(|z| foreign(z) && z.name.to_ascii_lowercase().ends_with(&suffix)) {
        return Err(Error::IllegalParentZone(
            "Unable to create zone because another tenant owns a subzone of the zone".into(),
        ));
    }
    if others().any(|z| named(z, &zone.name)) {
        return Err(Error::DuplicateZone("Duplicate Zone".into()));
    }
    Ok(())
}
