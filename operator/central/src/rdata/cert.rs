//! Keys, certificates and CA authorisation: SSHFP, TLSA, CERT and CAA.

use super::{Verdict, domain::is_domain, py};

/// `<algorithm 0..4> <fp type 0..2> <fingerprint>`: canonical numbers, and
/// 10 to 40 or exactly 64 hex digits.
pub fn sshfp(data: &str) -> bool {
    let Some([algorithm, fp_type, fingerprint]) = py::unpack(data) else {
        return false;
    };
    py::canonical_int_in(algorithm, 0, 4)
        && py::canonical_int_in(fp_type, 0, 2)
        && matches!(fingerprint.len(), 10..=40 | 64)
        && fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `<usage> <selector> <matching type> <hex...>`: parentheses are dropped
/// and the hex may be split by any whitespace, newlines included. Matching
/// types 1 and 2 fix the length (SHA-256, SHA-512).
pub fn tlsa(data: &str) -> bool {
    let data = data.replace(['(', ')'], "");
    let fields: Vec<&str> = data.split(py::is_space).filter(|f| !f.is_empty()).collect();
    let [usage, selector, matching_type, hex @ ..] = &fields[..] else {
        return false;
    };
    if hex.is_empty() {
        return false;
    }
    let hex = hex.concat();
    let hex_len_ok = match py::int(matching_type) {
        Some(1) => hex.len() == 64,
        Some(2) => hex.len() == 128,
        _ => true,
    };
    hex_len_ok
        && py::is_hex(&hex)
        && hex.len() <= 65535
        && [usage, selector, matching_type]
            .iter()
            .all(|n| py::int_in(n, 0, 255))
}

/// RFC 4398 certificate type mnemonics Designate knows.
const CERT_TYPES: &[&str] = &[
    "PKIX", "SPKI", "PGP", "IPKIX", "ISPKI", "IPGP", "ACPKIX", "IACPKIX", "URI", "OID", "DPKIX",
    "DPTR",
];

/// DNSSEC algorithm mnemonics Designate knows.
const CERT_ALGORITHMS: &[&str] = &[
    "RSAMD5",
    "DSA",
    "RSASHA1",
    "DSA-NSEC3-SHA1",
    "RSASHA1-NSEC3-SHA1",
    "RSASHA256",
    "RSASHA512",
    "ECC-GOST",
    "ECDSAP256SHA256",
    "ECDSAP384SHA384",
    "ED25519",
    "ED448",
];

/// `<type> <key tag> <algorithm> <certificate>`: type and algorithm are a
/// known mnemonic or plain ASCII digits (0..65535, 0..255); the certificate
/// is the rest of the line, base64 read leniently (spaces and other
/// non-alphabet characters skipped), and may be empty.
pub fn cert(data: &str) -> bool {
    let mut fields = data.splitn(4, ' ');
    let (Some(cert_type), Some(key_tag), Some(algorithm), Some(certificate)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    let mnemonic_or_number = |s: &str, known: &[&str], max: i64| {
        known.contains(&s)
            || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && py::int_in(s, 0, max))
    };
    mnemonic_or_number(cert_type, CERT_TYPES, 65535)
        && py::int_in(key_tag, 0, 65535)
        && mnemonic_or_number(algorithm, CERT_ALGORITHMS, 255)
        && !certificate.contains('\n')
        && py::b64decode_ok(certificate.as_bytes())
}

/// What Designate answers for a CAA record whose property has no space (its
/// parser indexes past the end of a list).
const CAA_NO_VALUE: &str =
    "Provided object is not valid. Got a IndexError error with message list index out of range";

/// `<flags 0..1> <tag> <value>`, with the value unquoted: `issue` and
/// `issuewild` take a domain (no trailing dot) and `; key=value` pairs,
/// `iodef` a `mailto:` address or an `http(s)://host/` URL without a port.
pub fn caa(data: &str) -> Verdict {
    let Some((flags, property)) = data.split_once(' ') else {
        return Verdict::Invalid;
    };
    if !py::int_in(flags, 0, 1) {
        return Verdict::Invalid;
    }
    let Some((tag, value)) = property.split_once(' ') else {
        return Verdict::Crash(CAA_NO_VALUE);
    };
    let ok = match tag {
        "issue" | "issuewild" => {
            let mut entries = value.split(';');
            entries.next().is_some_and(is_host) && entries.all(is_key_value)
        }
        "iodef" => iodef_host(value).is_some_and(is_host),
        _ => false,
    };
    ok.into()
}

/// A domain written without its trailing dot.
fn is_host(s: &str) -> bool {
    is_domain(&format!("{s}."))
}

/// `RE_KVP` (matched at the start only): a space, then `[A-Za-z0-9]+=[A-Za-z0-9]+`;
/// whatever follows is ignored.
fn is_key_value(entry: &str) -> bool {
    let mut chars = entry.chars();
    if !chars.next().is_some_and(py::is_space) {
        return false;
    }
    let rest = chars.as_str();
    let key_len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
    key_len > 0
        && rest[key_len..]
            .strip_prefix('=')
            .is_some_and(|v| v.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()))
}

/// The host an iodef URL names: after the `@` of a `mailto:` address
/// (`RE_URL_MAIL`), or between `//` and the next `/` of an http(s) URL
/// (`RE_URL_HTTP`, which wants a `/` after the host on the same line).
fn iodef_host(url: &str) -> Option<&str> {
    if let Some(address) = url.strip_prefix("mailto:") {
        let local_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        let (local, rest) = address.split_once('@')?;
        let plain = match local.split_once('+') {
            Some((user, tag)) => local_ok(user) && local_ok(tag),
            None => local_ok(local),
        };
        if plain {
            return Some(rest.split('@').next().unwrap_or(rest));
        }
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let line = rest.split('\n').next().unwrap_or(rest);
    if !line.contains('/') {
        return None;
    }
    Some(rest.split('/').next().unwrap_or(rest))
}
