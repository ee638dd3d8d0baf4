//! Customers and their PaymentMethods.

use serde::Serialize;
use utoipa::ToSchema;

use super::{NoEntries, Null, customer_or_null};
use crate::domain::customers::{self, Address};
use crate::domain::ids::prefix;
use crate::domain::metadata::Metadata;
use crate::domain::payment_methods;

/// A customer (`object: "customer"`). A deleted one answers [`super::Deleted`].
#[derive(Debug, Serialize, ToSchema)]
pub struct Customer<'a> {
    id: &'a str,
    object: &'static str,
    #[schema(required = true)]
    address: Option<&'a Address>,
    /// Always 0: kassa keeps no customer balance.
    balance: i64,
    created: i64,
    currency: Null,
    default_source: Null,
    delinquent: bool,
    #[schema(required = true)]
    description: Option<&'a str>,
    discount: Null,
    #[schema(required = true)]
    email: Option<&'a str>,
    /// The first eight characters of the id after `cus_`, in capitals: invoice numbers start
    /// with it.
    invoice_prefix: String,
    invoice_settings: CustomerInvoiceSettings<'a>,
    livemode: bool,
    metadata: &'a Metadata,
    #[schema(required = true)]
    name: Option<&'a str>,
    next_invoice_sequence: i64,
    #[schema(required = true)]
    phone: Option<&'a str>,
    preferred_locales: NoEntries,
    shipping: Null,
    #[schema(value_type = TaxExempt)]
    tax_exempt: &'static str,
    /// The test clock (`clock_…`) it lives on.
    #[schema(required = true)]
    test_clock: Option<&'a str>,
}

/// A customer's `invoice_settings`.
#[derive(Debug, Serialize, ToSchema)]
struct CustomerInvoiceSettings<'a> {
    custom_fields: Null,
    /// The PaymentMethod (`pm_…`) renewals charge.
    #[schema(required = true)]
    default_payment_method: Option<&'a str>,
    footer: Null,
    rendering_options: Null,
}

/// A customer's `tax_exempt`: kassa computes no tax, so always `none`.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Named for the document only: the field writes the domain's string.
pub enum TaxExempt {
    None,
}

impl<'a> Customer<'a> {
    pub fn new(customer: &'a customers::Customer) -> Self {
        Customer {
            id: &customer.id,
            object: "customer",
            address: customer.address.as_ref(),
            balance: 0,
            created: customer.created,
            currency: Null,
            default_source: Null,
            delinquent: false,
            description: customer.description.as_deref(),
            discount: Null,
            email: customer.email.as_deref(),
            invoice_prefix: customer.id.trim_start_matches(prefix::CUSTOMER)[..8]
                .to_ascii_uppercase(),
            invoice_settings: CustomerInvoiceSettings {
                custom_fields: Null,
                default_payment_method: customer.default_payment_method.as_deref(),
                footer: Null,
                rendering_options: Null,
            },
            livemode: customer.livemode,
            metadata: &customer.metadata,
            name: customer.name.as_deref(),
            next_invoice_sequence: 1,
            phone: customer.phone.as_deref(),
            preferred_locales: NoEntries,
            shipping: Null,
            tax_exempt: "none",
            test_clock: customer.test_clock_id.as_deref(),
        }
    }
}

/// A PaymentMethod (`object: "payment_method"`) of type `card`. What kassa does not know of a
/// card (its country, funding, fingerprint, checks) is null or `unknown`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethod<'a> {
    id: &'a str,
    object: &'static str,
    #[schema(value_type = AllowRedisplay)]
    allow_redisplay: &'static str,
    billing_details: PaymentMethodBillingDetails<'a>,
    card: PaymentMethodCard<'a>,
    created: i64,
    /// The customer it is attached to, or the customer.
    #[schema(schema_with = customer_or_null, required = true)]
    customer: Option<&'a str>,
    customer_account: Null,
    livemode: bool,
    metadata: &'a Metadata,
    /// Always `card`.
    #[serde(rename = "type")]
    kind: &'static str,
}

/// Stripe's `allow_redisplay`.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Named for the document only: the field writes the domain's string.
pub enum AllowRedisplay {
    Always,
    Limited,
    Unspecified,
}

/// A PaymentMethod's `billing_details`: the payer's email and name as the form gave them.
#[derive(Debug, Serialize, ToSchema)]
struct PaymentMethodBillingDetails<'a> {
    address: NullAddress,
    #[schema(required = true)]
    email: Option<&'a str>,
    #[schema(required = true)]
    name: Option<&'a str>,
    phone: Null,
    tax_id: Null,
}

/// An address kassa does not know: every part null.
#[derive(Debug, Serialize, ToSchema)]
struct NullAddress {
    city: Null,
    country: Null,
    line1: Null,
    line2: Null,
    postal_code: Null,
    state: Null,
}

/// A PaymentMethod's `card`.
#[derive(Debug, Serialize, ToSchema)]
struct PaymentMethodCard<'a> {
    /// `visa`, `mastercard`, `amex`..., or `unknown`.
    brand: &'a str,
    checks: CardChecks,
    country: Null,
    display_brand: &'static str,
    exp_month: i64,
    exp_year: i64,
    fingerprint: Null,
    funding: &'static str,
    generated_from: Null,
    last4: &'a str,
    networks: CardNetworks<'a>,
    regulated_status: &'static str,
    three_d_secure_usage: ThreeDSecureUsage,
    wallet: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct CardChecks {
    address_line1_check: Null,
    address_postal_code_check: Null,
    cvc_check: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct CardNetworks<'a> {
    /// The card's brand, unless it is `unknown`.
    available: Vec<&'a str>,
    preferred: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct ThreeDSecureUsage {
    supported: bool,
}

impl<'a> PaymentMethod<'a> {
    pub fn new(method: &'a payment_methods::PaymentMethod) -> Self {
        let card = &method.card;
        PaymentMethod {
            id: &method.id,
            object: "payment_method",
            allow_redisplay: method.allow_redisplay.as_str(),
            billing_details: PaymentMethodBillingDetails {
                address: NullAddress {
                    city: Null,
                    country: Null,
                    line1: Null,
                    line2: Null,
                    postal_code: Null,
                    state: Null,
                },
                email: method.billing_email.as_deref(),
                name: method.billing_name.as_deref(),
                phone: Null,
                tax_id: Null,
            },
            card: PaymentMethodCard {
                brand: &card.brand,
                checks: CardChecks {
                    address_line1_check: Null,
                    address_postal_code_check: Null,
                    cvc_check: Null,
                },
                country: Null,
                display_brand: payment_methods::display_brand(&card.brand),
                exp_month: card.exp_month,
                exp_year: card.exp_year,
                fingerprint: Null,
                funding: "unknown",
                generated_from: Null,
                last4: &card.last4,
                networks: CardNetworks {
                    available: match card.brand.as_str() {
                        "unknown" => Vec::new(),
                        brand => vec![brand],
                    },
                    preferred: Null,
                },
                regulated_status: "unregulated",
                three_d_secure_usage: ThreeDSecureUsage { supported: true },
                wallet: Null,
            },
            created: method.created,
            customer: method.customer_id.as_deref(),
            customer_account: Null,
            livemode: method.livemode,
            metadata: &method.metadata,
            kind: "card",
        }
    }
}
