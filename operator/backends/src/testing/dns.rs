//! SOA queries over UDP: is a zone served, and at which serial. Hand-rolled
//! (a query and the few fields read from the answer) so that tests can poll
//! every few milliseconds without starting `dig`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

/// What a nameserver answers to an SOA query for a zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SoaAnswer {
    /// An authoritative answer with this serial.
    Serial(u32),
    /// No zone: the response code (`REFUSED`, `SERVFAIL`, `NOTAUTH`, ...), or
    /// `NOERROR` when the answer is not authoritative or has no SOA.
    NoZone(String),
}

impl fmt::Display for SoaAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serial(serial) => write!(f, "serial {serial}"),
            Self::NoZone(rcode) => write!(f, "no zone ({rcode})"),
        }
    }
}

const SOA: u16 = 6;
const IN: u16 = 1;

/// A query for the zone's SOA, without recursion.
fn soa_query(id: u16, zone: &str) -> Vec<u8> {
    let mut packet = Vec::with_capacity(64);
    packet.extend(id.to_be_bytes());
    // Flags 0 (a standard query, RD off), one question.
    packet.extend([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in zone
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        packet.push(u8::try_from(label.len()).unwrap_or(63));
        packet.extend(label.as_bytes());
    }
    packet.push(0);
    packet.extend(SOA.to_be_bytes());
    packet.extend(IN.to_be_bytes());
    packet
}

fn rcode_name(rcode: u8) -> String {
    match rcode {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        9 => "NOTAUTH".into(),
        other => format!("RCODE{other}"),
    }
}

/// The offset after the (possibly compressed) name at `at`.
fn skip_name(packet: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *packet.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2),
            l => at += 1 + usize::from(l),
        }
    }
}

fn u16_at(packet: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(packet.get(at..at + 2)?.try_into().ok()?))
}

/// Reads the answer to query `id`; `None` when it is not one (another id, a
/// truncated packet).
fn read_answer(id: u16, packet: &[u8]) -> Option<SoaAnswer> {
    if u16_at(packet, 0)? != id || packet.get(2)? & 0x80 == 0 {
        return None;
    }
    let authoritative = packet[2] & 0x04 != 0;
    let rcode = packet.get(3)? & 0x0f;
    let questions = u16_at(packet, 4)?;
    let answers = u16_at(packet, 6)?;
    let mut at = 12;
    for _ in 0..questions {
        at = skip_name(packet, at)? + 4;
    }
    if rcode == 0 && authoritative {
        for _ in 0..answers {
            at = skip_name(packet, at)?;
            let rtype = u16_at(packet, at)?;
            let rdlength = usize::from(u16_at(packet, at + 8)?);
            let rdata = at + 10;
            if rtype == SOA {
                let serial_at = skip_name(packet, skip_name(packet, rdata)?)?;
                let serial = packet.get(serial_at..serial_at + 4)?;
                return Some(SoaAnswer::Serial(u32::from_be_bytes(
                    serial.try_into().ok()?,
                )));
            }
            at = rdata + rdlength;
        }
    }
    let mut name = rcode_name(rcode);
    if rcode == 0 {
        name.push_str(if authoritative {
            ", no SOA"
        } else {
            ", not authoritative"
        });
    }
    Some(SoaAnswer::NoZone(name))
}

/// Asks `server` for the zone's SOA (one second per try, three tries).
pub async fn query_soa(server: SocketAddr, zone: &str) -> io::Result<SoaAnswer> {
    let local: SocketAddr = if server.is_ipv4() {
        "127.0.0.1:0".parse()
    } else {
        "[::1]:0".parse()
    }
    .map_err(io::Error::other)?;
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    let id: u16 = rand::random();
    let query = soa_query(id, zone);
    let mut buf = vec![0; 4096];
    for _ in 0..3 {
        socket.send(&query).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        while let Ok(received) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            if let Some(answer) = read_answer(id, &buf[..received?]) {
                return Ok(answer);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer from {server} to an SOA query for {zone}"),
    ))
}

/// Polls `server` every 5 ms until its answer for the zone satisfies `done`;
/// how long that took, or an error quoting the last answer after `timeout`.
pub async fn wait_for_soa(
    server: SocketAddr,
    zone: &str,
    timeout: Duration,
    done: impl Fn(&SoaAnswer) -> bool,
) -> io::Result<Duration> {
    let start = Instant::now();
    loop {
        let answer = query_soa(server, zone).await?;
        if done(&answer) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{server} still answers {answer} for {zone} after {timeout:?}"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A zone as a generic-form master file (what MiniDNS's `zone_file` gives
/// a nameserver that loads a zone with its data) at `serial`: SOA and NS,
/// then `extra` records (owner label under the zone, type, rdata in hex).
pub fn generic_zone_file(zone: &str, serial: u32, extra: &[(&str, u16, &str)]) -> String {
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let name = |n: &str| -> String {
        n.split('.')
            .filter(|l| !l.is_empty())
            .map(|l| format!("{:02x}{}", l.len(), hex(l.as_bytes())))
            .chain(["00".to_string()])
            .collect()
    };
    let soa = format!(
        "{}{}{serial:08x}00000e100000025800015180 0000012c",
        name(&format!("ns1.{zone}")),
        name(&format!("h.{zone}"))
    );
    let generic = |owner: &str, type_: u16, hex: &str| {
        let len = hex.chars().filter(|c| !c.is_whitespace()).count() / 2;
        format!("{owner} 300 IN TYPE{type_} \\# {len} {hex}\n")
    };
    let mut text = generic(zone, 6, &soa) + &generic(zone, 2, &name(&format!("ns1.{zone}")));
    for (label, type_, data) in extra {
        text.push_str(&generic(&format!("{label}.{zone}"), *type_, data));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_ask_for_the_soa_without_recursion() {
        assert_eq!(
            soa_query(0x1234, "ex.com."),
            [
                0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, // header
                2, b'e', b'x', 3, b'c', b'o', b'm', 0, 0, 6, 0, 1,
            ]
        );
    }

    /// An answer to `soa_query(7, "ex.com")` with the given flags and rcode.
    fn answer(flags: u8, rcode: u8, serial: Option<u32>) -> Vec<u8> {
        let mut packet = soa_query(7, "ex.com");
        packet[2] = flags;
        packet[3] = rcode;
        if let Some(serial) = serial {
            packet[7] = 1;
            // Owner: a pointer to the question's name; then SOA IN, TTL.
            packet.extend([0xc0, 12, 0, 6, 0, 1, 0, 0, 0x0e, 0x10]);
            let mut rdata = vec![3, b'n', b's', b'1', 0xc0, 12]; // ns1.ex.com.
            rdata.extend([0xc0, 12]); // rname: ex.com.
            rdata.extend(serial.to_be_bytes());
            rdata.extend([0; 16]);
            packet.extend(u16::try_from(rdata.len()).unwrap().to_be_bytes());
            packet.extend(rdata);
        }
        packet
    }

    #[test]
    fn answers_give_the_serial_or_why_there_is_none() {
        let aa = 0x84;
        assert_eq!(
            read_answer(7, &answer(aa, 0, Some(2024))),
            Some(SoaAnswer::Serial(2024))
        );
        assert_eq!(
            read_answer(7, &answer(0x80, 5, None)),
            Some(SoaAnswer::NoZone("REFUSED".into()))
        );
        assert_eq!(
            read_answer(7, &answer(0x80, 2, None)),
            Some(SoaAnswer::NoZone("SERVFAIL".into()))
        );
        assert_eq!(
            read_answer(7, &answer(0x80, 0, Some(1))),
            Some(SoaAnswer::NoZone("NOERROR, not authoritative".into()))
        );
        assert_eq!(
            read_answer(8, &answer(aa, 0, Some(1))),
            None,
            "another query's answer"
        );
        assert_eq!(
            read_answer(7, &soa_query(7, "ex.com")),
            None,
            "a query, not an answer"
        );
        let whole = answer(aa, 0, Some(1));
        assert_eq!(
            read_answer(7, &whole[..whole.len() - 20]),
            None,
            "truncated"
        );
    }
}
