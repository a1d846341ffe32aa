//! Designate's notification handlers, as pure plans: what records a nova
//! or neutron notification asks for. `nova_fixed` makes an A or AAAA
//! record for each fixed IP of an instance on `compute.instance.create.end`
//! and removes the instance's records on `compute.instance.delete.start`;
//! `neutron_floatingip` makes one for a floating IP associated with a port
//! on `floatingip.update.end`, and removes it when it is disassociated or
//! on `floatingip.delete.start`. Names come from the handler's `formatv4`
//! / `formatv6` strings (default `%(hostname)s.%(zone)s`) filled with the
//! notification's payload, `zone` (the zone's name), `project` (the
//! context's project name), `ip_version`, `ip_address` (dots or colons as
//! dashes), `octet0`... and, for nova, the network's `label`.

use serde_json::{Map, Value, json};

use crate::Error;
use crate::format::format;

/// Designate's default format, for both families.
const DEFAULT_FORMAT: &str = "%(hostname)s.%(zone)s";

/// Which of Designate's handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `nova_fixed`.
    NovaFixed,
    /// `neutron_floatingip`.
    NeutronFloatingIp,
}

impl Kind {
    /// Designate's plugin name, which managed records carry.
    pub fn plugin_name(self) -> &'static str {
        match self {
            Self::NovaFixed => "nova_fixed",
            Self::NeutronFloatingIp => "neutron_floatingip",
        }
    }

    /// The handler of Designate's plugin `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::NovaFixed, Self::NeutronFloatingIp]
            .into_iter()
            .find(|kind| kind.plugin_name() == name)
    }

    /// The exchange its notifications come on (its `control_exchange`).
    pub fn default_exchange(self) -> &'static str {
        match self {
            Self::NovaFixed => "nova",
            Self::NeutronFloatingIp => "neutron",
        }
    }

    /// The event types it handles (others are ignored).
    pub fn event_types(self) -> &'static [&'static str] {
        match self {
            Self::NovaFixed => &[
                "compute.instance.create.end",
                "compute.instance.delete.start",
            ],
            Self::NeutronFloatingIp => &["floatingip.update.end", "floatingip.delete.start"],
        }
    }
}

/// A handler as configured (`[handler:nova_fixed]`, ...).
#[derive(Clone, Debug)]
pub struct Handler {
    pub kind: Kind,
    /// The name of the zone the records go to (`example.org.`).
    pub zone: String,
    pub formatv4: Vec<String>,
    pub formatv6: Vec<String>,
}

/// What the records are managed for: deleting the resource deletes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// `instance` or `floatingip`.
    pub kind: &'static str,
    pub id: String,
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A record `data` in the recordset `name` of type `type_` (A or AAAA).
    Create {
        name: String,
        type_: &'static str,
        data: String,
        resource: Resource,
    },
    /// Every record managed for `resource` goes.
    Delete { resource: Resource },
}

impl Handler {
    /// A handler with Designate's default formats.
    pub fn new(kind: Kind, zone: &str) -> Self {
        Self {
            kind,
            zone: zone.to_string(),
            formatv4: vec![DEFAULT_FORMAT.into()],
            formatv6: vec![DEFAULT_FORMAT.into()],
        }
    }

    /// What the notification `event_type` with `payload`, sent with the
    /// request `context` (`project_name`, ...), asks for.
    pub fn plan(
        &self,
        event_type: &str,
        context: &Map<String, Value>,
        payload: &Value,
    ) -> Result<Vec<Action>, Error> {
        let project = context.get("project_name").cloned().unwrap_or(Value::Null);
        match (self.kind, event_type) {
            (Kind::NovaFixed, "compute.instance.create.end") => {
                let resource = resource("instance", field(payload, "instance_id")?)?;
                let mut extra = object(payload)?.clone();
                extra.insert("project".into(), project);
                let addresses = field(payload, "fixed_ips")?
                    .as_array()
                    .ok_or_else(|| bad("fixed_ips is not a list"))?;
                self.create(addresses, &extra, &resource)
            }
            (Kind::NovaFixed, "compute.instance.delete.start") => Ok(vec![Action::Delete {
                resource: resource("instance", field(payload, "instance_id")?)?,
            }]),
            (Kind::NeutronFloatingIp, "floatingip.update.end") => {
                let floating = field(payload, "floatingip")?;
                let resource = resource("floatingip", field(floating, "id")?)?;
                if !truthy(floating.get("fixed_ip_address")) {
                    return Ok(vec![Action::Delete { resource }]);
                }
                let mut extra = object(floating)?.clone();
                extra.insert("project".into(), project);
                let address = json!({
                    "version": 4,
                    "address": field(floating, "floating_ip_address")?,
                });
                self.create(&[address], &extra, &resource)
            }
            (Kind::NeutronFloatingIp, "floatingip.delete.start") => Ok(vec![Action::Delete {
                resource: resource("floatingip", field(payload, "floatingip_id")?)?,
            }]),
            _ => Ok(Vec::new()),
        }
    }

    /// A record per address and format.
    fn create(
        &self,
        addresses: &[Value],
        extra: &Map<String, Value>,
        resource: &Resource,
    ) -> Result<Vec<Action>, Error> {
        let mut data = extra.clone();
        data.insert("zone".into(), json!(self.zone));
        let mut actions = Vec::new();
        for address in addresses {
            let ip = field(address, "address")?
                .as_str()
                .ok_or_else(|| bad("an address is not a string"))?;
            let version = field(address, "version")?.as_u64();
            let (formats, type_) = match version {
                Some(4) => (&self.formatv4, "A"),
                Some(6) => (&self.formatv6, "AAAA"),
                _ => return Err(bad("an address is neither version 4 nor 6")),
            };
            let mut fields = data.clone();
            fields.extend(ip_data(ip, version == Some(4)));
            if self.kind == Kind::NovaFixed {
                fields.insert(
                    "label".into(),
                    address.get("label").cloned().unwrap_or(Value::Null),
                );
            }
            for template in formats {
                actions.push(Action::Create {
                    name: format(template, &fields)?,
                    type_,
                    data: ip.to_string(),
                    resource: resource.clone(),
                });
            }
        }
        Ok(actions)
    }
}

/// The address's fields, as Designate's `_get_ip_data`.
fn ip_data(ip: &str, v4: bool) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("ip_version".into(), json!(if v4 { 4 } else { 6 }));
    let (separator, octets): (char, Vec<&str>) = if v4 {
        ('.', ip.split('.').collect())
    } else {
        // Python's re.split('::|:', ip).
        (
            ':',
            ip.split("::").flat_map(|part| part.split(':')).collect(),
        )
    };
    data.insert("ip_address".into(), json!(ip.replace(separator, "-")));
    for (i, octet) in octets.iter().enumerate() {
        data.insert(format!("octet{i}"), json!(octet));
    }
    data
}

fn bad(message: &str) -> Error {
    Error::BadPayload(message.to_string())
}

fn field<'a>(value: &'a Value, key: &str) -> Result<&'a Value, Error> {
    value
        .get(key)
        .ok_or_else(|| Error::BadPayload(format!("no {key}")))
}

fn object(value: &Value) -> Result<&Map<String, Value>, Error> {
    value.as_object().ok_or_else(|| bad("not an object"))
}

fn resource(kind: &'static str, id: &Value) -> Result<Resource, Error> {
    let id = id.as_str().ok_or_else(|| bad("an id is not a string"))?;
    Ok(Resource {
        kind,
        id: id.to_string(),
    })
}

/// Python's truth of a JSON value.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Bool(true)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_fields_are_designates() {
        let v4 = ip_data("192.0.2.201", true);
        assert_eq!(v4["ip_address"], "192-0-2-201");
        assert_eq!(
            (v4["octet0"].as_str(), v4["octet3"].as_str()),
            (Some("192"), Some("201"))
        );
        let v6 = ip_data("fe80::1:2", false);
        assert_eq!(v6["ip_address"], "fe80--1-2");
        assert_eq!(v6["octet0"], "fe80");
        assert_eq!(v6["octet2"], "2");
        assert_eq!(v6["ip_version"], 6);
    }

    #[test]
    fn truth_is_pythons() {
        assert!(!truthy(None));
        assert!(!truthy(Some(&json!(""))));
        assert!(!truthy(Some(&Value::Null)));
        assert!(truthy(Some(&json!("172.16.59.10"))));
    }
}
