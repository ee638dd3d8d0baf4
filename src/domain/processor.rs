//! The simulated card processor of test mode, with Stripe's test cards.
//!
//! A card's number and CVC live only in a [`CardDetails`] for the length of one payment attempt:
//! nothing here stores, logs or prints them (its `Debug` is redacted). What is kept of a card is
//! its [`CardSummary`]: brand, last four digits and expiry.

use super::payments::CardSummary;

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
/// `today` as (year, month), CVC length), then answers as Stripe's test cards do.
pub fn charge_test_card(card: &CardDetails, today: (i64, i64)) -> Result<CardSummary, Decline> {
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
    match card.number.as_str() {
        "4242424242424242" | "5555555555554444" | "378282246310005" => Ok(card.summary()),
        "4000000000000002" => Err(declined(
            "card_declined",
            Some("generic_decline"),
            "Your card was declined.",
        )),
        "4000000000009995" => Err(declined(
            "card_declined",
            Some("insufficient_funds"),
            "Your card has insufficient funds.",
        )),
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
    fn debug_never_shows_the_number_or_cvc() {
        let shown = format!("{:?}", card("4242424242424242", "987"));
        assert!(!shown.contains("424242424242"), "{shown}");
        assert!(!shown.contains("987"), "{shown}");
        assert!(shown.contains("4242"));
    }
}
