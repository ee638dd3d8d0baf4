//! The canonical JSON form of kassa's objects: Stripe's shape, with the Loops extras the V3 API
//! adds (`amountType`, `priceAmount`, `productIds`...). `/api/v3` and `/v1` answer with these,
//! so an object reads the same on both; typed Stripe clients ignore the extra fields.

use serde_json::{Value, json};

use crate::domain::accounts::Caller;
use crate::domain::catalog::{AmountType, PaymentLink, Price, Product};

/// What to expand in place of ids (`expand[]=default_price`).
#[derive(Debug, Clone, Default)]
pub struct Expand(pub Vec<String>);

impl Expand {
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|f| f == field)
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

pub fn price(price: &Price) -> Value {
    let terms = &price.terms;
    json!({
        "id": price.id,
        "object": "price",
        "active": price.active,
        "billing_scheme": "per_unit",
        "created": price.created,
        "currency": terms.currency,
        "custom_unit_amount": terms.custom.map(|c| json!({
            "maximum": c.maximum,
            "minimum": c.minimum,
            "preset": c.preset,
        })),
        "livemode": price.livemode,
        "lookup_key": price.lookup_key,
        "metadata": price.metadata,
        "nickname": price.nickname,
        "product": price.product_id,
        "recurring": terms.recurring.map(|r| json!({
            "aggregate_usage": null,
            "interval": r.interval.as_str(),
            "interval_count": r.interval_count,
            "meter": null,
            "trial_period_days": null,
            "usage_type": "licensed",
        })),
        "tax_behavior": price.tax_behavior,
        "tiers_mode": null,
        "transform_quantity": null,
        "type": if terms.recurring.is_some() { "recurring" } else { "one_time" },
        "unit_amount": terms.unit_amount,
        "unit_amount_decimal": terms.unit_amount.map(|a| a.to_string()),
    })
}

/// The product, with the Loops fields derived from its default price.
pub fn product(product: &Product, caller: &Caller, expand: &Expand) -> Value {
    let default_price = product.default_price.as_ref();
    let terms = default_price.map(|p| &p.terms);
    let amount_type = product.amount_type();
    let major = |amount: Option<i64>| -> Value {
        match (terms, amount) {
            (Some(terms), Some(amount)) => Value::String(terms.currency.format_major(amount)),
            _ => Value::Null,
        }
    };
    let price_amount = match amount_type {
        Some(AmountType::Fixed) => major(terms.and_then(|t| t.unit_amount)),
        _ => Value::Null,
    };
    let custom = terms.and_then(|t| t.custom);
    json!({
        "id": product.id,
        "object": "product",
        "active": product.active(),
        "created": product.created,
        "default_price": match default_price {
            Some(p) if expand.has("default_price") => price(p),
            Some(p) => Value::String(p.id.clone()),
            None => Value::Null,
        },
        "description": product.description,
        "images": product.images,
        "livemode": product.livemode,
        "marketing_features": [],
        "metadata": product.metadata,
        "name": product.name,
        "package_dimensions": null,
        "shippable": product.shippable,
        "statement_descriptor": product.statement_descriptor,
        "tax_code": product.tax_code,
        "type": product.kind,
        "unit_label": product.unit_label,
        "updated": product.updated,
        "url": product.url,
        "thumbnailUrl": product.thumbnail_url,
        "amountType": amount_type.map(AmountType::as_str),
        "priceAmount": price_amount,
        "minimumAmount": major(custom.and_then(|c| c.minimum)),
        "presetAmount": major(custom.and_then(|c| c.preset)),
        "priceCurrency": terms.map(|t| t.currency.as_str()),
        "recurringInterval": terms.and_then(|t| t.recurring).map(|r| r.interval.as_str()),
        "status": product.status.as_str(),
        "merchantId": caller.account_id,
    })
}

/// A payment link's line items as a Stripe list.
pub fn payment_link_items(link: &PaymentLink, list_url: &str) -> Value {
    let data: Vec<Value> = link
        .items
        .iter()
        .zip(&link.prices)
        .map(|(item, p)| {
            let subtotal = p.terms.unit_amount.unwrap_or(0) * item.quantity;
            json!({
                "id": item.id,
                "object": "item",
                "adjustable_quantity": item.adjustable_quantity,
                "amount_discount": 0,
                "amount_subtotal": subtotal,
                "amount_tax": 0,
                "amount_total": subtotal,
                "currency": p.terms.currency,
                "description": null,
                "metadata": {},
                "price": price(p),
                "quantity": item.quantity,
            })
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "total_count": link.items.len(),
        "url": list_url,
    })
}

pub fn payment_link(link: &PaymentLink, public_url: &str, line_items_url: &str) -> Value {
    let after_completion = match &link.success_url {
        Some(url) => json!({"type": "redirect", "redirect": {"url": url}}),
        None => json!({
            "type": "hosted_confirmation",
            "hosted_confirmation": {"custom_message": link.confirmation_message},
        }),
    };
    let mut object = json!({
        "id": link.id,
        "object": "payment_link",
        "active": link.active,
        "after_completion": after_completion,
        "allow_promotion_codes": link.allow_promotion_codes,
        "application_fee_amount": null,
        "application_fee_percent": null,
        "automatic_tax": {"enabled": false, "liability": null},
        "billing_address_collection": "auto",
        "consent_collection": null,
        "currency": link.currency,
        "custom_fields": [],
        "custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
        "customer_creation": "if_required",
        "inactive_message": null,
        "invoice_creation": null,
        "line_items": payment_link_items(link, line_items_url),
        "livemode": link.livemode,
        "metadata": link.metadata,
        "on_behalf_of": null,
        "payment_intent_data": null,
        "payment_method_collection": "always",
        "payment_method_types": null,
        "phone_number_collection": {"enabled": false},
        "restrictions": null,
        "shipping_address_collection": null,
        "shipping_options": [],
        "submit_type": "auto",
        "subscription_data": null,
        "tax_id_collection": {"enabled": false, "required": "never"},
        "transfer_data": null,
        "url": link.url(public_url),
        "label": link.label,
        "productIds": link.product_ids(),
        "successUrl": link.success_url,
        "cancelUrl": link.cancel_url,
    });
    let fields = object.as_object_mut().expect("an object");
    for (key, value) in &link.settings {
        fields.insert(key.clone(), value.clone());
    }
    object
}

/// A Stripe list envelope.
pub fn list(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({"object": "list", "data": data, "has_more": has_more, "url": url})
}

/// The checkout session: every field of Stripe's object (null, `[]` or `{}` where kassa has
/// nothing) and the Loops V3 extras.
pub fn checkout_session(session: &crate::domain::checkout::Session, public_url: &str) -> Value {
    let setting = |key: &str| session.settings.get(key).cloned().unwrap_or(Value::Null);
    let open = session.state == crate::domain::checkout::SessionState::Open;
    json!({
        "id": session.id,
        "object": "checkout.session",
        "adaptive_pricing": null,
        "after_expiration": null,
        "allow_promotion_codes": setting("allow_promotion_codes"),
        "allowed_payment_method_types": session.payment_method_types(),
        "amount_subtotal": session.amount_subtotal,
        "amount_total": session.amount_total,
        "automatic_tax": {"enabled": false, "liability": null, "provider": null, "status": null},
        "billing_address_collection": setting("billing_address_collection"),
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id,
        "client_secret": null,
        "collected_information": null,
        "consent": null,
        "consent_collection": null,
        "created": session.created,
        "currency": session.currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
        "customer": session.customer_id,
        "customer_account": null,
        "customer_creation": setting("customer_creation"),
        "customer_details": session.customer_details,
        "customer_email": session.customer_email,
        "discounts": [],
        "expires_at": session.expires_at,
        "integration_identifier": setting("integration_identifier"),
        "invoice": null,
        "invoice_creation": null,
        "livemode": session.livemode,
        "locale": setting("locale"),
        "metadata": session.metadata,
        "mode": session.mode.as_str(),
        "origin_context": null,
        "payment_intent": session.payment_intent_id,
        "payment_link": session.payment_link_id,
        "payment_method_collection": "always",
        "payment_method_configuration_details": null,
        "payment_method_options": {},
        "payment_method_types": session.payment_method_types(),
        "payment_status": session.payment_status.as_str(),
        "permissions": null,
        "phone_number_collection": {"enabled": false},
        "recovered_from": null,
        "return_url": setting("return_url"),
        "saved_payment_method_options": null,
        "setup_intent": session.setup_intent_id,
        "shipping": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_options": [],
        "status": session.state.stripe_status(),
        "submit_type": setting("submit_type"),
        "subscription": null,
        "success_url": session.success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": session.settings.get("ui_mode").cloned().unwrap_or_else(|| json!("hosted_page")),
        "url": if open { Value::String(session.url(public_url)) } else { Value::Null },
        "wallet_options": null,
        "productName": session.product_name,
        "externalCustomerId": session.external_customer_id,
    })
}

/// A checkout session's line item (`object: "item"`).
pub fn line_item(item: &crate::domain::checkout::LineItem) -> Value {
    json!({
        "id": item.id,
        "object": "item",
        "adjustable_quantity": item.adjustable_quantity.map(|a| json!({
            "enabled": a.enabled,
            "maximum": a.maximum,
            "minimum": a.minimum,
        })),
        "amount_discount": 0,
        "amount_subtotal": item.amount_subtotal,
        "amount_tax": 0,
        "amount_total": item.amount_total,
        "currency": item.price.terms.currency,
        "description": item.description,
        "metadata": {},
        "price": price(&item.price),
        "quantity": item.quantity,
    })
}
