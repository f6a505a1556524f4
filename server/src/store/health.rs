//! The connection status: each API's judged health with the calls it was judged on,
//! and its last day in slices.

use super::db::{query, query_as, query_scalar};
use super::{from_millis, now_millis, to_millis, Dialect, Store, StoreError};
use crate::records::health::ApiCall;
use app::health::{Health, HealthFigures};
use app::marketplace::ApiKind;
use chrono::{DateTime, Utc};

/// One API's judged health, as kept.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredApiHealth {
    pub account_id: i64,
    pub api: ApiKind,
    pub health: Health,
    pub sentence: String,
    pub figures: HealthFigures,
    pub since: DateTime<Utc>,
    pub last_call_at: Option<DateTime<Utc>>,
    pub recent_calls: Vec<ApiCall>,
}

/// Calls to add to one slice of an API's history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryIncrement {
    pub account_id: i64,
    pub api: ApiKind,
    pub bucket_start: DateTime<Utc>,
    pub calls: u32,
    pub failed: u32,
    pub worst: Health,
}

/// One stored slice of an API's history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub account_id: i64,
    pub api: ApiKind,
    pub bucket_start: DateTime<Utc>,
    pub calls: u32,
    pub failed: u32,
    pub worst: Health,
}

/// Account id, API, health, sentence and last call (Unix ms) of one API.
pub type HealthSignature = (i64, String, String, String, Option<i64>);

fn rank(health: Health) -> i64 {
    match health {
        Health::None => 0,
        Health::Green => 1,
        Health::Yellow => 2,
        Health::Red => 3,
    }
}

fn from_rank(rank: i64) -> Health {
    match rank {
        1 => Health::Green,
        2 => Health::Yellow,
        3 => Health::Red,
        _ => Health::None,
    }
}

fn api_of(text: &str) -> Result<ApiKind, StoreError> {
    ApiKind::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown API '{text}'")))
}

impl Store {
    /// Keeps the latest judgements and adds calls to the history, in one transaction;
    /// history older than `keep_history_since` goes. Returns the APIs whose kept
    /// health this write changed: of several workers judging the same calls, only the
    /// one that changed it announces the change.
    pub async fn save_api_health(
        &self,
        judged: &[StoredApiHealth],
        history: &[HistoryIncrement],
        keep_history_since: DateTime<Utc>,
    ) -> Result<Vec<(i64, ApiKind)>, StoreError> {
        if judged.is_empty() && history.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        let mut changed = Vec::new();
        for row in judged {
            // Writers take turns (`write_tx`), so what is read here is what this write
            // replaces.
            let kept: Option<String> =
                query_scalar("SELECT health FROM api_health WHERE account_id = $1 AND api = $2")
                    .bind(row.account_id)
                    .bind(row.api.as_str())
                    .fetch_optional(&mut tx)
                    .await?;
            if kept.as_deref() != Some(row.health.as_str()) {
                changed.push((row.account_id, row.api));
            }
            let figures = serde_json::to_string(&row.figures)
                .map_err(|e| StoreError::Corrupt(format!("health figures: {e}")))?;
            let calls = serde_json::to_string(&row.recent_calls)
                .map_err(|e| StoreError::Corrupt(format!("recent calls: {e}")))?;
            query(
                "INSERT INTO api_health (account_id, api, health, sentence, figures, since, last_call_at, recent_calls, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (account_id, api) DO UPDATE SET
                     health = excluded.health, sentence = excluded.sentence,
                     figures = excluded.figures, since = excluded.since,
                     last_call_at = excluded.last_call_at, updated_at = excluded.updated_at",
            )
            .bind(row.account_id)
            .bind(row.api.as_str())
            .bind(row.health.as_str())
            .bind(&row.sentence)
            .bind(figures)
            .bind(to_millis(row.since))
            .bind(row.last_call_at.map(to_millis))
            .bind(calls)
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        for slice in history {
            query(
                "INSERT INTO api_health_history (account_id, api, bucket_start, calls, failed, worst)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (account_id, api, bucket_start) DO UPDATE SET
                     calls = api_health_history.calls + excluded.calls,
                     failed = api_health_history.failed + excluded.failed,
                     worst = CASE WHEN excluded.worst > api_health_history.worst
                                  THEN excluded.worst ELSE api_health_history.worst END",
            )
            .bind(slice.account_id)
            .bind(slice.api.as_str())
            .bind(to_millis(slice.bucket_start))
            .bind(i64::from(slice.calls))
            .bind(i64::from(slice.failed))
            .bind(rank(slice.worst))
            .execute(&mut tx)
            .await?;
        }
        query("DELETE FROM api_health_history WHERE bucket_start < $1")
            .bind(to_millis(keep_history_since))
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Adds one worker's new calls of an API to the calls every worker kept, and
    /// returns them all (oldest first, at most `keep`, none before `oldest` but the
    /// last): what the API is judged on, whoever made the calls. The judgement itself
    /// is kept by [`Store::save_api_health`], which leaves the calls alone.
    pub async fn add_api_calls(
        &self,
        account_id: i64,
        api: ApiKind,
        fresh: &[ApiCall],
        keep: usize,
        oldest: DateTime<Utc>,
    ) -> Result<Vec<ApiCall>, StoreError> {
        let now = now_millis();
        let mut tx = self.write_tx().await?;
        // A row to lock, for an API nobody judged yet.
        let figures = serde_json::to_string(&HealthFigures::default())
            .map_err(|e| StoreError::Corrupt(format!("health figures: {e}")))?;
        query(
            "INSERT INTO api_health (account_id, api, health, sentence, figures, since, last_call_at, recent_calls, updated_at)
             VALUES ($1, $2, 'none', '', $3, $4, NULL, '[]', $4)
             ON CONFLICT (account_id, api) DO NOTHING",
        )
        .bind(account_id)
        .bind(api.as_str())
        .bind(figures)
        .bind(now)
        .execute(&mut tx)
        .await?;
        // PostgreSQL's writers do not queue on their own: the row is locked until the
        // calls are written back (SQLite's write lock is the whole database's).
        let lock = match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        };
        let stored: String = query_scalar(format!(
            "SELECT recent_calls FROM api_health WHERE account_id = $1 AND api = $2{lock}"
        ))
        .bind(account_id)
        .bind(api.as_str())
        .fetch_one(&mut tx)
        .await?;
        let mut calls: Vec<ApiCall> = serde_json::from_str(&stored)
            .map_err(|e| StoreError::Corrupt(format!("recent calls: {e}")))?;
        calls.extend(fresh.iter().cloned());
        calls.sort_by_key(|c| c.at);
        calls.dedup();
        let mut start = calls.len().saturating_sub(keep);
        while start + 1 < calls.len() && calls[start].at < oldest {
            start += 1;
        }
        let calls = calls.split_off(start);
        let json = serde_json::to_string(&calls)
            .map_err(|e| StoreError::Corrupt(format!("recent calls: {e}")))?;
        query("UPDATE api_health SET recent_calls = $1 WHERE account_id = $2 AND api = $3")
            .bind(json)
            .bind(account_id)
            .bind(api.as_str())
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(calls)
    }

    /// Every API's kept health; with the calls judged only when `with_calls` (the
    /// monitor needs them, the status board does not).
    pub async fn api_health(&self, with_calls: bool) -> Result<Vec<StoredApiHealth>, StoreError> {
        let rows = query(
            "SELECT account_id, api, health, sentence, figures, since, last_call_at,
                    CASE WHEN $1 THEN recent_calls ELSE '[]' END AS recent_calls
             FROM api_health ORDER BY account_id, api",
        )
        .bind(with_calls)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let api: String = row.try_get("api")?;
                let health: String = row.try_get("health")?;
                let figures: String = row.try_get("figures")?;
                let calls: String = row.try_get("recent_calls")?;
                Ok(StoredApiHealth {
                    account_id: row.try_get("account_id")?,
                    api: api_of(&api)?,
                    health: Health::parse(&health)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown health '{health}'")))?,
                    sentence: row.try_get("sentence")?,
                    figures: serde_json::from_str(&figures)
                        .map_err(|e| StoreError::Corrupt(format!("health figures: {e}")))?,
                    since: from_millis(row.try_get("since")?)?,
                    last_call_at: row
                        .try_get::<Option<i64>, _>("last_call_at")?
                        .map(from_millis)
                        .transpose()?,
                    recent_calls: serde_json::from_str(&calls)
                        .map_err(|e| StoreError::Corrupt(format!("recent calls: {e}")))?,
                })
            })
            .collect()
    }

    /// What the status feed watches, cheaply: each API's health, sentence and last call.
    pub async fn api_health_signature(&self) -> Result<Vec<HealthSignature>, StoreError> {
        Ok(query_as(
            "SELECT account_id, api, health, sentence, last_call_at FROM api_health ORDER BY account_id, api",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// History slices that start at or after `since`, oldest first.
    pub async fn api_health_history(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let rows = query(
            "SELECT account_id, api, bucket_start, calls, failed, worst FROM api_health_history
             WHERE bucket_start >= $1 ORDER BY account_id, api, bucket_start",
        )
        .bind(to_millis(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let api: String = row.try_get("api")?;
                Ok(HistoryRow {
                    account_id: row.try_get("account_id")?,
                    api: api_of(&api)?,
                    bucket_start: from_millis(row.try_get("bucket_start")?)?,
                    calls: row.try_get::<i64, _>("calls")? as u32,
                    failed: row.try_get::<i64, _>("failed")? as u32,
                    worst: from_rank(row.try_get("worst")?),
                })
            })
            .collect()
    }
}
