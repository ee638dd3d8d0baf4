//! Refunds (migration 0022), and the amount they take from their charge.

use super::query::Select;
use super::{Db, Statement, StoreResult, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::events::Event;
use crate::domain::list::{Page, PageRequest};
use crate::domain::metadata::Metadata;
use crate::domain::refunds::{Refund, RefundFilter, RefundStatus};

row_struct! {
    struct RefundRow {
        id: String,
        account_id: String,
        livemode: bool,
        charge_id: String,
        payment_intent_id: String,
        amount: i64,
        currency: String,
        reason: Option<String>,
        metadata: String,
        status: String,
        failure_reason: Option<String>,
        created: i64,
    }
}

impl RefundRow {
    fn into_refund(self) -> (String, Refund) {
        let refund = Refund {
            id: self.id,
            livemode: self.livemode,
            charge_id: self.charge_id,
            payment_intent_id: self.payment_intent_id,
            amount: self.amount,
            currency: self.currency,
            reason: self.reason,
            metadata: Metadata::from_json(&self.metadata),
            status: RefundStatus::parse(&self.status),
            failure_reason: self.failure_reason,
            created: self.created,
        };
        (self.account_id, refund)
    }
}

/// Writes a pending refund and takes its amount from its charge, in one transaction, only if
/// the charge succeeded and still has that much unrefunded; the refund is left to its request
/// until `lease_until`. Returns whether it did.
pub async fn reserve(
    db: &Db,
    account_id: &str,
    refund: &Refund,
    lease_until: i64,
) -> StoreResult<bool> {
    let guard = Statement::new(
        "UPDATE charges SET amount_refunded = amount_refunded + $1 WHERE id = $2 AND account_id = $3 \
         AND livemode = $4 AND status = 'succeeded' AND amount_refunded + $1 <= amount",
        args![
            refund.amount,
            &refund.charge_id,
            account_id,
            refund.livemode
        ],
    );
    let insert = Statement::new(
        "INSERT INTO refunds (id, account_id, livemode, charge_id, payment_intent_id, amount, currency, \
         reason, metadata, status, failure_reason, lease_until, created) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        args![
            &refund.id,
            account_id,
            refund.livemode,
            &refund.charge_id,
            &refund.payment_intent_id,
            refund.amount,
            &refund.currency,
            &refund.reason,
            refund.metadata.to_json(),
            refund.status.as_str(),
            &refund.failure_reason,
            lease_until,
            refund.created
        ],
    );
    db.write_statements_if(guard, &[insert]).await
}

/// Writes a pending refund's outcome with its events, if it is still pending; a failed refund
/// gives its amount back to the charge.
pub async fn finish(
    db: &Db,
    account_id: &str,
    refund: &Refund,
    events: &[Event],
) -> StoreResult<bool> {
    let guard = Statement::new(
        "UPDATE refunds SET status = $1, failure_reason = $2, lease_until = NULL \
         WHERE id = $3 AND status = 'pending'",
        args![refund.status.as_str(), &refund.failure_reason, &refund.id],
    );
    let mut statements = Vec::new();
    if refund.status == RefundStatus::Failed {
        statements.push(Statement::new(
            "UPDATE charges SET amount_refunded = amount_refunded - $1 WHERE id = $2",
            args![refund.amount, &refund.charge_id],
        ));
    }
    super::events::write_if_with_events(db, account_id, refund.livemode, guard, statements, events)
        .await
}

/// Claims up to `limit` pending refunds whose lease has run out, for `lease` seconds (on
/// PostgreSQL with `FOR UPDATE SKIP LOCKED`), with their accounts.
pub async fn claim_pending(
    db: &Db,
    now: i64,
    lease: i64,
    limit: i64,
) -> StoreResult<Vec<(String, Refund)>> {
    let lock = match db.engine() {
        super::Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        super::Engine::Sqlite => "",
    };
    let sql = format!(
        "UPDATE refunds SET lease_until = $1 WHERE id IN (SELECT id FROM refunds WHERE status = 'pending' \
         AND lease_until <= $2 ORDER BY lease_until LIMIT $3{lock}) RETURNING {}",
        RefundRow::COLUMNS
    );
    let rows: Vec<RefundRow> = db
        .write_returning(&sql, &args![now + lease, now, limit])
        .await?;
    Ok(rows.into_iter().map(RefundRow::into_refund).collect())
}

pub async fn get(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<Refund>> {
    let sql = format!(
        "SELECT {} FROM refunds WHERE id = $1 AND account_id = $2 AND livemode = $3",
        RefundRow::COLUMNS
    );
    let row: Option<RefundRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(|r| r.into_refund().1))
}

/// Refunds, newest first.
pub async fn list(
    db: &Db,
    caller: &Caller,
    filter: &RefundFilter,
    page: &PageRequest,
) -> StoreResult<Page<Refund>> {
    let mut select = Select::new(RefundRow::COLUMNS, "refunds");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.filter_text("charge_id = ?", filter.charge.as_deref());
    select.filter_text("payment_intent_id = ?", filter.payment_intent.as_deref());
    select.created("created", &filter.created);
    let rows: Page<RefundRow> = select.fetch_page(db, "id", page).await?;
    Ok(rows.map(|r| r.into_refund().1))
}

/// A charge's refunds, newest first (at most 100: Stripe's page of `charge.refunds`), and
/// whether there are more.
pub async fn of_charge(
    db: &Db,
    caller: &Caller,
    charge_id: &str,
) -> StoreResult<(Vec<Refund>, bool)> {
    let filter = RefundFilter {
        charge: Some(charge_id.to_string()),
        ..RefundFilter::default()
    };
    let page = PageRequest::new(Some(100), 100, None, None, None).expect("a page of 100 is valid");
    let page = list(db, caller, &filter, &page).await?;
    Ok((page.items, page.has_more))
}

pub async fn update_metadata(db: &Db, caller: &Caller, refund: &Refund) -> StoreResult<()> {
    db.execute(
        "UPDATE refunds SET metadata = $1 WHERE id = $2 AND account_id = $3 AND livemode = $4",
        &args![
            refund.metadata.to_json(),
            &refund.id,
            &caller.account_id,
            caller.mode.is_live()
        ],
    )
    .await?;
    Ok(())
}
