//! Customers: the people a merchant sells to, as Stripe models them. A session can name one
//! (`customer`), and paying can create one (`customer_creation`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::accounts::Caller;
use super::checkout::validate_email;
use super::events::{Event, new_event};
use super::ids::{self, prefix};
use super::list::{CreatedRange, Page, PageRequest};
use super::metadata::{Metadata, MetadataUpdate};
use super::{Companion, DomainError, companion_statements, validate};
use crate::objects;
use crate::store::{self, Db};

/// A postal address, every part optional (Stripe's `address` hash).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl Address {
    fn validate(mut self, param: &str) -> Result<Address, DomainError> {
        for (part, value) in [
            ("line1", &mut self.line1),
            ("line2", &mut self.line2),
            ("city", &mut self.city),
            ("state", &mut self.state),
            ("postal_code", &mut self.postal_code),
        ] {
            *value = validate::optional_text(value.take(), &format!("{param}[{part}]"), 200)?;
        }
        if let Some(country) = &self.country
            && !(country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return Err(DomainError::invalid(
                format!("{param}[country]"),
                format!("'{country}' is not a two-letter country code (ISO 3166-1 alpha-2)"),
            ));
        }
        self.country = self.country.map(|c| c.to_ascii_uppercase());
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: String,
    pub livemode: bool,
    pub email: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Address>,
    pub metadata: Metadata,
    pub deleted: bool,
    /// The test clock it lives on (`clock_…`), whose time its objects follow.
    pub test_clock_id: Option<String>,
    /// Stripe's `invoice_settings.default_payment_method`: a `pm_…` attached to it.
    pub default_payment_method: Option<String>,
    /// The Loops `externalCustomerId` the merchant knows it by: the first session carrying it
    /// created it (decisions §11). Not part of Stripe's object.
    pub external_customer_id: Option<String>,
    pub created: i64,
    pub updated: i64,
}

impl Customer {
    /// Stripe's Customer object; a deleted customer shows only that it was deleted.
    pub fn object(&self) -> Value {
        if self.deleted {
            return objects::to_value(&objects::Deleted::new(&self.id, "customer"));
        }
        objects::to_value(&objects::Customer::new(self))
    }
}

/// The fields a create or update sets; `Some(None)` clears a field.
#[derive(Debug, Default)]
pub struct CustomerInput {
    pub email: Option<Option<String>>,
    pub name: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub address: Option<Option<Address>>,
    pub metadata: Option<MetadataUpdate>,
    /// Create only: the test clock (`clock_…`) the customer lives on.
    pub test_clock: Option<String>,
    /// `invoice_settings[default_payment_method]`: a `pm_…` attached to the customer;
    /// `Some(None)` clears it.
    pub default_payment_method: Option<Option<String>>,
}

impl CustomerInput {
    fn apply(self, customer: &mut Customer) -> Result<(), DomainError> {
        if let Some(email) = self.email {
            customer.email = email
                .filter(|e| !e.is_empty())
                .map(|e| validate_email(&e, "email"))
                .transpose()?;
        }
        if let Some(name) = self.name {
            customer.name = validate::optional_text(name, "name", 256)?;
        }
        if let Some(description) = self.description {
            customer.description = validate::optional_text(description, "description", 500)?;
        }
        if let Some(phone) = self.phone {
            customer.phone = validate::optional_text(phone, "phone", 40)?;
        }
        if let Some(address) = self.address {
            customer.address = address.map(|a| a.validate("address")).transpose()?;
        }
        if let Some(update) = self.metadata {
            customer.metadata = customer.metadata.updated(update, "metadata")?;
        }
        if let Some(method) = self.default_payment_method {
            customer.default_payment_method = method;
        }
        Ok(())
    }

    /// Checks that a default payment method to set is attached to `customer` (a new customer
    /// has none attached yet), as Stripe requires.
    async fn check_default_method(
        &self,
        db: &Db,
        caller: &Caller,
        customer: &str,
    ) -> Result<(), DomainError> {
        const PARAM: &str = "invoice_settings[default_payment_method]";
        let Some(Some(id)) = &self.default_payment_method else {
            return Ok(());
        };
        let method = store::payment_methods::get(db, caller, id)
            .await?
            .ok_or_else(|| DomainError::missing_reference(PARAM, "payment_method", id))?;
        if method.customer_id.as_deref() != Some(customer) {
            return Err(DomainError::invalid(
                PARAM,
                format!(
                    "The PaymentMethod {id} must be attached to the customer {customer} first."
                ),
            ));
        }
        Ok(())
    }
}

fn event(caller: &Caller, kind: &str, customer: &Customer, now: i64) -> Event {
    new_event(
        &caller.account_id,
        customer.livemode,
        kind,
        &customer.id,
        customer.object(),
        now,
    )
}

/// A new customer, not yet saved (a paid session creates one inside its own transaction).
pub fn new_customer(
    caller: &Caller,
    input: CustomerInput,
    now: i64,
) -> Result<Customer, DomainError> {
    let mut customer = Customer {
        id: ids::new_id(prefix::CUSTOMER, ids::now_ms()),
        livemode: caller.mode.is_live(),
        email: None,
        name: None,
        description: None,
        phone: None,
        address: None,
        metadata: Metadata::default(),
        deleted: false,
        test_clock_id: None,
        default_payment_method: None,
        external_customer_id: None,
        created: now,
        updated: now,
    };
    input.apply(&mut customer)?;
    Ok(customer)
}

/// Creates a customer; on the test clock `input.test_clock` when given (its `created` is then the
/// clock's time, and so is everything that happens to it).
pub async fn create_customer(
    db: &Db,
    caller: &Caller,
    input: CustomerInput,
    now: i64,
) -> Result<Customer, DomainError> {
    create_customer_with(db, caller, input, now, None).await
}

/// [`create_customer`], writing `companion`'s statements in its transaction.
pub async fn create_customer_with(
    db: &Db,
    caller: &Caller,
    mut input: CustomerInput,
    now: i64,
    companion: Companion<'_, Customer>,
) -> Result<Customer, DomainError> {
    let clock = match input.test_clock.take() {
        Some(id) => Some(super::test_clocks::reference(db, caller, &id, "test_clock").await?),
        None => None,
    };
    let mut customer = new_customer(caller, CustomerInput::default(), now)?;
    input.check_default_method(db, caller, &customer.id).await?;
    input.apply(&mut customer)?;
    if let Some(clock) = clock {
        customer.created = clock.frozen_time;
        customer.updated = clock.frozen_time;
        customer.test_clock_id = Some(clock.id);
    }
    let created = event(caller, "customer.created", &customer, now);
    let also = companion_statements(companion, &customer);
    store::customers::insert(db, caller, &customer, &created, &also).await?;
    Ok(customer)
}

/// The live customer that the Loops `externalCustomerId` `external_id` names, if a completed
/// session created one.
pub async fn by_external_id(
    db: &Db,
    caller: &Caller,
    external_id: &str,
) -> Result<Option<Customer>, DomainError> {
    Ok(store::customers::by_external_id(db, caller, external_id)
        .await?
        .filter(|c| !c.deleted))
}

/// The customer, deleted or not (Stripe retrieves a deleted customer as a stub).
pub async fn get_customer(db: &Db, caller: &Caller, id: &str) -> Result<Customer, DomainError> {
    store::customers::get(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("customer", id))
}

/// The customer a session or payment may point to: it must exist and not be deleted.
pub async fn live_customer(
    db: &Db,
    caller: &Caller,
    id: &str,
    param: &str,
) -> Result<Customer, DomainError> {
    match store::customers::get(db, caller, id).await? {
        Some(customer) if !customer.deleted => Ok(customer),
        _ if param == "id" => Err(DomainError::not_found("customer", id)),
        _ => Err(DomainError::missing_reference(param, "customer", id)),
    }
}

pub async fn update_customer(
    db: &Db,
    caller: &Caller,
    id: &str,
    input: CustomerInput,
    now: i64,
) -> Result<Customer, DomainError> {
    update_customer_with(db, caller, id, input, now, None).await
}

/// [`update_customer`], writing `companion`'s statements in its transaction.
pub async fn update_customer_with(
    db: &Db,
    caller: &Caller,
    id: &str,
    input: CustomerInput,
    now: i64,
    companion: Companion<'_, Customer>,
) -> Result<Customer, DomainError> {
    let mut customer = live_customer(db, caller, id, "id").await?;
    let before = customer.object();
    input.check_default_method(db, caller, id).await?;
    input.apply(&mut customer)?;
    customer.updated = now;
    let updated = event(caller, "customer.updated", &customer, now).with_previous(&before);
    let also = companion_statements(companion, &customer);
    store::customers::update(db, caller, &customer, &updated, &also).await?;
    Ok(customer)
}

pub async fn delete_customer(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
) -> Result<Customer, DomainError> {
    let mut customer = live_customer(db, caller, id, "id").await?;
    super::billing::changes::cancel_all_of(db, caller, id, now).await?;
    let deleted = event(caller, "customer.deleted", &customer, now);
    customer.deleted = true;
    // A later session carrying its externalCustomerId makes a new customer.
    customer.external_customer_id = None;
    customer.updated = now;
    store::customers::update(db, caller, &customer, &deleted, &[]).await?;
    Ok(customer)
}

/// A page of customers, newest first. Those on a test clock are listed only with
/// `test_clock`, and then only those, as on Stripe.
pub async fn list_customers(
    db: &Db,
    caller: &Caller,
    email: Option<&str>,
    test_clock: Option<&str>,
    created: &CreatedRange,
    page: &PageRequest,
) -> Result<Page<Customer>, DomainError> {
    page.check_cursor(|id| async move { get_customer(db, caller, &id).await })
        .await?;
    if let Some(clock) = test_clock {
        super::test_clocks::reference(db, caller, clock, "test_clock").await?;
    }
    Ok(store::customers::list(db, caller, email, test_clock, created, page).await?)
}
