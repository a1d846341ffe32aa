//! `designate-migrate`: the way in for Designate users.
//! - [`pools`] turns Designate's `pools.yaml` (what `designate-manage pool
//!   update --file` reads) into `Pool` resources, with the targets' secret
//!   options moved into Secrets the Pools reference, so that
//!   `designate-operator pools import pools.yaml | kubectl apply -f -`
//!   brings the pools over.
//! - [`database`] reads a Designate 23 database and [`import`] turns its
//!   rows into this operator's objects with the same ids, which
//!   `designate-operator import --from URL` writes.
//!
//! Pure but for [`database`]: the caller writes the objects.

pub mod database;
pub mod import;
pub mod pools;

/// Errors of a migration; `reason()` is the stable label.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("not Designate's pools.yaml: {0}")]
    PoolsYaml(String),
    #[error("pool {pool}: {message}")]
    InvalidPool { pool: String, message: String },
    #[error("reading the Designate database: {0}")]
    Database(String),
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::PoolsYaml(_) => "InvalidPoolsYaml",
            Self::InvalidPool { .. } => "InvalidPool",
            Self::Database(_) => "DesignateDatabase",
        }
    }
}
