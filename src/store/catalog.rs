//! Products, prices and payment links.

use super::counts;
use super::events::insert_events;
use super::query::Select;
use super::{Arg, Db, FromRow, Row, Statement, StoreError, StoreResult, Tx, args, row_struct};
use crate::domain::accounts::Caller;
use crate::domain::catalog::{
    CustomUnitAmount, Interval, LinkItem, PaymentLink, PaymentLinkFilter, Price, PriceFilter,
    PriceTerms, Product, ProductFilter, ProductStatus, Recurring,
};
use crate::domain::events::Event;
use crate::domain::list::{Page, PageRequest};
use crate::domain::metadata::Metadata;
use crate::domain::money::Currency;

// ----- Rows --------------------------------------------------------------------------------------

/// Price columns; `p.` for a price table aliased `p`.
macro_rules! price_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id AS price_id, ",
            $p,
            "livemode AS price_livemode, ",
            $p,
            "product_id AS price_product_id, ",
            $p,
            "active AS price_active, ",
            $p,
            "currency AS price_currency, ",
            $p,
            "unit_amount AS price_unit_amount, ",
            $p,
            "custom_enabled AS price_custom_enabled, ",
            $p,
            "custom_minimum AS price_custom_minimum, ",
            $p,
            "custom_maximum AS price_custom_maximum, ",
            $p,
            "custom_preset AS price_custom_preset, ",
            $p,
            "recurring_interval AS price_recurring_interval, ",
            $p,
            "recurring_interval_count AS price_recurring_interval_count, ",
            $p,
            "lookup_key AS price_lookup_key, ",
            $p,
            "nickname AS price_nickname, ",
            $p,
            "tax_behavior AS price_tax_behavior, ",
            $p,
            "metadata AS price_metadata, ",
            $p,
            "created AS price_created"
        )
    };
}
pub(super) use price_columns;

/// Product columns joined with the default price's (`pr.`), for a product table aliased `p`.
macro_rules! product_select {
    () => {
        concat!(
            "p.id, p.livemode, p.name, p.description, p.status, p.images, p.thumbnail_url, ",
            "p.statement_descriptor, p.tax_code, p.unit_label, p.url, p.shippable, p.type, p.metadata, ",
            "p.created, p.updated, ",
            price_columns!("pr.")
        )
    };
}

const PRODUCT_FROM: &str = "products p LEFT JOIN prices pr ON pr.id = p.default_price_id";

/// A price's columns, possibly all NULL (a product without a default price).
struct PriceRow {
    price_id: Option<String>,
    price_livemode: Option<bool>,
    price_product_id: Option<String>,
    price_active: Option<bool>,
    price_currency: Option<String>,
    price_unit_amount: Option<i64>,
    price_custom_enabled: Option<bool>,
    price_custom_minimum: Option<i64>,
    price_custom_maximum: Option<i64>,
    price_custom_preset: Option<i64>,
    price_recurring_interval: Option<String>,
    price_recurring_interval_count: Option<i64>,
    price_lookup_key: Option<String>,
    price_nickname: Option<String>,
    price_tax_behavior: Option<String>,
    price_metadata: Option<String>,
    price_created: Option<i64>,
}

impl PriceRow {
    /// The price's columns from position `at` on, in the order of `price_columns!`.
    fn read(row: &Row<'_>, at: usize) -> StoreResult<PriceRow> {
        Ok(PriceRow {
            price_id: row.get(at)?,
            price_livemode: row.get(at + 1)?,
            price_product_id: row.get(at + 2)?,
            price_active: row.get(at + 3)?,
            price_currency: row.get(at + 4)?,
            price_unit_amount: row.get(at + 5)?,
            price_custom_enabled: row.get(at + 6)?,
            price_custom_minimum: row.get(at + 7)?,
            price_custom_maximum: row.get(at + 8)?,
            price_custom_preset: row.get(at + 9)?,
            price_recurring_interval: row.get(at + 10)?,
            price_recurring_interval_count: row.get(at + 11)?,
            price_lookup_key: row.get(at + 12)?,
            price_nickname: row.get(at + 13)?,
            price_tax_behavior: row.get(at + 14)?,
            price_metadata: row.get(at + 15)?,
            price_created: row.get(at + 16)?,
        })
    }

    fn into_price(self) -> Option<Price> {
        let id = self.price_id?;
        let recurring = self.price_recurring_interval.map(|interval| Recurring {
            interval: Interval::parse(&interval, "").unwrap_or(Interval::Month),
            interval_count: self.price_recurring_interval_count.unwrap_or(1),
        });
        let custom = self
            .price_custom_enabled
            .unwrap_or(false)
            .then_some(CustomUnitAmount {
                minimum: self.price_custom_minimum,
                maximum: self.price_custom_maximum,
                preset: self.price_custom_preset,
            });
        Some(Price {
            id,
            livemode: self.price_livemode.unwrap_or(false),
            product_id: self.price_product_id.unwrap_or_default(),
            active: self.price_active.unwrap_or(false),
            terms: PriceTerms {
                currency: Currency::from_stored(self.price_currency.unwrap_or_default()),
                unit_amount: self.price_unit_amount,
                custom,
                recurring,
            },
            lookup_key: self.price_lookup_key,
            nickname: self.price_nickname,
            tax_behavior: self
                .price_tax_behavior
                .unwrap_or_else(|| "unspecified".into()),
            metadata: Metadata::from_json(self.price_metadata.as_deref().unwrap_or("{}")),
            created: self.price_created.unwrap_or(0),
        })
    }
}

/// The product's columns of `product_select!`, then its default price's.
struct ProductRow {
    id: String,
    livemode: bool,
    name: String,
    description: Option<String>,
    status: String,
    images: String,
    thumbnail_url: Option<String>,
    statement_descriptor: Option<String>,
    tax_code: Option<String>,
    unit_label: Option<String>,
    url: Option<String>,
    shippable: Option<bool>,
    r#type: String,
    metadata: String,
    created: i64,
    updated: i64,
    price: PriceRow,
}

impl FromRow for PriceRow {
    fn from_row(row: &Row<'_>) -> StoreResult<Self> {
        PriceRow::read(row, 0)
    }
}

/// The price whose `price_columns!` start at position `at` of `row`; `None` when they are all
/// NULL (an outer join that found none).
pub(super) fn read_price(row: &Row<'_>, at: usize) -> StoreResult<Option<Price>> {
    Ok(PriceRow::read(row, at)?.into_price())
}

impl ProductRow {
    /// The columns of `product_select!` from position `at` on.
    fn read(row: &Row<'_>, at: usize) -> StoreResult<ProductRow> {
        Ok(ProductRow {
            id: row.get(at)?,
            livemode: row.get(at + 1)?,
            name: row.get(at + 2)?,
            description: row.get(at + 3)?,
            status: row.get(at + 4)?,
            images: row.get(at + 5)?,
            thumbnail_url: row.get(at + 6)?,
            statement_descriptor: row.get(at + 7)?,
            tax_code: row.get(at + 8)?,
            unit_label: row.get(at + 9)?,
            url: row.get(at + 10)?,
            shippable: row.get(at + 11)?,
            r#type: row.get(at + 12)?,
            metadata: row.get(at + 13)?,
            created: row.get(at + 14)?,
            updated: row.get(at + 15)?,
            price: PriceRow::read(row, at + 16)?,
        })
    }
}

impl FromRow for ProductRow {
    fn from_row(row: &Row<'_>) -> StoreResult<Self> {
        ProductRow::read(row, 0)
    }
}

/// A price (`x.`) and its product, for [`get_price_with_product`].
struct PriceWithProductRow(PriceRow, ProductRow);

impl FromRow for PriceWithProductRow {
    fn from_row(row: &Row<'_>) -> StoreResult<Self> {
        /// Columns in `price_columns!`.
        const PRICE_COLUMNS: usize = 17;
        Ok(PriceWithProductRow(
            PriceRow::read(row, 0)?,
            ProductRow::read(row, PRICE_COLUMNS)?,
        ))
    }
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Product {
            id: r.id,
            livemode: r.livemode,
            name: r.name,
            description: r.description,
            status: ProductStatus::parse(&r.status, "").unwrap_or(ProductStatus::Inactive),
            images: serde_json::from_str(&r.images).unwrap_or_default(),
            thumbnail_url: r.thumbnail_url,
            statement_descriptor: r.statement_descriptor,
            tax_code: r.tax_code,
            unit_label: r.unit_label,
            url: r.url,
            shippable: r.shippable,
            kind: r.r#type,
            metadata: Metadata::from_json(&r.metadata),
            default_price: r.price.into_price(),
            created: r.created,
            updated: r.updated,
        }
    }
}

// ----- Products ----------------------------------------------------------------------------------

pub(crate) const INSERT_PRODUCT: &str = "INSERT INTO products (id, account_id, livemode, name, description, status, \
     amount_type, default_price_id, images, thumbnail_url, statement_descriptor, tax_code, unit_label, url, \
     shippable, type, metadata, created, updated) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";

const UPDATE_PRODUCT: &str = "UPDATE products SET name = $1, description = $2, status = $3, amount_type = $4, \
     default_price_id = $5, images = $6, thumbnail_url = $7, statement_descriptor = $8, tax_code = $9, \
     unit_label = $10, url = $11, shippable = $12, type = $13, metadata = $14, updated = $15 \
     WHERE id = $16 AND account_id = $17 AND livemode = $18";

pub(crate) const INSERT_PRICE: &str = "INSERT INTO prices (id, account_id, livemode, product_id, active, currency, \
     unit_amount, custom_enabled, custom_minimum, custom_maximum, custom_preset, recurring_interval, \
     recurring_interval_count, lookup_key, nickname, tax_behavior, metadata, created) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

/// A product's columns in the order of [`INSERT_PRODUCT`] and [`UPDATE_PRODUCT`], after the
/// account (`$4` to `$17`).
fn product_fields(product: &Product) -> [Arg<'_>; 14] {
    args![
        &product.name,
        &product.description,
        product.status.as_str(),
        product.amount_type().map(|t| t.as_str()),
        product.default_price.as_ref().map(|p| p.id.as_str()),
        serde_json::to_string(&product.images).expect("images serialize"),
        &product.thumbnail_url,
        &product.statement_descriptor,
        &product.tax_code,
        &product.unit_label,
        &product.url,
        product.shippable,
        &product.kind,
        product.metadata.to_json()
    ]
}

/// The INSERT of a product (without its default price).
pub(crate) fn product_insert<'a>(caller: &'a Caller, product: &'a Product) -> Statement<'a> {
    let mut row = args![&product.id, &caller.account_id, product.livemode].to_vec();
    row.extend(product_fields(product));
    row.extend(args![product.created, product.updated]);
    Statement::new(INSERT_PRODUCT, row)
}

/// Inserts a product (without its default price) inside `tx`.
pub(crate) async fn insert_product_row(
    tx: &mut Tx<'_>,
    caller: &Caller,
    product: &Product,
) -> StoreResult<()> {
    let insert = product_insert(caller, product);
    tx.execute(insert.sql, &insert.args).await?;
    Ok(())
}

/// The INSERT of a price.
pub(crate) fn price_insert<'a>(caller: &'a Caller, price: &'a Price) -> Statement<'a> {
    let custom = price.terms.custom.unwrap_or_default();
    let recurring = price.terms.recurring;
    Statement::new(
        INSERT_PRICE,
        args![
            &price.id,
            &caller.account_id,
            price.livemode,
            &price.product_id,
            price.active,
            price.terms.currency.as_str(),
            price.terms.unit_amount,
            price.terms.custom.is_some(),
            custom.minimum,
            custom.maximum,
            custom.preset,
            recurring.map(|r| r.interval.as_str()),
            recurring.map(|r| r.interval_count),
            &price.lookup_key,
            &price.nickname,
            &price.tax_behavior,
            price.metadata.to_json(),
            price.created
        ],
    )
}

/// Inserts a price inside `tx`.
pub(crate) async fn insert_price_row(
    tx: &mut Tx<'_>,
    caller: &Caller,
    price: &Price,
) -> StoreResult<()> {
    let insert = price_insert(caller, price);
    tx.execute(insert.sql, &insert.args).await?;
    Ok(())
}

/// Inserts the product and, when it has one, its default price, in one transaction.
pub async fn insert_product(
    db: &Db,
    caller: &Caller,
    product: &Product,
    events: &[Event],
    also: &[Statement<'_>],
) -> StoreResult<()> {
    db.write(async |tx| {
        insert_product_row(tx, caller, product).await?;
        if let Some(price) = &product.default_price {
            insert_price_row(tx, caller, price).await?;
        }
        let key = product.count_key();
        counts::bump(
            tx,
            &caller.account_id,
            product.livemode,
            counts::PRODUCTS,
            &key,
            1,
        )
        .await?;
        insert_events(tx, events).await?;
        run_also(tx, also).await
    })
    .await
}

/// Runs `also`, the statements a caller asked to be written with a change (`kassa import`'s
/// mapping rows), inside the change's transaction.
pub(crate) async fn run_also(tx: &mut Tx<'_>, also: &[Statement<'_>]) -> StoreResult<()> {
    for statement in also {
        tx.run(statement).await?;
    }
    Ok(())
}

/// Saves a product's fields; with `new_default` (a new default price, and the price it
/// replaces, if any), inserts the new price and deactivates the old one, all in one transaction.
pub async fn update_product(
    db: &Db,
    caller: &Caller,
    product: &Product,
    previous_count_key: &str,
    new_default: Option<(&Price, Option<&str>)>,
    events: &[Event],
    also: &[Statement<'_>],
) -> StoreResult<()> {
    let count_key = product.count_key();
    db.write(async |tx| {
        if count_key != previous_count_key {
            let (account, live) = (&caller.account_id, product.livemode);
            counts::bump(tx, account, live, counts::PRODUCTS, previous_count_key, -1).await?;
            counts::bump(tx, account, live, counts::PRODUCTS, &count_key, 1).await?;
        }
        if let Some((price, _)) = new_default {
            insert_price_row(tx, caller, price).await?;
        }
        if let Some((_, Some(retired))) = new_default {
            tx.execute(
                "UPDATE prices SET active = FALSE WHERE id = $1 AND account_id = $2",
                &args![retired, &caller.account_id],
            )
            .await?;
        }
        let mut row = product_fields(product).to_vec();
        row.extend(args![
            product.updated,
            &product.id,
            &caller.account_id,
            caller.mode.is_live()
        ]);
        tx.execute(UPDATE_PRODUCT, &row).await?;
        insert_events(tx, events).await?;
        run_also(tx, also).await
    })
    .await
}

pub async fn delete_product(
    db: &Db,
    caller: &Caller,
    product: &Product,
    events: &[Event],
) -> StoreResult<()> {
    db.write(async |tx| {
        let deleted = tx
            .execute(
                "DELETE FROM products WHERE id = $1 AND account_id = $2 AND livemode = $3",
                &args![&product.id, &caller.account_id, caller.mode.is_live()],
            )
            .await?;
        if deleted == 1 {
            insert_events(tx, events).await?;
            let key = product.count_key();
            counts::bump(
                tx,
                &caller.account_id,
                product.livemode,
                counts::PRODUCTS,
                &key,
                -1,
            )
            .await?;
        }
        Ok(())
    })
    .await
}

pub async fn product_has_prices(db: &Db, product_id: &str) -> StoreResult<bool> {
    let found: Option<(String,)> = db
        .fetch_optional(
            "SELECT id FROM prices WHERE product_id = $1 LIMIT 1",
            &args![product_id],
        )
        .await?;
    Ok(found.is_some())
}

pub async fn get_product(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<Product>> {
    const SQL: &str = concat!(
        "SELECT ",
        product_select!(),
        " FROM products p LEFT JOIN prices pr ON pr.id = p.default_price_id ",
        "WHERE p.id = $1 AND p.account_id = $2 AND p.livemode = $3"
    );
    let row: Option<ProductRow> = db
        .fetch_optional(SQL, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.map(Product::from))
}

fn product_filters(caller: &Caller, filter: &ProductFilter) -> Select {
    let mut select = Select::new(product_select!(), PRODUCT_FROM);
    select.scope("p.", &caller.account_id, caller.mode.is_live());
    select.filter_text("p.status = ?", filter.status.map(|s| s.as_str()));
    if let Some(active) = filter.active {
        let condition = if active {
            "p.status = ?"
        } else {
            "p.status <> ?"
        };
        select.filter(condition, ProductStatus::Active.as_str().to_string());
    }
    select.filter_text("p.amount_type = ?", filter.amount_type.map(|t| t.as_str()));
    select.filter_bool("p.shippable = ?", filter.shippable);
    select.filter_text("p.url = ?", filter.url.as_deref());
    select.filter_text("p.type = ?", filter.kind.as_deref());
    if let Some(ids) = &filter.ids {
        select.filter_in("p.id", ids);
    }
    if let Some(text) = filter.name_contains.as_deref().filter(|t| !t.is_empty()) {
        let escaped = text
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        select.filter("LOWER(p.name) LIKE ? ESCAPE '\\'", format!("%{escaped}%"));
    }
    select.created("p.created", &filter.created);
    select
}

pub async fn list_products(
    db: &Db,
    caller: &Caller,
    filter: &ProductFilter,
    page: &PageRequest,
) -> StoreResult<Page<Product>> {
    let rows: Page<ProductRow> = product_filters(caller, filter)
        .fetch_page(db, "p.id", page)
        .await?;
    Ok(rows.map(Product::from))
}

/// How many products match `filter`: from the running totals when only status, `active` and
/// amount type are filtered (the Loops V2 list), else by counting.
pub async fn count_products(db: &Db, caller: &Caller, filter: &ProductFilter) -> StoreResult<u64> {
    let totals_suffice = ProductFilter {
        status: filter.status,
        active: filter.active,
        amount_type: filter.amount_type,
        ..Default::default()
    };
    if *filter == totals_suffice {
        let keys = Product::count_keys_matching(filter.status, filter.active, filter.amount_type);
        return counts::sum(
            db,
            &caller.account_id,
            caller.mode.is_live(),
            counts::PRODUCTS,
            &keys,
        )
        .await;
    }
    let select = product_filters(caller, filter);
    select.count(db, "products p").await
}

// ----- Prices ------------------------------------------------------------------------------------

/// Inserts a price. With `transfer_lookup_key`, first takes its lookup key away from any other
/// price of the account and mode (Stripe's `transfer_lookup_key`).
pub async fn insert_price(
    db: &Db,
    caller: &Caller,
    price: &Price,
    transfer_lookup_key: bool,
    events: &[Event],
    also: &[Statement<'_>],
) -> StoreResult<()> {
    insert_price_and_product(db, caller, None, price, transfer_lookup_key, events, also).await
}

/// Inserts a new product (without a default price) and a price for it, in one transaction.
pub async fn insert_product_with_price(
    db: &Db,
    caller: &Caller,
    product: &Product,
    price: &Price,
    transfer_lookup_key: bool,
    events: &[Event],
) -> StoreResult<()> {
    insert_price_and_product(
        db,
        caller,
        Some(product),
        price,
        transfer_lookup_key,
        events,
        &[],
    )
    .await
}

async fn insert_price_and_product(
    db: &Db,
    caller: &Caller,
    product: Option<&Product>,
    price: &Price,
    transfer_lookup_key: bool,
    events: &[Event],
    also: &[Statement<'_>],
) -> StoreResult<()> {
    db.write(async |tx| {
        if let Some(product) = product {
            insert_product_row(tx, caller, product).await?;
            let key = product.count_key();
            counts::bump(tx, &caller.account_id, product.livemode, counts::PRODUCTS, &key, 1)
                .await?;
        }
        if transfer_lookup_key && let Some(key) = &price.lookup_key {
            tx.execute(
                "UPDATE prices SET lookup_key = NULL WHERE account_id = $1 AND livemode = $2 AND lookup_key = $3",
                &args![&caller.account_id, price.livemode, key],
            )
            .await?;
        }
        insert_price_row(tx, caller, price).await?;
        insert_events(tx, events).await?;
        run_also(tx, also).await
    })
    .await
}

pub async fn update_price(
    db: &Db,
    caller: &Caller,
    price: &Price,
    transfer_lookup_key: bool,
    events: &[Event],
    also: &[Statement<'_>],
) -> StoreResult<()> {
    db.write(async |tx| {
        if transfer_lookup_key && let Some(key) = &price.lookup_key {
            tx.execute(
                "UPDATE prices SET lookup_key = NULL WHERE account_id = $1 AND livemode = $2 AND lookup_key = $3 \
                 AND id <> $4",
                &args![&caller.account_id, price.livemode, key, &price.id],
            )
            .await?;
        }
        tx.execute(
            "UPDATE prices SET active = $1, lookup_key = $2, nickname = $3, tax_behavior = $4, metadata = $5 \
             WHERE id = $6 AND account_id = $7 AND livemode = $8",
            &args![
                price.active,
                &price.lookup_key,
                &price.nickname,
                &price.tax_behavior,
                price.metadata.to_json(),
                &price.id,
                &caller.account_id,
                caller.mode.is_live()
            ],
        )
        .await?;
        insert_events(tx, events).await?;
        run_also(tx, also).await
    })
    .await
}

pub async fn get_price(db: &Db, caller: &Caller, id: &str) -> StoreResult<Option<Price>> {
    const SQL: &str = concat!(
        "SELECT ",
        price_columns!("pr."),
        " FROM prices pr WHERE pr.id = $1 AND pr.account_id = $2 AND pr.livemode = $3"
    );
    let row: Option<PriceRow> = db
        .fetch_optional(SQL, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.and_then(PriceRow::into_price))
}

/// A price and its product (with the product's default price), in one query.
pub async fn get_price_with_product(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> StoreResult<Option<(Price, Product)>> {
    const SQL: &str = concat!(
        "SELECT ",
        price_columns!("x."),
        ", ",
        product_select!(),
        " FROM prices x JOIN products p ON p.id = x.product_id ",
        "LEFT JOIN prices pr ON pr.id = p.default_price_id ",
        "WHERE x.id = $1 AND x.account_id = $2 AND x.livemode = $3"
    );
    let row: Option<PriceWithProductRow> = db
        .fetch_optional(SQL, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(row.and_then(|PriceWithProductRow(price, product)| {
        Some((price.into_price()?, Product::from(product)))
    }))
}

pub async fn list_prices(
    db: &Db,
    caller: &Caller,
    filter: &PriceFilter,
    page: &PageRequest,
) -> StoreResult<Page<Price>> {
    let mut select = Select::new(price_columns!("pr."), "prices pr");
    select.scope("pr.", &caller.account_id, caller.mode.is_live());
    select.filter_bool("pr.active = ?", filter.active);
    select.filter_text(
        "pr.currency = ?",
        filter.currency.as_ref().map(|c| c.as_str()),
    );
    select.filter_text("pr.product_id = ?", filter.product.as_deref());
    match filter.recurring {
        Some(true) => select.condition("pr.recurring_interval IS NOT NULL"),
        Some(false) => select.condition("pr.recurring_interval IS NULL"),
        None => &mut select,
    };
    select.filter_text(
        "pr.recurring_interval = ?",
        filter.interval.map(|i| i.as_str()),
    );
    if let Some(keys) = &filter.lookup_keys {
        select.filter_in("pr.lookup_key", keys);
    }
    select.created("pr.created", &filter.created);
    let rows: Page<PriceRow> = select.fetch_page(db, "pr.id", page).await?;
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .filter_map(PriceRow::into_price)
            .collect(),
        has_more: rows.has_more,
    })
}

// ----- Payment links -----------------------------------------------------------------------------

row_struct! {
    struct PaymentLinkRow {
        id: String,
        livemode: bool,
        active: bool,
        label: Option<String>,
        line_items: String,
        currency: String,
        success_url: Option<String>,
        cancel_url: Option<String>,
        confirmation_message: Option<String>,
        allow_promotion_codes: bool,
        settings: String,
        metadata: String,
        created: i64,
        updated: i64,
    }
}

const LINK_COLUMNS: &str = PaymentLinkRow::COLUMNS;

/// Completes link rows with their items' prices.
async fn links_with_prices(
    db: &Db,
    caller: &Caller,
    rows: Vec<PaymentLinkRow>,
) -> StoreResult<Vec<PaymentLink>> {
    let mut links = Vec::with_capacity(rows.len());
    for row in rows {
        let items: Vec<LinkItem> =
            serde_json::from_str(&row.line_items).map_err(|e| StoreError::Corrupt {
                what: format!("line items of {}", row.id),
                reason: e.to_string(),
            })?;
        let mut prices = Vec::with_capacity(items.len());
        for item in &items {
            let price =
                get_price(db, caller, &item.price)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt {
                        what: format!("payment link {}", row.id),
                        reason: format!("its price {} is missing", item.price),
                    })?;
            prices.push(price);
        }
        links.push(PaymentLink {
            id: row.id,
            livemode: row.livemode,
            active: row.active,
            label: row.label,
            items,
            prices,
            currency: Currency::from_stored(row.currency),
            success_url: row.success_url,
            cancel_url: row.cancel_url,
            confirmation_message: row.confirmation_message,
            allow_promotion_codes: row.allow_promotion_codes,
            settings: serde_json::from_str(&row.settings).unwrap_or_default(),
            metadata: Metadata::from_json(&row.metadata),
            created: row.created,
            updated: row.updated,
        });
    }
    Ok(links)
}

/// A payment link's columns from `active` to `metadata`, in the order both the INSERT and the
/// UPDATE name them.
fn link_fields(link: &PaymentLink) -> [Arg<'_>; 10] {
    args![
        link.active,
        &link.label,
        serde_json::to_string(&link.items).expect("items serialize"),
        link.currency.as_str(),
        &link.success_url,
        &link.cancel_url,
        &link.confirmation_message,
        link.allow_promotion_codes,
        serde_json::Value::Object(link.settings.clone()).to_string(),
        link.metadata.to_json()
    ]
}

pub async fn insert_payment_link(
    db: &Db,
    caller: &Caller,
    link: &PaymentLink,
    events: &[Event],
    also: &[Statement<'_>],
) -> StoreResult<()> {
    db.write(async |tx| {
        tx.execute(
            "INSERT INTO payment_links (id, account_id, livemode, active, label, line_items, currency, success_url, \
             cancel_url, confirmation_message, allow_promotion_codes, settings, metadata, created, updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            &[
                args![&link.id, &caller.account_id, link.livemode].as_slice(),
                &link_fields(link),
                &args![link.created, link.updated],
            ]
            .concat(),
        )
        .await?;
        insert_events(tx, events).await?;
        run_also(tx, also).await
    })
    .await
}

pub async fn update_payment_link(
    db: &Db,
    caller: &Caller,
    link: &PaymentLink,
    events: &[Event],
    also: &[Statement<'_>],
) -> StoreResult<()> {
    db.write(async |tx| {
        tx.execute(
            "UPDATE payment_links SET active = $1, label = $2, line_items = $3, currency = $4, success_url = $5, \
             cancel_url = $6, confirmation_message = $7, allow_promotion_codes = $8, settings = $9, metadata = $10, \
             updated = $11 WHERE id = $12 AND account_id = $13 AND livemode = $14",
            &[
                link_fields(link).as_slice(),
                &args![
                    link.updated,
                    &link.id,
                    &caller.account_id,
                    caller.mode.is_live()
                ],
            ]
            .concat(),
        )
        .await?;
        insert_events(tx, events).await?;
        run_also(tx, also).await
    })
    .await
}

pub async fn get_payment_link(
    db: &Db,
    caller: &Caller,
    id: &str,
) -> StoreResult<Option<PaymentLink>> {
    const SQL: &str = "SELECT id, livemode, active, label, line_items, currency, success_url, cancel_url, \
         confirmation_message, allow_promotion_codes, settings, metadata, created, updated \
         FROM payment_links WHERE id = $1 AND account_id = $2 AND livemode = $3";
    let row: Option<PaymentLinkRow> = db
        .fetch_optional(SQL, &args![id, &caller.account_id, caller.mode.is_live()])
        .await?;
    Ok(links_with_prices(db, caller, row.into_iter().collect())
        .await?
        .pop())
}

pub async fn list_payment_links(
    db: &Db,
    caller: &Caller,
    filter: &PaymentLinkFilter,
    page: &PageRequest,
) -> StoreResult<Page<PaymentLink>> {
    let mut select = Select::new(LINK_COLUMNS, "payment_links");
    select.scope("", &caller.account_id, caller.mode.is_live());
    select.filter_bool("active = ?", filter.active);
    let rows: Page<PaymentLinkRow> = select.fetch_page(db, "id", page).await?;
    Ok(Page {
        items: links_with_prices(db, caller, rows.items).await?,
        has_more: rows.has_more,
    })
}

/// The account and mode of a payment link, found by id alone (public visits).
pub async fn payment_link_owner(db: &Db, id: &str) -> StoreResult<Option<(String, bool)>> {
    db.fetch_optional(
        "SELECT account_id, livemode FROM payment_links WHERE id = $1",
        &args![id],
    )
    .await
}
