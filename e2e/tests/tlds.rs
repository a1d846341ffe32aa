//! The TLD API (`/v2/tlds`) through REST in noauth mode:
//! - the real `openstack tld ...` commands, the list limiting `openstack
//!   zone create` (Designate's recorded TLD steps are replayed with the
//!   rest of the admin recording in `rest_golden.rs`);
//! - Central's TLD rule on zone creates: outside the list refused, inside
//!   accepted, a zone named as a TLD refused, any TLD once none is left;
//! - the policies (admin only), and the TLDs as `Tld` objects that kubectl
//!   shows and makes.
//!
//! Needs `cargo build -p designate-operator` first, and the OpenStack CLI
//! (`$DESIGNATE_OPENSTACK`, as `openstack_cli.rs`).

use std::collections::BTreeSet;

use designate_e2e::openstack::Cli;
use designate_e2e::{HttpResponse, kubectl_for, start_rest};
use designate_e2e::{fixture, rest_request};
use serde_json::{Value, json};

/// The fields of a TLD as Designate renders it.
const TLD_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "created_at",
    "updated_at",
    "links",
];

const ADMIN: [(&str, &str); 2] = [("X-Auth-Project-ID", "tld-admin"), ("X-Roles", "admin")];
const MEMBER: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "tld-member"),
    ("X-Roles", "member,reader"),
];

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
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

fn expect_tld(answer: &HttpResponse, status: u16, what: &str) -> Value {
    assert_eq!(answer.status, status, "{what}: {}", answer.text());
    let tld = answer.json();
    assert_eq!(
        keys(&tld),
        TLD_FIELDS.iter().map(|k| k.to_string()).collect(),
        "{what}: {tld}"
    );
    tld
}

fn tld_names(answer: &HttpResponse) -> Vec<String> {
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(
        keys(&body),
        BTreeSet::from(["tlds".to_string(), "links".to_string()]),
        "{body}"
    );
    body["tlds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn create_zone(base: &str, name: &str) -> HttpResponse {
    let email = format!("hostmaster@{}", name.trim_end_matches('.'));
    rest_request(
        base,
        "POST",
        "/v2/zones",
        &ADMIN,
        Some(&json!({"name": name, "email": email})),
    )
}

// ---------------------------------------------------------------------------
// The OpenStack CLI

#[test]
fn openstack_cli_manages_tlds_that_limit_zone_creation() {
    let (tmp, _standalone, base) = start_rest("designate-e2e-tlds-cli-", &[]);
    let cli = Cli::noauth(&base, tmp.path(), "noauth admin");
    let json = |args: &[&str]| cli.json(args);
    let made = json(&[
        "tld",
        "create",
        "--name",
        "cli-tld",
        "--description",
        "by the CLI",
        "-f",
        "json",
    ]);
    assert_eq!(
        (&made["name"], &made["description"]),
        (&json!("cli-tld"), &json!("by the CLI"))
    );
    let listed = json(&["tld", "list", "-f", "json"]);
    assert_eq!(
        listed
            .as_array()
            .map(|rows| rows.iter().map(|r| &r["name"]).collect::<Vec<_>>()),
        Some(vec![&json!("cli-tld")]),
        "{listed}"
    );
    let shown = json(&["tld", "show", "cli-tld", "-f", "json"]);
    assert_eq!(shown["id"], made["id"]);

    // The list limits zone creation.
    let refused = cli.run(&[
        "zone",
        "create",
        "--email",
        "a@example.org",
        "example.org.",
        "-f",
        "json",
    ]);
    assert!(!refused.ok, "{}", refused.describe());
    assert!(
        refused.stderr.contains("Invalid TLD"),
        "{}",
        refused.describe()
    );
    let zone = json(&[
        "zone",
        "create",
        "--email",
        "a@example.org",
        "example.cli-tld.",
        "-f",
        "json",
    ]);
    assert_eq!(zone["name"], "example.cli-tld.");

    let changed = json(&[
        "tld",
        "set",
        "cli-tld",
        "--description",
        "changed",
        "-f",
        "json",
    ]);
    assert_eq!(changed["description"], "changed");
    let deleted = cli.run(&["tld", "delete", "cli-tld"]);
    assert!(deleted.ok, "{}", deleted.describe());
    assert_eq!(json(&["tld", "list", "-f", "json"]), json!([]));
    // No TLD left: any is allowed again.
    json(&[
        "zone",
        "create",
        "--email",
        "a@example.org",
        "example.org.",
        "-f",
        "json",
    ]);
}

#[test]
fn tlds_gate_zone_names_and_are_objects() {
    let (tmp, standalone, base) = start_rest("designate-e2e-tlds-", &[]);
    let kubectl = kubectl_for(&standalone, tmp.path());

    assert_eq!(
        tld_names(&rest_request(&base, "GET", "/v2/tlds", &ADMIN, None)),
        Vec::<String>::new()
    );
    // No TLD: any is allowed.
    assert_eq!(create_zone(&base, "before.org.").status, 202);

    let made = rest_request(
        &base,
        "POST",
        "/v2/tlds",
        &ADMIN,
        Some(&json!({"name": "co.test", "description": "two labels"})),
    );
    let tld = expect_tld(&made, 201, "create");
    let id = tld["id"].as_str().unwrap().to_string();
    let path = format!("/v2/tlds/{id}");
    assert_eq!(made.header("location"), tld["links"]["self"].as_str());
    assert!(tld["updated_at"].is_null() && tld["created_at"].is_string());

    // The TLD is a Tld object whose uid is the REST id.
    let object = kubectl.get_json(&["tld", "co.test"]);
    assert_eq!(object["metadata"]["uid"], id.as_str());
    assert_eq!(
        object["spec"],
        json!({"name": "co.test", "description": "two labels"})
    );
    let table = kubectl.ok(&["get", "tlds"]);
    assert!(
        table.contains("TLD") && table.contains("co.test") && table.contains("two labels"),
        "{table}"
    );
    // One made with kubectl is served by REST.
    kubectl.ok(&["apply", "-f", fixture("tld-test.yaml").to_str().unwrap()]);
    let test_uid = kubectl.get_json(&["tld", "test"])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = rest_request(&base, "GET", &format!("/v2/tlds/{test_uid}"), &ADMIN, None);
    assert_eq!(expect_tld(&shown, 200, "kubectl's TLD")["name"], "test");

    // Lists: order, filters, sort keys, paging.
    // Both were made within a second: `created_at` ties, and the order
    // falls to the ids (as in Designate).
    let all = rest_request(&base, "GET", "/v2/tlds", &ADMIN, None);
    let mut names = tld_names(&all);
    let first = all.json()["tlds"][0].clone();
    names.sort();
    assert_eq!(names, ["co.test", "test"]);
    let sorted = rest_request(
        &base,
        "GET",
        "/v2/tlds?sort_key=name&sort_dir=desc",
        &ADMIN,
        None,
    );
    assert_eq!(tld_names(&sorted), ["test", "co.test"]);
    let filtered = rest_request(&base, "GET", "/v2/tlds?name=co.*", &ADMIN, None);
    assert_eq!(tld_names(&filtered), ["co.test"]);
    let page = rest_request(&base, "GET", "/v2/tlds?limit=1", &ADMIN, None);
    assert_eq!(tld_names(&page), [first["name"].as_str().unwrap()]);
    let marker = first["id"].as_str().unwrap();
    assert!(
        page.json()["links"]["next"]
            .as_str()
            .is_some_and(|next| next.ends_with(&format!("/v2/tlds?limit=1&marker={marker}"))),
        "{}",
        page.text()
    );
    for (query, kind) in [
        ("sort_key=description", "invalid_sort_key"),
        ("email=x", "bad_request"),
        ("limit=0", "invalid_limit"),
    ] {
        let answer = rest_request(&base, "GET", &format!("/v2/tlds?{query}"), &ADMIN, None);
        expect_error(&answer, 400, kind, query);
    }

    // Refusals.
    let post = |body: Value| rest_request(&base, "POST", "/v2/tlds", &ADMIN, Some(&body));
    let duplicate = post(json!({"name": "CO.TEST"}));
    assert_eq!(
        expect_error(&duplicate, 409, "duplicate_tld", "a duplicate"),
        "Duplicate Tld"
    );
    expect_error(
        &post(json!({"name": "test."})),
        400,
        "invalid_object",
        "a trailing dot",
    );
    expect_error(
        &post(json!({"name": "x", "bogus": 1})),
        400,
        "invalid_object",
        "an unknown key",
    );
    let missing = post(json!({"description": "no name"}));
    expect_error(&missing, 400, "invalid_object", "no name");
    assert_eq!(
        missing.json()["errors"]["errors"][0]["validator"],
        "required"
    );
    expect_error(
        &rest_request(&base, "GET", "/v2/tlds/not-a-uuid", &ADMIN, None),
        400,
        "invalid_uuid",
        "a bad id",
    );
    let unknown = "/v2/tlds/00000000-0000-4000-8000-000000000000";
    for method in ["GET", "DELETE"] {
        let answer = rest_request(&base, method, unknown, &ADMIN, None);
        expect_error(&answer, 404, "tld_not_found", method);
    }

    // Central's rule on zone creates.
    let outside = create_zone(&base, "example.org.");
    assert_eq!(
        expect_error(&outside, 400, "invalid_zone_name", "outside the TLDs"),
        "Invalid TLD"
    );
    let same = create_zone(&base, "co.test.");
    assert_eq!(
        expect_error(&same, 400, "invalid_zone_name", "named as a TLD"),
        "Zone name cannot be the same as a TLD"
    );
    for inside in ["example.co.test.", "example.test."] {
        let answer = create_zone(&base, inside);
        assert_eq!(answer.status, 202, "{inside}: {}", answer.text());
    }

    // Updates.
    let patch = |body: Value| rest_request(&base, "PATCH", &path, &ADMIN, Some(&body));
    let changed = expect_tld(&patch(json!({"description": "changed"})), 200, "update");
    assert_eq!(
        (&changed["description"], &changed["id"]),
        (&json!("changed"), &json!(id))
    );
    assert!(changed["updated_at"].is_string(), "{changed}");
    expect_error(
        &patch(json!({"name": "Test"})),
        409,
        "duplicate_tld",
        "a rename to a taken name",
    );
    let renamed = expect_tld(&patch(json!({"name": "org"})), 200, "a rename");
    assert_eq!(renamed["name"], "org");
    assert_eq!(create_zone(&base, "example.org.").status, 202);

    // A member may do nothing with TLDs.
    for (method, path, body) in [
        ("GET", "/v2/tlds".to_string(), None),
        (
            "POST",
            "/v2/tlds".to_string(),
            Some(json!({"name": "member"})),
        ),
        ("GET", path.clone(), None),
        (
            "PATCH",
            path.clone(),
            Some(json!({"description": "member"})),
        ),
        ("DELETE", path.clone(), None),
    ] {
        let answer = rest_request(&base, method, &path, &MEMBER, body.as_ref());
        expect_error(
            &answer,
            403,
            "forbidden",
            &format!("member {method} {path}"),
        );
    }

    // Deletes: once no TLD is left, any is allowed again.
    let deleted = rest_request(&base, "DELETE", &path, &ADMIN, None);
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    expect_error(
        &rest_request(&base, "GET", &path, &ADMIN, None),
        404,
        "tld_not_found",
        "after the delete",
    );
    assert!(
        kubectl
            .fail(&["get", "tld", "co.test"])
            .contains("not found")
    );
    expect_error(
        &create_zone(&base, "example.net."),
        400,
        "invalid_zone_name",
        "only test left",
    );
    kubectl.ok(&["delete", "tld", "test"]);
    designate_e2e::wait_for(std::time::Duration::from_secs(10), "no TLD left", || {
        let answer = create_zone(&base, "example.net.");
        (answer.status == 202)
            .then_some(())
            .ok_or_else(|| answer.text())
    });
}
