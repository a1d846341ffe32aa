//! Record types and rdata validation (Designate's `objects/rrdata_*.py` as run
//! by `RecordSet.validate`): every record is checked against its type's rules.
//!
//! Designate keeps accepted rdata verbatim: its parsers only validate (the
//! objects they fill are thrown away), so a normalised record is the input
//! itself, spacing, case and quoting included. Matching Designate here means
//! matching which inputs pass, quirks included; each submodule says which.

mod address;
mod cert;
mod domain;
pub mod py;
mod svcb;
mod text;

use crate::error::{Error, RecordError};

/// Designate's `[DEFAULT] supported_record_type` default.
pub const SUPPORTED_TYPES: &[&str] = &[
    "A", "AAAA", "CNAME", "MX", "SRV", "TXT", "SPF", "NS", "PTR", "SSHFP", "SOA", "NAPTR", "CAA",
    "CERT", "HTTPS", "SVCB", "TLSA",
];

pub use svcb::SvcbFields;

/// The priority, target and params of an SVCB or HTTPS record as Designate
/// reads them: what MiniDNS serves. `None` when the fields do not split
/// that way; no other rule is checked.
pub fn svcb_fields(data: &str) -> Option<SvcbFields<'_>> {
    svcb::fields(data)
}

/// Designate objects that also have a list class: `RecordSet.validate` finds
/// them by name, so it calls them known types, just never supported ones.
const OTHER_OBJECTS: &[&str] = &[
    "Blacklist",
    "FloatingIP",
    "Pool",
    "PoolAlsoNotify",
    "PoolAttribute",
    "PoolNameserver",
    "PoolNsRecord",
    "PoolTarget",
    "PoolTargetMaster",
    "PoolTargetOption",
    "Quota",
    "Record",
    "RecordSet",
    "ServiceStatus",
    "SharedZone",
    "Tenant",
    "Tld",
    "TsigKey",
    "ValidationError",
    "Zone",
    "ZoneAttribute",
    "ZoneExport",
    "ZoneImport",
    "ZoneMaster",
    "ZoneTransferAccept",
    "ZoneTransferRequest",
];

/// Checks that `type_` is a record type Designate knows (case-sensitive) and
/// that it is enabled.
pub fn check_type(type_: &str, supported: &[String]) -> Result<(), Error> {
    let record_type = SUPPORTED_TYPES.contains(&type_);
    if !record_type && !OTHER_OBJECTS.contains(&type_) {
        return Err(Error::InvalidObject(format!(
            "'{type_}' is not a valid record type"
        )));
    }
    if !record_type || !supported.iter().any(|s| s == type_) {
        return Err(Error::InvalidObject(format!(
            "'{type_}' is not a supported record type"
        )));
    }
    Ok(())
}

/// Validates every record of a set of `type_` and returns them as stored, in
/// the same order; all failing records are reported together. A CAA record
/// whose property has no value fails the whole set with Designate's
/// `InvalidObject` message for an unexpected parser error instead.
pub fn normalize_records(type_: &str, records: &[String]) -> Result<Vec<String>, Error> {
    validate(None, type_, records)
}

/// [`normalize_records`] plus the one rule that needs the recordset's name:
/// an SVCB set whose name contains `_dns` needs `alpn` in every record, and
/// `dohpath` where `alpn` lists h2 or h3; a record breaking it is reported
/// like any invalid record.
pub fn normalize_recordset(
    name: &str,
    type_: &str,
    records: &[String],
) -> Result<Vec<String>, Error> {
    validate(Some(name), type_, records)
}

/// One record of `type_` as stored, or `None` when it breaks the type's rules.
pub fn normalize(type_: &str, data: &str) -> Option<String> {
    matches!(verdict(type_, data, None), Verdict::Valid).then(|| data.to_string())
}

/// Designate's outcome for one record.
enum Verdict {
    Valid,
    /// A parse error: "'<data>' is not a '<TYPE>' Record".
    Invalid,
    /// An exception the recordset does not expect: it aborts the whole set.
    Crash(&'static str),
}

impl From<bool> for Verdict {
    fn from(valid: bool) -> Self {
        if valid { Self::Valid } else { Self::Invalid }
    }
}

fn validate(name: Option<&str>, type_: &str, records: &[String]) -> Result<Vec<String>, Error> {
    let mut out = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for (index, data) in records.iter().enumerate() {
        match verdict(type_, data, name) {
            Verdict::Valid => out.push(data.clone()),
            Verdict::Invalid => errors.push(RecordError {
                index,
                message: format!("'{data}' is not a '{type_}' Record"),
            }),
            Verdict::Crash(message) => return Err(Error::InvalidObject(message.to_string())),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::InvalidRecords(errors))
    }
}

fn verdict(type_: &str, data: &str, name: Option<&str>) -> Verdict {
    let valid = match type_ {
        "A" => address::is_ipv4(data),
        "AAAA" => address::is_ipv6(data),
        "CNAME" | "NS" | "PTR" => domain::is_domain(data),
        "MX" => domain::mx(data),
        "SRV" => domain::srv(data),
        "SOA" => domain::soa(data),
        "NAPTR" => domain::naptr(data),
        "TXT" => text::txt(data),
        "SPF" => text::spf(data),
        "SSHFP" => cert::sshfp(data),
        "TLSA" => cert::tlsa(data),
        "CERT" => cert::cert(data),
        "CAA" => return cert::caa(data),
        "HTTPS" => svcb::parse(data, true).is_some(),
        "SVCB" => svcb::parse(data, false).is_some_and(|record| {
            !name.is_some_and(|n| n.contains("_dns")) || record.fits_dns_name()
        }),
        _ => false,
    };
    valid.into()
}
