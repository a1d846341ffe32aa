//! The `Quota` kind: one project's limits (Designate's per-project quotas).
//! Cluster-scoped: a tenant must not be able to raise its own quota, and a
//! namespaced object in its own namespace would let it. A limit left unset
//! is the configured default (`[DEFAULT] quota_*`); `-1` is unlimited.

use designate_central::Quotas;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Designate's `MIN_QUOTA`: `-1` means unlimited.
pub const QUOTA_MIN: i64 = -1;
/// Designate's `MAX_QUOTA`.
pub const QUOTA_MAX: i64 = 2_147_483_647;

/// One project's quotas; unset limits are the configured defaults.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"integer\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "Quota",
    plural = "quotas",
    derive = "PartialEq",
    shortname = "dquota",
    category = "designate",
    selectable = ".spec.projectId",
    doc = "One project's quotas (Designate v2 quotas); unset limits are the configured defaults, -1 is unlimited.",
    printcolumn(name = "Project", type_ = "string", json_path = ".spec.projectId"),
    printcolumn(name = "Zones", type_ = "integer", json_path = ".spec.zones"),
    printcolumn(
        name = "Zone Recordsets",
        type_ = "integer",
        json_path = ".spec.zoneRecordsets"
    ),
    printcolumn(
        name = "Zone Records",
        type_ = "integer",
        json_path = ".spec.zoneRecords"
    ),
    printcolumn(
        name = "Recordset Records",
        type_ = "integer",
        json_path = ".spec.recordsetRecords"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct QuotaSpec {
    /// The project the limits are for: its Designate (Keystone) project id,
    /// or, for a namespace without the project-id annotation, the
    /// namespace's name. Immutable.
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "projectId is immutable"}]))]
    pub project_id: String,

    /// Zones the project may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = QUOTA_MIN, max = QUOTA_MAX))]
    pub zones: Option<i64>,

    /// Recordsets per zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = QUOTA_MIN, max = QUOTA_MAX))]
    pub zone_recordsets: Option<i64>,

    /// Records per zone (managed SOA and NS records not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = QUOTA_MIN, max = QUOTA_MAX))]
    pub zone_records: Option<i64>,

    /// Records per recordset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = QUOTA_MIN, max = QUOTA_MAX))]
    pub recordset_records: Option<i64>,

    /// Largest zone an export may hold (records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = QUOTA_MIN, max = QUOTA_MAX))]
    pub api_export_size: Option<i64>,
}

impl QuotaSpec {
    /// The effective limits: each one set here over `defaults`.
    pub fn over(&self, defaults: Quotas) -> Quotas {
        Quotas {
            zones: self.zones.unwrap_or(defaults.zones),
            zone_recordsets: self.zone_recordsets.unwrap_or(defaults.zone_recordsets),
            zone_records: self.zone_records.unwrap_or(defaults.zone_records),
            recordset_records: self.recordset_records.unwrap_or(defaults.recordset_records),
            api_export_size: self.api_export_size.unwrap_or(defaults.api_export_size),
        }
    }
}

/// The limits of a project that several `Quota` objects name: each limit
/// the most restrictive of them (fail closed: a second object cannot raise
/// what the first set). `-1` (unlimited) is the least restrictive.
pub fn effective_quotas<'a>(
    specs: impl IntoIterator<Item = &'a QuotaSpec>,
    defaults: Quotas,
) -> Quotas {
    let mut specs = specs.into_iter();
    let Some(first) = specs.next() else {
        return defaults;
    };
    let stricter = |a: i64, b: i64| match (a < 0, b < 0) {
        (true, _) => b,
        (_, true) => a,
        _ => a.min(b),
    };
    specs.fold(first.over(defaults), |acc, spec| {
        let q = spec.over(defaults);
        Quotas {
            zones: stricter(acc.zones, q.zones),
            zone_recordsets: stricter(acc.zone_recordsets, q.zone_recordsets),
            zone_records: stricter(acc.zone_records, q.zone_records),
            recordset_records: stricter(acc.recordset_records, q.recordset_records),
            api_export_size: stricter(acc.api_export_size, q.api_export_size),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;

    fn spec(zones: Option<i64>, zone_records: Option<i64>) -> QuotaSpec {
        QuotaSpec {
            project_id: "p".into(),
            zones,
            zone_records,
            ..QuotaSpec::default()
        }
    }

    #[test]
    fn unset_limits_are_the_defaults() {
        let defaults = Quotas::default();
        assert_eq!(effective_quotas([], defaults), defaults);
        let q = effective_quotas([&spec(Some(1), None)], defaults);
        assert_eq!(q.zones, 1);
        assert_eq!(q.zone_records, defaults.zone_records);
        assert_eq!(q.api_export_size, defaults.api_export_size);
    }

    #[test]
    fn of_several_objects_the_stricter_limit_wins() {
        let defaults = Quotas::default();
        let (a, b) = (spec(Some(-1), Some(7)), spec(Some(3), Some(-1)));
        let q = effective_quotas([&a, &b], defaults);
        assert_eq!((q.zones, q.zone_records), (3, 7));
        let q = effective_quotas([&b, &a], defaults);
        assert_eq!((q.zones, q.zone_records), (3, 7));
        let unlimited = effective_quotas([&spec(Some(-1), None), &spec(Some(-1), None)], defaults);
        assert_eq!(unlimited.zones, -1);
    }

    #[test]
    fn the_project_is_immutable() {
        use kube::core::cel::Validator;
        let schema = serde_json::to_value(
            Quota::crd().spec.versions[0]
                .schema
                .clone()
                .and_then(|s| s.open_api_v3_schema),
        )
        .unwrap();
        let quota = |project: &str| {
            serde_json::json!({"apiVersion": "designate.openstack.org/v1alpha1", "kind": "Quota",
                "metadata": {"name": "q"}, "spec": {"projectId": project, "zones": 1}})
        };
        let validator = Validator::new();
        assert!(validator.validate(&schema, &quota("a"), None).is_ok());
        assert!(
            validator
                .validate(&schema, &quota("a"), Some(&quota("a")))
                .is_ok()
        );
        let errors = validator
            .validate(&schema, &quota("b"), Some(&quota("a")))
            .unwrap_err();
        assert_eq!(errors[0].message, "projectId is immutable");
    }

    #[test]
    fn the_crd_is_cluster_scoped_and_listed_in_designate() {
        let crd = Quota::crd();
        assert_eq!(crd.spec.scope, "Cluster");
        assert_eq!(
            crd.spec.names.categories,
            Some(vec!["designate".to_string()])
        );
        assert_eq!(crd.spec.names.short_names, Some(vec!["dquota".to_string()]));
        let schema = serde_json::to_value(&crd.spec.versions[0].schema).unwrap();
        let zones = &schema["openAPIV3Schema"]["properties"]["spec"]["properties"]["zones"];
        assert_eq!(
            (zones["minimum"].as_f64(), zones["maximum"].as_f64()),
            (Some(-1.0), Some(2147483647.0))
        );
        assert_eq!(crate::structural::check(&crd), Vec::<String>::new());
    }
}
