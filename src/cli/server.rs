//! `tok server start|init`: run the control plane over HTTP for a team, and create its
//! first org and administrator.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::control::any::AnyStore;
use crate::control::auth::{self, AuthPolicy};
use crate::control::postgres::redact;
use crate::control::sqlite::SqliteStore;
use crate::control::users::ADMIN_ROLE;
use crate::control::{ControlPlane, MasterKey, Sealer, Store};
use crate::duration::{now, parse_duration, relative, rfc3339};
use crate::error::{Error, Result};
use crate::output::{Render, read_secret};
use crate::server::{AppState, Listen};

const DEFAULT_LISTEN: &str = "127.0.0.1:8420";

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Serve the control plane over HTTP until SIGINT/SIGTERM (in-flight requests finish)
    #[command(after_long_help = "\
Prints the URL it listens on as the first line of stdout (with --listen 127.0.0.1:0 the port
is picked by the system). Logs one structured line per request on stderr; they never hold a
token, password or key.

The master key (32 random bytes, base64) encrypts signing keys at rest and derives the pepper
that session tokens are stored under: keep it in a mode-0600 file (--master-key-file) or in
TOK_MASTER_KEY. `tok server init` creates the file.

The database is SQLite (one server) or PostgreSQL (several replicas sharing it; the schema
is created or migrated on start). The password in a postgres:// URL is never printed: logs
and messages show the URL with `***` in its place.

Examples:
  tok server init --database sqlite:///var/lib/tok/tok.db --master-key-file /etc/tok/master.key \\
                  --org acme --admin alice
  tok server start --database sqlite:///var/lib/tok/tok.db --master-key-file /etc/tok/master.key
  TOK_DATABASE_URL=postgres://tok:PASSWORD@db.internal:5432/tok \\
      tok server start --master-key-file /etc/tok/master.key
  tok server start --dev")]
    Start(StartArgs),
    /// Create an org, its first instance and its first administrator; prints the credentials once
    #[command(after_long_help = "\
Creates the master key file (mode 0600) when it does not exist and TOK_MASTER_KEY is not set.
Without --password-stdin a random password is generated and printed once.

JSON fields (-o json): org, instance, admin, password (only when generated), database,
master_key_file (null when the key came from TOK_MASTER_KEY).")]
    Init(InitArgs),
    /// Copy a SQLite database (embedded or single-node) into an empty PostgreSQL database,
    /// and verify the copy
    #[command(after_long_help = "\
Copies every table — signing keys sealed under the master key, token and password hashes,
sessions, audit, usage — byte for byte, in one PostgreSQL transaction, then compares each
table's row count and SHA-256 checksum on both sides before committing. A target that holds
any tok row is refused (exit 5) and nothing is written; so is a source written by another tok
version (open it once with this tok first). Stop the servers using the source first: what is
written after the copy starts is not copied. Replicas on the copy need the same master key.

The embedded database is tok.db in the data dir (`tok -v tenant list` names the dir).

Examples:
  tok server migrate-data --from sqlite:///var/lib/tok/tok.db --to postgres://tok@db.internal/tok
  tok server migrate-data --from sqlite:///var/lib/tok/tok.db --to \"$TOK_DATABASE_URL\" --verify-only

JSON fields (-o json): from, to (without its password), verified_only, tables: [{table, rows,
checksum}].")]
    MigrateData(MigrateDataArgs),
}

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// sqlite://PATH (sqlite:///abs/path or sqlite://relative/path), or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] [default: sqlite://<data dir>/server.db]
    #[arg(
        long,
        value_name = "URL",
        env = "TOK_DATABASE_URL",
        hide_env_values = true
    )]
    pub database: Option<DatabaseUrl>,
    /// File holding the base64 master key [else TOK_MASTER_KEY]
    #[arg(long, value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct MigrateDataArgs {
    /// The SQLite database to copy: sqlite://PATH
    #[arg(long, value_name = "URL")]
    from: String,
    /// The empty PostgreSQL database to copy into: postgres://… (or TOK_DATABASE_URL)
    #[arg(
        long,
        value_name = "URL",
        env = "TOK_DATABASE_URL",
        hide_env_values = true
    )]
    to: DatabaseUrl,
    /// Only compare the two databases (row counts and checksums); write nothing
    #[arg(long)]
    verify_only: bool,
}

/// A `--database` value: shown by `Debug` without its password.
#[derive(Clone)]
pub struct DatabaseUrl(pub String);

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        DatabaseUrl(url)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&redact(&self.0))
            .finish()
    }
}

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Address to listen on; beyond loopback only with TLS or --insecure-http
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// PEM certificate chain for HTTPS
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (tokens and passwords cross the network in clear)
    #[arg(long)]
    pub insecure_http: bool,
    /// How long a session stays valid after its last use
    #[arg(long, default_value = "30m", value_name = "DURATION")]
    pub session_ttl: String,
    /// How long after login a session ends however often it is used
    #[arg(long, default_value = "12h", value_name = "DURATION")]
    pub session_max_lifetime: String,
    /// Consecutive failed logins that lock an account
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub lockout_threshold: i64,
    /// How long a locked account stays locked
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    pub lockout_duration: String,
    /// How long a looked-up session is reused before it is read again (`0s`: every request
    /// reads it). A session ended on another replica sharing the database stops working
    /// here within this time; one ended on this server, at once
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    pub session_cache: String,
    /// How long a revoked API key stays listed (as revoked) before it is purged; its entry in
    /// the revocation feed stays at least as long, and until the key expires. Replicas sharing
    /// a database take turns at the purge (one run per 10 minutes between them), each with
    /// its own value: give them the same
    #[arg(long, default_value = "15d", value_name = "DURATION")]
    pub apikey_retention: String,
    /// How often the control plane's own usage counts (tokens issued, authentications,
    /// introspections, API calls) are written: a crash loses at most this much of them; a
    /// clean stop loses none
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub meter_flush_interval: String,
    /// How long in-flight requests may take to finish on shutdown
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub shutdown_grace: String,
    /// Log format on stderr
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Try the API: a temporary database and master key, loopback only, an admin session printed once
    ///
    /// Always a temporary SQLite database: TOK_DATABASE_URL is ignored, --database refused.
    #[arg(long, conflicts_with_all = ["master_key_file", "tls_cert", "insecure_http"])]
    pub dev: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The org to create
    #[arg(long, value_name = "ORG")]
    pub org: String,
    /// The first administrator's username
    #[arg(long, value_name = "USERNAME")]
    pub admin: String,
    /// Read the administrator's password from stdin instead of generating one
    #[arg(long)]
    pub password_stdin: bool,
    /// The org's first instance
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub instance: String,
}

#[derive(Debug, Serialize)]
struct InitView {
    org: String,
    instance: String,
    admin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    database: String,
    master_key_file: Option<String>,
}

impl Render for InitView {
    fn columns() -> &'static [&'static str] {
        &[
            "org",
            "instance",
            "admin",
            "password",
            "database",
            "master_key_file",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.org.clone(),
            self.instance.clone(),
            self.admin.clone(),
            self.password.clone().unwrap_or_else(|| "(as given)".into()),
            self.database.clone(),
            self.master_key_file
                .clone()
                .unwrap_or_else(|| "(TOK_MASTER_KEY)".into()),
        ]
    }
}

#[derive(Debug, Serialize)]
struct DevView {
    server: String,
    org: String,
    username: String,
    password: String,
    auth_token: String,
    expires_at: Option<String>,
    #[serde(skip)]
    expires: i64,
}

impl Render for DevView {
    fn columns() -> &'static [&'static str] {
        &[
            "server",
            "org",
            "username",
            "password",
            "auth_token",
            "expires_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.server.clone(),
            self.org.clone(),
            self.username.clone(),
            self.password.clone(),
            self.auth_token.clone(),
            relative(self.expires, now()),
        ]
    }
}

pub fn run(ctx: &Ctx, cmd: ServerCommand) -> Result<()> {
    match cmd {
        ServerCommand::Start(args) => start(ctx, &args),
        ServerCommand::Init(args) => init(ctx, &args),
        ServerCommand::MigrateData(args) => migrate_data(ctx, &args),
    }
}

fn migrate_data(ctx: &Ctx, args: &MigrateDataArgs) -> Result<()> {
    let from = match Database::parse(ctx, Some(&DatabaseUrl(args.from.clone())))? {
        Database::Sqlite(path) => path,
        Database::Postgres(url) => {
            return Err(Error::usage(format!(
                "--from {}: the source is a SQLite database (sqlite://PATH)",
                redact(&url)
            )));
        }
    };
    let to = match Database::parse(ctx, Some(&args.to))? {
        Database::Postgres(url) => url,
        Database::Sqlite(path) => {
            return Err(Error::usage(format!(
                "--to sqlite://{}: the target is a PostgreSQL database (postgres://…)",
                path.display()
            )));
        }
    };
    let shown = redact(&to);
    let report = if args.verify_only {
        crate::control::migrate::verify(&from, &to)
    } else {
        ctx.out.info(&format!(
            "copying {} into {shown} (one transaction)…",
            from.display()
        ));
        crate::control::migrate::migrate_sqlite_to_postgres(&from, &to)
    }
    .map_err(Error::from)?;
    let rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    let out = &ctx.out;
    match out.format {
        crate::output::Format::Table => {
            let mut table = vec![vec![
                "TABLE".to_string(),
                "ROWS".to_string(),
                "SHA-256".to_string(),
            ]];
            for t in &report.tables {
                table.push(vec![
                    t.table.clone(),
                    t.rows.to_string(),
                    t.checksum.get(..16).unwrap_or(&t.checksum).to_string(),
                ]);
            }
            out.line(&crate::output::grid(&table))?;
            out.info(&if args.verify_only {
                format!(
                    "{} and {shown} hold the same {rows} rows in {} tables",
                    from.display(),
                    report.tables.len()
                )
            } else {
                format!(
                    "copied {rows} rows in {} tables into {shown}; verified",
                    report.tables.len()
                )
            });
            Ok(())
        }
        _ => out.json(&serde_json::json!({
            "from": from.display().to_string(),
            "to": shown,
            "verified_only": args.verify_only,
            "tables": report.tables,
        })),
    }
}

/// The database a server runs on, from `--database` (or `TOK_DATABASE_URL`).
pub enum Database {
    /// `sqlite://PATH`, or the data dir's `server.db` when no URL is given.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, password and all: never print it, print
    /// [`Database::shown`].
    Postgres(String),
}

impl Database {
    /// `sqlite://PATH` or `postgres(ql)://…`; other schemes are refused with what is
    /// accepted. Only the form is checked here: nothing is opened or connected to.
    pub fn parse(ctx: &Ctx, url: Option<&DatabaseUrl>) -> Result<Database> {
        let Some(DatabaseUrl(url)) = url else {
            let (paths, _) = ctx.config()?;
            return Ok(Database::Sqlite(paths.data_dir.join("server.db")));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.clone()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(Error::usage(format!("--database '{url}' names no file")));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        let shown = redact(url);
        let scheme = shown.split("://").next().unwrap_or(&shown).to_string();
        Err(Error::usage(format!(
            "--database '{shown}': the database is SQLite (sqlite://PATH) or PostgreSQL \
             (postgres://…); '{scheme}' is not supported"
        ))
        .with_hint("use e.g. sqlite:///var/lib/tok/tok.db or postgres://tok@db.internal:5432/tok"))
    }

    /// Opens (SQLite: creates) the database with up to `connections` connections; a
    /// PostgreSQL database is connected to and migrated.
    pub fn open(&self, connections: usize) -> Result<AnyStore> {
        match self {
            Database::Sqlite(path) => SqliteStore::open_pool(path, connections)
                .map(AnyStore::Sqlite)
                .map_err(Error::from),
            Database::Postgres(url) => AnyStore::open(url, connections).map_err(Error::from),
        }
    }

    /// Where the data is, for messages: the SQLite file's path, or the PostgreSQL URL with
    /// its password replaced by `***`.
    pub fn shown(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => redact(url),
        }
    }

    /// The database as a URL, for `--database` in hints and in `init`'s output (never the
    /// password).
    pub fn shown_url(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("sqlite://{}", path.display()),
            Database::Postgres(url) => redact(url),
        }
    }
}

/// The master key from `--master-key-file` or `TOK_MASTER_KEY`; `create` makes the file
/// (mode 0600) when it does not exist.
fn master_key(store: &StoreArgs, create: bool, ctx: &Ctx) -> Result<(Sealer, Option<PathBuf>)> {
    if let Some(path) = &store.master_key_file {
        if !path.exists() && create {
            let encoded = Sealer::generate_master_key().map_err(Error::from)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("cannot create {}", dir.display()), &e))?;
            }
            crate::credentials::write_private(path, format!("{encoded}\n").as_bytes())
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), &e))?;
            ctx.out.info(&format!(
                "created the master key file {} (mode 0600); back it up: without it the signing \
                 keys cannot be decrypted",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(format!(
                "cannot read the master key file {}: {e}",
                path.display()
            ))
            .with_hint("`tok server init --master-key-file FILE` creates one")
        })?;
        warn_if_readable_by_others(ctx, path);
        let sealer = Sealer::from_encoded(&text)
            .map_err(|e| Error::usage(format!("the master key file {}: {e}", path.display())))?;
        return Ok((sealer, Some(path.clone())));
    }
    match std::env::var("TOK_MASTER_KEY") {
        Ok(text) => {
            let sealer = Sealer::from_encoded(&text)
                .map_err(|e| Error::usage(format!("TOK_MASTER_KEY: {e}")))?;
            Ok((sealer, None))
        }
        Err(_) => Err(Error::usage(
            "no master key: pass --master-key-file FILE or set TOK_MASTER_KEY (32 random bytes, base64)",
        )
        .with_hint("`tok server init --master-key-file FILE …` creates the file")),
    }
}

fn warn_if_readable_by_others(ctx: &Ctx, path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            ctx.out.warn(&format!(
                "the master key file {} is readable by other users; chmod 600 it",
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (ctx, path);
}

fn duration_arg(flag: &str, text: &str) -> Result<i64> {
    let secs = parse_duration(text).map_err(|e| Error::usage(format!("{flag}: {e}")))?;
    i64::try_from(secs).map_err(|_| Error::usage(format!("{flag}: '{text}' is too long")))
}

fn init(ctx: &Ctx, args: &InitArgs) -> Result<()> {
    // Every check on the arguments comes before any file is written.
    crate::control::validate_org_name(&args.org).map_err(Error::from)?;
    crate::control::validate_instance_name(&args.instance).map_err(Error::from)?;
    crate::control::users::validate_username(&args.admin).map_err(Error::from)?;
    let password = if args.password_stdin {
        Some(read_secret(
            "password",
            true,
            ctx.global.no_input,
            false,
            "--password-stdin",
        )?)
    } else {
        None
    };
    if let Some(p) = &password {
        crate::control::users::check_password(&args.admin, p).map_err(Error::from)?;
    }
    let db = Database::parse(ctx, args.store.database.as_ref())?;
    let (sealer, key_file) = master_key(&args.store, true, ctx)?;
    let store = db.open(1)?;
    if store
        .read(|tx| tx.org_id(&args.org))
        .map_err(Error::from)?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "org '{}' already exists in {}",
            args.org,
            db.shown()
        ))
        .with_hint("log in to it with `tok login`, or pick another --org"));
    }
    // Checked before the org is made: an org whose administrator cannot be created would
    // have nobody able to log in to it.
    if store
        .read(|tx| tx.user_anywhere(&args.admin))
        .map_err(Error::from)?
        .is_some()
    {
        return Err(Error::conflict(format!(
            "user '{}' already exists on this server (usernames are unique across orgs)",
            args.admin
        ))
        .with_hint("pick another --admin"));
    }
    let generated = password.is_none();
    let password = match password {
        Some(p) => p,
        None => crate::control::opaque::random_password().map_err(Error::from)?,
    };
    let actor = format!("server-init:{}", std::env::var("USER").unwrap_or_default());
    let cp = ControlPlane::new(store, MasterKey::ready(sealer), &args.org, &actor);
    let now = now();
    cp.bootstrap(Some(&args.instance), now)
        .map_err(Error::from)?;
    cp.create_user(&args.admin, &password, &[ADMIN_ROLE.to_string()], now)
        .map_err(Error::from)?;
    ctx.out.info(&format!(
        "created org '{}' with instance '{}' and administrator '{}' in {}",
        args.org,
        args.instance,
        args.admin,
        db.shown()
    ));
    if generated {
        ctx.out
            .warn("the administrator's password is shown only once: store it now");
    }
    ctx.out.item(&InitView {
        org: args.org.clone(),
        instance: args.instance.clone(),
        admin: args.admin.clone(),
        password: generated.then_some(password),
        database: db.shown_url(),
        master_key_file: key_file.map(|p| p.display().to_string()),
    })
}

fn start(ctx: &Ctx, args: &StartArgs) -> Result<()> {
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        Error::usage(format!(
            "--listen '{}': not an address; use IP:PORT, e.g. 127.0.0.1:8420 or [::1]:8420",
            args.listen
        ))
    })?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        _ => None,
    };
    if args.dev && args.store.database.is_some() {
        // clap cannot say where the value came from: TOK_DATABASE_URL (an environment meant
        // for real servers) is ignored by --dev; --database on the command line is refused.
        let from_env = std::env::var("TOK_DATABASE_URL")
            .is_ok_and(|v| args.store.database.as_ref().is_some_and(|d| d.0 == v));
        if !from_env {
            return Err(Error::usage(
                "--dev cannot be used with --database: it runs on a temporary SQLite database",
            ));
        }
    }
    if args.dev && !addr.ip().is_loopback() {
        return Err(Error::usage("--dev listens on loopback only"));
    }
    if !addr.ip().is_loopback() && tls.is_none() && !args.insecure_http {
        return Err(Error::usage(format!(
            "refusing to listen on {addr} without TLS: session tokens and passwords would cross \
             the network in clear"
        ))
        .with_hint(
            "pass --tls-cert and --tls-key, listen on 127.0.0.1 behind a TLS proxy, or \
                    pass --insecure-http",
        ));
    }
    let policy = AuthPolicy {
        session_ttl: duration_arg("--session-ttl", &args.session_ttl)?,
        session_max_lifetime: duration_arg("--session-max-lifetime", &args.session_max_lifetime)?,
        lockout_threshold: args.lockout_threshold,
        lockout_secs: duration_arg("--lockout-duration", &args.lockout_duration)?,
    };
    if policy.session_ttl > policy.session_max_lifetime {
        return Err(Error::usage(
            "--session-ttl is longer than --session-max-lifetime",
        ));
    }
    let grace = Duration::from_secs(duration_arg("--shutdown-grace", &args.shutdown_grace)? as u64);
    let apikey_retention = duration_arg("--apikey-retention", &args.apikey_retention)?;
    let meter_flush = Duration::from_secs(duration_arg(
        "--meter-flush-interval",
        &args.meter_flush_interval,
    )? as u64);
    let session_cache = if args.session_cache.trim().trim_end_matches('s') == "0" {
        Duration::ZERO
    } else {
        let secs = duration_arg("--session-cache", &args.session_cache)?;
        if secs > 60 {
            return Err(Error::usage(
                "--session-cache is at most 60s: it is how late another replica's logout is seen",
            ));
        }
        Duration::from_secs(secs as u64)
    };
    init_logging(ctx, args.log_format);

    let dev = if args.dev { Some(dev_setup()?) } else { None };
    let (db, sealer) = match &dev {
        // --dev is always a temporary SQLite file, whatever TOK_DATABASE_URL says.
        Some(d) => (
            Database::Sqlite(d.dir.join("tok.db")),
            Sealer::from_encoded(&d.master_key).map_err(Error::from)?,
        ),
        None => {
            let db = Database::parse(ctx, args.store.database.as_ref())?;
            let (sealer, _) = master_key(&args.store, false, ctx)?;
            (db, sealer)
        }
    };
    // Reads run on the async workers and writes on blocking threads: enough connections
    // that neither waits for the other's. The same count for PostgreSQL (a quarter of them
    // for writers, which queue on one advisory lock anyway; the rest for reads): at most 16
    // per replica, well inside PostgreSQL's default 100 for a handful of replicas.
    let connections =
        std::thread::available_parallelism().map_or(8, |n| (2 * n.get()).clamp(4, 16));
    let store = Arc::new(db.open(connections)?);
    let orgs = store.read(|tx| tx.orgs()).map_err(Error::from)?;
    if orgs.is_empty() && dev.is_none() {
        ctx.out.warn(&format!(
            "{} holds no org yet: create one with `tok server init --database {} …`",
            db.shown(),
            db.shown_url()
        ));
    }
    let state = AppState::new(Arc::clone(&store), sealer, policy, session_cache)
        .with_apikey_retention(apikey_retention)
        .with_meter_flush(meter_flush);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::other(format!("cannot start the async runtime: {e}")))?;
    let out = ctx.out.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let dev_plan = dev.as_ref().map(|d| (d.password.clone(), state.clone()));
    let result = runtime.block_on(crate::server::serve(
        state,
        Listen { addr, tls },
        grace,
        |bound, _| {
            let url = format!("{scheme}://{bound}");
            out.info(&format!(
                "tok server listening on {url} (database {})",
                db.shown()
            ));
            match dev_plan {
                None => {
                    let _ = out.line(&url);
                }
                Some((password, st)) => {
                    let _ = print_dev_session(&out, &url, &password, &st);
                }
            }
        },
    ));
    // The runtime (and the tasks still holding the state) goes before the store: closing
    // PostgreSQL connections blocks, which must not happen inside the runtime.
    drop(runtime);
    drop(store);
    if let Some(d) = &dev {
        let _ = std::fs::remove_dir_all(&d.dir);
    }
    result.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            Error::conflict(format!("cannot listen on {addr}: the address is in use"))
                .with_hint("pick another --listen port, or stop the other server")
        } else {
            Error::other(format!("the server stopped: {e}"))
        }
    })?;
    ctx.out.info("tok server stopped");
    Ok(())
}

struct Dev {
    dir: PathBuf,
    master_key: String,
    password: String,
}

const DEV_ORG: &str = "dev";
const DEV_ADMIN: &str = "admin";

/// A temporary database with org `dev`, instance `default` and user `admin`.
fn dev_setup() -> Result<Dev> {
    let dir = std::env::temp_dir().join(format!(
        "tok-dev-{}-{}",
        std::process::id(),
        crate::control::opaque::request_key()
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), &e))?;
    let master_key = Sealer::generate_master_key().map_err(Error::from)?;
    let store = SqliteStore::open(&dir.join("tok.db")).map_err(Error::from)?;
    let sealer = Sealer::from_encoded(&master_key).map_err(Error::from)?;
    let cp = ControlPlane::new(store, MasterKey::ready(sealer), DEV_ORG, "server-dev");
    let password = crate::control::opaque::random_password().map_err(Error::from)?;
    let now = now();
    cp.bootstrap(Some("default"), now).map_err(Error::from)?;
    cp.create_user(DEV_ADMIN, &password, &[ADMIN_ROLE.to_string()], now)
        .map_err(Error::from)?;
    Ok(Dev {
        dir,
        master_key,
        password,
    })
}

fn print_dev_session(
    out: &crate::output::Output,
    url: &str,
    password: &str,
    state: &AppState,
) -> Result<()> {
    let (token, session) = auth::login(
        state.store.as_ref(),
        &state.pepper,
        &state.policy,
        DEV_ADMIN,
        password,
        None,
        now(),
    )
    .map_err(Error::from)?;
    out.warn("development server: the database is temporary and deleted on exit");
    out.hint(&format!(
        "export TOK_SERVER={url} TOK_TOKEN=<auth_token>, or `tok login --server {url} --username admin`"
    ));
    out.item(&DevView {
        server: url.to_string(),
        org: DEV_ORG.into(),
        username: DEV_ADMIN.into(),
        password: password.to_string(),
        auth_token: token,
        expires_at: rfc3339(session.expires_at),
        expires: session.expires_at,
    })
}

/// Structured logs on stderr: text or JSON, level from -v (info by default) or RUST_LOG.
fn init_logging(ctx: &Ctx, format: LogFormat) {
    let level = match ctx.global.verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("tok={level},warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ctx.out.color_err);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
