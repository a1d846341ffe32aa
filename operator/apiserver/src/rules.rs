//! `x-kubernetes-validations` (CEL) rules of the CRDs, evaluated as
//! kube-apiserver does on create and update (transition rules, which use
//! `oldSelf`, only on update). Not modelled: validation ratcheting and
//! the static cost budget.

use std::collections::HashMap;

use kube_cel::{CompiledSchema, Validator, compile_schema};
use serde_json::Value;

use crate::error::{ApiError, Cause};
use crate::registry::ResourceType;

/// Compiled rules per kind, and the evaluator.
pub struct Rules {
    compiled: HashMap<String, CompiledSchema>,
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
                self.compiled.insert(rt.key(), compile_schema(schema));
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
        let Some(compiled) = self.compiled.get(&rt.key()) else {
            return Ok(());
        };
        let Err(errors) = self.validator.validate_compiled(compiled, object, old) else {
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
