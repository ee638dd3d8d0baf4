//! `/dashboard/links`: payment links of the selected mode: list, create from products, copy
//! the URL, deactivate.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Signed, failure, layout, see_other, signed_form, signed_in, when};
use crate::domain::DomainError;
use crate::domain::catalog::{
    self, PaymentLinkFilter, PaymentLinkInput, ProductFilter, ProductStatus,
};
use crate::domain::list::{PageRequest, PageStart};
use crate::http::AppState;
use crate::http::pages::escape;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_links, create_link))
        .routes(routes!(deactivate_link))
}

fn first_page() -> PageRequest {
    PageRequest {
        limit: 100,
        start: PageStart::Offset(0),
        after_param: "after",
    }
}

async fn render(state: &AppState, signed: &Signed, error: Option<&str>) -> Response {
    let caller = signed.session.caller();
    let links = match catalog::list_payment_links(
        &state.db,
        &caller,
        &PaymentLinkFilter::default(),
        &first_page(),
    )
    .await
    {
        Ok(page) => page.items,
        Err(error) => return failure(error),
    };
    let active_products = ProductFilter {
        status: Some(ProductStatus::Active),
        ..Default::default()
    };
    let products =
        match catalog::list_products(&state.db, &caller, &active_products, &first_page()).await {
            Ok(page) => page.items,
            Err(error) => return failure(error),
        };
    let csrf = escape(&signed.session.csrf_token);
    let alert = error
        .map(|e| {
            format!(
                "<div class=\"alert\" role=\"alert\" id=\"form-alert\">{}</div>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let mut main = alert;
    let sellable: Vec<_> = products
        .iter()
        .filter(|p| p.default_price.is_some())
        .collect();
    if sellable.is_empty() {
        main.push_str("<p class=\"empty\">Create a product with a price first; then make a link to sell it.</p>");
    } else {
        main.push_str(&format!(
            "<form method=\"post\" action=\"/dashboard/links\" class=\"card wide\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <fieldset><legend>New payment link: the products it sells</legend>"
        ));
        for product in sellable {
            main.push_str(&format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"product\" value=\"{id}\"> {name}</label>",
                id = escape(&product.id),
                name = escape(&product.name),
            ));
        }
        main.push_str("</fieldset><div class=\"actions\"><button type=\"submit\" class=\"primary\">Create payment link</button></div></form>");
    }
    if links.is_empty() {
        main.push_str("<p class=\"empty\">No payment links yet.</p>");
    } else {
        main.push_str("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Link</th><th scope=\"col\">Status</th><th scope=\"col\">Created</th><th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody>");
        for link in &links {
            let id = escape(&link.id);
            let url = escape(&link.url(&state.config.public_url));
            let deactivate = if link.active {
                format!(
                    "<form method=\"post\" action=\"/dashboard/links/{id}/deactivate\" class=\"inline-form\" data-confirm=\"Deactivate this link? Visitors will be told it is no longer available.\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" class=\"danger small\">Deactivate</button></form>"
                )
            } else {
                String::new()
            };
            main.push_str(&format!(
                "<tr><td><code id=\"url-{id}\">{url}</code><br><span class=\"hint\">{id}</span></td><td><span class=\"status\">{status}</span></td><td>{created}</td>\
                 <td><button type=\"button\" class=\"secondary small\" data-copy=\"#url-{id}\">Copy URL</button> {deactivate}</td></tr>",
                status = if link.active { "active" } else { "inactive" },
                created = when(link.created),
            ));
        }
        main.push_str("</tbody></table></div>");
    }
    layout(signed, "/dashboard/links", "Payment links", &main)
}

/// Payment links of the selected mode, and a form to make one.
#[utoipa::path(get, path = "/dashboard/links", tag = "Pages",
    responses((status = 200, description = "The links (HTML)."), (status = 303, description = "Not signed in.")))]
pub async fn list_links(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok(signed) => render(&state, &signed, None).await,
        Err(response) => response,
    }
}

/// Creates a payment link selling the chosen products (each once, at its default price).
#[utoipa::path(post, path = "/dashboard/links", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`, `product` (repeated)."),
    responses((status = 303, description = "Back to the links."), (status = 400, description = "The page again, with the error.")))]
pub async fn create_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let products: Vec<String> = fields
        .iter()
        .filter(|(name, _)| name == "product")
        .map(|(_, id)| id.clone())
        .collect();
    if products.is_empty() {
        let mut response = render(&state, &signed, Some("Choose at least one product.")).await;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    }
    let input = PaymentLinkInput {
        product_ids: Some(products),
        ..Default::default()
    };
    let created = catalog::create_payment_link(
        &state.db,
        &signed.session.caller(),
        input,
        &state.config.public_url,
        state.clock.now(),
    )
    .await;
    match created {
        Ok(_) => see_other("/dashboard/links"),
        Err(DomainError::Invalid { param, message, .. }) => {
            let mut response = render(&state, &signed, Some(&format!("{param}: {message}."))).await;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            response
        }
        Err(error) => failure(error),
    }
}

/// Deactivates a payment link: its URL answers that it is no longer available.
#[utoipa::path(post, path = "/dashboard/links/{id}/deactivate", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Back to the links.")))]
pub async fn deactivate_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let input = PaymentLinkInput {
        active: Some(false),
        ..Default::default()
    };
    match catalog::update_payment_link(
        &state.db,
        &signed.session.caller(),
        &id,
        input,
        &state.config.public_url,
        state.clock.now(),
    )
    .await
    {
        Ok(_) => see_other("/dashboard/links"),
        Err(error) => failure(error),
    }
}
