//! The `bind9` driver: zones as secondaries of the masters, added and removed
//! at run time over named's control channel, as `rndc` does
//! (`allow-new-zones yes;` on the server).
//!
//! Options, as Designate names them: `rndc_host` (default 127.0.0.1),
//! `rndc_port` (953), `rndc_bin_path` (`rndc`), `rndc_config_file`,
//! `rndc_key_file`, `rndc_timeout` (seconds; unset or 0: rndc's own 60 s),
//! `view`, `clean_zonefile` (delete with `-clean`).
//!
//! `zone_file_dir`, beyond Designate: a directory that the operator and
//! named both reach at that path (one host, or a volume both containers
//! mount there), writable by both. A new zone's file is written there, with
//! the zone as MiniDNS serves it, before `addzone` names it: named loads
//! and serves the zone at once, where a zone it has to transfer first waits
//! for an SOA query that BIND's `serial-query-rate` limiter (20 a second,
//! released in batches every 500 ms) holds back. The zone stays a secondary
//! of the masters and refreshes through that limiter at BIND's own pace. A
//! file named needs but cannot load is set aside by named, which transfers
//! the zone instead. Zones are deleted with their files (`-clean`).
//!
//! Beyond Designate, `rndc_key` holds the key itself, usually from the
//! target's Secret: either its base64 secret, named by `rndc_key_name`
//! (default `rndc-key`) with `rndc_key_algorithm` (default `hmac-sha256`), or
//! a whole `key "name" { algorithm ...; secret "..."; };` clause as
//! `rndc-confgen -a` writes it.
//!
//! With such a key, or an `rndc_key_file` holding one key clause, the
//! driver speaks named's control protocol itself ([`crate::rndc`]): a
//! command is one TCP exchange (about 1-3 ms) instead of a run of the
//! `rndc` program (15-35 ms). The program is run for what only it reads:
//! an `rndc_config_file`, its default configuration (no key given), or
//! another program named by `rndc_bin_path`; an inline key then goes into a
//! private rndc.conf (mode 0600) given with `-c`: it never shows in a
//! process list, and a host's `/etc/bind/rndc.conf` cannot take precedence
//! over it (rndc ignores `-k` when its default configuration file exists).
//! Either way the answers read alike (rndc's own output, or the same text
//! built from the protocol's answer).
//!
//! `tsigkey_name` names a TSIG key (a `key` statement in named.conf, with
//! the name, algorithm and secret of the pool's `TsigKey`) that BIND signs
//! its transfers from the masters with: `primaries { ip port P key "NAME"; }`.
//! The key must exist in named's configuration (rndc cannot add keys): the
//! operator configures it there; `addzone` fails while it does not.
//!
//! Commands: create is `addzone`, and `modzone` with the same configuration
//! when the zone exists (masters may have moved; it causes no transfer);
//! update is `refresh` (an SOA check now, transferring if the serial moved),
//! or create when the zone is missing; delete is `delzone`. The masters are
//! rotated by a hash of the zone's name, so that zones spread their transfers
//! over several MiniDNS instances (Designate shuffles them).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use futures::future::BoxFuture;
use regex::Regex;

use crate::rndc::{Algorithm, ControlKey, RndcClient};
use crate::{Backend, Error, HostPort, Reply, Target, numeric_option, parse_bool, zone_name};

pub const TYPE: &str = "bind9";

/// The program rndc, found on the PATH.
const DEFAULT_PROGRAM: &str = "rndc";

/// rndc's own limit on a command.
const RNDC_TIMEOUT: Duration = Duration::from_secs(60);

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidTarget {
        driver: TYPE,
        message: message.into(),
    }
}

/// An rndc key given inline.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RndcKey {
    name: String,
    algorithm: String,
    secret: String,
}

impl fmt::Debug for RndcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RndcKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl RndcKey {
    /// Reads the `rndc_key` option: a key clause, or a bare secret named by
    /// `name` with `algorithm`. Only safe characters pass, as the key is
    /// written into an rndc.conf.
    fn parse(value: &str, name: Option<&str>, algorithm: Option<&str>) -> Result<Self, Error> {
        static CLAUSE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"^key\s+"?([^"\s{]+)"?\s*\{(.*)\}\s*;?$"#).expect("valid regex")
        });
        static ALGORITHM: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"\balgorithm\s+"?([^";\s]+)"?\s*;"#).expect("valid regex")
        });
        static SECRET: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"\bsecret\s+"([^"]*)"\s*;"#).expect("valid regex"));

        let flat = value.replace(['\n', '\r', '\t'], " ");
        let key = match CLAUSE.captures(flat.trim()) {
            Some(clause) => {
                let body = &clause[2];
                let field = |re: &Regex, what: &str| {
                    re.captures(body)
                        .map(|c| c[1].to_string())
                        .ok_or_else(|| invalid(format!("rndc_key: the key clause has no {what}")))
                };
                Self {
                    name: clause[1].to_string(),
                    algorithm: field(&ALGORITHM, "algorithm")?,
                    secret: field(&SECRET, "secret")?,
                }
            }
            None => Self {
                name: name.unwrap_or("rndc-key").to_string(),
                algorithm: algorithm.unwrap_or("hmac-sha256").to_string(),
                secret: flat.trim().to_string(),
            },
        };
        let name_ok = key
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if key.name.is_empty() || !name_ok {
            return Err(invalid(format!(
                "rndc key name {:?} is not valid",
                key.name
            )));
        }
        let algorithm = key.algorithm.parse::<Algorithm>().map_err(invalid)?;
        let algorithm = algorithm.as_str().to_string();
        let secret_ok = key
            .secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
        if key.secret.is_empty() || !secret_ok {
            // The secret itself stays out of the message.
            return Err(invalid("rndc_key: the secret is not base64"));
        }
        Ok(Self { algorithm, ..key })
    }

    /// The key as the control protocol signs with it.
    fn control_key(&self) -> Result<ControlKey, Error> {
        ControlKey::from_base64(&self.algorithm, &self.secret)
    }

    /// An rndc.conf that authenticates with this key.
    fn rndc_conf(&self) -> String {
        format!(
            "key \"{name}\" {{\n\talgorithm {algorithm};\n\tsecret \"{secret}\";\n}};\n\
             options {{\n\tdefault-key \"{name}\";\n}};\n",
            name = self.name,
            algorithm = self.algorithm,
            secret = self.secret,
        )
    }
}

/// The driver's settings, read from a target.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Settings {
    program: String,
    host: String,
    port: u16,
    config_file: Option<String>,
    key_file: Option<String>,
    key: Option<RndcKey>,
    view: Option<String>,
    clean_zonefile: bool,
    timeout: Duration,
    masters: Vec<HostPort>,
    tsigkey_name: Option<String>,
    zone_file_dir: Option<PathBuf>,
}

impl Settings {
    pub(crate) fn from_target(target: &Target) -> Result<Self, Error> {
        if target.masters.is_empty() {
            return Err(invalid("the target has no masters to transfer zones from"));
        }
        let key = target
            .get("rndc_key")
            .map(|value| {
                RndcKey::parse(
                    value,
                    target.get("rndc_key_name"),
                    target.get("rndc_key_algorithm"),
                )
            })
            .transpose()?;
        let config_file = target.get("rndc_config_file").map(str::to_string);
        let key_file = target.get("rndc_key_file").map(str::to_string);
        if key.is_some() && (config_file.is_some() || key_file.is_some()) {
            return Err(invalid(
                "rndc_key cannot be combined with rndc_config_file or rndc_key_file",
            ));
        }
        let view = target.get("view").map(str::to_string);
        if let Some(view) = &view
            && !view
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(invalid(format!("view {view:?} is not a valid view name")));
        }
        let tsigkey_name = target.get(crate::TSIGKEY_NAME).map(str::to_string);
        // It goes into named's configuration: a name, nothing that could end
        // the statement.
        if let Some(name) = &tsigkey_name
            && !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(invalid(format!(
                "tsigkey_name {name:?} is not a valid key name"
            )));
        }
        let zone_file_dir = target.get("zone_file_dir").map(PathBuf::from);
        // It goes into named's configuration as a quoted string.
        if let Some(dir) = &zone_file_dir {
            let text = dir.to_string_lossy();
            if !dir.is_absolute() || text.contains(['"', '\\']) || text.contains(char::is_control) {
                return Err(invalid(format!(
                    "zone_file_dir {text:?} is not an absolute path named can read"
                )));
            }
        }
        let timeout = match numeric_option(target, TYPE, "rndc_timeout", 0)? {
            0 => RNDC_TIMEOUT,
            seconds => Duration::from_secs(seconds),
        };
        Ok(Self {
            program: target
                .get("rndc_bin_path")
                .unwrap_or(DEFAULT_PROGRAM)
                .to_string(),
            host: target.get("rndc_host").unwrap_or("127.0.0.1").to_string(),
            port: numeric_option(target, TYPE, "rndc_port", 953)?,
            config_file,
            key_file,
            key,
            view,
            clean_zonefile: target.get("clean_zonefile").is_some_and(parse_bool),
            timeout,
            masters: target.masters.clone(),
            tsigkey_name,
            zone_file_dir,
        })
    }

    /// The key to speak the control protocol with, when rndc's own
    /// configuration has no say: an inline key, or the key clause of
    /// `rndc_key_file` (read now; one that does not read as a single key
    /// is left to rndc).
    fn native_key(&self) -> Option<RndcKey> {
        if self.program != DEFAULT_PROGRAM || self.config_file.is_some() {
            return None;
        }
        match (&self.key, &self.key_file) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(file)) => std::fs::read_to_string(file)
                .ok()
                .filter(|text| text.trim_start().starts_with("key"))
                .and_then(|text| RndcKey::parse(&text, None, None).ok()),
            (None, None) => None,
        }
    }

    /// The server's control channel, for messages.
    fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The rndc argv for `command`; `key_conf` is the rndc.conf written for
    /// an inline key.
    pub(crate) fn argv(&self, key_conf: Option<&Path>, command: Vec<String>) -> Vec<String> {
        let mut argv = vec![
            self.program.clone(),
            "-s".into(),
            self.host.clone(),
            "-p".into(),
            self.port.to_string(),
        ];
        let config = key_conf
            .map(|path| path.display().to_string())
            .or_else(|| self.config_file.clone());
        if let Some(config) = config {
            argv.extend(["-c".into(), config]);
        }
        if let Some(key_file) = &self.key_file {
            argv.extend(["-k".into(), key_file.clone()]);
        }
        argv.extend(command);
        argv
    }

    /// The zone, and its class and view when there is a view.
    fn zone_args(&self, zone: &str) -> Vec<String> {
        let mut args = vec![zone.to_string()];
        if let Some(view) = &self.view {
            args.extend(["in".into(), view.clone()]);
        }
        args
    }

    /// `addzone` or `modzone`: the zone as a secondary of `masters`.
    pub(crate) fn zone_command(
        &self,
        verb: &str,
        zone: &str,
        masters: &[SocketAddr],
    ) -> Vec<String> {
        let key = self
            .tsigkey_name
            .as_ref()
            .map(|name| format!(" key \"{name}\""))
            .unwrap_or_default();
        let primaries: String = rotated(masters, zone)
            .map(|m| format!("{} port {}{key}; ", m.ip(), m.port()))
            .collect();
        let file = match self.zone_file(zone) {
            Some(path) => format!("file \"{}\"; masterfile-format text;", path.display()),
            None => format!("file \"{zone}.db\";"),
        };
        let mut command = vec![verb.to_string()];
        command.extend(self.zone_args(zone));
        command.push(format!(
            "{{ type secondary; primaries {{ {primaries}}}; {file} }};"
        ));
        command
    }

    /// The zone's file in `zone_file_dir`, when the target has one.
    fn zone_file(&self, zone: &str) -> Option<PathBuf> {
        let dir = self.zone_file_dir.as_ref()?;
        Some(dir.join(format!("{}.db", zone.to_ascii_lowercase())))
    }

    /// `clean`: the zone file goes too, whatever `clean_zonefile` says.
    pub(crate) fn delzone_command(&self, zone: &str, clean: bool) -> Vec<String> {
        let mut command = vec!["delzone".to_string()];
        // Files in zone_file_dir are the operator's: they go with the zone.
        if self.clean_zonefile || clean || self.zone_file_dir.is_some() {
            command.push("-clean".into());
        }
        command.extend(self.zone_args(zone));
        command
    }

    pub(crate) fn refresh_command(&self, zone: &str) -> Vec<String> {
        let mut command = vec!["refresh".to_string()];
        command.extend(self.zone_args(zone));
        command
    }
}

/// `masters` starting at a position given by the zone's name (FNV-1a).
fn rotated<'a>(masters: &'a [SocketAddr], zone: &str) -> impl Iterator<Item = &'a SocketAddr> {
    let hash = zone
        .to_ascii_lowercase()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let start = usize::try_from(hash % masters.len().max(1) as u64).unwrap_or(0);
    masters.iter().cycle().skip(start).take(masters.len())
}

/// Reads what rndc printed: success, the answer the command tolerates for
/// idempotency (a zone that exists, or is missing), or an error by its kind.
pub(crate) fn outcome(
    success: bool,
    output: &str,
    server: &str,
    tolerated: Option<Reply>,
) -> Result<Reply, Error> {
    let reply = if output.contains("failed: already exists") {
        Some(Reply::Exists)
    } else if output.contains("failed: not found") {
        Some(Reply::Missing)
    } else {
        None
    };
    if success {
        return Ok(Reply::Done);
    }
    if let Some(reply) = reply.filter(|r| Some(*r) == tolerated) {
        return Ok(reply);
    }
    let message = output.trim().replace("\n* ", " ").replace('\n', " ");
    let server = server.to_string();
    let says = |needles: &[&str]| needles.iter().any(|n| output.contains(n));
    Err(if says(&["connection to remote host closed"]) {
        // What named's refusal of a bad key or algorithm looks like.
        Error::Unauthorized {
            driver: TYPE,
            server,
            message,
        }
    } else if says(&["connect failed", "couldn't get address", "timed out"]) {
        Error::Unreachable {
            driver: TYPE,
            server,
            message,
        }
    } else if says(&[
        "could not load rndc configuration",
        "does not exist",
        "was found",
        "unsupported algorithm",
    ]) {
        // rndc could not read its key or configuration.
        invalid(message)
    } else {
        Error::Failed {
            driver: TYPE,
            server,
            message,
        }
    })
}

/// The `bind9` driver of one target.
#[derive(Debug)]
pub struct Bind9 {
    settings: Settings,
    channel: Channel,
}

/// How the driver's commands reach named.
#[derive(Debug)]
enum Channel {
    /// The control protocol, spoken here when the key is known (inline, or
    /// the one clause of `rndc_key_file`): a command is one TCP exchange.
    Native(RndcClient),
    /// The `rndc` program, for what only it reads: an `rndc_config_file`,
    /// its own default configuration, a key file it alone makes sense of,
    /// or the program `rndc_bin_path` names. An inline key goes to it in
    /// an rndc.conf, removed on drop.
    Program {
        key_conf: Option<tempfile::NamedTempFile>,
    },
}

impl Bind9 {
    pub fn new(target: &Target) -> Result<Self, Error> {
        let settings = Settings::from_target(target)?;
        let channel = match settings.native_key() {
            Some(key) => Channel::Native(RndcClient::new(
                settings.host.clone(),
                settings.port,
                key.control_key()?,
                settings.timeout,
            )),
            None => Channel::Program {
                key_conf: settings.key.as_ref().map(key_conf).transpose()?,
            },
        };
        Ok(Self { settings, channel })
    }

    pub async fn create_zone(&self, zone: &str) -> Result<(), Error> {
        self.add_zone(zone, false).await
    }

    /// `create_zone`, named loading the zone from `content` written into
    /// `zone_file_dir` first. A file already there (named's, for a zone it
    /// has) is left alone; one that cannot be written is logged, and named
    /// transfers the zone as without the option.
    pub async fn create_zone_with(&self, zone: &str, content: &str) -> Result<(), Error> {
        let name = zone_name(zone)?;
        let mut written = false;
        if let Some(path) = self.settings.zone_file(name) {
            let content = content.to_string();
            match tokio::task::spawn_blocking(move || write_new(&path, &content)).await {
                Ok(Ok(wrote)) => written = wrote,
                Ok(Err(error)) => {
                    tracing::warn!(driver = TYPE, zone = name, %error, "zone file not written: named transfers the zone");
                }
                Err(error) => {
                    tracing::warn!(driver = TYPE, zone = name, %error, "zone file writer failed")
                }
            }
        }
        self.add_zone(zone, written).await
    }

    /// `addzone`, or `modzone` with the same configuration when the zone
    /// exists. A zone added is then refreshed at once unless its file was
    /// just written: named loads whatever file the name has, and one that a
    /// deleted zone of that name left would be served, old serial and all,
    /// until its refresh timer (a quarter to a whole SOA retry later).
    async fn add_zone(&self, zone: &str, file_is_current: bool) -> Result<(), Error> {
        let zone = zone_name(zone)?;
        let masters = crate::resolve_masters(&self.settings.masters).await?;
        let add = self.settings.zone_command("addzone", zone, &masters);
        match self.rndc(add, Some(Reply::Exists)).await? {
            Reply::Exists => {
                let modify = self.settings.zone_command("modzone", zone, &masters);
                self.rndc(modify, None).await?;
            }
            // Without a file, the zone's first refresh is under way and
            // this one joins it.
            Reply::Done | Reply::Missing if !file_is_current => {
                let refresh = self.settings.refresh_command(zone);
                self.rndc(refresh, Some(Reply::Missing)).await?;
            }
            Reply::Done | Reply::Missing => {}
        }
        Ok(())
    }

    pub async fn update_zone(&self, zone: &str) -> Result<(), Error> {
        let name = zone_name(zone)?;
        let refresh = self.settings.refresh_command(name);
        match self.rndc(refresh, Some(Reply::Missing)).await? {
            Reply::Missing => self.create_zone(zone).await,
            Reply::Done | Reply::Exists => Ok(()),
        }
    }

    pub async fn delete_zone(&self, zone: &str) -> Result<(), Error> {
        self.delzone(zone, false).await
    }

    /// `delzone -clean`: the zone file goes too.
    pub async fn purge_zone(&self, zone: &str) -> Result<(), Error> {
        self.delzone(zone, true).await
    }

    async fn delzone(&self, zone: &str, clean: bool) -> Result<(), Error> {
        let zone = zone_name(zone)?;
        let delete = self.settings.delzone_command(zone, clean);
        self.rndc(delete, Some(Reply::Missing)).await?;
        // named removes them too, but later: a zone of this name created
        // in the meantime must not find the old one's data.
        if let Some(path) = self.settings.zone_file(zone) {
            let journal = PathBuf::from(format!("{}.jnl", path.display()));
            for file in [path, journal] {
                if let Err(error) = tokio::fs::remove_file(&file).await
                    && error.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(driver = TYPE, file = %file.display(), %error, "zone file not removed");
                }
            }
        }
        Ok(())
    }

    /// Sends `command` (rndc's arguments) to the target's server and reads
    /// the answer as rndc prints it; `tolerated` is the failure that counts
    /// as done.
    async fn rndc(&self, command: Vec<String>, tolerated: Option<Reply>) -> Result<Reply, Error> {
        let server = self.settings.server();
        let (success, output) = match &self.channel {
            Channel::Native(client) => {
                // rndc joins its arguments so.
                let line = command.join(" ");
                let reply = client.command(&line).await?;
                (reply.succeeded(), reply.rndc_output(&line))
            }
            Channel::Program { key_conf } => {
                let argv = self
                    .settings
                    .argv(key_conf.as_ref().map(|f| f.path()), command);
                run(&argv, self.settings.timeout, &server).await?
            }
        };
        tracing::debug!(driver = TYPE, success, "rndc");
        outcome(success, &output, &server, tolerated)
    }
}

/// An rndc.conf with an inline key, readable by its owner only.
fn key_conf(key: &RndcKey) -> Result<tempfile::NamedTempFile, Error> {
    let write = || {
        let mut file = tempfile::Builder::new()
            .prefix("designate-rndc-")
            .suffix(".conf")
            .tempfile()?;
        std::io::Write::write_all(&mut file, key.rndc_conf().as_bytes())?;
        Ok::<_, std::io::Error>(file)
    };
    write().map_err(|e| invalid(format!("cannot write the rndc key file: {e}")))
}

/// Writes `content` to `path` unless a file is there (whole or not at all:
/// named never sees a part); whether it wrote. Readable by named, which may
/// run as another user.
fn write_new(path: &Path, content: &str) -> std::io::Result<bool> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    if path.exists() {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new().prefix(".seed-").tempfile_in(dir)?;
    file.write_all(content.as_bytes())?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    match file.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(error.error),
    }
}

/// Runs a program to completion within `timeout`: whether it succeeded, and
/// its stderr then stdout.
pub(crate) async fn run(
    argv: &[String],
    timeout: Duration,
    server: &str,
) -> Result<(bool, String), Error> {
    let child = tokio::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(timeout, child)
        .await
        .map_err(|_| Error::Timeout {
            driver: TYPE,
            server: server.to_string(),
            timeout,
        })?
        .map_err(|source| Error::Exec {
            program: argv[0].clone(),
            source,
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    Ok((output.status.success(), text))
}

impl Backend for Bind9 {
    fn create_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Bind9::create_zone(self, zone))
    }

    fn loads_zone_content(&self) -> bool {
        self.settings.zone_file_dir.is_some()
    }

    fn create_zone_with<'a>(
        &'a self,
        zone: &'a str,
        content: &'a str,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Bind9::create_zone_with(self, zone, content))
    }

    fn update_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Bind9::update_zone(self, zone))
    }

    fn delete_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Bind9::delete_zone(self, zone))
    }

    fn purge_zone<'a>(&'a self, zone: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(Bind9::purge_zone(self, zone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::new(TYPE).master("192.0.2.1", 5354)
    }

    fn settings(target: Target) -> Settings {
        Settings::from_target(&target).unwrap()
    }

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_are_designates() {
        let s = settings(target());
        assert_eq!(
            s.argv(None, strings(&["status"])),
            strings(&["rndc", "-s", "127.0.0.1", "-p", "953", "status"])
        );
        assert_eq!(s.timeout, RNDC_TIMEOUT);
        assert!(!s.clean_zonefile);
    }

    #[test]
    fn options_shape_the_argv() {
        let s = settings(
            target()
                .option("rndc_host", "10.1.1.1")
                .option("rndc_port", "1953")
                .option("rndc_bin_path", "/usr/sbin/rndc")
                .option("rndc_config_file", "/etc/designate/rndc.conf")
                .option("rndc_key_file", "/etc/designate/rndc.key")
                .option("rndc_timeout", "5"),
        );
        assert_eq!(
            s.argv(None, strings(&["refresh", "a.test"])),
            strings(&[
                "/usr/sbin/rndc",
                "-s",
                "10.1.1.1",
                "-p",
                "1953",
                "-c",
                "/etc/designate/rndc.conf",
                "-k",
                "/etc/designate/rndc.key",
                "refresh",
                "a.test",
            ])
        );
        assert_eq!(s.timeout, Duration::from_secs(5));
        let error = Settings::from_target(&target().option("rndc_port", "x")).unwrap_err();
        assert_eq!(error.reason(), "InvalidTarget");
    }

    #[test]
    fn an_inline_key_goes_into_a_config_given_with_c() {
        let s = settings(target().with_secrets([("rndc_key", "c2VjcmV0")]));
        assert_eq!(
            s.argv(Some(Path::new("/tmp/k.conf")), strings(&["status"])),
            strings(&[
                "rndc",
                "-s",
                "127.0.0.1",
                "-p",
                "953",
                "-c",
                "/tmp/k.conf",
                "status"
            ])
        );
        assert_eq!(
            s.key.unwrap().rndc_conf(),
            "key \"rndc-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n\
             options {\n\tdefault-key \"rndc-key\";\n};\n"
        );
        let conflict = target()
            .option("rndc_key_file", "/k")
            .with_secrets([("rndc_key", "c2VjcmV0")]);
        assert_eq!(
            Settings::from_target(&conflict).unwrap_err().reason(),
            "InvalidTarget"
        );
    }

    #[test]
    fn inline_keys_are_a_secret_or_a_key_clause() {
        let clause = "key \"designate\" {\n\talgorithm HMAC-SHA512;\n\tsecret \"AbC+/=\";\n};\n";
        assert_eq!(
            RndcKey::parse(clause, Some("ignored"), None).unwrap(),
            RndcKey {
                name: "designate".into(),
                algorithm: "hmac-sha512".into(),
                secret: "AbC+/=".into()
            }
        );
        assert_eq!(
            RndcKey::parse("AbC=", Some("k1"), Some("hmac-sha1")).unwrap(),
            RndcKey {
                name: "k1".into(),
                algorithm: "hmac-sha1".into(),
                secret: "AbC=".into()
            }
        );
        for (value, name, algorithm) in [
            ("AbC=", None, Some("hmac-sha3")),
            ("Ab\"; };", None, None),
            ("AbC=", Some("k\" {"), None),
            ("key \"k\" { secret \"AbC=\"; };", None, None),
        ] {
            let error = RndcKey::parse(value, name, algorithm).unwrap_err();
            assert_eq!(error.reason(), "InvalidTarget", "{value}");
            assert!(!error.to_string().contains("AbC"), "{error}");
        }
        let key = RndcKey::parse("AbC=", None, None).unwrap();
        assert!(!format!("{key:?}").contains("AbC"));
    }

    #[test]
    fn zones_are_added_as_secondaries_of_the_masters() {
        let s = settings(target());
        let masters: Vec<SocketAddr> = vec!["192.0.2.1:5354".parse().unwrap()];
        assert_eq!(
            s.zone_command("addzone", "example.com", &masters),
            strings(&[
                "addzone",
                "example.com",
                "{ type secondary; primaries { 192.0.2.1 port 5354; }; file \"example.com.db\"; };",
            ])
        );
        let s = settings(
            target()
                .option("view", "external")
                .option("clean_zonefile", "true"),
        );
        let v6: Vec<SocketAddr> = vec!["[2001:db8::1]:53".parse().unwrap()];
        assert_eq!(
            s.zone_command("modzone", "a.test", &v6),
            strings(&[
                "modzone",
                "a.test",
                "in",
                "external",
                "{ type secondary; primaries { 2001:db8::1 port 53; }; file \"a.test.db\"; };",
            ])
        );
        assert_eq!(
            s.delzone_command("a.test", false),
            strings(&["delzone", "-clean", "a.test", "in", "external"])
        );
        assert_eq!(
            s.refresh_command("a.test"),
            strings(&["refresh", "a.test", "in", "external"])
        );
        assert_eq!(
            settings(target()).delzone_command("a.test", false),
            strings(&["delzone", "a.test"])
        );
        assert_eq!(
            settings(target()).delzone_command("a.test", true),
            strings(&["delzone", "-clean", "a.test"])
        );
        let keyed = settings(target().option("tsigkey_name", "pool-key"));
        assert_eq!(
            keyed.zone_command("addzone", "example.com", &masters),
            strings(&[
                "addzone",
                "example.com",
                "{ type secondary; primaries { 192.0.2.1 port 5354 key \"pool-key\"; }; file \"example.com.db\"; };",
            ])
        );
        for bad in ["a\"; }; x", "a b", "k{"] {
            let target = target().option("tsigkey_name", bad);
            assert_eq!(
                Settings::from_target(&target).unwrap_err().reason(),
                "InvalidTarget",
                "{bad}"
            );
        }
        let bad_view = target().option("view", "a b");
        assert_eq!(
            Settings::from_target(&bad_view).unwrap_err().reason(),
            "InvalidTarget"
        );
        let no_masters = Target::new(TYPE);
        assert_eq!(
            Settings::from_target(&no_masters).unwrap_err().reason(),
            "InvalidTarget"
        );
    }

    #[test]
    fn a_zone_file_dir_names_the_zones_text_file_there() {
        let masters: Vec<SocketAddr> = vec!["192.0.2.1:5354".parse().unwrap()];
        let s = settings(target().option("zone_file_dir", "/var/lib/designate/zones"));
        assert_eq!(
            s.zone_command("addzone", "Example.com", &masters),
            strings(&[
                "addzone",
                "Example.com",
                "{ type secondary; primaries { 192.0.2.1 port 5354; }; \
                 file \"/var/lib/designate/zones/example.com.db\"; masterfile-format text; };",
            ])
        );
        // The files are the operator's: they go with their zones.
        assert_eq!(
            s.delzone_command("a.test", false),
            strings(&["delzone", "-clean", "a.test"])
        );
        for bad in ["zones", "/a\"b", "/a\\b", "/a\nb"] {
            let target = target().option("zone_file_dir", bad);
            assert_eq!(
                Settings::from_target(&target).unwrap_err().reason(),
                "InvalidTarget",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn zone_files_are_written_whole_once_and_readable_by_named() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.test.db");
        assert!(write_new(&path, "first\n").unwrap());
        // named's own file (a zone it has) is never written over.
        assert!(!write_new(&path, "second\n").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn masters_rotate_by_zone_and_keep_their_cycle() {
        let masters: Vec<SocketAddr> = (1..=3)
            .map(|i| format!("10.0.0.{i}:5354").parse().unwrap())
            .collect();
        let orders: Vec<Vec<SocketAddr>> = ["a.test", "b.test", "c.test", "d.test", "e.test"]
            .iter()
            .map(|zone| rotated(&masters, zone).copied().collect())
            .collect();
        for order in &orders {
            let start = masters.iter().position(|m| m == &order[0]).unwrap();
            let expected: Vec<SocketAddr> = masters
                .iter()
                .cycle()
                .skip(start)
                .take(3)
                .copied()
                .collect();
            assert_eq!(order, &expected);
        }
        let firsts: std::collections::HashSet<_> = orders.iter().map(|o| o[0]).collect();
        assert!(firsts.len() > 1, "zones should not all start at one master");
        assert_eq!(
            rotated(&masters, "A.TEST").collect::<Vec<_>>(),
            rotated(&masters, "a.test").collect::<Vec<_>>()
        );
    }

    #[test]
    fn rndc_output_is_read_for_idempotency_and_error_kinds() {
        let server = "127.0.0.1:953";
        let exists = "rndc: 'addzone' failed: already exists\n";
        let missing = "rndc: 'delzone' failed: not found\nno matching zone 'a.test' in any view\n";
        let done = outcome(true, "zone refresh queued\n", server, None);
        assert_eq!(done.unwrap(), Reply::Done);
        let tolerated = outcome(false, exists, server, Some(Reply::Exists));
        assert_eq!(tolerated.unwrap(), Reply::Exists);
        let tolerated = outcome(false, missing, server, Some(Reply::Missing));
        assert_eq!(tolerated.unwrap(), Reply::Missing);
        // Only where the command tolerates them: a missing view fails addzone.
        for (output, tolerated) in [(exists, None), (missing, Some(Reply::Exists))] {
            let error = outcome(false, output, server, tolerated).unwrap_err();
            assert_eq!(error.reason(), "BackendFailed", "{output}");
        }

        let bad_key = "rndc: connection to remote host closed.\n* This may indicate that the\n\
                       * remote server is using an older\n* version of the command protocol,\n";
        let error = outcome(false, bad_key, server, None).unwrap_err();
        assert_eq!(error.reason(), "BackendUnauthorized");
        let message = error.to_string();
        assert!(
            message.contains("closed. This may indicate that the remote"),
            "{message}"
        );
        for (output, reason) in [
            (
                "rndc: connect failed: 127.0.0.1#953: connection refused\n",
                "BackendUnreachable",
            ),
            (
                "rndc: couldn't get address for 'nowhere': not found\n",
                "BackendUnreachable",
            ),
            (
                "rndc: neither /etc/bind/rndc.conf nor /k was found\n",
                "InvalidTarget",
            ),
            ("rndc: /etc/x.conf does not exist\n", "InvalidTarget"),
            ("rndc: 'addzone' failed: failure\n", "BackendFailed"),
        ] {
            let error = outcome(false, output, server, Some(Reply::Missing)).unwrap_err();
            assert_eq!(error.reason(), reason, "{output}");
        }
    }

    #[tokio::test]
    async fn a_missing_rndc_is_an_exec_error() {
        let target = target().option("rndc_bin_path", "/nonexistent/rndc");
        let error = Bind9::new(&target)
            .unwrap()
            .delete_zone("a.test")
            .await
            .unwrap_err();
        assert_eq!(error.reason(), "BackendExecFailed");
        assert!(error.to_string().contains("/nonexistent/rndc"), "{error}");
    }
}
