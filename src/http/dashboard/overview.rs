//! `/dashboard`: today's and this month's completed payments and revenue, per currency.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{failure, layout, signed_in};
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
    layout(&signed, "/dashboard", "Overview", &main)
}
