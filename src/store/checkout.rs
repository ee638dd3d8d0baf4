//! Checkout sessions, their line items, and events.

use super::billing;
use super::counts;
use super::customers::customer_insert;
use super::events::{insert_event, insert_events, write_if_with_events};
use super::payment_methods::payment_method_insert;
use super::payments::{
    charge_insert, payment_intent_upsert, setup_intent_insert, upsert_payment_intent,
};
use super::query::Select;
use super::{Db, FromRow, Row, Statement, StoreResult, Tx, args, row_struct};
use crate::domain::accounts::{Account, Caller};
use crate::domain::billing::checkout::Started;
use crate::domain::catalog::AdjustableQuantity;
use crate::domain::checkout::{
    CheckoutMode, LineItem, NewSession, PaymentStatus, Session, SessionFilter, SessionState,
};
use crate::domain::customers::Customer;
use crate::domain::events::Event;
use crate::domain::list::{Page, PageRequest};
use crate::domain::metadata::Metadata;
use crate::domain::money::Currency;
use crate::domain::payment_methods::PaymentMethod;
use crate::domain::payments::{Charge, PaymentIntent, SetupIntent};

row_struct! {
    struct SessionRow {
        id: String,
        account_id: String,
        livemode: bool,
        state: String,
        mode: String,
        payment_status: String,
        currency: String,
        amount_subtotal: i64,
        amount_total: i64,
        product_name: String,
        product_description: Option<String>,
        success_url: Option<String>,
        cancel_url: Option<String>,
        customer_id: Option<String>,
        customer_email: Option<String>,
        client_reference_id: Option<String>,
        external_customer_id: Option<String>,
        payment_link_id: Option<String>,
        payment_intent_id: Option<String>,
        setup_intent_id: Option<String>,
        metadata: String,
        settings: String,
        customer_details: Option<String>,
        declined_attempts: i64,
        created: i64,
        updated: i64,
        expires_at: i64,
        completed_at: Option<i64>,
        subscription_id: Option<String>,
        invoice_id: Option<String>,
        test_clock_id: Option<String>,
    }
}

const SESSION_COLUMNS: &str = SessionRow::COLUMNS;

impl SessionRow {
    fn into_session(self) -> (String, Session) {
        let session = Session {
            id: self.id,
            livemode: self.livemode,
            state: SessionState::from_stored(&self.state),
            mode: CheckoutMode::parse(&self.mode, "").unwrap_or(CheckoutMode::Payment),
            payment_status: PaymentStatus::from_stored(&self.payment_status),
            currency: Currency::from_stored(self.currency),
            amount_subtotal: self.amount_subtotal,
            amount_total: self.amount_total,
            product_name: self.product_name,
            product_description: self.product_description,
            success_url: self.success_url,
            cancel_url: self.cancel_url,
            customer_id: self.customer_id,
            customer_email: self.customer_email,
            client_reference_id: self.client_reference_id,
            external_customer_id: self.external_customer_id,
            payment_link_id: self.payment_link_id,
            payment_intent_id: self.payment_intent_id,
            setup_intent_id: self.setup_intent_id,
            subscription_id: self.subscription_id,
            invoice_id: self.invoice_id,
            test_clock_id: self.test_clock_id,
            metadata: Metadata::from_json(&self.metadata),
            settings: serde_json::from_str(&self.settings).unwrap_or_default(),
            customer_details: self
                .customer_details
                .and_then(|d| serde_json::from_str(&d).ok()),
            declined_attempts: self.declined_attempts,
            created: self.created,
            updated: self.updated,
            expires_at: self.expires_at,
            completed_at: self.completed_at,
        };
        (self.account_id, session)
    }
}

const INSERT_SESSION: &str = "INSERT INTO checkout_sessions (id, account_id, livemode, state, mode, \
     payment_status, currency, amount_subtotal, amount_total, product_name, product_description, success_url, \
     cancel_url, customer_id, customer_email, client_reference_id, external_customer_id, payment_link_id, \
     payment_intent_id, setup_intent_id, metadata, settings, customer_details, declined_attempts, created, updated, \
     expires_at, completed_at, test_clock_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
     $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)";

const INSERT_LINE_ITEM: &str = "INSERT INTO checkout_line_items (id, session_id, position, price_id, description, \
     currency, unit_amount, quantity, adjustable_enabled, adjustable_minimum, adjustable_maximum, amount_subtotal, \
     amount_total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// The INSERT of a session's row.
fn session_insert<'a>(caller: &'a Caller, s: &'a Session) -> Statement<'a> {
    Statement::new(
        INSERT_SESSION,
        args![
            &s.id,
            &caller.account_id,
            s.livemode,
            s.state.as_str(),
            s.mode.as_str(),
            s.payment_status.as_str(),
            s.currency.as_str(),
            s.amount_subtotal,
            s.amount_total,
            &s.product_name,
            &s.product_description,
            &s.success_url,
            &s.cancel_url,
            &s.customer_id,
            &s.customer_email,
            &s.client_reference_id,
            &s.external_customer_id,
            &s.payment_link_id,
            &s.payment_intent_id,
            &s.setup_intent_id,
            s.metadata.to_json(),
            serde_json::Value::Object(s.settings.clone()).to_string(),
            s.customer_details.as_ref().map(|d| d.to_string()),
            s.declined_attempts,
            s.created,
            s.updated,
            s.expires_at,
            s.completed_at,
            &s.test_clock_id
        ],
    )
}

/// The INSERT of a line item of session `session_id`, at `position`.
fn line_item_insert<'a>(session_id: &'a str, position: usize, item: &'a LineItem) -> Statement<'a> {
    let adjustable = item.adjustable_quantity.filter(|a| a.enabled);
    Statement::new(
        INSERT_LINE_ITEM,
        args![
            &item.id,
            session_id,
            position as i64,
            &item.price.id,
            &item.description,
            item.price.terms.currency.as_str(),
            item.unit_amount,
            item.quantity,
            adjustable.is_some(),
            adjustable.and_then(|a| a.minimum),
            adjustable.and_then(|a| a.maximum),
            item.amount_subtotal,
            item.amount_total
        ],
    )
}

/// Moves one session from the total of state `from` to that of `to`, inside `tx`.
async fn move_count(
    tx: &mut Tx<'_>,
    account_id: &str,
    livemode: bool,
    from: &str,
    to: &str,
) -> StoreResult<()> {
    for statement in move_count_statements(account_id, livemode, from, to) {
        tx.run(&statement).await?;
    }
    Ok(())
}

/// The statements of [`move_count`].
fn move_count_statements<'a>(
    account_id: &'a str,
    livemode: bool,
    from: &'a str,
    to: &'a str,
) -> [Statement<'a>; 2] {
    [
        counts::bump_statement(account_id, livemode, counts::SESSIONS, from, -1),
        counts::bump_statement(account_id, livemode, counts::SESSIONS, to, 1),
    ]
}

/// Inserts everything a new session adds (its inline products and prices, the session, its line
/// items, the running total) in one short transaction.
pub async fn insert_session(db: &Db, caller: &Caller, new: &NewSession) -> StoreResult<()> {
    for product in &new.products {
        debug_assert!(
            product.default_price.is_none(),
            "inline products have no default price"
        );
    }
    let s = &new.session;
    // Creating sessions is the hottest write: its rows go in as one batch of statements, one
    // round trip on PostgreSQL.
    let mut statements =
        Vec::with_capacity(new.products.len() + new.prices.len() + new.items.len() + 2);
    statements.extend(
        new.products
            .iter()
            .map(|p| super::catalog::product_insert(caller, p)),
    );
    statements.extend(
        new.prices
            .iter()
            .map(|p| super::catalog::price_insert(caller, p)),
    );
    statements.push(session_insert(caller, s));
    statements.extend(
        new.items
            .iter()
            .enumerate()
            .map(|(position, item)| line_item_insert(&s.id, position, item)),
    );
    statements.push(counts::bump_statement(
        &caller.account_id,
        s.livemode,
        counts::SESSIONS,
        "open",
        1,
    ));
    db.write_statements(&statements).await
}

pub async fn get_session(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<Session>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM checkout_sessions WHERE id = $1 AND account_id = $2 AND livemode = $3"
    );
    let row: Option<SessionRow> = db
        .fetch_optional(&sql, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(|r| r.into_session().1))
}

row_struct! {
    struct LineItemRow {
        id: String,
        description: String,
        unit_amount: i64,
        quantity: i64,
        adjustable_enabled: bool,
        adjustable_minimum: Option<i64>,
        adjustable_maximum: Option<i64>,
        amount_subtotal: i64,
        amount_total: i64,
    }
}

/// A line item's row, then its price's columns.
struct LineItemWithPrice(LineItemRow, Option<crate::domain::catalog::Price>);

impl FromRow for LineItemWithPrice {
    fn from_row(row: &Row<'_>) -> StoreResult<Self> {
        Ok(LineItemWithPrice(
            LineItemRow::from_row(row)?,
            super::catalog::read_price(row, LineItemRow::COUNT)?,
        ))
    }
}

/// A session's line items with their prices, in one query.
pub async fn line_items(db: &Db, caller: &Caller, session_id: &str) -> StoreResult<Vec<LineItem>> {
    const SQL: &str = concat!(
        "SELECT li.id, li.description, li.unit_amount, li.quantity, li.adjustable_enabled, ",
        "li.adjustable_minimum, li.adjustable_maximum, li.amount_subtotal, li.amount_total, ",
        super::catalog::price_columns!("pr."),
        " FROM checkout_line_items li JOIN checkout_sessions s ON s.id = li.session_id ",
        "LEFT JOIN prices pr ON pr.id = li.price_id ",
        "WHERE li.session_id = $1 AND s.account_id = $2 AND s.livemode = $3 ORDER BY li.position"
    );
    let rows: Vec<LineItemWithPrice> = db
        .fetch_all(
            SQL,
            &args![session_id, &caller.account_id, caller.mode.is_live()],
        )
        .await?;
    rows.into_iter()
        .map(|LineItemWithPrice(row, price)| {
            let price = price.ok_or_else(|| super::StoreError::Corrupt {
                what: format!("line item {}", row.id),
                reason: "its price is missing".into(),
            })?;
            Ok(LineItem {
                id: row.id,
                price,
                description: row.description,
                unit_amount: row.unit_amount,
                quantity: row.quantity,
                adjustable_quantity: row.adjustable_enabled.then_some(AdjustableQuantity {
                    enabled: true,
                    minimum: row.adjustable_minimum,
                    maximum: row.adjustable_maximum,
                }),
                amount_subtotal: row.amount_subtotal,
                amount_total: row.amount_total,
            })
        })
        .collect()
}

fn session_filters(caller: &Caller, filter: &SessionFilter) -> Select {
    let mut select = Select::new(SESSION_COLUMNS, "checkout_sessions");
    select.scope("", &caller.account_id, caller.mode.is_live());
    if let Some(states) = &filter.states {
        let states: Vec<String> = states.iter().map(|s| s.as_str().to_string()).collect();
        select.filter_in("state", &states);
    }
    select.filter_text(
        "external_customer_id = ?",
        filter.external_customer_id.as_deref(),
    );
    select.filter_text("customer_id = ?", filter.customer.as_deref());
    select.filter_text("customer_email = ?", filter.customer_email.as_deref());
    select.filter_text("payment_link_id = ?", filter.payment_link.as_deref());
    select.filter_text("payment_intent_id = ?", filter.payment_intent.as_deref());
    select.created("created", &filter.created);
    select
}

pub async fn list_sessions(
    db: &Db,
    caller: &Caller,
    filter: &SessionFilter,
    page: &PageRequest,
) -> StoreResult<Page<Session>> {
    let rows: Page<SessionRow> = session_filters(caller, filter)
        .fetch_page(db, "id", page)
        .await?;
    Ok(rows.map(|r| r.into_session().1))
}

/// How many sessions match `filter`: from the running totals when only the state is filtered,
/// else by counting the filter's own index range (one customer's or one link's sessions).
pub async fn count_sessions(db: &Db, caller: &Caller, filter: &SessionFilter) -> StoreResult<u64> {
    let only_states = SessionFilter {
        states: filter.states.clone(),
        ..Default::default()
    };
    if *filter == only_states {
        let states = filter
            .states
            .clone()
            .unwrap_or_else(|| SessionState::ALL.to_vec());
        let keys: Vec<String> = states.iter().map(|s| s.as_str().to_string()).collect();
        return counts::sum(
            db,
            &caller.account_id,
            caller.mode.is_live(),
            counts::SESSIONS,
            &keys,
        )
        .await;
    }
    let select = session_filters(caller, filter);
    select.count(db, "checkout_sessions").await
}

/// Open sessions past their deadline, with their account, oldest deadline first: those on the
/// test clock `clock` by its time, or those on no clock by real time.
pub async fn overdue_sessions(
    db: &Db,
    clock: Option<&str>,
    now: i64,
    limit: i64,
) -> StoreResult<Vec<(String, Session)>> {
    let mut select = Select::new(SESSION_COLUMNS, "checkout_sessions");
    select.condition("state = 'open'");
    match clock {
        Some(clock) => select.filter("test_clock_id = ?", clock.to_string()),
        None => select.condition("test_clock_id IS NULL"),
    };
    select.filter("expires_at <= ?", now);
    let (sql, args) = select.oldest_first_sql("expires_at", limit);
    let rows: Vec<SessionRow> = db.fetch_all(&sql, &args).await?;
    Ok(rows.into_iter().map(SessionRow::into_session).collect())
}

/// Moves an open session to `to` and records `event`, in one transaction. Returns false, having
/// written nothing, when the session was not open any more: the update is conditional on the
/// state, so of two racing transitions exactly one happens.
pub async fn transition(
    db: &Db,
    session_id: &str,
    to: SessionState,
    now: i64,
    event: &Event,
) -> StoreResult<bool> {
    db.write(async |tx| {
        let changed = tx
            .execute(
                "UPDATE checkout_sessions SET state = $1, updated = $2 WHERE id = $3 AND state = 'open'",
                &args![to.as_str(), now, session_id],
            )
            .await?
            == 1;
        if !changed {
            return Ok(false);
        }
        insert_event(tx, event).await?;
        move_count(tx, &event.account_id, event.livemode, "open", to.as_str()).await?;
        Ok(true)
    })
    .await
}

/// Saves the amounts of a session's line items inside `tx`.
async fn save_line_items(
    tx: &mut Tx<'_>,
    session: &Session,
    items: &[LineItem],
) -> StoreResult<()> {
    for item in items {
        tx.execute(
            "UPDATE checkout_line_items SET currency = $1, unit_amount = $2, quantity = $3, \
             amount_subtotal = $4, amount_total = $5 WHERE id = $6",
            &args![
                session.currency.as_str(),
                item.unit_amount,
                item.quantity,
                item.amount_subtotal,
                item.amount_total,
                &item.id
            ],
        )
        .await?;
    }
    Ok(())
}

/// Saves the customer's choices on the hosted page (quantities, chosen amounts): the line
/// items and the totals only, so a merchant's concurrent change to other fields is kept. Only
/// while the session is open; returns whether it was.
pub async fn save_choices(db: &Db, session: &Session, items: &[LineItem]) -> StoreResult<bool> {
    db.write(async |tx| {
        let changed = tx
            .execute(
                "UPDATE checkout_sessions SET amount_subtotal = $1, amount_total = $2, payment_status = $3, \
                 updated = $4 WHERE id = $5 AND state = 'open'",
                &args![
                    session.amount_subtotal,
                    session.amount_total,
                    session.payment_status.as_str(),
                    session.updated,
                    &session.id
                ],
            )
            .await?
            == 1;
        if changed {
            save_line_items(tx, session, items).await?;
        }
        Ok(changed)
    })
    .await
}

/// Saves an open session's changed fields (and its line items, when given), only if it is
/// still open. Returns whether it was.
pub async fn update_open_session(
    db: &Db,
    session: &Session,
    items: Option<&[LineItem]>,
) -> StoreResult<bool> {
    db.write(async |tx| {
        let changed = tx
            .execute(
                "UPDATE checkout_sessions SET currency = $1, amount_subtotal = $2, amount_total = $3, \
                 product_name = $4, product_description = $5, success_url = $6, cancel_url = $7, \
                 external_customer_id = $8, expires_at = $9, metadata = $10, settings = $11, payment_status = $12, \
                 updated = $13 WHERE id = $14 AND state = 'open'",
                &args![
                    session.currency.as_str(),
                    session.amount_subtotal,
                    session.amount_total,
                    &session.product_name,
                    &session.product_description,
                    &session.success_url,
                    &session.cancel_url,
                    &session.external_customer_id,
                    session.expires_at,
                    session.metadata.to_json(),
                    serde_json::Value::Object(session.settings.clone()).to_string(),
                    session.payment_status.as_str(),
                    session.updated,
                    &session.id
                ],
            )
            .await?
            == 1;
        if changed {
            save_line_items(tx, session, items.unwrap_or_default()).await?;
        }
        Ok(changed)
    })
    .await
}

/// What paying a session writes besides the session itself.
pub struct CompletionWrites<'a> {
    pub payment: Option<&'a PaymentIntent>,
    /// The payment's charge.
    pub charge: Option<&'a Charge>,
    pub setup: Option<&'a SetupIntent>,
    /// A customer created by this payment (`customer_creation`, or a subscription's).
    pub customer: Option<&'a Customer>,
    /// In subscription mode: the subscription and its first invoice.
    pub started: Option<&'a Started>,
    /// The card used, as a PaymentMethod (written after the customer it may be attached to).
    pub payment_method: Option<&'a PaymentMethod>,
    pub events: &'a [Event],
}

/// Saves a completed session with its payment (or saved card), new customer and events, in
/// one transaction, if the session is still open and still totals what was charged (a
/// quantity changed in another tab meanwhile makes it fail). Returns whether it did.
///
/// Paying is the hot path after creating: the endpoints that want its events are read first,
/// and the rows then go in as one conditional batch ([`Db::write_statements_if`]), one round
/// trip on PostgreSQL.
pub async fn complete(
    db: &Db,
    account_id: &str,
    session: &Session,
    writes: CompletionWrites<'_>,
) -> StoreResult<bool> {
    let CompletionWrites {
        payment,
        charge,
        setup,
        customer,
        started,
        payment_method,
        events,
    } = writes;
    let guard = Statement::new(
        "UPDATE checkout_sessions SET state = 'completed', payment_status = $1, payment_intent_id = $2, \
         setup_intent_id = $3, customer_id = $4, customer_details = $5, completed_at = $6, updated = $6, \
         subscription_id = $9, invoice_id = $10 WHERE id = $7 AND state = 'open' AND amount_total = $8",
        args![
            session.payment_status.as_str(),
            &session.payment_intent_id,
            &session.setup_intent_id,
            &session.customer_id,
            session.customer_details.as_ref().map(|d| d.to_string()),
            session.completed_at,
            &session.id,
            session.amount_total,
            &session.subscription_id,
            &session.invoice_id
        ],
    );
    let mut statements = Vec::with_capacity(9);
    statements.extend(payment.map(|p| payment_intent_upsert(account_id, p)));
    statements.extend(charge.map(|c| charge_insert(account_id, c)));
    statements.extend(setup.map(|s| setup_intent_insert(account_id, s)));
    statements.extend(customer.map(|c| customer_insert(account_id, c)));
    statements.extend(payment_method.map(|m| payment_method_insert(account_id, m)));
    if let Some(Started {
        subscription,
        invoice,
        ..
    }) = started
    {
        statements.push(billing::subscription_insert(account_id, subscription));
        statements.extend(
            subscription
                .items
                .iter()
                .enumerate()
                .map(|(n, item)| billing::subscription_item_insert(item, n)),
        );
        statements.push(billing::invoice_insert(account_id, invoice));
        statements.extend(
            invoice
                .lines
                .iter()
                .enumerate()
                .map(|(n, line)| billing::invoice_line_insert(line, n)),
        );
    }
    statements.extend(move_count_statements(
        account_id,
        session.livemode,
        "open",
        "completed",
    ));
    write_if_with_events(db, account_id, session.livemode, guard, statements, events).await
}

/// A session's current state, whoever owns it.
pub async fn state_of(db: &Db, session_id: &str) -> StoreResult<Option<SessionState>> {
    let state: Option<(String,)> = db
        .write(async |tx| {
            tx.fetch_optional(
                "SELECT state FROM checkout_sessions WHERE id = $1",
                &args![session_id],
            )
            .await
        })
        .await?;
    Ok(state.map(|(s,)| SessionState::from_stored(&s)))
}

pub async fn update_metadata(db: &Db, session: &Session) -> StoreResult<()> {
    db.write(async |tx| {
        tx.execute(
            "UPDATE checkout_sessions SET metadata = $1, updated = $2 WHERE id = $3",
            &args![session.metadata.to_json(), session.updated, &session.id],
        )
        .await
    })
    .await?;
    Ok(())
}

/// What a declined attempt writes.
pub struct DeclineWrites<'a> {
    /// The session's PaymentIntent, waiting for another card.
    pub payment: &'a PaymentIntent,
    /// The failed charge.
    pub charge: &'a Charge,
    /// The declined card, as a PaymentMethod used without being attached.
    pub payment_method: &'a PaymentMethod,
    /// `charge.failed` and `payment_intent.payment_failed`.
    pub events: &'a [Event],
    /// The session's event if this decline makes it fail.
    pub failed_event: &'a Event,
}

/// What recording a declined attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineRecorded {
    /// The session was no longer open; nothing was written.
    NotOpen,
    /// The session stays open; this many attempts have been declined so far.
    Declined { attempts: i64 },
    /// This decline was the last one allowed: the session failed.
    Failed,
}

/// Counts a declined attempt on an open session and saves its PaymentIntent, the declined card's
/// PaymentMethod, its failed charge and events, in one transaction. At `fail_at` declines the session fails, with `failed_event`. The count is one
/// atomic increment, so concurrent declines are all counted.
pub async fn record_decline(
    db: &Db,
    account_id: &str,
    session: &Session,
    writes: DeclineWrites<'_>,
    fail_at: i64,
) -> StoreResult<DeclineRecorded> {
    let DeclineWrites {
        payment,
        charge,
        payment_method,
        events,
        failed_event,
    } = writes;
    db.write(async |tx| {
        let attempts: Option<(i64,)> = tx
            .fetch_optional(
                "UPDATE checkout_sessions SET declined_attempts = declined_attempts + 1, payment_intent_id = $1, \
                 updated = $2 WHERE id = $3 AND state = 'open' RETURNING declined_attempts",
                &args![&payment.id, failed_event.created, &session.id],
            )
            .await?;
        let Some((attempts,)) = attempts else {
            return Ok(DeclineRecorded::NotOpen);
        };
        upsert_payment_intent(tx, account_id, payment).await?;
        tx.run(&payment_method_insert(account_id, payment_method))
            .await?;
        tx.run(&charge_insert(account_id, charge)).await?;
        insert_events(tx, events).await?;
        if attempts < fail_at {
            return Ok(DeclineRecorded::Declined { attempts });
        }
        tx.execute(
            "UPDATE checkout_sessions SET state = 'failed' WHERE id = $1",
            &args![&session.id],
        )
        .await?;
        insert_event(tx, failed_event).await?;
        move_count(tx, account_id, session.livemode, "open", "failed").await?;
        Ok(DeclineRecorded::Failed)
    })
    .await
}

/// A session by id alone, with the account that owns it: for the hosted page, where the id
/// itself is the capability. One query.
pub async fn find_session(db: &Db, id: &str) -> StoreResult<Option<(Account, Session)>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS}, (SELECT a.name FROM accounts a WHERE a.id = account_id), \
         (SELECT a.created FROM accounts a WHERE a.id = account_id) FROM checkout_sessions WHERE id = $1"
    );
    let row: Option<SessionWithAccount> = db.fetch_optional(&sql, &args![id]).await?;
    Ok(row.map(|SessionWithAccount(row, name, created)| {
        let (account_id, session) = row.into_session();
        let account = Account {
            id: account_id,
            name,
            created,
        };
        (account, session)
    }))
}

/// A session's row, then its account's name and creation time.
struct SessionWithAccount(SessionRow, String, i64);

impl FromRow for SessionWithAccount {
    fn from_row(row: &Row<'_>) -> StoreResult<Self> {
        Ok(SessionWithAccount(
            SessionRow::from_row(row)?,
            row.get(SessionRow::COUNT)?,
            row.get(SessionRow::COUNT + 1)?,
        ))
    }
}
