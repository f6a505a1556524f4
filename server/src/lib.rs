//! Shipback's server: the write-back engine behind the dashboard.
//!
//! - [`cli`]: what the `shipback` command parses, and its one-shot subcommands;
//!   [`runtime`]: starts the long-running parts (web server, worker, emulator);
//! - [`web`]: the router, the route table that says who may call each route, the one
//!   HTTP error mapping, and the hardening of every response;
//! - [`actions`]: what people and scripts change (Retry now, Confirmed manually,
//!   accounts, people, tokens), each with its audit entry;
//! - [`backend`]: the dashboard's backend, behind the interface `app` declares;
//! - [`shipments`]: what the shipping station posts, its checks and the HTTP API;
//! - [`worker`]: the durable write-back worker and its retry policy;
//! - [`marketplaces`]: the marketplace clients (Amazon, eBay) behind one adapter interface;
//! - [`order_sync`]: order import, the read-back of written-back orders, catalog data;
//! - [`health`]: the connection status of each account's APIs, judged from their calls;
//!   [`deadlines`]: shipments close to or past their ship-by date, counted and alerted;
//!   [`time_zones`]: the site's and each person's zone, as the pages draw times;
//! - [`accounts`], [`secrets`], [`people`], [`tokens`], [`audit`]: marketplace accounts
//!   and their sealed credentials, who signs in, station tokens, the audit log;
//! - [`records`]: the records the store keeps, below everything else;
//! - [`store`]: storage on SQLite or PostgreSQL, the only module that speaks SQL;
//! - [`export`]: the grid's shipments as a streamed CSV file; [`live`]: server-sent
//!   events telling open pages that what they show changed;
//! - [`emulator`]: the marketplace emulator, for tests and the demo; [`demo`]: the demo;
//!   [`generate`]: synthetic data for benchmarks.

pub mod accounts;
pub mod actions;
pub mod audit;
pub mod backend;
pub mod carriers;
pub mod cli;
pub mod deadlines;
pub mod demo;
pub mod emulator;
pub mod export;
pub mod generate;
pub mod health;
pub mod live;
pub mod marketplaces;
pub mod order_sync;
pub mod people;
pub mod records;
pub mod retention;
pub mod runtime;
pub mod secrets;
pub mod shipments;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod time_zones;
pub mod tokens;
pub mod web;
pub mod worker;
