//! Central's rules for one reconcile, as the REST API applies them to a
//! create: the configured [`Config`] with the TLD list of the cluster's `Tld`
//! objects and the patterns of its `Blacklist` objects, and the privileges
//! a Zone carries ([`designate_crd::grant`]).
//!
//! Designate checks TLDs and blacklists in `create_zone` only: Central's
//! plan checks them until a zone is first published, never after, so a
//! later TLD or blacklist change never takes a published zone down. Nor do
//! they enter a zone's fingerprint (a new TLD replans no published zone);
//! the zones they refused are requeued when they change instead.

use std::borrow::Cow;
use std::sync::Arc;

use designate_central::{Config, Privileges};
use designate_crd::grant::{self, GrantKey, Refusal};
use designate_crd::{Blacklist, Tld, Zone};
use kube::ResourceExt;
use tracing::warn;

/// Central's [`Config`] for a reconcile: `base` with the names of `tlds`
/// and the patterns of `blacklists`; borrowed while there are neither.
/// A pattern Central cannot evaluate would count as a match for every name
/// (it fails closed), so it is left out, with a warning (the API and the
/// CRD's rule refuse such patterns; one could come from a CRD installed
/// without that rule).
pub(crate) fn central_config<'a>(
    base: &'a Config,
    tlds: &[Arc<Tld>],
    blacklists: &[Arc<Blacklist>],
) -> Cow<'a, Config> {
    if tlds.is_empty() && blacklists.is_empty() {
        return Cow::Borrowed(base);
    }
    let mut cfg = base.clone();
    if !tlds.is_empty() {
        let mut names: Vec<String> = tlds.iter().map(|t| t.spec.name.clone()).collect();
        names.sort();
        cfg.tlds = names;
    }
    for blacklist in blacklists {
        let pattern = &blacklist.spec.pattern;
        if pattern.is_empty() || regex::Regex::new(pattern).is_err() {
            warn!(
                blacklist = %blacklist.name_any(),
                "blacklist pattern is not a valid regular expression; ignored"
            );
            continue;
        }
        cfg.blacklists.push(pattern.clone());
    }
    Cow::Owned(cfg)
}

/// The privileges `zone`'s signed grant gives it (none without one); a
/// grant that does not verify is logged and gives nothing.
pub(crate) fn privileges(key: Option<&GrantKey>, zone: &Zone) -> Privileges {
    let (privileges, refusal) = grant::verified(key, zone);
    if let Some(refusal) = refusal {
        let why = match refusal {
            Refusal::NoKey => "no grant key is configured",
            Refusal::Unsigned => "the grant is not signed",
            Refusal::BadSignature => "the grant's signature does not match this zone",
        };
        warn!(zone = %zone.name_any(), why, "zone privileges annotation ignored");
    }
    privileges
}

/// Whether a Tld or Blacklist change may let `zone` in: only zones never
/// published are checked against them.
pub(crate) fn waits_for_rules(zone: &Zone) -> bool {
    zone.metadata.deletion_timestamp.is_none()
        && zone.status.as_ref().is_none_or(|s| s.serial.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::{BlacklistSpec, TldSpec, ZoneSpec, ZoneStatus};

    fn tld(name: &str) -> Arc<Tld> {
        Arc::new(Tld::new(
            name,
            TldSpec {
                name: name.into(),
                description: None,
            },
        ))
    }

    fn blacklist(pattern: &str) -> Arc<Blacklist> {
        Arc::new(Blacklist::new(
            "b",
            BlacklistSpec {
                pattern: pattern.into(),
                description: None,
            },
        ))
    }

    #[test]
    fn without_objects_the_configuration_is_borrowed() {
        let base = Config::default();
        assert!(matches!(central_config(&base, &[], &[]), Cow::Borrowed(_)));
    }

    #[test]
    fn tlds_and_patterns_come_from_the_objects() {
        let base = Config {
            blacklists: vec!["^configured\\.$".into()],
            ..Config::default()
        };
        let cfg = central_config(
            &base,
            &[tld("org"), tld("com")],
            &[blacklist("^blocked\\.org\\.$")],
        );
        assert_eq!(cfg.tlds, ["com", "org"]);
        assert_eq!(cfg.blacklists, ["^configured\\.$", "^blocked\\.org\\.$"]);
        // Blacklists alone leave the TLD list as configured (any TLD).
        let cfg = central_config(&base, &[], &[blacklist("x")]);
        assert!(cfg.tlds.is_empty());
    }

    #[test]
    fn a_pattern_central_cannot_evaluate_is_left_out() {
        let base = Config::default();
        let cfg = central_config(
            &base,
            &[],
            &[blacklist("(unclosed"), blacklist(""), blacklist("ok")],
        );
        assert_eq!(cfg.blacklists, ["ok"]);
    }

    #[test]
    fn only_unpublished_zones_wait_for_rules() {
        let mut zone = Zone::new("z", ZoneSpec::default());
        assert!(waits_for_rules(&zone));
        zone.status = Some(ZoneStatus::default());
        assert!(waits_for_rules(&zone));
        zone.status = Some(ZoneStatus {
            serial: Some(1),
            ..ZoneStatus::default()
        });
        assert!(!waits_for_rules(&zone));
    }
}
