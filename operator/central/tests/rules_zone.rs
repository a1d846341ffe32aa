//! `validate_zone`, one case per Designate rule, plus the "which error wins"
//! cases where several rules apply. Cases marked `tests:` come from
//! Designate's own tests (`tests/functional/central/test_service.py`,
//! `tests/unit/objects/test_fields.py`).

use designate_central::rules::{is_within, validate_zone};
use designate_central::{Config, Error, Privileges, QuotaResource, ZoneInput, ZoneKind, ZoneOwner};

struct Case {
    rule: &'static str,
    zone: ZoneInput,
    existing: Option<ZoneInput>,
    cfg: Config,
    privileges: Privileges,
    project_zone_count: u64,
    related: Vec<ZoneOwner>,
    want: Result<(), Error>,
}

fn zone() -> ZoneInput {
    ZoneInput {
        id: "zone-new".into(),
        project: "p1".into(),
        name: "example.com.".into(),
        email: Some("admin@example.com".into()),
        ..Default::default()
    }
}

fn secondary() -> ZoneInput {
    ZoneInput {
        kind: ZoneKind::Secondary,
        email: None,
        masters: vec!["192.0.2.1".into(), "192.0.2.2:5353".into()],
        ..zone()
    }
}

fn owner(id: &str, name: &str, project: &str) -> ZoneOwner {
    ZoneOwner {
        id: id.into(),
        name: name.into(),
        project: project.into(),
    }
}

/// A case on top of a valid create of `example.com.` by `p1`.
fn case(rule: &'static str, edit: impl FnOnce(&mut Case), want: Result<(), Error>) -> Case {
    let mut c = Case {
        rule,
        zone: zone(),
        existing: None,
        cfg: Config::default(),
        privileges: Privileges::default(),
        project_zone_count: 0,
        related: Vec::new(),
        want,
    };
    edit(&mut c);
    c
}

/// A case on top of an update of `example.com.` that changes nothing.
fn update(rule: &'static str, edit: impl FnOnce(&mut Case), want: Result<(), Error>) -> Case {
    case(
        rule,
        |c| {
            c.existing = Some(zone());
            edit(c);
        },
        want,
    )
}

fn field(message: &str) -> Result<(), Error> {
    Err(Error::InvalidObject(format!(
        "Provided object is not valid. Got a ValueError error with message {message}"
    )))
}

fn invalid_object(message: &str) -> Result<(), Error> {
    Err(Error::InvalidObject(message.into()))
}

fn invalid_name(message: &str) -> Result<(), Error> {
    Err(Error::InvalidZoneName(message.into()))
}

fn immutable(key: &str) -> Result<(), Error> {
    invalid_object(&format!(
        "Provided object does not match schema. Keys ['{key}'] are not valid for zone"
    ))
}

fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let got = validate_zone(
            &c.zone,
            c.existing.as_ref(),
            &c.cfg,
            c.privileges,
            c.project_zone_count,
            &c.related,
        );
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

const BELOW_MIN_TTL: &str = "TTL is below the minimum: 100";

#[test]
fn zone_schema_rules() {
    let label64 = "a".repeat(64);
    let name255 = format!("b{}com.", "a.".repeat(125));
    run(vec![
        case("valid PRIMARY zone", |_| {}, Ok(())),
        case(
            "valid SECONDARY zone (host and host:port masters)",
            |c| c.zone = secondary(),
            Ok(()),
        ),
        case(
            "RE_ZONENAME allows `_`",
            |c| c.zone.name = "_sub.example.com.".into(),
            Ok(()),
        ),
        case(
            "DomainField maxLength=255",
            |c| c.zone.name = format!("{}com.", "a.".repeat(126)),
            field("Value too long for name"),
        ),
        case(
            "DomainField: labels of 63 characters at most (tests: DomainFieldTest)",
            |c| c.zone.name = format!("{label64}.example.org."),
            field(&format!("Host {label64} is too long")),
        ),
        case(
            "DomainField: trailing dot",
            |c| c.zone.name = "example.com".into(),
            field("Domain example.com does not end with a dot"),
        ),
        case(
            "RE_ZONENAME: no wildcard label",
            |c| c.zone.name = "*.example.com.".into(),
            field("Domain *.example.com. is invalid"),
        ),
        case(
            "RE_ZONENAME: no label starting with `-`",
            |c| c.zone.name = "-a.example.com.".into(),
            field("Domain -a.example.com. is invalid"),
        ),
        case(
            "RE_ZONENAME: fewer than 255 characters",
            |c| c.zone.name = name255.clone(),
            field(&format!("Domain {name255} is invalid")),
        ),
        case(
            "EmailField: exactly one `@` (tests: EmailFieldTest '-')",
            |c| c.zone.email = Some("-".into()),
            field("- is not an email"),
        ),
        case(
            "EmailField: exactly one `@`, not two",
            |c| c.zone.email = Some("a@b@example.com".into()),
            field("a@b@example.com is not an email"),
        ),
        case(
            "EmailField: usable as SOA RNAME (tests: EmailFieldTest '@')",
            |c| c.zone.email = Some("@".into()),
            field("Email @ is invalid"),
        ),
        case(
            "EmailField maxLength=255",
            |c| c.zone.email = Some(format!("{}@example.com", "a".repeat(250))),
            field("Value too long for email"),
        ),
        case(
            "ttl minimum 0 (tests: test_create_zone_below_zero_ttl)",
            |c| c.zone.ttl = Some(-100),
            field("Value must be >= 0 for field ttl"),
        ),
        case(
            "ttl maximum 2^31-1",
            |c| c.zone.ttl = Some(2_147_483_647),
            Ok(()),
        ),
        case(
            "ttl above 2^31-1",
            |c| c.zone.ttl = Some(2_147_483_648),
            field("Value too high for ttl"),
        ),
        case(
            "description of 160 characters",
            |c| c.zone.description = Some("é".repeat(160)),
            Ok(()),
        ),
        case(
            "description maxLength=160",
            |c| c.zone.description = Some("x".repeat(161)),
            field("Value too long for description"),
        ),
        case(
            "ZoneMaster.port minimum 1",
            |c| {
                c.zone = ZoneInput {
                    masters: vec!["192.0.2.1:0".into()],
                    ..secondary()
                }
            },
            field("Value must be >= 1 for field port"),
        ),
        case(
            "ZoneMaster.port maximum 65535",
            |c| {
                c.zone = ZoneInput {
                    masters: vec!["192.0.2.1:65536".into()],
                    ..secondary()
                }
            },
            field("Value too high for port"),
        ),
        case(
            "split_host_port: a non-numeric port makes it all the host",
            |c| {
                c.zone = ZoneInput {
                    masters: vec!["ns.example.org:domain".into()],
                    ..secondary()
                }
            },
            Ok(()),
        ),
        case(
            "Zone.validate: PRIMARY has no masters",
            |c| c.zone.masters = vec!["192.0.2.1".into()],
            invalid_object("'masters' has more items than allowed"),
        ),
        case(
            "Zone.validate: PRIMARY requires email",
            |c| c.zone.email = None,
            invalid_object("'email' is a required property"),
        ),
        case(
            "Zone.validate: SECONDARY requires masters",
            |c| {
                c.zone = ZoneInput {
                    masters: vec![],
                    ..secondary()
                }
            },
            invalid_object("'masters' is a required property"),
        ),
        case(
            "Zone.validate: SECONDARY takes no email",
            |c| {
                c.zone = ZoneInput {
                    email: Some("admin@example.com".into()),
                    ..secondary()
                }
            },
            invalid_object("'email' can't be specified when type is SECONDARY"),
        ),
        case(
            "Zone.validate: SECONDARY takes no ttl",
            |c| {
                c.zone = ZoneInput {
                    ttl: Some(300),
                    ..secondary()
                }
            },
            invalid_object("'ttl' can't be specified when type is SECONDARY"),
        ),
    ]);
}

#[test]
fn zone_central_create_rules() {
    let blacklisted = |c: &mut Case| {
        // tests: test_is_blacklisted_zone_name
        c.cfg.blacklists = [
            "example.org.",
            "example.net.",
            "^blacklisted.org.$",
            "com.$",
        ]
        .map(String::from)
        .to_vec();
    };
    run(vec![
        case(
            "quota zones: count + 1 within the limit",
            |c| c.project_zone_count = 9,
            Ok(()),
        ),
        case(
            "quota zones: count + 1 over the limit (tests: test_create_zone_over_quota)",
            |c| c.project_zone_count = 10,
            Err(Error::OverQuota(QuotaResource::Zones)),
        ),
        case(
            "quota zones: a limit of 0 allows none",
            |c| c.cfg.quotas.zones = 0,
            Err(Error::OverQuota(QuotaResource::Zones)),
        ),
        case(
            "quota zones: a negative limit is unlimited",
            |c| {
                c.cfg.quotas.zones = -1;
                c.project_zone_count = 100_000;
            },
            Ok(()),
        ),
        case(
            "max_zone_name_len (tests: test_is_valid_zone_name 'valid.org.')",
            |c| {
                c.cfg.max_zone_name_len = 10;
                c.zone.name = "valid.org.".into();
            },
            Ok(()),
        ),
        case(
            "max_zone_name_len exceeded (tests: test_is_valid_zone_name 'example.org.')",
            |c| {
                c.cfg.max_zone_name_len = 10;
                c.zone.name = "example.org.".into();
            },
            invalid_name("Name too long"),
        ),
        case(
            "more than one label (tests: test_is_valid_zone_name 'tld.')",
            |c| c.zone.name = "tld.".into(),
            invalid_name("More than one label is required"),
        ),
        case(
            "TLD: the name ends in a known TLD (tests: test_create_zone_invalid_tld_fail)",
            |c| c.cfg.tlds = vec!["com".into()],
            Ok(()),
        ),
        case(
            "TLD: unknown TLD (tests: test_create_zone_invalid_tld_fail)",
            |c| {
                c.cfg.tlds = vec!["com".into()];
                c.zone.name = "example.net.".into();
            },
            Err(Error::InvalidTld("Invalid TLD".into())),
        ),
        case(
            "TLD: an IDN TLD (tests: test_idn_create_zone_over_tld)",
            |c| {
                c.cfg.tlds = vec!["xn--3e0b707e".into()];
                c.zone.name = "example.xn--3e0b707e.".into();
            },
            Ok(()),
        ),
        case(
            "TLD: a multi-label TLD",
            |c| {
                c.cfg.tlds = vec!["co.uk".into()];
                c.zone.name = "example.co.uk.".into();
            },
            Ok(()),
        ),
        case(
            "TLD: the name may not be a TLD",
            |c| {
                c.cfg.tlds = vec!["co.uk".into()];
                c.zone.name = "co.uk.".into();
            },
            invalid_name("Zone name cannot be the same as a TLD"),
        ),
        case(
            "TLD: suffixes are compared exactly (Python `in`)",
            |c| {
                c.cfg.tlds = vec!["com".into()];
                c.zone.name = "example.COM.".into();
            },
            Err(Error::InvalidTld("Invalid TLD".into())),
        ),
        case(
            "TLD: 'same as a TLD' is a database lookup, case-insensitive",
            |c| {
                c.cfg.tlds = vec!["CO.uk".into(), "uk".into()];
                c.zone.name = "co.uk.".into();
            },
            invalid_name("Zone name cannot be the same as a TLD"),
        ),
        case(
            "blacklist: subzones of a blacklisted name (tests: 'www.example.org.')",
            |c| {
                blacklisted(c);
                c.zone.name = "www.example.org.".into();
            },
            Err(Error::BlacklistedZone("Blacklisted zone name".into())),
        ),
        case(
            "blacklist: anchored pattern (tests: 'blacklisted.org.')",
            |c| {
                blacklisted(c);
                c.zone.name = "blacklisted.org.".into();
            },
            Err(Error::BlacklistedZone("Blacklisted zone name".into())),
        ),
        case(
            "blacklist: pattern searched anywhere (tests: 'com.$' on 'example.com.')",
            blacklisted,
            Err(Error::BlacklistedZone("Blacklisted zone name".into())),
        ),
        case(
            "blacklist: no pattern matches",
            |c| {
                blacklisted(c);
                c.zone.name = "example.io.".into();
            },
            Ok(()),
        ),
        case(
            "blacklist: use_blacklisted_zone bypasses it (tests: test_create_blacklisted_zone_success)",
            |c| {
                blacklisted(c);
                c.privileges.blacklisted_zone = true;
            },
            Ok(()),
        ),
        case(
            "blacklist: a pattern that cannot be evaluated counts as a match (as a timeout does)",
            |c| c.cfg.blacklists = vec!["(?!nothing)".into()],
            Err(Error::BlacklistedZone("Blacklisted zone name".into())),
        ),
        case(
            "min_ttl (tests: test_create_zone_invalid_ttl_fail)",
            |c| {
                c.cfg.min_ttl = 100;
                c.zone.ttl = Some(5);
            },
            Err(Error::InvalidTtl(BELOW_MIN_TTL.into())),
        ),
        case(
            "min_ttl: use_low_ttl bypasses it",
            |c| {
                c.cfg.min_ttl = 100;
                c.zone.ttl = Some(5);
                c.privileges.low_ttl = true;
            },
            Ok(()),
        ),
        case(
            "min_ttl: no TTL given (the default applies)",
            |c| c.cfg.min_ttl = 100_000,
            Ok(()),
        ),
    ]);
}

#[test]
fn zone_ownership_rules() {
    run(vec![
        case(
            "same name, other project (tests: ..._duplicate_different_pools_different_tenant_fails)",
            |c| c.related = vec![owner("z1", "example.com.", "p2")],
            Err(Error::DuplicateZone(
                "Zone already exists, owned by a different tenant".into(),
            )),
        ),
        case(
            "same name, other project, other case (database lookup)",
            |c| c.related = vec![owner("z1", "EXAMPLE.com.", "p2")],
            Err(Error::DuplicateZone(
                "Zone already exists, owned by a different tenant".into(),
            )),
        ),
        case(
            "same name, same project: the storage unique key",
            |c| c.related = vec![owner("z1", "example.com.", "p1")],
            Err(Error::DuplicateZone("Duplicate Zone".into())),
        ),
        case(
            "the zone itself listed among related zones",
            |c| c.related = vec![owner("zone-new", "example.com.", "p1")],
            Ok(()),
        ),
        case(
            "subzone of another project's zone (tests: test_create_subzone_failure)",
            |c| {
                c.zone.name = "www.example.com.".into();
                c.related = vec![owner("z1", "example.com.", "p2")];
            },
            Err(Error::IllegalChildZone(
                "Unable to create subzone in another tenants zone".into(),
            )),
        ),
        case(
            "subzone of the project's own zone (tests: test_create_subzone)",
            |c| {
                c.zone.name = "www.example.com.".into();
                c.related = vec![owner("z1", "example.com.", "p1")];
            },
            Ok(()),
        ),
        case(
            "only the nearest ancestor counts: own parent under another project's grandparent",
            |c| {
                c.zone.name = "a.b.example.com.".into();
                c.related = vec![
                    owner("z1", "example.com.", "p2"),
                    owner("z2", "b.example.com.", "p1"),
                ];
            },
            Ok(()),
        ),
        case(
            "only the nearest ancestor counts: another project's parent under our grandparent",
            |c| {
                c.zone.name = "a.b.example.com.".into();
                c.related = vec![
                    owner("z1", "example.com.", "p1"),
                    owner("z2", "b.example.com.", "p2"),
                ];
            },
            Err(Error::IllegalChildZone(
                "Unable to create subzone in another tenants zone".into(),
            )),
        ),
        case(
            "superzone of another project's zone (tests: test_create_superzone_failure)",
            |c| c.related = vec![owner("z1", "www.example.com.", "p2")],
            Err(Error::IllegalParentZone(
                "Unable to create zone because another tenant owns a subzone of the zone".into(),
            )),
        ),
        case(
            "superzone of the project's own zone (tests: test_create_superzone)",
            |c| c.related = vec![owner("z1", "www.example.com.", "p1")],
            Ok(()),
        ),
        case(
            "a name that only ends like the zone is no subzone",
            |c| c.related = vec![owner("z1", "aexample.com.", "p2")],
            Ok(()),
        ),
        case(
            "duplicate of another project wins over its subzones",
            |c| {
                c.related = vec![
                    owner("z1", "www.example.com.", "p2"),
                    owner("z2", "example.com.", "p2"),
                ]
            },
            Err(Error::DuplicateZone(
                "Zone already exists, owned by a different tenant".into(),
            )),
        ),
        case(
            "illegal child wins over illegal parent",
            |c| {
                c.zone.name = "b.example.com.".into();
                c.related = vec![
                    owner("z1", "a.b.example.com.", "p2"),
                    owner("z2", "example.com.", "p2"),
                ];
            },
            Err(Error::IllegalChildZone(
                "Unable to create subzone in another tenants zone".into(),
            )),
        ),
        case(
            "another project's subzone wins over our own duplicate",
            |c| {
                c.related = vec![
                    owner("z1", "example.com.", "p1"),
                    owner("z2", "www.example.com.", "p2"),
                ]
            },
            Err(Error::IllegalParentZone(
                "Unable to create zone because another tenant owns a subzone of the zone".into(),
            )),
        ),
    ]);
}

#[test]
fn zone_which_error_wins() {
    run(vec![
        case(
            "masters are parsed before the other fields",
            |c| {
                c.zone = ZoneInput {
                    masters: vec!["192.0.2.1:0".into()],
                    ..secondary()
                };
                c.zone.name = "example.com".into();
            },
            field("Value must be >= 1 for field port"),
        ),
        case(
            "field syntax before the type rules",
            |c| {
                c.zone.email = None;
                c.zone.ttl = Some(-1);
            },
            field("Value must be >= 0 for field ttl"),
        ),
        case(
            "PRIMARY: masters reported before a missing email",
            |c| {
                c.zone.email = None;
                c.zone.masters = vec!["192.0.2.1".into()];
            },
            invalid_object("'masters' has more items than allowed"),
        ),
        case(
            "API syntax (bad FQDN) before Central's quota",
            |c| {
                c.project_zone_count = 10;
                c.zone.name = "example.com".into();
            },
            field("Domain example.com does not end with a dot"),
        ),
        case(
            "API type rules before Central's quota",
            |c| {
                c.project_zone_count = 10;
                c.zone.email = None;
            },
            invalid_object("'email' is a required property"),
        ),
        case(
            "quota before Central's name rules (one label)",
            |c| {
                c.project_zone_count = 10;
                c.zone.name = "com.".into();
            },
            Err(Error::OverQuota(QuotaResource::Zones)),
        ),
        case(
            "quota before the blacklist",
            |c| {
                c.project_zone_count = 10;
                c.cfg.blacklists = vec!["example".into()];
            },
            Err(Error::OverQuota(QuotaResource::Zones)),
        ),
        case(
            "invalid TLD before the blacklist",
            |c| {
                c.cfg.tlds = vec!["org".into()];
                c.cfg.blacklists = vec!["example".into()];
            },
            Err(Error::InvalidTld("Invalid TLD".into())),
        ),
        case(
            "zone name before min_ttl",
            |c| {
                c.cfg.blacklists = vec!["example".into()];
                c.cfg.min_ttl = 100;
                c.zone.ttl = Some(5);
            },
            Err(Error::BlacklistedZone("Blacklisted zone name".into())),
        ),
        case(
            "min_ttl before ownership",
            |c| {
                c.cfg.min_ttl = 100;
                c.zone.ttl = Some(5);
                c.related = vec![owner("z1", "example.com.", "p2")];
            },
            Err(Error::InvalidTtl(BELOW_MIN_TTL.into())),
        ),
    ]);
}

#[test]
fn zone_update_rules() {
    run(vec![
        update(
            "no quota, name or ownership rules on update",
            |c| {
                c.project_zone_count = 100;
                c.cfg.blacklists = vec!["example".into()];
                c.cfg.tlds = vec!["org".into()];
                c.related = vec![owner("z1", "example.com.", "p2")];
            },
            Ok(()),
        ),
        update(
            "name is immutable (tests: test_update_zone_name_fail)",
            |c| c.zone.name = "example.org.".into(),
            immutable("name"),
        ),
        update(
            "name is immutable, compared exactly",
            |c| c.zone.name = "EXAMPLE.com.".into(),
            immutable("name"),
        ),
        update(
            "type is immutable",
            |c| {
                c.zone = ZoneInput {
                    id: "zone-new".into(),
                    ..secondary()
                }
            },
            immutable("type"),
        ),
        update(
            "project is read-only (tests: test_update_zone_do_not_allow_tenant_id_update)",
            |c| c.zone.project = "p2".into(),
            immutable("project_id"),
        ),
        update(
            "masters are parsed before the immutable keys",
            |c| {
                c.zone.name = "example.org.".into();
                c.zone.masters = vec!["192.0.2.1:70000".into()];
            },
            field("Value too high for port"),
        ),
        update(
            "field syntax still applies",
            |c| c.zone.email = Some("nobody".into()),
            field("nobody is not an email"),
        ),
        update(
            "PRIMARY still takes no masters (tests: test_update_zone_master_for_primary_zone)",
            |c| c.zone.masters = vec!["192.0.2.1".into()],
            invalid_object("'masters' has more items than allowed"),
        ),
        update(
            "a changed TTL below min_ttl",
            |c| {
                c.cfg.min_ttl = 100;
                c.zone.ttl = Some(5);
            },
            Err(Error::InvalidTtl(BELOW_MIN_TTL.into())),
        ),
        update(
            "an unchanged TTL below a raised min_ttl",
            |c| {
                c.cfg.min_ttl = 100;
                c.zone.ttl = Some(5);
                c.existing.as_mut().unwrap().ttl = Some(5);
            },
            Ok(()),
        ),
        update(
            "SECONDARY: the stored managed email and default TTL are not 'given'",
            |c| {
                c.zone = ZoneInput {
                    id: "zone-new".into(),
                    ..secondary()
                };
                c.existing = Some(ZoneInput {
                    email: Some("hostmaster@example.com".into()),
                    ttl: Some(3600),
                    ..c.zone.clone()
                });
            },
            Ok(()),
        ),
        update(
            "SECONDARY: an email set by the update",
            |c| {
                c.zone = ZoneInput {
                    id: "zone-new".into(),
                    ..secondary()
                };
                c.existing = Some(c.zone.clone());
                c.zone.email = Some("admin@example.com".into());
            },
            invalid_object("'email' can't be specified when type is SECONDARY"),
        ),
    ]);
}

#[test]
fn within_means_equal_or_below_a_label_boundary() {
    for (name, parent, within) in [
        ("example.org.", "example.org.", true),
        ("www.Example.ORG.", "example.org.", true),
        ("a.b.example.org.", "example.org.", true),
        ("badexample.org.", "example.org.", false),
        ("org.", "example.org.", false),
        ("example.org.", "org.", true),
        ("example.com.", "example.org.", false),
    ] {
        assert_eq!(is_within(name, parent), within, "{name} in {parent}");
    }
}
