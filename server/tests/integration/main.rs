//! Every integration test in one binary: each module starts its own harness (a real
//! SQLite file, the emulator and the station API on ephemeral ports), so they share
//! nothing but the link step — one test executable instead of ten keeps CI's build
//! time and disk use down.

mod common;

mod actions;
mod amazon;
mod assets;
mod audit;
mod backup;
mod carriers;
mod configuration;
mod crash;
mod credentials;
mod deadlines;
mod delivery;
mod ebay;
mod export;
mod generate;
mod health;
mod instances;
mod live;
mod logs;
mod metrics;
mod models;
mod people;
mod rate_limits;
mod refusals;
mod retention;
mod security;
mod several_instances;
mod shutdown;
mod time_zones;
mod tokens;
mod writeback;
