//! The real OpenStack CLI (python-openstackclient with the designate
//! plugin), run as a user runs it, for the tests that drive the REST API
//! through it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one CLI command may take.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(120);

/// The `openstack` executable.
pub fn openstack_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("DESIGNATE_OPENSTACK") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "DESIGNATE_OPENSTACK={} does not exist",
            path.display()
        );
        return path;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("openstack"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the OpenStack CLI was not found: set DESIGNATE_OPENSTACK to an `openstack` with \
                 the designate plugin, e.g. `python3 -m venv /tmp/designate-ci-venv && \
                 /tmp/designate-ci-venv/bin/pip install python-openstackclient \
                 python-designateclient` (what .ci/run does)"
            )
        })
}

/// What one CLI run gave.
pub struct Run {
    pub line: String,
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.stdout).ok()
    }

    pub fn describe(&self) -> String {
        format!(
            "$ {}\n  ok: {}\n  stdout: {}\n  stderr: {}",
            self.line,
            self.ok,
            self.stdout.trim(),
            self.stderr.trim()
        )
    }
}

/// How the CLI authenticates.
pub enum Auth {
    /// `--os-auth-type none --os-endpoint <rest>/v2`.
    None { endpoint: String },
    /// Keystone password auth (`OS_AUTH_URL`, `OS_USERNAME`, ...); the dns
    /// endpoint comes from the catalog.
    Password { env: Vec<(String, String)> },
}

pub struct Cli {
    pub bin: PathBuf,
    pub auth: Auth,
    pub home: PathBuf,
    /// Who runs it, for the log.
    pub who: String,
}

impl Cli {
    /// The CLI against a noauth REST API at `base` (Designate's noauth
    /// defaults: project `noauth-project`, role admin), with a fresh home
    /// under `dir`.
    pub fn noauth(base: &str, dir: &std::path::Path, who: &str) -> Self {
        let home = dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        Self {
            bin: openstack_bin(),
            auth: Auth::None {
                endpoint: format!("{base}/v2"),
            },
            home,
            who: who.into(),
        }
    }

    /// The JSON output of a run that must succeed.
    pub fn json(&self, args: &[&str]) -> Value {
        let run = self.run(args);
        assert!(run.ok, "{}", run.describe());
        run.json()
            .unwrap_or_else(|| panic!("not JSON: {}", run.describe()))
    }

    /// Runs `openstack ARGS`, killed after [`CLI_TIMEOUT`].
    pub fn run(&self, args: &[&str]) -> Run {
        let line = format!("[{}] openstack {}", self.who, args.join(" "));
        let stdout = tempfile::tempfile().unwrap();
        let stderr = tempfile::tempfile().unwrap();
        let mut command = Command::new(&self.bin);
        // Nothing from the caller's cloud settings.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("OS_") {
                command.env_remove(&name);
            }
        }
        match &self.auth {
            Auth::None { endpoint } => {
                command.args(["--os-auth-type", "none", "--os-endpoint", endpoint]);
            }
            Auth::Password { env } => {
                command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
        }
        command
            .args(args)
            .env("HOME", &self.home)
            .stdin(Stdio::null())
            .stdout(stdout.try_clone().unwrap())
            .stderr(stderr.try_clone().unwrap());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.bin.display()));
        let deadline = Instant::now() + CLI_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let read = |mut file: std::fs::File| {
            use std::io::{Read, Seek, SeekFrom};
            let mut text = String::new();
            file.seek(SeekFrom::Start(0)).unwrap();
            file.read_to_string(&mut text).unwrap();
            text
        };
        let mut stderr = read(stderr);
        if status.is_none() {
            stderr.push_str(&format!("\n(killed after {CLI_TIMEOUT:?})"));
        }
        let run = Run {
            line,
            ok: status.is_some_and(|s| s.success()),
            stdout: read(stdout),
            stderr,
        };
        eprintln!("{}", run.describe());
        run
    }
}
