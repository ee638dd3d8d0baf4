//! Refunds (Stripe's `refund`; decisions §11): part or all of a succeeded charge given back,
//! repeatable until the charge is fully refunded. Only the Refund and the Charge change
//! (`amount_refunded`, `refunded`); the PaymentIntent, session and invoice do not, as on Stripe.
//!
//! A refund is two durable steps around the processor: the refund is written `pending` with
//! the amount it takes from the charge (so two refunds at once never give back more than was
//! paid); the processor is asked under the refund's id; the outcome is written with
//! `refund.created` and `charge.refunded` (or `refund.failed`, the amount given back to the
//! charge). A crash between them leaves the refund pending with a lease, and
//! [`recover_pending`] asks the processor again under the same key: it answers its first
//! result, so nothing is refunded twice or never.

use std::collections::BTreeMap;

use serde_json::Value;

use super::DomainError;
use super::accounts::Caller;
use super::billing::engine::{Processor, RefundRequest};
use super::events::{Event, new_event};
use super::ids::{self, prefix};
use super::list::{CreatedRange, Page, PageRequest};
use super::metadata::{Metadata, MetadataUpdate};
use super::payments::{self, Charge};
use crate::objects;
use crate::store::{self, Db};

/// Stripe's refund reasons.
pub const REASONS: [&str; 3] = ["duplicate", "fraudulent", "requested_by_customer"];
/// How long a pending refund is left to the request that made it before the worker takes it
/// over, in seconds.
pub const LEASE_SECONDS: i64 = 60;

/// A refund's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> RefundStatus {
        match value {
            "succeeded" => RefundStatus::Succeeded,
            "failed" => RefundStatus::Failed,
            _ => RefundStatus::Pending,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub id: String,
    pub livemode: bool,
    pub charge_id: String,
    pub payment_intent_id: String,
    /// In minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    /// One of [`REASONS`].
    pub reason: Option<String>,
    pub metadata: Metadata,
    pub status: RefundStatus,
    /// Why it failed (Stripe's `failure_reason`).
    pub failure_reason: Option<String>,
    pub created: i64,
}

impl Refund {
    /// Stripe's Refund object.
    pub fn object(&self) -> Value {
        objects::to_value(&objects::Refund::new(self))
    }

    fn event(&self, account_id: &str, kind: &str, now: i64) -> Event {
        new_event(
            account_id,
            self.livemode,
            kind,
            &self.id,
            self.object(),
            now,
        )
    }
}

/// What `POST /v1/refunds` asks for.
#[derive(Debug, Clone, Default)]
pub struct RefundInput {
    /// The charge to refund (`ch_…`); or
    pub charge: Option<String>,
    /// the PaymentIntent whose succeeded charge to refund (`pi_…`).
    pub payment_intent: Option<String>,
    /// In minor units; what remains unrefunded when absent.
    pub amount: Option<i64>,
    pub reason: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// The refund's id, chosen before it is asked for (the dashboard's confirmation page), so
    /// that the same request sent twice refunds once: the second finds the first. A new id
    /// when absent.
    pub id: Option<String>,
}

/// How many times a refund of all that is left is tried when other refunds of the charge
/// keep taking part of it meanwhile.
const TRIES: usize = 3;

/// Refunds `input.amount` (or all that remains) of a succeeded charge, through `processor`.
/// More than remains is `amount_too_large`; a charge already fully refunded is
/// `charge_already_refunded`; a charge that did not succeed is `charge_not_refundable`.
pub async fn create<P: Processor>(
    db: &Db,
    processor: &P,
    caller: &Caller,
    input: RefundInput,
    now: i64,
    public_url: &str,
) -> Result<Refund, DomainError> {
    let charge = charge_of(db, caller, &input).await?;
    let reason = input
        .reason
        .filter(|r| !r.is_empty())
        .map(|reason| match REASONS.contains(&reason.as_str()) {
            true => Ok(reason),
            false => Err(DomainError::invalid(
                "reason",
                format!("must be one of {}", REASONS.join(", ")),
            )),
        })
        .transpose()?;
    let metadata = Metadata::validate(input.metadata, "metadata")?;
    let id = match input.id {
        Some(id) if is_refund_id(&id) => id,
        Some(_) => return Err(DomainError::invalid("id", "is not a refund id")),
        None => ids::new_id(prefix::REFUND, ids::now_ms()),
    };
    let mut charge = charge;
    for _ in 0..TRIES {
        let refund = Refund {
            id: id.clone(),
            livemode: caller.mode.is_live(),
            charge_id: charge.id.clone(),
            payment_intent_id: charge.payment_intent_id.clone(),
            amount: refundable(&charge, input.amount)?,
            currency: charge.currency.clone(),
            reason: reason.clone(),
            metadata: metadata.clone(),
            status: RefundStatus::Pending,
            failure_reason: None,
            created: now,
        };
        match store::refunds::reserve(db, &caller.account_id, &refund, now + LEASE_SECONDS).await {
            Ok(true) => {
                return finish(db, processor, &caller.account_id, refund, now, public_url).await;
            }
            // This refund was asked for before: it is that one.
            Err(error) if error.is_unique_violation() => return get(db, caller, &id).await,
            Err(error) => return Err(error.into()),
            // Another refund of the charge took part of what was left meanwhile: what is
            // left now decides.
            Ok(false) => charge = payments::get_charge(db, caller, &charge.id).await?,
        }
    }
    refundable(&charge, input.amount)?;
    Err(DomainError::Conflict {
        code: "lock_timeout",
        message: format!("The charge {} changed meanwhile; try again.", charge.id),
    })
}

/// Whether `id` is shaped as kassa's refund ids are.
fn is_refund_id(id: &str) -> bool {
    id.strip_prefix(prefix::REFUND)
        .is_some_and(|rest| rest.len() == 30 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A new refund id, for a request that names its refund before it is sent (see
/// [`RefundInput::id`]).
pub fn new_refund_id() -> String {
    ids::new_id(prefix::REFUND, ids::now_ms())
}

/// The charge `input` names: `charge`, or the succeeded charge of `payment_intent` (both may
/// be given if they agree).
async fn charge_of(db: &Db, caller: &Caller, input: &RefundInput) -> Result<Charge, DomainError> {
    let by_intent = match &input.payment_intent {
        Some(id) => {
            let intent = payments::get_payment_intent(db, caller, id)
                .await
                .map_err(DomainError::as_reference("payment_intent"))?;
            let charge = intent
                .latest_charge
                .filter(|_| intent.status == "succeeded");
            Some(charge.ok_or_else(|| {
                DomainError::invalid_with(
                    "charge_not_refundable",
                    "payment_intent",
                    format!("The PaymentIntent {id} has no succeeded charge to refund."),
                )
            })?)
        }
        None => None,
    };
    let id = match (&input.charge, by_intent) {
        (Some(charge), Some(of_intent)) if *charge != of_intent => {
            return Err(DomainError::invalid(
                "charge",
                format!("The charge {charge} is not the PaymentIntent's ({of_intent})."),
            ));
        }
        (Some(charge), _) => charge.clone(),
        (None, Some(of_intent)) => of_intent,
        (None, None) => {
            return Err(DomainError::invalid_with(
                "parameter_missing",
                "charge",
                "One of charge or payment_intent is required.",
            ));
        }
    };
    let charge = payments::get_charge(db, caller, &id)
        .await
        .map_err(DomainError::as_reference("charge"))?;
    if !charge.succeeded() {
        return Err(DomainError::invalid_with(
            "charge_not_refundable",
            "charge",
            format!("The charge {id} did not succeed: there is nothing to refund."),
        ));
    }
    Ok(charge)
}

/// How much a refund of `asked` (or of everything left) takes from `charge`.
fn refundable(charge: &Charge, asked: Option<i64>) -> Result<i64, DomainError> {
    let remaining = charge.amount - charge.amount_refunded;
    if remaining <= 0 {
        return Err(DomainError::invalid_with(
            "charge_already_refunded",
            "charge",
            format!("Charge {} has already been refunded.", charge.id),
        ));
    }
    match asked {
        None => Ok(remaining),
        Some(amount) if amount <= 0 => Err(DomainError::invalid(
            "amount",
            "must be a positive integer in the charge's smallest currency unit",
        )),
        Some(amount) if amount > remaining => {
            let currency = super::money::Currency::from_stored(charge.currency.clone());
            Err(DomainError::invalid_with(
                "amount_too_large",
                "amount",
                format!(
                    "Refund amount ({}) is greater than unrefunded amount on charge ({}).",
                    currency.display(amount),
                    currency.display(remaining)
                ),
            ))
        }
        Some(amount) => Ok(amount),
    }
}

/// Asks the processor for a pending refund (under its id) and writes the outcome with its
/// events, if it is still pending.
async fn finish<P: Processor>(
    db: &Db,
    processor: &P,
    account_id: &str,
    mut refund: Refund,
    now: i64,
    public_url: &str,
) -> Result<Refund, DomainError> {
    let caller = Caller::without_key(account_id, refund.livemode);
    let charge = payments::get_charge(db, &caller, &refund.charge_id)
        .await
        .map_err(DomainError::as_reference("charge"))?;
    let request = RefundRequest {
        idempotency_key: &refund.id,
        account_id,
        livemode: refund.livemode,
        payment_method: charge.payment_method.as_deref().unwrap_or(&charge.id),
        amount: refund.amount,
        currency: &refund.currency,
        now,
    };
    let started = std::time::Instant::now();
    let answer = processor.refund(db, &request).await;
    crate::metrics::processor_request(P::NAME, started.elapsed());
    let events = match answer? {
        Ok(()) => {
            refund.status = RefundStatus::Succeeded;
            vec![
                refund.event(account_id, "refund.created", now),
                new_event(
                    account_id,
                    refund.livemode,
                    "charge.refunded",
                    &charge.id,
                    charge.object(public_url),
                    now,
                ),
            ]
        }
        Err(failure) => {
            refund.status = RefundStatus::Failed;
            refund.failure_reason = Some(failure.code);
            vec![
                refund.event(account_id, "refund.created", now),
                refund.event(account_id, "refund.failed", now),
            ]
        }
    };
    if store::refunds::finish(db, account_id, &refund, &events).await? {
        if refund.status == RefundStatus::Succeeded {
            crate::metrics::refund(P::NAME, &refund.currency, refund.amount);
        }
        return Ok(refund);
    }
    // Finished meanwhile by the worker (this request outlived its lease): what it wrote.
    get(db, &caller, &refund.id).await
}

/// Finishes the refunds left pending by a server that stopped between their steps, once
/// their lease has run out; returns how many.
pub async fn recover_pending<P: Processor>(
    db: &Db,
    processor: &P,
    now: i64,
    public_url: &str,
) -> Result<usize, DomainError> {
    let pending = store::refunds::claim_pending(db, now, LEASE_SECONDS, 100).await?;
    let count = pending.len();
    for (account_id, refund) in pending {
        let id = refund.id.clone();
        if let Err(error) = finish(db, processor, &account_id, refund, now, public_url).await {
            tracing::warn!(%error, refund = %id, "finishing a pending refund failed; will retry");
        }
    }
    Ok(count)
}

pub async fn get(db: &Db, caller: &Caller, id: &str) -> Result<Refund, DomainError> {
    store::refunds::get(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found("refund", id))
}

/// Filters of `GET /v1/refunds`.
#[derive(Debug, Clone, Default)]
pub struct RefundFilter {
    pub charge: Option<String>,
    pub payment_intent: Option<String>,
    pub created: CreatedRange,
}

/// A page of refunds, newest first.
pub async fn list(
    db: &Db,
    caller: &Caller,
    filter: &RefundFilter,
    page: &PageRequest,
) -> Result<Page<Refund>, DomainError> {
    page.check_cursor(|id| async move { get(db, caller, &id).await })
        .await?;
    if let Some(charge) = &filter.charge {
        payments::get_charge(db, caller, charge)
            .await
            .map_err(DomainError::as_reference("charge"))?;
    }
    if let Some(intent) = &filter.payment_intent {
        payments::get_payment_intent(db, caller, intent)
            .await
            .map_err(DomainError::as_reference("payment_intent"))?;
    }
    Ok(store::refunds::list(db, caller, filter, page).await?)
}

/// Updates a refund's metadata (the only thing Stripe lets change).
pub async fn update_metadata(
    db: &Db,
    caller: &Caller,
    id: &str,
    update: MetadataUpdate,
) -> Result<Refund, DomainError> {
    let mut refund = get(db, caller, id).await?;
    refund.metadata = refund.metadata.updated(update, "metadata")?;
    store::refunds::update_metadata(db, caller, &refund).await?;
    Ok(refund)
}
