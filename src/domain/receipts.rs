//! Receipts: what a customer is shown of a payment after it. A succeeded charge has a receipt
//! (its `receipt_url`), a finalized invoice has its page (`hosted_invoice_url`), and both are
//! read here, by id alone: the ids carry 130 random bits, so, as with a checkout session's
//! page, holding the link is what lets one read it.

use super::DomainError;
use super::accounts::{self, Caller};
use super::billing::{self, Invoice};
use super::list::PageRequest;
use super::payments::{self, Charge};
use super::refunds::{Refund, RefundStatus};
use crate::store::{self, Db};

/// A payment as its customer sees it: the merchant, what was bought, how it was paid and what
/// was given back. Amounts are in minor units of `currency`.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The merchant's name (the account's).
    pub merchant: String,
    pub livemode: bool,
    pub currency: String,
    /// What was bought, as the checkout session's or the invoice's lines.
    pub lines: Vec<ReceiptLine>,
    /// The invoice paid, when the payment paid one (or the invoice the page shows).
    pub invoice: Option<Invoice>,
    /// The succeeded charge; `None` on the page of an invoice not paid by card (unpaid, or
    /// nothing was due).
    pub charge: Option<Charge>,
    /// The charge's succeeded refunds, oldest first.
    pub refunds: Vec<Refund>,
}

/// One thing bought: `quantity` × its price, `amount` in all (minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub description: String,
    pub quantity: i64,
    pub amount: i64,
    /// The service period a subscription line pays for (unix seconds, start and end).
    pub period: Option<(i64, i64)>,
}

impl Receipt {
    /// What the customer paid, minor units.
    pub fn amount_paid(&self) -> i64 {
        match (&self.charge, &self.invoice) {
            (Some(charge), _) => charge.amount,
            (None, Some(invoice)) => invoice.amount_paid,
            (None, None) => 0,
        }
    }

    /// What the refunds gave back, minor units.
    pub fn amount_refunded(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount).sum()
    }
}

/// The receipt of the succeeded charge `id`. A failed charge has none: not found, as an
/// unknown id.
pub async fn of_charge(db: &Db, id: &str) -> Result<Receipt, DomainError> {
    let missing = || DomainError::not_found("charge", id);
    let (account_id, livemode) = store::owner(db, "charges", id).await?.ok_or_else(missing)?;
    let caller = Caller::without_key(&account_id, livemode);
    let charge = payments::get_charge(db, &caller, id).await?;
    if !charge.succeeded() {
        return Err(missing());
    }
    let intent = payments::get_payment_intent(db, &caller, &charge.payment_intent_id).await?;
    let session = match &intent.checkout_session_id {
        Some(session_id) => store::checkout::get_session(db, &caller, session_id).await?,
        None => None,
    };
    // A renewal's PaymentIntent belongs to its invoice; a subscription's first invoice is
    // paid through its checkout session.
    let invoice_id = match &session {
        Some(session) => session.invoice_id.clone(),
        None => Some(billing::engine::invoice_of_payment_intent(&intent.id)),
    };
    let invoice = match invoice_id {
        Some(id) => store::billing::get_invoice(db, &caller, &id).await?,
        None => None,
    };
    let lines = match (&invoice, &session) {
        (Some(invoice), _) => invoice_lines(invoice),
        (None, Some(session)) => session_lines(db, &caller, &session.id).await?,
        (None, None) => Vec::new(),
    };
    let merchant = accounts::get_account(db, &account_id).await?.name;
    let refunds = refunds_of(db, &caller, &charge).await?;
    Ok(Receipt {
        merchant,
        livemode,
        currency: charge.currency.clone(),
        lines,
        invoice,
        charge: Some(charge),
        refunds,
    })
}

/// The page of the finalized invoice `id`: its lines, and its payment if it was paid by card.
/// A draft has no page yet: not found, as an unknown id.
pub async fn of_invoice(db: &Db, id: &str) -> Result<Receipt, DomainError> {
    let missing = || DomainError::not_found("invoice", id);
    let (account_id, livemode) = store::owner(db, "invoices", id)
        .await?
        .ok_or_else(missing)?;
    let caller = Caller::without_key(&account_id, livemode);
    let invoice = billing::get_invoice(db, &caller, id).await?;
    if invoice.finalized_at.is_none() {
        return Err(missing());
    }
    let charge = match &invoice.charge_id {
        Some(charge_id) => Some(payments::get_charge(db, &caller, charge_id).await?),
        None => None,
    }
    .filter(Charge::succeeded);
    let refunds = match &charge {
        Some(charge) => refunds_of(db, &caller, charge).await?,
        None => Vec::new(),
    };
    let merchant = accounts::get_account(db, &account_id).await?.name;
    Ok(Receipt {
        merchant,
        livemode,
        currency: invoice.currency.clone(),
        lines: invoice_lines(&invoice),
        invoice: Some(invoice),
        charge,
        refunds,
    })
}

fn invoice_lines(invoice: &Invoice) -> Vec<ReceiptLine> {
    invoice
        .lines
        .iter()
        .map(|line| ReceiptLine {
            description: line.description.clone(),
            quantity: line.quantity,
            amount: line.amount,
            period: line
                .price
                .is_recurring()
                .then_some((line.period_start, line.period_end)),
        })
        .collect()
}

async fn session_lines(
    db: &Db,
    caller: &Caller,
    session_id: &str,
) -> Result<Vec<ReceiptLine>, DomainError> {
    let lines = store::checkout::line_items(db, caller, session_id).await?;
    Ok(lines
        .into_iter()
        .map(|line| ReceiptLine {
            description: line.description,
            quantity: line.quantity,
            amount: line.amount_total,
            period: None,
        })
        .collect())
}

/// The succeeded refunds of `charge`, oldest first: every one, page after page.
async fn refunds_of(db: &Db, caller: &Caller, charge: &Charge) -> Result<Vec<Refund>, DomainError> {
    let mut refunds = Vec::new();
    if charge.amount_refunded == 0 {
        return Ok(refunds);
    }
    let filter = super::refunds::RefundFilter {
        charge: Some(charge.id.clone()),
        ..Default::default()
    };
    let mut after: Option<String> = None;
    loop {
        let page = PageRequest::new(Some(100), 100, None, after.take(), None)?;
        let found = store::refunds::list(db, caller, &filter, &page).await?;
        after = found.items.last().map(|r| r.id.clone());
        refunds.extend(found.items);
        if !found.has_more {
            break;
        }
    }
    refunds.retain(|r| r.status == RefundStatus::Succeeded);
    refunds.reverse();
    Ok(refunds)
}
