//! Scale and footprint of `designate-operator standalone` (issue 19): one
//! process holding `--zones` zones and `--recordsets` recordsets.
//!
//! Runs the release `designate-operator standalone` (fresh data dir; SQLite,
//! or `--database-url` for MariaDB/PostgreSQL; quotas raised) and:
//!
//! 1. loads the zones and recordsets through the Kubernetes API
//!    (`--clients` `kube::Client`s over loopback HTTP) and waits until the
//!    REST API counts them all and none is PENDING;
//! 2. times `GET /v2/zones?limit=1000` and `GET /v2/recordsets?limit=1000`
//!    (1 client, keep-alive) and a change's latency to ACTIVE (a recordset
//!    created by REST into a loaded zone, polled until ACTIVE);
//! 3. kills the process (`kill -9`) and starts it again on the same data:
//!    time until the API answers, until the REST API counts everything
//!    again, and until the Zone controller reconciled every zone (its
//!    reconcile counter in `/metrics`), with its writes to the API then
//!    (none expected: nothing changed);
//! 4. the operator's resident memory at each point.
//!
//! Prints markdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use designate_e2e::Standalone;
use designate_e2e::bench::{
    Percentiles, Process, http_client, load, mib, ms, percentiles, raised_quotas,
};
use designate_e2e::rest_conn::{Conn, total_count, wait_loaded};
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Scale and memory of designate-operator standalone")]
struct Args {
    /// Zones loaded.
    #[arg(long, default_value_t = 10_000)]
    zones: usize,
    /// Recordsets loaded (besides each zone's SOA and NS), spread evenly.
    #[arg(long, default_value_t = 100_000)]
    recordsets: usize,
    /// Concurrent clients of the load.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Requests per list row.
    #[arg(long, default_value_t = 200)]
    list_requests: usize,
    /// Changes timed to ACTIVE.
    #[arg(long, default_value_t = 50)]
    changes: usize,
    /// The operator's database (default: SQLite in the data dir).
    #[arg(long)]
    database_url: Option<String>,
    /// Bound of every wait, in seconds.
    #[arg(long, default_value_t = 3600)]
    timeout_secs: u64,
    /// Seconds idle after the lists and changes before memory is read once
    /// more (the watch history keeps 75 s of events; 0: not read).
    #[arg(long, default_value_t = 90)]
    idle_secs: u64,
}

/// The project (and namespace) of everything loaded.
const PROJECT: &str = "bench";

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = tempfile::Builder::new()
        .prefix("designate-scale-bench-")
        .tempdir()?;
    let data = tmp.path().join("data");
    let mut flags = raised_quotas(args.zones);
    if let Some(url) = &args.database_url {
        flags.extend(["--database-url".to_string(), url.clone()]);
    }
    let extra: Vec<&str> = flags.iter().map(String::as_str).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&args, &data, &extra))
}

fn rest_addr(standalone: &Standalone) -> Result<SocketAddr> {
    let rest = standalone.wait_rest_url();
    rest.strip_prefix("http://")
        .ok_or_else(|| anyhow!("REST URL {rest} is not http://"))?
        .parse()
        .context("the REST address")
}

async fn run(args: &Args, data: &std::path::Path, extra: &[&str]) -> Result<()> {
    let timeout = Duration::from_secs(args.timeout_secs);
    let mut standalone = Standalone::try_start_with(data, extra)?;
    let mut operator = Process::standalone_on(data)?;
    let mut memory = vec![("started, empty", operator.memory())];
    let addr = rest_addr(&standalone)?;
    let mut conn = Conn::new(addr, PROJECT);
    // The project's namespace is made by its first REST write.
    let warm = conn
        .post(
            "/v2/zones",
            &json!({"name": "warm.scale.example.com.", "email": "a@example.com"}),
        )
        .await?;
    if warm.status != 202 {
        bail!("POST /v2/zones: {} {}", warm.status, warm.snippet());
    }

    // 1. The load.
    eprintln!(
        "load: {} zones and {} recordsets through the Kubernetes API",
        args.zones, args.recordsets
    );
    let mut clients = Vec::new();
    for _ in 0..args.clients.max(1) {
        clients.push(http_client(&standalone.url(), PROJECT).await?);
    }
    let n = clients.len();
    let load_start = Instant::now();
    let load = load(&clients, PROJECT, args.zones, args.recordsets).await;
    drop(clients);
    let sent = load_start.elapsed();
    if load.errors > 0 {
        bail!(
            "{} load errors; first: {}",
            load.errors,
            load.first_error.unwrap_or_default()
        );
    }
    let zones = args.zones as u64 + 1;
    let recordsets = args.recordsets as u64 + 2 * zones;
    let (counted, settled) =
        wait_loaded(&mut conn, (zones, recordsets), load_start, timeout).await?;
    memory.push(("loaded, all ACTIVE", operator.memory()));

    // 2. Lists and a change at scale.
    eprintln!("lists and changes");
    let mut lists = Vec::new();
    for path in ["/v2/zones?limit=1000", "/v2/recordsets?limit=1000"] {
        lists.push((path, timed_gets(&mut conn, path, args.list_requests).await?));
    }
    let change = change_latency(&mut conn, args.changes, timeout).await?;
    memory.push(("after lists and changes", operator.memory()));
    if args.idle_secs > 0 {
        tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
        memory.push(("after that, idle for --idle-secs", operator.memory()));
    }

    // 3. A crash and a restart on the same data.
    eprintln!("kill -9 and restart");
    standalone.kill();
    let restart_start = Instant::now();
    standalone = Standalone::try_start_with(data, extra)?;
    let api_ready = restart_start.elapsed();
    operator = Process::standalone_on(data)?;
    let mut conn = Conn::new(rest_addr(&standalone)?, PROJECT);
    let rest_counts = wait_counted(&mut conn, zones, restart_start, timeout).await?;
    let kube_addr: SocketAddr = standalone.addr();
    let (reconciled, writes) = wait_reconciled(kube_addr, zones, restart_start, timeout).await?;
    memory.push(("restarted, every zone reconciled", operator.memory()));
    let mut after = Vec::new();
    for path in ["/v2/zones?limit=1000", "/v2/recordsets?limit=1000"] {
        after.push((path, timed_gets(&mut conn, path, args.list_requests).await?));
    }
    memory.push(("restarted, after lists", operator.memory()));
    drop(standalone);

    // ------------------------------------------------------------ report
    let database = args
        .database_url
        .as_deref()
        .and_then(|u| u.split(':').next())
        .unwrap_or("sqlite");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("## Scale and footprint (scale_bench)\n");
    println!(
        "designate-operator standalone (release, {database}) and this client on loopback, {cores} cores; {} zones and {} recordsets (plus each zone's SOA and NS) in project `{PROJECT}`.\n",
        args.zones, args.recordsets
    );
    println!("| Step | Result |\n|---|---|");
    println!(
        "| Load through the Kubernetes API ({n} clients) | sent in {:.1} s ({:.0} objects/s); REST counts all after {:.1} s; all ACTIVE after {:.1} s |",
        sent.as_secs_f64(),
        (args.zones + args.recordsets) as f64 / sent.as_secs_f64(),
        counted.as_secs_f64(),
        settled.as_secs_f64()
    );
    println!(
        "| A change (recordset POST) to ACTIVE, {} changes | p50 {} ms, p99 {} ms |",
        args.changes,
        ms(change.p50),
        ms(change.p99)
    );
    println!(
        "| Restart after `kill -9` | API answers after {:.1} s; REST counts all after {:.1} s; every zone reconciled after {:.1} s ({:.0} reconciles/s), {writes} API writes by the Zone controller |",
        api_ready.as_secs_f64(),
        rest_counts.as_secs_f64(),
        reconciled.as_secs_f64(),
        zones as f64 / reconciled.as_secs_f64()
    );
    println!(
        "\n| List (1 client) | Before restart p50 / p99 (ms) | After restart p50 / p99 (ms) |"
    );
    println!("|---|---:|---:|");
    for ((path, before), (_, after)) in lists.iter().zip(&after) {
        println!(
            "| `GET {path}` | {} / {} | {} / {} |",
            ms(before.p50),
            ms(before.p99),
            ms(after.p50),
            ms(after.p99)
        );
    }
    println!("\n| Point | VmRSS (MiB) | VmHWM (MiB) |\n|---|---:|---:|");
    for (point, (rss, hwm)) in &memory {
        println!("| {point} | {} | {} |", mib(*rss), mib(*hwm));
    }
    Ok(())
}

/// `count` GETs of `path`, each checked 200, timed.
async fn timed_gets(conn: &mut Conn, path: &str, count: usize) -> Result<Percentiles> {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        let answer = conn.get(path).await?;
        samples.push(start.elapsed());
        if answer.status != 200 {
            bail!("GET {path}: {} {}", answer.status, answer.snippet());
        }
    }
    Ok(percentiles(samples))
}

/// Recordsets created one after another into a loaded zone, each polled
/// until ACTIVE: creation to ACTIVE.
async fn change_latency(conn: &mut Conn, changes: usize, timeout: Duration) -> Result<Percentiles> {
    let listed = conn.get("/v2/zones?name=z0.load.example.com.").await?;
    let zone = listed.json()["zones"][0]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("zone z0 not found: {}", listed.snippet()))?;
    let mut samples = Vec::with_capacity(changes);
    for i in 0..changes {
        let start = Instant::now();
        let body = json!({"name": format!("change{i}.z0.load.example.com."), "type": "A", "records": ["192.0.2.7"]});
        let created = conn
            .post(&format!("/v2/zones/{zone}/recordsets"), &body)
            .await?;
        if created.status != 202 {
            bail!("POST recordset: {} {}", created.status, created.snippet());
        }
        let id = created.json()["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let path = format!("/v2/zones/{zone}/recordsets/{id}");
        loop {
            let shown = conn.get(&path).await?;
            if shown.json()["status"] == "ACTIVE" {
                break;
            }
            if start.elapsed() > timeout {
                bail!("recordset {id} not ACTIVE after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(start.elapsed());
    }
    Ok(percentiles(samples))
}

/// Waits until the REST API counts `zones` zones again; when, from `start`.
async fn wait_counted(
    conn: &mut Conn,
    zones: u64,
    start: Instant,
    timeout: Duration,
) -> Result<Duration> {
    loop {
        if total_count(conn, "/v2/zones?limit=1").await.ok() >= Some(zones) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            bail!("the REST API did not count {zones} zones within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the Zone controller's reconciles (any outcome) reach
/// `zones`; when, from `start`, and its API writes then.
async fn wait_reconciled(
    kube: SocketAddr,
    zones: u64,
    start: Instant,
    timeout: Duration,
) -> Result<(Duration, u64)> {
    let mut conn = Conn::new(kube, PROJECT);
    loop {
        let metrics = String::from_utf8_lossy(&conn.get("/metrics").await?.body).into_owned();
        let reconciles = sum_of(
            &metrics,
            "designate_controller_reconciles_total{controller=\"zone\"",
        );
        if reconciles >= zones {
            let writes = sum_of(
                &metrics,
                "designate_controller_api_writes_total{controller=\"zone\"",
            );
            return Ok((start.elapsed(), writes));
        }
        if start.elapsed() > timeout {
            bail!("{reconciles} of {zones} zones reconciled within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The sum of the samples whose line starts with `prefix`.
fn sum_of(metrics: &str, prefix: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}
