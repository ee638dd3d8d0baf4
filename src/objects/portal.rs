//! The customer portal: its sessions and its configuration.

use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Expandable, Fetched, NoEntries, NoFields, Null, customer_or_id, portal_configuration_or_id,
};
use crate::domain::portal;

/// A portal configuration (`object: "billing_portal.configuration"`): the features kassa's
/// portal page has. There is one per account and mode, the default.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalConfiguration<'a> {
    id: &'a str,
    object: &'static str,
    active: bool,
    application: Null,
    business_profile: PortalBusinessProfile,
    created: i64,
    default_return_url: Null,
    features: PortalFeatures,
    is_default: bool,
    livemode: bool,
    login_page: PortalLoginPage,
    metadata: NoFields,
    name: Null,
    updated: i64,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalBusinessProfile {
    headline: Null,
    privacy_policy_url: Null,
    terms_of_service_url: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalFeatures {
    customer_update: PortalCustomerUpdate,
    invoice_history: PortalEnabled,
    payment_method_update: PortalPaymentMethodUpdate,
    subscription_cancel: PortalSubscriptionCancel,
    subscription_update: PortalSubscriptionUpdate,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalCustomerUpdate {
    allowed_updates: [&'static str; 2],
    enabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalEnabled {
    enabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalPaymentMethodUpdate {
    enabled: bool,
    payment_method_configuration: Null,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalSubscriptionCancel {
    cancellation_reason: PortalCancellationReason,
    enabled: bool,
    mode: &'static str,
    proration_behavior: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalCancellationReason {
    enabled: bool,
    options: NoEntries,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalSubscriptionUpdate {
    billing_cycle_anchor: Null,
    default_allowed_updates: NoEntries,
    enabled: bool,
    products: NoEntries,
    proration_behavior: &'static str,
    schedule_at_period_end: PortalScheduleAtPeriodEnd,
    trial_update_behavior: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalScheduleAtPeriodEnd {
    conditions: NoEntries,
}

#[derive(Debug, Serialize, ToSchema)]
struct PortalLoginPage {
    enabled: bool,
    url: Null,
}

impl<'a> PortalConfiguration<'a> {
    pub fn new(configuration: &'a portal::PortalConfiguration) -> Self {
        PortalConfiguration {
            id: &configuration.id,
            object: "billing_portal.configuration",
            active: true,
            application: Null,
            business_profile: PortalBusinessProfile {
                headline: Null,
                privacy_policy_url: Null,
                terms_of_service_url: Null,
            },
            created: configuration.created,
            default_return_url: Null,
            features: PortalFeatures {
                customer_update: PortalCustomerUpdate {
                    allowed_updates: ["email", "name"],
                    enabled: true,
                },
                invoice_history: PortalEnabled { enabled: true },
                payment_method_update: PortalPaymentMethodUpdate {
                    enabled: true,
                    payment_method_configuration: Null,
                },
                subscription_cancel: PortalSubscriptionCancel {
                    cancellation_reason: PortalCancellationReason {
                        enabled: false,
                        options: NoEntries,
                    },
                    enabled: true,
                    mode: "at_period_end",
                    proration_behavior: "none",
                },
                subscription_update: PortalSubscriptionUpdate {
                    billing_cycle_anchor: Null,
                    default_allowed_updates: NoEntries,
                    enabled: false,
                    products: NoEntries,
                    proration_behavior: "none",
                    schedule_at_period_end: PortalScheduleAtPeriodEnd {
                        conditions: NoEntries,
                    },
                    trial_update_behavior: "end_trial",
                },
            },
            is_default: true,
            livemode: configuration.livemode,
            login_page: PortalLoginPage {
                enabled: false,
                url: Null,
            },
            metadata: NoFields {},
            name: Null,
            updated: configuration.created,
        }
    }
}

/// A portal session (`object: "billing_portal.session"`): one customer's portal, open at `url`
/// until an hour after it was made. kassa runs no flows (`flow`), offers no sign-in after
/// expiry (`after_expiration`) and has no connected accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalSession<'a> {
    id: &'a str,
    object: &'static str,
    after_expiration: Null,
    /// The configuration's id, or the configuration.
    #[schema(schema_with = portal_configuration_or_id)]
    pub configuration: Expandable<'a, Fetched>,
    created: i64,
    /// The customer's id, or the customer.
    #[schema(schema_with = customer_or_id)]
    pub customer: Expandable<'a, Fetched>,
    customer_account: Null,
    flow: Null,
    livemode: bool,
    #[schema(required = true)]
    locale: Option<&'a str>,
    on_behalf_of: Null,
    #[schema(required = true)]
    return_url: Option<&'a str>,
    /// The portal page.
    url: String,
}

impl<'a> PortalSession<'a> {
    pub fn new(session: &'a portal::PortalSession, public_url: &str) -> Self {
        PortalSession {
            id: &session.id,
            object: "billing_portal.session",
            after_expiration: Null,
            configuration: Expandable::Id(&session.configuration_id),
            created: session.created,
            customer: Expandable::Id(&session.customer_id),
            customer_account: Null,
            flow: Null,
            livemode: session.livemode,
            locale: session.locale.as_deref(),
            on_behalf_of: Null,
            return_url: session.return_url.as_deref(),
            url: session.url(public_url),
        }
    }
}

/// The Loops V3 portal session: the `billing_portal.session`, with the names V3 clients read.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPortalSession<'a> {
    #[serde(flatten)]
    pub session: PortalSession<'a>,
    /// As `return_url`.
    #[serde(rename = "returnUrl")]
    #[schema(required = true)]
    return_url: Option<&'a str>,
    /// The `externalCustomerId` the session was asked for, if it was.
    #[serde(rename = "externalCustomerId")]
    #[schema(required = true)]
    external_customer_id: Option<&'a str>,
    /// When `url` stops working, unix seconds.
    expires_at: i64,
}

impl<'a> CustomerPortalSession<'a> {
    pub fn new(
        session: PortalSession<'a>,
        portal_session: &'a portal::PortalSession,
        external_customer_id: Option<&'a str>,
    ) -> Self {
        CustomerPortalSession {
            session,
            return_url: portal_session.return_url.as_deref(),
            external_customer_id,
            expires_at: portal_session.expires_at,
        }
    }
}
