//! `designate-sink`: the Sink, which turns nova's and neutron's
//! notifications into records. [`handlers`] holds Designate's two handlers
//! (`nova_fixed`, `neutron_floatingip`) as pure plans: a notification in,
//! the records to create or delete out, with Designate's formats
//! ([`format`]: Python's `%(name)s`). [`records`] writes the plans as
//! Recordsets the Sink manages; [`service`] ties both to notifications
//! taken from the bus (`designate_bus::Consumer`). [`floating_ips`] keeps
//! the floating IPs of projects (`FloatingIp` objects) from neutron's
//! notifications, for `/v2/reverse/floatingips`.

pub mod floating_ips;
pub mod format;
pub mod handlers;
pub mod records;
pub mod service;

pub use handlers::{Action, Handler, Kind, Resource};
pub use service::{HandlerConfig, Sink};

/// Errors of the Sink; `reason()` is the stable label.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `formatv4`/`formatv6` string that the notification cannot fill.
    #[error("format {format:?}: {message}")]
    BadFormat { format: String, message: String },
    /// A payload without what its event type carries.
    #[error("not the payload the event type carries: {0}")]
    BadPayload(String),
    /// The handler's zone id names no zone.
    #[error("no zone with id {0}")]
    ZoneNotFound(String),
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::BadFormat { .. } => "BadFormat",
            Self::BadPayload(_) => "BadPayload",
            Self::ZoneNotFound(_) => "ZoneNotFound",
            Self::Kube(_) => "KubeError",
        }
    }
}
