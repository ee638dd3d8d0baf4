//! `kassa import`: copies products, prices, customers and payment links from a
//! Stripe-compatible API into one kassa account and mode, through the same domain operations
//! the API's handlers call (so the same checks, and the same events).
//!
//! Which kassa object each source object became is kept in `import_mappings`, written in the
//! transaction that creates the object: a second run, or a run resumed after an interruption,
//! finds what it already imported, compares it with the source, and writes only what changed.
//! Objects are imported in dependency order (products, prices, customers, payment links), each
//! reference mapped through that table.

mod customers;
mod links;
mod prices;
mod products;
mod progress;
pub mod source;
mod summary;
pub mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::domain::DomainError;
use crate::domain::accounts::Caller;
use crate::store::Db;
use crate::store::import_mappings::{self, Scope};
pub use source::Source;
pub use summary::{Kind, Note, Summary, Tally};

/// What to import, from where, into where.
pub struct ImportOptions {
    pub source: Source,
    /// The kassa account the objects go to, `acct_...`.
    pub account_id: String,
    pub livemode: bool,
    /// Count what would change, and write nothing (not even mappings).
    pub dry_run: bool,
    /// kassa's public URL, for the payment links' `url` in their events.
    pub public_url: String,
}

/// Runs an import until it is done or `stop` is cancelled (then after the object in hand is
/// written); the summary says which (`interrupted`). Errors are those that stop the whole
/// import (the source refusing the key, the database failing); an object kassa refuses is
/// listed in the summary and the import goes on.
pub async fn run(
    db: &Db,
    clock: Arc<dyn Clock>,
    options: ImportOptions,
    stop: CancellationToken,
) -> anyhow::Result<Summary> {
    let Some(account) = crate::store::accounts::get_account(db, &options.account_id).await? else {
        anyhow::bail!("--account: no such account: '{}'", options.account_id);
    };
    // Ctrl-C stops here too: a source that does not answer would otherwise hold the import for
    // every retry of this first request.
    let account_request = options.source.account();
    let source_account = tokio::select! {
        answer = account_request => answer?.unwrap_or_default(),
        () = stop.cancelled() => {
            let mut summary = Summary::new(options.dry_run);
            summary.interrupted = true;
            return Ok(summary);
        }
    };
    let scope = Scope {
        account_id: account.id.clone(),
        livemode: options.livemode,
        source: options.source.base().to_string(),
        source_account,
    };
    let mut importer = Importer {
        db: db.clone(),
        caller: Caller::without_key(account.id, options.livemode),
        maps: HashMap::new(),
        scope,
        clock,
        stop,
        progress: progress::Progress::new(options.dry_run),
        summary: Summary::new(options.dry_run),
        default_prices: HashMap::new(),
        changed_products: Default::default(),
        options,
    };
    for kind in Kind::ALL {
        let map = import_mappings::load(db, &importer.scope, kind.as_str()).await?;
        importer.maps.insert(kind, map);
    }
    importer.all().await?;
    importer.progress.finish();
    Ok(importer.summary)
}

/// A kassa id held in the mappings for an object that a dry run would have created.
const WOULD_CREATE: &str = "";

/// One import in progress.
struct Importer {
    db: Db,
    caller: Caller,
    scope: Scope,
    clock: Arc<dyn Clock>,
    stop: CancellationToken,
    options: ImportOptions,
    /// Per kind, source id to kassa id ([`WOULD_CREATE`] in a dry run).
    maps: HashMap<Kind, HashMap<String, String>>,
    /// Each product's default price in the source, by source product id.
    default_prices: HashMap<String, String>,
    /// The products this run created or updated (by source id): setting one's default price
    /// later does not count it again.
    changed_products: std::collections::HashSet<String>,
    progress: progress::Progress,
    summary: Summary,
}

/// What became of one source object.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// Refused, and why.
    Skipped(String),
}

/// A position in a source list.
struct Cursor {
    path: String,
    expand: &'static [&'static str],
    after: Option<String>,
    done: bool,
}

impl Cursor {
    fn new(path: impl Into<String>, expand: &'static [&'static str]) -> Cursor {
        Cursor {
            path: path.into(),
            expand,
            after: None,
            done: false,
        }
    }
}

impl Importer {
    async fn all(&mut self) -> anyhow::Result<()> {
        self.products().await?;
        self.prices().await?;
        self.default_prices().await?;
        self.customers().await?;
        self.links().await?;
        Ok(())
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Whether to stop before the next object (Ctrl-C); the summary says it stopped.
    fn stopping(&mut self) -> bool {
        if self.stop.is_cancelled() {
            self.summary.interrupted = true;
        }
        self.summary.interrupted
    }

    /// The next page of `cursor`'s list, or `None` at its end or when stopping (a page being
    /// read is abandoned: nothing of it was written).
    async fn next_page<T: DeserializeOwned + wire::HasId>(
        &mut self,
        cursor: &mut Cursor,
    ) -> anyhow::Result<Option<Vec<T>>> {
        if cursor.done || self.stopping() {
            return Ok(None);
        }
        let stop = self.stop.clone();
        let read =
            self.options
                .source
                .page::<T>(&cursor.path, cursor.after.as_deref(), cursor.expand);
        let page = tokio::select! {
            page = read => Some(page?),
            () = stop.cancelled() => None,
        };
        let Some(page) = page else {
            self.summary.interrupted = true;
            return Ok(None);
        };
        // A source that ignores `starting_after` gives the same page again, and `has_more`
        // would keep the import reading it forever.
        if let Some(after) = &cursor.after
            && page.data.iter().any(|o| o.id() == after)
        {
            anyhow::bail!(
                "the source's list {} gave {after} again after it (does it ignore starting_after?)",
                cursor.path
            );
        }
        cursor.done = !page.has_more || page.data.is_empty();
        cursor.after = page.data.last().map(|o| o.id().to_string());
        Ok(Some(page.data))
    }

    /// The kassa id `source_id` of `kind` was imported as ([`WOULD_CREATE`] in a dry run).
    fn mapped(&self, kind: Kind, source_id: &str) -> Option<&str> {
        self.maps.get(&kind)?.get(source_id).map(String::as_str)
    }

    /// The mapping statement for a new object, written in its transaction.
    fn mapping(
        &self,
        kind: Kind,
        source_id: &str,
        kassa_id: &str,
    ) -> crate::store::Statement<'static> {
        import_mappings::insert(&self.scope, kind.as_str(), source_id, kassa_id, self.now())
    }

    /// Remembers a new object's kassa id (once written, or as would-be in a dry run).
    fn remember(&mut self, kind: Kind, source_id: &str, kassa_id: &str) {
        self.maps
            .entry(kind)
            .or_default()
            .insert(source_id.to_string(), kassa_id.to_string());
    }

    /// Counts an object's outcome, lists a refusal, and moves the progress bar.
    fn record(&mut self, kind: Kind, source_id: &str, outcome: Outcome) {
        let tally = self.summary.tally_mut(kind);
        match &outcome {
            Outcome::Created => tally.created += 1,
            Outcome::Updated => tally.updated += 1,
            Outcome::Unchanged => tally.unchanged += 1,
            Outcome::Skipped(_) => tally.skipped += 1,
        }
        if let Outcome::Skipped(reason) = outcome {
            self.summary.notes.push(Note {
                kind,
                source_id: source_id.to_string(),
                reason,
            });
        }
        self.progress.show(kind, self.summary.tally(kind));
    }

    /// Notes a change of the source that kassa cannot make (a price's amount), counted apart.
    fn record_immutable(&mut self, kind: Kind, source_id: &str, reason: String) {
        self.summary.tally_mut(kind).immutable += 1;
        self.summary.notes.push(Note {
            kind,
            source_id: source_id.to_string(),
            reason,
        });
    }
}

/// An object kassa refused is skipped with the reason; the database failing stops the import.
fn refused(error: DomainError) -> anyhow::Result<Outcome> {
    match error {
        DomainError::Store(error) => Err(error.into()),
        other => Ok(Outcome::Skipped(format!("kassa refused it: {other}"))),
    }
}

/// Text as kassa stores it: an empty value is no value.
fn text(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.is_empty())
}
