//! Who is calling and what they may do: the request context of Designate's
//! `ContextMiddleware` and the default policies of Designate 23 for the
//! endpoints served here.
//!
//! Authentication is pluggable ([`Authenticate`]); `noauth` (Designate's
//! `auth_strategy = noauth`) takes the project and roles from headers.
//! Keystone tokens come later as another implementation.

use designate_central::Privileges;
use http::HeaderMap;

use crate::error::ApiError;

/// The caller of one request, after authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The project acted for (the sudo project when an admin asked for one).
    pub project: String,
    pub roles: Vec<String>,
    /// `X-Auth-All-Projects`: reads span every project (admin only).
    pub all_projects: bool,
    /// `X-Designate-Edit-Managed-Records` (admin only).
    pub edit_managed_records: bool,
}

/// Turns a request's headers into a [`Caller`].
pub trait Authenticate: Send + Sync + 'static {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError>;
}

/// Designate's `noauth` strategy: the project is `X-Auth-Project-ID`
/// (default `noauth-project`), roles come from `X-Roles` (default `admin`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

pub const NOAUTH_PROJECT: &str = "noauth-project";

impl Authenticate for NoAuth {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let roles: Vec<String> = header("X-Roles")
            .unwrap_or("admin")
            .split(',')
            .map(|r| r.trim().to_ascii_lowercase())
            .filter(|r| !r.is_empty())
            .collect();
        let mut caller = Caller {
            project: header("X-Auth-Project-ID")
                .unwrap_or(NOAUTH_PROJECT)
                .to_string(),
            roles,
            all_projects: false,
            edit_managed_records: false,
        };
        let admin = caller.is_admin();
        let flag = |name: &str| header(name).is_some_and(truthy);
        // Designate refuses these to non-admins (policies `all_tenants`,
        // `use_sudo`, `edit_managed_records`) with 403.
        if flag("X-Auth-All-Projects") {
            admin.then_some(()).ok_or_else(ApiError::forbidden)?;
            caller.all_projects = true;
        }
        if flag("X-Designate-Edit-Managed-Records") {
            admin.then_some(()).ok_or_else(ApiError::forbidden)?;
            caller.edit_managed_records = true;
        }
        if flag("X-Designate-Hard-Delete") {
            admin.then_some(()).ok_or_else(ApiError::forbidden)?;
        }
        let sudo = header("X-Auth-Sudo-Project-ID").or_else(|| header("X-Auth-Sudo-Tenant-ID"));
        if let Some(project) = sudo {
            admin.then_some(()).ok_or_else(ApiError::forbidden)?;
            caller.project = project.to_string();
        }
        Ok(caller)
    }
}

/// oslo's `strutils.bool_from_string`, as Designate reads header flags.
fn truthy(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "1" | "t" | "true" | "on" | "y" | "yes"
    )
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.has("admin")
    }

    fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// `SYSTEM_OR_PROJECT_READER`: reads of the caller's own resources.
    pub fn may_read(&self) -> Result<(), ApiError> {
        (self.is_admin() || self.has("member") || self.has("reader"))
            .then_some(())
            .ok_or_else(ApiError::forbidden)
    }

    /// `SYSTEM_ADMIN_OR_PROJECT_MEMBER`: writes of the caller's own zones.
    pub fn may_write(&self) -> Result<(), ApiError> {
        (self.is_admin() || self.has("member"))
            .then_some(())
            .ok_or_else(ApiError::forbidden)
    }

    /// Admin-only endpoints (pools).
    pub fn may_administer(&self) -> Result<(), ApiError> {
        self.is_admin()
            .then_some(())
            .ok_or_else(ApiError::forbidden)
    }

    /// What Central lets this caller do beyond a member.
    pub fn privileges(&self) -> Privileges {
        let admin = self.is_admin();
        Privileges {
            low_ttl: admin,
            blacklisted_zone: admin,
            edit_managed_records: self.edit_managed_records,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn defaults_are_designates() {
        let caller = NoAuth.authenticate(&HeaderMap::new()).unwrap();
        assert_eq!(caller.project, "noauth-project");
        assert!(caller.is_admin());
    }

    #[test]
    fn readers_read_and_do_not_write() {
        let caller = NoAuth
            .authenticate(&headers(&[
                ("X-Auth-Project-ID", "p"),
                ("X-Roles", "reader"),
            ]))
            .unwrap();
        assert!(caller.may_read().is_ok());
        assert_eq!(caller.may_write().unwrap_err().code, 403);
    }

    #[test]
    fn only_admins_span_projects_or_sudo() {
        let member = [("X-Roles", "member"), ("X-Auth-All-Projects", "true")];
        assert_eq!(
            NoAuth.authenticate(&headers(&member)).unwrap_err().code,
            403
        );
        let sudo = NoAuth
            .authenticate(&headers(&[("X-Auth-Sudo-Project-ID", "other")]))
            .unwrap();
        assert_eq!(sudo.project, "other");
    }
}
