//! kassa's integration tests: each starts the real server on 127.0.0.1:0 with a fresh
//! database and talks HTTP to it. Every test runs on SQLite, and on PostgreSQL when
//! KASSA_TEST_POSTGRES_URL is set.

mod harness;

mod amount_bounds;
mod auth;
mod billing;
mod catalog;
mod charges;
mod cli;
mod customers;
mod dashboard;
mod dashboard_billing;
mod docs;
mod external;
mod fidelity;
mod frame;
mod hosted_checkout;
mod idempotency;
mod import;
mod isolation;
mod mailbox;
mod metrics;
mod parameters;
mod payment_methods;
mod portal;
mod process;
mod receipts;
mod receiver;
mod refunds;
mod revocation;
mod sessions;
mod slow_clients;
mod storage;
mod stripe_sessions;
mod subscriptions;
mod test_clocks;
mod test_payments;
mod trials;
mod webhooks;
