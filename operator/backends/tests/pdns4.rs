//! The `pdns4` driver against a real PowerDNS, its zones transferred from a
//! real BIND primary.

use std::time::{Duration, Instant};

use designate_backends::testing::{
    Bind, PowerDns, SoaAnswer, generic_zone_file, query_soa, wait_for_soa,
};
use designate_backends::{Pdns4, backend};

/// Generous bound on a transfer between two local servers. A REFUSED
/// answered while the transfer commits can outlive the commit's cache purge
/// in PowerDNS's packet cache for its `cache-ttl` (20 s, seen once in CI), so
/// the bound is above it.
const SERVED: Duration = Duration::from_secs(45);

async fn primary_and_pdns() -> (Bind, PowerDns) {
    tokio::try_join!(Bind::start(), PowerDns::start()).unwrap()
}

/// Waits for `pdns` to answer `zone` as `done` says, or fails with its log.
async fn wait(pdns: &PowerDns, zone: &str, done: impl Fn(&SoaAnswer) -> bool) -> Duration {
    wait_for_soa(pdns.dns_addr(), zone, SERVED, done)
        .await
        .unwrap_or_else(|e| panic!("{e}\n--- PowerDNS log ---\n{}", pdns.logs()))
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

/// A zone created with its records is served when the create returns,
/// without a master (here, none answers); one with a record type PowerDNS's
/// API might read otherwise is created bare and waits for its transfer.
#[tokio::test]
async fn zones_created_with_their_content_are_served_without_a_transfer() {
    let pdns = PowerDns::start().await.unwrap();
    let nobody = format!("127.0.0.1:{}", closed_port()).parse().unwrap();
    let driver = backend(&pdns.target(&[nobody])).unwrap();
    assert!(driver.loads_zone_content());
    let a = ("www", 1, "c0000201");

    let zone = "seeded.test.";
    driver
        .create_zone_with(zone, &generic_zone_file(zone, 7, &[a]))
        .await
        .unwrap();
    assert_eq!(
        query_soa(pdns.dns_addr(), zone).await.unwrap(),
        SoaAnswer::Serial(7)
    );

    let zone = "with-txt.test.";
    let txt = ("t", 16, "056122623b6303782079");
    driver
        .create_zone_with(zone, &generic_zone_file(zone, 7, &[a, txt]))
        .await
        .unwrap();
    assert_ne!(
        query_soa(pdns.dns_addr(), zone).await.unwrap(),
        SoaAnswer::Serial(7)
    );
}

/// Records PowerDNS's own checks refuse (a CNAME beside other data; the
/// controllers never send such, but PowerDNS's rules are its own) leave the
/// zone a bare secondary that transfers, not uncreated.
#[tokio::test]
async fn records_powerdns_refuses_are_transferred_instead() {
    let (primary, pdns) = primary_and_pdns().await;
    let zone = "refused.test.";
    primary.serve_primary(zone, 9).await.unwrap();
    let driver = backend(&pdns.target(&[primary.dns_addr()])).unwrap();
    // x: an A (192.0.2.1) and a CNAME (to ns1.refused.test.).
    let target = "036e73310772656675736564047465737400";
    let content = generic_zone_file(zone, 7, &[("x", 1, "c0000201"), ("x", 5, target)]);
    driver.create_zone_with(zone, &content).await.unwrap();
    wait(&pdns, zone, serial(9)).await;
}

/// A zone created with its records stays a secondary: it follows its master.
#[tokio::test]
async fn a_seeded_zone_follows_its_master() {
    let (primary, pdns) = primary_and_pdns().await;
    let zone = "follows.test.";
    primary.serve_primary(zone, 9).await.unwrap();
    let driver = backend(&pdns.target(&[primary.dns_addr()])).unwrap();
    driver
        .create_zone_with(zone, &generic_zone_file(zone, 7, &[]))
        .await
        .unwrap();
    wait(&pdns, zone, serial(9)).await;
    // Created again over itself: kept, masters set, transferred.
    primary.serve_primary(zone, 10).await.unwrap();
    driver
        .create_zone_with(zone, &generic_zone_file(zone, 7, &[]))
        .await
        .unwrap();
    wait(&pdns, zone, serial(10)).await;
}

#[tokio::test]
async fn zones_are_created_updated_and_deleted_idempotently() {
    let (primary, pdns) = primary_and_pdns().await;
    let zone = "lifecycle.test.";
    primary.serve_primary(zone, 1).await.unwrap();
    let driver = backend(&pdns.target(&[primary.dns_addr()])).unwrap();

    driver.create_zone(zone).await.unwrap();
    wait(&pdns, zone, serial(1)).await;
    driver.create_zone(zone).await.unwrap();
    assert_eq!(
        query_soa(pdns.dns_addr(), zone).await.unwrap(),
        SoaAnswer::Serial(1)
    );

    primary.serve_primary(zone, 2).await.unwrap();
    driver.update_zone(zone).await.unwrap();
    wait(&pdns, zone, serial(2)).await;

    driver.delete_zone(zone).await.unwrap();
    wait(&pdns, zone, no_zone).await;
    assert_eq!(
        query_soa(pdns.dns_addr(), zone).await.unwrap(),
        SoaAnswer::NoZone("REFUSED".into())
    );
    driver.delete_zone(zone).await.unwrap();

    // An update finding no zone creates it.
    driver.update_zone(zone).await.unwrap();
    wait(&pdns, zone, serial(2)).await;
}

#[tokio::test]
async fn creating_again_moves_the_zone_to_new_masters() {
    let (primary, pdns) = primary_and_pdns().await;
    let zone = "moved.test";
    primary.serve_primary(zone, 7).await.unwrap();
    let stale = pdns.target(&[]).master("127.0.0.1", closed_port());
    Pdns4::new(&stale).unwrap().create_zone(zone).await.unwrap();
    let answer = query_soa(pdns.dns_addr(), zone).await.unwrap();
    assert!(no_zone(&answer), "nothing to transfer from yet: {answer}");

    Pdns4::new(&pdns.target(&[primary.dns_addr()]))
        .unwrap()
        .create_zone(zone)
        .await
        .unwrap();
    wait(&pdns, zone, serial(7)).await;
}

#[tokio::test]
async fn bad_credentials_and_unreachable_servers_are_told_apart() {
    let pdns = PowerDns::start().await.unwrap();
    let master = pdns.dns_addr();
    let wrong_key = "not-the-api-key-0123456789";
    let target = pdns
        .target(&[master])
        .with_secrets([("api_token", wrong_key)]);
    let error = Pdns4::new(&target)
        .unwrap()
        .create_zone("a.test")
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "BackendUnauthorized", "{error}");
    assert!(!error.to_string().contains(wrong_key), "{error}");
    assert!(
        !error.to_string().contains(&pdns.secrets()["api_token"]),
        "{error}"
    );

    let closed = pdns.target(&[master]).option(
        "api_endpoint",
        format!("http://127.0.0.1:{}", closed_port()),
    );
    let error = Pdns4::new(&closed)
        .unwrap()
        .delete_zone("a.test")
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "BackendUnreachable", "{error}");
}

/// Time from `create_zone` to the zone being served, when the primary
/// answers at once.
#[tokio::test]
async fn zones_are_served_soon_after_creation() {
    let (primary, pdns) = primary_and_pdns().await;
    let driver = Pdns4::new(&pdns.target(&[primary.dns_addr()])).unwrap();
    let mut times = Vec::new();
    for i in 0..5 {
        let zone = format!("latency{i}.test");
        primary.serve_primary(&zone, 1).await.unwrap();
        let start = Instant::now();
        driver.create_zone(&zone).await.unwrap();
        wait(&pdns, &zone, serial(1)).await;
        times.push(start.elapsed());
    }
    times.sort();
    eprintln!(
        "pdns4: create_zone to served: {times:?}, median {:?}",
        times[times.len() / 2]
    );
}
