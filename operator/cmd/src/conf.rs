//! Central's settings: Designate's own option names, from one configuration
//! file (`--config-file`, the `designate.conf` format a Designate operator
//! already has, which the chart mounts) and from flags, which win.
//!
//! Only the options Central's rules read are taken; the rest of a
//! `designate.conf` (transport URLs, pools, workers…) is left alone, as
//! oslo.config leaves options no service registered.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use designate_central::Config;
use designate_sink::{HandlerConfig, Kind};

use crate::heartbeat::HeartbeatArgs;
use crate::sink::SINK_TOPIC;

/// Central's options as flags; each one left out falls back to the
/// configuration file, then to Designate's default.
#[derive(clap::Args, Clone, Default)]
pub struct CentralArgs {
    /// A `designate.conf`-style file (INI: `[DEFAULT]`, `[service:central]`)
    /// to read Central's options from.
    #[arg(long, env = "DESIGNATE_CONFIG_FILE")]
    pub config_file: Option<PathBuf>,
    /// `[service:central] managed_resource_email`: RNAME of managed SOAs.
    #[arg(long)]
    pub managed_resource_email: Option<String>,
    /// `[service:central] managed_resource_tenant_id`: the project of the
    /// reverse zones made for floating IP PTRs.
    #[arg(long)]
    pub managed_resource_tenant_id: Option<String>,
    /// `[service:central] min_ttl`: lowest TTL a member may set.
    #[arg(long)]
    pub min_ttl: Option<i64>,
    /// `[service:central] max_zone_name_len`.
    #[arg(long)]
    pub max_zone_name_len: Option<usize>,
    /// `[service:central] max_recordset_name_len`.
    #[arg(long)]
    pub max_recordset_name_len: Option<usize>,
    /// `[DEFAULT] default_ttl`: the TTL of a zone created without one.
    #[arg(long)]
    pub default_ttl: Option<i64>,
    /// `[DEFAULT] supported_record_type`: comma-separated record types.
    #[arg(long, value_delimiter = ',')]
    pub supported_record_type: Option<Vec<String>>,
    /// `[DEFAULT] default_soa_refresh_min`.
    #[arg(long)]
    pub default_soa_refresh_min: Option<i64>,
    /// `[DEFAULT] default_soa_refresh_max`.
    #[arg(long)]
    pub default_soa_refresh_max: Option<i64>,
    /// `[DEFAULT] default_soa_retry`.
    #[arg(long)]
    pub default_soa_retry: Option<i64>,
    /// `[DEFAULT] default_soa_expire`.
    #[arg(long)]
    pub default_soa_expire: Option<i64>,
    /// `[DEFAULT] default_soa_minimum`.
    #[arg(long)]
    pub default_soa_minimum: Option<i64>,
    /// `[DEFAULT] quota_zones`: zones per project.
    #[arg(long)]
    pub quota_zones: Option<i64>,
    /// `[DEFAULT] quota_zone_recordsets`: recordsets per zone.
    #[arg(long)]
    pub quota_zone_recordsets: Option<i64>,
    /// `[DEFAULT] quota_zone_records`: records per zone.
    #[arg(long)]
    pub quota_zone_records: Option<i64>,
    /// `[DEFAULT] quota_recordset_records`: records per recordset.
    #[arg(long)]
    pub quota_recordset_records: Option<i64>,
    /// `[DEFAULT] quota_api_export_size`: recordsets in a zone export.
    #[arg(long)]
    pub quota_api_export_size: Option<i64>,
}

const DEFAULT: &str = "DEFAULT";
const CENTRAL: &str = "service:central";
const SINK: &str = "service:sink";

/// Where an option lives: its section, its name and the deprecated names
/// oslo.config still reads it under.
struct Opt {
    section: &'static str,
    name: &'static str,
    deprecated: &'static [&'static str],
}

const fn opt(section: &'static str, name: &'static str) -> Opt {
    Opt {
        section,
        name,
        deprecated: &[],
    }
}

impl CentralArgs {
    /// Designate's defaults, then the file's options, then the flags.
    pub fn config(&self) -> Result<Config> {
        let mut cfg = Config::default();
        if let Some((path, file)) = self.file()? {
            apply_file(&mut cfg, &file).with_context(|| format!("{}", path.display()))?;
        }
        self.apply_flags(&mut cfg);
        check(&cfg)?;
        Ok(cfg)
    }

    /// The file's `[DEFAULT] transport_url` (oslo.messaging's), if any: a
    /// `designate.conf` brings its bus along.
    pub fn transport_url(&self) -> Result<Option<String>> {
        Ok(self
            .file()?
            .and_then(|(_, file)| file.get(&opt(DEFAULT, "transport_url")).map(str::to_string)))
    }

    /// The file's Sink handlers: `[service:sink]
    /// enabled_notification_handlers`, each with its `[handler:NAME]`
    /// section (`zone_id`, `control_exchange`, `formatv4`, `formatv6`).
    pub fn sink_handlers(&self) -> Result<Vec<HandlerConfig>> {
        match self.file()? {
            Some((path, file)) => {
                sink_handlers(&file).with_context(|| format!("{}", path.display()))
            }
            None => Ok(Vec::new()),
        }
    }

    /// The file's `[DEFAULT] host` and `[heartbeat_emitter]
    /// heartbeat_interval` (seconds, a float), where the flags left them
    /// unset: a Designate host keeps its name in service statuses.
    pub fn fill_heartbeat(&self, heartbeat: &mut HeartbeatArgs) -> Result<()> {
        let Some((path, file)) = self.file()? else {
            return Ok(());
        };
        if heartbeat.host.is_none() {
            heartbeat.host = file.get(&opt(DEFAULT, "host")).map(str::to_string);
        }
        if heartbeat.heartbeat_interval.is_none() {
            heartbeat.heartbeat_interval = file
                .seconds(&opt("heartbeat_emitter", "heartbeat_interval"))
                .with_context(|| format!("{}", path.display()))?;
        }
        Ok(())
    }

    /// The configuration file, parsed, with its path.
    fn file(&self) -> Result<Option<(&PathBuf, Ini)>> {
        let Some(path) = &self.config_file else {
            return Ok(None);
        };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file = Ini::parse(&text).with_context(|| format!("{}", path.display()))?;
        Ok(Some((path, file)))
    }

    fn apply_flags(&self, cfg: &mut Config) {
        fn set<T: Clone>(target: &mut T, flag: &Option<T>) {
            if let Some(value) = flag {
                *target = value.clone();
            }
        }
        set(
            &mut cfg.managed_resource_email,
            &self.managed_resource_email,
        );
        set(
            &mut cfg.managed_resource_tenant_id,
            &self.managed_resource_tenant_id,
        );
        set(&mut cfg.min_ttl, &self.min_ttl);
        set(&mut cfg.max_zone_name_len, &self.max_zone_name_len);
        set(
            &mut cfg.max_recordset_name_len,
            &self.max_recordset_name_len,
        );
        set(&mut cfg.default_ttl, &self.default_ttl);
        set(&mut cfg.supported_record_types, &self.supported_record_type);
        set(&mut cfg.soa_refresh_min, &self.default_soa_refresh_min);
        set(&mut cfg.soa_refresh_max, &self.default_soa_refresh_max);
        set(&mut cfg.soa_retry, &self.default_soa_retry);
        set(&mut cfg.soa_expire, &self.default_soa_expire);
        set(&mut cfg.soa_minimum, &self.default_soa_minimum);
        set(&mut cfg.quotas.zones, &self.quota_zones);
        set(&mut cfg.quotas.zone_recordsets, &self.quota_zone_recordsets);
        set(&mut cfg.quotas.zone_records, &self.quota_zone_records);
        set(
            &mut cfg.quotas.recordset_records,
            &self.quota_recordset_records,
        );
        set(&mut cfg.quotas.api_export_size, &self.quota_api_export_size);
    }
}

/// Reads Central's options out of a parsed file into `cfg`.
fn apply_file(cfg: &mut Config, file: &Ini) -> Result<()> {
    let int = |o: Opt, target: &mut i64| -> Result<()> {
        if let Some(value) = file.int(&o)? {
            *target = value;
        }
        Ok(())
    };
    let max_zone = file.int(&opt(CENTRAL, "max_zone_name_len"))?;
    let max_recordset = file.int(&Opt {
        section: CENTRAL,
        name: "max_recordset_name_len",
        deprecated: &["max_record_name_len"],
    })?;
    for (value, target) in [
        (max_zone, &mut cfg.max_zone_name_len),
        (max_recordset, &mut cfg.max_recordset_name_len),
    ] {
        if let Some(value) = value {
            *target = usize::try_from(value).context("a name length must not be negative")?;
        }
    }
    if let Some(email) = file.get(&opt(CENTRAL, "managed_resource_email")) {
        cfg.managed_resource_email = email.to_string();
    }
    if let Some(tenant) = file.get(&opt(CENTRAL, "managed_resource_tenant_id")) {
        cfg.managed_resource_tenant_id = tenant.to_string();
    }
    int(opt(CENTRAL, "min_ttl"), &mut cfg.min_ttl)?;
    int(opt(DEFAULT, "default_ttl"), &mut cfg.default_ttl)?;
    if let Some(types) = file.get(&opt(DEFAULT, "supported_record_type")) {
        cfg.supported_record_types = list(types);
    }
    int(
        Opt {
            section: DEFAULT,
            name: "default_soa_refresh_min",
            deprecated: &["default_soa_refresh"],
        },
        &mut cfg.soa_refresh_min,
    )?;
    int(
        opt(DEFAULT, "default_soa_refresh_max"),
        &mut cfg.soa_refresh_max,
    )?;
    int(opt(DEFAULT, "default_soa_retry"), &mut cfg.soa_retry)?;
    int(opt(DEFAULT, "default_soa_expire"), &mut cfg.soa_expire)?;
    int(opt(DEFAULT, "default_soa_minimum"), &mut cfg.soa_minimum)?;
    let q = &mut cfg.quotas;
    int(opt(DEFAULT, "quota_zones"), &mut q.zones)?;
    int(
        opt(DEFAULT, "quota_zone_recordsets"),
        &mut q.zone_recordsets,
    )?;
    int(opt(DEFAULT, "quota_zone_records"), &mut q.zone_records)?;
    int(
        opt(DEFAULT, "quota_recordset_records"),
        &mut q.recordset_records,
    )?;
    int(
        opt(DEFAULT, "quota_api_export_size"),
        &mut q.api_export_size,
    )?;
    Ok(())
}

/// The section of a Sink handler's options.
fn handler_section(kind: Kind) -> &'static str {
    match kind {
        Kind::NovaFixed => "handler:nova_fixed",
        Kind::NeutronFloatingIp => "handler:neutron_floatingip",
    }
}

/// The Sink's handlers as Designate's Sink reads them from the file.
fn sink_handlers(file: &Ini) -> Result<Vec<HandlerConfig>> {
    let Some(enabled) = file.get(&opt(SINK, "enabled_notification_handlers")) else {
        return Ok(Vec::new());
    };
    let mut handlers = Vec::new();
    for name in list(enabled) {
        let kind = Kind::from_name(&name).with_context(|| {
            format!(
                "[{SINK}] enabled_notification_handlers: {name} is not a handler of this Sink \
                 (nova_fixed, neutron_floatingip)"
            )
        })?;
        let section = handler_section(kind);
        let zone_id = file.get(&opt(section, "zone_id")).with_context(|| {
            format!("[{section}] zone_id: the zone its records go to is not set")
        })?;
        let mut handler = HandlerConfig::new(kind, zone_id);
        if let Some(exchange) = file.get(&opt(section, "control_exchange")) {
            handler.exchange = exchange.to_string();
        }
        // The Sink consumes one topic, the one nova and neutron notify on
        // by default.
        if let Some(topics) = file.get(&opt(section, "notification_topics"))
            && list(topics) != [SINK_TOPIC]
        {
            bail!(
                "[{section}] notification_topics = {topics}: this Sink consumes `{SINK_TOPIC}` only"
            );
        }
        for (name, v6) in [("formatv4", false), ("formatv6", true)] {
            let formats = file.all(&opt(section, name));
            handler.set_formats(formats.into_iter().map(str::to_string).collect(), v6);
        }
        handlers.push(handler);
    }
    Ok(handlers)
}

/// oslo.config's `ListOpt`: comma-separated, each item trimmed.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

/// What a service could not work with is refused at start, not at the
/// first zone.
fn check(cfg: &Config) -> Result<()> {
    for type_ in &cfg.supported_record_types {
        if !designate_central::rdata::SUPPORTED_TYPES.contains(&type_.as_str()) {
            bail!(
                "supported_record_type: {type_} is not a record type Designate supports ({})",
                designate_central::rdata::SUPPORTED_TYPES.join(", ")
            );
        }
    }
    if cfg.soa_refresh_min > cfg.soa_refresh_max {
        bail!(
            "default_soa_refresh_min ({}) is above default_soa_refresh_max ({})",
            cfg.soa_refresh_min,
            cfg.soa_refresh_max
        );
    }
    if cfg.managed_resource_tenant_id.trim().is_empty() {
        bail!("managed_resource_tenant_id must not be empty");
    }
    if !cfg.managed_resource_email.contains('@') {
        bail!(
            "managed_resource_email {:?} is not an email address",
            cfg.managed_resource_email
        );
    }
    Ok(())
}

/// An oslo.config INI file: every value of each option of each section
/// (continuation lines joined), with the line it was set on; the last one
/// counts but for `MultiStrOpt`s.
#[derive(Debug, Default)]
struct Ini {
    values: HashMap<(String, String), Vec<(String, usize)>>,
}

impl Ini {
    /// oslo.config's `iniparser`: `[section]` headers, `key = value` or
    /// `key: value`, `#`/`;` comment lines, indented continuation lines,
    /// values in matching quotes unquoted.
    fn parse(text: &str) -> Result<Self> {
        let mut ini = Ini::default();
        let mut section: Option<String> = None;
        let mut last: Option<(String, String)> = None;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                last = None;
                continue;
            }
            if line.starts_with([' ', '\t']) {
                let key = last.clone().with_context(|| {
                    format!("line {number}: a continuation line with no option")
                })?;
                if let Some((value, _)) = ini.values.get_mut(&key).and_then(|v| v.last_mut()) {
                    value.push('\n');
                    value.push_str(trimmed);
                }
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[') {
                let name = name
                    .strip_suffix(']')
                    .with_context(|| format!("line {number}: unclosed section header"))?
                    .trim();
                if name.is_empty() {
                    bail!("line {number}: empty section name");
                }
                section = Some(name.to_string());
                last = None;
                continue;
            }
            let split = trimmed
                .find(['=', ':'])
                .with_context(|| format!("line {number}: neither `key = value` nor a section"))?;
            let key = trimmed[..split].trim();
            if key.is_empty() {
                bail!("line {number}: an option with no name");
            }
            let section = section
                .clone()
                .with_context(|| format!("line {number}: an option before any [section]"))?;
            let value = unquote(trimmed[split + 1..].trim()).to_string();
            let at = (section, key.to_string());
            ini.values
                .entry(at.clone())
                .or_default()
                .push((value, number));
            last = Some(at);
        }
        Ok(ini)
    }

    /// The option's value (under its name, else a deprecated one) and the
    /// line it came from.
    fn lookup(&self, opt: &Opt) -> Option<(&str, &str, usize)> {
        std::iter::once(opt.name)
            .chain(opt.deprecated.iter().copied())
            .find_map(|name| {
                self.values
                    .get(&(opt.section.to_string(), name.to_string()))
                    .and_then(|values| values.last())
                    .map(|(value, line)| (name, value.as_str(), *line))
            })
    }

    fn get(&self, opt: &Opt) -> Option<&str> {
        self.lookup(opt).map(|(_, value, _)| value)
    }

    /// Every value of a `MultiStrOpt`, in order.
    fn all(&self, opt: &Opt) -> Vec<&str> {
        self.values
            .get(&(opt.section.to_string(), opt.name.to_string()))
            .into_iter()
            .flatten()
            .map(|(value, _)| value.as_str())
            .collect()
    }

    /// A `FloatOpt` of seconds.
    fn seconds(&self, opt: &Opt) -> Result<Option<Duration>> {
        let Some((name, value, line)) = self.lookup(opt) else {
            return Ok(None);
        };
        value
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .map(Some)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "line {line}: [{}] {name} = {value:?} is not a number of seconds",
                    opt.section
                )
            })
    }

    fn int(&self, opt: &Opt) -> Result<Option<i64>> {
        let Some((name, value, line)) = self.lookup(opt) else {
            return Ok(None);
        };
        value.parse().map(Some).map_err(|_| {
            anyhow::anyhow!(
                "line {line}: [{}] {name} = {value:?} is not an integer",
                opt.section
            )
        })
    }
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bus_comes_with_the_file() {
        let path = std::env::temp_dir().join(format!("designate-conf-{}.conf", std::process::id()));
        std::fs::write(
            &path,
            "[DEFAULT]\ntransport_url = rabbit://u:p@mq1:5672,u:p@mq2:5672/\n",
        )
        .unwrap();
        let args = CentralArgs {
            config_file: Some(path.clone()),
            ..CentralArgs::default()
        };
        let url = args.transport_url();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            url.unwrap().as_deref(),
            Some("rabbit://u:p@mq1:5672,u:p@mq2:5672/")
        );
        assert_eq!(CentralArgs::default().transport_url().unwrap(), None);
    }

    fn from(text: &str) -> Result<Config> {
        let mut cfg = Config::default();
        apply_file(&mut cfg, &Ini::parse(text)?)?;
        check(&cfg)?;
        Ok(cfg)
    }

    #[test]
    fn a_designate_conf_sets_centrals_options() {
        let cfg = from(
            "[DEFAULT]\n\
             # a comment\n\
             transport_url = rabbit://guest:guest@127.0.0.1:5672/\n\
             default_ttl = 600\n\
             supported_record_type = A, AAAA,\n  MX\n\
             default_soa_refresh = 100\n\
             default_soa_refresh_max = 200\n\
             quota_zones: 3\n\
             quota_api_export_size = 50\n\
             [service:central]\n\
             managed_resource_email = \"dns@example.net\"\n\
             managed_resource_tenant_id = ptr-owner\n\
             min_ttl = 300\n\
             max_record_name_len = 100\n\
             [storage:sqlalchemy]\n\
             connection = mysql+pymysql://x\n",
        )
        .unwrap();
        assert_eq!(cfg.default_ttl, 600);
        assert_eq!(cfg.supported_record_types, ["A", "AAAA", "MX"]);
        assert_eq!((cfg.soa_refresh_min, cfg.soa_refresh_max), (100, 200));
        assert_eq!(cfg.quotas.zones, 3);
        assert_eq!(cfg.quotas.api_export_size, 50);
        assert_eq!(
            cfg.quotas.zone_records, 500,
            "untouched: Designate's default"
        );
        assert_eq!(cfg.managed_resource_email, "dns@example.net");
        assert_eq!(cfg.managed_resource_tenant_id, "ptr-owner");
        assert_eq!(cfg.min_ttl, 300);
        assert_eq!(cfg.max_recordset_name_len, 100, "deprecated name read");
        assert_eq!(cfg.max_zone_name_len, 255);
    }

    #[test]
    fn an_option_in_another_section_is_not_centrals() {
        let cfg = from("[service:api]\nmin_ttl = 9\n[DEFAULT]\nmin_ttl = 8\n").unwrap();
        assert_eq!(cfg.min_ttl, 0);
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = std::env::temp_dir().join(format!("designate-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("designate.conf");
        std::fs::write(
            &path,
            "[DEFAULT]\nquota_zones = 3\nquota_zone_records = 7\n",
        )
        .unwrap();
        let args = CentralArgs {
            config_file: Some(path),
            quota_zones: Some(5),
            ..CentralArgs::default()
        };
        let cfg = args.config().unwrap();
        assert_eq!((cfg.quotas.zones, cfg.quotas.zone_records), (5, 7));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn bad_values_name_their_line() {
        let error = from("[DEFAULT]\n\nquota_zones = ten\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 3: [DEFAULT] quota_zones = \"ten\" is not an integer"
        );
        let error = from("[DEFAULT]\nsupported_record_type = A, BOGUS\n").unwrap_err();
        assert!(error.to_string().contains("BOGUS is not a record type"));
        assert!(from("quota_zones = 1\n").is_err(), "no section");
        assert!(from("[DEFAULT\n").is_err());
        assert!(from("[service:central]\nmax_zone_name_len = -1\n").is_err());
        assert!(from("[service:central]\nmanaged_resource_email = nobody\n").is_err());
        assert!(
            from("[DEFAULT]\ndefault_soa_refresh_min = 9\ndefault_soa_refresh_max = 8\n").is_err()
        );
    }

    #[test]
    fn the_sink_comes_with_the_file() {
        let file = Ini::parse(
            "[service:sink]\n\
             enabled_notification_handlers = nova_fixed, neutron_floatingip\n\
             [handler:nova_fixed]\n\
             zone_id = 8e3e1a49-7e5e-4bb5-9e6f-8fd2e0a8c3b1\n\
             formatv4 = %(hostname)s.%(zone)s\n\
             formatv4 = %(octet0)s-%(octet1)s-%(octet2)s-%(octet3)s.%(zone)s\n\
             [handler:neutron_floatingip]\n\
             zone_id = example.org.\n\
             control_exchange = neutron-east\n\
             notification_topics = notifications\n",
        )
        .unwrap();
        let handlers = sink_handlers(&file).unwrap();
        let [nova, neutron] = handlers.as_slice() else {
            panic!("two handlers: {handlers:?}");
        };
        assert_eq!(nova.kind, Kind::NovaFixed);
        assert_eq!(nova.zone_id, "8e3e1a49-7e5e-4bb5-9e6f-8fd2e0a8c3b1");
        assert_eq!(
            nova.formatv4,
            [
                "%(hostname)s.%(zone)s",
                "%(octet0)s-%(octet1)s-%(octet2)s-%(octet3)s.%(zone)s"
            ]
        );
        assert_eq!(nova.exchange, "nova");
        assert_eq!(neutron.exchange, "neutron-east");
        assert_eq!(neutron.zone_id, "example.org.");
        assert!(sink_handlers(&Ini::default()).unwrap().is_empty());
        for (text, says) in [
            (
                "[service:sink]\nenabled_notification_handlers = fake\n",
                "fake",
            ),
            (
                "[service:sink]\nenabled_notification_handlers = nova_fixed\n",
                "zone_id",
            ),
            (
                "[service:sink]\nenabled_notification_handlers = nova_fixed\n\
                 [handler:nova_fixed]\nzone_id = z\nnotification_topics = other\n",
                "notification_topics",
            ),
        ] {
            let error = sink_handlers(&Ini::parse(text).unwrap()).unwrap_err();
            assert!(format!("{error:#}").contains(says), "{error:#}");
        }
    }

    #[test]
    fn the_heartbeat_comes_with_the_file_unless_flagged() {
        let path = std::env::temp_dir().join(format!("designate-hb-{}.conf", std::process::id()));
        let args = CentralArgs {
            config_file: Some(path.clone()),
            ..CentralArgs::default()
        };
        let filled = |text: &str, flags: HeartbeatArgs| {
            std::fs::write(&path, text).unwrap();
            let mut heartbeat = flags;
            args.fill_heartbeat(&mut heartbeat).map(|()| heartbeat)
        };
        let none = HeartbeatArgs {
            host: None,
            heartbeat_interval: None,
            heartbeat_timeout: None,
            heartbeat_gc_after: Duration::from_secs(60),
        };
        let conf = "[DEFAULT]\nhost = dns-1\n[heartbeat_emitter]\nheartbeat_interval = 2.5\n";
        let from_file = filled(conf, none.clone()).unwrap();
        assert_eq!(from_file.host.as_deref(), Some("dns-1"));
        assert_eq!(
            from_file.heartbeat_interval,
            Some(Duration::from_millis(2500))
        );
        let flagged = HeartbeatArgs {
            host: Some("flag".into()),
            heartbeat_interval: Some(Duration::from_secs(1)),
            ..none.clone()
        };
        let from_flags = filled(conf, flagged).unwrap();
        assert_eq!(from_flags.host.as_deref(), Some("flag"));
        assert_eq!(from_flags.heartbeat_interval, Some(Duration::from_secs(1)));
        let error = filled("[heartbeat_emitter]\nheartbeat_interval = often\n", none).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(format!("{error:#}").contains("line 2: [heartbeat_emitter] heartbeat_interval"));
    }
}
