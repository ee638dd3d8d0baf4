//! Payment links as the Loops V3 and Stripe surfaces take them.

use serde::Deserialize;

use super::{
    Choice, MetadataParam, SUBMIT_TYPES, card_only, clearable, metadata_param, stripe_choice,
};
use crate::http::error::ApiError;
use crate::http::unsupported::{Off, OnlyAlways, OnlyNone, Unset};

/// `adjustable_quantity` of a line item.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct LinkLineItemBody {
    /// A price id (`price_...`).
    pub price: String,
    /// 1 to 1000; 1 by default.
    pub quantity: Option<i64>,
    pub adjustable_quantity: Option<AdjustableQuantityBody>,
    /// Payment links sell existing prices only.
    pub price_data: Option<Unset>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AfterCompletionBody {
    /// `redirect` or `hosted_confirmation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub redirect: Option<RedirectBody>,
    pub hosted_confirmation: Option<HostedConfirmationBody>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectBody {
    pub url: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostedConfirmationBody {
    pub custom_message: Option<String>,
}

/// A payment link, with Stripe's fields and the Loops ones (`productIds`, `successUrl`...).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
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
    /// Up to 50 string values. Stripe updates merge keys (`metadata[k]=` removes one); Loops
    /// PUTs replace the whole object; `""` removes every key.
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// `auto` only: kassa's page collects no address.
    pub billing_address_collection: Option<String>,
    /// `always` (each session from the link creates a Customer) or `if_required`.
    pub customer_creation: Option<String>,
    /// The pay button's word: `auto`, `book`, `donate`, `pay` or `subscribe`.
    pub submit_type: Option<String>,
    /// `card` only.
    pub payment_method_types: Option<Vec<String>>,
    /// Fields to expand in the answer.
    #[serde(default)]
    pub expand: Vec<String>,
    /// kassa has no promotion codes.
    pub allow_promotion_codes: Option<Off>,
    pub application_fee_amount: Option<Unset>,
    pub application_fee_percent: Option<Unset>,
    pub automatic_tax: Option<Off>,
    pub consent_collection: Option<OnlyNone>,
    /// The currency follows the prices.
    pub currency: Option<Unset>,
    pub custom_fields: Option<Off>,
    pub custom_text: Option<Off>,
    pub inactive_message: Option<Unset>,
    pub invoice_creation: Option<Off>,
    pub managed_payments: Option<Off>,
    pub name_collection: Option<Off>,
    pub on_behalf_of: Option<Unset>,
    pub optional_items: Option<Off>,
    pub payment_intent_data: Option<Off>,
    pub payment_method_collection: Option<OnlyAlways>,
    pub payment_method_options: Option<Off>,
    pub phone_number_collection: Option<Off>,
    pub restrictions: Option<Off>,
    pub shipping_address_collection: Option<Off>,
    pub shipping_options: Option<Off>,
    pub subscription_data: Option<Off>,
    pub tax_id_collection: Option<Off>,
    pub transfer_data: Option<Unset>,
}

impl PaymentLinkBody {
    /// The domain input. Loops PUTs replace metadata; Stripe updates merge it.
    pub fn into_input(
        self,
        replace_metadata: bool,
    ) -> Result<crate::domain::catalog::PaymentLinkInput, ApiError> {
        let metadata = self.metadata.map(|m| {
            if replace_metadata {
                m.replace()
            } else {
                m.merge()
            }
        });
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
            metadata,
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
        let choices: [Choice; 3] = [
            (
                "billing_address_collection",
                self.billing_address_collection,
                &["auto", "required"],
                &["auto"],
            ),
            (
                "customer_creation",
                self.customer_creation,
                &["always", "if_required"],
                &["always", "if_required"],
            ),
            ("submit_type", self.submit_type, SUBMIT_TYPES, SUBMIT_TYPES),
        ];
        for (param, value, defined, supported) in choices {
            if let Some(value) = value {
                let value = stripe_choice(param, value, defined, supported)?;
                input
                    .settings
                    .insert(param.to_string(), serde_json::Value::String(value));
            }
        }
        if let Some(types) = self.payment_method_types {
            input.settings.insert(
                "payment_method_types".into(),
                serde_json::json!(card_only(types, "payment_method_types")?),
            );
        }
        Ok(input)
    }
}
