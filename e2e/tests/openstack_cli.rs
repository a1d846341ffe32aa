//! The real OpenStack CLI (python-openstackclient with the designate plugin)
//! against the REST API of `designate-operator standalone`, in noauth mode
//! (`--os-auth-type none --os-endpoint <rest>/v2`: the client sends no
//! project header, so the project is `noauth-project`): zone create, list,
//! show, set; recordset create, list, show, set, delete; zone delete. The
//! default Pool targets a real BIND9, and `dig` against it answers what the
//! CLI made.
//!
//! `openstack_cli_with_keystone_password_auth`: the same CLI with Keystone
//! password auth against a standalone that validates tokens with the
//! conformance Keystone (`../shared/conformance`), the dns endpoint found in
//! the catalog (a region of the test's own): members, readers and admins of
//! projects made for the test, with `--all-projects` and
//! `--sudo-project-id`.
//!
//! The CLI is `$DESIGNATE_OPENSTACK`, else `openstack` on PATH (`.ci/run`
//! installs it into a virtualenv); the Keystone test prefers the
//! conformance virtualenv's before PATH. Needs `cargo build -p
//! designate-operator` first.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use designate_e2e::keystone::{self, Keystone};
use designate_e2e::openstack::{Auth, Cli, Run, openstack_bin};
use designate_e2e::{BindBacked, Standalone, dig};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(30);
const ZONE: &str = "cli-e2e.org.";
const WWW: &str = "www.cli-e2e.org.";

/// Differences found, by CLI step; reported together at the end.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, step: &str, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let line = format!("{step}: {}", what());
            eprintln!("MISMATCH {line}");
            self.0.push(line);
        }
    }

    /// The JSON output of a run that must succeed; `None` (and a finding) if not.
    fn json(&mut self, step: &str, run: &Run) -> Option<Value> {
        if !run.ok {
            self.0
                .push(format!("{step}: command failed\n{}", run.describe()));
            return None;
        }
        let value = run.json();
        if value.is_none() {
            self.0
                .push(format!("{step}: output is not JSON\n{}", run.describe()));
        }
        value
    }

    /// `field` of `object` equals `want`.
    fn field(&mut self, step: &str, object: &Value, field: &str, want: &Value) {
        let got = &object[field];
        self.check(step, got == want, || {
            format!("{field}: expected {want}, got {got} in {object}")
        });
    }

    /// Status and action of a change just made: PENDING with `action`, or
    /// ACTIVE/NONE when it was already applied.
    fn in_flight(&mut self, step: &str, object: &Value, action: &str) {
        let pair = (object["status"].as_str(), object["action"].as_str());
        let ok = pair == (Some("PENDING"), Some(action)) || pair == (Some("ACTIVE"), Some("NONE"));
        self.check(step, ok, || {
            format!("status/action: expected PENDING/{action} or ACTIVE/NONE, got {pair:?}")
        });
    }
}

/// The records of CLI output (a newline-joined string, or a list), sorted.
fn records(value: &Value) -> Vec<String> {
    let mut list: Vec<String> = match value {
        Value::String(text) => text.lines().map(str::to_string).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    list.sort();
    list
}

/// Waits until BIND answers `want` (rcode, answers) for www; a finding if not.
fn served(findings: &mut Findings, step: &str, bind: SocketAddr, want: (&str, &[&str])) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let (status, answers) = dig(bind, WWW, "A");
        if status == want.0 && answers == want.1 {
            return;
        }
        if Instant::now() >= deadline {
            findings.check(step, false, || {
                format!(
                    "dig @{bind} {WWW} A: expected {want:?}, got ({status}, {answers:?}) after {TIMEOUT:?}"
                )
            });
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `zone show` until it reports `status`; the last output.
fn zone_until(cli: &Cli, status: &str) -> Option<Value> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let run = cli.run(&["zone", "show", ZONE, "-f", "json"]);
        let zone = run.json();
        if zone.as_ref().is_some_and(|z| z["status"] == status) || Instant::now() >= deadline {
            return zone;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn openstack_cli_manages_zones_served_by_bind() {
    let bin = openstack_bin();
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-cli-")
        .tempdir()
        .unwrap();
    // The default pool (the CLI names none) on the real BIND.
    let world = BindBacked::start(
        tmp.path(),
        &["--propagation-timeout", "10s", "--heal-interval", "1s"],
    );
    let (rest, bind) = (world.rest.clone(), &world.nameserver);
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let cli = Cli {
        bin,
        auth: Auth::None {
            endpoint: format!("{rest}/v2"),
        },
        home,
        who: "noauth".to_string(),
    };
    let mut findings = Findings::default();

    // zone create
    let step = "zone create";
    let run = cli.run(&[
        "zone",
        "create",
        "--email",
        "admin@cli-e2e.org",
        "--ttl",
        "3600",
        "--description",
        "made by the CLI",
        ZONE,
        "-f",
        "json",
    ]);
    let Some(zone) = findings.json(step, &run) else {
        panic!(
            "the CLI could not create a zone:\n{}",
            findings.0.join("\n")
        );
    };
    for (field, want) in [
        ("name", Value::from(ZONE)),
        ("email", "admin@cli-e2e.org".into()),
        ("ttl", 3600.into()),
        ("description", "made by the CLI".into()),
        ("type", "PRIMARY".into()),
        ("project_id", "noauth-project".into()),
    ] {
        findings.field(step, &zone, field, &want);
    }
    findings.in_flight(step, &zone, "CREATE");
    let zone_id = zone["id"].as_str().unwrap_or_default().to_string();

    // zone show (by name), until BIND serves it
    let step = "zone show";
    let shown = zone_until(&cli, "ACTIVE");
    findings.check(
        step,
        shown.as_ref().is_some_and(|z| z["status"] == "ACTIVE"),
        || format!("expected ACTIVE within {TIMEOUT:?}, got {shown:?}"),
    );
    if let Some(shown) = &shown {
        findings.field(step, shown, "id", &Value::from(zone_id.as_str()));
        findings.field(step, shown, "action", &"NONE".into());
    }

    // zone list
    let step = "zone list";
    let run = cli.run(&["zone", "list", "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        let rows = list.as_array().cloned().unwrap_or_default();
        findings.check(step, rows.len() == 1, || {
            format!("expected 1 zone, got {list}")
        });
        if let Some(row) = rows.first() {
            for (field, want) in [
                ("id", Value::from(zone_id.as_str())),
                ("name", ZONE.into()),
                ("type", "PRIMARY".into()),
                ("status", "ACTIVE".into()),
                ("action", "NONE".into()),
            ] {
                findings.field(step, row, field, &want);
            }
        }
    }

    // zone set
    let step = "zone set";
    let run = cli.run(&[
        "zone",
        "set",
        ZONE,
        "--ttl",
        "600",
        "--description",
        "updated by the CLI",
        "-f",
        "json",
    ]);
    if let Some(updated) = findings.json(step, &run) {
        findings.field(step, &updated, "ttl", &600.into());
        findings.field(step, &updated, "description", &"updated by the CLI".into());
        findings.in_flight(step, &updated, "UPDATE");
    }
    let shown = zone_until(&cli, "ACTIVE");
    if let Some(shown) = &shown {
        findings.field("zone show after set", shown, "ttl", &600.into());
    }

    // recordset create (the zone by name)
    let step = "recordset create";
    let run = cli.run(&[
        "recordset",
        "create",
        ZONE,
        "www",
        "--type",
        "A",
        "--record",
        "192.0.2.1",
        "--record",
        "192.0.2.2",
        "--ttl",
        "300",
        "-f",
        "json",
    ]);
    let recordset = findings.json(step, &run);
    let mut rs_id = String::new();
    if let Some(rs) = &recordset {
        findings.field(step, rs, "name", &WWW.into());
        findings.field(step, rs, "type", &"A".into());
        findings.field(step, rs, "ttl", &300.into());
        findings.field(step, rs, "zone_id", &Value::from(zone_id.as_str()));
        findings.check(
            step,
            records(&rs["records"]) == ["192.0.2.1", "192.0.2.2"],
            || {
                format!(
                    "records: expected 192.0.2.1, 192.0.2.2, got {}",
                    rs["records"]
                )
            },
        );
        findings.in_flight(step, rs, "CREATE");
        rs_id = rs["id"].as_str().unwrap_or_default().to_string();
    }
    served(
        &mut findings,
        "dig after recordset create",
        bind.dns_addr(),
        ("NOERROR", &["192.0.2.1", "192.0.2.2"]),
    );

    // recordset list
    let step = "recordset list";
    let run = cli.run(&["recordset", "list", ZONE, "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        let mut rows: Vec<(String, String)> = list
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default().to_string(),
                    r["type"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        rows.sort();
        let want: Vec<(String, String)> = [(ZONE, "NS"), (ZONE, "SOA"), (WWW, "A")]
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        findings.check(step, rows == want, || {
            format!("expected {want:?}, got {rows:?}")
        });
        if let Some(www) = list
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["name"] == WWW))
        {
            findings.check(
                step,
                records(&www["records"]) == ["192.0.2.1", "192.0.2.2"],
                || format!("www records: got {}", www["records"]),
            );
        }
    }

    // recordset show (by name)
    let step = "recordset show";
    let run = cli.run(&["recordset", "show", ZONE, WWW, "-f", "json"]);
    if let Some(rs) = findings.json(step, &run) {
        findings.field(step, &rs, "id", &Value::from(rs_id.as_str()));
        findings.field(step, &rs, "ttl", &300.into());
        findings.check(
            step,
            records(&rs["records"]) == ["192.0.2.1", "192.0.2.2"],
            || format!("records: got {}", rs["records"]),
        );
        findings.check(
            step,
            matches!(rs["status"].as_str(), Some("ACTIVE" | "PENDING")),
            || format!("status: got {}", rs["status"]),
        );
    }

    // recordset set
    let step = "recordset set";
    let run = cli.run(&[
        "recordset",
        "set",
        ZONE,
        &rs_id,
        "--record",
        "192.0.2.3",
        "--ttl",
        "120",
        "-f",
        "json",
    ]);
    if let Some(rs) = findings.json(step, &run) {
        findings.field(step, &rs, "ttl", &120.into());
        findings.check(step, records(&rs["records"]) == ["192.0.2.3"], || {
            format!("records: expected 192.0.2.3, got {}", rs["records"])
        });
        findings.in_flight(step, &rs, "UPDATE");
    }
    served(
        &mut findings,
        "dig after recordset set",
        bind.dns_addr(),
        ("NOERROR", &["192.0.2.3"]),
    );

    // recordset delete
    let step = "recordset delete";
    let run = cli.run(&["recordset", "delete", ZONE, &rs_id, "-f", "json"]);
    if let Some(rs) = findings.json(step, &run) {
        let pair = (rs["status"].as_str(), rs["action"].as_str());
        findings.check(step, pair == (Some("PENDING"), Some("DELETE")), || {
            format!("status/action: expected PENDING/DELETE, got {pair:?}")
        });
    }
    served(
        &mut findings,
        "dig after recordset delete",
        bind.dns_addr(),
        ("NXDOMAIN", &[]),
    );
    let step = "recordset show after delete";
    let deadline = Instant::now() + TIMEOUT;
    let gone = loop {
        let run = cli.run(&["recordset", "show", ZONE, &rs_id, "-f", "json"]);
        if !run.ok || Instant::now() >= deadline {
            break run;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    findings.check(
        step,
        !gone.ok && gone.stderr.contains("Could not find RecordSet"),
        || format!("expected `Could not find RecordSet`\n{}", gone.describe()),
    );

    // zone delete
    let step = "zone delete";
    let run = cli.run(&["zone", "delete", ZONE, "-f", "json"]);
    if let Some(deleted) = findings.json(step, &run) {
        let pair = (deleted["status"].as_str(), deleted["action"].as_str());
        findings.check(step, pair == (Some("PENDING"), Some("DELETE")), || {
            format!("status/action: expected PENDING/DELETE, got {pair:?}")
        });
    }
    let step = "zone list after delete";
    let deadline = Instant::now() + TIMEOUT;
    let listed = loop {
        let run = cli.run(&["zone", "list", "-f", "json"]);
        let empty = run
            .json()
            .is_some_and(|l| l.as_array().is_some_and(Vec::is_empty));
        if empty || Instant::now() >= deadline {
            break run;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    findings.check(
        step,
        listed.json().is_some_and(|l| l == Value::Array(Vec::new())),
        || {
            format!(
                "expected no zones within {TIMEOUT:?}\n{}",
                listed.describe()
            )
        },
    );
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        let (status, _) = dig(bind.dns_addr(), ZONE, "SOA");
        if status != "NOERROR" || Instant::now() >= deadline {
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    findings.check("dig after zone delete", status != "NOERROR", || {
        format!("BIND still serves {ZONE} after {TIMEOUT:?} (dig SOA: {status})")
    });

    assert!(
        findings.0.is_empty(),
        "{} difference(s) through the OpenStack CLI:\n{}",
        findings.0.len(),
        findings.0.join("\n")
    );
}

/// The `openstack` executable for the Keystone test: `$DESIGNATE_OPENSTACK`,
/// else the conformance virtualenv's, else `openstack` on PATH.
fn keystone_openstack_bin() -> PathBuf {
    if std::env::var_os("DESIGNATE_OPENSTACK").is_none()
        && let Some(bin) = keystone::conformance_venv_bin("openstack")
    {
        return bin;
    }
    openstack_bin()
}

/// Whether a failed run says the server refused with 403.
fn forbidden(run: &Run) -> bool {
    !run.ok
        && (run.stderr.contains("403")
            || run.stderr.contains("Forbidden")
            || run.stderr.contains("not authorized"))
}

/// The ids of the rows of a CLI list.
fn row_ids(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn openstack_cli_with_keystone_password_auth() {
    const ZONE: &str = "keystone-cli-e2e.org.";
    let started = Instant::now();
    let bin = keystone_openstack_bin();
    let keystone = Keystone::admin();
    let a = keystone.create_project("e2e-cli-a");
    let b = keystone.create_project("e2e-cli-b");
    let admins = keystone.create_project("e2e-cli-admins");
    let member_a = keystone.user_with_role("e2e-cli-member-a", &a, "member");
    let reader_a = keystone.user_with_role("e2e-cli-reader-a", &a, "reader");
    let member_b = keystone.user_with_role("e2e-cli-member-b", &b, "member");
    let admin = keystone.user_with_role("e2e-cli-admin", &admins, "admin");
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-cli-keystone-")
        .tempdir()
        .unwrap();
    let args = keystone::standalone_args(keystone.url(), tmp.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let standalone = Standalone::try_start_with(&tmp.path().join("data"), &args)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let rest = standalone.wait_rest_url();
    // The CLI finds the dns endpoint in the catalog. The catalog is shared
    // (tempest points RegionOne's dns endpoints elsewhere): this test's own
    // region, deleted with its endpoint when the test ends.
    let region = keystone.create_region("RegionE2E");
    let dns = keystone.service_id("dns");
    keystone.create_endpoint(&dns, &region, "public", &rest);
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let cli = |who: &str, user: &keystone::User, project: &keystone::Project| Cli {
        bin: bin.clone(),
        auth: Auth::Password {
            env: [
                ("OS_AUTH_URL", keystone.url()),
                ("OS_IDENTITY_API_VERSION", "3"),
                ("OS_USERNAME", user.name.as_str()),
                ("OS_PASSWORD", user.password.as_str()),
                ("OS_PROJECT_NAME", project.name.as_str()),
                ("OS_USER_DOMAIN_NAME", "Default"),
                ("OS_PROJECT_DOMAIN_NAME", "Default"),
                ("OS_REGION_NAME", region.as_str()),
                ("OS_INTERFACE", "public"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        },
        home: home.clone(),
        who: who.to_string(),
    };
    let owner = cli("member of A", &member_a, &a);
    let stranger = cli("member of B", &member_b, &b);
    let reader = cli("reader of A", &reader_a, &a);
    let root = cli("admin", &admin, &admins);
    let mut findings = Findings::default();

    // A member of A creates a zone and a recordset and lists them.
    let step = "zone create (member of A)";
    let run = owner.run(&[
        "zone",
        "create",
        "--email",
        "hostmaster@keystone-cli-e2e.org",
        ZONE,
        "-f",
        "json",
    ]);
    let Some(zone) = findings.json(step, &run) else {
        panic!(
            "the CLI could not create a zone with a Keystone token:\n{}",
            findings.0.join("\n")
        );
    };
    findings.field(step, &zone, "name", &ZONE.into());
    findings.field(step, &zone, "project_id", &Value::from(a.id.as_str()));
    let zone_id = zone["id"].as_str().unwrap_or_default().to_string();

    let step = "recordset create (member of A)";
    let run = owner.run(&[
        "recordset",
        "create",
        ZONE,
        "www",
        "--type",
        "A",
        "--record",
        "192.0.2.1",
        "-f",
        "json",
    ]);
    let mut www_id = String::new();
    if let Some(rs) = findings.json(step, &run) {
        findings.field(step, &rs, "name", &"www.keystone-cli-e2e.org.".into());
        findings.field(step, &rs, "zone_id", &Value::from(zone_id.as_str()));
        www_id = rs["id"].as_str().unwrap_or_default().to_string();
    }

    let step = "zone list (member of A)";
    let run = owner.run(&["zone", "list", "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        let ids = row_ids(&list);
        findings.check(step, ids == [zone_id.clone()], || {
            format!("expected only {zone_id}, got {list}")
        });
    }
    let step = "recordset list (member of A)";
    let run = owner.run(&["recordset", "list", ZONE, "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        findings.check(step, row_ids(&list).contains(&www_id), || {
            format!("expected www ({www_id}) among {list}")
        });
    }

    // A member of B sees nothing of A.
    let step = "zone show (member of B)";
    let run = stranger.run(&["zone", "show", &zone_id, "-f", "json"]);
    findings.check(
        step,
        !run.ok && run.stderr.contains("Could not find Zone"),
        || format!("expected `Could not find Zone` (404)\n{}", run.describe()),
    );
    let step = "zone list (member of B)";
    let run = stranger.run(&["zone", "list", "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        findings.check(step, list == Value::Array(Vec::new()), || {
            format!("expected no zones, got {list}")
        });
    }

    // A reader of A reads and does not write.
    let step = "zone list (reader of A)";
    let run = reader.run(&["zone", "list", "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        findings.check(step, row_ids(&list).contains(&zone_id), || {
            format!("expected {zone_id} among {list}")
        });
    }
    let step = "zone create (reader of A)";
    let run = reader.run(&[
        "zone",
        "create",
        "--email",
        "hostmaster@reader.org",
        "reader-keystone-cli-e2e.org.",
        "-f",
        "json",
    ]);
    findings.check(step, forbidden(&run), || {
        format!("expected a 403 failure\n{}", run.describe())
    });
    let step = "recordset create (reader of A)";
    let run = reader.run(&[
        "recordset",
        "create",
        ZONE,
        "reader",
        "--type",
        "A",
        "--record",
        "192.0.2.2",
        "-f",
        "json",
    ]);
    findings.check(step, forbidden(&run), || {
        format!("expected a 403 failure\n{}", run.describe())
    });

    // An admin (of another project) spans projects and acts for A.
    let step = "zone list --all-projects (admin)";
    let run = root.run(&["zone", "list", "--all-projects", "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        findings.check(step, row_ids(&list).contains(&zone_id), || {
            format!("expected {zone_id} among {list}")
        });
    }
    let step = "zone list (admin, own project)";
    let run = root.run(&["zone", "list", "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        findings.check(step, !row_ids(&list).contains(&zone_id), || {
            format!("expected no {zone_id} without --all-projects, got {list}")
        });
    }
    let step = "recordset create --sudo-project-id A (admin)";
    let run = root.run(&[
        "recordset",
        "create",
        "--sudo-project-id",
        &a.id,
        &zone_id,
        "by-admin",
        "--type",
        "A",
        "--record",
        "192.0.2.9",
        "-f",
        "json",
    ]);
    let mut by_admin = String::new();
    if let Some(rs) = findings.json(step, &run) {
        findings.field(step, &rs, "zone_id", &Value::from(zone_id.as_str()));
        findings.field(step, &rs, "name", &"by-admin.keystone-cli-e2e.org.".into());
        by_admin = rs["id"].as_str().unwrap_or_default().to_string();
    }
    let step = "recordset list after the admin's (member of A)";
    let run = owner.run(&["recordset", "list", ZONE, "-f", "json"]);
    if let Some(list) = findings.json(step, &run) {
        findings.check(step, row_ids(&list).contains(&by_admin), || {
            format!("expected the admin's recordset {by_admin} among {list}")
        });
    }

    // The member of A cleans up.
    let step = "recordset delete (member of A)";
    let run = owner.run(&["recordset", "delete", ZONE, &www_id, "-f", "json"]);
    if let Some(rs) = findings.json(step, &run) {
        findings.field(step, &rs, "action", &"DELETE".into());
    }
    let step = "zone delete (member of A)";
    let run = owner.run(&["zone", "delete", ZONE, "-f", "json"]);
    if let Some(deleted) = findings.json(step, &run) {
        findings.field(step, &deleted, "action", &"DELETE".into());
    }
    let step = "zone list after delete (member of A)";
    let deadline = Instant::now() + TIMEOUT;
    let listed = loop {
        let run = owner.run(&["zone", "list", "-f", "json"]);
        // Gone, or on its way out.
        let done = run.json().is_some_and(|list| {
            list.as_array().is_some_and(|rows| {
                rows.iter()
                    .all(|row| row["id"] != zone_id.as_str() || row["action"] == "DELETE")
            })
        });
        if done || Instant::now() >= deadline {
            break run;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    findings.check(
        step,
        listed.json().is_some_and(|list| {
            list.as_array().is_some_and(|rows| {
                rows.iter()
                    .all(|row| row["id"] != zone_id.as_str() || row["action"] == "DELETE")
            })
        }),
        || {
            format!(
                "expected the zone gone or being deleted\n{}",
                listed.describe()
            )
        },
    );
    drop(standalone);
    keystone.cleanup();
    eprintln!("openstack CLI with Keystone: {:?}", started.elapsed());
    assert!(
        findings.0.is_empty(),
        "{} difference(s) through the OpenStack CLI with Keystone:\n{}",
        findings.0.len(),
        findings.0.join("\n")
    );
}
