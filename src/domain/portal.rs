//! The customer portal (Stripe's `billing_portal.session` and `billing_portal.configuration`;
//! decisions §11, billing.md §2.11). A merchant creates a session for one of its customers
//! (`POST /v1/billing_portal/sessions`, or Loops V3's `/api/v3/customer-portal/sessions`) and
//! sends the customer to its `url`, where they see their subscriptions and invoices, cancel at
//! the period's end and resume, replace their card, and edit their name and email.
//!
//! The session id in the URL is the capability (as a checkout session's is): it opens that one
//! customer's portal, in its account and mode, for [`LIFETIME_SECONDS`] from creation, counted
//! in the customer's time (its test clock's, if it is on one). Every change goes through the
//! domain operation the API uses for it, so it writes the same state and events.

use std::collections::HashMap;

use serde_json::Value;

use super::accounts::{self, Account, Caller};
use super::billing::changes::{self, SubscriptionChange};
use super::billing::{self, Invoice, InvoiceStatus, Subscription, SubscriptionStatus};
use super::customers::{self, Customer, CustomerInput};
use super::events::new_event;
use super::ids;
use super::list::PageRequest;
use super::payment_methods::{self, PaymentMethod};
use super::processor::{CardDetails, Decline};
use super::{DomainError, catalog, test_clocks, validate};
use crate::objects;
use crate::store::billing::{InvoiceFilter, SubscriptionFilter};
use crate::store::{self, Db};

/// How long a portal session's URL works, in seconds from its creation (Stripe: "short-lived";
/// kassa: one hour, as a checkout session).
pub const LIFETIME_SECONDS: i64 = 3600;
/// Id prefixes (Stripe's).
pub const SESSION_PREFIX: &str = "bps_";
pub const CONFIGURATION_PREFIX: &str = "bpc_";
/// The most subscriptions and invoices the portal lists, newest first.
const SHOWN: u32 = 100;
/// Locales whose pages are in English, the only language kassa's pages speak (Stripe's
/// `locale` values, with `auto`).
const ENGLISH: [&str; 9] = [
    "auto", "en", "en-AU", "en-CA", "en-GB", "en-IE", "en-IN", "en-NZ", "en-SG",
];

/// A portal configuration: what the portal offers. kassa has one per account and mode, the
/// default, made the first time a session is created; it offers everything the page does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalConfiguration {
    pub id: String,
    pub livemode: bool,
    pub created: i64,
}

impl PortalConfiguration {
    /// Stripe's `billing_portal.configuration`: the features kassa's portal page has.
    pub fn object(&self) -> Value {
        objects::to_value(&objects::PortalConfiguration::new(self))
    }
}

/// A portal session: one customer's portal, open until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub id: String,
    pub livemode: bool,
    pub customer_id: String,
    pub configuration_id: String,
    /// Where the page's "Return to …" link goes.
    pub return_url: Option<String>,
    /// As asked for (an English one); `None` for `auto`.
    pub locale: Option<String>,
    /// Unix seconds, in the customer's time (its test clock's, if it is on one).
    pub created: i64,
    /// `created` + [`LIFETIME_SECONDS`], in the same time.
    pub expires_at: i64,
}

impl PortalSession {
    /// The page's address under kassa's public URL.
    pub fn url(&self, public_url: &str) -> String {
        format!("{}/portal/{}", public_url.trim_end_matches('/'), self.id)
    }

    /// Stripe's `billing_portal.session`. kassa runs no flows (`flow` is null), offers no
    /// sign-in after expiry (`after_expiration`) and has no connected accounts
    /// (`on_behalf_of`, `customer_account`).
    pub fn object(&self, public_url: &str) -> Value {
        objects::to_value(&objects::PortalSession::new(self, public_url))
    }
}

/// Whose portal: a customer id (`customer`), or a Loops `externalCustomerId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    Id(String),
    /// The merchant's own id of the customer, as its checkout sessions carried it.
    External(String),
}

/// What a portal session is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalInput {
    pub customer: CustomerRef,
    /// Required: kassa's configuration has no default return URL. `return_param` names it in
    /// errors (`return_url`, or V3's `returnUrl`).
    pub return_url: Option<String>,
    pub return_param: &'static str,
    /// A configuration id: the account's default is the only one.
    pub configuration: Option<String>,
    pub locale: Option<String>,
}

/// The caller's default configuration, made (with `billing_portal.configuration.created`) if
/// it has none yet.
pub async fn default_configuration(
    db: &Db,
    caller: &Caller,
    now: i64,
) -> Result<PortalConfiguration, DomainError> {
    if let Some(existing) = store::portal::default_configuration(db, caller).await? {
        return Ok(existing);
    }
    let configuration = PortalConfiguration {
        id: ids::new_id(CONFIGURATION_PREFIX, ids::now_ms()),
        livemode: caller.mode.is_live(),
        created: now,
    };
    let event = new_event(
        &caller.account_id,
        configuration.livemode,
        "billing_portal.configuration.created",
        &configuration.id,
        configuration.object(),
        now,
    );
    if store::portal::insert_default_configuration(db, caller, &configuration, &event).await? {
        return Ok(configuration);
    }
    // Made meanwhile by another request: that one.
    store::portal::default_configuration(db, caller)
        .await?
        .ok_or_else(|| DomainError::not_found("billing_portal.configuration", "default"))
}

/// Creates a portal session for a customer of the caller's (an unknown, deleted or foreign one
/// is a 400 `resource_missing` naming the parameter), with `billing_portal.session.created`.
pub async fn create(
    db: &Db,
    caller: &Caller,
    input: PortalInput,
    now: i64,
    public_url: &str,
) -> Result<PortalSession, DomainError> {
    let customer = customer_of(db, caller, &input.customer).await?;
    let return_url = match input.return_url.filter(|u| !u.is_empty()) {
        Some(url) => validate::url(&url, input.return_param, false)?,
        None => {
            return Err(DomainError::invalid_with(
                "parameter_missing",
                input.return_param,
                "is required: the portal configuration has no default return URL",
            ));
        }
    };
    let locale = match input.locale.filter(|l| !l.is_empty()) {
        Some(locale) if !ENGLISH.contains(&locale.as_str()) => {
            return Err(DomainError::Unsupported {
                param: "locale".into(),
                value: locale,
            });
        }
        locale => locale.filter(|l| l != "auto"),
    };
    // Checked before the default is made: a refused request makes nothing.
    if let Some(asked) = input.configuration.filter(|c| !c.is_empty()) {
        let default = store::portal::default_configuration(db, caller).await?;
        if default.is_none_or(|c| c.id != asked) {
            return Err(DomainError::missing_reference(
                "configuration",
                "billing_portal.configuration",
                asked,
            ));
        }
    }
    let configuration = default_configuration(db, caller, now).await?;
    let at = test_clocks::time_of(db, customer.test_clock_id.as_deref(), now).await?;
    let session = PortalSession {
        id: ids::new_id(SESSION_PREFIX, ids::now_ms()),
        livemode: caller.mode.is_live(),
        customer_id: customer.id,
        configuration_id: configuration.id,
        return_url: Some(return_url),
        locale,
        created: at,
        expires_at: at + LIFETIME_SECONDS,
    };
    // The event carries the URL, as on Stripe: it goes only to the merchant's endpoints.
    let event = new_event(
        &caller.account_id,
        session.livemode,
        "billing_portal.session.created",
        &session.id,
        session.object(public_url),
        now,
    );
    store::portal::insert_session(db, caller, &session, &event).await?;
    Ok(session)
}

/// The customer a session is for: a live customer of the caller's, by id or by its Loops
/// `externalCustomerId` (decisions §11: the customer the first completed session carrying it
/// created; for sessions completed before customers kept the id, the customer of the latest
/// completed one that carried it).
async fn customer_of(
    db: &Db,
    caller: &Caller,
    customer: &CustomerRef,
) -> Result<Customer, DomainError> {
    match customer {
        CustomerRef::Id(id) => customers::live_customer(db, caller, id, "customer").await,
        CustomerRef::External(external) => {
            const PARAM: &str = "externalCustomerId";
            if let Some(customer) = customers::by_external_id(db, caller, external).await? {
                return Ok(customer);
            }
            let id = store::portal::customer_of_external_id(db, caller, external)
                .await?
                .ok_or_else(|| DomainError::missing_reference(PARAM, "customer", external))?;
            customers::live_customer(db, caller, &id, PARAM)
                .await
                .map_err(|_| DomainError::missing_reference(PARAM, "customer", external))
        }
    }
}

// ----- The page ---------------------------------------------------------------------------------

/// An opened portal: the session, its account and customer, and the customer's time.
#[derive(Debug, Clone)]
pub struct Portal {
    pub account: Account,
    pub session: PortalSession,
    pub customer: Customer,
    /// Unix seconds: the customer's test clock's time, if it is on one, else real time.
    pub now: i64,
}

impl Portal {
    /// The account in the session's mode: every read and change of the page is scoped by it.
    pub fn caller(&self) -> Caller {
        Caller::without_key(&self.account.id, self.session.livemode)
    }

    /// Whether the URL no longer works: an hour has passed in the customer's time.
    pub fn expired(&self) -> bool {
        self.now >= self.session.expires_at
    }

    /// A change is refused once the session has expired.
    fn check_open(&self) -> Result<(), DomainError> {
        match self.expired() {
            false => Ok(()),
            true => Err(DomainError::Conflict {
                code: "portal_session_expired",
                message: format!("The portal session {} has expired.", self.session.id),
            }),
        }
    }
}

/// Opens the portal of session `id` at real time `now`. An unknown id, or a session whose
/// customer has since been deleted, is `NotFound`.
pub async fn open(db: &Db, id: &str, now: i64) -> Result<Portal, DomainError> {
    let missing = || DomainError::not_found("billing_portal.session", id);
    let (account_id, session) = store::portal::find_session(db, id)
        .await?
        .ok_or_else(missing)?;
    let account = accounts::get_account(db, &account_id).await?;
    let caller = Caller::without_key(&account.id, session.livemode);
    let customer = customers::live_customer(db, &caller, &session.customer_id, "id")
        .await
        .map_err(|_| missing())?;
    let now = test_clocks::time_of(db, customer.test_clock_id.as_deref(), now).await?;
    Ok(Portal {
        account,
        session,
        customer,
        now,
    })
}

/// What the page shows of the customer's billing.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Every subscription of the customer's, newest first.
    pub subscriptions: Vec<Subscription>,
    /// Its finalized invoices (not drafts), newest first.
    pub invoices: Vec<Invoice>,
    /// The card its subscriptions are charged to: the customer's default, else the newest
    /// running subscription's.
    pub card: Option<PaymentMethod>,
    /// Product names by product id, for the subscriptions' items.
    pub products: HashMap<String, String>,
}

pub async fn overview(db: &Db, portal: &Portal) -> Result<Overview, DomainError> {
    let caller = portal.caller();
    let customer = Some(portal.customer.id.clone());
    let page = PageRequest::new(Some(i64::from(SHOWN)), SHOWN, None, None, None)?;
    let filter = SubscriptionFilter {
        customer: customer.clone(),
        statuses: SubscriptionStatus::ALL.to_vec(),
        ..SubscriptionFilter::default()
    };
    let subscriptions = billing::list_subscriptions(db, &caller, &filter, &page)
        .await?
        .items;
    let filter = InvoiceFilter {
        customer,
        ..InvoiceFilter::default()
    };
    let invoices = billing::list_invoices(db, &caller, &filter, &page)
        .await?
        .items
        .into_iter()
        .filter(|i| i.status != InvoiceStatus::Draft)
        .collect();
    let card_id = portal.customer.default_payment_method.clone().or_else(|| {
        subscriptions
            .iter()
            .filter(|s| s.ended_at.is_none())
            .find_map(|s| s.default_payment_method.clone())
    });
    let card = match card_id {
        Some(id) => store::payment_methods::get(db, &caller, &id).await?,
        None => None,
    };
    let mut products = HashMap::new();
    for item in subscriptions.iter().flat_map(|s| &s.items) {
        let id = &item.price.product_id;
        if !products.contains_key(id) {
            let name = catalog::get_product(db, &caller, id).await?.name;
            products.insert(id.clone(), name);
        }
    }
    Ok(Overview {
        subscriptions,
        invoices,
        card,
        products,
    })
}

/// A subscription of the portal's customer; any other (another customer's, another account's
/// or mode's) is `NotFound`, whatever the form said.
async fn own_subscription(db: &Db, portal: &Portal, id: &str) -> Result<Subscription, DomainError> {
    let subscription = billing::get_subscription(db, &portal.caller(), id).await?;
    if subscription.customer_id != portal.customer.id {
        return Err(DomainError::not_found("subscription", id));
    }
    Ok(subscription)
}

/// Cancels one of the customer's subscriptions at the end of its period (`cancel = true`), or
/// resumes it (`false`), as `POST /v1/subscriptions/{id}` with `cancel_at_period_end` does
/// (`customer.subscription.updated` with `previous_attributes`).
pub async fn set_cancel_at_period_end(
    db: &Db,
    portal: &Portal,
    subscription_id: &str,
    cancel: bool,
    now: i64,
) -> Result<Subscription, DomainError> {
    portal.check_open()?;
    let subscription = own_subscription(db, portal, subscription_id).await?;
    let change = SubscriptionChange {
        cancel_at_period_end: Some(cancel),
        ..SubscriptionChange::default()
    };
    changes::update_subscription(db, &portal.caller(), &subscription.id, change, now).await
}

/// Saves the customer's name and email as they typed them (an empty name removes it; the email
/// is required), through the customer update the API uses (`customer.updated`). Nothing that
/// did not change is sent, and nothing is written when nothing changed.
pub async fn update_details(
    db: &Db,
    portal: &Portal,
    name: &str,
    email: &str,
    now: i64,
) -> Result<Customer, DomainError> {
    portal.check_open()?;
    let (name, email) = (name.trim(), email.trim());
    if email.is_empty() {
        return Err(DomainError::invalid("email", "is required"));
    }
    let customer = &portal.customer;
    let name = Some(name.to_string()).filter(|n| !n.is_empty());
    let input = CustomerInput {
        name: (name != customer.name).then_some(name),
        email: (Some(email) != customer.email.as_deref()).then(|| Some(email.to_string())),
        ..CustomerInput::default()
    };
    if input.name.is_none() && input.email.is_none() {
        return Ok(customer.clone());
    }
    customers::update_customer(db, &portal.caller(), &customer.id, input, now).await
}

/// Replaces the customer's card (test mode): the typed card is saved and attached
/// (`payment_method.attached`), then made the customer's default (`customer.updated`) and every
/// running subscription's (`customer.subscription.updated`), which renewals and retries charge.
/// `Ok(Err(..))` is a card refused, with the field at fault; nothing changed then.
pub async fn replace_card(
    db: &Db,
    portal: &Portal,
    number: &str,
    expiry: &str,
    cvc: &str,
    now: i64,
) -> Result<Result<PaymentMethod, Decline>, DomainError> {
    portal.check_open()?;
    let card = match CardDetails::parse(number, expiry, cvc) {
        Ok(card) => card,
        Err(rejected) => return Ok(Err(rejected)),
    };
    let caller = portal.caller();
    let customer = &portal.customer;
    let method =
        match payment_methods::save_card(db, &caller, customer, &card, portal.now, now).await? {
            Ok(method) => method,
            Err(declined) => return Ok(Err(declined)),
        };
    let input = CustomerInput {
        default_payment_method: Some(Some(method.id.clone())),
        ..CustomerInput::default()
    };
    customers::update_customer(db, &caller, &customer.id, input, now).await?;
    for id in store::billing::running_subscriptions_of(db, &customer.id).await? {
        let change = SubscriptionChange {
            default_payment_method: Some(method.id.clone()),
            ..SubscriptionChange::default()
        };
        changes::update_subscription(db, &caller, &id, change, now).await?;
    }
    Ok(Ok(method))
}
