//! `expand[]`, as Stripe defines it: a dotted path (`payment_intent.customer`, `data.customer`
//! on lists, `line_items.data.price.product`) names an id field to replace with its object, at
//! most four levels deep. Paths are checked against what each object can expand before the
//! request does anything, so a create never happens for an answer that is then refused; an
//! unknown path answers Stripe's "This property cannot be expanded (X)."

use std::future::Future;
use std::pin::Pin;

use axum::http::StatusCode;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::domain::{catalog, checkout, customers, payments};
use crate::objects::{self, Expand};

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
        ("payment_link", "line_items") => List("item"),
        ("item", "price") => Id("price"),
        ("price", "product") => Id("product"),
        ("product", "default_price") => Id("price"),
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

type Expanding<'a> = Pin<Box<dyn Future<Output = Result<(), ApiError>> + Send + 'a>>;

/// Expands `expand`'s paths in `value`, an object of type `object` rendered for `caller`.
pub async fn apply(
    state: &AppState,
    caller: &Caller,
    value: &mut Value,
    object: &'static str,
    expand: &Expand,
) -> Result<(), ApiError> {
    for path in &expand.0 {
        let segments: Vec<&str> = path.split('.').collect();
        expand_path(state, caller, value, object, &segments).await?;
    }
    Ok(())
}

fn expand_path<'a>(
    state: &'a AppState,
    caller: &'a Caller,
    value: &'a mut Value,
    object: &'static str,
    segments: &'a [&'a str],
) -> Expanding<'a> {
    Box::pin(async move {
        let Some((field, rest)) = segments.split_first() else {
            return Ok(());
        };
        let Some(holds) = expandable(object, field) else {
            return Ok(());
        };
        match holds {
            Holds::Id(target) => {
                if let Some(id) = value[*field].as_str()
                    && let Some(found) = fetch(state, caller, target, id).await?
                {
                    value[*field] = found;
                }
                if value[*field].is_object() && !rest.is_empty() {
                    expand_path(state, caller, &mut value[*field], target, rest).await?;
                }
            }
            Holds::Includable(item) | Holds::List(item) => {
                if value.get(*field).is_none() {
                    value[*field] = include(state, caller, object, value, field).await?;
                }
                if let [_data, below @ ..] = rest
                    && let Some(items) = value[*field]["data"].as_array_mut()
                {
                    for entry in items {
                        expand_path(state, caller, entry, item, below).await?;
                    }
                }
            }
        }
        Ok(())
    })
}

/// The object of type `object` with this id, as its retrieve answers it; `None` when the
/// caller cannot see one (a V3 session's `customer` may be the merchant's own reference).
async fn fetch(
    state: &AppState,
    caller: &Caller,
    object: &str,
    id: &str,
) -> Result<Option<Value>, ApiError> {
    let db = &state.db;
    let found = match object {
        "customer" => customers::get_customer(db, caller, id)
            .await
            .map(|c| c.object()),
        "payment_intent" => payments::get_payment_intent(db, caller, id)
            .await
            .map(|p| p.object()),
        "product" => catalog::get_product(db, caller, id)
            .await
            .map(|p| objects::product(&p, caller, &Expand::default())),
        "price" => catalog::get_price(db, caller, id)
            .await
            .map(|p| objects::price(&p)),
        "payment_link" => catalog::get_payment_link(db, caller, id)
            .await
            .map(|l| super::api_v3::payment_links::link_object(state, &l)),
        _ => return Ok(None),
    };
    match found {
        Ok(value) => Ok(Some(value)),
        Err(DomainError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// An includable list of the object `value`.
async fn include(
    state: &AppState,
    caller: &Caller,
    object: &str,
    value: &Value,
    field: &str,
) -> Result<Value, ApiError> {
    let id = value["id"].as_str().unwrap_or_default();
    match (object, field) {
        ("checkout.session", "line_items") => {
            let items = checkout::line_items(&state.db, caller, id).await?;
            let url = format!("/v1/checkout/sessions/{id}/line_items");
            Ok(objects::list(
                items.iter().map(objects::line_item).collect(),
                false,
                &url,
            ))
        }
        _ => Ok(Value::Null),
    }
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
        assert!(check(paths(&["payment_intent.latest_charge"]), "checkout.session").is_err());
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
        assert!(expand.has("default_price"));
        assert!(check_list(paths(&["default_price"]), "product").is_err());
        assert!(check_list(paths(&["data"]), "product").is_err());
    }
}
