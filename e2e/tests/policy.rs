//! An operator's oslo.policy file over Designate's defaults, through the
//! REST API (noauth, so that the roles are whatever the test says):
//! `--policy-file` replaces the rules it names and keeps the others; a file
//! that does not parse stops the start with the rule's name.
//!
//! Needs `cargo build -p designate-operator` first.

use designate_e2e::{Standalone, operator_bin, rest_request};
use serde_json::json;

fn as_roles<'a>(project: &'a str, roles: &'a str) -> [(&'a str, &'a str); 2] {
    [("X-Auth-Project-ID", project), ("X-Roles", roles)]
}

#[test]
fn a_policy_file_replaces_the_rules_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("policy.yaml");
    std::fs::write(
        &file,
        "# zones are made by admins only here\n\"create_zone\": \"role:admin\"\n\"find_zones\": \"rule:no_such_rule\"\n",
    )
    .unwrap();
    let standalone = Standalone::try_start_with(
        &tmp.path().join("data"),
        &["--policy-file", file.to_str().unwrap()],
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let base = standalone.wait_rest_url();
    let zone = |name: &str| json!({"name": name, "email": "hostmaster@example.org"});

    let member = as_roles("p1", "member,reader");
    let refused = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &member,
        Some(&zone("m.example.")),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.json()["type"], "forbidden");
    let admin = as_roles("p1", "admin");
    let made = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &admin,
        Some(&zone("a.example.")),
    );
    assert_eq!(made.status, 202, "{}", made.text());
    // A rule naming an unknown rule is checked as `default` (oslo.policy):
    // a member of the project passes, a reader does not.
    let listed = rest_request(&base, "GET", "/v2/zones", &member, None);
    assert_eq!(listed.status, 200, "{}", listed.text());
    let reader = as_roles("p1", "reader");
    let refused = rest_request(&base, "GET", "/v2/zones", &reader, None);
    assert_eq!(refused.status, 403, "{}", refused.text());
    // Rules the file does not name keep Designate's defaults.
    let id = made.json()["id"].as_str().unwrap().to_string();
    let shown = rest_request(&base, "GET", &format!("/v2/zones/{id}"), &reader, None);
    assert_eq!(shown.status, 200, "{}", shown.text());
}

#[test]
fn a_broken_policy_file_stops_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("policy.yaml");
    std::fs::write(&file, "\"create_zone\": \"role:admin and\"\n").unwrap();
    let output = std::process::Command::new(operator_bin())
        .args(["standalone", "--data-dir"])
        .arg(tmp.path().join("data"))
        .args([
            "--kube-listen",
            "127.0.0.1:0",
            "--mdns-listen",
            "127.0.0.1:0",
        ])
        .args(["--rest-listen", "127.0.0.1:0", "--policy-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("create_zone"), "{stderr}");
    assert!(!tmp.path().join("data").join("kubeconfig").exists());
}
