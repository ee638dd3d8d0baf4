//! `/v1/billing_portal/sessions`: a customer portal session, whose `url` the merchant sends its
//! customer to (decisions §11; Stripe's `billing_portal.session`). Loops V3's
//! `/api/v3/customer-portal/sessions` makes the same sessions.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::accounts::Caller;
use crate::domain::customers;
use crate::domain::portal::{self, CustomerRef, PortalInput, PortalSession};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::expand::{self, Expand};
use crate::http::extract::StripeBody;
use crate::http::unsupported::{Off, Unset};
use crate::objects::{self, Expandable};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_portal_session))
}

/// Parameters of `POST /v1/billing_portal/sessions`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalSessionParams {
    /// The customer (`cus_…`) whose portal it is.
    pub customer: String,
    /// Where the page's "Return to …" link goes: an absolute http(s) URL. Required, since
    /// kassa's configuration has no default return URL.
    pub return_url: Option<String>,
    /// The configuration (`bpc_…`): only the account's default, which is used when absent.
    pub configuration: Option<String>,
    /// `auto` or an English locale (`en`, `en-GB`...): kassa's pages are in English.
    pub locale: Option<String>,
    /// `configuration` and `customer` can be expanded.
    #[serde(default)]
    pub expand: Vec<String>,
    /// kassa's portal has no deep-linked flows.
    pub flow_data: Option<Off>,
    /// kassa has no connected accounts.
    pub on_behalf_of: Option<Unset>,
    /// kassa has no Accounts v2 customers: `customer` names the customer.
    pub customer_account: Option<Unset>,
    /// kassa offers no sign-in page after a session expires.
    pub after_expiration: Option<Off>,
}

/// Creates a customer portal session: its `url` opens the customer's portal for one hour.
#[utoipa::path(post, path = "/v1/billing_portal/sessions", tag = "Stripe", security(("secret_key" = [])),
    request_body(content = PortalSessionParams, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The `billing_portal.session`.", body = objects::PortalSession),
        (status = 400, description = "A customer or configuration that does not exist (`resource_missing`), or a parameter missing or invalid.")))]
pub async fn create_portal_session(
    State(state): State<AppState>,
    caller: Caller,
    StripeBody(params): StripeBody<PortalSessionParams>,
) -> Result<Json<Value>, ApiError> {
    let expand = expand::check(params.expand, "billing_portal.session")?;
    let input = PortalInput {
        customer: CustomerRef::Id(params.customer),
        return_url: params.return_url,
        return_param: "return_url",
        configuration: params.configuration,
        locale: params.locale,
    };
    let session = create(&state, &caller, input).await?;
    let object = object(&state, &caller, &session, &expand).await?;
    Ok(Json(objects::to_value(&object)))
}

/// Creates a session for both surfaces.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: PortalInput,
) -> Result<PortalSession, ApiError> {
    let now = state.clock.now();
    Ok(portal::create(&state.db, caller, input, now, &state.config.public_url).await?)
}

/// The session's object, with `configuration` and `customer` expanded when asked.
pub async fn object<'a>(
    state: &AppState,
    caller: &Caller,
    session: &'a PortalSession,
    expand: &Expand,
) -> Result<objects::PortalSession<'a>, ApiError> {
    let mut object = objects::PortalSession::new(session, &state.config.public_url);
    if expand.reaches("configuration") {
        let configuration =
            portal::default_configuration(&state.db, caller, state.clock.now()).await?;
        let configuration = objects::PortalConfiguration::new(&configuration);
        object.configuration = Expandable::Object(expand::fetched(&configuration));
    }
    if expand.reaches("customer") {
        let customer = customers::get_customer(&state.db, caller, &session.customer_id).await?;
        object.customer = Expandable::Object(expand::fetched(&objects::Customer::new(&customer)));
    }
    Ok(object)
}
