//! Zone exports and imports (`/v2/zones/{id}/tasks/export`,
//! `/v2/zones/tasks/exports`, `/v2/zones/tasks/imports`) through REST in
//! noauth mode, with BIND behind the default pool:
//! - an export is `PENDING` as made, then `COMPLETE` with its zone file
//!   (`text/dns`, Designate's layout; another `Accept` is 406); another
//!   project sees neither the task nor the file;
//! - that file imported under another name makes the zone and its
//!   recordsets, which BIND answers;
//! - what Designate refuses: a file without `$ORIGIN` first (an `ERROR`
//!   task at once), `$INCLUDE`, an existing zone (`Duplicate zone.`), JSON
//!   without `zonefile` (400), another content type (415);
//! - tasks are `ZoneTask` objects kubectl shows; the zone an import fills
//!   is published once, after its recordsets (it carries the import's mark
//!   until then);
//! - the openstack CLI's `zone export create/showfile`, `zone import create`;
//! - an admin's abandon forgets a zone and leaves it on BIND; a member may
//!   not, and an abandon mark a kubectl user writes does nothing.
//!
//! Needs `cargo build -p designate-operator` first, and the OpenStack CLI
//! (`$DESIGNATE_OPENSTACK`, as `openstack_cli.rs`).

use std::time::Duration;

use designate_e2e::openstack::Cli;
use designate_e2e::{BindBacked, HttpResponse, dig, http_request, rest_request, wait_for};
use serde_json::{Value, json};

const SETTLED: Duration = Duration::from_secs(30);
const OWNER: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "tasks-owner"),
    ("X-Roles", "member,reader"),
];
const OTHER: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "tasks-other"),
    ("X-Roles", "member,reader"),
];

fn expect(answer: &HttpResponse, status: u16, what: &str) -> Value {
    assert_eq!(answer.status, status, "{what}: {}", answer.text());
    answer.json()
}

fn import(base: &str, content_type: &str, body: &str) -> HttpResponse {
    let headers = [OWNER[0], OWNER[1], ("Content-Type", content_type)];
    http_request(
        base,
        "POST",
        "/v2/zones/tasks/imports",
        &headers,
        Some(body.as_bytes()),
    )
    .unwrap()
}

/// Waits until an import ended and returns it.
fn ended(base: &str, id: &str) -> Value {
    let path = format!("/v2/zones/tasks/imports/{id}");
    wait_for(SETTLED, "the import to end", || {
        let task = rest_request(base, "GET", &path, &OWNER, None).json();
        (task["status"] != "PENDING")
            .then_some(task.clone())
            .ok_or(task.to_string())
    })
}

#[test]
fn zones_are_exported_and_imported_as_designate_does() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-zone-tasks-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let base = backed.rest.clone();
    let call = |method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>| {
        rest_request(&base, method, path, headers, body.as_ref())
    };

    let zone = expect(
        &call(
            "POST",
            "/v2/zones",
            &OWNER,
            Some(json!({"name": "export.example.org.", "email": "admin@example.org", "ttl": 600})),
        ),
        202,
        "zone create",
    );
    let zone_id = zone["id"].as_str().unwrap().to_string();
    let recordsets = format!("/v2/zones/{zone_id}/recordsets");
    for body in [
        json!({"name": "www.export.example.org.", "type": "A", "records": ["192.0.2.1", "192.0.2.2"], "ttl": 300}),
        json!({"name": "export.example.org.", "type": "MX", "records": ["10 mail.export.example.org."]}),
        json!({"name": "txt.export.example.org.", "type": "TXT", "records": ["\"hello world\""]}),
    ] {
        expect(
            &call("POST", &recordsets, &OWNER, Some(body)),
            202,
            "recordset",
        );
    }

    // The export: PENDING as made, then COMPLETE with its file.
    let made = expect(
        &call(
            "POST",
            &format!("/v2/zones/{zone_id}/tasks/export"),
            &OWNER,
            None,
        ),
        202,
        "export create",
    );
    assert_eq!(
        (
            made["status"].as_str(),
            made["version"].as_i64(),
            made["location"].as_null()
        ),
        (Some("PENDING"), Some(1), Some(())),
        "{made}"
    );
    let export_path = format!("/v2/zones/tasks/exports/{}", made["id"].as_str().unwrap());
    let shown = expect(&call("GET", &export_path, &OWNER, None), 200, "export show");
    assert_eq!(
        (
            shown["status"].as_str(),
            shown["zone_id"].as_str(),
            shown["version"].as_i64()
        ),
        (Some("COMPLETE"), Some(zone_id.as_str()), Some(2)),
        "{shown}"
    );
    assert_eq!(
        shown["location"].as_str(),
        Some(format!("designate:/{export_path}/export").as_str())
    );
    let file_path = format!("{export_path}/export");
    let file = http_request(
        &base,
        "GET",
        &file_path,
        &[OWNER[0], OWNER[1], ("Accept", "text/dns")],
        None,
    )
    .unwrap();
    assert_eq!(file.status, 200, "{}", file.text());
    assert_eq!(file.header("content-type"), Some("text/dns; charset=UTF-8"));
    let text = file.text();
    assert!(
        text.starts_with("$ORIGIN export.example.org.\n$TTL 600\n\n"),
        "{text}"
    );
    for line in [
        "export.example.org.  IN SOA ",
        "export.example.org.  IN NS ",
        "www.export.example.org. 300 IN A 192.0.2.1\n",
        "www.export.example.org. 300 IN A 192.0.2.2\n",
        "export.example.org.  IN MX 10 mail.export.example.org.\n",
        "txt.export.example.org.  IN TXT \"hello world\"\n",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    let jpeg = http_request(
        &base,
        "GET",
        &file_path,
        &[OWNER[0], OWNER[1], ("Accept", "image/jpeg")],
        None,
    )
    .unwrap();
    assert_eq!(jpeg.status, 406, "{}", jpeg.text());
    assert_eq!(
        call("GET", &export_path, &OTHER, None).json()["type"],
        "zone_export_not_found"
    );
    let others_file = http_request(
        &base,
        "GET",
        &file_path,
        &[OTHER[0], OTHER[1], ("Accept", "text/dns")],
        None,
    )
    .unwrap();
    assert_eq!(others_file.status, 404, "{}", others_file.text());
    let listed = expect(
        &call("GET", "/v2/zones/tasks/exports", &OWNER, None),
        200,
        "exports",
    );
    assert_eq!(listed["exports"].as_array().unwrap().len(), 1, "{listed}");

    // The file imported under another name: zone and records, served.
    let copy = text.replace("export.example.org.", "copy.example.org.");
    let task = expect(&import(&base, "text/dns", &copy), 202, "import");
    assert_eq!(task["status"], "PENDING", "{task}");
    let done = ended(&base, task["id"].as_str().unwrap());
    assert_eq!(
        (done["status"].as_str(), done["message"].as_str()),
        (Some("COMPLETE"), Some("copy.example.org. imported")),
        "{done}"
    );
    let copy_id = done["zone_id"].as_str().unwrap();
    assert_eq!(
        done["links"]["zone"].as_str(),
        Some(format!("{base}/v2/zones/{copy_id}").as_str())
    );
    let copied = expect(
        &call("GET", &format!("/v2/zones/{copy_id}"), &OWNER, None),
        200,
        "imported zone",
    );
    // The email from the SOA's rname, the TTL from the file's `$TTL`.
    assert_eq!(
        (copied["email"].as_str(), copied["ttl"].as_i64()),
        (Some("admin@example.org"), Some(600))
    );
    let bind = backed.nameserver.dns_addr();
    wait_for(SETTLED, "BIND answering the imported records", || {
        let (rcode, mut answers) = dig(bind, "www.copy.example.org.", "A");
        answers.sort();
        (rcode == "NOERROR" && answers == ["192.0.2.1", "192.0.2.2"])
            .then_some(())
            .ok_or(format!("{rcode} {answers:?}"))
    });
    let mx = expect(
        &call(
            "GET",
            &format!("/v2/zones/{copy_id}/recordsets?type=MX"),
            &OWNER,
            None,
        ),
        200,
        "imported MX",
    );
    assert_eq!(
        mx["recordsets"][0]["records"],
        json!(["10 mail.copy.example.org."])
    );

    // What Designate refuses.
    let bad = expect(
        &import(&base, "text/dns", "this is not a zone file\n"),
        202,
        "bad file",
    );
    assert_eq!(
        (bad["status"].as_str(), bad["message"].as_str()),
        (
            Some("ERROR"),
            Some(
                "The $ORIGIN statement is required and must be the first statement in the zonefile."
            )
        ),
        "{bad}"
    );
    let include = expect(
        &import(
            &base,
            "text/dns",
            "$ORIGIN inc.example.org.\n$INCLUDE /etc/passwd\n",
        ),
        202,
        "include",
    );
    assert_eq!(include["message"], "Malformed zonefile.");
    let again = expect(&import(&base, "text/dns", &copy), 202, "import again");
    let again = ended(&base, again["id"].as_str().unwrap());
    assert_eq!(
        (again["status"].as_str(), again["message"].as_str()),
        (Some("ERROR"), Some("Duplicate zone.")),
        "{again}"
    );
    let missing = import(&base, "application/json", r#"{"zone": "x"}"#);
    assert_eq!(
        (missing.status, missing.json()["message"].as_str()),
        (
            400,
            Some("The \"zonefile\" field is required when using application/json content type")
        )
    );
    assert_eq!(import(&base, "text/plain", &copy).status, 415);
    let imports = expect(
        &call("GET", "/v2/zones/tasks/imports", &OWNER, None),
        200,
        "imports",
    );
    assert_eq!(imports["imports"].as_array().unwrap().len(), 4, "{imports}");
    let others = expect(
        &call("GET", "/v2/zones/tasks/imports", &OTHER, None),
        200,
        "other's",
    );
    assert_eq!(others["imports"], json!([]));

    // Tasks are objects kubectl shows.
    let tasks = backed.kubectl.get_json(&["zonetasks", "-A"]);
    assert_eq!(tasks["items"].as_array().unwrap().len(), 5, "{tasks}");

    // The openstack CLI, as an admin for the owner.
    let cli = Cli::noauth(&base, tmp.path(), "admin");
    let sudo = ["--sudo-project-id", "tasks-owner", "-f", "json"];
    let export = cli.json(
        &[
            &["zone", "export", "create", "export.example.org."][..],
            &sudo,
        ]
        .concat(),
    );
    let export_id = export["id"].as_str().unwrap();
    let shown = cli.json(&[&["zone", "export", "showfile", export_id][..], &sudo].concat());
    assert!(
        shown["data"]
            .as_str()
            .unwrap_or_default()
            .contains("www.export.example.org. 300 IN A"),
        "{shown}"
    );
    let zonefile = tmp.path().join("cli.zone");
    std::fs::write(
        &zonefile,
        text.replace("export.example.org.", "cli.example.org."),
    )
    .unwrap();
    let imported = cli.json(
        &[
            &["zone", "import", "create", zonefile.to_str().unwrap()][..],
            &sudo,
        ]
        .concat(),
    );
    let done = ended(&base, imported["id"].as_str().unwrap());
    assert_eq!(done["status"], "COMPLETE", "{done}");
}

/// Waits until BIND answers `name` A with `want` (empty: not served).
fn served(backed: &BindBacked, name: &str, want: &[&str]) {
    let bind = backed.nameserver.dns_addr();
    wait_for(SETTLED, &format!("{name} A {want:?} on BIND"), || {
        let (rcode, answers) = dig(bind, name, "A");
        let ok = if want.is_empty() {
            rcode == "REFUSED" || rcode == "NXDOMAIN" || rcode == "SERVFAIL"
        } else {
            rcode == "NOERROR" && answers == want
        };
        ok.then_some(()).ok_or(format!("{rcode} {answers:?}"))
    });
}

#[test]
fn an_abandoned_zone_is_forgotten_and_left_on_its_nameservers() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-abandon-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let base = backed.rest.clone();
    let admin = [("X-Auth-Project-ID", "tasks-owner"), ("X-Roles", "admin")];
    let make = |name: &str| {
        let zone = expect(
            &rest_request(
                &base,
                "POST",
                "/v2/zones",
                &OWNER,
                Some(&json!({"name": name, "email": "admin@example.org"})),
            ),
            202,
            "zone create",
        );
        let id = zone["id"].as_str().unwrap().to_string();
        expect(
            &rest_request(
                &base,
                "POST",
                &format!("/v2/zones/{id}/recordsets"),
                &OWNER,
                Some(
                    &json!({"name": format!("www.{name}"), "type": "A", "records": ["192.0.2.9"]}),
                ),
            ),
            202,
            "recordset",
        );
        served(&backed, &format!("www.{name}"), &["192.0.2.9"]);
        id
    };

    let kept = make("kept.example.org.");
    let abandon = format!("/v2/zones/{kept}/tasks/abandon");
    let refused = rest_request(&base, "POST", &abandon, &OWNER, None);
    assert_eq!(
        (refused.status, refused.json()["type"].as_str()),
        (403, Some("forbidden"))
    );
    let done = rest_request(&base, "POST", &abandon, &admin, None);
    assert_eq!(done.status, 204, "{}", done.text());
    wait_for(SETTLED, "the abandoned zone gone", || {
        let answer = rest_request(&base, "GET", &format!("/v2/zones/{kept}"), &OWNER, None);
        (answer.status == 404).then_some(()).ok_or(answer.text())
    });
    // Gone from the API and the cluster, still on BIND.
    let zones = backed.kubectl.get_json(&["zones", "-A"]);
    assert_eq!(zones["items"], json!([]), "{zones}");
    served(&backed, "www.kept.example.org.", &["192.0.2.9"]);

    // A mark a kubectl user writes is no abandon: the zone leaves BIND.
    let forged = make("forged.example.org.");
    let namespace = backed.kubectl.get_json(&["zones", "-A"])["items"][0]["metadata"]["namespace"]
        .as_str()
        .unwrap()
        .to_string();
    backed.kubectl.ok(&[
        "annotate",
        "zone",
        "forged.example.org",
        "-n",
        &namespace,
        &format!(
            "designate.openstack.org/abandon-signature={}",
            "0".repeat(64)
        ),
    ]);
    let deleted = rest_request(
        &base,
        "DELETE",
        &format!("/v2/zones/{forged}"),
        &OWNER,
        None,
    );
    assert_eq!(deleted.status, 202, "{}", deleted.text());
    served(&backed, "www.forged.example.org.", &[]);
}

#[test]
fn a_zone_marked_as_being_imported_is_published_once_unmarked() {
    // The mark an import puts on the zone it fills, written by kubectl: the
    // zone waits for it to go, then is published with every recordset.
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-importing-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(tmp.path(), &[]);
    let kubectl = &backed.kubectl;
    kubectl.ok(&["create", "namespace", "importer"]);
    let file = tmp.path().join("importing.yaml");
    std::fs::write(
        &file,
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: importing.example.org\n  namespace: importer\n  annotations:\n    designate.openstack.org/importing: a-task\nspec:\n  name: importing.example.org.\n  email: admin@example.org\n---\napiVersion: designate.openstack.org/v1alpha1\nkind: Recordset\nmetadata:\n  name: www\n  namespace: importer\nspec:\n  zoneRef: importing.example.org\n  name: www.importing.example.org.\n  type: A\n  records: [\"192.0.2.7\"]\n",
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
    // Unmarked, it would be served within a few hundred milliseconds.
    std::thread::sleep(Duration::from_secs(3));
    let zone = kubectl.get_json(&["zone", "importing.example.org", "-n", "importer"]);
    assert_eq!(
        zone["status"],
        Value::Null,
        "not published while marked: {zone}"
    );
    served(&backed, "www.importing.example.org.", &[]);
    kubectl.ok(&[
        "annotate",
        "zone",
        "importing.example.org",
        "-n",
        "importer",
        "designate.openstack.org/importing-",
    ]);
    served(&backed, "www.importing.example.org.", &["192.0.2.7"]);
}

/// Imports `file` as `caller` and returns the zone's id once the import
/// ended COMPLETE.
fn import_as(base: &str, caller: &[(&str, &str); 2], file: &str) -> String {
    let headers = [caller[0], caller[1], ("Content-Type", "text/dns")];
    let made = http_request(
        base,
        "POST",
        "/v2/zones/tasks/imports",
        &headers,
        Some(file.as_bytes()),
    )
    .unwrap();
    let task = expect(&made, 202, "import");
    let path = format!("/v2/zones/tasks/imports/{}", task["id"].as_str().unwrap());
    let done = wait_for(Duration::from_secs(300), "the import to end", || {
        let task = rest_request(base, "GET", &path, caller, None).json();
        (task["status"] != "PENDING")
            .then_some(task.clone())
            .ok_or(task.to_string())
    });
    assert_eq!(done["status"], "COMPLETE", "{done}");
    done["zone_id"].as_str().unwrap().to_string()
}

/// The zone file an export of the zone gives `caller`.
fn export_as(base: &str, caller: &[(&str, &str); 2], zone_id: &str) -> String {
    let made = rest_request(
        base,
        "POST",
        &format!("/v2/zones/{zone_id}/tasks/export"),
        caller,
        None,
    );
    let task = expect(&made, 202, "export");
    let path = format!(
        "/v2/zones/tasks/exports/{}/export",
        task["id"].as_str().unwrap()
    );
    let file = http_request(
        base,
        "GET",
        &path,
        &[caller[0], caller[1], ("Accept", "text/dns")],
        None,
    )
    .unwrap();
    assert_eq!(file.status, 200, "{}", file.text());
    file.text()
}

/// A zone file's records but its SOA (whose serial is the exporter's), as
/// a set.
fn records_of(file: &str) -> std::collections::BTreeSet<String> {
    file.lines()
        .filter(|line| {
            !line.starts_with('$') && !line.trim().is_empty() && !line.contains(" IN SOA ")
        })
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The round trip's zone size.
const RECORDS: usize = 10_000;

#[test]
fn a_large_zone_round_trips_through_export_and_import() {
    // A large zone file is past oslo.middleware's default body limit and
    // Designate's default quotas, as in Designate: raised as a Designate
    // operator would.
    let (_tmp, _standalone, base) = designate_e2e::start_rest(
        "designate-e2e-round-trip-",
        &[
            "--max-request-body-size",
            "2000000",
            "--quota-zone-recordsets",
            "20000",
            "--quota-zone-records",
            "20000",
            "--quota-api-export-size",
            "20000",
        ],
    );
    let zone = "round-trip.example.org.";
    let mut file = format!(
        "$ORIGIN {zone}\n$TTL 300\n@ IN SOA ns1.example.net. admin.{zone} 1 3600 600 86400 300\n@ IN NS ns1.example.net.\n"
    );
    for i in 0..RECORDS {
        file.push_str(&format!("host{i} 300 IN A 10.0.{}.{}\n", i / 256, i % 256));
    }
    let first_id = import_as(&base, &OWNER, &file);
    let first = export_as(&base, &OWNER, &first_id);
    let records = records_of(&first);
    assert_eq!(records.len(), RECORDS + 1, "every A record and the NS");
    // Into another project: the zone's name is free once it is deleted.
    let deleted = rest_request(
        &base,
        "DELETE",
        &format!("/v2/zones/{first_id}"),
        &OWNER,
        None,
    );
    assert_eq!(deleted.status, 202, "{}", deleted.text());
    wait_for(SETTLED, "the zone gone", || {
        let status =
            rest_request(&base, "GET", &format!("/v2/zones/{first_id}"), &OWNER, None).status;
        (status == 404).then_some(()).ok_or(status.to_string())
    });
    let second_id = import_as(&base, &OTHER, &first);
    let second = export_as(&base, &OTHER, &second_id);
    assert_eq!(
        records_of(&second),
        records,
        "the same records after the round trip"
    );
}
