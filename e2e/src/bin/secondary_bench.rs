//! Secondary zones benchmark: a real BIND as the master, the real
//! `designate-operator standalone` (the build next to this binary) with a
//! BIND of its own as the `default` pool's nameserver.
//!
//! 1. NOTIFY → served: `--changes` changes of a small secondary zone on the
//!    master, one after another; each timed from a NOTIFY to MiniDNS (sent
//!    by the bench from the master's address once the master serves the
//!    new serial) to the pool's BIND serving it (its SOA asked every 2 ms).
//!    Then the same with the master's own NOTIFY (`notify-delay 0`), timed
//!    from the master serving the serial: BIND's wait before it notifies
//!    counts there.
//! 2. A large secondary: a zone of `--records` A records on the master,
//!    made a secondary by REST, timed from the create to the pool's BIND
//!    serving the master's serial (SOA check, AXFR, publish, MiniDNS to the
//!    pool's BIND).
//!
//! `cargo build --release -p designate-operator -p designate-e2e --bin secondary_bench
//!  && target/release/secondary_bench`

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use designate_backends::testing::Bind;
use designate_e2e::bench::{ms, percentiles, zone_file};
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
    /// How long each SOA query to the pool's BIND waits for its answer: a
    /// query BIND leaves unanswered while it applies a transfer counts as
    /// this long a wait.
    #[arg(long, default_value_t = 20)]
    query_timeout_ms: u64,
}

const OWNER: [(&str, &str); 2] = [("X-Auth-Project-ID", "bench"), ("X-Roles", "member,reader")];

/// Waits until `server` serves `zone` at `serial` (asked every 2 ms); how
/// long that took.
async fn served(
    server: SocketAddr,
    zone: &str,
    serial: u32,
    within: Duration,
    query_timeout: Duration,
) -> Result<Duration> {
    let started = Instant::now();
    loop {
        let answer = designate_mdns::soa_serial(server, zone, None, query_timeout).await;
        if matches!(answer, Ok(Some(s)) if s == serial) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > within {
            bail!("{zone} not served at serial {serial} within {within:?}: {answer:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Makes `zone` a SECONDARY of `master` by REST; its id.
fn create_secondary(base: &str, zone: &str, master: SocketAddr) -> Result<String> {
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
    made.json()["id"]
        .as_str()
        .map(str::to_string)
        .context("the zone's id")
}

/// Waits until REST lists `count` recordsets in the zone.
fn listed(base: &str, id: &str, count: u64, within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let page = rest_request(
            base,
            "GET",
            &format!("/v2/zones/{id}/recordsets?limit=1"),
            &OWNER,
            None,
        );
        let total = page.json()["metadata"]["total_count"].as_u64();
        if total == Some(count) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{count} recordsets not listed: {total:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Changes of a small secondary zone, one after another.
struct Small<'a> {
    master: &'a Bind,
    rest: &'a str,
    pool: SocketAddr,
    mdns: SocketAddr,
    changes: u32,
    query_timeout: Duration,
}

impl Small<'_> {
    /// How long each change of `zone` took to be served by the pool: from
    /// the bench's NOTIFY, or (`master_notifies`) from the master serving
    /// it with its own NOTIFY.
    async fn changes_served(&self, zone: &str, master_notifies: bool) -> Result<Vec<Duration>> {
        let notify = master_notifies.then_some(self.mdns);
        let serve = |serial| async move {
            self.master
                .serve_primary_file(zone, serial, &zone_file(zone, serial, 10), notify)
                .await
        };
        serve(1).await?;
        create_secondary(self.rest, zone, self.master.dns_addr())?;
        let within = Duration::from_secs(30);
        served(self.pool, zone, 1, within, self.query_timeout).await?;
        let mut samples = Vec::new();
        for serial in 2..2 + self.changes {
            serve(serial).await?;
            let started = Instant::now();
            if !master_notifies {
                designate_mdns::notify(zone, serial, self.mdns, None, Duration::from_secs(1))
                    .await?;
            }
            served(self.pool, zone, serial, within, self.query_timeout).await?;
            samples.push(started.elapsed());
        }
        Ok(samples)
    }
}

fn report(what: &str, changes: u32, samples: Vec<Duration>) {
    let p = percentiles(samples);
    println!(
        "{what}, {changes} changes: p50 {} ms, p99 {} ms, max {} ms",
        ms(p.p50),
        ms(p.p99),
        ms(p.max)
    );
}

fn main() -> Result<()> {
    let args = Args::parse();
    let query_timeout = Duration::from_millis(args.query_timeout_ms);
    let tmp = tempfile::Builder::new()
        .prefix("secondary-bench-")
        .tempdir()?;
    let backed = BindBacked::start(tmp.path(), &[]);
    let runtime = tokio::runtime::Runtime::new()?;
    let master = runtime.block_on(Bind::start()).context("the master BIND")?;
    let pool = backed.nameserver.dns_addr();
    let mdns = backed.standalone.mdns_addr().context("MiniDNS's address")?;

    // 1. NOTIFY → served: sent by this bench, as the master would, once
    // the master serves the new serial; then the master's own NOTIFY
    // (`notify-delay 0`), timed from the master serving the new serial:
    // BIND's wait before it notifies counts there.
    let small = Small {
        master: &master,
        rest: &backed.rest,
        pool,
        mdns,
        changes: args.changes,
        query_timeout,
    };
    let samples = runtime.block_on(small.changes_served("notify-bench.test", false))?;
    report("NOTIFY -> served by the pool's BIND", args.changes, samples);
    let samples = runtime.block_on(small.changes_served("master-notify-bench.test", true))?;
    report(
        "master serving a change (its own NOTIFY) -> served by the pool's BIND",
        args.changes,
        samples,
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
    let id = create_secondary(&backed.rest, large, master.dns_addr())?;
    runtime.block_on(served(
        pool,
        large,
        7,
        Duration::from_secs(600),
        query_timeout,
    ))?;
    println!(
        "secondary of {} records: create -> served by the pool's BIND in {} ms",
        args.records,
        ms(started.elapsed())
    );
    // Its sets (the records, `ns1`, the apex NS and the SOA) listed by REST.
    listed(
        &backed.rest,
        &id,
        u64::from(args.records) + 3,
        Duration::from_secs(600),
    )?;
    println!(
        "secondary of {} records: create -> every transferred set listed by REST in {} ms",
        args.records,
        ms(started.elapsed())
    );
    Ok(())
}
