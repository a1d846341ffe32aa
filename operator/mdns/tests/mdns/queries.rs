//! Queries, errors, NOTIFY and the client (SQLite storage).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use designate_central::managed::soa_rdata;
use designate_mdns::{Error, ResponseCode, TransferPolicy, TsigKey, notify, soa_serial};
use designate_storage::testing::Backend;
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::net::UdpSocket;

use crate::common::{
    SECRET, Server, T0, apex_ns, flags, loopback_policy, publish, records, rr, rrset, status,
    tcp_exchange, zone,
};

const TIMEOUT: Duration = Duration::from_millis(500);

/// example.com. with NS, www A, MX and an apex TXT of its own TTL.
async fn example(server: &Server) -> i64 {
    let z = zone("z1", "example.com.");
    publish(
        &server.storage,
        &z,
        None,
        vec![
            apex_ns(&z),
            rrset("www", "www.example.com.", "A", None, &["192.0.2.1"]),
            rrset("mx", "example.com.", "MX", None, &["10 mail.example.com."]),
            rrset("txt", "example.com.", "TXT", Some(300), &["\"hello\""]),
        ],
        &[],
        T0,
    )
    .await
}

/// Sends one UDP datagram and waits (briefly) for the answer.
async fn udp(addr: SocketAddr, request: &[u8]) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(request, addr).await.unwrap();
    let mut buf = vec![0; 65535];
    let (len, _) = tokio::time::timeout(TIMEOUT, socket.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    Some(Message::from_vec(&buf[..len]).expect("a well-formed answer"))
}

fn query(name: &str, type_: RecordType) -> Message {
    let mut message = Message::query();
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), type_));
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soa_and_records_are_answered_authoritatively() {
    let server = Server::start(Backend::Sqlite, loopback_policy()).await;
    let serial = example(&server).await;
    let soa = soa_rdata(&zone("z1", "example.com.").soa, serial);

    let out = server.dig(&["example.com.", "SOA", "+norec"]).await;
    assert_eq!(status(&out), "NOERROR", "{out}");
    assert!(flags(&out).contains(&"aa"), "{out}");
    assert_eq!(
        records(&out),
        vec![rr("example.com.", 3600, "SOA", &soa)],
        "{out}"
    );

    // Any name and type of the zone, case-insensitively, with its TTL.
    for (name, type_, want) in [
        (
            "WWW.Example.COM.",
            "A",
            rr("www.example.com.", 3600, "A", "192.0.2.1"),
        ),
        (
            "example.com.",
            "TXT",
            rr("example.com.", 300, "TXT", "\"hello\""),
        ),
        (
            "example.com.",
            "NS",
            rr("example.com.", 3600, "NS", "ns1.example.org."),
        ),
    ] {
        let out = server
            .dig(&[name, type_, "+norec", "+noall", "+answer"])
            .await;
        assert_eq!(records(&out), vec![want], "{name} {type_}: {out}");
    }

    // What is not there is REFUSED, as Designate answers it.
    for (name, type_) in [
        ("example.net.", "SOA"),
        ("nothere.example.com.", "A"),
        ("www.example.com.", "AAAA"),
    ] {
        let out = server.dig(&[name, type_, "+norec"]).await;
        assert_eq!(status(&out), "REFUSED", "{name} {type_}: {out}");
    }

    // The client sees the serial, then the next one.
    let got = soa_serial(server.addr, "example.com", None, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(got, Some(serial as u32));
    assert_eq!(
        soa_serial(server.addr, "example.net.", None, TIMEOUT)
            .await
            .unwrap(),
        None
    );
    let z = zone("z1", "example.com.");
    let next = publish(&server.storage, &z, Some(serial), vec![], &[], T0 + 60).await;
    let started = Instant::now();
    let got = soa_serial(server.addr, "example.com.", None, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(got, Some(next as u32));
    eprintln!("soa_serial against MiniDNS: {:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unsupported_requests_get_their_codes() {
    let server = Server::start(Backend::Sqlite, loopback_policy()).await;
    example(&server).await;
    let addr = server.addr;

    // A header promising a question that is cut off: FORMERR, same id.
    let mut cut = query("example.com.", RecordType::SOA).to_vec().unwrap();
    cut.truncate(16);
    let answer = udp(addr, &cut).await.expect("an answer");
    assert_eq!(answer.response_code, ResponseCode::FormErr);
    assert_eq!(answer.id, u16::from_be_bytes([cut[0], cut[1]]));
    assert_eq!(answer.message_type, MessageType::Response);

    // Shorter than a header, or a response: no answer at all.
    assert!(udp(addr, &[1, 2, 3]).await.is_none());
    let mut response = query("example.com.", RecordType::SOA);
    response.metadata.message_type = MessageType::Response;
    assert!(udp(addr, &response.to_vec().unwrap()).await.is_none());

    // Two questions, an IXFR without the client's SOA, AXFR over UDP: FORMERR.
    let mut two = query("example.com.", RecordType::SOA);
    two.add_query(Query::query(
        Name::from_ascii("example.net.").unwrap(),
        RecordType::SOA,
    ));
    let ixfr = query("example.com.", RecordType::IXFR);
    let axfr = query("example.com.", RecordType::AXFR);
    for request in [&two, &ixfr, &axfr] {
        let answer = udp(addr, &request.to_vec().unwrap())
            .await
            .expect("an answer");
        assert_eq!(answer.response_code, ResponseCode::FormErr, "{request}");
        assert_eq!(answer.id, request.id);
    }

    // Opcodes other than QUERY and NOTIFY: NOTIMP, over UDP and TCP.
    for op_code in [OpCode::Update, OpCode::Status, OpCode::Unknown(6)] {
        let mut request = query("example.com.", RecordType::SOA);
        request.metadata.op_code = op_code;
        let bytes = request.to_vec().unwrap();
        let answer = udp(addr, &bytes).await.expect("an answer");
        assert_eq!(answer.response_code, ResponseCode::NotImp, "{op_code}");
        let answers = tcp_exchange(addr, &bytes).await;
        assert_eq!(answers[0].response_code, ResponseCode::NotImp, "{op_code}");
    }

    // Another class: REFUSED.
    let mut chaos = Message::query();
    let mut version = Query::query(Name::from_ascii("version.bind.").unwrap(), RecordType::TXT);
    version.set_query_class(DNSClass::CH);
    chaos.add_query(version);
    let answer = udp(addr, &chaos.to_vec().unwrap())
        .await
        .expect("an answer");
    assert_eq!(answer.response_code, ResponseCode::Refused);

    // Still serving.
    assert!(
        soa_serial(addr, "example.com.", None, TIMEOUT)
            .await
            .unwrap()
            .is_some()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_is_acknowledged_for_hosted_zones_from_allowed_senders() {
    let server = Server::start(Backend::Sqlite, loopback_policy()).await;
    let serial = example(&server).await as u32;
    let addr = server.addr;

    notify("example.com.", serial, addr, None, TIMEOUT)
        .await
        .expect("NOTIFY acknowledged");
    let err = notify("example.net.", serial, addr, None, TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                rcode: ResponseCode::NotAuth,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.reason(), "Rejected");

    // From a sender not allowed, unless signed.
    let key = TsigKey::new("notify-key", "hmac-sha256", SECRET).unwrap();
    server.policy.set(TransferPolicy {
        keys: vec![key.clone()],
        ..Default::default()
    });
    let err = notify("example.com.", serial, addr, None, TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                rcode: ResponseCode::Refused,
                ..
            }
        ),
        "{err}"
    );
    notify("example.com.", serial, addr, Some(&key), TIMEOUT)
        .await
        .expect("signed NOTIFY acknowledged");
    // Signed SOA polls are answered signed, and verified.
    assert_eq!(
        soa_serial(addr, "example.com.", Some(&key), TIMEOUT)
            .await
            .unwrap(),
        Some(serial)
    );
    // A key the server does not have: NOTAUTH.
    let stranger = TsigKey::new("notify-key", "hmac-sha256", "b3RoZXItc2VjcmV0").unwrap();
    let err = notify("example.com.", serial, addr, Some(&stranger), TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                rcode: ResponseCode::NotAuth,
                ..
            }
        ),
        "{err}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_retries_a_bounded_number_of_times() {
    // A server that never answers: three tries, each the timeout.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = silent.local_addr().unwrap();
    let started = Instant::now();
    let err = notify("example.com.", 1, target, None, Duration::from_millis(100))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout { tries: 3, .. }), "{err}");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let mut buf = vec![0; 512];
    let mut received = 0;
    while let Ok(Ok(_)) =
        tokio::time::timeout(Duration::from_millis(50), silent.recv_from(&mut buf)).await
    {
        received += 1;
    }
    assert_eq!(received, 3);

    // One that answers the second try only (and first sends a stranger's
    // answer): acknowledged.
    let flaky = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = flaky.local_addr().unwrap();
    let responder = tokio::spawn(async move {
        let mut buf = vec![0; 512];
        let _ = flaky.recv_from(&mut buf).await.unwrap();
        let (len, peer) = flaky.recv_from(&mut buf).await.unwrap();
        let request = Message::from_vec(&buf[..len]).unwrap();
        let mut answer = Message::response(request.id, OpCode::Notify);
        answer.add_queries(request.queries.clone());
        let mut stranger = answer.clone();
        stranger.metadata.id = request.id.wrapping_add(1);
        flaky
            .send_to(&stranger.to_vec().unwrap(), peer)
            .await
            .unwrap();
        flaky
            .send_to(&answer.to_vec().unwrap(), peer)
            .await
            .unwrap();
    });
    notify("example.com.", 1, target, None, Duration::from_millis(200))
        .await
        .expect("acknowledged on the second try");
    responder.await.unwrap();

    // A server that cannot serve the zone (SERVFAIL, as BIND answers for a
    // secondary without data): not served, so the zone is driven again.
    let failing = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = failing.local_addr().unwrap();
    let responder = tokio::spawn(async move {
        let mut buf = vec![0; 512];
        let (len, peer) = failing.recv_from(&mut buf).await.unwrap();
        let request = Message::from_vec(&buf[..len]).unwrap();
        let mut answer = Message::response(request.id, OpCode::Query);
        answer.add_queries(request.queries.clone());
        answer.metadata.response_code = ResponseCode::ServFail;
        failing
            .send_to(&answer.to_vec().unwrap(), peer)
            .await
            .unwrap();
    });
    let served = soa_serial(target, "example.com.", None, Duration::from_millis(500)).await;
    assert_eq!(served.unwrap(), None);
    responder.await.unwrap();

    // Nobody listening at all: an error, not a hang.
    let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = closed.local_addr().unwrap();
    drop(closed);
    let started = Instant::now();
    assert!(
        soa_serial(target, "example.com.", None, Duration::from_millis(100))
            .await
            .is_err()
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}
