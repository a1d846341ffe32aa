//! TXT and SPF: free text, with Designate's own quoting rules.

use super::py;

/// A TXT record. Up to 255 characters it is one string: bare (no spaces) or
/// wrapped in quotes (inner quotes escaped). Longer, it must be split into
/// `"..." "..."` strings of at most 255 characters each, quotes included.
/// `"a" "b"` is refused when short: it reads as one string with bare quotes.
/// A trailing backslash is refused whatever the length.
pub fn txt(data: &str) -> bool {
    let strings_ok = if py::len(data) > 255 {
        let stripped = data.trim_matches('"');
        (is_wrapped(data) || stripped.contains("\" \""))
            && stripped
                .split("\" \"")
                .all(|s| is_txt_string(&format!("\"{s}\"")))
    } else {
        is_txt_string(data)
    };
    strings_ok && !data.ends_with('\\')
}

/// An SPF record: like one TXT string, but without TXT's length limit and
/// quote-balance check: a value starting or ending with a quote counts as
/// quoted.
pub fn spf(data: &str) -> bool {
    !data.contains('\n')
        && if !data.starts_with('"') && !data.ends_with('"') {
            !data.chars().any(py::is_space)
        } else {
            quotes_escaped(data)
        }
}

fn is_txt_string(s: &str) -> bool {
    if py::len(s) > 255 || s.contains('\n') || s.starts_with('"') != s.ends_with('"') {
        return false;
    }
    if is_wrapped(s) {
        quotes_escaped(s)
    } else {
        !s.chars().any(py::is_space)
    }
}

/// Starts and ends with `"`; a lone `"` counts.
fn is_wrapped(s: &str) -> bool {
    s.starts_with('"') && s.ends_with('"')
}

/// Every `"` inside the outer quotes follows a backslash.
fn quotes_escaped(s: &str) -> bool {
    let inner = s.trim_matches('"').as_bytes();
    inner
        .iter()
        .enumerate()
        .all(|(i, &b)| b != b'"' || (i > 0 && inner[i - 1] == b'\\'))
}
