//! The records the store keeps, below every other module: plain data that the store
//! reads and writes and the layers above share. Nothing here reaches the store, the
//! web or a marketplace; what each record means in its domain (how a token's scopes
//! are spelled, how a package is matched to a shipment) lives with that domain, in
//! `impl` blocks beside its logic.
//!
//! The store may use these, `accounts`, `carriers`, `secrets` and `app`'s shared types,
//! and nothing that uses the store: `store::tests::the_store_is_the_bottom_layer`
//! checks it.

pub mod deadlines;
pub mod health;
pub mod orders;
pub mod people;
pub mod shipments;
pub mod tokens;
