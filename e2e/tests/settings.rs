//! Central's settings from a `designate.conf` (`--config-file`) and flags,
//! as REST and kubectl users see them: the managed resources' email, the
//! SOA timers,
//! the default TTL, `min_ttl`, the supported record types and the default
//! quotas; a flag wins over the file; a file that cannot be used stops the
//! start and names its line.
//!
//! Needs `cargo build -p designate-operator` first.

use std::time::Duration;

use designate_e2e::{Standalone, kubectl_for, operator_bin, rest_request, wait_for};
use serde_json::{Value, json};

const DESIGNATE_CONF: &str = "\
[DEFAULT]
# Options of other services are left alone.
transport_url = rabbit://guest:guest@127.0.0.1:5672/
default_ttl = 1800
supported_record_type = A, AAAA, CNAME, NS, SOA,
    TXT
default_soa_refresh_min = 1200
default_soa_refresh_max = 1200
default_soa_retry = 300
default_soa_expire = 604800
default_soa_minimum = 60
quota_zones = 3
quota_zone_records = 40

[service:central]
managed_resource_email = dns-admin@example.net
min_ttl = 300
max_zone_name_len = 100

[storage:sqlalchemy]
connection = mysql+pymysql://designate:secret@127.0.0.1/designate
";

fn member() -> [(&'static str, &'static str); 2] {
    [
        ("X-Auth-Project-ID", "settings"),
        ("X-Roles", "member,reader"),
    ]
}

#[test]
fn a_designate_conf_sets_centrals_rules_on_every_path() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("designate.conf");
    std::fs::write(&conf, DESIGNATE_CONF).unwrap();
    // The flag wins over the file's quota_zones.
    let standalone = Standalone::try_start_with(
        &tmp.path().join("data"),
        &[
            "--config-file",
            conf.to_str().unwrap(),
            "--quota-zones",
            "5",
        ],
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let base = standalone.wait_rest_url();

    let limits = rest_request(&base, "GET", "/v2/limits", &member(), None).json();
    assert_eq!(limits["max_zones"], 5, "{limits}");
    assert_eq!(limits["max_zone_records"], 40, "{limits}");
    assert_eq!(
        limits["max_zone_recordsets"], 500,
        "Designate's default: {limits}"
    );
    assert_eq!(limits["min_ttl"], 300, "{limits}");
    assert_eq!(limits["max_zone_name_length"], 100, "{limits}");

    let refused = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &member(),
        Some(&json!({"name": "low.example.", "email": "a@example.org", "ttl": 60})),
    );
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(refused.json()["type"], "invalid_ttl", "{}", refused.text());

    let made = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &member(),
        Some(&json!({"name": "settings.example.", "email": "a@example.org"})),
    );
    assert_eq!(made.status, 202, "{}", made.text());
    let zone = made.json();
    assert_eq!(zone["ttl"], 1800, "default_ttl: {zone}");
    let id = zone["id"].as_str().unwrap();

    let soa = rest_request(
        &base,
        "GET",
        &format!("/v2/zones/{id}/recordsets?type=SOA"),
        &member(),
        None,
    )
    .json();
    let soa = soa["recordsets"][0]["records"][0]
        .as_str()
        .unwrap_or_default();
    let fields: Vec<&str> = soa.split_whitespace().collect();
    assert_eq!(fields.len(), 7, "{soa}");
    assert_eq!(
        fields[3..],
        ["1200", "300", "604800", "60"],
        "SOA timers: {soa}"
    );
    // A secondary zone's email is the managed resources' (Designate's API).
    let secondary = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &member(),
        Some(&json!({"name": "secondary.example.", "type": "SECONDARY", "masters": ["192.0.2.1"]})),
    );
    assert_eq!(secondary.status, 202, "{}", secondary.text());
    assert_eq!(
        secondary.json()["email"],
        "dns-admin@example.net",
        "{}",
        secondary.text()
    );

    let mx = rest_request(
        &base,
        "POST",
        &format!("/v2/zones/{id}/recordsets"),
        &member(),
        Some(
            &json!({"name": "settings.example.", "type": "MX", "records": ["10 mail.example.org."]}),
        ),
    );
    assert_eq!(
        mx.status,
        400,
        "MX is not a supported type here: {}",
        mx.text()
    );
    let txt = rest_request(
        &base,
        "POST",
        &format!("/v2/zones/{id}/recordsets"),
        &member(),
        Some(&json!({"name": "t.settings.example.", "type": "TXT", "records": ["\"continued\""]})),
    );
    assert_eq!(
        txt.status,
        202,
        "TXT on a continuation line: {}",
        txt.text()
    );

    // The controllers apply the same settings to what kubectl applies.
    let kubectl = kubectl_for(&standalone, tmp.path());
    let manifest = tmp.path().join("zone.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: low-ttl\n  namespace: default\nspec:\n  name: low-ttl.example.\n  email: a@example.org\n  ttl: 60\n",
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    let reason = wait_for(
        Duration::from_secs(30),
        "the Zone's Ready condition",
        || {
            let zone: Value = kubectl.get_json(&["zone", "low-ttl", "-n", "default"]);
            zone["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
                .and_then(|c| c["reason"].as_str().map(str::to_string))
                .filter(|r| r != "ZoneNotReady")
                .ok_or_else(|| format!("no verdict yet: {zone}"))
        },
    );
    assert_eq!(reason, "InvalidTTL");
}

#[test]
fn a_designate_conf_that_cannot_be_used_stops_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("designate.conf");
    std::fs::write(&conf, "[DEFAULT]\n\nquota_zones = many\n").unwrap();
    let output = std::process::Command::new(operator_bin())
        .args(["standalone", "--data-dir"])
        .arg(tmp.path().join("data"))
        .args([
            "--kube-listen",
            "127.0.0.1:0",
            "--mdns-listen",
            "127.0.0.1:0",
        ])
        .args(["--rest-listen", "127.0.0.1:0", "--config-file"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 3: [DEFAULT] quota_zones = \"many\" is not an integer"),
        "{stderr}"
    );
    assert!(!tmp.path().join("data").join("kubeconfig").exists());
}
