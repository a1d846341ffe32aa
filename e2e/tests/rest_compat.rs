//! What Designate clients expect of the REST API beyond the shared
//! recordings (issue 18), each checked against Designate 23's code:
//! - TTLs coerced as the adapters' `IntegerFields` do (Python's `int()`):
//!   numeric strings and floats taken, anything else refused with the
//!   adapter's `ValueError`/`TypeError` message;
//! - a record listed twice kept once (the adapter reads records into a set),
//!   records that are not a list refused with its schema error;
//! - sort keys: `records` passes the API's check for a zone's recordsets
//!   and is refused by storage (`Sort key supplied is invalid: None`);
//! - `?all_projects=` as `X-Auth-All-Projects`, under the same policy;
//! - another project's recordset is `zone_not_found`;
//! - every path answers Designate's JSON error shape;
//! - refused requests leave no object behind;
//! - the apex NS stays managed;
//! - pecan's HTTP: HEAD and OPTIONS 405, trailing slashes dropped
//!   (`NormalizeURIMiddleware`), `Accept` without JSON 406; the versions
//!   document and `/healthcheck` as their own apps answer them;
//! - objects carry their fields with values.
//!
//! Needs `cargo build -p designate-operator` first.

use std::time::Duration;

use designate_e2e::{HttpResponse, http_request, rest_request, start_rest, wait_for};
use serde_json::{Value, json};

const ADMIN: [(&str, &str); 2] = [("X-Auth-Project-ID", "compat-admin"), ("X-Roles", "admin")];
const P1: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "compat-p1"),
    ("X-Roles", "member,reader"),
];
const P2: [(&str, &str); 2] = [
    ("X-Auth-Project-ID", "compat-p2"),
    ("X-Roles", "member,reader"),
];
const WAIT: Duration = Duration::from_secs(60);

/// Asserts a refusal in Designate's shape and returns its message.
fn refused(answer: &HttpResponse, status: u16, kind: &str, what: &str) -> String {
    let body = answer.json();
    assert_eq!(
        (answer.status, &body["code"], &body["type"]),
        (status, &json!(status), &json!(kind)),
        "{what}: {}",
        answer.text()
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/json"),
        "{what}"
    );
    assert!(
        body["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req-")),
        "{what}: {body}"
    );
    body["message"].as_str().unwrap_or_default().to_string()
}

fn accepted(answer: &HttpResponse, what: &str) -> Value {
    assert!(
        (200..=202).contains(&answer.status),
        "{what}: {} {}",
        answer.status,
        answer.text()
    );
    answer.json()
}

fn create_zone(base: &str, who: &[(&str, &str)], name: &str, ttl: Value) -> HttpResponse {
    rest_request(
        base,
        "POST",
        "/v2/zones",
        who,
        Some(&json!({"name": name, "email": "hostmaster@example.org", "ttl": ttl})),
    )
}

fn active_zone(base: &str, who: &[(&str, &str)], name: &str) -> String {
    let zone = accepted(&create_zone(base, who, name, Value::Null), name);
    let id = zone["id"].as_str().unwrap().to_string();
    wait_for(WAIT, &format!("{name} ACTIVE"), || {
        let zone = rest_request(base, "GET", &format!("/v2/zones/{id}"), who, None).json();
        (zone["status"] == "ACTIVE")
            .then_some(())
            .ok_or(zone.to_string())
    });
    id
}

const INVALID_INT: &str = "Provided object is not valid. Got a ValueError error with message invalid literal for int() with base 10:";
const NOT_AN_INT: &str = "Provided object is not valid. Got a TypeError with message int() argument must be a string, a bytes-like object or a real number, not";

#[test]
fn bodies_are_read_as_designates_adapters_read_them() {
    let (_tmp, _standalone, base) = start_rest("designate-e2e-compat-bodies-", &[]);
    let b = base.as_str();

    // Zone create: a numeric string and a float are TTLs.
    let zone = accepted(
        &create_zone(b, &P1, "str-ttl.org.", json!("3600")),
        "string",
    );
    assert_eq!(zone["ttl"], 3600);
    let zone = accepted(
        &create_zone(b, &P1, "float-ttl.org.", json!(3600.7)),
        "float",
    );
    assert_eq!(zone["ttl"], 3600);
    for (ttl, message) in [
        (json!("abc"), format!("{INVALID_INT} 'abc'")),
        (json!("3600.0"), format!("{INVALID_INT} '3600.0'")),
        (json!([3600]), format!("{NOT_AN_INT} 'list'")),
        (json!({"ttl": 1}), format!("{NOT_AN_INT} 'dict'")),
        (
            json!("-5"),
            "Provided object is not valid. Got a ValueError error with message Value must be >= 0 for field ttl".into(),
        ),
    ] {
        let answer = create_zone(b, &P1, "bad-ttl.org.", ttl.clone());
        assert_eq!(
            refused(&answer, 400, "invalid_object", &format!("ttl {ttl}")),
            message
        );
    }

    // Zone update.
    let id = active_zone(b, &P1, "update-ttl.org.");
    let zone_path = format!("/v2/zones/{id}");
    let patch = |ttl: Value| rest_request(b, "PATCH", &zone_path, &P1, Some(&json!({"ttl": ttl})));
    assert_eq!(accepted(&patch(json!("7200")), "update")["ttl"], 7200);
    assert_eq!(accepted(&patch(json!(300.2)), "update")["ttl"], 300);
    refused(&patch(json!("soon")), 400, "invalid_object", "update");

    // Recordset create and update, and records listed twice.
    let sets = format!("{zone_path}/recordsets");
    let made = accepted(
        &rest_request(
            b,
            "POST",
            &sets,
            &P1,
            Some(
                &json!({"name": "www.update-ttl.org.", "type": "A", "ttl": "300",
                         "records": ["192.0.2.1", "192.0.2.1"]}),
            ),
        ),
        "recordset create",
    );
    assert_eq!(
        (&made["ttl"], &made["records"]),
        (&json!(300), &json!(["192.0.2.1"]))
    );
    let rs_path = format!("{sets}/{}", made["id"].as_str().unwrap());
    let put = |body: Value| rest_request(b, "PUT", &rs_path, &P1, Some(&body));
    let changed = accepted(
        &put(json!({"ttl": 600.9, "records": ["192.0.2.2", "192.0.2.2"]})),
        "recordset update",
    );
    assert_eq!(
        (&changed["ttl"], &changed["records"]),
        (&json!(600), &json!(["192.0.2.2"]))
    );
    let message = refused(&put(json!({"ttl": "1e3"})), 400, "invalid_object", "update");
    assert_eq!(message, format!("{INVALID_INT} '1e3'"));
    let refused_create = rest_request(
        b,
        "POST",
        &sets,
        &P1,
        Some(
            &json!({"name": "bad.update-ttl.org.", "type": "A", "ttl": [1],
                     "records": ["192.0.2.3"]}),
        ),
    );
    refused(&refused_create, 400, "invalid_object", "recordset create");
    // Records that are not a list: the adapter's schema error.
    let not_a_list = rest_request(
        b,
        "POST",
        &sets,
        &P1,
        Some(&json!({"name": "one.update-ttl.org.", "type": "A", "records": "192.0.2.4"})),
    );
    refused(&not_a_list, 400, "invalid_object", "records not a list");
    assert_eq!(
        not_a_list.json()["errors"]["errors"][0],
        json!({"path": ["records"], "validator": "type", "validator_value": ["list"],
               "message": "'192.0.2.4' is not a valid list of records"})
    );

    // Nothing refused was left behind: only the accepted zones and
    // recordsets exist, now and once the controllers have run.
    let names = |path: &str, key: &str| -> Vec<String> {
        let mut names: Vec<String> = rest_request(b, "GET", path, &ADMIN, None).json()[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|z| z["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    wait_for(WAIT, "the recordset ACTIVE", || {
        let rs = rest_request(b, "GET", &rs_path, &P1, None).json();
        (rs["status"] == "ACTIVE")
            .then_some(())
            .ok_or(rs.to_string())
    });
    assert_eq!(
        names("/v2/zones?all_projects=true", "zones"),
        ["float-ttl.org.", "str-ttl.org.", "update-ttl.org."]
    );
    assert_eq!(
        names(&format!("{sets}?type=A&all_projects=1"), "recordsets"),
        ["www.update-ttl.org."]
    );
}

#[test]
fn lists_projects_and_managed_records_as_designate() {
    let (_tmp, _standalone, base) = start_rest("designate-e2e-compat-lists-", &[]);
    let b = base.as_str();
    let zone = active_zone(b, &P1, "lists.org.");
    let sets = format!("/v2/zones/{zone}/recordsets");
    let www = accepted(
        &rest_request(
            b,
            "POST",
            &sets,
            &P1,
            Some(&json!({"name": "www.lists.org.", "type": "A", "records": ["192.0.2.1"]})),
        ),
        "recordset",
    );
    let www_id = www["id"].as_str().unwrap();

    // Sort keys.
    let sorted = |path: &str| rest_request(b, "GET", path, &P1, None);
    let message = refused(
        &sorted(&format!("{sets}?sort_key=records")),
        400,
        "invalid_sort_key",
        "records",
    );
    assert_eq!(message, "Sort key supplied is invalid: None");
    let message = refused(
        &sorted("/v2/recordsets?sort_key=records"),
        400,
        "invalid_sort_key",
        "cross-zone records",
    );
    assert!(
        message.starts_with("sort key must be one of ["),
        "{message}"
    );
    refused(
        &sorted("/v2/zones?sort_key=records"),
        400,
        "invalid_sort_key",
        "zones",
    );
    for key in ["name", "type", "ttl", "zone_id", "created_at", "id"] {
        let answer = sorted(&format!("{sets}?sort_key={key}"));
        assert_eq!(answer.status, 200, "{key}: {}", answer.text());
    }

    // all_projects as a query parameter, under the all_tenants policy.
    let zones = |who: &[(&str, &str)], query: &str, header: bool| {
        let mut headers = who.to_vec();
        if header {
            headers.push(("X-Auth-All-Projects", "true"));
        }
        rest_request(b, "GET", &format!("/v2/zones{query}"), &headers, None)
    };
    let seen = |answer: HttpResponse| answer.json()["metadata"]["total_count"].clone();
    assert_eq!(seen(zones(&ADMIN, "", false)), 0);
    assert_eq!(seen(zones(&ADMIN, "?all_projects=true", false)), 1);
    assert_eq!(seen(zones(&ADMIN, "?all_projects=True", false)), 1);
    assert_eq!(seen(zones(&ADMIN, "", true)), 1);
    refused(
        &zones(&P2, "?all_projects=true", false),
        403,
        "forbidden",
        "member",
    );
    refused(&zones(&P2, "", true), 403, "forbidden", "member header");

    // Another project's recordset: its zone is not found.
    for (method, path, body) in [
        ("GET", format!("{sets}/{www_id}"), None),
        ("PUT", format!("{sets}/{www_id}"), Some(json!({"ttl": 300}))),
        ("DELETE", format!("{sets}/{www_id}"), None),
        ("GET", sets.clone(), None),
    ] {
        let answer = rest_request(b, method, &path, &P2, body.as_ref());
        refused(&answer, 404, "zone_not_found", &format!("{method} {path}"));
    }
    let located = rest_request(b, "GET", &format!("/v2/recordsets/{www_id}"), &P2, None);
    refused(&located, 404, "zone_not_found", "located");

    // The apex NS is managed.
    let ns = rest_request(b, "GET", &format!("{sets}?type=NS"), &P1, None).json();
    let ns_path = format!("{sets}/{}", ns["recordsets"][0]["id"].as_str().unwrap());
    let body = json!({"records": ["ns9.example.org."]});
    let answer = rest_request(b, "PUT", &ns_path, &P1, Some(&body));
    assert_eq!(
        refused(&answer, 400, "bad_request", "member"),
        "Managed records may not be updated"
    );
    let mut editor = ADMIN.to_vec();
    editor.extend([
        ("X-Auth-All-Projects", "true"),
        ("X-Designate-Edit-Managed-Records", "true"),
    ]);
    let answer = rest_request(b, "PUT", &ns_path, &editor, Some(&body));
    assert_eq!(
        refused(&answer, 400, "bad_request", "admin"),
        "Updating a root zone NS record is not allowed"
    );

    // Every object's fields carry values where Designate's do.
    let pools = rest_request(b, "GET", "/v2/pools", &ADMIN, None).json();
    for pool in pools["pools"].as_array().unwrap() {
        assert!(pool["created_at"].is_string(), "{pool}");
        assert!(pool["id"].is_string() && pool["name"].is_string(), "{pool}");
    }
    let zone = rest_request(b, "GET", &format!("/v2/zones/{zone}"), &P1, None).json();
    for field in [
        "id",
        "pool_id",
        "project_id",
        "name",
        "email",
        "ttl",
        "serial",
        "status",
        "action",
        "version",
        "type",
        "created_at",
        "updated_at",
    ] {
        assert!(
            !zone[field].is_null(),
            "zone {field} is null or missing: {zone}"
        );
    }
}

#[test]
fn http_is_answered_as_designates_wsgi_stack() {
    let (_tmp, _standalone, base) = start_rest("designate-e2e-compat-http-", &[]);
    let b = base.as_str();
    let zone = active_zone(b, &P1, "http.org.");
    let get = |path: &str, headers: &[(&str, &str)]| {
        http_request(b, "GET", path, headers, None).expect("an answer")
    };
    let p1 = |extra: &[(&'static str, &'static str)]| {
        let mut headers = P1.to_vec();
        headers.extend_from_slice(extra);
        headers
    };

    // Paths Designate serves or not: its JSON error shape, never text.
    for path in [
        "/v2",
        "/v2/",
        "/v2/bogus",
        "/v2/zones/tasks/bogus",
        "/v2/zones/tasks/transfer_accepts/x/y",
        "/v2/reverse",
        "/v2/zones/00000000-0000-4000-8000-000000000000/recordsets/x/y",
    ] {
        refused(&get(path, &P1), 404, "not_found", path);
    }
    // A path axum itself could not read (bad UTF-8) is in that shape too.
    refused(&get("/v2/zones/%FF", &P1), 400, "bad_request", "bad UTF-8");

    // HEAD and OPTIONS: pecan's REST controllers have neither.
    for method in ["HEAD", "OPTIONS"] {
        for path in ["/v2/zones", &format!("/v2/zones/{zone}/recordsets")] {
            let answer = http_request(b, method, path, &P1, None).unwrap();
            assert_eq!(answer.status, 405, "{method} {path}: {}", answer.text());
        }
    }
    let options = http_request(b, "OPTIONS", "/v2/zones", &P1, None).unwrap();
    refused(&options, 405, "method_not_allowed", "OPTIONS");
    // The versions document is a Flask app: it answers both.
    let options = http_request(b, "OPTIONS", "/", &[], None).unwrap();
    assert_eq!(options.status, 200);
    assert!(options.header("allow").unwrap().contains("GET"));
    assert_eq!(http_request(b, "HEAD", "/", &[], None).unwrap().status, 200);
    assert_eq!(get("/", &[]).json()["versions"][0]["id"], "v2");
    // So is oslo's healthcheck, mounted at /healthcheck without auth.
    let health = get("/healthcheck", &[]);
    assert_eq!((health.status, health.text()), (200, "OK".to_string()));
    let health = http_request(b, "HEAD", "/healthcheck", &[], None).unwrap();
    assert_eq!(health.status, 204);
    let health = get("/healthcheck", &[("Accept", "application/json")]);
    assert_eq!(health.json(), json!({"detailed": false, "reasons": ["OK"]}));

    // Trailing slashes are dropped before routing.
    let listed = get("/v2/zones/", &P1);
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["links"]["self"], format!("{b}/v2/zones"));
    assert_eq!(get(&format!("/v2/zones/{zone}/"), &P1).json()["id"], zone);
    let made = rest_request(
        b,
        "POST",
        &format!("/v2/zones/{zone}/recordsets/"),
        &P1,
        Some(&json!({"name": "slash.http.org.", "type": "A", "records": ["192.0.2.9"]})),
    );
    assert_eq!(made.status, 202, "{}", made.text());

    // Accept: JSON, or anything that takes it; else 406.
    for accept in [
        "application/json",
        "*/*",
        "application/*",
        "text/plain, */*;q=0.1",
    ] {
        let answer = get("/v2/zones", &p1(&[("Accept", accept)]));
        assert_eq!(answer.status, 200, "{accept}: {}", answer.text());
    }
    for accept in ["text/plain", "text/html", "application/xml"] {
        let answer = get("/v2/zones", &p1(&[("Accept", accept)]));
        assert_eq!(answer.status, 406, "{accept}: {}", answer.text());
        assert_eq!(answer.json()["code"], 406, "{accept}");
    }
    // An unknown path is 404 whatever the client accepts.
    refused(
        &get("/v2/bogus", &p1(&[("Accept", "text/plain")])),
        404,
        "not_found",
        "text/plain",
    );
}

/// Concurrent identical creates (or a client's retry after a lost answer)
/// make one recordset: the API server refuses the others' objects, and
/// they get Designate's 409.
#[test]
fn a_recordset_is_created_once_however_many_ask_at_once() {
    let (_tmp, _standalone, base) = start_rest("compat-race", &[]);
    let zone = active_zone(&base, &P1, "race.example.org.");
    let path = format!("/v2/zones/{zone}/recordsets");
    let body = json!({"name": "www.race.example.org.", "type": "A", "records": ["192.0.2.1"]});
    let answers: Vec<HttpResponse> = std::thread::scope(|scope| {
        let asks: Vec<_> = (0..16)
            .map(|_| scope.spawn(|| rest_request(&base, "POST", &path, &P1, Some(&body))))
            .collect();
        asks.into_iter().map(|ask| ask.join().unwrap()).collect()
    });
    let made = answers.iter().filter(|a| a.status == 202).count();
    assert_eq!(
        made,
        1,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for answer in answers.iter().filter(|a| a.status != 202) {
        refused(answer, 409, "duplicate_recordset", "a concurrent create");
    }
    let listed = rest_request(&base, "GET", &format!("{path}?type=A"), &P1, None).json();
    assert_eq!(
        listed["recordsets"].as_array().unwrap().len(),
        1,
        "{listed}"
    );
}

/// Designate's limits: oslo.middleware's body size (114,688 bytes), in
/// Designate's shape, before anything is read or written; zone attributes'
/// keys and values (50 characters).
#[test]
fn bodies_past_designates_limits_are_refused() {
    let (_tmp, _standalone, base) = start_rest("compat-size", &[]);
    for (key, value, field) in [
        ("k".repeat(51), "v".to_string(), "key"),
        ("k".into(), "v".repeat(51), "value"),
    ] {
        let zone = json!({"name": "attrs.example.org.", "email": "a@example.org", "attributes": {key: value}});
        let answer = rest_request(&base, "POST", "/v2/zones", &P1, Some(&zone));
        let message = refused(&answer, 400, "invalid_object", "a long attribute");
        assert!(
            message.ends_with(&format!("Value too long for {field}")),
            "{message}"
        );
    }
    let big = json!({"name": "big.example.org.", "email": "a@example.org", "description": "x".repeat(120_000)});
    let answer = rest_request(&base, "POST", "/v2/zones", &P1, Some(&big));
    let message = refused(&answer, 413, "request_too_large", "a body past the limit");
    assert!(message.contains("114688"), "{message}");
    let listed = rest_request(&base, "GET", "/v2/zones", &P1, None).json();
    assert_eq!(listed["zones"], json!([]), "{listed}");
}
