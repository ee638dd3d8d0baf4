//! The Stripe API at `/v1`: form-encoded (or JSON) requests, Stripe objects and errors, so the
//! official Stripe SDKs work against kassa.

pub mod billing_portal;
pub mod charges;
pub mod checkout_sessions;
pub mod customers;
pub mod event_stream;
pub mod events;
pub mod invoices;
pub mod payment_intents;
pub mod payment_links;
pub mod payment_methods;
pub mod prices;
pub mod products;
pub mod refunds;
pub mod subscriptions;
pub mod test_clocks;
pub mod test_helpers;
pub mod webhook_endpoints;

use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use super::unsupported::{OnlyLicensed, Unset};
use crate::domain::DomainError;
use crate::domain::catalog::{CustomUnitAmount, Interval, PriceTerms, Recurring};
use crate::domain::money::{self, Currency};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(products::routes())
        .merge(prices::routes())
        .merge(payment_links::routes())
        .merge(checkout_sessions::routes())
        .merge(payment_intents::routes())
        .merge(charges::routes())
        .merge(refunds::routes())
        .merge(subscriptions::routes())
        .merge(billing_portal::routes())
        .merge(invoices::routes())
        .merge(payment_methods::routes())
        .merge(customers::routes())
        .merge(webhook_endpoints::routes())
        .merge(events::routes())
        .merge(test_helpers::routes())
        .merge(test_clocks::routes())
}

/// Stripe's list parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StripeList {
    /// 1 to 100; 10 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
    /// Fields to expand, such as `data.default_price`.
    #[serde(default)]
    pub expand: Vec<String>,
}

impl StripeList {
    pub fn page(&self) -> Result<crate::domain::list::PageRequest, super::error::ApiError> {
        Ok(crate::domain::list::PageRequest::new(
            self.limit,
            10,
            None,
            self.starting_after.clone(),
            self.ending_before.clone(),
        )?)
    }
}

/// `recurring` of a price: how often it bills.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurringParams {
    /// `day`, `week`, `month` or `year`.
    pub interval: String,
    /// Intervals between two bills, 1 to 365 (1 by default).
    pub interval_count: Option<i64>,
    /// Only `licensed` (billed per quantity, Stripe's default).
    pub usage_type: Option<OnlyLicensed>,
    pub trial_period_days: Option<Unset>,
    pub meter: Option<Unset>,
}

/// `recurring` of an inline price (`price_data`), which Stripe gives only its interval.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineRecurring {
    /// `day`, `week`, `month` or `year`.
    pub interval: String,
    /// Intervals between two bills, 1 to 365 (1 by default).
    pub interval_count: Option<i64>,
}

impl From<InlineRecurring> for RecurringParams {
    fn from(r: InlineRecurring) -> Self {
        RecurringParams {
            interval: r.interval,
            interval_count: r.interval_count,
            usage_type: None,
            trial_period_days: None,
            meter: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomUnitAmountParams {
    pub enabled: bool,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub preset: Option<i64>,
}

/// The terms of a price from Stripe's parameters; `param` prefixes error names
/// (`default_price_data`, or empty at the top level).
pub fn price_terms(
    param: &str,
    currency: &str,
    unit_amount: Option<i64>,
    unit_amount_decimal: Option<&str>,
    custom: Option<&CustomUnitAmountParams>,
    recurring: Option<&RecurringParams>,
) -> Result<PriceTerms, DomainError> {
    // `["recurring", "interval"]` names `recurring[interval]`, or
    // `default_price_data[recurring][interval]` under a prefix.
    let name = |path: &[&str]| {
        let mut full = param.to_string();
        for segment in path {
            if full.is_empty() {
                full.push_str(segment);
            } else {
                full.push('[');
                full.push_str(segment);
                full.push(']');
            }
        }
        full
    };
    let currency = Currency::parse(currency, &name(&["currency"]))?;
    let decimal = unit_amount_decimal
        .map(|text| {
            // kassa charges whole minor units, so the decimal must be one.
            money::parse_decimal(text, 0, &name(&["unit_amount_decimal"])).map_err(|_| {
                DomainError::invalid(
                    name(&["unit_amount_decimal"]),
                    format!("'{text}' must be a whole number of minor units"),
                )
            })
        })
        .transpose()?;
    let unit_amount = match (unit_amount, decimal) {
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                name(&["unit_amount"]),
                "give unit_amount or unit_amount_decimal, not both",
            ));
        }
        (a, b) => a.or(b),
    };
    if let Some(amount) = unit_amount
        && !(0..=money::MAX_AMOUNT).contains(&amount)
    {
        return Err(DomainError::invalid(
            name(&["unit_amount"]),
            format!("must be between 0 and {}", money::MAX_AMOUNT),
        ));
    }
    let custom = match custom {
        Some(c) if c.enabled => {
            if unit_amount.is_some() {
                return Err(DomainError::invalid(
                    name(&["custom_unit_amount"]),
                    "cannot be combined with unit_amount",
                ));
            }
            for (value, field) in [
                (c.minimum, "minimum"),
                (c.maximum, "maximum"),
                (c.preset, "preset"),
            ] {
                if value.is_some_and(|v| v < 0) {
                    return Err(DomainError::invalid(
                        name(&["custom_unit_amount", field]),
                        "must be 0 or more",
                    ));
                }
            }
            if let (Some(min), Some(max)) = (c.minimum, c.maximum)
                && max < min
            {
                return Err(DomainError::invalid(
                    name(&["custom_unit_amount", "maximum"]),
                    "must not be less than minimum",
                ));
            }
            Some(CustomUnitAmount {
                minimum: c.minimum,
                maximum: c.maximum,
                preset: c.preset,
            })
        }
        _ => None,
    };
    if unit_amount.is_none() && custom.is_none() {
        return Err(DomainError::invalid(
            name(&["unit_amount"]),
            "is required (or unit_amount_decimal, or custom_unit_amount)",
        ));
    }
    let recurring = recurring
        .map(|r| {
            let interval_count = r.interval_count.unwrap_or(1);
            if !(1..=365).contains(&interval_count) {
                return Err(DomainError::invalid(
                    name(&["recurring", "interval_count"]),
                    "must be between 1 and 365",
                ));
            }
            Ok(Recurring {
                interval: Interval::parse(&r.interval, &name(&["recurring", "interval"]))?,
                interval_count,
            })
        })
        .transpose()?;
    Ok(PriceTerms {
        currency,
        unit_amount,
        custom,
        recurring,
    })
}
