//! Keystone v3 token validation as keystonemiddleware's `auth_token` does it
//! for Designate: a service user (password, project-scoped) asks
//! `GET /v3/auth/tokens` about each user token it has not seen lately.
//!
//! - The service token is reused until shortly before it expires; a 401
//!   while using it triggers one re-authentication and one retry. Only one
//!   task re-authenticates at a time; the others wait for its outcome.
//! - Validated tokens are cached, keyed by their SHA-256, until
//!   min(validated + `cache_time`, the token's expiry). As with
//!   keystonemiddleware, a token revoked meanwhile is still accepted until
//!   its entry lapses. Refusals are not cached, so a token that becomes
//!   valid works at once.
//! - Concurrent first validations of one token share one call to Keystone.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::Error;

/// Longer tokens are refused unseen (Fernet tokens are ~200 bytes, JWS ones
/// ~1 KiB).
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Token data without the catalog is a few KiB; anything far larger is not
/// Keystone's.
const MAX_ANSWER: usize = 1 << 20;
/// The service token is renewed this long before it expires (as
/// keystoneauth's `MIN_TOKEN_LIFE_SECONDS`), or at half its life if shorter.
const SERVICE_TOKEN_MARGIN: Duration = Duration::from_secs(120);
/// Keystone project ids are uuid4 hex; the column holds at most 64.
const MAX_PROJECT_ID_LEN: usize = 64;

const X_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");
const X_SUBJECT_TOKEN: HeaderName = HeaderName::from_static("x-subject-token");

/// How to reach Keystone and as whom.
#[derive(Clone)]
pub struct Settings {
    /// The v3 endpoint, e.g. `http://127.0.0.1:5000/v3`.
    pub url: String,
    pub username: String,
    pub password: String,
    pub project_name: String,
    pub user_domain: String,
    pub project_domain: String,
    /// How long a validated token is trusted without asking again (never
    /// past its expiry); keystonemiddleware's `token_cache_time`.
    pub cache_time: Duration,
    /// At most this many tokens are cached.
    pub cache_capacity: usize,
    /// Each call to Keystone gives up after this long.
    pub timeout: Duration,
}

// By hand, so that the password never reaches a log.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("project_name", &self.project_name)
            .field("user_domain", &self.user_domain)
            .field("project_domain", &self.project_domain)
            .field("cache_time", &self.cache_time)
            .field("cache_capacity", &self.cache_capacity)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Who a valid token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub project_id: String,
    /// Lower-cased role names (Keystone already expands implied roles).
    pub roles: Vec<String>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A Keystone client for one service user.
pub struct Keystone {
    settings: Settings,
    /// `settings.url` without a trailing slash, to append paths to.
    base: String,
    client: HttpClient,
    service: Mutex<ServiceState>,
    /// Held while authenticating the service user: one refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
    cache: Mutex<TokenCache>,
    flights: Mutex<Flights>,
    requests: AtomicU64,
}

impl fmt::Debug for Keystone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keystone")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Keystone {
    pub fn new(settings: Settings) -> Result<Self, Error> {
        let https = check_url(&settings.url)?;
        let base = settings.url.trim_end_matches('/').to_string();
        let client = Client::builder(TokioExecutor::new()).build(connector(https)?);
        let cache = TokenCache::new(settings.cache_capacity);
        Ok(Self {
            settings,
            base,
            client,
            service: Mutex::default(),
            refreshing: tokio::sync::Mutex::const_new(()),
            cache: Mutex::new(cache),
            flights: Mutex::default(),
            requests: AtomicU64::new(0),
        })
    }

    /// The identity of a user token, from the cache or from Keystone.
    pub async fn validate(&self, token: &str) -> Result<Identity, Error> {
        let token = well_formed(token)?;
        let key = token_key(token);
        if let Some(identity) = self.cached(&key) {
            return Ok(Identity::clone(&identity));
        }
        let span = tracing::debug_span!("keystone_validate", token = %KeyPrefix(&key));
        self.validate_uncached(token, key).instrument(span).await
    }

    /// Whether a project exists (Designate's `quotas_verify_project_id`).
    pub async fn project_exists(&self, project_id: &str) -> Result<bool, Error> {
        // Refused rather than encoded: such an id cannot be Keystone's, and
        // it must never change the path asked for.
        if project_id.is_empty()
            || project_id.len() > MAX_PROJECT_ID_LEN
            || !project_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            tracing::debug!("not a Keystone project id; taken as missing");
            return Ok(false);
        }
        let path = format!("/projects/{project_id}");
        let answer = self
            .call_as_service(Method::GET, &path, HeaderMap::new())
            .await?;
        match answer.status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(Error::ServiceAuth(format!(
                "reading project {project_id}: {}",
                answer.summary()
            ))),
            _ => Err(Error::KeystoneUnreachable(format!(
                "reading project {project_id}: {}",
                answer.summary()
            ))),
        }
    }

    /// The `WWW-Authenticate` header value of a 401: `Keystone uri="..."`.
    pub fn www_authenticate(&self) -> String {
        // keystonemiddleware's `www_authenticate_uri`, which Designate
        // deployments set to the endpoint given here.
        format!("Keystone uri=\"{}\"", self.settings.url)
    }

    /// How many tokens the cache holds now (expired entries are dropped
    /// first).
    pub fn cached_tokens(&self) -> usize {
        let mut cache = lock(&self.cache);
        cache.purge_expired(Instant::now());
        cache.len()
    }

    /// Forgets every validated token (tests; an operator's "revoke now").
    pub fn clear_cache(&self) {
        lock(&self.cache).clear();
    }

    /// How many HTTP requests were sent to Keystone so far, service
    /// authentications included.
    pub fn keystone_requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn cached(&self, key: &Key) -> Option<Arc<Identity>> {
        let now = Instant::now();
        lock(&self.cache).get(key, now)
    }

    async fn validate_uncached(&self, token: &str, key: Key) -> Result<Identity, Error> {
        let boarding = Boarding::join(&self.flights, key);
        let outcome = boarding
            .outcome(|| async {
                // A flight that just landed may have filled the cache.
                if let Some(identity) = self.cached(&key) {
                    return Ok(identity);
                }
                let identity = self.ask_keystone(token).await.map_err(Arc::new)?;
                let identity = Arc::new(identity);
                self.remember(key, &identity);
                Ok(identity)
            })
            .await;
        match outcome {
            Ok(identity) => Ok(Identity::clone(&identity)),
            Err(error) => {
                tracing::debug!(reason = error.reason(), "token refused");
                Err(replicate(&error))
            }
        }
    }

    fn remember(&self, key: Key, identity: &Arc<Identity>) {
        let Ok(left) = (identity.expires_at - Utc::now()).to_std() else {
            return;
        };
        let now = Instant::now();
        let Some(valid_until) = now.checked_add(left.min(self.settings.cache_time)) else {
            return;
        };
        lock(&self.cache).insert(key, Arc::clone(identity), valid_until, now);
    }

    async fn ask_keystone(&self, token: &str) -> Result<Identity, Error> {
        let mut subject = HeaderValue::from_str(token)
            .map_err(|_| Error::InvalidToken("malformed".to_string()))?;
        subject.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(X_SUBJECT_TOKEN, subject);
        let answer = self
            .call_as_service(Method::GET, "/auth/tokens?nocatalog", headers)
            .await?;
        match answer.status {
            StatusCode::OK => identity_of(&answer.body),
            StatusCode::NOT_FOUND => Err(Error::InvalidToken(
                "Keystone does not know it (expired, revoked or never issued)".to_string(),
            )),
            // Still refused with a service token just issued: the subject is
            // what Keystone objects to.
            StatusCode::UNAUTHORIZED => {
                Err(Error::InvalidToken("Keystone refused it (401)".to_string()))
            }
            StatusCode::FORBIDDEN => Err(Error::ServiceAuth(format!(
                "the service user may not validate tokens: {}",
                answer.summary()
            ))),
            _ => Err(Error::KeystoneUnreachable(format!(
                "validating a token: {}",
                answer.summary()
            ))),
        }
    }

    /// A call with the service token; on a 401, one more with a new one.
    async fn call_as_service(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
    ) -> Result<Answer, Error> {
        let service = self.service_token(None).await?;
        let answer = self
            .call_with(method.clone(), path, headers.clone(), &service)
            .await?;
        if answer.status != StatusCode::UNAUTHORIZED {
            return Ok(answer);
        }
        tracing::debug!("Keystone refused the service token; authenticating again");
        let service = self.service_token(Some(&service)).await?;
        self.call_with(method, path, headers, &service).await
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        mut headers: HeaderMap,
        service: &HeaderValue,
    ) -> Result<Answer, Error> {
        headers.insert(X_AUTH_TOKEN, service.clone());
        self.call(method, path, headers, Bytes::new()).await
    }

    /// The service token, unless it is `rejected` (Keystone just refused
    /// it): then a newer one.
    async fn service_token(&self, rejected: Option<&HeaderValue>) -> Result<HeaderValue, Error> {
        let attempts_seen = {
            let state = lock(&self.service);
            if let Some(token) = state.usable(rejected) {
                return Ok(token);
            }
            state.attempts
        };
        let _one_at_a_time = self.refreshing.lock().await;
        {
            let state = lock(&self.service);
            if let Some(token) = state.usable(rejected) {
                return Ok(token);
            }
            // Whoever held the lock just failed: share that rather than
            // queue up one more attempt per waiting request.
            if state.attempts != attempts_seen
                && let Some(error) = &state.last_error
            {
                return Err(replicate(error));
            }
        }
        let result = self.authenticate().await;
        let mut state = lock(&self.service);
        state.attempts += 1;
        match result {
            Ok(token) => {
                let value = token.value.clone();
                state.token = Some(token);
                state.last_error = None;
                Ok(value)
            }
            Err(error) => {
                state.last_error = Some(Arc::new(replicate(&error)));
                Err(error)
            }
        }
    }

    /// POST /auth/tokens with the service user's password.
    async fn authenticate(&self) -> Result<ServiceToken, Error> {
        let settings = &self.settings;
        let body = serde_json::json!({
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": settings.username,
                            "domain": {"name": settings.user_domain},
                            "password": settings.password,
                        }
                    }
                },
                "scope": {
                    "project": {
                        "name": settings.project_name,
                        "domain": {"name": settings.project_domain},
                    }
                }
            }
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let answer = self
            .call(
                Method::POST,
                "/auth/tokens?nocatalog",
                headers,
                Bytes::from(body.to_string()),
            )
            .await?;
        if answer.status.is_server_error() {
            return Err(Error::KeystoneUnreachable(format!(
                "authenticating the service user: {}",
                answer.summary()
            )));
        }
        if !answer.status.is_success() {
            let error = Error::ServiceAuth(format!(
                "user {:?} in domain {:?}, project {:?}: {}",
                settings.username,
                settings.user_domain,
                settings.project_name,
                answer.summary()
            ));
            tracing::warn!(%error, "service user refused");
            return Err(error);
        }
        let Some(value) = answer.headers.get(&X_SUBJECT_TOKEN) else {
            return Err(Error::KeystoneUnreachable(
                "Keystone issued the service token without X-Subject-Token".to_string(),
            ));
        };
        let mut value = value.clone();
        value.set_sensitive(true);
        let issued: TokenAnswer<ServiceTokenData> =
            serde_json::from_slice(&answer.body).map_err(|e| {
                Error::KeystoneUnreachable(format!("unreadable service token data: {e}"))
            })?;
        let life = (issued.token.expires_at - Utc::now())
            .to_std()
            .map_err(|_| {
                Error::KeystoneUnreachable("Keystone issued an expired service token".to_string())
            })?;
        let margin = SERVICE_TOKEN_MARGIN.min(life / 2);
        let now = Instant::now();
        let refresh_after = now.checked_add(life - margin).unwrap_or(now);
        tracing::debug!(expires_at = %issued.token.expires_at, "service user authenticated");
        Ok(ServiceToken {
            value,
            refresh_after,
        })
    }

    /// One HTTP exchange, bounded by the timeout, logged without secrets.
    async fn call(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Answer, Error> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let timeout = self.settings.timeout;
        let result =
            match tokio::time::timeout(timeout, self.send(method.clone(), path, headers, body))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(Error::KeystoneUnreachable(format!(
                    "{} gave no answer within {timeout:?}",
                    self.base
                ))),
            };
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        match &result {
            Ok(answer) => {
                tracing::debug!(%method, path, status = answer.status.as_u16(), elapsed_ms, "Keystone answered");
            }
            Err(error) => {
                tracing::debug!(%method, path, %error, elapsed_ms, "Keystone call failed");
            }
        }
        result
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<Answer, Error> {
        let unreachable = |message: String| {
            Error::KeystoneUnreachable(format!("{} {path}: {message}", self.base))
        };
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::ACCEPT, "application/json")
            .header(
                header::USER_AGENT,
                concat!("designate-identity/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(request_headers) = builder.headers_mut() {
            request_headers.extend(headers);
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| Error::Config(format!("a request to {}: {e}", self.base)))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| unreachable(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// `http://` or `https://` (true), with a host and no query: anything else
/// is a configuration error. It also goes verbatim into `WWW-Authenticate`.
fn check_url(url: &str) -> Result<bool, Error> {
    let invalid = |why: &str| Error::Config(format!("Keystone url {url:?}: {why}"));
    if !url
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        return Err(invalid("holds characters a URL cannot"));
    }
    let uri: http::Uri = url.parse().map_err(|e| invalid(&format!("{e}")))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(invalid("not http:// nor https://")),
    };
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(invalid("a query or fragment has no place here"));
    }
    Ok(https)
}

/// TLS with the system's CAs for https; plain TCP otherwise.
fn connector(https: bool) -> Result<HttpsConnector<HttpConnector>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = if https {
        builder
            .with_provider_and_native_roots(provider)
            .map_err(|e| Error::Config(format!("no system CA certificates: {e}")))?
    } else {
        // Never used for http://; spares reading the system's CAs.
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS: {e}")))?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        builder.with_tls_config(config)
    };
    Ok(builder.https_or_http().enable_http1().build())
}

/// The token as keystonemiddleware takes it (surrounding whitespace
/// stripped), or a refusal without asking Keystone.
fn well_formed(token: &str) -> Result<&str, Error> {
    let token = token.trim_matches(|c: char| c.is_ascii_whitespace());
    if token.is_empty() {
        return Err(Error::InvalidToken("empty".to_string()));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::InvalidToken("too long".to_string()));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidToken("characters no token holds".to_string()));
    }
    Ok(token)
}

/// The identity in `GET /auth/tokens` token data.
fn identity_of(body: &[u8]) -> Result<Identity, Error> {
    let answer: TokenAnswer<TokenData> = serde_json::from_slice(body)
        .map_err(|e| Error::KeystoneUnreachable(format!("unreadable token data: {e}")))?;
    let token = answer.token;
    // Designate acts for a project; domain- and system-scoped tokens have
    // none.
    let Some(project) = token.project else {
        return Err(Error::InvalidToken("unscoped".to_string()));
    };
    if token.expires_at <= Utc::now() {
        return Err(Error::InvalidToken("expired".to_string()));
    }
    Ok(Identity {
        user_id: token.user.id,
        project_id: project.id,
        roles: token
            .roles
            .into_iter()
            .map(|role| role.name.to_lowercase())
            .collect(),
        expires_at: token.expires_at,
    })
}

#[derive(Deserialize)]
struct TokenAnswer<T> {
    token: T,
}

#[derive(Deserialize)]
struct TokenData {
    user: IdOnly,
    project: Option<IdOnly>,
    #[serde(default)]
    roles: Vec<RoleName>,
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ServiceTokenData {
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
struct RoleName {
    name: String,
}

/// An answer of Keystone.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    /// The status and Keystone's own message, for errors.
    fn summary(&self) -> String {
        #[derive(Deserialize)]
        struct KeystoneError {
            error: ErrorBody,
        }
        #[derive(Deserialize)]
        struct ErrorBody {
            message: String,
        }
        match serde_json::from_slice::<KeystoneError>(&self.body) {
            Ok(error) => format!("{}: {}", self.status, error.error.message),
            Err(_) => self.status.to_string(),
        }
    }
}

/// An error with its causes, as hyper's own message is terse.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A copy of an error shared between waiters.
fn replicate(error: &Error) -> Error {
    match error {
        Error::InvalidToken(message) => Error::InvalidToken(message.clone()),
        Error::KeystoneUnreachable(message) => Error::KeystoneUnreachable(message.clone()),
        Error::ServiceAuth(message) => Error::ServiceAuth(message.clone()),
        Error::Config(message) => Error::Config(message.clone()),
        Error::Policy { rule, message } => Error::Policy {
            rule: rule.clone(),
            message: message.clone(),
        },
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent; a panic elsewhere
    // must not take token validation down with it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The service user's token and how its last authentication went.
#[derive(Default)]
struct ServiceState {
    token: Option<ServiceToken>,
    attempts: u64,
    last_error: Option<Arc<Error>>,
}

impl ServiceState {
    fn usable(&self, rejected: Option<&HeaderValue>) -> Option<HeaderValue> {
        let token = self.token.as_ref()?;
        (token.refresh_after > Instant::now() && Some(&token.value) != rejected)
            .then(|| token.value.clone())
    }
}

struct ServiceToken {
    value: HeaderValue,
    refresh_after: Instant,
}

/// SHA-256 of a token: the cache never holds tokens themselves.
type Key = [u8; 32];

fn token_key(token: &str) -> Key {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut key = [0; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

/// The first 8 hex digits of a token's hash: enough to follow it in logs.
struct KeyPrefix<'a>(&'a Key);

impl fmt::Display for KeyPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0[..4].iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Validated tokens, bounded, each until its own deadline.
///
/// A hit is one hash-map lookup. Inserting drops the lapsed entries (in
/// deadline order) and then, if still full, the oldest: O(log n) per entry
/// dropped, each entry dropped once.
struct TokenCache {
    capacity: usize,
    entries: FastMap<Key, Entry>,
    by_deadline: BTreeMap<(Instant, u64), Key>,
    by_age: BTreeMap<u64, Key>,
    next_seq: u64,
}

struct Entry {
    identity: Arc<Identity>,
    valid_until: Instant,
    /// Insertion order; also tells apart entries with the same deadline.
    seq: u64,
}

impl TokenCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: FastMap::default(),
            by_deadline: BTreeMap::new(),
            by_age: BTreeMap::new(),
            next_seq: 0,
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn get(&mut self, key: &Key, now: Instant) -> Option<Arc<Identity>> {
        let entry = self.entries.get(key)?;
        if entry.valid_until > now {
            return Some(Arc::clone(&entry.identity));
        }
        self.remove(key);
        None
    }

    fn insert(&mut self, key: Key, identity: Arc<Identity>, valid_until: Instant, now: Instant) {
        if self.capacity == 0 || valid_until <= now {
            return;
        }
        self.remove(&key);
        if self.entries.len() >= self.capacity {
            self.purge_expired(now);
        }
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            self.remove(&oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_deadline.insert((valid_until, seq), key);
        self.by_age.insert(seq, key);
        self.entries.insert(
            key,
            Entry {
                identity,
                valid_until,
                seq,
            },
        );
    }

    fn remove(&mut self, key: &Key) {
        if let Some(entry) = self.entries.remove(key) {
            self.by_deadline.remove(&(entry.valid_until, entry.seq));
            self.by_age.remove(&entry.seq);
        }
    }

    fn purge_expired(&mut self, now: Instant) {
        while let Some(first) = self.by_deadline.first_entry() {
            if first.key().0 > now {
                break;
            }
            let key = first.remove();
            if let Some(entry) = self.entries.remove(&key) {
                self.by_age.remove(&entry.seq);
            }
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.by_deadline.clear();
        self.by_age.clear();
    }
}

/// What one call to Keystone about a token gave, shared by its waiters.
type Outcome = Result<Arc<Identity>, Arc<Error>>;
type Flight = OnceCell<Outcome>;
type Flights = FastMap<Key, Arc<Flight>>;

/// A seat on the flight asking Keystone about one token. The flight leaves
/// the map when its last passenger leaves; every clone and drop of its
/// `Arc` happens under the map's lock, so the count is exact.
struct Boarding<'a> {
    flights: &'a Mutex<Flights>,
    key: Key,
    flight: Option<Arc<Flight>>,
}

impl<'a> Boarding<'a> {
    fn join(flights: &'a Mutex<Flights>, key: Key) -> Self {
        let mut map = lock(flights);
        let flight = match map.get(&key) {
            // One that landed already is stale news: a new one leaves.
            Some(flight) if !flight.initialized() => Arc::clone(flight),
            _ => {
                let flight = Arc::new(Flight::new());
                map.insert(key, Arc::clone(&flight));
                flight
            }
        };
        Self {
            flights,
            key,
            flight: Some(flight),
        }
    }

    /// The flight's outcome; `ask` runs only if no passenger already does
    /// (or the one who did gave up waiting).
    async fn outcome<F, Fut>(&self, ask: F) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        match &self.flight {
            Some(flight) => flight.get_or_init(ask).await.clone(),
            None => ask().await,
        }
    }
}

impl Drop for Boarding<'_> {
    fn drop(&mut self) {
        let mut map = lock(self.flights);
        if let Some(flight) = self.flight.take() {
            let last_passenger = Arc::strong_count(&flight) == 2
                && map.get(&self.key).is_some_and(|f| Arc::ptr_eq(f, &flight));
            if last_passenger {
                map.remove(&self.key);
            }
            drop(flight);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(user: &str) -> Arc<Identity> {
        Arc::new(Identity {
            user_id: user.to_string(),
            project_id: "p".to_string(),
            roles: vec!["reader".to_string()],
            expires_at: Utc::now() + chrono::Duration::hours(1),
        })
    }

    fn settings(url: &str) -> Settings {
        Settings {
            url: url.to_string(),
            username: "designate".to_string(),
            password: "secret-pw".to_string(),
            project_name: "service".to_string(),
            user_domain: "Default".to_string(),
            project_domain: "Default".to_string(),
            cache_time: Duration::from_secs(300),
            cache_capacity: 10,
            timeout: Duration::from_secs(2),
        }
    }

    #[test]
    fn cache_serves_until_the_deadline_and_never_after() {
        let mut cache = TokenCache::new(10);
        let now = Instant::now();
        let key = token_key("a");
        cache.insert(key, identity("a"), now + Duration::from_secs(5), now);
        assert_eq!(
            cache.get(&key, now).map(|i| i.user_id.clone()),
            Some("a".into())
        );
        assert!(cache.get(&key, now + Duration::from_secs(5)).is_none());
        assert_eq!(cache.len(), 0);
        assert!(cache.by_deadline.is_empty() && cache.by_age.is_empty());
    }

    #[test]
    fn a_full_cache_drops_lapsed_entries_first_then_the_oldest() {
        let mut cache = TokenCache::new(2);
        let now = Instant::now();
        let (a, b, c, d) = (
            token_key("a"),
            token_key("b"),
            token_key("c"),
            token_key("d"),
        );
        cache.insert(a, identity("a"), now + Duration::from_secs(100), now);
        cache.insert(b, identity("b"), now + Duration::from_secs(1), now);
        // b lapsed: it goes, a (older) stays.
        let later = now + Duration::from_secs(2);
        cache.insert(c, identity("c"), later + Duration::from_secs(100), later);
        assert!(cache.get(&a, later).is_some());
        assert!(cache.get(&b, later).is_none());
        // Nothing lapsed: the oldest (a) goes.
        cache.insert(d, identity("d"), later + Duration::from_secs(100), later);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&a, later).is_none());
        assert!(cache.get(&c, later).is_some());
        assert!(cache.get(&d, later).is_some());
        assert_eq!(cache.by_deadline.len(), 2);
        assert_eq!(cache.by_age.len(), 2);
    }

    #[test]
    fn inserting_again_replaces_and_a_zero_capacity_caches_nothing() {
        let mut cache = TokenCache::new(2);
        let now = Instant::now();
        let a = token_key("a");
        cache.insert(a, identity("a"), now + Duration::from_secs(10), now);
        cache.insert(a, identity("a2"), now + Duration::from_secs(20), now);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.by_age.len(), 1);
        assert_eq!(
            cache.get(&a, now).map(|i| i.user_id.clone()),
            Some("a2".into())
        );
        cache.insert(token_key("x"), identity("x"), now, now);
        assert_eq!(cache.len(), 1, "an entry already lapsed is not kept");

        let mut none = TokenCache::new(0);
        none.insert(a, identity("a"), now + Duration::from_secs(10), now);
        assert_eq!(none.len(), 0);
    }

    #[test]
    fn malformed_tokens_are_refused_unseen() {
        for token in [
            "",
            "   ",
            "to ken",
            "tök",
            "a\u{7f}",
            &"x".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert!(
                matches!(well_formed(token), Err(Error::InvalidToken(_))),
                "{token:?}"
            );
        }
        assert_eq!(well_formed(" gAAAA-_x \r\n").ok(), Some("gAAAA-_x"));
    }

    #[test]
    fn token_data_gives_project_user_and_lower_cased_roles() {
        let body = br#"{"token": {"user": {"id": "u1", "name": "alice"},
            "project": {"id": "p1", "name": "demo"},
            "roles": [{"id": "r1", "name": "Member"}, {"id": "r2", "name": "reader"}],
            "expires_at": "2999-12-04T15:44:46.000000Z"}}"#;
        let identity = identity_of(body).expect("valid token data");
        assert_eq!(identity.user_id, "u1");
        assert_eq!(identity.project_id, "p1");
        assert_eq!(identity.roles, ["member", "reader"]);

        let unscoped =
            br#"{"token": {"user": {"id": "u1"}, "expires_at": "2999-01-01T00:00:00Z"}}"#;
        assert!(matches!(identity_of(unscoped), Err(Error::InvalidToken(m)) if m == "unscoped"));
        let domain = br#"{"token": {"user": {"id": "u1"}, "domain": {"id": "default"},
            "roles": [], "expires_at": "2999-01-01T00:00:00Z"}}"#;
        assert!(matches!(identity_of(domain), Err(Error::InvalidToken(m)) if m == "unscoped"));
        let expired = br#"{"token": {"user": {"id": "u1"}, "project": {"id": "p1"},
            "roles": [], "expires_at": "2000-01-01T00:00:00Z"}}"#;
        assert!(matches!(identity_of(expired), Err(Error::InvalidToken(_))));
        assert!(matches!(
            identity_of(b"<html>"),
            Err(Error::KeystoneUnreachable(_))
        ));
    }

    #[test]
    fn urls_are_checked_and_www_authenticate_gives_them_as_configured() {
        for url in [
            "ftp://k/v3",
            "http://",
            "127.0.0.1:5000/v3",
            "http://k/v3?x=1",
            "http://k/\"v3",
        ] {
            assert!(
                matches!(Keystone::new(settings(url)), Err(Error::Config(_))),
                "{url}"
            );
        }
        let keystone = Keystone::new(settings("http://127.0.0.1:5000/v3")).expect("valid");
        assert_eq!(
            keystone.www_authenticate(),
            r#"Keystone uri="http://127.0.0.1:5000/v3""#
        );
        assert_eq!(keystone.base, "http://127.0.0.1:5000/v3");
        let slash = Keystone::new(settings("http://127.0.0.1:5000/v3/")).expect("valid");
        assert_eq!(slash.base, "http://127.0.0.1:5000/v3");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let keystone = Keystone::new(settings("http://127.0.0.1:5000/v3")).expect("valid");
        let shown = format!("{keystone:?}");
        assert!(!shown.contains("secret-pw"), "{shown}");
    }

    #[test]
    fn key_prefix_is_eight_hex_digits() {
        // SHA-256("abc") = ba7816bf...
        assert_eq!(KeyPrefix(&token_key("abc")).to_string(), "ba7816bf");
    }

    #[tokio::test]
    async fn odd_project_ids_are_missing_without_asking() {
        let keystone = Keystone::new(settings("http://127.0.0.1:1/v3")).expect("valid");
        for id in ["", "../users", "a/b", "a?b", "a%2Fb", ".", &"a".repeat(65)] {
            assert!(!keystone.project_exists(id).await.expect("no call"), "{id}");
        }
        assert_eq!(keystone.keystone_requests(), 0);
    }

    #[tokio::test]
    async fn concurrent_first_validations_of_one_token_share_a_flight() {
        // Nothing listens: the flight fails, but only one passenger asks.
        let keystone = Arc::new(Keystone::new(settings("http://127.0.0.1:1/v3")).expect("valid"));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let keystone = Arc::clone(&keystone);
            tasks.spawn(async move { keystone.validate("same-token").await });
        }
        while let Some(result) = tasks.join_next().await {
            assert!(matches!(result, Ok(Err(Error::KeystoneUnreachable(_)))));
        }
        // One attempt to authenticate the service user in all.
        assert_eq!(keystone.keystone_requests(), 1);
        assert!(lock(&keystone.flights).is_empty());
    }
}
