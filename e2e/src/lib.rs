//! Shared harness of the end-to-end tests and benchmarks.
//!
//! - [`operator_bin`] finds the `designate-operator` binary (build it first with
//!   `cargo build -p designate-operator`, or point `DESIGNATE_OPERATOR_BIN` at one).
//! - [`Standalone`] runs `designate-operator standalone` on a free loopback port
//!   and a data dir, waits until it answers, and stops it (SIGTERM) or kills it
//!   on drop. Its stdout and stderr go to `standalone.stdout` / `standalone.stderr`
//!   in the data dir and the tail of the log is printed when a test panics.
//! - [`Kubectl`] runs one kubectl binary against a kubeconfig with its own
//!   discovery cache, with a wall-clock timeout on every command.
//! - [`kubectl_versions`] lists the kubectl binaries every kubectl test runs with.
//! - [`wait_for`] polls a condition with a timeout.
//! - [`http_request`] / [`rest_request`]: a plain HTTP/1.1 client (no
//!   redirects followed) for the Designate REST API tests.
//! - [`bench`]: helpers of the benchmark binaries.
//! - [`databases`]: MariaDB and PostgreSQL servers of a test's own.

pub mod bench;
pub mod databases;
pub mod dns;
pub mod keystone;
pub mod openstack;
pub mod rabbitmq;
pub mod rest_conn;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use designate_backends::testing::{Bind, PowerDns};
use serde_json::{Value, json};

/// The kubectl minor versions every kubectl test runs with: the oldest and the
/// newest one supported (their discovery and OpenAPI behaviour differ).
pub const KUBECTL_VERSIONS: [&str; 2] = ["1.27", "1.33"];

/// Where the Debian/Google Cloud SDK `kubectl` package keeps its versioned binaries.
pub const KUBECTL_FALLBACK_DIR: &str = "/usr/lib/google-cloud-sdk/bin";

/// How long one kubectl command may take before it is killed.
pub const KUBECTL_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a standalone control plane may take to answer `/readyz`.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The workspace root (parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.join(".."))
}

/// A sample notification of nova's or neutron's from Designate's own tests
/// (`operator/sink/tests/fixtures/<name>.json`), with a message id of its
/// own so that each publish is a new message.
pub fn sample_notification(name: &str) -> designate_bus::Notification {
    let path = workspace_root().join(format!("operator/sink/tests/fixtures/{name}.json"));
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut notification = designate_bus::Notification::from_body(&body).unwrap();
    notification.message_id = uuid::Uuid::new_v4();
    notification
}

/// A file under `e2e/fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// The profile directory (`target/debug`, `target/release`, ...) this test
/// binary was built into: test executables live in `<profile>/deps/`.
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    if deps.file_name()? == "deps" {
        return deps.parent().map(Path::to_path_buf);
    }
    // Benchmarks and examples may run from elsewhere in the profile dir.
    exe.ancestors()
        .find(|dir| {
            dir.parent()
                .and_then(Path::file_name)
                .is_some_and(|name| name == "target")
        })
        .map(Path::to_path_buf)
}

/// The `designate-operator` binary: `$DESIGNATE_OPERATOR_BIN`, else the one
/// next to this test build (`<target>/<profile>/designate-operator`), else
/// `<workspace>/target/debug/designate-operator`.
///
/// Panics with instructions when it does not exist.
pub fn operator_bin() -> PathBuf {
    let name = format!("designate-operator{}", std::env::consts::EXE_SUFFIX);
    let candidates: Vec<PathBuf> = match std::env::var_os("DESIGNATE_OPERATOR_BIN") {
        Some(path) => vec![PathBuf::from(path)],
        None => {
            let mut candidates: Vec<PathBuf> = profile_dir()
                .map(|dir| dir.join(&name))
                .into_iter()
                .collect();
            let profile = if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            };
            candidates.push(workspace_root().join("target").join(profile).join(&name));
            candidates
        }
    };
    if let Some(found) = candidates.iter().find(|path| path.is_file()) {
        return found.clone();
    }
    panic!(
        "the designate-operator binary was not found (looked at {}); \
         run `cargo build -p designate-operator` (same profile as the tests) \
         or set DESIGNATE_OPERATOR_BIN to its path",
        candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Polls `check` every 100 ms until it returns `Some`, panicking with `what`
/// (and the last value `check` reported through its `Err`) after `timeout`.
pub fn wait_for<T>(
    timeout: Duration,
    what: &str,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last observation: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Binds 127.0.0.1:0 to find a port nobody uses right now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A plain HTTP/1.1 GET on loopback; returns the status code.
fn http_get_status(addr: SocketAddr, path: &str) -> Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        let n = stream.read(&mut head[read..])?;
        if n == 0 {
            break;
        }
        read += n;
    }
    let text = String::from_utf8_lossy(&head[..read]);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow!("not an HTTP response: {text:?}"))
}

/// The last `lines` lines of a text file (empty if it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A running `designate-operator standalone` (embedded API server plus controllers).
pub struct Standalone {
    child: Option<Child>,
    data_dir: PathBuf,
    addr: SocketAddr,
    kubeconfig: PathBuf,
}

impl Standalone {
    /// Starts the standalone control plane on `data_dir` (created if needed)
    /// and a free loopback port, and waits until `/readyz` answers 200.
    ///
    /// Panics (with the process's stderr) if it does not come up.
    pub fn start(data_dir: &Path) -> Self {
        Self::try_start(data_dir)
            .unwrap_or_else(|error| panic!("starting designate-operator standalone: {error:#}"))
    }

    /// [`Standalone::start`], returning errors instead of panicking. Retries
    /// with another port if the chosen one was taken in between.
    pub fn try_start(data_dir: &Path) -> Result<Self> {
        Self::try_start_with(data_dir, &[])
    }

    /// [`Standalone::try_start`] with extra arguments (e.g. `--kube-tls`).
    pub fn try_start_with(data_dir: &Path, extra: &[&str]) -> Result<Self> {
        let mut last = None;
        for _attempt in 0..3 {
            match Self::start_once(data_dir, extra) {
                Ok(standalone) => return Ok(standalone),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("never attempted")))
    }

    fn start_once(data_dir: &Path, extra: &[&str]) -> Result<Self> {
        let tls = extra.contains(&"--kube-tls");
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stdout_path = data_dir.join("standalone.stdout");
        let stderr_path = data_dir.join("standalone.stderr");
        let stdout = File::create(&stdout_path)
            .with_context(|| format!("creating {}", stdout_path.display()))?;
        // Append: a restarted control plane on the same data dir keeps the earlier log.
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(&stderr_path)
            .with_context(|| format!("opening {}", stderr_path.display()))?;
        let bin = operator_bin();
        let mut command = Command::new(&bin);
        command
            .arg("standalone")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--kube-listen")
            .arg(addr.to_string())
            .args(extra)
            // Tests run side by side: MiniDNS on a port of its own unless asked.
            .args(if extra.contains(&"--mdns-listen") {
                &[][..]
            } else {
                &["--mdns-listen", "127.0.0.1:0"][..]
            })
            // The REST API too.
            .args(if extra.contains(&"--rest-listen") {
                &[][..]
            } else {
                &["--rest-listen", "127.0.0.1:0"][..]
            })
            // The test BIND's key files are in the temporary directory.
            .arg("--backend-file-dir")
            .arg(std::env::temp_dir())
            .env("NO_COLOR", "1")
            .env_remove("DESIGNATE_KUBE_TOKEN")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "info,sqlx=warn,sea_orm=warn");
        }
        let child = command
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let mut standalone = Self {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            addr,
            kubeconfig: data_dir.join("kubeconfig"),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = standalone.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                standalone.child = None;
                bail!(
                    "designate-operator standalone exited with {status} before answering on {addr}; stderr:\n{}",
                    tail(&stderr_path, 40)
                );
            }
            // Over TLS the banner below tells readiness (it follows the bind).
            if tls || matches!(http_get_status(addr, "/readyz"), Ok(200)) {
                break;
            }
            if Instant::now() >= deadline {
                bail!(
                    "designate-operator standalone did not answer GET http://{addr}/readyz within {START_TIMEOUT:?}; stderr:\n{}",
                    tail(&stderr_path, 40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // The banner is printed right before serving; give stdout a moment to land.
        let scheme = if tls { "https" } else { "http" };
        let expected = format!("kubernetes API: {scheme}://{addr}");
        let banner_deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let banner = std::fs::read_to_string(&stdout_path).unwrap_or_default();
            if banner.contains(&expected) && banner.contains("kubeconfig:") {
                break;
            }
            if Instant::now() >= banner_deadline {
                bail!(
                    "stdout of designate-operator standalone lacks {expected:?} and the kubeconfig line:\n{banner}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !standalone.kubeconfig.is_file() {
            bail!("{} was not written", standalone.kubeconfig.display());
        }
        Ok(standalone)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where MiniDNS answers, as the banner says (once it printed it).
    pub fn mdns_addr(&self) -> Option<SocketAddr> {
        let banner = std::fs::read_to_string(self.data_dir.join("standalone.stdout")).ok()?;
        banner
            .lines()
            .find_map(|line| line.strip_prefix("MiniDNS:"))
            .and_then(|addr| addr.trim().parse().ok())
    }

    /// The base URL of the Designate REST API (`http://127.0.0.1:PORT`, no
    /// `/v2`), as the `REST API:` banner line says (once it printed it).
    pub fn rest_url(&self) -> Option<String> {
        let banner = std::fs::read_to_string(self.data_dir.join("standalone.stdout")).ok()?;
        banner
            .lines()
            .find_map(|line| line.strip_prefix("REST API:"))
            .map(|url| url.trim().trim_end_matches('/').to_string())
            .filter(|url| !url.is_empty())
    }

    /// [`Standalone::rest_url`], waiting up to [`START_TIMEOUT`] for the
    /// banner line and for the API to accept connections; panics (with the
    /// log's tail) if it does not come.
    pub fn wait_rest_url(&self) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(url) = self.rest_url()
                && let Some(addr) = url
                    .strip_prefix("http://")
                    .and_then(|rest| rest.split('/').next())
                    .and_then(|hostport| hostport.parse::<SocketAddr>().ok())
                && TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
            {
                return url;
            }
            if Instant::now() >= deadline {
                panic!(
                    "designate-operator standalone printed no usable `REST API: http://...` line \
                     within {START_TIMEOUT:?} (is the REST API wired into `standalone`?); stdout:\n{}\nstderr:\n{}",
                    std::fs::read_to_string(self.data_dir.join("standalone.stdout"))
                        .unwrap_or_default(),
                    tail(&self.log_path(), 40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The kubeconfig the control plane wrote into its data dir.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The file the control plane's stderr (its log) goes to.
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("standalone.stderr")
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Sends SIGTERM and waits (up to 15 s, then SIGKILL) for the process to
    /// exit; returns its exit status. Idempotent: `None` once stopped.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        terminate(self.child.take()?)
    }

    /// SIGKILL, as a crash or an OOM kill would: no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of {} ---\n{}\n---",
                self.log_path().display(),
                tail(&self.log_path(), 60)
            );
        }
    }
}

/// Runs one kubectl binary with `--kubeconfig` and a private `--cache-dir`.
#[derive(Debug, Clone)]
pub struct Kubectl {
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
    pub cache_dir: PathBuf,
}

/// The text of a finished command, for messages.
fn describe(args: &[&str], output: &Output) -> String {
    format!(
        "kubectl {}\n  exit: {}\n  stdout:\n{}\n  stderr:\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn read_back(mut file: File) -> Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

impl Kubectl {
    pub fn new(
        bin: impl Into<PathBuf>,
        kubeconfig: impl Into<PathBuf>,
        cache_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            bin: bin.into(),
            kubeconfig: kubeconfig.into(),
            cache_dir: cache_dir.into(),
        }
    }

    /// The command with the connection flags set; add arguments and run it.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("KUBECACHEDIR")
            .stdin(Stdio::null());
        command
    }

    /// Runs kubectl with `args`, killing it after [`KUBECTL_TIMEOUT`].
    pub fn run(&self, args: &[&str]) -> Output {
        self.try_run(args, KUBECTL_TIMEOUT)
            .unwrap_or_else(|error| panic!("running kubectl {}: {error:#}", args.join(" ")))
    }

    /// Runs kubectl with `args` and a timeout.
    pub fn try_run(&self, args: &[&str], timeout: Duration) -> Result<Output> {
        let stdout = tempfile::tempfile()?;
        let stderr = tempfile::tempfile()?;
        let mut child = self
            .command(args)
            .stdout(stdout.try_clone()?)
            .stderr(stderr.try_clone()?)
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "timed out after {timeout:?}; stdout so far:\n{}\nstderr so far:\n{}",
                    String::from_utf8_lossy(&read_back(stdout)?),
                    String::from_utf8_lossy(&read_back(stderr)?)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let output = Output {
            status,
            stdout: read_back(stdout)?,
            stderr: read_back(stderr)?,
        };
        eprintln!(
            "$ kubectl {} -> {}{}",
            args.join(" "),
            output.status,
            if output.status.success() {
                String::new()
            } else {
                format!(": {}", String::from_utf8_lossy(&output.stderr).trim())
            }
        );
        Ok(output)
    }

    /// Runs kubectl, asserts it succeeded and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "expected success:\n{}",
            describe(args, &output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs kubectl, asserts it failed and returns its stderr.
    pub fn fail(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "expected failure:\n{}",
            describe(args, &output)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Runs kubectl (asserting success) and parses its stdout as JSON; add `-o json` yourself.
    pub fn json(&self, args: &[&str]) -> Value {
        let stdout = self.ok(args);
        serde_json::from_str(&stdout).unwrap_or_else(|error| {
            panic!(
                "kubectl {} printed no JSON ({error}):\n{stdout}",
                args.join(" ")
            )
        })
    }

    /// `kubectl get <what...> -o json`, parsed.
    pub fn get_json(&self, what: &[&str]) -> Value {
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["-o", "json"]);
        self.json(&args)
    }

    /// Starts a long-running kubectl (e.g. `get -w`) with its stdout and
    /// stderr going to files; stop it with [`Background::stop`].
    pub fn spawn(&self, args: &[&str], output_dir: &Path, label: &str) -> Background {
        let stdout_path = output_dir.join(format!("{label}.stdout"));
        let stderr_path = output_dir.join(format!("{label}.stderr"));
        let open = |path: &Path| {
            File::create(path)
                .unwrap_or_else(|error| panic!("creating {}: {error}", path.display()))
        };
        let child = self
            .command(args)
            .stdout(open(&stdout_path))
            .stderr(open(&stderr_path))
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "spawning {} {}: {error}",
                    self.bin.display(),
                    args.join(" ")
                )
            });
        eprintln!("$ kubectl {} & (pid {})", args.join(" "), child.id());
        Background {
            child: Some(child),
            args: args.join(" "),
            stdout_path,
            stderr_path,
        }
    }
}

/// A kubectl running in the background (a watch, a waiting delete); killed on drop.
pub struct Background {
    child: Option<Child>,
    pub args: String,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
}

impl Background {
    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Its exit status if it has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    /// Waits up to `timeout` for it to exit by itself.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills it (if still running) and returns its stdout.
    pub fn stop(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stdout()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Looks for `name` in `$PATH`, then in [`KUBECTL_FALLBACK_DIR`].
fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(std::iter::once(PathBuf::from(KUBECTL_FALLBACK_DIR)))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `(version, binary)` for every version in [`KUBECTL_VERSIONS`] (`kubectl.1.27`,
/// `kubectl.1.33`), found in `$PATH` or [`KUBECTL_FALLBACK_DIR`].
///
/// Panics if one is missing: they are installed on the development machines
/// and in CI (Debian package `kubectl`; `dpkg -L kubectl` lists them).
pub fn kubectl_versions() -> Vec<(String, PathBuf)> {
    KUBECTL_VERSIONS
        .iter()
        .map(|version| {
            let name = format!("kubectl.{version}");
            let bin = find_binary(&name).unwrap_or_else(|| {
                panic!(
                    "{name} was found neither in PATH nor in {KUBECTL_FALLBACK_DIR}; install the \
                     versioned kubectl binaries (Debian package `kubectl`, see `dpkg -L kubectl`)"
                )
            });
            (version.to_string(), bin)
        })
        .collect()
}

/// One test's world: a temp dir, a standalone control plane in it and a
/// kubectl of one version pointed at it.
pub struct Env {
    pub version: String,
    pub kubectl: Kubectl,
    pub standalone: Standalone,
    /// Scratch space for written manifests and background output.
    pub scratch: PathBuf,
    // Last: removed after the standalone stopped.
    pub tmp: tempfile::TempDir,
}

impl Env {
    /// Starts a standalone control plane in a new temp dir for kubectl `bin`.
    pub fn start(version: &str, bin: &Path) -> Self {
        let tmp = tempfile::Builder::new()
            .prefix(&format!("designate-e2e-{version}-"))
            .tempdir()
            .unwrap_or_else(|error| panic!("creating a temp dir: {error}"));
        let scratch = tmp.path().join("scratch");
        std::fs::create_dir_all(&scratch)
            .unwrap_or_else(|error| panic!("creating {}: {error}", scratch.display()));
        let standalone = Standalone::start(&tmp.path().join("data"));
        let kubectl = Kubectl::new(bin, standalone.kubeconfig(), tmp.path().join("kube-cache"));
        Self {
            version: version.to_string(),
            kubectl,
            standalone,
            scratch,
            tmp,
        }
    }

    /// Writes `contents` to `name` in the scratch dir and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.scratch.join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        path
    }
}

/// Runs `test` once per kubectl version, each with its own standalone control plane.
pub fn for_each_kubectl(test: impl Fn(&mut Env)) {
    for (version, bin) in kubectl_versions() {
        eprintln!("=== kubectl {version} ({})", bin.display());
        let mut env = Env::start(&version, &bin);
        test(&mut env);
        let status = env.standalone.stop();
        eprintln!("=== kubectl {version}: passed (standalone exited with {status:?})");
    }
}

/// Reads a fixture as text.
pub fn read_fixture(relative: &str) -> String {
    let path = fixture(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// A JSON value at a `/`-separated pointer, or `Null`.
pub fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

/// `metadata.resourceVersion` as an integer (our server's are decimal counters).
pub fn resource_version(object: &Value) -> u64 {
    let rv = at(object, "/metadata/resourceVersion");
    rv.as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            panic!("metadata.resourceVersion {rv} is not a decimal string in {object}")
        })
}

/// Parses a stream of JSON documents (as `kubectl get -w -o json` prints
/// them), ignoring a trailing incomplete one.
pub fn json_stream(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .collect()
}

/// One HTTP response, as [`http_request`] read it.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; `Null` when empty, a JSON string of the text when it
    /// is not JSON.
    pub fn json(&self) -> Value {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|_| Value::String(self.text()))
    }
}

/// How long one HTTP request of the tests may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A plain HTTP/1.1 request to `base_url` (`http://host:port`, a path prefix
/// is ignored) for `path` (with its query), with exactly `headers` besides
/// `Host`, `Connection: close` and `Content-Length` (sent with a body, and
/// as 0 on POST/PUT/PATCH without one). Redirects are not followed.
pub fn http_request(
    base_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<HttpResponse> {
    let hostport = base_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| anyhow!("not an http:// URL: {base_url}"))?;
    let addr: SocketAddr = hostport
        .parse()
        .with_context(|| format!("{hostport} is not an IP:port"))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match body {
        Some(body) => head.push_str(&format!("Content-Length: {}\r\n", body.len())),
        None if matches!(method, "POST" | "PUT" | "PATCH") => {
            head.push_str("Content-Length: 0\r\n")
        }
        None => {}
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some(body) = body {
        stream.write_all(body)?;
    }
    stream.flush()?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer to {method} {path}"))?;
    parse_http_response(&raw).with_context(|| format!("the answer to {method} {path}"))
}

fn parse_http_response(raw: &[u8]) -> Result<HttpResponse> {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("no end of headers in {:?}", String::from_utf8_lossy(raw)))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    } else if let Some(length) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        body.truncate(length);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|window| window == b"\r\n")
            .ok_or_else(|| anyhow!("truncated chunked body"))?;
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if raw.len() < size {
            bail!("truncated chunk");
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or_default();
    }
}

/// SIGKILL to the process group `group` (a server started in a group of
/// its own), through the system call: `/usr/bin/kill -KILL -PGID` has been
/// seen here to kill every process of the machine instead.
pub fn kill_group(group: u32) {
    if let Ok(group) = i32::try_from(group)
        && group > 1
    {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(group),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// A graceful stop: SIGTERM, then up to 15 s for the process to exit
/// (SIGKILL after); its exit status.
pub fn terminate(mut child: std::process::Child) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    let terminated = i32::try_from(child.id()).is_ok_and(|pid| {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .is_ok()
    });
    if terminated {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(_) => break,
            }
        }
        eprintln!(
            "process {} ignored SIGTERM for 15 s; killing it",
            child.id()
        );
    }
    let _ = child.kill();
    child.wait().ok()
}

/// Kills a server started in a process group of its own, and every
/// process it started, as a crash would; waits for it. Nothing when it is
/// not running.
pub fn crash(child: &mut Option<std::process::Child>) {
    if let Some(mut child) = child.take() {
        kill_group(child.id());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A JSON request to the Designate REST API at `base_url`: `Accept` and
/// (with a body) `Content-Type` are `application/json`, plus `headers`
/// (e.g. `X-Auth-Project-ID`, `X-Roles`). Panics if the server cannot be
/// reached or answers no HTTP.
pub fn rest_request(
    base_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> HttpResponse {
    let mut all = vec![("Accept", "application/json")];
    if body.is_some() {
        all.push(("Content-Type", "application/json"));
    }
    all.extend_from_slice(headers);
    let bytes = body.map(|body| body.to_string().into_bytes());
    http_request(base_url, method, path, &all, bytes.as_deref())
        .unwrap_or_else(|error| panic!("{method} {base_url}{path}: {error:#}"))
}

/// A zone's transfers as an admin (`admin`: its project's headers) and
/// another project make them: one offered to `withdrawn_target`, changed
/// and withdrawn; one offered to `taker` and accepted by it (the zone is
/// `taker`'s then). The accepted request.
pub fn transfer_zone(
    base_url: &str,
    admin: &[(&str, &str)],
    zone_id: &str,
    withdrawn_target: &str,
    taker: &str,
) -> Value {
    let call = |method: &str, path: &str, body: Option<Value>| {
        let answer = rest_request(base_url, method, path, admin, body.as_ref());
        assert!(answer.status < 300, "{method} {path}: {}", answer.text());
        answer.json()
    };
    let requests = format!("/v2/zones/{zone_id}/tasks/transfer_requests");
    let offer = |target: &str| {
        call(
            "POST",
            &requests,
            Some(json!({"target_project_id": target})),
        )
    };
    let withdrawn = offer(withdrawn_target);
    let withdrawn_path = format!(
        "/v2/zones/tasks/transfer_requests/{}",
        withdrawn["id"].as_str().unwrap_or_default()
    );
    call(
        "PATCH",
        &withdrawn_path,
        Some(json!({"description": "changed"})),
    );
    call("DELETE", &withdrawn_path, None);
    let offered = offer(taker);
    let accepted = rest_request(
        base_url,
        "POST",
        "/v2/zones/tasks/transfer_accepts",
        &[("X-Auth-Project-ID", taker), ("X-Roles", "member,reader")],
        Some(&json!({"zone_transfer_request_id": offered["id"], "key": offered["key"]})),
    );
    assert_eq!(accepted.status, 201, "{}", accepted.text());
    assert_eq!(accepted.json()["status"], "COMPLETE", "{}", accepted.text());
    offered
}

/// `dig` of `name`/`type_` at `server` (no recursion): the rcode and the
/// answers' data, sorted.
pub fn dig(server: SocketAddr, name: &str, type_: &str) -> (String, Vec<String>) {
    let output = Command::new("dig")
        .args([
            &format!("@{}", server.ip()),
            "-p",
            &server.port().to_string(),
            name,
            type_,
            "+norec",
            "+time=1",
            "+tries=1",
        ])
        .output()
        .expect("running dig");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let status = text
        .lines()
        .find_map(|l| l.split("status: ").nth(1))
        .map(|s| s.split(',').next().unwrap_or_default().to_string())
        .unwrap_or_else(|| format!("no answer: {text}"));
    let mut answers: Vec<String> = text
        .split(";; ANSWER SECTION:")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().nth(4).map(str::to_string))
        .collect();
    answers.sort();
    (status, answers)
}

/// A `default` Pool (the one zones naming none go to) whose one target is
/// a real BIND, fed from MiniDNS at `mdns`, as YAML for `kubectl apply`.
pub fn bind_pool_yaml(bind: &Bind, mdns: SocketAddr) -> String {
    pool_yaml(
        designate_backends::bind9::TYPE,
        bind.dns_addr(),
        &bind.target_options(),
        None,
        mdns,
    )
}

/// The same with a real PowerDNS, its API key in the Secret `pdns-api`
/// (created with the Pool).
pub fn pdns_pool_yaml(pdns: &PowerDns, mdns: SocketAddr) -> String {
    let secret: String = pdns
        .secrets()
        .iter()
        .map(|(k, v)| format!("  {k}: \"{v}\"\n"))
        .collect();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pdns-api\nstringData:\n{secret}---\n{}",
        pool_yaml(
            designate_backends::pdns4::TYPE,
            pdns.dns_addr(),
            &pdns.target_options(),
            Some("pdns-api"),
            mdns,
        )
    )
}

/// A `default` Pool with one target of `type_` and its nameserver at `dns`.
fn pool_yaml(
    type_: &str,
    dns: SocketAddr,
    options: &std::collections::BTreeMap<String, String>,
    secret: Option<&str>,
    mdns: SocketAddr,
) -> String {
    let options: String = options
        .iter()
        .map(|(k, v)| format!("      {k}: \"{v}\"\n"))
        .collect();
    let secret = secret
        .map(|name| format!("    secretRef:\n      name: {name}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Pool\nmetadata:\n  name: default\nspec:\n  description: {type_} for the tests\n  nsRecords:\n  - hostname: ns1.example.net.\n    priority: 1\n  nameservers:\n  - host: \"{ip}\"\n    port: {port}\n  targets:\n  - type: {type_}\n    masters:\n    - host: \"{mdns_ip}\"\n      port: {mdns_port}\n    options:\n{options}{secret}",
        ip = dns.ip(),
        port = dns.port(),
        mdns_ip = mdns.ip(),
        mdns_port = mdns.port(),
    )
}

/// `standalone` whose `default` Pool is served by a real nameserver `N`:
/// the REST URL, the nameserver, and kubectl against the control plane.
pub struct Backed<N> {
    pub standalone: Standalone,
    pub rest: String,
    pub nameserver: N,
    pub kubectl: Kubectl,
    // The nameserver's helpers were started on it.
    _runtime: tokio::runtime::Runtime,
}

/// [`Backed`] by BIND (a secondary added with rndc).
pub type BindBacked = Backed<Bind>;

/// [`Backed`] by PowerDNS (a secondary created through its API).
pub type PowerDnsBacked = Backed<PowerDns>;

impl BindBacked {
    /// Starts `standalone` in `dir` with `extra` flags, a BIND, and the
    /// Pool between them. Panics with the reason if any does not come up.
    pub fn start(dir: &Path, extra: &[&str]) -> Self {
        Self::start_with(dir, extra, Bind::start(), bind_pool_yaml)
    }

    /// [`BindBacked::start`] with the target's `zone_file_dir` set to
    /// `zones` (made here, and allowed to the operator): new zones reach
    /// BIND with their data.
    pub fn start_with_zone_files(dir: &Path, extra: &[&str], zones: &Path) -> Self {
        std::fs::create_dir_all(zones).expect("making the zone file dir");
        let zones = zones.to_str().expect("a UTF-8 path");
        let mut extra = extra.to_vec();
        extra.extend(["--backend-zone-file-dir", zones]);
        Self::start_with(dir, &extra, Bind::start(), |bind, mdns| {
            let mut options = bind.target_options();
            options.insert("zone_file_dir".into(), zones.into());
            pool_yaml(
                designate_backends::bind9::TYPE,
                bind.dns_addr(),
                &options,
                None,
                mdns,
            )
        })
    }
}

impl PowerDnsBacked {
    /// Starts `standalone` in `dir` with `extra` flags, a PowerDNS, and the
    /// Pool between them. Panics with the reason if any does not come up.
    pub fn start(dir: &Path, extra: &[&str]) -> Self {
        Self::start_with(dir, extra, PowerDns::start(), pdns_pool_yaml)
    }
}

impl<N> Backed<N> {
    fn start_with(
        dir: &Path,
        extra: &[&str],
        nameserver: impl std::future::Future<Output = std::io::Result<N>>,
        pool_yaml: impl FnOnce(&N, SocketAddr) -> String,
    ) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        let standalone = Standalone::try_start_with(&dir.join("data"), extra)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let rest = standalone.wait_rest_url();
        let mdns = wait_for(Duration::from_secs(30), "MiniDNS's address", || {
            standalone.mdns_addr().ok_or_else(|| "not yet".to_string())
        });
        let nameserver = runtime
            .block_on(nameserver)
            .expect("starting the nameserver");
        let (_, kubectl_bin) = kubectl_versions().pop().expect("a kubectl");
        let kubectl = Kubectl::new(kubectl_bin, standalone.kubeconfig(), dir.join("kube-cache"));
        let pool = dir.join("pool.yaml");
        std::fs::write(&pool, pool_yaml(&nameserver, mdns)).expect("writing pool.yaml");
        kubectl.ok(&["apply", "-f", pool.to_str().expect("a UTF-8 path")]);
        Self {
            standalone,
            rest,
            nameserver,
            kubectl,
            _runtime: runtime,
        }
    }
}

/// A fresh `standalone` in a temporary dir (named with `prefix`) with
/// `extra` flags; the dir, the process and its REST URL.
pub fn start_rest(prefix: &str, extra: &[&str]) -> (tempfile::TempDir, Standalone, String) {
    let tmp = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    let standalone = Standalone::try_start_with(&tmp.path().join("data"), extra)
        .unwrap_or_else(|e| panic!("starting standalone: {e:#}"));
    let base = standalone.wait_rest_url();
    (tmp, standalone, base)
}

/// The newest kubectl against `standalone`, its cache under `dir`.
pub fn kubectl_for(standalone: &Standalone, dir: &Path) -> Kubectl {
    let (_, bin) = kubectl_versions().pop().expect("a kubectl");
    Kubectl::new(bin, standalone.kubeconfig(), dir.join("kube-cache"))
}
