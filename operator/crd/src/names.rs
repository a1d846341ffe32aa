//! The object names the operator gives what Designate names: stable, so
//! that the API server refuses a second object for the same thing (two
//! concurrent creates, a retry, an import run twice) where no cache can yet
//! know, and shared by every writer (the REST API, the importer).

/// 64-bit FNV-1a: stable across runs and builds (std's hasher is not).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A DNS-1123 label: lower-case alphanumerics and `-`, at most 63.
pub fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A DNS-1123 subdomain: what most kinds' object names must be.
fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

/// An object's name for a DNS name (without its trailing dot): the name
/// itself, lower-cased, where it is a valid object name, else
/// `<prefix>-<stable hash>`.
pub fn object_name(dns_name: &str, prefix: &str) -> String {
    let name = dns_name.to_ascii_lowercase();
    if is_subdomain(&name) {
        name
    } else {
        format!("{prefix}-{:016x}", fnv1a(name.as_bytes()))
    }
}

/// A Zone's object name for its DNS name.
pub fn zone(name: &str) -> String {
    object_name(name.trim_end_matches('.'), "zone")
}

/// A Recordset's object name: readable, and the same for the same name and
/// type in a zone.
pub fn recordset(name: &str, zone: &str, type_: &str) -> String {
    let label: String = if name.eq_ignore_ascii_case(zone) {
        "apex".into()
    } else {
        name.split('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(40)
            .collect()
    };
    let label = label.trim_matches('-');
    let label = if label.is_empty() { "rs" } else { label };
    let identity = format!("{zone}/{name}/{type_}").to_ascii_lowercase();
    let hash = fnv1a(identity.as_bytes());
    format!("{label}-{}-{:08x}", type_.to_ascii_lowercase(), hash as u32)
}

/// A ZoneShare's object name: one per zone and target project, so that the
/// API server refuses a second (Designate's unique key).
pub fn share(zone_ref: &str, target: &str) -> String {
    let identity = format!("{zone_ref}/{target}");
    format!("share-{:016x}", fnv1a(identity.as_bytes()))
}

/// A Tld's object name.
pub fn tld(name: &str) -> String {
    object_name(name, "tld")
}

/// A Blacklist's object name.
pub fn blacklist(pattern: &str) -> String {
    object_name(pattern, "blacklist")
}

/// A TsigKey's object name.
pub fn tsigkey(name: &str) -> String {
    object_name(name, "tsigkey")
}

/// A Quota's object name: the project id where it is one (a DNS-1123
/// subdomain), else `quota-<hash>`. Objects are found by `spec.projectId`;
/// the name only keeps concurrent first writes of a project to one object.
pub fn quota(project: &str) -> String {
    if is_subdomain(project) {
        project.to_string()
    } else {
        format!("quota-{:016x}", fnv1a(project.as_bytes()))
    }
}

/// The name a project's namespace is created under: the id itself when it
/// is a namespace name that is not reserved, else `project-<hash>`.
pub fn project_namespace(project: &str) -> String {
    if is_label(project) && !is_reserved(project) {
        project.to_string()
    } else {
        format!("project-{:016x}", fnv1a(project.as_bytes()))
    }
}

/// Names no project's namespace is ever created under.
fn is_reserved(name: &str) -> bool {
    name == "default" || name.starts_with("kube-") || name.starts_with("openshift")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_name_or_a_stable_hash() {
        assert_eq!(tld("Co.UK"), "co.uk");
        assert!(tld("_srv").starts_with("tld-"));
        assert_eq!(tld("_srv"), tld("_SRV"));
        assert_eq!(zone("Example.COM."), "example.com");
        assert_eq!(quota("noauth-project"), "noauth-project");
        assert!(quota("Project_X").starts_with("quota-"));
        assert_eq!(project_namespace("abc123"), "abc123");
        assert!(project_namespace("default").starts_with("project-"));
        assert!(project_namespace("kube-system").starts_with("project-"));
        assert_eq!(
            recordset("www.example.org.", "example.org.", "A"),
            recordset("WWW.example.org.", "example.org.", "A")
        );
        assert!(recordset("example.org.", "example.org.", "MX").starts_with("apex-mx-"));
        assert_eq!(share("a.org", "p1"), share("a.org", "p1"));
        assert_ne!(share("a.org", "p1"), share("a.org", "p2"));
        assert_ne!(share("a.org", "p1"), share("b.org", "p1"));
    }
}
