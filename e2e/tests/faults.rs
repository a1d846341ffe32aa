//! The fault campaign (issue 13): while REST and kubectl writers create
//! zones, (a) the operator is killed with `kill -9` and started again,
//! (b) BIND is killed and comes back without its zones, (c) PowerDNS is
//! killed and started again, (d) the storage database (MariaDB, PostgreSQL)
//! is killed and started again. After each, every zone whose create was
//! acknowledged is there, ACTIVE, and served by the nameserver again with
//! no user action. The times to converge are printed for
//! docs/RELIABILITY.md (a measurement, not a check).
//! Needs `cargo build -p designate-operator` first.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use designate_e2e::databases::{DatabaseServer, Engine};
use designate_e2e::keystone::free_port;
use designate_e2e::{
    Backed, BindBacked, Kubectl, PowerDnsBacked, Standalone, dig, http_request, wait_for,
};
use serde_json::json;

const CONVERGED: Duration = Duration::from_secs(120);
const REST_WRITERS: usize = 4;
/// The wait between two creates of one REST writer: a steady load of some
/// 60 zones a second, not a flood that only measures the backlog.
const PACE: Duration = Duration::from_millis(50);
const ALL_PROJECTS: [(&str, &str); 2] = [("X-Roles", "admin"), ("X-Auth-All-Projects", "True")];

/// One fault at a time: each loads the machine's two cores on its own, and
/// the times to converge are measured.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Waits for the faults before to be done; a temp dir named `prefix`.
fn one_at_a_time(prefix: &str) -> (std::sync::MutexGuard<'static, ()>, tempfile::TempDir) {
    let turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    (turn, dir)
}

/// The zones whose create was acknowledged, by DNS name.
type Acked = Arc<Mutex<Vec<String>>>;

/// Creates zones through REST until `stop`, or until the API goes away;
/// eight per project (Designate's default quota is ten).
fn rest_writer(base: String, writer: String, stop: Arc<AtomicBool>, acked: Acked) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let project = format!("{writer}-{}", n / 8);
        let name = format!("{writer}-{n}.faults.example.");
        n += 1;
        let body = json!({"name": name, "email": "admin@example.org"}).to_string();
        let headers = [
            ("Content-Type", "application/json"),
            ("X-Auth-Project-ID", project.as_str()),
            ("X-Roles", "member"),
        ];
        match http_request(&base, "POST", "/v2/zones", &headers, Some(body.as_bytes())) {
            Ok(answer) if answer.status == 202 => {
                acked.lock().unwrap().push(name);
                std::thread::sleep(PACE);
            }
            Ok(answer) => panic!("{name}: {} {}", answer.status, answer.text()),
            Err(_) => return,
        }
    }
}

/// Applies zones with kubectl until `stop`, or until the API goes away;
/// eight per namespace (a namespace is a project, with its quota).
fn kubectl_writer(kubectl: Kubectl, dir: &Path, round: &str, stop: Arc<AtomicBool>, acked: Acked) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let name = format!("k{round}-{n}.faults.example.");
        let namespace = format!("faults-k{round}-{}", n / 8);
        let file = dir.join(format!("k{round}-{n}.yaml"));
        std::fs::write(
            &file,
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n---\napiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: k{round}-{n}\n  namespace: {namespace}\nspec:\n  name: {name}\n  email: admin@example.org\n"
            ),
        )
        .unwrap();
        n += 1;
        match kubectl.try_run(
            &["apply", "-f", file.to_str().unwrap()],
            Duration::from_secs(10),
        ) {
            Ok(out) if out.status.success() => acked.lock().unwrap().push(name),
            _ => return,
        }
    }
}

/// REST and kubectl writers against `backed`, until [`stop_load`].
fn start_load<N>(
    backed: &Backed<N>,
    dir: &Path,
    round: &str,
    acked: &Acked,
) -> (Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers: Vec<_> = (0..REST_WRITERS)
        .map(|i| {
            let (base, stop, acked) = (backed.rest.clone(), stop.clone(), acked.clone());
            let writer = format!("faults-{round}-{i}");
            std::thread::spawn(move || rest_writer(base, writer, stop, acked))
        })
        .collect();
    let kubectl = backed.kubectl.clone();
    let (dir, round, stop_k, acked_k) = (
        dir.to_path_buf(),
        round.to_string(),
        stop.clone(),
        acked.clone(),
    );
    writers.push(std::thread::spawn(move || {
        kubectl_writer(kubectl, &dir, &round, stop_k, acked_k)
    }));
    (stop, writers)
}

fn stop_load((stop, writers): (Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>)) {
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
}

/// Waits until every acknowledged zone is ACTIVE through REST and served
/// by the nameserver at `dns`; says how long that took from `started` and
/// which zone was the last to be ACTIVE.
fn converge<N>(
    backed: &Backed<N>,
    dns: SocketAddr,
    acked: &Acked,
    what: &str,
    started: Instant,
) -> String {
    let acked = acked.lock().unwrap().clone();
    let mut last = String::new();
    wait_for(
        CONVERGED,
        &format!("{} zones ACTIVE after {what}", acked.len()),
        || {
            let answer = designate_e2e::rest_request(
                &backed.rest,
                "GET",
                "/v2/zones?limit=1000",
                &ALL_PROJECTS,
                None,
            );
            let zones = answer.json();
            let status = |name: &str| {
                zones["zones"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|z| z["name"] == name)
                    .map(|z| z["status"].as_str().unwrap_or_default().to_string())
            };
            for name in &acked {
                match status(name) {
                    Some(status) if status == "ACTIVE" => {}
                    other => {
                        last = format!("{name} {other:?} {:?}", started.elapsed());
                        return Err(last.clone());
                    }
                }
            }
            Ok(())
        },
    );
    let active = started.elapsed();
    wait_for(
        CONVERGED,
        &format!("the nameserver to serve every zone after {what}"),
        || {
            for name in &acked {
                let (rcode, answers) = dig(dns, name, "SOA");
                if rcode != "NOERROR" || answers.is_empty() {
                    return Err(format!("{name}: {rcode} {answers:?}"));
                }
            }
            Ok(())
        },
    );
    format!(
        "{active:?} (last still pending: {last}; every zone answered by dig at {:?})",
        started.elapsed()
    )
}

/// Writers on `backed` for `lead`, then `fault`; the writers go on for
/// 750 ms after it returned; then waits until everything converged (the
/// nameserver answering at `dns`) and prints the campaign's line.
fn strike<N>(
    backed: &mut Backed<N>,
    dns: SocketAddr,
    (dir, round, acked): (&Path, &str, &Acked),
    lead: Duration,
    what: &str,
    fault: impl FnOnce(&mut Backed<N>),
) {
    let load = start_load(backed, dir, round, acked);
    std::thread::sleep(lead);
    fault(backed);
    let restarted = Instant::now();
    std::thread::sleep(Duration::from_millis(750));
    stop_load(load);
    let zones = acked.lock().unwrap().len();
    let took = converge(backed, dns, acked, what, restarted);
    eprintln!("fault: {what} | zones: {zones} | lost: 0 | converged {took} after it came back");
}

/// Runs `future` to its end (the test servers' async helpers).
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(future)
}

#[test]
fn acknowledged_zones_are_served_again_after_the_operator_and_bind_fail() {
    let (_one, tmp) = one_at_a_time("designate-e2e-faults-");
    // MiniDNS keeps its address across the restart: the Pool names it.
    let mdns = format!("127.0.0.1:{}", free_port());
    let extra = ["--mdns-listen", mdns.as_str()];
    let mut backed = BindBacked::start(tmp.path(), &extra);
    let acked: Acked = Arc::default();

    // (a) kill -9 of the operator amid the writes.
    let load = start_load(&backed, tmp.path(), "a", &acked);
    std::thread::sleep(Duration::from_millis(1500));
    backed.standalone.kill();
    let killed = Instant::now();
    stop_load(load);
    let in_flight = acked.lock().unwrap().len();
    backed.standalone = Standalone::try_start_with(&tmp.path().join("data"), &extra).unwrap();
    backed.rest = backed.standalone.wait_rest_url();
    let up = killed.elapsed();
    let dns = backed.nameserver.dns_addr();
    let took = converge(
        &backed,
        dns,
        &acked,
        "kill -9 of the operator",
        Instant::now(),
    );
    eprintln!(
        "fault: operator kill -9 | acknowledged zones: {in_flight} | lost: 0 | restarted in {up:?} | converged {took} after the restart"
    );

    // (b) BIND killed and back without its zones, amid the writes.
    strike(
        &mut backed,
        dns,
        (tmp.path(), "b", &acked),
        Duration::from_millis(750),
        "BIND killed, back without its zones",
        |backed| block_on(backed.nameserver.restart_empty()).expect("restarting BIND"),
    );
}

#[test]
fn acknowledged_zones_are_served_again_after_powerdns_fails() {
    let (_one, tmp) = one_at_a_time("designate-e2e-faults-pdns-");
    let mut backed = PowerDnsBacked::start(tmp.path(), &[]);
    let dns = backed.nameserver.dns_addr();
    strike(
        &mut backed,
        dns,
        (tmp.path(), "p", &Arc::default()),
        Duration::from_millis(1500),
        "PowerDNS killed (kill -9) and started again",
        |backed| block_on(backed.nameserver.restart()).expect("restarting PowerDNS"),
    );
}

/// The storage database killed amid the writes, down for a few seconds,
/// started again.
fn storage_database_fails(engine: Engine) {
    let (_one, tmp) = one_at_a_time("designate-e2e-faults-db-");
    let mut database = DatabaseServer::start(engine).expect("starting the database");
    let url = database.url();
    let mut backed = BindBacked::start(tmp.path(), &["--database-url", url.as_str()]);
    let dns = backed.nameserver.dns_addr();
    strike(
        &mut backed,
        dns,
        (tmp.path(), "d", &Arc::default()),
        Duration::from_millis(1500),
        &format!("{engine:?} under the storage killed (kill -9), down 3 s"),
        |_| {
            database.kill();
            std::thread::sleep(Duration::from_secs(3));
            database.start_again().expect("starting the database again");
        },
    );
}

#[test]
fn acknowledged_zones_are_served_again_after_mariadb_fails() {
    storage_database_fails(Engine::MariaDb);
}

#[test]
fn acknowledged_zones_are_served_again_after_postgresql_fails() {
    storage_database_fails(Engine::Postgres);
}
