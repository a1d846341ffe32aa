//! The sockets: UDP and TCP on one address, a task per request or
//! connection, bounded in number and in time.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use designate_storage::Storage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tracing::Instrument;
use tracing::field::Empty;

use crate::Error;
use crate::handler::{self, Context, Reply, SecondaryNotify, Transfer, Transport};
use crate::policy::TransferPolicy;

/// Designate's MiniDNS address (`[service:mdns] listen`), on loopback.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 5354));

/// UDP requests answered at once; more are dropped (clients retry).
const MAX_UDP_IN_FLIGHT: usize = 256;
/// TCP connections served at once from the pools' servers (the
/// allow-list), and from anyone else; more are closed. Apart, so that
/// strangers holding connections open never lock the nameservers out.
const MAX_TCP_ALLOWED: usize = 64;
const MAX_TCP_OTHERS: usize = 64;
/// TCP connections one other source may hold at once.
const MAX_TCP_PER_SOURCE: usize = 8;
/// Zone transfers at once (BIND's `transfers-out` default); more wait.
const MAX_TRANSFERS: usize = 10;
/// How long an open TCP connection may wait for its next request.
const TCP_IDLE: Duration = Duration::from_secs(5);
/// How long a request may take to arrive once its length came.
const TCP_READ: Duration = Duration::from_secs(5);
/// How long a client may take to take one message of an answer.
const TCP_WRITE: Duration = Duration::from_secs(30);
/// Tries to bind TCP on the port UDP got, when the port was left to the system.
const BIND_TRIES: u32 = 16;

/// The policy a running server applies, replaceable while it runs (pools
/// and keys change).
#[derive(Clone, Debug, Default)]
pub struct PolicyHandle(Arc<RwLock<Arc<TransferPolicy>>>);

impl PolicyHandle {
    pub fn set(&self, policy: TransferPolicy) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(policy);
    }

    pub fn get(&self) -> Arc<TransferPolicy> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes the policy in place: writers of different parts (the
    /// allow-list, the keys) never undo each other.
    pub fn update(&self, change: impl FnOnce(&mut TransferPolicy)) {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        let mut policy = TransferPolicy::clone(&slot);
        change(&mut policy);
        *slot = Arc::new(policy);
    }
}

/// MiniDNS bound to its address; [`MiniDns::serve`] answers.
pub struct MiniDns {
    addr: SocketAddr,
    udp: Arc<UdpSocket>,
    tcp: TcpListener,
    context: Arc<Context>,
}

impl MiniDns {
    /// Binds UDP and TCP on `listen` (port 0: one free port for both).
    pub async fn bind(
        listen: SocketAddr,
        storage: Storage,
        policy: TransferPolicy,
    ) -> Result<Self, Error> {
        let (udp, tcp) = bind_both(listen).await?;
        let handle = PolicyHandle::default();
        handle.set(policy);
        Ok(Self {
            addr: tcp.local_addr()?,
            udp: Arc::new(udp),
            tcp,
            context: Arc::new(Context {
                storage,
                policy: handle,
                transfers: Arc::new(Semaphore::new(MAX_TRANSFERS)),
                reloaded_at: std::sync::Mutex::default(),
                secondary_notifies: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The address bound (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The masters' NOTIFYs of secondary zones, as they come (one
    /// receiver: a second call gets one that never receives).
    pub fn secondary_notifies(&self) -> tokio::sync::mpsc::UnboundedReceiver<SecondaryNotify> {
        let (told, notifies) = tokio::sync::mpsc::unbounded_channel();
        let _ = self.context.secondary_notifies.set(told);
        notifies
    }

    /// The policy in force, to replace while serving.
    pub fn policy(&self) -> PolicyHandle {
        self.context.policy.clone()
    }

    /// Answers until the future is dropped (which stops every request and
    /// connection in progress too).
    pub async fn serve(self) {
        tracing::info!(addr = %self.local_addr(), "MiniDNS serving");
        let udp_slots = Arc::new(Semaphore::new(MAX_UDP_IN_FLIGHT));
        let tcp_slots = TcpSlots::default();
        let mut tasks = JoinSet::new();
        let mut buf = vec![0u8; usize::from(u16::MAX)];
        loop {
            tokio::select! {
                received = self.udp.recv_from(&mut buf) => {
                    let (len, peer) = match received {
                        Ok(received) => received,
                        Err(error) => {
                            tracing::debug!(%error, "UDP receive failed");
                            continue;
                        }
                    };
                    let Ok(slot) = udp_slots.clone().try_acquire_owned() else {
                        tracing::debug!(%peer, "busy: UDP request dropped");
                        continue;
                    };
                    let (udp, context) = (self.udp.clone(), self.context.clone());
                    let request = buf[..len].to_vec();
                    let span = request_span(peer, Transport::Udp);
                    tasks.spawn(async move {
                        answer_udp(&context, &udp, &request, peer).instrument(span).await;
                        drop(slot);
                    });
                }
                accepted = self.tcp.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            // Out of file descriptors, typically: let some close.
                            tracing::warn!(%error, "TCP accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let allowed = self.context.policy.get().allowed.contains(peer.ip());
                    let Some(slot) = tcp_slots.take(peer.ip(), allowed) else {
                        tracing::debug!(%peer, allowed, "busy: TCP connection closed");
                        continue;
                    };
                    let context = self.context.clone();
                    tasks.spawn(async move {
                        serve_tcp(&context, stream, peer).await;
                        drop(slot);
                    });
                }
                Some(done) = tasks.join_next() => {
                    if let Err(error) = done
                        && error.is_panic()
                    {
                        tracing::error!(%error, "a request handler panicked");
                    }
                }
            }
        }
    }
}

/// Connections held by each source that is not on the allow-list.
type PerSource = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// The TCP connection slots (see [`MAX_TCP_ALLOWED`]).
struct TcpSlots {
    allowed: Arc<Semaphore>,
    others: Arc<Semaphore>,
    per_source: PerSource,
}

impl Default for TcpSlots {
    fn default() -> Self {
        Self {
            allowed: Arc::new(Semaphore::new(MAX_TCP_ALLOWED)),
            others: Arc::new(Semaphore::new(MAX_TCP_OTHERS)),
            per_source: Arc::default(),
        }
    }
}

/// A connection's slot, given back when dropped.
struct TcpSlot {
    _permit: OwnedSemaphorePermit,
    /// The other source whose count it holds.
    source: Option<(IpAddr, PerSource)>,
}

impl TcpSlots {
    /// A slot for a connection from `ip`, if one is free.
    fn take(&self, ip: IpAddr, allowed: bool) -> Option<TcpSlot> {
        if allowed {
            let permit = self.allowed.clone().try_acquire_owned().ok()?;
            return Some(TcpSlot {
                _permit: permit,
                source: None,
            });
        }
        let mut held = self.per_source.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(ip).or_default();
        if *count >= MAX_TCP_PER_SOURCE {
            return None;
        }
        let permit = self.others.clone().try_acquire_owned().ok()?;
        *count += 1;
        Some(TcpSlot {
            _permit: permit,
            source: Some((ip, self.per_source.clone())),
        })
    }
}

impl Drop for TcpSlot {
    fn drop(&mut self) {
        if let Some((ip, per_source)) = &self.source {
            let mut held = per_source.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = held.get_mut(ip) {
                *count -= 1;
                if *count == 0 {
                    held.remove(ip);
                }
            }
        }
    }
}

/// UDP and TCP sockets on one address: with port 0, TCP takes the port the
/// system gave UDP, which another program may hold on TCP; then try again.
async fn bind_both(listen: SocketAddr) -> Result<(UdpSocket, TcpListener), Error> {
    let mut tries = 0;
    loop {
        tries += 1;
        let udp = UdpSocket::bind(listen).await?;
        match TcpListener::bind(udp.local_addr()?).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(error)
                if listen.port() == 0
                    && error.kind() == io::ErrorKind::AddrInUse
                    && tries < BIND_TRIES => {}
            Err(error) => return Err(error.into()),
        }
    }
}

fn request_span(peer: SocketAddr, transport: Transport) -> tracing::Span {
    tracing::debug_span!(
        "dns_request",
        %peer,
        transport = ?transport,
        id = Empty,
        opcode = Empty,
        qname = Empty,
        qtype = Empty,
        signed = Empty,
        rcode = Empty,
        messages = Empty,
        records = Empty,
    )
}

async fn answer_udp(context: &Context, udp: &UdpSocket, request: &[u8], peer: SocketAddr) {
    let started = Instant::now();
    match handler::handle(context, request, peer.ip(), Transport::Udp).await {
        Reply::None => {}
        Reply::Message(answer) => {
            if let Err(error) = udp.send_to(&answer, peer).await {
                tracing::debug!(%error, "UDP send failed");
            }
        }
        // The handler only starts transfers over TCP.
        Reply::Transfer(_) => tracing::error!("a transfer over UDP: not sent"),
    }
    tracing::debug!(elapsed_us = started.elapsed().as_micros(), "answered");
}

/// Requests of one TCP connection in turn, until it closes or idles.
async fn serve_tcp(context: &Context, mut stream: TcpStream, peer: SocketAddr) {
    // Answers are whole messages: don't hold back their last segment.
    let _ = stream.set_nodelay(true);
    loop {
        let len = match timeout(TCP_IDLE, stream.read_u16()).await {
            Ok(Ok(len)) => usize::from(len),
            _ => return,
        };
        let mut request = vec![0u8; len];
        if !matches!(
            timeout(TCP_READ, stream.read_exact(&mut request)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let span = request_span(peer, Transport::Tcp);
        let keep = answer_tcp(context, &mut stream, &request, peer)
            .instrument(span)
            .await;
        if !keep {
            return;
        }
    }
}

/// Answers one request; `false` when the connection must close.
async fn answer_tcp(
    context: &Context,
    stream: &mut TcpStream,
    request: &[u8],
    peer: SocketAddr,
) -> bool {
    let started = Instant::now();
    let kept = match handler::handle(context, request, peer.ip(), Transport::Tcp).await {
        Reply::None => true,
        Reply::Message(answer) => write_message(stream, &answer).await,
        Reply::Transfer(mut transfer) => {
            let kept = send_transfer(stream, &mut transfer).await;
            let span = tracing::Span::current();
            span.record("messages", transfer.messages());
            span.record("records", transfer.records());
            kept
        }
    };
    tracing::debug!(elapsed_us = started.elapsed().as_micros(), "answered");
    kept
}

/// Sends a transfer's messages; `false` when the connection must close.
async fn send_transfer(stream: &mut TcpStream, transfer: &mut Transfer) -> bool {
    loop {
        match transfer.next_message().await {
            Ok(Some(message)) => {
                if !write_message(stream, &message).await {
                    return false;
                }
            }
            Ok(None) => return true,
            Err(error) => {
                tracing::error!(%error, reason = error.reason(), "transfer failed");
                // Once messages went out, closing is the only way to say so.
                if transfer.messages() == 0
                    && let Ok(failure) = transfer.failure()
                {
                    write_message(stream, &failure).await;
                }
                return false;
            }
        }
    }
}

/// Writes one length-prefixed message; `false` when the client is gone or
/// too slow.
async fn write_message(stream: &mut TcpStream, message: &[u8]) -> bool {
    let Ok(len) = u16::try_from(message.len()) else {
        tracing::error!(len = message.len(), "message too long for TCP");
        return false;
    };
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(message);
    matches!(
        timeout(TCP_WRITE, stream.write_all(&framed)).await,
        Ok(Ok(()))
    )
}
