//! `GET /api/v3/account` and `POST /api/v3/account`: the account of the key in use.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::{self, Account, Caller};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{JsonBody, Query};
use crate::http::params::NoParams;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(retrieve_account, update_account))
}

/// The account object.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountObject {
    /// `acct_...`
    id: String,
    /// Always `account`.
    #[schema(example = "account")]
    object: &'static str,
    /// The merchant's name, shown to customers on hosted pages.
    name: String,
    /// Whether the key in use is a live key.
    livemode: bool,
    /// When the account was created, unix seconds.
    created: i64,
    /// What ends a subscription whose renewal could not be charged after every retry:
    /// `cancel` (the default) or `unpaid`.
    #[schema(example = "cancel")]
    dunning_final_action: String,
    /// Whether customers are emailed a receipt for each payment and refund (sent only when
    /// the server has an SMTP server, `--smtp-url`).
    receipt_emails: bool,
}

impl AccountObject {
    async fn of(state: &AppState, account: Account, caller: &Caller) -> Result<Self, ApiError> {
        let dunning_final_action = accounts::dunning_final_action(&state.db, &account.id)
            .await?
            .as_str()
            .to_string();
        let receipt_emails = accounts::receipt_emails(&state.db, &account.id).await?;
        Ok(AccountObject {
            id: account.id,
            object: "account",
            name: account.name,
            livemode: caller.mode.is_live(),
            created: account.created,
            dunning_final_action,
            receipt_emails,
        })
    }
}

/// The account the API key belongs to, in the key's mode.
#[utoipa::path(
    get,
    path = "/api/v3/account",
    tag = "Account",
    security(("secret_key" = [])),
    responses(
        (status = 200, description = "The account.", body = AccountObject),
        (status = 401, description = "Missing, unknown or revoked key."),
    )
)]
pub async fn retrieve_account(
    State(state): State<AppState>,
    caller: Caller,
    Query(NoParams {}): Query<NoParams>,
) -> Result<Json<AccountObject>, ApiError> {
    let account = accounts::get_account(&state.db, &caller.account_id).await?;
    Ok(Json(AccountObject::of(&state, account, &caller).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// The merchant's name, 1 to 100 characters.
    name: Option<String>,
    /// `cancel` or `unpaid`: what ends a subscription whose renewal failed every retry.
    dunning_final_action: Option<String>,
    /// Whether customers are emailed receipts.
    receipt_emails: Option<bool>,
}

/// Updates the account's name, billing settings and receipt emails.
#[utoipa::path(
    post,
    path = "/api/v3/account",
    tag = "Account",
    security(("secret_key" = [])),
    request_body = UpdateAccount,
    responses(
        (status = 200, description = "The account.", body = AccountObject),
        (status = 400, description = "A parameter is invalid; `error.param` names it."),
        (status = 401, description = "Missing, unknown or revoked key."),
    )
)]
pub async fn update_account(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(update): JsonBody<UpdateAccount>,
) -> Result<Json<AccountObject>, ApiError> {
    if let Some(action) = &update.dunning_final_action {
        let action = accounts::DunningFinalAction::parse(action).ok_or_else(|| {
            ApiError::invalid_param("dunning_final_action", "must be one of cancel, unpaid")
        })?;
        accounts::set_dunning_final_action(&state.db, &caller.account_id, action).await?;
    }
    if let Some(on) = update.receipt_emails {
        accounts::set_receipt_emails(&state.db, &caller.account_id, on).await?;
    }
    let account = match update.name {
        Some(name) => accounts::rename_account(&state.db, &caller.account_id, &name).await?,
        None => accounts::get_account(&state.db, &caller.account_id).await?,
    };
    Ok(Json(AccountObject::of(&state, account, &caller).await?))
}
