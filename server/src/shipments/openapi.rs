//! The station API described as OpenAPI 3.1, served at `GET /api/v1/openapi.json`.
//!
//! The request schemas are never stricter than the validator (`validate.rs`): a body
//! the schema refuses is refused by the server too, which is what schemathesis checks.
//! Rules a schema cannot say (text is trimmed before its length is checked; an item
//! needs an order item id or a SKU) are in the descriptions. A test keeps the numbers
//! here equal to the validator's.

use super::validate::MAX_BATCH;
use std::borrow::Cow;
use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, Ref, Schema};
use utoipa::openapi::RefOr;
use utoipa::{OpenApi, PartialSchema, ToSchema};

/// One shipment as the shipping station posts it.
#[derive(ToSchema)]
#[schema(as = Shipment)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ShipmentDoc {
    /// The station's id of the shipment; one per request. Trimmed; 1 to 200
    /// characters, no control characters.
    shipment_id: String,
    /// The key of a registered marketplace account, such as `acme-us`.
    account: String,
    /// The marketplace's order id.
    order_id: String,
    carrier: String,
    service: Option<String>,
    /// No spaces.
    tracking_number: String,
    /// RFC 3339, between the years 2000 and 2100.
    #[schema(format = DateTime)]
    ship_date: String,
    #[schema(min_items = 1, max_items = 200)]
    items: Vec<ItemDoc>,
}

/// One shipped line: an order item id or a SKU (or both), and a quantity.
#[derive(ToSchema)]
#[schema(as = ShipmentItem)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ItemDoc {
    order_item_id: Option<String>,
    sku: Option<String>,
    #[schema(minimum = 1, maximum = 100000)]
    quantity: u64,
}

/// One shipment, or an array of 1 to [`MAX_BATCH`]. Written by hand: the derive
/// cannot bound an array inside a `oneOf`.
pub struct IngestBodyDoc;

impl PartialSchema for IngestBodyDoc {
    fn schema() -> RefOr<Schema> {
        let shipment = || Ref::from_schema_name("Shipment");
        OneOfBuilder::new()
            .item(shipment())
            .item(
                ArrayBuilder::new()
                    .items(shipment())
                    .min_items(Some(1))
                    .max_items(Some(MAX_BATCH)),
            )
            .into()
    }
}

impl ToSchema for IngestBodyDoc {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IngestBody")
    }
}

#[derive(ToSchema)]
#[schema(as = IngestResult)]
#[allow(dead_code)]
pub struct IngestResultDoc {
    shipment_id: String,
    /// `created`, `updated` (a corrected shipment: a new round of attempts) or
    /// `unchanged`.
    outcome: String,
}

#[derive(ToSchema)]
#[schema(as = IngestAnswer)]
#[allow(dead_code)]
pub struct IngestAnswerDoc {
    created: u64,
    updated: u64,
    unchanged: u64,
    results: Vec<IngestResultDoc>,
}

#[derive(ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)]
pub struct FieldErrorDoc {
    /// The shipment's place in the request (0 for a single object).
    index: u64,
    /// The field's path, such as `items[2].quantity`; empty for the whole body.
    field: String,
    message: String,
}

#[derive(ToSchema)]
#[schema(as = Refusal)]
#[allow(dead_code)]
pub struct RefusalDoc {
    error: String,
    errors: Vec<FieldErrorDoc>,
}

/// Stores shipments to write back: all of them, or none.
#[utoipa::path(
    post,
    path = "/api/v1/shipments",
    request_body(content = IngestBodyDoc, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored; each shipment's outcome", body = IngestAnswerDoc),
        (status = 401, description = "No token, or one that is not valid or revoked"),
        (status = 403, description = "The token lacks the ingest scope"),
        (status = 413, description = "The body is over 8 MB"),
        (status = 422, description = "Refused; nothing was stored", body = RefusalDoc),
    ),
)]
#[allow(dead_code)]
fn ingest() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shipback station API",
        description = "The shipping station hands shipments to Shipback, which writes them back to the marketplaces."
    ),
    paths(ingest),
    components(schemas(
        IngestBodyDoc,
        ShipmentDoc,
        ItemDoc,
        IngestAnswerDoc,
        IngestResultDoc,
        RefusalDoc,
        FieldErrorDoc
    ))
)]
pub struct StationApi;

/// The document as JSON. `accounts` are the registered account keys, the only ones
/// a shipment may name: listing them lets a client (and schemathesis) know a valid
/// shipment from one the server will refuse.
pub fn document(accounts: &[String]) -> String {
    let mut doc = serde_json::to_value(StationApi::openapi())
        .expect("the OpenAPI document always serialises");
    // Only a caller who may post shipments learns which accounts exist; for anyone
    // else `account` stays a plain string (an empty enum would allow no value at all).
    if !accounts.is_empty() {
        doc["components"]["schemas"]["Shipment"]["properties"]["account"]["enum"] =
            serde_json::json!(accounts);
    }
    // A bearer token with the `ingest` scope (`shipback token create NAME --scope ingest`).
    doc["components"]["securitySchemes"]["station_token"] =
        serde_json::json!({"type": "http", "scheme": "bearer"});
    doc["security"] = serde_json::json!([{"station_token": []}]);
    serde_json::to_string_pretty(&doc).expect("the OpenAPI document always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipments::validate::{MAX_ITEMS, MAX_QUANTITY};
    use serde_json::Value;

    #[test]
    fn the_document_says_what_the_validator_enforces() {
        let doc: Value = serde_json::from_str(&document(&["acme-us".to_string()])).unwrap();
        let schemas = &doc["components"]["schemas"];
        let shipment = &schemas["Shipment"];
        let mut required: Vec<&str> = shipment["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        required.sort();
        assert_eq!(
            required,
            [
                "account",
                "carrier",
                "items",
                "order_id",
                "ship_date",
                "shipment_id",
                "tracking_number"
            ]
        );
        assert_eq!(shipment["additionalProperties"], false);
        assert_eq!(
            shipment["properties"]["account"]["enum"],
            serde_json::json!(["acme-us"])
        );
        let items = &shipment["properties"]["items"];
        assert_eq!(items["maxItems"], MAX_ITEMS as u64);
        let quantity = &schemas["ShipmentItem"]["properties"]["quantity"];
        assert_eq!(quantity["maximum"], MAX_QUANTITY);
        let body = serde_json::to_string(&schemas["IngestBody"]).unwrap();
        assert!(
            body.contains(&format!("\"maxItems\":{MAX_BATCH}")),
            "{body}"
        );
        assert!(doc["paths"]["/api/v1/shipments"]["post"].is_object());
    }
}
