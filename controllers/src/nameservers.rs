//! The IO shell of propagation: provisioning zones on a pool's backend
//! targets, NOTIFY, and asking the pool's nameservers for their serial.
//! What to make of the answers is [`crate::propagation`]'s (pure).

use std::net::SocketAddr;
use std::time::Duration;

use designate_backends::{TSIGKEY_NAME, Target};
use designate_crd::{HostPort, Pool, PoolTarget, SecretRef};
use futures::future::join_all;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use tracing::{debug, warn};

use crate::propagation::{Answer, Observation};
use crate::tsig::ZoneKey;
use crate::{Context, Error};

/// The servers of a pool a zone change concerns.
pub(crate) struct PoolServers<'a> {
    pool: &'a Pool,
    /// The zone's TSIG key: signs NOTIFYs and polls, and is the key the
    /// targets transfer with unless their `tsigkey_name` says otherwise.
    key: Option<ZoneKey>,
}

impl<'a> PoolServers<'a> {
    pub(crate) fn new(pool: &'a Pool) -> Self {
        Self { pool, key: None }
    }

    pub(crate) fn signed_with(mut self, key: Option<ZoneKey>) -> Self {
        self.key = key;
        self
    }

    fn signer(&self) -> Option<&designate_mdns::TsigKey> {
        self.key.as_ref().map(|key| &key.signer)
    }

    /// Whether there is anything to provision or confirm.
    pub(crate) fn is_empty(&self) -> bool {
        self.pool.spec.targets.is_empty() && self.pool.spec.nameservers.is_empty()
    }

    /// Creates (or brings up to date) the zone on every target, at once. A
    /// target that fails is logged and skipped: its nameservers then show
    /// the zone missing, and the next check tries again; the others go
    /// ahead. Targets that load a new zone with its data are handed the
    /// zone as MiniDNS serves it, rendered once.
    pub(crate) async fn provision(
        &self,
        ctx: &Context,
        zone_id: &str,
        zone: &str,
    ) -> Result<(), Error> {
        let failed = |type_: &str, error: &designate_backends::Error| {
            warn!(zone, target = %type_, reason = error.reason(), %error, "zone not provisioned");
        };
        let mut backends = Vec::new();
        for target in self.targets(ctx).await? {
            match designate_backends::backend(&target) {
                Ok(backend) => backends.push((backend, target.type_)),
                Err(error) => failed(&target.type_, &error),
            }
        }
        let content = if backends.iter().any(|(b, _)| b.loads_zone_content()) {
            designate_mdns::zone_file(&ctx.storage, zone_id)
                .await
                .inspect_err(|error| warn!(zone, %error, "zone file not rendered"))
                .ok()
                .flatten()
        } else {
            None
        };
        let creates = backends.iter().map(|(backend, type_)| async {
            let created = match content.as_deref() {
                Some(content) if backend.loads_zone_content() => {
                    backend.create_zone_with(zone, content).await
                }
                _ => backend.create_zone(zone).await,
            };
            if let Err(error) = created {
                failed(type_, &error);
            }
        });
        join_all(creates).await;
        debug!(zone, "zone provisioned on the pool's targets");
        Ok(())
    }

    /// Removes the zone from every target; `purge`: with whatever they
    /// kept of it (Designate's hard delete).
    pub(crate) async fn unprovision(
        &self,
        ctx: &Context,
        zone: &str,
        purge: bool,
    ) -> Result<(), Error> {
        for target in self.targets(ctx).await? {
            let backend = designate_backends::backend(&target)?;
            if purge {
                backend.purge_zone(zone).await?;
            } else {
                backend.delete_zone(zone).await?;
            }
        }
        Ok(())
    }

    /// Tells every nameserver and also-notify of the new serial. A lost
    /// NOTIFY only delays the secondary until its refresh, and the polling
    /// that follows shows it; so failures are logged, not returned.
    pub(crate) async fn notify(&self, ctx: &Context, zone: &str, serial: i64) {
        let spec = &self.pool.spec;
        let hosts = spec.nameservers.iter().chain(&spec.also_notifies);
        tokio::join!(
            self.send_notifies(ctx, zone, serial, hosts),
            self.retrieve(ctx, zone)
        );
    }

    /// Sends NOTIFY to the pool's also-notifies only (as Designate's
    /// worker does after every zone action, a create included).
    pub(crate) async fn notify_also(&self, ctx: &Context, zone: &str, serial: i64) {
        let hosts = self.pool.spec.also_notifies.iter();
        self.send_notifies(ctx, zone, serial, hosts).await;
    }

    /// Asks the targets that would sit on a NOTIFY to transfer now.
    async fn retrieve(&self, ctx: &Context, zone: &str) {
        let Ok(targets) = self.targets(ctx).await else {
            return;
        };
        let slow = targets.iter().filter_map(|target| {
            let backend = designate_backends::backend(target).ok()?;
            (!backend.acts_on_notify_at_once()).then_some(backend)
        });
        let retrievals = slow.map(|backend| async move {
            if let Err(error) = backend.update_zone(zone).await {
                debug!(zone, reason = error.reason(), %error, "retrieval not triggered");
            }
        });
        join_all(retrievals).await;
    }

    async fn send_notifies(
        &self,
        ctx: &Context,
        zone: &str,
        serial: i64,
        hosts: impl Iterator<Item = &HostPort>,
    ) {
        let timeout = ctx.settings.propagation.query_timeout;
        let sends = hosts.map(|hp| async move {
            let result = match resolve(hp).await {
                Ok(addr) => {
                    designate_mdns::notify(zone, serial as u32, addr, self.signer(), timeout).await
                }
                Err(error) => Err(error),
            };
            if let Err(error) = result {
                debug!(zone, host = %hp.host, port = hp.port, %error, "NOTIFY not acknowledged");
            }
        });
        join_all(sends).await;
    }

    /// Asks every nameserver of the pool for the zone's serial, at once.
    pub(crate) async fn observe(&self, ctx: &Context, zone: &str) -> Vec<Observation> {
        let timeout = ctx.settings.propagation.query_timeout;
        let asks = self.pool.spec.nameservers.iter().map(|hp| async move {
            let answer = match resolve(hp).await {
                Ok(addr) => {
                    match designate_mdns::soa_serial(addr, zone, self.signer(), timeout).await {
                        Ok(Some(serial)) => Answer::Serial(i64::from(serial)),
                        Ok(None) => Answer::NotServed,
                        Err(error) => Answer::Unreachable(error.to_string()),
                    }
                }
                Err(error) => Answer::Unreachable(error.to_string()),
            };
            Observation {
                host: hp.host.clone(),
                port: hp.port,
                answer,
            }
        });
        join_all(asks).await
    }

    /// `target` transferring with the zone's key: named by `tsigkey_name`
    /// unless the target names a key of its own, and with the key's
    /// material when it is that key (a PowerDNS target installs it).
    fn with_key(&self, target: Target) -> Target {
        let Some(key) = &self.key else {
            return target;
        };
        match target.get(TSIGKEY_NAME) {
            Some(name) if name.trim_end_matches('.') != key.name => target,
            _ => target.with_secrets([
                (TSIGKEY_NAME, key.name.as_str()),
                (designate_backends::TSIGKEY_ALGORITHM, key.algorithm),
                (designate_backends::TSIGKEY_SECRET, key.secret.as_str()),
            ]),
        }
    }

    /// The pool's targets with their Secrets' values merged over their options.
    async fn targets(&self, ctx: &Context) -> Result<Vec<Target>, Error> {
        let mut targets = Vec::with_capacity(self.pool.spec.targets.len());
        for spec in &self.pool.spec.targets {
            let mut target = backend_target(spec)?;
            if let Some(secret_ref) = &spec.secret_ref {
                let secret = target_secret(ctx, secret_ref).await?;
                let values = secret
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()));
                let plain = secret.string_data.unwrap_or_default();
                target = target.with_secrets(values.chain(plain));
            }
            ctx.settings.target_rules.check(&target)?;
            targets.push(self.with_key(target));
        }
        Ok(targets)
    }
}

/// The backends' view of a Pool's target (its options, without its Secret).
pub(crate) fn backend_target(spec: &PoolTarget) -> Result<Target, Error> {
    Ok(serde_json::from_value(serde_json::to_value(spec)?)?)
}

/// A pool target's Secret (in the operator's namespace when its reference
/// names none); a missing one is [`Error::SecretNotFound`].
pub(crate) async fn target_secret(ctx: &Context, secret_ref: &SecretRef) -> Result<Secret, Error> {
    let namespace = secret_ref
        .namespace
        .as_deref()
        .unwrap_or(&ctx.settings.namespace);
    let name = secret_ref.name.as_str();
    let settings = &ctx.settings;
    if namespace != settings.namespace
        && !settings
            .target_secret_namespaces
            .iter()
            .any(|n| n == namespace)
    {
        return Err(designate_backends::Error::TargetNotAllowed {
            option: "secretRef.namespace".into(),
            message: format!("{namespace:?} is not the operator's namespace nor one it allows"),
        }
        .into());
    }
    Api::<Secret>::namespaced(ctx.client.clone(), namespace)
        .get_opt(name)
        .await
        .inspect_err(
            |error| warn!(secret = name, namespace, %error, "pool target secret unreadable"),
        )?
        .ok_or_else(|| Error::SecretNotFound {
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
}

/// A nameserver's socket address (its host may be a name).
async fn resolve(hp: &HostPort) -> Result<SocketAddr, designate_mdns::Error> {
    let port = u16::try_from(hp.port).unwrap_or(53);
    if let Ok(ip) = hp.host.parse() {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((hp.host.as_str(), port))
        .await?
        .next()
        .ok_or_else(|| designate_mdns::Error::InvalidName(hp.host.clone()))
}

/// How long ago something happened, from a status timestamp.
pub(crate) fn since(time: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> Duration {
    let now = k8s_openapi::jiff::Timestamp::now();
    Duration::try_from(now.duration_since(time.0)).unwrap_or_default()
}
