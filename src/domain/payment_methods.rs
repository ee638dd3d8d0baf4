//! PaymentMethods (`pm_`): the cards customers entered, as Stripe's `payment_method` objects.
//!
//! Every card used at checkout becomes one, written in the transaction of the attempt that used
//! it (paid, declined or saved); a PaymentIntent, its charges and a SetupIntent name it in
//! `payment_method`. A card saved for later (setup mode) is attached to the session's customer,
//! with `payment_method.attached`; a card used for one payment is never attached, and, as on
//! Stripe, may not be attached afterwards. `POST /v1/payment_methods/{id}/attach` also takes
//! Stripe's test PaymentMethod ids in test mode (`pm_card_visa`...), each of which makes a new
//! method of that test card's behaviour. What later charges of a saved card do is decided when
//! it is entered ([`super::processor::later_decline`]) and kept here, since its number is not.

use serde_json::Value;

use super::accounts::Caller;
use super::customers;
use super::events::{Event, new_event};
use super::ids::{self, prefix};
use super::list::{Page, PageRequest};
use super::metadata::{Metadata, MetadataUpdate};
use super::payments::CardSummary;
use super::processor::{self, CardDetails};
use super::{DomainError, validate};
use crate::objects;
use crate::store::{self, Db};

/// Whether a saved method may be offered again to its customer in a checkout flow (Stripe's
/// `allow_redisplay`; kassa's page offers no saved cards yet, so it is the merchant's record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AllowRedisplay {
    Always,
    Limited,
    /// Stripe's default.
    #[default]
    Unspecified,
}

impl AllowRedisplay {
    pub fn as_str(self) -> &'static str {
        match self {
            AllowRedisplay::Always => "always",
            AllowRedisplay::Limited => "limited",
            AllowRedisplay::Unspecified => "unspecified",
        }
    }

    /// One of Stripe's three words; anything else is invalid, naming `param`.
    pub fn parse(text: &str, param: &str) -> Result<AllowRedisplay, DomainError> {
        match text {
            "always" => Ok(AllowRedisplay::Always),
            "limited" => Ok(AllowRedisplay::Limited),
            "unspecified" => Ok(AllowRedisplay::Unspecified),
            other => Err(DomainError::invalid(
                param,
                format!("'{other}' is not one of always, limited, unspecified"),
            )),
        }
    }

    /// As stored; an unreadable value reads as the default.
    pub fn from_stored(text: &str) -> AllowRedisplay {
        AllowRedisplay::parse(text, "").unwrap_or_default()
    }
}

/// A card PaymentMethod. Only the card's brand, last four digits and expiry are kept, never its
/// number or CVC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethod {
    pub id: String,
    pub livemode: bool,
    /// The customer it is saved to (`customer`); `None` while it is not attached.
    pub customer_id: Option<String>,
    pub card: CardSummary,
    /// The payer's email and name as the payment form gave them (`billing_details`).
    pub billing_email: Option<String>,
    pub billing_name: Option<String>,
    /// The `decline_code` every later charge of this saved card gets (`generic_decline`,
    /// `insufficient_funds`): the test card's behaviour, decided when it was entered. `None`:
    /// charges succeed. See [`processor::charge_saved_card`].
    pub charge_decline: Option<String>,
    pub allow_redisplay: AllowRedisplay,
    /// Whether it may still be attached to a customer: false once it was used for a payment
    /// without being attached, or was detached (Stripe: "it may not be used again").
    pub reusable: bool,
    pub metadata: Metadata,
    /// Unix seconds.
    pub created: i64,
}

/// What becomes of a card entered at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Usage {
    /// Used for one payment (payment mode): never attached, and never attachable afterwards.
    Payment,
    /// Saved for later payments (setup mode; subscriptions): attached to `customer` when there
    /// is one, else left to be attached later.
    Saved { customer: Option<String> },
}

/// Stripe's `display_brand` for a brand.
pub fn display_brand(brand: &str) -> &'static str {
    match brand {
        "visa" => "visa",
        "mastercard" => "mastercard",
        "amex" => "american_express",
        "discover" => "discover",
        _ => "other",
    }
}

impl PaymentMethod {
    /// The PaymentMethod of a card entered on a payment form, not yet saved: it goes into the
    /// transaction of the attempt that used it (`store::payment_methods::payment_method_insert`).
    /// `charge_decline` is [`processor::later_decline`] of the card; `email` and `name` are the
    /// payer's, as the form gave them.
    pub fn entered(
        livemode: bool,
        card: CardSummary,
        charge_decline: Option<&str>,
        email: Option<String>,
        name: Option<String>,
        usage: Usage,
        now: i64,
    ) -> PaymentMethod {
        let (customer_id, reusable) = match usage {
            Usage::Payment => (None, false),
            Usage::Saved { customer } => (customer, true),
        };
        PaymentMethod {
            id: ids::new_id(prefix::PAYMENT_METHOD, ids::now_ms()),
            livemode,
            customer_id,
            card,
            billing_email: email,
            billing_name: name,
            charge_decline: charge_decline.map(str::to_string),
            allow_redisplay: AllowRedisplay::default(),
            reusable,
            metadata: Metadata::default(),
            created: now,
        }
    }

    /// Stripe's PaymentMethod object, of type `card`. What kassa does not know of a card (its
    /// country, funding, fingerprint, checks) is null or `unknown`, as Stripe shows it for a card
    /// it knows nothing about; wallets and other types do not exist here.
    pub fn object(&self) -> Value {
        objects::to_value(&objects::PaymentMethod::new(self))
    }

    /// The event `kind` (`payment_method.attached`...) of this method as it is now.
    pub fn event(&self, account_id: &str, kind: &str, now: i64) -> Event {
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

/// The PaymentMethod one of Stripe's test ids stands for (test mode only), attached to
/// `customer`: the test card's brand, last four digits and later behaviour, expiring in
/// December five years after `now`. `None` for any other id.
pub fn of_test_id(id: &str, customer: &str, now: i64) -> Option<PaymentMethod> {
    let number = processor::test_payment_method_card(id)?;
    let (year, _) = processor::year_month(now);
    let card = CardDetails {
        number: number.to_string(),
        exp_month: 12,
        exp_year: year + 5,
        cvc: String::new(),
    };
    Some(PaymentMethod::entered(
        false,
        card.summary(),
        processor::later_decline(&card),
        None,
        None,
        Usage::Saved {
            customer: Some(customer.to_string()),
        },
        now,
    ))
}

/// Saves a card typed on one of kassa's pages (the customer portal's "Replace card") to
/// `customer`, in test mode: the simulated processor checks it as a setup-mode checkout does
/// ([`processor::save_test_card`]: 4000 0000 0000 0341 is saved, cards that decline are not),
/// then the new method is written attached, with `payment_method.attached`. `Ok(Err(..))` is a
/// card refused (by kassa's checks or the processor), of which nothing is kept. `today` is the
/// customer's time, which the expiry is checked against; the event is written at `now`.
pub async fn save_card(
    db: &Db,
    caller: &Caller,
    customer: &customers::Customer,
    card: &CardDetails,
    today: i64,
    now: i64,
) -> Result<Result<PaymentMethod, processor::Decline>, DomainError> {
    if caller.mode.is_live() {
        return Err(DomainError::Conflict {
            code: "payments_unavailable",
            message: "live payments are not available yet: no payment processor is configured"
                .into(),
        });
    }
    let summary = match processor::save_test_card(card, processor::year_month(today)) {
        Ok(summary) => summary,
        Err(decline) => return Ok(Err(decline)),
    };
    let method = PaymentMethod::entered(
        false,
        summary,
        processor::later_decline(card),
        customer.email.clone(),
        customer.name.clone(),
        Usage::Saved {
            customer: Some(customer.id.clone()),
        },
        now,
    );
    let attached = method.event(&caller.account_id, "payment_method.attached", now);
    store::payment_methods::insert(db, caller, &method, &attached).await?;
    Ok(Ok(method))
}

/// The object name in Stripe's errors ("No such PaymentMethod: 'pm_1'").
pub const OBJECT: &str = "PaymentMethod";

/// A PaymentMethod of the caller's account and mode.
pub async fn get_payment_method(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> Result<PaymentMethod, DomainError> {
    store::payment_methods::get(db, caller, id)
        .await?
        .ok_or_else(|| DomainError::not_found(OBJECT, id))
}

/// Stripe's code for an action the method's state forbids.
const UNEXPECTED_STATE: &str = "payment_method_unexpected_state";

fn already_attached() -> DomainError {
    DomainError::Conflict {
        code: UNEXPECTED_STATE,
        message: "The payment method you provided has already been attached to a customer.".into(),
    }
}

fn spent() -> DomainError {
    DomainError::Conflict {
        code: UNEXPECTED_STATE,
        message: "The provided PaymentMethod was previously used with a PaymentIntent without \
                  Customer attachment or was detached from a Customer. It may not be used again. \
                  To use a PaymentMethod multiple times, you must attach it to a Customer first."
            .into(),
    }
}

/// Why a method cannot be attached now, if it cannot.
fn attachable(method: &PaymentMethod) -> Result<(), DomainError> {
    match (&method.customer_id, method.reusable) {
        (Some(_), _) => Err(already_attached()),
        (None, false) => Err(spent()),
        (None, true) => Ok(()),
    }
}

/// Attaches a method to a customer (`POST /v1/payment_methods/{id}/attach`), with
/// `payment_method.attached`. In test mode one of Stripe's test ids (`pm_card_visa`...) makes a
/// new method of that test card, attached. The customer must exist and not be deleted (a 400
/// `resource_missing` naming `customer`); a method attached already, used for a payment without
/// being attached, or detached cannot be (a 400, as on Stripe).
pub async fn attach(
    db: &Db,
    caller: &Caller,
    id: &str,
    customer: &str,
    now: i64,
) -> Result<PaymentMethod, DomainError> {
    let customer = customers::live_customer(db, caller, customer, "customer").await?;
    if !caller.mode.is_live()
        && let Some(method) = of_test_id(id, &customer.id, now)
    {
        let attached = method.event(&caller.account_id, "payment_method.attached", now);
        store::payment_methods::insert(db, caller, &method, &attached).await?;
        return Ok(method);
    }
    let mut method = get_payment_method(db, caller, id).await?;
    attachable(&method)?;
    method.customer_id = Some(customer.id);
    let attached = method.event(&caller.account_id, "payment_method.attached", now);
    if !store::payment_methods::attach(db, caller, &method, &attached).await? {
        // Attached, used or detached by another request since it was read.
        let current = get_payment_method(db, caller, id).await?;
        attachable(&current)?;
        return Err(already_attached());
    }
    Ok(method)
}

/// Detaches a method from its customer (`POST /v1/payment_methods/{id}/detach`), with
/// `payment_method.detached`. As on Stripe it can then never be used or attached again; a
/// method that is not attached cannot be detached (a 400).
pub async fn detach(
    db: &Db,
    caller: &Caller,
    id: &str,
    now: i64,
) -> Result<PaymentMethod, DomainError> {
    let not_attached = || DomainError::Conflict {
        code: UNEXPECTED_STATE,
        message: "The payment method you provided is not attached to a customer so detachment \
                  is impossible."
            .into(),
    };
    let mut method = get_payment_method(db, caller, id).await?;
    let customer = method.customer_id.take().ok_or_else(not_attached)?;
    method.reusable = false;
    let detached = method.event(&caller.account_id, "payment_method.detached", now);
    if !store::payment_methods::detach(db, caller, &method, &customer, &detached).await? {
        return Err(not_attached());
    }
    Ok(method)
}

/// What `POST /v1/payment_methods/{id}` changes; `None` leaves a field as it is, `Some(None)`
/// clears it.
#[derive(Debug, Default)]
pub struct PaymentMethodUpdate {
    pub billing_email: Option<Option<String>>,
    pub billing_name: Option<Option<String>>,
    /// 1 to 12.
    pub exp_month: Option<i64>,
    /// Four digits.
    pub exp_year: Option<i64>,
    pub allow_redisplay: Option<AllowRedisplay>,
    pub metadata: Option<MetadataUpdate>,
}

impl PaymentMethodUpdate {
    /// Applies the update; a card expiry in the past (by `today`, year and month) is refused.
    fn apply(self, method: &mut PaymentMethod, today: (i64, i64)) -> Result<(), DomainError> {
        if let Some(email) = self.billing_email {
            method.billing_email = email
                .filter(|e| !e.is_empty())
                .map(|e| super::checkout::validate_email(&e, "billing_details[email]"))
                .transpose()?;
        }
        if let Some(name) = self.billing_name {
            method.billing_name = validate::optional_text(name, "billing_details[name]", 256)?;
        }
        if let Some(month) = self.exp_month {
            if !(1..=12).contains(&month) {
                return Err(DomainError::invalid_with(
                    "invalid_expiry_month",
                    "card[exp_month]",
                    "must be a month from 1 to 12",
                ));
            }
            method.card.exp_month = month;
        }
        if let Some(year) = self.exp_year {
            if !(today.0..=today.0 + 50).contains(&year) {
                return Err(DomainError::invalid_with(
                    "invalid_expiry_year",
                    "card[exp_year]",
                    format!(
                        "must be a four-digit year from {} to {}",
                        today.0,
                        today.0 + 50
                    ),
                ));
            }
            method.card.exp_year = year;
        }
        if (method.card.exp_year, method.card.exp_month) < today {
            let param = if self.exp_month.is_some() {
                "card[exp_month]"
            } else {
                "card[exp_year]"
            };
            return Err(DomainError::invalid_with(
                "invalid_expiry_month",
                param,
                "the card's expiry must not be in the past",
            ));
        }
        if let Some(redisplay) = self.allow_redisplay {
            method.allow_redisplay = redisplay;
        }
        if let Some(update) = self.metadata {
            method.metadata = method.metadata.updated(update, "metadata")?;
        }
        Ok(())
    }
}

/// Updates a method saved to a customer (`POST /v1/payment_methods/{id}`), with
/// `payment_method.updated`. As on Stripe, a method that is not attached cannot be updated.
pub async fn update(
    db: &Db,
    caller: &Caller,
    id: &str,
    update: PaymentMethodUpdate,
    now: i64,
) -> Result<PaymentMethod, DomainError> {
    let not_saved = || DomainError::Conflict {
        code: UNEXPECTED_STATE,
        message: "You must save this PaymentMethod to a customer before you can update it.".into(),
    };
    let mut method = get_payment_method(db, caller, id).await?;
    if method.customer_id.is_none() {
        return Err(not_saved());
    }
    let before = method.object();
    update.apply(&mut method, processor::year_month(now))?;
    let updated = method
        .event(&caller.account_id, "payment_method.updated", now)
        .with_previous(&before);
    if !store::payment_methods::update(db, caller, &method, &updated).await? {
        return Err(not_saved());
    }
    Ok(method)
}

/// The type names Stripe's PaymentMethod lists accept as `type`. kassa's methods are all
/// `card`: a list of any other type is empty.
pub const STRIPE_TYPES: &[&str] = &[
    "acss_debit",
    "affirm",
    "afterpay_clearpay",
    "alipay",
    "alma",
    "amazon_pay",
    "au_becs_debit",
    "bacs_debit",
    "bancontact",
    "billie",
    "blik",
    "boleto",
    "card",
    "card_present",
    "cashapp",
    "crypto",
    "customer_balance",
    "eps",
    "fpx",
    "giropay",
    "gopay",
    "grabpay",
    "id_bank_transfer",
    "ideal",
    "kakao_pay",
    "klarna",
    "konbini",
    "kr_card",
    "link",
    "mb_way",
    "mobilepay",
    "multibanco",
    "naver_pay",
    "nz_bank_account",
    "oxxo",
    "p24",
    "pay_by_bank",
    "payco",
    "paynow",
    "paypal",
    "payto",
    "pix",
    "promptpay",
    "qris",
    "rechnung",
    "revolut_pay",
    "samsung_pay",
    "satispay",
    "sepa_debit",
    "shopeepay",
    "sofort",
    "stripe_balance",
    "swish",
    "twint",
    "us_bank_account",
    "wechat_pay",
    "zip",
];

/// Which methods a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentMethodFilter {
    /// Only this customer's (`cus_…`).
    pub customer: Option<String>,
    /// Stripe's `type`: `card`, or another of [`STRIPE_TYPES`], of which kassa has none.
    pub kind: Option<String>,
    pub allow_redisplay: Option<AllowRedisplay>,
}

/// A page of methods, newest first. A `customer` that does not exist (or was deleted) is a
/// `resource_missing` error naming `customer_param` (`customer` in a query, `id` in the path
/// of `/v1/customers/{id}/payment_methods`, where it is a 404).
pub async fn list(
    db: &Db,
    caller: &Caller,
    filter: &PaymentMethodFilter,
    customer_param: &str,
    page: &PageRequest,
) -> Result<Page<PaymentMethod>, DomainError> {
    if let Some(kind) = &filter.kind
        && !STRIPE_TYPES.contains(&kind.as_str())
    {
        return Err(DomainError::invalid(
            "type",
            format!("'{kind}' is not a PaymentMethod type (such as card)"),
        ));
    }
    if let Some(customer) = &filter.customer {
        customers::live_customer(db, caller, customer, customer_param).await?;
    }
    page.check_cursor(|id| async move { get_payment_method(db, caller, &id).await })
        .await?;
    if filter.kind.as_deref().is_some_and(|k| k != "card") {
        return Ok(Page {
            items: Vec::new(),
            has_more: false,
        });
    }
    Ok(store::payment_methods::list(db, caller, filter, page).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visa() -> CardSummary {
        CardSummary {
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: 12,
            exp_year: 2031,
        }
    }

    #[test]
    fn a_card_used_for_a_payment_is_spent_and_a_saved_one_is_not() {
        let paid = PaymentMethod::entered(false, visa(), None, None, None, Usage::Payment, 1);
        assert!(paid.id.starts_with("pm_"));
        assert_eq!((paid.customer_id.as_deref(), paid.reusable), (None, false));
        assert!(matches!(
            attachable(&paid),
            Err(DomainError::Conflict { .. })
        ));
        let saved = PaymentMethod::entered(
            false,
            visa(),
            Some("generic_decline"),
            Some("ada@example.com".into()),
            None,
            Usage::Saved {
                customer: Some("cus_1".into()),
            },
            1,
        );
        assert_eq!(saved.customer_id.as_deref(), Some("cus_1"));
        assert_eq!(saved.charge_decline.as_deref(), Some("generic_decline"));
        let object = saved.object();
        assert_eq!(object["type"], "card");
        assert_eq!(object["customer"], "cus_1");
        assert_eq!(object["card"]["last4"], "4242");
        assert_eq!(object["card"]["display_brand"], "visa");
        assert_eq!(object["billing_details"]["email"], "ada@example.com");
        assert_eq!(object["allow_redisplay"], "unspecified");
    }

    #[test]
    fn test_ids_stand_for_test_cards() {
        let now = 1_800_000_000; // January 2027
        let visa = of_test_id("pm_card_visa", "cus_1", now).unwrap();
        assert_eq!(
            (visa.card.brand.as_str(), visa.card.last4.as_str()),
            ("visa", "4242")
        );
        assert_eq!((visa.card.exp_month, visa.card.exp_year), (12, 2032));
        assert_eq!(visa.charge_decline, None);
        let amex = of_test_id("pm_card_amex", "cus_1", now).unwrap();
        assert_eq!(
            (amex.card.brand.as_str(), amex.card.last4.as_str()),
            ("amex", "0005")
        );
        let fail = of_test_id("pm_card_chargeCustomerFail", "cus_1", now).unwrap();
        assert_eq!(fail.card.last4, "0341");
        assert_eq!(fail.charge_decline.as_deref(), Some("generic_decline"));
        let poor = of_test_id("pm_card_chargeDeclinedInsufficientFunds", "cus_1", now).unwrap();
        assert_eq!(poor.charge_decline.as_deref(), Some("insufficient_funds"));
        assert!(of_test_id("pm_card_unknown", "cus_1", now).is_none());
    }

    #[test]
    fn updates_check_the_expiry() {
        let mut method = PaymentMethod::entered(false, visa(), None, None, None, Usage::Payment, 1);
        let past = PaymentMethodUpdate {
            exp_year: Some(2026),
            exp_month: Some(1),
            ..Default::default()
        };
        assert!(past.apply(&mut method.clone(), (2026, 11)).is_err());
        let month = PaymentMethodUpdate {
            exp_month: Some(13),
            ..Default::default()
        };
        assert!(month.apply(&mut method.clone(), (2026, 11)).is_err());
        let fine = PaymentMethodUpdate {
            exp_month: Some(3),
            billing_name: Some(Some("Ada".into())),
            ..Default::default()
        };
        fine.apply(&mut method, (2026, 11)).unwrap();
        assert_eq!(method.card.exp_month, 3);
        assert_eq!(method.billing_name.as_deref(), Some("Ada"));
    }
}
