//! Zone transfers between projects (`/v2/zones/{id}/tasks/transfer_requests`,
//! `/v2/zones/tasks/transfer_accepts`) through REST in noauth mode and with
//! kubectl:
//! - the owner offers a zone to one project: a third project can neither
//!   see nor accept the offer, a wrong key is 403 `invalid_key`; accepted,
//!   the zone and its recordsets belong to the target project with the
//!   same ids, the owner gets 404, kubectl shows them in the target's
//!   namespace only, BIND keeps answering and serves the new owner's
//!   change; a used request cannot be accepted again; the zone's share
//!   goes with it (same id and sharer), and so do the recordsets the
//!   project it is shared with made there;
//! - a `ZoneTransferAccept` applied with kubectl (with the key) moves the
//!   zone as the API's accept does; an id annotation a kubectl user writes
//!   (copying another zone's id) gives their zone no other id;
//! - `kill -9` of the operator while a 300-recordset zone moves, at several
//!   points: after the restart the zone is whole in exactly one project,
//!   with every id, and neither project ever saw a part of it.
//!
//! Needs `cargo build -p designate-operator` first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use designate_e2e::{
    BindBacked, HttpResponse, Standalone, dig, kubectl_for, rest_request, start_rest, wait_for,
};
use serde_json::{Value, json};

const SETTLED: Duration = Duration::from_secs(30);

const OWNER: &str = "xfer-owner";
const TARGET: &str = "xfer-target";
const THIRD: &str = "xfer-third";
const SHAREE: &str = "xfer-sharee";

fn member(project: &str) -> [(&str, &str); 2] {
    [("X-Auth-Project-ID", project), ("X-Roles", "member,reader")]
}

fn expect(answer: &HttpResponse, status: u16, kind: Option<&str>, what: &str) -> Value {
    let body = answer.json();
    assert_eq!(answer.status, status, "{what}: {}", answer.text());
    if let Some(kind) = kind {
        assert_eq!(body["type"].as_str(), Some(kind), "{what}: {body}");
    }
    body
}

fn call(base: &str, method: &str, path: &str, project: &str, body: Option<Value>) -> HttpResponse {
    rest_request(base, method, path, &member(project), body.as_ref())
}

/// Makes a zone of `project` with `count` A recordsets; its id and the
/// ids of all its recordsets (the SOA and NS too), sorted.
fn zone_with_recordsets(
    base: &str,
    project: &str,
    name: &str,
    count: usize,
) -> (String, Vec<String>) {
    let zone = expect(
        &call(
            base,
            "POST",
            "/v2/zones",
            project,
            Some(json!({"name": name, "email": "admin@example.org"})),
        ),
        202,
        None,
        "zone create",
    );
    let id = zone["id"].as_str().unwrap().to_string();
    for i in 0..count {
        expect(
            &call(
                base,
                "POST",
                &format!("/v2/zones/{id}/recordsets"),
                project,
                Some(
                    json!({"name": format!("host{i}.{name}"), "type": "A", "records": [format!("192.0.2.{}", i % 250 + 1)]}),
                ),
            ),
            202,
            None,
            "recordset create",
        );
    }
    let ids = recordset_ids(base, project, &id).expect("the owner sees its zone");
    assert_eq!(ids.len(), count + 2, "the SOA, the NS and every set");
    (id, ids)
}

/// The ids of the zone's recordsets as `project` lists them (`None`: the
/// project does not see the zone).
fn recordset_ids(base: &str, project: &str, zone_id: &str) -> Option<Vec<String>> {
    let answer = call(
        base,
        "GET",
        &format!("/v2/zones/{zone_id}/recordsets?limit=1000"),
        project,
        None,
    );
    if answer.status == 404 {
        return None;
    }
    let body = expect(&answer, 200, None, "recordset list");
    let mut ids: Vec<String> = body["recordsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rs| rs["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    Some(ids)
}

/// The owner shares the zone with [`SHAREE`]: the shares' path, and the
/// share.
fn share_with_sharee(base: &str, zone_id: &str) -> (String, Value) {
    let shares = format!("/v2/zones/{zone_id}/shares");
    let body = json!({"target_project_id": SHAREE});
    let share = expect(
        &call(base, "POST", &shares, OWNER, Some(body)),
        201,
        None,
        "share",
    );
    (shares, share)
}

fn offer(base: &str, zone_id: &str, target: Option<&str>) -> (String, String) {
    let body = match target {
        Some(target) => json!({"target_project_id": target, "description": "yours"}),
        None => json!({}),
    };
    let request = expect(
        &call(
            base,
            "POST",
            &format!("/v2/zones/{zone_id}/tasks/transfer_requests"),
            OWNER,
            Some(body),
        ),
        201,
        None,
        "transfer request",
    );
    assert_eq!(request["status"], "ACTIVE");
    (
        request["id"].as_str().unwrap().to_string(),
        request["key"].as_str().unwrap().to_string(),
    )
}

fn accept_body(request_id: &str, key: &str) -> Option<Value> {
    Some(json!({"zone_transfer_request_id": request_id, "key": key}))
}

/// The namespaces holding a Zone object of DNS name `name`.
fn zone_namespaces(kubectl: &designate_e2e::Kubectl, name: &str) -> Vec<String> {
    let zones = kubectl.get_json(&["zones", "-A"]);
    zones["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|z| z["spec"]["name"] == name)
        .map(|z| z["metadata"]["namespace"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_accepted_transfer_moves_the_zone_with_its_ids() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-transfers-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let base = backed.rest.clone();
    let bind = backed.nameserver.dns_addr();
    let name = "moving.example.org.";
    let (zone_id, mut ids) = zone_with_recordsets(&base, OWNER, name, 2);
    let (shares, share) = share_with_sharee(&base, &zone_id);
    let shared_set = expect(
        &call(
            &base,
            "POST",
            &format!("/v2/zones/{zone_id}/recordsets"),
            SHAREE,
            Some(json!({"name": format!("sharee.{name}"), "type": "A", "records": ["192.0.2.77"]})),
        ),
        202,
        None,
        "the sharee's recordset",
    );
    ids.push(shared_set["id"].as_str().unwrap().to_string());
    ids.sort();
    wait_for(SETTLED, "BIND answering the owner's record", || {
        let (rcode, answers) = dig(bind, &format!("host0.{name}"), "A");
        (rcode == "NOERROR" && answers == ["192.0.2.1"])
            .then_some(())
            .ok_or(format!("{rcode} {answers:?}"))
    });

    let before = call(&base, "GET", &format!("/v2/zones/{zone_id}"), OWNER, None).json();
    // A set of the owner's (not a managed one, made with the zone).
    let host0 = |project: &str| {
        let path = format!("/v2/zones/{zone_id}/recordsets?name=host0.{name}");
        call(&base, "GET", &path, project, None).json()["recordsets"][0].clone()
    };
    let rs_before = host0(OWNER);
    // Timestamps have seconds: the copies are made in a later second.
    std::thread::sleep(Duration::from_millis(1100));

    let (request_id, key) = offer(&base, &zone_id, Some(TARGET));
    let request_path = format!("/v2/zones/tasks/transfer_requests/{request_id}");
    // The target sees the offer, without its key; a third project does not.
    let seen = expect(
        &call(&base, "GET", &request_path, TARGET, None),
        200,
        None,
        "target's view",
    );
    assert_eq!(seen["zone_id"], zone_id.as_str());
    expect(
        &call(&base, "GET", &request_path, THIRD, None),
        403,
        Some("forbidden"),
        "third's view",
    );
    expect(
        &call(
            &base,
            "POST",
            "/v2/zones/tasks/transfer_accepts",
            THIRD,
            accept_body(&request_id, &key),
        ),
        403,
        Some("forbidden"),
        "a third project's accept",
    );
    expect(
        &call(
            &base,
            "POST",
            "/v2/zones/tasks/transfer_accepts",
            TARGET,
            accept_body(&request_id, "WRONGKEY"),
        ),
        403,
        Some("invalid_key"),
        "a wrong key",
    );

    let accept = expect(
        &call(
            &base,
            "POST",
            "/v2/zones/tasks/transfer_accepts",
            TARGET,
            accept_body(&request_id, &key),
        ),
        201,
        None,
        "accept",
    );
    assert_eq!(accept["status"], "COMPLETE");
    assert_eq!(accept["zone_id"], zone_id.as_str());
    assert_eq!(accept["project_id"], TARGET);

    // At once: the target's, with every id; the owner's no more.
    let moved = expect(
        &call(&base, "GET", &format!("/v2/zones/{zone_id}"), TARGET, None),
        200,
        None,
        "moved zone",
    );
    assert_eq!(moved["project_id"], TARGET);
    assert_eq!(recordset_ids(&base, TARGET, &zone_id), Some(ids.clone()));
    // As Designate: made when they were; the zone updated by the accept
    // (its `transferred_at` Designate 23 leaves null).
    assert_eq!(moved["created_at"], before["created_at"], "{moved}");
    assert_eq!(moved["transferred_at"], Value::Null, "{moved}");
    assert!(
        moved["updated_at"].as_str().unwrap_or_default() > before["created_at"].as_str().unwrap(),
        "{moved}"
    );
    let rs_moved = host0(TARGET);
    assert_eq!(rs_moved["id"], rs_before["id"], "{rs_moved}");
    assert_eq!(
        rs_moved["created_at"], rs_before["created_at"],
        "{rs_moved}"
    );
    expect(
        &call(&base, "GET", &format!("/v2/zones/{zone_id}"), OWNER, None),
        404,
        Some("zone_not_found"),
        "owner's view",
    );
    let done = expect(
        &call(&base, "GET", &request_path, OWNER, None),
        200,
        None,
        "used request",
    );
    assert_eq!(done["status"], "COMPLETE");
    expect(
        &call(
            &base,
            "POST",
            "/v2/zones/tasks/transfer_accepts",
            TARGET,
            accept_body(&request_id, &key),
        ),
        400,
        Some("invalid_zone_transfer_request"),
        "a used request",
    );
    assert_eq!(zone_namespaces(&backed.kubectl, name), [TARGET]);

    // The share went with the zone: the same share of the same sharer
    // (as in Designate, whose share row keeps its project: the new owner
    // does not list it), the sharee still sees the zone and keeps its
    // recordset.
    let listed = expect(
        &call(&base, "GET", &shares, SHAREE, None),
        200,
        None,
        "shares",
    );
    let moved_share = &listed["shared_zones"][0];
    assert_eq!(
        listed["shared_zones"].as_array().unwrap().len(),
        1,
        "{listed}"
    );
    for field in [
        "id",
        "zone_id",
        "project_id",
        "target_project_id",
        "created_at",
    ] {
        assert_eq!(moved_share[field], share[field], "{field}: {listed}");
    }
    // The old owner, still the share's project, lists it too (Designate's
    // shares list looks only at the share rows, not at the zone's owner).
    let by_sharer = expect(
        &call(&base, "GET", &shares, OWNER, None),
        200,
        None,
        "the sharer's list",
    );
    assert_eq!(
        by_sharer["shared_zones"][0]["id"], share["id"],
        "{by_sharer}"
    );
    let seen = expect(
        &call(&base, "GET", &format!("/v2/zones/{zone_id}"), SHAREE, None),
        200,
        None,
        "the sharee's view",
    );
    assert_eq!(
        (seen["shared"].clone(), seen["project_id"].clone()),
        (json!(true), json!(TARGET))
    );
    let sharee_set = expect(
        &call(
            &base,
            "GET",
            &format!(
                "/v2/zones/{zone_id}/recordsets/{}",
                shared_set["id"].as_str().unwrap()
            ),
            SHAREE,
            None,
        ),
        200,
        None,
        "the sharee's recordset",
    );
    assert_eq!(sharee_set["project_id"], SHAREE, "{sharee_set}");
    let kept = backed.kubectl.get_json(&["zoneshares", "-A"]);
    let share_namespaces: Vec<&str> = kept["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["metadata"]["namespace"].as_str())
        .collect();
    assert_eq!(share_namespaces, [TARGET], "{kept}");

    // Served all along, and the new owner's change is served.
    let (rcode, answers) = dig(bind, &format!("host1.{name}"), "A");
    assert_eq!(
        (rcode.as_str(), answers),
        ("NOERROR", vec!["192.0.2.2".to_string()])
    );
    expect(
        &call(
            &base,
            "POST",
            &format!("/v2/zones/{zone_id}/recordsets"),
            TARGET,
            Some(json!({"name": format!("new.{name}"), "type": "A", "records": ["192.0.2.99"]})),
        ),
        202,
        None,
        "the new owner's recordset",
    );
    wait_for(SETTLED, "BIND answering the new owner's record", || {
        let (rcode, answers) = dig(bind, &format!("new.{name}"), "A");
        (rcode == "NOERROR" && answers == ["192.0.2.99"])
            .then_some(())
            .ok_or(format!("{rcode} {answers:?}"))
    });
    wait_for(SETTLED, "the moved zone ACTIVE", || {
        let zone = call(&base, "GET", &format!("/v2/zones/{zone_id}"), TARGET, None).json();
        (zone["status"] == "ACTIVE")
            .then_some(())
            .ok_or(zone.to_string())
    });
}

/// A namespace made with kubectl for a project, as the REST API makes one.
fn project_namespace(kubectl: &designate_e2e::Kubectl, dir: &std::path::Path, project: &str) {
    let file = dir.join(format!("{project}.yaml"));
    std::fs::write(
        &file,
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {project}\n  labels:\n    designate.openstack.org/tenancy: project\n  annotations:\n    designate.openstack.org/project-id: {project}\n"
        ),
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
}

#[test]
fn kubectl_accepts_a_transfer_and_a_copied_id_is_no_id() {
    let (tmp, standalone, base) = start_rest("designate-e2e-transfers-kubectl-", &[]);
    let kubectl = kubectl_for(&standalone, tmp.path());
    let name = "kubectl-moving.example.org.";
    let (zone_id, ids) = zone_with_recordsets(&base, OWNER, name, 3);
    // Offered to anyone with the key.
    let (request_id, key) = offer(&base, &zone_id, None);

    project_namespace(&kubectl, tmp.path(), "team-b");
    let accept = tmp.path().join("accept.yaml");
    std::fs::write(
        &accept,
        format!(
            "apiVersion: designate.openstack.org/v1alpha1\nkind: ZoneTransferAccept\nmetadata:\n  name: take-it\n  namespace: team-b\nspec:\n  zoneTransferRequestId: {request_id}\n  key: {key}\n"
        ),
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", accept.to_str().unwrap()]);
    wait_for(SETTLED, "the kubectl accept COMPLETE", || {
        let accept = kubectl.get_json(&["zonetransferaccept", "take-it", "-n", "team-b"]);
        (accept["status"]["status"] == "COMPLETE")
            .then_some(())
            .ok_or(accept["status"].to_string())
    });
    assert_eq!(recordset_ids(&base, "team-b", &zone_id), Some(ids));
    assert_eq!(recordset_ids(&base, OWNER, &zone_id), None);
    assert_eq!(zone_namespaces(&kubectl, name), ["team-b"]);

    // A kubectl user copies the moved zone's id onto a zone of theirs.
    let moved = kubectl.get_json(&["zone", "-n", "team-b", "-o", "json"]);
    let annotations = &moved["items"][0]["metadata"]["annotations"];
    assert_eq!(annotations["designate.openstack.org/id"], zone_id.as_str());
    let forged = tmp.path().join("forged.yaml");
    std::fs::write(
        &forged,
        format!(
            "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: forged.example.org\n  namespace: team-c\n  annotations:\n    designate.openstack.org/id: {zone_id}\n    designate.openstack.org/id-signature: {}\nspec:\n  name: forged.example.org.\n  email: admin@example.org\n",
            annotations["designate.openstack.org/id-signature"].as_str().unwrap()
        ),
    )
    .unwrap();
    project_namespace(&kubectl, tmp.path(), "team-c");
    kubectl.ok(&["apply", "-f", forged.to_str().unwrap()]);
    let forged_id = wait_for(SETTLED, "the forged zone listed", || {
        let zones = call(&base, "GET", "/v2/zones", "team-c", None).json();
        zones["zones"][0]["id"]
            .as_str()
            .map(str::to_string)
            .ok_or(zones.to_string())
    });
    assert_ne!(forged_id, zone_id, "a copied id is not the zone's");
    let real = expect(
        &call(
            &base,
            "GET",
            &format!("/v2/zones/{zone_id}"),
            "team-b",
            None,
        ),
        200,
        None,
        "the real zone",
    );
    assert_eq!(real["name"], name);
    expect(
        &call(
            &base,
            "GET",
            &format!("/v2/zones/{zone_id}"),
            "team-c",
            None,
        ),
        404,
        None,
        "not team-c's",
    );
}

#[test]
fn a_transfer_killed_midway_leaves_the_zone_whole_in_one_project() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-transfers-kill-")
        .tempdir()
        .unwrap();
    let data = tmp.path().join("data");
    let mut standalone = Standalone::start(&data);
    let mut base = standalone.wait_rest_url();
    // How long a whole move takes here, so that the kills land early, in
    // the middle and late in one.
    let (reference, _) = zone_with_recordsets(&base, OWNER, "reference.example.org.", 300);
    let (request_id, key) = offer(&base, &reference, Some(TARGET));
    let started = std::time::Instant::now();
    expect(
        &call(
            &base,
            "POST",
            "/v2/zones/tasks/transfer_accepts",
            TARGET,
            accept_body(&request_id, &key),
        ),
        201,
        None,
        "the reference accept",
    );
    let whole = started.elapsed();
    eprintln!("a 300-recordset zone moves in {whole:?}");
    for (round, share) in [0.1f64, 0.5, 0.9].into_iter().enumerate() {
        let delay = whole.mul_f64(share);
        let name = format!("killed{round}.example.org.");
        let (zone_id, ids) = zone_with_recordsets(&base, OWNER, &name, 300);
        let (shares, shared) = share_with_sharee(&base, &zone_id);
        let (request_id, key) = offer(&base, &zone_id, Some(TARGET));

        // Watchers: whoever sees the zone sees all of it.
        let stop = Arc::new(AtomicBool::new(false));
        let watchers: Vec<_> = [OWNER, TARGET]
            .into_iter()
            .map(|project| {
                let (base, zone_id, ids, stop) =
                    (base.clone(), zone_id.clone(), ids.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(answer) =
                            std::panic::catch_unwind(|| recordset_ids(&base, project, &zone_id))
                        else {
                            // The operator is gone: nothing to see.
                            return;
                        };
                        if let Some(seen) = answer {
                            assert_eq!(seen, ids, "{project} saw a part of the zone");
                        }
                    }
                })
            })
            .collect();
        let accepting = {
            let (base, request_id, key) = (base.clone(), request_id.clone(), key.clone());
            std::thread::spawn(move || {
                let body = accept_body(&request_id, &key)
                    .unwrap()
                    .to_string()
                    .into_bytes();
                let headers = [
                    ("Content-Type", "application/json"),
                    ("X-Auth-Project-ID", TARGET),
                    ("X-Roles", "member,reader"),
                ];
                designate_e2e::http_request(
                    &base,
                    "POST",
                    "/v2/zones/tasks/transfer_accepts",
                    &headers,
                    Some(&body),
                )
                .ok()
            })
        };
        std::thread::sleep(delay);
        standalone.kill();
        let log = std::fs::read_to_string(standalone.log_path()).unwrap_or_default();
        let moved_before_kill = log.lines().any(|line| {
            line.contains("zone transferred") && line.contains(&format!("zone={name}"))
        });
        stop.store(true, Ordering::Relaxed);
        for watcher in watchers {
            watcher.join().expect("no project saw a part of the zone");
        }
        let _ = accepting.join();

        standalone = Standalone::start(&data);
        base = standalone.wait_rest_url();
        // The accept, if it was made, finishes; else the request is still
        // open and the zone the owner's.
        // Only admins list accepts (Designate's policy).
        let admin = [
            ("X-Auth-Project-ID", TARGET),
            ("X-Roles", "admin,member,reader"),
            ("X-Auth-All-Projects", "true"),
        ];
        let accepted = rest_request(
            &base,
            "GET",
            "/v2/zones/tasks/transfer_accepts",
            &admin,
            None,
        )
        .json();
        let made = accepted["transfer_accepts"]
            .as_array()
            .unwrap_or_else(|| panic!("accepts listed: {accepted}"))
            .iter()
            .any(|a| a["zone_transfer_request_id"] == request_id.as_str());
        let owner = if made { TARGET } else { OWNER };
        let other = if made { OWNER } else { TARGET };
        wait_for(SETTLED, "the zone whole in one project", || {
            match (
                recordset_ids(&base, owner, &zone_id),
                recordset_ids(&base, other, &zone_id),
            ) {
                (Some(seen), None) if seen == ids => Ok(()),
                (seen, other_view) => Err(format!(
                    "{owner} sees {:?} sets, {other} sees {:?}",
                    seen.map(|s| s.len()),
                    other_view.map(|s| s.len())
                )),
            }
        });
        let kubectl = kubectl_for(&standalone, tmp.path());
        wait_for(SETTLED, "one Zone object", || {
            let namespaces = zone_namespaces(&kubectl, &name);
            (namespaces == [owner])
                .then_some(())
                .ok_or(format!("{namespaces:?}"))
        });
        // The share is where the zone is, once, with its id.
        wait_for(SETTLED, "the share once, with the zone", || {
            let listed = call(&base, "GET", &shares, SHAREE, None).json();
            let ids: Vec<&Value> = listed["shared_zones"]
                .as_array()
                .map(|s| s.iter().map(|share| &share["id"]).collect())
                .unwrap_or_default();
            let objects = kubectl.get_json(&["zoneshares", "-A"]);
            let of_zone: Vec<&str> = objects["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["spec"]["zoneRef"] == name.trim_end_matches('.'))
                .filter_map(|s| s["metadata"]["namespace"].as_str())
                .collect();
            (ids == [&shared["id"]] && of_zone == [owner])
                .then_some(())
                .ok_or(format!("listed {listed}; objects in {of_zone:?}"))
        });
        let phase = match (made, moved_before_kill) {
            (false, _) => "before the accept",
            (true, false) => "during the move",
            (true, true) => "after the move",
        };
        eprintln!("round {round}: killed after {delay:?} ({phase}); the zone is {owner}'s");
    }
}
