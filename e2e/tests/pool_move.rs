//! Pool move (`POST /v2/zones/{id}/tasks/pool_move`, admins): a zone served
//! by the default pool's BIND moves to a second pool's BIND. It is served
//! by the new BIND before the old one drops it (never by neither), its
//! apex NS becomes the new pool's, and `pool_id` names the new pool.
//! Designate's refusals: the same pool, a pool that does not exist, no
//! pool asked and the scheduler's the current one, a member asking.
//!
//! Needs `cargo build -p designate-operator` first.

use std::time::Duration;

use designate_backends::testing::Bind;
use designate_e2e::{BindBacked, bind_pool_yaml, dig, rest_request, wait_for};
use serde_json::{Value, json};

const SETTLED: Duration = Duration::from_secs(30);
const ADMIN: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "mover"),
    ("X-Roles", "admin,member,reader"),
];
const ZONE: &str = "moving-pools.example.org.";

fn call(base: &str, method: &str, path: &str, body: Option<Value>) -> designate_e2e::HttpResponse {
    rest_request(base, method, path, &ADMIN, body.as_ref())
}

fn serves(bind: std::net::SocketAddr) -> bool {
    let (rcode, answers) = dig(bind, ZONE, "SOA");
    rcode == "NOERROR" && !answers.is_empty()
}

#[test]
fn a_zone_moves_to_another_pools_nameservers_before_leaving_its_own() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-pool-move-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let base = backed.rest.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let second = runtime.block_on(Bind::start()).expect("a second BIND");
    let (old, new) = (backed.nameserver.dns_addr(), second.dns_addr());

    let zone = call(
        &base,
        "POST",
        "/v2/zones",
        Some(json!({"name": ZONE, "email": "admin@example.org"})),
    );
    assert_eq!(zone.status, 202, "{}", zone.text());
    let zone_id = zone.json()["id"].as_str().unwrap().to_string();
    let zone_path = format!("/v2/zones/{zone_id}");
    let move_path = format!("{zone_path}/tasks/pool_move");
    wait_for(SETTLED, "the zone served by the default pool", || {
        serves(old)
            .then_some(())
            .ok_or_else(|| "not yet".to_string())
    });
    let default_pool = call(&base, "GET", &zone_path, None).json()["pool_id"].clone();

    // A second pool, made with kubectl as an operator would.
    let mdns = backed.standalone.mdns_addr().expect("MiniDNS's address");
    let yaml = bind_pool_yaml(&second, mdns)
        .replace("name: default", "name: second")
        .replace("ns1.example.net.", "ns2.example.net.");
    let file = tmp.path().join("second.yaml");
    std::fs::write(&file, yaml).unwrap();
    backed.kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
    let second_id = wait_for(SETTLED, "the second pool listed", || {
        let pools = call(&base, "GET", "/v2/pools", None).json();
        pools["pools"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "second")
            .and_then(|p| p["id"].as_str().map(str::to_string))
            .ok_or(pools.to_string())
    });

    // Designate's refusals.
    let refused = |body: Value, headers: &[(&str, &str)], status: u16, message: &str| {
        let answer = rest_request(&base, "POST", &move_path, headers, Some(&body));
        assert_eq!(answer.status, status, "{body}: {}", answer.text());
        if !message.is_empty() {
            assert_eq!(answer.json()["message"], message, "{body}");
        }
    };
    refused(
        json!({"pool_id": default_pool}),
        &ADMIN,
        400,
        "Target pool must be different for zone pool move",
    );
    refused(
        json!({"pool_id": "0f9c2b1e-9b7e-4e0a-9d46-3c1c0e7f2a11"}),
        &ADMIN,
        400,
        "Target pool does not exist",
    );
    refused(json!({}), &ADMIN, 400, "No valid pool selected");
    let member = [("X-Auth-Project-ID", "mover"), ("X-Roles", "member,reader")];
    refused(json!({"pool_id": second_id}), &member, 403, "");

    let moved = call(
        &base,
        "POST",
        &move_path,
        Some(json!({"pool_id": second_id})),
    );
    assert_eq!(moved.status, 202, "{}", moved.text());
    // Until the old BIND drops it, look: whenever it does not serve the
    // zone, the new one does. The old one is asked first: the new one
    // serves before the old one drops the zone and keeps serving, so an
    // old one found without it means a new one that serves when asked
    // next (asked the other way round, the new one could be asked just
    // before its transfer and the old one just after its delete).
    let mut polls = 0;
    wait_for(SETTLED, "the old pool's BIND without the zone", || {
        polls += 1;
        let old_serves = serves(old);
        let new_serves = serves(new);
        assert!(
            old_serves || new_serves,
            "neither pool's BIND serves the zone"
        );
        (!old_serves)
            .then_some(())
            .ok_or_else(|| "still served by the old pool".to_string())
    });
    assert!(serves(new));
    eprintln!("{polls} polls during the move");
    let (_, ns) = dig(new, ZONE, "NS");
    assert_eq!(ns, ["ns2.example.net."]);
    wait_for(SETTLED, "the zone ACTIVE in the second pool", || {
        let zone = call(&base, "GET", &zone_path, None).json();
        (zone["status"] == "ACTIVE" && zone["pool_id"] == second_id.as_str())
            .then_some(())
            .ok_or(zone.to_string())
    });
    // It stays moved: a recordset now is served by the new BIND.
    let rs = call(
        &base,
        "POST",
        &format!("{zone_path}/recordsets"),
        Some(json!({"name": format!("www.{ZONE}"), "type": "A", "records": ["192.0.2.80"]})),
    );
    assert_eq!(rs.status, 202, "{}", rs.text());
    wait_for(SETTLED, "the new BIND answering the recordset", || {
        let (rcode, answers) = dig(new, &format!("www.{ZONE}"), "A");
        (answers == ["192.0.2.80"])
            .then_some(())
            .ok_or(format!("{rcode} {answers:?}"))
    });
    assert!(!serves(old), "the old pool's BIND serves the zone again");
}
