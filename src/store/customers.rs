//! Customers.

use super::events::insert_event;
use super::query::Select;
use super::{Arg, Db, Statement, StoreResult, Tx, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::customers::Customer;
use crate::domain::events::Event;
use crate::domain::list::{CreatedRange, Page, PageRequest};
use crate::domain::metadata::Metadata;

row_struct! {
    struct CustomerRow {
        id: String,
        livemode: bool,
        email: Option<String>,
        name: Option<String>,
        description: Option<String>,
        phone: Option<String>,
        address: Option<String>,
        metadata: String,
        deleted: bool,
        test_clock_id: Option<String>,
        default_payment_method: Option<String>,
        external_customer_id: Option<String>,
        created: i64,
        updated: i64,
    }
}

const COLUMNS: &str = CustomerRow::COLUMNS;

impl From<CustomerRow> for Customer {
    fn from(r: CustomerRow) -> Customer {
        Customer {
            id: r.id,
            livemode: r.livemode,
            email: r.email,
            name: r.name,
            description: r.description,
            phone: r.phone,
            address: r.address.and_then(|a| serde_json::from_str(&a).ok()),
            metadata: Metadata::from_json(&r.metadata),
            deleted: r.deleted,
            test_clock_id: r.test_clock_id,
            default_payment_method: r.default_payment_method,
            external_customer_id: r.external_customer_id,
            created: r.created,
            updated: r.updated,
        }
    }
}

pub fn address_json(customer: &Customer) -> Option<String> {
    customer
        .address
        .as_ref()
        .map(|a| serde_json::to_string(a).expect("an address serializes"))
}

/// A customer's columns from `email` to `external_customer_id`, in the order both the INSERT
/// and the UPDATE name them.
fn customer_fields(customer: &Customer) -> [Arg<'_>; 9] {
    args![
        &customer.email,
        &customer.name,
        &customer.description,
        &customer.phone,
        address_json(customer),
        customer.metadata.to_json(),
        customer.deleted,
        &customer.default_payment_method,
        &customer.external_customer_id
    ]
}

/// The statement that inserts a customer: on its own, or in the transaction of a paid session
/// that creates it.
pub fn customer_insert<'a>(account_id: &'a str, customer: &'a Customer) -> Statement<'a> {
    Statement::new(
        "INSERT INTO customers (id, account_id, livemode, email, name, description, phone, address, \
         metadata, deleted, default_payment_method, external_customer_id, created, updated, test_clock_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        [
            args![&customer.id, account_id, customer.livemode].as_slice(),
            &customer_fields(customer),
            &args![customer.created, customer.updated, &customer.test_clock_id],
        ]
        .concat(),
    )
}

/// Writes a customer inside `tx` ([`customer_insert`]).
pub async fn insert_customer_row(
    tx: &mut Tx<'_>,
    account_id: &str,
    customer: &Customer,
) -> StoreResult<()> {
    tx.run(&customer_insert(account_id, customer)).await?;
    Ok(())
}

pub async fn insert(
    db: &Db,
    caller: &Caller,
    customer: &Customer,
    event: &Event,
    also: &[Statement<'_>],
) -> StoreResult<()> {
    db.write(async |tx| {
        insert_customer_row(tx, &caller.account_id, customer).await?;
        insert_event(tx, event).await?;
        super::catalog::run_also(tx, also).await
    })
    .await
}

/// Saves every field (deletion is `deleted = true`) and records `event`, in one transaction,
/// unless the customer was deleted meanwhile.
pub async fn update(
    db: &Db,
    caller: &Caller,
    customer: &Customer,
    event: &Event,
    also: &[Statement<'_>],
) -> StoreResult<()> {
    db.write(async |tx| {
        let changed = tx
            .execute(
                "UPDATE customers SET email = $1, name = $2, description = $3, phone = $4, address = $5, \
                 metadata = $6, deleted = $7, default_payment_method = $8, external_customer_id = $9, \
                 updated = $10 WHERE id = $11 AND account_id = $12 AND livemode = $13 AND deleted = FALSE",
                &[
                    customer_fields(customer).as_slice(),
                    &args![
                        customer.updated,
                        &customer.id,
                        &caller.account_id,
                        customer.livemode
                    ],
                ]
                .concat(),
            )
            .await?;
        // Deleted meanwhile by another request: nothing changes, and no event.
        if changed == 1 {
            insert_event(tx, event).await?;
            super::catalog::run_also(tx, also).await?;
        }
        Ok(())
    })
    .await
}

pub async fn get(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<Customer>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customers WHERE id = $1 AND account_id = $2 AND livemode = $3"
    );
    let row: Option<CustomerRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(Into::into))
}

/// The customer created for the Loops `externalCustomerId` `external_id`, if any.
pub async fn by_external_id(
    db: &Db,
    caller: &Caller,
    external_id: &str,
) -> StoreResult<Option<Customer>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customers WHERE account_id = $1 AND livemode = $2 \
         AND external_customer_id = $3"
    );
    let row: Option<CustomerRow> = db
        .fetch_optional(
            &sql,
            &args![&caller.account_id, caller.mode.is_live(), external_id],
        )
        .await?;
    Ok(row.map(Into::into))
}

/// Customers not deleted, newest first: on the clock `test_clock`, or on none.
pub async fn list(
    db: &Db,
    caller: &Caller,
    email: Option<&str>,
    test_clock: Option<&str>,
    created: &CreatedRange,
    page: &PageRequest,
) -> StoreResult<Page<Customer>> {
    let mut select = Select::new(COLUMNS, "customers");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.condition("deleted = FALSE");
    select.filter_text("email = ?", email);
    match test_clock {
        Some(clock) => {
            select.filter("test_clock_id = ?", clock.to_string());
        }
        None => {
            select.condition("test_clock_id IS NULL");
        }
    }
    select.created("created", created);
    let rows: Page<CustomerRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(Into::into))
}

/// The emails of the caller's customers among `ids` that have one: (id, email).
pub async fn emails(db: &Db, caller: &Caller, ids: &[&str]) -> StoreResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = Select::new("id, email", "customers");
    select.scope("", &caller.account_id, caller.mode.is_live());
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    select.filter_in("id", &ids);
    select.condition("email IS NOT NULL");
    let (sql, args) = select.oldest_first_sql("id", ids.len() as i64);
    db.fetch_all(&sql, &args).await
}
