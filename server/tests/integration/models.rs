//! Requests and answers checked against the marketplaces' official models (the
//! Swagger 2.0 files in `server/specs/`, as published): every required field present,
//! every field of the model's type, and no field the model does not define. Both
//! sides are checked: what Shipback's clients send, and what the emulator answers.

use crate::common;

use common::harness;
use serde_json::{json, Value};
use shipback::emulator::{NewOrder, NewOrderItem};
use shipback::marketplaces::amazon::confirm_shipment_request;
use std::time::Duration;

struct Model {
    spec: Value,
}

impl Model {
    fn load(file: &str) -> Model {
        let path = format!("{}/specs/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Model {
            spec: serde_json::from_str(&text).unwrap(),
        }
    }

    fn definition(&self, name: &str) -> &Value {
        let schema = &self.spec["definitions"][name];
        assert!(!schema.is_null(), "no definition {name}");
        schema
    }

    /// Every way `value` breaks `schema`, as "path: problem".
    fn check(&self, schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.trim_start_matches("#/definitions/");
            return self.check(self.definition(name), value, path, problems);
        }
        let kind = schema["type"]
            .as_str()
            .unwrap_or(if schema["properties"].is_object() {
                "object"
            } else {
                ""
            });
        let fits = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !fits {
            problems.push(format!("{path}: expected {kind}, got {value}"));
            return;
        }
        if let Some(allowed) = schema["enum"].as_array() {
            if !allowed.contains(value) {
                problems.push(format!("{path}: {value} is not one of {allowed:?}"));
            }
        }
        if let (Some(object), Some(properties)) =
            (value.as_object(), schema["properties"].as_object())
        {
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                if !object.contains_key(name) {
                    problems.push(format!("{path}.{name}: required, missing"));
                }
            }
            for (name, field) in object {
                match properties.get(name) {
                    Some(field_schema) => {
                        self.check(field_schema, field, &format!("{path}.{name}"), problems)
                    }
                    None => problems.push(format!("{path}.{name}: not in the model")),
                }
            }
        }
        if let (Some(items), Some(item_schema)) = (value.as_array(), schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{path}[{i}]"), problems);
            }
        }
    }

    fn assert_fits(&self, definition: &str, value: &Value) {
        let mut problems = Vec::new();
        self.check(
            self.definition(definition),
            value,
            definition,
            &mut problems,
        );
        assert!(
            problems.is_empty(),
            "{value}\ndoes not fit {definition}:\n{problems:#?}"
        );
    }
}

#[test]
fn the_checker_finds_what_breaks_a_model() {
    let orders = Model::load("amazon-orders-v0.json");
    let mut problems = Vec::new();
    let bad = json!({
        "marketplaceId": 5,
        "packageDetail": {"packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1Z",
                          "shipDate": "2026-11-25T00:00:00Z",
                          "orderItems": [{"orderItemId": "1", "quantity": "2"}]},
        "colour": "red",
        "codCollectionMethod": "Cash"
    });
    orders.check(
        orders.definition("ConfirmShipmentRequest"),
        &bad,
        "r",
        &mut problems,
    );
    problems.sort();
    assert_eq!(
        problems,
        vec![
            "r.codCollectionMethod: \"Cash\" is not one of [String(\"DirectPayment\")]",
            "r.colour: not in the model",
            "r.marketplaceId: expected string, got 5",
            "r.packageDetail.orderItems[0].quantity: expected integer, got \"2\"",
        ]
    );
}

#[test]
fn confirm_shipment_requests_fit_the_model() {
    let orders = Model::load("amazon-orders-v0.json");
    // A carrier Amazon knows, one an admin mapped to Other with its name, another known.
    let mappings = [shipback::carriers::CarrierMapping {
        marketplace: shipback::accounts::MarketplaceKind::Amazon,
        station_name: "Bob's Vans".into(),
        code: "Other".into(),
        name: "Bob's Vans Ltd".into(),
    }];
    for (carrier, service) in [("UPS", "Ground"), ("Bob's Vans", ""), ("fedex", "2Day")] {
        let account = common::sample_account();
        let shipment = common::sample_claim(carrier, service);
        let mapped = shipback::carriers::resolve(account.marketplace, carrier, &mappings).unwrap();
        let body =
            serde_json::to_value(confirm_shipment_request(&account, &shipment, &mapped)).unwrap();
        orders.assert_fits("ConfirmShipmentRequest", &body);
    }
}

#[tokio::test]
async fn the_emulators_answers_fit_the_models() {
    let h = harness().await;
    let orders = Model::load("amazon-orders-v0.json");
    let catalog = Model::load("amazon-catalog-items-2022-04-01.json");
    h.emulator.add_orders(vec![NewOrder {
        marketplace: "amazon".into(),
        order_id: "114-0000001-0000001".into(),
        marketplace_id: "ATVPDKIKX0DER".into(),
        seller: String::new(),
        purchase_date: Some(chrono::Utc::now() - chrono::Duration::days(1)),
        ship_by: None,
        status: None,
        items: vec![NewOrderItem {
            order_item_id: "1001".into(),
            sku: "SKU-1".into(),
            quantity: 2,
            item_number: Some("B000000001".into()),
            title: Some("Widget".into()),
        }],
    }]);
    let token = h.amazon_access_token().await;
    let get = |path: String| {
        let request = h
            .http
            .get(format!("{}{path}", h.emulator_url))
            .header("x-amz-access-token", &token)
            .timeout(Duration::from_secs(5));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let since = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let (status, body) = get(format!(
        "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&LastUpdatedAfter={}",
        app::query::percent_encode(&since)
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["payload"]["Orders"].as_array().unwrap().len(), 1);
    orders.assert_fits("GetOrdersResponse", &body);

    let (status, body) =
        get("/orders/v0/orders?LastUpdatedAfter=2026-01-01T00:00:00Z".into()).await;
    assert_eq!(status, 400);
    orders.assert_fits("GetOrdersResponse", &body);

    let (status, body) = get("/orders/v0/orders/114-0000001-0000001/orderItems".into()).await;
    assert_eq!(status, 200, "{body}");
    orders.assert_fits("GetOrderItemsResponse", &body);

    let (status, body) = get(
        "/catalog/2022-04-01/items/B000000001?marketplaceIds=ATVPDKIKX0DER&includedData=summaries,dimensions,images,identifiers"
            .into(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    catalog.assert_fits("Item", &body);

    let (status, body) =
        get("/catalog/2022-04-01/items/B00NOTHERE?marketplaceIds=ATVPDKIKX0DER".into()).await;
    assert_eq!(status, 404);
    catalog.assert_fits("ErrorList", &body);

    // A refused confirmation answers with the model's error response.
    let response = h
        .http
        .post(format!(
            "{}/orders/v0/orders/114-0000001-0000001/shipmentConfirmation",
            h.emulator_url
        ))
        .header("x-amz-access-token", &token)
        .json(&json!({"marketplaceId": "ATVPDKIKX0DER"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    orders.assert_fits("ConfirmShipmentErrorResponse", &body);
}

/// Orders API 2026-01-01: what the emulator answers to searchOrders and getOrder, with
/// every dataset Shipback asks for, fits the model; so do its refusals.
#[tokio::test]
async fn the_orders_api_2026_answers_fit_the_model() {
    let h = harness().await;
    let model = Model::load("amazon-orders-2026-01-01.json");
    let (mut order, mut shipment) = h.order(41);
    order.purchase_date = Some(chrono::Utc::now() - chrono::Duration::hours(1));
    shipment["ship_date"] = json!(chrono::Utc::now().to_rfc3339());
    let order_id = order.order_id.clone();
    h.emulator.add_orders(vec![order]);
    assert_eq!(h.post(&shipment).await.0, 200);
    h.drain(&h.worker("models"), Duration::from_secs(10)).await;
    let token = h.amazon_access_token().await;
    let get = |path: String| {
        let request = h
            .http
            .get(format!("{}{path}", h.emulator_url))
            .header("x-amz-access-token", &token)
            .timeout(Duration::from_secs(5));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let rate = response
                .headers()
                .get("x-amzn-RateLimit-Limit")
                .map(|v| v.to_str().unwrap().to_string());
            (status, rate, response.json::<Value>().await.unwrap())
        }
    };
    let since =
        app::query::percent_encode(&(chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339());
    // The order was changed just now, and a search by update time reaches up to two
    // minutes ago only: it is found by its creation time, an hour ago.
    let (status, rate, body) = get(format!(
        "/orders/2026-01-01/orders?createdAfter={since}&includedData=FULFILLMENT,PACKAGES\
         &marketplaceIds=ATVPDKIKX0DER&maxResultsPerPage=10"
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rate.as_deref(), Some("0.0056"));
    assert_eq!(body["orders"].as_array().unwrap().len(), 1, "{body}");
    assert!(body["orders"][0]["packages"].is_array(), "{body}");
    model.assert_fits("SearchOrdersResponse", &body);

    let (status, rate, body) = get(format!(
        "/orders/2026-01-01/orders/{order_id}?includedData=FULFILLMENT&includedData=PACKAGES"
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rate.as_deref(), Some("0.5"));
    model.assert_fits("GetOrderResponse", &body);
    let order = &body["order"];
    assert_eq!(order["fulfillment"]["fulfillmentStatus"], "SHIPPED");
    assert!(order["fulfillment"]["shipByWindow"]["latestDateTime"].is_string());
    let package = &order["packages"][0];
    assert_eq!(package["trackingNumber"], shipment["tracking_number"]);
    assert_eq!(package["carrier"], "UPS");
    assert_eq!(package["shippingService"], "Ground");
    assert_eq!(package["packageItems"][0]["quantity"], 2);
    assert_eq!(
        order["orderItems"][0]["fulfillment"]["quantityUnfulfilled"],
        0
    );
    // Without the datasets, the order carries neither.
    let (_, _, bare) = get(format!("/orders/2026-01-01/orders/{order_id}")).await;
    assert!(bare["order"]["packages"].is_null() && bare["order"]["fulfillment"].is_null());

    for path in [
        "/orders/2026-01-01/orders?marketplaceIds=ATVPDKIKX0DER".to_string(),
        format!("/orders/2026-01-01/orders?createdAfter={since}&lastUpdatedAfter={since}"),
        format!("/orders/2026-01-01/orders?createdAfter={since}&maxResultsPerPage=101"),
        format!("/orders/2026-01-01/orders/{order_id}?includedData=EVERYTHING"),
        format!("/orders/2026-01-01/orders/{order_id}?includeData=PACKAGES"),
        format!("/orders/2026-01-01/orders?createdAfter={since}&MarketplaceIds=ATVPDKIKX0DER"),
    ] {
        let (status, _, body) = get(path.clone()).await;
        assert_eq!(status, 400, "{path}: {body}");
        model.assert_fits("ErrorList", &body);
    }
    let (status, _, body) = get("/orders/2026-01-01/orders/999-0000000-0000000".into()).await;
    assert_eq!(status, 404);
    model.assert_fits("ErrorList", &body);
}

/// An XML element, as the Trading API's checks read it.
#[derive(Debug)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

fn read_xml(text: &str) -> Element {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(start) => stack.push(Element {
                name: start.local_name().as_ref().to_string(),
                text: String::new(),
                children: Vec::new(),
            }),
            Event::Empty(start) => {
                let element = Element {
                    name: start.local_name().as_ref().to_string(),
                    text: String::new(),
                    children: Vec::new(),
                };
                stack.last_mut().unwrap().children.push(element);
            }
            Event::Text(text) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&text.xml10_content());
                }
            }
            // An entity (&amp;): part of a text; its character does not matter here.
            Event::GeneralRef(_) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push('&');
                }
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return done,
                }
            }
            Event::Eof => panic!("unexpected end of {text}"),
            _ => {}
        }
    }
}

/// The Trading API reference's excerpt in `server/specs/ebay-trading-excerpt.json`.
struct TradingReference(Value);

impl TradingReference {
    fn load() -> TradingReference {
        let path = format!(
            "{}/specs/ebay-trading-excerpt.json",
            env!("CARGO_MANIFEST_DIR")
        );
        TradingReference(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["ref"].as_str() {
            Some(name) => &self.0["types"][name],
            None => schema,
        }
    }

    /// Every way `element` breaks `schema`, as "path: problem".
    fn check(&self, schema: &Value, element: &Element, path: &str, problems: &mut Vec<String>) {
        let schema = self.resolve(schema);
        match schema["children"].as_object() {
            Some(children) => {
                let mut seen: std::collections::HashMap<&str, usize> = Default::default();
                for child in &element.children {
                    let at = format!("{path}.{}", child.name);
                    match children.get(&child.name) {
                        None => problems.push(format!("{at}: not in the Trading API reference")),
                        Some(child_schema) => {
                            *seen.entry(child.name.as_str()).or_default() += 1;
                            self.check(child_schema, child, &at, problems);
                        }
                    }
                }
                for (name, count) in &seen {
                    let repeats = self.resolve(&children[*name])["repeat"] == true
                        || children[*name]["repeat"] == true;
                    if *count > 1 && !repeats {
                        problems.push(format!("{path}.{name}: {count} times, may appear once"));
                    }
                }
                for required in schema["required"].as_array().into_iter().flatten() {
                    let name = required.as_str().unwrap();
                    if !seen.contains_key(name) {
                        problems.push(format!("{path}.{name}: required, missing"));
                    }
                }
            }
            None => {
                let text = element.text.trim();
                if !element.children.is_empty() {
                    problems.push(format!("{path}: a value, not elements"));
                }
                let fits = match schema["type"].as_str().unwrap_or("string") {
                    "boolean" => text == "true" || text == "false",
                    "int" => text.parse::<i64>().is_ok(),
                    "dateTime" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                    _ => true,
                };
                if !fits {
                    problems.push(format!("{path}: '{text}' is not a {}", schema["type"]));
                }
                if let Some(allowed) = schema["enum"].as_array() {
                    if !allowed.iter().any(|a| a == text) {
                        problems.push(format!("{path}: '{text}' is not one of {allowed:?}"));
                    }
                }
            }
        }
    }

    fn assert_fits(&self, xml: &str) {
        let root = read_xml(xml);
        let schema = &self.0["roots"][&root.name];
        assert!(!schema.is_null(), "{} is not in the excerpt", root.name);
        let mut problems = Vec::new();
        self.check(schema, &root, &root.name, &mut problems);
        assert!(problems.is_empty(), "{xml}\ndoes not fit:\n{problems:#?}");
    }
}

#[test]
fn the_trading_checker_finds_what_breaks_the_reference() {
    let reference = TradingReference::load();
    let root = read_xml(
        "<CompleteSaleRequest xmlns=\"urn:ebay:apis:eBLBaseComponents\"><Shipped>yes</Shipped>\
         <Colour>red</Colour><OrderID>1</OrderID><OrderID>2</OrderID><Shipment>\
         <ShipmentTrackingDetails><ShipmentLineItem><LineItem><Quantity>2</Quantity></LineItem>\
         </ShipmentLineItem></ShipmentTrackingDetails></Shipment></CompleteSaleRequest>",
    );
    let mut problems = Vec::new();
    reference.check(
        &reference.0["roots"]["CompleteSaleRequest"],
        &root,
        "r",
        &mut problems,
    );
    problems.sort();
    assert_eq!(
        problems,
        [
            "r.Colour: not in the Trading API reference",
            "r.OrderID: 2 times, may appear once",
            "r.Shipment.ShipmentTrackingDetails.ShipmentLineItem.LineItem.ItemID: required, missing",
            "r.Shipment.ShipmentTrackingDetails.ShipmentLineItem.LineItem.TransactionID: required, missing",
            "r.Shipped: 'yes' is not a \"boolean\"",
        ]
    );
}

/// What Shipback sends to the Trading API, and what the emulator answers, names only
/// elements the Trading API reference defines, of their types.
#[tokio::test]
async fn trading_requests_and_answers_fit_the_reference() {
    use shipback::marketplaces::ebay::trading::{
        complete_sale_body, complete_sale_requests, get_orders_body, OrdersFilter,
    };
    let reference = TradingReference::load();
    let mut claim = common::sample_claim("UPS", "Ground");
    claim.order_id = crate::ebay::ebay_order(3).order_id;
    claim.items[0].order_item_id = "11000003-1".into();
    claim.items[1].order_item_id = "11000003-2".into();
    claim.items[1].quantity = 1;
    let carrier = shipback::carriers::MarketplaceCarrier {
        code: "UPS".into(),
        name: None,
    };
    let requests: Vec<String> = complete_sale_requests(&claim, &carrier)
        .iter()
        .map(|r| complete_sale_body(r).unwrap())
        .collect();
    for body in &requests {
        reference.assert_fits(body);
    }
    let from = "2026-11-01T00:00:00Z".parse().unwrap();
    let to = "2026-11-02T00:00:00Z".parse().unwrap();
    let get_orders = [
        get_orders_body(&OrdersFilter::Modified { from, to }, 2).unwrap(),
        get_orders_body(&OrdersFilter::Ids(vec![claim.order_id.clone()]), 1).unwrap(),
    ];
    for body in &get_orders {
        reference.assert_fits(body);
    }

    // The emulator's answers: a success, a warning, a failure, an order listing.
    let h = harness().await;
    let account = crate::ebay::add_ebay_account(&h, "gadget", "trading").await;
    h.emulator.add_orders(vec![crate::ebay::ebay_order(3)]);
    let token = shipback::marketplaces::ebay::identity::exchange(&h.http, &account)
        .await
        .unwrap()
        .access_token;
    let call = |name: &'static str, body: String| {
        let request = h
            .http
            .post(format!("{}/ws/api.dll", h.emulator_url))
            .header("X-EBAY-API-CALL-NAME", name)
            .header("X-EBAY-API-SITEID", "0")
            .header("X-EBAY-API-COMPATIBILITY-LEVEL", "1331")
            .header("X-EBAY-API-IAF-TOKEN", token.clone())
            .header("content-type", "text/xml")
            .body(body);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    for body in &requests {
        let answer = call("CompleteSale", body.clone()).await;
        assert!(answer.contains("<Ack>Success</Ack>"), "{answer}");
        reference.assert_fits(&answer);
    }
    // The same parcel under another number: a correction, answered with a warning.
    let corrected = requests[0].replace(
        "<ShipmentTrackingNumber>1Z999<",
        "<ShipmentTrackingNumber>1Z998<",
    );
    let answer = call("CompleteSale", corrected).await;
    assert!(answer.contains("<Ack>Warning</Ack>"), "{answer}");
    reference.assert_fits(&answer);
    let answer = call(
        "CompleteSale",
        requests[0].replace("11000003-1", "99999999-9"),
    )
    .await;
    assert!(answer.contains("<Ack>Failure</Ack>"), "{answer}");
    reference.assert_fits(&answer);
    for body in &get_orders {
        let answer = call("GetOrders", body.clone()).await;
        assert!(answer.contains("<Ack>Success</Ack>"), "{answer}");
        reference.assert_fits(&answer);
    }
    let listing = call("GetOrders", get_orders[1].clone()).await;
    assert!(
        listing.contains("<ShipmentTrackingNumber>1Z998</ShipmentTrackingNumber>"),
        "{listing}"
    );
}
