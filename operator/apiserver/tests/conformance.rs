//! Conformance of the embedded control plane with kube-apiserver, for what
//! kube-runtime and kubectl use. Each test names the behaviour of
//! `shared/reference/k8s-testing.md` §a it covers. The kubectl user path
//! is covered end to end in `e2e/tests/kubectl.rs`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use designate_apiserver::{ApiServer, Config};
use designate_crd::{Zone, ZoneSpec};
use futures::{StreamExt, TryStreamExt};
use http::{Request, StatusCode};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Harness {
    server: ApiServer,
    client: Client,
    _dir: tempfile::TempDir,
}

async fn harness_with(tune: impl FnOnce(&mut Config)) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(dir.path());
    tune(&mut config);
    let server = ApiServer::open(config).await.expect("open");
    server
        .install_crds(&designate_crd::crds())
        .await
        .expect("crds");
    let client = Client::new(server.router(), "default");
    Harness {
        server,
        client,
        _dir: dir,
    }
}

async fn harness() -> Harness {
    harness_with(|_| {}).await
}

fn zone(name: &str) -> Zone {
    Zone::new(
        name,
        ZoneSpec {
            name: format!("{name}.example."),
            email: Some("admin@example.com".into()),
            ttl: Some(3600),
            ..Default::default()
        },
    )
}

fn zones(h: &Harness) -> Api<Zone> {
    Api::namespaced(h.client.clone(), "default")
}

fn api_code(result: Result<impl std::fmt::Debug, kube::Error>) -> (u16, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn rv(obj: &impl kube::Resource) -> u64 {
    obj.meta()
        .resource_version
        .as_deref()
        .unwrap_or_default()
        .parse()
        .expect("numeric rv")
}

/// A raw request through the router: (status, JSON body).
async fn raw(
    h: &Harness,
    method: &str,
    uri: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = h
        .server
        .router()
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// §a(ii) Discovery: legacy /api, /apis and resource lists built from the CRDs,
/// /version, the minimal /openapi/v3 and the empty /openapi/v2.
#[tokio::test]
async fn discovery_and_openapi() {
    let h = harness().await;
    let (code, groups) = raw(&h, "GET", "/apis", "", "").await;
    assert_eq!(code, 200);
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for group in [
        "designate.openstack.org",
        "apiextensions.k8s.io",
        "coordination.k8s.io",
        "events.k8s.io",
    ] {
        assert!(names.contains(&group), "{group} missing from {names:?}");
    }
    let (_, list) = raw(&h, "GET", "/apis/designate.openstack.org/v1alpha1", "", "").await;
    let resources = list["resources"].as_array().unwrap();
    let zones = resources
        .iter()
        .find(|r| r["name"] == "zones")
        .expect("zones");
    assert_eq!(zones["kind"], "Zone");
    assert_eq!(zones["namespaced"], true);
    assert!(
        zones["shortNames"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(resources.iter().any(|r| r["name"] == "zones/status"));
    let pools = resources
        .iter()
        .find(|r| r["name"] == "pools")
        .expect("pools");
    assert_eq!(pools["namespaced"], false);
    let (code, core) = raw(&h, "GET", "/api/v1", "", "").await;
    assert_eq!(code, 200);
    assert!(
        core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "namespaces")
    );
    let (_, index) = raw(&h, "GET", "/openapi/v3", "", "").await;
    let url = index["paths"]["apis/designate.openstack.org/v1alpha1"]["serverRelativeURL"]
        .as_str()
        .expect("v3 path");
    let (code, doc) = raw(&h, "GET", url, "", "").await;
    assert_eq!(code, 200);
    let patch = &doc["paths"]["/apis/designate.openstack.org/v1alpha1/namespaces/{namespace}/zones/{name}"]
        ["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Zone");
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
    assert!(
        patch["requestBody"]["content"]
            .get("application/strategic-merge-patch+json")
            .is_none()
    );
    let response = h
        .server
        .router()
        .oneshot(Request::get("/openapi/v2").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    assert!(h.client.apiserver_version().await.is_ok());
}

/// §a(i) Object semantics: uid, resourceVersion, generation 1 and
/// creationTimestamp on create; 409 AlreadyExists.
#[tokio::test]
async fn create_sets_server_fields_and_refuses_duplicates() {
    let h = harness().await;
    let api = zones(&h);
    let created = api
        .create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.generation, Some(1));
    assert!(rv(&created) > 0);
    assert_eq!(
        api_code(api.create(&PostParams::default(), &zone("a")).await),
        (409, "AlreadyExists".into())
    );
}

/// §a(i) List: non-empty metadata.resourceVersion, `limit` + `continue`
/// pagination (kube-runtime pages by 500); no `continue` on the last page.
#[tokio::test]
async fn list_paginates_with_continue() {
    let h = harness().await;
    let api = zones(&h);
    for i in 0..7 {
        api.create(&PostParams::default(), &zone(&format!("z{i}")))
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(3);
    let mut pages = 0;
    loop {
        let page = api.list(&params).await.unwrap();
        assert!(
            page.metadata
                .resource_version
                .as_deref()
                .is_some_and(|r| !r.is_empty())
        );
        pages += 1;
        names.extend(page.items.iter().map(|z| z.name_any()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("z{i}")).collect::<Vec<_>>());
    // A page that ends exactly at the last item has no continue token.
    let exact = api.list(&ListParams::default().limit(7)).await.unwrap();
    assert_eq!(
        (
            exact.items.len(),
            exact.metadata.continue_.as_deref().unwrap_or_default()
        ),
        (7, "")
    );
    // A namespaced list stops at its namespace, across pages too.
    let other: Api<ConfigMap> = Api::namespaced(h.client.clone(), "kube-system");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "zz"}})).unwrap();
    other.create(&PostParams::default(), &cm).await.unwrap();
    let in_default: Api<ConfigMap> = Api::namespaced(h.client.clone(), "default");
    assert!(
        in_default
            .list(&ListParams::default().limit(1))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let (code, _) = raw(
        &h,
        "GET",
        "/apis/designate.openstack.org/v1alpha1/namespaces/default/zones?limit=2&continue=zz",
        "",
        "",
    )
    .await;
    assert_eq!(code, 400);
}

/// §a(i) Optimistic concurrency: a replace with a stale resourceVersion is
/// 409 Conflict; custom resources refuse an update without one (422).
#[tokio::test]
async fn stale_update_conflicts_and_changes_nothing() {
    let h = harness().await;
    let api = zones(&h);
    let first = api
        .create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let mut fresh = first.clone();
    fresh.spec.ttl = Some(60);
    let updated = api
        .replace("a", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert!(rv(&updated) > rv(&first));
    let mut stale = first.clone();
    stale.spec.ttl = Some(1);
    assert_eq!(
        api_code(api.replace("a", &PostParams::default(), &stale).await),
        (409, "Conflict".into())
    );
    let mut unconditional = first.clone();
    unconditional.metadata.resource_version = None;
    assert_eq!(
        api_code(
            api.replace("a", &PostParams::default(), &unconditional)
                .await
        )
        .0,
        422
    );
    let now = api.get("a").await.unwrap();
    assert_eq!(now.spec.ttl, Some(60));
    assert_eq!(rv(&now), rv(&updated));
}

/// §a(i) Status subresource: main writes ignore .status, /status writes
/// change only .status and never bump generation; spec changes do.
#[tokio::test]
async fn status_subresource_split_and_generation() {
    let h = harness().await;
    let api = zones(&h);
    api.create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let status = json!({"apiVersion": "designate.openstack.org/v1alpha1", "kind": "Zone", "status": {"status": "ACTIVE", "serial": 5}});
    let after_status = api
        .patch_status(
            "a",
            &PatchParams::apply("test").force(),
            &Patch::Apply(&status),
        )
        .await
        .unwrap();
    assert_eq!(after_status.status.as_ref().unwrap().serial, Some(5));
    assert_eq!(after_status.metadata.generation, Some(1));
    let sneaky = json!({"spec": {"ttl": 10}, "status": {"serial": 99}});
    let after_main = api
        .patch("a", &PatchParams::default(), &Patch::Merge(&sneaky))
        .await
        .unwrap();
    assert_eq!(after_main.metadata.generation, Some(2));
    assert_eq!(
        after_main.status.as_ref().unwrap().serial,
        Some(5),
        "status ignored on main resource"
    );
    let label_only = json!({"metadata": {"labels": {"a": "b"}}});
    let after_label = api
        .patch("a", &PatchParams::default(), &Patch::Merge(&label_only))
        .await
        .unwrap();
    assert_eq!(
        after_label.metadata.generation,
        Some(2),
        "metadata changes keep generation"
    );
    let noop = api
        .patch("a", &PatchParams::default(), &Patch::Merge(&label_only))
        .await
        .unwrap();
    assert_eq!(
        rv(&noop),
        rv(&after_label),
        "a no-op write does not bump resourceVersion"
    );
}

/// §a(i) Deletion with finalizers: deletionTimestamp set, object kept until
/// the last finalizer goes (then DELETED); no new finalizers meanwhile.
#[tokio::test]
async fn finalizers_delay_deletion() {
    let h = harness().await;
    let api = zones(&h);
    let mut z = zone("a");
    z.metadata.finalizers = Some(vec!["test/hold".into()]);
    api.create(&PostParams::default(), &z).await.unwrap();
    // kube-apiserver answers 200 with the object kept for its finalizers.
    let (code, pending) = raw(
        &h,
        "DELETE",
        "/apis/designate.openstack.org/v1alpha1/namespaces/default/zones/a",
        "application/json",
        "",
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{pending}");
    assert!(
        pending["metadata"]["deletionTimestamp"].is_string(),
        "{pending}"
    );
    let deleted = api.delete("a", &DeleteParams::default()).await.unwrap();
    let pending = deleted
        .left()
        .expect("object returned while finalizers remain");
    assert!(pending.metadata.deletion_timestamp.is_some());
    let still = api.get("a").await.unwrap();
    assert!(still.metadata.deletion_timestamp.is_some());
    let more = json!({"metadata": {"finalizers": ["test/hold", "test/other"]}});
    assert_eq!(
        api_code(
            api.patch("a", &PatchParams::default(), &Patch::Merge(&more))
                .await
        )
        .0,
        422
    );
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api.get_opt("a").await.unwrap().is_none());
}

/// §a(i) Finalizer helper patches: JSON patch `test` of a missing path
/// against null succeeds (the apiserver's quirk); a failed test is 422.
#[tokio::test]
async fn json_patch_null_test_quirk() {
    let h = harness().await;
    zones(&h)
        .create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let uri = "/apis/designate.openstack.org/v1alpha1/namespaces/default/zones/a";
    let add = r#"[{"op":"test","path":"/metadata/finalizers","value":null},{"op":"add","path":"/metadata/finalizers","value":["f"]}]"#;
    let (code, body) = raw(&h, "PATCH", uri, "application/json-patch+json", add).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["metadata"]["finalizers"], json!(["f"]));
    let (code, body) = raw(&h, "PATCH", uri, "application/json-patch+json", add).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["kind"], "Status");
    let remove = r#"[{"op":"test","path":"/metadata/finalizers/0","value":"f"},{"op":"remove","path":"/metadata/finalizers/0"}]"#;
    let (code, body) = raw(&h, "PATCH", uri, "application/json-patch+json", remove).await;
    assert_eq!(code, 200);
    assert!(
        body["metadata"].get("finalizers").is_none(),
        "empty finalizers are dropped: {body}"
    );
    let (code, _) = raw(
        &h,
        "PATCH",
        uri,
        "application/strategic-merge-patch+json",
        "{}",
    )
    .await;
    assert_eq!(code, 415);
}

/// §a(i) Server-side apply (approximation): creates when absent, merges
/// when present; an apply to /status replaces .status.
#[tokio::test]
async fn server_side_apply_creates_and_merges() {
    let h = harness().await;
    let api = zones(&h);
    let applied = json!({"apiVersion": "designate.openstack.org/v1alpha1", "kind": "Zone", "metadata": {"name": "a"}, "spec": {"name": "a.example.", "email": "x@y.z"}});
    let created = api
        .patch("a", &PatchParams::apply("kubectl"), &Patch::Apply(&applied))
        .await
        .unwrap();
    assert_eq!(created.spec.email.as_deref(), Some("x@y.z"));
    let change = json!({"apiVersion": "designate.openstack.org/v1alpha1", "kind": "Zone", "metadata": {"name": "a"}, "spec": {"name": "a.example.", "ttl": 300}});
    let merged = api
        .patch(
            "a",
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(&change),
        )
        .await
        .unwrap();
    assert_eq!(merged.spec.ttl, Some(300));
    assert_eq!(merged.metadata.uid, created.metadata.uid);
}

/// §a(i) Selectors: label selectors (equality and set-based) and
/// metadata.name / metadata.namespace field selectors, on list and watch.
#[tokio::test]
async fn label_and_field_selectors() {
    let h = harness().await;
    let api = zones(&h);
    for (name, tier) in [("a", "gold"), ("b", "silver"), ("c", "gold")] {
        let mut z = zone(name);
        z.metadata.labels = Some([("tier".to_string(), tier.to_string())].into());
        api.create(&PostParams::default(), &z).await.unwrap();
    }
    let names = |list: kube::core::ObjectList<Zone>| {
        list.items.iter().map(|z| z.name_any()).collect::<Vec<_>>()
    };
    assert_eq!(
        names(
            api.list(&ListParams::default().labels("tier=gold"))
                .await
                .unwrap()
        ),
        ["a", "c"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().labels("tier in (silver)"))
                .await
                .unwrap()
        ),
        ["b"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().fields("metadata.name=b"))
                .await
                .unwrap()
        ),
        ["b"]
    );
    assert_eq!(
        api_code(
            api.list(&ListParams::default().fields("spec.bogus=1"))
                .await
        )
        .0,
        400
    );
    let all = Api::<Zone>::all(h.client.clone());
    assert_eq!(
        all.list(&ListParams::default().fields("metadata.namespace=default"))
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    // A watch filtered by label sees an object leave the selection as DELETED.
    let start = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = api
        .watch(
            &WatchParams::default().labels("tier=gold").timeout(5),
            &start,
        )
        .await
        .unwrap()
        .boxed();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"tier": "bronze"}}})),
    )
    .await
    .unwrap();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Deleted(z)) => assert_eq!(z.name_any(), "a"),
        other => panic!("expected DELETED, got {other:?}"),
    }
}

/// A filtered watch resumed from far back (past a thousand changes that
/// leave the selection alone): an object that left the selection is
/// DELETED, one that entered ADDED, one made ADDED, and changes outside
/// the selection are not seen.
#[tokio::test]
async fn a_filtered_watch_resumed_far_back_reads_older_events() {
    let h = harness().await;
    let api = zones(&h);
    for (name, tier) in [("a", "gold"), ("c", "silver"), ("filler", "none")] {
        let mut z = zone(name);
        z.metadata.labels = Some([("tier".to_string(), tier.to_string())].into());
        api.create(&PostParams::default(), &z).await.unwrap();
    }
    let start = rv(&api.get("filler").await.unwrap()).to_string();
    let label = |tier: &str| Patch::Merge(json!({"metadata": {"labels": {"tier": tier}}}));
    let params = PatchParams::default();
    api.patch("a", &params, &label("bronze")).await.unwrap();
    api.patch("c", &params, &label("gold")).await.unwrap();
    let mut d = zone("d");
    d.metadata.labels = Some([("tier".to_string(), "gold".to_string())].into());
    api.create(&PostParams::default(), &d).await.unwrap();
    for i in 0..1030 {
        let note = Patch::Merge(json!({"metadata": {"annotations": {"n": i.to_string()}}}));
        api.patch("filler", &params, &note).await.unwrap();
    }
    let mut stream = api
        .watch(
            &WatchParams::default().labels("tier=gold").timeout(2),
            &start,
        )
        .await
        .unwrap()
        .boxed();
    let mut seen = Vec::new();
    while let Some(event) = stream.try_next().await.unwrap() {
        seen.push(match event {
            WatchEvent::Added(z) => format!("ADDED {}", z.name_any()),
            WatchEvent::Modified(z) => format!("MODIFIED {}", z.name_any()),
            WatchEvent::Deleted(z) => format!("DELETED {}", z.name_any()),
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(e) => panic!("{e:?}"),
        });
    }
    assert_eq!(seen, ["DELETED a", "ADDED c", "ADDED d"]);
}

/// §a(i) Watch: ordered ADDED/MODIFIED/DELETED after the given version,
/// DELETED carrying the last state, bookmarks, and the end of the stream
/// after timeoutSeconds.
#[tokio::test]
async fn watch_orders_events_bookmarks_and_times_out() {
    let h = harness_with(|c| c.bookmark_interval = Duration::from_millis(200)).await;
    let api = zones(&h);
    let start = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let params = WatchParams::default().timeout(2);
    let mut stream = api.watch(&params, &start).await.unwrap().boxed();
    api.create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"ttl": 5}})),
    )
    .await
    .unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    let mut last_rv = 0;
    let mut bookmarks = 0;
    let began = std::time::Instant::now();
    while let Some(event) = stream.try_next().await.unwrap() {
        match event {
            WatchEvent::Added(z) | WatchEvent::Modified(z) | WatchEvent::Deleted(z)
                if seen.len() < 3 =>
            {
                assert!(rv(&z) > last_rv, "events in resourceVersion order");
                last_rv = rv(&z);
                seen.push(z);
            }
            WatchEvent::Bookmark(_) => bookmarks += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "stream ended by timeoutSeconds"
    );
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].spec.ttl, Some(5), "DELETED carries the last state");
    assert!(bookmarks > 0);
}

/// §a(i) 410 Expired: a watch from a version older than the retained
/// history gets an in-stream ERROR event with code 410.
#[tokio::test]
async fn stale_watch_gets_in_stream_410() {
    let h = harness_with(|c| c.history_bytes = 1).await;
    let cms: Api<ConfigMap> = Api::namespaced(h.client.clone(), "default");
    let start = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    for i in 0..6 {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    let mut stream = cms
        .watch(&WatchParams::default(), &start)
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Error(e)) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected 410, got {other:?}"),
    }
}

/// §a(i) kube-runtime watcher: resumes after the server ends the stream
/// (timeoutSeconds) without relisting, relists after a 410, and is not
/// expired by a burst of writes to another kind.
#[tokio::test]
async fn watcher_resumes_after_timeout_and_relists_after_410() {
    let h = harness_with(|c| {
        // Each kind keeps its latest event only.
        c.history_bytes = 1;
        c.bookmark_interval = Duration::from_secs(600);
    })
    .await;
    let api = zones(&h);
    api.create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default().timeout(1)).boxed();
    let mut inits = 0;
    loop {
        match next(&mut events).await {
            watcher::Event::Init => inits += 1,
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    // Let the server end the first watch (timeoutSeconds=1); the watcher
    // re-watches from its version and sees a new object without relisting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    api.create(&PostParams::default(), &zone("b"))
        .await
        .unwrap();
    loop {
        match next(&mut events).await {
            watcher::Event::Apply(z) if z.name_any() == "b" => break,
            watcher::Event::Init => inits += 1,
            _ => {}
        }
    }
    assert_eq!(inits, 1, "resumed without relisting");
    // Unpolled, the watcher lets its watch end; meanwhile zones move the
    // kind's history past the version it last saw: its next watch gets 410
    // and it relists (a second Init).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for name in ["c", "d", "e"] {
        api.create(&PostParams::default(), &zone(name))
            .await
            .unwrap();
    }
    let mut relisted = Vec::new();
    let mut expired = 0;
    loop {
        match next_item(&mut events).await {
            // kube-runtime surfaces the 410 once, then relists.
            Err(watcher::Error::WatchError(status)) if status.code == 410 => expired += 1,
            Err(other) => panic!("unexpected watch error {other}"),
            Ok(watcher::Event::Init) => inits += 1,
            Ok(watcher::Event::InitApply(z)) => relisted.push(z.name_any()),
            Ok(watcher::Event::InitDone) => break,
            Ok(_) => {}
        }
    }
    assert_eq!(expired, 1);
    assert_eq!(relisted, ["a", "b", "c", "d", "e"]);
    assert_eq!(inits, 2);
    // A burst on another kind leaves the zones' history alone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cms: Api<ConfigMap> = Api::namespaced(h.client.clone(), "default");
    for i in 0..6 {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    api.create(&PostParams::default(), &zone("f"))
        .await
        .unwrap();
    loop {
        match next_item(&mut events).await {
            Ok(watcher::Event::Apply(z)) if z.name_any() == "f" => break,
            Ok(watcher::Event::Init) | Err(_) => panic!("the zones' watch expired"),
            Ok(_) => {}
        }
    }
}

type WatchItem = Result<watcher::Event<Zone>, watcher::Error>;

async fn next_item<S: futures::Stream<Item = WatchItem> + Unpin>(events: &mut S) -> WatchItem {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("event in time")
        .expect("stream open")
}

async fn next<S: futures::Stream<Item = WatchItem> + Unpin>(
    events: &mut S,
) -> watcher::Event<Zone> {
    next_item(events).await.expect("watch ok")
}

/// §a(i) A kube-runtime Controller with the finalizer helper converges:
/// finalizer added, status written, cleanup on delete, object gone.
#[tokio::test]
async fn controller_with_finalizer_converges() {
    const FINALIZER: &str = "test.designate.openstack.org/cleanup";
    let h = harness().await;
    let api = zones(&h);
    let cleaned = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let controller = {
        let api = api.clone();
        let cleaned = cleaned.clone();
        tokio::spawn(
            Controller::new(api.clone(), watcher::Config::default().any_semantic())
                .graceful_shutdown_on(async { stop_rx.await.ok(); })
                .run(
                    move |z: Arc<Zone>, _ctx: Arc<()>| {
                        let api = api.clone();
                        let cleaned = cleaned.clone();
                        async move {
                            finalizer(&api, FINALIZER, z, |event| async {
                                match event {
                                    Finalizer::Apply(z) => {
                                        let status = json!({"apiVersion": "designate.openstack.org/v1alpha1", "kind": "Zone", "status": {"status": "ACTIVE", "observedGeneration": z.metadata.generation}});
                                        api.patch_status(&z.name_any(), &PatchParams::apply("test").force(), &Patch::Apply(&status)).await?;
                                        Ok(Action::await_change())
                                    }
                                    Finalizer::Cleanup(_) => {
                                        cleaned.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                        Ok::<_, kube::Error>(Action::await_change())
                                    }
                                }
                            })
                            .await
                        }
                    },
                    |_z, _e, _ctx| Action::requeue(Duration::from_millis(100)),
                    Arc::new(()),
                )
                .for_each(|_| async {}),
        )
    };
    api.create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let converged = wait_for(|| async {
        let z = api.get("a").await.unwrap();
        z.finalizers().contains(&FINALIZER.to_string())
            && z.status.as_ref().and_then(|s| s.observed_generation) == z.metadata.generation
    })
    .await;
    assert!(converged, "finalizer and status written");
    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(
        wait_for(|| async { api.get_opt("a").await.unwrap().is_none() }).await,
        "deleted after cleanup"
    );
    assert_eq!(cleaned.load(std::sync::atomic::Ordering::SeqCst), 1);
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), controller).await;
}

async fn wait_for<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// §a(i) Errors as Status objects: schema violations are 422 naming the
/// field, malformed JSON 400, unknown fields with Strict 400, unknown
/// resources 404; a rejected request changes nothing stored.
#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let h = harness().await;
    let stored = zones(&h)
        .create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let base = "/apis/designate.openstack.org/v1alpha1/namespaces/default/zones";
    let cases = [
        (
            "POST",
            base.to_string(),
            "application/json",
            r#"{"apiVersion":"designate.openstack.org/v1alpha1","kind":"Zone","metadata":{"name":"b"},"spec":{"name":"b.example.","ttl":"abc"}}"#,
            422,
            Some("spec.ttl"),
        ),
        (
            "POST",
            base.to_string(),
            "application/json",
            r#"{"apiVersion":"designate.openstack.org/v1alpha1","kind":"Zone","metadata":{"name":"b"},"spec":{"ttl":5}}"#,
            422,
            Some("spec.name"),
        ),
        (
            "POST",
            base.to_string(),
            "application/json",
            r#"{"apiVersion": "#,
            400,
            None,
        ),
        (
            "POST",
            format!("{base}?fieldValidation=Strict"),
            "application/json",
            r#"{"apiVersion":"designate.openstack.org/v1alpha1","kind":"Zone","metadata":{"name":"b"},"spec":{"name":"b.example.","bogus":1}}"#,
            400,
            None,
        ),
        (
            "PATCH",
            format!("{base}/a"),
            "application/merge-patch+json",
            r#"{"spec":{"ttl":"x"}}"#,
            422,
            Some("spec.ttl"),
        ),
        (
            "PATCH",
            format!("{base}/a"),
            "application/merge-patch+json",
            r#"{"spec":"#,
            400,
            None,
        ),
        (
            "PUT",
            format!("{base}/a"),
            "application/json",
            r#"{"apiVersion":"designate.openstack.org/v1alpha1","kind":"Zone","metadata":{"name":"a","resourceVersion":"1"},"spec":{"name":"a.example."}}"#,
            409,
            None,
        ),
        (
            "GET",
            "/apis/designate.openstack.org/v1alpha1/namespaces/default/nosuchkinds".to_string(),
            "",
            "",
            404,
            None,
        ),
        ("GET", format!("{base}/missing"), "", "", 404, None),
        (
            "POST",
            "/apis/designate.openstack.org/v1alpha1/namespaces/nosuchns/zones".to_string(),
            "application/json",
            r#"{"metadata":{"name":"b"},"spec":{"name":"b.example."}}"#,
            404,
            None,
        ),
    ];
    for (method, uri, content_type, body, want, field) in cases {
        let (code, status) = raw(&h, method, &uri, content_type, body).await;
        assert_eq!(code.as_u16(), want, "{method} {uri} {body}: {status}");
        assert_eq!(status["kind"], "Status", "{status}");
        assert_eq!(status["code"], want);
        if let Some(field) = field {
            let causes = status["details"]["causes"].as_array().expect("causes");
            assert!(causes.iter().any(|c| c["field"] == field), "{status}");
            assert!(status["message"].as_str().unwrap().contains(field));
        }
    }
    let now = zones(&h).get("a").await.unwrap();
    assert_eq!(rv(&now), rv(&stored));
    assert_eq!(now.spec, stored.spec);
    assert_eq!(
        zones(&h)
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

/// §a(i) Leases (leader election): create, replace with the current
/// version, 409 for a stale one.
#[tokio::test]
async fn leases_have_optimistic_concurrency() {
    let h = harness().await;
    let leases: Api<Lease> = Api::namespaced(h.client.clone(), "default");
    let lease: Lease = serde_json::from_value(json!({"metadata": {"name": "designate-operator"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}})).unwrap();
    let created = leases.create(&PostParams::default(), &lease).await.unwrap();
    let mut mine = created.clone();
    mine.spec.as_mut().unwrap().holder_identity = Some("b".into());
    leases
        .replace("designate-operator", &PostParams::default(), &mine)
        .await
        .unwrap();
    let mut theirs = created;
    theirs.spec.as_mut().unwrap().holder_identity = Some("c".into());
    assert_eq!(
        api_code(
            leases
                .replace("designate-operator", &PostParams::default(), &theirs)
                .await
        )
        .0,
        409
    );
}

/// §a(i) Events recorder: events.k8s.io/v1 events are created and
/// repeats patched by kube-runtime's Recorder.
#[tokio::test]
async fn events_recorder_publishes() {
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let h = harness().await;
    let z = zones(&h)
        .create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let recorder = Recorder::new(
        h.client.clone(),
        Reporter {
            controller: "test".into(),
            instance: None,
        },
    );
    let event = Event {
        type_: EventType::Normal,
        reason: "Testing".into(),
        note: Some("hello".into()),
        action: "Test".into(),
        secondary: None,
    };
    recorder.publish(&event, &z.object_ref(&())).await.unwrap();
    recorder.publish(&event, &z.object_ref(&())).await.unwrap();
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(h.client.clone(), "default");
    let list = events.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].reason.as_deref(), Some("Testing"));
    assert_eq!(list.items[0].series.as_ref().map(|s| s.count), Some(2));
}

/// Namespaces: content needs an existing namespace; deleting one deletes
/// its content (waiting on finalizers) and then the namespace.
#[tokio::test]
async fn namespace_lifecycle() {
    let h = harness().await;
    let namespaces: Api<Namespace> = Api::all(h.client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "tenant-a"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let tenant: Api<Zone> = Api::namespaced(h.client.clone(), "tenant-a");
    let mut held = zone("held");
    held.metadata.finalizers = Some(vec!["test/hold".into()]);
    tenant.create(&PostParams::default(), &held).await.unwrap();
    tenant
        .create(&PostParams::default(), &zone("free"))
        .await
        .unwrap();
    namespaces
        .delete("tenant-a", &DeleteParams::default())
        .await
        .unwrap();
    assert!(tenant.get_opt("free").await.unwrap().is_none());
    assert!(
        tenant
            .get("held")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
    );
    let terminating = namespaces.get("tenant-a").await.unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    assert_eq!(
        api_code(tenant.create(&PostParams::default(), &zone("new")).await).0,
        403
    );
    tenant
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    assert!(namespaces.get_opt("tenant-a").await.unwrap().is_none());
}

/// Restart: every acknowledged object comes back with the same uid, and
/// resourceVersions keep increasing.
#[tokio::test]
async fn restart_keeps_objects_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (uid, last_rv) = {
        let server = ApiServer::open(Config::new(dir.path())).await.unwrap();
        server.install_crds(&designate_crd::crds()).await.unwrap();
        let api: Api<Zone> = Api::namespaced(Client::new(server.router(), "default"), "default");
        let a = api
            .create(&PostParams::default(), &zone("a"))
            .await
            .unwrap();
        api.create(&PostParams::default(), &zone("b"))
            .await
            .unwrap();
        api.delete("b", &DeleteParams::default()).await.unwrap();
        let last = server.store().resource_version();
        (a.metadata.uid.unwrap(), last)
    };
    let server = ApiServer::open(Config::new(dir.path())).await.unwrap();
    let api: Api<Zone> = Api::namespaced(Client::new(server.router(), "default"), "default");
    let a = api
        .get("a")
        .await
        .expect("kind registered from the stored CRD, object kept");
    assert_eq!(a.metadata.uid.as_deref(), Some(uid.as_str()));
    assert!(api.get_opt("b").await.unwrap().is_none());
    let c = api
        .create(&PostParams::default(), &zone("c"))
        .await
        .unwrap();
    assert!(rv(&c) > last_rv);
}

/// Table output (kubectl get): printer columns of the CRD.
#[tokio::test]
async fn table_output_uses_printer_columns() {
    let h = harness().await;
    zones(&h)
        .create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let request = Request::get("/apis/designate.openstack.org/v1alpha1/namespaces/default/zones")
        .header(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )
        .body(Body::empty())
        .unwrap();
    let response = h.server.router().oneshot(request).await.unwrap();
    let table: Value = serde_json::from_slice(
        &axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(table["kind"], "Table");
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(columns.contains(&"Status"), "{columns:?}");
    assert_eq!(table["rows"][0]["cells"][0], "a");
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

/// CRD `x-kubernetes-validations` (CEL) rules, including transition rules
/// (`oldSelf`) on update: 422 naming the field and the rule's message.
#[tokio::test]
async fn cel_rules_are_enforced() {
    let h = harness().await;
    let api = zones(&h);
    let mut no_email = zone("a");
    no_email.spec.email = None;
    let err = api
        .create(&PostParams::default(), &no_email)
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.code, 422);
    assert!(
        status
            .message
            .contains("email is required for PRIMARY zones"),
        "{}",
        status.message
    );
    api.create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let rename = json!({"spec": {"name": "renamed.example."}});
    let err = api
        .patch("a", &PatchParams::default(), &Patch::Merge(&rename))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.code, 422);
    assert!(
        status.message.contains("spec.name") && status.message.contains("immutable"),
        "{}",
        status.message
    );
    assert_eq!(api.get("a").await.unwrap().spec.name, "a.example.");
}

/// `/metrics`: request counts by verb, resource and code; commits.
#[tokio::test]
async fn metrics_count_requests_and_commits() {
    let h = harness().await;
    zones(&h)
        .create(&PostParams::default(), &zone("a"))
        .await
        .unwrap();
    let _ = zones(&h).get("missing").await;
    let response = h
        .server
        .router()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    for line in [
        r#"apiserver_request_total{verb="create",resource="zones",code="201"} 1"#,
        r#"apiserver_request_total{verb="get",resource="zones",code="404"} 1"#,
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(
        text.contains("designate_apiserver_storage_commits_total"),
        "{text}"
    );
}
