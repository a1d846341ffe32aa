//! `/v2/quotas`: Designate's per-project quotas, kept as cluster-scoped
//! `Quota` objects (one per project; a tenant cannot write them). A limit a
//! project has no object for, or its object leaves unset, is the configured
//! default; `DELETE` (reset) removes the object.
//!
//! Designate's order: `PATCH` reads the body, checks the project with
//! Keystone (`quotas_verify_project_id`), parses the quotas, then checks
//! `set_quota` once per quota and `get_quotas` for the answer; a caller
//! not spanning all projects reaches only its own (sudo) project's quotas,
//! except for a reset, which only its policy guards.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use designate_central::{Config, Quotas};
use designate_crd::{QUOTA_MAX, QUOTA_MIN, Quota, QuotaSpec, effective_quotas, names};
use designate_identity::policy::{Target, Value as PolicyValue};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::cache::FIELD_MANAGER;
use crate::error::ApiError;
use crate::fields::{coerce_int, value_error};
use crate::{Api, Shared, body};

/// Designate's quota resources (`VALID_QUOTAS`), in the order it renders
/// them (its defaults' order).
const RESOURCES: [&str; 5] = [
    "zones",
    "zone_recordsets",
    "zone_records",
    "recordset_records",
    "api_export_size",
];

/// A project's quotas as Designate renders them.
#[derive(Debug, PartialEq, Serialize)]
pub struct QuotasJson {
    zones: i64,
    zone_recordsets: i64,
    zone_records: i64,
    recordset_records: i64,
    api_export_size: i64,
}

impl From<Quotas> for QuotasJson {
    fn from(q: Quotas) -> Self {
        Self {
            zones: q.zones,
            zone_recordsets: q.zone_recordsets,
            zone_records: q.zone_records,
            recordset_records: q.recordset_records,
            api_export_size: q.api_export_size,
        }
    }
}

impl Api {
    /// A project's effective quotas: its `Quota` objects over the
    /// configured defaults.
    pub fn project_quotas(&self, project: &str) -> Quotas {
        let objects = self.cache.quotas.tree_named(project);
        if objects.len() > 1 {
            tracing::warn!(
                project,
                objects = objects.len(),
                "several Quota objects name one project; the stricter limits apply"
            );
        }
        effective_quotas(
            objects.iter().map(|q| &q.spec),
            self.settings.central.quotas,
        )
    }

    fn quota_api(&self) -> kube::Api<Quota> {
        kube::Api::all(self.client.clone())
    }
}

/// `cfg` with `project`'s quotas: what Central checks a write of that
/// project against. Borrowed as given when they are the same.
pub(crate) fn for_project<'a>(api: &Api, cfg: Cow<'a, Config>, project: &str) -> Cow<'a, Config> {
    let quotas = api.project_quotas(project);
    if cfg.quotas == quotas {
        return cfg;
    }
    let mut cfg = cfg.into_owned();
    cfg.quotas = quotas;
    Cow::Owned(cfg)
}

/// `Quota.hard_limit`: `IntegerFields(nullable=True, minimum=-1,
/// maximum=2147483647)`, whose `coerce()` is Python's `int()`.
fn hard_limit(value: &Value) -> Result<i64, ApiError> {
    // Designate stores NULL into a NOT NULL column and answers 500:
    // refuse it as the bad input it is.
    let limit =
        coerce_int(value)?.ok_or_else(|| value_error("Field `hard_limit' cannot be None"))?;
    if limit < QUOTA_MIN {
        return Err(value_error(&format!(
            "Value must be >= {QUOTA_MIN} for field hard_limit"
        )));
    }
    if limit > QUOTA_MAX {
        return Err(value_error("Value too high for hard_limit"));
    }
    Ok(limit)
}

/// `QuotaListAPIv2Adapter.parse_list`: each key a quota resource, each
/// value its hard limit, in the body's order.
fn parse(body: &Map<String, Value>) -> Result<Vec<(&'static str, i64)>, ApiError> {
    body.iter()
        .map(|(key, value)| {
            let resource = RESOURCES
                .iter()
                .find(|r| **r == key)
                .ok_or_else(|| value_error(&format!("Field value {key} is invalid")))?;
            Ok((*resource, hard_limit(value)?))
        })
        .collect()
}

/// The spec fields (camelCase) the quotas set.
fn spec_patch(quotas: &[(&'static str, i64)]) -> Map<String, Value> {
    quotas
        .iter()
        .map(|(resource, limit)| {
            let field = match *resource {
                "zones" => "zones",
                "zone_recordsets" => "zoneRecordsets",
                "zone_records" => "zoneRecords",
                "recordset_records" => "recordsetRecords",
                _ => "apiExportSize",
            };
            (field.to_string(), json!(limit))
        })
        .collect()
}

/// Central's target for a quota check of `project`.
fn target(project: &str) -> Target {
    Target::from([
        ("project_id", PolicyValue::Str(project.to_string())),
        ("tenant_id", PolicyValue::Str(project.to_string())),
    ])
}

/// Central's `get_quotas`: its policy, then only the caller's own project
/// unless it spans all projects.
fn check_get(caller: &Caller, project: &str) -> Result<(), ApiError> {
    let mut target = target(project);
    target.insert("all_tenants", PolicyValue::Bool(caller.all_projects));
    caller.require("get_quotas", &target)?;
    own_or_all(caller, project)
}

/// Designate raises a bare `Forbidden()` here: no message.
fn own_or_all(caller: &Caller, project: &str) -> Result<(), ApiError> {
    if project != caller.project && !caller.all_projects {
        tracing::info!(project, caller = %caller.project, "another project's quotas");
        return Err(ApiError::bare(403, "forbidden"));
    }
    Ok(())
}

fn answer(api: &Api, project: &str) -> Response {
    axum::Json(QuotasJson::from(api.project_quotas(project))).into_response()
}

/// `GET /v2/quotas`: the caller's own project's quotas.
pub async fn show_own(State(api): Shared, caller: Caller) -> Result<Response, ApiError> {
    let project = caller.project.clone();
    check_get(&caller, &project)?;
    Ok(answer(&api, &project))
}

/// `GET /v2/quotas/{project_id}`.
pub async fn show(
    State(api): Shared,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<Response, ApiError> {
    check_get(&caller, &project)?;
    Ok(answer(&api, &project))
}

/// `PATCH /v2/quotas/{project_id}`: sets the limits given.
pub async fn update(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(project): Path<String>,
    payload: Bytes,
) -> Result<Response, ApiError> {
    let body = body::json(&headers, &payload)?;
    // `quotas_verify_project_id`: a project the identity service does not
    // know gets no quotas. Designate asks with the caller's token, which
    // only lets those who may set quotas learn whether a project exists;
    // we ask with the service user's, so only for them.
    if caller.allowed("set_quota", &target(&project))
        && let Err(refused) = api.verify_project(&project).await
    {
        return Ok(refused);
    }
    let quotas = parse(&body::into_object(body)?)?;
    for (resource, limit) in &quotas {
        let mut target = target(&project);
        target.insert("resource", PolicyValue::Str((*resource).to_string()));
        target.insert("hard_limit", PolicyValue::Str(limit.to_string()));
        caller.require("set_quota", &target)?;
        own_or_all(&caller, &project)?;
    }
    if !quotas.is_empty() {
        set(&api, &project, spec_patch(&quotas)).await?;
    }
    check_get(&caller, &project)?;
    Ok(answer(&api, &project))
}

/// Writes `spec` into the project's Quota objects, or a new one.
async fn set(api: &Api, project: &str, spec: Map<String, Value>) -> Result<(), ApiError> {
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    let patch = json!({ "spec": spec });
    let mut objects = api.cache.quotas.tree_named(project);
    if objects.is_empty() {
        let mut fields = spec.clone();
        fields.insert("projectId".into(), json!(project));
        let spec: QuotaSpec =
            serde_json::from_value(Value::Object(fields)).map_err(ApiError::unknown)?;
        let mut quota = Quota::new(&names::quota(project), spec);
        let post = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        match api.quota_api().create(&post, &quota).await {
            Ok(made) => {
                wait(api, &made).await;
                return Ok(());
            }
            // Made by a concurrent first write (not mirrored yet), or the
            // name is another project's: look at it.
            Err(kube::Error::Api(e)) if e.code == 409 => {
                let name = quota.name_any();
                let held = api.quota_api().get(&name).await?;
                if held.spec.project_id == project {
                    objects = vec![Arc::new(held)];
                } else {
                    quota.metadata.name = None;
                    quota.metadata.generate_name = Some("quota-".into());
                    let made = api.quota_api().create(&post, &quota).await?;
                    wait(api, &made).await;
                    return Ok(());
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    for object in objects {
        let patched = api
            .quota_api()
            .patch(&object.name_any(), &params, &Patch::Merge(&patch))
            .await?;
        wait(api, &patched).await;
    }
    Ok(())
}

async fn wait(api: &Api, quota: &Quota) {
    api.cache
        .quotas
        .wait_for(
            quota.meta().uid.as_deref().unwrap_or_default(),
            quota.meta().resource_version.as_deref(),
        )
        .await;
}

/// `DELETE /v2/quotas/{project_id}`: back to the defaults.
pub async fn reset(
    State(api): Shared,
    caller: Caller,
    Path(project): Path<String>,
) -> Result<Response, ApiError> {
    caller.require("reset_quotas", &target(&project))?;
    for quota in api.cache.quotas.tree_named(&project) {
        match api
            .quota_api()
            .delete(&quota.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(error) => return Err(error.into()),
        }
        api.cache
            .quotas
            .wait_for_delete(quota.meta().uid.as_deref().unwrap_or_default(), None)
            .await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        let body: Map<String, Value> = serde_json::from_str(body).unwrap();
        parse(&body).unwrap_err().message.unwrap_or_default()
    }

    #[test]
    fn limits_are_read_as_pythons_int_reads_them() {
        let body: Map<String, Value> = serde_json::from_str(
            r#"{"zones": 7, "zone_records": " 12 ", "recordset_records": true,
                "zone_recordsets": 9.9, "api_export_size": "-1"}"#,
        )
        .unwrap();
        let mut parsed = parse(&body).unwrap();
        parsed.sort();
        assert_eq!(
            parsed,
            [
                ("api_export_size", -1),
                ("recordset_records", 1),
                ("zone_records", 12),
                ("zone_recordsets", 9),
                ("zones", 7)
            ]
        );
        assert_eq!(crate::fields::py_int("1_000"), Some(1000));
        for bad in ["", "7.5", "_1", "1__0", "1_", "0x10", "- 1", "lots"] {
            assert_eq!(crate::fields::py_int(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_quotas_get_designates_messages() {
        // The golden recording's case.
        assert_eq!(
            message(r#"{"zones": "lots"}"#),
            "Provided object is not valid. Got a ValueError error with message invalid literal for int() with base 10: 'lots'"
        );
        assert_eq!(
            message(r#"{"zones": "it's"}"#),
            "Provided object is not valid. Got a ValueError error with message invalid literal for int() with base 10: \"it's\""
        );
        assert_eq!(
            message(r#"{"bogus": 1}"#),
            "Provided object is not valid. Got a ValueError error with message Field value bogus is invalid"
        );
        assert_eq!(
            message(r#"{"zones": -2}"#),
            "Provided object is not valid. Got a ValueError error with message Value must be >= -1 for field hard_limit"
        );
        assert_eq!(
            message(r#"{"zones": 2147483648}"#),
            "Provided object is not valid. Got a ValueError error with message Value too high for hard_limit"
        );
        assert_eq!(
            message(r#"{"zones": "99999999999999999999999"}"#),
            "Provided object is not valid. Got a ValueError error with message Value too high for hard_limit"
        );
        assert_eq!(
            message(r#"{"zones": [1]}"#),
            "Provided object is not valid. Got a TypeError with message int() argument must be a string, a bytes-like object or a real number, not 'list'"
        );
        assert_eq!(
            parse(&serde_json::from_str(r#"{"zones": null}"#).unwrap())
                .unwrap_err()
                .code,
            400
        );
        assert!(parse(&Map::new()).unwrap().is_empty());
    }

    #[test]
    fn answers_list_the_resources_in_designates_order() {
        let text = serde_json::to_string(&QuotasJson::from(Quotas::default())).unwrap();
        assert_eq!(
            text,
            r#"{"zones":10,"zone_recordsets":500,"zone_records":500,"recordset_records":20,"api_export_size":1000}"#
        );
    }

    #[test]
    fn spec_fields_are_the_crds() {
        let patch = spec_patch(&[("zone_recordsets", 5), ("api_export_size", -1)]);
        assert_eq!(
            Value::Object(patch),
            json!({"zoneRecordsets": 5, "apiExportSize": -1})
        );
    }

    #[test]
    fn object_names_are_the_project_or_a_hash() {
        assert_eq!(names::quota("noauth-project"), "noauth-project");
        assert_eq!(
            names::quota("0123456789abcdef0123456789abcdef"),
            "0123456789abcdef0123456789abcdef"
        );
        let upper = names::quota("Project_X");
        assert!(upper.starts_with("quota-"), "{upper}");
        assert_ne!(upper, names::quota("project_x"));
    }
}
