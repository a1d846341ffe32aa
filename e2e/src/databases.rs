//! Database servers of a test's own: a MariaDB or a PostgreSQL initialised
//! in a temp dir and listening on a free loopback port, so that a test can
//! `kill -9` one and start it again (the fault campaign) without touching
//! the machine's servers. Each holds an empty database `designate`.
//!
//! Needs mariadb-server (`mariadb-install-db`, `mariadbd`, `mariadb`) or
//! PostgreSQL (`initdb`, `postgres`, `psql`, run as the `postgres` user,
//! since PostgreSQL refuses to run as root).

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::keystone::free_port;
use crate::wait_for;

/// How long a server may take to accept connections (after a crash it
/// first recovers).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    MariaDb,
    Postgres,
}

/// A running server of one test, killed on drop.
pub struct DatabaseServer {
    engine: Engine,
    port: u16,
    child: Option<Child>,
    /// Last: the data outlives the process.
    dir: tempfile::TempDir,
}

impl DatabaseServer {
    /// Initialises a data dir, starts the server, and creates `designate`.
    pub fn start(engine: Engine) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("designate-db-").tempdir()?;
        let mut server = Self {
            engine,
            port: free_port(),
            child: None,
            dir,
        };
        server.initialise()?;
        server.start_again()?;
        server.client("CREATE DATABASE designate")?;
        Ok(server)
    }

    /// The storage URL of its `designate` database.
    pub fn url(&self) -> String {
        match self.engine {
            Engine::MariaDb => format!("mysql://root@127.0.0.1:{}/designate", self.port),
            Engine::Postgres => {
                format!("postgres://postgres@127.0.0.1:{}/designate", self.port)
            }
        }
    }

    /// Kills the server and every process it started, as a crash would.
    pub fn kill(&mut self) {
        // Its own process group: PostgreSQL's backends go with it.
        crate::crash(&mut self.child);
    }

    /// Starts the server on its data dir and port (after [`Self::kill`]:
    /// it recovers from the crash), and waits until it answers.
    pub fn start_again(&mut self) -> Result<()> {
        self.kill();
        let data = self.data_dir();
        let mut command = match self.engine {
            Engine::MariaDb => {
                let mut command = Command::new("mariadbd");
                command.arg("--no-defaults").arg("--user=root").args([
                    format!("--datadir={}", data.display()),
                    format!("--port={}", self.port),
                    "--bind-address=127.0.0.1".to_string(),
                    format!("--socket={}", self.dir.path().join("mysqld.sock").display()),
                    format!(
                        "--pid-file={}",
                        self.dir.path().join("mysqld.pid").display()
                    ),
                    "--skip-log-bin".to_string(),
                    "--innodb-buffer-pool-size=32M".to_string(),
                ]);
                command
            }
            Engine::Postgres => {
                let mut command = Command::new(postgres_bin("postgres")?);
                command
                    .arg("-D")
                    .arg(&data)
                    .args(["-p", &self.port.to_string(), "-k"])
                    .arg(self.dir.path())
                    .args(["-c", "listen_addresses=127.0.0.1"]);
                command.uid(postgres_uid()?);
                command
            }
        };
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {:?}", self.engine))?;
        self.child = Some(child);
        let what = format!("{:?} on port {} to answer", self.engine, self.port);
        wait_for(READY_TIMEOUT, &what, || {
            self.client("SELECT 1")
                .map_err(|e| format!("{e:#}; log: {}", crate::tail(&self.log_path(), 5)))
        });
        Ok(())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Creates the data dir.
    fn initialise(&self) -> Result<()> {
        let data = self.data_dir();
        let output = match self.engine {
            Engine::MariaDb => Command::new("mariadb-install-db")
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .args([
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--user=root",
                ])
                .output()?,
            Engine::Postgres => {
                let uid = postgres_uid()?;
                chown(self.dir.path(), uid)?;
                Command::new(postgres_bin("initdb")?)
                    .arg("-D")
                    .arg(&data)
                    .args(["-A", "trust", "-U", "postgres"])
                    .uid(uid)
                    .current_dir(self.dir.path())
                    .output()?
            }
        };
        if !output.status.success() {
            bail!(
                "initialising {:?} failed: {}{}",
                self.engine,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Runs one statement with the server's command-line client.
    fn client(&self, statement: &str) -> Result<()> {
        let port = self.port.to_string();
        let output = match self.engine {
            Engine::MariaDb => Command::new("mariadb")
                .args([
                    "--no-defaults",
                    "-h",
                    "127.0.0.1",
                    "-P",
                    &port,
                    "-u",
                    "root",
                ])
                .args(["-e", statement])
                .output()?,
            Engine::Postgres => Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                ])
                .args(["-v", "ON_ERROR_STOP=1", "-c", statement])
                .output()?,
        };
        if !output.status.success() {
            bail!("{}", String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok(())
    }
}

impl Drop for DatabaseServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A program of the newest PostgreSQL installed.
fn postgres_bin(name: &str) -> Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (/usr/lib/postgresql)")?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin").join(name)))
        .filter(|path| path.exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .with_context(|| format!("no PostgreSQL {name} under /usr/lib/postgresql"))
}

/// The uid of the `postgres` user.
fn postgres_uid() -> Result<u32> {
    let output = Command::new("id").args(["-u", "postgres"]).output()?;
    if !output.status.success() {
        bail!("no postgres user");
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

fn chown(path: &Path, uid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), None)
        .with_context(|| format!("chown {}", path.display()))
}
