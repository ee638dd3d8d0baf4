//! Stripe-style form bodies and query strings: `line_items[0][price_data][unit_amount]=2000`,
//! `expand[]=customer`, `metadata[order]=42`, percent-encoded brackets, `+` for spaces.
//!
//! The text is first parsed into a tree of [`FormValue`]s, then deserialized into the
//! endpoint's typed parameters by a deserializer that reads numbers and booleans from text. An
//! empty value reads as "not given" for optional fields (Stripe's way of unsetting); map values
//! keep it, so `metadata[key]=` removes a key.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use super::error::ApiError;

/// Deepest nesting accepted (`line_items[0][price_data][product_data][metadata][k]` is 5).
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub enum FormValue {
    Text(String),
    /// `a[x]=...` keys; also `a[0]=...` indexed arrays.
    Map(BTreeMap<String, FormValue>),
    /// `a[]=...` arrays and repeated keys.
    List(Vec<FormValue>),
}

/// Parses urlencoded text into a tree. Errors name the key at fault.
pub fn parse(text: &[u8]) -> Result<BTreeMap<String, FormValue>, ApiError> {
    let mut root = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(text) {
        // A field with an empty name (`=x`) is a parameter like any other: unknown where the
        // endpoint rejects unknown parameters, ignored where it ignores them.
        let path = if key.is_empty() {
            vec![String::new()]
        } else {
            split_key(&key)?
        };
        insert(&mut root, &path, value.into_owned(), &key)?;
    }
    Ok(root)
}

fn split_key(key: &str) -> Result<Vec<String>, ApiError> {
    let malformed = || ApiError::invalid_param(key, format!("Invalid parameter name: {key}"));
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Err(malformed());
    }
    let mut path = vec![head.to_string()];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or_else(malformed)?;
        let close = inner.find(']').ok_or_else(malformed)?;
        path.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    if path.len() > MAX_DEPTH {
        return Err(ApiError::invalid_param(
            key,
            format!("{key} is nested too deeply"),
        ));
    }
    Ok(path)
}

fn insert(
    map: &mut BTreeMap<String, FormValue>,
    path: &[String],
    value: String,
    key: &str,
) -> Result<(), ApiError> {
    let conflict = || {
        ApiError::invalid_param(
            key,
            format!("{key} is given both as a value and as an object"),
        )
    };
    let (first, rest) = path.split_first().expect("paths are never empty");
    if rest.is_empty() {
        match map.remove(first) {
            None => {
                map.insert(first.clone(), FormValue::Text(value));
            }
            Some(FormValue::Text(previous)) => {
                map.insert(
                    first.clone(),
                    FormValue::List(vec![FormValue::Text(previous), FormValue::Text(value)]),
                );
            }
            Some(FormValue::List(mut items)) => {
                items.push(FormValue::Text(value));
                map.insert(first.clone(), FormValue::List(items));
            }
            Some(FormValue::Map(_)) => return Err(conflict()),
        }
        return Ok(());
    }
    if rest[0].is_empty() {
        // `a[]=v`: append to a list.
        if rest.len() > 1 {
            return Err(ApiError::invalid_param(
                key,
                format!("{key}: '[]' may only end a parameter name"),
            ));
        }
        match map
            .entry(first.clone())
            .or_insert_with(|| FormValue::List(Vec::new()))
        {
            FormValue::List(items) => items.push(FormValue::Text(value)),
            _ => return Err(conflict()),
        }
        return Ok(());
    }
    match map
        .entry(first.clone())
        .or_insert_with(|| FormValue::Map(BTreeMap::new()))
    {
        FormValue::Map(inner) => insert(inner, rest, value, key),
        _ => Err(conflict()),
    }
}

/// Decodes urlencoded text into `T`, naming the parameter at fault in errors.
pub fn decode<T: DeserializeOwned>(text: &[u8]) -> Result<T, ApiError> {
    decode_tree(parse(text)?)
}

/// Decodes an already parsed tree into `T`, naming the parameter at fault in errors.
pub fn decode_tree<T: DeserializeOwned>(tree: BTreeMap<String, FormValue>) -> Result<T, ApiError> {
    let deserializer = FormDeserializer(FormValue::Map(tree));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let param = stripe_param(error.path());
        let inner = error.into_inner();
        inner.into_api_error(param)
    })
}

/// `line_items[0].price_data.unit_amount` as Stripe names it: `line_items[0][price_data][unit_amount]`.
pub fn stripe_param(path: &serde_path_to_error::Path) -> String {
    let mut param = String::new();
    for segment in path.iter() {
        let name = match segment {
            serde_path_to_error::Segment::Seq { index } => index.to_string(),
            serde_path_to_error::Segment::Map { key } => key.clone(),
            serde_path_to_error::Segment::Enum { variant } => variant.clone(),
            serde_path_to_error::Segment::Unknown => continue,
        };
        if param.is_empty() {
            param = name;
        } else {
            param.push('[');
            param.push_str(&name);
            param.push(']');
        }
    }
    param
}

/// Why a form value did not fit its parameter.
#[derive(Debug)]
pub struct FormError {
    code: &'static str,
    message: String,
}

impl FormError {
    fn invalid(code: &'static str, message: String) -> Self {
        FormError { code, message }
    }

    fn into_api_error(self, param: String) -> ApiError {
        super::extract::decoding_error(param, &self.message, self.code)
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FormError {}

impl de::Error for FormError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        FormError::invalid("parameter_invalid", message.to_string())
    }
}

struct FormDeserializer(FormValue);

impl FormDeserializer {
    fn text(self, expected: &str) -> Result<String, FormError> {
        match self.0 {
            FormValue::Text(text) => Ok(text),
            _ => Err(FormError::invalid(
                "parameter_invalid",
                format!("expected {expected}, not an object or list"),
            )),
        }
    }

    fn integer<T: std::str::FromStr>(self) -> Result<T, FormError> {
        let text = self.text("an integer")?;
        text.trim().parse().map_err(|_| {
            FormError::invalid(
                "parameter_invalid_integer",
                format!("'{text}' is not an integer"),
            )
        })
    }
}

macro_rules! integer_methods {
    ($($method:ident => $visit:ident $ty:ty),*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
                visitor.$visit(self.integer::<$ty>()?)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for FormDeserializer {
    type Error = FormError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        match self.0 {
            FormValue::Text(text) => visitor.visit_string(text),
            FormValue::Map(map) => visitor.visit_map(de::value::MapDeserializer::new(
                map.into_iter().map(|(k, v)| (k, FormDeserializer(v))),
            )),
            FormValue::List(items) => visitor.visit_seq(de::value::SeqDeserializer::new(
                items.into_iter().map(FormDeserializer),
            )),
        }
    }

    integer_methods!(
        deserialize_i8 => visit_i8 i8, deserialize_i16 => visit_i16 i16, deserialize_i32 => visit_i32 i32,
        deserialize_i64 => visit_i64 i64, deserialize_u8 => visit_u8 u8, deserialize_u16 => visit_u16 u16,
        deserialize_u32 => visit_u32 u32, deserialize_u64 => visit_u64 u64
    );

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        let text = self.text("a number")?;
        let value: f64 = text.trim().parse().map_err(|_| {
            FormError::invalid(
                "parameter_invalid_float",
                format!("'{text}' is not a number"),
            )
        })?;
        visitor.visit_f64(value)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        match self.text("a boolean")?.as_str() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(FormError::invalid(
                "parameter_invalid",
                format!("'{other}' is not true or false"),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        match &self.0 {
            FormValue::Text(text) if text.is_empty() => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FormError> {
        match self.0 {
            FormValue::List(items) => visitor.visit_seq(de::value::SeqDeserializer::new(
                items.into_iter().map(FormDeserializer),
            )),
            FormValue::Map(map) => {
                // `a[0]=x&a[1]=y`: indices must be numbers; order follows them, not the text.
                let mut indexed = Vec::with_capacity(map.len());
                for (key, value) in map {
                    let index: usize = key.parse().map_err(|_| {
                        FormError::invalid(
                            "parameter_invalid",
                            format!("expected a list, found the key '{key}'"),
                        )
                    })?;
                    indexed.push((index, value));
                }
                indexed.sort_by_key(|(index, _)| *index);
                visitor.visit_seq(de::value::SeqDeserializer::new(
                    indexed.into_iter().map(|(_, v)| FormDeserializer(v)),
                ))
            }
            // A single `expand=a` is a list of one.
            FormValue::Text(text) => visitor.visit_seq(de::value::SeqDeserializer::new(
                std::iter::once(FormDeserializer(FormValue::Text(text))),
            )),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FormError> {
        let text = self.text("one of the allowed values")?;
        visitor.visit_enum(text.into_deserializer())
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FormError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct tuple tuple_struct map struct identifier ignored_any i128 u128
    }
}

impl<'de> IntoDeserializer<'de, FormError> for FormDeserializer {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct PriceData {
        currency: String,
        unit_amount: Option<i64>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Item {
        price: Option<String>,
        price_data: Option<PriceData>,
        quantity: Option<i64>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Params {
        mode: Option<String>,
        line_items: Option<Vec<Item>>,
        metadata: Option<BTreeMap<String, String>>,
        expand: Option<Vec<String>>,
        active: Option<bool>,
    }

    #[test]
    fn stripe_bodies_decode() {
        let body =
            b"mode=payment&line_items[1][price]=price_2&line_items[0][price_data][currency]=usd\
                     &line_items[0][price_data][unit_amount]=2000&line_items[0][quantity]=2\
                     &metadata[order+id]=4%202&metadata[gone]=&expand[]=a&expand[]=b&active=true";
        let params: Params = decode(body).unwrap();
        let items = params.line_items.unwrap();
        assert_eq!(
            items[0].price_data.as_ref().unwrap().unit_amount,
            Some(2000)
        );
        assert_eq!(items[0].quantity, Some(2));
        assert_eq!(items[1].price.as_deref(), Some("price_2"));
        let metadata = params.metadata.unwrap();
        assert_eq!(metadata["order id"], "4 2");
        assert_eq!(metadata["gone"], "");
        assert_eq!(params.expand.unwrap(), ["a", "b"]);
        assert_eq!(params.active, Some(true));
    }

    #[test]
    fn encoded_brackets_and_indexed_lists_decode() {
        let params: Params =
            decode(b"expand%5B0%5D=line_items&expand%5B1%5D=customer&mode=").unwrap();
        assert_eq!(params.expand.unwrap(), ["line_items", "customer"]);
        assert_eq!(params.mode, None, "an empty value is not given");
        let twelve: String = (0..12)
            .rev()
            .map(|i| format!("line_items[{i}][quantity]={i}&"))
            .collect();
        let params: Params = decode(twelve.as_bytes()).unwrap();
        let quantities: Vec<i64> = params
            .line_items
            .unwrap()
            .iter()
            .map(|i| i.quantity.unwrap())
            .collect();
        assert_eq!(quantities, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn errors_name_the_parameter() {
        let error = decode::<Params>(b"line_items[0][quantity]=two").unwrap_err();
        assert_eq!(error.param.as_deref(), Some("line_items[0][quantity]"));
        assert_eq!(error.code, Some("parameter_invalid_integer"));

        let error = decode::<Params>(b"line_items[0][price_data][unit_amount]=1").unwrap_err();
        assert_eq!(
            error.param.as_deref(),
            Some("line_items[0][price_data][currency]")
        );
        assert_eq!(error.code, Some("parameter_missing"));

        let error = decode::<Params>(b"colour=red").unwrap_err();
        assert_eq!(error.code, Some("parameter_unknown"));
        assert_eq!(error.param.as_deref(), Some("colour"));

        let error = decode::<Params>(b"active=yes").unwrap_err();
        assert_eq!(error.param.as_deref(), Some("active"));

        let error = decode::<Params>(b"mode=payment&=x").unwrap_err();
        assert_eq!(
            error.code,
            Some("parameter_unknown"),
            "an empty name is unknown too"
        );

        assert!(decode::<Params>(b"mode=a&mode[x]=b").is_err());
        assert!(decode::<Params>(b"a[b=c").is_err());
    }
}

#[cfg(test)]
mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::{FormValue, parse};

    /// A tree as the Stripe SDKs send it: maps of text, nested maps, and `[]` lists of text.
    fn tree() -> impl Strategy<Value = BTreeMap<String, FormValue>> {
        let key = "[a-z][a-z0-9_ .%&=+é]{0,8}";
        let text = any::<String>().prop_filter("one value per key", |t| !t.is_empty());
        let leaf = prop_oneof![
            text.clone().prop_map(FormValue::Text),
            prop::collection::vec(text.prop_map(FormValue::Text), 2..4).prop_map(FormValue::List),
        ];
        let node = leaf.prop_recursive(3, 24, 4, move |inner| {
            prop::collection::btree_map(key, inner, 1..4).prop_map(FormValue::Map)
        });
        prop::collection::btree_map("[a-z][a-z0-9_]{0,8}", node, 0..5)
    }

    fn encode(prefix: &str, value: &FormValue, out: &mut form_urlencoded::Serializer<String>) {
        match value {
            FormValue::Text(text) => {
                out.append_pair(prefix, text);
            }
            FormValue::List(items) => {
                for item in items {
                    if let FormValue::Text(text) = item {
                        out.append_pair(&format!("{prefix}[]"), text);
                    }
                }
            }
            FormValue::Map(map) => {
                for (key, inner) in map {
                    encode(&format!("{prefix}[{key}]"), inner, out);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn what_an_sdk_encodes_parses_back(original in tree()) {
            let mut out = form_urlencoded::Serializer::new(String::new());
            for (key, value) in &original {
                encode(key, value, &mut out);
            }
            let parsed = parse(out.finish().as_bytes()).expect("a well-formed body parses");
            prop_assert_eq!(parsed, original);
        }

        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes);
        }
    }
}
