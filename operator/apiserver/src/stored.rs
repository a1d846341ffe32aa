//! An object as the store keeps it: its JSON, packed with LZ4 against a
//! recent object of the same kind. Objects of a kind share most of their
//! text (keys, annotations, conditions), so a Recordset of ~720 bytes
//! keeps ~130; it is unpacked when a list, a watch or a write reads it
//! (a few microseconds), never parsed into a tree to be kept.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

/// One object's JSON, shared by the store, the watch history and readers.
#[derive(Clone, Debug)]
pub struct ObjectRef {
    /// The JSON; with a dictionary, its LZ4 block (size prepended).
    bytes: Arc<[u8]>,
    dictionary: Option<Arc<[u8]>>,
}

impl ObjectRef {
    /// An object kept as it is (not stored, or as a test builds it).
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
        match &self.dictionary {
            None => String::from_utf8_lossy(&self.bytes),
            Some(dictionary) => {
                // Packed here from a `str`: it unpacks, into UTF-8.
                let bytes =
                    lz4_flex::block::decompress_size_prepended_with_dict(&self.bytes, dictionary)
                        .unwrap_or_else(|_| b"null".to_vec());
                Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| "null".into()))
            }
        }
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

impl PartialEq for ObjectRef {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Eq for ObjectRef {}

/// How often a kind's dictionary is renewed, in objects packed: it
/// follows what the kind's objects look like now (a status written after
/// the first creates, a condition added by a newer operator).
const RENEW_EVERY: u32 = 1024;
/// An object larger than this does not become a dictionary: packing hashes
/// the whole dictionary first.
const DICTIONARY_MAX: usize = 4096;

/// Each kind's current dictionary: one of its objects, packed itself
/// against nothing. Objects keep the dictionary they were packed with, so
/// renewing one never repacks them.
#[derive(Debug, Default)]
pub(crate) struct Dictionaries(HashMap<String, Dictionary>);

#[derive(Debug)]
struct Dictionary {
    text: Arc<[u8]>,
    /// Objects packed since it was chosen.
    used: u32,
}

impl Dictionaries {
    /// `json`, an object of kind `type_key`, as the store keeps it.
    pub fn pack(&mut self, type_key: &str, json: &str) -> ObjectRef {
        let renew = match self.0.get(type_key) {
            None => true,
            Some(current) => current.used >= RENEW_EVERY,
        };
        if renew && json.len() <= DICTIONARY_MAX {
            self.0.insert(
                type_key.to_string(),
                Dictionary {
                    text: json.as_bytes().into(),
                    used: 0,
                },
            );
            return ObjectRef::plain(json);
        }
        let Some(dictionary) = self.0.get_mut(type_key) else {
            return ObjectRef::plain(json);
        };
        dictionary.used += 1;
        let packed =
            lz4_flex::block::compress_prepend_size_with_dict(json.as_bytes(), &dictionary.text);
        if packed.len() >= json.len() {
            return ObjectRef::plain(json);
        }
        ObjectRef {
            bytes: packed.into(),
            dictionary: Some(dictionary.text.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recordset(i: usize) -> String {
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

    #[test]
    fn objects_of_a_kind_are_kept_packed_and_read_back_as_written() {
        let mut dictionaries = Dictionaries::default();
        let first = dictionaries.pack("recordsets", &recordset(0));
        assert_eq!(
            first.kept(),
            recordset(0).len(),
            "the first is the dictionary"
        );
        for i in 1..50 {
            let json = recordset(i);
            let kept = dictionaries.pack("recordsets", &json);
            assert_eq!(kept.json(), json);
            assert_eq!(kept.value(), serde_json::from_str::<Value>(&json).unwrap());
            assert!(
                kept.kept() * 2 < json.len(),
                "{} of {}",
                kept.kept(),
                json.len()
            );
        }
        // Another kind has a dictionary of its own.
        let other = dictionaries.pack("zones", r#"{"kind":"Zone"}"#);
        assert_eq!(other.json(), r#"{"kind":"Zone"}"#);
    }

    #[test]
    fn a_renewed_dictionary_leaves_what_was_packed_before_readable() {
        let mut dictionaries = Dictionaries::default();
        let kept: Vec<(String, ObjectRef)> = (0..3 * RENEW_EVERY as usize)
            .map(|i| {
                let json = recordset(i);
                let object = dictionaries.pack("recordsets", &json);
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
        let mut dictionaries = Dictionaries::default();
        let large = json!({"data": "x".repeat(2 * DICTIONARY_MAX)}).to_string();
        let object = dictionaries.pack("configmaps", &large);
        assert_eq!(object.json(), large);
        let small = dictionaries.pack("configmaps", r#"{"data":"y"}"#);
        assert!(small.dictionary.is_none(), "it became the dictionary");
        let again = dictionaries.pack("configmaps", &large);
        assert!(again.kept() < large.len() / 10);
        assert_eq!(again.json(), large);
    }
}
