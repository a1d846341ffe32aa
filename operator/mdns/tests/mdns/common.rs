//! What the MiniDNS tests share: a server on a free loopback port over a
//! throwaway database, publishing, `dig`, and a small TCP transfer client.

use std::net::SocketAddr;
use std::process::Output;
use std::time::Duration;

use designate_central::managed::apex_ns_rrset;
use designate_central::{NsRecord, Rrset, Soa, ZoneKind, ZoneRow};
use designate_mdns::{MiniDns, PolicyHandle, TransferPolicy};
use designate_storage::testing::{Backend, TestDatabase};
use designate_storage::{Storage, ZoneChange};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Serials of the tests' publishes start here.
pub const T0: i64 = 1_700_000_000;

/// A TSIG secret (base64) for the tests' keys.
pub const SECRET: &str = "bWluaWRucy10ZXN0LXNlY3JldC0zMi1ieXRlcyEhISE=";

/// MiniDNS serving a throwaway database.
pub struct Server {
    pub addr: SocketAddr,
    pub storage: Storage,
    pub policy: PolicyHandle,
    db: TestDatabase,
    task: JoinHandle<()>,
}

impl Server {
    pub async fn start(backend: Backend, policy: TransferPolicy) -> Self {
        init_tracing();
        let db = TestDatabase::create(backend)
            .await
            .expect("create test database");
        let storage = Storage::connect(db.url()).await.expect("connect");
        let server = MiniDns::bind("127.0.0.1:0".parse().unwrap(), storage.clone(), policy)
            .await
            .expect("bind MiniDNS");
        let (addr, handle) = (server.local_addr(), server.policy());
        let task = tokio::spawn(server.serve());
        Self {
            addr,
            storage,
            policy: handle,
            db,
            task,
        }
    }

    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        self.storage.close().await.expect("close storage");
        self.db.cleanup().await.expect("drop test database");
    }

    /// `dig @server -p port args...`.
    pub async fn dig(&self, args: &[&str]) -> String {
        dig(self.addr, args).await
    }
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// The policy letting loopback (127.0.0.1) transfer.
pub fn loopback_policy() -> TransferPolicy {
    TransferPolicy {
        allowed: ["127.0.0.1".parse().unwrap()].into_iter().collect(),
        ..Default::default()
    }
}

pub async fn dig(addr: SocketAddr, args: &[&str]) -> String {
    let output: Output = tokio::process::Command::new("dig")
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string(), "+time=5", "+tries=1"])
        .args(args)
        .output()
        .await
        .expect("run dig");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `status:` of dig's header section.
pub fn status(dig: &str) -> &str {
    dig.split("status: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no status in\n{dig}"))
}

/// The flags of dig's header section.
pub fn flags(dig: &str) -> Vec<&str> {
    dig.split("flags: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no flags in\n{dig}"))
        .split_whitespace()
        .collect()
}

/// One record as dig prints it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rr {
    pub name: String,
    pub ttl: u32,
    pub type_: String,
    pub data: String,
}

pub fn rr(name: &str, ttl: u32, type_: &str, data: &str) -> Rr {
    Rr {
        name: name.into(),
        ttl,
        type_: type_.into(),
        data: data.into(),
    }
}

/// The IN records of dig's output (comments and TSIG pseudo-records left out).
pub fn records(dig: &str) -> Vec<Rr> {
    dig.lines()
        .filter(|line| !line.starts_with(';'))
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?.to_ascii_lowercase();
            let ttl = fields.next()?.parse().ok()?;
            if fields.next()? != "IN" {
                return None;
            }
            let type_ = fields.next()?.to_string();
            let data = fields.collect::<Vec<_>>().join(" ");
            Some(Rr {
                name,
                ttl,
                type_,
                data,
            })
        })
        .collect()
}

pub fn zone(id: &str, name: &str) -> ZoneRow {
    ZoneRow {
        id: id.into(),
        project: "project".into(),
        name: name.into(),
        pool_id: "pool-1".into(),
        kind: ZoneKind::Primary,
        ttl: 3600,
        description: None,
        masters: vec![],
        soa: Soa {
            mname: "ns1.example.org.".into(),
            email: "admin@example.com".into(),
            refresh: 3500,
            retry: 600,
            expire: 86400,
            minimum: 3600,
        },
    }
}

pub fn rrset(id: &str, name: &str, type_: &str, ttl: Option<i64>, records: &[&str]) -> Rrset {
    Rrset {
        id: id.into(),
        name: name.into(),
        type_: type_.into(),
        ttl,
        records: records.iter().map(|r| r.to_string()).collect(),
        description: None,
        managed: false,
    }
}

/// The apex NS RRset of the tests' pool.
pub fn apex_ns(zone: &ZoneRow) -> Rrset {
    apex_ns_rrset(
        &zone.id,
        &zone.name,
        &[NsRecord {
            hostname: "ns1.example.org.".into(),
            priority: 1,
        }],
    )
}

/// Publishes one change of `zone` (created when `base` is `None`) at `now`.
pub async fn publish(
    storage: &Storage,
    zone: &ZoneRow,
    base: Option<i64>,
    upsert: Vec<Rrset>,
    delete: &[&str],
    now: i64,
) -> i64 {
    storage
        .publish(
            &ZoneChange {
                zone: zone.clone(),
                fingerprint: format!("{base:?}"),
                base_serial: base,
                upsert,
                delete: delete.iter().map(|d| d.to_string()).collect(),
                serial: None,
            },
            now,
        )
        .await
        .expect("publish")
}

/// Sends `request` over TCP and reads the answer: one message, or (a
/// transfer) messages until the SOA that closes it.
pub async fn tcp_exchange(addr: SocketAddr, request: &[u8]) -> Vec<Message> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut framed = (request.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(request);
    stream.write_all(&framed).await.unwrap();
    let mut messages = Vec::new();
    let mut soas = 0;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), read_message(&mut stream))
            .await
            .expect("an answer in time");
        let Some(message) = message else {
            return messages;
        };
        let done = message.response_code != ResponseCode::NoError
            || !message
                .queries
                .iter()
                .any(|q| matches!(q.query_type(), RecordType::AXFR | RecordType::IXFR));
        soas += message
            .answers
            .iter()
            .filter(|r| r.record_type() == RecordType::SOA)
            .count();
        let single_soa = messages.is_empty() && message.answers.len() == 1 && soas == 1;
        messages.push(message);
        // A transfer ends with its second SOA at the serial of the first
        // (IXFR: that serial comes back as the last record).
        let closed = soas >= 2 && {
            let all: Vec<_> = messages.iter().flat_map(|m| &m.answers).collect();
            all.first().map(|r| &r.data) == all.last().map(|r| &r.data)
        };
        if done || closed || single_soa {
            return messages;
        }
    }
}

/// One length-prefixed message, `None` at end of stream.
pub async fn read_message(stream: &mut TcpStream) -> Option<Message> {
    let len = stream.read_u16().await.ok()?;
    let mut buf = vec![0; usize::from(len)];
    stream.read_exact(&mut buf).await.ok()?;
    Some(Message::from_vec(&buf).expect("a well-formed answer"))
}
