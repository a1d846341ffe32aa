//! Migration benchmark: `designate-operator import --from URL` of a
//! Designate 23 database into a fresh `standalone` (the build next to this
//! binary; its `default` pool has no nameservers, so a published zone is
//! ACTIVE at once), `--runs` times:
//! 1. import: the command's run, every object created through the API;
//! 2. every zone ACTIVE: from the command's start until REST lists them all
//!    ACTIVE (Central's rules and the publication of each).
//!
//! The database comes from `e2e/fixtures/designate_db_seed.py CONF ZONES
//! SETS` after `designate-manage database sync` (docs/BENCHMARKS.md).
//!
//! `cargo build --release -p designate-operator -p designate-e2e --bin designate_import_bench
//!  && target/release/designate_import_bench --from mysql://root@127.0.0.1/designate_bench`

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use designate_e2e::bench::{ms, percentiles};
use designate_e2e::{Standalone, operator_bin, rest_request};

#[derive(Parser)]
struct Args {
    /// The Designate database.
    #[arg(long)]
    from: String,
    /// Imports, each into a fresh standalone.
    #[arg(long, default_value_t = 3)]
    runs: u32,
}

const ADMIN: [(&str, &str); 3] = [
    ("X-Auth-Project-ID", "bench-admin"),
    ("X-Roles", "admin"),
    ("X-Auth-All-Projects", "true"),
];
const WITHIN: Duration = Duration::from_secs(900);

/// The count an import line reports (`zones: N created, ...`).
fn created(output: &str, kind: &str) -> Option<u64> {
    output
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{kind}: ")))?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// One import: its duration, the time until every zone is ACTIVE, and the
/// zones and recordsets made.
fn run(from: &str) -> Result<(Duration, Duration, u64, u64)> {
    let dir = tempfile::Builder::new()
        .prefix("designate-import-bench-")
        .tempdir()?;
    let standalone = Standalone::try_start(&dir.path().join("data"))?;
    let base = standalone.wait_rest_url();
    let started = Instant::now();
    let output = Command::new(operator_bin())
        .args(["import", "--from", from])
        .env("KUBECONFIG", standalone.kubeconfig())
        .output()
        .context("running the import")?;
    let imported = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "import failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let zones = created(&stdout, "zones").context("no zone count")?;
    let recordsets = created(&stdout, "recordsets").context("no recordset count")?;
    // Every zone but the SECONDARY ones (no master to transfer from here).
    let primary = rest_request(&base, "GET", "/v2/zones?type=PRIMARY&limit=1", &ADMIN, None).json()
        ["metadata"]["total_count"]
        .as_u64()
        .unwrap_or_default();
    loop {
        let active = rest_request(
            &base,
            "GET",
            "/v2/zones?type=PRIMARY&status=ACTIVE&limit=1",
            &ADMIN,
            None,
        )
        .json()["metadata"]["total_count"]
            .as_u64()
            .unwrap_or_default();
        if active == primary {
            break;
        }
        if started.elapsed() > WITHIN {
            bail!("{active} of {primary} zones ACTIVE after {WITHIN:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((imported, started.elapsed(), zones, recordsets))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut imports = Vec::new();
    let mut actives = Vec::new();
    let mut made = (0, 0);
    for n in 0..args.runs {
        let (imported, active, zones, recordsets) = run(&args.from)?;
        eprintln!(
            "run {n}: {zones} zones, {recordsets} recordsets imported in {} ms, all ACTIVE after {} ms",
            ms(imported),
            ms(active)
        );
        imports.push(imported);
        actives.push(active);
        made = (zones, recordsets);
    }
    let import = percentiles(imports);
    let active = percentiles(actives);
    println!(
        "import of {} zones and {} recordsets, {} runs: p50 {} ms, p99 {} ms ({:.0} objects/s); every zone ACTIVE p50 {} ms, p99 {} ms",
        made.0,
        made.1,
        args.runs,
        ms(import.p50),
        ms(import.p99),
        (made.0 + made.1) as f64 / import.p50.as_secs_f64(),
        ms(active.p50),
        ms(active.p99)
    );
    Ok(())
}
