//! A small Keystone v3 admin client for the tests that authenticate
//! through a real Keystone (`tests/identity.rs`, `tests/openstack_cli.rs`).
//!
//! - [`ensure_running`] makes sure the conformance Keystone answers at
//!   `$KEYSTONE_URL` (default `http://127.0.0.1:5000/v3`), starting it once
//!   per process with `bash $DESIGNATE_CONFORMANCE_DIR/keystone-start.sh`
//!   (default `<workspace>/../shared/conformance`) when it does not.
//! - [`Keystone::admin`] is a client holding a project-scoped admin token
//!   (`admin` / `$ADMIN_PASS` in project `admin`): it makes projects, users
//!   and role assignments with unique names, issues and revokes user tokens,
//!   registers regions and endpoints, and deletes everything it made when
//!   dropped (or on [`Keystone::cleanup`]).
//! - [`SecondKeystone`] serves the same Keystone (same SQLite database and
//!   Fernet keys, so the same tokens) on another port, and can be killed and
//!   started again: for the "Keystone stopped mid-run" tests.
//! - [`standalone_args`] are the `designate-operator standalone` flags that
//!   validate tokens with a Keystone as the `designate` service user.
//!
//! Every call goes through [`crate::http_request`]; `KEYSTONE_URL` must be
//! `http://IP:PORT/...`.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::{HttpResponse, http_request, workspace_root};

/// Where the conformance Keystone answers unless `KEYSTONE_URL` says.
pub const DEFAULT_KEYSTONE_URL: &str = "http://127.0.0.1:5000/v3";

/// How long a Keystone may take to answer `/v3` after its start.
pub const KEYSTONE_START_TIMEOUT: Duration = Duration::from_secs(90);

/// The Keystone v3 endpoint of the tests: `$KEYSTONE_URL`, else
/// [`DEFAULT_KEYSTONE_URL`], without a trailing slash.
pub fn keystone_url() -> String {
    std::env::var("KEYSTONE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_KEYSTONE_URL.to_string())
        .trim()
        .trim_end_matches('/')
        .to_string()
}

/// The conformance harness: `$DESIGNATE_CONFORMANCE_DIR`, else
/// `<workspace>/../shared/conformance`.
pub fn conformance_dir() -> PathBuf {
    match std::env::var_os("DESIGNATE_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root()
            .join("..")
            .join("shared")
            .join("conformance"),
    }
}

/// The `designate` service user's password (`$DESIGNATE_SVC_PASS`, as
/// `env.sh` names it).
pub fn service_password() -> String {
    std::env::var("DESIGNATE_SVC_PASS").unwrap_or_else(|_| "conformance-designate-pw".to_string())
}

/// The Keystone admin's password (`$ADMIN_PASS`, as `env.sh` names it).
pub fn admin_password() -> String {
    std::env::var("ADMIN_PASS").unwrap_or_else(|_| "conformance-admin-pw".to_string())
}

/// The conformance harness's state dir, as `env.sh` computes it:
/// `$CONF_STATE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/designate-conformance`.
pub fn conformance_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CONF_STATE") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("designate-conformance")
}

/// `name` in the conformance virtualenv's `bin/` (`$TVENV`, else
/// `<state>/venv`), if it is there (e.g. the `openstack` CLI).
pub fn conformance_venv_bin(name: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("TVENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| conformance_state_dir().join("venv"));
    Some(venv.join("bin").join(name)).filter(|path| path.is_file())
}

/// Eight random hex digits, different on every call.
pub fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:08x}", hasher.finish() as u32)
}

/// 32 random hex digits: the shape of a Keystone id that names nothing.
pub fn random_id() -> String {
    (0..4).map(|_| random_suffix()).collect()
}

/// `http://IP:PORT/v3` as (`http://IP:PORT`, `/v3`).
fn split_url(url: &str) -> Result<(String, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("KEYSTONE_URL {url} is not http://IP:PORT/..."))?;
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    hostport
        .parse::<SocketAddr>()
        .with_context(|| format!("the host of {url} is not IP:PORT"))?;
    Ok((
        format!("http://{hostport}"),
        format!("/{}", path.trim_end_matches('/')),
    ))
}

/// Whether `GET <url>` answers 200 now.
fn answers(url: &str) -> bool {
    let Ok((base, prefix)) = split_url(url) else {
        return false;
    };
    matches!(
        http_request(
            &base,
            "GET",
            &prefix,
            &[("Accept", "application/json")],
            None
        ),
        Ok(HttpResponse { status: 200, .. })
    )
}

/// Makes sure the Keystone of [`keystone_url`] answers: if it does not,
/// runs `keystone-start.sh` (once per process) and checks again. Panics
/// with what to do when it still does not. Returns the URL.
pub fn ensure_running() -> String {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    let url = keystone_url();
    let outcome = STARTED.get_or_init(|| {
        if answers(&url) {
            return Ok(());
        }
        let script = conformance_dir().join("keystone-start.sh");
        eprintln!(
            "Keystone does not answer at {url}; running bash {}",
            script.display()
        );
        let mut command = Command::new("bash");
        command.arg(&script).stdin(Stdio::null());
        // The script listens on $KS_PORT (default 5000): the URL's port.
        if std::env::var_os("KS_PORT").is_none()
            && let Some(port) = split_url(&url)
                .ok()
                .and_then(|(base, _)| base.rsplit(':').next().map(str::to_string))
        {
            command.env("KS_PORT", port);
        }
        let output = command.output();
        let log = match &output {
            Ok(output) => format!(
                "{}; stdout:\n{}\nstderr:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(error) => format!("could not run it: {error}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if answers(&url) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "Keystone does not answer at {url}, even after `bash {}` ({log}).\n\
             These tests need the conformance Keystone: run \
             `bash ../shared/conformance/setup.sh` once (from the workspace root), \
             then `bash ../shared/conformance/keystone-start.sh`; or point KEYSTONE_URL \
             (and DESIGNATE_CONFORMANCE_DIR) at a Keystone that has them",
            script.display()
        ))
    });
    if let Err(message) = outcome {
        panic!("{message}");
    }
    url
}

/// A Keystone project.
#[derive(Clone, Debug)]
pub struct Project {
    pub id: String,
    pub name: String,
}

/// A Keystone user with its password.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub name: String,
    pub password: String,
}

/// Something a [`Keystone`] client made, to delete afterwards.
#[derive(Debug)]
enum Made {
    Project(String),
    User(String),
    Region(String),
    Endpoint(String),
}

/// A Keystone v3 client with a project-scoped admin token.
pub struct Keystone {
    url: String,
    base: String,
    prefix: String,
    admin_token: String,
    made: Mutex<Vec<Made>>,
}

/// Role ids by `"<url> <name>"`: the same for every test of a process.
static ROLES: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

impl Keystone {
    /// [`ensure_running`], then an admin client of [`keystone_url`].
    pub fn admin() -> Self {
        let url = ensure_running();
        Self::admin_at(&url).unwrap_or_else(|error| panic!("{error:#}"))
    }

    /// An admin client of the Keystone at `url` (`http://IP:PORT/v3`).
    pub fn admin_at(url: &str) -> Result<Self> {
        let (base, prefix) = split_url(url)?;
        let mut keystone = Self {
            url: url.trim_end_matches('/').to_string(),
            base,
            prefix,
            admin_token: String::new(),
            made: Mutex::default(),
        };
        let scope = json!({"project": {"name": "admin", "domain": {"name": "Default"}}});
        let user =
            json!({"name": "admin", "domain": {"name": "Default"}, "password": admin_password()});
        keystone.admin_token = keystone
            .password_token(user, scope)
            .context("authenticating as the Keystone admin (admin/$ADMIN_PASS in project admin)")?;
        Ok(keystone)
    }

    /// The v3 endpoint, e.g. `http://127.0.0.1:5000/v3`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// One call; Keystone's 500/503 (SQLite busy) are retried a few times.
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<HttpResponse> {
        let mut all = vec![("Accept", "application/json")];
        if body.is_some() {
            all.push(("Content-Type", "application/json"));
        }
        all.extend_from_slice(headers);
        let bytes = body.map(|b| b.to_string().into_bytes());
        let full = format!("{}{path}", self.prefix);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let response = http_request(&self.base, method, &full, &all, bytes.as_deref())
                .with_context(|| format!("{method} {}{full}", self.base))?;
            if matches!(response.status, 500 | 503) && attempt < 4 {
                eprintln!(
                    "Keystone answered {method} {path} with {}; retrying: {}",
                    response.status,
                    response.text()
                );
                std::thread::sleep(Duration::from_millis(500 * attempt));
                continue;
            }
            return Ok(response);
        }
    }

    /// A call with the admin token that must answer `want`; its JSON body.
    fn admin_call(&self, method: &str, path: &str, body: Option<&Value>, want: u16) -> Value {
        self.try_admin_call(method, path, body, want)
            .unwrap_or_else(|error| panic!("Keystone: {error:#}"))
    }

    fn try_admin_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        want: u16,
    ) -> Result<Value> {
        let response = self.call(method, path, &[("X-Auth-Token", &self.admin_token)], body)?;
        if response.status != want {
            bail!(
                "{method} {}{path} answered {} (expected {want}): {}",
                self.url,
                response.status,
                response.text()
            );
        }
        Ok(response.json())
    }

    /// POST /auth/tokens with a password: the `X-Subject-Token`.
    fn password_token(&self, user: Value, scope: Value) -> Result<String> {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": user}},
            "scope": scope,
        }});
        let response = self.call("POST", "/auth/tokens?nocatalog", &[], Some(&body))?;
        if response.status != 201 {
            bail!(
                "POST {}/auth/tokens answered {}: {}",
                self.url,
                response.status,
                response.text()
            );
        }
        response
            .header("x-subject-token")
            .map(str::to_string)
            .ok_or_else(|| anyhow!("POST {}/auth/tokens gave no X-Subject-Token", self.url))
    }

    fn remember(&self, made: Made) {
        self.made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(made);
    }

    /// A new project `<prefix>-<random>` in the Default domain.
    pub fn create_project(&self, prefix: &str) -> Project {
        let name = format!("{prefix}-{}", random_suffix());
        let body = json!({"project": {
            "name": name,
            "domain_id": "default",
            "description": "designate e2e test; deleted when the test ends",
        }});
        let answer = self.admin_call("POST", "/projects", Some(&body), 201);
        let id = answer["project"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no project id in {answer}"))
            .to_string();
        self.remember(Made::Project(id.clone()));
        Project { id, name }
    }

    /// A new user `<prefix>-<random>` in the Default domain, with a random
    /// password.
    pub fn create_user(&self, prefix: &str) -> User {
        let name = format!("{prefix}-{}", random_suffix());
        let password = format!("pw-{}", random_id());
        let body = json!({"user": {
            "name": name,
            "domain_id": "default",
            "password": password,
            "description": "designate e2e test; deleted when the test ends",
        }});
        let answer = self.admin_call("POST", "/users", Some(&body), 201);
        let id = answer["user"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no user id in {answer}"))
            .to_string();
        self.remember(Made::User(id.clone()));
        User { id, name, password }
    }

    /// The id of the role `name` (`admin`, `member`, `reader`, ...).
    pub fn role_id(&self, name: &str) -> String {
        let key = format!("{} {name}", self.url);
        if let Some(id) = ROLES.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return id.clone();
        }
        let answer = self.admin_call("GET", &format!("/roles?name={name}"), None, 200);
        let id = answer["roles"]
            .as_array()
            .and_then(|roles| roles.iter().find(|r| r["name"] == name))
            .and_then(|role| role["id"].as_str())
            .unwrap_or_else(|| panic!("Keystone has no role {name:?}: {answer}"))
            .to_string();
        ROLES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, id.clone());
        id
    }

    /// Gives `user` the role `role` on `project`.
    pub fn assign_role(&self, user: &User, project: &Project, role: &str) {
        let role_id = self.role_id(role);
        self.admin_call(
            "PUT",
            &format!("/projects/{}/users/{}/roles/{role_id}", project.id, user.id),
            None,
            204,
        );
    }

    /// A new user with `role` on `project` (`<prefix>-<random>`).
    pub fn user_with_role(&self, prefix: &str, project: &Project, role: &str) -> User {
        let user = self.create_user(prefix);
        self.assign_role(&user, project, role);
        user
    }

    /// A token of `user` scoped to `project` (the `X-Subject-Token`).
    pub fn try_issue_token(&self, user: &User, project: &Project) -> Result<String> {
        self.password_token(
            json!({"id": user.id, "password": user.password}),
            json!({"project": {"id": project.id}}),
        )
        .with_context(|| format!("issuing a token for {} in {}", user.name, project.name))
    }

    /// [`Keystone::try_issue_token`], panicking on failure.
    pub fn issue_token(&self, user: &User, project: &Project) -> String {
        self.try_issue_token(user, project)
            .unwrap_or_else(|error| panic!("Keystone: {error:#}"))
    }

    /// Whether Keystone itself takes `token` now (`GET /auth/tokens`).
    pub fn token_valid(&self, token: &str) -> bool {
        self.token_valid_for(&self.admin_token, token)
    }

    /// Whether Keystone takes `token` when `validator` asks (Keystone's
    /// policy makes a service user's check cost other than an admin's).
    pub fn token_valid_for(&self, validator: &str, token: &str) -> bool {
        self.call(
            "GET",
            "/auth/tokens?nocatalog",
            &[("X-Auth-Token", validator), ("X-Subject-Token", token)],
            None,
        )
        .is_ok_and(|r| r.status == 200)
    }

    /// A token of the `designate` service user in project `service`, as
    /// the REST API validates tokens with.
    pub fn service_token(&self) -> String {
        self.password_token(
            json!({"name": "designate", "domain": {"name": "Default"}, "password": service_password()}),
            json!({"project": {"name": "service", "domain": {"name": "Default"}}}),
        )
        .unwrap_or_else(|error| panic!("Keystone: {error:#}"))
    }

    /// Revokes `token` (`DELETE /auth/tokens`).
    pub fn revoke_token(&self, token: &str) {
        let response = self
            .call(
                "DELETE",
                "/auth/tokens",
                &[
                    ("X-Auth-Token", &self.admin_token),
                    ("X-Subject-Token", token),
                ],
                None,
            )
            .unwrap_or_else(|error| panic!("Keystone: {error:#}"));
        assert_eq!(
            response.status,
            204,
            "revoking a token: {}",
            response.text()
        );
    }

    /// Deletes a project now (it stays in the cleanup list; deleting it
    /// again there is harmless).
    pub fn delete_project(&self, project: &Project) {
        self.admin_call("DELETE", &format!("/projects/{}", project.id), None, 204);
    }

    /// Deletes a user now.
    pub fn delete_user(&self, user: &User) {
        self.admin_call("DELETE", &format!("/users/{}", user.id), None, 204);
    }

    /// A new region `<prefix>-<random>`; its id.
    pub fn create_region(&self, prefix: &str) -> String {
        let id = format!("{prefix}-{}", random_suffix());
        let body = json!({"region": {"id": id, "description": "designate e2e test"}});
        self.admin_call("POST", "/regions", Some(&body), 201);
        self.remember(Made::Region(id.clone()));
        id
    }

    /// The id of the (first) service of `type_` (`dns`, `identity`, ...).
    pub fn service_id(&self, type_: &str) -> String {
        let answer = self.admin_call("GET", &format!("/services?type={type_}"), None, 200);
        answer["services"][0]["id"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "Keystone has no {type_:?} service (keystone-start.sh registers `dns`): {answer}"
                )
            })
            .to_string()
    }

    /// A new endpoint of `service_id` in `region`; its id.
    pub fn create_endpoint(
        &self,
        service_id: &str,
        region: &str,
        interface: &str,
        url: &str,
    ) -> String {
        let body = json!({"endpoint": {
            "service_id": service_id,
            "region_id": region,
            "interface": interface,
            "url": url,
            "enabled": true,
        }});
        let answer = self.admin_call("POST", "/endpoints", Some(&body), 201);
        let id = answer["endpoint"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no endpoint id in {answer}"))
            .to_string();
        self.remember(Made::Endpoint(id.clone()));
        id
    }

    /// Deletes everything this client made, newest first (404s are fine:
    /// a test may have deleted some itself). Failures are printed, not
    /// raised.
    pub fn cleanup(&self) {
        let made: Vec<Made> =
            std::mem::take(&mut *self.made.lock().unwrap_or_else(|e| e.into_inner()));
        for item in made.into_iter().rev() {
            let path = match &item {
                Made::Project(id) => format!("/projects/{id}"),
                Made::User(id) => format!("/users/{id}"),
                Made::Region(id) => format!("/regions/{id}"),
                Made::Endpoint(id) => format!("/endpoints/{id}"),
            };
            match self.call(
                "DELETE",
                &path,
                &[("X-Auth-Token", &self.admin_token)],
                None,
            ) {
                Ok(response) if matches!(response.status, 204 | 404) => {}
                Ok(response) => eprintln!(
                    "cleanup: DELETE {}{path} answered {}: {}",
                    self.url,
                    response.status,
                    response.text()
                ),
                Err(error) => eprintln!("cleanup: DELETE {}{path}: {error:#}", self.url),
            }
        }
    }
}

impl Drop for Keystone {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// The `designate-operator standalone` flags that validate tokens with the
/// Keystone at `keystone_url` as the `designate` service user of project
/// `service`; the password goes to a file in `dir`.
pub fn standalone_args(keystone_url: &str, dir: &Path) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let password_file = dir.join("designate-keystone-password");
    std::fs::write(&password_file, format!("{}\n", service_password()))
        .unwrap_or_else(|e| panic!("writing {}: {e}", password_file.display()));
    [
        "--auth-strategy",
        "keystone",
        "--keystone-url",
        keystone_url,
        "--keystone-username",
        "designate",
        "--keystone-password-file",
        &password_file.display().to_string(),
        "--keystone-project-name",
        "service",
        "--keystone-user-domain",
        "Default",
        "--keystone-project-domain",
        "Default",
        "--keystone-token-cache-time",
        "300s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("binding 127.0.0.1:0: {e}"))
}

/// A second Keystone: the conformance Keystone's gunicorn app (same
/// `keystone.conf`, SQLite database and Fernet keys, so it accepts the
/// same tokens) on another loopback port, in a process group of its own.
///
/// `keystone-start.sh` with `PID_DIR` and `KS_PORT` would start the same
/// server, but it then provisions roles, users and services with about ten
/// `openstack` CLI runs (~25 s), which the main Keystone already did; so
/// this runs only its gunicorn command, with the paths of `env.sh`.
pub struct SecondKeystone {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl SecondKeystone {
    /// Starts one on a free port; its pid file and logs go to `dir`.
    pub fn start(dir: &Path) -> Self {
        ensure_running();
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let mut keystone = Self {
            port: free_port(),
            dir: dir.to_path_buf(),
            child: None,
        };
        keystone.launch();
        keystone
    }

    /// `http://127.0.0.1:PORT/v3`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v3", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("keystone.pid")
    }

    fn launch(&mut self) {
        use std::os::unix::process::CommandExt;
        let _ = std::fs::remove_file(self.pid_file());
        let env_sh = conformance_dir().join("env.sh");
        // What keystone-start.sh runs, with env.sh's paths; `exec` keeps the
        // pid: the gunicorn master leads the process group made here.
        let script = r#"set -eu
source "$ENV_SH"
[ -f "$KS_DIR/keystone_wsgi.py" ] || { echo "no $KS_DIR/keystone_wsgi.py: run keystone-start.sh first" >&2; exit 3; }
cd "$KS_DIR"
export OS_KEYSTONE_CONFIG_DIR="$KS_DIR" OS_KEYSTONE_CONFIG_FILES=keystone.conf PYTHONWARNINGS=ignore
exec "$TVENV/bin/gunicorn" --bind "127.0.0.1:$SECOND_PORT" --workers 1 --timeout 120 \
    --pid "$SECOND_DIR/keystone.pid" --error-logfile "$SECOND_DIR/gunicorn.log" \
    --chdir "$KS_DIR" keystone_wsgi:application"#;
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.join("gunicorn.out"))
            .unwrap_or_else(|e| panic!("opening gunicorn.out in {}: {e}", self.dir.display()));
        let child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .env("ENV_SH", &env_sh)
            .env("SECOND_PORT", self.port.to_string())
            .env("SECOND_DIR", &self.dir)
            .env("KS_PORT", self.port.to_string())
            .env("PID_DIR", &self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap_or_else(|e| panic!("{e}")))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting a second Keystone: {e}"));
        self.child = Some(child);
        let url = self.url();
        let deadline = Instant::now() + KEYSTONE_START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                panic!(
                    "the second Keystone on port {} exited with {status}:\n{}",
                    self.port,
                    crate::tail(&self.dir.join("gunicorn.out"), 30)
                );
            }
            if answers(&url) {
                break;
            }
            if Instant::now() >= deadline {
                self.kill();
                panic!(
                    "the second Keystone did not answer GET {url} within {KEYSTONE_START_TIMEOUT:?}:\n{}",
                    crate::tail(&self.dir.join("gunicorn.log"), 30)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("second Keystone up at {url}");
    }

    /// SIGKILL to the gunicorn master (its pid file) and its process group
    /// (the worker); returns once the port refuses connections.
    pub fn kill(&mut self) {
        if let Err(error) = self.try_kill() {
            panic!("{error}");
        }
    }

    fn try_kill(&mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = std::fs::read_to_string(self.pid_file())
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
            .unwrap_or(child.id());
        for group in [pid, child.id()] {
            crate::kill_group(group);
        }
        let _ = child.kill();
        let _ = child.wait();
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            if Instant::now() >= deadline {
                return Err(format!(
                    "the second Keystone still accepts connections on {addr} 10 s after SIGKILL"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("second Keystone on port {} killed", self.port);
        Ok(())
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

impl Drop for SecondKeystone {
    fn drop(&mut self) {
        if let Err(error) = self.try_kill() {
            eprintln!("{error}");
        }
    }
}
