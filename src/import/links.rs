//! Payment links: their lines (each price mapped to its kassa copy), what happens after
//! payment, the settings kassa has, and metadata. A link using a feature kassa does not have
//! (promotion codes, collected addresses or phone numbers, tax, custom fields, a trial,
//! restrictions and the others of [`ABSENT_FEATURES`]) is skipped and said so, rather than
//! copied without it.

use serde_json::Value;

use crate::domain::catalog::{self, LinkItemInput, PaymentLink, PaymentLinkInput};
use crate::domain::metadata::MetadataUpdate;

use super::wire;
use super::{Cursor, Importer, Kind, Outcome, WOULD_CREATE, refused, text};

/// The link settings kassa stores and echoes, copied when the source gives them.
const SETTINGS: [&str; 3] = [
    "billing_address_collection",
    "customer_creation",
    "submit_type",
];

/// Fields of Stripe's payment link for features kassa's links do not have (its API refuses
/// them too): a link that uses one is skipped, naming it.
const ABSENT_FEATURES: [&str; 15] = [
    "application_fee_amount",
    "application_fee_percent",
    "consent_collection",
    "custom_text",
    "inactive_message",
    "invoice_creation",
    "name_collection",
    "on_behalf_of",
    "optional_items",
    "payment_intent_data",
    "payment_method_collection",
    "restrictions",
    "shipping_options",
    "subscription_data",
    "transfer_data",
];

/// A line as kassa will hold it: its kassa price, quantity and adjustable quantity.
type Line = (String, i64, Option<catalog::AdjustableQuantity>);

impl Importer {
    pub(super) async fn links(&mut self) -> anyhow::Result<()> {
        let mut cursor = Cursor::new("/v1/payment_links", &[]);
        while let Some(page) = self.next_page::<wire::PaymentLink>(&mut cursor).await? {
            for link in page {
                if self.stopping() {
                    return Ok(());
                }
                let Some(outcome) = self.link(&link).await? else {
                    return Ok(());
                };
                self.record(Kind::PaymentLink, &link.id, outcome);
            }
        }
        Ok(())
    }

    /// What became of the link; `None` when stopped while reading its lines.
    async fn link(&mut self, source: &wire::PaymentLink) -> anyhow::Result<Option<Outcome>> {
        if let Some(reason) = unsupported(source) {
            return Ok(Some(Outcome::Skipped(reason)));
        }
        let path = format!("/v1/payment_links/{}/line_items", source.id);
        let mut cursor = Cursor::new(path, &[]);
        let mut items = Vec::new();
        while let Some(page) = self.next_page::<wire::LinkItem>(&mut cursor).await? {
            items.extend(page);
        }
        if self.summary.interrupted {
            return Ok(None);
        }
        let lines = match self.lines(&items) {
            Ok(lines) => lines,
            Err(reason) => return Ok(Some(Outcome::Skipped(reason))),
        };
        let outcome = match self
            .mapped(Kind::PaymentLink, &source.id)
            .map(str::to_string)
        {
            Some(id) if id == WOULD_CREATE => Outcome::Unchanged,
            Some(id) => self.update_link(&id, source, lines).await?,
            None => self.create_link(source, lines).await?,
        };
        Ok(Some(outcome))
    }

    /// The link's lines with their prices mapped, or why one cannot be.
    fn lines(&self, items: &[wire::LinkItem]) -> Result<Vec<Line>, String> {
        items
            .iter()
            .map(|item| {
                let price = item.price.id();
                let mapped = self
                    .mapped(Kind::Price, price)
                    .ok_or_else(|| format!("its price {price} was not imported"))?;
                let adjustable = item
                    .adjustable_quantity
                    .map(|a| catalog::AdjustableQuantity {
                        enabled: a.enabled,
                        minimum: a.minimum,
                        maximum: a.maximum,
                    });
                Ok((mapped.to_string(), item.quantity, adjustable))
            })
            .collect()
    }

    async fn create_link(
        &mut self,
        source: &wire::PaymentLink,
        lines: Vec<Line>,
    ) -> anyhow::Result<Outcome> {
        if self.options.dry_run {
            self.remember(Kind::PaymentLink, &source.id, WOULD_CREATE);
            return Ok(Outcome::Created);
        }
        let (success_url, message) = after_completion(source);
        let input = PaymentLinkInput {
            line_items: Some(line_inputs(lines)),
            active: Some(source.active),
            success_url: Some(success_url),
            confirmation_message: Some(message),
            settings: settings(source),
            metadata: Some(MetadataUpdate::Replace(source.metadata.clone())),
            ..Default::default()
        };
        let companion =
            |link: &PaymentLink| vec![self.mapping(Kind::PaymentLink, &source.id, &link.id)];
        let (now, url) = (self.now(), self.options.public_url.clone());
        let db = &self.db;
        match catalog::create_payment_link_with(
            db,
            &self.caller,
            input,
            &url,
            now,
            Some(&companion),
        )
        .await
        {
            Ok(link) => {
                self.remember(Kind::PaymentLink, &source.id, &link.id);
                Ok(Outcome::Created)
            }
            Err(error) => refused(error),
        }
    }

    async fn update_link(
        &mut self,
        id: &str,
        source: &wire::PaymentLink,
        lines: Vec<Line>,
    ) -> anyhow::Result<Outcome> {
        let current = match catalog::get_payment_link(&self.db, &self.caller, id).await {
            Ok(link) => link,
            Err(error) => return refused(error),
        };
        let Some(input) = link_changes(&current, source, lines) else {
            return Ok(Outcome::Unchanged);
        };
        if self.options.dry_run {
            return Ok(Outcome::Updated);
        }
        let (now, url) = (self.now(), self.options.public_url.clone());
        match catalog::update_payment_link_with(&self.db, &self.caller, id, input, &url, now, None)
            .await
        {
            Ok(_) => Ok(Outcome::Updated),
            Err(error) => refused(error),
        }
    }
}

/// Why kassa cannot hold the link as the source has it, if it cannot.
fn unsupported(source: &wire::PaymentLink) -> Option<String> {
    let enabled = |e: &Option<wire::Enabled>| e.is_some_and(|e| e.enabled);
    let refusals = [
        (
            source.allow_promotion_codes,
            "allow_promotion_codes (kassa has no promotion codes)",
        ),
        (
            source.billing_address_collection.as_deref() == Some("required"),
            "billing_address_collection=required",
        ),
        (enabled(&source.automatic_tax), "automatic_tax"),
        (
            enabled(&source.phone_number_collection),
            "phone_number_collection",
        ),
        (enabled(&source.tax_id_collection), "tax_id_collection"),
        (
            source
                .shipping_address_collection
                .as_ref()
                .is_some_and(|s| !s.is_null()),
            "shipping_address_collection",
        ),
        (!source.custom_fields.is_empty(), "custom_fields"),
        (
            source
                .payment_method_types
                .as_ref()
                .is_some_and(|t| t.iter().any(|t| t != "card")),
            "payment_method_types other than card",
        ),
    ];
    let absent = ABSENT_FEATURES
        .iter()
        .filter(|name| source.other.get(**name).is_some_and(in_use));
    let used: Vec<&str> = refusals
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .chain(absent.copied())
        .collect();
    (!used.is_empty()).then(|| format!("kassa does not support {}", used.join(", ")))
}

/// Whether a field of the source's link is in use. Stripe shows an unused one as null, false,
/// an empty list, one of its defaults (`none`; `self` as the invoices' issuer; `always` as the
/// payment method collection), or an object whose parts are all unused or whose `enabled` is
/// false.
fn in_use(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !matches!(s.as_str(), "" | "none" | "self" | "always"),
        Value::Array(items) => !items.is_empty(),
        Value::Object(fields) => match fields.get("enabled") {
            Some(enabled) => enabled.as_bool() == Some(true),
            None => fields.values().any(in_use),
        },
        Value::Bool(true) | Value::Number(_) => true,
    }
}

/// `(success_url, confirmation message)` from `after_completion`.
fn after_completion(source: &wire::PaymentLink) -> (Option<String>, Option<String>) {
    match &source.after_completion {
        Some(after) if after.kind == "redirect" => {
            (after.redirect.as_ref().map(|r| r.url.clone()), None)
        }
        Some(after) => (
            None,
            after
                .hosted_confirmation
                .as_ref()
                .and_then(|h| text(&h.custom_message)),
        ),
        None => (None, None),
    }
}

fn settings(source: &wire::PaymentLink) -> serde_json::Map<String, Value> {
    let values = [
        &source.billing_address_collection,
        &source.customer_creation,
        &source.submit_type,
    ];
    SETTINGS
        .iter()
        .zip(values)
        .filter_map(|(key, value)| Some((key.to_string(), Value::String(value.clone()?))))
        .collect()
}

fn line_inputs(lines: Vec<Line>) -> Vec<LinkItemInput> {
    lines
        .into_iter()
        .map(|(price, quantity, adjustable_quantity)| LinkItemInput {
            price,
            quantity: Some(quantity),
            adjustable_quantity,
        })
        .collect()
}

/// The fields of `current` that differ from the source's, or `None` when none does.
fn link_changes(
    current: &PaymentLink,
    source: &wire::PaymentLink,
    lines: Vec<Line>,
) -> Option<PaymentLinkInput> {
    let mut input = PaymentLinkInput::default();
    let mut changed = false;
    let held: Vec<Line> = current
        .items
        .iter()
        .map(|i| (i.price.clone(), i.quantity, i.adjustable_quantity))
        .collect();
    if held != lines {
        input.line_items = Some(line_inputs(lines));
        changed = true;
    }
    if current.active != source.active {
        input.active = Some(source.active);
        changed = true;
    }
    let (success_url, message) = after_completion(source);
    if current.success_url != success_url {
        input.success_url = Some(success_url);
        changed = true;
    }
    if current.confirmation_message != message {
        input.confirmation_message = Some(message);
        changed = true;
    }
    let wanted = settings(source);
    if wanted
        .iter()
        .any(|(k, v)| current.settings.get(k) != Some(v))
    {
        input.settings = wanted;
        changed = true;
    }
    if current.metadata.0 != source.metadata {
        input.metadata = Some(MetadataUpdate::Replace(source.metadata.clone()));
        changed = true;
    }
    changed.then_some(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payment-mode link as Stripe shows it with nothing but its lines set, changed by
    /// `changes`.
    fn link(changes: Value) -> wire::PaymentLink {
        let mut link = serde_json::json!({
            "id": "plink_1", "object": "payment_link", "active": true,
            "allow_promotion_codes": false, "application_fee_amount": null,
            "application_fee_percent": null,
            "automatic_tax": {"enabled": false, "liability": null},
            "billing_address_collection": "auto",
            "consent_collection": {"payment_method_reuse_agreement": null,
                "promotions": "none", "terms_of_service": "none"},
            "currency": "usd", "custom_fields": [],
            "custom_text": {"after_submit": null, "shipping_address": null, "submit": null,
                "terms_of_service_acceptance": null},
            "customer_creation": "if_required", "inactive_message": null,
            "invoice_creation": {"enabled": false, "invoice_data": {"account_tax_ids": null,
                "custom_fields": null, "description": null, "footer": null, "issuer": null,
                "metadata": {}, "rendering_options": null}},
            "livemode": false, "metadata": {},
            "name_collection": {"business": {"enabled": false, "optional": false},
                "individual": {"enabled": false, "optional": false}},
            "on_behalf_of": null, "optional_items": [], "payment_intent_data": null,
            "payment_method_collection": "always", "payment_method_types": null,
            "phone_number_collection": {"enabled": false}, "restrictions": null,
            "shipping_address_collection": null, "shipping_options": [], "submit_type": "auto",
            "subscription_data": {"description": null,
                "invoice_settings": {"issuer": {"type": "self"}}, "metadata": {},
                "trial_period_days": null, "trial_settings": null},
            "tax_id_collection": {"enabled": false, "required": "never"},
            "transfer_data": null, "url": "https://buy.stripe.com/test_1",
        });
        for (key, value) in changes.as_object().unwrap() {
            link[key] = value.clone();
        }
        serde_json::from_value(link).unwrap()
    }

    #[test]
    fn a_link_using_a_feature_kassa_lacks_is_refused_naming_it() {
        assert_eq!(unsupported(&link(serde_json::json!({}))), None);
        for (changes, named) in [
            (
                serde_json::json!({"restrictions": {"completed_sessions": {"count": 0, "limit": 10}}}),
                "restrictions",
            ),
            (
                serde_json::json!({"subscription_data": {"description": null,
                    "invoice_settings": {"issuer": {"type": "self"}}, "metadata": {},
                    "trial_period_days": 14, "trial_settings": null}}),
                "subscription_data",
            ),
            (
                serde_json::json!({"custom_text": {"submit": {"message": "Thanks"}}}),
                "custom_text",
            ),
            (
                serde_json::json!({"invoice_creation": {"enabled": true}}),
                "invoice_creation",
            ),
            (
                serde_json::json!({"consent_collection": {"terms_of_service": "required"}}),
                "consent_collection",
            ),
            (
                serde_json::json!({"inactive_message": "Sold out"}),
                "inactive_message",
            ),
            (
                serde_json::json!({"payment_method_collection": "if_required"}),
                "payment_method_collection",
            ),
            (
                serde_json::json!({"allow_promotion_codes": true}),
                "allow_promotion_codes",
            ),
        ] {
            let reason = unsupported(&link(changes.clone()));
            assert!(
                reason.as_deref().is_some_and(|r| r.contains(named)),
                "{changes}: {reason:?}"
            );
        }
    }
}
