//! Checkout sessions as the Loops V3 and Stripe surfaces create them: every parameter of
//! Stripe's `POST /v1/checkout/sessions`, acted on or refused, plus the Loops V3 extras.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AdjustableQuantityBody, Choice, MetadataParam, SUBMIT_TYPES, card_only, metadata_param,
    stripe_choice,
};
use crate::domain::billing::checkout::MAX_TRIAL_DAYS;
use crate::domain::catalog::{PriceInput, PriceProduct, ProductInput};
use crate::domain::checkout::{CheckoutMode, LineRequest, PriceRef, SessionInput, SessionSource};
use crate::http::error::ApiError;
use crate::http::stripe::InlineRecurring;
use crate::http::unsupported::{Off, OnlyAutomatic, OnlyNever, OnlyNone, OnlyWeb, Unset};

/// `price_data` of a session line item: a price described inline, in minor units.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceDataBody {
    pub currency: String,
    /// An existing product, or `product_data` for a new one.
    pub product: Option<String>,
    pub product_data: Option<ProductDataBody>,
    /// Minor units.
    pub unit_amount: Option<i64>,
    /// Minor units as a decimal string; must be whole.
    pub unit_amount_decimal: Option<String>,
    pub recurring: Option<InlineRecurring>,
    /// `inclusive`, `exclusive` or `unspecified`.
    pub tax_behavior: Option<String>,
}

/// `product_data` of an inline price: a product made for the session.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductDataBody {
    pub name: String,
    pub description: Option<String>,
    pub images: Option<Vec<String>>,
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    pub tax_code: Option<String>,
    pub unit_label: Option<String>,
    pub tax_details: Option<Off>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionLineItemBody {
    /// A price id; or `price_data`.
    pub price: Option<String>,
    pub price_data: Option<PriceDataBody>,
    /// 1 to 1000; 1 by default.
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: Option<i64>,
    pub adjustable_quantity: Option<AdjustableQuantityBody>,
    /// Line items keep no metadata of their own in kassa.
    pub metadata: Option<Off>,
    pub tax_rates: Option<Off>,
    pub dynamic_tax_rates: Option<Off>,
}

/// `payment_intent_data`: what the session's PaymentIntent carries.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIntentDataBody {
    /// The PaymentIntent's `description`.
    pub description: Option<String>,
    /// The PaymentIntent's `metadata`.
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// At most 22 characters.
    pub statement_descriptor: Option<String>,
    /// At most 22 characters.
    pub statement_descriptor_suffix: Option<String>,
    /// kassa sends no emails.
    pub receipt_email: Option<Unset>,
    pub capture_method: Option<OnlyAutomatic>,
    pub setup_future_usage: Option<Unset>,
    pub shipping: Option<Off>,
    pub application_fee_amount: Option<Unset>,
    pub on_behalf_of: Option<Unset>,
    pub transfer_data: Option<Unset>,
    pub transfer_group: Option<Unset>,
}

/// `subscription_data`: what the subscription a subscription-mode session starts carries.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionDataBody {
    /// The subscription's `description`.
    pub description: Option<String>,
    /// The subscription's `metadata`.
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// A free trial of 1 to 730 days from the payment: the subscription starts `trialing`
    /// with a $0 first invoice, and is first charged when it ends.
    pub trial_period_days: Option<i64>,
    /// A free trial until this time (unix seconds, at least 48 hours after the session is
    /// created); not with `trial_period_days`.
    pub trial_end: Option<i64>,
    /// What happens at the trial's end when the customer gave no card
    /// (`payment_method_collection=if_required`).
    pub trial_settings: Option<TrialSettingsBody>,
    /// When billing starts (unix seconds, in the future): the stub period until then is free,
    /// and every period is counted from it. Only with `proration_behavior=none`.
    pub billing_cycle_anchor: Option<i64>,
    /// `none` (the stub period before `billing_cycle_anchor` is free); kassa does not prorate,
    /// so `create_prorations` is refused.
    pub proration_behavior: Option<String>,
    pub default_tax_rates: Option<Off>,
    pub invoice_settings: Option<Off>,
    pub application_fee_percent: Option<Unset>,
    pub on_behalf_of: Option<Unset>,
    pub transfer_data: Option<Off>,
    pub billing_mode: Option<Off>,
}

/// `subscription_data[trial_settings]`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialSettingsBody {
    pub end_behavior: TrialEndBehaviorBody,
}

/// `subscription_data[trial_settings][end_behavior]`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialEndBehaviorBody {
    /// `cancel` (kassa's default: the subscription ends with its trial) or `create_invoice`
    /// (it renews, and its unpaid invoice goes through dunning). Stripe's `pause` is refused:
    /// kassa cannot resume a paused subscription.
    pub missing_payment_method: String,
}

impl SubscriptionDataBody {
    /// What the subscription will carry, checked now so that the session is refused rather
    /// than its payment. The rules that depend on the time are the domain's.
    fn into_setting(self) -> Result<Value, ApiError> {
        let metadata = crate::domain::metadata::Metadata::validate(
            self.metadata
                .clone()
                .map(MetadataParam::into_new)
                .unwrap_or_default(),
            "subscription_data[metadata]",
        )?;
        let description = crate::domain::validate::optional_text(
            self.description.clone(),
            "subscription_data[description]",
            500,
        )?;
        let missing_payment_method = self.trial_end_behavior()?;
        let proration = self.anchor_proration()?;
        Ok(json!({
            "description": description,
            "metadata": metadata,
            "trial_period_days": self.trial_period_days,
            "trial_end": self.trial_end,
            "missing_payment_method": missing_payment_method,
            "billing_cycle_anchor": self.billing_cycle_anchor,
            "proration_behavior": proration,
        }))
    }

    /// The trial's length (one of `trial_period_days`, 1 to 730, and `trial_end`), and what
    /// its end does without a card: `cancel` unless `trial_settings` says `create_invoice`.
    fn trial_end_behavior(&self) -> Result<String, ApiError> {
        const PARAM: &str = "subscription_data";
        if let Some(days) = self.trial_period_days
            && !(1..=MAX_TRIAL_DAYS).contains(&days)
        {
            return Err(ApiError::invalid_param(
                format!("{PARAM}[trial_period_days]"),
                format!("Invalid {PARAM}[trial_period_days]: must be from 1 to {MAX_TRIAL_DAYS}."),
            ));
        }
        if self.trial_period_days.is_some() && self.trial_end.is_some() {
            return Err(ApiError::invalid_param(
                format!("{PARAM}[trial_end]"),
                "You may only specify one of these parameters: trial_end, trial_period_days.",
            ));
        }
        match &self.trial_settings {
            None => Ok("cancel".to_string()),
            Some(settings) => stripe_choice(
                "subscription_data[trial_settings][end_behavior][missing_payment_method]",
                settings.end_behavior.missing_payment_method.clone(),
                &["cancel", "create_invoice", "pause"],
                &["cancel", "create_invoice"],
            ),
        }
    }

    /// `proration_behavior`, which must be `none` with a `billing_cycle_anchor` (kassa does not
    /// prorate), and an anchor without a trial.
    fn anchor_proration(&self) -> Result<Option<String>, ApiError> {
        const PARAM: &str = "subscription_data[billing_cycle_anchor]";
        let proration = self
            .proration_behavior
            .clone()
            .map(|value| {
                stripe_choice(
                    "subscription_data[proration_behavior]",
                    value,
                    &["create_prorations", "none"],
                    &["none"],
                )
            })
            .transpose()?;
        if self.billing_cycle_anchor.is_some() {
            if proration.is_none() {
                return Err(ApiError::invalid_param(
                    PARAM,
                    "kassa does not prorate: give subscription_data[proration_behavior]=none with \
                     billing_cycle_anchor, so that the period until the anchor is free.",
                ));
            }
            if self.trial_period_days.is_some() || self.trial_end.is_some() {
                return Err(ApiError::unsupported(PARAM, "together with a trial"));
            }
        }
        Ok(proration)
    }
}

/// A checkout session to create: Stripe's parameters and the Loops V3 ones.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    /// Stripe-style lines; or `productId`.
    pub line_items: Option<Vec<SessionLineItemBody>>,
    /// Loops: sell this product at its default price.
    #[serde(rename = "productId")]
    pub product_id: Option<String>,
    /// With `productId`: 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: Option<i64>,
    /// `payment`, `subscription` or `setup`; follows the prices when absent.
    #[schema(value_type = Option<crate::domain::checkout::CheckoutMode>)]
    pub mode: Option<String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub return_url: Option<String>,
    /// `card` only.
    pub payment_method_types: Option<Vec<String>>,
    /// `card` only (Stripe's newer name for `payment_method_types`).
    pub allowed_payment_method_types: Option<Vec<String>>,
    /// An existing customer id (`/v1`), or the merchant's own reference (V3).
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    pub client_reference_id: Option<String>,
    #[serde(rename = "externalCustomerId")]
    pub external_customer_id: Option<String>,
    /// Up to 50 string values.
    #[serde(default, deserialize_with = "metadata_param")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<MetadataParam>,
    /// Unix seconds, 30 minutes to 24 hours ahead; one hour by default.
    pub expires_at: Option<i64>,
    /// `hosted` or `hosted_page`: kassa has no embedded checkout.
    pub ui_mode: Option<String>,
    /// `auto` or `en`: kassa's page is in English.
    pub locale: Option<String>,
    /// The pay button's word: `auto`, `book`, `donate`, `pay` or `subscribe`.
    pub submit_type: Option<String>,
    /// `auto` only: kassa's page collects no address.
    pub billing_address_collection: Option<String>,
    /// `always` (a Customer is made on payment) or `if_required`.
    pub customer_creation: Option<String>,
    /// The lines' currency; required in setup mode without lines, where it is the session's.
    pub currency: Option<String>,
    /// The merchant's own label for the integration, echoed.
    pub integration_identifier: Option<String>,
    /// Payment mode: the PaymentIntent's description, metadata and statement descriptors.
    pub payment_intent_data: Option<PaymentIntentDataBody>,
    /// Fields to expand in the answer.
    #[serde(default)]
    pub expand: Vec<String>,
    pub adaptive_pricing: Option<Off>,
    pub after_expiration: Option<Off>,
    /// kassa has no promotion codes.
    pub allow_promotion_codes: Option<Off>,
    pub automatic_tax: Option<Off>,
    pub branding_settings: Option<Off>,
    pub consent_collection: Option<OnlyNone>,
    pub custom_fields: Option<Off>,
    pub custom_text: Option<Off>,
    pub customer_account: Option<Unset>,
    pub customer_update: Option<OnlyNever>,
    pub discounts: Option<Off>,
    pub excluded_payment_method_types: Option<Off>,
    pub invoice_creation: Option<Off>,
    pub managed_payments: Option<Off>,
    pub name_collection: Option<Off>,
    pub optional_items: Option<Off>,
    pub origin_context: Option<OnlyWeb>,
    /// `always` (the default) or `if_required`: a subscription whose first period is free
    /// then saves no card, and what its trial's end does without one is
    /// `subscription_data[trial_settings]`'s.
    pub payment_method_collection: Option<String>,
    pub payment_method_configuration: Option<Unset>,
    pub payment_method_data: Option<Off>,
    pub payment_method_options: Option<Off>,
    pub permissions: Option<Off>,
    pub phone_number_collection: Option<Off>,
    pub redirect_on_completion: Option<Unset>,
    pub saved_payment_method_options: Option<Off>,
    pub setup_intent_data: Option<Off>,
    pub shipping_address_collection: Option<Off>,
    pub shipping_options: Option<Off>,
    /// In subscription mode: the subscription's `description` and `metadata`.
    pub subscription_data: Option<SubscriptionDataBody>,
    pub tax_id_collection: Option<Off>,
    pub wallet_options: Option<Off>,
}

impl SessionBody {
    /// The domain input: exactly one of `line_items` and `productId`.
    pub fn into_input(self) -> Result<SessionInput, ApiError> {
        let source = match (self.line_items, self.product_id) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_param(
                    "productId",
                    "Invalid productId: give line_items or productId, not both.",
                ));
            }
            (Some(_), None) if self.quantity.is_some() => {
                return Err(ApiError::invalid_param(
                    "quantity",
                    "Invalid quantity: it goes with productId; each of line_items has its own \
                     quantity.",
                ));
            }
            (Some(items), None) => SessionSource::LineItems(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| item.into_request(&format!("line_items[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
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
        input.metadata = self
            .metadata
            .map(MetadataParam::into_new)
            .unwrap_or_default();
        input.expires_at = self.expires_at;
        input.currency = self.currency.filter(|c| !c.is_empty());
        input.payment_method_types = self
            .allowed_payment_method_types
            .map(|t| card_only(t, "allowed_payment_method_types"))
            .or_else(|| {
                self.payment_method_types
                    .map(|t| card_only(t, "payment_method_types"))
            })
            .transpose()?;
        let options = SessionOptions {
            ui_mode: self.ui_mode,
            locale: self.locale,
            submit_type: self.submit_type,
            billing_address_collection: self.billing_address_collection,
            customer_creation: self.customer_creation,
            return_url: self.return_url,
            integration_identifier: self.integration_identifier,
            payment_intent_data: self.payment_intent_data,
            subscription_data: self.subscription_data,
            payment_method_collection: self.payment_method_collection,
        };
        input.settings = options.into_settings()?;
        Ok(input)
    }
}

impl SessionLineItemBody {
    /// The line as the domain takes it; `param` is where it was (`line_items[0]`).
    fn into_request(self, param: &str) -> Result<LineRequest, ApiError> {
        let price = match (self.price, self.price_data) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_param(
                    format!("{param}[price_data]"),
                    format!("Invalid {param}: give price or price_data, not both."),
                ));
            }
            (Some(price), None) => PriceRef::Existing(price),
            (None, Some(data)) => data.into_price_ref(&format!("{param}[price_data]"))?,
            (None, None) => return Err(ApiError::missing_param(format!("{param}[price]"))),
        };
        Ok(LineRequest {
            price,
            quantity: self.quantity,
            adjustable_quantity: self.adjustable_quantity.map(Into::into),
        })
    }
}

impl PriceDataBody {
    /// The inline price; `param` is where it was (`line_items[0][price_data]`).
    fn into_price_ref(self, param: &str) -> Result<PriceRef, ApiError> {
        let recurring = self.recurring.map(Into::into);
        let terms = crate::http::stripe::price_terms(
            param,
            &self.currency,
            self.unit_amount,
            self.unit_amount_decimal.as_deref(),
            None,
            recurring.as_ref(),
        )?;
        let product = match (self.product, self.product_data) {
            (Some(id), None) => PriceProduct::Existing(id),
            (None, Some(p)) => PriceProduct::New(Box::new(ProductInput {
                name: Some(p.name),
                description: p.description.map(Some),
                images: p.images,
                metadata: p.metadata.map(MetadataParam::merge),
                tax_code: p.tax_code.map(Some),
                unit_label: p.unit_label.map(Some),
                ..Default::default()
            })),
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_param(
                    format!("{param}[product_data]"),
                    format!("Invalid {param}: give product or product_data, not both."),
                ));
            }
            (None, None) => return Err(ApiError::missing_param(format!("{param}[product]"))),
        };
        let mut input = PriceInput::with_terms(terms);
        input.tax_behavior = self.tax_behavior;
        Ok(PriceRef::Inline {
            product,
            input: Box::new(input),
        })
    }
}

/// The options a session stores and echoes, each checked against what kassa can honour.
struct SessionOptions {
    ui_mode: Option<String>,
    locale: Option<String>,
    submit_type: Option<String>,
    billing_address_collection: Option<String>,
    customer_creation: Option<String>,
    return_url: Option<String>,
    integration_identifier: Option<String>,
    payment_intent_data: Option<PaymentIntentDataBody>,
    subscription_data: Option<SubscriptionDataBody>,
    payment_method_collection: Option<String>,
}

/// Stripe's `ui_mode`s, old and new names.
const UI_MODES: &[&str] = &[
    "hosted",
    "hosted_page",
    "embedded",
    "embedded_page",
    "elements",
    "custom",
    "form",
];

impl SessionOptions {
    fn into_settings(self) -> Result<serde_json::Map<String, Value>, ApiError> {
        let mut settings = serde_json::Map::new();
        let choices: [Choice; 6] = [
            (
                "ui_mode",
                self.ui_mode,
                UI_MODES,
                &["hosted", "hosted_page"],
            ),
            // Any other locale is Stripe's too: kassa's page speaks English only.
            ("locale", self.locale, &[], &["auto", "en"]),
            ("submit_type", self.submit_type, SUBMIT_TYPES, SUBMIT_TYPES),
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
            (
                "payment_method_collection",
                self.payment_method_collection,
                &["always", "if_required"],
                &["always", "if_required"],
            ),
        ];
        for (param, value, defined, supported) in choices {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                let value = stripe_choice(param, value, defined, supported)?;
                settings.insert(param.into(), Value::String(value));
            }
        }
        if let Some(url) = self.return_url.filter(|u| !u.is_empty()) {
            let url = crate::domain::validate::url(&url, "return_url", true)?;
            settings.insert("return_url".into(), Value::String(url));
        }
        if let Some(identifier) = self.integration_identifier {
            let identifier = crate::domain::validate::optional_text(
                Some(identifier),
                "integration_identifier",
                200,
            )?;
            if let Some(identifier) = identifier {
                settings.insert("integration_identifier".into(), Value::String(identifier));
            }
        }
        if let Some(data) = self.payment_intent_data {
            settings.insert("payment_intent_data".into(), data.into_setting()?);
        }
        if let Some(data) = self.subscription_data {
            settings.insert("subscription_data".into(), data.into_setting()?);
        }
        Ok(settings)
    }
}

impl PaymentIntentDataBody {
    /// What the PaymentIntent will carry, checked now so that the session is refused rather
    /// than its payment.
    fn into_setting(self) -> Result<Value, ApiError> {
        use crate::domain::validate::optional_text;
        let metadata = crate::domain::metadata::Metadata::validate(
            self.metadata
                .map(MetadataParam::into_new)
                .unwrap_or_default(),
            "payment_intent_data[metadata]",
        )?;
        Ok(json!({
            "description": optional_text(self.description, "payment_intent_data[description]", 1000)?,
            "metadata": metadata,
            "statement_descriptor": optional_text(
                self.statement_descriptor,
                "payment_intent_data[statement_descriptor]",
                22,
            )?,
            "statement_descriptor_suffix": optional_text(
                self.statement_descriptor_suffix,
                "payment_intent_data[statement_descriptor_suffix]",
                22,
            )?,
        }))
    }
}
