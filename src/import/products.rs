//! Products, each created with its default price when the source has one kassa can hold, and
//! products' default prices once every price is imported.

use crate::domain::DomainError;
use crate::domain::catalog::{
    self, PriceInput, Product, ProductChange, ProductInput, ProductStatus,
};
use crate::domain::metadata::MetadataUpdate;

use super::wire::{self, Expandable};
use super::{Cursor, Importer, Kind, Outcome, WOULD_CREATE, refused, text};

impl Importer {
    pub(super) async fn products(&mut self) -> anyhow::Result<()> {
        let mut cursor = Cursor::new("/v1/products", &["data.default_price"]);
        while let Some(page) = self.next_page::<wire::Product>(&mut cursor).await? {
            for product in page {
                if self.stopping() {
                    return Ok(());
                }
                if let Some(price) = &product.default_price {
                    let price = price.id().to_string();
                    self.default_prices.insert(product.id.clone(), price);
                }
                let outcome = match self.mapped(Kind::Product, &product.id) {
                    Some(WOULD_CREATE) => Outcome::Unchanged,
                    Some(id) => self.update_product(id.to_string(), &product).await?,
                    None => self.create_product(&product).await?,
                };
                if matches!(outcome, Outcome::Created | Outcome::Updated) {
                    self.changed_products.insert(product.id.clone());
                }
                self.record(Kind::Product, &product.id, outcome);
            }
        }
        Ok(())
    }

    async fn create_product(&mut self, source: &wire::Product) -> anyhow::Result<Outcome> {
        // The default price comes with the product, in its transaction, when kassa can hold
        // it; otherwise the price pass lists it as skipped, with why.
        let price = match &source.default_price {
            Some(Expandable::Object(price)) if self.mapped(Kind::Price, &price.id).is_none() => {
                super::prices::price_input(price)
                    .ok()
                    .map(|input| (price.id.clone(), input))
            }
            _ => None,
        };
        if self.options.dry_run {
            self.remember(Kind::Product, &source.id, WOULD_CREATE);
            if let Some((price_id, _)) = &price {
                self.remember(Kind::Price, price_id, WOULD_CREATE);
            }
            return Ok(Outcome::Created);
        }
        let with_price = price.is_some();
        let mut created = self.insert_product(source, price).await;
        // kassa may refuse the default price and not the product (the price's lookup_key taken
        // by a price already in the account is a unique violation): the product goes in alone,
        // and the price pass lists the price with kassa's reason.
        if with_price
            && let Err(error) = &created
            && !matches!(error, DomainError::Store(e) if !e.is_unique_violation())
        {
            created = self.insert_product(source, None).await;
        }
        match created {
            Ok(()) => Ok(Outcome::Created),
            Err(error) => refused(error),
        }
    }

    /// Writes the product, with `price` (source id and fields) as its default price, and their
    /// mappings in one transaction; remembers both.
    async fn insert_product(
        &mut self,
        source: &wire::Product,
        price: Option<(String, PriceInput)>,
    ) -> Result<(), DomainError> {
        let price_id = price.as_ref().map(|(id, _)| id.clone());
        let companion = |product: &Product| {
            let mut rows = vec![self.mapping(Kind::Product, &source.id, &product.id)];
            if let (Some(source_price), Some(price)) = (&price_id, &product.default_price) {
                rows.push(self.mapping(Kind::Price, source_price, &price.id));
            }
            rows
        };
        let now = self.now();
        let product = catalog::create_product_with(
            &self.db,
            &self.caller,
            product_input(source),
            price.map(|(_, input)| input),
            now,
            Some(&companion),
        )
        .await?;
        self.remember(Kind::Product, &source.id, &product.id);
        if let (Some(source_price), Some(price)) = (price_id, &product.default_price) {
            self.remember(Kind::Price, &source_price, &price.id);
        }
        Ok(())
    }

    async fn update_product(
        &mut self,
        id: String,
        source: &wire::Product,
    ) -> anyhow::Result<Outcome> {
        let current = match catalog::get_product(&self.db, &self.caller, &id).await {
            Ok(product) => product,
            Err(error) => return refused(error),
        };
        let Some(input) = product_changes(&current, source) else {
            return Ok(Outcome::Unchanged);
        };
        if self.options.dry_run {
            return Ok(Outcome::Updated);
        }
        let change = ProductChange {
            input,
            ..Default::default()
        };
        let now = self.now();
        match catalog::update_product_with(&self.db, &self.caller, &id, change, now, None).await {
            Ok(_) => Ok(Outcome::Updated),
            Err(error) => refused(error),
        }
    }

    /// Points each product at its source default price's kassa copy, where it differs (a
    /// product whose default price was created with it already does).
    pub(super) async fn default_prices(&mut self) -> anyhow::Result<()> {
        let mut pairs: Vec<(String, String)> = self.default_prices.clone().into_iter().collect();
        pairs.sort();
        for (source_product, source_price) in pairs {
            if self.stopping() {
                return Ok(());
            }
            let (Some(product_id), Some(price_id)) = (
                self.mapped(Kind::Product, &source_product)
                    .map(str::to_string),
                self.mapped(Kind::Price, &source_price).map(str::to_string),
            ) else {
                continue;
            };
            if product_id == WOULD_CREATE || price_id == WOULD_CREATE {
                continue;
            }
            let product = match catalog::get_product(&self.db, &self.caller, &product_id).await {
                Ok(product) => product,
                Err(error) => {
                    if let super::Outcome::Skipped(reason) = refused(error)? {
                        self.record_note(Kind::Product, &source_product, reason);
                    }
                    continue;
                }
            };
            if product.default_price.as_ref().map(|p| p.id.as_str()) == Some(price_id.as_str()) {
                continue;
            }
            let outcome = self.set_default_price(&product_id, price_id).await?;
            // Counted as an update of the product, unless it was refused.
            if let Outcome::Skipped(reason) = outcome {
                self.record_note(Kind::Product, &source_product, reason);
            } else if self.changed_products.insert(source_product) {
                let tally = &mut self.summary.products;
                tally.updated += 1;
                tally.unchanged = tally.unchanged.saturating_sub(1);
            }
        }
        Ok(())
    }

    async fn set_default_price(
        &mut self,
        product_id: &str,
        price_id: String,
    ) -> anyhow::Result<Outcome> {
        if self.options.dry_run {
            return Ok(Outcome::Updated);
        }
        let change = ProductChange {
            default_price: Some(price_id),
            ..Default::default()
        };
        let now = self.now();
        match catalog::update_product_with(&self.db, &self.caller, product_id, change, now, None)
            .await
        {
            Ok(_) => Ok(Outcome::Updated),
            Err(error) => refused(error),
        }
    }

    fn record_note(&mut self, kind: Kind, source_id: &str, reason: String) {
        self.summary.notes.push(super::Note {
            kind,
            source_id: source_id.to_string(),
            reason: format!("its default price was not set: {reason}"),
        });
    }
}

/// A new product's fields, from the source's.
fn product_input(source: &wire::Product) -> ProductInput {
    ProductInput {
        name: Some(source.name.clone()),
        description: Some(text(&source.description)),
        active: Some(source.active),
        images: Some(source.images.clone()),
        statement_descriptor: Some(text(&source.statement_descriptor)),
        tax_code: Some(source.tax_code.as_ref().map(|t| t.id().to_string())),
        unit_label: Some(text(&source.unit_label)),
        url: Some(text(&source.url)),
        shippable: Some(source.shippable),
        kind: source.kind.clone(),
        metadata: Some(MetadataUpdate::Replace(source.metadata.clone())),
        ..Default::default()
    }
}

/// The fields of `current` that differ from the source's, or `None` when none does.
fn product_changes(current: &Product, source: &wire::Product) -> Option<ProductInput> {
    let mut input = ProductInput::default();
    let mut changed = false;
    fn differs<T: PartialEq + Clone>(
        now: &T,
        wanted: T,
        field: &mut Option<T>,
        changed: &mut bool,
    ) {
        if *now != wanted {
            *field = Some(wanted);
            *changed = true;
        }
    }
    differs(
        &current.name,
        source.name.trim().to_string(),
        &mut input.name,
        &mut changed,
    );
    differs(
        &current.description,
        text(&source.description),
        &mut input.description,
        &mut changed,
    );
    let active = current.status == ProductStatus::Active;
    differs(&active, source.active, &mut input.active, &mut changed);
    differs(
        &current.images,
        source.images.clone(),
        &mut input.images,
        &mut changed,
    );
    let descriptor = text(&source.statement_descriptor);
    differs(
        &current.statement_descriptor,
        descriptor,
        &mut input.statement_descriptor,
        &mut changed,
    );
    let tax_code = source.tax_code.as_ref().map(|t| t.id().to_string());
    differs(
        &current.tax_code,
        tax_code,
        &mut input.tax_code,
        &mut changed,
    );
    differs(
        &current.unit_label,
        text(&source.unit_label),
        &mut input.unit_label,
        &mut changed,
    );
    differs(
        &current.url,
        text(&source.url),
        &mut input.url,
        &mut changed,
    );
    differs(
        &current.shippable,
        source.shippable,
        &mut input.shippable,
        &mut changed,
    );
    if let Some(kind) = &source.kind {
        differs(&current.kind, kind.clone(), &mut input.kind, &mut changed);
    }
    if current.metadata.0 != source.metadata {
        input.metadata = Some(MetadataUpdate::Replace(source.metadata.clone()));
        changed = true;
    }
    changed.then_some(input)
}
