//! `validate_recordset`, one case per Designate rule, plus the "which error
//! wins" cases where several rules apply. Cases marked `tests:` come from
//! Designate's own tests (`tests/functional/central/test_service.py`,
//! `tests/functional/api/v2/test_zone_recordsets.py`, `tests/unit/...`).

use designate_central::managed::{apex_ns_rrset, managed_rrset_id, soa_rrset};
use designate_central::rdata::normalize_records;
use designate_central::rules::validate_recordset;
use designate_central::{
    Config, Error, NsRecord, Privileges, QuotaResource, RecordError, RecordsetInput, Rrset, Soa,
    ZoneInput, ZoneSets,
};

const ZONE_ID: &str = "zone-1";
const TLSA_DATA: &str = "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Case {
    rule: &'static str,
    zone: ZoneInput,
    rs: RecordsetInput,
    cfg: Config,
    privileges: Privileges,
    accepted: Vec<Rrset>,
    child_zones: Vec<String>,
    /// The recordset as published, for an update.
    existing: Option<Rrset>,
    want: Result<(), Error>,
}

fn zone() -> ZoneInput {
    ZoneInput {
        id: ZONE_ID.into(),
        project: "p1".into(),
        name: "example.com.".into(),
        email: Some("admin@example.com".into()),
        ..Default::default()
    }
}

/// The managed SOA and apex NS sets every PRIMARY zone has.
fn managed_sets() -> Vec<Rrset> {
    let soa = Soa {
        mname: "ns1.example.org.".into(),
        email: "admin@example.com".into(),
        refresh: 3500,
        retry: 600,
        expire: 86400,
        minimum: 3600,
    };
    let ns = ["ns1.example.org.", "ns2.example.org."].map(|hostname| NsRecord {
        hostname: hostname.into(),
        priority: 1,
    });
    vec![
        soa_rrset(ZONE_ID, "example.com.", &soa, 1),
        apex_ns_rrset(ZONE_ID, "example.com.", &ns),
    ]
}

fn accepted(id: &str, name: &str, type_: &str, records: &[&str]) -> Rrset {
    Rrset {
        id: id.into(),
        name: name.into(),
        type_: type_.into(),
        ttl: None,
        records: records.iter().map(|r| r.to_string()).collect(),
        description: None,
        managed: false,
    }
}

/// An accepted `www.example.com. A` set.
fn www_a() -> Rrset {
    accepted("rs-a", "www.example.com.", "A", &["192.0.2.9"])
}

fn set(rs: &mut RecordsetInput, name: &str, type_: &str, records: &[&str]) {
    rs.name = name.into();
    rs.type_ = type_.into();
    rs.records = records.iter().map(|r| r.to_string()).collect();
}

/// A case on top of a valid `www.example.com. A 192.0.2.1` in a zone that has
/// only its managed sets.
fn case(rule: &'static str, edit: impl FnOnce(&mut Case), want: Result<(), Error>) -> Case {
    let mut c = Case {
        rule,
        zone: zone(),
        rs: RecordsetInput {
            id: "rs-new".into(),
            name: "www.example.com.".into(),
            type_: "A".into(),
            records: vec!["192.0.2.1".into()],
            ..Default::default()
        },
        cfg: Config::default(),
        privileges: Privileges::default(),
        accepted: managed_sets(),
        child_zones: Vec::new(),
        existing: None,
        want,
    };
    edit(&mut c);
    c
}

fn field(message: &str) -> Result<(), Error> {
    Err(Error::InvalidObject(format!(
        "Provided object is not valid. Got a ValueError error with message {message}"
    )))
}

fn bad_request(message: &str) -> Result<(), Error> {
    Err(Error::BadRequest(message.into()))
}

fn location(message: &str) -> Result<(), Error> {
    Err(Error::InvalidRecordsetLocation(message.into()))
}

fn over(resource: QuotaResource) -> Result<(), Error> {
    Err(Error::OverQuota(resource))
}

fn bad_records(errors: &[(usize, &str, &str)]) -> Result<(), Error> {
    Err(Error::InvalidRecords(
        errors
            .iter()
            .map(|(index, data, type_)| RecordError {
                index: *index,
                message: format!("'{data}' is not a '{type_}' Record"),
            })
            .collect(),
    ))
}

const NOT_IN_ZONE: &str = "RecordSet is not contained within it's parent zone";
const CNAME_APEX: &str = "CNAME recordsets may not be created at the zone apex";
const CNAME_SHARED: &str = "CNAME recordsets may not share a name with any other records";
const CNAME_ONE: &str = "CNAME recordsets may not have more than 1 record";
const TLSA_FORMAT: &str = "TLSA recordset name must follow the format _port._protocol.domain \
                           (e.g. _443._tcp.example.com.) as required by RFC 6698 Section 3";

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let got = validate_recordset(
            &c.zone,
            &c.rs,
            &c.cfg,
            c.privileges,
            &ZoneSets::from(c.accepted.clone()),
            &c.child_zones,
            c.existing.as_ref(),
        )
        .map(|_| ());
        if got != c.want {
            failures.push(format!("{}: got {got:?}, want {:?}", c.rule, c.want));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn returns_the_normalised_recordset() {
    let rs = RecordsetInput {
        id: "rs-new".into(),
        name: "www.example.com.".into(),
        type_: "A".into(),
        ttl: Some(300),
        records: vec!["192.0.2.1".into(), "192.0.2.2".into()],
        description: Some("web".into()),
    };
    let got = validate_recordset(
        &zone(),
        &rs,
        &Config::default(),
        Privileges::default(),
        &ZoneSets::from(managed_sets()),
        &[],
        None,
    );
    assert_eq!(
        got,
        Ok(Rrset {
            id: "rs-new".into(),
            name: "www.example.com.".into(),
            type_: "A".into(),
            ttl: Some(300),
            records: normalize_records("A", &rs.records).unwrap(),
            description: Some("web".into()),
            managed: false,
        })
    );
}

#[test]
fn recordset_api_rules() {
    let label64 = "a".repeat(64);
    run(vec![
        case("valid A recordset", |_| {}, Ok(())),
        case(
            "a recordset without records",
            |c| c.rs.records.clear(),
            Ok(()),
        ),
        case("at the apex", |c| c.rs.name = "example.com.".into(), Ok(())),
        case(
            "RE_HOSTNAME: a leading wildcard",
            |c| c.rs.name = "*.example.com.".into(),
            Ok(()),
        ),
        case(
            "RE_HOSTNAME: `_` labels",
            |c| c.rs.name = "_foo.bar_baz.example.com.".into(),
            Ok(()),
        ),
        case(
            "HostField maxLength=255 (tests: test_create_recordset_with_name_too_long)",
            |c| c.rs.name = format!("{}.example.com.", "x".repeat(255)),
            field("Value too long for name"),
        ),
        case(
            "HostField: labels of 63 characters at most (tests: HostFieldTest)",
            |c| c.rs.name = format!("{label64}.example.com."),
            field(&format!("Host {label64} is too long")),
        ),
        case(
            "HostField: trailing dot (tests: HostFieldTest)",
            |c| c.rs.name = "www.example.com".into(),
            field("Host name www.example.com does not end with a dot"),
        ),
        case(
            "RE_HOSTNAME: bad characters (tests: test_create_recordset_with_invalid_name)",
            |c| c.rs.name = "`invalid`label`.example.com.".into(),
            field("Host name `invalid`label`.example.com. is invalid"),
        ),
        case(
            "RE_HOSTNAME: a wildcard only as the first label",
            |c| c.rs.name = "a.*.example.com.".into(),
            field("Host name a.*.example.com. is invalid"),
        ),
        case(
            "RE_HOSTNAME: a wildcard is a whole label",
            |c| c.rs.name = "*a.example.com.".into(),
            field("Host name *a.example.com. is invalid"),
        ),
        case(
            "description maxLength=160 (tests: test_create_recordset_description_too_long)",
            |c| c.rs.description = Some("x".repeat(161)),
            field("Value too long for description"),
        ),
        case(
            "ttl minimum 0 (tests: test_create_recordset_with_negative_ttl)",
            |c| c.rs.ttl = Some(-1),
            field("Value must be >= 0 for field ttl"),
        ),
        case(
            "ttl maximum 2^31-1 (tests: test_create_recordset_with_ttl_greater_than_max)",
            |c| c.rs.ttl = Some(2_147_483_648),
            field("Value too high for ttl"),
        ),
        case(
            "ttl of 0 (tests: test_create_recordset_with_zero_ttl)",
            |c| c.rs.ttl = Some(0),
            Ok(()),
        ),
        case(
            "unknown type (tests: test_create_recordset_with_invalid_type)",
            |c| c.rs.type_ = "ABC".into(),
            Err(Error::InvalidObject(
                "'ABC' is not a valid record type".into(),
            )),
        ),
        case(
            "known type not in supported_record_type",
            |c| {
                c.cfg.supported_record_types.retain(|t| t != "SPF");
                c.rs.type_ = "SPF".into();
                c.rs.records.clear();
            },
            Err(Error::InvalidObject(
                "'SPF' is not a supported record type".into(),
            )),
        ),
        case(
            "SRV name: `_service._proto.` (tests: test_rrdata_srv)",
            |c| {
                set(
                    &mut c.rs,
                    "_sip._tcp.example.com.",
                    "SRV",
                    &["10 0 5060 sip.example.com."],
                )
            },
            Ok(()),
        ),
        case(
            "SRV name without `_proto` (tests: test_srv_invalid_srv_name)",
            |c| {
                set(
                    &mut c.rs,
                    "_sip.tcp.example.com.",
                    "SRV",
                    &["10 0 5060 sip.example.com."],
                )
            },
            Err(Error::InvalidObject("name is invalid".into())),
        ),
        case(
            "NS name: a delegation",
            |c| set(&mut c.rs, "sub.example.com.", "NS", &["ns1.example.org."]),
            Ok(()),
        ),
        case(
            "NS name: no wildcard (DomainField)",
            |c| set(&mut c.rs, "*.example.com.", "NS", &["ns1.example.org."]),
            Err(Error::InvalidObject("name is invalid".into())),
        ),
        case(
            "SVCB under `_dns` with ALPN h2 needs a dohpath",
            |c| {
                set(
                    &mut c.rs,
                    "_dns.resolver.example.com.",
                    "SVCB",
                    &["1 doh.example.com. alpn=h2"],
                )
            },
            bad_records(&[(0, "1 doh.example.com. alpn=h2", "SVCB")]),
        ),
        case(
            "SVCB under `_dns` with ALPN h2 and a dohpath",
            |c| {
                set(
                    &mut c.rs,
                    "_dns.resolver.example.com.",
                    "SVCB",
                    &["1 doh.example.com. alpn=h2,h3 dohpath=/dns-query{?dns}"],
                )
            },
            Ok(()),
        ),
        case(
            "SVCB under `_dns` with ALPN http/1.1 only",
            |c| {
                set(
                    &mut c.rs,
                    "_dns.resolver.example.com.",
                    "SVCB",
                    &["1 doh.example.com. alpn=http/1.1"],
                )
            },
            Ok(()),
        ),
        case(
            "SVCB under `_dns` without ALPN (Designate fails reading it)",
            |c| {
                set(
                    &mut c.rs,
                    "_dns.resolver.example.com.",
                    "SVCB",
                    &[
                        "1 a.example.com. alpn=h3 dohpath=/q{?dns}",
                        "1 b.example.com. port=443",
                    ],
                )
            },
            bad_records(&[(1, "1 b.example.com. port=443", "SVCB")]),
        ),
        case(
            "SVCB elsewhere needs no dohpath",
            |c| {
                set(
                    &mut c.rs,
                    "svc.example.com.",
                    "SVCB",
                    &["1 doh.example.com. alpn=h2"],
                )
            },
            Ok(()),
        ),
        case(
            "rdata: every failing record is reported, by index",
            |c| c.rs.records = vec!["192.0.2.1".into(), "not-an-ip".into(), "192.0.2.300".into()],
            bad_records(&[(1, "not-an-ip", "A"), (2, "192.0.2.300", "A")]),
        ),
        case(
            "SOA cannot be created (tests: test_post_all_soa_not_allowed)",
            |c| set(&mut c.rs, "example.com.", "SOA", &[]),
            bad_request("Creating a SOA recordset is not allowed"),
        ),
        case(
            "TLSA name `_port._proto.` (tests: TestTLSANameValidation)",
            |c| {
                set(
                    &mut c.rs,
                    "_443._tcp.www.example.com.",
                    "TLSA",
                    &[TLSA_DATA],
                )
            },
            Ok(()),
        ),
        case(
            "TLSA name: port 0 and 65535 are fine (tests: test_valid_name_port_zero/max)",
            |c| set(&mut c.rs, "_65535._udp.example.com.", "TLSA", &[TLSA_DATA]),
            Ok(()),
        ),
        case(
            "TLSA name: a bare domain (tests: test_invalid_bare_domain)",
            |c| set(&mut c.rs, "www.example.com.", "TLSA", &[TLSA_DATA]),
            bad_request(TLSA_FORMAT),
        ),
        case(
            "TLSA name: port over 65535 (tests: test_invalid_port_99999)",
            |c| set(&mut c.rs, "_99999._tcp.example.com.", "TLSA", &[TLSA_DATA]),
            bad_request(
                "TLSA recordset name contains invalid port 99999: port must be in range 0-65535",
            ),
        ),
    ]);
}

#[test]
fn managed_recordset_rules() {
    let soa_id = managed_rrset_id(ZONE_ID, "SOA");
    let ns_id = managed_rrset_id(ZONE_ID, "NS");
    let edit_managed = Privileges {
        edit_managed_records: true,
        ..Default::default()
    };
    run(vec![
        case(
            "update of a managed set without the header (tests: test_put_one_managed_not_allowed)",
            |c| {
                c.rs.id = soa_id.clone();
                set(&mut c.rs, "example.com.", "SOA", &[]);
            },
            bad_request("Managed records may not be updated"),
        ),
        case(
            "update of the SOA (tests: test_put_one_soa_not_allowed)",
            |c| {
                c.rs.id = soa_id.clone();
                c.privileges = edit_managed;
                set(&mut c.rs, "example.com.", "SOA", &[]);
            },
            bad_request("Updating SOA recordsets is not allowed"),
        ),
        case(
            "update of the apex NS without the header",
            |c| {
                c.rs.id = ns_id.clone();
                set(&mut c.rs, "example.com.", "NS", &["ns9.example.org."]);
            },
            bad_request("Managed records may not be updated"),
        ),
        case(
            "update of the apex NS, even by admin (tests: test_put_one_update_root_ns_not_allowed)",
            |c| {
                c.rs.id = ns_id.clone();
                c.privileges = edit_managed;
                set(&mut c.rs, "example.com.", "NS", &["ns9.example.org."]);
            },
            bad_request("Updating a root zone NS record is not allowed"),
        ),
        case(
            "creating an apex NS set: the managed one is there already",
            |c| set(&mut c.rs, "example.com.", "NS", &["ns9.example.org."]),
            Err(Error::DuplicateRecordset("Duplicate RecordSet".into())),
        ),
    ]);
}

#[test]
fn recordset_central_rules() {
    run(vec![
        case(
            "quota zone_recordsets counts SOA and NS (tests: test_create_recordset_over_quota)",
            |c| {
                c.cfg.quotas.zone_recordsets = 3;
                c.accepted
                    .push(accepted("rs-b", "b.example.com.", "A", &["192.0.2.9"]));
            },
            over(QuotaResource::ZoneRecordsets),
        ),
        case(
            "quota zone_recordsets is checked on create only (update_recordset has no quota)",
            |c| {
                c.cfg.quotas.zone_recordsets = 3;
                c.accepted
                    .push(accepted("rs-b", "b.example.com.", "A", &["192.0.2.9"]));
                c.existing = Some(accepted("rs-new", "www.example.com.", "A", &["192.0.2.1"]));
            },
            Ok(()),
        ),
        case(
            "min_ttl applies to an update only when the TTL changes",
            |c| {
                c.cfg.min_ttl = 600;
                c.rs.ttl = Some(300);
                let mut old = accepted("rs-new", "www.example.com.", "A", &["192.0.2.1"]);
                old.ttl = Some(300);
                c.existing = Some(old);
            },
            Ok(()),
        ),
        case(
            "quota zone_recordsets: SOA + NS + this one",
            |c| c.cfg.quotas.zone_recordsets = 3,
            Ok(()),
        ),
        case(
            "quota zone_recordsets: a negative limit is unlimited",
            |c| c.cfg.quotas.zone_recordsets = -1,
            Ok(()),
        ),
        case(
            "min_ttl (tests: test_create_invalid_recordset_ttl)",
            |c| {
                c.cfg.min_ttl = 100;
                c.rs.ttl = Some(10);
            },
            Err(Error::InvalidTtl("TTL is below the minimum: 100".into())),
        ),
        case(
            "min_ttl: use_low_ttl bypasses it",
            |c| {
                c.cfg.min_ttl = 100;
                c.rs.ttl = Some(10);
                c.privileges.low_ttl = true;
            },
            Ok(()),
        ),
        case(
            "min_ttl: no TTL (the zone's applies)",
            |c| c.cfg.min_ttl = 100,
            Ok(()),
        ),
        case(
            "max_recordset_name_len (tests: test_is_valid_recordset_name 'valid.')",
            |c| {
                c.cfg.max_recordset_name_len = 18;
                c.rs.name = "valid.example.com.".into();
            },
            Ok(()),
        ),
        case(
            "max_recordset_name_len exceeded (tests: test_is_valid_recordset_name 'toolong.')",
            |c| {
                c.cfg.max_recordset_name_len = 18;
                c.rs.name = "toolong.example.com.".into();
            },
            Err(Error::InvalidRecordsetName("Name too long".into())),
        ),
        case(
            "inside the zone, compared exactly (tests: test_is_valid_recordset_name 'a.example.COM.')",
            |c| c.rs.name = "a.example.COM.".into(),
            location(NOT_IN_ZONE),
        ),
        case(
            "ending like the zone is not inside it (tests: 'aexample.org.')",
            |c| c.rs.name = "aexample.com.".into(),
            location(NOT_IN_ZONE),
        ),
        case(
            "another zone's name (tests: test_create_invalid_recordset_location_wrong_zone)",
            |c| c.rs.name = "example.org.".into(),
            location(NOT_IN_ZONE),
        ),
        case(
            "CNAME at the apex (tests: test_create_invalid_recordset_location_cname_at_apex)",
            |c| set(&mut c.rs, "example.com.", "CNAME", &["target.example.org."]),
            location(CNAME_APEX),
        ),
        case(
            "CNAME beside another type (tests: ..._cname_sharing)",
            |c| {
                c.accepted.push(www_a());
                set(
                    &mut c.rs,
                    "www.example.com.",
                    "CNAME",
                    &["target.example.org."],
                );
            },
            location(CNAME_SHARED),
        ),
        case(
            "CNAME conflicts are a database lookup, case-insensitive",
            |c| {
                c.accepted
                    .push(accepted("rs-a", "WWW.example.com.", "A", &["192.0.2.9"]));
                set(
                    &mut c.rs,
                    "www.example.com.",
                    "CNAME",
                    &["target.example.org."],
                );
            },
            location(CNAME_SHARED),
        ),
        case(
            "another type beside a CNAME",
            |c| {
                c.accepted.push(accepted(
                    "rs-c",
                    "www.example.com.",
                    "CNAME",
                    &["target.example.org."],
                ))
            },
            location(CNAME_SHARED),
        ),
        case(
            "two types beside each other, no CNAME",
            |c| {
                c.accepted.push(accepted(
                    "rs-c",
                    "www.example.com.",
                    "AAAA",
                    &["2001:db8::1"],
                ))
            },
            Ok(()),
        ),
        case(
            "the recordset itself listed in `accepted` is no conflict",
            |c| {
                c.accepted
                    .push(accepted("rs-new", "www.example.com.", "A", &["192.0.2.9"]))
            },
            Ok(()),
        ),
        case(
            "a name below a child zone (tests: test_is_valid_recordset_placement_subzone)",
            |c| {
                c.child_zones = vec!["sub.example.com.".into()];
                c.rs.name = "record.sub.example.com.".into();
            },
            location("RecordSet belongs in a child zone: sub.example.com."),
        ),
        case(
            "the child zone's own name (tests: test_is_valid_recordset_placement_subzone)",
            |c| {
                c.child_zones = vec!["sub.example.com.".into()];
                set(&mut c.rs, "sub.example.com.", "NS", &["ns1.example.org."]);
            },
            location("RecordSet belongs in a child zone: sub.example.com."),
        ),
        case(
            "names outside child zones (tests: test_is_valid_recordset_placement_subzone)",
            |c| {
                c.child_zones = vec!["sub.example.com.".into()];
                c.rs.name = "record.example.com.".into();
            },
            Ok(()),
        ),
        case(
            "the apex is never in a child zone",
            |c| {
                c.child_zones = vec!["sub.example.com.".into()];
                c.rs.name = "example.com.".into();
            },
            Ok(()),
        ),
        case(
            "the direct child is named, as Designate looks at direct children only",
            |c| {
                c.child_zones = vec!["a.sub.example.com.".into(), "sub.example.com.".into()];
                c.rs.name = "x.a.sub.example.com.".into();
            },
            location("RecordSet belongs in a child zone: sub.example.com."),
        ),
        case(
            "a CNAME has one record at most",
            |c| {
                set(
                    &mut c.rs,
                    "www.example.com.",
                    "CNAME",
                    &["a.example.org.", "b.example.org."],
                )
            },
            bad_request(CNAME_ONE),
        ),
        case(
            "quota zone_records leaves managed records out",
            |c| c.cfg.quotas.zone_records = 1,
            Ok(()),
        ),
        case(
            "quota zone_records (tests: test_create_record_over_zone_quota)",
            |c| {
                c.cfg.quotas.zone_records = 1;
                c.rs.records = vec!["203.0.113.15".into(), "203.0.113.16".into()];
            },
            over(QuotaResource::ZoneRecords),
        ),
        case(
            "quota zone_records: records published unchanged stay (a lowered quota)",
            |c| {
                c.cfg.quotas.zone_records = 1;
                c.cfg.quotas.recordset_records = 1;
                c.rs.records = vec!["203.0.113.15".into(), "203.0.113.16".into()];
                c.existing = Some(accepted(
                    "rs-new",
                    "www.example.com.",
                    "A",
                    &["203.0.113.15", "203.0.113.16"],
                ));
            },
            Ok(()),
        ),
        case(
            "quota zone_records: a change of records is checked",
            |c| {
                c.cfg.quotas.recordset_records = 1;
                c.rs.records = vec!["203.0.113.15".into(), "203.0.113.16".into()];
                c.existing = Some(accepted(
                    "rs-new",
                    "www.example.com.",
                    "A",
                    &["203.0.113.15"],
                ));
            },
            over(QuotaResource::RecordsetRecords),
        ),
        case(
            "quota zone_records counts the zone's other records",
            |c| {
                c.cfg.quotas.zone_records = 3;
                c.accepted.push(accepted(
                    "rs-b",
                    "b.example.com.",
                    "A",
                    &["192.0.2.8", "192.0.2.9"],
                ));
                c.rs.records = vec!["203.0.113.15".into(), "203.0.113.16".into()];
            },
            over(QuotaResource::ZoneRecords),
        ),
        case(
            "record quotas are not checked for an empty recordset",
            |c| {
                c.cfg.quotas.zone_records = 0;
                c.cfg.quotas.recordset_records = 0;
                c.rs.records.clear();
            },
            Ok(()),
        ),
        case(
            "quota recordset_records (tests: test_create_record_over_recordset_quota)",
            |c| c.cfg.quotas.recordset_records = 0,
            over(QuotaResource::RecordsetRecords),
        ),
        case(
            "duplicate recordset (tests: test_create_recordset_duplicate)",
            |c| c.accepted.push(www_a()),
            Err(Error::DuplicateRecordset("Duplicate RecordSet".into())),
        ),
        case(
            "duplicate recordset is a unique key, case-insensitive",
            |c| {
                c.accepted.push(www_a());
                c.rs.name = "WWW.example.com.".into();
            },
            Err(Error::DuplicateRecordset("Duplicate RecordSet".into())),
        ),
        case(
            "duplicate record data in the set",
            |c| c.rs.records = vec!["192.0.2.1".into(), "192.0.2.2".into(), "192.0.2.1".into()],
            Err(Error::DuplicateRecord("Duplicate Record".into())),
        ),
    ]);
}

#[test]
fn recordset_which_error_wins() {
    let soa_id = managed_rrset_id(ZONE_ID, "SOA");
    run(vec![
        case(
            "a managed update is refused before the body is read",
            |c| {
                c.rs.id = soa_id.clone();
                c.rs.name = "bad name".into();
            },
            bad_request("Managed records may not be updated"),
        ),
        case(
            "name syntax (parse) before the type (validate)",
            |c| {
                c.rs.name = "www.example.com".into();
                c.rs.type_ = "ABC".into();
            },
            field("Host name www.example.com does not end with a dot"),
        ),
        case(
            "type before the SRV name rule",
            |c| {
                c.cfg.supported_record_types.retain(|t| t != "SRV");
                set(&mut c.rs, "www.example.com.", "SRV", &[]);
            },
            Err(Error::InvalidObject(
                "'SRV' is not a supported record type".into(),
            )),
        ),
        case(
            "SRV name rule before the rdata",
            |c| set(&mut c.rs, "www.example.com.", "SRV", &["10 0"]),
            Err(Error::InvalidObject("name is invalid".into())),
        ),
        case(
            "rdata before the SOA refusal",
            |c| set(&mut c.rs, "example.com.", "SOA", &["not an soa"]),
            bad_records(&[(0, "not an soa", "SOA")]),
        ),
        case(
            "rdata (API) before Central's quota",
            |c| {
                c.cfg.quotas.zone_recordsets = 0;
                c.rs.records = vec!["not-an-ip".into()];
            },
            bad_records(&[(0, "not-an-ip", "A")]),
        ),
        case(
            "SOA refused before Central's quota",
            |c| {
                c.cfg.quotas.zone_recordsets = 0;
                set(&mut c.rs, "example.com.", "SOA", &[]);
            },
            bad_request("Creating a SOA recordset is not allowed"),
        ),
        case(
            "TLSA name (API) before Central's quota",
            |c| {
                c.cfg.quotas.zone_recordsets = 0;
                set(&mut c.rs, "www.example.com.", "TLSA", &[TLSA_DATA]);
            },
            bad_request(TLSA_FORMAT),
        ),
        case(
            "TTL range (API) before Central's quota",
            |c| {
                c.cfg.quotas.zone_recordsets = 0;
                c.rs.ttl = Some(-5);
            },
            field("Value must be >= 0 for field ttl"),
        ),
        case(
            "quota zone_recordsets before min_ttl",
            |c| {
                c.cfg.quotas.zone_recordsets = 2;
                c.cfg.min_ttl = 100;
                c.rs.ttl = Some(10);
            },
            over(QuotaResource::ZoneRecordsets),
        ),
        case(
            "quota zone_recordsets before the name's location",
            |c| {
                c.cfg.quotas.zone_recordsets = 2;
                c.rs.name = "www.example.org.".into();
            },
            over(QuotaResource::ZoneRecordsets),
        ),
        case(
            "quota zone_recordsets before a duplicate",
            |c| {
                c.cfg.quotas.zone_recordsets = 3;
                c.accepted.push(www_a());
            },
            over(QuotaResource::ZoneRecordsets),
        ),
        case(
            "min_ttl before the name's location",
            |c| {
                c.cfg.min_ttl = 100;
                c.rs.ttl = Some(10);
                c.rs.name = "www.example.org.".into();
            },
            Err(Error::InvalidTtl("TTL is below the minimum: 100".into())),
        ),
        case(
            "name length before location",
            |c| {
                c.cfg.max_recordset_name_len = 10;
                c.rs.name = "www.example.org.".into();
            },
            Err(Error::InvalidRecordsetName("Name too long".into())),
        ),
        case(
            "CNAME at the apex before CNAME sharing",
            |c| set(&mut c.rs, "example.com.", "CNAME", &["target.example.org."]),
            location(CNAME_APEX),
        ),
        case(
            "CNAME sharing before a duplicate CNAME",
            |c| {
                c.accepted.push(accepted(
                    "rs-c",
                    "www.example.com.",
                    "CNAME",
                    &["a.example.org."],
                ));
                set(&mut c.rs, "www.example.com.", "CNAME", &["b.example.org."]);
            },
            location(CNAME_SHARED),
        ),
        case(
            "CNAME sharing before child zone placement",
            |c| {
                c.child_zones = vec!["www.example.com.".into()];
                c.accepted.push(accepted(
                    "rs-c",
                    "www.example.com.",
                    "CNAME",
                    &["a.example.org."],
                ));
            },
            location(CNAME_SHARED),
        ),
        case(
            "child zone placement before the one-CNAME-record rule",
            |c| {
                c.child_zones = vec!["sub.example.com.".into()];
                set(
                    &mut c.rs,
                    "www.sub.example.com.",
                    "CNAME",
                    &["a.example.org.", "b.example.org."],
                );
            },
            location("RecordSet belongs in a child zone: sub.example.com."),
        ),
        case(
            "the one-CNAME-record rule before the record quotas",
            |c| {
                c.cfg.quotas.zone_records = 0;
                set(
                    &mut c.rs,
                    "www.example.com.",
                    "CNAME",
                    &["a.example.org.", "b.example.org."],
                );
            },
            bad_request(CNAME_ONE),
        ),
        case(
            "quota zone_records before recordset_records",
            |c| {
                c.cfg.quotas.zone_records = 0;
                c.cfg.quotas.recordset_records = 0;
            },
            over(QuotaResource::ZoneRecords),
        ),
        case(
            "record quotas before a duplicate recordset",
            |c| {
                c.cfg.quotas.recordset_records = 0;
                c.accepted.push(www_a());
            },
            over(QuotaResource::RecordsetRecords),
        ),
        case(
            "duplicate recordset before duplicate record",
            |c| {
                c.accepted.push(www_a());
                c.rs.records = vec!["192.0.2.1".into(), "192.0.2.1".into()];
            },
            Err(Error::DuplicateRecordset("Duplicate RecordSet".into())),
        ),
    ]);
}
