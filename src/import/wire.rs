//! The source's objects as Stripe's API shows them: only the fields the import reads, each
//! optional where Stripe may leave it out.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// An id, or the object when it was expanded.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    Id(String),
    Object(Box<T>),
}

impl<T: HasId> Expandable<T> {
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(object) => object.id(),
        }
    }
}

/// An object with an id: what a list's cursor (`starting_after`) names.
pub trait HasId {
    fn id(&self) -> &str;
}

macro_rules! has_id {
    ($($t:ty),*) => {
        $(impl HasId for $t {
            fn id(&self) -> &str {
                &self.id
            }
        })*
    };
}
has_id!(Product, Price, Customer, PaymentLink, LinkItem, Bare);

/// Any object, read for its id only (a price's `product` when expanded).
#[derive(Debug, Clone, Deserialize)]
pub struct Bare {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub active: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub statement_descriptor: Option<String>,
    /// A `txcd_...` id (or, expanded, the tax code).
    #[serde(default)]
    pub tax_code: Option<Expandable<Bare>>,
    #[serde(default)]
    pub unit_label: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub shippable: Option<bool>,
    /// `good` or `service` (older API versions).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Expanded by the import (`expand[]=data.default_price`).
    #[serde(default)]
    pub default_price: Option<Expandable<Price>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    pub id: String,
    pub product: Expandable<Bare>,
    pub active: bool,
    pub currency: String,
    #[serde(default)]
    pub unit_amount: Option<i64>,
    #[serde(default)]
    pub unit_amount_decimal: Option<String>,
    #[serde(default)]
    pub custom_unit_amount: Option<CustomUnitAmount>,
    #[serde(default)]
    pub recurring: Option<Recurring>,
    /// `per_unit` or `tiered`.
    #[serde(default)]
    pub billing_scheme: Option<String>,
    #[serde(default)]
    pub transform_quantity: Option<Value>,
    #[serde(default)]
    pub lookup_key: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub tax_behavior: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct CustomUnitAmount {
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub preset: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Recurring {
    pub interval: String,
    #[serde(default = "one")]
    pub interval_count: i64,
    /// `licensed` or `metered`.
    #[serde(default)]
    pub usage_type: Option<String>,
    #[serde(default)]
    pub meter: Option<Value>,
    #[serde(default)]
    pub trial_period_days: Option<i64>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub test_clock: Option<Expandable<Bare>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentLink {
    pub id: String,
    pub active: bool,
    #[serde(default)]
    pub after_completion: Option<AfterCompletion>,
    #[serde(default)]
    pub allow_promotion_codes: bool,
    #[serde(default)]
    pub billing_address_collection: Option<String>,
    #[serde(default)]
    pub customer_creation: Option<String>,
    #[serde(default)]
    pub submit_type: Option<String>,
    #[serde(default)]
    pub payment_method_types: Option<Vec<String>>,
    #[serde(default)]
    pub automatic_tax: Option<Enabled>,
    #[serde(default)]
    pub phone_number_collection: Option<Enabled>,
    #[serde(default)]
    pub tax_id_collection: Option<Enabled>,
    #[serde(default)]
    pub shipping_address_collection: Option<Value>,
    #[serde(default)]
    pub custom_fields: Vec<Value>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Every other field, by name: the import reads those of features kassa's links do not
    /// have, to refuse a link that uses one.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AfterCompletion {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub redirect: Option<Redirect>,
    #[serde(default)]
    pub hosted_confirmation: Option<HostedConfirmation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Redirect {
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HostedConfirmation {
    #[serde(default)]
    pub custom_message: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Enabled {
    #[serde(default)]
    pub enabled: bool,
}

/// A line of a payment link (`GET /v1/payment_links/{id}/line_items`).
#[derive(Debug, Clone, Deserialize)]
pub struct LinkItem {
    pub id: String,
    pub price: Expandable<Bare>,
    #[serde(default = "one")]
    pub quantity: i64,
    #[serde(default)]
    pub adjustable_quantity: Option<AdjustableQuantity>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AdjustableQuantity {
    pub enabled: bool,
    #[serde(default)]
    pub minimum: Option<i64>,
    #[serde(default)]
    pub maximum: Option<i64>,
}
