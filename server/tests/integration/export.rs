//! The CSV export through the station API: every shipment the query matches, in the
//! grid's order, across the export's internal pages; RFC 4180; formulas neutralised.

use crate::common;

use common::{harness, Harness, ACCOUNT};
use serde_json::{json, Value};

async fn ingest(h: &Harness, count: u32) {
    let shipments: Vec<Value> = (0..count)
        .map(|n| {
            let carrier = ["UPS", "USPS", "FedEx"][n as usize % 3];
            let tracking = if n == 7 {
                "=HYPERLINK(\"http://evil\")".to_string()
            } else {
                format!("1Z{n:08}")
            };
            json!({
                "shipment_id": format!("X-{n:05}"),
                "account": ACCOUNT,
                "order_id": format!("113-{n:07}-0000001"),
                // Few carriers: many ties, so the tie-breaker decides the order.
                "carrier": carrier,
                "service": "Ground",
                "tracking_number": tracking,
                "ship_date": format!("2026-11-{:02}T{:02}:00:00Z", 1 + n % 20, n % 24),
                "items": [{"order_item_id": format!("{n}01"), "quantity": 1 + n % 4}]
            })
        })
        .collect();
    for chunk in shipments.chunks(1000) {
        let (status, body) = h.post(&Value::Array(chunk.to_vec())).await;
        assert_eq!(status, 200, "{body}");
    }
}

/// Every shipment id the API lists for `query`, page after page.
async fn listed(h: &Harness, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_query = match &cursor {
            Some(c) => format!("{query}&limit=1000&cursor={c}"),
            None => format!("{query}&limit=1000"),
        };
        let (status, page) = h.get(&format!("/api/v1/shipments?{page_query}")).await;
        assert_eq!(status, 200, "{page}");
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["shipment_id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(app::query::percent_encode(c)),
            None => return ids,
        }
    }
}

async fn export(h: &Harness, query: &str) -> (reqwest::header::HeaderMap, Vec<csv::StringRecord>) {
    let response = h
        .http
        .get(format!("{}/api/v1/shipments/export.csv?{query}", h.api_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_ref());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "Shipment ID");
    assert_eq!(header.len(), shipback::export::COLUMNS.len());
    let rows = reader.records().map(|r| r.unwrap()).collect();
    (headers, rows)
}

#[tokio::test]
async fn the_export_lists_what_the_grid_lists_in_its_order() {
    let h = harness().await;
    // More than two of the export's steps of 5,000, with thousands of ties on carrier.
    ingest(&h, 12_000).await;
    for query in [
        "sort=carrier",
        "sort=-quantity&status=pending",
        "sort=tracking_number&from=2026-11-05T00:00:00Z&to=2026-11-12T00:00:00Z",
        "account=acme-us&sort=-ship_date",
    ] {
        let expected = listed(&h, query).await;
        let (_, rows) = export(&h, query).await;
        let exported: Vec<String> = rows.iter().map(|r| r[0].to_string()).collect();
        assert!(!expected.is_empty(), "{query}");
        assert_eq!(exported.len(), expected.len(), "{query}");
        assert_eq!(exported, expected, "{query}");
    }
    // Another account's filter matches nothing: a header and no rows.
    let (_, rows) = export(&h, "account=nobody").await;
    assert!(rows.is_empty());
}

#[tokio::test]
async fn an_export_left_midway_ends_its_reading_and_the_next_one_is_whole() {
    use futures::StreamExt;
    let h = harness().await;
    // More steps than the reader keeps ahead (two), so that it waits on the one who
    // left: on PostgreSQL it then ends its connection mid-answer.
    ingest(&h, 26_000).await;
    let query = app::query::ShipmentQuery::default();
    for _ in 0..3 {
        let mut rows = Box::pin(h.store.export_rows(&query));
        let first = rows.next().await.unwrap().unwrap();
        assert_eq!(first.len(), 5_000);
        drop(rows);
    }
    if common::database::on_postgres() {
        // No export goes on reading for nobody.
        let exporting = "SELECT count(*)::text FROM pg_stat_activity
                          WHERE datname = current_database() AND pid <> pg_backend_pid()
                            AND state <> 'idle'
                            AND query LIKE '%sort_value FROM shipments%'";
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while common::database::scalar_text(&h.database_url, exporting).await
            != Some("0".to_string())
        {
            assert!(
                std::time::Instant::now() < deadline,
                "an export left mid-way still holds its connection"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let mut whole = 0;
    let mut rows = Box::pin(h.store.export_rows(&query));
    while let Some(step) = rows.next().await {
        whole += step.unwrap().len();
    }
    assert_eq!(whole, 26_000);
    assert_eq!(listed(&h, "sort=carrier").await.len(), 26_000);
}

#[tokio::test]
async fn the_export_is_a_named_download_with_neutralised_formulas() {
    let h = harness().await;
    ingest(&h, 10).await;
    let (headers, rows) = export(&h, "status=pending&sort=shipment_id").await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let today = chrono::Utc::now().format("%Y-%m-%d");
    assert_eq!(
        headers["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"shipments-{today}-pending.csv\"")
    );
    let tracking = rows.iter().find(|r| &r[0] == "X-00007").unwrap()[7].to_string();
    assert_eq!(tracking, "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&rows[0][10], "Pending");

    // A query the grid would refuse is refused here too, before any download starts.
    let response = h
        .http
        .get(format!(
            "{}/api/v1/shipments/export.csv?sort=nonsense",
            h.api_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("sort"), "{body}");
}

#[tokio::test]
async fn filters_find_by_search_carrier_marketplace_and_account() {
    let h = harness().await;
    ingest(&h, 30).await;
    let total = |query: &'static str| {
        let h = &h;
        async move {
            let (status, page) = h.get(&format!("/api/v1/shipments?{query}")).await;
            assert_eq!(status, 200, "{query}: {page}");
            page["total"].as_u64().unwrap()
        }
    };
    // Search: exactly an order id, a tracking number or a shipment id.
    assert_eq!(total("q=X-00003").await, 1);
    assert_eq!(total("q=113-0000004-0000001").await, 1);
    assert_eq!(total("q=1Z00000005").await, 1);
    assert_eq!(
        total("q=%20X-00003%20").await,
        1,
        "spaces around are ignored"
    );
    assert_eq!(total("q=X-0000").await, 0, "not a part of one");
    // Carriers: several at once.
    assert_eq!(total("carrier=UPS").await, 10);
    assert_eq!(total("carrier=UPS&carrier=FedEx").await, 20);
    // Marketplace and account, with the others.
    assert_eq!(total("marketplace=amazon").await, 30);
    assert_eq!(total("marketplace=ebay").await, 0);
    assert_eq!(total("account=acme-us&carrier=USPS").await, 10);
    let (status, body) = h.get("/api/v1/shipments?marketplace=etsy").await;
    assert_eq!(status, 400);
    assert_eq!(body["parameter"], "marketplace");
}
