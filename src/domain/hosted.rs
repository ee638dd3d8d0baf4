//! Hosted checkout: what the customer does on a session's page. The session id in the URL is
//! the capability; these operations find the account from it.
//!
//! Paying goes: the customer's choices (quantities, a chosen amount) are saved while the
//! session is open, the card is checked by the processor, then the session is completed (or
//! the decline counted) in one transaction conditional on the session being open and totalling
//! what was charged, so a double submit, two tabs or two processes complete it once. The test
//! processor moves no money; a real one will also need the attempt claimed before charging and
//! the processor's own idempotency key, so that a losing racer's charge is never made.

use std::collections::BTreeMap;

use super::accounts::{Account, Caller};
use super::billing::engine::{Processor, SimulatedProcessor};
use super::checkout::{
    self, CheckoutMode, Completion, LineItem, PaidWith, PaymentStatus, Session, SessionState,
};
use super::money::MAX_CHARGE;
use super::payments::CardSummary;
use super::processor::{self, CardDetails, Decline, year_month};
use super::{DomainError, validate};
use crate::metrics::{AttemptOutcome, SessionOutcome};
use crate::objects;
use crate::store::checkout::DeclineRecorded;
use crate::store::{self, Db};

/// After this many declined attempts a session fails (card-testing protection).
pub const MAX_DECLINES: i64 = 5;

/// Quantities an adjustable line allows when the merchant gave no bounds (Stripe's defaults).
const DEFAULT_MIN_QUANTITY: i64 = 1;
const DEFAULT_MAX_QUANTITY: i64 = 99;

/// A session as its hosted page shows it.
#[derive(Debug, Clone)]
pub struct HostedSession {
    pub account: Account,
    pub session: Session,
    pub lines: Vec<LineItem>,
    /// What the session's payment link says after payment, if it came from one that says
    /// something.
    pub confirmation_message: Option<String>,
    /// The receipt of a completed session's payment, if it took one.
    pub receipt_url: Option<String>,
    /// The address the receipt was emailed to, if it was (or is being).
    pub receipt_emailed_to: Option<String>,
    /// The session's time, unix seconds: its test clock's, if it is on one.
    pub now: i64,
}

impl HostedSession {
    fn caller(&self) -> Caller {
        Caller::without_key(&self.account.id, self.session.livemode)
    }

    /// Whether the customer must give a card: a payment is due, or the session saves one.
    pub fn needs_card(&self) -> bool {
        self.session.payment_status == PaymentStatus::Unpaid || self.session.saves_card()
    }

    /// The bounds the customer may choose a line's quantity within, if it is adjustable.
    pub fn quantity_bounds(line: &LineItem) -> Option<(i64, i64)> {
        line.adjustable_quantity
            .as_ref()
            .filter(|a| a.enabled)
            .map(|a| {
                (
                    a.minimum.unwrap_or(DEFAULT_MIN_QUANTITY),
                    a.maximum.unwrap_or(DEFAULT_MAX_QUANTITY),
                )
            })
    }

    /// The bounds (minor units) of the amount the customer chooses on a line, if they choose it.
    pub fn amount_bounds(line: &LineItem) -> Option<(i64, i64)> {
        // Without a minimum, at least one minor unit: a customer-chosen amount is never free.
        line.price.terms.custom.as_ref().map(|c| {
            (
                c.minimum.unwrap_or(1).max(1),
                c.maximum.unwrap_or(MAX_CHARGE),
            )
        })
    }

    /// The least amount the page offers for `line`, whose amount the customer chooses: its own
    /// minimum, raised to the currency's minimum charge when the line alone makes the total
    /// (the session's only line, sold once), since no smaller total can be charged.
    pub fn least_amount(&self, line: &LineItem) -> Option<i64> {
        let (minimum, _) = Self::amount_bounds(line)?;
        let alone =
            self.lines.len() == 1 && line.quantity == 1 && Self::quantity_bounds(line).is_none();
        Some(if alone {
            minimum.max(self.session.currency.minimum_charge())
        } else {
            minimum
        })
    }
}

/// Loads a session for its page. An open session past its deadline is expired first.
pub async fn load(
    db: &Db,
    id: &str,
    now: i64,
    public_url: &str,
) -> Result<HostedSession, DomainError> {
    let (account, session) = store::checkout::find_session(db, id)
        .await?
        .ok_or_else(|| DomainError::not_found("checkout.session", id))?;
    let caller = Caller::without_key(&account.id, session.livemode);
    // As in the merchant's view, a session past its deadline is expired on reading.
    let session = checkout::expire_if_overdue(db, &caller, session, now, public_url).await?;
    let now = super::test_clocks::time_of(db, session.test_clock_id.as_deref(), now).await?;
    let lines = checkout::line_items(db, &caller, id).await?;
    let confirmation_message = match (&session.state, &session.payment_link_id) {
        (SessionState::Completed, Some(link)) => {
            super::catalog::get_payment_link(db, &caller, link)
                .await?
                .confirmation_message
        }
        _ => None,
    };
    let charge = paid_charge(db, &caller, &session).await?;
    let receipt_url = charge.as_ref().and_then(|c| c.receipt_url(public_url));
    let receipt_emailed_to = match &charge {
        Some(charge) => receipt_emailed_to(db, &caller, &charge.id).await?,
        None => None,
    };
    Ok(HostedSession {
        account,
        session,
        lines,
        confirmation_message,
        receipt_url,
        receipt_emailed_to,
        now,
    })
}

/// The charge that paid a completed session, if one did (a session that saved a card after a
/// declined one has only that declined charge).
async fn paid_charge(
    db: &Db,
    caller: &Caller,
    session: &Session,
) -> Result<Option<super::payments::Charge>, DomainError> {
    let intent = match (&session.state, &session.payment_intent_id) {
        (SessionState::Completed, Some(intent))
            if session.payment_status == PaymentStatus::Paid =>
        {
            super::payments::get_payment_intent(db, caller, intent).await?
        }
        _ => return Ok(None),
    };
    let Some(charge) = intent.latest_charge else {
        return Ok(None);
    };
    let charge = super::payments::get_charge(db, caller, &charge).await?;
    Ok(charge.succeeded().then_some(charge))
}

/// Where the receipt of `charge` was emailed, or is on its way: only a receipt queued on a
/// server with SMTP and not given up on counts, so that no page promises an email that never
/// goes.
async fn receipt_emailed_to(
    db: &Db,
    caller: &Caller,
    charge: &str,
) -> Result<Option<String>, DomainError> {
    let emails = store::emails::of_object(db, caller, charge).await?;
    Ok(emails
        .into_iter()
        .find(|e| e.kind == "receipt" && matches!(e.state.as_str(), "pending" | "sent"))
        .map(|e| e.recipient))
}

/// What the customer chose, as typed, by line item id.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// Quantities of lines whose quantity is adjustable.
    pub quantities: BTreeMap<String, String>,
    /// Amounts in major units, for lines whose price lets the customer choose.
    pub amounts: BTreeMap<String, String>,
    /// How errors name the fields the choices came from.
    pub names: FieldNames,
}

/// How the fields of a customer's choices are named in errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldNames {
    /// The hosted page's form: `quantity[li_...]`, `amount[li_...]`.
    #[default]
    Page,
    /// The test-payment API: `line_items[i][quantity]` (i the line's index) and `amount`.
    Api,
}

impl FieldNames {
    fn quantity(self, index: usize, line_id: &str) -> String {
        match self {
            FieldNames::Page => format!("quantity[{line_id}]"),
            FieldNames::Api => format!("line_items[{index}][quantity]"),
        }
    }

    fn amount(self, line_id: &str) -> String {
        match self {
            FieldNames::Page => format!("amount[{line_id}]"),
            FieldNames::Api => "amount".to_string(),
        }
    }
}

/// Applies the customer's choices to the lines and totals, and checks that the total can be
/// charged (it is checked at every payment, whatever was chosen). Returns whether anything
/// changed.
fn apply_choices(hosted: &mut HostedSession, choices: &Choices) -> Result<bool, DomainError> {
    let names = choices.names;
    // A choice for a line that offers none is a mistake, never ignored.
    for id in choices.quantities.keys() {
        let index = hosted.lines.iter().position(|l| &l.id == id);
        let line = index.map(|i| &hosted.lines[i]);
        if line.and_then(HostedSession::quantity_bounds).is_none() {
            return Err(DomainError::invalid(
                names.quantity(index.unwrap_or_default(), id),
                "this line's quantity is not adjustable",
            ));
        }
    }
    for id in choices.amounts.keys() {
        let line = hosted.lines.iter().find(|l| &l.id == id);
        if line.and_then(HostedSession::amount_bounds).is_none() {
            return Err(DomainError::invalid(
                names.amount(id),
                "this line's amount is set by its price, not chosen",
            ));
        }
    }
    let currency = hosted.session.currency.clone();
    let mut changed = false;
    // What set the total, named if it cannot be charged: a chosen amount, else a quantity.
    let (mut amount_param, mut quantity_param) = (None, None);
    for (index, line) in hosted.lines.iter_mut().enumerate() {
        if let (Some(text), Some((min, max))) = (
            choices.quantities.get(&line.id),
            HostedSession::quantity_bounds(line),
        ) {
            let param = names.quantity(index, &line.id);
            let quantity = text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|q| (min..=max).contains(q))
                .ok_or_else(|| {
                    DomainError::invalid(&param, format!("choose a quantity from {min} to {max}"))
                })?;
            changed |= quantity != line.quantity;
            line.quantity = quantity;
            quantity_param.get_or_insert(param);
        }
        if let Some((min, max)) = HostedSession::amount_bounds(line) {
            let param = names.amount(&line.id);
            let amount = match choices.amounts.get(&line.id) {
                Some(text) => currency.parse_major(text.trim(), &param)?,
                // Not chosen now: what was chosen before, or the preset.
                None => line.unit_amount,
            };
            if amount > max && max == MAX_CHARGE {
                // No maximum of the merchant's: the largest charge is the bound.
                currency.check_payable_total(amount, &param)?;
            }
            if !(min..=max).contains(&amount) {
                let message = if max == MAX_CHARGE {
                    format!("choose an amount of at least {}", currency.display(min))
                } else {
                    format!(
                        "choose an amount from {} to {}",
                        currency.display(min),
                        currency.display(max)
                    )
                };
                return Err(DomainError::invalid(&param, message));
            }
            changed |= amount != line.unit_amount;
            line.unit_amount = amount;
            amount_param.get_or_insert(param);
        }
        line.amount_subtotal = line.unit_amount * line.quantity;
        line.amount_total = line.amount_subtotal;
    }
    // Unit amounts are at most money::MAX_AMOUNT and quantities 1000: no overflow.
    let total = hosted.session.due_now(&hosted.lines);
    let param = amount_param
        .or(quantity_param)
        .unwrap_or_else(|| "line_items".to_string());
    currency.check_payable_total(total, &param)?;
    if changed {
        let session = &mut hosted.session;
        session.amount_subtotal = total;
        session.amount_total = total;
        if session.mode != CheckoutMode::Setup {
            session.payment_status = if total == 0 {
                PaymentStatus::NoPaymentRequired
            } else {
                PaymentStatus::Unpaid
            };
        }
    }
    Ok(changed)
}

/// Saves the customer's choices on an open session (the page's "Update" without paying).
pub async fn update_choices(
    db: &Db,
    hosted: &mut HostedSession,
    choices: &Choices,
    now: i64,
) -> Result<bool, DomainError> {
    if !apply_choices(hosted, choices)? {
        return Ok(true);
    }
    hosted.session.updated = now;
    Ok(store::checkout::save_choices(db, &hosted.session, &hosted.lines).await?)
}

/// The payment form as submitted. The card's fields are raw text, used for this one attempt
/// and never kept; `Debug` leaves them out.
#[derive(Clone, Default)]
pub struct PaymentForm {
    /// The page always sends one (it is a required field); the test-payment API may not.
    pub email: Option<String>,
    pub name: String,
    pub card_number: String,
    pub card_expiry: String,
    pub card_cvc: String,
    pub choices: Choices,
}

impl PaymentForm {
    /// A form with a test card number, its other card fields as any valid card would fill
    /// them: an expiry in December five years after `now`, and a CVC of the brand's length
    /// (4 digits for Amex, else 3).
    pub fn with_test_card(card_number: String, now: i64) -> PaymentForm {
        let (year, _) = year_month(now);
        let card_cvc = match processor::brand_of(&card_number) {
            "amex" => "1234",
            _ => "123",
        };
        PaymentForm {
            card_number,
            card_expiry: format!("12 / {}", year + 5),
            card_cvc: card_cvc.to_string(),
            ..PaymentForm::default()
        }
    }
}

impl std::fmt::Debug for PaymentForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentForm")
            .field("email", &self.email)
            .field("choices", &self.choices)
            .finish_non_exhaustive()
    }
}

/// How a payment attempt ended.
#[derive(Debug, Clone)]
pub enum PayOutcome {
    Completed(Box<Session>),
    /// kassa refused the card before charging it (an incorrect number, a past expiry, a CVC of
    /// the wrong length): not a decline, the session is open and no attempt was counted.
    /// `field` says which card field is wrong.
    CardRejected(Decline),
    /// The card was declined; the session is still open for another try.
    Declined {
        decline: Decline,
        attempts_left: i64,
    },
    /// The card was declined once too often: the session failed.
    Failed(Decline),
    /// The session had already left open (paid in another tab, expired, canceled...).
    AlreadyFinal(SessionState),
}

/// Pays an open session with the form's card (or completes it without one when nothing is
/// due): the customer's choices are saved, the card charged, then the session completed with
/// its events (`charge.succeeded`, `payment_intent.succeeded`, `checkout.session.completed`),
/// or the decline recorded. Invalid fields other than the card's are `Invalid` errors naming
/// them; a total that cannot be charged is `AmountOutOfBounds`.
pub async fn pay(
    db: &Db,
    id: &str,
    form: PaymentForm,
    now: i64,
    public_url: &str,
) -> Result<PayOutcome, DomainError> {
    let mut hosted = load(db, id, now, public_url).await?;
    if hosted.session.state != SessionState::Open {
        return Ok(PayOutcome::AlreadyFinal(hosted.session.state));
    }
    if hosted.session.livemode {
        return Err(payments_unavailable());
    }
    let email = form
        .email
        .map(|e| checkout::validate_email(&e, "email"))
        .transpose()?;
    let name = validate::optional_text(Some(form.name), "name", 200)?;
    if !update_choices(db, &mut hosted, &form.choices, now).await? {
        return Ok(PayOutcome::AlreadyFinal(current_state(db, id).await?));
    }
    let (card, charge_decline) = if hosted.needs_card() {
        let card = match CardDetails::parse(&form.card_number, &form.card_expiry, &form.card_cvc) {
            Ok(card) => card,
            Err(rejected) => return Ok(PayOutcome::CardRejected(rejected)),
        };
        // A session with nothing due (setup mode, a free trial) saves the card without
        // charging it.
        let answer = if hosted.session.payment_status != PaymentStatus::Unpaid {
            processor::save_test_card(&card, year_month(now))
        } else {
            let started = std::time::Instant::now();
            let charged = processor::charge_test_card(&card, year_month(now));
            record_attempt(&charged, started.elapsed());
            charged
        };
        match answer {
            Ok(summary) => (Some(summary), processor::later_decline(&card)),
            Err(decline) if !decline.reached_processor => {
                return Ok(PayOutcome::CardRejected(decline));
            }
            Err(decline) => {
                let declined = Declined {
                    card: &card,
                    decline,
                    email,
                    name,
                };
                return record_decline(db, &hosted, declined, now, public_url).await;
            }
        }
    } else {
        (None, None)
    };
    let paid = PaidWith {
        card,
        charge_decline,
        email,
        name,
    };
    match checkout::complete_session(
        db,
        &hosted.account.id,
        &hosted.session,
        &hosted.lines,
        paid,
        now,
        public_url,
    )
    .await?
    {
        Completion::Completed { session, .. } => Ok(PayOutcome::Completed(session)),
        Completion::AlreadyFinal(state) => Ok(PayOutcome::AlreadyFinal(state)),
    }
}

/// Counts a charge of a test card that reached the (simulated) processor; a card refused
/// before it (an incorrect number, a past expiry) is no attempt.
fn record_attempt(answer: &Result<CardSummary, Decline>, took: std::time::Duration) {
    let outcome = match answer {
        Ok(_) => AttemptOutcome::Succeeded,
        Err(decline) if decline.reached_processor => AttemptOutcome::Declined,
        Err(_) => return,
    };
    crate::metrics::payment_attempt(SimulatedProcessor::NAME, outcome, took);
}

/// A test payment without a browser (`POST /v1/test_helpers/checkout/sessions/{id}/pay`).
#[derive(Debug, Clone, Default)]
pub struct TestPayment {
    /// A test card number, spaces allowed.
    pub card: String,
    /// The customer's email; the session's `customer_email` when absent.
    pub email: Option<String>,
    pub name: Option<String>,
    /// The amount the customer chooses, in minor units, for the session's line whose price
    /// lets the customer choose.
    pub amount: Option<i64>,
    /// Quantities chosen for adjustable lines, by the line's index.
    pub quantities: BTreeMap<usize, i64>,
}

/// Pays a test-mode session as its hosted page would: the form the page submits, filled from
/// `payment` and completed as the page's defaults would (see [`PaymentForm::with_test_card`]),
/// through the same [`pay`]. A live caller finds no session (`NotFound`, as for an unknown id);
/// a session that is not open is a `checkout_session_not_open` conflict.
pub async fn pay_test_session(
    db: &Db,
    caller: &Caller,
    id: &str,
    payment: TestPayment,
    now: i64,
    public_url: &str,
) -> Result<PayOutcome, DomainError> {
    if caller.mode.is_live() {
        return Err(DomainError::not_found("checkout.session", id));
    }
    let session = checkout::get_session(db, caller, id, now, public_url).await?;
    if session.state != SessionState::Open {
        return Err(checkout::not_open(id, session.state));
    }
    let lines = checkout::line_items(db, caller, id).await?;
    let mut choices = Choices {
        names: FieldNames::Api,
        ..Choices::default()
    };
    for (&index, quantity) in &payment.quantities {
        let line = lines.get(index).ok_or_else(|| {
            DomainError::invalid(
                format!("line_items[{index}][quantity]"),
                format!("this session has {} line item(s)", lines.len()),
            )
        })?;
        choices
            .quantities
            .insert(line.id.clone(), quantity.to_string());
    }
    if let Some(amount) = payment.amount {
        if amount < 0 {
            return Err(DomainError::invalid("amount", "must not be negative"));
        }
        let line = chosen_amount_line(&lines)?;
        // As the page's field would carry it: major units, read back exactly.
        choices
            .amounts
            .insert(line.id.clone(), session.currency.format_major(amount));
    }
    let form = PaymentForm {
        email: payment.email.or(session.customer_email),
        name: payment.name.unwrap_or_default(),
        choices,
        ..PaymentForm::with_test_card(payment.card, now)
    };
    match pay(db, id, form, now, public_url).await? {
        // Paid or expired since it was read.
        PayOutcome::AlreadyFinal(state) => Err(checkout::not_open(id, state)),
        outcome => Ok(outcome),
    }
}

/// The one line whose amount the customer chooses, which the API's `amount` sets.
fn chosen_amount_line(lines: &[LineItem]) -> Result<&LineItem, DomainError> {
    let mut chosen = lines
        .iter()
        .filter(|l| HostedSession::amount_bounds(l).is_some());
    match (chosen.next(), chosen.next()) {
        (Some(line), None) => Ok(line),
        (None, _) => Err(DomainError::invalid(
            "amount",
            "no line of this session lets the customer choose the amount",
        )),
        (Some(_), Some(_)) => Err(DomainError::invalid(
            "amount",
            "several lines of this session let the customer choose the amount; amount sets one",
        )),
    }
}

/// A card the processor declined, with what the customer typed beside it.
struct Declined<'a> {
    card: &'a CardDetails,
    decline: Decline,
    email: Option<String>,
    name: Option<String>,
}

async fn record_decline(
    db: &Db,
    hosted: &HostedSession,
    declined: Declined<'_>,
    now: i64,
    public_url: &str,
) -> Result<PayOutcome, DomainError> {
    let Declined {
        card,
        decline,
        email,
        name,
    } = declined;
    use super::payment_methods::{PaymentMethod, Usage};
    use super::payments::{Charge, ChargeFailure, PaymentIntent};
    let session = &hosted.session;
    let account_id = &hosted.account.id;
    let receipt_email = email.or_else(|| session.customer_email.clone());
    // The declined card is a PaymentMethod too, used without being attached.
    let method = PaymentMethod::entered(
        session.livemode,
        card.summary(),
        processor::later_decline(card),
        receipt_email.clone(),
        name.clone(),
        Usage::Payment,
        now,
    );
    let payment = PaymentIntent {
        id: session.payment_intent_id(),
        livemode: session.livemode,
        amount: session.amount_total,
        currency: session.currency.as_str().to_string(),
        status: "requires_payment_method".into(),
        checkout_session_id: Some(session.id.clone()),
        customer_id: session.customer_id.clone(),
        receipt_email,
        card: Some(card.summary()),
        payment_method: Some(method.id.clone()),
        last_payment_error: None,
        latest_charge: None,
        data: session.payment_intent_data(),
        created: now,
    };
    // The charge names the method it was attempted with; the PaymentIntent, as on Stripe,
    // waits for another and keeps the declined one in its error.
    let failure = ChargeFailure::from(&decline);
    let charge = Charge::of_attempt(&payment, name, Some(failure.clone()), now);
    let payment = PaymentIntent {
        last_payment_error: Some(objects::to_value(&objects::LastPaymentError::of_method(
            &failure, &charge.id, &method,
        ))),
        latest_charge: Some(charge.id.clone()),
        payment_method: None,
        ..payment
    };
    let event = |kind: &str, object_id: &str, object: serde_json::Value| {
        super::events::new_event(account_id, session.livemode, kind, object_id, object, now)
    };
    let events = [
        event("charge.failed", &charge.id, charge.object(public_url)),
        event(
            "payment_intent.payment_failed",
            &payment.id,
            payment.object(),
        ),
    ];
    let mut failed = session.clone();
    failed.state = SessionState::Failed;
    failed.updated = now;
    failed.payment_intent_id = Some(payment.id.clone());
    // Ending unpaid is `checkout.session.expired` whatever the reason; Stripe's
    // `async_payment_failed` is about payments that fail after completion.
    let failed_event = event(
        checkout::ENDED_UNPAID_EVENT,
        &session.id,
        objects::to_value(&objects::CheckoutSession::new(&failed, "")),
    );
    let recorded = store::checkout::record_decline(
        db,
        account_id,
        session,
        store::checkout::DeclineWrites {
            payment: &payment,
            charge: &charge,
            payment_method: &method,
            events: &events,
            failed_event: &failed_event,
        },
        MAX_DECLINES,
    )
    .await?;
    Ok(match recorded {
        DeclineRecorded::Declined { attempts } => PayOutcome::Declined {
            decline,
            attempts_left: MAX_DECLINES - attempts,
        },
        DeclineRecorded::Failed => {
            let (mode, livemode) = (session.mode.as_str(), session.livemode);
            crate::metrics::checkout_session(mode, SessionOutcome::Failed, livemode);
            PayOutcome::Failed(decline)
        }
        DeclineRecorded::NotOpen => PayOutcome::AlreadyFinal(current_state(db, &session.id).await?),
    })
}

/// The customer pressed Cancel: an open session becomes canceled. Returns the session as it is
/// afterwards (already final sessions are returned unchanged).
pub async fn cancel(db: &Db, id: &str, now: i64, public_url: &str) -> Result<Session, DomainError> {
    let hosted = load(db, id, now, public_url).await?;
    if hosted.session.state == SessionState::Open {
        checkout::cancel_open_session(db, &hosted.caller(), &hosted.session, now, public_url)
            .await?;
    }
    Ok(load(db, id, now, public_url).await?.session)
}

async fn current_state(db: &Db, id: &str) -> Result<SessionState, DomainError> {
    Ok(store::checkout::state_of(db, id)
        .await?
        .unwrap_or(SessionState::Failed))
}

fn payments_unavailable() -> DomainError {
    DomainError::Conflict {
        code: "payments_unavailable",
        message: "live payments are not available yet: no payment processor is configured".into(),
    }
}

/// Where the customer goes after paying or canceling: the merchant's URL with
/// `{CHECKOUT_SESSION_ID}` replaced, and `session_id` and `status` appended to its query,
/// before any fragment; serialized as browsers send it (an international domain name in
/// punycode, other characters percent-encoded), so that it fits a `Location` header.
pub fn redirect_url(template: &str, session_id: &str, status: &str) -> String {
    let url = validate::with_session_id(template, session_id);
    let Ok(mut parsed) = validate::parse_web_url(&url) else {
        // Checked when the session was created; an older row that fails now goes unchanged.
        return url;
    };
    parsed
        .query_pairs_mut()
        .append_pair("session_id", session_id)
        .append_pair("status", status);
    parsed.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_carry_the_session_and_status() {
        assert_eq!(
            redirect_url("https://shop.example/ok", "cs_test_1", "completed"),
            "https://shop.example/ok?session_id=cs_test_1&status=completed"
        );
        assert_eq!(
            redirect_url(
                "https://shop.example/ok?order=7&s={CHECKOUT_SESSION_ID}#done",
                "cs_test_1",
                "completed"
            ),
            "https://shop.example/ok?order=7&s=cs_test_1&session_id=cs_test_1&status=completed#done"
        );
        assert_eq!(
            redirect_url("https://shop.example/back?", "cs_test_1", "canceled"),
            "https://shop.example/back?session_id=cs_test_1&status=canceled"
        );
        assert_eq!(
            redirect_url(
                "https://bücher.example/danke?s=%7BCHECKOUT_SESSION_ID%7D",
                "cs_test_1",
                "completed"
            ),
            "https://xn--bcher-kva.example/danke?s=cs_test_1&session_id=cs_test_1&status=completed"
        );
    }
}
