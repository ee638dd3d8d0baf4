//! Request parameters shared by several surfaces.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::error::ApiError;
use crate::domain::DomainError;
use crate::domain::catalog::{
    AmountType, LoopsPricing, ProductFilter, ProductInput, ProductStatus,
};
use crate::domain::list::{CreatedRange, PageRequest};
use crate::domain::metadata;
use crate::domain::money::MajorAmount;

/// For fields a client may clear: absent is `None`, `null` or `""` is `Some(None)`.
pub fn clearable<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(
        Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()),
    ))
}

/// Metadata as sent: a JSON object (values may be numbers or booleans) or form keys.
pub fn metadata_map(
    value: Option<serde_json::Value>,
) -> Result<Option<BTreeMap<String, String>>, DomainError> {
    value
        .map(|v| metadata::from_json_value(&v, "metadata"))
        .transpose()
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
        Ok(PageRequest::new(
            self.limit,
            default_limit,
            self.offset,
            self.cursor.or(self.starting_after),
            self.ending_before,
        )?)
    }
}

/// A product as the Loops API (V2 and V3) describes it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct LoopsProductBody {
    /// Required on create; 1 to 250 characters.
    pub name: Option<String>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `ACTIVE`, `INACTIVE` or `DRAFT`.
    pub status: Option<String>,
    /// V3: kept consistent with `status`.
    pub active: Option<bool>,
    /// At most 8 image URLs.
    pub images: Option<Vec<String>>,
    #[serde(rename = "thumbnailUrl", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub thumbnail_url: Option<Option<String>>,
    /// At most 22 characters.
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub statement_descriptor: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub tax_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub unit_label: Option<Option<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub url: Option<Option<String>>,
    pub shippable: Option<bool>,
    /// `good` or `service`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Up to 50 string values.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// `FIXED`, `CUSTOM` or `FREE`.
    #[serde(rename = "amountType")]
    pub amount_type: Option<String>,
    /// Major units, at least 0.5; required for FIXED.
    #[serde(rename = "priceAmount")]
    pub price_amount: Option<MajorAmount>,
    /// CUSTOM: the least a customer may pay, at least 0.5.
    #[serde(rename = "minimumAmount")]
    pub minimum_amount: Option<MajorAmount>,
    /// CUSTOM: the amount offered first, at most 10000.
    #[serde(rename = "presetAmount")]
    pub preset_amount: Option<MajorAmount>,
    /// ISO 4217 code; `usd` by default.
    #[serde(rename = "priceCurrency")]
    pub price_currency: Option<String>,
    /// `month` or `year` for a subscription product.
    #[serde(rename = "recurringInterval", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub recurring_interval: Option<Option<String>>,
}

impl LoopsProductBody {
    /// The product fields and the pricing. Loops updates replace metadata as a whole.
    pub fn into_parts(self) -> Result<(ProductInput, LoopsPricing), ApiError> {
        let input = ProductInput {
            name: self.name,
            description: self.description,
            status: self
                .status
                .map(|s| ProductStatus::parse(&s, "status"))
                .transpose()?,
            active: self.active,
            images: self.images,
            thumbnail_url: self.thumbnail_url,
            statement_descriptor: self.statement_descriptor,
            tax_code: self.tax_code,
            unit_label: self.unit_label,
            url: self.url,
            shippable: self.shippable.map(Some),
            kind: self.kind,
            metadata: metadata_map(self.metadata)?,
            replace_metadata: true,
        };
        let pricing = LoopsPricing {
            amount_type: self.amount_type,
            price_amount: self.price_amount,
            minimum_amount: self.minimum_amount,
            preset_amount: self.preset_amount,
            currency: self.price_currency,
            recurring_interval: self.recurring_interval,
        };
        Ok((input, pricing))
    }
}

/// Filters of the Loops product lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoopsProductFilter {
    /// `ACTIVE`, `INACTIVE` or `DRAFT`.
    pub status: Option<String>,
    /// `FIXED`, `CUSTOM` or `FREE`.
    #[serde(rename = "amountType")]
    #[param(rename = "amountType")]
    pub amount_type: Option<String>,
    pub active: Option<bool>,
}

impl LoopsProductFilter {
    pub fn filter(&self) -> Result<ProductFilter, ApiError> {
        Ok(ProductFilter {
            status: self
                .status
                .as_deref()
                .map(|s| ProductStatus::parse(s, "status"))
                .transpose()?,
            active: self.active,
            amount_type: self
                .amount_type
                .as_deref()
                .map(|t| AmountType::parse(t, "amountType"))
                .transpose()?,
            ..Default::default()
        })
    }
}

/// `adjustable_quantity` of a line item.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
pub struct AdjustableQuantityBody {
    pub enabled: bool,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
}

impl From<AdjustableQuantityBody> for crate::domain::catalog::AdjustableQuantity {
    fn from(b: AdjustableQuantityBody) -> Self {
        crate::domain::catalog::AdjustableQuantity {
            enabled: b.enabled,
            minimum: b.minimum,
            maximum: b.maximum,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LinkLineItemBody {
    /// A price id (`price_...`).
    pub price: String,
    /// 1 to 1000; 1 by default.
    pub quantity: Option<i64>,
    pub adjustable_quantity: Option<AdjustableQuantityBody>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AfterCompletionBody {
    /// `redirect` or `hosted_confirmation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub redirect: Option<RedirectBody>,
    pub hosted_confirmation: Option<HostedConfirmationBody>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RedirectBody {
    pub url: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct HostedConfirmationBody {
    pub custom_message: Option<String>,
}

/// A payment link, with Stripe's fields and the Loops ones (`productIds`, `successUrl`...).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PaymentLinkBody {
    pub line_items: Option<Vec<LinkLineItemBody>>,
    /// Loops: products sold at their default price, one of each.
    #[serde(rename = "productIds")]
    pub product_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub label: Option<Option<String>>,
    /// Loops: where the customer goes after paying; the same as `after_completion[redirect][url]`.
    #[serde(rename = "successUrl", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub success_url: Option<Option<String>>,
    #[serde(rename = "cancelUrl", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub cancel_url: Option<Option<String>>,
    pub active: Option<bool>,
    pub after_completion: Option<AfterCompletionBody>,
    pub allow_promotion_codes: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// `auto` or `required`.
    pub billing_address_collection: Option<String>,
    /// `always` or `if_required`.
    pub customer_creation: Option<String>,
    /// `auto`, `book`, `donate` or `pay`.
    pub submit_type: Option<String>,
    pub payment_method_types: Option<Vec<String>>,
    #[serde(default)]
    pub expand: Vec<String>,
}

impl PaymentLinkBody {
    /// The domain input. Loops PUTs replace metadata; Stripe updates merge it.
    pub fn into_input(
        self,
        replace_metadata: bool,
    ) -> Result<crate::domain::catalog::PaymentLinkInput, ApiError> {
        use crate::domain::catalog::{LinkItemInput, PaymentLinkInput};
        let mut input = PaymentLinkInput {
            line_items: self.line_items.map(|items| {
                items
                    .into_iter()
                    .map(|i| LinkItemInput {
                        price: i.price,
                        quantity: i.quantity,
                        adjustable_quantity: i.adjustable_quantity.map(Into::into),
                    })
                    .collect()
            }),
            product_ids: self.product_ids,
            active: self.active,
            label: self.label,
            success_url: self.success_url,
            cancel_url: self.cancel_url,
            allow_promotion_codes: self.allow_promotion_codes,
            metadata: metadata_map(self.metadata)?,
            replace_metadata,
            ..Default::default()
        };
        if let Some(after) = self.after_completion {
            match after.kind.as_str() {
                "redirect" => {
                    let url = after.redirect.map(|r| r.url).ok_or_else(|| {
                        ApiError::missing_param("after_completion[redirect][url]")
                    })?;
                    if input.success_url.is_some() {
                        return Err(ApiError::invalid_param(
                            "successUrl",
                            "Invalid successUrl: give successUrl or after_completion[redirect], not both.",
                        ));
                    }
                    input.success_url = Some(Some(url));
                }
                "hosted_confirmation" => {
                    input.success_url = Some(None);
                    input.confirmation_message =
                        Some(after.hosted_confirmation.and_then(|h| h.custom_message));
                }
                other => {
                    return Err(ApiError::invalid_param(
                        "after_completion[type]",
                        format!(
                            "Invalid after_completion[type]: '{other}' is not one of redirect, hosted_confirmation."
                        ),
                    ));
                }
            }
        }
        let choices: [(&str, Option<String>, &[&str]); 3] = [
            (
                "billing_address_collection",
                self.billing_address_collection,
                &["auto", "required"],
            ),
            (
                "customer_creation",
                self.customer_creation,
                &["always", "if_required"],
            ),
            (
                "submit_type",
                self.submit_type,
                &["auto", "book", "donate", "pay", "subscribe"],
            ),
        ];
        for (param, value, allowed) in choices {
            if let Some(value) = value {
                if !allowed.contains(&value.as_str()) {
                    return Err(ApiError::invalid_param(
                        param,
                        format!(
                            "Invalid {param}: '{value}' is not one of {}.",
                            allowed.join(", ")
                        ),
                    ));
                }
                input
                    .settings
                    .insert(param.to_string(), serde_json::Value::String(value));
            }
        }
        if let Some(types) = self.payment_method_types {
            input
                .settings
                .insert("payment_method_types".into(), serde_json::json!(types));
        }
        Ok(input)
    }
}

/// `price_data` of a session line item: a price described inline.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PriceDataBody {
    pub currency: String,
    /// An existing product, or `product_data` for a new one.
    pub product: Option<String>,
    pub product_data: Option<ProductDataBody>,
    pub unit_amount: Option<i64>,
    pub unit_amount_decimal: Option<String>,
    pub recurring: Option<crate::http::stripe::RecurringParams>,
    pub tax_behavior: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProductDataBody {
    pub name: String,
    pub description: Option<String>,
    pub images: Option<Vec<String>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<BTreeMap<String, String>>,
    pub tax_code: Option<String>,
    pub unit_label: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SessionLineItemBody {
    /// A price id; or `price_data`.
    pub price: Option<String>,
    pub price_data: Option<PriceDataBody>,
    /// 1 to 1000; 1 by default.
    pub quantity: Option<i64>,
    pub adjustable_quantity: Option<AdjustableQuantityBody>,
}

/// A checkout session to create: Stripe's parameters and the Loops V3 ones.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SessionBody {
    /// Stripe-style lines; or `productId`.
    pub line_items: Option<Vec<SessionLineItemBody>>,
    /// Loops: sell this product at its default price.
    #[serde(rename = "productId")]
    pub product_id: Option<String>,
    /// With `productId`: 1 to 1000.
    pub quantity: Option<i64>,
    /// `payment`, `subscription` or `setup`; follows the prices when absent.
    pub mode: Option<String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub return_url: Option<String>,
    pub payment_method_types: Option<Vec<String>>,
    pub allowed_payment_method_types: Option<Vec<String>>,
    /// An existing customer id.
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    pub client_reference_id: Option<String>,
    #[serde(rename = "externalCustomerId")]
    pub external_customer_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Unix seconds, 30 minutes to 24 hours ahead; one hour by default.
    pub expires_at: Option<i64>,
    pub ui_mode: Option<String>,
    pub locale: Option<String>,
    pub submit_type: Option<String>,
    pub billing_address_collection: Option<String>,
    pub allow_promotion_codes: Option<bool>,
    pub customer_creation: Option<String>,
    #[serde(default)]
    pub expand: Vec<String>,
}

impl SessionBody {
    /// The domain input: exactly one of `line_items` and `productId`.
    pub fn into_input(self) -> Result<crate::domain::checkout::SessionInput, ApiError> {
        use crate::domain::catalog::{PriceInput, PriceProduct};
        use crate::domain::checkout::{
            CheckoutMode, LineRequest, PriceRef, SessionInput, SessionSource,
        };
        let source = match (self.line_items, self.product_id) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_param(
                    "productId",
                    "Invalid productId: give line_items or productId, not both.",
                ));
            }
            (Some(items), None) => {
                let mut lines = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let param = format!("line_items[{i}]");
                    let price = match (item.price, item.price_data) {
                        (Some(_), Some(_)) => {
                            return Err(ApiError::invalid_param(
                                format!("{param}[price_data]"),
                                format!("Invalid {param}: give price or price_data, not both."),
                            ));
                        }
                        (Some(price), None) => PriceRef::Existing(price),
                        (None, Some(data)) => {
                            let data_param = format!("{param}[price_data]");
                            let terms = crate::http::stripe::price_terms(
                                &data_param,
                                &data.currency,
                                data.unit_amount,
                                data.unit_amount_decimal.as_deref(),
                                None,
                                data.recurring.as_ref(),
                            )?;
                            let product = match (data.product, data.product_data) {
                                (Some(id), None) => PriceProduct::Existing(id),
                                (None, Some(p)) => PriceProduct::New(Box::new(ProductInput {
                                    name: Some(p.name),
                                    description: p.description.map(Some),
                                    images: p.images,
                                    metadata: p.metadata,
                                    tax_code: p.tax_code.map(Some),
                                    unit_label: p.unit_label.map(Some),
                                    ..Default::default()
                                })),
                                (Some(_), Some(_)) => {
                                    return Err(ApiError::invalid_param(
                                        format!("{data_param}[product_data]"),
                                        format!(
                                            "Invalid {data_param}: give product or product_data, not both."
                                        ),
                                    ));
                                }
                                (None, None) => {
                                    return Err(ApiError::missing_param(format!(
                                        "{data_param}[product]"
                                    )));
                                }
                            };
                            let mut input = PriceInput::with_terms(terms);
                            input.tax_behavior = data.tax_behavior;
                            PriceRef::Inline {
                                product,
                                input: Box::new(input),
                            }
                        }
                        (None, None) => {
                            return Err(ApiError::missing_param(format!("{param}[price]")));
                        }
                    };
                    lines.push(LineRequest {
                        price,
                        quantity: item.quantity,
                        adjustable_quantity: item.adjustable_quantity.map(Into::into),
                    });
                }
                SessionSource::LineItems(lines)
            }
            (None, Some(product_id)) => SessionSource::Product {
                product_id,
                quantity: self.quantity,
            },
            (None, None) if self.mode.as_deref() == Some("setup") => SessionSource::Nothing,
            (None, None) => return Err(ApiError::missing_param("line_items")),
        };
        let mut input = SessionInput::new(source);
        input.mode = self
            .mode
            .map(|m| CheckoutMode::parse(&m, "mode"))
            .transpose()?;
        input.success_url = self.success_url.filter(|u| !u.is_empty());
        input.cancel_url = self.cancel_url.filter(|u| !u.is_empty());
        input.customer = self.customer;
        input.customer_email = self.customer_email;
        input.client_reference_id = self.client_reference_id;
        input.external_customer_id = self.external_customer_id;
        input.metadata = metadata_map(self.metadata)?.unwrap_or_default();
        input.expires_at = self.expires_at;
        input.payment_method_types = self
            .allowed_payment_method_types
            .or(self.payment_method_types);
        let settings = [
            ("ui_mode", self.ui_mode.map(serde_json::Value::String)),
            ("locale", self.locale.map(serde_json::Value::String)),
            (
                "submit_type",
                self.submit_type.map(serde_json::Value::String),
            ),
            (
                "billing_address_collection",
                self.billing_address_collection
                    .map(serde_json::Value::String),
            ),
            (
                "allow_promotion_codes",
                self.allow_promotion_codes.map(serde_json::Value::Bool),
            ),
            (
                "customer_creation",
                self.customer_creation.map(serde_json::Value::String),
            ),
            (
                "return_url",
                self.return_url
                    .filter(|u| !u.is_empty())
                    .map(|u| crate::domain::validate::url(&u, "return_url", true))
                    .transpose()?
                    .map(serde_json::Value::String),
            ),
        ];
        for (key, value) in settings {
            if let Some(value) = value {
                input.settings.insert(key.to_string(), value);
            }
        }
        Ok(input)
    }
}
