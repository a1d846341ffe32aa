//! Watches that go on past objects the operator cannot decode.
//!
//! An object stored before a CRD's schema was tightened, or written for a
//! newer operator, would otherwise fail every list of its kind and stop its
//! controller. It is left out of the caches instead, and reported: a log
//! line always; from the one watch of each kind that reports, a Warning
//! Event `Undecodable` and a `Ready` condition saying so.

use std::fmt::Debug;

use designate_crd::copies::Copies;
use designate_crd::grant::{self, GrantKey};
use designate_crd::lenient::{Lenient, Undecodable, decoded};
use futures::{Stream, StreamExt, TryStreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef, reflector};
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher::Config};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::{debug, warn};

use crate::FIELD_MANAGER;
use crate::events::{Note, Recorder};

/// The condition reason, Event reason and log word for such an object.
pub(crate) const UNDECODABLE: &str = "Undecodable";

/// What a watch does with an object it cannot decode, besides leaving it
/// out.
#[derive(Clone)]
pub(crate) enum Reporting {
    /// Logs it: another watch of the kind reports it.
    Log,
    /// Logs it, writes an Event and its condition.
    Report(Client),
}

/// Every object of kind `K` that `config` selects, decoded one by one,
/// without managedFields. Kinds with Designate ids (Zone, Recordset) pass
/// the grant key: an id annotation it did not sign is dropped here, for
/// every reader after.
pub(crate) fn watch<K>(
    client: &Client,
    config: Config,
    reporting: Reporting,
    ids: Option<GrantKey>,
) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let api = Api::<Lenient<K>>::all(client.clone());
    decoded(
        move || watcher::watcher(api.clone(), config.clone()).default_backoff(),
        move |bad: &Undecodable| report::<K>(bad, &reporting),
    )
    .map_ok(move |event| {
        event.modify(|object| {
            // Never read, and on a real API server the bulk of small
            // objects: not kept in the caches.
            object.meta_mut().managed_fields = None;
            if grant::drop_unsigned_id(ids.as_ref(), object) {
                warn!(kind = %K::kind(&()), name = object.meta().name.as_deref().unwrap_or_default(), "an id annotation the operator did not sign is ignored");
            }
        })
    })
}

/// A controller of `K` whose watch goes on past undecodable objects and
/// reports them; its store keeps the `copies` other watches share. The
/// objects the watch applied come back, to be made [`requests`] for the
/// controller's [`Admission`](crate::admission::Admission) with its other
/// triggers.
pub(crate) fn controller<K>(
    client: &Client,
    config: Config,
    ids: Option<GrantKey>,
    copies: Copies<K>,
) -> (
    Controller<K>,
    impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource<DynamicType = ()>
        + Clone
        + Serialize
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    copies.keep_store(reader.clone());
    let store = reader.clone();
    let changes = reflector(
        writer,
        watch(client, config, Reporting::Report(client.clone()), ids),
    )
    .inspect_ok(move |event| copies.applied(event, &store))
    .applied_objects();
    // Every request comes through the admission, the watch's among them.
    (
        Controller::for_stream(futures::stream::pending(), reader),
        changes,
    )
}

/// A digest of what an object says besides its status and version: a
/// change of its status alone (a controller's own write, a count) is no
/// reason to act on it.
pub(crate) fn besides_status<K: Serialize>(object: &K) -> Option<u64> {
    let mut value = serde_json::to_value(object).ok()?;
    let fields = value.as_object_mut()?;
    fields.remove("status");
    if let Some(metadata) = fields.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
        metadata.remove("managedFields");
    }
    Some(crate::fnv1a(value.to_string().as_bytes()))
}

/// The objects a watch applied, as requests for their controller; its
/// errors logged (the watch retries after them, with backoff).
pub(crate) fn requests<K>(
    objects: impl Stream<Item = Result<K, watcher::Error>>,
) -> impl Stream<Item = ObjectRef<K>>
where
    K: Resource<DynamicType = ()>,
{
    objects.filter_map(|object| {
        futures::future::ready(match object {
            Ok(object) => Some(ObjectRef::from_obj(&object)),
            Err(error) => {
                debug!(kind = %K::kind(&()), %error, "watch failed");
                None
            }
        })
    })
}

fn report<K>(bad: &Undecodable, reporting: &Reporting)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let kind = K::kind(&());
    warn!(%kind, reason = UNDECODABLE, "{bad}; left out until it is fixed");
    let Reporting::Report(client) = reporting else {
        return;
    };
    let message = format!(
        "the operator cannot read this {kind}: {}; it is left out until it is fixed",
        bad.error
    );
    Recorder::new(client.clone())
        .publish_about::<K>(&bad.metadata, Note::warning(UNDECODABLE, message.clone()));
    // Dynamic: the object cannot be read back as `K` either.
    let resource = ApiResource::erase::<K>(&());
    let api: Api<DynamicObject> = match &bad.metadata.namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let name = bad.metadata.name.clone().unwrap_or_default();
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": kind,
        "status": {"conditions": [Condition {
            type_: "Ready".into(),
            status: "False".into(),
            reason: UNDECODABLE.into(),
            message,
            last_transition_time: Time(Timestamp::now()),
            observed_generation: bad.metadata.generation,
        }]},
    });
    tokio::spawn(async move {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        if let Err(error) = api
            .patch_status(&name, &params, &Patch::Apply(&patch))
            .await
        {
            // Kinds without a status, or a status the schema refuses.
            debug!(%error, "condition not written");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_crd::{Pool, PoolSpec, PoolStatus};

    fn pool() -> Pool {
        let mut pool = Pool::new("default", PoolSpec::default());
        pool.metadata.resource_version = Some("1".into());
        pool
    }

    #[test]
    fn a_change_of_status_or_version_alone_is_no_change() {
        let before = pool();
        let mut after = before.clone();
        after.metadata.resource_version = Some("2".into());
        after.status = Some(PoolStatus {
            zone_count: Some(7),
            ..Default::default()
        });
        assert_eq!(besides_status(&before), besides_status(&after));
    }

    #[test]
    fn a_change_of_spec_or_metadata_is_one() {
        let before = pool();
        let mut described = before.clone();
        described.spec.description = Some("the pool".into());
        let mut finalized = before.clone();
        finalized.metadata.finalizers = Some(vec!["x/y".into()]);
        for after in [described, finalized] {
            assert_ne!(besides_status(&before), besides_status(&after));
        }
    }
}
