//! Who may transfer zones (AXFR, IXFR) and send NOTIFY: listed source
//! addresses, or requests signed with a known TSIG key (pure).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use base64::Engine;
use designate_central::ZoneRow;
use designate_storage::{HostPort, PoolRecord, ZoneHead};
use hickory_proto::rr::{Name, TSigner};

use crate::Error;

/// Seconds a TSIG signature stays valid either side of its time (RFC 8945's
/// recommendation, Designate's value).
pub(crate) const TSIG_FUDGE: u16 = 300;

/// The TSIG algorithms (Designate's `TSIG_ALGORITHMS`, RFC 8945 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TsigAlgorithm {
    HmacMd5,
    HmacSha1,
    HmacSha224,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

/// One HMAC over `data` with `key`.
macro_rules! hmac {
    ($digest:ty, $key:expr, $data:expr) => {{
        let mut mac = <hmac::Hmac<$digest> as hmac::KeyInit>::new_from_slice($key)
            .expect("HMAC takes keys of any length");
        hmac::Mac::update(&mut mac, $data);
        hmac::Mac::finalize(mac).into_bytes().to_vec()
    }};
}

impl TsigAlgorithm {
    pub const ALL: [Self; 6] = [
        Self::HmacMd5,
        Self::HmacSha1,
        Self::HmacSha224,
        Self::HmacSha256,
        Self::HmacSha384,
        Self::HmacSha512,
    ];

    /// The algorithm's name as BIND and Designate write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HmacMd5 => "hmac-md5",
            Self::HmacSha1 => "hmac-sha1",
            Self::HmacSha224 => "hmac-sha224",
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha384 => "hmac-sha384",
            Self::HmacSha512 => "hmac-sha512",
        }
    }

    pub(crate) fn to_hickory(self) -> hickory_proto::rr::rdata::tsig::TsigAlgorithm {
        use hickory_proto::rr::rdata::tsig::TsigAlgorithm as H;
        match self {
            Self::HmacMd5 => H::HmacMd5,
            Self::HmacSha1 => H::HmacSha1,
            Self::HmacSha224 => H::HmacSha224,
            Self::HmacSha256 => H::HmacSha256,
            Self::HmacSha384 => H::HmacSha384,
            Self::HmacSha512 => H::HmacSha512,
        }
    }

    /// The HMAC of `data` under `key`.
    pub fn mac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Self::HmacMd5 => hmac!(md5::Md5, key, data),
            Self::HmacSha1 => hmac!(sha1::Sha1, key, data),
            Self::HmacSha224 => hmac!(sha2::Sha224, key, data),
            Self::HmacSha256 => hmac!(sha2::Sha256, key, data),
            Self::HmacSha384 => hmac!(sha2::Sha384, key, data),
            Self::HmacSha512 => hmac!(sha2::Sha512, key, data),
        }
    }
}

impl FromStr for TsigAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim_end_matches('.').to_ascii_lowercase().as_str() {
            // RFC 8945's name of HMAC-MD5, as it is on the wire.
            "hmac-md5" | "hmac-md5.sig-alg.reg.int" => Ok(Self::HmacMd5),
            "hmac-sha1" => Ok(Self::HmacSha1),
            "hmac-sha224" => Ok(Self::HmacSha224),
            "hmac-sha256" => Ok(Self::HmacSha256),
            "hmac-sha384" => Ok(Self::HmacSha384),
            "hmac-sha512" => Ok(Self::HmacSha512),
            other => Err(format!(
                "unsupported algorithm {other:?} (hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512)"
            )),
        }
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The zones a TSIG key is for (Designate's `scope` and `resource_id`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyScope {
    /// Every zone (a key configured for MiniDNS itself).
    Any,
    /// The zones of the pool with this id.
    Pool(String),
    /// The zone with this id.
    Zone(String),
}

impl KeyScope {
    /// Whether a key of this scope may transfer `zone`.
    pub fn covers(&self, zone: &ZoneRow) -> bool {
        match self {
            Self::Any => true,
            Self::Pool(id) => *id == zone.pool_id,
            Self::Zone(id) => *id == zone.id,
        }
    }

    /// Whether a key of this scope makes `zone` transfer only when signed:
    /// a pool's or zone's own key does, a key for any zone does not (that
    /// is `require_tsig`'s business).
    fn guards(&self, zone: &ZoneRow) -> bool {
        !matches!(self, Self::Any) && self.covers(zone)
    }
}

/// A TSIG key (Designate's `tsigkeys`: name, algorithm, secret, scope).
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    name: Name,
    algorithm: TsigAlgorithm,
    secret: Vec<u8>,
    scope: KeyScope,
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
            // Not the decoder's message: it quotes a byte of the secret.
            .map_err(|_| invalid("secret is not base64".into()))?;
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
            scope: KeyScope::Any,
        })
    }

    /// The key, for the zones of `scope` only.
    pub fn scoped(mut self, scope: KeyScope) -> Self {
        self.scope = scope;
        self
    }

    pub fn scope(&self) -> &KeyScope {
        &self.scope
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

    pub(crate) fn key_name(&self) -> &Name {
        &self.name
    }

    /// The key's HMAC of `data`.
    pub(crate) fn mac(&self, data: &[u8]) -> Vec<u8> {
        self.algorithm.mac(&self.secret, data)
    }

    /// Whether `mac` is the key's HMAC of `data` (in constant time; a
    /// truncated MAC is not accepted).
    pub(crate) fn verifies(&self, data: &[u8], mac: &[u8]) -> bool {
        let ours = self.mac(data);
        ours.len() == mac.len() && ours.iter().zip(mac).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// hickory's signer, for the algorithms it signs with (the clients'
    /// NOTIFYs and SOA queries); `None` for the others.
    pub(crate) fn signer(&self) -> Option<TSigner> {
        TSigner::new(
            self.secret.clone(),
            self.algorithm.to_hickory(),
            self.name.clone(),
            TSIG_FUDGE,
        )
        .ok()
    }
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name.to_ascii())
            .field("algorithm", &self.algorithm)
            .field("scope", &self.scope)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A network of sources (CIDR notation; an address alone is its own
/// network), such as a cluster's pod network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (addr, prefix) = text.split_once('/').unwrap_or((text, ""));
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?}: not an address or network"))?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => bits,
            digits => digits
                .parse()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: prefix length must be 0 to {bits}"))?,
        };
        Ok(Self {
            addr: addr.to_canonical(),
            prefix,
        })
    }
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Source addresses allowed to transfer zones unsigned, each with the pools
/// that list it (a requester's pools break ties between zones of one name),
/// and whole networks the operator allows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    sources: BTreeMap<IpAddr, BTreeSet<String>>,
    networks: BTreeSet<Network>,
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
            // Host names are resolved by the caller (`pool_host_names`).
            for ip in pool_hosts(pool).flat_map(|host| host_ips(&host)) {
                list.allow_for_pool(ip, &pool.id);
            }
        }
        list
    }

    /// Allows every address of `network`.
    pub fn allow_network(&mut self, network: Network) -> &mut Self {
        self.networks.insert(network);
        self
    }

    /// Adds the sources and networks of `other`, with their pools.
    pub fn merge(&mut self, other: AllowList) {
        for (ip, pools) in other.sources {
            self.sources.entry(ip).or_default().extend(pools);
        }
        self.networks.extend(other.networks);
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.sources.contains_key(&ip.to_canonical())
            || self.networks.iter().any(|network| network.contains(ip))
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
/// (unless `require_tsig`, or a key of the zone's pool or of the zone
/// exists) or signed with one of `keys` that covers the zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferPolicy {
    pub allowed: AllowList,
    pub keys: Vec<TsigKey>,
    /// Scopes of keys that exist but cannot be used here (no secret, an
    /// algorithm we do not verify, a name that is no DNS name): their
    /// zones still transfer only when signed, so a broken key fails closed.
    pub guarded: BTreeSet<KeyScope>,
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

    /// Whether a request may transfer (or NOTIFY) `zone` beyond the source
    /// check of [`Self::permits`]: signed with `key`, the key must be for
    /// the zone or its pool (or any zone); unsigned, no key may be for the
    /// zone or its pool.
    pub(crate) fn allows_zone(&self, zone: &ZoneRow, key: Option<&TsigKey>) -> bool {
        match key {
            Some(key) => key.scope.covers(zone),
            None => {
                !self.keys.iter().any(|k| k.scope.guards(zone))
                    && !self.guarded.iter().any(|s| s.guards(zone))
            }
        }
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
/// The servers of a pool: its nameservers (polled for serials), its
/// also-notify servers and its targets' `host` option.
fn pool_hosts(pool: &PoolRecord) -> impl Iterator<Item = String> + '_ {
    pool.nameservers
        .iter()
        .chain(&pool.also_notifies)
        .map(|HostPort { host, .. }| host.clone())
        .chain(target_hosts(&pool.targets))
}

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

/// The hosts of the pools given by name (not an address, nor `localhost`),
/// each with its pool's id: the caller resolves them and allows the
/// addresses for the pool.
pub fn pool_host_names(pools: &[PoolRecord]) -> Vec<(String, String)> {
    let mut names = Vec::new();
    for pool in pools {
        for host in pool_hosts(pool).filter(|host| host_ips(host).is_empty()) {
            names.push((host, pool.id.clone()));
        }
    }
    names
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
            ("k", "hmac-bogus", "c2VjcmV0"),
            ("k", "hmac-sha256", "not base64!"),
            ("k", "hmac-sha256", ""),
            ("", "hmac-sha256", "c2VjcmV0"),
        ] {
            let err = TsigKey::new(name, algorithm, secret).unwrap_err();
            assert_eq!(err.reason(), "InvalidTsigKey", "{err}");
        }
    }

    #[test]
    fn every_designate_algorithm_has_its_hmac() {
        // RFC 2202 and RFC 4231, test case 2.
        let hex = |bytes: Vec<u8>| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let mac = |algorithm: &str| {
            let algorithm: TsigAlgorithm = algorithm.parse().unwrap();
            hex(algorithm.mac(b"Jefe", b"what do ya want for nothing?"))
        };
        assert_eq!(mac("hmac-md5"), "750c783e6ab0b503eaa86e310a5db738");
        assert_eq!(
            mac("HMAC-MD5.SIG-ALG.REG.INT."),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert_eq!(mac("hmac-sha1"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert_eq!(
            mac("hmac-sha224"),
            "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"
        );
        assert_eq!(
            mac("hmac-sha256"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let key = TsigKey::new("k", "hmac-sha1", "SmVmZQ==").unwrap();
        let good = key.mac(b"data");
        assert!(key.verifies(b"data", &good));
        assert!(!key.verifies(b"data", &good[..10]));
        assert!(!key.verifies(b"datb", &good));
    }

    fn zone_row(id: &str, pool: &str) -> ZoneRow {
        use designate_central::{Soa, ZoneKind};
        ZoneRow {
            id: id.into(),
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
        }
    }

    #[test]
    fn keys_are_for_their_pool_or_zone_and_guard_them() {
        let key = |name: &str, scope| {
            TsigKey::new(name, "hmac-sha256", "c2VjcmV0")
                .unwrap()
                .scoped(scope)
        };
        let pool_key = key("pool-key", KeyScope::Pool("p1".into()));
        let zone_key = key("zone-key", KeyScope::Zone("z3".into()));
        let any_key = key("any-key", KeyScope::Any);
        let policy = TransferPolicy {
            keys: vec![pool_key.clone(), zone_key.clone(), any_key.clone()],
            ..Default::default()
        };
        let (in_pool, other_pool, own_zone) = (
            zone_row("z1", "p1"),
            zone_row("z2", "p2"),
            zone_row("z3", "p2"),
        );
        // Signed: the key must be for the zone, its pool, or any zone.
        assert!(policy.allows_zone(&in_pool, Some(&pool_key)));
        assert!(!policy.allows_zone(&other_pool, Some(&pool_key)));
        assert!(policy.allows_zone(&own_zone, Some(&zone_key)));
        assert!(!policy.allows_zone(&other_pool, Some(&zone_key)));
        assert!(policy.allows_zone(&other_pool, Some(&any_key)));
        // Unsigned: only zones no key is for.
        assert!(!policy.allows_zone(&in_pool, None));
        assert!(!policy.allows_zone(&own_zone, None));
        assert!(policy.allows_zone(&other_pool, None));
        // A key that cannot be used still guards its zones.
        let broken = TransferPolicy {
            guarded: BTreeSet::from([KeyScope::Pool("p2".into())]),
            ..Default::default()
        };
        assert!(!broken.allows_zone(&other_pool, None));
        assert!(broken.allows_zone(&in_pool, None));
        assert!(format!("{pool_key:?}").contains("Pool(\"p1\")"));
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

    #[test]
    fn networks_allow_every_address_in_them() {
        let mut list = AllowList::new();
        list.allow_network("10.244.0.0/16".parse().unwrap());
        list.allow_network("2001:db8::/32".parse().unwrap());
        list.allow_network("192.0.2.7".parse().unwrap());
        for inside in [
            "10.244.3.9",
            "2001:db8::1",
            "192.0.2.7",
            "::ffff:10.244.0.1",
        ] {
            assert!(list.contains(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["10.245.0.1", "2001:db9::1", "192.0.2.8"] {
            assert!(!list.contains(outside.parse().unwrap()), "{outside}");
        }
        assert!(
            "0.0.0.0/0"
                .parse::<Network>()
                .unwrap()
                .contains("203.0.113.1".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "example.net", "10.0.0.0/x"] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }

    #[test]
    fn pool_hosts_given_by_name_are_left_to_resolve() {
        let pools = [pool(
            "p1",
            &["ns1.example.net", "192.0.2.1", "localhost"],
            serde_json::json!([]),
        )];
        assert_eq!(
            pool_host_names(&pools),
            [("ns1.example.net".to_string(), "p1".to_string())]
        );
        let list = AllowList::from_pools(&pools);
        assert!(list.contains("192.0.2.1".parse().unwrap()));
    }
}
