//! `designate-backends`: Designate's pool manager/worker backend role. A
//! [`Backend`] provisions zones on the nameservers of one pool target, as
//! secondaries of MiniDNS (the target's `masters`):
//! [`create_zone`](Backend::create_zone),
//! [`update_zone`](Backend::update_zone) (the nameserver fetches the new
//! serial now instead of at its next SOA refresh; a missing zone is created)
//! and [`delete_zone`](Backend::delete_zone). All three are idempotent, as the
//! worker retries them: creating a zone that exists (its masters are brought
//! up to date) and deleting one that does not both succeed.
//!
//! Drivers, chosen by the target's `type` as in Designate's `pools.yaml`, and
//! configured by its `options` with the values of its Secret merged over them
//! ([`Target::with_secrets`]):
//! - [`bind9`]: `rndc addzone` / `modzone` / `delzone` / `refresh`, spoken
//!   over named's control channel by [`rndc`] (the protocol `rndc` speaks,
//!   ISCCC, HMAC-signed: about 1-3 ms a command) when the target gives its
//!   key, and by running the `rndc` binary, as Designate does, for what only
//!   rndc reads (an `rndc_config_file`, its default configuration); a run
//!   costs 15 to 35 ms. A target with `zone_file_dir` hands named each new
//!   zone with its data ([`Backend::create_zone_with`]).
//! - [`pdns4`]: the PowerDNS authoritative HTTP API.
//!
//! Each driver builds its requests (the rndc argv; the HTTP method, path and
//! JSON body) and reads the answers in pure functions, under a thin IO layer.
//! Secrets (rndc keys, API keys) are never logged nor put in errors.
//! [`testing`] starts real BIND and PowerDNS servers for tests.

pub mod bind9;
pub mod pdns4;
pub mod rndc;
pub mod rules;
pub mod testing;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub use bind9::Bind9;
pub use pdns4::Pdns4;
pub use rules::TargetRules;

/// Errors of the backends; `reason()` is the stable label for logs, metrics
/// and status conditions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("unknown backend type {0:?} (known: bind9, pdns4)")]
    UnknownType(String),
    /// The target's options are missing or malformed.
    #[error("invalid {driver} target: {message}")]
    InvalidTarget {
        driver: &'static str,
        message: String,
    },
    #[error("invalid zone name {0:?}")]
    InvalidZoneName(String),
    /// The target names what the operator's rules do not allow.
    #[error("target option {option} not allowed: {message}")]
    TargetNotAllowed { option: String, message: String },
    /// A master given by host name has no address.
    #[error("cannot resolve master {host}: {message}")]
    MasterUnresolvable { host: String, message: String },
    /// A local program (rndc) could not be started.
    #[error("cannot run {program}: {source}")]
    Exec {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{driver} at {server}: unreachable: {message}")]
    Unreachable {
        driver: &'static str,
        server: String,
        message: String,
    },
    #[error("{driver} at {server}: no answer within {timeout:?}")]
    Timeout {
        driver: &'static str,
        server: String,
        timeout: Duration,
    },
    /// The server refused the credentials (rndc key, API key).
    #[error("{driver} at {server}: credentials refused: {message}")]
    Unauthorized {
        driver: &'static str,
        server: String,
        message: String,
    },
    /// The server answered the request with an error.
    #[error("{driver} at {server}: {message}")]
    Failed {
        driver: &'static str,
        server: String,
        message: String,
    },
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownType(_) => "UnknownBackendType",
            Self::InvalidTarget { .. } => "InvalidTarget",
            Self::InvalidZoneName(_) => "InvalidZoneName",
            Self::TargetNotAllowed { .. } => "TargetNotAllowed",
            Self::MasterUnresolvable { .. } => "MasterUnresolvable",
            Self::Exec { .. } => "BackendExecFailed",
            Self::Unreachable { .. } => "BackendUnreachable",
            Self::Timeout { .. } => "BackendTimeout",
            Self::Unauthorized { .. } => "BackendUnauthorized",
            Self::Failed { .. } => "BackendFailed",
        }
    }
}

/// The option naming the TSIG key a target's nameservers transfer with.
pub const TSIGKEY_NAME: &str = "tsigkey_name";
/// That key's algorithm and base64 secret, for drivers that install it
/// (merged as secrets: never printed).
pub const TSIGKEY_ALGORITHM: &str = "tsigkey_algorithm";
pub const TSIGKEY_SECRET: &str = "tsigkey_secret";

/// A DNS server address; `host` is an IP address or a host name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

/// A pool target (Designate's `pools.yaml` target; the Pool CRD's
/// `spec.targets[]`, from whose JSON it deserializes): the driver, the
/// servers the nameserver transfers zones from, and the driver's options.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub masters: Vec<HostPort>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The target's Secret, merged over `options`; never serialized or printed.
    #[serde(skip)]
    secrets: BTreeMap<String, String>,
}

impl Target {
    pub fn new(type_: impl Into<String>) -> Self {
        Self {
            type_: type_.into(),
            ..Self::default()
        }
    }

    pub fn master(mut self, host: impl Into<String>, port: u16) -> Self {
        self.masters.push(HostPort {
            host: host.into(),
            port,
        });
        self
    }

    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// Merges the values of the target's Secret over its options.
    pub fn with_secrets<K, V>(mut self, secrets: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.secrets
            .extend(secrets.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// An option's value, the Secret's first; an empty value counts as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.secrets
            .get(key)
            .or_else(|| self.options.get(key))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("type", &self.type_)
            .field("masters", &self.masters)
            .field("options", &self.options)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Provisions zones on one target's nameservers. Zone names may carry their
/// trailing dot or not.
pub trait Backend: Send + Sync {
    /// Adds the zone as a secondary of the target's masters; on a zone that
    /// exists, brings its masters up to date.
    fn create_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>>;
    /// Whether [`Backend::create_zone_with`] uses the zone's content: the
    /// caller renders it only for such a target.
    fn loads_zone_content(&self) -> bool {
        false
    }
    /// [`Backend::create_zone`], handing the server the zone's `content` (a
    /// master file, as MiniDNS serves the zone) to load and serve at once
    /// instead of transferring it first; it stays a secondary of the masters.
    fn create_zone_with<'a>(
        &'a self,
        zone: &'a str,
        content: &'a str,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let _ = content;
        self.create_zone(zone)
    }
    /// Makes the nameserver check its masters for a new serial now; creates
    /// the zone if it is missing.
    fn update_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>>;
    /// Removes the zone; a zone that is not there is not an error.
    fn delete_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>>;
    /// Removes the zone and whatever the nameserver kept of it (Designate's
    /// hard delete: BIND's zone file too).
    fn purge_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        self.delete_zone(zone)
    }
    /// Whether the server transfers a new serial as soon as NOTIFY comes.
    /// One that queues NOTIFYs (PowerDNS checks its queue once a second) is
    /// sent [`Backend::update_zone`] beside each NOTIFY.
    fn acts_on_notify_at_once(&self) -> bool {
        true
    }
}

/// The driver of a target, by its `type`.
pub fn backend(target: &Target) -> Result<Box<dyn Backend>, Error> {
    match target.type_.as_str() {
        bind9::TYPE => Ok(Box::new(Bind9::new(target)?)),
        pdns4::TYPE => Ok(Box::new(Pdns4::new(target)?)),
        other => Err(Error::UnknownType(other.to_string())),
    }
}

/// What a server answered, as far as idempotency goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    Done,
    Exists,
    Missing,
}

/// The zone's name without its trailing dot, holding only the characters of
/// the zone names Central accepts: it goes into rndc's configuration grammar
/// and into URLs unescaped.
pub(crate) fn zone_name(zone: &str) -> Result<&str, Error> {
    let name = zone.strip_suffix('.').unwrap_or(zone);
    let valid = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if valid {
        Ok(name)
    } else {
        Err(Error::InvalidZoneName(zone.to_string()))
    }
}

/// oslo's `bool_from_string`, with which Designate reads boolean options.
pub(crate) fn parse_bool(value: &str) -> bool {
    ["1", "t", "true", "on", "y", "yes"]
        .iter()
        .any(|t| value.eq_ignore_ascii_case(t))
}

/// A numeric option, or `default` when unset.
pub(crate) fn numeric_option<T: std::str::FromStr>(
    target: &Target,
    driver: &'static str,
    key: &str,
    default: T,
) -> Result<T, Error> {
    target.get(key).map_or(Ok(default), |value| {
        value.parse().map_err(|_| Error::InvalidTarget {
            driver,
            message: format!("option {key}: {value:?} is not a valid number"),
        })
    })
}

/// The masters' socket addresses: BIND and PowerDNS take addresses only, and
/// a host name (say a MiniDNS Service) may stand for several.
pub(crate) async fn resolve_masters(masters: &[HostPort]) -> Result<Vec<SocketAddr>, Error> {
    let mut addrs = Vec::new();
    for master in masters {
        let found: Vec<SocketAddr> = match master.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, master.port)],
            Err(_) => tokio::net::lookup_host((master.host.as_str(), master.port))
                .await
                .map_err(|e| Error::MasterUnresolvable {
                    host: master.host.clone(),
                    message: e.to_string(),
                })?
                .collect(),
        };
        for addr in found {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_lose_their_dot_and_keep_to_dns_characters() {
        assert_eq!(zone_name("example.com.").unwrap(), "example.com");
        assert_eq!(zone_name("_tcp.Ex-1.org").unwrap(), "_tcp.Ex-1.org");
        for bad in ["", ".", "a..b", "a b.com.", "x\";.com", "a/b.com", "a{.com"] {
            assert_eq!(zone_name(bad).unwrap_err().reason(), "InvalidZoneName");
        }
    }

    #[test]
    fn targets_read_the_crd_json_and_secrets_win_over_options() {
        let json = serde_json::json!({
            "type": "pdns4",
            "description": "ignored",
            "masters": [{"host": "10.0.0.1", "port": 5354}],
            "options": {"api_endpoint": "http://pdns:8081", "api_token": "in-the-clear", "blank": " "},
            "secretRef": {"name": "pdns"}
        });
        let target: Target = serde_json::from_value(json).unwrap();
        assert_eq!(
            target.masters,
            [HostPort {
                host: "10.0.0.1".into(),
                port: 5354
            }]
        );
        let target = target.with_secrets([("api_token", "s3cret")]);
        assert_eq!(target.get("api_token"), Some("s3cret"));
        assert_eq!(target.get("api_endpoint"), Some("http://pdns:8081"));
        assert_eq!(target.get("blank"), None);
        assert!(!format!("{target:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&target).unwrap().contains("s3cret"));
    }

    #[test]
    fn booleans_read_as_oslo_reads_them() {
        for yes in ["1", "True", "yes", "ON", "y", "t"] {
            assert!(parse_bool(yes), "{yes}");
        }
        for no in ["0", "false", "no", "off", "2", "maybe"] {
            assert!(!parse_bool(no), "{no}");
        }
    }

    #[test]
    fn unknown_types_are_refused() {
        let error = backend(&Target::new("nsd4")).err().unwrap();
        assert_eq!(error.reason(), "UnknownBackendType");
    }

    #[tokio::test]
    async fn masters_resolve_to_unique_addresses() {
        let masters = [
            HostPort {
                host: "127.0.0.1".into(),
                port: 5354,
            },
            HostPort {
                host: "::1".into(),
                port: 5354,
            },
            HostPort {
                host: "localhost".into(),
                port: 5354,
            },
        ];
        let addrs = resolve_masters(&masters).await.unwrap();
        assert_eq!(
            addrs[..2],
            [
                "127.0.0.1:5354".parse().unwrap(),
                "[::1]:5354".parse().unwrap()
            ]
        );
        assert!(addrs.len() <= 3, "localhost is one of the two: {addrs:?}");
        let error = resolve_masters(&[HostPort {
            host: "nowhere.invalid".into(),
            port: 53,
        }])
        .await
        .unwrap_err();
        assert_eq!(error.reason(), "MasterUnresolvable");
    }
}
