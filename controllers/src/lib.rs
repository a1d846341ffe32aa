//! `designate-controllers`: the kube-runtime controllers of the operator.
//!
//! Each reconcile is observe → decide (pure) → act, with one status write
//! that is skipped when nothing changed. For now the Zone controller
//! accepts zones (finalizer, PENDING status, observedGeneration); Central,
//! storage and the nameserver roles plug into `decide` and `cleanup` as
//! they land.

mod error;
pub mod zone;

use std::future::Future;

pub use error::Error;

/// Field manager of every write the operator makes.
pub const FIELD_MANAGER: &str = "designate-operator";

/// Runs every controller until `shutdown` resolves.
pub async fn run(client: kube::Client, shutdown: impl Future<Output = ()> + Send + Sync + 'static) {
    zone::run(client, shutdown).await;
}
