//! Pool management through REST (`/v2/pools`), as Designate 23 allows it
//! to admins: create, show, list, update, delete over the `Pool` objects
//! kubectl sees, with Designate's bodies, errors and policies:
//! - a pool made through REST is a `Pool` (its Designate name and project
//!   kept on it), a pool made with kubectl shows through REST;
//! - an update of the NS records reaches the zones of the pool (their apex
//!   NS recordset);
//! - a pool that serves zones is not deleted (`invalid_operation`); once
//!   its zones are gone it is.
//!
//! Needs `cargo build -p designate-operator` first.

use std::time::Duration;

use designate_e2e::{HttpResponse, Kubectl, Standalone, kubectl_versions, rest_request, wait_for};
use serde_json::{Value, json};

const ADMIN: [(&str, &str); 2] = [("X-Auth-Project-ID", "pool-admin"), ("X-Roles", "admin")];
const MEMBER: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "pool-member"),
    ("X-Roles", "member,reader"),
];
const WAIT: Duration = Duration::from_secs(60);

fn call(
    base: &str,
    method: &str,
    path: &str,
    who: &[(&str, &str)],
    body: Option<&Value>,
) -> HttpResponse {
    rest_request(base, method, path, who, body)
}

/// The status and error type of a refusal.
fn refused(answer: &HttpResponse) -> (u16, String) {
    (
        answer.status,
        answer.json()["type"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn ns_records(pool: &Value) -> Vec<(String, i64)> {
    let mut records: Vec<(String, i64)> = pool["ns_records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["hostname"].as_str().unwrap().to_string(),
                r["priority"].as_i64().unwrap(),
            )
        })
        .collect();
    records.sort();
    records
}

#[test]
fn pools_are_managed_through_rest_as_designate_allows() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-pools-")
        .tempdir()
        .unwrap();
    let standalone = Standalone::try_start_with(&tmp.path().join("data"), &[])
        .unwrap_or_else(|e| panic!("starting standalone: {e:#}"));
    let base = standalone.wait_rest_url();
    let (_, kubectl_bin) = kubectl_versions().pop().expect("a kubectl");
    let kubectl = Kubectl::new(
        kubectl_bin,
        standalone.kubeconfig(),
        tmp.path().join("kube-cache"),
    );

    // Create: Designate's answer, and a Pool object behind it.
    let body = json!({
        "name": "Example Pool",
        "project_id": "1",
        "description": "made through REST",
        "attributes": {"region": "east"},
        "ns_records": [
            {"hostname": "ns1.example.org.", "priority": 1},
            {"hostname": "ns2.example.org.", "priority": 2},
        ],
    });
    let made = call(&base, "POST", "/v2/pools", &ADMIN, Some(&body));
    assert_eq!(made.status, 201, "{}", made.json());
    let pool = made.json();
    let id = pool["id"].as_str().unwrap().to_string();
    for (field, want) in [
        ("name", json!("Example Pool")),
        ("project_id", json!("1")),
        ("description", json!("made through REST")),
        ("attributes", json!({"region": "east"})),
        ("updated_at", Value::Null),
    ] {
        assert_eq!(pool[field], want, "{field} in {pool}");
    }
    assert_eq!(
        ns_records(&pool),
        [
            ("ns1.example.org.".to_string(), 1),
            ("ns2.example.org.".to_string(), 2)
        ]
    );
    let location = made
        .headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone());
    assert_eq!(
        location.as_deref(),
        Some(format!("{base}/v2/pools/{id}").as_str())
    );
    let objects = kubectl.json(&["get", "pools", "-o", "json"]);
    let object = objects["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["uid"] == json!(id))
        .expect("the Pool object")
        .clone();
    assert_eq!(
        object["metadata"]["annotations"]["designate.openstack.org/name"],
        "Example Pool"
    );
    assert_eq!(
        object["spec"]["nsRecords"][1]["hostname"],
        "ns2.example.org."
    );

    // Show and list.
    let shown = call(&base, "GET", &format!("/v2/pools/{id}"), &ADMIN, None);
    assert_eq!(
        (shown.status, shown.json()["name"].clone()),
        (200, json!("Example Pool"))
    );
    let listed = call(&base, "GET", "/v2/pools?name=Example*", &ADMIN, None).json();
    assert_eq!(listed["pools"].as_array().unwrap().len(), 1, "{listed}");

    // Refusals, as Designate answers them.
    let long_name = "x".repeat(51);
    for bad in [
        json!({"name": long_name, "ns_records": [{"hostname": "ns1.example.org.", "priority": 1}]}),
        json!({"name": "p", "ns_records": [{"hostname": "ns1_example_org_", "priority": 1}]}),
        json!({"name": "p", "ns_records": [{"hostname": "ns1.example.org.", "priority": -1}]}),
        json!({"name": "p", "targets": []}),
    ] {
        let answer = call(&base, "POST", "/v2/pools", &ADMIN, Some(&bad));
        assert_eq!(refused(&answer), (400, "invalid_object".into()), "{bad}");
    }
    let duplicate = json!({"name": "example pool", "ns_records": [{"hostname": "ns1.example.org.", "priority": 1}]});
    assert_eq!(
        refused(&call(&base, "POST", "/v2/pools", &ADMIN, Some(&duplicate))),
        (409, "duplicate_pool".into())
    );
    let other =
        json!({"name": "other", "ns_records": [{"hostname": "ns1.example.org.", "priority": 1}]});
    assert_eq!(
        refused(&call(&base, "POST", "/v2/pools", &MEMBER, Some(&other))).0,
        403
    );
    for method in ["GET", "PATCH", "DELETE"] {
        let body = (method == "PATCH").then(|| json!({"name": "x"}));
        let path = format!("/v2/pools/{id}");
        assert_eq!(
            refused(&call(&base, method, &path, &MEMBER, body.as_ref())).0,
            403,
            "member {method}"
        );
        let unknown = "/v2/pools/1d4a0a2c-5d0e-4b4e-9f6e-6a1b2c3d4e5f";
        assert_eq!(
            refused(&call(&base, method, unknown, &ADMIN, body.as_ref())),
            (404, "pool_not_found".into()),
            "{method} unknown"
        );
        assert_eq!(
            refused(&call(&base, method, "/v2/pools/foo", &ADMIN, body.as_ref())),
            (400, "invalid_uuid".into()),
            "{method} foo"
        );
    }
    let path = format!("/v2/pools/{id}");
    assert_eq!(
        refused(&call(
            &base,
            "PATCH",
            &path,
            &ADMIN,
            Some(&json!({"ns_records": []}))
        )),
        (400, "last_server_delete_not_allowed".into())
    );
    assert_eq!(
        refused(&call(
            &base,
            "PATCH",
            &path,
            &ADMIN,
            Some(&json!({"project_id": "2"}))
        )),
        (400, "invalid_object".into())
    );

    // Update: renamed, NS records replaced, attributes replaced.
    let update = json!({
        "name": "foo",
        "attributes": {"tier": "gold"},
        "ns_records": [{"hostname": "ns9.example.org.", "priority": 5}],
    });
    let updated = call(&base, "PATCH", &path, &ADMIN, Some(&update));
    assert_eq!(updated.status, 202, "{}", updated.json());
    let updated = updated.json();
    assert_eq!(updated["name"], "foo");
    assert_eq!(updated["attributes"], json!({"tier": "gold"}));
    assert_eq!(ns_records(&updated), [("ns9.example.org.".to_string(), 5)]);
    assert!(updated["updated_at"].is_string());
    assert_eq!(
        call(&base, "GET", &path, &ADMIN, None).json()["name"],
        "foo"
    );

    // Delete: gone at once.
    let deleted = call(&base, "DELETE", &path, &ADMIN, None);
    assert_eq!(deleted.status, 204);
    assert_eq!(refused(&call(&base, "GET", &path, &ADMIN, None)).0, 404);
    wait_for(WAIT, "the Pool object gone", || {
        let names = kubectl.ok(&["get", "pools", "-o", "name"]);
        if names.lines().count() == 1 {
            Ok(())
        } else {
            Err(names)
        }
    });

    // A pool without NS records is made, as Designate makes it; it takes
    // no zones: a Zone naming it is refused with Designate's reason.
    let bare = call(
        &base,
        "POST",
        "/v2/pools",
        &ADMIN,
        Some(&json!({"name": "bare"})),
    );
    assert_eq!(bare.status, 201, "{}", bare.json());
    assert_eq!(bare.json()["ns_records"], json!([]));
    let zone_yaml = tmp.path().join("bare-zone.yaml");
    std::fs::write(
        &zone_yaml,
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: bare-zone\n  namespace: default\nspec:\n  name: bare.org.\n  email: admin@bare.org\n  poolRef: bare\n",
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", zone_yaml.to_str().unwrap()]);
    wait_for(WAIT, "the zone refused for want of servers", || {
        let zone = kubectl.json(&["get", "zone", "bare-zone", "-n", "default", "-o", "json"]);
        let reasons: Vec<String> = zone["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["type"] == "Ready" && c["status"] == "False")
            .filter_map(|c| c["reason"].as_str().map(str::to_string))
            .collect();
        match reasons.iter().any(|r| r == "NoServersConfigured") {
            true => Ok(()),
            false => Err(zone.to_string()),
        }
    });
    kubectl.ok(&["delete", "-f", zone_yaml.to_str().unwrap(), "--wait=false"]);
    let bare_path = format!("/v2/pools/{}", bare.json()["id"].as_str().unwrap());
    wait_for(
        WAIT,
        "the bare pool deleted once its zone is gone",
        || match call(&base, "DELETE", &bare_path, &ADMIN, None) {
            answer if answer.status == 204 => Ok(()),
            answer => Err(answer.json().to_string()),
        },
    );

    // A pool made with kubectl shows through REST under its object name.
    let yaml = tmp.path().join("pool.yaml");
    std::fs::write(
        &yaml,
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Pool\nmetadata:\n  name: kubectl-pool\nspec:\n  nsRecords:\n  - hostname: ns1.kubectl.org.\n    priority: 1\n",
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", yaml.to_str().unwrap()]);
    let found = wait_for(WAIT, "the kubectl pool through REST", || {
        let listed = call(&base, "GET", "/v2/pools?name=kubectl-pool", &ADMIN, None).json();
        match listed["pools"].as_array().and_then(|p| p.first()).cloned() {
            Some(pool) => Ok(pool),
            None => Err(listed.to_string()),
        }
    });
    assert_eq!(found["project_id"], Value::Null);

    // The default pool serves a zone: its NS records reach the zone, and
    // it is not deleted while the zone is there.
    let pools = call(&base, "GET", "/v2/pools?name=default", &ADMIN, None).json();
    let default_id = pools["pools"][0]["id"].as_str().unwrap().to_string();
    let zone = call(
        &base,
        "POST",
        "/v2/zones",
        &ADMIN,
        Some(&json!({"name": "pooled.org.", "email": "admin@pooled.org"})),
    );
    assert_eq!(zone.status, 202, "{}", zone.json());
    let zone_id = zone.json()["id"].as_str().unwrap().to_string();
    let default_path = format!("/v2/pools/{default_id}");
    let renamed = json!({"ns_records": [
        {"hostname": "ns1.example.org.", "priority": 1},
        {"hostname": "ns2.pooled.net.", "priority": 2},
    ]});
    assert_eq!(
        call(&base, "PATCH", &default_path, &ADMIN, Some(&renamed)).status,
        202
    );
    wait_for(WAIT, "the zone's apex NS from the pool", || {
        let answer = call(
            &base,
            "GET",
            &format!("/v2/zones/{zone_id}/recordsets?type=NS"),
            &ADMIN,
            None,
        )
        .json();
        let mut records: Vec<String> = answer["recordsets"][0]["records"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        records.sort();
        if records == ["ns1.example.org.", "ns2.pooled.net."] {
            Ok(())
        } else {
            Err(answer.to_string())
        }
    });
    let held = call(&base, "DELETE", &default_path, &ADMIN, None);
    assert_eq!(
        (refused(&held), held.json()["message"].clone()),
        (
            (400, "invalid_operation".into()),
            json!("pool must not contain zones")
        )
    );
    assert_eq!(call(&base, "GET", &default_path, &ADMIN, None).status, 200);
    let zone_path = format!("/v2/zones/{zone_id}");
    assert_eq!(call(&base, "DELETE", &zone_path, &ADMIN, None).status, 202);
    wait_for(WAIT, "the zone gone", || {
        match call(&base, "GET", &zone_path, &ADMIN, None).status {
            404 => Ok(()),
            other => Err(other.to_string()),
        }
    });
    assert_eq!(
        call(&base, "DELETE", &default_path, &ADMIN, None).status,
        204
    );
    assert_eq!(call(&base, "GET", &default_path, &ADMIN, None).status, 404);
}

#[test]
fn designates_pools_yaml_is_imported_with_kubectl() {
    let (tmp, standalone, base) = designate_e2e::start_rest("designate-e2e-pools-import-", &[]);
    let kubectl = designate_e2e::kubectl_for(&standalone, tmp.path());
    // `designate-operator pools import pools.yaml | kubectl apply -f -`
    let pools_yaml = designate_e2e::workspace_root().join("operator/migrate/tests/pools.yaml");
    let printed = std::process::Command::new(designate_e2e::operator_bin())
        .args(["pools", "import", pools_yaml.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(printed.status.success(), "{printed:?}");
    let notes = String::from_utf8_lossy(&printed.stderr);
    assert!(
        notes.contains("cf2e8eab"),
        "the id not kept is reported: {notes}"
    );
    let manifest = tmp.path().join("pools.yaml");
    std::fs::write(&manifest, &printed.stdout).unwrap();
    kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);

    // Both pools through REST, with Designate's fields; the API token in a
    // Secret, not in the Pool.
    let pools = wait_for(WAIT, "the imported pools through REST", || {
        let answer = call(&base, "GET", "/v2/pools", &ADMIN, None);
        let pools = answer.json()["pools"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let named = |name: &str| pools.iter().find(|p| p["name"] == name).cloned();
        match (named("pool-1"), named("pool-2")) {
            (Some(one), Some(two)) => Ok((one, two)),
            _ => Err(answer.text()),
        }
    });
    assert_eq!(
        ns_records(&pools.0),
        [
            ("ns1.example.net.".to_string(), 1),
            ("ns2.example.net.".to_string(), 2)
        ]
    );
    assert_eq!(pools.1["description"], "BIND pool");
    let pool = kubectl.get_json(&["pool", "pool-1"]);
    assert!(!pool.to_string().contains("api_key"), "{pool}");
    let secret = kubectl.get_json(&["secret", "designate-pool-pool-1-0"]);
    assert_eq!(secret["data"]["api_token"], "YXBpX2tleQ==");
}
