//! Products as the Loops surfaces (V2 and V3) take them.

use serde::Deserialize;

use super::{MetadataParam, clearable, metadata_param};
use crate::domain::catalog::{
    AmountType, LoopsPricing, PriceInput, ProductFilter, ProductInput, ProductStatus,
};
use crate::domain::money::MajorAmount;
use crate::http::error::ApiError;
use crate::http::stripe::products::DefaultPriceData;
use crate::http::unsupported::{Off, Unset};

/// A product as the Loops API (V2 and V3) describes it, with the Stripe parameters of a
/// product that V3 takes too.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoopsProductBody {
    /// Required on create; 1 to 250 characters.
    #[schema(min_length = 1, max_length = 250)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `ACTIVE`, `INACTIVE` or `DRAFT` (in any case).
    #[schema(value_type = Option<ProductStatus>)]
    pub status: Option<String>,
    /// V3: kept consistent with `status`.
    pub active: Option<bool>,
    /// At most 8 image URLs.
    #[schema(max_items = 8)]
    pub images: Option<Vec<String>>,
    #[serde(rename = "thumbnailUrl", default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>)]
    pub thumbnail_url: Option<Option<String>>,
    /// At most 22 characters.
    #[serde(default, deserialize_with = "clearable")]
    #[schema(value_type = Option<String>, max_length = 22)]
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
    #[schema(pattern = "^(good|service)$")]
    pub kind: Option<String>,
    /// Up to 50 string values; replaces the whole metadata (`""` or `null` removes it).
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// `FIXED`, `CUSTOM` or `FREE` (in any case).
    #[serde(rename = "amountType")]
    #[schema(value_type = Option<AmountType>)]
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
    /// Create only (Stripe's way): the product's default price, in minor units; instead of
    /// `priceAmount` and the other Loops pricing fields.
    pub default_price_data: Option<DefaultPriceData>,
    /// Fields to expand in the answer (`default_price`).
    #[serde(default)]
    pub expand: Vec<String>,
    /// Stripe's own product ids: kassa makes its ids.
    pub id: Option<Unset>,
    pub marketing_features: Option<Off>,
    pub package_dimensions: Option<Off>,
    pub tax_details: Option<Off>,
}

impl LoopsProductBody {
    /// A new product and its default price, from the Loops pricing fields or from Stripe's
    /// `default_price_data`, not both.
    pub fn into_new(mut self) -> Result<(ProductInput, Option<PriceInput>), ApiError> {
        let price_data = self.default_price_data.take();
        let (input, pricing) = self.into_parts()?;
        let price = match (price_data, pricing.is_empty()) {
            (Some(_), false) => {
                return Err(ApiError::invalid_param(
                    "default_price_data",
                    "Invalid default_price_data: give it or the Loops pricing (amountType, \
                     priceAmount...), not both.",
                ));
            }
            (Some(data), true) => Some(data.into_input()?),
            (None, false) => Some(PriceInput::with_terms(pricing.terms(None)?)),
            (None, true) => None,
        };
        Ok((input, price))
    }

    /// An update of a product (a Loops PUT): the fields and the Loops pricing.
    pub fn into_update(self) -> Result<(ProductInput, LoopsPricing), ApiError> {
        if self.default_price_data.is_some() {
            return Err(ApiError::invalid_param(
                "default_price_data",
                "Invalid default_price_data: it applies when creating a product; change \
                 priceAmount instead.",
            ));
        }
        self.into_parts()
    }

    /// The product fields and the Loops pricing. Loops updates replace metadata as a whole.
    /// `default_price_data` and `expand` are left to [`LoopsProductBody::into_new`] and the
    /// handlers.
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
            metadata: self.metadata.map(MetadataParam::replace),
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
#[serde(deny_unknown_fields)]
pub struct LoopsProductFilter {
    /// `ACTIVE`, `INACTIVE` or `DRAFT`.
    pub status: Option<String>,
    /// `FIXED`, `CUSTOM` or `FREE`.
    #[serde(rename = "amountType")]
    #[param(rename = "amountType")]
    pub amount_type: Option<String>,
    pub active: Option<bool>,
    /// Fields to expand in each product (`data.default_price`).
    #[serde(default)]
    pub expand: Vec<String>,
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
