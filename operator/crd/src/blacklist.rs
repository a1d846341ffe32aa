//! The `Blacklist` kind: a regular expression zone names may not match
//! (Designate's zone blacklist). Cluster-scoped, like the TLD list: the
//! operator's, not a tenant's. Checked when a zone is created; callers with
//! `use_blacklisted_zone` (admins) are exempt.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest pattern: Designate's `pattern` is `String(255)`.
pub const BLACKLIST_PATTERN_MAX_LEN: usize = 255;

/// Longest description: `DenylistFields(maxLength=160)`.
pub const BLACKLIST_DESCRIPTION_MAX_LEN: usize = 160;

/// Desired state of a blacklist entry; the fields of a Designate v2 blacklist.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[allow(
    clippy::duplicated_attributes,
    reason = "clippy mistakes the repeated `type_ = \"string\"` of printcolumn(...) for duplicate attributes"
)]
#[kube(
    group = "designate.openstack.org",
    version = "v1alpha1",
    kind = "Blacklist",
    plural = "blacklists",
    derive = "PartialEq",
    shortname = "dbl",
    category = "designate",
    doc = "A regular expression that new zone names may not match, unless the creator may use blacklisted zones (Designate v2 blacklist).",
    printcolumn(name = "Pattern", type_ = "string", json_path = ".spec.pattern"),
    printcolumn(
        name = "Description",
        type_ = "string",
        json_path = ".spec.description"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct BlacklistSpec {
    /// A regular expression searched in the zone name (with its trailing
    /// dot), e.g. `^([a-z0-9-]+\.)*example\.com\.$`.
    // `matches` compiles its argument at evaluation: a pattern that is not a
    // regular expression makes both sides fail, which the apiserver reports
    // as invalid (a 422), and no Blacklist can hold one.
    #[schemars(
        length(min = 1, max = BLACKLIST_PATTERN_MAX_LEN),
        extend("x-kubernetes-validations" = [{
            "rule": "''.matches(self) || !''.matches(self)",
            "message": "pattern must be a valid regular expression"
        }])
    )]
    pub pattern: String,

    /// Free-form description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = BLACKLIST_DESCRIPTION_MAX_LEN))]
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::CustomResourceExt;
    use kube::core::cel::Validator;
    use serde_json::{Value, json};

    /// The messages of the rules and bounds a Blacklist with `spec` breaks.
    fn broken(spec: Value) -> Vec<String> {
        let schema = Blacklist::crd().spec.versions[0]
            .schema
            .clone()
            .and_then(|s| s.open_api_v3_schema);
        let schema = serde_json::to_value(schema.unwrap()).unwrap();
        let object = json!({"apiVersion": "designate.openstack.org/v1alpha1",
            "kind": "Blacklist", "metadata": {"name": "b"}, "spec": spec});
        match Validator::new().validate(&schema, &object, None) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.message.clone()).collect(),
        }
    }

    #[test]
    fn valid_patterns_pass_the_rule() {
        for pattern in [
            r"^([A-Za-z0-9_\-]+\.)*blocked\.org\.$",
            "example",
            "com.$",
            "^$",
        ] {
            assert_eq!(broken(json!({"pattern": pattern})), Vec::<String>::new());
        }
    }

    #[test]
    fn a_pattern_that_is_no_regular_expression_is_refused() {
        for pattern in ["(unclosed", "[z-a]", "a{2,1}"] {
            assert!(
                !broken(json!({"pattern": pattern})).is_empty(),
                "{pattern} passed"
            );
        }
    }

    #[test]
    fn the_crd_is_cluster_scoped_with_printer_columns() {
        let crd = Blacklist::crd();
        assert_eq!(crd.spec.scope, "Cluster");
        assert_eq!(crd.spec.names.short_names, Some(vec!["dbl".to_string()]));
        assert_eq!(
            crd.spec.names.categories,
            Some(vec!["designate".to_string()])
        );
        let columns: Vec<String> = crd.spec.versions[0]
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(columns, ["Pattern", "Description", "Age"]);
    }
}
