//! The controllers as a cluster runs them: two `designate-operator
//! controllers` processes against one `designate-operator apiserver`. One
//! leads (the Lease names it); `kill -9` of the leader while zones are
//! being created: the other takes over, every zone reaches ACTIVE, and the
//! zones published before keep their serials (nothing published twice).
//! Needs `cargo build -p designate-operator` first.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use designate_e2e::keystone::free_port;
use designate_e2e::{Kubectl, at, kubectl_versions, operator_bin, wait_for};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A child process killed (-9) when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(dir: &Path, label: &str, args: &[&str], env: &[(&str, &str)]) -> Process {
    let log = File::create(dir.join(format!("{label}.log"))).unwrap();
    let child = Command::new(operator_bin())
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Process(child)
}

/// A controllers replica, and where it serves `/metrics` and its probes.
fn controllers(dir: &Path, name: &str, kubeconfig: &Path, database: &str) -> (Process, String) {
    let metrics = format!("127.0.0.1:{}", free_port());
    let process = spawn(
        dir,
        name,
        &[
            "controllers",
            "--database-url",
            database,
            "--metrics-listen",
            &metrics,
            "--host",
            name,
            "--leader-election-lease-duration",
            "4s",
            "--leader-election-renew-deadline",
            "3s",
            "--leader-election-retry-period",
            "500ms",
        ],
        &[
            ("KUBECONFIG", kubeconfig.to_str().unwrap()),
            ("POD_NAME", name),
            ("POD_NAMESPACE", "default"),
        ],
    );
    (process, format!("http://{metrics}"))
}

/// `path` on a replica's operations address: status and body.
fn probe(base: &str, path: &str) -> (u16, String) {
    match designate_e2e::http_request(base, "GET", path, &[], None) {
        Ok(answer) => (answer.status, answer.text()),
        Err(error) => (0, error.to_string()),
    }
}

fn apply_zone(k: &Kubectl, dir: &Path, i: usize) {
    let path = dir.join(format!("zone-{i}.yaml"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: z{i}\nspec:\n  name: z{i}.example.org.\n  email: admin@example.org\n"
        ),
    )
    .unwrap();
    k.ok(&["apply", "-f", path.to_str().unwrap()]);
}

/// The serial of every zone once all of `count` are ACTIVE.
fn all_active(k: &Kubectl, count: usize) -> Vec<i64> {
    wait_for(TIMEOUT, &format!("{count} zones ACTIVE"), || {
        let zones = k.get_json(&["zones"]);
        let items = at(&zones, "/items").as_array().cloned().unwrap_or_default();
        let mut serials = Vec::new();
        for i in 0..count {
            let zone = items
                .iter()
                .find(|z| at(z, "/metadata/name") == format!("z{i}").as_str());
            match zone.map(|z| (at(z, "/status/status"), at(z, "/status/serial"))) {
                Some((status, serial)) if status == "ACTIVE" => {
                    serials.push(serial.as_i64().unwrap_or_default());
                }
                other => return Err(format!("z{i}: {other:?}")),
            }
        }
        Ok(serials)
    })
}

fn holder(k: &Kubectl) -> String {
    k.ok(&[
        "get",
        "lease",
        "designate-controllers",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ])
    .trim()
    .to_string()
}

#[test]
fn a_standby_takes_over_from_a_killed_leader() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-failover-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let kube_listen = format!("127.0.0.1:{}", free_port());
    let _apiserver = spawn(
        dir,
        "apiserver",
        &[
            "apiserver",
            "--data-dir",
            data.to_str().unwrap(),
            "--kube-listen",
            &kube_listen,
        ],
        &[],
    );
    let kubeconfig = data.join("kubeconfig");
    let (_, kubectl_bin) = kubectl_versions().pop().expect("a kubectl");
    let k = Kubectl::new(kubectl_bin, &kubeconfig, dir.join("cache"));
    wait_for(TIMEOUT, "the API server", || {
        k.try_run(&["get", "crd", "zones.designate.openstack.org"], TIMEOUT)
            .map_err(|e| e.to_string())
            .and_then(|o| o.status.success().then_some(()).ok_or("not yet".into()))
    });
    let pool = dir.join("pool.yaml");
    std::fs::write(
        &pool,
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Pool\nmetadata:\n  name: default\nspec:\n  nsRecords:\n  - hostname: ns1.example.net.\n    priority: 1\n",
    )
    .unwrap();
    k.ok(&["apply", "-f", pool.to_str().unwrap()]);

    let database = format!("sqlite://{}?mode=rwc", dir.join("designate.db").display());
    let mut replicas: Vec<(&str, Option<Process>, String)> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let (process, ops) = controllers(dir, name, &kubeconfig, &database);
            (name, Some(process), ops)
        })
        .collect();
    for i in 0..5 {
        apply_zone(&k, dir, i);
    }
    let before = all_active(&k, 5);
    let leader = holder(&k);
    assert!(leader == "a" || leader == "b", "holder {leader:?}");
    let standby = if leader == "a" { "b" } else { "a" };
    let log = |name: &str| std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap();
    // The standby stood by: it published nothing.
    assert!(log(&leader).contains("zone published"), "{}", log(&leader));
    assert!(!log(standby).contains("zone published"), "{}", log(standby));

    // Both are live and ready: the standby is what takes over.
    for (name, _, ops) in &replicas {
        // A replica's operations port may answer a moment after the Lease
        // names the leader.
        wait_for(TIMEOUT, &format!("{name} live and ready"), || {
            let live = probe(ops, "/healthz");
            let ready = probe(ops, "/readyz");
            (live.0 == 200 && ready == (200, "controllers: ok\n".to_string()))
                .then_some(())
                .ok_or(format!("{live:?} {ready:?}"))
        });
        assert!(probe(ops, "/metrics").1.contains("# EOF"), "{name}");
    }

    // The leader dies mid-load.
    let (_, process, _) = replicas.iter_mut().find(|(n, ..)| *n == leader).unwrap();
    drop(process.take());
    for i in 5..15 {
        apply_zone(&k, dir, i);
    }
    let after = all_active(&k, 15);
    assert_eq!(holder(&k), standby);
    assert!(log(standby).contains("leading"), "{}", log(standby));
    // The zones published before were not published again.
    assert_eq!(after[..5], before[..], "serials changed on takeover");
    let lease = k.get_json(&["lease", "designate-controllers"]);
    assert_eq!(at(&lease, "/spec/leaseTransitions"), 1, "{lease}");
}
