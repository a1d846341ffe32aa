//! The read side MiniDNS serves from, on SQLite, MariaDB/MySQL and
//! PostgreSQL, each test in a throwaway database.

use std::collections::HashSet;
use std::future::Future;

use designate_central::managed::soa_rdata;
use designate_central::{Rrset, Soa, ZoneKind, ZoneRow};
use designate_storage::testing::{Backend, TestDatabase};
use designate_storage::{Error, ResourceRecord, Storage, ZoneChange};

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Storage) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDatabase::create(backend)
        .await
        .expect("create test database");
    let storage = Storage::connect(db.url()).await.expect("connect");
    test(storage.clone()).await;
    storage.close().await.expect("close");
    db.cleanup().await.expect("drop test database");
}

/// One test function per backend: `sqlite::name`, `mysql::name`, `postgres::name`.
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::run(super::Backend::Sqlite, super::$test).await }
        )* }
        mod mysql { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::run(super::Backend::MySql, super::$test).await }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::run(super::Backend::Postgres, super::$test).await }
        )* }
    };
}

on_every_backend!(
    zones_enclosing_a_name_deepest_first,
    rrsets_are_found_by_name_and_type_at_their_ttl,
    snapshots_page_through_a_zone,
    a_snapshot_never_mixes_two_versions,
);

const T0: i64 = 1_700_000_000;

fn zone(id: &str, name: &str, pool: &str) -> ZoneRow {
    ZoneRow {
        id: id.into(),
        project: "proj".into(),
        name: name.into(),
        pool_id: pool.into(),
        kind: ZoneKind::Primary,
        ttl: 3600,
        description: None,
        masters: vec![],
        soa: Soa {
            mname: "ns1.example.org.".into(),
            email: "admin@example.com".into(),
            refresh: 3500,
            retry: 600,
            expire: 86400,
            minimum: 3600,
        },
    }
}

fn rrset(id: &str, name: &str, type_: &str, ttl: Option<i64>, records: &[&str]) -> Rrset {
    Rrset {
        id: id.into(),
        name: name.into(),
        type_: type_.into(),
        ttl,
        records: records.iter().map(|r| r.to_string()).collect(),
        description: None,
        managed: false,
    }
}

fn rr(name: &str, type_: &str, ttl: i64, data: &str) -> ResourceRecord {
    ResourceRecord {
        name: name.into(),
        type_: type_.into(),
        ttl,
        data: data.into(),
    }
}

async fn publish(
    storage: &Storage,
    zone: &ZoneRow,
    base: Option<i64>,
    upsert: Vec<Rrset>,
    delete: &[&str],
    now: i64,
) -> i64 {
    let change = ZoneChange {
        zone: zone.clone(),
        fingerprint: String::new(),
        base_serial: base,
        upsert,
        delete: delete.iter().map(|d| d.to_string()).collect(),
        serial: None,
    };
    storage.publish(&change, now).await.unwrap()
}

async fn zones_enclosing_a_name_deepest_first(storage: Storage) {
    for (id, name, pool) in [
        ("z-com", "com.", "p1"),
        ("z-ex-p2", "example.com.", "p2"),
        ("z-ex-p1", "Example.com.", "p1"),
        ("z-sub", "sub.example.com.", "p1"),
        ("z-foo", "fooexample.com.", "p1"),
        ("z-deeper", "www.sub.example.com.x.", "p1"),
    ] {
        publish(&storage, &zone(id, name, pool), None, vec![], &[], T0).await;
    }
    let ids = |heads: Vec<designate_storage::ZoneHead>| {
        heads.into_iter().map(|h| h.zone.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(storage
            .zones_enclosing("www.SUB.example.com.")
            .await
            .unwrap()),
        ["z-sub", "z-ex-p1", "z-ex-p2", "z-com"]
    );
    assert_eq!(
        ids(storage.zones_enclosing("example.com.").await.unwrap()),
        ["z-ex-p1", "z-ex-p2", "z-com"]
    );
    assert!(
        storage
            .zones_enclosing("example.net.")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn rrsets_are_found_by_name_and_type_at_their_ttl(storage: Storage) {
    let z = zone("z1", "example.com.", "p1");
    publish(
        &storage,
        &z,
        None,
        vec![
            rrset(
                "www",
                "www.example.com.",
                "A",
                None,
                &["192.0.2.2", "192.0.2.1"],
            ),
            rrset("txt", "Www.example.com.", "TXT", Some(60), &["\"x\""]),
        ],
        &[],
        T0,
    )
    .await;
    assert_eq!(
        storage
            .rrset_records("z1", "WWW.example.com.", "A")
            .await
            .unwrap(),
        Some(vec![
            rr("www.example.com.", "A", 3600, "192.0.2.2"),
            rr("www.example.com.", "A", 3600, "192.0.2.1"),
        ])
    );
    assert_eq!(
        storage
            .rrset_records("z1", "www.example.com.", "TXT")
            .await
            .unwrap(),
        Some(vec![rr("Www.example.com.", "TXT", 60, "\"x\"")])
    );
    assert_eq!(
        storage
            .rrset_records("z1", "example.com.", "SOA")
            .await
            .unwrap(),
        Some(vec![rr(
            "example.com.",
            "SOA",
            3600,
            &soa_rdata(&z.soa, T0)
        )])
    );
    for (zone_id, name, type_) in [
        ("z1", "www.example.com.", "AAAA"),
        ("z1", "ftp.example.com.", "A"),
        ("z2", "www.example.com.", "A"),
    ] {
        assert_eq!(
            storage.rrset_records(zone_id, name, type_).await.unwrap(),
            None,
            "{zone_id} {name} {type_}"
        );
    }
}

/// `n` A RRsets with two records each, and what they serve.
fn hosts(n: usize) -> (Vec<Rrset>, Vec<ResourceRecord>) {
    let mut sets = Vec::new();
    let mut rrs = Vec::new();
    for i in 0..n {
        let name = format!("h{i:03}.example.com.");
        let ttl = (i % 2 == 0).then_some(60);
        let data = [format!("192.0.2.{i}"), format!("198.51.100.{i}")];
        sets.push(rrset(
            &format!("h{i}"),
            &name,
            "A",
            ttl,
            &[&data[0], &data[1]],
        ));
        for d in &data {
            rrs.push(rr(&name, "A", ttl.unwrap_or(3600), d));
        }
    }
    (sets, rrs)
}

/// Every page of a snapshot, in order.
async fn read_all(snapshot: &mut designate_storage::ZoneSnapshot) -> Vec<ResourceRecord> {
    let mut all = Vec::new();
    while let Some(page) = snapshot.next_page().await.unwrap() {
        assert!(!page.is_empty());
        all.extend(page);
    }
    // Done stays done.
    assert_eq!(snapshot.next_page().await.unwrap(), None);
    all
}

async fn snapshots_page_through_a_zone(storage: Storage) {
    let z = zone("z1", "example.com.", "p1");
    let (mut sets, want) = hosts(25);
    // Two RRsets of one name: pages break between types too.
    sets.push(rrset(
        "mx",
        "h003.example.com.",
        "MX",
        None,
        &["10 mx.example.com."],
    ));
    let serial = publish(&storage, &z, None, sets, &[], T0).await;

    let mut snapshot = storage.zone_snapshot("z1", 4).await.unwrap().unwrap();
    assert_eq!(snapshot.zone().serial, serial);
    assert_eq!(
        snapshot.soa(),
        &rr("example.com.", "SOA", 3600, &soa_rdata(&z.soa, serial))
    );
    let got = read_all(&mut snapshot).await;
    assert!(got.iter().all(|r| r.type_ != "SOA"));
    // Each RRset once, its records in their order.
    let mut expected = want.clone();
    expected.push(rr("h003.example.com.", "MX", 3600, "10 mx.example.com."));
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        got.iter().cloned().collect::<HashSet<_>>().len(),
        expected.len()
    );
    for pair in want.chunks(2) {
        let at = got.iter().position(|r| *r == pair[0]).unwrap();
        assert_eq!(got[at + 1], pair[1]);
    }
    let mut sorted_got: Vec<_> = got.iter().map(|r| (&r.name, &r.type_, &r.data)).collect();
    let mut sorted_want: Vec<_> = expected
        .iter()
        .map(|r| (&r.name, &r.type_, &r.data))
        .collect();
    sorted_got.sort();
    sorted_want.sort();
    assert_eq!(sorted_got, sorted_want);

    assert!(storage.zone_snapshot("z2", 4).await.unwrap().is_none());
}

async fn a_snapshot_never_mixes_two_versions(storage: Storage) {
    let z = zone("z1", "example.com.", "p1");
    let (sets, before) = hosts(10);
    let serial = publish(&storage, &z, None, sets, &[], T0).await;

    let mut snapshot = storage.zone_snapshot("z1", 3).await.unwrap().unwrap();
    let first = snapshot.next_page().await.unwrap().unwrap();
    assert!(first.iter().all(|r| before.contains(r)));
    // A writer changes the zone meanwhile: the rest of the snapshot is gone.
    let next = publish(
        &storage,
        &z,
        Some(serial),
        vec![rrset("new", "new.example.com.", "A", None, &["192.0.2.99"])],
        &["h5", "h9"],
        T0 + 10,
    )
    .await;
    let err = snapshot.next_page().await.unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { zone, planned, found }
            if zone == "z1" && *planned == Some(serial) && *found == Some(next)),
        "{err:?}"
    );
    assert_eq!(snapshot.zone().serial, serial);

    let mut fresh = storage.zone_snapshot("z1", 3).await.unwrap().unwrap();
    assert_eq!(fresh.zone().serial, next);
    let after = read_all(&mut fresh).await;
    assert_eq!(after.len(), before.len() - 4 + 1);
    assert!(after.contains(&rr("new.example.com.", "A", 3600, "192.0.2.99")));

    // A zone deleted under a snapshot: the same.
    let mut snapshot = storage.zone_snapshot("z1", 3).await.unwrap().unwrap();
    assert!(
        storage
            .delete_zone("z1", &Default::default())
            .await
            .unwrap()
    );
    assert!(matches!(
        snapshot.next_page().await,
        Err(Error::Conflict { found: None, .. })
    ));
}
