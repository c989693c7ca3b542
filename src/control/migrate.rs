//! Moving a database from SQLite to PostgreSQL (`tok server migrate-data`): every table of an
//! embedded or single-node database, row for row and byte for byte (sealed signing keys, token
//! and key hashes, password hashes, the audit trail), into an empty PostgreSQL database, in one
//! PostgreSQL transaction; then both sides are read back and compared table by table (row
//! count and a checksum of every cell) before that transaction commits. A target that holds
//! any row is refused, and so is a source whose schema is not this binary's.
//!
//! The checksum of a table is the SHA-256, in lowercase hex, of its rows in primary-key order
//! (byte order for text, as both stores sort it), each row being its columns in [`TABLES`]
//! order, each value rendered as:
//!
//! | value   | bytes                                                      |
//! |---------|------------------------------------------------------------|
//! | NULL    | `0x00`                                                     |
//! | integer | `0x01`, then the 64-bit value, big-endian two's complement |
//! | text    | `0x02`, then the UTF-8 length as a u64 big-endian, then the UTF-8 bytes |
//! | blob    | `0x03`, then the length as a u64 big-endian, then the bytes |
//!
//! Every value carries its type and length, so a NULL never equals an empty string, a blob
//! never equals the same bytes as text, and no two different tables of cells hash alike short
//! of a SHA-256 collision. An empty table's checksum is the SHA-256 of nothing
//! (`e3b0c442…b855`).

use std::path::Path;
use std::time::Duration;

use aws_lc_rs::digest;
#[cfg(test)]
use postgres::Client;
use postgres::GenericClient;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::error::{ControlError, ControlResult};
use super::ids::hex;
use super::postgres::{PgStore, redact};
use super::sqlite::SCHEMA_VERSION;

/// What was copied, table by table, in [`TABLES`] order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    pub tables: Vec<TableReport>,
}

/// One table: its rows and their checksum, the same on both sides.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableReport {
    pub table: String,
    pub rows: u64,
    /// SHA-256 of the rows, lowercase hex (see the module's documentation).
    pub checksum: String,
}

/// A column's type, the same in both stores: SQLite BIGINT/INTEGER, TEXT, BLOB are
/// PostgreSQL BIGINT, TEXT (`COLLATE "C"`), BYTEA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Blob,
}

use Kind::{Blob as B, Int as I, Text as T};

/// One table of the schema.
struct Table {
    name: &'static str,
    /// Every column, in the schema's order.
    columns: &'static [(&'static str, Kind)],
    /// The primary key: the order rows are copied and checksummed in.
    key: &'static [&'static str],
    /// The identity column PostgreSQL numbers new rows with (SQLite's `INTEGER PRIMARY
    /// KEY`): its sequence is moved past the copied rows.
    identity: Option<&'static str>,
}

/// Every table of the schema at [`SCHEMA_VERSION`] but `schema_version` itself (which each
/// store writes for itself), in an order that satisfies every foreign key: the copy and the
/// verification both go by this list, and a test checks it against both stores' schemas.
const TABLES: &[Table] = &[
    Table {
        name: "orgs",
        columns: &[
            ("id", T),
            ("name", T),
            ("max_token_lifetime", I),
            ("created_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "instances",
        columns: &[
            ("id", T),
            ("org_id", T),
            ("name", T),
            ("algorithm", T),
            ("audience", T),
            ("issuer", T),
            ("created_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "signing_keys",
        columns: &[
            ("kid", T),
            ("instance_id", T),
            ("algorithm", T),
            ("sealed_private", B),
            ("public_der", B),
            ("created_at", I),
            ("retired_at", I),
        ],
        key: &["kid"],
        identity: None,
    },
    Table {
        name: "tenants",
        columns: &[
            ("id", T),
            ("org_id", T),
            ("instance_id", T),
            ("name", T),
            ("description", T),
            ("created_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "tokens",
        columns: &[
            ("id", T),
            ("tenant_id", T),
            ("name", T),
            ("subject", T),
            ("description", T),
            ("kid", T),
            ("token_hash", B),
            ("created_at", I),
            ("expires_at", I),
            ("last_used_at", I),
            ("revoked_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "users",
        columns: &[
            ("id", T),
            ("org_id", T),
            ("username", T),
            ("password_hash", T),
            ("created_at", I),
            ("failed_logins", I),
            ("locked_until", I),
            ("disabled_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "sessions",
        columns: &[
            ("id", T),
            ("token_hash", B),
            ("principal_kind", T),
            ("principal_id", T),
            ("created_at", I),
            ("expires_at", I),
            ("max_expires_at", I),
            ("last_used_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "idempotency_keys",
        columns: &[
            ("principal", T),
            ("key", T),
            ("request_hash", B),
            ("status", I),
            ("sealed_response", B),
            ("created_at", I),
        ],
        key: &["principal", "key"],
        identity: None,
    },
    Table {
        name: "roles",
        columns: &[
            ("id", T),
            ("org_id", T),
            ("name", T),
            ("description", T),
            ("actions", T),
            ("resources", T),
            ("created_at", I),
            ("updated_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "role_assignments",
        columns: &[
            ("role_id", T),
            ("holder_kind", T),
            ("holder_id", T),
            ("holder_name", T),
        ],
        key: &["role_id", "holder_kind", "holder_id"],
        identity: None,
    },
    Table {
        name: "app_tokens",
        columns: &[
            ("id", T),
            ("org_id", T),
            ("name", T),
            ("client_id", T),
            ("token_hash", B),
            ("secret_hash", B),
            ("description", T),
            ("created_at", I),
            ("expires_at", I),
            ("last_used_at", I),
            ("revoked_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "service_accounts",
        columns: &[
            ("id", T),
            ("org_id", T),
            ("name", T),
            ("description", T),
            ("created_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "api_keys",
        columns: &[
            ("id", T),
            ("org_id", T),
            ("service_account_id", T),
            ("instance_id", T),
            ("name", T),
            ("description", T),
            ("kid", T),
            ("key_hash", B),
            ("created_at", I),
            ("expires_at", I),
            ("last_used_at", I),
            ("revoked_at", I),
        ],
        key: &["id"],
        identity: None,
    },
    Table {
        name: "revocations",
        columns: &[
            ("seq", I),
            ("org_id", T),
            ("jti", T),
            ("kind", T),
            ("revoked_at", I),
            ("expires_at", I),
        ],
        key: &["seq"],
        identity: Some("seq"),
    },
    Table {
        name: "audit",
        columns: &[
            ("id", I),
            ("org_id", T),
            ("at", I),
            ("actor", T),
            ("action", T),
            ("target", T),
            ("detail", T),
            ("source", T),
        ],
        key: &["id"],
        identity: Some("id"),
    },
    Table {
        name: "usage_daily",
        columns: &[
            ("org_id", T),
            ("day", I),
            ("tenant", T),
            ("namespace", T),
            ("metric", T),
            ("source", T),
            ("value", I),
            ("at", I),
        ],
        key: &["org_id", "day", "tenant", "namespace", "metric", "source"],
        identity: None,
    },
    Table {
        name: "usage_batches",
        columns: &[
            ("org_id", T),
            ("batch_id", T),
            ("digest", B),
            ("result", T),
            ("actor", T),
            ("created_at", I),
        ],
        key: &["org_id", "batch_id"],
        identity: None,
    },
    Table {
        name: "rate_cards",
        columns: &[("org_id", T), ("card", T), ("updated_at", I)],
        key: &["org_id"],
        identity: None,
    },
    Table {
        name: "job_runs",
        columns: &[("name", T), ("holder", T), ("ran_at", I)],
        key: &["name"],
        identity: None,
    },
];

/// How long the copy waits for another writer to let go of the write lock.
const LOCK_WAIT_MS: u64 = 10_000;

/// The copy streams each table with `COPY … FROM STDIN (FORMAT binary)`: no statement per
/// row, no text conversion, and identity values taken as given (as `INSERT … OVERRIDING
/// SYSTEM VALUE` would).
fn copy_sql(t: &Table) -> String {
    format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        q(t.name),
        columns(t)
    )
}

/// Copies every table of the SQLite database at `from` into the PostgreSQL database at
/// `to_url` (first migrated to [`SCHEMA_VERSION`] by [`PgStore::connect`], as a replica
/// would), in one PostgreSQL transaction that holds the store's write lock; then reads both
/// sides back and compares row counts and checksums table by table, and commits only when
/// every table matches.
///
/// Refuses, with nothing written:
/// - a target that holds any row in any table of [`TABLES`] ([`ControlError::Conflict`]);
/// - a source whose schema version is not [`SCHEMA_VERSION`] (older: open it once with this
///   tok, which migrates it; newer: use the tok that wrote it), or that is not a tok
///   database ([`ControlError::Store`]).
///
/// The source is opened read-only and read in one transaction: a consistent snapshot even
/// if a server is still writing to it (but what it writes afterwards is not copied: stop
/// it first). Uses the synchronous PostgreSQL client: call it outside any Tokio runtime, or
/// from a blocking thread. The URL's password appears in no error.
pub fn migrate_sqlite_to_postgres(from: &Path, to_url: &str) -> ControlResult<MigrationReport> {
    let mut source = open_source(from)?;
    // Creates (or checks) the target's schema, through the store's own code: URL, TLS,
    // migration lock, version checks.
    drop(PgStore::connect(to_url, 1)?);
    let shown = redact(to_url);
    let mut client = super::postgres::connect_client(to_url)?;
    let err = |e: postgres::Error| super::postgres::pg_error(&e, &shown);
    let mut tx = client.transaction().map_err(err)?;
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0; \
         SET LOCAL lock_timeout = {LOCK_WAIT_MS}; {}",
        super::postgres::WRITE_LOCK
    ))
    .map_err(|e| lock_err(&e, &shown))?;

    let mut occupied = Vec::new();
    for t in TABLES {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", q(t.name));
        let any: bool = tx
            .query_one(&sql, &[])
            .and_then(|r| r.try_get(0))
            .map_err(err)?;
        if any {
            occupied.push(t.name);
        }
    }
    if !occupied.is_empty() {
        return Err(ControlError::conflict(
            format!(
                "the database {shown} is not empty (rows in {}); nothing was copied",
                occupied.join(", ")
            ),
            Some(
                "migrate into a new, empty database (or schema); tok never merges two \
                 databases"
                    .into(),
            ),
        ));
    }

    // One read transaction on the source: the copy and its checksums see one snapshot.
    let src = source.transaction().map_err(|e| sqlite_err(from, &e))?;
    let mut copied = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        let (report, max_identity) = copy_table(&src, &mut tx, t, from, &shown)?;
        if let Some(column) = t.identity {
            let floor = sqlite_sequence(&src, t.name, from)?;
            let last = max_identity.max(floor.unwrap_or(0));
            // Next value: last + 1, or 1 for a table that never had a row.
            let sql = "SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)";
            let (value, called) = if last >= 1 { (last, true) } else { (1, false) };
            tx.query_one(sql, &[&t.name, &column, &value, &called])
                .map_err(err)?;
        }
        copied.push(report);
    }
    drop(src);

    let target = checksums(&mut tx, &shown)?;
    compare(&copied, &target, &shown, "nothing was committed")?;
    tx.commit().map_err(err)?;
    Ok(MigrationReport { tables: copied })
}

/// Reads the SQLite database at `from` and the PostgreSQL database at `to_url` and compares
/// them table by table (row count and checksum); the report when every table matches, an
/// error naming the tables that differ otherwise. Right after a migration they match; once
/// the target is in use they no longer do. Writes nothing to either side.
pub fn verify(from: &Path, to_url: &str) -> ControlResult<MigrationReport> {
    let mut source = open_source(from)?;
    let shown = redact(to_url);
    let mut client = super::postgres::connect_client(to_url)?;
    let err = |e: postgres::Error| super::postgres::pg_error(&e, &shown);
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(err)?;
    tx.batch_execute("SET LOCAL statement_timeout = 0")
        .map_err(err)?;
    let src = source.transaction().map_err(|e| sqlite_err(from, &e))?;
    let mut expected = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        let mut sum = Checksum::default();
        read_sqlite(&src, t, from, |row| {
            sum.row(row);
            Ok(())
        })?;
        expected.push(sum.report(t));
    }
    drop(src);
    let target = checksums(&mut tx, &shown)?;
    compare(&expected, &target, &shown, "")?;
    Ok(MigrationReport { tables: expected })
}

/// A value of one cell, as either store gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Cell<'_> {
    /// The value to send for a column of `kind` (a NULL too has the column's type).
    fn as_sql(&self, kind: Kind) -> &(dyn ToSql + Sync) {
        match (self, kind) {
            (Cell::Null, Kind::Int) => &None::<i64>,
            (Cell::Null, Kind::Text) => &None::<&str>,
            (Cell::Null, Kind::Blob) => &None::<&[u8]>,
            (Cell::Int(v), _) => v,
            (Cell::Text(s), _) => s,
            (Cell::Blob(b), _) => b,
        }
    }

    fn shown(&self) -> String {
        match self {
            Cell::Null => "NULL".into(),
            Cell::Int(v) => v.to_string(),
            Cell::Text(s) => format!("'{s}'"),
            Cell::Blob(b) => format!("<{} bytes>", b.len()),
        }
    }
}

/// The canonical rendering of one value (see the module's documentation).
fn render(cell: &Cell<'_>, out: &mut Vec<u8>) {
    match cell {
        Cell::Null => out.push(0),
        Cell::Int(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Cell::Text(s) => {
            out.push(2);
            out.extend_from_slice(&(s.len() as u64).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Cell::Blob(b) => {
            out.push(3);
            out.extend_from_slice(&(b.len() as u64).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
}

/// A table's running checksum and row count.
struct Checksum {
    ctx: digest::Context,
    rows: u64,
    buf: Vec<u8>,
}

impl Default for Checksum {
    fn default() -> Self {
        Checksum {
            ctx: digest::Context::new(&digest::SHA256),
            rows: 0,
            buf: Vec::new(),
        }
    }
}

impl Checksum {
    fn row(&mut self, cells: &[Cell<'_>]) {
        self.buf.clear();
        for c in cells {
            render(c, &mut self.buf);
        }
        self.ctx.update(&self.buf);
        self.rows += 1;
    }

    fn report(self, t: &Table) -> TableReport {
        TableReport {
            table: t.name.to_string(),
            rows: self.rows,
            checksum: hex(self.ctx.finish().as_ref()),
        }
    }
}

/// A quoted identifier (every name here is a plain lowercase word; quoting keeps `key` and
/// the like from ever meaning anything else).
fn q(name: &str) -> String {
    format!("\"{name}\"")
}

fn columns(t: &Table) -> String {
    t.columns
        .iter()
        .map(|(c, _)| q(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn select_sqlite(t: &Table) -> String {
    let order: Vec<String> = t.key.iter().map(|k| q(k)).collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns(t),
        q(t.name),
        order.join(", ")
    )
}

/// The same rows in the same order: text keys in byte order, as SQLite's BINARY collation
/// sorts them (the columns are `COLLATE "C"` already; said again in case a schema is not).
fn select_pg(t: &Table) -> String {
    let order: Vec<String> = t
        .key
        .iter()
        .map(|k| match kind_of(t, k) {
            Kind::Text => format!("{} COLLATE \"C\"", q(k)),
            _ => q(k),
        })
        .collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns(t),
        q(t.name),
        order.join(", ")
    )
}

fn kind_of(t: &Table, column: &str) -> Kind {
    t.columns
        .iter()
        .find(|(c, _)| *c == column)
        .map_or(Kind::Text, |(_, k)| *k)
}

/// Opens the source read-only (never creating it) and checks that it is a tok database at
/// this binary's schema version.
fn open_source(path: &Path) -> ControlResult<Connection> {
    if !path.is_file() {
        return Err(ControlError::NotFound {
            what: "database",
            name: path.display().to_string(),
            hint: Some("give the SQLite file of the embedded mode or of `tok server`".into()),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_err(path, &e))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| sqlite_err(path, &e))?;
    let not_tok = || {
        ControlError::store(format!(
            "{} is not a tok database (it has no schema version); nothing was copied",
            path.display()
        ))
    };
    let has_version: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' \
             AND name = 'schema_version')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| sqlite_err(path, &e))?;
    if !has_version {
        return Err(not_tok());
    }
    let version: Option<i64> = conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .map_err(|e| sqlite_err(path, &e))?;
    let version = version.ok_or_else(not_tok)?;
    if version != SCHEMA_VERSION {
        let (age, hint) = if version < SCHEMA_VERSION {
            (
                "older than",
                format!(
                    "open it once with this tok, which migrates it (e.g. `tok server start \
                     --database sqlite://{}`, then stop it), and migrate again",
                    path.display()
                ),
            )
        } else {
            (
                "newer than",
                "migrate it with the tok that wrote it (or a later one)".to_string(),
            )
        };
        return Err(ControlError::Store {
            message: format!(
                "the database {} has schema version {version}, {age} this tok's \
                 ({SCHEMA_VERSION}); nothing was copied",
                path.display()
            ),
            hint: Some(hint),
        });
    }
    Ok(conn)
}

/// Streams the rows of `t` from SQLite in key order to `each`, checking every value's type
/// against the schema: the copy never converts a value.
fn read_sqlite(
    src: &Connection,
    t: &Table,
    path: &Path,
    mut each: impl FnMut(&[Cell<'_>]) -> ControlResult<()>,
) -> ControlResult<()> {
    let err = |e: rusqlite::Error| sqlite_err(path, &e);
    let mut stmt = src.prepare(&select_sqlite(t)).map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    while let Some(row) = rows.next().map_err(err)? {
        let mut cells = Vec::with_capacity(t.columns.len());
        for (i, (column, kind)) in t.columns.iter().enumerate() {
            let value = row.get_ref(i).map_err(err)?;
            let cell = match (value, kind) {
                (ValueRef::Null, _) => Cell::Null,
                (ValueRef::Integer(v), Kind::Int) => Cell::Int(v),
                (ValueRef::Text(b), Kind::Text) => {
                    Cell::Text(std::str::from_utf8(b).map_err(|_| {
                        ControlError::store(format!(
                            "{}: {}.{column} holds text that is not UTF-8; nothing was copied",
                            path.display(),
                            t.name
                        ))
                    })?)
                }
                (ValueRef::Blob(b), Kind::Blob) => Cell::Blob(b),
                (other, _) => {
                    return Err(ControlError::store(format!(
                        "{}: {}.{column} holds a {} where the schema has {kind:?}; nothing was \
                         copied",
                        path.display(),
                        t.name,
                        other.data_type()
                    )));
                }
            };
            cells.push(cell);
        }
        each(&cells)?;
    }
    Ok(())
}

/// Copies one table; its report (from the rows sent) and the largest identity value sent.
fn copy_table(
    src: &Connection,
    tx: &mut postgres::Transaction<'_>,
    t: &Table,
    path: &Path,
    shown: &str,
) -> ControlResult<(TableReport, i64)> {
    let err = |e: postgres::Error| super::postgres::pg_error(&e, shown);
    let types: Vec<Type> = t
        .columns
        .iter()
        .map(|(_, k)| match k {
            Kind::Int => Type::INT8,
            Kind::Text => Type::TEXT,
            Kind::Blob => Type::BYTEA,
        })
        .collect();
    let identity = t
        .identity
        .and_then(|c| t.columns.iter().position(|(n, _)| *n == c));
    let sink = tx.copy_in(&copy_sql(t)).map_err(err)?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let mut sum = Checksum::default();
    let mut max_identity = 0_i64;
    read_sqlite(src, t, path, |cells| {
        if let Some(Cell::Int(v)) = identity.map(|i| cells[i]) {
            max_identity = max_identity.max(v);
        }
        sum.row(cells);
        let values = cells.iter().zip(t.columns).map(|(c, (_, k))| c.as_sql(*k));
        writer.write_raw(values).map_err(|e| {
            let key: Vec<String> = t
                .key
                .iter()
                .filter_map(|k| t.columns.iter().position(|(c, _)| c == k))
                .map(|i| cells[i].shown())
                .collect();
            let why = super::postgres::pg_error(&e, shown);
            ControlError::store(format!(
                "copying {} (row {}): {why}; nothing was committed",
                t.name,
                key.join(", ")
            ))
        })
    })?;
    writer.finish().map_err(|e| {
        ControlError::store(format!(
            "copying {}: {}; nothing was committed",
            t.name,
            super::postgres::pg_error(&e, shown)
        ))
    })?;
    Ok((sum.report(t), max_identity))
}

/// The highest value SQLite's `AUTOINCREMENT` ever gave in `table` (it never reuses one,
/// even once the row is deleted): `None` for a table without `AUTOINCREMENT`.
fn sqlite_sequence(src: &Connection, table: &str, path: &Path) -> ControlResult<Option<i64>> {
    let exists: bool = src
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' \
             AND name = 'sqlite_sequence')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| sqlite_err(path, &e))?;
    if !exists {
        return Ok(None);
    }
    src.query_row(
        "SELECT seq FROM sqlite_sequence WHERE name = ?1",
        [table],
        |r| r.get(0),
    )
    .optional()
    .map_err(|e| sqlite_err(path, &e))
}

/// Every table's report, read from PostgreSQL in key order.
fn checksums(client: &mut impl GenericClient, shown: &str) -> ControlResult<Vec<TableReport>> {
    let err = |e: postgres::Error| super::postgres::pg_error(&e, shown);
    let mut out = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        let mut sum = Checksum::default();
        let mut rows = client
            .query_raw(&select_pg(t), std::iter::empty::<&(dyn ToSql + Sync)>())
            .map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            let mut cells = Vec::with_capacity(t.columns.len());
            for (i, (_, kind)) in t.columns.iter().enumerate() {
                let cell = match kind {
                    Kind::Int => row.try_get::<_, Option<i64>>(i).map(|v| v.map(Cell::Int)),
                    Kind::Text => row.try_get::<_, Option<&str>>(i).map(|v| v.map(Cell::Text)),
                    Kind::Blob => row
                        .try_get::<_, Option<&[u8]>>(i)
                        .map(|v| v.map(Cell::Blob)),
                }
                .map_err(err)?;
                cells.push(cell.unwrap_or(Cell::Null));
            }
            sum.row(&cells);
        }
        out.push(sum.report(t));
    }
    Ok(out)
}

/// An error naming every table whose count or checksum differs.
fn compare(
    source: &[TableReport],
    target: &[TableReport],
    shown: &str,
    outcome: &str,
) -> ControlResult<()> {
    let differ: Vec<String> = source
        .iter()
        .zip(target)
        .filter(|(s, t)| s != t)
        .map(|(s, t)| {
            format!(
                "{}: {} rows, checksum {} in SQLite; {} rows, checksum {} in PostgreSQL",
                s.table,
                s.rows,
                &s.checksum[..16],
                t.rows,
                &t.checksum[..16]
            )
        })
        .collect();
    if differ.is_empty() {
        return Ok(());
    }
    let outcome = if outcome.is_empty() {
        String::new()
    } else {
        format!("; {outcome}")
    };
    Err(ControlError::Store {
        message: format!(
            "the database {shown} does not match the SQLite database ({}){outcome}",
            differ.join("; ")
        ),
        hint: None,
    })
}

/// The write lock not had in time: another writer (a running replica) holds it.
fn lock_err(e: &postgres::Error, shown: &str) -> ControlError {
    if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
        return ControlError::Store {
            message: format!(
                "the database {shown} is held by another writer (waited {} s); nothing was \
                 copied",
                LOCK_WAIT_MS / 1000
            ),
            hint: Some("stop every `tok server` using it, then try again".into()),
        };
    }
    super::postgres::pg_error(e, shown)
}

fn sqlite_err(path: &Path, e: &rusqlite::Error) -> ControlError {
    ControlError::Store {
        message: format!("cannot read the database {}: {e}", path.display()),
        hint: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::control::apikeys::{self, ApiKeySpec};
    use crate::control::apptokens::AppTokenSpec;
    use crate::control::auth::{self, AuthPolicy};
    use crate::control::postgres::test_schema;
    use crate::control::roles::RoleSpec;
    use crate::control::sqlite::SqliteStore;
    use crate::control::store::Store;
    use crate::control::usage::billing::Metric;
    use crate::control::{
        ControlPlane, InstanceSpec, LOCAL_INSTANCE, LOCAL_ORG, MasterKey, Sealer, TokenSpec,
    };
    use crate::duration::Expiry;
    use crate::jwt::Algorithm;
    use crate::model;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;
    const PASSWORD: &str = "correct horse battery staple";

    fn master(encoded: &str) -> Arc<MasterKey> {
        Arc::new(MasterKey::ready(Sealer::from_encoded(encoded).unwrap()))
    }

    fn token_spec(tenant: &str, name: &str, expiry: Expiry) -> TokenSpec {
        TokenSpec {
            tenant: tenant.into(),
            name: Some(name.into()),
            subject: None,
            description: Some(format!("the {name} token")),
            expiry,
            roles: Vec::new(),
        }
    }

    fn key_spec(account: &str, name: &str, expiry: Expiry) -> ApiKeySpec {
        ApiKeySpec {
            service_account: account.into(),
            instance: Some(LOCAL_INSTANCE.into()),
            name: Some(name.into()),
            description: None,
            expiry,
        }
    }

    /// What the source holds that the tests look for on the target.
    struct Source {
        encoded_master: String,
        live_token: String,
        revoked_token: String,
        live_key: String,
        session_token: String,
        client_id: String,
        client_secret: String,
        /// The highest revocation `seq` SQLite ever gave (its last entry was purged).
        last_seq: i64,
        last_audit_id: i64,
    }

    /// A SQLite database with a row in every table, made through the control plane as a
    /// real one would be: two orgs, RSA, HS256 and ES256 instances (one key rotated), tenants,
    /// tokens live and revoked, users (one disabled, one with a failed login), a custom role,
    /// application tokens, service accounts and API keys, the revocation feed (with a purged
    /// tail), a session, idempotency keys (one still running), usage, a batch and a rate card.
    fn build_source(path: &Path) -> Source {
        let encoded_master = Sealer::generate_master_key().unwrap();
        let key = master(&encoded_master);
        let store = Arc::new(SqliteStore::open(path).unwrap());
        let cp = ControlPlane::new(Arc::clone(&store), Arc::clone(&key), LOCAL_ORG, "local:t");
        cp.bootstrap(Some(LOCAL_INSTANCE), NOW).unwrap();
        for (name, alg) in [("hs", Algorithm::HS256), ("es", Algorithm::ES256)] {
            cp.create_instance(
                &InstanceSpec {
                    name: name.into(),
                    algorithm: Some(alg),
                    ..InstanceSpec::default()
                },
                NOW,
            )
            .unwrap();
        }
        cp.rotate_key("hs", NOW + 10).unwrap();
        cp.create_tenant("acme", Some("hs"), Some("Acme, Inc. — ünïcode"), NOW + 12)
            .unwrap();
        cp.create_tenant("beta", Some("es"), None, NOW + 13)
            .unwrap();
        let live = cp
            .create_token(
                &token_spec("acme", "live", Expiry::At(NOW + 300 * DAY)),
                NOW + 20,
            )
            .unwrap();
        let revoked = cp
            .create_token(&token_spec("beta", "gone", Expiry::Never), NOW + 21)
            .unwrap();
        let short = cp
            .create_token(
                &token_spec("acme", "short", Expiry::At(NOW + DAY)),
                NOW + 22,
            )
            .unwrap();

        cp.create_role(
            &RoleSpec {
                name: "topic-reader".into(),
                description: Some("reads topics".into()),
                actions: vec!["consume".into(), "tenant-read".into()],
                resources: vec!["drn:tok:local:tenant:acme".into()],
            },
            NOW + 30,
        )
        .unwrap();
        cp.create_user(
            "alice",
            PASSWORD,
            &["Organization Administrator".into()],
            NOW + 31,
        )
        .unwrap();
        cp.create_user("bob", PASSWORD, &["topic-reader".into()], NOW + 32)
            .unwrap();
        cp.create_user("carol", PASSWORD, &[], NOW + 33).unwrap();
        cp.set_user_disabled("carol", true, NOW + 34).unwrap();
        let pepper = key.get().unwrap().pepper().to_vec();
        let policy = AuthPolicy::default();
        auth::login(
            &*store,
            &pepper,
            &policy,
            "bob",
            "wrong",
            Some("10.0.0.1"),
            NOW + 35,
        )
        .unwrap_err();
        let (session_token, _) =
            auth::login(&*store, &pepper, &policy, "alice", PASSWORD, None, NOW + 36).unwrap();

        let app = cp
            .create_app_token(
                &AppTokenSpec {
                    name: Some("ci".into()),
                    description: None,
                    roles: vec!["Read Only User".into()],
                    expiry: Expiry::Never,
                },
                NOW + 40,
            )
            .unwrap();
        cp.create_app_token(
            &AppTokenSpec {
                name: Some("old".into()),
                description: Some("retired".into()),
                roles: vec!["Read Only User".into()],
                expiry: Expiry::At(NOW + 10 * DAY),
            },
            NOW + 41,
        )
        .unwrap();
        cp.revoke_app_token("old", NOW + 42).unwrap();

        cp.create_service_account("pipeline", Some("the data pipeline"), &[], NOW + 50)
            .unwrap();
        let live_key = cp
            .create_api_key(&key_spec("pipeline", "k1", Expiry::Never), NOW + 51)
            .unwrap();
        let k2 = cp
            .create_api_key(&key_spec("pipeline", "k2", Expiry::Never), NOW + 52)
            .unwrap();
        cp.revoke_api_key("k2", NOW + 53).unwrap();
        cp.revoke_token("beta", "gone", NOW + 54).unwrap();
        cp.revoke_token("acme", "short", NOW + 55).unwrap();
        // The short token's entry (the feed's last) goes once it has expired: SQLite's
        // AUTOINCREMENT still remembers its seq.
        let retention = apikeys::DEFAULT_RETENTION_SECS;
        apikeys::purge(&*store, retention, NOW + 55 + retention).unwrap();
        // A replica's purge run: job_runs is copied like any table.
        crate::control::purge::run_if_due(
            &*store,
            "host-a:4242",
            crate::control::purge::Retention {
                idempotency_keys: 0,
                usage_batches: i64::MAX,
                revoked: retention,
            },
            crate::control::purge::EVERY_SECS,
            NOW + 56,
        )
        .unwrap()
        .unwrap();
        let feed = cp.revocations(0, 100).unwrap();
        assert_eq!(
            feed.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(),
            [k2.record.id.as_str(), revoked.record.id.as_str()]
        );
        assert!(!feed.iter().any(|r| r.jti == short.record.id));

        store
            .write(|tx| {
                assert!(tx.claim_idempotency_key("user:alice", "k-1", &[1; 32], NOW + 60)?);
                tx.complete_idempotent_request("user:alice", "k-1", 201, &[0, 255, 7])?;
                assert!(tx.claim_idempotency_key("user:alice", "k-2", &[2; 32], NOW + 61)?);
                Ok(())
            })
            .unwrap();

        cp.record_usage(
            &model::UsageBatch {
                batch_id: "b-1".into(),
                atomic: false,
                records: vec![
                    json!({"tenant": "acme", "metric": "bytes_in", "value": 1000, "at": NOW}),
                    json!({"tenant": "beta", "namespace": "beta/ns", "metric": "bytes_out",
                           "value": i64::MAX, "at": NOW - DAY}),
                ],
            },
            NOW + 70,
        )
        .unwrap();
        cp.meter().add(LOCAL_ORG, "", Metric::ApiCalls, NOW, 3000);
        cp.flush_usage().unwrap();
        cp.update_rate_card(
            &model::RateCardUpdate {
                currency: Some("EUR".into()),
                prices: [("bytes_in".to_string(), Some("0.09".to_string()))].into(),
            },
            NOW + 71,
        )
        .unwrap();

        let other = ControlPlane::new(Arc::clone(&store), key, "beta-org", "beta-org:t");
        other.bootstrap(None, NOW + 80).unwrap();
        other
            .set_max_token_lifetime(Some(400 * DAY), NOW + 81)
            .unwrap();

        let conn = Connection::open(path).unwrap();
        let last_seq: i64 = conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'revocations'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let max_seq: i64 = conn
            .query_row("SELECT MAX(seq) FROM revocations", [], |r| r.get(0))
            .unwrap();
        assert!(last_seq > max_seq, "the test needs a purged tail");
        let last_audit_id: i64 = conn
            .query_row("SELECT MAX(id) FROM audit", [], |r| r.get(0))
            .unwrap();
        for t in TABLES {
            let n: i64 = conn
                .query_row(&format!("SELECT COUNT(*) FROM {}", t.name), [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert!(n > 0, "the source should have a row in {}", t.name);
        }
        Source {
            encoded_master,
            live_token: live.jwt,
            revoked_token: revoked.jwt,
            live_key: live_key.jwt,
            session_token,
            client_id: app.record.client_id,
            client_secret: app.client_secret,
            last_seq,
            last_audit_id,
        }
    }

    fn sqlite_counts(path: &Path) -> Vec<(String, u64)> {
        let conn = Connection::open(path).unwrap();
        TABLES
            .iter()
            .map(|t| {
                let n: i64 = conn
                    .query_row(&format!("SELECT COUNT(*) FROM {}", t.name), [], |r| {
                        r.get(0)
                    })
                    .unwrap();
                (t.name.to_string(), n as u64)
            })
            .collect()
    }

    fn pg_counts(client: &mut Client) -> Vec<(String, u64)> {
        TABLES
            .iter()
            .map(|t| {
                let n: i64 = client
                    .query_one(&format!("SELECT COUNT(*) FROM {}", t.name), &[])
                    .unwrap()
                    .get(0);
                (t.name.to_string(), n as u64)
            })
            .collect()
    }

    #[test]
    fn a_database_moves_whole_and_keeps_working_on_postgres() {
        let Some(mut guard) = test_schema() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.db");
        let src = build_source(&path);
        // Everything in the main file (no WAL), to show that the migration writes nothing.
        Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let before = std::fs::read(&path).unwrap();

        let url = guard.url_with_password("not-the-password");
        let report = migrate_sqlite_to_postgres(&path, &url).unwrap();
        // Read back independently: the same. The source was only read.
        assert_eq!(verify(&path, &url).unwrap(), report);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(
            report
                .tables
                .iter()
                .map(|t| (t.table.clone(), t.rows))
                .collect::<Vec<_>>(),
            sqlite_counts(&path)
        );
        assert_eq!(pg_counts(guard.admin()), sqlite_counts(&path));
        assert!(report.tables.iter().all(|t| t.checksum.len() == 64));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["tables"][0]["table"], "orgs");

        // The control plane on the target: the same master key unseals the copied keys.
        let key = master(&src.encoded_master);
        let store = Arc::new(PgStore::connect(&url, 2).unwrap());
        let cp = ControlPlane::new(Arc::clone(&store), Arc::clone(&key), LOCAL_ORG, "local:t");
        let t = NOW + 20 * DAY;
        // Usage and the rate card read the same on both.
        let on_sqlite = ControlPlane::new(
            Arc::new(SqliteStore::open(&path).unwrap()),
            Arc::clone(&key),
            LOCAL_ORG,
            "local:t",
        );
        let q = model::UsageQuery {
            from: "2027-01-01".into(),
            to: "2027-01-31".into(),
            ..model::UsageQuery::default()
        };
        let usage = cp.usage_report(&q).unwrap();
        assert!(usage.len() >= 3, "{usage:?}");
        assert_eq!(
            format!("{usage:?}"),
            format!("{:?}", on_sqlite.usage_report(&q).unwrap())
        );
        let card = cp.rate_card().unwrap();
        assert_eq!(card.currency, "EUR");
        assert_eq!(
            format!("{card:?}"),
            format!("{:?}", on_sqlite.rate_card().unwrap())
        );
        drop(on_sqlite);
        let live = cp.introspect(&src.live_token, t).unwrap();
        assert!(live.active, "{live:?}");
        assert_eq!(live.tenant.as_deref(), Some("acme"));
        let gone = cp.introspect(&src.revoked_token, t).unwrap();
        assert!(!gone.active, "{gone:?}");
        assert!(cp.introspect(&src.live_key, t).unwrap().active);

        // Password hashes, sessions and application tokens still authenticate.
        let pepper = key.get().unwrap().pepper().to_vec();
        let policy = AuthPolicy::default();
        let (alice, _) = auth::check_session(
            &*store,
            &pepper,
            &policy,
            &src.session_token,
            NOW + 40,
            None,
        )
        .unwrap();
        assert_eq!(alice.name, "alice");
        auth::login(&*store, &pepper, &policy, "bob", PASSWORD, None, t).unwrap();
        auth::login(&*store, &pepper, &policy, "bob", "wrong", None, t).unwrap_err();
        assert_eq!(cp.user("bob").unwrap().roles, ["topic-reader"]);
        assert!(cp.user("carol").unwrap().disabled_at.is_some());
        auth::login_client(
            &*store,
            &pepper,
            &policy,
            &src.client_id,
            &src.client_secret,
            None,
            t,
        )
        .unwrap();
        let pending = store
            .read(|tx| tx.idempotent_request("user:alice", "k-2"))
            .unwrap()
            .unwrap();
        assert_eq!((pending.status, pending.sealed_response), (None, None));
        let done = store
            .read(|tx| tx.idempotent_request("user:alice", "k-1"))
            .unwrap()
            .unwrap();
        assert_eq!(done.status, Some(201));
        assert_eq!(done.sealed_response.as_deref(), Some(&[0, 255, 7][..]));

        // New tokens are signed with the copied (sealed) keys, of every algorithm.
        for tenant in ["acme", "beta"] {
            let made = cp
                .create_token(&token_spec(tenant, "after", Expiry::Never), t)
                .unwrap();
            assert!(cp.introspect(&made.jwt, t).unwrap().active);
        }
        assert_eq!(cp.instance_keys("hs").unwrap().len(), 2);

        // The audit continues after the copied ids, the feed after the highest seq SQLite
        // ever gave (not just the highest left).
        let audit = cp.audit(0).unwrap();
        let mut new: Vec<i64> = audit
            .iter()
            .map(|a| a.id)
            .filter(|id| *id > src.last_audit_id)
            .collect();
        new.sort_unstable();
        assert!(new.len() >= 2, "{new:?}");
        let next: Vec<i64> = (1..=new.len() as i64)
            .map(|i| src.last_audit_id + i)
            .collect();
        assert_eq!(new, next);
        cp.revoke_token("acme", "after", t).unwrap();
        let feed = cp.revocations(0, 100).unwrap();
        assert_eq!(feed.len(), 3);
        assert_eq!(feed[2].seq, src.last_seq + 1);
        assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq));
        // The target is in use now: it no longer matches.
        let err = verify(&path, &url).unwrap_err().to_string();
        assert!(err.contains("audit:") && err.contains("tokens:"), "{err}");
        assert!(!err.contains("not-the-password"), "{err}");
    }

    #[test]
    fn a_target_with_any_row_is_refused_and_left_as_it_was() {
        let Some(mut guard) = test_schema() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.db");
        build_source(&path);
        let url = guard.url_with_password("s3cret-pw");
        // One audit row is enough.
        PgStore::connect(&url, 1)
            .unwrap()
            .write(|tx| {
                tx.insert_audit(&crate::control::AuditEvent {
                    org_id: "org_x",
                    at: NOW,
                    actor: "someone",
                    action: "org.create",
                    target: "x",
                    detail: None,
                    source: None,
                })
            })
            .unwrap();
        let before = pg_counts(guard.admin());
        match migrate_sqlite_to_postgres(&path, &url) {
            Err(ControlError::Conflict { message, hint }) => {
                assert!(message.contains("not empty (rows in audit)"), "{message}");
                assert!(message.contains("***") && !message.contains("s3cret-pw"));
                assert!(hint.unwrap().contains("empty database"));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(pg_counts(guard.admin()), before);
        let audit: i64 = guard
            .admin()
            .query_one("SELECT COUNT(*) FROM audit", &[])
            .unwrap()
            .get(0);
        assert_eq!(audit, 1);

        // A second migration into a migrated target is refused the same way.
        let Some(fresh) = test_schema() else {
            return;
        };
        migrate_sqlite_to_postgres(&path, &fresh.url()).unwrap();
        let again = migrate_sqlite_to_postgres(&path, &fresh.url());
        assert!(
            matches!(&again, Err(ControlError::Conflict { message, .. }) if message.contains("orgs, instances")),
            "{again:?}"
        );
        verify(&path, &fresh.url()).unwrap();
    }

    fn tables_in(client: &mut Client, schema: &str) -> usize {
        let n: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1",
                &[&schema],
            )
            .unwrap()
            .get(0);
        n as usize
    }

    #[test]
    fn a_source_at_another_schema_version_is_refused_before_the_target_is_touched() {
        let Some(mut guard) = test_schema() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.db");
        SqliteStore::open(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
        let err = migrate_sqlite_to_postgres(&path, &guard.url()).unwrap_err();
        let ControlError::Store { message, hint } = &err else {
            panic!("{err:?}")
        };
        assert!(message.contains("newer than this tok's"), "{message}");
        assert!(hint.as_deref().unwrap().contains("the tok that wrote it"));

        conn.execute(
            "DELETE FROM schema_version WHERE version >= ?1",
            [SCHEMA_VERSION],
        )
        .unwrap();
        let err = migrate_sqlite_to_postgres(&path, &guard.url()).unwrap_err();
        let ControlError::Store { message, hint } = &err else {
            panic!("{err:?}")
        };
        assert!(message.contains("older than this tok's"), "{message}");
        assert!(
            hint.as_deref()
                .unwrap()
                .contains("open it once with this tok")
        );
        // Nothing was created in the target, not even the schema.
        let schema = guard.schema().to_string();
        assert_eq!(tables_in(guard.admin(), &schema), 0);

        // Not a tok database; no file at all (and none is created).
        let foreign = dir.path().join("other.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = migrate_sqlite_to_postgres(&foreign, &guard.url()).unwrap_err();
        assert!(err.to_string().contains("is not a tok database"), "{err}");
        let missing = dir.path().join("missing.db");
        let err = migrate_sqlite_to_postgres(&missing, &guard.url()).unwrap_err();
        assert!(matches!(err, ControlError::NotFound { .. }), "{err:?}");
        assert!(!missing.exists());
        assert_eq!(tables_in(guard.admin(), &schema), 0);
    }

    #[test]
    fn verification_catches_a_changed_cell() {
        let Some(mut guard) = test_schema() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.db");
        build_source(&path);
        let url = guard.url();
        let report = migrate_sqlite_to_postgres(&path, &url).unwrap();
        assert_eq!(verify(&path, &url).unwrap(), report);
        // Each change, committed, then undone.
        let changes = [
            // One bit of a sealed private key.
            (
                "signing_keys",
                "UPDATE signing_keys SET sealed_private = \
                 set_bit(sealed_private, 0, 1 - get_bit(sealed_private, 0)) \
                 WHERE kid = (SELECT MIN(kid) FROM signing_keys)",
                "UPDATE signing_keys SET sealed_private = \
                 set_bit(sealed_private, 0, 1 - get_bit(sealed_private, 0)) \
                 WHERE kid = (SELECT MIN(kid) FROM signing_keys)",
            ),
            // NULL → empty text.
            (
                "tenants",
                "UPDATE tenants SET description = '' WHERE name = 'beta'",
                "UPDATE tenants SET description = NULL WHERE name = 'beta'",
            ),
            // An integer off by one.
            (
                "audit",
                "UPDATE audit SET at = at + 1 WHERE id = (SELECT MAX(id) FROM audit)",
                "UPDATE audit SET at = at - 1 WHERE id = (SELECT MAX(id) FROM audit)",
            ),
            // One character more in a password hash.
            (
                "users",
                "UPDATE users SET password_hash = password_hash || 'x' WHERE username = 'bob'",
                "UPDATE users SET password_hash = left(password_hash, -1) \
                 WHERE username = 'bob'",
            ),
        ];
        for (table, change, undo) in changes {
            assert_eq!(guard.admin().execute(change, &[]).unwrap(), 1, "{change}");
            let err = verify(&path, &url).unwrap_err().to_string();
            assert!(err.contains(&format!("({table}: ")), "{table}: {err}");
            assert_eq!(err.matches(" in PostgreSQL").count(), 1, "{err}");
            assert_eq!(guard.admin().execute(undo, &[]).unwrap(), 1, "{undo}");
            assert_eq!(verify(&path, &url).unwrap(), report);
        }
        // A row too many.
        guard
            .admin()
            .execute(
                "INSERT INTO role_assignments VALUES ('r', 'user', 'u', 'x')",
                &[],
            )
            .unwrap();
        let err = verify(&path, &url).unwrap_err().to_string();
        assert!(err.contains("role_assignments: "), "{err}");
    }

    #[test]
    fn the_table_list_is_the_whole_schema_of_both_stores() {
        // SQLite: every table but schema_version and SQLite's own, column by column.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.db");
        SqliteStore::open(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT IN ('schema_version', 'sqlite_sequence')",
            )
            .unwrap();
        let sqlite: BTreeSet<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let listed: BTreeSet<String> = TABLES.iter().map(|t| t.name.to_string()).collect();
        assert_eq!(listed, sqlite);
        assert_eq!(listed.len(), TABLES.len(), "a table is listed twice");
        for t in TABLES {
            let mut info = conn
                .prepare(&format!("PRAGMA table_info({})", t.name))
                .unwrap();
            let cols: Vec<(String, Kind, i64)> = info
                .query_map([], |r| {
                    let ty: String = r.get(2)?;
                    let kind = match ty.as_str() {
                        "TEXT" => Kind::Text,
                        "BIGINT" | "INTEGER" => Kind::Int,
                        "BLOB" => Kind::Blob,
                        other => panic!("{}: type {other}", t.name),
                    };
                    Ok((r.get(1)?, kind, r.get(5)?))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let names: Vec<(String, Kind)> = cols.iter().map(|(n, k, _)| (n.clone(), *k)).collect();
            let want: Vec<(String, Kind)> =
                t.columns.iter().map(|(n, k)| (n.to_string(), *k)).collect();
            assert_eq!(names, want, "{}", t.name);
            let mut key: Vec<(i64, String)> = cols
                .iter()
                .filter(|(_, _, pk)| *pk > 0)
                .map(|(n, _, pk)| (*pk, n.clone()))
                .collect();
            key.sort();
            let key: Vec<String> = key.into_iter().map(|(_, n)| n).collect();
            assert_eq!(key, t.key, "{}", t.name);
        }
        // Dependency order: a table comes after every table it references.
        for (i, t) in TABLES.iter().enumerate() {
            let mut fks = conn
                .prepare(&format!("PRAGMA foreign_key_list({})", t.name))
                .unwrap();
            let parents: Vec<String> = fks
                .query_map([], |r| r.get(2))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            for p in parents {
                let at = TABLES.iter().position(|x| x.name == p).unwrap();
                assert!(at < i, "{} references {p}, listed after it", t.name);
            }
        }

        // PostgreSQL: the same tables, columns and types; identity columns where listed.
        let Some(mut guard) = test_schema() else {
            return;
        };
        drop(guard.connect(1).unwrap());
        let schema = guard.schema().to_string();
        let rows = guard
            .admin()
            .query(
                "SELECT table_name::text, column_name::text, data_type::text, is_identity::text \
                 FROM information_schema.columns WHERE table_schema = $1 \
                 AND table_name <> 'schema_version' ORDER BY table_name, ordinal_position",
                &[&schema],
            )
            .unwrap();
        let mut pg: Vec<(String, String, Kind, bool)> = rows
            .iter()
            .map(|r| {
                let kind = match r.get::<_, String>(2).as_str() {
                    "text" => Kind::Text,
                    "bigint" => Kind::Int,
                    "bytea" => Kind::Blob,
                    other => panic!("type {other}"),
                };
                (r.get(0), r.get(1), kind, r.get::<_, String>(3) == "YES")
            })
            .collect();
        pg.sort_by(|a, b| a.0.cmp(&b.0));
        let mut want: Vec<(String, String, Kind, bool)> = TABLES
            .iter()
            .flat_map(|t| {
                t.columns.iter().map(|(c, k)| {
                    (
                        t.name.to_string(),
                        c.to_string(),
                        *k,
                        t.identity == Some(*c),
                    )
                })
            })
            .collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(pg, want);
    }

    #[test]
    fn the_checksum_renders_every_value_with_its_type_and_length() {
        let mut out = Vec::new();
        for c in [
            Cell::Null,
            Cell::Int(-2),
            Cell::Text("é"),
            Cell::Blob(&[0xff]),
            Cell::Text(""),
        ] {
            render(&c, &mut out);
        }
        assert_eq!(
            out,
            [
                &[0][..],
                &[1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
                &[2, 0, 0, 0, 0, 0, 0, 0, 2, 0xc3, 0xa9],
                &[3, 0, 0, 0, 0, 0, 0, 0, 1, 0xff],
                &[2, 0, 0, 0, 0, 0, 0, 0, 0],
            ]
            .concat()
        );
        // No table: the SHA-256 of nothing. NULL, "" and an empty blob all differ.
        let t = &TABLES[0];
        assert_eq!(
            Checksum::default().report(t).checksum,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let one = |c: Cell<'_>| {
            let mut s = Checksum::default();
            s.row(&[c]);
            s.report(t).checksum
        };
        let sums: BTreeSet<String> = [
            one(Cell::Null),
            one(Cell::Text("")),
            one(Cell::Blob(&[])),
            one(Cell::Int(0)),
        ]
        .into();
        assert_eq!(sums.len(), 4);
    }

    #[test]
    fn a_difference_names_each_table_and_both_sides() {
        let report = |table: &str, rows: u64, c: char| TableReport {
            table: table.into(),
            rows,
            checksum: c.to_string().repeat(64),
        };
        let source = [report("orgs", 1, 'a'), report("audit", 5, 'b')];
        compare(&source, &source, "postgres://u:***@h:5432/db", "").unwrap();
        let target = [report("orgs", 1, 'a'), report("audit", 6, 'c')];
        let err = compare(
            &source,
            &target,
            "postgres://u:***@h:5432/db",
            "nothing was committed",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "the database postgres://u:***@h:5432/db does not match the SQLite database \
             (audit: 5 rows, checksum bbbbbbbbbbbbbbbb in SQLite; 6 rows, checksum \
             cccccccccccccccc in PostgreSQL); nothing was committed"
        );
    }

    #[test]
    fn the_password_is_in_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.db");
        SqliteStore::open(&path).unwrap();
        // Nothing listens on port 1.
        let url = "postgres://tok:hunter2-secret@127.0.0.1:1/tok?connect_timeout=2";
        for err in [
            migrate_sqlite_to_postgres(&path, url).unwrap_err(),
            verify(&path, url).unwrap_err(),
        ] {
            let text = format!("{err} {err:?}");
            assert!(!text.contains("hunter2-secret"), "{text}");
            assert!(text.contains("tok:***@127.0.0.1:1/tok"), "{text}");
        }
    }
}
