//! The roles one process runs: MiniDNS, the REST API and the controllers.
//! `standalone` and the all-in-one cluster mode run the three; `mdns`,
//! `api` and `controllers` one each, so that a cluster scales them apart
//! (the API and MiniDNS any number of replicas, the controllers one leader
//! at a time).
//!
//! Each process serves `/metrics`, `/healthz` (it runs) and `/readyz` (each
//! of its roles is up: MiniDNS bound with its TSIG keys loaded, the REST
//! API's caches filled, the controllers leading or standing by) on its
//! operations address.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result};
use axum::http::StatusCode;
use designate_controllers::{Metrics, Settings};
use designate_leader::LeaderElector;
use designate_mdns::{AllowList, MiniDns, Network, PolicyHandle, TransferPolicy, pool_host_names};
use designate_storage::Storage;
use tracing::{error, info};

use crate::heartbeat::Heartbeats;
use crate::{Identity, RoleArgs, parse_duration, shutdown_signal};

/// The metrics of the roles: the controllers' and the REST API's.
#[derive(Clone, Default)]
pub(crate) struct RoleMetrics {
    pub controllers: Arc<Metrics>,
    pub rest: Arc<designate_rest::metrics::Metrics>,
}

impl RoleMetrics {
    pub fn render(&self) -> String {
        self.controllers.render() + &self.rest.render()
    }
}

/// Whether each role of the process is ready, by role.
#[derive(Clone, Default)]
pub(crate) struct Health {
    roles: Arc<Mutex<BTreeMap<&'static str, bool>>>,
}

impl Health {
    /// Adds `role`, not ready yet.
    pub fn register(&self, role: &'static str) -> Ready {
        self.roles.lock().expect("health lock").insert(role, false);
        Ready {
            role,
            health: self.clone(),
        }
    }

    /// Whether every role is ready, and each role's state as text.
    fn report(&self) -> (bool, String) {
        let roles = self.roles.lock().expect("health lock");
        let text = roles
            .iter()
            .map(|(role, ready)| format!("{role}: {}\n", if *ready { "ok" } else { "not ready" }))
            .collect();
        (roles.values().all(|ready| *ready), text)
    }
}

/// One role's readiness switch.
#[derive(Clone)]
pub(crate) struct Ready {
    role: &'static str,
    health: Health,
}

impl Ready {
    pub fn set(&self, ready: bool) {
        let mut roles = self.health.roles.lock().expect("health lock");
        roles.insert(self.role, ready);
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listen`.
pub(crate) async fn serve_operations(
    listen: SocketAddr,
    metrics: RoleMetrics,
    health: Health,
) -> Result<()> {
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move { format!("{}# EOF\n", metrics.render()) }
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let health = health.clone();
                async move {
                    match health.report() {
                        (true, text) => (StatusCode::OK, text),
                        (false, text) => (StatusCode::SERVICE_UNAVAILABLE, text),
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    info!(%listen, "metrics, health and readiness served at /metrics, /healthz, /readyz");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(())
}

/// What every role of a process shares.
pub(crate) struct Shared {
    pub client: kube::Client,
    pub settings: Settings,
    pub metrics: RoleMetrics,
    pub heartbeats: Heartbeats,
    pub health: Health,
}

impl Shared {
    /// The key that signs (REST) and verifies (controllers) the privileges
    /// a zone was created with, such as an admin's blacklisted name.
    pub(crate) async fn with_grant_key(&self) -> Result<Settings> {
        let grant_key = designate_controllers::grant::load_or_create_key(
            &self.client,
            &self.settings.namespace,
        )
        .await
        .context("loading the grant key")?;
        Ok(Settings {
            grant_key: Some(grant_key),
            ..self.settings.clone()
        })
    }
}

/// Starts MiniDNS on `listen`: it serves once the TSIG keys are known.
/// Besides the pools' servers it allows transfers from `allow_from`
/// (networks, addresses or host names).
pub(crate) async fn start_mdns(
    shared: &Shared,
    storage: Storage,
    listen: SocketAddr,
    allow_from: &[String],
) -> Result<()> {
    let ready = shared.health.register("mdns");
    let mdns = MiniDns::bind(listen, storage.clone(), TransferPolicy::default())
        .await
        .with_context(|| format!("MiniDNS listening on {listen}"))?;
    println!("MiniDNS:        {}", mdns.local_addr());
    tokio::spawn(keep_transfer_policy(
        storage,
        mdns.policy(),
        AllowFrom::parse(allow_from),
    ));
    let (keys_loaded, keys_known) = tokio::sync::oneshot::channel();
    tokio::spawn(designate_controllers::tsig::keep_tsig_keys(
        shared.client.clone(),
        shared.settings.namespace.clone(),
        mdns.policy(),
        Some(keys_loaded),
    ));
    // A master's NOTIFY of a secondary zone: transferred now.
    tokio::spawn(designate_controllers::secondary::ask_transfers(
        shared.client.clone(),
        mdns.secondary_notifies(),
    ));
    let beating = shared.heartbeats.start("mdns");
    tokio::spawn(async move {
        // Not before the TSIG keys are known: a keyed pool's zones would
        // transfer unsigned meanwhile.
        if keys_known.await.is_err() {
            error!("the TSIG keys were never loaded: MiniDNS does not serve");
            return;
        }
        ready.set(true);
        mdns.serve().await;
        drop(beating);
    });
    Ok(())
}

/// Starts the REST API on `args.rest_listen`.
pub(crate) async fn start_api(shared: &Shared, args: &RoleArgs, identity: Identity) -> Result<()> {
    let ready = shared.health.register("api");
    let settings = shared.with_grant_key().await?;
    let listener = tokio::net::TcpListener::bind(args.rest_listen)
        .await
        .with_context(|| format!("REST API listening on {}", args.rest_listen))?;
    let rest = designate_rest::Settings {
        central: settings.central.clone(),
        empty_namespace_grace: args.empty_namespace_grace,
        max_request_body_size: args.max_request_body_size,
        namespace: settings.namespace.clone(),
        grant_key: settings.grant_key,
        // Where the controllers run in this process too, the mirrors hold
        // their stores' copies.
        copies: settings.copies,
        ..Default::default()
    };
    let api = designate_rest::Api::start(
        shared.client.clone(),
        rest,
        identity.auth,
        identity.policy,
        shared.metrics.rest.clone(),
    )
    .await
    .context("starting the REST API's caches")?;
    println!("REST API:       http://{}", listener.local_addr()?);
    let beating = shared.heartbeats.start("api");
    ready.set(true);
    tokio::spawn(async move {
        let _beating = beating;
        if let Err(error) = designate_rest::serve(listener, api).await {
            error!(reason = error.reason(), %error, "REST API stopped");
        }
    });
    Ok(())
}

/// How the controllers replicas elect the one that acts.
#[derive(clap::Args, Clone)]
pub(crate) struct ElectionArgs {
    /// Elect one leader among controllers replicas over a Lease in the
    /// operator's namespace; without it, every replica acts (run one).
    #[arg(long, env = "DESIGNATE_LEADER_ELECT", default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// The Lease the replicas compete for.
    #[arg(long, default_value = "designate-controllers")]
    leader_election_lease: String,
    /// How long a standby waits, after the leader's last renewal, before
    /// it takes over.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    leader_election_lease_duration: Duration,
    /// How long the leader goes on without renewing before it stops.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    leader_election_renew_deadline: Duration,
    /// How often the leader renews and a standby tries.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    leader_election_retry_period: Duration,
}

/// Runs the controllers until shutdown; with an election, only while this
/// replica leads (the process ends when it stops leading, to start again
/// as a standby).
pub(crate) async fn run_controllers(
    shared: &Shared,
    storage: Storage,
    election: Option<&ElectionArgs>,
    relay: Option<impl Future<Output = ()> + Send + 'static>,
) -> Result<()> {
    let ready = shared.health.register("controllers");
    let settings = shared.with_grant_key().await?;
    // Designate's central, worker and producer work is the controllers'.
    let _beating = ["central", "worker", "producer"].map(|s| shared.heartbeats.start(s));
    let controllers = designate_controllers::run(
        shared.client.clone(),
        storage,
        settings,
        shared.metrics.controllers.clone(),
        shutdown_signal(),
    );
    // The relay runs while the controllers do (while this replica leads).
    let controllers = async move {
        match relay {
            Some(relay) => tokio::select! {
                () = controllers => {}
                () = relay => {}
            },
            None => controllers.await,
        }
    };
    let Some(election) = election.filter(|e| e.leader_elect) else {
        ready.set(true);
        controllers.await;
        return Ok(());
    };
    // The pod's name in a cluster; else the heartbeat's host and pid.
    let identity = std::env::var("POD_NAME").unwrap_or_else(|_| shared.heartbeats.identity());
    let mut elector = LeaderElector::new(
        shared.client.clone(),
        &shared.settings.namespace,
        &election.leader_election_lease,
        &identity,
        designate_leader::Settings {
            lease_duration: election.leader_election_lease_duration,
            renew_deadline: election.leader_election_renew_deadline,
            retry_period: election.leader_election_retry_period,
        },
    )?;
    // A standby is ready: it is what takes over.
    ready.set(true);
    info!(%identity, lease = %election.leader_election_lease, "waiting to lead");
    elector
        .run(controllers, shutdown_signal())
        .await
        .context("leading the controllers")
}

/// Sources the operator allows besides the pools' servers.
#[derive(Default)]
struct AllowFrom {
    networks: Vec<Network>,
    names: Vec<String>,
}

impl AllowFrom {
    fn parse(entries: &[String]) -> Self {
        let mut allowed = Self::default();
        for entry in entries {
            match entry.parse() {
                Ok(network) => allowed.networks.push(network),
                Err(_) => allowed.names.push(entry.clone()),
            }
        }
        allowed
    }
}

/// How often host names on the allow-list are resolved again.
const RESOLVE_EVERY: Duration = Duration::from_secs(30);

/// The addresses of `name`; none when it does not resolve (logged).
async fn resolve(name: &str) -> Vec<IpAddr> {
    match tokio::net::lookup_host((name, 0)).await {
        Ok(addrs) => addrs.map(|a| a.ip()).collect(),
        Err(error) => {
            tracing::warn!(host = name, %error, "allow-list host name does not resolve");
            Vec::new()
        }
    }
}

/// Keeps MiniDNS's transfer allow-list in step with the pools' nameservers
/// and targets as storage holds them (host names resolved every
/// [`RESOLVE_EVERY`]), plus what the operator allows.
async fn keep_transfer_policy(storage: Storage, policy: PolicyHandle, extra: AllowFrom) {
    let mut known = None;
    let mut resolved: HashMap<String, Vec<IpAddr>> = HashMap::new();
    let mut resolved_at: Option<tokio::time::Instant> = None;
    loop {
        match storage.pools().await {
            Ok(pools) => {
                let mut allowed = AllowList::from_pools(&pools);
                for network in &extra.networks {
                    allowed.allow_network(*network);
                }
                let names = pool_host_names(&pools);
                if resolved_at.is_none_or(|at| at.elapsed() >= RESOLVE_EVERY)
                    || names.iter().any(|(name, _)| !resolved.contains_key(name))
                {
                    resolved.clear();
                    for name in names.iter().map(|(n, _)| n).chain(&extra.names) {
                        if !resolved.contains_key(name) {
                            resolved.insert(name.clone(), resolve(name).await);
                        }
                    }
                    resolved_at = Some(tokio::time::Instant::now());
                }
                for (name, pool) in &names {
                    for ip in resolved.get(name).into_iter().flatten() {
                        allowed.allow_for_pool(*ip, pool);
                    }
                }
                for ip in extra.names.iter().filter_map(|n| resolved.get(n)).flatten() {
                    allowed.allow(*ip);
                }
                if known.as_ref() != Some(&allowed) {
                    // The keys are kept by their own watch.
                    let new = allowed.clone();
                    policy.update(|policy| policy.allowed = new);
                    known = Some(allowed);
                }
            }
            Err(error) => tracing::warn!(%error, "reading pools for MiniDNS's allow-list"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
