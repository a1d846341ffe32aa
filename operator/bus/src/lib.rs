//! `designate-bus`: the message bus between the operator and the rest of
//! the cloud, on RabbitMQ as OpenStack runs it. [`transport`] reads
//! oslo.messaging's `transport_url` (several brokers, failover order,
//! TLS); [`notification`] is a notification in oslo's wire format (the v2
//! envelope Designate sends and nova and neutron send to the Sink);
//! [`publisher`] sends them with persistent messages and publisher
//! confirms, failing over between the brokers; [`consumer`] takes them
//! from a queue bound on other services' exchanges (the Sink's input),
//! acknowledging each once handled.

pub mod consumer;
pub mod notification;
pub mod publisher;
pub mod transport;

pub use consumer::{Consumer, Handled};
pub use notification::Notification;
pub use publisher::Publisher;
pub use transport::{Broker, TransportUrl};

/// Errors of the bus; `reason()` is the stable label of logs and metrics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport URL cannot be used (the message never repeats it: it
    /// may hold a password).
    #[error("invalid transport URL: {0}")]
    InvalidTransportUrl(String),
    /// No broker of the list accepted a connection.
    #[error("no message broker reachable: {0}")]
    Unreachable(String),
    /// The broker did not confirm a message.
    #[error("the message broker did not confirm a message: {0}")]
    NotConfirmed(String),
    #[error("AMQP: {0}")]
    Amqp(#[from] lapin::Error),
    /// A message that is not a notification.
    #[error("not an oslo.messaging notification: {0}")]
    BadMessage(String),
}

impl Error {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidTransportUrl(_) => "InvalidTransportUrl",
            Self::Unreachable(_) => "BrokerUnreachable",
            Self::NotConfirmed(_) => "NotConfirmed",
            Self::Amqp(_) => "Amqp",
            Self::BadMessage(_) => "BadMessage",
        }
    }
}
