//! A notification as oslo.messaging's rabbit driver puts it on the wire:
//! the message (`message_id`, `publisher_id`, `event_type`, `priority`,
//! `payload`, `timestamp`, the request context as `_context_*` keys and a
//! `_unique_id`) serialised into the v2 envelope
//! `{"oslo.version": "2.0", "oslo.message": "<the message as JSON>"}`,
//! routed to `<topic>.<priority>` (`notifications.info`) on the control
//! exchange. Consumers (ceilometer, the Sink) accept it with or without the
//! envelope; so does [`Notification::from_body`].

use chrono::{DateTime, Timelike, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::Error;

/// oslo.messaging's envelope version.
const OSLO_VERSION: &str = "2.0";

/// One notification.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub message_id: Uuid,
    /// `<service>.<host>`, as Designate's `rpc.get_notifier` names it
    /// (`central.host-1`).
    pub publisher_id: String,
    /// `dns.zone.create`, `compute.instance.create.end`, ...
    pub event_type: String,
    /// `INFO` for everything Designate sends.
    pub priority: String,
    pub payload: Value,
    pub timestamp: DateTime<Utc>,
    /// The request context (`user_id`, `project_id`, `request_id`, ...),
    /// sent as `_context_<key>`.
    pub context: Map<String, Value>,
}

impl Notification {
    /// An `INFO` notification made now.
    pub fn info(publisher_id: &str, event_type: &str, payload: Value) -> Self {
        Self {
            message_id: Uuid::new_v4(),
            publisher_id: publisher_id.to_string(),
            event_type: event_type.to_string(),
            priority: "INFO".into(),
            payload,
            timestamp: Utc::now(),
            context: Map::new(),
        }
    }

    /// The routing key on the control exchange: `<topic>.<priority>`.
    pub fn routing_key(&self, topic: &str) -> String {
        format!("{topic}.{}", self.priority.to_ascii_lowercase())
    }

    /// The message body: the v2 envelope.
    pub fn to_body(&self) -> Vec<u8> {
        let mut message = Map::new();
        for (key, value) in &self.context {
            message.insert(format!("_context_{key}"), value.clone());
        }
        message.extend([
            ("message_id".into(), json!(self.message_id.to_string())),
            ("publisher_id".into(), json!(self.publisher_id)),
            ("event_type".into(), json!(self.event_type)),
            ("priority".into(), json!(self.priority)),
            ("payload".into(), self.payload.clone()),
            ("timestamp".into(), json!(python_utc(&self.timestamp))),
            // oslo's duplicate-message filter key.
            (
                "_unique_id".into(),
                json!(self.message_id.simple().to_string()),
            ),
        ]);
        let envelope = json!({
            "oslo.version": OSLO_VERSION,
            "oslo.message": Value::Object(message).to_string(),
        });
        envelope.to_string().into_bytes()
    }

    /// Reads a body as oslo consumers do: a v2 envelope, or the bare
    /// message of the v1 format.
    pub fn from_body(body: &[u8]) -> Result<Self, Error> {
        let bad = |message: &str| Error::BadMessage(message.to_string());
        let outer: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
        let message = match outer.get("oslo.message") {
            Some(Value::String(inner)) => {
                serde_json::from_str(inner).map_err(|e| bad(&e.to_string()))?
            }
            Some(_) => return Err(bad("oslo.message is not a string")),
            None => outer,
        };
        let Value::Object(mut message) = message else {
            return Err(bad("not an object"));
        };
        let mut take_string = |key: &str| match message.remove(key) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(bad(&format!("no {key}"))),
        };
        let event_type = take_string("event_type")?;
        let publisher_id = take_string("publisher_id").unwrap_or_default();
        let priority = take_string("priority").unwrap_or_else(|_| "INFO".into());
        let message_id = take_string("message_id")
            .ok()
            .and_then(|id| Uuid::parse_str(&id).ok())
            .unwrap_or_else(Uuid::nil);
        let timestamp = take_string("timestamp")
            .ok()
            .and_then(|t| parse_python_utc(&t))
            .unwrap_or_default();
        let payload = message.remove("payload").unwrap_or(Value::Null);
        let context = message
            .into_iter()
            .filter_map(|(key, value)| Some((key.strip_prefix("_context_")?.to_string(), value)))
            .collect();
        Ok(Self {
            message_id,
            publisher_id,
            event_type,
            priority,
            payload,
            timestamp,
            context,
        })
    }
}

/// `str(datetime.utcnow())`: `2026-12-05 04:47:43.123456`, without the
/// fraction when it is zero.
fn python_utc(at: &DateTime<Utc>) -> String {
    let micros = at.nanosecond() / 1000 % 1_000_000;
    match micros {
        0 => at.format("%Y-%m-%d %H:%M:%S").to_string(),
        _ => format!("{}.{micros:06}", at.format("%Y-%m-%d %H:%M:%S")),
    }
}

fn parse_python_utc(text: &str) -> Option<DateTime<Utc>> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
    .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_oslos() {
        let mut notification = Notification::info(
            "central.host-1",
            "dns.zone.create",
            json!({"id": "z1", "name": "example.org."}),
        );
        notification
            .context
            .insert("project_id".into(), json!("p1"));
        notification.timestamp = DateTime::parse_from_rfc3339("2026-12-05T04:47:43.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let body: Value = serde_json::from_slice(&notification.to_body()).unwrap();
        assert_eq!(body["oslo.version"], "2.0");
        let message: Value = serde_json::from_str(body["oslo.message"].as_str().unwrap()).unwrap();
        assert_eq!(message["event_type"], "dns.zone.create");
        assert_eq!(message["publisher_id"], "central.host-1");
        assert_eq!(message["priority"], "INFO");
        assert_eq!(message["payload"]["name"], "example.org.");
        assert_eq!(message["timestamp"], "2026-12-05 04:47:43.123456");
        assert_eq!(message["_context_project_id"], "p1");
        assert_eq!(
            message["message_id"],
            notification.message_id.to_string().as_str()
        );
        assert_eq!(message["_unique_id"].as_str().unwrap().len(), 32);
        assert_eq!(
            notification.routing_key("notifications"),
            "notifications.info"
        );

        // And back.
        assert_eq!(
            Notification::from_body(&notification.to_body()).unwrap(),
            notification
        );
    }

    #[test]
    fn python_timestamps_drop_a_zero_fraction() {
        let at = DateTime::parse_from_rfc3339("2026-12-05T04:47:43Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(python_utc(&at), "2026-12-05 04:47:43");
        assert_eq!(parse_python_utc("2026-12-05 04:47:43"), Some(at));
    }

    #[test]
    fn bare_v1_messages_are_read_and_junk_is_refused() {
        // A nova notification as older senders put it: no envelope.
        let v1 = json!({
            "event_type": "compute.instance.create.end",
            "publisher_id": "compute.host-2",
            "priority": "INFO",
            "message_id": "5a0f3b8e-4f6b-4b8c-9d1e-2f3a4b5c6d7e",
            "timestamp": "2026-12-05 04:47:43.5",
            "payload": {"hostname": "vm-1"},
            "_context_tenant": "t1"
        });
        let read = Notification::from_body(v1.to_string().as_bytes()).unwrap();
        assert_eq!(read.event_type, "compute.instance.create.end");
        assert_eq!(read.payload["hostname"], "vm-1");
        assert_eq!(read.context["tenant"], "t1");

        for junk in [&b"not json"[..], b"[]", b"{\"oslo.message\": 3}", b"{}"] {
            assert!(Notification::from_body(junk).is_err());
        }
    }
}
