//! The kubectl user path against `designate-operator standalone` (embedded API
//! server plus the Zone controller), with kubectl 1.27 and 1.33: apply (client-
//! and server-side), get (table, JSON, YAML, short name, category), delete
//! waiting for the controller's finalizer, watches, validation errors and
//! namespaces. Needs `cargo build -p designate-operator` first.

use std::time::Duration;

use designate_e2e::{
    Env, at, fixture, for_each_kubectl, json_stream, read_fixture, resource_version, wait_for,
};
use serde_json::Value;

const FINALIZER: &str = "zones.designate.openstack.org/cleanup";
const HOLD: &str = "example.com/hold";
const CONTROLLER_TIMEOUT: Duration = Duration::from_secs(20);

fn path_str(path: &std::path::Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", path.display()))
}

/// The zone fixture with `ttl: 3600` replaced by `ttl`.
fn zone_with_ttl(ttl: u32) -> String {
    let text = read_fixture("zone-example-com.yaml");
    assert!(text.contains("ttl: 3600"), "zone fixture changed: {text}");
    text.replace("ttl: 3600", &format!("ttl: {ttl}"))
}

/// A zone manifest named `name` for `<name>.example.` with optional extra metadata lines.
fn zone_yaml(name: &str, extra_metadata: &str) -> String {
    format!(
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: {name}\n{extra_metadata}spec:\n  name: {name}.example.\n  email: admin@example.com\n  ttl: 600\n"
    )
}

fn finalizers(object: &Value) -> Vec<String> {
    at(object, "/metadata/finalizers")
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the controller marked zone `name` (optionally in namespace
/// `ns`) with `status` for its current generation, and returns the zone.
fn wait_zone(env: &Env, name: &str, ns: Option<&str>, status: &str) -> Value {
    let mut args = vec!["zone", name];
    if let Some(ns) = ns {
        args.extend_from_slice(&["-n", ns]);
    }
    wait_for(
        CONTROLLER_TIMEOUT,
        &format!("the controller to mark zone {name} {status}"),
        || {
            let zone = env.kubectl.get_json(&args);
            let done = at(&zone, "/status/status") == status
                && at(&zone, "/status/observedGeneration") == at(&zone, "/metadata/generation")
                && finalizers(&zone).iter().any(|f| f == FINALIZER);
            if done {
                Ok(zone)
            } else {
                Err(zone.to_string())
            }
        },
    )
}

/// Whether kubectl's stderr says the object was not found.
fn assert_not_found(stderr: &str, name: &str) {
    assert!(
        stderr.contains("NotFound") && stderr.contains(&format!("\"{name}\" not found")),
        "expected NotFound for {name}, got: {stderr}"
    );
}

/// The cells of the row whose first cell is `first` in a kubectl table, keyed by header.
fn table_row(table: &str, first: &str) -> Vec<(String, String)> {
    let mut lines = table.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let row = lines
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&first))
        .unwrap_or_else(|| panic!("no row {first} in:\n{table}"));
    header
        .iter()
        .zip(row)
        .map(|(h, c)| (h.to_string(), c.to_string()))
        .collect()
}

fn cell<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    row.iter()
        .find(|(h, _)| h == column)
        .map(|(_, c)| c.as_str())
        .unwrap_or_else(|| panic!("no column {column} in {row:?}"))
}

/// (1) apply creates, get lists (table with the controller's STATUS, JSON, YAML,
/// short name, category), re-apply bumps the generation, server-side apply
/// creates and changes fields.
#[test]
fn apply_get_and_server_side_apply() {
    for_each_kubectl(|env| {
        let k = &env.kubectl;
        let zone_file = fixture("zone-example-com.yaml");
        let out = k.ok(&["apply", "-f", path_str(&zone_file)]);
        assert!(
            out.contains("zone.designate.openstack.org/example-com created"),
            "{out}"
        );

        let table = k.ok(&["get", "zones"]);
        assert!(table.contains("example-com"), "{table}");
        wait_for(
            CONTROLLER_TIMEOUT,
            "status.status ACTIVE via jsonpath",
            || {
                let status = k.ok(&[
                    "get",
                    "zone",
                    "example-com",
                    "-o",
                    "jsonpath={.status.status}",
                ]);
                if status == "ACTIVE" {
                    Ok(())
                } else {
                    Err(status)
                }
            },
        );
        let table = k.ok(&["get", "zones"]);
        let row = table_row(&table, "example-com");
        assert_eq!(cell(&row, "STATUS"), "ACTIVE", "{table}");
        assert_eq!(cell(&row, "ACTION"), "NONE", "{table}");

        let zone = wait_zone(env, "example-com", None, "ACTIVE");
        let uid = at(&zone, "/metadata/uid")
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(!uid.is_empty(), "no uid: {zone}");
        let rv1 = resource_version(&zone);
        assert_eq!(at(&zone, "/metadata/generation"), 1, "{zone}");
        assert_eq!(at(&zone, "/metadata/namespace"), "default", "{zone}");
        assert_eq!(at(&zone, "/spec/ttl"), 3600, "{zone}");
        assert!(finalizers(&zone).contains(&FINALIZER.to_string()), "{zone}");
        assert!(
            at(&zone, "/metadata/creationTimestamp").is_string(),
            "{zone}"
        );
        assert!(
            at(
                &zone,
                "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"
            )
            .is_string(),
            "client-side apply must store the last-applied annotation: {zone}"
        );
        assert_eq!(at(&zone, "/status/action"), "NONE", "{zone}");
        let ready = at(&zone, "/status/conditions")
            .as_array()
            .and_then(|conditions| conditions.iter().find(|c| c["type"] == "Ready"))
            .unwrap_or_else(|| panic!("no Ready condition: {zone}"));
        assert_eq!(ready["observedGeneration"], 1, "{zone}");

        // Re-applying the same file changes nothing.
        let out = k.ok(&["apply", "-f", path_str(&zone_file)]);
        assert!(out.contains("example-com unchanged"), "{out}");
        assert_eq!(
            at(
                &k.get_json(&["zone", "example-com"]),
                "/metadata/generation"
            ),
            1
        );

        // A changed ttl: three-way merge patch, generation 2.
        let changed = env.write("zone-ttl-7200.yaml", &zone_with_ttl(7200));
        let out = k.ok(&["apply", "-f", path_str(&changed)]);
        assert!(out.contains("example-com configured"), "{out}");
        let zone = wait_zone(env, "example-com", None, "ACTIVE");
        assert_eq!(at(&zone, "/metadata/generation"), 2, "{zone}");
        assert_eq!(at(&zone, "/spec/ttl"), 7200, "{zone}");
        assert_eq!(at(&zone, "/metadata/uid"), uid.as_str(), "{zone}");
        assert_eq!(at(&zone, "/status/observedGeneration"), 2, "{zone}");
        assert!(resource_version(&zone) > rv1, "{zone}");

        // Server-side apply over the client-side-applied field.
        let ssa = env.write("zone-ttl-1800.yaml", &zone_with_ttl(1800));
        let out = k.ok(&[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            path_str(&ssa),
        ]);
        assert!(out.contains("example-com serverside-applied"), "{out}");
        let zone = k.get_json(&["zone", "example-com"]);
        assert_eq!(at(&zone, "/spec/ttl"), 1800, "{zone}");
        assert_eq!(at(&zone, "/metadata/generation"), 3, "{zone}");
        assert_eq!(at(&zone, "/spec/email"), "admin@example.com", "{zone}");
        assert_eq!(at(&zone, "/metadata/uid"), uid.as_str(), "{zone}");
        assert!(
            finalizers(&zone).contains(&FINALIZER.to_string()),
            "SSA must keep the finalizer: {zone}"
        );

        // Server-side apply creating an object, then changing it (same manager, no conflict).
        let created = env.write("ssa-zone.yaml", &zone_yaml("ssa-zone", ""));
        let out = k.ok(&["apply", "--server-side", "-f", path_str(&created)]);
        assert!(out.contains("ssa-zone serverside-applied"), "{out}");
        let zone = wait_zone(env, "ssa-zone", None, "ACTIVE");
        assert_eq!(at(&zone, "/metadata/generation"), 1, "{zone}");
        assert_eq!(at(&zone, "/spec/ttl"), 600, "{zone}");
        let changed = env.write(
            "ssa-zone-2.yaml",
            &zone_yaml("ssa-zone", "").replace("ttl: 600", "ttl: 900"),
        );
        k.ok(&["apply", "--server-side", "-f", path_str(&changed)]);
        let zone = k.get_json(&["zone", "ssa-zone"]);
        assert_eq!(at(&zone, "/spec/ttl"), 900, "{zone}");
        assert_eq!(at(&zone, "/metadata/generation"), 2, "{zone}");

        // -o yaml of the list.
        let yaml = k.ok(&["get", "zones", "-o", "yaml"]);
        let list: Value = serde_yaml::from_str(&yaml)
            .unwrap_or_else(|e| panic!("-o yaml is not YAML ({e}):\n{yaml}"));
        let mut names: Vec<&str> = at(&list, "/items")
            .as_array()
            .unwrap_or_else(|| panic!("no items: {yaml}"))
            .iter()
            .filter_map(|item| item["metadata"]["name"].as_str())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["example-com", "ssa-zone"], "{yaml}");
        let example = list["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|i| i["metadata"]["name"] == "example-com")
            })
            .unwrap_or_else(|| panic!("example-com missing: {yaml}"));
        assert_eq!(example["spec"]["ttl"], 1800, "{yaml}");
        assert_eq!(example["kind"], "Zone", "{yaml}");

        // Short name and category.
        let by_short = k.ok(&["get", "zn"]);
        assert!(
            by_short.contains("example-com") && by_short.contains("ssa-zone"),
            "{by_short}"
        );
        let www = fixture("recordset-www.yaml");
        k.ok(&["apply", "-f", path_str(&www)]);
        let category = k.ok(&["get", "designate"]);
        assert!(
            category.contains("zone.designate.openstack.org/example-com"),
            "{category}"
        );
        assert!(
            category.contains("zone.designate.openstack.org/ssa-zone"),
            "{category}"
        );
        assert!(
            category.contains("recordset.designate.openstack.org/www-example-com-a"),
            "{category}"
        );
    });
}

/// (2) `kubectl delete` waits for finalizers: the controller's cleanup, and a
/// foreign finalizer that only goes when patched away.
#[test]
fn delete_waits_for_finalizers() {
    for_each_kubectl(|env| {
        let k = &env.kubectl;
        k.ok(&["apply", "-f", path_str(&fixture("zone-example-com.yaml"))]);
        wait_zone(env, "example-com", None, "ACTIVE");
        let out = k.ok(&["delete", "zone", "example-com", "--timeout=60s"]);
        assert!(
            out.contains("zone.designate.openstack.org \"example-com\" deleted"),
            "{out}"
        );
        // Returned only once the controller removed its finalizer: gone now.
        assert_not_found(&k.fail(&["get", "zone", "example-com"]), "example-com");

        // A foreign finalizer given in the manifest; the controller adds its own beside it.
        let held = env.write(
            "held.yaml",
            &zone_yaml("held", &format!("  finalizers:\n  - {HOLD}\n")),
        );
        k.ok(&["apply", "-f", path_str(&held)]);
        let zone = wait_zone(env, "held", None, "ACTIVE");
        assert!(finalizers(&zone).contains(&HOLD.to_string()), "{zone}");

        let out = k.ok(&["delete", "zone", "held", "--wait=false"]);
        assert!(out.contains("\"held\" deleted"), "{out}");
        let zone = k.get_json(&["zone", "held"]);
        assert!(
            at(&zone, "/metadata/deletionTimestamp").is_string(),
            "no deletionTimestamp: {zone}"
        );
        // The controller cleans up and drops its finalizer; ours holds the object.
        let zone = wait_for(
            CONTROLLER_TIMEOUT,
            "the controller to remove its finalizer from held",
            || {
                let zone = k.get_json(&["zone", "held"]);
                if finalizers(&zone) == [HOLD] {
                    Ok(zone)
                } else {
                    Err(zone.to_string())
                }
            },
        );
        assert!(
            at(&zone, "/metadata/deletionTimestamp").is_string(),
            "{zone}"
        );

        // A waiting delete blocks until the last finalizer goes.
        let mut waiting = k.spawn(
            &["delete", "zone", "held", "--timeout=60s"],
            &env.scratch,
            "delete-held",
        );
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(
            waiting.try_status(),
            None,
            "kubectl delete returned while a finalizer was still present; stdout: {} stderr: {}",
            waiting.stdout(),
            waiting.stderr()
        );
        k.ok(&[
            "patch",
            "zone",
            "held",
            "--type=json",
            "-p",
            &format!(r#"[{{"op":"test","path":"/metadata/finalizers/0","value":"{HOLD}"}},{{"op":"remove","path":"/metadata/finalizers/0"}}]"#),
        ]);
        let status = waiting.wait(Duration::from_secs(30)).unwrap_or_else(|| {
            panic!(
                "kubectl delete still waiting after the finalizer was removed: {}",
                waiting.stderr()
            )
        });
        assert!(
            status.success(),
            "waiting delete failed: {} {}",
            waiting.stdout(),
            waiting.stderr()
        );
        assert!(
            waiting.stdout().contains("\"held\" deleted"),
            "{}",
            waiting.stdout()
        );
        assert_not_found(&k.fail(&["get", "zone", "held"]), "held");

        // A foreign finalizer added with a JSON patch, removed with a merge patch.
        k.ok(&["apply", "-f", path_str(&fixture("zone-example-com.yaml"))]);
        wait_zone(env, "example-com", None, "ACTIVE");
        k.ok(&[
            "patch",
            "zone",
            "example-com",
            "--type=json",
            "-p",
            &format!(r#"[{{"op":"add","path":"/metadata/finalizers/-","value":"{HOLD}"}}]"#),
        ]);
        let zone = k.get_json(&["zone", "example-com"]);
        assert_eq!(finalizers(&zone), [FINALIZER, HOLD], "{zone}");
        k.ok(&["delete", "zone", "example-com", "--wait=false"]);
        let zone = wait_for(
            CONTROLLER_TIMEOUT,
            "example-com to be held by the foreign finalizer only",
            || {
                let zone = k.get_json(&["zone", "example-com"]);
                if finalizers(&zone) == [HOLD] {
                    Ok(zone)
                } else {
                    Err(zone.to_string())
                }
            },
        );
        assert!(
            at(&zone, "/metadata/deletionTimestamp").is_string(),
            "{zone}"
        );
        // Adding a new finalizer to an object being deleted is forbidden.
        let stderr = k.fail(&[
            "patch",
            "zone",
            "example-com",
            "--type=json",
            "-p",
            r#"[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/late"}]"#,
        ]);
        assert!(
            stderr.contains("Forbidden") || stderr.contains("forbidden"),
            "{stderr}"
        );
        k.ok(&[
            "patch",
            "zone",
            "example-com",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ]);
        let stderr = wait_for(Duration::from_secs(10), "example-com to disappear", || {
            let output = k.run(&["get", "zone", "example-com"]);
            if output.status.success() {
                Err(String::from_utf8_lossy(&output.stdout).into_owned())
            } else {
                Ok(String::from_utf8_lossy(&output.stderr).into_owned())
            }
        });
        assert_not_found(&stderr, "example-com");
    });
}

/// The `(type, name)` of every watch event kubectl printed, plus the objects.
fn watch_events(text: &str) -> Vec<(String, String, Value)> {
    json_stream(text)
        .into_iter()
        .map(|event| {
            let kind = event["type"].as_str().unwrap_or_default().to_string();
            let name = event["object"]["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (kind, name, event["object"].clone())
        })
        .collect()
}

/// (3) `kubectl get zones -w` sees later changes: event types in order with
/// `--output-watch-events -o json`, and rows again with a plain `-w`.
#[test]
fn watch_sees_changes() {
    for_each_kubectl(|env| {
        let k = &env.kubectl;
        k.ok(&["apply", "-f", path_str(&fixture("zone-example-com.yaml"))]);
        wait_zone(env, "example-com", None, "ACTIVE");

        let mut events = k.spawn(
            &["get", "zones", "-w", "-o", "json", "--output-watch-events"],
            &env.scratch,
            "watch-events",
        );
        let mut plain = k.spawn(&["get", "zones", "-w"], &env.scratch, "watch-plain");
        wait_for(
            Duration::from_secs(20),
            "the watchers' initial listing",
            || {
                let initial = watch_events(&events.stdout());
                let has_added = initial
                    .iter()
                    .any(|(t, n, _)| t == "ADDED" && n == "example-com");
                let rows = plain
                    .stdout()
                    .lines()
                    .filter(|l| l.starts_with("example-com "))
                    .count();
                if has_added && rows >= 1 {
                    Ok(())
                } else {
                    Err(format!(
                        "json: {} / plain: {} / stderr: {} {}",
                        events.stdout(),
                        plain.stdout(),
                        events.stderr(),
                        plain.stderr()
                    ))
                }
            },
        );
        let plain_rows_before = plain
            .stdout()
            .lines()
            .filter(|l| l.starts_with("example-com "))
            .count();

        k.ok(&["label", "zone", "example-com", "e2e=watched"]);
        let second = env.write("second.yaml", &zone_yaml("second", ""));
        k.ok(&["apply", "-f", path_str(&second)]);
        wait_zone(env, "second", None, "ACTIVE");
        k.ok(&["delete", "zone", "second", "--timeout=60s"]);

        let seen = wait_for(
            Duration::from_secs(20),
            "the watch events of label, apply and delete",
            || {
                let seen = watch_events(&events.stdout());
                if seen.iter().any(|(t, n, _)| t == "DELETED" && n == "second") {
                    Ok(seen)
                } else {
                    Err(events.stdout())
                }
            },
        );
        let position = |what: &str, check: &dyn Fn(&str, &str, &Value) -> bool| {
            seen.iter()
                .position(|(t, n, o)| check(t, n, o))
                .unwrap_or_else(|| {
                    panic!(
                        "no {what} event in {:#?}",
                        seen.iter().map(|(t, n, _)| (t, n)).collect::<Vec<_>>()
                    )
                })
        };
        let added = position("ADDED example-com", &|t, n, _| {
            t == "ADDED" && n == "example-com"
        });
        let labelled = position("MODIFIED example-com with the label", &|t, n, o| {
            t == "MODIFIED" && n == "example-com" && o["metadata"]["labels"]["e2e"] == "watched"
        });
        let second_added = position("ADDED second", &|t, n, _| t == "ADDED" && n == "second");
        let second_deleting = position("MODIFIED second with deletionTimestamp", &|t, n, o| {
            t == "MODIFIED" && n == "second" && o["metadata"]["deletionTimestamp"].is_string()
        });
        let second_deleted = position("DELETED second", &|t, n, _| t == "DELETED" && n == "second");
        assert!(
            added < labelled
                && labelled < second_added
                && second_added < second_deleting
                && second_deleting < second_deleted,
            "events out of order: {:?}",
            seen.iter().map(|(t, n, _)| (t, n)).collect::<Vec<_>>()
        );
        // Every event carries a resourceVersion, increasing along the stream
        // (after the initial ADDED of the listing).
        let rvs: Vec<u64> = seen.iter().map(|(_, _, o)| resource_version(o)).collect();
        assert!(
            rvs[added + 1..].windows(2).all(|w| w[0] < w[1]),
            "resourceVersions not increasing: {rvs:?}"
        );
        assert!(
            finalizers(&seen[second_deleted].2).is_empty(),
            "DELETED must carry the final state: {:?}",
            seen[second_deleted].2
        );

        wait_for(
            Duration::from_secs(20),
            "the plain watch to print example-com again",
            || {
                let rows = plain
                    .stdout()
                    .lines()
                    .filter(|l| l.starts_with("example-com "))
                    .count();
                if rows > plain_rows_before {
                    Ok(())
                } else {
                    Err(plain.stdout())
                }
            },
        );
        wait_for(
            Duration::from_secs(20),
            "the plain watch to print second",
            || {
                let out = plain.stdout();
                if out.lines().any(|l| l.starts_with("second ")) {
                    Ok(())
                } else {
                    Err(out)
                }
            },
        );
        assert_eq!(
            events.try_status(),
            None,
            "the JSON watch ended early: {}",
            events.stderr()
        );
        assert_eq!(
            plain.try_status(),
            None,
            "the plain watch ended early: {}",
            plain.stderr()
        );
        events.stop();
        plain.stop();
    });
}

/// Which field each invalid fixture is rejected for.
fn invalid_field(file: &str) -> Option<&'static str> {
    Some(match file {
        "pool-ns-record-priority-zero.yaml" => "spec.nsRecords[0].priority",
        "recordset-records-not-list.yaml" => "spec.records",
        "tld-name-with-trailing-dot.yaml" => "spec.name",
        "zone-missing-name.yaml" => "spec.name",
        "zone-name-without-trailing-dot.yaml" => "spec.name",
        "zone-ttl-string.yaml" => "spec.ttl",
        _ => return None,
    })
}

/// (4) Invalid manifests, unknown fields and unknown kinds are rejected and
/// leave the stored objects alone.
#[test]
fn bad_input_is_rejected() {
    for_each_kubectl(|env| {
        let k = &env.kubectl;
        k.ok(&["apply", "-f", path_str(&fixture("zone-example-com.yaml"))]);
        let before = wait_zone(env, "example-com", None, "ACTIVE");

        let dir = fixture("invalid");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        files.sort();
        assert!(
            files.len() >= 5,
            "expected the invalid fixtures in {}",
            dir.display()
        );
        for file in &files {
            let file_name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let field = invalid_field(file_name).unwrap_or_else(|| {
                panic!("add the field {file_name} is rejected for to invalid_field() in e2e/tests/kubectl.rs")
            });
            let manifest: Value =
                serde_yaml::from_str(&std::fs::read_to_string(file).unwrap_or_default())
                    .unwrap_or_else(|e| panic!("{file_name} is not YAML: {e}"));
            let kind = manifest["kind"].as_str().unwrap_or_default().to_lowercase();
            let name = manifest["metadata"]["name"].as_str().unwrap_or_default();
            let stderr = k.fail(&["apply", "-f", path_str(file)]);
            assert!(stderr.contains("is invalid"), "{file_name}: {stderr}");
            assert!(
                stderr.contains(&format!("{field}:")),
                "{file_name} should be rejected for {field}: {stderr}"
            );
            let stderr = k.fail(&["get", &kind, name]);
            assert_not_found(&stderr, name);
        }

        // Unknown fields: kubectl defaults to --validate=strict (fieldValidation=Strict).
        let bogus_zone = zone_with_ttl(3600).replace("  ttl: 3600\n", "  ttl: 3600\n  bogus: 1\n");
        assert!(bogus_zone.contains("bogus: 1"), "{bogus_zone}");
        let on_existing = env.write("bogus-existing.yaml", &bogus_zone);
        let stderr = k.fail(&["apply", "-f", path_str(&on_existing)]);
        assert!(
            stderr.contains(r#"unknown field "spec.bogus""#),
            "patch path: {stderr}"
        );
        let on_new = env.write(
            "bogus-new.yaml",
            &bogus_zone.replace("name: example-com", "name: bogus-zone"),
        );
        let stderr = k.fail(&["apply", "-f", path_str(&on_new)]);
        assert!(
            stderr.contains(r#"unknown field "spec.bogus""#),
            "create path: {stderr}"
        );
        assert_not_found(&k.fail(&["get", "zone", "bogus-zone"]), "bogus-zone");
        let stderr = k.fail(&["apply", "--server-side", "-f", path_str(&on_new)]);
        assert!(
            stderr.contains(r#"unknown field "spec.bogus""#),
            "server-side apply: {stderr}"
        );

        // Unknown kinds.
        let stderr = k.fail(&["get", "nosuchkind"]);
        assert!(
            stderr.contains(r#"the server doesn't have a resource type "nosuchkind""#),
            "{stderr}"
        );

        // Nothing changed: the same zones, the stored one at the same resourceVersion.
        let list = k.get_json(&["zones"]);
        let items = at(&list, "/items")
            .as_array()
            .unwrap_or_else(|| panic!("no items: {list}"));
        assert_eq!(items.len(), 1, "only example-com should exist: {list}");
        let after = &items[0];
        assert_eq!(at(after, "/metadata/name"), "example-com", "{list}");
        assert_eq!(
            resource_version(after),
            resource_version(&before),
            "example-com changed: {before} -> {after}"
        );
        assert_eq!(at(after, "/spec"), at(&before, "/spec"), "{after}");
        let list = k.get_json(&["recordsets"]);
        assert_eq!(
            at(&list, "/items").as_array().map(Vec::len),
            Some(0),
            "{list}"
        );
        // Only the pool standalone creates on first start.
        let list = k.get_json(&["pools"]);
        let pools: Vec<&Value> = at(&list, "/items")
            .as_array()
            .map(|items| items.iter().map(|p| at(p, "/metadata/name")).collect())
            .unwrap_or_default();
        assert_eq!(pools, ["default"], "{list}");

        // --validate=false sends fieldValidation=Ignore: the unknown field is pruned.
        let lenient = env.write(
            "lenient.yaml",
            &bogus_zone.replace("name: example-com", "name: lenient"),
        );
        k.ok(&["apply", "--validate=false", "-f", path_str(&lenient)]);
        let zone = k.get_json(&["zone", "lenient"]);
        assert!(
            at(&zone, "/spec/bogus").is_null(),
            "unknown field not pruned: {zone}"
        );
        assert_eq!(at(&zone, "/spec/ttl"), 3600, "{zone}");
    });
}

/// Rows of `kubectl get zones -A` as (namespace, name).
fn all_namespaces(k: &designate_e2e::Kubectl) -> Vec<(String, String)> {
    let table = k.ok(&["get", "zones", "-A"]);
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("NAMESPACE"), "{table}");
    let mut rows: Vec<(String, String)> = lines
        .filter_map(|line| {
            let mut cells = line.split_whitespace();
            Some((cells.next()?.to_string(), cells.next()?.to_string()))
        })
        .collect();
    rows.sort();
    rows
}

/// (5) Namespaced zones: `kubectl create namespace`, list across namespaces,
/// delete the namespace with its zone (through the controller's finalizer).
#[test]
fn namespaces() {
    for_each_kubectl(|env| {
        let out = env.kubectl.ok(&["create", "namespace", "tenant-a"]);
        assert!(out.contains("namespace/tenant-a created"), "{out}");
        namespace_lifecycle(env);
    });
}

/// (5b) The same with the namespace created from a manifest by `kubectl apply`
/// (JSON on the wire for every kubectl version; `kubectl create namespace`
/// sends protobuf from kubectl 1.32 on).
#[test]
fn namespaces_from_manifest() {
    for_each_kubectl(|env| {
        let manifest = env.write(
            "tenant-a.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tenant-a\n",
        );
        let out = env.kubectl.ok(&["apply", "-f", path_str(&manifest)]);
        assert!(out.contains("namespace/tenant-a created"), "{out}");
        let namespace = env.kubectl.get_json(&["namespace", "tenant-a"]);
        assert_eq!(at(&namespace, "/status/phase"), "Active", "{namespace}");
        namespace_lifecycle(env);
    });
}

/// Zones in `default` and the existing namespace `tenant-a`, then `tenant-a` deleted.
fn namespace_lifecycle(env: &Env) {
    {
        let k = &env.kubectl;
        let zone_file = fixture("zone-example-com.yaml");
        k.ok(&["apply", "-f", path_str(&zone_file)]);
        let out = k.ok(&["apply", "-n", "tenant-a", "-f", path_str(&zone_file)]);
        assert!(out.contains("example-com created"), "{out}");
        let in_default = wait_zone(env, "example-com", None, "ACTIVE");
        // The same name in another project: refused, as Designate does.
        let in_tenant = wait_zone(env, "example-com", Some("tenant-a"), "ERROR");
        assert_eq!(
            at(&in_tenant, "/status/conditions/0/reason"),
            "DuplicateZone",
            "{in_tenant}"
        );
        assert_eq!(
            at(&in_tenant, "/metadata/namespace"),
            "tenant-a",
            "{in_tenant}"
        );
        assert_ne!(
            at(&in_tenant, "/metadata/uid"),
            at(&in_default, "/metadata/uid")
        );

        assert_eq!(
            all_namespaces(k),
            [
                ("default".to_string(), "example-com".to_string()),
                ("tenant-a".to_string(), "example-com".to_string())
            ]
        );
        let list = k.get_json(&["zones", "-A"]);
        assert_eq!(
            at(&list, "/items").as_array().map(Vec::len),
            Some(2),
            "{list}"
        );
        let only_tenant = k.get_json(&["zones", "-n", "tenant-a"]);
        assert_eq!(
            at(&only_tenant, "/items").as_array().map(Vec::len),
            Some(1),
            "{only_tenant}"
        );

        // No namespace, no zone.
        let stderr = k.fail(&["apply", "-n", "no-such-ns", "-f", path_str(&zone_file)]);
        assert!(
            stderr.contains(r#"namespaces "no-such-ns" not found"#),
            "{stderr}"
        );

        let out = k.ok(&["delete", "namespace", "tenant-a", "--timeout=60s"]);
        assert!(out.contains("namespace \"tenant-a\" deleted"), "{out}");
        let stderr = wait_for(
            Duration::from_secs(30),
            "namespace tenant-a to disappear",
            || {
                let output = k.run(&["get", "ns", "tenant-a"]);
                if output.status.success() {
                    Err(String::from_utf8_lossy(&output.stdout).into_owned())
                } else {
                    Ok(String::from_utf8_lossy(&output.stderr).into_owned())
                }
            },
        );
        assert_not_found(&stderr, "tenant-a");
        let gone = k.run(&["get", "zone", "example-com", "-n", "tenant-a"]);
        assert!(!gone.status.success(), "the zone outlived its namespace");
        assert_eq!(
            all_namespaces(k),
            [("default".to_string(), "example-com".to_string())]
        );
        let zone = k.get_json(&["zone", "example-com"]);
        assert_eq!(
            at(&zone, "/metadata/uid"),
            at(&in_default, "/metadata/uid"),
            "{zone}"
        );
        assert!(at(&zone, "/metadata/deletionTimestamp").is_null(), "{zone}");
    }
}

/// `kubectl create secret|configmap` (protobuf bodies from kubectl ≥ 1.32):
/// the values come back intact, as the operator will read TSIG keys.
#[test]
fn create_secret_and_configmap() {
    for_each_kubectl(|env| {
        let out = env.kubectl.ok(&[
            "create",
            "secret",
            "generic",
            "tsig",
            "--from-literal=secret=s3cr3t!",
        ]);
        assert!(out.contains("secret/tsig created"), "{out}");
        let out = env.kubectl.ok(&[
            "create",
            "configmap",
            "cfg",
            "--from-literal=a=b",
            "--from-literal=c=d",
        ]);
        assert!(out.contains("configmap/cfg created"), "{out}");
        let secret = env.kubectl.get_json(&["secret", "tsig"]);
        assert_eq!(at(&secret, "/data/secret"), "czNjcjN0IQ==", "{secret}");
        assert_eq!(at(&secret, "/type"), "Opaque", "{secret}");
        let configmap = env.kubectl.get_json(&["configmap", "cfg"]);
        assert_eq!(
            at(&configmap, "/data"),
            &serde_json::json!({"a": "b", "c": "d"})
        );
        env.kubectl
            .fail(&["create", "configmap", "cfg", "--from-literal=a=x"]);
        assert_eq!(
            at(&env.kubectl.get_json(&["configmap", "cfg"]), "/data/a"),
            "b"
        );
    });
}
