//! Tenancy that cannot be escaped, through the REST API in noauth mode
//! (the Keystone half is in `identity.rs`):
//! - 10,000 requests from distinct made-up project ids leave no namespace
//!   behind (reads, refused writes, zones of other projects);
//! - a project id never reaches a namespace by its name: `kube-system` and
//!   `default` get namespaces of their own, a user's namespace is refused;
//! - a project namespace the API made is removed once it holds nothing;
//! - noauth refuses to listen off loopback unless told to.
//!
//! Needs `cargo build -p designate-operator` first.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use designate_e2e::{Kubectl, Standalone, kubectl_versions, operator_bin, rest_request, wait_for};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

fn kubectl(standalone: &Standalone, dir: &Path) -> Kubectl {
    let (_, bin) = kubectl_versions().pop().expect("a kubectl");
    Kubectl::new(bin, standalone.kubeconfig(), dir.join("kube-cache"))
}

fn namespaces(kubectl: &Kubectl) -> BTreeSet<String> {
    kubectl.get_json(&["namespaces"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|ns| ns["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

fn as_member(project: &str) -> [(&str, &str); 2] {
    [("X-Auth-Project-ID", project), ("X-Roles", "member,reader")]
}

fn zone_body(name: &str) -> Value {
    json!({"name": name, "email": format!("hostmaster@{}", name.trim_end_matches('.'))})
}

#[test]
fn made_up_projects_leave_no_namespace_behind() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-tenancy-")
        .tempdir()
        .unwrap();
    let standalone = Standalone::start(&tmp.path().join("data"));
    let base = standalone.wait_rest_url();
    let kubectl = kubectl(&standalone, tmp.path());
    // One real zone, to be probed by everyone else.
    let made = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &as_member("owner"),
        Some(&zone_body("owned.org.")),
    );
    assert_eq!(made.status, 202, "{}", made.text());
    let zone_id = made.json()["id"].as_str().unwrap().to_string();
    let before = namespaces(&kubectl);

    let threads: Vec<_> = (0..4)
        .map(|worker| {
            let base = base.clone();
            let zone_path = format!("/v2/zones/{zone_id}");
            std::thread::spawn(move || {
                let mut unexpected = Vec::new();
                for i in (worker..10_000).step_by(4) {
                    let project = format!("made-up-{i}");
                    let headers = as_member(&project);
                    let (method, path, body, want) = match i % 4 {
                        0 => ("GET", "/v2/zones".to_string(), None, 200),
                        // Refused by Central before anything is written.
                        1 => (
                            "POST",
                            "/v2/zones".to_string(),
                            Some(zone_body("not a zone name")),
                            400,
                        ),
                        // Another project's zone: not found, not touched.
                        2 => ("PATCH", zone_path.clone(), Some(json!({"ttl": 600})), 404),
                        _ => ("GET", "/v2/recordsets".to_string(), None, 200),
                    };
                    let answer = rest_request(&base, method, &path, &headers, body.as_ref());
                    if answer.status != want {
                        unexpected.push(format!(
                            "{method} {path} as {project}: {} {}",
                            answer.status,
                            answer.text()
                        ));
                    }
                }
                unexpected
            })
        })
        .collect();
    let unexpected: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} unexpected answers, first: {:?}",
        unexpected.len(),
        unexpected.first()
    );
    assert_eq!(namespaces(&kubectl), before, "no namespace was made");
    let zone = rest_request(
        &base,
        "GET",
        &format!("/v2/zones/{zone_id}"),
        &as_member("owner"),
        None,
    );
    assert_eq!(zone.json()["ttl"], 3600, "{}", zone.text());
}

#[test]
fn project_ids_never_reach_namespaces_by_name() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-tenancy-")
        .tempdir()
        .unwrap();
    let standalone =
        Standalone::try_start_with(&tmp.path().join("data"), &["--empty-namespace-grace", "2s"])
            .unwrap_or_else(|e| panic!("{e:#}"));
    let base = standalone.wait_rest_url();
    let kubectl = kubectl(&standalone, tmp.path());

    // Reserved names get namespaces of their own, labelled and annotated.
    for project in ["kube-system", "default", "Not_A_Label"] {
        let name = format!(
            "{}.example.",
            project.to_ascii_lowercase().replace('_', "-")
        );
        let made = rest_request(
            &base,
            "POST",
            "/v2/zones",
            &as_member(project),
            Some(&zone_body(&name)),
        );
        assert_eq!(made.status, 202, "{project}: {}", made.text());
        assert_eq!(made.json()["project_id"], project);
        let zones = kubectl.get_json(&["zones", "-A"]);
        let zone = zones["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|z| z["spec"]["name"] == name.as_str())
            .unwrap_or_else(|| panic!("no Zone for {name}: {zones}"))
            .clone();
        let namespace = zone["metadata"]["namespace"].as_str().unwrap();
        assert!(
            namespace.starts_with("project-"),
            "{project} -> {namespace}"
        );
        let ns = kubectl.get_json(&["namespace", namespace]);
        assert_eq!(
            ns["metadata"]["labels"]["designate.openstack.org/tenancy"],
            "project"
        );
        assert_eq!(
            ns["metadata"]["annotations"]["designate.openstack.org/project-id"],
            project
        );
        // And the project reads its zone back.
        let listed = rest_request(&base, "GET", "/v2/zones", &as_member(project), None);
        assert_eq!(
            listed.json()["zones"][0]["name"],
            name.as_str(),
            "{}",
            listed.text()
        );
    }

    // A user's namespace is no project's, whatever the id.
    kubectl.ok(&["create", "namespace", "team-x"]);
    let refused = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &as_member("team-x"),
        Some(&zone_body("team-x.example.")),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());
    let zones = kubectl.get_json(&["zones", "-n", "team-x"]);
    assert_eq!(zones["items"], json!([]), "{zones}");

    // A namespace made for a project goes once it holds nothing.
    let made = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &as_member("short-lived"),
        Some(&zone_body("short-lived.example.")),
    );
    assert_eq!(made.status, 202, "{}", made.text());
    let id = made.json()["id"].as_str().unwrap().to_string();
    assert!(namespaces(&kubectl).contains("short-lived"));
    let deleted = rest_request(
        &base,
        "DELETE",
        &format!("/v2/zones/{id}"),
        &as_member("short-lived"),
        None,
    );
    assert_eq!(deleted.status, 202, "{}", deleted.text());
    wait_for(TIMEOUT, "the empty project namespace to be removed", || {
        let names = namespaces(&kubectl);
        if names.contains("short-lived") {
            Err(format!("{names:?}"))
        } else {
            Ok(())
        }
    });
    // The user's namespace and the projects that hold zones stay.
    let names = namespaces(&kubectl);
    assert!(names.contains("team-x"), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.starts_with("project-")).count(),
        3,
        "{names:?}"
    );
    // The project comes back with a new namespace on its next write.
    let again = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &as_member("short-lived"),
        Some(&zone_body("short-lived.example.")),
    );
    assert_eq!(again.status, 202, "{}", again.text());
}

#[test]
fn noauth_refuses_to_listen_off_loopback_unless_told() {
    let tmp = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(operator_bin())
        .args(["standalone", "--data-dir"])
        .arg(tmp.path())
        .args([
            "--kube-listen",
            "127.0.0.1:0",
            "--mdns-listen",
            "127.0.0.1:0",
            "--rest-listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--noauth-off-loopback"), "{stderr}");
    // Nothing was started: no data written.
    assert!(!tmp.path().join("kubeconfig").exists());
}
