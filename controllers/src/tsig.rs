//! TSIG keys for MiniDNS: the `TsigKey` objects, with the secrets of their
//! Secrets (in the operator's namespace, labelled [`SECRET_LABEL`], key
//! `secret`), kept in MiniDNS's transfer policy as they change. A POOL key
//! lets its pool's zones be transferred signed with it, a ZONE key its zone;
//! either makes unsigned transfers of those zones refused. A key MiniDNS
//! cannot use (no Secret yet, an algorithm it does not verify, a name that is
//! no DNS name) still guards its zones: it fails closed.
//!
//! The secrets stay in Kubernetes: nothing is written to storage, and no log
//! line carries one.

use std::collections::BTreeSet;
use std::sync::Arc;

use designate_crd::Zone;
use designate_crd::grant::DesignateId;
use designate_crd::{TSIG_SECRET_KEY, TsigKey, TsigScope};
use designate_mdns::{KeyScope, PolicyHandle};
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use tokio::sync::oneshot;

use crate::Context;

/// The label of the Secrets that hold TSIG secrets.
pub use designate_crd::TSIG_SECRET_LABEL as SECRET_LABEL;

/// Why a key without its Secret is not used.
const NO_SECRET: &str = "its Secret (key `secret`) is missing";

/// The keys MiniDNS verifies, and the scopes of those it cannot use.
#[derive(Debug, Default, PartialEq)]
pub struct PolicyKeys {
    pub keys: Vec<designate_mdns::TsigKey>,
    pub guarded: BTreeSet<KeyScope>,
    /// The keys not usable, by object name, with why (never the secret).
    pub unusable: Vec<(String, String)>,
}

/// The keys of `objects`, each with the secret `secret_of` its Secret's name
/// gives (pure).
pub fn policy_keys(
    objects: &[Arc<TsigKey>],
    secret_of: impl Fn(&str) -> Option<String>,
) -> PolicyKeys {
    let mut out = PolicyKeys::default();
    for object in objects {
        let spec = &object.spec;
        let scope = match spec.scope {
            TsigScope::Pool => KeyScope::Pool(spec.resource_id.clone()),
            TsigScope::Zone => KeyScope::Zone(spec.resource_id.clone()),
        };
        let key = secret_of(&spec.secret_ref.name)
            .ok_or_else(|| NO_SECRET.to_string())
            .and_then(|secret| {
                designate_mdns::TsigKey::new(&spec.name, spec.algorithm.as_str(), &secret)
                    // The error names the key and the reason, never the secret.
                    .map_err(|error| error.to_string())
            });
        match key {
            Ok(key) => out.keys.push(key.scoped(scope)),
            Err(reason) => {
                out.unusable.push((object.name_any(), reason));
                out.guarded.insert(scope);
            }
        }
    }
    // One order whatever the watch's: changes are noticed by comparison.
    out.keys.sort_by_key(|key| key.name());
    out.unusable.sort();
    out
}

/// The `secret` of a Secret, as text.
fn secret_text(secret: &Secret) -> Option<String> {
    let bytes = secret.data.as_ref()?.get(TSIG_SECRET_KEY)?;
    String::from_utf8(bytes.0.clone()).ok()
}

/// The `TsigKey` objects and (in the operator's namespace) their Secrets,
/// as watched: MiniDNS's transfer policy and the controllers' signing keys
/// are read from it.
#[derive(Clone)]
pub struct Keyring {
    keys: Store<TsigKey>,
    secrets: Store<Secret>,
}

/// A stream that keeps a [`Keyring`] up to date; it yields after each
/// watch event and must be polled.
pub type KeyringEvents = BoxStream<'static, Result<(), watcher::Error>>;

impl Keyring {
    /// Starts watching the keys, and the Secrets labelled [`SECRET_LABEL`]
    /// in `namespace`.
    pub fn watch(client: Client, namespace: &str) -> (Self, KeyringEvents) {
        let (keys, keys_writer) = reflector::store::<TsigKey>();
        let (secrets, secrets_writer) = reflector::store::<Secret>();
        let key_events = reflector::reflector(
            keys_writer,
            crate::watch::watch::<TsigKey>(
                &client,
                watcher::Config::default().any_semantic(),
                crate::watch::Reporting::Report(client.clone()),
                None,
            ),
        )
        .map(|event| event.map(|_| ()));
        let secret_events = reflector::reflector(
            secrets_writer,
            watcher::watcher(
                Api::<Secret>::namespaced(client, namespace),
                watcher::Config::default()
                    .labels(SECRET_LABEL)
                    .any_semantic(),
            )
            .default_backoff(),
        )
        .map(|event| event.map(|_| ()));
        let events = futures::stream::select(key_events, secret_events).boxed();
        (Self { keys, secrets }, events)
    }

    /// Whether both first lists are in.
    fn listed(&self) -> bool {
        self.keys.wait_until_ready().now_or_never().is_some()
            && self.secrets.wait_until_ready().now_or_never().is_some()
    }

    /// Waits for both first lists.
    pub(crate) async fn ready(&self) -> Result<(), crate::Error> {
        crate::store_ready(&self.keys).await?;
        crate::store_ready(&self.secrets).await
    }

    fn secret_of(&self) -> impl Fn(&str) -> Option<String> {
        let secrets = self.secrets.state();
        move |name| {
            secrets
                .iter()
                .find(|secret| secret.name_any() == name)
                .and_then(|secret| secret_text(secret))
        }
    }

    /// The keys as MiniDNS's policy holds them.
    pub fn policy_keys(&self) -> PolicyKeys {
        policy_keys(&self.keys.state(), self.secret_of())
    }

    /// The key of the zone with uid `zone_id` in the pool with uid
    /// `pool_id`, if one is usable.
    pub(crate) fn zone_key(&self, zone_id: &str, pool_id: &str) -> Option<ZoneKey> {
        // Asked on every reconcile: the Secrets are looked at only when
        // a key applies.
        zone_key(
            &self.keys.state(),
            |name| self.secret_of()(name),
            zone_id,
            Some(pool_id),
        )
    }

    /// The key a secondary zone's pulls from its masters are signed with:
    /// its own ZONE key only (a pool's key is between MiniDNS and the
    /// pool's nameservers; a master outside knows none of it).
    pub(crate) fn master_key(&self, zone_id: &str) -> Option<ZoneKey> {
        zone_key(
            &self.keys.state(),
            |name| self.secret_of()(name),
            zone_id,
            None,
        )
    }
}

/// The key a zone's transfers are signed with, and so its NOTIFYs, its
/// serial polls and its backends' transfer settings: its own ZONE key, else
/// its pool's POOL key (MiniDNS accepts either; the zone's own is the more
/// specific). Where several apply, the first by name, so every reconcile
/// picks the same.
pub(crate) struct ZoneKey {
    /// The key's name as its object spells it (BIND's `key` statement,
    /// PowerDNS's key).
    pub name: String,
    pub algorithm: &'static str,
    /// Base64; never logged (no `Debug`).
    pub secret: String,
    pub signer: designate_mdns::TsigKey,
}

impl ZoneKey {
    /// What tells one key from another (name, algorithm, secret), as a
    /// digest: a changed key makes the zone's backends be configured again.
    pub(crate) fn digest(&self) -> u64 {
        let identity = format!("{}\n{}\n{}", self.name, self.algorithm, self.secret);
        crate::fnv1a(identity.as_bytes())
    }
}

/// The digest of the key of `zone` now, if it has one.
pub(crate) fn key_digest(key: Option<&ZoneKey>) -> Option<u64> {
    key.map(ZoneKey::digest)
}

/// The zones whose key changed, at each change of the keys or their
/// Secrets (the keys' watches run inside this stream).
pub(crate) fn triggers(
    events: KeyringEvents,
    context: Arc<Context>,
) -> impl Stream<Item = ObjectRef<Zone>> + Send + 'static {
    events
        .filter_map(|event| async move { event.ok() })
        .flat_map(move |()| {
            let zones = context.zones.state_filter(|zone| {
                let Some(pool) = context.pools.get(&ObjectRef::new(Context::pool_name(zone)))
                else {
                    return false;
                };
                let id = zone.designate_id();
                let key = context.keyring.zone_key(&id, &pool.designate_id());
                context.provision_due(&id, key_digest(key.as_ref()))
            });
            futures::stream::iter(zones.into_iter().map(|z| ObjectRef::from_obj(&*z)))
        })
}

/// [`Keyring::zone_key`] over `objects` (pure); without `pool_id`, the
/// zone's own key only.
fn zone_key(
    objects: &[Arc<TsigKey>],
    secret_of: impl Fn(&str) -> Option<String>,
    zone_id: &str,
    pool_id: Option<&str>,
) -> Option<ZoneKey> {
    let mut candidates: Vec<&Arc<TsigKey>> = objects
        .iter()
        .filter(|object| {
            let spec = &object.spec;
            match spec.scope {
                TsigScope::Zone => spec.resource_id == zone_id,
                TsigScope::Pool => pool_id == Some(spec.resource_id.as_str()),
            }
        })
        .collect();
    candidates.sort_by_key(|object| (object.spec.scope != TsigScope::Zone, &object.spec.name));
    let object = candidates.first()?;
    let spec = &object.spec;
    let secret = secret_of(&spec.secret_ref.name)?;
    let signer = designate_mdns::TsigKey::new(&spec.name, spec.algorithm.as_str(), &secret).ok()?;
    Some(ZoneKey {
        name: spec.name.trim_end_matches('.').to_string(),
        algorithm: spec.algorithm.as_str(),
        secret,
        signer,
    })
}

/// Keeps the keys of MiniDNS's policy in step with the `TsigKey` objects
/// and their Secrets in `namespace`, until the watches end. `loaded` is
/// told once the policy holds every key the first lists gave: MiniDNS waits
/// for it, so that no unsigned transfer of a keyed zone slips through at
/// start.
pub async fn keep_tsig_keys(
    client: Client,
    namespace: String,
    policy: PolicyHandle,
    mut loaded: Option<oneshot::Sender<()>>,
) {
    let (keyring, mut events) = Keyring::watch(client, &namespace);
    let mut known: Option<PolicyKeys> = None;
    while let Some(event) = events.next().await {
        if let Err(error) = event {
            tracing::warn!(%error, "watching TSIG keys failed; retrying");
            continue;
        }
        let current = keyring.policy_keys();
        let listed = keyring.listed();
        if known.as_ref() == Some(&current) {
            if listed && let Some(loaded) = loaded.take() {
                let _ = loaded.send(());
            }
            continue;
        }
        for (tsigkey, reason) in &current.unusable {
            if reason == NO_SECRET {
                // A key made a moment ago: its Secret follows.
                tracing::info!(%tsigkey, "TSIG key waits for its Secret");
            } else {
                tracing::warn!(
                    %tsigkey,
                    %reason,
                    "TSIG key not usable by MiniDNS: its zones transfer to no one unsigned"
                );
            }
        }
        tracing::info!(
            keys = current.keys.len(),
            unusable = current.guarded.len(),
            "MiniDNS's TSIG keys updated"
        );
        let (new_keys, guarded) = (current.keys.clone(), current.guarded.clone());
        policy.update(|policy| {
            // Keys for any zone are MiniDNS's own configuration: kept.
            policy.keys.retain(|key| *key.scope() == KeyScope::Any);
            policy.keys.extend(new_keys);
            policy.guarded = guarded;
        });
        known = Some(current);
        if listed && let Some(loaded) = loaded.take() {
            let _ = loaded.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::{TsigAlgorithm, TsigKeySpec, TsigSecretRef};

    fn object(
        name: &str,
        algorithm: TsigAlgorithm,
        scope: TsigScope,
        secret: &str,
    ) -> Arc<TsigKey> {
        Arc::new(TsigKey::new(
            name,
            TsigKeySpec {
                name: name.into(),
                algorithm,
                scope,
                resource_id: format!("id-{name}"),
                secret_ref: TsigSecretRef {
                    name: secret.into(),
                },
            },
        ))
    }

    #[test]
    fn usable_keys_are_scoped_and_the_others_guard() {
        let objects = [
            object("pool-key", TsigAlgorithm::HmacSha256, TsigScope::Pool, "s1"),
            object("zone-key", TsigAlgorithm::HmacSha512, TsigScope::Zone, "s2"),
            object(
                "no-secret",
                TsigAlgorithm::HmacSha256,
                TsigScope::Pool,
                "gone",
            ),
            object(
                "bad-secret",
                TsigAlgorithm::HmacSha256,
                TsigScope::Zone,
                "s3",
            ),
        ];
        let keys = policy_keys(&objects, |name| match name {
            "s1" | "s2" => Some("c2VjcmV0".into()),
            "s3" => Some("not base64!".into()),
            _ => None,
        });
        let names: Vec<(String, KeyScope)> = keys
            .keys
            .iter()
            .map(|k| (k.name(), k.scope().clone()))
            .collect();
        assert_eq!(
            names,
            [
                ("pool-key.".into(), KeyScope::Pool("id-pool-key".into())),
                ("zone-key.".into(), KeyScope::Zone("id-zone-key".into())),
            ]
        );
        assert_eq!(
            keys.guarded,
            BTreeSet::from([
                KeyScope::Pool("id-no-secret".into()),
                KeyScope::Zone("id-bad-secret".into()),
            ])
        );
    }

    #[test]
    fn a_zone_is_signed_with_its_own_key_else_its_pools() {
        let scoped = |name: &str, scope: TsigScope, id: &str| {
            let mut key = (*object(name, TsigAlgorithm::HmacSha256, scope, "s")).clone();
            key.spec.resource_id = id.into();
            Arc::new(key)
        };
        let objects = [
            scoped("pool-b", TsigScope::Pool, "p1"),
            scoped("pool-a", TsigScope::Pool, "p1"),
            scoped("zone-key", TsigScope::Zone, "z1"),
        ];
        let secret = |_: &str| Some("c2VjcmV0".to_string());
        let name =
            |zone: &str, pool: Option<&str>| zone_key(&objects, secret, zone, pool).map(|k| k.name);
        assert_eq!(name("z1", Some("p1")).as_deref(), Some("zone-key"));
        assert_eq!(name("z2", Some("p1")).as_deref(), Some("pool-a"));
        assert_eq!(name("z2", Some("p2")), None);
        // Pulls from masters: the zone's own key, never its pool's.
        assert_eq!(name("z1", None).as_deref(), Some("zone-key"));
        assert_eq!(name("z2", None), None);
        // Without its Secret the key signs nothing (MiniDNS refuses the
        // zone's transfers then anyway).
        assert!(zone_key(&objects, |_| None, "z1", Some("p1")).is_none());
    }
}
