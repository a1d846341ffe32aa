//! Central's errors, carrying Designate's HTTP code and error `type` (for the
//! REST shim) and a stable CamelCase reason (for status conditions, logs and
//! metrics).

use std::fmt;

/// One invalid record of a recordset, as Designate reports it in the
/// `errors` list of an `invalid_object` answer (`path = ["records", index]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    /// Position of the record in the recordset's `records`.
    pub index: usize,
    /// Designate's message, e.g. `'1.2.3' is not a 'A' Record`.
    pub message: String,
}

/// The quota resources of Designate (`[DEFAULT] quota_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuotaResource {
    Zones,
    ZoneRecordsets,
    ZoneRecords,
    RecordsetRecords,
    ApiExportSize,
}

impl QuotaResource {
    /// Designate's spelling (`zones`, `zone_recordsets`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Zones => "zones",
            Self::ZoneRecordsets => "zone_recordsets",
            Self::ZoneRecords => "zone_records",
            Self::RecordsetRecords => "recordset_records",
            Self::ApiExportSize => "api_export_size",
        }
    }
}

impl fmt::Display for QuotaResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule of Central refused the request. Each variant is one Designate
/// exception class; the payload is Designate's message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidObject(String),
    /// Records that fail their type's rdata rules (one entry per record).
    #[error("{}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    InvalidRecords(Vec<RecordError>),
    #[error("{0}")]
    InvalidZoneName(String),
    /// `InvalidZoneName` for a name under none of the TLDs.
    #[error("{0}")]
    InvalidTld(String),
    /// `InvalidZoneName` for a name a blacklist pattern matches.
    #[error("{0}")]
    BlacklistedZone(String),
    #[error("{0}")]
    InvalidRecordsetName(String),
    #[error("{0}")]
    InvalidRecordsetLocation(String),
    #[error("{0}")]
    InvalidTtl(String),
    #[error("{0}")]
    InvalidOperation(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    IllegalChildZone(String),
    #[error("{0}")]
    IllegalParentZone(String),
    #[error("{0}")]
    DuplicateZone(String),
    #[error("{0}")]
    DuplicateRecordset(String),
    #[error("{0}")]
    DuplicateRecord(String),
    #[error("Quota exceeded for {0}.")]
    OverQuota(QuotaResource),
    #[error("{0}")]
    NoServersConfigured(String),
    #[error("{0}")]
    NoValidPoolFound(String),
}

impl Error {
    /// Designate's HTTP status code for this error.
    pub const fn code(&self) -> u16 {
        match self {
            Self::BadRequest(_)
            | Self::InvalidObject(_)
            | Self::InvalidRecords(_)
            | Self::InvalidZoneName(_)
            | Self::InvalidTld(_)
            | Self::BlacklistedZone(_)
            | Self::InvalidRecordsetName(_)
            | Self::InvalidRecordsetLocation(_)
            | Self::InvalidTtl(_)
            | Self::InvalidOperation(_) => 400,
            Self::Forbidden(_) | Self::IllegalChildZone(_) | Self::IllegalParentZone(_) => 403,
            Self::DuplicateZone(_) | Self::DuplicateRecordset(_) | Self::DuplicateRecord(_) => 409,
            Self::OverQuota(_) => 413,
            Self::NoServersConfigured(_) => 500,
            Self::NoValidPoolFound(_) => 404,
        }
    }

    /// Designate's error `type` string.
    pub const fn error_type(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::InvalidObject(_) | Self::InvalidRecords(_) => "invalid_object",
            Self::InvalidZoneName(_) | Self::InvalidTld(_) | Self::BlacklistedZone(_) => {
                "invalid_zone_name"
            }
            Self::InvalidRecordsetName(_) => "invalid_recordset_name",
            Self::InvalidRecordsetLocation(_) => "invalid_recordset_location",
            Self::InvalidTtl(_) => "invalid_ttl",
            Self::InvalidOperation(_) => "invalid_operation",
            Self::Forbidden(_) => "forbidden",
            Self::IllegalChildZone(_) => "illegal_child",
            Self::IllegalParentZone(_) => "illegal_parent",
            Self::DuplicateZone(_) => "duplicate_zone",
            Self::DuplicateRecordset(_) => "duplicate_recordset",
            Self::DuplicateRecord(_) => "duplicate_record",
            Self::OverQuota(_) => "over_quota",
            Self::NoServersConfigured(_) => "no_servers_configured",
            Self::NoValidPoolFound(_) => "no_valid_pool_found",
        }
    }

    /// Stable CamelCase reason for status conditions, logs and metrics.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "BadRequest",
            Self::InvalidObject(_) => "InvalidObject",
            Self::InvalidRecords(_) => "InvalidRecord",
            Self::InvalidZoneName(_) => "InvalidZoneName",
            Self::InvalidTld(_) => "InvalidTLD",
            Self::BlacklistedZone(_) => "Blacklisted",
            Self::InvalidRecordsetName(_) => "InvalidRecordsetName",
            Self::InvalidRecordsetLocation(_) => "InvalidRecordsetLocation",
            Self::InvalidTtl(_) => "InvalidTTL",
            Self::InvalidOperation(_) => "InvalidOperation",
            Self::Forbidden(_) => "Forbidden",
            Self::IllegalChildZone(_) => "IllegalChildZone",
            Self::IllegalParentZone(_) => "IllegalParentZone",
            Self::DuplicateZone(_) => "DuplicateZone",
            Self::DuplicateRecordset(_) => "DuplicateRecordset",
            Self::DuplicateRecord(_) => "DuplicateRecord",
            Self::OverQuota(_) => "OverQuota",
            Self::NoServersConfigured(_) => "NoServersConfigured",
            Self::NoValidPoolFound(_) => "PoolNotFound",
        }
    }
}
