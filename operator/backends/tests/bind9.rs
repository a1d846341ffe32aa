//! The `bind9` driver against real BIND servers: a secondary that the driver
//! provisions, and a primary serving the zones it transfers.

use std::time::{Duration, Instant};

use designate_backends::testing::{Bind, SoaAnswer, generic_zone_file, query_soa, wait_for_soa};
use designate_backends::{Bind9, backend};

/// Generous bound on a transfer between two local servers.
const SERVED: Duration = Duration::from_secs(20);

async fn primary_and_secondary() -> (Bind, Bind) {
    tokio::try_join!(Bind::start(), Bind::start()).unwrap()
}

/// Waits for `secondary` to answer `zone` as `done` says, or fails with its log.
async fn wait(secondary: &Bind, zone: &str, done: impl Fn(&SoaAnswer) -> bool) -> Duration {
    wait_for_soa(secondary.dns_addr(), zone, SERVED, done)
        .await
        .unwrap_or_else(|e| panic!("{e}\n--- secondary log ---\n{}", secondary.logs()))
}

fn serial(serial: u32) -> impl Fn(&SoaAnswer) -> bool {
    move |answer| *answer == SoaAnswer::Serial(serial)
}

fn no_zone(answer: &SoaAnswer) -> bool {
    matches!(answer, SoaAnswer::NoZone(_))
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn zones_are_created_updated_and_deleted_idempotently() {
    let (primary, secondary) = primary_and_secondary().await;
    let zone = "lifecycle.test.";
    primary.serve_primary(zone, 1).await.unwrap();
    let driver = backend(&secondary.target(&[primary.dns_addr()])).unwrap();

    driver.create_zone(zone).await.unwrap();
    wait(&secondary, zone, serial(1)).await;
    driver.create_zone(zone).await.unwrap();
    assert_eq!(
        query_soa(secondary.dns_addr(), zone).await.unwrap(),
        SoaAnswer::Serial(1)
    );

    primary.serve_primary(zone, 2).await.unwrap();
    driver.update_zone(zone).await.unwrap();
    wait(&secondary, zone, serial(2)).await;

    driver.delete_zone(zone).await.unwrap();
    wait(&secondary, zone, no_zone).await;
    assert_eq!(
        query_soa(secondary.dns_addr(), zone).await.unwrap(),
        SoaAnswer::NoZone("REFUSED".into())
    );
    driver.delete_zone(zone).await.unwrap();

    // An update finding no zone creates it.
    driver.update_zone(zone).await.unwrap();
    wait(&secondary, zone, serial(2)).await;
}

/// named loads whatever file a zone's name has: a zone created again over
/// the file its deleted namesake left is brought up to date at once, not at
/// its refresh timer (minutes away).
#[tokio::test]
async fn a_zone_created_over_a_leftover_file_is_refreshed_at_once() {
    let (primary, secondary) = primary_and_secondary().await;
    let zone = "leftover.test.";
    primary.serve_primary(zone, 1).await.unwrap();
    let driver = backend(&secondary.target(&[primary.dns_addr()])).unwrap();
    driver.create_zone(zone).await.unwrap();
    wait(&secondary, zone, serial(1)).await;
    let file = secondary.dir().join("leftover.test.db");
    let deadline = Instant::now() + SERVED;
    while !file.exists() {
        assert!(Instant::now() < deadline, "named wrote no zone file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    driver.delete_zone(zone).await.unwrap();
    wait(&secondary, zone, no_zone).await;
    assert!(file.exists(), "a delete without -clean leaves the file");

    primary.serve_primary(zone, 2).await.unwrap();
    driver.create_zone(zone).await.unwrap();
    wait(&secondary, zone, serial(2)).await;
}

#[tokio::test]
async fn creating_again_moves_the_zone_to_new_masters() {
    let (primary, secondary) = primary_and_secondary().await;
    let zone = "moved.test";
    primary.serve_primary(zone, 7).await.unwrap();
    let stale = secondary.target(&[]).master("127.0.0.1", closed_port());
    Bind9::new(&stale).unwrap().create_zone(zone).await.unwrap();
    let answer = query_soa(secondary.dns_addr(), zone).await.unwrap();
    assert!(no_zone(&answer), "nothing to transfer from yet: {answer}");

    let driver = Bind9::new(&secondary.target(&[primary.dns_addr()])).unwrap();
    driver.create_zone(zone).await.unwrap();
    driver.update_zone(zone).await.unwrap();
    wait(&secondary, zone, serial(7)).await;
}

#[tokio::test]
async fn an_inline_key_from_the_secret_authenticates() {
    let (primary, secondary) = primary_and_secondary().await;
    let zone = "inline-key.test";
    primary.serve_primary(zone, 3).await.unwrap();
    let mut target = secondary.target(&[primary.dns_addr()]);
    target.options.remove("rndc_key_file");
    let target = target.with_secrets(secondary.key_secret().unwrap());
    let driver = Bind9::new(&target).unwrap();
    driver.create_zone(zone).await.unwrap();
    wait(&secondary, zone, serial(3)).await;
    driver.delete_zone(zone).await.unwrap();
    wait(&secondary, zone, no_zone).await;
}

/// The driver speaks the control protocol itself when it knows the key;
/// the `rndc` program (here named by path) answers alike, refusals too.
#[tokio::test]
async fn the_rndc_program_and_the_protocol_spoken_here_agree() {
    let (primary, secondary) = primary_and_secondary().await;
    let zone = "program.test";
    primary.serve_primary(zone, 4).await.unwrap();
    let program = secondary
        .target(&[primary.dns_addr()])
        .option("rndc_bin_path", "/usr/sbin/rndc");
    let native = secondary.target(&[primary.dns_addr()]);
    for target in [&program, &native] {
        let driver = Bind9::new(target).unwrap();
        driver.create_zone(zone).await.unwrap();
        wait(&secondary, zone, serial(4)).await;
        // Exists: brought up to date; missing: nothing to do.
        driver.create_zone(zone).await.unwrap();
        driver.delete_zone(zone).await.unwrap();
        wait(&secondary, zone, no_zone).await;
        driver.delete_zone(zone).await.unwrap();
    }
}

#[tokio::test]
async fn bad_credentials_and_unreachable_servers_are_told_apart() {
    let server = Bind::start().await.unwrap();
    let master = server.dns_addr();
    let wrong_secret = "d3JvbmcgLSB3cm9uZyAtIHdyb25nIC0gd3Jvbmcga2V5IQ==";
    let mut target = server.target(&[master]);
    target.options.remove("rndc_key_file");
    let wrong_key = target.with_secrets([
        ("rndc_key", wrong_secret),
        ("rndc_key_name", "designate-test"),
    ]);
    let error = Bind9::new(&wrong_key)
        .unwrap()
        .create_zone("a.test")
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "BackendUnauthorized", "{error}");
    assert!(!error.to_string().contains(wrong_secret), "{error}");
    assert!(
        error
            .to_string()
            .contains(&server.control_addr().to_string()),
        "{error}"
    );

    let closed = server
        .target(&[master])
        .option("rndc_port", closed_port().to_string());
    let error = Bind9::new(&closed)
        .unwrap()
        .delete_zone("a.test")
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "BackendUnreachable", "{error}");

    let missing_key = server
        .target(&[master])
        .option("rndc_key_file", "/nonexistent/rndc.key");
    let error = Bind9::new(&missing_key)
        .unwrap()
        .delete_zone("a.test")
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "InvalidTarget", "{error}");
}

/// A zone as MiniDNS would give it at `serial`, with a TXT whose quotes
/// and semicolon are only bytes here.
fn zone_content(zone: &str, serial: u32) -> String {
    generic_zone_file(zone, serial, &[("t", 16, "056122623b6303782079")])
}

/// With `zone_file_dir`, a zone is created with its data: named serves it
/// from the file without asking a master (here, none answers), and the file
/// goes with the zone.
#[tokio::test]
async fn zones_created_with_their_content_are_served_without_a_transfer() {
    let secondary = Bind::start().await.unwrap();
    let dir = secondary.dir().join("zones");
    std::fs::create_dir(&dir).unwrap();
    let target = secondary
        .target(&[format!("127.0.0.1:{}", closed_port()).parse().unwrap()])
        .option("zone_file_dir", dir.display().to_string());
    let driver = backend(&target).unwrap();
    assert!(driver.loads_zone_content());
    let zone = "seeded.test.";

    driver
        .create_zone_with(zone, &zone_content(zone, 7))
        .await
        .unwrap();
    wait(&secondary, zone, serial(7)).await;
    let file = dir.join("seeded.test.db");
    assert!(file.exists());

    driver.delete_zone(zone).await.unwrap();
    wait(&secondary, zone, no_zone).await;
    assert!(!file.exists(), "the zone's file goes with it");

    // Created again with other data: the old file is not what named loads.
    driver
        .create_zone_with(zone, &zone_content(zone, 8))
        .await
        .unwrap();
    wait(&secondary, zone, serial(8)).await;
}

/// Time from `create_zone` to the zone being served, when the primary
/// answers at once. The creates are spaced out: BIND paces its SOA queries
/// (`serial-query-rate`, 20/s by default, released every 500 ms), so one
/// that follows another closely waits up to 500 ms for its transfer.
#[tokio::test]
async fn zones_are_served_soon_after_creation() {
    let (primary, secondary) = primary_and_secondary().await;
    let driver = Bind9::new(&secondary.target(&[primary.dns_addr()])).unwrap();
    let mut times = Vec::new();
    for i in 0..5 {
        let zone = format!("latency{i}.test");
        primary.serve_primary(&zone, 1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        let start = Instant::now();
        driver.create_zone(&zone).await.unwrap();
        wait(&secondary, &zone, serial(1)).await;
        times.push(start.elapsed());
    }
    times.sort();
    eprintln!(
        "bind9: create_zone to served: {times:?}, median {:?}",
        times[times.len() / 2]
    );
}
