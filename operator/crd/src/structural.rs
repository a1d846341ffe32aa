//! Offline check that a CRD would be accepted by the apiserver as a *structural* schema.
//!
//! This mirrors `apiextensions-apiserver` (`pkg/apiserver/schema/validation.go` and
//! `pkg/apis/apiextensions/validation/validation.go`) for the rules that matter to
//! generated CRDs: types everywhere, single-schema `items`, `properties` xor
//! `additionalProperties`, clean logical junctors, no unsupported keywords, restricted
//! `metadata`, valid `x-kubernetes-*` extensions, and CRD-level naming and printer columns.
//! CEL rules and defaults are not evaluated.
//!
//! Violations read like the apiserver's, e.g.
//! `spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[ttl].type: Required value: must not be empty for specified object fields`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Map, Value};

type Schema = Map<String, Value>;

const TYPES: [&str; 6] = ["object", "array", "string", "integer", "number", "boolean"];
const COLUMN_TYPES: [&str; 5] = ["integer", "number", "string", "boolean", "date"];
const COLUMN_FORMATS: [&str; 8] = [
    "int32",
    "int64",
    "float",
    "double",
    "byte",
    "date",
    "date-time",
    "password",
];
/// Keywords the apiserver rejects anywhere in a schema.
const UNSUPPORTED: [&str; 7] = [
    "$ref",
    "$schema",
    "definitions",
    "id",
    "patternProperties",
    "additionalItems",
    "dependencies",
];
/// Keywords that only belong to the structural part, not under `allOf`/`anyOf`/`oneOf`/`not`.
const NOT_IN_JUNCTORS: [&str; 6] = [
    "type",
    "additionalProperties",
    "default",
    "description",
    "title",
    "nullable",
];
const JUNCTORS: [&str; 3] = ["allOf", "anyOf", "oneOf"];

/// Returns the reasons `crd` would be rejected or flagged `NonStructuralSchema`;
/// empty when it is fine.
pub fn check(crd: &CustomResourceDefinition) -> Vec<String> {
    let mut checker = Checker::default();
    checker.crd(crd);
    checker.violations
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Item,
    Field,
}

#[derive(Default)]
struct Checker {
    violations: Vec<String>,
}

impl Checker {
    fn report(&mut self, path: &str, message: impl AsRef<str>) {
        self.violations
            .push(format!("{path}: {}", message.as_ref()));
    }

    fn crd(&mut self, crd: &CustomResourceDefinition) {
        let spec = &crd.spec;
        let expected = format!("{}.{}", spec.names.plural, spec.group);
        if crd.metadata.name.as_deref() != Some(expected.as_str()) {
            self.report(
                "metadata.name",
                format!("Invalid value: must be spec.names.plural+\".\"+spec.group ({expected})"),
            );
        }
        if spec.versions.is_empty() {
            self.report(
                "spec.versions",
                "Required value: must have exactly one version marked as storage version",
            );
        } else if spec.versions.iter().filter(|v| v.storage).count() != 1 {
            self.report(
                "spec.versions",
                "Invalid value: must have exactly one version marked as storage version",
            );
        }

        for (i, version) in spec.versions.iter().enumerate() {
            let path = format!("spec.versions[{i}]");
            for (j, column) in version
                .additional_printer_columns
                .iter()
                .flatten()
                .enumerate()
            {
                let path = format!("{path}.additionalPrinterColumns[{j}]");
                if !COLUMN_TYPES.contains(&column.type_.as_str()) {
                    self.report(
                        &format!("{path}.type"),
                        format!(
                            "Unsupported value: {:?}: supported values: {COLUMN_TYPES:?}",
                            column.type_
                        ),
                    );
                }
                if let Some(format) = &column.format
                    && !COLUMN_FORMATS.contains(&format.as_str())
                {
                    self.report(
                        &format!("{path}.format"),
                        format!(
                            "Unsupported value: {format:?}: supported values: {COLUMN_FORMATS:?}"
                        ),
                    );
                }
                if !column.json_path.starts_with('.') {
                    self.report(
                        &format!("{path}.jsonPath"),
                        "Invalid value: must be a simple json path starting with .",
                    );
                }
            }

            let path = format!("{path}.schema.openAPIV3Schema");
            let schema = version
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref());
            match schema.map(serde_json::to_value) {
                Some(Ok(Value::Object(schema))) => self.structural(&schema, Level::Root, &path),
                _ => self.report(&path, "Required value: schemas are required"),
            }
        }
    }

    /// A node of the structural part: the root, `properties[*]`, `items` or `additionalProperties`.
    fn structural(&mut self, s: &Schema, level: Level, path: &str) {
        self.keywords(s, path);
        self.extensions(s, path);

        let ty = s.get("type").and_then(Value::as_str).unwrap_or_default();
        let int_or_string = flag(s, "x-kubernetes-int-or-string");
        let embedded = flag(s, "x-kubernetes-embedded-resource");
        let preserve = flag(s, "x-kubernetes-preserve-unknown-fields");

        // Rule 1: every node has a type, an object at the root.
        if embedded && ty != "object" {
            self.report(
                &format!("{path}.type"),
                "Invalid value: must be object if x-kubernetes-embedded-resource is true",
            );
        } else if ty.is_empty() && !int_or_string && !preserve {
            let detail = match level {
                Level::Root => "must not be empty at the root",
                Level::Item => "must not be empty for specified array items",
                Level::Field => "must not be empty for specified object fields",
            };
            self.report(&format!("{path}.type"), format!("Required value: {detail}"));
        }
        if level == Level::Root && !ty.is_empty() && ty != "object" {
            self.report(
                &format!("{path}.type"),
                format!("Invalid value: {ty:?}: must be object at the root"),
            );
        }

        // Rule 2: arrays have a single `items` schema.
        match s.get("items") {
            None if ty == "array" => self.report(
                &format!("{path}.items"),
                "Required value: must be specified",
            ),
            None => {}
            Some(Value::Object(items)) => {
                self.structural(items, Level::Item, &format!("{path}.items"))
            }
            Some(_) => self.report(
                &format!("{path}.items"),
                "Forbidden: items must be a schema object and not an array",
            ),
        }

        // Rule 3: `properties` (structs) xor `additionalProperties` (maps), and no maps at the root.
        let properties = s.get("properties").and_then(Value::as_object);
        if let Some(additional) = s.get("additionalProperties") {
            let ap_path = format!("{path}.additionalProperties");
            if level == Level::Root {
                self.report(&ap_path, "Forbidden: must not be used at the root");
            }
            if embedded {
                self.report(
                    &ap_path,
                    "Forbidden: must not be used if x-kubernetes-embedded-resource is set",
                );
            }
            if properties.is_some_and(|p| !p.is_empty()) && additional != &Value::Bool(true) {
                self.report(
                    &ap_path,
                    "Forbidden: additionalProperties and properties are mutual exclusive",
                );
            }
            if let Value::Object(additional) = additional {
                self.structural(additional, Level::Field, &ap_path);
            }
        }
        for (name, property) in properties.into_iter().flatten() {
            let property_path = format!("{path}.properties[{name}]");
            match property {
                Value::Object(property) => self.structural(property, Level::Field, &property_path),
                _ => self.report(&property_path, "Invalid value: must be a schema object"),
            }
        }

        // Rule 6: resource metadata can only be constrained in name and generateName.
        if level == Level::Root || embedded {
            for (name, expected) in [
                ("kind", "string"),
                ("apiVersion", "string"),
                ("metadata", "object"),
            ] {
                if let Some(t) = properties
                    .and_then(|p| p.get(name))
                    .and_then(|p| p.get("type"))
                    && t != expected
                {
                    self.report(
                        &format!("{path}.properties[{name}].type"),
                        format!("Invalid value: must be {expected}"),
                    );
                }
            }
        }
        if level == Level::Root
            && let Some(Value::Object(metadata)) = properties.and_then(|p| p.get("metadata"))
            && !is_plain_metadata(metadata)
        {
            self.report(
                &format!("{path}.properties[metadata]"),
                "Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
            );
        }
        if embedded && !preserve && properties.is_none_or(Map::is_empty) {
            self.report(
                &format!("{path}.properties"),
                "Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
            );
        }

        // Rule 4: value validations under logical junctors.
        let int_or_string_any_of = is_int_or_string_any_of(s.get("anyOf"));
        let int_or_string_all_of = s
            .get("allOf")
            .and_then(Value::as_array)
            .and_then(|all_of| all_of.first())
            .is_some_and(|first| is_int_or_string_any_of(first.get("anyOf")));
        for junctor in JUNCTORS {
            if junctor == "anyOf" && int_or_string_any_of {
                continue;
            }
            for (i, branch) in s
                .get(junctor)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let skip_any_of = junctor == "allOf" && i == 0 && int_or_string_all_of;
                self.value_validation(
                    branch,
                    Some(s),
                    skip_any_of,
                    &format!("{path}.{junctor}[{i}]"),
                );
            }
        }
        if let Some(not) = s.get("not") {
            self.value_validation(not, Some(s), false, &format!("{path}.not"));
        }
    }

    /// A node under `allOf`/`anyOf`/`oneOf`/`not`, checked against the structural node
    /// `counterpart` at the same position.
    fn value_validation(
        &mut self,
        v: &Value,
        counterpart: Option<&Schema>,
        skip_any_of: bool,
        path: &str,
    ) {
        let Value::Object(v) = v else {
            self.report(path, "Invalid value: must be a schema object");
            return;
        };
        self.keywords(v, path);

        for key in NOT_IN_JUNCTORS {
            if v.contains_key(key) {
                self.report(
                    &format!("{path}.{key}"),
                    "Forbidden: must be empty to be structural",
                );
            }
        }
        for key in v.keys().filter(|k| k.starts_with("x-kubernetes-")) {
            self.report(
                &format!("{path}.{key}"),
                "Forbidden: must be empty to be structural",
            );
        }

        // Completeness: junctors may only constrain what the structural part declares.
        let counterpart_properties = counterpart
            .and_then(|c| c.get("properties"))
            .and_then(Value::as_object);
        for (name, property) in v
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let property_path = format!("{path}.properties[{name}]");
            if name == "metadata" {
                self.report(
                    &property_path,
                    "Forbidden: must not be specified in a nested context",
                );
            }
            let structural = counterpart_properties
                .and_then(|p| p.get(name))
                .and_then(Value::as_object);
            if structural.is_none() {
                self.report(
                    &property_path,
                    "Required value: must be specified outside of value validations too",
                );
            }
            self.value_validation(property, structural, false, &property_path);
        }
        if let Some(items) = v.get("items") {
            let structural = counterpart
                .and_then(|c| c.get("items"))
                .and_then(Value::as_object);
            if structural.is_none() {
                self.report(
                    &format!("{path}.items"),
                    "Required value: must be specified outside of value validations too",
                );
            }
            self.value_validation(items, structural, false, &format!("{path}.items"));
        }

        for junctor in JUNCTORS {
            if junctor == "anyOf" && skip_any_of {
                continue;
            }
            for (i, branch) in v
                .get(junctor)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                self.value_validation(
                    branch,
                    counterpart,
                    false,
                    &format!("{path}.{junctor}[{i}]"),
                );
            }
        }
        if let Some(not) = v.get("not") {
            self.value_validation(not, counterpart, false, &format!("{path}.not"));
        }
    }

    /// Rule 5: keywords the apiserver does not support at all.
    fn keywords(&mut self, s: &Schema, path: &str) {
        for key in UNSUPPORTED.into_iter().filter(|k| s.contains_key(*k)) {
            self.report(
                &format!("{path}.{key}"),
                format!("Forbidden: {key} is not supported"),
            );
        }
        if s.get("uniqueItems") == Some(&Value::Bool(true)) {
            self.report(
                &format!("{path}.uniqueItems"),
                "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
            );
        }
        match s.get("type") {
            None => {}
            Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {}
            Some(Value::String(t)) if t == "null" => {
                self.report(
                    &format!("{path}.type"),
                    "Forbidden: type null is not supported, use nullable: true",
                );
            }
            Some(t) => self.report(
                &format!("{path}.type"),
                format!("Unsupported value: {t}: supported values: {TYPES:?}"),
            ),
        }
    }

    /// Rules 7 and 8: the `x-kubernetes-*` extensions of a structural node.
    fn extensions(&mut self, s: &Schema, path: &str) {
        let ty = s.get("type").and_then(Value::as_str).unwrap_or_default();

        for key in [
            "x-kubernetes-preserve-unknown-fields",
            "x-kubernetes-int-or-string",
            "x-kubernetes-embedded-resource",
        ] {
            if s.get(key).is_some_and(|v| !v.is_boolean()) {
                self.report(&format!("{path}.{key}"), "Invalid value: must be a boolean");
            }
        }
        if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(false)) {
            self.report(
                &format!("{path}.x-kubernetes-preserve-unknown-fields"),
                "Invalid value: false: must be true or undefined",
            );
        }
        if flag(s, "x-kubernetes-int-or-string") {
            if flag(s, "x-kubernetes-preserve-unknown-fields") {
                self.report(
                    &format!("{path}.x-kubernetes-preserve-unknown-fields"),
                    "Invalid value: true: must be false if x-kubernetes-int-or-string is true",
                );
            }
            if flag(s, "x-kubernetes-embedded-resource") {
                self.report(
                    &format!("{path}.x-kubernetes-embedded-resource"),
                    "Invalid value: true: must be false if x-kubernetes-int-or-string is true",
                );
            }
        }

        if let Some(map_type) = s.get("x-kubernetes-map-type") {
            if ty != "object" {
                self.report(
                    &format!("{path}.type"),
                    "Invalid value: must be object if x-kubernetes-map-type is specified",
                );
            }
            if !matches!(map_type.as_str(), Some("atomic" | "granular")) {
                self.report(
                    &format!("{path}.x-kubernetes-map-type"),
                    format!(
                        "Unsupported value: {map_type}: supported values: \"atomic\", \"granular\""
                    ),
                );
            }
        }

        let list_type = s.get("x-kubernetes-list-type");
        let map_keys: Vec<&str> = s
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(list_type) = list_type {
            if ty != "array" {
                self.report(
                    &format!("{path}.type"),
                    "Invalid value: must be array if x-kubernetes-list-type is specified",
                );
            }
            if !matches!(list_type.as_str(), Some("atomic" | "set" | "map")) {
                self.report(&format!("{path}.x-kubernetes-list-type"), format!("Unsupported value: {list_type}: supported values: \"atomic\", \"set\", \"map\""));
            }
        }
        if !map_keys.is_empty() && list_type.and_then(Value::as_str) != Some("map") {
            self.report(
                &format!("{path}.x-kubernetes-list-type"),
                "Invalid value: must be map if x-kubernetes-list-map-keys is non-empty",
            );
        }

        let items = s.get("items").and_then(Value::as_object);
        match list_type.and_then(Value::as_str) {
            Some("map") => self.list_map(items, &map_keys, path),
            Some("set") => {
                let item_type = items.and_then(|i| i.get("type")).and_then(Value::as_str);
                let atomic = match item_type {
                    Some("object") => {
                        items
                            .and_then(|i| i.get("x-kubernetes-map-type"))
                            .and_then(Value::as_str)
                            == Some("atomic")
                    }
                    Some("array") => items
                        .and_then(|i| i.get("x-kubernetes-list-type"))
                        .is_none_or(|t| t == "atomic"),
                    _ => true,
                };
                if !atomic {
                    self.report(&format!("{path}.items"), "Invalid value: must be atomic as item of a list with x-kubernetes-list-type=set");
                }
            }
            _ => {}
        }
    }

    /// `x-kubernetes-list-type: map`: object items keyed by required (or defaulted),
    /// non-nullable scalar properties.
    fn list_map(&mut self, items: Option<&Schema>, keys: &[&str], path: &str) {
        if keys.is_empty() {
            self.report(
                &format!("{path}.x-kubernetes-list-map-keys"),
                "Required value: must not be empty if x-kubernetes-list-type is map",
            );
        }
        let Some(items) = items else {
            self.report(
                &format!("{path}.items"),
                "Required value: must have a schema if x-kubernetes-list-type is map",
            );
            return;
        };
        if items.get("type").and_then(Value::as_str) != Some("object") {
            self.report(
                &format!("{path}.items.type"),
                "Invalid value: must be object if parent array's x-kubernetes-list-type is map",
            );
            return;
        }
        let properties = items.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = items
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                self.report(
                    &format!("{path}.x-kubernetes-list-map-keys"),
                    "Invalid value: must not contain duplicate entries",
                );
            }
            let Some(property) = properties.and_then(|p| p.get(*key)) else {
                self.report(
                    &format!("{path}.x-kubernetes-list-map-keys"),
                    format!("Invalid value: {key:?}: entries must all be names of item properties"),
                );
                continue;
            };
            let key_path = format!("{path}.items.properties[{key}]");
            if matches!(
                property.get("type").and_then(Value::as_str),
                Some("array" | "object")
            ) {
                self.report(&format!("{key_path}.type"), "Invalid value: must be a scalar type if parent array's x-kubernetes-list-type is map");
            }
            if !required.contains(key) && property.get("default").is_none() {
                self.report(&key_path, "Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property");
            }
            if property.get("nullable") == Some(&Value::Bool(true)) {
                self.report(&format!("{key_path}.nullable"), "Forbidden: this property is in x-kubernetes-list-map-keys, so it must not be nullable");
            }
        }
    }
}

fn flag(s: &Schema, key: &str) -> bool {
    s.get(key) == Some(&Value::Bool(true))
}

/// The two-branch `anyOf: [{type: integer}, {type: string}]` of int-or-string fields.
fn is_int_or_string_any_of(any_of: Option<&Value>) -> bool {
    let expected = serde_json::json!([{"type": "integer"}, {"type": "string"}]);
    any_of == Some(&expected)
}

/// Root `metadata` may only be `type: object` (plus a default) with optional
/// `name`/`generateName` property schemas.
fn is_plain_metadata(metadata: &Schema) -> bool {
    metadata.iter().all(|(key, value)| match key.as_str() {
        "type" | "default" => true,
        "properties" => value
            .as_object()
            .is_some_and(|p| p.keys().all(|k| k == "name" || k == "generateName")),
        _ => false,
    })
}
