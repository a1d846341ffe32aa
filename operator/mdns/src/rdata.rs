//! Stored rdata (presentation format, kept verbatim as Designate keeps it)
//! as wire rdata, read the way Central validated it (pure).
//!
//! hickory's zone-file parsers are stricter than Designate in places and
//! looser in others, so the types whose text Central reads field by field
//! are converted here to wire format with Central's own splitting, then
//! decoded by hickory into typed rdata:
//! - SVCB and HTTPS: params as Central's dict (first position, last value),
//!   emitted in ascending key order as RFC 9460 requires on the wire (the
//!   presentation order is free, `ipv4hint=... port=...` included), with
//!   `dohpath` (key 7, RFC 9461), which hickory does not know;
//! - names (CNAME, NS, PTR, MX, SRV, SOA, NAPTR, SVCB targets): any label
//!   Central accepts (`foo_bar`, which hickory's IDNA check refuses), case kept;
//! - numbers read by Python's `int()` as Central reads them;
//! - CAA: flags, tag, and the value verbatim (hickory rewrites it);
//! - CERT: type and algorithm mnemonics, base64 read leniently.
//!
//! The other types go through hickory's parsers, with a fallback for the
//! TXT and SPF strings Central accepts that a zone file would not (a lone
//! `"`, a trailing `\"`, unquoted text over 255 octets).

use designate_central::rdata::{SvcbFields, py, svcb_fields};
use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::{RData, RecordType};
use hickory_proto::serialize::binary::{BinDecoder, Restrict};

/// SPF (RFC 4408): TXT's rdata under its own type code.
pub(crate) const SPF: u16 = 99;

/// The rdata of a stored record of `type_` (upper case, as stored).
pub(crate) fn to_rdata(type_: &str, data: &str) -> Result<RData, String> {
    let wire = match type_ {
        "CNAME" | "NS" | "PTR" => name(data)?,
        "MX" => mx(data)?,
        "SRV" => srv(data)?,
        "SOA" => soa(data)?,
        "NAPTR" => naptr(data)?,
        "CAA" => caa(data)?,
        "CERT" => cert(data)?,
        "SVCB" | "HTTPS" => svcb(data)?,
        "TXT" | "SPF" => text(data)?,
        _ => {
            let record_type: RecordType = type_.parse().map_err(|e| format!("type: {e}"))?;
            return RData::try_from_str(record_type, data).map_err(|e| e.to_string());
        }
    };
    let record_type = if type_ == "SPF" {
        RecordType::from(SPF)
    } else {
        type_.parse().map_err(|e| format!("type: {e}"))?
    };
    decode(record_type, &wire)
}

/// The wire rdata as hickory's typed rdata, or as opaque rdata of its type
/// where hickory's decoder is stricter than the type (a CERT without
/// certificate, say): the wire is served as built either way.
fn decode(record_type: RecordType, wire: &[u8]) -> Result<RData, String> {
    let length = u16::try_from(wire.len()).map_err(|_| "rdata over 65535 octets".to_string())?;
    let mut decoder = BinDecoder::new(wire);
    match RData::read(&mut decoder, record_type, Restrict::new(length)) {
        Ok(rdata) if decoder.is_empty() => Ok(rdata),
        _ => Ok(RData::Unknown {
            code: record_type,
            rdata: NULL::with(wire.to_vec()),
        }),
    }
}

/// Python's `int(s)` in `0..=max`.
fn int(s: &str, max: u32) -> Result<u32, String> {
    py::int(s)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n <= max)
        .ok_or_else(|| format!("bad number {s:?}"))
}

fn u16_of(s: &str) -> Result<[u8; 2], String> {
    Ok((int(s, 65535)? as u16).to_be_bytes())
}

/// `s.split(' ')` into exactly `N` fields, as Central splits.
fn unpack<const N: usize>(data: &str) -> Result<[&str; N], String> {
    py::unpack(data).ok_or_else(|| format!("expected {N} fields"))
}

/// A domain name in presentation format as uncompressed wire: labels split
/// at unescaped dots, `\X` and `\DDD` escapes read, any other octet kept.
/// Relative names are read as absolute (Central only accepts absolute ones).
fn name(s: &str) -> Result<Vec<u8>, String> {
    let mut wire = Vec::new();
    if s != "." {
        let mut label = Vec::new();
        let mut bytes = s.strip_suffix('.').unwrap_or(s).bytes();
        let end_label = |label: &mut Vec<u8>, wire: &mut Vec<u8>| {
            if label.is_empty() || label.len() > 63 {
                return Err(format!("bad label in {s:?}"));
            }
            wire.push(label.len() as u8);
            wire.append(label);
            Ok(())
        };
        while let Some(b) = bytes.next() {
            match b {
                b'.' => end_label(&mut label, &mut wire)?,
                b'\\' => {
                    label.push(unescape(&mut bytes).ok_or_else(|| format!("bad escape in {s:?}"))?)
                }
                _ => label.push(b),
            }
        }
        end_label(&mut label, &mut wire)?;
    }
    wire.push(0);
    if wire.len() > 255 {
        return Err(format!("name too long: {s:?}"));
    }
    Ok(wire)
}

/// The octet of an escape, the backslash already read: `\DDD` or `\X`.
fn unescape(bytes: &mut impl Iterator<Item = u8>) -> Option<u8> {
    let first = bytes.next()?;
    if !first.is_ascii_digit() {
        return Some(first);
    }
    let mut value = u32::from(first - b'0');
    for _ in 0..2 {
        let digit = bytes.next().filter(u8::is_ascii_digit)?;
        value = value * 10 + u32::from(digit - b'0');
    }
    u8::try_from(value).ok()
}

/// A `<character-string>`: its text with escapes read, at most 255 octets.
fn char_string(text: &str) -> Result<Vec<u8>, String> {
    let mut out = vec![0];
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        out.push(if b == b'\\' {
            unescape(&mut bytes).ok_or_else(|| format!("bad escape in {text:?}"))?
        } else {
            b
        });
    }
    out[0] =
        u8::try_from(out.len() - 1).map_err(|_| format!("string over 255 octets: {text:?}"))?;
    Ok(out)
}

fn mx(data: &str) -> Result<Vec<u8>, String> {
    let [preference, exchange] = unpack(data)?;
    Ok([&u16_of(preference)?[..], &name(exchange)?].concat())
}

fn srv(data: &str) -> Result<Vec<u8>, String> {
    let [priority, weight, port, target] = unpack(data)?;
    Ok([
        &u16_of(priority)?[..],
        &u16_of(weight)?,
        &u16_of(port)?,
        &name(target)?,
    ]
    .concat())
}

fn soa(data: &str) -> Result<Vec<u8>, String> {
    let [mname, rname, numbers @ ..] = unpack::<7>(data)?;
    let mut wire = [name(mname)?, name(rname)?].concat();
    for n in numbers {
        wire.extend(int(n, u32::MAX)?.to_be_bytes());
    }
    Ok(wire)
}

/// `<order> <preference> <flags> <service> <regexp> <replacement>`, the
/// strings each optionally wrapped in quotes (a lone `"` is empty).
fn naptr(data: &str) -> Result<Vec<u8>, String> {
    let [order, preference, flags, service, regexp, replacement] = unpack(data)?;
    let unquote = |s: &str| {
        if s.starts_with('"') && s.ends_with('"') {
            s.get(1..s.len() - 1).unwrap_or("").to_string()
        } else {
            s.to_string()
        }
    };
    Ok([
        &u16_of(order)?[..],
        &u16_of(preference)?,
        &char_string(&unquote(flags))?,
        &char_string(&unquote(service))?,
        &char_string(&unquote(regexp))?,
        &name(replacement)?,
    ]
    .concat())
}

/// `<flags> <tag> <value>`: the value is the rest of the text, unquoted.
fn caa(data: &str) -> Result<Vec<u8>, String> {
    let (flags, property) = data.split_once(' ').ok_or("no tag")?;
    let (tag, value) = property.split_once(' ').ok_or("no value")?;
    let flags = int(flags, 255)? as u8;
    let tag_len = u8::try_from(tag.len()).map_err(|_| "tag too long")?;
    Ok([&[flags, tag_len][..], tag.as_bytes(), value.as_bytes()].concat())
}

/// RFC 4398 certificate types by mnemonic.
const CERT_TYPES: &[(&str, u16)] = &[
    ("PKIX", 1),
    ("SPKI", 2),
    ("PGP", 3),
    ("IPKIX", 4),
    ("ISPKI", 5),
    ("IPGP", 6),
    ("ACPKIX", 7),
    ("IACPKIX", 8),
    ("URI", 253),
    ("OID", 254),
];

/// DNSSEC algorithms by mnemonic.
const CERT_ALGORITHMS: &[(&str, u8)] = &[
    ("RSAMD5", 1),
    ("DSA", 3),
    ("RSASHA1", 5),
    ("DSA-NSEC3-SHA1", 6),
    ("RSASHA1-NSEC3-SHA1", 7),
    ("RSASHA256", 8),
    ("RSASHA512", 10),
    ("ECC-GOST", 12),
    ("ECDSAP256SHA256", 13),
    ("ECDSAP384SHA384", 14),
    ("ED25519", 15),
    ("ED448", 16),
];

/// `<type> <key tag> <algorithm> <certificate...>`.
fn cert(data: &str) -> Result<Vec<u8>, String> {
    let mut fields = data.splitn(4, ' ');
    let (Some(cert_type), Some(key_tag), Some(algorithm), Some(certificate)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err("expected 4 fields".into());
    };
    let cert_type = match CERT_TYPES.iter().find(|(m, _)| *m == cert_type) {
        Some(&(_, code)) => code,
        None => int(cert_type, 65535)? as u16,
    };
    let algorithm = match CERT_ALGORITHMS.iter().find(|(m, _)| *m == algorithm) {
        Some(&(_, code)) => code,
        None => int(algorithm, 255)? as u8,
    };
    Ok([
        &cert_type.to_be_bytes()[..],
        &u16_of(key_tag)?,
        &[algorithm],
        &b64decode(certificate)?,
    ]
    .concat())
}

/// Python's non-validating `base64.b64decode`: characters outside the
/// alphabet are skipped, and `=` ends the input once it completes a quantum.
fn b64decode(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let mut kept = String::new();
    let (mut quad, mut pads) = (0u8, 0u8);
    for c in text.chars() {
        if c == '=' {
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    break;
                }
            }
        } else if c.is_ascii_alphanumeric() || c == '+' || c == '/' {
            kept.push(c);
            pads = 0;
            quad = (quad + 1) % 4;
        }
    }
    if quad == 1 {
        return Err(format!("bad base64 {text:?}"));
    }
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(kept)
        .map_err(|e| format!("bad base64 {text:?}: {e}"))
}

/// SvcParamKeys by name (RFC 9460, `dohpath` from RFC 9461).
const SVC_KEYS: &[(&str, u16)] = &[
    ("mandatory", 0),
    ("alpn", 1),
    ("no-default-alpn", 2),
    ("port", 3),
    ("ipv4hint", 4),
    ("ech", 5),
    ("ipv6hint", 6),
    ("dohpath", 7),
];

fn svc_key(name: &str) -> Result<u16, String> {
    SVC_KEYS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, code)| code)
        .ok_or_else(|| format!("unknown SvcParamKey {name:?}"))
}

/// `<priority> <target> [key=value ...]`: the params as Central's dict, on the
/// wire in ascending key order.
fn svcb(data: &str) -> Result<Vec<u8>, String> {
    let SvcbFields {
        priority,
        target,
        params,
    } = svcb_fields(data).ok_or("bad SvcParams")?;
    let mut wire = [&u16_of(priority)?[..], &name(target)?].concat();
    let mut encoded = Vec::with_capacity(params.len());
    for (key, value) in &params {
        let code = svc_key(key)?;
        let list = || value.trim().split(',');
        let value: Vec<u8> = match code {
            0 => {
                // Sorted, once each, and never `mandatory` itself (RFC 9460
                // section 8): nameservers refuse the record otherwise.
                let mut keys = list().map(svc_key).collect::<Result<Vec<_>, _>>()?;
                keys.retain(|&k| k != 0);
                keys.sort_unstable();
                keys.dedup();
                if keys.is_empty() {
                    continue;
                }
                keys.iter().flat_map(|k| k.to_be_bytes()).collect()
            }
            1 => {
                let mut ids = Vec::new();
                for id in list() {
                    ids.extend(char_string(id)?);
                }
                ids
            }
            2 => Vec::new(),
            3 => u16_of(value)?.to_vec(),
            4 => list()
                .map(|a| a.parse::<std::net::Ipv4Addr>().map(|a| a.octets()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("ipv4hint {value:?}: {e}"))?
                .concat(),
            5 => b64decode(value)?,
            6 => list()
                .map(|a| a.parse::<std::net::Ipv6Addr>().map(|a| a.octets()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("ipv6hint {value:?}: {e}"))?
                .concat(),
            _ => value.as_bytes().to_vec(),
        };
        encoded.push((code, value));
    }
    encoded.sort_by_key(|(code, _)| *code);
    for (code, value) in encoded {
        let len = u16::try_from(value.len()).map_err(|_| "SvcParam too long")?;
        wire.extend(code.to_be_bytes());
        wire.extend(len.to_be_bytes());
        wire.extend(value);
    }
    Ok(wire)
}

/// TXT and SPF strings as Central reads them: bare text, or wrapped in
/// quotes (an opening or a closing one is enough) with `\"` and the other
/// escapes read and a dangling `\` kept; beyond 255 characters, several
/// `"..." "..."` strings. A string over 255 octets is cut into 255-octet
/// strings.
fn text(data: &str) -> Result<Vec<u8>, String> {
    let quoted = data.starts_with('"') || data.ends_with('"');
    let pieces: Vec<&str> = if quoted {
        let inner = data.strip_prefix('"').unwrap_or(data);
        let inner = inner.strip_suffix('"').unwrap_or(inner);
        if data.chars().count() > 255 {
            inner.split("\" \"").collect()
        } else {
            vec![inner]
        }
    } else {
        vec![data]
    };
    let mut wire = Vec::new();
    for piece in pieces {
        let mut octets = Vec::new();
        let mut bytes = piece.bytes().peekable();
        while let Some(b) = bytes.next() {
            if b == b'\\' && bytes.peek().is_some() {
                octets.push(unescape(&mut bytes).ok_or_else(|| format!("bad escape in {data:?}"))?);
            } else {
                octets.push(b);
            }
        }
        if octets.is_empty() {
            wire.push(0);
        }
        for chunk in octets.chunks(255) {
            wire.push(chunk.len() as u8);
            wire.extend_from_slice(chunk);
        }
    }
    Ok(wire)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

    fn wire(type_: &str, data: &str) -> Vec<u8> {
        assert!(
            designate_central::rdata::normalize(type_, data).is_some(),
            "Central refuses {type_} {data:?}"
        );
        let rdata = to_rdata(type_, data).unwrap_or_else(|e| panic!("{type_} {data:?}: {e}"));
        let mut bytes = Vec::new();
        rdata
            .emit(&mut BinEncoder::new(&mut bytes))
            .unwrap_or_else(|e| panic!("{type_} {data:?}: {e}"));
        bytes
    }

    fn labels(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for label in names {
            out.push(label.len() as u8);
            out.extend(label.as_bytes());
        }
        out.push(0);
        out
    }

    /// tempest's `test_create_HTTPS_with`: params out of key order in the
    /// text (ipv4hint=4 before port=3) go on the wire sorted, or hickory
    /// refuses to encode the record and the zone never transfers.
    #[test]
    fn svcb_params_are_sorted_on_the_wire() {
        let data = "1 sample.example.org. alpn=h3,h2,http/1.1 ipv4hint=1.2.3.4,9.8.7.6 port=4443";
        let mut want = vec![0, 1];
        want.extend(labels(&["sample", "example", "org"]));
        want.extend([0, 1, 0, 15, 2, b'h', b'3', 2, b'h', b'2', 8]);
        want.extend(b"http/1.1");
        want.extend([0, 3, 0, 2, 0x11, 0x5b]);
        want.extend([0, 4, 0, 8, 1, 2, 3, 4, 9, 8, 7, 6]);
        assert_eq!(wire("HTTPS", data), want);
        assert_eq!(wire("SVCB", data), want);
    }

    #[test]
    fn svcb_keys_follow_centrals_dict() {
        // mandatory lists its keys sorted; a repeated key keeps its last
        // value; a multi-`=` param is dropped, as Central reads them.
        let sorted = wire(
            "HTTPS",
            "1 a. ipv4hint=192.168.1.2 alpn=h2 mandatory=ipv4hint,alpn",
        );
        let mut want = vec![0, 1, 1, b'a', 0];
        want.extend([0, 0, 0, 4, 0, 1, 0, 4]);
        want.extend([0, 1, 0, 3, 2, b'h', b'2']);
        want.extend([0, 4, 0, 4, 192, 168, 1, 2]);
        assert_eq!(sorted, want);
        assert_eq!(
            wire("HTTPS", "1 a. alpn=h2 alpn=foo=bar"),
            wire("HTTPS", "1 a. alpn=h2")
        );
        assert_eq!(
            wire("HTTPS", "1 a. port=1 alpn=h2 port=443"),
            wire("HTTPS", "1 a. alpn=h2 port=443")
        );
    }

    #[test]
    fn svcb_dohpath_is_key_7() {
        let bytes = wire(
            "SVCB",
            "1 doh.example. dohpath=/dns-query{?dns} alpn=h2 ech=c2FtcGxlLmV4YW1wbGUub3JnLg==",
        );
        let dohpath = b"/dns-query{?dns}";
        let tail = [&[0, 7, 0, dohpath.len() as u8][..], dohpath].concat();
        assert!(bytes.ends_with(&tail), "{bytes:?}");
        assert!(
            bytes
                .windows(4)
                .any(|w| w == [0, 5, 0, b"sample.example.org.".len() as u8])
        );
    }

    /// Names Central accepts that hickory's IDNA check refuses (an `_`
    /// inside a label), with their case kept.
    #[test]
    fn names_take_any_label_central_accepts() {
        let target = labels(&["foo_bar", "Example", "ORG"]);
        assert_eq!(wire("CNAME", "foo_bar.Example.ORG."), target);
        assert_eq!(wire("PTR", "foo_bar.Example.ORG."), target);
        assert_eq!(wire("NS", "foo_bar.Example.ORG."), target);
        assert_eq!(
            wire("MX", "10 Mail_Server.example."),
            [&[0, 10][..], &labels(&["Mail_Server", "example"])].concat()
        );
        assert_eq!(wire("MX", "10 ."), vec![0, 10, 0]);
        assert_eq!(wire("MX", "10 !."), vec![0, 10, 1, b'!', 0]);
        assert_eq!(
            wire("SRV", "10 0 5060 sip_1.example.org."),
            [
                &[0, 10, 0, 0, 0x13, 0xc4][..],
                &labels(&["sip_1", "example", "org"])
            ]
            .concat()
        );
    }

    #[test]
    fn numbers_are_read_like_central() {
        assert_eq!(wire("SRV", "010 +0 5_060 a."), wire("SRV", "10 0 5060 a."));
        assert_eq!(wire("SRV", "١٠ 0 5060 a."), wire("SRV", "10 0 5060 a."));
        let soa = wire(
            "SOA",
            "ns1.example.org. first.last.example.com. 4294967295 2147483647 0 0 0",
        );
        assert!(soa.ends_with(&[
            255, 255, 255, 255, 127, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        ]));
    }

    #[test]
    fn caa_value_is_verbatim() {
        let value = "ca.example.net; policy=ev";
        assert_eq!(
            wire("CAA", &format!("1 issuewild {value}")),
            [&[1, 9][..], b"issuewild", value.as_bytes()].concat()
        );
        assert_eq!(
            wire("CAA", "0 iodef mailto:security@example.net"),
            [&[0, 5][..], b"iodef", b"mailto:security@example.net"].concat()
        );
    }

    #[test]
    fn cert_mnemonics_and_lenient_base64() {
        assert_eq!(
            wire("CERT", "PKIX 1 RSASHA256 QUJD"),
            vec![0, 1, 0, 1, 8, b'A', b'B', b'C']
        );
        assert_eq!(
            wire("CERT", "1 1 1 QQ é QQ"),
            vec![0, 1, 0, 1, 1, 0x41, 0x04, 0x10]
        );
        assert_eq!(wire("CERT", "PGP 0 DSA-NSEC3-SHA1 "), vec![0, 3, 0, 0, 6]);
        assert_eq!(
            wire("CERT", "URI 65535 ED448 QQ== QQ=="),
            vec![0, 253, 255, 255, 16, b'A']
        );
    }

    #[test]
    fn naptr_strings_are_unquoted() {
        let want = [
            &[0, 100, 0, 10, 1, b'S', 7][..],
            b"SIP+D2U",
            &[0],
            &labels(&["_sip", "_udp", "example", "com"]),
        ]
        .concat();
        assert_eq!(
            wire(
                "NAPTR",
                "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."
            ),
            want
        );
        assert_eq!(
            wire("NAPTR", "100 10 S SIP+D2U \"\" _sip._udp.example.com."),
            want
        );
    }

    #[test]
    fn text_strings_as_central_reads_them() {
        let one = |s: &[u8]| [&[s.len() as u8][..], s].concat();
        assert_eq!(wire("TXT", "foo"), one(b"foo"));
        assert_eq!(wire("TXT", "\"foo bar\""), one(b"foo bar"));
        assert_eq!(
            wire("TXT", "\"a \\\"quoted\\\" word\""),
            one(b"a \"quoted\" word")
        );
        assert_eq!(wire("TXT", "\""), vec![0]);
        assert_eq!(wire("TXT", "\"foo\\\""), one(b"foo\\"));
        let (a, b) = ("a".repeat(200), "b".repeat(200));
        assert_eq!(
            wire("TXT", &format!("\"{a}\" \"{b}\"")),
            [one(a.as_bytes()), one(b.as_bytes())].concat()
        );
        assert_eq!(
            wire("TXT", &"x".repeat(255)),
            one("x".repeat(255).as_bytes())
        );
        assert_eq!(
            wire("SPF", "\"v=spf1 include:_spf.example.org ~all\""),
            one(b"v=spf1 include:_spf.example.org ~all")
        );
        assert_eq!(
            wire("SPF", &"x".repeat(300)),
            [
                one("x".repeat(255).as_bytes()),
                one("x".repeat(45).as_bytes())
            ]
            .concat()
        );
        assert_eq!(wire("SPF", "foo bar\""), one(b"foo bar"));
    }

    /// The records Designate's docs and tempest create, one of each type.
    #[test]
    fn every_type_central_accepts_converts() {
        for (type_, data) in [
            ("A", "192.0.2.1"),
            ("AAAA", "2001:db8::1"),
            ("CNAME", "www.example.org."),
            ("MX", "10 mail.example.org."),
            ("SRV", "10 0 5060 server1.example.org."),
            ("TXT", "\"v=spf1 ip4:192.0.2.0/24 -all\""),
            ("SPF", "\"v=spf1 include:_spf.example.org ~all\""),
            ("NS", "ns1.example.org."),
            ("PTR", "server1.example.org."),
            (
                "SSHFP",
                "4 2 72d30d211ce8c464de2811e534de23b9be9b4dc4a1b2c3d4e5f60718293a4b5c",
            ),
            (
                "SOA",
                "ns1.example.org. admin.example.org. 1 3600 600 86400 3600",
            ),
            (
                "NAPTR",
                "0 0 S SIP+D2U !^.*$!sip:customer-service@example.com! _sip._udp.example.com.",
            ),
            ("CAA", "0 issue letsencrypt.org"),
            (
                "CERT",
                "DPKIX 1 RSASHA256 KR1L0GbocaIOOim1+qdHtOSrDcOsGiI2NCcxuX2/Tqc=",
            ),
            ("HTTPS", "1 www.example.org. alpn=h2"),
            (
                "SVCB",
                "1 svc.example.org. alpn=h3 ipv4hint=1.2.3.4 dohpath=/dns-query{?dns}",
            ),
            (
                "TLSA",
                "3 1 1 72d30d211ce8c464de2811e534de23b9be9b4dc4a1b2c3d4e5f60718293a4b5c",
            ),
        ] {
            if type_ == "CERT" {
                // DPKIX has no registered code: Central accepts it, nothing
                // can serve it; a numbered type is fine.
                assert!(to_rdata(type_, data).is_err());
                wire(
                    "CERT",
                    "PKIX 1 RSASHA256 KR1L0GbocaIOOim1+qdHtOSrDcOsGiI2NCcxuX2/Tqc=",
                );
                continue;
            }
            wire(type_, data);
        }
    }
}
