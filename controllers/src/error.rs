use kube::runtime::finalizer;

/// Errors of a reconcile; `reason()` is the stable label for logs,
/// metrics and status conditions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<finalizer::Error<Error>>),
    #[error("object has no namespace")]
    MissingNamespace,
    #[error("serialization: {0}")]
    Serialization(#[from] serde_json::Error),
    #[error("storage: {0}")]
    Storage(#[from] designate_storage::Error),
    #[error("pool {pool} still serves {zones} zone(s)")]
    PoolInUse { pool: String, zones: usize },
    #[error("watch cache stopped")]
    CacheStopped,
    #[error("backend: {0}")]
    Backend(#[from] designate_backends::Error),
    #[error("zone {zone} is still served by {servers}")]
    StillServed { zone: String, servers: String },
    #[error("grant key: {0}")]
    GrantKey(String),
    /// A pool target names a Secret that is not there.
    #[error("the pool target's Secret {namespace}/{name} is not found")]
    SecretNotFound { namespace: String, name: String },
    /// A transfer's copy cannot be made: another object has its name.
    #[error("{namespace}/{name} exists and is not the transferred object")]
    TransferBlocked { namespace: String, name: String },
}

impl Error {
    /// Whether it keeps a pool's targets from being provisioned until the
    /// Pool or its Secrets change (not worth an error backoff).
    pub(crate) fn is_target_problem(&self) -> bool {
        matches!(
            self,
            Error::SecretNotFound { .. }
                | Error::Backend(designate_backends::Error::TargetNotAllowed { .. })
        )
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube(_) => "KubeApiError",
            Error::Finalizer(inner) => match inner.as_ref() {
                finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e.reason(),
                _ => "FinalizerError",
            },
            Error::MissingNamespace => "MissingNamespace",
            Error::Serialization(_) => "SerializationError",
            Error::Storage(e) => e.reason(),
            Error::PoolInUse { .. } => "PoolInUse",
            Error::CacheStopped => "CacheStopped",
            Error::Backend(e) => e.reason(),
            Error::StillServed { .. } => "ZoneStillServed",
            Error::GrantKey(_) => "GrantKeyInvalid",
            Error::SecretNotFound { .. } => "SecretNotFound",
            Error::TransferBlocked { .. } => "TransferBlocked",
        }
    }
}
