//! The connection-status panel: every enabled account with the health of each of its
//! APIs, a sentence for every status but Green, and each API's last 24 hours.
//!
//! The server pushes a `status` event whenever the board changes (server-sent events),
//! naming the accounts whose part changed: the panel reads those alone and puts them in
//! place, or the whole board when the event names none or a version was missed; a
//! one-second clock in the browser turns an idle API None on time even when no event
//! arrives, and a dropped connection or a failed read says "Error reading API status".

use crate::api::get_status_board;
use crate::components::filter_bar::href;
use crate::components::format::said;
use crate::components::live::{follow_events, FeedStamps};
use crate::deadlines::{span_words, DeadlineCounts, DeadlineFilter};
use crate::health::{
    AccountStatus, ApiStatus, Health, HistoryBucket, PanelBoard, StatusBoard, StatusPush,
};
use crate::marketplace::ApiKind;
use crate::query::ShipmentQuery;
use crate::shipments::WritebackStatus;
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// The URL pushing `status` events.
const STATUS_EVENTS_URL: &str = "/api/v1/status/events";

/// `updates` ticks when the user asks for fresh data (the Update button).
#[component]
pub fn StatusPanel(updates: Signal<u64>) -> impl IntoView {
    let refresh = RwSignal::new(0u64);
    let board = Resource::new_serde_wb(
        move || (refresh.get(), updates.get()),
        // The panel's form of the board: it rides along in the server-drawn page.
        |_| get_status_board(None),
    );
    // The last board read, kept on screen (as None) when a later read fails.
    let last_good = RwSignal::new(None::<StatusBoard>);
    // The server's time as the browser estimates it; unset until the clock starts.
    let clock = RwSignal::new(None::<DateTime<Utc>>);
    let skew_ms = RwSignal::new(0i64);

    Effect::new(move |_| {
        if let Some(Ok(PanelBoard(b))) = board.get() {
            skew_ms
                .set(b.generated_at.timestamp_millis() - crate::viewer::now().timestamp_millis());
            last_good.set(Some(b));
        }
    });
    let connected = RwSignal::new(true);
    // The last version of the board this page has, as the events number them.
    let seen_version = StoredValue::new(None::<u64>);
    follow_events(
        STATUS_EVENTS_URL,
        "status",
        FeedStamps::current().status,
        move |event| {
            let push = StatusPush::parse(&event.data);
            let partial = push.as_ref().and_then(|p| {
                p.accounts_after(seen_version.get_value())
                    .map(<[String]>::to_vec)
            });
            seen_version.set_value(push.map(|p| p.version));
            if !event.news {
                return;
            }
            match partial {
                Some(accounts) if last_good.with_untracked(Option::is_some) => {
                    leptos::task::spawn_local(async move {
                        // The page may have gone meanwhile: its signals are disposed
                        // then, hence `try_`.
                        let merged = match get_status_board(Some(accounts)).await {
                            Ok(part) => last_good
                                .try_update(|b| b.as_mut().is_some_and(|b| b.merge(part.0))),
                            Err(_) => Some(false),
                        };
                        if merged == Some(false) {
                            refresh.try_update(|n| *n += 1);
                        }
                    });
                }
                _ => refresh.update(|n| *n += 1),
            }
        },
        connected,
    );
    let feed_down = Signal::derive(move || !connected.get());
    start_clock(clock, skew_ms, last_good, refresh);
    // On a tablet the panel folds to one line of counts, so the grid starts near the top;
    // a desktop shows it whole beside the grid, whatever this says.
    let expanded = RwSignal::new(false);

    view! {
        <aside
            class="status-panel"
            class:expanded=move || expanded.get()
            aria-label="Connection status"
            data-testid="status-panel"
        >
            <h2 class="panel-title">"Connection status"</h2>
            <Transition fallback=|| view! { <p class="loading">"Reading API status…"</p> }>
                {move || {
                    // The board as read, or as later events patched it.
                    let (shown, failed) = match board.get() {
                        Some(Ok(PanelBoard(b))) => {
                            let patched = last_good
                                .get()
                                .filter(|p| p.generated_at > b.generated_at);
                            (Some(patched.unwrap_or(b)), false)
                        }
                        Some(Err(_)) => (last_good.get_untracked(), true),
                        None => (last_good.get_untracked(), false),
                    };
                    let unreadable = move || failed || feed_down.get();
                    let error = move || {
                        unreadable()
                            .then(|| {
                                view! {
                                    <p class="error-line" role="alert" data-testid="status-error">
                                        "Error reading API status: the connection to Shipback is lost; retrying."
                                    </p>
                                }
                            })
                    };
                    match shown {
                        None => {
                            view! {
                                {error}
                                <p class="empty">"No account is registered and enabled."</p>
                            }
                                .into_any()
                        }
                        Some(b) => {
                            let idle = b.idle_after_secs;
                            let warning = b.deadline_warning_minutes;
                            let generated = b.generated_at;
                            let now = move || clock.get().unwrap_or(generated);
                            let apis: Vec<ApiStatus> = b
                                .accounts
                                .iter()
                                .flat_map(|a| a.apis.iter().cloned())
                                .collect();
                            let tally = move || {
                                let mut tally = [0usize; 4];
                                for api in &apis {
                                    let health = if unreadable() {
                                        Health::None
                                    } else {
                                        api.as_of(now(), idle).health
                                    };
                                    tally[health as usize] += 1;
                                }
                                tally
                            };
                            let accounts = b
                                .accounts
                                .into_iter()
                                .map(|account| {
                                    view! {
                                        <AccountCard
                                            account=account
                                            warning_minutes=warning
                                            now=Signal::derive(now)
                                            idle_after_secs=idle
                                            unreadable=Signal::derive(unreadable)
                                        />
                                    }
                                })
                                .collect_view();
                            view! {
                                <PanelToggle expanded=expanded tally=Signal::derive(tally)/>
                                {error}
                                <ul class="accounts" id="status-accounts">{accounts}</ul>
                            }
                                .into_any()
                        }
                    }
                }}
            </Transition>
        </aside>
    }
}

/// The tablet's folded panel: how many APIs are in each health, and a button to unfold.
/// `tally` is indexed by `Health as usize`.
#[component]
fn PanelToggle(expanded: RwSignal<bool>, tally: Signal<[usize; 4]>) -> impl IntoView {
    let counts = move || {
        let tally = tally.get();
        // Worst first: what needs attention leads the line.
        [Health::Red, Health::Yellow, Health::None, Health::Green]
            .into_iter()
            .filter(|h| tally[*h as usize] > 0)
            .map(|h| {
                view! {
                    <span class=format!("tally health-{}", h.as_str())>
                        {format!("{} {} {}", h.icon(), tally[h as usize], h.label())}
                    </span>
                }
            })
            .collect_view()
    };
    view! {
        <button
            class="panel-toggle"
            data-testid="status-toggle"
            aria-controls="status-accounts"
            aria-expanded=move || expanded.get().to_string()
            on:click=move |_| expanded.update(|e| *e = !*e)
        >
            <span class="panel-toggle-title">"Connection status"</span>
            <span class="tallies">{counts}</span>
            <span class="chevron" aria-hidden="true">
                {move || if expanded.get() { "▴" } else { "▾" }}
            </span>
        </button>
    }
}

#[component]
fn AccountCard(
    account: AccountStatus,
    warning_minutes: u32,
    now: Signal<DateTime<Utc>>,
    idle_after_secs: u64,
    unreadable: Signal<bool>,
) -> impl IntoView {
    let marketplace = match account.marketplace.as_str() {
        "amazon" => "Amazon",
        "ebay" => "eBay",
        other => other,
    }
    .to_string();
    let key = account.account.clone();
    let problem = account.problem.clone().map(|problem| {
        view! { <p class="error-line account-problem" data-testid="account-problem">{problem}</p> }
    });
    let rows = account
        .apis
        .into_iter()
        .map(|api| {
            view! {
                <ApiRow
                    account=key.clone()
                    status=api
                    now=now
                    idle_after_secs=idle_after_secs
                    unreadable=unreadable
                />
            }
        })
        .collect_view();
    view! {
        <li class="account-card" data-account=account.account.clone()>
            <div class="account-head">
                <span class="account-name">{account.name}</span>
                <span class="account-meta muted">
                    {format!("{} · {} · {}", account.company, marketplace, account.account)}
                </span>
            </div>
            {problem}
            <DeadlineRisk account=key.clone() counts=account.deadlines warning_minutes=warning_minutes/>
            <ul class="apis">{rows}</ul>
        </li>
    }
}

/// The account's shipments still to be confirmed that are due soon or late, each count
/// a link to the grid showing them. Nothing when there are none.
#[component]
fn DeadlineRisk(account: String, counts: DeadlineCounts, warning_minutes: u32) -> impl IntoView {
    let link = |filter: DeadlineFilter, words: String, class: &'static str| {
        let href = href(&ShipmentQuery {
            accounts: vec![account.clone()],
            deadlines: vec![filter],
            ..ShipmentQuery::default()
        });
        view! {
            <a class=format!("deadline-count {class}") href=href data-deadline=filter.as_str()>
                {words}
            </a>
        }
    };
    let due = (counts.due_soon > 0).then(|| {
        let within = span_words(chrono::TimeDelta::minutes(i64::from(warning_minutes)));
        link(
            DeadlineFilter::DueSoon,
            format!("{} due within {within}", counts.due_soon),
            "soon",
        )
    });
    let late = (counts.late > 0).then(|| {
        link(
            DeadlineFilter::Late,
            format!("{} late", counts.late),
            "late",
        )
    });
    (due.is_some() || late.is_some()).then(|| {
        view! {
            <p class="deadline-risk" data-testid="deadline-risk">
                <span class="muted">"Not confirmed: "</span>
                {due}
                {(counts.due_soon > 0 && counts.late > 0).then_some(" · ")}
                {late}
            </p>
        }
    })
}

#[component]
fn ApiRow(
    account: String,
    status: ApiStatus,
    now: Signal<DateTime<Utc>>,
    idle_after_secs: u64,
    unreadable: Signal<bool>,
) -> impl IntoView {
    let api = status.api;
    let history = status.history.clone();
    let waiting = status.waiting;
    let current = Memo::new(move |_| {
        let mut shown = status.as_of(now.get(), idle_after_secs);
        if unreadable.get() {
            shown.health = Health::None;
            shown.sentence = "Error reading API status.".to_string();
        }
        (shown.health, said(&shown.sentence))
    });
    let health = move || current.with(|c| c.0);
    let filter = ShipmentQuery {
        accounts: vec![account.clone()],
        // A Writeback problem shows as shipments that did not go through, and those
        // waiting behind it.
        statuses: match (api, waiting) {
            (ApiKind::Writeback, 0) => vec![WritebackStatus::Failed, WritebackStatus::Retrying],
            (ApiKind::Writeback, _) => vec![
                WritebackStatus::Failed,
                WritebackStatus::Retrying,
                WritebackStatus::Pending,
            ],
            _ => Vec::new(),
        },
        ..ShipmentQuery::default()
    };
    let shows = match (api, waiting) {
        (ApiKind::Writeback, 0) => "failed and retrying shipments",
        (ApiKind::Writeback, _) => "shipments not written back yet",
        _ => "shipments",
    };
    let label = {
        let account = account.clone();
        move || {
            format!(
                "{account} {} API: {}. Show its {shows}.",
                api.label(),
                health().label()
            )
        }
    };
    view! {
        <li class="api-row">
            <a
                class=move || format!("api-badge health-{}", health().as_str())
                href=href(&filter)
                data-testid="api-badge"
                data-account=account.clone()
                data-api=api.as_str()
                data-health=move || health().as_str()
                aria-label=label
                title=move || current.with(|c| c.1.clone())
            >
                <span class="api-icon" aria-hidden="true">{move || health().icon()}</span>
                <span class="api-name">{api.label()}</span>
                <span class="api-health">{move || health().label()}</span>
            </a>
            <Sparkline history=history/>
            {(waiting > 0)
                .then(|| {
                    view! {
                        <p class="api-waiting" data-testid="api-waiting">
                            {format!(
                                "‖ {waiting} shipment{} waiting: none is sent until it works again",
                                if waiting == 1 { "" } else { "s" },
                            )}
                        </p>
                    }
                })}
            {move || {
                current
                    .with(|(health, sentence)| {
                        (*health != Health::Green)
                            .then(|| {
                                view! {
                                    <p class="api-sentence" data-testid="api-sentence">
                                        {sentence.clone()}
                                    </p>
                                }
                            })
                    })
            }}
        </li>
    }
}

/// The last 24 hours in slices: height by calls, colour (and pattern) by the worst
/// health of the slice.
#[component]
fn Sparkline(history: Vec<HistoryBucket>) -> impl IntoView {
    let count = history.len().max(1);
    let red = history.iter().filter(|b| b.worst == Health::Red).count();
    let yellow = history.iter().filter(|b| b.worst == Health::Yellow).count();
    let calls: u32 = history.iter().map(|b| b.calls).sum();
    let failed: u32 = history.iter().map(|b| b.failed).sum();
    let summary = format!(
        "Last 24 hours: {calls} calls, {failed} failed; {red} slices Red, {yellow} Yellow."
    );
    let label = summary.clone();
    let bars = sparkline_paths(&history)
        .into_iter()
        .map(|(health, d)| view! { <path class=format!("spark-{}", health.as_str()) d=d/> })
        .collect_view();
    view! {
        <svg
            class="sparkline"
            viewBox=format!("0 0 {count} 16")
            preserveAspectRatio="none"
            role="img"
            aria-label=label
        >
            <title>{summary}</title>
            {bars}
        </svg>
    }
}

/// The sparkline's bars as one SVG path per health (at most four elements where a
/// `<rect>` per slice made 96: a page's status panel drew about 1,250 of them, half the
/// page's elements, each one for the browser to build and hydrate).
fn sparkline_paths(history: &[HistoryBucket]) -> Vec<(Health, String)> {
    let most = history.iter().map(|b| b.calls).max().unwrap_or(0).max(1);
    let mut paths: Vec<(Health, String)> = Vec::new();
    for (i, b) in history.iter().enumerate() {
        let height = if b.calls == 0 {
            1.0
        } else {
            2.0 + 14.0 * f64::from(b.calls) / f64::from(most)
        };
        let bar = format!("M{i} {:.1}h0.8v{height:.1}h-0.8z", 16.0 - height);
        match paths.iter_mut().find(|(health, _)| *health == b.worst) {
            Some((_, d)) => d.push_str(&bar),
            None => paths.push((b.worst, bar)),
        }
    }
    paths
}

/// Ticks the estimated server clock every second, and refetches the board now and then
/// so that the last-call times it judges idleness by stay fresh.
fn start_clock(
    clock: RwSignal<Option<DateTime<Utc>>>,
    skew_ms: RwSignal<i64>,
    last_good: RwSignal<Option<StatusBoard>>,
    refresh: RwSignal<u64>,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    Effect::new(move |_| {
        let running = Arc::new(AtomicBool::new(true));
        let still_running = running.clone();
        leptos::task::spawn_local(async move {
            let mut ticks = 0u64;
            loop {
                gloo_timers::future::TimeoutFuture::new(1_000).await;
                // The page may have gone (a visit to another screen) during the wait:
                // its signals are disposed then, and reading one would panic.
                if !still_running.load(Ordering::Relaxed) {
                    break;
                }
                let Some(skew) = skew_ms.try_get_untracked() else {
                    break;
                };
                clock.set(DateTime::from_timestamp_millis(
                    crate::viewer::now().timestamp_millis() + skew,
                ));
                ticks += 1;
                let idle = last_good
                    .with_untracked(|b| b.as_ref().map(|b| b.idle_after_secs))
                    .unwrap_or(600);
                if ticks.is_multiple_of((idle / 3).clamp(2, 60)) {
                    refresh.update(|n| *n += 1);
                }
            }
        });
        on_cleanup(move || running.store(false, Ordering::Relaxed));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(calls: u32, worst: Health) -> HistoryBucket {
        HistoryBucket {
            start: DateTime::<Utc>::default(),
            calls,
            failed: 0,
            worst,
        }
    }

    #[test]
    fn a_sparkline_is_one_path_per_health_with_a_bar_per_slice() {
        let history = [
            slice(10, Health::Green),
            slice(0, Health::None),
            slice(5, Health::Red),
            slice(10, Health::Green),
        ];
        assert_eq!(
            sparkline_paths(&history),
            vec![
                (
                    Health::Green,
                    "M0 0.0h0.8v16.0h-0.8zM3 0.0h0.8v16.0h-0.8z".to_string()
                ),
                (Health::None, "M1 15.0h0.8v1.0h-0.8z".to_string()),
                (Health::Red, "M2 7.0h0.8v9.0h-0.8z".to_string()),
            ]
        );
        assert!(sparkline_paths(&[]).is_empty());
    }
}
