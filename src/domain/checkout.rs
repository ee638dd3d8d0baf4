//! Checkout sessions: one purchase, from creation to a terminal state.
//!
//! A session has one internal [`SessionState`]; each surface words it its own way (Loops
//! `PENDING`, Stripe `open`...). Every transition is a conditional update on the current
//! state, in the same transaction as the event it writes, so two racing transitions (a payment
//! and an expiry, two sweepers) cannot both happen, and none happens without its event.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::accounts::Caller;
use super::billing::checkout::Started;
use super::billing::engine::When;
use super::catalog::{
    self, AdjustableQuantity, MAX_QUANTITY, Price, PriceInput, PriceProduct, Product,
};
use super::customers::Customer;
use super::ids::{self, prefix};
use super::list::{CreatedRange, Page, PageRequest};
use super::metadata::{Metadata, MetadataUpdate};
use super::money::{Currency, MAX_CHARGE};
use super::payment_methods::{PaymentMethod, Usage};
use super::payments::{Charge, PaymentIntent, SetupIntent};
use super::{DomainError, validate};
use crate::metrics::SessionOutcome;
use crate::objects;
use crate::store::{self, Db};

/// Default lifetime of a session, and the bounds of a chosen one.
pub const DEFAULT_LIFETIME: i64 = 3600;
pub const MIN_LIFETIME: i64 = 30 * 60;
pub const MAX_LIFETIME: i64 = 24 * 3600;
/// The event of a session that leaves `open` without payment: expired, canceled (by the
/// customer or the merchant) or failed (too many declines).
pub const ENDED_UNPAID_EVENT: &str = "checkout.session.expired";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    Open,
    Completed,
    Expired,
    Canceled,
    Failed,
}

impl SessionState {
    pub const ALL: [SessionState; 5] = [
        SessionState::Open,
        SessionState::Completed,
        SessionState::Expired,
        SessionState::Canceled,
        SessionState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Open => "open",
            SessionState::Completed => "completed",
            SessionState::Expired => "expired",
            SessionState::Canceled => "canceled",
            SessionState::Failed => "failed",
        }
    }

    pub fn from_stored(text: &str) -> SessionState {
        SessionState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or(SessionState::Failed)
    }

    /// The Loops V1/V2 `status`.
    pub fn loops_status(self) -> &'static str {
        match self {
            SessionState::Open => "PENDING",
            SessionState::Completed => "COMPLETED",
            SessionState::Expired => "EXPIRED",
            SessionState::Canceled => "CANCELLED",
            SessionState::Failed => "FAILED",
        }
    }

    /// Stripe's `status`: canceled and failed sessions are `expired` there.
    pub fn stripe_status(self) -> &'static str {
        match self {
            SessionState::Open => "open",
            SessionState::Completed => "complete",
            _ => "expired",
        }
    }

    pub fn is_terminal(self) -> bool {
        self != SessionState::Open
    }

    /// The states a status filter names, in any vocabulary and case. On the Stripe surfaces
    /// (`stripe_words`) `expired` also covers canceled and failed sessions, as Stripe shows them.
    pub fn parse_filter(text: &str, stripe_words: bool) -> Result<Vec<SessionState>, DomainError> {
        let states = match text.trim().to_ascii_lowercase().as_str() {
            "open" | "pending" => vec![SessionState::Open],
            "complete" | "completed" => vec![SessionState::Completed],
            "expired" if stripe_words => vec![
                SessionState::Expired,
                SessionState::Canceled,
                SessionState::Failed,
            ],
            "expired" => vec![SessionState::Expired],
            "canceled" | "cancelled" => vec![SessionState::Canceled],
            "failed" => vec![SessionState::Failed],
            _ => {
                return Err(DomainError::invalid(
                    "status",
                    format!(
                        "'{text}' is not a session status (open, completed, expired, canceled, failed)"
                    ),
                ));
            }
        };
        Ok(states)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CheckoutMode {
    Payment,
    Subscription,
    Setup,
}

impl CheckoutMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutMode::Payment => "payment",
            CheckoutMode::Subscription => "subscription",
            CheckoutMode::Setup => "setup",
        }
    }

    pub fn parse(text: &str, param: &str) -> Result<CheckoutMode, DomainError> {
        match text {
            "payment" => Ok(CheckoutMode::Payment),
            "subscription" => Ok(CheckoutMode::Subscription),
            "setup" => Ok(CheckoutMode::Setup),
            _ => Err(DomainError::invalid(
                param,
                format!("'{text}' is not one of payment, subscription, setup"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum PaymentStatus {
    Unpaid,
    Paid,
    NoPaymentRequired,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::Paid => "paid",
            PaymentStatus::NoPaymentRequired => "no_payment_required",
        }
    }

    pub fn from_stored(text: &str) -> PaymentStatus {
        match text {
            "paid" => PaymentStatus::Paid,
            "no_payment_required" => PaymentStatus::NoPaymentRequired,
            _ => PaymentStatus::Unpaid,
        }
    }
}

/// A session as stored. Its line items are read separately, when needed.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub livemode: bool,
    pub state: SessionState,
    pub mode: CheckoutMode,
    pub payment_status: PaymentStatus,
    pub currency: Currency,
    pub amount_subtotal: i64,
    pub amount_total: i64,
    pub product_name: String,
    pub product_description: Option<String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub client_reference_id: Option<String>,
    pub external_customer_id: Option<String>,
    pub payment_link_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub setup_intent_id: Option<String>,
    /// In subscription mode, once paid: the subscription and its first invoice.
    pub subscription_id: Option<String>,
    pub invoice_id: Option<String>,
    pub metadata: Metadata,
    pub settings: Map<String, Value>,
    pub customer_details: Option<Value>,
    pub declined_attempts: i64,
    pub created: i64,
    pub updated: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
    /// The test clock of the session's customer: the session's times are the clock's.
    pub test_clock_id: Option<String>,
}

impl Session {
    /// The hosted page of the session.
    pub fn url(&self, public_url: &str) -> String {
        format!("{public_url}/checkout/{}", self.id)
    }

    /// The id of the session's PaymentIntent: derived from the session's own id, so that two
    /// attempts racing on one session (two tabs, two processes) name the same PaymentIntent and
    /// the database keeps one.
    pub fn payment_intent_id(&self) -> String {
        self.payment_intent_id.clone().unwrap_or_else(|| {
            let unique = self
                .id
                .trim_start_matches(prefix::SESSION_TEST)
                .trim_start_matches(prefix::SESSION_LIVE);
            format!("{}{unique}", prefix::PAYMENT_INTENT)
        })
    }

    /// What the session's PaymentIntent carries from `payment_intent_data` (stored in the
    /// session's settings when it was created).
    pub fn payment_intent_data(&self) -> super::payments::PaymentIntentData {
        self.settings
            .get("payment_intent_data")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// When the subscription this session starts is first charged for its recurring lines, if
    /// not at once: after a trial, or at a billing cycle anchor (`subscription_data`).
    pub fn deferral(&self) -> Option<super::billing::checkout::Deferral> {
        super::billing::checkout::Deferral::of(&self.settings)
    }

    /// Whether completing the session keeps the customer's card for later charges, even when
    /// nothing is charged now: setup mode, and subscription mode unless
    /// `payment_method_collection=if_required` (then a card is asked only when something is
    /// due now).
    pub fn saves_card(&self) -> bool {
        match self.mode {
            CheckoutMode::Setup => true,
            CheckoutMode::Subscription => {
                self.settings
                    .get("payment_method_collection")
                    .and_then(Value::as_str)
                    != Some("if_required")
            }
            CheckoutMode::Payment => false,
        }
    }

    /// What the session charges now for `lines`: every line, except the recurring ones of a
    /// subscription whose first period is free (a trial, or the stub before an anchor).
    pub fn due_now(&self, lines: &[LineItem]) -> i64 {
        due_now(self.deferral(), lines)
    }

    pub fn payment_method_types(&self) -> Vec<String> {
        self.settings
            .get("payment_method_types")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_else(|| vec!["card".to_string()])
    }
}

/// One line of a session: what was bought, at what unit amount, how many.
#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    pub id: String,
    pub price: Price,
    pub description: String,
    pub unit_amount: i64,
    pub quantity: i64,
    pub adjustable_quantity: Option<AdjustableQuantity>,
    pub amount_subtotal: i64,
    pub amount_total: i64,
}

/// The billing interval of the recurring lines, if any.
fn recurring_of(lines: &[LineItem]) -> Option<super::catalog::Recurring> {
    lines.iter().find_map(|l| l.price.terms.recurring)
}

/// What `lines` charge now when `deferral` defers the recurring ones.
fn due_now(deferral: Option<super::billing::checkout::Deferral>, lines: &[LineItem]) -> i64 {
    lines
        .iter()
        .filter(|l| deferral.is_none() || !l.price.is_recurring())
        .map(|l| l.amount_total)
        .sum()
}

// ----- Creating sessions -------------------------------------------------------------------------

/// The price of a requested line: an existing price, or one described inline (`price_data`).
#[derive(Debug, Clone)]
pub enum PriceRef {
    Existing(String),
    Inline {
        product: PriceProduct,
        input: Box<PriceInput>,
    },
}

#[derive(Debug, Clone)]
pub struct LineRequest {
    pub price: PriceRef,
    pub quantity: Option<i64>,
    pub adjustable_quantity: Option<AdjustableQuantity>,
}

/// What a session sells.
#[derive(Debug, Clone)]
pub enum SessionSource {
    /// Stripe-style lines (V3 `line_items`, `/v1`).
    LineItems(Vec<LineRequest>),
    /// A Loops product at its default price (V2/V3 `productId`).
    Product {
        product_id: String,
        quantity: Option<i64>,
    },
    /// A payment link's lines, redirects and metadata (V1/V2 `paymentLinkId`, `/l/{id}`).
    PaymentLink(String),
    /// Nothing: a setup session.
    Nothing,
}

/// A session to create, as any surface describes it.
#[derive(Debug, Clone)]
pub struct SessionInput {
    pub source: SessionSource,
    pub mode: Option<CheckoutMode>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub customer: Option<String>,
    /// Whether `customer` is the merchant's own reference, kept as given (Loops V3, which has
    /// no customers API), rather than the id of a kassa Customer that must exist (Stripe).
    pub customer_is_reference: bool,
    pub customer_email: Option<String>,
    pub client_reference_id: Option<String>,
    pub external_customer_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub expires_at: Option<i64>,
    pub payment_method_types: Option<Vec<String>>,
    /// Stripe's `currency`: it must be the lines' currency; with no lines (setup mode) it is
    /// the session's.
    pub currency: Option<String>,
    /// Options stored and echoed (ui_mode, locale, submit_type, payment_intent_data...).
    pub settings: Map<String, Value>,
}

impl SessionInput {
    pub fn new(source: SessionSource) -> SessionInput {
        SessionInput {
            source,
            mode: None,
            success_url: None,
            cancel_url: None,
            customer: None,
            customer_is_reference: false,
            customer_email: None,
            client_reference_id: None,
            external_customer_id: None,
            metadata: BTreeMap::new(),
            expires_at: None,
            payment_method_types: None,
            currency: None,
            settings: Map::new(),
        }
    }
}

/// Rows a new session adds: inline products and prices, the session, its lines.
#[derive(Debug)]
pub struct NewSession {
    pub products: Vec<Product>,
    pub prices: Vec<Price>,
    pub session: Session,
    pub items: Vec<LineItem>,
}

/// A resolved line before amounts: the price, its product, the param naming it.
struct ResolvedLine {
    price: Price,
    product_name: String,
    quantity: i64,
    adjustable_quantity: Option<AdjustableQuantity>,
    param: String,
}

/// A product that can start a session: found, active.
async fn sellable_product(
    db: &Db,
    caller: &Caller,
    id: &str,
    param: &str,
) -> Result<Product, DomainError> {
    let product = catalog::get_product(db, caller, id)
        .await
        .map_err(DomainError::as_reference(param))?;
    check_sellable(&product, param)?;
    Ok(product)
}

/// Refuses a product that is not active, naming `param`.
fn check_sellable(product: &Product, param: &str) -> Result<(), DomainError> {
    if !product.active() {
        return Err(DomainError::invalid(
            param,
            format!(
                "product '{}' is not active and cannot start new sessions",
                product.id
            ),
        ));
    }
    Ok(())
}

fn check_quantity(
    quantity: i64,
    adjustable: Option<AdjustableQuantity>,
    param: &str,
) -> Result<(), DomainError> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(DomainError::invalid(
            param,
            format!("must be between 1 and {MAX_QUANTITY}"),
        ));
    }
    if let Some(adjustable) = adjustable.filter(|a| a.enabled) {
        let minimum = adjustable.minimum.unwrap_or(1);
        let maximum = adjustable.maximum.unwrap_or(MAX_QUANTITY);
        if quantity < minimum || quantity > maximum {
            return Err(DomainError::invalid(
                param,
                format!("must be within adjustable_quantity's bounds ({minimum} to {maximum})"),
            ));
        }
    }
    Ok(())
}

/// The lines a session sells, with what they add to the catalog (inline products and prices)
/// and the payment link they came from.
#[derive(Default)]
struct Resolved {
    lines: Vec<ResolvedLine>,
    new_products: Vec<Product>,
    new_prices: Vec<Price>,
    link_id: Option<String>,
}

/// Builds a session and everything it adds, checking every rule; writes nothing. The steps:
/// its lines (from a product, a payment link or line items), their currency, the mode, the
/// amounts, then the session's own fields.
async fn build_session(
    db: &Db,
    caller: &Caller,
    mut input: SessionInput,
    now: i64,
) -> Result<NewSession, DomainError> {
    let total_param = total_param(&input.source);
    let source = std::mem::replace(&mut input.source, SessionSource::Nothing);
    let Resolved {
        lines,
        new_products,
        new_prices,
        link_id,
    } = match source {
        SessionSource::Nothing => Resolved::default(),
        SessionSource::Product {
            product_id,
            quantity,
        } => line_of_product(db, caller, &product_id, quantity).await?,
        SessionSource::PaymentLink(id) => {
            lines_of_payment_link(db, caller, &id, &mut input).await?
        }
        SessionSource::LineItems(requests) => lines_of_requests(db, caller, requests, now).await?,
    };
    let currency = session_currency(input.currency.as_deref(), &lines)?;
    let mode = session_mode(input.mode, &lines, &input.settings)?;
    let Priced {
        items,
        subtotal,
        customer_chooses,
    } = price_lines(&lines);
    // A subscription whose first period is free charges only its one-time lines now; its
    // recurring lines' total is what its first renewal charges.
    let deferral = super::billing::checkout::Deferral::of(&input.settings);
    if deferral.is_some() {
        let renewal = subtotal - due_now(deferral, &items);
        currency.check_payable_total(renewal, total_param)?;
    }
    let subtotal = due_now(deferral, &items);
    // What one charge can be. A total the customer still chooses is checked again when they
    // pay (its minimum only then).
    if !customer_chooses || subtotal > MAX_CHARGE {
        currency.check_payable_total(subtotal, total_param)?;
    }
    let payment_status = if mode == CheckoutMode::Setup || (subtotal == 0 && !customer_chooses) {
        PaymentStatus::NoPaymentRequired
    } else {
        PaymentStatus::Unpaid
    };
    let product_name = match items.as_slice() {
        [] => "Save a payment method".to_string(),
        [only] => only.description.clone(),
        [first, rest @ ..] => format!("{} and {} more", first.description, rest.len()),
    };
    let fields = session_fields(db, caller, input, mode, now).await?;
    let created = fields.created;
    if let (Some(deferral), Some(recurring)) = (deferral, recurring_of(&items)) {
        deferral.check(created, recurring)?;
    }
    let session_prefix = if caller.mode.is_live() {
        prefix::SESSION_LIVE
    } else {
        prefix::SESSION_TEST
    };
    let session = Session {
        id: ids::new_id(session_prefix, ids::now_ms()),
        livemode: caller.mode.is_live(),
        state: SessionState::Open,
        mode,
        payment_status,
        currency,
        amount_subtotal: subtotal,
        amount_total: subtotal,
        product_name,
        product_description: None,
        success_url: fields.success_url,
        cancel_url: fields.cancel_url,
        customer_id: fields.customer_id,
        customer_email: fields.customer_email,
        client_reference_id: fields.client_reference_id,
        external_customer_id: fields.external_customer_id,
        payment_link_id: link_id,
        payment_intent_id: None,
        setup_intent_id: None,
        subscription_id: None,
        invoice_id: None,
        metadata: fields.metadata,
        settings: fields.settings,
        customer_details: None,
        declined_attempts: 0,
        created,
        updated: created,
        expires_at: fields.expires_at,
        completed_at: None,
        test_clock_id: fields.test_clock_id,
    };
    Ok(NewSession {
        products: new_products,
        prices: new_prices,
        session,
        items,
    })
}

/// The parameter that sets the session's total, named when the total cannot be charged.
fn total_param(source: &SessionSource) -> &'static str {
    match source {
        SessionSource::Product {
            quantity: Some(_), ..
        } => "quantity",
        SessionSource::Product { .. } => "productId",
        SessionSource::PaymentLink(_) => "paymentLinkId",
        SessionSource::LineItems(_) | SessionSource::Nothing => "line_items",
    }
}

/// A Loops product's one line: its default price, `quantity` of it.
async fn line_of_product(
    db: &Db,
    caller: &Caller,
    product_id: &str,
    quantity: Option<i64>,
) -> Result<Resolved, DomainError> {
    let product = sellable_product(db, caller, product_id, "productId").await?;
    let price = product.default_price.clone().ok_or_else(|| {
        DomainError::invalid(
            "productId",
            format!("product '{product_id}' has no price to sell"),
        )
    })?;
    let quantity = quantity.unwrap_or(1);
    check_quantity(quantity, None, "quantity")?;
    Ok(Resolved {
        lines: vec![ResolvedLine {
            price,
            product_name: product.name,
            quantity,
            adjustable_quantity: None,
            param: "productId".into(),
        }],
        ..Resolved::default()
    })
}

/// A payment link's lines; the link's own settings that shape its sessions (URLs, metadata,
/// customer creation...) go into `input` unless the request sets them.
async fn lines_of_payment_link(
    db: &Db,
    caller: &Caller,
    id: &str,
    input: &mut SessionInput,
) -> Result<Resolved, DomainError> {
    let link = catalog::get_payment_link(db, caller, id).await?;
    if !link.active {
        return Err(DomainError::invalid(
            "paymentLinkId",
            format!("payment link '{id}' is no longer active"),
        ));
    }
    let mut lines = Vec::with_capacity(link.items.len());
    for (i, (item, price)) in link.items.iter().zip(&link.prices).enumerate() {
        let param = format!("paymentLinkId.line_items[{i}]");
        let product = sellable_product(db, caller, &price.product_id, &param).await?;
        if !price.active {
            return Err(DomainError::invalid(
                param,
                format!("price '{}' is not active", price.id),
            ));
        }
        lines.push(ResolvedLine {
            price: price.clone(),
            product_name: product.name,
            quantity: item.quantity,
            adjustable_quantity: item.adjustable_quantity,
            param,
        });
    }
    for key in ["customer_creation", "payment_method_types", "submit_type"] {
        if let Some(value) = link.settings.get(key)
            && !input.settings.contains_key(key)
        {
            input.settings.insert(key.into(), value.clone());
        }
    }
    input.success_url = input.success_url.take().or(link.success_url.clone());
    input.cancel_url = input.cancel_url.take().or(link.cancel_url.clone());
    let mut metadata = link.metadata.0.clone();
    metadata.extend(std::mem::take(&mut input.metadata));
    input.metadata = metadata;
    if let Some(message) = &link.confirmation_message {
        input.settings.insert(
            "confirmation_message".into(),
            Value::String(message.clone()),
        );
    }
    Ok(Resolved {
        lines,
        link_id: Some(link.id),
        ..Resolved::default()
    })
}

/// Stripe's `line_items`: 1 to 100 of them, each an existing price or inline `price_data`
/// (whose product and price are made for this session only).
async fn lines_of_requests(
    db: &Db,
    caller: &Caller,
    requests: Vec<LineRequest>,
    now: i64,
) -> Result<Resolved, DomainError> {
    if requests.is_empty() {
        return Err(DomainError::invalid(
            "line_items",
            "must contain at least one item",
        ));
    }
    if requests.len() > 100 {
        return Err(DomainError::invalid(
            "line_items",
            "may contain at most 100 items",
        ));
    }
    let mut resolved = Resolved::default();
    for (i, request) in requests.into_iter().enumerate() {
        let param = format!("line_items[{i}]");
        let (price, product_name) = match request.price {
            PriceRef::Existing(price_id) => {
                existing_price(db, caller, &price_id, &format!("{param}[price]")).await?
            }
            PriceRef::Inline {
                product,
                input: price_input,
            } => {
                let data_param = format!("{param}[price_data]");
                inline_price(
                    db,
                    caller,
                    product,
                    *price_input,
                    &data_param,
                    now,
                    &mut resolved,
                )
                .await?
            }
        };
        let adjustable = request
            .adjustable_quantity
            .map(|a| a.validate(&format!("{param}[adjustable_quantity]")))
            .transpose()?;
        let quantity = request.quantity.unwrap_or(1);
        check_quantity(quantity, adjustable, &format!("{param}[quantity]"))?;
        resolved.lines.push(ResolvedLine {
            price,
            product_name,
            quantity,
            adjustable_quantity: adjustable,
            param,
        });
    }
    Ok(resolved)
}

/// An active price with its sellable product's name, in one query.
async fn existing_price(
    db: &Db,
    caller: &Caller,
    price_id: &str,
    param: &str,
) -> Result<(Price, String), DomainError> {
    let (price, product) = catalog::get_price_with_product(db, caller, price_id)
        .await
        .map_err(DomainError::as_reference(param))?;
    if !price.active {
        return Err(DomainError::invalid(
            param,
            format!("price '{price_id}' is not active and cannot start new sessions"),
        ));
    }
    check_sellable(&product, param)?;
    Ok((price, product.name))
}

/// The price of `price_data` (inactive: it exists only for this session, as in Stripe), and
/// its product: an existing one, or made from `product_data`. What it makes goes into
/// `resolved`.
async fn inline_price(
    db: &Db,
    caller: &Caller,
    product: PriceProduct,
    mut price_input: PriceInput,
    data_param: &str,
    now: i64,
    resolved: &mut Resolved,
) -> Result<(Price, String), DomainError> {
    let (product_id, product_name) = match product {
        PriceProduct::Existing(id) => {
            let product =
                sellable_product(db, caller, &id, &format!("{data_param}[product]")).await?;
            (product.id, product.name)
        }
        PriceProduct::New(product_input) => {
            let product = catalog::new_inline_product(caller, *product_input, now)
                .map_err(|e| e.under(&format!("{data_param}[product_data]")))?;
            let made = (product.id.clone(), product.name.clone());
            resolved.new_products.push(product);
            made
        }
    };
    price_input.active = Some(false);
    let price = catalog::new_inline_price(caller, &product_id, price_input, now)
        .map_err(|e| e.under(data_param))?;
    resolved.new_prices.push(price.clone());
    Ok((price, product_name))
}

/// One currency for all lines, and the one asked for, if any (`usd` for a setup session that
/// names none).
fn session_currency(
    requested: Option<&str>,
    lines: &[ResolvedLine],
) -> Result<Currency, DomainError> {
    let requested = requested
        .map(|c| Currency::parse(c, "currency"))
        .transpose()?;
    let currency = match (lines.first(), requested) {
        (Some(first), Some(requested)) if first.price.terms.currency != requested => {
            return Err(DomainError::invalid(
                "currency",
                format!(
                    "must be the line items' currency ({})",
                    first.price.terms.currency
                ),
            ));
        }
        (Some(first), _) => first.price.terms.currency.clone(),
        (None, Some(requested)) => requested,
        (None, None) => Currency::from_stored("usd".into()),
    };
    if let Some(line) = lines.iter().find(|l| l.price.terms.currency != currency) {
        return Err(DomainError::invalid(
            format!("{}[price]", line.param),
            format!(
                "all line items must share one currency ({currency}), not {}",
                line.price.terms.currency
            ),
        ));
    }
    Ok(currency)
}

/// The mode: as given, which must fit the prices, or else from the prices (subscription when
/// any is recurring).
fn session_mode(
    given: Option<CheckoutMode>,
    lines: &[ResolvedLine],
    settings: &Map<String, Value>,
) -> Result<CheckoutMode, DomainError> {
    let any_recurring = lines.iter().any(|l| l.price.is_recurring());
    let mode = given.unwrap_or(if any_recurring {
        CheckoutMode::Subscription
    } else {
        CheckoutMode::Payment
    });
    match mode {
        CheckoutMode::Payment => {
            if let Some(line) = lines.iter().find(|l| l.price.is_recurring()) {
                return Err(DomainError::invalid(
                    format!("{}[price]", line.param),
                    "is a recurring price; use mode=subscription for recurring prices",
                ));
            }
        }
        CheckoutMode::Subscription => {
            if !any_recurring {
                return Err(DomainError::invalid(
                    "mode",
                    "subscription needs at least one recurring price",
                ));
            }
        }
        CheckoutMode::Setup => {}
    }
    if mode != CheckoutMode::Payment && settings.contains_key("payment_intent_data") {
        return Err(DomainError::invalid(
            "payment_intent_data",
            "can only be used in payment mode",
        ));
    }
    // `payment_method_collection=always` is every session's default, in any mode.
    let collection = settings.get("payment_method_collection");
    let subscription_only = [
        (
            "subscription_data",
            settings.contains_key("subscription_data"),
        ),
        (
            "payment_method_collection",
            collection.is_some_and(|c| c != "always"),
        ),
    ];
    for (param, given) in subscription_only {
        if mode != CheckoutMode::Subscription && given {
            return Err(DomainError::invalid(
                param,
                "can only be used in subscription mode",
            ));
        }
    }
    if lines.is_empty() && mode != CheckoutMode::Setup {
        return Err(DomainError::invalid(
            "line_items",
            "is required (or productId) unless mode is setup",
        ));
    }
    Ok(mode)
}

/// The session's line items with their amounts, in minor units.
struct Priced {
    items: Vec<LineItem>,
    subtotal: i64,
    /// Whether a line's amount is the customer's to choose (it starts at its preset, or its
    /// minimum, until paid).
    customer_chooses: bool,
}

fn price_lines(lines: &[ResolvedLine]) -> Priced {
    let mut items = Vec::with_capacity(lines.len());
    let mut subtotal: i64 = 0;
    let mut customer_chooses = false;
    for line in lines {
        let terms = &line.price.terms;
        let unit_amount = match (terms.unit_amount, terms.custom) {
            (Some(amount), _) => amount,
            (None, custom) => {
                customer_chooses = true;
                let custom = custom.unwrap_or_default();
                custom.preset.or(custom.minimum).unwrap_or(0)
            }
        };
        // Unit amounts are at most money::MAX_AMOUNT, quantities 1000 and lines 100: no overflow.
        let amount = unit_amount * line.quantity;
        subtotal += amount;
        items.push(LineItem {
            id: ids::new_id(prefix::LINE_ITEM, ids::now_ms()),
            price: line.price.clone(),
            description: line.product_name.clone(),
            unit_amount,
            quantity: line.quantity,
            adjustable_quantity: line.adjustable_quantity,
            amount_subtotal: amount,
            amount_total: amount,
        });
    }
    Priced {
        items,
        subtotal,
        customer_chooses,
    }
}

/// A session's own fields, checked.
struct SessionFields {
    /// When the session is created: now, or its customer's test clock's time.
    created: i64,
    expires_at: i64,
    success_url: Option<String>,
    cancel_url: Option<String>,
    customer_id: Option<String>,
    /// The test clock the customer lives on, if any.
    test_clock_id: Option<String>,
    customer_email: Option<String>,
    client_reference_id: Option<String>,
    external_customer_id: Option<String>,
    metadata: Metadata,
    settings: Map<String, Value>,
}

async fn session_fields(
    db: &Db,
    caller: &Caller,
    input: SessionInput,
    mode: CheckoutMode,
    now: i64,
) -> Result<SessionFields, DomainError> {
    let (customer_id, test_clock_id) = match input.customer.filter(|c| !c.is_empty()) {
        // A subscription is a Customer's: on V3 in subscription mode, `customer` names one.
        Some(reference) if input.customer_is_reference && mode == CheckoutMode::Subscription => {
            match super::customers::live_customer(db, caller, &reference, "customer").await {
                Ok(customer) => (Some(customer.id), customer.test_clock_id),
                Err(DomainError::MissingReference { .. }) => {
                    return Err(DomainError::invalid(
                        "customer",
                        format!(
                            "in subscription mode names one of your customers (cus_...), who \
                             will own the subscription; '{reference}' is none: leave customer out \
                             (the payment creates one) and give your own id as externalCustomerId"
                        ),
                    ));
                }
                Err(error) => return Err(error),
            }
        }
        Some(reference) if input.customer_is_reference => (
            validate::optional_text(Some(reference), "customer", 200)?,
            None,
        ),
        Some(id) => {
            let customer = super::customers::live_customer(db, caller, &id, "customer").await?;
            (Some(customer.id), customer.test_clock_id)
        }
        None => (None, None),
    };
    // A session for a customer on a test clock lives at the clock's time.
    let created = super::test_clocks::time_of(db, test_clock_id.as_deref(), now).await?;
    let now = created;
    let expires_at = match input.expires_at {
        None => now + DEFAULT_LIFETIME,
        Some(at) if at < now + MIN_LIFETIME || at > now + MAX_LIFETIME => {
            return Err(DomainError::invalid(
                "expires_at",
                "must be between 30 minutes and 24 hours after the session is created",
            ));
        }
        Some(at) => at,
    };
    let success_url = input
        .success_url
        .map(|u| validate::url(&u, "success_url", true))
        .transpose()?;
    let cancel_url = input
        .cancel_url
        .map(|u| validate::url(&u, "cancel_url", true))
        .transpose()?;
    let customer_email = input
        .customer_email
        .map(|e| validate_email(&e, "customer_email"))
        .transpose()?;
    let client_reference_id =
        validate::optional_text(input.client_reference_id, "client_reference_id", 200)?;
    let external_customer_id =
        validate::optional_text(input.external_customer_id, "externalCustomerId", 200)?;
    if customer_id.is_some() && customer_email.is_some() && !input.customer_is_reference {
        return Err(DomainError::invalid(
            "customer_email",
            "cannot be combined with customer; the customer's own email is used",
        ));
    }
    let metadata = Metadata::validate(input.metadata, "metadata")?;
    let mut settings = input.settings;
    check_customer_creation(&settings, customer_id.is_some(), mode)?;
    if let Some(types) = input.payment_method_types {
        check_payment_method_types(&types)?;
        settings.insert("payment_method_types".into(), serde_json::json!(types));
    }
    Ok(SessionFields {
        created,
        expires_at,
        success_url,
        cancel_url,
        customer_id,
        test_clock_id,
        customer_email,
        client_reference_id,
        external_customer_id,
        metadata,
        settings,
    })
}

/// `customer_creation`: `always` or `if_required`, without a `customer`, outside subscription
/// mode (which always creates one).
fn check_customer_creation(
    settings: &Map<String, Value>,
    has_customer: bool,
    mode: CheckoutMode,
) -> Result<(), DomainError> {
    let Some(creation) = settings.get("customer_creation") else {
        return Ok(());
    };
    if !matches!(creation.as_str(), Some("always" | "if_required")) {
        return Err(DomainError::invalid(
            "customer_creation",
            "must be one of always, if_required",
        ));
    }
    if has_customer {
        return Err(DomainError::invalid(
            "customer_creation",
            "cannot be combined with customer: that session already has its customer",
        ));
    }
    if mode == CheckoutMode::Subscription {
        return Err(DomainError::invalid(
            "customer_creation",
            "can only be used in payment and setup mode; a subscription always creates a customer",
        ));
    }
    Ok(())
}

/// `payment_method_types`: at least one, and only `card`.
fn check_payment_method_types(types: &[String]) -> Result<(), DomainError> {
    if types.is_empty() {
        return Err(DomainError::invalid(
            "payment_method_types",
            "must name at least one type",
        ));
    }
    if let Some(other) = types.iter().find(|t| t.as_str() != "card") {
        return Err(DomainError::invalid(
            "payment_method_types",
            format!("'{other}' is not supported; kassa accepts card"),
        ));
    }
    Ok(())
}

/// A plausible email address: something@domain.tld, no spaces, at most 320 characters.
pub fn validate_email(email: &str, param: &str) -> Result<String, DomainError> {
    let email = email.trim();
    let valid = email.len() <= 320
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(email.to_string())
    } else {
        Err(DomainError::invalid(
            param,
            format!("'{email}' is not a valid email address"),
        ))
    }
}

/// Creates a session in one short transaction.
pub async fn create_session(
    db: &Db,
    caller: &Caller,
    input: SessionInput,
    now: i64,
) -> Result<Session, DomainError> {
    let new = build_session(db, caller, input, now).await?;
    store::checkout::insert_session(db, caller, &new).await?;
    let (mode, livemode) = (new.session.mode.as_str(), new.session.livemode);
    crate::metrics::checkout_session(mode, SessionOutcome::Created, livemode);
    Ok(new.session)
}

// ----- Reading -----------------------------------------------------------------------------------

/// A session by id. An open session past its deadline is expired first (with its event), so no
/// reader ever sees a session open after `expires_at`.
pub async fn get_session(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
    public_url: &str,
) -> Result<Session, DomainError> {
    let session = store::checkout::get_session(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("checkout.session", id))?;
    expire_if_overdue(db, caller, session, now, public_url).await
}

/// The session as a reader must see it: an open session past its deadline is expired first
/// (with its event) and read again; any other is returned as it is.
pub async fn expire_if_overdue(
    db: &Db,
    caller: &Caller,
    session: Session,
    now: i64,
    public_url: &str,
) -> Result<Session, DomainError> {
    if session.state != SessionState::Open {
        return Ok(session);
    }
    // A session on a test clock is overdue by the clock's time.
    let when = When::of(db, session.test_clock_id.as_deref(), now).await?;
    if session.expires_at > when.at {
        return Ok(session);
    }
    expire_due(db, caller, &session, when, public_url).await?;
    store::checkout::get_session(db, caller, &session.id)
        .await?
        .ok_or_else(|| DomainError::not_found("checkout.session", &session.id))
}

pub async fn line_items(
    db: &Db,
    caller: &Caller,
    session_id: &str,
) -> Result<Vec<LineItem>, DomainError> {
    Ok(store::checkout::line_items(db, caller, session_id).await?)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    pub states: Option<Vec<SessionState>>,
    pub external_customer_id: Option<String>,
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    pub payment_link: Option<String>,
    pub payment_intent: Option<String>,
    pub created: CreatedRange,
}

/// A page of sessions, newest first. Sessions past their deadline are expired before the page
/// is read, so status filters see them as they are.
pub async fn list_sessions(
    db: &Db,
    caller: &Caller,
    filter: &SessionFilter,
    page: &PageRequest,
    now: i64,
    public_url: &str,
) -> Result<Page<Session>, DomainError> {
    page.check_cursor(|id| async move {
        store::checkout::get_session(db, caller, &id)
            .await?
            .ok_or_else(|| DomainError::not_found("checkout.session", id))
    })
    .await?;
    // Expire what is overdue first (for every account: the query then runs on the index of open
    // sessions by deadline, and costs what is overdue, not what is stored).
    expire_overdue(db, now, public_url, 1000).await?;
    Ok(store::checkout::list_sessions(db, caller, filter, page).await?)
}

/// How many sessions match `filter` (the Loops V1/V2 `total`).
pub async fn count_sessions(
    db: &Db,
    caller: &Caller,
    filter: &SessionFilter,
) -> Result<u64, DomainError> {
    Ok(store::checkout::count_sessions(db, caller, filter).await?)
}

// ----- Transitions -------------------------------------------------------------------------------

/// Why a transition did not happen.
pub fn not_open(session_id: &str, state: SessionState) -> DomainError {
    DomainError::Conflict {
        code: "checkout_session_not_open",
        message: format!(
            "checkout session '{session_id}' is {} and can no longer change; only open sessions can",
            state.as_str()
        ),
    }
}

/// Expires an open session on request (the merchant's `expire`). Only from open.
pub async fn expire_session(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
    public_url: &str,
) -> Result<Session, DomainError> {
    let session = get_session(db, caller, id, now, public_url).await?;
    if session.state != SessionState::Open {
        return Err(not_open(id, session.state));
    }
    let when = When::of(db, session.test_clock_id.as_deref(), now).await?;
    let changed = transition(
        db,
        &caller.account_id,
        &session,
        SessionState::Expired,
        when,
        public_url,
    )
    .await?;
    if !changed {
        let current = get_session(db, caller, id, now, public_url).await?;
        return Err(not_open(id, current.state));
    }
    get_session(db, caller, id, now, public_url).await
}

/// Cancels an open session (the customer pressed Cancel on its page). Returns false when it
/// was no longer open.
pub async fn cancel_open_session(
    db: &Db,
    caller: &Caller,
    session: &Session,
    now: i64,
    public_url: &str,
) -> Result<bool, DomainError> {
    let when = When::of(db, session.test_clock_id.as_deref(), now).await?;
    transition(
        db,
        &caller.account_id,
        session,
        SessionState::Canceled,
        when,
        public_url,
    )
    .await
}

/// Expires one overdue session; harmless if another process got there first.
async fn expire_due(
    db: &Db,
    caller: &Caller,
    session: &Session,
    when: When,
    public_url: &str,
) -> Result<(), DomainError> {
    transition(
        db,
        &caller.account_id,
        session,
        SessionState::Expired,
        when,
        public_url,
    )
    .await?;
    Ok(())
}

/// Moves an open session to `to`, writing its event in the same transaction. Returns false,
/// having changed nothing, when the session was no longer open.
async fn transition(
    db: &Db,
    account_id: &str,
    session: &Session,
    to: SessionState,
    when: When,
    public_url: &str,
) -> Result<bool, DomainError> {
    let now = when.at;
    let mut after = session.clone();
    after.state = to;
    after.updated = now;
    let event_type = match to {
        SessionState::Completed => "checkout.session.completed",
        SessionState::Open => unreachable!("no transition leads back to open"),
        // Expired, canceled or failed: every way of ending unpaid is `expired` in Stripe's
        // words, the event integrations listen to for releasing stock.
        _ => ENDED_UNPAID_EVENT,
    };
    let object = objects::to_value(&objects::CheckoutSession::new(&after, public_url));
    let event = super::events::new_event(
        account_id,
        after.livemode,
        event_type,
        &after.id,
        object,
        when.real,
    );
    let changed = store::checkout::transition(db, &session.id, to, now, &event).await?;
    if changed {
        let outcome = SessionOutcome::of(to);
        crate::metrics::checkout_session(session.mode.as_str(), outcome, session.livemode);
    }
    Ok(changed)
}

/// Expires open sessions whose deadline has passed, at most `limit` of them, oldest deadline
/// first. Each expiry is its own conditional update, so several processes sweeping at once
/// expire each session exactly once.
pub async fn expire_overdue(
    db: &Db,
    now: i64,
    public_url: &str,
    limit: i64,
) -> Result<usize, DomainError> {
    expire_overdue_on(db, None, When::now(now), public_url, limit).await
}

/// [`expire_overdue`] for the sessions on the test clock `clock` (or, with `None`, on none), by
/// `when.at`; their events carry `when.real`.
pub async fn expire_overdue_on(
    db: &Db,
    clock: Option<&str>,
    when: When,
    public_url: &str,
    limit: i64,
) -> Result<usize, DomainError> {
    let due = store::checkout::overdue_sessions(db, clock, when.at, limit).await?;
    let mut expired = 0;
    for (account_id, session) in due {
        if transition(
            db,
            &account_id,
            &session,
            SessionState::Expired,
            when,
            public_url,
        )
        .await?
        {
            expired += 1;
        }
    }
    Ok(expired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vocabulary_filters() {
        for (word, state) in [
            ("open", SessionState::Open),
            ("PENDING", SessionState::Open),
            ("complete", SessionState::Completed),
            ("COMPLETED", SessionState::Completed),
            ("cancelled", SessionState::Canceled),
            ("CANCELED", SessionState::Canceled),
            ("failed", SessionState::Failed),
            ("EXPIRED", SessionState::Expired),
        ] {
            assert_eq!(
                SessionState::parse_filter(word, false).unwrap(),
                vec![state],
                "{word}"
            );
        }
        assert_eq!(
            SessionState::parse_filter("expired", true).unwrap().len(),
            3
        );
        assert!(SessionState::parse_filter("paid", false).is_err());
    }

    #[test]
    fn emails_are_checked() {
        assert!(validate_email("jsmith@example.com", "e").is_ok());
        assert!(validate_email("jsmith@example", "e").is_err());
        assert!(validate_email("j smith@example.com", "e").is_err());
        assert!(validate_email("@example.com", "e").is_err());
    }
}

// ----- Updating (Loops V2 PUT) ---------------------------------------------------------------------

/// Changes to an open session. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SessionUpdate {
    /// A new amount in major units (`amount`), in `currency` or the session's.
    pub amount: Option<super::money::MajorAmount>,
    pub currency: Option<String>,
    pub product_name: Option<String>,
    pub product_description: Option<Option<String>>,
    /// `ONE_TIME` or `RECURRING`; must match what the session sells.
    pub pricing_type: Option<String>,
    pub payment_method_types: Option<Vec<String>>,
    pub success_url: Option<Option<String>>,
    pub cancel_url: Option<Option<String>>,
    pub external_customer_id: Option<Option<String>>,
    pub expires_at: Option<i64>,
    pub metadata: Option<MetadataUpdate>,
}

/// Updates an open session (Loops V2 `PUT`); a session in any other state is a conflict.
pub async fn update_session(
    db: &Db,
    caller: &Caller,
    id: &str,
    update: SessionUpdate,
    now: i64,
    public_url: &str,
) -> Result<Session, DomainError> {
    let mut session = get_session(db, caller, id, now, public_url).await?;
    if session.state != SessionState::Open {
        return Err(not_open(id, session.state));
    }
    let mut items = None;
    if update.amount.is_some() || update.currency.is_some() {
        let currency = match &update.currency {
            Some(code) => Currency::parse(code, "currency")?,
            None => session.currency.clone(),
        };
        let amount_text = update.amount.as_ref().ok_or_else(|| {
            DomainError::invalid("amount", "is required when the currency changes")
        })?;
        let amount = currency.parse_major(&amount_text.0, "amount")?;
        if amount == 0 {
            return Err(DomainError::invalid("amount", "must be more than 0"));
        }
        currency.check_payable_total(amount, "amount")?;
        let mut lines = line_items(db, caller, id).await?;
        if lines.len() != 1 {
            return Err(DomainError::invalid(
                "amount",
                "can only be set on a session with a single line item",
            ));
        }
        let line = &mut lines[0];
        line.unit_amount = amount;
        line.quantity = 1;
        line.amount_subtotal = amount;
        line.amount_total = amount;
        session.currency = currency;
        session.amount_subtotal = amount;
        session.amount_total = amount;
        if session.payment_status == PaymentStatus::NoPaymentRequired
            && session.mode != CheckoutMode::Setup
        {
            session.payment_status = PaymentStatus::Unpaid;
        }
        items = Some(lines);
    }
    if let Some(name) = update.product_name {
        session.product_name = validate::text(&name, "productName", 200, true)?;
    }
    if let Some(description) = update.product_description {
        session.product_description =
            validate::optional_text(description, "productDescription", 1000)?;
    }
    if let Some(pricing_type) = update.pricing_type {
        let recurring = match pricing_type.as_str() {
            "ONE_TIME" => false,
            "RECURRING" => true,
            other => {
                return Err(DomainError::invalid(
                    "pricingType",
                    format!("'{other}' is not one of ONE_TIME, RECURRING"),
                ));
            }
        };
        if recurring != (session.mode == CheckoutMode::Subscription) {
            return Err(DomainError::invalid(
                "pricingType",
                "cannot change what the session sells; create a new session with a recurring or one-time price",
            ));
        }
    }
    if let Some(types) = update.payment_method_types {
        if types.is_empty() || types.iter().any(|t| t != "card") {
            return Err(DomainError::invalid(
                "allowedPaymentMethods",
                "kassa accepts card",
            ));
        }
        session
            .settings
            .insert("payment_method_types".into(), serde_json::json!(types));
    }
    if let Some(url) = update.success_url {
        session.success_url = url
            .map(|u| validate::url(&u, "successUrl", true))
            .transpose()?;
    }
    if let Some(url) = update.cancel_url {
        session.cancel_url = url
            .map(|u| validate::url(&u, "cancelUrl", true))
            .transpose()?;
    }
    if let Some(external) = update.external_customer_id {
        session.external_customer_id =
            validate::optional_text(external, "externalCustomerId", 200)?;
    }
    // The session's own time: its test clock's, if it is on one.
    let at_now = super::test_clocks::time_of(db, session.test_clock_id.as_deref(), now).await?;
    if let Some(at) = update.expires_at {
        if at < at_now + MIN_LIFETIME || at > session.created + MAX_LIFETIME {
            return Err(DomainError::invalid(
                "expiresAt",
                "must be at least 30 minutes from now and at most 24 hours after the session was created",
            ));
        }
        session.expires_at = at;
    }
    if let Some(update) = update.metadata {
        session.metadata = session.metadata.updated(update, "metadata")?;
    }
    session.updated = at_now;
    if !store::checkout::update_open_session(db, &session, items.as_deref()).await? {
        let current = get_session(db, caller, id, now, public_url).await?;
        return Err(not_open(id, current.state));
    }
    Ok(session)
}

// ----- Completing --------------------------------------------------------------------------------

/// How a session ended when someone tried to complete it.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    /// This call completed it; the payment, when one was due.
    Completed {
        session: Box<Session>,
        payment: Option<Box<super::payments::PaymentIntent>>,
    },
    /// It had already left open (paid by another request, expired, canceled...): nothing changed.
    AlreadyFinal(SessionState),
}

/// How the customer completed a session on its hosted page.
#[derive(Debug, Clone, Default)]
pub struct PaidWith {
    /// The card charged (or saved, in setup mode); none when nothing is due.
    pub card: Option<super::payments::CardSummary>,
    /// What later charges of the card do once saved ([`super::processor::later_decline`]).
    pub charge_decline: Option<&'static str>,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Completes an open session: paid with a card when a payment is due, its card saved in setup
/// mode, or with nothing when nothing is due (free items). In one transaction the session
/// becomes completed, its PaymentIntent succeeds with its charge (or its SetupIntent is
/// written), a Customer is created when the session asks for one (or carries a Loops
/// `externalCustomerId` that names none yet; one it names is the session's), the card becomes a
/// PaymentMethod (attached to the session's customer, with `payment_method.attached`, when it
/// is saved: setup and subscription modes), in subscription mode the subscription starts with
/// its first invoice paid and that method as its default, and the events are written in the
/// order of decisions §11. The update is conditional on the session being open, so of a payment
/// racing an expiry, or two payments, exactly one wins. `lines` are the session's.
pub async fn complete_session(
    db: &Db,
    account_id: &str,
    session: &Session,
    lines: &[LineItem],
    paid: PaidWith,
    now: i64,
    public_url: &str,
) -> Result<Completion, DomainError> {
    let attempt = complete_once(
        db,
        account_id,
        session,
        lines,
        paid.clone(),
        now,
        public_url,
    );
    let completion = match attempt.await {
        // Another session carrying the same externalCustomerId created its customer meanwhile
        // (the customers' unique index refused this one's): this one completes for that one.
        Err(DomainError::Store(error))
            if error.is_unique_violation() && session.external_customer_id.is_some() =>
        {
            db.settle().await;
            complete_once(db, account_id, session, lines, paid, now, public_url).await
        }
        outcome => outcome,
    };
    if let Ok(Completion::Completed { session, .. }) = &completion {
        let (mode, livemode) = (session.mode.as_str(), session.livemode);
        crate::metrics::checkout_session(mode, SessionOutcome::Completed, livemode);
    }
    completion
}

/// One try of [`complete_session`].
async fn complete_once(
    db: &Db,
    account_id: &str,
    session: &Session,
    lines: &[LineItem],
    paid: PaidWith,
    now: i64,
    public_url: &str,
) -> Result<Completion, DomainError> {
    let payment_due = session.payment_status == PaymentStatus::Unpaid;
    let saves_card = session.saves_card();
    if (payment_due || saves_card) && paid.card.is_none() {
        return Err(DomainError::invalid(
            "card",
            "a card is needed to complete this session",
        ));
    }
    let mut events = Recorder::new(account_id, session.livemode, now);
    let email = paid
        .email
        .clone()
        .or_else(|| session.customer_email.clone());
    let at = super::test_clocks::time_of(db, session.test_clock_id.as_deref(), now).await?;
    let mut after = completed(session, email.clone(), paid.name.clone(), at);
    let known = known_customer_of(db, account_id, session).await?;
    let customer = match known {
        Some(_) => None,
        None => new_customer_of(account_id, session, email.clone(), paid.name.clone(), now)?,
    };
    after.customer_id = after.customer_id.or(known);
    if let Some(customer) = &customer {
        events.push("customer.created", &customer.id, customer.object());
        after.customer_id = Some(customer.id.clone());
    }
    let method = method_of(session, &after, &paid, email.clone(), now);
    if let Some(method) = method.as_ref().filter(|m| m.customer_id.is_some()) {
        events
            .events
            .push(method.event(account_id, "payment_method.attached", now));
    }
    let method_id = method.as_ref().map(|m| m.id.clone());
    let payment =
        payment_due.then(|| payment_of(session, &after, &paid, method_id.clone(), email, now));
    let started = match session.mode {
        CheckoutMode::Subscription => {
            start_subscription(db, session, lines, &after, &paid, payment.as_ref(), at)
                .await?
                .map(|mut started| {
                    started.subscription.default_payment_method = method_id.clone();
                    started
                })
        }
        _ => None,
    };
    record_payment(
        &mut events,
        &mut after,
        started.as_ref(),
        payment.as_ref(),
        public_url,
    );
    let setup = match (session.mode == CheckoutMode::Setup, paid.card) {
        (true, Some(card)) => {
            let setup = setup_of(session, &after, card, method_id, now);
            events.push("setup_intent.succeeded", &setup.id, setup.object());
            after.setup_intent_id = Some(setup.id.clone());
            Some(setup)
        }
        _ => None,
    };
    events.push(
        "checkout.session.completed",
        &session.id,
        objects::to_value(&objects::CheckoutSession::new(&after, public_url)),
    );
    let (payment, charge) = payment.unzip();
    let writes = store::checkout::CompletionWrites {
        payment: payment.as_ref(),
        charge: charge.as_ref(),
        setup: setup.as_ref(),
        customer: customer.as_ref(),
        started: started.as_ref(),
        payment_method: method.as_ref(),
        events: &events.events,
    };
    if store::checkout::complete(db, account_id, &after, writes).await? {
        Ok(Completion::Completed {
            session: Box::new(after),
            payment: payment.map(Box::new),
        })
    } else {
        let state = store::checkout::state_of(db, &session.id)
            .await?
            .unwrap_or(SessionState::Failed);
        Ok(Completion::AlreadyFinal(state))
    }
}

/// The events of one change, in the order they happen.
struct Recorder<'a> {
    account_id: &'a str,
    livemode: bool,
    now: i64,
    events: Vec<super::events::Event>,
}

impl<'a> Recorder<'a> {
    fn new(account_id: &'a str, livemode: bool, now: i64) -> Self {
        Recorder {
            account_id,
            livemode,
            now,
            events: Vec::new(),
        }
    }

    fn push(&mut self, kind: &str, object_id: &str, object: Value) {
        let event = super::events::new_event(
            self.account_id,
            self.livemode,
            kind,
            object_id,
            object,
            self.now,
        );
        self.events.push(event);
    }
}

/// The session as it is once completed, with what the payer gave.
fn completed(session: &Session, email: Option<String>, name: Option<String>, now: i64) -> Session {
    let mut after = session.clone();
    after.state = SessionState::Completed;
    after.updated = now;
    after.completed_at = Some(now);
    after.customer_details = Some(serde_json::json!({
        "address": null, "business_name": null, "email": email, "individual_name": null,
        "name": name, "phone": null, "tax_exempt": "none", "tax_ids": [],
    }));
    after
}

/// The card used, as a PaymentMethod: saved to the customer in setup mode and for a
/// subscription, whose renewals charge it; used once otherwise.
fn method_of(
    session: &Session,
    after: &Session,
    paid: &PaidWith,
    email: Option<String>,
    now: i64,
) -> Option<PaymentMethod> {
    let saves_for_later = matches!(
        session.mode,
        CheckoutMode::Setup | CheckoutMode::Subscription
    );
    let card = paid.card.clone()?;
    let usage = if saves_for_later {
        Usage::Saved {
            customer: after.customer_id.clone(),
        }
    } else {
        Usage::Payment
    };
    Some(PaymentMethod::entered(
        session.livemode,
        card,
        paid.charge_decline,
        email,
        paid.name.clone(),
        usage,
        now,
    ))
}

/// The events of the payment, in the order of decisions §11: a subscription and its first
/// invoice created and finalized, then the charge and the PaymentIntent, then the invoice paid.
fn record_payment(
    events: &mut Recorder<'_>,
    after: &mut Session,
    started: Option<&Started>,
    payment: Option<&(PaymentIntent, Charge)>,
    public_url: &str,
) {
    if let Some(started) = started {
        let [draft, open] = started.invoice_before_payment(public_url);
        let (subscription, invoice) = (&started.subscription, &started.invoice);
        events.push(
            "customer.subscription.created",
            &subscription.id,
            subscription.object(),
        );
        if started.trial_will_end_now {
            events.push(
                "customer.subscription.trial_will_end",
                &subscription.id,
                subscription.object(),
            );
        }
        events.push("invoice.created", &invoice.id, draft);
        events.push("invoice.finalized", &invoice.id, open);
        after.subscription_id = Some(subscription.id.clone());
        after.invoice_id = Some(invoice.id.clone());
    }
    if let Some((payment, charge)) = payment {
        events.push("charge.succeeded", &charge.id, charge.object(public_url));
        events.push("payment_intent.succeeded", &payment.id, payment.object());
        after.payment_status = PaymentStatus::Paid;
        after.payment_intent_id = Some(payment.id.clone());
    }
    if let Some(Started { invoice, .. }) = started {
        for kind in ["invoice.paid", "invoice.payment_succeeded"] {
            events.push(kind, &invoice.id, invoice.object(public_url));
        }
        if let Some(payment) = invoice.payment() {
            let id = payment["id"].as_str().unwrap_or_default().to_string();
            events.push("invoice_payment.paid", &id, payment);
        }
    }
}

/// The SetupIntent of a setup-mode session, succeeded with `card`.
fn setup_of(
    session: &Session,
    after: &Session,
    card: super::payments::CardSummary,
    payment_method: Option<String>,
    now: i64,
) -> SetupIntent {
    SetupIntent {
        id: ids::new_id(prefix::SETUP_INTENT, ids::now_ms()),
        livemode: session.livemode,
        status: "succeeded".into(),
        checkout_session_id: Some(session.id.clone()),
        customer_id: after.customer_id.clone(),
        card,
        payment_method,
        created: now,
    }
}

/// The Customer a completing session is for, when it names none: the one its Loops
/// `externalCustomerId` names, if an earlier session carrying it created one (decisions §11).
async fn known_customer_of(
    db: &Db,
    account_id: &str,
    session: &Session,
) -> Result<Option<String>, DomainError> {
    let Some(external) = session
        .external_customer_id
        .as_deref()
        .filter(|_| session.customer_id.is_none())
    else {
        return Ok(None);
    };
    let caller = Caller::without_key(account_id, session.livemode);
    Ok(super::customers::by_external_id(db, &caller, external)
        .await?
        .map(|c| c.id))
}

/// The Customer a completing session creates: when it asks for one (`customer_creation=always`),
/// starts a subscription, or carries a Loops `externalCustomerId` (which the customer keeps), and
/// has none yet.
fn new_customer_of(
    account_id: &str,
    session: &Session,
    email: Option<String>,
    name: Option<String>,
    now: i64,
) -> Result<Option<Customer>, DomainError> {
    let wants_customer = session
        .settings
        .get("customer_creation")
        .and_then(Value::as_str)
        == Some("always")
        || session.mode == CheckoutMode::Subscription
        || session.external_customer_id.is_some();
    if session.customer_id.is_some() || !wants_customer {
        return Ok(None);
    }
    let input = super::customers::CustomerInput {
        email: Some(email),
        name: Some(name),
        ..Default::default()
    };
    let caller = Caller::without_key(account_id, session.livemode);
    let mut customer = super::customers::new_customer(&caller, input, now)?;
    customer.external_customer_id = session.external_customer_id.clone();
    Ok(Some(customer))
}

/// The succeeded PaymentIntent of a paid session, and its charge.
fn payment_of(
    session: &Session,
    after: &Session,
    paid: &PaidWith,
    payment_method: Option<String>,
    email: Option<String>,
    now: i64,
) -> (PaymentIntent, Charge) {
    let payment = PaymentIntent {
        id: session.payment_intent_id(),
        livemode: session.livemode,
        amount: session.amount_total,
        currency: session.currency.as_str().to_string(),
        status: "succeeded".into(),
        checkout_session_id: Some(session.id.clone()),
        customer_id: after.customer_id.clone(),
        receipt_email: email,
        card: paid.card.clone(),
        payment_method,
        last_payment_error: None,
        latest_charge: None,
        data: session.payment_intent_data(),
        created: now,
    };
    let charge = Charge::of_attempt(&payment, paid.name.clone(), None, now);
    let payment = PaymentIntent {
        latest_charge: Some(charge.id.clone()),
        ..payment
    };
    (payment, charge)
}

/// The subscription and paid first invoice a subscription-mode session starts, for its
/// customer (`after.customer_id`, created by this payment or given), at `now` (the session's
/// time: its test clock's, if it is on one).
async fn start_subscription(
    db: &Db,
    session: &Session,
    lines: &[LineItem],
    after: &Session,
    paid: &PaidWith,
    payment: Option<&(PaymentIntent, Charge)>,
    now: i64,
) -> Result<Option<Started>, DomainError> {
    let Some(customer_id) = after.customer_id.as_deref() else {
        return Ok(None);
    };
    // A customer made by this payment has no invoices yet.
    let earlier = match &session.customer_id {
        Some(_) => store::billing::count_invoices_of(db, customer_id).await?,
        None => 0,
    };
    let payer = super::billing::checkout::Payer {
        customer_id,
        email: after
            .customer_details
            .as_ref()
            .and_then(|d| d["email"].as_str()),
        name: paid.name.as_deref(),
        payment: payment.map(|(p, c)| (p.id.as_str(), c.id.as_str())),
        invoice_number: super::billing::checkout::invoice_number(customer_id, earlier),
        // The session is on its customer's test clock, if any: so is the subscription.
        test_clock: session.test_clock_id.as_deref().map(|id| (id, now)),
    };
    Ok(super::billing::checkout::start(session, lines, payer, now))
}

/// Applies a metadata update, in any state: metadata is
/// the merchant's own and does not touch the lifecycle.
pub async fn update_metadata(
    db: &Db,
    caller: &Caller,
    id: &str,
    update: MetadataUpdate,
    now: i64,
    public_url: &str,
) -> Result<Session, DomainError> {
    let mut session = get_session(db, caller, id, now, public_url).await?;
    session.metadata = session.metadata.updated(update, "metadata")?;
    session.updated = now;
    store::checkout::update_metadata(db, &session).await?;
    Ok(session)
}
