//! People who sign in to the dashboard: their passwords (argon2id), how a sign-in is
//! checked (axum-login's backend), and how repeated wrong passwords are slowed down.

pub mod http;

pub use crate::records::people::User;
use crate::store::{Store, StoreError};
use app::people::Role;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use axum_login::{AuthUser, AuthnBackend, UserId};
use chrono::{DateTime, Utc};

use std::sync::OnceLock;
use std::time::Duration;

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    /// A new password ends every session made with the old one.
    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("a name is 1 to 64 letters, digits, '-', '_', '.' or '@'; '{0}' is not")]
    BadName(String),
    #[error("a password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    BadPassword,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// OWASP's advice for passwords without a second factor is at least 15 characters;
/// 12 is asked here, with no other composition rule.
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// argon2id with OWASP's minimum parameters: 19 MiB of memory, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP's parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, PeopleError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PeopleError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| argon2().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Checked against when the name is unknown, so that a wrong name takes as long as a
/// wrong password and names cannot be guessed by timing.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never anyone's").expect("hashing works"))
}

/// Adds a person or resets their password and role. True if they were added.
pub async fn add_user(
    store: &Store,
    name: &str,
    password: &str,
    role: Role,
) -> Result<bool, PeopleError> {
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if !valid_name {
        return Err(PeopleError::BadName(name.to_string()));
    }
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(PeopleError::BadPassword);
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| PeopleError::Hash(e.to_string()))??;
    Ok(store.upsert_user(name, &hash, role, Utc::now()).await?)
}

/// What the sign-in form sends.
#[derive(Clone)]
pub struct Credentials {
    pub name: String,
    pub password: String,
}

/// axum-login's view of the people table.
#[derive(Clone)]
pub struct People {
    pub store: Store,
}

impl AuthnBackend for People {
    type User = User;
    type Credentials = Credentials;
    type Error = StoreError;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, StoreError> {
        let user = self.store.user_by_name(creds.name.trim()).await?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| decoy_hash().to_string());
        // argon2 takes tens of milliseconds on purpose: off the async threads.
        let matches = tokio::task::spawn_blocking(move || verify_password(&creds.password, &hash))
            .await
            .unwrap_or(false);
        Ok(user.filter(|_| matches))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, StoreError> {
        self.store.user_by_id(*id).await
    }
}

/// Slows down repeated wrong passwords, per name and per address, without locking
/// anyone out for good: after `free` failures each further try must wait twice as
/// long as the last (1 s, 2 s, 4 s … at most `max_wait`), and failures are forgotten
/// `forget_after` the last one, or at once for a name when its password is right.
/// The failures are counted in the database, by every instance together.
pub struct SignInThrottle {
    store: Store,
    pub free: u32,
    pub max_wait: Duration,
    pub forget_after: Duration,
}

impl SignInThrottle {
    pub fn new(store: Store) -> Self {
        SignInThrottle {
            store,
            free: 5,
            max_wait: Duration::from_secs(60),
            forget_after: Duration::from_secs(15 * 60),
        }
    }

    fn forget_before(&self, now: DateTime<Utc>) -> i64 {
        now.timestamp_millis() - self.forget_after.as_millis() as i64
    }

    /// How long these keys must still wait before another try, if at all.
    pub async fn wait(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, StoreError> {
        let failures = self
            .store
            .sign_in_failures(keys, self.forget_before(now))
            .await?;
        let now = now.timestamp_millis();
        Ok(failures
            .into_iter()
            .filter(|(_, count, _)| *count >= i64::from(self.free))
            .map(|(_, count, last)| {
                let exponent = (count - i64::from(self.free)).min(16) as u32;
                let wait = Duration::from_secs(1 << exponent).min(self.max_wait);
                wait.saturating_sub(Duration::from_millis((now - last).max(0) as u64))
            })
            .filter(|left| !left.is_zero())
            .max())
    }

    pub async fn failed(&self, keys: &[String], now: DateTime<Utc>) -> Result<(), StoreError> {
        self.store
            .add_sign_in_failure(keys, now.timestamp_millis(), self.forget_before(now))
            .await
    }

    pub async fn succeeded(&self, key: &str) -> Result<(), StoreError> {
        self.store.forget_sign_in_failures(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_at_owasps_parameters_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
        // A fresh salt each time.
        assert_ne!(hash, hash_password("correct horse battery").unwrap());
    }

    #[tokio::test]
    async fn the_throttle_slows_repeated_failures_and_forgets_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/throttle.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let throttle = SignInThrottle::new(store.clone());
        // Another instance on the same database counts the same failures.
        let elsewhere = SignInThrottle::new(store);
        let keys = ["user:dana".to_string(), "ip:10.0.0.7".to_string()];
        let t0 = Utc::now();
        let secs = |n: i64| t0 + chrono::Duration::seconds(n);
        for n in 0..5 {
            assert_eq!(
                throttle.wait(&keys, t0).await.unwrap(),
                None,
                "the first five are free"
            );
            let instance = if n % 2 == 0 { &throttle } else { &elsewhere };
            instance.failed(&keys, t0).await.unwrap();
        }
        assert_eq!(
            elsewhere.wait(&keys, t0).await.unwrap(),
            Some(Duration::from_secs(1))
        );
        assert_eq!(throttle.wait(&keys, secs(1)).await.unwrap(), None);
        for n in 1..=10 {
            throttle.failed(&keys, t0).await.unwrap();
            let wait = elsewhere.wait(&keys, t0).await.unwrap().unwrap();
            assert_eq!(
                wait,
                Duration::from_secs(1 << n).min(Duration::from_secs(60))
            );
        }
        // Another address is slowed only by the name it tries.
        let other = ["user:sam".to_string(), "ip:10.0.0.8".to_string()];
        assert_eq!(throttle.wait(&other, t0).await.unwrap(), None);
        // Never locked for good: forgotten a quarter of an hour after the last failure.
        assert_eq!(throttle.wait(&keys, secs(15 * 60)).await.unwrap(), None);
        // A right password clears its name.
        throttle.failed(&keys, t0).await.unwrap();
        elsewhere.succeeded("user:dana").await.unwrap();
        assert_eq!(throttle.wait(&keys[..1], t0).await.unwrap(), None);
    }
}
