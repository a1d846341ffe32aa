//! The publisher against the RabbitMQ this machine runs (127.0.0.1:5672,
//! guest/guest; `.ci/run` starts it when down): every notification of a
//! batch reaches a consumer in oslo's envelope, a dead first broker of the
//! list is skipped, and no broker at all is an error that names no password.
//! Each test uses an exchange and topic of its own, removed at the end.

use std::time::Duration;

use designate_bus::{Notification, Publisher, TransportUrl};
use lapin::options::{BasicAckOptions, BasicGetOptions, ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::{Connection, ConnectionProperties};
use serde_json::json;

const BROKER: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// A free loopback port nobody listens on.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Takes every message waiting in `queue` (oslo's default queue), waiting
/// up to a few seconds for `expected` of them, and removes the queue and
/// the exchange.
async fn drain(exchange: &str, queue: &str, expected: usize) -> Vec<Notification> {
    let connection = Connection::connect(BROKER, ConnectionProperties::default())
        .await
        .expect("RabbitMQ at 127.0.0.1:5672");
    let channel = connection.create_channel().await.unwrap();
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.len() < expected && tokio::time::Instant::now() < deadline {
        match channel
            .basic_get(queue.into(), BasicGetOptions::default())
            .await
            .unwrap()
        {
            Some(message) => {
                let delivery = message.delivery;
                assert_eq!(delivery.properties.delivery_mode(), &Some(2));
                got.push(Notification::from_body(&delivery.data).unwrap());
                delivery.ack(BasicAckOptions::default()).await.unwrap();
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await
        .unwrap();
    got
}

fn names() -> (String, String) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    (
        format!("designate-test-{id}"),
        format!("notifications-{id}"),
    )
}

#[tokio::test]
async fn a_batch_reaches_the_default_queue_in_oslos_envelope() {
    let (exchange, topic) = names();
    let url = TransportUrl::parse("rabbit://guest:guest@127.0.0.1:5672/").unwrap();
    let publisher = Publisher::new(url, &exchange, &topic);
    let batch: Vec<Notification> = (0..100)
        .map(|i| {
            Notification::info(
                "central.test",
                "dns.zone.create",
                json!({"id": format!("z{i}"), "name": format!("z{i}.example.org.")}),
            )
        })
        .collect();
    publisher.publish(&batch[..50]).await.unwrap();
    publisher.publish(&batch[50..]).await.unwrap();

    let got = drain(&exchange, &format!("{topic}.info"), batch.len()).await;
    assert_eq!(got.len(), batch.len());
    for (sent, received) in batch.iter().zip(&got) {
        assert_eq!(received.message_id, sent.message_id);
        assert_eq!(received.event_type, "dns.zone.create");
        assert_eq!(received.publisher_id, "central.test");
        assert_eq!(received.payload, sent.payload);
    }
}

#[tokio::test]
async fn a_dead_first_broker_is_skipped() {
    let (exchange, topic) = names();
    let url = TransportUrl::parse(&format!(
        "rabbit://guest:guest@127.0.0.1:{},guest:guest@127.0.0.1:5672/",
        dead_port()
    ))
    .unwrap();
    let publisher = Publisher::new(url, &exchange, &topic);
    let notification = Notification::info("central.test", "dns.zone.delete", json!({"id": "z"}));
    publisher
        .publish(std::slice::from_ref(&notification))
        .await
        .unwrap();
    let got = drain(&exchange, &format!("{topic}.info"), 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id, notification.message_id);
}

#[tokio::test]
async fn no_broker_is_an_error_without_the_password() {
    let (exchange, topic) = names();
    let url = TransportUrl::parse(&format!(
        "rabbit://guest:s3cret@127.0.0.1:{},guest:s3cret@127.0.0.1:{}/",
        dead_port(),
        dead_port()
    ))
    .unwrap();
    let publisher = Publisher::new(url, &exchange, &topic);
    let error = publisher
        .publish(&[Notification::info(
            "central.test",
            "dns.zone.create",
            json!({}),
        )])
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "BrokerUnreachable", "{error}");
    assert!(!error.to_string().contains("s3cret"), "{error}");
}
