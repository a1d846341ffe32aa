//! Consuming notifications from RabbitMQ, as oslo.messaging's notification
//! listener does: a durable queue bound to `<topic>.<priority>` on each
//! exchange listened to (`nova`, `neutron`), a bounded prefetch, and an
//! acknowledgement only once the handler has done (committed) its work, so
//! a crash or an outage redelivers what was not finished (at least once:
//! handlers are idempotent).
//!
//! Deliveries are handled one at a time, in queue order (an instance's
//! create before its delete). A failure of the connection reconnects to the
//! next broker of the list, waiting 0.5 s doubling up to 5 s between tries.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use tokio::time::timeout;
use tracing::{info, warn};

use crate::publisher::declare_exchange;
use crate::{Error, Notification, TransportUrl};

/// How long one broker may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// How long a delivery the handler could not finish waits before it is
/// handed back to the queue (so a failing dependency is not hammered).
const REQUEUE_AFTER: Duration = Duration::from_secs(1);

/// What the handler made of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Done, or nothing to do (acknowledged).
    Done,
    /// Not done for a reason that may pass (handed back to the queue).
    Retry,
}

/// A queue's consumer.
pub struct Consumer {
    url: TransportUrl,
    queue: String,
    /// (exchange, routing key) pairs the queue is bound with.
    bindings: Vec<(String, String)>,
    prefetch: u16,
}

impl Consumer {
    /// A consumer of `queue`, bound on each of `exchanges` with
    /// `<topic>.info` (oslo's routing key for INFO notifications).
    pub fn new(url: TransportUrl, queue: &str, exchanges: &[String], topic: &str) -> Self {
        Self {
            url,
            queue: queue.to_string(),
            bindings: exchanges
                .iter()
                .map(|exchange| (exchange.clone(), format!("{topic}.info")))
                .collect(),
            prefetch: 64,
        }
    }

    /// Hands every notification to `handle` until the future is dropped.
    pub async fn run<F, Fut>(&self, mut handle: F)
    where
        F: FnMut(Notification) -> Fut,
        Fut: Future<Output = Handled>,
    {
        let mut next_broker = 0;
        let mut retry = RETRY_FIRST;
        loop {
            let error = self
                .session(&mut next_broker, &mut retry, &mut handle)
                .await;
            warn!(reason = error.reason(), %error, retry_in = ?retry, "consuming notifications stopped: reconnecting");
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(RETRY_MAX);
        }
    }

    /// One connection's worth of consuming; returns why it ended.
    async fn session<F, Fut>(
        &self,
        next_broker: &mut usize,
        retry: &mut Duration,
        handle: &mut F,
    ) -> Error
    where
        F: FnMut(Notification) -> Fut,
        Fut: Future<Output = Handled>,
    {
        let brokers = &self.url.brokers;
        let broker = &brokers[*next_broker % brokers.len()];
        *next_broker = (*next_broker + 1) % brokers.len();
        let connection = match timeout(CONNECT_TIMEOUT, broker.connect()).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return Error::Unreachable(format!("{broker}: {error}")),
            Err(_) => return Error::Unreachable(format!("{broker}: no answer")),
        };
        let mut deliveries = match self.subscribe(&connection).await {
            Ok(deliveries) => deliveries,
            Err(error) => return error.into(),
        };
        info!(%broker, queue = %self.queue, "consuming notifications");
        // This broker works: the next failure starts again from it.
        *next_broker = (*next_broker + brokers.len() - 1) % brokers.len();
        *retry = RETRY_FIRST;
        while let Some(delivery) = deliveries.next().await {
            let delivery = match delivery {
                Ok(delivery) => delivery,
                Err(error) => return error.into(),
            };
            let handled = match Notification::from_body(&delivery.data) {
                Ok(notification) => handle(notification).await,
                Err(error) => {
                    warn!(reason = error.reason(), %error, "not a notification: dropped");
                    Handled::Done
                }
            };
            let answered = match handled {
                Handled::Done => delivery.ack(BasicAckOptions::default()).await,
                Handled::Retry => {
                    tokio::time::sleep(REQUEUE_AFTER).await;
                    let requeue = BasicNackOptions {
                        requeue: true,
                        ..BasicNackOptions::default()
                    };
                    delivery.nack(requeue).await
                }
            };
            if let Err(error) = answered {
                return error.into();
            }
        }
        Error::Unreachable(format!("{broker}: the consumer was cancelled"))
    }

    /// Declares the exchanges, the queue and its bindings, and consumes it.
    async fn subscribe(
        &self,
        connection: &lapin::Connection,
    ) -> Result<lapin::Consumer, lapin::Error> {
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(self.prefetch, BasicQosOptions::default())
            .await?;
        channel
            .queue_declare(
                self.queue.as_str().into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await?;
        for (exchange, routing_key) in &self.bindings {
            declare_exchange(&channel, exchange).await?;
            channel
                .queue_bind(
                    self.queue.as_str().into(),
                    exchange.as_str().into(),
                    routing_key.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        channel
            .basic_consume(
                self.queue.as_str().into(),
                "designate-sink".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
    }
}
