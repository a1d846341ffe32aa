//! Benchmark of the Zone, Recordset and Pool controllers (Central).
//!
//! One process holds the embedded API server (fresh temp data dir), the
//! controllers (an in-process `kube::Client` over the server's router, as
//! `standalone` wires them), storage (SQLite in the temp dir, or
//! `--database`/`--database-url`), and the "users": loopback-HTTP
//! `kube::Client`s, one per concurrent client, plus one watcher on Zones and
//! one on Recordsets that note every status as a user's `kubectl get -w`
//! would. Phases:
//!
//! 1. load: `--zones` Zones over `--namespaces` namespaces, each with
//!    `--recordsets-per-zone` A Recordsets, created by `--clients` clients
//!    with the controllers running; timed until every Zone and Recordset is
//!    ACTIVE for its generation (and each Zone's serial covers its
//!    Recordsets'): real-change reconcile throughput;
//! 2. no-op: the controllers are stopped and started again on the same API
//!    and storage (fresh metrics); their initial lists reconcile everything
//!    with nothing to do; timed until every Zone and Recordset was counted
//!    `unchanged`, with the API writes made meanwhile. Then a label on the
//!    default Pool requeues every zone once more, as the periodic resync
//!    does, without the lists;
//! 3. changes: one Recordset in each of `--changed-zones` zones gets new
//!    records (merge patch, `--clients` clients); timed until all are ACTIVE
//!    at their new generation;
//! 4. latency: `--changes` sequential single merge patches, each timed from
//!    the patch call to the watch event of the Recordset ACTIVE at its new
//!    generation and to the Zone's status at a newer serial; then as many
//!    again while another storage connection polls the zone's row every
//!    millisecond, for the time until the change is stored.
//!
//! Central's default zone quota (10 per project) is lifted (`zones: -1`):
//! each namespace holds `zones / namespaces` zones. Prints markdown tables;
//! every wait is bounded by `--timeout-secs`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use designate_apiserver::{ApiServer, Config};
use designate_controllers::{DEFAULT_POOL, Metrics, Outcome, Settings};
use designate_crd::{
    Pool, PoolNsRecord, PoolSpec, Recordset, RecordsetSpec, ResourceStatus, Zone, ZoneSpec,
};
use designate_e2e::bench::{
    CpuMark, CpuUse, Percentiles, cores, cpu_mark, cpu_since, drive, http_client, memory, mib, ms,
    percentiles,
};
use designate_storage::Storage;
use designate_storage::testing::{Backend, TestDatabase};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::oneshot;

#[derive(Parser, Debug, Clone)]
#[command(about = "Reconcile rates and change latency of the Zone/Recordset/Pool controllers")]
struct Args {
    /// Zones loaded.
    #[arg(long, default_value_t = 10_000)]
    zones: usize,
    /// A Recordsets per zone.
    #[arg(long, default_value_t = 10)]
    recordsets_per_zone: usize,
    /// Namespaces (projects) the zones are spread over.
    #[arg(long, default_value_t = 100)]
    namespaces: usize,
    /// Concurrent clients of the load and of the bulk changes.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Zones that get one changed Recordset each in the bulk-change phase.
    #[arg(long, default_value_t = 10_000)]
    changed_zones: usize,
    /// Sequential single changes timed (twice: without and with storage polling).
    #[arg(long, default_value_t = 200)]
    changes: usize,
    /// Database of storage: a SQLite file in the temp dir, or a throwaway
    /// MariaDB/PostgreSQL database (`designate_storage::testing`).
    #[arg(long, value_enum, default_value_t = Db::Sqlite)]
    database: Db,
    /// Storage URL (`sqlite://`, `mysql://`, `postgres://`), instead of `--database`.
    #[arg(long)]
    database_url: Option<String>,
    /// Bound of every wait for the controllers.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    /// Small numbers for a smoke run (overrides the above).
    #[arg(long)]
    quick: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    Sqlite,
    Mysql,
    Postgres,
}

/// The default namespace of the clients (every call names its own).
const NS: &str = "default";
/// How often the bulk phases look whether everything settled.
const POLL: Duration = Duration::from_millis(100);
/// How often progress goes to stderr.
const PROGRESS: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- naming

fn namespace_of(zone: usize, namespaces: usize) -> String {
    format!("tenant-{:03}", zone % namespaces)
}

fn zone_name(zone: usize) -> String {
    format!("z{zone}")
}

fn recordset_name(zone: usize, j: usize) -> String {
    format!("z{zone}-r{j}")
}

fn zone_object(zone: usize) -> Zone {
    Zone::new(
        &zone_name(zone),
        ZoneSpec {
            name: format!("z{zone}.bench.example.com."),
            email: Some("hostmaster@example.com".into()),
            ttl: Some(3600),
            ..ZoneSpec::default()
        },
    )
}

fn recordset_object(zone: usize, j: usize) -> Recordset {
    Recordset::new(
        &recordset_name(zone, j),
        RecordsetSpec {
            zone_ref: zone_name(zone),
            name: format!("r{j}.z{zone}.bench.example.com."),
            type_: "A".into(),
            records: vec![format!("192.0.2.{}", j % 250 + 1)],
            ..RecordsetSpec::default()
        },
    )
}

// ---------------------------------------------------------------- tracker

/// `(namespace, name)`.
type Key = (String, String);

/// What a watcher last saw of one object.
#[derive(Clone, Debug, Default)]
struct Seen {
    uid: String,
    zone_ref: String,
    generation: i64,
    observed: Option<i64>,
    status: Option<ResourceStatus>,
    serial: Option<i64>,
    /// The generation a phase waits for (set from a patch's answer).
    expected: i64,
}

impl Seen {
    fn settled(&self) -> bool {
        self.status == Some(ResourceStatus::Active)
            && self.observed == Some(self.generation)
            && self.generation >= self.expected
    }
}

/// Something phase 4 waits for, resolved by the watcher that sees it.
enum Wait {
    /// The Recordset ACTIVE at a generation of at least this.
    Recordset(Key, i64),
    /// The Zone ACTIVE at a serial above this.
    ZoneAbove(Key, i64),
}

impl Wait {
    fn met(&self, kind: Kind, key: &Key, seen: &Seen) -> bool {
        match self {
            Wait::Recordset(k, generation) => {
                kind == Kind::Recordset
                    && k == key
                    && seen.status == Some(ResourceStatus::Active)
                    && seen.observed.is_some_and(|o| o >= *generation)
            }
            Wait::ZoneAbove(k, serial) => {
                kind == Kind::Zone
                    && k == key
                    && seen.status == Some(ResourceStatus::Active)
                    && seen.serial.is_some_and(|s| s > *serial)
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Zone,
    Recordset,
}

type Waiters = Vec<(Wait, oneshot::Sender<(Instant, Option<i64>)>)>;

/// The statuses two user watchers (Zones, Recordsets) have seen.
#[derive(Default)]
struct Tracker {
    zones: Mutex<HashMap<Key, Seen>>,
    recordsets: Mutex<HashMap<Key, Seen>>,
    waiters: Mutex<Waiters>,
}

/// Settled objects at one look.
#[derive(Debug, Default, Clone, Copy)]
struct Settled {
    zones: usize,
    recordsets: usize,
}

impl Tracker {
    fn map(&self, kind: Kind) -> &Mutex<HashMap<Key, Seen>> {
        match kind {
            Kind::Zone => &self.zones,
            Kind::Recordset => &self.recordsets,
        }
    }

    fn observe(&self, kind: Kind, key: Key, mut seen: Seen, at: Instant) {
        {
            let mut map = self.map(kind).lock().expect("tracker lock");
            if let Some(old) = map.get(&key) {
                seen.expected = old.expected;
            }
            map.insert(key.clone(), seen.clone());
        }
        let mut waiters = self.waiters.lock().expect("tracker lock");
        if waiters.is_empty() {
            return;
        }
        let (met, rest): (Waiters, Waiters) = std::mem::take(&mut *waiters)
            .into_iter()
            .partition(|(wait, _)| wait.met(kind, &key, &seen));
        *waiters = rest;
        for (_, tx) in met {
            let _ = tx.send((at, seen.serial));
        }
    }

    fn get(&self, kind: Kind, key: &Key) -> Option<Seen> {
        self.map(kind)
            .lock()
            .expect("tracker lock")
            .get(key)
            .cloned()
    }

    fn expect(&self, key: &Key, generation: i64) {
        if let Some(seen) = self.recordsets.lock().expect("tracker lock").get_mut(key) {
            seen.expected = seen.expected.max(generation);
        }
    }

    /// Resolves once `wait` is met (checked at once, then on every event).
    fn wait(&self, wait: Wait) -> oneshot::Receiver<(Instant, Option<i64>)> {
        let (tx, rx) = oneshot::channel();
        let (kind, key) = match &wait {
            Wait::Recordset(key, _) => (Kind::Recordset, key.clone()),
            Wait::ZoneAbove(key, _) => (Kind::Zone, key.clone()),
        };
        // The waiter list is locked before the state is read, so no event
        // can slip between the check and the registration.
        let mut waiters = self.waiters.lock().expect("tracker lock");
        match self.get(kind, &key) {
            Some(seen) if wait.met(kind, &key, &seen) => {
                let _ = tx.send((Instant::now(), seen.serial));
            }
            _ => waiters.push((wait, tx)),
        }
        rx
    }

    /// Counts settled objects (cheap: no allocation).
    fn settled(&self) -> Settled {
        let count = |kind| {
            self.map(kind)
                .lock()
                .expect("tracker lock")
                .values()
                .filter(|s| s.settled())
                .count()
        };
        Settled {
            zones: count(Kind::Zone),
            recordsets: count(Kind::Recordset),
        }
    }

    /// Recordsets whose serial their Zone's status does not reach yet.
    fn zones_behind(&self) -> usize {
        let zones = self.zones.lock().expect("tracker lock");
        let recordsets = self.recordsets.lock().expect("tracker lock");
        recordsets
            .iter()
            .filter(|((ns, _), rs)| {
                let zone = zones.get(&(ns.clone(), rs.zone_ref.clone()));
                zone.and_then(|z| z.serial) < rs.serial
            })
            .count()
    }
}

/// Feeds `tracker` from a watcher on every object of `K`; resolves once the
/// watcher finished its first list.
async fn track<K>(
    client: Client,
    tracker: Arc<Tracker>,
    kind: Kind,
    seen: fn(&K) -> Seen,
) -> Result<tokio::task::JoinHandle<()>>
where
    K: Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
{
    let (ready_tx, ready_rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(watcher(Api::<K>::all(client), watcher::Config::default()));
        let mut ready = Some(ready_tx);
        while let Some(event) = stream.next().await {
            let at = Instant::now();
            match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                    let key = (o.namespace().unwrap_or_default(), o.name_any());
                    tracker.observe(kind, key, seen(&o), at);
                }
                Ok(watcher::Event::Delete(o)) => {
                    let key = (o.namespace().unwrap_or_default(), o.name_any());
                    tracker.map(kind).lock().expect("tracker lock").remove(&key);
                }
                Ok(watcher::Event::InitDone) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
                Ok(watcher::Event::Init) => {}
                Err(e) => eprintln!("{kind:?} watcher: {e}"),
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(60), ready_rx)
        .await
        .context("a watcher did not finish its first list")??;
    Ok(task)
}

fn seen_zone(zone: &Zone) -> Seen {
    let status = zone.status.as_ref();
    Seen {
        uid: zone.uid().unwrap_or_default(),
        zone_ref: String::new(),
        generation: zone.metadata.generation.unwrap_or(0),
        observed: status.and_then(|s| s.observed_generation),
        status: status.and_then(|s| s.status),
        serial: status.and_then(|s| s.serial),
        expected: 0,
    }
}

fn seen_recordset(rs: &Recordset) -> Seen {
    let status = rs.status.as_ref();
    Seen {
        uid: rs.uid().unwrap_or_default(),
        zone_ref: rs.spec.zone_ref.clone(),
        generation: rs.metadata.generation.unwrap_or(0),
        observed: status.and_then(|s| s.observed_generation),
        status: status.and_then(|s| s.status),
        serial: status.and_then(|s| s.serial),
        expected: 0,
    }
}

// ---------------------------------------------------------------- controllers

/// Reconciles and API writes of the three controllers so far.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// zone, recordset, pool; by outcome in `OUTCOMES` order.
    reconciles: [[u64; 5]; 3],
    writes: [u64; 3],
}

const CONTROLLERS: [&str; 3] = ["zone", "recordset", "pool"];
const OUTCOMES: [Outcome; 5] = [
    Outcome::Published,
    Outcome::StatusOnly,
    Outcome::Unchanged,
    Outcome::Cleanup,
    Outcome::Failed,
];
const ZONE: usize = 0;
const RECORDSET: usize = 1;
const PUBLISHED: usize = 0;
const STATUS_ONLY: usize = 1;
const UNCHANGED: usize = 2;
const FAILED: usize = 4;

impl Counts {
    fn of(metrics: &Metrics) -> Self {
        let mut counts = Self::default();
        for (c, controller) in CONTROLLERS.iter().enumerate() {
            for (o, outcome) in OUTCOMES.iter().enumerate() {
                counts.reconciles[c][o] = metrics.reconciles(controller, *outcome);
            }
            counts.writes[c] = metrics.api_writes(controller);
        }
        counts
    }

    fn since(self, before: Self) -> Self {
        let mut out = self;
        for c in 0..3 {
            for o in 0..5 {
                out.reconciles[c][o] -= before.reconciles[c][o];
            }
            out.writes[c] -= before.writes[c];
        }
        out
    }

    fn zone(&self, outcome: usize) -> u64 {
        self.reconciles[ZONE][outcome]
    }

    fn writes(&self) -> u64 {
        self.writes.iter().sum()
    }
}

/// Writes the API server took since `before` (its resourceVersion, which
/// every write moves on by one), less `ours` made by the bench: a count of
/// the controllers' writes that does not rely on their own counter, and
/// includes the finalizers kube-runtime's helper adds.
fn server_writes(server: &ApiServer, before: u64, ours: u64) -> u64 {
    server
        .store()
        .resource_version()
        .saturating_sub(before)
        .saturating_sub(ours)
}

/// The controllers running on a spawned task until `stop`.
struct Running {
    metrics: Arc<Metrics>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

fn settings() -> Settings {
    let mut settings = Settings::default();
    // 100 zones per project here; Designate's default quota is 10.
    settings.central.quotas.zones = -1;
    settings
}

fn start_controllers(server: &ApiServer, storage: &Storage) -> Running {
    let metrics = Arc::new(Metrics::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(designate_controllers::run(
        Client::new(server.router(), NS),
        storage.clone(),
        settings(),
        metrics.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    Running {
        metrics,
        stop,
        task,
    }
}

/// How long a graceful stop of the controllers may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

impl Running {
    /// Stops the controllers gracefully (running reconciles finish); returns how long that took.
    async fn stop(self) -> Result<Duration> {
        let start = Instant::now();
        let _ = self.stop.send(());
        tokio::time::timeout(STOP_TIMEOUT, self.task)
            .await
            .with_context(|| format!("the controllers did not stop within {STOP_TIMEOUT:?}"))??;
        Ok(start.elapsed())
    }
}

// ---------------------------------------------------------------- phases

/// One bulk phase: from its start until everything settled.
struct BulkRow {
    what: String,
    objects: String,
    /// Time the clients took to send their writes (none for the restart).
    writes: Option<Duration>,
    wall: Duration,
    counts: Counts,
    /// Writes the API server took from the controllers (see `server_writes`).
    server_writes: u64,
    /// Recordsets that reached a new settled state.
    recordsets: usize,
    cpu: CpuUse,
    errors: usize,
    first_error: Option<String>,
}

/// Waits until `done(settled)`, printing progress; bounded by `timeout`.
async fn settle(
    tracker: &Tracker,
    metrics: &Metrics,
    timeout: Duration,
    what: &str,
    done: impl Fn(Settled) -> bool,
) -> Result<()> {
    let start = Instant::now();
    let mut last_progress = Instant::now();
    loop {
        let settled = tracker.settled();
        if done(settled) && tracker.zones_behind() == 0 {
            return Ok(());
        }
        if start.elapsed() > timeout {
            bail!(
                "{what}: not settled after {timeout:?}: {settled:?}, {} recordsets ahead of their zone's serial, {:?}",
                tracker.zones_behind(),
                Counts::of(metrics)
            );
        }
        if last_progress.elapsed() > PROGRESS {
            last_progress = Instant::now();
            let counts = Counts::of(metrics);
            eprintln!(
                "  {what}: {:.0} s, settled {} zones / {} recordsets, zone reconciles published {} status-only {} unchanged {} failed {}",
                start.elapsed().as_secs_f64(),
                settled.zones,
                settled.recordsets,
                counts.zone(PUBLISHED),
                counts.zone(STATUS_ONLY),
                counts.zone(UNCHANGED),
                counts.zone(FAILED),
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn create_namespaces(client: &Client, n: usize) -> Result<()> {
    let api = Api::<Namespace>::all(client.clone());
    for i in 0..n {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(namespace_of(i, n)),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        api.create(&PostParams::default(), &ns).await?;
    }
    Ok(())
}

/// The `default` Pool `standalone` creates on a fresh install.
async fn create_default_pool(client: &Client) -> Result<()> {
    let pool = Pool::new(
        DEFAULT_POOL,
        PoolSpec {
            description: Some("Default pool".into()),
            ns_records: vec![PoolNsRecord {
                hostname: "ns1.example.org.".into(),
                priority: 1,
            }],
            ..PoolSpec::default()
        },
    );
    Api::<Pool>::all(client.clone())
        .create(&PostParams::default(), &pool)
        .await?;
    Ok(())
}

async fn load(
    server: &ApiServer,
    clients: &[Client],
    tracker: &Tracker,
    running: &Running,
    args: &Args,
) -> Result<BulkRow> {
    let before = Counts::of(&running.metrics);
    let rv = server.store().resource_version();
    let mark = cpu_mark();
    let start = Instant::now();
    let (namespaces, per_zone) = (args.namespaces, args.recordsets_per_zone);
    let n = clients.len();
    // Each worker applies whole zones: the Zone, then its Recordsets.
    let phase = drive(clients, args.zones, move |client, w, i| async move {
        let zone = w + i * n;
        let ns = namespace_of(zone, namespaces);
        Api::<Zone>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &zone_object(zone))
            .await?;
        let api = Api::<Recordset>::namespaced(client, &ns);
        for j in 0..per_zone {
            api.create(&PostParams::default(), &recordset_object(zone, j))
                .await?;
        }
        Ok(())
    })
    .await;
    let writes = start.elapsed();
    eprintln!(
        "  load: {} zones with their recordsets sent in {:.1} s ({} errors)",
        phase.ok,
        writes.as_secs_f64(),
        phase.errors
    );
    let (zones, recordsets) = (args.zones, args.zones * per_zone);
    settle(
        tracker,
        &running.metrics,
        Duration::from_secs(args.timeout_secs),
        "load",
        |s| s.zones == zones && s.recordsets == recordsets,
    )
    .await?;
    Ok(BulkRow {
        what: "load: create, publish, mark ACTIVE".into(),
        objects: format!("{zones} zones + {recordsets} recordsets created"),
        writes: Some(writes),
        wall: start.elapsed(),
        counts: Counts::of(&running.metrics).since(before),
        server_writes: server_writes(server, rv, (phase.ok * (1 + per_zone)) as u64),
        recordsets,
        cpu: cpu_since(mark),
        errors: phase.errors,
        first_error: phase.first_error,
    })
}

/// No-op reconciles of every zone, from one trigger.
struct NoopRow {
    trigger: &'static str,
    /// From the trigger until the first zone reconcile ended.
    first: Duration,
    /// From the trigger until every zone was counted `unchanged`.
    zones_done: Duration,
    /// From the trigger until every recordset was counted `unchanged`
    /// (`None` when the trigger does not reach the Recordset controller).
    recordsets_done: Option<Duration>,
    /// Everything the trigger caused, until nothing moved for `QUIET`.
    counts: Counts,
    /// Writes the API server took from the controllers meanwhile.
    server_writes: u64,
    /// Until every zone (and recordset) was counted.
    cpu: CpuUse,
}

/// How long the counters must stand still for a trigger's work to be over.
const QUIET: Duration = Duration::from_secs(3);

/// Follows what `metrics` counts from `start` until `zones` zones (and
/// `recordsets` recordsets) were counted `unchanged` and nothing moved for
/// `QUIET`.
async fn noop_reconciles(
    trigger: &'static str,
    metrics: &Metrics,
    start: (Instant, CpuMark),
    server: (&ApiServer, u64, u64),
    zones: u64,
    recordsets: Option<u64>,
    timeout: Duration,
) -> Result<NoopRow> {
    let before = Counts::of(metrics);
    let (mut first, mut zones_done, mut recordsets_done) = (None, None, None);
    let mut last = Counts::default();
    let mut last_change = Instant::now();
    let mut cpu = None;
    loop {
        let now = Instant::now();
        let counts = Counts::of(metrics).since(before);
        if first.is_none() && counts.reconciles[ZONE].iter().sum::<u64>() > 0 {
            first = Some(now - start.0);
        }
        if zones_done.is_none() && counts.zone(UNCHANGED) >= zones {
            zones_done = Some(now - start.0);
        }
        if let Some(n) = recordsets
            && recordsets_done.is_none()
            && counts.reconciles[RECORDSET][UNCHANGED] >= n
        {
            recordsets_done = Some(now - start.0);
        }
        let counted = zones_done.is_some() && recordsets.is_none() == recordsets_done.is_none();
        if counted && cpu.is_none() {
            cpu = Some(cpu_since(start.1));
        }
        if counts.reconciles != last.reconciles || counts.writes != last.writes {
            last = counts;
            last_change = now;
        } else if cpu.is_some() && now - last_change > QUIET {
            break;
        }
        if now - start.0 > timeout {
            bail!("{trigger}: not done after {timeout:?}: {counts:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(NoopRow {
        trigger,
        first: first.unwrap_or_default(),
        zones_done: zones_done.unwrap_or_default(),
        recordsets_done,
        counts: last,
        server_writes: server_writes(server.0, server.1, server.2),
        cpu: cpu.unwrap_or_default(),
    })
}

/// Stops the controllers and starts them again (fresh metrics): their first
/// lists reconcile every zone and recordset, with nothing to do. Also
/// returns how long the graceful stop took.
async fn restart(
    server: &ApiServer,
    storage: &Storage,
    running: Running,
    args: &Args,
) -> Result<(NoopRow, Duration, Running)> {
    let stopped = running.stop().await?;
    let start = (Instant::now(), cpu_mark());
    let rv = server.store().resource_version();
    let running = start_controllers(server, storage);
    let row = noop_reconciles(
        "restart of the controllers",
        &running.metrics,
        start,
        (server, rv, 0),
        args.zones as u64,
        Some((args.zones * args.recordsets_per_zone) as u64),
        Duration::from_secs(args.timeout_secs),
    )
    .await?;
    Ok((row, stopped, running))
}

/// A label on the default Pool: the Zone controller requeues every zone of
/// the pool, as its periodic resync does, without lists or a restart; the
/// fingerprint holds the pool's generation, which a label leaves alone.
async fn relabel_pool(
    server: &ApiServer,
    admin: &Client,
    running: &Running,
    args: &Args,
) -> Result<NoopRow> {
    let start = (Instant::now(), cpu_mark());
    let rv = server.store().resource_version();
    let patch = json!({"metadata": {"labels": {"bench.designate.openstack.org/requeue": "1"}}});
    Api::<Pool>::all(admin.clone())
        .patch(DEFAULT_POOL, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    noop_reconciles(
        "label on the default Pool",
        &running.metrics,
        start,
        // The label itself is a write.
        (server, rv, 1),
        args.zones as u64,
        None,
        Duration::from_secs(args.timeout_secs),
    )
    .await
}

/// New records for the Recordset `z{zone}-r{j}` (never its original ones).
fn records_patch(seq: usize) -> serde_json::Value {
    json!({"spec": {"records": [format!("198.51.{}.{}", 100 + seq / 250 % 100, seq % 250 + 1)]}})
}

async fn bulk_changes(
    server: &ApiServer,
    clients: &[Client],
    tracker: &Arc<Tracker>,
    running: &Running,
    args: &Args,
) -> Result<BulkRow> {
    let before = Counts::of(&running.metrics);
    let rv = server.store().resource_version();
    let mark = cpu_mark();
    let start = Instant::now();
    let (namespaces, changed) = (args.namespaces, args.changed_zones.min(args.zones));
    let n = clients.len();
    let patched = tracker.clone();
    let phase = drive(clients, changed, move |client, w, i| {
        let tracker = patched.clone();
        async move {
            let zone = w + i * n;
            let ns = namespace_of(zone, namespaces);
            let name = recordset_name(zone, 0);
            let rs = Api::<Recordset>::namespaced(client, &ns)
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(&records_patch(zone)),
                )
                .await?;
            tracker.expect(&(ns, name), rs.metadata.generation.unwrap_or(0));
            Ok(())
        }
    })
    .await;
    let writes = start.elapsed();
    let (zones, recordsets) = (args.zones, args.zones * args.recordsets_per_zone);
    settle(
        tracker,
        &running.metrics,
        Duration::from_secs(args.timeout_secs),
        "changes",
        |s| s.zones == zones && s.recordsets == recordsets,
    )
    .await?;
    Ok(BulkRow {
        what: "changes: one recordset per zone patched".into(),
        objects: format!("{changed} recordsets in {changed} zones patched"),
        writes: Some(writes),
        wall: start.elapsed(),
        counts: Counts::of(&running.metrics).since(before),
        server_writes: server_writes(server, rv, phase.ok as u64),
        recordsets: phase.ok,
        cpu: cpu_since(mark),
        errors: phase.errors,
        first_error: phase.first_error,
    })
}

/// Latencies of the sequential single changes.
#[derive(Default)]
struct LatencyRun {
    patch: Vec<Duration>,
    recordset: Vec<Duration>,
    zone: Vec<Duration>,
    stored: Vec<Duration>,
    /// Changes whose Zone serial differed from the Recordset's.
    serial_mismatches: usize,
    cpu: CpuUse,
}

async fn single_changes(
    client: &Client,
    tracker: &Arc<Tracker>,
    poller: Option<&Storage>,
    args: &Args,
    offset: usize,
) -> Result<LatencyRun> {
    let mut run = LatencyRun::default();
    let timeout = Duration::from_secs(args.timeout_secs.min(60));
    let mark = cpu_mark();
    for k in 0..args.changes {
        // Spread over the zones; the second Recordset (the bulk phase changed the first).
        let zone = (k * args.zones / args.changes.max(1) + offset) % args.zones;
        let ns = namespace_of(zone, args.namespaces);
        let zone_key = (ns.clone(), zone_name(zone));
        let rs_key = (
            ns.clone(),
            recordset_name(zone, 1 % args.recordsets_per_zone),
        );
        let zone_seen = tracker
            .get(Kind::Zone, &zone_key)
            .context("zone not seen")?;
        let rs_seen = tracker
            .get(Kind::Recordset, &rs_key)
            .context("recordset not seen")?;
        let zone_serial = zone_seen.serial.context("zone without serial")?;
        let rs_done = tracker.wait(Wait::Recordset(rs_key.clone(), rs_seen.generation + 1));
        let zone_done = tracker.wait(Wait::ZoneAbove(zone_key.clone(), zone_serial));
        let stored = poller.map(|storage| {
            let (storage, uid) = (storage.clone(), zone_seen.uid.clone());
            tokio::spawn(async move {
                loop {
                    match storage.zone_state(&uid).await {
                        Ok(Some(state)) if state.serial > zone_serial => return Ok(Instant::now()),
                        Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                        Err(e) => return Err(e),
                    }
                }
            })
        });
        let api = Api::<Recordset>::namespaced(client.clone(), &ns);
        let t0 = Instant::now();
        api.patch(
            &rs_key.1,
            &PatchParams::default(),
            &Patch::Merge(&records_patch(100_000 + offset + k)),
        )
        .await?;
        run.patch.push(t0.elapsed());
        let (rs_at, rs_serial) = tokio::time::timeout(timeout, rs_done)
            .await
            .with_context(|| format!("recordset {rs_key:?} not ACTIVE in {timeout:?}"))??;
        let (zone_at, zone_serial) = tokio::time::timeout(timeout, zone_done)
            .await
            .with_context(|| format!("zone {zone_key:?} not at a new serial in {timeout:?}"))??;
        run.recordset.push(rs_at - t0);
        run.zone.push(zone_at - t0);
        if rs_serial != zone_serial {
            run.serial_mismatches += 1;
        }
        if let Some(stored) = stored {
            let at = tokio::time::timeout(timeout, stored)
                .await
                .context("the zone's row did not change")???;
            run.stored.push(at.saturating_duration_since(t0));
        }
    }
    run.cpu = cpu_since(mark);
    Ok(run)
}

// ---------------------------------------------------------------- report

fn print_bulk(rows: &[BulkRow]) {
    println!(
        "| Phase | Objects | Writes sent (s) | Wall until all ACTIVE (s) | Zone reconciles published / status-only / unchanged / failed | Published zone reconciles/s | Recordsets ACTIVE/s | API writes: status writes counted by the controllers / all their writes the server took | CPU cores self / other |"
    );
    println!("|---|---|---:|---:|---|---:|---:|---|---:|");
    for row in rows {
        let secs = row.wall.as_secs_f64().max(1e-9);
        let c = &row.counts;
        println!(
            "| {} | {} | {} | {:.1} | {} / {} / {} / {} | {:.0} | {:.0} | {} / {} | {} |",
            row.what,
            row.objects,
            row.writes
                .map_or("-".into(), |w| format!("{:.1}", w.as_secs_f64())),
            secs,
            c.zone(PUBLISHED),
            c.zone(STATUS_ONLY),
            c.zone(UNCHANGED),
            c.zone(FAILED),
            c.zone(PUBLISHED) as f64 / secs,
            row.recordsets as f64 / secs,
            c.writes(),
            row.server_writes,
            cores(row.cpu),
        );
    }
    for row in rows {
        if row.errors > 0 {
            println!(
                "\n{}: {} client errors, first: `{}`",
                row.what,
                row.errors,
                row.first_error.as_deref().unwrap_or("")
            );
        }
    }
}

fn print_noop(rows: &[NoopRow], stopped: Duration, args: &Args) {
    println!(
        "| Trigger | Measured from | Zones counted `unchanged` | Time (s) | Zone no-op reconciles/s | Zone reconciles in all: published / status-only / unchanged / failed | API writes counted by the controllers (zone / recordset / pool) | Writes the server took from them | CPU cores self / other |"
    );
    println!("|---|---|---:|---:|---:|---|---|---:|---:|");
    for row in rows {
        let c = &row.counts;
        let mut spans = vec![("the trigger", row.zones_done)];
        if row.recordsets_done.is_some() {
            spans.push((
                "the first zone reconcile",
                row.zones_done.saturating_sub(row.first),
            ));
        }
        for (from, time) in spans {
            println!(
                "| {} | {from} | {} | {:.2} | {:.0} | {} / {} / {} / {} | {} / {} / {} | {} | {} |",
                row.trigger,
                args.zones,
                time.as_secs_f64(),
                args.zones as f64 / time.as_secs_f64().max(1e-9),
                c.zone(PUBLISHED),
                c.zone(STATUS_ONLY),
                c.zone(UNCHANGED),
                c.zone(FAILED),
                c.writes[0],
                c.writes[1],
                c.writes[2],
                row.server_writes,
                cores(row.cpu),
            );
        }
    }
    println!(
        "\nGraceful stop of the loaded controllers: {:.2} s.",
        stopped.as_secs_f64()
    );
    let recordsets = args.zones * args.recordsets_per_zone;
    for row in rows {
        if let Some(done) = row.recordsets_done {
            let c = &row.counts;
            println!(
                "{}: first zone reconcile after {:.2} s (initial lists; zone reconciles wait for the recordset index); {recordsets} recordsets counted `unchanged` after {:.2} s ({:.0}/s); recordset reconciles in all: status-only {} / unchanged {} / failed {}.",
                row.trigger,
                row.first.as_secs_f64(),
                done.as_secs_f64(),
                recordsets as f64 / done.as_secs_f64().max(1e-9),
                c.reconciles[RECORDSET][STATUS_ONLY],
                c.reconciles[RECORDSET][UNCHANGED],
                c.reconciles[RECORDSET][FAILED],
            );
        }
    }
}

fn print_latency(runs: &[(&str, &LatencyRun)]) {
    println!(
        "| Run | Measure | n | p50 (ms) | p99 (ms) | max (ms) | Zone serial ≠ recordset serial | CPU cores self / other |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (name, run) in runs {
        let rows: [(&str, &Vec<Duration>); 4] = [
            ("patch call answered", &run.patch),
            (
                "Recordset ACTIVE at the new generation (watch)",
                &run.recordset,
            ),
            ("Zone status at the new serial (watch)", &run.zone),
            (
                "zone row at the new serial in storage (poll 1 ms)",
                &run.stored,
            ),
        ];
        for (measure, samples) in rows {
            if samples.is_empty() {
                continue;
            }
            let p: Percentiles = percentiles(samples.clone());
            println!(
                "| {name} | {measure} | {} | {} | {} | {} | {} | {} |",
                samples.len(),
                ms(p.p50),
                ms(p.p99),
                ms(p.max),
                run.serial_mismatches,
                cores(run.cpu),
            );
        }
    }
}

// ---------------------------------------------------------------- main

fn main() -> Result<()> {
    let mut args = Args::parse();
    if args.quick {
        args.zones = args.zones.min(200);
        args.recordsets_per_zone = args.recordsets_per_zone.min(5);
        args.namespaces = args.namespaces.min(10);
        args.clients = args.clients.min(16);
        args.changed_zones = args.changed_zones.min(200);
        args.changes = args.changes.min(20);
    }
    args.namespaces = args.namespaces.clamp(1, args.zones.max(1));
    args.clients = args.clients.max(1);
    args.recordsets_per_zone = args.recordsets_per_zone.max(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&args))
}

async fn run(args: &Args) -> Result<()> {
    let started = Instant::now();
    let (rss_start, _) = memory();
    let dir = tempfile::tempdir()?;
    let (database, url) = match (&args.database_url, args.database) {
        (Some(url), _) => (None, url.clone()),
        (None, Db::Sqlite) => (
            None,
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("designate.db").display()
            ),
        ),
        (None, db) => {
            let backend = if db == Db::Mysql {
                Backend::MySql
            } else {
                Backend::Postgres
            };
            let database = TestDatabase::create(backend).await?;
            let url = database.url().to_string();
            (Some(database), url)
        }
    };
    let backend = url.split("://").next().unwrap_or_default().to_string();

    let server = ApiServer::open(Config::new(dir.path().join("api"))).await?;
    server.install_crds(&designate_crd::crds()).await?;
    let addr: SocketAddr = "127.0.0.1:0".parse()?;
    let (local, serve) = server.bind(addr, None).await?;
    let serve = tokio::spawn(serve);
    let url_api = format!("http://{local}");
    let storage = Storage::connect(&url).await?;
    let admin = http_client(&url_api, NS).await?;
    create_namespaces(&admin, args.namespaces).await?;
    create_default_pool(&admin).await?;

    let tracker = Arc::new(Tracker::default());
    let zone_watch = track(
        http_client(&url_api, NS).await?,
        tracker.clone(),
        Kind::Zone,
        seen_zone,
    )
    .await?;
    let rs_watch = track(
        http_client(&url_api, NS).await?,
        tracker.clone(),
        Kind::Recordset,
        seen_recordset,
    )
    .await?;
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        clients.push(http_client(&url_api, NS).await?);
    }
    let (rss_ready, _) = memory();

    print_header(args, &backend);
    let zones_rs = format!(
        "{} zones, {} recordsets",
        args.zones,
        args.zones * args.recordsets_per_zone
    );

    eprintln!("phase 1: load");
    let running = start_controllers(&server, &storage);
    let load = load(&server, &clients, &tracker, &running, args).await?;
    let (rss_loaded, hwm_loaded) = memory();
    println!("### Load ({zones_rs}, {} clients)\n", args.clients);
    print_bulk(&[load]);

    eprintln!("phase 2: no-op reconciles (restart, pool label)");
    let (restarted, stopped, running) = restart(&server, &storage, running, args).await?;
    let (rss_restarted, hwm_restarted) = memory();
    let relabeled = relabel_pool(&server, &admin, &running, args).await?;
    println!("\n### No-op reconciles ({zones_rs})\n");
    print_noop(&[restarted, relabeled], stopped, args);

    eprintln!("phase 3: bulk changes");
    let changes = bulk_changes(&server, &clients, &tracker, &running, args).await?;
    println!(
        "\n### Changes: one recordset in each of {} zones ({} clients)\n",
        args.changed_zones.min(args.zones),
        args.clients
    );
    print_bulk(&[changes]);

    eprintln!("phase 4: single changes");
    let single = single_changes(&clients[0], &tracker, None, args, 0).await?;
    let poller = Storage::connect(&url).await?;
    let polled = single_changes(&clients[0], &tracker, Some(&poller), args, 1).await?;
    let (rss_end, hwm_end) = memory();
    println!(
        "\n### Single changes, one after another ({} per run, {zones_rs} loaded)\n",
        args.changes
    );
    print_latency(&[("watch only", &single), ("watch + storage polled", &polled)]);

    match running.stop().await {
        Ok(took) => eprintln!("controllers stopped in {:.2} s", took.as_secs_f64()),
        Err(e) => eprintln!("{e:#}"),
    }
    zone_watch.abort();
    rs_watch.abort();
    serve.abort();

    println!(
        "\n### Memory (this process: API server, controllers, storage pool, clients, watchers)\n"
    );
    println!("| Point | VmRSS (MiB) | VmHWM (MiB) |");
    println!("|---|---:|---:|");
    for (point, rss, hwm) in [
        ("process start", rss_start, rss_start),
        ("server, clients and watchers ready", rss_ready, rss_ready),
        ("after the load", rss_loaded, hwm_loaded),
        ("after the restart", rss_restarted, hwm_restarted),
        ("at the end", rss_end, hwm_end),
    ] {
        println!("| {point} | {} | {} |", mib(rss), mib(hwm));
    }
    println!("\nTotal run time: {:.1} s", started.elapsed().as_secs_f64());
    poller.close().await?;
    storage.close().await?;
    if let Some(database) = database {
        database.cleanup().await?;
    }
    Ok(())
}

fn print_header(args: &Args, backend: &str) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("## Controllers benchmark (central_bench)\n");
    println!(
        "API server, controllers (in-process client), storage ({backend}) and {} loopback-HTTP clients plus 2 watchers in one process ({cores} tokio worker threads); {} zones over {} namespaces, {} A recordsets each; zone quota unlimited. CPU columns: average cores used by this process / by everything else on the machine.\n",
        args.clients, args.zones, args.namespaces, args.recordsets_per_zone
    );
}
