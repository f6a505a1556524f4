//! Carrier names: a name the account's marketplace does not know is never sent; the
//! shipment waits with the reason until an admin maps it, then goes on by itself. The
//! emulator refuses unknown carrier codes as the marketplaces do.

use crate::common;

use common::harness;
use serde_json::{json, Value};
use shipback::accounts::MarketplaceKind;
use shipback::actions::Actions;
use shipback::audit::Actor;
use shipback::carriers::CarrierMapping;
use std::time::Duration;

#[tokio::test]
async fn an_unmapped_carrier_waits_with_its_reason_until_it_is_mapped() {
    let h = harness().await;
    let worker = h.worker("carriers");
    let (order, mut shipment) = h.order(1);
    h.emulator.add_orders(vec![order]);
    shipment["carrier"] = json!("Bob's Vans");
    assert_eq!(h.post(&shipment).await.0, 200);

    let report = worker.run_batch().await.unwrap();
    assert_eq!((report.waiting, report.attempted), (1, 0), "{report:?}");
    let waiting = h.detail("S-1").await;
    assert_eq!(waiting["status"], "pending");
    assert_eq!(
        waiting["last_error"],
        "carrier 'Bob's Vans' has no Amazon carrier code: map it under Admin → Carriers"
    );
    assert_eq!(waiting["attempts"], json!([]), "no attempt spent");
    assert!(waiting["next_attempt_at"].is_null());
    assert!(h.confirmations().await.is_empty(), "nothing sent");
    // Not due: the worker leaves it alone.
    let report = worker.run_batch().await.unwrap();
    assert_eq!(report.claimed, 0);

    let actions = Actions::new(h.store.clone(), std::sync::Arc::new(Default::default()));
    let screen_before = h.store.unmapped_carriers().await.unwrap();
    assert_eq!(
        screen_before,
        vec![(MarketplaceKind::Amazon, "Bob's Vans".to_string(), 1)]
    );
    // A code Amazon does not take is refused with the reason.
    let wrong = CarrierMapping {
        marketplace: MarketplaceKind::Amazon,
        station_name: "Bob's Vans".into(),
        code: "BobsVans".into(),
        name: String::new(),
    };
    let refused = actions
        .save_carrier_mapping(&Actor::CommandLine, &wrong)
        .await;
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("not a carrier code Amazon accepts"));
    let mapping = CarrierMapping {
        code: "Other".into(),
        name: "Bob's Vans Ltd".into(),
        ..wrong
    };
    let resumed = actions
        .save_carrier_mapping(&Actor::CommandLine, &mapping)
        .await
        .unwrap();
    assert_eq!(resumed, 1);
    h.drain(&worker, Duration::from_secs(10)).await;
    let done = h.detail("S-1").await;
    assert_eq!(done["status"], "success", "{done}");
    let sent = &h.confirmations().await[0].body["packageDetail"];
    assert_eq!(sent["carrierCode"], "Other");
    assert_eq!(sent["carrierName"], "Bob's Vans Ltd");
    let entry = h.store.audit_entries(Some(1)).await.unwrap().remove(0);
    assert_eq!(entry.action, "carrier_map");
    assert_eq!(entry.target, "amazon: Bob's Vans");
    assert!(
        entry.detail.contains("1 waiting shipments sent on"),
        "{}",
        entry.detail
    );
    assert!(h.store.unmapped_carriers().await.unwrap().is_empty());
}

#[tokio::test]
async fn station_names_are_sent_as_the_marketplaces_codes() {
    let h = harness().await;
    let worker = h.worker("carriers");
    for (n, carrier) in [(2, "UPS Ground"), (3, "usps"), (4, "DHL eCommerce")] {
        let (order, mut shipment) = h.order(n);
        h.emulator.add_orders(vec![order]);
        shipment["carrier"] = json!(carrier);
        assert_eq!(h.post(&shipment).await.0, 200);
    }
    h.drain(&worker, Duration::from_secs(10)).await;
    let mut codes: Vec<String> = h
        .confirmations()
        .await
        .iter()
        .map(|c| {
            c.body["packageDetail"]["carrierCode"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    codes.sort();
    assert_eq!(codes, ["DHL eCommerce", "UPS", "USPS"]);
}

#[tokio::test]
async fn mappings_are_imported_from_csv_all_or_none() {
    let h = harness().await;
    let actions = Actions::new(h.store.clone(), std::sync::Arc::new(Default::default()));
    let bad = "marketplace,station_carrier,code,name\namazon,Bob's Vans,Other,\n";
    let refused = actions
        .import_carrier_mappings(&Actor::CommandLine, bad)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("line 2"), "{refused}");
    assert!(h.store.carrier_mappings().await.unwrap().is_empty());
    let good = "marketplace,station_carrier,code,name\n\
                amazon,Bob's Vans,Other,Bob's Vans Ltd\n\
                ebay,Bob's Vans,OnTrac,\n";
    assert_eq!(
        actions
            .import_carrier_mappings(&Actor::CommandLine, good)
            .await
            .unwrap(),
        2
    );
    assert_eq!(h.store.carrier_mappings().await.unwrap().len(), 2);
    let entry = h.store.audit_entries(Some(1)).await.unwrap().remove(0);
    assert_eq!(entry.action, "carrier_import");
}

/// A carrier code the marketplace does not know is refused by the emulator in each
/// marketplace's own shape.
#[tokio::test]
async fn the_emulator_refuses_unknown_carrier_codes() {
    let h = harness().await;
    let (order, _) = h.order(5);
    let order_id = order.order_id.clone();
    h.emulator.add_orders(vec![order]);
    let token = h.amazon_access_token().await;
    let response = h
        .http
        .post(format!(
            "{}/orders/v0/orders/{order_id}/shipmentConfirmation",
            h.emulator_url
        ))
        .header("x-amz-access-token", &token)
        .json(&json!({
            "marketplaceId": "ATVPDKIKX0DER",
            "packageDetail": {
                "packageReferenceId": "1", "carrierCode": "Bob's Vans",
                "trackingNumber": "1Z", "shipDate": "2026-11-25T14:02:00Z",
                "orderItems": [{"orderItemId": "501", "quantity": 1}]
            }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "InvalidInput");
    assert!(body["errors"][0]["details"]
        .as_str()
        .unwrap()
        .contains("'Bob's Vans' is not a valid carrier code"));
}
