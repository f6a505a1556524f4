//! Marketplace credentials at rest: sealed with ChaCha20-Poly1305 under a key given to
//! the server (a file or an environment variable), never stored, logged or shown in
//! the clear.
//!
//! A sealed value reads `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The key
//! id (the first 8 hex digits of the key's SHA-256) says which key sealed it, so that a
//! keyring holding the new key and the old ones reads both while `shipback keys rotate`
//! reseals. Each value is bound to its account and field (associated data), so a sealed
//! secret copied into another row does not open.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret in memory: it can be used, but `Debug` shows no part of it and there is no
/// `Display` nor `Serialize`, so it cannot reach a log line or an answer by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it to the marketplace.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no secret key: give one with --secret-key-file PATH or SHIPBACK_SECRET_KEY \
         (base64 of 32 bytes); `shipback keys generate --out PATH` makes one"
    )]
    NoKey,
    #[error("the secret key in {0} is not base64 of 32 bytes")]
    BadKey(String),
    #[error("cannot read or write the secret key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("credentials sealed with key {0}, which is not in the keyring (a rotated-away key?)")]
    UnknownKey(String),
    #[error("credentials for {0} do not open with their key: damaged, or moved from another row")]
    Damaged(String),
}

const PREFIX: &str = "enc:v1:";

/// One 256-bit key.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; 32],
    id: String,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    pub fn generate() -> SecretKey {
        SecretKey::from_bytes(ChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    pub fn from_bytes(key: [u8; 32]) -> SecretKey {
        let digest = Sha256::digest(key);
        let id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        SecretKey { key, id }
    }

    /// Reads base64 (standard) of 32 bytes, as written by [`SecretKey::to_base64`].
    pub fn from_base64(text: &str, source: &str) -> Result<SecretKey, SecretError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SecretError::BadKey(source.to_string()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SecretError::BadKey(source.to_string()))?;
        Ok(SecretKey::from_bytes(key))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.key)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn read_file(path: &Path) -> Result<SecretKey, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::KeyFile {
            path: path.to_path_buf(),
            source,
        })?;
        SecretKey::from_base64(&text, &path.display().to_string())
    }

    /// Writes the key to a new file only its owner can read.
    pub fn write_new_file(&self, path: &Path) -> Result<(), SecretError> {
        use std::io::Write;
        let error = |source| SecretError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(error)?;
        writeln!(file, "{}", self.to_base64()).map_err(error)
    }
}

/// The key that seals, and older ones that still open.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl Keyring {
    pub fn new(current: SecretKey) -> Keyring {
        Keyring {
            current,
            previous: Vec::new(),
        }
    }

    /// Also opens what `old` sealed (while rotating).
    pub fn with_previous(mut self, old: SecretKey) -> Keyring {
        self.previous.push(old);
        self
    }

    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// Seals `secret`, bound to `context` (the account and field it belongs to).
    pub fn seal(&self, secret: &Secret, context: &str) -> String {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.current.key));
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 seals any message under 256 GB");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!(
            "{PREFIX}{}:{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    /// Opens a value written by [`Keyring::seal`] for the same `context`.
    pub fn open(&self, stored: &str, context: &str) -> Result<Secret, SecretError> {
        let damaged = || SecretError::Damaged(context.to_string());
        let rest = stored.strip_prefix(PREFIX).ok_or_else(damaged)?;
        let (id, data) = rest.split_once(':').ok_or_else(damaged)?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_string()))?;
        let bytes = URL_SAFE_NO_PAD.decode(data).map_err(|_| damaged())?;
        if bytes.len() < 12 {
            return Err(damaged());
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = ChaCha20Poly1305::new(Key::from_slice(&key.key))
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| damaged())?;
        String::from_utf8(plain).map(Secret).map_err(|_| damaged())
    }

    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }

    /// Whether `stored` was sealed with a key other than the current one.
    pub fn needs_reseal(&self, stored: &str) -> bool {
        !stored
            .strip_prefix(PREFIX)
            .is_some_and(|rest| rest.starts_with(&format!("{}:", self.current.id)))
    }
}

/// Where the key comes from: `--secret-key-file`, else `SHIPBACK_SECRET_KEY`, else
/// `secret.key` beside the database file (made there by the demo).
pub fn load_key(file: Option<&Path>, database_url: &str) -> Result<SecretKey, SecretError> {
    if let Some(path) = file {
        return SecretKey::read_file(path);
    }
    if let Ok(text) = std::env::var("SHIPBACK_SECRET_KEY") {
        return SecretKey::from_base64(&text, "SHIPBACK_SECRET_KEY");
    }
    let beside = key_beside_database(database_url).ok_or(SecretError::NoKey)?;
    if beside.exists() {
        SecretKey::read_file(&beside)
    } else {
        Err(SecretError::NoKey)
    }
}

/// `secret.key` in the database file's folder.
pub fn key_beside_database(database_url: &str) -> Option<PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = Path::new(path.split('?').next().unwrap_or(path));
    Some(path.parent().unwrap_or(Path::new(".")).join("secret.key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let keyring = Keyring::new(SecretKey::generate());
        let secret = Secret::new("Atzr|refresh-token");
        let sealed = keyring.seal(&secret, "acme-us/refresh_token");
        assert!(sealed.starts_with(&format!("enc:v1:{}:", keyring.current_id())));
        assert!(!sealed.contains("refresh-token"));
        assert_eq!(
            keyring.open(&sealed, "acme-us/refresh_token").unwrap(),
            secret
        );
        // A fresh nonce each time.
        assert_ne!(sealed, keyring.seal(&secret, "acme-us/refresh_token"));
        // Moved to another account or field: refused.
        assert!(matches!(
            keyring.open(&sealed, "other/refresh_token"),
            Err(SecretError::Damaged(_))
        ));
        // Another key: refused, by name.
        let other = Keyring::new(SecretKey::generate());
        assert!(matches!(
            other.open(&sealed, "acme-us/refresh_token"),
            Err(SecretError::UnknownKey(_))
        ));
        // Tampered: refused.
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(keyring.open(&tampered, "acme-us/refresh_token").is_err());
    }

    #[test]
    fn a_keyring_with_the_old_key_opens_old_values_and_knows_to_reseal_them() {
        let old = SecretKey::generate();
        let sealed = Keyring::new(old.clone()).seal(&Secret::new("s"), "a/client_secret");
        let rotated = Keyring::new(SecretKey::generate()).with_previous(old);
        assert_eq!(
            rotated.open(&sealed, "a/client_secret").unwrap().expose(),
            "s"
        );
        assert!(rotated.needs_reseal(&sealed));
        assert!(!rotated.needs_reseal(&rotated.seal(&Secret::new("s"), "a/client_secret")));
    }

    #[test]
    fn debug_never_shows_a_secret_and_keys_round_trip_through_base64() {
        assert_eq!(
            format!("{:?}", Secret::new("hunter2")),
            "Secret([redacted])"
        );
        let key = SecretKey::generate();
        let again = SecretKey::from_base64(&key.to_base64(), "test").unwrap();
        assert_eq!(again.id(), key.id());
        assert!(!format!("{key:?}").contains(&key.to_base64()));
        assert!(SecretKey::from_base64("c2hvcnQ=", "test").is_err());
    }
}
