//! `/v2/service_statuses`: Designate's service heartbeats, read from the
//! `coordination.k8s.io/v1` Leases each role instance renews in the
//! operator's namespace (as Kubernetes nodes heartbeat). One Lease per
//! role and host, as Designate keeps one row per `(service_name,
//! hostname)`; its uid is the status's id.
//!
//! A Lease is `UP` while its last renewal is younger than its
//! `leaseDurationSeconds`, `DOWN` after: an instance that stopped or was
//! killed shows `DOWN` once its timeout passed.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use designate_identity::policy::Target;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::list::{self, Collection, Query};
use crate::render::{Links, datetime};
use crate::zones::{check_uuid, list_answer, query_pairs};
use crate::{Shared, base_url};

/// The label that marks a Lease as a service heartbeat; its value is the
/// service name (`api`, `central`, `worker`, `producer`, `mdns`).
pub const SERVICE_LABEL: &str = "designate.openstack.org/service";
/// The host name the instance reports (Designate's `[DEFAULT] host`).
pub const HOSTNAME_ANNOTATION: &str = "designate.openstack.org/hostname";
/// JSON objects the instance reports, Designate's `stats` and
/// `capabilities` (`{}` when absent).
pub const STATS_ANNOTATION: &str = "designate.openstack.org/stats";
pub const CAPABILITIES_ANNOTATION: &str = "designate.openstack.org/capabilities";

/// `ServiceStatusController`'s sort keys and filters.
pub const SERVICE_STATUSES: Collection = Collection {
    sort_keys: &[
        "created_at",
        "id",
        "updated_at",
        "hostname",
        "service_name",
        "status",
    ],
    filters: &["hostname", "service_name", "status"],
};

/// The `service_statuses.status` ENUM, in its declared order.
const STATES: &[&str] = &["UP", "DOWN", "WARNING", "STOPPED"];

/// A heartbeat as Designate's storage would hold it.
#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    pub id: String,
    pub service_name: String,
    pub hostname: String,
    pub status: &'static str,
    /// Last renewal, to the second (Designate's `DateTime` column).
    pub heartbeated_at: Option<Timestamp>,
    pub created_at: Option<Timestamp>,
}

/// Whole seconds: Designate's columns keep no fraction.
fn to_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// `UP` while the last renewal is within the lease's duration; a lease
/// without either is `DOWN` (nothing says the instance is alive).
pub fn status_at(
    renewed: Option<Timestamp>,
    duration_seconds: Option<i32>,
    now: Timestamp,
) -> &'static str {
    match (renewed, duration_seconds) {
        (Some(renewed), Some(seconds)) if seconds > 0 => {
            let age = now.as_millisecond() - renewed.as_millisecond();
            if age <= i64::from(seconds) * 1000 {
                "UP"
            } else {
                "DOWN"
            }
        }
        _ => "DOWN",
    }
}

impl Heartbeat {
    /// The heartbeat a labelled Lease carries, as of `now`.
    pub fn of(lease: &Lease, now: Timestamp) -> Option<Self> {
        let service_name = lease.labels().get(SERVICE_LABEL)?.clone();
        let spec = lease.spec.as_ref();
        let renewed = spec.and_then(|s| s.renew_time.as_ref()).map(|t| t.0);
        let duration = spec.and_then(|s| s.lease_duration_seconds);
        let hostname = lease
            .annotations()
            .get(HOSTNAME_ANNOTATION)
            .cloned()
            .or_else(|| {
                spec.and_then(|s| s.holder_identity.as_deref())
                    .map(|h| h.rsplit_once('_').map_or(h, |(host, _)| host).to_string())
            })
            .unwrap_or_default();
        Some(Self {
            id: lease.metadata.uid.clone().unwrap_or_default(),
            service_name,
            hostname,
            // Released by a graceful stop (no holder): STOPPED.
            status: match spec.and_then(|s| s.holder_identity.as_deref()) {
                None | Some("") => "STOPPED",
                Some(_) => status_at(renewed, duration, now),
            },
            heartbeated_at: renewed.map(to_second),
            created_at: lease.metadata.creation_timestamp.as_ref().map(|t| t.0),
        })
    }
}

/// A JSON object from an annotation; `{}` when absent or not an object.
fn object_annotation(lease: &Lease, key: &str) -> Map<String, Value> {
    lease
        .annotations()
        .get(key)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// A service status as Designate renders it.
#[derive(Serialize)]
struct StatusJson {
    id: String,
    hostname: String,
    service_name: String,
    status: &'static str,
    stats: Map<String, Value>,
    capabilities: Map<String, Value>,
    heartbeated_at: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    links: Links,
}

fn render(lease: &Lease, heartbeat: Heartbeat, base: &str) -> StatusJson {
    let shown = |t: Timestamp| datetime(&Time(t));
    let heartbeated_at = heartbeat.heartbeated_at.map(shown);
    StatusJson {
        links: Links {
            self_: format!("{base}/v2/service_statuses/{}", heartbeat.id),
        },
        stats: object_annotation(lease, STATS_ANNOTATION),
        capabilities: object_annotation(lease, CAPABILITIES_ANNOTATION),
        created_at: heartbeat.created_at.map(|t| shown(to_second(t))),
        // Each heartbeat updates Designate's row.
        updated_at: heartbeated_at.clone(),
        heartbeated_at,
        id: heartbeat.id,
        hostname: heartbeat.hostname,
        service_name: heartbeat.service_name,
        status: heartbeat.status,
    }
}

/// A heartbeat as lists filter and sort it.
struct View(Arc<Lease>, Heartbeat);

impl list::Listed for View {
    fn id(&self) -> &str {
        &self.1.id
    }

    fn field(&self, key: &str) -> list::Field<'_> {
        let micros = |t: Option<Timestamp>| list::Field::Int(t.map(|t| t.as_microsecond()));
        match key {
            "id" => list::Field::Text(Some(&self.1.id)),
            "hostname" => list::Field::Text(Some(&self.1.hostname)),
            "service_name" => list::Field::Text(Some(&self.1.service_name)),
            "status" => list::Field::Enum(self.1.status, STATES),
            "created_at" => micros(self.1.created_at),
            "updated_at" => micros(self.1.heartbeated_at),
            _ => list::Field::Text(None),
        }
    }
}

pub async fn list(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    uri: OriginalUri,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(&query_pairs(raw.as_deref()), &SERVICE_STATUSES)?;
    caller.require("find_service_statuses", &Target::new())?;
    let now = Timestamp::now();
    let views: Vec<View> = api
        .cache
        .leases
        .all()
        .into_iter()
        .filter_map(|lease| Heartbeat::of(&lease, now).map(|h| View(lease, h)))
        .collect();
    let page = list::page(views, &query)?;
    let base = base_url(&headers);
    let next = page
        .full
        .then(|| page.items.last().map(|v| v.1.id.clone()))
        .flatten();
    let items: Vec<StatusJson> = page
        .items
        .into_iter()
        .map(|View(lease, heartbeat)| render(&lease, heartbeat, &base))
        .collect();
    Ok(list_answer(
        "service_statuses",
        items,
        next.as_deref(),
        None,
        &headers,
        &uri,
    ))
}

pub async fn show(
    State(api): Shared,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_uuid("service_id", &id)?;
    caller.require("find_service_status", &Target::new())?;
    let not_found = || {
        ApiError::new(
            404,
            "service_status_not_found",
            "Could not find ServiceStatus",
        )
    };
    let lease = api.cache.leases.get(&id).ok_or_else(not_found)?;
    let heartbeat = Heartbeat::of(&lease, Timestamp::now()).ok_or_else(not_found)?;
    Ok(axum::Json(render(&lease, heartbeat, &base_url(&headers))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn lease(renewed: i64, duration: i32) -> Lease {
        let mut lease = Lease::default();
        lease.metadata.uid = Some("925968f7-9c5a-4cf6-af75-5ac4211d2f50".into());
        lease.metadata.creation_timestamp = Some(Time(at(1_000)));
        lease
            .labels_mut()
            .insert(SERVICE_LABEL.into(), "central".into());
        lease.spec = Some(LeaseSpec {
            holder_identity: Some("vm_4242".into()),
            lease_duration_seconds: Some(duration),
            renew_time: Some(MicroTime(
                Timestamp::from_millisecond(renewed * 1000 + 250).unwrap(),
            )),
            ..LeaseSpec::default()
        });
        lease
    }

    #[test]
    fn up_within_the_lease_duration_down_after() {
        assert_eq!(status_at(Some(at(100)), Some(30), at(130)), "UP");
        assert_eq!(status_at(Some(at(100)), Some(30), at(131)), "DOWN");
        // A clock a little behind the writer's is still UP.
        assert_eq!(status_at(Some(at(100)), Some(30), at(99)), "UP");
        assert_eq!(status_at(None, Some(30), at(100)), "DOWN");
        assert_eq!(status_at(Some(at(100)), None, at(100)), "DOWN");
    }

    #[test]
    fn a_lease_renders_as_designates_service_status() {
        let lease = lease(2_000, 30);
        let heartbeat = Heartbeat::of(&lease, at(2_010)).unwrap();
        let shown = serde_json::to_value(render(&lease, heartbeat, "http://h")).unwrap();
        assert_eq!(
            shown,
            serde_json::json!({
                "id": "925968f7-9c5a-4cf6-af75-5ac4211d2f50",
                "hostname": "vm",
                "service_name": "central",
                "status": "UP",
                "stats": {},
                "capabilities": {},
                "heartbeated_at": "1970-01-01T00:33:20.000000",
                "created_at": "1970-01-01T00:16:40.000000",
                "updated_at": "1970-01-01T00:33:20.000000",
                "links": {"self": "http://h/v2/service_statuses/925968f7-9c5a-4cf6-af75-5ac4211d2f50"},
            })
        );
        let later = Heartbeat::of(&lease, at(2_031)).unwrap();
        assert_eq!(later.status, "DOWN");
    }

    #[test]
    fn unlabelled_leases_are_no_service() {
        let mut lease = lease(0, 1);
        lease.labels_mut().clear();
        assert_eq!(Heartbeat::of(&lease, at(0)), None);
    }
}
