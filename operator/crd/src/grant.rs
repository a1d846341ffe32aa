//! Privileges granted to a Zone by the REST API, checked by the controllers.
//!
//! Designate lets some callers (admins, by policy) create a zone Central
//! would refuse a member: a blacklisted name (`use_blacklisted_zone`), a TTL
//! below `min_ttl` (`use_low_ttl`). The REST shim checks the caller, then
//! writes the Zone; the controllers plan it again later without the caller.
//! So the shim annotates the Zone with what it granted and an HMAC-SHA256 of
//! (namespace, object name, zone name, privileges) under a key only the
//! operator holds (a Secret in its namespace). The controllers grant what a
//! valid signature covers and nothing else: an annotation a kubectl user
//! wrote, or copied from another zone, grants nothing.
//!
//! Pure: the key is loaded by the caller.

use std::collections::BTreeMap;
use std::fmt;

use designate_central::Privileges;
use kube::Resource;
use kube::api::ObjectMeta;
use ring::hmac;

use crate::Zone;

/// The privileges granted, e.g. `use_blacklisted_zone,use_low_ttl`.
pub const PRIVILEGES_ANNOTATION: &str = "designate.openstack.org/privileges";

/// Hex HMAC-SHA256 over the zone's identity and [`PRIVILEGES_ANNOTATION`].
pub const SIGNATURE_ANNOTATION: &str = "designate.openstack.org/privileges-signature";

/// The Secret, in the operator's namespace, that holds the key.
pub const KEY_SECRET: &str = "designate-grant-key";

/// The key's entry in [`KEY_SECRET`]'s data.
pub const KEY_FIELD: &str = "key";

/// Length of a new key, and the least a key may have (SHA-256's output).
pub const KEY_LEN: usize = 32;

/// The privileges a grant may carry, by Designate's policy names.
const USE_BLACKLISTED_ZONE: &str = "use_blacklisted_zone";
const USE_LOW_TTL: &str = "use_low_ttl";

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("the grant key must be at least {KEY_LEN} bytes, got {0}")]
pub struct KeyTooShort(pub usize);

/// The HMAC key. Its bytes are never shown (`Debug` prints none).
#[derive(Clone)]
pub struct GrantKey(hmac::Key);

impl GrantKey {
    pub fn new(bytes: &[u8]) -> Result<Self, KeyTooShort> {
        if bytes.len() < KEY_LEN {
            return Err(KeyTooShort(bytes.len()));
        }
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, bytes)))
    }
}

impl fmt::Debug for GrantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GrantKey(<redacted>)")
    }
}

/// The privileges worth granting: those beyond a member's that the
/// controllers check (`edit_managed_records` is REST-only).
pub fn grantable(privileges: Privileges) -> Privileges {
    Privileges {
        low_ttl: privileges.low_ttl,
        blacklisted_zone: privileges.blacklisted_zone,
        edit_managed_records: false,
    }
}

/// The annotation text of `privileges` (sorted, comma-separated).
fn privileges_text(privileges: Privileges) -> String {
    let mut names = Vec::new();
    if privileges.blacklisted_zone {
        names.push(USE_BLACKLISTED_ZONE);
    }
    if privileges.low_ttl {
        names.push(USE_LOW_TTL);
    }
    names.join(",")
}

fn parse_privileges(text: &str) -> Privileges {
    let mut privileges = Privileges::default();
    for name in text.split(',').map(str::trim) {
        match name {
            USE_BLACKLISTED_ZONE => privileges.blacklisted_zone = true,
            USE_LOW_TTL => privileges.low_ttl = true,
            _ => {}
        }
    }
    privileges
}

/// What is signed: each field length-prefixed, so no two tuples share a text.
fn message(namespace: &str, name: &str, zone_name: &str, privileges: &str) -> Vec<u8> {
    let mut text = String::from("designate-grant-v1\n");
    for field in [namespace, name, zone_name, privileges] {
        text.push_str(&format!("{}:{field}\n", field.len()));
    }
    text.into_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The annotations that grant `privileges` (only the [`grantable`] ones) to
/// the Zone `namespace/name` of DNS name `zone_name`; `None` when there is
/// nothing beyond a member's to grant.
pub fn annotations(
    key: &GrantKey,
    namespace: &str,
    name: &str,
    zone_name: &str,
    privileges: Privileges,
) -> Option<BTreeMap<String, String>> {
    let privileges = grantable(privileges);
    if privileges == Privileges::default() {
        return None;
    }
    let text = privileges_text(privileges);
    let tag = hmac::sign(&key.0, &message(namespace, name, zone_name, &text));
    Some(BTreeMap::from([
        (PRIVILEGES_ANNOTATION.to_string(), text),
        (SIGNATURE_ANNOTATION.to_string(), hex(tag.as_ref())),
    ]))
}

/// Why a zone's grant was not honoured, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No key is configured: nothing can be verified.
    NoKey,
    /// A privileges annotation without a signature, or a malformed one.
    Unsigned,
    /// The signature does not cover this zone and these privileges.
    BadSignature,
}

/// The privileges the zone's annotations grant: those a valid signature
/// covers, else none (with why, when there was a claim at all).
pub fn verified(key: Option<&GrantKey>, zone: &Zone) -> (Privileges, Option<Refusal>) {
    let annotations = zone.metadata.annotations.as_ref();
    let Some(text) = annotations.and_then(|a| a.get(PRIVILEGES_ANNOTATION)) else {
        return (Privileges::default(), None);
    };
    let Some(key) = key else {
        return (Privileges::default(), Some(Refusal::NoKey));
    };
    let Some(tag) = annotations
        .and_then(|a| a.get(SIGNATURE_ANNOTATION))
        .and_then(|s| unhex(s))
    else {
        return (Privileges::default(), Some(Refusal::Unsigned));
    };
    let signed = message(
        zone.metadata.namespace.as_deref().unwrap_or_default(),
        zone.metadata.name.as_deref().unwrap_or_default(),
        &zone.spec.name,
        text,
    );
    // Constant-time comparison.
    match hmac::verify(&key.0, &signed, &tag) {
        Ok(()) => (grantable(parse_privileges(text)), None),
        Err(_) => (Privileges::default(), Some(Refusal::BadSignature)),
    }
}

/// A Zone abandoned by an admin (Designate's `tasks/abandon`): deleted
/// without being taken off its nameservers. Signed like a grant and bound
/// to the zone's uid, so that no kubectl user can abandon a zone (which
/// would leave it served) nor copy the mark onto another.
pub const ABANDON_ANNOTATION: &str = "designate.openstack.org/abandon-signature";

/// A Zone whose transfer to another project committed: its copy there is
/// the zone now (same id, same published data), so this object is hidden,
/// left alone by the controllers and deleted without touching nameservers
/// or storage. Signed and bound to the uid like [`ABANDON_ANNOTATION`].
/// On a ZoneShare: deleted because its copy went with the zone (no
/// `dns.zone.unshare`).
pub const MOVED_ANNOTATION: &str = "designate.openstack.org/moved-signature";

/// On the copies a transfer makes in the accepting namespace (value: the
/// accept's name) until the move commits: hidden from the REST API and left
/// alone by the controllers. Not signed: it only ever hides an object.
pub const TRANSFER_ANNOTATION: &str = "designate.openstack.org/transfer";

/// The Designate id of a Zone or Recordset that keeps an id it had before
/// a move (a transfer to another project); the uid otherwise.
pub const ID_ANNOTATION: &str = "designate.openstack.org/id";

/// Hex HMAC-SHA256 over (kind, namespace, name, [`ID_ANNOTATION`]): an id
/// holds only where the operator wrote it.
pub const ID_SIGNATURE_ANNOTATION: &str = "designate.openstack.org/id-signature";

/// The marks an object's deletion may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Abandon,
    Moved,
}

impl Mark {
    const fn annotation(self) -> &'static str {
        match self {
            Self::Abandon => ABANDON_ANNOTATION,
            Self::Moved => MOVED_ANNOTATION,
        }
    }

    /// What the mark signs (a privileges text never reads these words).
    fn message(self, meta: &ObjectMeta) -> Vec<u8> {
        message(
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default(),
            meta.uid.as_deref().unwrap_or_default(),
            match self {
                Self::Abandon => "abandon",
                Self::Moved => "moved",
            },
        )
    }
}

/// The annotation that puts `mark` on `object`.
pub fn mark_annotation<K: Resource>(key: &GrantKey, object: &K, mark: Mark) -> (String, String) {
    let tag = hmac::sign(&key.0, &mark.message(object.meta()));
    (mark.annotation().to_string(), hex(tag.as_ref()))
}

/// Whether `object` carries a valid `mark`.
pub fn marked<K: Resource>(key: Option<&GrantKey>, object: &K, mark: Mark) -> bool {
    let tag = object
        .meta()
        .annotations
        .as_ref()
        .and_then(|a| a.get(mark.annotation()))
        .and_then(|s| unhex(s));
    match (key, tag) {
        (Some(key), Some(tag)) => hmac::verify(&key.0, &mark.message(object.meta()), &tag).is_ok(),
        _ => false,
    }
}

/// The annotation that marks `zone` abandoned.
pub fn abandon_annotation(key: &GrantKey, zone: &Zone) -> (String, String) {
    mark_annotation(key, zone, Mark::Abandon)
}

/// Whether `zone` carries a valid abandon mark.
pub fn abandoned(key: Option<&GrantKey>, zone: &Zone) -> bool {
    marked(key, zone, Mark::Abandon)
}

/// Whether a transfer's copy waits for its move to commit.
pub fn in_transfer(meta: &ObjectMeta) -> bool {
    meta.annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(TRANSFER_ANNOTATION))
}

fn id_message(kind: &str, namespace: &str, name: &str, id: &str) -> Vec<u8> {
    message(namespace, name, id, &format!("id:{kind}"))
}

/// The annotations that give the `kind` object `namespace/name` the
/// Designate id `id`.
pub fn id_annotations(
    key: &GrantKey,
    kind: &str,
    namespace: &str,
    name: &str,
    id: &str,
) -> [(String, String); 2] {
    let tag = hmac::sign(&key.0, &id_message(kind, namespace, name, id));
    [
        (ID_ANNOTATION.to_string(), id.to_string()),
        (ID_SIGNATURE_ANNOTATION.to_string(), hex(tag.as_ref())),
    ]
}

/// Drops an id annotation the operator did not sign for this object (a
/// kubectl user's, or one copied from elsewhere), so that every reader
/// downstream may take [`DesignateId::designate_id`] as it is. True when
/// one was dropped.
pub fn drop_unsigned_id<K: Resource<DynamicType = ()>>(
    key: Option<&GrantKey>,
    object: &mut K,
) -> bool {
    let kind = K::kind(&());
    let meta = object.meta_mut();
    let Some(annotations) = meta.annotations.as_mut() else {
        return false;
    };
    let Some(id) = annotations.get(ID_ANNOTATION) else {
        return false;
    };
    let valid = match (
        key,
        annotations
            .get(ID_SIGNATURE_ANNOTATION)
            .and_then(|s| unhex(s)),
    ) {
        (Some(key), Some(tag)) => {
            let signed = id_message(
                &kind,
                meta.namespace.as_deref().unwrap_or_default(),
                meta.name.as_deref().unwrap_or_default(),
                id,
            );
            hmac::verify(&key.0, &signed, &tag).is_ok()
        }
        _ => false,
    };
    if !valid {
        annotations.remove(ID_ANNOTATION);
        annotations.remove(ID_SIGNATURE_ANNOTATION);
    }
    !valid
}

/// The id Designate knows an object by.
pub trait DesignateId {
    fn designate_id(&self) -> String;
}

impl<K: Resource> DesignateId for K {
    /// [`ID_ANNOTATION`] when the object has one (checked on the way in by
    /// [`drop_unsigned_id`]), else the uid.
    fn designate_id(&self) -> String {
        id_of(self.meta()).to_owned()
    }
}

/// [`DesignateId::designate_id`] from an object's metadata.
pub fn id_of(meta: &ObjectMeta) -> &str {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(ID_ANNOTATION))
        .or(meta.uid.as_ref())
        .map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ZoneSpec;

    #[test]
    fn abandon_marks_hold_for_their_zone_only() {
        let mut marked = zone("p1", "a-org", "a.org.");
        marked.metadata.uid = Some("uid-1".into());
        let (name, value) = abandon_annotation(&key(1), &marked);
        marked
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(name.clone(), value.clone());
        assert!(abandoned(Some(&key(1)), &marked));
        assert!(!abandoned(Some(&key(2)), &marked), "another key");
        assert!(!abandoned(None, &marked), "no key");
        // Copied onto a zone made again under the same name: another uid.
        let mut again = marked.clone();
        again.metadata.uid = Some("uid-2".into());
        assert!(!abandoned(Some(&key(1)), &again));
        let mut forged = zone("p1", "a-org", "a.org.");
        forged.metadata.uid = Some("uid-1".into());
        forged
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(name, "00".repeat(32));
        assert!(!abandoned(Some(&key(1)), &forged));
    }

    fn key(byte: u8) -> GrantKey {
        GrantKey::new(&[byte; KEY_LEN]).unwrap()
    }

    fn zone(namespace: &str, name: &str, zone_name: &str) -> Zone {
        let mut zone = Zone::new(
            name,
            ZoneSpec {
                name: zone_name.into(),
                ..Default::default()
            },
        );
        zone.metadata.namespace = Some(namespace.into());
        zone
    }

    const ADMIN: Privileges = Privileges {
        low_ttl: true,
        blacklisted_zone: true,
        edit_managed_records: true,
    };

    fn granted(key: &GrantKey, namespace: &str, name: &str, zone_name: &str) -> Zone {
        let mut zone = zone(namespace, name, zone_name);
        zone.metadata.annotations = annotations(key, namespace, name, zone_name, ADMIN);
        zone
    }

    #[test]
    fn a_signed_grant_is_honoured() {
        let key = key(1);
        let zone = granted(&key, "p1", "example.org", "example.org.");
        assert_eq!(
            zone.metadata.annotations.as_ref().unwrap()[PRIVILEGES_ANNOTATION],
            "use_blacklisted_zone,use_low_ttl"
        );
        let (privileges, refusal) = verified(Some(&key), &zone);
        assert_eq!(refusal, None);
        assert_eq!(privileges, grantable(ADMIN));
        assert!(!privileges.edit_managed_records);
    }

    #[test]
    fn nothing_to_grant_writes_nothing() {
        assert_eq!(
            annotations(&key(1), "p", "n", "z.", Privileges::default()),
            None
        );
        let only_managed = Privileges {
            edit_managed_records: true,
            ..Default::default()
        };
        assert_eq!(annotations(&key(1), "p", "n", "z.", only_managed), None);
        assert_eq!(
            verified(Some(&key(1)), &zone("p", "n", "z.")),
            (Privileges::default(), None)
        );
    }

    #[test]
    fn copied_forged_or_foreign_grants_give_nothing() {
        let key = key(1);
        let original = granted(&key, "p1", "example.org", "example.org.");
        let none = Privileges::default();
        // Copied to another namespace, object or zone name.
        for (ns, name, zone_name) in [
            ("p2", "example.org", "example.org."),
            ("p1", "other", "example.org."),
            ("p1", "example.org", "other.org."),
        ] {
            let mut copy = zone(ns, name, zone_name);
            copy.metadata.annotations = original.metadata.annotations.clone();
            assert_eq!(
                verified(Some(&key), &copy),
                (none, Some(Refusal::BadSignature))
            );
        }
        // Signed with another key.
        let foreign = granted(&self::key(2), "p1", "example.org", "example.org.");
        assert_eq!(
            verified(Some(&key), &foreign).1,
            Some(Refusal::BadSignature)
        );
        // Privileges widened after signing.
        let mut widened = zone("p1", "n", "example.org.");
        widened.metadata.annotations = annotations(
            &key,
            "p1",
            "n",
            "example.org.",
            Privileges {
                low_ttl: true,
                ..none
            },
        );
        widened.metadata.annotations.as_mut().unwrap().insert(
            PRIVILEGES_ANNOTATION.into(),
            "use_low_ttl,use_blacklisted_zone".into(),
        );
        assert_eq!(verified(Some(&key), &widened).0, none);
        // Written by hand.
        let mut forged = zone("p1", "n", "example.org.");
        forged.metadata.annotations = Some(BTreeMap::from([
            (PRIVILEGES_ANNOTATION.into(), "use_blacklisted_zone".into()),
            (SIGNATURE_ANNOTATION.into(), "00".repeat(32)),
        ]));
        assert_eq!(verified(Some(&key), &forged).0, none);
        forged
            .metadata
            .annotations
            .as_mut()
            .unwrap()
            .remove(SIGNATURE_ANNOTATION);
        assert_eq!(
            verified(Some(&key), &forged),
            (none, Some(Refusal::Unsigned))
        );
        assert_eq!(verified(None, &original), (none, Some(Refusal::NoKey)));
    }

    #[test]
    fn fields_cannot_run_into_each_other() {
        assert_ne!(message("ab", "c", "z.", ""), message("a", "bc", "z.", ""));
    }

    #[test]
    fn short_keys_are_refused_and_never_shown() {
        assert!(GrantKey::new(&[0; 16]).is_err());
        assert_eq!(format!("{:?}", key(7)), "GrantKey(<redacted>)");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None);
    }
}
