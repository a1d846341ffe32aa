//! `designate-apiserver`: an embedded control plane that behaves like
//! kube-apiserver for what kubectl and kube-runtime use, persisted in
//! SQLite. It is the Kubernetes API of `designate-operator standalone`.
//!
//! Modelled faithfully: URL layout, legacy discovery, OpenAPI v3 (and the
//! empty v2 kubectl 1.27/1.28 need), list with resourceVersion and
//! pagination, watch (ordered, bookmarks, timeouts, in-stream 410),
//! uid/resourceVersion/generation/creationTimestamp, optimistic
//! concurrency, status subresource, finalizers and deletionTimestamp,
//! JSON/merge patch, label and field selectors, `Status` errors,
//! structural-schema pruning, defaulting and validation of custom
//! resources, `fieldValidation`, dry run, Table output, namespace
//! lifecycle, CEL validation rules. Approximated: server-side apply (see
//! [`patch::apply`]), CEL validation ratcheting (whole top-level fields).
//! Not modelled: RBAC and admission webhooks, aggregated discovery,
//! protobuf, CEL cost limits, conversion, owner-reference garbage
//! collection.

pub mod access;
mod error;
mod event_ttl;
mod history;
mod http;
mod metrics;
pub mod object;
pub mod patch;
mod pending;
mod persist;
mod proto;
pub mod registry;
mod rules;
pub mod schema;
pub mod selector;
pub mod store;
mod stored;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use error::{ApiError, Cause, Error};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
pub use store::Store;
pub use tls::Tls;

/// Settings of the control plane.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Bearer token every request must carry; required off loopback.
    pub token: Option<String>,
    /// Watch history kept per kind at most, in bytes of its objects as
    /// kept (packed), for resuming watches; older versions get 410.
    pub history_bytes: usize,
    pub bookmark_interval: Duration,
    /// More metrics (the roles running beside the API) appended to `/metrics`.
    pub extra_metrics: Option<ExtraMetrics>,
    /// How long an Event is kept after its last occurrence
    /// (kube-apiserver's `--event-ttl`).
    pub event_ttl: Duration,
}

/// Renders more metrics in the Prometheus text format (without `# EOF`).
#[derive(Clone)]
pub struct ExtraMetrics(pub Arc<dyn Fn() -> String + Send + Sync>);

impl std::fmt::Debug for ExtraMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExtraMetrics")
    }
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            token: None,
            history_bytes: 16 << 20,
            bookmark_interval: Duration::from_secs(10),
            extra_metrics: None,
            event_ttl: Duration::from_secs(3600),
        }
    }
}

/// A running control plane: the store plus its HTTP router.
#[derive(Clone)]
pub struct ApiServer {
    store: Arc<Store>,
    router: axum::Router,
    local: axum::Router,
    access: Arc<access::AccessLog>,
}

impl ApiServer {
    /// Opens the store in the data dir (every acknowledged object comes back).
    pub async fn open(config: Config) -> Result<Self, Error> {
        let metrics = Arc::new(metrics::Metrics::with_extra(config.extra_metrics.clone()));
        let store =
            Arc::new(Store::open(&config.data_dir, config.history_bytes, metrics.clone()).await?);
        let access = Arc::new(access::AccessLog::default());
        let app = |token: Option<String>, in_process: bool| {
            http::router(Arc::new(http::App {
                store: store.clone(),
                metrics: metrics.clone(),
                token,
                bookmark_interval: config.bookmark_interval,
                access: access.clone(),
                in_process,
            }))
        };
        // Looked at ten times per TTL, at most once a minute.
        let sweep =
            (config.event_ttl / 10).clamp(Duration::from_millis(100), Duration::from_secs(60));
        tokio::spawn(store.clone().expire_history());
        tokio::spawn(event_ttl::expire_events(
            store.clone(),
            config.event_ttl,
            sweep,
        ));
        Ok(Self {
            router: app(config.token.clone(), false),
            local: app(None, true),
            access,
            store,
        })
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Installs CRDs (creating or updating them), registering their kinds.
    pub async fn install_crds(&self, crds: &[CustomResourceDefinition]) -> Result<(), Error> {
        for crd in crds {
            self.store.install_crd(crd).await?;
        }
        Ok(())
    }

    /// The permissions the operator's roles used.
    pub fn access_log(&self) -> &Arc<access::AccessLog> {
        &self.access
    }

    /// The HTTP API as a `tower::Service`, e.g. for `kube::Client::new`,
    /// for callers inside this process (no bearer token needed).
    pub fn router(&self) -> axum::Router {
        self.local.clone()
    }

    /// Binds `addr` (port 0 picks one) and serves HTTP, or HTTPS with
    /// `tls`; returns the bound address and the serving future.
    pub async fn bind(
        &self,
        addr: SocketAddr,
        tls: Option<&Tls>,
    ) -> Result<(SocketAddr, BoxFuture<'static, std::io::Result<()>>), Error> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let router = self.router.clone();
        // Watch events are small writes: without TCP_NODELAY, Nagle's
        // algorithm and delayed ACKs hold them back by up to 40 ms.
        let Some(tls) = tls else {
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            return Ok((
                local,
                Box::pin(async move { axum::serve(listener, router).await }),
            ));
        };
        let acceptor = tls.acceptor();
        let serve = async move {
            loop {
                let (tcp, _) = listener.accept().await?;
                let _ = tcp.set_nodelay(true);
                let (acceptor, router) = (acceptor.clone(), router.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(router);
                    let builder = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    if let Err(error) = builder
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(%error, "connection closed");
                    }
                });
            }
        };
        Ok((local, Box::pin(serve)))
    }
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A kubeconfig for clients of a control plane at `server`.
pub fn kubeconfig(
    server: &str,
    token: Option<&str>,
    ca_pem: Option<&str>,
    namespace: &str,
) -> String {
    let user = match token {
        Some(token) => format!("    token: {token}\n"),
        None => "    {}\n".to_string(),
    };
    let ca = ca_pem.map_or_else(String::new, |pem| {
        format!(
            "    certificate-authority-data: {}\n",
            proto::base64(pem.as_bytes())
        )
    });
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: designate\n  cluster:\n    server: {server}\n{ca}contexts:\n- name: designate\n  context:\n    cluster: designate\n    user: designate\n    namespace: {namespace}\ncurrent-context: designate\nusers:\n- name: designate\n  user:\n{user}"
    )
}

/// Writes `kubeconfig` into `dir` (private: it may hold the token).
pub fn write_kubeconfig(dir: &Path, contents: &str) -> Result<PathBuf, Error> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("kubeconfig");
    write_private(&path, contents)?;
    Ok(path)
}

/// Writes a file only its owner can read (mode 0600 on Unix).
pub fn write_private(path: &Path, contents: &str) -> Result<(), Error> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(contents.as_bytes())?;
    Ok(())
}
