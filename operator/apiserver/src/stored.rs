//! Objects as the store keeps them: their JSON, packed with LZ4 against a
//! recent object of the same kind ([`designate_crd::packed`]), shared by
//! the store, the watch history and readers; unpacked when a list, a watch
//! or a write reads one, never parsed into a tree to be kept.

use std::collections::HashMap;

use designate_crd::packed::Packer;

/// One object's JSON, shared by the store, the watch history and readers.
pub use designate_crd::packed::PackedJson as ObjectRef;

/// Each kind's packer (its current dictionary).
#[derive(Debug, Default)]
pub(crate) struct Dictionaries(HashMap<String, Packer>);

impl Dictionaries {
    /// `json`, an object of kind `type_key`, as the store keeps it.
    pub fn pack(&mut self, type_key: &str, json: &str) -> ObjectRef {
        if let Some(packer) = self.0.get_mut(type_key) {
            return packer.pack(json);
        }
        self.0.entry(type_key.to_string()).or_default().pack(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_packs_against_its_own_objects() {
        let mut dictionaries = Dictionaries::default();
        let recordset = r#"{"kind":"Recordset","spec":{"zoneRef":"example-com","type":"A"}}"#;
        let first = dictionaries.pack("recordsets", recordset);
        assert_eq!(first.kept(), recordset.len(), "the first is the dictionary");
        let zone = r#"{"kind":"Zone"}"#;
        let other = dictionaries.pack("zones", zone);
        assert_eq!(other.json(), zone, "not packed against a Recordset");
        let again = dictionaries.pack("recordsets", recordset);
        assert!(again.kept() < recordset.len());
        assert_eq!(again.json(), recordset);
    }
}
