//! The SQLite store: one file in the data dir, WAL, `synchronous=FULL` (an acknowledged
//! change survives a crash), migrations that run on open, and a schema version the
//! binary checks. Writers take the lock up front (`BEGIN IMMEDIATE`) and wait for each
//! other through the busy timeout, so concurrent `tok` processes never lose a write.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::error::{ControlError, ControlResult};
use super::model::{
    ApiKey, AppToken, AuditRecord, IdempotentRequest, Instance, PrincipalKind, Revocation, Role,
    ServiceAccount, Session, SigningKey, Tenant, TenantRef, Token, User,
};
use super::policy::Policy;
use super::store::{AuditEvent, DailyUsage, Store, StoredBatch, Tx, UsageDelta};
use crate::jwt::Algorithm;

/// The schema this binary writes; a database with a higher version is refused.
pub const SCHEMA_VERSION: i64 = 7;

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const MIGRATIONS: &[&str] = &[
    // 1: orgs, instances and their keys, tenants, streaming tokens, audit.
    "CREATE TABLE orgs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        max_token_lifetime BIGINT,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        name TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        audience TEXT NOT NULL,
        issuer TEXT,
        created_at BIGINT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        instance_id TEXT NOT NULL REFERENCES instances(id),
        algorithm TEXT NOT NULL,
        sealed_private BLOB NOT NULL,
        public_der BLOB,
        created_at BIGINT NOT NULL,
        retired_at BIGINT
    );
    CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        instance_id TEXT NOT NULL REFERENCES instances(id),
        name TEXT NOT NULL,
        description TEXT,
        created_at BIGINT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        subject TEXT NOT NULL,
        description TEXT,
        kid TEXT NOT NULL REFERENCES signing_keys(kid),
        token_hash BLOB NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        last_used_at BIGINT,
        revoked_at BIGINT,
        UNIQUE (tenant_id, name)
    );
    CREATE INDEX tokens_kid ON tokens (kid);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        org_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX audit_at ON audit (org_id, at);",
    // 2: where a change came from; users, sessions and idempotency keys for `tok server`.
    "ALTER TABLE audit ADD COLUMN source TEXT;
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        failed_logins BIGINT NOT NULL DEFAULT 0,
        locked_until BIGINT
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        token_hash BLOB NOT NULL UNIQUE,
        user_id TEXT NOT NULL REFERENCES users(id),
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        max_expires_at BIGINT NOT NULL,
        last_used_at BIGINT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user_id);
    CREATE TABLE idempotency_keys (
        principal TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash BLOB NOT NULL,
        status INTEGER,
        sealed_response BLOB,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (principal, key)
    );
    CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);",
    // 3: custom roles (policies as JSON arrays) and who holds which role.
    "CREATE TABLE roles (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        name TEXT NOT NULL,
        description TEXT,
        actions TEXT NOT NULL,
        resources TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE role_assignments (
        role_id TEXT NOT NULL,
        holder_kind TEXT NOT NULL,
        holder_id TEXT NOT NULL,
        holder_name TEXT NOT NULL,
        PRIMARY KEY (role_id, holder_kind, holder_id)
    );",
    // 4: application tokens; sessions of users or application tokens; disabled users;
    // users made before roles existed were all administrators, and stay so.
    "ALTER TABLE users ADD COLUMN disabled_at BIGINT;
    CREATE TABLE app_tokens (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        name TEXT NOT NULL,
        client_id TEXT NOT NULL UNIQUE,
        token_hash BLOB NOT NULL UNIQUE,
        secret_hash BLOB NOT NULL UNIQUE,
        description TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        last_used_at BIGINT,
        revoked_at BIGINT,
        UNIQUE (org_id, name)
    );
    CREATE TABLE sessions_v4 (
        id TEXT PRIMARY KEY,
        token_hash BLOB NOT NULL UNIQUE,
        principal_kind TEXT NOT NULL,
        principal_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        max_expires_at BIGINT NOT NULL,
        last_used_at BIGINT NOT NULL
    );
    INSERT INTO sessions_v4 SELECT id, token_hash, 'user', user_id, created_at, expires_at,
        max_expires_at, last_used_at FROM sessions;
    DROP TABLE sessions;
    ALTER TABLE sessions_v4 RENAME TO sessions;
    CREATE INDEX sessions_principal ON sessions (principal_kind, principal_id);
    INSERT INTO role_assignments (role_id, holder_kind, holder_id, holder_name)
        SELECT 'builtin:organization-administrator', 'user', id, username FROM users
        WHERE true ON CONFLICT DO NOTHING;
    CREATE INDEX role_assignments_holder ON role_assignments (holder_kind, holder_id);",
    // 5: service accounts and their API keys; the revocation feed (streaming tokens revoked
    // before it existed are in it, in the order they were revoked).
    "CREATE TABLE service_accounts (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        name TEXT NOT NULL,
        description TEXT,
        created_at BIGINT NOT NULL,
        UNIQUE (org_id, name)
    );
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        service_account_id TEXT NOT NULL REFERENCES service_accounts(id),
        instance_id TEXT NOT NULL REFERENCES instances(id),
        name TEXT NOT NULL,
        description TEXT,
        kid TEXT NOT NULL,
        key_hash BLOB NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        last_used_at BIGINT,
        revoked_at BIGINT,
        UNIQUE (org_id, name)
    );
    CREATE INDEX api_keys_revoked ON api_keys (revoked_at);
    CREATE TABLE revocations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id TEXT NOT NULL REFERENCES orgs(id),
        jti TEXT NOT NULL,
        kind TEXT NOT NULL,
        revoked_at BIGINT NOT NULL,
        expires_at BIGINT,
        UNIQUE (org_id, jti)
    );
    INSERT INTO revocations (org_id, jti, kind, revoked_at, expires_at)
        SELECT t.org_id, k.id, 'streaming', k.revoked_at, k.expires_at
        FROM tokens k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.revoked_at IS NOT NULL ORDER BY k.revoked_at, k.id;",
    // 6: usage per UTC day (by tenant name, so that a deleted tenant's usage stays billable),
    // the batch ids already recorded, and each org's rate card.
    "CREATE TABLE usage_daily (
        org_id TEXT NOT NULL REFERENCES orgs(id),
        day BIGINT NOT NULL,
        tenant TEXT NOT NULL,
        namespace TEXT NOT NULL,
        metric TEXT NOT NULL,
        source TEXT NOT NULL,
        value BIGINT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (org_id, day, tenant, namespace, metric, source)
    ) WITHOUT ROWID;
    CREATE TABLE usage_batches (
        org_id TEXT NOT NULL REFERENCES orgs(id),
        batch_id TEXT NOT NULL,
        digest BLOB NOT NULL,
        result TEXT NOT NULL,
        actor TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (org_id, batch_id)
    );
    CREATE INDEX usage_batches_created ON usage_batches (created_at);
    CREATE TABLE rate_cards (
        org_id TEXT PRIMARY KEY REFERENCES orgs(id),
        card TEXT NOT NULL,
        updated_at BIGINT NOT NULL
    );",
    // 7: when each fleet-wide job (the purge) last ran, and on which replica: replicas
    // sharing a database run it one at a time, once per interval.
    "CREATE TABLE job_runs (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        ran_at BIGINT NOT NULL
    );",
];

pub struct SqliteStore {
    /// One connection for a CLI process; several for a server: the first `writers` for
    /// write transactions, the rest for reads, so that a reader (on an async worker)
    /// never waits for a connection a writer holds while SQLite's busy handler waits.
    conns: Vec<Mutex<Connection>>,
    writers: usize,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> ControlResult<SqliteStore> {
        SqliteStore::open_pool(path, 1)
    }

    /// Opens the database with `connections` connections (at least one).
    pub fn open_pool(path: &Path, connections: usize) -> ControlResult<SqliteStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                ControlError::store(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let first = Connection::open(path).map_err(|e| open_error(path, &e))?;
        restrict_mode(path);
        let mut store = SqliteStore {
            conns: vec![Mutex::new(first)],
            writers: (connections / 4).max(1),
            path: path.to_path_buf(),
        };
        store.configure(0)?;
        store.migrate()?;
        for i in 1..connections.max(1) {
            let conn = Connection::open(path).map_err(|e| open_error(path, &e))?;
            store.conns.push(Mutex::new(conn));
            store.configure(i)?;
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self, i: usize) -> ControlResult<()> {
        let conn = self.conns[i]
            .lock()
            .map_err(|_| ControlError::store("the database connection was poisoned by a panic"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.error(&e))?;
        // Every `tok` command is a short-lived process: checkpointing the WAL on each close
        // would cost two more fsyncs and a WAL re-creation per command. SQLite still
        // checkpoints automatically once the WAL passes 1000 pages.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .map_err(|e| self.error(&e))?;
        // journal_mode returns a row; a corrupt or foreign file fails here, untouched.
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(|e| open_error(&self.path, &e))?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| open_error(&self.path, &e))
    }

    fn migrate(&self) -> ControlResult<()> {
        let mut conn = self.lock(true);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(&self.path, &e))?;
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)",
            [],
        )
        .map_err(|e| open_error(&self.path, &e))?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(|e| open_error(&self.path, &e))?;
        if current > SCHEMA_VERSION {
            return Err(ControlError::Store {
                message: format!(
                    "the database {} has schema version {current}, newer than this tok \
                     understands ({SCHEMA_VERSION}); nothing was changed",
                    self.path.display()
                ),
                hint: Some("upgrade tok to the version that wrote this database".into()),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql).map_err(|e| self.error(&e))?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [i as i64 + 1],
            )
            .map_err(|e| self.error(&e))?;
        }
        tx.commit().map_err(|e| busy_or(&self.path, &e))
    }

    /// A free connection of the kind asked for, or the caller's usual one when all are
    /// busy. A connection whose last user panicked is fine to reuse: its transaction was
    /// rolled back as the panic unwound ([`Rollback`]).
    fn lock(&self, write: bool) -> std::sync::MutexGuard<'_, Connection> {
        let pool = if self.conns.len() == 1 {
            &self.conns[..]
        } else if write {
            &self.conns[..self.writers]
        } else {
            &self.conns[self.writers..]
        };
        for conn in pool {
            match conn.try_lock() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&std::thread::current().id(), &mut hasher);
        let i = (std::hash::Hasher::finish(&hasher) % pool.len() as u64) as usize;
        pool[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, e: &rusqlite::Error) -> ControlError {
        busy_or(&self.path, e)
    }

    fn run<T>(
        &self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>,
    ) -> ControlResult<T> {
        let conn = self.lock(!matches!(behavior, TransactionBehavior::Deferred));
        // BEGIN, COMMIT and ROLLBACK as cached statements: a server runs thousands of short
        // transactions a second, and re-parsing them each time (what rusqlite's
        // `Transaction` does) was a measurable share of a read.
        let begin = match behavior {
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
            _ => "BEGIN DEFERRED",
        };
        exec_cached(&conn, begin).map_err(|e| self.error(&e))?;
        let mut open = Rollback {
            conn: &conn,
            committed: false,
        };
        let mut handle = SqliteTx { tx: &conn };
        let value = f(&mut handle)?;
        exec_cached(&conn, "COMMIT").map_err(|e| self.error(&e))?;
        open.committed = true;
        Ok(value)
    }
}

impl<T: Store + ?Sized> Store for std::sync::Arc<T> {
    fn write<R>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<R>) -> ControlResult<R> {
        (**self).write(f)
    }

    fn read<R>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<R>) -> ControlResult<R> {
        (**self).read(f)
    }
}

impl Store for SqliteStore {
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.run(TransactionBehavior::Immediate, f)
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.run(TransactionBehavior::Deferred, f)
    }
}

/// Only the owner reads the database (it holds sealed keys and token hashes).
fn restrict_mode(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Best effort: a file we cannot chmod (not ours) still opens.
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn open_error(path: &Path, e: &rusqlite::Error) -> ControlError {
    if is_busy(e) {
        return busy_or(path, e);
    }
    ControlError::Store {
        message: format!("cannot open the database {}: {e}", path.display()),
        hint: Some(
            "the file is corrupt or not a tok database; it was left untouched — move it aside \
             or point TOK_DATA_DIR elsewhere"
                .into(),
        ),
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn busy_or(path: &Path, e: &rusqlite::Error) -> ControlError {
    if is_busy(e) {
        ControlError::Store {
            message: format!(
                "the database {} is held by another tok process (waited {} s)",
                path.display(),
                BUSY_TIMEOUT.as_secs()
            ),
            hint: Some("try again when the other command has finished".into()),
        }
    } else {
        ControlError::store(format!("database error in {}: {e}", path.display()))
    }
}

/// A counter's day adds up (saturating at the largest BIGINT rather than overflowing).
const COUNTER_UPSERT: &str = "INSERT INTO usage_daily \
     (org_id, day, tenant, namespace, metric, source, value, at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
     ON CONFLICT (org_id, day, tenant, namespace, metric, source) DO UPDATE SET \
     value = CASE WHEN usage_daily.value > 9223372036854775807 - excluded.value \
     THEN 9223372036854775807 ELSE usage_daily.value + excluded.value END, \
     at = MAX(usage_daily.at, excluded.at)";

/// A gauge's day keeps its latest value (the larger one on a tie, so that the order in which
/// records arrive does not matter).
const GAUGE_UPSERT: &str = "INSERT INTO usage_daily \
     (org_id, day, tenant, namespace, metric, source, value, at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
     ON CONFLICT (org_id, day, tenant, namespace, metric, source) DO UPDATE SET \
     value = CASE WHEN excluded.at > usage_daily.at \
     OR (excluded.at = usage_daily.at AND excluded.value > usage_daily.value) \
     THEN excluded.value ELSE usage_daily.value END, \
     at = MAX(usage_daily.at, excluded.at)";

struct SqliteTx<'a> {
    tx: &'a Connection,
}

/// Rolls an open transaction back unless it was committed: on an error, and also while a
/// panic unwinds, so that a pooled connection is never left holding SQLite's write lock.
struct Rollback<'a> {
    conn: &'a Connection,
    committed: bool,
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if !self.committed && !self.conn.is_autocommit() {
            let _ = exec_cached(self.conn, "ROLLBACK");
        }
    }
}

fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn alg(s: String) -> rusqlite::Result<Algorithm> {
    s.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

const INSTANCE_COLS: &str = "i.id, i.name, i.algorithm, i.audience, i.issuer, i.created_at, \
     (SELECT k.kid FROM signing_keys k WHERE k.instance_id = i.id AND k.retired_at IS NULL \
      ORDER BY k.created_at DESC, k.kid LIMIT 1)";

fn instance_row(r: &Row<'_>) -> rusqlite::Result<Instance> {
    Ok(Instance {
        id: r.get(0)?,
        name: r.get(1)?,
        algorithm: alg(r.get(2)?)?,
        audience: r.get(3)?,
        issuer: r.get(4)?,
        created_at: r.get(5)?,
        kid: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
    })
}

const KEY_COLS: &str =
    "kid, instance_id, algorithm, sealed_private, public_der, created_at, retired_at";

fn key_row(r: &Row<'_>) -> rusqlite::Result<SigningKey> {
    Ok(SigningKey {
        kid: r.get(0)?,
        instance_id: r.get(1)?,
        algorithm: alg(r.get(2)?)?,
        sealed: r.get(3)?,
        public_der: r.get(4)?,
        created_at: r.get(5)?,
        retired_at: r.get(6)?,
    })
}

const TENANT_COLS: &str = "t.id, t.instance_id, i.name, t.name, t.description, t.created_at, \
     (SELECT COUNT(*) FROM tokens k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL)";

fn tenant_row(r: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: r.get(0)?,
        instance_id: r.get(1)?,
        instance: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        created_at: r.get(5)?,
        token_count: r.get(6)?,
    })
}

const TOKEN_COLS: &str = "k.id, k.tenant_id, t.name, i.name, k.name, k.subject, k.description, \
     k.kid, k.token_hash, k.created_at, k.expires_at, k.last_used_at, k.revoked_at";
const TOKEN_FROM: &str =
    "FROM tokens k JOIN tenants t ON t.id = k.tenant_id JOIN instances i ON i.id = t.instance_id";

fn token_row(r: &Row<'_>) -> rusqlite::Result<Token> {
    Ok(Token {
        roles: Vec::new(),
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        tenant: r.get(2)?,
        instance: r.get(3)?,
        name: r.get(4)?,
        subject: r.get(5)?,
        description: r.get(6)?,
        kid: r.get(7)?,
        token_hash: r.get(8)?,
        created_at: r.get(9)?,
        expires_at: r.get(10)?,
        last_used_at: r.get(11)?,
        revoked_at: r.get(12)?,
    })
}

fn db(e: rusqlite::Error) -> ControlError {
    if is_busy(&e) {
        ControlError::store("the database is held by another tok process")
    } else {
        ControlError::store(format!("database error: {e}"))
    }
}

impl SqliteTx<'_> {
    fn all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> ControlResult<Vec<T>> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(db)?;
        let rows = stmt.query_map(params, map).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> ControlResult<Option<T>> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(db)?;
        stmt.query_row(params, map).optional().map_err(db)
    }

    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> ControlResult<usize> {
        let mut stmt = self.tx.prepare_cached(sql).map_err(db)?;
        stmt.execute(params).map_err(db)
    }
}

impl Tx for SqliteTx<'_> {
    fn org_id(&mut self, org: &str) -> ControlResult<Option<String>> {
        self.one("SELECT id FROM orgs WHERE name = ?1", [org], |r| r.get(0))
    }

    fn insert_org(&mut self, id: &str, org: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "INSERT INTO orgs (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id, org, now],
        )
        .map(drop)
    }

    fn max_token_lifetime(&mut self, org_id: &str) -> ControlResult<Option<i64>> {
        self.one(
            "SELECT max_token_lifetime FROM orgs WHERE id = ?1",
            [org_id],
            |r| r.get(0),
        )
        .map(Option::flatten)
    }

    fn set_max_token_lifetime(&mut self, org_id: &str, secs: Option<i64>) -> ControlResult<()> {
        self.exec(
            "UPDATE orgs SET max_token_lifetime = ?2 WHERE id = ?1",
            params![org_id, secs],
        )
        .map(drop)
    }

    fn insert_instance(&mut self, org_id: &str, i: &Instance) -> ControlResult<()> {
        self.exec(
            "INSERT INTO instances (id, org_id, name, algorithm, audience, issuer, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                i.id,
                org_id,
                i.name,
                i.algorithm.as_str(),
                i.audience,
                i.issuer,
                i.created_at
            ],
        )
        .map(drop)
    }

    fn instance(&mut self, org_id: &str, name: &str) -> ControlResult<Option<Instance>> {
        let sql =
            format!("SELECT {INSTANCE_COLS} FROM instances i WHERE i.org_id = ?1 AND i.name = ?2");
        self.one(&sql, [org_id, name], instance_row)
    }

    fn instances(&mut self, org_id: &str) -> ControlResult<Vec<Instance>> {
        let sql =
            format!("SELECT {INSTANCE_COLS} FROM instances i WHERE i.org_id = ?1 ORDER BY i.name");
        self.all(&sql, [org_id], instance_row)
    }

    fn delete_instance(&mut self, instance_id: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM signing_keys WHERE instance_id = ?1",
            [instance_id],
        )?;
        self.exec("DELETE FROM instances WHERE id = ?1", [instance_id])
            .map(drop)
    }

    fn insert_key(&mut self, k: &SigningKey) -> ControlResult<()> {
        let sql =
            format!("INSERT INTO signing_keys ({KEY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        self.exec(
            &sql,
            params![
                k.kid,
                k.instance_id,
                k.algorithm.as_str(),
                k.sealed,
                k.public_der,
                k.created_at,
                k.retired_at
            ],
        )
        .map(drop)
    }

    fn keys(&mut self, instance_id: &str) -> ControlResult<Vec<SigningKey>> {
        let sql = format!(
            "SELECT {KEY_COLS} FROM signing_keys WHERE instance_id = ?1 \
             ORDER BY created_at DESC, kid"
        );
        self.all(&sql, [instance_id], key_row)
    }

    fn retire_key(&mut self, kid: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE signing_keys SET retired_at = ?2 WHERE kid = ?1",
            params![kid, now],
        )
        .map(drop)
    }

    fn insert_tenant(&mut self, org_id: &str, t: &Tenant) -> ControlResult<()> {
        self.exec(
            "INSERT INTO tenants (id, org_id, instance_id, name, description, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                t.id,
                org_id,
                t.instance_id,
                t.name,
                t.description,
                t.created_at
            ],
        )
        .map(drop)
    }

    fn tenant(&mut self, org_id: &str, name: &str) -> ControlResult<Option<Tenant>> {
        let sql = format!(
            "SELECT {TENANT_COLS} FROM tenants t JOIN instances i ON i.id = t.instance_id \
             WHERE t.org_id = ?1 AND t.name = ?2"
        );
        self.one(&sql, [org_id, name], tenant_row)
    }

    fn tenant_ref(&mut self, org_id: &str, name: &str) -> ControlResult<Option<TenantRef>> {
        self.one(
            "SELECT t.id, t.name, i.name FROM tenants t JOIN instances i ON i.id = t.instance_id \
             WHERE t.org_id = ?1 AND t.name = ?2",
            [org_id, name],
            |r| {
                Ok(TenantRef {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    instance: r.get(2)?,
                })
            },
        )
    }

    fn tenants(&mut self, org_id: &str, instance_id: Option<&str>) -> ControlResult<Vec<Tenant>> {
        let sql = format!(
            "SELECT {TENANT_COLS} FROM tenants t JOIN instances i ON i.id = t.instance_id \
             WHERE t.org_id = ?1 AND (?2 IS NULL OR t.instance_id = ?2) ORDER BY t.name"
        );
        self.all(&sql, params![org_id, instance_id], tenant_row)
    }

    fn delete_tenant(&mut self, tenant_id: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM role_assignments WHERE holder_kind = 'streaming-token' \
             AND holder_id IN (SELECT id FROM tokens WHERE tenant_id = ?1)",
            [tenant_id],
        )?;
        self.exec("DELETE FROM tokens WHERE tenant_id = ?1", [tenant_id])?;
        self.exec("DELETE FROM tenants WHERE id = ?1", [tenant_id])
            .map(drop)
    }

    fn insert_token(&mut self, k: &Token) -> ControlResult<()> {
        self.exec(
            "INSERT INTO tokens (id, tenant_id, name, subject, description, kid, token_hash, \
             created_at, expires_at, last_used_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                k.id,
                k.tenant_id,
                k.name,
                k.subject,
                k.description,
                k.kid,
                k.token_hash,
                k.created_at,
                k.expires_at,
                k.last_used_at,
                k.revoked_at
            ],
        )
        .map(drop)
    }

    fn token(&mut self, tenant_id: &str, name_or_id: &str) -> ControlResult<Option<Token>> {
        let sql = format!(
            "SELECT {TOKEN_COLS} {TOKEN_FROM} WHERE k.tenant_id = ?1 AND (k.name = ?2 OR k.id = ?2) \
             ORDER BY k.name = ?2 DESC LIMIT 1"
        );
        self.one(&sql, [tenant_id, name_or_id], token_row)
    }

    fn token_by_names(
        &mut self,
        org: &str,
        tenant: &str,
        name_or_id: &str,
    ) -> ControlResult<Option<Token>> {
        let sql = format!(
            "SELECT {TOKEN_COLS} {TOKEN_FROM} JOIN orgs o ON o.id = t.org_id \
             WHERE o.name = ?1 AND t.name = ?2 AND (k.name = ?3 OR k.id = ?3) \
             ORDER BY k.name = ?3 DESC LIMIT 1"
        );
        self.one(&sql, [org, tenant, name_or_id], token_row)
    }

    fn tokens(&mut self, org_id: &str, tenant_id: Option<&str>) -> ControlResult<Vec<Token>> {
        let sql = format!(
            "SELECT {TOKEN_COLS} {TOKEN_FROM} WHERE t.org_id = ?1 AND (?2 IS NULL OR k.tenant_id = ?2) \
             ORDER BY k.created_at, k.name"
        );
        self.all(&sql, params![org_id, tenant_id], token_row)
    }

    fn tokens_by_kid(&mut self, kid: &str) -> ControlResult<Vec<Token>> {
        let sql = format!(
            "SELECT {TOKEN_COLS} {TOKEN_FROM} WHERE k.kid = ?1 AND k.revoked_at IS NULL \
             ORDER BY t.name, k.name"
        );
        self.all(&sql, [kid], token_row)
    }

    fn revoke_token(&mut self, token_id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![token_id, now],
        )
        .map(drop)
    }

    fn insert_audit(&mut self, e: &AuditEvent<'_>) -> ControlResult<()> {
        self.exec(
            "INSERT INTO audit (org_id, at, actor, action, target, detail, source) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                e.org_id, e.at, e.actor, e.action, e.target, e.detail, e.source
            ],
        )
        .map(drop)
    }

    fn audit(&mut self, org_id: &str, since: i64) -> ControlResult<Vec<AuditRecord>> {
        self.all(
            "SELECT id, at, actor, action, target, detail, source FROM audit \
             WHERE org_id = ?1 AND at >= ?2 ORDER BY id",
            params![org_id, since],
            |r| {
                Ok(AuditRecord {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    detail: r.get(5)?,
                    source: r.get(6)?,
                })
            },
        )
    }

    fn orgs(&mut self) -> ControlResult<Vec<String>> {
        self.all("SELECT name FROM orgs ORDER BY name", [], |r| r.get(0))
    }

    fn insert_user(&mut self, u: &User) -> ControlResult<()> {
        self.exec(
            "INSERT INTO users (id, org_id, username, password_hash, created_at, failed_logins, \
             locked_until, disabled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                u.id,
                u.org_id,
                u.username,
                u.password_hash,
                u.created_at,
                u.failed_logins,
                u.locked_until,
                u.disabled_at
            ],
        )
        .map(drop)
    }

    fn user(&mut self, org_id: &str, username: &str) -> ControlResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} {USER_FROM} WHERE u.org_id = ?1 AND u.username = ?2");
        self.one(&sql, [org_id, username], user_row)
    }

    fn user_anywhere(&mut self, username: &str) -> ControlResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} {USER_FROM} WHERE u.username = ?1");
        self.one(&sql, [username], user_row)
    }

    fn users(&mut self, org_id: &str) -> ControlResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} {USER_FROM} WHERE u.org_id = ?1 ORDER BY u.username");
        self.all(&sql, [org_id], user_row)
    }

    fn delete_user(&mut self, user_id: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM sessions WHERE principal_kind = 'user' AND principal_id = ?1",
            [user_id],
        )?;
        self.exec(
            "DELETE FROM role_assignments WHERE holder_kind = 'user' AND holder_id = ?1",
            [user_id],
        )?;
        self.exec("DELETE FROM users WHERE id = ?1", [user_id])
            .map(drop)
    }

    fn set_user_disabled(&mut self, user_id: &str, disabled_at: Option<i64>) -> ControlResult<()> {
        self.exec(
            "UPDATE users SET disabled_at = ?2 WHERE id = ?1",
            params![user_id, disabled_at],
        )
        .map(drop)
    }

    fn set_password_hash(&mut self, user_id: &str, hash: &str) -> ControlResult<()> {
        self.exec(
            "UPDATE users SET password_hash = ?2, failed_logins = 0, locked_until = NULL \
             WHERE id = ?1",
            params![user_id, hash],
        )
        .map(drop)
    }

    fn set_login_state(
        &mut self,
        user_id: &str,
        failed_logins: i64,
        locked_until: Option<i64>,
    ) -> ControlResult<()> {
        self.exec(
            "UPDATE users SET failed_logins = ?2, locked_until = ?3 WHERE id = ?1",
            params![user_id, failed_logins, locked_until],
        )
        .map(drop)
    }

    fn insert_session(&mut self, s: &Session, token_hash: &[u8]) -> ControlResult<()> {
        self.exec(
            "INSERT INTO sessions (id, token_hash, principal_kind, principal_id, created_at, \
             expires_at, max_expires_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                s.id,
                token_hash,
                s.principal_kind.as_str(),
                s.principal_id,
                s.created_at,
                s.expires_at,
                s.max_expires_at,
                s.last_used_at
            ],
        )
        .map(drop)
    }

    fn session(&mut self, token_hash: &[u8]) -> ControlResult<Option<Session>> {
        let found = self.one(
            "SELECT s.id, s.principal_kind, s.principal_id, COALESCE(u.username, a.name), o.name, \
             s.created_at, s.expires_at, s.max_expires_at, s.last_used_at FROM sessions s \
             LEFT JOIN users u ON s.principal_kind = 'user' AND u.id = s.principal_id \
             LEFT JOIN app_tokens a ON s.principal_kind = 'application' AND a.id = s.principal_id \
             JOIN orgs o ON o.id = COALESCE(u.org_id, a.org_id) \
             WHERE s.token_hash = ?1 AND u.disabled_at IS NULL AND a.revoked_at IS NULL",
            [token_hash],
            |r| {
                let kind: String = r.get(1)?;
                let Some(principal_kind) = PrincipalKind::parse(&kind) else {
                    return Ok(None);
                };
                Ok(Some(Session {
                    id: r.get(0)?,
                    principal_kind,
                    principal_id: r.get(2)?,
                    principal_name: r.get(3)?,
                    org: r.get(4)?,
                    created_at: r.get(5)?,
                    expires_at: r.get(6)?,
                    max_expires_at: r.get(7)?,
                    last_used_at: r.get(8)?,
                    grants: Default::default(),
                }))
            },
        )?;
        let Some(Some(mut session)) = found else {
            return Ok(None);
        };
        let roles = self.roles_of(
            &session.org,
            session.principal_kind.as_str(),
            &session.principal_id,
        )?;
        session.grants = std::sync::Arc::new(super::auth::grants_of(&roles));
        Ok(Some(session))
    }

    fn touch_session(&mut self, id: &str, expires_at: i64, used_at: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE sessions SET expires_at = CASE WHEN expires_at < ?2 THEN ?2 ELSE expires_at END, \
             last_used_at = ?3 WHERE id = ?1",
            params![id, expires_at, used_at],
        )
        .map(drop)
    }

    fn delete_session(&mut self, id: &str) -> ControlResult<()> {
        self.exec("DELETE FROM sessions WHERE id = ?1", [id])
            .map(drop)
    }

    fn delete_sessions_of(
        &mut self,
        kind: PrincipalKind,
        principal_id: &str,
    ) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM sessions WHERE principal_kind = ?1 AND principal_id = ?2",
            [kind.as_str(), principal_id],
        )
    }

    fn purge_sessions(&mut self, now: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM sessions WHERE expires_at <= ?1 OR max_expires_at <= ?1",
            [now],
        )
    }

    fn idempotent_request(
        &mut self,
        principal: &str,
        key: &str,
    ) -> ControlResult<Option<IdempotentRequest>> {
        self.one(
            "SELECT request_hash, status, sealed_response, created_at FROM idempotency_keys \
             WHERE principal = ?1 AND key = ?2",
            [principal, key],
            |r| {
                Ok(IdempotentRequest {
                    request_hash: r.get(0)?,
                    status: r.get(1)?,
                    sealed_response: r.get(2)?,
                    created_at: r.get(3)?,
                })
            },
        )
    }

    fn claim_idempotency_key(
        &mut self,
        principal: &str,
        key: &str,
        request_hash: &[u8],
        now: i64,
    ) -> ControlResult<bool> {
        self.exec(
            "INSERT INTO idempotency_keys (principal, key, request_hash, created_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![principal, key, request_hash, now],
        )
        .map(|n| n == 1)
    }

    fn complete_idempotent_request(
        &mut self,
        principal: &str,
        key: &str,
        status: u16,
        sealed_response: &[u8],
    ) -> ControlResult<()> {
        self.exec(
            "UPDATE idempotency_keys SET status = ?3, sealed_response = ?4 \
             WHERE principal = ?1 AND key = ?2",
            params![principal, key, status, sealed_response],
        )
        .map(drop)
    }

    fn release_idempotency_key(&mut self, principal: &str, key: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM idempotency_keys WHERE principal = ?1 AND key = ?2",
            [principal, key],
        )
        .map(drop)
    }

    fn purge_idempotency_keys(&mut self, before: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM idempotency_keys WHERE created_at < ?1",
            [before],
        )
    }

    fn insert_role(&mut self, r: &Role) -> ControlResult<()> {
        self.exec(
            "INSERT INTO roles (id, org_id, name, description, actions, resources, created_at, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                r.id,
                r.org_id,
                r.name,
                r.description,
                actions_json(&r.policy),
                resources_json(&r.policy),
                r.created_at,
                r.updated_at
            ],
        )
        .map(drop)
    }

    fn role(&mut self, org_id: &str, name_or_id: &str) -> ControlResult<Option<Role>> {
        let sql = format!(
            "SELECT {ROLE_COLS} FROM roles WHERE org_id = ?1 AND (name = ?2 OR id = ?2) \
             ORDER BY name = ?2 DESC LIMIT 1"
        );
        self.one(&sql, [org_id, name_or_id], role_row)?.transpose()
    }

    fn roles(&mut self, org_id: &str) -> ControlResult<Vec<Role>> {
        let sql = format!("SELECT {ROLE_COLS} FROM roles WHERE org_id = ?1 ORDER BY name");
        self.all(&sql, [org_id], role_row)?.into_iter().collect()
    }

    fn update_role(&mut self, r: &Role) -> ControlResult<()> {
        self.exec(
            "UPDATE roles SET description = ?2, actions = ?3, resources = ?4, updated_at = ?5 \
             WHERE id = ?1",
            params![
                r.id,
                r.description,
                actions_json(&r.policy),
                resources_json(&r.policy),
                r.updated_at
            ],
        )
        .map(drop)
    }

    fn delete_role(&mut self, role_id: &str) -> ControlResult<()> {
        self.exec("DELETE FROM role_assignments WHERE role_id = ?1", [role_id])?;
        self.exec("DELETE FROM roles WHERE id = ?1", [role_id])
            .map(drop)
    }

    fn role_holders(&mut self, role_id: &str) -> ControlResult<Vec<(String, String)>> {
        // Revoked tokens hold nothing any more: they do not keep a role from being deleted.
        self.all(
            "SELECT ra.holder_kind, ra.holder_name FROM role_assignments ra \
             LEFT JOIN tokens t ON ra.holder_kind = 'streaming-token' AND t.id = ra.holder_id \
             LEFT JOIN app_tokens a ON ra.holder_kind = 'application' AND a.id = ra.holder_id \
             WHERE ra.role_id = ?1 AND t.revoked_at IS NULL AND a.revoked_at IS NULL \
             ORDER BY ra.holder_kind, ra.holder_name",
            [role_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn assign_role(
        &mut self,
        role_id: &str,
        holder_kind: &str,
        holder_id: &str,
        holder_name: &str,
    ) -> ControlResult<()> {
        self.exec(
            "INSERT INTO role_assignments (role_id, holder_kind, holder_id, holder_name) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![role_id, holder_kind, holder_id, holder_name],
        )
        .map(drop)
    }

    fn unassign_role(
        &mut self,
        role_id: &str,
        holder_kind: &str,
        holder_id: &str,
    ) -> ControlResult<bool> {
        self.exec(
            "DELETE FROM role_assignments WHERE role_id = ?1 AND holder_kind = ?2 \
             AND holder_id = ?3",
            [role_id, holder_kind, holder_id],
        )
        .map(|n| n > 0)
    }

    fn roles_of(
        &mut self,
        org: &str,
        holder_kind: &str,
        holder_id: &str,
    ) -> ControlResult<Vec<Role>> {
        let sql = format!(
            "SELECT {ROLE_COLS_R} FROM role_assignments ra LEFT JOIN roles r ON r.id = ra.role_id \
             WHERE ra.holder_kind = ?1 AND ra.holder_id = ?2"
        );
        let rows = self.all(&sql, [holder_kind, holder_id], |r| {
            let id: String = r.get(0)?;
            let custom: Option<String> = r.get(1)?;
            Ok(match custom {
                Some(_) => Some(role_row_at(r, 1)),
                None => super::roles::builtin(org, &id).map(Ok),
            })
        })?;
        let roles = rows
            .into_iter()
            .flatten()
            .collect::<ControlResult<Vec<Role>>>()?;
        Ok(super::store::order_roles(roles))
    }

    fn holders_of(&mut self, role_id: &str, holder_kind: &str) -> ControlResult<Vec<String>> {
        self.all(
            "SELECT holder_id FROM role_assignments WHERE role_id = ?1 AND holder_kind = ?2",
            [role_id, holder_kind],
            |r| r.get(0),
        )
    }

    fn insert_app_token(&mut self, t: &AppToken) -> ControlResult<()> {
        self.exec(
            "INSERT INTO app_tokens (id, org_id, name, client_id, token_hash, secret_hash, \
             description, created_at, expires_at, last_used_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                t.id,
                t.org_id,
                t.name,
                t.client_id,
                t.token_hash,
                t.secret_hash,
                t.description,
                t.created_at,
                t.expires_at,
                t.last_used_at,
                t.revoked_at
            ],
        )
        .map(drop)
    }

    fn app_token(&mut self, org_id: &str, key: &str) -> ControlResult<Option<AppToken>> {
        let sql = format!(
            "SELECT {APP_COLS} {APP_FROM} WHERE a.org_id = ?1 \
             AND (a.name = ?2 OR a.client_id = ?2 OR a.id = ?2) ORDER BY a.name = ?2 DESC LIMIT 1"
        );
        self.one(&sql, [org_id, key], app_token_row)
    }

    fn app_token_by_hash(&mut self, token_hash: &[u8]) -> ControlResult<Option<AppToken>> {
        let sql = format!("SELECT {APP_COLS} {APP_FROM} WHERE a.token_hash = ?1");
        self.one(&sql, [token_hash], app_token_row)
    }

    fn app_token_by_client_id(&mut self, client_id: &str) -> ControlResult<Option<AppToken>> {
        let sql = format!("SELECT {APP_COLS} {APP_FROM} WHERE a.client_id = ?1");
        self.one(&sql, [client_id], app_token_row)
    }

    fn app_tokens(&mut self, org_id: &str) -> ControlResult<Vec<AppToken>> {
        let sql =
            format!("SELECT {APP_COLS} {APP_FROM} WHERE a.org_id = ?1 ORDER BY a.created_at, a.id");
        self.all(&sql, [org_id], app_token_row)
    }

    fn revoke_app_token(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE app_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now],
        )
        .map(drop)
    }

    fn touch_app_token(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE app_tokens SET last_used_at = ?2 WHERE id = ?1 \
             AND (last_used_at IS NULL OR last_used_at < ?2)",
            params![id, now],
        )
        .map(drop)
    }
    fn insert_service_account(&mut self, sa: &ServiceAccount) -> ControlResult<()> {
        self.exec(
            "INSERT INTO service_accounts (id, org_id, name, description, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![sa.id, sa.org_id, sa.name, sa.description, sa.created_at],
        )
        .map(drop)
    }

    fn service_account(
        &mut self,
        org_id: &str,
        name_or_id: &str,
    ) -> ControlResult<Option<ServiceAccount>> {
        let sql = format!(
            "SELECT {SA_COLS} FROM service_accounts s WHERE s.org_id = ?1 \
             AND (s.name = ?2 OR s.id = ?2) ORDER BY s.name = ?2 DESC LIMIT 1"
        );
        self.one(&sql, [org_id, name_or_id], sa_row)
    }

    fn service_accounts(&mut self, org_id: &str) -> ControlResult<Vec<ServiceAccount>> {
        let sql =
            format!("SELECT {SA_COLS} FROM service_accounts s WHERE s.org_id = ?1 ORDER BY s.name");
        self.all(&sql, [org_id], sa_row)
    }

    fn delete_service_account(&mut self, id: &str) -> ControlResult<()> {
        self.exec("DELETE FROM api_keys WHERE service_account_id = ?1", [id])?;
        self.exec(
            "DELETE FROM role_assignments WHERE holder_kind = 'service-account' \
             AND holder_id = ?1",
            [id],
        )?;
        self.exec("DELETE FROM service_accounts WHERE id = ?1", [id])
            .map(drop)
    }

    fn insert_api_key(&mut self, k: &ApiKey) -> ControlResult<()> {
        self.exec(
            "INSERT INTO api_keys (id, org_id, service_account_id, instance_id, name, \
             description, kid, key_hash, created_at, expires_at, last_used_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                k.id,
                k.org_id,
                k.service_account_id,
                k.instance_id,
                k.name,
                k.description,
                k.kid,
                k.key_hash,
                k.created_at,
                k.expires_at,
                k.last_used_at,
                k.revoked_at
            ],
        )
        .map(drop)
    }

    fn api_key(&mut self, org_id: &str, name_or_id: &str) -> ControlResult<Option<ApiKey>> {
        let sql = format!(
            "SELECT {KEY_COLS_A} {KEY_FROM_A} WHERE a.org_id = ?1 AND (a.name = ?2 OR a.id = ?2) \
             ORDER BY a.name = ?2 DESC LIMIT 1"
        );
        self.one(&sql, [org_id, name_or_id], api_key_row)
    }

    fn api_key_by_id(&mut self, jti: &str) -> ControlResult<Option<(ApiKey, String)>> {
        let sql = format!(
            "SELECT {KEY_COLS_A}, o.name {KEY_FROM_A} JOIN orgs o ON o.id = a.org_id \
             WHERE a.id = ?1"
        );
        self.one(&sql, [jti], |r| Ok((api_key_row(r)?, r.get(14)?)))
    }

    fn api_keys(&mut self, org_id: &str) -> ControlResult<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {KEY_COLS_A} {KEY_FROM_A} WHERE a.org_id = ?1 ORDER BY a.created_at, a.id"
        );
        self.all(&sql, [org_id], api_key_row)
    }

    fn revoke_api_key(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now],
        )
        .map(drop)
    }

    fn delete_api_key(&mut self, id: &str) -> ControlResult<()> {
        self.exec("DELETE FROM api_keys WHERE id = ?1", [id])
            .map(drop)
    }

    fn touch_api_key(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 \
             AND (last_used_at IS NULL OR last_used_at < ?2)",
            params![id, now],
        )
        .map(drop)
    }

    fn purge_api_keys(&mut self, revoked_before: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM api_keys WHERE revoked_at IS NOT NULL AND revoked_at <= ?1",
            [revoked_before],
        )
    }

    fn insert_revocation(&mut self, org_id: &str, r: &Revocation) -> ControlResult<()> {
        self.exec(
            "INSERT INTO revocations (org_id, jti, kind, revoked_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            params![org_id, r.jti, r.kind, r.revoked_at, r.expires_at],
        )
        .map(drop)
    }

    fn revocations(
        &mut self,
        org_id: &str,
        after: i64,
        limit: usize,
    ) -> ControlResult<Vec<Revocation>> {
        self.all(
            "SELECT seq, jti, kind, revoked_at, expires_at FROM revocations \
             WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            params![org_id, after, limit as i64],
            |r| {
                Ok(Revocation {
                    seq: r.get(0)?,
                    jti: r.get(1)?,
                    kind: r.get(2)?,
                    revoked_at: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            },
        )
    }

    fn purge_revocations(&mut self, revoked_before: i64, now: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM revocations WHERE revoked_at <= ?1 \
             AND expires_at IS NOT NULL AND expires_at <= ?2",
            [revoked_before, now],
        )
    }

    fn purge_due(&mut self, revoked_before: i64, now: i64) -> ControlResult<bool> {
        self.one(
            "SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NOT NULL \
             AND revoked_at <= ?1) OR EXISTS (SELECT 1 FROM revocations WHERE revoked_at <= ?1 \
             AND expires_at IS NOT NULL AND expires_at <= ?2)",
            [revoked_before, now],
            |r| r.get::<_, bool>(0),
        )
        .map(|due| due.unwrap_or(false))
    }

    fn key_by_kid(&mut self, kid: &str) -> ControlResult<Option<(SigningKey, Instance, String)>> {
        let sql = format!(
            "SELECT k.kid, k.instance_id, k.algorithm, k.sealed_private, k.public_der, \
             k.created_at, k.retired_at, {INSTANCE_COLS}, o.name FROM signing_keys k \
             JOIN instances i ON i.id = k.instance_id JOIN orgs o ON o.id = i.org_id \
             WHERE k.kid = ?1"
        );
        self.one(&sql, [kid], |r| {
            let key = key_row(r)?;
            let instance = Instance {
                id: r.get(7)?,
                name: r.get(8)?,
                algorithm: alg(r.get(9)?)?,
                audience: r.get(10)?,
                issuer: r.get(11)?,
                created_at: r.get(12)?,
                kid: r.get::<_, Option<String>>(13)?.unwrap_or_default(),
            };
            Ok((key, instance, r.get(14)?))
        })
    }

    fn token_by_id(&mut self, jti: &str) -> ControlResult<Option<(Token, String)>> {
        let sql = format!(
            "SELECT {TOKEN_COLS}, o.name {TOKEN_FROM} JOIN orgs o ON o.id = t.org_id \
             WHERE k.id = ?1"
        );
        self.one(&sql, [jti], |r| Ok((token_row(r)?, r.get(13)?)))
    }

    fn touch_token(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 \
             AND (last_used_at IS NULL OR last_used_at < ?2)",
            params![id, now],
        )
        .map(drop)
    }

    fn add_usage(&mut self, org_id: &str, rows: &[UsageDelta<'_>]) -> ControlResult<()> {
        for r in rows {
            let sql = if r.gauge {
                GAUGE_UPSERT
            } else {
                COUNTER_UPSERT
            };
            self.exec(
                sql,
                params![
                    org_id,
                    r.day,
                    r.tenant,
                    r.namespace,
                    r.metric,
                    r.source,
                    r.value,
                    r.at
                ],
            )?;
        }
        Ok(())
    }

    fn usage_daily(
        &mut self,
        org_id: &str,
        from_day: i64,
        to_day: i64,
        tenant: Option<&str>,
        metric: Option<&str>,
    ) -> ControlResult<Vec<DailyUsage>> {
        // Namespaces are added up here, saturating: SQL's SUM fails on a 64-bit overflow.
        let rows = self.all(
            "SELECT tenant, metric, day, value, at FROM usage_daily \
             WHERE org_id = ?1 AND day >= ?2 AND day <= ?3 \
             AND (?4 IS NULL OR tenant = ?4) AND (?5 IS NULL OR metric = ?5) \
             ORDER BY day, tenant, metric",
            params![org_id, from_day, to_day, tenant, metric],
            |r| {
                Ok(DailyUsage {
                    tenant: r.get(0)?,
                    metric: r.get(1)?,
                    day: r.get(2)?,
                    value: r.get(3)?,
                    at: r.get(4)?,
                })
            },
        )?;
        Ok(super::store::sum_usage_rows(rows))
    }

    fn usage_batch(&mut self, org_id: &str, batch_id: &str) -> ControlResult<Option<StoredBatch>> {
        self.one(
            "SELECT digest, result, actor FROM usage_batches \
             WHERE org_id = ?1 AND batch_id = ?2",
            params![org_id, batch_id],
            |r| {
                Ok(StoredBatch {
                    digest: r.get(0)?,
                    result: r.get(1)?,
                    actor: r.get(2)?,
                })
            },
        )
    }

    fn insert_usage_batch(
        &mut self,
        org_id: &str,
        batch_id: &str,
        batch: &StoredBatch,
        now: i64,
    ) -> ControlResult<()> {
        self.exec(
            "INSERT INTO usage_batches (org_id, batch_id, digest, result, actor, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                org_id,
                batch_id,
                batch.digest,
                batch.result,
                batch.actor,
                now
            ],
        )
        .map(drop)
    }

    fn purge_usage_batches(&mut self, created_before: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM usage_batches WHERE created_at <= ?1",
            [created_before],
        )
    }

    fn job_run(&mut self, name: &str) -> ControlResult<Option<(String, i64)>> {
        self.one(
            "SELECT holder, ran_at FROM job_runs WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn record_job_run(&mut self, name: &str, holder: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "INSERT INTO job_runs (name, holder, ran_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, ran_at = excluded.ran_at",
            rusqlite::params![name, holder, now],
        )
        .map(drop)
    }

    fn rate_card(&mut self, org_id: &str) -> ControlResult<Option<String>> {
        self.one(
            "SELECT card FROM rate_cards WHERE org_id = ?1",
            [org_id],
            |r| r.get(0),
        )
    }

    fn set_rate_card(&mut self, org_id: &str, card: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "INSERT INTO rate_cards (org_id, card, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (org_id) DO UPDATE SET card = excluded.card, \
             updated_at = excluded.updated_at",
            params![org_id, card, now],
        )
        .map(drop)
    }
}

const SA_COLS: &str = "s.id, s.org_id, s.name, s.description, s.created_at, \
     (SELECT COUNT(*) FROM api_keys a WHERE a.service_account_id = s.id \
      AND a.revoked_at IS NULL)";

fn sa_row(r: &Row<'_>) -> rusqlite::Result<ServiceAccount> {
    Ok(ServiceAccount {
        id: r.get(0)?,
        org_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        created_at: r.get(4)?,
        apikey_count: r.get(5)?,
        roles: Vec::new(),
    })
}

const KEY_COLS_A: &str = "a.id, a.org_id, a.service_account_id, s.name, a.instance_id, i.name, \
     a.name, a.description, a.kid, a.key_hash, a.created_at, a.expires_at, a.last_used_at, \
     a.revoked_at";
const KEY_FROM_A: &str = "FROM api_keys a JOIN service_accounts s ON s.id = a.service_account_id \
     JOIN instances i ON i.id = a.instance_id";

fn api_key_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        org_id: r.get(1)?,
        service_account_id: r.get(2)?,
        service_account: r.get(3)?,
        instance_id: r.get(4)?,
        instance: r.get(5)?,
        name: r.get(6)?,
        description: r.get(7)?,
        kid: r.get(8)?,
        key_hash: r.get(9)?,
        created_at: r.get(10)?,
        expires_at: r.get(11)?,
        last_used_at: r.get(12)?,
        revoked_at: r.get(13)?,
    })
}

const APP_COLS: &str = "a.id, a.org_id, o.name, a.name, a.client_id, a.token_hash, a.secret_hash, \
     a.description, a.created_at, a.expires_at, a.last_used_at, a.revoked_at";
const APP_FROM: &str = "FROM app_tokens a JOIN orgs o ON o.id = a.org_id";

fn app_token_row(r: &Row<'_>) -> rusqlite::Result<AppToken> {
    Ok(AppToken {
        id: r.get(0)?,
        org_id: r.get(1)?,
        org: r.get(2)?,
        name: r.get(3)?,
        client_id: r.get(4)?,
        token_hash: r.get(5)?,
        secret_hash: r.get(6)?,
        description: r.get(7)?,
        created_at: r.get(8)?,
        expires_at: r.get(9)?,
        last_used_at: r.get(10)?,
        revoked_at: r.get(11)?,
        roles: Vec::new(),
    })
}

/// The assignment's role id, then a custom role's columns (NULL for a built-in role).
const ROLE_COLS_R: &str = "ra.role_id, r.id, r.org_id, r.name, r.description, r.actions, \
     r.resources, r.created_at, r.updated_at";

const ROLE_COLS: &str = "id, org_id, name, description, actions, resources, created_at, updated_at";

fn actions_json(p: &Policy) -> String {
    let names: Vec<&str> = p.actions.iter().map(|a| a.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

fn resources_json(p: &Policy) -> String {
    let names: Vec<String> = p.resources.iter().map(ToString::to_string).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

/// A stored role; a policy that no longer parses is an error, never silently narrowed.
fn role_row(r: &Row<'_>) -> rusqlite::Result<ControlResult<Role>> {
    Ok(role_row_at(r, 0))
}

/// A role whose columns start at `at`; every failure is a `ControlError`.
fn role_row_at(r: &Row<'_>, at: usize) -> ControlResult<Role> {
    let read = || -> rusqlite::Result<_> {
        Ok((
            r.get::<_, String>(at)?,
            r.get::<_, String>(at + 1)?,
            r.get::<_, String>(at + 2)?,
            r.get::<_, Option<String>>(at + 3)?,
            r.get::<_, String>(at + 4)?,
            r.get::<_, String>(at + 5)?,
            r.get::<_, i64>(at + 6)?,
            r.get::<_, i64>(at + 7)?,
        ))
    };
    let (id, org_id, name, description, actions, resources, created_at, updated_at) =
        read().map_err(db)?;
    let policy = parse_stored_policy(&actions, &resources)
        .map_err(|why| ControlError::store(format!("role {id} holds an unreadable policy: {why}")));
    policy.map(|policy| Role {
        id,
        org_id,
        name,
        description,
        policy,
        builtin: false,
        created_at,
        updated_at,
    })
}

fn parse_stored_policy(actions: &str, resources: &str) -> Result<Policy, String> {
    let actions: Vec<String> = serde_json::from_str(actions).map_err(|e| e.to_string())?;
    let resources: Vec<String> = serde_json::from_str(resources).map_err(|e| e.to_string())?;
    Ok(Policy {
        actions: actions
            .iter()
            .map(|a| a.parse())
            .collect::<Result<_, _>>()?,
        resources: resources
            .iter()
            .map(|r| r.parse())
            .collect::<Result<_, _>>()?,
    })
}

const USER_COLS: &str = "u.id, u.org_id, o.name, u.username, u.password_hash, u.created_at, \
     u.failed_logins, u.locked_until, u.disabled_at";
const USER_FROM: &str = "FROM users u JOIN orgs o ON o.id = u.org_id";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        org_id: r.get(1)?,
        org: r.get(2)?,
        username: r.get(3)?,
        password_hash: r.get(4)?,
        created_at: r.get(5)?,
        failed_logins: r.get(6)?,
        locked_until: r.get(7)?,
        disabled_at: r.get(8)?,
        roles: Vec::new(),
    })
}
