//! The records the Sink manages, as Recordsets in the zone's namespace:
//! one object per (name, type), named from them, labelled as the Sink's,
//! with an annotation saying which resource (`instance/<id>`,
//! `floatingip/<id>`) owns which of its records. A resource's delete
//! removes only its own records (two instances may share a name), and the
//! object once none is left.
//!
//! [`with_record`] and [`without_resource`] are pure; [`Writer`] applies
//! them with optimistic concurrency (a write that lost a race is planned
//! again). Both are idempotent: a redelivered notification changes
//! nothing twice.

use std::collections::BTreeMap;

use designate_crd::{FloatingIp, PTR_LABEL, Recordset, RecordsetSpec, Zone};
use kube::api::{Api, DeleteParams, ListParams, PostParams, Preconditions};
use kube::{Client, ResourceExt};
use tracing::info;

use crate::floating_ips::Learned;
use crate::{Action, Error, Resource};

/// The label every Recordset of the Sink carries.
pub const MANAGED_LABEL: &str = "designate.openstack.org/managed-by";
pub const MANAGED_BY: &str = "designate-sink";
/// The annotation: JSON `{"<kind>/<id>": ["<data>", ...], ...}`.
pub const OWNERS_ANNOTATION: &str = "sink.designate.openstack.org/owners";

/// Tries of a write that keeps losing races.
const TRIES: usize = 5;

/// Which records each resource owns.
type Owners = BTreeMap<String, Vec<String>>;

/// The zone the records go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneTarget {
    pub namespace: String,
    /// The Zone object's name (a Recordset's `zoneRef`).
    pub object: String,
    /// Its DNS name (`example.org.`).
    pub name: String,
}

impl ZoneTarget {
    pub fn of(zone: &Zone) -> Option<Self> {
        Some(Self {
            namespace: zone.namespace()?,
            object: zone.name_any(),
            name: zone.spec.name.clone(),
        })
    }
}

/// The object name of the Sink's recordset `name`/`type_`.
pub fn object_name(name: &str, type_: &str) -> String {
    let id = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_DNS,
        name.to_ascii_lowercase().as_bytes(),
    );
    format!("sink-{}-{}", type_.to_ascii_lowercase(), id.simple())
}

fn owner_key(resource: &Resource) -> String {
    format!("{}/{}", resource.kind, resource.id)
}

fn owners(recordset: &Recordset) -> Owners {
    recordset
        .annotations()
        .get(OWNERS_ANNOTATION)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// The records of `owners`, each once, in the owners' order.
fn records(owners: &Owners) -> Vec<String> {
    let mut records: Vec<String> = Vec::new();
    for data in owners.values().flatten() {
        if !records.contains(data) {
            records.push(data.clone());
        }
    }
    records
}

fn set_owners(recordset: &mut Recordset, owners: &Owners) {
    recordset.spec.records = records(owners);
    recordset.annotations_mut().insert(
        OWNERS_ANNOTATION.into(),
        serde_json::to_string(owners).unwrap_or_default(),
    );
}

/// `existing` (or a new recordset) with `data` owned by `resource`;
/// `None` when it already is.
pub fn with_record(
    existing: Option<&Recordset>,
    zone: &ZoneTarget,
    name: &str,
    type_: &str,
    data: &str,
    resource: &Resource,
) -> Option<Recordset> {
    let mut recordset = existing.cloned().unwrap_or_else(|| {
        let mut new = Recordset::new(
            &object_name(name, type_),
            RecordsetSpec {
                zone_ref: zone.object.clone(),
                name: name.to_string(),
                type_: type_.to_string(),
                ttl: None,
                records: Vec::new(),
                description: Some(format!("managed by the Sink for {}", resource.kind)),
            },
        );
        new.metadata.namespace = Some(zone.namespace.clone());
        new.labels_mut()
            .insert(MANAGED_LABEL.into(), MANAGED_BY.into());
        new
    });
    let mut owners = owners(&recordset);
    let owned = owners.entry(owner_key(resource)).or_default();
    if owned.iter().any(|d| d == data) {
        return None;
    }
    owned.push(data.to_string());
    set_owners(&mut recordset, &owners);
    Some(recordset)
}

/// What removing a resource's records does to a recordset.
#[derive(Debug, PartialEq)]
pub enum Removal {
    /// The resource owns nothing here.
    Untouched,
    /// Others still own records: the recordset without the resource's.
    Replace(Box<Recordset>),
    /// Nothing is left: the object goes.
    Delete,
}

pub fn without_resource(recordset: &Recordset, resource: &Resource) -> Removal {
    let mut owners = owners(recordset);
    if owners.remove(&owner_key(resource)).is_none() {
        return Removal::Untouched;
    }
    if owners.values().all(Vec::is_empty) {
        return Removal::Delete;
    }
    let mut kept = recordset.clone();
    set_owners(&mut kept, &owners);
    Removal::Replace(Box::new(kept))
}

/// Applies planned actions to the Recordsets of the Kubernetes API.
#[derive(Clone)]
pub struct Writer {
    client: Client,
}

impl Writer {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub async fn apply(&self, zone: &ZoneTarget, actions: &[Action]) -> Result<(), Error> {
        let api = Api::<Recordset>::namespaced(self.client.clone(), &zone.namespace);
        for action in actions {
            retry_conflicts(|| async {
                match action {
                    Action::Create {
                        name,
                        type_,
                        data,
                        resource,
                    } => create(&api, zone, name, type_, data, resource).await,
                    Action::Delete { resource } => delete(&api, resource).await,
                }
            })
            .await?;
        }
        Ok(())
    }
}

impl Writer {
    /// Keeps the FloatingIp objects as neutron describes them. A floating
    /// IP gone takes its PTR records with it: the address is no longer the
    /// project's.
    pub async fn learn(&self, learned: &Learned) -> Result<(), Error> {
        let api = Api::<FloatingIp>::all(self.client.clone());
        match learned {
            Learned::Exists(spec) => {
                let name = FloatingIp::object_name(&spec.region, &spec.floatingip_id);
                retry_conflicts(|| async {
                    match api.get_opt(&name).await? {
                        Some(known) if known.spec == *spec => {}
                        Some(mut known) => {
                            known.spec = spec.clone();
                            api.replace(&name, &PostParams::default(), &known).await?;
                        }
                        None => {
                            let object = FloatingIp::new(&name, spec.clone());
                            api.create(&PostParams::default(), &object).await?;
                        }
                    }
                    Ok(())
                })
                .await?;
                info!(floatingip = %spec.key(), address = %spec.address, project = %spec.project, "floating IP learned");
            }
            Learned::Gone { region, id } => {
                let name = FloatingIp::object_name(region, id);
                let ptrs = ListParams::default().labels(&format!("{PTR_LABEL}={name}"));
                for ptr in Api::<Recordset>::all(self.client.clone())
                    .list(&ptrs)
                    .await?
                {
                    let namespace = ptr.namespace().unwrap_or_default();
                    let recordsets = Api::<Recordset>::namespaced(self.client.clone(), &namespace);
                    ignore_missing(
                        recordsets
                            .delete(&ptr.name_any(), &DeleteParams::default())
                            .await,
                    )?;
                }
                ignore_missing(api.delete(&name, &DeleteParams::default()).await)?;
                info!(floatingip = %format!("{region}:{id}"), "floating IP gone");
            }
        }
        Ok(())
    }
}

/// A delete of what is already gone is done.
fn ignore_missing<T>(result: Result<T, kube::Error>) -> Result<(), kube::Error> {
    match result {
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        other => other.map(drop),
    }
}

async fn create(
    api: &Api<Recordset>,
    zone: &ZoneTarget,
    name: &str,
    type_: &str,
    data: &str,
    resource: &Resource,
) -> Result<(), kube::Error> {
    let existing = api.get_opt(&object_name(name, type_)).await?;
    let Some(recordset) = with_record(existing.as_ref(), zone, name, type_, data, resource) else {
        return Ok(());
    };
    match existing {
        Some(_) => {
            api.replace(&recordset.name_any(), &PostParams::default(), &recordset)
                .await?
        }
        None => api.create(&PostParams::default(), &recordset).await?,
    };
    info!(name, type_, data, resource = %owner_key(resource), "sink record written");
    Ok(())
}

async fn delete(api: &Api<Recordset>, resource: &Resource) -> Result<(), kube::Error> {
    let managed = ListParams::default().labels(&format!("{MANAGED_LABEL}={MANAGED_BY}"));
    for recordset in api.list(&managed).await? {
        let name = recordset.name_any();
        match without_resource(&recordset, resource) {
            Removal::Untouched => continue,
            Removal::Replace(kept) => {
                api.replace(&name, &PostParams::default(), &kept).await?;
            }
            Removal::Delete => {
                let only_this = DeleteParams::default().preconditions(Preconditions {
                    resource_version: recordset.resource_version(),
                    uid: None,
                });
                ignore_missing(api.delete(&name, &only_this).await)?;
            }
        }
        info!(recordset = %name, resource = %owner_key(resource), "sink records removed");
    }
    Ok(())
}

/// Runs `write` again when it lost a race (409), a few times.
async fn retry_conflicts<F, Fut>(mut write: F) -> Result<(), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), kube::Error>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match write().await {
            Err(kube::Error::Api(e)) if e.code == 409 && tries < TRIES => continue,
            result => return result.map_err(Error::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> ZoneTarget {
        ZoneTarget {
            namespace: "project".into(),
            object: "example".into(),
            name: "example.org.".into(),
        }
    }

    fn instance(id: &str) -> Resource {
        Resource {
            kind: "instance",
            id: id.into(),
        }
    }

    #[test]
    fn records_of_two_owners_share_a_recordset_and_leave_one_at_a_time() {
        let name = "web.example.org.";
        let one = with_record(None, &zone(), name, "A", "192.0.2.1", &instance("i-1")).unwrap();
        assert_eq!(
            one.metadata.name.as_deref(),
            Some(object_name(name, "A").as_str())
        );
        assert_eq!(one.labels()[MANAGED_LABEL], MANAGED_BY);
        // The same again is nothing to write (a redelivery).
        assert_eq!(
            with_record(
                Some(&one),
                &zone(),
                name,
                "A",
                "192.0.2.1",
                &instance("i-1")
            ),
            None
        );
        let two = with_record(
            Some(&one),
            &zone(),
            name,
            "A",
            "192.0.2.2",
            &instance("i-2"),
        )
        .unwrap();
        assert_eq!(two.spec.records, ["192.0.2.1", "192.0.2.2"]);

        let Removal::Replace(left) = without_resource(&two, &instance("i-1")) else {
            panic!("i-2's record stays");
        };
        assert_eq!(left.spec.records, ["192.0.2.2"]);
        assert_eq!(
            without_resource(&left, &instance("i-1")),
            Removal::Untouched
        );
        assert_eq!(without_resource(&left, &instance("i-2")), Removal::Delete);
    }

    #[test]
    fn object_names_are_valid_and_case_blind() {
        let name = object_name("Web.Example.org.", "AAAA");
        assert_eq!(name, object_name("web.example.org.", "AAAA"));
        assert!(name.len() <= 63 && name.starts_with("sink-aaaa-"), "{name}");
    }
}
