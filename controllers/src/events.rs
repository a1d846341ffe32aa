//! Kubernetes Events on Zones and Recordsets, so that `kubectl describe`
//! tells their story: one Event each time the Ready condition changes
//! reason or a new serial is published (published, served, refused with
//! the reason, propagation timeout), and `Healed` when a zone a nameserver
//! lost is provisioned again. They are core/v1 Events (what `kubectl
//! describe` lists), written in the background: an Event that cannot be
//! written is logged and costs nothing else.

use designate_crd::{RecordsetStatus, ResourceStatus, ZoneStatus};
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client, Resource};
use tracing::debug;

use crate::FIELD_MANAGER;

/// One Event to write: its type (`Normal`, `Warning`), reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Note {
    pub type_: &'static str,
    pub reason: String,
    pub message: String,
}

impl Note {
    pub fn normal(reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_: "Normal",
            reason: reason.to_string(),
            message: message.into(),
        }
    }

    pub fn warning(reason: &str, message: impl Into<String>) -> Self {
        Self {
            type_: "Warning",
            ..Self::normal(reason, message)
        }
    }
}

/// Where an object stands, as far as its Events go.
pub(crate) struct Standing<'a> {
    pub serial: Option<i64>,
    pub ready: Option<&'a Condition>,
    /// Whether its status is ERROR.
    pub failed: bool,
}

impl<'a> Standing<'a> {
    pub fn new(serial: Option<i64>, conditions: &'a [Condition], failed: bool) -> Self {
        Self {
            serial,
            ready: conditions.iter().find(|c| c.type_ == "Ready"),
            failed,
        }
    }
}

impl<'a> From<&'a ZoneStatus> for Standing<'a> {
    fn from(status: &'a ZoneStatus) -> Self {
        let failed = status.status == Some(ResourceStatus::Error);
        Self::new(status.serial, &status.conditions, failed)
    }
}

impl<'a> From<&'a RecordsetStatus> for Standing<'a> {
    fn from(status: &'a RecordsetStatus) -> Self {
        let failed = status.status == Some(ResourceStatus::Error);
        Self::new(status.serial, &status.conditions, failed)
    }
}

/// The Event a status change deserves, if any (pure): the new Ready
/// reason and message, when the reason or the serial changed; reasons in
/// `quiet` (steps too small to tell) make none.
pub(crate) fn transition(before: &Standing, after: &Standing, quiet: &[&str]) -> Option<Note> {
    let ready = after.ready?;
    let reason_before = before.ready.map(|c| c.reason.as_str());
    if reason_before == Some(ready.reason.as_str()) && before.serial == after.serial {
        return None;
    }
    if quiet.contains(&ready.reason.as_str()) {
        return None;
    }
    Some(Note {
        type_: if after.failed { "Warning" } else { "Normal" },
        reason: ready.reason.clone(),
        message: ready.message.clone(),
    })
}

/// Writes Events for the controllers.
#[derive(Clone)]
pub(crate) struct Recorder {
    client: Client,
}

impl Recorder {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Writes `note` about `object` in the background.
    pub fn publish<K>(&self, object: &K, note: Note)
    where
        K: Resource<DynamicType = ()>,
    {
        self.publish_about::<K>(object.meta(), note);
    }

    /// Writes `note` about the object of kind `K` that `meta` describes.
    pub fn publish_about<K>(&self, meta: &ObjectMeta, note: Note)
    where
        K: Resource<DynamicType = ()>,
    {
        let name = meta.name.clone().unwrap_or_default();
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
        let now = Time(Timestamp::now());
        let event = Event {
            metadata: ObjectMeta {
                // As client-go names them: the object, then a unique suffix.
                name: Some(format!("{name}.{:x}", now.0.as_nanosecond())),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some(K::api_version(&()).into_owned()),
                kind: Some(K::kind(&()).into_owned()),
                name: Some(name),
                namespace: meta.namespace.clone(),
                uid: meta.uid.clone(),
                resource_version: meta.resource_version.clone(),
                ..ObjectReference::default()
            },
            type_: Some(note.type_.to_string()),
            reason: Some(note.reason),
            message: Some(note.message),
            source: Some(EventSource {
                component: Some(FIELD_MANAGER.to_string()),
                host: None,
            }),
            reporting_component: Some(FIELD_MANAGER.to_string()),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            count: Some(1),
            ..Event::default()
        };
        let api = Api::<Event>::namespaced(self.client.clone(), &namespace);
        tokio::spawn(async move {
            if let Err(error) = api.create(&PostParams::default(), &event).await {
                debug!(%error, "event not written");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(reason: &str, message: &str) -> Condition {
        Condition {
            type_: "Ready".into(),
            status: "False".into(),
            reason: reason.into(),
            message: message.into(),
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
            observed_generation: None,
        }
    }

    #[test]
    fn an_event_for_each_new_reason_or_serial() {
        let waiting = [ready("WaitingForNameservers", "serial 1 is published")];
        let served = [ready("Published", "serial 1 is served")];
        let served_2 = [ready("Published", "serial 2 is served")];
        let refused = [ready("InvalidTLD", "Invalid TLD")];
        let none = Standing::new(None, &[], false);
        let quiet = ["WaitingForNameservers"];
        assert_eq!(
            transition(&none, &Standing::new(Some(1), &waiting, false), &quiet),
            None,
            "a quiet step"
        );
        let note = transition(
            &Standing::new(Some(1), &waiting, false),
            &Standing::new(Some(1), &served, false),
            &quiet,
        );
        assert_eq!(note, Some(Note::normal("Published", "serial 1 is served")),);
        assert_eq!(
            transition(
                &Standing::new(Some(1), &served, false),
                &Standing::new(Some(1), &served, false),
                &quiet
            ),
            None,
            "nothing changed"
        );
        assert!(
            transition(
                &Standing::new(Some(1), &served, false),
                &Standing::new(Some(2), &served_2, false),
                &quiet
            )
            .is_some(),
            "a new serial"
        );
        let warning = transition(&none, &Standing::new(None, &refused, true), &quiet).unwrap();
        assert_eq!(
            (warning.type_, warning.reason.as_str()),
            ("Warning", "InvalidTLD")
        );
    }
}
