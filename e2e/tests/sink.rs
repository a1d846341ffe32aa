//! The Sink end to end: nova's and neutron's notifications (the samples of
//! Designate's own tests, `operator/sink/tests/fixtures`) published to a
//! RabbitMQ of the test's own on the `nova` and `neutron` exchanges become
//! records a real BIND answers, their delete notifications remove them,
//! a redelivered notification changes nothing twice, and the Sink resumes
//! by itself after the broker was killed and started again. A Designate
//! operator's `designate.conf` configures the Sink as it configured
//! Designate's (`[service:sink]`, `[handler:nova_fixed]`).
//!
//! Needs `cargo build -p designate-operator` first, BIND (`named`, `rndc`)
//! and rabbitmq-server.

use std::time::{Duration, Instant};

use designate_bus::{Notification, Publisher, TransportUrl};
use designate_e2e::rabbitmq::Broker;
use designate_e2e::{BindBacked, at, dig, rest_request, start_rest, wait_for};
use serde_json::json;

/// How long a change may take to reach BIND.
const SERVED: Duration = Duration::from_secs(30);
const ZONE: &str = "sink.test.";
const PROJECT: [(&str, &str); 1] = [("X-Auth-Project-ID", "sink-project")];

fn publish(
    runtime: &tokio::runtime::Runtime,
    url: &TransportUrl,
    exchange: &str,
    notification: &Notification,
) {
    let publisher = Publisher::new(url.clone(), exchange, "notifications");
    runtime
        .block_on(publisher.publish(std::slice::from_ref(notification)))
        .unwrap();
}

/// Waits until BIND answers `name` A with `want` (empty: NXDOMAIN).
fn served(backed: &BindBacked, name: &str, want: &[&str]) -> Duration {
    let start = Instant::now();
    let bind = backed.nameserver.dns_addr();
    wait_for(SERVED, &format!("{name} A to be {want:?} on BIND"), || {
        let (rcode, answers) = dig(bind, name, "A");
        let expected_rcode = if want.is_empty() {
            "NXDOMAIN"
        } else {
            "NOERROR"
        };
        if rcode == expected_rcode && answers == want {
            Ok(())
        } else {
            Err(format!("{rcode} {answers:?}"))
        }
    });
    start.elapsed()
}

#[test]
fn nova_and_neutron_notifications_become_records_bind_answers() {
    let mut broker = Broker::start().expect("a RabbitMQ of the test's own");
    let transport = format!("rabbit://guest:guest@{}/", broker.host_port());
    let url = TransportUrl::parse(&transport).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-sink-")
        .tempdir()
        .unwrap();
    let backed = BindBacked::start(
        tmp.path(),
        &[
            "--transport-url",
            &transport,
            "--sink-handler",
            &format!("nova_fixed:{ZONE}"),
            "--sink-formatv4",
            "nova_fixed=%(display_name)s.%(zone)s",
            "--sink-handler",
            &format!("neutron_floatingip:{ZONE}"),
            "--sink-formatv4",
            "neutron_floatingip=%(octet0)s-%(octet1)s-%(octet2)s-%(octet3)s.%(zone)s",
        ],
    );
    let created = rest_request(
        &backed.rest,
        "POST",
        "/v2/zones",
        &PROJECT,
        Some(&json!({"name": ZONE, "email": "hostmaster@sink.test"})),
    );
    assert_eq!(created.status, 202, "{}", created.text());
    let bind = backed.nameserver.dns_addr();
    wait_for(SERVED, "the zone on BIND", || {
        match dig(bind, ZONE, "SOA") {
            (rcode, answers) if rcode == "NOERROR" && !answers.is_empty() => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // nova: the instance's fixed IP, named by the format.
    let instance = designate_e2e::sample_notification("compute.instance.create.end");
    publish(&runtime, &url, "nova", &instance);
    let took = served(&backed, "testinstance.sink.test.", &["172.16.0.14"]);
    eprintln!("sink: nova notification to record served by BIND: {took:?}");
    // Redelivered: still one record, one Recordset.
    publish(&runtime, &url, "nova", &instance);
    let neutron = designate_e2e::sample_notification("floatingip.update.end_associate");
    publish(&runtime, &url, "neutron", &neutron);
    served(&backed, "192-0-2-201.sink.test.", &["192.0.2.201"]);
    let sets = backed.kubectl.json(&[
        "get",
        "recordsets",
        "-n",
        "sink-project",
        "-l",
        "designate.openstack.org/managed-by=designate-sink",
        "-o",
        "json",
    ]);
    let items = at(&sets, "/items").as_array().unwrap();
    assert_eq!(items.len(), 2, "{sets}");
    for item in items {
        assert_eq!(
            at(item, "/spec/records").as_array().unwrap().len(),
            1,
            "{item}"
        );
    }
    served(&backed, "testinstance.sink.test.", &["172.16.0.14"]);

    // The broker killed and back: the Sink resumes by itself, and what was
    // published once the broker was back is handled.
    broker.kill();
    std::thread::sleep(Duration::from_secs(5));
    broker.start_again().expect("the broker back");
    let mut second = designate_e2e::sample_notification("compute.instance.create.end");
    second.payload["instance_id"] = json!("7b1c2a54-0d0e-4f1a-9c55-2f4b7e0a9d11");
    second.payload["display_name"] = json!("AfterOutage");
    publish(&runtime, &url, "nova", &second);
    served(&backed, "afteroutage.sink.test.", &["172.16.0.14"]);

    // Their deletes take the records away.
    publish(
        &runtime,
        &url,
        "nova",
        &designate_e2e::sample_notification("compute.instance.delete.start"),
    );
    served(&backed, "testinstance.sink.test.", &[]);
    publish(
        &runtime,
        &url,
        "neutron",
        &designate_e2e::sample_notification("floatingip.delete.start"),
    );
    served(&backed, "192-0-2-201.sink.test.", &[]);
}

/// An exchange and a queue of a test's own on the machine's broker, removed
/// when the test ends.
struct OwnBindings {
    exchange: String,
    queue: String,
}

impl Drop for OwnBindings {
    fn drop(&mut self) {
        designate_e2e::rabbitmq::remove(
            "amqp://guest:guest@127.0.0.1:5672/%2f",
            &self.queue,
            &self.exchange,
        );
    }
}

#[test]
fn designate_conf_configures_the_sink() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-sink-conf-")
        .tempdir()
        .unwrap();
    let transport = "rabbit://guest:guest@127.0.0.1:5672/";
    let own = OwnBindings {
        exchange: format!("nova-conf-{}", std::process::id()),
        queue: format!("designate-sink-conf-{}", std::process::id()),
    };
    let (exchange, queue) = (&own.exchange, &own.queue);
    let zone = "conf.sink.test.";
    let conf = tmp.path().join("designate.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\ntransport_url = {transport}\n\n\
             [service:sink]\nenabled_notification_handlers = nova_fixed\n\n\
             [handler:nova_fixed]\nzone_id = {zone}\ncontrol_exchange = {exchange}\n\
             formatv4 = %(display_name)s.%(zone)s\n\
             formatv4 = %(octet0)s-%(octet1)s-%(octet2)s-%(octet3)s.%(zone)s\n"
        ),
    )
    .unwrap();
    let conf = conf.display().to_string();
    let (_data, standalone, base) = start_rest(
        "designate-e2e-sink-conf-",
        &["--config-file", &conf, "--sink-queue", queue],
    );
    let created = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &PROJECT,
        Some(&json!({"name": zone, "email": "hostmaster@sink.test"})),
    );
    assert_eq!(created.status, 202, "{}", created.text());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = TransportUrl::parse(transport).unwrap();
    let instance = designate_e2e::sample_notification("compute.instance.create.end");
    let mdns = standalone.mdns_addr().expect("MiniDNS");
    // Both formats make a record. Published again while waiting: the
    // Sink's queue may not be bound yet, and a redelivery changes nothing.
    let mut published = Instant::now() - Duration::from_secs(5);
    wait_for(SERVED, "both records on MiniDNS", || {
        if published.elapsed() >= Duration::from_secs(2) {
            publish(&runtime, &url, exchange, &instance);
            published = Instant::now();
        }
        let answers = [
            dig(mdns, "testinstance.conf.sink.test.", "A"),
            dig(mdns, "172-16-0-14.conf.sink.test.", "A"),
        ];
        let want = ("NOERROR".to_string(), vec!["172.16.0.14".to_string()]);
        if answers.iter().all(|a| *a == want) {
            Ok(())
        } else {
            Err(format!("{answers:?}"))
        }
    });
}
