//! Sentences Shipback keeps (an API's health, why a shipment waits) are read in the
//! reader's zone: the page a person opens draws their times in that person's zone, the
//! API carries them in UTC.

use crate::common;
use crate::people::dashboard;

use app::marketplace::ApiKind;
use app::people::Role;
use app::timed_text::mark;
use chrono::{TimeZone, Utc};
use shipback::people::http::SessionConfig;
use shipback::store::StoredApiHealth;

#[tokio::test]
async fn a_kept_sentence_is_drawn_in_the_persons_zone_and_in_utc_for_the_api() {
    let d = dashboard(SessionConfig::default()).await;
    let account = d
        .store
        .accounts()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.key == common::ACCOUNT)
        .unwrap();
    // 20:02:07 UTC is 14:02:07 in Chicago in winter.
    let failed_at = Utc.with_ymd_and_hms(2026, 11, 30, 20, 2, 7).unwrap();
    let now = Utc::now();
    d.store
        .save_api_health(
            &[StoredApiHealth {
                account_id: account.id,
                api: ApiKind::Writeback,
                health: app::health::Health::Red,
                sentence: format!(
                    "The API is down: the last 5 calls failed, since {}. Last error 503 at {}.",
                    mark(failed_at),
                    mark(failed_at)
                ),
                figures: Default::default(),
                since: now,
                last_call_at: Some(now),
                recent_calls: Vec::new(),
            }],
            &[],
            now - chrono::Duration::days(1),
        )
        .await
        .unwrap();
    let drawn_for = |zone: &'static str| {
        format!("The API is down: the last 5 calls failed, since {zone}. Last error 503 at {zone}.")
    };

    assert!(d
        .store
        .set_user_time_zone(Role::Viewer.as_str(), Some("America/Chicago"))
        .await
        .unwrap());
    let cookie = d.sign_in(Role::Viewer).await;
    let page = d.page("/", &cookie).await;
    assert!(page.contains(&drawn_for("14:02:07 CST")), "{page}");
    // Only the data handed to the browser (which draws it alike) holds the marks.
    assert!(!without_scripts(&page).contains("[[at:"), "{page}");

    let api: serde_json::Value = common::authorized_client(&d.store)
        .await
        .get(format!("{}/api/v1/status", d.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let writeback = &api["accounts"][0]["apis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["api"] == "writeback")
        .unwrap()["sentence"];
    assert_eq!(writeback.as_str().unwrap(), drawn_for("20:02:07 UTC"));
}

/// The page without its `<script>` elements: what a person reads.
fn without_scripts(page: &str) -> String {
    let mut text = String::new();
    let mut rest = page;
    while let Some(start) = rest.find("<script") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("</script>")
            .map_or("", |end| &rest[start + end + "</script>".len()..]);
    }
    text.push_str(rest);
    text
}
