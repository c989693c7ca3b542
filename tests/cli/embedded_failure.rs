//! What the embedded mode does with a database it must not touch (corrupt, newer than
//! this tok) and with a profile that names a server: a clear error, and nothing changed.

use std::net::TcpListener;
use std::process::Output;

use crate::common::{TestEnv, expect_error, expect_exit, stderr, stdout};
use crate::embedded_helpers::{acme, checkpoint, db_path, expect_hint, new_token, sql};

/// Runs commands that read and write on a broken database: each fails with exit 1 and
/// the `database` code, and tok.db keeps every byte.
#[track_caller]
fn refused_and_untouched(env: &TestEnv, expect: &str) {
    let before = std::fs::read(db_path(env)).unwrap();
    for args in [
        &["tenant", "list"][..],
        &["token", "create", "--tenant", "acme"],
        &["tenant", "create", "beta"],
        &["instance", "rotate-key", "local"],
    ] {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = env.run(&args);
        let message = expect_error(&out, 1, "database");
        assert!(
            message.contains("tok.db") && message.contains(expect),
            "{message}"
        );
        let table = env.run(&args[..args.len() - 2]);
        expect_exit(&table, 1);
        assert!(stderr(&table).starts_with("error: "), "{}", stderr(&table));
        assert!(stderr(&table).contains("hint: "), "{}", stderr(&table));
    }
    let after = std::fs::read(db_path(env)).unwrap();
    assert!(after == before, "tok.db was changed");
}

#[test]
fn garbage_over_the_database_is_a_clear_error_and_stays_untouched() {
    let env = acme();
    new_token(&env, &["--tenant", "acme"]);
    checkpoint(&env);
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(db_path(&env), &garbage).unwrap();
    refused_and_untouched(&env, "not a database");
    let out = env.run(&["tenant", "list"]);
    assert!(stderr(&out).contains("left untouched"), "{}", stderr(&out));
}

#[test]
fn a_database_with_mangled_pages_is_a_clear_error_and_stays_untouched() {
    let env = acme();
    new_token(&env, &["--tenant", "acme"]);
    checkpoint(&env);
    let mut bytes = std::fs::read(db_path(&env)).unwrap();
    // Keep SQLite's 100-byte header, so the file still claims to be a database.
    for (i, b) in bytes.iter_mut().enumerate().skip(100) {
        *b = (i * 7 + 3) as u8;
    }
    std::fs::write(db_path(&env), &bytes).unwrap();
    refused_and_untouched(&env, "malformed");
}

#[test]
fn a_newer_database_is_refused_and_left_alone() {
    let env = acme();
    sql(&env, "INSERT INTO schema_version (version) VALUES (99)");
    checkpoint(&env);
    refused_and_untouched(&env, "newer");
    let out = env.run(&["tenant", "list", "-o", "json"]);
    let message = expect_error(&out, 1, "database");
    assert!(message.contains("schema version 99"), "{message}");
    expect_hint(&out, 1, "database", "upgrade tok");
}

/// Whether anything connected to `listener` (non-blocking accept after the process exited:
/// a connection attempt would be waiting in the backlog).
fn contacted(listener: &TcpListener) -> bool {
    listener.set_nonblocking(true).unwrap();
    match listener.accept() {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(e) => panic!("accept: {e}"),
    }
}

#[track_caller]
fn server_refused(out: &Output) {
    expect_hint(out, 4, "not_logged_in", "tok login");
}

/// A server profile (or --server / TOK_SERVER) with no credential fails before any
/// connection is made, and never falls back to the embedded control plane.
#[test]
fn a_server_profile_without_a_login_is_refused_before_connecting() {
    let env = TestEnv::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    env.ok(&["profile", "set", "s", "server=http://127.0.0.1:9", "-q"]);
    env.ok(&["profile", "set", "live", &format!("server={url}"), "-q"]);

    let out = env.run(&["--profile", "s", "tenant", "list"]);
    expect_exit(&out, 4);
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("hint: run `tok login --server http://127.0.0.1:9 --profile s`"),
        "{}",
        stderr(&out)
    );
    for args in [
        &["--profile", "s", "tenant", "list", "-o", "json"][..],
        &[
            "--profile",
            "live",
            "token",
            "create",
            "--tenant",
            "acme",
            "-o",
            "json",
        ],
        &["--profile", "live", "instance", "list", "-o", "json"],
        &["--server", &url, "audit", "list", "-o", "json"],
    ] {
        server_refused(&env.run(args));
    }
    server_refused(&env.run_env(
        &["tenant", "list", "-o", "json"],
        &[("TOK_PROFILE", "live")],
    ));
    server_refused(&env.run_env(&["tenant", "list", "-o", "json"], &[("TOK_SERVER", &url)]));
    assert!(!contacted(&listener), "nothing was contacted");
    assert!(
        !db_path(&env).exists(),
        "no embedded database was made either"
    );

    env.ok(&["--profile", "local", "tenant", "create", "acme", "-q"]);
    assert!(db_path(&env).exists());
}

/// A database written by the previous release (schema 1: no users, sessions, idempotency
/// keys or roles, no audit `source`) is migrated in place on first use and keeps its tokens.
#[test]
fn a_schema_1_database_is_migrated_and_keeps_its_data() {
    let env = acme();
    let first = new_token(&env, &["--tenant", "acme", "--name", "before"]);
    // Turn the fresh database back into what schema 1 looked like.
    for statement in [
        "DROP TABLE job_runs",
        "DROP TABLE rate_cards",
        "DROP TABLE usage_batches",
        "DROP TABLE usage_daily",
        "DROP TABLE revocations",
        "DROP TABLE api_keys",
        "DROP TABLE service_accounts",
        "DROP TABLE app_tokens",
        "DROP TABLE role_assignments",
        "DROP TABLE roles",
        "DROP TABLE idempotency_keys",
        "DROP TABLE sessions",
        "DROP TABLE users",
        "ALTER TABLE audit DROP COLUMN source",
        "DELETE FROM schema_version WHERE version > 1",
    ] {
        sql(&env, statement);
    }
    let listed = env.ok_json(&["token", "list", "--tenant", "acme"]);
    assert_eq!(listed[0]["id"], first["id"], "{listed}");
    new_token(&env, &["--tenant", "acme", "--name", "after"]);
    let audit = env.ok_json(&["audit", "list"]);
    let last = audit.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "token.create");
    assert!(last["source"].is_null(), "{last}");
    let conn = rusqlite::Connection::open(db_path(&env)).unwrap();
    let version: i64 = conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, tok::control::sqlite::SCHEMA_VERSION);
    let users: i64 = conn
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 0, "the users table exists again, empty");
}
