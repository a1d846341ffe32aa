//! Designate's list semantics, pure: `limit`, `marker`, `sort_key`,
//! `sort_dir`, per-collection filters with `*` wildcards, `links` and
//! `metadata.total_count`. Items are filtered and sorted as light views;
//! only the page returned is rendered.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use serde_json::{Value, json};

use crate::error::ApiError;

/// `[service:api] default_limit_v2` and `max_limit_v2`.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 1000;

/// A value an item is filtered and sorted by.
#[derive(Clone, Debug, PartialEq)]
pub enum Field<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    /// Sorts by position in a list (MySQL `ENUM` columns sort by their
    /// declaration order, not alphabetically).
    Enum(&'a str, &'static [&'static str]),
    /// Several values, one of which must match a filter (recordset `data`).
    Many(Vec<&'a str>),
}

/// What a list endpoint lists.
pub trait Listed {
    fn id(&self) -> &str;
    fn field(&self, key: &str) -> Field<'_>;
}

/// A collection's allowed sort keys and filters (designate.md §0.3).
pub struct Collection {
    pub sort_keys: &'static [&'static str],
    pub filters: &'static [&'static str],
}

pub const ZONES: Collection = Collection {
    sort_keys: &[
        "created_at",
        "id",
        "updated_at",
        "name",
        "tenant_id",
        "serial",
        "ttl",
        "status",
    ],
    filters: &["name", "type", "email", "status", "description", "ttl"],
};

pub const RECORDSETS: Collection = Collection {
    sort_keys: &[
        "created_at",
        "id",
        "updated_at",
        "zone_id",
        "tenant_id",
        "name",
        "type",
        "ttl",
        "records",
    ],
    filters: &["name", "type", "ttl", "data", "status", "description"],
};

pub const CROSS_ZONE_RECORDSETS: Collection = Collection {
    sort_keys: &[
        "created_at",
        "updated_at",
        "zone_id",
        "tenant_id",
        "name",
        "type",
        "ttl",
    ],
    filters: RECORDSETS.filters,
};

pub const POOLS: Collection = Collection {
    sort_keys: &["created_at", "id", "updated_at", "name"],
    filters: &["name"],
};

pub const SHARES: Collection = Collection {
    sort_keys: &["created_at", "updated_at"],
    filters: &["target_project_id"],
};

pub const TASKS: Collection = Collection {
    sort_keys: &["created_at", "id", "updated_at"],
    filters: &["status", "message", "zone_id"],
};

pub const TRANSFERS: Collection = Collection {
    sort_keys: &["created_at", "id", "updated_at"],
    filters: &["status"],
};

pub const TLDS: Collection = Collection {
    sort_keys: &["created_at", "id", "updated_at", "name"],
    filters: &["name"],
};

/// Sort keys the API lets through to storage, which has no such column
/// (`records` of a zone's recordsets): refused there, after the marker.
const UNSORTABLE_KEYS: &[&str] = &["records"];

/// Storage's refusal of a sort key (oslo.db's `InvalidSortKey`, raised
/// without the key).
fn unsortable() -> ApiError {
    ApiError::new(
        400,
        "invalid_sort_key",
        "Sort key supplied is invalid: None",
    )
}

/// Query keys that are not filters.
const PAGING_KEYS: &[&str] = &[
    "limit",
    "marker",
    "sort_key",
    "sort_dir",
    "all_projects",
    "all_tenants",
    "edit_managed_records",
];

/// A parsed list query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub limit: usize,
    pub marker: Option<String>,
    pub sort_key: String,
    pub descending: bool,
    pub filters: Vec<(String, String)>,
}

impl Query {
    /// Parses the query string pairs as Designate does, in its order of
    /// checks.
    pub fn parse(pairs: &[(String, String)], collection: &Collection) -> Result<Self, ApiError> {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let limit = match get("limit") {
            None => DEFAULT_LIMIT,
            Some("max") => MAX_LIMIT,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
                _ => {
                    return Err(ApiError::new(
                        400,
                        "invalid_limit",
                        format!("limit should be an integer between 1 and {MAX_LIMIT}"),
                    ));
                }
            },
        };
        let sort_key = get("sort_key").unwrap_or("created_at");
        if !collection.sort_keys.contains(&sort_key) {
            return Err(ApiError::new(
                400,
                "invalid_sort_key",
                format!(
                    "sort key must be one of [{}]",
                    collection
                        .sort_keys
                        .iter()
                        .map(|k| format!("'{k}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let descending = match get("sort_dir").unwrap_or("asc") {
            "asc" => false,
            "desc" => true,
            _ => {
                return Err(ApiError::new(
                    400,
                    "invalid_sort_dir",
                    "Unknown sort direction, must be 'desc' or 'asc'",
                ));
            }
        };
        let marker = get("marker").map(str::to_string);
        if let Some(marker) = &marker
            && uuid::Uuid::parse_str(marker).is_err()
        {
            return Err(ApiError::bare(400, "invalid_marker"));
        }
        let mut filters: Vec<(String, String)> = Vec::new();
        for (key, value) in pairs
            .iter()
            .filter(|(k, _)| !PAGING_KEYS.contains(&k.as_str()))
        {
            if !collection.filters.contains(&key.as_str()) {
                return Err(ApiError::bad_request(format!("Invalid filters {key}")));
            }
            if filters.iter().any(|(k, _)| k == key) {
                return Err(ApiError::bad_request(format!("Duplicate filters {key}")));
            }
            filters.push((key.clone(), value.clone()));
        }
        Ok(Self {
            limit,
            marker,
            sort_key: sort_key.to_string(),
            descending,
            filters,
        })
    }
}

impl Query {
    /// Whether the list is in Designate's default order (`created_at`, then
    /// id) and unfiltered: the order the mirrors keep, so a page costs only
    /// its own items.
    /// The value a filter asks for.
    pub fn filter(&self, key: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn in_creation_order(&self) -> bool {
        self.sort_key == "created_at" && self.filters.is_empty()
    }
}

/// Whether a walk that fills a page of `limit` items goes on.
pub fn until_full<T>(page: &[T], limit: usize) -> ControlFlow<()> {
    if page.len() < limit {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(())
    }
}

/// One page of a list, with the total before paging.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    /// Whether the page is full (Designate then links the next one).
    pub full: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            full: self.full,
        }
    }
}

/// Filters, sorts and pages `items`. Only the page is sorted: the items
/// after the marker are partitioned around the page's last one first, so a
/// page of a large list costs one pass, not a sort of everything.
pub fn page<T: Listed>(mut items: Vec<T>, query: &Query) -> Result<Page<T>, ApiError> {
    items.retain(|item| {
        query
            .filters
            .iter()
            .all(|(key, pattern)| matches(&item.field(key), pattern))
    });
    let total = items.len();
    let order = |a: &T, b: &T| {
        let order = compare(&a.field(&query.sort_key), &b.field(&query.sort_key))
            .then_with(|| a.id().cmp(b.id()));
        if query.descending {
            order.reverse()
        } else {
            order
        }
    };
    if let Some(marker) = &query.marker {
        let at = items
            .iter()
            .position(|item| item.id() == marker)
            .ok_or_else(ApiError::marker_not_found)?;
        let marker = items.swap_remove(at);
        items.retain(|item| order(item, &marker) == Ordering::Greater);
    }
    if UNSORTABLE_KEYS.contains(&query.sort_key.as_str()) {
        return Err(unsortable());
    }
    if items.len() > query.limit {
        items.select_nth_unstable_by(query.limit - 1, order);
        items.truncate(query.limit);
    }
    items.sort_by(order);
    let full = items.len() == query.limit;
    Ok(Page { items, total, full })
}

/// The `links` of a list answer: `self` is the URL asked, `next` the same
/// query with the last item as marker, when the page is full. The query is
/// encoded again as Designate's Python does (`urlencode`: `*` is `%2A`).
pub fn links(
    base: &str,
    path: &str,
    pairs: &[(String, String)],
    next_marker: Option<&str>,
) -> Value {
    let url = |pairs: &[(String, String)]| match encode(pairs) {
        query if query.is_empty() => format!("{base}{path}"),
        query => format!("{base}{path}?{query}"),
    };
    let mut links = json!({ "self": url(pairs) });
    if let Some(marker) = next_marker {
        let mut next = pairs.to_vec();
        match next.iter_mut().find(|(k, _)| k == "marker") {
            Some(pair) => pair.1 = marker.to_string(),
            None => next.push(("marker".into(), marker.to_string())),
        }
        links["next"] = json!(url(&next));
    }
    links
}

/// `urllib.parse.urlencode`: unreserved characters kept, space as `+`.
fn encode(pairs: &[(String, String)]) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b' ');
    let part = |s: &str| {
        percent_encoding::utf8_percent_encode(s, KEEP)
            .to_string()
            .replace(' ', "+")
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", part(k), part(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Designate's filter semantics (MySQL, case-insensitive collation): equal,
/// or SQL `LIKE` when the pattern holds `*`.
fn matches(field: &Field<'_>, pattern: &str) -> bool {
    match field {
        Field::Text(value) => value.is_some_and(|v| like(v, pattern)),
        Field::Enum(value, _) => like(value, pattern),
        Field::Int(value) => value.is_some_and(|v| pattern.trim().parse::<i64>() == Ok(v)),
        Field::Many(values) => values.iter().any(|v| like(v, pattern)),
    }
}

/// `pattern` with `*` as "any run of characters", case-insensitively.
fn like(value: &str, pattern: &str) -> bool {
    let value = value.to_lowercase();
    let pattern = pattern.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return value == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !value.starts_with(first) || value.len() < first.len() + last.len() || !value.ends_with(last)
    {
        return false;
    }
    let mut rest = &value[first.len()..value.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Sort order of MySQL: NULL first, text case-insensitively, enums by
/// declaration order.
fn compare(a: &Field<'_>, b: &Field<'_>) -> Ordering {
    match (a, b) {
        (Field::Text(a), Field::Text(b)) => match (a, b) {
            (Some(a), Some(b)) => fold(a).cmp(fold(b)),
            _ => a.is_some().cmp(&b.is_some()),
        },
        (Field::Int(a), Field::Int(b)) => a.cmp(b),
        (Field::Enum(a, order), Field::Enum(b, _)) => {
            let rank = |v: &str| order.iter().position(|o| *o == v).unwrap_or(order.len());
            rank(a).cmp(&rank(b))
        }
        (Field::Many(a), Field::Many(b)) => a.join(",").cmp(&b.join(",")),
        _ => Ordering::Equal,
    }
}

/// Case-folded bytes, compared without allocating (sorts compare often).
fn fold(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes().map(|b| b.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item(&'static str, &'static str, i64);

    impl Listed for Item {
        fn id(&self) -> &str {
            self.0
        }
        fn field(&self, key: &str) -> Field<'_> {
            match key {
                "name" => Field::Text(Some(self.1)),
                "ttl" | "created_at" => Field::Int(Some(self.2)),
                _ => Field::Text(None),
            }
        }
    }

    fn q(pairs: &[(&str, &str)]) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Query::parse(&pairs, &ZONES)
    }

    fn ids(page: &Page<Item>) -> Vec<&str> {
        page.items.iter().map(|i| i.0).collect()
    }

    const A: &str = "00000000-0000-4000-8000-000000000001";
    const B: &str = "00000000-0000-4000-8000-000000000002";
    const C: &str = "00000000-0000-4000-8000-000000000003";

    fn items() -> Vec<Item> {
        vec![
            Item(C, "page1.org.", 3),
            Item(A, "example.org.", 1),
            Item(B, "Page0.org.", 2),
        ]
    }

    #[test]
    fn pages_follow_the_marker() {
        let first = page(items(), &q(&[("limit", "2")]).unwrap()).unwrap();
        assert_eq!(
            (ids(&first), first.total, first.full),
            (vec![A, B], 3, true)
        );
        let next = page(items(), &q(&[("limit", "2"), ("marker", B)]).unwrap()).unwrap();
        assert_eq!((ids(&next), next.full), (vec![C], false));
    }

    #[test]
    fn wildcards_and_case_follow_mysql() {
        let found = page(items(), &q(&[("name", "page*.org.")]).unwrap()).unwrap();
        assert_eq!(ids(&found), vec![B, C]);
        let sorted = page(
            items(),
            &q(&[("sort_key", "name"), ("sort_dir", "desc")]).unwrap(),
        )
        .unwrap();
        assert_eq!(ids(&sorted), vec![C, B, A]);
    }

    #[test]
    fn bad_queries_get_designates_errors() {
        let error = |pairs: &[(&str, &str)]| q(pairs).unwrap_err().type_;
        assert_eq!(error(&[("limit", "0")]), "invalid_limit");
        assert_eq!(error(&[("limit", "abc")]), "invalid_limit");
        assert_eq!(error(&[("sort_key", "bogus")]), "invalid_sort_key");
        let pairs = [("sort_key".to_string(), "records".to_string())];
        let records = Query::parse(&pairs, &RECORDSETS).unwrap();
        assert_eq!(page(items(), &records).err(), Some(unsortable()));
        assert_eq!(error(&[("sort_dir", "up")]), "invalid_sort_dir");
        assert_eq!(error(&[("marker", "not-a-uuid")]), "invalid_marker");
        assert_eq!(error(&[("bogus", "1")]), "bad_request");
        assert_eq!(q(&[("limit", "5000")]).unwrap().limit, MAX_LIMIT);
        let unknown = page(
            items(),
            &q(&[("marker", "00000000-0000-4000-8000-000000000009")]).unwrap(),
        );
        assert_eq!(unknown.err().unwrap().type_, "marker_not_found");
    }

    #[test]
    fn next_links_replace_the_marker() {
        let pairs = |q: &[(&str, &str)]| -> Vec<(String, String)> {
            q.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let next = links(
            "http://h",
            "/v2/zones",
            &pairs(&[("limit", "2"), ("marker", "x")]),
            Some("y"),
        );
        assert_eq!(next["self"], "http://h/v2/zones?limit=2&marker=x");
        assert_eq!(next["next"], "http://h/v2/zones?limit=2&marker=y");
        let wild = links(
            "http://h",
            "/v2/zones",
            &pairs(&[("name", "page*-1.org.")]),
            None,
        );
        assert_eq!(wild["self"], "http://h/v2/zones?name=page%2A-1.org.");
        assert_eq!(
            links("http://h", "/v2/zones", &[], None),
            json!({"self": "http://h/v2/zones"})
        );
    }
}
