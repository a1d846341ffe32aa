//! `designate-rest`: the Designate v2 REST API as a shim over the `Zone`,
//! `Recordset`, `Pool` and `Tld` resources.
//!
//! Every request is validated by Central's rules (synchronously, so errors
//! come back at once with Designate's codes), then written to the
//! Kubernetes API with the operator's identity; the controllers do the
//! rest. Reads are answered from watch-fed mirrors ([`cache`]), never by
//! listing the API server. The shim keeps no state of its own: run as many
//! replicas as needed.
//!
//! - [`auth`]: the caller (Keystone tokens or noauth headers), Designate's
//!   context flags and the policy checks (`designate-identity` holds the
//!   Keystone client and the policy engine);
//! - [`tenancy`]: projects as namespaces, one to one;
//! - [`list`]: paging, filters and sorting (pure);
//! - [`render`]: resources in Designate's JSON shapes;
//! - [`zones`], [`recordsets`], [`tlds`]: the endpoints.

pub mod auth;
pub mod blacklists;
pub mod cache;
pub mod error;
mod fields;
pub mod list;
pub mod metrics;
pub mod pools;
pub mod quotas;
pub mod recordsets;
pub mod render;
mod rules;
pub mod service_statuses;
pub mod tenancy;
pub mod tlds;
pub mod tsigkeys;
pub mod zones;

mod body;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use designate_central::Config;
use designate_identity::policy::Policy;
use kube::Client;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tracing::Instrument;

pub use error::{ApiError, Error};

use crate::auth::{Authenticate, Caller};
use crate::cache::Cache;
use crate::tenancy::Tenancy;

/// How the API is configured.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Central's rules (quotas, TTLs, TLDs, blacklists).
    pub central: Config,
    /// The Pool zones go to (Designate's scheduler picks the default pool).
    pub default_pool: String,
    /// How long a project namespace this API made is kept once it holds
    /// nothing.
    pub empty_namespace_grace: Duration,
    /// The operator's namespace, where services heartbeat (Leases).
    pub namespace: String,
    /// Signs the privileges a Zone is created with (a blacklisted name, a
    /// low TTL), for the controllers; `None`: none are carried over.
    pub grant_key: Option<designate_crd::grant::GrantKey>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            central: Config::default(),
            default_pool: "default".into(),
            empty_namespace_grace: Duration::from_secs(300),
            namespace: "default".into(),
            grant_key: None,
        }
    }
}

/// What every request handler shares.
pub struct Api {
    pub client: Client,
    pub cache: Cache,
    pub settings: Settings,
    pub auth: Box<dyn Authenticate>,
    pub policy: Arc<Policy>,
    pub tenancy: Tenancy,
    pub metrics: Arc<metrics::Metrics>,
}

pub type Shared = State<Arc<Api>>;

impl Api {
    /// Starts the watch caches and waits for their first lists, then
    /// sweeps empty project namespaces in the background.
    pub async fn start(
        client: Client,
        settings: Settings,
        auth: Box<dyn Authenticate>,
        policy: Policy,
        metrics: Arc<metrics::Metrics>,
    ) -> Result<Arc<Self>, Error> {
        let cache = Cache::start(&client, &settings.namespace).await?;
        let api = Arc::new(Self {
            tenancy: Tenancy::new(settings.empty_namespace_grace),
            client,
            cache,
            settings,
            auth,
            policy: Arc::new(policy),
            metrics,
        });
        let sweeper = api.clone();
        tokio::spawn(async move {
            sweeper
                .tenancy
                .sweep_forever(sweeper.client.clone(), sweeper.cache.clone())
                .await;
        });
        Ok(api)
    }
}

/// The routes of Designate's v2 API, answered from `api`.
pub fn router(api: Arc<Api>) -> Router {
    use axum::routing::{MethodRouter, post};
    let zone: MethodRouter<Arc<Api>> = get(zones::show).patch(zones::update).delete(zones::delete);
    let recordset = get(recordsets::show)
        .put(recordsets::update)
        .delete(recordsets::delete);
    Router::new()
        .route("/", get(versions))
        .route("/v2/zones", get(zones::list).merge(post(zones::create)))
        .route("/v2/zones/{zone_id}", zone)
        .route("/v2/zones/{zone_id}/nameservers", get(zones::nameservers))
        .route(
            "/v2/zones/{zone_id}/recordsets",
            get(recordsets::list).post(recordsets::create),
        )
        .route("/v2/zones/{zone_id}/recordsets/{recordset_id}", recordset)
        .route("/v2/recordsets", get(recordsets::list_all))
        .route("/v2/recordsets/{recordset_id}", get(recordsets::locate))
        .route("/v2/pools", get(pools::list).post(pools::create))
        .route(
            "/v2/pools/{pool_id}",
            get(pools::show).patch(pools::update).delete(pools::delete),
        )
        .route("/v2/tlds", get(tlds::list).post(tlds::create))
        .route(
            "/v2/tlds/{tld_id}",
            get(tlds::show).patch(tlds::update).delete(tlds::delete),
        )
        .route("/v2/service_statuses", get(service_statuses::list))
        .route(
            "/v2/service_statuses/{service_id}",
            get(service_statuses::show),
        )
        // Designate's alias (its API reference once named the path so).
        .route("/v2/service_status", get(service_statuses::list))
        .route(
            "/v2/service_status/{service_id}",
            get(service_statuses::show),
        )
        .route("/v2/tsigkeys", get(tsigkeys::list).post(tsigkeys::create))
        .route(
            "/v2/tsigkeys/{tsigkey_id}",
            get(tsigkeys::show)
                .patch(tsigkeys::update)
                .delete(tsigkeys::delete),
        )
        .route("/v2/quotas", get(quotas::show_own))
        .route(
            "/v2/quotas/{project_id}",
            get(quotas::show)
                .patch(quotas::update)
                .delete(quotas::reset),
        )
        .route(
            "/v2/blacklists",
            get(blacklists::list).post(blacklists::create),
        )
        .route(
            "/v2/blacklists/{blacklist_id}",
            get(blacklists::show)
                .patch(blacklists::update)
                .delete(blacklists::delete),
        )
        .route("/v2/limits", get(limits))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        // Every /v2 path, routed or not, is authenticated first (as
        // keystonemiddleware runs before Designate's routing).
        .layer(middleware::from_fn_with_state(
            api.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn_with_state(api.clone(), answer))
        .with_state(api)
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(listener: TcpListener, api: Arc<Api>) -> Result<(), Error> {
    axum::serve(listener, router(api))
        .await
        .map_err(Error::Listen)
}

/// Gives every request an id, a span, a log line and its metrics, and
/// renders errors in Designate's shape with that id.
async fn answer(State(api): Shared, request: Request, next: Next) -> Response {
    let request_id = format!("req-{}", uuid::Uuid::new_v4());
    let method = request.method().clone();
    let route = route_of(request.uri().path());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    let mut route_known = true;
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        route_known = error.type_ != "not_found";
        let body = axum::Json(error.body(&request_id));
        response = (status, body).into_response();
    }
    api.metrics.answered(
        method.as_str(),
        if route_known { &route } else { "unknown" },
        status.as_u16(),
        started.elapsed(),
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert("x-openstack-request-id", value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "answered"
        );
    });
    response
}

/// A path as its route: ids become `{id}`, so that a series is per route.
fn route_of(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if uuid::Uuid::parse_str(segment).is_ok() {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// An object's name for a DNS name (without its trailing dot): the name
/// itself where it is a valid object name (DNS-1123 subdomain), else
/// `<prefix>-<stable hash>`.
pub(crate) fn object_name(dns_name: &str, prefix: &str) -> String {
    let name = dns_name.to_ascii_lowercase();
    let valid = name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if valid {
        name
    } else {
        format!("{prefix}-{:016x}", tenancy::fnv1a(name.as_bytes()))
    }
}

/// The URL clients reach this API at, from the request's `Host` (Designate's
/// `enable_host_header`).
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:9001");
    format!("http://{host}")
}

/// `GET /`: the API versions Designate 23 lists (all served under `/v2`).
async fn versions(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let version = |id: &str, status: &str, updated: &str| {
        json!({
            "id": id,
            "links": [
                {"href": format!("{base}/v2"), "rel": "self"},
                {"href": "https://docs.openstack.org/api-ref/dns", "rel": "help"},
            ],
            "status": status,
            "updated": updated,
        })
    };
    let body = json!({"versions": [
        version("v2", "SUPPORTED", "2022-06-29T00:00:00Z"),
        version("v2.0", "SUPPORTED", "2022-06-29T00:00:00Z"),
        version("v2.1", "SUPPORTED", "2023-01-25T00:00:00Z"),
        version("v2.2", "SUPPORTED", "2025-08-25T00:00:00Z"),
        version("v2.3", "SUPPORTED", "2026-04-06T00:00:00Z"),
        version("v2.4", "CURRENT", "2026-04-13T00:00:00Z"),
    ]});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /v2/limits`: the caller's (sudo) project's quotas and the API's limits.
/// Any authenticated caller: Central's `get_absolute_limits` reads the
/// quotas without a policy check.
async fn limits(State(api): Shared, caller: Caller) -> Result<Response, ApiError> {
    let cfg = &api.settings.central;
    let quotas = api.project_quotas(&caller.project);
    let body: Value = json!({
        "max_zones": quotas.zones,
        "max_zone_recordsets": quotas.zone_recordsets,
        "max_zone_records": quotas.zone_records,
        "max_recordset_records": quotas.recordset_records,
        "min_ttl": cfg.min_ttl,
        "max_zone_name_length": cfg.max_zone_name_len,
        "max_recordset_name_length": cfg.max_recordset_name_len,
        "max_page_limit": list::MAX_LIMIT,
    });
    Ok(axum::Json(body).into_response())
}
