//! `kill -9` of the embedded control plane (`designate-operator
//! apiserver`) in the middle of concurrent writes, several times over one
//! data dir: every acknowledged write is there after the restart, no
//! resourceVersion a client saw (in an answer, a list or a watch) is
//! issued again, and a watcher resuming after the restart either gets
//! every event it missed or 410 Expired.
//! Needs `cargo build -p designate-operator` first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use designate_e2e::keystone::free_port;
use designate_e2e::operator_bin;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;

const ROUNDS: usize = 5;
const WRITERS: usize = 8;

/// What the clients were told, over every round.
#[derive(Default)]
struct Told {
    /// Objects whose create was acknowledged, and not an acknowledged delete since.
    present: BTreeSet<String>,
    /// Objects whose delete was acknowledged.
    deleted: BTreeSet<String>,
    /// Every object version a client saw, with what it was for.
    versions: BTreeMap<u64, String>,
    /// The highest resourceVersion a client saw (lists' included).
    highest: u64,
}

impl Told {
    fn saw(&mut self, rv: u64, what: String) {
        self.highest = self.highest.max(rv);
        if let Some(earlier) = self.versions.insert(rv, what.clone()) {
            assert_eq!(earlier, what, "resourceVersion {rv} issued twice");
        }
    }
}

fn rv_of(cm: &ConfigMap) -> u64 {
    cm.resource_version().unwrap().parse().unwrap()
}

fn start(dir: &Path, round: usize) -> (Child, Api<ConfigMap>) {
    let addr = format!("127.0.0.1:{}", free_port());
    let log = std::fs::File::create(dir.join(format!("apiserver-{round}.log"))).unwrap();
    let child = Command::new(operator_bin())
        .args(["apiserver", "--kube-listen", &addr, "--data-dir"])
        .arg(dir.join("data"))
        .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let config = kube::Config::new(format!("http://{addr}").parse().unwrap());
    let client = Client::try_from(config).unwrap();
    (child, Api::namespaced(client, "default"))
}

async fn wait_up(api: &Api<ConfigMap>) {
    for _ in 0..200 {
        if api.list(&ListParams::default().limit(1)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the API server did not come up");
}

/// Creates and deletes objects until the server goes away.
async fn writer(api: Api<ConfigMap>, told: Arc<Mutex<Told>>, round: usize, id: usize) {
    for n in 0.. {
        let name = format!("r{round}-w{id}-{n}");
        let body: ConfigMap = serde_json::from_value(
            json!({"metadata": {"name": name}, "data": {"n": n.to_string()}}),
        )
        .unwrap();
        let Ok(created) = api.create(&PostParams::default(), &body).await else {
            return;
        };
        {
            let mut told = told.lock().unwrap();
            told.saw(rv_of(&created), format!("create {name}"));
            told.present.insert(name.clone());
        }
        if n % 3 == 2 {
            let victim = format!("r{round}-w{id}-{}", n - 1);
            match api.delete(&victim, &DeleteParams::default()).await {
                Ok(_) => {
                    let mut told = told.lock().unwrap();
                    told.present.remove(&victim);
                    told.deleted.insert(victim);
                }
                // Cut by the kill: committed or not, nobody was told.
                Err(_) => {
                    told.lock().unwrap().present.remove(&victim);
                    return;
                }
            }
        }
    }
}

/// Lists until the server goes away: what a list shows was durable.
async fn reader(api: Api<ConfigMap>, told: Arc<Mutex<Told>>) {
    while let Ok(list) = api.list(&ListParams::default()).await {
        let mut told = told.lock().unwrap();
        for cm in &list.items {
            told.saw(rv_of(cm), format!("create {}", cm.name_any()));
        }
        let listed: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
        told.highest = told.highest.max(listed);
    }
}

/// Watches from `from` until the stream ends; returns the last version seen.
async fn watcher(api: Api<ConfigMap>, from: String, told: Arc<Mutex<Told>>) -> u64 {
    let mut last: u64 = from.parse().unwrap();
    let Ok(stream) = api.watch(&WatchParams::default(), &from).await else {
        return last;
    };
    let mut stream = stream.boxed();
    while let Ok(Some(event)) = stream.try_next().await {
        let (kind, cm) = match event {
            WatchEvent::Added(cm) => ("create", cm),
            WatchEvent::Deleted(cm) => ("delete", cm),
            WatchEvent::Modified(cm) => ("modify", cm),
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(e) => panic!("watch error before the kill: {e:?}"),
        };
        let rv = rv_of(&cm);
        assert!(rv > last, "watch events out of order: {rv} after {last}");
        last = rv;
        told.lock()
            .unwrap()
            .saw(rv, format!("{kind} {}", cm.name_any()));
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9_and_versions_are_never_reissued() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-durability-")
        .tempdir()
        .unwrap();
    let told = Arc::new(Mutex::new(Told::default()));
    let mut resume: Option<u64> = None;
    for round in 0..ROUNDS {
        let (mut child, api) = start(tmp.path(), round);
        wait_up(&api).await;
        let list = api.list(&ListParams::default()).await.unwrap();
        let listed_rv: u64 = list
            .metadata
            .resource_version
            .clone()
            .unwrap()
            .parse()
            .unwrap();
        let listed: BTreeSet<String> = list.items.iter().map(|cm| cm.name_any()).collect();
        {
            let told = told.lock().unwrap();
            let missing: Vec<_> = told.present.difference(&listed).collect();
            assert!(
                missing.is_empty(),
                "round {round}: acknowledged creates lost: {missing:?}"
            );
            let back: Vec<_> = told.deleted.intersection(&listed).collect();
            assert!(
                back.is_empty(),
                "round {round}: acknowledged deletes undone: {back:?}"
            );
            let seen = told.highest;
            assert!(
                listed_rv >= seen,
                "round {round}: a client saw version {seen}, the store restarted at {listed_rv}"
            );
        }
        // The watcher of the last round resumes: 410, or every event.
        if let Some(from) = resume {
            let stream = api
                .watch(&WatchParams::default(), &from.to_string())
                .await
                .unwrap();
            let first =
                tokio::time::timeout(Duration::from_secs(2), stream.boxed().try_next()).await;
            match first {
                Ok(Ok(Some(WatchEvent::Error(e)))) => assert_eq!(e.code, 410),
                // Nothing was committed after what it saw: nothing missed.
                Err(_) => assert_eq!(
                    from, listed_rv,
                    "round {round}: a resumed watch skipped events"
                ),
                other => {
                    panic!("round {round}: resumed watch from {from} at {listed_rv}: {other:?}")
                }
            }
        }

        let watching = tokio::spawn(watcher(api.clone(), listed_rv.to_string(), told.clone()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|id| tokio::spawn(writer(api.clone(), told.clone(), round, id)))
            .chain((0..2).map(|_| tokio::spawn(reader(api.clone(), told.clone()))))
            .collect();
        tokio::time::sleep(Duration::from_millis(300 + 150 * round as u64)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        for writing in writers {
            writing.await.unwrap();
        }
        resume = Some(watching.await.unwrap());
    }
    let told = told.lock().unwrap();
    assert!(
        told.present.len() > 100,
        "too few writes to tell: {}",
        told.present.len()
    );
}
