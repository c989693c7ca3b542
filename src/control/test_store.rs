//! The store the control plane's rule tests run over (tests only), chosen at run time so that
//! one suite proves the rules on every store: SQLite by default, PostgreSQL with
//! `TOK_TEST_STORE=postgres` (each test in a fresh schema of `TOK_TEST_DATABASE_URL`, dropped
//! afterwards). CI runs the suite both ways. Tests of one store's own mechanics (file modes,
//! corrupt files, SQL) open that store directly.

use std::path::Path;

use super::any::AnyStore;
use super::error::ControlResult;
use super::postgres::SchemaGuard;
use super::sqlite::SqliteStore;
use super::store::{Store, Tx};

/// The store under test, and for PostgreSQL the schema it lives in.
pub struct TestStore {
    store: AnyStore,
    // Dropped after the store (fields drop in order): the schema goes once nothing uses it.
    _schema: Option<SchemaGuard>,
}

impl Store for TestStore {
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.store.write(f)
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.store.read(f)
    }
}

impl TestStore {
    /// Another store on the same database, as a second replica (or process) opens it.
    pub fn another(&self) -> AnyStore {
        match (&self.store, &self._schema) {
            (AnyStore::Sqlite(s), _) => AnyStore::Sqlite(
                SqliteStore::open_pool(s.path(), 4)
                    .unwrap_or_else(|e| panic!("opening the test store again: {e}")),
            ),
            (AnyStore::Postgres(_), Some(schema)) => AnyStore::Postgres(
                schema
                    .connect(4)
                    .unwrap_or_else(|e| panic!("connecting to the test schema again: {e}")),
            ),
            (AnyStore::Postgres(_), None) => unreachable!("a PostgreSQL test store has a schema"),
        }
    }

    /// Runs raw SQL on the database, outside the store: `sqlite` or `postgres`, whichever
    /// this store is (to break the database under a rule's feet).
    pub fn execute_sql(&self, sqlite: &str, postgres: &str) {
        match (&self.store, &self._schema) {
            (AnyStore::Sqlite(s), _) => rusqlite::Connection::open(s.path())
                .and_then(|c| c.execute_batch(sqlite))
                .unwrap_or_else(|e| panic!("{sqlite}: {e}")),
            (AnyStore::Postgres(_), Some(schema)) => schema.batch_execute(postgres),
            (AnyStore::Postgres(_), None) => unreachable!("a PostgreSQL test store has a schema"),
        }
    }
}

/// Whether the rule tests run on PostgreSQL (`TOK_TEST_STORE=postgres`).
fn postgres() -> bool {
    match std::env::var("TOK_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("TOK_TEST_STORE={other}: expected sqlite or postgres"),
    }
}

/// A fresh, empty store for one test; `dir` is the test's own temporary directory.
pub fn open(dir: &Path) -> TestStore {
    if postgres() {
        // Asked for explicitly: a missing database is a failure, never a skip.
        assert!(
            std::env::var("TOK_TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty()),
            "TOK_TEST_STORE=postgres needs TOK_TEST_DATABASE_URL"
        );
        let (store, schema) = super::postgres::test_store()
            .unwrap_or_else(|| panic!("TOK_TEST_STORE=postgres needs TOK_TEST_DATABASE_URL"));
        return TestStore {
            store: AnyStore::Postgres(store),
            _schema: Some(schema),
        };
    }
    let store = SqliteStore::open(&dir.join("tok.db"))
        .unwrap_or_else(|e| panic!("opening the test store: {e}"));
    TestStore {
        store: AnyStore::Sqlite(store),
        _schema: None,
    }
}
