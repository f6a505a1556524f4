pub mod detail_panel;
pub mod filter_bar;
pub mod format;
pub mod live;
pub mod shipment_actions;
pub mod shipment_grid;
pub mod status_badge;
pub mod status_panel;
