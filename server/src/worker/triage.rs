//! What a claimed shipment waits on instead of a call: a disabled account, credentials
//! or settings Shipback cannot use, its account's API paused by the marketplace's trouble, or a
//! carrier nobody mapped. A waiting shipment spends no attempt; it goes on when what it
//! waits on is mended (an admin's change, or a probe that gets through).

use crate::accounts::Account;
use crate::carriers::{self, CarrierMapping, MarketplaceCarrier};
use crate::health::rules::CallOutcome;
use crate::records::shipments::ClaimedShipment;
use crate::store::{account_keys, writeback_key, ApiPause};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Why a claimed shipment waits: what it waits on (the key its waiters share) and the
/// sentence the grid shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    pub key: String,
    pub reason: String,
}

/// What `claim` waits on, or the carrier it goes with. `pauses` are the paused APIs by
/// key; the shipment a pause lets through as its probe (it waits on that pause
/// already) goes.
pub fn triage(
    claim: &ClaimedShipment,
    account: &Account,
    pauses: &HashMap<String, ApiPause>,
    mappings: &[CarrierMapping],
) -> Result<MarketplaceCarrier, Wait> {
    match wait_of(claim, account, pauses) {
        Some(wait) => Err(wait),
        None => carriers::resolve(account.marketplace, &claim.carrier, mappings).ok_or_else(|| {
            let (reason, key) = carriers::unmapped(account.marketplace, &claim.carrier);
            Wait { key, reason }
        }),
    }
}

/// What `claim` waits on besides its carrier: its account, its account's paused API.
fn wait_of(
    claim: &ClaimedShipment,
    account: &Account,
    pauses: &HashMap<String, ApiPause>,
) -> Option<Wait> {
    if !account.enabled {
        let [disabled, _] = account_keys(account.id);
        return Some(Wait {
            key: disabled,
            reason: format!(
                "Waiting: account {} is disabled; enable it under Admin → Accounts to write back",
                account.key
            ),
        });
    }
    if let Some(why) = &account.unusable {
        let [_, unusable] = account_keys(account.id);
        return Some(Wait {
            key: unusable,
            reason: format!(
                "Waiting: {why}; an admin corrects {} under Admin → Accounts",
                account.key
            ),
        });
    }
    if pauses.is_empty() {
        return None;
    }
    let paused = writeback_key(account.id);
    let pause = pauses.get(&paused)?;
    (claim.waiting_on.as_deref() != Some(paused.as_str())).then(|| Wait {
        key: paused,
        reason: pause.reason.clone(),
    })
}

/// The sentence a paused queue's shipments show: "Waiting: Amazon Writeback for
/// acme-us is down since 14:02:07 UTC (HTTP 503 …)", its time kept as a mark (drawn in
/// the reader's zone: [`app::timed_text`]).
pub fn pause_reason(
    account: &Account,
    outcome: CallOutcome,
    since: DateTime<Utc>,
    error: &str,
) -> String {
    let what = match outcome {
        CallOutcome::Throttled => "is throttling its calls",
        CallOutcome::AuthFailed => "refuses the account's credentials",
        CallOutcome::Timeout => "does not answer in time",
        _ => "is down",
    };
    format!(
        "Waiting: {} Writeback for {} {what} since {} ({error})",
        account.marketplace.label(),
        account.key,
        app::timed_text::mark(since),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{AccountProblem, Credentials, MarketplaceKind};

    fn account() -> Account {
        Account {
            id: 3,
            key: "acme-us".into(),
            marketplace: MarketplaceKind::Amazon,
            display_name: "Acme".into(),
            company: "Acme Inc".into(),
            enabled: true,
            marketplace_id: "ATVPDKIKX0DER".into(),
            region: "na".into(),
            api_base_url: "http://x".into(),
            auth_base_url: "http://x".into(),
            credentials: Credentials {
                client_id: "c".into(),
                client_secret: "s".into(),
                refresh_token: "r".into(),
            },
            writeback_api: String::new(),
            unusable: None,
        }
    }

    fn claim(waiting_on: Option<&str>) -> ClaimedShipment {
        ClaimedShipment {
            row_id: 1,
            fence: 1,
            shipment_id: "S-1".into(),
            account_id: 3,
            order_id: "113-0000001-0000001".into(),
            carrier: "UPS".into(),
            service: "Ground".into(),
            tracking_number: "1Z".into(),
            ship_date: DateTime::UNIX_EPOCH,
            items: Vec::new(),
            revision: 0,
            error_count: 0,
            marketplace_carrier: None,
            outcome_unknown: false,
            waiting_on: waiting_on.map(str::to_string),
        }
    }

    #[test]
    fn what_a_shipment_waits_on_comes_in_order() {
        let none = HashMap::new();
        assert_eq!(triage(&claim(None), &account(), &none, &[]).err(), None);
        let disabled = Account {
            enabled: false,
            ..account()
        };
        assert_eq!(
            triage(&claim(None), &disabled, &none, &[])
                .err()
                .unwrap()
                .key,
            "account:3:disabled"
        );
        let unreadable = Account {
            unusable: Some(AccountProblem::Credentials(
                "its refresh token: sealed with another key".into(),
            )),
            ..account()
        };
        let wait = triage(&claim(None), &unreadable, &none, &[]).err().unwrap();
        assert_eq!(wait.key, "account:3:unusable");
        assert!(
            wait.reason
                .starts_with("Waiting: Shipback cannot read this account's credentials"),
            "{}",
            wait.reason
        );
        let since = "2026-11-29T14:02:00Z".parse().unwrap();
        let reason = pause_reason(&account(), CallOutcome::ServerError, since, "HTTP 503");
        assert_eq!(
            app::timed_text::draw_utc(&reason).as_ref(),
            "Waiting: Amazon Writeback for acme-us is down since 14:02:00 UTC (HTTP 503)"
        );
        let pauses = HashMap::from([(
            "api:3:writeback".to_string(),
            ApiPause {
                key: "api:3:writeback".into(),
                account_id: 3,
                api: "writeback".into(),
                since,
                reason: reason.clone(),
                next_probe_at: since,
                insist: false,
            },
        )]);
        assert_eq!(
            triage(&claim(None), &account(), &pauses, &[])
                .unwrap_err()
                .reason,
            reason
        );
        // The pause's probe goes.
        assert_eq!(
            triage(&claim(Some("api:3:writeback")), &account(), &pauses, &[]).map(|c| c.code),
            Ok("UPS".to_string())
        );
        let mut unmapped = claim(None);
        unmapped.carrier = "Bob's Vans".into();
        assert!(triage(&unmapped, &account(), &none, &[])
            .unwrap_err()
            .key
            .starts_with("carrier:amazon:"));
    }
}
