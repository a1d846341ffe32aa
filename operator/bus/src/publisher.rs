//! Publishing notifications to RabbitMQ, as oslo.messaging's rabbit
//! driver does, with what a notification that must not be lost needs:
//! a durable topic exchange (the control exchange), the default queue
//! `<topic>.<priority>` declared and bound so that notifications wait for
//! their first consumer, persistent messages, and publisher confirms: a
//! batch is done only once the broker confirmed every message of it.
//!
//! One connection at a time, to the first broker of the list that answers,
//! starting from the one that worked last. A failure drops the connection;
//! the batch is sent again on the next broker (at least once: a consumer
//! may see a message twice, never lose one that [`Publisher::publish`]
//! returned `Ok` for).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ExchangeKind};
use tokio::sync::Mutex;
use tokio::time::timeout;
use tracing::{info, warn};

use crate::transport::{Broker, TransportUrl};
use crate::{Error, Notification};

/// How long one broker may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the broker may take to confirm a batch.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);
/// AMQP's delivery mode of messages written to disk.
const PERSISTENT: u8 = 2;

/// Sends notifications to the control exchange.
pub struct Publisher {
    url: TransportUrl,
    exchange: String,
    topic: String,
    link: Mutex<Option<Link>>,
    /// The broker tried first: the one that worked last.
    preferred: AtomicUsize,
}

/// A connection with its confirming channel.
struct Link {
    // Kept: dropping it closes the channel.
    _connection: Connection,
    channel: Channel,
    broker: usize,
    /// Default queues declared on this connection.
    queues: HashSet<String>,
}

impl Publisher {
    /// A publisher to `exchange` (Designate's `control_exchange`,
    /// `designate`) on `topic` (`notification_topics`, `notifications`).
    /// Connects at the first publish.
    pub fn new(url: TransportUrl, exchange: &str, topic: &str) -> Self {
        Self {
            url,
            exchange: exchange.to_string(),
            topic: topic.to_string(),
            link: Mutex::new(None),
            preferred: AtomicUsize::new(0),
        }
    }

    /// Publishes `batch` in order; `Ok` once the broker confirmed all of it.
    pub async fn publish(&self, batch: &[Notification]) -> Result<(), Error> {
        let mut link = self.link.lock().await;
        let mut failure = None;
        // Each broker once, and the one that just failed again.
        for _ in 0..=self.url.brokers.len() {
            if link.is_none() {
                *link = Some(self.connect().await?);
            }
            let current = link.as_mut().expect("connected above");
            match self.send(current, batch).await {
                Ok(()) => return Ok(()),
                Err(error) => {
                    let broker = &self.url.brokers[current.broker];
                    warn!(%broker, reason = error.reason(), %error, "publishing failed: reconnecting");
                    // The next connect starts from the next broker.
                    self.preferred.store(
                        (current.broker + 1) % self.url.brokers.len(),
                        Ordering::Relaxed,
                    );
                    *link = None;
                    failure = Some(error);
                }
            }
        }
        Err(failure.expect("tried at least once"))
    }

    async fn send(&self, link: &mut Link, batch: &[Notification]) -> Result<(), Error> {
        let mut confirms = Vec::with_capacity(batch.len());
        for notification in batch {
            let routing_key = notification.routing_key(&self.topic);
            if !link.queues.contains(&routing_key) {
                declare_default_queue(&link.channel, &self.exchange, &routing_key).await?;
                link.queues.insert(routing_key.clone());
            }
            let properties = BasicProperties::default()
                .with_delivery_mode(PERSISTENT)
                .with_content_type("application/json".into())
                .with_content_encoding("utf-8".into())
                .with_message_id(notification.message_id.to_string().into());
            let confirm = link
                .channel
                .basic_publish(
                    self.exchange.as_str().into(),
                    routing_key.into(),
                    BasicPublishOptions::default(),
                    &notification.to_body(),
                    properties,
                )
                .await?;
            confirms.push(confirm);
        }
        for confirm in confirms {
            let confirmation = timeout(CONFIRM_TIMEOUT, confirm)
                .await
                .map_err(|_| Error::NotConfirmed("no answer".into()))??;
            if !confirmation.is_ack() {
                return Err(Error::NotConfirmed("refused (nack)".into()));
            }
        }
        Ok(())
    }

    /// Connects to the first broker that answers, from the preferred one.
    async fn connect(&self) -> Result<Link, Error> {
        let brokers = &self.url.brokers;
        let start = self.preferred.load(Ordering::Relaxed);
        let mut failures = Vec::new();
        for offset in 0..brokers.len() {
            let index = (start + offset) % brokers.len();
            let broker = &brokers[index];
            let opened = timeout(CONNECT_TIMEOUT, open(broker, &self.exchange)).await;
            match opened {
                Ok(Ok((connection, channel))) => {
                    info!(%broker, "connected to the message bus");
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok(Link {
                        _connection: connection,
                        channel,
                        broker: index,
                        queues: HashSet::new(),
                    });
                }
                Ok(Err(error)) => failures.push(format!("{broker}: {error}")),
                Err(_) => failures.push(format!("{broker}: no answer in {CONNECT_TIMEOUT:?}")),
            }
        }
        Err(Error::Unreachable(failures.join("; ")))
    }
}

/// A connection to `broker` with a confirming channel, and the exchange.
async fn open(broker: &Broker, exchange: &str) -> Result<(Connection, Channel), lapin::Error> {
    let connection = broker.connect().await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    declare_exchange(&channel, exchange).await?;
    Ok((connection, channel))
}

/// A durable topic exchange, as oslo declares its control exchanges.
pub(crate) async fn declare_exchange(
    channel: &Channel,
    exchange: &str,
) -> Result<(), lapin::Error> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
}

/// oslo's default notification queue: named as its routing key, bound to
/// the exchange with it, so notifications wait for a first consumer.
pub(crate) async fn declare_default_queue(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
) -> Result<(), lapin::Error> {
    channel
        .queue_declare(
            routing_key.into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            routing_key.into(),
            exchange.into(),
            routing_key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}
