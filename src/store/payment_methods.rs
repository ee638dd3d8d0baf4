//! PaymentMethods: written in the transaction of the attempt that used the card
//! ([`payment_method_insert`]), then attached, detached and updated through
//! `/v1/payment_methods`, each change with its event.

use super::events::insert_event;
use super::query::Select;
use super::{Db, Statement, StoreResult, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::events::Event;
use crate::domain::list::{Page, PageRequest};
use crate::domain::metadata::Metadata;
use crate::domain::payment_methods::{AllowRedisplay, PaymentMethod, PaymentMethodFilter};
use crate::domain::payments::CardSummary;

/// The statement that writes a new PaymentMethod: in the transaction of the payment, declined
/// attempt or saved card that used it (as [`super::payments::charge_insert`] is), or on its own.
pub fn payment_method_insert<'a>(account_id: &'a str, method: &'a PaymentMethod) -> Statement<'a> {
    Statement::new(
        "INSERT INTO payment_methods (id, account_id, livemode, customer_id, card_brand, card_last4, \
         card_exp_month, card_exp_year, billing_email, billing_name, charge_decline, allow_redisplay, \
         reusable, metadata, created) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        args![
            &method.id,
            account_id,
            method.livemode,
            &method.customer_id,
            &method.card.brand,
            &method.card.last4,
            method.card.exp_month,
            method.card.exp_year,
            &method.billing_email,
            &method.billing_name,
            &method.charge_decline,
            method.allow_redisplay.as_str(),
            method.reusable,
            method.metadata.to_json(),
            method.created
        ],
    )
}

/// Writes a new method and its event (a test PaymentMethod id attached: `payment_method.attached`)
/// in one transaction.
pub async fn insert(
    db: &Db,
    caller: &Caller,
    method: &PaymentMethod,
    event: &Event,
) -> StoreResult<()> {
    db.write(async |tx| {
        tx.run(&payment_method_insert(&caller.account_id, method))
            .await?;
        insert_event(tx, event).await
    })
    .await
}

/// Saves `method`, attached to its `customer_id`, and records `event`, if it is still unattached
/// and reusable; returns whether it was.
pub async fn attach(
    db: &Db,
    caller: &Caller,
    method: &PaymentMethod,
    event: &Event,
) -> StoreResult<bool> {
    db.write(async |tx| {
        let changed = tx
            .execute(
                "UPDATE payment_methods SET customer_id = $1 WHERE id = $2 AND account_id = $3 \
                 AND livemode = $4 AND customer_id IS NULL AND reusable = TRUE",
                &args![
                    &method.customer_id,
                    &method.id,
                    &caller.account_id,
                    caller.mode.is_live()
                ],
            )
            .await?
            == 1;
        if changed {
            insert_event(tx, event).await?;
        }
        Ok(changed)
    })
    .await
}

/// Detaches `method` from `customer_id` for good (not reusable) and records `event`, if it is
/// still attached to that customer; returns whether it was. A customer whose default it was
/// has no default afterwards, as on Stripe.
pub async fn detach(
    db: &Db,
    caller: &Caller,
    method: &PaymentMethod,
    customer_id: &str,
    event: &Event,
) -> StoreResult<bool> {
    db.write(async |tx| {
        let changed = tx
            .execute(
                "UPDATE payment_methods SET customer_id = NULL, reusable = FALSE WHERE id = $1 \
                 AND account_id = $2 AND livemode = $3 AND customer_id = $4",
                &args![
                    &method.id,
                    &caller.account_id,
                    caller.mode.is_live(),
                    customer_id
                ],
            )
            .await?
            == 1;
        if changed {
            tx.execute(
                "UPDATE customers SET default_payment_method = NULL WHERE id = $1 \
                 AND default_payment_method = $2",
                &args![customer_id, &method.id],
            )
            .await?;
            insert_event(tx, event).await?;
        }
        Ok(changed)
    })
    .await
}

/// Saves what an update may change (billing details, expiry, `allow_redisplay`, metadata) and
/// records `event`, if the method is still attached to the customer it was read with; returns
/// whether it was.
pub async fn update(
    db: &Db,
    caller: &Caller,
    method: &PaymentMethod,
    event: &Event,
) -> StoreResult<bool> {
    db.write(async |tx| {
        let changed = tx
            .execute(
                "UPDATE payment_methods SET billing_email = $1, billing_name = $2, card_exp_month = $3, \
                 card_exp_year = $4, allow_redisplay = $5, metadata = $6 WHERE id = $7 AND account_id = $8 \
                 AND livemode = $9 AND customer_id = $10",
                &args![
                    &method.billing_email,
                    &method.billing_name,
                    method.card.exp_month,
                    method.card.exp_year,
                    method.allow_redisplay.as_str(),
                    method.metadata.to_json(),
                    &method.id,
                    &caller.account_id,
                    caller.mode.is_live(),
                    &method.customer_id
                ],
            )
            .await?
            == 1;
        if changed {
            insert_event(tx, event).await?;
        }
        Ok(changed)
    })
    .await
}

row_struct! {
    struct PaymentMethodRow {
        id: String,
        livemode: bool,
        customer_id: Option<String>,
        card_brand: String,
        card_last4: String,
        card_exp_month: i64,
        card_exp_year: i64,
        billing_email: Option<String>,
        billing_name: Option<String>,
        charge_decline: Option<String>,
        allow_redisplay: String,
        reusable: bool,
        metadata: String,
        created: i64,
    }
}

impl From<PaymentMethodRow> for PaymentMethod {
    fn from(r: PaymentMethodRow) -> Self {
        PaymentMethod {
            id: r.id,
            livemode: r.livemode,
            customer_id: r.customer_id,
            card: CardSummary {
                brand: r.card_brand,
                last4: r.card_last4,
                exp_month: r.card_exp_month,
                exp_year: r.card_exp_year,
            },
            billing_email: r.billing_email,
            billing_name: r.billing_name,
            charge_decline: r.charge_decline,
            allow_redisplay: AllowRedisplay::from_stored(&r.allow_redisplay),
            reusable: r.reusable,
            metadata: Metadata::from_json(&r.metadata),
            created: r.created,
        }
    }
}

/// A method of the caller's account and mode.
pub async fn get(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<PaymentMethod>> {
    let sql = format!(
        "SELECT {} FROM payment_methods WHERE id = $1 AND account_id = $2 AND livemode = $3",
        PaymentMethodRow::COLUMNS
    );
    let row: Option<PaymentMethodRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(Into::into))
}

/// A page of the caller's methods, newest first: one customer's (by the index on
/// `(customer_id, id)`) or all of them. The filter's `kind` is the domain's to apply (every
/// stored method is a card).
pub async fn list(
    db: &Db,
    caller: &Caller,
    filter: &PaymentMethodFilter,
    page: &PageRequest,
) -> StoreResult<Page<PaymentMethod>> {
    let mut select = Select::new(PaymentMethodRow::COLUMNS, "payment_methods");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.filter_text("customer_id = ?", filter.customer.as_deref());
    select.filter_text(
        "allow_redisplay = ?",
        filter.allow_redisplay.map(AllowRedisplay::as_str),
    );
    let rows: Page<PaymentMethodRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(Into::into))
}
