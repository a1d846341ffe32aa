//! A BIND of a test's own.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{Process, free_port, with_retries};
use crate::Target;
use crate::testing::query_soa;

const NAMED: &str = "/usr/sbin/named";
const RNDC: &str = "/usr/sbin/rndc";
const RNDC_CONFGEN: &str = "/usr/sbin/rndc-confgen";
const KEY_NAME: &str = "designate-test";

/// BIND's default `serial-query-rate`.
pub const STOCK_SERIAL_QUERY_RATE: u32 = 20;

/// `named` in the foreground, one worker thread, on loopback ports of its
/// own, accepting zones added with rndc (`allow-new-zones yes`), query
/// logging off, working in a private temp dir. It answers only for its own
/// zones (no recursion) and allows transfers to anyone, so it can be the
/// primary of another server's secondary zones ([`Bind::serve_primary`]).
#[derive(Debug)]
pub struct Bind {
    process: Process,
    dns: SocketAddr,
    control: SocketAddr,
    key_file: PathBuf,
    /// Last: its files outlive the process.
    dir: tempfile::TempDir,
}

/// named.conf for a server in `dir`, authenticating rndc with `key_file`.
fn named_conf(dir: &Path, key_file: &Path, dns: u16, control: u16) -> String {
    let dir = dir.display();
    format!(
        r#"options {{
	directory "{dir}";
	pid-file none;
	session-keyfile none;
	managed-keys-directory "{dir}";
	listen-on port {dns} {{ 127.0.0.1; }};
	listen-on-v6 {{ none; }};
	allow-new-zones yes;
	recursion no;
	dnssec-validation no;
	querylog no;
	notify no;
	allow-query {{ any; }};
	allow-transfer {{ any; }};
	// As a pool's BIND should be set for bulk changes: BIND's defaults
	// (20 SOA checks a second, 2 transfers at once from one primary)
	// hold a few hundred new zones back for tens of seconds.
	serial-query-rate 500;
	transfers-in 100;
	transfers-per-ns 100;
}};
include "{key}";
controls {{
	inet 127.0.0.1 port {control} allow {{ 127.0.0.1; }} keys {{ "{KEY_NAME}"; }};
}};
"#,
        key = key_file.display(),
    )
}

/// A primary zone's file: SOA, NS and the NS's address.
fn zone_file(zone: &str, serial: u32) -> String {
    let zone = zone.trim_end_matches('.');
    format!(
        "$TTL 300\n\
         @ IN SOA ns1.{zone}. hostmaster.{zone}. ( {serial} 3600 600 86400 300 )\n\
         @ IN NS ns1.{zone}.\n\
         ns1 IN A 192.0.2.53\n"
    )
}

/// `named` in the foreground on the configuration in `dir`.
fn spawn_named(dir: &Path) -> io::Result<Process> {
    let mut command = Command::new(NAMED);
    command
        .args(["-g", "-n", "1", "-c"])
        .arg(dir.join("named.conf"));
    Process::spawn("named", command, dir.join("named.log"))
}

impl Bind {
    /// Starts a server; waits until rndc and DNS queries are answered.
    pub async fn start() -> io::Result<Self> {
        with_retries(Self::start_once).await
    }

    async fn start_once() -> io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("designate-bind-")
            .tempdir()?;
        let key_file = dir.path().join("rndc.key");
        let confgen = Command::new(RNDC_CONFGEN)
            .args(["-a", "-A", "hmac-sha256", "-k", KEY_NAME, "-c"])
            .arg(&key_file)
            .output()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run {RNDC_CONFGEN}: {e}")))?;
        if !confgen.status.success() {
            return Err(io::Error::other(format!(
                "{RNDC_CONFGEN} failed: {}",
                String::from_utf8_lossy(&confgen.stderr)
            )));
        }
        let (dns_port, control_port) = (free_port()?, free_port()?);
        let conf = dir.path().join("named.conf");
        std::fs::write(
            &conf,
            named_conf(dir.path(), &key_file, dns_port, control_port),
        )?;
        let mut bind = Self {
            process: spawn_named(dir.path())?,
            dns: SocketAddr::from(([127, 0, 0, 1], dns_port)),
            control: SocketAddr::from(([127, 0, 0, 1], control_port)),
            key_file,
            dir,
        };
        bind.wait_ready().await?;
        Ok(bind)
    }

    /// Kills the server, as a crash would; [`Bind::restart_empty`] brings
    /// it back.
    pub fn kill(&mut self) {
        let _ = self.process.child.kill();
        let _ = self.process.child.wait();
    }

    /// Kills the server (if it runs), as a crash would, and starts it again
    /// on the same ports and configuration but without the zones it was
    /// given (their files and BIND's new-zone database are removed).
    pub async fn restart_empty(&mut self) -> io::Result<()> {
        self.kill();
        for entry in std::fs::read_dir(self.dir.path())? {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if [".nzd", ".nzf", ".nzd-lock", ".db", ".jnl"]
                .iter()
                .any(|suffix| name.ends_with(suffix))
            {
                std::fs::remove_file(&path)?;
            }
        }
        self.process = spawn_named(self.dir.path())?;
        self.wait_ready().await
    }

    /// Kills the server (if it runs) and starts it again on the same ports,
    /// configuration and zones, as after an outage.
    pub async fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.process = spawn_named(self.dir.path())?;
        self.wait_ready().await
    }

    /// Waits until rndc and DNS queries are answered.
    async fn wait_ready(&mut self) -> io::Result<()> {
        let (rndc, dns) = (self.rndc_argv(&["status"]), self.dns);
        self.process
            .wait_ready(|| {
                let rndc = rndc.clone();
                async move {
                    let status =
                        crate::bind9::run(&rndc, Duration::from_secs(5), "test named").await;
                    matches!(status, Ok((true, _))) && query_soa(dns, ".").await.is_ok()
                }
            })
            .await
    }

    /// Its DNS address (UDP and TCP).
    pub fn dns_addr(&self) -> SocketAddr {
        self.dns
    }

    /// Its rndc control channel.
    pub fn control_addr(&self) -> SocketAddr {
        self.control
    }

    /// The options of a `bind9` target reaching it with its key file.
    pub fn target_options(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("rndc_host".into(), self.control.ip().to_string()),
            ("rndc_port".into(), self.control.port().to_string()),
            ("rndc_key_file".into(), self.key_file.display().to_string()),
        ])
    }

    /// A `bind9` target for it with those options, transferring from `masters`.
    pub fn target(&self, masters: &[SocketAddr]) -> Target {
        let target = Target {
            options: self.target_options(),
            ..Target::new(crate::bind9::TYPE)
        };
        masters
            .iter()
            .fold(target, |t, m| t.master(m.ip().to_string(), m.port()))
    }

    /// Its rndc key as a Secret holds it: `rndc_key`, the key clause that
    /// `rndc-confgen -a` wrote.
    pub fn key_secret(&self) -> io::Result<BTreeMap<String, String>> {
        Ok(BTreeMap::from([(
            "rndc_key".into(),
            std::fs::read_to_string(&self.key_file)?,
        )]))
    }

    /// The end of its log.
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    /// Where its files are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn rndc_argv(&self, args: &[&str]) -> Vec<String> {
        let mut argv: Vec<String> = vec![
            RNDC.into(),
            "-s".into(),
            self.control.ip().to_string(),
            "-p".into(),
            self.control.port().to_string(),
            "-k".into(),
            self.key_file.display().to_string(),
        ];
        argv.extend(args.iter().map(|a| a.to_string()));
        argv
    }

    /// Runs an rndc command against it; its output, or an error with the
    /// output and the server's log.
    pub async fn rndc(&self, args: &[&str]) -> io::Result<String> {
        let argv = self.rndc_argv(args);
        let (success, output) = crate::bind9::run(&argv, Duration::from_secs(30), "test named")
            .await
            .map_err(io::Error::other)?;
        if success {
            Ok(output)
        } else {
            Err(self
                .process
                .error(format_args!("rndc {args:?} failed: {}", output.trim())))
        }
    }

    /// Sets `serial-query-rate` (BIND's limit on SOA queries of secondary
    /// zones per second), everything else as BIND ships: the named.conf
    /// here raises that rate and the transfer quotas for the tests, so
    /// those lines go, the rate goes in unless stock, and BIND rereads it.
    pub async fn set_serial_query_rate(&self, rate: u32) -> io::Result<()> {
        const TUNED: [&str; 3] = ["serial-query-rate", "transfers-in", "transfers-per-ns"];
        let path = self.dir().join("named.conf");
        let mut conf: String = std::fs::read_to_string(&path)?
            .lines()
            .filter(|line| !TUNED.iter().any(|t| line.trim_start().starts_with(t)))
            .map(|line| format!("{line}\n"))
            .collect();
        if rate != STOCK_SERIAL_QUERY_RATE {
            conf = conf.replacen(
                "options {",
                &format!("options {{\n\tserial-query-rate {rate};"),
                1,
            );
        }
        std::fs::write(&path, conf)?;
        self.rndc(&["reconfig"]).await.map(drop)
    }

    /// Serves `zone` as a primary at `serial`: writes its zone file, then
    /// adds the zone, or reloads it when it is already served.
    pub async fn serve_primary(&self, zone: &str, serial: u32) -> io::Result<()> {
        let contents = zone_file(zone, serial);
        self.serve_primary_file(zone, serial, &contents, None).await
    }

    /// [`Bind::serve_primary`] with the zone file's `contents` (whose SOA
    /// has `serial`); with `notify`, each new serial is NOTIFYed there.
    pub async fn serve_primary_file(
        &self,
        zone: &str,
        serial: u32,
        contents: &str,
        notify: Option<SocketAddr>,
    ) -> io::Result<()> {
        self.add_primary(zone, serial, contents, notify, "").await
    }

    /// [`Bind::serve_primary_file`] transferred only to requests signed
    /// with its key (`designate-test`, [`Bind::key_base64`]).
    pub async fn serve_keyed_primary_file(
        &self,
        zone: &str,
        serial: u32,
        contents: &str,
        notify: Option<SocketAddr>,
    ) -> io::Result<()> {
        let only_keyed = format!(" allow-transfer {{ key \"{KEY_NAME}\"; }};");
        self.add_primary(zone, serial, contents, notify, &only_keyed)
            .await
    }

    /// The base64 secret of its key (`hmac-sha256`, named `designate-test`
    /// in its named.conf: rndc's, and a TSIG key for transfers).
    pub fn key_base64(&self) -> io::Result<String> {
        let text = std::fs::read_to_string(&self.key_file)?;
        text.split("secret \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_string)
            .ok_or_else(|| io::Error::other("no secret in the key file"))
    }

    async fn add_primary(
        &self,
        zone: &str,
        serial: u32,
        contents: &str,
        notify: Option<SocketAddr>,
        options: &str,
    ) -> io::Result<()> {
        let zone = zone.trim_end_matches('.');
        let file = format!("primary-{zone}.db");
        let notify = notify
            .map(|to| {
                format!(
                    " notify explicit; notify-delay 0; also-notify {{ {} port {}; }};",
                    to.ip(),
                    to.port()
                )
            })
            .unwrap_or_default();
        // As masters are usually set: a reload journals its differences,
        // so that IXFR answers carry just the changes.
        let config = format!(
            "{{ type primary; file \"{file}\"; ixfr-from-differences yes;{notify}{options} }};"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            std::fs::write(self.dir.path().join(&file), contents)?;
            match self.rndc(&["addzone", zone, &config]).await {
                Ok(_) => {}
                Err(e) if e.to_string().contains("already exists") => {
                    self.rndc(&["reload", zone]).await?;
                }
                Err(e) => return Err(e),
            }
            // named compares file times by the second: a file rewritten in
            // the second it was loaded reads as up to date, and the reload
            // itself is queued. Served means answering the serial.
            let answer = query_soa(self.dns, zone).await?;
            if answer == super::SoaAnswer::Serial(serial) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "{zone} still answers {answer}, not serial {serial}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
