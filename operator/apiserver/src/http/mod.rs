//! The HTTP face of the control plane: kube-apiserver's URL layout,
//! verbs, query parameters and status codes.

mod discovery;
mod openapi;
mod table;
mod watch;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};
use tracing::Instrument;

use crate::error::ApiError;
use crate::metrics::{Metrics, RequestLabels, VerbLabels};
use crate::object::{FieldValidation, Part};
use crate::patch::PatchType;
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Filter, ObjectRef, Preconditions, Store, WriteOptions, Written};

/// Largest request body accepted (kube-apiserver's limit is 3 MiB for most objects).
const MAX_BODY: usize = 3 * 1024 * 1024;

pub(crate) struct App {
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub token: Option<String>,
    pub bookmark_interval: std::time::Duration,
    /// Records the permissions the operator's roles used.
    pub access: Arc<crate::access::AccessLog>,
    /// Whether this router serves in-process callers.
    pub in_process: bool,
}

pub(crate) fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(app)
}

async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let (verb, resource) = classify(request.method(), request.uri());
    let span = tracing::debug_span!("kube_request", verb, resource, path = request.uri().path());
    async move {
        let started = std::time::Instant::now();
        let response = match dispatch(&app, request).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        };
        let code = response.status().as_u16();
        tracing::debug!(code, "answered");
        app.metrics
            .requests
            .get_or_create(&RequestLabels {
                verb: verb.into(),
                resource: resource.clone(),
                code,
            })
            .inc();
        app.metrics
            .request_seconds
            .get_or_create(&VerbLabels { verb: verb.into() })
            .observe(started.elapsed().as_secs_f64());
        response
    }
    .instrument(span)
    .await
}

/// kube-apiserver's verb and resource of a request, for logs and metrics.
fn classify(method: &Method, uri: &http::Uri) -> (&'static str, String) {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let rest = match segments.as_slice() {
        ["api", _, rest @ ..] | ["apis", _, _, rest @ ..] => rest,
        _ => &[][..],
    };
    let (resource, named) = match rest {
        ["namespaces", _, plural, tail @ ..] => (*plural, !tail.is_empty()),
        [plural, tail @ ..] => (*plural, !tail.is_empty()),
        [] => ("", false),
    };
    let watch = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
    let verb = match (method.as_str(), named) {
        ("GET", true) => "get",
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "other",
    };
    (verb, resource.to_string())
}

/// Query parameters, tolerant of kube-client's leading `?&`.
pub(crate) struct Query(HashMap<String, String>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        let mut map = HashMap::new();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.insert(decode(k), decode(v));
        }
        Self(map)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Where a resource request points.
pub(crate) struct Target {
    pub rt: ResourceType,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub part: Part,
}

async fn dispatch(app: &App, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().trim_end_matches('/').to_string();
    if matches!(path.as_str(), "/healthz" | "/livez" | "/readyz") {
        return Ok((StatusCode::OK, "ok").into_response());
    }
    authorize(app, &parts.headers)?;
    let query = Query::parse(parts.uri.query());
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let registry = app.store.registry();
    match segments.as_slice() {
        ["metrics"] => return Ok((StatusCode::OK, app.metrics.render()).into_response()),
        ["version"] => return Ok(json_response(StatusCode::OK, &discovery::version())),
        ["api"] => return Ok(json_response(StatusCode::OK, &discovery::api_versions())),
        ["apis"] => {
            return Ok(json_response(
                StatusCode::OK,
                &discovery::api_groups(&registry),
            ));
        }
        ["openapi", "v2"] => return Ok(openapi::v2()),
        ["openapi", "v3"] => {
            return Ok(json_response(StatusCode::OK, &openapi::v3_index(&registry)));
        }
        ["openapi", "v3", "api", version] => return openapi::v3_group(&registry, "", version),
        ["openapi", "v3", "apis", group, version] => {
            return openapi::v3_group(&registry, group, version);
        }
        _ => {}
    }
    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::path_not_found()),
    };
    if rest.is_empty() {
        let list = discovery::resource_list(&registry, group, version)
            .ok_or_else(ApiError::path_not_found)?;
        return Ok(json_response(StatusCode::OK, &list));
    }
    let target = resolve(&registry, group, version, rest)?;
    let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            e.to_string(),
        )
    })?;
    let role = match parts.headers.get(crate::access::ROLE_HEADER) {
        Some(role) => role.to_str().ok(),
        None => app.in_process.then_some(crate::access::IN_PROCESS),
    };
    if let Some(role) = role {
        let (verb, _) = classify(&parts.method, &parts.uri);
        let resource = match target.part {
            Part::Main => target.rt.plural.clone(),
            Part::Status => format!("{}/status", target.rt.plural),
        };
        app.access.record(role, verb, &target.rt.group, resource);
    }
    let headers = parts.headers;
    match (parts.method, target.name.is_some()) {
        (Method::GET, true) => get(app, &target, &headers, &query),
        (Method::GET, false) if query.flag("watch") => watch::serve(app, &target, &headers, &query),
        (Method::GET, false) => list(app, &target, &headers, &query),
        (Method::POST, false) => create(app, &target, &headers, &query, &body).await,
        (Method::PUT, true) => update(app, &target, &headers, &query, &body).await,
        (Method::PATCH, true) => patch(app, &target, &headers, &query, &body).await,
        (Method::DELETE, true) => delete(app, &target, &query, &body).await,
        (Method::DELETE, false) => delete_collection(app, &target, &query, &body).await,
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn authorize(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &app.token else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(()),
        _ => Err(ApiError::unauthorized()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn resolve(
    registry: &crate::registry::Registry,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Target, ApiError> {
    let (namespace, plural, name, sub) = match rest {
        ["namespaces"] if group.is_empty() => (None, "namespaces", None, None),
        ["namespaces", name] if group.is_empty() => (None, "namespaces", Some(*name), None),
        ["namespaces", name, sub @ ("status" | "finalize")] if group.is_empty() => {
            (None, "namespaces", Some(*name), Some(*sub))
        }
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 2 => (
            Some(*ns),
            *plural,
            tail.first().copied(),
            tail.get(1).copied(),
        ),
        [plural, tail @ ..] if tail.len() <= 2 => {
            (None, *plural, tail.first().copied(), tail.get(1).copied())
        }
        _ => return Err(ApiError::path_not_found()),
    };
    let rt = registry
        .find(group, version, plural)
        .ok_or_else(ApiError::path_not_found)?;
    if namespace.is_some() && !rt.namespaced {
        return Err(ApiError::path_not_found());
    }
    if rt.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::path_not_found());
    }
    let part = match sub {
        None => Part::Main,
        // `finalize` of a namespace only edits spec.finalizers: treat as main.
        Some("finalize") => Part::Main,
        Some("status") if rt.status_subresource => Part::Status,
        Some(_) => return Err(ApiError::path_not_found()),
    };
    Ok(Target {
        rt: rt.clone(),
        namespace: namespace.map(String::from),
        name: name.map(String::from),
        part,
    })
}

pub(crate) fn json_response(code: StatusCode, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A stored object, as it is stored.
pub(crate) fn stored_response(code: StatusCode, object: &ObjectRef) -> Response {
    let mut response = Response::new(Body::from(object.json().to_string()));
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn written_response(code: StatusCode, written: &Written) -> Response {
    let mut response = stored_response(code, &written.object);
    for warning in &written.warnings {
        let text = format!("299 - {warning:?}");
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().append("warning", value);
        }
    }
    response
}

pub(crate) fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .next()
                .is_some_and(|first| first.contains("as=Table"))
        })
}

pub(crate) fn filter(target: &Target, query: &Query) -> Result<Filter, ApiError> {
    Ok(Filter {
        namespace: target.namespace.clone(),
        labels: LabelSelector::parse(query.get("labelSelector").unwrap_or_default())?,
        fields: FieldSelector::parse(
            query.get("fieldSelector").unwrap_or_default(),
            target
                .rt
                .custom
                .then_some(target.rt.selectable_fields.as_slice()),
        )?,
    })
}

fn name(target: &Target) -> &str {
    target.name.as_deref().unwrap_or_default()
}

fn get(
    app: &App,
    target: &Target,
    headers: &HeaderMap,
    query: &Query,
) -> Result<Response, ApiError> {
    let object = app
        .store
        .get(&target.rt, target.namespace.as_deref(), name(target))
        .ok_or_else(|| ApiError::not_found(&target.rt.qualified(), name(target)))?;
    if wants_table(headers) {
        let rv = app.store.resource_version();
        return Ok(json_response(
            StatusCode::OK,
            &table::table(&target.rt, &[object], rv, query),
        ));
    }
    Ok(stored_response(StatusCode::OK, &object))
}

fn list(
    app: &App,
    target: &Target,
    headers: &HeaderMap,
    query: &Query,
) -> Result<Response, ApiError> {
    let filter = filter(target, query)?;
    let limit = query.get("limit").and_then(|l| l.parse().ok());
    // Only the current version is kept: an exact older one is gone, and
    // one past it is from an earlier life of the store (never reissued).
    if let Some(rv) = query.get("resourceVersion").filter(|rv| *rv != "0") {
        let current = app.store.resource_version();
        let exact = query.get("resourceVersionMatch") == Some("Exact");
        match rv.parse::<u64>() {
            Ok(rv) if rv > current || (exact && rv != current) => {
                return Err(ApiError::gone(format!("too old resource version: {rv}")));
            }
            Ok(_) => {}
            Err(_) => {
                return Err(ApiError::bad_request(format!(
                    "invalid resource version: {rv}"
                )));
            }
        }
    }
    let page = app
        .store
        .list(&target.rt, &filter, limit, query.get("continue"))?;
    if wants_table(headers) {
        let mut table = table::table(&target.rt, &page.items, page.resource_version, query);
        set_list_meta(&mut table, &page);
        return Ok(json_response(StatusCode::OK, &table));
    }
    let mut metadata = json!({});
    set_list_meta(&mut metadata, &page);
    Ok(list_response(
        &target.rt,
        &metadata["metadata"],
        &page.items,
    ))
}

/// A `<Kind>List`, written item by item: no copy of the stored objects.
fn list_response(rt: &ResourceType, metadata: &Value, items: &[ObjectRef]) -> Response {
    let mut body = format!(
        "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{metadata},\"items\":[",
        rt.kind,
        rt.api_version()
    )
    .into_bytes();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.json().as_bytes());
    }
    body.extend_from_slice(b"]}");
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn set_list_meta(list: &mut Value, page: &crate::store::ListPage) {
    list["metadata"]["resourceVersion"] = json!(page.resource_version.to_string());
    if let Some(token) = &page.continue_token {
        list["metadata"]["continue"] = json!(token);
    }
}

fn write_options(query: &Query) -> Result<WriteOptions, ApiError> {
    Ok(WriteOptions {
        validation: FieldValidation::parse(query.get("fieldValidation"))?,
        dry_run: query.get("dryRun") == Some("All"),
    })
}

fn parse_json(body: &Bytes, rt: &ResourceType) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "{kind} in version \"{v}\" cannot be handled as a {kind}: {e}",
            kind = rt.kind,
            v = rt.version
        ))
    })
}

/// Decodes a POST/PUT body: JSON, YAML, or (built-in kinds) protobuf.
fn parse_body(headers: &HeaderMap, body: &Bytes, rt: &ResourceType) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    match content_type.split(';').next().unwrap_or("").trim() {
        "application/json" | "*/*" | "" => parse_json(body, rt),
        "application/yaml" => {
            serde_yaml::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))
        }
        crate::proto::MEDIA_TYPE if !rt.custom => crate::proto::decode(body),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"
            ),
        )),
    }
}

async fn create(
    app: &App,
    target: &Target,
    headers: &HeaderMap,
    query: &Query,
    body: &Bytes,
) -> Result<Response, ApiError> {
    if target.part != Part::Main {
        return Err(ApiError::method_not_allowed());
    }
    let object = parse_body(headers, body, &target.rt)?;
    let written = app
        .store
        .create(
            &target.rt,
            target.namespace.as_deref(),
            object,
            &write_options(query)?,
        )
        .await?;
    Ok(written_response(StatusCode::CREATED, &written))
}

async fn update(
    app: &App,
    target: &Target,
    headers: &HeaderMap,
    query: &Query,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let object = parse_body(headers, body, &target.rt)?;
    let written = app
        .store
        .update(
            &target.rt,
            target.namespace.as_deref(),
            name(target),
            object,
            target.part,
            &write_options(query)?,
        )
        .await?;
    Ok(written_response(StatusCode::OK, &written))
}

async fn patch(
    app: &App,
    target: &Target,
    headers: &HeaderMap,
    query: &Query,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let patch_type = PatchType::from_content_type(content_type)?;
    if patch_type == PatchType::Apply && query.get("fieldManager").is_none() {
        return Err(ApiError::bad_request(
            "PATCH, application/apply-patch+yaml requests require fieldManager to be set",
        ));
    }
    let written = app
        .store
        .patch(
            &target.rt,
            target.namespace.as_deref(),
            name(target),
            patch_type,
            body,
            target.part,
            &write_options(query)?,
        )
        .await?;
    let code = if patch_type == PatchType::Apply && written.flag {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(written_response(code, &written))
}

/// DeleteOptions from the body and query.
/// What a DELETE asks beyond deleting: preconditions, a dry run, and
/// whether the caller waits on dependents (`orphanDependents: false`).
struct DeleteOptions {
    pre: Preconditions,
    dry_run: bool,
    cascading: bool,
}

fn delete_options(query: &Query, body: &Bytes) -> Result<DeleteOptions, ApiError> {
    let options: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let pre = Preconditions {
        uid: options
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        resource_version: options
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
    };
    let dry_run = query.get("dryRun") == Some("All")
        || options
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v == "All"));
    let cascading = options.get("orphanDependents") == Some(&Value::Bool(false))
        || query.get("orphanDependents") == Some("false");
    Ok(DeleteOptions {
        pre,
        dry_run,
        cascading,
    })
}

async fn delete(
    app: &App,
    target: &Target,
    query: &Query,
    body: &Bytes,
) -> Result<Response, ApiError> {
    if target.part != Part::Main {
        return Err(ApiError::method_not_allowed());
    }
    let options = delete_options(query, body)?;
    let written = app
        .store
        .delete(
            &target.rt,
            target.namespace.as_deref(),
            name(target),
            &options.pre,
            options.dry_run,
        )
        .await?;
    // As kube-apiserver: 200, whether the object went or waits on its
    // finalizers; 202 only for a delete kept waiting that asked to
    // cascade (`orphanDependents: false`).
    let code = if written.flag && options.cascading {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok(stored_response(code, &written.object))
}

async fn delete_collection(
    app: &App,
    target: &Target,
    query: &Query,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let DeleteOptions { pre, dry_run, .. } = delete_options(query, body)?;
    let filter = filter(target, query)?;
    let page = app.store.list(&target.rt, &filter, None, None)?;
    let mut deleted: Vec<ObjectRef> = Vec::new();
    for object in page.items {
        let object = object.value();
        let ns = crate::object::meta_str(&object, "namespace").map(String::from);
        let name = crate::object::meta_str(&object, "name")
            .unwrap_or_default()
            .to_string();
        match app
            .store
            .delete(&target.rt, ns.as_deref(), &name, &pre, dry_run)
            .await
        {
            Ok(written) => deleted.push(written.object),
            Err(e) if e.reason == "NotFound" => {}
            Err(e) => return Err(e),
        }
    }
    let metadata = json!({"resourceVersion": app.store.resource_version().to_string()});
    Ok(list_response(&target.rt, &metadata, &deleted))
}
