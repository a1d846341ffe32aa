//! SVCB and HTTPS (RFC 9460): `<priority> <target> [key=value ...]`, with the
//! subset of SvcParams Designate supports.
//!
//! Designate keeps params in a dict: a repeated key keeps its first position
//! and its last value. A param with more than one `=` is silently dropped
//! unless it starts with `ech` (base64 padding): there, the `=`-separated
//! pieces are glued back with each empty piece read as one `=`.

use super::{address, domain::is_domain, py};

/// ALPN ids Designate accepts.
const ALPNS: &[&str] = &["h3", "h2", "h2c", "http/1.1", "http/1.0"];

/// What the recordset-level rule needs from a valid record.
pub struct Svcb {
    alpn: Option<String>,
    has_dohpath: bool,
}

impl Svcb {
    /// The rule for SVCB sets whose name contains `_dns` (DNS servers):
    /// `alpn` is required, and `dohpath` is too when it lists h2 or h3.
    pub fn fits_dns_name(&self) -> bool {
        self.alpn.as_deref().is_some_and(|alpn| {
            self.has_dohpath || !alpn.split(',').any(|a| a == "h2" || a == "h3")
        })
    }
}

/// An SVCB or HTTPS record split as Designate splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvcbFields<'a> {
    pub priority: &'a str,
    pub target: &'a str,
    /// `(key, value)` in first-seen order, a repeated key keeping its last
    /// value, multi-`=` params other than `ech` dropped; `no-default-alpn`
    /// has an empty value.
    pub params: Vec<(String, String)>,
}

/// Splits a record into priority, target and the params dict.
pub fn fields(data: &str) -> Option<SvcbFields<'_>> {
    let fields: Vec<&str> = data.split(' ').collect();
    let [priority, target, params @ ..] = &fields[..] else {
        return None;
    };
    Some(SvcbFields {
        priority,
        target,
        params: collect_params(params)?,
    })
}

/// Parses and validates one record; `https` drops `dohpath` from the keys.
pub fn parse(data: &str, https: bool) -> Option<Svcb> {
    let SvcbFields {
        priority,
        target,
        params,
    } = fields(data)?;
    for (key, value) in &params {
        // Designate stores each param as `key=value` in a length-limited field.
        let fits = |max: usize| key.len() + 1 + py::len(value) <= max;
        let ok = match key.as_str() {
            "no-default-alpn" => params.iter().any(|(k, _)| k == "alpn"),
            "alpn" => value.split(',').all(|a| ALPNS.contains(&a)) && fits(255),
            "mandatory" => {
                let keys: Vec<&str> = value.split(',').collect();
                keys.iter().all(|k| params.iter().any(|(p, _)| p == k))
                    && keys.len() <= params.len()
                    && fits(255)
            }
            "ipv4hint" => value.split(',').all(address::is_ipv4) && fits(255),
            "ipv6hint" => value.split(',').all(address::is_ipv6_dnspython) && fits(255),
            "port" => py::is_numeric(value) && fits(10),
            "ech" => {
                !value.contains('\\')
                    && value.is_ascii()
                    && py::b64decode_ok(value.as_bytes())
                    && fits(255)
            }
            "dohpath" if !https => {
                value.starts_with('/')
                    && py::len(value) >= 7
                    && value.contains("{?dns}")
                    && fits(255)
            }
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    if !py::int_in(priority, 0, 65535) || !is_domain(target) {
        return None;
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    Some(Svcb {
        alpn: param("alpn"),
        has_dohpath: param("dohpath").is_some(),
    })
}

/// The params as Designate's dict, in first-seen order; the bare
/// `no-default-alpn` flag gets an empty value (only its key matters).
fn collect_params(params: &[&str]) -> Option<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for param in params {
        let (key, value) = if *param == "no-default-alpn" {
            (*param, String::new())
        } else {
            let pieces: Vec<&str> = param.split('=').collect();
            match pieces[..] {
                [_] => return None,
                [key, value] => (key, value.to_string()),
                [key, ..] if param.starts_with("ech") => {
                    let glued = pieces[1..]
                        .iter()
                        .map(|p| if p.is_empty() { "=" } else { p });
                    (key, glued.collect())
                }
                _ => continue,
            }
        };
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key.to_string(), value)),
        }
    }
    Some(out)
}
