//! The key that signs the privileges the REST API grants a Zone
//! ([`designate_crd::grant`]): kept in a Secret in the operator's namespace,
//! made with a random key at the first start, read at every later one, so
//! that every replica (REST and controllers) shares it. Its bytes are never
//! logged.

use std::collections::BTreeMap;

use designate_crd::grant::{GrantKey, KEY_FIELD, KEY_LEN, KEY_SECRET};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use ring::rand::{SecureRandom, SystemRandom};
use tracing::info;

use crate::{Error, FIELD_MANAGER};

/// The grant key in `namespace`, made if missing.
pub async fn load_or_create_key(client: &Client, namespace: &str) -> Result<GrantKey, Error> {
    let secrets = Api::<Secret>::namespaced(client.clone(), namespace);
    if let Some(secret) = secrets.get_opt(KEY_SECRET).await? {
        return key_of(&secret);
    }
    let mut bytes = [0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::GrantKey("no random bytes for a new key".into()))?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(KEY_SECRET.into()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_string(),
                "designate-operator".to_string(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            KEY_FIELD.to_string(),
            ByteString(bytes.to_vec()),
        )])),
        type_: Some("Opaque".into()),
        ..Secret::default()
    };
    let params = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PostParams::default()
    };
    match secrets.create(&params, &secret).await {
        Ok(made) => {
            info!(namespace, secret = KEY_SECRET, "made the grant key");
            key_of(&made)
        }
        // Another replica made it first: use theirs.
        Err(kube::Error::Api(e)) if e.code == 409 => key_of(&secrets.get(KEY_SECRET).await?),
        Err(other) => Err(other.into()),
    }
}

fn key_of(secret: &Secret) -> Result<GrantKey, Error> {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(KEY_FIELD))
        .ok_or_else(|| Error::GrantKey(format!("Secret {KEY_SECRET} has no `{KEY_FIELD}`")))?;
    GrantKey::new(&bytes.0).map_err(|e| Error::GrantKey(format!("Secret {KEY_SECRET}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(data: Option<Vec<u8>>) -> Secret {
        Secret {
            data: data.map(|d| BTreeMap::from([(KEY_FIELD.to_string(), ByteString(d))])),
            ..Secret::default()
        }
    }

    #[test]
    fn a_key_is_read_from_its_secret() {
        assert!(key_of(&secret(Some(vec![7; KEY_LEN]))).is_ok());
        let short = key_of(&secret(Some(vec![7; 8]))).unwrap_err();
        assert_eq!(short.reason(), "GrantKeyInvalid");
        // The error names the Secret, never its bytes.
        assert!(!short.to_string().contains("7, 7"));
        assert!(key_of(&secret(None)).is_err());
    }
}
