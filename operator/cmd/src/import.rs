//! `designate-operator import --from URL`: a Designate 23 database's zones,
//! recordsets, shares, TLDs, blacklists, TSIG keys, quotas and pools written
//! as this operator's objects with the same ids (`designate_migrate::import` says
//! what is carried over). Safe to run again: an object already there is
//! left as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use anyhow::{Context, Result};
use designate_crd::grant::{self, DesignateId};
use designate_crd::{Pool, TsigKey, Zone, ZoneShare, share_owners, tsig_secret};
use designate_migrate::import::{self, Places};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Creates in flight at once (zones and recordsets come by the thousand).
const IN_FLIGHT: usize = 32;

/// How many objects of a kind were made, and how many were there already.
#[derive(Default)]
struct Tally {
    made: usize,
    kept: usize,
}

pub async fn run(url: &str, namespace: &str) -> Result<()> {
    let config = kube::Config::infer()
        .await
        .context("no Kubernetes cluster found (kubeconfig or in-cluster)")?;
    let client = Client::try_from(config)?;
    // The key the operator signs ids with: the same Secret it loads.
    let key = designate_controllers::grant::load_or_create_key(&client, namespace).await?;
    let db = designate_migrate::database::read(url).await?;
    let mut notes = Vec::new();

    let pools = Api::<Pool>::all(client.clone());
    let existing: BTreeSet<String> = pools
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    let imported = import::pools(&db, &key, &existing, namespace)?;
    notes.extend(imported.notes);
    let secrets = Api::<Secret>::namespaced(client.clone(), namespace);
    create_all(imported.secrets, |_| secrets.clone()).await?;
    report(
        "pools",
        create_all(imported.pools, |_| pools.clone()).await?,
    );
    let pool_ids: BTreeMap<String, String> = pools
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|mut pool| {
            grant::drop_unsigned_id(Some(&key), &mut pool);
            (pool.name_any(), pool.designate_id())
        })
        .collect();

    let namespaces = project_namespaces(&client, db.projects(), &mut notes).await?;
    let places = Places {
        namespaces: &namespaces,
        pool_ids: &pool_ids,
    };
    let objects = import::objects(&db, &key, &places);
    notes.extend(objects.notes);
    report(
        "TLDs",
        create_all(objects.tlds, |_| Api::all(client.clone())).await?,
    );
    report(
        "blacklists",
        create_all(objects.blacklists, |_| Api::all(client.clone())).await?,
    );
    report(
        "TSIG keys",
        tsigkeys(&client, namespace, objects.tsigkeys).await?,
    );
    report(
        "quotas",
        create_all(objects.quotas, |_| Api::all(client.clone())).await?,
    );
    report(
        "zones",
        create_all(objects.zones, |z| namespaced(&client, z)).await?,
    );
    // After the zones: a share is owned by its zone, by uid.
    let shares = owned_by_zones(&client, objects.shares).await?;
    report(
        "shares",
        create_all(shares, |share| namespaced(&client, share)).await?,
    );
    report(
        "recordsets",
        create_all(objects.recordsets, |rs| namespaced(&client, rs)).await?,
    );
    for note in notes {
        eprintln!("note: {note}");
    }
    Ok(())
}

fn report(kind: &str, tally: Tally) {
    println!(
        "{kind}: {} created, {} already there",
        tally.made, tally.kept
    );
}

/// The API of kind `K` in `object`'s namespace.
fn namespaced<K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>>(
    client: &Client,
    object: &impl Resource,
) -> Api<K> {
    Api::namespaced(
        client.clone(),
        object.meta().namespace.as_deref().unwrap_or_default(),
    )
}

/// Creates each object (`api_of` says where); one that exists is kept.
async fn create_all<K>(objects: Vec<K>, api_of: impl Fn(&K) -> Api<K>) -> Result<Tally>
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
{
    let outcomes: Vec<bool> = futures::stream::iter(objects.into_iter().map(|object| {
        let api = api_of(&object);
        async move { create(&api, &object).await.map(|made| made.is_some()) }
    }))
    .buffered(IN_FLIGHT)
    .try_collect()
    .await?;
    let made = outcomes.iter().filter(|made| **made).count();
    Ok(Tally {
        made,
        kept: outcomes.len() - made,
    })
}

/// The object made, or `None` when one of its name was there already.
async fn create<K>(api: &Api<K>, object: &K) -> Result<Option<K>>
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
{
    let params = PostParams {
        field_manager: Some(designate_controllers::FIELD_MANAGER.into()),
        ..PostParams::default()
    };
    match api.create(&params, object).await {
        Ok(made) => Ok(Some(made)),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(None),
        Err(error) => Err(error).with_context(|| format!("creating {}", object.name_any())),
    }
}

/// The shares with their owner reference to their zone (a share whose zone
/// is not there is left out: the zone was).
async fn owned_by_zones(client: &Client, shares: Vec<ZoneShare>) -> Result<Vec<ZoneShare>> {
    let mut owned = Vec::new();
    for mut share in shares {
        let zones = namespaced::<Zone>(client, &share);
        if let Some(zone) = zones.get_opt(&share.spec.zone_ref).await? {
            share.metadata.owner_references = share_owners(&zone);
            owned.push(share);
        }
    }
    Ok(owned)
}

/// Each key, then its Secret (owned by the key, so written after it; also
/// for a key already there, whose Secret a stopped run may not have
/// written).
async fn tsigkeys(client: &Client, namespace: &str, keys: Vec<(TsigKey, String)>) -> Result<Tally> {
    let api = Api::<TsigKey>::all(client.clone());
    let secrets = Api::<Secret>::namespaced(client.clone(), namespace);
    let mut tally = Tally::default();
    for (key, secret) in keys {
        let made = match create(&api, &key).await? {
            Some(made) => {
                tally.made += 1;
                made
            }
            None => {
                tally.kept += 1;
                api.get(&key.name_any()).await?
            }
        };
        create(&secrets, &tsig_secret(&made, namespace, &secret)).await?;
    }
    Ok(tally)
}

/// Each project's namespace: the one claimed for it, else a new one as the
/// REST API makes them. A project whose namespace name is taken by another
/// namespace is noted and its zones left out.
async fn project_namespaces(
    client: &Client,
    projects: BTreeSet<String>,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, String>> {
    let api = Api::<Namespace>::all(client.clone());
    let listed = api.list(&ListParams::default()).await?.items;
    let claimed: BTreeMap<String, String> = listed
        .iter()
        .filter_map(|ns| {
            designate_rest::tenancy::claimed_project(ns).map(|p| (p.to_string(), ns.name_any()))
        })
        .collect();
    let mut namespaces = BTreeMap::new();
    for project in projects {
        if let Some(name) = claimed.get(&project) {
            namespaces.insert(project, name.clone());
            continue;
        }
        let object = designate_rest::tenancy::namespace_object(&project);
        match create(&api, &object).await? {
            Some(made) => {
                namespaces.insert(project, made.name_any());
            }
            None => notes.push(format!(
                "project {project}: the namespace {} is not the project's",
                object.name_any()
            )),
        }
    }
    Ok(namespaces)
}
