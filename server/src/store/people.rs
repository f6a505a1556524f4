//! People who sign in, and the pool their sessions are kept in.

use super::db::{query, DbRow};
use super::{from_millis, to_millis, Store, StoreError};
use crate::records::people::User;
use app::people::Role;
use chrono::{DateTime, Utc};

impl Store {
    /// Adds a person, or gives an existing one a new password and role. True if added.
    pub async fn upsert_user(
        &self,
        name: &str,
        password_hash: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let existed = query("SELECT 1 FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut tx)
            .await?
            .is_some();
        query(
            "INSERT INTO users (name, password_hash, role, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,
                                              role = excluded.role",
        )
        .bind(name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(to_millis(now))
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(!existed)
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        query("SELECT id, name, password_hash, role, created_at, time_zone FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| user_from_row(&row))
            .transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        query(
            "SELECT id, name, password_hash, role, created_at, time_zone FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| user_from_row(&row))
        .transpose()
    }

    /// Keeps a person's own time zone (`None`: the site's). False if there is no such person.
    pub async fn set_user_time_zone(
        &self,
        name: &str,
        time_zone: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let updated = query("UPDATE users SET time_zone = $1 WHERE name = $2")
            .bind(time_zone)
            .bind(name)
            .execute(&mut tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(updated > 0)
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        query(
            "SELECT id, name, password_hash, role, created_at, time_zone FROM users ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }
}

fn user_from_row(row: &DbRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role '{role}'")))?,
        created_at: from_millis(row.try_get("created_at")?)?,
        time_zone: row.try_get("time_zone")?,
    })
}
