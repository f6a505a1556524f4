//! One module per screen. The shipments screen is in the main wasm, except for the code
//! that draws a shipment's details (`detail_code`, in the detail panel). The rarely used
//! screens (sign-in and the admin screens) are lazy routes: with `cargo leptos build
//! --split` their code is a wasm chunk of its own, fetched when someone opens them.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod carriers;
mod lazy;
pub mod login;
pub mod shipment;
pub mod shipments;
pub mod topbar;
