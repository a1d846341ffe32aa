//! `designate-mdns`: Designate's MiniDNS role on `hickory-proto`.
//!
//! The server ([`MiniDns`], UDP and TCP on one address, `127.0.0.1:5354` by
//! default) answers the pools' nameservers from storage:
//! - queries (the SOA polls, any type): the RRset of the closest enclosing
//!   zone, authoritative; REFUSED when no zone or RRset matches, as Designate;
//! - AXFR (TCP): SOA, every other record, SOA, in as many messages as needed,
//!   read from one storage snapshot page by page;
//! - IXFR (RFC 1995) from the history storage keeps: the changes since the
//!   client's serial, the single SOA when the client is current, the whole
//!   zone when the history does not reach back;
//! - NOTIFY: acknowledged for hosted zones (NOTAUTH otherwise);
//! - FORMERR for malformed requests, NOTIMP for other opcodes; requests with
//!   a bad TSIG get NOTAUTH.
//!
//! Transfers and NOTIFY are allowed by a [`TransferPolicy`]: from listed
//! source addresses (derived from the pools), or signed with one of its TSIG
//! keys. The client side, [`notify`] and [`soa_serial`], is what the
//! controllers use to tell nameservers about a change and to see it served;
//! [`axfr`] and [`ixfr`] pull a secondary zone from its masters;
//! [`zone_file`] writes a zone as a master file for a nameserver that loads
//! a new zone with its data.

mod client;
mod handler;
mod incremental;
mod policy;
mod rdata;
mod records;
mod request;
mod server;
mod tsig;
mod wire;
mod zonefile;

use std::net::SocketAddr;

pub use client::{TransferredRecord, axfr, ixfr, notify, soa_serial};
pub use handler::SecondaryNotify;
pub use hickory_proto::op::ResponseCode;
pub use incremental::{Difference, Ixfr};
pub use policy::{
    AllowList, KeyScope, Network, TransferPolicy, TsigAlgorithm, TsigKey, pool_host_names,
};
pub use server::{DEFAULT_LISTEN, MiniDns, PolicyHandle};
pub use zonefile::{zone_file, zone_file_records};

/// Errors of MiniDNS and its client; `reason()` is the stable label.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage: {0}")]
    Storage(#[from] designate_storage::Error),
    /// A DNS message could not be encoded or decoded.
    #[error("dns message: {0}")]
    Proto(#[from] hickory_proto::ProtoError),
    /// No answer within the timeout, after every try.
    #[error("no answer from {target} after {tries} tries")]
    Timeout { target: SocketAddr, tries: u32 },
    /// The server answered with an error code.
    #[error("{target} answered {rcode}")]
    Rejected {
        target: SocketAddr,
        rcode: ResponseCode,
    },
    /// An answer that does not do: not authoritative, or its TSIG is wrong.
    #[error("bad answer from {target}: {reason}")]
    BadResponse { target: SocketAddr, reason: String },
    #[error("invalid TSIG key {name:?}: {reason}")]
    InvalidKey { name: String, reason: String },
    #[error("invalid DNS name {0:?}")]
    InvalidName(String),
    /// One record is larger than a whole DNS message.
    #[error("record {0} does not fit in a DNS message")]
    RecordTooLarge(String),
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Io(_) => "IoError",
            Self::Storage(_) => "StorageError",
            Self::Proto(_) => "MalformedMessage",
            Self::Timeout { .. } => "Timeout",
            Self::Rejected { .. } => "Rejected",
            Self::BadResponse { .. } => "BadResponse",
            Self::InvalidKey { .. } => "InvalidTsigKey",
            Self::InvalidName(_) => "InvalidName",
            Self::RecordTooLarge(_) => "RecordTooLarge",
        }
    }
}
