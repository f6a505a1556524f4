//! Connection status: how each marketplace API of each account is doing, as the status
//! panel and `GET /api/v1/status` show it. The server judges the calls (see the
//! `health` module of the server); these are the judgements, shared with the browser.

use crate::marketplace::ApiKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The manual's status key. Ordered by severity, so that `max` is the worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Unknown: the API has not run for a while, or its status cannot be read.
    None,
    /// Connected and operating normally.
    Green,
    /// Higher than normal error rates, or degraded performance (slow, throttled).
    Yellow,
    /// Unavailable, or extremely high error rates.
    Red,
}

impl Health {
    pub const ALL: [Health; 4] = [Health::Green, Health::Yellow, Health::Red, Health::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Health::None => "none",
            Health::Green => "green",
            Health::Yellow => "yellow",
            Health::Red => "red",
        }
    }

    pub fn parse(text: &str) -> Option<Health> {
        Self::ALL.into_iter().find(|h| h.as_str() == text)
    }

    /// One letter for it, where a history carries one per slice ([`PanelBoard`]).
    pub fn letter(self) -> char {
        match self {
            Health::None => 'n',
            Health::Green => 'g',
            Health::Yellow => 'y',
            Health::Red => 'r',
        }
    }

    pub fn from_letter(letter: char) -> Option<Health> {
        Self::ALL.into_iter().find(|h| h.letter() == letter)
    }

    pub fn label(self) -> &'static str {
        match self {
            Health::None => "None",
            Health::Green => "Green",
            Health::Yellow => "Yellow",
            Health::Red => "Red",
        }
    }

    /// Shown beside the colour and the word, so that colour is never alone.
    pub fn icon(self) -> &'static str {
        match self {
            Health::None => "?",
            Health::Green => "✓",
            Health::Yellow => "!",
            Health::Red => "✕",
        }
    }
}

/// The last failed call of an API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastError {
    pub at: DateTime<Utc>,
    pub http_status: Option<u16>,
    /// The marketplace's error code, or Shipback's (`Timeout`, `NetworkError`).
    pub code: String,
    pub message: String,
}

/// The figures a judgement rests on: the calls in the window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthFigures {
    /// Calls in the window (the last `window_minutes`, at most the window's count).
    pub calls: u32,
    /// Of those, failed: no answer, server errors, refused credentials, unreadable answers.
    pub failed: u32,
    /// Of those, refused for rate (HTTP 429, eBay 518).
    pub throttled: u32,
    /// Of those, answered slower than the slow-call threshold.
    pub slow: u32,
    /// Failures in a row, up to the latest call.
    pub consecutive_failures: u32,
    pub window_minutes: u32,
    pub median_latency_ms: Option<u64>,
    pub slowest_latency_ms: Option<u64>,
    pub last_error: Option<LastError>,
}

/// One slice of an API's last 24 hours: how many calls, how many failed, and the worst
/// health it had in that slice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryBucket {
    pub start: DateTime<Utc>,
    pub calls: u32,
    pub failed: u32,
    pub worst: Health,
}

/// One API of one account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiStatus {
    pub api: ApiKind,
    pub health: Health,
    /// One plain sentence a warehouse user understands; with its figures for every
    /// status but Green.
    pub sentence: String,
    pub figures: HealthFigures,
    /// Since when the API has had this health (`None`: never judged).
    pub since: Option<DateTime<Utc>>,
    pub last_call_at: Option<DateTime<Utc>>,
    /// The last 24 hours, oldest first, one bucket per [`StatusBoard::bucket_minutes`].
    pub history: Vec<HistoryBucket>,
    /// Shipments waiting behind this API (paused by the marketplace's trouble, or held
    /// by the account's own problem): none is sent until it works again.
    #[serde(default)]
    pub waiting: u64,
    /// Red because Shipback cannot use the account (its credentials or settings),
    /// whatever the calls said: it stays so, idle or not, until an admin corrects it.
    #[serde(default)]
    pub held: bool,
}

/// One registered and enabled account, with each of its APIs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountStatus {
    pub account: String,
    pub name: String,
    pub company: String,
    /// `amazon` or `ebay`.
    pub marketplace: String,
    pub apis: Vec<ApiStatus>,
    /// Why Shipback cannot use the account ("Shipback cannot read this account's
    /// credentials: …"); its APIs are Red with this sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Its shipments not yet confirmed that are due within the warning time, and late.
    #[serde(default)]
    pub deadlines: crate::deadlines::DeadlineCounts,
}

/// The connection-status panel: every enabled account, every API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusBoard {
    pub generated_at: DateTime<Utc>,
    /// An API with no call for this long is None.
    pub idle_after_secs: u64,
    pub bucket_minutes: u32,
    pub accounts: Vec<AccountStatus>,
    /// Shipments waiting on something rather than due (a paused API, a disabled or
    /// unusable account, an unmapped carrier), across all accounts.
    #[serde(default)]
    pub waiting: u64,
    /// "Due soon" means due within this many minutes (`--deadline-warning`).
    #[serde(default = "default_warning")]
    pub deadline_warning_minutes: u32,
}

fn default_warning() -> u32 {
    crate::deadlines::DEFAULT_WARNING_MINUTES
}

impl StatusBoard {
    /// The board as the API carries it: the times in its kept sentences in UTC
    /// ([`crate::timed_text`]).
    pub fn times_in_utc(mut self) -> StatusBoard {
        for api in self.accounts.iter_mut().flat_map(|a| a.apis.iter_mut()) {
            if let std::borrow::Cow::Owned(drawn) = crate::timed_text::draw_utc(&api.sentence) {
                api.sentence = drawn;
            }
        }
        self
    }
}

impl ApiStatus {
    /// The status as of `now`: an API that made no call within `idle_after` is None,
    /// whatever it was before. Both the server and the browser's clock apply it, so that
    /// None shows on time even when no event arrives.
    pub fn as_of(&self, now: DateTime<Utc>, idle_after_secs: u64) -> ApiStatus {
        let idle = chrono::Duration::seconds(idle_after_secs as i64);
        let stale = match self.last_call_at {
            Some(last) => now - last >= idle,
            None => true,
        };
        if !stale || self.health == Health::None || self.held {
            return self.clone();
        }
        let since = self.last_call_at.map(|last| last + idle);
        ApiStatus {
            health: Health::None,
            sentence: idle_sentence(self.last_call_at, idle_after_secs),
            since,
            ..self.clone()
        }
    }
}

/// Why an API is None for want of calls.
pub fn idle_sentence(last_call_at: Option<DateTime<Utc>>, idle_after_secs: u64) -> String {
    match last_call_at {
        Some(last) => format!(
            "Unknown: no call in the last {}; the last one was at {}.",
            span(idle_after_secs),
            crate::components::format::time_of_day(last)
        ),
        None => "Unknown: Shipback has not called this API yet.".to_string(),
    }
}

/// `600` → "10 minutes", `45` → "45 seconds".
pub fn span(secs: u64) -> String {
    match secs {
        s if s % 3600 == 0 && s >= 3600 => plural(s / 3600, "hour"),
        s if s % 60 == 0 && s >= 60 => plural(s / 60, "minute"),
        s => plural(s, "second"),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// What a `status` event says: the board's version, and the accounts whose part of it
/// changed (`None`: not said, read the whole board).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusPush {
    pub version: u64,
    pub accounts: Option<Vec<String>>,
}

impl StatusPush {
    /// Reads an event's data: `7`, or `{"version":7,"accounts":["acme-us"]}`.
    pub fn parse(data: &str) -> Option<StatusPush> {
        if let Ok(version) = data.trim().parse() {
            return Some(StatusPush {
                version,
                accounts: None,
            });
        }
        #[derive(Deserialize)]
        struct Said {
            version: u64,
            accounts: Option<Vec<String>>,
        }
        let said: Said = crate::wire::decode_text(data).ok()?;
        Some(StatusPush {
            version: said.version,
            accounts: said.accounts,
        })
    }

    /// The accounts to read, when reading them alone is enough: the page has the
    /// version before this one (it missed none) and the event named them.
    pub fn accounts_after(&self, seen: Option<u64>) -> Option<&[String]> {
        (seen? + 1 == self.version)
            .then_some(self.accounts.as_deref())
            .flatten()
    }
}

impl StatusBoard {
    /// Takes in a board read for some accounts alone: those accounts replace their
    /// earlier part, the board's own figures are the newer ones. `false` when it names
    /// an account this board does not show (the whole board must be read).
    pub fn merge(&mut self, part: StatusBoard) -> bool {
        for account in part.accounts {
            match self
                .accounts
                .iter_mut()
                .find(|a| a.account == account.account)
            {
                Some(shown) => *shown = account,
                None => return false,
            }
        }
        self.generated_at = part.generated_at;
        self.idle_after_secs = part.idle_after_secs;
        self.bucket_minutes = part.bucket_minutes;
        self.waiting = part.waiting;
        self.deadline_warning_minutes = part.deadline_warning_minutes;
        true
    }
}

/// The board as the panel reads it: its server function's answer, and the data a
/// server-drawn page hands to hydration. The same board, but each API's 24 hours go as
/// columns (`calls`, `failed`, one letter per slice for the worst health) instead of 96
/// objects with their start times: as objects they were nine tenths of the board's bytes
/// and near half of the shipments page's. `GET /api/v1/status` keeps the documented form.
#[derive(Clone, Debug, PartialEq)]
pub struct PanelBoard(pub StatusBoard);

/// [`PanelBoard`] on the wire: the board with its histories taken out, and the
/// histories in the order of its accounts and their APIs.
#[derive(Serialize, Deserialize)]
struct PanelWire {
    board: StatusBoard,
    histories: Vec<HistoryColumns>,
}

#[derive(Serialize, Deserialize)]
struct HistoryColumns {
    /// The first slice's start (`None`: no slice).
    from: Option<DateTime<Utc>>,
    /// The slices follow one another every this many seconds.
    step_secs: i64,
    calls: Vec<u32>,
    failed: Vec<u32>,
    /// One letter per slice: `n`one, `g`reen, `y`ellow, `r`ed.
    worst: String,
    /// Each slice's start in seconds after `from`, only when they are not evenly spaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    offsets: Vec<i64>,
}

impl HistoryColumns {
    fn of(history: &[HistoryBucket]) -> HistoryColumns {
        let from = history.first().map(|b| b.start);
        let offset = |b: &HistoryBucket| from.map_or(0, |from| (b.start - from).num_seconds());
        let step_secs = history.get(1).map_or(0, offset);
        let even = history
            .iter()
            .enumerate()
            .all(|(i, b)| offset(b) == step_secs * i as i64);
        HistoryColumns {
            from,
            step_secs,
            calls: history.iter().map(|b| b.calls).collect(),
            failed: history.iter().map(|b| b.failed).collect(),
            worst: history.iter().map(|b| b.worst.letter()).collect(),
            offsets: if even {
                Vec::new()
            } else {
                history.iter().map(offset).collect()
            },
        }
    }

    fn buckets(self) -> Result<Vec<HistoryBucket>, String> {
        let worst: Vec<char> = self.worst.chars().collect();
        let n = self.calls.len();
        if self.failed.len() != n
            || worst.len() != n
            || !(self.offsets.is_empty() || self.offsets.len() == n)
        {
            return Err("a history's columns differ in length".into());
        }
        let Some(from) = self.from else {
            return Ok(Vec::new());
        };
        (0..n)
            .map(|i| {
                let offset = match self.offsets.get(i) {
                    Some(offset) => *offset,
                    None => self.step_secs * i as i64,
                };
                Ok(HistoryBucket {
                    start: from + chrono::Duration::seconds(offset),
                    calls: self.calls[i],
                    failed: self.failed[i],
                    worst: Health::from_letter(worst[i])
                        .ok_or_else(|| format!("'{}' is no health", worst[i]))?,
                })
            })
            .collect()
    }
}

impl Serialize for PanelBoard {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut board = self.0.clone();
        let histories = board
            .accounts
            .iter_mut()
            .flat_map(|a| a.apis.iter_mut())
            .map(|api| HistoryColumns::of(&std::mem::take(&mut api.history)))
            .collect();
        PanelWire { board, histories }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PanelBoard {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let PanelWire {
            mut board,
            histories,
        } = PanelWire::deserialize(deserializer)?;
        let apis: Vec<&mut ApiStatus> = board
            .accounts
            .iter_mut()
            .flat_map(|a| a.apis.iter_mut())
            .collect();
        if apis.len() != histories.len() {
            return Err(D::Error::custom("one history per API"));
        }
        for (api, history) in apis.into_iter().zip(histories) {
            api.history = history.buckets().map_err(D::Error::custom)?;
        }
        Ok(PanelBoard(board))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn status(health: Health, last_call_at: Option<DateTime<Utc>>) -> ApiStatus {
        ApiStatus {
            api: ApiKind::Writeback,
            health,
            sentence: "Connected and operating normally.".into(),
            figures: HealthFigures::default(),
            since: last_call_at,
            last_call_at,
            history: Vec::new(),
            waiting: 0,
            held: false,
        }
    }

    #[test]
    fn turns_none_exactly_at_the_idle_time() {
        let last = Utc.with_ymd_and_hms(2026, 11, 25, 14, 2, 0).unwrap();
        let green = status(Health::Green, Some(last));
        let just_before = last + chrono::Duration::seconds(599);
        assert_eq!(green.as_of(just_before, 600).health, Health::Green);
        let at = last + chrono::Duration::seconds(600);
        let idle = green.as_of(at, 600);
        assert_eq!(idle.health, Health::None);
        assert_eq!(idle.since, Some(at));
        assert_eq!(
            idle.sentence,
            "Unknown: no call in the last 10 minutes; the last one was at 14:02:00 UTC."
        );
        // A Red API that stops calling is unknown too: nobody knows it is still down.
        assert_eq!(
            status(Health::Red, Some(last)).as_of(at, 600).health,
            Health::None
        );
    }

    #[test]
    fn never_called_is_none() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 14, 2, 0).unwrap();
        let s = status(Health::None, None).as_of(now, 600);
        assert_eq!(s.health, Health::None);
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(600), "10 minutes");
        assert_eq!(span(60), "1 minute");
        assert_eq!(span(45), "45 seconds");
        assert_eq!(span(7200), "2 hours");
        assert_eq!(span(90), "90 seconds");
    }

    #[test]
    fn a_status_event_names_what_changed_or_nothing() {
        assert_eq!(
            StatusPush::parse("7"),
            Some(StatusPush {
                version: 7,
                accounts: None
            })
        );
        let push = StatusPush::parse(r#"{"version":8,"accounts":["acme-us","ebay-1"]}"#).unwrap();
        assert_eq!(push.version, 8);
        // Read alone only right after the version the page has.
        assert_eq!(
            push.accounts_after(Some(7)),
            Some(&["acme-us".to_string(), "ebay-1".to_string()][..])
        );
        assert_eq!(push.accounts_after(Some(6)), None, "a version was missed");
        assert_eq!(push.accounts_after(None), None, "nothing read yet");
        assert_eq!(StatusPush::parse("not an event"), None);
    }

    #[test]
    fn a_part_of_the_board_replaces_its_accounts_and_the_figures() {
        let account = |key: &str, late: u64| AccountStatus {
            account: key.into(),
            name: key.into(),
            company: String::new(),
            marketplace: "amazon".into(),
            apis: Vec::new(),
            problem: None,
            deadlines: crate::deadlines::DeadlineCounts { due_soon: 0, late },
        };
        let board = |accounts: Vec<AccountStatus>, waiting: u64| StatusBoard {
            generated_at: Utc::now(),
            idle_after_secs: 600,
            bucket_minutes: 15,
            accounts,
            waiting,
            deadline_warning_minutes: 1440,
        };
        let mut shown = board(vec![account("a", 0), account("b", 0)], 0);
        assert!(shown.merge(board(vec![account("b", 3)], 5)));
        assert_eq!(shown.accounts[0].deadlines.late, 0);
        assert_eq!(shown.accounts[1].deadlines.late, 3);
        assert_eq!(shown.waiting, 5);
        assert!(
            !shown.merge(board(vec![account("new", 0)], 5)),
            "not shown: read all"
        );
    }

    #[test]
    fn the_panel_carries_the_board_whole_in_fewer_bytes() {
        let start = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let slice = |i: i64, worst: Health| HistoryBucket {
            start: start + chrono::Duration::minutes(15 * i),
            calls: i as u32 * 7,
            failed: i as u32 % 3,
            worst,
        };
        let mut even = status(Health::Yellow, Some(start));
        even.history = (0..96)
            .map(|i| slice(i, Health::ALL[i as usize % 4]))
            .collect();
        let mut uneven = status(Health::Green, None);
        uneven.history = vec![
            slice(0, Health::Green),
            slice(5, Health::Red),
            slice(6, Health::None),
        ];
        let board = StatusBoard {
            generated_at: start,
            idle_after_secs: 600,
            bucket_minutes: 15,
            accounts: vec![AccountStatus {
                account: "acme-us".into(),
                name: "Acme".into(),
                company: String::new(),
                marketplace: "amazon".into(),
                apis: vec![even, status(Health::None, None), uneven],
                problem: None,
                deadlines: Default::default(),
            }],
            waiting: 2,
            deadline_warning_minutes: 1440,
        };
        let panel = serde_json::to_string(&PanelBoard(board.clone())).unwrap();
        let read: PanelBoard = serde_json::from_str(&panel).unwrap();
        assert_eq!(read.0, board);
        let full = serde_json::to_string(&board).unwrap();
        assert!(
            panel.len() * 3 < full.len(),
            "{} against {}",
            panel.len(),
            full.len()
        );

        let broken = panel.replacen("\"worst\":\"gyrn", "\"worst\":\"gyrx", 1);
        assert_ne!(broken, panel);
        assert!(serde_json::from_str::<PanelBoard>(&broken).is_err());
    }
}
