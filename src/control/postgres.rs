//! The PostgreSQL store: the same rules as the SQLite store for several `tok server` replicas
//! sharing one database. Migrations run on connect under an advisory lock (replicas starting
//! at once migrate once); writers take one advisory lock per schema, so the control plane's
//! read-then-write rules, written for SQLite's single writer, stay race-free across replicas;
//! reads run in a read-only snapshot. The password is never shown: not in `Debug`, not in an
//! error (URLs are printed as `postgres://user:***@host:port/db`).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use postgres::config::{Host, SslMode};
use postgres::error::{DbError, SqlState};
use postgres::types::{FromSql, ToSql};
use postgres::{Client, Config, NoTls, Row, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::error::{ControlError, ControlResult};
use super::model::{
    ApiKey, AppToken, AuditRecord, IdempotentRequest, Instance, PrincipalKind, Revocation, Role,
    ServiceAccount, Session, SigningKey, Tenant, TenantRef, Token, User,
};
use super::policy::Policy;
use super::sqlite::SCHEMA_VERSION;
use super::store::{AuditEvent, DailyUsage, Store, StoredBatch, Tx, UsageDelta};
use crate::jwt::Algorithm;

/// How long connecting may take (unless the URL says `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Each connection's limits: a statement runs at most 30 s, waits at most 10 s for a lock
/// (the writers' advisory lock included: like SQLite's busy timeout), and a transaction left
/// idle for a minute (a replica stuck while holding the write lock) is ended by the server.
const SESSION_SETTINGS: &str = "SET statement_timeout = 30000; SET lock_timeout = 10000; \
     SET idle_in_transaction_session_timeout = 60000";

/// How long `lock_timeout` lets a writer wait, for messages.
const LOCK_WAIT_SECS: u64 = 10;

/// How long a caller waits for a free connection of the pool.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// The advisory locks are per schema: `(class, hashtext(schema))`, the two-key form, whose
/// key space is apart from the one-key form other software tends to use. Two deployments in
/// two schemas of one database never wait for each other; replicas of one deployment share
/// the schema, so they share the lock. `hashtext` runs on the server, so every replica gets
/// the same key whatever its version. (`COALESCE`: with no schema to work in, the lock
/// statement must still take a lock, not return NULL; the write then fails on its table.)
macro_rules! schema_lock {
    ($class:literal) => {
        concat!(
            "SELECT pg_advisory_xact_lock(",
            $class,
            ", hashtext(COALESCE(current_schema(), '')))"
        )
    };
}

/// The advisory lock every write transaction holds: class "tokw" as a big-endian i32.
pub(super) const WRITE_LOCK: &str = schema_lock!("1953459063");

/// The advisory lock migrations run under: class "tokm" as a big-endian i32.
const MIGRATION_LOCK: &str = schema_lock!("1953459053");

/// A write: READ COMMITTED on purpose. Each statement sees what was committed before it
/// started, and the first statement after `BEGIN` waits for the write lock, so every read of
/// a write transaction sees every earlier write. (Under REPEATABLE READ the snapshot would be
/// taken by the lock statement itself, before it waits: a stale view, lost updates.) One round
/// trip: both statements go in one simple query.
static BEGIN_WRITE: LazyLock<String> =
    LazyLock::new(|| format!("BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE; {WRITE_LOCK}"));

/// A read: one consistent snapshot, taken at its first statement.
const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// A migration: under its own advisory lock, so that replicas starting at once migrate once
/// (the others wait, up to 5 minutes, then find the work done); without the statement timeout,
/// as a later migration may rewrite a large table.
static MIGRATE_BEGIN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE; \
         SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 300000; {MIGRATION_LOCK}"
    )
});

/// The whole schema at version 6: the end state of SQLite's first six migrations (later
/// ones are [`MIGRATIONS`]). Every text column is `COLLATE "C"`: SQLite's BINARY collation
/// compares and orders by bytes (UTF-8 code points) and is case-sensitive; a database's
/// default collation (en_US and the like) would order names differently.
const SCHEMA_V6: &str = r#"
CREATE TABLE orgs (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    max_token_lifetime BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE instances (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    name TEXT COLLATE "C" NOT NULL,
    algorithm TEXT COLLATE "C" NOT NULL,
    audience TEXT COLLATE "C" NOT NULL,
    issuer TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE signing_keys (
    kid TEXT COLLATE "C" PRIMARY KEY,
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id),
    algorithm TEXT COLLATE "C" NOT NULL,
    sealed_private BYTEA NOT NULL,
    public_der BYTEA,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE TABLE tenants (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id),
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    name TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C",
    kid TEXT COLLATE "C" NOT NULL REFERENCES signing_keys(kid),
    token_hash BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT,
    UNIQUE (tenant_id, name)
);
CREATE INDEX tokens_kid ON tokens (kid);
CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    target TEXT COLLATE "C" NOT NULL,
    detail TEXT COLLATE "C",
    source TEXT COLLATE "C"
);
CREATE INDEX audit_at ON audit (org_id, at);
CREATE TABLE users (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    username TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled_at BIGINT
);
CREATE TABLE sessions (
    id TEXT COLLATE "C" PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    principal_kind TEXT COLLATE "C" NOT NULL,
    principal_id TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    max_expires_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX sessions_principal ON sessions (principal_kind, principal_id);
CREATE TABLE idempotency_keys (
    principal TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    request_hash BYTEA NOT NULL,
    status BIGINT,
    sealed_response BYTEA,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE TABLE roles (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C",
    actions TEXT COLLATE "C" NOT NULL,
    resources TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE role_assignments (
    role_id TEXT COLLATE "C" NOT NULL,
    holder_kind TEXT COLLATE "C" NOT NULL,
    holder_id TEXT COLLATE "C" NOT NULL,
    holder_name TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (role_id, holder_kind, holder_id)
);
CREATE INDEX role_assignments_holder ON role_assignments (holder_kind, holder_id);
CREATE TABLE app_tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    name TEXT COLLATE "C" NOT NULL,
    client_id TEXT COLLATE "C" NOT NULL UNIQUE,
    token_hash BYTEA NOT NULL UNIQUE,
    secret_hash BYTEA NOT NULL UNIQUE,
    description TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT,
    UNIQUE (org_id, name)
);
CREATE TABLE service_accounts (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    service_account_id TEXT COLLATE "C" NOT NULL REFERENCES service_accounts(id),
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances(id),
    name TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C",
    kid TEXT COLLATE "C" NOT NULL,
    key_hash BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT,
    UNIQUE (org_id, name)
);
CREATE INDEX api_keys_revoked ON api_keys (revoked_at);
CREATE TABLE revocations (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    jti TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT,
    UNIQUE (org_id, jti)
);
CREATE TABLE usage_daily (
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    day BIGINT NOT NULL,
    tenant TEXT COLLATE "C" NOT NULL,
    namespace TEXT COLLATE "C" NOT NULL,
    metric TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    value BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, tenant, namespace, metric, source)
);
CREATE TABLE usage_batches (
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    batch_id TEXT COLLATE "C" NOT NULL,
    digest BYTEA NOT NULL,
    result TEXT COLLATE "C" NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, batch_id)
);
CREATE INDEX usage_batches_created ON usage_batches (created_at);
CREATE TABLE rate_cards (
    org_id TEXT COLLATE "C" PRIMARY KEY REFERENCES orgs(id),
    card TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL
);
"#;

/// The version a fresh database is created at (with [`SCHEMA_V6`]).
const BASE_VERSION: i64 = 6;

/// Migrations after the base schema, as `(version, sql)`; the last version is the binary's
/// [`SCHEMA_VERSION`], shared with the SQLite store.
const MIGRATIONS: &[(i64, &str)] = &[
    // 7: when each fleet-wide job (the purge) last ran, and on which replica.
    (
        7,
        r#"CREATE TABLE job_runs (
            name TEXT COLLATE "C" PRIMARY KEY,
            holder TEXT COLLATE "C" NOT NULL,
            ran_at BIGINT NOT NULL
        );"#,
    ),
];

const _: () = assert!(
    BASE_VERSION + MIGRATIONS.len() as i64 == SCHEMA_VERSION,
    "the PostgreSQL schema must reach the SQLite store's SCHEMA_VERSION"
);

/// A PostgreSQL database the control plane runs on, through a small pool of connections.
///
/// The client is `postgres`, the synchronous one: each call blocks its thread, and the
/// client itself panics when called from inside a Tokio runtime's async context (it runs its
/// own runtime). [`Store::read`] and [`Store::write`] therefore leave the async context
/// themselves on a multi-threaded runtime (`block_in_place`), so that the server may call
/// them from its async workers; on a current-thread runtime they return an error instead
/// (see `off_the_async_context`). Other uses of the client (connecting, dropping the store)
/// still belong outside async code.
///
/// Writes are serialized across every replica sharing the database: each write transaction
/// first takes one advisory lock ([`Store::write`]). The control plane's rules were written
/// for SQLite's single writer (a name is free → insert it; "keep an administrator"; an
/// idempotency key claimed once), and under that lock they stay race-free without being
/// rewritten as compare-and-set statements.
pub struct PgStore {
    connector: Connector,
    /// The first `(n / 4).max(1)` connections: writers wait for each other on the
    /// advisory lock while holding one, so readers have their own and never queue behind
    /// them (as the SQLite store does).
    writers: Pool,
    /// `None` with a single connection: reads share the writers' pool.
    readers: Option<Pool>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.connector.target;
        f.debug_struct("PgStore")
            .field("host", &t.host)
            .field("port", &t.port)
            .field("db", &t.dbname)
            .field("user", &t.user)
            .field(
                "connections",
                &(self.writers.slots.len() + self.readers.as_ref().map_or(0, |p| p.slots.len())),
            )
            .finish()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?…`, or a
    /// libpq-style `key=value` string), with up to `connections` connections (at least one),
    /// and migrates it.
    ///
    /// TLS follows `sslmode`: `disable`, `prefer` or `require` (server certificates are
    /// checked against the system's roots, as HTTPS is). Without `sslmode`, a loopback host
    /// or a Unix socket means `disable` and any other host `prefer`.
    pub fn connect(url: &str, connections: usize) -> ControlResult<PgStore> {
        let config = parse_url(url)?;
        PgStore::with_config(config, connections)
    }

    fn with_config(config: Config, connections: usize) -> ControlResult<PgStore> {
        let connector = Connector::new(config)?;
        let connections = connections.max(1);
        let writers = if connections == 1 {
            1
        } else {
            (connections / 4).max(1)
        };
        let store = PgStore {
            writers: Pool::new(writers),
            readers: (connections > writers).then(|| Pool::new(connections - writers)),
            connector,
        };
        // The first connection is made now: a wrong URL or password fails here, not on the
        // first request; the others are made when first needed.
        let mut lease = store.writers.acquire(&store.connector.target.redacted)?;
        let conn = lease.insert(store.connector.open()?);
        store.migrate(conn)?;
        drop(lease);
        Ok(store)
    }

    /// The database's URL with the password replaced by `***`, for logs and messages.
    pub fn redacted_url(&self) -> &str {
        &self.connector.target.redacted
    }

    fn migrate(&self, conn: &mut Conn) -> ControlResult<()> {
        let target = &self.connector.target.redacted;
        let err = |e: postgres::Error| pg_error(&e, target);
        let mut open = Open { conn, done: false };
        open.conn
            .client
            .batch_execute(&MIGRATE_BEGIN)
            .map_err(err)?;
        let client = &mut open.conn.client;
        client
            .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .map_err(err)?;
        let current: i64 = client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
            .and_then(|r| r.try_get(0))
            .map_err(err)?;
        if current > SCHEMA_VERSION {
            return Err(ControlError::Store {
                message: format!(
                    "the database {target} has schema version {current}, newer than this tok \
                     understands ({SCHEMA_VERSION}); nothing was changed"
                ),
                hint: Some("upgrade tok to the version that wrote this database".into()),
            });
        }
        if current == 0 {
            client.batch_execute(SCHEMA_V6).map_err(err)?;
            client
                .execute(
                    "INSERT INTO schema_version (version) VALUES ($1)",
                    &[&BASE_VERSION],
                )
                .map_err(err)?;
        } else if current < BASE_VERSION {
            return Err(ControlError::store(format!(
                "the database {target} has schema version {current}, which no PostgreSQL store \
                 of tok ever wrote; nothing was changed"
            )));
        }
        for (version, sql) in MIGRATIONS
            .iter()
            .filter(|(v, _)| *v > current.max(BASE_VERSION))
        {
            client.batch_execute(sql).map_err(err)?;
            client
                .execute(
                    "INSERT INTO schema_version (version) VALUES ($1)",
                    &[version],
                )
                .map_err(err)?;
        }
        open.conn.client.batch_execute("COMMIT").map_err(err)?;
        open.done = true;
        Ok(())
    }

    fn run<T>(
        &self,
        write: bool,
        f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>,
    ) -> ControlResult<T> {
        let target = &self.connector.target.redacted;
        let pool = match (&self.readers, write) {
            (Some(readers), false) => readers,
            _ => &self.writers,
        };
        let mut lease = pool.acquire(target)?;
        let begin: &str = if write { &BEGIN_WRITE } else { BEGIN_READ };
        let conn = self.begin(&mut lease, begin)?;
        let mut open = Open { conn, done: false };
        let mut tx = PgTx {
            conn: &mut *open.conn,
            target,
            failed: None,
        };
        let value = f(&mut tx);
        let failed = tx.failed.take();
        match (value, failed) {
            (Ok(value), None) => {
                open.conn.client.batch_execute("COMMIT").map_err(|e| {
                    if is_connection_error(&e) {
                        open.conn.broken = true;
                        ControlError::Store {
                            message: format!(
                                "the connection to the database {target} was lost while \
                                 committing: the change may or may not have been saved"
                            ),
                            hint: Some("look before trying again".into()),
                        }
                    } else {
                        pg_error(&e, target)
                    }
                })?;
                open.done = true;
                Ok(value)
            }
            // PostgreSQL aborts a transaction at its first failed statement, and a COMMIT
            // after that silently rolls back: never report that as a success.
            (Ok(_), Some(why)) => Err(ControlError::store(format!(
                "a statement failed inside the transaction ({why}); PostgreSQL rolled all of \
                 it back"
            ))),
            (Err(e), _) => Err(e),
        }
    }

    /// The leased connection inside a fresh `BEGIN`, connecting when it has none or its
    /// connection died; a pooled connection found dead by `BEGIN` (a restarted server) is
    /// replaced once, as nothing has been done yet.
    fn begin<'l>(&self, slot: &'l mut Option<Conn>, begin: &str) -> ControlResult<&'l mut Conn> {
        let target = &self.connector.target.redacted;
        if slot
            .as_ref()
            .is_none_or(|c| c.broken || c.client.is_closed())
        {
            *slot = None;
            *slot = Some(self.connector.open()?);
        }
        let retry = match slot.as_mut() {
            Some(conn) => match start(conn, begin) {
                Ok(()) => false,
                Err(e) if conn.broken => {
                    let why = "a pooled database connection was lost; reconnecting";
                    tracing::warn!(database = %target, error = %e, "{why}");
                    true
                }
                Err(e) => return Err(pg_error(&e, target)),
            },
            None => true,
        };
        if retry {
            *slot = None;
            let mut conn = self.connector.open()?;
            start(&mut conn, begin).map_err(|e| pg_error(&e, target))?;
            *slot = Some(conn);
        }
        slot.as_mut()
            .ok_or_else(|| ControlError::store("the database connection went away"))
    }
}

/// Runs `BEGIN…` on `conn`; on failure the half-begun transaction (a lock wait that timed
/// out) is rolled back, and a connection that died is marked broken.
fn start(conn: &mut Conn, begin: &str) -> Result<(), postgres::Error> {
    conn.client.batch_execute(begin).inspect_err(|e| {
        conn.broken = is_connection_error(e)
            || conn.client.is_closed()
            || conn.client.batch_execute("ROLLBACK").is_err();
    })
}

impl Store for PgStore {
    /// One write transaction: `BEGIN` (READ COMMITTED), then the write lock (one per schema)
    /// (`pg_advisory_xact_lock`), so that one writer at a time runs across every replica and
    /// the rules' read-then-write checks (names, "keep an administrator", idempotency
    /// claims) cannot race; `COMMIT` when `f` succeeds, `ROLLBACK` when it fails or panics.
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        off_the_async_context(|| self.run(true, f))
    }

    /// One read-only REPEATABLE READ transaction: every statement of `f` sees the same
    /// snapshot. Never waits for writers.
    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        off_the_async_context(|| self.run(false, f))
    }
}

/// Runs `run` (one transaction) where the synchronous client may block.
///
/// The client panics when called on a Tokio async worker (it drives its connection with a
/// runtime of its own, and a runtime cannot be entered from inside another's async context),
/// yet `tok server` calls the store from its async workers: its `read()` runs point reads
/// inline, because for SQLite a hop to a blocking thread costs more than the query (see
/// `crate::server::read`). So:
///
/// - outside any runtime, or on a `spawn_blocking` thread of a multi-threaded runtime:
///   `block_in_place` just runs `run`;
/// - on a multi-threaded runtime's async worker: `block_in_place` hands the worker's other
///   tasks to another thread and runs `run` here, where blocking is allowed;
/// - on a current-thread runtime (`#[tokio::test]`'s default, `new_current_thread`): there is
///   no other thread to hand its tasks to, so `block_in_place` would panic on its async
///   thread; and that thread cannot be told apart from the runtime's `spawn_blocking` threads
///   (where blocking would be fine) through Tokio's API. Running `run` on a scoped thread of
///   our own would need the transaction's closure to be `Send`, which `Store` does not ask.
///   So the store refuses, with an error that says what to do, rather than panic.
fn off_the_async_context<T>(run: impl FnOnce() -> ControlResult<T>) -> ControlResult<T> {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => run(),
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
        Ok(flavor) => Err(ControlError::Store {
            message: format!(
                "the PostgreSQL store was called on a thread of a {} Tokio runtime, where its \
                 synchronous client cannot block; nothing was done",
                match flavor {
                    tokio::runtime::RuntimeFlavor::CurrentThread => "current-thread",
                    _ => "non-multi-threaded",
                }
            ),
            hint: Some(
                "call it from a multi-threaded runtime (async workers and spawn_blocking \
                 threads both work) or from a thread outside any runtime"
                    .into(),
            ),
        }),
    }
}

/// Where the store connects, for messages: never the password.
#[derive(Clone)]
struct Target {
    user: String,
    host: String,
    port: u16,
    dbname: String,
    /// `postgres://user:***@host:port/db` (`***` only when there is a password).
    redacted: String,
}

/// What opens connections: the parsed configuration (with the password) and TLS.
struct Connector {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    target: Target,
}

impl Connector {
    fn new(config: Config) -> ControlResult<Connector> {
        let target = target_of(&config);
        let tls = if config.get_ssl_mode() == SslMode::Disable {
            None
        } else {
            Some(tls_connector().map_err(|e| {
                ControlError::store(format!(
                    "cannot set up TLS for the database {}: {e}",
                    target.redacted
                ))
            })?)
        };
        Ok(Connector {
            config,
            tls,
            target,
        })
    }

    fn client(&self) -> ControlResult<Client> {
        let connected = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        };
        let mut client = connected.map_err(|e| self.connect_error(&e))?;
        client
            .batch_execute(SESSION_SETTINGS)
            .map_err(|e| self.connect_error(&e))?;
        Ok(client)
    }

    fn open(&self) -> ControlResult<Conn> {
        Ok(Conn {
            client: self.client()?,
            statements: HashMap::new(),
            broken: false,
        })
    }

    fn connect_error(&self, e: &postgres::Error) -> ControlError {
        // The causes too: "error performing TLS handshake" alone does not say why.
        let mut why = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !why.contains(&cause_text) {
                why = format!("{why}: {cause_text}");
            }
            source = cause.source();
        }
        let why = scrub(&why, self.config.get_password());
        let hint = if why.contains("TLS") || why.contains("certificate") {
            "the server's certificate is checked against the system's trust store; for a \
             private CA, add it there or point SSL_CERT_FILE at it (or use sslmode=disable on \
             a trusted network)"
        } else {
            "check that PostgreSQL is running and reachable, and the URL's user, password and \
             database name"
        };
        ControlError::Store {
            message: format!(
                "cannot connect to the database {}: {why}",
                self.target.redacted
            ),
            hint: Some(hint.into()),
        }
    }
}

/// rustls with the aws-lc-rs provider and the platform's certificate verifier: what
/// reqwest uses for HTTPS.
fn tls_connector() -> Result<MakeRustlsConnect, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// A connection of its own to `url`, opened the way the store opens its connections (the
/// URL's defaults, TLS, session settings): for work outside the store's transactions, such
/// as copying a database into it.
pub(super) fn connect_client(url: &str) -> ControlResult<Client> {
    Connector::new(parse_url(url)?)?.client()
}

/// Parses a database URL and applies the store's defaults: `sslmode=disable` for a local
/// server when the URL names no `sslmode`, a 10 s connect timeout, `application_name=tok`.
fn parse_url(url: &str) -> ControlResult<Config> {
    let mut config = Config::from_str(url).map_err(|e| ControlError::Store {
        message: format!(
            "the database URL {} is not valid: {}",
            redact(url),
            scrub(
                &e.to_string(),
                password_in(url).as_deref().map(str::as_bytes)
            )
        ),
        hint: Some(
            "write it as postgres://user:password@host:port/database (with \
             ?sslmode=disable|prefer|require); percent-encode reserved characters in the \
             password"
                .into(),
        ),
    })?;
    let invalid = |what: &str| ControlError::Store {
        message: format!("the database URL {} names no {what}", redact(url)),
        hint: Some("write it as postgres://user:password@host:port/database".into()),
    };
    if config.get_user().is_none() {
        return Err(invalid("user"));
    }
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        return Err(invalid("host"));
    }
    if !names_sslmode(url) && is_local(&config) {
        config.ssl_mode(SslMode::Disable);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("tok");
    }
    Ok(config)
}

/// Whether the URL (or `key=value` string) sets `sslmode` itself.
fn names_sslmode(url: &str) -> bool {
    if let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    {
        // As the parser reads it: credentials up to the first '@', then the query after '?'.
        let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
        let Some((_, query)) = rest.split_once('?') else {
            return false;
        };
        query.split('&').any(|kv| {
            let key = kv.split_once('=').map_or(kv, |(k, _)| k);
            percent_encoding::percent_decode_str(key)
                .decode_utf8()
                .is_ok_and(|k| k == "sslmode")
        })
    } else {
        // key=value: a later key overrides an earlier one, so the URL's own sslmode wins
        // over both of two different defaults put in front of it.
        let mode = |default: &str| {
            Config::from_str(&format!("sslmode={default} {url}"))
                .map(|c| c.get_ssl_mode())
                .ok()
        };
        mode("disable") == mode("require")
    }
}

/// A loopback address, `localhost` or a Unix socket: no TLS by default.
fn is_local(config: &Config) -> bool {
    let hosts_local = config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        Host::Unix(_) => true,
    });
    hosts_local && config.get_hostaddrs().iter().all(|ip| ip.is_loopback())
}

fn target_of(config: &Config) -> Target {
    let user = config.get_user().unwrap_or_default().to_string();
    let mut hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    if hosts.is_empty() {
        hosts = config
            .get_hostaddrs()
            .iter()
            .map(ToString::to_string)
            .collect();
    }
    let ports = config.get_ports();
    // One port for every host, or one for all of them (5432 when none is given).
    let port_of = |i: usize| {
        ports
            .get(i)
            .or_else(|| ports.first())
            .copied()
            .unwrap_or(5432)
    };
    let shown: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if h.contains(':') && !h.starts_with('/') {
                format!("[{h}]:{}", port_of(i))
            } else {
                format!("{h}:{}", port_of(i))
            }
        })
        .collect();
    let dbname = config.get_dbname().unwrap_or(&user).to_string();
    let password = if config.get_password().is_some() {
        ":***"
    } else {
        ""
    };
    let redacted = format!("postgres://{user}{password}@{}/{dbname}", shown.join(","));
    Target {
        user,
        host: hosts.first().cloned().unwrap_or_default(),
        port: port_of(0),
        dbname,
        redacted,
    }
}

/// A database URL or `key=value` string with its password replaced by `***`: for messages
/// and logs about a URL that may not even parse.
pub fn redact(url: &str) -> String {
    if let Ok(config) = Config::from_str(url)
        && config.get_user().is_some()
    {
        return target_of(&config).redacted;
    }
    match password_in(url) {
        Some(p) if !p.is_empty() => url.replace(&p, "***"),
        _ => url.to_string(),
    }
}

/// The password as written in a URL of any scheme (before percent-decoding) or in a
/// `key=value` string.
fn password_in(url: &str) -> Option<String> {
    if let Some((_, rest)) = url.split_once("://") {
        let (creds, _) = rest.split_once('@')?;
        return creds.split_once(':').map(|(_, p)| p.to_string());
    }
    let at = url.find("password")?;
    let rest = url[at + "password".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    if let Some(quoted) = rest.strip_prefix('\'') {
        return Some(quoted.split('\'').next().unwrap_or_default().to_string());
    }
    Some(
        rest.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    )
}

/// `message` with every occurrence of the password replaced by `***`.
fn scrub(message: &str, password: Option<&[u8]>) -> String {
    match password.and_then(|p| std::str::from_utf8(p).ok()) {
        Some(p) if !p.is_empty() => message.replace(p, "***"),
        _ => message.to_string(),
    }
}

fn is_connection_error(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if e.as_db_error().is_some() {
        return matches!(
            e.code(),
            Some(c) if *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT
        );
    }
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// A PostgreSQL error as the control plane's: what SQLite's mapping says, with the codes
/// PostgreSQL uses. Never a statement's parameters (a DETAIL line can hold a key's value,
/// such as a token hash), never the password.
pub(super) fn pg_error(e: &postgres::Error, target: &str) -> ControlError {
    let Some(db) = e.as_db_error() else {
        if is_connection_error(e) {
            return ControlError::Store {
                message: format!("lost the connection to the database {target}: {e}"),
                hint: Some("check that PostgreSQL is running and reachable".into()),
            };
        }
        return ControlError::store(format!("database error: {e}"));
    };
    let code = db.code();
    if *code == SqlState::LOCK_NOT_AVAILABLE {
        ControlError::Store {
            message: format!(
                "the database {target} is held by another writer (waited {LOCK_WAIT_SECS} s)"
            ),
            hint: Some("try again when the other change has finished".into()),
        }
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
    {
        ControlError::Store {
            message: format!(
                "the change conflicted with another transaction: {}",
                db.message()
            ),
            hint: Some("try again".into()),
        }
    } else if *code == SqlState::QUERY_CANCELED {
        ControlError::store(format!(
            "a database statement was cancelled (it ran into the 30 s statement timeout): {}",
            db.message()
        ))
    } else if *code == SqlState::UNIQUE_VIOLATION {
        ControlError::store(format!(
            "database error: UNIQUE constraint failed: {}",
            constraint_of(db)
        ))
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        ControlError::store(format!(
            "database error: FOREIGN KEY constraint failed: {}",
            constraint_of(db)
        ))
    } else if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE
        || *code == SqlState::UNTRANSLATABLE_CHARACTER
    {
        ControlError::invalid(format!(
            "text the database cannot store (PostgreSQL refuses NUL characters): {}",
            db.message()
        ))
    } else if is_connection_error(e) {
        ControlError::Store {
            message: format!(
                "lost the connection to the database {target}: {}",
                db.message()
            ),
            hint: Some("check that PostgreSQL is running and reachable".into()),
        }
    } else {
        ControlError::store(format!(
            "database error: {} ({})",
            db.message(),
            code.code()
        ))
    }
}

fn constraint_of(db: &DbError) -> String {
    match (db.table(), db.constraint()) {
        (Some(t), Some(c)) => format!("{t} ({c})"),
        (None, Some(c)) => c.to_string(),
        (Some(t), None) => t.to_string(),
        (None, None) => db.message().to_string(),
    }
}

/// One pooled connection with its prepared statements.
struct Conn {
    client: Client,
    /// Statements prepared on this connection, by their SQL: a request pays no round trip
    /// to prepare what it ran before.
    statements: HashMap<&'static str, Statement>,
    /// Set when the connection is known dead or in an unknown state: replaced at next use.
    broken: bool,
}

impl Conn {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }
}

/// Connections, each behind its own mutex: a caller takes the first free one, or waits
/// (at most [`POOL_WAIT`]) until one is given back.
struct Pool {
    slots: Vec<Mutex<Option<Conn>>>,
    idle: Mutex<()>,
    freed: Condvar,
}

impl Pool {
    fn new(n: usize) -> Pool {
        Pool {
            slots: (0..n.max(1)).map(|_| Mutex::new(None)).collect(),
            idle: Mutex::new(()),
            freed: Condvar::new(),
        }
    }

    fn try_any(&self) -> Option<MutexGuard<'_, Option<Conn>>> {
        for slot in &self.slots {
            match slot.try_lock() {
                Ok(guard) => return Some(guard),
                // Its last user panicked: its transaction was rolled back as the panic
                // unwound ([`Open`]), or the connection was marked broken.
                Err(TryLockError::Poisoned(p)) => {
                    slot.clear_poison();
                    return Some(p.into_inner());
                }
                Err(TryLockError::WouldBlock) => {}
            }
        }
        None
    }

    fn acquire(&self, target: &str) -> ControlResult<Lease<'_>> {
        let deadline = Instant::now() + POOL_WAIT;
        loop {
            if let Some(guard) = self.try_any() {
                return Ok(Lease {
                    pool: self,
                    guard: Some(guard),
                });
            }
            // Checked again under `idle`: a connection given back notifies under it, so
            // none is missed between this check and the wait.
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(guard) = self.try_any() {
                return Ok(Lease {
                    pool: self,
                    guard: Some(guard),
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ControlError::Store {
                    message: format!(
                        "all {} connections to the database {target} stayed busy for {} s",
                        self.slots.len(),
                        POOL_WAIT.as_secs()
                    ),
                    hint: Some("give the server more connections, or try again".into()),
                });
            }
            drop(
                self.freed
                    .wait_timeout(idle, deadline - now)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
        }
    }
}

/// A connection slot taken from a pool; given back (and a waiter woken) on drop.
struct Lease<'p> {
    pool: &'p Pool,
    guard: Option<MutexGuard<'p, Option<Conn>>>,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Option<Conn>;
    fn deref(&self) -> &Option<Conn> {
        self.guard.as_deref().unwrap_or(&None)
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Option<Conn> {
        match self.guard.as_deref_mut() {
            Some(slot) => slot,
            None => unreachable!("a lease holds its slot until dropped"),
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let _idle = self
            .pool
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.pool.freed.notify_one();
    }
}

/// Rolls an open transaction back unless it was committed: on an error, and also while a
/// panic unwinds, so that a pooled connection never keeps a transaction (or the write lock).
/// A connection that cannot roll back is marked broken and replaced at its next use.
struct Open<'c> {
    conn: &'c mut Conn,
    done: bool,
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.done && self.conn.client.batch_execute("ROLLBACK").is_err() {
            self.conn.broken = true;
        }
    }
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

struct PgTx<'a> {
    conn: &'a mut Conn,
    target: &'a str,
    /// The first statement that failed: PostgreSQL has aborted the transaction since.
    failed: Option<String>,
}

fn get<'r, T: FromSql<'r>>(r: &'r Row, i: usize) -> ControlResult<T> {
    r.try_get(i)
        .map_err(|e| ControlError::store(format!("database error: column {i}: {e}")))
}

fn alg(s: String) -> ControlResult<Algorithm> {
    s.parse()
        .map_err(|e: String| ControlError::store(format!("database error: {e}")))
}

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl PgTx<'_> {
    fn fail(&mut self, e: &postgres::Error) -> ControlError {
        let err = pg_error(e, self.target);
        if self.failed.is_none() {
            self.failed = Some(err.to_string());
        }
        if is_connection_error(e) || self.conn.client.is_closed() {
            self.conn.broken = true;
        }
        err
    }

    fn rows(&mut self, sql: &'static str, params: Params<'_>) -> ControlResult<Vec<Row>> {
        let conn = &mut *self.conn;
        let result = conn
            .statement(sql)
            .and_then(|s| conn.client.query(&s, params));
        result.map_err(|e| self.fail(&e))
    }

    fn all<T>(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
        map: impl FnMut(&Row) -> ControlResult<T>,
    ) -> ControlResult<Vec<T>> {
        self.rows(sql, params)?.iter().map(map).collect()
    }

    /// The first row's mapping, if any row.
    fn one<T>(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
        map: impl FnOnce(&Row) -> ControlResult<T>,
    ) -> ControlResult<Option<T>> {
        self.rows(sql, params)?.first().map(map).transpose()
    }

    fn exec(&mut self, sql: &'static str, params: Params<'_>) -> ControlResult<usize> {
        let conn = &mut *self.conn;
        let result = conn
            .statement(sql)
            .and_then(|s| conn.client.execute(&s, params));
        result.map(count).map_err(|e| self.fail(&e))
    }
}

macro_rules! instance_cols {
    () => {
        "i.id, i.name, i.algorithm, i.audience, i.issuer, i.created_at, \
         (SELECT k.kid FROM signing_keys k WHERE k.instance_id = i.id AND k.retired_at IS NULL \
          ORDER BY k.created_at DESC, k.kid LIMIT 1)"
    };
}

fn instance_row(r: &Row) -> ControlResult<Instance> {
    Ok(Instance {
        id: get(r, 0)?,
        name: get(r, 1)?,
        algorithm: alg(get(r, 2)?)?,
        audience: get(r, 3)?,
        issuer: get(r, 4)?,
        created_at: get(r, 5)?,
        kid: get::<Option<String>>(r, 6)?.unwrap_or_default(),
    })
}

macro_rules! key_cols {
    () => {
        "kid, instance_id, algorithm, sealed_private, public_der, created_at, retired_at"
    };
}

fn key_row(r: &Row) -> ControlResult<SigningKey> {
    Ok(SigningKey {
        kid: get(r, 0)?,
        instance_id: get(r, 1)?,
        algorithm: alg(get(r, 2)?)?,
        sealed: get(r, 3)?,
        public_der: get(r, 4)?,
        created_at: get(r, 5)?,
        retired_at: get(r, 6)?,
    })
}

macro_rules! tenant_cols {
    () => {
        "t.id, t.instance_id, i.name, t.name, t.description, t.created_at, \
         (SELECT COUNT(*) FROM tokens k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL)"
    };
}

fn tenant_row(r: &Row) -> ControlResult<Tenant> {
    Ok(Tenant {
        id: get(r, 0)?,
        instance_id: get(r, 1)?,
        instance: get(r, 2)?,
        name: get(r, 3)?,
        description: get(r, 4)?,
        created_at: get(r, 5)?,
        token_count: get(r, 6)?,
    })
}

macro_rules! token_cols {
    () => {
        "k.id, k.tenant_id, t.name, i.name, k.name, k.subject, k.description, \
         k.kid, k.token_hash, k.created_at, k.expires_at, k.last_used_at, k.revoked_at"
    };
}

macro_rules! token_from {
    () => {
        " FROM tokens k JOIN tenants t ON t.id = k.tenant_id \
         JOIN instances i ON i.id = t.instance_id"
    };
}

fn token_row(r: &Row) -> ControlResult<Token> {
    Ok(Token {
        roles: Vec::new(),
        id: get(r, 0)?,
        tenant_id: get(r, 1)?,
        tenant: get(r, 2)?,
        instance: get(r, 3)?,
        name: get(r, 4)?,
        subject: get(r, 5)?,
        description: get(r, 6)?,
        kid: get(r, 7)?,
        token_hash: get(r, 8)?,
        created_at: get(r, 9)?,
        expires_at: get(r, 10)?,
        last_used_at: get(r, 11)?,
        revoked_at: get(r, 12)?,
    })
}

macro_rules! sa_cols {
    () => {
        "s.id, s.org_id, s.name, s.description, s.created_at, \
         (SELECT COUNT(*) FROM api_keys a WHERE a.service_account_id = s.id \
          AND a.revoked_at IS NULL)"
    };
}

fn sa_row(r: &Row) -> ControlResult<ServiceAccount> {
    Ok(ServiceAccount {
        id: get(r, 0)?,
        org_id: get(r, 1)?,
        name: get(r, 2)?,
        description: get(r, 3)?,
        created_at: get(r, 4)?,
        apikey_count: get(r, 5)?,
        roles: Vec::new(),
    })
}

macro_rules! key_cols_a {
    () => {
        "a.id, a.org_id, a.service_account_id, s.name, a.instance_id, i.name, \
         a.name, a.description, a.kid, a.key_hash, a.created_at, a.expires_at, a.last_used_at, \
         a.revoked_at"
    };
}

macro_rules! key_from_a {
    () => {
        " FROM api_keys a JOIN service_accounts s ON s.id = a.service_account_id \
         JOIN instances i ON i.id = a.instance_id"
    };
}

fn api_key_row(r: &Row) -> ControlResult<ApiKey> {
    Ok(ApiKey {
        id: get(r, 0)?,
        org_id: get(r, 1)?,
        service_account_id: get(r, 2)?,
        service_account: get(r, 3)?,
        instance_id: get(r, 4)?,
        instance: get(r, 5)?,
        name: get(r, 6)?,
        description: get(r, 7)?,
        kid: get(r, 8)?,
        key_hash: get(r, 9)?,
        created_at: get(r, 10)?,
        expires_at: get(r, 11)?,
        last_used_at: get(r, 12)?,
        revoked_at: get(r, 13)?,
    })
}

macro_rules! app_cols {
    () => {
        "a.id, a.org_id, o.name, a.name, a.client_id, a.token_hash, a.secret_hash, \
         a.description, a.created_at, a.expires_at, a.last_used_at, a.revoked_at"
    };
}

macro_rules! app_from {
    () => {
        " FROM app_tokens a JOIN orgs o ON o.id = a.org_id"
    };
}

fn app_token_row(r: &Row) -> ControlResult<AppToken> {
    Ok(AppToken {
        id: get(r, 0)?,
        org_id: get(r, 1)?,
        org: get(r, 2)?,
        name: get(r, 3)?,
        client_id: get(r, 4)?,
        token_hash: get(r, 5)?,
        secret_hash: get(r, 6)?,
        description: get(r, 7)?,
        created_at: get(r, 8)?,
        expires_at: get(r, 9)?,
        last_used_at: get(r, 10)?,
        revoked_at: get(r, 11)?,
        roles: Vec::new(),
    })
}

macro_rules! role_cols {
    () => {
        "id, org_id, name, description, actions, resources, created_at, updated_at"
    };
}

/// The assignment's role id, then a custom role's columns (NULL for a built-in role).
macro_rules! role_cols_r {
    () => {
        "ra.role_id, r.id, r.org_id, r.name, r.description, r.actions, \
         r.resources, r.created_at, r.updated_at"
    };
}

fn actions_json(p: &Policy) -> String {
    let names: Vec<&str> = p.actions.iter().map(|a| a.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

fn resources_json(p: &Policy) -> String {
    let names: Vec<String> = p.resources.iter().map(ToString::to_string).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

/// A role whose columns start at `at`; a policy that no longer parses is an error, never
/// silently narrowed.
fn role_row_at(r: &Row, at: usize) -> ControlResult<Role> {
    let id: String = get(r, at)?;
    let actions: String = get(r, at + 4)?;
    let resources: String = get(r, at + 5)?;
    let policy = parse_stored_policy(&actions, &resources).map_err(|why| {
        ControlError::store(format!("role {id} holds an unreadable policy: {why}"))
    })?;
    Ok(Role {
        org_id: get(r, at + 1)?,
        name: get(r, at + 2)?,
        description: get(r, at + 3)?,
        policy,
        builtin: false,
        created_at: get(r, at + 6)?,
        updated_at: get(r, at + 7)?,
        id,
    })
}

fn role_row(r: &Row) -> ControlResult<Role> {
    role_row_at(r, 0)
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

macro_rules! user_cols {
    () => {
        "u.id, u.org_id, o.name, u.username, u.password_hash, u.created_at, \
         u.failed_logins, u.locked_until, u.disabled_at"
    };
}

macro_rules! user_from {
    () => {
        " FROM users u JOIN orgs o ON o.id = u.org_id"
    };
}

fn user_row(r: &Row) -> ControlResult<User> {
    Ok(User {
        id: get(r, 0)?,
        org_id: get(r, 1)?,
        org: get(r, 2)?,
        username: get(r, 3)?,
        password_hash: get(r, 4)?,
        created_at: get(r, 5)?,
        failed_logins: get(r, 6)?,
        locked_until: get(r, 7)?,
        disabled_at: get(r, 8)?,
        roles: Vec::new(),
    })
}

/// A counter's day adds up, saturating at the largest BIGINT rather than overflowing (as
/// the SQLite store's does). The first branch keeps `9223372036854775807 - value` from
/// overflowing for a negative value, which PostgreSQL would refuse where SQLite goes on in
/// floating point: counters are never negative, but the sum must not fail on one.
const COUNTER_UPSERT: &str = "INSERT INTO usage_daily \
     (org_id, day, tenant, namespace, metric, source, value, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (org_id, day, tenant, namespace, metric, source) DO UPDATE SET \
     value = CASE WHEN excluded.value <= 0 THEN usage_daily.value + excluded.value \
     WHEN usage_daily.value > 9223372036854775807 - excluded.value \
     THEN 9223372036854775807 ELSE usage_daily.value + excluded.value END, \
     at = GREATEST(usage_daily.at, excluded.at)";

/// A gauge's day keeps its latest value (the larger one on a tie, so that the order in which
/// records arrive does not matter).
const GAUGE_UPSERT: &str = "INSERT INTO usage_daily \
     (org_id, day, tenant, namespace, metric, source, value, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (org_id, day, tenant, namespace, metric, source) DO UPDATE SET \
     value = CASE WHEN excluded.at > usage_daily.at \
     OR (excluded.at = usage_daily.at AND excluded.value > usage_daily.value) \
     THEN excluded.value ELSE usage_daily.value END, \
     at = GREATEST(usage_daily.at, excluded.at)";

impl Tx for PgTx<'_> {
    fn org_id(&mut self, org: &str) -> ControlResult<Option<String>> {
        self.one("SELECT id FROM orgs WHERE name = $1", &[&org], |r| {
            get(r, 0)
        })
    }

    fn insert_org(&mut self, id: &str, org: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)",
            &[&id, &org, &now],
        )
        .map(drop)
    }

    fn max_token_lifetime(&mut self, org_id: &str) -> ControlResult<Option<i64>> {
        self.one(
            "SELECT max_token_lifetime FROM orgs WHERE id = $1",
            &[&org_id],
            |r| get(r, 0),
        )
        .map(Option::flatten)
    }

    fn set_max_token_lifetime(&mut self, org_id: &str, secs: Option<i64>) -> ControlResult<()> {
        self.exec(
            "UPDATE orgs SET max_token_lifetime = $2 WHERE id = $1",
            &[&org_id, &secs],
        )
        .map(drop)
    }

    fn insert_instance(&mut self, org_id: &str, i: &Instance) -> ControlResult<()> {
        self.exec(
            "INSERT INTO instances (id, org_id, name, algorithm, audience, issuer, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &i.id,
                &org_id,
                &i.name,
                &i.algorithm.as_str(),
                &i.audience,
                &i.issuer,
                &i.created_at,
            ],
        )
        .map(drop)
    }

    fn instance(&mut self, org_id: &str, name: &str) -> ControlResult<Option<Instance>> {
        self.one(
            concat!(
                "SELECT ",
                instance_cols!(),
                " FROM instances i WHERE i.org_id = $1 AND i.name = $2"
            ),
            &[&org_id, &name],
            instance_row,
        )
    }

    fn instances(&mut self, org_id: &str) -> ControlResult<Vec<Instance>> {
        self.all(
            concat!(
                "SELECT ",
                instance_cols!(),
                " FROM instances i WHERE i.org_id = $1 ORDER BY i.name"
            ),
            &[&org_id],
            instance_row,
        )
    }

    fn delete_instance(&mut self, instance_id: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM signing_keys WHERE instance_id = $1",
            &[&instance_id],
        )?;
        self.exec("DELETE FROM instances WHERE id = $1", &[&instance_id])
            .map(drop)
    }

    fn insert_key(&mut self, k: &SigningKey) -> ControlResult<()> {
        self.exec(
            concat!(
                "INSERT INTO signing_keys (",
                key_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            &[
                &k.kid,
                &k.instance_id,
                &k.algorithm.as_str(),
                &k.sealed,
                &k.public_der,
                &k.created_at,
                &k.retired_at,
            ],
        )
        .map(drop)
    }

    fn keys(&mut self, instance_id: &str) -> ControlResult<Vec<SigningKey>> {
        self.all(
            concat!(
                "SELECT ",
                key_cols!(),
                " FROM signing_keys WHERE instance_id = $1 ORDER BY created_at DESC, kid"
            ),
            &[&instance_id],
            key_row,
        )
    }

    fn retire_key(&mut self, kid: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE signing_keys SET retired_at = $2 WHERE kid = $1",
            &[&kid, &now],
        )
        .map(drop)
    }

    fn insert_tenant(&mut self, org_id: &str, t: &Tenant) -> ControlResult<()> {
        self.exec(
            "INSERT INTO tenants (id, org_id, instance_id, name, description, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &t.id,
                &org_id,
                &t.instance_id,
                &t.name,
                &t.description,
                &t.created_at,
            ],
        )
        .map(drop)
    }

    fn tenant(&mut self, org_id: &str, name: &str) -> ControlResult<Option<Tenant>> {
        self.one(
            concat!(
                "SELECT ",
                tenant_cols!(),
                " FROM tenants t JOIN instances i ON i.id = t.instance_id \
                 WHERE t.org_id = $1 AND t.name = $2"
            ),
            &[&org_id, &name],
            tenant_row,
        )
    }

    fn tenant_ref(&mut self, org_id: &str, name: &str) -> ControlResult<Option<TenantRef>> {
        self.one(
            "SELECT t.id, t.name, i.name FROM tenants t JOIN instances i ON i.id = t.instance_id \
             WHERE t.org_id = $1 AND t.name = $2",
            &[&org_id, &name],
            |r| {
                Ok(TenantRef {
                    id: get(r, 0)?,
                    name: get(r, 1)?,
                    instance: get(r, 2)?,
                })
            },
        )
    }

    fn tenants(&mut self, org_id: &str, instance_id: Option<&str>) -> ControlResult<Vec<Tenant>> {
        self.all(
            concat!(
                "SELECT ",
                tenant_cols!(),
                " FROM tenants t JOIN instances i ON i.id = t.instance_id \
                 WHERE t.org_id = $1 AND ($2::text IS NULL OR t.instance_id = $2) \
                 ORDER BY t.name"
            ),
            &[&org_id, &instance_id],
            tenant_row,
        )
    }

    fn delete_tenant(&mut self, tenant_id: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM role_assignments WHERE holder_kind = 'streaming-token' \
             AND holder_id IN (SELECT id FROM tokens WHERE tenant_id = $1)",
            &[&tenant_id],
        )?;
        self.exec("DELETE FROM tokens WHERE tenant_id = $1", &[&tenant_id])?;
        self.exec("DELETE FROM tenants WHERE id = $1", &[&tenant_id])
            .map(drop)
    }

    fn insert_token(&mut self, k: &Token) -> ControlResult<()> {
        self.exec(
            "INSERT INTO tokens (id, tenant_id, name, subject, description, kid, token_hash, \
             created_at, expires_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &k.id,
                &k.tenant_id,
                &k.name,
                &k.subject,
                &k.description,
                &k.kid,
                &k.token_hash,
                &k.created_at,
                &k.expires_at,
                &k.last_used_at,
                &k.revoked_at,
            ],
        )
        .map(drop)
    }

    fn token(&mut self, tenant_id: &str, name_or_id: &str) -> ControlResult<Option<Token>> {
        self.one(
            concat!(
                "SELECT ",
                token_cols!(),
                token_from!(),
                " WHERE k.tenant_id = $1 AND (k.name = $2 OR k.id = $2) \
                 ORDER BY k.name = $2 DESC LIMIT 1"
            ),
            &[&tenant_id, &name_or_id],
            token_row,
        )
    }

    fn token_by_names(
        &mut self,
        org: &str,
        tenant: &str,
        name_or_id: &str,
    ) -> ControlResult<Option<Token>> {
        self.one(
            concat!(
                "SELECT ",
                token_cols!(),
                token_from!(),
                " JOIN orgs o ON o.id = t.org_id \
                 WHERE o.name = $1 AND t.name = $2 AND (k.name = $3 OR k.id = $3) \
                 ORDER BY k.name = $3 DESC LIMIT 1"
            ),
            &[&org, &tenant, &name_or_id],
            token_row,
        )
    }

    fn tokens(&mut self, org_id: &str, tenant_id: Option<&str>) -> ControlResult<Vec<Token>> {
        self.all(
            concat!(
                "SELECT ",
                token_cols!(),
                token_from!(),
                " WHERE t.org_id = $1 AND ($2::text IS NULL OR k.tenant_id = $2) \
                 ORDER BY k.created_at, k.name"
            ),
            &[&org_id, &tenant_id],
            token_row,
        )
    }

    fn tokens_by_kid(&mut self, kid: &str) -> ControlResult<Vec<Token>> {
        self.all(
            concat!(
                "SELECT ",
                token_cols!(),
                token_from!(),
                " WHERE k.kid = $1 AND k.revoked_at IS NULL ORDER BY t.name, k.name"
            ),
            &[&kid],
            token_row,
        )
    }

    fn revoke_token(&mut self, token_id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&token_id, &now],
        )
        .map(drop)
    }

    fn insert_audit(&mut self, e: &AuditEvent<'_>) -> ControlResult<()> {
        self.exec(
            "INSERT INTO audit (org_id, at, actor, action, target, detail, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &e.org_id, &e.at, &e.actor, &e.action, &e.target, &e.detail, &e.source,
            ],
        )
        .map(drop)
    }

    fn audit(&mut self, org_id: &str, since: i64) -> ControlResult<Vec<AuditRecord>> {
        self.all(
            "SELECT id, at, actor, action, target, detail, source FROM audit \
             WHERE org_id = $1 AND at >= $2 ORDER BY id",
            &[&org_id, &since],
            |r| {
                Ok(AuditRecord {
                    id: get(r, 0)?,
                    at: get(r, 1)?,
                    actor: get(r, 2)?,
                    action: get(r, 3)?,
                    target: get(r, 4)?,
                    detail: get(r, 5)?,
                    source: get(r, 6)?,
                })
            },
        )
    }

    fn orgs(&mut self) -> ControlResult<Vec<String>> {
        self.all("SELECT name FROM orgs ORDER BY name", &[], |r| get(r, 0))
    }

    fn insert_user(&mut self, u: &User) -> ControlResult<()> {
        self.exec(
            "INSERT INTO users (id, org_id, username, password_hash, created_at, failed_logins, \
             locked_until, disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &u.id,
                &u.org_id,
                &u.username,
                &u.password_hash,
                &u.created_at,
                &u.failed_logins,
                &u.locked_until,
                &u.disabled_at,
            ],
        )
        .map(drop)
    }

    fn user(&mut self, org_id: &str, username: &str) -> ControlResult<Option<User>> {
        self.one(
            concat!(
                "SELECT ",
                user_cols!(),
                user_from!(),
                " WHERE u.org_id = $1 AND u.username = $2"
            ),
            &[&org_id, &username],
            user_row,
        )
    }

    fn user_anywhere(&mut self, username: &str) -> ControlResult<Option<User>> {
        self.one(
            concat!(
                "SELECT ",
                user_cols!(),
                user_from!(),
                " WHERE u.username = $1"
            ),
            &[&username],
            user_row,
        )
    }

    fn users(&mut self, org_id: &str) -> ControlResult<Vec<User>> {
        self.all(
            concat!(
                "SELECT ",
                user_cols!(),
                user_from!(),
                " WHERE u.org_id = $1 ORDER BY u.username"
            ),
            &[&org_id],
            user_row,
        )
    }

    fn delete_user(&mut self, user_id: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM sessions WHERE principal_kind = 'user' AND principal_id = $1",
            &[&user_id],
        )?;
        self.exec(
            "DELETE FROM role_assignments WHERE holder_kind = 'user' AND holder_id = $1",
            &[&user_id],
        )?;
        self.exec("DELETE FROM users WHERE id = $1", &[&user_id])
            .map(drop)
    }

    fn set_user_disabled(&mut self, user_id: &str, disabled_at: Option<i64>) -> ControlResult<()> {
        self.exec(
            "UPDATE users SET disabled_at = $2 WHERE id = $1",
            &[&user_id, &disabled_at],
        )
        .map(drop)
    }

    fn set_password_hash(&mut self, user_id: &str, hash: &str) -> ControlResult<()> {
        self.exec(
            "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL \
             WHERE id = $1",
            &[&user_id, &hash],
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
            "UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1",
            &[&user_id, &failed_logins, &locked_until],
        )
        .map(drop)
    }

    fn insert_session(&mut self, s: &Session, token_hash: &[u8]) -> ControlResult<()> {
        self.exec(
            "INSERT INTO sessions (id, token_hash, principal_kind, principal_id, created_at, \
             expires_at, max_expires_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &s.id,
                &token_hash,
                &s.principal_kind.as_str(),
                &s.principal_id,
                &s.created_at,
                &s.expires_at,
                &s.max_expires_at,
                &s.last_used_at,
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
             WHERE s.token_hash = $1 AND u.disabled_at IS NULL AND a.revoked_at IS NULL",
            &[&token_hash],
            |r| {
                let kind: String = get(r, 1)?;
                let Some(principal_kind) = PrincipalKind::parse(&kind) else {
                    return Ok(None);
                };
                Ok(Some(Session {
                    id: get(r, 0)?,
                    principal_kind,
                    principal_id: get(r, 2)?,
                    principal_name: get(r, 3)?,
                    org: get(r, 4)?,
                    created_at: get(r, 5)?,
                    expires_at: get(r, 6)?,
                    max_expires_at: get(r, 7)?,
                    last_used_at: get(r, 8)?,
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
        session.grants = Arc::new(super::auth::grants_of(&roles));
        Ok(Some(session))
    }

    fn touch_session(&mut self, id: &str, expires_at: i64, used_at: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE sessions SET expires_at = CASE WHEN expires_at < $2 THEN $2 ELSE expires_at END, \
             last_used_at = $3 WHERE id = $1",
            &[&id, &expires_at, &used_at],
        )
        .map(drop)
    }

    fn delete_session(&mut self, id: &str) -> ControlResult<()> {
        self.exec("DELETE FROM sessions WHERE id = $1", &[&id])
            .map(drop)
    }

    fn delete_sessions_of(
        &mut self,
        kind: PrincipalKind,
        principal_id: &str,
    ) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM sessions WHERE principal_kind = $1 AND principal_id = $2",
            &[&kind.as_str(), &principal_id],
        )
    }

    fn purge_sessions(&mut self, now: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM sessions WHERE expires_at <= $1 OR max_expires_at <= $1",
            &[&now],
        )
    }

    fn idempotent_request(
        &mut self,
        principal: &str,
        key: &str,
    ) -> ControlResult<Option<IdempotentRequest>> {
        self.one(
            "SELECT request_hash, status, sealed_response, created_at FROM idempotency_keys \
             WHERE principal = $1 AND key = $2",
            &[&principal, &key],
            |r| {
                let status = get::<Option<i64>>(r, 1)?
                    .map(|s| {
                        u16::try_from(s).map_err(|_| {
                            ControlError::store(format!(
                                "database error: the stored status {s} is not an HTTP status"
                            ))
                        })
                    })
                    .transpose()?;
                Ok(IdempotentRequest {
                    request_hash: get(r, 0)?,
                    status,
                    sealed_response: get(r, 2)?,
                    created_at: get(r, 3)?,
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
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&principal, &key, &request_hash, &now],
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
            "UPDATE idempotency_keys SET status = $3, sealed_response = $4 \
             WHERE principal = $1 AND key = $2",
            &[&principal, &key, &i64::from(status), &sealed_response],
        )
        .map(drop)
    }

    fn release_idempotency_key(&mut self, principal: &str, key: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2",
            &[&principal, &key],
        )
        .map(drop)
    }

    fn purge_idempotency_keys(&mut self, before: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM idempotency_keys WHERE created_at < $1",
            &[&before],
        )
    }

    fn insert_role(&mut self, r: &Role) -> ControlResult<()> {
        self.exec(
            "INSERT INTO roles (id, org_id, name, description, actions, resources, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &r.id,
                &r.org_id,
                &r.name,
                &r.description,
                &actions_json(&r.policy),
                &resources_json(&r.policy),
                &r.created_at,
                &r.updated_at,
            ],
        )
        .map(drop)
    }

    fn role(&mut self, org_id: &str, name_or_id: &str) -> ControlResult<Option<Role>> {
        self.one(
            concat!(
                "SELECT ",
                role_cols!(),
                " FROM roles WHERE org_id = $1 AND (name = $2 OR id = $2) \
                 ORDER BY name = $2 DESC LIMIT 1"
            ),
            &[&org_id, &name_or_id],
            role_row,
        )
    }

    fn roles(&mut self, org_id: &str) -> ControlResult<Vec<Role>> {
        self.all(
            concat!(
                "SELECT ",
                role_cols!(),
                " FROM roles WHERE org_id = $1 ORDER BY name"
            ),
            &[&org_id],
            role_row,
        )
    }

    fn update_role(&mut self, r: &Role) -> ControlResult<()> {
        self.exec(
            "UPDATE roles SET description = $2, actions = $3, resources = $4, updated_at = $5 \
             WHERE id = $1",
            &[
                &r.id,
                &r.description,
                &actions_json(&r.policy),
                &resources_json(&r.policy),
                &r.updated_at,
            ],
        )
        .map(drop)
    }

    fn delete_role(&mut self, role_id: &str) -> ControlResult<()> {
        self.exec(
            "DELETE FROM role_assignments WHERE role_id = $1",
            &[&role_id],
        )?;
        self.exec("DELETE FROM roles WHERE id = $1", &[&role_id])
            .map(drop)
    }

    fn role_holders(&mut self, role_id: &str) -> ControlResult<Vec<(String, String)>> {
        // Revoked tokens hold nothing any more: they do not keep a role from being deleted.
        self.all(
            "SELECT ra.holder_kind, ra.holder_name FROM role_assignments ra \
             LEFT JOIN tokens t ON ra.holder_kind = 'streaming-token' AND t.id = ra.holder_id \
             LEFT JOIN app_tokens a ON ra.holder_kind = 'application' AND a.id = ra.holder_id \
             WHERE ra.role_id = $1 AND t.revoked_at IS NULL AND a.revoked_at IS NULL \
             ORDER BY ra.holder_kind, ra.holder_name",
            &[&role_id],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
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
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&role_id, &holder_kind, &holder_id, &holder_name],
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
            "DELETE FROM role_assignments WHERE role_id = $1 AND holder_kind = $2 \
             AND holder_id = $3",
            &[&role_id, &holder_kind, &holder_id],
        )
        .map(|n| n > 0)
    }

    fn roles_of(
        &mut self,
        org: &str,
        holder_kind: &str,
        holder_id: &str,
    ) -> ControlResult<Vec<Role>> {
        let rows = self.all(
            concat!(
                "SELECT ",
                role_cols_r!(),
                " FROM role_assignments ra LEFT JOIN roles r ON r.id = ra.role_id \
                 WHERE ra.holder_kind = $1 AND ra.holder_id = $2"
            ),
            &[&holder_kind, &holder_id],
            |r| {
                let id: String = get(r, 0)?;
                let custom: Option<String> = get(r, 1)?;
                Ok(match custom {
                    Some(_) => Some(role_row_at(r, 1)?),
                    None => super::roles::builtin(org, &id),
                })
            },
        )?;
        Ok(super::store::order_roles(rows.into_iter().flatten()))
    }

    fn holders_of(&mut self, role_id: &str, holder_kind: &str) -> ControlResult<Vec<String>> {
        self.all(
            "SELECT holder_id FROM role_assignments WHERE role_id = $1 AND holder_kind = $2",
            &[&role_id, &holder_kind],
            |r| get(r, 0),
        )
    }

    fn insert_app_token(&mut self, t: &AppToken) -> ControlResult<()> {
        self.exec(
            "INSERT INTO app_tokens (id, org_id, name, client_id, token_hash, secret_hash, \
             description, created_at, expires_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &t.id,
                &t.org_id,
                &t.name,
                &t.client_id,
                &t.token_hash,
                &t.secret_hash,
                &t.description,
                &t.created_at,
                &t.expires_at,
                &t.last_used_at,
                &t.revoked_at,
            ],
        )
        .map(drop)
    }

    fn app_token(&mut self, org_id: &str, key: &str) -> ControlResult<Option<AppToken>> {
        self.one(
            concat!(
                "SELECT ",
                app_cols!(),
                app_from!(),
                " WHERE a.org_id = $1 AND (a.name = $2 OR a.client_id = $2 OR a.id = $2) \
                 ORDER BY a.name = $2 DESC LIMIT 1"
            ),
            &[&org_id, &key],
            app_token_row,
        )
    }

    fn app_token_by_hash(&mut self, token_hash: &[u8]) -> ControlResult<Option<AppToken>> {
        self.one(
            concat!(
                "SELECT ",
                app_cols!(),
                app_from!(),
                " WHERE a.token_hash = $1"
            ),
            &[&token_hash],
            app_token_row,
        )
    }

    fn app_token_by_client_id(&mut self, client_id: &str) -> ControlResult<Option<AppToken>> {
        self.one(
            concat!(
                "SELECT ",
                app_cols!(),
                app_from!(),
                " WHERE a.client_id = $1"
            ),
            &[&client_id],
            app_token_row,
        )
    }

    fn app_tokens(&mut self, org_id: &str) -> ControlResult<Vec<AppToken>> {
        self.all(
            concat!(
                "SELECT ",
                app_cols!(),
                app_from!(),
                " WHERE a.org_id = $1 ORDER BY a.created_at, a.id"
            ),
            &[&org_id],
            app_token_row,
        )
    }

    fn revoke_app_token(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE app_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &now],
        )
        .map(drop)
    }

    fn touch_app_token(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE app_tokens SET last_used_at = $2 WHERE id = $1 \
             AND (last_used_at IS NULL OR last_used_at < $2)",
            &[&id, &now],
        )
        .map(drop)
    }

    fn insert_service_account(&mut self, sa: &ServiceAccount) -> ControlResult<()> {
        self.exec(
            "INSERT INTO service_accounts (id, org_id, name, description, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &sa.id,
                &sa.org_id,
                &sa.name,
                &sa.description,
                &sa.created_at,
            ],
        )
        .map(drop)
    }

    fn service_account(
        &mut self,
        org_id: &str,
        name_or_id: &str,
    ) -> ControlResult<Option<ServiceAccount>> {
        self.one(
            concat!(
                "SELECT ",
                sa_cols!(),
                " FROM service_accounts s WHERE s.org_id = $1 \
                 AND (s.name = $2 OR s.id = $2) ORDER BY s.name = $2 DESC LIMIT 1"
            ),
            &[&org_id, &name_or_id],
            sa_row,
        )
    }

    fn service_accounts(&mut self, org_id: &str) -> ControlResult<Vec<ServiceAccount>> {
        self.all(
            concat!(
                "SELECT ",
                sa_cols!(),
                " FROM service_accounts s WHERE s.org_id = $1 ORDER BY s.name"
            ),
            &[&org_id],
            sa_row,
        )
    }

    fn delete_service_account(&mut self, id: &str) -> ControlResult<()> {
        self.exec("DELETE FROM api_keys WHERE service_account_id = $1", &[&id])?;
        self.exec(
            "DELETE FROM role_assignments WHERE holder_kind = 'service-account' \
             AND holder_id = $1",
            &[&id],
        )?;
        self.exec("DELETE FROM service_accounts WHERE id = $1", &[&id])
            .map(drop)
    }

    fn insert_api_key(&mut self, k: &ApiKey) -> ControlResult<()> {
        self.exec(
            "INSERT INTO api_keys (id, org_id, service_account_id, instance_id, name, \
             description, kid, key_hash, created_at, expires_at, last_used_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &k.id,
                &k.org_id,
                &k.service_account_id,
                &k.instance_id,
                &k.name,
                &k.description,
                &k.kid,
                &k.key_hash,
                &k.created_at,
                &k.expires_at,
                &k.last_used_at,
                &k.revoked_at,
            ],
        )
        .map(drop)
    }

    fn api_key(&mut self, org_id: &str, name_or_id: &str) -> ControlResult<Option<ApiKey>> {
        self.one(
            concat!(
                "SELECT ",
                key_cols_a!(),
                key_from_a!(),
                " WHERE a.org_id = $1 AND (a.name = $2 OR a.id = $2) \
                 ORDER BY a.name = $2 DESC LIMIT 1"
            ),
            &[&org_id, &name_or_id],
            api_key_row,
        )
    }

    fn api_key_by_id(&mut self, jti: &str) -> ControlResult<Option<(ApiKey, String)>> {
        self.one(
            concat!(
                "SELECT ",
                key_cols_a!(),
                ", o.name",
                key_from_a!(),
                " JOIN orgs o ON o.id = a.org_id WHERE a.id = $1"
            ),
            &[&jti],
            |r| Ok((api_key_row(r)?, get(r, 14)?)),
        )
    }

    fn api_keys(&mut self, org_id: &str) -> ControlResult<Vec<ApiKey>> {
        self.all(
            concat!(
                "SELECT ",
                key_cols_a!(),
                key_from_a!(),
                " WHERE a.org_id = $1 ORDER BY a.created_at, a.id"
            ),
            &[&org_id],
            api_key_row,
        )
    }

    fn revoke_api_key(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &now],
        )
        .map(drop)
    }

    fn delete_api_key(&mut self, id: &str) -> ControlResult<()> {
        self.exec("DELETE FROM api_keys WHERE id = $1", &[&id])
            .map(drop)
    }

    fn touch_api_key(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 \
             AND (last_used_at IS NULL OR last_used_at < $2)",
            &[&id, &now],
        )
        .map(drop)
    }

    fn purge_api_keys(&mut self, revoked_before: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM api_keys WHERE revoked_at IS NOT NULL AND revoked_at <= $1",
            &[&revoked_before],
        )
    }

    fn insert_revocation(&mut self, org_id: &str, r: &Revocation) -> ControlResult<()> {
        self.exec(
            "INSERT INTO revocations (org_id, jti, kind, revoked_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&org_id, &r.jti, &r.kind, &r.revoked_at, &r.expires_at],
        )
        .map(drop)
    }

    fn revocations(
        &mut self,
        org_id: &str,
        after: i64,
        limit: usize,
    ) -> ControlResult<Vec<Revocation>> {
        // SQLite reads a negative LIMIT as "no limit"; PostgreSQL refuses one.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.all(
            "SELECT seq, jti, kind, revoked_at, expires_at FROM revocations \
             WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &[&org_id, &after, &limit],
            |r| {
                Ok(Revocation {
                    seq: get(r, 0)?,
                    jti: get(r, 1)?,
                    kind: get(r, 2)?,
                    revoked_at: get(r, 3)?,
                    expires_at: get(r, 4)?,
                })
            },
        )
    }

    fn purge_revocations(&mut self, revoked_before: i64, now: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM revocations WHERE revoked_at <= $1 \
             AND expires_at IS NOT NULL AND expires_at <= $2",
            &[&revoked_before, &now],
        )
    }

    fn purge_due(&mut self, revoked_before: i64, now: i64) -> ControlResult<bool> {
        self.one(
            "SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NOT NULL \
             AND revoked_at <= $1) OR EXISTS (SELECT 1 FROM revocations WHERE revoked_at <= $1 \
             AND expires_at IS NOT NULL AND expires_at <= $2)",
            &[&revoked_before, &now],
            |r| get::<bool>(r, 0),
        )
        .map(|due| due.unwrap_or(false))
    }

    fn key_by_kid(&mut self, kid: &str) -> ControlResult<Option<(SigningKey, Instance, String)>> {
        self.one(
            concat!(
                "SELECT k.kid, k.instance_id, k.algorithm, k.sealed_private, k.public_der, \
                 k.created_at, k.retired_at, ",
                instance_cols!(),
                ", o.name FROM signing_keys k \
                 JOIN instances i ON i.id = k.instance_id JOIN orgs o ON o.id = i.org_id \
                 WHERE k.kid = $1"
            ),
            &[&kid],
            |r| {
                let key = key_row(r)?;
                let instance = Instance {
                    id: get(r, 7)?,
                    name: get(r, 8)?,
                    algorithm: alg(get(r, 9)?)?,
                    audience: get(r, 10)?,
                    issuer: get(r, 11)?,
                    created_at: get(r, 12)?,
                    kid: get::<Option<String>>(r, 13)?.unwrap_or_default(),
                };
                Ok((key, instance, get(r, 14)?))
            },
        )
    }

    fn token_by_id(&mut self, jti: &str) -> ControlResult<Option<(Token, String)>> {
        self.one(
            concat!(
                "SELECT ",
                token_cols!(),
                ", o.name",
                token_from!(),
                " JOIN orgs o ON o.id = t.org_id WHERE k.id = $1"
            ),
            &[&jti],
            |r| Ok((token_row(r)?, get(r, 13)?)),
        )
    }

    fn touch_token(&mut self, id: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "UPDATE tokens SET last_used_at = $2 WHERE id = $1 \
             AND (last_used_at IS NULL OR last_used_at < $2)",
            &[&id, &now],
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
                &[
                    &org_id,
                    &r.day,
                    &r.tenant,
                    &r.namespace,
                    &r.metric,
                    &r.source,
                    &r.value,
                    &r.at,
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
        // Namespaces are added up here, saturating: SQL's SUM would not saturate.
        let rows = self.all(
            "SELECT tenant, metric, day, value, at FROM usage_daily \
             WHERE org_id = $1 AND day >= $2 AND day <= $3 \
             AND ($4::text IS NULL OR tenant = $4) AND ($5::text IS NULL OR metric = $5) \
             ORDER BY day, tenant, metric",
            &[&org_id, &from_day, &to_day, &tenant, &metric],
            |r| {
                Ok(DailyUsage {
                    tenant: get(r, 0)?,
                    metric: get(r, 1)?,
                    day: get(r, 2)?,
                    value: get(r, 3)?,
                    at: get(r, 4)?,
                })
            },
        )?;
        Ok(super::store::sum_usage_rows(rows))
    }

    fn usage_batch(&mut self, org_id: &str, batch_id: &str) -> ControlResult<Option<StoredBatch>> {
        self.one(
            "SELECT digest, result, actor FROM usage_batches \
             WHERE org_id = $1 AND batch_id = $2",
            &[&org_id, &batch_id],
            |r| {
                Ok(StoredBatch {
                    digest: get(r, 0)?,
                    result: get(r, 1)?,
                    actor: get(r, 2)?,
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
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &org_id,
                &batch_id,
                &batch.digest,
                &batch.result,
                &batch.actor,
                &now,
            ],
        )
        .map(drop)
    }

    fn purge_usage_batches(&mut self, created_before: i64) -> ControlResult<usize> {
        self.exec(
            "DELETE FROM usage_batches WHERE created_at <= $1",
            &[&created_before],
        )
    }

    fn job_run(&mut self, name: &str) -> ControlResult<Option<(String, i64)>> {
        self.one(
            "SELECT holder, ran_at FROM job_runs WHERE name = $1",
            &[&name],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
        )
    }

    fn record_job_run(&mut self, name: &str, holder: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "INSERT INTO job_runs (name, holder, ran_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, ran_at = excluded.ran_at",
            &[&name, &holder, &now],
        )
        .map(drop)
    }

    fn rate_card(&mut self, org_id: &str) -> ControlResult<Option<String>> {
        self.one(
            "SELECT card FROM rate_cards WHERE org_id = $1",
            &[&org_id],
            |r| get(r, 0),
        )
    }

    fn set_rate_card(&mut self, org_id: &str, card: &str, now: i64) -> ControlResult<()> {
        self.exec(
            "INSERT INTO rate_cards (org_id, card, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET card = excluded.card, \
             updated_at = excluded.updated_at",
            &[&org_id, &card, &now],
        )
        .map(drop)
    }
}

/// The database PostgreSQL tests run against: `TOK_TEST_DATABASE_URL`. Without it a test is
/// skipped (and says so on stderr), except under CI (`CI` set), where that is a failure:
/// CI must never pass a PostgreSQL test it did not run.
#[cfg(test)]
#[allow(clippy::print_stderr)] // the skip must show in the test output
pub(crate) fn test_database_url() -> Option<String> {
    match std::env::var("TOK_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("TOK_TEST_DATABASE_URL is not set, and CI must run the PostgreSQL tests");
            }
            eprintln!("SKIPPED: TOK_TEST_DATABASE_URL is not set");
            None
        }
    }
}

/// A schema of its own for one test (`tok_test_<random>`), dropped with everything in it
/// when the guard drops. Bind it to a named variable (`_schema`, not `_`) so that it lives
/// as long as the test.
#[cfg(test)]
pub(crate) struct SchemaGuard {
    /// A connection whose `search_path` is the schema, for looking at tables directly (in
    /// a mutex: a guard kept beside a shared store must be `Sync`).
    admin: Mutex<Client>,
    schema: String,
    base_url: String,
}

#[cfg(test)]
impl SchemaGuard {
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    /// The test database's URL with `options=-c search_path=<schema>`: what a store (or a
    /// `tok server --database` under test) connects with to work in this schema.
    pub(crate) fn url(&self) -> String {
        with_search_path(&self.base_url, &self.schema)
    }

    /// [`SchemaGuard::url`] with `password` in it (a trust-authenticated server ignores it):
    /// for tests that the password never shows.
    pub(crate) fn url_with_password(&self, password: &str) -> String {
        let url = self.url();
        let Some((scheme, rest)) = url.split_once("://") else {
            return format!("{url} password={password}");
        };
        match rest.split_once('@') {
            Some((creds, host)) => {
                let user = creds.split_once(':').map_or(creds, |(u, _)| u);
                format!("{scheme}://{user}:{password}@{host}")
            }
            None => url,
        }
    }

    /// A store over this schema with `connections` connections.
    pub(crate) fn connect(&self, connections: usize) -> ControlResult<PgStore> {
        PgStore::connect(&self.url(), connections)
    }

    /// The connection the guard holds, in the schema.
    pub(crate) fn admin(&mut self) -> &mut Client {
        self.admin
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `sql` in the schema on the admin connection, outside any store (tests only).
    pub(crate) fn batch_execute(&self, sql: &str) {
        self.admin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[cfg(test)]
#[allow(clippy::print_stderr)] // a schema left behind is worth a line in the test output
impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let drop_it = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
        if let Err(e) = self.admin().batch_execute(&drop_it) {
            eprintln!("could not drop the test schema {}: {e}", self.schema);
        }
    }
}

#[cfg(test)]
fn with_search_path(url: &str, schema: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let rest = url.split_once('@').map_or(url, |(_, r)| r);
        let sep = if rest.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20search_path%3D{schema}")
    } else {
        format!("{url} options='-c search_path={schema}'")
    }
}

/// A fresh schema in the test database (see [`test_database_url`]), or `None` when the
/// test is skipped.
#[cfg(test)]
pub(crate) fn test_schema() -> Option<SchemaGuard> {
    let base_url = test_database_url()?;
    let config = parse_url(&base_url).unwrap_or_else(|e| panic!("TOK_TEST_DATABASE_URL: {e}"));
    let connector = Connector::new(config).unwrap_or_else(|e| panic!("{e}"));
    let mut admin = connector
        .client()
        .unwrap_or_else(|e| panic!("connecting to the test database: {e}"));
    let schema = format!("tok_test_{}", super::ids::random_hex(8));
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\""
        ))
        .unwrap_or_else(|e| panic!("creating the test schema {schema}: {e}"));
    Some(SchemaGuard {
        admin: Mutex::new(admin),
        schema,
        base_url,
    })
}

/// A migrated store (4 connections) over a fresh schema, and the guard that drops the
/// schema; `None` when the test is skipped (see [`test_database_url`]).
#[cfg(test)]
pub(crate) fn test_store() -> Option<(PgStore, SchemaGuard)> {
    let guard = test_schema()?;
    let store = guard
        .connect(4)
        .unwrap_or_else(|e| panic!("connecting the test store: {e}"));
    Some((store, guard))
}

#[cfg(test)]
impl PgStore {
    /// Runs `f` on a writer connection outside any transaction (tests only).
    fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> T) -> T {
        let mut lease = self
            .writers
            .acquire(&self.connector.target.redacted)
            .unwrap();
        if lease
            .as_ref()
            .is_none_or(|c| c.broken || c.client.is_closed())
        {
            *lease = Some(self.connector.open().unwrap());
        }
        f(&mut lease.as_mut().unwrap().client)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::control::policy::{Action, Resource};

    const NOW: i64 = 1_800_000_000;

    fn count(client: &mut Client, sql: &str) -> i64 {
        client.query_one(sql, &[]).unwrap().get(0)
    }

    #[test]
    fn the_store_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<PgStore>();
        shared::<SchemaGuard>();
        shared::<super::super::any::AnyStore>();
    }

    #[test]
    fn the_lock_constants_are_the_ones_the_sql_takes() {
        let lock = |class: &[u8; 4]| {
            format!(
                "SELECT pg_advisory_xact_lock({}, hashtext(COALESCE(current_schema(), '')))",
                i32::from_be_bytes(*class)
            )
        };
        assert!(BEGIN_WRITE.ends_with(&lock(b"tokw")));
        assert!(MIGRATE_BEGIN.ends_with(&lock(b"tokm")));
        assert!(MIGRATE_BEGIN.contains("SET LOCAL statement_timeout = 0"));
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact("postgres://tok:s3cret@db.internal:6543/control?sslmode=require"),
            "postgres://tok:***@db.internal:6543/control"
        );
        assert_eq!(
            redact("postgresql://tok@127.0.0.1/control"),
            "postgres://tok@127.0.0.1:5432/control"
        );
        assert_eq!(
            redact("postgres://tok:s3cret@a:1,b:2,[::1]:3/x"),
            "postgres://tok:***@a:1,b:2,[::1]:3/x"
        );
        assert_eq!(
            redact("host=db user=tok password='s3 cret' dbname=x"),
            "postgres://tok:***@db:5432/x"
        );
        // Unparsable: the password is still taken out.
        let shown = redact("postgres://tok:s3cret@db:port/x");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    #[test]
    fn loopback_urls_default_to_no_tls_and_others_to_prefer() {
        let mode = |url: &str| parse_url(url).unwrap().get_ssl_mode();
        assert_eq!(mode("postgres://u@127.0.0.1:5432/db"), SslMode::Disable);
        assert_eq!(mode("postgres://u@localhost/db"), SslMode::Disable);
        assert_eq!(mode("postgres://u@[::1]:5432/db"), SslMode::Disable);
        assert_eq!(
            mode("postgres://u@%2Frun%2Fpostgresql/db"),
            SslMode::Disable
        );
        assert_eq!(mode("postgres://u@db.example.com/db"), SslMode::Prefer);
        assert_eq!(mode("postgres://u@10.0.0.5/db"), SslMode::Prefer);
        assert_eq!(
            mode("postgres://u@127.0.0.1/db?sslmode=require"),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@127.0.0.1/db?application_name=x&sslmode=prefer"),
            SslMode::Prefer
        );
        assert_eq!(
            mode("postgres://u:pw?sslmode=require@127.0.0.1/db"),
            SslMode::Disable,
            "a password is not a query"
        );
        assert_eq!(mode("host=127.0.0.1 user=u"), SslMode::Disable);
        assert_eq!(
            mode("host=127.0.0.1 user=u sslmode=require"),
            SslMode::Require
        );
        assert_eq!(mode("host=db.example.com user=u"), SslMode::Prefer);
        let config = parse_url("postgres://u@127.0.0.1/db").unwrap();
        assert_eq!(config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(config.get_application_name(), Some("tok"));
    }

    #[test]
    fn a_bad_url_is_refused_without_showing_the_password() {
        for url in [
            "postgres://tok:hunter2-pw@db:notaport/x",
            "postgres://tok:hunter2-pw@db/x?sslmode=sometimes",
            "postgres://:hunter2-pw@db/x",
            "postgres://tok:hunter2-pw@/x",
        ] {
            let err = PgStore::connect(url, 1).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{url}: {err}");
            assert!(err.contains("***"), "{url}: {err}");
        }
    }

    #[test]
    fn an_unreachable_server_is_named_without_the_password() {
        // Port 1 on loopback: refused at once.
        let err = PgStore::connect("postgres://tok:hunter2-pw@127.0.0.1:1/control", 1)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            err.contains("postgres://tok:***@127.0.0.1:1/control"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_user_or_password_is_refused_without_showing_the_password() {
        let Some(guard) = test_schema() else { return };
        let config = parse_url(&guard.base_url).unwrap();
        let target = target_of(&config);
        let url = format!(
            "postgres://tok_no_such_user:hunter2-pw@{}:{}/{}",
            target.host, target.port, target.dbname
        );
        let err = PgStore::connect(&url, 1).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("tok_no_such_user:***@"), "{err}");
        // The right user with a password the server ignores (trust) or checks: either way
        // neither Debug nor an error shows it.
        match PgStore::connect(&guard.url_with_password("hunter2-pw"), 1) {
            Ok(store) => {
                let shown = format!("{store:?} {}", store.redacted_url());
                assert!(!shown.contains("hunter2"), "{shown}");
                assert!(shown.contains("PgStore"), "{shown}");
            }
            Err(e) => assert!(!e.to_string().contains("hunter2"), "{e}"),
        }
    }

    #[test]
    fn sslmode_require_is_honoured() {
        let Some(mut guard) = test_schema() else {
            return;
        };
        let has_tls = guard
            .admin()
            .query_one("SHOW ssl", &[])
            .map(|r| r.get::<_, String>(0) == "on")
            .unwrap();
        let url = format!("{}&sslmode=require", guard.url());
        // Without TLS on the server, require must fail rather than fall back to plain text.
        match PgStore::connect(&url, 1) {
            Ok(_) => assert!(has_tls, "connected without TLS although it was required"),
            Err(e) => assert!(!has_tls, "TLS is on, yet: {e}"),
        }
    }

    /// One row per version a fresh database went through: the base, then each migration.
    const VERSIONS_RECORDED: i64 = 1 + MIGRATIONS.len() as i64;

    #[test]
    fn a_fresh_schema_is_migrated_to_the_current_version() {
        let Some((store, mut guard)) = test_store() else {
            return;
        };
        assert!(guard.schema().starts_with("tok_test_"));
        let admin = guard.admin();
        assert_eq!(
            count(admin, "SELECT MAX(version) FROM schema_version"),
            SCHEMA_VERSION
        );
        assert_eq!(
            count(admin, "SELECT COUNT(*) FROM schema_version"),
            VERSIONS_RECORDED
        );
        let tables: Vec<String> = admin
            .query(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            tables,
            [
                "api_keys",
                "app_tokens",
                "audit",
                "idempotency_keys",
                "instances",
                "job_runs",
                "orgs",
                "rate_cards",
                "revocations",
                "role_assignments",
                "roles",
                "schema_version",
                "service_accounts",
                "sessions",
                "signing_keys",
                "tenants",
                "tokens",
                "usage_batches",
                "usage_daily",
                "users"
            ]
        );
        // Connecting again migrates nothing.
        drop(store);
        drop(guard.connect(1).unwrap());
        assert_eq!(
            count(guard.admin(), "SELECT COUNT(*) FROM schema_version"),
            VERSIONS_RECORDED
        );
    }

    #[test]
    fn a_schema_6_database_is_migrated_and_keeps_its_data() {
        let Some((store, mut guard)) = test_store() else {
            return;
        };
        store
            .write(|tx| tx.insert_org("org_1", "acme", NOW))
            .unwrap();
        drop(store);
        // What a database written before schema 7 looks like.
        guard
            .admin()
            .batch_execute("DROP TABLE job_runs; DELETE FROM schema_version WHERE version > 6")
            .unwrap();
        let store = guard.connect(1).unwrap();
        assert_eq!(
            count(guard.admin(), "SELECT MAX(version) FROM schema_version"),
            SCHEMA_VERSION
        );
        assert_eq!(
            store.read(|tx| tx.org_id("acme")).unwrap().as_deref(),
            Some("org_1")
        );
        store
            .write(|tx| tx.record_job_run("purge", "a:1", NOW))
            .unwrap();
        assert_eq!(
            store.read(|tx| tx.job_run("purge")).unwrap(),
            Some(("a:1".to_string(), NOW))
        );
    }

    #[test]
    fn replicas_starting_at_once_migrate_once() {
        let Some(mut guard) = test_schema() else {
            return;
        };
        let url = guard.url();
        let n = 4;
        let barrier = Arc::new(Barrier::new(n));
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (url, barrier) = (url.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    PgStore::connect(&url, 1).map(drop)
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
        assert_eq!(
            count(guard.admin(), "SELECT COUNT(*) FROM schema_version"),
            VERSIONS_RECORDED
        );
        assert_eq!(count(guard.admin(), "SELECT COUNT(*) FROM orgs"), 0);
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_alone() {
        let Some((store, mut guard)) = test_store() else {
            return;
        };
        drop(store);
        guard
            .admin()
            .batch_execute("INSERT INTO schema_version (version) VALUES (99)")
            .unwrap();
        let err = PgStore::connect(&guard.url_with_password("hunter2-pw"), 1).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "has schema version 99, newer than this tok understands ({SCHEMA_VERSION})"
            )),
            "{text}"
        );
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(matches!(err, ControlError::Store { hint: Some(_), .. }));
        assert_eq!(
            count(guard.admin(), "SELECT COUNT(*) FROM schema_version"),
            VERSIONS_RECORDED + 1
        );
    }

    #[test]
    fn a_write_that_fails_is_rolled_back() {
        let Some((store, _schema)) = test_store() else {
            return;
        };
        let err = store
            .write(|tx| {
                tx.insert_org("org_1", "acme", NOW)?;
                Err::<(), _>(ControlError::invalid("changed my mind"))
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "changed my mind");
        assert_eq!(store.read(|tx| tx.org_id("acme")).unwrap(), None);
        // A failed statement aborts the transaction in PostgreSQL: even if the closure
        // swallows the error, nothing commits, and the caller is told.
        store
            .write(|tx| tx.insert_org("org_1", "acme", NOW))
            .unwrap();
        let err = store
            .write(|tx| {
                tx.insert_org("org_2", "beta", NOW)?;
                let dup = tx.insert_org("org_3", "acme", NOW).unwrap_err();
                assert!(
                    dup.to_string().contains("UNIQUE constraint failed"),
                    "{dup}"
                );
                Ok(())
            })
            .unwrap_err();
        assert!(err.to_string().contains("rolled all of it back"), "{err}");
        assert_eq!(store.read(|tx| tx.orgs()).unwrap(), vec!["acme"]);
    }

    #[test]
    fn a_panicking_write_is_rolled_back_and_its_connection_reused() {
        let Some(guard) = test_schema() else { return };
        let store = guard.connect(1).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.write(|tx| -> ControlResult<()> {
                tx.insert_org("org_1", "acme", NOW)?;
                panic!("a bug in a rule");
            })
        }));
        assert!(outcome.is_err());
        assert_eq!(store.read(|tx| tx.org_id("acme")).unwrap(), None);
        // The one connection holds no transaction (and no write lock): a write goes through,
        // also from another store (replica).
        store
            .write(|tx| tx.insert_org("org_1", "acme", NOW))
            .unwrap();
        let other = guard.connect(1).unwrap();
        other
            .write(|tx| tx.insert_org("org_2", "beta", NOW))
            .unwrap();
        assert_eq!(store.read(|tx| tx.orgs()).unwrap(), vec!["acme", "beta"]);
    }

    #[test]
    fn a_read_sees_one_snapshot() {
        let Some((store, _schema)) = test_store() else {
            return;
        };
        store
            .write(|tx| tx.insert_org("org_1", "acme", NOW))
            .unwrap();
        let (before, after) = store
            .read(|tx| {
                let before = tx.orgs()?;
                // Another transaction commits meanwhile.
                store.write(|w| w.insert_org("org_2", "beta", NOW))?;
                Ok((before, tx.orgs()?))
            })
            .unwrap();
        assert_eq!(before, vec!["acme"]);
        assert_eq!(after, vec!["acme"]);
        assert_eq!(store.read(|tx| tx.orgs()).unwrap(), vec!["acme", "beta"]);
        // A read cannot write.
        let err = store
            .read(|tx| tx.insert_org("org_3", "gamma", NOW))
            .unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
    }

    #[test]
    fn writers_take_turns_across_replicas() {
        let Some(guard) = test_schema() else { return };
        // Two replicas, two writer connections each: four writers at once in PostgreSQL.
        let replicas = [
            Arc::new(guard.connect(8).unwrap()),
            Arc::new(guard.connect(8).unwrap()),
        ];
        let threads = 8;
        let each = 5;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let store = Arc::clone(&replicas[t % 2]);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..each {
                        // Read-then-write, as the rules do: the next free name.
                        store
                            .write(|tx| {
                                let n = tx.orgs()?.len();
                                std::thread::sleep(Duration::from_millis(2));
                                tx.insert_org(&format!("org_{n}"), &format!("o{n:03}"), NOW)
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let orgs = replicas[0].read(|tx| tx.orgs()).unwrap();
        let want: Vec<String> = (0..threads * each).map(|n| format!("o{n:03}")).collect();
        assert_eq!(orgs, want);
    }

    #[test]
    fn deployments_in_two_schemas_do_not_wait_for_each_other() {
        let Some((a, _a_schema)) = test_store() else {
            return;
        };
        let Some((b, _b_schema)) = test_store() else {
            return;
        };
        // A holds its write lock until B's write has committed. Were the lock one for the
        // whole database, B would wait for A until its lock_timeout and fail.
        let (holding, a_holds) = std::sync::mpsc::channel();
        let (b_done, wait_for_b) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            let a = &a;
            let held = s.spawn(move || {
                a.write(|tx| {
                    tx.insert_org("org_a", "acme", NOW)?;
                    holding.send(()).unwrap();
                    wait_for_b
                        .recv_timeout(Duration::from_secs(30))
                        .map_err(|_| ControlError::store("B's write never finished"))
                })
            });
            a_holds.recv().unwrap();
            let written = b.write(|tx| tx.insert_org("org_b", "acme", NOW));
            b_done.send(()).unwrap();
            written.expect("B writes while A holds its schema's lock");
            held.join().unwrap().unwrap();
        });
        assert_eq!(
            a.read(|tx| tx.org_id("acme")).unwrap().as_deref(),
            Some("org_a")
        );
        assert_eq!(
            b.read(|tx| tx.org_id("acme")).unwrap().as_deref(),
            Some("org_b")
        );
    }

    #[test]
    fn a_dead_connection_is_replaced() {
        let Some(mut guard) = test_schema() else {
            return;
        };
        let store = guard.connect(1).unwrap();
        store
            .write(|tx| tx.insert_org("org_1", "acme", NOW))
            .unwrap();
        let pid: i32 =
            store.with_client(|c| c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0));
        guard
            .admin()
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        store
            .write(|tx| tx.insert_org("org_2", "beta", NOW))
            .unwrap();
        assert_eq!(store.read(|tx| tx.orgs()).unwrap(), vec!["acme", "beta"]);
    }

    #[test]
    fn usable_from_a_blocking_thread_of_a_runtime() {
        let Some((store, _schema)) = test_store() else {
            return;
        };
        let store = Arc::new(store);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let orgs = rt
            .block_on(async move {
                tokio::task::spawn_blocking(move || {
                    store.write(|tx| tx.insert_org("org_1", "acme", NOW))?;
                    store.read(|tx| tx.orgs())
                })
                .await
            })
            .unwrap()
            .unwrap();
        assert_eq!(orgs, vec!["acme"]);
    }

    #[test]
    fn async_callers_on_a_multi_threaded_runtime_are_served_in_place() {
        let Some((store, _schema)) = test_store() else {
            return;
        };
        let store = Arc::new(store);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        // On async workers directly, as the server's inline reads are: the store leaves the
        // async context itself (the client alone would panic here). Several tasks at once, so
        // that the workers' other tasks are handed over while one blocks.
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let store = Arc::clone(&store);
                rt.spawn(async move {
                    store
                        .write(|tx| tx.insert_org(&format!("org_{i}"), &format!("acme{i}"), NOW))?;
                    tokio::task::yield_now().await;
                    store.read(|tx| tx.org_id(&format!("acme{i}")))
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let id = rt.block_on(task).unwrap().unwrap();
            assert_eq!(id.as_deref(), Some(format!("org_{i}").as_str()));
        }
        // In block_on's own async context too, and nested in the caller's block_in_place.
        let inside = Arc::clone(&store);
        let orgs = rt
            .block_on(async move {
                let n = inside.read(|tx| tx.orgs())?.len();
                tokio::task::block_in_place(|| inside.read(|tx| tx.orgs()))
                    .map(|orgs| (n, orgs.len()))
            })
            .unwrap();
        assert_eq!(orgs, (4, 4));
        // The runtime goes first: the store's connections are closed outside it.
        drop(rt);
        drop(store);
    }

    #[test]
    fn a_current_thread_runtime_gets_an_error_not_a_panic() {
        let Some((store, _schema)) = test_store() else {
            return;
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (read, write) = rt.block_on(async {
            (
                store.read(|tx| tx.orgs()).unwrap_err().to_string(),
                store
                    .write(|tx| tx.insert_org("org_1", "acme", NOW))
                    .unwrap_err()
                    .to_string(),
            )
        });
        for err in [read, write] {
            assert!(err.contains("current-thread Tokio runtime"), "{err}");
        }
        drop(rt);
        // Nothing was written, and the store still works outside the runtime.
        assert!(store.read(|tx| tx.orgs()).unwrap().is_empty());
        store
            .write(|tx| tx.insert_org("org_1", "acme", NOW))
            .unwrap();
        assert_eq!(store.read(|tx| tx.orgs()).unwrap(), vec!["acme"]);
    }

    fn usage<'a>(
        namespace: &'a str,
        metric: &'a str,
        value: i64,
        at: i64,
        gauge: bool,
    ) -> UsageDelta<'a> {
        UsageDelta {
            tenant: "acme",
            namespace,
            metric,
            source: "",
            day: 20_000,
            value,
            at,
            gauge,
        }
    }

    #[test]
    fn usage_counters_saturate_and_gauges_keep_the_latest() {
        let Some((store, _schema)) = test_store() else {
            return;
        };
        let max = i64::MAX;
        store
            .write(|tx| {
                tx.insert_org("org_1", "acme", NOW)?;
                tx.add_usage(
                    "org_1",
                    &[
                        usage("a", "messages-in", max - 5, 10, false),
                        usage("a", "messages-in", 10, 5, false),
                        usage("b", "messages-in", 7, 3, false),
                        usage("a", "bytes-in", 40, 1, false),
                        usage("a", "bytes-in", 2, 9, false),
                    ],
                )
            })
            .unwrap();
        store
            .write(|tx| tx.add_usage("org_1", &[usage("a", "messages-in", 3, 1, false)]))
            .unwrap();
        // Gauges: the later observation wins; on a tie the larger value; an older one is
        // ignored.
        for (value, at) in [(5, 100), (3, 200), (9, 150), (4, 200), (2, 200)] {
            store
                .write(|tx| tx.add_usage("org_1", &[usage("a", "storage", value, at, true)]))
                .unwrap();
        }
        let mut raw = store
            .with_client(|c| {
                c.query(
                    "SELECT namespace, metric, value, at FROM usage_daily ORDER BY 1, 2",
                    &[],
                )
            })
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    r.get::<_, String>(1),
                    r.get::<_, i64>(2),
                    r.get::<_, i64>(3),
                )
            })
            .collect::<Vec<_>>();
        raw.sort();
        assert_eq!(
            raw,
            [
                ("a".into(), "bytes-in".into(), 42, 9),
                ("a".into(), "messages-in".into(), max, 10),
                ("a".into(), "storage".into(), 4, 200),
                ("b".into(), "messages-in".into(), 7, 3),
            ]
        );
        // Summed over namespaces, saturating, ordered by day, tenant, metric.
        let daily = store
            .read(|tx| tx.usage_daily("org_1", 19_999, 20_001, None, None))
            .unwrap();
        let shown: Vec<(&str, i64, i64)> = daily
            .iter()
            .map(|d| (d.metric.as_str(), d.value, d.at))
            .collect();
        assert_eq!(
            shown,
            [
                ("bytes-in", 42, 9),
                ("messages-in", max, 10),
                ("storage", 4, 200)
            ]
        );
        let one = store
            .read(|tx| tx.usage_daily("org_1", 0, i64::MAX, Some("acme"), Some("storage")))
            .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].value, 4);
        let org_own = store
            .read(|tx| tx.usage_daily("org_1", 0, i64::MAX, Some(""), None))
            .unwrap();
        assert!(org_own.is_empty());
        let out_of_range = store
            .read(|tx| tx.usage_daily("org_1", 20_001, 20_005, None, None))
            .unwrap();
        assert!(out_of_range.is_empty());
    }

    fn revocation(jti: &str, revoked_at: i64, expires_at: Option<i64>) -> Revocation {
        Revocation {
            seq: 0,
            jti: jti.into(),
            kind: "streaming".into(),
            revoked_at,
            expires_at,
        }
    }

    #[test]
    fn revocations_are_a_feed_in_order() {
        let Some((store, _schema)) = test_store() else {
            return;
        };
        store
            .write(|tx| {
                tx.insert_org("org_1", "acme", NOW)?;
                tx.insert_org("org_2", "beta", NOW)?;
                tx.insert_revocation("org_1", &revocation("c", NOW, Some(NOW + 10)))?;
                tx.insert_revocation("org_2", &revocation("x", NOW, None))?;
                tx.insert_revocation("org_1", &revocation("a", NOW + 1, None))
            })
            .unwrap();
        store
            .write(|tx| {
                // Once per jti: a second revocation of "c" changes nothing.
                tx.insert_revocation("org_1", &revocation("c", NOW + 5, None))?;
                tx.insert_revocation("org_1", &revocation("b", NOW + 2, Some(NOW + 10)))
            })
            .unwrap();
        let feed = store
            .read(|tx| tx.revocations("org_1", 0, usize::MAX))
            .unwrap();
        let jtis: Vec<&str> = feed.iter().map(|r| r.jti.as_str()).collect();
        assert_eq!(jtis, ["c", "a", "b"]);
        assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(feed[0].revoked_at, NOW);
        assert_eq!(feed[0].expires_at, Some(NOW + 10));
        let page = store.read(|tx| tx.revocations("org_1", 0, 2)).unwrap();
        assert_eq!(page, feed[..2]);
        let rest = store
            .read(|tx| tx.revocations("org_1", page[1].seq, 10))
            .unwrap();
        assert_eq!(rest, feed[2..]);
        let other = store.read(|tx| tx.revocations("org_2", 0, 10)).unwrap();
        assert_eq!(other.len(), 1);
        // Purged entries are gone; positions are never reused.
        assert!(store.read(|tx| tx.purge_due(NOW + 100, NOW + 10)).unwrap());
        assert_eq!(
            store
                .write(|tx| tx.purge_revocations(NOW + 100, NOW + 10))
                .unwrap(),
            2
        );
        assert!(!store.read(|tx| tx.purge_due(NOW + 100, NOW + 10)).unwrap());
        store
            .write(|tx| tx.insert_revocation("org_1", &revocation("d", NOW + 3, None)))
            .unwrap();
        let feed2 = store.read(|tx| tx.revocations("org_1", 0, 10)).unwrap();
        let shown: Vec<&str> = feed2.iter().map(|r| r.jti.as_str()).collect();
        assert_eq!(shown, ["a", "d"]);
        assert!(feed2[1].seq > feed.last().unwrap().seq);
    }

    fn role(id: &str, name: &str) -> Role {
        Role {
            id: id.into(),
            org_id: "org_1".into(),
            name: name.into(),
            description: Some("reads".into()),
            policy: Policy {
                actions: vec![Action::TenantRead],
                resources: vec!["drn:tok:acme:tenant:*".parse::<Resource>().unwrap()],
            },
            builtin: false,
            created_at: NOW,
            updated_at: NOW + 1,
        }
    }

    /// Every table, one row at least, through the Tx methods: what goes in comes out.
    #[test]
    fn every_table_round_trips() {
        let Some((store, mut guard)) = test_store() else {
            return;
        };
        let instance = Instance {
            id: "ins_1".into(),
            name: "prod".into(),
            algorithm: Algorithm::ES256,
            audience: "urn:tok:acme:prod".into(),
            issuer: Some("https://tok.example".into()),
            kid: "kid_1".into(),
            created_at: NOW,
        };
        let key = SigningKey {
            kid: "kid_1".into(),
            instance_id: "ins_1".into(),
            algorithm: Algorithm::ES256,
            sealed: vec![0, 1, 2, 255, 0],
            public_der: Some(vec![48, 89, 0]),
            created_at: NOW,
            retired_at: None,
        };
        let tenant = Tenant {
            id: "ten_1".into(),
            instance_id: "ins_1".into(),
            instance: "prod".into(),
            name: "acme".into(),
            description: Some("Ünïcode ✓".into()),
            created_at: NOW,
            token_count: 0,
        };
        let token = Token {
            id: "tok_1".into(),
            tenant_id: "ten_1".into(),
            tenant: "acme".into(),
            instance: "prod".into(),
            name: "ci".into(),
            subject: "ci-bot".into(),
            description: None,
            kid: "kid_1".into(),
            token_hash: vec![7; 32],
            created_at: NOW,
            expires_at: Some(NOW + 86_400),
            last_used_at: None,
            revoked_at: None,
            roles: Vec::new(),
        };
        let user = User {
            id: "usr_1".into(),
            org_id: "org_1".into(),
            org: "acme".into(),
            username: "alice".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
            created_at: NOW,
            failed_logins: 2,
            locked_until: Some(NOW + 60),
            disabled_at: None,
            roles: Vec::new(),
        };
        let session = Session {
            id: "ses_1".into(),
            principal_kind: PrincipalKind::User,
            principal_id: "usr_1".into(),
            principal_name: "alice".into(),
            org: "acme".into(),
            created_at: NOW,
            expires_at: NOW + 900,
            max_expires_at: NOW + 3600,
            last_used_at: NOW,
            grants: Default::default(),
        };
        let app = AppToken {
            id: "app_1".into(),
            org_id: "org_1".into(),
            org: "acme".into(),
            name: "deployer".into(),
            client_id: "cid_1".into(),
            token_hash: vec![1; 32],
            secret_hash: vec![2; 32],
            description: Some("CD".into()),
            created_at: NOW,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            roles: Vec::new(),
        };
        let sa = ServiceAccount {
            id: "sa_1".into(),
            org_id: "org_1".into(),
            name: "billing".into(),
            description: None,
            created_at: NOW,
            apikey_count: 0,
            roles: Vec::new(),
        };
        let api_key = ApiKey {
            id: "key_1".into(),
            org_id: "org_1".into(),
            service_account_id: "sa_1".into(),
            service_account: "billing".into(),
            instance_id: "ins_1".into(),
            instance: "prod".into(),
            name: "k1".into(),
            description: Some("first".into()),
            kid: "kid_1".into(),
            key_hash: vec![3; 32],
            created_at: NOW,
            expires_at: Some(NOW + 10),
            last_used_at: None,
            revoked_at: None,
        };
        let batch = StoredBatch {
            digest: vec![9; 32],
            result: r#"{"accepted":1}"#.into(),
            actor: "user:alice".into(),
        };
        store
            .write(|tx| {
                tx.insert_org("org_1", "acme", NOW)?;
                tx.set_max_token_lifetime("org_1", Some(86_400))?;
                tx.insert_instance("org_1", &instance)?;
                tx.insert_key(&key)?;
                tx.insert_tenant("org_1", &tenant)?;
                tx.insert_token(&token)?;
                tx.insert_audit(&AuditEvent {
                    org_id: "org_1",
                    at: NOW,
                    actor: "user:alice",
                    action: "token.create",
                    target: "acme/ci",
                    detail: Some("expires in 1 d"),
                    source: Some("127.0.0.1"),
                })?;
                tx.insert_audit(&AuditEvent {
                    org_id: "org_1",
                    at: NOW + 1,
                    actor: "user:alice",
                    action: "token.revoke",
                    target: "acme/ci",
                    detail: None,
                    source: None,
                })?;
                tx.insert_user(&user)?;
                tx.insert_session(&session, &[5; 32])?;
                assert!(tx.claim_idempotency_key("user:alice", "k-1", &[6; 32], NOW)?);
                assert!(!tx.claim_idempotency_key("user:alice", "k-1", &[6; 32], NOW)?);
                tx.complete_idempotent_request("user:alice", "k-1", 201, &[4, 0, 4])?;
                tx.insert_role(&role("rol_1", "reader"))?;
                tx.assign_role("rol_1", "user", "usr_1", "alice")?;
                tx.assign_role("rol_1", "user", "usr_1", "alice")?;
                tx.assign_role(
                    "builtin:organization-administrator",
                    "user",
                    "usr_1",
                    "alice",
                )?;
                tx.insert_app_token(&app)?;
                tx.insert_service_account(&sa)?;
                tx.insert_api_key(&api_key)?;
                tx.insert_revocation("org_1", &revocation("tok_0", NOW, None))?;
                tx.add_usage("org_1", &[usage("ns", "messages-in", 5, NOW, false)])?;
                tx.insert_usage_batch("org_1", "b-1", &batch, NOW)?;
                tx.set_rate_card("org_1", r#"{"v":1}"#, NOW)?;
                tx.set_rate_card("org_1", r#"{"v":2}"#, NOW + 1)
            })
            .unwrap();

        store
            .read(|tx| {
                assert_eq!(tx.org_id("acme")?.as_deref(), Some("org_1"));
                assert_eq!(tx.org_id("ACME")?, None, "names are case-sensitive");
                assert_eq!(tx.max_token_lifetime("org_1")?, Some(86_400));
                assert_eq!(tx.orgs()?, vec!["acme"]);

                let i = tx.instance("org_1", "prod")?.unwrap();
                assert_eq!(
                    (
                        &i.id,
                        &i.name,
                        i.algorithm,
                        &i.audience,
                        &i.issuer,
                        &i.kid,
                        i.created_at
                    ),
                    (
                        &instance.id,
                        &instance.name,
                        instance.algorithm,
                        &instance.audience,
                        &instance.issuer,
                        &instance.kid,
                        instance.created_at
                    )
                );
                assert_eq!(tx.instances("org_1")?.len(), 1);

                let keys = tx.keys("ins_1")?;
                assert_eq!(keys.len(), 1);
                let k = &keys[0];
                assert_eq!(
                    (
                        &k.kid,
                        &k.instance_id,
                        k.algorithm,
                        &k.sealed,
                        &k.public_der,
                        k.created_at,
                        k.retired_at
                    ),
                    (
                        &key.kid,
                        &key.instance_id,
                        key.algorithm,
                        &key.sealed,
                        &key.public_der,
                        key.created_at,
                        key.retired_at
                    )
                );
                let (k2, i2, org) = tx.key_by_kid("kid_1")?.unwrap();
                assert_eq!(
                    (k2.sealed, i2.name, org.as_str()),
                    (key.sealed.clone(), "prod".to_string(), "acme")
                );

                let t = tx.tenant("org_1", "acme")?.unwrap();
                assert_eq!(
                    (
                        &t.id,
                        &t.instance_id,
                        &t.instance,
                        &t.name,
                        &t.description,
                        t.created_at,
                        t.token_count
                    ),
                    (
                        &tenant.id,
                        &tenant.instance_id,
                        &tenant.instance,
                        &tenant.name,
                        &tenant.description,
                        tenant.created_at,
                        1
                    )
                );
                assert_eq!(tx.tenants("org_1", None)?.len(), 1);
                assert_eq!(tx.tenants("org_1", Some("ins_1"))?.len(), 1);
                assert_eq!(tx.tenants("org_1", Some("ins_2"))?.len(), 0);

                let check_token = |k: &Token| {
                    assert_eq!(
                        (
                            &k.id,
                            &k.tenant_id,
                            &k.tenant,
                            &k.instance,
                            &k.name,
                            &k.subject,
                            &k.description,
                            &k.kid
                        ),
                        (
                            &token.id,
                            &token.tenant_id,
                            &token.tenant,
                            &token.instance,
                            &token.name,
                            &token.subject,
                            &token.description,
                            &token.kid
                        )
                    );
                    assert_eq!(
                        (
                            &k.token_hash,
                            k.created_at,
                            k.expires_at,
                            k.last_used_at,
                            k.revoked_at
                        ),
                        (
                            &token.token_hash,
                            token.created_at,
                            token.expires_at,
                            token.last_used_at,
                            token.revoked_at
                        )
                    );
                };
                check_token(&tx.token("ten_1", "ci")?.unwrap());
                check_token(&tx.token("ten_1", "tok_1")?.unwrap());
                check_token(&tx.token_by_names("acme", "acme", "ci")?.unwrap());
                check_token(&tx.tokens("org_1", None)?[0]);
                check_token(&tx.tokens("org_1", Some("ten_1"))?[0]);
                check_token(&tx.tokens_by_kid("kid_1")?[0]);
                let (tk, org) = tx.token_by_id("tok_1")?.unwrap();
                check_token(&tk);
                assert_eq!(org, "acme");

                let audit = tx.audit("org_1", 0)?;
                assert_eq!(audit.len(), 2);
                assert!(audit[0].id < audit[1].id);
                assert_eq!(
                    (
                        &*audit[0].actor,
                        &*audit[0].action,
                        &*audit[0].target,
                        audit[0].detail.as_deref(),
                        audit[0].source.as_deref(),
                        audit[0].at
                    ),
                    (
                        "user:alice",
                        "token.create",
                        "acme/ci",
                        Some("expires in 1 d"),
                        Some("127.0.0.1"),
                        NOW
                    )
                );
                assert_eq!(
                    (audit[1].detail.as_deref(), audit[1].source.as_deref()),
                    (None, None)
                );
                assert_eq!(tx.audit("org_1", NOW + 1)?.len(), 1);

                let check_user = |u: &User| {
                    assert_eq!(
                        (
                            &u.id,
                            &u.org_id,
                            &u.org,
                            &u.username,
                            &u.password_hash,
                            u.created_at,
                            u.failed_logins,
                            u.locked_until,
                            u.disabled_at
                        ),
                        (
                            &user.id,
                            &user.org_id,
                            &user.org,
                            &user.username,
                            &user.password_hash,
                            user.created_at,
                            user.failed_logins,
                            user.locked_until,
                            user.disabled_at
                        )
                    );
                };
                check_user(&tx.user("org_1", "alice")?.unwrap());
                check_user(&tx.user_anywhere("alice")?.unwrap());
                check_user(&tx.users("org_1")?[0]);
                assert!(tx.user_anywhere("Alice")?.is_none());

                let s = tx.session(&[5; 32])?.unwrap();
                assert_eq!(
                    (
                        &s.id,
                        s.principal_kind,
                        &s.principal_id,
                        &s.principal_name,
                        &s.org,
                        s.created_at,
                        s.expires_at,
                        s.max_expires_at,
                        s.last_used_at
                    ),
                    (
                        &session.id,
                        session.principal_kind,
                        &session.principal_id,
                        &session.principal_name,
                        &session.org,
                        session.created_at,
                        session.expires_at,
                        session.max_expires_at,
                        session.last_used_at
                    )
                );
                assert!(tx.session(&[6; 32])?.is_none());

                let idem = tx.idempotent_request("user:alice", "k-1")?.unwrap();
                assert_eq!(
                    (
                        idem.request_hash,
                        idem.status,
                        idem.sealed_response,
                        idem.created_at
                    ),
                    (vec![6; 32], Some(201), Some(vec![4, 0, 4]), NOW)
                );

                let r = tx.role("org_1", "reader")?.unwrap();
                assert_eq!(r, role("rol_1", "reader"));
                assert_eq!(tx.role("org_1", "rol_1")?.unwrap(), r);
                assert_eq!(tx.roles("org_1")?, vec![r.clone()]);
                let held = tx.roles_of("acme", "user", "usr_1")?;
                let names: Vec<&str> = held.iter().map(|r| r.name.as_str()).collect();
                assert_eq!(names, ["Organization Administrator", "reader"]);
                assert!(held[0].builtin);
                assert_eq!(
                    tx.role_holders("rol_1")?,
                    vec![("user".to_string(), "alice".to_string())]
                );
                assert_eq!(tx.holders_of("rol_1", "user")?, vec!["usr_1"]);

                let check_app = |a: &AppToken| {
                    assert_eq!(
                        (
                            &a.id,
                            &a.org_id,
                            &a.org,
                            &a.name,
                            &a.client_id,
                            &a.token_hash,
                            &a.secret_hash,
                            &a.description
                        ),
                        (
                            &app.id,
                            &app.org_id,
                            &app.org,
                            &app.name,
                            &app.client_id,
                            &app.token_hash,
                            &app.secret_hash,
                            &app.description
                        )
                    );
                    assert_eq!(
                        (a.created_at, a.expires_at, a.last_used_at, a.revoked_at),
                        (
                            app.created_at,
                            app.expires_at,
                            app.last_used_at,
                            app.revoked_at
                        )
                    );
                };
                check_app(&tx.app_token("org_1", "deployer")?.unwrap());
                check_app(&tx.app_token("org_1", "cid_1")?.unwrap());
                check_app(&tx.app_token("org_1", "app_1")?.unwrap());
                check_app(&tx.app_token_by_hash(&[1; 32])?.unwrap());
                check_app(&tx.app_token_by_client_id("cid_1")?.unwrap());
                check_app(&tx.app_tokens("org_1")?[0]);

                let s = tx.service_account("org_1", "billing")?.unwrap();
                assert_eq!(
                    (
                        &s.id,
                        &s.org_id,
                        &s.name,
                        &s.description,
                        s.created_at,
                        s.apikey_count
                    ),
                    (
                        &sa.id,
                        &sa.org_id,
                        &sa.name,
                        &sa.description,
                        sa.created_at,
                        1
                    )
                );
                assert_eq!(tx.service_accounts("org_1")?.len(), 1);

                let check_key = |k: &ApiKey| {
                    assert_eq!(
                        (
                            &k.id,
                            &k.org_id,
                            &k.service_account_id,
                            &k.service_account,
                            &k.instance_id,
                            &k.instance,
                            &k.name,
                            &k.description,
                            &k.kid
                        ),
                        (
                            &api_key.id,
                            &api_key.org_id,
                            &api_key.service_account_id,
                            &api_key.service_account,
                            &api_key.instance_id,
                            &api_key.instance,
                            &api_key.name,
                            &api_key.description,
                            &api_key.kid
                        )
                    );
                    assert_eq!(
                        (
                            &k.key_hash,
                            k.created_at,
                            k.expires_at,
                            k.last_used_at,
                            k.revoked_at
                        ),
                        (
                            &api_key.key_hash,
                            api_key.created_at,
                            api_key.expires_at,
                            api_key.last_used_at,
                            api_key.revoked_at
                        )
                    );
                };
                check_key(&tx.api_key("org_1", "k1")?.unwrap());
                check_key(&tx.api_key("org_1", "key_1")?.unwrap());
                let (k, org) = tx.api_key_by_id("key_1")?.unwrap();
                check_key(&k);
                assert_eq!(org, "acme");
                check_key(&tx.api_keys("org_1")?[0]);

                assert_eq!(tx.revocations("org_1", 0, 10)?[0].jti, "tok_0");
                let daily = tx.usage_daily("org_1", 0, i64::MAX, None, None)?;
                assert_eq!(
                    daily,
                    vec![DailyUsage {
                        tenant: "acme".into(),
                        metric: "messages-in".into(),
                        day: 20_000,
                        value: 5,
                        at: NOW
                    }]
                );
                assert_eq!(tx.usage_batch("org_1", "b-1")?, Some(batch.clone()));
                assert_eq!(tx.usage_batch("org_1", "b-2")?, None);
                assert_eq!(tx.rate_card("org_1")?.as_deref(), Some(r#"{"v":2}"#));
                Ok(())
            })
            .unwrap();

        // Updates, touches and deletes.
        store
            .write(|tx| {
                tx.touch_token("tok_1", NOW + 5)?;
                tx.touch_token("tok_1", NOW + 3)?;
                tx.touch_app_token("app_1", NOW + 5)?;
                tx.touch_api_key("key_1", NOW + 5)?;
                tx.touch_session("ses_1", NOW + 1000, NOW + 7)?;
                tx.touch_session("ses_1", NOW + 950, NOW + 8)?;
                tx.set_login_state("usr_1", 0, None)?;
                tx.set_password_hash("usr_1", "new-hash")?;
                tx.set_user_disabled("usr_1", Some(NOW))?;
                tx.retire_key("kid_1", NOW + 9)?;
                let mut changed = role("rol_1", "reader");
                changed.description = None;
                changed.updated_at = NOW + 9;
                tx.update_role(&changed)?;
                assert!(tx.unassign_role("rol_1", "user", "usr_1")?);
                assert!(!tx.unassign_role("rol_1", "user", "usr_1")?);
                tx.revoke_api_key("key_1", NOW + 10)?;
                tx.revoke_api_key("key_1", NOW + 20)?;
                tx.revoke_token("tok_1", NOW + 10)?;
                tx.revoke_app_token("app_1", NOW + 10)?;
                tx.set_max_token_lifetime("org_1", None)
            })
            .unwrap();
        store
            .read(|tx| {
                assert_eq!(
                    tx.token("ten_1", "ci")?.unwrap().last_used_at,
                    Some(NOW + 5)
                );
                assert_eq!(tx.token("ten_1", "ci")?.unwrap().revoked_at, Some(NOW + 10));
                assert_eq!(tx.tokens_by_kid("kid_1")?.len(), 0);
                assert_eq!(tx.tenant("org_1", "acme")?.unwrap().token_count, 0);
                assert_eq!(tx.app_tokens("org_1")?[0].last_used_at, Some(NOW + 5));
                assert_eq!(
                    tx.api_key("org_1", "k1")?.unwrap().revoked_at,
                    Some(NOW + 10)
                );
                assert_eq!(
                    tx.api_key("org_1", "k1")?.unwrap().last_used_at,
                    Some(NOW + 5)
                );
                assert_eq!(
                    tx.service_account("org_1", "sa_1")?.unwrap().apikey_count,
                    0
                );
                let u = tx.user("org_1", "alice")?.unwrap();
                assert_eq!(
                    (
                        u.password_hash.as_str(),
                        u.failed_logins,
                        u.locked_until,
                        u.disabled_at
                    ),
                    ("new-hash", 0, None, Some(NOW))
                );
                // A disabled user's session is no session.
                assert!(tx.session(&[5; 32])?.is_none());
                assert_eq!(tx.keys("ins_1")?[0].retired_at, Some(NOW + 9));
                assert_eq!(
                    tx.instance("org_1", "prod")?.unwrap().kid,
                    "",
                    "no active key"
                );
                let r = tx.role("org_1", "reader")?.unwrap();
                assert_eq!((r.description, r.updated_at), (None, NOW + 9));
                assert_eq!(tx.max_token_lifetime("org_1")?, None);
                assert!(tx.purge_due(NOW + 10, NOW)?);
                Ok(())
            })
            .unwrap();
        let session_row: (i64, i64) = guard
            .admin()
            .query_one("SELECT expires_at, last_used_at FROM sessions", &[])
            .map(|r| (r.get(0), r.get(1)))
            .unwrap();
        assert_eq!(
            session_row,
            (NOW + 1000, NOW + 8),
            "a session never slides back"
        );
        store
            .write(|tx| {
                tx.set_user_disabled("usr_1", None)?;
                assert_eq!(tx.purge_api_keys(NOW + 10)?, 1);
                assert_eq!(tx.purge_sessions(NOW + 50)?, 0);
                assert_eq!(tx.purge_idempotency_keys(NOW)?, 0);
                assert_eq!(tx.purge_idempotency_keys(NOW + 1)?, 1);
                assert_eq!(tx.purge_usage_batches(NOW)?, 1);
                tx.release_idempotency_key("user:alice", "k-1")?;
                tx.assign_role("rol_1", "streaming-token", "tok_1", "ci")?;
                tx.assign_role("rol_1", "service-account", "sa_1", "billing")?;
                assert_eq!(tx.delete_sessions_of(PrincipalKind::User, "usr_1")?, 1);
                tx.delete_session("ses_1")?;
                tx.delete_user("usr_1")?;
                tx.delete_service_account("sa_1")?;
                tx.delete_tenant("ten_1")?;
                tx.delete_api_key("key_1")?;
                tx.delete_role("rol_1")?;
                tx.delete_instance("ins_1")
            })
            .unwrap();
        let admin = guard.admin();
        for table in [
            "users",
            "sessions",
            "idempotency_keys",
            "roles",
            "role_assignments",
            "service_accounts",
            "api_keys",
            "tenants",
            "tokens",
            "signing_keys",
            "instances",
            "usage_batches",
        ] {
            assert_eq!(
                count(admin, &format!("SELECT COUNT(*) FROM {table}")),
                0,
                "{table}"
            );
        }
    }

    #[test]
    fn a_control_plane_runs_on_postgres() {
        use crate::control::{
            ControlPlane, LOCAL_INSTANCE, LOCAL_ORG, MasterKey, Sealer, TokenSpec,
        };
        use crate::duration::Expiry;
        let Some((store, _schema)) = test_store() else {
            return;
        };
        let sealer = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
        let cp = ControlPlane::new(store, MasterKey::ready(sealer), LOCAL_ORG, "local:test");
        cp.bootstrap(Some(LOCAL_INSTANCE), NOW).unwrap();
        cp.bootstrap(Some(LOCAL_INSTANCE), NOW).unwrap();
        cp.create_tenant("acme", None, None, NOW).unwrap();
        let err = cp.create_tenant("acme", None, None, NOW).unwrap_err();
        assert!(matches!(err, ControlError::Conflict { .. }), "{err}");
        let spec = TokenSpec {
            tenant: "acme".into(),
            name: Some("ci".into()),
            subject: None,
            description: None,
            expiry: Expiry::At(NOW + 86_400),
            roles: Vec::new(),
        };
        let created = cp.create_token(&spec, NOW).unwrap();
        assert!(created.jwt.starts_with("ey"));
        cp.revoke_token("acme", "ci", NOW + 1).unwrap();
        let tokens = cp.tokens(None).unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].revoked_at, Some(NOW + 1));
        let audit = cp.audit(0).unwrap();
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert!(actions.contains(&"token.create"), "{actions:?}");
    }
}
