//! Every type, with all fields set, serializes to the expected wire names and back.

use std::collections::BTreeMap;

use designate_crd::{
    HostPort, NameserverStatus, Pool, PoolNsRecord, PoolSpec, PoolStatus, PoolTarget, Recordset,
    RecordsetSpec, RecordsetStatus, ResourceAction, ResourceStatus, SecretRef, Tld, TldSpec, Zone,
    ZoneSpec, ZoneStatus, ZoneType,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Asserts `value` serializes to exactly `expected` and deserializes back to itself.
#[track_caller]
fn assert_round_trip<T>(value: &T, expected: Value)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_value(value).unwrap();
    assert_eq!(json, expected);
    let back: T = serde_json::from_value(json).unwrap();
    assert_eq!(&back, value);
}

fn time(s: &str) -> Time {
    Time(s.parse::<Timestamp>().unwrap())
}

fn ready() -> Condition {
    Condition {
        last_transition_time: time("2026-01-02T03:04:05Z"),
        message: "serial 7 served by 2/2 nameservers".into(),
        observed_generation: Some(3),
        reason: "Propagated".into(),
        status: "True".into(),
        type_: "Ready".into(),
    }
}

fn ready_json() -> Value {
    json!({
        "lastTransitionTime": "2026-01-02T03:04:05Z",
        "message": "serial 7 served by 2/2 nameservers",
        "observedGeneration": 3,
        "reason": "Propagated",
        "status": "True",
        "type": "Ready",
    })
}

#[test]
fn zone() {
    let mut zone = Zone::new(
        "example-com",
        ZoneSpec {
            name: "example.com.".into(),
            email: Some("admin@example.com".into()),
            ttl: Some(3600),
            description: Some("Example".into()),
            type_: ZoneType::Secondary,
            masters: vec!["192.0.2.1".into(), "192.0.2.2:5353".into()],
            pool_ref: Some("default".into()),
            attributes: BTreeMap::from([("tier".into(), "gold".into())]),
        },
    );
    zone.metadata.namespace = Some("tenant-a".into());
    zone.status = Some(ZoneStatus {
        status: Some(ResourceStatus::Active),
        action: Some(ResourceAction::None),
        serial: Some(1_767_322_245),
        pool: Some("default".into()),
        nameservers: vec![NameserverStatus {
            host: "127.0.0.1".into(),
            port: 10053,
            serial: Some(1_767_322_245),
            status: Some(ResourceStatus::Active),
            message: Some("ok".into()),
        }],
        conditions: vec![ready()],
        observed_generation: Some(3),
        created_at: Some(time("2026-01-01T00:00:00Z")),
        updated_at: Some(time("2026-01-02T03:04:05Z")),
        transferred_at: Some(time("2026-01-02T03:04:05Z")),
        soa: Some("ns1.example.net. admin.example.net. 1767322245 3600 600 86400 300".into()),
    });

    assert_round_trip(
        &zone,
        json!({
            "apiVersion": "designate.openstack.org/v1alpha1",
            "kind": "Zone",
            "metadata": {"name": "example-com", "namespace": "tenant-a"},
            "spec": {
                "name": "example.com.",
                "email": "admin@example.com",
                "ttl": 3600,
                "description": "Example",
                "type": "SECONDARY",
                "masters": ["192.0.2.1", "192.0.2.2:5353"],
                "poolRef": "default",
                "attributes": {"tier": "gold"},
            },
            "status": {
                "status": "ACTIVE",
                "action": "NONE",
                "serial": 1_767_322_245,
                "pool": "default",
                "nameservers": [{
                    "host": "127.0.0.1",
                    "port": 10053,
                    "serial": 1_767_322_245,
                    "status": "ACTIVE",
                    "message": "ok",
                }],
                "conditions": [ready_json()],
                "observedGeneration": 3,
                "createdAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-01-02T03:04:05Z",
                "transferredAt": "2026-01-02T03:04:05Z",
                "soa": "ns1.example.net. admin.example.net. 1767322245 3600 600 86400 300",
            },
        }),
    );
}

#[test]
fn minimal_zone_spec_uses_defaults_and_skips_empty_fields() {
    let spec: ZoneSpec =
        serde_json::from_value(json!({"name": "example.com.", "email": "a@example.com"})).unwrap();
    assert_eq!(spec.type_, ZoneType::Primary);
    assert_round_trip(
        &spec,
        json!({"name": "example.com.", "email": "a@example.com", "type": "PRIMARY"}),
    );
    assert_round_trip(&ZoneStatus::default(), json!({}));
}

#[test]
fn recordset() {
    let mut recordset = Recordset::new(
        "www",
        RecordsetSpec {
            zone_ref: "example-com".into(),
            name: "www.example.com.".into(),
            type_: "AAAA".into(),
            ttl: Some(300),
            records: vec!["2001:db8::1".into()],
            description: Some("web".into()),
        },
    );
    recordset.status = Some(RecordsetStatus {
        status: Some(ResourceStatus::Pending),
        action: Some(ResourceAction::Update),
        serial: Some(42),
        conditions: vec![ready()],
        observed_generation: Some(2),
        created_at: Some(time("2026-01-01T00:00:00Z")),
        updated_at: Some(time("2026-01-02T00:00:00Z")),
    });

    assert_round_trip(
        &recordset,
        json!({
            "apiVersion": "designate.openstack.org/v1alpha1",
            "kind": "Recordset",
            "metadata": {"name": "www"},
            "spec": {
                "zoneRef": "example-com",
                "name": "www.example.com.",
                "type": "AAAA",
                "ttl": 300,
                "records": ["2001:db8::1"],
                "description": "web",
            },
            "status": {
                "status": "PENDING",
                "action": "UPDATE",
                "serial": 42,
                "conditions": [ready_json()],
                "observedGeneration": 2,
                "createdAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-01-02T00:00:00Z",
            },
        }),
    );
}

#[test]
fn pool() {
    let server = |port| HostPort {
        host: "127.0.0.1".into(),
        port,
    };
    let mut pool = Pool::new(
        "default",
        PoolSpec {
            description: Some("Default pool".into()),
            attributes: BTreeMap::from([("region".into(), "local".into())]),
            ns_records: vec![PoolNsRecord {
                hostname: "ns1.example.net.".into(),
                priority: 1,
            }],
            nameservers: vec![server(10053)],
            targets: vec![PoolTarget {
                type_: "pdns4".into(),
                description: Some("PowerDNS".into()),
                masters: vec![server(5354)],
                options: BTreeMap::from([("api_endpoint".into(), "http://127.0.0.1:8081".into())]),
                secret_ref: Some(SecretRef {
                    name: "pdns-api".into(),
                    namespace: Some("designate".into()),
                }),
            }],
            also_notifies: vec![server(10055)],
        },
    );
    pool.status = Some(PoolStatus {
        conditions: vec![ready()],
        observed_generation: Some(1),
        zone_count: Some(12),
    });

    assert_round_trip(
        &pool,
        json!({
            "apiVersion": "designate.openstack.org/v1alpha1",
            "kind": "Pool",
            "metadata": {"name": "default"},
            "spec": {
                "description": "Default pool",
                "attributes": {"region": "local"},
                "nsRecords": [{"hostname": "ns1.example.net.", "priority": 1}],
                "nameservers": [{"host": "127.0.0.1", "port": 10053}],
                "targets": [{
                    "type": "pdns4",
                    "description": "PowerDNS",
                    "masters": [{"host": "127.0.0.1", "port": 5354}],
                    "options": {"api_endpoint": "http://127.0.0.1:8081"},
                    "secretRef": {"name": "pdns-api", "namespace": "designate"},
                }],
                "alsoNotifies": [{"host": "127.0.0.1", "port": 10055}],
            },
            "status": {"conditions": [ready_json()], "observedGeneration": 1, "zoneCount": 12},
        }),
    );
}

#[test]
fn tld() {
    let tld = Tld::new(
        "co.uk",
        TldSpec {
            name: "co.uk".into(),
            description: Some("United Kingdom".into()),
        },
    );
    assert_round_trip(
        &tld,
        json!({
            "apiVersion": "designate.openstack.org/v1alpha1",
            "kind": "Tld",
            "metadata": {"name": "co.uk"},
            "spec": {"name": "co.uk", "description": "United Kingdom"},
        }),
    );
}

#[test]
fn enums_use_designate_spellings() {
    for (status, wire) in [
        (ResourceStatus::Pending, "PENDING"),
        (ResourceStatus::Active, "ACTIVE"),
        (ResourceStatus::Error, "ERROR"),
    ] {
        assert_eq!(status.as_str(), wire);
        assert_round_trip(&status, json!(wire));
    }
    for (action, wire) in [
        (ResourceAction::Create, "CREATE"),
        (ResourceAction::Update, "UPDATE"),
        (ResourceAction::Delete, "DELETE"),
        (ResourceAction::None, "NONE"),
    ] {
        assert_eq!(action.as_str(), wire);
        assert_round_trip(&action, json!(wire));
    }
    for (zone_type, wire) in [
        (ZoneType::Primary, "PRIMARY"),
        (ZoneType::Secondary, "SECONDARY"),
    ] {
        assert_eq!(zone_type.as_str(), wire);
        assert_round_trip(&zone_type, json!(wire));
    }
}

#[test]
fn resource_identity() {
    use kube::Resource;
    assert_eq!(Zone::group(&()), designate_crd::GROUP);
    assert_eq!(Zone::version(&()), designate_crd::VERSION);
    assert_eq!(Zone::plural(&()), "zones");
    assert_eq!(Recordset::plural(&()), "recordsets");
    assert_eq!(Pool::plural(&()), "pools");
    assert_eq!(Tld::plural(&()), "tlds");

    let crds = designate_crd::crds();
    let scopes: Vec<&str> = crds.iter().map(|crd| crd.spec.scope.as_str()).collect();
    // Zone, Recordset, ZoneShare, ZoneTask and the transfer kinds (the last
    // four) belong to a project; the other kinds are the operator's.
    let (operators, projects) = scopes[2..].split_at(scopes.len() - 6);
    assert_eq!(scopes[..2], ["Namespaced", "Namespaced"]);
    assert_eq!(projects, ["Namespaced"; 4]);
    assert!(operators.iter().all(|s| *s == "Cluster"), "{scopes:?}");
    for crd in &crds {
        assert_eq!(
            crd.spec.names.categories.as_deref(),
            Some(&["designate".to_owned()][..])
        );
        // Only reconciled kinds and tasks have a status: a TLD, a
        // blacklist, ... are plain data.
        let has_status = crd.spec.versions[0]
            .subresources
            .as_ref()
            .is_some_and(|s| s.status.is_some());
        assert_eq!(
            has_status,
            [
                "Zone",
                "Recordset",
                "Pool",
                "ZoneTask",
                "ZoneTransferRequest",
                "ZoneTransferAccept"
            ]
            .contains(&crd.spec.names.kind.as_str()),
            "{}",
            crd.spec.names.kind
        );
    }
}
