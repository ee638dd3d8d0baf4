//! Stripe parameters that kassa does not implement.
//!
//! A shop written against Stripe may send any parameter Stripe defines. kassa accepts one it
//! does not implement only with a value that changes nothing (an empty value, `false`, Stripe's
//! default such as `locale=auto`), and refuses any other value by name ("kassa does not support
//! automatic_tax[enabled]=true"): never a 200 that ignores it. Parameters that Stripe does not
//! define at all are refused by the decoders as unknown (`deny_unknown_fields` on every
//! parameter struct).
//!
//! Each type here is such a parameter, named for the values it accepts (`Off`: only an empty
//! value or `false`; `OnlyAuto`: also `auto`...); it keeps nothing, since what it accepted
//! changes nothing. The refusal travels through serde as an error message carrying [`MARK`],
//! which the decoders (`form::decode`, `extract::decode_json`) turn into
//! [`ApiError::unsupported`] with the full parameter name, since only they know where in the
//! body the value was.

use std::fmt::Write as _;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::error::ApiError;

/// Starts the serde error message of a refused value: `MARK`, the path below the parameter
/// (`[enabled]`), `MARK` again, then the value.
pub const MARK: &str = "\u{1}unsupported\u{1}";

/// Which values change nothing: an empty value always; `false` where it is Stripe's default
/// (not for filters, where `false` selects); and `values`, Stripe's defaults.
struct Inert {
    values: &'static [&'static str],
    false_is_default: bool,
}

macro_rules! unsupported {
    ($($(#[$doc:meta])* $name:ident = [$($value:literal),*] $(, false = $false:literal)?;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
            pub struct $name;

            impl $name {
                const INERT: Inert = Inert {
                    values: &[$($value),*],
                    false_is_default: true $(&& $false)?,
                };
            }

            impl<'de> Deserialize<'de> for $name {
                fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let value = Value::deserialize(deserializer)?;
                    match first_active(&Self::INERT, &value, &mut String::new()) {
                        None => Ok($name),
                        Some((path, text)) => Err(serde::de::Error::custom(format!(
                            "{MARK}{path}{MARK}{text}"
                        ))),
                    }
                }
            }

            impl utoipa::PartialSchema for $name {
                fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                    Self::INERT.schema()
                }
            }

            impl utoipa::ToSchema for $name {}
        )*
    };
}

unsupported! {
    /// Only an empty value, `false`, or an object or list of those (`automatic_tax[enabled]=false`).
    Off = [];
    /// Only an empty value: a filter, where even `false` selects something.
    Unset = [], false = false;
    /// Also `none`, Stripe's default for consent collection.
    OnlyNone = ["none"];
    /// Also `never`, Stripe's default for `customer_update`.
    OnlyNever = ["never"];
    /// Also `automatic`, Stripe's default capture.
    OnlyAutomatic = ["automatic", "automatic_async"];
    /// Also `always`, Stripe's default `payment_method_collection`.
    OnlyAlways = ["always"];
    /// Also `web`: a hosted page is a web page.
    OnlyWeb = ["web"];
    /// Also `licensed`, Stripe's default `usage_type`.
    OnlyLicensed = ["licensed"];
    /// Also `0`, Stripe's default balance.
    OnlyZero = ["0"];
}

impl Inert {
    fn schema(&self) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let mut accepted = vec!["an empty value".to_string()];
        if self.false_is_default {
            accepted.push("`false`".into());
        }
        accepted.extend(self.values.iter().map(|v| format!("`{v}`")));
        utoipa::openapi::schema::ObjectBuilder::new()
            .description(Some(format!(
                "A Stripe parameter kassa does not implement: accepted only as {} (or an object \
                 or list of those), which change nothing; any other value is refused.",
                accepted.join(", ")
            )))
            .into()
    }
}

/// The first value under `value` that would change something, with its path below it.
fn first_active(inert: &Inert, value: &Value, path: &mut String) -> Option<(String, String)> {
    let is_inert = match value {
        Value::Null => true,
        Value::Bool(b) => !b && inert.false_is_default,
        Value::String(s) => {
            s.is_empty()
                || inert.values.contains(&s.as_str())
                || (s == "false" && inert.false_is_default)
        }
        Value::Number(n) => inert.values.contains(&n.to_string().as_str()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                if let Some(found) = first_active(inert, item, path) {
                    return Some(found);
                }
                path.truncate(len);
            }
            true
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                let _ = write!(path, "[{key}]");
                if let Some(found) = first_active(inert, item, path) {
                    return Some(found);
                }
                path.truncate(len);
            }
            true
        }
    };
    if is_inert {
        None
    } else {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Some((path.clone(), text))
    }
}

/// The refusal carried by a serde error message, if the message is one: `param` is where the
/// decoder found the parameter.
pub fn refusal(message: &str, param: &str) -> Option<ApiError> {
    let rest = message.strip_prefix(MARK)?;
    let (below, value) = rest.split_once(MARK)?;
    Some(ApiError::unsupported(&format!("{param}{below}"), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Params {
        automatic_tax: Option<Off>,
        consent_collection: Option<OnlyNone>,
        delivery_success: Option<Unset>,
    }

    fn refused(json: &str) -> Option<String> {
        // From a value, so that serde_json adds no position to the message.
        let value: Value = serde_json::from_str(json).unwrap();
        match serde_json::from_value::<Params>(value) {
            Ok(_) => None,
            Err(error) => Some(error.to_string()),
        }
    }

    #[test]
    fn inert_values_are_accepted() {
        assert_eq!(refused(r#"{"automatic_tax": {"enabled": false}}"#), None);
        assert_eq!(refused(r#"{"automatic_tax": {"enabled": "false"}}"#), None);
        assert_eq!(refused(r#"{"automatic_tax": ""}"#), None);
        assert_eq!(
            refused(r#"{"consent_collection": {"terms_of_service": "none"}}"#),
            None
        );
        assert_eq!(refused(r#"{"delivery_success": ""}"#), None);
    }

    #[test]
    fn other_values_are_refused_with_their_path() {
        let message = refused(r#"{"automatic_tax": {"enabled": true}}"#).unwrap();
        let error = refusal(&message, "automatic_tax").unwrap();
        assert_eq!(error.param.as_deref(), Some("automatic_tax[enabled]"));
        assert_eq!(
            error.message,
            "kassa does not support automatic_tax[enabled]=true."
        );
        assert_eq!(error.code, None);
        assert!(refused(r#"{"consent_collection": {"terms_of_service": "required"}}"#).is_some());
        assert!(refused(r#"{"delivery_success": false}"#).is_some());
    }
}
