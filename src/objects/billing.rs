//! Billing: subscriptions and their items, the legacy plan, invoices and their lines and
//! payments, and test clocks.

use serde::Serialize;
use utoipa::ToSchema;

use super::{
    List, NoEntries, NoFields, Null, Price, charge_or_null, customer_or_id, invoice_line_list,
    invoice_or_null, invoice_payment_list, payment_intent_or_null, subscription_item_list,
    subscription_or_null,
};
use crate::domain::billing::{Invoice as DomainInvoice, InvoiceLine, InvoiceStatus};
use crate::domain::billing::{Subscription as DomainSubscription, SubscriptionItem as DomainItem};
use crate::domain::catalog::{self, Interval};
use crate::domain::metadata::Metadata;
use crate::domain::test_clocks;

/// A subscription (`object: "subscription"`), with the list of its items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscription<'a> {
    id: &'a str,
    object: &'static str,
    application: Null,
    application_fee_percent: Null,
    automatic_tax: SubscriptionAutomaticTax,
    billing_cycle_anchor: i64,
    billing_cycle_anchor_config: Null,
    billing_mode: BillingMode,
    billing_thresholds: Null,
    #[schema(required = true)]
    cancel_at: Option<i64>,
    cancel_at_period_end: bool,
    #[schema(required = true)]
    canceled_at: Option<i64>,
    cancellation_details: CancellationDetails<'a>,
    collection_method: &'static str,
    created: i64,
    currency: &'a str,
    current_period_end: i64,
    current_period_start: i64,
    /// The customer's id, or the customer.
    #[schema(schema_with = customer_or_id)]
    customer: &'a str,
    customer_account: Null,
    days_until_due: Null,
    #[schema(required = true)]
    default_payment_method: Option<&'a str>,
    default_source: Null,
    default_tax_rates: NoEntries,
    #[schema(required = true)]
    description: Option<&'a str>,
    discounts: NoEntries,
    #[schema(required = true)]
    ended_at: Option<i64>,
    invoice_settings: SubscriptionInvoiceSettings,
    #[schema(schema_with = subscription_item_list)]
    items: List<'a, SubscriptionItem<'a>>,
    /// The latest invoice's id, or the invoice.
    #[schema(schema_with = invoice_or_null, required = true)]
    latest_invoice: Option<&'a str>,
    livemode: bool,
    metadata: &'a Metadata,
    next_pending_invoice_item_invoice: Null,
    on_behalf_of: Null,
    pause_collection: Null,
    payment_settings: SubscriptionPaymentSettings,
    pending_invoice_item_interval: Null,
    pending_setup_intent: Null,
    pending_update: Null,
    /// The first item's plan.
    #[schema(required = true)]
    plan: Option<Plan<'a>>,
    /// The first item's quantity.
    #[schema(required = true)]
    quantity: Option<i64>,
    schedule: Null,
    start_date: i64,
    #[schema(value_type = crate::domain::billing::SubscriptionStatus)]
    status: &'static str,
    #[schema(required = true)]
    test_clock: Option<&'a str>,
    transfer_data: Null,
    #[schema(required = true)]
    trial_end: Option<i64>,
    trial_settings: TrialSettings<'a>,
    #[schema(required = true)]
    trial_start: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
struct SubscriptionAutomaticTax {
    disabled_reason: Null,
    enabled: bool,
    liability: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct BillingMode {
    flexible: Null,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// Why and how a subscription was canceled.
#[derive(Debug, Serialize, ToSchema)]
struct CancellationDetails<'a> {
    #[schema(required = true)]
    comment: Option<&'a str>,
    #[schema(required = true)]
    feedback: Option<&'a str>,
    /// `cancellation_requested`, `payment_failed`...
    #[schema(required = true)]
    reason: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
struct SubscriptionInvoiceSettings {
    account_tax_ids: Null,
    issuer: Issuer,
}

/// Who issues the invoices: always the account itself.
#[derive(Debug, Serialize, ToSchema)]
struct Issuer {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct SubscriptionPaymentSettings {
    payment_method_options: Null,
    payment_method_types: Null,
    save_default_payment_method: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct TrialSettings<'a> {
    end_behavior: TrialEndBehavior<'a>,
}

#[derive(Debug, Serialize, ToSchema)]
struct TrialEndBehavior<'a> {
    /// `create_invoice`, `pause` or `cancel`.
    missing_payment_method: &'a str,
}

impl<'a> Subscription<'a> {
    pub fn new(subscription: &'a DomainSubscription) -> Self {
        let s = subscription;
        let first = s.items.first();
        Subscription {
            id: &s.id,
            object: "subscription",
            application: Null,
            application_fee_percent: Null,
            automatic_tax: SubscriptionAutomaticTax {
                disabled_reason: Null,
                enabled: false,
                liability: Null,
            },
            billing_cycle_anchor: s.billing_cycle_anchor,
            billing_cycle_anchor_config: Null,
            billing_mode: BillingMode {
                flexible: Null,
                kind: "classic",
            },
            billing_thresholds: Null,
            cancel_at: s.cancel_at,
            cancel_at_period_end: s.cancel_at_period_end,
            canceled_at: s.canceled_at,
            cancellation_details: CancellationDetails {
                comment: s.cancellation.comment.as_deref(),
                feedback: s.cancellation.feedback.as_deref(),
                reason: s.cancellation.reason.as_deref(),
            },
            collection_method: "charge_automatically",
            created: s.created,
            currency: &s.currency,
            current_period_end: s.current_period_end,
            current_period_start: s.current_period_start,
            customer: &s.customer_id,
            customer_account: Null,
            days_until_due: Null,
            default_payment_method: s.default_payment_method.as_deref(),
            default_source: Null,
            default_tax_rates: NoEntries,
            description: s.description.as_deref(),
            discounts: NoEntries,
            ended_at: s.ended_at,
            invoice_settings: SubscriptionInvoiceSettings {
                account_tax_ids: Null,
                issuer: Issuer { kind: "self" },
            },
            items: List::whole(
                s.items
                    .iter()
                    .map(|i| SubscriptionItem::new(i, s))
                    .collect(),
                format!("/v1/subscription_items?subscription={}", s.id),
            ),
            latest_invoice: s.latest_invoice_id.as_deref(),
            livemode: s.livemode,
            metadata: &s.metadata,
            next_pending_invoice_item_invoice: Null,
            on_behalf_of: Null,
            pause_collection: Null,
            payment_settings: SubscriptionPaymentSettings {
                payment_method_options: Null,
                payment_method_types: Null,
                save_default_payment_method: "off",
            },
            pending_invoice_item_interval: Null,
            pending_setup_intent: Null,
            pending_update: Null,
            plan: first.map(|i| Plan::new(&i.price)),
            quantity: first.map(|i| i.quantity),
            schedule: Null,
            start_date: s.start_date,
            status: s.status.as_str(),
            test_clock: s.test_clock_id.as_deref(),
            transfer_data: Null,
            trial_end: s.trial_end,
            trial_settings: TrialSettings {
                end_behavior: TrialEndBehavior {
                    missing_payment_method: &s.trial_missing_payment_method,
                },
            },
            trial_start: s.trial_start,
        }
    }
}

/// A subscription item (`object: "subscription_item"`): its price, the legacy `plan` beside
/// it, and the current period, which is its subscription's.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionItem<'a> {
    id: &'a str,
    object: &'static str,
    billing_thresholds: Null,
    created: i64,
    current_period_end: i64,
    current_period_start: i64,
    discounts: NoEntries,
    metadata: &'a Metadata,
    plan: Plan<'a>,
    price: Price<'a>,
    quantity: i64,
    /// The subscription's id.
    subscription: &'a str,
    tax_rates: NoEntries,
}

impl<'a> SubscriptionItem<'a> {
    pub fn new(item: &'a DomainItem, subscription: &DomainSubscription) -> Self {
        SubscriptionItem {
            id: &item.id,
            object: "subscription_item",
            billing_thresholds: Null,
            created: item.created,
            current_period_end: subscription.current_period_end,
            current_period_start: subscription.current_period_start,
            discounts: NoEntries,
            metadata: &item.metadata,
            plan: Plan::new(&item.price),
            price: Price::new(&item.price),
            quantity: item.quantity,
            subscription: &item.subscription_id,
            tax_rates: NoEntries,
        }
    }
}

/// Stripe's legacy `plan` (`object: "plan"`) for a recurring price, still sent beside
/// `price`; decimal amounts are strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct Plan<'a> {
    id: &'a str,
    object: &'static str,
    active: bool,
    #[schema(required = true)]
    amount: Option<i64>,
    #[schema(required = true)]
    amount_decimal: Option<String>,
    billing_scheme: &'static str,
    created: i64,
    currency: &'a str,
    #[schema(value_type = Option<Interval>, required = true)]
    interval: Option<&'static str>,
    #[schema(required = true)]
    interval_count: Option<i64>,
    livemode: bool,
    metadata: &'a Metadata,
    meter: Null,
    #[schema(required = true)]
    nickname: Option<&'a str>,
    /// The product's id.
    product: &'a str,
    tiers_mode: Null,
    transform_usage: Null,
    trial_period_days: Null,
    usage_type: &'static str,
}

impl<'a> Plan<'a> {
    pub fn new(price: &'a catalog::Price) -> Self {
        let recurring = price.terms.recurring;
        Plan {
            id: &price.id,
            object: "plan",
            active: price.active,
            amount: price.terms.unit_amount,
            amount_decimal: price.terms.unit_amount.map(|a| a.to_string()),
            billing_scheme: "per_unit",
            created: price.created,
            currency: price.terms.currency.as_str(),
            interval: recurring.map(|r| r.interval.as_str()),
            interval_count: recurring.map(|r| r.interval_count),
            livemode: price.livemode,
            metadata: &price.metadata,
            meter: Null,
            nickname: price.nickname.as_deref(),
            product: &price.product_id,
            tiers_mode: Null,
            transform_usage: Null,
            trial_period_days: Null,
            usage_type: "licensed",
        }
    }
}

/// An invoice (`object: "invoice"`): the current fields (`parent`, `payments`) and the older
/// ones beside them (`subscription`, `payment_intent`, `charge`, `paid`). `hosted_invoice_url`
/// is its page once finalized; `invoice_pdf` is null: the page prints to PDF.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invoice<'a> {
    id: &'a str,
    object: &'static str,
    account_country: Null,
    account_name: Null,
    account_tax_ids: Null,
    amount_due: i64,
    amount_overpaid: i64,
    amount_paid: i64,
    amount_remaining: i64,
    amount_shipping: i64,
    application: Null,
    attempt_count: i64,
    attempted: bool,
    auto_advance: bool,
    automatic_tax: InvoiceAutomaticTax,
    automatically_finalizes_at: Null,
    /// `subscription_create`, `subscription_cycle`...
    billing_reason: &'a str,
    /// The charge's id, or the charge.
    #[schema(schema_with = charge_or_null, required = true)]
    charge: Option<&'a str>,
    collection_method: &'static str,
    confirmation_secret: Null,
    created: i64,
    currency: &'a str,
    custom_fields: Null,
    /// The customer's id, or the customer.
    #[schema(schema_with = customer_or_id)]
    customer: &'a str,
    customer_account: Null,
    customer_address: Null,
    #[schema(required = true)]
    customer_email: Option<&'a str>,
    #[schema(required = true)]
    customer_name: Option<&'a str>,
    customer_phone: Null,
    customer_shipping: Null,
    customer_tax_exempt: &'static str,
    customer_tax_ids: NoEntries,
    default_payment_method: Null,
    default_source: Null,
    default_tax_rates: NoEntries,
    #[schema(required = true)]
    description: Option<&'a str>,
    discounts: NoEntries,
    due_date: Null,
    #[schema(required = true)]
    effective_at: Option<i64>,
    #[schema(required = true)]
    ending_balance: Option<i64>,
    footer: Null,
    from_invoice: Null,
    #[schema(required = true)]
    hosted_invoice_url: Option<String>,
    invoice_pdf: Null,
    issuer: Issuer,
    last_finalization_error: Null,
    latest_revision: Null,
    #[schema(schema_with = invoice_line_list)]
    lines: List<'a, InvoiceLineItem<'a>>,
    livemode: bool,
    metadata: &'a Metadata,
    #[schema(required = true)]
    next_payment_attempt: Option<i64>,
    #[schema(required = true)]
    number: Option<&'a str>,
    on_behalf_of: Null,
    paid: bool,
    paid_out_of_band: bool,
    #[schema(required = true)]
    parent: Option<InvoiceParent<'a>>,
    /// The PaymentIntent's id, or the PaymentIntent.
    #[schema(schema_with = payment_intent_or_null, required = true)]
    payment_intent: Option<&'a str>,
    payment_settings: InvoicePaymentSettings,
    #[schema(schema_with = invoice_payment_list)]
    payments: List<'a, InvoicePayment<'a>>,
    period_end: i64,
    period_start: i64,
    post_payment_credit_notes_amount: i64,
    pre_payment_credit_notes_amount: i64,
    receipt_number: Null,
    rendering: Null,
    shipping_cost: Null,
    shipping_details: Null,
    starting_balance: i64,
    statement_descriptor: Null,
    #[schema(value_type = InvoiceStatus)]
    status: &'static str,
    status_transitions: InvoiceStatusTransitions,
    /// The subscription's id, or the subscription.
    #[schema(schema_with = subscription_or_null, required = true)]
    subscription: Option<&'a str>,
    subtotal: i64,
    subtotal_excluding_tax: i64,
    #[schema(required = true)]
    test_clock: Option<&'a str>,
    total: i64,
    total_discount_amounts: NoEntries,
    total_excluding_tax: i64,
    total_pretax_credit_amounts: NoEntries,
    total_taxes: NoEntries,
    #[schema(required = true)]
    webhooks_delivered_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
struct InvoiceAutomaticTax {
    disabled_reason: Null,
    enabled: bool,
    liability: Null,
    provider: Null,
    status: Null,
}

/// What an invoice was made for: its subscription.
#[derive(Debug, Serialize, ToSchema)]
struct InvoiceParent<'a> {
    quote_details: Null,
    subscription_details: InvoiceSubscriptionDetails<'a>,
    /// Always `subscription_details`.
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct InvoiceSubscriptionDetails<'a> {
    metadata: NoFields,
    subscription: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
struct InvoicePaymentSettings {
    default_mandate: Null,
    payment_method_options: Null,
    payment_method_types: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct InvoiceStatusTransitions {
    #[schema(required = true)]
    finalized_at: Option<i64>,
    #[schema(required = true)]
    marked_uncollectible_at: Option<i64>,
    #[schema(required = true)]
    paid_at: Option<i64>,
    #[schema(required = true)]
    voided_at: Option<i64>,
}

impl<'a> Invoice<'a> {
    pub fn new(invoice: &'a DomainInvoice, public_url: &str) -> Self {
        let i = invoice;
        let paid = i.status == InvoiceStatus::Paid;
        let finalized = i.finalized_at.is_some();
        Invoice {
            id: &i.id,
            object: "invoice",
            account_country: Null,
            account_name: Null,
            account_tax_ids: Null,
            amount_due: i.amount_due,
            amount_overpaid: 0,
            amount_paid: i.amount_paid,
            amount_remaining: i.amount_remaining(),
            amount_shipping: 0,
            application: Null,
            attempt_count: i.attempt_count,
            attempted: i.attempt_count > 0 || paid,
            auto_advance: !paid && i.status != InvoiceStatus::Void,
            automatic_tax: InvoiceAutomaticTax {
                disabled_reason: Null,
                enabled: false,
                liability: Null,
                provider: Null,
                status: Null,
            },
            automatically_finalizes_at: Null,
            billing_reason: &i.billing_reason,
            charge: i.charge_id.as_deref(),
            collection_method: "charge_automatically",
            confirmation_secret: Null,
            created: i.created,
            currency: &i.currency,
            custom_fields: Null,
            customer: &i.customer_id,
            customer_account: Null,
            customer_address: Null,
            customer_email: i.customer_email.as_deref(),
            customer_name: i.customer_name.as_deref(),
            customer_phone: Null,
            customer_shipping: Null,
            customer_tax_exempt: "none",
            customer_tax_ids: NoEntries,
            default_payment_method: Null,
            default_source: Null,
            default_tax_rates: NoEntries,
            description: i.description.as_deref(),
            discounts: NoEntries,
            due_date: Null,
            effective_at: i.finalized_at,
            ending_balance: finalized.then_some(0),
            footer: Null,
            from_invoice: Null,
            hosted_invoice_url: i.hosted_invoice_url(public_url),
            invoice_pdf: Null,
            issuer: Issuer { kind: "self" },
            last_finalization_error: Null,
            latest_revision: Null,
            lines: List::whole(
                i.lines.iter().map(|l| InvoiceLineItem::new(l, i)).collect(),
                format!("/v1/invoices/{}/lines", i.id),
            ),
            livemode: i.livemode,
            metadata: &i.metadata,
            next_payment_attempt: i.next_payment_attempt,
            number: i.number.as_deref(),
            on_behalf_of: Null,
            paid,
            paid_out_of_band: false,
            parent: i.subscription_id.as_deref().map(|s| InvoiceParent {
                quote_details: Null,
                subscription_details: InvoiceSubscriptionDetails {
                    metadata: NoFields {},
                    subscription: s,
                },
                kind: "subscription_details",
            }),
            payment_intent: i.payment_intent_id.as_deref(),
            payment_settings: InvoicePaymentSettings {
                default_mandate: Null,
                payment_method_options: Null,
                payment_method_types: Null,
            },
            payments: List::new(
                InvoicePayment::new(i).into_iter().collect(),
                false,
                format!("/v1/invoice_payments?invoice={}", i.id),
            ),
            period_end: i.period_end,
            period_start: i.period_start,
            post_payment_credit_notes_amount: 0,
            pre_payment_credit_notes_amount: 0,
            receipt_number: Null,
            rendering: Null,
            shipping_cost: Null,
            shipping_details: Null,
            starting_balance: 0,
            statement_descriptor: Null,
            status: i.status.as_str(),
            status_transitions: InvoiceStatusTransitions {
                finalized_at: i.finalized_at,
                marked_uncollectible_at: i.marked_uncollectible_at,
                paid_at: i.paid_at,
                voided_at: i.voided_at,
            },
            subscription: i.subscription_id.as_deref(),
            subtotal: i.subtotal,
            subtotal_excluding_tax: i.subtotal,
            test_clock: i.test_clock_id.as_deref(),
            total: i.total,
            total_discount_amounts: NoEntries,
            total_excluding_tax: i.total,
            total_pretax_credit_amounts: NoEntries,
            total_taxes: NoEntries,
            webhooks_delivered_at: i.finalized_at,
        }
    }
}

/// An `invoice_payment`: the invoice's PaymentIntent, once it has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePayment<'a> {
    id: String,
    object: &'static str,
    #[schema(required = true)]
    amount_paid: Option<i64>,
    amount_requested: i64,
    created: i64,
    currency: &'a str,
    invoice: &'a str,
    is_default: bool,
    livemode: bool,
    payment: InvoicePaymentPayment<'a>,
    /// `open` or `paid`.
    status: &'static str,
    status_transitions: InvoicePaymentTransitions,
}

#[derive(Debug, Serialize, ToSchema)]
struct InvoicePaymentPayment<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    payment_intent: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
struct InvoicePaymentTransitions {
    canceled_at: Null,
    #[schema(required = true)]
    paid_at: Option<i64>,
}

impl<'a> InvoicePayment<'a> {
    pub fn new(invoice: &'a DomainInvoice) -> Option<Self> {
        let intent = invoice.payment_intent_id.as_deref()?;
        let paid = invoice.status == InvoiceStatus::Paid;
        Some(InvoicePayment {
            id: format!("inpay_{}", invoice.id.trim_start_matches("in_")),
            object: "invoice_payment",
            amount_paid: paid.then_some(invoice.amount_paid),
            amount_requested: invoice.amount_due,
            created: invoice.finalized_at.unwrap_or(invoice.created),
            currency: &invoice.currency,
            invoice: &invoice.id,
            is_default: true,
            livemode: invoice.livemode,
            payment: InvoicePaymentPayment {
                kind: "payment_intent",
                payment_intent: intent,
            },
            status: if paid { "paid" } else { "open" },
            status_transitions: InvoicePaymentTransitions {
                canceled_at: Null,
                paid_at: invoice.paid_at,
            },
        })
    }
}

/// An invoice's line item (`object: "line_item"`).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineItem<'a> {
    id: &'a str,
    object: &'static str,
    /// `unit_amount × quantity`, in minor units.
    amount: i64,
    currency: &'a str,
    /// `3 × Pro`.
    description: String,
    discount_amounts: NoEntries,
    discountable: bool,
    discounts: NoEntries,
    invoice: &'a str,
    livemode: bool,
    metadata: NoFields,
    parent: LineParent<'a>,
    period: LinePeriod,
    pretax_credit_amounts: NoEntries,
    pricing: LinePricing<'a>,
    quantity: i64,
    #[schema(required = true)]
    subscription: Option<&'a str>,
    taxes: NoEntries,
    price: Price<'a>,
}

/// What a line was made for: a subscription item, or (a one-time price bought with the first
/// invoice) an invoice item.
#[derive(Debug, Serialize, ToSchema)]
struct LineParent<'a> {
    #[schema(required = true)]
    invoice_item_details: Option<LineInvoiceItemDetails<'a>>,
    #[schema(required = true)]
    subscription_item_details: Option<LineSubscriptionItemDetails<'a>>,
    /// `subscription_item_details` or `invoice_item_details`.
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct LineInvoiceItemDetails<'a> {
    invoice_item: Null,
    proration: bool,
    proration_details: ProrationDetails,
    #[schema(required = true)]
    subscription: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
struct LineSubscriptionItemDetails<'a> {
    invoice_item: Null,
    proration: bool,
    proration_details: ProrationDetails,
    subscription: &'a str,
    subscription_item: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
struct ProrationDetails {
    credited_items: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct LinePeriod {
    end: i64,
    start: i64,
}

#[derive(Debug, Serialize, ToSchema)]
struct LinePricing<'a> {
    price_details: LinePriceDetails<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
    unit_amount_decimal: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct LinePriceDetails<'a> {
    price: &'a str,
    product: &'a str,
}

impl<'a> InvoiceLineItem<'a> {
    pub fn new(line: &'a InvoiceLine, invoice: &'a DomainInvoice) -> Self {
        let parent = match (&line.subscription_item_id, &invoice.subscription_id) {
            (Some(item), Some(subscription)) => LineParent {
                invoice_item_details: None,
                subscription_item_details: Some(LineSubscriptionItemDetails {
                    invoice_item: Null,
                    proration: false,
                    proration_details: ProrationDetails {
                        credited_items: Null,
                    },
                    subscription,
                    subscription_item: item,
                }),
                kind: "subscription_item_details",
            },
            _ => LineParent {
                invoice_item_details: Some(LineInvoiceItemDetails {
                    invoice_item: Null,
                    proration: false,
                    proration_details: ProrationDetails {
                        credited_items: Null,
                    },
                    subscription: invoice.subscription_id.as_deref(),
                }),
                subscription_item_details: None,
                kind: "invoice_item_details",
            },
        };
        InvoiceLineItem {
            id: &line.id,
            object: "line_item",
            amount: line.amount,
            currency: &invoice.currency,
            description: format!("{} × {}", line.quantity, line.description),
            discount_amounts: NoEntries,
            discountable: true,
            discounts: NoEntries,
            invoice: &invoice.id,
            livemode: invoice.livemode,
            metadata: NoFields {},
            parent,
            period: LinePeriod {
                end: line.period_end,
                start: line.period_start,
            },
            pretax_credit_amounts: NoEntries,
            pricing: LinePricing {
                price_details: LinePriceDetails {
                    price: &line.price.id,
                    product: &line.price.product_id,
                },
                kind: "price_details",
                unit_amount_decimal: line.unit_amount.to_string(),
            },
            quantity: line.quantity,
            subscription: invoice.subscription_id.as_deref(),
            taxes: NoEntries,
            price: Price::new(&line.price),
        }
    }
}

/// A test clock (`object: "test_helpers.test_clock"`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TestClock<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    /// When kassa deletes it (real time, unix seconds).
    deletes_after: i64,
    /// The clock's time, unix seconds.
    frozen_time: i64,
    livemode: bool,
    #[schema(required = true)]
    name: Option<&'a str>,
    #[schema(value_type = test_clocks::TestClockStatus)]
    status: &'static str,
    status_details: TestClockStatusDetails,
}

/// While advancing, `{advancing: {target_frozen_time}}`; else `{}`.
#[derive(Debug, Serialize, ToSchema)]
struct TestClockStatusDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    advancing: Option<TestClockAdvancing>,
}

#[derive(Debug, Serialize, ToSchema)]
struct TestClockAdvancing {
    target_frozen_time: i64,
}

impl<'a> TestClock<'a> {
    pub fn new(clock: &'a test_clocks::TestClock) -> Self {
        TestClock {
            id: &clock.id,
            object: "test_helpers.test_clock",
            created: clock.created,
            deletes_after: clock.deletes_after,
            frozen_time: clock.frozen_time,
            livemode: clock.livemode,
            name: clock.name.as_deref(),
            status: clock.status.as_str(),
            status_details: TestClockStatusDetails {
                advancing: clock
                    .target_frozen_time
                    .map(|target_frozen_time| TestClockAdvancing { target_frozen_time }),
            },
        }
    }
}
