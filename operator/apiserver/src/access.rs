//! What the operator itself asks of the API, as RBAC names it: the verbs
//! on each (group, resource[/subresource]) each of its roles used. A role
//! says who it is with the [`ROLE_HEADER`] its client sends; in-process
//! callers (standalone) count as [`IN_PROCESS`]. A test compares the log
//! with the Roles the Helm chart grants each role, so that the chart
//! grants what the operator uses, and nothing more.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// The header a role's client names the role with (`api`, `controllers`,
/// `mdns`); for this log only, it grants nothing.
pub const ROLE_HEADER: &str = "x-designate-role";

/// The role of in-process callers.
pub const IN_PROCESS: &str = "in-process";

/// One permission a role used: role, verb, API group, resource
/// (`zones/status`).
pub type Access = (String, String, String, String);

/// The permissions used so far.
#[derive(Debug, Default)]
pub struct AccessLog {
    used: Mutex<BTreeSet<Access>>,
}

impl AccessLog {
    pub(crate) fn record(&self, role: &str, verb: &str, group: &str, resource: String) {
        let mut used = self.used.lock().expect("access log lock");
        used.insert((
            role.to_string(),
            verb.to_string(),
            group.to_string(),
            resource,
        ));
    }

    /// Every permission used, in order.
    pub fn used(&self) -> Vec<Access> {
        self.used
            .lock()
            .expect("access log lock")
            .iter()
            .cloned()
            .collect()
    }
}
