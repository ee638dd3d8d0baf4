//! The checkout domain: objects, rules and operations, independent of HTTP and of the SQL engine.

pub mod accounts;
pub mod billing;
pub mod catalog;
pub mod checkout;
pub mod customers;
pub mod dashboard;
pub mod error;
pub mod event_streams;
pub mod events;
pub mod hosted;
pub mod idempotency;
pub mod ids;
pub mod list;
pub mod metadata;
pub mod mode;
pub mod money;
pub mod payment_methods;
pub mod payments;
pub mod portal;
pub mod processor;
pub mod receipts;
pub mod refunds;
pub mod test_clocks;
pub mod validate;
pub mod webhooks;

pub use error::DomainError;

/// Statements to write in the same transaction as a change, made from the object as it is
/// saved: `kassa import` records this way which source object each object came from, so that
/// no object is ever saved without that record (nor the record without the object).
pub type Companion<'a, T> =
    Option<&'a (dyn Fn(&T) -> Vec<crate::store::Statement<'static>> + Sync)>;

/// The statements `companion` makes for `object`; none without one.
pub(crate) fn companion_statements<T>(
    companion: Companion<'_, T>,
    object: &T,
) -> Vec<crate::store::Statement<'static>> {
    companion.map(|make| make(object)).unwrap_or_default()
}
pub use mode::Mode;
