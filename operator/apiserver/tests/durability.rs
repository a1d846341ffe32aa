//! A write either commits and is seen, or fails and is not: a commit
//! failure is injected into the store's own SQLite database (a trigger that
//! refuses some rows), as a full disk or an I/O error would refuse them.

use std::path::Path;
use std::time::Duration;

use designate_apiserver::{ApiServer, Config};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::{Client, ResourceExt};
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": name}})).unwrap()
}

async fn open(dir: &Path) -> (ApiServer, Api<ConfigMap>) {
    let server = ApiServer::open(Config::new(dir)).await.expect("open");
    let client = Client::new(server.router(), "default");
    (server, Api::namespaced(client, "default"))
}

async fn names(api: &Api<ConfigMap>) -> Vec<String> {
    let list = api.list(&ListParams::default()).await.unwrap();
    list.items.iter().map(|cm| cm.name_any()).collect()
}

fn code(result: Result<ConfigMap, kube::Error>) -> u16 {
    match result {
        Err(kube::Error::Api(status)) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn rv(cm: &ConfigMap) -> u64 {
    cm.resource_version().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_write_whose_commit_fails_is_not_seen_nor_any_write_applied_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, api) = open(dir.path()).await;
    let before = api
        .create(&PostParams::default(), &config_map("before"))
        .await
        .unwrap();
    let mut watch = api
        .watch(&WatchParams::default(), &before.resource_version().unwrap())
        .await
        .unwrap()
        .boxed();

    let db = Database::connect(format!(
        "sqlite://{}",
        dir.path().join("apiserver.db").display()
    ))
    .await
    .unwrap();
    db.execute_unprepared(
        "CREATE TRIGGER refuse BEFORE INSERT ON objects WHEN NEW.key LIKE '%/poison%' \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .await
    .unwrap();

    // The create fails at its commit; the patch, applied in memory on top
    // of the create before that, fails with it.
    let label = Patch::Merge(json!({"metadata": {"labels": {"on": "top"}}}));
    let (post, patch, poison) = (
        PostParams::default(),
        PatchParams::default(),
        config_map("poison"),
    );
    let (created, patched) = tokio::join!(
        api.create(&post, &poison),
        api.patch("poison", &patch, &label),
    );
    assert_eq!(code(created), 500);
    assert!([404, 500].contains(&code(patched)));
    assert!(api.get_opt("poison").await.unwrap().is_none());
    assert_eq!(names(&api).await, ["before"]);

    // Writes go on, and the watch sees them and nothing of the failed ones.
    let later = api
        .create(&PostParams::default(), &config_map("later"))
        .await
        .unwrap();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), watch.try_next())
            .await
            .expect("an event")
            .unwrap()
            .expect("the watch goes on");
        match event {
            WatchEvent::Added(cm) | WatchEvent::Modified(cm) | WatchEvent::Deleted(cm) => {
                assert_ne!(cm.name_any(), "poison", "an undone write was watched");
                if cm.name_any() == "later" {
                    break;
                }
            }
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(e) => panic!("{e:?}"),
        }
    }
    db.execute_unprepared("DROP TRIGGER refuse").await.unwrap();
    drop(server);

    // What was acknowledged is there after a restart; what failed is not;
    // no version is issued twice.
    let (_server, api) = open(dir.path()).await;
    assert_eq!(names(&api).await, ["before", "later"]);
    let after = api
        .create(&PostParams::default(), &config_map("poison"))
        .await
        .unwrap();
    assert!(rv(&after) > rv(&later));
}

#[tokio::test]
async fn versions_from_an_earlier_life_of_the_store_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, api) = open(dir.path()).await;
    let cm = api
        .create(&PostParams::default(), &config_map("a"))
        .await
        .unwrap();
    let ahead = (rv(&cm) + 10).to_string();
    let mut watch = api
        .watch(&WatchParams::default(), &ahead)
        .await
        .unwrap()
        .boxed();
    match watch.try_next().await.unwrap() {
        Some(WatchEvent::Error(e)) => assert_eq!(e.code, 410),
        other => panic!("expected 410, got {other:?}"),
    }
    let listed = api
        .list(
            &ListParams::default()
                .at(&ahead)
                .matching(kube::api::VersionMatch::NotOlderThan),
        )
        .await;
    match listed {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 410),
        other => panic!("expected 410, got {other:?}"),
    }
}

/// Two creates of one name race: the loser's 409 comes only once the
/// winner's create is durable, so a GET right after the 409 finds the
/// object (a 409 for an object no read can see yet would be a lie).
#[tokio::test]
async fn a_create_refused_as_a_duplicate_is_found_by_the_next_get() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, api) = open(dir.path()).await;
    for i in 0..50 {
        let name = format!("twin-{i}");
        let racer = |api: Api<ConfigMap>, name: String| async move {
            match api.create(&PostParams::default(), &config_map(&name)).await {
                Ok(_) => None,
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    Some(api.get_opt(&name).await.unwrap().is_some())
                }
                Err(other) => panic!("{name}: {other}"),
            }
        };
        let (a, b) = tokio::join!(
            tokio::spawn(racer(api.clone(), name.clone())),
            tokio::spawn(racer(api.clone(), name.clone()))
        );
        let found: Vec<bool> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
        assert_eq!(
            found,
            [true],
            "{name}: one refused, and it then found the object"
        );
    }
}

/// Objects are loaded a page at a time and kept packed against others of
/// their kind: after a reopen, more than a page of them is all there, each
/// as it was written.
#[tokio::test]
async fn every_object_is_there_as_written_after_a_reopen() {
    const OBJECTS: usize = 4096 + 100;
    let dir = tempfile::tempdir().unwrap();
    let (server, api) = open(dir.path()).await;
    let post = PostParams::default();
    let written: Vec<ConfigMap> = futures::stream::iter(0..OBJECTS)
        .map(|i| {
            let (api, post) = (&api, &post);
            async move {
                api.create(post, &config_map(&format!("cm-{i:05}")))
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    drop(server);

    let (_server, api) = open(dir.path()).await;
    let mut read: Vec<ConfigMap> = api.list(&ListParams::default()).await.unwrap().items;
    read.sort_by_key(ResourceExt::name_any);
    let mut written = written;
    written.sort_by_key(ResourceExt::name_any);
    assert_eq!(read.len(), OBJECTS);
    for (read, written) in read.iter().zip(&written) {
        assert_eq!(
            serde_json::to_value(read).unwrap(),
            serde_json::to_value(written).unwrap()
        );
    }
    let one = api.get("cm-04150").await.unwrap();
    assert_eq!(one.data.unwrap()["k"], "cm-04150");
}
