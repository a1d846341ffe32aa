//! Notifications on the bus, end to end against the RabbitMQ this machine
//! runs (127.0.0.1:5672, guest/guest; `.ci/run` starts it when down):
//! `standalone --transport-url` sends one `dns.*` notification per zone and
//! recordset create, update and delete, done by REST and by kubectl, in
//! oslo's envelope with Designate's event types and payload fields, to the
//! control exchange's default queue `<topic>.info`.
//!
//! Each test has an exchange and topic of its own (`--control-exchange`,
//! `--notification-topic`; Designate's defaults are `designate` and
//! `notifications`), removed at the end.
//!
//! The outage test runs a broker of its own (`designate_e2e::rabbitmq`),
//! killed with `kill -9` for 30 s in the middle of 1,000 changes.
//!
//! Needs `cargo build -p designate-operator` first.

use std::collections::BTreeMap;
use std::time::Duration;

use designate_bus::Notification;
use designate_e2e::rabbitmq::Broker;
use designate_e2e::{Kubectl, at, kubectl_for, rest_request, start_rest, wait_for};
use lapin::options::{BasicAckOptions, BasicGetOptions};
use lapin::{Connection, ConnectionProperties};
use serde_json::{Value, json};

const BROKER: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const TRANSPORT_URL: &str = "rabbit://guest:guest@127.0.0.1:5672/";

/// How long the controllers may take to settle a change.
const SETTLE: Duration = Duration::from_secs(60);
/// How long to keep listening for a notification that should not come.
const QUIET: Duration = Duration::from_secs(3);

const PROJECT: [(&str, &str); 1] = [("X-Auth-Project-ID", "notify-project")];

/// The test's exchange and topic on a broker, and the queue oslo's
/// notifier declares.
struct Bus {
    amqp_url: String,
    exchange: String,
    topic: String,
}

impl Bus {
    /// On the machine's broker.
    fn new() -> Self {
        Self::on(BROKER)
    }

    fn on(amqp_url: &str) -> Self {
        let id = std::process::id();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Self {
            amqp_url: amqp_url.to_string(),
            exchange: format!("designate-e2e-{id}-{nanos}"),
            topic: format!("notifications-e2e-{id}-{nanos}"),
        }
    }

    fn args<'a>(&'a self, transport_url: &'a str) -> Vec<&'a str> {
        vec![
            "--transport-url",
            transport_url,
            "--control-exchange",
            &self.exchange,
            "--notification-topic",
            &self.topic,
        ]
    }

    fn queue(&self) -> String {
        format!("{}.info", self.topic)
    }

    /// Takes the notifications waiting, until `done` holds for all taken so
    /// far (then `QUIET` more, to see any that should not come) or `within`.
    fn take(&self, within: Duration, done: impl Fn(&[Notification]) -> bool) -> Vec<Notification> {
        runtime().block_on(async {
            let connection = Connection::connect(&self.amqp_url, ConnectionProperties::default())
                .await
                .expect("the test's RabbitMQ");
            let channel = connection.create_channel().await.unwrap();
            let mut got = Vec::new();
            let deadline = tokio::time::Instant::now() + within;
            let mut quiet_until = None;
            loop {
                let now = tokio::time::Instant::now();
                if quiet_until.is_some_and(|until| now >= until) || now >= deadline {
                    return got;
                }
                // The queue exists from the first publish on.
                let message = channel
                    .basic_get(self.queue().as_str().into(), BasicGetOptions::default())
                    .await
                    .ok()
                    .flatten();
                match message {
                    Some(message) => {
                        let delivery = message.delivery;
                        assert_eq!(delivery.properties.delivery_mode(), &Some(2), "persistent");
                        got.push(Notification::from_body(&delivery.data).unwrap());
                        delivery.ack(BasicAckOptions::default()).await.unwrap();
                    }
                    None => {
                        if quiet_until.is_none() && done(&got) {
                            quiet_until = Some(now + QUIET);
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        })
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        designate_e2e::rabbitmq::remove(&self.amqp_url, &self.queue(), &self.exchange);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The zone and recordset notifications, as (event_type, object name) →
/// how many times.
fn counts(notifications: &[Notification]) -> BTreeMap<(String, String), usize> {
    let changes: Vec<Notification> = notifications
        .iter()
        .filter(|n| !is_status_notice(n))
        .cloned()
        .collect();
    counts_of(&changes, of_zones)
}

/// A `dns.zone.update` of a status the nameservers reached (Designate's
/// `update_status`), not of a change asked for (those say PENDING).
fn is_status_notice(n: &Notification) -> bool {
    n.event_type.ends_with(".update")
        && matches!(n.payload["status"].as_str(), Some("ACTIVE" | "ERROR"))
}

/// A zone or recordset event (the process's own default pool is notified
/// too).
fn of_zones(event: &str) -> bool {
    ["dns.zone.", "dns.domain.", "dns.recordset."]
        .iter()
        .any(|kind| event.starts_with(kind))
}

fn counts_of(
    notifications: &[Notification],
    counted: impl Fn(&str) -> bool,
) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for n in notifications.iter().filter(|n| counted(&n.event_type)) {
        // A blacklist has a pattern where others have a name, a share
        // its target project.
        let name = n.payload["name"]
            .as_str()
            .or(n.payload["pattern"].as_str())
            .or(n.payload["target_project_id"].as_str())
            .unwrap_or_default()
            .to_string();
        *counts.entry((n.event_type.clone(), name)).or_default() += 1;
    }
    counts
}

fn expected(events: &[(&str, &str)]) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for (event, name) in events {
        *counts
            .entry((event.to_string(), name.to_string()))
            .or_default() += 1;
    }
    counts
}

fn payload<'a>(got: &'a [Notification], event: &str, name: &str) -> &'a Value {
    &got.iter()
        .find(|n| {
            n.event_type == event
                && (n.payload["name"] == name || n.payload["target_project_id"] == name)
                && !is_status_notice(n)
        })
        .unwrap_or_else(|| panic!("no {event} for {name}"))
        .payload
}

fn wait_rest_status(base: &str, path: &str, status: &str) -> Value {
    wait_for(SETTLE, &format!("{path} to be {status}"), || {
        let answer = rest_request(base, "GET", path, &PROJECT, None);
        let body = answer.json();
        match body["status"].as_str() {
            Some(s) if s == status => Ok(body),
            _ => Err(answer.text()),
        }
    })
}

fn settled(kubectl: &Kubectl, kind: &str, name: &str, ns: &str) {
    wait_for(SETTLE, &format!("{kind} {ns}/{name} to be ACTIVE"), || {
        let object = kubectl.get_json(&[kind, name, "-n", ns]);
        if at(&object, "/status/status") == "ACTIVE"
            && at(&object, "/status/observedGeneration") == at(&object, "/metadata/generation")
        {
            Ok(())
        } else {
            Err(at(&object, "/status").to_string())
        }
    });
}

#[test]
fn every_rest_change_is_notified_once_with_designates_event_and_payload() {
    let bus = Bus::new();
    let (_tmp, _standalone, base) =
        start_rest("designate-e2e-notify-rest-", &bus.args(TRANSPORT_URL));
    let zone = "notify-rest.test.";
    let www = "www.notify-rest.test.";

    let created = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &PROJECT,
        Some(&json!({"name": zone, "email": "hostmaster@notify-rest.test", "ttl": 3600})),
    );
    assert_eq!(created.status, 202, "{}", created.text());
    let zone_id = created.json()["id"].as_str().unwrap().to_string();
    let zone_path = format!("/v2/zones/{zone_id}");
    wait_rest_status(&base, &zone_path, "ACTIVE");

    let rs = rest_request(
        &base,
        "POST",
        &format!("{zone_path}/recordsets"),
        &PROJECT,
        Some(&json!({"name": www, "type": "A", "records": ["192.0.2.1"]})),
    );
    assert_eq!(rs.status, 202, "{}", rs.text());
    let rs_path = format!(
        "{zone_path}/recordsets/{}",
        rs.json()["id"].as_str().unwrap()
    );
    wait_rest_status(&base, &rs_path, "ACTIVE");

    let patched = rest_request(
        &base,
        "PATCH",
        &zone_path,
        &PROJECT,
        Some(&json!({"description": "billing", "ttl": 600})),
    );
    assert_eq!(patched.status, 202, "{}", patched.text());
    wait_rest_status(&base, &zone_path, "ACTIVE");
    let put = rest_request(
        &base,
        "PUT",
        &rs_path,
        &PROJECT,
        Some(&json!({"records": ["192.0.2.1", "192.0.2.2"]})),
    );
    assert_eq!(put.status, 202, "{}", put.text());
    wait_rest_status(&base, &rs_path, "ACTIVE");
    // A write that changes nothing notifies nothing.
    let same = rest_request(
        &base,
        "PUT",
        &rs_path,
        &PROJECT,
        Some(&json!({"records": ["192.0.2.1", "192.0.2.2"]})),
    );
    assert!(matches!(same.status, 200 | 202), "{}", same.text());
    wait_rest_status(&base, &rs_path, "ACTIVE");
    let gone = rest_request(&base, "DELETE", &rs_path, &PROJECT, None);
    assert_eq!(gone.status, 202, "{}", gone.text());
    let gone = rest_request(&base, "DELETE", &zone_path, &PROJECT, None);
    assert_eq!(gone.status, 202, "{}", gone.text());

    let want = expected(&[
        ("dns.zone.create", zone),
        ("dns.domain.create", zone),
        ("dns.recordset.create", www),
        ("dns.zone.update", zone),
        ("dns.domain.update", zone),
        ("dns.recordset.update", www),
        ("dns.recordset.delete", www),
        ("dns.zone.delete", zone),
        ("dns.domain.delete", zone),
    ]);
    let got = bus.take(SETTLE, |got| counts(got) == want);
    assert_eq!(counts(&got), want, "{got:#?}");

    let got: Vec<Notification> = got
        .into_iter()
        .filter(|n| of_zones(&n.event_type))
        .collect();
    // The nameservers' statuses: each serial's once, an ACTIVE among them.
    let statuses: Vec<(String, i64, String)> = got
        .iter()
        .filter(|n| is_status_notice(n))
        .map(|n| {
            assert_eq!(n.payload["name"], zone, "{n:?}");
            (
                n.event_type.clone(),
                n.payload["serial"].as_i64().unwrap(),
                format!("{}/{}", n.payload["status"], n.payload["action"]),
            )
        })
        .collect();
    let distinct: std::collections::BTreeSet<_> = statuses.iter().collect();
    assert_eq!(distinct.len(), statuses.len(), "{statuses:?}");
    assert!(
        statuses
            .iter()
            .any(|(event, _, state)| event == "dns.zone.update" && state == "\"ACTIVE\"/\"NONE\""),
        "no ACTIVE status notified: {statuses:?}"
    );
    for n in &got {
        assert_eq!(n.priority, "INFO");
        assert!(n.publisher_id.starts_with("central."), "{}", n.publisher_id);
        assert_eq!(n.payload["tenant_id"], "notify-project", "{n:?}");
    }
    let ids: std::collections::HashSet<_> = got.iter().map(|n| n.message_id).collect();
    assert_eq!(ids.len(), got.len(), "message ids are unique");

    let create = payload(&got, "dns.zone.create", zone);
    assert_eq!(create["id"], zone_id.as_str());
    assert_eq!(create["email"], "hostmaster@notify-rest.test");
    assert_eq!(create["ttl"], 3600);
    assert_eq!(
        (create["status"].as_str(), create["action"].as_str()),
        (Some("PENDING"), Some("CREATE"))
    );
    assert_eq!(create["type"], "PRIMARY");
    assert!(create["serial"].as_i64().unwrap() > 0, "{create}");
    assert!(create["pool_id"].is_string(), "{create}");
    let update = payload(&got, "dns.zone.update", zone);
    assert_eq!(
        (
            update["description"].as_str(),
            update["ttl"].as_i64(),
            update["action"].as_str()
        ),
        (Some("billing"), Some(600), Some("UPDATE"))
    );
    assert!(
        update["serial"].as_i64() > create["serial"].as_i64(),
        "{update}"
    );
    let delete = payload(&got, "dns.zone.delete", zone);
    assert_eq!(delete["action"], "DELETE");

    let rs_create = payload(&got, "dns.recordset.create", www);
    assert_eq!(
        (
            rs_create["type"].as_str(),
            rs_create["zone_id"].as_str(),
            rs_create["zone_name"].as_str()
        ),
        (Some("A"), Some(zone_id.as_str()), Some(zone))
    );
    let data = |p: &Value| -> Vec<String> {
        p["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["data"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(data(rs_create), ["192.0.2.1"]);
    assert_eq!(
        data(payload(&got, "dns.recordset.update", www)),
        ["192.0.2.1", "192.0.2.2"]
    );
    assert_eq!(
        payload(&got, "dns.recordset.delete", www)["action"],
        "DELETE"
    );
}

#[test]
fn kubectl_changes_are_notified_once_each() {
    let bus = Bus::new();
    let (tmp, standalone, _base) =
        start_rest("designate-e2e-notify-kubectl-", &bus.args(TRANSPORT_URL));
    let kubectl = kubectl_for(&standalone, tmp.path());
    let ns = "notify-team";
    kubectl.ok(&["create", "namespace", ns]);
    let zone = "notify-kubectl.test.";
    let api = "api.notify-kubectl.test.";
    let manifest = |ttl: u32, records: &str| {
        format!(
            "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: zone\n  namespace: {ns}\nspec:\n  name: {zone}\n  email: admin@notify-kubectl.test\n  ttl: {ttl}\n---\napiVersion: designate.openstack.org/v1alpha1\nkind: Recordset\nmetadata:\n  name: api\n  namespace: {ns}\nspec:\n  zoneRef: zone\n  name: {api}\n  type: A\n  records: [{records}]\n"
        )
    };
    let file = tmp.path().join("zone.yaml");
    std::fs::write(&file, manifest(600, "\"192.0.2.10\"")).unwrap();
    kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
    settled(&kubectl, "zone", "zone", ns);
    settled(&kubectl, "recordset", "api", ns);
    std::fs::write(&file, manifest(900, "\"192.0.2.11\"")).unwrap();
    kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
    settled(&kubectl, "zone", "zone", ns);
    settled(&kubectl, "recordset", "api", ns);
    kubectl.ok(&["delete", "recordset", "api", "-n", ns]);
    kubectl.ok(&["delete", "zone", "zone", "-n", ns]);

    let want = expected(&[
        ("dns.zone.create", zone),
        ("dns.domain.create", zone),
        ("dns.recordset.create", api),
        ("dns.zone.update", zone),
        ("dns.domain.update", zone),
        ("dns.recordset.update", api),
        ("dns.recordset.delete", api),
        ("dns.zone.delete", zone),
        ("dns.domain.delete", zone),
    ]);
    let got = bus.take(SETTLE, |got| counts(got) == want);
    assert_eq!(counts(&got), want, "{got:#?}");
    assert_eq!(payload(&got, "dns.zone.update", zone)["ttl"], 900);
    // The project of a kubectl user is the namespace.
    assert_eq!(payload(&got, "dns.zone.create", zone)["tenant_id"], ns);
}

#[test]
fn admin_changes_are_notified_once_each() {
    let bus = Bus::new();
    let (tmp, standalone, base) =
        start_rest("designate-e2e-notify-admin-", &bus.args(TRANSPORT_URL));
    let admin = [("X-Auth-Project-ID", "notify-admin"), ("X-Roles", "admin")];
    let call = |method: &str, path: &str, body: Option<Value>| {
        let answer = rest_request(&base, method, path, &admin, body.as_ref());
        assert!(answer.status < 300, "{method} {path}: {}", answer.text());
        answer.json()
    };
    let pool_id = call("GET", "/v2/pools", None)["pools"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let tld = call(
        "POST",
        "/v2/tlds",
        Some(json!({"name": "notifytld", "description": "first"})),
    );
    let tld_path = format!("/v2/tlds/{}", tld["id"].as_str().unwrap());
    call("PATCH", &tld_path, Some(json!({"description": "second"})));
    let pattern = "^evil\\.notify\\.$";
    let blacklist = call("POST", "/v2/blacklists", Some(json!({"pattern": pattern})));
    let blacklist_path = format!("/v2/blacklists/{}", blacklist["id"].as_str().unwrap());
    call(
        "PATCH",
        &blacklist_path,
        Some(json!({"description": "why"})),
    );
    let key = call(
        "POST",
        "/v2/tsigkeys",
        Some(json!({"name": "notify-key", "algorithm": "hmac-sha256",
                     "secret": "bm90aWZ5LXNlY3JldA==", "scope": "POOL", "resource_id": pool_id})),
    );
    let key_path = format!("/v2/tsigkeys/{}", key["id"].as_str().unwrap());
    call("PATCH", &key_path, Some(json!({"name": "notify-key-2"})));
    let pool = call(
        "POST",
        "/v2/pools",
        Some(json!({"name": "notify-pool",
                     "ns_records": [{"hostname": "ns1.notify.test.", "priority": 1}]})),
    );
    let pool_path = format!("/v2/pools/{}", pool["id"].as_str().unwrap());
    call("PATCH", &pool_path, Some(json!({"description": "billing"})));
    // A zone shared and unshared.
    let zone = call(
        "POST",
        "/v2/zones",
        Some(json!({"name": "shared.notifytld.", "email": "admin@notify.test"})),
    );
    let zone_id = zone["id"].as_str().unwrap();
    let shares = format!("/v2/zones/{zone_id}/shares");
    let share = call(
        "POST",
        &shares,
        Some(json!({"target_project_id": "notify-target"})),
    );
    call(
        "DELETE",
        &format!("{shares}/{}", share["id"].as_str().unwrap()),
        None,
    );
    // A share kept: the transfer below carries it along, untold.
    call(
        "POST",
        &shares,
        Some(json!({"target_project_id": "notify-kept"})),
    );
    // An export made and deleted.
    let export = call("POST", &format!("/v2/zones/{zone_id}/tasks/export"), None);
    call(
        "DELETE",
        &format!("/v2/zones/tasks/exports/{}", export["id"].as_str().unwrap()),
        None,
    );
    // A transfer offered, changed and withdrawn; another offered and
    // accepted (the zone moves to the taker).
    let offered =
        designate_e2e::transfer_zone(&base, &admin, zone_id, "notify-other", "notify-taker");
    // A TLD made and removed with kubectl is notified the same.
    let kubectl = kubectl_for(&standalone, tmp.path());
    let file = tmp.path().join("tld.yaml");
    std::fs::write(
        &file,
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Tld\nmetadata:\n  name: kubectltld\nspec:\n  name: kubectltld\n",
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
    // Applied again unchanged: nothing to tell.
    kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
    kubectl.ok(&["delete", "-f", file.to_str().unwrap()]);
    for path in [&pool_path, &key_path, &blacklist_path, &tld_path] {
        let answer = rest_request(&base, "DELETE", path, &admin, None);
        assert!(answer.status < 300, "DELETE {path}: {}", answer.text());
    }

    let admin_kinds = |event: &str| {
        ["dns.tld.", "dns.blacklist.", "dns.tsigkey.", "dns.pool."]
            .iter()
            .any(|kind| event.starts_with(kind))
            || event == "dns.zone.share"
            || event == "dns.zone.unshare"
    };
    // The default pool's own creation may be notified too, as the process
    // made it; it is not counted.
    let admin_counts = |got: &[Notification]| {
        let mut counts = counts_of(got, admin_kinds);
        counts.retain(|(_, name), _| name != "default");
        counts
    };
    let want = expected(&[
        ("dns.tld.create", "notifytld"),
        ("dns.tld.update", "notifytld"),
        ("dns.tld.delete", "notifytld"),
        ("dns.tld.create", "kubectltld"),
        ("dns.tld.delete", "kubectltld"),
        ("dns.blacklist.create", pattern),
        ("dns.blacklist.update", pattern),
        ("dns.blacklist.delete", pattern),
        ("dns.tsigkey.create", "notify-key"),
        ("dns.tsigkey.update", "notify-key-2"),
        ("dns.tsigkey.delete", "notify-key-2"),
        ("dns.pool.create", "notify-pool"),
        ("dns.pool.update", "notify-pool"),
        ("dns.pool.delete", "notify-pool"),
        ("dns.zone.share", "notify-target"),
        ("dns.zone.unshare", "notify-target"),
        ("dns.zone.share", "notify-kept"),
    ]);
    let export_events = |got: &[Notification]| {
        counts_of(got, |event| event.starts_with("dns.zone_export."))
            .into_iter()
            .map(|((event, _), n)| (event, n))
            .collect::<BTreeMap<String, usize>>()
    };
    let transfer_events =
        |got: &[Notification]| counts_of(got, |event| event.starts_with("dns.zone_transfer_"));
    let transfers_want = expected(&[
        ("dns.zone_transfer_request.create", "notify-other"),
        ("dns.zone_transfer_request.update", "notify-other"),
        ("dns.zone_transfer_request.delete", "notify-other"),
        ("dns.zone_transfer_request.create", "notify-taker"),
        ("dns.zone_transfer_accept.create", ""),
    ]);
    // The used request's status (COMPLETE) may be told as an update.
    let transfers_told = |got: &[Notification]| {
        let mut counts = transfer_events(got);
        counts.remove(&(
            "dns.zone_transfer_request.update".to_string(),
            "notify-taker".to_string(),
        ));
        counts
    };
    let got = bus.take(SETTLE, |got| {
        admin_counts(got) == want
            && export_events(got).contains_key("dns.zone_export.delete")
            && transfers_told(got) == transfers_want
    });
    assert_eq!(transfers_told(&got), transfers_want, "{got:#?}");
    let accept_made = got
        .iter()
        .find(|n| n.event_type == "dns.zone_transfer_accept.create")
        .unwrap();
    assert_eq!(
        (
            accept_made.payload["zone_transfer_request_id"].as_str(),
            accept_made.payload["project_id"].as_str()
        ),
        (offered["id"].as_str(), Some("notify-taker"))
    );
    assert_eq!(admin_counts(&got), want, "{got:#?}");
    // Made PENDING and ended at once: the watch may see it ended only, so
    // an update is told at most once.
    let exports = export_events(&got);
    assert_eq!(
        (
            exports.get("dns.zone_export.create"),
            exports.get("dns.zone_export.delete")
        ),
        (Some(&1), Some(&1)),
        "{exports:?}"
    );
    assert!(
        exports
            .get("dns.zone_export.update")
            .is_none_or(|n| *n == 1),
        "{exports:?}"
    );
    let export_made = got
        .iter()
        .find(|n| n.event_type == "dns.zone_export.create")
        .unwrap();
    assert_eq!(
        (
            export_made.payload["id"].as_str(),
            export_made.payload["zone_id"].as_str()
        ),
        (export["id"].as_str(), Some(zone_id))
    );

    let tld_update = payload(&got, "dns.tld.update", "notifytld");
    assert_eq!(tld_update["id"], tld["id"]);
    assert_eq!(tld_update["description"], "second");
    assert!(tld_update.get("links").is_none(), "{tld_update}");
    let key_create = payload(&got, "dns.tsigkey.create", "notify-key");
    assert_eq!(
        (
            key_create["algorithm"].as_str(),
            key_create["scope"].as_str(),
            key_create["resource_id"].as_str()
        ),
        (Some("hmac-sha256"), Some("POOL"), Some(pool_id.as_str()))
    );
    // The key's secret never leaves its Secret.
    let secret_seen = got
        .iter()
        .any(|n| n.payload.to_string().contains("bm90aWZ5LXNlY3JldA"));
    assert!(!secret_seen, "a notification carries the TSIG secret");
    let shared = payload(&got, "dns.zone.share", "notify-target");
    assert_eq!(
        (
            &shared["id"],
            shared["zone_id"].as_str(),
            shared["project_id"].as_str()
        ),
        (&share["id"], Some(zone_id), Some("notify-admin")),
        "{shared}"
    );
    let pool_update = payload(&got, "dns.pool.update", "notify-pool");
    assert_eq!(pool_update["description"], "billing");
    assert_eq!(pool_update["ns_records"][0]["hostname"], "ns1.notify.test.");
    for n in &got {
        assert_eq!(n.priority, "INFO");
        assert!(n.publisher_id.starts_with("central."), "{}", n.publisher_id);
    }
}

#[test]
fn a_broker_outage_delays_notifications_and_loses_none() {
    const CHANGES: usize = 1000;
    let mut broker = Broker::start().expect("a RabbitMQ of the test's own");
    let bus = Bus::on(&broker.amqp_url());
    // The first broker of the list is dead: the second one serves.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let transport = format!(
        "rabbit://guest:guest@127.0.0.1:{dead},guest:guest@{}/",
        broker.host_port()
    );
    let mut args = bus.args(&transport);
    args.extend([
        "--quota-zone-recordsets",
        "100000",
        "--quota-zone-records",
        "100000",
    ]);
    let (_tmp, _standalone, base) = start_rest("designate-e2e-notify-outage-", &args);
    let zone = "notify-outage.test.";
    let created = rest_request(
        &base,
        "POST",
        "/v2/zones",
        &PROJECT,
        Some(&json!({"name": zone, "email": "hostmaster@notify-outage.test"})),
    );
    assert_eq!(created.status, 202, "{}", created.text());
    let zone_path = format!("/v2/zones/{}", created.json()["id"].as_str().unwrap());
    wait_rest_status(&base, &zone_path, "ACTIVE");

    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let (base, written) = (base.clone(), written.clone());
        let path = format!("{zone_path}/recordsets");
        std::thread::spawn(move || {
            for i in 0..CHANGES {
                let body =
                    json!({"name": format!("r{i}.{zone}"), "type": "A", "records": ["192.0.2.1"]});
                let answer = rest_request(&base, "POST", &path, &PROJECT, Some(&body));
                assert_eq!(answer.status, 202, "{}", answer.text());
                written.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(25));
            }
        })
    };
    wait_for(SETTLE, "300 changes", || {
        match written.load(std::sync::atomic::Ordering::SeqCst) {
            n if n >= 300 => Ok(()),
            n => Err(n.to_string()),
        }
    });
    broker.kill();
    std::thread::sleep(Duration::from_secs(30));
    broker.start_again().unwrap();
    writer.join().unwrap();

    let mut want: Vec<(String, String)> = vec![
        ("dns.zone.create".into(), zone.into()),
        ("dns.domain.create".into(), zone.into()),
    ];
    want.extend((0..CHANGES).map(|i| ("dns.recordset.create".into(), format!("r{i}.{zone}"))));
    let want: std::collections::BTreeSet<(String, String)> = want.into_iter().collect();
    let distinct = |got: &[Notification]| -> std::collections::BTreeSet<(String, String)> {
        counts(got).into_keys().collect()
    };
    let got = bus.take(Duration::from_secs(180), |got| distinct(got) == want);
    let got: Vec<Notification> = got
        .into_iter()
        .filter(|n| of_zones(&n.event_type) && !is_status_notice(n))
        .collect();
    let received = distinct(&got);
    let missing: Vec<_> = want.difference(&received).collect();
    assert!(
        missing.is_empty(),
        "{} of {} missing, e.g. {:?}",
        missing.len(),
        want.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(received, want, "nothing but the changes made");
    // At least once: a batch sent again after a lost confirm keeps its
    // message ids, so a consumer can tell a resend from a change.
    let ids: std::collections::HashSet<_> = got.iter().map(|n| n.message_id).collect();
    assert_eq!(ids.len(), want.len(), "one message id per change");
    eprintln!(
        "broker outage: {} notifications for {} changes ({} resent)",
        got.len(),
        want.len(),
        got.len() - want.len()
    );
}
