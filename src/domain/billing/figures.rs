//! The figures the dashboard's overview shows of an account in one mode: subscriptions active
//! and past due, renewals coming, monthly recurring revenue (MRR) per currency, and revenue per
//! day. Subscriptions and customers on a test clock are simulations and count in none of them.

use std::collections::BTreeMap;

use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::catalog::{Interval, Recurring};
use crate::domain::money::Currency;
use crate::store::{self, Db};

const DAY: i64 = 86_400;

/// How far ahead the overview counts renewals: 7 days, in seconds.
pub const RENEWAL_WINDOW: i64 = 7 * DAY;

/// How many days the revenue chart shows, today (UTC) included.
pub const CHART_DAYS: i64 = 30;

/// What subscriptions sharing a currency and a billing interval charge per period: Σ unit
/// amount × quantity of their items, in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringAmount {
    pub currency: Currency,
    pub recurring: Recurring,
    /// Minor units per period of `recurring`.
    pub amount: i64,
}

/// What `amount` (minor units per period of `recurring`) comes to per month, in minor units
/// (a fraction): a monthly amount ÷ interval_count; a yearly one ÷ 12 ÷ interval_count; a
/// weekly one × 52 ÷ 12 ÷ interval_count; a daily one × 365 ÷ 12 ÷ interval_count.
pub fn per_month(amount: i64, recurring: Recurring) -> f64 {
    let periods_a_year = match recurring.interval {
        Interval::Day => 365,
        Interval::Week => 52,
        Interval::Month => 12,
        Interval::Year => 1,
    };
    // The product is exact in i128; only the one division rounds.
    let per_year = i128::from(amount) * periods_a_year;
    per_year as f64 / (12 * recurring.interval_count.max(1)) as f64
}

/// Monthly recurring revenue per currency: Σ [`per_month`] of `amounts`, in minor units
/// rounded to the nearest one (halves away from zero), by currency code.
pub fn mrr(amounts: &[RecurringAmount]) -> Vec<(Currency, i64)> {
    let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
    for amount in amounts {
        *sums.entry(amount.currency.as_str()).or_default() +=
            per_month(amount.amount, amount.recurring);
    }
    sums.into_iter()
        .map(|(code, sum)| (Currency::from_stored(code.to_string()), sum.round() as i64))
        .collect()
}

/// The subscription figures of an account in one mode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Figures {
    /// Subscriptions `active` now.
    pub active: i64,
    /// Subscriptions `past_due` now: a renewal failed and is being retried.
    pub past_due: i64,
    /// Active subscriptions that renew within [`RENEWAL_WINDOW`]: their period ends by then
    /// (or has ended, and the billing engine is about to renew them), and neither
    /// `cancel_at_period_end` nor a `cancel_at` ends them first.
    pub renewals_due: i64,
    /// Monthly recurring revenue of the `active` and `past_due` subscriptions (not `trialing`
    /// ones: they pay nothing yet), per currency, in minor units; see [`mrr`].
    pub mrr: Vec<(Currency, i64)>,
}

/// The subscription figures of the caller's account and mode at `now` (unix seconds).
pub async fn figures(db: &Db, caller: &Caller, now: i64) -> Result<Figures, DomainError> {
    let mut figures = Figures::default();
    for (status, count, renewing) in
        store::figures::billed_subscriptions(db, caller, now + RENEWAL_WINDOW).await?
    {
        match status.as_str() {
            "active" => {
                figures.active = count;
                figures.renewals_due = renewing;
            }
            _ => figures.past_due = count,
        }
    }
    let amounts: Vec<RecurringAmount> = store::figures::recurring_amounts(db, caller)
        .await?
        .into_iter()
        .filter_map(|(currency, interval, interval_count, amount)| {
            Some(RecurringAmount {
                currency: Currency::from_stored(currency),
                recurring: Recurring {
                    interval: Interval::parse(&interval, "interval").ok()?,
                    interval_count,
                },
                amount,
            })
        })
        .collect();
    figures.mrr = mrr(&amounts);
    Ok(figures)
}

/// One currency's revenue per UTC day, oldest day first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyRevenue {
    pub currency: Currency,
    /// (the day's start in unix seconds, minor units), one entry per day of the chart.
    pub days: Vec<(i64, i64)>,
    /// Σ of `days`, minor units.
    pub total: i64,
}

/// Sums per currency and day (`rows`: currency, day number as unix seconds ÷ 86 400, minor
/// units) laid out over `days` days from day number `first_day`, every day present (0 when
/// nothing was charged); the currency with the most revenue first (then by code).
pub fn daily_revenue(rows: &[(String, i64, i64)], first_day: i64, days: i64) -> Vec<DailyRevenue> {
    let mut by_currency: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    for (currency, day, amount) in rows {
        let Ok(index) = usize::try_from(day - first_day) else {
            continue;
        };
        if index as i64 >= days {
            continue;
        }
        let series = by_currency.entry(currency).or_insert_with(|| {
            (first_day..first_day + days)
                .map(|day| (day * DAY, 0))
                .collect()
        });
        series[index].1 += amount;
    }
    let mut series: Vec<DailyRevenue> = by_currency
        .into_iter()
        .map(|(currency, days)| DailyRevenue {
            currency: Currency::from_stored(currency.to_string()),
            total: days.iter().map(|(_, amount)| amount).sum(),
            days,
        })
        .collect();
    series.sort_by_key(|s| std::cmp::Reverse(s.total));
    series
}

/// The revenue of succeeded charges per currency and UTC day over the [`CHART_DAYS`] days up to
/// `now`'s (unix seconds), the currency with the most revenue first; none when nothing was
/// charged in those days.
pub async fn revenue_per_day(
    db: &Db,
    caller: &Caller,
    now: i64,
) -> Result<Vec<DailyRevenue>, DomainError> {
    let first_day = now.div_euclid(DAY) - (CHART_DAYS - 1);
    let rows = store::figures::revenue_per_day(db, caller, first_day * DAY).await?;
    Ok(daily_revenue(&rows, first_day, CHART_DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(interval: Interval, interval_count: i64) -> Recurring {
        Recurring {
            interval,
            interval_count,
        }
    }

    fn amount(currency: &str, amount: i64, recurring: Recurring) -> RecurringAmount {
        RecurringAmount {
            currency: Currency::from_stored(currency.into()),
            recurring,
            amount,
        }
    }

    #[test]
    fn each_interval_is_normalized_per_month() {
        assert_eq!(per_month(900, every(Interval::Month, 1)), 900.0);
        assert_eq!(per_month(3000, every(Interval::Month, 3)), 1000.0);
        assert_eq!(per_month(12_000, every(Interval::Year, 1)), 1000.0);
        assert_eq!(per_month(24_000, every(Interval::Year, 2)), 1000.0);
        assert_eq!(per_month(300, every(Interval::Week, 1)), 1300.0);
        assert_eq!(per_month(600, every(Interval::Week, 2)), 1300.0);
        assert_eq!(per_month(120, every(Interval::Day, 1)), 3650.0);
        assert_eq!(per_month(240, every(Interval::Day, 2)), 3650.0);
        assert_eq!(per_month(0, every(Interval::Month, 1)), 0.0);
    }

    #[test]
    fn mrr_sums_per_currency_and_rounds_once() {
        let amounts = [
            // 2 × €9.00 a month, €120.00 a year, €5.00 a week (2 166.67), €30.00 a quarter.
            amount("eur", 1800, every(Interval::Month, 1)),
            amount("eur", 12_000, every(Interval::Year, 1)),
            amount("eur", 500, every(Interval::Week, 1)),
            amount("eur", 3000, every(Interval::Month, 3)),
            amount("usd", 2000, every(Interval::Month, 1)),
            // Three thirds of a cent make one: the sum is rounded, not each term.
            amount("jpy", 1, every(Interval::Month, 3)),
            amount("jpy", 1, every(Interval::Month, 3)),
            amount("jpy", 1, every(Interval::Month, 3)),
        ];
        assert_eq!(
            mrr(&amounts),
            vec![
                (
                    Currency::from_stored("eur".into()),
                    1800 + 1000 + 2167 + 1000
                ),
                (Currency::from_stored("jpy".into()), 1),
                (Currency::from_stored("usd".into()), 2000),
            ]
        );
        assert_eq!(mrr(&[]), vec![]);
    }

    #[test]
    fn mrr_of_large_amounts_stays_exact_to_the_minor_unit() {
        // 99 999 999 × 10 000 a day: 3.04e13 a month, far inside f64's exact integers.
        let daily = amount("usd", 999_999_990_000, every(Interval::Day, 1));
        assert_eq!(mrr(&[daily])[0].1, 30_416_666_362_500);
    }

    #[test]
    fn revenue_days_are_filled_and_the_largest_currency_comes_first() {
        let first = 20_000;
        let rows = vec![
            ("eur".to_string(), first, 900),
            ("eur".to_string(), first + 2, 1800),
            ("usd".to_string(), first + 1, 5000),
            // Outside the days asked for: left out.
            ("usd".to_string(), first - 1, 7),
            ("usd".to_string(), first + 3, 7),
        ];
        let series = daily_revenue(&rows, first, 3);
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].currency.as_str(), "usd");
        assert_eq!(series[0].total, 5000);
        assert_eq!(
            series[1].days,
            vec![
                (first * DAY, 900),
                ((first + 1) * DAY, 0),
                ((first + 2) * DAY, 1800)
            ]
        );
        assert_eq!(series[1].total, 2700);
        assert!(daily_revenue(&[], first, 30).is_empty());
    }
}
