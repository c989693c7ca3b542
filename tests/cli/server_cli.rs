//! `tok server init|start`, `tok login|logout|whoami` and `tok user …` as a person or a
//! script runs them against a real `tok server`; how the client fails when the server is
//! down, is not a tok server, or has a certificate it does not trust; and the operator's
//! end-to-end script `scripts/e2e-server.sh`.

use std::io::{BufRead, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::common::{
    ADMIN, ADMIN_PASSWORD, Backend, ServerProcess, TOK, TestEnv, expect_error, expect_exit, json,
    json_error, path_str, skip_or_fail, stderr, stdout,
};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `sqlite://…` URL and master key path for a server database named `name` in the env.
fn server_paths(env: &TestEnv, name: &str) -> (PathBuf, PathBuf) {
    let dir = env.path().join(name);
    (dir.join("tok.db"), dir.join("master.key"))
}

fn db_url(database: &Path) -> String {
    format!("sqlite://{}", database.display())
}

/// `tok server init --database … --master-key-file … --org ORG --admin ADMIN EXTRA… -o json`,
/// with `stdin` as its input.
fn server_init(
    env: &TestEnv,
    database: &Path,
    key: &Path,
    org: &str,
    admin: &str,
    extra: &[&str],
    stdin: &str,
) -> Output {
    let url = db_url(database);
    let key = path_str(key);
    let mut args = vec![
        "server",
        "init",
        "--database",
        &url,
        "--master-key-file",
        &key,
        "--org",
        org,
        "--admin",
        admin,
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    env.run_stdin(&args, stdin)
}

/// The running server of a [`Backend::Server`] env.
fn server_url(env: &TestEnv) -> String {
    env.server().expect("a server env").url.clone()
}

/// `tok login --server URL --username USER --password-stdin -o json EXTRA…` with `password`.
fn login(env: &TestEnv, url: &str, user: &str, password: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "login",
        "--server",
        url,
        "--username",
        user,
        "--password-stdin",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    env.run_stdin(&args, password)
}

/// Every regular file under `dir` (recursively); none when it does not exist.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Asserts that `secret` occurs in no file under `dir`.
#[track_caller]
fn assert_not_in_files(dir: &Path, secret: &str) {
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the token is in {}",
            file.display()
        );
    }
}

/// The file credential store of an env, as account → secret (empty when there is none).
fn credential_file(env: &TestEnv) -> serde_json::Map<String, Value> {
    match std::fs::read(env.data_dir().join("credentials.json")) {
        Ok(bytes) => serde_json::from_slice(&bytes).expect("credentials.json is JSON"),
        Err(_) => serde_json::Map::new(),
    }
}

/// The session token `tok login` kept for profile `default` in the file store.
fn stored_token(env: &TestEnv) -> String {
    credential_file(env)
        .get("profile:default")
        .and_then(Value::as_str)
        .expect("a credential for profile:default in credentials.json")
        .to_string()
}

/// Asserts that a failed login left no trace: no config, no credential.
#[track_caller]
fn assert_nothing_saved(env: &TestEnv) {
    assert_eq!(env.config_text(), "", "no config was written");
    assert!(
        credential_file(env).is_empty(),
        "no credential was stored: {:?}",
        credential_file(env)
    );
}

/// The hint of the JSON error on stderr.
fn error_hint(out: &Output) -> String {
    json_error(out)["hint"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A local port nothing listens on (bound, then released).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// An HTTP server that is not tok: answers every request with a small HTML 404.
/// Returns its URL; the thread lives as long as the test process.
fn not_tok_server() -> String {
    plain_http_server("404 Not Found")
}

/// An HTTP server (a proxy, say) that answers every request with `status` and an HTML body.
fn plain_http_server(status: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                // Read the whole request first: closing with unread bytes would reset the
                // connection before the client sees the answer.
                let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" || line == "\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\
                     Connection: close\r\n\r\nnope!"
                );
                let _ = stream.write_all(answer.as_bytes());
                let _ = stream.flush();
                let _ = stream.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    url
}

/// Asserts an RFC 3339 timestamp.
#[track_caller]
fn assert_rfc3339(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a timestamp: {value}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {text}"));
}

// ---------------------------------------------------------------------------------------
// tok server init
// ---------------------------------------------------------------------------------------

#[test]
fn init_prints_a_generated_password_once_and_it_logs_in() {
    let env = TestEnv::new();
    let (database, key) = server_paths(&env, "srv");
    let out = server_init(&env, &database, &key, "acme", ADMIN, &[], "");
    expect_exit(&out, 0);
    let doc = json(&out);
    assert_eq!(doc["org"], "acme");
    assert_eq!(doc["instance"], "default");
    assert_eq!(doc["admin"], ADMIN);
    assert_eq!(doc["database"], db_url(&database));
    assert_eq!(doc["master_key_file"], path_str(&key));
    let password = doc["password"].as_str().expect("a generated password");
    assert!(password.len() >= 12, "a policy-conforming password");
    assert!(
        stderr(&out).contains("only once"),
        "the person is told to store it"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key)
            .expect("key file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "the master key file is private");
    }

    let server = env.spawn_server(&database, &key, &[]);
    let out = login(&env, &server.url, ADMIN, password, &[]);
    expect_exit(&out, 0);
    let me = json(&out);
    assert_eq!(me["principal"], ADMIN);
    assert_eq!(me["org"], "acme");

    // The same org again: a conflict, and the first administrator is untouched.
    let again = server_init(&env, &database, &key, "acme", ADMIN, &[], "");
    expect_error(&again, 5, "conflict");
    let out = login(&env, &server.url, ADMIN, password, &[]);
    expect_exit(&out, 0);
}

#[test]
fn init_with_password_stdin_prints_no_password() {
    let env = TestEnv::new();
    let (database, key) = server_paths(&env, "srv");
    let out = server_init(
        &env,
        &database,
        &key,
        "acme",
        "alice",
        &["--password-stdin", "--instance", "eu-1"],
        "a long enough password\n",
    );
    expect_exit(&out, 0);
    let doc = json(&out);
    assert!(doc.get("password").is_none(), "{doc}");
    assert_eq!(doc["instance"], "eu-1");
    assert_eq!(doc["admin"], "alice");
}

#[test]
fn init_refuses_a_bad_org_name() {
    let env = TestEnv::new();
    let (database, key) = server_paths(&env, "srv");
    for org in ["Bad Org!", "-acme", "UPPER"] {
        let out = server_init(&env, &database, &key, org, ADMIN, &[], "");
        expect_error(&out, 2, "invalid_input");
    }
}

/// A bad org name is refused before the master key file or the database is written, like
/// the password policy (below).
#[test]
fn init_with_a_bad_org_name_creates_nothing() {
    let env = TestEnv::new();
    let (database, key) = server_paths(&env, "srv");
    let out = server_init(&env, &database, &key, "Bad Org!", ADMIN, &[], "");
    expect_error(&out, 2, "invalid_input");
    assert!(!key.exists(), "no master key file");
    assert!(!database.exists(), "no database");
}

#[test]
fn init_enforces_the_password_policy_before_creating_anything() {
    let env = TestEnv::new();
    let (database, key) = server_paths(&env, "srv");
    // Too short.
    let out = server_init(
        &env,
        &database,
        &key,
        "acme",
        ADMIN,
        &["--password-stdin"],
        "short\n",
    );
    let message = expect_error(&out, 2, "invalid_input");
    assert!(message.contains("short"), "{message}");
    // Equal to the username (long enough to pass the length rule).
    let out = server_init(
        &env,
        &database,
        &key,
        "acme",
        "administrator1",
        &["--password-stdin"],
        "administrator1\n",
    );
    let message = expect_error(&out, 2, "invalid_input");
    assert!(message.contains("username"), "{message}");
    // An empty password on stdin.
    let out = server_init(
        &env,
        &database,
        &key,
        "acme",
        ADMIN,
        &["--password-stdin"],
        "",
    );
    expect_exit(&out, 2);

    assert!(!database.exists(), "no database was created");
    assert!(!key.exists(), "no master key file was created");
    assert!(
        !database.parent().unwrap().exists(),
        "not even the directory"
    );
}

// ---------------------------------------------------------------------------------------
// tok server start --dev
// ---------------------------------------------------------------------------------------

#[test]
fn dev_server_prints_a_session_that_works_and_cleans_up_on_sigterm() {
    let env = TestEnv::new();
    let tmp = env.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let log = env.path().join("dev.log");
    let mut cmd = env.command(TOK);
    cmd.args([
        "server",
        "start",
        "--dev",
        "--listen",
        "127.0.0.1:0",
        "-o",
        "json",
    ])
    .env("TMPDIR", &tmp)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().expect("tok server start --dev");
    let stdout_pipe = child.stdout.take().expect("stdout");
    let mut server = ServerProcess {
        child,
        url: String::new(),
        database: PathBuf::new(),
        master_key_file: PathBuf::new(),
        log: log.clone(),
    };
    let mut line = String::new();
    std::io::BufReader::new(stdout_pipe)
        .read_line(&mut line)
        .expect("the dev server prints its session");
    let session: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
        panic!(
            "the first line is not JSON ({e}): {line}\nlog:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    let url = session["server"].as_str().expect("server").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{session}");
    assert_eq!(session["org"], "dev");
    assert_eq!(session["username"], "admin");
    assert!(session["password"].as_str().is_some_and(|p| p.len() >= 12));
    let token = session["auth_token"].as_str().expect("auth_token");
    assert_rfc3339(&session["expires_at"]);
    server.url = url.clone();

    let vars = [("TOK_SERVER", url.as_str()), ("TOK_TOKEN", token)];
    let out = env.run_env(&["tenant", "create", "x", "-o", "json"], &vars);
    expect_exit(&out, 0);
    assert_eq!(json(&out)["name"], "x");
    let out = env.run_env(&["whoami", "-o", "json"], &vars);
    expect_exit(&out, 0);
    let me = json(&out);
    assert_eq!(me["principal"], "admin");
    assert_eq!(me["kind"], "user");
    assert_eq!(me["org"], "dev");
    assert_eq!(me["server"], url.as_str());
    // The printed password logs in too.
    let out = login(
        &env,
        &url,
        "admin",
        session["password"].as_str().unwrap(),
        &[],
    );
    expect_exit(&out, 0);

    let status = server.terminate().expect("the dev server stops on SIGTERM");
    // Reaped: dropping it would signal its (possibly reused) process id again.
    std::mem::forget(server);
    assert!(status.success(), "clean exit: {status:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    let database = text
        .split("(database ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("the log names the temporary database:\n{text}"));
    let dir = Path::new(database).parent().expect("its directory");
    assert!(
        dir.starts_with(&tmp),
        "the temporary database lives under TMPDIR: {}",
        dir.display()
    );
    assert!(!dir.exists(), "{} was removed on exit", dir.display());
    assert!(
        !text.contains(token),
        "the log never holds the session token"
    );
}

// ---------------------------------------------------------------------------------------
// tok login / whoami / logout (file credential store)
// ---------------------------------------------------------------------------------------

#[test]
fn login_keeps_the_token_out_of_the_config_and_logout_ends_the_session() {
    let env = TestEnv::with_backend(Backend::Server);
    let url = server_url(&env);

    assert_eq!(
        env.profiles().iter().find(|(_, cur)| *cur).unwrap().0,
        "default"
    );
    let config: toml::Table = env.config_text().parse().expect("config.toml is TOML");
    assert_eq!(config["current"].as_str(), Some("default"), "{config}");
    let profile = config["profiles"]["default"]
        .as_table()
        .expect("profile default");
    assert_eq!(profile["server"].as_str(), Some(url.as_str()), "{config}");
    assert_eq!(profile["org"].as_str(), Some("local"), "{config}");
    let token = stored_token(&env);
    assert!(token.len() > 20, "a session token: {token}");
    assert_not_in_files(&env.config_dir(), &token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = env.data_dir().join("credentials.json");
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let me = env.ok_json(&["whoami"]);
    assert_eq!(me["principal"], ADMIN);
    assert_eq!(me["kind"], "user");
    assert_eq!(me["org"], "local");
    assert_eq!(me["server"], url.as_str());
    assert!(
        me["roles"].as_array().is_some_and(|r| !r.is_empty()),
        "{me}"
    );
    assert_rfc3339(&me["expires_at"]);

    let out = env.run(&["logout"]);
    expect_exit(&out, 0);
    assert!(
        !credential_file(&env).contains_key("profile:default"),
        "logout removed the credential"
    );
    assert_not_in_files(&env.data_dir(), &token);
    assert!(
        env.config_text().contains(&url),
        "the profile still names the server"
    );

    let out = env.run(&["tenant", "list", "-o", "json"]);
    expect_error(&out, 4, "not_logged_in");
    assert!(error_hint(&out).contains("tok login"));

    // Logout ended the session on the server: the old token is worthless.
    let out = env.run_env(&["tenant", "list", "-o", "json"], &[("TOK_TOKEN", &token)]);
    expect_error(&out, 4, "unknown_session");

    // A second logout has nothing to do.
    expect_exit(&env.run(&["logout"]), 0);
}

#[test]
fn login_with_token_reads_a_session_token_from_stdin() {
    let server_env = TestEnv::with_backend(Backend::Server);
    let url = server_url(&server_env);
    let token = stored_token(&server_env);

    let ci = TestEnv::new();
    let out = ci.run_stdin(
        &["login", "--server", &url, "--with-token", "-o", "json"],
        &format!("{token}\n"),
    );
    expect_exit(&out, 0);
    assert_eq!(json(&out)["principal"], ADMIN);
    assert_eq!(stored_token(&ci), token);
    assert_eq!(ci.ok_json(&["whoami"])["org"], "local");
    assert_eq!(ci.ok_json(&["tenant", "list"]), serde_json::json!([]));
}

#[test]
fn login_with_a_garbage_token_is_denied_and_saves_nothing() {
    let server_env = TestEnv::with_backend(Backend::Server);
    let url = server_url(&server_env);
    let env = TestEnv::new();
    for garbage in ["garbage\n", "toks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"] {
        let out = env.run_stdin(
            &["login", "--server", &url, "--with-token", "-o", "json"],
            garbage,
        );
        expect_exit(&out, 4);
        json_error(&out);
        assert_nothing_saved(&env);
    }
}

#[test]
fn login_to_the_wrong_org_is_denied_and_saves_nothing() {
    let server_env = TestEnv::with_backend(Backend::Server);
    let url = server_url(&server_env);
    let env = TestEnv::new();
    let out = login(&env, &url, ADMIN, ADMIN_PASSWORD, &["--org", "other"]);
    let message = expect_error(&out, 4, "wrong_org");
    assert!(message.contains("other"), "{message}");
    assert_nothing_saved(&env);
    // The expected org is accepted.
    let out = login(&env, &url, ADMIN, ADMIN_PASSWORD, &["--org", "local"]);
    expect_exit(&out, 0);
}

#[test]
fn login_with_a_wrong_password_says_so_and_saves_nothing() {
    let server_env = TestEnv::with_backend(Backend::Server);
    let url = server_url(&server_env);
    let env = TestEnv::new();
    let out = login(&env, &url, ADMIN, "not the right password", &[]);
    expect_exit(&out, 4);
    let body = json_error(&out);
    assert_eq!(body["message"], "wrong username or password", "{body}");
    // An unknown user gets the very same answer.
    let out = login(&env, &url, "nobody", "not the right password", &[]);
    expect_exit(&out, 4);
    assert_eq!(json_error(&out)["message"], "wrong username or password");
    assert_nothing_saved(&env);
}

#[test]
fn login_without_a_terminal_needs_password_stdin() {
    let server_env = TestEnv::with_backend(Backend::Server);
    let url = server_url(&server_env);
    let env = TestEnv::new();
    let out = env.run(&["login", "--server", &url, "--username", ADMIN, "-o", "json"]);
    expect_error(&out, 2, "input_required");
    assert!(error_hint(&out).contains("--password-stdin"));
    // No username either.
    let out = env.run(&["login", "--server", &url, "-o", "json"]);
    expect_error(&out, 2, "input_required");
    assert_nothing_saved(&env);
}

#[test]
fn an_expired_session_says_so_and_names_tok_login() {
    // The session is ended behind the server's back (as another replica would), so the
    // server must not reuse the row it looked up for the login: --session-cache 0s.
    let env = TestEnv::new();
    let server = env.start_server(&["--session-cache", "0s"]);
    env.login(&server.url);
    let database = server.database.clone();
    let conn = rusqlite::Connection::open(&database).expect("open the server database");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    let changed = conn
        .execute("UPDATE sessions SET expires_at = 1", [])
        .expect("expire the sessions");
    assert!(changed >= 1, "the login made a session");
    drop(conn);

    let out = env.run(&["tenant", "list", "-o", "json"]);
    let message = expect_error(&out, 4, "session_expired");
    assert!(message.contains("expired"), "{message}");
    assert!(error_hint(&out).contains("tok login"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// Client failures
// ---------------------------------------------------------------------------------------

#[test]
fn a_server_that_is_down_is_connection_failed() {
    let env = TestEnv::new();
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = login(&env, &url, ADMIN, ADMIN_PASSWORD, &[]);
    let message = expect_error(&out, 6, "connection_failed");
    assert!(message.contains(&url), "{message}");
    assert_nothing_saved(&env);

    let out = env.run_env(
        &["tenant", "list", "-o", "json"],
        &[("TOK_SERVER", &url), ("TOK_TOKEN", "toks_whatever")],
    );
    expect_error(&out, 6, "connection_failed");
}

#[test]
fn a_url_that_is_not_a_tok_server_says_so() {
    let env = TestEnv::new();
    let url = not_tok_server();
    let out = login(&env, &url, ADMIN, ADMIN_PASSWORD, &[]);
    expect_error(&out, 6, "not_a_tok_server");
    assert_nothing_saved(&env);

    let out = env.run_env(
        &["whoami", "-o", "json"],
        &[("TOK_SERVER", &url), ("TOK_TOKEN", "toks_whatever")],
    );
    expect_error(&out, 6, "not_a_tok_server");
}

#[test]
fn a_bad_server_url_is_a_usage_error() {
    let env = TestEnv::new();
    for url in [
        "ftp://x",
        "http://",
        "not a url",
        "http://user:pw@127.0.0.1:1",
    ] {
        let out = login(&env, url, ADMIN, ADMIN_PASSWORD, &[]);
        expect_error(&out, 2, "invalid_input");
    }
    assert_nothing_saved(&env);
}

#[test]
fn tls_needs_a_trusted_certificate_and_remembers_ca_cert() {
    let env = TestEnv::new();
    let cert = env.path().join("cert.pem");
    let key = env.path().join("key.pem");
    // CA:FALSE: rustls refuses a CA certificate as a server's own (CaUsedAsEndEntity), and
    // `openssl req -x509` marks its certificates CA:TRUE unless told otherwise.
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args([
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .output();
    match made {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("openssl failed:\n{}", stderr(&out)),
        Err(_) => {
            skip_or_fail("the openssl CLI is needed to make a test certificate");
            return;
        }
    }
    let cert_s = path_str(&cert);
    let key_s = path_str(&key);
    let server = env.start_server(&["--tls-cert", &cert_s, "--tls-key", &key_s]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );

    let out = login(&env, &server.url, ADMIN, ADMIN_PASSWORD, &[]);
    let message = expect_error(&out, 6, "tls");
    assert!(message.contains("TLS"), "{message}");
    assert!(error_hint(&out).contains("--ca-cert"));
    assert_nothing_saved(&env);

    let out = login(
        &env,
        &server.url,
        ADMIN,
        ADMIN_PASSWORD,
        &["--ca-cert", &cert_s],
    );
    expect_exit(&out, 0);
    assert_eq!(json(&out)["server"], server.url.as_str());
    assert!(
        env.config_text().contains(&cert_s),
        "the CA certificate is remembered:\n{}",
        env.config_text()
    );
    // Later commands trust it without being told again.
    assert_eq!(env.ok_json(&["whoami"])["principal"], ADMIN);
    assert_eq!(env.ok_json(&["tenant", "create", "t1"])["name"], "t1");
    expect_exit(&env.run(&["logout"]), 0);
}

// ---------------------------------------------------------------------------------------
// tok user
// ---------------------------------------------------------------------------------------

#[test]
fn users_are_created_listed_repassworded_and_deleted() {
    let env = TestEnv::with_backend(Backend::Server);
    let url = server_url(&env);
    let old = "bob's first password";
    let new = "bob's second password";

    let out = env.run_stdin(
        &["user", "create", "bob", "--password-stdin", "-o", "json"],
        &format!("{old}\n"),
    );
    expect_exit(&out, 0);
    let bob = json(&out);
    assert_eq!(bob["username"], "bob");
    // A weak password is refused.
    let out = env.run_stdin(
        &["user", "create", "carol", "--password-stdin", "-o", "json"],
        "short\n",
    );
    expect_error(&out, 2, "invalid_input");
    // A second bob is a conflict.
    let out = env.run_stdin(
        &["user", "create", "bob", "--password-stdin", "-o", "json"],
        "another long password",
    );
    expect_exit(&out, 5);

    let list = env.ok_json(&["user", "list"]);
    let users = list.as_array().expect("a list");
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{list}");
    assert!(names.contains(&ADMIN) && names.contains(&"bob"), "{list}");
    for user in users {
        assert!(user["roles"].is_array(), "{user}");
        assert_rfc3339(&user["created_at"]);
        assert!(
            user.as_object().unwrap().contains_key("locked_until"),
            "{user}"
        );
        assert!(user["locked_until"].is_null(), "{user}");
    }
    let got = env.ok_json(&["user", "get", "bob"]);
    assert_eq!(got["username"], "bob");
    assert_eq!(got["created_at"], bob["created_at"]);
    expect_error(
        &env.run(&["user", "get", "nobody", "-o", "json"]),
        3,
        "not_found",
    );

    // bob logs in from his own machine, then his password changes: that session ends.
    let bobs = TestEnv::new();
    expect_exit(&login(&bobs, &url, "bob", old, &[]), 0);
    let out = env.run_stdin(
        &[
            "user",
            "set-password",
            "bob",
            "--password-stdin",
            "-o",
            "json",
        ],
        &format!("{new}\n"),
    );
    expect_exit(&out, 0);
    expect_error(&bobs.run(&["whoami", "-o", "json"]), 4, "unknown_session");
    let out = login(&bobs, &url, "bob", old, &[]);
    expect_exit(&out, 4);
    assert_eq!(json_error(&out)["message"], "wrong username or password");
    expect_exit(&login(&bobs, &url, "bob", new, &[]), 0);
    assert_eq!(bobs.ok_json(&["whoami"])["principal"], "bob");

    // Deleting needs confirmation; without a terminal that means --yes.
    let out = env.run(&["user", "delete", "bob", "-o", "json"]);
    expect_error(&out, 2, "confirmation_required");
    assert!(error_hint(&out).contains("--yes"));
    assert_eq!(env.ok_json(&["user", "get", "bob"])["username"], "bob");
    expect_exit(&env.run(&["user", "delete", "bob", "--yes"]), 0);
    expect_error(
        &env.run(&["user", "get", "bob", "-o", "json"]),
        3,
        "not_found",
    );
    expect_exit(&bobs.run(&["whoami", "-o", "json"]), 4);

    // The last user stays.
    let out = env.run(&["user", "delete", ADMIN, "--yes", "-o", "json"]);
    let message = expect_error(&out, 5, "conflict");
    assert!(message.contains("last user"), "{message}");
    assert_eq!(env.ok_json(&["whoami"])["principal"], ADMIN);
}

#[test]
fn users_need_a_server() {
    let env = TestEnv::new();
    let out = env.run(&["user", "list", "-o", "json"]);
    expect_exit(&out, 2);
    let hint = error_hint(&out);
    assert!(hint.contains("tok server"), "{hint}");
}

// ---------------------------------------------------------------------------------------
// The real OS keyring
// ---------------------------------------------------------------------------------------

/// Set (with a private, unlocked gnome-keyring) by scripts/test-in-session.
fn keyring_required() -> bool {
    std::env::var("TOK_TEST_KEYRING").is_ok_and(|v| v == "required")
}

/// `secret-tool lookup service tok username ACCOUNT`: the secret, or `None`.
fn keyring_lookup(account: &str) -> Option<String> {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "tok", "username", account])
        .output()
        .expect("secret-tool runs (apt-get install libsecret-tools)");
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !secret.is_empty()).then_some(secret)
}

#[test]
fn login_with_the_real_keyring_keeps_the_token_out_of_every_file() {
    if !keyring_required() {
        // Outside an isolated Secret Service this would write to the developer's own keyring.
        eprintln!(
            "SKIPPED: set TOK_TEST_KEYRING=required under a private Secret Service \
             (see scripts/test-in-session)"
        );
        return;
    }
    let server_env = TestEnv::with_backend(Backend::Server);
    let url = server_url(&server_env);
    let env = TestEnv::new();
    // A profile name of its own, so that nothing else in the keyring is overwritten.
    let profile = format!("kr-{}", std::process::id());
    let account = format!("profile:{profile}");
    let keyring = [("TOK_CREDENTIAL_STORE", "keyring")];

    let args = [
        "login",
        "--server",
        &url,
        "--username",
        ADMIN,
        "--password-stdin",
        "--profile",
        &profile,
        "-o",
        "json",
    ];
    let out = env
        .tok()
        .args(args)
        .env("TOK_CREDENTIAL_STORE", "keyring")
        .write_stdin(ADMIN_PASSWORD)
        .output()
        .unwrap();
    expect_exit(&out, 0);
    assert!(
        !stderr(&out).contains("no OS keyring answered"),
        "no fallback: {}",
        stderr(&out)
    );
    let token = keyring_lookup(&account).expect("the session token is in the keyring");
    assert!(token.starts_with("toks_"), "a session token");
    assert!(
        !env.data_dir().join("credentials.json").exists(),
        "the fallback file was not used"
    );
    assert_not_in_files(&env.config_dir(), &token);
    assert_not_in_files(&env.data_dir(), &token);
    assert_not_in_files(env.path(), &token);

    // The profile is current, so plain commands find the token in the keyring.
    let out = env.run_env(&["whoami", "-o", "json"], &keyring);
    expect_exit(&out, 0);
    assert_eq!(json(&out)["principal"], ADMIN);
    // Auto mode finds it too.
    let out = env.run_env(
        &["whoami", "-o", "json"],
        &[("TOK_CREDENTIAL_STORE", "auto")],
    );
    expect_exit(&out, 0);

    let out = env.run_env(&["logout"], &keyring);
    expect_exit(&out, 0);
    assert_eq!(keyring_lookup(&account), None, "logout removed it");
    let out = env.run_env(&["tenant", "list", "-o", "json"], &keyring);
    expect_error(&out, 4, "not_logged_in");
    let out = env.run_env(&["tenant", "list", "-o", "json"], &[("TOK_TOKEN", &token)]);
    expect_error(&out, 4, "unknown_session");
}

// ---------------------------------------------------------------------------------------
// scripts/e2e-server.sh
// ---------------------------------------------------------------------------------------

#[test]
fn the_operator_end_to_end_script_passes() {
    let env = TestEnv::new();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/e2e-server.sh");
    let tmp = env.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = env
        .command("bash")
        .arg(&script)
        .env("TOK", TOK)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "the script failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).lines().any(|l| l == "e2e: ok"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "the script removed its temporary directory"
    );
}

/// Error answers that are not problem+json (a proxy in front of the server) still get the
/// exit code their status means where it is unambiguous.
#[test]
fn a_proxy_error_keeps_the_exit_code_of_its_status() {
    let env = TestEnv::new();
    for (status, exit, code) in [
        ("401 Unauthorized", 4, "forbidden"),
        ("403 Forbidden", 4, "forbidden"),
        ("413 Payload Too Large", 2, "invalid_input"),
        ("502 Bad Gateway", 6, "server_unavailable"),
        ("404 Not Found", 6, "not_a_tok_server"),
    ] {
        let url = plain_http_server(status);
        let out = env.run_env(
            &["tenant", "list", "-o", "json"],
            &[("TOK_SERVER", &url), ("TOK_TOKEN", "toks_whatever")],
        );
        expect_error(&out, exit, code);
    }
}

/// `server init` refuses an administrator name another org already uses, before it makes
/// the org: an org nobody can log in to is never left behind.
#[test]
fn init_with_a_taken_admin_name_creates_no_org() {
    let env = TestEnv::new();
    let (database, key) = server_paths(&env, "srv");
    let out = server_init(&env, &database, &key, "a", "alice", &[], "");
    expect_exit(&out, 0);
    let out = server_init(&env, &database, &key, "b", "alice", &[], "");
    expect_error(&out, 5, "conflict");
    let out = server_init(&env, &database, &key, "b", "bob", &[], "");
    expect_exit(&out, 0);
}
