//! `expand[]`, as Stripe defines it: a dotted path (`payment_intent.customer`, `data.customer`
//! on lists, `line_items.data.price.product`) names an id field to replace with its object, at
//! most four levels deep. Paths are checked against what each object can expand before the
//! request does anything, so a create never happens for an answer that is then refused; an
//! unknown path answers Stripe's "This property cannot be expanded (X)."
//!
//! Each object is rendered by the function of its type here (`session`, `product`...): the
//! typed object of `crate::objects`, with the fields its paths name replaced by the objects
//! they name. An object fetched for a path becomes a JSON value where it is read, with the paths
//! below it already applied.

use std::future::Future;
use std::pin::Pin;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::catalog::{self, PaymentLink, Price, Product};
use crate::domain::checkout::{self, LineItem, Session};
use crate::domain::{billing, customers, payment_methods, payments};
use crate::objects::{self, Expandable, Fetched};

/// What to expand in place of ids (`expand[]=default_price`), as dotted paths.
#[derive(Debug, Clone, Default)]
pub struct Expand(pub Vec<String>);

impl Expand {
    /// Whether `field` is expanded, by itself or on the way to a path below it.
    pub fn reaches(&self, field: &str) -> bool {
        self.0.iter().any(|f| {
            f.strip_prefix(field)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    /// The expansions under `prefix.` (`data.default_price` inside a list).
    pub fn under(&self, prefix: &str) -> Expand {
        let start = format!("{prefix}.");
        Expand(
            self.0
                .iter()
                .filter_map(|f| f.strip_prefix(&start).map(str::to_string))
                .collect(),
        )
    }
}

/// Stripe's limit on the levels of one path.
pub const MAX_LEVELS: usize = 4;

/// What an expandable field holds.
#[derive(Debug, Clone, Copy)]
enum Holds {
    /// The id of an object of this type (or the object itself once expanded).
    Id(&'static str),
    /// A list of objects of this type, present only when expanded (a session's `line_items`).
    Includable(&'static str),
    /// A list of objects of this type, always present (a payment link's `line_items`).
    List(&'static str),
}

/// The expandable fields of each object type kassa serves.
fn expandable(object: &str, field: &str) -> Option<Holds> {
    use Holds::*;
    let holds = match (object, field) {
        ("checkout.session", "customer") => Id("customer"),
        ("checkout.session", "payment_intent") => Id("payment_intent"),
        ("checkout.session", "payment_link") => Id("payment_link"),
        ("checkout.session", "line_items") => Includable("item"),
        ("payment_intent", "customer") => Id("customer"),
        ("payment_intent", "latest_charge") => Id("charge"),
        ("payment_intent", "payment_method") => Id("payment_method"),
        ("payment_method", "customer") => Id("customer"),
        ("charge", "customer") => Id("customer"),
        ("subscription", "customer") => Id("customer"),
        ("subscription", "latest_invoice") => Id("invoice"),
        ("invoice", "customer") => Id("customer"),
        ("invoice", "subscription") => Id("subscription"),
        ("invoice", "payment_intent") => Id("payment_intent"),
        ("invoice", "charge") => Id("charge"),
        ("charge", "payment_intent") => Id("payment_intent"),
        ("charge", "refunds") => Includable("refund"),
        ("refund", "charge") => Id("charge"),
        ("refund", "payment_intent") => Id("payment_intent"),
        ("payment_link", "line_items") => List("item"),
        ("item", "price") => Id("price"),
        ("price", "product") => Id("product"),
        ("product", "default_price") => Id("price"),
        ("billing_portal.session", "customer") => Id("customer"),
        ("billing_portal.session", "configuration") => Id("billing_portal.configuration"),
        _ => return None,
    };
    Some(holds)
}

/// `expand[]` of a request on one `object`, checked.
pub fn check(paths: Vec<String>, object: &'static str) -> Result<Expand, ApiError> {
    for path in &paths {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.len() > MAX_LEVELS || !reaches(object, &segments) {
            return Err(cannot_expand(path));
        }
    }
    Ok(Expand(paths))
}

/// `expand[]` of a list of `object`s: every path starts at `data.`; the answer holds the paths
/// below it, for each item.
pub fn check_list(paths: Vec<String>, object: &'static str) -> Result<Expand, ApiError> {
    for path in &paths {
        let segments: Vec<&str> = path.split('.').collect();
        let valid = segments.len() <= MAX_LEVELS
            && segments.first() == Some(&"data")
            && reaches(object, &segments[1..]);
        if !valid {
            return Err(cannot_expand(path));
        }
    }
    Ok(Expand(paths).under("data"))
}

fn cannot_expand(path: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        None,
        format!("This property cannot be expanded ({path})."),
    )
}

/// Whether every segment names an expandable field of the object the previous one reached.
fn reaches(object: &str, segments: &[&str]) -> bool {
    let Some((field, rest)) = segments.split_first() else {
        return false;
    };
    match expandable(object, field) {
        None => false,
        Some(Holds::Id(target)) => rest.is_empty() || reaches(target, rest),
        Some(Holds::Includable(item) | Holds::List(item)) => match rest {
            [] => true,
            ["data", below @ ..] => below.is_empty() || reaches(item, below),
            _ => false,
        },
    }
}

/// A rendering that recurses (a price's product, whose default price has a product...).
type Expanding<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// The object a fetch found, or `None` when the caller cannot see one: the field then keeps
/// its id (a V3 session's `customer` may be the merchant's own reference).
fn found<T>(fetched: Result<T, DomainError>) -> Result<Option<T>, ApiError> {
    match fetched {
        Ok(object) => Ok(Some(object)),
        Err(DomainError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// An object turned into a value once, to stand in the answer of another.
pub fn fetched<T: Serialize>(object: &T) -> Fetched {
    objects::to_value(object)
}

/// A checkout session (`customer`, `payment_intent`, `payment_link`, `line_items`).
pub async fn session<'a>(
    state: &AppState,
    caller: &Caller,
    session: &'a Session,
    expand: &Expand,
) -> Result<objects::CheckoutSession<'a>, ApiError> {
    let mut object = objects::CheckoutSession::new(session, &state.config.public_url);
    let db = &state.db;
    if let Some(id) = &session.customer_id
        && expand.reaches("customer")
        && let Some(customer) = found(customers::get_customer(db, caller, id).await)?
    {
        object.customer = Some(Expandable::Object(customer.object()));
    }
    if let Some(id) = &session.payment_intent_id
        && expand.reaches("payment_intent")
        && let Some(intent) = found(payments::get_payment_intent(db, caller, id).await)?
    {
        let below = expand.under("payment_intent");
        let intent = payment_intent(state, caller, intent.object(), &below).await?;
        object.payment_intent = Some(Expandable::Object(intent));
    }
    if let Some(id) = &session.payment_link_id
        && expand.reaches("payment_link")
        && let Some(link) = found(catalog::get_payment_link(db, caller, id).await)?
    {
        let link = payment_link(state, caller, &link, &expand.under("payment_link")).await?;
        object.payment_link = Some(Expandable::Object(fetched(&link)));
    }
    if expand.reaches("line_items") {
        let items = checkout::line_items(db, caller, &session.id).await?;
        let below = expand.under("line_items").under("data");
        let mut data = Vec::with_capacity(items.len());
        for item in &items {
            data.push(line_item(state, caller, item, &below).await?);
        }
        let url = format!("/v1/checkout/sessions/{}/line_items", session.id);
        object.line_items = Some(fetched(&objects::List::new(data, false, url)));
    }
    Ok(object)
}

/// A checkout session's line item (`price.product`...).
pub async fn line_item<'a>(
    state: &AppState,
    caller: &Caller,
    item: &'a LineItem,
    expand: &Expand,
) -> Result<objects::LineItem<'a>, ApiError> {
    let mut object = objects::LineItem::new(item);
    price_fields(state, caller, &mut object.price, &expand.under("price")).await?;
    Ok(object)
}

/// A payment link (`line_items.data.price.product`...).
pub async fn payment_link<'a>(
    state: &AppState,
    caller: &Caller,
    link: &'a PaymentLink,
    expand: &Expand,
) -> Result<objects::PaymentLink<'a>, ApiError> {
    let mut object = objects::PaymentLink::new(link, &state.config.public_url);
    let below = expand.under("line_items").under("data");
    for item in &mut object.line_items.data {
        link_item(state, caller, item, &below).await?;
    }
    Ok(object)
}

/// Expands one of a payment link's line items (`price.product`...).
pub async fn link_item(
    state: &AppState,
    caller: &Caller,
    item: &mut objects::LinkItem<'_>,
    expand: &Expand,
) -> Result<(), ApiError> {
    price_fields(state, caller, &mut item.price, &expand.under("price")).await
}

/// A price (`product`, `product.default_price`...).
pub async fn price<'a>(
    state: &AppState,
    caller: &Caller,
    price: &'a Price,
    expand: &Expand,
) -> Result<objects::Price<'a>, ApiError> {
    let mut object = objects::Price::new(price);
    price_fields(state, caller, &mut object, expand).await?;
    Ok(object)
}

/// Expands a price's `product`, fetched by its id.
async fn price_fields(
    state: &AppState,
    caller: &Caller,
    object: &mut objects::Price<'_>,
    expand: &Expand,
) -> Result<(), ApiError> {
    if let Expandable::Id(id) = object.product
        && expand.reaches("product")
        && let Some(product) = fetch_product(state, caller, id, expand.under("product")).await?
    {
        object.product = Expandable::Object(product);
    }
    Ok(())
}

/// The product with this id, rendered with `expand`; boxed, as products and prices expand
/// into each other.
fn fetch_product<'a>(
    state: &'a AppState,
    caller: &'a Caller,
    id: &'a str,
    expand: Expand,
) -> Expanding<'a, Option<Fetched>> {
    Box::pin(async move {
        let Some(found) = found(catalog::get_product(&state.db, caller, id).await)? else {
            return Ok(None);
        };
        let object = product(state, caller, &found, &expand).await?;
        Ok(Some(fetched(&object)))
    })
}

/// A product (`default_price`, from the price read with it; `default_price.product`...).
pub async fn product<'a>(
    state: &AppState,
    caller: &'a Caller,
    product: &'a Product,
    expand: &Expand,
) -> Result<objects::Product<'a>, ApiError> {
    let mut object = objects::Product::new(product, caller);
    if let Some(default_price) = &product.default_price
        && expand.reaches("default_price")
    {
        let below = expand.under("default_price");
        let default_price = price(state, caller, default_price, &below).await?;
        object.default_price = Some(Expandable::Object(default_price));
    }
    Ok(object)
}

/// A PaymentIntent, an object of the domain's own JSON (`customer`).
pub async fn payment_intent(
    state: &AppState,
    caller: &Caller,
    mut object: Value,
    expand: &Expand,
) -> Result<Value, ApiError> {
    expand_customer(state, caller, &mut object, expand).await?;
    if expand.reaches("latest_charge")
        && let Some(id) = object["latest_charge"].as_str().map(str::to_string)
        && let Some(charge) = found(payments::get_charge(&state.db, caller, &id).await)?
    {
        object["latest_charge"] = Box::pin(self::charge(
            state,
            caller,
            charge.object(&state.config.public_url),
            &expand.under("latest_charge"),
        ))
        .await?;
    }
    if expand.reaches("payment_method")
        && let Some(id) = object["payment_method"].as_str().map(str::to_string)
        && let Some(method) =
            found(payment_methods::get_payment_method(&state.db, caller, &id).await)?
    {
        object["payment_method"] = payment_method(
            state,
            caller,
            method.object(),
            &expand.under("payment_method"),
        )
        .await?;
    }
    Ok(object)
}

/// A PaymentMethod, with its `customer` expanded as asked.
pub async fn payment_method(
    state: &AppState,
    caller: &Caller,
    mut object: Value,
    expand: &Expand,
) -> Result<Value, ApiError> {
    expand_customer(state, caller, &mut object, expand).await?;
    Ok(object)
}

/// A charge, with its `customer` and `payment_intent` expanded as asked.
pub async fn charge(
    state: &AppState,
    caller: &Caller,
    mut object: Value,
    expand: &Expand,
) -> Result<Value, ApiError> {
    expand_customer(state, caller, &mut object, expand).await?;
    if expand.reaches("refunds")
        && let Some(id) = object["id"].as_str().map(str::to_string)
    {
        let (refunds, has_more) = crate::store::refunds::of_charge(&state.db, caller, &id)
            .await
            .map_err(crate::domain::DomainError::from)?;
        let data: Vec<Value> = refunds.iter().map(|r| r.object()).collect();
        let url = format!("/v1/refunds?charge={id}");
        object["refunds"] = serde_json::to_value(objects::List::new(data, has_more, url))
            .expect("a list serializes");
    }
    if expand.reaches("payment_intent")
        && let Some(id) = object["payment_intent"].as_str().map(str::to_string)
        && let Some(intent) = found(payments::get_payment_intent(&state.db, caller, &id).await)?
    {
        object["payment_intent"] = Box::pin(payment_intent(
            state,
            caller,
            intent.object(),
            &expand.under("payment_intent"),
        ))
        .await?;
    }
    Ok(object)
}

/// A refund, with its `charge` and `payment_intent` expanded as asked.
pub async fn refund(
    state: &AppState,
    caller: &Caller,
    mut object: Value,
    expand: &Expand,
) -> Result<Value, ApiError> {
    if expand.reaches("charge")
        && let Some(id) = object["charge"].as_str().map(str::to_string)
        && let Some(found) = found(payments::get_charge(&state.db, caller, &id).await)?
    {
        let below = expand.under("charge");
        object["charge"] = Box::pin(charge(
            state,
            caller,
            found.object(&state.config.public_url),
            &below,
        ))
        .await?;
    }
    if expand.reaches("payment_intent")
        && let Some(id) = object["payment_intent"].as_str().map(str::to_string)
        && let Some(intent) = found(payments::get_payment_intent(&state.db, caller, &id).await)?
    {
        let below = expand.under("payment_intent");
        object["payment_intent"] =
            Box::pin(payment_intent(state, caller, intent.object(), &below)).await?;
    }
    Ok(object)
}

/// A subscription, with its `customer` and `latest_invoice` expanded as asked.
pub async fn subscription(
    state: &AppState,
    caller: &Caller,
    mut object: Value,
    expand: &Expand,
) -> Result<Value, ApiError> {
    expand_customer(state, caller, &mut object, expand).await?;
    if expand.reaches("latest_invoice")
        && let Some(id) = object["latest_invoice"].as_str().map(str::to_string)
        && let Some(found) = found(billing::get_invoice(&state.db, caller, &id).await)?
    {
        let below = expand.under("latest_invoice");
        object["latest_invoice"] = Box::pin(invoice(
            state,
            caller,
            found.object(&state.config.public_url),
            &below,
        ))
        .await?;
    }
    Ok(object)
}

/// An invoice, with its `customer`, `subscription`, `payment_intent` and `charge` expanded as
/// asked.
pub async fn invoice(
    state: &AppState,
    caller: &Caller,
    mut object: Value,
    expand: &Expand,
) -> Result<Value, ApiError> {
    expand_customer(state, caller, &mut object, expand).await?;
    if expand.reaches("subscription")
        && let Some(id) = object["subscription"].as_str().map(str::to_string)
        && let Some(found) = found(billing::get_subscription(&state.db, caller, &id).await)?
    {
        let below = expand.under("subscription");
        object["subscription"] =
            Box::pin(subscription(state, caller, found.object(), &below)).await?;
    }
    if expand.reaches("payment_intent")
        && let Some(id) = object["payment_intent"].as_str().map(str::to_string)
        && let Some(found) = found(payments::get_payment_intent(&state.db, caller, &id).await)?
    {
        let below = expand.under("payment_intent");
        object["payment_intent"] =
            Box::pin(payment_intent(state, caller, found.object(), &below)).await?;
    }
    if expand.reaches("charge")
        && let Some(id) = object["charge"].as_str().map(str::to_string)
        && let Some(found) = found(payments::get_charge(&state.db, caller, &id).await)?
    {
        let below = expand.under("charge");
        object["charge"] = Box::pin(charge(
            state,
            caller,
            found.object(&state.config.public_url),
            &below,
        ))
        .await?;
    }
    Ok(object)
}

/// The object's `customer` id replaced by the customer, when expanded.
async fn expand_customer(
    state: &AppState,
    caller: &Caller,
    object: &mut Value,
    expand: &Expand,
) -> Result<(), ApiError> {
    if expand.reaches("customer")
        && let Some(id) = object["customer"].as_str().map(str::to_string)
        && let Some(customer) = found(customers::get_customer(&state.db, caller, &id).await)?
    {
        object["customer"] = customer.object();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn paths_follow_the_objects() {
        assert!(
            check(
                paths(&["customer", "payment_intent.customer"]),
                "checkout.session"
            )
            .is_ok()
        );
        assert!(
            check(
                paths(&["line_items.data.price.product"]),
                "checkout.session"
            )
            .is_ok()
        );
        assert!(check(paths(&["metadata"]), "checkout.session").is_err());
        assert!(check(paths(&["line_items.price"]), "checkout.session").is_err());
        assert!(check(paths(&["payment_intent.latest_charge"]), "checkout.session").is_ok());
        assert!(
            check(
                paths(&["payment_intent.payment_method.customer"]),
                "checkout.session"
            )
            .is_ok()
        );
        assert!(check(paths(&["card"]), "payment_method").is_err());
        assert!(
            check(
                paths(&["payment_intent.latest_charge.balance_transaction"]),
                "checkout.session"
            )
            .is_err()
        );
        assert!(
            check(
                paths(&["default_price.product.default_price.product"]),
                "product"
            )
            .is_ok()
        );
        assert!(
            check(
                paths(&["default_price.product.default_price.product.default_price"]),
                "product"
            )
            .is_err(),
            "five levels"
        );
        let error = check(paths(&["metadata"]), "checkout.session").unwrap_err();
        assert_eq!(
            error.message,
            "This property cannot be expanded (metadata)."
        );
    }

    #[test]
    fn list_paths_start_at_data() {
        let expand = check_list(paths(&["data.default_price"]), "product").unwrap();
        assert_eq!(expand.0, ["default_price"]);
        assert!(check_list(paths(&["default_price"]), "product").is_err());
        assert!(check_list(paths(&["data"]), "product").is_err());
    }

    #[test]
    fn a_field_is_reached_by_its_own_path_or_one_below_it() {
        let expand = Expand(paths(&["payment_intent.customer", "line_items"]));
        assert!(expand.reaches("payment_intent"));
        assert!(expand.reaches("line_items"));
        assert!(!expand.reaches("customer"));
        assert!(!expand.reaches("line"));
        assert_eq!(expand.under("payment_intent").0, ["customer"]);
        assert!(!Expand(paths(&["customer_details"])).reaches("customer"));
    }
}
