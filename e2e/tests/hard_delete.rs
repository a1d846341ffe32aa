//! Hard delete (`X-Designate-Hard-Delete: true`, admins): the zone leaves
//! BIND with its zone file (`rndc delzone -clean`, as Designate's worker
//! does), where a plain delete leaves BIND's file behind; a member asking
//! for it is refused (403) and the zone stays.
//!
//! Needs `cargo build -p designate-operator` first.

use std::time::Duration;

use designate_e2e::{BindBacked, dig, rest_request, wait_for};
use serde_json::json;

const SETTLED: Duration = Duration::from_secs(30);
const ADMIN: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "purger"),
    ("X-Roles", "admin,member,reader"),
];

#[test]
fn a_hard_delete_takes_the_zone_file_too() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-hard-delete-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let base = backed.rest.clone();
    let bind = backed.nameserver.dns_addr();
    let zone_file = |name: &str| {
        backed
            .nameserver
            .dir()
            .join(format!("{}.db", name.trim_end_matches('.')))
    };

    let mut ids = Vec::new();
    for name in ["soft.example.org.", "hard.example.org."] {
        let zone = rest_request(
            &base,
            "POST",
            "/v2/zones",
            &ADMIN,
            Some(&json!({"name": name, "email": "admin@example.org"})),
        );
        assert_eq!(zone.status, 202, "{}", zone.text());
        ids.push(zone.json()["id"].as_str().unwrap().to_string());
        wait_for(
            SETTLED,
            "BIND serving the zone and its file written",
            || {
                let (rcode, _) = dig(bind, name, "SOA");
                (rcode == "NOERROR" && zone_file(name).exists())
                    .then_some(())
                    .ok_or(format!("{rcode}, file {}", zone_file(name).exists()))
            },
        );
    }

    // A member may not ask for a hard delete.
    let member = [
        ("X-Auth-Project-ID", "purger"),
        ("X-Roles", "member,reader"),
        ("X-Designate-Hard-Delete", "true"),
    ];
    let refused = rest_request(
        &base,
        "DELETE",
        &format!("/v2/zones/{}", ids[1]),
        &member,
        None,
    );
    assert_eq!(refused.status, 403, "{}", refused.text());

    let soft = rest_request(
        &base,
        "DELETE",
        &format!("/v2/zones/{}", ids[0]),
        &ADMIN,
        None,
    );
    assert_eq!(soft.status, 202, "{}", soft.text());
    let mut hard_headers = ADMIN.to_vec();
    hard_headers.push(("X-Designate-Hard-Delete", "true"));
    let hard = rest_request(
        &base,
        "DELETE",
        &format!("/v2/zones/{}", ids[1]),
        &hard_headers,
        None,
    );
    assert_eq!(hard.status, 202, "{}", hard.text());
    for (id, name) in ids.iter().zip(["soft.example.org.", "hard.example.org."]) {
        wait_for(SETTLED, "the zone gone from REST and BIND", || {
            let status =
                rest_request(&base, "GET", &format!("/v2/zones/{id}"), &ADMIN, None).status;
            let (rcode, _) = dig(bind, name, "SOA");
            (status == 404 && rcode == "REFUSED")
                .then_some(())
                .ok_or(format!("{status} {rcode}"))
        });
    }
    assert!(
        zone_file("soft.example.org.").exists(),
        "a plain delete leaves BIND's file"
    );
    assert!(
        !zone_file("hard.example.org.").exists(),
        "a hard delete takes BIND's file"
    );
}
