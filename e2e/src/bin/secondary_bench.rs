//! Secondary zones benchmark: a real BIND as the master, the real
//! `designate-operator standalone` (the build next to this binary) with a
//! BIND of its own as the `default` pool's nameserver.
//!
//! 1. NOTIFY → served: `--changes` changes of a small secondary zone on the
//!    master, one after another; each timed from the master serving the new
//!    serial (its NOTIFY goes to MiniDNS at once: `notify-delay 0`) to the
//!    pool's BIND serving it (its SOA asked every 2 ms).
//! 2. A large secondary: a zone of `--records` A records on the master,
//!    made a secondary by REST, timed from the create to the pool's BIND
//!    serving the master's serial (SOA check, AXFR, publish, MiniDNS to the
//!    pool's BIND).
//!
//! `cargo build --release -p designate-operator -p designate-e2e --bin secondary_bench
//!  && target/release/secondary_bench`

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use designate_backends::testing::Bind;
use designate_e2e::bench::{ms, percentiles};
use designate_e2e::{BindBacked, rest_request};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Changes of the small zone on the master, one after another.
    #[arg(long, default_value_t = 20)]
    changes: u32,
    /// A records of the large zone.
    #[arg(long, default_value_t = 100_000)]
    records: u32,
}

const OWNER: [(&str, &str); 2] = [("X-Auth-Project-ID", "bench"), ("X-Roles", "member,reader")];

fn zone_file(zone: &str, serial: u32, records: u32) -> String {
    let mut file = format!(
        "$TTL 300\n@ IN SOA ns1.{zone}. admin.{zone}. ( {serial} 3600 600 86400 300 )\n@ IN NS ns1.{zone}.\nns1 IN A 192.0.2.53\n"
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

/// Waits until `server` serves `zone` at `serial` (asked every 2 ms).
async fn served(server: SocketAddr, zone: &str, serial: u32, within: Duration) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let answer =
            designate_mdns::soa_serial(server, zone, None, Duration::from_millis(500)).await;
        if matches!(answer, Ok(Some(s)) if s == serial) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > within {
            bail!("{zone} not served at serial {serial} within {within:?}: {answer:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn create_secondary(base: &str, zone: &str, master: SocketAddr) -> Result<()> {
    let made = rest_request(
        base,
        "POST",
        "/v2/zones",
        &OWNER,
        Some(
            &json!({"name": format!("{zone}."), "type": "SECONDARY", "masters": [master.to_string()]}),
        ),
    );
    if made.status != 202 {
        bail!("creating {zone}: {} {}", made.status, made.text());
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = tempfile::Builder::new()
        .prefix("secondary-bench-")
        .tempdir()?;
    let backed = BindBacked::start(tmp.path(), &[]);
    let runtime = tokio::runtime::Runtime::new()?;
    let master = runtime.block_on(Bind::start()).context("the master BIND")?;
    let pool = backed.nameserver.dns_addr();
    let mdns = backed.standalone.mdns_addr().context("MiniDNS's address")?;

    // 1. NOTIFY → served.
    let small = "notify-bench.test";
    runtime.block_on(master.serve_primary_file(small, 1, &zone_file(small, 1, 10), Some(mdns)))?;
    create_secondary(&backed.rest, small, master.dns_addr())?;
    runtime.block_on(served(pool, small, 1, Duration::from_secs(30)))?;
    let mut samples = Vec::new();
    for serial in 2..2 + args.changes {
        runtime.block_on(master.serve_primary_file(
            small,
            serial,
            &zone_file(small, serial, 10),
            Some(mdns),
        ))?;
        samples.push(runtime.block_on(served(pool, small, serial, Duration::from_secs(30)))?);
    }
    let p = percentiles(samples);
    println!(
        "NOTIFY from the master -> served by the pool's BIND, {} changes: p50 {} ms, p99 {} ms, max {} ms",
        args.changes,
        ms(p.p50),
        ms(p.p99),
        ms(p.max)
    );

    // 2. A large secondary.
    let large = "large-bench.test";
    let file = zone_file(large, 7, args.records);
    let loaded = Instant::now();
    runtime.block_on(master.serve_primary_file(large, 7, &file, None))?;
    println!(
        "master loaded {} records in {} ms",
        args.records,
        ms(loaded.elapsed())
    );
    let started = Instant::now();
    create_secondary(&backed.rest, large, master.dns_addr())?;
    runtime.block_on(served(pool, large, 7, Duration::from_secs(600)))?;
    println!(
        "secondary of {} records: create -> served by the pool's BIND in {} ms",
        args.records,
        ms(started.elapsed())
    );
    Ok(())
}
