//! `/dashboard`: today's and this month's completed payments and revenue, per currency; the
//! subscriptions (active, monthly recurring revenue, renewals in the next 7 days, past due); and
//! the revenue of each of the last 30 days as a chart drawn on the server (inline SVG: no script,
//! and only classes for its looks, which the page's CSP allows).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{failure, layout, signed_in, when};
use crate::domain::billing::figures::{self, DailyRevenue, Figures};
use crate::domain::money::Currency;
use crate::http::AppState;
use crate::http::pages::escape;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(overview))
}

/// The overview of the selected mode.
#[utoipa::path(get, path = "/dashboard", tag = "Pages",
    responses((status = 200, description = "The overview (HTML)."), (status = 303, description = "Not signed in: to the sign-in page.")))]
pub async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let caller = signed.session.caller();
    let now = time::OffsetDateTime::from_unix_timestamp(state.clock.now())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let today = now.date().midnight().assume_utc().unix_timestamp();
    let month = now
        .date()
        .replace_day(1)
        .unwrap_or(now.date())
        .midnight()
        .assume_utc()
        .unix_timestamp();
    let mut main = String::from("<div class=\"tiles\">");
    for (label, since) in [("Today", today), ("This month", month)] {
        let rows = match crate::store::payments::revenue_since(&state.db, &caller, since).await {
            Ok(rows) => rows,
            Err(error) => return failure(error.into()),
        };
        main.push_str(&format!("<section class=\"tile\"><h2>{label}</h2>"));
        if rows.is_empty() {
            main.push_str("<p class=\"empty\">No completed payments yet.</p>");
        }
        for (currency, count, amount) in rows {
            let currency = Currency::from_stored(currency);
            main.push_str(&format!(
                "<p class=\"figure\"><strong>{}</strong> <span>{count} payment{}</span></p>",
                escape(&currency.display(amount)),
                if count == 1 { "" } else { "s" }
            ));
        }
        main.push_str("</section>");
    }
    main.push_str("</div><p class=\"hint\">Times are UTC. Payments count when they succeed.</p>");
    let (db, at) = (&state.db, state.clock.now());
    match figures::figures(db, &caller, at).await {
        Ok(figures) => main.push_str(&subscription_tiles(&figures)),
        Err(error) => return failure(error),
    }
    main.push_str("<h2>Revenue, last 30 days</h2>");
    match figures::revenue_per_day(db, &caller, at).await {
        Ok(series) if series.is_empty() => {
            main.push_str("<p class=\"empty\">No succeeded charges in the last 30 days.</p>")
        }
        Ok(series) => {
            for one in &series {
                main.push_str(&revenue_chart(one));
            }
        }
        Err(error) => return failure(error),
    }
    layout(&signed, "/dashboard", "Overview", &main)
}

/// A tile with one count: `<strong>3</strong> <span>active</span>`.
fn count_tile(id: &str, title: &str, count: i64, what: &str, link: Option<&str>) -> String {
    let figure = format!("<strong>{count}</strong> <span>{what}</span>");
    let figure = match link {
        Some(href) if count > 0 => format!("<a href=\"{href}\">{figure}</a>"),
        _ => figure,
    };
    format!(
        "<section class=\"tile\" id=\"{id}\"><h2>{title}</h2><p class=\"figure\">{figure}</p></section>"
    )
}

/// The subscription figures: active, MRR per currency, renewals coming, past due.
fn subscription_tiles(figures: &Figures) -> String {
    let plural = |n: i64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    let mut mrr = String::new();
    for (currency, amount) in &figures.mrr {
        mrr.push_str(&format!(
            "<p class=\"figure\"><strong>{}</strong> <span>{} a month</span></p>",
            escape(&currency.display(*amount)),
            escape(&currency.upper()),
        ));
    }
    if mrr.is_empty() {
        mrr.push_str("<p class=\"empty\">No recurring revenue yet.</p>");
    }
    format!(
        "<h2>Subscriptions</h2><div class=\"tiles figures\">{active}\
         <section class=\"tile\" id=\"figure-mrr\"><h2>Monthly recurring revenue</h2>{mrr}</section>\
         {renewals}{past_due}</div>\
         <p class=\"hint\">Monthly recurring revenue counts active and past due subscriptions (not \
         trialing ones), each price per month: yearly ÷ 12, weekly × 52 ÷ 12, daily × 365 ÷ 12.</p>",
        active = count_tile(
            "figure-active",
            "Active subscriptions",
            figures.active,
            plural(figures.active, "subscription", "subscriptions"),
            Some("/dashboard/subscriptions?status=active"),
        ),
        renewals = count_tile(
            "figure-renewals",
            "Renewals in the next 7 days",
            figures.renewals_due,
            plural(figures.renewals_due, "renewal", "renewals"),
            None,
        ),
        past_due = count_tile(
            "figure-past-due",
            "Past due",
            figures.past_due,
            plural(figures.past_due, "subscription", "subscriptions"),
            Some("/dashboard/subscriptions?status=past_due"),
        ),
    )
}

/// The chart's drawing area, in SVG units (the drawing scales to the page's width).
const CHART_WIDTH: i64 = 900;
const CHART_HEIGHT: i64 = 200;
/// The bars' baseline and their tallest height.
const BASELINE: i64 = 170;
const TALLEST: i64 = 145;

/// `2026-11-23`.
fn day(unix: i64) -> String {
    when(unix).split(' ').next().unwrap_or_default().to_string()
}

/// One currency's revenue per day as a bar chart (inline SVG), each bar titled with its day
/// and amount and carrying them as `data-day` and `data-amount` (minor units).
fn revenue_chart(series: &DailyRevenue) -> String {
    let currency = &series.currency;
    let code = escape(currency.as_str());
    let tallest = series
        .days
        .iter()
        .map(|(_, a)| *a)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = CHART_WIDTH / series.days.len().max(1) as i64;
    let mut bars = String::new();
    for (index, (start, amount)) in series.days.iter().enumerate() {
        if *amount <= 0 {
            continue;
        }
        let height =
            (i128::from(*amount) * i128::from(TALLEST) / i128::from(tallest)).max(1) as i64;
        let text = format!("{}: {}", day(*start), currency.display(*amount));
        bars.push_str(&format!(
            "<rect class=\"bar\" x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\" \
             data-day=\"{day}\" data-amount=\"{amount}\"><title>{title}</title></rect>",
            x = index as i64 * slot + 2,
            y = BASELINE - height,
            width = slot - 4,
            day = day(*start),
            title = escape(&text),
        ));
    }
    let (first, last) = (
        series.days.first().map_or(0, |(d, _)| *d),
        series.days.last().map_or(0, |(d, _)| *d),
    );
    let title = format!(
        "Revenue per day in {}, {} to {}: {} in all",
        currency.upper(),
        day(first),
        day(last),
        currency.display(series.total)
    );
    format!(
        "<figure class=\"chart\" id=\"revenue-{code}\">\
         <svg viewBox=\"0 0 {CHART_WIDTH} {CHART_HEIGHT}\" role=\"img\" aria-labelledby=\"revenue-{code}-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"revenue-{code}-title\">{title}</title>\
         <text class=\"label\" x=\"0\" y=\"14\">{top}</text>\
         <line class=\"axis\" x1=\"0\" y1=\"{BASELINE}\" x2=\"{CHART_WIDTH}\" y2=\"{BASELINE}\"></line>{bars}\
         <text class=\"label\" x=\"0\" y=\"{label_y}\">{first}</text>\
         <text class=\"label end\" x=\"{CHART_WIDTH}\" y=\"{label_y}\">{last}</text></svg>\
         <figcaption><strong>{total}</strong> in {upper} over the last 30 days; the tallest bar is {top}.</figcaption>\
         </figure>",
        title = escape(&title),
        top = escape(&currency.display(tallest)),
        label_y = BASELINE + 24,
        first = day(first),
        last = day(last),
        total = escape(&currency.display(series.total)),
        upper = escape(&currency.upper()),
    )
}
