//! Benchmark of the Designate v2 REST API (`designate-rest`) as
//! `designate-operator standalone` serves it, next to Designate 23's numbers
//! quoted in the issue.
//!
//! Runs the real `designate-operator standalone` (the release build next to
//! this binary; fresh temp data dir, SQLite, quotas raised) and talks to its
//! REST API in noauth mode over loopback HTTP/1.1 with keep-alive: one
//! connection per client, every client of one project (`X-Auth-Project-ID:
//! bench`, `X-Roles: admin`). Phases:
//!
//! 1. zone creates (`POST /v2/zones`): `--single-creates` by 1 client, then
//!    `--multi-creates` by `--clients` clients;
//! 2. recordset creates (`POST /v2/zones/{id}/recordsets`, A records):
//!    `--zone-recordsets` into one new zone with 1 client, then as many into
//!    another zone with 8 clients and with `--clients` clients;
//! 3. lists at the zone count reached so far (about 1,000, as Designate's
//!    numbers), 1 client;
//! 4. scale: the project brought to `--zones` zones and `--recordsets`
//!    recordsets through the Kubernetes API (`kube::Client`s over HTTP,
//!    `--clients` of them, into the project's namespace), then waited for
//!    until the REST API counts them all and none is PENDING any more;
//! 5. lists, `--list-requests` each, with 1 client and then `--clients`:
//!    `GET /v2/zones?limit=20`, `?limit=1000`, `GET /v2/recordsets?limit=1000`,
//!    and a 512-recordset zone's recordsets (default page and `limit=1000`);
//! 6. creates at scale: phases 1 and 2 again (1 and `--clients` clients),
//!    as Central's checks look at the zones there are.
//!
//! Each row starts once no zone or recordset of the project is PENDING (the
//! controllers published the previous row's changes). Latency is from sending the request to the last byte of the answer (the
//! body is not decoded while timed). Every answer that is not 2xx is counted,
//! 5xx apart. Prints markdown tables, with the operator's memory at the end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use clap::Parser;
use designate_e2e::Standalone;
use designate_e2e::bench::{
    Percentiles, Process, cores_split, cpu_mark, cpu_since, http_client, load, mib, ms,
    percentiles, raised_quotas,
};
use designate_e2e::rest_conn::{Conn, settle, total_count, wait_loaded};
use serde_json::{Value, json};

#[derive(Parser, Debug, Clone)]
#[command(about = "Designate v2 REST API benchmark against designate-operator standalone")]
struct Args {
    /// A smoke run: 1,000 zones, 10,000 recordsets, fewer requests.
    #[arg(long)]
    quick: bool,
    /// Concurrent clients of the many-client rows (and of the load).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Zones created one after another by one client.
    #[arg(long, default_value_t = 200)]
    single_creates: usize,
    /// Zones created by `--clients` clients.
    #[arg(long, default_value_t = 1000)]
    multi_creates: usize,
    /// Recordsets created into one zone per row.
    #[arg(long, default_value_t = 500)]
    zone_recordsets: usize,
    /// Zones of the project at scale.
    #[arg(long, default_value_t = 10_000)]
    zones: usize,
    /// Recordsets (besides each zone's SOA and NS) of the project at scale.
    #[arg(long, default_value_t = 100_000)]
    recordsets: usize,
    /// Requests per list row.
    #[arg(long, default_value_t = 200)]
    list_requests: usize,
    /// Requests per list row at the zone count before the load.
    #[arg(long, default_value_t = 50)]
    early_list_requests: usize,
    /// Bound of every wait (for the REST API to see the load, for ACTIVE).
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
}

/// The project (and so the namespace) of every request.
const PROJECT: &str = "bench";
/// Recordsets of the zone whose recordset lists are timed, with its SOA and NS.
const BIG_ZONE_RECORDSETS: usize = 512;
/// The Designate 23 numbers quoted in the issue (this machine kind).
const DESIGNATE_ZONE_CREATE_MS: f64 = 169.0;
const DESIGNATE_RS_RATE_1: f64 = 34.5;
const DESIGNATE_RS_RATE_8: f64 = 23.8;

// ---------------------------------------------------------------- the operator process

// ---------------------------------------------------------------- driver

/// One request a worker makes: method, path and JSON body.
struct Req {
    method: &'static str,
    path: String,
    body: Option<Value>,
}

impl Req {
    fn get(path: impl Into<String>) -> Self {
        Self {
            method: "GET",
            path: path.into(),
            body: None,
        }
    }

    fn post(path: impl Into<String>, body: Value) -> Self {
        Self {
            method: "POST",
            path: path.into(),
            body: Some(body),
        }
    }
}

/// The outcome of one row: `total` requests over `clients` workers.
struct Row {
    label: String,
    clients: usize,
    sent: usize,
    ok: usize,
    non_2xx: usize,
    server_errors: usize,
    transport_errors: usize,
    first_error: Option<String>,
    wall: Duration,
    latency: Percentiles,
    cpu: String,
}

impl Row {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Runs `total` requests spread over `clients` workers (one keep-alive
/// connection each, its share one after another); `make(index)` gives the
/// request of global index `index` (worker `w` makes `w`, `w + clients`, ...).
async fn run_row<F>(
    label: &str,
    addr: SocketAddr,
    operator: Process,
    clients: usize,
    total: usize,
    make: F,
) -> Row
where
    F: Fn(usize) -> Req + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let n = clients.max(1);
    let mark = cpu_mark();
    let ticks = operator.ticks();
    let start = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for w in 0..n {
        let count = total / n + usize::from(w < total % n);
        let make = make.clone();
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr, PROJECT);
            let mut latencies = Vec::with_capacity(count);
            let (mut non_2xx, mut server_errors, mut transport) = (0, 0, 0);
            let mut first_error = None;
            for i in 0..count {
                let req = make(w + i * n);
                let body = req.body.as_ref().map(|b| b.to_string().into_bytes());
                let t = Instant::now();
                match conn.send(req.method, &req.path, body.as_deref()).await {
                    Ok(answer) if (200..300).contains(&answer.status) => {
                        latencies.push(t.elapsed());
                    }
                    Ok(answer) => {
                        non_2xx += 1;
                        if answer.status >= 500 {
                            server_errors += 1;
                        }
                        first_error.get_or_insert_with(|| {
                            format!(
                                "{} {}: {} {}",
                                req.method,
                                req.path,
                                answer.status,
                                answer.snippet()
                            )
                        });
                    }
                    Err(error) => {
                        transport += 1;
                        first_error.get_or_insert_with(|| format!("{error:#}"));
                    }
                }
            }
            (latencies, non_2xx, server_errors, transport, first_error)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let (mut non_2xx, mut server_errors, mut transport) = (0, 0, 0);
    let mut first_error = None;
    for handle in handles {
        match handle.await {
            Ok((l, a, b, c, f)) => {
                latencies.extend(l);
                non_2xx += a;
                server_errors += b;
                transport += c;
                if first_error.is_none() {
                    first_error = f;
                }
            }
            Err(error) => {
                transport += 1;
                first_error.get_or_insert_with(|| format!("worker panicked: {error}"));
            }
        }
    }
    let wall = start.elapsed();
    let cpu = cores_split(cpu_since(mark), operator.ticks().saturating_sub(ticks));
    let ok = latencies.len();
    let row = Row {
        label: label.to_string(),
        clients: n,
        sent: total,
        ok,
        non_2xx,
        server_errors,
        transport_errors: transport,
        first_error,
        wall,
        latency: percentiles(latencies),
        cpu,
    };
    eprintln!(
        "  {label}, {n} client(s): {ok}/{total} ok in {:.2} s ({:.1}/s), p50 {} ms, p99 {} ms, non-2xx {}, 5xx {}, transport errors {}{}",
        wall.as_secs_f64(),
        row.rate(),
        ms(row.latency.p50),
        ms(row.latency.p99),
        row.non_2xx,
        row.server_errors,
        row.transport_errors,
        row.first_error
            .as_deref()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default()
    );
    row
}

// ---------------------------------------------------------------- helpers

fn zone_body(name: &str) -> Value {
    json!({"name": name, "email": "hostmaster@example.com", "ttl": 3600})
}

fn recordset_body(name: &str, i: usize) -> Value {
    json!({
        "name": name,
        "type": "A",
        "ttl": 300,
        "records": [format!("192.0.2.{}", i % 250 + 1)],
    })
}

/// A row of `count` recordset creates by `clients` clients into a new zone,
/// once the zone is published; the zone's id and the row.
async fn recordset_row(
    conn: &mut Conn,
    addr: SocketAddr,
    operator: Process,
    timeout: Duration,
    zone_name: &str,
    clients: usize,
    count: usize,
) -> Result<(String, Row)> {
    let id = create_zone(conn, zone_name).await?;
    settle(conn, timeout).await?;
    let path = format!("/v2/zones/{id}/recordsets");
    let zone_name = zone_name.to_string();
    let row = run_row(
        "POST /v2/zones/{id}/recordsets",
        addr,
        operator,
        clients,
        count,
        move |i| {
            Req::post(
                path.clone(),
                recordset_body(&format!("r{i}.{zone_name}"), i),
            )
        },
    )
    .await;
    Ok((id, row))
}

/// Creates one zone through REST (not timed); its id.
async fn create_zone(conn: &mut Conn, name: &str) -> Result<String> {
    let answer = conn.post("/v2/zones", &zone_body(name)).await?;
    if answer.status != 202 {
        bail!(
            "POST /v2/zones {name}: {} {}",
            answer.status,
            answer.snippet()
        );
    }
    answer.json()["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no id in the answer to POST /v2/zones"))
}

/// A list row's answer checked once before it is timed: items and bytes.
async fn check_list(conn: &mut Conn, path: &str, collection: &str) -> Result<(usize, usize)> {
    let answer = conn.get(path).await?;
    if answer.status != 200 {
        bail!("GET {path}: {} {}", answer.status, answer.snippet());
    }
    let items = answer.json()[collection].as_array().map_or(0, Vec::len);
    Ok((items, answer.body.len()))
}

// ---------------------------------------------------------------- main

fn main() -> Result<()> {
    let mut args = Args::parse();
    if args.quick {
        args.single_creates = args.single_creates.min(50);
        args.multi_creates = args.multi_creates.min(200);
        args.zone_recordsets = args.zone_recordsets.min(100);
        args.zones = args.zones.min(1_000);
        args.recordsets = args.recordsets.min(10_000);
        args.list_requests = args.list_requests.min(40);
        args.early_list_requests = args.early_list_requests.min(10);
    }
    args.clients = args.clients.max(1);
    let tmp = tempfile::Builder::new()
        .prefix("designate-rest-bench-")
        .tempdir()?;
    let data = tmp.path().join("data");
    let quotas = raised_quotas(args.zones);
    let flags: Vec<&str> = quotas.iter().map(String::as_str).collect();
    let standalone = Standalone::try_start_with(&data, &flags)?;
    let rest = standalone.wait_rest_url();
    let operator = Process::standalone_on(&data)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(&args, &standalone, &rest, operator));
    drop(standalone);
    result
}

async fn run(args: &Args, standalone: &Standalone, rest: &str, operator: Process) -> Result<()> {
    let started = Instant::now();
    let addr: SocketAddr = rest
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("REST URL {rest} is not http://"))?
        .parse()?;
    let c = args.clients;
    let mut memory = vec![("operator started".to_string(), operator.memory())];
    let timeout = Duration::from_secs(args.timeout_secs);
    let mut conn = Conn::new(addr, PROJECT);
    // Warm-up (the project's namespace is created on its first write).
    create_zone(&mut conn, "warm.rest.example.com.").await?;
    conn.get("/v2/zones?limit=1").await?;
    settle(&mut conn, timeout).await?;
    let mut rows = Vec::new();

    eprintln!("zone creates");
    let creates_1 = run_row(
        "POST /v2/zones",
        addr,
        operator,
        1,
        args.single_creates,
        |i| Req::post("/v2/zones", zone_body(&format!("s{i}.rest.example.com."))),
    )
    .await;
    settle(&mut conn, timeout).await?;
    let creates_n = run_row(
        "POST /v2/zones",
        addr,
        operator,
        c,
        args.multi_creates,
        |i| Req::post("/v2/zones", zone_body(&format!("m{i}.rest.example.com."))),
    )
    .await;
    let mut recordsets_made = 0;

    eprintln!("recordset creates");
    let mut rs_rows = Vec::new();
    let mut big_zone = None;
    for clients in [1, 8, c] {
        let zone_name = format!("rs{clients}.rest.example.com.");
        let (id, row) = recordset_row(
            &mut conn,
            addr,
            operator,
            timeout,
            &zone_name,
            clients,
            args.zone_recordsets,
        )
        .await?;
        let path = format!("/v2/zones/{id}/recordsets");
        recordsets_made += row.ok;
        if clients == 1 {
            // Up to 512 recordsets with its SOA and NS, for the list rows.
            let zone_name = format!("rs{clients}.rest.example.com.");
            for i in row.ok..BIG_ZONE_RECORDSETS.saturating_sub(2) {
                let answer = conn
                    .post(&path, &recordset_body(&format!("x{i}.{zone_name}"), i))
                    .await?;
                if answer.status != 202 {
                    bail!("POST {path}: {} {}", answer.status, answer.snippet());
                }
                recordsets_made += 1;
            }
            big_zone = Some(id);
        }
        rs_rows.push(row);
    }
    let big_zone = big_zone.expect("the 1-client zone");
    rows.push(creates_1);
    rows.push(creates_n);
    rows.extend(rs_rows);
    memory.push(("after the creates".into(), operator.memory()));

    // Lists at the zone count so far, next to Designate's "with 1,000 zones".
    settle(&mut conn, timeout).await?;
    let early_zones = total_count(&mut conn, "/v2/zones?limit=1").await?;
    eprintln!("lists at {early_zones} zones");
    let big_rs = format!("/v2/zones/{big_zone}/recordsets");
    let early_paths = [
        ("/v2/zones?limit=20".to_string(), "zones"),
        ("/v2/zones?limit=1000".to_string(), "zones"),
        (big_rs.clone(), "recordsets"),
        (format!("{big_rs}?limit=1000"), "recordsets"),
    ];
    let mut early = Vec::new();
    for (path, collection) in &early_paths {
        let (items, bytes) = check_list(&mut conn, path, collection).await?;
        let p = path.clone();
        let row = run_row(
            &format!("GET {}", path.replace(&big_zone, "{id}")),
            addr,
            operator,
            1,
            args.early_list_requests,
            move |_| Req::get(p.clone()),
        )
        .await;
        early.push((row, items, bytes));
    }

    // The load, through the Kubernetes API into the project's namespace.
    let zones_now = early_zones as usize;
    let load_zones = args.zones.saturating_sub(zones_now);
    let load_recordsets = args.recordsets.saturating_sub(recordsets_made);
    eprintln!(
        "load: {load_zones} zones and {load_recordsets} recordsets through the Kubernetes API"
    );
    let mut kube_clients = Vec::new();
    for _ in 0..c {
        kube_clients.push(http_client(&standalone.url(), PROJECT).await?);
    }
    let load_start = Instant::now();
    let ticks = operator.ticks();
    let mark = cpu_mark();
    let base = load_recordsets.checked_div(load_zones).unwrap_or(0);
    let extra = load_recordsets.checked_rem(load_zones).unwrap_or(0);
    let load = load(&kube_clients, PROJECT, load_zones, load_recordsets).await;
    let load_sent = load_start.elapsed();
    eprintln!(
        "  sent in {:.1} s ({} zones ok, {} errors{})",
        load_sent.as_secs_f64(),
        load.ok,
        load.errors,
        load.first_error
            .as_deref()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default()
    );
    drop(kube_clients);
    let want_zones = (zones_now + load.ok) as u64;
    let want_recordsets =
        (recordsets_made + load.ok * base + extra.min(load.ok)) as u64 + 2 * want_zones;
    let (seen_at, settled) = wait_loaded(
        &mut conn,
        (want_zones, want_recordsets),
        load_start,
        Duration::from_secs(args.timeout_secs),
    )
    .await?;
    let load_cpu = cores_split(cpu_since(mark), operator.ticks().saturating_sub(ticks));
    eprintln!("  all ACTIVE after {:.1} s", settled.as_secs_f64());
    memory.push(("after the load, all ACTIVE".into(), operator.memory()));
    let zones_total = total_count(&mut conn, "/v2/zones?limit=1").await?;
    let recordsets_total = total_count(&mut conn, "/v2/recordsets?limit=1").await?;

    // Lists at scale.
    eprintln!("lists at {zones_total} zones, {recordsets_total} recordsets");
    // The last row (1 client only) tells the cost of the whole cross-zone
    // list apart from rendering 1,000 items.
    let paths = [
        ("/v2/zones?limit=20".to_string(), "zones"),
        ("/v2/zones?limit=1000".to_string(), "zones"),
        ("/v2/recordsets?limit=1000".to_string(), "recordsets"),
        (big_rs.clone(), "recordsets"),
        (format!("{big_rs}?limit=1000"), "recordsets"),
        ("/v2/recordsets?limit=20".to_string(), "recordsets"),
    ];
    let mut lists = Vec::new();
    for clients in [1, c] {
        for (index, (path, collection)) in paths.iter().enumerate() {
            let diagnostic = index == paths.len() - 1;
            if diagnostic && clients != 1 {
                continue;
            }
            let requests = if diagnostic {
                (args.list_requests / 4).max(1)
            } else {
                args.list_requests
            };
            let (items, bytes) = check_list(&mut conn, path, collection).await?;
            let p = path.clone();
            let row = run_row(
                &format!("GET {}", path.replace(&big_zone, "{id}")),
                addr,
                operator,
                clients,
                requests,
                move |_| Req::get(p.clone()),
            )
            .await;
            lists.push((row, items, bytes));
        }
    }

    // Creates again at scale: Central's checks look at every zone.
    eprintln!("creates at {zones_total} zones");
    let mut scale_rows = Vec::new();
    for (clients, count) in [(1, args.single_creates), (c, args.multi_creates)] {
        settle(&mut conn, timeout).await?;
        let row = run_row("POST /v2/zones", addr, operator, clients, count, move |i| {
            Req::post(
                "/v2/zones",
                zone_body(&format!("scale{clients}-{i}.rest.example.com.")),
            )
        })
        .await;
        scale_rows.push(row);
    }
    for clients in [1, c] {
        let zone_name = format!("scale-rs{clients}.rest.example.com.");
        let (_, row) = recordset_row(
            &mut conn,
            addr,
            operator,
            timeout,
            &zone_name,
            clients,
            args.zone_recordsets,
        )
        .await?;
        scale_rows.push(row);
    }
    memory.push(("at the end".into(), operator.memory()));

    // ------------------------------------------------------------ report
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("## REST API benchmark (rest_bench)\n");
    println!(
        "designate-operator standalone (SQLite, release) and this client on loopback, {cores} cores; project `{PROJECT}` (noauth, admin); one keep-alive HTTP/1.1 connection per client. Latency: request sent → last byte of the answer. CPU: average cores used by this process / by designate-operator / by everything else.\n"
    );
    println!("### Creates\n");
    println!(
        "| Request | Clients | Sent | 2xx | non-2xx | 5xx | transport errors | Wall (s) | req/s | p50 (ms) | p99 (ms) | max (ms) | CPU cores bench / operator / other |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        print_row(row);
    }
    for row in rows.iter().chain(&scale_rows) {
        if let Some(error) = &row.first_error {
            println!(
                "\nFirst error of {} ({} clients): {error}",
                row.label, row.clients
            );
        }
    }
    println!("\n### Lists at {early_zones} zones (before the load; 1 client)\n");
    print_list_header();
    for (row, items, bytes) in &early {
        print_list_row(row, *items, *bytes);
    }
    println!(
        "\n### Load through the Kubernetes API ({c} clients)\n\n{} zones with {} recordsets created in {:.1} s ({} errors{}); the REST API counted them all after {:.1} s; all ACTIVE (no zone or recordset PENDING) after {:.1} s. CPU cores bench / operator / other: {load_cpu}. Totals then: {zones_total} zones, {recordsets_total} recordsets with SOA and NS.",
        load.ok,
        load.ok * base + extra.min(load.ok),
        load_sent.as_secs_f64(),
        load.errors,
        load.first_error
            .as_deref()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default(),
        seen_at.as_secs_f64(),
        settled.as_secs_f64()
    );
    println!(
        "\n### Lists at {zones_total} zones and {recordsets_total} recordsets ({} requests per row; {} for `?limit=20` of all recordsets)\n",
        args.list_requests,
        (args.list_requests / 4).max(1)
    );
    print_list_header();
    for (row, items, bytes) in &lists {
        print_list_row(row, *items, *bytes);
    }
    for (row, _, _) in early.iter().chain(&lists) {
        if let Some(error) = &row.first_error {
            println!(
                "\nFirst error of {} ({} clients): {error}",
                row.label, row.clients
            );
        }
    }
    println!("\n### Creates at {zones_total} zones and {recordsets_total} recordsets\n");
    println!(
        "| Request | Clients | Sent | 2xx | non-2xx | 5xx | transport errors | Wall (s) | req/s | p50 (ms) | p99 (ms) | max (ms) | CPU cores bench / operator / other |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &scale_rows {
        print_row(row);
    }
    println!("\n### Memory of designate-operator\n");
    println!("| Point | VmRSS (MiB) | VmHWM (MiB) |\n|---|---:|---:|");
    for (point, (rss, hwm)) in &memory {
        println!("| {point} | {} | {} |", mib(*rss), mib(*hwm));
    }

    // Against Designate.
    let find = |label: &str, clients: usize| {
        rows.iter()
            .find(|r| r.label == label && r.clients == clients)
    };
    let list_at = |label: &str, clients: usize| {
        lists
            .iter()
            .find(|(r, _, _)| r.label == label && r.clients == clients)
            .map(|(r, _, _)| r)
    };
    let early_at = |label: &str| {
        early
            .iter()
            .find(|(r, _, _)| r.label == label)
            .map(|(r, _, _)| r)
    };
    let lat = |r: Option<&Row>| {
        r.map_or("n/a".into(), |r| {
            format!("{} / {}", ms(r.latency.p50), ms(r.latency.p99))
        })
    };
    let rate = |r: Option<&Row>| r.map_or("n/a".into(), |r| format!("{:.0}", r.rate()));
    let errs = |r: Option<&Row>| {
        r.map_or("n/a".into(), |r| {
            format!("{} / {}", r.non_2xx, r.server_errors)
        })
    };
    println!("\n### Next to Designate 23 (its numbers as quoted in the issue)\n");
    println!(
        "| Measure | Designate 23 | here: p50 / p99 (ms) | here: req/s | non-2xx / 5xx | aim |\n|---|---|---|---:|---|---|"
    );
    let zc = "POST /v2/zones";
    let rc = "POST /v2/zones/{id}/recordsets";
    println!(
        "| zone create, 1 client | {DESIGNATE_ZONE_CREATE_MS} ms median ({:.1}/s) | {} | {} | {} | ≥ {:.0}/s |",
        1e3 / DESIGNATE_ZONE_CREATE_MS,
        lat(find(zc, 1)),
        rate(find(zc, 1)),
        errs(find(zc, 1)),
        10.0 * 1e3 / DESIGNATE_ZONE_CREATE_MS
    );
    println!(
        "| zone create, {c} clients | — | {} | {} | {} | more than 1 client |",
        lat(find(zc, c)),
        rate(find(zc, c)),
        errs(find(zc, c))
    );
    println!(
        "| recordset create, 1 client, one zone | 34.5/s, 27 ms median | {} | {} | {} | ≥ {:.0}/s |",
        lat(find(rc, 1)),
        rate(find(rc, 1)),
        errs(find(rc, 1)),
        DESIGNATE_RS_RATE_1 * 10.0
    );
    println!(
        "| recordset create, 8 clients, one zone | 23.8/s, 245 ms median | {} | {} | {} | ≥ {:.0}/s, more than 1 client |",
        lat(find(rc, 8)),
        rate(find(rc, 8)),
        errs(find(rc, 8)),
        DESIGNATE_RS_RATE_8 * 10.0
    );
    println!(
        "| recordset create, {c} clients, one zone | — | {} | {} | {} | more than 8 clients |",
        lat(find(rc, c)),
        rate(find(rc, c)),
        errs(find(rc, c))
    );
    println!(
        "| `GET /v2/zones?limit=20`, {early_zones} zones, 1 client | 59 ms (1,000 zones) | {} | {} | {} | |",
        lat(early_at("GET /v2/zones?limit=20")),
        rate(early_at("GET /v2/zones?limit=20")),
        errs(early_at("GET /v2/zones?limit=20"))
    );
    println!(
        "| `GET /v2/zones?limit=1000`, {early_zones} zones, 1 client | 2.13 s (1,000 zones) | {} | {} | {} | |",
        lat(early_at("GET /v2/zones?limit=1000")),
        rate(early_at("GET /v2/zones?limit=1000")),
        errs(early_at("GET /v2/zones?limit=1000"))
    );
    for clients in [1, c] {
        for (label, designate, aim) in [
            ("GET /v2/zones?limit=20", "59 ms (1,000 zones)", ""),
            (
                "GET /v2/zones?limit=1000",
                "2.13 s (1,000 zones)",
                "p99 < 50 ms",
            ),
            ("GET /v2/recordsets?limit=1000", "—", "p99 < 50 ms"),
            ("GET /v2/zones/{id}/recordsets", "43 ms", ""),
            (
                "GET /v2/zones/{id}/recordsets?limit=1000",
                "568 ms",
                "p99 < 50 ms",
            ),
        ] {
            let r = list_at(label, clients);
            println!(
                "| `{}`, {zones_total} zones, {clients} client(s) | {designate} | {} | {} | {} | {aim} |",
                label.trim_start_matches("GET "),
                lat(r),
                rate(r),
                errs(r)
            );
        }
    }
    let all_5xx: usize = rows
        .iter()
        .chain(early.iter().map(|(r, _, _)| r))
        .chain(lists.iter().map(|(r, _, _)| r))
        .chain(&scale_rows)
        .map(|r| r.server_errors)
        .sum();
    let all_non2xx: usize = rows
        .iter()
        .chain(early.iter().map(|(r, _, _)| r))
        .chain(lists.iter().map(|(r, _, _)| r))
        .chain(&scale_rows)
        .map(|r| r.non_2xx + r.transport_errors)
        .sum();
    println!(
        "\n5xx answers in all timed rows: {all_5xx}; non-2xx answers and transport errors: {all_non2xx}."
    );
    println!("\nTotal run time: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn print_row(row: &Row) {
    println!(
        "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.1} | {} | {} | {} | {} |",
        row.label,
        row.clients,
        row.sent,
        row.ok,
        row.non_2xx,
        row.server_errors,
        row.transport_errors,
        row.wall.as_secs_f64(),
        row.rate(),
        ms(row.latency.p50),
        ms(row.latency.p99),
        ms(row.latency.max),
        row.cpu
    );
}

fn print_list_header() {
    println!(
        "| Request | Clients | Items | KiB | Sent | 200 | non-2xx | 5xx | req/s | p50 (ms) | p99 (ms) | max (ms) | CPU cores bench / operator / other |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
}

fn print_list_row(row: &Row, items: usize, bytes: usize) {
    println!(
        "| `{}` | {} | {} | {:.0} | {} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
        row.label,
        row.clients,
        items,
        bytes as f64 / 1024.0,
        row.sent,
        row.ok,
        row.non_2xx + row.transport_errors,
        row.server_errors,
        row.rate(),
        ms(row.latency.p50),
        ms(row.latency.p99),
        ms(row.latency.max),
        row.cpu
    );
}
