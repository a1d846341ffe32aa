//! Secondary zones: their content is their masters'. The Zone controller
//! asks a master for the zone's serial when a check is due (the SOA's
//! refresh timer, its retry timer after a failure, at once when
//! `tasks/xfr` asked or the masters changed); when the serial moved it
//! transfers the changes (IXFR, applied to the copy) or the whole zone
//! (AXFR), all signed with the zone's own TSIG key when it has one, and
//! publishes it at the master's serial; MiniDNS then serves it to the pool
//! like any zone. A failure leaves the last copy published and shows on
//! the zone (`MastersUnreachable`, `TransferRefused`), until no master
//! confirmed the copy for the SOA's expire: then the pool's nameservers
//! drop it (`Expired`) until a master gives it again.
//!
//! `from_records` and `apply` are pure; `pull` does the DNS;
//! [`Secondaries`] keeps, in memory, when each zone is due (after a
//! restart every secondary is checked once).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use designate_central::managed::managed_rrset_id;
use designate_central::{Rrset, Soa};
use designate_crd::grant;
use designate_crd::{XFR_ANNOTATION, Zone};
use designate_mdns::{Difference, Ixfr, SecondaryNotify, TransferredRecord};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::{debug, warn};

/// How long a master may take to answer a query, or one transfer message.
const MASTER_TIMEOUT: Duration = Duration::from_secs(3);

/// The bounds of the timers a master's SOA sets (a zero refresh must not
/// spin; an hour-long retry must not leave a fixed master unseen for long).
const MIN_TIMER: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(300);

/// When a zone that never transferred tries again.
const FIRST_RETRY: Duration = Duration::from_secs(5);

/// Asks for a transfer of each secondary zone a master NOTIFYs MiniDNS of,
/// as `tasks/xfr` does: the zone's `xfr-requested` mark, written through
/// the Kubernetes API, so that whichever controllers replica leads acts on
/// it (MiniDNS may run in another process).
pub async fn ask_transfers(client: Client, mut notifies: UnboundedReceiver<SecondaryNotify>) {
    while let Some(notify) = notifies.recv().await {
        let api = Api::<Zone>::namespaced(client.clone(), &notify.project);
        let zone = match notified_zone(&api, &notify).await {
            Ok(Some(zone)) => zone,
            Ok(None) => continue,
            Err(error) => {
                warn!(%error, zone = %notify.zone_id, "a master's NOTIFY not acted on");
                continue;
            }
        };
        let asked = k8s_openapi::jiff::Timestamp::now().to_string();
        let patch = json!({"metadata": {"annotations": {XFR_ANNOTATION: asked}}});
        match api
            .patch(
                &zone.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => {
                debug!(zone = %zone.spec.name, serial = ?notify.serial, "transfer asked by a master's NOTIFY")
            }
            Err(error) => warn!(%error, zone = %zone.spec.name, "a master's NOTIFY not acted on"),
        }
    }
}

/// The Zone a NOTIFY is about: by the object name its DNS name gets
/// (`names::zone`, what REST and most manifests use), else by its id among
/// the project's zones. The id only picks the zone to transfer now:
/// unsigned ids are no risk here.
async fn notified_zone(
    api: &Api<Zone>,
    notify: &SecondaryNotify,
) -> Result<Option<Zone>, kube::Error> {
    let is_it = |zone: &Zone| grant::id_of(&zone.metadata) == notify.zone_id;
    let named = api
        .get_opt(&designate_crd::names::zone(&notify.name))
        .await?;
    if let Some(zone) = named.filter(is_it) {
        return Ok(Some(zone));
    }
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .find(is_it))
}

/// Why a zone's masters did not give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub reason: &'static str,
    pub message: String,
}

/// The zone as its master served it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Transfer {
    pub serial: i64,
    pub soa: Soa,
    pub rrsets: Vec<Rrset>,
}

/// What a check of the masters found.
pub(crate) enum Pulled {
    /// The serial last transferred is still the master's.
    Unchanged,
    Transferred(Transfer),
    Failed(Failure),
}

/// What a reconcile's look at a secondary zone's masters found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Checked {
    /// Why the masters did not give the zone (reason, message, whether it
    /// ever had a copy), while no later check succeeded.
    pub failed: Option<(&'static str, String, bool)>,
    /// A new copy came in.
    pub transferred: bool,
    /// No master confirmed the copy for longer than its SOA's expire: the
    /// pool's nameservers are to stop serving it.
    pub expired: bool,
}

/// Where each secondary zone's checks stand, by zone id.
#[derive(Default)]
pub(crate) struct Secondaries {
    zones: Mutex<HashMap<String, Pull>>,
}

#[derive(Clone, Debug, Default)]
struct Pull {
    next: Option<Instant>,
    /// The `tasks/xfr` request last acted on.
    xfr_seen: Option<String>,
    /// The masters last asked.
    masters: Vec<String>,
    /// The serial of the last transfer, and its SOA's timers.
    transferred: Option<(i64, Duration, Duration)>,
    /// When a master last gave or confirmed the copy, in this process.
    refreshed: Option<SystemTime>,
    failure: Option<Failure>,
    /// The serial whose records were last copied as Recordsets.
    copied: Option<i64>,
}

fn xfr_requested(zone: &Zone) -> Option<String> {
    zone.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(XFR_ANNOTATION))
        .cloned()
}

impl Secondaries {
    /// Whether the zone's masters are to be asked now.
    pub(crate) fn due(&self, id: &str, zone: &Zone) -> bool {
        let zones = self.zones.lock().expect("secondaries lock");
        let Some(pull) = zones.get(id) else {
            return true;
        };
        pull.next.is_none_or(|next| next <= Instant::now())
            || pull.xfr_seen != xfr_requested(zone)
            // New masters are asked at once (as Designate's update_zone).
            || pull.masters != zone.spec.masters
    }

    /// How long until the zone's next check.
    pub(crate) fn until_next(&self, id: &str) -> Duration {
        let zones = self.zones.lock().expect("secondaries lock");
        zones
            .get(id)
            .and_then(|pull| pull.next)
            .map_or(FIRST_RETRY, |next| {
                next.saturating_duration_since(Instant::now())
            })
    }

    /// The serial of the zone's last transfer, in this process.
    pub(crate) fn transferred_serial(&self, id: &str) -> Option<i64> {
        let zones = self.zones.lock().expect("secondaries lock");
        zones.get(id)?.transferred.map(|(serial, _, _)| serial)
    }

    /// [`Secondaries::transferred_serial`] while the zone's masters are the
    /// ones it came from: another master's serials say nothing of it.
    pub(crate) fn copy_serial(&self, id: &str, zone: &Zone) -> Option<i64> {
        let zones = self.zones.lock().expect("secondaries lock");
        let pull = zones
            .get(id)
            .filter(|pull| pull.masters == zone.spec.masters)?;
        pull.transferred.map(|(serial, _, _)| serial)
    }

    /// Whether the copy is past its SOA's `expire` (seconds): the last
    /// check failed, and no master gave or confirmed the copy for that
    /// long (in this process, else since `transferredAt`).
    pub(crate) fn expired(&self, id: &str, zone: &Zone, expire: i64) -> bool {
        let zones = self.zones.lock().expect("secondaries lock");
        let Some(pull) = zones.get(id).filter(|pull| pull.failure.is_some()) else {
            return false;
        };
        let transferred_at = || {
            let at = zone.status.as_ref()?.transferred_at.as_ref()?;
            let seconds = u64::try_from(at.0.as_second()).ok()?;
            Some(UNIX_EPOCH + Duration::from_secs(seconds))
        };
        let Some(refreshed) = pull.refreshed.or_else(transferred_at) else {
            return false;
        };
        let expire = Duration::from_secs(u64::try_from(expire).unwrap_or(0));
        refreshed + expire < SystemTime::now()
    }

    /// Why the last check failed, while no later one succeeded.
    pub(crate) fn failure(&self, id: &str) -> Option<Failure> {
        let zones = self.zones.lock().expect("secondaries lock");
        zones.get(id)?.failure.clone()
    }

    /// Records a check's outcome and schedules the next: the SOA's refresh
    /// after a success, its retry after a failure.
    pub(crate) fn checked(&self, id: &str, zone: &Zone, pulled: &Pulled) {
        let mut zones = self.zones.lock().expect("secondaries lock");
        let pull = zones.entry(id.to_string()).or_default();
        pull.xfr_seen = xfr_requested(zone);
        pull.masters.clone_from(&zone.spec.masters);
        let wait = match pulled {
            Pulled::Transferred(transfer) => {
                let timers = (
                    timer(transfer.soa.refresh),
                    timer(transfer.soa.retry).min(MAX_RETRY),
                );
                pull.transferred = Some((transfer.serial, timers.0, timers.1));
                pull.refreshed = Some(SystemTime::now());
                pull.failure = None;
                timers.0
            }
            Pulled::Unchanged => {
                pull.refreshed = Some(SystemTime::now());
                pull.failure = None;
                pull.transferred
                    .map_or(FIRST_RETRY, |(_, refresh, _)| refresh)
            }
            Pulled::Failed(failure) => {
                pull.failure = Some(failure.clone());
                pull.transferred.map_or(FIRST_RETRY, |(_, _, retry)| retry)
            }
        };
        pull.next = Some(Instant::now() + wait);
    }

    /// Whether the records published at `serial` are still to be copied as
    /// Recordsets (`transferred::copy`).
    pub(crate) fn copy_due(&self, id: &str, serial: i64) -> bool {
        let zones = self.zones.lock().expect("secondaries lock");
        zones.get(id).and_then(|pull| pull.copied) != Some(serial)
    }

    pub(crate) fn copied(&self, id: &str, serial: i64) {
        let mut zones = self.zones.lock().expect("secondaries lock");
        zones.entry(id.to_string()).or_default().copied = Some(serial);
    }

    pub(crate) fn forget(&self, id: &str) {
        self.zones.lock().expect("secondaries lock").remove(id);
    }
}

fn timer(seconds: i64) -> Duration {
    Duration::from_secs(u64::try_from(seconds).unwrap_or(0)).max(MIN_TIMER)
}

/// `host:port` (or `host`, port 53; `[v6]:port`) as a socket address;
/// names are looked up.
async fn master_addr(master: &str) -> Option<SocketAddr> {
    let (host, port) = designate_central::rules::master_endpoint(master);
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host, port)).await.ok()?.next()
}

/// The copy published last: the master's serial it came at, and its sets.
pub(crate) struct LastCopy<'a> {
    pub serial: i64,
    pub rrsets: Vec<&'a Rrset>,
}

/// Asks the masters, in order, for the zone: its serial first, then, when
/// it is not the `copy`'s, the changes since the copy (IXFR), or the whole
/// zone (AXFR) where the master gives no changes or there is no copy; all
/// signed with `key` when the zone has one.
pub(crate) async fn pull(
    masters: &[String],
    zone_id: &str,
    zone: &str,
    copy: Option<&LastCopy<'_>>,
    key: Option<&designate_mdns::TsigKey>,
) -> Pulled {
    let mut failure = Failure {
        reason: "MastersUnreachable",
        message: "the zone has no masters".into(),
    };
    for master in masters {
        let Some(addr) = master_addr(master).await else {
            failure = Failure {
                reason: "MastersUnreachable",
                message: format!("master {master} cannot be resolved"),
            };
            continue;
        };
        match designate_mdns::soa_serial(addr, zone, key, MASTER_TIMEOUT).await {
            Ok(Some(serial)) if copy.is_some_and(|c| c.serial == i64::from(serial)) => {
                return Pulled::Unchanged;
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                failure = Failure {
                    reason: "TransferRefused",
                    message: format!("master {master} does not serve {zone}"),
                };
                continue;
            }
            Err(error) => {
                failure = unreachable(master, &error);
                continue;
            }
        }
        if let Some(copy) = copy {
            match incremental(addr, zone_id, zone, copy, key).await {
                Ok(pulled) => return pulled,
                // The whole zone then, from the same master.
                Err(why) => debug!(%master, %why, "no IXFR; AXFR instead"),
            }
        }
        match designate_mdns::axfr(addr, zone, key, MASTER_TIMEOUT).await {
            Ok(records) => match from_records(zone_id, zone, &records) {
                Ok(transfer) => return Pulled::Transferred(transfer),
                Err(message) => {
                    failure = Failure {
                        reason: "TransferFailed",
                        message: format!("master {master}: {message}"),
                    }
                }
            },
            Err(error @ designate_mdns::Error::Rejected { .. }) => {
                failure = Failure {
                    reason: "TransferRefused",
                    message: format!("master {master} refused the transfer: {error}"),
                }
            }
            Err(error) => failure = unreachable(master, &error),
        }
    }
    Pulled::Failed(failure)
}

/// The zone from `master` by IXFR from the copy's serial: the copy with the
/// master's differences applied, or the whole zone when the master sends
/// it. An error (the master refuses IXFR, differences that do not fit the
/// copy) leaves the AXFR to the caller.
async fn incremental(
    master: SocketAddr,
    zone_id: &str,
    zone: &str,
    copy: &LastCopy<'_>,
    key: Option<&designate_mdns::TsigKey>,
) -> Result<Pulled, String> {
    let serial = u32::try_from(copy.serial).map_err(|_| "a serial out of range".to_string())?;
    let answer = designate_mdns::ixfr(master, zone, serial, key, MASTER_TIMEOUT)
        .await
        .map_err(|error| error.to_string())?;
    let transfer = match answer {
        // The master's serial is not the copy's (asked just before): gone
        // back, or moving; the whole zone says which.
        Ixfr::UpToDate => return Err("nothing newer than the copy".into()),
        Ixfr::Full(records) => from_records(zone_id, zone, &records)?,
        Ixfr::Incremental { soa, differences } => {
            let records = apply(&copy.rrsets, &differences)?;
            from_records(zone_id, zone, &[vec![soa], records].concat())?
        }
    };
    debug!(serial = transfer.serial, "zone transferred by IXFR");
    Ok(Pulled::Transferred(transfer))
}

/// The copy's records (SOA aside) with `differences` applied in order
/// (pure). A removal of a record the copy does not hold is an error: the
/// copy and the master's history disagree.
fn apply(copy: &[&Rrset], differences: &[Difference]) -> Result<Vec<TransferredRecord>, String> {
    let key =
        |r: &TransferredRecord| (r.name.to_ascii_lowercase(), r.type_.clone(), r.data.clone());
    let mut records: Vec<Option<TransferredRecord>> = copy
        .iter()
        .filter(|set| set.type_ != "SOA")
        .flat_map(|set| {
            set.records.iter().map(|data| {
                Some(TransferredRecord {
                    name: set.name.clone(),
                    type_: set.type_.clone(),
                    ttl: set.ttl.and_then(|t| u32::try_from(t).ok()).unwrap_or(0),
                    data: data.clone(),
                })
            })
        })
        .collect();
    let mut at: HashMap<_, Vec<usize>> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        if let Some(record) = record {
            at.entry(key(record)).or_default().push(i);
        }
    }
    for difference in differences {
        for gone in &difference.removed {
            let i = at.get_mut(&key(gone)).and_then(Vec::pop).ok_or_else(|| {
                format!(
                    "the master removes {} {} {}, which the copy does not hold",
                    gone.name, gone.type_, gone.data
                )
            })?;
            records[i] = None;
        }
        for added in &difference.added {
            at.entry(key(added)).or_default().push(records.len());
            records.push(Some(added.clone()));
        }
    }
    Ok(records.into_iter().flatten().collect())
}

fn unreachable(master: &str, error: &designate_mdns::Error) -> Failure {
    Failure {
        reason: "MastersUnreachable",
        message: format!("master {master}: {error}"),
    }
}

/// A transfer's records as the zone's published content: the SOA's fields
/// and serial, and the other records grouped into RRsets (by owner and
/// type, in the order they came), each with an id derived from the zone's.
pub(crate) fn from_records(
    zone_id: &str,
    zone: &str,
    records: &[TransferredRecord],
) -> Result<Transfer, String> {
    let (first, rest) = records.split_first().ok_or("an empty transfer")?;
    if first.type_ != "SOA" || !first.name.eq_ignore_ascii_case(zone) {
        return Err("the transfer does not open with the zone's SOA".into());
    }
    let fields: Vec<&str> = first.data.split_whitespace().collect();
    let [mname, rname, serial, refresh, retry, expire, minimum] = fields[..] else {
        return Err(format!("an SOA that does not read: {}", first.data));
    };
    let number = |text: &str| {
        text.parse::<i64>()
            .map_err(|_| format!("an SOA field that is not a number: {text}"))
    };
    let soa = Soa {
        mname: mname.to_string(),
        email: email_of(rname),
        refresh: number(refresh)?,
        retry: number(retry)?,
        expire: number(expire)?,
        minimum: number(minimum)?,
    };
    let mut rrsets: Vec<Rrset> = Vec::new();
    let mut at: HashMap<(String, String), usize> = HashMap::new();
    for record in rest.iter().filter(|r| r.type_ != "SOA") {
        let key = (record.name.to_ascii_lowercase(), record.type_.clone());
        let index = *at.entry(key.clone()).or_insert_with(|| {
            rrsets.push(Rrset {
                id: managed_rrset_id(zone_id, &format!("{}/{}", key.0, key.1)),
                name: record.name.clone(),
                type_: record.type_.clone(),
                ttl: Some(i64::from(record.ttl)),
                records: Vec::new(),
                description: None,
                managed: true,
            });
            rrsets.len() - 1
        });
        rrsets[index].records.push(record.data.clone());
    }
    Ok(Transfer {
        serial: number(serial)?,
        soa,
        rrsets,
    })
}

/// The email an RNAME stands for (`admin.example.org.`: `admin@example.org`),
/// which storage renders back into the same RNAME.
fn email_of(rname: &str) -> String {
    let rname = rname.trim_end_matches('.');
    let mut local = String::new();
    let mut chars = rname.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    local.push(escaped);
                }
            }
            '.' => return format!("{local}@{}", &rname[i + 1..]),
            c => local.push(c),
        }
    }
    local
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rr(name: &str, type_: &str, ttl: u32, data: &str) -> TransferredRecord {
        TransferredRecord {
            name: name.into(),
            type_: type_.into(),
            ttl,
            data: data.into(),
        }
    }

    #[test]
    fn a_transfer_becomes_the_zones_soa_and_rrsets() {
        let records = [
            rr(
                "example.org.",
                "SOA",
                300,
                "ns1.example.org. first\\.last.example.org. 42 60 10 600 30",
            ),
            rr("example.org.", "NS", 300, "ns1.example.org."),
            rr("www.example.org.", "A", 60, "192.0.2.1"),
            rr("WWW.example.org.", "A", 60, "192.0.2.2"),
            rr("example.org.", "MX", 300, "10 mail.example.org."),
        ];
        let transfer = from_records("z1", "example.org.", &records).unwrap();
        assert_eq!(transfer.serial, 42);
        assert_eq!(
            (
                transfer.soa.mname.as_str(),
                transfer.soa.email.as_str(),
                transfer.soa.refresh,
                transfer.soa.retry
            ),
            ("ns1.example.org.", "first.last@example.org", 60, 10)
        );
        let sets: Vec<(&str, &str, Vec<&str>)> = transfer
            .rrsets
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.type_.as_str(),
                    r.records.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            sets,
            [
                ("example.org.", "NS", vec!["ns1.example.org."]),
                ("www.example.org.", "A", vec!["192.0.2.1", "192.0.2.2"]),
                ("example.org.", "MX", vec!["10 mail.example.org."]),
            ]
        );
        // Ids are stable across transfers and differ per set.
        let again = from_records("z1", "example.org.", &records).unwrap();
        assert_eq!(transfer.rrsets[1].id, again.rrsets[1].id);
        assert_ne!(transfer.rrsets[0].id, transfer.rrsets[1].id);
        assert!(from_records("z1", "example.org.", &records[1..]).is_err());
        assert!(from_records("z1", "other.org.", &records).is_err());
    }

    #[test]
    fn differences_apply_to_the_copy_in_order() {
        let records = [
            rr(
                "example.org.",
                "SOA",
                300,
                "ns1.example.org. admin.example.org. 42 60 10 600 30",
            ),
            rr("example.org.", "NS", 300, "ns1.example.org."),
            rr("www.example.org.", "A", 60, "192.0.2.1"),
            rr("www.example.org.", "A", 60, "192.0.2.2"),
        ];
        let copy = from_records("z1", "example.org.", &records).unwrap();
        let sets: Vec<&Rrset> = copy.rrsets.iter().collect();
        let differences = [
            Difference {
                removed: vec![rr("WWW.example.org.", "A", 60, "192.0.2.1")],
                added: vec![rr("mail.example.org.", "A", 60, "192.0.2.9")],
            },
            Difference {
                removed: vec![rr("mail.example.org.", "A", 60, "192.0.2.9")],
                added: vec![rr("www.example.org.", "A", 60, "192.0.2.3")],
            },
        ];
        let applied = apply(&sets, &differences).unwrap();
        let shown: Vec<(&str, &str)> = applied
            .iter()
            .map(|r| (r.name.as_str(), r.data.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("example.org.", "ns1.example.org."),
                ("www.example.org.", "192.0.2.2"),
                ("www.example.org.", "192.0.2.3"),
            ]
        );
        // A removal the copy cannot match: the copy is not the master's base.
        let stray = [Difference {
            removed: vec![rr("www.example.org.", "A", 60, "192.0.2.7")],
            added: vec![],
        }];
        assert!(apply(&sets, &stray).is_err());
    }

    #[test]
    fn a_copy_expires_only_after_failed_checks_for_its_expire() {
        let secondaries = Secondaries::default();
        let mut zone = Zone::new("z", Default::default());
        let failed = Pulled::Failed(Failure {
            reason: "MastersUnreachable",
            message: "down".into(),
        });
        // Transferred 100 s ago (before a restart), the master down now.
        let ago =
            k8s_openapi::jiff::Timestamp::now() - k8s_openapi::jiff::SignedDuration::from_secs(100);
        zone.status = Some(designate_crd::ZoneStatus {
            transferred_at: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(ago)),
            ..Default::default()
        });
        assert!(!secondaries.expired("z1", &zone, 10), "never checked here");
        secondaries.checked("z1", &zone, &failed);
        assert!(secondaries.expired("z1", &zone, 10));
        assert!(!secondaries.expired("z1", &zone, 1000));
        // A master confirmed the copy just now: fresh again.
        secondaries.checked("z1", &zone, &Pulled::Unchanged);
        assert!(!secondaries.expired("z1", &zone, 10));
        secondaries.checked("z1", &zone, &failed);
        assert!(!secondaries.expired("z1", &zone, 10));
    }

    #[test]
    fn new_masters_are_asked_at_once_and_for_the_whole_zone() {
        let secondaries = Secondaries::default();
        let mut zone = Zone::new("z", Default::default());
        zone.spec.masters = vec!["192.0.2.1".into()];
        let transfer = from_records(
            "z1",
            "example.org.",
            &[rr(
                "example.org.",
                "SOA",
                300,
                "ns1.example.org. admin.example.org. 42 3600 600 86400 30",
            )],
        )
        .unwrap();
        secondaries.checked("z1", &zone, &Pulled::Transferred(transfer));
        assert!(!secondaries.due("z1", &zone), "next at the refresh");
        assert_eq!(secondaries.copy_serial("z1", &zone), Some(42));
        zone.spec.masters = vec!["192.0.2.2".into()];
        assert!(secondaries.due("z1", &zone));
        assert_eq!(secondaries.copy_serial("z1", &zone), None);
    }

    #[test]
    fn rnames_read_back_as_emails() {
        assert_eq!(
            email_of("hostmaster.example.org."),
            "hostmaster@example.org"
        );
        assert_eq!(email_of("a\\.b.example.org."), "a.b@example.org");
    }
}
