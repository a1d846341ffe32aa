//! `designate-identity`: who is calling and what they may do.
//!
//! - [`policy`]: oslo.policy check strings (parse, evaluate) with Designate
//!   23's default rules for every v2 operation, and operator overrides from
//!   an oslo.policy YAML/JSON file. Pure.
//! - [`keystone`]: Keystone v3 token validation as keystonemiddleware does
//!   it for Designate (a service user validates each `X-Auth-Token`), with a
//!   bounded cache that never outlives a token.

pub mod keystone;
pub mod policy;

/// Why identity could not be established or a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The token is missing, malformed, expired, revoked, unscoped or for a
    /// project or user that no longer exists (401).
    #[error("the token is not valid: {0}")]
    InvalidToken(String),
    /// Keystone could not be reached or answered with a server error (503).
    #[error("Keystone is unreachable: {0}")]
    KeystoneUnreachable(String),
    /// The service user's own credentials were refused by Keystone.
    #[error("Keystone refused the service user: {0}")]
    ServiceAuth(String),
    /// A Keystone setting is unusable (URL, password file).
    #[error("Keystone configuration: {0}")]
    Config(String),
    /// A policy file or check string could not be parsed.
    #[error("policy {rule:?}: {message}")]
    Policy { rule: String, message: String },
}

impl Error {
    /// Stable reason for logs and metrics.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::InvalidToken(_) => "InvalidToken",
            Self::KeystoneUnreachable(_) => "KeystoneUnreachable",
            Self::ServiceAuth(_) => "ServiceAuth",
            Self::Config(_) => "Config",
            Self::Policy { .. } => "Policy",
        }
    }
}
