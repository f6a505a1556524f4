//! eBay's side: the identity token endpoint, the Trading API (CompleteSale, GetOrders)
//! and the Sell Fulfillment API (createShippingFulfillment).

use super::Emulator;
use axum::Router;

/// The Trading API's daily call quota, per seller.
pub(super) const TRADING_QUOTA: &str = "ebay.trading";
/// The Sell Fulfillment API's daily call quota, per seller.
pub(super) const FULFILLMENT_QUOTA: &str = "ebay.fulfillment";

pub(super) fn routes() -> Router<Emulator> {
    Router::new()
}
