//! A PowerDNS authoritative server of a test's own.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use sea_orm::{ConnectionTrait, Database};

use super::{Process, first_existing, free_port, random_hex, with_retries};
use crate::Target;
use crate::testing::query_soa;

const PDNS_SERVER: &str = "/usr/sbin/pdns_server";
/// The gsqlite3 schema, where Debian's pdns-backend-sqlite3 puts it.
const SCHEMAS: [&str; 2] = [
    "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
    "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql",
];

/// `pdns_server` in the foreground (no daemon, no guardian) with the
/// gsqlite3 backend, as a secondary (`secondary=yes`, checking its zones
/// every second) with its HTTP API on loopback, all in a private temp dir.
#[derive(Debug)]
pub struct PowerDns {
    process: Process,
    dns: SocketAddr,
    api: SocketAddr,
    api_key: String,
    dir: tempfile::TempDir,
}

/// pdns.conf for a server in `dir`.
fn pdns_conf(dir: &Path, db: &Path, dns: u16, api: u16, api_key: &str) -> String {
    format!(
        "launch=gsqlite3\n\
         gsqlite3-database={db}\n\
         local-address=127.0.0.1\n\
         local-port={dns}\n\
         api=yes\n\
         api-key={api_key}\n\
         webserver=yes\n\
         webserver-address=127.0.0.1\n\
         webserver-port={api}\n\
         webserver-allow-from=127.0.0.0/8\n\
         secondary=yes\n\
         xfr-cycle-interval=1\n\
         daemon=no\n\
         guardian=no\n\
         disable-syslog=yes\n\
         socket-dir={dir}\n\
         write-pid=no\n\
         security-poll-suffix=\n\
         log-dns-queries=no\n\
         distributor-threads=1\n\
         receiver-threads=1\n",
        db = db.display(),
        dir = dir.display(),
    )
}

/// `pdns_server` on the configuration in `dir`.
fn spawn_pdns(dir: &Path) -> io::Result<Process> {
    let mut command = Command::new(PDNS_SERVER);
    command.arg(format!("--config-dir={}", dir.display()));
    Process::spawn("pdns_server", command, dir.join("pdns.log"))
}

impl PowerDns {
    /// Starts a server; waits until its API and DNS queries are answered.
    pub async fn start() -> io::Result<Self> {
        with_retries(Self::start_once).await
    }

    async fn start_once() -> io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("designate-pdns-")
            .tempdir()?;
        let db = dir.path().join("pdns.sqlite3");
        create_database(&db).await?;
        let (dns_port, api_port) = (free_port()?, free_port()?);
        let api_key = random_hex(32);
        std::fs::write(
            dir.path().join("pdns.conf"),
            pdns_conf(dir.path(), &db, dns_port, api_port, &api_key),
        )?;
        let mut pdns = Self {
            process: spawn_pdns(dir.path())?,
            dns: SocketAddr::from(([127, 0, 0, 1], dns_port)),
            api: SocketAddr::from(([127, 0, 0, 1], api_port)),
            api_key,
            dir,
        };
        pdns.wait_ready().await?;
        Ok(pdns)
    }

    /// Kills the server, as a crash would, and starts it again on the same
    /// ports, configuration and database.
    pub async fn restart(&mut self) -> io::Result<()> {
        let _ = self.process.child.kill();
        let _ = self.process.child.wait();
        self.process = spawn_pdns(self.dir.path())?;
        self.wait_ready().await
    }

    /// Waits until its API and DNS queries are answered.
    async fn wait_ready(&mut self) -> io::Result<()> {
        // The driver's own client, on a target whose master is never used.
        let client = crate::Pdns4::new(&self.target(&[self.dns])).map_err(io::Error::other)?;
        let dns = self.dns;
        self.process
            .wait_ready(|| async {
                client.server_info().await.is_ok() && query_soa(dns, ".").await.is_ok()
            })
            .await
    }

    /// Its DNS address (UDP and TCP).
    pub fn dns_addr(&self) -> SocketAddr {
        self.dns
    }

    /// Its API, `http://127.0.0.1:<port>`.
    pub fn api_endpoint(&self) -> String {
        format!("http://{}", self.api)
    }

    /// The options of a `pdns4` target reaching it (without the API key).
    pub fn target_options(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("api_endpoint".into(), self.api_endpoint())])
    }

    /// Its API key as a Secret holds it: `api_token`.
    pub fn secrets(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("api_token".into(), self.api_key.clone())])
    }

    /// A `pdns4` target for it with those options and secrets, transferring
    /// from `masters`.
    pub fn target(&self, masters: &[SocketAddr]) -> Target {
        let target = Target {
            options: self.target_options(),
            ..Target::new(crate::pdns4::TYPE)
        };
        masters
            .iter()
            .fold(target, |t, m| t.master(m.ip().to_string(), m.port()))
            .with_secrets(self.secrets())
    }

    /// The end of its log.
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    /// Where its files are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// An SQLite database with PowerDNS's schema.
async fn create_database(path: &Path) -> io::Result<()> {
    let schema = std::fs::read_to_string(first_existing(&SCHEMAS)?)?;
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let failed = |e: sea_orm::DbErr| io::Error::other(format!("PowerDNS database {url}: {e}"));
    let db = Database::connect(&url).await.map_err(failed)?;
    db.execute_unprepared(&schema).await.map_err(failed)?;
    db.close().await.map_err(failed)
}
