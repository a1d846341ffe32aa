//! Service heartbeats as `coordination.k8s.io/v1` Leases, as Kubernetes
//! nodes heartbeat: each role renews one Lease in the operator's namespace
//! every interval, and `/v2/service_statuses` shows it `UP` while the last
//! renewal is younger than the Lease's `leaseDurationSeconds`.
//!
//! Designate 23's services and what does their work here:
//! - `api`: the REST API;
//! - `central`: the controllers (Central's rules run in the Zone
//!   controller's decisions);
//! - `worker`: the controllers too (the Zone controller provisions zones
//!   on the backends and polls the nameservers);
//! - `producer`: the controllers too (the periodic heal of settled zones,
//!   Designate's `periodic_recovery`);
//! - `mdns`: MiniDNS.
//!
//! One Lease per service and host, as Designate keeps one row per
//! `(service_name, hostname)`: a restarted instance renews its own Lease
//! again (same id), and the holder identity (`host_pid`) tells which
//! process holds it. Instances on one machine need a `--host` each. A
//! role that stops (its task ends, the process exits or is killed) stops
//! renewing, and shows `DOWN` once the timeout passed; Leases not renewed
//! for `--heartbeat-gc-after` are deleted. A graceful stop (SIGTERM)
//! releases its Leases (no holder), which shows `STOPPED`, as Designate's
//! heartbeat emitter sends on stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use designate_rest::service_statuses::{HOSTNAME_ANNOTATION, SERVICE_LABEL};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{
    DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams, Preconditions,
};
use serde_json::json;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// The field manager of heartbeat writes.
const FIELD_MANAGER: &str = "designate-heartbeat";

/// How this instance heartbeats.
#[derive(clap::Args, Clone, Debug)]
pub struct HeartbeatArgs {
    /// The host name this instance reports in service statuses
    /// (Designate's `[DEFAULT] host`); the machine's when unset. Each
    /// instance on one machine needs its own.
    #[arg(long = "host", env = "DESIGNATE_HOST")]
    pub host: Option<String>,
    /// How often each role renews its heartbeat (Designate's
    /// `[heartbeat_emitter] heartbeat_interval`); 10s when unset.
    #[arg(long, value_parser = super::parse_duration)]
    pub heartbeat_interval: Option<Duration>,
    /// How long after its last heartbeat a role shows DOWN (the Lease's
    /// `leaseDurationSeconds`; whole seconds, longer than the interval);
    /// three intervals, at least 30s, when unset.
    #[arg(long, value_parser = super::parse_duration)]
    pub heartbeat_timeout: Option<Duration>,
    /// Heartbeats not renewed for this long (instances gone for good) are
    /// deleted, e.g. `1440m`.
    #[arg(long, default_value = "1440m", value_parser = super::parse_duration)]
    pub heartbeat_gc_after: Duration,
}

impl HeartbeatArgs {
    fn interval(&self) -> Duration {
        self.heartbeat_interval.unwrap_or(Duration::from_secs(10))
    }

    fn timeout(&self) -> Duration {
        self.heartbeat_timeout
            .unwrap_or_else(|| (self.interval() * 3).max(Duration::from_secs(30)))
    }
}

/// The heartbeats of one process's roles.
#[derive(Clone)]
pub struct Heartbeats {
    leases: Api<Lease>,
    namespace: String,
    host: String,
    identity: String,
    interval: Duration,
    timeout_seconds: i32,
    gc_after: Duration,
    /// The services this process started, released on a graceful stop.
    started: Arc<Mutex<Vec<&'static str>>>,
    /// Set once stopping: no heartbeat is sent after.
    stopping: Arc<AtomicBool>,
}

/// A role's heartbeat: it beats until this is dropped.
pub struct Beating(JoinHandle<()>);

impl Drop for Beating {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Heartbeats {
    pub fn new(client: kube::Client, namespace: &str, args: &HeartbeatArgs) -> Result<Self> {
        let (interval, timeout) = (args.interval(), args.timeout());
        let timeout_seconds = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
        // The Lease holds whole seconds: that is the timeout that counts.
        let effective = Duration::from_secs(u64::try_from(timeout_seconds).unwrap_or(0));
        if timeout_seconds < 1 || effective <= interval {
            bail!(
                "--heartbeat-timeout ({timeout:?}) must be at least 1s and longer than --heartbeat-interval ({interval:?})"
            );
        }
        if interval.is_zero() {
            bail!("--heartbeat-interval must not be 0");
        }
        let host = match &args.host {
            Some(host) if !host.trim().is_empty() => host.trim().to_string(),
            Some(_) => bail!("--host must not be empty"),
            None => machine_hostname(),
        };
        Ok(Self {
            leases: Api::namespaced(client, namespace),
            namespace: namespace.to_string(),
            identity: format!("{host}_{}", std::process::id()),
            host,
            interval,
            timeout_seconds,
            gc_after: args.heartbeat_gc_after,
            started: Arc::default(),
            stopping: Arc::default(),
        })
    }

    /// The host name the heartbeats report.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Who this process is: its host and pid.
    pub fn identity(&self) -> String {
        self.identity.clone()
    }

    /// Starts `service`'s heartbeat; the first is sent at once.
    pub fn start(&self, service: &'static str) -> Beating {
        let this = self.clone();
        let name = lease_name(service, &self.host);
        info!(service, lease = %name, namespace = %self.namespace, "heartbeat started");
        self.started.lock().expect("not poisoned").push(service);
        Beating(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(this.interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if this.stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Err(error) = this.beat(&name, service).await {
                    warn!(service, %error, "heartbeat not written");
                }
            }
        }))
    }

    /// Renews (or creates) the Lease of `service` on this host.
    async fn beat(&self, name: &str, service: &str) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let Some(existing) = self.leases.get_opt(name).await? else {
            let lease = self.new_lease(name, service, now);
            return match self.leases.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(()),
                // Made by another instance meanwhile: renewed next time.
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
                Err(error) => Err(error),
            };
        };
        let spec = existing.spec.unwrap_or_default();
        let mut renewal = json!({
            "renewTime": MicroTime(now),
            "leaseDurationSeconds": self.timeout_seconds,
        });
        if spec.holder_identity.as_deref() != Some(&self.identity) {
            if let Some(holder) = &spec.holder_identity
                && designate_rest::service_statuses::status_at(
                    spec.renew_time.as_ref().map(|t| t.0),
                    spec.lease_duration_seconds,
                    now,
                ) == "UP"
            {
                warn!(
                    service,
                    host = %self.host,
                    %holder,
                    "taking over a heartbeat renewed within its timeout: a restart, or another instance with this --host (give each its own)"
                );
            }
            renewal["holderIdentity"] = json!(self.identity);
            renewal["acquireTime"] = json!(MicroTime(now));
            renewal["leaseTransitions"] = json!(spec.lease_transitions.unwrap_or(0) + 1);
        }
        let patch = json!({
            "metadata": {
                "labels": {SERVICE_LABEL: service},
                "annotations": {HOSTNAME_ANNOTATION: self.host},
            },
            "spec": renewal,
        });
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        self.leases
            .patch(name, &params, &Patch::Merge(&patch))
            .await
            .map(drop)
    }

    /// A graceful stop: no more heartbeats, and this process's Leases
    /// released (no holder), which service statuses show `STOPPED`. A Lease
    /// another instance took over meanwhile is left alone.
    pub async fn release_all(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let services = self.started.lock().expect("not poisoned").clone();
        for service in services {
            let name = lease_name(service, &self.host);
            if let Err(error) = self.release(&name).await {
                warn!(service, %error, "heartbeat not released");
            }
        }
    }

    async fn release(&self, name: &str) -> Result<(), kube::Error> {
        let Some(lease) = self.leases.get_opt(name).await? else {
            return Ok(());
        };
        let holder = lease
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref());
        if holder != Some(self.identity.as_str()) {
            return Ok(());
        }
        // Only the version read: a takeover since wins.
        let patch = json!({
            "metadata": {"resourceVersion": lease.metadata.resource_version},
            "spec": {"holderIdentity": null},
        });
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        match self
            .leases
            .patch(name, &params, &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                info!(lease = %name, "heartbeat released: STOPPED");
                Ok(())
            }
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn new_lease(&self, name: &str, service: &str, now: Timestamp) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some(self.namespace.clone()),
                labels: Some(
                    [
                        (SERVICE_LABEL.to_string(), service.to_string()),
                        (
                            "app.kubernetes.io/managed-by".to_string(),
                            "designate-operator".to_string(),
                        ),
                    ]
                    .into(),
                ),
                annotations: Some([(HOSTNAME_ANNOTATION.to_string(), self.host.clone())].into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.identity.clone()),
                lease_duration_seconds: Some(self.timeout_seconds),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        }
    }

    /// Deletes, now and then, the heartbeats of instances gone for longer
    /// than `--heartbeat-gc-after`.
    pub fn collect_garbage(&self) -> JoinHandle<()> {
        let this = self.clone();
        let every = (self.gc_after / 10).clamp(self.interval, Duration::from_secs(600));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(error) = this.sweep().await {
                    warn!(%error, "collecting stale heartbeats");
                }
            }
        })
    }

    async fn sweep(&self) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let listed = self
            .leases
            .list(&ListParams::default().labels(SERVICE_LABEL))
            .await?;
        for lease in listed {
            let renewed = lease
                .spec
                .as_ref()
                .and_then(|s| s.renew_time.as_ref())
                .map(|t| t.0)
                .or_else(|| lease.metadata.creation_timestamp.as_ref().map(|t| t.0));
            if !is_stale(renewed, now, self.gc_after) {
                continue;
            }
            let name = lease.metadata.name.clone().unwrap_or_default();
            // Only the version seen stale: a renewal since keeps it.
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: lease.metadata.uid.clone(),
                    resource_version: lease.metadata.resource_version.clone(),
                }),
                ..DeleteParams::default()
            };
            match self.leases.delete(&name, &params).await {
                Ok(_) => info!(lease = %name, "stale heartbeat deleted"),
                Err(kube::Error::Api(e)) if matches!(e.code, 404 | 409) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

/// Whether a heartbeat last renewed at `renewed` is older than `after`.
fn is_stale(renewed: Option<Timestamp>, now: Timestamp, after: Duration) -> bool {
    let Some(renewed) = renewed else {
        return false;
    };
    let age_ms = now.as_millisecond() - renewed.as_millisecond();
    age_ms > i64::try_from(after.as_millis()).unwrap_or(i64::MAX)
}

/// The machine's host name (`/proc/sys/kernel/hostname`, `$HOSTNAME`).
fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The Lease of `service` on `host`: `designate-<service>-<host>`, the host
/// made a valid object name (lowercase, other characters as `-`), with a
/// hash of the host when that changed it, so two hosts never share one.
fn lease_name(service: &str, host: &str) -> String {
    let slug: String = host
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches(|c| c == '-' || c == '.');
    let mut slug: String = slug.chars().take(200).collect();
    if slug != host || slug.contains("..") {
        let hash = host.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        slug = format!("{}-{hash:016x}", slug.replace("..", "-"));
    }
    format!("designate-{service}-{}", slug.trim_start_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::ResourceExt;

    #[test]
    fn lease_names_are_object_names_and_keep_hosts_apart() {
        assert_eq!(lease_name("central", "vm"), "designate-central-vm");
        assert_eq!(
            lease_name("mdns", "node-1.example.org"),
            "designate-mdns-node-1.example.org"
        );
        let upper = lease_name("api", "VM");
        assert!(upper.starts_with("designate-api-vm-"), "{upper}");
        assert_ne!(upper, lease_name("api", "vm"));
        assert_ne!(lease_name("api", "a_b"), lease_name("api", "a-b"));
        let long = lease_name("producer", &"x".repeat(300));
        assert!(long.len() <= 253, "{}", long.len());
        for name in [upper, long, lease_name("worker", "_weird..host_")] {
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'.')
                    && !name.contains("..")
                    && !name.ends_with('-'),
                "{name}"
            );
        }
    }

    /// A Lease API on the embedded API server, in a fresh data dir.
    async fn embedded() -> (kube::Client, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "designate-heartbeat-{}-{}",
            std::process::id(),
            Timestamp::now().as_nanosecond()
        ));
        let server = designate_apiserver::ApiServer::open(designate_apiserver::Config::new(&dir))
            .await
            .unwrap();
        (kube::Client::new(server.router(), "default"), dir)
    }

    fn args(host: &str) -> HeartbeatArgs {
        HeartbeatArgs {
            host: Some(host.into()),
            heartbeat_interval: Some(Duration::from_millis(50)),
            heartbeat_timeout: Some(Duration::from_secs(1)),
            heartbeat_gc_after: Duration::from_secs(3600),
        }
    }

    async fn renewed(leases: &Api<Lease>, name: &str) -> Option<Timestamp> {
        let lease = leases.get_opt(name).await.unwrap()?;
        lease.spec?.renew_time.map(|t| t.0)
    }

    #[tokio::test]
    async fn a_role_renews_its_lease_until_it_stops() {
        let (client, dir) = embedded().await;
        let heartbeats = Heartbeats::new(client.clone(), "default", &args("node-a")).unwrap();
        let leases: Api<Lease> = Api::namespaced(client, "default");
        let beating = heartbeats.start("mdns");
        let name = lease_name("mdns", "node-a");
        // The first renewal, then a later one.
        let mut first = None;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            match (first, renewed(&leases, &name).await) {
                (None, Some(at)) => first = Some(at),
                (Some(before), Some(at)) if at > before => break,
                _ => {}
            }
        }
        let lease = leases.get(&name).await.unwrap();
        let first = first.expect("a lease");
        assert!(renewed(&leases, &name).await.unwrap() > first, "renewed");
        assert_eq!(lease.labels()[SERVICE_LABEL], "mdns");
        assert_eq!(lease.annotations()[HOSTNAME_ANNOTATION], "node-a");
        let spec = lease.spec.unwrap();
        assert_eq!(spec.lease_duration_seconds, Some(1));
        assert_eq!(
            spec.holder_identity,
            Some(format!("node-a_{}", std::process::id()))
        );
        // Stopped: no renewal after.
        drop(beating);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let last = renewed(&leases, &name).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(renewed(&leases, &name).await, last);
        // A restarted instance on the same host takes the same Lease over.
        let restarted = Heartbeats {
            identity: "node-a_1".into(),
            ..heartbeats.clone()
        };
        let uid = leases.get(&name).await.unwrap().metadata.uid;
        restarted.beat(&name, "mdns").await.unwrap();
        let lease = leases.get(&name).await.unwrap();
        assert_eq!(lease.metadata.uid, uid, "same id");
        let spec = lease.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("node-a_1"));
        assert_eq!(spec.lease_transitions, Some(1));
        // Not stale yet; stale once the GC age is shorter than its age.
        heartbeats.sweep().await.unwrap();
        assert!(leases.get_opt(&name).await.unwrap().is_some());
        let eager = Heartbeats {
            gc_after: Duration::from_millis(1),
            ..heartbeats
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        eager.sweep().await.unwrap();
        assert!(leases.get_opt(&name).await.unwrap().is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn timeouts_must_outlast_the_interval() {
        let timing = |interval: u64, timeout: u64| {
            let mut a = args("h");
            a.heartbeat_interval = Some(Duration::from_secs(interval));
            a.heartbeat_timeout = Some(Duration::from_secs(timeout));
            a
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, dir) = embedded().await;
            assert!(Heartbeats::new(client.clone(), "default", &timing(10, 10)).is_err());
            assert!(Heartbeats::new(client.clone(), "default", &timing(0, 0)).is_err());
            assert!(Heartbeats::new(client.clone(), "default", &timing(10, 30)).is_ok());
            // Unset, the timeout follows a long interval.
            let mut long = timing(60, 0);
            long.heartbeat_timeout = None;
            assert_eq!(long.timeout(), Duration::from_secs(180));
            assert!(Heartbeats::new(client, "default", &long).is_ok());
            let _ = std::fs::remove_dir_all(dir);
        });
    }

    #[test]
    fn only_long_dead_heartbeats_are_stale() {
        let at = |s: i64| Timestamp::from_second(s).unwrap();
        let day = Duration::from_secs(86_400);
        assert!(!is_stale(Some(at(0)), at(86_400), day));
        assert!(is_stale(Some(at(0)), at(86_401), day));
        assert!(!is_stale(None, at(1_000_000), day));
    }
}
