pub mod access;
pub mod accounts;
pub mod audit;
pub mod login;
pub mod shipment;
pub mod shipments;
