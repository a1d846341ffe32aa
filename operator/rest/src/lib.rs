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
pub mod floatingips;
pub mod list;
pub mod metrics;
pub mod pools;
pub mod quotas;
pub mod recordsets;
pub mod render;
mod rules;
pub mod service_statuses;
pub mod shares;
mod tally;
pub mod tasks;
pub mod tenancy;
pub mod tlds;
pub mod transfers;
pub mod tsigkeys;
mod writes;
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
    /// oslo.middleware's `max_request_body_size` (bytes): larger bodies are
    /// refused with 413 before authentication.
    pub max_request_body_size: usize,
    /// The Zones and Recordsets the controllers' stores keep where they run
    /// in this process: the mirrors hold those copies rather than their own.
    pub copies: designate_crd::copies::SharedCopies,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            central: Config::default(),
            default_pool: "default".into(),
            empty_namespace_grace: Duration::from_secs(300),
            namespace: "default".into(),
            grant_key: None,
            max_request_body_size: MAX_REQUEST_BODY_SIZE,
            copies: Default::default(),
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
        let cache = Cache::start(
            &client,
            &settings.namespace,
            settings.grant_key.clone(),
            &settings.copies,
        )
        .await?;
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

    /// Designate's check of a project against the identity service: one it
    /// does not know is 400 `invalid_project`; where it cannot tell
    /// (noauth), the project passes. `Err` is the answer to give.
    pub(crate) async fn verify_project(&self, project: &str) -> Result<(), Response> {
        match self.auth.project_exists(project).await {
            Ok(Some(false)) => Err(ApiError::new(
                400,
                "invalid_project",
                format!("{project} is not a valid project ID."),
            )
            .into_response()),
            Ok(_) => Ok(()),
            Err(refusal) => Err(refusal.into_response()),
        }
    }
}

/// The routes of Designate's v2 API, answered from `api`.
pub fn router(api: Arc<Api>) -> Router {
    use axum::routing::{MethodRouter, post};
    let zone: MethodRouter<Arc<Api>> = get(zones::show).patch(zones::update).delete(zones::delete);
    let recordset = get(recordsets::show)
        .put(recordsets::update)
        .delete(recordsets::delete);
    let routes = Router::new()
        .route("/v2/zones", get(zones::list).merge(post(zones::create)))
        .route("/v2/zones/{zone_id}", zone)
        .route("/v2/zones/{zone_id}/nameservers", get(zones::nameservers))
        .route(
            "/v2/zones/{zone_id}/recordsets",
            get(recordsets::list).post(recordsets::create),
        )
        .route("/v2/zones/{zone_id}/recordsets/{recordset_id}", recordset)
        .route(
            "/v2/zones/{zone_id}/shares",
            get(shares::list).post(shares::create),
        )
        .route(
            "/v2/zones/{zone_id}/shares/{zone_share_id}",
            get(shares::show).delete(shares::delete),
        )
        .route(
            "/v2/zones/{zone_id}/tasks/export",
            post(tasks::create_export),
        )
        .route("/v2/zones/{zone_id}/tasks/abandon", post(zones::abandon))
        .route(
            "/v2/zones/{zone_id}/tasks/pool_move",
            post(zones::pool_move),
        )
        .route("/v2/zones/{zone_id}/tasks/xfr", post(zones::xfr))
        .route("/v2/zones/tasks/exports", get(tasks::list_exports))
        .route(
            "/v2/zones/tasks/exports/{export_id}",
            get(tasks::show_export).delete(tasks::delete_export),
        )
        .route(
            "/v2/zones/tasks/exports/{export_id}/export",
            get(tasks::export_file),
        )
        .route(
            "/v2/zones/tasks/imports",
            get(tasks::list_imports).post(tasks::create_import),
        )
        .route(
            "/v2/zones/tasks/imports/{import_id}",
            get(tasks::show_import).delete(tasks::delete_import),
        )
        .route(
            "/v2/zones/{zone_id}/tasks/transfer_requests",
            post(transfers::create_request),
        )
        .route(
            "/v2/zones/tasks/transfer_requests",
            get(transfers::list_requests),
        )
        .route(
            "/v2/zones/tasks/transfer_requests/{request_id}",
            get(transfers::show_request)
                .patch(transfers::update_request)
                .delete(transfers::delete_request),
        )
        .route(
            "/v2/zones/tasks/transfer_accepts",
            get(transfers::list_accepts).post(transfers::create_accept),
        )
        .route(
            "/v2/zones/tasks/transfer_accepts/{accept_id}",
            get(transfers::show_accept),
        )
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
        .route("/v2/reverse/floatingips", get(floatingips::list))
        .route(
            "/v2/reverse/floatingips/{fip_key}",
            get(floatingips::show).patch(floatingips::update),
        )
        // Pecan's dispatch of a routed path: HEAD and the media type.
        .route_layer(middleware::from_fn(negotiate))
        // The versions document (a Flask app: HEAD and OPTIONS answered).
        .route(
            "/",
            get(versions).options(|| async {
                (
                    StatusCode::OK,
                    [(http::header::ALLOW, "GET, HEAD, OPTIONS")],
                )
            }),
        )
        .route("/healthcheck", get(healthcheck))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        // Every /v2 path, routed or not, is authenticated first (as
        // keystonemiddleware runs before Designate's routing).
        .layer(middleware::from_fn_with_state(
            api.clone(),
            auth::authenticate,
        ))
        // oslo.middleware's size limit runs before authentication; bodies
        // sent without a length are cut at the limit as they are read.
        .layer(middleware::from_fn_with_state(api.clone(), limit_body))
        .layer(axum::extract::DefaultBodyLimit::max(
            api.settings.max_request_body_size,
        ))
        .layer(middleware::from_fn_with_state(api.clone(), answer))
        .with_state(api);
    // Designate's NormalizeURIMiddleware: trailing slashes are dropped
    // before routing (`/v2/zones/` is `/v2/zones`).
    Router::new()
        .fallback_service(routes)
        .layer(middleware::map_request(trim_trailing_slashes))
}

/// How long a request may take: oslo.messaging's `rpc_response_timeout`
/// default, after which Designate's API answers 504 `timeout`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// oslo.middleware's `max_request_body_size` default, which Designate keeps.
pub const MAX_REQUEST_BODY_SIZE: usize = 114_688;

fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        "request_too_large",
        format!("Request is too large. Larger than max_request_body_size ({limit})."),
    )
}

/// Refuses a body whose stated length is past the limit, before anything
/// reads it.
async fn limit_body(State(api): Shared, request: Request, next: Next) -> Response {
    let limit = api.settings.max_request_body_size;
    let length = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|length| length > limit as u64) {
        return body_too_large(limit).into_response();
    }
    next.run(request).await
}

/// The request with its path's trailing slashes removed (`/` stays).
async fn trim_trailing_slashes(mut request: Request) -> Request {
    let path = request.uri().path();
    let trimmed = path.trim_end_matches('/');
    if trimmed.len() == path.len() || trimmed.is_empty() {
        return request;
    }
    let uri = match request.uri().query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_string(),
    };
    if let Ok(uri) = uri.parse::<http::Uri>() {
        // Links are built from the original URI: the normalized one.
        request
            .extensions_mut()
            .insert(axum::extract::OriginalUri(uri.clone()));
        *request.uri_mut() = uri;
    }
    request
}

/// What pecan checks once a `/v2` path is routed, before the controller:
/// its REST controllers have no HEAD (405), and they render JSON only, so
/// an `Accept` that takes no JSON is 406.
async fn negotiate(request: Request, next: Next) -> Response {
    if request.method() == http::Method::HEAD {
        return ApiError::method_not_allowed().into_response();
    }
    let accept = request
        .headers()
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    // The export's zone file is pecan's `text/dns`; the rest is JSON.
    let path = request.uri().path();
    let media = if path.starts_with("/v2/zones/tasks/exports/") && path.ends_with("/export") {
        "text/dns"
    } else {
        "application/json"
    };
    if !accepts(&accept, media) {
        return ApiError::new(
            406,
            "unsupported_accept",
            "The resource could not be generated that was acceptable to your request.",
        )
        .into_response();
    }
    next.run(request).await
}

/// Whether an `Accept` header takes `media` (`type/subtype`), as WebOb's
/// `acceptable_offers` decides (the most specific range matching it must
/// have `q` > 0; no header or an unreadable one takes anything), with
/// pecan's fallback of a header that starts with the type.
fn accepts(accept: &str, media: &str) -> bool {
    let accept = accept.trim();
    if accept.is_empty() || accept.starts_with(media) {
        return true;
    }
    let family = format!("{}/*", media.split('/').next().unwrap_or_default());
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let mut parts = range.split(';');
        let range_media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut q = 1.0;
        for param in parts {
            if let Some((key, value)) = param.split_once('=')
                && key.trim().eq_ignore_ascii_case("q")
            {
                match value.trim().parse::<f32>() {
                    Ok(v) if (0.0..=1.0).contains(&v) => q = v,
                    _ => return true,
                }
            }
        }
        let specificity = match range_media.as_str() {
            m if m == media => 3,
            m if m == family => 2,
            "*/*" | "*" => 1,
            _ => continue,
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.is_some_and(|(_, q)| q > 0.0)
}

/// An error answered without Designate's shape (one of axum's own
/// rejections, in plain text), in that shape.
async fn designate_shape(response: Response, limit: usize) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let error = match status.as_u16() {
        404 => ApiError::not_found(),
        405 => ApiError::method_not_allowed(),
        406 => ApiError::new(406, "unsupported_accept", text),
        413 => body_too_large(limit),
        415 => ApiError::new(415, "unsupported_content_type", text),
        code @ 400..=499 => ApiError::new(code, "bad_request", text),
        code => ApiError::new(code, "unknown", text),
    };
    error.into_response()
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
    let answered =
        tokio::time::timeout(REQUEST_TIMEOUT, next.run(request).instrument(span.clone()));
    let mut response = match answered.await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    };
    let status = response.status();
    let mut route_known = true;
    if response.extensions().get::<ApiError>().is_none() {
        response = designate_shape(response, api.settings.max_request_body_size).await;
    }
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

/// `/healthcheck`: oslo.middleware's healthcheck app as Designate's paste
/// pipeline mounts it (its `disable_by_file` check, never disabled here):
/// HEAD 204, GET `OK` in plain text, or in JSON for a client that asks
/// for JSON only.
async fn healthcheck(method: http::Method, headers: HeaderMap) -> Response {
    if method == http::Method::HEAD {
        return (
            StatusCode::NO_CONTENT,
            [(http::header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        )
            .into_response();
    }
    let accept = headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("application/json") && !accept.contains("text/") && !accept.contains("*/*") {
        let body = "{\n    \"detailed\": false,\n    \"reasons\": [\n        \"OK\"\n    ]\n}";
        return (
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
    }
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        "OK",
    )
        .into_response()
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

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_headers_are_read_as_webob_reads_them() {
        for takes in [
            "",
            "application/json",
            "*/*",
            "application/*",
            "text/plain, application/json;q=0.1",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/plain;q=oops",
        ] {
            assert!(accepts(takes, "application/json"), "{takes}");
        }
        for refuses in [
            "text/plain",
            "text/dns",
            "*/*;q=0",
            "text/plain, application/json;q=0",
        ] {
            assert!(!accepts(refuses, "application/json"), "{refuses}");
        }
        assert!(accepts("text/dns", "text/dns"));
        assert!(accepts("text/*", "text/dns"));
        assert!(!accepts("image/jpeg", "text/dns"));
    }
}
