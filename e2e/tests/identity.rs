//! Keystone authentication, Designate 23's default policies and tenancy
//! through a real Keystone (the noauth half of tenancy is in `tenancy.rs`).
//! Every test runs `designate-operator standalone --auth-strategy keystone`
//! against the conformance Keystone (`../shared/conformance`, started by
//! [`Keystone::admin`] if it does not answer) with users and projects of its
//! own, deleted when it ends:
//!
//! - `default_policies_per_persona`: every v2 operation the API serves, for
//!   an admin, a member, a reader and a holder of an unrelated role of the
//!   owning project, a member of another project, no token and a bad
//!   token, against the status codes of Designate 23's default policy (the
//!   table `EXPECTED`);
//! - `context_headers_need_admin`: `X-Auth-All-Projects`,
//!   `X-Auth-Sudo-Project-ID` (also to a project Keystone does not know),
//!   `X-Designate-Edit-Managed-Records`, `X-Designate-Hard-Delete`;
//! - `malformed_and_dead_tokens_get_401`: odd tokens, revoked tokens and
//!   tokens of deleted projects and users;
//! - `keystone_outage_gives_503_and_recovers`: a second Keystone is killed
//!   under a running standalone and started again;
//! - `namespaces_only_for_authenticated_projects`.
//!
//! Needs `cargo build -p designate-operator` first.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use designate_e2e::keystone::{
    Keystone, Project, SecondKeystone, User, random_id, random_suffix, standalone_args,
};
use designate_e2e::{
    HttpResponse, Kubectl, Standalone, http_request, kubectl_versions, rest_request, wait_for,
};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A standalone control plane validating tokens with a Keystone.
struct World {
    // Dropped first: stopped before its data dir goes (its log's tail is
    // printed if the test panics).
    _standalone: Standalone,
    rest: String,
    kubectl: Kubectl,
    _tmp: tempfile::TempDir,
}

impl World {
    fn start(label: &str, keystone_url: &str, extra: &[&str]) -> Self {
        let tmp = tempfile::Builder::new()
            .prefix(&format!("designate-e2e-identity-{label}-"))
            .tempdir()
            .unwrap();
        let mut args = standalone_args(keystone_url, tmp.path());
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let standalone = Standalone::try_start_with(&tmp.path().join("data"), &args)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let rest = standalone.wait_rest_url();
        let (_, bin) = kubectl_versions().pop().expect("a kubectl");
        let kubectl = Kubectl::new(bin, standalone.kubeconfig(), tmp.path().join("kube-cache"));
        Self {
            _standalone: standalone,
            rest,
            kubectl,
            _tmp: tmp,
        }
    }

    fn namespaces(&self) -> BTreeSet<String> {
        self.kubectl.get_json(&["namespaces"])["items"]
            .as_array()
            .expect("a namespace list")
            .iter()
            .filter_map(|ns| ns["metadata"]["name"].as_str().map(str::to_string))
            .collect()
    }

    /// The namespaces annotated with `project`.
    fn namespaces_of(&self, project: &str) -> Vec<Value> {
        self.kubectl.get_json(&["namespaces"])["items"]
            .as_array()
            .expect("a namespace list")
            .iter()
            .filter(|ns| {
                ns["metadata"]["annotations"]["designate.openstack.org/project-id"] == project
            })
            .cloned()
            .collect()
    }

    /// The uid of the default Pool.
    fn default_pool_id(&self) -> String {
        let pools = self.kubectl.get_json(&["pools.designate.openstack.org"]);
        pools["items"]
            .as_array()
            .and_then(|items| items.iter().find(|p| p["metadata"]["name"] == "default"))
            .and_then(|pool| pool["metadata"]["uid"].as_str())
            .unwrap_or_else(|| panic!("no default Pool: {pools}"))
            .to_string()
    }
}

/// Who calls: a Keystone token, none, or one Keystone does not know.
struct Persona {
    name: &'static str,
    token: Option<String>,
}

impl Persona {
    fn of(name: &'static str, keystone: &Keystone, user: &User, project: &Project) -> Self {
        Self {
            name,
            token: Some(keystone.issue_token(user, project)),
        }
    }

    fn anonymous() -> Self {
        Self {
            name: "no token",
            token: None,
        }
    }

    /// A well-formed Fernet-looking token no Keystone issued.
    fn bad() -> Self {
        Self {
            name: "bad token",
            token: Some(format!("gAAAAABn{}{}", random_id(), random_id())),
        }
    }

    fn call(
        &self,
        rest: &str,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> HttpResponse {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(token) = &self.token {
            headers.push(("X-Auth-Token", token));
        }
        headers.extend_from_slice(extra);
        rest_request(rest, method, path, &headers, body)
    }
}

fn zone_body(name: &str) -> Value {
    json!({"name": name, "email": format!("hostmaster@{}", name.trim_end_matches('.'))})
}

fn a_recordset(name: &str, ip: &str) -> Value {
    json!({"name": name, "type": "A", "records": [ip], "ttl": 3600})
}

fn id_of(response: &HttpResponse, what: &str) -> String {
    response.json()["id"]
        .as_str()
        .unwrap_or_else(|| {
            panic!(
                "{what}: expected an object with an id, got {} {}",
                response.status,
                response.text()
            )
        })
        .to_string()
}

/// What is wrong with an answer that must be keystonemiddleware's 401.
fn unauthorized_problems(response: &HttpResponse, keystone_url: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if response.status != 401 {
        problems.push(format!("status {} (expected 401)", response.status));
        return problems;
    }
    let challenge = response.header("www-authenticate").unwrap_or_default();
    if !challenge.starts_with("Keystone uri=") || !challenge.contains(keystone_url) {
        problems.push(format!(
            "WWW-Authenticate {challenge:?} (expected Keystone uri=\"{keystone_url}\")"
        ));
    }
    let body = response.json();
    if body["error"]["code"] != 401 || body["error"]["title"] != "Unauthorized" {
        problems.push(format!(
            "body {} (expected {{\"error\": {{\"code\": 401, \"title\": \"Unauthorized\", ...}}}})",
            response.text()
        ));
    }
    problems
}

/// The ids of a list answer's `key` items.
fn ids(response: &HttpResponse, key: &str) -> BTreeSet<String> {
    response.json()[key]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The personas of the policy table, in its column order.
const PERSONAS: [&str; 7] = [
    "admin-of-P",
    "member-of-P",
    "reader-of-P",
    "member-of-Q",
    "service-of-P",
    "no token",
    "bad token",
];

/// The status Designate 23 answers, per operation and persona (columns as
/// [`PERSONAS`]), with its default policy (designate-23-policies.tsv,
/// enforce_new_defaults) behind keystonemiddleware:
/// - no or bad token: keystonemiddleware's 401 before anything else;
/// - reads (`find_zones`, `get_zone`, `get_zone_ns_records`,
///   `find_recordsets`, `get_recordset`): admin, or reader of the owner;
/// - writes (`create_zone`, `update_zone`, `delete_zone`,
///   `create_recordset`, `update_recordset`, `delete_recordset`): admin, or
///   member of the owner;
/// - a zone of P is 404 to a member of Q (Central looks the zone up with
///   the tenant's criteria, or `_check_zone_share_permission`, before any
///   policy check), and its lists hold nothing of P;
/// - pools (`find_pools`, `get_pool`): admin only, checked first;
/// - a user of P whose only role is `service` (a role none of these rules
///   names, implying none): 403 everywhere but `/v2/limits`;
/// - `/v2/limits` (`get_absolute_limits`): no policy of its own (Central
///   reads the caller's quotas without `policy.check`).
///
/// Beyond the status: a 401 carries `WWW-Authenticate: Keystone uri=...`
/// and keystonemiddleware's `{"error": {"code": 401, "title":
/// "Unauthorized", ...}}`; a 403 is `{"code": 403, "type": "forbidden"}`;
/// every 404 here is Central's `ZoneNotFound` (`zone_not_found`), also for
/// `GET /v2/recordsets/{rs}` (`get_recordset` finds the recordset and its
/// zone without the tenant's criteria, then `_check_zone_share_permission`
/// raises `ZoneNotFound`); a 301 points at the recordset under its zone.
///
/// Placeholders: `{zone}` and `{rs}` are P's (made by member-of-P),
/// `{fresh zone}` / `{fresh rs}` one per persona, `{pool}` the default Pool.
#[rustfmt::skip]
const EXPECTED: [(&str, [u16; 7]); 16] = [
    //                                                admin  member reader member service  no    bad
    //                                                of P   of P   of P   of Q   of P    token token
    ("GET /v2/zones",                                 [200,   200,   200,   200,   403,    401,  401]),
    ("POST /v2/zones",                                [202,   202,   403,   202,   403,    401,  401]),
    ("GET /v2/zones/{zone}",                          [200,   200,   200,   404,   403,    401,  401]),
    ("PATCH /v2/zones/{zone}",                        [202,   202,   403,   404,   403,    401,  401]),
    ("DELETE /v2/zones/{fresh zone}",                 [202,   202,   403,   404,   403,    401,  401]),
    ("GET /v2/zones/{zone}/nameservers",              [200,   200,   200,   404,   403,    401,  401]),
    ("GET /v2/zones/{zone}/recordsets",               [200,   200,   200,   404,   403,    401,  401]),
    ("POST /v2/zones/{zone}/recordsets",              [202,   202,   403,   404,   403,    401,  401]),
    ("GET /v2/zones/{zone}/recordsets/{rs}",          [200,   200,   200,   404,   403,    401,  401]),
    ("PUT /v2/zones/{zone}/recordsets/{rs}",          [202,   202,   403,   404,   403,    401,  401]),
    ("DELETE /v2/zones/{zone}/recordsets/{fresh rs}", [202,   202,   403,   404,   403,    401,  401]),
    ("GET /v2/recordsets",                            [200,   200,   200,   200,   403,    401,  401]),
    ("GET /v2/recordsets/{rs}",                       [301,   301,   301,   404,   403,    401,  401]),
    ("GET /v2/pools",                                 [200,   403,   403,   403,   403,    401,  401]),
    ("GET /v2/pools/{pool}",                          [200,   403,   403,   403,   403,    401,  401]),
    ("GET /v2/limits",                                [200,   200,   200,   200,   200,    401,  401]),
];

#[test]
fn default_policies_per_persona() {
    let started = Instant::now();
    let keystone = Keystone::admin();
    let p = keystone.create_project("e2e-policy-p");
    let q = keystone.create_project("e2e-policy-q");
    let admin_p = keystone.user_with_role("e2e-admin-p", &p, "admin");
    let member_p = keystone.user_with_role("e2e-member-p", &p, "member");
    let reader_p = keystone.user_with_role("e2e-reader-p", &p, "reader");
    let member_q = keystone.user_with_role("e2e-member-q", &q, "member");
    let service_p = keystone.user_with_role("e2e-service-p", &p, "service");
    let personas = [
        Persona::of(PERSONAS[0], &keystone, &admin_p, &p),
        Persona::of(PERSONAS[1], &keystone, &member_p, &p),
        Persona::of(PERSONAS[2], &keystone, &reader_p, &p),
        Persona::of(PERSONAS[3], &keystone, &member_q, &q),
        Persona::of(PERSONAS[4], &keystone, &service_p, &p),
        Persona::anonymous(),
        Persona::bad(),
    ];
    for (persona, name) in personas.iter().zip(PERSONAS) {
        assert_eq!(persona.name, name);
    }
    eprintln!("Keystone set up in {:?}", started.elapsed());
    let world = World::start("policy", keystone.url(), &["--quota-zones", "100"]);
    let rest = &world.rest;
    let owner = &personas[1];

    // P's objects, made by member-of-P.
    let made = owner.call(
        rest,
        "POST",
        "/v2/zones",
        &[],
        Some(&zone_body("policy.org.")),
    );
    assert_eq!(
        made.status,
        202,
        "member-of-P creates a zone: {}",
        made.text()
    );
    let zone = id_of(&made, "the zone of P");
    assert_eq!(made.json()["project_id"], p.id.as_str(), "{}", made.text());
    let rs_path = format!("/v2/zones/{zone}/recordsets");
    let made = owner.call(
        rest,
        "POST",
        &rs_path,
        &[],
        Some(&a_recordset("www.policy.org.", "192.0.2.1")),
    );
    assert_eq!(
        made.status,
        202,
        "member-of-P creates a recordset: {}",
        made.text()
    );
    let rs = id_of(&made, "the recordset of P");
    let mut fresh_zones = Vec::new();
    let mut fresh_rs = Vec::new();
    for (i, persona) in personas.iter().enumerate() {
        let made = owner.call(
            rest,
            "POST",
            "/v2/zones",
            &[],
            Some(&zone_body(&format!("delete-{i}-policy.org."))),
        );
        assert_eq!(
            made.status,
            202,
            "a zone for {} to delete: {}",
            persona.name,
            made.text()
        );
        fresh_zones.push(id_of(&made, "a zone to delete"));
        let made = owner.call(
            rest,
            "POST",
            &rs_path,
            &[],
            Some(&a_recordset(
                &format!("delete-{i}.policy.org."),
                "192.0.2.2",
            )),
        );
        assert_eq!(
            made.status,
            202,
            "a recordset for {} to delete: {}",
            persona.name,
            made.text()
        );
        fresh_rs.push(id_of(&made, "a recordset to delete"));
    }
    let pool = world.default_pool_id();

    // The table.
    let mut mismatches = Vec::new();
    let mut rows = Vec::new();
    for (operation, want) in EXPECTED {
        let (method, template) = operation.split_once(' ').unwrap();
        let mut cells = Vec::new();
        for (i, persona) in personas.iter().enumerate() {
            let path = template
                .replace("{fresh zone}", &fresh_zones[i])
                .replace("{fresh rs}", &fresh_rs[i])
                .replace("{zone}", &zone)
                .replace("{rs}", &rs)
                .replace("{pool}", &pool);
            let body = match operation {
                "POST /v2/zones" => Some(zone_body(&format!("create-{i}-policy.org."))),
                "PATCH /v2/zones/{zone}" => Some(
                    json!({"ttl": 3000 + i, "description": format!("patched by {}", persona.name)}),
                ),
                "POST /v2/zones/{zone}/recordsets" => Some(a_recordset(
                    &format!("create-{i}.policy.org."),
                    &format!("192.0.2.{}", 10 + i),
                )),
                "PUT /v2/zones/{zone}/recordsets/{rs}" => {
                    Some(json!({"records": [format!("198.51.100.{}", 10 + i)]}))
                }
                _ => None,
            };
            let response = persona.call(rest, method, &path, &[], body.as_ref());
            let got = response.status;
            let mut problems = Vec::new();
            if got != want[i] {
                problems.push(format!(
                    "got {got}, expected {}: {}",
                    want[i],
                    response.text()
                ));
            } else if got == 401 {
                problems = unauthorized_problems(&response, keystone.url());
            } else if got == 403 || got == 404 {
                // Designate: the policy's Forbidden, or Central's
                // ZoneNotFound (the zone is looked up, or its share
                // checked, before any other lookup).
                let want_type = if got == 403 {
                    "forbidden"
                } else {
                    "zone_not_found"
                };
                let body = response.json();
                if body["code"] != got || body["type"] != want_type {
                    problems.push(format!(
                        "body {} (expected code {got}, type {want_type})",
                        response.text()
                    ));
                }
            } else if got == 301 {
                let location = response.header("location").unwrap_or_default();
                if !location.ends_with(&format!("/v2/zones/{zone}/recordsets/{rs}")) {
                    problems.push(format!("301 to {location:?}"));
                }
            }
            // What a member of Q lists holds nothing of P.
            if persona.name == "member-of-Q" && got == 200 {
                let listed = ids(&response, "zones")
                    .into_iter()
                    .chain(ids(&response, "recordsets"))
                    .collect::<BTreeSet<_>>();
                if listed.contains(&zone) || listed.contains(&rs) {
                    problems.push(format!("lists P's objects: {}", response.text()));
                }
            }
            for problem in &problems {
                mismatches.push(format!("{operation} as {}: {problem}", persona.name));
            }
            cells.push(if problems.is_empty() {
                format!("{got}")
            } else if got == want[i] {
                format!("{got}*")
            } else {
                format!("{got}!={}", want[i])
            });
        }
        rows.push((operation, cells));
    }
    let width = EXPECTED.iter().map(|(op, _)| op.len()).max().unwrap_or(0);
    let mut table = format!("{:width$}", "operation");
    for name in PERSONAS {
        table.push_str(&format!(" | {name:>12}"));
    }
    for (operation, cells) in &rows {
        table.push_str(&format!("\n{operation:width$}"));
        for cell in cells {
            table.push_str(&format!(" | {cell:>12}"));
        }
    }
    eprintln!(
        "got (got!=expected where the status differs, got* where the status is right and its \
         headers or body are not):\n{table}"
    );
    eprintln!("policy table done in {:?}", started.elapsed());
    assert!(
        mismatches.is_empty(),
        "{} cell(s) differ from Designate 23 (its default policy, keystonemiddleware, Central's lookups):\n{}\n\n{table}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn context_headers_need_admin() {
    let started = Instant::now();
    let keystone = Keystone::admin();
    let p = keystone.create_project("e2e-headers-p");
    let q = keystone.create_project("e2e-headers-q");
    let admin_p = keystone.user_with_role("e2e-admin-p", &p, "admin");
    let member_p = keystone.user_with_role("e2e-member-p", &p, "member");
    let member_q = keystone.user_with_role("e2e-member-q", &q, "member");
    let admin = Persona::of("admin-of-P", &keystone, &admin_p, &p);
    let member = Persona::of("member-of-P", &keystone, &member_p, &p);
    let other = Persona::of("member-of-Q", &keystone, &member_q, &q);
    let world = World::start("headers", keystone.url(), &[]);
    let rest = &world.rest;
    let mut findings: Vec<String> = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            eprintln!("MISMATCH {what}");
            findings.push(what);
        }
    };

    let made = member.call(
        rest,
        "POST",
        "/v2/zones",
        &[],
        Some(&zone_body("headers-p.org.")),
    );
    assert_eq!(made.status, 202, "{}", made.text());
    let zone_p = id_of(&made, "P's zone");
    let made = other.call(
        rest,
        "POST",
        "/v2/zones",
        &[],
        Some(&zone_body("headers-q.org.")),
    );
    assert_eq!(made.status, 202, "{}", made.text());
    let zone_q = id_of(&made, "Q's zone");

    // X-Auth-All-Projects
    let all = [("X-Auth-All-Projects", "true")];
    let listed = admin.call(rest, "GET", "/v2/zones", &all, None);
    let seen = ids(&listed, "zones");
    check(
        listed.status == 200 && seen.contains(&zone_p) && seen.contains(&zone_q),
        format!(
            "GET /v2/zones with X-Auth-All-Projects as admin-of-P: expected 200 listing P's and Q's zones, got {} {}",
            listed.status,
            listed.text()
        ),
    );
    let listed = admin.call(rest, "GET", "/v2/zones", &[], None);
    let seen = ids(&listed, "zones");
    check(
        listed.status == 200 && seen.contains(&zone_p) && !seen.contains(&zone_q),
        format!(
            "GET /v2/zones as admin-of-P without the header: expected P's zone only, got {} {}",
            listed.status,
            listed.text()
        ),
    );
    let refused = member.call(rest, "GET", "/v2/zones", &all, None);
    check(
        refused.status == 403,
        format!(
            "GET /v2/zones with X-Auth-All-Projects as member-of-P: expected 403, got {} {}",
            refused.status,
            refused.text()
        ),
    );

    // X-Auth-Sudo-Project-ID
    let sudo_q = [("X-Auth-Sudo-Project-ID", q.id.as_str())];
    let made = admin.call(
        rest,
        "POST",
        "/v2/zones",
        &sudo_q,
        Some(&zone_body("sudo-q.org.")),
    );
    check(
        made.status == 202 && made.json()["project_id"] == q.id.as_str(),
        format!(
            "POST /v2/zones as admin-of-P with sudo to Q: expected 202 with project_id {}, got {} {}",
            q.id,
            made.status,
            made.text()
        ),
    );
    if made.status == 202 {
        let sudo_zone = id_of(&made, "the sudo zone");
        let listed = other.call(rest, "GET", "/v2/zones", &[], None);
        check(
            ids(&listed, "zones").contains(&sudo_zone),
            format!(
                "member-of-Q does not list the zone admin-of-P made for Q: {} {}",
                listed.status,
                listed.text()
            ),
        );
        let shown = other.call(rest, "GET", &format!("/v2/zones/{sudo_zone}"), &[], None);
        check(
            shown.status == 200,
            format!(
                "GET the sudo zone as member-of-Q: expected 200, got {} {}",
                shown.status,
                shown.text()
            ),
        );
        let hidden = member.call(rest, "GET", &format!("/v2/zones/{sudo_zone}"), &[], None);
        check(
            hidden.status == 404,
            format!(
                "GET Q's sudo zone as member-of-P: expected 404, got {} {}",
                hidden.status,
                hidden.text()
            ),
        );
    }
    let listed = admin.call(rest, "GET", "/v2/zones", &sudo_q, None);
    let seen = ids(&listed, "zones");
    check(
        listed.status == 200 && seen.contains(&zone_q) && !seen.contains(&zone_p),
        format!(
            "GET /v2/zones as admin-of-P with sudo to Q: expected Q's zones only, got {} {}",
            listed.status,
            listed.text()
        ),
    );
    for (method, path, body) in [
        ("GET", "/v2/zones".to_string(), None),
        (
            "POST",
            "/v2/zones".to_string(),
            Some(zone_body("member-sudo.org.")),
        ),
        ("GET", format!("/v2/zones/{zone_q}"), None),
    ] {
        let refused = member.call(rest, method, &path, &sudo_q, body.as_ref());
        check(
            refused.status == 403,
            format!(
                "{method} {path} as member-of-P with sudo to Q: expected 403, got {} {}",
                refused.status,
                refused.text()
            ),
        );
    }

    // With Keystone, noauth's headers are no one's word.
    let spoof = [
        ("X-Auth-Project-ID", q.id.as_str()),
        ("X-Tenant-ID", q.id.as_str()),
        ("X-Roles", "admin,member,reader"),
    ];
    let listed = member.call(rest, "GET", "/v2/zones", &spoof, None);
    let seen = ids(&listed, "zones");
    check(
        listed.status == 200 && seen.contains(&zone_p) && !seen.contains(&zone_q),
        format!(
            "GET /v2/zones as member-of-P claiming project Q and role admin in headers: expected P's zones only, got {} {}",
            listed.status,
            listed.text()
        ),
    );
    let refused = member.call(rest, "GET", "/v2/pools", &spoof, None);
    check(
        refused.status == 403,
        format!(
            "GET /v2/pools as member-of-P claiming role admin in headers: expected 403, got {} {}",
            refused.status,
            refused.text()
        ),
    );
    let refused = member.call(
        rest,
        "GET",
        "/v2/zones",
        &[("X-Auth-Sudo-Tenant-ID", q.id.as_str())],
        None,
    );
    check(
        refused.status == 403,
        format!(
            "GET /v2/zones as member-of-P with X-Auth-Sudo-Tenant-ID: expected 403, got {} {}",
            refused.status,
            refused.text()
        ),
    );

    // X-Designate-Edit-Managed-Records and X-Designate-Hard-Delete
    for (header, method, path) in [
        (
            "X-Designate-Edit-Managed-Records",
            "GET",
            format!("/v2/zones/{zone_p}/recordsets"),
        ),
        (
            "X-Designate-Hard-Delete",
            "DELETE",
            format!("/v2/zones/{zone_p}"),
        ),
    ] {
        let refused = member.call(rest, method, &path, &[(header, "true")], None);
        check(
            refused.status == 403,
            format!(
                "{method} {path} with {header}: true as member-of-P: expected 403, got {} {}",
                refused.status,
                refused.text()
            ),
        );
    }
    let still = member.call(rest, "GET", &format!("/v2/zones/{zone_p}"), &[], None);
    check(
        still.status == 200 && still.json()["action"] != "DELETE",
        format!(
            "P's zone after a refused hard delete: expected it untouched, got {} {}",
            still.status,
            still.text()
        ),
    );
    let allowed = admin.call(
        rest,
        "GET",
        &format!("/v2/zones/{zone_p}/recordsets"),
        &[("X-Designate-Edit-Managed-Records", "true")],
        None,
    );
    check(
        allowed.status == 200,
        format!(
            "GET recordsets with X-Designate-Edit-Managed-Records as admin-of-P: expected 200, got {} {}",
            allowed.status,
            allowed.text()
        ),
    );

    // Sudo to a project Keystone does not know: taken on the admin's word,
    // as Designate does (tempest's ZonesAdminTest creates a zone for
    // "FakeProjectID"); the project gets one namespace of its own, removed
    // once the zone is gone.
    let ghost = random_id();
    let sudo = [("X-Auth-Sudo-Project-ID", ghost.as_str())];
    let made = admin.call(
        rest,
        "POST",
        "/v2/zones",
        &sudo,
        Some(&zone_body("ghost-project.org.")),
    );
    check(
        made.status == 202 && made.json()["project_id"] == ghost.as_str(),
        format!(
            "POST /v2/zones as admin-of-P with sudo to unknown project {ghost}: expected 202, got {} {}",
            made.status,
            made.text()
        ),
    );
    check(
        world.namespaces_of(&ghost).len() == 1,
        format!(
            "namespaces of the sudo project {ghost}: {:?}",
            world.namespaces_of(&ghost)
        ),
    );
    eprintln!("headers test done in {:?}", started.elapsed());
    assert!(
        findings.is_empty(),
        "{} difference(s) from Designate 23:\n{}",
        findings.len(),
        findings.join("\n")
    );
}

#[test]
fn malformed_and_dead_tokens_get_401() {
    let started = Instant::now();
    let keystone = Keystone::admin();
    let p = keystone.create_project("e2e-tokens-p");
    let gone = keystone.create_project("e2e-tokens-gone");
    let member = keystone.user_with_role("e2e-member-p", &p, "member");
    let member_gone = keystone.user_with_role("e2e-member-gone", &gone, "member");
    let doomed = keystone.user_with_role("e2e-doomed", &p, "member");
    let world = World::start("tokens", keystone.url(), &[]);
    let rest = &world.rest;
    let mut findings = Vec::new();

    // A valid token works (the baseline).
    let valid = keystone.issue_token(&member, &p);
    let ok = rest_request(rest, "GET", "/v2/zones", &[("X-Auth-Token", &valid)], None);
    assert_eq!(ok.status, 200, "a valid token: {}", ok.text());

    let long = "a".repeat(10 * 1024);
    let cases: Vec<(&str, Option<String>)> = vec![
        ("10 KiB of 'a'", Some(long)),
        ("4 KiB of 'a'", Some("a".repeat(4 * 1024))),
        (
            "an unknown Fernet-like token",
            Some(format!("gAAAAAB{}", random_id())),
        ),
        ("an empty header", Some(String::new())),
        ("only spaces", Some("   ".to_string())),
        ("a tab inside", Some(format!("abc\t{}", random_id()))),
        ("a space inside", Some(format!("abc {}", random_id()))),
        ("non-ASCII", Some("tökén-ünknöwn".to_string())),
        ("the valid token twice", Some(format!("{valid}{valid}"))),
        (
            "the valid token with one byte changed",
            Some({
                let mut bytes = valid.clone().into_bytes();
                let last = bytes.len() - 5;
                bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
                String::from_utf8(bytes).unwrap()
            }),
        ),
        ("no X-Auth-Token but noauth's headers", None),
    ];
    for (what, token) in &cases {
        let mut headers = vec![("Accept", "application/json")];
        match token {
            Some(token) => headers.push(("X-Auth-Token", token.as_str())),
            None => {
                headers.push(("X-Auth-Project-ID", p.id.as_str()));
                headers.push(("X-Roles", "admin"));
            }
        }
        let response = http_request(rest, "GET", "/v2/zones", &headers, None)
            .unwrap_or_else(|e| panic!("GET /v2/zones with {what}: {e:#}"));
        for problem in unauthorized_problems(&response, keystone.url()) {
            findings.push(format!("GET /v2/zones with {what}: {problem}"));
        }
    }
    // A control character sent raw: refused by the HTTP layer (400) or by
    // authentication (401); never a pass, never an error.
    for raw in ["abc\u{1}def", "abc\u{7f}def"] {
        let response = http_request(
            rest,
            "GET",
            "/v2/zones",
            &[("Accept", "application/json"), ("X-Auth-Token", raw)],
            None,
        );
        match response {
            Ok(response) if response.status == 401 => {
                for problem in unauthorized_problems(&response, keystone.url()) {
                    findings.push(format!("GET /v2/zones with {raw:?} raw: {problem}"));
                }
            }
            Ok(response) if response.status == 400 => {
                eprintln!("a token with {raw:?} raw: 400 from the HTTP layer");
            }
            Ok(response) => findings.push(format!(
                "GET /v2/zones with {raw:?} raw: expected 401 (or the HTTP layer's 400), got {} {}",
                response.status,
                response.text()
            )),
            Err(error) => eprintln!("a token with {raw:?} raw: connection closed ({error:#})"),
        }
    }

    // Tokens that Keystone stopped honouring before their first use.
    let revoked = keystone.issue_token(&member, &p);
    keystone.revoke_token(&revoked);
    let of_gone_project = keystone.issue_token(&member_gone, &gone);
    keystone.delete_project(&gone);
    let of_deleted_user = keystone.issue_token(&doomed, &p);
    keystone.delete_user(&doomed);
    for (what, token) in [
        ("a revoked token", &revoked),
        ("a token of a deleted project", &of_gone_project),
        ("a token of a deleted user", &of_deleted_user),
    ] {
        let response = rest_request(rest, "GET", "/v2/zones", &[("X-Auth-Token", token)], None);
        for problem in unauthorized_problems(&response, keystone.url()) {
            findings.push(format!("GET /v2/zones with {what}: {problem}"));
        }
        let response = rest_request(
            rest,
            "POST",
            "/v2/zones",
            &[("X-Auth-Token", token)],
            Some(&zone_body(&format!("dead-{}.org.", random_suffix()))),
        );
        for problem in unauthorized_problems(&response, keystone.url()) {
            findings.push(format!("POST /v2/zones with {what}: {problem}"));
        }
    }
    check_no_namespace_for(&world, &gone.id, &mut findings);
    // The valid token still works after all that.
    let ok = rest_request(rest, "GET", "/v2/zones", &[("X-Auth-Token", &valid)], None);
    if ok.status != 200 {
        findings.push(format!(
            "the valid token afterwards: {} {}",
            ok.status,
            ok.text()
        ));
    }
    eprintln!("token test done in {:?}", started.elapsed());
    assert!(
        findings.is_empty(),
        "{} difference(s):\n{}",
        findings.len(),
        findings.join("\n")
    );
}

fn check_no_namespace_for(world: &World, project: &str, findings: &mut Vec<String>) {
    let namespaces = world.namespaces_of(project);
    if !namespaces.is_empty() {
        findings.push(format!(
            "a namespace was made for project {project}: {namespaces:?}"
        ));
    }
}

#[test]
fn keystone_outage_gives_503_and_recovers() {
    let started = Instant::now();
    let keystone = Keystone::admin();
    let p = keystone.create_project("e2e-outage-p");
    let member = keystone.user_with_role("e2e-member-p", &p, "member");
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-keystone2-")
        .tempdir()
        .unwrap();
    let mut second = SecondKeystone::start(tmp.path());
    let world = World::start("outage", &second.url(), &[]);
    let rest = &world.rest;
    let get =
        |token: &str| rest_request(rest, "GET", "/v2/zones", &[("X-Auth-Token", token)], None);

    let seen = keystone.issue_token(&member, &p);
    let first = get(&seen);
    assert_eq!(
        first.status,
        200,
        "a token through the second Keystone: {}",
        first.text()
    );
    // Issued by the main Keystone; this standalone never saw it.
    let fresh = keystone.issue_token(&member, &p);

    second.kill();
    let mut findings = Vec::new();
    for attempt in 1..=3 {
        let response = get(&fresh);
        let body = response.json();
        if response.status != 503 || body["code"] != 503 || !body["type"].is_string() {
            findings.push(format!(
                "a new token while Keystone is down (attempt {attempt}): expected 503 with {{\"code\": 503, \"type\": ...}}, got {} {}",
                response.status,
                response.text()
            ));
        }
    }
    let cached = get(&seen);
    if cached.status != 200 {
        findings.push(format!(
            "a token validated before the outage: expected 200 from the cache, got {} {}",
            cached.status,
            cached.text()
        ));
    }
    let anonymous = rest_request(rest, "GET", "/v2/zones", &[], None);
    for problem in unauthorized_problems(&anonymous, &second.url()) {
        findings.push(format!("no token while Keystone is down: {problem}"));
    }

    second.restart();
    let restarted = Instant::now();
    let recovered = wait_for(
        TIMEOUT,
        "the new token to work once Keystone is back",
        || {
            let response = get(&fresh);
            match response.status {
                200 => Ok(response),
                503 => Err(format!("503 {}", response.text())),
                other => panic!(
                    "the new token once Keystone is back: expected 503 then 200, got {other} {}",
                    response.text()
                ),
            }
        },
    );
    eprintln!(
        "the new token got 200 {:?} after Keystone came back",
        restarted.elapsed()
    );
    assert_eq!(recovered.status, 200);
    let still = get(&seen);
    if still.status != 200 {
        findings.push(format!(
            "the old token after the outage: {} {}",
            still.status,
            still.text()
        ));
    }
    eprintln!("outage test done in {:?}", started.elapsed());
    assert!(
        findings.is_empty(),
        "{} difference(s):\n{}",
        findings.len(),
        findings.join("\n")
    );
}

#[test]
fn namespaces_only_for_authenticated_projects() {
    let started = Instant::now();
    let keystone = Keystone::admin();
    let p = keystone.create_project("e2e-ns-p");
    let member = keystone.user_with_role("e2e-member-p", &p, "member");
    let token = keystone.issue_token(&member, &p);
    let world = World::start("namespaces", keystone.url(), &[]);
    let rest = &world.rest;
    let before = world.namespaces();

    let bad = format!("gAAAAAB{}", random_id());
    let spoof = [
        ("X-Auth-Project-ID", p.id.as_str()),
        ("X-Roles", "admin,member,reader"),
    ];
    let malformed = format!("not a token {}", random_id());
    let mut unexpected = Vec::new();
    for i in 0..50 {
        // Every fifth with a token Keystone is asked about (~1 s each on
        // the conformance Keystone), the others refused without asking.
        let mut headers: Vec<(&str, &str)> = match i % 5 {
            0 => vec![("X-Auth-Token", bad.as_str())],
            1 | 3 => vec![],
            2 => vec![("X-Auth-Token", malformed.as_str())],
            _ => spoof.to_vec(),
        };
        if i % 7 == 0 {
            headers.push(("X-Auth-Sudo-Project-ID", "kube-system"));
        }
        let (method, path, body) = match i % 4 {
            0 => (
                "POST",
                "/v2/zones".to_string(),
                Some(zone_body(&format!("anon-{i}.org."))),
            ),
            1 => ("GET", "/v2/zones".to_string(), None),
            2 => (
                "POST",
                format!("/v2/zones/{}/recordsets", uuid_like()),
                Some(a_recordset(&format!("x.anon-{i}.org."), "192.0.2.1")),
            ),
            _ => (
                "POST",
                "/v2/zones".to_string(),
                Some(zone_body(&format!("anon-{i}.net."))),
            ),
        };
        let response = rest_request(rest, method, &path, &headers, body.as_ref());
        if response.status != 401 {
            unexpected.push(format!(
                "{method} {path} {headers:?}: {} {}",
                response.status,
                response.text()
            ));
        }
    }
    let after = world.namespaces();
    assert_eq!(
        before, after,
        "requests without a valid token changed the namespaces"
    );
    assert!(
        unexpected.is_empty(),
        "expected 401:\n{}",
        unexpected.join("\n")
    );

    // The first zone of P makes exactly one namespace, marked as P's.
    let made = rest_request(
        rest,
        "POST",
        "/v2/zones",
        &[("X-Auth-Token", &token)],
        Some(&zone_body("first-of-p.org.")),
    );
    assert_eq!(made.status, 202, "P's first zone: {}", made.text());
    let made_ns = wait_for(TIMEOUT, "P's namespace", || {
        let now = world.namespaces();
        let new: Vec<String> = now.difference(&before).cloned().collect();
        if new.is_empty() {
            Err("no new namespace yet".to_string())
        } else {
            Ok(new)
        }
    });
    assert_eq!(
        made_ns.len(),
        1,
        "one namespace for P's first zone: {made_ns:?}"
    );
    let namespace = world.kubectl.get_json(&["namespace", &made_ns[0]]);
    assert_eq!(
        namespace["metadata"]["labels"]["designate.openstack.org/tenancy"], "project",
        "{namespace}"
    );
    assert_eq!(
        namespace["metadata"]["annotations"]["designate.openstack.org/project-id"],
        p.id.as_str(),
        "{namespace}"
    );
    // The second zone goes to the same namespace.
    let made = rest_request(
        rest,
        "POST",
        "/v2/zones",
        &[("X-Auth-Token", &token)],
        Some(&zone_body("second-of-p.org.")),
    );
    assert_eq!(made.status, 202, "P's second zone: {}", made.text());
    let now: BTreeSet<String> = world.namespaces().difference(&before).cloned().collect();
    assert_eq!(now.len(), 1, "P's zones share one namespace: {now:?}");
    let zones = world
        .kubectl
        .get_json(&["zones.designate.openstack.org", "-n", &made_ns[0]]);
    assert_eq!(
        zones["items"].as_array().map(Vec::len),
        Some(2),
        "P's zones in {}: {zones}",
        made_ns[0]
    );
    eprintln!("namespace test done in {:?}", started.elapsed());
}

/// A random UUID-shaped id.
fn uuid_like() -> String {
    let hex = random_id();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
