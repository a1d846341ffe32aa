//! DNS on the wire for the benches: polls that no cache answers twice,
//! and zone transfers as a secondary makes them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long a poll waits for its answer.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(200);

/// Tells the pollers' queries apart (see [`soa_serial_fresh`]).
static NONCE: AtomicU16 = AtomicU16::new(0);

/// The serial `server` serves for `zone`; `None` while it does not (no
/// zone, SERVFAIL while a secondary zone loads, no answer in time).
///
/// Not `designate_mdns::soa_serial`: each query here carries another EDNS
/// buffer size, part of PowerDNS's packet-cache key, so that no two polls
/// share a cache entry. PowerDNS purges its cache when it commits a
/// transfer, but a query read from its database just before the commit puts
/// the old SOA back, for `cache-ttl` (20 s); with one query form polled
/// every millisecond that happened to a few percent of the changes.
pub async fn soa_serial_fresh(server: SocketAddr, zone: &str) -> Option<u32> {
    let answer = query_fresh(server, zone, RecordType::SOA).await?;
    answer.answers.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(soa.serial),
        _ => None,
    })
}

/// `server`'s authoritative NOERROR answer to `name`/`type_`, asked as
/// [`soa_serial_fresh`] asks; `None` for any other answer or none in time.
pub async fn query_fresh(server: SocketAddr, name: &str, type_: RecordType) -> Option<Message> {
    let nonce = NONCE.fetch_add(1, Ordering::Relaxed);
    let mut query = Message::query();
    query.metadata.id = nonce;
    query.add_query(Query::query(Name::from_ascii(name).ok()?, type_));
    let mut edns = Edns::new();
    // Repeats only after 60,000 queries, well past PowerDNS's cache-ttl.
    edns.set_max_payload(512 + nonce % 60_000);
    query.set_edns(edns);
    let socket = UdpSocket::bind("127.0.0.1:0").await.ok()?;
    socket.connect(server).await.ok()?;
    socket.send(&query.to_vec().ok()?).await.ok()?;
    let mut buf = vec![0; 4096];
    let deadline = tokio::time::Instant::now() + QUERY_TIMEOUT;
    loop {
        let len = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .ok()?
            .ok()?;
        let Ok(answer) = Message::from_vec(&buf[..len]) else {
            continue;
        };
        if answer.metadata.id != nonce {
            continue;
        }
        if answer.response_code != ResponseCode::NoError || !answer.authoritative {
            return None;
        }
        return Some(answer);
    }
}

/// An AXFR query, or an IXFR one from `serial`, as wire bytes.
pub fn transfer_query(zone: &str, type_: RecordType, serial: Option<u32>) -> Result<Vec<u8>> {
    let name = Name::from_ascii(zone)?;
    let mut message = Message::query();
    message.add_query(Query::query(name.clone(), type_));
    if let Some(serial) = serial {
        // IXFR: the client's version, as an SOA in the authority section.
        message.add_authority(Record::from_rdata(
            name,
            0,
            RData::SOA(SOA::new(Name::root(), Name::root(), serial, 0, 0, 0, 0)),
        ));
    }
    Ok(message.to_vec()?)
}

/// What one transfer brought.
pub struct Transferred {
    pub took: Duration,
    pub records: usize,
    pub messages: usize,
    pub bytes: usize,
}

/// A zone transfer over a new TCP connection, as a secondary makes it: the
/// request, then messages (each decoded) until the SOA that closes it.
pub async fn transfer(
    server: SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> Result<Transferred> {
    let run = async {
        let start = Instant::now();
        let mut stream = TcpStream::connect(server).await?;
        stream.set_nodelay(true)?;
        let mut framed = u16::try_from(request.len())?.to_be_bytes().to_vec();
        framed.extend_from_slice(request);
        stream.write_all(&framed).await?;
        let (mut records, mut messages, mut bytes) = (0, 0, 0);
        let mut first_soa = None;
        let mut soas = 0;
        loop {
            let len = stream.read_u16().await?;
            let mut buf = vec![0; usize::from(len)];
            stream.read_exact(&mut buf).await?;
            let message = Message::from_vec(&buf)?;
            if message.response_code != ResponseCode::NoError {
                bail!("{server} answered {}", message.response_code);
            }
            messages += 1;
            bytes += buf.len() + 2;
            records += message.answers.len();
            let mut last_soa = None;
            for record in &message.answers {
                if let RData::SOA(soa) = &record.data {
                    soas += 1;
                    first_soa.get_or_insert(soa.serial);
                }
                last_soa = match &record.data {
                    RData::SOA(soa) => Some(soa.serial),
                    _ => None,
                };
            }
            // Closed by the first SOA's serial coming back last (RFC 5936,
            // RFC 1995); a single SOA means nothing to send.
            if (soas >= 2 && last_soa.is_some() && last_soa == first_soa) || records == 1 {
                return Ok(Transferred {
                    took: start.elapsed(),
                    records,
                    messages,
                    bytes,
                });
            }
        }
    };
    tokio::time::timeout(timeout, run)
        .await
        .context("the transfer did not finish in time")?
}
