//! The canonical JSON form of kassa's objects: Stripe's shape, with the Loops extras the V3 API
//! adds (`amountType`, `priceAmount`, `productIds`...). `/api/v3` and `/v1` answer with these,
//! so an object reads the same on both; typed Stripe clients ignore the extra fields.
//!
//! Each object is a struct that borrows from the domain object and serialises straight to
//! bytes. Building a `serde_json::Value` per object instead (a map of some 60 keys for a
//! session, each key allocated and hashed, then walked to be written) was most of the cost of
//! a list of 100 sessions. Fields are declared in the order they are written, which is
//! Stripe's order and the order kassa has always answered with; `null`, `[]` and `{}` stand
//! where kassa has nothing. The expected JSON of each object is pinned byte for byte in
//! `tests/fixtures/objects/`.
//!
//! Objects are written with sonic-rs ([`to_json`]), which finds the characters a string must
//! escape 16 bytes at a time, where serde_json looks at each byte: in a page of 100 sessions
//! (some 7 500 keys and as many strings) that was a fifth of the request's time. serde_json
//! still reads JSON and holds the `Value`s of events and settings, and writes the answers that
//! handlers still build as a `Value` (through axum's `Json`): the same bytes either way.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, AdjustableQuantity, AmountType, Interval, ProductStatus};
use crate::domain::checkout::{self, CheckoutMode, PaymentStatus, SessionState};
use crate::domain::metadata::Metadata;
use crate::domain::money::Currency;

mod billing;
mod customers;
mod payments;
mod portal;
mod webhooks;

pub use billing::{
    Invoice, InvoiceLineItem, InvoicePayment, Plan, Subscription, SubscriptionItem, TestClock,
};
pub use customers::{Customer, PaymentMethod};
pub use payments::{CardDetails, Charge, LastPaymentError, PaymentIntent, Refund, SetupIntent};
pub use portal::{CustomerPortalSession, PortalConfiguration, PortalSession};
pub use webhooks::{Event, EventResend, WebhookAttempt, WebhookEndpoint, WebhookReplay};

/// A field kassa never has a value for: written `null`, described as `type: "null"`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Null;

impl Serialize for Null {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl PartialSchema for Null {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Null).into()
    }
}

impl ToSchema for Null {}

/// A list kassa never has entries for: written `[]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEntries;

impl Serialize for NoEntries {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(std::iter::empty::<()>())
    }
}

impl PartialSchema for NoEntries {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new().max_items(Some(0)).into()
    }
}

impl ToSchema for NoEntries {}

/// An object kassa never has fields for: written `{}`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct NoFields {}

impl PartialSchema for NoFields {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl ToSchema for NoFields {}

/// An object that `expand[]` fetched: it was read for this answer only, so it is turned into a
/// value where it was read rather than borrowed. A `Value` rather than text already written:
/// raw JSON text passes through only the serializer that made it, and a `Value` writes the same
/// through any.
pub type Fetched = Value;

/// An expandable field: the id, or the object it names once `expand[]` asked for it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Expandable<'a, T> {
    Id(&'a str),
    Object(T),
}

/// The schema of an expandable field: the id, or the object `T` once `expand[]` asked for it.
fn expandable<T: ToSchema>() -> Schema {
    expandable_named(&T::name(), false)
}

/// [`expandable`], or `null` where the object may name none.
fn expandable_or_null<T: ToSchema>() -> Schema {
    expandable_named(&T::name(), true)
}

/// An expandable field whose object is one of the components of the document, by name.
pub fn expandable_named(name: &str, nullable: bool) -> Schema {
    let mut one_of = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(Ref::from_schema_name(name));
    if nullable {
        one_of = one_of.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    one_of.into()
}

/// Declares, for `schema_with`, the schema of each expandable field kassa has: the id, or the
/// named component once `expand[]` asked for it (and `null` where the object may name none).
macro_rules! expandable_fields {
    ($($fn:ident: $name:literal, $nullable:literal;)*) => {
        $(pub(crate) fn $fn() -> Schema {
            expandable_named($name, $nullable)
        })*
    };
}

expandable_fields! {
    customer_or_id: "Customer", false;
    customer_or_null: "Customer", true;
    payment_intent_or_id: "PaymentIntent", false;
    payment_intent_or_null: "PaymentIntent", true;
    charge_or_id: "Charge", false;
    charge_or_null: "Charge", true;
    payment_method_or_null: "PaymentMethod", true;
    invoice_or_null: "Invoice", true;
    subscription_or_null: "Subscription", true;
    portal_configuration_or_id: "PortalConfiguration", false;
}

/// A charge's `refunds`, present once expanded.
fn refund_list() -> Schema {
    list_named("Refund")
}

/// A subscription's `items`: all of them (`total_count`).
fn subscription_item_list() -> Schema {
    list_named("SubscriptionItem")
}

/// An invoice's `lines`: all of them (`total_count`).
fn invoice_line_list() -> Schema {
    list_named("InvoiceLineItem")
}

/// An invoice's `payments`.
fn invoice_payment_list() -> Schema {
    list_named("InvoicePayment")
}

/// A session's `line_items`, present once expanded.
fn line_items_list() -> Schema {
    list_named("LineItem")
}

/// A Stripe list envelope of the component `name`: `{object: "list", data, has_more, url}`,
/// and `total_count` where the list is whole (a payment link's `line_items`).
pub fn list_named(name: &str) -> Schema {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(format!(
            "A list of `{name}` objects. `has_more` says whether a request with \
             `starting_after` set to the last id gives more."
        )))
        .property("object", string().enum_values(Some(["list"])))
        .property(
            "data",
            ArrayBuilder::new().items(Ref::from_schema_name(name)),
        )
        .property("has_more", ObjectBuilder::new().schema_type(Type::Boolean))
        .property(
            "total_count",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .property(
            "url",
            string().description(Some("The path that lists these objects.")),
        )
        .required("object")
        .required("data")
        .required("has_more")
        .required("url")
        .into()
}

/// Names a Stripe list of an object for the document (`ProductList`...), for the `body` of an
/// operation's answer: `{object: "list", data: [item], has_more, url}`. A type per list, since
/// the document's generic schemas go through an interface of utoipa's that is not public.
#[macro_export]
macro_rules! list_schema {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::objects::list_named(&<$item as utoipa::ToSchema>::name()).into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                schemas.push((
                    <$item as utoipa::ToSchema>::name().into_owned(),
                    <$item as utoipa::PartialSchema>::schema(),
                ));
                <$item as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}

list_schema!(ProductList of Product<'static>);
list_schema!(PriceList of Price<'static>);
list_schema!(PaymentLinkList of PaymentLink<'static>);
list_schema!(CheckoutSessionList of CheckoutSession<'static>);
list_schema!(LineItemList of LineItem<'static>);
list_schema!(LinkItemList of LinkItem<'static>);
list_schema!(CustomerList of Customer<'static>);
list_schema!(PaymentMethodList of PaymentMethod<'static>);
list_schema!(PaymentIntentList of PaymentIntent<'static>);
list_schema!(ChargeList of Charge<'static>);
list_schema!(RefundList of Refund<'static>);
list_schema!(SubscriptionList of Subscription<'static>);
list_schema!(SubscriptionItemList of SubscriptionItem<'static>);
list_schema!(InvoiceList of Invoice<'static>);
list_schema!(InvoiceLineItemList of InvoiceLineItem<'static>);
list_schema!(TestClockList of TestClock<'static>);
list_schema!(WebhookEndpointList of WebhookEndpoint<'static>);
list_schema!(WebhookAttemptList of WebhookAttempt<'static>);
list_schema!(EventList of Event<'static>);

/// What retrieving a customer answers: the customer or, once it is deleted, [`Deleted`].
pub struct CustomerOrDeleted;

impl PartialSchema for CustomerOrDeleted {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name("Customer"))
            .item(Ref::from_schema_name("Deleted"))
            .into()
    }
}

impl ToSchema for CustomerOrDeleted {}

/// Every object component the document names, with the components they name in turn: added
/// to the document whole, so that a `$ref` that only an expandable field or a nested list
/// makes (`InvoicePayment`, `PortalConfiguration`...) is never left dangling.
pub fn components() -> Vec<(String, RefOr<Schema>)> {
    fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
    let mut schemas = Vec::new();
    add::<Customer>(&mut schemas);
    add::<PaymentMethod>(&mut schemas);
    add::<PaymentIntent>(&mut schemas);
    add::<LastPaymentError>(&mut schemas);
    add::<payments::DeclinedCard>(&mut schemas);
    add::<Charge>(&mut schemas);
    add::<SetupIntent>(&mut schemas);
    add::<Refund>(&mut schemas);
    add::<Subscription>(&mut schemas);
    add::<SubscriptionItem>(&mut schemas);
    add::<Plan>(&mut schemas);
    add::<Invoice>(&mut schemas);
    add::<InvoiceLineItem>(&mut schemas);
    add::<InvoicePayment>(&mut schemas);
    add::<TestClock>(&mut schemas);
    add::<WebhookEndpoint>(&mut schemas);
    add::<WebhookAttempt>(&mut schemas);
    add::<Event>(&mut schemas);
    add::<PortalConfiguration>(&mut schemas);
    add::<PortalSession>(&mut schemas);
    add::<CustomerPortalSession>(&mut schemas);
    add::<Product>(&mut schemas);
    add::<Price>(&mut schemas);
    add::<PaymentLink>(&mut schemas);
    add::<CheckoutSession>(&mut schemas);
    add::<LineItem>(&mut schemas);
    add::<Deleted>(&mut schemas);
    schemas
}

/// What deleting an object answers: `{id, object, deleted: true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted<'a> {
    pub id: &'a str,
    /// The deleted object's type (`product`, `customer`...).
    pub object: &'a str,
    /// Always `true`.
    pub deleted: bool,
}

impl<'a> Deleted<'a> {
    pub fn new(id: &'a str, object: &'a str) -> Self {
        Deleted {
            id,
            object,
            deleted: true,
        }
    }
}

/// A setting the object stores as given (a session's `locale`, a link's `submit_type`...), or
/// the value it has when none was given.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Setting<'a, T> {
    Stored(&'a Value),
    Default(T),
}

/// An object (or a list of them, an error, an event) as the bytes of an answer: compact JSON,
/// keys in the order they are declared. Fails only for a map whose keys are not strings,
/// which no object has.
pub fn to_json<T: Serialize + ?Sized>(object: &T) -> sonic_rs::Result<Vec<u8>> {
    sonic_rs::to_vec(object)
}

/// The object as a JSON value, for an event's snapshot of it (stored, and sent to webhooks),
/// made once when the event is.
pub fn to_value<T: Serialize>(object: &T) -> Value {
    serde_json::to_value(object).expect("an object serialises: every key is a string")
}

// ----- Lists -------------------------------------------------------------------------------------

/// A Stripe list envelope: `{object: "list", data, has_more, url}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<'a, T> {
    object: &'static str,
    pub data: Vec<T>,
    pub has_more: bool,
    /// Only a payment link's own `line_items` carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<usize>,
    url: Cow<'a, str>,
}

impl<'a, T> List<'a, T> {
    /// A list that holds every entry there is: `has_more` false, with `total_count`.
    pub fn whole(data: Vec<T>, url: impl Into<Cow<'a, str>>) -> Self {
        let total_count = Some(data.len());
        List {
            total_count,
            ..List::new(data, false, url)
        }
    }

    pub fn new(data: Vec<T>, has_more: bool, url: impl Into<Cow<'a, str>>) -> Self {
        List {
            object: "list",
            data,
            has_more,
            total_count: None,
            url: url.into(),
        }
    }
}

// ----- Prices ------------------------------------------------------------------------------------

/// A price (`object: "price"`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Price<'a> {
    id: &'a str,
    object: &'static str,
    active: bool,
    billing_scheme: &'static str,
    created: i64,
    currency: &'a Currency,
    #[schema(required = true)]
    custom_unit_amount: Option<CustomUnitAmount>,
    livemode: bool,
    #[schema(required = true)]
    lookup_key: Option<&'a str>,
    metadata: &'a Metadata,
    #[schema(required = true)]
    nickname: Option<&'a str>,
    /// The product's id, or the product.
    #[schema(schema_with = expandable::<Product>)]
    pub product: Expandable<'a, Fetched>,
    #[schema(required = true)]
    recurring: Option<Recurring>,
    tax_behavior: &'a str,
    tiers_mode: Null,
    transform_quantity: Null,
    #[serde(rename = "type")]
    kind: &'static str,
    #[schema(required = true)]
    unit_amount: Option<i64>,
    #[schema(required = true)]
    unit_amount_decimal: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct CustomUnitAmount {
    #[schema(required = true)]
    maximum: Option<i64>,
    #[schema(required = true)]
    minimum: Option<i64>,
    #[schema(required = true)]
    preset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
struct Recurring {
    aggregate_usage: Null,
    #[schema(value_type = Interval)]
    interval: &'static str,
    interval_count: i64,
    meter: Null,
    trial_period_days: Null,
    usage_type: &'static str,
}

impl<'a> Price<'a> {
    pub fn new(price: &'a catalog::Price) -> Self {
        let terms = &price.terms;
        Price {
            id: &price.id,
            object: "price",
            active: price.active,
            billing_scheme: "per_unit",
            created: price.created,
            currency: &terms.currency,
            custom_unit_amount: terms.custom.map(|c| CustomUnitAmount {
                maximum: c.maximum,
                minimum: c.minimum,
                preset: c.preset,
            }),
            livemode: price.livemode,
            lookup_key: price.lookup_key.as_deref(),
            metadata: &price.metadata,
            nickname: price.nickname.as_deref(),
            product: Expandable::Id(&price.product_id),
            recurring: terms.recurring.map(|r| Recurring {
                aggregate_usage: Null,
                interval: r.interval.as_str(),
                interval_count: r.interval_count,
                meter: Null,
                trial_period_days: Null,
                usage_type: "licensed",
            }),
            tax_behavior: &price.tax_behavior,
            tiers_mode: Null,
            transform_quantity: Null,
            kind: if terms.recurring.is_some() {
                "recurring"
            } else {
                "one_time"
            },
            unit_amount: terms.unit_amount,
            unit_amount_decimal: terms.unit_amount.map(|a| a.to_string()),
        }
    }
}

// ----- Products ----------------------------------------------------------------------------------

/// A product (`object: "product"`), with the Loops fields derived from its default price.
#[derive(Debug, Serialize, ToSchema)]
pub struct Product<'a> {
    id: &'a str,
    object: &'static str,
    active: bool,
    created: i64,
    /// The default price's id, or the price.
    #[schema(schema_with = expandable_or_null::<Price>, required = true)]
    pub default_price: Option<Expandable<'a, Price<'a>>>,
    #[schema(required = true)]
    description: Option<&'a str>,
    images: &'a [String],
    livemode: bool,
    marketing_features: NoEntries,
    metadata: &'a Metadata,
    name: &'a str,
    package_dimensions: Null,
    #[schema(required = true)]
    shippable: Option<bool>,
    #[schema(required = true)]
    statement_descriptor: Option<&'a str>,
    #[schema(required = true)]
    tax_code: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'a str,
    #[schema(required = true)]
    unit_label: Option<&'a str>,
    updated: i64,
    #[schema(required = true)]
    url: Option<&'a str>,
    #[serde(rename = "thumbnailUrl")]
    #[schema(required = true)]
    thumbnail_url: Option<&'a str>,
    #[serde(rename = "amountType")]
    #[schema(value_type = Option<AmountType>, required = true)]
    amount_type: Option<&'static str>,
    #[serde(rename = "priceAmount")]
    #[schema(required = true)]
    price_amount: Option<String>,
    #[serde(rename = "minimumAmount")]
    #[schema(required = true)]
    minimum_amount: Option<String>,
    #[serde(rename = "presetAmount")]
    #[schema(required = true)]
    preset_amount: Option<String>,
    #[serde(rename = "priceCurrency")]
    #[schema(required = true)]
    price_currency: Option<&'a str>,
    #[serde(rename = "recurringInterval")]
    #[schema(value_type = Option<Interval>, required = true)]
    recurring_interval: Option<&'static str>,
    #[schema(value_type = ProductStatus)]
    status: &'static str,
    #[serde(rename = "merchantId")]
    merchant_id: &'a str,
}

impl<'a> Product<'a> {
    pub fn new(product: &'a catalog::Product, caller: &'a Caller) -> Self {
        let default_price = product.default_price.as_ref();
        let terms = default_price.map(|p| &p.terms);
        let amounts = product.loops_amounts();
        Product {
            id: &product.id,
            object: "product",
            active: product.active(),
            created: product.created,
            default_price: default_price.map(|p| Expandable::Id(&p.id)),
            description: product.description.as_deref(),
            images: &product.images,
            livemode: product.livemode,
            marketing_features: NoEntries,
            metadata: &product.metadata,
            name: &product.name,
            package_dimensions: Null,
            shippable: product.shippable,
            statement_descriptor: product.statement_descriptor.as_deref(),
            tax_code: product.tax_code.as_deref(),
            kind: &product.kind,
            unit_label: product.unit_label.as_deref(),
            updated: product.updated,
            url: product.url.as_deref(),
            thumbnail_url: product.thumbnail_url.as_deref(),
            amount_type: product.amount_type().map(AmountType::as_str),
            price_amount: amounts.price,
            minimum_amount: amounts.minimum,
            preset_amount: amounts.preset,
            price_currency: terms.map(|t| t.currency.as_str()),
            recurring_interval: terms.and_then(|t| t.recurring).map(|r| r.interval.as_str()),
            status: product.status.as_str(),
            merchant_id: &caller.account_id,
        }
    }
}

// ----- Payment links -----------------------------------------------------------------------------

/// A payment link (`object: "payment_link"`), with its line items and the Loops fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentLink<'a> {
    id: &'a str,
    object: &'static str,
    active: bool,
    after_completion: AfterCompletion<'a>,
    allow_promotion_codes: bool,
    application_fee_amount: Null,
    application_fee_percent: Null,
    automatic_tax: LinkAutomaticTax,
    #[schema(value_type = String)]
    billing_address_collection: Setting<'a, &'static str>,
    consent_collection: Null,
    currency: &'a Currency,
    custom_fields: NoEntries,
    custom_text: CustomText,
    #[schema(value_type = String)]
    customer_creation: Setting<'a, &'static str>,
    inactive_message: Null,
    invoice_creation: Null,
    /// Always the whole list (a link holds at most 20 items).
    #[schema(value_type = LinkItemList)]
    pub line_items: List<'a, LinkItem<'a>>,
    livemode: bool,
    metadata: &'a Metadata,
    on_behalf_of: Null,
    payment_intent_data: Null,
    payment_method_collection: &'static str,
    #[schema(value_type = Option<Vec<String>>, required = true)]
    payment_method_types: Option<&'a Value>,
    phone_number_collection: Enabled,
    restrictions: Null,
    shipping_address_collection: Null,
    shipping_options: NoEntries,
    #[schema(value_type = String)]
    submit_type: Setting<'a, &'static str>,
    subscription_data: Null,
    tax_id_collection: TaxIdCollection,
    transfer_data: Null,
    url: String,
    #[schema(required = true)]
    label: Option<&'a str>,
    #[serde(rename = "productIds")]
    product_ids: Vec<String>,
    #[serde(rename = "successUrl")]
    #[schema(required = true)]
    success_url: Option<&'a str>,
    #[serde(rename = "cancelUrl")]
    #[schema(required = true)]
    cancel_url: Option<&'a str>,
}

/// `{type: "redirect", redirect: {url}}` or `{type: "hosted_confirmation", ...}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AfterCompletion<'a> {
    Redirect {
        redirect: Redirect<'a>,
    },
    HostedConfirmation {
        hosted_confirmation: HostedConfirmation<'a>,
    },
}

#[derive(Debug, Serialize, ToSchema)]
struct Redirect<'a> {
    url: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
struct HostedConfirmation<'a> {
    #[schema(required = true)]
    custom_message: Option<&'a str>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct LinkAutomaticTax {
    enabled: bool,
    liability: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct TaxIdCollection {
    enabled: bool,
    required: &'static str,
}

/// One line of a payment link (`object: "item"`). Its `adjustable_quantity` is written in the
/// domain's field order (`enabled`, `minimum`, `maximum`), unlike a session's line item.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkItem<'a> {
    id: &'a str,
    object: &'static str,
    #[schema(value_type = Option<AdjustableQuantityObject>, required = true)]
    adjustable_quantity: Option<&'a AdjustableQuantity>,
    amount_discount: i64,
    amount_subtotal: i64,
    amount_tax: i64,
    amount_total: i64,
    currency: &'a Currency,
    description: Null,
    metadata: NoFields,
    /// Always the price object; `expand[]` can go on to its `product`.
    pub price: Price<'a>,
    quantity: i64,
}

impl<'a> LinkItem<'a> {
    /// Every line of the link, as its `line_items` list.
    pub fn list(link: &'a catalog::PaymentLink) -> List<'a, LinkItem<'a>> {
        let items = link
            .items
            .iter()
            .zip(&link.prices)
            .map(|(item, price)| {
                let subtotal = price.terms.unit_amount.unwrap_or(0) * item.quantity;
                LinkItem {
                    id: &item.id,
                    object: "item",
                    adjustable_quantity: item.adjustable_quantity.as_ref(),
                    amount_discount: 0,
                    amount_subtotal: subtotal,
                    amount_tax: 0,
                    amount_total: subtotal,
                    currency: &price.terms.currency,
                    description: Null,
                    metadata: NoFields {},
                    price: Price::new(price),
                    quantity: item.quantity,
                }
            })
            .collect();
        let url = format!("/v1/payment_links/{}/line_items", link.id);
        List {
            total_count: Some(link.items.len()),
            ..List::new(items, false, url)
        }
    }
}

impl<'a> PaymentLink<'a> {
    /// The link as `/v1` and `/api/v3` show it; `public_url` makes its `url`.
    ///
    /// The settings a link stores (`billing_address_collection`, `customer_creation`,
    /// `submit_type`, `payment_method_types`) are fields of the object, shown as stored.
    pub fn new(link: &'a catalog::PaymentLink, public_url: &str) -> Self {
        let setting = |key: &str, default: &'static str| match link.settings.get(key) {
            Some(value) => Setting::Stored(value),
            None => Setting::Default(default),
        };
        PaymentLink {
            id: &link.id,
            object: "payment_link",
            active: link.active,
            after_completion: match &link.success_url {
                Some(url) => AfterCompletion::Redirect {
                    redirect: Redirect { url },
                },
                None => AfterCompletion::HostedConfirmation {
                    hosted_confirmation: HostedConfirmation {
                        custom_message: link.confirmation_message.as_deref(),
                    },
                },
            },
            allow_promotion_codes: link.allow_promotion_codes,
            application_fee_amount: Null,
            application_fee_percent: Null,
            automatic_tax: LinkAutomaticTax::default(),
            billing_address_collection: setting("billing_address_collection", "auto"),
            consent_collection: Null,
            currency: &link.currency,
            custom_fields: NoEntries,
            custom_text: CustomText::default(),
            customer_creation: setting("customer_creation", "if_required"),
            inactive_message: Null,
            invoice_creation: Null,
            line_items: LinkItem::list(link),
            livemode: link.livemode,
            metadata: &link.metadata,
            on_behalf_of: Null,
            payment_intent_data: Null,
            payment_method_collection: "always",
            payment_method_types: link.settings.get("payment_method_types"),
            phone_number_collection: Enabled::default(),
            restrictions: Null,
            shipping_address_collection: Null,
            shipping_options: NoEntries,
            submit_type: setting("submit_type", "auto"),
            subscription_data: Null,
            tax_id_collection: TaxIdCollection {
                enabled: false,
                required: "never",
            },
            transfer_data: Null,
            url: link.url(public_url),
            label: link.label.as_deref(),
            product_ids: link.product_ids(),
            success_url: link.success_url.as_deref(),
            cancel_url: link.cancel_url.as_deref(),
        }
    }
}

// ----- Checkout sessions -------------------------------------------------------------------------

/// The checkout session (`object: "checkout.session"`): every field of Stripe's object and the
/// Loops V3 extras.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutSession<'a> {
    id: &'a str,
    object: &'static str,
    adaptive_pricing: Null,
    after_expiration: Null,
    #[schema(value_type = Option<bool>, required = true)]
    allow_promotion_codes: Option<&'a Value>,
    #[schema(value_type = Vec<String>)]
    allowed_payment_method_types: Setting<'a, [&'static str; 1]>,
    amount_subtotal: i64,
    amount_total: i64,
    automatic_tax: SessionAutomaticTax,
    #[schema(value_type = Option<String>, required = true)]
    billing_address_collection: Option<&'a Value>,
    #[schema(required = true)]
    cancel_url: Option<&'a str>,
    #[schema(required = true)]
    client_reference_id: Option<&'a str>,
    client_secret: Null,
    collected_information: Null,
    consent: Null,
    consent_collection: Null,
    created: i64,
    currency: &'a Currency,
    currency_conversion: Null,
    custom_fields: NoEntries,
    custom_text: CustomText,
    /// The customer's id, or the customer.
    #[schema(schema_with = customer_or_null, required = true)]
    pub customer: Option<Expandable<'a, Value>>,
    customer_account: Null,
    #[schema(value_type = Option<String>, required = true)]
    customer_creation: Option<&'a Value>,
    #[schema(value_type = Option<Object>, required = true)]
    customer_details: Option<&'a Value>,
    #[schema(required = true)]
    customer_email: Option<&'a str>,
    discounts: NoEntries,
    expires_at: i64,
    #[schema(value_type = Option<String>, required = true)]
    integration_identifier: Option<&'a Value>,
    #[schema(required = true)]
    invoice: Option<&'a str>,
    invoice_creation: Null,
    livemode: bool,
    #[schema(value_type = Option<String>, required = true)]
    locale: Option<&'a Value>,
    metadata: &'a Metadata,
    #[schema(value_type = CheckoutMode)]
    mode: &'static str,
    origin_context: Null,
    /// The PaymentIntent's id, or the PaymentIntent.
    #[schema(schema_with = payment_intent_or_null, required = true)]
    pub payment_intent: Option<Expandable<'a, Value>>,
    /// The payment link's id, or the payment link.
    #[schema(schema_with = expandable_or_null::<PaymentLink>, required = true)]
    pub payment_link: Option<Expandable<'a, Fetched>>,
    payment_method_collection: &'static str,
    payment_method_configuration_details: Null,
    payment_method_options: NoFields,
    #[schema(value_type = Vec<String>)]
    payment_method_types: Setting<'a, [&'static str; 1]>,
    #[schema(value_type = PaymentStatus)]
    payment_status: &'static str,
    permissions: Null,
    phone_number_collection: Enabled,
    recovered_from: Null,
    #[schema(value_type = Option<String>, required = true)]
    return_url: Option<&'a Value>,
    saved_payment_method_options: Null,
    #[schema(required = true)]
    setup_intent: Option<&'a str>,
    shipping: Null,
    shipping_address_collection: Null,
    shipping_cost: Null,
    shipping_options: NoEntries,
    #[schema(value_type = SessionStatus)]
    status: &'static str,
    #[schema(value_type = Option<String>, required = true)]
    submit_type: Option<&'a Value>,
    #[schema(required = true)]
    subscription: Option<&'a str>,
    #[schema(required = true)]
    success_url: Option<&'a str>,
    total_details: TotalDetails,
    #[schema(value_type = String)]
    ui_mode: Setting<'a, &'static str>,
    #[schema(required = true)]
    url: Option<String>,
    wallet_options: Null,
    #[serde(rename = "productName")]
    product_name: &'a str,
    #[serde(rename = "externalCustomerId")]
    #[schema(required = true)]
    external_customer_id: Option<&'a str>,
    /// Present only when `expand[]` includes it, after every other field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = line_items_list)]
    pub line_items: Option<Fetched>,
}

/// A session's `status` as Stripe names it: a session canceled or failed reads `expired`.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum SessionStatus {
    Open,
    Complete,
    Expired,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct SessionAutomaticTax {
    enabled: bool,
    liability: Null,
    provider: Null,
    status: Null,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct CustomText {
    after_submit: Null,
    shipping_address: Null,
    submit: Null,
    terms_of_service_acceptance: Null,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct Enabled {
    enabled: bool,
}

#[derive(Debug, Default, Serialize, ToSchema)]
struct TotalDetails {
    amount_discount: i64,
    amount_shipping: i64,
    amount_tax: i64,
}

impl<'a> CheckoutSession<'a> {
    /// The session; `public_url` makes the `url` of an open one.
    pub fn new(session: &'a checkout::Session, public_url: &str) -> Self {
        let setting = |key: &str| session.settings.get(key);
        CheckoutSession {
            id: &session.id,
            object: "checkout.session",
            adaptive_pricing: Null,
            after_expiration: Null,
            allow_promotion_codes: setting("allow_promotion_codes"),
            allowed_payment_method_types: payment_method_types(session),
            amount_subtotal: session.amount_subtotal,
            amount_total: session.amount_total,
            automatic_tax: SessionAutomaticTax::default(),
            billing_address_collection: setting("billing_address_collection"),
            cancel_url: session.cancel_url.as_deref(),
            client_reference_id: session.client_reference_id.as_deref(),
            client_secret: Null,
            collected_information: Null,
            consent: Null,
            consent_collection: Null,
            created: session.created,
            currency: &session.currency,
            currency_conversion: Null,
            custom_fields: NoEntries,
            custom_text: CustomText::default(),
            customer: session.customer_id.as_deref().map(Expandable::Id),
            customer_account: Null,
            customer_creation: setting("customer_creation"),
            customer_details: session.customer_details.as_ref(),
            customer_email: session.customer_email.as_deref(),
            discounts: NoEntries,
            expires_at: session.expires_at,
            integration_identifier: setting("integration_identifier"),
            invoice: session.invoice_id.as_deref(),
            invoice_creation: Null,
            livemode: session.livemode,
            locale: setting("locale"),
            metadata: &session.metadata,
            mode: session.mode.as_str(),
            origin_context: Null,
            // A subscription's payments belong to its invoices (Stripe: "for Checkout Sessions
            // in `payment` mode").
            payment_intent: session
                .payment_intent_id
                .as_deref()
                .filter(|_| session.mode != checkout::CheckoutMode::Subscription)
                .map(Expandable::Id),
            payment_link: session.payment_link_id.as_deref().map(Expandable::Id),
            payment_method_collection: if session.saves_card()
                || session.mode != checkout::CheckoutMode::Subscription
            {
                "always"
            } else {
                "if_required"
            },
            payment_method_configuration_details: Null,
            payment_method_options: NoFields {},
            payment_method_types: payment_method_types(session),
            payment_status: session.payment_status.as_str(),
            permissions: Null,
            phone_number_collection: Enabled::default(),
            recovered_from: Null,
            return_url: setting("return_url"),
            saved_payment_method_options: Null,
            setup_intent: session.setup_intent_id.as_deref(),
            shipping: Null,
            shipping_address_collection: Null,
            shipping_cost: Null,
            shipping_options: NoEntries,
            status: session.state.stripe_status(),
            submit_type: setting("submit_type"),
            subscription: session.subscription_id.as_deref(),
            success_url: session.success_url.as_deref(),
            total_details: TotalDetails::default(),
            ui_mode: match setting("ui_mode") {
                Some(value) => Setting::Stored(value),
                None => Setting::Default("hosted_page"),
            },
            url: (session.state == SessionState::Open).then(|| session.url(public_url)),
            wallet_options: Null,
            product_name: &session.product_name,
            external_customer_id: session.external_customer_id.as_deref(),
            line_items: None,
        }
    }
}

/// The session's payment method types as [`checkout::Session::payment_method_types`] reads
/// them (a stored list of strings, else `["card"]`), without copying the list.
fn payment_method_types(session: &checkout::Session) -> Setting<'_, [&'static str; 1]> {
    match session.settings.get("payment_method_types") {
        Some(stored @ Value::Array(types)) if types.iter().all(Value::is_string) => {
            Setting::Stored(stored)
        }
        _ => Setting::Default(["card"]),
    }
}

/// A checkout session's line item (`object: "item"`).
#[derive(Debug, Serialize, ToSchema)]
pub struct LineItem<'a> {
    id: &'a str,
    object: &'static str,
    #[schema(required = true)]
    adjustable_quantity: Option<AdjustableQuantityObject>,
    amount_discount: i64,
    amount_subtotal: i64,
    amount_tax: i64,
    amount_total: i64,
    currency: &'a Currency,
    description: &'a str,
    metadata: NoFields,
    /// Always the price object; `expand[]` can go on to its `product`.
    pub price: Price<'a>,
    quantity: i64,
}

/// A session line item's `adjustable_quantity`, in Stripe's order.
#[derive(Debug, Serialize, ToSchema)]
struct AdjustableQuantityObject {
    enabled: bool,
    #[schema(required = true)]
    maximum: Option<i64>,
    #[schema(required = true)]
    minimum: Option<i64>,
}

impl<'a> LineItem<'a> {
    pub fn new(item: &'a checkout::LineItem) -> Self {
        LineItem {
            id: &item.id,
            object: "item",
            adjustable_quantity: item.adjustable_quantity.map(|a| AdjustableQuantityObject {
                enabled: a.enabled,
                maximum: a.maximum,
                minimum: a.minimum,
            }),
            amount_discount: 0,
            amount_subtotal: item.amount_subtotal,
            amount_tax: 0,
            amount_total: item.amount_total,
            currency: &item.price.terms.currency,
            description: &item.description,
            metadata: NoFields {},
            price: Price::new(&item.price),
            quantity: item.quantity,
        }
    }
}
#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    //! Every object, fully populated and bare, against the JSON that the `json!`-built objects
    //! gave before the objects became typed (tests/fixtures/objects/): byte for byte, so that
    //! no field is lost, renamed, moved or changes its null.

    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::domain::catalog::{
        AdjustableQuantity, CustomUnitAmount, Interval, LinkItem, PriceTerms, ProductStatus,
        Recurring,
    };
    use crate::domain::checkout::{CheckoutMode, PaymentStatus, Session, SessionState};
    use crate::domain::metadata::Metadata;
    use crate::domain::money::Currency;

    const PUBLIC_URL: &str = "https://pay.example";

    pub(super) fn metadata() -> Metadata {
        Metadata(BTreeMap::from([
            ("order".to_string(), "A-1 \"quoted\" \u{e9}".to_string()),
            ("b".to_string(), "2".to_string()),
        ]))
    }

    fn usd() -> Currency {
        Currency::from_stored("usd".into())
    }

    pub(super) fn full_price() -> catalog::Price {
        catalog::Price {
            id: "price_full".into(),
            livemode: true,
            product_id: "prod_full".into(),
            active: true,
            terms: PriceTerms {
                currency: usd(),
                unit_amount: Some(2999),
                custom: None,
                recurring: Some(Recurring {
                    interval: Interval::Month,
                    interval_count: 3,
                }),
            },
            lookup_key: Some("pro_quarterly".into()),
            nickname: Some("Pro".into()),
            tax_behavior: "exclusive".into(),
            metadata: metadata(),
            created: 1_700_000_000,
        }
    }

    pub(super) fn custom_price() -> catalog::Price {
        catalog::Price {
            id: "price_custom".into(),
            livemode: false,
            product_id: "prod_custom".into(),
            active: false,
            terms: PriceTerms {
                currency: Currency::from_stored("jpy".into()),
                unit_amount: None,
                custom: Some(CustomUnitAmount {
                    minimum: Some(500),
                    maximum: Some(100_000),
                    preset: Some(1000),
                }),
                recurring: None,
            },
            lookup_key: None,
            nickname: None,
            tax_behavior: "unspecified".into(),
            metadata: Metadata::default(),
            created: 1_700_000_001,
        }
    }

    fn full_product() -> catalog::Product {
        catalog::Product {
            id: "prod_full".into(),
            livemode: true,
            name: "Pro \u{2014} yearly".into(),
            description: Some("Everything".into()),
            status: ProductStatus::Active,
            images: vec![
                "https://img.example/1.png".into(),
                "https://img.example/2.png".into(),
            ],
            thumbnail_url: Some("https://img.example/t.png".into()),
            statement_descriptor: Some("PRO".into()),
            tax_code: Some("txcd_10000000".into()),
            unit_label: Some("seat".into()),
            url: Some("https://shop.example/pro".into()),
            shippable: Some(false),
            kind: "service".into(),
            metadata: metadata(),
            default_price: Some(full_price()),
            created: 1_700_000_000,
            updated: 1_700_000_100,
        }
    }

    fn custom_product() -> catalog::Product {
        catalog::Product {
            id: "prod_custom".into(),
            status: ProductStatus::Draft,
            default_price: Some(custom_price()),
            ..bare_product()
        }
    }

    fn bare_product() -> catalog::Product {
        catalog::Product {
            id: "prod_bare".into(),
            livemode: false,
            name: "Bare".into(),
            description: None,
            status: ProductStatus::Inactive,
            images: Vec::new(),
            thumbnail_url: None,
            statement_descriptor: None,
            tax_code: None,
            unit_label: None,
            url: None,
            shippable: None,
            kind: "good".into(),
            metadata: Metadata::default(),
            default_price: None,
            created: 1_700_000_000,
            updated: 1_700_000_000,
        }
    }

    fn full_link() -> catalog::PaymentLink {
        let mut settings = serde_json::Map::new();
        settings.insert("submit_type".into(), json!("donate"));
        settings.insert("billing_address_collection".into(), json!("required"));
        settings.insert("payment_method_types".into(), json!(["card", "paypal"]));
        settings.insert("customer_creation".into(), json!("always"));
        catalog::PaymentLink {
            id: "plink_full".into(),
            livemode: true,
            active: true,
            label: Some("Spring sale".into()),
            items: vec![
                LinkItem {
                    id: "li_1".into(),
                    price: "price_full".into(),
                    quantity: 2,
                    adjustable_quantity: Some(AdjustableQuantity {
                        enabled: true,
                        minimum: Some(1),
                        maximum: Some(10),
                    }),
                },
                LinkItem {
                    id: "li_2".into(),
                    price: "price_custom".into(),
                    quantity: 1,
                    adjustable_quantity: None,
                },
            ],
            prices: vec![full_price(), custom_price()],
            currency: usd(),
            success_url: Some("https://shop.example/thanks".into()),
            cancel_url: Some("https://shop.example/cart".into()),
            confirmation_message: None,
            allow_promotion_codes: true,
            settings,
            metadata: metadata(),
            created: 1_700_000_000,
            updated: 1_700_000_200,
        }
    }

    fn bare_link() -> catalog::PaymentLink {
        catalog::PaymentLink {
            id: "plink_bare".into(),
            livemode: false,
            active: false,
            label: None,
            items: Vec::new(),
            prices: Vec::new(),
            currency: usd(),
            success_url: None,
            cancel_url: None,
            confirmation_message: Some("Thank you!".into()),
            allow_promotion_codes: false,
            settings: serde_json::Map::new(),
            metadata: Metadata::default(),
            created: 1_700_000_000,
            updated: 1_700_000_000,
        }
    }

    fn full_session() -> Session {
        let settings = json!({
            "allow_promotion_codes": true,
            "billing_address_collection": "required",
            "customer_creation": "always",
            "integration_identifier": "shop-42",
            "locale": "fr",
            "return_url": "https://shop.example/return",
            "submit_type": "pay",
            "ui_mode": "embedded",
            "payment_method_types": ["card", "us_bank_account"],
            "payment_intent_data": {"description": "x"},
        });
        Session {
            id: "cs_test_full".into(),
            livemode: false,
            state: SessionState::Open,
            mode: CheckoutMode::Subscription,
            payment_status: PaymentStatus::Unpaid,
            currency: usd(),
            amount_subtotal: 5998,
            amount_total: 5998,
            product_name: "Pro".into(),
            product_description: Some("Everything".into()),
            success_url: Some("https://shop.example/thanks".into()),
            cancel_url: Some("https://shop.example/cart".into()),
            customer_id: Some("cus_1".into()),
            customer_email: Some("ann@example.com".into()),
            client_reference_id: Some("ref-1".into()),
            external_customer_id: Some("ext-1".into()),
            payment_link_id: Some("plink_full".into()),
            payment_intent_id: Some("pi_1".into()),
            setup_intent_id: Some("seti_1".into()),
            subscription_id: None,
            invoice_id: None,
            metadata: metadata(),
            settings: settings.as_object().unwrap().clone(),
            customer_details: Some(
                json!({"email": "ann@example.com", "name": null, "tax_ids": []}),
            ),
            declined_attempts: 1,
            created: 1_700_000_000,
            updated: 1_700_000_010,
            expires_at: 1_700_003_600,
            completed_at: None,
            test_clock_id: None,
        }
    }

    fn bare_session() -> Session {
        let mut settings = serde_json::Map::new();
        // Not a list of strings: answered as the default, `["card"]`.
        settings.insert("payment_method_types".into(), json!("card"));
        Session {
            id: "cs_live_bare".into(),
            livemode: true,
            state: SessionState::Canceled,
            mode: CheckoutMode::Payment,
            payment_status: PaymentStatus::NoPaymentRequired,
            currency: Currency::from_stored("eur".into()),
            amount_subtotal: 0,
            amount_total: 0,
            product_name: "Free".into(),
            product_description: None,
            success_url: None,
            cancel_url: None,
            customer_id: None,
            customer_email: None,
            client_reference_id: None,
            external_customer_id: None,
            payment_link_id: None,
            payment_intent_id: None,
            setup_intent_id: None,
            subscription_id: None,
            invoice_id: None,
            metadata: Metadata::default(),
            settings,
            customer_details: None,
            declined_attempts: 0,
            created: 1_700_000_000,
            updated: 1_700_000_000,
            expires_at: 1_700_003_600,
            completed_at: Some(1_700_000_050),
            test_clock_id: None,
        }
    }

    fn line_items() -> Vec<checkout::LineItem> {
        vec![
            checkout::LineItem {
                id: "li_full".into(),
                price: full_price(),
                description: "Pro".into(),
                unit_amount: 2999,
                quantity: 2,
                adjustable_quantity: Some(AdjustableQuantity {
                    enabled: true,
                    minimum: Some(1),
                    maximum: Some(10),
                }),
                amount_subtotal: 5998,
                amount_total: 5998,
            },
            checkout::LineItem {
                id: "li_bare".into(),
                price: custom_price(),
                description: "Tip".into(),
                unit_amount: 700,
                quantity: 1,
                adjustable_quantity: None,
                amount_subtotal: 700,
                amount_total: 700,
            },
        ]
    }

    fn s<T: Serialize>(object: &T) -> String {
        String::from_utf8(to_json(object).unwrap()).unwrap()
    }

    /// Each object under the name of its fixture file.
    fn rendered() -> Vec<(&'static str, String)> {
        let caller = Caller::without_key("acct_1", true);
        let (full_product, custom_product, bare_product) =
            (full_product(), custom_product(), bare_product());
        let (full_price, custom_price) = (full_price(), custom_price());
        let (full_link, bare_link) = (full_link(), bare_link());
        let (full_session, bare_session) = (full_session(), bare_session());
        let items = line_items();
        let mut expanded = Product::new(&full_product, &caller);
        expanded.default_price = Some(Expandable::Object(Price::new(&full_price)));
        vec![
            ("price_full", s(&Price::new(&full_price))),
            ("price_custom", s(&Price::new(&custom_price))),
            ("product_full", s(&Product::new(&full_product, &caller))),
            ("product_full_expanded", s(&expanded)),
            ("product_custom", s(&Product::new(&custom_product, &caller))),
            ("product_bare", s(&Product::new(&bare_product, &caller))),
            (
                "payment_link_full",
                s(&PaymentLink::new(&full_link, PUBLIC_URL)),
            ),
            (
                "payment_link_bare",
                s(&PaymentLink::new(&bare_link, PUBLIC_URL)),
            ),
            (
                "session_full",
                s(&CheckoutSession::new(&full_session, PUBLIC_URL)),
            ),
            (
                "session_bare",
                s(&CheckoutSession::new(&bare_session, PUBLIC_URL)),
            ),
            (
                "line_items",
                s(&List::new(
                    items.iter().map(LineItem::new).collect(),
                    true,
                    "/v1/checkout/sessions/cs_test_full/line_items",
                )),
            ),
        ]
    }

    #[test]
    fn objects_serialise_as_before() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/objects");
        for (name, json) in rendered() {
            let expected = std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap();
            assert_eq!(json, expected.trim_end(), "{name}");
        }
    }

    #[test]
    fn snapshots_keep_the_order() {
        let session = full_session();
        let object = CheckoutSession::new(&session, PUBLIC_URL);
        let value = to_value(&object);
        assert_eq!(value.to_string(), s(&object));
    }

    /// Answers are written by sonic-rs and events' snapshots by serde_json: a string reads
    /// the same in both, escapes included (the short forms `\n`, `\t`..., `\u00XX` for the
    /// other control characters, UTF-8 as it is, `/` and DEL unescaped).
    #[test]
    fn strings_escape_as_serde_json_escapes_them() {
        let mut every: String = (0u8..0x80).map(char::from).collect();
        every.push_str("é€😀 \\\" \u{2028}\u{2029}");
        for text in [every.as_str(), "", "plain", &every.repeat(5)[3..]] {
            let mut metadata = std::collections::BTreeMap::new();
            metadata.insert(text, text);
            assert_eq!(s(&metadata), serde_json::to_string(&metadata).unwrap());
            assert_eq!(s(&text), Value::from(text).to_string());
        }
    }
}
