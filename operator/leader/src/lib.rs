//! `designate-leader`: leader election over a `coordination.k8s.io/v1`
//! Lease, as client-go's `leaderelection` does it, so that of several
//! controllers replicas exactly one acts.
//!
//! The Lease names its holder and when it last renewed. A candidate takes
//! the Lease when there is none, when it names no holder (released), or
//! when its record has not changed for `lease_duration` *as this candidate
//! observed it* (a local clock, so clocks that disagree between machines
//! do not matter). Every write carries the resourceVersion read, so of two
//! candidates racing for an expired Lease one wins and the other gets 409.
//!
//! The leader renews every `retry_period`; if it cannot renew for
//! `renew_deadline` (shorter than `lease_duration`), it stops leading
//! before anyone else may take over: no two replicas act at once as long
//! as their clocks run at the same rate. On shutdown it releases the Lease
//! (no holder), and a standby takes over at its next try instead of after
//! the whole duration.
//!
//! [`LeaderElector::decide`] is the pure step; [`LeaderElector::run`] the IO
//! loop around it.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// Errors of the election; `reason()` is the stable label for logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("invalid election settings: {0}")]
    Settings(String),
    /// The leader could not renew within the renew deadline.
    #[error("leadership of {lease} lost: not renewed within {deadline:?}")]
    LeadershipLost { lease: String, deadline: Duration },
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Kube(_) => "KubeApiError",
            Self::Settings(_) => "InvalidSettings",
            Self::LeadershipLost { .. } => "LeadershipLost",
        }
    }
}

/// How the election runs (client-go's defaults: 15 s, 10 s, 2 s).
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a standby waits, after the Lease last changed, before it
    /// takes over.
    pub lease_duration: Duration,
    /// How long the leader keeps acting without a successful renewal.
    pub renew_deadline: Duration,
    /// How often the leader renews and a standby tries.
    pub retry_period: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// One candidate for the Lease `name` in a namespace.
pub struct LeaderElector {
    leases: Api<Lease>,
    name: String,
    identity: String,
    settings: Settings,
    /// The Lease record as last seen, and when it was first seen so.
    observed: Option<(Observed, Instant)>,
}

/// What of a Lease tells whether its holder is alive: any change of it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Observed {
    holder: Option<String>,
    renew_time: Option<Timestamp>,
    transitions: Option<i32>,
}

impl Observed {
    fn of(lease: &Lease) -> Self {
        let spec = lease.spec.clone().unwrap_or_default();
        Self {
            holder: spec.holder_identity.filter(|h| !h.is_empty()),
            renew_time: spec.renew_time.map(|t| t.0),
            transitions: spec.lease_transitions,
        }
    }
}

/// What to do with the Lease as read (pure).
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// There is none: create it, holding it.
    Create,
    /// Ours: renew it.
    Renew,
    /// Released or expired: take it over.
    TakeOver,
    /// Another candidate holds it and renews it.
    Wait,
}

impl LeaderElector {
    /// A candidate named `identity` (unique per replica: the pod name).
    pub fn new(
        client: Client,
        namespace: &str,
        name: &str,
        identity: &str,
        settings: Settings,
    ) -> Result<Self, Error> {
        if settings.renew_deadline >= settings.lease_duration
            || settings.retry_period >= settings.renew_deadline
            || settings.retry_period.is_zero()
        {
            return Err(Error::Settings(format!(
                "need retry period < renew deadline < lease duration, got {settings:?}"
            )));
        }
        if identity.is_empty() {
            return Err(Error::Settings("the identity is empty".into()));
        }
        Ok(Self {
            leases: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            settings,
            observed: None,
        })
    }

    /// The step for `lease` read at `now` (pure but for remembering when
    /// its record last changed).
    pub fn decide(&mut self, lease: Option<&Lease>, now: Instant) -> Step {
        let Some(lease) = lease else {
            self.observed = None;
            return Step::Create;
        };
        let record = Observed::of(lease);
        let since = match &self.observed {
            Some((seen, since)) if *seen == record => *since,
            _ => now,
        };
        self.observed = Some((record.clone(), since));
        match record.holder {
            Some(holder) if holder == self.identity => Step::Renew,
            None => Step::TakeOver,
            Some(_) if now.duration_since(since) >= self.settings.lease_duration => Step::TakeOver,
            Some(_) => Step::Wait,
        }
    }

    /// One try: reads the Lease and acts on it; whether we hold it now.
    async fn try_acquire_or_renew(&mut self) -> Result<bool, Error> {
        let current = self.leases.get_opt(&self.name).await?;
        let step = self.decide(current.as_ref(), Instant::now());
        let now = MicroTime(Timestamp::now());
        let duration_seconds = i32::try_from(self.settings.lease_duration.as_secs()).ok();
        let written = match (step, current) {
            (Step::Wait, _) => return Ok(false),
            (Step::Create, _) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.identity.clone()),
                        lease_duration_seconds: duration_seconds,
                        acquire_time: Some(now.clone()),
                        renew_time: Some(now),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                self.leases.create(&PostParams::default(), &lease).await
            }
            (step, Some(mut lease)) => {
                let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
                if step == Step::TakeOver {
                    spec.holder_identity = Some(self.identity.clone());
                    spec.acquire_time = Some(now.clone());
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                }
                spec.lease_duration_seconds = duration_seconds;
                spec.renew_time = Some(now);
                // The resourceVersion read: a concurrent write makes it 409.
                self.leases
                    .replace(&self.name, &PostParams::default(), &lease)
                    .await
            }
            (_, None) => unreachable!("a Lease to renew or take over was read"),
        };
        match written {
            Ok(lease) => {
                // Our own write is the record others watch change.
                self.observed = Some((Observed::of(&lease), Instant::now()));
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                debug!(lease = %self.name, "lost a race for the lease");
                Ok(false)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Waits until this candidate leads.
    pub async fn acquire(&mut self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    info!(lease = %self.name, identity = %self.identity, "leading");
                    return;
                }
                Ok(false) => {}
                Err(error) => {
                    warn!(lease = %self.name, reason = error.reason(), %error, "leader election")
                }
            }
            tokio::time::sleep(self.settings.retry_period).await;
        }
    }

    /// Renews until a renewal fails for longer than the renew deadline.
    async fn keep(&mut self) -> Error {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.settings.retry_period).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => {
                    // Someone else holds it: we may no longer act.
                    return self.lost();
                }
                Err(error) => {
                    warn!(lease = %self.name, reason = error.reason(), %error, "renewing the lease");
                }
            }
            if renewed.elapsed() >= self.settings.renew_deadline {
                return self.lost();
            }
        }
    }

    fn lost(&self) -> Error {
        Error::LeadershipLost {
            lease: self.name.clone(),
            deadline: self.settings.renew_deadline,
        }
    }

    /// Gives the Lease up (no holder), if we hold it, so that a standby
    /// takes over at its next try.
    pub async fn release(&mut self) -> Result<(), Error> {
        let Some(mut lease) = self.leases.get_opt(&self.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        self.leases
            .replace(&self.name, &PostParams::default(), &lease)
            .await?;
        info!(lease = %self.name, "leadership released");
        Ok(())
    }

    /// Runs `work` while leading: waits for the Lease (or for `stop`, then
    /// returns), runs `work` and renews beside it. Returns `Ok` when `work`
    /// ends (the Lease is then released), and [`Error::LeadershipLost`]
    /// when renewing failed, with `work` dropped before anyone else may
    /// take over. `work` is not polled before this candidate leads.
    pub async fn run(
        &mut self,
        work: impl Future<Output = ()>,
        stop: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        tokio::select! {
            () = self.acquire() => {}
            () = stop => return Ok(()),
        }
        let outcome = tokio::select! {
            () = work => Ok(()),
            lost = self.keep() => Err(lost),
        };
        match outcome {
            Ok(()) => self.release().await,
            Err(lost) => Err(lost),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: Option<&str>, renewed_at: i64) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_string),
                renew_time: Some(MicroTime(Timestamp::from_second(renewed_at).unwrap())),
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        }
    }

    async fn elector(identity: &str) -> (LeaderElector, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let server =
            designate_apiserver::ApiServer::open(designate_apiserver::Config::new(dir.path()))
                .await
                .unwrap();
        let client = Client::new(server.router(), "default");
        let settings = Settings {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        };
        let elector = LeaderElector::new(client, "default", "test", identity, settings).unwrap();
        (elector, dir)
    }

    #[tokio::test]
    async fn a_lease_renewed_by_another_is_waited_on_until_it_stops_changing() {
        let (mut me, _dir) = elector("b").await;
        let t0 = Instant::now();
        assert_eq!(me.decide(None, t0), Step::Create);
        assert_eq!(me.decide(Some(&lease(Some("b"), 1)), t0), Step::Renew);
        assert_eq!(me.decide(Some(&lease(None, 1)), t0), Step::TakeOver);
        // Held by a: wait while it keeps changing, however old its clock says.
        assert_eq!(me.decide(Some(&lease(Some("a"), 1)), t0), Step::Wait);
        let t1 = t0 + Duration::from_secs(14);
        assert_eq!(me.decide(Some(&lease(Some("a"), 2)), t1), Step::Wait);
        // Unchanged for the lease duration from when it last changed: expired.
        let t2 = t1 + Duration::from_secs(14);
        assert_eq!(me.decide(Some(&lease(Some("a"), 2)), t2), Step::Wait);
        let t3 = t1 + Duration::from_secs(15);
        assert_eq!(me.decide(Some(&lease(Some("a"), 2)), t3), Step::TakeOver);
    }

    #[test]
    fn settings_must_nest() {
        let bad = Settings {
            lease_duration: Duration::from_secs(10),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        };
        let client = || {
            // Never called: the settings are refused first.
            Client::try_from(kube::Config::new("http://127.0.0.1:1".parse().unwrap())).unwrap()
        };
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let _guard = runtime.enter();
        let error = LeaderElector::new(client(), "default", "l", "me", bad)
            .err()
            .unwrap();
        assert_eq!(error.reason(), "InvalidSettings");
    }

    /// Two candidates on one API server, with short periods.
    async fn two_candidates() -> (LeaderElector, LeaderElector, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let server =
            designate_apiserver::ApiServer::open(designate_apiserver::Config::new(dir.path()))
                .await
                .unwrap();
        let settings = Settings {
            lease_duration: Duration::from_millis(600),
            renew_deadline: Duration::from_millis(400),
            retry_period: Duration::from_millis(50),
        };
        let candidate = |identity: &str| {
            let client = Client::new(server.router(), "default");
            LeaderElector::new(client, "default", "ctl", identity, settings.clone()).unwrap()
        };
        (candidate("a"), candidate("b"), dir)
    }

    async fn holder(elector: &LeaderElector) -> Option<String> {
        let lease = elector.leases.get_opt("ctl").await.unwrap()?;
        lease.spec?.holder_identity
    }

    #[tokio::test]
    async fn a_standby_takes_over_when_the_leader_stops_renewing() {
        let (mut a, mut b, _dir) = two_candidates().await;
        a.acquire().await;
        // A leads and renews: B does not get in meanwhile.
        let leading = tokio::spawn(async move {
            let _ = a.run(std::future::pending(), std::future::pending()).await;
        });
        let standby = tokio::spawn(async move {
            b.acquire().await;
            b
        });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(!standby.is_finished(), "B took over from a renewing leader");
        // A dies without releasing (as kill -9): B takes over after the
        // lease duration, not before.
        leading.abort();
        let died = Instant::now();
        let b = tokio::time::timeout(Duration::from_secs(5), standby)
            .await
            .expect("B takes over")
            .unwrap();
        assert!(
            died.elapsed() >= Duration::from_millis(500),
            "{:?}",
            died.elapsed()
        );
        assert_eq!(holder(&b).await.as_deref(), Some("b"));
        let lease = b.leases.get("ctl").await.unwrap();
        assert_eq!(lease.spec.unwrap().lease_transitions, Some(1));
    }

    #[tokio::test]
    async fn a_released_lease_is_taken_at_the_next_try() {
        let (mut a, mut b, _dir) = two_candidates().await;
        // A's work ends: it releases the Lease.
        a.run(async {}, std::future::pending()).await.unwrap();
        assert_eq!(holder(&a).await, None);
        // B's very first try takes it: no waiting out the lease duration.
        assert!(b.try_acquire_or_renew().await.unwrap());
        assert_eq!(holder(&b).await.as_deref(), Some("b"));
    }

    #[tokio::test]
    async fn a_leader_whose_lease_was_taken_stops_at_its_next_renewal() {
        let (mut a, b, _dir) = two_candidates().await;
        a.acquire().await;
        // Someone else holds the Lease now (as after a partition).
        let mut lease = b.leases.get("ctl").await.unwrap();
        lease.spec.as_mut().unwrap().holder_identity = Some("b".into());
        b.leases
            .replace("ctl", &PostParams::default(), &lease)
            .await
            .unwrap();
        let lost = tokio::time::timeout(Duration::from_secs(1), a.keep())
            .await
            .expect("A stops leading");
        assert_eq!(lost.reason(), "LeadershipLost");
    }
}
