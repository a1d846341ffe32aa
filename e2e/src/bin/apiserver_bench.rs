//! Benchmark of the embedded control plane (`designate-apiserver`).
//!
//! The server runs in this process, on a fresh temporary data dir, and is
//! spoken to over loopback HTTP by real `kube::Client`s built from a
//! kubeconfig, one client (with its own connection pool) per concurrent
//! worker. It measures:
//!
//! * creates/s and updates/s (merge patch and replace) with 1, 8 and 64
//!   concurrent clients, with per-request latency p50/p99;
//! * watch-event latency (one `kube::runtime::watcher`) while 1, 8 and 64
//!   clients create zones: the time from just before the create call to the
//!   watcher receiving the ADDED event;
//! * the load rate of 100k zones, list latency (paginated by 500 as
//!   kube-runtime does, unpaginated, and one namespace page of 20), and the
//!   RSS of this process (server and clients together) before and after.
//!
//! Each measurement (writes, watch, load) runs in a child process of its
//! own, so that one does not inherit the heap of another (the 100k-object
//! lists leave a large, fragmented heap behind), and so that the memory
//! figures are those of a process holding just that server and its clients.
//!
//! Each measured phase also records the CPU this process used and the CPU
//! the rest of the machine used meanwhile (from /proc), so that a run
//! disturbed by other work shows it. `--in-process` swaps the loopback
//! HTTP clients for `kube::Client`s over the server's tower router (no TCP),
//! to tell the cost of the transport from the server's.
//!
//! Prints markdown tables to stdout. Every loop is bounded; everything stays
//! on 127.0.0.1.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use designate_apiserver::{ApiServer, Config};
use designate_crd::{Zone, ZoneSpec};
use designate_e2e::bench::{
    CpuUse, Percentiles, Phase, cores, cpu_mark, cpu_since, drive, http_client, memory, mib, ms,
    percentiles,
};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

#[derive(Parser, Debug, Clone)]
#[command(about = "Throughput, latency and memory of the embedded control plane")]
struct Args {
    /// Zones loaded for the list and memory measurements.
    #[arg(long, default_value_t = 100_000)]
    objects: usize,
    /// Writes per operation and client count (creates, patches, replaces, watched creates).
    #[arg(long, default_value_t = 3_000)]
    writes: usize,
    /// Concurrent clients of the write and watch measurements.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 8, 64])]
    clients: Vec<usize>,
    /// Concurrent clients loading the objects.
    #[arg(long, default_value_t = 64)]
    load_clients: usize,
    /// Namespaces the loaded objects are spread over.
    #[arg(long, default_value_t = 100)]
    namespaces: usize,
    /// Runs of each list measurement.
    #[arg(long, default_value_t = 20)]
    list_runs: usize,
    /// Which measurements to run.
    #[arg(long, value_delimiter = ',', default_values_t = vec![Part::Load, Part::Writes, Part::Watch])]
    phases: Vec<Part>,
    /// Clients call the server's router in-process instead of over loopback HTTP (diagnostic).
    #[arg(long)]
    in_process: bool,
    /// Run all measurements in this process instead of one child process per measurement.
    #[arg(long)]
    single_process: bool,
    /// Internal: this is the child process of one measurement.
    #[arg(long, hide = true)]
    child: bool,
    /// Small numbers for a smoke run (overrides the above).
    #[arg(long)]
    quick: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Load of `--objects` zones, lists, memory.
    Load,
    /// Creates, merge patches and replaces.
    Writes,
    /// Watch-event latency.
    Watch,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Load => "load",
            Part::Writes => "writes",
            Part::Watch => "watch",
        })
    }
}

const NS: &str = "default";
/// How long the watcher may lag behind the last write before events count as missed.
const WATCH_GRACE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- helpers

/// A control plane on a fresh data dir, served on an ephemeral loopback port.
struct Server {
    api: ApiServer,
    in_process: bool,
    url: String,
    dir: tempfile::TempDir,
    serve: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(in_process: bool) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let server = ApiServer::open(Config::new(dir.path())).await?;
        server.install_crds(&designate_crd::crds()).await?;
        let addr: SocketAddr = "127.0.0.1:0".parse()?;
        let (local, serve) = server.bind(addr, None).await?;
        let serve = tokio::spawn(serve);
        Ok(Self {
            api: server,
            in_process,
            url: format!("http://{local}"),
            dir,
            serve,
        })
    }

    /// A client with its own connection pool, built from a kubeconfig (or,
    /// with `--in-process`, a client calling the router directly).
    async fn client(&self) -> Result<Client> {
        if self.in_process {
            return Ok(Client::new(self.api.router(), NS));
        }
        http_client(&self.url, NS).await
    }

    async fn clients(&self, n: usize) -> Result<Vec<Client>> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.client().await?);
        }
        Ok(out)
    }

    fn disk_bytes(&self) -> u64 {
        dir_bytes(self.dir.path())
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn zone(name: &str, fqdn: &str, ttl: i32) -> Zone {
    let mut zone = Zone::new(
        name,
        ZoneSpec {
            name: fqdn.to_string(),
            email: Some("hostmaster@example.com".to_string()),
            ttl: Some(ttl),
            ..ZoneSpec::default()
        },
    );
    zone.metadata.labels = Some([("bench".to_string(), "apiserver".to_string())].into());
    zone
}

fn name_of(prefix: &str, clients: usize, worker: usize, i: usize) -> String {
    format!("{prefix}-c{clients}-w{worker}-{i}")
}

fn fqdn_of(prefix: &str, clients: usize, worker: usize, i: usize) -> String {
    format!("z{i}.w{worker}.c{clients}.{prefix}.bench.example.com.")
}

// ---------------------------------------------------------------- writes

struct WriteRow {
    operation: &'static str,
    phase: Phase,
}

/// Creates, merge patches and replaces `writes` zones per client count.
async fn bench_writes(server: &Server, args: &Args) -> Result<Vec<WriteRow>> {
    let mut rows = Vec::new();
    for &c in &args.clients {
        let clients = server.clients(c).await?;
        // Latest object per name, for replace (which needs the resourceVersion).
        let latest: Arc<Mutex<HashMap<String, Zone>>> = Arc::default();

        let phase = drive(&clients, args.writes, move |client, w, i| async move {
            let api = Api::<Zone>::namespaced(client, NS);
            let z = zone(&name_of("cr", c, w, i), &fqdn_of("cr", c, w, i), 3600);
            api.create(&PostParams::default(), &z).await?;
            Ok(())
        })
        .await;
        rows.push(WriteRow {
            operation: "create",
            phase,
        });

        let store = latest.clone();
        let phase = drive(&clients, args.writes, move |client, w, i| {
            let store = store.clone();
            async move {
                let api = Api::<Zone>::namespaced(client, NS);
                let name = name_of("cr", c, w, i);
                let patch = json!({"spec": {"ttl": 600 + i}});
                let zone = api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
                store.lock().expect("not poisoned").insert(name, zone);
                Ok(())
            }
        })
        .await;
        rows.push(WriteRow {
            operation: "update (merge patch)",
            phase,
        });

        let store = latest.clone();
        let phase = drive(&clients, args.writes, move |client, w, i| {
            let store = store.clone();
            async move {
                let api = Api::<Zone>::namespaced(client, NS);
                let name = name_of("cr", c, w, i);
                let mut zone = store
                    .lock()
                    .expect("not poisoned")
                    .remove(&name)
                    .with_context(|| format!("{name} was not patched"))?;
                zone.spec.ttl = Some(1200 + i as i32);
                api.replace(&name, &PostParams::default(), &zone).await?;
                Ok(())
            }
        })
        .await;
        rows.push(WriteRow {
            operation: "update (replace)",
            phase,
        });
        eprintln!("writes with {c} clients done");
    }
    Ok(rows)
}

// ---------------------------------------------------------------- watch

struct WatchRow {
    writers: usize,
    over_10ms: usize,
    sent: usize,
    received: usize,
    latency: Percentiles,
    writes: Phase,
}

type Pending = Arc<Mutex<HashMap<String, Instant>>>;

/// One watcher on the zones of `default`; writers create zones, stamping
/// the time just before the call; latency is the time the watcher gets
/// the ADDED event minus that stamp.
async fn bench_watch(server: &Server, args: &Args) -> Result<Vec<WatchRow>> {
    let pending: Pending = Arc::default();
    let received: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let watch_client = server.client().await?;
    let watch_task = {
        let pending = pending.clone();
        let received = received.clone();
        tokio::spawn(async move {
            let api = Api::<Zone>::namespaced(watch_client, NS);
            let mut stream = std::pin::pin!(watcher(api, watcher::Config::default()));
            let mut ready = Some(ready_tx);
            while let Some(event) = stream.next().await {
                let now = Instant::now();
                match event {
                    Ok(watcher::Event::Apply(zone)) => {
                        let sent = pending
                            .lock()
                            .expect("not poisoned")
                            .remove(&zone.name_any());
                        if let Some(sent) = sent {
                            received.lock().expect("not poisoned").push(now - sent);
                        }
                    }
                    Ok(watcher::Event::InitDone) => {
                        if let Some(ready) = ready.take() {
                            let _ = ready.send(());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("watcher error: {e}"),
                }
            }
        })
    };
    tokio::time::timeout(Duration::from_secs(60), ready_rx)
        .await
        .context("watcher did not finish its initial list")??;

    let mut rows = Vec::new();
    for &c in &args.clients {
        let clients = server.clients(c).await?;
        received.lock().expect("not poisoned").clear();
        let stamps = pending.clone();
        let writes = drive(&clients, args.writes, move |client, w, i| {
            let stamps = stamps.clone();
            async move {
                let api = Api::<Zone>::namespaced(client, NS);
                let name = name_of("wa", c, w, i);
                let z = zone(&name, &fqdn_of("wa", c, w, i), 3600);
                stamps
                    .lock()
                    .expect("not poisoned")
                    .insert(name.clone(), Instant::now());
                if let Err(e) = api.create(&PostParams::default(), &z).await {
                    stamps.lock().expect("not poisoned").remove(&name);
                    return Err(e.into());
                }
                Ok(())
            }
        })
        .await;
        // Bounded wait for the watcher to catch up.
        let deadline = Instant::now() + WATCH_GRACE;
        while !pending.lock().expect("not poisoned").is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let missed = {
            let mut p = pending.lock().expect("not poisoned");
            let missed = p.len();
            p.clear();
            missed
        };
        let samples = std::mem::take(&mut *received.lock().expect("not poisoned"));
        rows.push(WatchRow {
            writers: c,
            over_10ms: samples
                .iter()
                .filter(|d| **d > Duration::from_millis(10))
                .count(),
            sent: writes.ok,
            received: samples.len(),
            latency: percentiles(samples),
            writes,
        });
        if missed > 0 {
            eprintln!("watch with {c} writers: {missed} events not seen within {WATCH_GRACE:?}");
        }
        eprintln!("watch with {c} writers done");
    }
    watch_task.abort();
    Ok(rows)
}

// ---------------------------------------------------------------- lists and memory

struct ListRow {
    what: String,
    items: usize,
    latency: Percentiles,
    cpu: CpuUse,
}

struct MemoryRow {
    point: &'static str,
    rss: u64,
    hwm: u64,
}

struct LoadResult {
    load: Phase,
    objects: usize,
    namespaces: usize,
    lists: Vec<ListRow>,
    memory: Vec<MemoryRow>,
    disk_bytes: u64,
    loaded_writes: Vec<WriteRow>,
}

/// Lists every zone in pages of `limit` (or at once when `None`); returns the count.
async fn list_all(api: &Api<Zone>, limit: Option<u32>) -> Result<usize> {
    let mut params = ListParams::default();
    if let Some(limit) = limit {
        params = params.limit(limit);
    }
    let mut count = 0;
    // Bounded: at most one page per possible object plus one.
    for _ in 0..10_000_000 {
        let page = api.list(&params).await?;
        count += page.items.len();
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(count),
        }
    }
    bail!("pagination did not end")
}

async fn time_runs<F, Fut>(what: &str, runs: usize, f: F) -> Result<ListRow>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<usize>>,
{
    let mark = cpu_mark();
    let mut samples = Vec::with_capacity(runs);
    let mut items = 0;
    for _ in 0..runs {
        let t = Instant::now();
        items = f().await?;
        samples.push(t.elapsed());
    }
    Ok(ListRow {
        what: what.to_string(),
        items,
        latency: percentiles(samples),
        cpu: cpu_since(mark),
    })
}

async fn bench_load_and_list(server: &Server, args: &Args) -> Result<LoadResult> {
    let mut memory_rows = Vec::new();
    let (rss, hwm) = memory();
    memory_rows.push(MemoryRow {
        point: "server started, before loading",
        rss,
        hwm,
    });

    let namespaces = args.namespaces.max(1);
    let admin = server.client().await?;
    let ns_api = Api::<Namespace>::all(admin.clone());
    for n in 0..namespaces {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(format!("tenant-{n:03}")),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        ns_api.create(&PostParams::default(), &ns).await?;
    }

    let clients = server.clients(args.load_clients.max(1)).await?;
    let load = drive(&clients, args.objects, move |client, w, i| async move {
        // Round-robin over the namespaces so each gets objects/namespaces zones.
        let ns = format!("tenant-{:03}", (w + i * 7919) % namespaces);
        let api = Api::<Zone>::namespaced(client, &ns);
        let z = zone(&name_of("ld", 0, w, i), &fqdn_of("ld", 0, w, i), 3600);
        api.create(&PostParams::default(), &z).await?;
        Ok(())
    })
    .await;
    drop(clients);
    eprintln!(
        "loaded {} zones in {:.1} s ({} errors)",
        load.ok,
        load.wall.as_secs_f64(),
        load.errors
    );
    let (rss, hwm) = memory();
    memory_rows.push(MemoryRow {
        point: "after loading",
        rss,
        hwm,
    });

    let all = Api::<Zone>::all(admin.clone());
    // The server leaves remainingItemCount out (optional): count by listing.
    let total = all.list_metadata(&ListParams::default()).await?.items.len();
    let one_ns = Api::<Zone>::namespaced(
        admin.clone(),
        &format!("tenant-{:03}", 42.min(namespaces - 1)),
    );
    let page = ListParams::default().limit(20);
    let runs = args.list_runs.max(1);
    let mut lists = vec![
        time_runs("one namespace, first page of 20", runs, || async {
            Ok(one_ns.list(&page).await?.items.len())
        })
        .await?,
        time_runs("one namespace, unpaginated", runs, || {
            list_all(&one_ns, None)
        })
        .await?,
        time_runs(
            "all namespaces, pages of 500 (as kube-runtime)",
            runs,
            || list_all(&all, Some(500)),
        )
        .await?,
    ];
    let (rss, hwm) = memory();
    memory_rows.push(MemoryRow {
        point: "after the namespace and paginated list runs",
        rss,
        hwm,
    });
    lists.push(time_runs("all namespaces, unpaginated", runs, || list_all(&all, None)).await?);
    let (rss, hwm) = memory();
    memory_rows.push(MemoryRow {
        point: "after the unpaginated list runs",
        rss,
        hwm,
    });

    // Writes against the loaded store, 8 clients (or the middle client count).
    let c = args
        .clients
        .get(args.clients.len() / 2)
        .copied()
        .unwrap_or(8);
    let clients = server.clients(c).await?;
    let phase = drive(&clients, args.writes, move |client, w, i| async move {
        let api = Api::<Zone>::namespaced(client, NS);
        let z = zone(&name_of("lw", c, w, i), &fqdn_of("lw", c, w, i), 3600);
        api.create(&PostParams::default(), &z).await?;
        Ok(())
    })
    .await;
    let mut loaded_writes = vec![WriteRow {
        operation: "create (store loaded)",
        phase,
    }];
    let phase = drive(&clients, args.writes, move |client, w, i| async move {
        let api = Api::<Zone>::namespaced(client, NS);
        let patch = json!({"spec": {"ttl": 600 + i}});
        api.patch(
            &name_of("lw", c, w, i),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
        Ok(())
    })
    .await;
    loaded_writes.push(WriteRow {
        operation: "update, merge patch (store loaded)",
        phase,
    });

    Ok(LoadResult {
        load,
        objects: total,
        namespaces,
        lists,
        memory: memory_rows,
        disk_bytes: server.disk_bytes(),
        loaded_writes,
    })
}

// ---------------------------------------------------------------- report

fn print_writes(rows: &[WriteRow]) {
    println!(
        "| Operation | Clients | OK | Errors | Wall (s) | Writes/s | p50 (ms) | p99 (ms) | max (ms) | CPU cores self / other |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let p = &row.phase;
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.0} | {} | {} | {} | {} |",
            row.operation,
            p.clients,
            p.ok,
            p.errors,
            p.wall.as_secs_f64(),
            p.rate(),
            ms(p.latency.p50),
            ms(p.latency.p99),
            ms(p.latency.max),
            cores(p.cpu),
        );
    }
    for row in rows {
        if let Some(e) = &row.phase.first_error {
            println!(
                "\nFirst error of {} with {} clients: `{e}`",
                row.operation, row.phase.clients
            );
        }
    }
}

fn print_watch(rows: &[WatchRow]) {
    println!(
        "| Writers | Watchers | Events sent | Events seen | p50 (ms) | p99 (ms) | max (ms) | Events > 10 ms | Writer creates/s | Write p50 (ms) | Write p99 (ms) | CPU cores self / other |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | 1 | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} |",
            row.writers,
            row.sent,
            row.received,
            ms(row.latency.p50),
            ms(row.latency.p99),
            ms(row.latency.max),
            row.over_10ms,
            row.writes.rate(),
            ms(row.writes.latency.p50),
            ms(row.writes.latency.p99),
            cores(row.writes.cpu),
        );
    }
    for row in rows {
        if let Some(e) = &row.writes.first_error {
            println!("\nFirst error with {} writers: `{e}`", row.writers);
        }
    }
}

fn print_load(loaded: &LoadResult, args: &Args) {
    let load = &loaded.load;
    println!(
        "{} clients created {} zones ({} errors) over {} namespaces in {:.1} s: {:.0} creates/s, p50 {} ms, p99 {} ms, CPU cores self / other {}. Zones in the store afterwards: {}. SQLite files on disk: {:.1} MiB.\n",
        load.clients,
        load.ok,
        load.errors,
        loaded.namespaces,
        load.wall.as_secs_f64(),
        load.rate(),
        ms(load.latency.p50),
        ms(load.latency.p99),
        cores(load.cpu),
        loaded.objects,
        loaded.disk_bytes as f64 / (1024.0 * 1024.0)
    );
    if let Some(e) = &load.first_error {
        println!("First load error: `{e}`\n");
    }
    println!(
        "### Lists with {} zones ({} runs each)\n",
        loaded.objects, args.list_runs
    );
    println!("| List | Items | p50 (ms) | p99 (ms) | max (ms) | CPU cores self / other |");
    println!("|---|---:|---:|---:|---:|---:|");
    for row in &loaded.lists {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.what,
            row.items,
            ms(row.latency.p50),
            ms(row.latency.p99),
            ms(row.latency.max),
            cores(row.cpu),
        );
    }
    println!("\n### Memory (this process: server + clients)\n");
    println!("| Point | VmRSS (MiB) | VmHWM (MiB) |");
    println!("|---|---:|---:|");
    for row in &loaded.memory {
        println!("| {} | {} | {} |", row.point, mib(row.rss), mib(row.hwm));
    }
    println!(
        "\n### Writes with the store loaded ({} per row)\n",
        args.writes
    );
    print_writes(&loaded.loaded_writes);
}

fn main() -> Result<()> {
    let mut args = Args::parse();
    if args.quick {
        args.objects = args.objects.min(2_000);
        args.writes = args.writes.min(300);
        args.clients = vec![1, 8];
        args.load_clients = args.load_clients.min(16);
        args.namespaces = args.namespaces.min(10);
        args.list_runs = args.list_runs.min(5);
    }
    args.clients.retain(|&c| c > 0);
    let started = Instant::now();
    if !args.child {
        print_header(&args);
    }
    if args.child || args.single_process {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(run(&args))?;
    } else {
        for part in [Part::Writes, Part::Watch, Part::Load] {
            if args.phases.contains(&part) {
                run_child(&args, part)?;
            }
        }
    }
    if !args.child {
        println!("Total run time: {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Runs one measurement in a child process; its tables go straight to stdout.
fn run_child(args: &Args, part: Part) -> Result<()> {
    std::io::Write::flush(&mut std::io::stdout())?;
    let exe = std::env::current_exe()?;
    let clients: Vec<String> = args.clients.iter().map(ToString::to_string).collect();
    let mut command = std::process::Command::new(exe);
    command.args([
        "--child".to_string(),
        format!("--phases={part}"),
        format!("--objects={}", args.objects),
        format!("--writes={}", args.writes),
        format!("--clients={}", clients.join(",")),
        format!("--load-clients={}", args.load_clients),
        format!("--namespaces={}", args.namespaces),
        format!("--list-runs={}", args.list_runs),
    ]);
    if args.in_process {
        command.arg("--in-process");
    }
    let status = command.status()?;
    if !status.success() {
        bail!("the {part} measurement failed: {status}");
    }
    Ok(())
}

fn print_header(args: &Args) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let transport = if args.in_process {
        "in-process calls of the server's tower router (no TCP, no connection pool)"
    } else {
        "loopback HTTP/1.1, one `kube::Client` (own connection pool) per concurrent client"
    };
    let isolation = if args.single_process {
        "all measurements in one process"
    } else {
        "each measurement (writes, watch, load) in a fresh child process"
    };
    println!("## designate-apiserver benchmark\n");
    println!(
        "Server and clients in one process ({cores} tokio worker threads); {isolation}; {transport}; SQLite in a fresh temp dir per server. CPU columns: average cores used by this process / by everything else on the machine during the phase.\n"
    );
}

async fn run(args: &Args) -> Result<()> {
    let (rss_start, hwm_start) = memory();
    let writes = if args.phases.contains(&Part::Writes) {
        let server = Server::start(args.in_process).await?;
        let rows = bench_writes(&server, args).await?;
        server.serve.abort();
        rows
    } else {
        Vec::new()
    };
    let watch = if args.phases.contains(&Part::Watch) {
        let server = Server::start(args.in_process).await?;
        let rows = bench_watch(&server, args).await?;
        server.serve.abort();
        rows
    } else {
        Vec::new()
    };
    let loaded = if args.phases.contains(&Part::Load) {
        let server = Server::start(args.in_process).await?;
        let mut loaded = bench_load_and_list(&server, args).await?;
        server.serve.abort();
        loaded.memory.insert(
            0,
            MemoryRow {
                point: "process start (before the server)",
                rss: rss_start,
                hwm: hwm_start,
            },
        );
        Some(loaded)
    } else {
        None
    };

    if !writes.is_empty() {
        println!("### Writes ({} per row)\n", args.writes);
        print_writes(&writes);
        println!();
    }
    if !watch.is_empty() {
        println!(
            "### Watch-event latency (1 watcher, `kube::runtime::watcher` on zones in `{NS}`; writers create zones; {} per row)\n",
            args.writes
        );
        print_watch(&watch);
        println!();
    }
    if let Some(loaded) = &loaded {
        println!("### Load of {} zones\n", args.objects);
        print_load(loaded, args);
        println!();
    }
    Ok(())
}
