//! Per-project quotas (`/v2/quotas`, the `Quota` kind) end to end:
//! - REST in noauth mode: Designate's recorded quota steps (admin cases
//!   127-132) answered exactly, the policies, `X-Auth-All-Projects` and
//!   sudo, the answers as `Quota` objects kubectl shows;
//! - enforcement: a quota of one zone refuses the second zone by REST
//!   (413 `over_quota`) and marks the second kubectl-applied Zone
//!   `OverQuota`; raising it lets the zone in; the recordset quotas on
//!   both paths; `/v2/limits` shows the caller's quotas;
//! - the real `openstack dns quota set/list/reset` commands;
//! - with Keystone: a project Keystone does not know gets no quotas
//!   (`quotas_verify_project_id`).
//!
//! Needs `cargo build -p designate-operator` first, the OpenStack CLI
//! (`$DESIGNATE_OPENSTACK`, as `openstack_cli.rs`) and the conformance
//! Keystone (`keystone.rs`) for the last test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use designate_e2e::keystone::{self, Keystone};
use designate_e2e::openstack::Cli;
use designate_e2e::{HttpResponse, Kubectl, Standalone, at, kubectl_for, start_rest, wait_for};
use designate_e2e::{http_request, rest_request};
use serde_json::{Value, json};

/// How long the controllers may take to settle a zone.
const SETTLE: Duration = Duration::from_secs(60);

/// The quotas of the recording's Designate (its `[DEFAULT] quota_*`).
const RECORDED_DEFAULTS: &[&str] = &[
    "--quota-zones",
    "100000",
    "--quota-zone-recordsets",
    "100000",
    "--quota-zone-records",
    "100000",
    "--quota-recordset-records",
    "100",
    "--quota-api-export-size",
    "100000",
];

fn golden_admin_dir() -> PathBuf {
    let dir = std::env::var_os("DESIGNATE_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden"));
    let admin = dir.join("admin");
    assert!(
        admin.is_dir(),
        "no golden recordings at {} (set DESIGNATE_GOLDEN_DIR)",
        admin.display()
    );
    admin
}

fn expect_error(answer: &HttpResponse, status: u16, kind: &str, what: &str) -> String {
    let body = answer.json();
    assert_eq!(
        (answer.status, body["code"].as_u64(), body["type"].as_str()),
        (status, Some(u64::from(status)), Some(kind)),
        "{what}: expected {status} {kind}, got {} {body}",
        answer.status
    );
    body["message"].as_str().unwrap_or_default().to_string()
}

fn quotas(answer: &HttpResponse, what: &str) -> Value {
    assert_eq!(answer.status, 200, "{what}: {}", answer.text());
    answer.json()
}

fn defaults() -> Value {
    json!({"zones": 10, "zone_recordsets": 500, "zone_records": 500,
           "recordset_records": 20, "api_export_size": 1000})
}

fn zone_body(name: &str) -> Value {
    json!({"name": name, "email": format!("hostmaster@{}", name.trim_end_matches('.'))})
}

// ---------------------------------------------------------------------------
// The API

#[test]
fn quotas_answer_as_designate_recorded_them() {
    let (tmp, standalone, base) = start_rest("designate-e2e-quotas-golden-", RECORDED_DEFAULTS);
    let kubectl = kubectl_for(&standalone, tmp.path());
    let dir = golden_admin_dir();
    for case in [
        "127-quota-get.json",
        "128-quota-get-other.json",
        "129-quota-update.json",
        "130-quota-get-after-update.json",
        "131-quota-update-invalid.json",
        "132-quota-reset.json",
    ] {
        let text = std::fs::read_to_string(dir.join(case)).unwrap();
        let step: Value = serde_json::from_str(&text).unwrap();
        let request = &step["request"];
        let headers: Vec<(&str, &str)> = request["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let body = (!request["body"].is_null()).then(|| request["body"].to_string());
        let answer = http_request(
            &base,
            request["method"].as_str().unwrap(),
            request["path"].as_str().unwrap(),
            &headers,
            body.as_deref().map(str::as_bytes),
        )
        .unwrap();
        let recorded = &step["response"];
        assert_eq!(
            u64::from(answer.status),
            recorded["status"].as_u64().unwrap(),
            "{case}: {}",
            answer.text()
        );
        if recorded["body"].is_object() {
            let mut ours = answer.json();
            let mut want = recorded["body"].clone();
            for body in [&mut ours, &mut want] {
                if let Some(body) = body.as_object_mut() {
                    body.remove("request_id");
                }
            }
            assert_eq!(ours, want, "{case}");
            if recorded["body"]["request_id"].is_string() {
                assert!(answer.json()["request_id"].is_string(), "{case}");
            }
        } else {
            assert!(answer.body.is_empty(), "{case}: {}", answer.text());
        }
    }
    // Nothing was set: no Quota object.
    assert_eq!(
        kubectl.json(&["get", "dquota", "-o", "json"])["items"],
        json!([])
    );
}

#[test]
fn quotas_are_set_shown_and_reset_by_admins_only() {
    let (tmp, standalone, base) = start_rest("designate-e2e-quotas-api-", &[]);
    let kubectl = kubectl_for(&standalone, tmp.path());
    let admin = [("X-Auth-Project-ID", "q-admin"), ("X-Roles", "admin")];
    let admin_all = [
        ("X-Auth-Project-ID", "q-admin"),
        ("X-Roles", "admin"),
        ("X-Auth-All-Projects", "true"),
    ];
    let member = [
        ("X-Auth-Project-ID", "q-member"),
        ("X-Roles", "member,reader"),
    ];
    let reader = [("X-Auth-Project-ID", "q-member"), ("X-Roles", "reader")];
    let path = "/v2/quotas/q-member";

    // Anyone reads their own project's quotas, by id or without one.
    for (who, headers) in [("member", &member[..]), ("reader", &reader[..])] {
        assert_eq!(
            quotas(&rest_request(&base, "GET", path, headers, None), who),
            defaults()
        );
        assert_eq!(
            quotas(
                &rest_request(&base, "GET", "/v2/quotas", headers, None),
                who
            ),
            defaults()
        );
    }
    // Another project's only across all projects (admins), even for an
    // admin (Central's check after the policy); a member may not span them.
    let refused = rest_request(&base, "GET", path, &admin, None);
    expect_error(&refused, 403, "forbidden", "admin, other project");
    assert!(
        refused.json().get("message").is_none(),
        "{}",
        refused.text()
    );
    let member_all = [member[0], member[1], ("X-Auth-All-Projects", "true")];
    expect_error(
        &rest_request(&base, "GET", "/v2/quotas/q-admin", &member_all, None),
        403,
        "forbidden",
        "member across all projects",
    );
    assert_eq!(
        quotas(
            &rest_request(&base, "GET", path, &admin_all, None),
            "admin, all"
        ),
        defaults()
    );

    // Set: admins only, and for another project only across all projects
    // or as its sudo.
    let set = |headers: &[(&str, &str)], body: Value| {
        rest_request(&base, "PATCH", path, headers, Some(&body))
    };
    expect_error(
        &set(&member, json!({"zones": 50})),
        403,
        "forbidden",
        "member",
    );
    expect_error(
        &set(&admin, json!({"zones": 50})),
        403,
        "forbidden",
        "admin without all projects",
    );
    let changed = quotas(
        &set(&admin_all, json!({"zones": 3, "zone_recordsets": "40"})),
        "set",
    );
    assert_eq!(
        changed,
        json!({"zones": 3, "zone_recordsets": 40, "zone_records": 500,
               "recordset_records": 20, "api_export_size": 1000})
    );
    let sudo = [
        ("X-Auth-Project-ID", "q-admin"),
        ("X-Roles", "admin"),
        ("X-Auth-Sudo-Project-ID", "q-member"),
    ];
    let changed = quotas(&set(&sudo, json!({"api_export_size": -1})), "sudo set");
    assert_eq!(changed["api_export_size"], -1);
    assert_eq!(changed["zones"], 3);
    // The member sees what was set for it.
    let shown = quotas(&rest_request(&base, "GET", path, &member, None), "member");
    assert_eq!(shown, changed);
    // An empty body sets nothing and answers the quotas.
    assert_eq!(quotas(&set(&admin_all, json!({})), "empty"), changed);

    // Bad bodies: Designate's adapter errors, before the policy.
    for (body, message) in [
        (
            json!({"zones": "lots"}),
            "Provided object is not valid. Got a ValueError error with message invalid literal for int() with base 10: 'lots'",
        ),
        (
            json!({"zones": -2}),
            "Provided object is not valid. Got a ValueError error with message Value must be >= -1 for field hard_limit",
        ),
        (
            json!({"zones": 2147483648_i64}),
            "Provided object is not valid. Got a ValueError error with message Value too high for hard_limit",
        ),
        (
            json!({"bogus": 1}),
            "Provided object is not valid. Got a ValueError error with message Field value bogus is invalid",
        ),
    ] {
        let answer = set(&member, body.clone());
        assert_eq!(
            expect_error(&answer, 400, "invalid_object", &body.to_string()),
            message
        );
    }
    let not_json = http_request(
        &base,
        "PATCH",
        path,
        &[
            ("Content-Type", "application/json"),
            admin_all[0],
            admin_all[1],
            admin_all[2],
        ],
        Some(b"{"),
    )
    .unwrap();
    expect_error(&not_json, 400, "invalid_json", "bad JSON");

    // The quotas are one cluster-scoped Quota object, which kubectl shows.
    let objects = kubectl.json(&["get", "quotas.designate.openstack.org", "-o", "json"]);
    let items = objects["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{objects}");
    assert_eq!(items[0]["metadata"]["name"], "q-member");
    assert!(items[0]["metadata"].get("namespace").is_none(), "{objects}");
    assert_eq!(
        items[0]["spec"],
        json!({"projectId": "q-member", "zones": 3, "zoneRecordsets": 40, "apiExportSize": -1})
    );
    let table = kubectl.ok(&["get", "dquota"]);
    assert!(
        table.contains("PROJECT") && table.contains("ZONES") && table.contains("q-member"),
        "{table}"
    );
    assert!(
        kubectl
            .ok(&["get", "designate"])
            .contains("quota.designate.openstack.org/q-member")
    );
    // The project is immutable.
    let moved = kubectl.fail(&[
        "patch",
        "dquota",
        "q-member",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"projectId":"someone-else"}}"#,
    ]);
    assert!(moved.contains("projectId is immutable"), "{moved}");

    // Reset: admins only; any project (Designate checks no project here).
    let reset = |headers: &[(&str, &str)]| rest_request(&base, "DELETE", path, headers, None);
    expect_error(&reset(&member), 403, "forbidden", "member reset");
    let done = reset(&admin);
    assert_eq!((done.status, done.body.len()), (204, 0), "{}", done.text());
    assert_eq!(
        quotas(
            &rest_request(&base, "GET", path, &member, None),
            "after reset"
        ),
        defaults()
    );
    assert_eq!(
        kubectl.json(&["get", "dquota", "-o", "json"])["items"],
        json!([])
    );
    // Resetting a project without quotas is no error.
    assert_eq!(reset(&admin).status, 204);
}

// ---------------------------------------------------------------------------
// Enforcement

/// Waits until the controllers settled `kind/name` for its generation with
/// `status`.
fn settled(kubectl: &Kubectl, kind: &str, name: &str, ns: &str, status: &str) -> Value {
    wait_for(
        SETTLE,
        &format!("{kind} {ns}/{name} to be {status}"),
        || {
            let object = kubectl.get_json(&[kind, name, "-n", ns]);
            if at(&object, "/status/status") == status
                && at(&object, "/status/observedGeneration") == at(&object, "/metadata/generation")
            {
                Ok(object)
            } else {
                Err(at(&object, "/status").to_string())
            }
        },
    )
}

fn ready_reason(object: &Value) -> String {
    at(object, "/status/conditions")
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .and_then(|c| c["reason"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn apply(kubectl: &Kubectl, dir: &Path, name: &str, yaml: &str) {
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    kubectl.ok(&["apply", "-f", path.to_str().unwrap()]);
}

fn zone_yaml(object: &str, ns: &str, fqdn: &str) -> String {
    format!(
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: {object}\n  namespace: {ns}\nspec:\n  name: {fqdn}\n  email: admin@{}\n",
        fqdn.trim_end_matches('.')
    )
}

fn recordset_yaml(object: &str, ns: &str, zone: &str, fqdn: &str, records: &[&str]) -> String {
    let records: String = records.iter().map(|r| format!("  - {r:?}\n")).collect();
    format!(
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Recordset\nmetadata:\n  name: {object}\n  namespace: {ns}\nspec:\n  zoneRef: {zone}\n  name: {fqdn}\n  type: A\n  records:\n{records}"
    )
}

#[test]
fn quotas_limit_zones_and_recordsets_on_every_path() {
    let (tmp, standalone, base) = start_rest("designate-e2e-quotas-enforced-", &[]);
    let kubectl = kubectl_for(&standalone, tmp.path());
    let admin_all = [("X-Roles", "admin"), ("X-Auth-All-Projects", "true")];
    let set = |project: &str, body: Value| {
        let answer = rest_request(
            &base,
            "PATCH",
            &format!("/v2/quotas/{project}"),
            &admin_all,
            Some(&body),
        );
        quotas(&answer, &format!("set {project} {body}"))
    };
    let tenant = [
        ("X-Auth-Project-ID", "q-tenant"),
        ("X-Roles", "member,reader"),
    ];
    let other = [
        ("X-Auth-Project-ID", "q-other"),
        ("X-Roles", "member,reader"),
    ];

    // REST: one zone allowed.
    set("q-tenant", json!({"zones": 1}));
    let limits = rest_request(&base, "GET", "/v2/limits", &tenant, None).json();
    assert_eq!(limits["max_zones"], 1, "{limits}");
    let limits = rest_request(&base, "GET", "/v2/limits", &other, None).json();
    assert_eq!(limits["max_zones"], 10, "{limits}");
    let post = |headers: &[(&str, &str)], name: &str| {
        rest_request(&base, "POST", "/v2/zones", headers, Some(&zone_body(name)))
    };
    let first = post(&tenant, "first-quota.org.");
    assert_eq!(first.status, 202, "{}", first.text());
    let second = post(&tenant, "second-quota.org.");
    assert_eq!(
        expect_error(&second, 413, "over_quota", "the second zone"),
        "Quota exceeded for zones."
    );
    // Another project is not limited by it.
    assert_eq!(post(&other, "other-quota.org.").status, 202);
    // Raised: the zone gets in.
    set("q-tenant", json!({"zones": 2}));
    assert_eq!(post(&tenant, "second-quota.org.").status, 202);
    assert_eq!(
        rest_request(&base, "GET", "/v2/limits", &tenant, None).json()["max_zones"],
        2
    );

    // REST: recordset quotas (the managed SOA and NS count as recordsets,
    // not as records).
    set(
        "q-tenant",
        json!({"zone_recordsets": 3, "recordset_records": 2, "zone_records": 3}),
    );
    let zone_id = first.json()["id"].as_str().unwrap().to_string();
    let rs_path = format!("/v2/zones/{zone_id}/recordsets");
    let rs = |name: &str, records: &[&str]| {
        rest_request(
            &base,
            "POST",
            &rs_path,
            &tenant,
            Some(&json!({"name": name, "type": "A", "records": records})),
        )
    };
    let too_many = rs(
        "a.first-quota.org.",
        &["192.0.2.1", "192.0.2.2", "192.0.2.3"],
    );
    assert_eq!(
        expect_error(&too_many, 413, "over_quota", "3 records"),
        "Quota exceeded for recordset_records."
    );
    let ok = rs("a.first-quota.org.", &["192.0.2.1", "192.0.2.2"]);
    assert_eq!(ok.status, 202, "{}", ok.text());
    let third = rs("b.first-quota.org.", &["192.0.2.3"]);
    assert_eq!(
        expect_error(&third, 413, "over_quota", "a 4th recordset"),
        "Quota exceeded for zone_recordsets."
    );
    // Updates count records too.
    let update = rest_request(
        &base,
        "PUT",
        &format!("{rs_path}/{}", ok.json()["id"].as_str().unwrap()),
        &tenant,
        Some(&json!({"records": ["192.0.2.1", "192.0.2.2", "192.0.2.4"]})),
    );
    expect_error(&update, 413, "over_quota", "an update to 3 records");
    set("q-tenant", json!({"zone_recordsets": -1}));
    let fourth = rs("b.first-quota.org.", &["192.0.2.3", "192.0.2.4"]);
    assert_eq!(
        expect_error(&fourth, 413, "over_quota", "4 records in the zone"),
        "Quota exceeded for zone_records."
    );
    assert_eq!(rs("b.first-quota.org.", &["192.0.2.3"]).status, 202);

    // kubectl: a namespace of its own is its own project.
    kubectl.ok(&["create", "namespace", "team-q"]);
    apply(
        &kubectl,
        tmp.path(),
        "quota.yaml",
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Quota\nmetadata:\n  name: team-q\nspec:\n  projectId: team-q\n  zones: 1\n  recordsetRecords: 1\n",
    );
    assert_eq!(
        quotas(
            &rest_request(&base, "GET", "/v2/quotas/team-q", &admin_all, None),
            "kubectl's quota"
        )["zones"],
        1
    );
    apply(
        &kubectl,
        tmp.path(),
        "a.yaml",
        &zone_yaml("zone-a", "team-q", "a-quota.org."),
    );
    settled(&kubectl, "zone", "zone-a", "team-q", "ACTIVE");
    apply(
        &kubectl,
        tmp.path(),
        "b.yaml",
        &zone_yaml("zone-b", "team-q", "b-quota.org."),
    );
    let refused = settled(&kubectl, "zone", "zone-b", "team-q", "ERROR");
    assert_eq!(ready_reason(&refused), "OverQuota", "{refused}");
    // Raised (by REST here): the refused zone is planned again and gets in.
    set("team-q", json!({"zones": 2}));
    settled(&kubectl, "zone", "zone-b", "team-q", "ACTIVE");

    // A recordset over quota in a published zone; raising the quota lets
    // it in (the zone is replanned though nothing else changed).
    apply(
        &kubectl,
        tmp.path(),
        "rs.yaml",
        &recordset_yaml(
            "www",
            "team-q",
            "zone-a",
            "www.a-quota.org.",
            &["192.0.2.1", "192.0.2.2"],
        ),
    );
    let big = settled(&kubectl, "recordset", "www", "team-q", "ERROR");
    assert_eq!(ready_reason(&big), "OverQuota", "{big}");
    kubectl.ok(&[
        "patch",
        "dquota",
        "team-q",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"recordsetRecords":2}}"#,
    ]);
    settled(&kubectl, "recordset", "www", "team-q", "ACTIVE");

    // A namespace given to a project counts with the project's quota.
    kubectl.ok(&["create", "namespace", "team-p"]);
    kubectl.ok(&[
        "label",
        "namespace",
        "team-p",
        "designate.openstack.org/tenancy=project",
    ]);
    kubectl.ok(&[
        "annotate",
        "namespace",
        "team-p",
        "designate.openstack.org/project-id=Project-P",
    ]);
    set("Project-P", json!({"zones": 0}));
    apply(
        &kubectl,
        tmp.path(),
        "p.yaml",
        &zone_yaml("zone-p", "team-p", "p-quota.org."),
    );
    let refused = settled(&kubectl, "zone", "zone-p", "team-p", "ERROR");
    assert_eq!(ready_reason(&refused), "OverQuota", "{refused}");
    // Reset to the defaults (10 zones): in.
    let reset = rest_request(&base, "DELETE", "/v2/quotas/Project-P", &admin_all, None);
    assert_eq!(reset.status, 204);
    settled(&kubectl, "zone", "zone-p", "team-p", "ACTIVE");
}

// ---------------------------------------------------------------------------
// The OpenStack CLI

#[test]
fn openstack_cli_sets_lists_and_resets_quotas() {
    let (tmp, _standalone, base) = start_rest("designate-e2e-quotas-cli-", &[]);
    let cli = Cli::noauth(&base, tmp.path(), "noauth admin");
    let json = |args: &[&str]| cli.json(args);
    let zone = |name: &str| {
        cli.run(&[
            "zone",
            "create",
            "--email",
            "hostmaster@example.org",
            name,
            "-f",
            "json",
        ])
    };
    assert_eq!(json(&["dns", "quota", "list", "-f", "json"]), defaults());
    let set = json(&[
        "dns",
        "quota",
        "set",
        "--project-id",
        "noauth-project",
        "--zones",
        "1",
        "--recordset-records",
        "5",
        "-f",
        "json",
    ]);
    assert_eq!(
        (
            &set["zones"],
            &set["recordset_records"],
            &set["zone_records"]
        ),
        (&json!(1), &json!(5), &json!(500))
    );
    let listed = json(&["dns", "quota", "list", "-f", "json"]);
    assert_eq!(listed, set);
    let other = json(&[
        "dns",
        "quota",
        "list",
        "--project-id",
        "someone-else",
        "-f",
        "json",
    ]);
    assert_eq!(other, defaults());

    let first = zone("first-cli-quota.org.");
    assert!(first.ok, "{}", first.describe());
    let second = zone("second-cli-quota.org.");
    assert!(!second.ok, "{}", second.describe());
    assert!(
        second.stderr.contains("Quota exceeded for zones."),
        "{}",
        second.describe()
    );
    let reset = cli.run(&["dns", "quota", "reset", "--project-id", "noauth-project"]);
    assert!(reset.ok, "{}", reset.describe());
    assert_eq!(json(&["dns", "quota", "list", "-f", "json"]), defaults());
    let again = zone("second-cli-quota.org.");
    assert!(again.ok, "{}", again.describe());
}

// ---------------------------------------------------------------------------
// Keystone

#[test]
fn keystone_unknown_projects_get_no_quotas() {
    let url = keystone::ensure_running();
    let keystone = Keystone::admin_at(&url).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-quotas-keystone-")
        .tempdir()
        .unwrap();
    let args = keystone::standalone_args(&url, &tmp.path().join("secrets"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let standalone = Standalone::try_start_with(&tmp.path().join("data"), &args)
        .unwrap_or_else(|e| panic!("starting standalone: {e:#}"));
    let base = standalone.wait_rest_url();

    let home = keystone.create_project("quota-admin");
    let target = keystone.create_project("quota-target");
    let admin = keystone.user_with_role("quota-admin", &home, "admin");
    let token = keystone.issue_token(&admin, &home);
    let headers = [
        ("X-Auth-Token", token.as_str()),
        ("X-Auth-All-Projects", "true"),
    ];
    let patch = |project: &str, body: Value| {
        rest_request(
            &base,
            "PATCH",
            &format!("/v2/quotas/{project}"),
            &headers,
            Some(&body),
        )
    };
    let missing = keystone::random_id();
    let refused = patch(&missing, json!({"zones": 5}));
    assert_eq!(
        expect_error(&refused, 400, "invalid_project", "an unknown project"),
        format!("{missing} is not a valid project ID.")
    );
    // Checked before the body.
    expect_error(
        &patch(&missing, json!({"zones": "lots"})),
        400,
        "invalid_project",
        "an unknown project, bad body",
    );
    let set = quotas(&patch(&target.id, json!({"zones": 5})), "a known project");
    assert_eq!(set["zones"], 5);
    let shown = rest_request(
        &base,
        "GET",
        &format!("/v2/quotas/{}", target.id),
        &headers,
        None,
    );
    assert_eq!(quotas(&shown, "shown")["zones"], 5);
    // The target's own member reads them, and /v2/limits shows them.
    let member = keystone.user_with_role("quota-member", &target, "member");
    let member_token = keystone.issue_token(&member, &target);
    let own = [("X-Auth-Token", member_token.as_str())];
    // Who may not set quotas learns nothing of which projects exist.
    for project in [missing.as_str(), home.id.as_str()] {
        let probe = rest_request(
            &base,
            "PATCH",
            &format!("/v2/quotas/{project}"),
            &own,
            Some(&json!({"zones": 1})),
        );
        expect_error(&probe, 403, "forbidden", "a member's probe");
    }
    assert_eq!(
        quotas(&rest_request(&base, "GET", "/v2/quotas", &own, None), "own")["zones"],
        5
    );
    assert_eq!(
        rest_request(&base, "GET", "/v2/limits", &own, None).json()["max_zones"],
        5
    );
    let reset = rest_request(
        &base,
        "DELETE",
        &format!("/v2/quotas/{}", target.id),
        &headers,
        None,
    );
    assert_eq!(reset.status, 204);
    keystone.cleanup();
}
