//! AXFR and IXFR, checked with dig and our own TCP client: content, SOA
//! framing, history fallback, the transfer policy, and a 100,000-record zone.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Instant;

use designate_central::managed::soa_rdata;
use designate_mdns::{AllowList, Ixfr, ResponseCode, TransferPolicy, TsigKey};
use designate_storage::testing::Backend;
use designate_storage::{HostPort, PoolRecord};
use hickory_proto::op::{Message, Query};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType, TSigner};

use crate::common::{
    Rr, SECRET, Server, T0, apex_ns, loopback_policy, publish, records, rr, rrset, status,
    tcp_exchange, zone,
};

/// One test function per backend: `sqlite::name`, `mysql::name`, `postgres::name`.
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::$test(super::Backend::Sqlite).await }
        )* }
        mod mysql { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::$test(super::Backend::MySql).await }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::$test(super::Backend::Postgres).await }
        )* }
    };
}

on_every_backend!(
    axfr_is_the_published_zone_framed_by_its_soa,
    ixfr_sends_the_changes_since_the_clients_serial
);

fn soa_rr(serial: i64) -> Rr {
    rr(
        "example.com.",
        3600,
        "SOA",
        &soa_rdata(&zone("z1", "example.com.").soa, serial),
    )
}

/// dig's answer to `args` (an AXFR or IXFR), records only.
async fn transfer(server: &Server, args: &[&str]) -> Vec<Rr> {
    let mut all = vec!["+noall", "+answer"];
    all.extend_from_slice(args);
    records(&server.dig(&all).await)
}

async fn axfr_is_the_published_zone_framed_by_its_soa(backend: Backend) {
    let server = Server::start(backend, loopback_policy()).await;
    let z = zone("z1", "example.com.");
    // Enough records for several messages; names sort around the apex.
    let mut upsert = vec![
        apex_ns(&z),
        rrset("mx", "example.com.", "MX", None, &["10 mail.example.com."]),
        rrset(
            "txt",
            "example.com.",
            "TXT",
            Some(300),
            &["\"hello world\""],
        ),
        rrset(
            "a",
            "a.example.com.",
            "A",
            Some(60),
            &["192.0.2.1", "192.0.2.2"],
        ),
        rrset(
            "cname",
            "alias.example.com.",
            "CNAME",
            None,
            &["a.example.com."],
        ),
    ];
    let mut want: BTreeSet<Rr> = [
        rr("example.com.", 3600, "NS", "ns1.example.org."),
        rr("example.com.", 3600, "MX", "10 mail.example.com."),
        rr("example.com.", 300, "TXT", "\"hello world\""),
        rr("a.example.com.", 60, "A", "192.0.2.1"),
        rr("a.example.com.", 60, "A", "192.0.2.2"),
        rr("alias.example.com.", 3600, "CNAME", "a.example.com."),
    ]
    .into();
    for i in 0..3000 {
        let name = format!("host-{i:04}.example.com.");
        let ip = format!("198.51.{}.{}", i / 250, i % 250);
        upsert.push(rrset(&format!("h{i}"), &name, "A", None, &[&ip]));
        want.insert(rr(&name, 3600, "A", &ip));
    }
    let serial = publish(&server.storage, &z, None, upsert, &[], T0).await;

    let got = transfer(&server, &["example.com.", "AXFR"]).await;
    assert_eq!(got.first(), Some(&soa_rr(serial)));
    assert_eq!(got.last(), Some(&soa_rr(serial)));
    let body: Vec<Rr> = got[1..got.len() - 1].to_vec();
    assert_eq!(body.len(), want.len(), "no record twice");
    assert_eq!(body.into_iter().collect::<BTreeSet<_>>(), want);

    // Our client sees the same, in several messages, each authoritative.
    let request = query("example.com.", RecordType::AXFR).to_vec().unwrap();
    let messages = tcp_exchange(server.addr, &request).await;
    assert!(messages.len() > 1, "{} messages", messages.len());
    assert!(messages.iter().all(|m| m.authoritative
        && m.response_code == ResponseCode::NoError
        && m.queries == query("example.com.", RecordType::AXFR).queries));
    let count: usize = messages.iter().map(|m| m.answers.len()).sum();
    assert_eq!(count, want.len() + 2);

    // A zone not hosted: REFUSED.
    let request = query("example.net.", RecordType::AXFR).to_vec().unwrap();
    let messages = tcp_exchange(server.addr, &request).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].response_code, ResponseCode::Refused);
    server.stop().await;
}

async fn ixfr_sends_the_changes_since_the_clients_serial(backend: Backend) {
    let server = Server::start(backend, loopback_policy()).await;
    let z = zone("z1", "example.com.");
    let s1 = publish(
        &server.storage,
        &z,
        None,
        vec![
            apex_ns(&z),
            rrset("www", "www.example.com.", "A", None, &["192.0.2.1"]),
            rrset("mx", "example.com.", "MX", None, &["10 mail.example.com."]),
        ],
        &[],
        T0,
    )
    .await;
    let ftp = rrset("ftp", "ftp.example.com.", "A", Some(60), &["192.0.2.5"]);
    let s2 = publish(&server.storage, &z, Some(s1), vec![ftp], &[], T0 + 10).await;
    let www = rrset("www", "www.example.com.", "A", None, &["192.0.2.2"]);
    let s3 = publish(&server.storage, &z, Some(s2), vec![www], &[], T0 + 20).await;
    let s4 = publish(&server.storage, &z, Some(s3), vec![], &["mx"], T0 + 30).await;

    let www1 = rr("www.example.com.", 3600, "A", "192.0.2.1");
    let www2 = rr("www.example.com.", 3600, "A", "192.0.2.2");
    let ftp = rr("ftp.example.com.", 60, "A", "192.0.2.5");
    let mx = rr("example.com.", 3600, "MX", "10 mail.example.com.");
    // RFC 1995: current SOA, then per version: old SOA, removed, new SOA,
    // added; current SOA.
    let want = vec![
        soa_rr(s4),
        soa_rr(s1),
        soa_rr(s2),
        ftp.clone(),
        soa_rr(s2),
        www1.clone(),
        soa_rr(s3),
        www2.clone(),
        soa_rr(s3),
        mx.clone(),
        soa_rr(s4),
        soa_rr(s4),
    ];
    let ixfr = |serial: i64| format!("IXFR={serial}");
    assert_eq!(transfer(&server, &["example.com.", &ixfr(s1)]).await, want);
    assert_eq!(
        transfer(&server, &["example.com.", &ixfr(s3)]).await,
        vec![soa_rr(s4), soa_rr(s3), mx.clone(), soa_rr(s4), soa_rr(s4)]
    );
    // Over UDP too, when it fits.
    assert_eq!(
        transfer(&server, &["example.com.", &ixfr(s1), "+notcp"]).await,
        want
    );
    // Current, or ahead: the single SOA.
    for serial in [s4, s4 + 100] {
        assert_eq!(
            transfer(&server, &["example.com.", &ixfr(serial)]).await,
            vec![soa_rr(s4)],
            "client at {serial}"
        );
    }
    // Our own client (a secondary zone's pull) reads the same answers.
    let pull = |serial: i64| {
        designate_mdns::ixfr(
            server.addr,
            "example.com.",
            u32::try_from(serial).unwrap(),
            None,
            std::time::Duration::from_secs(3),
        )
    };
    let Ixfr::Incremental { soa, differences } = pull(s1).await.unwrap() else {
        panic!("the changes since {s1}");
    };
    assert!(soa.data.contains(&format!(" {s4} ")), "{soa:?}");
    let shown = |records: &[designate_mdns::TransferredRecord]| {
        records
            .iter()
            .map(|r| format!("{} {} {}", r.name, r.type_, r.data))
            .collect::<Vec<_>>()
    };
    let steps: Vec<(Vec<String>, Vec<String>)> = differences
        .iter()
        .map(|d| (shown(&d.removed), shown(&d.added)))
        .collect();
    assert_eq!(
        steps,
        [
            (vec![], vec!["ftp.example.com. A 192.0.2.5".to_string()]),
            (
                vec!["www.example.com. A 192.0.2.1".to_string()],
                vec!["www.example.com. A 192.0.2.2".to_string()]
            ),
            (
                vec!["example.com. MX 10 mail.example.com.".to_string()],
                vec![]
            ),
        ]
    );
    assert_eq!(pull(s4).await.unwrap(), Ixfr::UpToDate);

    // With history for the last change only, older clients get the zone.
    let short = server.storage.clone().with_history_limit(1);
    let s5 = publish(&short, &z, Some(s4), vec![], &["ftp"], T0 + 40).await;
    let full = vec![
        soa_rr(s5),
        rr("example.com.", 3600, "NS", "ns1.example.org."),
        www2.clone(),
        soa_rr(s5),
    ];
    for serial in [s1, s3] {
        let got = transfer(&server, &["example.com.", &ixfr(serial)]).await;
        let sorted = |mut rrs: Vec<Rr>| {
            let last = rrs.pop();
            rrs[1..].sort();
            (rrs, last)
        };
        assert_eq!(sorted(got), sorted(full.clone()), "client at {serial}");
        let Ixfr::Full(zone) = pull(serial).await.unwrap() else {
            panic!("the whole zone for a client at {serial}");
        };
        assert_eq!(zone.len(), full.len() - 1, "{zone:?}");
        // Over UDP: the single SOA, which sends the client to TCP.
        assert_eq!(
            transfer(&server, &["example.com.", &ixfr(serial), "+notcp"]).await,
            vec![soa_rr(s5)]
        );
    }
    assert_eq!(
        transfer(&server, &["example.com.", &ixfr(s4)]).await,
        vec![soa_rr(s5), soa_rr(s4), ftp, soa_rr(s5), soa_rr(s5)]
    );
    server.stop().await;
}

fn query(name: &str, type_: RecordType) -> Message {
    let mut message = Message::query();
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), type_));
    message
}

fn ixfr_query(name: &str, serial: u32) -> Message {
    let mut message = query(name, RecordType::IXFR);
    message.add_authority(Record::from_rdata(
        Name::from_ascii(name).unwrap(),
        0,
        RData::SOA(SOA::new(Name::root(), Name::root(), serial, 0, 0, 0, 0)),
    ));
    message
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `request` signed with key `name`/`secret` (hmac-sha256).
fn signed(mut request: Message, name: &str, secret: &[u8]) -> Vec<u8> {
    let signer = TSigner::new(
        secret.to_vec(),
        hickory_proto::rr::rdata::tsig::TsigAlgorithm::HmacSha256,
        Name::from_ascii(name).unwrap(),
        300,
    )
    .unwrap();
    request.finalize(&signer, unix_now()).unwrap();
    request.to_vec().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_need_an_allowed_source_or_a_valid_signature() {
    let server = Server::start(Backend::Sqlite, TransferPolicy::default()).await;
    let z = zone("z1", "example.com.");
    let mut upsert = vec![apex_ns(&z)];
    for i in 0..2000 {
        let name = format!("host-{i}.example.com.");
        upsert.push(rrset(&format!("h{i}"), &name, "A", None, &["192.0.2.7"]));
    }
    let serial = publish(&server.storage, &z, None, upsert, &[], T0).await;
    let addr = server.addr;
    let axfr = query("example.com.", RecordType::AXFR).to_vec().unwrap();
    let ixfr = ixfr_query("example.com.", serial as u32 - 1)
        .to_vec()
        .unwrap();
    let refused = |messages: Vec<Message>| {
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].response_code, ResponseCode::Refused);
    };

    // Only 127.0.0.2 may transfer: 127.0.0.1 is refused, AXFR and IXFR.
    let mut allowed = AllowList::new();
    allowed.allow("127.0.0.2".parse().unwrap());
    server.policy.set(TransferPolicy {
        allowed,
        ..Default::default()
    });
    refused(tcp_exchange(addr, &axfr).await);
    refused(tcp_exchange(addr, &ixfr).await);
    let out = server.dig(&["example.com.", "AXFR"]).await;
    assert!(out.contains("Transfer failed"), "{out}");
    // SOA polls stay open to anyone.
    let out = server.dig(&["example.com.", "SOA"]).await;
    assert_eq!(status(&out), "NOERROR");
    // From 127.0.0.2: the zone.
    let got = transfer(&server, &["-b", "127.0.0.2", "example.com.", "AXFR"]).await;
    assert_eq!(got.len(), 2003);

    // TSIG required: unsigned is refused even from an allowed source.
    let key = TsigKey::new("xfr-key", "hmac-sha256", SECRET).unwrap();
    let mut allowed = AllowList::new();
    allowed.allow("127.0.0.1".parse().unwrap());
    server.policy.set(TransferPolicy {
        allowed,
        keys: vec![key],
        require_tsig: true,
        ..Default::default()
    });
    refused(tcp_exchange(addr, &axfr).await);
    // dig signs, and verifies every message of the answer.
    let y = format!("hmac-sha256:xfr-key:{SECRET}");
    let out = server.dig(&["-y", &y, "example.com.", "AXFR"]).await;
    assert!(
        !out.contains("failure") && !out.contains("Couldn't"),
        "{out}"
    );
    let got = records(&out);
    assert_eq!(got.len(), 2003, "{}", out.lines().last().unwrap_or(""));
    assert!(out.contains("TSIG"), "answers carry TSIG: {out}");
    let out = server
        .dig(&["-y", &y, "example.com.", &format!("IXFR={}", serial - 1)])
        .await;
    assert!(
        !out.contains("failure") && !out.contains("Couldn't"),
        "{out}"
    );
    assert_eq!(records(&out).len(), 2003);

    // A wrong secret or an unknown key: NOTAUTH.
    let secret = base64_decode(SECRET);
    let mut wrong = secret.clone();
    wrong[0] ^= 1;
    for request in [
        signed(query("example.com.", RecordType::AXFR), "xfr-key", &wrong),
        signed(
            query("example.com.", RecordType::AXFR),
            "other-key",
            &secret,
        ),
    ] {
        let messages = tcp_exchange(addr, &request).await;
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].response_code, ResponseCode::NotAuth);
    }
    let out = server
        .dig(&[
            "-y",
            &format!("hmac-sha256:xfr-key:{}", "b3RoZXI="),
            "example.com.",
            "AXFR",
        ])
        .await;
    assert!(!out.contains("host-1.example.com."), "{out}");
    // A good signature from anywhere.
    server.policy.set(TransferPolicy {
        keys: vec![TsigKey::new("xfr-key", "hmac-sha256", SECRET).unwrap()],
        ..Default::default()
    });
    let messages = tcp_exchange(
        addr,
        &signed(query("example.com.", RecordType::AXFR), "xfr-key", &secret),
    )
    .await;
    assert_eq!(
        messages.iter().map(|m| m.answers.len()).sum::<usize>(),
        2003
    );
    assert!(messages.iter().all(|m| m.signature().is_some()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_of_a_pool_stored_since_the_policy_was_set_may_transfer() {
    // Allowed by hand: 127.0.0.2; the pools in storage are read on a refusal.
    let mut allowed = AllowList::new();
    allowed.allow("127.0.0.2".parse().unwrap());
    let server = Server::start(
        Backend::Sqlite,
        TransferPolicy {
            allowed,
            ..Default::default()
        },
    )
    .await;
    let z = zone("z1", "example.com.");
    publish(&server.storage, &z, None, vec![apex_ns(&z)], &[], T0).await;
    let axfr = query("example.com.", RecordType::AXFR).to_vec().unwrap();
    let messages = tcp_exchange(server.addr, &axfr).await;
    assert_eq!(messages[0].response_code, ResponseCode::Refused);

    server
        .storage
        .upsert_pool(&PoolRecord {
            id: "pool-1".into(),
            name: "default".into(),
            description: None,
            ns_records: vec![],
            nameservers: vec![HostPort {
                host: "127.0.0.1".into(),
                port: 53,
            }],
            also_notifies: vec![],
            targets: serde_json::json!([]),
        })
        .await
        .unwrap();
    // Storage is read again at most once a second on refusals.
    let mut messages = tcp_exchange(server.addr, &axfr).await;
    for _ in 0..30 {
        if messages[0].response_code == ResponseCode::NoError {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        messages = tcp_exchange(server.addr, &axfr).await;
    }
    assert_eq!(messages[0].response_code, ResponseCode::NoError);
    assert_eq!(messages.iter().map(|m| m.answers.len()).sum::<usize>(), 3);
    // The source allowed by hand still is.
    let got = transfer(&server, &["-b", "127.0.0.2", "example.com.", "AXFR"]).await;
    assert_eq!(got.len(), 3);
    server.stop().await;
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// Times `what`, printing how long it took.
async fn timed<T>(label: &str, what: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = what.await;
    eprintln!("{label}: {:?}", started.elapsed());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100k_record_zone_transfers_in_pages() {
    const RECORDS: usize = 100_000;
    let server = Server::start(Backend::Sqlite, loopback_policy()).await;
    let z = zone("z1", "example.com.");
    // In changes of 10,000: storage binds every id of a change in one
    // statement, and SQLite takes at most 32,766 variables.
    let started = Instant::now();
    let mut serial = publish(&server.storage, &z, None, vec![apex_ns(&z)], &[], T0).await;
    for (n, chunk) in (0..RECORDS).collect::<Vec<_>>().chunks(10_000).enumerate() {
        let upsert = chunk
            .iter()
            .map(|i| {
                let ip = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
                rrset(
                    &format!("h{i}"),
                    &format!("host-{i}.example.com."),
                    "A",
                    None,
                    &[&ip],
                )
            })
            .collect();
        serial = publish(
            &server.storage,
            &z,
            Some(serial),
            upsert,
            &[],
            T0 + 1 + n as i64,
        )
        .await;
    }
    eprintln!("publish 100k records (SQLite): {:?}", started.elapsed());

    let out = timed(
        "dig AXFR of 100k records",
        server.dig(&["example.com.", "AXFR", "+noall", "+answer"]),
    )
    .await;
    let got = records(&out);
    assert_eq!(got.len(), RECORDS + 3, "NS, the records and the SOA twice");
    assert_eq!(got[0], soa_rr(serial));
    assert_eq!(got[got.len() - 1], soa_rr(serial));
    let names: BTreeSet<&str> = got.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), RECORDS + 1);

    let request = query("example.com.", RecordType::AXFR).to_vec().unwrap();
    let messages = timed(
        "client AXFR of 100k records",
        tcp_exchange(server.addr, &request),
    )
    .await;
    let count: usize = messages.iter().map(|m| m.answers.len()).sum();
    assert_eq!(count, RECORDS + 3);
    eprintln!("{} messages", messages.len());

    // A small change is a small IXFR.
    let www = rrset("www", "www.example.com.", "A", None, &["192.0.2.80"]);
    let next = publish(&server.storage, &z, Some(serial), vec![www], &[], T0 + 100).await;
    let ixfr = format!("IXFR={serial}");
    let got = records(
        &timed(
            "dig IXFR of one change",
            server.dig(&["example.com.", &ixfr, "+noall", "+answer"]),
        )
        .await,
    );
    assert_eq!(got.len(), 5);
    assert_eq!(got[0], soa_rr(next));
    let request = ixfr_query("example.com.", serial as u32).to_vec().unwrap();
    let messages = timed(
        "client IXFR of one change",
        tcp_exchange(server.addr, &request),
    )
    .await;
    assert_eq!(messages.iter().map(|m| m.answers.len()).sum::<usize>(), 5);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_strangers_cannot_lock_the_nameservers_out() {
    let server = Server::start(Backend::Sqlite, loopback_policy()).await;
    let z = zone("z1", "example.com.");
    publish(&server.storage, &z, None, vec![apex_ns(&z)], &[], T0).await;
    // A stranger (127.0.0.2) opens 200 connections and sends nothing.
    let mut idle = Vec::new();
    for _ in 0..200 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        if let Ok(stream) = socket.connect(server.addr).await {
            idle.push(stream);
        }
    }
    // Most were closed at once: a stranger holds a few at most.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut open = 0;
    for stream in &mut idle {
        let mut byte = [0u8; 1];
        match tokio::time::timeout(
            std::time::Duration::from_millis(20),
            tokio::io::AsyncReadExt::read(stream, &mut byte),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => {}
            _ => open += 1,
        }
    }
    assert!(open <= 8, "{open} idle connections of one stranger kept");
    // The pool's server (127.0.0.1) still transfers.
    let axfr = query("example.com.", RecordType::AXFR).to_vec().unwrap();
    let messages = tcp_exchange(server.addr, &axfr).await;
    assert_eq!(messages[0].response_code, ResponseCode::NoError);
    assert!(messages[0].answers.len() >= 2, "{messages:?}");
    drop(idle);
    server.stop().await;
}
