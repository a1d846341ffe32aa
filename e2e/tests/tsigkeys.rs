//! The TSIG key API (`/v2/tsigkeys`) through REST in noauth mode:
//! - Designate 23's recorded TSIG key steps (`shared/golden/admin/114..119`)
//!   replayed in order: statuses, error types and messages, field sets and
//!   values (the secret included: Designate 23 renders it), list lengths;
//! - Central's rules: the pool or zone a key is for must exist, names are
//!   unique, empty secrets are refused (`allow_empty_secrets_for_tsig =
//!   False`), the policies are admin only; lists filter, sort and page;
//! - the secret is kept in a Secret of the operator's namespace, owned by
//!   the key, and is nowhere in the `TsigKey` object (kubectl) nor in the
//!   process's log;
//! - the real `openstack tsigkey` CLI: create, list, show, set, delete.
//!
//! Needs `cargo build -p designate-operator` first. The golden dir is
//! `$DESIGNATE_GOLDEN_DIR`, else `../shared/golden` beside the workspace,
//! else `/work/shared/golden`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use designate_e2e::openstack::Cli;
use designate_e2e::{HttpResponse, Kubectl, Standalone, http_request, kubectl_for, start_rest};
use designate_e2e::{rest_request, wait_for};
use serde_json::{Value, json};

/// The fields of a TSIG key as Designate renders it.
const KEY_FIELDS: &[&str] = &[
    "id",
    "name",
    "algorithm",
    "secret",
    "scope",
    "resource_id",
    "created_at",
    "updated_at",
    "links",
];

/// Where standalone keeps the operator's own objects.
const OPERATOR_NAMESPACE: &str = "default";

const ADMIN: [(&str, &str); 2] = [("X-Auth-Project-ID", "tsig-admin"), ("X-Roles", "admin")];
const MEMBER: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "tsig-member"),
    ("X-Roles", "member,reader"),
];

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn expect_error(answer: &HttpResponse, status: u16, kind: &str, what: &str) -> Value {
    let body = answer.json();
    assert_eq!(
        (answer.status, body["code"].as_u64(), body["type"].as_str()),
        (status, Some(u64::from(status)), Some(kind)),
        "{what}: expected {status} {kind}, got {} {body}",
        answer.status
    );
    body
}

fn expect_key(answer: &HttpResponse, status: u16, what: &str) -> Value {
    assert_eq!(answer.status, status, "{what}: {}", answer.text());
    let key = answer.json();
    assert_eq!(
        keys(&key),
        KEY_FIELDS.iter().map(|k| k.to_string()).collect(),
        "{what}: {key}"
    );
    key
}

fn key_names(answer: &HttpResponse) -> Vec<String> {
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(
        keys(&body),
        BTreeSet::from(["tsigkeys".to_string(), "links".to_string()]),
        "{body}"
    );
    body["tsigkeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// The id of the `default` pool.
fn default_pool_id(base: &str) -> String {
    let pools = rest_request(base, "GET", "/v2/pools", &ADMIN, None);
    assert_eq!(pools.status, 200, "{}", pools.text());
    pools.json()["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "default")
        .and_then(|p| p["id"].as_str())
        .expect("the default pool")
        .to_string()
}

fn create_zone(base: &str, name: &str) -> String {
    let email = format!("hostmaster@{}", name.trim_end_matches('.'));
    let made = rest_request(
        base,
        "POST",
        "/v2/zones",
        &ADMIN,
        Some(&json!({"name": name, "email": email})),
    );
    assert_eq!(made.status, 202, "{}", made.text());
    made.json()["id"].as_str().unwrap().to_string()
}

/// The secret kept in a Secret, as kubectl shows it.
fn secret_of(kubectl: &Kubectl, secret_name: &str) -> Value {
    kubectl.get_json(&["secret", secret_name, "-n", OPERATOR_NAMESPACE])
}

/// The secret a Secret holds, decoded by kubectl.
fn decoded_secret(kubectl: &Kubectl, secret_name: &str) -> String {
    kubectl.ok(&[
        "get",
        "secret",
        secret_name,
        "-n",
        OPERATOR_NAMESPACE,
        "-o",
        "go-template={{.data.secret | base64decode}}",
    ])
}

/// No line of the process's log holds `secret`.
fn assert_not_logged(standalone: &Standalone, secret: &str) {
    let log = std::fs::read_to_string(standalone.log_path()).unwrap_or_default();
    let stdout = std::fs::read_to_string(standalone.data_dir().join("standalone.stdout"))
        .unwrap_or_default();
    assert!(!log.is_empty(), "the log is empty: nothing was checked");
    for (file, text) in [("stderr", &log), ("stdout", &stdout)] {
        if let Some(line) = text.lines().find(|line| line.contains(secret)) {
            panic!("the secret appears in the {file} log: {line}");
        }
    }
}

// ---------------------------------------------------------------------------
// The recording

fn golden_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DESIGNATE_GOLDEN_DIR") {
        return PathBuf::from(dir);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden");
    if beside.join("admin").is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared/golden")
}

/// The recorded TSIG key steps (`114-tsigkey-create` .. `119-tsigkey-delete`).
fn tsigkey_steps() -> Vec<(String, Value)> {
    let dir = golden_dir().join("admin");
    let mut steps: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading the golden recordings in {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.split('-')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| (114..=119).contains(&n))
        })
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    steps.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(steps.len(), 6, "the recorded steps in {}", dir.display());
    steps
}

/// Recorded ids replaced by ours.
fn translate(text: &str, ids: &BTreeMap<String, String>) -> String {
    ids.iter().fold(text.to_string(), |text, (recorded, ours)| {
        text.replace(recorded, ours)
    })
}

/// `links.self` without its host (the recording's is another port).
fn link_path(value: &Value) -> String {
    let link = value["links"]["self"].as_str().unwrap_or_default();
    link.splitn(4, '/').nth(3).unwrap_or_default().to_string()
}

/// One recorded key compared with ours: same fields and values but the
/// ids, times and host; `updated_at` set exactly when it was.
fn compare_key(step: &str, recorded: &Value, ours: &Value, ids: &BTreeMap<String, String>) {
    assert_eq!(keys(ours), keys(recorded), "{step}: fields of {ours}");
    for field in ["name", "algorithm", "secret", "scope"] {
        assert_eq!(ours[field], recorded[field], "{step}: {field} of {ours}");
    }
    assert_eq!(
        ours["resource_id"].as_str().unwrap_or_default(),
        translate(recorded["resource_id"].as_str().unwrap_or_default(), ids),
        "{step}: resource_id of {ours}"
    );
    assert_eq!(
        ours["updated_at"].is_null(),
        recorded["updated_at"].is_null(),
        "{step}: updated_at of {ours}"
    );
    assert_eq!(
        link_path(ours),
        translate(&link_path(recorded), ids),
        "{step}: link of {ours}"
    );
}

#[test]
fn replays_designate_golden_tsigkey_steps() {
    let (_tmp, standalone, base) = start_rest("designate-e2e-tsig-golden-", &[]);
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    // The recording's pool is our default pool.
    ids.insert(
        "794ccc2c-d751-44fe-b57f-8894c9f5c842".into(),
        default_pool_id(&base),
    );
    for (step, recorded) in tsigkey_steps() {
        let request = &recorded["request"];
        let expected = &recorded["response"];
        let method = request["method"].as_str().unwrap();
        let path = translate(request["path"].as_str().unwrap(), &ids);
        let headers: Vec<(&str, &str)> = request["headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
            .collect();
        let body =
            (!request["body"].is_null()).then(|| translate(&request["body"].to_string(), &ids));
        let answer = http_request(
            &base,
            method,
            &path,
            &headers,
            body.as_deref().map(str::as_bytes),
        )
        .unwrap_or_else(|e| panic!("{step}: {e:#}"));
        let status = expected["status"].as_u64().unwrap() as u16;
        assert_eq!(answer.status, status, "{step}: {}", answer.text());
        let (recorded, ours) = (&expected["body"], answer.json());
        if status >= 400 {
            assert_eq!(ours["type"], recorded["type"], "{step}: {ours}");
            assert_eq!(ours["message"], recorded["message"], "{step}: {ours}");
            assert_eq!(keys(&ours), keys(recorded), "{step}: {ours}");
        } else if status == 204 {
            assert_eq!(answer.body, b"", "{step}");
            assert_eq!(answer.header("content-type"), None, "{step}");
        } else if let Some(listed) = recorded["tsigkeys"].as_array() {
            assert_eq!(keys(&ours), keys(recorded), "{step}: {ours}");
            let items = ours["tsigkeys"].as_array().unwrap();
            assert_eq!(items.len(), listed.len(), "{step}: {ours}");
            for (r, o) in listed.iter().zip(items) {
                compare_key(&step, r, o, &ids);
            }
            assert_eq!(link_path(&ours), link_path(recorded), "{step}");
        } else {
            if status == 201 {
                let recorded_id = recorded["id"].as_str().unwrap().to_string();
                ids.insert(recorded_id, ours["id"].as_str().unwrap().to_string());
                assert_eq!(
                    answer.header("location"),
                    ours["links"]["self"].as_str(),
                    "{step}"
                );
            }
            compare_key(&step, recorded, &ours, &ids);
        }
    }
    let id = &ids["db49c6e3-2330-495c-83de-0b473862e6d2"];
    let gone = rest_request(&base, "GET", &format!("/v2/tsigkeys/{id}"), &ADMIN, None);
    let body = expect_error(&gone, 404, "tsigkey_not_found", "a deleted key");
    assert_eq!(body["message"], "Could not find TsigKey");
    for secret in ["SomeOldSecretKey", "NewSecret"] {
        assert_not_logged(&standalone, secret);
    }
}

#[test]
fn tsigkeys_keep_their_secret_in_a_secret() {
    let (tmp, standalone, base) = start_rest("designate-e2e-tsig-", &[]);
    let kubectl = kubectl_for(&standalone, tmp.path());
    let pool_id = default_pool_id(&base);
    let zone_id = create_zone(&base, "tsig.example.org.");
    let post = |body: Value| rest_request(&base, "POST", "/v2/tsigkeys", &ADMIN, Some(&body));

    let pool_secret = "cG9vbC1zZWNyZXQtZTJlLXRzaWc=";
    let made = post(json!({
        "name": "pool-key", "algorithm": "hmac-sha512", "secret": pool_secret,
        "scope": "POOL", "resource_id": pool_id,
    }));
    let key = expect_key(&made, 201, "a pool key");
    assert_eq!(made.header("location"), key["links"]["self"].as_str());
    assert_eq!(
        (&key["secret"], &key["scope"], &key["resource_id"]),
        (&json!(pool_secret), &json!("POOL"), &json!(pool_id))
    );
    assert!(key["updated_at"].is_null() && key["created_at"].is_string());
    let id = key["id"].as_str().unwrap().to_string();
    let path = format!("/v2/tsigkeys/{id}");

    // The key is a TsigKey whose uid is the REST id; the secret is only in
    // its Secret, which the key owns.
    let object = kubectl.get_json(&["tsigkey", "pool-key"]);
    assert_eq!(object["metadata"]["uid"], id.as_str());
    let secret_name = object["spec"]["secretRef"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        object["spec"],
        json!({"name": "pool-key", "algorithm": "hmac-sha512", "scope": "POOL",
               "resourceId": pool_id, "secretRef": {"name": secret_name}})
    );
    let yaml = kubectl.ok(&["get", "tsigkey", "pool-key", "-o", "yaml"]);
    assert!(!yaml.contains(pool_secret), "{yaml}");
    let secret = secret_of(&kubectl, &secret_name);
    assert_eq!(decoded_secret(&kubectl, &secret_name), pool_secret);
    assert_eq!(secret["metadata"]["ownerReferences"][0]["uid"], id.as_str());
    assert_eq!(secret["metadata"]["ownerReferences"][0]["kind"], "TsigKey");
    let table = kubectl.ok(&["get", "dtsig"]);
    assert!(
        table.contains("pool-key") && table.contains("hmac-sha512") && table.contains("POOL"),
        "{table}"
    );
    assert!(!table.contains(pool_secret), "{table}");

    let zone_secret = "em9uZS1zZWNyZXQtZTJl";
    let zone_key = expect_key(
        &post(json!({
            "name": "Zone Key", "algorithm": "hmac-md5", "secret": zone_secret,
            "scope": "ZONE", "resource_id": zone_id,
        })),
        201,
        "a zone key",
    );
    let zone_key_path = format!("/v2/tsigkeys/{}", zone_key["id"].as_str().unwrap());
    let shown = expect_key(
        &rest_request(&base, "GET", &zone_key_path, &ADMIN, None),
        200,
        "show",
    );
    assert_eq!(shown, zone_key);

    // Lists: filters, sort keys, paging.
    let list = |query: &str| {
        key_names(&rest_request(
            &base,
            "GET",
            &format!("/v2/tsigkeys{query}"),
            &ADMIN,
            None,
        ))
    };
    let mut all = list("");
    all.sort();
    assert_eq!(all, ["Zone Key", "pool-key"]);
    assert_eq!(list("?scope=ZONE"), ["Zone Key"]);
    assert_eq!(list("?scope=zababun"), Vec::<String>::new());
    assert_eq!(list("?algorithm=hmac-sha512"), ["pool-key"]);
    assert_eq!(list("?name=pool*"), ["pool-key"]);
    assert_eq!(
        list("?sort_key=name&sort_dir=desc"),
        ["Zone Key", "pool-key"]
    );
    assert_eq!(list("?sort_key=name"), ["pool-key", "Zone Key"]);
    let page = rest_request(&base, "GET", "/v2/tsigkeys?limit=1", &ADMIN, None);
    assert_eq!(key_names(&page).len(), 1);
    assert!(
        page.json()["links"]["next"]
            .as_str()
            .is_some_and(|next| next.contains("/v2/tsigkeys?limit=1&marker=")),
        "{}",
        page.text()
    );
    for (query, kind) in [
        ("sort_key=secret", "invalid_sort_key"),
        ("sort_dir=zababun", "invalid_sort_dir"),
        ("secret=x", "bad_request"),
        ("limit=0", "invalid_limit"),
    ] {
        let answer = rest_request(&base, "GET", &format!("/v2/tsigkeys?{query}"), &ADMIN, None);
        expect_error(&answer, 400, kind, query);
    }

    // Refusals.
    let body = |name: &str, secret: &str, scope: &str, resource: &str| {
        json!({"name": name, "algorithm": "hmac-sha256", "secret": secret,
               "scope": scope, "resource_id": resource})
    };
    let duplicate = post(body("POOL-KEY", "x", "POOL", &pool_id));
    assert_eq!(
        expect_error(&duplicate, 409, "duplicate_tsigkey", "a duplicate")["message"],
        "Duplicate TsigKey"
    );
    let unknown = "00000000-0000-4000-8000-000000000000";
    let no_zone = post(body("k", "x", "ZONE", unknown));
    assert_eq!(
        expect_error(&no_zone, 400, "invalid_tsigkey", "no such zone")["message"],
        format!("Resource ID {unknown} is not a valid zone")
    );
    // A pool's id is no zone's.
    let wrong_scope = post(body("k", "x", "ZONE", &pool_id));
    expect_error(&wrong_scope, 400, "invalid_tsigkey", "a pool as a zone");
    let no_pool = post(body("k", "x", "POOL", &zone_id));
    assert_eq!(
        expect_error(&no_pool, 400, "invalid_tsigkey", "no such pool")["message"],
        format!("Resource ID {zone_id} is not a valid pool")
    );
    let empty = post(body("k", "", "POOL", &pool_id));
    let errors = expect_error(&empty, 400, "invalid_object", "an empty secret");
    assert_eq!(
        errors["errors"]["errors"][0]["message"],
        "'secret' should not be empty"
    );
    let bad_algorithm = post(json!({"name": "k", "algorithm": "zababun", "secret": "x",
                                    "scope": "POOL", "resource_id": pool_id}));
    assert_eq!(
        expect_error(&bad_algorithm, 400, "invalid_object", "an algorithm")["message"],
        "Provided object is not valid. Got a ValueError error with message Field value zababun is invalid"
    );
    expect_error(
        &post(body(&"k".repeat(161), "x", "POOL", &pool_id)),
        400,
        "invalid_object",
        "a long name",
    );
    let bad_id = rest_request(&base, "GET", "/v2/tsigkeys/foo", &ADMIN, None);
    assert_eq!(
        expect_error(&bad_id, 400, "invalid_uuid", "a bad id")["message"],
        "Invalid UUID tsigkey_id: foo"
    );
    for method in ["GET", "DELETE"] {
        let answer = rest_request(
            &base,
            method,
            &format!("/v2/tsigkeys/{unknown}"),
            &ADMIN,
            None,
        );
        expect_error(&answer, 404, "tsigkey_not_found", method);
    }
    let dot_json = rest_request(&base, "GET", "/v2/tsigkeys.json", &ADMIN, None);
    assert_eq!(dot_json.status, 404, "{}", dot_json.text());
    // Nothing refused was made.
    assert_eq!(list("").len(), 2);

    // A member may do nothing with keys.
    for (method, path, body) in [
        ("GET", "/v2/tsigkeys".to_string(), None),
        (
            "POST",
            "/v2/tsigkeys".to_string(),
            Some(body("member", "x", "POOL", &pool_id)),
        ),
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({"secret": "member"}))),
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

    // Updates: a new secret goes to the Secret; the key is renamed.
    let patch = |body: Value| rest_request(&base, "PATCH", &path, &ADMIN, Some(&body));
    let new_secret = "bmV3LXBvb2wtc2VjcmV0LWUyZQ==";
    let changed = expect_key(
        &patch(json!({"secret": new_secret, "name": "renamed-key"})),
        200,
        "update",
    );
    assert_eq!(
        (&changed["secret"], &changed["name"], &changed["id"]),
        (&json!(new_secret), &json!("renamed-key"), &json!(id))
    );
    assert!(changed["updated_at"].is_string(), "{changed}");
    assert_eq!(decoded_secret(&kubectl, &secret_name), new_secret);
    let yaml = kubectl.ok(&["get", "tsigkeys", "-o", "yaml"]);
    assert!(
        !yaml.contains(new_secret) && !yaml.contains(zone_secret),
        "{yaml}"
    );
    expect_error(
        &patch(json!({"secret": ""})),
        400,
        "invalid_object",
        "an emptied secret",
    );
    expect_error(
        &patch(json!({"name": "zone key"})),
        409,
        "duplicate_tsigkey",
        "a rename to a taken name",
    );
    expect_error(
        &patch(json!({"scope": "ZONE"})),
        400,
        "invalid_tsigkey",
        "a pool id as a zone",
    );
    let moved = expect_key(
        &patch(json!({"scope": "ZONE", "resource_id": zone_id})),
        200,
        "a move to the zone",
    );
    assert_eq!(
        (&moved["scope"], &moved["resource_id"]),
        (&json!("ZONE"), &json!(zone_id))
    );
    expect_error(
        &patch(json!({"id": unknown})),
        400,
        "invalid_object",
        "a new id",
    );

    // Deletes take the Secret along.
    let deleted = rest_request(&base, "DELETE", &path, &ADMIN, None);
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    expect_error(
        &rest_request(&base, "GET", &path, &ADMIN, None),
        404,
        "tsigkey_not_found",
        "after the delete",
    );
    assert!(
        kubectl
            .fail(&["get", "tsigkey", "pool-key"])
            .contains("not found")
    );
    wait_for(
        std::time::Duration::from_secs(10),
        "the Secret gone",
        || {
            let output = kubectl.run(&["get", "secret", &secret_name, "-n", OPERATOR_NAMESPACE]);
            (!output.status.success())
                .then_some(())
                .ok_or_else(|| "still there".to_string())
        },
    );

    for secret in [pool_secret, new_secret, zone_secret] {
        assert_not_logged(&standalone, secret);
    }
}

#[test]
fn openstack_cli_manages_tsigkeys() {
    let (tmp, standalone, base) = start_rest("designate-e2e-tsig-cli-", &[]);
    let pool_id = default_pool_id(&base);
    let cli = Cli::noauth(&base, tmp.path(), "noauth");
    let json_of = |args: &[&str]| {
        let run = cli.run(args);
        assert!(run.ok, "{}", run.describe());
        run.json()
            .unwrap_or_else(|| panic!("no JSON: {}", run.describe()))
    };
    let secret = "Y2xpLXNlY3JldC1lMmUtdHNpZw==";
    let made = json_of(&[
        "tsigkey",
        "create",
        "--name",
        "cli-key",
        "--algorithm",
        "hmac-sha256",
        "--secret",
        secret,
        "--scope",
        "POOL",
        "--resource-id",
        &pool_id,
        "-f",
        "json",
    ]);
    assert_eq!(
        (
            &made["name"],
            &made["algorithm"],
            &made["scope"],
            &made["resource_id"],
            &made["secret"]
        ),
        (
            &json!("cli-key"),
            &json!("hmac-sha256"),
            &json!("POOL"),
            &json!(pool_id),
            &json!(secret)
        ),
        "{made}"
    );
    let id = made["id"].as_str().unwrap().to_string();
    let listed = json_of(&["tsigkey", "list", "-f", "json"]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["name"].as_str())
        .collect();
    assert_eq!(names, ["cli-key"], "{listed}");
    let shown = json_of(&["tsigkey", "show", &id, "-f", "json"]);
    assert_eq!(shown["id"], id.as_str(), "{shown}");
    assert_eq!(shown["secret"], secret, "{shown}");
    let new_secret = "bmV3LWNsaS1zZWNyZXQ=";
    let set = json_of(&[
        "tsigkey",
        "set",
        &id,
        "--name",
        "cli-key-2",
        "--secret",
        new_secret,
        "-f",
        "json",
    ]);
    assert_eq!(
        (&set["name"], &set["secret"]),
        (&json!("cli-key-2"), &json!(new_secret)),
        "{set}"
    );
    assert!(set["updated_at"].is_string(), "{set}");
    let bad = cli.run(&[
        "tsigkey",
        "create",
        "--name",
        "bad",
        "--algorithm",
        "hmac-bogus",
        "--secret",
        "x",
        "--scope",
        "POOL",
        "--resource-id",
        &pool_id,
    ]);
    assert!(
        !bad.ok && bad.stderr.contains("Field value hmac-bogus is invalid"),
        "{}",
        bad.describe()
    );
    let deleted = cli.run(&["tsigkey", "delete", &id]);
    assert!(deleted.ok, "{}", deleted.describe());
    let gone = cli.run(&["tsigkey", "show", &id]);
    assert!(
        !gone.ok && gone.stderr.contains("Could not find TsigKey"),
        "{}",
        gone.describe()
    );
    for secret in [secret, new_secret] {
        assert_not_logged(&standalone, secret);
    }
}

// ---------------------------------------------------------------------------
// On the wire: MiniDNS and the keys

/// `dig` against MiniDNS: `(status or "", the whole output)`.
fn dig_mdns(mdns: std::net::SocketAddr, args: &[&str]) -> (String, String) {
    let port = mdns.port().to_string();
    let server = format!("@{}", mdns.ip());
    let mut command = std::process::Command::new("dig");
    command.args([server.as_str(), "-p", port.as_str(), "+time=2", "+tries=1"]);
    let output = command.args(args).output().expect("running dig");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let status = text
        .lines()
        .find_map(|l| l.split("status: ").nth(1))
        .map(|s| s.split(',').next().unwrap_or_default().to_string())
        .unwrap_or_default();
    (status, text)
}

/// Whether an AXFR of `zone` (signed with `key`, `algorithm:name:secret`)
/// gave the zone: its SOA, twice, and no failure.
fn axfr(mdns: std::net::SocketAddr, zone: &str, key: Option<&str>) -> (bool, String) {
    let mut args = vec![zone, "AXFR", "+nocmd"];
    if let Some(key) = key {
        args.extend(["-y", key]);
    }
    let (_, text) = dig_mdns(mdns, &args);
    let soas = text
        .lines()
        .filter(|l| !l.starts_with(';') && l.split_whitespace().nth(3) == Some("SOA"))
        .count();
    (soas == 2 && !text.contains("Transfer failed"), text)
}

/// Waits until an AXFR gives the zone (`want`) or not.
fn wait_axfr(mdns: std::net::SocketAddr, zone: &str, key: Option<&str>, want: bool, what: &str) {
    wait_for(std::time::Duration::from_secs(15), what, || {
        let (got, text) = axfr(mdns, zone, key);
        (got == want).then_some(()).ok_or(text)
    });
}

#[test]
fn tsig_keys_guard_transfers_and_notifies_on_the_wire() {
    let (tmp, standalone, base) = start_rest("designate-e2e-tsig-wire-", &[]);
    let kubectl = kubectl_for(&standalone, tmp.path());
    let mdns = standalone.mdns_addr().expect("MiniDNS's address");
    let pool_id = default_pool_id(&base);
    // 127.0.0.1 serves the pool (an also-notify that never answers): it may
    // transfer unsigned while no key is for the pool.
    kubectl.ok(&[
        "patch",
        "pool",
        "default",
        "--type=merge",
        "-p",
        r#"{"spec": {"alsoNotifies": [{"host": "127.0.0.1", "port": 9}]}}"#,
    ]);
    let (zone, other, broken) = (
        "wire.example.org.",
        "other.example.org.",
        "broken.example.org.",
    );
    let legacy = ["hmac-md5", "hmac-sha1", "hmac-sha224"];
    let legacy_zones: Vec<String> = legacy
        .iter()
        .map(|algorithm| format!("{algorithm}.example.org."))
        .collect();
    let zone_id = create_zone(&base, zone);
    let other_id = create_zone(&base, other);
    let broken_id = create_zone(&base, broken);
    let legacy_ids: Vec<String> = legacy_zones.iter().map(|z| create_zone(&base, z)).collect();
    for name in [zone, other, broken]
        .into_iter()
        .chain(legacy_zones.iter().map(String::as_str))
    {
        wait_axfr(
            mdns,
            name,
            None,
            true,
            &format!("{name}: unsigned AXFR from an allowed address"),
        );
    }
    let post = |body: Value| {
        let made = rest_request(&base, "POST", "/v2/tsigkeys", &ADMIN, Some(&body));
        expect_key(&made, 201, "a key")
    };

    // A key MiniDNS cannot use (its secret is not base64) still guards its
    // zone: nobody transfers it.
    post(
        json!({"name": "broken-key", "algorithm": "hmac-sha256", "secret": "not base64!",
                "scope": "ZONE", "resource_id": broken_id}),
    );
    wait_axfr(
        mdns,
        broken,
        None,
        false,
        "a zone with a broken key, unsigned",
    );
    assert_not_logged(&standalone, "not base64!");
    assert!(
        axfr(mdns, zone, None).0,
        "the other zones still transfer unsigned"
    );

    // Designate's older algorithms: MiniDNS verifies them and signs with
    // them (dig checks the answer's TSIG).
    for ((algorithm, name), id) in legacy.iter().zip(&legacy_zones).zip(&legacy_ids) {
        let secret = "bGVnYWN5LXNlY3JldC1lMmU=";
        post(
            json!({"name": format!("{algorithm}-key"), "algorithm": algorithm,
                    "secret": secret, "scope": "ZONE", "resource_id": id}),
        );
        let signed = format!("{algorithm}:{algorithm}-key:{secret}");
        wait_axfr(
            mdns,
            name,
            Some(&signed),
            true,
            &format!("AXFR signed with {algorithm}"),
        );
        let (ok, text) = axfr(mdns, name, None);
        assert!(!ok, "{name} unsigned: {text}");
        let wrong = format!("{algorithm}:{algorithm}-key:d3Jvbmc=");
        let (ok, text) = axfr(mdns, name, Some(&wrong));
        assert!(!ok, "{name} wrongly signed: {text}");
    }

    // A pool key: the pool's zones transfer only signed with it.
    let secret = "d2lyZS1wb29sLXNlY3JldC1lMmUtdHNpZy1rZXk=";
    post(
        json!({"name": "wire-pool-key", "algorithm": "hmac-sha256", "secret": secret,
                "scope": "POOL", "resource_id": pool_id}),
    );
    let signed = format!("hmac-sha256:wire-pool-key:{secret}");
    wait_axfr(
        mdns,
        zone,
        None,
        false,
        "unsigned AXFR of a pool with a key",
    );
    wait_axfr(
        mdns,
        zone,
        Some(&signed),
        true,
        "AXFR signed with the pool's key",
    );
    // dig shows no rcode for a refused AXFR; the NOTIFYs below show it.
    let (_, text) = dig_mdns(mdns, &[zone, "AXFR", "+nocmd"]);
    assert!(text.contains("Transfer failed"), "{text}");
    let wrong = "hmac-sha256:wire-pool-key:d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==";
    let (ok, text) = axfr(mdns, zone, Some(wrong));
    assert!(!ok, "a wrongly signed AXFR: {text}");
    let (ok, text) = axfr(mdns, zone, Some("hmac-sha256:no-such-key:c2VjcmV0"));
    assert!(!ok, "an AXFR signed with an unknown key: {text}");

    // A zone key: its zone only (the pool's key still works for all).
    let zone_secret = "d2lyZS16b25lLXNlY3JldC1lMmU=";
    post(
        json!({"name": "wire-zone-key", "algorithm": "hmac-sha512", "secret": zone_secret,
                "scope": "ZONE", "resource_id": other_id}),
    );
    let zone_signed = format!("hmac-sha512:wire-zone-key:{zone_secret}");
    wait_axfr(
        mdns,
        other,
        Some(&zone_signed),
        true,
        "AXFR signed with the zone's key",
    );
    let (ok, text) = axfr(mdns, zone, Some(&zone_signed));
    assert!(!ok, "another zone's key: {text}");
    assert!(
        axfr(mdns, other, Some(&signed)).0,
        "the pool's key covers the zone"
    );

    // NOTIFY: wrongly signed is NOTAUTH (RFC 8945), unsigned REFUSED for a
    // guarded zone, signed with the pool's key accepted.
    let notify = |key: Option<&str>| {
        let mut args = vec![zone, "SOA", "+opcode=notify", "+norec"];
        if let Some(key) = key {
            args.extend(["-y", key]);
        }
        dig_mdns(mdns, &args)
    };
    let (status, text) = notify(Some(wrong));
    assert_eq!(status, "NOTAUTH", "{text}");
    let (status, text) = notify(None);
    assert_eq!(status, "REFUSED", "{text}");
    let (status, text) = notify(Some(&signed));
    assert_eq!(status, "NOERROR", "{text}");

    // Deleting the pool key opens the pool's zones to its servers again.
    let keys = rest_request(
        &base,
        "GET",
        "/v2/tsigkeys?name=wire-pool-key",
        &ADMIN,
        None,
    )
    .json();
    let pool_key_id = keys["tsigkeys"][0]["id"].as_str().unwrap().to_string();
    let deleted = rest_request(
        &base,
        "DELETE",
        &format!("/v2/tsigkeys/{pool_key_id}"),
        &ADMIN,
        None,
    );
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    wait_axfr(
        mdns,
        zone,
        None,
        true,
        "unsigned AXFR once the pool's key is gone",
    );
    let _ = zone_id;

    let yaml = kubectl.ok(&["get", "tsigkeys", "-o", "yaml"]);
    for secret in [secret, zone_secret] {
        assert!(!yaml.contains(secret), "{yaml}");
        assert_not_logged(&standalone, secret);
    }
}

#[test]
fn bind_transfers_with_the_pools_key() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-tsig-bind-")
        .tempdir()
        .unwrap();
    let backed = designate_e2e::BindBacked::start(tmp.path(), &[]);
    let (base, bind) = (backed.rest.clone(), &backed.nameserver);
    let mdns = backed.standalone.mdns_addr().expect("MiniDNS's address");
    let pool_id = default_pool_id(&base);
    let secret = bind.key_base64().expect("the rndc key");

    // A zone served before the pool has a key: transferred unsigned.
    let zone = "keyed.example.org.";
    let zone_id = create_zone(&base, zone);
    let www = format!("www.{zone}");
    let rs = rest_request(
        &base,
        "POST",
        &format!("/v2/zones/{zone_id}/recordsets"),
        &ADMIN,
        Some(&json!({"name": www, "type": "A", "records": ["192.0.2.7"]})),
    );
    assert_eq!(rs.status, 202, "{}", rs.text());
    let rs_id = rs.json()["id"].as_str().unwrap().to_string();
    let served = |want: &str| {
        wait_for(
            std::time::Duration::from_secs(30),
            &format!("BIND serves {www} A {want}"),
            || {
                let (status, answers) = designate_e2e::dig(bind.dns_addr(), &www, "A");
                (status == "NOERROR" && answers == [want.to_string()])
                    .then_some(())
                    .ok_or(format!("{status} {answers:?}"))
            },
        )
    };
    served("192.0.2.7");

    // The pool's key, known to BIND by the same name (named.conf's `key`
    // statement). The pool's target names no key: the controllers give
    // BIND the pool's, and sign their NOTIFYs and serial polls with it.
    let made = rest_request(
        &base,
        "POST",
        "/v2/tsigkeys",
        &ADMIN,
        Some(
            &json!({"name": "designate-test", "algorithm": "hmac-sha256", "secret": secret,
                     "scope": "POOL", "resource_id": pool_id}),
        ),
    );
    expect_key(&made, 201, "the pool's key");
    // Unsigned, MiniDNS now refuses the pool's zones; signed it transfers.
    wait_axfr(mdns, zone, None, false, "unsigned AXFR refused");
    assert!(
        axfr(
            mdns,
            zone,
            Some(&format!("hmac-sha256:designate-test:{secret}"))
        )
        .0,
        "signed with the pool's key"
    );
    // A change reaches BIND: a signed NOTIFY, a signed IXFR, signed polls
    // (the zone turns ACTIVE only when the signed answers verify).
    let changed = rest_request(
        &base,
        "PUT",
        &format!("/v2/zones/{zone_id}/recordsets/{rs_id}"),
        &ADMIN,
        Some(&json!({"records": ["192.0.2.8"]})),
    );
    assert_eq!(changed.status, 202, "{}", changed.text());
    served("192.0.2.8");
    wait_for(
        std::time::Duration::from_secs(30),
        "the zone ACTIVE",
        || {
            let zone = rest_request(&base, "GET", &format!("/v2/zones/{zone_id}"), &ADMIN, None);
            let status = zone.json()["status"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (status == "ACTIVE").then_some(()).ok_or(status)
        },
    );
    // BIND says the NOTIFY and the transfer came signed with the key.
    let logs = bind.logs();
    let signed = |what: &str| {
        logs.lines().any(|l| {
            l.contains(what) && l.contains("keyed.example.org") && l.contains("designate-test")
        })
    };
    assert!(signed("transferred serial"), "{logs}");
    assert!(signed("notify"), "{logs}");

    let yaml = backed.kubectl.ok(&["get", "tsigkeys", "-o", "yaml"]);
    assert!(!yaml.contains(&secret), "{yaml}");
    assert_not_logged(&backed.standalone, &secret);
}

#[test]
fn powerdns_transfers_with_the_pools_key() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-tsig-pdns-")
        .tempdir()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let standalone = Standalone::try_start_with(&tmp.path().join("data"), &[])
        .unwrap_or_else(|e| panic!("{e:#}"));
    let base = standalone.wait_rest_url();
    let mdns = standalone.mdns_addr().expect("MiniDNS's address");
    let pdns = runtime
        .block_on(designate_backends::testing::PowerDns::start())
        .expect("starting PowerDNS");
    let kubectl = kubectl_for(&standalone, tmp.path());
    let api_token = pdns.secrets()["api_token"].clone();
    let secret = "cGRucy1wb29sLWtleS1zZWNyZXQtZTJl";

    // PowerDNS holds a stale key of that name; the operator sets the
    // pool's key over it through the API.
    let api = pdns.api_endpoint();
    let stale = http_request(
        &api,
        "POST",
        "/api/v1/servers/localhost/tsigkeys",
        &[
            ("X-API-Key", &api_token),
            ("Content-Type", "application/json"),
        ],
        Some(
            json!({"name": "pdns-key", "algorithm": "hmac-sha1", "key": "c3RhbGUtc2VjcmV0"})
                .to_string()
                .as_bytes(),
        ),
    )
    .unwrap();
    assert_eq!(stale.status, 201, "{}", stale.text());
    let pool_id = default_pool_id(&base);
    let key = rest_request(
        &base,
        "POST",
        "/v2/tsigkeys",
        &ADMIN,
        Some(
            &json!({"name": "pdns-key", "algorithm": "hmac-sha256", "secret": secret,
                     "scope": "POOL", "resource_id": pool_id}),
        ),
    );
    expect_key(&key, 201, "the pool's key");

    kubectl.ok(&[
        "create",
        "secret",
        "generic",
        "pdns-api",
        &format!("--from-literal=api_token={api_token}"),
    ]);
    let options: String = pdns
        .target_options()
        .iter()
        .map(|(k, v)| format!("      {k}: \"{v}\"\n"))
        .collect();
    let pool = format!(
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Pool\nmetadata:\n  name: default\nspec:\n  nsRecords:\n  - hostname: ns1.example.net.\n    priority: 1\n  nameservers:\n  - host: \"{ip}\"\n    port: {port}\n  targets:\n  - type: pdns4\n    masters:\n    - host: \"{mdns_ip}\"\n      port: {mdns_port}\n    options:\n{options}    secretRef:\n      name: pdns-api\n",
        ip = pdns.dns_addr().ip(),
        port = pdns.dns_addr().port(),
        mdns_ip = mdns.ip(),
        mdns_port = mdns.port(),
    );
    let pool_file = tmp.path().join("pool.yaml");
    std::fs::write(&pool_file, pool).unwrap();
    kubectl.ok(&["apply", "-f", pool_file.to_str().unwrap()]);

    let zone = "pdns-keyed.example.org.";
    let zone_id = create_zone(&base, zone);
    let www = format!("www.{zone}");
    let rs = rest_request(
        &base,
        "POST",
        &format!("/v2/zones/{zone_id}/recordsets"),
        &ADMIN,
        Some(&json!({"name": www, "type": "A", "records": ["192.0.2.9"]})),
    );
    assert_eq!(rs.status, 202, "{}", rs.text());
    wait_for(
        std::time::Duration::from_secs(30),
        "PowerDNS serves the zone",
        || {
            let (status, answers) = designate_e2e::dig(pdns.dns_addr(), &www, "A");
            (status == "NOERROR" && answers == ["192.0.2.9".to_string()])
                .then_some(())
                .ok_or(format!("{status} {answers:?}"))
        },
    );
    // PowerDNS got it signed: unsigned, MiniDNS refuses the pool's zones.
    let (ok, text) = axfr(mdns, zone, None);
    assert!(!ok, "an unsigned AXFR: {text}");
    let shown = http_request(
        &api,
        "GET",
        &format!("/api/v1/servers/localhost/zones/{zone}"),
        &[("X-API-Key", &api_token)],
        None,
    )
    .unwrap();
    assert_eq!(
        shown.json()["slave_tsig_key_ids"],
        json!(["pdns-key."]),
        "{}",
        shown.text()
    );
    let installed = http_request(
        &api,
        "GET",
        "/api/v1/servers/localhost/tsigkeys/pdns-key.",
        &[("X-API-Key", &api_token)],
        None,
    )
    .unwrap();
    assert_eq!(installed.status, 200, "{}", installed.text());
    assert_eq!(
        installed.json()["key"],
        json!(secret),
        "{}",
        installed.text()
    );
    assert_eq!(installed.json()["algorithm"], json!("hmac-sha256"));
    assert_not_logged(&standalone, secret);
}
