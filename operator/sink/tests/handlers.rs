//! Designate's handlers against the sample notifications of Designate's
//! own tests (`tests/fixtures`, from designate 23's
//! `tests/resources/sample_notifications`, Apache-2.0), read from the wire
//! format as the bus delivers them, with the formats Designate's
//! functional tests configure and the records they expect.

use designate_bus::Notification;
use designate_sink::{Action, Handler, Kind, Resource};

const INSTANCE: &str = "3e301a55-fbbe-478d-92d0-eefabf135c38";
const FLOATING_IP: &str = "f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e";

fn fixture(name: &str) -> Notification {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Notification::from_body(&body).unwrap()
}

fn plan(handler: &Handler, fixture_name: &str) -> Result<Vec<Action>, designate_sink::Error> {
    let notification = fixture(fixture_name);
    handler.plan(
        &notification.event_type,
        &notification.context,
        &notification.payload,
    )
}

fn names(actions: &[Action]) -> Vec<(&str, &str, &str)> {
    actions
        .iter()
        .map(|action| match action {
            Action::Create {
                name, type_, data, ..
            } => (name.as_str(), *type_, data.as_str()),
            Action::Delete { .. } => panic!("a delete: {action:?}"),
        })
        .collect()
}

fn strings(formats: &[&str]) -> Vec<String> {
    formats.iter().map(|f| f.to_string()).collect()
}

#[test]
fn an_instance_gets_a_record_per_format_and_loses_them_on_delete() {
    let mut nova = Handler::new(Kind::NovaFixed, "example.org.");
    nova.formatv4 = strings(&[
        "%(host)s.bar.%(zone)s",
        "%(host)s.baz.%(zone)s",
        "%(host)s.foo.%(zone)s",
        "%(host)s.%(zone)s",
    ]);
    let actions = plan(&nova, "compute.instance.create.end").unwrap();
    assert_eq!(
        names(&actions),
        [
            ("stack01.bar.example.org.", "A", "172.16.0.14"),
            ("stack01.baz.example.org.", "A", "172.16.0.14"),
            ("stack01.foo.example.org.", "A", "172.16.0.14"),
            ("stack01.example.org.", "A", "172.16.0.14"),
        ]
    );
    let instance = Resource {
        kind: "instance",
        id: INSTANCE.into(),
    };
    assert!(
        actions
            .iter()
            .all(|a| matches!(a, Action::Create { resource, .. } if *resource == instance))
    );

    // The network's label, the display name, the context's project.
    nova.formatv4 = strings(&["%(label)s.%(display_name)s.%(project)s.%(zone)s"]);
    let actions = plan(&nova, "compute.instance.create.end").unwrap();
    assert_eq!(
        names(&actions),
        [(
            "private.TestInstance.tenant-name.example.org.",
            "A",
            "172.16.0.14"
        )]
    );

    assert_eq!(
        plan(&nova, "compute.instance.delete.start").unwrap(),
        [Action::Delete { resource: instance }]
    );
    // Not its event types: nothing.
    assert_eq!(plan(&nova, "floatingip.delete.start").unwrap(), []);
}

#[test]
fn the_default_format_needs_a_hostname_as_in_designate() {
    // This nova sample has no `hostname`: Designate's default format
    // raises KeyError and makes no record; so does the plan.
    let nova = Handler::new(Kind::NovaFixed, "example.org.");
    let error = plan(&nova, "compute.instance.create.end").unwrap_err();
    assert_eq!(error.reason(), "BadFormat");
    assert!(error.to_string().contains("hostname"), "{error}");
}

#[test]
fn a_floating_ip_is_named_after_its_octets_while_associated() {
    let mut neutron = Handler::new(Kind::NeutronFloatingIp, "example.org.");
    neutron.formatv4 = strings(&[
        "%(octet0)s-%(octet1)s-%(octet2)s-%(octet3)s.%(zone)s",
        "%(octet0)s-%(octet1)s-%(octet2)s-%(octet3)s.X.%(zone)s",
    ]);
    let actions = plan(&neutron, "floatingip.update.end_associate").unwrap();
    assert_eq!(
        names(&actions),
        [
            ("192-0-2-201.example.org.", "A", "192.0.2.201"),
            ("192-0-2-201.X.example.org.", "A", "192.0.2.201"),
        ]
    );
    let floating_ip = Resource {
        kind: "floatingip",
        id: FLOATING_IP.into(),
    };
    for gone in [
        "floatingip.update.end_disassociate",
        "floatingip.delete.start",
    ] {
        assert_eq!(
            plan(&neutron, gone).unwrap(),
            [Action::Delete {
                resource: floating_ip.clone()
            }],
            "{gone}"
        );
    }
}

#[test]
fn a_payload_without_its_fields_is_refused() {
    let nova = Handler::new(Kind::NovaFixed, "example.org.");
    let empty = serde_json::json!({});
    let error = nova
        .plan(
            "compute.instance.delete.start",
            &serde_json::Map::new(),
            &empty,
        )
        .unwrap_err();
    assert_eq!(error.reason(), "BadPayload");
}
