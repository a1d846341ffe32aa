//! Bus benchmark: notifications out and the Sink in.
//!
//! Runs the real `designate-operator standalone` (the build next to this
//! binary) with `--transport-url` to a RabbitMQ of its own
//! (`designate_e2e::rabbitmq`), a BIND of its own as the `default` pool's
//! nameserver, and the Sink's `nova_fixed` handler into one zone.
//!
//! 1. Notifications: `--changes` recordsets created through the REST API by
//!    `--clients` concurrent clients; a consumer on the notification queue
//!    times each `dns.recordset.create` from its commit (the notification's
//!    `timestamp`, written in the change's transaction) to its delivery,
//!    and the rate at which they arrive.
//! 2. Sink: `--instances` nova `compute.instance.create.end` notifications
//!    published one after another, each timed from the publisher's confirm
//!    to BIND answering the instance's record (queried every 2 ms).
//!
//! `cargo build --release -p designate-operator -p designate-e2e --bin notify_bench
//!  && target/release/notify_bench`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use clap::Parser;
use designate_bus::{Notification, Publisher, TransportUrl};
use designate_e2e::bench::{ms, percentiles};
use designate_e2e::rabbitmq::Broker;
use designate_e2e::{BindBacked, dig, rest_request, wait_for};
use futures::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Recordsets created (one notification each).
    #[arg(long, default_value_t = 2000)]
    changes: usize,
    /// Concurrent REST clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Instances announced to the Sink.
    #[arg(long, default_value_t = 50)]
    instances: usize,
}

const ZONE: &str = "bench-bus.test.";
const PROJECT: [(&str, &str); 1] = [("X-Auth-Project-ID", "bench")];

fn main() -> Result<()> {
    let args = Args::parse();
    let broker = Broker::start()?;
    let transport = format!("rabbit://guest:guest@{}/", broker.host_port());
    let tmp = tempfile::Builder::new().prefix("notify-bench-").tempdir()?;
    let backed = BindBacked::start(
        tmp.path(),
        &[
            "--transport-url",
            &transport,
            "--sink-handler",
            &format!("nova_fixed:{ZONE}"),
            "--sink-formatv4",
            "nova_fixed=%(display_name)s.%(zone)s",
            "--quota-zone-recordsets",
            "1000000",
            "--quota-zone-records",
            "1000000",
        ],
    );
    let created = rest_request(
        &backed.rest,
        "POST",
        "/v2/zones",
        &PROJECT,
        Some(&json!({"name": ZONE, "email": "hostmaster@bench-bus.test"})),
    );
    anyhow::ensure!(created.status == 202, "zone: {}", created.text());
    let bind = backed.nameserver.dns_addr();
    wait_for(Duration::from_secs(60), "the zone on BIND", || {
        match dig(bind, ZONE, "SOA") {
            (rcode, answers) if rcode == "NOERROR" && !answers.is_empty() => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let zone_id = created.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let runtime = tokio::runtime::Runtime::new()?;

    // 1. Notifications out.
    let received: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
    let amqp = broker.amqp_url();
    let consumer = {
        let received = received.clone();
        runtime.block_on(async {
            let connection = Connection::connect(&amqp, ConnectionProperties::default()).await?;
            let channel = connection.create_channel().await?;
            channel
                .exchange_declare(
                    "designate".into(),
                    lapin::ExchangeKind::Topic,
                    lapin::options::ExchangeDeclareOptions {
                        durable: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await?;
            channel
                .queue_declare(
                    "notifications.info".into(),
                    QueueDeclareOptions::durable(),
                    FieldTable::default(),
                )
                .await?;
            channel
                .queue_bind(
                    "notifications.info".into(),
                    "designate".into(),
                    "notifications.info".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            let mut deliveries = channel
                .basic_consume(
                    "notifications.info".into(),
                    "bench".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            Ok::<_, anyhow::Error>(tokio::spawn(async move {
                let _keep = connection;
                while let Some(Ok(delivery)) = deliveries.next().await {
                    let now = Instant::now();
                    if let Ok(n) = Notification::from_body(&delivery.data)
                        && n.event_type == "dns.recordset.create"
                    {
                        let latency = (Utc::now() - n.timestamp).to_std().unwrap_or_default();
                        received.lock().unwrap().push((now, latency));
                    }
                    let _ = delivery.ack(BasicAckOptions::default()).await;
                }
            }))
        })?
    };
    let path = format!("/v2/zones/{zone_id}/recordsets");
    let started = Instant::now();
    std::thread::scope(|scope| {
        for client in 0..args.clients {
            let (rest, path) = (&backed.rest, &path);
            let changes = args.changes;
            let clients = args.clients;
            scope.spawn(move || {
                for i in (client..changes).step_by(clients) {
                    let body = json!({"name": format!("r{i}.{ZONE}"), "type": "A", "records": ["192.0.2.1"]});
                    let answer = rest_request(rest, "POST", path, &PROJECT, Some(&body));
                    assert_eq!(answer.status, 202, "{}", answer.text());
                }
            });
        }
    });
    let written = started.elapsed();
    wait_for(
        Duration::from_secs(300),
        "every notification",
        || match received.lock().unwrap().len() {
            n if n >= args.changes => Ok(()),
            n => Err(format!("{n} of {}", args.changes)),
        },
    );
    consumer.abort();
    let got = received.lock().unwrap().clone();
    let first = got.iter().map(|(at, _)| *at).min().context("none")?;
    let last = got.iter().map(|(at, _)| *at).max().context("none")?;
    let p = percentiles(got.iter().map(|(_, latency)| *latency).collect());
    println!(
        "notifications: {} changes written by {} REST clients in {} ({:.0}/s); notifications arrived at {:.0}/s; commit to delivery p50 {} p99 {} max {}",
        args.changes,
        args.clients,
        ms(written),
        args.changes as f64 / written.as_secs_f64(),
        got.len() as f64 / (last - first).as_secs_f64().max(1e-9),
        ms(p.p50),
        ms(p.p99),
        ms(p.max)
    );

    // 2. The Sink.
    let url = TransportUrl::parse(&transport)?;
    let publisher = Publisher::new(url, "nova", "notifications");
    let sample = std::fs::read(
        designate_e2e::workspace_root()
            .join("operator/sink/tests/fixtures/compute.instance.create.end.json"),
    )?;
    let sample = Notification::from_body(&sample)?;
    let mut times = Vec::new();
    for i in 0..args.instances {
        let mut notification = sample.clone();
        notification.message_id = uuid_like(i);
        notification.payload["instance_id"] = json!(format!("bench-instance-{i}"));
        notification.payload["display_name"] = json!(format!("vm{i}"));
        runtime.block_on(publisher.publish(std::slice::from_ref(&notification)))?;
        let sent = Instant::now();
        let name = format!("vm{i}.{ZONE}");
        loop {
            if dig(bind, &name, "A").0 == "NOERROR" {
                break;
            }
            anyhow::ensure!(
                sent.elapsed() < Duration::from_secs(30),
                "{name} never served"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        times.push(sent.elapsed());
    }
    let p = percentiles(times);
    println!(
        "sink: {} nova notifications, confirmed to record served by BIND p50 {} p99 {} max {}",
        args.instances,
        ms(p.p50),
        ms(p.p99),
        ms(p.max)
    );
    Ok(())
}

/// A distinct message id per instance.
fn uuid_like(i: usize) -> uuid::Uuid {
    uuid::Uuid::from_u128(0xbe4c_0000_0000_0000_0000_0000_0000_0000 | i as u128)
}
