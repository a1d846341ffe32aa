//! `designate-operator`: the one binary of the project.
//!
//! - `standalone`: the embedded control plane plus every role, on one machine.
//! - `apiserver`: the embedded control plane alone.
//! - `crds`: prints (or writes) the CustomResourceDefinitions.
//! - no command: the controllers against a real cluster (kubeconfig or in-cluster).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use designate_apiserver::{ApiServer, Config, ExtraMetrics, Tls};
use designate_controllers::{DEFAULT_POOL, Metrics, PropagationSettings, Settings};
use designate_mdns::{AllowList, MiniDns, PolicyHandle, TransferPolicy};
use designate_storage::Storage;
use tracing::info;

mod conf;
mod heartbeat;

#[derive(Parser)]
#[command(
    name = "designate-operator",
    version,
    about = "OpenStack Designate-compatible DNS as a Service, as a Kubernetes operator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Where published zone data is kept, for the controllers against a real
    /// cluster (`mysql://`, `postgres://` or `sqlite://` URL).
    #[arg(long, env = "DESIGNATE_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where the controllers' Prometheus metrics are served (`/metrics`)
    /// against a real cluster; standalone adds them to the embedded API's.
    #[arg(long, env = "DESIGNATE_METRICS_LISTEN", default_value = "0.0.0.0:8080")]
    metrics_listen: SocketAddr,
    #[command(flatten)]
    roles: RoleArgs,
}

/// Options of the roles beside the controllers (standalone or in a cluster).
#[derive(clap::Args, Clone)]
struct RoleArgs {
    /// Where MiniDNS answers (UDP and TCP): the address pool targets name
    /// as their `masters`.
    #[arg(long, env = "DESIGNATE_MDNS_LISTEN", default_value = "127.0.0.1:5354")]
    mdns_listen: SocketAddr,
    /// Where the Designate v2 REST API answers.
    #[arg(long, env = "DESIGNATE_REST_LISTEN", default_value = "127.0.0.1:9001")]
    rest_listen: SocketAddr,
    #[command(flatten)]
    identity: IdentityArgs,
    /// How long a project namespace made by the REST API is kept once it
    /// holds nothing (e.g. `5m`).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    empty_namespace_grace: Duration,
    #[command(flatten)]
    central: conf::CentralArgs,
    /// Share of a pool's nameservers that must serve a change (percent).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=100))]
    threshold_percentage: u8,
    /// How long to wait for the nameservers before a zone shows ERROR (e.g. `30s`).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    propagation_timeout: Duration,
    /// How often settled zones are checked on their nameservers (put back
    /// where lost, ERROR re-driven), e.g. `60s`.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    heal_interval: Duration,
    #[command(flatten)]
    heartbeat: heartbeat::HeartbeatArgs,
}

/// Who may call the REST API: Designate's `[service:api] auth_strategy`,
/// `[keystone_authtoken]` and `[oslo_policy]`.
#[derive(clap::Args, Clone)]
struct IdentityArgs {
    /// `keystone`: callers send Keystone tokens; `noauth`: the project and
    /// roles come from `X-Auth-Project-ID` and `X-Roles` (development only).
    #[arg(long, env = "DESIGNATE_AUTH_STRATEGY", default_value = "noauth")]
    auth_strategy: AuthStrategy,
    /// Serve noauth on an address off loopback all the same (anyone who
    /// reaches it is whoever they say).
    #[arg(long)]
    noauth_off_loopback: bool,
    /// Keystone's v3 endpoint, e.g. `http://127.0.0.1:5000/v3`.
    #[arg(long, env = "DESIGNATE_KEYSTONE_URL")]
    keystone_url: Option<String>,
    /// The service user that validates tokens.
    #[arg(long, env = "DESIGNATE_KEYSTONE_USERNAME", default_value = "designate")]
    keystone_username: String,
    /// A file holding the service user's password (else
    /// `DESIGNATE_KEYSTONE_PASSWORD`).
    #[arg(long, env = "DESIGNATE_KEYSTONE_PASSWORD_FILE")]
    keystone_password_file: Option<PathBuf>,
    #[arg(
        long,
        env = "DESIGNATE_KEYSTONE_PROJECT_NAME",
        default_value = "service"
    )]
    keystone_project_name: String,
    #[arg(
        long,
        env = "DESIGNATE_KEYSTONE_USER_DOMAIN",
        default_value = "Default"
    )]
    keystone_user_domain: String,
    #[arg(
        long,
        env = "DESIGNATE_KEYSTONE_PROJECT_DOMAIN",
        default_value = "Default"
    )]
    keystone_project_domain: String,
    /// How long a validated token is trusted before Keystone is asked again
    /// (never past its expiry); keystonemiddleware's `token_cache_time`.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    keystone_token_cache_time: Duration,
    /// An oslo.policy YAML (or JSON) file whose rules replace Designate's
    /// defaults.
    #[arg(long, env = "DESIGNATE_POLICY_FILE")]
    policy_file: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum AuthStrategy {
    Keystone,
    Noauth,
}

/// How REST callers are authenticated and what the policy lets them do.
struct Identity {
    auth: Box<dyn designate_rest::auth::Authenticate>,
    policy: designate_identity::policy::Policy,
}

impl IdentityArgs {
    fn build(&self, rest_listen: SocketAddr) -> Result<Identity> {
        Ok(Identity {
            auth: self.authenticator(rest_listen)?,
            policy: self.policy()?,
        })
    }

    /// The authentication of REST requests; refuses noauth off loopback
    /// unless asked for explicitly.
    fn authenticator(
        &self,
        listen: SocketAddr,
    ) -> Result<Box<dyn designate_rest::auth::Authenticate>> {
        match self.auth_strategy {
            AuthStrategy::Noauth => {
                if !listen.ip().is_loopback() && !self.noauth_off_loopback {
                    bail!(
                        "--auth-strategy noauth on {listen} lets anyone who reaches it act as any \
                         project; listen on loopback, use --auth-strategy keystone, or pass \
                         --noauth-off-loopback"
                    );
                }
                Ok(Box::new(designate_rest::auth::NoAuth))
            }
            AuthStrategy::Keystone => {
                let url = self
                    .keystone_url
                    .clone()
                    .context("--auth-strategy keystone needs --keystone-url")?;
                let password = match &self.keystone_password_file {
                    Some(file) => std::fs::read_to_string(file)
                        .with_context(|| format!("reading {}", file.display()))?
                        .trim_end_matches(['\r', '\n'])
                        .to_string(),
                    None => std::env::var("DESIGNATE_KEYSTONE_PASSWORD").context(
                        "--auth-strategy keystone needs --keystone-password-file or DESIGNATE_KEYSTONE_PASSWORD",
                    )?,
                };
                let keystone = designate_identity::keystone::Keystone::new(
                    designate_identity::keystone::Settings {
                        url,
                        username: self.keystone_username.clone(),
                        password,
                        project_name: self.keystone_project_name.clone(),
                        user_domain: self.keystone_user_domain.clone(),
                        project_domain: self.keystone_project_domain.clone(),
                        cache_time: self.keystone_token_cache_time,
                        cache_capacity: 100_000,
                        timeout: Duration::from_secs(10),
                    },
                )?;
                Ok(Box::new(designate_rest::auth::KeystoneAuth(keystone)))
            }
        }
    }

    /// Designate's default rules, with the policy file's over them.
    fn policy(&self) -> Result<designate_identity::policy::Policy> {
        let defaults = designate_identity::policy::Policy::designate_defaults();
        let Some(file) = &self.policy_file else {
            return Ok(defaults);
        };
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        defaults
            .with_overrides(&text)
            .with_context(|| format!("policy file {}", file.display()))
    }
}

impl RoleArgs {
    /// Central's rules, shared by the controllers and the REST API; a bad
    /// option stops the start.
    fn settings(&self, namespace: &str) -> Result<Settings> {
        Ok(Settings {
            central: self.central.config()?,
            propagation: PropagationSettings {
                threshold_percentage: self.threshold_percentage,
                timeout: self.propagation_timeout,
                heal_interval: self.heal_interval,
                ..PropagationSettings::default()
            },
            namespace: namespace.to_string(),
            // Loaded once the API is reachable (`run_roles`).
            grant_key: None,
        })
    }
}

/// `250ms`, `30s`, `5m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| text.split_at(i))
        .ok_or_else(|| format!("{text:?}: add a unit (ms, s or m)"))?;
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: not a duration"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{text:?}: unit must be ms, s or m")),
    }
}

#[derive(clap::Args, Clone)]
struct StandaloneArgs {
    #[command(flatten)]
    control_plane: ControlPlaneArgs,
    /// Where published zone data is kept: `mysql://`, `postgres://` or
    /// `sqlite://` URL; SQLite in the data dir when unset.
    #[arg(long, env = "DESIGNATE_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// NS record of the `default` Pool created on first start (the pool
    /// zones go to when they name none).
    #[arg(long, default_value = "ns1.example.org.")]
    default_ns_record: String,
    #[command(flatten)]
    roles: RoleArgs,
}

#[derive(clap::Args, Clone)]
struct ControlPlaneArgs {
    /// Where objects (SQLite) and the kubeconfig are kept.
    #[arg(long, env = "DESIGNATE_DATA_DIR", default_value = "./designate-data")]
    data_dir: PathBuf,
    /// Address of the Kubernetes API (kubectl, controllers).
    #[arg(long, env = "DESIGNATE_KUBE_LISTEN", default_value = "127.0.0.1:6443")]
    kube_listen: SocketAddr,
    /// Bearer token clients must send; generated (and kept in the data dir)
    /// when listening off loopback without one.
    #[arg(long, env = "DESIGNATE_KUBE_TOKEN", hide_env_values = true)]
    kube_token: Option<String>,
    /// Serve HTTPS (a CA in the data dir signs the serving certificate);
    /// always on when listening off loopback.
    #[arg(long, env = "DESIGNATE_KUBE_TLS")]
    kube_tls: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process on an embedded Kubernetes-compatible API.
    Standalone(Box<StandaloneArgs>),
    /// Run only the embedded Kubernetes-compatible API (no controllers).
    Apiserver(ControlPlaneArgs),
    /// Print the CRDs as YAML, or write them as files into a directory.
    Crds {
        /// Directory to write `<plural>.<group>.yaml` files into.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        None => {
            let identity = cli.roles.identity.build(cli.roles.rest_listen)?;
            // The namespace the operator runs in (set by the chart from the pod's).
            let namespace = std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "default".into());
            let settings = cli.roles.settings(&namespace)?;
            run_in_cluster(
                cli.database_url,
                cli.metrics_listen,
                cli.roles,
                settings,
                identity,
            )
            .await
        }
        Some(Command::Standalone(args)) => {
            let database_url = args.database_url.clone().unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    args.control_plane.data_dir.join("designate.db").display()
                )
            });
            // Refused before anything starts: a bad identity setup or
            // option is not a half-running service.
            let identity = args.roles.identity.build(args.roles.rest_listen)?;
            let settings = args.roles.settings("default")?;
            let roles = Roles {
                database_url,
                default_ns_record: args.default_ns_record,
                args: args.roles,
                settings,
                identity,
            };
            standalone(args.control_plane, Some(roles)).await
        }
        Some(Command::Apiserver(args)) => standalone(args, None).await,
        Some(Command::Crds { out }) => crds(out.as_deref()),
    }
}

fn crds(out: Option<&Path>) -> Result<()> {
    for (file, yaml) in designate_crd::crd_files() {
        match out {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                std::fs::write(dir.join(&file), yaml)?;
            }
            None => print!("---\n{yaml}"),
        }
    }
    Ok(())
}

async fn run_in_cluster(
    database_url: Option<String>,
    metrics_listen: SocketAddr,
    roles: RoleArgs,
    settings: Settings,
    identity: Identity,
) -> Result<()> {
    let database_url = database_url
        .context("--database-url (or DESIGNATE_DATABASE_URL) is required against a cluster")?;
    let client = kube::Client::try_default()
        .await
        .context("no Kubernetes cluster found (kubeconfig or in-cluster); try `designate-operator standalone`")?;
    let storage = open_storage(&database_url).await?;
    let metrics = RoleMetrics::default();
    let served = metrics.clone();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let served = served.clone();
            async move { format!("{}# EOF\n", served.render()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(metrics_listen)
        .await
        .with_context(|| format!("listening on {metrics_listen}"))?;
    info!(%metrics_listen, "metrics served at /metrics");
    tokio::spawn(async move { axum::serve(listener, app).await });
    run_roles(client, storage, settings, metrics, &roles, identity).await
}

/// MiniDNS and the controllers, until shutdown.
async fn run_roles(
    client: kube::Client,
    storage: Storage,
    settings: Settings,
    metrics: RoleMetrics,
    args: &RoleArgs,
    identity: Identity,
) -> Result<()> {
    let mdns = MiniDns::bind(args.mdns_listen, storage.clone(), TransferPolicy::default())
        .await
        .with_context(|| format!("MiniDNS listening on {}", args.mdns_listen))?;
    println!("MiniDNS:        {}", mdns.local_addr());
    tokio::spawn(keep_transfer_policy(storage.clone(), mdns.policy()));
    let (keys_loaded, keys_known) = tokio::sync::oneshot::channel();
    tokio::spawn(designate_controllers::tsig::keep_tsig_keys(
        client.clone(),
        settings.namespace.clone(),
        mdns.policy(),
        Some(keys_loaded),
    ));
    // Each role heartbeats while it runs (service statuses).
    let heartbeats =
        heartbeat::Heartbeats::new(client.clone(), &settings.namespace, &args.heartbeat)?;
    heartbeats.collect_garbage();
    let mdns_beating = heartbeats.start("mdns");
    tokio::spawn(async move {
        // Not before the TSIG keys are known: a keyed pool's zones would
        // transfer unsigned meanwhile.
        if keys_known.await.is_err() {
            tracing::error!("the TSIG keys were never loaded: MiniDNS does not serve");
            return;
        }
        mdns.serve().await;
        drop(mdns_beating);
    });
    // Signs (REST) and verifies (controllers) the privileges a zone was
    // created with, such as an admin's blacklisted name.
    let grant_key = designate_controllers::grant::load_or_create_key(&client, &settings.namespace)
        .await
        .context("loading the grant key")?;
    let settings = Settings {
        grant_key: Some(grant_key.clone()),
        ..settings
    };
    let listener = tokio::net::TcpListener::bind(args.rest_listen)
        .await
        .with_context(|| format!("REST API listening on {}", args.rest_listen))?;
    let rest = designate_rest::Settings {
        central: settings.central.clone(),
        empty_namespace_grace: args.empty_namespace_grace,
        namespace: settings.namespace.clone(),
        grant_key: Some(grant_key),
        ..Default::default()
    };
    let api = designate_rest::Api::start(
        client.clone(),
        rest,
        identity.auth,
        identity.policy,
        metrics.rest,
    )
    .await
    .context("starting the REST API's caches")?;
    println!("REST API:       http://{}", listener.local_addr()?);
    let api_beating = heartbeats.start("api");
    tokio::spawn(async move {
        let _beating = api_beating;
        if let Err(error) = designate_rest::serve(listener, api).await {
            tracing::error!(reason = error.reason(), %error, "REST API stopped");
        }
    });
    // Designate's central, worker and producer work is the controllers'.
    let _controllers_beating = ["central", "worker", "producer"].map(|s| heartbeats.start(s));
    designate_controllers::run(
        client,
        storage,
        settings,
        metrics.controllers,
        shutdown_signal(),
    )
    .await;
    Ok(())
}

/// The metrics of the roles: the controllers' and the REST API's.
#[derive(Clone, Default)]
struct RoleMetrics {
    controllers: Arc<Metrics>,
    rest: Arc<designate_rest::metrics::Metrics>,
}

impl RoleMetrics {
    fn render(&self) -> String {
        self.controllers.render() + &self.rest.render()
    }
}

/// Keeps MiniDNS's transfer allow-list in step with the pools' nameservers
/// and targets as storage holds them.
async fn keep_transfer_policy(storage: Storage, policy: PolicyHandle) {
    let mut known = None;
    loop {
        match storage.pools().await {
            Ok(pools) => {
                let allowed = AllowList::from_pools(&pools);
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

/// The roles `standalone` runs beside the embedded control plane.
struct Roles {
    database_url: String,
    default_ns_record: String,
    args: RoleArgs,
    settings: Settings,
    identity: Identity,
}

async fn open_storage(url: &str) -> Result<Storage> {
    let storage = Storage::connect(url)
        .await
        .with_context(|| format!("opening the database {}", redact(url)))?;
    info!(database = %redact(url), "storage ready");
    Ok(storage)
}

/// A database URL without its password, for messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Creates the `default` Pool unless one exists, so that zones naming no
/// pool are served on a fresh install (Designate ships a default pool too).
async fn ensure_default_pool(client: &kube::Client, ns_record: &str) -> Result<()> {
    use designate_crd::{Pool, PoolNsRecord, PoolSpec};
    let api = kube::Api::<Pool>::all(client.clone());
    if api.get_opt(DEFAULT_POOL).await?.is_some() {
        return Ok(());
    }
    let pool = Pool::new(
        DEFAULT_POOL,
        PoolSpec {
            description: Some("Default pool".into()),
            ns_records: vec![PoolNsRecord {
                hostname: ns_record.to_string(),
                priority: 1,
            }],
            ..Default::default()
        },
    );
    match api.create(&Default::default(), &pool).await {
        Ok(_) => info!(ns_record, "default pool created"),
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// The token clients need, if any: given, or generated and kept when the
/// API listens beyond loopback.
fn token(args: &ControlPlaneArgs) -> Result<Option<String>> {
    if args.kube_token.is_some() || args.kube_listen.ip().is_loopback() {
        return Ok(args.kube_token.clone());
    }
    let path = args.data_dir.join("token");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(Some(existing.trim().to_string()));
    }
    let generated = uuid_like();
    std::fs::create_dir_all(&args.data_dir)?;
    designate_apiserver::write_private(&path, &generated)?;
    Ok(Some(generated))
}

fn uuid_like() -> String {
    use std::hash::{BuildHasher, RandomState};
    (0..4)
        .map(|i| format!("{:016x}", RandomState::new().hash_one(i)))
        .collect()
}

async fn standalone(args: ControlPlaneArgs, roles: Option<Roles>) -> Result<()> {
    let token = token(&args)?;
    let metrics = RoleMetrics::default();
    let mut config = Config::new(&args.data_dir);
    config.token = token.clone();
    if roles.is_some() {
        let metrics = metrics.clone();
        config.extra_metrics = Some(ExtraMetrics(Arc::new(move || metrics.render())));
    }
    let server = ApiServer::open(config)
        .await
        .with_context(|| format!("opening the data dir {}", args.data_dir.display()))?;
    server.install_crds(&designate_crd::crds()).await?;
    let tls = if args.kube_tls || !args.kube_listen.ip().is_loopback() {
        let mut hosts = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        if !args.kube_listen.ip().is_unspecified() {
            hosts.push(args.kube_listen.ip().to_string());
        }
        Some(Tls::load_or_create(&args.data_dir, &hosts)?)
    } else {
        None
    };
    let (addr, serve) = server
        .bind(args.kube_listen, tls.as_ref())
        .await
        .with_context(|| format!("listening on {}", args.kube_listen))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{addr}");
    let kubeconfig = designate_apiserver::write_kubeconfig(
        &args.data_dir,
        &designate_apiserver::kubeconfig(
            &url,
            token.as_deref(),
            tls.as_ref().map(|t| t.ca_pem.as_str()),
            "default",
        ),
    )?;
    println!("kubernetes API: {url}");
    println!("kubeconfig:     {}", kubeconfig.display());
    println!(
        "try:            kubectl --kubeconfig {} get zones -A",
        kubeconfig.display()
    );
    info!(%addr, data_dir = %args.data_dir.display(), "embedded control plane ready");
    let serving = tokio::spawn(serve);
    if let Some(roles) = roles {
        let storage = open_storage(&roles.database_url).await?;
        // The controllers use the API in-process: same kube::Client, no socket.
        let client = kube::Client::new(server.router(), "default");
        ensure_default_pool(&client, &roles.default_ns_record).await?;
        tokio::spawn(async move {
            if let Err(error) = run_roles(
                client,
                storage,
                roles.settings,
                metrics,
                &roles.args,
                roles.identity,
            )
            .await
            {
                tracing::error!("{error:#}");
                std::process::exit(1);
            }
        });
    }
    tokio::select! {
        result = serving => {
            result??;
            bail!("the API server stopped");
        }
        () = shutdown_signal() => info!("shutting down"),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn database_passwords_are_not_shown() {
        for (url, shown) in [
            (
                "mysql://root:s3cret@db:3306/designate",
                "mysql://root:***@db:3306/designate",
            ),
            (
                "postgres://designate@db/designate",
                "postgres://designate@db/designate",
            ),
            (
                "sqlite://./data/designate.db?mode=rwc",
                "sqlite://./data/designate.db?mode=rwc",
            ),
        ] {
            assert_eq!(redact(url), shown);
        }
    }
}
