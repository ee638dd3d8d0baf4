//! The import's progress on a terminal: one line per kind of object with its counts. On a
//! stdout that is not a terminal, indicatif draws nothing, and only the summary is printed.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::summary::{Kind, Tally, verbs};

pub struct Progress {
    multi: MultiProgress,
    bars: HashMap<Kind, ProgressBar>,
    dry_run: bool,
}

impl Progress {
    /// Bars for every kind; a dry run's say what would be done.
    pub fn new(dry_run: bool) -> Progress {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template("{spinner} {prefix:<14} {pos:>7} read  {msg}")
            .expect("a valid template");
        let bars = Kind::ALL
            .into_iter()
            .map(|kind| {
                let bar = multi.add(ProgressBar::no_length());
                bar.set_style(style.clone());
                bar.set_prefix(kind.plural());
                bar.enable_steady_tick(Duration::from_millis(200));
                (kind, bar)
            })
            .collect();
        Progress {
            multi,
            bars,
            dry_run,
        }
    }

    /// Shows `kind`'s counts so far.
    pub fn show(&self, kind: Kind, tally: Tally) {
        if let Some(bar) = self.bars.get(&kind) {
            bar.set_position(tally.seen());
            let [created, updated, unchanged, skipped, _] = verbs(self.dry_run);
            bar.set_message(format!(
                "{} {created}, {} {updated}, {} {unchanged}, {} {skipped}",
                tally.created, tally.updated, tally.unchanged, tally.skipped
            ));
        }
    }

    /// Leaves the last counts on the terminal, before the summary.
    pub fn finish(&self) {
        for kind in Kind::ALL {
            if let Some(bar) = self.bars.get(&kind) {
                bar.finish();
            }
        }
        // The bars leave the cursor at the end of their last line; the summary starts below.
        if !self.multi.is_hidden() {
            println!();
        }
    }
}
