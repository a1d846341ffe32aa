//! Central's rules as they stand for one request: the configured [`Config`]
//! with the TLD list and the blacklist patterns the cluster's `Tld` and
//! `Blacklist` objects make, and the privileges a Zone write carries to the
//! controllers ([`grant`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};

use designate_central::{Config, Privileges};
use designate_crd::{Zone, grant};
use kube::ResourceExt;

use crate::Api;

/// Central's [`Config`] for a request: as configured, with the TLD list of
/// the `Tld` objects and the patterns of the `Blacklist` objects; borrowed
/// as configured while there are neither.
pub(crate) fn central_config(api: &Api) -> Cow<'_, Config> {
    let mut tlds = Vec::new();
    api.cache
        .tlds
        .walk(None, Bound::Unbounded, false, |_, tld| {
            tlds.push(tld.spec.name.clone());
            ControlFlow::Continue(())
        });
    let blacklists: Vec<String> = api
        .cache
        .blacklists
        .all()
        .iter()
        .filter_map(|b| {
            let pattern = &b.spec.pattern;
            // Central counts a pattern it cannot evaluate as a match (it
            // fails closed), which would refuse every zone: one that got in
            // past the API's and the CRD's checks is left out, loudly.
            if crate::blacklists::is_pattern(pattern) {
                Some(pattern.clone())
            } else {
                tracing::warn!(blacklist = %b.name_any(), "blacklist pattern is not a valid regular expression; ignored");
                None
            }
        })
        .collect();
    if tlds.is_empty() && blacklists.is_empty() {
        return Cow::Borrowed(&api.settings.central);
    }
    let mut cfg = api.settings.central.clone();
    if !tlds.is_empty() {
        cfg.tlds = tlds;
    }
    cfg.blacklists.extend(blacklists);
    Cow::Owned(cfg)
}

/// The annotations of a Zone `namespace/name` (DNS name `zone_name`)
/// written by a caller with `privileges`, so that the controllers grant it
/// what Central granted here (a blacklisted name, a low TTL); `None` when
/// the caller has no more than a member, or no key is configured.
pub(crate) fn grant(
    api: &Api,
    namespace: &str,
    name: &str,
    zone_name: &str,
    privileges: Privileges,
) -> Option<BTreeMap<String, String>> {
    let key = api.settings.grant_key.as_ref()?;
    grant::annotations(key, namespace, name, zone_name, privileges)
}

/// For an update whose rules depend on the caller (a changed TTL and
/// `use_low_ttl`): the annotations that sign what this caller may do onto
/// the Zone, so that the controllers plan the change as Central allowed it
/// here; written in the same patch as the change, so that a refused change
/// leaves no grant behind. `None` when the caller has no more than a
/// member, or the zone already carries this grant.
pub(crate) fn grant_for_update(
    api: &Api,
    zone: &Zone,
    privileges: Privileges,
) -> Option<BTreeMap<String, String>> {
    let namespace = zone.namespace().unwrap_or_default();
    let annotations = grant(
        api,
        &namespace,
        &zone.name_any(),
        &zone.spec.name,
        privileges,
    )?;
    (!annotations
        .iter()
        .all(|(k, v)| zone.annotations().get(k) == Some(v)))
    .then_some(annotations)
}
