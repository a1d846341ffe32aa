//! A bounded fuzz loop against a running server: random and mutated packets
//! (truncated, flipped, wrong counts, label pointer loops, huge) over UDP and
//! TCP. Every answer must be a well-formed response, and the server must
//! still answer correctly afterwards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use designate_mdns::soa_serial;
use designate_storage::testing::Backend;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{Name, RData, Record, RecordType, TSigner};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinSet;

use crate::common::{Server, T0, apex_ns, loopback_policy, publish, rrset, tcp_exchange, zone};

/// How long the loop runs; a few seconds in the normal test suite.
const BUDGET: Duration = Duration::from_secs(3);

/// Well-formed requests the mutations start from.
fn seeds() -> Vec<Vec<u8>> {
    let name = Name::from_ascii("example.com.").unwrap();
    let query = |type_| {
        let mut message = Message::query();
        message.add_query(Query::query(name.clone(), type_));
        message
    };
    let soa = Record::from_rdata(
        name.clone(),
        0,
        RData::SOA(SOA::new(Name::root(), Name::root(), T0 as u32, 0, 0, 0, 0)),
    );
    let mut ixfr = query(RecordType::IXFR);
    ixfr.add_authority(soa.clone());
    let mut notify = query(RecordType::SOA);
    notify.metadata.op_code = OpCode::Notify;
    notify.add_answer(soa);
    let mut edns = query(RecordType::A);
    edns.set_edns(Edns::new());
    let mut signed = query(RecordType::AXFR);
    let signer = TSigner::new(
        b"fuzz".to_vec(),
        TsigAlgorithm::HmacSha256,
        Name::from_ascii("fuzz-key.").unwrap(),
        300,
    )
    .unwrap();
    signed.finalize(&signer, T0 as u64).unwrap();
    [
        query(RecordType::SOA),
        query(RecordType::AXFR),
        ixfr,
        notify,
        edns,
        signed,
    ]
    .iter()
    .map(|m| m.to_vec().unwrap())
    .collect()
}

/// One packet: random bytes, or a seed mutated one or more ways.
fn packet(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
    if rng.random_ratio(1, 5) {
        let mut bytes = vec![0; rng.random_range(0..700)];
        rng.fill_bytes(&mut bytes);
        return bytes;
    }
    let mut bytes = seeds[rng.random_range(0..seeds.len())].clone();
    for _ in 0..rng.random_range(1..4) {
        match rng.random_range(0..7) {
            // Flip bytes.
            0 if !bytes.is_empty() => {
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..bytes.len());
                    bytes[at] = rng.random();
                }
            }
            // Cut short.
            1 => bytes.truncate(rng.random_range(0..=bytes.len())),
            // Wrong section counts.
            2 if bytes.len() >= 12 => {
                let at = 4 + 2 * rng.random_range(0..4);
                let count: u16 = if rng.random() {
                    rng.random()
                } else {
                    rng.random_range(0..4)
                };
                bytes[at..at + 2].copy_from_slice(&count.to_be_bytes());
            }
            // A label pointer to itself, or past the end.
            3 if bytes.len() >= 14 => {
                let target: u16 = if rng.random() {
                    12
                } else {
                    rng.random_range(0..0x3fff)
                };
                let pointer = 0xc000 | target;
                bytes[12..14].copy_from_slice(&pointer.to_be_bytes());
            }
            // Garbage after the message.
            4 => {
                let mut tail = vec![0; rng.random_range(1..64)];
                rng.fill_bytes(&mut tail);
                bytes.extend(tail);
            }
            // Not a response, whatever the mutation did.
            5 if bytes.len() > 2 => bytes[2] &= 0x7f,
            // Huge: padded to the largest TCP message.
            _ => bytes.resize(usize::from(u16::MAX), 0xc0),
        }
    }
    bytes
}

/// Every datagram that comes back must be a well-formed response.
fn check_answer(bytes: &[u8]) {
    let message = Message::from_vec(bytes).expect("answers are well-formed");
    assert_eq!(message.message_type, MessageType::Response);
}

/// Sends `framed` (a length-prefixed packet, possibly cut) on a connection
/// of its own and checks what comes back; returns how many answers came.
async fn over_tcp(addr: SocketAddr, framed: Vec<u8>) -> usize {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return 0;
    };
    if stream.write_all(&framed).await.is_err() {
        return 0;
    }
    let mut answers = 0;
    while let Ok(Ok(len)) =
        tokio::time::timeout(Duration::from_millis(500), stream.read_u16()).await
    {
        let mut buf = vec![0; usize::from(len)];
        if stream.read_exact(&mut buf).await.is_err() {
            break;
        }
        check_answer(&buf);
        answers += 1;
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_and_mutated_packets_never_break_the_server() {
    let server = Server::start(Backend::Sqlite, loopback_policy()).await;
    let z = zone("z1", "example.com.");
    let serial = publish(
        &server.storage,
        &z,
        None,
        vec![
            apex_ns(&z),
            rrset("www", "www.example.com.", "A", None, &["192.0.2.1"]),
        ],
        &[],
        T0,
    )
    .await;
    let addr = server.addr;
    let seed: u64 = rand::random();
    eprintln!("fuzz seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let seeds = seeds();

    let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let udp_answers = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (socket, answers) = (socket.clone(), udp_answers.clone());
        tokio::spawn(async move {
            let mut buf = vec![0; 65535];
            while let Ok((len, _)) = socket.recv_from(&mut buf).await {
                check_answer(&buf[..len]);
                answers.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let started = Instant::now();
    let mut connections = JoinSet::new();
    let mut sent = 0;
    while started.elapsed() < BUDGET {
        let packet = packet(&mut rng, &seeds);
        if rng.random_ratio(1, 8) {
            let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&packet);
            // Sometimes the frame is cut: the server must not wait forever on it.
            if rng.random_ratio(1, 10) {
                framed.truncate(rng.random_range(0..framed.len()));
            }
            while connections.len() >= 32 {
                connections.join_next().await;
            }
            connections.spawn(over_tcp(addr, framed));
        } else {
            // A datagram holds at most 65,507 bytes.
            let _ = socket
                .send_to(&packet[..packet.len().min(65_000)], addr)
                .await;
            // Pace to stay within what the server takes at once.
            if sent % 32 == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        sent += 1;
    }
    let mut tcp_answers = 0;
    while let Some(answers) = connections.join_next().await {
        tcp_answers += answers.expect("TCP answers are well-formed");
    }
    assert!(!reader.is_finished(), "a bad UDP answer");
    reader.abort();
    eprintln!(
        "{sent} packets, {} UDP and {tcp_answers} TCP answers",
        udp_answers.load(Ordering::Relaxed)
    );
    assert!(sent > 500);

    // Still serving, correctly.
    assert_eq!(
        soa_serial(addr, "example.com.", None, Duration::from_secs(1))
            .await
            .unwrap(),
        Some(serial as u32)
    );
    let mut axfr = Message::query();
    axfr.add_query(Query::query(
        Name::from_ascii("example.com.").unwrap(),
        RecordType::AXFR,
    ));
    let messages = tcp_exchange(addr, &axfr.to_vec().unwrap()).await;
    assert_eq!(messages.iter().map(|m| m.answers.len()).sum::<usize>(), 4);
    server.stop().await;
}
