//! Projects and namespaces (docs/ARCHITECTURE.md, "Tenancy"): a project's
//! zones live in one namespace, named after the project when the id is a
//! valid namespace name, `project-<hash>` otherwise; the namespace carries
//! the project id in an annotation either way.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;

/// The annotation that names a namespace's project.
pub const PROJECT_ANNOTATION: &str = "designate.openstack.org/project-id";

/// The namespace of a project.
pub fn namespace_for(project: &str) -> String {
    if is_label(project) {
        project.to_string()
    } else {
        format!("project-{:016x}", fnv1a(project.as_bytes()))
    }
}

/// The project a namespace belongs to: its annotation, else its name.
pub fn project_of(namespace: &Namespace) -> Option<&str> {
    namespace
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PROJECT_ANNOTATION))
        .map(String::as_str)
}

/// A new namespace for a project.
pub fn namespace_object(project: &str) -> Namespace {
    Namespace {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(namespace_for(project)),
            annotations: Some(BTreeMap::from([(
                PROJECT_ANNOTATION.to_string(),
                project.to_string(),
            )])),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A DNS-1123 label: what a namespace may be named.
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// 64-bit FNV-1a: stable across runs and builds (std's hasher is not).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_ids_are_namespace_names() {
        assert_eq!(namespace_for("noauth-project"), "noauth-project");
        assert_eq!(
            namespace_for("0123456789abcdef0123456789abcdef"),
            "0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn other_ids_are_hashed_stably() {
        let ns = namespace_for("Project_A");
        assert!(ns.starts_with("project-") && ns.len() == 24, "{ns}");
        assert_eq!(ns, namespace_for("Project_A"));
        assert_ne!(ns, namespace_for("Project_B"));
        assert_eq!(
            project_of(&namespace_object("Project_A")),
            Some("Project_A")
        );
    }
}
