//! `/dashboard/customers/{id}`: a customer's name, email and creation, their subscriptions and
//! their invoices with each charge attempt. Reached from their subscriptions and sessions.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::subscriptions::{
    InvoicePage, invoices_table, older_invoices_link, page_after, subscriptions_table,
};
use super::{Signed, failure, layout, signed_in, when};
use crate::domain::DomainError;
use crate::domain::billing::{self, SubscriptionStatus, views};
use crate::domain::customers;
use crate::http::AppState;
use crate::http::pages::escape;
use crate::store::billing::{InvoiceFilter, SubscriptionFilter};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show_customer))
}

/// One customer: who they are, their subscriptions and their invoices.
#[utoipa::path(get, path = "/dashboard/customers/{id}", tag = "Pages", params(("id" = String, Path), InvoicePage),
    responses((status = 200, description = "The customer (HTML)."), (status = 404, description = "Not in this account and mode.")))]
pub async fn show_customer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(page): Query<InvoicePage>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match page_html(&state, &signed, &id, page.invoices_after.as_deref()).await {
        Ok(main) => layout(&signed, "/dashboard/subscriptions", "Customer", &main),
        Err(error) => failure(error),
    }
}

async fn page_html(
    state: &AppState,
    signed: &Signed,
    id: &str,
    invoices_after: Option<&str>,
) -> Result<String, DomainError> {
    let (db, caller) = (&state.db, signed.session.caller());
    let customer = customers::get_customer(db, &caller, id).await?;
    let mut main = format!(
        "<p><code id=\"customer-id\">{id}</code></p><dl class=\"facts\">\
         <dt>Name</dt><dd>{name}</dd><dt>Email</dt><dd>{email}</dd><dt>Created</dt><dd>{created}</dd>",
        id = escape(&customer.id),
        name = escape(customer.name.as_deref().unwrap_or("—")),
        email = escape(customer.email.as_deref().unwrap_or("—")),
        created = when(customer.created),
    );
    if customer.deleted {
        main.push_str("<dt>Deleted</dt><dd>Yes</dd>");
    }
    main.push_str("</dl><h2>Subscriptions</h2>");
    let filter = SubscriptionFilter {
        customer: Some(customer.id.clone()),
        statuses: SubscriptionStatus::ALL.to_vec(),
        ..SubscriptionFilter::default()
    };
    let subscriptions =
        billing::list_subscriptions(db, &caller, &filter, &page_after(None)).await?;
    if subscriptions.items.is_empty() {
        main.push_str("<p class=\"empty\">No subscriptions.</p>");
    } else {
        main.push_str(&subscriptions_table(state, signed, &subscriptions.items).await?);
    }
    if subscriptions.has_more {
        main.push_str(&format!(
            "<p><a class=\"button secondary\" href=\"/dashboard/subscriptions?customer={}\">Every subscription of this customer</a></p>",
            escape(&customer.id)
        ));
    }
    main.push_str("<h2>Invoices</h2>");
    let filter = InvoiceFilter {
        customer: Some(customer.id.clone()),
        ..InvoiceFilter::default()
    };
    let invoices =
        views::invoices_with_attempts(db, &caller, &filter, &page_after(invoices_after)).await?;
    if invoices.items.is_empty() {
        main.push_str("<p class=\"empty\">No invoices on this page.</p>");
    } else {
        main.push_str(&invoices_table(
            &invoices.items,
            &format!("/dashboard/customers/{}", customer.id),
        ));
    }
    main.push_str(&older_invoices_link(
        &format!("/dashboard/customers/{}", escape(&customer.id)),
        &invoices.items,
        invoices.has_more,
    ));
    Ok(main)
}
