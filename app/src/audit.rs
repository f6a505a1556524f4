//! The audit log: who did what to what, when and from where. Shown to admins.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// A person's name, `token:NAME` for the station API, or `command line`.
    pub actor: String,
    /// The person's role, or the token's scopes.
    pub role: String,
    /// `sign_in`, `sign_in_refused`, `sign_out`, `retry`, `confirm`, `user_add`,
    /// `token_create`, `token_revoke`.
    pub action: String,
    /// The shipment, person or token acted on.
    pub target: String,
    pub detail: String,
    /// The client's address, or `local` for the command line.
    pub address: String,
}

/// How many entries the audit page shows, newest first; the export has them all.
pub const AUDIT_PAGE_ROWS: u32 = 500;

/// The audit log as CSV, for admins.
pub const AUDIT_EXPORT_PATH: &str = "/export/audit.csv";
