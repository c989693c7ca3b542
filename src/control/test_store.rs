//! The store the control plane's rule tests run over (tests only). Which backend is chosen at
//! run time, so that one suite proves the rules on every store: SQLite by default;
//! PostgreSQL once `TOK_TEST_STORE=postgres` (with `TOK_TEST_DATABASE_URL`) is supported.
//! Tests of one store's own mechanics (file modes, corrupt files) open that store directly.

use std::path::Path;

use super::sqlite::SqliteStore;

/// The store under test.
pub type TestStore = SqliteStore;

/// A fresh, empty store for one test; `dir` is the test's own temporary directory.
pub fn open(dir: &Path) -> TestStore {
    SqliteStore::open(&dir.join("tok.db")).unwrap_or_else(|e| panic!("opening the test store: {e}"))
}
