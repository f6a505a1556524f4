//! The dashboard's sessions, for tower-sessions. Only the SHA-256 of a session id is
//! stored: the id is the cookie's secret, and a copy of the database must not hold
//! one that signs anybody in.

use super::db::{query, query_as};
use super::{now_millis, Store, StoreError};
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// The sessions' table, seen through tower-sessions' interface.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions")
    }
}

impl Store {
    /// Where tower-sessions keeps the sessions.
    pub fn session_store(&self) -> Sessions {
        Sessions {
            store: self.clone(),
        }
    }
}

fn id_hash(id: &Id) -> Vec<u8> {
    Sha256::digest(id.0.to_le_bytes()).to_vec()
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry_millis(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

impl Sessions {
    /// Inserts the record; `false` when its id is taken (tower-sessions then draws
    /// another).
    async fn insert(&self, record: &Record) -> Result<bool, StoreError> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| StoreError::Corrupt(format!("session data: {e}")))?;
        let mut tx = self.store.write_tx().await?;
        let inserted = query(
            "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id_hash) DO NOTHING",
        )
        .bind(id_hash(&record.id))
        .bind(data)
        .bind(expiry_millis(record))
        .execute(&mut tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(inserted)
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.insert(record).await.map_err(backend)? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let mut tx = self.store.write_tx().await.map_err(backend)?;
        query(
            "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data,
                 expires_at = excluded.expires_at",
        )
        .bind(id_hash(&record.id))
        .bind(data)
        .bind(expiry_millis(record))
        .execute(&mut tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> = query_as(
            "SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash(session_id))
        .bind(now_millis())
        .fetch_optional(&self.store.pool)
        .await
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires_at) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *session_id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let mut tx = self.store.write_tx().await.map_err(backend)?;
        query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash(session_id))
            .execute(&mut tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let mut tx = self.store.write_tx().await.map_err(backend)?;
        query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_millis())
            .execute(&mut tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
}
