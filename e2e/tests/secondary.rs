//! Secondary zones with a real BIND as their master: made by REST and by
//! kubectl, transferred from the master and served by the pool's BIND at
//! the master's serial; a change on the master is served after
//! `tasks/xfr` at once, and by the SOA's refresh timer without it; the
//! master down: the zone shows ERROR (`MastersUnreachable`) while the pool
//! keeps serving the last copy until the SOA's expire, then drops it
//! (`Expired`); the master back: served and ACTIVE again with no one
//! asking. `tasks/xfr` on a primary zone is Designate's 400. A PowerDNS
//! pool serves a secondary zone the same, from a master that transfers it
//! only signed with the zone's TSIG key, a change as its differences
//! (IXFR); `transferred_at` tells each transfer.
//!
//! Needs `cargo build -p designate-operator` first.

use std::time::Duration;

use designate_backends::testing::Bind;
use designate_e2e::{BindBacked, PowerDnsBacked, dig, rest_request, wait_for};
use serde_json::{Value, json};

const SETTLED: Duration = Duration::from_secs(30);
const OWNER: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "secondaries"),
    ("X-Roles", "member,reader"),
];

/// The master's zone file: refresh 2 s and retry 1 s, so that the timers
/// show within a test; `www` has `address`.
fn zone_file(zone: &str, serial: u32, address: &str) -> String {
    zone_file_timed(zone, serial, address, 2)
}

/// The same with the SOA's refresh `refresh` (and retry 1 s).
fn zone_file_timed(zone: &str, serial: u32, address: &str, refresh: u32) -> String {
    zone_file_expiring(zone, serial, address, refresh, 600)
}

/// The same with the SOA's expire `expire`.
fn zone_file_expiring(zone: &str, serial: u32, address: &str, refresh: u32, expire: u32) -> String {
    format!(
        "$TTL 60\n\
         @ IN SOA ns1.{zone}. admin.{zone}. ( {serial} {refresh} 1 {expire} 60 )\n\
         @ IN NS ns1.{zone}.\n\
         ns1 IN A 192.0.2.53\n\
         www IN A {address}\n\
         @ IN MX 10 mail.{zone}.\n\
         @ IN TXT \"made on the master\"\n"
    )
}

/// Waits until the pool's nameserver at `server` answers `want` for
/// `name` `type_`.
fn served_by(server: std::net::SocketAddr, name: &str, type_: &str, want: &[&str]) {
    wait_for(
        SETTLED,
        &format!("{server} answering {name} {type_}"),
        || {
            let (rcode, answers) = dig(server, name, type_);
            (answers == want)
                .then_some(())
                .ok_or(format!("{rcode} {answers:?}"))
        },
    )
}

fn zone_json(base: &str, id: &str) -> Value {
    rest_request(base, "GET", &format!("/v2/zones/{id}"), &OWNER, None).json()
}

/// Makes `zone` (no trailing dot) a SECONDARY zone of `master` by REST;
/// its id.
fn create_secondary(base: &str, zone: &str, master: std::net::SocketAddr) -> String {
    let made = rest_request(
        base,
        "POST",
        "/v2/zones",
        &OWNER,
        Some(&json!({"name": format!("{zone}."), "type": "SECONDARY",
                     "masters": [master.to_string()]})),
    );
    assert_eq!(made.status, 202, "{}", made.text());
    made.json()["id"].as_str().unwrap().to_string()
}

/// A recordset as the test compares them: `(name, type, records sorted)`.
type Shown = (String, String, Vec<String>);

/// The zone's recordsets as REST lists them, sorted, once every one is
/// ACTIVE and they are `want` (or the wait's time is up).
fn transferred_sets_shown(base: &str, id: &str, want: &[Shown]) -> Vec<Shown> {
    let mut shown = Vec::new();
    wait_for(SETTLED, "the transferred sets listed", || {
        let listed = rest_request(
            base,
            "GET",
            &format!("/v2/zones/{id}/recordsets"),
            &OWNER,
            None,
        )
        .json();
        let sets = listed["recordsets"].as_array().cloned().unwrap_or_default();
        shown = sets
            .iter()
            .map(|rs| {
                let mut records: Vec<String> = rs["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect();
                records.sort();
                (
                    rs["name"].as_str().unwrap().to_string(),
                    rs["type"].as_str().unwrap().to_string(),
                    records,
                )
            })
            .collect();
        shown.sort();
        let settled = sets.iter().all(|rs| rs["status"] == "ACTIVE");
        (settled && shown == want)
            .then_some(())
            .ok_or(listed.to_string())
    });
    shown
}

fn condition(kubectl: &designate_e2e::Kubectl, zone: &str) -> Value {
    kubectl.get_json(&["zone", zone, "-n", "secondaries"])["status"]["conditions"][0].clone()
}

#[test]
fn a_secondary_zone_follows_its_master() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-secondary-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let base = backed.rest.clone();
    let pool_bind = backed.nameserver.dns_addr();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut master = runtime.block_on(Bind::start()).expect("the master BIND");
    let zone = "follower.example.org";
    runtime
        .block_on(master.serve_primary_file(zone, 10, &zone_file(zone, 10, "192.0.2.10"), None))
        .expect("the master serving the zone");
    let id = create_secondary(&base, zone, master.dns_addr());
    let served = |name: &str, type_: &str, want: &[&str]| served_by(pool_bind, name, type_, want);
    served(&format!("www.{zone}."), "A", &["192.0.2.10"]);
    served(&format!("{zone}."), "MX", &["10"]);
    // One character-string, as the master holds it (not one per word).
    let txt = std::process::Command::new("dig")
        .args([
            &format!("@{}", pool_bind.ip()),
            "-p",
            &pool_bind.port().to_string(),
        ])
        .args([&format!("{zone}."), "TXT", "+short", "+norec"])
        .output()
        .expect("running dig");
    assert_eq!(
        String::from_utf8_lossy(&txt.stdout).trim(),
        "\"made on the master\""
    );
    wait_for(SETTLED, "the zone ACTIVE at the master's serial", || {
        let shown = zone_json(&base, &id);
        (shown["status"] == "ACTIVE" && shown["serial"] == 10)
            .then_some(())
            .ok_or(shown.to_string())
    });
    // REST lists what was transferred, the master's SOA among it, as
    // Designate does.
    let www = format!("www.{zone}.");
    let set = |name: &str, type_: &str, records: &[&str]| {
        let records = records.iter().map(|r| r.to_string()).collect();
        (name.to_string(), type_.to_string(), records)
    };
    let expected = |serial: u32, address: &str| {
        let soa = format!("ns1.{zone}. admin.{zone}. {serial} 2 1 600 60");
        let mut sets = vec![
            set(&format!("{zone}."), "SOA", &[&soa]),
            set(&format!("{zone}."), "MX", &[&format!("10 mail.{zone}.")]),
            set(&format!("{zone}."), "NS", &[&format!("ns1.{zone}.")]),
            set(&format!("{zone}."), "TXT", &["\"made on the master\""]),
            set(&format!("ns1.{zone}."), "A", &["192.0.2.53"]),
            set(&www, "A", &[address]),
        ];
        sets.sort();
        sets
    };
    assert_eq!(
        transferred_sets_shown(&base, &id, &expected(10, "192.0.2.10")),
        expected(10, "192.0.2.10")
    );
    let copies = backed.kubectl.get_json(&[
        "recordsets",
        "-n",
        "secondaries",
        "-l",
        "designate.openstack.org/transferred",
    ]);
    let copies = copies["items"].as_array().unwrap();
    assert_eq!(copies.len(), 5, "kubectl shows the copies: {copies:?}");
    // A member cannot change what the master serves (Designate's policy).
    let listed = rest_request(
        &base,
        "GET",
        &format!("/v2/zones/{id}/recordsets?type=A&name={www}"),
        &OWNER,
        None,
    )
    .json();
    let www_id = listed["recordsets"][0]["id"].as_str().unwrap().to_string();
    let refused = rest_request(
        &base,
        "PUT",
        &format!("/v2/zones/{id}/recordsets/{www_id}"),
        &OWNER,
        Some(&json!({"records": ["192.0.2.99"]})),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());

    // A change on the master, asked for at once.
    runtime
        .block_on(master.serve_primary_file(zone, 11, &zone_file(zone, 11, "192.0.2.11"), None))
        .unwrap();
    let xfr = rest_request(
        &base,
        "POST",
        &format!("/v2/zones/{id}/tasks/xfr"),
        &OWNER,
        None,
    );
    assert_eq!(xfr.status, 202, "{}", xfr.text());
    served(&format!("www.{zone}."), "A", &["192.0.2.11"]);
    // The list follows, the set kept its id.
    assert_eq!(
        transferred_sets_shown(&base, &id, &expected(11, "192.0.2.11")),
        expected(11, "192.0.2.11")
    );
    let shown = rest_request(
        &base,
        "GET",
        &format!("/v2/zones/{id}/recordsets/{www_id}"),
        &OWNER,
        None,
    );
    assert_eq!(
        shown.json()["records"],
        json!(["192.0.2.11"]),
        "{}",
        shown.text()
    );
    // And one the refresh timer (2 s) finds by itself.
    runtime
        .block_on(master.serve_primary_file(zone, 12, &zone_file(zone, 12, "192.0.2.12"), None))
        .unwrap();
    served(&format!("www.{zone}."), "A", &["192.0.2.12"]);

    // The master down: ERROR with the reason; the last copy still served.
    master.kill();
    wait_for(SETTLED, "the zone in ERROR", || {
        let shown = zone_json(&base, &id);
        (shown["status"] == "ERROR")
            .then_some(())
            .ok_or(shown.to_string())
    });
    let condition = condition(&backed.kubectl, zone);
    assert_eq!(condition["reason"], "MastersUnreachable", "{condition}");
    let (_, answers) = dig(pool_bind, &format!("www.{zone}."), "A");
    assert_eq!(answers, ["192.0.2.12"], "the last copy is served");
    // Back: ACTIVE again, with no one asking.
    runtime.block_on(master.restart()).unwrap();
    wait_for(SETTLED, "the zone ACTIVE again", || {
        let shown = zone_json(&base, &id);
        (shown["status"] == "ACTIVE")
            .then_some(())
            .ok_or(shown.to_string())
    });

    // Its own fields changed (a new serial above the master's), it still
    // follows the master.
    let patched = rest_request(
        &base,
        "PATCH",
        &format!("/v2/zones/{id}"),
        &OWNER,
        Some(&json!({"description": "followed"})),
    );
    assert!(patched.status < 300, "{}", patched.text());
    runtime
        .block_on(master.serve_primary_file(zone, 20, &zone_file(zone, 20, "192.0.2.20"), None))
        .unwrap();
    served(&format!("www.{zone}."), "A", &["192.0.2.20"]);

    // One made with kubectl is transferred the same.
    let other = "kubectl-follower.example.org";
    runtime
        .block_on(master.serve_primary_file(other, 7, &zone_file(other, 7, "192.0.2.70"), None))
        .unwrap();
    let manifest = tmp.path().join("secondary.yaml");
    std::fs::write(
        &manifest,
        format!(
            "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: {other}\n  namespace: secondaries\nspec:\n  name: {other}.\n  type: SECONDARY\n  masters:\n  - \"{}\"\n",
            master.dns_addr()
        ),
    )
    .unwrap();
    backed
        .kubectl
        .ok(&["apply", "-f", manifest.to_str().unwrap()]);
    served(&format!("www.{other}."), "A", &["192.0.2.70"]);

    // A master's NOTIFY: transferred at once, not at the refresh (an
    // hour here).
    let mdns = backed.standalone.mdns_addr().expect("MiniDNS's address");
    let notified = "notified.example.org";
    let serve = |serial: u32, address: &str| {
        let file = zone_file_timed(notified, serial, address, 3600);
        runtime
            .block_on(master.serve_primary_file(notified, serial, &file, Some(mdns)))
            .unwrap();
    };
    serve(1, "192.0.2.100");
    create_secondary(&base, notified, master.dns_addr());
    served(&format!("www.{notified}."), "A", &["192.0.2.100"]);
    serve(2, "192.0.2.101");
    let changed = std::time::Instant::now();
    served(&format!("www.{notified}."), "A", &["192.0.2.101"]);
    eprintln!(
        "master's change served by the pool {:?} after the master served it",
        changed.elapsed()
    );

    // A primary zone has no masters to transfer from.
    let primary = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &OWNER,
        Some(&json!({"name": "leader.example.org.", "email": "admin@example.org"})),
    );
    let primary_id = primary.json()["id"].as_str().unwrap().to_string();
    let refused = rest_request(
        &base,
        "POST",
        &format!("/v2/zones/{primary_id}/tasks/xfr"),
        &OWNER,
        None,
    );
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(refused.json()["message"], "Can't XFR a non Secondary zone.");
}

#[test]
fn a_secondary_zone_expires_without_its_master_and_comes_back_with_it() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-secondary-expire-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let base = backed.rest.clone();
    let pool_bind = backed.nameserver.dns_addr();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut master = runtime.block_on(Bind::start()).expect("the master BIND");
    let zone = "expiring.example.org";
    // Refresh 1 s, retry 1 s, expire 4 s.
    let file = zone_file_expiring(zone, 30, "192.0.2.30", 1, 4);
    runtime
        .block_on(master.serve_primary_file(zone, 30, &file, None))
        .unwrap();
    let id = create_secondary(&base, zone, master.dns_addr());
    let www = format!("www.{zone}.");
    served_by(pool_bind, &www, "A", &["192.0.2.30"]);
    let condition = || condition(&backed.kubectl, zone);

    // The master gone: the copy is served until the SOA's expire, then
    // the pool's BIND drops the zone and the zone shows why.
    master.kill();
    let down = std::time::Instant::now();
    wait_for(SETTLED, "the zone expired", || {
        let condition = condition();
        (condition["reason"] == "Expired")
            .then_some(())
            .ok_or(condition.to_string())
    });
    assert!(
        down.elapsed() >= Duration::from_secs(3),
        "expired {:?} after the master went, before its expire",
        down.elapsed()
    );
    wait_for(SETTLED, "the pool's BIND no longer serving it", || {
        let (rcode, answers) = dig(pool_bind, &www, "A");
        (rcode == "REFUSED" && answers.is_empty())
            .then_some(())
            .ok_or(format!("{rcode} {answers:?}"))
    });
    assert_eq!(zone_json(&base, &id)["status"], "ERROR");

    // The master back: served and ACTIVE again, with no one asking.
    runtime.block_on(master.restart()).unwrap();
    served_by(pool_bind, &www, "A", &["192.0.2.30"]);
    wait_for(SETTLED, "the zone ACTIVE again", || {
        let shown = zone_json(&base, &id);
        (shown["status"] == "ACTIVE")
            .then_some(())
            .ok_or(shown.to_string())
    });
}

#[test]
fn a_keyed_secondary_zone_is_served_by_a_powerdns_pool() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-secondary-pdns-")
        .tempdir()
        .unwrap();
    let backed = PowerDnsBacked::start(tmp.path(), &[]);
    let pdns = backed.nameserver.dns_addr();
    let mdns = backed.standalone.mdns_addr().expect("MiniDNS's address");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let master = runtime.block_on(Bind::start()).expect("the master BIND");
    let zone = "pdns-follower.example.org";
    // The master transfers the zone only to requests signed with its key.
    let serve = |serial: u32, address: &str| {
        let file = zone_file_timed(zone, serial, address, 3600);
        runtime
            .block_on(master.serve_keyed_primary_file(zone, serial, &file, Some(mdns)))
            .unwrap();
    };
    serve(5, "192.0.2.50");
    let id = create_secondary(&backed.rest, zone, master.dns_addr());
    let condition = || condition(&backed.kubectl, zone);
    wait_for(SETTLED, "the unsigned transfer refused", || {
        let condition = condition();
        (condition["reason"] == "TransferRefused")
            .then_some(())
            .ok_or(condition.to_string())
    });
    assert_eq!(zone_json(&backed.rest, &id)["transferred_at"], Value::Null);

    // The zone's own key: its pulls are signed, the master transfers it,
    // and PowerDNS serves it (MiniDNS and PowerDNS use the key too).
    let secret = master.key_base64().unwrap();
    let key = rest_request(
        &backed.rest,
        "POST",
        "/v2/tsigkeys",
        &[("X-Auth-Project-ID", "admin"), ("X-Roles", "admin")],
        Some(
            &json!({"name": "designate-test", "algorithm": "hmac-sha256", "secret": secret,
                     "scope": "ZONE", "resource_id": id}),
        ),
    );
    assert_eq!(key.status, 201, "{}", key.text());
    let served = |name: &str, type_: &str, want: &[&str]| served_by(pdns, name, type_, want);
    served(&format!("www.{zone}."), "A", &["192.0.2.50"]);
    served(&format!("{zone}."), "MX", &["10"]);
    wait_for(SETTLED, "the zone ACTIVE at the master's serial", || {
        let shown = zone_json(&backed.rest, &id);
        (shown["status"] == "ACTIVE" && shown["serial"] == 5)
            .then_some(())
            .ok_or(shown.to_string())
    });
    let first_transfer = zone_json(&backed.rest, &id)["transferred_at"].clone();
    assert!(first_transfer.is_string(), "{first_transfer}");
    // The master's change and its NOTIFY: served by PowerDNS (its refresh
    // is an hour), and a new transfer time shown (times are kept to the
    // second).
    std::thread::sleep(Duration::from_millis(1100));
    serve(6, "192.0.2.51");
    served(&format!("www.{zone}."), "A", &["192.0.2.51"]);
    wait_for(SETTLED, "a later transferred_at", || {
        let shown = zone_json(&backed.rest, &id);
        (shown["serial"] == 6 && shown["transferred_at"] != first_transfer)
            .then_some(())
            .ok_or(shown.to_string())
    });
    // The master logs both signed: the first transfer whole, the change
    // as its differences (the master journals them).
    let logs = master.logs();
    let transferred = |what: &str| {
        logs.lines()
            .any(|l| l.contains(zone) && l.contains(what) && l.contains("TSIG designate-test"))
    };
    assert!(transferred("AXFR started"), "{logs}");
    assert!(transferred("IXFR started"), "{logs}");
    assert!(transferred("(serial 5 -> 6)"), "{logs}");
}
