//! `meta.k8s.io/v1` Table output (what `kubectl get` asks for), with the
//! CRDs' printer columns.

use serde_json::{Value, json};

use crate::registry::{PrinterColumn, ResourceType};
use crate::store::ObjectRef;

use super::Query;

fn columns(rt: &ResourceType) -> Vec<PrinterColumn> {
    let column = |name: &str, type_: &str, format: Option<&str>, path: &str, description: &str| {
        PrinterColumn {
            name: name.into(),
            type_: type_.into(),
            format: format.map(String::from),
            description: description.into(),
            json_path: path.into(),
            priority: 0,
        }
    };
    let mut out = vec![column(
        "Name",
        "string",
        Some("name"),
        ".metadata.name",
        "Name must be unique within a namespace.",
    )];
    if rt.plural == "namespaces" {
        out.push(column(
            "Status",
            "string",
            None,
            ".status.phase",
            "The status of the namespace",
        ));
    }
    if rt.printer_columns.is_empty() {
        out.push(column("Age", "date", None, ".metadata.creationTimestamp", "CreationTimestamp is a timestamp representing the server time when this object was created."));
    } else {
        out.extend(rt.printer_columns.iter().cloned());
    }
    out
}

pub fn table(
    rt: &ResourceType,
    objects: &[ObjectRef],
    resource_version: u64,
    query: &Query,
) -> Value {
    let columns = columns(rt);
    let include = query.get("includeObject").unwrap_or("Metadata");
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let object = &object.value();
            let cells: Vec<Value> = columns.iter().map(|c| cell(c, object)).collect();
            let mut row = json!({"cells": cells});
            match include {
                "None" => {}
                "Object" => row["object"] = object.clone(),
                _ => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": object.get("metadata").cloned().unwrap_or_default(),
                    })
                }
            }
            row
        })
        .collect();
    let definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.type_,
                "format": c.format.clone().unwrap_or_default(),
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

fn cell(column: &PrinterColumn, object: &Value) -> Value {
    let found = eval_path(object, &column.json_path);
    let Some(first) = found.first() else {
        return Value::Null;
    };
    if column.type_ == "date" {
        return match first
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        {
            Some(t) => json!(human_duration(chrono::Utc::now().signed_duration_since(t))),
            None => json!("<unknown>"),
        };
    }
    if found.len() == 1 {
        return (*first).clone();
    }
    let parts: Vec<String> = found
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
        .collect();
    json!(parts.join(","))
}

/// Evaluates the JSONPath subset printer columns use: `.a.b`, `.a[0]`,
/// `.a[*]` and `.a[?(@.k=="v")]`.
pub fn eval_path<'a>(object: &'a Value, path: &str) -> Vec<&'a Value> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut current = vec![object];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            current = current.into_iter().filter_map(|v| v.get(key)).collect();
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else {
                return Vec::new();
            };
            let selector = &after[..end];
            rest = &after[end + 1..];
            current = current
                .into_iter()
                .filter_map(Value::as_array)
                .flat_map(|items| select(items, selector))
                .collect();
        } else {
            return Vec::new();
        }
    }
    current
}

fn select<'a>(items: &'a [Value], selector: &str) -> Vec<&'a Value> {
    if selector == "*" {
        return items.iter().collect();
    }
    if let Ok(index) = selector.parse::<usize>() {
        return items.get(index).into_iter().collect();
    }
    let Some(filter) = selector
        .strip_prefix("?(@.")
        .and_then(|s| s.strip_suffix(')'))
    else {
        return Vec::new();
    };
    let Some((key, want)) = filter.split_once("==") else {
        return Vec::new();
    };
    let want = want.trim().trim_matches(|c| c == '"' || c == '\'');
    items
        .iter()
        .filter(|item| item.get(key.trim()).and_then(Value::as_str) == Some(want))
        .collect()
}

/// kubectl's (Go's `duration.HumanDuration`) rendering of an age.
pub fn human_duration(d: chrono::TimeDelta) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        let obj = json!({"status": {"conditions": [{"type": "A", "status": "False"}, {"type": "Ready", "status": "True"}], "serial": 7}});
        assert_eq!(eval_path(&obj, ".status.serial"), vec![&json!(7)]);
        assert_eq!(
            eval_path(&obj, ".status.conditions[?(@.type==\"Ready\")].status"),
            vec![&json!("True")]
        );
        assert_eq!(
            eval_path(&obj, ".status.conditions[0].type"),
            vec![&json!("A")]
        );
        assert_eq!(eval_path(&obj, ".status.conditions[*].type").len(), 2);
        assert!(eval_path(&obj, ".spec.name").is_empty());
    }

    #[test]
    fn ages_like_kubectl() {
        let s = chrono::TimeDelta::seconds;
        assert_eq!(human_duration(s(5)), "5s");
        assert_eq!(human_duration(s(150)), "2m30s");
        assert_eq!(human_duration(s(3600 * 5 + 60 * 3)), "5h3m");
        assert_eq!(human_duration(s(86400 * 3)), "3d");
    }
}
