//! Designate's `pools.yaml` as `Pool` resources.
//!
//! Each pool keeps its name, description, attributes, NS records,
//! nameservers, also-notifies and targets (type, description, masters,
//! options). Option values are written as strings, as Designate stores
//! them. Options that are credentials (`api_token`, `rndc_key`,
//! `password`) leave the Pool for a Secret in the operator's namespace,
//! named `designate-pool-<pool>-<n>`, which the target references. A
//! pool's `id` cannot be kept (a Pool's id is its object's uid): each one
//! given is reported.

use std::collections::BTreeMap;

use designate_crd::{HostPort, Pool, PoolNsRecord, PoolSpec, PoolTarget, SecretRef};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use serde::Deserialize;
use serde_json::Value;

use crate::Error;

/// Target options that are credentials.
const SECRET_OPTIONS: [&str; 3] = ["api_token", "rndc_key", "password"];

/// One pool of `pools.yaml`, as Designate's `designate-manage` reads it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignatePool {
    name: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, Value>,
    #[serde(default)]
    ns_records: Vec<NsRecord>,
    #[serde(default)]
    nameservers: Vec<Server>,
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(default)]
    also_notifies: Vec<Server>,
    /// Catalog zones (Designate 2023.2+) have no counterpart yet.
    #[serde(default)]
    catalog_zone: Option<Value>,
}

#[derive(Deserialize)]
struct NsRecord {
    hostname: String,
    priority: i32,
}

#[derive(Deserialize)]
struct Server {
    host: String,
    port: Option<i32>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(rename = "type")]
    type_: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    masters: Vec<Server>,
    #[serde(default)]
    options: BTreeMap<String, Value>,
}

/// What an import makes: the Pools, the Secrets they reference, and notes
/// on what could not be carried over.
#[derive(Debug, Default)]
pub struct Imported {
    pub pools: Vec<Pool>,
    pub secrets: Vec<Secret>,
    pub notes: Vec<String>,
}

/// The objects for `pools.yaml`'s text; Secrets go to `namespace`.
pub fn import(text: &str, namespace: &str) -> Result<Imported, Error> {
    let pools: Vec<DesignatePool> = serde_yaml::Deserializer::from_str(text)
        .map(Option::<Vec<DesignatePool>>::deserialize)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::PoolsYaml(e.to_string()))?
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    convert_all(pools, namespace)
}

/// The objects for pools given as `pools.yaml` entries.
pub(crate) fn from_values(values: Vec<Value>, namespace: &str) -> Result<Imported, Error> {
    let pools = values
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<Vec<DesignatePool>, _>>()
        .map_err(|e| Error::PoolsYaml(e.to_string()))?;
    convert_all(pools, namespace)
}

fn convert_all(pools: Vec<DesignatePool>, namespace: &str) -> Result<Imported, Error> {
    let mut imported = Imported::default();
    for pool in pools {
        convert(pool, namespace, &mut imported)?;
    }
    Ok(imported)
}

fn host_port(server: Server) -> HostPort {
    HostPort {
        host: server.host,
        port: server.port.unwrap_or(53),
    }
}

/// An option's value as Designate stores it: text.
fn text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

fn convert(pool: DesignatePool, namespace: &str, out: &mut Imported) -> Result<(), Error> {
    let invalid = |message: &str| Error::InvalidPool {
        pool: pool.name.clone(),
        message: message.to_string(),
    };
    if pool.ns_records.is_empty() {
        return Err(invalid("no ns_records (Designate refuses such a pool too)"));
    }
    if let Some(id) = &pool.id {
        out.notes.push(format!(
            "pool {}: its id {id} is not kept (a Pool's id is its uid)",
            pool.name
        ));
    }
    if pool.catalog_zone.is_some() {
        out.notes.push(format!(
            "pool {}: catalog_zone is not supported yet and was left out",
            pool.name
        ));
    }
    let mut targets = Vec::new();
    for (n, target) in pool.targets.into_iter().enumerate() {
        let (secret, options): (BTreeMap<_, _>, BTreeMap<_, _>) = target
            .options
            .into_iter()
            .map(|(key, value)| (key, text(value)))
            .partition(|(key, _)| SECRET_OPTIONS.contains(&key.as_str()));
        let secret_ref = (!secret.is_empty()).then(|| {
            let name = format!("designate-pool-{}-{n}", pool.name);
            out.secrets.push(Secret {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(namespace.to_string()),
                    ..ObjectMeta::default()
                },
                data: Some(
                    secret
                        .into_iter()
                        .map(|(k, v)| (k, ByteString(v.into_bytes())))
                        .collect(),
                ),
                ..Secret::default()
            });
            SecretRef {
                name,
                namespace: None,
            }
        });
        targets.push(PoolTarget {
            type_: target.type_,
            description: target.description,
            masters: target.masters.into_iter().map(host_port).collect(),
            options,
            secret_ref,
        });
    }
    let spec = PoolSpec {
        description: pool.description,
        attributes: pool
            .attributes
            .into_iter()
            .map(|(k, v)| (k, text(v)))
            .collect(),
        ns_records: pool
            .ns_records
            .into_iter()
            .map(|r| PoolNsRecord {
                hostname: r.hostname,
                priority: r.priority,
            })
            .collect(),
        nameservers: pool.nameservers.into_iter().map(host_port).collect(),
        targets,
        also_notifies: pool.also_notifies.into_iter().map(host_port).collect(),
    };
    out.pools.push(Pool::new(&pool.name, spec));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOLS: &str = include_str!("../tests/pools.yaml");

    #[test]
    fn designates_pools_yaml_becomes_pools_and_secrets() {
        let imported = import(POOLS, "designate").unwrap();
        let names: Vec<String> = imported
            .pools
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["pool-1", "pool-2"]);
        let pdns = &imported.pools[0].spec;
        assert_eq!(pdns.attributes["internal"], "true");
        assert_eq!(pdns.ns_records.len(), 2);
        assert_eq!(pdns.also_notifies[0].host, "192.0.2.4");
        let target = &pdns.targets[0];
        assert_eq!(target.options["api_endpoint"], "http://192.0.2.1:8081");
        // The API token left the Pool for a Secret it references.
        assert!(!target.options.contains_key("api_token"));
        let secret_ref = target.secret_ref.as_ref().unwrap();
        assert_eq!(secret_ref.name, "designate-pool-pool-1-0");
        let secret = &imported.secrets[0];
        assert_eq!(secret.metadata.namespace.as_deref(), Some("designate"));
        assert_eq!(secret.data.as_ref().unwrap()["api_token"].0, b"api_key");
        // BIND: options as text, no credentials, no Secret.
        let bind = &imported.pools[1].spec.targets[0];
        assert_eq!(bind.options["rndc_port"], "953");
        assert!(bind.secret_ref.is_none());
        assert_eq!(imported.secrets.len(), 1);
        assert!(
            imported.notes.iter().any(|n| n.contains("cf2e8eab")),
            "{:?}",
            imported.notes
        );
    }

    #[test]
    fn what_is_not_a_pools_yaml_is_refused() {
        assert_eq!(
            import("- name: x\n  bogus: 1\n", "ns")
                .unwrap_err()
                .reason(),
            "InvalidPoolsYaml"
        );
        assert_eq!(
            import("- name: x\n", "ns").unwrap_err().reason(),
            "InvalidPool"
        );
        assert!(import("", "ns").unwrap().pools.is_empty());
    }
}
