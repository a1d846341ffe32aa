//! `x-kubernetes-validations` (CEL) rules of the CRDs, evaluated as
//! kube-apiserver does on create and update (transition rules, which use
//! `oldSelf`, only on update). Validation ratcheting (GA in 1.33: an
//! update's errors on values it left unchanged are dropped) is modelled for
//! whole top-level fields: an update that leaves every field holding rules
//! as it was (a status write) is not evaluated, when the kind's only
//! transition rules are immutability (`self == oldSelf`), which an
//! unchanged value passes. Not modelled: finer ratcheting and the static
//! cost budget.

use std::collections::HashMap;

use kube_cel::{CompiledSchema, Validator, compile_schema};
use serde_json::Value;

use crate::error::{ApiError, Cause};
use crate::registry::ResourceType;

/// A kind's compiled rules, and where they are.
struct KindRules {
    compiled: CompiledSchema,
    /// The top-level fields holding every rule, when an update leaving
    /// them unchanged cannot fail (see the module's note on ratcheting).
    ratcheted: Option<Vec<String>>,
}

/// Compiled rules per kind, and the evaluator.
pub struct Rules {
    compiled: HashMap<String, KindRules>,
    validator: Validator,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            compiled: HashMap::new(),
            validator: Validator::new(),
        }
    }
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("kinds", &self.compiled.keys())
            .finish()
    }
}

impl Rules {
    /// Compiles the rules of a kind's schema, if it has any.
    pub fn register(&mut self, rt: &ResourceType) {
        match &rt.schema {
            Some(schema) if schema.to_string().contains("x-kubernetes-validations") => {
                let rules = KindRules {
                    compiled: compile_schema(schema),
                    ratcheted: ratcheted_fields(schema),
                };
                self.compiled.insert(rt.key(), rules);
            }
            _ => {
                self.compiled.remove(&rt.key());
            }
        }
    }

    /// 422 with one cause per failed rule.
    pub fn check(
        &self,
        rt: &ResourceType,
        object: &Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        let Some(rules) = self.compiled.get(&rt.key()) else {
            return Ok(());
        };
        if let (Some(old), Some(fields)) = (old, &rules.ratcheted)
            && fields.iter().all(|f| object.get(f) == old.get(f))
        {
            return Ok(());
        }
        let Err(errors) = self
            .validator
            .validate_compiled(&rules.compiled, object, old)
        else {
            return Ok(());
        };
        let causes = errors
            .into_vec()
            .into_iter()
            .map(|e| {
                let value = lookup(object, &e.field_path);
                Cause {
                    reason: "FieldValueInvalid",
                    field: e.field_path.clone(),
                    message: format!("Invalid value: \"{}\": {}", type_name(value), e.message),
                }
            })
            .collect();
        let name = crate::object::meta_str(object, "name").unwrap_or_default();
        Err(ApiError::invalid(&rt.group, &rt.kind, name, causes))
    }
}

const VALIDATIONS: &str = "x-kubernetes-validations";

/// The top-level fields of `schema` whose subtrees hold its rules, unless
/// the root holds one or a transition rule is more than immutability.
fn ratcheted_fields(schema: &Value) -> Option<Vec<String>> {
    if schema.get(VALIDATIONS).is_some() || !only_immutability(schema) {
        return None;
    }
    let properties = schema.get("properties").and_then(Value::as_object)?;
    Some(
        properties
            .iter()
            .filter(|(_, sub)| sub.to_string().contains(VALIDATIONS))
            .map(|(name, _)| name.clone())
            .collect(),
    )
}

/// Whether every rule under `schema` that reads `oldSelf` is `self ==
/// oldSelf`.
fn only_immutability(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => map.iter().all(|(key, value)| match key.as_str() {
            VALIDATIONS => value.as_array().is_some_and(|rules| {
                rules.iter().all(|rule| {
                    let text = rule.get("rule").and_then(Value::as_str).unwrap_or_default();
                    !text.contains("oldSelf") || text.trim() == "self == oldSelf"
                })
            }),
            _ => only_immutability(value),
        }),
        Value::Array(items) => items.iter().all(only_immutability),
        _ => true,
    }
}

fn lookup<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(object, |v, key| v.get(key))
}

fn type_name(value: Option<&Value>) -> &'static str {
    match value {
        Some(Value::String(_)) => "string",
        Some(Value::Number(_)) => "number",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Array(_)) => "array",
        _ => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(transition: &str) -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string",
                            "x-kubernetes-validations": [
                                {"rule": "self.size() < 5", "message": "short"},
                                {"rule": transition, "message": "kept"},
                            ],
                        },
                    },
                },
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            },
        })
    }

    #[test]
    fn unchanged_ruled_fields_are_ratcheted_only_when_that_cannot_hide_an_error() {
        assert_eq!(
            ratcheted_fields(&schema("self == oldSelf")),
            Some(vec!["spec".to_string()])
        );
        // A transition rule an unchanged value may fail: always evaluated.
        assert_eq!(ratcheted_fields(&schema("oldSelf.size() < 3")), None);
        let mut rooted = schema("self == oldSelf");
        rooted[VALIDATIONS] = json!([{"rule": "has(self.spec)"}]);
        assert_eq!(ratcheted_fields(&rooted), None);
    }
}
