//! PTR records for floating IPs (`/v2/reverse/floatingips`, `openstack ptr
//! record ...`), end to end: the Sink learns floating IPs from neutron's
//! notifications (Designate's own samples) published on a RabbitMQ of the
//! test's own; each project sees and sets only its own; the PTR lands in the
//! reverse zone (made for Central's managed resource tenant) and BIND
//! answers it; unset and the floating IP's delete take it away.
//!
//! Needs `cargo build -p designate-operator` first, BIND, rabbitmq-server
//! and the openstack CLI (`DESIGNATE_OPENSTACK`).

use std::time::Duration;

use designate_bus::{Notification, Publisher, TransportUrl};
use designate_e2e::openstack::Cli;
use designate_e2e::rabbitmq::Broker;
use designate_e2e::{BindBacked, dig, rest_request, wait_for};
use serde_json::{Value, json};

const SETTLED: Duration = Duration::from_secs(30);
/// The project of the sample's floating IP.
const OWNER: &str = "c97027dd880d4c129ae7a4ba7edade05";
const FIP_ID: &str = "f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e";
const KEY: &str = "RegionOne:f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e";
const PTR_NAME: &str = "201.2.0.192.in-addr.arpa.";

fn as_project(project: &str) -> [(&str, &str); 2] {
    [("X-Auth-Project-ID", project), ("X-Roles", "member,reader")]
}

struct Neutron {
    runtime: tokio::runtime::Runtime,
    publisher: Publisher,
}

impl Neutron {
    fn publish(&self, mut notification: Notification) {
        // Each a message of its own, copies included.
        notification.message_id = uuid::Uuid::new_v4();
        self.runtime
            .block_on(self.publisher.publish(std::slice::from_ref(&notification)))
            .unwrap();
    }
}

fn floating_ips(base: &str, project: &str) -> Vec<Value> {
    let answer = rest_request(
        base,
        "GET",
        "/v2/reverse/floatingips",
        &as_project(project),
        None,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["floatingips"].as_array().unwrap().clone()
}

/// Waits until BIND answers the PTR with `want` (empty: NXDOMAIN).
fn served(backed: &BindBacked, want: &[&str]) {
    let bind = backed.nameserver.dns_addr();
    wait_for(SETTLED, &format!("{PTR_NAME} PTR {want:?} on BIND"), || {
        let (rcode, answers) = dig(bind, PTR_NAME, "PTR");
        let expected = if want.is_empty() {
            "NXDOMAIN"
        } else {
            "NOERROR"
        };
        (rcode == expected && answers == want)
            .then_some(())
            .ok_or(format!("{rcode} {answers:?}"))
    });
}

#[test]
fn floating_ip_ptrs_are_set_shown_and_unset_by_their_project() {
    let broker = Broker::start().expect("a RabbitMQ of the test's own");
    let transport = format!("rabbit://guest:guest@{}/", broker.host_port());
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-ptr-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(
        tmp.path(),
        &[
            "--transport-url",
            &transport,
            "--sink-floatingip-region",
            "RegionOne",
        ],
    );
    let base = backed.rest.clone();
    let neutron = Neutron {
        runtime: tokio::runtime::Runtime::new().unwrap(),
        publisher: Publisher::new(
            TransportUrl::parse(&transport).unwrap(),
            "neutron",
            "notifications",
        ),
    };

    // neutron tells of two floating IPs of two projects.
    let associated = designate_e2e::sample_notification("floatingip.update.end_associate");
    let mut other = associated.clone();
    other.payload["floatingip"]["id"] = json!("0c2b7e40-7a4f-4c29-9e4a-5d1f3c2b1a00");
    other.payload["floatingip"]["floating_ip_address"] = json!("192.0.2.202");
    other.payload["floatingip"]["tenant_id"] = json!("other-project");
    neutron.publish(associated.clone());
    neutron.publish(other);
    let listed = wait_for(SETTLED, "the floating IP listed", || {
        let fips = floating_ips(&base, OWNER);
        (fips.len() == 1)
            .then_some(fips)
            .ok_or("not yet".to_string())
    });
    let fip = &listed[0];
    assert_eq!(
        (
            fip["id"].as_str(),
            fip["address"].as_str(),
            fip["ptrdname"].as_null()
        ),
        (Some(KEY), Some("192.0.2.201"), Some(()))
    );
    assert_eq!(
        (fip["action"].as_str(), fip["status"].as_str()),
        (Some("NONE"), Some("INACTIVE"))
    );
    assert!(
        fip["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v2/reverse/floatingips/{KEY}"))
    );
    // Each project sees its own only.
    let others = wait_for(SETTLED, "the other project's floating IP", || {
        let fips = floating_ips(&base, "other-project");
        (fips.len() == 1)
            .then_some(fips)
            .ok_or("not yet".to_string())
    });
    assert_eq!(others[0]["address"], "192.0.2.202");
    let path = format!("/v2/reverse/floatingips/{KEY}");
    let foreign = rest_request(&base, "GET", &path, &as_project("other-project"), None);
    assert_eq!(
        (foreign.status, foreign.json()["type"].as_str()),
        (404, Some("not_found"))
    );
    let stolen = rest_request(
        &base,
        "PATCH",
        &path,
        &as_project("other-project"),
        Some(&json!({"ptrdname": "stolen.example.org."})),
    );
    assert_eq!(stolen.status, 404, "{}", stolen.text());
    // Designate's errors for a bad key and a bad name.
    let bad_key = rest_request(
        &base,
        "GET",
        "/v2/reverse/floatingips/RegionOne",
        &as_project(OWNER),
        None,
    );
    assert_eq!(
        (bad_key.status, bad_key.json()["type"].as_str()),
        (400, Some("bad_request"))
    );
    let bad_name = rest_request(
        &base,
        "PATCH",
        &path,
        &as_project(OWNER),
        Some(&json!({"ptrdname": "no dot"})),
    );
    assert_eq!(
        (bad_name.status, bad_name.json()["type"].as_str()),
        (400, Some("invalid_object"))
    );

    // Set: 202 with the PTR pending, then served by BIND in the reverse zone.
    let set = rest_request(
        &base,
        "PATCH",
        &path,
        &as_project(OWNER),
        Some(&json!({"ptrdname": "vm1.example.org.", "description": "web", "ttl": 600})),
    );
    assert_eq!(set.status, 202, "{}", set.text());
    let body = set.json();
    assert_eq!(
        (
            body["ptrdname"].as_str(),
            body["ttl"].as_i64(),
            body["status"].as_str(),
            body["action"].as_str()
        ),
        (
            Some("vm1.example.org."),
            Some(600),
            Some("PENDING"),
            Some("CREATE")
        )
    );
    served(&backed, &["vm1.example.org."]);
    let shown = wait_for(SETTLED, "the PTR ACTIVE", || {
        let shown = rest_request(&base, "GET", &path, &as_project(OWNER), None).json();
        (shown["status"] == "ACTIVE")
            .then_some(shown.clone())
            .ok_or(shown.to_string())
    });
    assert_eq!(
        (shown["description"].as_str(), shown["action"].as_str()),
        (Some("web"), Some("NONE"))
    );
    // The reverse zone is Central's managed resource tenant's.
    let admin = [
        ("X-Auth-Project-ID", "admin"),
        ("X-Roles", "admin"),
        ("X-Auth-All-Projects", "true"),
    ];
    let zones = rest_request(
        &base,
        "GET",
        "/v2/zones?name=2.0.192.in-addr.arpa.",
        &admin,
        None,
    )
    .json();
    assert_eq!(
        zones["zones"][0]["project_id"], "00000000-0000-0000-0000-000000000000",
        "{zones}"
    );

    // The openstack CLI drives the same endpoints.
    let cli = Cli::noauth(&base, tmp.path(), "ptr owner");
    let cli_as = ["--sudo-project-id", OWNER];
    let listed = cli.json(&[&["ptr", "record", "list", "-f", "json"][..], &cli_as].concat());
    assert_eq!(listed[0]["ptrdname"], "vm1.example.org.", "{listed}");
    let set = cli.json(
        &[
            &[
                "ptr",
                "record",
                "set",
                KEY,
                "cli.example.org.",
                "--ttl",
                "300",
                "-f",
                "json",
            ][..],
            &cli_as,
        ]
        .concat(),
    );
    assert_eq!(set["ptrdname"], "cli.example.org.", "{set}");
    served(&backed, &["cli.example.org."]);
    let shown = cli.json(&[&["ptr", "record", "show", KEY, "-f", "json"][..], &cli_as].concat());
    assert_eq!(
        (shown["ttl"].as_i64(), shown["address"].as_str()),
        (Some(300), Some("192.0.2.201"))
    );
    let unset = cli.run(&[&["ptr", "record", "unset", KEY][..], &cli_as].concat());
    assert!(unset.ok, "{}", unset.describe());
    served(&backed, &[]);
    let shown = rest_request(&base, "GET", &path, &as_project(OWNER), None).json();
    assert!(shown["ptrdname"].is_null(), "{shown}");
    let again = rest_request(
        &base,
        "PATCH",
        &path,
        &as_project(OWNER),
        Some(&json!({"ptrdname": null})),
    );
    assert_eq!(
        (again.status, again.json()["type"].as_str()),
        (404, Some("not_found"))
    );

    // The floating IP deleted in neutron: gone from the list, PTR and all.
    let set = rest_request(
        &base,
        "PATCH",
        &path,
        &as_project(OWNER),
        Some(&json!({"ptrdname": "vm1.example.org."})),
    );
    assert_eq!(set.status, 202, "{}", set.text());
    served(&backed, &["vm1.example.org."]);
    let mut deleted = designate_e2e::sample_notification("floatingip.delete.start");
    deleted.payload["floatingip_id"] = json!(FIP_ID);
    neutron.publish(deleted);
    wait_for(SETTLED, "the floating IP gone", || {
        floating_ips(&base, OWNER)
            .is_empty()
            .then_some(())
            .ok_or("still listed".to_string())
    });
    served(&backed, &[]);
}
