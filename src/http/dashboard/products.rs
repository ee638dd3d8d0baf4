//! `/dashboard/products`: the catalog in the selected mode: list (status filter, search by
//! name), create and edit with every Loops field, archive, and a ⋮ menu to copy a product's id.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Signed, failure, field, layout, see_other, signed_form, signed_in, when};
use crate::domain::DomainError;
use crate::domain::catalog::{self, AmountType, PriceInput, Product, ProductFilter, ProductStatus};
use crate::domain::list::{PageRequest, PageStart};
use crate::http::AppState;
use crate::http::pages::escape;
use crate::http::params::LoopsProductBody;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(new_product))
        .routes(routes!(edit_product, update_product))
        .routes(routes!(archive_product))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductSearch {
    /// ACTIVE, INACTIVE or DRAFT.
    pub status: Option<String>,
    /// Text in the product's name.
    pub q: Option<String>,
    /// The page after this product id.
    pub after: Option<String>,
}

fn price_text(product: &Product) -> String {
    match &product.default_price {
        None => "No price".into(),
        Some(price) => {
            let terms = &price.terms;
            let per = terms
                .recurring
                .as_ref()
                .map(|r| format!(" / {}", r.interval.as_str()))
                .unwrap_or_default();
            match terms.amount_type() {
                AmountType::Free => "Free".into(),
                AmountType::Custom => "Customer chooses".into(),
                AmountType::Fixed => format!(
                    "{}{per}",
                    terms.currency.display(terms.unit_amount.unwrap_or(0))
                ),
            }
        }
    }
}

/// Products of the selected mode, newest first.
#[utoipa::path(get, path = "/dashboard/products", tag = "Pages", params(ProductSearch),
    responses((status = 200, description = "The products (HTML)."), (status = 303, description = "Not signed in.")))]
pub async fn list_products(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(search): Query<ProductSearch>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let caller = signed.session.caller();
    let status = search.status.clone().unwrap_or_default();
    let query = search.q.clone().unwrap_or_default();
    let filter = ProductFilter {
        status: ProductStatus::parse(&status, "status").ok(),
        name_contains: Some(query.trim().to_string()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: 25,
        start: search
            .after
            .clone()
            .map(PageStart::After)
            .unwrap_or(PageStart::Offset(0)),
    };
    let products = match catalog::list_products(&state.db, &caller, &filter, &page).await {
        Ok(products) => products,
        Err(error) => return failure(error),
    };
    let mut options = String::new();
    for (value, label) in [
        ("", "Any status"),
        ("ACTIVE", "Active"),
        ("INACTIVE", "Archived"),
        ("DRAFT", "Draft"),
    ] {
        let selected = if value == status { " selected" } else { "" };
        options.push_str(&format!(
            "<option value=\"{value}\"{selected}>{label}</option>"
        ));
    }
    let mut main = format!(
        "<p><a class=\"button\" href=\"/dashboard/products/new\">Create a product</a></p>\
         <form method=\"get\" class=\"filters\" role=\"search\">\
         <label for=\"status\">Status</label><select id=\"status\" name=\"status\">{options}</select>\
         <label for=\"q\">Name</label><input id=\"q\" name=\"q\" type=\"search\" value=\"{q}\">\
         <button type=\"submit\" class=\"secondary\">Search</button></form>",
        q = escape(&query),
    );
    if products.items.is_empty() {
        main.push_str(
            "<p class=\"empty\">No products yet — <a href=\"/dashboard/products/new\">create one</a>.</p>",
        );
    } else {
        main.push_str(
            "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Product</th><th scope=\"col\">Price</th>\
             <th scope=\"col\">Status</th><th scope=\"col\">Created</th><th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody>",
        );
        for product in &products.items {
            let id = escape(&product.id);
            main.push_str(&format!(
                "<tr><td><a href=\"/dashboard/products/{id}\">{name}</a><br><code class=\"hint\" id=\"id-{id}\">{id}</code></td>\
                 <td>{price}</td><td><span class=\"status\">{status}</span></td><td>{created}</td>\
                 <td><details class=\"menu\"><summary aria-label=\"Actions for {name}\">⋮</summary>\
                 <div class=\"menu-items\"><button type=\"button\" class=\"link\" data-copy=\"#id-{id}\">Copy Product ID</button>\
                 <a href=\"/dashboard/products/{id}\">Edit</a></div></details></td></tr>",
                name = escape(&product.name),
                price = escape(&price_text(product)),
                status = product.status.as_str(),
                created = when(product.created),
            ));
        }
        main.push_str("</tbody></table></div>");
        if products.has_more
            && let Some(last) = products.items.last()
        {
            main.push_str(&format!(
                "<p><a class=\"button secondary\" href=\"/dashboard/products?status={}&amp;q={}&amp;after={}\">Next page</a></p>",
                escape(&status),
                escape(&query),
                escape(&last.id)
            ));
        }
    }
    layout(&signed, "/dashboard/products", "Products", &main)
}

/// The product form, filled from `product` (edit) or empty (create), with `error` above it.
fn form(signed: &Signed, product: Option<&Product>, error: Option<&str>) -> String {
    let value = |v: Option<String>| escape(&v.unwrap_or_default());
    let price = product.and_then(|p| p.default_price.as_ref());
    let terms = price.map(|p| &p.terms);
    let amount_type = terms.map(|t| t.amount_type()).unwrap_or(AmountType::Fixed);
    let currency = terms
        .map(|t| t.currency.clone())
        .unwrap_or_else(|| crate::domain::money::Currency::parse("usd", "").expect("usd"));
    let major = |minor: Option<i64>| minor.map(|m| currency.format_major(m));
    let interval = terms
        .and_then(|t| t.recurring.as_ref())
        .map(|r| r.interval.as_str())
        .unwrap_or("");
    let mut types = String::new();
    for (kind, label) in [
        (AmountType::Fixed, "Fixed price"),
        (AmountType::Custom, "Customer chooses"),
        (AmountType::Free, "Free"),
    ] {
        let selected = if kind == amount_type { " selected" } else { "" };
        types.push_str(&format!(
            "<option value=\"{}\"{selected}>{label}</option>",
            kind.as_str()
        ));
    }
    let mut intervals = String::new();
    for (v, label) in [
        ("", "One-time"),
        ("month", "Every month"),
        ("year", "Every year"),
    ] {
        let selected = if v == interval { " selected" } else { "" };
        intervals.push_str(&format!("<option value=\"{v}\"{selected}>{label}</option>"));
    }
    let metadata = product
        .map(|p| {
            p.metadata
                .0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let action = match product {
        Some(p) => format!("/dashboard/products/{}", escape(&p.id)),
        None => "/dashboard/products".into(),
    };
    let alert = error
        .map(|e| {
            format!(
                "<div class=\"alert\" role=\"alert\" id=\"form-alert\">{}</div>",
                escape(e)
            )
        })
        .unwrap_or_default();
    format!(
        "{alert}<form method=\"post\" action=\"{action}\" class=\"card wide\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"field\"><label for=\"f-name\">Name</label><input id=\"f-name\" name=\"name\" required maxlength=\"250\" value=\"{name}\"></div>\
         <div class=\"field\"><label for=\"f-description\">Description</label><input id=\"f-description\" name=\"description\" value=\"{description}\"></div>\
         <div class=\"row\"><div class=\"field\"><label for=\"f-type\">Amount type</label><select id=\"f-type\" name=\"amountType\">{types}</select></div>\
         <div class=\"field\"><label for=\"f-currency\">Currency</label><input id=\"f-currency\" name=\"priceCurrency\" maxlength=\"3\" value=\"{currency}\"></div></div>\
         <div class=\"row\"><div class=\"field\"><label for=\"f-price\">Price</label><input id=\"f-price\" name=\"priceAmount\" inputmode=\"decimal\" value=\"{price}\"></div>\
         <div class=\"field\"><label for=\"f-interval\">Billing</label><select id=\"f-interval\" name=\"recurringInterval\">{intervals}</select></div></div>\
         <div class=\"row\"><div class=\"field\"><label for=\"f-minimum\">Minimum (customer chooses)</label><input id=\"f-minimum\" name=\"minimumAmount\" inputmode=\"decimal\" value=\"{minimum}\"></div>\
         <div class=\"field\"><label for=\"f-preset\">Suggested amount</label><input id=\"f-preset\" name=\"presetAmount\" inputmode=\"decimal\" value=\"{preset}\"></div></div>\
         <div class=\"field\"><label for=\"f-image\">Image URL</label><input id=\"f-image\" name=\"image\" type=\"url\" value=\"{image}\"></div>\
         <div class=\"field\"><label for=\"f-metadata\">Metadata</label><textarea id=\"f-metadata\" name=\"metadata\" rows=\"3\" aria-describedby=\"f-metadata-hint\">{metadata}</textarea>\
         <span class=\"hint\" id=\"f-metadata-hint\">One key=value per line.</span></div>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Save product</button></div></form>",
        csrf = escape(&signed.session.csrf_token),
        name = value(product.map(|p| p.name.clone())),
        description = value(product.and_then(|p| p.description.clone())),
        currency = escape(currency.as_str()),
        price = value(major(terms.and_then(|t| t.unit_amount))),
        minimum = value(major(terms.and_then(|t| t.custom.as_ref()?.minimum))),
        preset = value(major(terms.and_then(|t| t.custom.as_ref()?.preset))),
        image = value(product.and_then(|p| p.images.first().cloned())),
        metadata = escape(&metadata),
    )
}

/// The form's fields as a Loops product body (what the V3 API takes).
fn body(fields: &[(String, String)]) -> Result<LoopsProductBody, DomainError> {
    let mut object = Map::new();
    for name in [
        "name",
        "description",
        "amountType",
        "priceCurrency",
        "recurringInterval",
    ] {
        object.insert(name.into(), json!(field(fields, name).trim()));
    }
    for name in ["priceAmount", "minimumAmount", "presetAmount"] {
        let text = field(fields, name).trim();
        if !text.is_empty() {
            object.insert(name.into(), json!(text));
        }
    }
    let image = field(fields, "image").trim();
    object.insert(
        "images".into(),
        json!(if image.is_empty() {
            vec![]
        } else {
            vec![image]
        }),
    );
    let mut metadata = Map::new();
    for line in field(fields, "metadata")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let (key, value) = line.split_once('=').ok_or_else(|| {
            DomainError::invalid("metadata", format!("'{line}' is not key=value"))
        })?;
        metadata.insert(key.trim().into(), json!(value.trim()));
    }
    object.insert("metadata".into(), Value::Object(metadata));
    serde_json::from_value(Value::Object(object))
        .map_err(|e| DomainError::invalid("product", e.to_string()))
}

fn message(error: DomainError) -> String {
    match error {
        DomainError::Invalid { param, message, .. } => format!("{param}: {message}."),
        other => other.to_string(),
    }
}

async fn save(
    state: &AppState,
    signed: &Signed,
    id: Option<&str>,
    fields: &[(String, String)],
) -> Result<Product, String> {
    let caller = signed.session.caller();
    let (input, pricing) = body(fields)
        .map_err(message)?
        .into_parts()
        .map_err(|e| e.message)?;
    let now = state.clock.now();
    let saved = match id {
        None => {
            let price = if pricing.is_empty() {
                None
            } else {
                Some(PriceInput::with_terms(
                    pricing.terms(None).map_err(message)?,
                ))
            };
            catalog::create_product(&state.db, &caller, input, price, now).await
        }
        Some(id) => {
            catalog::update_product(&state.db, &caller, id, input, Some(pricing), None, now).await
        }
    };
    saved.map_err(message)
}

/// The form to create a product.
#[utoipa::path(get, path = "/dashboard/products/new", tag = "Pages",
    responses((status = 200, description = "The form (HTML).")))]
pub async fn new_product(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok(signed) => {
            let main = form(&signed, None, None);
            layout(&signed, "/dashboard/products", "Create a product", &main)
        }
        Err(response) => response,
    }
}

/// Creates a product.
#[utoipa::path(post, path = "/dashboard/products", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "The product form."),
    responses((status = 303, description = "To the product."), (status = 400, description = "The form again, with the error.")))]
pub async fn create_product(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match save(&state, &signed, None, &fields).await {
        Ok(product) => see_other(&format!("/dashboard/products/{}", product.id)),
        Err(error) => {
            let main = form(&signed, None, Some(&error));
            let mut response = layout(&signed, "/dashboard/products", "Create a product", &main);
            *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            response
        }
    }
}

async fn show(state: &AppState, signed: &Signed, id: &str, error: Option<&str>) -> Response {
    let product = match catalog::get_product(&state.db, &signed.session.caller(), id).await {
        Ok(product) => product,
        Err(error) => return failure(error),
    };
    let archive = if product.active() {
        format!(
            "<form method=\"post\" action=\"/dashboard/products/{id}/archive\" data-confirm=\"Archive {name}? It will start no new checkouts.\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" class=\"danger\">Archive product</button></form>",
            id = escape(&product.id),
            name = escape(&product.name),
            csrf = escape(&signed.session.csrf_token),
        )
    } else {
        "<p class=\"hint\">This product is archived: it starts no new checkouts.</p>".into()
    };
    let main = format!(
        "<p><code id=\"product-id\">{id}</code> <button type=\"button\" class=\"secondary small\" data-copy=\"#product-id\">Copy Product ID</button> \
         <span class=\"status\">{status}</span> {price}</p>{form}{archive}",
        id = escape(&product.id),
        status = product.status.as_str(),
        price = escape(&price_text(&product)),
        form = form(signed, Some(&product), error),
    );
    layout(signed, "/dashboard/products", &product.name, &main)
}

/// A product, with its form.
#[utoipa::path(get, path = "/dashboard/products/{id}", tag = "Pages", params(("id" = String, Path)),
    responses((status = 200, description = "The product (HTML)."), (status = 404, description = "Not in this account and mode.")))]
pub async fn edit_product(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match signed_in(&state, &headers).await {
        Ok(signed) => show(&state, &signed, &id, None).await,
        Err(response) => response,
    }
}

/// Saves a product's changes.
#[utoipa::path(post, path = "/dashboard/products/{id}", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The product form."),
    responses((status = 303, description = "Back to the product."), (status = 400, description = "The form again, with the error.")))]
pub async fn update_product(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match save(&state, &signed, Some(&id), &fields).await {
        Ok(product) => see_other(&format!("/dashboard/products/{}", product.id)),
        Err(error) => {
            let mut response = show(&state, &signed, &id, Some(&error)).await;
            if response.status().is_success() {
                *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            }
            response
        }
    }
}

/// Archives a product: it stays, and starts no new checkouts.
#[utoipa::path(post, path = "/dashboard/products/{id}/archive", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Back to the product.")))]
pub async fn archive_product(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match catalog::archive_product(&state.db, &signed.session.caller(), &id, state.clock.now())
        .await
    {
        Ok(_) => see_other(&format!("/dashboard/products/{id}")),
        Err(error) => failure(error),
    }
}
