//! Metadata: the merchant's own key-value strings on an object.

use std::collections::BTreeMap;

use super::DomainError;

pub const MAX_KEYS: usize = 50;
pub const MAX_KEY_CHARS: usize = 40;
pub const MAX_VALUE_CHARS: usize = 500;
pub const MAX_TOTAL_BYTES: usize = 5 * 1024;

/// Validated metadata. Keys are kept sorted, so the stored form is canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Metadata(pub BTreeMap<String, String>);

impl utoipa::PartialSchema for Metadata {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Key-value pairs the merchant stores on the object: up to 50 keys of up to 40 \
                 characters, values of up to 500 characters.",
            ))
            .additional_properties(Some(AdditionalProperties::RefOr(
                ObjectBuilder::new().schema_type(Type::String).into(),
            )))
            .into()
    }
}

impl utoipa::ToSchema for Metadata {}

impl Metadata {
    /// Checks the limits; `param` names the field (`metadata`) in errors.
    pub fn validate(map: BTreeMap<String, String>, param: &str) -> Result<Metadata, DomainError> {
        if map.len() > MAX_KEYS {
            return Err(DomainError::invalid(
                param,
                format!("has {} keys; at most {MAX_KEYS} are allowed", map.len()),
            ));
        }
        let mut total = 0;
        for (key, value) in &map {
            let key_param = format!("{param}[{key}]");
            if key.is_empty() {
                return Err(DomainError::invalid(param, "keys must not be empty"));
            }
            if key.chars().count() > MAX_KEY_CHARS {
                return Err(DomainError::invalid(
                    key_param,
                    format!("keys must be at most {MAX_KEY_CHARS} characters"),
                ));
            }
            if key.contains(['[', ']']) {
                return Err(DomainError::invalid(
                    key_param,
                    "keys must not contain '[' or ']'",
                ));
            }
            if value.chars().count() > MAX_VALUE_CHARS {
                return Err(DomainError::invalid(
                    key_param,
                    format!("values must be at most {MAX_VALUE_CHARS} characters"),
                ));
            }
            total += key.len() + value.len();
        }
        if total > MAX_TOTAL_BYTES {
            return Err(DomainError::invalid(
                param,
                format!("must be at most {MAX_TOTAL_BYTES} bytes in all"),
            ));
        }
        Ok(Metadata(map))
    }

    /// Applies an update (see [`MetadataUpdate`]).
    pub fn updated(&self, update: MetadataUpdate, param: &str) -> Result<Metadata, DomainError> {
        let map = match update {
            MetadataUpdate::Merge(keys) => {
                let mut map = self.0.clone();
                for (key, value) in keys {
                    if value.is_empty() {
                        map.remove(&key);
                    } else {
                        map.insert(key, value);
                    }
                }
                map
            }
            MetadataUpdate::Replace(map) => map,
        };
        Metadata::validate(map, param)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("metadata serializes")
    }

    pub fn from_json(text: &str) -> Metadata {
        Metadata(serde_json::from_str(text).unwrap_or_default())
    }
}

/// A change to an object's metadata, as a request asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataUpdate {
    /// Set these keys; an empty value removes its key (Stripe's updates).
    Merge(BTreeMap<String, String>),
    /// Replace the whole metadata: Loops' PUTs, and Stripe's `metadata=` (an empty value for
    /// the whole object), which removes every key.
    Replace(BTreeMap<String, String>),
}

impl MetadataUpdate {
    /// The metadata of a new object: what the update sets, without removals.
    pub fn into_new(self) -> BTreeMap<String, String> {
        match self {
            MetadataUpdate::Merge(map) | MetadataUpdate::Replace(map) => map,
        }
    }
}

/// A metadata object as clients send it: values may be strings, numbers or booleans (turned
/// into their text, as Stripe does); nested objects and arrays are refused.
pub fn from_json_value(
    value: &serde_json::Value,
    param: &str,
) -> Result<BTreeMap<String, String>, DomainError> {
    let object = match value {
        serde_json::Value::Object(object) => object,
        serde_json::Value::Null => return Ok(BTreeMap::new()),
        _ => {
            return Err(DomainError::invalid(
                param,
                "must be an object of string values",
            ));
        }
    };
    object
        .iter()
        .map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => String::new(),
                _ => {
                    return Err(DomainError::invalid(
                        format!("{param}[{key}]"),
                        "values must be strings",
                    ));
                }
            };
            Ok((key.clone(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn limits_are_enforced() {
        assert!(Metadata::validate(map(&[("order", "42")]), "metadata").is_ok());
        let many: BTreeMap<String, String> =
            (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(Metadata::validate(many, "metadata").is_err());
        assert!(Metadata::validate(map(&[(&"k".repeat(41), "v")]), "metadata").is_err());
        assert!(Metadata::validate(map(&[("a[b]", "v")]), "metadata").is_err());
        let long_value = "v".repeat(501);
        assert!(Metadata::validate(map(&[("k", &long_value)]), "metadata").is_err());
        let big: BTreeMap<String, String> = (0..12)
            .map(|i| (format!("k{i}"), "v".repeat(450)))
            .collect();
        let error = Metadata::validate(big, "metadata").unwrap_err();
        assert!(error.to_string().contains("bytes"), "{error}");
    }

    #[test]
    fn empty_values_remove_keys_on_update() {
        let base = Metadata::validate(map(&[("a", "1"), ("b", "2")]), "metadata").unwrap();
        let merged = base
            .updated(
                MetadataUpdate::Merge(map(&[("a", ""), ("c", "3")])),
                "metadata",
            )
            .unwrap();
        assert_eq!(merged.0, map(&[("b", "2"), ("c", "3")]));
        let cleared = base
            .updated(MetadataUpdate::Replace(BTreeMap::new()), "metadata")
            .unwrap();
        assert!(cleared.0.is_empty());
    }
}
