//! Zone blacklists (`/v2/blacklists`) end to end, in noauth mode:
//! - REST: create, list (filters, sorting, paging), show, update, delete,
//!   Designate's errors (an invalid regular expression, duplicates, ids,
//!   404s) and policies (admin only); the blacklists are `Blacklist`
//!   objects kubectl shows and makes (an invalid pattern refused there too);
//! - Central's rule on REST zone creates: a member is refused a blacklisted
//!   name, an admin is not, and the controllers publish the admin's zone
//!   (the signed grant it carries);
//! - the kubectl path: a Zone matching a blacklist is `Ready=False`
//!   `Blacklisted`, one outside the TLD list `InvalidTLD`; each is
//!   published once the blacklist goes or the TLD comes; a privileges
//!   annotation copied from the admin's zone, or written by hand, grants
//!   nothing; a published zone stays published whatever the TLDs become;
//! - the real `openstack zone blacklist ...` commands.
//!
//! Needs `cargo build -p designate-operator` first, and the OpenStack CLI
//! (`$DESIGNATE_OPENSTACK`, as `openstack_cli.rs`) for the CLI test.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use designate_e2e::openstack::Cli;
use designate_e2e::{
    HttpResponse, Kubectl, Standalone, kubectl_for, rest_request, start_rest, wait_for,
};
use serde_json::{Value, json};

const FIELDS: &[&str] = &[
    "id",
    "pattern",
    "description",
    "created_at",
    "updated_at",
    "links",
];

/// Golden 120's pattern.
const BLOCKED: &str = r"^([A-Za-z0-9_\-]+\.)*blocked\.org\.$";

const ADMIN: [(&str, &str); 2] = [("X-Auth-Project-ID", "bl-admin"), ("X-Roles", "admin")];
const MEMBER: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "bl-member"),
    ("X-Roles", "member,reader"),
];

/// The namespace kubectl writes zones in.
const NS: &str = "bl-kube";

const WAIT: Duration = Duration::from_secs(20);

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

fn expect_blacklist(answer: &HttpResponse, status: u16, what: &str) -> Value {
    assert_eq!(answer.status, status, "{what}: {}", answer.text());
    let blacklist = answer.json();
    assert_eq!(
        keys(&blacklist),
        FIELDS.iter().map(|k| k.to_string()).collect(),
        "{what}: {blacklist}"
    );
    blacklist
}

fn patterns(answer: &HttpResponse) -> Vec<String> {
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(
        keys(&body),
        BTreeSet::from(["blacklists".to_string(), "links".to_string()]),
        "{body}"
    );
    body["blacklists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["pattern"].as_str().unwrap().to_string())
        .collect()
}

fn create_zone(base: &str, who: &[(&str, &str)], name: &str) -> HttpResponse {
    rest_request(
        base,
        "POST",
        "/v2/zones",
        who,
        Some(&json!({"name": name, "email": "a@example.org"})),
    )
}

/// Applies a manifest written to a file of its own.
fn apply(kubectl: &Kubectl, tmp: &Path, name: &str, manifest: &Value) -> Result<String, String> {
    let path = tmp.join(format!("{name}.json"));
    std::fs::write(&path, manifest.to_string()).unwrap();
    let output = kubectl.run(&["apply", "-f", path.to_str().unwrap()]);
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn zone_manifest(name: &str, dns_name: &str, annotations: Option<&Value>) -> Value {
    let mut metadata = json!({"name": name, "namespace": NS});
    if let Some(annotations) = annotations {
        metadata["annotations"] = annotations.clone();
    }
    json!({
        "apiVersion": "designate.openstack.org/v1alpha1",
        "kind": "Zone",
        "metadata": metadata,
        "spec": {"name": dns_name, "email": "hostmaster@example.org"},
    })
}

/// A kubectl Zone's `Ready` condition as (status, reason), once it is the
/// one `want` accepts.
fn wait_ready(
    kubectl: &Kubectl,
    name: &str,
    what: &str,
    want: impl Fn(&str, &str) -> bool,
) -> (String, String) {
    wait_for(WAIT, what, || {
        let zone = kubectl.get_json(&["zone", name, "-n", NS]);
        let ready = zone["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
            .map(|c| {
                (
                    c["status"].as_str().unwrap_or_default().to_string(),
                    c["reason"].as_str().unwrap_or_default().to_string(),
                )
            });
        match ready {
            Some((status, reason)) if want(&status, &reason) => Ok((status, reason)),
            _ => Err(zone["status"].to_string()),
        }
    })
}

fn refused_for(kubectl: &Kubectl, name: &str, reason: &'static str) {
    wait_ready(
        kubectl,
        name,
        &format!("{name} refused: {reason}"),
        |s, r| s == "False" && r == reason,
    );
}

fn published(kubectl: &Kubectl, name: &str) {
    wait_ready(kubectl, name, &format!("{name} published"), |s, _| {
        s == "True"
    });
}

/// Waits until the REST API shows the zone `id` ACTIVE.
fn rest_active(base: &str, who: &[(&str, &str)], id: &str) -> Value {
    wait_for(WAIT, "the zone ACTIVE", || {
        let zone = rest_request(base, "GET", &format!("/v2/zones/{id}"), who, None).json();
        (zone["status"] == "ACTIVE")
            .then(|| zone.clone())
            .ok_or_else(|| zone.to_string())
    })
}

#[test]
fn blacklists_through_rest_and_kubectl() {
    let (tmp, standalone, base) = start_rest("designate-e2e-blacklists-", &[]);
    let kubectl = kubectl_for(&standalone, tmp.path());
    let post = |body: Value| rest_request(&base, "POST", "/v2/blacklists", &ADMIN, Some(&body));

    assert_eq!(
        patterns(&rest_request(&base, "GET", "/v2/blacklists", &ADMIN, None)),
        Vec::<String>::new()
    );

    // Create (golden 120) and its refusals (golden 121).
    let made = post(json!({"pattern": BLOCKED, "description": "golden"}));
    let blacklist = expect_blacklist(&made, 201, "create");
    let id = blacklist["id"].as_str().unwrap().to_string();
    let path = format!("/v2/blacklists/{id}");
    assert_eq!(
        (&blacklist["pattern"], &blacklist["description"]),
        (&json!(BLOCKED), &json!("golden"))
    );
    assert!(blacklist["updated_at"].is_null() && blacklist["created_at"].is_string());
    assert_eq!(made.header("location"), blacklist["links"]["self"].as_str());
    assert!(
        blacklist["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&path)
    );
    assert_eq!(
        expect_error(
            &post(json!({"pattern": "(unclosed"})),
            400,
            "invalid_object",
            "an invalid regex"
        ),
        "Provided object is not valid. Got a ValueError error with message (unclosed is not a valid regular expression"
    );
    for (body, what) in [
        (json!({"pattern": ""}), "an empty pattern"),
        (json!({"pattern": "a".repeat(256)}), "a long pattern"),
        (
            json!({"pattern": "x", "description": "d".repeat(161)}),
            "a long description",
        ),
        (json!({"pattern": "x", "bogus": 1}), "an unknown key"),
        (json!({"description": "no pattern"}), "no pattern"),
    ] {
        expect_error(&post(body), 400, "invalid_object", what);
    }
    assert_eq!(
        expect_error(
            &post(json!({"pattern": BLOCKED.to_uppercase()})),
            409,
            "duplicate_blacklist",
            "a duplicate (the unique key ignores case)"
        ),
        "Duplicate Blacklist"
    );

    // The blacklist is a Blacklist object whose uid is the REST id.
    let objects = kubectl.get_json(&["blacklists"]);
    let object = &objects["items"][0];
    assert_eq!(object["metadata"]["uid"], id.as_str());
    assert_eq!(
        object["spec"],
        json!({"pattern": BLOCKED, "description": "golden"})
    );
    let table = kubectl.ok(&["get", "blacklists"]);
    assert!(
        table.contains("PATTERN") && table.contains(BLOCKED) && table.contains("golden"),
        "{table}"
    );
    // kubectl refuses a pattern that is no regular expression (422)...
    let invalid = json!({
        "apiVersion": "designate.openstack.org/v1alpha1",
        "kind": "Blacklist",
        "metadata": {"name": "invalid"},
        "spec": {"pattern": "(unclosed"},
    });
    let refused = apply(&kubectl, tmp.path(), "invalid", &invalid).unwrap_err();
    assert!(refused.contains("Invalid value"), "{refused}");
    // ... and makes a valid one, which REST serves.
    let kube_made = json!({
        "apiVersion": "designate.openstack.org/v1alpha1",
        "kind": "Blacklist",
        "metadata": {"name": "kube-made"},
        "spec": {"pattern": "^kube-made\\.", "description": "by kubectl"},
    });
    apply(&kubectl, tmp.path(), "kube-made", &kube_made).unwrap();
    let kube_uid = kubectl.get_json(&["blacklist", "kube-made"])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = rest_request(
        &base,
        "GET",
        &format!("/v2/blacklists/{kube_uid}"),
        &ADMIN,
        None,
    );
    assert_eq!(
        expect_blacklist(&shown, 200, "kubectl's blacklist")["pattern"],
        "^kube-made\\."
    );

    // Lists: filters, sort keys, paging.
    let sorted = rest_request(
        &base,
        "GET",
        "/v2/blacklists?sort_key=pattern&sort_dir=desc",
        &ADMIN,
        None,
    );
    assert_eq!(patterns(&sorted), ["^kube-made\\.", BLOCKED]);
    let filtered = rest_request(
        &base,
        "GET",
        "/v2/blacklists?pattern=*blocked*",
        &ADMIN,
        None,
    );
    assert_eq!(patterns(&filtered), [BLOCKED]);
    let page = rest_request(&base, "GET", "/v2/blacklists?limit=1", &ADMIN, None);
    assert_eq!(patterns(&page).len(), 1);
    assert!(
        page.json()["links"]["next"]
            .as_str()
            .is_some_and(|next| next.contains("/v2/blacklists?limit=1&marker=")),
        "{}",
        page.text()
    );
    for (query, kind) in [
        ("sort_key=description", "invalid_sort_key"),
        ("name=x", "bad_request"),
        ("limit=0", "invalid_limit"),
    ] {
        let answer = rest_request(
            &base,
            "GET",
            &format!("/v2/blacklists?{query}"),
            &ADMIN,
            None,
        );
        expect_error(&answer, 400, kind, query);
    }

    // Ids and 404s (tempest's TestBlacklistInvalidIdAdmin, ...NotFoundAdmin).
    for method in ["GET", "PATCH", "DELETE"] {
        let body = (method == "PATCH").then(|| json!({"description": "x"}));
        let answer = rest_request(&base, method, "/v2/blacklists/foo", &ADMIN, body.as_ref());
        assert_eq!(
            expect_error(&answer, 400, "invalid_uuid", method),
            "Invalid UUID blacklist_id: foo"
        );
        let unknown = "/v2/blacklists/00000000-0000-4000-8000-000000000000";
        let answer = rest_request(&base, method, unknown, &ADMIN, body.as_ref());
        assert_eq!(
            expect_error(&answer, 404, "blacklist_not_found", method),
            "Could not find Blacklist"
        );
    }

    // A member may do nothing with blacklists.
    for (method, path, body) in [
        ("GET", "/v2/blacklists".to_string(), None),
        (
            "POST",
            "/v2/blacklists".to_string(),
            Some(json!({"pattern": "member"})),
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

    // Updates (golden 125).
    let patch = |body: Value| rest_request(&base, "PATCH", &path, &ADMIN, Some(&body));
    let changed = expect_blacklist(&patch(json!({"description": "changed"})), 200, "update");
    assert_eq!(
        (&changed["description"], &changed["pattern"], &changed["id"]),
        (&json!("changed"), &json!(BLOCKED), &json!(id))
    );
    assert!(changed["updated_at"].is_string(), "{changed}");
    expect_error(
        &patch(json!({"pattern": "^KUBE-MADE\\."})),
        409,
        "duplicate_blacklist",
        "a pattern taken",
    );
    expect_error(
        &patch(json!({"pattern": "(unclosed"})),
        400,
        "invalid_object",
        "an invalid pattern",
    );

    // Central's rule on REST zone creates (golden 123): a member is
    // refused, subzones too; an admin may (use_blacklisted_zone).
    for name in ["blocked.org.", "www.blocked.org."] {
        let answer = create_zone(&base, &MEMBER, name);
        assert_eq!(
            expect_error(&answer, 400, "invalid_zone_name", name),
            "Blacklisted zone name"
        );
    }
    assert_eq!(create_zone(&base, &MEMBER, "free.org.").status, 202);
    let admins = create_zone(&base, &ADMIN, "admin.blocked.org.");
    assert_eq!(admins.status, 202, "{}", admins.text());
    let admin_zone_id = admins.json()["id"].as_str().unwrap().to_string();
    // The controllers publish it: its grant verifies.
    rest_active(&base, &ADMIN, &admin_zone_id);
    let admin_zone = kubectl.get_json(&["zones", "-A"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["metadata"]["uid"] == admin_zone_id.as_str())
        .cloned()
        .expect("the admin's Zone object");
    let grant = admin_zone["metadata"]["annotations"].clone();
    assert_eq!(
        grant["designate.openstack.org/privileges"], "use_blacklisted_zone,use_low_ttl",
        "{admin_zone}"
    );

    // kubectl: a Zone matching a blacklist is refused ...
    kubectl.ok(&["create", "namespace", NS]);
    apply(
        &kubectl,
        tmp.path(),
        "sneaky",
        &zone_manifest("sneaky", "kube.blocked.org.", None),
    )
    .unwrap();
    refused_for(&kubectl, "sneaky", "Blacklisted");
    // ... and so is one with the admin's grant copied over, or one written
    // by hand: neither verifies.
    apply(
        &kubectl,
        tmp.path(),
        "copied",
        &zone_manifest("copied", "copied.blocked.org.", Some(&grant)),
    )
    .unwrap();
    refused_for(&kubectl, "copied", "Blacklisted");
    let forged = json!({
        "designate.openstack.org/privileges": "use_blacklisted_zone",
        "designate.openstack.org/privileges-signature": "00".repeat(32),
    });
    apply(
        &kubectl,
        tmp.path(),
        "forged",
        &zone_manifest("forged", "forged.blocked.org.", Some(&forged)),
    )
    .unwrap();
    refused_for(&kubectl, "forged", "Blacklisted");
    let unsigned = json!({"designate.openstack.org/privileges": "use_blacklisted_zone"});
    apply(
        &kubectl,
        tmp.path(),
        "unsigned",
        &zone_manifest("unsigned", "unsigned.blocked.org.", Some(&unsigned)),
    )
    .unwrap();
    refused_for(&kubectl, "unsigned", "Blacklisted");

    // The key is in its Secret, never in the log.
    let secret = kubectl.get_json(&["secret", "designate-grant-key", "-n", "default"]);
    let encoded = secret["data"]["key"].as_str().expect("the key").to_string();
    assert!(encoded.len() >= 43, "{secret}");
    let log = std::fs::read_to_string(standalone.log_path()).unwrap_or_default();
    assert!(!log.contains(&encoded), "the grant key is in the log");

    // Removing the blacklist lets the refused zones in.
    let deleted = rest_request(&base, "DELETE", &path, &ADMIN, None);
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    expect_error(
        &rest_request(&base, "GET", &path, &ADMIN, None),
        404,
        "blacklist_not_found",
        "after the delete",
    );
    for name in ["sneaky", "copied", "forged", "unsigned"] {
        published(&kubectl, name);
    }
    assert_eq!(create_zone(&base, &MEMBER, "now.blocked.org.").status, 202);

    // TLDs on the kubectl path: outside the list refused, let in once the
    // TLD is added; published zones stay whatever the list becomes.
    let tld = rest_request(
        &base,
        "POST",
        "/v2/tlds",
        &ADMIN,
        Some(&json!({"name": "test"})),
    );
    assert_eq!(tld.status, 201, "{}", tld.text());
    apply(
        &kubectl,
        tmp.path(),
        "outside",
        &zone_manifest("outside", "outside.example.", None),
    )
    .unwrap();
    refused_for(&kubectl, "outside", "InvalidTLD");
    apply(
        &kubectl,
        tmp.path(),
        "inside",
        &zone_manifest("inside", "inside.test.", None),
    )
    .unwrap();
    published(&kubectl, "inside");
    // The org zones, published before, are not taken down.
    rest_active(&base, &ADMIN, &admin_zone_id);
    published(&kubectl, "sneaky");
    let added = rest_request(
        &base,
        "POST",
        "/v2/tlds",
        &ADMIN,
        Some(&json!({"name": "example"})),
    );
    assert_eq!(added.status, 201, "{}", added.text());
    published(&kubectl, "outside");
}

#[test]
fn an_admins_low_ttl_reaches_the_controllers() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-low-ttl-")
        .tempdir()
        .unwrap();
    let standalone = Standalone::try_start_with(&tmp.path().join("data"), &["--min-ttl", "300"])
        .unwrap_or_else(|e| panic!("starting standalone: {e:#}"));
    let base = standalone.wait_rest_url();
    let kubectl = kubectl_for(&standalone, tmp.path());
    let zone = |who: &[(&str, &str)], name: &str, ttl: i64| {
        rest_request(
            &base,
            "POST",
            "/v2/zones",
            who,
            Some(&json!({"name": name, "email": "a@example.org", "ttl": ttl})),
        )
    };

    // A member is refused a TTL below min_ttl; an admin is not, and the
    // controllers publish the admin's zone with it.
    assert_eq!(
        expect_error(
            &zone(&MEMBER, "member-low.org.", 60),
            400,
            "invalid_ttl",
            "a member's low TTL"
        ),
        "TTL is below the minimum: 300"
    );
    let admins = zone(&ADMIN, "admin-low.org.", 60);
    assert_eq!(admins.status, 202, "{}", admins.text());
    let active = rest_active(&base, &ADMIN, admins.json()["id"].as_str().unwrap());
    assert_eq!(active["ttl"], 60);

    // An admin lowers the TTL of a member's zone: the update is published.
    let members = zone(&MEMBER, "member.org.", 600);
    assert_eq!(members.status, 202, "{}", members.text());
    let id = members.json()["id"].as_str().unwrap().to_string();
    rest_active(&base, &MEMBER, &id);
    let sudo = [
        ("X-Auth-Project-ID", "bl-admin"),
        ("X-Roles", "admin"),
        ("X-Auth-Sudo-Project-ID", "bl-member"),
    ];
    let lowered = rest_request(
        &base,
        "PATCH",
        &format!("/v2/zones/{id}"),
        &sudo,
        Some(&json!({"ttl": 60})),
    );
    assert!(matches!(lowered.status, 200 | 202), "{}", lowered.text());
    wait_for(WAIT, "the lowered TTL published", || {
        let zones = kubectl.get_json(&["zones", "-A"]);
        let object = zones["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|z| z["metadata"]["uid"] == id.as_str())
            .cloned()
            .unwrap_or_default();
        let ready = object["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
            .cloned()
            .unwrap_or_default();
        let current = object["metadata"]["generation"] == object["status"]["observedGeneration"];
        (current && ready["status"] == "True")
            .then_some(())
            .ok_or_else(|| object["status"].to_string())
    });

    // kubectl: no grant, no low TTL.
    kubectl.ok(&["create", "namespace", NS]);
    let mut manifest = zone_manifest("kube-low", "kube-low.org.", None);
    manifest["spec"]["ttl"] = json!(60);
    apply(&kubectl, tmp.path(), "kube-low", &manifest).unwrap();
    refused_for(&kubectl, "kube-low", "InvalidTTL");
}

#[test]
fn openstack_cli_manages_blacklists() {
    let (tmp, _standalone, base) = start_rest("designate-e2e-blacklists-cli-", &[]);
    let cli = Cli::noauth(&base, tmp.path(), "noauth admin");
    let json = |args: &[&str]| cli.json(args);
    let made = json(&[
        "zone",
        "blacklist",
        "create",
        "--pattern",
        r"^([a-z0-9-]+\.)*cli-blocked\.org\.$",
        "--description",
        "by the CLI",
        "-f",
        "json",
    ]);
    assert_eq!(
        (&made["pattern"], &made["description"]),
        (
            &json!(r"^([a-z0-9-]+\.)*cli-blocked\.org\.$"),
            &json!("by the CLI")
        )
    );
    let id = made["id"].as_str().unwrap().to_string();
    let listed = json(&["zone", "blacklist", "list", "-f", "json"]);
    assert_eq!(
        listed
            .as_array()
            .map(|rows| rows.iter().map(|r| &r["id"]).collect::<Vec<_>>()),
        Some(vec![&json!(id)]),
        "{listed}"
    );
    let shown = json(&["zone", "blacklist", "show", &id, "-f", "json"]);
    assert_eq!(shown["pattern"], made["pattern"]);

    let invalid = cli.run(&["zone", "blacklist", "create", "--pattern", "(unclosed"]);
    assert!(!invalid.ok, "{}", invalid.describe());
    assert!(
        invalid.stderr.contains("is not a valid regular expression"),
        "{}",
        invalid.describe()
    );

    // The CLI's admin (noauth: admin) is exempt from the blacklist.
    let zone = json(&[
        "zone",
        "create",
        "--email",
        "a@example.org",
        "www.cli-blocked.org.",
        "-f",
        "json",
    ]);
    assert_eq!(zone["name"], "www.cli-blocked.org.");

    let changed = json(&[
        "zone",
        "blacklist",
        "set",
        &id,
        "--pattern",
        r"^cli-changed\.org\.$",
        "--description",
        "changed",
        "-f",
        "json",
    ]);
    assert_eq!(
        (&changed["pattern"], &changed["description"]),
        (&json!(r"^cli-changed\.org\.$"), &json!("changed"))
    );
    let deleted = cli.run(&["zone", "blacklist", "delete", &id]);
    assert!(deleted.ok, "{}", deleted.describe());
    assert_eq!(
        json(&["zone", "blacklist", "list", "-f", "json"]),
        json!([])
    );
}
