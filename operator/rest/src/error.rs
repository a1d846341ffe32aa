//! Errors as Designate answers them: `{"code", "type", "message",
//! "request_id"}` with Designate's HTTP status, or the `errors` list of an
//! `invalid_object` answer.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};

/// Why the REST server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("listening on the REST address: {0}")]
    Listen(#[source] std::io::Error),
    #[error("the watch cache of {0} stopped before its first list")]
    CacheStopped(&'static str),
}

impl Error {
    /// Stable reason for logs and metrics.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::Listen(_) => "Listen",
            Self::CacheStopped(_) => "CacheStopped",
        }
    }
}

/// One request's refusal, rendered in Designate's error shape. The request
/// id is added by the middleware that answers (it knows the request).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub type_: &'static str,
    /// `None` where Designate sends no `message` (405, `invalid_marker`).
    pub message: Option<String>,
    /// Schema errors of an `invalid_object` answer (`errors.errors`).
    pub errors: Option<Vec<Value>>,
}

impl ApiError {
    pub fn new(code: u16, type_: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            type_,
            message: Some(message.into()),
            errors: None,
        }
    }

    pub fn bare(code: u16, type_: &'static str) -> Self {
        Self {
            code,
            type_,
            message: None,
            errors: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }

    pub fn invalid_object(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_object", message)
    }

    /// An `invalid_object` answer listing schema errors.
    pub fn schema(path: Value, message: String, validator: &str, value: Value) -> Self {
        Self {
            code: 400,
            type_: "invalid_object",
            message: None,
            errors: Some(vec![json!({
                "path": path,
                "message": message,
                "validator": validator,
                "validator_value": value,
            })]),
        }
    }

    pub fn not_found() -> Self {
        Self::new(404, "not_found", "resource not found")
    }

    pub fn zone_not_found() -> Self {
        Self::new(404, "zone_not_found", "Could not find Zone")
    }

    pub fn marker_not_found() -> Self {
        Self::new(400, "marker_not_found", "Marker None could not be found")
    }

    pub fn recordset_not_found() -> Self {
        Self::new(404, "recordset_not_found", "Could not find RecordSet")
    }

    pub fn pool_not_found() -> Self {
        Self::new(404, "pool_not_found", "Could not find Pool")
    }

    pub fn tld_not_found() -> Self {
        Self::new(404, "tld_not_found", "Could not find Tld")
    }

    pub fn forbidden() -> Self {
        Self::new(
            403,
            "forbidden",
            "You are not authorized to perform this action.",
        )
    }

    /// Keystone could not be asked: never a pass.
    pub fn identity_unavailable() -> Self {
        Self::new(
            503,
            "service_unavailable",
            "The identity service is unavailable; try again later.",
        )
    }

    /// The Kubernetes API could not be reached: the client may retry.
    pub fn store_unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(%detail, reason = "StoreUnavailable", "request refused");
        Self::new(
            503,
            "service_unavailable",
            "The Kubernetes API is unavailable; try again later.",
        )
    }

    /// No answer in time: Designate's answer to an RPC timeout.
    pub fn timeout() -> Self {
        Self::bare(504, "timeout")
    }

    pub fn method_not_allowed() -> Self {
        Self::bare(405, "method_not_allowed")
    }

    /// Something of ours failed (the API server, a cache): Designate's 500.
    pub fn unknown(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "request failed");
        Self::bare(500, "unknown")
    }

    /// The JSON body, with the request's id.
    pub fn body(&self, request_id: &str) -> Value {
        let mut body = json!({"code": self.code, "type": self.type_});
        if let Some(message) = &self.message {
            body["message"] = json!(message);
        }
        if let Some(errors) = &self.errors {
            body["errors"] = json!({ "errors": errors });
        }
        body["request_id"] = json!(request_id);
        body
    }
}

impl From<designate_central::Error> for ApiError {
    fn from(error: designate_central::Error) -> Self {
        use designate_central::Error as Central;
        let code = error.code();
        let type_ = error.error_type();
        match &error {
            Central::InvalidRecords(records) => Self {
                code,
                type_,
                message: None,
                errors: Some(
                    records
                        .iter()
                        .map(|r| {
                            let type_ = record_type_of(&r.message);
                            json!({
                                "path": ["records", r.index],
                                "message": r.message,
                                "validator": "format",
                                "validator_value": [type_],
                            })
                        })
                        .collect(),
                ),
            },
            // Designate's JSON-schema layer reports these two as an `errors`
            // list, not as a message (see the golden recordings).
            Central::InvalidObject(message) if message.ends_with("is a required property") => {
                let field = message.split('\'').nth(1).unwrap_or_default();
                Self::schema(
                    json!(["type", field]),
                    message.clone(),
                    "required",
                    json!(field),
                )
            }
            Central::InvalidObject(message) if message.ends_with("is not a valid record type") => {
                let type_ = message.split('\'').nth(1).unwrap_or_default();
                Self::schema(
                    json!(["recordset", "type"]),
                    message.clone(),
                    "value",
                    json!([type_]),
                )
            }
            other => Self::new(code, type_, other.to_string()),
        }
    }
}

/// The record type named in `'<data>' is not a '<TYPE>' Record`.
fn record_type_of(message: &str) -> &str {
    message.rsplit('\'').nth(1).unwrap_or_default()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // The request id is filled in by the request middleware, which
        // finds the error among the response's extensions.
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use designate_central::RecordError;

    #[test]
    fn invalid_records_are_listed_by_position() {
        let error = ApiError::from(designate_central::Error::InvalidRecords(vec![
            RecordError {
                index: 0,
                message: "'999.1.1.1' is not a 'A' Record".into(),
            },
        ]));
        assert_eq!(
            error.body("req-1"),
            json!({"code": 400, "type": "invalid_object", "errors": {"errors": [{
                "path": ["records", 0], "message": "'999.1.1.1' is not a 'A' Record",
                "validator": "format", "validator_value": ["A"]}]}, "request_id": "req-1"})
        );
    }

    #[test]
    fn a_missing_email_is_a_schema_error() {
        let error = ApiError::from(designate_central::Error::InvalidObject(
            "'email' is a required property".into(),
        ));
        assert_eq!(
            error.body("r")["errors"]["errors"][0],
            json!({"path": ["type", "email"], "message": "'email' is a required property",
                   "validator": "required", "validator_value": "email"})
        );
    }

    #[test]
    fn method_not_allowed_has_no_message() {
        assert_eq!(
            ApiError::method_not_allowed().body("r"),
            json!({"code": 405, "type": "method_not_allowed", "request_id": "r"})
        );
    }
}
