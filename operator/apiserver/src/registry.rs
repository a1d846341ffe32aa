//! The kinds this control plane serves: a few built-in kinds and every
//! installed CustomResourceDefinition. Discovery, OpenAPI, routing,
//! validation and Table output are all derived from this one registry.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

use crate::error::Error;

/// A printer column (`additionalPrinterColumns` of a CRD).
#[derive(Debug, Clone)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: Option<String>,
    pub description: String,
    pub json_path: String,
    pub priority: i32,
}

/// One served resource (e.g. `zones.designate.openstack.org/v1alpha1`).
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub status_subresource: bool,
    /// The CRD's `openAPIV3Schema`; built-ins are not schema-checked.
    pub schema: Option<Arc<Value>>,
    pub printer_columns: Vec<PrinterColumn>,
    /// Fields usable in field selectors besides metadata.name/namespace
    /// (a CRD's `selectableFields`, without the leading dot).
    pub selectable_fields: Vec<String>,
    /// Custom resources: `generation` tracked, unconditional update refused,
    /// field selectors limited to metadata.name/namespace.
    pub custom: bool,
    /// Read-only through the API (CRDs are installed by the operator).
    pub read_only: bool,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `zones.designate.openstack.org`, as kube-apiserver names it in messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Storage key prefix: group and plural (one version served per kind).
    pub fn key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    fn builtin(group: &str, version: &str, plural: &str, kind: &str, namespaced: bool) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            kind: kind.into(),
            namespaced,
            short_names: Vec::new(),
            categories: Vec::new(),
            status_subresource: false,
            schema: None,
            printer_columns: Vec::new(),
            selectable_fields: Vec::new(),
            custom: false,
            read_only: false,
        }
    }

    /// Reads a CRD (its storage version) into a resource type.
    pub fn from_crd(crd: &CustomResourceDefinition) -> Result<Self, Error> {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let invalid = |reason: &str| Error::InvalidCrd {
            name: name.clone(),
            reason: reason.to_string(),
        };
        let spec = &crd.spec;
        if name != format!("{}.{}", spec.names.plural, spec.group) {
            return Err(invalid("metadata.name must be <plural>.<group>"));
        }
        let version = spec
            .versions
            .iter()
            .find(|v| v.storage)
            .ok_or_else(|| invalid("no storage version"))?;
        let schema = version
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| invalid(&e.to_string()))?
            .map(Arc::new);
        let printer_columns = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| PrinterColumn {
                name: c.name.clone(),
                type_: c.type_.clone(),
                format: c.format.clone(),
                description: c.description.clone().unwrap_or_default(),
                json_path: c.json_path.clone(),
                priority: c.priority.unwrap_or(0),
            })
            .collect();
        Ok(Self {
            group: spec.group.clone(),
            version: version.name.clone(),
            plural: spec.names.plural.clone(),
            singular: spec
                .names
                .singular
                .clone()
                .unwrap_or_else(|| spec.names.kind.to_lowercase()),
            kind: spec.names.kind.clone(),
            namespaced: spec.scope == "Namespaced",
            short_names: spec.names.short_names.clone().unwrap_or_default(),
            categories: spec.names.categories.clone().unwrap_or_default(),
            status_subresource: version
                .subresources
                .as_ref()
                .is_some_and(|s| s.status.is_some()),
            schema,
            printer_columns,
            selectable_fields: version
                .selectable_fields
                .iter()
                .flatten()
                .map(|f| f.json_path.trim_start_matches('.').to_string())
                .collect(),
            custom: true,
            read_only: false,
        })
    }
}

/// All served kinds, by `group/plural`.
#[derive(Debug, Clone)]
pub struct Registry {
    types: BTreeMap<String, ResourceType>,
}

/// Key of the CRD kind itself, whose objects register further kinds.
pub const CRD_KEY: &str = "apiextensions.k8s.io/customresourcedefinitions";
/// Key of namespaces, which scope every namespaced object.
pub const NAMESPACE_KEY: &str = "/namespaces";

impl Default for Registry {
    fn default() -> Self {
        let mut crds = ResourceType::builtin(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
        );
        crds.short_names = vec!["crd".into(), "crds".into()];
        crds.status_subresource = true;
        crds.read_only = true;
        let mut namespaces = ResourceType::builtin("", "v1", "namespaces", "Namespace", false);
        namespaces.short_names = vec!["ns".into()];
        namespaces.status_subresource = true;
        let mut configmaps = ResourceType::builtin("", "v1", "configmaps", "ConfigMap", true);
        configmaps.short_names = vec!["cm".into()];
        let mut core_events = ResourceType::builtin("", "v1", "events", "Event", true);
        core_events.short_names = vec!["ev".into()];
        let mut events = ResourceType::builtin("events.k8s.io", "v1", "events", "Event", true);
        events.short_names = vec!["ev".into()];
        let builtins = [
            namespaces,
            configmaps,
            ResourceType::builtin("", "v1", "secrets", "Secret", true),
            core_events,
            events,
            ResourceType::builtin("coordination.k8s.io", "v1", "leases", "Lease", true),
            crds,
        ];
        Self {
            types: builtins.into_iter().map(|t| (t.key(), t)).collect(),
        }
    }
}

impl Registry {
    pub fn insert(&mut self, rt: ResourceType) {
        self.types.insert(rt.key(), rt);
    }

    pub fn get(&self, key: &str) -> Option<&ResourceType> {
        self.types.get(key)
    }

    /// The kind served at `group/version` with this plural.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .get(&format!("{group}/{plural}"))
            .filter(|t| t.version == version)
    }

    pub fn all(&self) -> impl Iterator<Item = &ResourceType> {
        self.types.values()
    }

    /// Served group/versions: `(group, version)`, core ("") first.
    pub fn group_versions(&self) -> Vec<(String, String)> {
        let mut gvs: Vec<(String, String)> = self
            .types
            .values()
            .map(|t| (t.group.clone(), t.version.clone()))
            .collect();
        gvs.sort();
        gvs.dedup();
        gvs
    }

    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a ResourceType> + 'a {
        self.types
            .values()
            .filter(move |t| t.group == group && t.version == version)
    }
}
