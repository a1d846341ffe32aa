//! Projects and namespaces (docs/ARCHITECTURE.md, "Tenancy").
//!
//! A project owns exactly one namespace: the one labelled as a project
//! namespace and annotated with the project's id. Nothing else reaches it,
//! and the project reaches nothing else:
//! - the annotation, not the name, says whose a namespace is, so no id
//!   (`kube-system`, `default`, a user's namespace) leads anywhere that is
//!   not labelled and annotated for it;
//! - a namespace claimed for one project by two namespaces belongs to
//!   neither (fail closed, logged);
//! - a project's first write creates its namespace under a name derived
//!   from its id; when that name is taken by a namespace that is not the
//!   project's, the write is refused.
//!
//! Namespaces this API created are removed once they hold nothing (after a
//! grace period, and not while a write of theirs may be in flight).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api as KubeApi, DeleteParams, ListParams, PostParams};
use kube::{Client, ResourceExt};

use crate::cache::{Cache, HashMap};
use crate::error::ApiError;

/// What a caller without a namespace is scoped to: no namespace is named
/// so, and zones and recordsets are always in one.
pub const NO_NAMESPACE: &str = "";

/// The annotation that names a namespace's project.
pub const PROJECT_ANNOTATION: &str = "designate.openstack.org/project-id";
/// The label that makes a namespace a project namespace.
pub const TENANCY_LABEL: &str = "designate.openstack.org/tenancy";
pub const TENANCY_PROJECT: &str = "project";
/// Namespaces this API made (and may remove when empty).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "designate-operator";

/// The project a namespace is claimed for: its annotation, when it is
/// labelled as a project namespace and not being deleted.
pub fn claimed_project(namespace: &Namespace) -> Option<&str> {
    let labelled = namespace
        .labels()
        .get(TENANCY_LABEL)
        .is_some_and(|v| v == TENANCY_PROJECT);
    let project = namespace.annotations().get(PROJECT_ANNOTATION)?;
    (labelled && namespace.metadata.deletion_timestamp.is_none() && !project.is_empty())
        .then_some(project.as_str())
}

/// A new namespace for a project.
pub fn namespace_object(project: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(designate_crd::names::project_namespace(project)),
            labels: Some(BTreeMap::from([
                (TENANCY_LABEL.to_string(), TENANCY_PROJECT.to_string()),
                (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
            ])),
            annotations: Some(BTreeMap::from([(
                PROJECT_ANNOTATION.to_string(),
                project.to_string(),
            )])),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The project-to-namespace mapping, and the sweep of empty namespaces.
pub struct Tenancy {
    /// How long an empty namespace of ours is kept.
    grace: Duration,
    /// When each namespace was last written to through this API.
    touched: Mutex<HashMap<String, Instant>>,
}

impl Tenancy {
    pub fn new(grace: Duration) -> Self {
        Self {
            grace,
            touched: Mutex::default(),
        }
    }

    /// The namespace a project owns, if it has exactly one.
    pub fn namespace_of(&self, cache: &Cache, project: &str) -> Option<String> {
        match cache.namespaces.tree_named(project).as_slice() {
            [] => None,
            [one] => Some(one.name_any()),
            many => {
                let names: Vec<String> = many.iter().map(|ns| ns.name_any()).collect();
                tracing::warn!(
                    reason = "AmbiguousProject",
                    project,
                    ?names,
                    "several namespaces claim one project: it owns none"
                );
                None
            }
        }
    }

    /// The project that owns a namespace, when the mapping holds both ways.
    pub fn project_owning<'n>(&self, cache: &Cache, namespace: &'n Namespace) -> Option<&'n str> {
        let project = claimed_project(namespace)?;
        (self.namespace_of(cache, project).as_deref() == Some(&namespace.name_any()))
            .then_some(project)
    }

    /// The project's namespace, created (labelled and annotated) when it
    /// has none; refused when its name is taken by another namespace.
    pub async fn ensure(
        &self,
        client: &Client,
        cache: &Cache,
        project: &str,
    ) -> Result<String, ApiError> {
        let name = match self.namespace_of(cache, project) {
            Some(name) => name,
            None => self.create(client, cache, project).await?,
        };
        self.touch(&name);
        Ok(name)
    }

    async fn create(
        &self,
        client: &Client,
        cache: &Cache,
        project: &str,
    ) -> Result<String, ApiError> {
        let wanted = namespace_object(project);
        let name = wanted.name_any();
        // Mark it before it exists, so a sweep never takes it from under
        // the write that made it.
        self.touch(&name);
        let api = KubeApi::<Namespace>::all(client.clone());
        let made = match api.create(&PostParams::default(), &wanted).await {
            Ok(made) => made,
            Err(kube::Error::Api(e)) if e.code == 409 => api.get(&name).await?,
            Err(error) => return Err(error.into()),
        };
        if claimed_project(&made) != Some(project) {
            tracing::warn!(
                reason = "NamespaceTaken",
                project,
                namespace = %name,
                "the project's namespace name is taken by a namespace that is not its own"
            );
            return Err(ApiError::forbidden());
        }
        // The request that follows reads the mapping from the mirror.
        cache
            .namespaces
            .wait_for(
                made.metadata.uid.as_deref().unwrap_or_default(),
                made.metadata.resource_version.as_deref(),
            )
            .await;
        Ok(name)
    }

    fn touch(&self, namespace: &str) {
        self.touched
            .lock()
            .expect("tenancy lock")
            .insert(namespace.to_string(), Instant::now());
    }

    /// Removes the namespaces this API made that hold no zones or
    /// recordsets, are older than the grace period and were not written to
    /// within it. Returns how many were removed.
    pub async fn sweep(&self, client: &Client, cache: &Cache) -> usize {
        let now = Instant::now();
        let grace_s = i64::try_from(self.grace.as_secs()).unwrap_or(i64::MAX);
        self.touched
            .lock()
            .expect("tenancy lock")
            .retain(|_, at| now.duration_since(*at) < self.grace);
        let now_s = k8s_openapi::jiff::Timestamp::now().as_second();
        let candidates: Vec<String> = cache
            .namespaces
            .all()
            .into_iter()
            .filter(|ns| {
                ns.labels()
                    .get(MANAGED_BY_LABEL)
                    .is_some_and(|v| v == MANAGED_BY)
            })
            .filter(|ns| claimed_project(ns).is_some())
            .filter(|ns| {
                ns.creation_timestamp()
                    .is_some_and(|t| now_s.saturating_sub(t.0.as_second()) >= grace_s)
            })
            .map(|ns| ns.name_any())
            .filter(|name| {
                cache.zones.count(Some(name)) == 0 && cache.recordsets.count(Some(name)) == 0
            })
            .filter(|name| {
                !self
                    .touched
                    .lock()
                    .expect("tenancy lock")
                    .contains_key(name)
            })
            .collect();
        let mut removed = 0;
        for name in candidates {
            match self.remove_if_empty(client, &name).await {
                Ok(true) => removed += 1,
                Ok(false) => {}
                Err(error) => tracing::warn!(namespace = %name, %error, "namespace sweep failed"),
            }
        }
        removed
    }

    /// Deletes a namespace after asking the API server (not the mirror)
    /// that it holds no zones or recordsets.
    async fn remove_if_empty(&self, client: &Client, name: &str) -> Result<bool, kube::Error> {
        let one = ListParams::default().limit(1);
        let zones = KubeApi::<designate_crd::Zone>::namespaced(client.clone(), name);
        let recordsets = KubeApi::<designate_crd::Recordset>::namespaced(client.clone(), name);
        if !zones.list_metadata(&one).await?.items.is_empty()
            || !recordsets.list_metadata(&one).await?.items.is_empty()
        {
            return Ok(false);
        }
        tracing::info!(namespace = %name, "removing an empty project namespace");
        match KubeApi::<Namespace>::all(client.clone())
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Sweeps every half grace period, until the process ends.
    pub async fn sweep_forever(&self, client: Client, cache: Cache) {
        let every = (self.grace / 2).max(Duration::from_millis(500));
        loop {
            tokio::time::sleep(every).await;
            self.sweep(&client, &cache).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_ids_are_namespace_names_unless_reserved() {
        assert_eq!(
            designate_crd::names::project_namespace("noauth-project"),
            "noauth-project"
        );
        assert_eq!(
            designate_crd::names::project_namespace("0123456789abcdef0123456789abcdef"),
            "0123456789abcdef0123456789abcdef"
        );
        for reserved in ["default", "kube-system", "kube-public", "openshift-x"] {
            assert!(
                designate_crd::names::project_namespace(reserved).starts_with("project-"),
                "{reserved}"
            );
        }
    }

    #[test]
    fn other_ids_are_hashed_stably() {
        let ns = designate_crd::names::project_namespace("Project_A");
        assert!(ns.starts_with("project-") && ns.len() == 24, "{ns}");
        assert_eq!(ns, designate_crd::names::project_namespace("Project_A"));
        assert_ne!(ns, designate_crd::names::project_namespace("Project_B"));
    }

    #[test]
    fn only_labelled_annotated_namespaces_are_claimed() {
        let made = namespace_object("Project_A");
        assert_eq!(claimed_project(&made), Some("Project_A"));
        let mut unlabelled = made.clone();
        unlabelled.metadata.labels = None;
        assert_eq!(claimed_project(&unlabelled), None);
        let mut unannotated = made.clone();
        unannotated.metadata.annotations = None;
        assert_eq!(claimed_project(&unannotated), None);
        let mut going = made;
        going.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ));
        assert_eq!(claimed_project(&going), None);
    }
}
