//! PaymentIntents, their charges, and SetupIntents: written in the transactions that pay (or
//! decline) a session, read through `/v1/payment_intents` and `/v1/charges`.

use super::query::Select;
use super::{Db, Statement, StoreResult, Tx, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::list::{CreatedRange, Page, PageRequest};
use crate::domain::metadata::Metadata;
use crate::domain::payments::{
    CardSummary, Charge, ChargeFailure, ChargeFilter, PaymentIntent, PaymentIntentData, SetupIntent,
};

/// The statement that writes a PaymentIntent, or updates it when it exists: a session's
/// PaymentIntent is made at its first attempt and changes with each one after.
pub fn payment_intent_upsert<'a>(account_id: &'a str, payment: &'a PaymentIntent) -> Statement<'a> {
    let card = payment.card.as_ref();
    Statement::new(
        "INSERT INTO payment_intents (id, account_id, livemode, amount, currency, status, checkout_session_id, \
         customer_id, receipt_email, card_brand, card_last4, card_exp_month, card_exp_year, metadata, created, \
         last_payment_error, latest_charge, description, statement_descriptor, statement_descriptor_suffix, \
         payment_method_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
         ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, status = excluded.status, \
         customer_id = excluded.customer_id, receipt_email = excluded.receipt_email, \
         card_brand = excluded.card_brand, card_last4 = excluded.card_last4, \
         card_exp_month = excluded.card_exp_month, card_exp_year = excluded.card_exp_year, \
         last_payment_error = excluded.last_payment_error, latest_charge = excluded.latest_charge, \
         payment_method_id = excluded.payment_method_id",
        args![
            &payment.id,
            account_id,
            payment.livemode,
            payment.amount,
            &payment.currency,
            &payment.status,
            &payment.checkout_session_id,
            &payment.customer_id,
            &payment.receipt_email,
            card.map(|c| c.brand.as_str()),
            card.map(|c| c.last4.as_str()),
            card.map(|c| c.exp_month),
            card.map(|c| c.exp_year),
            payment.data.metadata.to_json(),
            payment.created,
            payment.last_payment_error.as_ref().map(|e| e.to_string()),
            &payment.latest_charge,
            &payment.data.description,
            &payment.data.statement_descriptor,
            &payment.data.statement_descriptor_suffix,
            &payment.payment_method
        ],
    )
}

/// Writes a PaymentIntent inside `tx` ([`payment_intent_upsert`]).
pub async fn upsert_payment_intent(
    tx: &mut Tx<'_>,
    account_id: &str,
    payment: &PaymentIntent,
) -> StoreResult<()> {
    tx.run(&payment_intent_upsert(account_id, payment)).await?;
    Ok(())
}

/// The statement that writes a SetupIntent.
pub fn setup_intent_insert<'a>(account_id: &'a str, setup: &'a SetupIntent) -> Statement<'a> {
    Statement::new(
        "INSERT INTO setup_intents (id, account_id, livemode, status, checkout_session_id, customer_id, \
         card_brand, card_last4, card_exp_month, card_exp_year, created, payment_method_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        args![
            &setup.id,
            account_id,
            setup.livemode,
            &setup.status,
            &setup.checkout_session_id,
            &setup.customer_id,
            &setup.card.brand,
            &setup.card.last4,
            setup.card.exp_month,
            setup.card.exp_year,
            setup.created,
            &setup.payment_method
        ],
    )
}

row_struct! {
    struct PaymentIntentRow {
        id: String,
        livemode: bool,
        amount: i64,
        currency: String,
        status: String,
        checkout_session_id: Option<String>,
        customer_id: Option<String>,
        receipt_email: Option<String>,
        card_brand: Option<String>,
        card_last4: Option<String>,
        card_exp_month: Option<i64>,
        card_exp_year: Option<i64>,
        payment_method_id: Option<String>,
        last_payment_error: Option<String>,
        latest_charge: Option<String>,
        metadata: String,
        description: Option<String>,
        statement_descriptor: Option<String>,
        statement_descriptor_suffix: Option<String>,
        created: i64,
    }
}

impl From<PaymentIntentRow> for PaymentIntent {
    fn from(r: PaymentIntentRow) -> Self {
        let card = match (r.card_brand, r.card_last4) {
            (Some(brand), Some(last4)) => Some(CardSummary {
                brand,
                last4,
                exp_month: r.card_exp_month.unwrap_or(0),
                exp_year: r.card_exp_year.unwrap_or(0),
            }),
            _ => None,
        };
        PaymentIntent {
            id: r.id,
            livemode: r.livemode,
            amount: r.amount,
            currency: r.currency,
            status: r.status,
            checkout_session_id: r.checkout_session_id,
            customer_id: r.customer_id,
            receipt_email: r.receipt_email,
            card,
            payment_method: r.payment_method_id,
            last_payment_error: r
                .last_payment_error
                .and_then(|e| serde_json::from_str(&e).ok()),
            latest_charge: r.latest_charge,
            data: PaymentIntentData {
                description: r.description,
                metadata: Metadata::from_json(&r.metadata),
                statement_descriptor: r.statement_descriptor,
                statement_descriptor_suffix: r.statement_descriptor_suffix,
            },
            created: r.created,
        }
    }
}

const PAYMENT_INTENT_COLUMNS: &str = PaymentIntentRow::COLUMNS;

pub async fn get_payment_intent(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> StoreResult<Option<PaymentIntent>> {
    let sql = format!(
        "SELECT {PAYMENT_INTENT_COLUMNS} FROM payment_intents \
         WHERE id = $1 AND account_id = $2 AND livemode = $3"
    );
    let row: Option<PaymentIntentRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(Into::into))
}

pub async fn list_payment_intents(
    db: &Db,
    caller: &Caller,
    customer: Option<&str>,
    created: &CreatedRange,
    page: &PageRequest,
) -> StoreResult<Page<PaymentIntent>> {
    let mut select = Select::new(PAYMENT_INTENT_COLUMNS, "payment_intents");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.filter_text("customer_id = ?", customer);
    select.created("created", created);
    let rows: Page<PaymentIntentRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(Into::into))
}

/// Succeeded payments made at or after `since`, per currency, net of their refunds:
/// (currency, count, amount in minor units). Each succeeded charge is one payment; those of
/// customers on a test clock are left out, as in the revenue chart.
pub async fn revenue_since(
    db: &Db,
    caller: &Caller,
    since: i64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    db.fetch_all(
        "SELECT currency, COUNT(*), CAST(SUM(amount - amount_refunded) AS BIGINT) FROM charges \
         WHERE account_id = $1 AND livemode = $2 AND status = 'succeeded' AND created >= $3 \
           AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = charges.customer_id \
             AND c.test_clock_id IS NOT NULL) \
         GROUP BY currency ORDER BY currency",
        &args![&caller.account_id, caller.mode.is_live(), since],
    )
    .await
}

// ----- Charges -----------------------------------------------------------------------------------

/// The statement that writes a charge, in the transaction of its attempt.
pub fn charge_insert<'a>(account_id: &'a str, charge: &'a Charge) -> Statement<'a> {
    let card = charge.card.as_ref();
    let failure = charge.failure.as_ref();
    Statement::new(
        "INSERT INTO charges (id, account_id, livemode, payment_intent_id, amount, amount_refunded, currency, \
         customer_id, status, failure_code, failure_message, decline_code, card_brand, card_last4, \
         card_exp_month, card_exp_year, billing_email, billing_name, receipt_email, description, \
         statement_descriptor, statement_descriptor_suffix, metadata, created, payment_method_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
         $21, $22, $23, $24, $25)",
        args![
            &charge.id,
            account_id,
            charge.livemode,
            &charge.payment_intent_id,
            charge.amount,
            charge.amount_refunded,
            &charge.currency,
            &charge.customer_id,
            if charge.succeeded() {
                "succeeded"
            } else {
                "failed"
            },
            failure.map(|f| f.code.as_str()),
            failure.map(|f| f.message.as_str()),
            failure.and_then(|f| f.decline_code.as_deref()),
            card.map(|c| c.brand.as_str()),
            card.map(|c| c.last4.as_str()),
            card.map(|c| c.exp_month),
            card.map(|c| c.exp_year),
            &charge.billing_email,
            &charge.billing_name,
            &charge.receipt_email,
            &charge.data.description,
            &charge.data.statement_descriptor,
            &charge.data.statement_descriptor_suffix,
            charge.data.metadata.to_json(),
            charge.created,
            &charge.payment_method
        ],
    )
}

row_struct! {
    struct ChargeRow {
        id: String,
        livemode: bool,
        payment_intent_id: String,
        amount: i64,
        amount_refunded: i64,
        currency: String,
        customer_id: Option<String>,
        failure_code: Option<String>,
        failure_message: Option<String>,
        decline_code: Option<String>,
        card_brand: Option<String>,
        card_last4: Option<String>,
        card_exp_month: Option<i64>,
        card_exp_year: Option<i64>,
        payment_method_id: Option<String>,
        billing_email: Option<String>,
        billing_name: Option<String>,
        receipt_email: Option<String>,
        description: Option<String>,
        statement_descriptor: Option<String>,
        statement_descriptor_suffix: Option<String>,
        metadata: String,
        created: i64,
    }
}

impl From<ChargeRow> for Charge {
    fn from(r: ChargeRow) -> Self {
        let card = match (r.card_brand, r.card_last4) {
            (Some(brand), Some(last4)) => Some(CardSummary {
                brand,
                last4,
                exp_month: r.card_exp_month.unwrap_or(0),
                exp_year: r.card_exp_year.unwrap_or(0),
            }),
            _ => None,
        };
        Charge {
            id: r.id,
            livemode: r.livemode,
            payment_intent_id: r.payment_intent_id,
            amount: r.amount,
            amount_refunded: r.amount_refunded,
            currency: r.currency,
            customer_id: r.customer_id,
            card,
            payment_method: r.payment_method_id,
            billing_email: r.billing_email,
            billing_name: r.billing_name,
            receipt_email: r.receipt_email,
            failure: r.failure_code.map(|code| ChargeFailure {
                code,
                message: r.failure_message.unwrap_or_default(),
                decline_code: r.decline_code,
            }),
            data: PaymentIntentData {
                description: r.description,
                metadata: Metadata::from_json(&r.metadata),
                statement_descriptor: r.statement_descriptor,
                statement_descriptor_suffix: r.statement_descriptor_suffix,
            },
            created: r.created,
        }
    }
}

pub async fn get_charge(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<Charge>> {
    let sql = format!(
        "SELECT {} FROM charges WHERE id = $1 AND account_id = $2 AND livemode = $3",
        ChargeRow::COLUMNS
    );
    let row: Option<ChargeRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(Into::into))
}

pub async fn list_charges(
    db: &Db,
    caller: &Caller,
    filter: &ChargeFilter,
    page: &PageRequest,
) -> StoreResult<Page<Charge>> {
    let mut select = Select::new(ChargeRow::COLUMNS, "charges");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.filter_text("customer_id = ?", filter.customer.as_deref());
    select.filter_text("payment_intent_id = ?", filter.payment_intent.as_deref());
    select.created("created", &filter.created);
    let rows: Page<ChargeRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(Into::into))
}

/// The charges of `payment_intents` (the caller's), oldest first: every attempt to collect
/// them, in one query (at most 1 000, far more than a page of invoices ever needs).
pub async fn charges_of_payment_intents(
    db: &Db,
    caller: &Caller,
    payment_intents: &[&str],
) -> StoreResult<Vec<Charge>> {
    if payment_intents.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = Select::new(ChargeRow::COLUMNS, "charges");
    select.scope("", &caller.account_id, caller.mode.is_live());
    let ids: Vec<String> = payment_intents.iter().map(|id| id.to_string()).collect();
    select.filter_in("payment_intent_id", &ids);
    let (sql, args) = select.oldest_first_sql("id", 1000);
    let rows: Vec<ChargeRow> = db.fetch_all(&sql, &args).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
