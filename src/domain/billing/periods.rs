//! Billing periods as Stripe computes them: every period is counted from the billing cycle
//! anchor, never from the previous period's end, in calendar days, weeks, months and years
//! (UTC). A monthly anchor on the 31st bills on the last day of shorter months and returns to
//! the 31st ("January 31 bills February 28 (or 29), then March 31, April 30",
//! stripe.com/docs/subscriptions/billing-cycle).

use time::{Date, Duration, Month, OffsetDateTime};

use crate::domain::catalog::{Interval, Recurring};

/// The start of period `n` (0 is the anchor's own) of a price billed every
/// `recurring.interval_count` `recurring.interval`s from `anchor`, in unix seconds. The time of
/// day is the anchor's. Past the calendar's end (year 9999) it is the anchor itself: kassa's
/// times stay far below (test clocks at most [`crate::domain::test_clocks::MAX_AHEAD`] ahead).
pub fn period_start(anchor: i64, recurring: Recurring, n: i64) -> i64 {
    let Ok(at) = OffsetDateTime::from_unix_timestamp(anchor) else {
        return anchor;
    };
    let steps = n * recurring.interval_count;
    let moved = match recurring.interval {
        Interval::Day => at.checked_add(Duration::days(steps)),
        Interval::Week => at.checked_add(Duration::weeks(steps)),
        Interval::Month => add_months(at, steps),
        Interval::Year => add_months(at, steps * 12),
    };
    moved.map_or(anchor, |t| t.unix_timestamp())
}

/// `months` calendar months after `at`, on the same day of the month or, when that month is
/// shorter, its last day.
fn add_months(at: OffsetDateTime, months: i64) -> Option<OffsetDateTime> {
    let index = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = at.day().min(time::util::days_in_month(month, year));
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(at.replace_date(date))
}

/// The period that holds `at`: (its number, its start, its end), for a subscription anchored at
/// `anchor` (`at` ≥ `anchor`).
pub fn period_at(anchor: i64, recurring: Recurring, at: i64) -> (i64, i64, i64) {
    // A first guess from the average length, then a walk to the exact period.
    let average = match recurring.interval {
        Interval::Day => 86_400,
        Interval::Week => 7 * 86_400,
        Interval::Month => 2_629_746,
        Interval::Year => 31_556_952,
    } * recurring.interval_count.max(1);
    let mut n = ((at - anchor) / average).max(0);
    while n > 0 && period_start(anchor, recurring, n) > at {
        n -= 1;
    }
    // A period past the calendar's end (year 9999) starts at the anchor: stop there.
    while period_start(anchor, recurring, n + 1) <= at
        && period_start(anchor, recurring, n + 1) > period_start(anchor, recurring, n)
    {
        n += 1;
    }
    (
        n,
        period_start(anchor, recurring, n),
        period_start(anchor, recurring, n + 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn every(interval: Interval, interval_count: i64) -> Recurring {
        Recurring {
            interval,
            interval_count,
        }
    }

    fn at(t: OffsetDateTime) -> i64 {
        t.unix_timestamp()
    }

    #[test]
    fn periods_past_the_calendars_end_do_not_loop() {
        let anchor = at(datetime!(9999-12-01 0:00 UTC));
        let (_, start, end) = period_at(anchor, every(Interval::Day, 1), anchor + 100 * 86_400);
        assert!(start >= anchor && end >= start);
    }

    #[test]
    fn months_anchored_on_the_31st_clamp_and_return() {
        let anchor = at(datetime!(2027-01-31 10:30 UTC));
        let monthly = every(Interval::Month, 1);
        let starts: Vec<i64> = (0..5).map(|n| period_start(anchor, monthly, n)).collect();
        assert_eq!(
            starts,
            [
                anchor,
                at(datetime!(2027-02-28 10:30 UTC)),
                at(datetime!(2027-03-31 10:30 UTC)),
                at(datetime!(2027-04-30 10:30 UTC)),
                at(datetime!(2027-05-31 10:30 UTC)),
            ]
        );
        let leap = at(datetime!(2028-01-31 00:00 UTC));
        assert_eq!(
            period_start(leap, monthly, 1),
            at(datetime!(2028-02-29 00:00 UTC))
        );
    }

    #[test]
    fn years_weeks_days_and_counts() {
        let feb29 = at(datetime!(2028-02-29 12:00 UTC));
        assert_eq!(
            period_start(feb29, every(Interval::Year, 1), 1),
            at(datetime!(2029-02-28 12:00 UTC))
        );
        assert_eq!(
            period_start(feb29, every(Interval::Year, 1), 4),
            at(datetime!(2032-02-29 12:00 UTC))
        );
        let anchor = at(datetime!(2027-12-30 08:00 UTC));
        assert_eq!(
            period_start(anchor, every(Interval::Week, 2), 1),
            at(datetime!(2028-01-13 08:00 UTC))
        );
        assert_eq!(
            period_start(anchor, every(Interval::Day, 3), 2),
            at(datetime!(2028-01-05 08:00 UTC))
        );
        assert_eq!(
            period_start(anchor, every(Interval::Month, 3), 1),
            at(datetime!(2028-03-30 08:00 UTC))
        );
    }

    #[test]
    fn the_period_holding_a_time() {
        let anchor = at(datetime!(2027-01-31 00:00 UTC));
        let monthly = every(Interval::Month, 1);
        let (n, start, end) = period_at(anchor, monthly, at(datetime!(2027-03-15 00:00 UTC)));
        assert_eq!(n, 1);
        assert_eq!(start, at(datetime!(2027-02-28 00:00 UTC)));
        assert_eq!(end, at(datetime!(2027-03-31 00:00 UTC)));
        assert_eq!(
            period_at(anchor, monthly, anchor),
            (0, anchor, end_of(anchor))
        );
        let (n, start, _) = period_at(anchor, monthly, at(datetime!(2037-01-31 00:00 UTC)));
        assert_eq!((n, start), (120, at(datetime!(2037-01-31 00:00 UTC))));
    }

    fn end_of(anchor: i64) -> i64 {
        period_start(anchor, every(Interval::Month, 1), 1)
    }
}
