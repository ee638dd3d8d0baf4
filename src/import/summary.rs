//! What an import did (or, in a dry run, would do), per kind of object.

use std::fmt;

/// The kinds of object imported, in the order they are imported (each refers only to kinds
/// before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Product,
    Price,
    Customer,
    PaymentLink,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Product,
        Kind::Price,
        Kind::Customer,
        Kind::PaymentLink,
    ];

    /// The object's name in Stripe's API, as the mapping table records it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Product => "product",
            Kind::Price => "price",
            Kind::Customer => "customer",
            Kind::PaymentLink => "payment_link",
        }
    }

    /// The plural, for the summary's rows.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Product => "products",
            Kind::Price => "prices",
            Kind::Customer => "customers",
            Kind::PaymentLink => "payment links",
        }
    }
}

/// Counts of one kind's objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// New objects written (in a dry run, that would be).
    pub created: u64,
    /// Imported objects whose fields were brought in line with the source.
    pub updated: u64,
    /// Imported objects that already matched the source: not written, no event.
    pub unchanged: u64,
    /// Refused by kassa or by the import (a price type kassa does not have): each is a note.
    pub skipped: u64,
    /// Changes the source made that kassa cannot copy (a price's amount, which is fixed once
    /// the price exists): each is a note; the object's other fields are still copied.
    pub immutable: u64,
}

impl Tally {
    /// Every object seen.
    pub fn seen(&self) -> u64 {
        self.created + self.updated + self.unchanged + self.skipped
    }
}

/// An object skipped, or a change not copied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub kind: Kind,
    /// The object's id in the source.
    pub source_id: String,
    /// Why it, or a change of it, was not copied.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub dry_run: bool,
    /// Stopped by Ctrl-C before the end.
    pub interrupted: bool,
    /// The counts of each kind.
    pub products: Tally,
    pub prices: Tally,
    pub customers: Tally,
    pub payment_links: Tally,
    pub notes: Vec<Note>,
}

impl Summary {
    pub fn new(dry_run: bool) -> Summary {
        Summary {
            dry_run,
            ..Summary::default()
        }
    }

    pub fn tally(&self, kind: Kind) -> Tally {
        match kind {
            Kind::Product => self.products,
            Kind::Price => self.prices,
            Kind::Customer => self.customers,
            Kind::PaymentLink => self.payment_links,
        }
    }

    pub fn tally_mut(&mut self, kind: Kind) -> &mut Tally {
        match kind {
            Kind::Product => &mut self.products,
            Kind::Price => &mut self.prices,
            Kind::Customer => &mut self.customers,
            Kind::PaymentLink => &mut self.payment_links,
        }
    }

    /// Whether anything was (or, in a dry run, would be) written.
    pub fn changed_anything(&self) -> bool {
        Kind::ALL
            .iter()
            .any(|&k| self.tally(k).created + self.tally(k).updated > 0)
    }
}

/// The words of a tally's counts: what was done, or in a dry run what would be.
pub fn verbs(dry_run: bool) -> [&'static str; 5] {
    if dry_run {
        [
            "would create",
            "would update",
            "unchanged",
            "skipped",
            "immutable changes",
        ]
    } else {
        [
            "created",
            "updated",
            "unchanged",
            "skipped",
            "immutable changes",
        ]
    }
}

impl fmt::Display for Summary {
    /// A table of counts per kind, then every note, then how the import ended.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verbs = verbs(self.dry_run);
        write!(f, "{:<14}", "")?;
        for verb in verbs {
            write!(f, " {verb:>17}")?;
        }
        writeln!(f)?;
        for kind in Kind::ALL {
            let t = self.tally(kind);
            write!(f, "{:<14}", kind.plural())?;
            for n in [t.created, t.updated, t.unchanged, t.skipped, t.immutable] {
                write!(f, " {n:>17}")?;
            }
            writeln!(f)?;
        }
        if !self.notes.is_empty() {
            writeln!(f)?;
            writeln!(f, "Not copied:")?;
            for note in &self.notes {
                writeln!(
                    f,
                    "  {} {}: {}",
                    note.kind.as_str(),
                    note.source_id,
                    note.reason
                )?;
            }
        }
        writeln!(f)?;
        match (self.interrupted, self.dry_run) {
            (true, _) => write!(
                f,
                "Interrupted: the objects counted above are {}; run the same command again to go on.",
                if self.dry_run {
                    "not written (dry run)"
                } else {
                    "imported"
                }
            ),
            (false, true) => write!(f, "Dry run: nothing was written."),
            (false, false) if !self.changed_anything() => {
                write!(f, "Done: everything was already up to date.")
            }
            (false, false) => write!(f, "Done."),
        }
    }
}
