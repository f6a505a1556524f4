//! Shipback's server: the write-back engine behind the dashboard.
//!
//! - [`shipments`]: what the shipping station posts, its checks and the HTTP API;
//! - [`accounts`]: the marketplace accounts;
//! - [`store`]: SQLite storage, the only module that speaks SQL;
//! - [`worker`]: the durable write-back worker and its retry policy;
//! - [`marketplaces`]: the marketplace clients (Amazon, eBay) behind one adapter interface;
//! - [`sync`]: order import, the read-back of written-back orders, and catalog data;
//! - [`export`]: the grid's shipments as a streamed CSV file;
//! - [`health`]: the connection status of each account's APIs, judged from their calls;
//! - [`emulator`]: the marketplace emulator, for tests and the demo;
//! - [`live`]: server-sent events telling open pages that what they show changed;
//! - [`web`] and [`backend`]: the HTTP server and the dashboard's backend;
//! - [`cli`]: the `shipback` command and its subcommands; [`demo`]: demo data;
//!   [`generate`]: synthetic data for benchmarks.

pub mod accounts;
pub mod actions;
pub mod audit;
pub mod backend;
pub mod cli;
pub mod demo;
pub mod emulator;
pub mod export;
pub mod generate;
pub mod health;
pub mod live;
pub mod marketplaces;
pub mod order_sync;
pub mod people;
pub mod runtime;
pub mod secrets;
pub mod shipments;
pub mod store;
pub mod tokens;
pub mod web;
pub mod worker;
