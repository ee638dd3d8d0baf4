//! The catalog: products, their prices, and payment links. Every surface (Loops V2/V3, Stripe)
//! reads and writes these same objects.
//!
//! Prices are immutable in what they charge, as in Stripe: changing a Loops product's amount
//! creates a new price and makes it the product's default, so sessions already created keep
//! theirs.

use super::events::{Event, new_event};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::accounts::Caller;
use super::ids::{self, prefix};
use super::list::{CreatedRange, Page, PageRequest};
use super::metadata::{Metadata, MetadataUpdate};
use super::money::{Currency, MAX_AMOUNT, MajorAmount};
use super::{Companion, DomainError, companion_statements, validate};
use crate::objects;
use crate::store::{self, Db};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProductStatus {
    Active,
    Inactive,
    Draft,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "ACTIVE",
            ProductStatus::Inactive => "INACTIVE",
            ProductStatus::Draft => "DRAFT",
        }
    }

    pub fn parse(text: &str, param: &str) -> Result<ProductStatus, DomainError> {
        match text.to_ascii_uppercase().as_str() {
            "ACTIVE" => Ok(ProductStatus::Active),
            "INACTIVE" => Ok(ProductStatus::Inactive),
            "DRAFT" => Ok(ProductStatus::Draft),
            _ => Err(DomainError::invalid(
                param,
                format!("'{text}' is not one of ACTIVE, INACTIVE, DRAFT"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum AmountType {
    Fixed,
    Custom,
    Free,
}

impl AmountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AmountType::Fixed => "FIXED",
            AmountType::Custom => "CUSTOM",
            AmountType::Free => "FREE",
        }
    }

    pub fn parse(text: &str, param: &str) -> Result<AmountType, DomainError> {
        match text.to_ascii_uppercase().as_str() {
            "FIXED" => Ok(AmountType::Fixed),
            "CUSTOM" => Ok(AmountType::Custom),
            "FREE" => Ok(AmountType::Free),
            _ => Err(DomainError::invalid(
                param,
                format!("'{text}' is not one of FIXED, CUSTOM, FREE"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    pub fn parse(text: &str, param: &str) -> Result<Interval, DomainError> {
        match text.to_ascii_lowercase().as_str() {
            "day" => Ok(Interval::Day),
            "week" => Ok(Interval::Week),
            "month" => Ok(Interval::Month),
            "year" => Ok(Interval::Year),
            _ => Err(DomainError::invalid(
                param,
                format!("'{text}' is not one of day, week, month, year"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recurring {
    pub interval: Interval,
    pub interval_count: i64,
}

/// A price whose amount the customer chooses, within bounds (Loops CUSTOM products).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CustomUnitAmount {
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub preset: Option<i64>,
}

/// What a price charges. Immutable once the price exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTerms {
    pub currency: Currency,
    /// Minor units; `None` for a customer-chosen amount.
    pub unit_amount: Option<i64>,
    pub custom: Option<CustomUnitAmount>,
    pub recurring: Option<Recurring>,
}

impl PriceTerms {
    /// The Loops amount type these terms amount to.
    pub fn amount_type(&self) -> AmountType {
        match (self.custom, self.unit_amount) {
            (Some(_), _) => AmountType::Custom,
            (None, Some(0)) => AmountType::Free,
            _ => AmountType::Fixed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub id: String,
    pub livemode: bool,
    pub product_id: String,
    pub active: bool,
    pub terms: PriceTerms,
    pub lookup_key: Option<String>,
    pub nickname: Option<String>,
    pub tax_behavior: String,
    pub metadata: Metadata,
    pub created: i64,
}

impl Price {
    pub fn is_recurring(&self) -> bool {
        self.terms.recurring.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub livemode: bool,
    pub name: String,
    pub description: Option<String>,
    pub status: ProductStatus,
    pub images: Vec<String>,
    pub thumbnail_url: Option<String>,
    pub statement_descriptor: Option<String>,
    pub tax_code: Option<String>,
    pub unit_label: Option<String>,
    pub url: Option<String>,
    pub shippable: Option<bool>,
    /// Stripe's `type`: `good` or `service`.
    pub kind: String,
    pub metadata: Metadata,
    pub default_price: Option<Price>,
    pub created: i64,
    pub updated: i64,
}

/// A product's amounts as the Loops API shows them ([`Product::loops_amounts`]).
pub struct LoopsAmounts {
    pub price: Option<String>,
    pub minimum: Option<String>,
    pub preset: Option<String>,
}

impl Product {
    pub fn active(&self) -> bool {
        self.status == ProductStatus::Active
    }

    /// The Loops amount type, from the default price (`None` for a product without a price).
    pub fn amount_type(&self) -> Option<AmountType> {
        self.default_price.as_ref().map(|p| p.terms.amount_type())
    }

    /// The Loops amounts of its default price, in major units as the Loops API writes them
    /// (`"19.99"`): the fixed price (for `FIXED` only) and a custom amount's minimum and preset.
    pub fn loops_amounts(&self) -> LoopsAmounts {
        let terms = self.default_price.as_ref().map(|p| &p.terms);
        let major = |amount: Option<i64>| Some(terms?.currency.format_major(amount?));
        let custom = terms.and_then(|t| t.custom);
        LoopsAmounts {
            price: match self.amount_type() {
                Some(AmountType::Fixed) => major(terms.and_then(|t| t.unit_amount)),
                _ => None,
            },
            minimum: major(custom.and_then(|c| c.minimum)),
            preset: major(custom.and_then(|c| c.preset)),
        }
    }

    /// The running total a product counts under: its status and amount type.
    pub fn count_key(&self) -> String {
        count_key(self.status, self.amount_type())
    }

    /// Every running-total key a Loops product filter matches.
    pub fn count_keys_matching(
        status: Option<ProductStatus>,
        active: Option<bool>,
        amount_type: Option<AmountType>,
    ) -> Vec<String> {
        let statuses = [
            ProductStatus::Active,
            ProductStatus::Inactive,
            ProductStatus::Draft,
        ];
        let amount_types = [
            Some(AmountType::Fixed),
            Some(AmountType::Custom),
            Some(AmountType::Free),
            None,
        ];
        let mut keys = Vec::new();
        for s in statuses {
            if status.is_some_and(|wanted| wanted != s)
                || active.is_some_and(|a| a != (s == ProductStatus::Active))
            {
                continue;
            }
            for t in amount_types {
                if amount_type.is_some_and(|wanted| Some(wanted) != t) {
                    continue;
                }
                keys.push(count_key(s, t));
            }
        }
        keys
    }
}

fn count_key(status: ProductStatus, amount_type: Option<AmountType>) -> String {
    format!(
        "{}/{}",
        status.as_str(),
        amount_type.map(AmountType::as_str).unwrap_or("")
    )
}

// ----- Product input -----------------------------------------------------------------------------

pub const MAX_PRODUCT_NAME: usize = 250;
pub const MAX_DESCRIPTION: usize = 1000;
pub const MAX_IMAGES: usize = 8;
pub const MAX_STATEMENT_DESCRIPTOR: usize = 22;
pub const MAX_UNIT_LABEL: usize = 12;
pub const MAX_QUANTITY: i64 = 1000;

/// Product fields as any surface gives them; `None` leaves a field as it is (or at its default
/// on create). `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<ProductStatus>,
    pub active: Option<bool>,
    pub images: Option<Vec<String>>,
    pub thumbnail_url: Option<Option<String>>,
    pub statement_descriptor: Option<Option<String>>,
    pub tax_code: Option<Option<String>>,
    pub unit_label: Option<Option<String>>,
    pub url: Option<Option<String>>,
    pub shippable: Option<Option<bool>>,
    pub kind: Option<String>,
    pub metadata: Option<MetadataUpdate>,
}

/// A product's price as the Loops API describes it, in major units.
#[derive(Debug, Clone, Default)]
pub struct LoopsPricing {
    pub amount_type: Option<String>,
    pub price_amount: Option<MajorAmount>,
    pub minimum_amount: Option<MajorAmount>,
    pub preset_amount: Option<MajorAmount>,
    pub currency: Option<String>,
    /// `Some(None)` removes the interval (one-time price).
    pub recurring_interval: Option<Option<String>>,
}

impl LoopsPricing {
    pub fn is_empty(&self) -> bool {
        self.amount_type.is_none()
            && self.price_amount.is_none()
            && self.minimum_amount.is_none()
            && self.preset_amount.is_none()
            && self.currency.is_none()
            && self.recurring_interval.is_none()
    }

    /// The price terms these Loops fields describe, on top of the product's current price.
    pub fn terms(&self, current: Option<&PriceTerms>) -> Result<PriceTerms, DomainError> {
        let currency = match &self.currency {
            Some(code) => Currency::parse(code, "priceCurrency")?,
            None => current
                .map(|t| t.currency.clone())
                .unwrap_or_else(|| Currency::from_stored("usd".into())),
        };
        let amount_type = match &self.amount_type {
            Some(text) => AmountType::parse(text, "amountType")?,
            None if self.price_amount.is_some() => AmountType::Fixed,
            None if self.minimum_amount.is_some() || self.preset_amount.is_some() => {
                AmountType::Custom
            }
            None => current
                .map(PriceTerms::amount_type)
                .unwrap_or(AmountType::Fixed),
        };
        let recurring = match &self.recurring_interval {
            Some(Some(text)) => {
                let interval = Interval::parse(text, "recurringInterval")?;
                if !matches!(interval, Interval::Month | Interval::Year) {
                    return Err(DomainError::invalid(
                        "recurringInterval",
                        "must be month or year",
                    ));
                }
                Some(Recurring {
                    interval,
                    interval_count: 1,
                })
            }
            Some(None) => None,
            None => current.and_then(|t| t.recurring),
        };
        let at_least_half = |minor: i64| minor * 2 >= 10i64.pow(currency.exponent());
        let major = |amount: &MajorAmount, param: &str| -> Result<i64, DomainError> {
            let minor = currency.parse_major(&amount.0, param)?;
            if minor > MAX_AMOUNT {
                return Err(DomainError::invalid(
                    param,
                    "is larger than the largest amount kassa accepts",
                ));
            }
            Ok(minor)
        };
        let (unit_amount, custom) = match amount_type {
            AmountType::Fixed => {
                if self.minimum_amount.is_some() || self.preset_amount.is_some() {
                    return Err(DomainError::invalid(
                        "amountType",
                        "minimumAmount and presetAmount apply to CUSTOM products only",
                    ));
                }
                let amount = match &self.price_amount {
                    Some(amount) => major(amount, "priceAmount")?,
                    None => match current.and_then(|t| {
                        (t.amount_type() == AmountType::Fixed).then_some(t.unit_amount)
                    }) {
                        Some(Some(amount)) if self.currency.is_none() => amount,
                        _ => {
                            return Err(DomainError::invalid(
                                "priceAmount",
                                "is required for FIXED products",
                            ));
                        }
                    },
                };
                if !at_least_half(amount) {
                    return Err(DomainError::invalid("priceAmount", "must be at least 0.5"));
                }
                (Some(amount), None)
            }
            AmountType::Custom => {
                if self.price_amount.is_some() {
                    return Err(DomainError::invalid(
                        "priceAmount",
                        "applies to FIXED products; CUSTOM products take minimumAmount and presetAmount",
                    ));
                }
                let previous = current.and_then(|t| t.custom).unwrap_or_default();
                let minimum = match &self.minimum_amount {
                    Some(a) => Some(major(a, "minimumAmount")?),
                    None => previous.minimum,
                };
                let preset = match &self.preset_amount {
                    Some(a) => Some(major(a, "presetAmount")?),
                    None => previous.preset,
                };
                if let Some(minimum) = minimum
                    && !at_least_half(minimum)
                {
                    return Err(DomainError::invalid(
                        "minimumAmount",
                        "must be at least 0.5",
                    ));
                }
                if let Some(preset) = preset {
                    if preset > 10_000 * 10i64.pow(currency.exponent()) {
                        return Err(DomainError::invalid(
                            "presetAmount",
                            "must be at most 10000",
                        ));
                    }
                    if minimum.is_some_and(|m| preset < m) {
                        return Err(DomainError::invalid(
                            "presetAmount",
                            "must not be less than minimumAmount",
                        ));
                    }
                }
                (
                    None,
                    Some(CustomUnitAmount {
                        minimum,
                        // Loops has no maximum; one set through Stripe stays.
                        maximum: previous.maximum,
                        preset,
                    }),
                )
            }
            AmountType::Free => {
                for (given, param) in [
                    (self.price_amount.is_some(), "priceAmount"),
                    (self.minimum_amount.is_some(), "minimumAmount"),
                    (self.preset_amount.is_some(), "presetAmount"),
                ] {
                    if given {
                        return Err(DomainError::invalid(
                            param,
                            "does not apply to FREE products",
                        ));
                    }
                }
                (Some(0), None)
            }
        };
        Ok(PriceTerms {
            currency,
            unit_amount,
            custom,
            recurring,
        })
    }
}

fn validate_images(images: Vec<String>) -> Result<Vec<String>, DomainError> {
    if images.len() > MAX_IMAGES {
        return Err(DomainError::invalid(
            "images",
            format!("may hold at most {MAX_IMAGES} URLs"),
        ));
    }
    images
        .into_iter()
        .enumerate()
        .map(|(i, url)| validate::url(&url, &format!("images[{i}]"), false))
        .collect()
}

fn validate_statement_descriptor(text: Option<String>) -> Result<Option<String>, DomainError> {
    let text = validate::optional_text(text, "statement_descriptor", MAX_STATEMENT_DESCRIPTOR)?;
    if let Some(text) = &text {
        if text
            .chars()
            .any(|c| !c.is_ascii() || "<>\\'\"*".contains(c))
        {
            return Err(DomainError::invalid(
                "statement_descriptor",
                "may contain only ASCII characters other than < > \\ ' \" *",
            ));
        }
        if !text.chars().any(|c| c.is_ascii_alphabetic()) {
            return Err(DomainError::invalid(
                "statement_descriptor",
                "must contain at least one letter",
            ));
        }
    }
    Ok(text)
}

fn optional_url(value: Option<String>, param: &str) -> Result<Option<String>, DomainError> {
    match value {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => validate::url(&v, param, false).map(Some),
        None => Ok(None),
    }
}

/// Applies `input` to `product` (a fresh default on create), checking every field.
fn apply_product_input(product: &mut Product, input: ProductInput) -> Result<(), DomainError> {
    if let Some(name) = input.name {
        product.name = validate::text(&name, "name", MAX_PRODUCT_NAME, true)?
            .trim()
            .to_string();
    }
    if let Some(description) = input.description {
        product.description = validate::optional_text(description, "description", MAX_DESCRIPTION)?;
    }
    match (input.status, input.active) {
        (Some(status), Some(active)) if (status == ProductStatus::Active) != active => {
            return Err(DomainError::invalid(
                "active",
                format!("contradicts status {}", status.as_str()),
            ));
        }
        (Some(status), _) => product.status = status,
        (None, Some(true)) => product.status = ProductStatus::Active,
        (None, Some(false)) => product.status = ProductStatus::Inactive,
        (None, None) => {}
    }
    if let Some(images) = input.images {
        product.images = validate_images(images)?;
    }
    if let Some(url) = input.thumbnail_url {
        product.thumbnail_url = optional_url(url, "thumbnailUrl")?;
    }
    if let Some(descriptor) = input.statement_descriptor {
        product.statement_descriptor = validate_statement_descriptor(descriptor)?;
    }
    if let Some(tax_code) = input.tax_code {
        product.tax_code = validate::optional_text(tax_code, "tax_code", 64)?;
    }
    if let Some(unit_label) = input.unit_label {
        product.unit_label = validate::optional_text(unit_label, "unit_label", MAX_UNIT_LABEL)?;
    }
    if let Some(url) = input.url {
        product.url = optional_url(url, "url")?;
    }
    if let Some(shippable) = input.shippable {
        product.shippable = shippable;
    }
    if let Some(kind) = input.kind {
        if kind != "good" && kind != "service" {
            return Err(DomainError::invalid(
                "type",
                format!("'{kind}' is not one of good, service"),
            ));
        }
        product.kind = kind;
    }
    if let Some(update) = input.metadata {
        product.metadata = product.metadata.updated(update, "metadata")?;
    }
    Ok(())
}

/// A price to create: its terms and the rest of its fields.
#[derive(Debug, Clone)]
pub struct PriceInput {
    pub terms: PriceTerms,
    pub active: Option<bool>,
    pub lookup_key: Option<String>,
    pub transfer_lookup_key: bool,
    pub nickname: Option<String>,
    pub tax_behavior: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

impl PriceInput {
    pub fn with_terms(terms: PriceTerms) -> PriceInput {
        PriceInput {
            terms,
            active: None,
            lookup_key: None,
            transfer_lookup_key: false,
            nickname: None,
            tax_behavior: None,
            metadata: BTreeMap::new(),
        }
    }
}

fn validate_terms(terms: &PriceTerms) -> Result<(), DomainError> {
    if let Some(amount) = terms.unit_amount
        && !(0..=MAX_AMOUNT).contains(&amount)
    {
        return Err(DomainError::invalid(
            "unit_amount",
            format!("must be between 0 and {MAX_AMOUNT}"),
        ));
    }
    if let Some(recurring) = terms.recurring
        && !(1..=365).contains(&recurring.interval_count)
    {
        return Err(DomainError::invalid(
            "recurring[interval_count]",
            "must be between 1 and 365",
        ));
    }
    if terms.unit_amount.is_none() && terms.custom.is_none() {
        return Err(DomainError::invalid(
            "unit_amount",
            "is required unless custom_unit_amount is enabled",
        ));
    }
    Ok(())
}

fn new_price(
    caller: &Caller,
    product_id: &str,
    input: PriceInput,
    now: i64,
) -> Result<Price, DomainError> {
    validate_terms(&input.terms)?;
    let tax_behavior = input.tax_behavior.unwrap_or_else(|| "unspecified".into());
    if !["unspecified", "inclusive", "exclusive"].contains(&tax_behavior.as_str()) {
        return Err(DomainError::invalid(
            "tax_behavior",
            format!("'{tax_behavior}' is not one of inclusive, exclusive, unspecified"),
        ));
    }
    Ok(Price {
        id: ids::new_id(prefix::PRICE, ids::now_ms()),
        livemode: caller.mode.is_live(),
        product_id: product_id.to_string(),
        active: input.active.unwrap_or(true),
        terms: input.terms,
        lookup_key: validate::optional_text(input.lookup_key, "lookup_key", 200)?,
        nickname: validate::optional_text(input.nickname, "nickname", 250)?,
        tax_behavior,
        metadata: Metadata::validate(input.metadata, "metadata")?,
        created: now,
    })
}

fn blank_product(caller: &Caller, now: i64) -> Product {
    Product {
        id: ids::new_id(prefix::PRODUCT, ids::now_ms()),
        livemode: caller.mode.is_live(),
        name: String::new(),
        description: None,
        status: ProductStatus::Active,
        images: Vec::new(),
        thumbnail_url: None,
        statement_descriptor: None,
        tax_code: None,
        unit_label: None,
        url: None,
        shippable: None,
        kind: "service".into(),
        metadata: Metadata::default(),
        default_price: None,
        created: now,
        updated: now,
    }
}

/// A product described inline (`price_data[product_data]`), checked but not yet stored.
pub fn new_inline_product(
    caller: &Caller,
    input: ProductInput,
    now: i64,
) -> Result<Product, DomainError> {
    if input.name.is_none() {
        return Err(DomainError::invalid("name", "is required"));
    }
    let mut product = blank_product(caller, now);
    apply_product_input(&mut product, input)?;
    Ok(product)
}

/// A price described inline (`price_data`), checked but not yet stored.
pub fn new_inline_price(
    caller: &Caller,
    product_id: &str,
    input: PriceInput,
    now: i64,
) -> Result<Price, DomainError> {
    new_price(caller, product_id, input, now)
}

// ----- Product operations ------------------------------------------------------------------------

/// Creates a product, with a default price when `price` is given.
/// An event about a catalog object, written with its change.
fn catalog_event(
    caller: &Caller,
    kind: &str,
    id: &str,
    object: serde_json::Value,
    now: i64,
) -> Event {
    new_event(
        &caller.account_id,
        caller.mode.is_live(),
        kind,
        id,
        object,
        now,
    )
}

fn product_event(caller: &Caller, kind: &str, product: &Product, now: i64) -> Event {
    let object = objects::to_value(&objects::Product::new(product, caller));
    catalog_event(caller, kind, &product.id, object, now)
}

fn price_event(caller: &Caller, kind: &str, price: &Price, now: i64) -> Event {
    let object = objects::to_value(&objects::Price::new(price));
    catalog_event(caller, kind, &price.id, object, now)
}

fn link_event(
    caller: &Caller,
    kind: &str,
    link: &PaymentLink,
    public_url: &str,
    now: i64,
) -> Event {
    let object = objects::to_value(&objects::PaymentLink::new(link, public_url));
    catalog_event(caller, kind, &link.id, object, now)
}

pub async fn create_product(
    db: &Db,
    caller: &Caller,
    input: ProductInput,
    price: Option<PriceInput>,
    now: i64,
) -> Result<Product, DomainError> {
    create_product_with(db, caller, input, price, now, None).await
}

/// [`create_product`], writing `companion`'s statements in its transaction.
pub async fn create_product_with(
    db: &Db,
    caller: &Caller,
    input: ProductInput,
    price: Option<PriceInput>,
    now: i64,
    companion: Companion<'_, Product>,
) -> Result<Product, DomainError> {
    if input.name.is_none() {
        return Err(DomainError::invalid("name", "is required"));
    }
    let mut product = blank_product(caller, now);
    apply_product_input(&mut product, input)?;
    if let Some(price) = price {
        let price = new_price(caller, &product.id, price, now)
            .map_err(|e| e.under("default_price_data"))?;
        product.default_price = Some(price);
    }
    let mut events = vec![product_event(caller, "product.created", &product, now)];
    if let Some(price) = &product.default_price {
        events.push(price_event(caller, "price.created", price, now));
    }
    let also = companion_statements(companion, &product);
    store::catalog::insert_product(db, caller, &product, &events, &also).await?;
    Ok(product)
}

/// Changes a product's fields. A changed Loops price (`pricing`) becomes a new default price,
/// and the old default is deactivated; `default_price` (Stripe) makes an existing price of the
/// product the default.
pub async fn update_product(
    db: &Db,
    caller: &Caller,
    id: &str,
    input: ProductInput,
    pricing: Option<LoopsPricing>,
    default_price: Option<String>,
    now: i64,
) -> Result<Product, DomainError> {
    let change = ProductChange {
        input,
        pricing,
        default_price,
    };
    update_product_with(db, caller, id, change, now, None).await
}

/// The changes [`update_product`] makes: fields, a Loops price, a Stripe default price.
#[derive(Debug, Clone, Default)]
pub struct ProductChange {
    pub input: ProductInput,
    pub pricing: Option<LoopsPricing>,
    pub default_price: Option<String>,
}

/// [`update_product`], writing `companion`'s statements in its transaction.
pub async fn update_product_with(
    db: &Db,
    caller: &Caller,
    id: &str,
    change: ProductChange,
    now: i64,
    companion: Companion<'_, Product>,
) -> Result<Product, DomainError> {
    let ProductChange {
        input,
        pricing,
        default_price,
    } = change;
    let mut product = get_product(db, caller, id).await?;
    let before = objects::to_value(&objects::Product::new(&product, caller));
    let previous_count_key = product.count_key();
    apply_product_input(&mut product, input)?;
    product.updated = now;
    let mut new_default = None;
    let mut retired = None;
    if let Some(pricing) = pricing.filter(|p| !p.is_empty()) {
        let current = product.default_price.as_ref().map(|p| &p.terms);
        let terms = pricing.terms(current)?;
        if current != Some(&terms) {
            let price = new_price(caller, &product.id, PriceInput::with_terms(terms), now)?;
            retired = product.default_price.as_ref().map(|p| p.id.clone());
            new_default = Some(price.clone());
            product.default_price = Some(price);
        }
    }
    if let Some(price_id) = default_price {
        let price = get_price(db, caller, &price_id)
            .await
            .map_err(DomainError::as_reference("default_price"))?;
        if price.product_id != product.id {
            return Err(DomainError::invalid(
                "default_price",
                "must be a price of this product",
            ));
        }
        if !price.active {
            return Err(DomainError::invalid(
                "default_price",
                "must be an active price",
            ));
        }
        product.default_price = Some(price);
    }
    let mut events = Vec::new();
    if let Some(price) = &new_default {
        events.push(price_event(caller, "price.created", price, now));
    }
    events.push(product_event(caller, "product.updated", &product, now).with_previous(&before));
    let also = companion_statements(companion, &product);
    store::catalog::update_product(
        db,
        caller,
        &product,
        &previous_count_key,
        new_default
            .as_ref()
            .map(|price| (price, retired.as_deref())),
        &events,
        &also,
    )
    .await?;
    Ok(product)
}

/// Archives a product: it stays readable but becomes inactive, so it starts no new sessions.
pub async fn archive_product(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
) -> Result<Product, DomainError> {
    let input = ProductInput {
        status: Some(ProductStatus::Inactive),
        ..Default::default()
    };
    update_product(db, caller, id, input, None, None, now).await
}

/// Deletes a product that has no prices (Stripe's `DELETE /v1/products/{id}`); from then on it
/// is not found. A product with prices can only be archived.
pub async fn delete_product(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
) -> Result<(), DomainError> {
    let product = get_product(db, caller, id).await?;
    if store::catalog::product_has_prices(db, id).await? {
        return Err(DomainError::invalid(
            "id",
            "this product cannot be deleted because it has one or more prices; archive it with active=false",
        ));
    }
    let deleted = product_event(caller, "product.deleted", &product, now);
    store::catalog::delete_product(db, caller, &product, &[deleted]).await?;
    Ok(())
}

pub async fn get_product(db: &Db, caller: &Caller, id: &str) -> Result<Product, DomainError> {
    store::catalog::get_product(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("product", id))
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    pub status: Option<ProductStatus>,
    pub active: Option<bool>,
    pub amount_type: Option<AmountType>,
    pub shippable: Option<bool>,
    pub url: Option<String>,
    pub ids: Option<Vec<String>>,
    /// `good` or `service`.
    pub kind: Option<String>,
    /// Products whose name contains this text, in any case (the dashboard's search).
    pub name_contains: Option<String>,
    pub created: CreatedRange,
}

pub async fn list_products(
    db: &Db,
    caller: &Caller,
    filter: &ProductFilter,
    page: &PageRequest,
) -> Result<Page<Product>, DomainError> {
    page.check_cursor(|id| async move { get_product(db, caller, &id).await })
        .await?;
    Ok(store::catalog::list_products(db, caller, filter, page).await?)
}

/// How many products match `filter` (the Loops V2 `total`).
pub async fn count_products(
    db: &Db,
    caller: &Caller,
    filter: &ProductFilter,
) -> Result<u64, DomainError> {
    Ok(store::catalog::count_products(db, caller, filter).await?)
}

// ----- Price operations --------------------------------------------------------------------------

/// Creates a price for an existing product, or for a new product made from `product_data`.
pub async fn create_price(
    db: &Db,
    caller: &Caller,
    product: PriceProduct,
    input: PriceInput,
    now: i64,
) -> Result<Price, DomainError> {
    create_price_with(db, caller, product, input, now, None).await
}

/// [`create_price`], writing `companion`'s statements in its transaction (for a price of an
/// existing product; a new product's price ignores it).
pub async fn create_price_with(
    db: &Db,
    caller: &Caller,
    product: PriceProduct,
    input: PriceInput,
    now: i64,
    companion: Companion<'_, Price>,
) -> Result<Price, DomainError> {
    let transfer = input.transfer_lookup_key;
    match product {
        PriceProduct::Existing(product_id) => {
            let product = get_product(db, caller, &product_id)
                .await
                .map_err(DomainError::as_reference("product"))?;
            let price = new_price(caller, &product.id, input, now)?;
            let created = price_event(caller, "price.created", &price, now);
            let also = companion_statements(companion, &price);
            store::catalog::insert_price(db, caller, &price, transfer, &[created], &also)
                .await
                .map_err(lookup_key_taken)?;
            Ok(price)
        }
        PriceProduct::New(product_input) => {
            let mut product = blank_product(caller, now);
            if product_input.name.is_none() {
                return Err(DomainError::invalid("product_data[name]", "is required"));
            }
            apply_product_input(&mut product, *product_input)?;
            let price = new_price(caller, &product.id, input, now)?;
            let events = [
                product_event(caller, "product.created", &product, now),
                price_event(caller, "price.created", &price, now),
            ];
            store::catalog::insert_product_with_price(
                db, caller, &product, &price, transfer, &events,
            )
            .await
            .map_err(lookup_key_taken)?;
            Ok(price)
        }
    }
}

/// The product a new price belongs to.
#[derive(Debug, Clone)]
pub enum PriceProduct {
    Existing(String),
    New(Box<ProductInput>),
}

/// The fields of a price that may change after creation.
#[derive(Debug, Clone, Default)]
pub struct PriceUpdate {
    pub active: Option<bool>,
    pub lookup_key: Option<Option<String>>,
    pub transfer_lookup_key: bool,
    pub nickname: Option<Option<String>>,
    pub tax_behavior: Option<String>,
    pub metadata: Option<MetadataUpdate>,
}

pub async fn update_price(
    db: &Db,
    caller: &Caller,
    id: &str,
    update: PriceUpdate,
    now: i64,
) -> Result<Price, DomainError> {
    update_price_with(db, caller, id, update, now, None).await
}

/// [`update_price`], writing `companion`'s statements in its transaction.
pub async fn update_price_with(
    db: &Db,
    caller: &Caller,
    id: &str,
    update: PriceUpdate,
    now: i64,
    companion: Companion<'_, Price>,
) -> Result<Price, DomainError> {
    let mut price = get_price(db, caller, id).await?;
    let before = objects::to_value(&objects::Price::new(&price));
    if let Some(active) = update.active {
        price.active = active;
    }
    if let Some(lookup_key) = update.lookup_key {
        price.lookup_key = validate::optional_text(lookup_key, "lookup_key", 200)?;
    }
    if let Some(nickname) = update.nickname {
        price.nickname = validate::optional_text(nickname, "nickname", 250)?;
    }
    if let Some(tax_behavior) = update.tax_behavior {
        if price.tax_behavior != "unspecified" && price.tax_behavior != tax_behavior {
            return Err(DomainError::invalid(
                "tax_behavior",
                "cannot be changed once it is specified",
            ));
        }
        if !["unspecified", "inclusive", "exclusive"].contains(&tax_behavior.as_str()) {
            return Err(DomainError::invalid(
                "tax_behavior",
                format!("'{tax_behavior}' is not one of inclusive, exclusive, unspecified"),
            ));
        }
        price.tax_behavior = tax_behavior;
    }
    if let Some(metadata) = update.metadata {
        price.metadata = price.metadata.updated(metadata, "metadata")?;
    }
    let updated = price_event(caller, "price.updated", &price, now).with_previous(&before);
    let also = companion_statements(companion, &price);
    let transfer = update.transfer_lookup_key;
    store::catalog::update_price(db, caller, &price, transfer, &[updated], &also)
        .await
        .map_err(lookup_key_taken)?;
    Ok(price)
}

/// The only unique constraint a price write can break is its lookup key's.
fn lookup_key_taken(error: store::StoreError) -> DomainError {
    if error.is_unique_violation() {
        DomainError::invalid(
            "lookup_key",
            "is already used by another price; pass transfer_lookup_key=true to move it to this one",
        )
    } else {
        error.into()
    }
}

pub async fn get_price(db: &Db, caller: &Caller, id: &str) -> Result<Price, DomainError> {
    store::catalog::get_price(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("price", id))
}

/// A price with its product, in one read: what a line item with a price id needs.
pub async fn get_price_with_product(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> Result<(Price, Product), DomainError> {
    store::catalog::get_price_with_product(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("price", id))
}

#[derive(Debug, Clone, Default)]
pub struct PriceFilter {
    pub active: Option<bool>,
    pub currency: Option<Currency>,
    pub product: Option<String>,
    pub recurring: Option<bool>,
    pub interval: Option<Interval>,
    pub lookup_keys: Option<Vec<String>>,
    pub created: CreatedRange,
}

pub async fn list_prices(
    db: &Db,
    caller: &Caller,
    filter: &PriceFilter,
    page: &PageRequest,
) -> Result<Page<Price>, DomainError> {
    page.check_cursor(|id| async move { get_price(db, caller, &id).await })
        .await?;
    if let Some(product) = &filter.product {
        get_product(db, caller, product)
            .await
            .map_err(DomainError::as_reference("product"))?;
    }
    Ok(store::catalog::list_prices(db, caller, filter, page).await?)
}

// ----- Payment links -----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustableQuantity {
    pub enabled: bool,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
}

impl AdjustableQuantity {
    /// Checks the bounds; `param` names the field.
    pub fn validate(self, param: &str) -> Result<AdjustableQuantity, DomainError> {
        if let Some(minimum) = self.minimum
            && minimum < 1
        {
            return Err(DomainError::invalid(
                format!("{param}[minimum]"),
                "must be at least 1",
            ));
        }
        if let Some(maximum) = self.maximum {
            if maximum > MAX_QUANTITY {
                return Err(DomainError::invalid(
                    format!("{param}[maximum]"),
                    format!("must be at most {MAX_QUANTITY}"),
                ));
            }
            if maximum < self.minimum.unwrap_or(1) {
                return Err(DomainError::invalid(
                    format!("{param}[maximum]"),
                    "must not be less than minimum",
                ));
            }
        }
        Ok(self)
    }
}

/// One line of a payment link: a price and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkItem {
    pub id: String,
    pub price: String,
    pub quantity: i64,
    pub adjustable_quantity: Option<AdjustableQuantity>,
}

/// A line item as requested, before its price is checked.
#[derive(Debug, Clone)]
pub struct LinkItemInput {
    pub price: String,
    pub quantity: Option<i64>,
    pub adjustable_quantity: Option<AdjustableQuantity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLink {
    pub id: String,
    pub livemode: bool,
    pub active: bool,
    pub label: Option<String>,
    pub items: Vec<LinkItem>,
    /// The items' prices, in item order.
    pub prices: Vec<Price>,
    pub currency: Currency,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub confirmation_message: Option<String>,
    pub allow_promotion_codes: bool,
    /// Stripe settings kassa stores and echoes (billing_address_collection, submit_type...).
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub metadata: Metadata,
    pub created: i64,
    pub updated: i64,
}

impl PaymentLink {
    /// The products of the link's items (the Loops `productIds`), in item order, without repeats.
    pub fn product_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for price in &self.prices {
            if !ids.contains(&price.product_id) {
                ids.push(price.product_id.clone());
            }
        }
        ids
    }

    /// The link's public URL.
    pub fn url(&self, public_url: &str) -> String {
        format!("{public_url}/l/{}", self.id)
    }
}

/// Payment link fields as any surface gives them; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct PaymentLinkInput {
    /// Stripe-style lines.
    pub line_items: Option<Vec<LinkItemInput>>,
    /// Loops-style: each product's default price, quantity 1.
    pub product_ids: Option<Vec<String>>,
    pub active: Option<bool>,
    pub label: Option<Option<String>>,
    pub success_url: Option<Option<String>>,
    pub cancel_url: Option<Option<String>>,
    pub confirmation_message: Option<Option<String>>,
    pub allow_promotion_codes: Option<bool>,
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub metadata: Option<MetadataUpdate>,
}

/// Resolves the requested lines into items and their prices, checking that every price can be
/// sold: active, of an active product, all in one currency.
async fn resolve_link_items(
    db: &Db,
    caller: &Caller,
    input: &PaymentLinkInput,
) -> Result<Option<(Vec<LinkItem>, Vec<Price>)>, DomainError> {
    // Each line with the parameter its price came from: `line_items[0][price]`, or
    // `productIds[0]` for a product's default price; quantities exist only on line items.
    let requested: Vec<(LinkItemInput, String)> = match (&input.line_items, &input.product_ids) {
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                "productIds",
                "give either line_items or productIds, not both",
            ));
        }
        (Some(items), None) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.clone(), format!("line_items[{i}][price]")))
            .collect(),
        (None, Some(product_ids)) => {
            let mut items = Vec::new();
            for (i, product_id) in product_ids.iter().enumerate() {
                let param = format!("productIds[{i}]");
                let product = get_product(db, caller, product_id)
                    .await
                    .map_err(DomainError::as_reference(param.clone()))?;
                let price = product.default_price.ok_or_else(|| {
                    DomainError::invalid(
                        param.clone(),
                        format!("product '{product_id}' has no price"),
                    )
                })?;
                items.push((
                    LinkItemInput {
                        price: price.id,
                        quantity: Some(1),
                        adjustable_quantity: None,
                    },
                    param,
                ));
            }
            items
        }
        (None, None) => return Ok(None),
    };
    if requested.is_empty() {
        return Err(DomainError::invalid(
            "line_items",
            "must contain at least one item",
        ));
    }
    if requested.len() > 20 {
        return Err(DomainError::invalid(
            "line_items",
            "may contain at most 20 items",
        ));
    }
    let mut items = Vec::new();
    let mut prices: Vec<Price> = Vec::new();
    for (item, price_param) in requested {
        let line = price_param
            .strip_suffix("[price]")
            .unwrap_or(&price_param)
            .to_string();
        let price = get_price(db, caller, &item.price)
            .await
            .map_err(DomainError::as_reference(price_param.clone()))?;
        if !price.active {
            return Err(DomainError::invalid(
                price_param,
                format!("price '{}' is not active", price.id),
            ));
        }
        let product = get_product(db, caller, &price.product_id).await?;
        if !product.active() {
            return Err(DomainError::invalid(
                price_param,
                format!("product '{}' is not active", product.id),
            ));
        }
        if let Some(first) = prices.first()
            && first.terms.currency != price.terms.currency
        {
            return Err(DomainError::invalid(
                price_param,
                "all items must share one currency",
            ));
        }
        let quantity = item.quantity.unwrap_or(1);
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(DomainError::invalid(
                format!("{line}[quantity]"),
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        let adjustable_quantity = item
            .adjustable_quantity
            .map(|a| a.validate(&format!("{line}[adjustable_quantity]")))
            .transpose()?;
        items.push(LinkItem {
            id: ids::new_id(prefix::LINE_ITEM, ids::now_ms()),
            price: price.id.clone(),
            quantity,
            adjustable_quantity,
        });
        prices.push(price);
    }
    Ok(Some((items, prices)))
}

fn apply_link_input(link: &mut PaymentLink, input: PaymentLinkInput) -> Result<(), DomainError> {
    if let Some(active) = input.active {
        link.active = active;
    }
    if let Some(label) = input.label {
        link.label = validate::optional_text(label, "label", 250)?;
    }
    if let Some(url) = input.success_url {
        link.success_url = url
            .filter(|u| !u.is_empty())
            .map(|u| validate::url(&u, "successUrl", true))
            .transpose()?;
    }
    if let Some(url) = input.cancel_url {
        link.cancel_url = url
            .filter(|u| !u.is_empty())
            .map(|u| validate::url(&u, "cancelUrl", true))
            .transpose()?;
    }
    if let Some(message) = input.confirmation_message {
        link.confirmation_message = validate::optional_text(
            message,
            "after_completion[hosted_confirmation][custom_message]",
            500,
        )?;
    }
    if let Some(allow) = input.allow_promotion_codes {
        link.allow_promotion_codes = allow;
    }
    for (key, value) in input.settings {
        link.settings.insert(key, value);
    }
    if let Some(update) = input.metadata {
        link.metadata = link.metadata.updated(update, "metadata")?;
    }
    Ok(())
}

pub async fn create_payment_link(
    db: &Db,
    caller: &Caller,
    input: PaymentLinkInput,
    public_url: &str,
    now: i64,
) -> Result<PaymentLink, DomainError> {
    create_payment_link_with(db, caller, input, public_url, now, None).await
}

/// [`create_payment_link`], writing `companion`'s statements in its transaction.
pub async fn create_payment_link_with(
    db: &Db,
    caller: &Caller,
    input: PaymentLinkInput,
    public_url: &str,
    now: i64,
    companion: Companion<'_, PaymentLink>,
) -> Result<PaymentLink, DomainError> {
    let (items, prices) = resolve_link_items(db, caller, &input)
        .await?
        .ok_or_else(|| DomainError::invalid("line_items", "is required (or productIds)"))?;
    let mut link = PaymentLink {
        id: ids::new_id(prefix::PAYMENT_LINK, ids::now_ms()),
        livemode: caller.mode.is_live(),
        active: true,
        label: None,
        currency: prices[0].terms.currency.clone(),
        items,
        prices,
        success_url: None,
        cancel_url: None,
        confirmation_message: None,
        allow_promotion_codes: false,
        settings: serde_json::Map::new(),
        metadata: Metadata::default(),
        created: now,
        updated: now,
    };
    apply_link_input(&mut link, input)?;
    let created = link_event(caller, "payment_link.created", &link, public_url, now);
    let also = companion_statements(companion, &link);
    store::catalog::insert_payment_link(db, caller, &link, &[created], &also).await?;
    Ok(link)
}

pub async fn update_payment_link(
    db: &Db,
    caller: &Caller,
    id: &str,
    input: PaymentLinkInput,
    public_url: &str,
    now: i64,
) -> Result<PaymentLink, DomainError> {
    update_payment_link_with(db, caller, id, input, public_url, now, None).await
}

/// [`update_payment_link`], writing `companion`'s statements in its transaction.
pub async fn update_payment_link_with(
    db: &Db,
    caller: &Caller,
    id: &str,
    input: PaymentLinkInput,
    public_url: &str,
    now: i64,
    companion: Companion<'_, PaymentLink>,
) -> Result<PaymentLink, DomainError> {
    let mut link = get_payment_link(db, caller, id).await?;
    let before = objects::to_value(&objects::PaymentLink::new(&link, public_url));
    if let Some((items, prices)) = resolve_link_items(db, caller, &input).await? {
        link.currency = prices[0].terms.currency.clone();
        link.items = items;
        link.prices = prices;
    }
    apply_link_input(&mut link, input)?;
    link.updated = now;
    let updated =
        link_event(caller, "payment_link.updated", &link, public_url, now).with_previous(&before);
    let also = companion_statements(companion, &link);
    store::catalog::update_payment_link(db, caller, &link, &[updated], &also).await?;
    Ok(link)
}

pub async fn get_payment_link(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> Result<PaymentLink, DomainError> {
    store::catalog::get_payment_link(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("payment_link", id))
}

#[derive(Debug, Clone, Default)]
pub struct PaymentLinkFilter {
    pub active: Option<bool>,
}

pub async fn list_payment_links(
    db: &Db,
    caller: &Caller,
    filter: &PaymentLinkFilter,
    page: &PageRequest,
) -> Result<Page<PaymentLink>, DomainError> {
    page.check_cursor(|id| async move { get_payment_link(db, caller, &id).await })
        .await?;
    Ok(store::catalog::list_payment_links(db, caller, filter, page).await?)
}

/// The account and mode a payment link belongs to: a public visit acts as them.
pub async fn payment_link_owner(db: &Db, id: &str) -> Result<Option<Caller>, DomainError> {
    Ok(store::catalog::payment_link_owner(db, id)
        .await?
        .map(|(account_id, livemode)| Caller::without_key(account_id, livemode)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd_terms(amount: i64) -> PriceTerms {
        PriceTerms {
            currency: Currency::from_stored("usd".into()),
            unit_amount: Some(amount),
            custom: None,
            recurring: None,
        }
    }

    fn pricing(amount_type: &str) -> LoopsPricing {
        LoopsPricing {
            amount_type: Some(amount_type.into()),
            ..Default::default()
        }
    }

    #[test]
    fn loops_pricing_turns_into_terms() {
        let fixed = LoopsPricing {
            price_amount: Some(MajorAmount("29.99".into())),
            currency: Some("usd".into()),
            ..pricing("FIXED")
        };
        assert_eq!(fixed.terms(None).unwrap(), usd_terms(2999));

        let missing = pricing("FIXED");
        assert!(
            missing
                .terms(None)
                .unwrap_err()
                .to_string()
                .contains("priceAmount")
        );

        let too_small = LoopsPricing {
            price_amount: Some(MajorAmount("0.49".into())),
            ..pricing("FIXED")
        };
        assert!(too_small.terms(None).is_err());

        let custom = LoopsPricing {
            minimum_amount: Some(MajorAmount("5".into())),
            preset_amount: Some(MajorAmount("10".into())),
            ..pricing("CUSTOM")
        };
        let terms = custom.terms(None).unwrap();
        assert_eq!(
            terms.custom,
            Some(CustomUnitAmount {
                minimum: Some(500),
                maximum: None,
                preset: Some(1000)
            })
        );
        assert_eq!(terms.amount_type(), AmountType::Custom);

        let preset_below_minimum = LoopsPricing {
            minimum_amount: Some(MajorAmount("5".into())),
            preset_amount: Some(MajorAmount("1".into())),
            ..pricing("CUSTOM")
        };
        assert!(preset_below_minimum.terms(None).is_err());
        let preset_too_big = LoopsPricing {
            preset_amount: Some(MajorAmount("10000.01".into())),
            ..pricing("CUSTOM")
        };
        assert!(preset_too_big.terms(None).is_err());

        let free = pricing("FREE").terms(None).unwrap();
        assert_eq!(free.amount_type(), AmountType::Free);
        let free_with_amount = LoopsPricing {
            price_amount: Some(MajorAmount("1".into())),
            ..pricing("FREE")
        };
        assert!(free_with_amount.terms(None).is_err());

        let yearly = LoopsPricing {
            recurring_interval: Some(Some("year".into())),
            ..fixed.clone()
        };
        assert_eq!(
            yearly.terms(None).unwrap().recurring.unwrap().interval,
            Interval::Year
        );
        let weekly = LoopsPricing {
            recurring_interval: Some(Some("week".into())),
            ..fixed
        };
        assert!(weekly.terms(None).is_err());
    }

    #[test]
    fn a_new_amount_keeps_the_rest_of_the_price() {
        let current = PriceTerms {
            recurring: Some(Recurring {
                interval: Interval::Month,
                interval_count: 1,
            }),
            ..usd_terms(1000)
        };
        let change = LoopsPricing {
            price_amount: Some(MajorAmount("12".into())),
            ..Default::default()
        };
        let terms = change.terms(Some(&current)).unwrap();
        assert_eq!(terms.unit_amount, Some(1200));
        assert_eq!(terms.recurring, current.recurring);
        // A different currency needs the amount restated.
        let currency_only = LoopsPricing {
            currency: Some("eur".into()),
            ..Default::default()
        };
        assert!(currency_only.terms(Some(&current)).is_err());
    }
}
