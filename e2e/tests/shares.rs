//! Shared zones (`/v2/zones/{zone_id}/shares`, Designate's API 2.1)
//! through REST in noauth mode, with BIND behind the default pool:
//! - the owner shares a zone: the target project lists and shows it
//!   (`shared: true`), a third project still gets 404;
//! - the target keeps a recordset of its own in the zone (its
//!   `project_id`), which BIND answers; the owner sees and may change it;
//!   the third project gets 404;
//! - the target may not change, delete or share the zone, nor unshare it
//!   (403); an unshare is refused while the target owns recordsets, a
//!   zone delete while shares exist (400), as Designate's Central;
//! - shares are `ZoneShare` objects kubectl shows, and one applied with
//!   kubectl shares the zone as the API's do;
//! - `X-Designate-Delete-Shares` deletes the zone and its shares;
//! - the openstack CLI's `zone share create/list/delete`.
//!
//! Needs `cargo build -p designate-operator` first, and the OpenStack CLI
//! (`$DESIGNATE_OPENSTACK`, as `openstack_cli.rs`).

use std::time::Duration;

use designate_e2e::openstack::Cli;
use designate_e2e::{BindBacked, HttpResponse, dig, rest_request, wait_for};
use serde_json::{Value, json};

const SETTLED: Duration = Duration::from_secs(30);

fn member(project: &str) -> [(&str, &str); 2] {
    [("X-Auth-Project-ID", project), ("X-Roles", "member,reader")]
}

const OWNER: &str = "share-owner";
const TARGET: &str = "share-target";
const THIRD: &str = "share-third";

fn expect(answer: &HttpResponse, status: u16, kind: Option<&str>, what: &str) -> Value {
    let body = answer.json();
    assert_eq!(answer.status, status, "{what}: {}", answer.text());
    if let Some(kind) = kind {
        assert_eq!(body["type"].as_str(), Some(kind), "{what}: {body}");
    }
    body
}

fn zone_ids(base: &str, project: &str) -> Vec<String> {
    let listed = expect(
        &rest_request(base, "GET", "/v2/zones", &member(project), None),
        200,
        None,
        "zone list",
    );
    listed["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_shared_zone_is_seen_and_used_by_its_target_project_only() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-shares-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let base = backed.rest.clone();
    let call = |method: &str, path: &str, project: &str, body: Option<Value>| {
        rest_request(&base, method, path, &member(project), body.as_ref())
    };

    let zone = expect(
        &call(
            "POST",
            "/v2/zones",
            OWNER,
            Some(json!({"name": "shared.example.org.", "email": "admin@example.org"})),
        ),
        202,
        None,
        "zone create",
    );
    let zone_id = zone["id"].as_str().unwrap().to_string();
    assert_eq!(zone["shared"], json!(false));
    let own = expect(
        &call(
            "POST",
            "/v2/zones",
            OWNER,
            Some(json!({"name": "unshared.example.org.", "email": "admin@example.org"})),
        ),
        202,
        None,
        "second zone create",
    );
    let zone_path = format!("/v2/zones/{zone_id}");
    let shares = format!("{zone_path}/shares");

    // Before sharing, the target does not see the zone.
    expect(
        &call("GET", &zone_path, TARGET, None),
        404,
        Some("zone_not_found"),
        "unshared show",
    );

    // The owner shares it; itself, twice, or a zone it cannot see: refused.
    let share = expect(
        &call(
            "POST",
            &shares,
            OWNER,
            Some(json!({"target_project_id": TARGET})),
        ),
        201,
        None,
        "share",
    );
    let share_id = share["id"].as_str().unwrap().to_string();
    assert_eq!(
        (
            share["zone_id"].as_str(),
            share["project_id"].as_str(),
            share["target_project_id"].as_str(),
            share["updated_at"].as_null(),
        ),
        (Some(zone_id.as_str()), Some(OWNER), Some(TARGET), Some(()))
    );
    assert_eq!(
        share["links"]["self"].as_str().unwrap(),
        format!("{base}{shares}/{share_id}")
    );
    expect(
        &call(
            "POST",
            &shares,
            OWNER,
            Some(json!({"target_project_id": OWNER})),
        ),
        400,
        Some("bad_request"),
        "share with the owner",
    );
    expect(
        &call(
            "POST",
            &shares,
            OWNER,
            Some(json!({"target_project_id": TARGET})),
        ),
        409,
        Some("duplicate_shared_zone"),
        "share again",
    );
    expect(
        &call(
            "POST",
            &shares,
            THIRD,
            Some(json!({"target_project_id": THIRD})),
        ),
        404,
        Some("zone_not_found"),
        "share of an unseen zone",
    );

    // The openstack CLI's `zone share` commands, as an admin for the owner.
    let cli = Cli::noauth(&base, tmp.path(), "admin");
    let sudo = ["--sudo-project-id", OWNER, "-f", "json"];
    let by_cli = cli.json(
        &[
            &[
                "zone",
                "share",
                "create",
                "shared.example.org.",
                "share-cli",
            ][..],
            &sudo,
        ]
        .concat(),
    );
    assert_eq!(
        (
            by_cli["target_project_id"].as_str(),
            by_cli["project_id"].as_str()
        ),
        (Some("share-cli"), Some(OWNER)),
        "{by_cli}"
    );
    let cli_share = by_cli["id"].as_str().unwrap();
    let listed = cli.json(&[&["zone", "share", "list", "shared.example.org."][..], &sudo].concat());
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let run = cli.run(&[
        "zone",
        "share",
        "delete",
        "shared.example.org.",
        cli_share,
        "--sudo-project-id",
        OWNER,
    ]);
    assert!(run.ok, "{}", run.describe());

    // The target sees the zone, shared; the third project does not.
    let shown = expect(
        &call("GET", &zone_path, TARGET, None),
        200,
        None,
        "shared show",
    );
    assert_eq!(
        (shown["shared"].clone(), shown["project_id"].as_str()),
        (json!(true), Some(OWNER))
    );
    let listed = zone_ids(&base, TARGET);
    assert_eq!(
        listed,
        vec![zone_id.clone()],
        "the target lists the shared zone only"
    );
    assert!(zone_ids(&base, OWNER).contains(&own["id"].as_str().unwrap().to_string()));
    assert!(zone_ids(&base, THIRD).is_empty());
    expect(
        &call("GET", &zone_path, THIRD, None),
        404,
        Some("zone_not_found"),
        "third show",
    );
    for project in [OWNER, TARGET] {
        let listed = expect(&call("GET", &shares, project, None), 200, None, "shares");
        assert_eq!(
            listed["shared_zones"][0]["id"].as_str(),
            Some(share_id.as_str())
        );
    }
    // Showing one is the sharer's (`get_zone_share`), as in Designate.
    let one = expect(
        &call("GET", &format!("{shares}/{share_id}"), OWNER, None),
        200,
        None,
        "share show",
    );
    assert_eq!(one["target_project_id"].as_str(), Some(TARGET));
    expect(
        &call("GET", &format!("{shares}/{share_id}"), TARGET, None),
        403,
        Some("forbidden"),
        "target share show",
    );
    let third_list = expect(
        &call("GET", &shares, THIRD, None),
        200,
        None,
        "third shares",
    );
    assert_eq!(third_list["shared_zones"], json!([]));

    // The target may not change, delete, re-share or unshare the zone.
    expect(
        &call("PATCH", &zone_path, TARGET, Some(json!({"ttl": 600}))),
        403,
        Some("forbidden"),
        "target update",
    );
    expect(
        &call("DELETE", &zone_path, TARGET, None),
        403,
        Some("forbidden"),
        "target delete",
    );
    expect(
        &call(
            "POST",
            &shares,
            TARGET,
            Some(json!({"target_project_id": THIRD})),
        ),
        403,
        Some("forbidden"),
        "target share",
    );
    expect(
        &call("DELETE", &format!("{shares}/{share_id}"), TARGET, None),
        403,
        Some("forbidden"),
        "target unshare",
    );

    // The target keeps a recordset in the zone; BIND answers it.
    let recordsets = format!("{zone_path}/recordsets");
    let rs = expect(
        &call(
            "POST",
            &recordsets,
            TARGET,
            Some(json!({"name": "www.shared.example.org.", "type": "A", "records": ["192.0.2.7"]})),
        ),
        202,
        None,
        "target recordset create",
    );
    assert_eq!(rs["project_id"].as_str(), Some(TARGET));
    let rs_path = format!("{recordsets}/{}", rs["id"].as_str().unwrap());
    let bind = backed.nameserver.dns_addr();
    wait_for(SETTLED, "BIND answering the target's record", || {
        let (rcode, answers) = dig(bind, "www.shared.example.org.", "A");
        (rcode == "NOERROR" && answers == ["192.0.2.7"])
            .then_some(())
            .ok_or(format!("{rcode} {answers:?}"))
    });
    expect(
        &call("GET", &rs_path, THIRD, None),
        404,
        Some("zone_not_found"),
        "third recordset show",
    );
    let by_owner = expect(&call("GET", &rs_path, OWNER, None), 200, None, "owner show");
    assert_eq!(by_owner["project_id"].as_str(), Some(TARGET));
    expect(
        &call("PUT", &rs_path, TARGET, Some(json!({"ttl": 900}))),
        202,
        None,
        "target update",
    );
    expect(
        &call("PUT", &rs_path, OWNER, Some(json!({"ttl": 1200}))),
        202,
        None,
        "owner update",
    );
    // The owner's own recordset is not the target's to change.
    let owners = expect(
        &call(
            "POST",
            &recordsets,
            OWNER,
            Some(
                json!({"name": "mail.shared.example.org.", "type": "A", "records": ["192.0.2.8"]}),
            ),
        ),
        202,
        None,
        "owner recordset create",
    );
    let owners_path = format!("{recordsets}/{}", owners["id"].as_str().unwrap());
    expect(
        &call("DELETE", &owners_path, TARGET, None),
        403,
        Some("forbidden"),
        "target deletes the owner's recordset",
    );

    // Refusals while shares and the target's recordsets exist.
    expect(
        &call("DELETE", &format!("{shares}/{share_id}"), OWNER, None),
        400,
        Some("shared_zone_has_recordsets"),
        "unshare with the target's recordsets",
    );
    expect(
        &call("DELETE", &zone_path, OWNER, None),
        400,
        Some("zone_is_shared"),
        "zone delete with shares",
    );

    // The shares are objects kubectl shows; one applied there counts.
    let kubectl = &backed.kubectl;
    let namespace = zone_namespace(kubectl, &zone_id);
    let objects = kubectl.get_json(&["zoneshares", "-n", &namespace]);
    assert_eq!(
        objects["items"][0]["spec"]["targetProjectId"].as_str(),
        Some(TARGET),
        "{objects}"
    );
    let zone_object = objects["items"][0]["spec"]["zoneRef"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest = tmp.path().join("share.yaml");
    std::fs::write(
        &manifest,
        format!(
            "apiVersion: designate.openstack.org/v1alpha1\nkind: ZoneShare\nmetadata:\n  name: with-third\n  namespace: {namespace}\nspec:\n  zoneRef: {zone_object}\n  targetProjectId: {THIRD}\n"
        ),
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    wait_for(SETTLED, "the kubectl share honoured", || {
        let answer = call("GET", &zone_path, THIRD, None);
        (answer.status == 200).then_some(()).ok_or(answer.text())
    });
    let listed = expect(&call("GET", &shares, OWNER, None), 200, None, "two shares");
    assert_eq!(
        listed["shared_zones"].as_array().unwrap().len(),
        2,
        "{listed}"
    );

    // The target's recordset goes; then the zone with its shares.
    expect(
        &call("DELETE", &rs_path, TARGET, None),
        202,
        None,
        "target delete",
    );
    let delete_shares = [
        ("X-Auth-Project-ID", OWNER),
        ("X-Roles", "member,reader"),
        ("X-Designate-Delete-Shares", "true"),
    ];
    let deleted = rest_request(&base, "DELETE", &zone_path, &delete_shares, None);
    let deleted = expect(&deleted, 202, None, "delete with shares");
    assert_eq!(
        (deleted["action"].as_str(), deleted["status"].as_str()),
        (Some("DELETE"), Some("PENDING"))
    );
    expect(
        &call("GET", &format!("{shares}/{share_id}"), OWNER, None),
        404,
        Some("shared_zone_not_found"),
        "share after the zone's delete",
    );
    wait_for(SETTLED, "the shares gone", || {
        let left = kubectl.get_json(&["zoneshares", "-n", &namespace]);
        left["items"]
            .as_array()
            .is_some_and(Vec::is_empty)
            .then_some(())
            .ok_or(left.to_string())
    });
}

/// The namespace a zone's object lives in (its project's).
fn zone_namespace(kubectl: &designate_e2e::Kubectl, zone_id: &str) -> String {
    let zones = kubectl.get_json(&["zones", "-A"]);
    zones["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["metadata"]["uid"].as_str() == Some(zone_id))
        .and_then(|z| z["metadata"]["namespace"].as_str())
        .unwrap_or_else(|| panic!("zone {zone_id} in {zones}"))
        .to_string()
}
