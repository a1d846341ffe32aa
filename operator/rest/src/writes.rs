//! The writes the admin resources (TLDs, blacklists, TSIG keys, pools)
//! share: a create under a readable object name, and a merge patch of
//! Designate's fields stamped with `updated_at`; each answers once the
//! mirror holds the write, so that the client reads its own write.

use std::fmt::Debug;

use kube::Resource;
use kube::api::{Patch, PatchParams, PostParams};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::cache::{FIELD_MANAGER, Mirror};
use crate::error::ApiError;
use crate::fields::{UPDATED_AT, now};

/// Creates `object` under its readable name. A 409 means the name is held:
/// by a duplicate (`taken` says so: a race), or by an object whose unique
/// value changed since; then the server names it from `prefix`.
pub(crate) async fn create_readable<K>(
    objects: &kube::Api<K>,
    mirror: &Mirror<K>,
    mut object: K,
    prefix: &str,
    taken: impl AsyncFnOnce(&K) -> Result<bool, ApiError>,
    duplicate: fn() -> ApiError,
) -> Result<K, ApiError>
where
    K: Resource + Clone + Serialize + DeserializeOwned + Debug,
{
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PostParams::default()
    };
    let made = match objects.create(&params, &object).await {
        Ok(made) => made,
        Err(kube::Error::Api(e)) if e.code == 409 => {
            if taken(&object).await? {
                return Err(duplicate());
            }
            object.meta_mut().name = None;
            object.meta_mut().generate_name = Some(format!("{prefix}-"));
            objects.create(&params, &object).await?
        }
        Err(error) => return Err(error.into()),
    };
    mirror
        .wait_for(
            made.meta().uid.as_deref().unwrap_or_default(),
            made.meta().resource_version.as_deref(),
        )
        .await;
    Ok(made)
}

/// A merge patch of the object `name` (Designate id `id`): `spec` fields
/// and `annotations`, with `updated_at` now. Gone meanwhile: `not_found`.
pub(crate) async fn merge_patch<K>(
    objects: &kube::Api<K>,
    mirror: &Mirror<K>,
    (id, name): (&str, &str),
    mut annotations: Map<String, Value>,
    spec: Map<String, Value>,
    not_found: fn() -> ApiError,
) -> Result<K, ApiError>
where
    K: Resource + Clone + serde::Serialize + DeserializeOwned + Debug,
{
    annotations.insert(UPDATED_AT.into(), json!(now()));
    let patch = json!({
        "metadata": {"annotations": annotations},
        "spec": spec,
    });
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    let patched = match objects.patch(name, &params, &Patch::Merge(&patch)).await {
        Ok(patched) => patched,
        Err(kube::Error::Api(e)) if e.code == 404 => return Err(not_found()),
        Err(error) => return Err(error.into()),
    };
    mirror
        .wait_for(id, patched.meta().resource_version.as_deref())
        .await;
    Ok(patched)
}
