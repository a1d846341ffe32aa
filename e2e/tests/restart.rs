//! Persistence of `designate-operator standalone`: objects written through
//! kubectl survive a SIGTERM and a restart on the same data dir with their
//! uids, resourceVersions keep increasing, and watches work afterwards.
//! Needs `cargo build -p designate-operator` first.

use std::collections::BTreeMap;
use std::time::Duration;

use designate_e2e::{
    Kubectl, Standalone, at, fixture, json_stream, kubectl_versions, resource_version, wait_for,
};
use serde_json::Value;

/// (kind, name) of every fixture applied before the restart.
const OBJECTS: [(&str, &str, &str); 4] = [
    ("zone", "example-com", "zone-example-com.yaml"),
    ("recordset", "www-example-com-a", "recordset-www.yaml"),
    ("recordset", "example-com-mx", "recordset-mx.yaml"),
    ("pool", "default", "pool-default.yaml"),
];

fn path_str(path: &std::path::Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", path.display()))
}

#[test]
fn objects_survive_a_restart() {
    for (version, bin) in kubectl_versions() {
        eprintln!("=== kubectl {version}");
        let tmp = tempfile::Builder::new()
            .prefix(&format!("designate-e2e-restart-{version}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        let data_dir = tmp.path().join("data");
        let cache_dir = tmp.path().join("kube-cache");

        let mut first = Standalone::start(&data_dir);
        let k = Kubectl::new(&bin, first.kubeconfig(), &cache_dir);
        for (_, _, file) in OBJECTS {
            k.ok(&["apply", "-f", path_str(&fixture(file))]);
        }
        // Let the controller finish with the zone so nothing writes while we read.
        wait_for(Duration::from_secs(20), "the zone to be PENDING", || {
            let zone = k.get_json(&["zone", "example-com"]);
            if at(&zone, "/status/status") == "PENDING"
                && at(&zone, "/status/observedGeneration") == 1
            {
                Ok(())
            } else {
                Err(zone.to_string())
            }
        });
        let before: BTreeMap<(&str, &str), Value> = OBJECTS
            .iter()
            .map(|(kind, name, _)| ((*kind, *name), k.get_json(&[kind, name])))
            .collect();
        let namespace_before = k.get_json(&["namespace", "default"]);
        let mut max_rv = before
            .values()
            .map(resource_version)
            .max()
            .unwrap_or_default();
        max_rv = max_rv.max(resource_version(&namespace_before));
        let first_url = first.url();

        let status = first
            .stop()
            .unwrap_or_else(|| panic!("the first standalone was not running"));
        assert!(
            status.success(),
            "SIGTERM should end standalone cleanly, got {status}"
        );

        let second = Standalone::start(&data_dir);
        assert_ne!(second.url(), first_url, "expected a fresh port");
        let kubeconfig = std::fs::read_to_string(second.kubeconfig()).unwrap_or_default();
        assert!(
            kubeconfig.contains(&second.url()),
            "kubeconfig not rewritten for {}: {kubeconfig}",
            second.url()
        );
        let k = Kubectl::new(&bin, second.kubeconfig(), &cache_dir);

        for ((kind, name), old) in &before {
            let now = k.get_json(&[kind, name]);
            assert_eq!(
                at(&now, "/metadata/uid"),
                at(old, "/metadata/uid"),
                "{kind}/{name} uid changed"
            );
            assert_eq!(
                at(&now, "/metadata/creationTimestamp"),
                at(old, "/metadata/creationTimestamp"),
                "{kind}/{name}"
            );
            assert_eq!(
                at(&now, "/metadata/generation"),
                at(old, "/metadata/generation"),
                "{kind}/{name}"
            );
            assert_eq!(
                at(&now, "/spec"),
                at(old, "/spec"),
                "{kind}/{name} spec changed"
            );
            assert_eq!(
                at(&now, "/metadata/finalizers"),
                at(old, "/metadata/finalizers"),
                "{kind}/{name}"
            );
            assert!(
                resource_version(&now) >= resource_version(old),
                "{kind}/{name} went back in time: {old} -> {now}"
            );
        }
        let zone = k.get_json(&["zone", "example-com"]);
        assert_eq!(
            at(&zone, "/status/status"),
            "PENDING",
            "status lost: {zone}"
        );
        let namespace = k.get_json(&["namespace", "default"]);
        assert_eq!(
            at(&namespace, "/metadata/uid"),
            at(&namespace_before, "/metadata/uid"),
            "{namespace}"
        );
        let list = k.get_json(&["recordsets"]);
        assert_eq!(
            at(&list, "/items").as_array().map(Vec::len),
            Some(2),
            "{list}"
        );

        // Watches work after the restart (list, then watch from the list's rv).
        let mut watch = k.spawn(
            &["get", "zones", "-w", "-o", "json", "--output-watch-events"],
            tmp.path(),
            "watch-after-restart",
        );
        wait_for(Duration::from_secs(20), "the watch's initial ADDED", || {
            let out = watch.stdout();
            let events = json_stream(&out);
            if events
                .iter()
                .any(|e| e["type"] == "ADDED" && e["object"]["metadata"]["name"] == "example-com")
            {
                Ok(())
            } else {
                Err(format!("{out} {}", watch.stderr()))
            }
        });

        // New writes get resourceVersions beyond everything seen before.
        k.ok(&["label", "zone", "example-com", "restarted=yes"]);
        let labelled = k.get_json(&["zone", "example-com"]);
        let label_rv = resource_version(&labelled);
        assert!(
            label_rv > max_rv,
            "rv {label_rv} after restart is not above {max_rv} seen before"
        );
        max_rv = max_rv.max(label_rv);
        k.ok(&[
            "apply",
            "-f",
            path_str(&fixture("zone-example-com.yaml")),
            "-n",
            "kube-system",
        ]);
        let created = k.get_json(&["zone", "example-com", "-n", "kube-system"]);
        let created_rv = resource_version(&created);
        assert!(
            created_rv > max_rv,
            "rv {created_rv} of a new object is not above {max_rv}"
        );
        assert_ne!(at(&created, "/metadata/uid"), at(&zone, "/metadata/uid"));

        let events = wait_for(
            Duration::from_secs(20),
            "the watch to see the label",
            || {
                let out = watch.stdout();
                let events = json_stream(&out);
                if events.iter().any(|e| {
                    e["type"] == "MODIFIED"
                        && e["object"]["metadata"]["labels"]["restarted"] == "yes"
                }) {
                    Ok(events)
                } else {
                    Err(out)
                }
            },
        );
        let modified = events
            .iter()
            .find(|e| {
                e["type"] == "MODIFIED" && e["object"]["metadata"]["labels"]["restarted"] == "yes"
            })
            .map(|e| resource_version(&e["object"]))
            .unwrap_or_default();
        assert_eq!(
            modified, label_rv,
            "the watch event of the label write has another resourceVersion"
        );
        assert_eq!(
            watch.try_status(),
            None,
            "the watch ended early: {}",
            watch.stderr()
        );
        watch.stop();

        // A raw watch from a resourceVersion seen before the restart: either it
        // replays the later changes, or it says 410 Expired in-stream (both are
        // what kube-apiserver may do after a restart).
        let path = format!(
            "/apis/designate.openstack.org/v1alpha1/namespaces/default/zones?watch=true&resourceVersion={}&timeoutSeconds=2",
            resource_version(&before[&("zone", "example-com")])
        );
        let raw = k.ok(&["get", "--raw", &path]);
        let raw_events = json_stream(&raw);
        let first_event = raw_events
            .first()
            .unwrap_or_else(|| panic!("no event from {path}: {raw}"));
        eprintln!(
            "watch from rv before the restart: first event {}",
            first_event["type"]
        );
        if first_event["type"] == "ERROR" {
            assert_eq!(first_event["object"]["code"], 410, "{raw}");
        } else {
            assert!(
                raw_events.iter().any(|e| e["type"] == "MODIFIED"
                    && e["object"]["metadata"]["labels"]["restarted"] == "yes"
                    && resource_version(&e["object"]) == label_rv),
                "watch from an old rv missed the label write: {raw}"
            );
        }

        drop(second);
        eprintln!("=== kubectl {version}: passed");
    }
}
