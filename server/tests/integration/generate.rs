//! `shipback generate`: synthetic shipments that look like real ones to every reader
//! (grid, counters, details), made through ingest and the bulk history import, with no
//! special case for their ids anywhere in the store.

use crate::common;

use app::query::ShipmentQuery;
use app::shipments::WritebackStatus;
use common::harness;

#[tokio::test]
async fn generated_shipments_have_the_shape_of_real_ones() {
    let h = harness().await;
    let total = shipback::generate::generate(&h.store, 2_000, 30, &h.emulator_url, 7)
        .await
        .unwrap();
    assert_eq!(total, 2_000);

    let count = |status: WritebackStatus| {
        let store = h.store.clone();
        async move {
            let query = ShipmentQuery {
                statuses: vec![status],
                ..ShipmentQuery::default()
            };
            store.list_shipments(&query).await.unwrap().total
        }
    };
    let success = count(WritebackStatus::Success).await;
    let failed = count(WritebackStatus::Failed).await;
    let confirmed = count(WritebackStatus::ConfirmedManually).await;
    assert!((1_600..1_840).contains(&success), "{success} Success");
    assert!((50..160).contains(&failed), "{failed} Failed");
    assert!(
        (15..70).contains(&confirmed),
        "{confirmed} Confirmed manually"
    );

    // Each shipment's counters agree with its attempts, as the worker leaves them.
    let page = h
        .store
        .list_shipments(&ShipmentQuery {
            limit: 200,
            ..ShipmentQuery::default()
        })
        .await
        .unwrap();
    for row in page.items {
        let detail = h
            .store
            .shipment_detail(&row.shipment_id)
            .await
            .unwrap()
            .unwrap();
        let failures = detail
            .attempts
            .iter()
            .filter(|a| a.outcome != app::shipments::AttemptOutcome::Success)
            .count() as u32;
        assert_eq!(row.error_count, failures, "{}", row.shipment_id);
        assert_eq!(
            row.last_attempt_at,
            detail.attempts.last().map(|a| a.started_at),
            "{}",
            row.shipment_id
        );
        match row.status {
            WritebackStatus::Success => {
                assert!(row.last_error.is_none());
                assert_eq!(
                    detail.attempts.last().unwrap().outcome,
                    app::shipments::AttemptOutcome::Success
                );
            }
            WritebackStatus::Failed => {
                assert_eq!(failures, 5);
                assert!(row.last_error.as_deref().unwrap().starts_with("HTTP 503"));
            }
            WritebackStatus::ConfirmedManually => {
                assert!(detail.manual_confirmation.is_some(), "{}", row.shipment_id)
            }
            WritebackStatus::Pending => assert!(detail.attempts.is_empty()),
            WritebackStatus::Retrying => assert!(row.next_attempt_at.is_some()),
        }
    }
}

/// The import gives a history only to shipments that have none: a shipment written
/// back for real keeps its own.
#[tokio::test]
async fn the_history_import_leaves_shipments_with_a_history_alone() {
    use shipback::store::ImportedHistory;
    let h = harness().await;
    let worker = h.worker("real");
    let (order, shipment) = h.order(1);
    h.emulator.add_orders(vec![order]);
    assert_eq!(h.post(&shipment).await.0, 200);
    h.drain(&worker, std::time::Duration::from_secs(10)).await;
    assert_eq!(h.detail("S-1").await["status"], "success");
    let imported = h
        .store
        .import_histories(&[
            ImportedHistory {
                shipment_id: "S-1".into(),
                status: WritebackStatus::Failed,
                next_attempt_at: None,
                attempts: Vec::new(),
                manual_confirmation: None,
            },
            ImportedHistory {
                shipment_id: "no-such-shipment".into(),
                status: WritebackStatus::Failed,
                next_attempt_at: None,
                attempts: Vec::new(),
                manual_confirmation: None,
            },
        ])
        .await
        .unwrap();
    assert_eq!(imported, 0);
    assert_eq!(h.detail("S-1").await["status"], "success");
}
