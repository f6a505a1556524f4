pub mod shipment;
pub mod shipments;
