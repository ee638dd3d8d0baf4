//! Request parameters shared by several surfaces: the shapes every surface decodes (metadata,
//! `created` ranges, paging, `expand`), and the bodies of products, payment links and checkout
//! sessions, which the Loops V3 and the Stripe surfaces share.
//!
//! Every parameter struct refuses names it does not define (`deny_unknown_fields`): a
//! misspelt parameter is an error, never dropped in silence.

mod payment_links;
mod products;
mod sessions;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

pub use self::payment_links::*;
pub use self::products::*;
pub use self::sessions::*;
use super::error::ApiError;
use crate::domain::list::{CreatedRange, PageRequest};
use crate::domain::metadata::{self, MetadataUpdate};

/// For fields a client may clear: absent is `None`, `null` or `""` is `Some(None)`.
pub fn clearable<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(
        Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()),
    ))
}

/// `metadata` as sent: keys to set (`metadata[k]=v` in a form; a JSON object, whose values may
/// be numbers or booleans, turned into their text as Stripe does), or an empty value for the
/// whole object (`metadata=`, JSON `""` or `null`), which means no metadata at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataParam {
    Keys(BTreeMap<String, String>),
    Clear,
}

impl MetadataParam {
    /// A Stripe update: the keys are set (an empty value removes its key); `Clear` removes every key.
    pub fn merge(self) -> MetadataUpdate {
        match self {
            MetadataParam::Keys(keys) => MetadataUpdate::Merge(keys),
            MetadataParam::Clear => MetadataUpdate::Replace(BTreeMap::new()),
        }
    }

    /// A Loops PUT: the metadata becomes exactly what was sent.
    pub fn replace(self) -> MetadataUpdate {
        match self {
            MetadataParam::Keys(keys) => MetadataUpdate::Replace(keys),
            MetadataParam::Clear => MetadataUpdate::Replace(BTreeMap::new()),
        }
    }

    /// The metadata of a new object.
    pub fn into_new(self) -> BTreeMap<String, String> {
        self.merge().into_new()
    }
}

/// Reads a [`MetadataParam`]; for `#[serde(default, deserialize_with = "metadata_param")]`, so
/// that an empty value reaches it instead of reading as "not given".
pub fn metadata_param<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<MetadataParam>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    match value {
        serde_json::Value::Null => Ok(Some(MetadataParam::Clear)),
        serde_json::Value::String(text) if text.is_empty() => Ok(Some(MetadataParam::Clear)),
        serde_json::Value::Object(_) => metadata::from_json_value(&value, "")
            .map(|keys| Some(MetadataParam::Keys(keys)))
            .map_err(|error| match error {
                crate::domain::DomainError::Invalid { param, message, .. } => {
                    super::extract::error_below(&param, &message)
                }
                other => serde::de::Error::custom(other),
            }),
        _ => Err(serde::de::Error::custom(
            "must be an object of string values, or empty to remove every key",
        )),
    }
}

/// `created=1700000000` or `created[gte]=...&created[lt]=...`, as text (forms) or numbers (JSON).
#[derive(Debug, Clone, Default)]
pub struct Created(pub CreatedRange);

impl<'de> Deserialize<'de> for Created {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Bound {
            Number(i64),
            Text(String),
        }
        fn bound<E: serde::de::Error>(value: Bound) -> Result<i64, E> {
            match value {
                Bound::Number(n) => Ok(n),
                Bound::Text(t) => t
                    .trim()
                    .parse()
                    .map_err(|_| E::custom(format!("'{t}' is not an integer"))),
            }
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Created;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a unix timestamp or an object with gt, gte, lt, lte")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Created, E> {
                Ok(Created(CreatedRange {
                    gte: Some(v),
                    lte: Some(v),
                    ..Default::default()
                }))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Created, E> {
                self.visit_i64(v as i64)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Created, E> {
                self.visit_i64(bound(Bound::Text(v.to_string()))?)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Created, A::Error> {
                let mut range = CreatedRange::default();
                while let Some(key) = map.next_key::<String>()? {
                    let value = bound(map.next_value::<Bound>()?)?;
                    match key.as_str() {
                        "gt" => range.gt = Some(value),
                        "gte" => range.gte = Some(value),
                        "lt" => range.lt = Some(value),
                        "lte" => range.lte = Some(value),
                        other => {
                            return Err(serde::de::Error::custom(format!(
                                "unknown bound '{other}'"
                            )));
                        }
                    }
                }
                Ok(Created(range))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// List parameters common to every list (`limit`, `offset`, cursors). Handlers read them from
/// the query string beside the list's own filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// How many objects, 1 to 100 (50 by default on `/api`, 10 on `/v1`).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Skip this many objects (Loops paging); not with a cursor.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Objects older than this id (V3; the same as `starting_after`).
    pub cursor: Option<String>,
    /// Objects older than this id.
    pub starting_after: Option<String>,
    /// Objects newer than this id.
    pub ending_before: Option<String>,
}

impl Paging {
    pub fn page(self, default_limit: u32) -> Result<PageRequest, ApiError> {
        if self.cursor.is_some() && self.starting_after.is_some() {
            return Err(ApiError::invalid_param(
                "cursor",
                "Invalid cursor: give cursor or starting_after, not both.",
            ));
        }
        let after_param = if self.cursor.is_some() {
            "cursor"
        } else {
            "starting_after"
        };
        Ok(PageRequest {
            after_param,
            ..PageRequest::new(
                self.limit,
                default_limit,
                self.offset,
                self.cursor.or(self.starting_after),
                self.ending_before,
            )?
        })
    }
}

/// `expand[]` alone: the parameters of a retrieve, and of actions that answer an object.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExpandParams {
    /// Fields to expand into objects (`customer`, `payment_intent.customer`).
    #[serde(default)]
    pub expand: Vec<String>,
}

/// No parameters at all: an operation that takes none still refuses any that are sent.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Stripe's words for the pay button, every one of which kassa's page shows.
pub const SUBMIT_TYPES: &[&str] = &["auto", "book", "donate", "pay", "subscribe"];

/// A Stripe choice as sent: its parameter, its value if given, the values Stripe defines and
/// those kassa supports (see [`stripe_choice`]).
pub type Choice = (
    &'static str,
    Option<String>,
    &'static [&'static str],
    &'static [&'static str],
);

/// A Stripe choice: one of the values Stripe `defined` (else the parameter is invalid), and
/// one of those kassa `supported` (else kassa says it does not support that value).
pub fn stripe_choice(
    param: &str,
    value: String,
    defined: &[&str],
    supported: &[&str],
) -> Result<String, ApiError> {
    if supported.contains(&value.as_str()) {
        Ok(value)
    } else if defined.is_empty() || defined.contains(&value.as_str()) {
        Err(ApiError::unsupported(param, &value))
    } else {
        Err(ApiError::invalid_param(
            param,
            format!(
                "Invalid {param}: '{value}' is not one of {}.",
                defined.join(", ")
            ),
        ))
    }
}

/// Payment method types: kassa takes cards only, so any other type is refused by name.
pub fn card_only(types: Vec<String>, param: &str) -> Result<Vec<String>, ApiError> {
    if types.is_empty() {
        return Err(ApiError::invalid_param(
            param,
            format!("Invalid {param}: name at least one type."),
        ));
    }
    if let Some((i, other)) = types.iter().enumerate().find(|(_, t)| t.as_str() != "card") {
        return Err(ApiError::unsupported(&format!("{param}[{i}]"), other));
    }
    Ok(types)
}
