//! Storage against real databases: every test runs on SQLite, MariaDB/MySQL
//! and PostgreSQL, each in a throwaway database.

use std::collections::HashSet;
use std::future::Future;

use designate_central::managed::{apex_ns_rrset, managed_rrset_id, soa_rdata};
use designate_central::{NsRecord, Rrset, Soa, ZoneKind, ZoneOwner, ZoneRow};
use designate_storage::testing::{Backend, TestDatabase};
use designate_storage::{
    Error, HostPort, ListedObject, NotifiedKind, PoolRecord, ResourceRecord, Storage, ZoneChange,
    ZoneState, ZoneStatusNotice,
};

/// Runs `test` on a fresh database of `backend`, then drops the database.
async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Storage, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDatabase::create(backend)
        .await
        .expect("create test database");
    let storage = Storage::connect(db.url()).await.expect("connect");
    test(storage.clone(), db.url().to_string()).await;
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
    connect_is_idempotent,
    pools_round_trip,
    publish_and_load_round_trip,
    serials_strictly_increase,
    stale_base_serial_conflicts,
    duplicate_name_in_pool_is_taken,
    delete_removes_the_zone_and_its_rows,
    history_lists_removed_and_added_records,
    history_is_bounded,
    related_zones_are_equal_ancestors_and_descendants,
    zones_are_found_by_name_through_an_index,
    project_zones_are_counted,
    concurrent_writers_lose_nothing,
    concurrent_creators_one_wins,
    fingerprint_moves_without_a_new_serial,
    one_change_larger_than_a_statement_limit,
    notifications_follow_committed_changes,
    kube_only_objects_are_notified_once_per_change,
    zone_statuses_are_notified_once_per_serial,
);

const T0: i64 = 1_700_000_000;

/// Every role process opens the database at start; the first opens of a new
/// file race to create it, switch it to WAL and migrate it. None may fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_opens_all_succeed() {
    for backend in Backend::ALL {
        for _ in 0..10 {
            let db = TestDatabase::create(backend).await.unwrap();
            let mut opens = tokio::task::JoinSet::new();
            for _ in 0..8 {
                let url = db.url().to_string();
                opens.spawn(async move { Storage::connect(&url).await });
            }
            while let Some(storage) = opens.join_next().await {
                let storage = storage
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{backend}: {e}"));
                storage.close().await.unwrap();
            }
            db.cleanup().await.unwrap();
        }
    }
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let storage = Storage::connect(db.url()).await.unwrap();
    let z = zone("z1", "example.com.", "p1", "proj");
    storage
        .publish(&change(&z, None, vec![], &[]), T0)
        .await
        .unwrap();
    let file = db
        .url()
        .trim_start_matches("sqlite://")
        .trim_end_matches("?mode=rwc");
    assert!(std::path::Path::new(&format!("{file}-wal")).exists());
    storage.close().await.unwrap();
    db.cleanup().await.unwrap();
}

fn zone(id: &str, name: &str, pool: &str, project: &str) -> ZoneRow {
    ZoneRow {
        id: id.into(),
        project: project.into(),
        name: name.into(),
        pool_id: pool.into(),
        kind: ZoneKind::Primary,
        ttl: 3600,
        description: Some("a zone".into()),
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

fn change(
    zone: &ZoneRow,
    base_serial: Option<i64>,
    upsert: Vec<Rrset>,
    delete: &[&str],
) -> ZoneChange {
    ZoneChange {
        zone: zone.clone(),
        fingerprint: format!("fp-{base_serial:?}"),
        base_serial,
        upsert,
        delete: delete.iter().map(|d| d.to_string()).collect(),
        serial: None,
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

fn ns_records() -> Vec<NsRecord> {
    vec![
        NsRecord {
            hostname: "ns2.example.org.".into(),
            priority: 2,
        },
        NsRecord {
            hostname: "ns1.example.org.".into(),
            priority: 1,
        },
    ]
}

async fn connect_is_idempotent(storage: Storage, url: String) {
    let z = zone("z1", "example.com.", "p1", "proj");
    let serial = storage
        .publish(&change(&z, None, vec![], &[]), T0)
        .await
        .unwrap();
    // A second process (or a restart) runs the migrations again.
    let again = Storage::connect(&url).await.unwrap();
    assert_eq!(
        again.zone_state("z1").await.unwrap().unwrap().serial,
        serial
    );
    again.close().await.unwrap();
}

async fn pools_round_trip(storage: Storage, _: String) {
    let mut pool = PoolRecord {
        id: "p1".into(),
        name: "default".into(),
        description: Some("the pool".into()),
        ns_records: ns_records(),
        nameservers: vec![HostPort {
            host: "127.0.0.1".into(),
            port: 5354,
        }],
        also_notifies: vec![],
        targets: serde_json::json!([{"type": "bind9", "options": {"port": 953}}]),
    };
    storage.upsert_pool(&pool).await.unwrap();
    assert_eq!(storage.pool("p1").await.unwrap(), Some(pool.clone()));

    pool.description = None;
    pool.also_notifies.push(HostPort {
        host: "192.0.2.1".into(),
        port: 53,
    });
    storage.upsert_pool(&pool).await.unwrap();
    assert_eq!(storage.pools().await.unwrap(), vec![pool]);

    storage.delete_pool("p1").await.unwrap();
    assert_eq!(storage.pool("p1").await.unwrap(), None);
    storage.delete_pool("p1").await.unwrap();
}

async fn publish_and_load_round_trip(storage: Storage, _: String) {
    let z = zone("z1", "example.com.", "p1", "proj");
    assert_eq!(storage.load_zone("z1").await.unwrap(), None);
    assert_eq!(storage.zone_state("z1").await.unwrap(), None);

    let ns = apex_ns_rrset("z1", "example.com.", &ns_records());
    let mut www = rrset(
        "rs-www",
        "www.example.com.",
        "A",
        None,
        &["192.0.2.2", "192.0.2.1"],
    );
    www.description = Some("web".into());
    let txt = rrset("rs-txt", "example.com.", "TXT", Some(300), &["\"hello\""]);
    let s1 = storage
        .publish(
            &change(&z, None, vec![ns.clone(), www.clone(), txt.clone()], &[]),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(s1, T0);
    assert_eq!(
        storage.zone_state("z1").await.unwrap(),
        Some(ZoneState {
            serial: s1,
            fingerprint: "fp-None".into()
        })
    );

    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    assert_eq!(loaded.zone, z);
    assert_eq!(loaded.serial, s1);
    assert_eq!(loaded.fingerprint, "fp-None");
    let soa = loaded
        .rrsets
        .iter()
        .find(|r| r.rrset.type_ == "SOA")
        .expect("SOA published");
    assert_eq!(soa.rrset.id, managed_rrset_id("z1", "SOA"));
    assert_eq!(soa.rrset.records, vec![soa_rdata(&z.soa, s1)]);
    assert!(soa.rrset.managed);
    let mut rrsets: Vec<Rrset> = loaded
        .rrsets
        .iter()
        .filter(|r| r.rrset.type_ != "SOA")
        .map(|r| r.rrset.clone())
        .collect();
    rrsets.sort_by(|a, b| a.id.cmp(&b.id));
    let mut want = vec![ns.clone(), www.clone(), txt.clone()];
    want.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(rrsets, want, "records kept in the order given");
    assert!(loaded.rrsets.iter().all(|r| r.serial == s1));

    let head = storage.zones_by_name("Example.COM.").await.unwrap();
    assert_eq!(head.len(), 1);
    assert_eq!((head[0].zone.clone(), head[0].serial), (z.clone(), s1));

    // Change one record of www; TXT only changes its description and www's
    // order changes: neither is new DNS content, so their serials stay.
    let mut z2 = z.clone();
    z2.description = None;
    let www2 = rrset(
        "rs-www",
        "www.example.com.",
        "A",
        None,
        &["192.0.2.1", "192.0.2.3"],
    );
    let mut txt2 = txt.clone();
    txt2.description = Some("greeting".into());
    let s2 = storage
        .publish(
            &change(&z2, Some(s1), vec![www2.clone(), txt2.clone()], &[]),
            T0 + 10,
        )
        .await
        .unwrap();
    assert_eq!(s2, T0 + 10);
    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    assert_eq!(loaded.zone, z2);
    let get = |id: &str| {
        loaded
            .rrsets
            .iter()
            .find(|r| r.rrset.id == id)
            .unwrap()
            .clone()
    };
    assert_eq!((get("rs-www").rrset, get("rs-www").serial), (www2, s2));
    assert_eq!((get("rs-txt").rrset, get("rs-txt").serial), (txt2, s1));
    assert_eq!(get(&ns.id).serial, s1);
    assert_eq!(get(&managed_rrset_id("z1", "SOA")).serial, s2);

    // Only the order changes: kept, serial unchanged.
    let www3 = rrset(
        "rs-www",
        "www.example.com.",
        "A",
        None,
        &["192.0.2.3", "192.0.2.1"],
    );
    let s3 = storage
        .publish(&change(&z2, Some(s2), vec![www3.clone()], &[]), T0 + 20)
        .await
        .unwrap();
    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    let www = loaded
        .rrsets
        .iter()
        .find(|r| r.rrset.id == "rs-www")
        .unwrap();
    assert_eq!((www.rrset.clone(), www.serial), (www3, s2));
    assert_eq!(loaded.serial, s3);
    assert_eq!(
        storage.changes_since("z1", s2).await.unwrap().unwrap()[0].added,
        vec![]
    );
}

async fn serials_strictly_increase(storage: Storage, _: String) {
    let z = zone("z1", "example.com.", "p1", "proj");
    let mut serial = storage
        .publish(&change(&z, None, vec![], &[]), T0)
        .await
        .unwrap();
    assert_eq!(serial, T0);
    // Same second twice, then the clock jumps ahead, then it steps back.
    for (now, want) in [
        (T0, T0 + 1),
        (T0, T0 + 2),
        (T0 + 100, T0 + 100),
        (T0 - 50, T0 + 101),
    ] {
        serial = storage
            .publish(&change(&z, Some(serial), vec![], &[]), now)
            .await
            .unwrap();
        assert_eq!(serial, want);
    }
    let soa = storage.load_zone("z1").await.unwrap().unwrap();
    let soa = soa.rrsets.iter().find(|r| r.rrset.type_ == "SOA").unwrap();
    assert_eq!(soa.rrset.records, vec![soa_rdata(&z.soa, T0 + 101)]);
}

async fn stale_base_serial_conflicts(storage: Storage, _: String) {
    let z = zone("z1", "example.com.", "p1", "proj");
    let s1 = storage
        .publish(&change(&z, None, vec![], &[]), T0)
        .await
        .unwrap();
    let s2 = storage
        .publish(&change(&z, Some(s1), vec![], &[]), T0)
        .await
        .unwrap();

    let www = rrset("rs-www", "www.example.com.", "A", None, &["192.0.2.1"]);
    for (base, found) in [(None, Some(s2)), (Some(s1), Some(s2))] {
        let err = storage
            .publish(&change(&z, base, vec![www.clone()], &[]), T0)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Conflict { zone, planned, found: f } if zone == "z1" && *planned == base && *f == found),
            "{err:?}"
        );
        assert_eq!(err.reason(), "Conflict");
    }
    let missing = zone("z2", "example.net.", "p1", "proj");
    let err = storage
        .publish(&change(&missing, Some(s1), vec![], &[]), T0)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { found: None, .. }),
        "{err:?}"
    );

    // The losers changed nothing.
    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    assert_eq!(loaded.serial, s2);
    assert!(loaded.rrsets.iter().all(|r| r.rrset.id != "rs-www"));
    assert_eq!(storage.load_zone("z2").await.unwrap(), None);
}

async fn fingerprint_moves_without_a_new_serial(storage: Storage, _: String) {
    let z = zone("z1", "example.com.", "p1", "proj");
    let s1 = storage
        .publish(&change(&z, None, vec![], &[]), T0)
        .await
        .unwrap();
    storage.set_fingerprint("z1", s1, "inputs-2").await.unwrap();
    let state = storage.zone_state("z1").await.unwrap().unwrap();
    assert_eq!((state.serial, state.fingerprint.as_str()), (s1, "inputs-2"));
    // Planned against an old serial: left alone.
    storage
        .set_fingerprint("z1", s1 - 1, "stale")
        .await
        .unwrap();
    let state = storage.zone_state("z1").await.unwrap().unwrap();
    assert_eq!(state.fingerprint, "inputs-2");
}

/// 33,000 recordsets in one change: more ids than SQLite binds in one
/// statement, so every id list is cut into pieces.
async fn one_change_larger_than_a_statement_limit(storage: Storage, _: String) {
    const SETS: usize = 33_000;
    let z = zone("z1", "big.example.", "p1", "proj");
    let sets: Vec<Rrset> = (0..SETS)
        .map(|i| {
            rrset(
                &format!("rs-{i}"),
                &format!("h{i}.big.example."),
                "A",
                None,
                &["192.0.2.1"],
            )
        })
        .collect();
    let ids: Vec<String> = sets.iter().map(|r| r.id.clone()).collect();
    let s1 = storage
        .publish(&change(&z, None, sets, &[]), T0)
        .await
        .unwrap();
    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    assert_eq!(loaded.rrsets.len(), SETS + 1, "the sets and the SOA");
    // A zone TTL change touches every set without a TTL of its own.
    let mut longer = z.clone();
    longer.ttl = 7200;
    let s2 = storage
        .publish(&change(&longer, Some(s1), vec![], &[]), T0)
        .await
        .unwrap();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    storage
        .publish(&change(&longer, Some(s2), vec![], &ids), T0)
        .await
        .unwrap();
    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    assert_eq!(loaded.rrsets.len(), 1, "only the SOA is left");
}

async fn duplicate_name_in_pool_is_taken(storage: Storage, _: String) {
    let a = zone("z1", "example.com.", "p1", "proj");
    storage
        .publish(&change(&a, None, vec![], &[]), T0)
        .await
        .unwrap();

    let b = zone("z2", "example.com.", "p1", "other");
    let err = storage
        .publish(&change(&b, None, vec![], &[]), T0)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NameTaken(name) if name == "example.com."),
        "{err:?}"
    );
    assert_eq!(err.reason(), "DuplicateZone");
    assert_eq!(storage.zone_state("z2").await.unwrap(), None);

    // Another pool may hold the same name.
    let c = zone("z3", "example.com.", "p2", "other");
    storage
        .publish(&change(&c, None, vec![], &[]), T0)
        .await
        .unwrap();
    let heads = storage.zones_by_name("example.com.").await.unwrap();
    let ids: Vec<&str> = heads.iter().map(|h| h.zone.id.as_str()).collect();
    assert_eq!(ids, ["z1", "z3"]);
}

async fn delete_removes_the_zone_and_its_rows(storage: Storage, _: String) {
    let z = zone("z1", "example.com.", "p1", "proj");
    let www = rrset("rs-www", "www.example.com.", "A", None, &["192.0.2.1"]);
    let s1 = storage
        .publish(&change(&z, None, vec![www.clone()], &[]), T0)
        .await
        .unwrap();
    let www2 = rrset("rs-www", "www.example.com.", "A", None, &["192.0.2.2"]);
    storage
        .publish(&change(&z, Some(s1), vec![www2], &[]), T0)
        .await
        .unwrap();
    let other = zone("z2", "example.net.", "p1", "proj");
    storage
        .publish(&change(&other, None, vec![], &[]), T0)
        .await
        .unwrap();

    assert!(
        storage
            .delete_zone("z1", &Default::default())
            .await
            .unwrap()
    );
    assert_eq!(storage.load_zone("z1").await.unwrap(), None);
    assert_eq!(storage.zone_state("z1").await.unwrap(), None);
    assert_eq!(storage.changes_since("z1", s1).await.unwrap(), None);
    assert_eq!(storage.count_project_zones("proj", 10).await.unwrap(), 1);
    assert!(
        !storage
            .delete_zone("z1", &Default::default())
            .await
            .unwrap()
    );

    // Nothing is left behind: the same ids publish again from scratch.
    let s = storage
        .publish(&change(&z, None, vec![www.clone()], &[]), T0 + 5)
        .await
        .unwrap();
    assert_eq!(s, T0 + 5);
    assert_eq!(storage.changes_since("z1", s).await.unwrap(), Some(vec![]));
    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    assert_eq!(loaded.rrsets.len(), 2);
    assert!(storage.load_zone("z2").await.unwrap().is_some());
}

async fn history_lists_removed_and_added_records(storage: Storage, _: String) {
    let apex = "example.com.";
    let mut z = zone("z1", apex, "p1", "proj");
    let ns = apex_ns_rrset("z1", apex, &ns_records());
    let s0 = storage
        .publish(&change(&z, None, vec![ns], &[]), T0)
        .await
        .unwrap();

    let a1 = rrset(
        "rs-a",
        "a.example.com.",
        "A",
        None,
        &["192.0.2.1", "192.0.2.2"],
    );
    let s1 = storage
        .publish(&change(&z, Some(s0), vec![a1], &[]), T0)
        .await
        .unwrap();
    let a2 = rrset(
        "rs-a",
        "a.example.com.",
        "A",
        None,
        &["192.0.2.2", "192.0.2.3"],
    );
    let s2 = storage
        .publish(&change(&z, Some(s1), vec![a2], &[]), T0)
        .await
        .unwrap();
    // A TTL change removes and re-adds every record.
    let a3 = rrset(
        "rs-a",
        "a.example.com.",
        "A",
        Some(60),
        &["192.0.2.2", "192.0.2.3"],
    );
    let s3 = storage
        .publish(&change(&z, Some(s2), vec![a3], &[]), T0)
        .await
        .unwrap();
    let s4 = storage
        .publish(&change(&z, Some(s3), vec![], &["rs-a"]), T0)
        .await
        .unwrap();
    // The zone TTL: the records inheriting it (apex NS) move, and the SOA's.
    z.ttl = 600;
    let s5 = storage
        .publish(&change(&z, Some(s4), vec![], &[]), T0)
        .await
        .unwrap();

    let soa = |serial: i64, ttl: i64| rr(apex, "SOA", ttl, &soa_rdata(&z.soa, serial));
    let a = |ttl: i64, data: &str| rr("a.example.com.", "A", ttl, data);
    let ns = |ttl: i64, data: &str| rr(apex, "NS", ttl, data);
    let history = storage
        .changes_since("z1", s0)
        .await
        .unwrap()
        .expect("history reaches s0");
    let got: Vec<_> = history
        .iter()
        .map(|v| {
            (
                v.serial,
                v.old_soa.clone(),
                v.removed.clone(),
                v.new_soa.clone(),
                v.added.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                s1,
                soa(s0, 3600),
                vec![],
                soa(s1, 3600),
                vec![a(3600, "192.0.2.1"), a(3600, "192.0.2.2")]
            ),
            (
                s2,
                soa(s1, 3600),
                vec![a(3600, "192.0.2.1")],
                soa(s2, 3600),
                vec![a(3600, "192.0.2.3")]
            ),
            (
                s3,
                soa(s2, 3600),
                vec![a(3600, "192.0.2.2"), a(3600, "192.0.2.3")],
                soa(s3, 3600),
                vec![a(60, "192.0.2.2"), a(60, "192.0.2.3")]
            ),
            (
                s4,
                soa(s3, 3600),
                vec![a(60, "192.0.2.2"), a(60, "192.0.2.3")],
                soa(s4, 3600),
                vec![]
            ),
            (
                s5,
                soa(s4, 3600),
                vec![ns(3600, "ns1.example.org."), ns(3600, "ns2.example.org.")],
                soa(s5, 600),
                vec![ns(600, "ns1.example.org."), ns(600, "ns2.example.org.")]
            ),
        ]
    );

    let tail = storage.changes_since("z1", s3).await.unwrap().unwrap();
    assert_eq!(tail.iter().map(|v| v.serial).collect::<Vec<_>>(), [s4, s5]);
    assert_eq!(tail[..], history[3..]);
    assert_eq!(storage.changes_since("z1", s5).await.unwrap(), Some(vec![]));
    // Serials the zone never had, before or after.
    assert_eq!(storage.changes_since("z1", s0 - 1).await.unwrap(), None);
    assert_eq!(storage.changes_since("z1", s5 + 1).await.unwrap(), None);
    assert_eq!(storage.changes_since("nope", s0).await.unwrap(), None);

    // The NS records took the new serial with the zone TTL.
    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    let ns = loaded
        .rrsets
        .iter()
        .find(|r| r.rrset.type_ == "NS")
        .unwrap();
    assert_eq!(ns.serial, s5);
}

async fn history_is_bounded(storage: Storage, _: String) {
    let storage = storage.with_history_limit(3);
    let z = zone("z1", "example.com.", "p1", "proj");
    let mut serials = vec![
        storage
            .publish(&change(&z, None, vec![], &[]), T0)
            .await
            .unwrap(),
    ];
    for i in 0..6 {
        let txt = rrset(
            "rs-txt",
            "example.com.",
            "TXT",
            None,
            &[&format!("\"v{i}\"")],
        );
        let base = *serials.last().unwrap();
        serials.push(
            storage
                .publish(&change(&z, Some(base), vec![txt], &[]), T0)
                .await
                .unwrap(),
        );
    }
    // The last 3 changes are kept; a secondary further behind needs an AXFR.
    let kept = storage
        .changes_since("z1", serials[3])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.iter().map(|v| v.serial).collect::<Vec<_>>(),
        serials[4..]
    );
    assert_eq!(
        kept[0].removed,
        vec![rr("example.com.", "TXT", 3600, "\"v2\"")]
    );
    assert_eq!(
        kept[0].added,
        vec![rr("example.com.", "TXT", 3600, "\"v3\"")]
    );
    for old in &serials[..3] {
        assert_eq!(
            storage.changes_since("z1", *old).await.unwrap(),
            None,
            "serial {old}"
        );
    }
}

/// How the database reads the zones of one name: an index, not a scan
/// (MiniDNS asks this for every query).
async fn plan_of_lookup_by_name(url: &str) -> String {
    use sea_orm::{ConnectionTrait, Database, DbBackend, TransactionTrait};
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let txn = db.begin().await.unwrap();
    let explain = match backend {
        DbBackend::Sqlite => {
            "EXPLAIN QUERY PLAN SELECT * FROM zones WHERE name_key = 'example.com.'"
        }
        DbBackend::MySql => "EXPLAIN SELECT * FROM zones WHERE name_key = 'example.com.'",
        _ => {
            // A table this small is read whole unless told otherwise.
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
            "EXPLAIN SELECT * FROM zones WHERE name_key = 'example.com.'"
        }
    };
    let rows = txn
        .query_all_raw(sea_orm::Statement::from_string(backend, explain))
        .await
        .unwrap();
    let plan = rows
        .iter()
        .map(|row| {
            ["detail", "key", "QUERY PLAN"]
                .iter()
                .filter_map(|column| row.try_get::<Option<String>>("", column).ok().flatten())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    txn.rollback().await.unwrap();
    db.close().await.unwrap();
    plan
}

async fn zones_are_found_by_name_through_an_index(storage: Storage, url: String) {
    let z = zone("z1", "Example.COM.", "p1", "a");
    storage
        .publish(&change(&z, None, vec![], &[]), T0)
        .await
        .unwrap();
    let found = storage.zones_by_name("example.com.").await.unwrap();
    assert_eq!(found.len(), 1);
    let plan = plan_of_lookup_by_name(&url).await;
    assert!(plan.contains("ix_zones_name_key"), "{plan}");

    // A database made before the key existed gets it, filled in.
    use sea_orm::{ConnectionTrait, Database, DbBackend};
    let db = Database::connect(&url).await.unwrap();
    let drop_index = match db.get_database_backend() {
        DbBackend::MySql => "DROP INDEX ix_zones_name_key ON zones",
        _ => "DROP INDEX ix_zones_name_key",
    };
    for sql in [
        drop_index,
        "ALTER TABLE zones DROP COLUMN name_key",
        "DELETE FROM designate_schema_migrations WHERE version = 2",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    db.close().await.unwrap();
    let migrated = Storage::connect(&url).await.unwrap();
    assert_eq!(
        migrated.zones_by_name("EXAMPLE.com.").await.unwrap().len(),
        1
    );
    migrated.close().await.unwrap();
}

async fn related_zones_are_equal_ancestors_and_descendants(storage: Storage, url: String) {
    let zones = [
        ("z-com", "com.", "p1", "a"),
        ("z-ex", "example.com.", "p1", "a"),
        ("z-ex2", "example.com.", "p2", "b"),
        ("z-sub", "sub.example.com.", "p1", "b"),
        ("z-deep", "x.y.sub.example.com.", "p1", "c"),
        ("z-foo", "fooexample.com.", "p1", "a"),
        // '-' sorts just before '.': not a descendant of example.com.
        ("z-hy", "example-x.com.", "p1", "a"),
        ("z-sib", "other.example.com.", "p1", "a"),
        ("z-org", "example.org.", "p1", "a"),
        ("z-u", "_x.example.net.", "p1", "a"),
        ("z-u2", "ax.example.net.", "p1", "a"),
    ];
    for (id, name, pool, project) in zones {
        storage
            .publish(
                &change(&zone(id, name, pool, project), None, vec![], &[]),
                T0,
            )
            .await
            .unwrap();
    }
    let ids = |owners: Vec<ZoneOwner>| -> Vec<String> {
        let mut ids: Vec<String> = owners.into_iter().map(|o| o.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(storage.related_zones("sub.example.com.").await.unwrap()),
        ["z-com", "z-deep", "z-ex", "z-ex2", "z-sub"]
    );
    // Case does not matter; the owner's project comes along.
    let related = storage.related_zones("SUB.Example.COM.").await.unwrap();
    assert!(related.contains(&ZoneOwner {
        id: "z-sub".into(),
        name: "sub.example.com.".into(),
        project: "b".into()
    }));
    assert_eq!(ids(related).len(), 5);
    assert_eq!(
        ids(storage.related_zones("example.com.").await.unwrap()),
        ["z-com", "z-deep", "z-ex", "z-ex2", "z-sib", "z-sub"]
    );
    // LIKE wildcards in names match only themselves.
    assert_eq!(
        ids(storage.related_zones("a._x.example.net.").await.unwrap()),
        ["z-u"]
    );
    assert_eq!(
        ids(storage.related_zones("example.edu.").await.unwrap()),
        Vec::<String>::new()
    );

    // Zones stored before schema version 5 get their reversed names at the
    // next start, and are found as before.
    let db = sea_orm::Database::connect(&url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&db, "UPDATE zones SET name_rkey = ''")
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(
        ids(storage.related_zones("example.com.").await.unwrap()),
        ["z-com", "z-ex", "z-ex2"],
        "without reversed names, no descendants"
    );
    let reopened = Storage::connect(&url).await.unwrap();
    assert_eq!(
        ids(reopened.related_zones("example.com.").await.unwrap()),
        ["z-com", "z-deep", "z-ex", "z-ex2", "z-sib", "z-sub"]
    );
    reopened.close().await.unwrap();
}

async fn project_zones_are_counted(storage: Storage, url: String) {
    assert_eq!(storage.count_project_zones("a", 10).await.unwrap(), 0);
    for (id, name, project) in [
        ("z1", "a.com.", "a"),
        ("z2", "b.com.", "a"),
        ("z3", "c.com.", "b"),
        ("z4", "d.com.", "b"),
    ] {
        storage
            .publish(
                &change(&zone(id, name, "p1", project), None, vec![], &[]),
                T0,
            )
            .await
            .unwrap();
    }
    assert_eq!(storage.count_project_zones("a", 10).await.unwrap(), 2);
    // Counted no further than asked.
    assert_eq!(storage.count_project_zones("a", 1).await.unwrap(), 1);
    assert_eq!(storage.count_project_zones("a", 0).await.unwrap(), 0);
    assert_eq!(storage.count_project_zones("b", 10).await.unwrap(), 2);
    storage
        .delete_zone("z1", &Default::default())
        .await
        .unwrap();
    assert_eq!(storage.count_project_zones("a", 10).await.unwrap(), 1);
    // A zone moved to another project (a transfer accepted) counts there.
    let serial = storage.zone_state("z3").await.unwrap().unwrap().serial;
    storage
        .publish(
            &change(&zone("z3", "c.com.", "p1", "a"), Some(serial), vec![], &[]),
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(storage.count_project_zones("a", 10).await.unwrap(), 2);
    assert_eq!(storage.count_project_zones("b", 10).await.unwrap(), 1);
    // A republication in the same project leaves the count.
    storage
        .publish(
            &change(
                &zone("z3", "c.com.", "p1", "a"),
                Some(serial + 1),
                vec![],
                &[],
            ),
            T0 + 2,
        )
        .await
        .unwrap();
    assert_eq!(storage.count_project_zones("a", 10).await.unwrap(), 2);

    // Zones stored before schema version 6 are counted at the next start.
    let db = sea_orm::Database::connect(&url).await.unwrap();
    for sql in [
        "DELETE FROM project_zone_counts",
        "DELETE FROM designate_schema_migrations WHERE version = 6",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&db, sql)
            .await
            .unwrap();
    }
    db.close().await.unwrap();
    let reopened = Storage::connect(&url).await.unwrap();
    assert_eq!(reopened.count_project_zones("a", 10).await.unwrap(), 2);
    assert_eq!(reopened.count_project_zones("b", 10).await.unwrap(), 1);
    reopened.close().await.unwrap();
}

async fn concurrent_writers_lose_nothing(storage: Storage, _: String) {
    const WRITERS: usize = 64;
    let z = zone("z1", "example.com.", "p1", "proj");
    let s0 = storage
        .publish(&change(&z, None, vec![], &[]), T0)
        .await
        .unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..WRITERS {
        let (storage, z) = (storage.clone(), z.clone());
        tasks.spawn(async move {
            let own = rrset(
                &format!("rs-{i}"),
                &format!("w{i}.example.com."),
                "TXT",
                None,
                &[&format!("\"{i}\"")],
            );
            loop {
                let base = storage.zone_state("z1").await.unwrap().unwrap().serial;
                // All in the same second: serials must still never repeat.
                match storage
                    .publish(&change(&z, Some(base), vec![own.clone()], &[]), T0)
                    .await
                {
                    Ok(serial) => return serial,
                    Err(Error::Conflict { .. }) => continue,
                    Err(e) => panic!("writer {i}: {e}"),
                }
            }
        });
    }
    let mut serials = HashSet::new();
    while let Some(serial) = tasks.join_next().await {
        let serial = serial.unwrap();
        assert!(serials.insert(serial), "serial {serial} reused");
    }

    let loaded = storage.load_zone("z1").await.unwrap().unwrap();
    assert_eq!(
        loaded.rrsets.len(),
        WRITERS + 1,
        "every recordset and the SOA"
    );
    assert_eq!(loaded.serial, s0 + WRITERS as i64);

    let history = storage.changes_since("z1", s0).await.unwrap().unwrap();
    assert_eq!(history.len(), WRITERS);
    let history_serials: Vec<i64> = history.iter().map(|v| v.serial).collect();
    assert!(
        history_serials.windows(2).all(|w| w[0] < w[1]),
        "{history_serials:?}"
    );
    assert_eq!(
        history_serials.iter().copied().collect::<HashSet<_>>(),
        serials
    );
    let mut added: Vec<String> = history
        .iter()
        .flat_map(|v| {
            assert!(v.removed.is_empty());
            assert_eq!(v.added.len(), 1);
            v.added.iter().map(|rr| rr.name.clone())
        })
        .collect();
    added.sort();
    added.dedup();
    assert_eq!(added.len(), WRITERS);
}

async fn concurrent_creators_one_wins(storage: Storage, _: String) {
    const CREATORS: usize = 8;
    // The same zone created by several writers: one wins, the others conflict.
    let z = zone("z1", "example.com.", "p1", "proj");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CREATORS {
        let (storage, z) = (storage.clone(), z.clone());
        let own = rrset(
            &format!("rs-{i}"),
            "www.example.com.",
            "A",
            None,
            &["192.0.2.1"],
        );
        tasks.spawn(async move { storage.publish(&change(&z, None, vec![own], &[]), T0).await });
    }
    let results = tasks.join_all().await;
    let won: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert_eq!(won, [T0], "{results:?}");
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(
                    err,
                    Error::Conflict {
                        planned: None,
                        found: Some(T0),
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }
    assert_eq!(
        storage.load_zone("z1").await.unwrap().unwrap().rrsets.len(),
        2
    );

    // Zones of one name under different ids: one wins, the others find it taken.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..CREATORS {
        let storage = storage.clone();
        let z = zone(&format!("n{i}"), "example.net.", "p1", "proj");
        tasks.spawn(async move { storage.publish(&change(&z, None, vec![], &[]), T0).await });
    }
    let results = tasks.join_all().await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(err, Error::NameTaken(name) if name == "example.net."),
                "{err:?}"
            );
        }
    }
    assert_eq!(
        storage.zones_by_name("example.net.").await.unwrap().len(),
        1
    );
}

/// The outbox's events, in commit order, as (event_type, name); then empties it.
async fn sent(storage: &Storage) -> Vec<(String, String)> {
    let batch = storage.outbox(1000).await.unwrap();
    let seqs: Vec<i64> = batch.iter().map(|m| m.seq).collect();
    storage.outbox_done(&seqs).await.unwrap();
    assert!(storage.outbox(1000).await.unwrap().is_empty());
    batch
        .into_iter()
        .map(|m| {
            let name = m.payload["name"].as_str().unwrap_or_default().to_string();
            (m.event_type, name)
        })
        .collect()
}

fn events(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(e, n)| (e.to_string(), n.to_string()))
        .collect()
}

async fn notifications_follow_committed_changes(storage: Storage, _: String) {
    let zone_name = "example.com.";
    let z = zone("z1", zone_name, "p1", "proj");
    let www = rrset("rs-www", "www.example.com.", "A", None, &["192.0.2.1"]);
    let mut ns = rrset("rs-ns", zone_name, "NS", None, &["ns1.example.org."]);
    ns.managed = true;

    // Without the outbox nothing is written.
    let other = zone("z0", "example.net.", "p1", "proj");
    storage
        .publish(&change(&other, None, vec![], &[]), T0)
        .await
        .unwrap();
    assert!(storage.outbox(10).await.unwrap().is_empty());

    let storage = storage.with_outbox();
    let s1 = storage
        .publish(&change(&z, None, vec![www.clone(), ns.clone()], &[]), T0)
        .await
        .unwrap();
    assert_eq!(
        sent(&storage).await,
        events(&[
            ("dns.zone.create", zone_name),
            ("dns.domain.create", zone_name),
            ("dns.recordset.create", "www.example.com."),
        ]),
        "managed recordsets are not notified"
    );

    // The same content again: a new serial, nothing to tell.
    let s2 = storage
        .publish(&change(&z, Some(s1), vec![www.clone()], &[]), T0 + 1)
        .await
        .unwrap();
    assert!(sent(&storage).await.is_empty());

    // A change planned against an old serial commits nothing, notifies nothing.
    let mut z2 = z.clone();
    z2.description = Some("billing".into());
    let www2 = rrset("rs-www", "www.example.com.", "A", None, &["192.0.2.2"]);
    assert!(
        storage
            .publish(&change(&z2, Some(s1), vec![www2.clone()], &[]), T0 + 2)
            .await
            .is_err()
    );
    assert!(sent(&storage).await.is_empty());

    let s3 = storage
        .publish(&change(&z2, Some(s2), vec![www2], &[]), T0 + 2)
        .await
        .unwrap();
    let batch = storage.outbox(10).await.unwrap();
    let update = &batch[0].payload;
    assert_eq!(
        (update["serial"].as_i64(), update["description"].as_str()),
        (Some(s3), Some("billing"))
    );
    assert_eq!(update["tenant_id"], "proj");
    assert_eq!(batch[2].payload["records"][0]["data"], "192.0.2.2");
    assert_eq!(
        sent(&storage).await,
        events(&[
            ("dns.zone.update", zone_name),
            ("dns.domain.update", zone_name),
            ("dns.recordset.update", "www.example.com."),
        ])
    );

    let s4 = storage
        .publish(&change(&z2, Some(s3), vec![], &["rs-www"]), T0 + 3)
        .await
        .unwrap();
    let batch = storage.outbox(10).await.unwrap();
    assert_eq!(batch[0].payload["records"][0]["data"], "192.0.2.2");
    assert_eq!(batch[0].payload["action"], "DELETE");
    assert_eq!(
        sent(&storage).await,
        events(&[("dns.recordset.delete", "www.example.com.")])
    );

    // Deleting the zone: a recordset still there goes with it unnotified;
    // one already gone (deleted by its owner, never republished) is
    // notified as deleted, before the zone.
    let kept = rrset("rs-kept", "kept.example.com.", "A", None, &["192.0.2.3"]);
    let gone = rrset("rs-gone", "gone.example.com.", "A", None, &["192.0.2.4"]);
    let s5 = storage
        .publish(&change(&z2, Some(s4), vec![kept, gone], &[]), T0 + 4)
        .await
        .unwrap();
    assert_eq!(
        sent(&storage).await,
        events(&[
            ("dns.recordset.create", "kept.example.com."),
            ("dns.recordset.create", "gone.example.com."),
        ])
    );
    let remaining = ["rs-kept".to_string()].into_iter().collect();
    assert!(storage.delete_zone("z1", &remaining).await.unwrap());
    let batch = storage.outbox(10).await.unwrap();
    assert_eq!(batch[0].payload["records"][0]["data"], "192.0.2.4");
    assert_eq!(batch[1].payload["serial"].as_i64(), Some(s5));
    assert_eq!(
        sent(&storage).await,
        events(&[
            ("dns.recordset.delete", "gone.example.com."),
            ("dns.zone.delete", zone_name),
            ("dns.domain.delete", zone_name),
        ])
    );
    assert!(
        !storage
            .delete_zone("z1", &Default::default())
            .await
            .unwrap()
    );
    assert!(sent(&storage).await.is_empty());
}

async fn kube_only_objects_are_notified_once_per_change(storage: Storage, _: String) {
    let storage = storage.with_outbox();
    let tld = |name: &str, description: &str| serde_json::json!({"id": "t1", "name": name, "description": description});
    let listed = |id: &str, payload: serde_json::Value, recent: bool| ListedObject {
        id: id.into(),
        payload,
        recent,
    };
    let kind = NotifiedKind::Tld;
    // The first listing is the baseline: objects that predate the bus are
    // noted, those made since notifications began notified.
    storage
        .note_listed(
            kind,
            vec![
                listed("t1", tld("org", "a"), false),
                listed("t0", serde_json::json!({"id": "t0", "name": "new"}), true),
            ],
        )
        .await
        .unwrap();
    assert_eq!(sent(&storage).await, events(&[("dns.tld.create", "new")]));
    storage.note_deleted(kind, "t0").await.unwrap();
    assert_eq!(sent(&storage).await, events(&[("dns.tld.delete", "new")]));

    // Seen again unchanged (a watch event, a relist): nothing.
    storage
        .note_object(kind, "t1", tld("org", "a"))
        .await
        .unwrap();
    storage
        .note_listed(kind, vec![listed("t1", tld("org", "a"), true)])
        .await
        .unwrap();
    assert_eq!(sent(&storage).await, events(&[]));

    // Changed, made, and both seen twice: once each.
    for _ in 0..2 {
        storage
            .note_object(kind, "t1", tld("org", "b"))
            .await
            .unwrap();
        storage
            .note_object(kind, "t2", serde_json::json!({"id": "t2", "name": "net"}))
            .await
            .unwrap();
    }
    assert_eq!(
        sent(&storage).await,
        events(&[("dns.tld.update", "org"), ("dns.tld.create", "net")])
    );

    // Deleted: notified with what was last noted, once.
    storage.note_deleted(kind, "t2").await.unwrap();
    storage.note_deleted(kind, "t2").await.unwrap();
    assert_eq!(sent(&storage).await, events(&[("dns.tld.delete", "net")]));

    // Gone while nobody watched, and one made: found by the next listing.
    storage
        .note_listed(
            kind,
            vec![listed(
                "t3",
                serde_json::json!({"id": "t3", "name": "com"}),
                false,
            )],
        )
        .await
        .unwrap();
    assert_eq!(
        sent(&storage).await,
        events(&[("dns.tld.create", "com"), ("dns.tld.delete", "org")])
    );

    // Kinds are apart: another kind's first listing is its own baseline.
    storage
        .note_listed(
            NotifiedKind::Pool,
            vec![listed(
                "t3",
                serde_json::json!({"id": "t3", "name": "default"}),
                false,
            )],
        )
        .await
        .unwrap();
    storage
        .note_deleted(NotifiedKind::Pool, "t3")
        .await
        .unwrap();
    assert_eq!(
        sent(&storage).await,
        events(&[("dns.pool.delete", "default")])
    );
}

async fn zone_statuses_are_notified_once_per_serial(storage: Storage, _: String) {
    let zone_name = "status.example.";
    let z = zone("zs", zone_name, "p1", "proj");
    // Without a bus nothing is noted.
    let s0 = storage
        .publish(&change(&z, None, vec![], &[]), T0)
        .await
        .unwrap();
    storage
        .note_zone_status("zs", s0, ZoneStatusNotice::Active)
        .await
        .unwrap();
    assert!(storage.outbox(10).await.unwrap().is_empty());

    let storage = storage.with_outbox();
    for _ in 0..2 {
        storage
            .note_zone_status("zs", s0, ZoneStatusNotice::Active)
            .await
            .unwrap();
    }
    let batch = storage.outbox(10).await.unwrap();
    assert_eq!(batch.len(), 2, "{batch:?}");
    assert_eq!(
        (
            batch[0].event_type.as_str(),
            batch[0].payload["status"].as_str(),
            batch[0].payload["action"].as_str(),
            batch[0].payload["serial"].as_i64()
        ),
        ("dns.zone.update", Some("ACTIVE"), Some("NONE"), Some(s0))
    );
    assert_eq!(
        sent(&storage).await,
        events(&[
            ("dns.zone.update", zone_name),
            ("dns.domain.update", zone_name)
        ])
    );

    // A serial the zone is no longer at: nothing.
    let www = rrset("rs-www2", "www.status.example.", "A", None, &["192.0.2.1"]);
    let s1 = storage
        .publish(&change(&z, Some(s0), vec![www], &[]), T0 + 1)
        .await
        .unwrap();
    sent(&storage).await;
    storage
        .note_zone_status("zs", s0, ZoneStatusNotice::Error { action: "UPDATE" })
        .await
        .unwrap();
    assert_eq!(sent(&storage).await, events(&[]));
    // The new serial failed, then made it: each once.
    for notice in [
        ZoneStatusNotice::Error { action: "UPDATE" },
        ZoneStatusNotice::Error { action: "UPDATE" },
        ZoneStatusNotice::Active,
    ] {
        storage.note_zone_status("zs", s1, notice).await.unwrap();
    }
    let batch = storage.outbox(10).await.unwrap();
    let statuses: Vec<_> = batch
        .iter()
        .filter(|m| m.event_type == "dns.zone.update")
        .map(|m| (m.payload["status"].clone(), m.payload["action"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (serde_json::json!("ERROR"), serde_json::json!("UPDATE")),
            (serde_json::json!("ACTIVE"), serde_json::json!("NONE"))
        ]
    );
    sent(&storage).await;

    // A zone deleted forgets its status; one gone notifies nothing.
    assert!(
        storage
            .delete_zone("zs", &Default::default())
            .await
            .unwrap()
    );
    sent(&storage).await;
    storage
        .note_zone_status("zs", s1, ZoneStatusNotice::Active)
        .await
        .unwrap();
    assert_eq!(sent(&storage).await, events(&[]));
}
