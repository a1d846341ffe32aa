//! `designate-central`: Designate's Central role as pure functions.
//!
//! - [`rules`]: zone and recordset validation, ownership across projects, quotas;
//! - [`rdata`]: record types and per-type rdata validation and normalisation;
//! - [`managed`]: the SOA and apex NS records generated from the pool;
//! - [`serial`]: the serial policy;
//! - [`zone_sets`]: a zone's recordsets indexed for the zone-wide rules;
//! - [`plan`]: from a zone's desired state and its published state to the
//!   storage changes and the statuses to show.
//!
//! No IO here: controllers and the REST shim observe, call these, then act.

pub mod error;
pub mod managed;
pub mod model;
pub mod plan;
pub mod rdata;
pub mod rules;
pub mod serial;
pub mod zone_sets;

pub use error::{Error, QuotaResource, RecordError};
pub use model::*;
pub use zone_sets::ZoneSets;
