//! What every operation of the OpenAPI document shares, stated once instead of in each
//! annotation: surface-prefixed operation ids, the error answers the frame and the extractors
//! give (400, 401, 404, 413, 415 and their bodies), the `Idempotency-Key` header, and whether
//! a request body must be sent at all.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr, Required};
use utoipa::{PartialSchema, ToSchema};

use super::surface::Surface;

/// The error body of `/api/v1` and `/api/v2`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LoopsError {
    /// The HTTP status, repeated.
    #[schema(rename = "statusCode")]
    status_code: u16,
    /// The status's reason phrase (`Not Found`).
    error: String,
    message: String,
    /// A machine-readable reason (`resource_missing`, `parameter_invalid`...), when there is one.
    #[schema(nullable = false)]
    code: Option<String>,
    /// The parameter at fault, when there is one.
    #[schema(nullable = false)]
    param: Option<String>,
}

/// The error body of `/api/v3`, `/v1` and the operational routes: Stripe's.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StripeError {
    error: StripeErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StripeErrorDetail {
    /// `invalid_request_error`, `api_error`, `idempotency_error` or `card_error`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    kind: ErrorKind,
    message: String,
    /// A machine-readable reason (`resource_missing`, `parameter_invalid`...), when there is one.
    #[schema(nullable = false)]
    code: Option<String>,
    /// The parameter at fault, when there is one.
    #[schema(nullable = false)]
    param: Option<String>,
    /// For a declined card (`card_error`), the issuer's reason: `generic_decline`,
    /// `insufficient_funds`...
    #[schema(nullable = false)]
    decline_code: Option<String>,
    /// For a declined card, the charge that failed (`ch_...`).
    #[schema(nullable = false)]
    charge: Option<String>,
    /// For a declined card, its PaymentMethod (`pm_...`), used without being attached.
    #[schema(nullable = false, value_type = Option<Object>)]
    payment_method: Option<serde_json::Value>,
    /// For a declined card, the PaymentIntent waiting for another card, with its
    /// `last_payment_error`.
    #[schema(nullable = false, value_type = Option<Object>)]
    payment_intent: Option<serde_json::Value>,
}

#[derive(ToSchema)]
#[allow(dead_code, clippy::enum_variant_names)]
#[schema(rename_all = "snake_case")]
pub enum ErrorKind {
    InvalidRequestError,
    ApiError,
    IdempotencyError,
    CardError,
}

/// Applies the shared conventions to every operation of `doc`.
pub fn apply(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in [
        ("LoopsError", LoopsError::schema()),
        ("StripeError", StripeError::schema()),
        ("StripeErrorDetail", StripeErrorDetail::schema()),
        ("ErrorKind", ErrorKind::schema()),
    ] {
        components.schemas.insert(name.to_string(), schema);
    }
    let schemas = components.schemas.clone();
    for (path, item) in doc.paths.paths.iter_mut() {
        let surface = Surface::of_path(path);
        let operations = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                let context = Context {
                    path,
                    method,
                    surface,
                };
                context.apply(operation, &schemas);
            }
        }
    }
}

struct Context<'a> {
    path: &'a str,
    method: &'static str,
    surface: Surface,
}

impl Context<'_> {
    fn apply(
        &self,
        operation: &mut Operation,
        schemas: &std::collections::BTreeMap<String, RefOr<Schema>>,
    ) {
        if let Some(id) = &mut operation.operation_id
            && let Some(prefix) = self.id_prefix()
        {
            *id = format!("{prefix}_{id}");
        }
        let has_body = operation.request_body.is_some();
        let has_id = self.path.contains('{');
        let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
        match self.surface {
            Surface::LoopsV1 | Surface::LoopsV2 | Surface::LoopsV3 | Surface::Stripe => {
                add(
                    operation,
                    400,
                    "A parameter, the query string or the body is invalid (`param` names it), or the \
                     state of an object forbids the action.",
                );
                if secured {
                    add(
                        operation,
                        401,
                        "The API key is missing, unknown or revoked.",
                    );
                }
                if has_id {
                    add(
                        operation,
                        404,
                        "No such object in the key's account and mode.",
                    );
                }
                if has_body {
                    // Bodies name other objects (`productId`, `line_items[].price`, `customer`...).
                    add(
                        operation,
                        404,
                        "An object the body names (a product, price, customer...) does not exist \
                         in the key's account and mode.",
                    );
                    add(operation, 413, "The body is larger than 1 MiB.");
                    if self.surface != Surface::Stripe {
                        add(
                            operation,
                            415,
                            "The body is not JSON (`Content-Type: application/json`).",
                        );
                    }
                }
                if self.method == "post" {
                    operation
                        .parameters
                        .get_or_insert_with(Vec::new)
                        .push(RefOr::T(idempotency_key()));
                    add(
                        operation,
                        409,
                        "Another request with the same `Idempotency-Key` is in progress.",
                    );
                }
                let schema = if self.surface.has_loops_errors() {
                    "LoopsError"
                } else {
                    "StripeError"
                };
                describe_errors(operation, "application/json", Some(schema));
            }
            Surface::Pages => {
                let dashboard = self.path.starts_with("/dashboard");
                let signed_in_only = dashboard && self.path != "/dashboard/sign-in";
                if signed_in_only {
                    add(operation, 303, "Not signed in: to the sign-in page.");
                }
                if has_id {
                    add(operation, 404, "No such object (HTML).");
                }
                if self.method == "get" && dashboard {
                    add(operation, 400, "The query string is invalid (HTML).");
                }
                if has_body {
                    add(operation, 400, "The form cannot be read (HTML).");
                    add(operation, 413, "The form is larger than 1 MiB (HTML).");
                    add(
                        operation,
                        415,
                        "The body is not `application/x-www-form-urlencoded` (HTML).",
                    );
                    if signed_in_only {
                        add(
                            operation,
                            403,
                            "The form's CSRF token is missing or does not match (HTML).",
                        );
                    }
                }
                describe_errors(operation, "text/html", None);
                if let Some(RefOr::T(body)) = &mut operation.request_body {
                    for content in body.content.values_mut() {
                        if let RefOr::T(content) = content {
                            content.schema.get_or_insert_with(html_form);
                        }
                    }
                }
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && status.starts_with('2')
                        && response.content.is_empty()
                    {
                        response.content.insert(
                            "text/html".to_string(),
                            RefOr::T(ContentBuilder::new().schema(Some(string())).build()),
                        );
                    }
                }
            }
            Surface::Operations => {}
        }
        if let Some(RefOr::T(body)) = &mut operation.request_body {
            // The extractors read an empty body as `{}` (JSON) or no fields (forms): a body is
            // required only where its schema has required fields.
            let needs_fields = body.content.values().any(|content| match content {
                RefOr::T(content) => content
                    .schema
                    .as_ref()
                    .is_some_and(|schema| has_required(schema, schemas)),
                RefOr::Ref(_) => true,
            });
            body.required = Some(if needs_fields {
                Required::True
            } else {
                Required::False
            });
        }
    }

    fn id_prefix(&self) -> Option<&'static str> {
        match self.surface {
            Surface::LoopsV1 => Some("loops_v1"),
            Surface::LoopsV2 => Some("loops_v2"),
            Surface::LoopsV3 => Some("loops_v3"),
            Surface::Stripe => Some("stripe"),
            Surface::Pages if self.path.starts_with("/dashboard") => Some("dashboard"),
            Surface::Pages => Some("page"),
            Surface::Operations => None,
        }
    }
}

/// An HTML form's fields: strings by name, with the page's `csrf` token. The pages read their
/// forms field by field, and each operation's description names the fields it reads.
fn html_form() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "csrf",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The token the page put in the form.")),
        )
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(string()))))
        .into()
}

fn string() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

/// Adds a response for `status` unless the operation already describes one.
fn add(operation: &mut Operation, status: u16, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(Response::new(description)));
}

/// Gives every error response without a body description the surface's error body.
fn describe_errors(operation: &mut Operation, content_type: &str, schema: Option<&str>) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let RefOr::T(response) = response
            && is_error
            && response.content.is_empty()
        {
            let schema: RefOr<Schema> = match schema {
                Some(name) => RefOr::Ref(Ref::from_schema_name(name)),
                None => RefOr::T(string()),
            };
            response.content.insert(
                content_type.to_string(),
                RefOr::T(ContentBuilder::new().schema(Some(schema)).build()),
            );
        }
    }
}

fn idempotency_key() -> Parameter {
    let mut parameter = Parameter::new("Idempotency-Key");
    parameter.parameter_in = ParameterIn::Header;
    parameter.required = Required::False;
    parameter.description = Some(
        "Makes a retry safe: a second request with the same key and body answers the first \
         response again (with `Idempotent-Replayed: true`) instead of running twice. Keys are \
         kept for 24 hours per account and mode."
            .to_string(),
    );
    parameter.schema = Some(RefOr::T(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(255))
            .pattern(Some("^[ -~]*$"))
            .into(),
    ));
    parameter
}

/// Whether a body schema names required fields (following a `$ref` into the components).
fn has_required(
    schema: &RefOr<Schema>,
    schemas: &std::collections::BTreeMap<String, RefOr<Schema>>,
) -> bool {
    match schema {
        RefOr::Ref(reference) => {
            let name = reference
                .ref_location
                .rsplit('/')
                .next()
                .unwrap_or_default();
            schemas
                .get(name)
                .is_some_and(|inner| has_required(inner, schemas))
        }
        RefOr::T(Schema::Object(object)) => !object.required.is_empty(),
        RefOr::T(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn operations_have_unique_ids_and_state_the_shared_answers() {
        let doc = serde_json::to_value(crate::http::openapi()).unwrap();
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap().to_string();
                assert!(ids.insert(id.clone()), "{id} is repeated");
                let responses = operation["responses"].as_object().unwrap();
                if operation.get("security").is_some() {
                    let unauthorized = &responses["401"]["content"]["application/json"];
                    assert!(
                        unauthorized["schema"]["$ref"].is_string(),
                        "{method} {path}"
                    );
                }
                if path.contains("{id}") {
                    assert!(responses.contains_key("404"), "{method} {path}");
                }
            }
        }
        assert!(ids.contains("stripe_list_products") && ids.contains("dashboard_list_products"));
    }

    /// Every `$ref` names a component the document has: a schema given by `schema_with` is
    /// not collected by utoipa, so what it refers to must be registered some other way.
    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                        found.push(target);
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let doc = serde_json::to_value(crate::http::openapi()).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 100, "{} references", found.len());
        for target in found {
            let name = target.strip_prefix("#/components/schemas/").unwrap();
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "{target} names no schema"
            );
        }
    }
}
