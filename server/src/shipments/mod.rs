//! Shipments: what the shipping station hands over, how it is checked, and the HTTP API.

pub mod http;
pub mod live;
pub mod openapi;
pub mod validate;

pub use crate::records::shipments::{IngestOutcome, NewShipment};
