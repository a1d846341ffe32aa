//! Zone exports and imports (`/v2/zones/{zone_id}/tasks/export`,
//! `/v2/zones/tasks/exports[/{id}[/export]]`, `/v2/zones/tasks/imports[/{id}]`):
//! Designate's zone tasks, kept as `ZoneTask` objects in the caller's
//! project namespace (the id is the uid).
//!
//! An export is complete once made: its zone file is rendered from the
//! zone as it is when fetched, as Designate's synchronous exports are. An
//! import parses the file before answering (a file that does not parse is
//! an `ERROR` task at once), then makes the zone and its recordsets with
//! Central's rules, as the caller, and ends the task `COMPLETE` or `ERROR`.

use designate_crd::grant::DesignateId;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_central::{QuotaResource, RecordsetInput, ZoneInput, ZoneKind, rules};
use designate_crd::{
    IMPORTING_ANNOTATION, TASK_MESSAGE_MAX_LEN, ZoneTask, ZoneTaskSpec, ZoneTaskState,
    ZoneTaskStatus, ZoneTaskType,
};
use hickory_proto::rr::{RData, RecordType};
use hickory_proto::serialize::txt::Parser;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::{Caller, project_target};
use crate::cache::{FIELD_MANAGER, order_key};
use crate::error::ApiError;
use crate::list::{self, Query};
use crate::render::{datetime, notice_payload};
use crate::zones::{check_uuid, list_answer, planned_namespace, query_pairs};
use crate::{Api, Shared, base_url};

fn export_not_found() -> ApiError {
    ApiError::new(404, "zone_export_not_found", "Could not find ZoneExport")
}

fn import_not_found() -> ApiError {
    ApiError::new(404, "zone_import_not_found", "Could not find ZoneImport")
}

/// A task as the API shows it.
struct TaskView {
    task: Arc<ZoneTask>,
    project: Arc<str>,
}

impl TaskView {
    fn state(&self) -> ZoneTaskState {
        self.status()
            .and_then(|s| s.status)
            .unwrap_or(ZoneTaskState::Pending)
    }

    fn status(&self) -> Option<&ZoneTaskStatus> {
        self.task.status.as_ref()
    }

    fn id(&self) -> &str {
        self.task.metadata.uid.as_deref().unwrap_or_default()
    }

    fn zone_id(&self) -> Option<&str> {
        match self.task.spec.task_type {
            ZoneTaskType::Export => self.task.spec.zone_id.as_deref(),
            ZoneTaskType::Import => self.status().and_then(|s| s.zone_id.as_deref()),
        }
    }

    /// `designate://...` once an export is complete.
    fn location(&self) -> Option<String> {
        (self.task.spec.task_type == ZoneTaskType::Export
            && self.state() == ZoneTaskState::Complete)
            .then(|| format!("designate://v2/zones/tasks/exports/{}/export", self.id()))
    }

    fn render(&self, base: &str) -> TaskJson<'_> {
        let id = self.id();
        let ended = self.status().and_then(|s| s.status).is_some();
        let (path, is_export) = match self.task.spec.task_type {
            ZoneTaskType::Export => ("exports", true),
            ZoneTaskType::Import => ("imports", false),
        };
        let location = self.location();
        let links = TaskLinks {
            self_: format!("{base}/v2/zones/tasks/{path}/{id}"),
            export: location
                .as_ref()
                .map(|l| format!("{base}/{}", l.trim_start_matches("designate://"))),
            zone: (!is_export)
                .then(|| self.zone_id().map(|z| format!("{base}/v2/zones/{z}")))
                .flatten(),
        };
        TaskJson {
            id,
            status: self.state().as_str(),
            message: self.status().and_then(|s| s.message.as_deref()),
            location: is_export.then_some(location),
            zone_id: self.zone_id(),
            project_id: &self.project,
            created_at: self.task.metadata.creation_timestamp.as_ref().map(datetime),
            updated_at: self
                .status()
                .and_then(|s| s.updated_at.as_ref())
                .map(datetime),
            // Designate's object version: 1 as made, 2 once the task ended.
            version: if ended { 2 } else { 1 },
            links,
        }
    }
}

/// An export in its `dns.zone_export.*` notifications (`None`: an import).
pub fn export_notice(task: &ZoneTask) -> Option<Value> {
    notice(task, ZoneTaskType::Export)
}

/// An import in its `dns.zone_import.*` notifications (`None`: an export).
pub fn import_notice(task: &ZoneTask) -> Option<Value> {
    notice(task, ZoneTaskType::Import)
}

/// From the task alone (the notifier has no mirrors).
fn notice(task: &ZoneTask, type_: ZoneTaskType) -> Option<Value> {
    (task.spec.task_type == type_).then(|| {
        let view = TaskView {
            task: Arc::new(task.clone()),
            project: Arc::from(task.spec.project_id.as_deref().unwrap_or_default()),
        };
        notice_payload(view.render(""))
    })
}

#[derive(Serialize)]
struct TaskJson<'a> {
    id: &'a str,
    status: &'static str,
    message: Option<&'a str>,
    /// Exports only.
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Option<String>>,
    zone_id: Option<&'a str>,
    project_id: &'a str,
    created_at: Option<String>,
    updated_at: Option<String>,
    version: i64,
    links: TaskLinks,
}

#[derive(Serialize)]
struct TaskLinks {
    #[serde(rename = "self")]
    self_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    export: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone: Option<String>,
}

impl list::Listed for TaskView {
    fn id(&self) -> &str {
        TaskView::id(self)
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        let micros = |t: Option<&Time>| list::Field::Int(t.map(|t| t.0.as_microsecond()));
        match key {
            "id" => list::Field::Text(Some(TaskView::id(self))),
            "status" => list::Field::Text(Some(self.state().as_str())),
            "message" => list::Field::Text(self.status().and_then(|s| s.message.as_deref())),
            "zone_id" => list::Field::Text(self.zone_id()),
            "created_at" => micros(self.task.metadata.creation_timestamp.as_ref()),
            "updated_at" => micros(self.status().and_then(|s| s.updated_at.as_ref())),
            _ => list::Field::Text(None),
        }
    }
}

impl Api {
    fn task_view(&self, task: Arc<ZoneTask>) -> TaskView {
        let project = self.project_named(
            task.spec.project_id.as_deref(),
            task.metadata.namespace.as_deref(),
        );
        TaskView { task, project }
    }

    /// The caller's tasks of a type (every project's across all projects).
    fn tasks(&self, caller: &Caller, type_: ZoneTaskType) -> Vec<TaskView> {
        let scope = self.scope(caller);
        let mut tasks = Vec::new();
        self.cache.zone_tasks.walk(
            scope.as_deref(),
            std::ops::Bound::Unbounded,
            false,
            |_, task| {
                if task.spec.task_type == type_ {
                    tasks.push(task.clone());
                }
                std::ops::ControlFlow::Continue(())
            },
        );
        tasks.into_iter().map(|t| self.task_view(t)).collect()
    }

    /// A task of the caller's by the id in a path.
    fn find_task(
        &self,
        caller: &Caller,
        type_: ZoneTaskType,
        id: &str,
    ) -> Result<TaskView, ApiError> {
        let not_found = match type_ {
            ZoneTaskType::Export => export_not_found,
            ZoneTaskType::Import => import_not_found,
        };
        self.cache
            .zone_tasks
            .get(id)
            .filter(|task| task.spec.task_type == type_)
            .filter(|task| caller.all_projects || task.namespace() == caller.namespace)
            .map(|task| self.task_view(task))
            .ok_or_else(not_found)
    }

    /// Makes a task in the caller's namespace.
    async fn make_task(&self, caller: &Caller, spec: ZoneTaskSpec) -> Result<ZoneTask, ApiError> {
        let namespace = self.ensure_namespace(caller).await?;
        let prefix = match spec.task_type {
            ZoneTaskType::Export => "export-",
            ZoneTaskType::Import => "import-",
        };
        let mut task = ZoneTask::new("", spec);
        task.metadata.name = None;
        task.metadata.generate_name = Some(prefix.into());
        task.metadata.namespace = Some(namespace);
        let made = self
            .cache
            .zone_tasks
            .create(&self.client, &task)
            .await
            .map_err(ApiError::from)?;
        Ok(made)
    }

    /// Ends a task: its status, written once.
    async fn end_task(
        &self,
        task: &ZoneTask,
        state: ZoneTaskState,
        message: Option<String>,
        zone_id: Option<String>,
    ) -> Result<ZoneTask, ApiError> {
        let message = message.map(|m| m.chars().take(TASK_MESSAGE_MAX_LEN).collect::<String>());
        let status = ZoneTaskStatus {
            status: Some(state),
            message,
            zone_id,
            updated_at: Some(Time(k8s_openapi::jiff::Timestamp::now())),
        };
        let api: kube::Api<ZoneTask> = kube::Api::namespaced(
            self.client.clone(),
            task.meta().namespace.as_deref().unwrap_or_default(),
        );
        let patch = kube::api::Patch::Merge(json!({ "status": status }));
        let params = kube::api::PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..kube::api::PatchParams::default()
        };
        let ended = api
            .patch_status(&task.name_any(), &params, &patch)
            .await
            .map_err(ApiError::from)?;
        self.cache
            .zone_tasks
            .wait_for(
                ended.metadata.uid.as_deref().unwrap_or_default(),
                ended.metadata.resource_version.as_deref(),
            )
            .await;
        Ok(ended)
    }
}

fn accepted(view: &TaskView, base: &str) -> Response {
    let body = view.render(base);
    let location = body.links.self_.clone();
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(body),
    )
        .into_response()
}

fn list_tasks(
    api: &Api,
    caller: &Caller,
    type_: ZoneTaskType,
    headers: &HeaderMap,
    uri: &OriginalUri,
    raw: Option<&str>,
) -> Result<Response, ApiError> {
    let query = Query::parse(&query_pairs(raw), &list::TASKS)?;
    let (rule, collection) = match type_ {
        ZoneTaskType::Export => ("find_zone_exports", "exports"),
        ZoneTaskType::Import => ("find_zone_imports", "imports"),
    };
    caller.require_own(rule)?;
    let base = base_url(headers);
    let page = list::page(api.tasks(caller, type_), &query)?;
    let next = page
        .full
        .then(|| page.items.last().map(|v| v.id().to_string()))
        .flatten();
    let items: Vec<TaskJson<'_>> = page.items.iter().map(|v| v.render(&base)).collect();
    // Designate counts tasks in its lists (not TLDs, blacklists, ...).
    Ok(list_answer(
        collection,
        items,
        next.as_deref(),
        Some(page.total),
        headers,
        uri,
    ))
}

// ---- exports ----

/// `POST /v2/zones/{zone_id}/tasks/export`.
pub async fn create_export(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(zone_id): Path<String>,
) -> Result<Response, ApiError> {
    let zone = api.zone_view(api.find_zone(&caller, &zone_id)?);
    caller.require("create_zone_export", &project_target(&zone.project))?;
    // The export size quota, at once rather than in a task that fails.
    // Counted without building a view of each (the managed SOA and NS too).
    let size = (zone.managed(&api.settings.central).len()
        + api.cache.recordset_count_in(&zone.zone)) as u64;
    let cfg = crate::quotas::for_project(
        &api,
        std::borrow::Cow::Borrowed(&api.settings.central),
        &zone.project,
    );
    rules::check_quota(
        QuotaResource::ApiExportSize,
        cfg.quotas.api_export_size,
        size,
    )?;
    let task = api
        .make_task(
            &caller,
            ZoneTaskSpec {
                task_type: ZoneTaskType::Export,
                zone_id: Some(zone_id.clone()),
                project_id: Some(caller.project.clone()),
            },
        )
        .await?;
    let made = api.task_view(Arc::new(task.clone()));
    api.end_task(&task, ZoneTaskState::Complete, None, None)
        .await?;
    Ok(accepted(&made, &base_url(&headers)))
}

pub async fn list_exports(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    list_tasks(
        &api,
        &caller,
        ZoneTaskType::Export,
        &headers,
        &uri,
        raw.as_deref(),
    )
}

pub async fn show_export(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show_task(&api, &caller, &headers, ZoneTaskType::Export, &id)
}

fn show_task(
    api: &Api,
    caller: &Caller,
    headers: &HeaderMap,
    type_: ZoneTaskType,
    id: &str,
) -> Result<Response, ApiError> {
    let check = match type_ {
        ZoneTaskType::Export => ("export_id", "get_zone_export"),
        ZoneTaskType::Import => ("import_id", "get_zone_import"),
    };
    let view = checked_task(api, caller, type_, id, check)?;
    Ok(axum::Json(view.render(&base_url(headers))).into_response())
}

/// A task by the id in a path, after Designate's checks: the id's form
/// (`field`), then the policy (`rule`), then the task itself.
fn checked_task(
    api: &Api,
    caller: &Caller,
    type_: ZoneTaskType,
    id: &str,
    (field, rule): (&str, &str),
) -> Result<TaskView, ApiError> {
    check_uuid(field, id)?;
    caller.require_own(rule)?;
    api.find_task(caller, type_, id)
}

/// `GET /v2/zones/tasks/exports/{id}/export`: the zone file.
pub async fn export_file(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = checked_task(
        &api,
        &caller,
        ZoneTaskType::Export,
        &id,
        ("export_id", "zone_export"),
    )?;
    if view.location().is_none() {
        return Err(ApiError::bad_request(
            "Zone can not be exported synchronously",
        ));
    }
    let zone = api.zone_view(api.find_zone(&caller, view.zone_id().unwrap_or_default())?);
    caller.require("get_zone", &api.zone_target(&caller, &zone))?;
    let mut text = format!(
        "$ORIGIN {}\n$TTL {}\n\n",
        zone.zone.spec.name,
        zone.ttl(&api.settings.central)
    );
    let mut recordsets = api.recordsets_of(&zone);
    // Designate's order: the recordsets' creation (managed ones first,
    // made with the zone).
    recordsets.sort_by_key(|rs| {
        rs.resource()
            .map(|r| order_key(r.as_ref()))
            .unwrap_or((i64::MIN, Arc::from("")))
    });
    for rs in &recordsets {
        let ttl = rs.ttl().map(|t| t.to_string()).unwrap_or_default();
        for record in rs.records() {
            let _ = writeln!(text, "{} {ttl} IN {} {record}", rs.name(), rs.type_());
        }
    }
    text.push_str("\n\n");
    Ok(([(header::CONTENT_TYPE, "text/dns; charset=UTF-8")], text).into_response())
}

pub async fn delete_export(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    delete_task(&api, &caller, ZoneTaskType::Export, &id).await
}

async fn delete_task(
    api: &Api,
    caller: &Caller,
    type_: ZoneTaskType,
    id: &str,
) -> Result<Response, ApiError> {
    let check = match type_ {
        ZoneTaskType::Export => ("zone_export_id", "delete_zone_export"),
        ZoneTaskType::Import => ("zone_import_id", "delete_zone_import"),
    };
    let view = checked_task(api, caller, type_, id, check)?;
    api.cache.zone_tasks.delete(&api.client, &view.task).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- imports ----

/// A zone file read as Designate's `_import_zone` reads it.
#[derive(Debug, PartialEq)]
struct Imported {
    zone: ZoneInput,
    recordsets: Vec<RecordsetInput>,
}

const NO_ORIGIN: &str =
    "The $ORIGIN statement is required and must be the first statement in the zonefile.";
const MALFORMED: &str = "Malformed zonefile.";

/// How long an import's answer waits for the zone to be made.
const IMPORT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What `_` is while hickory parses (see [`parse_zonefile`]).
const UNDERSCORE: &str = "zq95qz";

/// Parses a zone file into the zone and its recordsets, or Designate's
/// message for why it cannot be imported. `$INCLUDE` is refused (dnspython
/// allows none): a file must not read the server's files.
fn parse_zonefile(text: &str, min_ttl: i64) -> Result<Imported, &'static str> {
    let statements = text
        .lines()
        .map(|line| line.split(';').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty());
    let mut first = true;
    let mut origin_given = String::new();
    for statement in statements {
        let mut words = statement.split_whitespace();
        let directive = words.next().unwrap_or_default().to_ascii_uppercase();
        if first && directive != "$ORIGIN" {
            return Err(NO_ORIGIN);
        }
        if first {
            origin_given = words.next().unwrap_or_default().to_string();
        }
        if directive == "$INCLUDE" {
            return Err(MALFORMED);
        }
        first = false;
    }
    if first {
        return Err(NO_ORIGIN);
    }
    // hickory reads names through IDNA, which refuses `_` inside a label
    // (`my_host`); dnspython takes it. It stands in as a placeholder.
    let placeholder = !text.contains(UNDERSCORE);
    let parsed = if placeholder {
        Parser::new(text.replace('_', UNDERSCORE), None, None).parse()
    } else {
        Parser::new(text, None, None).parse()
    };
    let (origin, sets) = parsed.map_err(|_| MALFORMED)?;
    let restore = |text: String| {
        if placeholder {
            text.replace(UNDERSCORE, "_")
        } else {
            text
        }
    };
    // hickory's names are lowercased (IDNA); the zone keeps the case the
    // file gives it, as dnspython's does (TLDs match it exactly).
    let origin_text = match restore(origin.to_ascii()) {
        parsed if parsed.eq_ignore_ascii_case(&origin_given) => origin_given,
        parsed => parsed,
    };
    // Names in the zone end with it as given, too.
    let recase = |name: String| match name.len().checked_sub(origin_text.len()) {
        Some(cut) if name[cut..].eq_ignore_ascii_case(&origin_text) => {
            format!("{}{origin_text}", &name[..cut])
        }
        _ => name,
    };
    let soa = sets
        .values()
        .find(|set| set.record_type() == RecordType::SOA && set.name() == &origin)
        .and_then(|set| set.records_without_rrsigs().next())
        .and_then(|record| match &record.data {
            RData::SOA(soa) => Some((record.ttl, soa.clone())),
            _ => None,
        })
        .ok_or("An SOA record is required.")?;
    let (soa_ttl, soa) = soa;
    // dnspython's SOA TTL 0 is Central's minimum.
    let ttl = match i64::from(soa_ttl) {
        0 => min_ttl,
        ttl => ttl,
    };
    let zone = ZoneInput {
        id: String::new(),
        project: String::new(),
        name: origin_text.clone(),
        email: Some(email_of(&restore(soa.rname.to_ascii()))),
        ttl: Some(ttl),
        description: None,
        kind: ZoneKind::Primary,
        masters: Vec::new(),
    };
    let mut recordsets = Vec::new();
    for set in sets.values() {
        let type_ = set.record_type();
        let at_apex = set.name() == &origin;
        // The zone's own SOA and NS are Central's; a delegation's NS stays.
        if type_ == RecordType::SOA || (type_ == RecordType::NS && at_apex) {
            continue;
        }
        let records = set
            .records_without_rrsigs()
            .map(|record| restore(rdata_text(&record.data)))
            .collect();
        recordsets.push(RecordsetInput {
            id: String::new(),
            name: recase(restore(set.name().to_ascii())),
            type_: type_.to_string(),
            ttl: (set.ttl() != 0).then_some(i64::from(set.ttl())),
            records,
            description: None,
        });
    }
    Ok(Imported { zone, recordsets })
}

/// A record's data as Designate keeps it: presentation format, with TXT
/// strings quoted (dnspython's `to_text`).
fn rdata_text(data: &RData) -> String {
    let quoted = |strings: &mut dyn Iterator<Item = &[u8]>| {
        strings
            .map(|s| {
                let text = String::from_utf8_lossy(s);
                format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    match data {
        RData::TXT(txt) => quoted(&mut txt.txt_data.iter().map(|s| s.as_ref())),
        other => other.to_string(),
    }
}

/// An SOA `rname` as an email: its first unescaped dot is the `@`
/// (Designate's `_soa_to_normal`), without the final dot.
fn email_of(rname: &str) -> String {
    let rname = rname.trim_end_matches('.');
    let mut out = String::with_capacity(rname.len());
    let mut escaped = false;
    let mut at = false;
    for c in rname.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '.' if !escaped && !at => {
                out.push('@');
                at = true;
            }
            c => {
                out.push(c);
                escaped = false;
            }
        }
    }
    out
}

/// `POST /v2/zones/tasks/imports`: a zone file as `text/dns`, or JSON
/// `{"zonefile": ..., "attributes": {...}}`.
pub async fn create_import(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let text = String::from_utf8_lossy(&payload).into_owned();
    let (zonefile, attributes) = match content_type.as_str() {
        "application/json" => {
            let body: Value = serde_json::from_str(&text)
                .map_err(|_| ApiError::bad_request("Invalid JSON body"))?;
            let Some(zonefile) = body.get("zonefile").and_then(Value::as_str) else {
                return Err(ApiError::bad_request(
                    "The \"zonefile\" field is required when using application/json content type",
                ));
            };
            let attributes = match body.as_object() {
                Some(object) => crate::zones::attributes(object)?,
                None => None,
            };
            // The scheduler's check, at once: a pool asked for must exist.
            if let Some(pool) = attributes.as_ref().and_then(|a| a.get("pool_id"))
                && api.cache.pools.get(pool).is_none()
            {
                return Err(ApiError::new(
                    404,
                    "no_valid_pool_found",
                    "No valid pool found",
                ));
            }
            (zonefile.to_string(), attributes)
        }
        "text/dns" => (text, None),
        _ => {
            return Err(ApiError::new(
                415,
                "unsupported_content_type",
                "Content-type must be text/dns or application/json",
            ));
        }
    };
    caller.require_own("create_zone_import")?;
    let task = api
        .make_task(
            &caller,
            ZoneTaskSpec {
                task_type: ZoneTaskType::Import,
                zone_id: None,
                project_id: Some(caller.project.clone()),
            },
        )
        .await?;
    let base = base_url(&headers);
    let min_ttl = api.settings.central.min_ttl;
    match parse_zonefile(&zonefile, min_ttl) {
        Err(message) => {
            let ended = api
                .end_task(&task, ZoneTaskState::Error, Some(message.into()), None)
                .await?;
            // Shown as the task was made, with how it ended.
            let mut shown = task.clone();
            shown.status = ended.status.map(|s| ZoneTaskStatus {
                updated_at: None,
                ..s
            });
            let view = api.task_view(Arc::new(shown));
            let rendered = view.render(&base);
            let location = rendered.links.self_.clone();
            let mut body = serde_json::to_value(rendered).map_err(ApiError::unknown)?;
            body["version"] = json!(1);
            Ok((
                StatusCode::ACCEPTED,
                [(header::LOCATION, location)],
                axum::Json(body),
            )
                .into_response())
        }
        Ok(imported) => {
            let made = api.task_view(Arc::new(task.clone()));
            let response = accepted(&made, &base);
            let importing = tokio::spawn(async move {
                let (state, message, zone_id) = match import(
                    &api,
                    &caller,
                    &task,
                    imported,
                    attributes.unwrap_or_default(),
                )
                .await
                {
                    Ok((name, zone_id)) => (
                        ZoneTaskState::Complete,
                        format!("{name} imported"),
                        Some(zone_id),
                    ),
                    Err(message) => (ZoneTaskState::Error, message, None),
                };
                if let Err(error) = api.end_task(&task, state, Some(message), zone_id).await {
                    tracing::warn!(task = %task.name_any(), ?error, "zone import not ended");
                }
            });
            // Answered as made (PENDING); a zone of common size is in place
            // by then, as Designate's is when its client first looks. A
            // larger one goes on after the answer.
            let _ = tokio::time::timeout(IMPORT_WAIT, importing).await;
            Ok(response)
        }
    }
}

/// Makes the zone and its recordsets as the caller; the zone's name and
/// id, or Designate's message for the task.
async fn import(
    api: &Api,
    caller: &Caller,
    task: &ZoneTask,
    imported: Imported,
    attributes: BTreeMap<String, String>,
) -> Result<(String, String), String> {
    let mut input = imported.zone;
    input.project = planned_namespace(caller);
    let task_id = task.designate_id();
    let zone = crate::zones::create_zone(api, caller, &input, attributes, Some(&task_id))
        .await
        .map_err(|error| match error.type_ {
            "duplicate_zone" => "Duplicate zone.".to_string(),
            "over_quota" => "Quota exceeded during zone import.".to_string(),
            "invalid_ttl" => error.message.unwrap_or_default(),
            _ => undefined(&error),
        })?;
    let view = api.zone_view(Arc::new(zone));
    let zone_id = view.zone.designate_id();
    // The caller now has a namespace, where later checks look.
    let mut caller = caller.clone();
    caller.namespace = view.zone.namespace();
    let made =
        crate::recordsets::create_recordsets(api, &caller, &view, &imported.recordsets).await;
    // Published from here, with whatever was made.
    let unmark = json!({ "metadata": { "annotations": { IMPORTING_ANNOTATION: null } } });
    if let Err(error) = api.cache.zones.patch(&api.client, &view.zone, unmark).await {
        // A zone deleted meanwhile has nothing to publish; any other is
        // published once the controllers stop waiting for the import.
        tracing::warn!(zone = %zone_id, %error, "imported zone left marked");
    }
    made.map_err(|error| undefined(&error))?;
    Ok((input.name, zone_id))
}

/// Designate's message for an error it did not expect in an import.
fn undefined(error: &ApiError) -> String {
    let detail = error.message.as_deref().unwrap_or(error.type_);
    format!(
        "An undefined error occurred. {}",
        detail.chars().take(130).collect::<String>()
    )
}

pub async fn list_imports(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    list_tasks(
        &api,
        &caller,
        ZoneTaskType::Import,
        &headers,
        &uri,
        raw.as_deref(),
    )
}

pub async fn show_import(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    show_task(&api, &caller, &headers, ZoneTaskType::Import, &id)
}

pub async fn delete_import(
    State(api): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    delete_task(&api, &caller, ZoneTaskType::Import, &id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_files_are_read_as_designate_reads_them() {
        let text = "$ORIGIN example.org.\n$TTL 300\nexample.org. IN SOA ns1.example.org. admin.example.org. 1 3600 600 86400 300\nexample.org. IN NS ns1.example.net.\nwww IN A 192.0.2.50\nmail 600 IN MX 10 mx.example.org.\ntxt IN TXT \"a b\" \"c\"\nsub IN NS ns.other.net.\n";
        let imported = parse_zonefile(text, 0).unwrap();
        assert_eq!(imported.zone.name, "example.org.");
        assert_eq!(imported.zone.email.as_deref(), Some("admin@example.org"));
        assert_eq!(imported.zone.ttl, Some(300));
        let mut sets: Vec<(String, String, Option<i64>, Vec<String>)> = imported
            .recordsets
            .into_iter()
            .map(|rs| (rs.name, rs.type_, rs.ttl, rs.records))
            .collect();
        sets.sort();
        assert_eq!(
            sets,
            vec![
                (
                    "mail.example.org.".into(),
                    "MX".into(),
                    Some(600),
                    vec!["10 mx.example.org.".into()]
                ),
                (
                    "sub.example.org.".into(),
                    "NS".into(),
                    Some(300),
                    vec!["ns.other.net.".into()]
                ),
                (
                    "txt.example.org.".into(),
                    "TXT".into(),
                    Some(300),
                    vec!["\"a b\" \"c\"".into()]
                ),
                (
                    "www.example.org.".into(),
                    "A".into(),
                    Some(300),
                    vec!["192.0.2.50".into()]
                ),
            ]
        );
    }

    #[test]
    fn underscores_are_read_where_dnspython_reads_them() {
        let text = "$ORIGIN My_Zone.org.\nMy_Zone.org. 300 IN SOA ns.my_zone.org. a_b.my_zone.org. 1 2 3 4 5\n_sip._tcp 300 IN SRV 10 60 5060 sip_host.my_zone.org.\nt 300 IN TXT \"k=a_b\"\n";
        let imported = parse_zonefile(text, 0).unwrap();
        assert_eq!(imported.zone.name, "My_Zone.org.");
        assert_eq!(imported.zone.email.as_deref(), Some("a_b@my_zone.org"));
        let mut sets: Vec<(String, Vec<String>)> = imported
            .recordsets
            .into_iter()
            .map(|rs| (rs.name, rs.records))
            .collect();
        sets.sort();
        assert_eq!(
            sets,
            vec![
                (
                    "_sip._tcp.My_Zone.org.".into(),
                    vec!["10 60 5060 sip_host.my_zone.org.".into()]
                ),
                ("t.My_Zone.org.".into(), vec!["\"k=a_b\"".into()]),
            ]
        );
    }

    #[test]
    fn bad_zone_files_get_designates_messages() {
        assert_eq!(
            parse_zonefile("this is not a zone file\n", 0),
            Err(NO_ORIGIN)
        );
        assert_eq!(parse_zonefile("", 0), Err(NO_ORIGIN));
        assert_eq!(
            parse_zonefile("$ORIGIN a.org.\n$INCLUDE /etc/passwd\n", 0),
            Err(MALFORMED)
        );
        assert_eq!(
            parse_zonefile("$ORIGIN a.org.\na.org. 300 IN A 192.0.2.1\n", 0),
            Err("An SOA record is required.")
        );
        assert_eq!(
            parse_zonefile(
                "$ORIGIN a.org.\na.org. zahlabut IN SOA ns. admin. 1 2 3 4 5\n",
                0
            ),
            Err(MALFORMED)
        );
    }

    #[test]
    fn soa_rnames_become_emails() {
        assert_eq!(email_of("admin.example.org."), "admin@example.org");
        assert_eq!(
            email_of("first\\.last.example.org."),
            "first.last@example.org"
        );
    }
}
