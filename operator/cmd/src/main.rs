//! `designate-operator`: the one binary of the project.
//!
//! - `standalone`: the embedded control plane plus every role, on one machine.
//! - `apiserver`: the embedded control plane alone.
//! - `api`, `controllers`, `mdns`: one role against a cluster (kubeconfig or
//!   in-cluster), as the chart runs them; the controllers leader-elected.
//! - no command: every role in one process against a cluster.
//! - `crds`: prints (or writes) the CustomResourceDefinitions.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use designate_apiserver::{ApiServer, Config, ExtraMetrics, Tls};
use designate_controllers::{DEFAULT_POOL, PropagationSettings, Settings};
use designate_storage::Storage;
use tracing::info;

use roles::{ElectionArgs, Health, RoleMetrics, Shared};

/// mimalloc: glibc's allocator kept the peaks of large lists (a restart's
/// first watches) resident, and fragments across threads. Built without
/// asking for transparent huge pages (see the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod conf;
mod heartbeat;
mod import;
mod notifier;
mod roles;
mod sink;

#[derive(Parser)]
#[command(
    name = "designate-operator",
    version,
    about = "OpenStack Designate-compatible DNS as a Service, as a Kubernetes operator"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Every role in one process, against a cluster.
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Options of the roles against a cluster.
#[derive(clap::Args, Clone)]
struct ClusterArgs {
    /// Where published zone data is kept, for the controllers and MiniDNS
    /// (`mysql://`, `postgres://` or `sqlite://` URL).
    #[arg(long, env = "DESIGNATE_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served; standalone
    /// adds the metrics to the embedded API's.
    #[arg(long, env = "DESIGNATE_METRICS_LISTEN", default_value = "0.0.0.0:8080")]
    metrics_listen: SocketAddr,
    #[command(flatten)]
    roles: RoleArgs,
    #[command(flatten)]
    election: ElectionArgs,
}

/// Options of the roles beside the controllers (standalone or in a cluster).
#[derive(clap::Args, Clone)]
struct RoleArgs {
    /// Where MiniDNS answers (UDP and TCP): the address pool targets name
    /// as their `masters`.
    #[arg(long, env = "DESIGNATE_MDNS_LISTEN", default_value = "127.0.0.1:5354")]
    mdns_listen: SocketAddr,
    /// Sources MiniDNS allows transfers from besides the pools' servers: a
    /// network (`10.244.0.0/16`, a cluster's pods), an address or a host
    /// name (resolved every 30 s); repeatable.
    #[arg(long = "mdns-allow-from")]
    mdns_allow_from: Vec<String>,
    /// Where the Designate v2 REST API answers.
    #[arg(long, env = "DESIGNATE_REST_LISTEN", default_value = "127.0.0.1:9001")]
    rest_listen: SocketAddr,
    #[command(flatten)]
    identity: IdentityArgs,
    /// How long a project namespace made by the REST API is kept once it
    /// holds nothing (e.g. `5m`).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    empty_namespace_grace: Duration,
    /// oslo.middleware's `max_request_body_size` (bytes): the REST API
    /// refuses larger bodies (413). Raise it to import large zone files.
    #[arg(long, env = "DESIGNATE_MAX_REQUEST_BODY_SIZE", default_value_t = designate_rest::MAX_REQUEST_BODY_SIZE)]
    max_request_body_size: usize,
    #[command(flatten)]
    central: conf::CentralArgs,
    /// Share of a pool's nameservers that must serve a change (percent).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=100))]
    threshold_percentage: u8,
    /// How long to wait for the nameservers before a zone shows ERROR (e.g. `30s`).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    propagation_timeout: Duration,
    /// How often settled zones are checked on their nameservers (put back
    /// where lost), e.g. `60s`; a zone in ERROR is driven again sooner
    /// (5 s, doubling up to this).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    heal_interval: Duration,
    #[command(flatten)]
    heartbeat: heartbeat::HeartbeatArgs,
    #[command(flatten)]
    targets: TargetArgs,
    #[command(flatten)]
    bus: notifier::BusArgs,
    #[command(flatten)]
    sink: sink::SinkArgs,
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
    /// The bus: `--transport-url` (or `DESIGNATE_TRANSPORT_URL`), else the
    /// configuration file's `[DEFAULT] transport_url`; the Sink's handlers:
    /// `--sink-handler`, else the file's `[service:sink]`; the heartbeat's
    /// host and interval: flags, else the file's. A bad URL, handler or
    /// value stops the start before anything runs.
    fn resolve_from_file(&mut self) -> Result<()> {
        self.central.fill_heartbeat(&mut self.heartbeat)?;
        if self.bus.transport_url.is_none() {
            self.bus.transport_url = self.central.transport_url()?;
        }
        self.bus.transport()?;
        // The Sink's handlers likewise: flags, else the file's.
        if self.sink.handlers.is_empty() {
            self.sink.handlers = self.central.sink_handlers()?;
        }
        Ok(())
    }

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
            target_rules: self.targets.rules(),
            target_secret_namespaces: self.targets.target_secret_namespace.clone(),
            // One per process: its roles share the Zones and Recordsets
            // they hold.
            copies: Default::default(),
        })
    }
}

/// What pool targets may name on the operator's machine: whoever may write
/// a Pool may otherwise make the operator run a program or read a file.
#[derive(clap::Args, Clone)]
struct TargetArgs {
    /// A directory target files (`rndc_key_file`, `rndc_config_file`,
    /// `api_ca_cert`) may be in, besides /etc/designate, /etc/bind and
    /// /etc/powerdns; repeatable.
    #[arg(long = "backend-file-dir")]
    backend_file_dir: Vec<PathBuf>,
    /// A directory a bind9 target's `zone_file_dir` may be or be in (the
    /// operator writes new zones' files there for named to load); none
    /// unless given; repeatable.
    #[arg(long = "backend-zone-file-dir")]
    backend_zone_file_dir: Vec<PathBuf>,
    /// A program `rndc_bin_path` may name, besides `rndc`,
    /// /usr/sbin/rndc and /usr/bin/rndc; repeatable.
    #[arg(long = "backend-program")]
    backend_program: Vec<String>,
    /// Let PowerDNS APIs be reached over plain HTTP off loopback (the API
    /// key crosses the network in the clear).
    #[arg(long)]
    allow_insecure_backend_http: bool,
    /// A namespace besides the operator's that a target's `secretRef` may
    /// name; repeatable.
    #[arg(long = "target-secret-namespace")]
    target_secret_namespace: Vec<String>,
}

impl TargetArgs {
    fn rules(&self) -> designate_backends::TargetRules {
        let mut rules = designate_backends::TargetRules::default();
        rules
            .file_dirs
            .extend(self.backend_file_dir.iter().cloned());
        rules.zone_file_dirs = self.backend_zone_file_dir.clone();
        rules.programs.extend(self.backend_program.iter().cloned());
        rules.insecure_http = self.allow_insecure_backend_http;
        rules
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
    /// A further name (DNS name or IP address) for the serving certificate,
    /// beside the listen addresses; repeatable. Implies HTTPS.
    #[arg(long = "tls-san", value_name = "NAME", env = "DESIGNATE_TLS_SAN",
          value_delimiter = ',', value_parser = parse_tls_san)]
    tls_sans: Vec<String>,
    /// Keep writing the RBAC permissions the roles used into this JSON file
    /// (the chart's Roles are checked against it).
    #[arg(long, hide = true)]
    record_access: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything in one process on an embedded Kubernetes-compatible API.
    Standalone(Box<StandaloneArgs>),
    /// Run only the embedded Kubernetes-compatible API (no controllers).
    Apiserver(ControlPlaneArgs),
    /// Run the Designate v2 REST API against a cluster.
    Api(Box<ClusterArgs>),
    /// Run the controllers against a cluster (one replica leads).
    Controllers(Box<ClusterArgs>),
    /// Run MiniDNS against a cluster.
    Mdns(Box<ClusterArgs>),
    /// Run only the Sink against a cluster: nova and neutron notifications
    /// from the bus into records.
    Sink(Box<ClusterArgs>),
    /// Migration from Designate: `pools import pools.yaml | kubectl apply -f -`.
    Pools {
        #[command(subcommand)]
        command: PoolsCommand,
    },
    /// Migration from Designate: its database's zones, recordsets, TLDs,
    /// blacklists, TSIG keys, quotas and pools, created here with the same
    /// ids (against the ambient kubeconfig or in-cluster config).
    Import {
        /// The Designate database (`mysql://user:pass@host/designate`,
        /// `postgres://…`; oslo.db's `mysql+pymysql://` is taken too).
        #[arg(long = "from", env = "DESIGNATE_IMPORT_FROM", hide_env_values = true)]
        from: String,
        /// Where the operator runs: its grant key, the TSIG keys' and the
        /// pools' Secrets.
        #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
        namespace: String,
    },
    /// Print the CRDs as YAML, or write them as files into a directory.
    Crds {
        /// Directory to write `<plural>.<group>.yaml` files into.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PoolsCommand {
    /// Print Designate's pools.yaml as Pool resources (and Secrets for the
    /// targets' credentials), for `kubectl apply -f -`.
    Import {
        /// The pools.yaml `designate-manage pool update --file` reads.
        file: PathBuf,
        /// Where the operator runs: the namespace of the Secrets.
        #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
        namespace: String,
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
        None => run_in_cluster(cli.cluster, &Role::ALL).await,
        Some(Command::Api(args)) => run_in_cluster(*args, &[Role::Api]).await,
        Some(Command::Controllers(args)) => run_in_cluster(*args, &[Role::Controllers]).await,
        Some(Command::Mdns(args)) => run_in_cluster(*args, &[Role::Mdns]).await,
        Some(Command::Sink(args)) => run_in_cluster(*args, &[Role::Sink]).await,
        Some(Command::Standalone(mut args)) => {
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
            args.roles.resolve_from_file()?;
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
        Some(Command::Import { from, namespace }) => import::run(&from, &namespace).await,
        Some(Command::Pools {
            command: PoolsCommand::Import { file, namespace },
        }) => import_pools(&file, &namespace),
    }
}

fn import_pools(file: &Path, namespace: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let imported = designate_migrate::pools::import(&text, namespace)
        .with_context(|| format!("importing {}", file.display()))?;
    for note in &imported.notes {
        eprintln!("note: {note}");
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // The Secrets first: the Pools reference them.
    for secret in &imported.secrets {
        write!(out, "---\n{}", serde_yaml::to_string(secret)?)?;
    }
    for pool in &imported.pools {
        write!(out, "---\n{}", serde_yaml::to_string(pool)?)?;
    }
    Ok(())
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

/// A role a process runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Api,
    Controllers,
    Mdns,
    Sink,
}

impl Role {
    const ALL: [Role; 3] = [Role::Mdns, Role::Api, Role::Controllers];

    /// Its command's name.
    fn name(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Controllers => "controllers",
            Role::Mdns => "mdns",
            Role::Sink => "sink",
        }
    }
}

async fn run_in_cluster(mut args: ClusterArgs, roles: &[Role]) -> Result<()> {
    // The namespace the operator runs in (set by the chart from the pod's).
    let namespace = std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "default".into());
    // Refused before anything starts: a bad option is not a half-running service.
    let settings = args.roles.settings(&namespace)?;
    args.roles.resolve_from_file()?;
    let identity = match roles.contains(&Role::Api) {
        true => Some(args.roles.identity.build(args.roles.rest_listen)?),
        false => None,
    };
    if roles
        .iter()
        .any(|r| matches!(r, Role::Controllers | Role::Mdns))
        && args.database_url.is_none()
    {
        bail!(
            "--database-url (or DESIGNATE_DATABASE_URL) is required by the controllers and MiniDNS"
        );
    }
    let mut config = kube::Config::infer()
        .await
        .context("no Kubernetes cluster found (kubeconfig or in-cluster); try `designate-operator standalone`")?;
    // Names the role to the embedded API's access log (the chart's RBAC
    // test); a real API server ignores it.
    let role = match roles {
        [only] => only.name(),
        _ => "all",
    };
    config.headers.push((
        http::HeaderName::from_static(designate_apiserver::access::ROLE_HEADER),
        http::HeaderValue::from_static(role),
    ));
    let client = kube::Client::try_from(config)?;
    let shared = Shared {
        heartbeats: heartbeat::Heartbeats::new(client.clone(), &namespace, &args.roles.heartbeat)?,
        client,
        settings,
        metrics: RoleMetrics::default(),
        health: Health::default(),
    };
    roles::serve_operations(
        args.metrics_listen,
        shared.metrics.clone(),
        shared.health.clone(),
    )
    .await?;
    run_roles(
        &shared,
        args.database_url.as_deref(),
        &args.roles,
        identity,
        roles,
        Some(&args.election),
    )
    .await
}

/// Starts `roles` and runs until shutdown: MiniDNS and the controllers
/// need the database, each with a connection pool of its own (a DNS flood
/// cannot stall the controllers), the REST API `identity`; `election`
/// elects the controllers (standalone gives none: nothing to elect).
async fn run_roles(
    shared: &Shared,
    database_url: Option<&str>,
    args: &RoleArgs,
    identity: Option<Identity>,
    roles: &[Role],
    election: Option<&ElectionArgs>,
) -> Result<()> {
    let storage = async || match database_url {
        Some(url) => open_storage(url).await,
        None => bail!("no database for MiniDNS and the controllers"),
    };
    if roles.contains(&Role::Mdns) {
        roles::start_mdns(
            shared,
            storage().await?,
            args.mdns_listen,
            &args.mdns_allow_from,
        )
        .await?;
    }
    if roles.contains(&Role::Api) {
        let identity = identity.context("no identity for the REST API")?;
        roles::start_api(shared, args, identity).await?;
    }
    // The all-in-one processes run the Sink when it is configured.
    if roles.contains(&Role::Sink) || (roles.contains(&Role::Controllers) && args.sink.configured())
    {
        sink::start(shared, &args.sink, &args.bus)?;
    }
    if roles.contains(&Role::Controllers) {
        // One role collects the heartbeats of instances gone for good.
        shared.heartbeats.collect_garbage();
        let mut storage = storage().await?;
        // Notifications go out with the controllers (the leader's), from
        // the outbox their storage transactions fill.
        let relay = match args.bus.transport()? {
            Some(url) => {
                storage = storage.with_outbox();
                let publisher = designate_bus::Publisher::new(
                    url,
                    &args.bus.control_exchange,
                    &args.bus.notification_topic,
                );
                let publisher_id = format!("central.{}", shared.heartbeats.host());
                Some(notifier::run(
                    shared.client.clone(),
                    storage.clone(),
                    publisher,
                    publisher_id,
                    shared.with_grant_key().await?.grant_key,
                ))
            }
            None => None,
        };
        let result = roles::run_controllers(shared, storage, election, relay).await;
        shared.heartbeats.release_all().await;
        result
    } else {
        shutdown_signal().await;
        // A graceful stop says so, as Designate's heartbeat emitter does.
        shared.heartbeats.release_all().await;
        Ok(())
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

fn parse_tls_san(name: &str) -> Result<String, String> {
    Tls::check_name(name).map(|()| name.to_string())
}

/// Makes the data dir private (0700, files 0600), what an earlier version
/// left readable included, and everything created from now on (SQLite's
/// `-wal` and `-shm` too): it holds Secrets, keys and the token.
fn make_private(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
        if dir.is_dir() {
            restrict(dir)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn restrict(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            restrict(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

fn uuid_like() -> String {
    use std::hash::{BuildHasher, RandomState};
    (0..4)
        .map(|i| format!("{:016x}", RandomState::new().hash_one(i)))
        .collect()
}

async fn standalone(args: ControlPlaneArgs, roles: Option<Roles>) -> Result<()> {
    make_private(&args.data_dir)
        .with_context(|| format!("making {} private", args.data_dir.display()))?;
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
    if let Some(path) = args.record_access.clone() {
        tokio::spawn(record_access(server.access_log().clone(), path));
    }
    let tls_names =
        (args.kube_tls || !args.kube_listen.ip().is_loopback() || !args.tls_sans.is_empty())
            .then(|| Tls::serving_names(args.kube_listen.ip(), &args.tls_sans));
    let tls = match &tls_names {
        Some(names) => Some(Tls::load_or_create(&args.data_dir, names)?),
        None => None,
    };
    let (addr, serve) = server
        .bind(args.kube_listen, tls.as_ref())
        .await
        .with_context(|| format!("listening on {}", args.kube_listen))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Listening on every address: the local kubeconfig goes by loopback.
    let local = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from(([127, 0, 0, 1], addr.port()))
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    };
    let url = format!("{scheme}://{local}");
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
    if local != addr {
        println!("listening on:   {addr}");
    }
    if let Some(names) = &tls_names {
        println!("certificate:    {}", names.join(", "));
    }
    println!("kubeconfig:     {}", kubeconfig.display());
    println!(
        "try:            kubectl --kubeconfig {} get zones -A",
        kubeconfig.display()
    );
    info!(%addr, data_dir = %args.data_dir.display(), "embedded control plane ready");
    let serving = tokio::spawn(serve);
    if let Some(roles) = roles {
        // The controllers use the API in-process: same kube::Client, no socket.
        let client = kube::Client::new(server.router(), "default");
        ensure_default_pool(&client, &roles.default_ns_record).await?;
        let shared = Shared {
            heartbeats: heartbeat::Heartbeats::new(
                client.clone(),
                &roles.settings.namespace,
                &roles.args.heartbeat,
            )?,
            client,
            settings: roles.settings,
            metrics,
            health: Health::default(),
        };
        tokio::spawn(async move {
            let started = run_roles(
                &shared,
                Some(&roles.database_url),
                &roles.args,
                Some(roles.identity),
                &Role::ALL,
                None,
            )
            .await;
            if let Err(error) = started {
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

/// Writes the permissions the roles used to `path` as they grow.
async fn record_access(log: Arc<designate_apiserver::access::AccessLog>, path: PathBuf) {
    let mut written = 0;
    loop {
        let used = log.used();
        if used.len() != written {
            let json = serde_json::to_string_pretty(&used).unwrap_or_default();
            match std::fs::write(&path, json) {
                Ok(()) => written = used.len(),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "writing the access log")
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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
