//! The embedded control plane behind the `local` profile: a SQLite file in the data
//! dir and a master key in the OS keyring (or its mode-0600 fallback file). Built only
//! by the commands that need it.

use crate::config::Paths;
use crate::control::sqlite::SqliteStore;
use crate::control::{ControlPlane, LOCAL_INSTANCE, LOCAL_ORG, Sealer};
use crate::credentials::{Credentials, Location};
use crate::duration::now;
use crate::error::{Error, Result};
use crate::output::Output;

/// The keyring account that holds the embedded mode's master key.
pub const MASTER_KEY_ACCOUNT: &str = "embedded-master-key";

pub type Embedded = ControlPlane<SqliteStore>;

/// Opens the embedded control plane, creating the database, master key, org `local` and
/// instance `local` on first use.
pub fn open(paths: &Paths, out: &Output) -> Result<Embedded> {
    let db_path = paths.data_dir.join("tok.db");
    let fresh = !db_path.exists();
    let credentials = Credentials::from_env(&paths.data_dir).map_err(Error::from)?;
    let sealer = match credentials.get(MASTER_KEY_ACCOUNT).map_err(Error::from)? {
        Some((encoded, _)) => Sealer::from_encoded(&encoded).map_err(Error::from)?,
        None if fresh => {
            let encoded = Sealer::generate_master_key().map_err(Error::from)?;
            let stored = credentials
                .set(MASTER_KEY_ACCOUNT, &encoded)
                .map_err(Error::from)?;
            if let (Some(why), Location::File(path)) = (&stored.fallback, &stored.location) {
                out.warn(&format!(
                    "no OS keyring answered ({why}); the master key that encrypts signing keys \
                     is stored in {} (mode 0600)",
                    path.display()
                ));
            }
            Sealer::from_encoded(&encoded).map_err(Error::from)?
        }
        None => {
            return Err(Error::other(format!(
                "the master key for {} is missing from the OS keyring and from {}; without it \
                 the signing keys cannot be decrypted",
                db_path.display(),
                credentials.file_path().display()
            ))
            .with_code("master_key_missing")
            .with_hint(
                "unlock the keyring that held it (TOK_CREDENTIAL_STORE selects where tok looks), \
                 or move the database aside to start afresh",
            ));
        }
    };
    let store = SqliteStore::open(&db_path).map_err(Error::from)?;
    let plane = ControlPlane::new(store, sealer, LOCAL_ORG, &actor());
    plane
        .bootstrap(Some(LOCAL_INSTANCE), now())
        .map_err(Error::from)?;
    Ok(plane)
}

/// Who the audit says made a change in the embedded mode: `local:<os user>`.
fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("local:{user}")
}
