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
pub use mode::Mode;
