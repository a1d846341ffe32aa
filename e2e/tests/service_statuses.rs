//! Service statuses (`/v2/service_statuses`) as real heartbeats: each role
//! of a running instance renews a `coordination.k8s.io/v1` Lease, and the
//! REST API shows it `UP` while its last heartbeat is younger than the
//! timeout.
//!
//! - `standalone` (as host `alpha`) shows `api`, `central`, `worker`,
//!   `producer` and `mdns` UP, through REST (list, filters, paging, show,
//!   errors, policies) and through the real `openstack dns service list`
//!   and `show`; the heartbeats are Leases kubectl lists;
//! - a second instance (the roles against the standalone's API, as host
//!   `beta`) shows UP beside it, and DOWN after it is killed (SIGKILL: no
//!   shutdown code runs); `alpha` stays UP; a third (`gamma`) stopped
//!   gracefully (SIGTERM) shows `STOPPED`; both take their host name and
//!   heartbeat interval from a `designate.conf`;
//! - a restart on the same host takes its heartbeats up again, same ids.
//!
//! Waits are bounded generously and never assert on speed. Needs `cargo
//! build -p designate-operator` first, and the OpenStack CLI
//! (`$DESIGNATE_OPENSTACK`, as `openstack_cli.rs`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use designate_e2e::openstack::Cli;
use designate_e2e::{Kubectl, Standalone, kubectl_versions, operator_bin, rest_request, wait_for};
use serde_json::Value;

const SERVICES: [&str; 5] = ["api", "central", "worker", "producer", "mdns"];
/// Quick heartbeats, so that a dead instance shows DOWN within seconds.
const HEARTBEAT: [&str; 4] = ["--heartbeat-interval", "1s", "--heartbeat-timeout", "3s"];
/// Far beyond the 3 s timeout: the bound of every wait.
const WAIT: Duration = Duration::from_secs(90);
const ADMIN: [(&str, &str); 2] = [("X-Auth-Project-ID", "ops"), ("X-Roles", "admin")];
const MEMBER: [(&str, &str); 2] = [("X-Auth-Project-ID", "ops"), ("X-Roles", "member,reader")];
const FIELDS: [&str; 10] = [
    "id",
    "hostname",
    "service_name",
    "status",
    "stats",
    "capabilities",
    "heartbeated_at",
    "created_at",
    "updated_at",
    "links",
];

/// `GET path` as an admin: the JSON of a 200.
fn get(base: &str, path: &str) -> Value {
    let answer = rest_request(base, "GET", path, &ADMIN, None);
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.json());
    answer.json()
}

/// The statuses of `host`, by service name.
fn statuses_of(base: &str, host: &str) -> BTreeMap<String, Value> {
    get(
        base,
        &format!("/v2/service_statuses?hostname={host}&limit=100"),
    )["service_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["service_name"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

/// Waits until every role of `host` shows `status`; returns the statuses.
fn wait_all(base: &str, host: &str, status: &str) -> BTreeMap<String, Value> {
    wait_for(WAIT, &format!("every role of {host} {status}"), || {
        let statuses = statuses_of(base, host);
        let shown: BTreeMap<&str, &str> = statuses
            .iter()
            .map(|(name, s)| (name.as_str(), s["status"].as_str().unwrap_or_default()))
            .collect();
        if SERVICES.iter().all(|s| shown.get(s) == Some(&status)) && shown.len() == SERVICES.len() {
            Ok(statuses)
        } else {
            Err(format!("{shown:?}"))
        }
    })
}

fn ids(statuses: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    statuses
        .iter()
        .map(|(name, s)| (name.clone(), s["id"].as_str().unwrap().to_string()))
        .collect()
}

/// The roles (no embedded API) against the standalone's API, as `host`:
/// the host name and heartbeat interval from a Designate `designate.conf`
/// (`[DEFAULT] host`, `[heartbeat_emitter] heartbeat_interval`).
fn second_instance(standalone: &Standalone, dir: &Path, host: &str) -> Child {
    let log = std::fs::File::create(dir.join(format!("{host}.stderr"))).unwrap();
    let conf = dir.join(format!("{host}.conf"));
    std::fs::write(
        &conf,
        format!("[DEFAULT]\nhost = {host}\n\n[heartbeat_emitter]\nheartbeat_interval = 1.0\n"),
    )
    .unwrap();
    Command::new(operator_bin())
        .env("KUBECONFIG", standalone.kubeconfig())
        .env("POD_NAMESPACE", "default")
        .env("NO_COLOR", "1")
        .arg("--database-url")
        .arg(format!(
            "sqlite://{}?mode=rwc",
            dir.join(format!("{host}.db")).display()
        ))
        .args(["--metrics-listen", "127.0.0.1:0"])
        .args(["--mdns-listen", "127.0.0.1:0"])
        .args(["--rest-listen", "127.0.0.1:0"])
        .arg("--config-file")
        .arg(&conf)
        .args(&HEARTBEAT[2..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting a second designate-operator")
}

#[test]
fn roles_heartbeat_up_and_a_killed_instance_goes_down() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-services-")
        .tempdir()
        .unwrap();
    let data = tmp.path().join("data");
    let mut args = vec!["--host", "alpha"];
    args.extend(HEARTBEAT);
    let mut standalone = Standalone::try_start_with(&data, &args)
        .unwrap_or_else(|e| panic!("starting standalone: {e:#}"));
    let base = standalone.wait_rest_url();

    // Every role of the standalone, UP, in Designate's shape.
    let alpha = wait_all(&base, "alpha", "UP");
    for status in alpha.values() {
        let mut keys: Vec<&str> = status
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut want = FIELDS.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want, "{status}");
        assert_eq!(status["stats"], serde_json::json!({}));
        assert!(
            status["heartbeated_at"]
                .as_str()
                .unwrap()
                .ends_with(".000000")
        );
        let id = status["id"].as_str().unwrap();
        assert_eq!(
            status["links"]["self"],
            format!("{base}/v2/service_statuses/{id}")
        );
        // Show, and Designate's older path.
        for path in [
            format!("/v2/service_statuses/{id}"),
            format!("/v2/service_status/{id}"),
        ] {
            let shown = get(&base, &path);
            assert_eq!(
                (&shown["id"], &shown["service_name"]),
                (&status["id"], &status["service_name"])
            );
        }
    }

    // Filters and paging.
    let only_mdns = get(&base, "/v2/service_statuses?service_name=mdns");
    let only_mdns = only_mdns["service_statuses"].as_array().unwrap();
    assert_eq!(only_mdns.len(), 1, "{only_mdns:?}");
    assert_eq!(only_mdns[0]["id"], alpha["mdns"]["id"]);
    let none_down = get(&base, "/v2/service_statuses?status=DOWN");
    assert_eq!(none_down["service_statuses"], serde_json::json!([]));
    let page = get(
        &base,
        "/v2/service_statuses?limit=2&sort_key=service_name&sort_dir=asc",
    );
    let names: Vec<&str> = page["service_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "central"]);
    let next = page["links"]["next"].as_str().expect("a next link");
    let rest_page = get(&base, next.strip_prefix(&base).unwrap());
    let names: Vec<&str> = rest_page["service_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mdns", "producer"]);

    // Errors and policies, as Designate answers them.
    let unknown = rest_request(
        &base,
        "GET",
        "/v2/service_statuses/1d4a0a2c-5d0e-4b4e-9f6e-6a1b2c3d4e5f",
        &ADMIN,
        None,
    );
    assert_eq!(
        (unknown.status, unknown.json()["type"].as_str()),
        (404, Some("service_status_not_found"))
    );
    let invalid = rest_request(&base, "GET", "/v2/service_statuses/foo", &ADMIN, None);
    assert_eq!(
        (invalid.status, invalid.json()["type"].as_str()),
        (400, Some("invalid_uuid"))
    );
    for path in [
        "/v2/service_statuses".to_string(),
        format!(
            "/v2/service_statuses/{}",
            alpha["api"]["id"].as_str().unwrap()
        ),
    ] {
        let refused = rest_request(&base, "GET", &path, &MEMBER, None);
        assert_eq!(refused.status, 403, "member GET {path}");
    }
    let bad_filter = rest_request(&base, "GET", "/v2/service_statuses?type=x", &ADMIN, None);
    assert_eq!(bad_filter.status, 400);

    // The real CLI lists and shows them.
    let cli = Cli::noauth(&base, tmp.path(), "noauth");
    let run = cli.run(&["dns", "service", "list", "-f", "json"]);
    let listed = run.json().unwrap_or_else(|| panic!("{}", run.describe()));
    let mut shown: Vec<(String, String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["hostname"].as_str().unwrap().to_string(),
                s["service_name"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    shown.sort();
    let mut want: Vec<(String, String, String)> = SERVICES
        .iter()
        .map(|s| ("alpha".into(), s.to_string(), "UP".into()))
        .collect();
    want.sort();
    assert_eq!(shown, want, "{}", run.describe());
    let central = alpha["central"]["id"].as_str().unwrap();
    let run = cli.run(&["dns", "service", "show", central, "-f", "json"]);
    let one = run.json().unwrap_or_else(|| panic!("{}", run.describe()));
    assert_eq!(
        (one["service_name"].as_str(), one["status"].as_str()),
        (Some("central"), Some("UP")),
        "{}",
        run.describe()
    );

    // The heartbeats are Leases in the operator's namespace.
    let (_, kubectl_bin) = kubectl_versions().pop().expect("a kubectl");
    let kubectl = Kubectl::new(
        kubectl_bin,
        standalone.kubeconfig(),
        tmp.path().join("kube-cache"),
    );
    let leases = kubectl.json(&[
        "get",
        "leases",
        "-n",
        "default",
        "-l",
        "designate.openstack.org/service",
        "-o",
        "json",
    ]);
    let mut lease_uids: Vec<&str> = leases["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["metadata"]["uid"].as_str().unwrap())
        .collect();
    lease_uids.sort_unstable();
    let alpha_ids = ids(&alpha);
    let mut want_ids: Vec<&str> = alpha_ids.values().map(String::as_str).collect();
    want_ids.sort_unstable();
    assert_eq!(lease_uids, want_ids);
    for lease in leases["items"].as_array().unwrap() {
        assert_eq!(lease["spec"]["leaseDurationSeconds"], 3, "{lease}");
        let holder = lease["spec"]["holderIdentity"].as_str().unwrap();
        assert!(holder.starts_with("alpha_"), "{holder}");
    }

    // A second instance shows beside the first, and DOWN once killed.
    let mut beta = second_instance(&standalone, tmp.path(), "beta");
    let beta_up = wait_all(&base, "beta", "UP");
    beta.kill().unwrap();
    beta.wait().unwrap();
    let beta_down = wait_all(&base, "beta", "DOWN");
    assert_eq!(ids(&beta_up), ids(&beta_down), "same heartbeats");
    assert_eq!(ids(&wait_all(&base, "alpha", "UP")), alpha_ids);
    let down = get(&base, "/v2/service_statuses?status=DOWN&limit=100");
    assert_eq!(down["service_statuses"].as_array().unwrap().len(), 5);

    // One stopped gracefully (SIGTERM) says so: STOPPED, and stays so.
    let gamma = second_instance(&standalone, tmp.path(), "gamma");
    let gamma_up = wait_all(&base, "gamma", "UP");
    let exit = designate_e2e::terminate(gamma).expect("an exit status");
    assert!(exit.success(), "gamma exited with {exit}");
    let gamma_stopped = wait_all(&base, "gamma", "STOPPED");
    assert_eq!(ids(&gamma_up), ids(&gamma_stopped), "same heartbeats");
    std::thread::sleep(Duration::from_secs(4));
    wait_all(&base, "gamma", "STOPPED");
    let stopped = get(&base, "/v2/service_statuses?status=STOPPED&limit=100");
    assert_eq!(stopped["service_statuses"].as_array().unwrap().len(), 5);

    // A restart on the same host renews the same heartbeats.
    standalone.stop();
    let standalone = Standalone::try_start_with(&data, &args)
        .unwrap_or_else(|e| panic!("restarting standalone: {e:#}"));
    let base = standalone.wait_rest_url();
    assert_eq!(ids(&wait_all(&base, "alpha", "UP")), alpha_ids);
}
