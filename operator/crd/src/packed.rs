//! Objects kept as their JSON, packed with LZ4 against a recent object of
//! the same kind. Objects of a kind share most of their text (keys,
//! annotations, conditions), so a Recordset of ~720 bytes keeps ~130; it is
//! unpacked when read (a few microseconds), never kept as a tree or a typed
//! copy. The embedded API server keeps every object so; the controllers and
//! the REST mirrors keep the many (Recordsets) so.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How often a kind's dictionary is renewed, in objects packed: it
/// follows what the kind's objects look like now (a status written after
/// the first creates, a condition added by a newer operator).
const RENEW_EVERY: u32 = 1024;
/// An object larger than this does not become a dictionary: packing hashes
/// the whole dictionary first.
const DICTIONARY_MAX: usize = 4096;

/// One object's JSON, shared by every holder.
#[derive(Clone, Debug)]
pub struct PackedJson {
    /// The JSON; with a dictionary, its LZ4 block (size prepended).
    bytes: Arc<[u8]>,
    dictionary: Option<Arc<[u8]>>,
}

impl PackedJson {
    /// An object kept as it is (not packed, or as a test builds it).
    pub fn new(object: &Value) -> Self {
        Self::plain(&object.to_string())
    }

    fn plain(json: &str) -> Self {
        Self {
            bytes: json.as_bytes().into(),
            dictionary: None,
        }
    }

    /// The object's JSON.
    pub fn json(&self) -> Cow<'_, str> {
        match self.bytes() {
            Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
            // Packed here from a `str`: it unpacks, into UTF-8.
            Cow::Owned(bytes) => {
                Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| "null".into()))
            }
        }
    }

    /// The object's JSON as bytes, unpacked.
    fn bytes(&self) -> Cow<'_, [u8]> {
        match &self.dictionary {
            None => Cow::Borrowed(&self.bytes),
            Some(dictionary) => Cow::Owned(
                lz4_flex::block::decompress_size_prepended_with_dict(&self.bytes, dictionary)
                    .unwrap_or_else(|_| b"null".to_vec()),
            ),
        }
    }

    /// The object, decoded into `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.bytes())
    }

    /// The object, parsed.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.json()).unwrap_or(Value::Null)
    }

    /// The bytes it keeps in memory.
    pub fn kept(&self) -> usize {
        self.bytes.len()
    }
}

impl PartialEq for PackedJson {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Eq for PackedJson {}

/// One kind's current dictionary: one of its objects, packed itself against
/// nothing. Objects keep the dictionary they were packed with, so renewing
/// it never repacks them.
#[derive(Debug, Default)]
pub struct Packer {
    dictionary: Option<Arc<[u8]>>,
    /// Objects packed since it was chosen.
    used: u32,
}

impl Packer {
    /// `json`, an object of this packer's kind, packed.
    pub fn pack(&mut self, json: &str) -> PackedJson {
        let renew = self.dictionary.is_none() || self.used >= RENEW_EVERY;
        if renew && json.len() <= DICTIONARY_MAX {
            self.dictionary = Some(json.as_bytes().into());
            self.used = 0;
            return PackedJson::plain(json);
        }
        let Some(dictionary) = &self.dictionary else {
            return PackedJson::plain(json);
        };
        self.used += 1;
        let packed = lz4_flex::block::compress_prepend_size_with_dict(json.as_bytes(), dictionary);
        if packed.len() >= json.len() {
            return PackedJson::plain(json);
        }
        PackedJson {
            bytes: packed.into(),
            dictionary: Some(dictionary.clone()),
        }
    }
}

/// A typed object kept packed, with what tells its version apart without
/// unpacking it.
pub struct Packed<K> {
    json: PackedJson,
    /// A digest of its uid and resource version.
    version: u64,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Packed<K> {
    fn clone(&self) -> Self {
        Self {
            json: self.json.clone(),
            version: self.version,
            kind: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Packed<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packed")
            .field("kept", &self.json.kept())
            .finish()
    }
}

impl<K: Resource + Serialize + DeserializeOwned> Packed<K> {
    /// `object`, packed by `packer`.
    pub fn pack(object: &K, packer: &mut Packer) -> Self {
        // A derived `Serialize` of a CRD does not fail.
        let json = serde_json::to_string(object).unwrap_or_else(|_| "null".into());
        Self {
            json: packer.pack(&json),
            version: version_of(object),
            kind: PhantomData,
        }
    }

    /// The object. It was one when packed: it reads back as one.
    pub fn unpack(&self) -> K {
        self.json.decode().expect("a packed object reads back")
    }

    /// Whether `object` is the very object and version this one holds.
    pub fn is_version_of(&self, object: &K) -> bool {
        self.version != 0 && self.version == version_of(object)
    }

    /// Whether both hold the same object at the same version.
    pub fn same_version(&self, other: &Self) -> bool {
        self.version != 0 && self.version == other.version
    }

    /// The bytes it keeps in memory.
    pub fn kept(&self) -> usize {
        self.json.kept()
    }
}

/// A digest of an object's uid and resource version; 0 without either.
fn version_of<K: Resource>(object: &K) -> u64 {
    let meta = object.meta();
    let (Some(uid), Some(version)) = (&meta.uid, &meta.resource_version) else {
        return 0;
    };
    // The uid, a separator no uid holds, the version.
    crate::names::fnv1a(format!("{uid}\0{version}").as_bytes()).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Recordset, RecordsetSpec};
    use serde_json::json;

    fn recordset_json(i: usize) -> String {
        json!({
            "apiVersion": "designate.openstack.org/v1alpha1",
            "kind": "Recordset",
            "metadata": {"name": format!("www-{i}"), "namespace": "tenant-a",
                "uid": format!("00000000-0000-0000-0000-{i:012}"), "resourceVersion": i.to_string()},
            "spec": {"zoneRef": "example-com", "name": format!("www-{i}.example.com."),
                "type": "A", "records": [format!("192.0.2.{}", i % 250)]},
            "status": {"status": "ACTIVE", "action": "NONE", "serial": 1_700_000_000 + i},
        })
        .to_string()
    }

    fn recordset(i: usize) -> Recordset {
        serde_json::from_str(&recordset_json(i)).unwrap()
    }

    #[test]
    fn objects_of_a_kind_are_kept_packed_and_read_back_as_written() {
        let mut packer = Packer::default();
        let first = packer.pack(&recordset_json(0));
        assert_eq!(
            first.kept(),
            recordset_json(0).len(),
            "the first is the dictionary"
        );
        for i in 1..50 {
            let json = recordset_json(i);
            let kept = packer.pack(&json);
            assert_eq!(kept.json(), json);
            assert_eq!(kept.value(), serde_json::from_str::<Value>(&json).unwrap());
            assert!(
                kept.kept() * 2 < json.len(),
                "{} of {}",
                kept.kept(),
                json.len()
            );
        }
    }

    #[test]
    fn a_renewed_dictionary_leaves_what_was_packed_before_readable() {
        let mut packer = Packer::default();
        let kept: Vec<(String, PackedJson)> = (0..3 * RENEW_EVERY as usize)
            .map(|i| {
                let json = recordset_json(i);
                let object = packer.pack(&json);
                (json, object)
            })
            .collect();
        for (json, object) in &kept {
            assert_eq!(object.json(), *json);
        }
        let dictionaries_used: std::collections::HashSet<_> = kept
            .iter()
            .filter_map(|(_, o)| o.dictionary.as_ref().map(|d| d.as_ptr()))
            .collect();
        assert_eq!(dictionaries_used.len(), 3);
    }

    #[test]
    fn a_large_object_is_kept_and_does_not_become_the_dictionary() {
        let mut packer = Packer::default();
        let large = json!({"data": "x".repeat(2 * DICTIONARY_MAX)}).to_string();
        let object = packer.pack(&large);
        assert_eq!(object.json(), large);
        let small = packer.pack(r#"{"data":"y"}"#);
        assert!(small.dictionary.is_none(), "it became the dictionary");
        let again = packer.pack(&large);
        assert!(again.kept() < large.len() / 10);
        assert_eq!(again.json(), large);
    }

    #[test]
    fn a_typed_object_reads_back_whole_and_knows_its_version() {
        let mut packer = Packer::default();
        let packed: Vec<Packed<Recordset>> = (0..10)
            .map(|i| Packed::pack(&recordset(i), &mut packer))
            .collect();
        for (i, packed) in packed.iter().enumerate() {
            assert_eq!(
                serde_json::to_value(packed.unpack()).unwrap(),
                serde_json::to_value(recordset(i)).unwrap()
            );
            assert!(packed.is_version_of(&recordset(i)));
        }
        let mut newer = recordset(3);
        newer.metadata.resource_version = Some("99".into());
        assert!(!packed[3].is_version_of(&newer));
        assert!(!packed[3].same_version(&packed[4]));
        let unversioned = Recordset::new("x", RecordsetSpec::default());
        let kept = Packed::pack(&unversioned, &mut packer);
        assert!(
            !kept.is_version_of(&unversioned),
            "no version: never the same"
        );
    }
}
