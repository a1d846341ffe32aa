//! The OpenAPI documents kubectl needs: v3 advertises, per kind, a PATCH
//! with the `fieldValidation` parameter and no strategic merge (so kubectl
//! validates on the server and uses JSON merge patches); v2 is an empty
//! protobuf document (kubectl 1.27/1.28 then skip client-side validation).
//! Component schemas come from the CRDs, so `kubectl explain` works too.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::registry::{Registry, ResourceType};

use super::json_response;

pub fn v2() -> Response {
    let mut response = Response::new(Body::empty());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    response
}

fn doc_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A hash that changes when the served kinds change (kubectl caches by it).
fn hash(registry: &Registry, group: &str, version: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    for rt in registry.in_group_version(group, version) {
        rt.plural.hash(&mut hasher);
        rt.schema.as_deref().map(Value::to_string).hash(&mut hasher);
    }
    format!("{:016X}", hasher.finish())
}

pub fn v3_index(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, version) in registry.group_versions() {
        let path = doc_path(&group, &version);
        let url = format!(
            "/openapi/v3/{path}?hash={}",
            hash(registry, &group, &version)
        );
        paths.insert(path, json!({"serverRelativeURL": url}));
    }
    json!({"paths": paths})
}

/// Reverse-DNS schema name, as kube-apiserver publishes CRD schemas.
fn schema_name(rt: &ResourceType) -> String {
    let group: Vec<&str> = rt.group.split('.').rev().collect();
    let group = if rt.group.is_empty() {
        "io.k8s.api.core".to_string()
    } else {
        group.join(".")
    };
    format!("{group}.{}.{}", rt.version, rt.kind)
}

pub fn v3_group(registry: &Registry, group: &str, version: &str) -> Result<Response, ApiError> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for rt in registry.in_group_version(group, version) {
        let gvk = json!({"group": rt.group, "version": rt.version, "kind": rt.kind});
        let name = schema_name(rt);
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        let content = |types: &[&str]| -> Value {
            types
                .iter()
                .map(|t| (t.to_string(), json!({"schema": reference})))
                .collect::<Map<_, _>>()
                .into()
        };
        let params = json!([
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}},
        ]);
        let ok = json!({"200": {"description": "OK", "content": content(&["application/json"])}});
        let item = json!({
            "get": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "get", "responses": ok},
            "put": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "put", "parameters": params,
                    "requestBody": {"content": content(&["application/json"])}, "responses": ok},
            "patch": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch", "parameters": params,
                      "requestBody": {"content": content(&["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"])},
                      "responses": ok},
            "delete": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "delete", "responses": ok},
        });
        let base = format!("/{}", doc_path(&rt.group, &rt.version));
        let item_path = if rt.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", rt.plural)
        } else {
            format!("{base}/{}/{{name}}", rt.plural)
        };
        paths.insert(item_path, item);
        let mut schema = rt.schema.as_deref().cloned().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert("apiVersion".into(), json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}));
            props.insert("kind".into(), json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}));
            props.insert(
                "metadata".into(),
                json!({"type": "object", "description": "Standard object's metadata."}),
            );
        }
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(name, schema);
    }
    if paths.is_empty() {
        return Err(ApiError::path_not_found());
    }
    let doc = json!({
        "openapi": "3.0.0",
        "info": {"title": "designate-operator embedded control plane", "version": format!("v1.{}", super::discovery::KUBE_MINOR)},
        "paths": paths,
        "components": {"schemas": schemas},
    });
    Ok(json_response(StatusCode::OK, &doc))
}
