//! The client side, for the controllers: NOTIFY a nameserver of a change and
//! ask a nameserver for a zone's serial (Designate's worker `SendNotify` and
//! `PollForZone`), over UDP, and transfer a zone from a master (AXFR and
//! IXFR over TCP), each optionally TSIG-signed.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType, TSigVerifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use crate::Error;
use crate::incremental::{self, Ixfr};
use crate::policy::TsigKey;
use crate::records;

/// Sends of a request that gets no answer, each waiting the timeout.
const TRIES: u32 = 3;

/// Tells `target` that `zone` changed to `serial` (NOTIFY, RFC 1996, with the
/// serial in an SOA hint) and waits for its acknowledgement; `timeout` is per
/// try, up to 3 tries. Errors: no answer, or an answer other than NOERROR
/// (NOTAUTH: the server does not serve the zone, REFUSED: not from us).
pub async fn notify(
    zone: &str,
    serial: u32,
    target: SocketAddr,
    tsig: Option<&TsigKey>,
    timeout: Duration,
) -> Result<(), Error> {
    let zone = zone_name(zone)?;
    let mut request = Message::new(rand::random(), MessageType::Query, OpCode::Notify);
    request.metadata.authoritative = true;
    request.add_query(Query::query(zone.clone(), RecordType::SOA));
    // Only the serial matters to the receiver (RFC 1996 §3.7).
    request.add_answer(serial_hint(zone, serial));
    let answer = exchange(request, target, tsig, timeout).await?;
    match answer.response_code {
        ResponseCode::NoError => Ok(()),
        rcode => Err(Error::Rejected { target, rcode }),
    }
}

/// The serial of `zone` on nameserver `target` (an SOA query without
/// recursion); `None` when the server does not serve it (NXDOMAIN, REFUSED,
/// NOTAUTH, or no SOA in the answer), and when it cannot (SERVFAIL: BIND's
/// answer for a secondary zone it holds without data, as after a failed
/// first transfer). `timeout` is per try, up to 3 tries.
/// An answer that is not authoritative is an error, as in Designate.
pub async fn soa_serial(
    target: SocketAddr,
    zone: &str,
    tsig: Option<&TsigKey>,
    timeout: Duration,
) -> Result<Option<u32>, Error> {
    let zone = zone_name(zone)?;
    let mut request = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    request.add_query(Query::query(zone.clone(), RecordType::SOA));
    // A random EDNS buffer size: it is part of PowerDNS's packet-cache key,
    // so a poll neither gets nor leaves an entry that raced a transfer's
    // commit (PowerDNS would serve that old SOA for its cache-ttl, 20 s).
    let mut edns = Edns::new();
    edns.set_max_payload(1232 + rand::random::<u16>() % 2800);
    request.set_edns(edns);
    let answer = exchange(request, target, tsig, timeout).await?;
    match answer.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain
        | ResponseCode::Refused
        | ResponseCode::NotAuth
        | ResponseCode::ServFail => return Ok(None),
        rcode => return Err(Error::Rejected { target, rcode }),
    }
    let serial = answer
        .answers
        .iter()
        .filter(|rr| rr.name.eq_ignore_root(&zone))
        .find_map(records::soa_serial);
    match serial {
        Some(_) if !answer.authoritative => Err(Error::BadResponse {
            target,
            reason: "answer not authoritative".into(),
        }),
        serial => Ok(serial),
    }
}

/// One record of a transfer, as storage keeps records: owner name (with
/// its trailing dot), type, TTL and rdata in presentation format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferredRecord {
    pub name: String,
    pub type_: String,
    pub ttl: u32,
    pub data: String,
}

/// A record's data in presentation format (RFC 1035 §5.1). hickory's own
/// `Display` of a TXT joins its character-strings unquoted, which loses
/// their bounds and reads back as one string per word.
fn presentation(data: &RData) -> String {
    let RData::TXT(txt) = data else {
        return data.to_string();
    };
    let quoted = txt.txt_data.iter().map(|string| {
        let mut out = String::from('"');
        for &byte in string.iter() {
            match byte {
                b'"' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(byte));
                }
                0x20..=0x7e => out.push(char::from(byte)),
                _ => out.push_str(&format!("\\{byte:03}")),
            }
        }
        out.push('"');
        out
    });
    quoted.collect::<Vec<_>>().join(" ")
}

/// The whole of `zone` from `master` by AXFR over TCP (RFC 5936): every
/// record between the opening and the closing SOA, the SOA first.
/// With `tsig`, the request is signed and every message of the answer must
/// verify, in order. `timeout` bounds the connection and each message.
/// Errors: the master refuses (`Rejected`), answers something else than the
/// zone (`BadResponse`), or does not answer (`Timeout`, `Io`).
pub async fn axfr(
    master: SocketAddr,
    zone: &str,
    tsig: Option<&TsigKey>,
    timeout: Duration,
) -> Result<Vec<TransferredRecord>, Error> {
    let zone = zone_name(zone)?;
    let mut request = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    request.add_query(Query::query(zone.clone(), RecordType::AXFR));
    let mut records = transfer(master, &zone, request, tsig, timeout, |records, _| {
        records.len() > 1 && records.last().is_some_and(|r| r.type_ == "SOA")
    })
    .await?;
    records.pop();
    Ok(records)
}

/// The changes to `zone` since `serial` from `master` by IXFR over TCP
/// (RFC 1995): the master answers with them, with the whole zone (it keeps
/// no history from that serial, or prefers to), or with its SOA alone
/// (nothing newer). Signed and checked as [`axfr`].
pub async fn ixfr(
    master: SocketAddr,
    zone: &str,
    serial: u32,
    tsig: Option<&TsigKey>,
    timeout: Duration,
) -> Result<Ixfr, Error> {
    let zone = zone_name(zone)?;
    let mut request = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    request.add_query(Query::query(zone.clone(), RecordType::IXFR));
    // Only the serial the client has matters (RFC 1995 §3).
    request.add_authority(serial_hint(zone.clone(), serial));
    let records = transfer(
        master,
        &zone,
        request,
        tsig,
        timeout,
        |records, message_end| incremental::complete(records, serial, message_end),
    )
    .await?;
    incremental::read(records, serial).map_err(|reason| Error::BadResponse {
        target: master,
        reason: reason.into(),
    })
}

/// Sends a zone transfer `request` to `master` over TCP and reads the
/// records of its answer, opening with the zone's SOA, until `complete`
/// (asked after each record, and at the end of each message) says so.
async fn transfer(
    master: SocketAddr,
    zone: &Name,
    mut request: Message,
    tsig: Option<&TsigKey>,
    timeout: Duration,
    complete: impl Fn(&[TransferredRecord], bool) -> bool,
) -> Result<Vec<TransferredRecord>, Error> {
    let mut verifier = sign(&mut request, tsig)?;
    let bytes = request.to_vec()?;
    let timed_out = || Error::Timeout {
        target: master,
        tries: 1,
    };
    let mut stream = tokio::time::timeout(timeout, TcpStream::connect(master))
        .await
        .map_err(|_| timed_out())??;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes());
    framed.extend_from_slice(&bytes);
    stream.write_all(&framed).await?;
    let bad = |reason: &str| Error::BadResponse {
        target: master,
        reason: reason.to_string(),
    };
    let mut records = Vec::new();
    loop {
        let mut length = [0u8; 2];
        tokio::time::timeout(timeout, stream.read_exact(&mut length))
            .await
            .map_err(|_| timed_out())??;
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
        tokio::time::timeout(timeout, stream.read_exact(&mut message))
            .await
            .map_err(|_| timed_out())??;
        let answer = Message::from_vec(&message).map_err(|e| bad(&format!("undecodable: {e}")))?;
        if answer.id != request.id || answer.message_type != MessageType::Response {
            return Err(bad("an answer to another request"));
        }
        if answer.response_code != ResponseCode::NoError {
            return Err(Error::Rejected {
                target: master,
                rcode: answer.response_code,
            });
        }
        if let Some(verifier) = &mut verifier {
            verifier
                .verify(&message)
                .map_err(|error| bad(&format!("TSIG: {error}")))?;
        }
        if answer.answers.is_empty() {
            return Err(bad("an empty transfer message"));
        }
        for record in &answer.answers {
            let is_soa = record.record_type() == RecordType::SOA;
            if records.is_empty() && !(is_soa && record.name.eq_ignore_root(zone)) {
                return Err(bad("a transfer that does not open with the zone's SOA"));
            }
            records.push(TransferredRecord {
                name: record.name.to_ascii(),
                type_: record.record_type().to_string(),
                ttl: record.ttl,
                data: presentation(&record.data),
            });
            if complete(&records, false) {
                return Ok(records);
            }
        }
        if complete(&records, true) {
            return Ok(records);
        }
    }
}

/// An SOA record of `zone` that carries only `serial` (NOTIFY's hint,
/// IXFR's serial of the client).
fn serial_hint(zone: Name, serial: u32) -> Record {
    Record::from_rdata(
        zone,
        0,
        RData::SOA(SOA::new(Name::root(), Name::root(), serial, 0, 0, 0, 0)),
    )
}

fn zone_name(zone: &str) -> Result<Name, Error> {
    let mut name = Name::from_ascii(zone).map_err(|_| Error::InvalidName(zone.to_string()))?;
    name.set_fqdn(true);
    Ok(name)
}

/// Sends `request` until an answer to it comes (the same message each try,
/// so a late answer to an earlier try counts), and checks its TSIG.
async fn exchange(
    mut request: Message,
    target: SocketAddr,
    tsig: Option<&TsigKey>,
    per_try: Duration,
) -> Result<Message, Error> {
    let local: SocketAddr = if target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    // Connected: datagrams from anyone else are not delivered.
    socket.connect(target).await?;
    let mut verifier = sign(&mut request, tsig)?;
    let bytes = request.to_vec()?;
    let mut buf = vec![0u8; usize::from(u16::MAX)];
    for _ in 0..TRIES {
        socket.send(&bytes).await?;
        let deadline = Instant::now() + per_try;
        while let Ok(received) = timeout_at(deadline, socket.recv(&mut buf)).await {
            let answer = &buf[..received?];
            let Some(message) = answer_to(&request, answer) else {
                continue;
            };
            // Errors are errors signed or not; a success must be signed.
            if let Some(verifier) = &mut verifier
                && message.response_code == ResponseCode::NoError
            {
                verifier
                    .verify(answer)
                    .map_err(|error| Error::BadResponse {
                        target,
                        reason: format!("TSIG: {error}"),
                    })?;
            }
            return Ok(message);
        }
    }
    Err(Error::Timeout {
        target,
        tries: TRIES,
    })
}

/// Signs `request` with `tsig`, if given; the verifier of its answers.
fn sign(request: &mut Message, tsig: Option<&TsigKey>) -> Result<Option<TSigVerifier>, Error> {
    let Some(key) = tsig else {
        return Ok(None);
    };
    let signer = key.signer().ok_or_else(|| Error::InvalidKey {
        name: key.name(),
        reason: format!("{} does not sign queries", key.algorithm()),
    })?;
    Ok(request.finalize(&signer, unix_now())?)
}

/// `bytes` decoded when it answers `request`: same id, opcode and question.
fn answer_to(request: &Message, bytes: &[u8]) -> Option<Message> {
    let answer = Message::from_vec(bytes).ok()?;
    let same_question = answer.queries.len() == request.queries.len()
        && answer.queries.iter().zip(&request.queries).all(|(a, q)| {
            a.name().eq_ignore_root(q.name())
                && a.query_type() == q.query_type()
                && a.query_class() == q.query_class()
        });
    (answer.id == request.id
        && answer.message_type == MessageType::Response
        && answer.op_code == request.op_code
        && same_question)
        .then_some(answer)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soa_query() -> Message {
        let mut request = Message::new(9, MessageType::Query, OpCode::Query);
        request.add_query(Query::query(
            Name::from_ascii("example.com.").unwrap(),
            RecordType::SOA,
        ));
        request
    }

    #[test]
    fn txt_strings_keep_their_bounds() {
        use hickory_proto::rr::rdata::TXT;
        let txt = TXT::from_bytes(vec![b"made on the master", b"say \"hi\"\\", b"\x07"]);
        assert_eq!(
            presentation(&RData::TXT(txt)),
            r#""made on the master" "say \"hi\"\\" "\007""#
        );
        let a = RData::A("192.0.2.1".parse().unwrap());
        assert_eq!(presentation(&a), "192.0.2.1");
    }

    #[test]
    fn only_answers_to_the_request_count() {
        let request = soa_query();
        let answer = |edit: &dyn Fn(&mut Message)| {
            let mut message = crate::wire::response(&request, ResponseCode::NoError, true);
            edit(&mut message);
            answer_to(&request, &message.to_vec().unwrap())
        };
        assert!(answer(&|_| {}).is_some());
        assert!(
            answer(&|m| m.queries[0].name = Name::from_ascii("EXAMPLE.com.").unwrap()).is_some()
        );
        assert!(answer(&|m| m.metadata.id = 10).is_none());
        assert!(answer(&|m| m.metadata.message_type = MessageType::Query).is_none());
        assert!(answer(&|m| m.metadata.op_code = OpCode::Notify).is_none());
        assert!(
            answer(&|m| m.queries[0].name = Name::from_ascii("example.net.").unwrap()).is_none()
        );
        assert!(answer(&|m| m.queries.clear()).is_none());
        assert!(answer_to(&request, b"garbage").is_none());
    }

    #[test]
    fn zone_names_are_absolute() {
        assert_eq!(zone_name("example.com").unwrap().to_ascii(), "example.com.");
        assert_eq!(
            zone_name("example.com.").unwrap().to_ascii(),
            "example.com."
        );
        assert_eq!(zone_name("bad..name").unwrap_err().reason(), "InvalidName");
    }
}
