//! The checkout domain: objects, rules and operations, independent of HTTP and of the SQL engine.

pub mod accounts;
pub mod error;
pub mod ids;
pub mod mode;

pub use error::DomainError;
pub use mode::Mode;
