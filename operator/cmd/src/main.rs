//! `designate-operator`: the one binary of the project.
//!
//! - `standalone`: the embedded control plane plus every role, on one machine.
//! - `apiserver`: the embedded control plane alone.
//! - `crds`: prints (or writes) the CustomResourceDefinitions.
//! - no command: the controllers against a real cluster (kubeconfig or in-cluster).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use designate_apiserver::{ApiServer, Config, Tls};
use tracing::info;

#[derive(Parser)]
#[command(
    name = "designate-operator",
    version,
    about = "OpenStack Designate-compatible DNS as a Service, as a Kubernetes operator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
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
    Standalone(ControlPlaneArgs),
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
    match Cli::parse().command {
        None => run_in_cluster().await,
        Some(Command::Standalone(args)) => standalone(args, true).await,
        Some(Command::Apiserver(args)) => standalone(args, false).await,
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

async fn run_in_cluster() -> Result<()> {
    let client = kube::Client::try_default()
        .await
        .context("no Kubernetes cluster found (kubeconfig or in-cluster); try `designate-operator standalone`")?;
    designate_controllers::run(client, shutdown_signal()).await;
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

async fn standalone(args: ControlPlaneArgs, with_controllers: bool) -> Result<()> {
    let token = token(&args)?;
    let mut config = Config::new(&args.data_dir);
    config.token = token.clone();
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
    if with_controllers {
        // The controllers use the API in-process: same kube::Client, no socket.
        let client = kube::Client::new(server.router(), "default");
        tokio::spawn(designate_controllers::run(client, shutdown_signal()));
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
