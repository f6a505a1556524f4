//! A person who signs in, as stored.

use app::people::Role;
use chrono::{DateTime, Utc};
use std::fmt;

/// A person as stored. Debug leaves the password hash out, so that it never reaches a log.
#[derive(Clone)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// Their own time zone (an IANA name); `None` follows the site's.
    pub time_zone: Option<String>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}
