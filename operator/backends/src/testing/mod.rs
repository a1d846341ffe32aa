//! Real nameservers for tests (this crate's and the e2e suite's): [`Bind`]
//! (`named`, driven by rndc; a secondary for the `bind9` driver, or a
//! primary serving zone files) and [`PowerDns`] (`pdns_server` with SQLite
//! and its HTTP API, for the `pdns4` driver). Each runs as a child process in
//! a temp dir of its own, on free loopback ports, logging to a file there
//! (quoted in start-up errors, and by `logs()`); dropping it kills it. Many
//! run at once. [`query_soa`] and [`wait_for_soa`] ask a server for a zone's
//! serial.
//!
//! Needs bind9 and bind9utils (`named`, `rndc`, `rndc-confgen`),
//! pdns-server and pdns-backend-sqlite3. Errors are `io::Error`s whose
//! message says what failed.

mod bind;
mod dns;
mod pdns;

use std::fs::File;
use std::future::Future;
use std::io;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use bind::{Bind, STOCK_SERIAL_QUERY_RATE};
pub use dns::{SoaAnswer, generic_zone_file, query_soa, wait_for_soa};
pub use pdns::PowerDns;

/// Times a server gets picked new ports and started again when it fails to
/// come up (another process took a port in between).
const START_ATTEMPTS: usize = 3;
/// How long a server may take to come up; generous for loaded CI machines.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A loopback port that is free for TCP and UDP now. Taken below Linux's
/// ephemeral range, so that outgoing connections do not grab it meanwhile.
fn free_port() -> io::Result<u16> {
    for _ in 0..200 {
        let port = rand::random_range(20_000..32_000);
        let tcp = TcpListener::bind(("127.0.0.1", port));
        if tcp.is_ok() && UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other("no free loopback port found"))
}

/// A server process, killed on drop, writing its output to `log`.
#[derive(Debug)]
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(name: &'static str, mut command: Command, log: PathBuf) -> io::Result<Self> {
        let out = File::create(&log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run {name}: {e}")))?;
        Ok(Self { name, child, log })
    }

    /// The end of the log, for error messages.
    fn logs(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn error(&self, message: impl std::fmt::Display) -> io::Error {
        io::Error::other(format!(
            "{}: {message}\n--- {} log ---\n{}",
            self.name,
            self.name,
            self.logs()
        ))
    }

    /// Polls `ready` until it holds, the process exits (both servers exit
    /// when a port is taken), or `READY_TIMEOUT` passes.
    async fn wait_ready<F, Fut>(&mut self, mut ready: F) -> io::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(self.error(format_args!("exited during start-up ({status})")));
            }
            if ready().await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.error(format_args!("not ready within {READY_TIMEOUT:?}")));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `start` up to `START_ATTEMPTS` times, as each attempt takes new ports.
async fn with_retries<T, F, Fut>(mut start: F) -> io::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for _ in 0..START_ATTEMPTS {
        match start().await {
            Ok(server) => return Ok(server),
            Err(e) => {
                tracing::warn!(error = %e, "test server did not start; retrying on other ports");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no start attempt")))
}

/// The first of `paths` that exists (Debian has moved files between releases).
fn first_existing(paths: &[&str]) -> io::Result<PathBuf> {
    paths
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .map(Path::to_path_buf)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("none of {paths:?} exists")))
}

/// A random lower-case hex string of `len` digits.
fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rand::random_range(0..16), 16).unwrap_or('0'))
        .collect()
}
