//! Central through the kubectl user path, on each database: Zones and
//! Recordsets applied with kubectl are validated, published into storage
//! with serials and marked ACTIVE; refusals (duplicate zone, invalid record,
//! quota) show as conditions and publish nothing; deletes unpublish; a killed
//! operator converges after a restart; 64 concurrent writers to one zone
//! leave every recordset published under strictly increasing serials.
//! Needs `cargo build -p designate-operator` first.

use std::path::Path;
use std::time::Duration;

use designate_e2e::{Kubectl, Standalone, at, kubectl_versions, wait_for};
use designate_storage::testing::{Backend, TestDatabase};
use designate_storage::{Storage, StoredZone};
use serde_json::Value;

const CONTROLLER_TIMEOUT: Duration = Duration::from_secs(30);

/// One operator on one database, driven with the newest kubectl (the
/// kubectl matrix itself is covered by `kubectl.rs`).
struct World {
    kubectl: Kubectl,
    standalone: Standalone,
    storage: Storage,
    runtime: tokio::runtime::Runtime,
    scratch: std::path::PathBuf,
    database_url: String,
    _database: Option<TestDatabase>,
    _tmp: tempfile::TempDir,
}

impl World {
    fn start(backend: Backend) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let tmp = tempfile::Builder::new()
            .prefix("designate-e2e-central-")
            .tempdir()
            .unwrap();
        let data_dir = tmp.path().join("data");
        let database = match backend {
            Backend::Sqlite => None,
            other => Some(
                runtime
                    .block_on(TestDatabase::create(other))
                    .unwrap_or_else(|e| panic!("creating a {other:?} database: {e}")),
            ),
        };
        let database_url = match &database {
            Some(db) => db.url().to_string(),
            None => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("designate.db").display()
            ),
        };
        let standalone = Standalone::try_start_with(&data_dir, &["--database-url", &database_url])
            .unwrap_or_else(|e| panic!("starting standalone: {e:#}"));
        let storage = runtime
            .block_on(Storage::connect(&database_url))
            .unwrap_or_else(|e| panic!("opening {database_url}: {e}"));
        let (_, bin) = kubectl_versions().pop().expect("a kubectl");
        let kubectl = Kubectl::new(bin, standalone.kubeconfig(), tmp.path().join("kube-cache"));
        let scratch = tmp.path().join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        Self {
            kubectl,
            standalone,
            storage,
            runtime,
            scratch,
            database_url,
            _database: database,
            _tmp: tmp,
        }
    }

    fn apply(&self, name: &str, yaml: &str) -> String {
        let path = self.scratch.join(name);
        std::fs::write(&path, yaml).unwrap();
        self.kubectl.ok(&["apply", "-f", path_str(&path)])
    }

    fn restart(&mut self) {
        self.standalone.stop();
        let data_dir = self.standalone.data_dir().to_path_buf();
        self.standalone =
            Standalone::try_start_with(&data_dir, &["--database-url", &self.database_url])
                .unwrap_or_else(|e| panic!("restarting standalone: {e:#}"));
        self.kubectl.kubeconfig = self.standalone.kubeconfig().to_path_buf();
    }

    fn get(&self, kind: &str, name: &str, ns: &str) -> Value {
        self.kubectl.get_json(&[kind, name, "-n", ns])
    }

    /// Waits until the controller settled `kind/name` for its generation
    /// with `status` and returns the object.
    fn settled(&self, kind: &str, name: &str, ns: &str, status: &str) -> Value {
        wait_for(
            CONTROLLER_TIMEOUT,
            &format!("{kind} {ns}/{name} to be {status}"),
            || {
                let object = self.get(kind, name, ns);
                if at(&object, "/status/status") == status
                    && at(&object, "/status/observedGeneration")
                        == at(&object, "/metadata/generation")
                {
                    Ok(object)
                } else {
                    Err(at(&object, "/status").to_string())
                }
            },
        )
    }

    fn stored(&self, zone: &Value) -> Option<StoredZone> {
        let uid = at(zone, "/metadata/uid").as_str().unwrap().to_string();
        self.runtime.block_on(self.storage.load_zone(&uid)).unwrap()
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn zone_yaml(object: &str, ns: &str, fqdn: &str) -> String {
    format!(
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: {object}\n  namespace: {ns}\nspec:\n  name: {fqdn}\n  email: admin@{}\n  ttl: 3600\n",
        fqdn.trim_end_matches('.')
    )
}

fn recordset_yaml(
    object: &str,
    ns: &str,
    zone: &str,
    fqdn: &str,
    type_: &str,
    records: &[&str],
) -> String {
    let records: String = records.iter().map(|r| format!("  - {r:?}\n")).collect();
    format!(
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Recordset\nmetadata:\n  name: {object}\n  namespace: {ns}\nspec:\n  zoneRef: {zone}\n  name: {fqdn}\n  type: {type_}\n  records:\n{records}"
    )
}

fn serial(object: &Value) -> i64 {
    at(object, "/status/serial")
        .as_i64()
        .unwrap_or_else(|| panic!("no serial in {object}"))
}

fn ready_condition(object: &Value) -> (String, String, String) {
    let conditions = at(object, "/status/conditions")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ready = conditions
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap_or_else(|| panic!("no Ready condition in {object}"));
    let text = |k: &str| ready[k].as_str().unwrap_or_default().to_string();
    (text("status"), text("reason"), text("message"))
}

/// The published records of `name`/`type_` in a stored zone.
fn published(zone: &StoredZone, name: &str, type_: &str) -> Option<Vec<String>> {
    zone.rrsets
        .iter()
        .find(|r| r.rrset.name == name && r.rrset.type_ == type_)
        .map(|r| r.rrset.records.clone())
}

/// The value of one sample in a Prometheus text exposition (0 if absent).
fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The Zone controller's reconciles so far, whatever their outcome.
fn zone_reconciles(metrics: &str) -> f64 {
    metrics
        .lines()
        .filter_map(|line| {
            line.strip_prefix(r#"designate_controller_reconciles_total{controller="zone","#)
        })
        .filter_map(|rest| rest.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// [`zone_reconciles`] as the controllers' metrics show them now.
fn reconciled_zones(w: &World) -> f64 {
    zone_reconciles(&w.kubectl.ok(&["get", "--raw", "/metrics"]))
}

fn scenario(backend: Backend) {
    let mut w = World::start(backend);
    let k = &w.kubectl;
    for ns in ["tenant-a", "tenant-b"] {
        k.ok(&["create", "namespace", ns]);
    }

    // A zone and its recordsets become ACTIVE with a serial, and are stored.
    w.apply(
        "zone.yaml",
        &zone_yaml("example-com", "tenant-a", "example.com."),
    );
    w.apply(
        "www.yaml",
        &recordset_yaml(
            "www",
            "tenant-a",
            "example-com",
            "www.example.com.",
            "A",
            &["192.0.2.1", "192.0.2.2"],
        ),
    );
    w.apply(
        "mx.yaml",
        &recordset_yaml(
            "mx",
            "tenant-a",
            "example-com",
            "example.com.",
            "MX",
            &["10 mail.example.com."],
        ),
    );
    let www = w.settled("recordset", "www", "tenant-a", "ACTIVE");
    w.settled("recordset", "mx", "tenant-a", "ACTIVE");
    let zone = w.settled("zone", "example-com", "tenant-a", "ACTIVE");
    let first_serial = serial(&zone);
    assert!(serial(&www) <= first_serial);
    assert_eq!(ready_condition(&zone).0, "True");
    let stored = w.stored(&zone).expect("zone in storage");
    assert_eq!(stored.serial, first_serial);
    assert_eq!(stored.zone.project, "tenant-a");
    assert_eq!(
        published(&stored, "www.example.com.", "A").unwrap(),
        vec!["192.0.2.1", "192.0.2.2"]
    );
    assert_eq!(
        published(&stored, "example.com.", "MX").unwrap(),
        vec!["10 mail.example.com."]
    );
    assert_eq!(
        published(&stored, "example.com.", "NS").unwrap(),
        vec!["ns1.example.org."]
    );
    let soa = published(&stored, "example.com.", "SOA").unwrap();
    assert!(
        soa[0].starts_with(&format!(
            "ns1.example.org. admin.example.com. {first_serial} "
        )),
        "{soa:?}"
    );

    // An update bumps the serial and replaces the stored records.
    w.apply(
        "www.yaml",
        &recordset_yaml(
            "www",
            "tenant-a",
            "example-com",
            "www.example.com.",
            "A",
            &["192.0.2.3"],
        ),
    );
    let www = wait_for(CONTROLLER_TIMEOUT, "the update to be published", || {
        let www = w.settled("recordset", "www", "tenant-a", "ACTIVE");
        if serial(&www) > first_serial {
            Ok(www)
        } else {
            Err(www.to_string())
        }
    });
    let zone = w.settled("zone", "example-com", "tenant-a", "ACTIVE");
    assert_eq!(serial(&zone), serial(&www));
    let stored = w.stored(&zone).unwrap();
    assert_eq!(
        published(&stored, "www.example.com.", "A").unwrap(),
        vec!["192.0.2.3"]
    );

    // A pool change reaches its zones: a second NS record is published at
    // the apex under a new serial.
    let before = serial(&zone);
    w.kubectl.ok(&[
        "patch",
        "pool",
        "default",
        "--type=merge",
        "-p",
        r#"{"spec":{"nsRecords":[{"hostname":"ns1.example.org.","priority":1},{"hostname":"ns2.example.org.","priority":2}]}}"#,
    ]);
    let zone = wait_for(
        CONTROLLER_TIMEOUT,
        "the pool's NS records in the zone",
        || {
            let zone = w.settled("zone", "example-com", "tenant-a", "ACTIVE");
            let ns = published(&w.stored(&zone).unwrap(), "example.com.", "NS");
            if serial(&zone) > before
                && ns == Some(vec!["ns1.example.org.".into(), "ns2.example.org.".into()])
            {
                Ok(zone)
            } else {
                Err(format!("serial {} NS {ns:?}", serial(&zone)))
            }
        },
    );
    assert_eq!(w.stored(&zone).unwrap().serial, serial(&zone));

    // The same name in another project: DuplicateZone, nothing published.
    w.apply(
        "dup.yaml",
        &zone_yaml("example-com", "tenant-b", "example.com."),
    );
    let dup = w.settled("zone", "example-com", "tenant-b", "ERROR");
    let (ok, reason, _) = ready_condition(&dup);
    assert_eq!((ok.as_str(), reason.as_str()), ("False", "DuplicateZone"));
    assert!(w.stored(&dup).is_none());
    assert!(at(&dup, "/status/serial").is_null());

    // An invalid record: a condition naming the record and the reason; the
    // zone and its other recordsets carry on.
    w.apply(
        "bad.yaml",
        &recordset_yaml(
            "bad",
            "tenant-a",
            "example-com",
            "bad.example.com.",
            "A",
            &["192.0.2.9", "300.1.2.3"],
        ),
    );
    let bad = w.settled("recordset", "bad", "tenant-a", "ERROR");
    let (ok, reason, message) = ready_condition(&bad);
    assert_eq!((ok.as_str(), reason.as_str()), ("False", "InvalidRecord"));
    assert!(
        message.contains("records[1]") && message.contains("300.1.2.3"),
        "{message}"
    );
    let zone = w.settled("zone", "example-com", "tenant-a", "ACTIVE");
    assert!(published(&w.stored(&zone).unwrap(), "bad.example.com.", "A").is_none());

    // Over the records-per-recordset quota (Designate's default: 20).
    let many: Vec<String> = (1..=21).map(|i| format!("192.0.2.{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    w.apply(
        "big.yaml",
        &recordset_yaml(
            "big",
            "tenant-a",
            "example-com",
            "big.example.com.",
            "A",
            &many,
        ),
    );
    let big = w.settled("recordset", "big", "tenant-a", "ERROR");
    assert_eq!(ready_condition(&big).1, "OverQuota");
    assert!(published(&w.stored(&zone).unwrap(), "big.example.com.", "A").is_none());

    // A recordset of a zone that does not exist says so (not a zone's
    // reconcile: the Recordset controller's).
    w.apply(
        "stray.yaml",
        &recordset_yaml(
            "stray",
            "tenant-b",
            "stray-org",
            "www.stray.org.",
            "A",
            &["192.0.2.77"],
        ),
    );
    let stray = w.settled("recordset", "stray", "tenant-b", "PENDING");
    let (ok, reason, message) = ready_condition(&stray);
    assert_eq!((ok.as_str(), reason.as_str()), ("False", "ZoneNotFound"));
    assert!(message.contains("stray-org"), "{message}");

    // A restart converges to the same state with no change to storage and,
    // the statuses being current, no write to the API either.
    let before = w.stored(&zone).unwrap();
    w.restart();
    let metrics = wait_for(CONTROLLER_TIMEOUT, "the zones to be reconciled", || {
        let metrics = w.kubectl.ok(&["get", "--raw", "/metrics"]);
        match metric(
            &metrics,
            r#"designate_controller_reconciles_total{controller="zone",outcome="unchanged"}"#,
        ) {
            n if n >= 2.0 => Ok(metrics),
            _ => Err(metrics),
        }
    });
    assert_eq!(
        metric(
            &metrics,
            r#"designate_controller_api_writes_total{controller="zone"}"#
        ),
        0.0,
        "{metrics}"
    );
    // Every request was admitted; none waits.
    assert!(
        metrics
            .lines()
            .any(|line| line == r#"designate_controller_waiting{controller="zone"} 0"#),
        "{metrics}"
    );
    let zone = w.settled("zone", "example-com", "tenant-a", "ACTIVE");
    w.settled("recordset", "bad", "tenant-a", "ERROR");
    assert_eq!(w.stored(&zone).unwrap(), before);

    // A change plans its zone when it comes (and when the nameservers serve
    // it, if they were not done then); the controller's own status writes
    // (the zone's, the recordset's) come back from the watch and plan it
    // no more.
    let unchanged = |w: &World| {
        metric(
            &w.kubectl.ok(&["get", "--raw", "/metrics"]),
            r#"designate_controller_reconciles_total{controller="zone",outcome="unchanged"}"#,
        )
    };
    let before = (unchanged(&w), reconciled_zones(&w));
    let changes = 5;
    for i in 0..changes {
        let name = format!("echo{i}");
        w.apply(
            &format!("{name}.yaml"),
            &recordset_yaml(
                &name,
                "tenant-a",
                "example-com",
                &format!("{name}.example.com."),
                "A",
                &["192.0.2.50"],
            ),
        );
        w.settled("recordset", &name, "tenant-a", "ACTIVE");
        w.settled("zone", "example-com", "tenant-a", "ACTIVE");
    }
    std::thread::sleep(Duration::from_secs(1));
    let (unplanned, planned) = (unchanged(&w) - before.0, reconciled_zones(&w) - before.1);
    eprintln!("{changes} changes: {planned} zone reconciles, {unplanned} unchanged");
    // A zone's own timer may fire meanwhile; the echoes were one or two a
    // change.
    assert!(
        unplanned <= 1.0,
        "{unplanned} unchanged zone reconciles of {planned} for {changes} changes"
    );

    // A Pool's status alone is no change of the pool (a bulk load moves
    // its zoneCount with every zone): none of its zones is replanned for
    // it, while a change of the pool itself replans them all.
    let zones = w.kubectl.get_json(&["zones", "-A"]);
    let pooled = at(&zones, "/items").as_array().map_or(0, Vec::len) as f64;
    assert!(pooled >= 2.0, "{zones}");
    let unpatched = reconciled_zones(&w);
    w.kubectl.ok(&[
        "patch",
        "pool",
        "default",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"zoneCount":1000000}}"#,
    ]);
    std::thread::sleep(Duration::from_secs(2));
    // A zone's own timer may fire meanwhile; the pool's would move all.
    assert!(
        reconciled_zones(&w) - unpatched < pooled,
        "{} zone reconciles after a Pool status patch",
        reconciled_zones(&w) - unpatched
    );
    let annotated = reconciled_zones(&w);
    w.kubectl
        .ok(&["annotate", "pool", "default", "e2e.example/touched=yes"]);
    wait_for(
        CONTROLLER_TIMEOUT,
        "the pool's zones to be replanned",
        || match reconciled_zones(&w) - annotated {
            n if n >= pooled => Ok(()),
            n => Err(format!("{n} zone reconciles")),
        },
    );

    // Deleting a recordset unpublishes it; deleting the zone removes it all.
    w.kubectl
        .ok(&["delete", "recordset", "mx", "-n", "tenant-a"]);
    wait_for(
        CONTROLLER_TIMEOUT,
        "the MX recordset to leave storage",
        || {
            let stored = w.stored(&zone).unwrap();
            match published(&stored, "example.com.", "MX") {
                None => Ok(()),
                Some(records) => Err(format!("{records:?}")),
            }
        },
    );
    w.kubectl.ok(&[
        "delete",
        "zone",
        "example-com",
        "-n",
        "tenant-a",
        "--timeout=30s",
    ]);
    assert!(w.stored(&zone).is_none());
    wait_for(CONTROLLER_TIMEOUT, "the zone's recordsets to go", || {
        let left = w.kubectl.get_json(&["recordsets", "-n", "tenant-a"]);
        match at(&left, "/items").as_array().map(Vec::len) {
            Some(0) => Ok(()),
            _ => Err(left.to_string()),
        }
    });
    // With the first owner gone, tenant-b's zone is published on its next try.
    let dup = w.settled("zone", "example-com", "tenant-b", "ACTIVE");
    assert!(w.stored(&dup).is_some());

    // The stray recordset's zone, created after it, publishes it.
    w.apply(
        "stray-zone.yaml",
        &zone_yaml("stray-org", "tenant-b", "stray.org."),
    );
    let stray = w.settled("recordset", "stray", "tenant-b", "ACTIVE");
    assert_eq!(ready_condition(&stray).0, "True");
    let zone = w.settled("zone", "stray-org", "tenant-b", "ACTIVE");
    assert_eq!(
        published(&w.stored(&zone).unwrap(), "www.stray.org.", "A").unwrap(),
        vec!["192.0.2.77"]
    );
}

#[test]
fn central_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn central_on_mariadb() {
    scenario(Backend::MySql);
}

#[test]
fn central_on_postgres() {
    scenario(Backend::Postgres);
}

/// A client of the operator's API for recordsets of `tenant-c`.
fn recordsets_api(w: &World) -> kube::Api<designate_crd::Recordset> {
    let kubeconfig = kube::config::Kubeconfig::read_from(w.standalone.kubeconfig()).unwrap();
    let config = w
        .runtime
        .block_on(kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &Default::default(),
        ))
        .unwrap();
    let client = w
        .runtime
        .block_on(async { kube::Client::try_from(config) })
        .unwrap();
    kube::Api::namespaced(client, "tenant-c")
}

/// The `i`th writer's recordset in zone `busy`, at its `version`.
fn host(i: usize, version: usize) -> designate_crd::Recordset {
    designate_crd::Recordset::new(
        &format!("host-{i}"),
        designate_crd::RecordsetSpec {
            zone_ref: "busy".into(),
            name: format!("host-{i}.busy.example."),
            type_: "A".into(),
            records: vec![format!("10.{version}.0.{i}")],
            ..Default::default()
        },
    )
}

/// 64 clients write recordsets in one zone at once; the operator is killed
/// (SIGKILL) in the middle and started again. Every recordset ends up
/// published as last written, each at a serial of the zone's history, and
/// the history's serials strictly increase.
fn concurrent_writers(backend: Backend) {
    use kube::api::{Patch, PatchParams, PostParams};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const WRITERS: usize = 64;
    const VERSIONS: usize = 4;
    let mut w = World::start(backend);
    w.kubectl.ok(&["create", "namespace", "tenant-c"]);
    w.apply("zone.yaml", &zone_yaml("busy", "tenant-c", "busy.example."));
    let zone = w.settled("zone", "busy", "tenant-c", "ACTIVE");
    let base = serial(&zone);

    // Each writer creates its recordset, then replaces its records a few
    // times. Halfway through all those writes the operator dies; writers cut
    // off apply their final state to the restarted one.
    let answered = Arc::new(AtomicUsize::new(0));
    let writes = {
        let api = recordsets_api(&w);
        let answered = answered.clone();
        w.runtime.spawn(async move {
            let writes = (0..WRITERS).map(|i| {
                let (api, answered) = (api.clone(), answered.clone());
                async move {
                    if api
                        .create(&PostParams::default(), &host(i, 0))
                        .await
                        .is_err()
                    {
                        return false;
                    }
                    answered.fetch_add(1, Ordering::SeqCst);
                    for version in 1..VERSIONS {
                        let records = host(i, version).spec.records;
                        let patch = Patch::Merge(serde_json::json!({"spec": {"records": records}}));
                        if api
                            .patch(&format!("host-{i}"), &PatchParams::default(), &patch)
                            .await
                            .is_err()
                        {
                            return false;
                        }
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    true
                }
            });
            futures::future::join_all(writes).await
        })
    };
    while answered.load(Ordering::SeqCst) < WRITERS * VERSIONS / 2 {
        std::thread::sleep(Duration::from_millis(1));
    }
    w.standalone.kill();
    let finished = w.runtime.block_on(writes).unwrap();
    w.restart();
    let api = recordsets_api(&w);
    let cut_off: Vec<usize> = (0..WRITERS).filter(|i| !finished[*i]).collect();
    eprintln!("{} writers cut off by the crash", cut_off.len());
    for i in cut_off {
        let apply = PatchParams::apply("e2e-writer").force();
        w.runtime
            .block_on(api.patch(
                &format!("host-{i}"),
                &apply,
                &Patch::Apply(host(i, VERSIONS - 1)),
            ))
            .unwrap_or_else(|e| panic!("host-{i}: {e}"));
    }

    let recordsets = wait_for(CONTROLLER_TIMEOUT, "every recordset to be ACTIVE", || {
        let list = w.kubectl.get_json(&["recordsets", "-n", "tenant-c"]);
        let items = at(&list, "/items").as_array().cloned().unwrap_or_default();
        let active = items
            .iter()
            .filter(|rs| {
                at(rs, "/status/status") == "ACTIVE"
                    && at(rs, "/status/observedGeneration") == at(rs, "/metadata/generation")
            })
            .count();
        if items.len() == WRITERS && active == WRITERS {
            Ok(items)
        } else {
            Err(format!("{active} of {} ACTIVE", items.len()))
        }
    });
    let zone = w.settled("zone", "busy", "tenant-c", "ACTIVE");
    let stored = w.stored(&zone).unwrap();
    assert_eq!(stored.serial, serial(&zone));
    for i in 0..WRITERS {
        assert_eq!(
            published(&stored, &format!("host-{i}.busy.example."), "A"),
            Some(host(i, VERSIONS - 1).spec.records),
            "host-{i}"
        );
    }

    let uid = at(&zone, "/metadata/uid").as_str().unwrap().to_string();
    let history = w
        .runtime
        .block_on(w.storage.changes_since(&uid, base))
        .unwrap()
        .expect("history back to the zone's creation");
    let serials: Vec<i64> = history.iter().map(|v| v.serial).collect();
    eprintln!(
        "{WRITERS} recordsets published in {} versions",
        serials.len()
    );
    assert!(
        serials.windows(2).all(|pair| pair[0] < pair[1]) && serials[0] > base,
        "serials not strictly increasing: {serials:?}"
    );
    assert_eq!(serials.last(), Some(&stored.serial));
    for rs in &recordsets {
        assert!(
            serials.contains(&serial(rs)),
            "{} at serial {} outside the history {serials:?}",
            at(rs, "/metadata/name"),
            serial(rs)
        );
    }
}

#[test]
fn concurrent_writers_on_sqlite() {
    concurrent_writers(Backend::Sqlite);
}

#[test]
fn concurrent_writers_on_mariadb() {
    concurrent_writers(Backend::MySql);
}

#[test]
fn concurrent_writers_on_postgres() {
    concurrent_writers(Backend::Postgres);
}
