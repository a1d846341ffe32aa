//! Events expire as in kube-apiserver (`--event-ttl`): one last written
//! longer than the TTL ago is deleted; a recent one stays.

use std::time::Duration;

use designate_apiserver::{ApiServer, Config};
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};

fn event(name: &str, last: Timestamp) -> Event {
    Event {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            kind: Some("Zone".into()),
            name: Some("z".into()),
            ..ObjectReference::default()
        },
        reason: Some("Published".into()),
        last_timestamp: Some(Time(last)),
        ..Event::default()
    }
}

#[tokio::test]
async fn events_older_than_the_ttl_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.event_ttl = Duration::from_secs(3);
    let server = ApiServer::open(config).await.unwrap();
    let events: Api<Event> = Api::namespaced(Client::new(server.router(), "default"), "default");
    // As kube-apiserver's TTL, from the last write: "old" written 1.5 s
    // before "recent".
    events
        .create(&PostParams::default(), &event("old", Timestamp::now()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    events
        .create(&PostParams::default(), &event("recent", Timestamp::now()))
        .await
        .unwrap();
    let mut old_gone = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if events.get_opt("old").await.unwrap().is_none() {
            old_gone = true;
            break;
        }
    }
    assert!(old_gone, "the expired event is still there");
    assert!(events.get_opt("recent").await.unwrap().is_some());
    // Its turn comes once the TTL passed.
    let mut recent_gone = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if events.get_opt("recent").await.unwrap().is_none() {
            recent_gone = true;
            break;
        }
    }
    assert!(recent_gone, "the recent event never expired");
}
