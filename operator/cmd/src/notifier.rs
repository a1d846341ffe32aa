//! The relay from storage's notification outbox to the bus: sends what
//! committed changes wrote there, in commit order, and removes it once the
//! broker confirmed it. A broker outage delays notifications and loses
//! none; a crash between the confirm and the removal sends a batch again
//! (at least once, with the same `message_id`s).
//!
//! Zones and recordsets reach the outbox from storage's own transactions.
//! The objects that live only in the Kubernetes API (TLDs, blacklists, TSIG
//! keys, pools) are watched here and noted into storage, which writes their
//! notifications when they differ from what it noted last. They are noted
//! by their Designate id: a share a zone transfer carried along is the same
//! share in its new place (no `dns.zone.unshare`, no second
//! `dns.zone.share`).

use std::fmt::Debug;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use designate_bus::{Notification, Publisher, TransportUrl};
use designate_crd::grant::{self, GrantKey, Mark};
use designate_crd::{
    Blacklist, Pool, Tld, TsigKey, ZoneShare, ZoneTask, ZoneTransferAccept, ZoneTransferRequest,
};
use designate_storage::{ListedObject, NotifiedKind, OutboxMessage, Storage};
use futures::TryStreamExt;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tracing::{info, warn};

/// Notifications per confirmed batch.
const BATCH: u64 = 256;
/// How often the outbox is read when nothing woke the relay: rows other
/// processes wrote (a controllers replica that lost its lease).
const POLL: Duration = Duration::from_secs(1);
/// Bounds of the wait after a failure, doubling from the first (short at
/// the top: a broker back is used within seconds).
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// The bus options of every role that uses it.
#[derive(clap::Args, Clone)]
pub(crate) struct BusArgs {
    /// oslo.messaging's transport URL of the message bus
    /// (`rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost`);
    /// without it no notification is sent.
    #[arg(long, env = "DESIGNATE_TRANSPORT_URL", hide_env_values = true)]
    pub transport_url: Option<String>,
    /// Designate's `control_exchange`: where notifications go.
    #[arg(long, default_value = "designate")]
    pub control_exchange: String,
    /// Designate's `notification_topics`.
    #[arg(long, default_value = "notifications")]
    pub notification_topic: String,
}

impl BusArgs {
    /// The parsed transport URL, when one is given (refused at start when bad).
    pub fn transport(&self) -> anyhow::Result<Option<TransportUrl>> {
        self.transport_url
            .as_deref()
            .map(TransportUrl::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--transport-url: {e}"))
    }
}

/// The leader's notification work until the future is dropped: the
/// Kubernetes-only objects noted, the outbox relayed.
pub(crate) async fn run(
    client: Client,
    storage: Storage,
    publisher: Publisher,
    publisher_id: String,
    grant_key: Option<GrantKey>,
) {
    use designate_rest::{blacklists, pools, shares, tasks, tlds, transfers, tsigkeys};
    // Creation times have whole seconds: an object of this second is recent.
    let began = Timestamp::now().as_second();
    let noting = |kind| Noting {
        storage: &storage,
        kind,
        began,
        grant_key: grant_key.as_ref(),
    };
    let api = || client.clone();
    // Boxed: eight watch futures inline would make one very large future.
    tokio::join!(
        Box::pin(relay(storage.clone(), publisher, publisher_id)),
        Box::pin(noting(NotifiedKind::Tld).run(Api::<Tld>::all(api()), |o| Some(tlds::notice(o)))),
        Box::pin(
            noting(NotifiedKind::Blacklist).run(Api::<Blacklist>::all(api()), |o| {
                Some(blacklists::notice(o))
            })
        ),
        Box::pin(
            noting(NotifiedKind::TsigKey).run(Api::<TsigKey>::all(api()), |o| {
                Some(tsigkeys::notice(o))
            })
        ),
        Box::pin(
            noting(NotifiedKind::Pool).run(Api::<Pool>::all(api()), |o| Some(pools::notice(o)))
        ),
        Box::pin(noting(NotifiedKind::ZoneShare).run(Api::<ZoneShare>::all(api()), shares::notice)),
        // One kind of object, two kinds of task: each watch notes its own.
        Box::pin(
            noting(NotifiedKind::ZoneExport).run(Api::<ZoneTask>::all(api()), tasks::export_notice)
        ),
        Box::pin(
            noting(NotifiedKind::ZoneImport).run(Api::<ZoneTask>::all(api()), tasks::import_notice)
        ),
        Box::pin(
            noting(NotifiedKind::ZoneTransferRequest)
                .run(Api::<ZoneTransferRequest>::all(api()), |o| Some(
                    transfers::request_notice(o)
                ))
        ),
        Box::pin(
            noting(NotifiedKind::ZoneTransferAccept)
                .run(Api::<ZoneTransferAccept>::all(api()), |o| Some(
                    transfers::accept_notice(o)
                ))
        ),
    );
}

/// The watch that notes one kind's objects into storage.
struct Noting<'a> {
    storage: &'a Storage,
    kind: NotifiedKind,
    /// Unix seconds when this process began notifying.
    began: i64,
    /// Verifies the ids and marks a transfer signs.
    grant_key: Option<&'a GrantKey>,
}

impl Noting<'_> {
    /// Notes every object of the kind as the watch sees it. A storage
    /// failure starts the watch again: its relist notes everything anew,
    /// and storage notifies only what differs.
    /// `notice` is the object's payload, `None` for objects of another
    /// kind the same watch sees.
    async fn run<K>(self, api: Api<K>, notice: fn(&K) -> Option<Value>)
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        let kind = self.kind.name();
        let mut retry = RETRY_FIRST;
        loop {
            let events = watcher(api.clone(), watcher::Config::default()).default_backoff();
            let started = std::time::Instant::now();
            // A watch that ran a while failed anew, not again.
            let outcome = self.note(events, notice).await;
            if started.elapsed() > RETRY_MAX {
                retry = RETRY_FIRST;
            }
            match outcome {
                Ok(()) => warn!(kind, "watch of notified objects ended"),
                Err(error) => warn!(
                    kind,
                    reason = error.reason(),
                    %error,
                    retry_in = ?retry,
                    "objects not noted for notifications"
                ),
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(RETRY_MAX);
        }
    }

    async fn note<K: Resource<DynamicType = ()>>(
        &self,
        events: impl futures::Stream<Item = Result<Event<K>, watcher::Error>>,
        notice: fn(&K) -> Option<Value>,
    ) -> Result<(), designate_storage::Error> {
        let id = |object: &mut K| {
            grant::drop_unsigned_id(self.grant_key, object);
            grant::id_of(object.meta()).to_string()
        };
        let mut events = std::pin::pin!(events);
        let mut listed = Vec::new();
        loop {
            let event = match events.try_next().await {
                Ok(Some(event)) => event,
                Ok(None) => return Ok(()),
                // The watcher lists again by itself, after its backoff.
                Err(error) => {
                    warn!(kind = self.kind.name(), %error, "watch of notified objects failed");
                    continue;
                }
            };
            match event {
                Event::Init => listed.clear(),
                Event::InitApply(mut object) => {
                    let id = id(&mut object);
                    if let Some(payload) = notice(&object) {
                        listed.push(ListedObject {
                            id,
                            payload,
                            recent: object
                                .meta()
                                .creation_timestamp
                                .as_ref()
                                .is_none_or(|t| t.0.as_second() >= self.began),
                        });
                    }
                }
                Event::InitDone => {
                    let objects = std::mem::take(&mut listed);
                    self.storage.note_listed(self.kind, objects).await?;
                }
                Event::Apply(mut object) => {
                    let id = id(&mut object);
                    if let Some(payload) = notice(&object) {
                        self.storage.note_object(self.kind, &id, payload).await?;
                    }
                }
                // Its copy, of the same id, lives on where a transfer took it.
                Event::Delete(object) if grant::marked(self.grant_key, &object, Mark::Moved) => {}
                Event::Delete(mut object) => {
                    self.storage
                        .note_deleted(self.kind, &id(&mut object))
                        .await?;
                }
            }
        }
    }
}

/// Sends the outbox to the bus until the future is dropped.
pub(crate) async fn relay(storage: Storage, publisher: Publisher, publisher_id: String) {
    info!(%publisher_id, "notifications relayed to the bus");
    let mut retry = RETRY_FIRST;
    loop {
        match relay_once(&storage, &publisher, &publisher_id).await {
            Ok(0) => {
                retry = RETRY_FIRST;
                tokio::select! {
                    () = storage.outbox_changed() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
            Ok(_) => retry = RETRY_FIRST,
            Err((reason, error)) => {
                warn!(reason, %error, retry_in = ?retry, "notifications not sent");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

/// Sends one batch; how many notifications it held.
async fn relay_once(
    storage: &Storage,
    publisher: &Publisher,
    publisher_id: &str,
) -> Result<usize, (&'static str, String)> {
    let batch = storage
        .outbox(BATCH)
        .await
        .map_err(|e| (e.reason(), e.to_string()))?;
    if batch.is_empty() {
        return Ok(0);
    }
    let notifications: Vec<Notification> = batch
        .iter()
        .map(|message| notification(message, publisher_id))
        .collect();
    publisher
        .publish(&notifications)
        .await
        .map_err(|e| (e.reason(), e.to_string()))?;
    let seqs: Vec<i64> = batch.iter().map(|m| m.seq).collect();
    storage
        .outbox_done(&seqs)
        .await
        .map_err(|e| (e.reason(), e.to_string()))?;
    Ok(batch.len())
}

/// An outbox row as Designate's notifier sends it; the context names the
/// object's project, as the request context of the change would.
fn notification(message: &OutboxMessage, publisher_id: &str) -> Notification {
    let mut context = Map::new();
    if let Some(project) = message.payload.get("tenant_id").and_then(Value::as_str) {
        context.insert("project_id".into(), project.into());
        context.insert("tenant".into(), project.into());
    }
    Notification {
        message_id: message.message_id,
        publisher_id: publisher_id.to_string(),
        event_type: message.event_type.clone(),
        priority: "INFO".into(),
        payload: message.payload.clone(),
        timestamp: Utc
            .timestamp_micros(message.created_at)
            .single()
            .unwrap_or_default(),
        context,
    }
}
