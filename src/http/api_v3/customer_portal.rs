//! `/api/v3/customer-portal/sessions`: Loops' customer portal (the path inferred from the Loops
//! SDK's `customerPortal.postApiV3CustomerPortalSessions`; decisions §11). The same sessions and
//! page as Stripe's `/v1/billing_portal/sessions`, for a customer named by `customer` or by the
//! merchant's `externalCustomerId`; names are accepted in camelCase or snake_case.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::portal::{CustomerRef, PortalInput};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::expand;
use crate::http::extract::JsonBody;
use crate::http::stripe::billing_portal;
use crate::http::unsupported::{Off, Unset};
use crate::objects;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_portal_session))
}

/// Parameters of `POST /api/v3/customer-portal/sessions`: one of `externalCustomerId` and
/// `customer`, and `returnUrl`, each also in the other case.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPortalParams {
    /// The merchant's own id of the customer, as its checkout sessions carried it: the
    /// customer of the latest completed one is the portal's.
    #[serde(rename = "externalCustomerId")]
    pub external_customer_id: Option<String>,
    /// `externalCustomerId` in snake_case.
    #[serde(rename = "external_customer_id")]
    pub external_customer_id_snake: Option<String>,
    /// Or the customer's id (`cus_…`).
    pub customer: Option<String>,
    /// Where the page's "Return to …" link goes (required).
    #[serde(rename = "returnUrl")]
    pub return_url_camel: Option<String>,
    /// `returnUrl` in snake_case.
    pub return_url: Option<String>,
    /// The configuration (`bpc_…`): only the account's default.
    pub configuration: Option<String>,
    /// `auto` or an English locale.
    pub locale: Option<String>,
    /// `configuration` and `customer` can be expanded.
    #[serde(default)]
    pub expand: Vec<String>,
    #[serde(rename = "flowData")]
    pub flow_data_camel: Option<Off>,
    pub flow_data: Option<Off>,
    #[serde(rename = "onBehalfOf")]
    pub on_behalf_of_camel: Option<Unset>,
    pub on_behalf_of: Option<Unset>,
    pub customer_account: Option<Unset>,
    pub after_expiration: Option<Off>,
}

/// One value sent under either of two names; both, differing, is an error naming the first.
fn either(
    first: (&'static str, Option<String>),
    second: (&'static str, Option<String>),
) -> Result<(Option<String>, &'static str), ApiError> {
    match (first.1, second.1) {
        (Some(a), Some(b)) if a != b => Err(DomainError::invalid(
            first.0,
            format!("{} and {} differ: send one of them", first.0, second.0),
        )
        .into()),
        (Some(a), _) => Ok((Some(a), first.0)),
        (None, Some(b)) => Ok((Some(b), second.0)),
        (None, None) => Ok((None, first.0)),
    }
}

/// Creates a customer portal session: `{id, url, ...}`, the URL working for one hour.
#[utoipa::path(post, path = "/api/v3/customer-portal/sessions", tag = "Customer portal",
    security(("secret_key" = [])), request_body = CustomerPortalParams,
    responses((status = 200, description = "The `billing_portal.session`, with `returnUrl`, `externalCustomerId` and `expires_at`.", body = objects::CustomerPortalSession),
        (status = 400, description = "A customer that does not exist (`resource_missing`), or a parameter missing or invalid.")))]
pub async fn create_portal_session(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(params): JsonBody<CustomerPortalParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "billing_portal.session")?;
    let (external, external_param) = either(
        ("externalCustomerId", params.external_customer_id),
        ("external_customer_id", params.external_customer_id_snake),
    )?;
    let (return_url, return_param) = either(
        ("returnUrl", params.return_url_camel),
        ("return_url", params.return_url),
    )?;
    let external = external.filter(|e| !e.is_empty());
    let customer = match (params.customer.filter(|c| !c.is_empty()), &external) {
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                external_param,
                format!("give customer or {external_param}, not both"),
            )
            .into());
        }
        (Some(id), None) => CustomerRef::Id(id),
        (None, Some(external)) => CustomerRef::External(external.clone()),
        (None, None) => {
            return Err(DomainError::invalid_with(
                "parameter_missing",
                "externalCustomerId",
                "is required (or customer)",
            )
            .into());
        }
    };
    let input = PortalInput {
        customer,
        return_url,
        return_param,
        configuration: params.configuration,
        locale: params.locale,
    };
    let session = billing_portal::create(&state, &caller, input).await?;
    let object = billing_portal::object(&state, &caller, &session, &expand).await?;
    Ok(Json(objects::to_value(
        &objects::CustomerPortalSession::new(object, &session, external.as_deref()),
    )))
}
