//! The same workload against `designate-operator standalone` and the real
//! OpenStack Designate 23, one after the other on this machine, each with
//! its own BIND 9 as the pool's nameserver, as BIND ships (no tuning).
//!
//! Designate runs from the anchor's scripts (`../shared/anchor/`: Designate
//! 23.0.0 from PyPI on this machine's MariaDB and RabbitMQ, noauth, BIND on
//! 127.0.0.1:5300); this bench runs its `setup.sh`, empties it (its database
//! dropped, its BIND's zones removed) and `start.sh`s it, and `stop.sh`s it
//! at the end. `standalone` is the release build next to this binary
//! (SQLite, quotas raised as the anchor raises Designate's), with a BIND
//! of the testing module set back to BIND's defaults; its bind9 target has
//! a `zone_file_dir` unless `--zone-files false`. Only one of the two runs
//! at a time.
//!
//! Workload (REST in noauth, one keep-alive connection per client, project
//! `sbs`; latency from sending to the last byte of the answer):
//! 1. `--creates` zone creates by 1 client; then `--multi-creates` by each
//!    client count of `--clients` above 1, timed from the first POST until
//!    none is PENDING;
//! 2. `--create-waits` zones created one after another: time until the
//!    pool's BIND answers the zone's SOA, and until the REST API says ACTIVE;
//! 3. `--zone-recordsets` A recordsets into a new zone by each client count:
//!    rate, latency, and from the last answer until BIND serves them all
//!    (an AXFR from BIND counts them) and none is PENDING;
//! 4. `--single-changes` recordset creates one at a time, 1 s apart: until
//!    BIND answers the name, and until the recordset is ACTIVE;
//! 5. the project filled up to each of `--list-at` zones (by the most
//!    clients), then lists: zones (`limit=20`, `limit=1000`), and the
//!    1-client recordset zone's recordsets (default page, `limit=1000`);
//! 6. AXFRs of that zone from each one's MiniDNS;
//! 7. resident memory of each one's processes (Designate's five services
//!    with their workers; `standalone` is one process), BIND apart.
//!
//! Prints a markdown table: each figure for both, and how many times
//! better `standalone` is.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::{ArgAction, Parser};
use designate_backends::testing::STOCK_SERIAL_QUERY_RATE;
use designate_e2e::bench::{Process, mib, percentiles, pids_with, raised_quotas};
use designate_e2e::dns::{query_fresh, soa_serial_fresh, transfer, transfer_query};
use designate_e2e::rest_conn::{Conn, total_count};
use designate_e2e::{BindBacked, workspace_root};
use hickory_proto::rr::RecordType;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "The same workload against standalone and the real Designate 23")]
struct Args {
    /// The anchor's scripts (default: `../shared/anchor` beside the repository).
    #[arg(long)]
    anchor: Option<PathBuf>,
    /// Which to run, of `standalone` and `designate`.
    #[arg(long, value_delimiter = ',', default_value = "standalone,designate")]
    targets: Vec<String>,
    /// Zones created one after another by one client.
    #[arg(long, default_value_t = 50)]
    creates: usize,
    /// Zones created by each client count above 1.
    #[arg(long, default_value_t = 200)]
    multi_creates: usize,
    /// Client counts of the create rows.
    #[arg(long, value_delimiter = ',', default_value = "1,8,16")]
    clients: Vec<usize>,
    /// Zones created and waited for, one after another.
    #[arg(long, default_value_t = 20)]
    create_waits: usize,
    /// Recordsets per recordset row.
    #[arg(long, default_value_t = 500)]
    zone_recordsets: usize,
    /// Single recordset creates waited for, 1 s apart.
    #[arg(long, default_value_t = 10)]
    single_changes: usize,
    /// Zone counts the project is filled to before the lists.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    list_at: Vec<usize>,
    /// Requests per list row.
    #[arg(long, default_value_t = 20)]
    list_requests: usize,
    /// AXFRs from MiniDNS.
    #[arg(long, default_value_t = 10)]
    axfr_runs: usize,
    /// Give standalone's bind9 target a `zone_file_dir`.
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    zone_files: bool,
    /// Bound of every wait (Designate takes minutes to put thousands of
    /// new zones on its BIND).
    #[arg(long, default_value_t = 1800)]
    timeout_secs: u64,
}

const PROJECT: &str = "sbs";
const DNS_POLL: Duration = Duration::from_millis(2);
const API_POLL: Duration = Duration::from_millis(25);
/// Lists of what is PENDING cost Designate more: asked less often.
const DRAIN_POLL: Duration = Duration::from_millis(100);
const PENDING_ZONES: &str = "/v2/zones?status=PENDING&limit=1";

/// One figure of a run.
#[derive(Clone, Copy, Debug)]
enum Figure {
    /// p50 and p99 of latencies, lower is better.
    Latency(Duration, Duration),
    /// Per second, higher is better.
    Rate(f64),
    /// One duration, lower is better.
    Once(Duration),
    /// KiB, lower is better.
    Memory(u64),
}

impl Figure {
    fn show(self) -> String {
        match self {
            Self::Latency(p50, p99) => format!("{} / {}", human(p50), human(p99)),
            Self::Rate(r) => format!("{r:.1}/s"),
            Self::Once(d) => human(d),
            Self::Memory(kib) => format!("{} MiB", mib(kib)),
        }
    }

    /// How many times `self` (standalone's) is better than `other`.
    fn ratio(self, other: Self) -> Option<f64> {
        let secs = |d: Duration| d.as_secs_f64();
        let r = match (self, other) {
            (Self::Latency(a, _), Self::Latency(b, _)) | (Self::Once(a), Self::Once(b)) => {
                secs(b) / secs(a)
            }
            (Self::Rate(a), Self::Rate(b)) => a / b,
            (Self::Memory(a), Self::Memory(b)) => b as f64 / a as f64,
            _ => return None,
        };
        r.is_finite().then_some(r)
    }
}

fn clients_label(n: usize) -> String {
    if n == 1 {
        "1 client".into()
    } else {
        format!("{n} clients")
    }
}

fn human(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

/// What one run measured, in the order measured.
#[derive(Default)]
struct Figures(Vec<(String, Option<Figure>)>);

impl Figures {
    fn add(&mut self, what: impl Into<String>, figure: Option<Figure>) {
        let what = what.into();
        eprintln!("  {what}: {}", figure.map_or("-".into(), Figure::show));
        self.0.push((what, figure));
    }

    fn latencies(&mut self, what: impl Into<String>, samples: Vec<Duration>) {
        let figure = (!samples.is_empty()).then(|| {
            let p = percentiles(samples);
            Figure::Latency(p.p50, p.p99)
        });
        self.add(what, figure);
    }
}

/// Where one of the two answers.
struct Target {
    name: &'static str,
    /// The REST API.
    api: SocketAddr,
    /// The pool's BIND.
    bind: SocketAddr,
    /// MiniDNS.
    mdns: SocketAddr,
}

impl Target {
    fn conn(&self) -> Conn {
        Conn::new(self.api, PROJECT)
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let anchor = args
        .anchor
        .clone()
        .unwrap_or_else(|| workspace_root().join("../shared/anchor"));
    let runtime = tokio::runtime::Runtime::new()?;
    let mut runs: Vec<(&str, Figures)> = Vec::new();
    for target in &args.targets {
        runs.push(match target.as_str() {
            "standalone" => ("standalone", run_standalone(&args, &runtime)?),
            "designate" => ("Designate 23", run_designate(&args, &anchor, &runtime)?),
            other => bail!("unknown target {other:?}"),
        });
    }
    print_table(&args, &runs);
    Ok(())
}

fn run_standalone(args: &Args, runtime: &tokio::runtime::Runtime) -> Result<Figures> {
    eprintln!("== standalone");
    let dir = tempfile::Builder::new()
        .prefix("designate-sbs-")
        .tempdir()?;
    let extra = raised_quotas(100_000);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let backed = if args.zone_files {
        BindBacked::start_with_zone_files(dir.path(), &extra, &dir.path().join("zones"))
    } else {
        BindBacked::start(dir.path(), &extra)
    };
    runtime.block_on(
        backed
            .nameserver
            .set_serial_query_rate(STOCK_SERIAL_QUERY_RATE),
    )?;
    let mdns = backed.standalone.mdns_addr().context("MiniDNS's address")?;
    let target = Target {
        name: "standalone",
        api: rest_addr(&backed.rest)?,
        bind: backed.nameserver.dns_addr(),
        mdns,
    };
    let operator = Process::standalone_on(backed.standalone.data_dir())?.pid;
    let named = pids_with(&backed.nameserver.dir().display().to_string());
    let memory = move || {
        let bind: u64 = named.iter().map(|pid| tree_rss(*pid)).sum();
        (tree_rss(operator), bind)
    };
    runtime.block_on(workload(args, &target, &memory))
}

fn run_designate(args: &Args, anchor: &Path, runtime: &tokio::runtime::Runtime) -> Result<Figures> {
    eprintln!("== Designate 23 (the anchor: {})", anchor.display());
    let state = anchor_state();
    script(anchor, "stop.sh")?;
    script(anchor, "setup.sh")?;
    // Empty, as standalone starts: no zones in its database or its BIND.
    let drop = Command::new("mariadb")
        .args(["-uroot", "-e", "DROP DATABASE IF EXISTS designate"])
        .status()?;
    if !drop.success() {
        bail!("dropping Designate's database failed");
    }
    let _ = std::fs::remove_file(state.join("state/pools.yaml.applied"));
    for entry in std::fs::read_dir(state.join("bind/data"))? {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    script(anchor, "start.sh")?;
    let ports = std::fs::read_to_string(state.join("conf/ports.env"))?;
    let port = |key: &str| -> Result<u16> {
        ports
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .ok_or_else(|| anyhow!("{key} not in ports.env"))?
            .trim()
            .parse()
            .context(key.to_string())
    };
    let target = Target {
        name: "Designate 23",
        api: SocketAddr::from(([127, 0, 0, 1], port("API_PORT")?)),
        bind: "127.0.0.1:5300".parse()?,
        mdns: SocketAddr::from(([127, 0, 0, 1], port("MDNS_PORT")?)),
    };
    let pids = state.join("pids");
    let memory = move || {
        let read = |name: &str| -> u64 {
            std::fs::read_to_string(pids.join(format!("{name}.pid")))
                .ok()
                .and_then(|pid| pid.trim().parse().ok())
                .map_or(0, tree_rss)
        };
        let services = ["api", "central", "worker", "producer", "mdns"]
            .iter()
            .map(|s| read(&format!("designate-{s}")))
            .sum();
        (services, read("named"))
    };
    let figures = runtime.block_on(workload(args, &target, &memory));
    script(anchor, "stop.sh")?;
    figures
}

/// Where the anchor keeps its state (as its scripts find it).
fn anchor_state() -> PathBuf {
    if let Some(dir) = std::env::var_os("ANCHOR") {
        return dir.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("designate-anchor")
}

fn script(anchor: &Path, name: &str) -> Result<()> {
    eprintln!("  {name}");
    let out = Command::new("bash")
        .arg(anchor.join(name))
        .output()
        .with_context(|| format!("running {name}"))?;
    if !out.status.success() {
        bail!(
            "{name} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn rest_addr(url: &str) -> Result<SocketAddr> {
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default();
    host.parse().with_context(|| format!("the REST URL {url}"))
}

/// Resident KiB of `root` and every process below it.
fn tree_rss(root: u32) -> u64 {
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command's closing parenthesis: state, then the parent.
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    // Each process's parent, read once.
    let parents: Vec<(u32, Option<u32>)> = std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .map(|pid| (pid, parent(pid)))
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let pid = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, parent)| *parent == Some(pid))
                .map(|(child, _)| *child),
        );
        i += 1;
    }
    tree.iter()
        .map(|pid| Process { pid: *pid }.memory().0)
        .sum()
}

/// Names of this run: no two runs (or leftovers) share one.
fn zone_name(prefix: &str, i: usize, run: u64) -> String {
    format!("{prefix}{i}-{run}.org.")
}

async fn create_zone(conn: &mut Conn, name: &str) -> Result<(Duration, String)> {
    let body = json!({"name": name, "email": "hostmaster@example.org", "ttl": 3600});
    let start = Instant::now();
    let answer = conn.post("/v2/zones", &body).await?;
    let took = start.elapsed();
    if answer.status != 202 {
        bail!("POST zone {name}: {} {}", answer.status, answer.snippet());
    }
    let id = answer.json()["id"]
        .as_str()
        .ok_or_else(|| anyhow!("no id in {}", answer.snippet()))?
        .to_string();
    Ok((took, id))
}

async fn status_of(conn: &mut Conn, path: &str) -> Result<String> {
    let answer = conn.get(path).await?;
    Ok(answer.json()["status"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// `count` zones named by `name(i)` created by `clients` clients at once:
/// the rate, each create's latency, and when the first was sent.
async fn create_zones(
    target: &Target,
    clients: usize,
    count: usize,
    name: impl Fn(usize) -> String + Send + Sync + 'static,
) -> Result<(f64, Vec<Duration>, Instant)> {
    let name = Arc::new(name);
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (name, latencies, mut conn) = (name.clone(), latencies.clone(), target.conn());
            tokio::spawn(async move {
                for i in (c..count).step_by(clients) {
                    let (took, _) = create_zone(&mut conn, &name(i)).await?;
                    latencies.lock().expect("not poisoned").push(took);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    let latencies = std::mem::take(&mut *latencies.lock().expect("not poisoned"));
    Ok((rate, latencies, start))
}

/// A new zone, waited for until ACTIVE: its id.
async fn active_zone(target: &Target, name: &str, timeout: Duration) -> Result<String> {
    let (_, id) = create_zone(&mut target.conn(), name).await?;
    until_active(target, &format!("/v2/zones/{id}"), Instant::now(), timeout)
        .await
        .ok_or_else(|| anyhow!("{name} not ACTIVE within {timeout:?}"))?;
    Ok(id)
}

/// Records `server` sends in an AXFR of `zone` (0 while it has none).
async fn axfr_records(server: SocketAddr, zone: &str) -> usize {
    let Ok(request) = transfer_query(zone, RecordType::AXFR, None) else {
        return 0;
    };
    transfer(server, &request, Duration::from_secs(10))
        .await
        .map_or(0, |t| t.records)
}

/// Polls `done` every `poll` until it holds: the time from `start`.
async fn until(
    start: Instant,
    timeout: Duration,
    poll: Duration,
    mut done: impl AsyncFnMut() -> bool,
) -> Option<Duration> {
    loop {
        if done().await {
            return Some(start.elapsed());
        }
        if start.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(poll).await;
    }
}

async fn workload(
    args: &Args,
    target: &Target,
    memory: &impl Fn() -> (u64, u64),
) -> Result<Figures> {
    let timeout = Duration::from_secs(args.timeout_secs);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut figures = Figures::default();
    let mut conn = target.conn();
    // Warm: connections, the pool, BIND.
    active_zone(target, &zone_name("warm", 0, run), timeout).await?;

    // 1. Zone creates.
    let mut latencies = Vec::new();
    for i in 0..args.creates {
        latencies.push(create_zone(&mut conn, &zone_name("one", i, run)).await?.0);
    }
    figures.latencies("POST /v2/zones, 1 client", latencies);
    drain(target, PENDING_ZONES, Instant::now(), timeout).await;
    for &clients in args.clients.iter().filter(|c| **c > 1) {
        let prefix = format!("c{clients}x");
        let (rate, latencies, first) =
            create_zones(target, clients, args.multi_creates, move |i| {
                zone_name(&prefix, i, run)
            })
            .await?;
        figures.latencies(format!("POST /v2/zones, {clients} clients"), latencies);
        figures.add(
            format!("zone creates, {clients} clients"),
            Some(Figure::Rate(rate)),
        );
        figures.add(
            format!(
                "{} zones by {clients} clients: first POST → none PENDING",
                args.multi_creates
            ),
            drain(target, PENDING_ZONES, first, timeout)
                .await
                .map(Figure::Once),
        );
    }

    // 2. Create → served by BIND, → ACTIVE, one after another.
    let (mut served, mut active) = (Vec::new(), Vec::new());
    for i in 0..args.create_waits {
        let name = zone_name("wait", i, run);
        let start = Instant::now();
        let (_, id) = create_zone(&mut conn, &name).await?;
        let bind = target.bind;
        let dns = until(start, timeout, DNS_POLL, async || {
            soa_serial_fresh(bind, &name).await.is_some()
        });
        let path = format!("/v2/zones/{id}");
        let (dns, rest) = tokio::join!(dns, until_active(target, &path, start, timeout));
        served.extend(dns);
        active.extend(rest);
    }
    figures.latencies("zone create → BIND answers its SOA", served);
    figures.latencies("zone create → ACTIVE", active);

    // 3. Recordsets into one zone.
    let mut rs_zone = None;
    for &clients in &args.clients {
        let name = zone_name(&format!("rs{clients}x"), 0, run);
        let id = active_zone(target, &name, timeout).await?;
        let (rate, latencies, after) =
            recordsets(target, &id, &name, clients, args.zone_recordsets, timeout).await?;
        let (n, by) = (args.zone_recordsets, clients_label(clients));
        figures.latencies(format!("POST recordset, {by}"), latencies);
        figures.add(format!("recordset creates, {by}"), Some(Figure::Rate(rate)));
        figures.add(
            format!("{n} recordsets by {by}: last answer → all served by BIND"),
            after.0.map(Figure::Once),
        );
        figures.add(
            format!("{n} recordsets by {by}: last answer → none PENDING"),
            after.1.map(Figure::Once),
        );
        rs_zone.get_or_insert((id, name));
    }
    let (rs_id, rs_name) = rs_zone.ok_or_else(|| anyhow!("no client counts"))?;

    // 4. Single recordset creates.
    let (mut served, mut active) = (Vec::new(), Vec::new());
    for i in 0..args.single_changes {
        let name = format!("single{i}.{rs_name}");
        let body = json!({"name": name, "type": "A", "ttl": 300, "records": ["192.0.2.77"]});
        let start = Instant::now();
        let answer = conn
            .post(&format!("/v2/zones/{rs_id}/recordsets"), &body)
            .await?;
        if answer.status != 202 && answer.status != 201 {
            bail!("POST recordset: {} {}", answer.status, answer.snippet());
        }
        let path = format!(
            "/v2/zones/{rs_id}/recordsets/{}",
            answer.json()["id"].as_str().unwrap_or_default()
        );
        let bind = target.bind;
        let dns = until(start, timeout, DNS_POLL, async || {
            query_fresh(bind, &name, RecordType::A)
                .await
                .is_some_and(|m| !m.answers.is_empty())
        });
        let (dns, rest) = tokio::join!(dns, until_active(target, &path, start, timeout));
        served.extend(dns);
        active.extend(rest);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    figures.latencies("recordset create → BIND answers it", served);
    figures.latencies("recordset create → ACTIVE", active);

    // 5. Lists at each zone count.
    let most = args.clients.iter().copied().max().unwrap_or(1);
    for &at in &args.list_at {
        let have = total_count(&mut conn, "/v2/zones?limit=1").await? as usize;
        if have < at {
            let (rate, _, first) = create_zones(target, most, at - have, move |i| {
                zone_name("fill", i + have, run)
            })
            .await?;
            figures.add(
                format!("fill to {at} zones, {most} clients"),
                Some(Figure::Rate(rate)),
            );
            figures.add(
                format!(
                    "fill to {at} zones ({} new): first POST → none PENDING",
                    at - have
                ),
                drain(target, PENDING_ZONES, first, timeout)
                    .await
                    .map(Figure::Once),
            );
        }
        let counted = total_count(&mut conn, "/v2/zones?limit=1").await?;
        let mut paths = vec![
            (
                "zones?limit=20".to_string(),
                "/v2/zones?limit=20".to_string(),
            ),
            (
                "zones?limit=1000".to_string(),
                "/v2/zones?limit=1000".to_string(),
            ),
        ];
        if Some(&at) == args.list_at.first() {
            let recordsets = format!("/v2/zones/{rs_id}/recordsets");
            paths.push(("the recordset zone's recordsets".into(), recordsets.clone()));
            paths.push((
                "the recordset zone's recordsets ?limit=1000".into(),
                format!("{recordsets}?limit=1000"),
            ));
        }
        for (label, path) in paths {
            let mut latencies = Vec::new();
            for _ in 0..args.list_requests {
                let start = Instant::now();
                let answer = conn.get(&path).await?;
                latencies.push(start.elapsed());
                if answer.status != 200 {
                    bail!("GET {path}: {} {}", answer.status, answer.snippet());
                }
            }
            figures.latencies(format!("GET {label} at {counted} zones"), latencies);
        }
        let (rss, _) = memory();
        figures.add(
            format!("resident memory at {counted} zones"),
            Some(Figure::Memory(rss)),
        );
    }

    // 6. AXFR from MiniDNS.
    let request = transfer_query(&rs_name, RecordType::AXFR, None)?;
    let mut latencies = Vec::new();
    let mut records = 0;
    for _ in 0..args.axfr_runs {
        let got = transfer(target.mdns, &request, timeout).await?;
        records = got.records;
        latencies.push(got.took);
    }
    figures.latencies(format!("AXFR of {records} records from MiniDNS"), latencies);

    // 7. Memory.
    let (rss, bind) = memory();
    figures.add("resident memory at the end", Some(Figure::Memory(rss)));
    figures.add("its BIND's resident memory", Some(Figure::Memory(bind)));
    eprintln!("  ({} done)", target.name);
    Ok(figures)
}

/// Polls the object at `path` until it is ACTIVE: the time from `start`.
async fn until_active(
    target: &Target,
    path: &str,
    start: Instant,
    timeout: Duration,
) -> Option<Duration> {
    let mut conn = target.conn();
    until(start, timeout, API_POLL, async || {
        status_of(&mut conn, path)
            .await
            .is_ok_and(|s| s == "ACTIVE")
    })
    .await
}

/// Polls the list `pending` until it counts nothing: the time from `start`.
async fn drain(
    target: &Target,
    pending: &str,
    start: Instant,
    timeout: Duration,
) -> Option<Duration> {
    let mut conn = target.conn();
    until(start, timeout, DRAIN_POLL, async || {
        total_count(&mut conn, pending).await.is_ok_and(|n| n == 0)
    })
    .await
}

/// `count` A recordsets into the zone by `clients` clients: rate, latencies,
/// and from the last answer until BIND serves them all and until none is
/// PENDING.
async fn recordsets(
    target: &Target,
    zone_id: &str,
    zone: &str,
    clients: usize,
    count: usize,
    timeout: Duration,
) -> Result<(f64, Vec<Duration>, (Option<Duration>, Option<Duration>))> {
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (latencies, mut conn) = (latencies.clone(), target.conn());
            let (path, zone) = (format!("/v2/zones/{zone_id}/recordsets"), zone.to_string());
            tokio::spawn(async move {
                for i in (c..count).step_by(clients) {
                    let body = json!({
                        "name": format!("h{i}.{zone}"), "type": "A", "ttl": 300,
                        "records": [format!("10.{}.{}.{}", 1 + i / 65536, (i / 256) % 256, i % 256)],
                    });
                    let sent = Instant::now();
                    let answer = conn.post(&path, &body).await?;
                    let took = sent.elapsed();
                    if answer.status != 202 && answer.status != 201 {
                        bail!("POST recordset: {} {}", answer.status, answer.snippet());
                    }
                    latencies.lock().expect("not poisoned").push(took);
                }
                Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    let last = Instant::now();
    // SOA twice, the NS, and the recordsets.
    let want = count + 3;
    let bind = target.bind;
    let served = until(last, timeout, Duration::from_millis(50), async || {
        axfr_records(bind, zone).await >= want
    })
    .await;
    let path = format!("/v2/zones/{zone_id}/recordsets?status=PENDING&limit=1");
    let drained = drain(target, &path, last, timeout).await;
    let latencies = std::mem::take(&mut *latencies.lock().expect("not poisoned"));
    Ok((rate, latencies, (served, drained)))
}

fn print_table(args: &Args, runs: &[(&str, Figures)]) {
    println!(
        "\nSame workload, one after the other; {} with its defaults (serial-query-rate {STOCK_SERIAL_QUERY_RATE}) for both{}.\n",
        bind_version(),
        if args.zone_files {
            "; standalone's bind9 target has a zone_file_dir"
        } else {
            ""
        }
    );
    let names: Vec<&str> = runs.iter().map(|(n, _)| *n).collect();
    let mut header = format!("| figure (latency: p50 / p99) | {} |", names.join(" | "));
    let both = runs.len() == 2;
    if both {
        header.push_str(" standalone better by |");
    }
    println!("{header}");
    println!("|---{}|", "|---".repeat(runs.len() + usize::from(both)));
    let mut order: Vec<&str> = Vec::new();
    let mut by_run: Vec<BTreeMap<&str, Option<Figure>>> = Vec::new();
    for (_, figures) in runs {
        let mut map = BTreeMap::new();
        for (what, figure) in &figures.0 {
            if !order.contains(&what.as_str()) {
                order.push(what);
            }
            map.insert(what.as_str(), *figure);
        }
        by_run.push(map);
    }
    for what in order {
        let cells: Vec<Option<Figure>> = by_run
            .iter()
            .map(|m| m.get(what).copied().flatten())
            .collect();
        let shown: Vec<String> = cells
            .iter()
            .map(|c| c.map_or("-".into(), Figure::show))
            .collect();
        let mut row = format!("| {what} | {} |", shown.join(" | "));
        if both {
            let ratio = match (cells[0], cells[1]) {
                (Some(a), Some(b)) => a.ratio(b).map_or("-".into(), |r| format!("{r:.1}×")),
                _ => "-".into(),
            };
            row.push_str(&format!(" {ratio} |"));
        }
        println!("{row}");
    }
}

fn bind_version() -> String {
    Command::new("/usr/sbin/named")
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
