#![recursion_limit = "256"]
//! kassa: a self-hostable payments checkout server.
//!
//! The crate is organised by layer:
//! - [`domain`]: the objects, rules and operations of a checkout server, free of HTTP.
//! - [`store`]: persistence on SQLite or PostgreSQL behind one interface.
//! - [`http`]: the API surfaces (Loops V1/V2/V3, Stripe `/v1`) and operational routes.
//! - [`app`]: wiring: configuration, first start, and the server's lifetime.

pub mod app;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod objects;
pub mod store;
pub mod workers;
