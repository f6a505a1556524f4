//! The wire formats: CompleteSale and GetOrders XML, the Ack/Errors reading, and the
//! createShippingFulfillment body checked against the spec file in `server/specs`.

use super::fulfillment::{self, shipping_fulfillment};
use super::trading::{
    complete_sale_body, complete_sale_requests, get_orders_body, parse, AckResponse,
    GetOrdersResponse, OrdersFilter, Verdict,
};
use super::*;
use crate::marketplaces::MarketplaceOrderItem;
use app::shipments::ShipmentItem;
use serde_json::Value;

fn shipment(order_id: &str, carrier: &str, tracking: &str) -> ClaimedShipment {
    ClaimedShipment {
        row_id: 77,
        fence: 1,
        shipment_id: "S-1".into(),
        account_id: 1,
        order_id: order_id.into(),
        carrier: carrier.into(),
        service: "Ground".into(),
        tracking_number: tracking.into(),
        ship_date: "2026-11-25T14:02:00Z".parse().unwrap(),
        items: vec![
            ShipmentItem {
                order_item_id: "110012345678-10001".into(),
                sku: Some("SKU-A".into()),
                quantity: 2,
            },
            ShipmentItem {
                order_item_id: "10002".into(),
                sku: None,
                quantity: 1,
            },
        ],
        revision: 0,
        error_count: 0,
        marketplace_carrier: None,
        outcome_unknown: false,
        waiting_on: None,
    }
}

/// The carrier as mapped for eBay.
fn mapped(code: &str) -> crate::carriers::MarketplaceCarrier {
    crate::carriers::MarketplaceCarrier {
        code: code.into(),
        name: None,
    }
}

/// The CompleteSale bodies of a shipment: one per order line item.
fn complete_sale_bodies(shipment: &ClaimedShipment) -> Vec<String> {
    complete_sale_requests(shipment, &mapped(&shipment.carrier))
        .iter()
        .map(|r| complete_sale_body(r).unwrap())
        .collect()
}

#[test]
fn complete_sale_writes_back_each_line_with_its_units() {
    let bodies = complete_sale_bodies(&shipment("12-34567-89012", "UPS", "1Z999"));
    assert_eq!(
        bodies,
        [
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
             <CompleteSaleRequest xmlns=\"urn:ebay:apis:eBLBaseComponents\">\
             <OrderLineItemID>110012345678-10001</OrderLineItemID><Shipped>true</Shipped><Shipment>\
             <ShipmentTrackingDetails><ShipmentTrackingNumber>1Z999</ShipmentTrackingNumber>\
             <ShippingCarrierUsed>UPS</ShippingCarrierUsed><ShipmentLineItem><LineItem>\
             <ItemID>110012345678</ItemID><TransactionID>10001</TransactionID><Quantity>2</Quantity>\
             </LineItem></ShipmentLineItem></ShipmentTrackingDetails>\
             <ShippedTime>2026-11-25T14:02:00.000Z</ShippedTime></Shipment></CompleteSaleRequest>",
            // Each call tells the whole parcel; a line id that is not
            // ItemID-TransactionID is written back whole.
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
             <CompleteSaleRequest xmlns=\"urn:ebay:apis:eBLBaseComponents\">\
             <OrderLineItemID>10002</OrderLineItemID><Shipped>true</Shipped><Shipment>\
             <ShipmentTrackingDetails><ShipmentTrackingNumber>1Z999</ShipmentTrackingNumber>\
             <ShippingCarrierUsed>UPS</ShippingCarrierUsed><ShipmentLineItem><LineItem>\
             <ItemID>110012345678</ItemID><TransactionID>10001</TransactionID><Quantity>2</Quantity>\
             </LineItem></ShipmentLineItem></ShipmentTrackingDetails>\
             <ShippedTime>2026-11-25T14:02:00.000Z</ShippedTime></Shipment></CompleteSaleRequest>",
        ]
    );
}

#[test]
fn complete_sale_escapes_text() {
    let hostile = "1Z</ShipmentTrackingNumber><x>&\"'";
    let mut hostile_shipment = shipment("12-1&2<3", "Bob's <Vans> & Co", hostile);
    hostile_shipment.items[0].order_item_id = "12&-1<3".into();
    let xml = complete_sale_bodies(&hostile_shipment).remove(0);
    assert!(!xml.contains("<x>"), "markup leaked: {xml}");
    assert!(xml.contains("&lt;") && xml.contains("&amp;"), "{xml}");
    // Read back, every value is what was sent.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Back {
        #[serde(rename = "OrderLineItemID")]
        line: String,
        shipment: BackShipment,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct BackShipment {
        shipment_tracking_details: BackTracking,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct BackTracking {
        shipment_tracking_number: String,
        shipping_carrier_used: String,
    }
    let back: Back = quick_xml::de::from_str(&xml).unwrap();
    assert_eq!(back.line, "12&-1<3");
    let tracking = back.shipment.shipment_tracking_details;
    assert_eq!(tracking.shipment_tracking_number, hostile);
    assert_eq!(tracking.shipping_carrier_used, "Bob's <Vans> & Co");
}

#[test]
fn get_orders_asks_by_window_or_by_ids_a_page_at_a_time() {
    let from = "2026-11-01T00:00:00Z".parse().unwrap();
    let to = "2026-11-02T00:00:00Z".parse().unwrap();
    let xml = get_orders_body(&OrdersFilter::Modified { from, to }, 3).unwrap();
    for part in [
        "<GetOrdersRequest xmlns=\"urn:ebay:apis:eBLBaseComponents\">",
        "<ModTimeFrom>2026-11-01T00:00:00.000Z</ModTimeFrom>",
        "<ModTimeTo>2026-11-02T00:00:00.000Z</ModTimeTo>",
        "<OrderRole>Seller</OrderRole>",
        "<Pagination><EntriesPerPage>100</EntriesPerPage><PageNumber>3</PageNumber></Pagination>",
    ] {
        assert!(xml.contains(part), "{part} missing in {xml}");
    }
    assert!(!xml.contains("OrderIDArray"));
    let xml = get_orders_body(&OrdersFilter::Ids(vec!["1-2-3".into(), "4-5-6".into()]), 1).unwrap();
    assert!(
        xml.contains(
            "<OrderIDArray><OrderID>1-2-3</OrderID><OrderID>4-5-6</OrderID></OrderIDArray>"
        ),
        "{xml}"
    );
    assert!(!xml.contains("ModTime"));
}

fn answer(ack: &str, errors: &[(&str, &str, &str)]) -> String {
    let errors: String = errors
        .iter()
        .map(|(code, severity, class)| {
            format!(
                "<Errors><ShortMessage>Short {code}.</ShortMessage><LongMessage>Long {code}.</LongMessage>\
                 <ErrorCode>{code}</ErrorCode><SeverityCode>{severity}</SeverityCode>\
                 <ErrorClassification>{class}</ErrorClassification></Errors>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <CompleteSaleResponse xmlns=\"urn:ebay:apis:eBLBaseComponents\">\
         <Timestamp>2026-11-25T14:02:00.000Z</Timestamp><Ack>{ack}</Ack>{errors}\
         <Version>1331</Version><Build>E1331</Build></CompleteSaleResponse>"
    )
}

fn verdict(xml: &str) -> Verdict {
    parse::<AckResponse>(ApiKind::Writeback, xml)
        .unwrap()
        .verdict()
}

#[test]
fn ack_and_errors_read_as_outcomes() {
    let failed = |code: &str, retryable| Verdict::Failed {
        code: code.into(),
        message: format!("Short {code}. Long {code}."),
        retryable,
    };
    let cases = vec![
        (answer("Success", &[]), Verdict::Success { warning: None }),
        (
            answer("Warning", &[("21917091", "Warning", "RequestError")]),
            Verdict::Success {
                warning: Some("21917091 Short 21917091. Long 21917091.".into()),
            },
        ),
        (
            answer("Failure", &[("21916811", "Error", "RequestError")]),
            failed("21916811", false),
        ),
        (
            answer("Failure", &[("10007", "Error", "SystemError")]),
            failed("10007", true),
        ),
        (
            answer(
                "PartialFailure",
                &[
                    ("21917091", "Warning", "RequestError"),
                    ("21916811", "Error", "RequestError"),
                ],
            ),
            failed("21916811", false),
        ),
        (
            answer("Failure", &[("518", "Error", "RequestError")]),
            Verdict::CallLimit {
                code: "518".into(),
                message: "Short 518. Long 518.".into(),
            },
        ),
        (
            answer("Failure", &[("931", "Error", "RequestError")]),
            Verdict::TokenRejected {
                code: "931".into(),
                message: "Short 931. Long 931.".into(),
            },
        ),
        (
            answer("Failure", &[("932", "Error", "RequestError")]),
            Verdict::TokenRejected {
                code: "932".into(),
                message: "Short 932. Long 932.".into(),
            },
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(verdict(&xml), expected, "{xml}");
    }
    // An Ack eBay does not define, or none at all, is not a success.
    assert!(matches!(
        verdict(&answer("Maybe", &[])),
        Verdict::Failed {
            retryable: true,
            ..
        }
    ));
    assert!(parse::<AckResponse>(ApiKind::Writeback, "<CompleteSaleResponse><Ack>Succ").is_err());
}

#[test]
fn verdicts_become_writeback_results() {
    let result = |v| -> WritebackResult {
        match verdict_result(ApiKind::Writeback, v) {
            Ok(warning) => WritebackResult::Accepted {
                http_status: 200,
                warning,
            },
            Err(f) => f.into(),
        }
    };
    assert!(matches!(
        result(verdict(&answer(
            "Failure",
            &[("21916811", "Error", "RequestError")]
        ))),
        WritebackResult::Permanent { .. }
    ));
    assert!(matches!(
        result(verdict(&answer(
            "Failure",
            &[("10007", "Error", "SystemError")]
        ))),
        WritebackResult::Retryable {
            retry_after: None,
            ..
        }
    ));
    match result(verdict(&answer(
        "Failure",
        &[("518", "Error", "RequestError")],
    ))) {
        WritebackResult::Retryable { retry_after, .. } => {
            assert_eq!(retry_after, Some(trading::CALL_LIMIT_WAIT))
        }
        other => panic!("518 gave {other:?}"),
    }
    match result(verdict(&answer(
        "Failure",
        &[("932", "Error", "RequestError")],
    ))) {
        WritebackResult::Retryable { message, .. } => {
            assert!(message.contains("authorisation"), "{message}")
        }
        other => panic!("932 gave {other:?}"),
    }
}

#[test]
fn get_orders_answer_maps_to_orders() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<GetOrdersResponse xmlns="urn:ebay:apis:eBLBaseComponents">
  <Timestamp>2026-11-25T14:02:00.000Z</Timestamp>
  <Ack>Success</Ack>
  <Version>1331</Version>
  <PaginationResult><TotalNumberOfPages>3</TotalNumberOfPages><TotalNumberOfEntries>250</TotalNumberOfEntries></PaginationResult>
  <HasMoreOrders>true</HasMoreOrders>
  <OrderArray>
    <Order>
      <OrderID>12-34567-89012</OrderID>
      <OrderStatus>Completed</OrderStatus>
      <CheckoutStatus><LastModifiedTime>2026-11-20T10:00:00.000Z</LastModifiedTime><Status>Complete</Status></CheckoutStatus>
      <CreatedTime>2026-11-19T09:00:00.000Z</CreatedTime>
      <ShippedTime>2026-11-20T09:30:00.000Z</ShippedTime>
      <TransactionArray>
        <Transaction>
          <Item><ItemID>110012345678</ItemID><Title>Mug &amp; saucer</Title><SKU>MUG-1</SKU></Item>
          <QuantityPurchased>2</QuantityPurchased>
          <OrderLineItemID>110012345678-10001</OrderLineItemID>
        </Transaction>
        <Transaction>
          <Item><ItemID>110012345679</ItemID><Title>Spoon</Title></Item>
          <QuantityPurchased>1</QuantityPurchased>
          <OrderLineItemID>110012345679-10002</OrderLineItemID>
        </Transaction>
      </TransactionArray>
    </Order>
    <Order>
      <OrderID>12-34567-89013</OrderID>
      <OrderStatus>Active</OrderStatus>
      <CreatedTime>2026-11-21T09:00:00.000Z</CreatedTime>
    </Order>
  </OrderArray>
  <ReturnedOrderCountActual>2</ReturnedOrderCountActual>
</GetOrdersResponse>"#;
    let response: GetOrdersResponse = parse(ApiKind::Trading, xml).unwrap();
    assert_eq!(response.verdict(), Verdict::Success { warning: None });
    assert_eq!(response.has_more_orders, Some(true));
    assert_eq!(
        response
            .pagination_result
            .as_ref()
            .and_then(|p| p.total_number_of_pages),
        Some(3)
    );
    let orders: Vec<MarketplaceOrder> = response
        .order_array
        .unwrap()
        .orders
        .into_iter()
        .map(|o| o.into_marketplace_order().unwrap())
        .collect();
    assert_eq!(orders.len(), 2);
    let first = &orders[0];
    assert_eq!(first.order_id, "12-34567-89012");
    assert_eq!(first.status, "Completed");
    assert!(first.shipped);
    assert_eq!(first.last_updated.to_rfc3339(), "2026-11-20T10:00:00+00:00");
    assert_eq!(
        first.purchase_date.map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-11-19T09:00:00+00:00")
    );
    let items = first.items.as_ref().unwrap();
    assert_eq!(
        items[0],
        MarketplaceOrderItem {
            order_item_id: "110012345678-10001".into(),
            sku: Some("MUG-1".into()),
            item_number: Some("110012345678".into()),
            title: Some("Mug & saucer".into()),
            quantity_ordered: 2,
            quantity_shipped: 2,
        }
    );
    assert_eq!(items[1].sku, None);
    let second = &orders[1];
    assert!(!second.shipped);
    assert_eq!(
        second.last_updated.to_rfc3339(),
        "2026-11-21T09:00:00+00:00"
    );
    assert_eq!(second.items, Some(vec![]));
}

#[test]
fn an_order_with_a_bad_date_is_malformed_not_a_panic() {
    let xml = "<GetOrdersResponse><Ack>Success</Ack><OrderArray><Order><OrderID>1</OrderID>\
               <CreatedTime>yesterday</CreatedTime></Order></OrderArray></GetOrdersResponse>";
    let response: GetOrdersResponse = parse(ApiKind::Trading, xml).unwrap();
    let order = response.order_array.unwrap().orders.remove(0);
    let failure = order.into_marketplace_order().unwrap_err();
    assert_eq!(failure.code, "MalformedResponse");
    assert!(failure.retryable);
}

/// The spec of the Sell Fulfillment API, as copied into the repository.
fn spec() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/specs/ebay-sell-fulfillment-v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Checks a JSON value against a schema of the spec: every property is one the model
/// defines, with the model's JSON type; `must` lists what has to be present on top of
/// the model's own `required`.
fn check(spec: &Value, schema_name: &str, value: &Value, must: &[&str]) {
    let schema = &spec["components"]["schemas"][schema_name];
    let properties = schema["properties"].as_object().unwrap();
    let object = value.as_object().unwrap();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in required.iter().chain(must) {
        assert!(object.contains_key(*name), "{schema_name}.{name} missing");
    }
    for (name, field) in object {
        let Some(model) = properties.get(name) else {
            panic!("{schema_name}.{name} is not in the model");
        };
        let matches = match model["type"].as_str() {
            Some("string") => field.is_string(),
            Some("integer") => field.is_i64(),
            Some("number") => field.is_number(),
            Some("boolean") => field.is_boolean(),
            Some("array") => field.is_array(),
            Some("object") => field.is_object(),
            other => panic!("{schema_name}.{name}: type {other:?} not checked"),
        };
        assert!(
            matches,
            "{schema_name}.{name} = {field} is not a {}",
            model["type"]
        );
        if let Some(reference) = model["items"]["$ref"].as_str() {
            let item_schema = reference.rsplit('/').next().unwrap();
            for item in field.as_array().unwrap() {
                check(spec, item_schema, item, &["lineItemId", "quantity"]);
            }
        }
    }
}

#[test]
fn fulfillment_body_follows_the_spec() {
    let spec = spec();
    let body = serde_json::to_value(shipping_fulfillment(
        &shipment("12-34567-89012", "fedex", "7712"),
        &mapped("FedEx"),
    ))
    .unwrap();
    check(
        &spec,
        "ShippingFulfillmentDetails",
        &body,
        &[
            "lineItems",
            "shippedDate",
            "shippingCarrierCode",
            "trackingNumber",
        ],
    );
    assert_eq!(
        body,
        serde_json::json!({
            "lineItems": [
                {"lineItemId": "110012345678-10001", "quantity": 2},
                {"lineItemId": "10002", "quantity": 1}
            ],
            "shippedDate": "2026-11-25T14:02:00.000Z",
            "shippingCarrierCode": "FedEx",
            "trackingNumber": "7712"
        })
    );
    // The operation posts exactly this model.
    let operation = &spec["paths"]["/order/{orderId}/shipping_fulfillment"]["post"];
    assert_eq!(operation["operationId"], "createShippingFulfillment");
    assert_eq!(
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ShippingFulfillmentDetails"
    );
}

#[test]
fn rest_errors_are_classified_by_status() {
    let body = r#"{"errors":[{"errorId":32100,"domain":"API_FULFILLMENT","category":"REQUEST","message":"Invalid order Id","longMessage":"Order 1 was not found.","parameters":[{"name":"orderId","value":"1"}]}]}"#;
    let f = fulfillment::failure(404, None, body);
    assert_eq!(f.code, "32100");
    assert!(!f.retryable);
    assert!(
        f.message.contains("Order 1 was not found") && f.message.contains("orderId=1"),
        "{}",
        f.message
    );
    assert!(!fulfillment::failure(400, None, body).retryable);
    let throttled = fulfillment::failure(429, Some(std::time::Duration::from_secs(7)), "{}");
    assert!(throttled.retryable);
    assert_eq!(
        throttled.retry_after,
        Some(std::time::Duration::from_secs(7))
    );
    assert_eq!(throttled.code, "HTTP429");
    assert!(fulfillment::failure(503, None, "<html>").retryable);
}

#[test]
fn writeback_api_is_picked_per_account() {
    let mut account = Account {
        id: 1,
        key: "gadget".into(),
        marketplace: crate::accounts::MarketplaceKind::Ebay,
        display_name: "Gadget".into(),
        company: "Gadget Ltd".into(),
        enabled: true,
        marketplace_id: "0".into(),
        region: "us".into(),
        api_base_url: "http://x".into(),
        auth_base_url: "http://x".into(),
        credentials: crate::accounts::Credentials {
            client_id: "c".into(),
            client_secret: "s".into(),
            refresh_token: "r".into(),
        },
        writeback_api: String::new(),
        unusable: None,
    };
    assert_eq!(WritebackApi::of(&account), Ok(WritebackApi::Trading));
    account.writeback_api = "trading".into();
    assert_eq!(WritebackApi::of(&account), Ok(WritebackApi::Trading));
    account.writeback_api = "fulfillment".into();
    assert_eq!(WritebackApi::of(&account), Ok(WritebackApi::Fulfillment));
    account.writeback_api = "feeds".into();
    assert!(WritebackApi::of(&account).is_err());
}
