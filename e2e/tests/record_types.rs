//! One recordset of every type Central accepts, through the REST API in
//! noauth mode, on a zone whose pool is a real BIND: each reaches ACTIVE and
//! `dig` against BIND answers it as written. The rdata is what Designate's
//! docs and tempest use (tempest's `test_create_HTTPS_with` among them: its
//! params out of key order once kept the zone from transferring), plus the
//! spellings Central accepts that a zone-file parser would not take as is:
//! an `_` inside a target label, params given twice, CAA values with
//! key-value pairs, CERT mnemonics.
//!
//! The target writes new zones' files for BIND to load (`zone_file_dir`);
//! then BIND is replaced by one with empty storage, and the operator gives
//! it every zone whole, with its data: BIND answers each recordset as
//! before without transferring a zone.
//!
//! Needs `cargo build -p designate-operator` first.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use designate_e2e::{BindBacked, rest_request, tail, wait_for};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);
const ZONE: &str = "types-e2e.org.";
const REVERSE: &str = "2.0.192.in-addr.arpa.";
const SHA256: &str = "72d30d211ce8c464de2811e534de23b9be9b4dc4a1b2c3d4e5f60718293a4b5c";

const HEADERS: [(&str, &str); 2] = [("X-Auth-Project-ID", "p"), ("X-Roles", "admin")];

/// One recordset: its zone, name, type, records, and what `dig` shows of
/// them (BIND's presentation), sorted.
struct Case {
    zone: &'static str,
    name: String,
    type_: &'static str,
    records: Vec<String>,
    served: Vec<String>,
}

fn case(name: &str, type_: &'static str, records: &[&str], served: &[&str]) -> Case {
    let mut served: Vec<String> = served.iter().map(|s| s.to_string()).collect();
    served.sort();
    let zone = if name.ends_with(REVERSE) {
        REVERSE
    } else {
        ZONE
    };
    Case {
        zone,
        name: name.to_string(),
        type_,
        records: records.iter().map(|s| s.to_string()).collect(),
        served,
    }
}

/// Hex as BIND prints it: upper case, a space after 56 digits.
fn bind_hex(rdata: &str) -> String {
    let (fields, hex) = rdata.rsplit_once(' ').unwrap();
    let hex = hex.to_uppercase();
    let (head, rest) = hex.split_at(56.min(hex.len()));
    format!("{fields} {head} {rest}").trim_end().to_string()
}

fn cases() -> Vec<Case> {
    let z = |label: &str| format!("{label}.{ZONE}");
    let tlsa = format!("3 1 1 {SHA256}");
    let sshfp = format!("4 2 {SHA256}");
    let tempest_https = format!(
        "1 {} alpn=h3,h2,http/1.1 ipv4hint=1.2.3.4,9.8.7.6 port=4443",
        z("sample")
    );
    vec![
        case(
            &z("www"),
            "A",
            &["192.0.2.1", "192.0.2.2"],
            &["192.0.2.1", "192.0.2.2"],
        ),
        case(&z("www"), "AAAA", &["2001:db8::1"], &["2001:db8::1"]),
        case(&z("alias"), "CNAME", &[&z("www")], &[&z("www")]),
        case(
            &z("mail"),
            "MX",
            &["10 mx_1.types-e2e.org.", "20 mx2.example.net."],
            &["10 mx_1.types-e2e.org.", "20 mx2.example.net."],
        ),
        case(
            &z("_sip._tcp"),
            "SRV",
            &["10 0 5060 sip_server.types-e2e.org."],
            &["10 0 5060 sip_server.types-e2e.org."],
        ),
        case(
            &z("txt"),
            "TXT",
            &[
                "\"v=spf1 ip4:192.0.2.0/24 -all\"",
                "\"a \\\"quoted\\\" word\"",
                "bare",
            ],
            &[
                "\"v=spf1 ip4:192.0.2.0/24 -all\"",
                "\"a \\\"quoted\\\" word\"",
                "\"bare\"",
            ],
        ),
        case(
            &z("spf"),
            "SPF",
            &["\"v=spf1 include:_spf.example.org ~all\""],
            &["\"v=spf1 include:_spf.example.org ~all\""],
        ),
        case(
            &z("sub"),
            "NS",
            &["ns1.example.net.", "ns2.example.net."],
            &["ns1.example.net.", "ns2.example.net."],
        ),
        case(&format!("1.{REVERSE}"), "PTR", &[&z("www")], &[&z("www")]),
        case(&z("www"), "SSHFP", &[&sshfp], &[&bind_hex(&sshfp)]),
        case(
            &z("naptr"),
            "NAPTR",
            &[
                "100 10 \"S\" \"SIP+D2U\" \"!^.*$!sip:customer-service@example.com!\" _sip._udp.types-e2e.org.",
                "102 10 S SIP+D2T \"\" _sip._tcp.types-e2e.org.",
            ],
            &[
                "100 10 \"S\" \"SIP+D2U\" \"!^.*$!sip:customer-service@example.com!\" _sip._udp.types-e2e.org.",
                "102 10 \"S\" \"SIP+D2T\" \"\" _sip._tcp.types-e2e.org.",
            ],
        ),
        case(
            &z("caa"),
            "CAA",
            &[
                "0 issue letsencrypt.org",
                "1 issuewild ca.example.net; policy=ev",
                "0 iodef mailto:security@example.net",
            ],
            &[
                "0 issue \"letsencrypt.org\"",
                "1 issuewild \"ca.example.net; policy=ev\"",
                "0 iodef \"mailto:security@example.net\"",
            ],
        ),
        case(
            &z("cert"),
            "CERT",
            &["PKIX 1 RSASHA256 KR1L0GbocaIOOim1+qdHtOSrDcOsGiI2NCcxuX2/Tqc="],
            &["PKIX 1 RSASHA256 KR1L0GbocaIOOim1+qdHtOSrDcOsGiI2NCcxuX2/Tqc="],
        ),
        case(&z("_443._tcp.www"), "TLSA", &[&tlsa], &[&bind_hex(&tlsa)]),
        case(
            &z("https"),
            "HTTPS",
            &[&tempest_https],
            &["1 sample.types-e2e.org. alpn=\"h3,h2,http/1.1\" port=4443 ipv4hint=1.2.3.4,9.8.7.6"],
        ),
        case(
            &z("svcb"),
            "SVCB",
            &[
                &tempest_https,
                "2 svc_2.types-e2e.org. port=1 ipv6hint=2001:db8::1 alpn=h2 port=8443 mandatory=port,alpn",
            ],
            &[
                "1 sample.types-e2e.org. alpn=\"h3,h2,http/1.1\" port=4443 ipv4hint=1.2.3.4,9.8.7.6",
                "2 svc_2.types-e2e.org. mandatory=alpn,port alpn=\"h2\" port=8443 ipv6hint=2001:db8::1",
            ],
        ),
        case(
            &z("_dns.resolver"),
            "SVCB",
            &["1 resolver.types-e2e.org. alpn=h2 dohpath=/dns-query{?dns}"],
            // BIND 9.18 names no key 7 (RFC 9461's dohpath) yet.
            &["1 resolver.types-e2e.org. alpn=\"h2\" key7=\"/dns-query{?dns}\""],
        ),
    ]
}

/// What BIND answers for `name`/`type_` (answer or, for a delegation,
/// authority section): each record's rdata as BIND prints it, sorted.
fn dig_rdata(server: SocketAddr, name: &str, type_: &str) -> Vec<String> {
    let output = Command::new("dig")
        .args([
            &format!("@{}", server.ip()),
            "-p",
            &server.port().to_string(),
            name,
            type_,
            "+norec",
            "+noall",
            "+answer",
            "+authority",
            "+nomultiline",
            "+time=1",
            "+tries=1",
        ])
        .output()
        .expect("running dig");
    let mut rdata: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.len() > 4 && fields[0].eq_ignore_ascii_case(name) && fields[3] == type_)
                .then(|| fields[4..].join(" "))
        })
        .collect();
    rdata.sort();
    rdata
}

fn post(rest: &str, path: &str, body: &Value) -> Value {
    let answer = rest_request(rest, "POST", path, &HEADERS, Some(body));
    assert!(
        answer.status == 201 || answer.status == 202,
        "POST {path} {body}: {} {}",
        answer.status,
        answer.text()
    );
    answer.json()
}

fn get(rest: &str, path: &str) -> Value {
    let answer = rest_request(rest, "GET", path, &HEADERS, None);
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.text());
    answer.json()
}

#[test]
fn every_record_type_is_served_by_bind() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-types-")
        .tempdir()
        .unwrap();
    let zone_files = tmp.path().join("zones");
    let mut world = BindBacked::start_with_zone_files(
        tmp.path(),
        &["--propagation-timeout", "10s", "--heal-interval", "1s"],
        &zone_files,
    );
    let (standalone, rest, bind, kubectl) = (
        &world.standalone,
        world.rest.clone(),
        &world.nameserver,
        &world.kubectl,
    );

    let mut zone_ids = std::collections::BTreeMap::new();
    for zone in [ZONE, REVERSE] {
        let made = post(
            &rest,
            "/v2/zones",
            &json!({"name": zone, "email": "hostmaster@types-e2e.org", "ttl": 300}),
        );
        zone_ids.insert(zone, made["id"].as_str().unwrap().to_string());
    }
    let cases = cases();
    let mut made = Vec::new();
    for case in &cases {
        let zone_id = &zone_ids[case.zone];
        let recordset = post(
            &rest,
            &format!("/v2/zones/{zone_id}/recordsets"),
            &json!({"name": case.name, "type": case.type_, "records": case.records}),
        );
        made.push(format!(
            "/v2/zones/{zone_id}/recordsets/{}",
            recordset["id"].as_str().unwrap()
        ));
    }

    // Every recordset settles; all must be ACTIVE.
    let statuses = wait_for(TIMEOUT, "every recordset to settle", || {
        let statuses: Vec<String> = made
            .iter()
            .map(|path| {
                get(&rest, path)["status"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string()
            })
            .collect();
        if statuses.iter().any(|s| s == "PENDING") {
            Err(format!("{statuses:?}"))
        } else {
            Ok(statuses)
        }
    });
    let mut failures = Vec::new();
    for (case, status) in cases.iter().zip(&statuses) {
        if status != "ACTIVE" {
            failures.push(format!("{} {} is {status}", case.name, case.type_));
        }
    }
    for (zone, id) in &zone_ids {
        let status = get(&rest, &format!("/v2/zones/{id}"))["status"].clone();
        if status != "ACTIVE" {
            failures.push(format!("zone {zone} is {status}"));
        }
    }

    // BIND serves each as written.
    failures.extend(unserved(bind.dns_addr(), &cases));
    let log = std::fs::read_to_string(standalone.log_path()).unwrap_or_default();
    for line in log.lines().filter(|l| l.contains("does not parse")) {
        failures.push(format!("MiniDNS skipped a record: {line}"));
    }
    assert!(
        failures.is_empty(),
        "{}\n\nrecordsets:\n{}\n\nlog tail:\n{}",
        failures.join("\n"),
        kubectl.ok(&["get", "recordset", "-n", "p", "-o", "yaml"]),
        tail(&standalone.log_path(), 40)
    );

    // A BIND with empty storage: the operator puts every zone back with
    // its data, which BIND loads instead of transferring.
    world.nameserver.kill();
    for entry in std::fs::read_dir(&zone_files).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(world.nameserver.restart_empty())
        .expect("restarting BIND");
    let bind = &world.nameserver;
    wait_for(TIMEOUT, "BIND to serve every recordset again", || {
        let failures = unserved(bind.dns_addr(), &cases);
        failures.is_empty().then_some(()).ok_or(failures.join("\n"))
    });
    for zone in [ZONE, REVERSE] {
        let file = zone_files.join(format!("{}db", zone));
        assert!(file.exists(), "{} was not written", file.display());
    }
    let log = bind.logs();
    assert!(
        !log.contains("Transfer started"),
        "BIND transferred a zone it was given:\n{log}"
    );
}

/// The cases BIND does not answer as written, told.
fn unserved(bind: SocketAddr, cases: &[Case]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|case| {
            let served = dig_rdata(bind, &case.name, case.type_);
            (served != case.served).then(|| {
                format!(
                    "dig {} {}: {served:?}, want {:?}",
                    case.name, case.type_, case.served
                )
            })
        })
        .collect()
}
