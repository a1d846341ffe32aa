//! Who is calling and what they may do: Designate's `ContextMiddleware`
//! (the request context, its header flags each behind its policy) over a
//! pluggable authentication, and the policy checks of every operation.
//!
//! Authentication ([`Authenticate`]) yields a [`Principal`]:
//! - [`NoAuth`] (Designate's `auth_strategy = noauth`, for development)
//!   takes the project and roles from headers;
//! - [`KeystoneAuth`] validates `X-Auth-Token` with Keystone, as
//!   keystonemiddleware does in front of Designate.
//!
//! Every `/v2` request is authenticated once by [`authenticate`] (a
//! middleware), which leaves the [`Caller`] in the request's extensions for
//! the handlers to take as an extractor.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use designate_central::Privileges;
use designate_identity::keystone::Keystone;
use designate_identity::policy::{Credentials, Policy, Target, Value};
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;

use crate::error::ApiError;
use crate::{Api, zones::query_pairs};

/// Who a request speaks for, as authentication established it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Option<String>,
    pub project_id: String,
    /// Lower-cased role names.
    pub roles: Vec<String>,
}

/// Turns a request's headers into a [`Principal`], or refuses it.
pub trait Authenticate: Send + Sync + 'static {
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<Principal, Refusal>>;

    /// Whether the identity service knows `project_id` (Designate's
    /// `quotas_verify_project_id`); `None` where it cannot tell (noauth).
    fn project_exists<'a>(
        &'a self,
        _project_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<bool>, Refusal>> {
        Box::pin(async { Ok(None) })
    }
}

/// Why a request was not authenticated.
#[derive(Debug)]
pub enum Refusal {
    /// No valid token: keystonemiddleware's 401 with its challenge.
    Unauthenticated { challenge: String },
    /// Keystone could not be asked: 503 in Designate's shape, never a pass.
    Unavailable,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated { challenge } => {
                let body = json!({"error": {
                    "code": 401,
                    "title": "Unauthorized",
                    "message": "The request you have made requires authentication.",
                }});
                let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            Self::Unavailable => ApiError::identity_unavailable().into_response(),
        }
    }
}

/// Designate's `noauth` strategy: the project is `X-Auth-Project-ID`
/// (default `noauth-project`), roles come from `X-Roles`: `admin` when the
/// header is absent (as Designate), none when it is empty or unreadable.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

pub const NOAUTH_PROJECT: &str = "noauth-project";

impl Authenticate for NoAuth {
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<Principal, Refusal>> {
        let text = |name: &str| {
            headers
                .get(name)
                .map(|v| v.to_str().unwrap_or_default().trim())
        };
        let roles = match headers.get("X-Roles") {
            None => vec!["admin".to_string()],
            Some(value) => parse_roles(value.to_str().unwrap_or_default()),
        };
        let principal = Principal {
            user_id: Some(text("X-Auth-User-ID").unwrap_or("noauth-user").to_string()),
            project_id: text("X-Auth-Project-ID")
                .filter(|p| !p.is_empty())
                .unwrap_or(NOAUTH_PROJECT)
                .to_string(),
            roles,
        };
        Box::pin(async move { Ok(principal) })
    }
}

fn parse_roles(text: &str) -> Vec<String> {
    text.split(',')
        .map(|r| r.trim().to_ascii_lowercase())
        .filter(|r| !r.is_empty())
        .collect()
}

/// Keystone tokens (`auth_strategy = keystone`).
pub struct KeystoneAuth(pub Keystone);

impl KeystoneAuth {
    fn refusal(&self, error: designate_identity::Error) -> Refusal {
        use designate_identity::Error;
        match error {
            Error::InvalidToken(why) => {
                tracing::info!(reason = "InvalidToken", %why, "token refused");
                self.unauthenticated()
            }
            other => {
                tracing::warn!(reason = other.reason(), error = %other, "Keystone unavailable");
                Refusal::Unavailable
            }
        }
    }

    fn unauthenticated(&self) -> Refusal {
        Refusal::Unauthenticated {
            challenge: self.0.www_authenticate(),
        }
    }
}

impl Authenticate for KeystoneAuth {
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<Principal, Refusal>> {
        Box::pin(async move {
            let Some(token) = headers.get("X-Auth-Token") else {
                return Err(self.unauthenticated());
            };
            let token = token.to_str().map_err(|_| self.unauthenticated())?;
            let identity = self
                .0
                .validate(token.trim())
                .await
                .map_err(|e| self.refusal(e))?;
            Ok(Principal {
                user_id: Some(identity.user_id),
                project_id: identity.project_id,
                roles: identity.roles,
            })
        })
    }

    /// Asked with the service user; Keystone unreachable or refusing it
    /// is a 503, never a pass.
    fn project_exists<'a>(
        &'a self,
        project_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<bool>, Refusal>> {
        Box::pin(async move {
            self.0
                .project_exists(project_id)
                .await
                .map(Some)
                .map_err(|e| self.refusal(e))
        })
    }
}

/// The caller of one request: its principal with Designate's context flags
/// applied, and the namespace its project owns.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: Option<String>,
    /// The project acted for (the sudo project when an admin asked for one).
    pub project: String,
    pub roles: Vec<String>,
    /// `X-Auth-All-Projects`: reads span every project.
    pub all_projects: bool,
    /// `X-Designate-Edit-Managed-Records`.
    pub edit_managed_records: bool,
    /// `X-Designate-Hard-Delete`.
    pub hard_delete: bool,
    /// `X-Designate-Delete-Shares`: a zone's delete removes its shares.
    pub delete_shares: bool,
    /// The namespace the project owns; `None` until it has one (then it
    /// sees nothing).
    pub namespace: Option<String>,
    /// The rules every check of this request is made against.
    policy: Arc<Policy>,
}

impl Caller {
    /// Designate's `ContextMiddleware`: sudo, then all projects, edit
    /// managed records and hard delete, each refused with 403 when its
    /// policy does not allow it.
    pub fn new(
        principal: Principal,
        headers: &HeaderMap,
        query: Option<&str>,
        policy: Arc<Policy>,
    ) -> Result<Self, ApiError> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let mut caller = Self {
            user_id: principal.user_id,
            project: principal.project_id,
            roles: principal.roles,
            all_projects: false,
            edit_managed_records: false,
            hard_delete: false,
            delete_shares: false,
            namespace: None,
            policy,
        };
        let sudo = header("X-Auth-Sudo-Project-ID").or_else(|| header("X-Auth-Sudo-Tenant-ID"));
        if let Some(project) = sudo {
            caller.require("use_sudo", &Target::new())?;
            tracing::info!(from = %caller.project, to = %project, "sudo");
            caller.project = project.to_string();
        }
        let pairs = query_pairs(query);
        let from_query = |names: &[&str]| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| names.contains(&k.as_str()))
                .map(|(_, v)| truthy(v))
        };
        caller.all_projects = from_query(&["all_projects", "all_tenants"])
            .unwrap_or_else(|| header("X-Auth-All-Projects").is_some_and(truthy));
        if caller.all_projects {
            caller.require("all_tenants", &Target::new())?;
        }
        caller.edit_managed_records = from_query(&["edit_managed_records"])
            .unwrap_or_else(|| header("X-Designate-Edit-Managed-Records").is_some_and(truthy));
        if caller.edit_managed_records {
            caller.require("edit_managed_records", &Target::new())?;
        }
        caller.hard_delete = header("X-Designate-Hard-Delete").is_some_and(truthy);
        if caller.hard_delete {
            caller.require("hard_delete", &Target::new())?;
        }
        // Designate checks no policy for it beyond `delete_zone`.
        caller.delete_shares = header("X-Designate-Delete-Shares").is_some_and(truthy);
        Ok(caller)
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            user_id: self.user_id.clone(),
            project_id: Some(self.project.clone()),
            roles: self.roles.clone(),
            is_admin: false,
        }
    }

    /// Whether the policy's rule allows this caller on `target`.
    pub fn allowed(&self, rule: &str, target: &Target) -> bool {
        let allowed = self.policy.enforce(rule, target, &self.credentials());
        if !allowed {
            tracing::info!(rule, project = %self.project, "policy denied");
        }
        allowed
    }

    /// The policy's rule, or Designate's 403 `forbidden`.
    pub fn require(&self, rule: &str, target: &Target) -> Result<(), ApiError> {
        self.allowed(rule, target)
            .then_some(())
            .ok_or_else(ApiError::forbidden)
    }

    /// A check whose target is the caller's own project (list operations).
    pub fn require_own(&self, rule: &str) -> Result<(), ApiError> {
        self.require(rule, &project_target(&self.project))
    }

    /// What Central lets this caller do beyond a member.
    pub fn privileges(&self) -> Privileges {
        let own = project_target(&self.project);
        Privileges {
            low_ttl: self.allowed("use_low_ttl", &own),
            blacklisted_zone: self.allowed("use_blacklisted_zone", &own),
            edit_managed_records: self.edit_managed_records,
        }
    }
}

/// `{project_id, tenant_id}`: what Central passes for project-wide checks.
pub fn project_target(project: &str) -> Target {
    Target::from([
        ("project_id", Value::Str(project.to_string())),
        ("tenant_id", Value::Str(project.to_string())),
    ])
}

/// Central's target for a zone's checks: its project, type and whether it
/// is shared with the caller.
pub fn zone_target(project: &str, zone_type: &str, shared: bool) -> Target {
    let mut target = project_target(project);
    target.insert("zone_type", Value::Str(zone_type.to_string()));
    target.insert("zone_shared", Value::Bool(shared));
    target
}

/// oslo's `strutils.bool_from_string`, as Designate reads header flags.
fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "t" | "true" | "on" | "y" | "yes"
    )
}

/// The middleware in front of `/v2`: authenticates the request, applies
/// the context flags and finds the caller's namespace.
pub async fn authenticate(
    State(api): State<Arc<Api>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/v2") {
        return next.run(request).await;
    }
    let principal = match api.auth.authenticate(request.headers()).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal.into_response(),
    };
    let mut caller = match Caller::new(
        principal,
        request.headers(),
        request.uri().query(),
        api.policy.clone(),
    ) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    caller.namespace = api.tenancy.namespace_of(&api.cache, &caller.project);
    request.extensions_mut().insert(caller);
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unknown("a /v2 handler ran without the auth middleware"))
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

    fn caller(pairs: &[(&'static str, &'static str)]) -> Result<Caller, ApiError> {
        let headers = headers(pairs);
        let principal = futures::executor::block_on(NoAuth.authenticate(&headers))
            .unwrap_or_else(|_| panic!("noauth refused"));
        Caller::new(
            principal,
            &headers,
            None,
            Arc::new(Policy::designate_defaults()),
        )
    }

    #[test]
    fn noauth_defaults_are_designates() {
        let caller = caller(&[]).unwrap();
        assert_eq!(caller.project, "noauth-project");
        assert_eq!(caller.roles, ["admin"]);
    }

    #[test]
    fn an_empty_or_unreadable_roles_header_is_no_role() {
        assert!(caller(&[("X-Roles", "")]).unwrap().roles.is_empty());
        assert!(caller(&[("X-Roles", " , ")]).unwrap().roles.is_empty());
        let mut map = HeaderMap::new();
        map.insert("X-Roles", HeaderValue::from_bytes(b"adm\xffin").unwrap());
        let principal = futures::executor::block_on(NoAuth.authenticate(&map))
            .unwrap_or_else(|_| panic!("noauth refused"));
        assert!(principal.roles.is_empty());
        let nobody = caller(&[("X-Roles", "")]).unwrap();
        assert!(!nobody.allowed("find_zones", &project_target(&nobody.project)));
    }

    #[test]
    fn readers_read_and_do_not_write() {
        let caller = caller(&[("X-Auth-Project-ID", "p"), ("X-Roles", "reader")]).unwrap();
        assert!(caller.require_own("find_zones").is_ok());
        assert_eq!(caller.require_own("create_zone").unwrap_err().code, 403);
    }

    #[test]
    fn only_admins_span_projects_or_sudo() {
        for flag in [
            "X-Auth-All-Projects",
            "X-Designate-Edit-Managed-Records",
            "X-Designate-Hard-Delete",
        ] {
            let refused = caller(&[("X-Roles", "member,reader"), (flag, "true")]);
            assert_eq!(refused.unwrap_err().code, 403, "{flag}");
        }
        let refused = caller(&[("X-Roles", "member"), ("X-Auth-Sudo-Project-ID", "other")]);
        assert_eq!(refused.unwrap_err().code, 403);
        let sudo = caller(&[("X-Auth-Sudo-Project-ID", "other")]).unwrap();
        assert_eq!(sudo.project, "other");
        // A flag set to a false value is no flag.
        let member = caller(&[("X-Roles", "member"), ("X-Auth-All-Projects", "no")]);
        assert!(!member.unwrap().all_projects);
    }
}
