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

use designate_crd::{TSIG_SECRET_KEY, TsigKey, TsigScope};
use designate_mdns::{KeyScope, PolicyHandle};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use tokio::sync::oneshot;

/// The label of the Secrets that hold TSIG secrets (the REST API sets its
/// value to the key's uid; any value will do).
pub const SECRET_LABEL: &str = "designate.openstack.org/tsigkey";

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
    let (keys, keys_writer) = reflector::store::<TsigKey>();
    let (secrets, secrets_writer) = reflector::store::<Secret>();
    let key_events = reflector::reflector(
        keys_writer,
        watcher::watcher(
            Api::<TsigKey>::all(client.clone()),
            watcher::Config::default().any_semantic(),
        ),
    )
    .map(|event| event.map(|_| ()))
    .boxed();
    let secret_events = reflector::reflector(
        secrets_writer,
        watcher::watcher(
            Api::<Secret>::namespaced(client, &namespace),
            watcher::Config::default()
                .labels(SECRET_LABEL)
                .any_semantic(),
        ),
    )
    .map(|event| event.map(|_| ()))
    .boxed();
    let mut events = futures::stream::select(key_events, secret_events);
    let mut known: Option<PolicyKeys> = None;
    while let Some(event) = events.next().await {
        if let Err(error) = event {
            tracing::warn!(%error, "watching TSIG keys failed; retrying");
            continue;
        }
        let current = current_keys(&keys, &secrets);
        let listed = keys.wait_until_ready().now_or_never().is_some()
            && secrets.wait_until_ready().now_or_never().is_some();
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

fn current_keys(keys: &Store<TsigKey>, secrets: &Store<Secret>) -> PolicyKeys {
    let secrets = secrets.state();
    policy_keys(&keys.state(), |name| {
        secrets
            .iter()
            .find(|secret| secret.name_any() == name)
            .and_then(|secret| secret_text(secret))
    })
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
}
