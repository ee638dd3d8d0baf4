//! `/v1/test_helpers/test_clocks`: Stripe's test clocks (decisions §11), in test mode only; a
//! live-mode key finds no such route. `advance` answers at once with `status=advancing`; the
//! clock is `ready` (and `test_helpers.test_clock.ready` written) once every step due up to the
//! new time has run.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::StripeList;
use crate::domain::accounts::Caller;
use crate::domain::test_clocks;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::{ListQuery, Query, StripeBody};
use crate::http::params::{ExpandParams, NoParams};
use crate::objects;

const PATH: &str = "/v1/test_helpers/test_clocks";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_test_clock, list_test_clocks))
        .routes(routes!(retrieve_test_clock, delete_test_clock))
        .routes(routes!(advance_test_clock))
}

/// Test clocks exist in test mode only: to a live key the routes do not exist.
fn test_mode(caller: &Caller, method: &str, path: &str) -> Result<(), ApiError> {
    if caller.mode.is_live() {
        let mut error = ApiError::unknown_route(method, path);
        error.message = format!(
            "{} Test clocks exist in test mode only: use a test-mode secret key.",
            error.message
        );
        return Err(error);
    }
    Ok(())
}

/// Parameters of `POST /v1/test_helpers/test_clocks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateParams {
    /// The clock's starting time, in unix seconds.
    pub frozen_time: i64,
    /// A name for it, up to 300 characters.
    pub name: Option<String>,
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Creates a test clock at `frozen_time`.
#[utoipa::path(post, path = "/v1/test_helpers/test_clocks", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = CreateParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The test_helpers.test_clock object.", body = objects::TestClock),
        (status = 400, description = "A parameter is invalid."),
        (status = 404, description = "In live mode: test clocks exist in test mode only.")))]
pub async fn create_test_clock(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(params): StripeBody<CreateParams>,
) -> Result<Json<Value>, ApiError> {
    test_mode(&caller, "POST", PATH)?;
    expand::check(params.expand, "test_helpers.test_clock")?;
    let clock = test_clocks::create(
        &state.db,
        &caller,
        params.frozen_time,
        params.name,
        state.clock.now(),
    )
    .await?;
    Ok(Json(clock.object()))
}

/// Lists test clocks, newest first.
#[utoipa::path(get, path = "/v1/test_helpers/test_clocks", tag = "Stripe", security(("secret_key" = [])),
    params(NoParams, StripeList), responses((status = 200, description = "A list of test clocks.", body = objects::TestClockList)))]
pub async fn list_test_clocks(
    State(state): State<AppState>,
    caller: Caller,
    ListQuery(NoParams {}, mut list): ListQuery<NoParams, StripeList>,
) -> Result<Json<objects::List<'static, Value>>, ApiError> {
    test_mode(&caller, "GET", PATH)?;
    expand::check_list(std::mem::take(&mut list.expand), "test_helpers.test_clock")?;
    let page = test_clocks::list(&state.db, &caller, &list.page()?).await?;
    let data = page.items.iter().map(|c| c.object()).collect();
    Ok(Json(objects::List::new(data, page.has_more, PATH)))
}

/// Retrieves a test clock: `status` is `advancing` until an advance has run, then `ready`.
#[utoipa::path(get, path = "/v1/test_helpers/test_clocks/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path), ExpandParams),
    responses((status = 200, description = "The test_helpers.test_clock object.", body = objects::TestClock),
        (status = 404, description = "No such test clock.")))]
pub async fn retrieve_test_clock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<ExpandParams>,
) -> Result<Json<Value>, ApiError> {
    test_mode(&caller, "GET", &format!("{PATH}/{id}"))?;
    expand::check(params.expand, "test_helpers.test_clock")?;
    Ok(Json(
        test_clocks::get(&state.db, &caller, &id).await?.object(),
    ))
}

/// Deletes a test clock and what lives on it: its customers are deleted, which cancels their
/// subscriptions, and its open checkout sessions expire.
#[utoipa::path(delete, path = "/v1/test_helpers/test_clocks/{id}", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "`{id, object: \"test_helpers.test_clock\", deleted: true}`", body = objects::Deleted),
        (status = 404, description = "No such test clock.")))]
pub async fn delete_test_clock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    test_mode(&caller, "DELETE", &format!("{PATH}/{id}"))?;
    let deleted = test_clocks::delete(
        &state.db,
        &caller,
        &id,
        state.clock.now(),
        &state.config.public_url,
    )
    .await?;
    Ok(Json(deleted))
}

/// Parameters of `POST /v1/test_helpers/test_clocks/{id}/advance`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceParams {
    /// The time to move to, in unix seconds: after the clock's `frozen_time`, with no upper
    /// bound (Stripe caps an advance at two billing intervals; kassa does not).
    pub frozen_time: i64,
    #[serde(default)]
    pub expand: Vec<String>,
}

/// Starts moving the clock forward to `frozen_time`; answers at once with `status=advancing`.
#[utoipa::path(post, path = "/v1/test_helpers/test_clocks/{id}/advance", tag = "Stripe", security(("secret_key" = [])),
    params(("id" = String, Path)),
    request_body(content = AdvanceParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The test clock, `advancing`.", body = objects::TestClock),
        (status = 400, description = "`frozen_time` is not after the clock's time, or the clock is already advancing (`test_clock_advancing`)."),
        (status = 404, description = "No such test clock.")))]
pub async fn advance_test_clock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    StripeBody(params): StripeBody<AdvanceParams>,
) -> Result<Json<Value>, ApiError> {
    test_mode(&caller, "POST", &format!("{PATH}/{id}/advance"))?;
    expand::check(params.expand, "test_helpers.test_clock")?;
    let clock = test_clocks::advance(
        &state.db,
        &caller,
        &id,
        params.frozen_time,
        state.clock.now(),
    )
    .await?;
    Ok(Json(clock.object()))
}
