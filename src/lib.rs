#![recursion_limit = "256"]
//! kassa: a self-hostable payments checkout server.
//!
//! The crate is organised by layer:
//! - [`domain`]: the objects, rules and operations of a checkout server, free of HTTP.
//! - [`store`]: persistence on SQLite or PostgreSQL behind one interface.
//! - [`http`]: the API surfaces (Loops V1/V2/V3, Stripe `/v1`) and operational routes.
//! - [`app`]: wiring: configuration, first start, and the server's lifetime.
//! - [`workers`] and [`delivery`]: background work in `kassa serve` (expiry, webhooks).

pub mod app;
pub mod client;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod import;
pub mod listen;
pub mod mail;
pub mod metrics;
pub mod objects;
pub mod pay;
pub mod store;
pub mod workers;
