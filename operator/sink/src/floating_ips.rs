//! The floating IPs of projects, learned from neutron's notifications, as a
//! pure plan. Designate asks Neutron's API for a project's floating IPs
//! before it lets the project set their PTR records; here neutron's
//! notifications keep that list: `floatingip.create.end` and
//! `floatingip.update.end` describe a floating IP (its id, address and
//! project), `floatingip.delete.start`/`.end` remove it. IPv4 only, as
//! Designate's floating IP PTRs.

use std::net::Ipv4Addr;

use designate_crd::FloatingIpSpec;
use serde_json::{Map, Value};

use crate::Error;

/// The neutron event types that tell of floating IPs.
pub const EVENT_TYPES: &[&str] = &[
    "floatingip.create.end",
    "floatingip.update.end",
    "floatingip.delete.start",
    "floatingip.delete.end",
];

/// What a notification teaches of a floating IP.
#[derive(Clone, Debug, PartialEq)]
pub enum Learned {
    /// It exists, as described.
    Exists(FloatingIpSpec),
    /// It is gone.
    Gone { region: String, id: String },
}

/// What the notification `event_type` says of a floating IP in `region`;
/// `None` for other events and IPv6 floating IPs.
pub fn learn(
    region: &str,
    event_type: &str,
    context: &Map<String, Value>,
    payload: &Value,
) -> Result<Option<Learned>, Error> {
    match event_type {
        "floatingip.create.end" | "floatingip.update.end" => {
            let floating = payload
                .get("floatingip")
                .ok_or_else(|| bad("no floatingip"))?;
            let address = text(floating, "floating_ip_address")?;
            if address.parse::<Ipv4Addr>().is_err() {
                return Ok(None);
            }
            // Neutron names the owner tenant_id, newer releases project_id;
            // the request's context names it too.
            let project = ["project_id", "tenant_id"]
                .iter()
                .find_map(|key| floating.get(*key).and_then(Value::as_str))
                .or_else(|| {
                    ["project_id", "tenant_id", "tenant"]
                        .iter()
                        .find_map(|key| context.get(*key).and_then(Value::as_str))
                })
                .filter(|project| !project.is_empty())
                .ok_or_else(|| bad("no project"))?;
            Ok(Some(Learned::Exists(FloatingIpSpec {
                region: region.to_string(),
                floatingip_id: text(floating, "id")?.to_ascii_lowercase(),
                address: address.to_string(),
                project: project.to_string(),
            })))
        }
        "floatingip.delete.start" | "floatingip.delete.end" => {
            let id = payload
                .get("floatingip_id")
                .or_else(|| payload.get("floatingip").and_then(|f| f.get("id")))
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no floatingip_id"))?;
            Ok(Some(Learned::Gone {
                region: region.to_string(),
                id: id.to_ascii_lowercase(),
            }))
        }
        _ => Ok(None),
    }
}

fn bad(message: &str) -> Error {
    Error::BadPayload(message.to_string())
}

fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str, Error> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&format!("no {key}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn update(floating: Value) -> Value {
        json!({ "floatingip": floating })
    }

    #[test]
    fn a_floating_ip_is_learned_with_its_project() {
        let payload = update(json!({
            "id": "F38FF2B6-cd4d-433e-8a9c-9e00dfc05b1e",
            "floating_ip_address": "192.0.2.201",
            "tenant_id": "c97027dd880d4c129ae7a4ba7edade05",
            "fixed_ip_address": null,
        }));
        let learned = learn("RegionOne", "floatingip.update.end", &Map::new(), &payload);
        assert_eq!(
            learned.unwrap(),
            Some(Learned::Exists(FloatingIpSpec {
                region: "RegionOne".into(),
                floatingip_id: "f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e".into(),
                address: "192.0.2.201".into(),
                project: "c97027dd880d4c129ae7a4ba7edade05".into(),
            }))
        );
    }

    #[test]
    fn the_project_may_come_from_the_context() {
        let payload = update(json!({"id": "x", "floating_ip_address": "192.0.2.1"}));
        let context = Map::from_iter([("tenant_id".to_string(), json!("p1"))]);
        let Some(Learned::Exists(spec)) =
            learn("r", "floatingip.create.end", &context, &payload).unwrap()
        else {
            panic!("not learned");
        };
        assert_eq!(spec.project, "p1");
        let no_project = learn("r", "floatingip.create.end", &Map::new(), &payload);
        assert!(matches!(no_project, Err(Error::BadPayload(_))));
    }

    #[test]
    fn deletes_and_other_events() {
        let gone = learn(
            "r",
            "floatingip.delete.start",
            &Map::new(),
            &json!({"floatingip_id": "ABC"}),
        );
        assert_eq!(
            gone.unwrap(),
            Some(Learned::Gone {
                region: "r".into(),
                id: "abc".into()
            })
        );
        let v6 = update(json!({"id": "x", "floating_ip_address": "2001:db8::1", "tenant_id": "p"}));
        assert_eq!(
            learn("r", "floatingip.update.end", &Map::new(), &v6).unwrap(),
            None
        );
        assert_eq!(
            learn("r", "port.delete.end", &Map::new(), &json!({})).unwrap(),
            None
        );
    }
}
