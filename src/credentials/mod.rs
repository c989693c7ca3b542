//! A profile's secret in the OS keyring (Secret Service, macOS Keychain, Windows
//! Credential Manager), or — when no keyring answers — in a mode-0600 file in the
//! data dir. The caller is told which, so it can warn once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The keyring service name every tok credential is stored under.
pub const SERVICE: &str = "tok";

/// `TOK_CREDENTIAL_STORE`: where secrets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The OS keyring, else the fallback file (with a warning).
    Auto,
    /// The OS keyring only; fail when it does not answer.
    Keyring,
    /// The mode-0600 file only.
    File,
}

impl std::str::FromStr for StoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(StoreKind::Auto),
            "keyring" => Ok(StoreKind::Keyring),
            "file" => Ok(StoreKind::File),
            other => Err(format!(
                "invalid TOK_CREDENTIAL_STORE '{other}': use auto, keyring or file"
            )),
        }
    }
}

/// Where a secret was found or put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Keyring,
    File(PathBuf),
}

/// The result of storing a secret. `fallback` says why the keyring was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub location: Location,
    pub fallback: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the OS keyring is not available: {0}")]
    KeyringUnavailable(String),
    #[error("the OS keyring refused the request: {0}")]
    Keyring(String),
    #[error("cannot use the credentials file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("{0}")]
    Config(String),
}

impl From<CredentialError> for Error {
    fn from(e: CredentialError) -> Self {
        let err = Error::other(e.to_string()).with_code("credential_store");
        match e {
            CredentialError::KeyringUnavailable(_) => err.with_hint(
                "unlock or start your keyring, or set TOK_CREDENTIAL_STORE=file to use a \
                 mode-0600 file instead",
            ),
            _ => err,
        }
    }
}

/// The credential store for one user: keyring first, file as the fallback.
#[derive(Debug, Clone)]
pub struct Credentials {
    kind: StoreKind,
    file: PathBuf,
}

impl Credentials {
    pub fn new(kind: StoreKind, data_dir: &Path) -> Credentials {
        Credentials {
            kind,
            file: data_dir.join("credentials.json"),
        }
    }

    /// The store `TOK_CREDENTIAL_STORE` asks for, with its fallback file in `data_dir`.
    pub fn from_env(data_dir: &Path) -> Result<Credentials, CredentialError> {
        let kind = std::env::var("TOK_CREDENTIAL_STORE")
            .unwrap_or_default()
            .parse()
            .map_err(CredentialError::Config)?;
        Ok(Credentials::new(kind, data_dir))
    }

    /// The fallback file's path.
    pub fn file_path(&self) -> &Path {
        &self.file
    }

    /// Stores `secret` for `account` (a profile name), replacing any earlier one.
    pub fn set(&self, account: &str, secret: &str) -> Result<Stored, CredentialError> {
        let fallback = match self.kind {
            StoreKind::File => None,
            _ => {
                match keyring_entry(account).and_then(|e| keyring_result(e.set_password(secret))) {
                    Ok(()) => {
                        // A stale copy in the file would shadow nothing, but must not linger.
                        self.file_remove(account)?;
                        return Ok(Stored {
                            location: Location::Keyring,
                            fallback: None,
                        });
                    }
                    Err(CredentialError::KeyringUnavailable(why))
                        if self.kind == StoreKind::Auto =>
                    {
                        Some(why)
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let mut all = self.file_read()?;
        all.insert(account.to_string(), secret.to_string());
        self.file_write(&all)?;
        Ok(Stored {
            location: Location::File(self.file.clone()),
            fallback,
        })
    }

    /// The secret for `account` and where it was found, or `None`.
    pub fn get(&self, account: &str) -> Result<Option<(String, Location)>, CredentialError> {
        if self.kind != StoreKind::File {
            match keyring_entry(account).and_then(|e| keyring_result(e.get_password())) {
                Ok(secret) => return Ok(Some((secret, Location::Keyring))),
                Err(CredentialError::Keyring(why)) if why == NO_ENTRY => {}
                Err(CredentialError::KeyringUnavailable(_)) if self.kind == StoreKind::Auto => {}
                Err(e) => return Err(e),
            }
        }
        if self.kind == StoreKind::Keyring {
            return Ok(None);
        }
        Ok(self
            .file_read()?
            .remove(account)
            .map(|s| (s, Location::File(self.file.clone()))))
    }

    /// Removes the secret for `account` wherever it is; `true` when one existed.
    pub fn delete(&self, account: &str) -> Result<bool, CredentialError> {
        let mut found = false;
        if self.kind != StoreKind::File {
            match keyring_entry(account).and_then(|e| keyring_result(e.delete_credential())) {
                Ok(()) => found = true,
                Err(CredentialError::Keyring(why)) if why == NO_ENTRY => {}
                Err(CredentialError::KeyringUnavailable(_)) if self.kind == StoreKind::Auto => {}
                Err(e) => return Err(e),
            }
        }
        if self.kind != StoreKind::Keyring {
            found |= self.file_remove(account)?;
        }
        Ok(found)
    }

    fn file_read(&self) -> Result<BTreeMap<String, String>, CredentialError> {
        match std::fs::read(&self.file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| self.file_error(&e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(self.file_error(&e)),
        }
    }

    /// Writes the whole file through a mode-0600 temporary file and a rename.
    fn file_write(&self, all: &BTreeMap<String, String>) -> Result<(), CredentialError> {
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.file_error(&e))?;
        }
        // A temporary name per process, so concurrent writers never rename each other's file.
        let tmp = self
            .file
            .with_extension(format!("json.{}.tmp", std::process::id()));
        let bytes = serde_json::to_vec_pretty(all).map_err(|e| self.file_error(&e))?;
        write_private(&tmp, &bytes).map_err(|e| self.file_error(&e))?;
        std::fs::rename(&tmp, &self.file).map_err(|e| self.file_error(&e))
    }

    fn file_remove(&self, account: &str) -> Result<bool, CredentialError> {
        let mut all = self.file_read()?;
        let found = all.remove(account).is_some();
        if found {
            self.file_write(&all)?;
        }
        Ok(found)
    }

    fn file_error(&self, e: &dyn std::fmt::Display) -> CredentialError {
        CredentialError::File {
            path: self.file.display().to_string(),
            reason: e.to_string(),
        }
    }
}

/// Creates (or truncates) `path` with mode 0600 on Unix and writes `bytes`.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        // An existing file keeps its old mode on open; tighten it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut file = options.open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    }
}

const NO_ENTRY: &str = "no entry";

fn keyring_entry(account: &str) -> Result<keyring::Entry, CredentialError> {
    keyring_result(keyring::Entry::new(SERVICE, account))
}

/// Sorts keyring errors into "no keyring answered" (fallback) and everything else.
fn keyring_result<T>(r: keyring::Result<T>) -> Result<T, CredentialError> {
    r.map_err(|e| match e {
        keyring::Error::NoEntry => CredentialError::Keyring(NO_ENTRY.into()),
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            CredentialError::KeyringUnavailable(inner.to_string())
        }
        other => CredentialError::Keyring(other.to_string()),
    })
}
