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
    let token: Value = h
        .http
        .post(format!("{}/auth/o2/token", h.emulator_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "Atzr|test-acme-us"),
            ("client_id", "amzn1.application-oa2-client.test"),
            ("client_secret", "s"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
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
    let token: Value = h
        .http
        .post(format!("{}/auth/o2/token", h.emulator_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "Atzr|test-acme-us"),
            ("client_id", "amzn1.application-oa2-client.test"),
            ("client_secret", "s"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
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
    ] {
        let (status, _, body) = get(path.clone()).await;
        assert_eq!(status, 400, "{path}: {body}");
        model.assert_fits("ErrorList", &body);
    }
    let (status, _, body) = get("/orders/2026-01-01/orders/999-0000000-0000000".into()).await;
    assert_eq!(status, 404);
    model.assert_fits("ErrorList", &body);
}
