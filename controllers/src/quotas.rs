//! Per-project quotas for the Zone controller: the `Quota` objects (a
//! reflector) over the configured defaults, for the project a zone's
//! namespace belongs to (docs/ARCHITECTURE.md, "Tenancy").
//!
//! A namespace's project is the id it is annotated with when it is labelled
//! as a project namespace (the REST shim's namespaces, or a kubectl user's
//! given to a project), else the namespace's own name, as the REST shim
//! shows it. A project claimed by two namespaces belongs to neither (fail
//! closed, as the REST shim does): each then counts as its own name.
//!
//! A Quota change (or a namespace's) replans the zones of the projects it
//! concerns, so that a zone refused as over quota is let in once the quota
//! is raised; the quotas are part of a zone's fingerprint.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use designate_central::{Config, Quotas};
use designate_crd::{Quota, Zone, effective_quotas};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use kube::runtime::reflector::{self, ObjectRef, Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};

use crate::{Context, Error};

/// The annotation that names a namespace's project.
const PROJECT_ANNOTATION: &str = "designate.openstack.org/project-id";
/// The label (and value) that make a namespace a project namespace.
const TENANCY_LABEL: &str = "designate.openstack.org/tenancy";
const TENANCY_PROJECT: &str = "project";

/// The project a namespace is claimed for, if any: labelled as a project
/// namespace, annotated with a non-empty id, not being deleted.
fn claimed_project(namespace: &Namespace) -> Option<&str> {
    let labelled = namespace
        .labels()
        .get(TENANCY_LABEL)
        .is_some_and(|v| v == TENANCY_PROJECT);
    let project = namespace.annotations().get(PROJECT_ANNOTATION)?;
    (labelled && namespace.metadata.deletion_timestamp.is_none() && !project.is_empty())
        .then_some(project.as_str())
}

/// The project of namespace `name`, given every namespace (pure).
fn project_of<'a>(
    name: &'a str,
    namespace: Option<&'a Namespace>,
    all: &'a [Arc<Namespace>],
) -> &'a str {
    match namespace.and_then(claimed_project) {
        Some(project)
            if all
                .iter()
                .filter(|ns| claimed_project(ns) == Some(project))
                .count()
                == 1 =>
        {
            project
        }
        _ => name,
    }
}

/// Every namespace's project (pure; [`project_of`] for all at once).
fn projects(all: &[Arc<Namespace>]) -> HashMap<String, String> {
    let mut claims: HashMap<&str, usize> = HashMap::new();
    for project in all.iter().filter_map(|ns| claimed_project(ns)) {
        *claims.entry(project).or_default() += 1;
    }
    all.iter()
        .map(|ns| {
            let name = ns.name_any();
            let project = match claimed_project(ns) {
                Some(project) if claims.get(project) == Some(&1) => project.to_string(),
                _ => name.clone(),
            };
            (name, project)
        })
        .collect()
}

/// `cfg` with a project's quotas; as given when they are the same.
pub(crate) fn config(cfg: Cow<'_, Config>, quotas: Quotas) -> Cow<'_, Config> {
    if cfg.quotas == quotas {
        return cfg;
    }
    let mut cfg = cfg.into_owned();
    cfg.quotas = quotas;
    Cow::Owned(cfg)
}

/// The quotas of every project, from the watch caches.
pub(crate) struct ProjectQuotas {
    quotas: Store<Quota>,
    namespaces: Store<Namespace>,
    defaults: Quotas,
}

/// The caches' writers, for [`triggers`].
pub(crate) struct Writers {
    quotas: Writer<Quota>,
    namespaces: Writer<Namespace>,
}

impl ProjectQuotas {
    pub(crate) fn new(defaults: Quotas) -> (Self, Writers) {
        let (quotas, quota_writer) = reflector::store();
        let (namespaces, namespace_writer) = reflector::store();
        (
            Self {
                quotas,
                namespaces,
                defaults,
            },
            Writers {
                quotas: quota_writer,
                namespaces: namespace_writer,
            },
        )
    }

    /// Waits for the caches' first lists: before them every project would
    /// seem to have the defaults (a lowered quota not yet seen).
    pub(crate) async fn ready(&self) -> Result<(), Error> {
        crate::store_ready(&self.quotas).await?;
        crate::store_ready(&self.namespaces).await
    }

    /// The project of a namespace.
    pub(crate) fn project_of(&self, namespace: &str) -> String {
        let held = self.namespaces.get(&ObjectRef::new(namespace));
        if held.as_deref().and_then(claimed_project).is_none() {
            return namespace.to_string();
        }
        let all = self.namespaces.state();
        project_of(namespace, held.as_deref(), &all).to_string()
    }

    /// Every namespace's project.
    fn projects(&self) -> HashMap<String, String> {
        projects(&self.namespaces.state())
    }

    /// A project's effective quotas.
    pub(crate) fn of_project(&self, project: &str) -> Quotas {
        let objects = self
            .quotas
            .state()
            .into_iter()
            .filter(|q| q.spec.project_id == project)
            .collect::<Vec<_>>();
        effective_quotas(objects.iter().map(|q| &q.spec), self.defaults)
    }

    /// The quotas of the project a namespace belongs to.
    pub(crate) fn of_namespace(&self, namespace: &str) -> Quotas {
        self.of_project(&self.project_of(namespace))
    }

    /// The settings' digest with a project's `quotas` in it, so that a
    /// quota change replans the project's published zones (a raised record
    /// quota lets refused recordsets in). With the defaults it is the
    /// settings' digest as it was.
    pub(crate) fn digest(&self, settings_digest: u64, quotas: &Quotas) -> u64 {
        if *quotas == self.defaults {
            return settings_digest;
        }
        crate::fnv1a(format!("{settings_digest}|quotas {quotas:?}").as_bytes())
    }
}

/// Keeps the caches and yields the zones to replan: those of the project
/// a Quota names when it changes (or goes), those of a namespace when it
/// changes (its project may have).
pub(crate) fn triggers(
    client: &Client,
    writers: Writers,
    context: Arc<Context>,
) -> impl Stream<Item = ObjectRef<Zone>> + Send + 'static {
    let by_quota = {
        let context = context.clone();
        crate::watch::watch::<Quota>(
            client,
            watcher::Config::default(),
            crate::watch::Reporting::Report(client.clone()),
            None,
        )
        .reflect(writers.quotas)
        .touched_objects()
        .filter_map(|quota| async move { quota.ok() })
        .flat_map(move |quota| {
            let project = quota.spec.project_id.as_str();
            let projects = context.quotas.projects();
            let zones = context.zones.state_filter(|zone| {
                let namespace = zone.namespace().unwrap_or_default();
                projects
                    .get(&namespace)
                    .map_or(namespace == project, |p| p == project)
            });
            futures::stream::iter(zones.into_iter().map(|z| ObjectRef::from_obj(&*z)))
        })
    };
    let by_namespace = watcher::watcher(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(writers.namespaces)
    .touched_objects()
    .filter_map(|namespace| async move { namespace.ok() })
    .flat_map(move |namespace| {
        let name = namespace.name_any();
        let zones = context
            .zones
            .state_filter(|zone| zone.namespace().as_deref() == Some(name.as_str()));
        futures::stream::iter(zones.into_iter().map(|z| ObjectRef::from_obj(&*z)))
    });
    futures::stream::select(by_quota, by_namespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn namespace(name: &str, project: Option<&str>, labelled: bool) -> Arc<Namespace> {
        let mut ns = Namespace::default();
        ns.metadata.name = Some(name.into());
        if labelled {
            ns.metadata.labels = Some(BTreeMap::from([(
                TENANCY_LABEL.to_string(),
                TENANCY_PROJECT.to_string(),
            )]));
        }
        if let Some(project) = project {
            ns.metadata.annotations = Some(BTreeMap::from([(
                PROJECT_ANNOTATION.to_string(),
                project.to_string(),
            )]));
        }
        Arc::new(ns)
    }

    #[test]
    fn a_namespace_is_its_claimed_project_or_its_name() {
        let claimed = namespace("team-a", Some("0123abcd"), true);
        let unlabelled = namespace("team-b", Some("other"), false);
        let plain = namespace("team-c", None, false);
        let all = vec![claimed.clone(), unlabelled.clone(), plain.clone()];
        assert_eq!(project_of("team-a", Some(&claimed), &all), "0123abcd");
        assert_eq!(project_of("team-b", Some(&unlabelled), &all), "team-b");
        assert_eq!(project_of("team-c", Some(&plain), &all), "team-c");
        assert_eq!(project_of("gone", None, &all), "gone");
    }

    #[test]
    fn a_project_claimed_twice_belongs_to_neither_namespace() {
        let first = namespace("one", Some("p"), true);
        let second = namespace("two", Some("p"), true);
        let all = vec![first.clone(), second.clone()];
        assert_eq!(project_of("one", Some(&first), &all), "one");
        assert_eq!(project_of("two", Some(&second), &all), "two");
        let third = namespace("three", Some("q"), true);
        let all = vec![first, second, third];
        let projects = projects(&all);
        assert_eq!(projects["one"], "one");
        assert_eq!(projects["three"], "q");
    }

    #[test]
    fn only_quotas_other_than_the_defaults_change_the_digest() {
        let (quotas, _) = ProjectQuotas::new(Quotas::default());
        assert_eq!(quotas.digest(7, &Quotas::default()), 7);
        let raised = Quotas {
            zone_records: 1000,
            ..Quotas::default()
        };
        assert_ne!(quotas.digest(7, &raised), 7);
        assert_ne!(quotas.digest(7, &raised), quotas.digest(8, &raised));
    }

    #[test]
    fn configs_are_borrowed_unless_the_quotas_differ() {
        let base = Config::default();
        assert!(matches!(
            config(Cow::Borrowed(&base), base.quotas),
            Cow::Borrowed(_)
        ));
        let one = Quotas {
            zones: 1,
            ..base.quotas
        };
        let cfg = config(Cow::Borrowed(&base), one);
        assert_eq!(cfg.quotas.zones, 1);
        assert_eq!(cfg.min_ttl, base.min_ttl);
    }
}
