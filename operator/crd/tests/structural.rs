//! The structural-schema checker accepts our CRDs and catches each rule it implements.

use designate_crd::structural::check;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};

const SCHEMA: &str = "spec.versions[0].schema.openAPIV3Schema";

fn zone_crd() -> CustomResourceDefinition {
    designate_crd::crds().remove(0)
}

/// The Zone CRD with `value` put at (or, for `None`, removed from) the JSON pointer
/// `pointer` inside its openAPIV3Schema.
fn zone_with(pointer: &str, value: Option<Value>) -> CustomResourceDefinition {
    let mut crd = serde_json::to_value(zone_crd()).unwrap();
    let schema = crd
        .pointer_mut("/spec/versions/0/schema/openAPIV3Schema")
        .unwrap();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = schema
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent} in the schema"))
        .as_object_mut()
        .unwrap();
    match value {
        Some(value) => parent.insert(key.to_owned(), value),
        None => parent.remove(key),
    };
    serde_json::from_value(crd).expect("still a CustomResourceDefinition")
}

#[track_caller]
fn assert_violation(crd: &CustomResourceDefinition, expected: &str) {
    let violations = check(crd);
    assert!(
        violations.iter().any(|v| v == expected),
        "expected violation\n  {expected}\ngot\n  {violations:#?}"
    );
}

#[test]
fn our_crds_are_structural() {
    for crd in designate_crd::crds() {
        assert_eq!(check(&crd), Vec::<String>::new(), "{:?}", crd.metadata.name);
    }
}

#[test]
fn mutation_helper_alone_adds_no_violation() {
    // Guards the tests below: each violation comes from its mutation alone.
    assert_eq!(
        check(&zone_with(
            "/properties/spec/properties/ttl/minimum",
            Some(json!(1))
        )),
        Vec::<String>::new()
    );
}

#[test]
fn missing_type() {
    assert_violation(
        &zone_with("/properties/spec/properties/ttl/type", None),
        &format!(
            "{SCHEMA}.properties[spec].properties[ttl].type: Required value: must not be empty for specified object fields"
        ),
    );
    assert_violation(
        &zone_with("/properties/spec/properties/masters/items/type", None),
        &format!(
            "{SCHEMA}.properties[spec].properties[masters].items.type: Required value: must not be empty for specified array items"
        ),
    );
    assert_violation(
        &zone_with("/type", None),
        &format!("{SCHEMA}.type: Required value: must not be empty at the root"),
    );
}

#[test]
fn type_exemptions_for_int_or_string_and_preserve_unknown_fields() {
    let crd = zone_with(
        "/properties/spec/properties/port",
        Some(
            json!({"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}),
        ),
    );
    assert_eq!(check(&crd), Vec::<String>::new());
    let crd = zone_with(
        "/properties/spec/properties/port",
        Some(json!({
            "x-kubernetes-int-or-string": true,
            "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"pattern": "^[0-9a-z]+$"}],
        })),
    );
    assert_eq!(check(&crd), Vec::<String>::new());
    let crd = zone_with(
        "/properties/spec/properties/extra",
        Some(json!({"x-kubernetes-preserve-unknown-fields": true})),
    );
    assert_eq!(check(&crd), Vec::<String>::new());
}

#[test]
fn root_must_be_an_object() {
    assert_violation(
        &zone_with("/type", Some(json!("string"))),
        &format!("{SCHEMA}.type: Invalid value: \"string\": must be object at the root"),
    );
}

#[test]
fn unknown_and_null_types() {
    assert_violation(
        &zone_with("/properties/spec/properties/ttl/type", Some(json!("int"))),
        &format!(
            "{SCHEMA}.properties[spec].properties[ttl].type: Unsupported value: \"int\": supported values: [\"object\", \"array\", \"string\", \"integer\", \"number\", \"boolean\"]"
        ),
    );
    assert_violation(
        &zone_with("/properties/spec/properties/ttl/type", Some(json!("null"))),
        &format!(
            "{SCHEMA}.properties[spec].properties[ttl].type: Forbidden: type null is not supported, use nullable: true"
        ),
    );
}

#[test]
fn arrays_need_one_items_schema() {
    assert_violation(
        &zone_with("/properties/spec/properties/masters/items", None),
        &format!(
            "{SCHEMA}.properties[spec].properties[masters].items: Required value: must be specified"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/properties/masters/items",
            Some(json!([{"type": "string"}])),
        ),
        &format!(
            "{SCHEMA}.properties[spec].properties[masters].items: Forbidden: items must be a schema object and not an array"
        ),
    );
}

#[test]
fn properties_and_additional_properties_are_exclusive() {
    assert_violation(
        &zone_with("/properties/spec/additionalProperties", Some(json!(false))),
        &format!(
            "{SCHEMA}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/additionalProperties",
            Some(json!({"type": "string"})),
        ),
        &format!(
            "{SCHEMA}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
        ),
    );
    assert_violation(
        &zone_with("/additionalProperties", Some(json!({"type": "string"}))),
        &format!("{SCHEMA}.additionalProperties: Forbidden: must not be used at the root"),
    );
}

#[test]
fn unsupported_keywords() {
    let ttl = "/properties/spec/properties/ttl";
    let at = |key: &str| format!("{SCHEMA}.properties[spec].properties[ttl].{key}");
    assert_violation(
        &zone_with(&format!("{ttl}/$ref"), Some(json!("#/definitions/Ttl"))),
        &format!("{}: Forbidden: $ref is not supported", at("$ref")),
    );
    assert_violation(
        &zone_with(
            &format!("{ttl}/definitions"),
            Some(json!({"Ttl": {"type": "integer"}})),
        ),
        &format!(
            "{}: Forbidden: definitions is not supported",
            at("definitions")
        ),
    );
    assert_violation(
        &zone_with(&format!("{ttl}/id"), Some(json!("ttl"))),
        &format!("{}: Forbidden: id is not supported", at("id")),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/properties/attributes/patternProperties",
            Some(json!({"^a": {"type": "string"}})),
        ),
        &format!(
            "{SCHEMA}.properties[spec].properties[attributes].patternProperties: Forbidden: patternProperties is not supported"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/properties/masters/uniqueItems",
            Some(json!(true)),
        ),
        &format!(
            "{SCHEMA}.properties[spec].properties[masters].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
        ),
    );
}

#[test]
fn logical_junctors_only_hold_value_validations() {
    let crd = zone_with(
        "/properties/spec/anyOf",
        Some(
            json!([{"type": "object", "required": ["email"]}, {"description": "x", "required": ["masters"]}]),
        ),
    );
    assert_violation(
        &crd,
        &format!(
            "{SCHEMA}.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural"
        ),
    );
    assert_violation(
        &crd,
        &format!(
            "{SCHEMA}.properties[spec].anyOf[1].description: Forbidden: must be empty to be structural"
        ),
    );

    assert_violation(
        &zone_with(
            "/properties/spec/not",
            Some(json!({"properties": {"bogus": {"minLength": 1}}})),
        ),
        &format!(
            "{SCHEMA}.properties[spec].not.properties[bogus]: Required value: must be specified outside of value validations too"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/allOf",
            Some(json!([{"properties": {"metadata": {"required": ["name"]}}}])),
        ),
        &format!(
            "{SCHEMA}.properties[spec].allOf[0].properties[metadata]: Forbidden: must not be specified in a nested context"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/oneOf",
            Some(json!([{"properties": {"ttl": {"x-kubernetes-int-or-string": true}}}])),
        ),
        &format!(
            "{SCHEMA}.properties[spec].oneOf[0].properties[ttl].x-kubernetes-int-or-string: Forbidden: must be empty to be structural"
        ),
    );
    // Pure value validations of declared fields are fine.
    let crd = zone_with(
        "/properties/spec/oneOf",
        Some(json!([{"required": ["email"]}, {"properties": {"ttl": {"minimum": 60}}}])),
    );
    assert_eq!(check(&crd), Vec::<String>::new());
}

#[test]
fn root_metadata_only_constrains_the_name() {
    let crd = zone_with(
        "/properties/metadata",
        Some(
            json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 63}}}),
        ),
    );
    assert_eq!(check(&crd), Vec::<String>::new());
    assert_violation(
        &zone_with(
            "/properties/metadata",
            Some(json!({"type": "object", "properties": {"labels": {"type": "object"}}})),
        ),
        &format!(
            "{SCHEMA}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
        ),
    );
    assert_violation(
        &zone_with("/properties/kind", Some(json!({"type": "integer"}))),
        &format!("{SCHEMA}.properties[kind].type: Invalid value: must be string"),
    );
}

#[test]
fn embedded_resources() {
    assert_violation(
        &zone_with(
            "/properties/spec/properties/template",
            Some(json!({"type": "object", "x-kubernetes-embedded-resource": true})),
        ),
        &format!(
            "{SCHEMA}.properties[spec].properties[template].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/properties/template",
            Some(
                json!({"type": "string", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}),
            ),
        ),
        &format!(
            "{SCHEMA}.properties[spec].properties[template].type: Invalid value: must be object if x-kubernetes-embedded-resource is true"
        ),
    );
}

#[test]
fn list_and_map_types() {
    let conditions = "/properties/status/properties/conditions";
    let at = format!("{SCHEMA}.properties[status].properties[conditions]");
    assert_violation(
        &zone_with(
            &format!("{conditions}/x-kubernetes-list-type"),
            Some(json!("bag")),
        ),
        &format!(
            "{at}.x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", \"map\""
        ),
    );
    assert_violation(
        &zone_with(
            &format!("{conditions}/x-kubernetes-list-map-keys"),
            Some(json!(["kind"])),
        ),
        &format!(
            "{at}.x-kubernetes-list-map-keys: Invalid value: \"kind\": entries must all be names of item properties"
        ),
    );
    assert_violation(
        &zone_with(
            &format!("{conditions}/x-kubernetes-list-map-keys"),
            Some(json!(["observedGeneration"])),
        ),
        &format!(
            "{at}.items.properties[observedGeneration]: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
        ),
    );
    assert_violation(
        &zone_with(&format!("{conditions}/x-kubernetes-list-map-keys"), None),
        &format!(
            "{at}.x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"
        ),
    );
    assert_violation(
        &zone_with(
            &format!("{conditions}/x-kubernetes-list-type"),
            Some(json!("set")),
        ),
        &format!(
            "{at}.items: Invalid value: must be atomic as item of a list with x-kubernetes-list-type=set"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/properties/ttl/x-kubernetes-list-type",
            Some(json!("atomic")),
        ),
        &format!(
            "{SCHEMA}.properties[spec].properties[ttl].type: Invalid value: must be array if x-kubernetes-list-type is specified"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/properties/masters/x-kubernetes-map-type",
            Some(json!("atomic")),
        ),
        &format!(
            "{SCHEMA}.properties[spec].properties[masters].type: Invalid value: must be object if x-kubernetes-map-type is specified"
        ),
    );
}

#[test]
fn extension_values() {
    assert_violation(
        &zone_with(
            "/properties/spec/x-kubernetes-preserve-unknown-fields",
            Some(json!(false)),
        ),
        &format!(
            "{SCHEMA}.properties[spec].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"
        ),
    );
    assert_violation(
        &zone_with(
            "/properties/spec/properties/port",
            Some(
                json!({"x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true}),
            ),
        ),
        &format!(
            "{SCHEMA}.properties[spec].properties[port].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true"
        ),
    );
}

#[test]
fn crd_level_rules() {
    let mut crd = zone_crd();
    crd.metadata.name = Some("zone.designate.openstack.org".into());
    assert_violation(
        &crd,
        "metadata.name: Invalid value: must be spec.names.plural+\".\"+spec.group (zones.designate.openstack.org)",
    );

    let mut crd = zone_crd();
    let mut second = crd.spec.versions[0].clone();
    second.name = "v1alpha2".into();
    crd.spec.versions.push(second);
    assert_violation(
        &crd,
        "spec.versions: Invalid value: must have exactly one version marked as storage version",
    );

    let mut crd = zone_crd();
    let columns = crd.spec.versions[0]
        .additional_printer_columns
        .as_mut()
        .unwrap();
    columns[0].type_ = "int".into();
    columns[1].json_path = "status.status".into();
    assert_violation(
        &crd,
        "spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: \"int\": supported values: [\"integer\", \"number\", \"string\", \"boolean\", \"date\"]",
    );
    assert_violation(
        &crd,
        "spec.versions[0].additionalPrinterColumns[1].jsonPath: Invalid value: must be a simple json path starting with .",
    );

    let mut crd = zone_crd();
    crd.spec.versions[0].schema = None;
    assert_violation(
        &crd,
        &format!("{SCHEMA}: Required value: schemas are required"),
    );
}

/// Not an apiserver rule, but schemars puts `null` into the `enum` of `Option<Enum>`
/// fields unless `nullable_enum` strips it; keep the generated schemas clean.
#[test]
fn enums_do_not_list_null() {
    fn walk(value: &Value, path: &str) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(values)) = map.get("enum") {
                    assert!(!values.contains(&Value::Null), "{path}.enum lists null");
                }
                for (key, child) in map {
                    walk(child, &format!("{path}.{key}"));
                }
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            _ => {}
        }
    }
    for crd in designate_crd::crds() {
        walk(
            &serde_json::to_value(&crd).unwrap(),
            crd.metadata.name.as_deref().unwrap(),
        );
    }
}
