//! Answering one request from storage: what MiniDNS decides, apart from the
//! sockets.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use designate_central::ZoneKind;
use designate_central::managed::soa_rdata;
use designate_storage::{ResourceRecord, Storage, ZoneHead, ZoneSnapshot};
use hickory_proto::ProtoError;
use hickory_proto::op::{Message, Metadata, Query, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::field::display;

use crate::Error;
use crate::policy::{AllowList, TransferPolicy, TsigKey};
use crate::records::{stored_type, to_records};
use crate::request::{Ask, Decoded, classify, decode};
use crate::server::PolicyHandle;
use crate::tsig::{self, Checked, ResponseSigner};
use crate::wire::{self, Chunk, TCP_MAX, TSIG_ROOM};

/// RRsets read from storage per page of a zone transfer (a message holds
/// about 1,500 small records).
pub(crate) const PAGE_RRSETS: u64 = 1000;

/// What answering needs.
pub(crate) struct Context {
    pub(crate) storage: Storage,
    pub(crate) policy: PolicyHandle,
    /// Zone transfers in progress, which read storage page after page.
    pub(crate) transfers: Arc<Semaphore>,
    /// When the allow-list was last read from storage for a refused
    /// transfer: at most once per [`RELOAD_AT_MOST_EVERY`], so that a flood
    /// of refused requests does not become a flood of database reads.
    pub(crate) reloaded_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// Where a master's NOTIFY of a secondary zone is told (see
    /// [`crate::MiniDns::secondary_notifies`]).
    pub(crate) secondary_notifies: std::sync::OnceLock<UnboundedSender<SecondaryNotify>>,
}

/// A master told MiniDNS that a secondary zone changed: the zone's masters
/// are to be asked now, not at its next refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecondaryNotify {
    pub zone_id: String,
    /// The zone's DNS name.
    pub name: String,
    /// The zone's project (its namespace).
    pub project: String,
    pub serial: Option<u32>,
}

/// Whether `peer` is one of `masters` (`host:port`, `[v6]:port` or `host`;
/// by address, any port: a master may NOTIFY from another port).
fn is_master(masters: &[String], peer: IpAddr) -> bool {
    masters.iter().any(|master| {
        let (host, _) = designate_central::rules::master_endpoint(master);
        host.parse::<IpAddr>() == Ok(peer)
    })
}

/// See [`Context::reloaded_at`].
const RELOAD_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Context {
    /// The policy with the servers of the pools in storage added to its
    /// allow-list, put in force and returned; `None` when it was read less
    /// than [`RELOAD_AT_MOST_EVERY`] ago. Added, not replaced: sources the
    /// operator allowed by hand stay allowed.
    async fn reload_allow_list(&self) -> Result<Option<Arc<TransferPolicy>>, Error> {
        {
            let mut at = self.reloaded_at.lock().unwrap_or_else(|e| e.into_inner());
            if at.is_some_and(|at| at.elapsed() < RELOAD_AT_MOST_EVERY) {
                return Ok(None);
            }
            *at = Some(std::time::Instant::now());
        }
        let pools = self.storage.pools().await?;
        let allowed = AllowList::from_pools(&pools);
        self.policy.update(|policy| policy.allowed.merge(allowed));
        Ok(Some(self.policy.get()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    Udp,
    Tcp,
}

/// The answer to one request.
pub(crate) enum Reply {
    /// Not answered (not a request).
    None,
    Message(Vec<u8>),
    /// A zone transfer (TCP only): messages to send in turn.
    Transfer(Box<Transfer>),
}

/// What the request gets, before encoding and signing.
enum Outcome {
    /// An answer without records.
    Code(ResponseCode),
    /// One message.
    Answer(Message),
    /// A transfer: these records, then (AXFR) the zone's, in messages.
    Transfer {
        records: Vec<Record>,
        zone: Option<Box<ZoneStream>>,
        permit: OwnedSemaphorePermit,
    },
}

/// Answers `bytes` from `peer`; records what it was on the current span.
pub(crate) async fn handle(
    ctx: &Context,
    bytes: &[u8],
    peer: IpAddr,
    transport: Transport,
) -> Reply {
    let span = tracing::Span::current();
    let request = match decode(bytes) {
        Decoded::Ignore => return Reply::None,
        Decoded::Malformed(answer) => {
            span.record("rcode", display(ResponseCode::FormErr));
            return answer.to_vec().map_or(Reply::None, Reply::Message);
        }
        Decoded::Request(request) => request,
    };
    span.record("id", request.id);
    span.record("opcode", display(request.op_code));
    if let Some(query) = request.queries.first() {
        span.record("qname", display(query.name()));
        span.record("qtype", display(query.query_type()));
    }

    let policy = ctx.policy.get();
    let now = unix_now();
    let signer = match tsig::check(bytes, &request, &policy, now) {
        Checked::Unsigned => None,
        Checked::Signed(signer) => Some(signer),
        Checked::Failed(failure) => {
            tracing::warn!(%peer, "request with a bad TSIG: NOTAUTH");
            span.record("rcode", display(ResponseCode::NotAuth));
            let oid = request
                .signature
                .as_ref()
                .map_or(request.id, |s| s.data.oid);
            let answer = wire::response(&request, ResponseCode::NotAuth, false);
            let signed = answer.to_vec().and_then(|mut bytes| {
                failure.sign(&mut bytes, oid, now)?;
                Ok(bytes)
            });
            return signed.map_or(Reply::None, Reply::Message);
        }
    };
    span.record("signed", signer.is_some());
    // The key that verified the request: it says which zones it may have.
    let key = signer
        .as_ref()
        .and(request.signature.as_ref())
        .and_then(|tsig| policy.key(&tsig.name))
        .cloned();

    let asked = Asked {
        ctx,
        policy: &policy,
        request: &request,
        peer,
        transport,
        signed: signer.is_some(),
        key,
    };
    let outcome = match classify(&request) {
        Err(rcode) => Outcome::Code(rcode),
        Ok(ask) => asked.answer(ask).await.unwrap_or_else(|error| {
            tracing::error!(%error, reason = error.reason(), "answering failed: SERVFAIL");
            Outcome::Code(ResponseCode::ServFail)
        }),
    };
    finish(&request, outcome, signer, transport)
}

/// Encodes and signs what the request gets.
fn finish(
    request: &Message,
    outcome: Outcome,
    mut signer: Option<ResponseSigner>,
    transport: Transport,
) -> Reply {
    let span = tracing::Span::current();
    let answer = match outcome {
        Outcome::Transfer {
            records,
            zone,
            permit,
        } => {
            span.record("rcode", display(ResponseCode::NoError));
            return Reply::Transfer(Box::new(Transfer::new(
                request, records, zone, signer, permit,
            )));
        }
        Outcome::Code(rcode) => wire::response(request, rcode, false),
        Outcome::Answer(answer) => answer,
    };
    span.record("rcode", display(answer.response_code));
    let limit = match transport {
        Transport::Udp => wire::udp_limit(request),
        Transport::Tcp => TCP_MAX,
    };
    let room = if signer.is_some() { TSIG_ROOM } else { 0 };
    let encoded = wire::encode_within(&answer, limit - room).and_then(|mut bytes| {
        if let Some(signer) = &mut signer {
            signer.sign(&mut bytes, unix_now())?;
        }
        Ok(bytes)
    });
    match encoded {
        Ok(bytes) => Reply::Message(bytes),
        Err(error) => {
            tracing::error!(%error, "answer not encoded");
            Reply::None
        }
    }
}

/// A request being answered.
struct Asked<'a> {
    ctx: &'a Context,
    policy: &'a TransferPolicy,
    request: &'a Message,
    peer: IpAddr,
    transport: Transport,
    signed: bool,
    key: Option<TsigKey>,
}

impl Asked<'_> {
    async fn answer(&self, ask: Ask) -> Result<Outcome, Error> {
        match ask {
            Ask::Lookup { name, type_ } => self.lookup(&name, type_).await,
            Ask::Axfr { zone } => {
                if self.transport == Transport::Udp {
                    // AXFR is TCP only (RFC 5936 §4.2).
                    return Ok(Outcome::Code(ResponseCode::FormErr));
                }
                let Some(zone) = self.transfer_zone(&zone).await? else {
                    return Ok(Outcome::Code(ResponseCode::Refused));
                };
                self.axfr(&zone).await
            }
            Ask::Ixfr { zone, serial } => {
                let Some(zone) = self.transfer_zone(&zone).await? else {
                    return Ok(Outcome::Code(ResponseCode::Refused));
                };
                self.ixfr(&zone, serial).await
            }
            Ask::Notify { zone, serial } => self.notify(&zone, serial).await,
        }
    }

    /// The RRset of the closest enclosing zone, as Designate answers it:
    /// REFUSED rather than NXDOMAIN when there is no such zone or RRset.
    async fn lookup(&self, name: &Name, type_: RecordType) -> Result<Outcome, Error> {
        let name = name.to_ascii();
        let zones = self.ctx.storage.zones_enclosing(&name).await?;
        let Some(zone) = self.policy.choose(&zones, self.peer) else {
            return Ok(Outcome::Code(ResponseCode::Refused));
        };
        let Some(rrs) = self
            .ctx
            .storage
            .rrset_records(&zone.zone.id, &name, &stored_type(type_))
            .await?
        else {
            return Ok(Outcome::Code(ResponseCode::Refused));
        };
        let mut answer = wire::response(self.request, ResponseCode::NoError, true);
        answer.add_answers(to_records(&zone.zone.name, &rrs));
        Ok(Outcome::Answer(answer))
    }

    /// The zone named `name` if this request may transfer it (`None`:
    /// REFUSED, as Designate answers both).
    async fn transfer_zone(&self, name: &Name) -> Result<Option<ZoneHead>, Error> {
        let mut policy = self.policy;
        let reloaded;
        if !policy.permits(self.peer, self.signed) {
            // A pool added a moment ago (its first zone's transfer follows
            // within milliseconds): look at the pools as storage has them
            // now, at most once a second.
            match self.ctx.reload_allow_list().await? {
                Some(fresh) if fresh.permits(self.peer, self.signed) => {
                    reloaded = fresh;
                    policy = &*reloaded;
                }
                _ => {
                    tracing::warn!(peer = %self.peer, zone = %name, "transfer refused: source not allowed and unsigned");
                    return Ok(None);
                }
            }
        }
        let zones = self.ctx.storage.zones_by_name(&name.to_ascii()).await?;
        let zones = self.keyed(policy, zones);
        if zones.is_empty() {
            tracing::warn!(peer = %self.peer, zone = %name, signed = self.signed, "transfer refused: the zone needs a TSIG key of its own or its pool's");
        }
        Ok(policy.choose(&zones, self.peer).cloned())
    }

    /// The zones this request's key (or its lack) may have.
    fn keyed(&self, policy: &TransferPolicy, zones: Vec<ZoneHead>) -> Vec<ZoneHead> {
        zones
            .into_iter()
            .filter(|zone| policy.allows_zone(&zone.zone, self.key.as_ref()))
            .collect()
    }

    async fn axfr(&self, zone: &ZoneHead) -> Result<Outcome, Error> {
        let permit = self.transfer_permit().await?;
        let Some(snapshot) = self
            .ctx
            .storage
            .zone_snapshot(&zone.zone.id, PAGE_RRSETS)
            .await?
        else {
            // Deleted since it was looked up.
            return Ok(Outcome::Code(ResponseCode::Refused));
        };
        let soa = to_records(&zone.zone.name, [snapshot.soa()]);
        let [soa] = <[Record; 1]>::try_from(soa).map_err(|_| {
            Error::Proto(ProtoError::from(format!(
                "the SOA of {} does not parse",
                zone.zone.name
            )))
        })?;
        Ok(Outcome::Transfer {
            records: vec![soa.clone()],
            zone: Some(Box::new(ZoneStream {
                snapshot,
                soa,
                done: false,
            })),
            permit,
        })
    }

    /// RFC 1995: the single SOA when the client is current (or ahead), the
    /// changes since its serial when the history has them, else the zone.
    async fn ixfr(&self, zone: &ZoneHead, client: u32) -> Result<Outcome, Error> {
        let name = zone.zone.name.as_str();
        let current = to_records(name, [&current_soa(zone)]);
        let single_soa = || {
            let mut answer = wire::response(self.request, ResponseCode::NoError, true);
            answer.add_answers(current.clone());
            Outcome::Answer(answer)
        };
        let serial = u32::try_from(zone.serial).unwrap_or(u32::MAX);
        if serial_at_least(client, serial) {
            return Ok(single_soa());
        }
        let versions = self
            .ctx
            .storage
            .changes_since(&zone.zone.id, i64::from(client))
            .await?;
        let Some(versions) = versions else {
            return match self.transport {
                // Over UDP the single SOA tells the client to come over TCP.
                Transport::Udp => Ok(single_soa()),
                Transport::Tcp => self.axfr(zone).await,
            };
        };
        let Some(last) = versions.last() else {
            return Ok(single_soa());
        };
        let mut rrs: Vec<&ResourceRecord> = vec![&last.new_soa];
        for version in &versions {
            rrs.push(&version.old_soa);
            rrs.extend(&version.removed);
            rrs.push(&version.new_soa);
            rrs.extend(&version.added);
        }
        rrs.push(&last.new_soa);
        let records = to_records(name, rrs);
        if self.transport == Transport::Udp {
            let mut answer = wire::response(self.request, ResponseCode::NoError, true);
            answer.add_answers(records);
            let room = if self.signed { TSIG_ROOM } else { 0 };
            let fits = answer
                .to_vec()
                .is_ok_and(|b| b.len() <= usize::from(wire::udp_limit(self.request) - room));
            return Ok(if fits {
                Outcome::Answer(answer)
            } else {
                single_soa()
            });
        }
        Ok(Outcome::Transfer {
            records,
            zone: None,
            permit: self.transfer_permit().await?,
        })
    }

    /// Acknowledges a NOTIFY for a hosted zone from an allowed or signed
    /// sender (Designate: NOTAUTH for unknown zones, REFUSED for strangers).
    async fn notify(&self, zone: &Name, serial: Option<u32>) -> Result<Outcome, Error> {
        let zones = self.ctx.storage.zones_by_name(&zone.to_ascii()).await?;
        if zones.is_empty() {
            return Ok(Outcome::Code(ResponseCode::NotAuth));
        }
        // A secondary zone's master: its change is transferred at once
        // (Designate acts on NOTIFY for secondaries only).
        let secondaries: Vec<&ZoneHead> = zones
            .iter()
            .filter(|z| z.zone.kind == ZoneKind::Secondary && is_master(&z.zone.masters, self.peer))
            .collect();
        if !secondaries.is_empty() {
            tracing::info!(peer = %self.peer, %zone, ?serial, "NOTIFY from a master");
            if let Some(told) = self.ctx.secondary_notifies.get() {
                for head in secondaries {
                    let _ = told.send(SecondaryNotify {
                        zone_id: head.zone.id.clone(),
                        name: head.zone.name.clone(),
                        project: head.zone.project.clone(),
                        serial,
                    });
                }
            }
            return Ok(Outcome::Answer(wire::response(
                self.request,
                ResponseCode::NoError,
                true,
            )));
        }
        if !self.policy.permits(self.peer, self.signed) {
            tracing::warn!(peer = %self.peer, %zone, "NOTIFY refused: source not allowed and unsigned");
            return Ok(Outcome::Code(ResponseCode::Refused));
        }
        if self.keyed(self.policy, zones).is_empty() {
            tracing::warn!(peer = %self.peer, %zone, signed = self.signed, "NOTIFY refused: the zone needs a TSIG key of its own or its pool's");
            return Ok(Outcome::Code(ResponseCode::Refused));
        }
        tracing::info!(peer = %self.peer, %zone, ?serial, "NOTIFY received");
        Ok(Outcome::Answer(wire::response(
            self.request,
            ResponseCode::NoError,
            true,
        )))
    }

    async fn transfer_permit(&self) -> Result<OwnedSemaphorePermit, Error> {
        self.ctx
            .transfers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Io(std::io::Error::other("server shutting down")))
    }
}

/// The zone's SOA as storage renders it at the zone's serial.
fn current_soa(zone: &ZoneHead) -> ResourceRecord {
    ResourceRecord {
        name: zone.zone.name.clone(),
        type_: "SOA".into(),
        ttl: zone.zone.ttl,
        data: soa_rdata(&zone.zone.soa, zone.serial),
    }
}

/// `a >= b` in serial number arithmetic (RFC 1982).
fn serial_at_least(a: u32, b: u32) -> bool {
    a == b || (a.wrapping_sub(b) as i32) > 0
}

/// The records of a zone, read page by page, then its SOA again.
struct ZoneStream {
    snapshot: ZoneSnapshot,
    soa: Record,
    done: bool,
}

/// A zone transfer being sent: messages of as many records as fit.
pub(crate) struct Transfer {
    metadata: Metadata,
    query: Query,
    signer: Option<ResponseSigner>,
    /// Records converted, not yet sent.
    pending: VecDeque<Record>,
    zone: Option<Box<ZoneStream>>,
    messages: u32,
    records: u64,
    _permit: OwnedSemaphorePermit,
}

impl Transfer {
    fn new(
        request: &Message,
        records: Vec<Record>,
        zone: Option<Box<ZoneStream>>,
        signer: Option<ResponseSigner>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        let mut metadata = wire::response_metadata(&request.metadata, ResponseCode::NoError);
        metadata.authoritative = true;
        Self {
            metadata,
            query: request.queries[0].clone(),
            signer,
            pending: records.into(),
            zone,
            messages: 0,
            records: 0,
            _permit: permit,
        }
    }

    /// The next message, `None` once all were sent.
    pub(crate) async fn next_message(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let max = TCP_MAX - if self.signer.is_some() { TSIG_ROOM } else { 0 };
        let mut chunk = Chunk::new(self.metadata, &self.query, max)?;
        loop {
            if self.pending.is_empty() && !self.refill().await? {
                break;
            }
            let taken = chunk.push(self.pending.make_contiguous())?;
            self.pending.drain(..taken);
            if !self.pending.is_empty() {
                break;
            }
        }
        if chunk.answers() == 0 {
            return match self.pending.front() {
                None => Ok(None),
                Some(record) => Err(Error::RecordTooLarge(format!(
                    "{} {}",
                    record.name,
                    record.record_type()
                ))),
            };
        }
        self.records += u64::from(chunk.answers());
        let mut message = chunk.finish()?;
        if let Some(signer) = &mut self.signer {
            signer.sign(&mut message, unix_now())?;
        }
        self.messages += 1;
        Ok(Some(message))
    }

    /// Reads the next page of the zone into `pending`; `false` at the end.
    async fn refill(&mut self) -> Result<bool, Error> {
        let Some(zone) = &mut self.zone else {
            return Ok(false);
        };
        if zone.done {
            return Ok(false);
        }
        match zone.snapshot.next_page().await? {
            Some(page) => {
                let name = &zone.snapshot.zone().zone.name;
                self.pending.extend(to_records(name, &page));
            }
            None => {
                zone.done = true;
                self.pending.push_back(zone.soa.clone());
            }
        }
        Ok(true)
    }

    /// SERVFAIL for a transfer that failed before its first message.
    pub(crate) fn failure(&mut self) -> Result<Vec<u8>, Error> {
        let mut metadata = self.metadata;
        metadata.response_code = ResponseCode::ServFail;
        let mut message = Chunk::new(metadata, &self.query, TCP_MAX - TSIG_ROOM)?.finish()?;
        if let Some(signer) = &mut self.signer {
            signer.sign(&mut message, unix_now())?;
        }
        Ok(message)
    }

    pub(crate) fn messages(&self) -> u32 {
        self.messages
    }

    pub(crate) fn records(&self) -> u64 {
        self.records
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::serial_at_least;

    #[test]
    fn serials_compare_in_serial_arithmetic() {
        assert!(serial_at_least(5, 5));
        assert!(serial_at_least(6, 5));
        assert!(!serial_at_least(4, 5));
        // Wrapped around: 1 comes after u32::MAX.
        assert!(serial_at_least(1, u32::MAX));
        assert!(!serial_at_least(u32::MAX, 1));
    }
}
