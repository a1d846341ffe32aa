//! A real BIND 9 secondary transferring from MiniDNS: by source address for
//! one zone, TSIG-signed (multi-message, verified by BIND) for another, then
//! NOTIFY from our client and an incremental transfer of the change.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use designate_central::ZoneRow;
use designate_mdns::{TransferPolicy, TsigKey, notify, soa_serial};
use designate_storage::testing::Backend;
use tokio::net::{TcpListener, UdpSocket};
use tokio::process::{Child, Command};

use crate::common::{
    SECRET, Server, T0, apex_ns, dig, loopback_policy, publish, records, rr, rrset, zone,
};

const NAMED: &str = "/usr/sbin/named";

/// A loopback port free on both UDP and TCP (for named to take).
async fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).await.is_ok() {
            return port;
        }
    }
}

/// named as a secondary of MiniDNS at `primary` for `plain.test` (by
/// address) and `signed.test` (TSIG key `xfr-key`), on `port`.
async fn start_named(dir: &std::path::Path, port: u16, primary: SocketAddr) -> Child {
    let d = dir.display();
    let p = primary.port();
    let conf = format!(
        r#"options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
}};
controls {{ }};
key "xfr-key" {{ algorithm hmac-sha256; secret "{SECRET}"; }};
zone "plain.test" {{ type secondary; primaries {{ 127.0.0.1 port {p}; }}; file "plain.test.db"; }};
zone "signed.test" {{ type secondary; primaries {{ 127.0.0.1 port {p} key "xfr-key"; }}; file "signed.test.db"; }};
"#
    );
    let path = dir.join("named.conf");
    std::fs::write(&path, conf).unwrap();
    let log = std::fs::File::create(dir.join("named.log")).unwrap();
    Command::new(NAMED)
        .arg("-g")
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start named")
}

/// Waits until `bind` serves `zone` at `serial`.
async fn wait_for_serial(bind: SocketAddr, zone: &str, serial: i64, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = soa_serial(bind, zone, None, Duration::from_millis(200)).await;
        if matches!(got, Ok(Some(s)) if i64::from(s) == serial) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{zone} not at {serial} on BIND: {got:?}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn publish_zone(server: &Server, z: &ZoneRow, hosts: usize) -> i64 {
    let mut upsert = vec![apex_ns(z)];
    for i in 0..hosts {
        upsert.push(rrset(
            &format!("{}-h{i}", z.id),
            &format!("host-{i}.{}", z.name),
            "A",
            None,
            &["192.0.2.10"],
        ));
    }
    publish(&server.storage, z, None, upsert, &[], T0).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bind_secondary_transfers_from_minidns() {
    let key = TsigKey::new("xfr-key", "hmac-sha256", SECRET).unwrap();
    let server = Server::start(
        Backend::Sqlite,
        TransferPolicy {
            keys: vec![key.clone()],
            ..loopback_policy()
        },
    )
    .await;
    let plain = zone("plain", "plain.test.");
    let signed = zone("signed", "signed.test.");
    let plain_serial = publish_zone(&server, &plain, 10).await;
    // Several messages, each signed: BIND verifies the chain.
    let signed_serial = publish_zone(&server, &signed, 3000).await;

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("named.log");
    let port = free_port().await;
    let bind: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut named = start_named(dir.path(), port, server.addr).await;

    wait_for_serial(bind, "plain.test.", plain_serial, &log).await;
    wait_for_serial(bind, "signed.test.", signed_serial, &log).await;
    for name in ["host-9.plain.test.", "host-2999.signed.test."] {
        let out = dig(bind, &[name, "A", "+norec", "+noall", "+answer"]).await;
        assert_eq!(
            records(&out),
            vec![rr(name, 3600, "A", "192.0.2.10")],
            "{out}"
        );
    }

    // A change, a NOTIFY from our client, and BIND fetches it incrementally.
    let www = rrset("www", "www.plain.test.", "A", Some(120), &["192.0.2.80"]);
    let next = publish(
        &server.storage,
        &plain,
        Some(plain_serial),
        vec![www],
        &[],
        T0 + 10,
    )
    .await;
    notify(
        "plain.test.",
        next as u32,
        bind,
        None,
        Duration::from_millis(500),
    )
    .await
    .expect("BIND acknowledges the NOTIFY");
    wait_for_serial(bind, "plain.test.", next, &log).await;
    let out = dig(
        bind,
        &["www.plain.test.", "A", "+norec", "+noall", "+answer"],
    )
    .await;
    assert_eq!(
        records(&out),
        vec![rr("www.plain.test.", 120, "A", "192.0.2.80")]
    );

    // Signed NOTIFY: BIND's signed acknowledgement is verified by our client.
    let host = rrset(
        "signed-h0",
        "host-0.signed.test.",
        "A",
        None,
        &["192.0.2.11"],
    );
    let next_signed = publish(
        &server.storage,
        &signed,
        Some(signed_serial),
        vec![host],
        &[],
        T0 + 10,
    )
    .await;
    notify(
        "signed.test.",
        next_signed as u32,
        bind,
        Some(&key),
        Duration::from_millis(500),
    )
    .await
    .expect("BIND acknowledges the signed NOTIFY");
    wait_for_serial(bind, "signed.test.", next_signed, &log).await;
    let out = dig(
        bind,
        &["host-0.signed.test.", "A", "+norec", "+noall", "+answer"],
    )
    .await;
    assert_eq!(
        records(&out),
        vec![rr("host-0.signed.test.", 3600, "A", "192.0.2.11")]
    );

    // The change came incrementally: the SOA four times and the new record.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.lines().any(|l| l.contains("'plain.test/IN'")
            && l.contains("Transfer completed: 1 messages, 5 records")
            && l.contains(&format!("(serial {next})"))),
        "BIND transferred the change by IXFR:\n{logged}"
    );
    named.kill().await.unwrap();
    server.stop().await;
}
