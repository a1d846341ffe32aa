//! Helpers shared by the benchmark binaries: loopback `kube::Client`s,
//! percentiles, this process's memory and the CPU used by it, by servers it
//! started and by the rest of the machine (from /proc), and a driver of
//! concurrent clients, and zone files.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Result;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// A client with its own connection pool for the API at `url` (plain HTTP,
/// no token), built from a kubeconfig as a separate program's would be.
pub async fn http_client(url: &str, namespace: &str) -> Result<Client> {
    let yaml = designate_apiserver::kubeconfig(url, None, None, namespace);
    let kubeconfig = Kubeconfig::from_yaml(&yaml)?;
    let config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

/// p50 and p99 as the task defines them: sorted, index n*p/100, clamped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

pub fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    if samples.is_empty() {
        return Percentiles::default();
    }
    samples.sort_unstable();
    let n = samples.len();
    let at = |p: usize| samples[(n * p / 100).min(n - 1)];
    Percentiles {
        p50: at(50),
        p99: at(99),
        max: samples[n - 1],
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// VmRSS and VmHWM of this process, in KiB.
pub fn memory() -> (u64, u64) {
    status_memory(&std::fs::read_to_string("/proc/self/status").unwrap_or_default())
}

pub fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// A server process this bench started: its pid, for CPU and memory.
#[derive(Clone, Copy, Debug)]
pub struct Process {
    pub pid: u32,
}

impl Process {
    /// The `designate-operator standalone` serving `data_dir`.
    pub fn standalone_on(data_dir: &std::path::Path) -> Result<Self> {
        pids_with(&data_dir.display().to_string())
            .into_iter()
            .find(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("standalone"))
            })
            .map(|pid| Self { pid })
            .ok_or_else(|| anyhow::anyhow!("the operator's pid was not found"))
    }

    /// VmRSS and VmHWM in KiB.
    pub fn memory(&self) -> (u64, u64) {
        status_memory(
            &std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default(),
        )
    }

    pub fn ticks(&self) -> u64 {
        process_ticks(self.pid)
    }
}

/// VmRSS and VmHWM of a `/proc/PID/status`, in KiB.
fn status_memory(status: &str) -> (u64, u64) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The loaded zones' names (`z{k}.load.example.com.`); the REST API's
/// convention names the Zone object after it without the final dot.
fn load_zone_name(k: usize) -> String {
    format!("z{k}.load.example.com.")
}

/// The `k`th zone of a load through the Kubernetes API.
fn load_zone(k: usize) -> designate_crd::Zone {
    let name = load_zone_name(k);
    designate_crd::Zone::new(
        name.trim_end_matches('.'),
        designate_crd::ZoneSpec {
            name: name.clone(),
            email: Some("hostmaster@example.com".into()),
            ttl: Some(3600),
            ..Default::default()
        },
    )
}

/// The `j`th recordset (one A record) of the load's `k`th zone.
fn load_recordset(k: usize, j: usize) -> designate_crd::Recordset {
    designate_crd::Recordset::new(
        &format!("z{k}-r{j}-a"),
        designate_crd::RecordsetSpec {
            zone_ref: load_zone_name(k).trim_end_matches('.').to_string(),
            name: format!("r{j}.z{k}.load.example.com."),
            type_: "A".into(),
            ttl: Some(300),
            records: vec![format!("192.0.2.{}", j % 250 + 1)],
            ..Default::default()
        },
    )
}

/// `standalone` flags raising Central's quotas above a load of `zones`
/// zones (one project holds them all).
pub fn raised_quotas(zones: usize) -> Vec<String> {
    let big = (zones * 10).max(100_000).to_string();
    [
        "--quota-zones",
        &big,
        "--quota-zone-recordsets",
        &big,
        "--quota-zone-records",
        &big,
        "--quota-recordset-records",
        "100",
    ]
    .map(str::to_string)
    .to_vec()
}

/// Loads `zones` zones (`load_zone`) with `recordsets` recordsets spread
/// evenly over them (`load_recordset`) into `namespace`, each client
/// making its share of zones with their recordsets.
pub async fn load(
    clients: &[Client],
    namespace: &'static str,
    zones: usize,
    recordsets: usize,
) -> Phase {
    let n = clients.len().max(1);
    let per_zone = recordsets.checked_div(zones).unwrap_or(0);
    let extra = recordsets.checked_rem(zones).unwrap_or(0);
    drive(clients, zones, move |client, w, i| async move {
        let k = w + i * n;
        kube::Api::<designate_crd::Zone>::namespaced(client.clone(), namespace)
            .create(&Default::default(), &load_zone(k))
            .await?;
        let api = kube::Api::<designate_crd::Recordset>::namespaced(client, namespace);
        for j in 0..per_zone + usize::from(k < extra) {
            api.create(&Default::default(), &load_recordset(k, j))
                .await?;
        }
        Ok(())
    })
    .await
}

/// CPU time of this process and of the whole machine, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    at: Instant,
    own: u64,
    busy: u64,
}

/// Cores in use on average over an interval: by this process and by the rest of the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub own: f64,
    pub other: f64,
    pub secs: f64,
}

/// USER_HZ, 100 on every Linux this runs on.
const TICKS_PER_SEC: f64 = 100.0;

/// User and system ticks from a `/proc/<pid>/stat`; with `children`, also
/// those of the children the process waited for (cutime, cstime).
fn stat_ticks(pid: &str, children: bool) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: state is field 3, utime 14, stime 15,
    // cutime 16, cstime 17.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let take = if children { 4 } else { 2 };
    fields
        .get(11..11 + take)?
        .iter()
        .map(|f| f.parse::<u64>().ok())
        .sum()
}

/// Clock ticks used so far by process `pid` and the children it waited for
/// (a server's helper programs, such as the `rndc` runs of the operator);
/// 0 once it is gone.
pub fn process_ticks(pid: u32) -> u64 {
    stat_ticks(&pid.to_string(), true).unwrap_or(0)
}

/// The processes whose command line contains `needle` (a temp dir of theirs),
/// to account for the CPU of servers a benchmark started.
pub fn pids_with(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                String::from_utf8_lossy(&cmdline)
                    .replace('\0', " ")
                    .contains(needle)
            })
        })
        .collect()
}

/// Cores as [`cores`] prints them, with the share of "other" used by `group`
/// (the servers under test) split out: self / group / rest of the machine.
pub fn cores_split(cpu: CpuUse, group_ticks: u64) -> String {
    if cpu.secs < MIN_CPU_SECS {
        return "n/a (too short)".to_string();
    }
    let group = group_ticks as f64 / TICKS_PER_SEC / cpu.secs;
    format!(
        "{:.2} / {:.2} / {:.2}",
        cpu.own,
        group,
        (cpu.other - group).max(0.0)
    )
}

pub fn cpu_mark() -> CpuMark {
    let own = stat_ticks("self", false).unwrap_or(0);
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|stat| {
            let line = stat.lines().next()?;
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal: all but idle and iowait.
            Some(v.iter().take(8).sum::<u64>() - v.get(3)? - v.get(4)?)
        })
        .unwrap_or(0);
    CpuMark {
        at: Instant::now(),
        own,
        busy,
    }
}

pub fn cpu_since(start: CpuMark) -> CpuUse {
    let end = cpu_mark();
    let secs = (end.at - start.at).as_secs_f64().max(1e-9);
    let own = end.own.saturating_sub(start.own) as f64 / TICKS_PER_SEC;
    let busy = end.busy.saturating_sub(start.busy) as f64 / TICKS_PER_SEC;
    CpuUse {
        own: own / secs,
        other: (busy - own).max(0.0) / secs,
        secs,
    }
}

/// Intervals shorter than this are too coarse for 10 ms ticks.
const MIN_CPU_SECS: f64 = 0.5;

pub fn cores(cpu: CpuUse) -> String {
    if cpu.secs < MIN_CPU_SECS {
        return "n/a (too short)".to_string();
    }
    format!("{:.2} / {:.2}", cpu.own, cpu.other)
}

/// Outcome of one batch of requests made by concurrent workers.
pub struct Phase {
    pub cpu: CpuUse,
    pub clients: usize,
    pub ok: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub wall: Duration,
    pub latency: Percentiles,
}

impl Phase {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Runs `total` operations spread over one worker per client, each worker
/// doing its share one after another; `op(client, worker, i)` is timed.
pub async fn drive<F, Fut>(clients: &[Client], total: usize, op: F) -> Phase
where
    F: Fn(Client, usize, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    let n = clients.len().max(1);
    let mark = cpu_mark();
    let start = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for (w, client) in clients.iter().enumerate() {
        let count = total / n + usize::from(w < total % n);
        let op = op.clone();
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(count);
            let mut errors = 0;
            let mut first_error = None;
            for i in 0..count {
                let t = Instant::now();
                match op(client.clone(), w, i).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    let mut first_error = None;
    for handle in handles {
        match handle.await {
            Ok((l, e, f)) => {
                latencies.extend(l);
                errors += e;
                if first_error.is_none() {
                    first_error = f;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| format!("worker panicked: {e}"));
            }
        }
    }
    let wall = start.elapsed();
    Phase {
        cpu: cpu_since(mark),
        clients: n,
        ok: latencies.len(),
        errors,
        first_error,
        wall,
        latency: percentiles(latencies),
    }
}

/// A zone file of `zone` (no final dot) at `serial`: its SOA and NS (with
/// the NS's address), then `records` A records `host<i>`.
pub fn zone_file(zone: &str, serial: u32, records: u32) -> String {
    use std::fmt::Write as _;
    let mut file = format!(
        "$ORIGIN {zone}.\n$TTL 300\n@ IN SOA ns1.{zone}. admin.{zone}. ( {serial} 3600 600 86400 300 )\n@ IN NS ns1.{zone}.\nns1 IN A 192.0.2.53\n"
    );
    for i in 0..records {
        let _ = writeln!(
            file,
            "host{i} IN A 10.{}.{}.{}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        );
    }
    file
}
