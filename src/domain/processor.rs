//! The simulated card processor of test mode, with Stripe's test cards.
//!
//! A card's number and CVC live only in a [`CardDetails`] for the length of one payment attempt:
//! nothing here stores, logs or prints them (its `Debug` is redacted). What is kept of a card is
//! its [`CardSummary`]: brand, last four digits and expiry.
//!
//! Every card entered becomes a PaymentMethod (`domain::payment_methods`), which keeps, beside
//! the summary, what later charges of the saved card do ([`later_decline`]): Stripe's
//! 4000 0000 0000 0341 is saved but every charge of it declines. [`charge_saved_card`] charges
//! such a saved method, as a renewal does.

use super::payment_methods::PaymentMethod;
use super::payments::CardSummary;

/// Stripe's test card that can be saved but whose every charge is declined ("attaching this
/// card to a Customer object succeeds, but attempts to charge the customer fail").
pub const CHARGE_CUSTOMER_FAIL_CARD: &str = "4000000000000341";

/// A card as typed on the hosted page.
#[derive(Clone)]
pub struct CardDetails {
    /// Digits only.
    pub number: String,
    pub exp_month: i64,
    /// Four digits.
    pub exp_year: i64,
    pub cvc: String,
}

impl std::fmt::Debug for CardDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardDetails")
            .field("last4", &self.last4())
            .field("exp_month", &self.exp_month)
            .field("exp_year", &self.exp_year)
            .finish_non_exhaustive()
    }
}

/// Which field of the card form a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardField {
    Number,
    Expiry,
    Cvc,
}

impl CardField {
    pub fn name(self) -> &'static str {
        match self {
            CardField::Number => "card_number",
            CardField::Expiry => "card_expiry",
            CardField::Cvc => "card_cvc",
        }
    }
}

/// Why a card was not charged, in Stripe's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline {
    /// Stripe's error `code`: `card_declined`, `incorrect_number`, `expired_card`, ...
    pub code: &'static str,
    /// Stripe's `decline_code`, for `card_declined`.
    pub decline_code: Option<&'static str>,
    /// What the customer reads.
    pub message: &'static str,
    pub field: CardField,
    /// Whether the processor saw the card (and so the attempt counts towards the limit), or
    /// kassa caught the mistake before sending it.
    pub reached_processor: bool,
}

impl CardDetails {
    /// Reads the form's fields: the number and CVC with spaces or dashes, the expiry as `MM/YY`,
    /// `MM / YY` or `MM/YYYY`.
    pub fn parse(number: &str, expiry: &str, cvc: &str) -> Result<CardDetails, Decline> {
        let number: String = number
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if number.len() < 12 || number.len() > 19 || !number.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid(
                "invalid_number",
                "Your card number is incomplete or invalid.",
                CardField::Number,
            ));
        }
        let (month, year) = expiry
            .split_once('/')
            .map(|(m, y)| (m.trim(), y.trim()))
            .unwrap_or(("", ""));
        let exp_month = month.parse::<i64>().ok().filter(|m| (1..=12).contains(m));
        let exp_year = match year.len() {
            2 => year.parse::<i64>().ok().map(|y| 2000 + y),
            4 => year.parse::<i64>().ok(),
            _ => None,
        };
        let (Some(exp_month), Some(exp_year)) = (exp_month, exp_year) else {
            return Err(invalid(
                "invalid_expiry_month",
                "Enter the expiry date as MM / YY.",
                CardField::Expiry,
            ));
        };
        let cvc = cvc.trim().to_string();
        Ok(CardDetails {
            number,
            exp_month,
            exp_year,
            cvc,
        })
    }

    pub fn brand(&self) -> &'static str {
        brand_of(&self.number)
    }

    pub fn last4(&self) -> String {
        self.number[self.number.len().saturating_sub(4)..].to_string()
    }

    pub fn summary(&self) -> CardSummary {
        CardSummary {
            brand: self.brand().to_string(),
            last4: self.last4(),
            exp_month: self.exp_month,
            exp_year: self.exp_year,
        }
    }
}

/// The brand of a card number (`visa`, `mastercard`, `amex`, `discover` or `unknown`), from its
/// leading digits; spaces and dashes are skipped.
pub fn brand_of(number: &str) -> &'static str {
    let n: String = number.chars().filter(char::is_ascii_digit).collect();
    let prefix = |len: usize| {
        n.get(..len)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    if n.starts_with('4') {
        "visa"
    } else if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) {
        "mastercard"
    } else if n.starts_with("34") || n.starts_with("37") {
        "amex"
    } else if n.starts_with("6011") || n.starts_with("65") {
        "discover"
    } else {
        "unknown"
    }
}

fn invalid(code: &'static str, message: &'static str, field: CardField) -> Decline {
    Decline {
        code,
        decline_code: None,
        message,
        field,
        reached_processor: false,
    }
}

fn declined(
    code: &'static str,
    decline_code: Option<&'static str>,
    message: &'static str,
) -> Decline {
    Decline {
        code,
        decline_code,
        message,
        field: CardField::Number,
        reached_processor: true,
    }
}

/// The calendar (year, month) of a unix time, in UTC, for card expiry.
pub fn year_month(now: i64) -> (i64, i64) {
    let date = time::OffsetDateTime::from_unix_timestamp(now)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    (i64::from(date.year()), i64::from(u8::from(date.month())))
}

/// The Luhn checksum every real card number satisfies.
pub fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// Charges `card` in test mode: checks what kassa can check itself (Luhn, expiry against
/// `today` as (year, month), CVC length), then answers as Stripe's test cards do. The card that
/// can only be saved (4000 0000 0000 0341) is declined: every charge of it is, the first one
/// included.
pub fn charge_test_card(card: &CardDetails, today: (i64, i64)) -> Result<CardSummary, Decline> {
    check_card(card, today)?;
    if card.number == CHARGE_CUSTOMER_FAIL_CARD {
        return Err(generic_decline());
    }
    network_answer(card)
}

/// Saves `card` in test mode (a setup session checks it without charging it): the same checks
/// and answers as [`charge_test_card`], except that 4000 0000 0000 0341 is accepted. What later
/// charges of the saved card do is [`later_decline`]'s.
pub fn save_test_card(card: &CardDetails, today: (i64, i64)) -> Result<CardSummary, Decline> {
    check_card(card, today)?;
    if card.number == CHARGE_CUSTOMER_FAIL_CARD {
        return Ok(card.summary());
    }
    network_answer(card)
}

/// The decline code every later charge of a saved test card gets (Stripe's `decline_code`), or
/// `None` when they succeed: `generic_decline` for 4000 0000 0000 0341 and 0002,
/// `insufficient_funds` for 9995. Kept on the card's PaymentMethod (`charge_decline`), since
/// its number is not.
pub fn later_decline(card: &CardDetails) -> Option<&'static str> {
    match card.number.as_str() {
        CHARGE_CUSTOMER_FAIL_CARD | "4000000000000002" => Some("generic_decline"),
        "4000000000009995" => Some("insufficient_funds"),
        _ => None,
    }
}

/// The test card behind one of Stripe's test PaymentMethod ids (test mode only): `pm_card_visa`,
/// `pm_card_mastercard`, `pm_card_amex`, `pm_card_chargeDeclined` (0002),
/// `pm_card_chargeDeclinedInsufficientFunds` (9995) and `pm_card_chargeCustomerFail` (0341).
/// Its number, digits only.
pub fn test_payment_method_card(id: &str) -> Option<&'static str> {
    Some(match id {
        "pm_card_visa" => "4242424242424242",
        "pm_card_mastercard" => "5555555555554444",
        "pm_card_amex" => "378282246310005",
        "pm_card_chargeDeclined" => "4000000000000002",
        "pm_card_chargeDeclinedInsufficientFunds" => "4000000000009995",
        "pm_card_chargeCustomerFail" => CHARGE_CUSTOMER_FAIL_CARD,
        _ => return None,
    })
}

/// Charges a saved PaymentMethod in test mode, off session (a renewal, a retry): succeeds
/// unless the card has expired by `today` (year, month), `expired_card`, or was saved with a
/// later decline (`charge_decline`), which every charge then gets as a `card_declined` with
/// that `decline_code`. Whether the method may be charged at all (attached to the customer
/// being billed) is the caller's to check; nothing here moves money.
pub fn charge_saved_card(method: &PaymentMethod, today: (i64, i64)) -> Result<(), Decline> {
    if (method.card.exp_year, method.card.exp_month) < today {
        return Err(Decline {
            field: CardField::Expiry,
            ..declined(
                "expired_card",
                Some("expired_card"),
                "Your card has expired.",
            )
        });
    }
    match method.charge_decline.as_deref() {
        None => Ok(()),
        Some("insufficient_funds") => Err(insufficient_funds()),
        Some(_) => Err(generic_decline()),
    }
}

fn generic_decline() -> Decline {
    declined(
        "card_declined",
        Some("generic_decline"),
        "Your card was declined.",
    )
}

fn insufficient_funds() -> Decline {
    declined(
        "card_declined",
        Some("insufficient_funds"),
        "Your card has insufficient funds.",
    )
}

/// What kassa checks itself before the processor sees the card: the Luhn checksum, the expiry
/// against `today` (year, month), the CVC's length.
fn check_card(card: &CardDetails, today: (i64, i64)) -> Result<(), Decline> {
    if !luhn_valid(&card.number) {
        return Err(invalid(
            "incorrect_number",
            "Your card number is incorrect.",
            CardField::Number,
        ));
    }
    if (card.exp_year, card.exp_month) < today {
        return Err(invalid(
            "invalid_expiry_year",
            "Your card's expiration date is in the past.",
            CardField::Expiry,
        ));
    }
    let cvc_len = if card.brand() == "amex" { 4 } else { 3 };
    if card.cvc.len() != cvc_len || !card.cvc.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(
            "invalid_cvc",
            if cvc_len == 4 {
                "Your card's security code has 4 digits."
            } else {
                "Your card's security code has 3 digits."
            },
            CardField::Cvc,
        ));
    }
    Ok(())
}

/// How the simulated card network answers a card that passed [`check_card`].
fn network_answer(card: &CardDetails) -> Result<CardSummary, Decline> {
    match card.number.as_str() {
        "4242424242424242" | "5555555555554444" | "378282246310005" => Ok(card.summary()),
        "4000000000000002" => Err(generic_decline()),
        "4000000000009995" => Err(insufficient_funds()),
        "4000000000000069" => Err(Decline {
            field: CardField::Expiry,
            ..declined(
                "expired_card",
                Some("expired_card"),
                "Your card has expired.",
            )
        }),
        "4000000000000127" => Err(Decline {
            field: CardField::Cvc,
            ..declined(
                "incorrect_cvc",
                Some("incorrect_cvc"),
                "Your card's security code is incorrect.",
            )
        }),
        "4000000000000119" => Err(declined(
            "processing_error",
            None,
            "An error occurred while processing your card. Try again in a little bit.",
        )),
        _ => Err(declined(
            "card_declined",
            Some("test_mode_live_card"),
            "Your card was declined. This is a test checkout: use a test card such as 4242 4242 4242 4242.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str, cvc: &str) -> CardDetails {
        CardDetails::parse(number, "12 / 34", cvc).unwrap()
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid("4242424242424242"));
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("4242424242424241"));
        assert!(!luhn_valid(""));
    }

    #[test]
    fn test_cards_answer_as_documented() {
        let today = (2026, 11);
        for (number, cvc, brand) in [
            ("4242 4242 4242 4242", "123", "visa"),
            ("5555-5555-5555-4444", "123", "mastercard"),
            ("3782 822463 10005", "1234", "amex"),
        ] {
            let summary = charge_test_card(&card(number, cvc), today).unwrap();
            assert_eq!(summary.brand, brand);
            assert_eq!(summary.exp_year, 2034);
        }
        for (number, code, decline_code) in [
            ("4000000000000002", "card_declined", Some("generic_decline")),
            (
                "4000000000009995",
                "card_declined",
                Some("insufficient_funds"),
            ),
            ("4000000000000069", "expired_card", Some("expired_card")),
            ("4000000000000127", "incorrect_cvc", Some("incorrect_cvc")),
            ("4000000000000119", "processing_error", None),
        ] {
            let decline = charge_test_card(&card(number, "123"), today).unwrap_err();
            assert_eq!((decline.code, decline.decline_code), (code, decline_code));
            assert!(decline.reached_processor);
        }
        let wrong = charge_test_card(&card("4242424242424241", "123"), today).unwrap_err();
        assert_eq!(wrong.code, "incorrect_number");
        assert!(!wrong.reached_processor);
    }

    #[test]
    fn expiry_and_cvc_are_checked_before_the_processor() {
        let past = CardDetails::parse("4242424242424242", "10/26", "123").unwrap();
        let decline = charge_test_card(&past, (2026, 11)).unwrap_err();
        assert_eq!(
            (decline.code, decline.field),
            ("invalid_expiry_year", CardField::Expiry)
        );
        let this_month = CardDetails::parse("4242424242424242", "11/2026", "123").unwrap();
        assert!(charge_test_card(&this_month, (2026, 11)).is_ok());
        let short_cvc = charge_test_card(&card("378282246310005", "123"), (2026, 11)).unwrap_err();
        assert_eq!(short_cvc.field, CardField::Cvc);
        assert!(CardDetails::parse("4242", "12/34", "123").is_err());
        assert!(CardDetails::parse("4242424242424242", "13/34", "123").is_err());
    }

    #[test]
    fn the_card_that_can_only_be_saved_declines_every_charge() {
        let today = (2026, 11);
        let card = card("4000 0000 0000 0341", "123");
        let first = charge_test_card(&card, today).unwrap_err();
        assert_eq!(
            (first.code, first.decline_code),
            ("card_declined", Some("generic_decline"))
        );
        assert!(first.reached_processor);
        let saved = save_test_card(&card, today).unwrap();
        assert_eq!(saved.last4, "0341");
        assert_eq!(later_decline(&card), Some("generic_decline"));
        // Saving checks what charging checks, and declines what charging declines.
        let declined = save_test_card(&self::card("4000000000000002", "123"), today).unwrap_err();
        assert_eq!(declined.decline_code, Some("generic_decline"));
        assert!(save_test_card(&self::card("4000000000000341", "12"), today).is_err());
        assert!(save_test_card(&self::card("4242424242424242", "123"), today).is_ok());
        assert_eq!(later_decline(&self::card("4242424242424242", "123")), None);
    }

    fn saved(number: &str, exp: (i64, i64)) -> PaymentMethod {
        let card = CardDetails {
            number: number.into(),
            exp_month: exp.1,
            exp_year: exp.0,
            cvc: String::new(),
        };
        PaymentMethod::entered(
            false,
            card.summary(),
            later_decline(&card),
            None,
            None,
            crate::domain::payment_methods::Usage::Saved {
                customer: Some("cus_1".into()),
            },
            0,
        )
    }

    #[test]
    fn saved_cards_are_charged_as_they_were_saved() {
        let today = (2026, 11);
        assert_eq!(
            charge_saved_card(&saved("4242424242424242", (2030, 12)), today),
            Ok(())
        );
        for (number, decline_code) in [
            ("4000000000000341", "generic_decline"),
            ("4000000000000002", "generic_decline"),
            ("4000000000009995", "insufficient_funds"),
        ] {
            let decline = charge_saved_card(&saved(number, (2030, 12)), today).unwrap_err();
            assert_eq!(
                (decline.code, decline.decline_code),
                ("card_declined", Some(decline_code)),
                "{number}"
            );
            assert!(decline.reached_processor);
            // Every charge, not only the first.
            assert!(charge_saved_card(&saved(number, (2030, 12)), today).is_err());
        }
        // A card that expired since it was saved.
        let expired = charge_saved_card(&saved("4242424242424242", (2026, 10)), today).unwrap_err();
        assert_eq!(
            (expired.code, expired.field),
            ("expired_card", CardField::Expiry)
        );
        assert!(charge_saved_card(&saved("4242424242424242", (2026, 11)), today).is_ok());
    }

    #[test]
    fn test_payment_method_ids_name_test_cards() {
        for (id, number) in [
            ("pm_card_visa", "4242424242424242"),
            ("pm_card_mastercard", "5555555555554444"),
            ("pm_card_amex", "378282246310005"),
            ("pm_card_chargeDeclined", "4000000000000002"),
            (
                "pm_card_chargeDeclinedInsufficientFunds",
                "4000000000009995",
            ),
            ("pm_card_chargeCustomerFail", "4000000000000341"),
        ] {
            assert_eq!(test_payment_method_card(id), Some(number));
            assert!(luhn_valid(number), "{number}");
        }
        assert_eq!(test_payment_method_card("pm_card_visa_debit"), None);
        assert_eq!(test_payment_method_card("pm_1"), None);
    }

    #[test]
    fn debug_never_shows_the_number_or_cvc() {
        let shown = format!("{:?}", card("4242424242424242", "987"));
        assert!(!shown.contains("424242424242"), "{shown}");
        assert!(!shown.contains("987"), "{shown}");
        assert!(shown.contains("4242"));
    }
}
