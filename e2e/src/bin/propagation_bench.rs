//! Propagation benchmark: how soon a change made through the Kubernetes API
//! is served by real nameservers and shown ACTIVE, and how fast MiniDNS
//! transfers zones.
//!
//! Runs the real `designate-operator standalone` (the build next to this
//! binary; fresh temp data dir, SQLite), a BIND 9 `named` and a PowerDNS
//! `pdns_server` of its own on loopback (`designate_backends::testing`), and
//! a Pool with both as targets (bind9 through rndc, pdns4 through its HTTP
//! API with the key in a Secret) and as nameservers, applied with a
//! `kube::Client` over HTTP as kubectl would. "Served" is the first answer to
//! SOA queries sent every `--poll-ms` (at a newer serial, for a change);
//! "ACTIVE" is the watch event of the status. Passes: BIND as it ships
//! (`serial-query-rate` 20/s, 10 transfers in, 2 per primary: the testing
//! module's raised settings are taken out), the same with the bind9
//! target's `zone_file_dir` (new zones reach BIND with their data; creates
//! and bursts only), then `serial-query-rate` at `--fast-rate`. Phases:
//!
//! 1. floor: what the nameservers take by themselves, with MiniDNS as their
//!    primary and no operator in the path: zones published into storage
//!    directly, then the backend's `create_zone` (`rndc addzone`; PowerDNS
//!    API create and `axfr-retrieve`), a NOTIFY of a new serial, or the
//!    backend's `update_zone` (`rndc refresh`; `axfr-retrieve`), timed from
//!    its return to served;
//! 2. zone creates: `--zones` Zones created one at a time, each after a
//!    pause once the previous one settled ("spaced"), then each as soon as
//!    the previous one settled ("back-to-back"); timed from the create
//!    call's return to served by BIND, by PowerDNS, and to the Zone ACTIVE;
//! 3. recordset changes: `--changes` merge patches of a Recordset's records,
//!    spaced then back-to-back; timed from the patch call's return to the
//!    new serial served by each, the Recordset ACTIVE at its new generation
//!    and the Zone ACTIVE at the new serial;
//! 4. a burst: `--burst` Zones created at once by `--burst-clients`
//!    clients, each zone timed from the first call to served by BIND, by
//!    PowerDNS, and ACTIVE (the max: all of them).
//!
//! Spaced rows isolate one change. BIND's rate limiter of SOA queries
//! (`serial-query-rate`, 20/s) releases queued queries in batches every
//! 500 ms once busy and goes idle at a tick that finds none, so a query
//! sent 600 ms (`--gap-ms`) after the last one never waits for a tick; the
//! pauses are spread over one more second (`--jitter-ms`) because PowerDNS
//! takes up NOTIFYs once a second, and evenly spaced changes would all fall
//! at one phase of that loop. Back-to-back rows show what a user making
//! changes one after another gets.
//!
//! Then transfers from MiniDNS over loopback TCP: a zone of `--axfr-records`
//! A records published straight into the operator's database, transferred
//! whole (AXFR; every message decoded, records counted), and IXFRs of
//! changes of `--ixfr-records` records. Prints markdown tables; every wait
//! is bounded by `--timeout-secs`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use designate_backends::Target;
use designate_backends::testing::{Bind, PowerDns, STOCK_SERIAL_QUERY_RATE};
use designate_central::managed::apex_ns_rrset;
use designate_central::{NsRecord, Rrset, Soa, ZoneKind, ZoneRow};
use designate_crd::{
    HostPort, Pool, PoolNsRecord, PoolSpec, PoolTarget, Recordset, RecordsetSpec, ResourceStatus,
    SecretRef, Zone, ZoneSpec,
};
use designate_e2e::Standalone;
use designate_e2e::bench::{
    CpuMark, cores_split, cpu_mark, cpu_since, http_client, ms, percentiles, pids_with,
    process_ticks,
};
use designate_e2e::dns::{QUERY_TIMEOUT, soa_serial_fresh, transfer, transfer_query};
use designate_storage::{Storage, ZoneChange};
use futures::StreamExt;
use hickory_proto::rr::RecordType;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tokio::sync::oneshot;

#[derive(Parser, Debug, Clone)]
#[command(
    about = "Zone and recordset propagation to real BIND and PowerDNS, and MiniDNS zone transfers"
)]
struct Args {
    /// Zone creates per row.
    #[arg(long, default_value_t = 50)]
    zones: usize,
    /// Recordset changes per row.
    #[arg(long, default_value_t = 50)]
    changes: usize,
    /// Measurements per floor row.
    #[arg(long, default_value_t = 20)]
    floor_runs: usize,
    /// Least pause after a settled change before the next, in the spaced rows (ms).
    #[arg(long, default_value_t = 600)]
    gap_ms: u64,
    /// Spread added to each pause (ms), so that changes fall at every phase of
    /// the servers' timers (PowerDNS looks at its NOTIFY queue once a second).
    #[arg(long, default_value_t = 1000)]
    jitter_ms: u64,
    /// Interval of the SOA queries that tell when a nameserver serves (ms).
    #[arg(long, default_value_t = 1)]
    poll_ms: u64,
    /// A records of the zone transferred whole.
    #[arg(long, default_value_t = 100_000)]
    axfr_records: usize,
    /// Records changed for each IXFR.
    #[arg(long, default_value_t = 10)]
    ixfr_records: usize,
    /// AXFRs and IXFRs timed.
    #[arg(long, default_value_t = 10)]
    transfer_runs: usize,
    /// BIND's `serial-query-rate` in the `fast` pass; 0 skips it.
    #[arg(long, default_value_t = 1000)]
    fast_rate: u32,
    /// The passes to run, of `stock` (BIND as it ships), `files` (the same
    /// with the bind9 target's `zone_file_dir`: new zones reach BIND with
    /// their data) and `fast` (`serial-query-rate` at `--fast-rate`).
    #[arg(long, value_delimiter = ',', default_value = "stock,files,fast")]
    passes: Vec<String>,
    /// Zones created at once in each pass; 0 skips the bursts.
    #[arg(long, default_value_t = 1000)]
    burst: usize,
    /// Clients creating a burst's zones.
    #[arg(long, default_value_t = 16)]
    burst_clients: usize,
    /// Bound of every wait (s).
    #[arg(long, default_value_t = 15)]
    timeout_secs: u64,
    /// Small numbers for a smoke run (overrides the above).
    #[arg(long)]
    quick: bool,
}

/// Central's default zone quota is 10 per project (namespace).
const ZONES_PER_NAMESPACE: usize = 10;
/// Records per storage change when loading the AXFR zone: storage binds every
/// id of a change in one statement and SQLite takes at most 32,766.
const LOAD_CHUNK: usize = 10_000;
/// The NS record of the bench pool (the SOA MNAME of its zones).
const NS_RECORD: &str = "ns1.example.net.";
const POOL: &str = "bench";
const SECRET: &str = "pdns-api";

// ---------------------------------------------------------------- watches

/// `(namespace, name)`.
type Key = (String, String);
type Check<K> = Box<dyn Fn(&K) -> bool + Send>;

/// What one watcher saw last of each object, and who waits for what.
struct Watched<K> {
    state: Mutex<WatchState<K>>,
}

struct WatchState<K> {
    latest: HashMap<Key, Arc<K>>,
    waiters: Vec<(Key, Check<K>, oneshot::Sender<Instant>)>,
}

impl<K> Watched<K> {
    fn new() -> Self {
        Self {
            state: Mutex::new(WatchState {
                latest: HashMap::new(),
                waiters: Vec::new(),
            }),
        }
    }

    fn seen(&self, key: Key, object: K, at: Instant) {
        let mut state = self.state.lock().expect("watch lock");
        let (met, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut state.waiters)
            .into_iter()
            .partition(|(k, check, _)| *k == key && check(&object));
        state.waiters = rest;
        for (_, _, tx) in met {
            let _ = tx.send(at);
        }
        state.latest.insert(key, Arc::new(object));
    }

    fn latest(&self, key: &Key) -> Option<Arc<K>> {
        self.state
            .lock()
            .expect("watch lock")
            .latest
            .get(key)
            .cloned()
    }

    /// Resolves when an event of `key` passes `check` (at once when the
    /// last one does).
    fn wait(
        &self,
        key: Key,
        check: impl Fn(&K) -> bool + Send + 'static,
    ) -> oneshot::Receiver<Instant> {
        let (tx, rx) = oneshot::channel();
        let mut state = self.state.lock().expect("watch lock");
        if state.latest.get(&key).is_some_and(|o| check(o)) {
            let _ = tx.send(Instant::now());
        } else {
            state.waiters.push((key, Box::new(check), tx));
        }
        rx
    }
}

/// Feeds `watched` from a watcher on every object of `K`, as `kubectl get -w`
/// would see them; returns once the first list is in.
async fn watch<K>(client: Client, watched: Arc<Watched<K>>) -> Result<()>
where
    K: Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (ready_tx, ready_rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(watcher(Api::<K>::all(client), watcher::Config::default()));
        let mut ready = Some(ready_tx);
        while let Some(event) = stream.next().await {
            let at = Instant::now();
            match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                    let key = (o.namespace().unwrap_or_default(), o.name_any());
                    watched.seen(key, o, at);
                }
                Ok(watcher::Event::InitDone) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
                Ok(_) => {}
                Err(e) => eprintln!("watcher: {e}"),
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(30), ready_rx)
        .await
        .context("a watcher did not finish its first list")??;
    Ok(())
}

fn zone_active(zone: &Zone) -> bool {
    zone.status.as_ref().is_some_and(|s| {
        s.status == Some(ResourceStatus::Active)
            && s.observed_generation == zone.metadata.generation
            && s.serial.is_some()
    })
}

fn zone_serial(zone: &Zone) -> Option<i64> {
    zone.status.as_ref().and_then(|s| s.serial)
}

fn recordset_active(rs: &Recordset) -> bool {
    rs.status.as_ref().is_some_and(|s| {
        s.status == Some(ResourceStatus::Active) && s.observed_generation == rs.metadata.generation
    })
}

// ---------------------------------------------------------------- servers

/// When `server` first answers the zone's SOA (at a serial above `above`,
/// if given), asking every `poll`; `None` after `timeout`.
async fn served(
    server: SocketAddr,
    zone: String,
    above: Option<u32>,
    poll: Duration,
    timeout: Duration,
) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(serial) = soa_serial_fresh(server, &zone).await
            && above.is_none_or(|above| serial > above)
        {
            return Some(Instant::now());
        }
        if Instant::now() > deadline {
            eprintln!("  {server} does not serve {zone} (above {above:?}) after {timeout:?}");
            return None;
        }
        tokio::time::sleep(poll).await;
    }
}

/// The oneshot's instant, `None` when it does not come within `timeout`.
async fn within(timeout: Duration, rx: oneshot::Receiver<Instant>, what: &str) -> Option<Instant> {
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(at)) => Some(at),
        _ => {
            eprintln!("  {what}: not within {timeout:?}");
            None
        }
    }
}

/// The servers under test and what reaches them.
struct World {
    args: Args,
    client: Client,
    bind: Bind,
    pdns: PowerDns,
    mdns: SocketAddr,
    /// The operator's database: for the floor's zones and the transfers.
    storage: Storage,
    pool_id: String,
    zones: Arc<Watched<Zone>>,
    recordsets: Arc<Watched<Recordset>>,
    /// The operator, named and pdns_server, for the CPU columns.
    servers: Vec<u32>,
    /// Pauses made so far, for their spread.
    pauses: AtomicUsize,
    /// The bind9 target's `zone_file_dir` in the passes that set it.
    zone_files: std::path::PathBuf,
}

impl World {
    fn poll(&self) -> Duration {
        Duration::from_millis(self.args.poll_ms)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.args.timeout_secs)
    }

    /// Sleeps `--gap-ms` plus the next share of `--jitter-ms`, spread evenly
    /// (golden-ratio sequence) rather than at random, for repeatable runs.
    async fn pause(&self) {
        let k = self.pauses.fetch_add(1, Ordering::Relaxed);
        let share = (k as f64 * 0.618_033_988_75).fract();
        let jitter = Duration::from_secs_f64(share * self.args.jitter_ms as f64 / 1e3);
        tokio::time::sleep(Duration::from_millis(self.args.gap_ms) + jitter).await;
    }

    fn spaced(&self) -> String {
        format!(
            "spaced {}-{} ms",
            self.args.gap_ms,
            self.args.gap_ms + self.args.jitter_ms
        )
    }

    fn served(
        &self,
        server: SocketAddr,
        zone: &str,
        above: Option<i64>,
    ) -> tokio::task::JoinHandle<Option<Instant>> {
        tokio::spawn(served(
            server,
            zone.to_string(),
            above.map(|s| s as u32),
            self.poll(),
            self.timeout(),
        ))
    }

    /// Adds sample `i` of `block`, from `from` to when `server` served; on a
    /// miss, prints the end of that server's log (the why is there).
    async fn add_served(
        &self,
        block: &mut Block,
        i: usize,
        from: Instant,
        server: tokio::task::JoinHandle<Option<Instant>>,
        addr: SocketAddr,
    ) -> Result<()> {
        let at = server.await?;
        if at.is_none() {
            let logs = if addr == self.bind.dns_addr() {
                self.bind.logs()
            } else {
                self.pdns.logs()
            };
            eprintln!("--- log of {addr} ---\n{logs}\n---");
        }
        block.add(i, from, at);
        Ok(())
    }

    fn servers_ticks(&self) -> u64 {
        self.servers.iter().map(|pid| process_ticks(*pid)).sum()
    }

    fn cpu(&self) -> (CpuMark, u64) {
        (cpu_mark(), self.servers_ticks())
    }

    fn cores_since(&self, (mark, ticks): (CpuMark, u64)) -> String {
        let cpu = cpu_since(mark);
        cores_split(cpu, self.servers_ticks().saturating_sub(ticks))
    }

    async fn namespace(&self, name: &str) -> Result<()> {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        match Api::<Namespace>::all(self.client.clone())
            .create(&PostParams::default(), &ns)
            .await
        {
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
            other => other.map(drop).map_err(Into::into),
        }
    }
}

// ---------------------------------------------------------------- rows

/// Samples of one measure; `misses` did not happen within the timeout.
#[derive(Default)]
struct Series {
    samples: Vec<Duration>,
    misses: usize,
}

/// One group of rows: a phase under one BIND setting and mode.
struct Block {
    setting: String,
    mode: String,
    measures: Vec<(&'static str, Series)>,
    cpu: String,
}

impl Block {
    fn new(setting: &str, mode: &str, measures: &[&'static str]) -> Self {
        Self {
            setting: setting.to_string(),
            mode: mode.to_string(),
            measures: measures.iter().map(|m| (*m, Series::default())).collect(),
            cpu: String::new(),
        }
    }

    /// Adds a sample of measure `i`: from `from` to `at`, or a miss.
    fn add(&mut self, i: usize, from: Instant, at: Option<Instant>) {
        let series = &mut self.measures[i].1;
        match at {
            Some(at) => series.samples.push(at.saturating_duration_since(from)),
            None => series.misses += 1,
        }
    }
}

fn print_blocks(blocks: &[Block]) {
    println!(
        "| BIND serial-query-rate | Mode | Measure | n | missed | p50 (ms) | p99 (ms) | max (ms) | CPU cores bench / servers / other |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|");
    for block in blocks {
        for (measure, series) in &block.measures {
            let p = percentiles(series.samples.clone());
            println!(
                "| {} | {} | {measure} | {} | {} | {} | {} | {} | {} |",
                block.setting,
                block.mode,
                series.samples.len(),
                series.misses,
                ms(p.p50),
                ms(p.p99),
                ms(p.max),
                block.cpu,
            );
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn zone_row(id: &str, name: &str, pool_id: &str) -> ZoneRow {
    ZoneRow {
        id: id.to_string(),
        project: "propagation-bench".into(),
        name: name.to_string(),
        pool_id: pool_id.to_string(),
        kind: ZoneKind::Primary,
        ttl: 3600,
        description: None,
        masters: Vec::new(),
        soa: Soa {
            mname: NS_RECORD.into(),
            email: "hostmaster@example.net".into(),
            refresh: 3600,
            retry: 600,
            expire: 86400,
            minimum: 3600,
        },
    }
}

fn a_rrset(id: String, name: String, ip: String) -> Rrset {
    Rrset {
        id,
        name,
        type_: "A".into(),
        ttl: None,
        records: vec![ip],
        description: None,
        managed: false,
    }
}

/// One change of a zone straight into storage (created when `base` is
/// `None`, with its apex NS); the new serial.
async fn publish(
    storage: &Storage,
    zone: &ZoneRow,
    base: Option<i64>,
    mut upsert: Vec<Rrset>,
) -> Result<i64> {
    if base.is_none() {
        let ns = [NsRecord {
            hostname: NS_RECORD.into(),
            priority: 1,
        }];
        upsert.push(apex_ns_rrset(&zone.id, &zone.name, &ns));
    }
    let change = ZoneChange {
        zone: zone.clone(),
        fingerprint: format!("{base:?}"),
        base_serial: base,
        upsert,
        delete: Vec::new(),
        serial: None,
    };
    Ok(storage.publish(&change, unix_now()).await?)
}

// ---------------------------------------------------------------- phases

/// The nameservers alone: a backend's create, a NOTIFY or a backend's
/// update, timed from its return to served.
async fn floor(world: &World, setting: &str, tag: &str) -> Result<Block> {
    let mut block = Block::new(
        setting,
        &world.spaced(),
        &[
            "BIND: `rndc addzone` returned → served",
            "BIND: NOTIFY acknowledged → new serial served",
            "BIND: `rndc refresh` returned → new serial served",
            "PowerDNS: API create + axfr-retrieve returned → served",
            "PowerDNS: NOTIFY acknowledged → new serial served",
            "PowerDNS: API axfr-retrieve returned → new serial served",
        ],
    );
    let servers: [(&str, Target, SocketAddr); 2] = [
        (
            "bind",
            world.bind.target(&[world.mdns]),
            world.bind.dns_addr(),
        ),
        (
            "pdns",
            world.pdns.target(&[world.mdns]),
            world.pdns.dns_addr(),
        ),
    ];
    let cpu = world.cpu();
    for i in 0..world.args.floor_runs {
        for (s, (server, target, addr)) in servers.iter().enumerate() {
            let backend = designate_backends::backend(target)?;
            let name = format!("f{i}-{server}-{tag}.floor.example.net.");
            let zone = zone_row(&format!("floor-{tag}-{server}-{i}"), &name, &world.pool_id);
            let www = |n: usize| {
                vec![a_rrset(
                    format!("{}-www", zone.id),
                    format!("www.{name}"),
                    format!("192.0.2.{n}"),
                )]
            };
            let mut serial = publish(&world.storage, &zone, None, www(1)).await?;
            backend.create_zone(&name).await?;
            let t1 = Instant::now();
            let served = world.served(*addr, &name, None);
            world
                .add_served(&mut block, 3 * s, t1, served, *addr)
                .await?;
            for k in 1..3 {
                world.pause().await;
                let before = serial;
                serial = publish(&world.storage, &zone, Some(before), www(k + 1)).await?;
                if k == 1 {
                    designate_mdns::notify(&name, serial as u32, *addr, None, QUERY_TIMEOUT)
                        .await?;
                } else {
                    backend.update_zone(&name).await?;
                }
                let t1 = Instant::now();
                let served = world.served(*addr, &name, Some(before));
                world
                    .add_served(&mut block, 3 * s + k, t1, served, *addr)
                    .await?;
            }
            world.pause().await;
            // Gone again, so that the nameservers hold only the operator's zones.
            backend.delete_zone(&name).await?;
            world
                .storage
                .delete_zone(&zone.id, &Default::default())
                .await?;
        }
    }
    block.cpu = world.cores_since(cpu);
    Ok(block)
}

/// The mode column and the tag of the rows' object names.
fn mode(world: &World, spaced: bool) -> (String, &'static str) {
    if spaced {
        (world.spaced(), "s")
    } else {
        ("back-to-back".into(), "b")
    }
}

fn zone_object(name: &str, fqdn: &str) -> Zone {
    Zone::new(
        name,
        ZoneSpec {
            name: fqdn.to_string(),
            email: Some("hostmaster@example.com".into()),
            pool_ref: Some(POOL.into()),
            ..ZoneSpec::default()
        },
    )
}

/// `n` zones created one after another, each as soon as the previous one
/// settled, or (`spaced`) after a pause.
async fn zone_creates(
    world: &World,
    setting: &str,
    tag: &str,
    spaced: bool,
    n: usize,
) -> Result<Block> {
    let (mode, mode_tag) = mode(world, spaced);
    let mut block = Block::new(
        setting,
        &mode,
        &[
            "create call answered (from its start)",
            "served by BIND",
            "served by PowerDNS",
            "Zone ACTIVE (watch)",
        ],
    );
    let cpu = world.cpu();
    for i in 0..n {
        let ns = format!("prop-{tag}-{mode_tag}-{}", i / ZONES_PER_NAMESPACE);
        if i % ZONES_PER_NAMESPACE == 0 {
            world.namespace(&ns).await?;
        }
        let name = format!("z{i}");
        let fqdn = format!("z{i}-{mode_tag}-{tag}.bench.example.com.");
        let active = world.zones.wait((ns.clone(), name.clone()), zone_active);
        let api = Api::<Zone>::namespaced(world.client.clone(), &ns);
        let t0 = Instant::now();
        api.create(&PostParams::default(), &zone_object(&name, &fqdn))
            .await?;
        let t1 = Instant::now();
        let bind = world.served(world.bind.dns_addr(), &fqdn, None);
        let pdns = world.served(world.pdns.dns_addr(), &fqdn, None);
        let active = within(world.timeout(), active, &format!("zone {ns}/{name} ACTIVE")).await;
        block.add(0, t0, Some(t1));
        world
            .add_served(&mut block, 1, t1, bind, world.bind.dns_addr())
            .await?;
        world
            .add_served(&mut block, 2, t1, pdns, world.pdns.dns_addr())
            .await?;
        block.add(3, t1, active);
        if spaced {
            world.pause().await;
        }
    }
    block.cpu = world.cores_since(cpu);
    Ok(block)
}

/// `n` zones created at once by `--burst-clients` clients, each series timed
/// from the first call: when each call returned, each zone was first served
/// by BIND and by PowerDNS, and went ACTIVE; the max is when all were.
async fn burst(world: &World, setting: &str, tag: &str, n: usize) -> Result<Block> {
    let clients = world.args.burst_clients.max(1);
    let mut block = Block::new(
        setting,
        &format!("burst of {n}, {clients} clients"),
        &[
            "create call answered",
            "served by BIND",
            "served by PowerDNS",
            "Zone ACTIVE (watch)",
        ],
    );
    let zones: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            (
                format!("prop-{tag}-burst-{}", i / ZONES_PER_NAMESPACE),
                format!("z{i}"),
                format!("z{i}-burst-{tag}.bench.example.com."),
            )
        })
        .collect();
    for (ns, ..) in zones.iter().step_by(ZONES_PER_NAMESPACE) {
        world.namespace(ns).await?;
    }
    let actives: Vec<_> = zones
        .iter()
        .map(|(ns, name, _)| world.zones.wait((ns.clone(), name.clone()), zone_active))
        .collect();
    // BIND takes 20 new zones a second at its stock rate: room for that.
    let timeout = world.timeout() + Duration::from_millis(100 * n as u64);
    let cpu = world.cpu();
    let t0 = Instant::now();
    let fqdns: Vec<String> = zones.iter().map(|(.., fqdn)| fqdn.clone()).collect();
    let bind = tokio::spawn(sweep(world.bind.dns_addr(), fqdns.clone(), t0 + timeout));
    let pdns = tokio::spawn(sweep(world.pdns.dns_addr(), fqdns, t0 + timeout));
    let created: Vec<Option<Instant>> = futures::stream::iter(&zones)
        .map(|(ns, name, fqdn)| {
            let api = Api::<Zone>::namespaced(world.client.clone(), ns);
            async move {
                match api
                    .create(&PostParams::default(), &zone_object(name, fqdn))
                    .await
                {
                    Ok(_) => Some(Instant::now()),
                    Err(error) => {
                        eprintln!("  create {ns}/{name}: {error}");
                        None
                    }
                }
            }
        })
        .buffered(clients)
        .collect()
        .await;
    let active = futures::future::join_all(actives.into_iter().map(|rx| async move {
        tokio::time::timeout_at(tokio::time::Instant::from_std(t0 + timeout), rx)
            .await
            .ok()?
            .ok()
    }))
    .await;
    let series = [created, bind.await?, pdns.await?, active];
    for (i, times) in series.into_iter().enumerate() {
        for at in times {
            block.add(i, t0, at);
        }
    }
    block.cpu = world.cores_since(cpu);
    Ok(block)
}

/// When each of `zones` was first served by `server`: asked in turn, over
/// and over, until all are or `deadline`; at most 2,000 queries a second,
/// so that thousands of waiting zones do not load the servers measured.
async fn sweep(server: SocketAddr, zones: Vec<String>, deadline: Instant) -> Vec<Option<Instant>> {
    let mut served = vec![None; zones.len()];
    let mut pace = tokio::time::interval(Duration::from_micros(500));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while Instant::now() < deadline && served.iter().any(Option::is_none) {
        for (zone, at) in zones.iter().zip(&mut served) {
            if at.is_none() {
                pace.tick().await;
                if soa_serial_fresh(server, zone).await.is_some() {
                    *at = Some(Instant::now());
                }
            }
        }
    }
    served
}

/// Sets or clears the bind9 target's `zone_file_dir`, and gives the
/// operator a moment to see the Pool change.
async fn set_zone_files(world: &World, on: bool) -> Result<()> {
    let mut targets = pool(&world.bind, &world.pdns, world.mdns).spec.targets;
    if on {
        let dir = world.zone_files.display().to_string();
        targets[0].options.insert("zone_file_dir".into(), dir);
    }
    Api::<Pool>::all(world.client.clone())
        .patch(
            POOL,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"targets": targets}})),
        )
        .await?;
    // Every zone of the pool is looked at again: let that pass first.
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

/// Merge patches of one Recordset's records, each as soon as the previous
/// one settled, or (`spaced`) after a pause.
async fn recordset_changes(world: &World, setting: &str, tag: &str, spaced: bool) -> Result<Block> {
    let (mode, mode_tag) = mode(world, spaced);
    let mut block = Block::new(
        setting,
        &mode,
        &[
            "patch call answered (from its start)",
            "new serial served by BIND",
            "new serial served by PowerDNS",
            "Recordset ACTIVE at its new generation (watch)",
            "Zone ACTIVE at the new serial (watch)",
        ],
    );
    let ns = format!("prop-{tag}-changes-{mode_tag}");
    world.namespace(&ns).await?;
    let fqdn = format!("changes-{mode_tag}-{tag}.bench.example.com.");
    let zone_key = (ns.clone(), "changes".to_string());
    let rs_key = (ns.clone(), "www".to_string());
    let zone_ready = world.zones.wait(zone_key.clone(), zone_active);
    let rs_ready = world.recordsets.wait(rs_key.clone(), recordset_active);
    Api::<Zone>::namespaced(world.client.clone(), &ns)
        .create(&PostParams::default(), &zone_object("changes", &fqdn))
        .await?;
    let rs_api = Api::<Recordset>::namespaced(world.client.clone(), &ns);
    let www = Recordset::new(
        "www",
        RecordsetSpec {
            zone_ref: "changes".into(),
            name: format!("www.{fqdn}"),
            type_: "A".into(),
            records: vec!["192.0.2.1".into()],
            ..RecordsetSpec::default()
        },
    );
    rs_api.create(&PostParams::default(), &www).await?;
    let ready = async {
        within(world.timeout(), zone_ready, "the changes zone").await?;
        within(world.timeout(), rs_ready, "its recordset").await
    };
    ready
        .await
        .context("the zone for the changes did not settle")?;
    // Served everywhere at the serial its status shows before the first change.
    let serial = world
        .zones
        .latest(&zone_key)
        .as_deref()
        .and_then(zone_serial)
        .context("zone without serial")?;
    for server in [world.bind.dns_addr(), world.pdns.dns_addr()] {
        world
            .served(server, &fqdn, Some(serial - 1))
            .await?
            .context("the changes zone is not served")?;
    }
    world.pause().await;

    let cpu = world.cpu();
    for k in 0..world.args.changes {
        let before = world
            .zones
            .latest(&zone_key)
            .as_deref()
            .and_then(zone_serial)
            .context("zone without serial")?;
        let generation = world
            .recordsets
            .latest(&rs_key)
            .and_then(|rs| rs.metadata.generation)
            .context("recordset without generation")?;
        let rs_done = world.recordsets.wait(rs_key.clone(), move |rs| {
            recordset_active(rs) && rs.metadata.generation > Some(generation)
        });
        let zone_done = world.zones.wait(zone_key.clone(), move |z| {
            zone_active(z) && zone_serial(z) > Some(before)
        });
        let patch = json!({ "spec": { "records": [format!("198.51.100.{}", k % 250 + 1)] } });
        let t0 = Instant::now();
        rs_api
            .patch("www", &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        let t1 = Instant::now();
        let bind = world.served(world.bind.dns_addr(), &fqdn, Some(before));
        let pdns = world.served(world.pdns.dns_addr(), &fqdn, Some(before));
        let rs_at = within(world.timeout(), rs_done, "recordset ACTIVE").await;
        let zone_at = within(world.timeout(), zone_done, "zone ACTIVE at a new serial").await;
        block.add(0, t0, Some(t1));
        world
            .add_served(&mut block, 1, t1, bind, world.bind.dns_addr())
            .await?;
        world
            .add_served(&mut block, 2, t1, pdns, world.pdns.dns_addr())
            .await?;
        block.add(3, t1, rs_at);
        block.add(4, t1, zone_at);
        if spaced {
            world.pause().await;
        }
    }
    block.cpu = world.cores_since(cpu);
    Ok(block)
}

// ---------------------------------------------------------------- transfers

/// Transfer rows: label, samples, records, messages, bytes.
struct TransferRow {
    what: String,
    samples: Vec<Duration>,
    records: usize,
    messages: usize,
    bytes: usize,
}

async fn transfers(world: &World) -> Result<(Duration, Vec<TransferRow>, String)> {
    let args = &world.args;
    let name = "big.axfr.example.net.";
    let zone = zone_row("propagation-bench-axfr", name, &world.pool_id);
    let host = |i: usize| {
        a_rrset(
            format!("axfr-{i}"),
            format!("host-{i}.{name}"),
            format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
        )
    };
    let load = Instant::now();
    let mut serial = publish(&world.storage, &zone, None, Vec::new()).await?;
    let ids: Vec<usize> = (0..args.axfr_records).collect();
    for chunk in ids.chunks(LOAD_CHUNK) {
        let upsert = chunk.iter().map(|i| host(*i)).collect();
        serial = publish(&world.storage, &zone, Some(serial), upsert).await?;
    }
    let load = load.elapsed();
    eprintln!(
        "  {} records published in {:.1} s",
        args.axfr_records,
        load.as_secs_f64()
    );

    let cpu = world.cpu();
    let timeout = world.timeout();
    let axfr_request = transfer_query(name, RecordType::AXFR, None)?;
    let mut axfr = TransferRow {
        what: format!("AXFR of {} A records", args.axfr_records),
        samples: Vec::new(),
        records: 0,
        messages: 0,
        bytes: 0,
    };
    // NS, the records, the SOA at both ends.
    let expected = args.axfr_records + 3;
    for _ in 0..args.transfer_runs {
        let got = transfer(world.mdns, &axfr_request, timeout).await?;
        if got.records != expected {
            bail!("AXFR brought {} records, not {expected}", got.records);
        }
        axfr.samples.push(got.took);
        (axfr.records, axfr.messages, axfr.bytes) = (got.records, got.messages, got.bytes);
    }

    let n = args.ixfr_records.min(args.axfr_records);
    let mut ixfr = TransferRow {
        what: format!(
            "IXFR of a {n}-record change (zone of {} records)",
            args.axfr_records
        ),
        samples: Vec::new(),
        records: 0,
        messages: 0,
        bytes: 0,
    };
    // Each change replaces `n` records: the old SOA, n removed, the new SOA,
    // n added, framed by the new SOA.
    let expected = 2 * n + 4;
    for run in 0..args.transfer_runs {
        let changed = (0..n)
            .map(|j| {
                let i = (run * n + j) % args.axfr_records;
                a_rrset(
                    format!("axfr-{i}"),
                    format!("host-{i}.{name}"),
                    format!("172.16.{}.{}", run % 256, j % 256),
                )
            })
            .collect();
        let before = serial;
        serial = publish(&world.storage, &zone, Some(serial), changed).await?;
        let request = transfer_query(name, RecordType::IXFR, Some(before as u32))?;
        let got = transfer(world.mdns, &request, timeout).await?;
        if got.records != expected {
            bail!("IXFR brought {} records, not {expected}", got.records);
        }
        ixfr.samples.push(got.took);
        (ixfr.records, ixfr.messages, ixfr.bytes) = (got.records, got.messages, got.bytes);
    }
    let cpu = world.cores_since(cpu);
    world
        .storage
        .delete_zone(&zone.id, &Default::default())
        .await?;
    Ok((load, vec![axfr, ixfr], cpu))
}

fn print_transfers(load: Duration, rows: &[TransferRow], cpu: &str, args: &Args) {
    println!(
        "| Transfer (new TCP connection, every message decoded) | runs | records | messages | MiB | p50 (ms) | p99 (ms) | max (ms) | records/s at p50 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let p = percentiles(row.samples.clone());
        println!(
            "| {} | {} | {} | {} | {:.2} | {} | {} | {} | {:.0} |",
            row.what,
            row.samples.len(),
            row.records,
            row.messages,
            row.bytes as f64 / 1_048_576.0,
            ms(p.p50),
            ms(p.p99),
            ms(p.max),
            row.records as f64 / p.p50.as_secs_f64().max(1e-9),
        );
    }
    println!(
        "\nLoading the {} records into the operator's SQLite database (changes of {LOAD_CHUNK}): {:.1} s. CPU cores bench / servers / other during the transfers: {cpu}.",
        args.axfr_records,
        load.as_secs_f64()
    );
}

// ---------------------------------------------------------------- setup

fn pool(bind: &Bind, pdns: &PowerDns, mdns: SocketAddr) -> Pool {
    let host = |addr: SocketAddr| HostPort {
        host: addr.ip().to_string(),
        port: i32::from(addr.port()),
    };
    Pool::new(
        POOL,
        PoolSpec {
            ns_records: vec![PoolNsRecord {
                hostname: NS_RECORD.into(),
                priority: 1,
            }],
            nameservers: vec![host(bind.dns_addr()), host(pdns.dns_addr())],
            targets: vec![
                PoolTarget {
                    type_: "bind9".into(),
                    masters: vec![host(mdns)],
                    options: bind.target_options(),
                    ..PoolTarget::default()
                },
                PoolTarget {
                    type_: "pdns4".into(),
                    masters: vec![host(mdns)],
                    options: pdns.target_options(),
                    secret_ref: Some(SecretRef {
                        name: SECRET.into(),
                        namespace: None,
                    }),
                    ..PoolTarget::default()
                },
            ],
            ..PoolSpec::default()
        },
    )
}

async fn setup(
    args: &Args,
    standalone: &Standalone,
    zone_files: std::path::PathBuf,
) -> Result<World> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mdns = loop {
        if let Some(addr) = standalone.mdns_addr() {
            break addr;
        }
        if Instant::now() > deadline {
            bail!("the operator printed no MiniDNS address");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let bind = Bind::start().await.context("starting BIND")?;
    let pdns = PowerDns::start().await.context("starting PowerDNS")?;
    let client = http_client(&standalone.url(), "default").await?;

    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(SECRET.into()),
            ..ObjectMeta::default()
        },
        data: Some(
            pdns.secrets()
                .into_iter()
                .map(|(k, v)| (k, ByteString(v.into_bytes())))
                .collect(),
        ),
        ..Secret::default()
    };
    Api::<Secret>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &secret)
        .await?;
    let pool = Api::<Pool>::all(client.clone())
        .create(&PostParams::default(), &pool(&bind, &pdns, mdns))
        .await?;
    let pool_id = pool.uid().context("pool without uid")?;

    let zones = Arc::new(Watched::new());
    let recordsets = Arc::new(Watched::new());
    watch(
        http_client(&standalone.url(), "default").await?,
        zones.clone(),
    )
    .await?;
    watch(
        http_client(&standalone.url(), "default").await?,
        recordsets.clone(),
    )
    .await?;

    let url = format!(
        "sqlite://{}?mode=rwc",
        standalone.data_dir().join("designate.db").display()
    );
    let storage = Storage::connect(&url).await?;
    let servers = [
        standalone.data_dir().display().to_string(),
        bind.dir().display().to_string(),
        pdns.dir().display().to_string(),
    ]
    .iter()
    .flat_map(|dir| pids_with(dir))
    .collect::<Vec<_>>();
    eprintln!("{} server processes watched for CPU", servers.len());
    Ok(World {
        args: args.clone(),
        client,
        bind,
        pdns,
        mdns,
        storage,
        pool_id,
        zones,
        recordsets,
        servers,
        pauses: AtomicUsize::new(0),
        zone_files,
    })
}

fn main() -> Result<()> {
    let mut args = Args::parse();
    if args.quick {
        args.zones = args.zones.min(3);
        args.changes = args.changes.min(3);
        args.floor_runs = args.floor_runs.min(2);
        args.axfr_records = args.axfr_records.min(20_000);
        args.transfer_runs = args.transfer_runs.min(3);
        args.burst = args.burst.min(30);
    }
    args.poll_ms = args.poll_ms.max(1);
    args.axfr_records = args.axfr_records.max(1);
    let tmp = tempfile::Builder::new()
        .prefix("designate-propagation-bench-")
        .tempdir()?;
    let zone_files = tmp.path().join("zones");
    std::fs::create_dir(&zone_files)?;
    let standalone = Standalone::try_start_with(
        &tmp.path().join("data"),
        &["--backend-zone-file-dir", &zone_files.display().to_string()],
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&args, &standalone, zone_files))
}

async fn run(args: &Args, standalone: &Standalone, zone_files: std::path::PathBuf) -> Result<()> {
    let started = Instant::now();
    let world = setup(args, standalone, zone_files).await?;
    print_header(args);

    // A first zone, not measured: connections, rndc and both servers warm.
    eprintln!("warm-up");
    zone_creates(&world, "warm-up", "w", false, 1).await?;
    let mut floors = Vec::new();
    let mut creates = Vec::new();
    let mut changes = Vec::new();
    let mut bursts = Vec::new();
    // (rate, its label, tag, whether the bind9 target has zone_file_dir)
    let passes = [
        (
            STOCK_SERIAL_QUERY_RATE,
            format!("{STOCK_SERIAL_QUERY_RATE}/s (stock)"),
            "stock",
            false,
        ),
        (
            STOCK_SERIAL_QUERY_RATE,
            format!("{STOCK_SERIAL_QUERY_RATE}/s (stock), zone_file_dir"),
            "files",
            true,
        ),
        (
            args.fast_rate,
            format!("{}/s", args.fast_rate),
            "fast",
            false,
        ),
    ];
    let passes = passes
        .iter()
        .filter(|(rate, _, tag, _)| *rate > 0 && args.passes.iter().any(|p| p == tag));
    let mut zone_files = false;
    for (rate, setting, tag, files) in passes {
        world.bind.set_serial_query_rate(*rate).await?;
        if *files != zone_files {
            set_zone_files(&world, *files).await?;
            zone_files = *files;
        }
        // Neither the floor (no operator) nor changes (transfers) differ
        // with zone files.
        if !files {
            eprintln!("BIND serial-query-rate {setting}: floor");
            floors.push(floor(&world, setting, tag).await?);
        }
        for spaced in [true, false] {
            eprintln!("BIND serial-query-rate {setting}: zone creates, spaced: {spaced}");
            creates.push(zone_creates(&world, setting, tag, spaced, args.zones).await?);
            if !files {
                eprintln!("BIND serial-query-rate {setting}: recordset changes, spaced: {spaced}");
                changes.push(recordset_changes(&world, setting, tag, spaced).await?);
            }
        }
        if args.burst > 0 {
            eprintln!(
                "BIND serial-query-rate {setting}: a burst of {} zones",
                args.burst
            );
            bursts.push(burst(&world, setting, tag, args.burst).await?);
        }
    }
    eprintln!("transfers");
    let (load, rows, cpu) = transfers(&world).await?;

    println!(
        "### Floor: the nameservers alone, MiniDNS as their primary ({} per row)\n",
        args.floor_runs
    );
    print_blocks(&floors);
    println!(
        "\n### Zone create → served, ACTIVE ({} zones per row)\n",
        args.zones
    );
    print_blocks(&creates);
    println!(
        "\n### Recordset change → served, ACTIVE ({} changes per row)\n",
        args.changes
    );
    print_blocks(&changes);
    if !bursts.is_empty() {
        println!(
            "\n### A burst: {} zones created at once by {} clients; times from the first call, max = all\n",
            args.burst, args.burst_clients
        );
        print_blocks(&bursts);
    }
    println!(
        "\n### Zone transfers from MiniDNS over loopback ({} runs each)\n",
        args.transfer_runs
    );
    print_transfers(load, &rows, &cpu, args);
    println!("\nTotal run time: {:.1} s", started.elapsed().as_secs_f64());
    world.storage.close().await?;
    Ok(())
}

fn print_header(args: &Args) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("## Propagation benchmark (propagation_bench)\n");
    println!(
        "designate-operator standalone (SQLite), BIND 9 (`named -n 1`) and PowerDNS (gsqlite3) on loopback, {cores} cores; pool: both as bind9/pdns4 targets and nameservers. Times from the API call's return unless said; served = first SOA answer (at a newer serial for changes) to queries every {} ms. CPU: average cores used by this process / by the operator, named and pdns_server / by everything else.\n",
        args.poll_ms
    );
}
