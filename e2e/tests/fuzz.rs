//! Generated fuzz campaigns (issue 13), with proptest, against a running
//! `standalone`:
//! - REST: requests built from the endpoints' shapes (methods, paths with
//!   real, unknown and malformed ids, query parameters, bodies of the
//!   resources' fields with values of any JSON type, headers of any role
//!   and project) are answered without a 5xx, in Designate's JSON error
//!   shape when refused, and a refused request changes nothing stored;
//! - MiniDNS: queries mutated byte by byte (and garbage) over UDP and TCP
//!   get no SERVFAIL, and the server answers a good query afterwards.
//!
//! Needs `cargo build -p designate-operator` first.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use designate_e2e::{HttpResponse, http_request, rest_request, start_rest, wait_for};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

const ADMIN: [(&str, &str); 2] = [("X-Auth-Project-ID", "fuzz"), ("X-Roles", "admin")];
const EVERYTHING: [(&str, &str); 2] = [("X-Roles", "admin"), ("X-Auth-All-Projects", "True")];

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            "[a-z0-9.*_-]{0,30}",
            "\\PC{0,20}",
            Just("x".repeat(300)),
            Just("example.org.".into()),
            Just("192.0.2.1".into()),
            Just("1".into()),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body: the resource's fields (some), each with any value, or any JSON.
fn body() -> impl Strategy<Value = Option<Vec<u8>>> {
    let fields = prop::sample::subsequence(
        vec![
            "name",
            "email",
            "ttl",
            "description",
            "type",
            "records",
            "masters",
            "attributes",
            "pattern",
            "algorithm",
            "secret",
            "scope",
            "resource_id",
            "zones",
            "project_id",
            "ns_records",
            "status",
            "id",
        ],
        0..6,
    );
    prop_oneof![
        Just(None),
        (fields, prop::collection::vec(any_json(), 6)).prop_map(|(fields, values)| {
            let object: serde_json::Map<String, Value> = fields
                .into_iter()
                .zip(values)
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            Some(Value::Object(object).to_string().into_bytes())
        }),
        any_json().prop_map(|v| Some(v.to_string().into_bytes())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
    ]
}

#[derive(Clone, Debug)]
struct Ask {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

fn ask(zone: String, recordset: String) -> impl Strategy<Value = Ask> {
    let id = prop_oneof![
        Just(zone.clone()),
        Just(recordset.clone()),
        Just("00000000-0000-0000-0000-000000000000".to_string()),
        "[a-zA-Z0-9%._-]{0,40}",
    ];
    let path = (
        prop::sample::select(vec![
            "/v2/zones",
            "/v2/zones/{id}",
            "/v2/zones/{zone}/recordsets",
            "/v2/zones/{zone}/recordsets/{id}",
            "/v2/zones/{id}/nameservers",
            "/v2/recordsets",
            "/v2/recordsets/{id}",
            "/v2/tlds",
            "/v2/tlds/{id}",
            "/v2/blacklists",
            "/v2/blacklists/{id}",
            "/v2/tsigkeys",
            "/v2/tsigkeys/{id}",
            "/v2/pools",
            "/v2/pools/{id}",
            "/v2/quotas/{id}",
            "/v2/limits",
            "/v2/service_statuses",
        ]),
        id,
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "limit",
                    "marker",
                    "sort_key",
                    "sort_dir",
                    "name",
                    "type",
                    "status",
                    "all_projects",
                    "ttl",
                    "data",
                ]),
                "[a-zA-Z0-9%*._-]{0,12}",
            ),
            0..3,
        ),
    )
        .prop_map(move |(template, id, query)| {
            let mut path = template.replace("{zone}", &zone).replace("{id}", &id);
            if !query.is_empty() {
                let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                path = format!("{path}?{}", query.join("&"));
            }
            path
        });
    let headers = (
        prop::sample::select(vec![
            "admin",
            "member",
            "reader",
            "",
            "member,reader",
            // Odd, but a valid header value (hyper refuses control
            // characters before any application sees them).
            "x y,,admin",
        ]),
        prop::sample::select(vec!["fuzz", "other", "", "kube-system", "a/b"]),
        prop::option::of(prop::sample::select(vec!["True", "false", "x"])),
        prop::option::of(prop::sample::select(vec!["other", "", "fuzz"])),
        prop::sample::select(vec!["application/json", "text/plain", ""]),
    )
        .prop_map(|(roles, project, all, sudo, content_type)| {
            let mut headers = vec![
                ("X-Roles", roles.to_string()),
                ("X-Auth-Project-ID", project.to_string()),
                ("Accept", "application/json".to_string()),
            ];
            if !content_type.is_empty() {
                headers.push(("Content-Type", content_type.to_string()));
            }
            if let Some(all) = all {
                headers.push(("X-Auth-All-Projects", all.to_string()));
            }
            if let Some(sudo) = sudo {
                headers.push(("X-Auth-Sudo-Project-ID", sudo.to_string()));
            }
            headers
        });
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE"]),
        path,
        headers,
        body(),
    )
        .prop_map(|(method, path, headers, body)| Ask {
            method,
            path,
            headers,
            body,
        })
}

/// Everything stored, as the admin API lists it.
fn state(base: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for path in [
        "/v2/zones?limit=1000",
        "/v2/recordsets?limit=1000",
        "/v2/tlds",
        "/v2/blacklists",
        "/v2/tsigkeys",
        "/v2/pools",
    ] {
        let mut listed = rest_request(base, "GET", path, &EVERYTHING, None).json();
        if let Some(map) = listed.as_object_mut() {
            map.remove("links");
            map.remove("metadata");
        }
        all.push(listed);
    }
    all
}

fn answered(base: &str, ask: &Ask) -> Result<HttpResponse, TestCaseError> {
    let headers: Vec<(&str, &str)> = ask.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    http_request(base, ask.method, &ask.path, &headers, ask.body.as_deref())
        .map_err(|e| TestCaseError::fail(format!("{ask:?}: no answer: {e:#}")))
}

#[test]
fn rest_requests_of_any_shape_get_designates_answers_and_refusals_change_nothing() {
    let (_tmp, mut standalone, base) = start_rest("designate-e2e-fuzz-rest", &[]);
    let made = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &ADMIN,
        Some(&json!({"name": "fuzz.example.org.", "email": "a@example.org"})),
    )
    .json();
    let zone = made["id"].as_str().unwrap().to_string();
    let rs = rest_request(
        &base,
        "POST",
        &format!("/v2/zones/{zone}/recordsets"),
        &ADMIN,
        Some(&json!({"name": "www.fuzz.example.org.", "type": "A", "records": ["192.0.2.1"]})),
    )
    .json();
    let recordset = rs["id"].as_str().unwrap().to_string();

    let mut runner = TestRunner::new(Config {
        cases: 1000,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&ask(zone, recordset), |ask| {
        let before = (ask.method != "GET").then(|| state(&base));
        let answer = answered(&base, &ask)?;
        prop_assert!(
            answer.status < 500,
            "{ask:?} answered {} {}",
            answer.status,
            answer.text()
        );
        if answer.status < 300 && ask.method != "GET" {
            // What it asked for may take the controllers a moment (a zone
            // deleted goes once unpublished): the next case starts after.
            settle(&base);
        }
        if answer.status >= 400 {
            let body: Value = serde_json::from_slice(&answer.body).map_err(|_| {
                TestCaseError::fail(format!(
                    "{ask:?}: {} not JSON: {}",
                    answer.status,
                    answer.text()
                ))
            })?;
            prop_assert_eq!(&body["code"], &json!(answer.status), "{:?}: {}", ask, body);
            prop_assert!(body["type"].is_string(), "{:?}: {}", ask, body);
            if let Some(before) = before {
                // The controllers may move statuses on meanwhile: compare
                // what the refused request could have changed, ids and specs.
                let after = state(&base);
                prop_assert_eq!(
                    strip_status(before),
                    strip_status(after),
                    "{:?} changed state",
                    ask
                );
            }
        }
        Ok(())
    });
    assert!(standalone.is_running(), "the operator died");
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Waits until the stored state stops moving (for 10 s at most).
fn settle(base: &str) {
    let mut last = strip_status(state(base));
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(200));
        let now = strip_status(state(base));
        if now == last {
            return;
        }
        last = now;
    }
}

/// What a request could change, without what the controllers move on
/// (status, action, serial and the SOA that carries it, timestamps,
/// versions).
fn strip_status(mut state: Vec<Value>) -> Vec<Value> {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for key in [
                    "status",
                    "action",
                    "serial",
                    "updated_at",
                    "version",
                    "links",
                ] {
                    map.remove(key);
                }
                if map.get("type").is_some_and(|t| t == "SOA") {
                    map.remove("records");
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    state.iter_mut().for_each(strip);
    state
}

/// A query for `name`'s SOA, id `id`.
fn soa_query(id: u16, name: &str) -> Vec<u8> {
    let mut bytes = id.to_be_bytes().to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        bytes.push(label.len() as u8);
        bytes.extend_from_slice(label.as_bytes());
    }
    bytes.extend_from_slice(&[0, 0, 6, 0, 1]);
    bytes
}

/// The response code of an answer (its header's low four bits).
fn rcode(answer: &[u8]) -> Option<u8> {
    answer.get(3).map(|flags| flags & 0x0f)
}

const SERVFAIL: u8 = 2;

fn mutated_query() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            prop::sample::select(vec![6u16, 252, 251, 1, 255, 65535]),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(qtype, flips, cut)| {
                let mut bytes = soa_query(7, "fuzz.example.org.");
                let at = bytes.len() - 4;
                bytes[at..at + 2].copy_from_slice(&qtype.to_be_bytes());
                for (at, value) in flips {
                    let at = at.index(bytes.len());
                    bytes[at] = value;
                }
                bytes.truncate(cut.index(bytes.len() + 1).max(bytes.len() / 2));
                bytes
            }),
        prop::collection::vec(any::<u8>(), 0..300),
    ]
}

#[test]
fn minidns_takes_mutated_queries_without_failing() {
    let (_tmp, mut standalone, base) = start_rest("designate-e2e-fuzz-dns", &[]);
    rest_request(
        &base,
        "POST",
        "/v2/zones",
        &ADMIN,
        Some(&json!({"name": "fuzz.example.org.", "email": "a@example.org"})),
    );
    let mdns: SocketAddr = wait_for(Duration::from_secs(30), "MiniDNS", || {
        standalone.mdns_addr().ok_or_else(|| "not yet".to_string())
    });
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 600,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(mutated_query(), any::<bool>()), |(query, over_tcp)| {
        let answer = if over_tcp {
            let mut tcp =
                TcpStream::connect(mdns).map_err(|e| TestCaseError::fail(e.to_string()))?;
            tcp.set_read_timeout(Some(Duration::from_millis(300))).ok();
            let mut framed = (query.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&query);
            let _ = tcp.write_all(&framed);
            let mut length = [0u8; 2];
            match tcp.read_exact(&mut length) {
                Ok(()) => {
                    let mut answer = vec![0; u16::from_be_bytes(length) as usize];
                    tcp.read_exact(&mut answer).ok().map(|_| answer)
                }
                Err(_) => None,
            }
        } else {
            udp.send_to(&query, mdns)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut buf = [0u8; 4096];
            udp.recv_from(&mut buf).ok().map(|(n, _)| buf[..n].to_vec())
        };
        if let Some(answer) = answer {
            prop_assert_ne!(rcode(&answer), Some(SERVFAIL), "{:?} got SERVFAIL", query);
        }
        Ok(())
    });
    // Still serving.
    let mut buf = [0u8; 4096];
    let good = soa_query(9, "fuzz.example.org.");
    let alive = (0..20).any(|_| {
        udp.send_to(&good, mdns).unwrap();
        matches!(udp.recv_from(&mut buf), Ok((n, _)) if n > 12 && buf[..2] == [0, 9])
    });
    assert!(
        alive && standalone.is_running(),
        "MiniDNS stopped answering"
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}
