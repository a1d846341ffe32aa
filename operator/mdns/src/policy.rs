//! Who may transfer zones (AXFR, IXFR) and send NOTIFY: listed source
//! addresses, or requests signed with a known TSIG key (pure).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use base64::Engine;
use designate_storage::{HostPort, PoolRecord, ZoneHead};
use hickory_proto::rr::{Name, TSigner};

use crate::Error;

/// Seconds a TSIG signature stays valid either side of its time (RFC 8945's
/// recommendation, Designate's value).
pub(crate) const TSIG_FUDGE: u16 = 300;

/// The TSIG algorithms hickory-proto signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TsigAlgorithm {
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl TsigAlgorithm {
    /// The algorithm's name as BIND and Designate write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha384 => "hmac-sha384",
            Self::HmacSha512 => "hmac-sha512",
        }
    }

    fn to_hickory(self) -> hickory_proto::rr::rdata::tsig::TsigAlgorithm {
        use hickory_proto::rr::rdata::tsig::TsigAlgorithm as H;
        match self {
            Self::HmacSha256 => H::HmacSha256,
            Self::HmacSha384 => H::HmacSha384,
            Self::HmacSha512 => H::HmacSha512,
        }
    }
}

impl FromStr for TsigAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha256" => Ok(Self::HmacSha256),
            "hmac-sha384" => Ok(Self::HmacSha384),
            "hmac-sha512" => Ok(Self::HmacSha512),
            other => Err(format!(
                "unsupported algorithm {other:?} (hmac-sha256, hmac-sha384 or hmac-sha512)"
            )),
        }
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TSIG key (Designate's `tsigkeys`: name, algorithm, secret).
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    name: Name,
    algorithm: TsigAlgorithm,
    secret: Vec<u8>,
}

impl TsigKey {
    /// A key from its name, algorithm (`hmac-sha256`, ...) and base64 secret,
    /// as `dig -y` and BIND's `key` statements take them.
    pub fn new(name: &str, algorithm: &str, secret_base64: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidKey {
            name: name.to_string(),
            reason,
        };
        let algorithm = algorithm.parse().map_err(invalid)?;
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret_base64.trim())
            .map_err(|e| invalid(format!("secret is not base64: {e}")))?;
        if secret.is_empty() {
            return Err(invalid("empty secret".into()));
        }
        let mut parsed = Name::from_ascii(name).map_err(|e| invalid(e.to_string()))?;
        if parsed.num_labels() == 0 {
            return Err(invalid("empty name".into()));
        }
        parsed.set_fqdn(true);
        Ok(Self {
            name: parsed.to_lowercase(),
            algorithm,
            secret,
        })
    }

    /// The key name, lower case, with its trailing dot.
    pub fn name(&self) -> String {
        self.name.to_ascii()
    }

    pub fn algorithm(&self) -> TsigAlgorithm {
        self.algorithm
    }

    pub(crate) fn matches(&self, name: &Name) -> bool {
        self.name.eq_ignore_root(name)
    }

    pub(crate) fn signer(&self) -> TSigner {
        TSigner::new(
            self.secret.clone(),
            self.algorithm.to_hickory(),
            self.name.clone(),
            TSIG_FUDGE,
        )
        .expect("our algorithms are the ones hickory supports")
    }
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name.to_ascii())
            .field("algorithm", &self.algorithm)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Source addresses allowed to transfer zones unsigned, each with the pools
/// that list it (a requester's pools break ties between zones of one name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    sources: BTreeMap<IpAddr, BTreeSet<String>>,
}

impl AllowList {
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows `ip`, for no pool in particular.
    pub fn allow(&mut self, ip: IpAddr) -> &mut Self {
        self.sources.entry(ip.to_canonical()).or_default();
        self
    }

    /// Allows `ip` as a server of pool `pool_id`.
    pub fn allow_for_pool(&mut self, ip: IpAddr, pool_id: &str) -> &mut Self {
        self.sources
            .entry(ip.to_canonical())
            .or_default()
            .insert(pool_id.to_string());
        self
    }

    /// The servers of the pools: their nameservers (polled for serials), their
    /// also-notify servers and their targets' `host` option (the server a
    /// backend provisions, `127.0.0.1` when unset, as in Designate). Host
    /// names other than `localhost` are skipped (logged): resolve them and
    /// `allow` the addresses.
    pub fn from_pools(pools: &[PoolRecord]) -> Self {
        let mut list = Self::new();
        for pool in pools {
            let hosts = pool
                .nameservers
                .iter()
                .chain(&pool.also_notifies)
                .map(|HostPort { host, .. }| host.clone())
                .chain(target_hosts(&pool.targets));
            for host in hosts {
                let ips = host_ips(&host);
                if ips.is_empty() {
                    tracing::warn!(pool = %pool.name, %host, "not an address: left out of the transfer allow-list");
                }
                for ip in ips {
                    list.allow_for_pool(ip, &pool.id);
                }
            }
        }
        list
    }

    /// Adds the sources of `other`, with their pools.
    pub fn merge(&mut self, other: AllowList) {
        for (ip, pools) in other.sources {
            self.sources.entry(ip).or_default().extend(pools);
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.sources.contains_key(&ip.to_canonical())
    }

    /// The pools that list `ip`.
    pub fn pools(&self, ip: IpAddr) -> Option<&BTreeSet<String>> {
        self.sources.get(&ip.to_canonical())
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

impl FromIterator<IpAddr> for AllowList {
    fn from_iter<T: IntoIterator<Item = IpAddr>>(iter: T) -> Self {
        let mut list = Self::new();
        for ip in iter {
            list.allow(ip);
        }
        list
    }
}

/// What MiniDNS allows: zone transfers and NOTIFY from `allowed` sources
/// (unless `require_tsig`) or signed with one of `keys`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferPolicy {
    pub allowed: AllowList,
    pub keys: Vec<TsigKey>,
    /// Refuses unsigned transfers even from allowed sources (Designate's
    /// `query_enforce_tsig`).
    pub require_tsig: bool,
}

impl TransferPolicy {
    pub(crate) fn key(&self, name: &Name) -> Option<&TsigKey> {
        self.keys.iter().find(|key| key.matches(name))
    }

    /// Whether a transfer (or NOTIFY) from `source` may go ahead; `signed`
    /// means its TSIG was verified with one of our keys.
    pub(crate) fn permits(&self, source: IpAddr, signed: bool) -> bool {
        signed || (!self.require_tsig && self.allowed.contains(source))
    }

    /// Of the zones of one name (or enclosing one name, deepest first), the
    /// first in a pool that lists `source`, else the first.
    pub(crate) fn choose<'z>(&self, zones: &'z [ZoneHead], source: IpAddr) -> Option<&'z ZoneHead> {
        let pools = self.allowed.pools(source);
        zones
            .iter()
            .find(|zone| pools.is_some_and(|pools| pools.contains(&zone.zone.pool_id)))
            .or_else(|| zones.first())
    }
}

/// The `host` option of each target (Designate's NOTIFY destination).
fn target_hosts(targets: &serde_json::Value) -> Vec<String> {
    let Some(targets) = targets.as_array() else {
        return Vec::new();
    };
    targets
        .iter()
        .map(|target| {
            target
                .pointer("/options/host")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("127.0.0.1")
                .to_string()
        })
        .collect()
}

/// The addresses a pool host stands for: an IP literal (IPv6 possibly in
/// brackets), or `localhost`.
fn host_ips(host: &str) -> Vec<IpAddr> {
    let host = host.trim();
    if host.eq_ignore_ascii_case("localhost") {
        return vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().map(|ip| vec![ip]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(id: &str, nameservers: &[&str], targets: serde_json::Value) -> PoolRecord {
        PoolRecord {
            id: id.into(),
            name: format!("pool-{id}"),
            description: None,
            ns_records: vec![],
            nameservers: nameservers
                .iter()
                .map(|h| HostPort {
                    host: h.to_string(),
                    port: 53,
                })
                .collect(),
            also_notifies: vec![HostPort {
                host: "192.0.2.99".into(),
                port: 53,
            }],
            targets,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allow_list_comes_from_nameservers_notifies_and_targets() {
        let pools = [
            pool(
                "p1",
                &["192.0.2.1", "[2001:db8::1]", "ns.example.net"],
                serde_json::json!([
                    {"type": "bind9", "options": {"host": "192.0.2.10", "port": "53"}},
                    {"type": "bind9", "options": {"rndc_host": "192.0.2.11"}},
                ]),
            ),
            pool("p2", &["192.0.2.1", "localhost"], serde_json::json!([])),
        ];
        let list = AllowList::from_pools(&pools);
        for allowed in [
            "192.0.2.1",
            "2001:db8::1",
            "192.0.2.99",
            "192.0.2.10",
            "127.0.0.1",
            "::1",
            // IPv4 seen through a dual-stack socket.
            "::ffff:192.0.2.1",
        ] {
            assert!(list.contains(ip(allowed)), "{allowed}");
        }
        assert!(!list.contains(ip("192.0.2.11")));
        let pools_of = |s| {
            list.pools(ip(s))
                .unwrap()
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(pools_of("192.0.2.1"), ["p1", "p2"]);
        assert_eq!(pools_of("127.0.0.1"), ["p1", "p2"]);
        assert_eq!(pools_of("192.0.2.10"), ["p1"]);

        // Merged into a list allowed by hand, both stay.
        let mut merged: AllowList = [ip("198.51.100.1")].into_iter().collect();
        merged.allow_for_pool(ip("192.0.2.1"), "p0");
        merged.merge(list);
        assert!(merged.contains(ip("198.51.100.1")));
        let pools_of = |s| {
            merged
                .pools(ip(s))
                .unwrap()
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(pools_of("192.0.2.1"), ["p0", "p1", "p2"]);
        assert_eq!(pools_of("192.0.2.10"), ["p1"]);
    }

    #[test]
    fn unsigned_transfers_need_an_allowed_source_and_no_tsig_requirement() {
        let mut policy = TransferPolicy {
            allowed: [ip("192.0.2.1")].into_iter().collect(),
            ..Default::default()
        };
        assert!(policy.permits(ip("192.0.2.1"), false));
        assert!(!policy.permits(ip("192.0.2.2"), false));
        assert!(policy.permits(ip("192.0.2.2"), true));
        policy.require_tsig = true;
        assert!(!policy.permits(ip("192.0.2.1"), false));
        assert!(policy.permits(ip("192.0.2.1"), true));
    }

    #[test]
    fn keys_parse_and_match_case_insensitively() {
        let key = TsigKey::new("Transfer-Key", "HMAC-SHA256", "c2VjcmV0").unwrap();
        assert_eq!(key.name(), "transfer-key.");
        assert_eq!(key.algorithm(), TsigAlgorithm::HmacSha256);
        assert!(key.matches(&Name::from_ascii("TRANSFER-KEY.").unwrap()));
        assert!(!format!("{key:?}").contains("c2VjcmV0"));
        let policy = TransferPolicy {
            keys: vec![key.clone()],
            ..Default::default()
        };
        assert_eq!(
            policy.key(&Name::from_ascii("transfer-key").unwrap()),
            Some(&key)
        );

        for (name, algorithm, secret) in [
            ("k", "hmac-md5", "c2VjcmV0"),
            ("k", "hmac-sha256", "not base64!"),
            ("k", "hmac-sha256", ""),
            ("", "hmac-sha256", "c2VjcmV0"),
        ] {
            let err = TsigKey::new(name, algorithm, secret).unwrap_err();
            assert_eq!(err.reason(), "InvalidTsigKey", "{err}");
        }
    }

    #[test]
    fn zone_choice_prefers_the_requesters_pool() {
        use designate_central::{Soa, ZoneKind, ZoneRow};
        let head = |pool: &str| ZoneHead {
            zone: ZoneRow {
                id: format!("z-{pool}"),
                project: "p".into(),
                name: "example.com.".into(),
                pool_id: pool.into(),
                kind: ZoneKind::Primary,
                ttl: 3600,
                description: None,
                masters: vec![],
                soa: Soa {
                    mname: "ns1.example.org.".into(),
                    email: "a@example.com".into(),
                    refresh: 1,
                    retry: 1,
                    expire: 1,
                    minimum: 1,
                },
            },
            serial: 1,
            fingerprint: String::new(),
        };
        let zones = [head("p1"), head("p2")];
        let mut policy = TransferPolicy::default();
        policy.allowed.allow_for_pool(ip("192.0.2.2"), "p2");
        assert_eq!(
            policy.choose(&zones, ip("192.0.2.2")).unwrap().zone.id,
            "z-p2"
        );
        assert_eq!(
            policy.choose(&zones, ip("192.0.2.3")).unwrap().zone.id,
            "z-p1"
        );
        assert!(policy.choose(&[], ip("192.0.2.3")).is_none());
    }
}
