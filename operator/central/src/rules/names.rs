//! Name syntax as Designate's object fields check it (`objects/fields.py`:
//! `DomainField`, `HostField`, `SRVField`, `EmailField`, and the regexes of
//! `common/constants.py`). The regexes use look-arounds, which the `regex`
//! crate lacks, so they are written out by hand.

/// Which of Designate's name fields a name is checked as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NameField {
    /// `DomainField`: zone names, NS recordset names (`RE_ZONENAME`).
    Domain,
    /// `HostField`: recordset names (`RE_HOSTNAME`: a leading `*` label too).
    Host,
}

/// Python's `len()`: Designate's lengths count characters, not bytes.
pub(super) fn py_len(s: &str) -> usize {
    s.chars().count()
}

/// `[A-Za-z0-9_-]{1,63}`, neither starting nor ending with `-`.
fn is_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// `RE_ZONENAME` (`wildcard == false`) or `RE_HOSTNAME` (`wildcard == true`):
/// fewer than 255 characters, one or more labels each followed by a dot.
pub(super) fn matches_name_re(name: &str, wildcard: bool) -> bool {
    if py_len(name) >= 255 {
        return false;
    }
    let Some(body) = name.strip_suffix('.') else {
        return false;
    };
    body.split('.')
        .enumerate()
        .all(|(i, label)| (wildcard && i == 0 && label == "*") || is_label(label))
}

/// `RE_SRV_HOST_NAME`: two `_label.` labels, then a zone name of fewer than
/// 255 characters. Designate does not forbid a trailing `-` in the first two.
pub(super) fn matches_srv_re(name: &str) -> bool {
    let mut parts = name.splitn(3, '.');
    let (Some(service), Some(proto), Some(rest)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let underscore_label = |l: &str| {
        l.strip_prefix('_').is_some_and(|tail| {
            (1..=63).contains(&tail.len())
                && tail
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
    };
    underscore_label(service) && underscore_label(proto) && matches_name_re(rest, false)
}

/// `DomainField` / `HostField` `coerce()` (with `maxLength=255` where
/// Designate sets it): the `ValueError` message of the first rule broken.
pub(super) fn name_field_error(
    name: &str,
    field: NameField,
    attr: &str,
    max_len: Option<usize>,
) -> Option<String> {
    if max_len.is_some_and(|max| py_len(name) > max) {
        return Some(format!("Value too long for {attr}"));
    }
    if let Some(label) = name.split('.').find(|l| py_len(l) > 63) {
        return Some(format!("Host {label} is too long"));
    }
    let (what, wildcard) = match field {
        NameField::Domain => ("Domain", false),
        NameField::Host => ("Host name", true),
    };
    if !name.ends_with('.') {
        return Some(format!("{what} {name} does not end with a dot"));
    }
    if !matches_name_re(name, wildcard) {
        return Some(format!("{what} {name} is invalid"));
    }
    None
}

/// `EmailField(maxLength=255)`: one `@`, and usable as an SOA RNAME.
pub(super) fn email_field_error(email: &str) -> Option<String> {
    if py_len(email) > 255 {
        return Some("Value too long for email".into());
    }
    if email.matches('@').count() != 1 {
        return Some(format!("{email} is not an email"));
    }
    if !matches_name_re(&format!("{}.", email.replace('@', ".")), false) {
        return Some(format!("Email {email} is invalid"));
    }
    None
}

/// Designate's `utils.split_host_port`: `host:port`, or the whole string as
/// the host with port 53 when what follows the first `:` is not an integer.
pub fn split_host_port(master: &str) -> (&str, i64) {
    master
        .split_once(':')
        .and_then(|(host, port)| Some((host, port.parse().ok()?)))
        .unwrap_or((master, 53))
}

/// Where a secondary zone's master is: its host (an address or a name,
/// without brackets) and port (53 unless given), from `host:port`,
/// `[v6]:port`, `host` or a bare IPv6 address.
pub fn master_endpoint(master: &str) -> (&str, u16) {
    if let Some((host, port)) = master
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
    {
        let port = port.strip_prefix(':').and_then(|p| p.parse().ok());
        return (host, port.unwrap_or(53));
    }
    match master.split_once(':') {
        // One colon: a port; more: a bare IPv6 address.
        Some((host, port)) if !port.contains(':') => (host, port.parse().unwrap_or(53)),
        _ => (master, 53),
    }
}

/// Designate's `_TLSA_NAME_RE` (`^_(\d{1,5})\._[a-zA-Z]+\.`): the port, or
/// `None` when the name does not start with `_port._proto.`.
pub(super) fn tlsa_port(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('_')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=5).contains(&digits) {
        return None;
    }
    let (port, rest) = rest.split_at(digits);
    let rest = rest.strip_prefix("._")?;
    let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || !rest[letters..].starts_with('.') {
        return None;
    }
    port.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_are_hosts_and_ports() {
        assert_eq!(master_endpoint("192.0.2.1:5353"), ("192.0.2.1", 5353));
        assert_eq!(master_endpoint("192.0.2.1"), ("192.0.2.1", 53));
        assert_eq!(master_endpoint("[2001:db8::1]:5353"), ("2001:db8::1", 5353));
        assert_eq!(master_endpoint("[2001:db8::1]"), ("2001:db8::1", 53));
        assert_eq!(master_endpoint("2001:db8::1"), ("2001:db8::1", 53));
        assert_eq!(
            master_endpoint("ns1.example.net:54"),
            ("ns1.example.net", 54)
        );
        assert_eq!(master_endpoint("ns1.example.net"), ("ns1.example.net", 53));
    }

    #[test]
    fn zone_and_host_regexes() {
        let long_label = "a".repeat(63);
        let at_254 = format!("{}com.", "a.".repeat(125));
        let at_255 = format!("b{at_254}");
        assert_eq!((at_254.len(), at_255.len()), (254, 255));
        for (name, zone_ok, host_ok) in [
            ("example.com.", true, true),
            ("_tcp.example.com.", true, true),
            ("*.example.com.", false, true),
            ("a.*.example.com.", false, false),
            ("*a.example.com.", false, false),
            ("-a.example.com.", false, false),
            ("a-.example.com.", false, false),
            ("a--b.example.com.", true, true),
            ("a..example.com.", false, false),
            (".", false, false),
            ("", false, false),
            ("example.com", false, false),
            ("ex ample.com.", false, false),
            ("exämple.com.", false, false),
            (&format!("{long_label}.com."), true, true),
            (&format!("{long_label}a.com."), false, false),
            (&at_254, true, true),
            (&at_255, false, false),
        ] {
            assert_eq!(matches_name_re(name, false), zone_ok, "zone {name}");
            assert_eq!(matches_name_re(name, true), host_ok, "host {name}");
        }
    }

    #[test]
    fn srv_regex() {
        for (name, ok) in [
            ("_sip._tcp.example.org.", true),
            ("_sip._tcp.sub.example.org.", true),
            ("_sip-._tcp.example.org.", true),
            ("_sip.tcp.example.org.", false),
            ("sip._tcp.example.org.", false),
            ("_sip._tcp.", false),
            ("_._tcp.example.org.", false),
            ("*._tcp.example.org.", false),
        ] {
            assert_eq!(matches_srv_re(name), ok, "{name}");
        }
    }

    #[test]
    fn host_port_split_like_designate() {
        for (master, want) in [
            ("192.0.2.1", ("192.0.2.1", 53)),
            ("192.0.2.1:5353", ("192.0.2.1", 5353)),
            ("192.0.2.1:0", ("192.0.2.1", 0)),
            ("ns.example.org:abc", ("ns.example.org:abc", 53)),
            ("2001:db8::1", ("2001:db8::1", 53)),
        ] {
            assert_eq!(split_host_port(master), want, "{master}");
        }
    }

    #[test]
    fn tlsa_name_prefix() {
        for (name, want) in [
            ("_443._tcp.example.com.", Some(443)),
            ("_0._udp.example.com.", Some(0)),
            ("_99999._tcp.example.com.", Some(99999)),
            ("_123456._tcp.example.com.", None),
            ("example.com.", None),
            ("443._tcp.example.com.", None),
            ("_443.tcp.example.com.", None),
            ("_abc._tcp.example.com.", None),
            ("_443._t1.example.com.", None),
            ("_443._tcp", None),
        ] {
            assert_eq!(tlsa_port(name), want, "{name}");
        }
    }
}
