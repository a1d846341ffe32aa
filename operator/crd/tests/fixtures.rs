//! `e2e/fixtures/*.yaml` are valid resources (schema and CEL rules) and survive a serde
//! round trip through our types; `e2e/fixtures/invalid/*.yaml` are rejected by the CRD schemas.
//!
//! Validation uses the `jsonschema` crate on each CRD's openAPIV3Schema, translated from
//! OpenAPI 3.0: `nullable: true` becomes a `null` type alternative and the
//! `x-kubernetes-*` extensions (CEL rules, list types) are dropped.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use designate_crd::{Pool, Recordset, Tld, Zone};
use kube::core::cel::Validator;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Each invalid fixture and the only instance location its errors may point at.
const INVALID: [(&str, &str); 6] = [
    ("zone-ttl-string.yaml", "/spec/ttl"),
    ("zone-missing-name.yaml", "/spec"),
    ("zone-name-without-trailing-dot.yaml", "/spec/name"),
    ("recordset-records-not-list.yaml", "/spec/records"),
    (
        "pool-ns-record-priority-zero.yaml",
        "/spec/nsRecords/0/priority",
    ),
    ("tld-name-with-trailing-dot.yaml", "/spec/name"),
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/fixtures")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// The openAPIV3Schema (Kubernetes form) of the CRD serving `object`'s kind.
fn crd_schema(object: &Value) -> Value {
    assert_eq!(object["apiVersion"], "designate.openstack.org/v1alpha1");
    let kind = object["kind"].as_str().expect("kind");
    let crd = designate_crd::crds()
        .into_iter()
        .find(|crd| crd.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no CRD for kind {kind}"));
    let schema = crd.spec.versions[0]
        .schema
        .clone()
        .and_then(|s| s.open_api_v3_schema);
    serde_json::to_value(schema.expect("openAPIV3Schema")).unwrap()
}

/// Translates an OpenAPI 3.0 structural schema into plain JSON Schema.
fn to_json_schema(schema: &Value) -> Value {
    let Value::Object(schema) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in schema {
        let value = match key.as_str() {
            k if k.starts_with("x-kubernetes-") || k == "nullable" => continue,
            "properties" => Value::Object(
                value
                    .as_object()
                    .expect("properties")
                    .iter()
                    .map(|(name, s)| (name.clone(), to_json_schema(s)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" => to_json_schema(value),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .expect(key)
                    .iter()
                    .map(to_json_schema)
                    .collect(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        if let Some(ty) = out.get("type").cloned() {
            out.insert("type".into(), serde_json::json!([ty, "null"]));
        }
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    Value::Object(out)
}

/// Fills in schema defaults the way the apiserver does before storing an object.
fn apply_defaults(schema: &Value, value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (name, property) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let (false, Some(default)) = (object.contains_key(name), property.get("default"))
                {
                    object.insert(name.clone(), default.clone());
                }
                if let Some(child) = object.get_mut(name) {
                    apply_defaults(property, child);
                }
            }
            if let Some(additional) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                object
                    .values_mut()
                    .for_each(|child| apply_defaults(additional, child));
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                items
                    .iter_mut()
                    .for_each(|item| apply_defaults(item_schema, item));
            }
        }
        _ => {}
    }
}

/// Instance locations of all schema violations of `object`.
fn violations(object: &Value) -> BTreeSet<String> {
    let schema = to_json_schema(&crd_schema(object));
    let validator = jsonschema::draft4::new(&schema).expect("CRD schema compiles");
    validator
        .iter_errors(object)
        .map(|e| e.instance_path().to_string())
        .collect()
}

fn round_trip<T: DeserializeOwned + Serialize>(object: &Value) -> Value {
    let typed: T = serde_json::from_value(object.clone()).expect("deserializes into the Rust type");
    serde_json::to_value(typed).unwrap()
}

#[test]
fn good_fixtures_validate_and_round_trip() {
    let files = yaml_files(&fixtures_dir());
    let kinds: BTreeSet<String> = files
        .iter()
        .map(|f| load(f)["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "Pool".into(),
            "Recordset".into(),
            "Tld".into(),
            "Zone".into()
        ]),
        "a fixture per kind"
    );

    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut object = load(&file);
        assert_eq!(
            violations(&object),
            BTreeSet::new(),
            "{name} violates its CRD schema"
        );
        let cel = Validator::new().validate(&crd_schema(&object), &object, None);
        assert!(cel.is_ok(), "{name} breaks a CEL rule: {cel:?}");

        apply_defaults(&crd_schema(&object), &mut object);
        let again = match object["kind"].as_str().unwrap() {
            "Zone" => round_trip::<Zone>(&object),
            "Recordset" => round_trip::<Recordset>(&object),
            "Pool" => round_trip::<Pool>(&object),
            "Tld" => round_trip::<Tld>(&object),
            kind => panic!("{name}: unexpected kind {kind}"),
        };
        assert_eq!(
            again, object,
            "{name} changes in a serde round trip (renamed or unknown field?)"
        );
    }
}

#[test]
fn invalid_fixtures_are_rejected_for_the_expected_reason() {
    let dir = fixtures_dir().join("invalid");
    let files: BTreeSet<String> = yaml_files(&dir)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = INVALID.iter().map(|(file, _)| (*file).to_owned()).collect();
    assert_eq!(
        files, listed,
        "every invalid fixture needs an entry in INVALID"
    );

    for (file, location) in INVALID {
        let object = load(&dir.join(file));
        assert_eq!(
            violations(&object),
            BTreeSet::from([location.to_owned()]),
            "{file}"
        );
    }
}

#[test]
fn translation_makes_nullable_fields_accept_null() {
    let zone = serde_json::json!({
        "apiVersion": "designate.openstack.org/v1alpha1",
        "kind": "Zone",
        "metadata": {"name": "z"},
        "spec": {"name": "example.com.", "email": null},
        "status": {"status": null, "serial": null},
    });
    assert_eq!(violations(&zone), BTreeSet::new());
    let zone = serde_json::json!({
        "apiVersion": "designate.openstack.org/v1alpha1",
        "kind": "Zone",
        "metadata": {"name": "z"},
        "spec": {"name": "example.com.", "type": null},
    });
    assert_eq!(violations(&zone), BTreeSet::from(["/spec/type".to_owned()]));
}
