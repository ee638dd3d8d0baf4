//! Prices. What a price charges (currency, amount, recurrence) is fixed once it exists, in
//! Stripe as in kassa: a later run copies only the fields that may change (active, nickname,
//! lookup_key, metadata, an unspecified tax_behavior), and reports a changed amount rather
//! than ignoring it.

use crate::domain::catalog::{
    self, CustomUnitAmount, Interval, Price, PriceInput, PriceProduct, PriceTerms, PriceUpdate,
    Recurring,
};
use crate::domain::metadata::MetadataUpdate;
use crate::domain::money::Currency;

use super::wire;
use super::{Cursor, Importer, Kind, Outcome, WOULD_CREATE, refused, text};

impl Importer {
    pub(super) async fn prices(&mut self) -> anyhow::Result<()> {
        let mut cursor = Cursor::new("/v1/prices", &[]);
        while let Some(page) = self.next_page::<wire::Price>(&mut cursor).await? {
            for price in page {
                if self.stopping() {
                    return Ok(());
                }
                let outcome = self.price(&price).await?;
                self.record(Kind::Price, &price.id, outcome);
            }
        }
        Ok(())
    }

    async fn price(&mut self, source: &wire::Price) -> anyhow::Result<Outcome> {
        if let Some(id) = self.mapped(Kind::Price, &source.id) {
            if id == WOULD_CREATE {
                return Ok(Outcome::Unchanged);
            }
            return self.update_price(id.to_string(), source).await;
        }
        let input = match price_input(source) {
            Ok(input) => input,
            Err(reason) => return Ok(Outcome::Skipped(reason)),
        };
        let product = source.product.id();
        let Some(product_id) = self.mapped(Kind::Product, product).map(str::to_string) else {
            return Ok(Outcome::Skipped(format!(
                "its product {product} was not imported"
            )));
        };
        if self.options.dry_run {
            self.remember(Kind::Price, &source.id, WOULD_CREATE);
            return Ok(Outcome::Created);
        }
        let companion = |price: &Price| vec![self.mapping(Kind::Price, &source.id, &price.id)];
        let now = self.now();
        let product = PriceProduct::Existing(product_id);
        let created = catalog::create_price_with(
            &self.db,
            &self.caller,
            product,
            input,
            now,
            Some(&companion),
        )
        .await;
        match created {
            Ok(price) => {
                self.remember(Kind::Price, &source.id, &price.id);
                Ok(Outcome::Created)
            }
            Err(error) => refused(error),
        }
    }

    async fn update_price(&mut self, id: String, source: &wire::Price) -> anyhow::Result<Outcome> {
        let current = match catalog::get_price(&self.db, &self.caller, &id).await {
            Ok(price) => price,
            Err(error) => return refused(error),
        };
        if let Some(reason) = immutable_change(&current, source) {
            self.record_immutable(Kind::Price, &source.id, reason);
        }
        let Some(update) = price_changes(&current, source) else {
            return Ok(Outcome::Unchanged);
        };
        if self.options.dry_run {
            return Ok(Outcome::Updated);
        }
        let now = self.now();
        match catalog::update_price_with(&self.db, &self.caller, &id, update, now, None).await {
            Ok(_) => Ok(Outcome::Updated),
            Err(error) => refused(error),
        }
    }
}

/// A new price's fields from the source's, or why kassa cannot hold such a price.
pub(super) fn price_input(source: &wire::Price) -> Result<PriceInput, String> {
    let terms = price_terms(source)?;
    Ok(PriceInput {
        terms,
        active: Some(source.active),
        lookup_key: text(&source.lookup_key),
        transfer_lookup_key: false,
        nickname: text(&source.nickname),
        tax_behavior: source.tax_behavior.clone(),
        metadata: source.metadata.clone(),
    })
}

/// What the source's price charges, in kassa's terms, or why kassa has no such price.
fn price_terms(source: &wire::Price) -> Result<PriceTerms, String> {
    if source.billing_scheme.as_deref() == Some("tiered") {
        return Err("kassa has no tiered prices (billing_scheme=tiered)".into());
    }
    if source
        .transform_quantity
        .as_ref()
        .is_some_and(|t| !t.is_null())
    {
        return Err("kassa does not support transform_quantity".into());
    }
    let recurring = match &source.recurring {
        None => None,
        Some(r) => Some(recurring(r)?),
    };
    let custom = source.custom_unit_amount.map(|c| CustomUnitAmount {
        minimum: c.minimum,
        maximum: c.maximum,
        preset: c.preset,
    });
    if source.unit_amount.is_none() && custom.is_none() {
        let decimal = source.unit_amount_decimal.as_deref().unwrap_or("none");
        return Err(format!(
            "kassa prices are in whole minor units; this one's unit_amount_decimal is {decimal}"
        ));
    }
    let currency = Currency::parse(&source.currency, "currency").map_err(|e| e.to_string())?;
    Ok(PriceTerms {
        currency,
        unit_amount: source.unit_amount,
        custom,
        recurring,
    })
}

fn recurring(source: &wire::Recurring) -> Result<Recurring, String> {
    if source.usage_type.as_deref() == Some("metered") || source.meter.is_some() {
        return Err("kassa has no metered prices (recurring[usage_type]=metered)".into());
    }
    if let Some(days) = source.trial_period_days {
        return Err(format!(
            "kassa does not support a price's recurring[trial_period_days] ({days}); \
             give trials on the subscription"
        ));
    }
    let interval =
        Interval::parse(&source.interval, "recurring[interval]").map_err(|e| e.to_string())?;
    Ok(Recurring {
        interval,
        interval_count: source.interval_count,
    })
}

/// Which of the fields fixed at creation (product, currency, amounts, recurrence) the source
/// now has otherwise, said for the summary; `None` when they agree.
fn immutable_change(current: &Price, source: &wire::Price) -> Option<String> {
    let terms = match price_terms(source) {
        Ok(terms) => terms,
        Err(reason) => {
            return Some(format!(
                "it changed into a price kassa cannot hold: {reason}"
            ));
        }
    };
    let mut fields = Vec::new();
    if current.terms.currency != terms.currency {
        fields.push("currency");
    }
    if current.terms.unit_amount != terms.unit_amount {
        fields.push("unit_amount");
    }
    if current.terms.custom != terms.custom {
        fields.push("custom_unit_amount");
    }
    if current.terms.recurring != terms.recurring {
        fields.push("recurring");
    }
    if let Some(tax) = &source.tax_behavior
        && current.tax_behavior != "unspecified"
        && *tax != current.tax_behavior
    {
        fields.push("tax_behavior");
    }
    (!fields.is_empty()).then(|| {
        format!(
            "{} changed in the source, but a price's terms are fixed once it exists: create a new \
             price in the source (kassa keeps the old terms)",
            fields.join(", ")
        )
    })
}

/// The changeable fields of `current` that differ from the source's, or `None`.
fn price_changes(current: &Price, source: &wire::Price) -> Option<PriceUpdate> {
    let mut update = PriceUpdate::default();
    let mut changed = false;
    if current.active != source.active {
        update.active = Some(source.active);
        changed = true;
    }
    if current.nickname != text(&source.nickname) {
        update.nickname = Some(text(&source.nickname));
        changed = true;
    }
    if current.lookup_key != text(&source.lookup_key) {
        update.lookup_key = Some(text(&source.lookup_key));
        changed = true;
    }
    if let Some(tax) = &source.tax_behavior
        && *tax != current.tax_behavior
        && current.tax_behavior == "unspecified"
    {
        update.tax_behavior = Some(tax.clone());
        changed = true;
    }
    if current.metadata.0 != source.metadata {
        update.metadata = Some(MetadataUpdate::Replace(source.metadata.clone()));
        changed = true;
    }
    changed.then_some(update)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(changes: serde_json::Value) -> wire::Price {
        let mut price = serde_json::json!({
            "id": "price_1", "product": "prod_1", "active": true, "currency": "usd",
            "unit_amount": 500, "billing_scheme": "per_unit", "recurring": null,
        });
        for (key, value) in changes.as_object().unwrap() {
            price[key] = value.clone();
        }
        serde_json::from_value(price).unwrap()
    }

    #[test]
    fn prices_kassa_cannot_hold_are_refused_with_the_reason() {
        let refusals = [
            (
                serde_json::json!({"billing_scheme": "tiered", "unit_amount": null}),
                "tiered",
            ),
            (
                serde_json::json!({"transform_quantity": {"divide_by": 10}}),
                "transform_quantity",
            ),
            (
                serde_json::json!({"recurring": {"interval": "month", "usage_type": "metered"}}),
                "metered",
            ),
            (
                serde_json::json!({"unit_amount": null, "unit_amount_decimal": "12.5"}),
                "12.5",
            ),
            (serde_json::json!({"currency": "xyz"}), "currency"),
        ];
        for (changes, reason) in refusals {
            let error = price_input(&price(changes.clone())).unwrap_err();
            assert!(error.contains(reason), "{changes}: {error}");
        }
        let monthly =
            price(serde_json::json!({"recurring": {"interval": "month", "interval_count": 3}}));
        let input = price_input(&monthly).unwrap();
        assert_eq!(
            input.terms.recurring,
            Some(Recurring {
                interval: Interval::Month,
                interval_count: 3
            })
        );
        assert_eq!(input.terms.unit_amount, Some(500));
    }
}
