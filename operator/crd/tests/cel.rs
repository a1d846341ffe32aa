//! The CEL rules (`x-kubernetes-validations`) of our CRDs compile and behave, evaluated
//! client-side with kube's `cel` feature (kube-cel) the way the apiserver evaluates them
//! on create (no old object) and update.

use designate_crd::{Pool, Recordset, Tld, Zone};
use kube::CustomResourceExt;
use kube::core::cel::{CompiledSchema, Validator, compile_schema};
use serde_json::{Value, json};

fn schema<K: CustomResourceExt>() -> Value {
    let crd = K::crd();
    let schema = crd.spec.versions[0]
        .schema
        .clone()
        .and_then(|s| s.open_api_v3_schema);
    serde_json::to_value(schema.expect("openAPIV3Schema")).unwrap()
}

/// The messages of the rules `object` breaks, given the previous version `old` on update.
fn broken<K: CustomResourceExt>(object: &Value, old: Option<&Value>) -> Vec<String> {
    match Validator::new().validate(&schema::<K>(), object, old) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.message.clone()).collect(),
    }
}

fn zone(spec: Value) -> Value {
    json!({"apiVersion": "designate.openstack.org/v1alpha1", "kind": "Zone", "metadata": {"name": "z"}, "spec": spec})
}

fn recordset(spec: Value) -> Value {
    json!({"apiVersion": "designate.openstack.org/v1alpha1", "kind": "Recordset", "metadata": {"name": "r"}, "spec": spec})
}

fn compilation_errors(compiled: &CompiledSchema, path: &str, out: &mut Vec<String>) {
    out.extend(
        compiled
            .compilation_errors()
            .iter()
            .map(|e| format!("{path}: {e}")),
    );
    for (name, child) in &compiled.properties {
        compilation_errors(child, &format!("{path}.{name}"), out);
    }
    for child in compiled.items.iter().chain(&compiled.additional_properties) {
        compilation_errors(child, &format!("{path}[*]"), out);
    }
}

#[test]
fn all_rules_compile() {
    for schema in [
        schema::<Zone>(),
        schema::<Recordset>(),
        schema::<Pool>(),
        schema::<Tld>(),
    ] {
        let mut errors = Vec::new();
        compilation_errors(&compile_schema(&schema), "", &mut errors);
        assert_eq!(errors, Vec::<String>::new());
    }
}

#[test]
fn primary_zones_need_an_email_and_no_masters() {
    assert_eq!(
        broken::<Zone>(
            &zone(json!({"name": "example.com.", "email": "a@example.com"})),
            None
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        broken::<Zone>(&zone(json!({"name": "example.com."})), None),
        ["email is required for PRIMARY zones"]
    );
    assert_eq!(
        broken::<Zone>(
            &zone(
                json!({"name": "example.com.", "email": "a@example.com", "masters": ["192.0.2.1"]})
            ),
            None
        ),
        ["masters are only allowed for SECONDARY zones"]
    );
}

#[test]
fn secondary_zones_need_masters() {
    let secondary =
        zone(json!({"name": "example.com.", "type": "SECONDARY", "masters": ["192.0.2.1:53"]}));
    assert_eq!(broken::<Zone>(&secondary, None), Vec::<String>::new());
    assert_eq!(
        broken::<Zone>(
            &zone(json!({"name": "example.com.", "type": "SECONDARY"})),
            None
        ),
        ["masters are required for SECONDARY zones"]
    );
}

#[test]
fn zone_name_and_type_are_immutable() {
    let old = zone(json!({"name": "example.com.", "email": "a@example.com", "ttl": 3600}));
    let ttl_changed = zone(json!({"name": "example.com.", "email": "a@example.com", "ttl": 60}));
    assert_eq!(
        broken::<Zone>(&ttl_changed, Some(&old)),
        Vec::<String>::new()
    );

    let renamed = zone(json!({"name": "example.org.", "email": "a@example.com", "ttl": 3600}));
    assert_eq!(broken::<Zone>(&renamed, Some(&old)), ["name is immutable"]);

    let retyped =
        zone(json!({"name": "example.com.", "type": "SECONDARY", "masters": ["192.0.2.1"]}));
    assert_eq!(broken::<Zone>(&retyped, Some(&old)), ["type is immutable"]);
}

#[test]
fn recordset_identity_is_immutable_and_soa_is_reserved() {
    let spec = json!({"zoneRef": "example-com", "name": "www.example.com.", "type": "A", "records": ["192.0.2.1"]});
    let old = recordset(spec.clone());
    let mut new_records = spec.clone();
    new_records["records"] = json!(["192.0.2.2"]);
    assert_eq!(
        broken::<Recordset>(&recordset(new_records), Some(&old)),
        Vec::<String>::new()
    );

    for (field, value, message) in [
        ("zoneRef", "example-org", "zoneRef is immutable"),
        ("name", "web.example.com.", "name is immutable"),
        ("type", "AAAA", "type is immutable"),
    ] {
        let mut changed = spec.clone();
        changed[field] = json!(value);
        assert_eq!(
            broken::<Recordset>(&recordset(changed), Some(&old)),
            [message],
            "{field}"
        );
    }

    let mut soa = spec;
    soa["type"] = json!("SOA");
    assert_eq!(
        broken::<Recordset>(&recordset(soa), None),
        ["SOA records are managed by the zone"]
    );
}
