//! The few Python built-ins Designate's parsers lean on, with their exact
//! semantics: what `int()`, `str.isspace()`, `str.isnumeric()` and
//! `base64.b64decode()` let through decides which records Designate accepts.
//! Unicode tables are CPython 3.11's (Unicode 14).

/// `str.isspace()`: Unicode `White_Space` plus the ASCII separators
/// U+001C..U+001F, which Python counts as spaces and Rust does not.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `a, b, ... = s.split(' ')`: exactly `N` fields between single spaces, so
/// a doubled space makes an empty field and a tab stays inside one.
pub fn unpack<const N: usize>(s: &str) -> Option<[&str; N]> {
    s.split(' ').collect::<Vec<_>>().try_into().ok()
}

/// `len()` of a `str`: code points, not bytes.
pub fn len(s: &str) -> usize {
    s.chars().count()
}

/// The zero of every run of ten Unicode decimal digits (category Nd), which
/// `int()` reads like ASCII digits.
const DECIMAL_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

fn decimal(c: char) -> Option<i64> {
    let c = u32::from(c);
    let i = DECIMAL_ZEROS
        .partition_point(|&zero| zero <= c)
        .checked_sub(1)?;
    let digit = c - DECIMAL_ZEROS[i];
    (digit < 10).then_some(i64::from(digit))
}

/// `int(s)` in base 10: surrounding spaces, a sign, Unicode digits and single
/// `_` between digits are all accepted. Values beyond `i64` saturate, which is
/// enough since every caller checks a range afterwards.
pub fn int(s: &str) -> Option<i64> {
    // int() trims Unicode spaces but only C's ASCII ones, not U+001C..U+001F.
    let s = s.trim_matches(char::is_whitespace);
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    if digits.contains("__") {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars().filter(|&c| c != '_') {
        value = value.saturating_mul(10).saturating_add(decimal(c)?);
    }
    Some(if negative { -value } else { value })
}

/// `lo <= int(s) <= hi`: an `IntegerFields(minimum=lo, maximum=hi)` fed by `int()`.
pub fn int_in(s: &str, lo: i64, hi: i64) -> bool {
    int(s).is_some_and(|v| (lo..=hi).contains(&v))
}

/// `repr(int(s)) == s` and in range: the canonical spelling only (no sign,
/// spaces or leading zeros), as MX and SSHFP demand.
pub fn canonical_int_in(s: &str, lo: i64, hi: i64) -> bool {
    let canonical = s == "0" || (!s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()));
    canonical && int_in(s, lo, hi)
}

/// CJK ideographs with a numeric value: `str.isnumeric()` is true for them,
/// though they are not in a Unicode number category.
const CJK_NUMERALS: &[u32] = &[
    0x3405, 0x3483, 0x382A, 0x3B4D, 0x4E00, 0x4E03, 0x4E07, 0x4E09, 0x4E5D, 0x4E8C, 0x4E94, 0x4E96,
    0x4EBF, 0x4EC0, 0x4EDF, 0x4EE8, 0x4F0D, 0x4F70, 0x5104, 0x5146, 0x5169, 0x516B, 0x516D, 0x5341,
    0x5343, 0x5344, 0x5345, 0x534C, 0x53C1, 0x53C2, 0x53C3, 0x53C4, 0x56DB, 0x58F1, 0x58F9, 0x5E7A,
    0x5EFE, 0x5EFF, 0x5F0C, 0x5F0D, 0x5F0E, 0x5F10, 0x62FE, 0x634C, 0x67D2, 0x6F06, 0x7396, 0x767E,
    0x8086, 0x842C, 0x8CAE, 0x8CB3, 0x8D30, 0x9621, 0x9646, 0x964C, 0x9678, 0x96F6, 0xF96B, 0xF973,
    0xF978, 0xF9B2, 0xF9D1, 0xF9D3, 0xF9FD, 0x20001, 0x20064, 0x200E2, 0x20121, 0x2092A, 0x20983,
    0x2098C, 0x2099C, 0x20AEA, 0x20AFD, 0x20B19, 0x22390, 0x22998, 0x23B1B, 0x2626D, 0x2F890,
];

/// `str.isnumeric()`: not empty, and every character has a numeric value
/// (`½`, `²` and `三` included).
pub fn is_numeric(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_numeric() || CJK_NUMERALS.binary_search(&u32::from(c)).is_ok())
}

/// Whether `base64.b64decode(data)` (non-validating) succeeds: characters
/// outside the alphabet are skipped, `=` ends the input once it completes a
/// quantum, and what was read must not end in a partial quantum.
pub fn b64decode_ok(data: &[u8]) -> bool {
    let (mut quad, mut pads) = (0u8, 0u8);
    for &b in data {
        if b == b'=' {
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    return true;
                }
            }
        } else if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' {
            pads = 0;
            quad = (quad + 1) % 4;
        }
    }
    quad == 0
}

/// `binascii.unhexlify(s)` succeeds: ASCII hex digits, an even count.
pub fn is_hex(s: &str) -> bool {
    s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_follows_python() {
        for (s, want) in [
            ("0", Some(0)),
            ("-0", Some(0)),
            ("+7", Some(7)),
            ("007", Some(7)),
            ("1_000", Some(1000)),
            ("\t5\n", Some(5)),
            ("\u{a0}5\u{3000}", Some(5)),
            ("\u{1c}5", None),
            ("١٢", Some(12)),
            ("𝟗", Some(9)),
            ("", None),
            ("-", None),
            ("_1", None),
            ("1_", None),
            ("1__0", None),
            ("- 1", None),
            ("0x10", None),
            ("1.0", None),
            ("²", None),
            ("99999999999999999999999", Some(i64::MAX)),
        ] {
            assert_eq!(int(s), want, "int({s:?})");
        }
    }

    #[test]
    fn canonical_ints() {
        assert!(canonical_int_in("0", 0, 10));
        assert!(canonical_int_in("10", 0, 10));
        for s in ["-0", "+1", "01", " 1", "1_0", "١", "11"] {
            assert!(!canonical_int_in(s, 0, 10), "{s:?}");
        }
    }

    #[test]
    fn numeric_like_python() {
        for s in ["123", "½", "²", "三", "Ⅻ", "٣"] {
            assert!(is_numeric(s), "{s:?}");
        }
        for s in ["", "1a", "-1", " 1"] {
            assert!(!is_numeric(s), "{s:?}");
        }
    }

    #[test]
    fn b64_like_python() {
        for s in [
            "", "QQ==", "QUJD", "QQ", "QQ=", "Q Q = =", "QQ==junk", "QUJ=D", "-_!",
        ] {
            let ok = !matches!(s, "QQ" | "QQ=");
            assert_eq!(b64decode_ok(s.as_bytes()), ok, "{s:?}");
        }
        assert!(!b64decode_ok(b"Q"));
        assert!(!b64decode_ok(b"QUJDR"));
        assert!(!b64decode_ok(b"=QQ"));
    }

    #[test]
    fn spaces_like_python() {
        for c in [
            '\t', '\n', '\u{b}', '\u{c}', '\r', '\u{1c}', '\u{1f}', ' ', '\u{85}', '\u{a0}',
        ] {
            assert!(is_space(c), "{c:?}");
        }
        for c in ['\0', '\u{1b}', 'a', '\u{200b}', '\u{feff}'] {
            assert!(!is_space(c), "{c:?}");
        }
    }
}
