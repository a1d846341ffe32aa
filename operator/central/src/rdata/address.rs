//! Addresses: A and AAAA, and the IP hints of SVCB/HTTPS.
//!
//! Designate parses these with two libraries that disagree at the edges:
//! A and `ipv4hint` with dnspython (same result as glibc's `inet_pton` for
//! IPv4), AAAA with netaddr, i.e. glibc's `inet_pton(AF_INET6)`, and
//! `ipv6hint` with dnspython's own IPv6 parser.

/// Strict dotted quad: four decimal octets, no leading zeros, each <= 255.
pub fn is_ipv4(s: &str) -> bool {
    let octets: Vec<&str> = s.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| {
            !o.is_empty()
                && o.bytes().all(|b| b.is_ascii_digit())
                && (o.len() == 1 || !o.starts_with('0'))
                && o.parse::<u16>().is_ok_and(|v| v <= 255)
        })
}

/// glibc's `inet_pton(AF_INET6)`: hex groups of at most 4 digits, one `::`
/// that stands for at least one group, an optional dotted quad in place of
/// the last two groups.
pub fn is_ipv6(s: &str) -> bool {
    let mut rest = s;
    if let Some(after) = rest.strip_prefix(':') {
        if !after.starts_with(':') {
            return false;
        }
        rest = after;
    }
    let mut groups = 0usize; // 16-bit groups written
    let mut compressed = false;
    let mut digits = 0usize;
    let mut token = rest;
    for (i, c) in rest.char_indices() {
        if c.is_ascii_hexdigit() {
            if digits == 4 {
                return false;
            }
            digits += 1;
        } else if c == ':' {
            token = &rest[i + 1..];
            if digits == 0 {
                if compressed {
                    return false;
                }
                compressed = true;
            } else {
                if token.is_empty() || groups == 8 {
                    return false;
                }
                groups += 1;
                digits = 0;
            }
        } else if c == '.' && groups + 2 <= 8 && is_ipv4(token) {
            groups += 2;
            digits = 0;
            break;
        } else {
            return false;
        }
    }
    if digits > 0 {
        if groups == 8 {
            return false;
        }
        groups += 1;
    }
    if compressed { groups < 8 } else { groups == 8 }
}

/// dnspython's `ipv6.inet_aton`. Unlike glibc it drops a newline that ends an
/// address written with a dotted quad (its regex ends in `$`).
pub fn is_ipv6_dnspython(s: &str) -> bool {
    if s.is_empty()
        || (s.ends_with(':') && !s.ends_with("::"))
        || (s.starts_with(':') && !s.starts_with("::"))
    {
        return false;
    }
    let mut text = if s == "::" {
        "0::".to_string()
    } else {
        s.to_string()
    };
    if let Some((head, quad)) = dotted_quad_tail(&text) {
        if !is_ipv4(quad) {
            return false;
        }
        // Only the shape matters from here on: the quad becomes two hex groups.
        text = format!("{head}:0000:0000");
    }
    if text.starts_with("::") {
        text.remove(0);
    } else if let Some(body) = text
        .strip_suffix("::")
        .or_else(|| text.strip_suffix("::\n"))
        && !body.contains('\n')
    {
        text.pop();
    }
    let chunks: Vec<&str> = text.split(':').collect();
    if chunks.len() > 8 {
        return false;
    }
    let mut seen_empty = false;
    for chunk in &chunks {
        if chunk.is_empty() {
            if seen_empty {
                return false;
            }
            seen_empty = true;
        } else if chunk.len() > 4 || !chunk.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
    }
    chunks.len() == 8 || seen_empty
}

/// The match of `(.*):(\d+\.\d+\.\d+\.\d+)$` (bytes, `.` not matching a
/// newline, `$` also matching before a final newline): the text before the
/// last colon and the dotted quad after it.
fn dotted_quad_tail(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_suffix('\n').unwrap_or(s);
    if body.contains('\n') {
        return None;
    }
    let (head, quad) = body.rsplit_once(':')?;
    let parts: Vec<&str> = quad.split('.').collect();
    let shaped = parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    shaped.then_some((head, quad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_and_dnspython_ipv6() {
        // (text, glibc inet_pton, dnspython inet_aton)
        for (s, glibc, dnspython) in [
            ("::", true, true),
            ("::1", true, true),
            ("1::", true, true),
            ("2001:db8:0:1::1", true, true),
            ("2001:DB8::A", true, true),
            ("1:2:3:4:5:6:7:8", true, true),
            ("1:2:3:4:5:6:7::", true, true),
            ("::2:3:4:5:6:7:8", true, true),
            ("::ffff:192.0.2.1", true, true),
            ("1:2:3:4:5:6:192.0.2.1", true, true),
            ("1:2:3:4:5:6:192.0.2.1\n", false, true),
            ("::1\n", false, false),
            ("1::\n", false, false),
            ("::1:2:3:4:5:6:7:8", false, false),
            ("1:2:3:4:5:6:7:8:9", false, false),
            ("1:2:3:4:5:6:7", false, false),
            (":1::", false, false),
            ("1:", false, false),
            (":::", false, false),
            ("1::2::3", false, false),
            ("12345::", false, false),
            ("::192.0.02.1", false, false),
            ("::1.2.3", false, false),
            ("1.2.3.4", false, false),
            ("fe80::1%eth0", false, false),
            ("", false, false),
            (" ::1", false, false),
        ] {
            assert_eq!(is_ipv6(s), glibc, "glibc {s:?}");
            assert_eq!(is_ipv6_dnspython(s), dnspython, "dnspython {s:?}");
        }
    }
}
