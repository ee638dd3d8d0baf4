//! `/dashboard/products`: the catalog in the selected mode: list (status filter, search by
//! name), create and edit with every Loops field, archive, and a ⋮ menu to copy a product's id.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Signed, failure, layout, message, see_other, signed_form, signed_in, when};
use crate::domain::DomainError;
use crate::domain::catalog::{
    self, AmountType, LoopsPricing, MAX_IMAGES, PriceInput, Product, ProductFilter, ProductInput,
    ProductStatus,
};
use crate::domain::list::{PageRequest, PageStart};
use crate::domain::metadata::MetadataUpdate;
use crate::domain::money::MajorAmount;
use crate::http::AppState;
use crate::http::pages::escape;

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
        after_param: "after",
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

// ----- The product form ---------------------------------------------------------------------------
//
// Saving the form changes exactly the fields the merchant edited: each field is compared with
// what the page showed, as a browser sends it back (an `<input>` drops line breaks, a
// `<textarea>` sends them as `\r\n`), and an untouched field keeps its stored text byte for byte.
// Metadata is one row per key (a key field and a value field), so any key and value Stripe
// allows round-trips; a few empty rows take new keys without JavaScript.

/// Empty metadata rows shown under a product's keys, for adding keys.
const EMPTY_METADATA_ROWS: usize = 3;
/// The most rows of one list a form may send (far beyond what the page shows).
const MAX_FORM_ROWS: usize = 200;

/// One metadata entry as a row of the form.
#[derive(Debug, Clone, Default, PartialEq)]
struct MetadataRow {
    key: String,
    value: String,
}

/// The product form's fields as text: as the page shows them, or as a browser sent them back.
#[derive(Debug, Clone, Default)]
struct ProductForm {
    name: String,
    description: String,
    /// `FIXED`, `CUSTOM`, `FREE`, or empty for a product without a price.
    amount_type: String,
    currency: String,
    price: String,
    /// Empty (one-time), `month`, `year`, or a recurrence the select shows as it is (`week`,
    /// `3 month`).
    interval: String,
    minimum: String,
    preset: String,
    images: Vec<String>,
    metadata: Vec<MetadataRow>,
}

impl ProductForm {
    /// The empty form of a new product: a one-time fixed price in USD.
    fn new_product() -> ProductForm {
        ProductForm {
            amount_type: AmountType::Fixed.as_str().into(),
            currency: "usd".into(),
            ..Default::default()
        }
    }

    /// The form as the page shows `product`.
    fn of(product: &Product) -> ProductForm {
        let terms = product.default_price.as_ref().map(|p| &p.terms);
        let major = |minor: Option<i64>| {
            terms
                .zip(minor)
                .map(|(t, m)| t.currency.format_major(m))
                .unwrap_or_default()
        };
        let amount_type = terms.map(|t| t.amount_type());
        ProductForm {
            name: product.name.clone(),
            description: product.description.clone().unwrap_or_default(),
            amount_type: amount_type
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            currency: terms
                .map(|t| t.currency.as_str().to_string())
                .unwrap_or_default(),
            price: major(
                terms
                    .and_then(|t| t.unit_amount)
                    .filter(|_| amount_type == Some(AmountType::Fixed)),
            ),
            interval: terms
                .and_then(|t| t.recurring)
                .map(|r| match r.interval_count {
                    1 => r.interval.as_str().to_string(),
                    n => format!("{n} {}", r.interval.as_str()),
                })
                .unwrap_or_default(),
            minimum: major(terms.and_then(|t| t.custom?.minimum)),
            preset: major(terms.and_then(|t| t.custom?.preset)),
            images: product.images.clone(),
            metadata: product
                .metadata
                .0
                .iter()
                .map(|(key, value)| MetadataRow {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        }
    }

    /// The form as a browser sent it over the form the page showed (`shown`): a field or row
    /// the post lacks stays as shown, so it changes nothing. Rows (`metadata[i][key]`,
    /// `metadata[i][value]`, `images[i]`) go by their index, so that row `i` is compared with
    /// the row `i` the page showed.
    fn sent(fields: &[(String, String)], shown: &ProductForm) -> Result<ProductForm, DomainError> {
        let mut form = shown.clone();
        for (name, value) in fields {
            let text = match name.as_str() {
                "name" => &mut form.name,
                "description" => &mut form.description,
                "amountType" => &mut form.amount_type,
                "priceCurrency" => &mut form.currency,
                "priceAmount" => &mut form.price,
                "recurringInterval" => &mut form.interval,
                "minimumAmount" => &mut form.minimum,
                "presetAmount" => &mut form.preset,
                _ => {
                    if let Some((i, part)) = row_field(name, "metadata") {
                        let row = row_at(&mut form.metadata, i, "metadata")?;
                        match part {
                            "[key]" => row.key = value.clone(),
                            "[value]" => row.value = value.clone(),
                            _ => {}
                        }
                    } else if let Some((i, "")) = row_field(name, "images") {
                        *row_at(&mut form.images, i, "images")? = value.clone();
                    }
                    continue;
                }
            };
            *text = value.clone();
        }
        Ok(form)
    }
}

/// `metadata[3][key]` as `(3, "[key]")`; `images[2]` as `(2, "")`.
fn row_field<'a>(name: &'a str, list: &str) -> Option<(usize, &'a str)> {
    let rest = name.strip_prefix(list)?.strip_prefix('[')?;
    let (index, part) = rest.split_once(']')?;
    Some((index.parse().ok()?, part))
}

fn row_at<'a, T: Default>(
    rows: &'a mut Vec<T>,
    i: usize,
    param: &str,
) -> Result<&'a mut T, DomainError> {
    if i >= MAX_FORM_ROWS {
        return Err(DomainError::invalid(param, "has too many rows"));
    }
    if rows.len() <= i {
        rows.resize_with(i + 1, T::default);
    }
    Ok(&mut rows[i])
}

/// What a browser sends back of text shown in an `<input>`: it cannot hold line breaks.
fn as_input(text: &str) -> String {
    text.replace(['\r', '\n'], "")
}

/// What a browser sends back of text shown in an `<input type="url">`.
fn as_url_input(text: &str) -> String {
    as_input(text)
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .to_string()
}

/// A `<textarea>`'s text as its user sees it: browsers send line breaks as `\r\n`.
fn as_textarea(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Whether text has line breaks: a metadata key with some is shown in a `<textarea>` (an
/// `<input>` cannot show them), one without in an `<input>`.
fn is_multiline(text: &str) -> bool {
    text.contains(['\r', '\n'])
}

/// Whether a metadata key came back as the page showed `stored`.
fn key_as_shown(stored: &str, sent: &str) -> bool {
    if is_multiline(stored) {
        as_textarea(stored) == as_textarea(sent)
    } else {
        as_input(stored) == sent
    }
}

/// The sent text of an `<input>` or `<select>`, when it is not what the page showed.
fn edited(shown: &str, sent: &str) -> Option<String> {
    (shown != sent && as_input(shown) != sent).then(|| sent.to_string())
}

/// The changes a sent form makes to what the page showed (`shown`, the product's form or, on
/// create, an empty one): only the fields the merchant edited. `None` when nothing changed.
fn changes(
    shown: &ProductForm,
    sent: &ProductForm,
) -> Result<Option<(ProductInput, LoopsPricing)>, DomainError> {
    let input = ProductInput {
        name: edited(&shown.name, &sent.name),
        description: Some(as_textarea(&sent.description))
            .filter(|d| *d != as_textarea(&shown.description))
            .map(|d| (!d.is_empty()).then_some(d)),
        images: edited_images(shown, sent),
        metadata: edited_metadata(shown, sent)?.map(MetadataUpdate::Replace),
        ..Default::default()
    };
    let amount = |shown: &str, sent: &str| {
        edited(shown, sent)
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .map(MajorAmount)
    };
    if sent.amount_type == AmountType::Fixed.as_str() && sent.price.trim().is_empty() {
        return Err(DomainError::invalid(
            "priceAmount",
            "is required for FIXED products",
        ));
    }
    if sent.amount_type == AmountType::Custom.as_str() {
        for (was, now, param) in [
            (&shown.minimum, &sent.minimum, "minimumAmount"),
            (&shown.preset, &sent.preset, "presetAmount"),
        ] {
            if !was.is_empty() && now.trim().is_empty() {
                return Err(DomainError::invalid(
                    param,
                    "cannot be removed once set; enter an amount",
                ));
            }
        }
    }
    let pricing = LoopsPricing {
        amount_type: edited(&shown.amount_type, &sent.amount_type),
        price_amount: amount(&shown.price, &sent.price),
        minimum_amount: amount(&shown.minimum, &sent.minimum),
        preset_amount: amount(&shown.preset, &sent.preset),
        currency: edited(&shown.currency, &sent.currency).map(|c| c.trim().to_string()),
        recurring_interval: edited(&shown.interval, &sent.interval)
            .map(|i| (!i.is_empty()).then_some(i)),
    };
    let unchanged = input.name.is_none()
        && input.description.is_none()
        && input.images.is_none()
        && input.metadata.is_none()
        && pricing.is_empty();
    Ok((!unchanged).then_some((input, pricing)))
}

/// The image URLs, when the sent rows differ from those shown. A row sent back as shown keeps
/// its stored URL.
fn edited_images(shown: &ProductForm, sent: &ProductForm) -> Option<Vec<String>> {
    let mut urls = Vec::new();
    for (i, url) in sent.images.iter().enumerate() {
        let url = match shown.images.get(i) {
            Some(stored) if as_url_input(stored) == *url => stored.clone(),
            _ => url.trim().to_string(),
        };
        if !url.is_empty() {
            urls.push(url);
        }
    }
    (urls != shown.images).then_some(urls)
}

/// The whole metadata, when the sent rows differ from those shown. A key or value sent back as
/// shown keeps its stored text; a row whose key was cleared is removed.
fn edited_metadata(
    shown: &ProductForm,
    sent: &ProductForm,
) -> Result<Option<BTreeMap<String, String>>, DomainError> {
    let mut metadata = BTreeMap::new();
    for (i, row) in sent.metadata.iter().enumerate() {
        let stored = shown.metadata.get(i);
        let key = match stored {
            Some(stored) if key_as_shown(&stored.key, &row.key) => stored.key.clone(),
            _ if is_multiline(&row.key) => as_textarea(&row.key),
            _ => row.key.clone(),
        };
        let value_as_shown = stored.filter(|s| as_textarea(&s.value) == as_textarea(&row.value));
        let value = match value_as_shown {
            Some(stored) => stored.value.clone(),
            None => as_textarea(&row.value),
        };
        if key.is_empty() {
            if value.is_empty() || value_as_shown.is_some() {
                continue;
            }
            return Err(DomainError::invalid(
                "metadata",
                format!("the value in row {} needs a key", i + 1),
            ));
        }
        if metadata.insert(key.clone(), value).is_some() {
            return Err(DomainError::invalid(
                format!("metadata[{key}]"),
                "is given twice",
            ));
        }
    }
    let before: BTreeMap<String, String> = shown
        .metadata
        .iter()
        .map(|row| (row.key.clone(), row.value.clone()))
        .collect();
    Ok((metadata != before).then_some(metadata))
}

/// The `<option>`s of a select, `current` selected.
fn options(choices: &[(&str, String)], current: &str) -> String {
    choices
        .iter()
        .map(|(value, label)| {
            let selected = if *value == current { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                escape(value),
                escape(label)
            )
        })
        .collect()
}

/// A `<textarea>` holding `text` exactly (the parser drops one line break right after the tag).
fn textarea(attributes: &str, text: &str) -> String {
    format!("<textarea {attributes}>\n{}</textarea>", escape(text))
}

/// Rows for a textarea of `text`: its lines, from 1 to 6.
fn rows_for(text: &str) -> usize {
    as_textarea(text).lines().count().clamp(1, 6)
}

/// The product form, filled from `form`, posting to `action`, with `error` above it.
fn render_form(signed: &Signed, form: &ProductForm, action: &str, error: Option<&str>) -> String {
    let mut amount_types = vec![
        (AmountType::Fixed.as_str(), "Fixed price".to_string()),
        (AmountType::Custom.as_str(), "Customer chooses".to_string()),
        (AmountType::Free.as_str(), "Free".to_string()),
    ];
    if form.amount_type.is_empty() {
        amount_types.insert(0, ("", "No price".to_string()));
    }
    let mut intervals = vec![
        ("", "One-time".to_string()),
        ("month", "Every month".to_string()),
        ("year", "Every year".to_string()),
    ];
    if !intervals.iter().any(|(v, _)| *v == form.interval) {
        // A recurrence the API set (every week, every 3 months): kept unless another is chosen.
        let label = match form.interval.split_once(' ') {
            Some((count, interval)) => format!("Every {count} {interval}s"),
            None => format!("Every {}", form.interval),
        };
        intervals.push((form.interval.as_str(), label));
    }
    let mut images = String::new();
    let image_rows = form.images.len().min(MAX_IMAGES - 1) + 1;
    for i in 0..image_rows {
        let url = form.images.get(i).map(String::as_str).unwrap_or_default();
        images.push_str(&format!(
            "<input id=\"f-image-{i}\" name=\"images[{i}]\" type=\"url\" aria-label=\"Image URL {n}\" value=\"{url}\">",
            n = i + 1,
            url = escape(url),
        ));
    }
    let filled = form
        .metadata
        .iter()
        .rposition(|row| *row != MetadataRow::default())
        .map_or(0, |last| last + 1);
    let mut metadata = String::new();
    for i in 0..filled + EMPTY_METADATA_ROWS {
        let row = form.metadata.get(i).cloned().unwrap_or_default();
        metadata.push_str(&format!(
            "<div class=\"row meta-row\"><div class=\"field\"><label for=\"f-meta-{i}-key\">Key</label>{key}</div>\
             <div class=\"field\"><label for=\"f-meta-{i}-value\">Value</label>{value}</div></div>",
            key = if is_multiline(&row.key) {
                textarea(
                    &format!(
                        "id=\"f-meta-{i}-key\" name=\"metadata[{i}][key]\" rows=\"{}\"",
                        rows_for(&row.key)
                    ),
                    &row.key,
                )
            } else {
                format!(
                    "<input id=\"f-meta-{i}-key\" name=\"metadata[{i}][key]\" value=\"{}\" autocomplete=\"off\">",
                    escape(&row.key)
                )
            },
            value = textarea(
                &format!(
                    "id=\"f-meta-{i}-value\" name=\"metadata[{i}][value]\" rows=\"{}\"",
                    rows_for(&row.value)
                ),
                &row.value
            ),
        ));
    }
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
         <div class=\"field\"><label for=\"f-name\">Name</label><input id=\"f-name\" name=\"name\" required value=\"{name}\"></div>\
         <div class=\"field\"><label for=\"f-description\">Description</label>{description}</div>\
         <div class=\"row\"><div class=\"field\"><label for=\"f-type\">Amount type</label><select id=\"f-type\" name=\"amountType\">{types}</select></div>\
         <div class=\"field\"><label for=\"f-currency\">Currency</label><input id=\"f-currency\" name=\"priceCurrency\" placeholder=\"usd\" value=\"{currency}\"></div></div>\
         <div class=\"row\"><div class=\"field\"><label for=\"f-price\">Price</label><input id=\"f-price\" name=\"priceAmount\" inputmode=\"decimal\" value=\"{price}\"></div>\
         <div class=\"field\"><label for=\"f-interval\">Billing</label><select id=\"f-interval\" name=\"recurringInterval\">{intervals}</select></div></div>\
         <div class=\"row\"><div class=\"field\"><label for=\"f-minimum\">Minimum (customer chooses)</label><input id=\"f-minimum\" name=\"minimumAmount\" inputmode=\"decimal\" value=\"{minimum}\"></div>\
         <div class=\"field\"><label for=\"f-preset\">Suggested amount</label><input id=\"f-preset\" name=\"presetAmount\" inputmode=\"decimal\" value=\"{preset}\"></div></div>\
         <fieldset class=\"field\" aria-describedby=\"f-images-hint\"><legend>Image URLs</legend>{images}\
         <span class=\"hint\" id=\"f-images-hint\">Up to {MAX_IMAGES}; clear one to remove it.</span></fieldset>\
         <fieldset class=\"field\" id=\"f-metadata\" aria-describedby=\"f-metadata-hint\"><legend>Metadata</legend>{metadata}\
         <span class=\"hint\" id=\"f-metadata-hint\">One key and its value per row, kept exactly as typed. Clear a key to remove it; save to get more empty rows.</span></fieldset>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\">Save product</button></div></form>",
        csrf = escape(&signed.session.csrf_token),
        name = escape(&form.name),
        description = textarea(
            &format!(
                "id=\"f-description\" name=\"description\" rows=\"{}\"",
                rows_for(&form.description).max(2)
            ),
            &form.description
        ),
        types = options(&amount_types, &form.amount_type),
        currency = escape(&form.currency),
        price = escape(&form.price),
        intervals = options(&intervals, &form.interval),
        minimum = escape(&form.minimum),
        preset = escape(&form.preset),
    )
}

/// Creates the product the sent form describes.
async fn create(state: &AppState, signed: &Signed, sent: &ProductForm) -> Result<Product, String> {
    let (input, pricing) = changes(&ProductForm::default(), sent)
        .map_err(message)?
        .unwrap_or_default();
    let price = if pricing.is_empty() {
        None
    } else {
        Some(PriceInput::with_terms(
            pricing.terms(None).map_err(message)?,
        ))
    };
    catalog::create_product(
        &state.db,
        &signed.session.caller(),
        input,
        price,
        state.clock.now(),
    )
    .await
    .map_err(message)
}

/// Saves what the merchant changed in the form of product `id` (shown as `shown`); nothing at
/// all when nothing changed.
async fn update(
    state: &AppState,
    signed: &Signed,
    id: &str,
    shown: &ProductForm,
    sent: &ProductForm,
) -> Result<(), String> {
    let Some((input, pricing)) = changes(shown, sent).map_err(message)? else {
        return Ok(());
    };
    catalog::update_product(
        &state.db,
        &signed.session.caller(),
        id,
        input,
        Some(pricing),
        None,
        state.clock.now(),
    )
    .await
    .map(|_| ())
    .map_err(message)
}

/// The create form, filled from `form`, with `error` above it.
fn creation_page(signed: &Signed, form: &ProductForm, error: Option<&str>) -> Response {
    let main = render_form(signed, form, "/dashboard/products", error);
    let mut response = layout(signed, "/dashboard/products", "Create a product", &main);
    if error.is_some() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

/// The form to create a product.
#[utoipa::path(get, path = "/dashboard/products/new", tag = "Pages",
    responses((status = 200, description = "The form (HTML).")))]
pub async fn new_product(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok(signed) => creation_page(&signed, &ProductForm::new_product(), None),
        Err(response) => response,
    }
}

/// Creates a product.
#[utoipa::path(post, path = "/dashboard/products", tag = "Pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "The product form: `name`, `description`, `amountType`, `priceCurrency`, `priceAmount`, `recurringInterval`, `minimumAmount`, `presetAmount`, `images[i]`, `metadata[i][key]` and `metadata[i][value]`."),
    responses((status = 303, description = "To the product."), (status = 400, description = "The form again, as sent, with the error.")))]
pub async fn create_product(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let signed = match signed_form(&state, &headers, &fields).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let sent = match ProductForm::sent(&fields, &ProductForm::default()) {
        Ok(sent) => sent,
        Err(error) => {
            return creation_page(&signed, &ProductForm::new_product(), Some(&message(error)));
        }
    };
    match create(&state, &signed, &sent).await {
        Ok(product) => see_other(&format!("/dashboard/products/{}", product.id)),
        Err(error) => creation_page(&signed, &sent, Some(&error)),
    }
}

/// A product's page: its id, status and price, and its form filled from `form` (the product's
/// own, or what was sent when saving failed, with `error`).
fn product_page(
    signed: &Signed,
    product: &Product,
    form: &ProductForm,
    error: Option<&str>,
) -> Response {
    let id = escape(&product.id);
    let archive = if product.active() {
        format!(
            "<form method=\"post\" action=\"/dashboard/products/{id}/archive\" data-confirm=\"Archive {name}? It will start no new checkouts.\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" class=\"danger\">Archive product</button></form>",
            name = escape(&product.name),
            csrf = escape(&signed.session.csrf_token),
        )
    } else {
        "<p class=\"hint\">This product is archived: it starts no new checkouts.</p>".into()
    };
    let main = format!(
        "<p><code id=\"product-id\">{id}</code> <button type=\"button\" class=\"secondary small\" data-copy=\"#product-id\">Copy Product ID</button> \
         <span class=\"status\">{status}</span> {price}</p>{form}{archive}",
        status = product.status.as_str(),
        price = escape(&price_text(product)),
        form = render_form(signed, form, &format!("/dashboard/products/{id}"), error),
    );
    let mut response = layout(signed, "/dashboard/products", &product.name, &main);
    if error.is_some() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

/// A product, with its form.
#[utoipa::path(get, path = "/dashboard/products/{id}", tag = "Pages", params(("id" = String, Path)),
    responses((status = 200, description = "The product (HTML)."), (status = 404, description = "Not in this account and mode.")))]
pub async fn edit_product(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let signed = match signed_in(&state, &headers).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    match catalog::get_product(&state.db, &signed.session.caller(), &id).await {
        Ok(product) => product_page(&signed, &product, &ProductForm::of(&product), None),
        Err(error) => failure(error),
    }
}

/// Saves a product's changes: only the fields edited in the form change; a form saved unchanged
/// changes nothing.
#[utoipa::path(post, path = "/dashboard/products/{id}", tag = "Pages", params(("id" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The product form, as on create."),
    responses((status = 303, description = "Back to the product."), (status = 400, description = "The form again, as sent, with the error.")))]
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
    let product = match catalog::get_product(&state.db, &signed.session.caller(), &id).await {
        Ok(product) => product,
        Err(error) => return failure(error),
    };
    let shown = ProductForm::of(&product);
    let saved = match ProductForm::sent(&fields, &shown) {
        Ok(sent) => update(&state, &signed, &product.id, &shown, &sent)
            .await
            .map_err(|error| (sent, error)),
        Err(error) => Err((shown, message(error))),
    };
    match saved {
        Ok(()) => see_other(&format!("/dashboard/products/{}", product.id)),
        Err((form, error)) => product_page(&signed, &product, &form, Some(&error)),
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
