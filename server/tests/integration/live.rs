//! `GET /api/v1/events/shipments`: a change to the shipments reaches an open stream
//! (how soon is the streams bench's figure), and the stream ends when the server shuts
//! down.

use crate::common;

use common::harness;
use shipback::shipments::live::ShipmentsFeed;
use std::time::{Duration, Instant};

async fn next_event(events: &mut reqwest::Response) -> String {
    loop {
        let chunk = events.chunk().await.unwrap().expect("the stream ended");
        let text = String::from_utf8(chunk.to_vec()).unwrap();
        if text.contains("event: shipments") {
            return text;
        }
    }
}

#[tokio::test]
async fn a_stored_change_is_pushed_and_nothing_else_is() {
    let h = harness().await;
    let feed = ShipmentsFeed::spawn(
        &h.store,
        Duration::from_millis(100),
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = feed.clone().routes();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let mut events = h
        .http
        .get(format!("{url}/api/v1/events/shipments"))
        .send()
        .await
        .unwrap();
    next_event(&mut events).await;
    // The watcher took its baseline when it was made: nothing has changed since.
    let quiet = tokio::time::timeout(Duration::from_millis(400), next_event(&mut events)).await;
    assert!(quiet.is_err(), "an event without a change");

    // Commits that change nothing the screen shows: an audit entry, a new token.
    shipback::audit::record(
        &h.store,
        &shipback::audit::Actor::CommandLine,
        shipback::audit::Action::UserAdd,
        "someone",
        "",
    )
    .await;
    shipback::tokens::create_token(
        &h.store,
        "unrelated",
        "read".parse().unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let unrelated = tokio::time::timeout(Duration::from_millis(600), next_event(&mut events)).await;
    assert!(
        unrelated.is_err(),
        "an event for a commit that changed no shipment"
    );

    let (order, shipment) = h.order(1);
    h.emulator.add_orders(vec![order]);
    let posted = Instant::now();
    assert_eq!(h.post(&shipment).await.0, 200);
    // The wait only guards against a hang.
    tokio::time::timeout(Duration::from_secs(30), next_event(&mut events))
        .await
        .expect("no shipments event after the change");
    println!("pushed {:?} after the post", posted.elapsed());

    feed.close();
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while events.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream outlived the shutdown");
}

/// The id an event carries: its feed's stamp.
fn event_id(event: &str) -> &str {
    event
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap_or_else(|| panic!("an event without an id: {event}"))
}

async fn next_event_named(events: &mut reqwest::Response, name: &str) -> String {
    loop {
        let chunk = events.chunk().await.unwrap().expect("the stream ended");
        let text = String::from_utf8(chunk.to_vec()).unwrap();
        if text.contains(&format!("event: {name}")) {
            return text;
        }
    }
}

/// A page carries the stamps of the feeds as they stood before it read its data; a
/// stream opened from it starts with that same stamp (so the page reads nothing again)
/// until something changes.
#[tokio::test]
async fn a_page_carries_the_stamp_its_streams_open_with() {
    use app::components::live::{FeedStamps, FEEDS_META};
    let d = crate::people::dashboard(shipback::people::http::SessionConfig::default()).await;
    let cookie = d.sign_in(app::people::Role::Viewer).await;
    let page = d.page("/", &cookie).await;
    let meta = format!("<meta name=\"{FEEDS_META}\" content=\"");
    let content = page[page.find(&meta).expect("the stamps' meta") + meta.len()..]
        .split('"')
        .next()
        .unwrap()
        .replace("&quot;", "\"");
    let stamps: FeedStamps = serde_json::from_str(&content).unwrap();

    let open = |path: &str| {
        d.http
            .get(format!("{}{path}", d.base))
            .header("cookie", &cookie)
            .send()
    };
    let mut status = open("/api/v1/status/events").await.unwrap();
    assert_eq!(
        event_id(&next_event_named(&mut status, "status").await),
        stamps.status
    );
    let mut shipments = open("/api/v1/events/shipments").await.unwrap();
    assert_eq!(
        event_id(&next_event_named(&mut shipments, "shipments").await),
        stamps.shipments
    );

    let shipment = serde_json::json!({
        "shipment_id": "S-1",
        "account": common::ACCOUNT,
        "order_id": "113-0000001-0000007",
        "carrier": "UPS",
        "service": "Ground",
        "tracking_number": "1Z00000001",
        "ship_date": "2026-11-25T14:02:00Z",
        "items": [{"order_item_id": "101", "sku": "SKU-A", "quantity": 2}]
    });
    let station = common::authorized_client(&d.store).await;
    let posted = station
        .post(format!("{}/api/v1/shipments", d.base))
        .json(&shipment)
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success(), "{}", posted.status());
    // The wait only guards against a hang.
    let changed = tokio::time::timeout(
        Duration::from_secs(30),
        next_event_named(&mut shipments, "shipments"),
    )
    .await
    .expect("no event after the change");
    assert_ne!(event_id(&changed), stamps.shipments, "{changed}");
}
