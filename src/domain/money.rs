//! Money: integer minor units with a lowercase ISO 4217 currency. Never floats.
//!
//! The Loops V1/V2 surfaces and Loops product fields speak major units (`29.99`); they are
//! converted here, exactly: more decimals than the currency has is an error, not a rounding.

use super::DomainError;

/// ISO 4217 codes kassa accepts, lowercase.
const CURRENCIES: &str = "aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd \
    btn bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd \
    gnf gtq gyd hkd hnl htg huf idr ils inr iqd isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr \
    lrd lsl lyd mad mdl mga mkd mmk mnt mop mru mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen \
    pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std stn szl thb tjs tnd top \
    try ttd twd tzs uah ugx usd uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw";

const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// Largest amount kassa accepts, in minor units (Stripe's limit for most currencies is
/// 99,999,999.99 in major units; this leaves room and keeps every sum inside i64).
pub const MAX_AMOUNT: i64 = 99_999_999_999;

/// Largest payable total of a session, in minor units: at most 8 integer digits, Stripe's
/// limit on a charge (99 999 999, $999,999.99 in USD). A price's `unit_amount` is not bounded by
/// it: only what is charged at once is.
pub const MAX_CHARGE: i64 = 99_999_999;

/// Stripe's minimum charge amounts, in minor units, from its published table ("Minimum and
/// maximum charge amounts", https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts),
/// with kassa's contract where the two differ (BRL). A currency missing here can charge 1 minor
/// unit.
const MINIMUM_CHARGES: &[(&str, i64)] = &[
    ("aed", 200),
    ("aud", 50),
    ("bgn", 100),
    ("brl", 200),
    ("cad", 50),
    ("chf", 50),
    ("czk", 1500),
    ("dkk", 250),
    ("eur", 50),
    ("gbp", 30),
    ("hkd", 400),
    ("huf", 17500),
    ("inr", 50),
    ("jpy", 50),
    ("mxn", 1000),
    ("myr", 200),
    ("nok", 300),
    ("nzd", 50),
    ("pln", 200),
    ("ron", 200),
    ("sek", 300),
    ("sgd", 50),
    ("thb", 1000),
    ("usd", 50),
];

/// A currency code, lowercase, known to ISO 4217.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Currency(String);

impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Three-letter ISO 4217 currency code, lowercase."))
            .pattern(Some("^[a-z]{3}$"))
            .into()
    }
}

impl utoipa::ToSchema for Currency {}

impl Currency {
    /// Parses a code in any case; `param` names the field in the error.
    pub fn parse(code: &str, param: &str) -> Result<Currency, DomainError> {
        let lower = code.trim().to_ascii_lowercase();
        if lower.len() == 3 && CURRENCIES.split_whitespace().any(|c| c == lower) {
            Ok(Currency(lower))
        } else {
            Err(DomainError::invalid(
                param,
                format!("'{code}' is not a supported ISO 4217 currency code"),
            ))
        }
    }

    /// A code read back from the database, already validated when written.
    pub fn from_stored(code: String) -> Currency {
        Currency(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn upper(&self) -> String {
        self.0.to_ascii_uppercase()
    }

    /// Digits after the decimal point in major units.
    pub fn exponent(&self) -> u32 {
        if ZERO_DECIMAL.contains(&self.0.as_str()) {
            0
        } else if THREE_DECIMAL.contains(&self.0.as_str()) {
            3
        } else {
            2
        }
    }

    /// Parses a decimal amount in major units (`"29.99"`) into minor units (2999), exactly.
    pub fn parse_major(&self, text: &str, param: &str) -> Result<i64, DomainError> {
        parse_decimal(text, self.exponent(), param)
    }

    /// Formats minor units as a major-unit decimal string: 2999 → `"29.99"`, 500 JPY → `"500"`.
    pub fn format_major(&self, minor: i64) -> String {
        format_decimal(minor, self.exponent())
    }

    /// What goes before an amount shown to a customer: a symbol for the common currencies
    /// (`$`, `€`), else the code and a space (`CHF `), as browsers' `Intl` shows them in English.
    pub fn display_prefix(&self) -> String {
        let symbol = match self.0.as_str() {
            "usd" => "$",
            "eur" => "€",
            "gbp" => "£",
            "jpy" => "¥",
            "cad" => "CA$",
            "aud" => "A$",
            "nzd" => "NZ$",
            "inr" => "₹",
            "krw" => "₩",
            "cny" => "CN¥",
            "brl" => "R$",
            "mxn" => "MX$",
            _ => return format!("{} ", self.upper()),
        };
        symbol.to_string()
    }

    /// An amount for a customer to read: 123456 USD → `$1,234.56`, 500 JPY → `¥500`.
    pub fn display(&self, minor: i64) -> String {
        let plain = self.format_major(minor.abs());
        let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
        let mut grouped = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let sign = if minor < 0 { "-" } else { "" };
        let fraction = if fraction.is_empty() {
            String::new()
        } else {
            format!(".{fraction}")
        };
        format!("{sign}{}{grouped}{fraction}", self.display_prefix())
    }

    /// The smallest amount a card payment in this currency may charge, in minor units.
    pub fn minimum_charge(&self) -> i64 {
        MINIMUM_CHARGES
            .iter()
            .find(|(code, _)| *code == self.0)
            .map_or(1, |(_, minimum)| *minimum)
    }

    /// Checks a session's payable total: 0 (nothing to pay), or from the currency's minimum
    /// charge to [`MAX_CHARGE`]. Outside, an `amount_too_small` or `amount_too_large` error
    /// naming `param`, the parameter that set the total.
    pub fn check_payable_total(&self, total: i64, param: &str) -> Result<(), DomainError> {
        let (code, message) = if total != 0 && total < self.minimum_charge() {
            (
                "amount_too_small",
                format!(
                    "the total amount due ({}) must be at least {}, the smallest charge in {}",
                    self.display(total),
                    self.display(self.minimum_charge()),
                    self.upper()
                ),
            )
        } else if total > MAX_CHARGE {
            (
                "amount_too_large",
                format!(
                    "the total amount due ({}) must be at most {}, the largest single charge",
                    self.display(total),
                    self.display(MAX_CHARGE)
                ),
            )
        } else {
            return Ok(());
        };
        Err(DomainError::invalid_with(code, param, message))
    }

    /// Minor units as a JSON number in major units (29.99), for the Loops V1/V2 `amount`.
    pub fn major_number(&self, minor: i64) -> serde_json::Number {
        let text = self.format_major(minor);
        text.parse::<serde_json::Number>()
            .unwrap_or_else(|_| serde_json::Number::from(minor))
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a non-negative decimal with at most `scale` fraction digits into an integer scaled by
/// 10^scale. `"29.9"` at scale 2 is 2990; `"29.999"` at scale 2 is an error.
pub fn parse_decimal(text: &str, scale: u32, param: &str) -> Result<i64, DomainError> {
    let text = text.trim();
    let invalid = |why: &str| DomainError::invalid(param, format!("'{text}' {why}"));
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(invalid("is not an amount"));
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("is not a non-negative decimal amount"));
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > scale as usize {
        return Err(invalid(&format!(
            "has more than {scale} decimal place{} for this currency",
            if scale == 1 { "" } else { "s" }
        )));
    }
    let mut value: i128 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        value = value * 10 + i128::from(digit - b'0');
        if value > i128::from(i64::MAX) {
            return Err(invalid("is too large"));
        }
    }
    value *= 10i128.pow(scale - fraction.len() as u32);
    i64::try_from(value).map_err(|_| invalid("is too large"))
}

/// Formats an integer scaled by 10^scale as a decimal: (2990, 2) → `"29.90"`.
pub fn format_decimal(value: i64, scale: u32) -> String {
    if scale == 0 {
        return value.to_string();
    }
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    let unit = 10u64.pow(scale);
    format!(
        "{sign}{}.{:0width$}",
        magnitude / unit,
        magnitude % unit,
        width = scale as usize
    )
}

/// An amount as a client sent it in major units: a JSON number or a decimal string. JSON numbers
/// are read through their shortest exact decimal form, so `29.99` stays `29.99`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MajorAmount(pub String);

impl<'de> serde::Deserialize<'de> for MajorAmount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = MajorAmount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an amount as a number or a decimal string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MajorAmount, E> {
                Ok(MajorAmount(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<MajorAmount, E> {
                Ok(MajorAmount(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<MajorAmount, E> {
                Ok(MajorAmount(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<MajorAmount, E> {
                if !v.is_finite() {
                    return Err(E::custom("the amount is not a finite number"));
                }
                // Rust prints the shortest decimal that reads back as the same f64, which is the
                // literal the client wrote for any amount with up to 15 significant digits.
                Ok(MajorAmount(format!("{v}")))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl utoipa::PartialSchema for MajorAmount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^-?[0-9]+(\.[0-9]+)?$")),
            )
            .description(Some(
                "An amount in major units, as a number or a decimal string (\"29.99\").",
            ))
            .into()
    }
}

impl utoipa::ToSchema for MajorAmount {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_for_customers() {
        let usd = Currency::parse("usd", "c").unwrap();
        assert_eq!(usd.display(123456), "$1,234.56");
        assert_eq!(usd.display(5), "$0.05");
        assert_eq!(Currency::parse("jpy", "c").unwrap().display(1500), "¥1,500");
        assert_eq!(
            Currency::parse("kwd", "c").unwrap().display(1500),
            "KWD 1.500"
        );
        assert_eq!(
            Currency::parse("eur", "c").unwrap().display(99_999_999_999),
            "€999,999,999.99"
        );
    }

    fn currency(code: &str) -> Currency {
        Currency::parse(code, "currency").unwrap()
    }

    fn bound_code(currency: &Currency, total: i64) -> Option<&'static str> {
        match currency.check_payable_total(total, "line_items") {
            Ok(()) => None,
            Err(DomainError::Invalid { code, param, .. }) => {
                assert_eq!(param, "line_items");
                Some(code)
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn payable_totals_are_bounded_by_the_currency() {
        let usd = currency("usd");
        assert_eq!(bound_code(&usd, 0), None, "a free session");
        assert_eq!(bound_code(&usd, 49), Some("amount_too_small"));
        assert_eq!(bound_code(&usd, 50), None);
        assert_eq!(bound_code(&usd, MAX_CHARGE), None);
        assert_eq!(bound_code(&usd, 100_000_000), Some("amount_too_large"));
        for (code, minimum) in [
            ("gbp", 30),
            ("dkk", 250),
            ("nok", 300),
            ("sek", 300),
            ("jpy", 50),
            ("mxn", 1000),
            ("hkd", 400),
            ("brl", 200),
            ("pln", 200),
            ("chf", 50),
        ] {
            let currency = currency(code);
            assert_eq!(currency.minimum_charge(), minimum, "{code}");
            assert_eq!(
                bound_code(&currency, minimum - 1),
                Some("amount_too_small"),
                "{code}"
            );
            assert_eq!(bound_code(&currency, minimum), None, "{code}");
        }
        let unlisted = currency("isk");
        assert_eq!(unlisted.minimum_charge(), 1);
        assert_eq!(bound_code(&unlisted, 1), None);
        let Err(error) = usd.check_payable_total(49, "amount") else {
            panic!("49 cents is too small")
        };
        assert_eq!(
            error.to_string(),
            "invalid amount: the total amount due ($0.49) must be at least $0.50, the smallest charge in USD"
        );
        assert!(
            MINIMUM_CHARGES.windows(2).all(|w| w[0].0 < w[1].0),
            "one sorted table"
        );
        for (code, _) in MINIMUM_CHARGES {
            Currency::parse(code, "currency").unwrap();
        }
    }

    #[test]
    fn currencies_are_checked_and_lowercased() {
        assert_eq!(currency("USD").as_str(), "usd");
        assert!(Currency::parse("xyz", "currency").is_err());
        assert!(Currency::parse("us", "currency").is_err());
        assert_eq!(currency("jpy").exponent(), 0);
        assert_eq!(currency("kwd").exponent(), 3);
        assert_eq!(currency("eur").exponent(), 2);
    }

    #[test]
    fn major_units_convert_exactly_both_ways() {
        let usd = currency("usd");
        assert_eq!(usd.parse_major("29.99", "p").unwrap(), 2999);
        assert_eq!(usd.parse_major("29.9", "p").unwrap(), 2990);
        assert_eq!(usd.parse_major("29", "p").unwrap(), 2900);
        assert_eq!(usd.parse_major("0.50", "p").unwrap(), 50);
        assert_eq!(usd.parse_major(".5", "p").unwrap(), 50);
        assert_eq!(usd.parse_major("29.990", "p").unwrap(), 2999);
        assert!(usd.parse_major("29.999", "p").is_err());
        assert!(usd.parse_major("-1", "p").is_err());
        assert!(usd.parse_major("1e3", "p").is_err());
        assert!(usd.parse_major("", "p").is_err());
        assert!(usd.parse_major("99999999999999999999", "p").is_err());
        assert_eq!(usd.format_major(2999), "29.99");
        assert_eq!(usd.format_major(5), "0.05");

        let jpy = currency("jpy");
        assert_eq!(jpy.parse_major("500", "p").unwrap(), 500);
        assert!(jpy.parse_major("500.5", "p").is_err());
        assert_eq!(jpy.format_major(500), "500");

        let kwd = currency("kwd");
        assert_eq!(kwd.parse_major("1.234", "p").unwrap(), 1234);
        assert_eq!(kwd.format_major(1234), "1.234");
        assert_eq!(kwd.format_major(50), "0.050");
    }

    #[test]
    fn json_numbers_keep_their_written_digits() {
        for (json, expected) in [
            ("29.99", "29.99"),
            ("0.1", "0.1"),
            ("100", "100"),
            ("\"12.30\"", "12.30"),
        ] {
            let amount: MajorAmount = serde_json::from_str(json).unwrap();
            assert_eq!(amount.0, expected);
        }
        let usd = currency("usd");
        let amount: MajorAmount = serde_json::from_str("19.99").unwrap();
        assert_eq!(usd.parse_major(&amount.0, "p").unwrap(), 1999);
        assert_eq!(usd.major_number(1999).to_string(), "19.99");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn currency() -> impl Strategy<Value = Currency> {
        let codes: Vec<&'static str> = CURRENCIES.split_whitespace().collect();
        prop::sample::select(codes).prop_map(|code| Currency::parse(code, "currency").unwrap())
    }

    proptest! {
        /// Minor units written as major units read back as the same minor units.
        #[test]
        fn major_units_round_trip(currency in currency(), minor in 0..=MAX_AMOUNT) {
            let text = currency.format_major(minor);
            prop_assert_eq!(currency.parse_major(&text, "amount").unwrap(), minor);
            // The JSON number of the Loops V1/V2 `amount` reads back the same way.
            let number = currency.major_number(minor).to_string();
            let amount: MajorAmount = serde_json::from_str(&number).unwrap();
            prop_assert_eq!(currency.parse_major(&amount.0, "amount").unwrap(), minor);
        }

        /// Parsing never rounds: `whole.fraction` with up to `exponent` fraction digits (and any
        /// trailing zeros) is exactly `whole * 10^exponent + fraction scaled`.
        #[test]
        fn parsing_is_exact(
            currency in currency(),
            whole in 0u64..1_000_000_000,
            fraction in "[0-9]{0,3}",
            zeros in 0usize..4,
        ) {
            let exponent = currency.exponent() as usize;
            let fraction = &fraction[..fraction.len().min(exponent)];
            let text = if fraction.is_empty() && zeros == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{fraction}{}", "0".repeat(zeros))
            };
            let padded = format!("{fraction:0<exponent$}");
            let expected = whole as i64 * 10i64.pow(exponent as u32)
                + if padded.is_empty() { 0 } else { padded.parse::<i64>().unwrap() };
            prop_assert_eq!(currency.parse_major(&text, "amount").unwrap(), expected);
        }

        /// More significant decimals than the currency has is an error, never a rounding.
        #[test]
        fn extra_decimals_are_refused(
            currency in currency(),
            whole in 0u64..1_000_000,
            extra in "[0-9]{0,3}[1-9]",
        ) {
            let exponent = currency.exponent() as usize;
            let fraction = format!("{}{extra}", "0".repeat(exponent));
            let text = format!("{whole}.{fraction}");
            prop_assert!(currency.parse_major(&text, "amount").is_err(), "{} accepted", text);
        }

        /// Any text either parses to a non-negative amount or is refused; it never panics.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in any::<String>(), scale in 0u32..=3) {
            if let Ok(value) = parse_decimal(&text, scale, "amount") {
                prop_assert!(value >= 0);
            }
        }

        #[test]
        fn number_like_text_parses_or_fails_cleanly(text in "[-+0-9.eE ]{0,30}", scale in 0u32..=3) {
            let _ = parse_decimal(&text, scale, "amount");
        }
    }
}
