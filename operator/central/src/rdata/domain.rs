//! Types whose rdata is or ends in a domain name: CNAME, NS, PTR (the name
//! alone), MX, SRV, SOA and NAPTR.

use super::py;

/// Designate's `DomainField` (`RE_ZONENAME`): an absolute name of at most 254
/// characters, labels of 1..63 of `[A-Za-z0-9_-]` not starting or ending
/// with `-`. The root `.` alone is not a domain.
pub fn is_domain(s: &str) -> bool {
    let Some(body) = s.strip_suffix('.') else {
        return false;
    };
    s.len() <= 254
        && body.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// `<priority> <exchange>`: a canonical priority, and an exchange that only
/// has to end with a dot (Designate checks nothing else of it).
pub fn mx(data: &str) -> bool {
    let Some([priority, exchange]) = py::unpack(data) else {
        return false;
    };
    py::canonical_int_in(priority, 0, 65535) && exchange.ends_with('.') && py::len(exchange) <= 255
}

/// `<priority> <weight> <port> <target>`.
pub fn srv(data: &str) -> bool {
    let Some([priority, weight, port, target]) = py::unpack(data) else {
        return false;
    };
    [priority, weight, port]
        .iter()
        .all(|n| py::int_in(n, 0, 65535))
        && is_domain(target)
}

/// `<mname> <rname> <serial> <refresh> <retry> <expire> <minimum>`. The rname
/// must be a plain domain: an escaped dot (`first\.last.example.org.`) fails.
pub fn soa(data: &str) -> bool {
    let Some([mname, rname, serial, refresh, retry, expire, minimum]) = py::unpack(data) else {
        return false;
    };
    is_domain(mname)
        && is_domain(rname)
        && py::int_in(serial, 1, 4_294_967_295)
        && [refresh, retry, expire, minimum]
            .iter()
            .all(|n| py::int_in(n, 0, 2_147_483_647))
}

/// `<order> <preference> <flags> <service> <regexp> <replacement>`; the three
/// strings may be quoted, but cannot hold a space.
pub fn naptr(data: &str) -> bool {
    let Some([order, preference, flags, service, regexp, replacement]) = py::unpack(data) else {
        return false;
    };
    let (flags, service, regexp) = (unquote(flags), unquote(service), unquote(regexp));
    py::int_in(order, 0, 65535)
        && py::int_in(preference, 0, 65535)
        && [flags, service, regexp].iter().all(|s| py::len(s) <= 255)
        && flags.bytes().all(|b| b"APSUapsu".contains(&b))
        && is_naptr_service(service)
        && (regexp.is_empty() || is_naptr_regexp(regexp))
        && is_domain(replacement)
}

/// Strips one pair of surrounding double quotes; a lone `"` becomes empty.
fn unquote(s: &str) -> &str {
    if s.starts_with('"') && s.ends_with('"') {
        s.get(1..s.len() - 1).unwrap_or("")
    } else {
        s
    }
}

/// `RE_NAPTR_SERVICE`: empty, or `[A-Za-z][A-Za-z0-9]*` followed by any
/// number of `+[A-Za-z][A-Za-z0-9]{0,31}`.
fn is_naptr_service(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let mut parts = s.split('+');
    let token = |t: &str, max: usize| {
        t.len() <= max
            && t.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && t.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    parts.next().is_some_and(|first| token(first, usize::MAX)) && parts.all(|t| token(t, 32))
}

/// `RE_NAPTR_REGEXP`, `(([^0-9i\\])(.*)\2((.+)|(\\[1-9]))?\2(i?))?`: a
/// delimiter `d` (not a digit, `i` or `\`), then `d<pattern>d<replacement>d`
/// with an optional trailing `i`; pattern and replacement cannot hold a
/// newline (`.`) but can hold `d` itself.
fn is_naptr_regexp(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let Some(&d) = chars.first() else {
        return false;
    };
    if d.is_ascii_digit() || d == 'i' || d == '\\' {
        return false;
    }
    let ends = [
        Some(chars.len()),
        chars.ends_with(&['i']).then(|| chars.len() - 1),
    ];
    ends.into_iter().flatten().any(|end| {
        // chars[0] is the first d, chars[end - 1] the last; one d in between.
        end >= 3 && chars[end - 1] == d && {
            let middle = &chars[1..end - 1];
            middle.iter().enumerate().any(|(k, &c)| {
                c == d && !middle[..k].contains(&'\n') && !middle[k + 1..].contains(&'\n')
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naptr_regexp_like_python() {
        for (s, ok) in [
            ("!^.*$!sip:info@example.com!", true),
            ("!^.*$!sip:info@example.com!i", true),
            (":beep::", true),
            ("!!!", true),
            ("!a!!", true),
            ("!!b!", true),
            ("!a!b!c!", true),
            ("\n!\n\n", true),
            ("!!", false),
            ("!a!", false),
            ("!a!b", false),
            ("!a!b!x", false),
            ("!a!b!ii", false),
            ("1a1b1", false),
            ("iaibi", false),
            ("\\a\\b\\", false),
            ("!a\n!b!", false),
            ("!a!b\n!", false),
            ("!a!b!\n", false),
        ] {
            assert_eq!(is_naptr_regexp(s), ok, "{s:?}");
        }
    }

    #[test]
    fn naptr_service_like_python() {
        for (s, ok) in [
            ("", true),
            ("SIP+D2U", true),
            ("E2U+sip", true),
            ("a1", true),
            ("x+abcdefghijabcdefghijabcdefghij12", true),
            ("x+abcdefghijabcdefghijabcdefghij123", false),
            ("1a", false),
            ("a+", false),
            ("+a", false),
            ("a++b", false),
            ("a+1", false),
            ("a-b", false),
            ("SIP\n", false),
        ] {
            assert_eq!(is_naptr_service(s), ok, "{s:?}");
        }
    }
}
