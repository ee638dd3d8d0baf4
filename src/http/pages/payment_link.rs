//! `/l/{id}`: a payment link's public address. Each visit starts a fresh checkout session for
//! the link and sends the browser to its hosted page.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::message_page;
use crate::domain::DomainError;
use crate::domain::checkout::{self, SessionInput, SessionSource};
use crate::http::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(visit_payment_link))
}

/// Starts a checkout session for the link and redirects (303) to its hosted page.
#[utoipa::path(get, path = "/l/{id}", tag = "Pages",
    params(("id" = String, Path, description = "`pl_...`")),
    responses((status = 303, description = "To the new session's hosted page."),
              (status = 404, description = "No such payment link (HTML)."),
              (status = 410, description = "The link is no longer available (HTML).")))]
pub async fn visit_payment_link(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let owner = match crate::domain::catalog::payment_link_owner(&state.db, &id).await {
        Ok(Some(owner)) => owner,
        Ok(None) => {
            return message_page(
                StatusCode::NOT_FOUND,
                "Link not found",
                "This payment link does not exist.",
            );
        }
        Err(error) => return internal(error),
    };
    let input = SessionInput::new(SessionSource::PaymentLink(id));
    match checkout::create_session(&state.db, &owner, input, state.clock.now()).await {
        Ok(session) => {
            let url = session.url(&state.config.public_url);
            let mut response = StatusCode::SEE_OTHER.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::LOCATION,
                HeaderValue::from_str(&url).expect("session URLs are ASCII"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) if error.is_out_of_bounds() => message_page(
            StatusCode::CONFLICT,
            "Cannot take payments",
            "This payment link's total is outside what a single card payment can be, so it \
             cannot take payments. Please contact the seller; you have not been charged.",
        ),
        Err(DomainError::Invalid { .. }) => message_page(
            StatusCode::GONE,
            "No longer available",
            "This payment link is no longer available. Please contact the seller.",
        ),
        Err(error) => internal(error),
    }
}

fn internal(error: DomainError) -> Response {
    tracing::error!(%error, "payment link visit failed");
    message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Something went wrong on our side. Please try again in a moment.",
    )
}
