//! Zone file import and export benchmark: the real
//! `designate-operator standalone` (the build next to this binary) with a
//! BIND as the `default` pool's nameserver, driven through the REST API as
//! `openstack zone import create` and `openstack zone export create` /
//! `showfile` drive it.
//!
//! For each size, `--runs` times, a fresh zone of that many A records:
//! 1. import: from the POST to the import task COMPLETE (the zone and every
//!    recordset made), then to the zone ACTIVE (served by the pool's BIND),
//!    then to every recordset ACTIVE (the status writes after the serve;
//!    the next run starts after them);
//! 2. export: from the POST of the export task to the zone file received.
//!
//! `cargo build --release -p designate-operator -p designate-e2e --bin zone_file_bench
//!  && target/release/zone_file_bench --sizes 10000,100000`

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Parser;
use designate_e2e::bench::{ms, percentiles, zone_file};
use designate_e2e::{BindBacked, http_request, rest_request};
use serde_json::Value;

#[derive(Parser)]
struct Args {
    /// Zone sizes in A records.
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    sizes: Vec<u32>,
    /// Zones imported and exported per size.
    #[arg(long, default_value_t = 5)]
    runs: u32,
}

const OWNER: [(&str, &str); 2] = [("X-Auth-Project-ID", "bench"), ("X-Roles", "member,reader")];
const WITHIN: Duration = Duration::from_secs(900);
/// How often a single object is asked for.
const QUICK: Duration = Duration::from_millis(5);

/// Polls `path` every `every` until `done` holds for its body.
fn poll(base: &str, path: &str, every: Duration, done: impl Fn(&Value) -> bool) -> Result<Value> {
    let started = Instant::now();
    loop {
        let body = rest_request(base, "GET", path, &OWNER, None).json();
        if done(&body) {
            return Ok(body);
        }
        if started.elapsed() > WITHIN {
            bail!("{path} not done within {WITHIN:?}: {body}");
        }
        std::thread::sleep(every);
    }
}

/// The import's times to COMPLETE, to the zone ACTIVE and to every
/// recordset ACTIVE, and the zone's id.
fn import(base: &str, file: &str) -> Result<(Duration, Duration, Duration, String)> {
    let started = Instant::now();
    let headers = [OWNER[0], OWNER[1], ("Content-Type", "text/dns")];
    let made = http_request(
        base,
        "POST",
        "/v2/zones/tasks/imports",
        &headers,
        Some(file.as_bytes()),
    )?;
    if made.status != 202 {
        bail!("import: {} {}", made.status, made.text());
    }
    let task = format!(
        "/v2/zones/tasks/imports/{}",
        made.json()["id"].as_str().unwrap_or_default()
    );
    let ended = poll(base, &task, QUICK, |t| t["status"] != "PENDING")?;
    if ended["status"] != "COMPLETE" {
        bail!("import ended {ended}");
    }
    let complete = started.elapsed();
    let zone_id = ended["zone_id"].as_str().unwrap_or_default().to_string();
    poll(base, &format!("/v2/zones/{zone_id}"), QUICK, |z| {
        z["status"] == "ACTIVE"
    })?;
    let active = started.elapsed();
    let pending = format!("/v2/zones/{zone_id}/recordsets?status=PENDING&limit=1");
    // A filtered list reads every recordset of the zone: asked less often,
    // so that the asking does not slow what it measures.
    let every = Duration::from_millis(50);
    poll(base, &pending, every, |page| {
        page["metadata"]["total_count"] == 0
    })?;
    Ok((complete, active, started.elapsed(), zone_id))
}

/// The export's time to the zone file, and the file.
fn export(base: &str, zone_id: &str) -> Result<(Duration, String)> {
    let started = Instant::now();
    let made = rest_request(
        base,
        "POST",
        &format!("/v2/zones/{zone_id}/tasks/export"),
        &OWNER,
        None,
    );
    if made.status != 202 {
        bail!("export: {} {}", made.status, made.text());
    }
    let id = made.json()["id"].as_str().unwrap_or_default().to_string();
    poll(base, &format!("/v2/zones/tasks/exports/{id}"), QUICK, |t| {
        t["status"] != "PENDING"
    })?;
    let file = http_request(
        base,
        "GET",
        &format!("/v2/zones/tasks/exports/{id}/export"),
        &[OWNER[0], OWNER[1], ("Accept", "text/dns")],
        None,
    )?;
    if file.status != 200 {
        bail!("export file: {} {}", file.status, file.text());
    }
    Ok((started.elapsed(), file.text()))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = tempfile::Builder::new()
        .prefix("zone-file-bench-")
        .tempdir()?;
    let largest = args.sizes.iter().max().copied().unwrap_or_default() + 10;
    let quota = largest.to_string();
    let body_limit = (u64::from(largest) * 64).to_string();
    let backed = BindBacked::start(
        tmp.path(),
        &[
            "--max-request-body-size",
            &body_limit,
            "--quota-zone-recordsets",
            &quota,
            "--quota-zone-records",
            &quota,
            "--quota-api-export-size",
            &quota,
        ],
    );
    for &size in &args.sizes {
        let (mut completes, mut actives, mut all_actives, mut exports) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for run in 0..args.runs {
            let zone = format!("z{size}-{run}.bench.test");
            let (complete, active, all_active, zone_id) =
                import(&backed.rest, &zone_file(&zone, 1, size))?;
            let (exported, file) = export(&backed.rest, &zone_id)?;
            let hosts = file.lines().filter(|l| l.starts_with("host")).count();
            if hosts != size as usize {
                bail!("{zone}: exported {hosts} A records of {size}");
            }
            println!(
                "{size} records, run {run}: import COMPLETE {} ms, zone ACTIVE {} ms, \
                 every recordset ACTIVE {} ms, export {} ms",
                ms(complete),
                ms(active),
                ms(all_active),
                ms(exported)
            );
            completes.push(complete);
            actives.push(active);
            all_actives.push(all_active);
            exports.push(exported);
        }
        for (what, samples) in [
            ("import to COMPLETE", completes),
            ("import to ACTIVE (served)", actives),
            ("import to every recordset ACTIVE", all_actives),
            ("export to the file", exports),
        ] {
            let p = percentiles(samples);
            println!(
                "{size} records, {what}, {} runs: p50 {} ms, p99 {} ms",
                args.runs,
                ms(p.p50),
                ms(p.p99)
            );
        }
    }
    Ok(())
}
