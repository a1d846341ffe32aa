//! Errors: `Error` for the library's own failures, `ApiError` for what a
//! client sees (rendered as a Kubernetes `Status` object).

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};

/// Failures of the control plane itself (storage, bad CRDs, IO).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("storage: {0}")]
    Storage(#[from] sea_orm::DbErr),
    #[error("stored object {key} is not valid JSON: {source}")]
    CorruptObject {
        key: String,
        source: serde_json::Error,
    },
    #[error("invalid CustomResourceDefinition {name}: {reason}")]
    InvalidCrd { name: String, reason: String },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage writer stopped")]
    WriterStopped,
}

impl Error {
    /// Stable reason for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Storage(_) => "StorageError",
            Error::CorruptObject { .. } => "CorruptObject",
            Error::InvalidCrd { .. } => "InvalidCrd",
            Error::Io(_) => "IoError",
            Error::WriterStopped => "WriterStopped",
        }
    }
}

/// One entry of `Status.details.causes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

/// An error answered to a client as a `Status` object, as kube-apiserver does.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    /// `details`: (group, kind, name) of the object concerned, if any.
    pub details: Option<Box<(String, String, String)>>,
    pub causes: Vec<Cause>,
}

impl ApiError {
    pub fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            causes: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn not_found(resource: &str, name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{resource} \"{name}\" not found"),
        )
    }

    pub fn path_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn already_exists(resource: &str, name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{resource} \"{name}\" already exists"),
        )
    }

    pub fn conflict(resource: &str, name: &str, why: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("Operation cannot be fulfilled on {resource} \"{name}\": {why}"),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type:?})"
            ),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "Expired", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    /// 422 Invalid, with one cause per field, and kube-apiserver's message:
    /// `Zone.designate.openstack.org "x" is invalid: [spec.ttl: ..., ...]`.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let parts: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let summary = if parts.len() == 1 {
            parts[0].clone()
        } else {
            format!("[{}]", parts.join(", "))
        };
        Self {
            code: StatusCode::UNPROCESSABLE_ENTITY,
            reason: "Invalid",
            message: format!("{qualified} \"{name}\" is invalid: {summary}"),
            details: Some(Box::new((
                group.to_string(),
                kind.to_string(),
                name.to_string(),
            ))),
            causes,
        }
    }

    /// The `Status` object kube-apiserver answers with.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if self.details.is_some() || !self.causes.is_empty() {
            let mut details = json!({});
            if let Some((group, kind, name)) = self.details.as_deref() {
                if !name.is_empty() {
                    details["name"] = json!(name);
                }
                if !group.is_empty() {
                    details["group"] = json!(group);
                }
                details["kind"] = json!(kind);
            }
            if !self.causes.is_empty() {
                details["causes"] = self
                    .causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect();
            }
            status["details"] = details;
        }
        status
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        tracing::error!(reason = e.reason(), error = %e, "control plane failure");
        ApiError::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code, axum::Json(self.to_status())).into_response()
    }
}
