//! Token validation against a real Keystone.
//!
//! Runs when `DESIGNATE_TEST_KEYSTONE=1` and Keystone answers at
//! `KEYSTONE_URL` (default `http://127.0.0.1:5000/v3`, as
//! `shared/conformance/keystone-start.sh` starts it); skips otherwise. The
//! admin (`KEYSTONE_ADMIN_PASSWORD`) creates a project and users per test
//! and deletes them afterwards; the service user is `designate`
//! (`KEYSTONE_SERVICE_PASSWORD`) in project `service`. Tests that need no
//! Keystone always run.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use designate_identity::Error;
use designate_identity::keystone::{Keystone, Settings};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

const DEFAULT_URL: &str = "http://127.0.0.1:5000/v3";
/// Keystone hashes passwords with bcrypt on one worker: be patient.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Keystone is one worker on SQLite: two tests at a time at most.
static KEYSTONE_TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn keystone_url() -> String {
    env_or("KEYSTONE_URL", DEFAULT_URL)
}

/// Settings for the `designate` service user.
fn service_settings(url: &str) -> Settings {
    Settings {
        url: url.to_string(),
        username: "designate".to_string(),
        password: env_or("KEYSTONE_SERVICE_PASSWORD", "conformance-designate-pw"),
        project_name: "service".to_string(),
        user_domain: "Default".to_string(),
        project_domain: "Default".to_string(),
        cache_time: Duration::from_secs(300),
        cache_capacity: 100,
        timeout: TIMEOUT,
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Keystone's REST API, as the tests' admin speaks it.
struct Rest {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    url: String,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

impl Rest {
    fn new(url: &str) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .unwrap()
            .https_or_http()
            .enable_http1()
            .build();
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            url: url.trim_end_matches('/').to_string(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Reply, String> {
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.url))
            .header("Accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        let body = body.map_or_else(Bytes::new, |json| Bytes::from(json.to_string()));
        let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok::<_, String>((parts, body))
        };
        let (parts, body) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| format!("{method} {path}: no answer within {TIMEOUT:?}"))??;
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        })
    }

    /// Issues a token by password; `scope` is the `scope` object, if any.
    async fn issue(&self, user: &str, password: &str, scope: Option<Value>) -> String {
        let mut auth = json!({
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}
            }
        });
        if let Some(scope) = scope {
            auth["scope"] = scope;
        }
        let reply = self
            .send(
                Method::POST,
                "/auth/tokens?nocatalog",
                &[],
                Some(json!({"auth": auth})),
            )
            .await
            .unwrap();
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "issuing a token for {user}: {}",
            reply.json
        );
        reply.headers["x-subject-token"]
            .to_str()
            .unwrap()
            .to_string()
    }
}

/// Unique names, so reruns and parallel tests never collide.
fn unique(kind: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("idtest-{kind}-{}-{nanos:x}-{n}", std::process::id())
}

struct User {
    id: String,
    name: String,
    password: String,
}

/// What a test created in Keystone, deleted when it ends (even failing).
struct Fixture {
    rest: Rest,
    url: String,
    admin_token: String,
    projects: Mutex<Vec<String>>,
    users: Mutex<Vec<String>>,
}

impl Fixture {
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.rest
            .send(method, path, &[("X-Auth-Token", &self.admin_token)], body)
            .await
            .unwrap()
    }

    async fn project(&self) -> String {
        let body = json!({"project": {"name": unique("project"), "domain_id": "default"}});
        let reply = self.admin(Method::POST, "/projects", Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        let id = reply.json["project"]["id"].as_str().unwrap().to_string();
        self.projects.lock().unwrap().push(id.clone());
        id
    }

    async fn role_id(&self, name: &str) -> String {
        let reply = self
            .admin(Method::GET, &format!("/roles?name={name}"), None)
            .await;
        reply.json["roles"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no role {name}: {}", reply.json))
            .to_string()
    }

    /// A user (without a default project) with `role` on `project`.
    async fn user(&self, grant: Option<(&str, &str)>) -> User {
        let name = unique("user");
        let password = format!("{name}-pw");
        let body = json!({"user": {"name": name, "domain_id": "default", "password": password}});
        let reply = self.admin(Method::POST, "/users", Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        let id = reply.json["user"]["id"].as_str().unwrap().to_string();
        self.users.lock().unwrap().push(id.clone());
        if let Some((project, role)) = grant {
            self.grant(&format!("/projects/{project}"), &id, role).await;
        }
        User { id, name, password }
    }

    async fn grant(&self, target: &str, user_id: &str, role: &str) {
        let role = self.role_id(role).await;
        let reply = self
            .admin(
                Method::PUT,
                &format!("{target}/users/{user_id}/roles/{role}"),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
    }

    async fn project_token(&self, user: &User, project: &str) -> String {
        let scope = json!({"project": {"id": project}});
        self.rest
            .issue(&user.name, &user.password, Some(scope))
            .await
    }

    /// A member of a new project and a token of theirs for it.
    async fn member_token(&self) -> (User, String, String) {
        let project = self.project().await;
        let user = self.user(Some((&project, "member"))).await;
        let token = self.project_token(&user, &project).await;
        (user, project, token)
    }

    async fn revoke(&self, token: &str) {
        let reply = self
            .rest
            .send(
                Method::DELETE,
                "/auth/tokens",
                &[
                    ("X-Auth-Token", &self.admin_token),
                    ("X-Subject-Token", token),
                ],
                None,
            )
            .await
            .unwrap();
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
    }

    async fn delete_project(&self, id: &str) {
        let reply = self
            .admin(Method::DELETE, &format!("/projects/{id}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
    }

    async fn set_user_enabled(&self, id: &str, enabled: bool) {
        let body = json!({"user": {"enabled": enabled}});
        let reply = self
            .admin(Method::PATCH, &format!("/users/{id}"), Some(body))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    }

    fn keystone(&self, tune: impl FnOnce(&mut Settings)) -> Keystone {
        let mut settings = service_settings(&self.url);
        tune(&mut settings);
        Keystone::new(settings).unwrap()
    }

    async fn clean_up(&self) {
        let users = std::mem::take(&mut *self.users.lock().unwrap());
        let projects = std::mem::take(&mut *self.projects.lock().unwrap());
        for (kind, ids) in [("users", users), ("projects", projects)] {
            for id in ids {
                let path = format!("/{kind}/{id}");
                match self
                    .rest
                    .send(
                        Method::DELETE,
                        &path,
                        &[("X-Auth-Token", &self.admin_token)],
                        None,
                    )
                    .await
                {
                    Ok(reply)
                        if reply.status.is_success() || reply.status == StatusCode::NOT_FOUND => {}
                    Ok(reply) => {
                        eprintln!("cleanup: DELETE {path}: {} {}", reply.status, reply.json)
                    }
                    Err(error) => eprintln!("cleanup: DELETE {path}: {error}"),
                }
            }
        }
    }
}

/// Runs `test` with a fixture if Keystone is there to test against, and
/// deletes what it created whatever the outcome.
async fn with_keystone<F, Fut>(test: F)
where
    F: FnOnce(Arc<Fixture>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if std::env::var("DESIGNATE_TEST_KEYSTONE").as_deref() != Ok("1") {
        eprintln!("skipped: set DESIGNATE_TEST_KEYSTONE=1 to test against a real Keystone");
        return;
    }
    let url = keystone_url();
    let rest = Rest::new(&url);
    match rest.send(Method::GET, "", &[], None).await {
        Ok(reply) if reply.status.is_success() => {}
        Ok(reply) => {
            eprintln!("skipped: Keystone at {url} answers {}", reply.status);
            return;
        }
        Err(error) => {
            eprintln!("skipped: no Keystone at {url}: {error}");
            return;
        }
    }
    let _turn = KEYSTONE_TURNS.acquire().await.unwrap();
    let admin_password = env_or("KEYSTONE_ADMIN_PASSWORD", "conformance-admin-pw");
    let scope = json!({"project": {"name": "admin", "domain": {"id": "default"}}});
    let admin_token = rest.issue("admin", &admin_password, Some(scope)).await;
    let fixture = Arc::new(Fixture {
        rest,
        url,
        admin_token,
        projects: Mutex::default(),
        users: Mutex::default(),
    });
    let outcome = tokio::spawn(test(Arc::clone(&fixture))).await;
    fixture.clean_up().await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

fn is_invalid_token<T: std::fmt::Debug>(result: &Result<T, Error>) -> bool {
    matches!(result, Err(Error::InvalidToken(_)))
}

#[tokio::test]
async fn a_member_token_validates_to_its_project_user_and_roles() {
    with_keystone(|k| async move {
        let (user, project, token) = k.member_token().await;
        let keystone = k.keystone(|_| {});
        let identity = keystone.validate(&token).await.unwrap();
        assert_eq!(identity.user_id, user.id);
        assert_eq!(identity.project_id, project);
        assert!(
            identity.roles.contains(&"member".to_string()),
            "{:?}",
            identity.roles
        );
        // Keystone expands implied roles: member implies reader.
        assert!(
            identity.roles.contains(&"reader".to_string()),
            "{:?}",
            identity.roles
        );
        assert!(
            !identity.roles.contains(&"admin".to_string()),
            "{:?}",
            identity.roles
        );
        assert!(identity.expires_at > chrono::Utc::now());
        // Surrounding whitespace is stripped, as keystonemiddleware does.
        assert_eq!(
            keystone.validate(&format!(" {token}\t")).await.unwrap(),
            identity
        );
    })
    .await;
}

#[tokio::test]
async fn validations_come_from_the_cache_until_cache_time_even_once_revoked() {
    with_keystone(|k| async move {
        let (_, project, token) = k.member_token().await;
        let cache_time = Duration::from_secs(2);
        let keystone = k.keystone(|s| s.cache_time = cache_time);
        let first = keystone.validate(&token).await.unwrap();
        let asked = keystone.keystone_requests();
        assert_eq!(asked, 2, "service authentication, then the validation");
        assert_eq!(keystone.cached_tokens(), 1);
        let cached_at = Instant::now();

        assert_eq!(keystone.validate(&token).await.unwrap(), first);
        assert_eq!(keystone.keystone_requests(), asked, "served from the cache");

        // As with keystonemiddleware, revocation shows only once the entry
        // lapses.
        k.revoke(&token).await;
        assert_eq!(keystone.validate(&token).await.unwrap().project_id, project);
        assert_eq!(keystone.keystone_requests(), asked);

        tokio::time::sleep(
            (cache_time + Duration::from_millis(200)).saturating_sub(cached_at.elapsed()),
        )
        .await;
        assert_eq!(keystone.cached_tokens(), 0);
        let after = keystone.validate(&token).await;
        assert!(is_invalid_token(&after), "{after:?}");
        assert_eq!(keystone.keystone_requests(), asked + 1);
        // Refusals are not cached: asking again asks Keystone again.
        assert!(is_invalid_token(&keystone.validate(&token).await));
        assert_eq!(keystone.keystone_requests(), asked + 2);
    })
    .await;
}

#[tokio::test]
async fn a_revoked_token_is_invalid() {
    with_keystone(|k| async move {
        let (_, _, token) = k.member_token().await;
        k.revoke(&token).await;
        let result = k.keystone(|_| {}).validate(&token).await;
        assert!(is_invalid_token(&result), "{result:?}");
    })
    .await;
}

#[tokio::test]
async fn garbage_tokens_are_invalid_and_malformed_ones_never_reach_keystone() {
    with_keystone(|k| async move {
        let keystone = k.keystone(|_| {});
        for garbage in ["garbage", &format!("gAAAAAB{}", "x".repeat(180))] {
            let result = keystone.validate(garbage).await;
            assert!(is_invalid_token(&result), "{garbage}: {result:?}");
        }
        let asked = keystone.keystone_requests();
        let too_long = "a".repeat(9 * 1024);
        for malformed in ["", " \t", "with space", "tökén", "line\nbreak", &too_long] {
            let result = keystone.validate(malformed).await;
            assert!(is_invalid_token(&result), "{malformed:?}: {result:?}");
        }
        assert_eq!(keystone.keystone_requests(), asked);
        assert_eq!(keystone.cached_tokens(), 0);
    })
    .await;
}

#[tokio::test]
async fn the_token_of_a_deleted_project_is_invalid() {
    with_keystone(|k| async move {
        let (_, project, token) = k.member_token().await;
        k.delete_project(&project).await;
        let result = k.keystone(|_| {}).validate(&token).await;
        assert!(is_invalid_token(&result), "{result:?}");
    })
    .await;
}

#[tokio::test]
async fn unscoped_and_domain_scoped_tokens_are_invalid() {
    with_keystone(|k| async move {
        let user = k.user(None).await;
        k.grant("/domains/default", &user.id, "reader").await;
        let unscoped = k.rest.issue(&user.name, &user.password, None).await;
        let domain_scope = json!({"domain": {"id": "default"}});
        let domain = k
            .rest
            .issue(&user.name, &user.password, Some(domain_scope))
            .await;
        let keystone = k.keystone(|_| {});
        for token in [unscoped, domain] {
            let result = keystone.validate(&token).await;
            assert!(
                matches!(&result, Err(Error::InvalidToken(why)) if why == "unscoped"),
                "{result:?}"
            );
        }
        assert_eq!(keystone.cached_tokens(), 0);
    })
    .await;
}

#[tokio::test]
async fn refused_service_credentials_are_service_auth() {
    with_keystone(|k| async move {
        let (_, project, token) = k.member_token().await;
        let wrong_password = k.keystone(|s| s.password = "not-the-password".to_string());
        let result = wrong_password.validate(&token).await;
        assert!(matches!(result, Err(Error::ServiceAuth(_))), "{result:?}");
        let result = wrong_password.project_exists(&project).await;
        assert!(matches!(result, Err(Error::ServiceAuth(_))), "{result:?}");

        let wrong_project = k.keystone(|s| s.project_name = unique("nowhere"));
        let result = wrong_project.validate(&token).await;
        assert!(matches!(result, Err(Error::ServiceAuth(_))), "{result:?}");
    })
    .await;
}

#[tokio::test]
async fn a_service_user_without_the_service_role_is_service_auth() {
    with_keystone(|k| async move {
        let (_, _, token) = k.member_token().await;
        let own = k.project().await;
        let plain = k.user(Some((&own, "member"))).await;
        let project_name = k
            .admin(Method::GET, &format!("/projects/{own}"), None)
            .await
            .json["project"]["name"]
            .as_str()
            .unwrap()
            .to_string();
        let keystone = k.keystone(|s| {
            s.username = plain.name.clone();
            s.password = plain.password.clone();
            s.project_name = project_name;
        });
        let result = keystone.validate(&token).await;
        assert!(matches!(result, Err(Error::ServiceAuth(_))), "{result:?}");
    })
    .await;
}

#[tokio::test]
async fn the_service_token_is_reused_and_renewed_once_keystone_refuses_it() {
    with_keystone(|k| async move {
        // A service user of its own, whose tokens this test may revoke.
        let own = k.project().await;
        let service = k.user(Some((&own, "service"))).await;
        let project_name = k
            .admin(Method::GET, &format!("/projects/{own}"), None)
            .await
            .json["project"]["name"]
            .as_str()
            .unwrap()
            .to_string();
        let keystone = k.keystone(|s| {
            s.username = service.name.clone();
            s.password = service.password.clone();
            s.project_name = project_name;
        });
        let (_, project, first) = k.member_token().await;
        let (_, _, second) = k.member_token().await;
        let (_, _, third) = k.member_token().await;

        assert_eq!(keystone.validate(&first).await.unwrap().project_id, project);
        assert_eq!(keystone.keystone_requests(), 2);
        keystone.validate(&second).await.unwrap();
        assert_eq!(
            keystone.keystone_requests(),
            3,
            "the service token is reused"
        );

        // Disabling a user revokes their tokens, the service token included.
        k.set_user_enabled(&service.id, false).await;
        k.set_user_enabled(&service.id, true).await;
        // Fernet tokens carry whole seconds: one issued in the second of the
        // revocation would count as revoked too.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        keystone.validate(&third).await.unwrap();
        assert_eq!(
            keystone.keystone_requests(),
            6,
            "refused (401), authenticated again, asked again"
        );
    })
    .await;
}

#[tokio::test]
async fn project_exists_tells_existing_from_missing_projects() {
    with_keystone(|k| async move {
        let project = k.project().await;
        let keystone = k.keystone(|_| {});
        assert!(keystone.project_exists(&project).await.unwrap());
        assert!(
            !keystone
                .project_exists("0123456789abcdef0123456789abcdef")
                .await
                .unwrap()
        );
        assert!(!keystone.project_exists("../users").await.unwrap());
        k.delete_project(&project).await;
        assert!(!keystone.project_exists(&project).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn the_cache_holds_at_most_its_capacity() {
    with_keystone(|k| async move {
        let keystone = k.keystone(|s| s.cache_capacity = 2);
        let mut tokens = Vec::new();
        for _ in 0..3 {
            tokens.push(k.member_token().await.2);
        }
        for token in &tokens {
            keystone.validate(token).await.unwrap();
        }
        assert_eq!(keystone.cached_tokens(), 2);
        let asked = keystone.keystone_requests();
        // The newest two are cached, the oldest was dropped.
        keystone.validate(&tokens[2]).await.unwrap();
        keystone.validate(&tokens[1]).await.unwrap();
        assert_eq!(keystone.keystone_requests(), asked);
        keystone.validate(&tokens[0]).await.unwrap();
        assert_eq!(keystone.keystone_requests(), asked + 1);
        assert_eq!(keystone.cached_tokens(), 2);

        keystone.clear_cache();
        assert_eq!(keystone.cached_tokens(), 0);
    })
    .await;
}

#[tokio::test]
async fn concurrent_first_validations_of_a_token_ask_keystone_once() {
    with_keystone(|k| async move {
        let (_, project, token) = k.member_token().await;
        let (_, _, warm_up) = k.member_token().await;
        let keystone = Arc::new(k.keystone(|_| {}));
        keystone.validate(&warm_up).await.unwrap();
        let asked = keystone.keystone_requests();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (keystone, token) = (Arc::clone(&keystone), token.clone());
            tasks.spawn(async move { keystone.validate(&token).await });
        }
        while let Some(result) = tasks.join_next().await {
            assert_eq!(result.unwrap().unwrap().project_id, project);
        }
        assert_eq!(keystone.keystone_requests(), asked + 1);
    })
    .await;
}

// No Keystone needed below.

#[tokio::test]
async fn nothing_listening_is_keystone_unreachable_at_once() {
    let url = format!("http://127.0.0.1:{}/v3", closed_port());
    let keystone = Keystone::new(service_settings(&url)).unwrap();
    let started = Instant::now();
    let result = keystone.validate("some-token").await;
    assert!(
        matches!(result, Err(Error::KeystoneUnreachable(_))),
        "{result:?}"
    );
    let result = keystone.project_exists("0123456789abcdef").await;
    assert!(
        matches!(result, Err(Error::KeystoneUnreachable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_silent_keystone_is_unreachable_after_the_timeout() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let mut settings = service_settings(&format!("http://127.0.0.1:{port}/v3"));
    settings.timeout = Duration::from_millis(300);
    let keystone = Keystone::new(settings).unwrap();
    let started = Instant::now();
    let result = keystone.validate("some-token").await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(Error::KeystoneUnreachable(_))),
        "{result:?}"
    );
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    held.abort();
}
