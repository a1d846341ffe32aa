//! One bad object must not stop the operator (issue 18): `kubectl apply`
//! refuses a Recordset the operator could not hold (a TTL past `i32`),
//! because the CRD states the bound; and one stored all the same (under an
//! older, looser schema: here written into the embedded API's database) is
//! reported while everything else goes on.

use std::path::Path;
use std::time::Duration;

use designate_e2e::{Kubectl, Standalone, at, kubectl_for, rest_request, start_rest, wait_for};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::Value;

const CONTROLLER_TIMEOUT: Duration = Duration::from_secs(30);

fn recordset_yaml(name: &str, ttl: u64) -> String {
    format!(
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Recordset\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  zoneRef: zone\n  name: {name}.bad-objects.example.org.\n  type: A\n  ttl: {ttl}\n  records: [\"192.0.2.7\"]\n"
    )
}

#[test]
fn kubectl_apply_of_a_ttl_past_i32_is_refused() {
    let (tmp, standalone, _rest) = start_rest("bad-objects-ttl", &[]);
    let kubectl = kubectl_for(&standalone, tmp.path());
    let file = tmp.path().join("rs.yaml");

    std::fs::write(&file, recordset_yaml("huge", 4_294_967_296)).unwrap();
    let refused = kubectl.fail(&["apply", "-f", file.to_str().unwrap()]);
    assert!(
        refused.contains("spec.ttl") && refused.contains("2147483647"),
        "{refused}"
    );
    let gone = kubectl.fail(&["get", "recordset", "huge", "-n", "default"]);
    assert!(gone.contains("NotFound"), "{gone}");

    // The largest TTL Designate takes is stored.
    std::fs::write(&file, recordset_yaml("largest", 2_147_483_647)).unwrap();
    kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
}

fn condition_reason(object: &Value) -> Option<String> {
    at(object, "/status/conditions")
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["reason"].as_str())
        .map(str::to_string)
}

/// Rewrites the stored Recordset `name` of namespace `default` as an older
/// release's looser schema let it be stored: its TTL past `i32`.
fn store_ttl_past_i32(data_dir: &Path, name: &str) {
    let db = data_dir.join("apiserver.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = Database::connect(format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let key = format!("designate.openstack.org/recordsets/default/{name}");
        let updated = db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "UPDATE objects SET body = json_set(body, '$.spec.ttl', 4294967296) WHERE key = ?",
                [key.into()],
            ))
            .await
            .unwrap();
        assert_eq!(updated.rows_affected(), 1, "no stored recordset {name}");
    });
}

#[test]
fn an_undecodable_recordset_is_reported_and_everything_else_goes_on() {
    let (tmp, mut standalone, _) = start_rest("bad-objects-decode", &[]);
    let data_dir = tmp.path().join("data");
    let kubectl = kubectl_for(&standalone, tmp.path());
    let apply = |kubectl: &Kubectl, name: &str, yaml: String| {
        let file = tmp.path().join(format!("{name}.yaml"));
        std::fs::write(&file, yaml).unwrap();
        kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
    };
    let wait_reason = |kubectl: &Kubectl, name: &str, reason: &str| {
        wait_for(CONTROLLER_TIMEOUT, &format!("{name} {reason}"), || {
            let rs = kubectl.get_json(&["recordset", name, "-n", "default"]);
            (condition_reason(&rs).as_deref() == Some(reason))
                .then_some(())
                .ok_or(rs.to_string())
        })
    };
    apply(
        &kubectl,
        "zone",
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: zone\n  namespace: default\nspec:\n  name: bad-objects.example.org.\n  email: admin@example.org\n".into(),
    );
    for name in ["before", "huge"] {
        apply(&kubectl, name, recordset_yaml(name, 300));
        wait_reason(&kubectl, name, "Published");
    }
    standalone.stop();
    store_ttl_past_i32(&data_dir, "huge");

    let standalone = Standalone::try_start_with(&data_dir, &[]).unwrap();
    let rest = standalone.wait_rest_url();
    let kubectl = kubectl_for(&standalone, tmp.path());
    apply(&kubectl, "after", recordset_yaml("after", 600));
    for name in ["before", "after"] {
        wait_reason(&kubectl, name, "Published");
    }
    wait_reason(&kubectl, "huge", "Undecodable");
    wait_for(CONTROLLER_TIMEOUT, "a Warning Event about huge", || {
        let events = kubectl.get_json(&["events", "-n", "default"]);
        let found = at(&events, "/items")
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| {
                e["involvedObject"]["name"] == "huge"
                    && e["reason"] == "Undecodable"
                    && e["type"] == "Warning"
            });
        found.then_some(()).ok_or(events.to_string())
    });

    // The REST API answers from watches of its own, past the bad object.
    let admin = [("X-Roles", "admin"), ("X-Auth-All-Projects", "True")];
    let zones = rest_request(&rest, "GET", "/v2/zones", &admin, None).json();
    let zone_id = zones["zones"][0]["id"]
        .as_str()
        .expect("the zone")
        .to_string();
    let path = format!("/v2/zones/{zone_id}/recordsets?type=A");
    let listed = rest_request(&rest, "GET", &path, &admin, None).json();
    let mut names: Vec<&str> = listed["recordsets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|rs| rs["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "after.bad-objects.example.org.",
            "before.bad-objects.example.org."
        ],
        "{listed}"
    );

    // Fixed, it is published like any other.
    apply(&kubectl, "huge", recordset_yaml("huge", 120));
    wait_reason(&kubectl, "huge", "Published");
}
