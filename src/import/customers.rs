//! Customers: contact details, address and metadata. Their payment methods, invoices and
//! subscriptions are not copied.

use crate::domain::customers::{self, Address, Customer, CustomerInput};
use crate::domain::metadata::MetadataUpdate;

use super::wire;
use super::{Cursor, Importer, Kind, Outcome, WOULD_CREATE, refused, text};

impl Importer {
    pub(super) async fn customers(&mut self) -> anyhow::Result<()> {
        let mut cursor = Cursor::new("/v1/customers", &[]);
        while let Some(page) = self.next_page::<wire::Customer>(&mut cursor).await? {
            for customer in page {
                if self.stopping() {
                    return Ok(());
                }
                let outcome = self.customer(&customer).await?;
                self.record(Kind::Customer, &customer.id, outcome);
            }
        }
        Ok(())
    }

    async fn customer(&mut self, source: &wire::Customer) -> anyhow::Result<Outcome> {
        if let Some(clock) = &source.test_clock {
            return Ok(Outcome::Skipped(format!(
                "it lives on the test clock {}, which is not copied",
                clock.id()
            )));
        }
        match self.mapped(Kind::Customer, &source.id).map(str::to_string) {
            Some(id) if id == WOULD_CREATE => Ok(Outcome::Unchanged),
            Some(id) => self.update_customer(&id, source).await,
            None => self.create_customer(source).await,
        }
    }

    async fn create_customer(&mut self, source: &wire::Customer) -> anyhow::Result<Outcome> {
        let wanted = wanted(source);
        let input = CustomerInput {
            email: Some(wanted.email),
            name: Some(wanted.name),
            description: Some(wanted.description),
            phone: Some(wanted.phone),
            address: Some(wanted.address),
            metadata: Some(MetadataUpdate::Replace(source.metadata.clone())),
            ..Default::default()
        };
        if self.options.dry_run {
            self.remember(Kind::Customer, &source.id, WOULD_CREATE);
            return Ok(Outcome::Created);
        }
        let companion =
            |customer: &Customer| vec![self.mapping(Kind::Customer, &source.id, &customer.id)];
        let now = self.now();
        match customers::create_customer_with(&self.db, &self.caller, input, now, Some(&companion))
            .await
        {
            Ok(customer) => {
                self.remember(Kind::Customer, &source.id, &customer.id);
                Ok(Outcome::Created)
            }
            Err(error) => refused(error),
        }
    }

    async fn update_customer(
        &mut self,
        id: &str,
        source: &wire::Customer,
    ) -> anyhow::Result<Outcome> {
        let current = match customers::live_customer(&self.db, &self.caller, id, "id").await {
            Ok(customer) => customer,
            Err(error) => return refused(error),
        };
        let Some(input) = customer_changes(&current, source) else {
            return Ok(Outcome::Unchanged);
        };
        if self.options.dry_run {
            return Ok(Outcome::Updated);
        }
        let now = self.now();
        match customers::update_customer_with(&self.db, &self.caller, id, input, now, None).await {
            Ok(_) => Ok(Outcome::Updated),
            Err(error) => refused(error),
        }
    }
}

/// The source customer's fields as kassa stores them.
struct Wanted {
    email: Option<String>,
    name: Option<String>,
    description: Option<String>,
    phone: Option<String>,
    address: Option<Address>,
}

fn wanted(source: &wire::Customer) -> Wanted {
    Wanted {
        email: text(&source.email).map(|e| e.trim().to_string()),
        name: text(&source.name),
        description: text(&source.description),
        phone: text(&source.phone),
        address: source.address.as_ref().map(|a| Address {
            line1: text(&a.line1),
            line2: text(&a.line2),
            city: text(&a.city),
            state: text(&a.state),
            postal_code: text(&a.postal_code),
            country: text(&a.country).map(|c| c.to_ascii_uppercase()),
        }),
    }
}

/// The fields of `current` that differ from the source's, or `None` when none does.
fn customer_changes(current: &Customer, source: &wire::Customer) -> Option<CustomerInput> {
    let wanted = wanted(source);
    let mut input = CustomerInput::default();
    let mut changed = false;
    for (now, wanted, field) in [
        (&current.email, wanted.email, &mut input.email),
        (&current.name, wanted.name, &mut input.name),
        (
            &current.description,
            wanted.description,
            &mut input.description,
        ),
        (&current.phone, wanted.phone, &mut input.phone),
    ] {
        if *now != wanted {
            *field = Some(wanted);
            changed = true;
        }
    }
    if current.address != wanted.address {
        input.address = Some(wanted.address);
        changed = true;
    }
    if current.metadata.0 != source.metadata {
        input.metadata = Some(MetadataUpdate::Replace(source.metadata.clone()));
        changed = true;
    }
    changed.then_some(input)
}
