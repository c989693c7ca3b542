//! Either store, chosen at run time from a database URL: `sqlite:///path` (or a plain path)
//! for one machine, `postgres://…` for several replicas sharing one database.

use std::fmt;
use std::path::Path;

use super::error::{ControlError, ControlResult};
use super::postgres::{PgStore, redact};
use super::sqlite::SqliteStore;
use super::store::{Store, Tx};

/// A SQLite or a PostgreSQL store; `Arc<AnyStore>` is a store too (as every `Arc` of one).
// One per process, made once and shared behind an `Arc`: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens the database `database` names, with up to `connections` connections:
    /// `postgres://…` or `postgresql://…` (see [`PgStore::connect`]), `sqlite:///abs/path`,
    /// `sqlite:relative/path` or a plain path (see [`SqliteStore::open_pool`]).
    pub fn open(database: &str, connections: usize) -> ControlResult<AnyStore> {
        match Backend::of(database)? {
            Backend::Postgres => PgStore::connect(database, connections).map(AnyStore::Postgres),
            Backend::Sqlite(path) => {
                SqliteStore::open_pool(Path::new(path), connections).map(AnyStore::Sqlite)
            }
        }
    }

    /// What the store is, for logs: `sqlite /path` or the PostgreSQL URL without its
    /// password.
    pub fn describe(&self) -> String {
        match self {
            AnyStore::Sqlite(s) => format!("sqlite {}", s.path().display()),
            AnyStore::Postgres(p) => format!("postgres {}", p.redacted_url()),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

/// Which store a database string names.
#[derive(Debug, PartialEq, Eq)]
enum Backend<'a> {
    Sqlite(&'a str),
    Postgres,
}

impl<'a> Backend<'a> {
    fn of(database: &'a str) -> ControlResult<Backend<'a>> {
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            return Ok(Backend::Postgres);
        }
        if let Some(rest) = database.strip_prefix("sqlite:") {
            // sqlite:///abs/path → /abs/path; sqlite://rel → rel; sqlite:rel → rel.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(ControlError::invalid(
                    "the database URL sqlite:// names no file; write sqlite:///path/to/tok.db",
                ));
            }
            return Ok(Backend::Sqlite(path));
        }
        if let Some((scheme, _)) = database.split_once("://") {
            return Err(ControlError::invalid(format!(
                "the database URL {} has an unknown scheme '{scheme}': use postgres://… or \
                 sqlite:///path (or a plain path)",
                redact(database)
            )));
        }
        if database.is_empty() {
            return Err(ControlError::invalid("the database path is empty"));
        }
        Ok(Backend::Sqlite(database))
    }
}

impl fmt::Debug for AnyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyStore::Sqlite(s) => f.debug_tuple("Sqlite").field(&s.path().display()).finish(),
            AnyStore::Postgres(p) => f.debug_tuple("Postgres").field(p).finish(),
        }
    }
}

impl Store for AnyStore {
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        match self {
            AnyStore::Sqlite(s) => s.write(f),
            AnyStore::Postgres(p) => p.write(f),
        }
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        match self {
            AnyStore::Sqlite(s) => s.read(f),
            AnyStore::Postgres(p) => p.read(f),
        }
    }
}

impl From<SqliteStore> for AnyStore {
    fn from(s: SqliteStore) -> Self {
        AnyStore::Sqlite(s)
    }
}

impl From<PgStore> for AnyStore {
    fn from(p: PgStore) -> Self {
        AnyStore::Postgres(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_strings_name_their_backend() {
        assert_eq!(
            Backend::of("postgres://u:p@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(Backend::of("postgresql://u@h").unwrap(), Backend::Postgres);
        assert_eq!(
            Backend::of("sqlite:///var/lib/tok/tok.db").unwrap(),
            Backend::Sqlite("/var/lib/tok/tok.db")
        );
        assert_eq!(
            Backend::of("sqlite:data/tok.db").unwrap(),
            Backend::Sqlite("data/tok.db")
        );
        assert_eq!(
            Backend::of("/tmp/tok.db").unwrap(),
            Backend::Sqlite("/tmp/tok.db")
        );
        assert!(Backend::of("sqlite://").is_err());
        assert!(Backend::of("").is_err());
        let err = Backend::of("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown scheme 'mysql'"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_sqlite_url_opens_a_working_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.db");
        let store = AnyStore::open(&format!("sqlite://{}", path.display()), 2).unwrap();
        assert_eq!(store.kind(), "sqlite");
        store.write(|tx| tx.insert_org("org_1", "acme", 1)).unwrap();
        let orgs = std::sync::Arc::new(store).read(|tx| tx.orgs()).unwrap();
        assert_eq!(orgs, vec!["acme".to_string()]);
        let plain = AnyStore::open(&path.display().to_string(), 1).unwrap();
        assert!(format!("{plain:?}").contains("tok.db"));
        assert!(plain.describe().starts_with("sqlite "));
    }

    #[test]
    fn a_postgres_url_opens_a_working_store_whose_debug_hides_the_password() {
        let Some((_store, guard)) = super::super::postgres::test_store() else {
            return;
        };
        let url = guard.url_with_password("not-the-real-one");
        let store = AnyStore::open(&url, 2).unwrap();
        assert_eq!(store.kind(), "postgres");
        store.write(|tx| tx.insert_org("org_1", "acme", 1)).unwrap();
        assert_eq!(store.read(|tx| tx.orgs()).unwrap(), vec!["acme"]);
        let shown = format!("{store:?} {}", store.describe());
        assert!(!shown.contains("not-the-real-one"), "{shown}");
    }
}
