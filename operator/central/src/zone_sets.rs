//! The recordsets a zone holds, indexed for the zone-wide rules (quota
//! counts, one set per name and type, CNAME placement), so that checking one
//! recordset against the others costs the same in a zone of ten sets and in
//! one of a hundred thousand.

use std::collections::HashMap;

use crate::model::Rrset;

/// A zone's recordsets in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct ZoneSets {
    sets: Vec<Rrset>,
    by_id: HashMap<String, usize>,
    /// By lowercased name: names compare case-insensitively, as in
    /// Designate's database.
    by_name: HashMap<String, Vec<usize>>,
    /// Records of the sets not managed by Central (what quotas count).
    records: usize,
}

impl ZoneSets {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            sets: Vec::with_capacity(capacity),
            by_id: HashMap::with_capacity(capacity),
            by_name: HashMap::with_capacity(capacity),
            records: 0,
        }
    }

    /// Adds a set; a set with an id already held replaces nothing, it is
    /// one more (callers add each id once). A set not yet made has an empty
    /// id: it is none of the others.
    pub fn push(&mut self, rrset: Rrset) {
        let at = self.sets.len();
        if !rrset.id.is_empty() {
            self.by_id.insert(rrset.id.clone(), at);
        }
        self.by_name
            .entry(rrset.name.to_ascii_lowercase())
            .or_default()
            .push(at);
        if !rrset.managed {
            self.records += rrset.records.len();
        }
        self.sets.push(rrset);
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Rrset> {
        self.sets.iter()
    }

    pub fn get(&self, id: &str) -> Option<&Rrset> {
        self.by_id.get(id).map(|&at| &self.sets[at])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The sets named `name` (any case) but the one with id `except`.
    pub(crate) fn named_except<'a>(
        &'a self,
        name: &str,
        except: &'a str,
    ) -> impl Iterator<Item = &'a Rrset> + 'a {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .map(|&at| &self.sets[at])
            .filter(move |set| except.is_empty() || set.id != except)
    }

    /// How many sets there are but the one with id `except`.
    pub(crate) fn count_except(&self, except: &str) -> usize {
        self.sets.len() - usize::from(self.contains(except))
    }

    /// The unmanaged sets' records but those of the set with id `except`.
    pub(crate) fn records_except(&self, except: &str) -> usize {
        let own = self
            .get(except)
            .filter(|set| !set.managed)
            .map_or(0, |set| set.records.len());
        self.records - own
    }
}

impl From<Vec<Rrset>> for ZoneSets {
    fn from(sets: Vec<Rrset>) -> Self {
        sets.into_iter().collect()
    }
}

impl FromIterator<Rrset> for ZoneSets {
    fn from_iter<I: IntoIterator<Item = Rrset>>(sets: I) -> Self {
        let mut zone_sets = Self::default();
        for set in sets {
            zone_sets.push(set);
        }
        zone_sets
    }
}

impl<'a> IntoIterator for &'a ZoneSets {
    type Item = &'a Rrset;
    type IntoIter = std::slice::Iter<'a, Rrset>;

    fn into_iter(self) -> Self::IntoIter {
        self.sets.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(id: &str, name: &str, type_: &str, records: usize, managed: bool) -> Rrset {
        Rrset {
            id: id.into(),
            name: name.into(),
            type_: type_.into(),
            ttl: None,
            records: (0..records).map(|i| format!("192.0.2.{i}")).collect(),
            description: None,
            managed,
        }
    }

    #[test]
    fn counts_and_names_leave_the_set_itself_out() {
        let sets = ZoneSets::from(vec![
            set("soa", "example.com.", "SOA", 1, true),
            set("a", "WWW.example.com.", "A", 2, false),
            set("b", "www.example.com.", "AAAA", 3, false),
        ]);
        assert_eq!((sets.count_except("a"), sets.count_except("new")), (2, 3));
        assert_eq!(
            (sets.records_except("b"), sets.records_except("soa")),
            (2, 5)
        );
        let named: Vec<&str> = sets
            .named_except("www.EXAMPLE.com.", "a")
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(named, ["b"]);
        assert!(sets.contains("soa") && !sets.contains("c"));
    }

    #[test]
    fn sets_not_yet_made_are_all_others() {
        let mut sets = ZoneSets::from(vec![set("a", "www.example.com.", "A", 1, false)]);
        sets.push(set("", "mail.example.com.", "A", 2, false));
        sets.push(set("", "mail.example.com.", "TXT", 3, false));
        assert_eq!((sets.count_except(""), sets.records_except("")), (3, 6));
        assert_eq!(sets.named_except("mail.example.com.", "").count(), 2);
        assert!(!sets.contains(""));
    }
}
