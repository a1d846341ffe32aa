//! Every field of every CRD states the bounds of the Rust type that holds it
//! and Designate's own, so the apiserver refuses at `kubectl apply` what the
//! operator could not decode or Designate would not take.

use designate_crd::{
    Blacklist, FloatingIp, Pool, Quota, Recordset, Tld, TsigKey, Zone, ZoneShare, ZoneTask,
    ZoneTransferAccept, ZoneTransferRequest,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// Arrays without `maxItems`, and why.
const UNBOUNDED_LISTS: &[(&str, &str)] = &[(
    "recordsets.spec.records",
    "Designate bounds a set's records by the project's recordset_records quota only",
)];

/// `(crd, schema path)` and the `(minimum, maximum)` Designate's objects state.
const DESIGNATE_INTEGERS: &[(&str, &str, i64, i64)] = &[
    ("zones", "spec.ttl", 0, 2_147_483_647),
    ("zones", "status.serial", 0, 4_294_967_295),
    ("zones", "status.nameservers[].port", 1, 65535),
    ("recordsets", "spec.ttl", 0, 2_147_483_647),
    ("recordsets", "status.serial", 0, 4_294_967_295),
    ("pools", "spec.nsRecords[].priority", 1, 10000),
    ("pools", "spec.nameservers[].port", 1, 65535),
    ("pools", "spec.alsoNotifies[].port", 1, 65535),
    ("pools", "spec.targets[].masters[].port", 1, 65535),
    ("quotas", "spec.zones", -1, 2_147_483_647),
    ("quotas", "spec.zoneRecordsets", -1, 2_147_483_647),
    ("quotas", "spec.zoneRecords", -1, 2_147_483_647),
    ("quotas", "spec.recordsetRecords", -1, 2_147_483_647),
    ("quotas", "spec.apiExportSize", -1, 2_147_483_647),
];

/// `(crd, schema path)` and Designate's `maxLength`.
const DESIGNATE_STRINGS: &[(&str, &str, u64)] = &[
    ("zones", "spec.name", 255),
    ("zones", "spec.email", 255),
    ("zones", "spec.description", 160),
    ("zones", "spec.attributes{}", 50),
    ("recordsets", "spec.name", 255),
    ("recordsets", "spec.description", 160),
    ("pools", "spec.description", 160),
    ("pools", "spec.attributes{}", 50),
    ("pools", "spec.nsRecords[].hostname", 255),
    ("pools", "spec.targets[].description", 160),
    ("pools", "spec.targets[].options{}", 255),
    ("tlds", "spec.description", 160),
    ("blacklists", "spec.pattern", 255),
    ("blacklists", "spec.description", 160),
    ("tsigkeys", "spec.name", 160),
    ("floatingips", "spec.region", 100),
];

/// A field of a schema: its path (`spec.targets[].masters[].port`, `{}` for
/// map values) and its schema.
struct Field<'a> {
    path: String,
    schema: &'a Map<String, Value>,
}

fn schemas() -> Vec<(String, Value)> {
    designate_crd::crds()
        .into_iter()
        .map(|crd| {
            let schema = crd.spec.versions[0]
                .schema
                .clone()
                .and_then(|s| s.open_api_v3_schema)
                .expect("a schema");
            (crd.spec.names.plural, serde_json::to_value(schema).unwrap())
        })
        .collect()
}

/// The fields under `spec` and `status` (metadata is the apiserver's).
fn fields(schema: &Value) -> Vec<Field<'_>> {
    fn walk<'a>(path: String, schema: &'a Map<String, Value>, out: &mut Vec<Field<'a>>) {
        for (name, child) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            walk(path, child.as_object().unwrap(), out);
        }
        if let Some(items) = schema.get("items").and_then(Value::as_object) {
            walk(format!("{path}[]"), items, out);
        }
        if let Some(values) = schema
            .get("additionalProperties")
            .and_then(Value::as_object)
        {
            walk(format!("{path}{{}}"), values, out);
        }
        if !path.is_empty() {
            out.push(Field { path, schema });
        }
    }
    let mut out = Vec::new();
    for root in ["spec", "status"] {
        if let Some(node) = schema["properties"][root].as_object() {
            walk(root.to_string(), node, &mut out);
        }
    }
    out
}

/// The range of the Rust integer a schemars `format` names.
fn format_range(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "uint8" => (0.0, u8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "uint16" => (0.0, u16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "uint32" => (0.0, u32::MAX.into()),
        "int64" => (i64::MIN as f64, i64::MAX as f64),
        "uint64" => (0.0, u64::MAX as f64),
        _ => return None,
    })
}

fn number(schema: &Map<String, Value>, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

fn is_type(schema: &Map<String, Value>, ty: &str) -> bool {
    schema.get("type").and_then(Value::as_str) == Some(ty)
}

#[test]
fn every_integer_is_bounded_within_its_rust_type() {
    let mut problems = Vec::new();
    for (crd, schema) in schemas() {
        for field in fields(&schema)
            .iter()
            .filter(|f| is_type(f.schema, "integer"))
        {
            let at = format!("{crd}: {}", field.path);
            let Some((lowest, highest)) = field
                .schema
                .get("format")
                .and_then(Value::as_str)
                .and_then(format_range)
            else {
                problems.push(format!("{at}: no integer format naming its Rust type"));
                continue;
            };
            match (
                number(field.schema, "minimum"),
                number(field.schema, "maximum"),
            ) {
                (Some(min), Some(max)) if lowest <= min && min <= max && max <= highest => {}
                (min, max) => problems.push(format!(
                    "{at}: bounds {min:?}..{max:?} not within the Rust type's {lowest}..{highest}"
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_string_list_and_map_is_bounded() {
    let mut problems = Vec::new();
    for (crd, schema) in schemas() {
        for field in fields(&schema) {
            let at = format!("{crd}.{}", field.path);
            let has = |key: &str| field.schema.contains_key(key);
            if is_type(field.schema, "string") && !has("maxLength") && !has("enum") {
                // A timestamp is bounded by its format.
                if field.schema.get("format") != Some(&json!("date-time")) {
                    problems.push(format!("{at}: a string without maxLength or enum"));
                }
            }
            if is_type(field.schema, "array")
                && !has("maxItems")
                && !UNBOUNDED_LISTS.iter().any(|(path, _)| *path == at)
            {
                problems.push(format!("{at}: a list without maxItems"));
            }
            if has("additionalProperties") && !has("maxProperties") {
                problems.push(format!("{at}: a map without maxProperties"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

fn field<'a>(schemas: &'a [(String, Value)], crd: &str, path: &str) -> &'a Map<String, Value> {
    let (_, schema) = schemas.iter().find(|(name, _)| name == crd).unwrap();
    // Walked again for each lookup: the schemas are small.
    let found = fields(schema)
        .into_iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{crd} has no field {path}"));
    found.schema
}

#[test]
fn designates_bounds_are_stated() {
    let schemas = schemas();
    for &(crd, path, min, max) in DESIGNATE_INTEGERS {
        let schema = field(&schemas, crd, path);
        assert_eq!(
            (number(schema, "minimum"), number(schema, "maximum")),
            (Some(min as f64), Some(max as f64)),
            "{crd}.{path}"
        );
    }
    for &(crd, path, max) in DESIGNATE_STRINGS {
        let schema = field(&schemas, crd, path);
        assert_eq!(
            schema.get("maxLength").and_then(Value::as_u64),
            Some(max),
            "{crd}.{path}"
        );
    }
    let enumerated = |crd, path| field(&schemas, crd, path)["enum"].clone();
    assert_eq!(
        enumerated("recordsets", "spec.type"),
        json!(designate_central::rdata::SUPPORTED_TYPES)
    );
    assert_eq!(
        enumerated("zones", "spec.type"),
        json!(["PRIMARY", "SECONDARY"])
    );
    for crd in ["zones", "recordsets"] {
        assert_eq!(
            enumerated(crd, "status.status"),
            json!(["PENDING", "ACTIVE", "ERROR"])
        );
        assert_eq!(
            enumerated(crd, "status.action"),
            json!(["CREATE", "UPDATE", "DELETE", "NONE"])
        );
    }
    assert_eq!(
        enumerated("tsigkeys", "spec.algorithm"),
        json!([
            "hmac-md5",
            "hmac-sha1",
            "hmac-sha224",
            "hmac-sha256",
            "hmac-sha384",
            "hmac-sha512"
        ])
    );
    assert_eq!(
        enumerated("tsigkeys", "spec.scope"),
        json!(["POOL", "ZONE"])
    );
}

/// Which end of its range each integer of an instance takes.
#[derive(Clone, Copy)]
enum End {
    Lowest,
    Highest,
}

/// An instance of `schema` with every declared field set: integers at `end`
/// of their bounds, enums at their `pick`th value, one item per list and map.
/// Patterns are not followed: the Rust types do not check them.
fn instance(schema: &Map<String, Value>, end: End, pick: usize) -> Value {
    if let Some(Value::Array(values)) = schema.get("enum") {
        return values[pick % values.len()].clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut object = Map::new();
            for (name, child) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                object.insert(
                    name.clone(),
                    instance(child.as_object().unwrap(), end, pick),
                );
            }
            if let Some(values) = schema
                .get("additionalProperties")
                .and_then(Value::as_object)
            {
                object.insert("key".into(), instance(values, end, pick));
            }
            Value::Object(object)
        }
        Some("array") => json!([instance(schema["items"].as_object().unwrap(), end, pick)]),
        Some("integer") => {
            let bound = match end {
                End::Lowest => number(schema, "minimum"),
                End::Highest => number(schema, "maximum"),
            }
            .expect("bounded (see every_integer_is_bounded_within_its_rust_type)");
            // i64::MAX is not a float: a bound there reads back one above it.
            if bound >= i64::MAX as f64 {
                json!(i64::MAX)
            } else {
                json!(bound as i64)
            }
        }
        Some("number") => json!(0.5),
        Some("boolean") => json!(true),
        Some("string") if schema.get("format") == Some(&json!("date-time")) => {
            json!("2024-01-02T03:04:05Z")
        }
        _ => json!("x"),
    }
}

/// Whether a JSON object decodes into a kind's Rust type (and why not).
type Decode = fn(Value) -> Result<(), String>;

fn decodes<K: DeserializeOwned>(value: Value) -> Result<(), String> {
    serde_json::from_value::<K>(value)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Every value the schema lets through (at the edges of its integer ranges,
/// each enum value) decodes into the Rust type: the operator can hold it.
#[test]
fn what_the_schema_admits_the_rust_types_decode() {
    let decode: [(&str, Decode); 12] = [
        ("zones", decodes::<Zone>),
        ("recordsets", decodes::<Recordset>),
        ("pools", decodes::<Pool>),
        ("tlds", decodes::<Tld>),
        ("blacklists", decodes::<Blacklist>),
        ("quotas", decodes::<Quota>),
        ("tsigkeys", decodes::<TsigKey>),
        ("floatingips", decodes::<FloatingIp>),
        ("zoneshares", decodes::<ZoneShare>),
        ("zonetasks", decodes::<ZoneTask>),
        ("zonetransferrequests", decodes::<ZoneTransferRequest>),
        ("zonetransferaccepts", decodes::<ZoneTransferAccept>),
    ];
    let schemas = schemas();
    assert_eq!(schemas.len(), decode.len());
    for (crd, schema) in &schemas {
        let (_, decode) = decode.iter().find(|(name, _)| name == crd).unwrap();
        let longest_enum = fields(schema)
            .iter()
            .filter_map(|f| f.schema.get("enum").and_then(Value::as_array))
            .map(Vec::len)
            .max()
            .unwrap_or(1);
        for end in [End::Lowest, End::Highest] {
            for pick in 0..longest_enum {
                let mut object = instance(schema.as_object().unwrap(), end, pick);
                object["metadata"] = json!({"name": "n", "namespace": "ns"});
                if let Err(error) = decode(object.clone()) {
                    panic!("{crd}: {object} does not decode: {error}");
                }
            }
        }
    }
}

/// The bound the issue was found with: a TTL past `i32` is refused by the
/// schema, as by Designate (checked with a JSON Schema validator; the
/// apiserver's own check is in e2e/tests/bad_objects.rs).
#[test]
fn a_ttl_past_i32_is_refused_by_the_schema() {
    let schemas = schemas();
    let (_, schema) = schemas
        .iter()
        .find(|(name, _)| name == "recordsets")
        .unwrap();
    let validator = jsonschema::draft4::new(schema).expect("the schema compiles");
    let recordset = |ttl: i64| {
        json!({"apiVersion": "designate.openstack.org/v1alpha1", "kind": "Recordset",
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {"zoneRef": "z", "name": "www.example.com.", "type": "A", "ttl": ttl,
                "records": ["192.0.2.1"]}})
    };
    assert!(validator.is_valid(&recordset(2_147_483_647)));
    assert!(decodes::<Recordset>(recordset(2_147_483_647)).is_ok());
    for ttl in [2_147_483_648, 4_294_967_296, -1] {
        assert!(!validator.is_valid(&recordset(ttl)), "ttl {ttl} passed");
        assert!(decodes::<Recordset>(recordset(ttl)).is_err() || ttl < 0);
    }
}
