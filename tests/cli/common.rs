//! Shared test helpers: an isolated environment per test, the `tok` binary in it,
//! and assertions on what it printed and how it exited.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

use crate::tokens::SECRET;

/// The `tok` binary under test.
pub const TOK: &str = env!("CARGO_BIN_EXE_tok");

/// Every TOK_* and colour variable a developer's shell might set.
const CLEARED: [&str; 9] = [
    // The server's log level: tests read its info lines (requests, "purge ran").
    "RUST_LOG",
    "TOK_PROFILE",
    "TOK_DATABASE_URL",
    "TOK_OUTPUT",
    "TOK_SERVER",
    "TOK_TOKEN",
    "TOK_NO_INPUT",
    "NO_COLOR",
    "CLICOLOR_FORCE",
];

/// Which control plane a [`TestEnv`]'s commands talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded control plane (SQLite in the env's data dir).
    Embedded,
    /// A real `tok server` on 127.0.0.1:0 with org `local` and instance `local`, logged in
    /// as [`ADMIN`] under profile `default` (which is current).
    Server,
}

/// The administrator of a test server.
pub const ADMIN: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A temporary HOME-like directory with tok's config and data dirs inside it.
pub struct TestEnv {
    /// Declared before `dir`: the server stops before its files go.
    server: Option<ServerProcess>,
    dir: TempDir,
}

/// A `tok server start` child process, stopped (SIGTERM, then SIGKILL) on drop.
pub struct ServerProcess {
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub database: PathBuf,
    pub master_key_file: PathBuf,
    /// Where the server's stderr (its log) goes.
    pub log: PathBuf,
}

impl ServerProcess {
    /// Sends SIGTERM and waits up to 10 s for the process to exit; returns its status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        // Never signal a pid that was already reaped: it may belong to another process now.
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.terminate().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            server: None,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// An environment whose commands talk to `backend`; see [`Backend`].
    pub fn with_backend(backend: Backend) -> TestEnv {
        let mut env = TestEnv::new();
        if backend == Backend::Server {
            let server = env.start_server(&[]);
            env.login(&server.url);
            env.server = Some(server);
        }
        env
    }

    /// The running server of a [`Backend::Server`] environment.
    pub fn server(&self) -> Option<&ServerProcess> {
        self.server.as_ref()
    }

    /// Initialises a server database in this env (org `local`, instance `local`, user
    /// [`ADMIN`]) and starts `tok server start --listen 127.0.0.1:0 EXTRA…` on it; waits
    /// for the URL it prints.
    pub fn start_server(&self, extra: &[&str]) -> ServerProcess {
        let dir = self.path().join("server");
        std::fs::create_dir_all(&dir).expect("server dir");
        let database = dir.join("tok.db");
        let master_key_file = dir.join("master.key");
        let db_url = format!("sqlite://{}", database.display());
        let key = path_str(&master_key_file);
        if !database.exists() {
            let out = self.run_stdin(
                &[
                    "server",
                    "init",
                    "--database",
                    &db_url,
                    "--master-key-file",
                    &key,
                    "--org",
                    "local",
                    "--instance",
                    "local",
                    "--admin",
                    ADMIN,
                    "--password-stdin",
                ],
                ADMIN_PASSWORD,
            );
            expect_exit(&out, 0);
        }
        self.spawn_server(&database, &master_key_file, extra)
    }

    /// Starts `tok server start` on an existing database and waits for its URL.
    pub fn spawn_server(
        &self,
        database: &Path,
        master_key_file: &Path,
        extra: &[&str],
    ) -> ServerProcess {
        use std::io::BufRead;
        let log = self
            .path()
            .join(format!("server-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).expect("server log");
        let mut cmd = self.command(TOK);
        cmd.args(["server", "start", "--listen", "127.0.0.1:0", "--database"])
            .arg(format!("sqlite://{}", database.display()))
            .arg("--master-key-file")
            .arg(master_key_file)
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(log_file);
        let mut child = cmd.spawn().expect("tok server starts");
        let stdout = child.stdout.take().expect("server stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server prints its URL");
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http"),
            "server did not print its URL; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        ServerProcess {
            child,
            url,
            database: database.to_path_buf(),
            master_key_file: master_key_file.to_path_buf(),
            log,
        }
    }

    /// `tok login --server URL --username admin --password-stdin` into profile `default`.
    pub fn login(&self, url: &str) {
        let out = self.run_stdin(
            &[
                "login",
                "--server",
                url,
                "--username",
                ADMIN,
                "--password-stdin",
            ],
            ADMIN_PASSWORD,
        );
        expect_exit(&out, 0);
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `program` with every TOK_* variable pinned or cleared, the file credential store,
    /// and the temp dir as working directory.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        for var in CLEARED {
            cmd.env_remove(var);
        }
        cmd.env("TOK_CONFIG_DIR", self.config_dir())
            .env("TOK_DATA_DIR", self.data_dir())
            .env("TOK_CREDENTIAL_STORE", "file")
            .current_dir(self.path());
        cmd
    }

    /// `tok` in this environment, no colour. Stdin is empty (not a terminal).
    pub fn tok(&self) -> Command {
        let mut cmd = Command::from_std(self.command(TOK));
        cmd.write_stdin("");
        cmd
    }

    /// Runs `tok ARGS` and returns what it printed.
    pub fn run(&self, args: &[&str]) -> Output {
        self.tok().args(args).output().expect("tok runs")
    }

    /// Runs `tok ARGS` with extra environment variables.
    pub fn run_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut cmd = self.tok();
        cmd.args(args);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().expect("tok runs")
    }

    /// Runs `tok ARGS` with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Output {
        self.tok()
            .args(args)
            .write_stdin(input)
            .output()
            .expect("tok runs")
    }

    /// Runs `tok ARGS`, insists on exit 0, and returns stdout trimmed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        expect_exit(&out, 0);
        stdout(&out)
    }

    /// Runs `tok ARGS -o json`, insists on exit 0, and returns the document.
    pub fn ok_json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = self.run(&args);
        expect_exit(&out, 0);
        json(&out)
    }

    /// Writes `bytes` to a file in the temp dir and returns its absolute path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    /// [`SECRET`] in a file, as its absolute path string.
    pub fn secret_file(&self) -> String {
        path_str(&self.write("secret.key", SECRET))
    }

    /// A fresh key pair from `tok jwt create-key-pair` (DER): (private, public) paths.
    pub fn key_pair(&self, alg: &str, stem: &str) -> (String, String) {
        let private = path_str(&self.path().join(format!("{stem}.key")));
        let public = path_str(&self.path().join(format!("{stem}.pub")));
        self.ok(&[
            "jwt",
            "create-key-pair",
            "--alg",
            alg,
            "--private-key",
            &private,
            "--public-key",
            &public,
        ]);
        (private, public)
    }

    /// `tok jwt verify TOKEN FLAG KEY -o json`.
    pub fn verify(&self, token: &str, flag: &str, key: &str) -> Output {
        self.run(&["jwt", "verify", token, flag, key, "-o", "json"])
    }

    /// `tok jwt create --subject app-1 --secret-key <SECRET> -o json EXTRA…`.
    pub fn create(&self, extra: &[&str]) -> Output {
        let key = self.secret_file();
        let mut args = vec!["jwt", "create", "--subject", "app-1", "--secret-key", &key];
        args.extend(["-o", "json"]);
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// The text of `config.toml` (empty when there is none).
    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.config_dir().join("config.toml")).unwrap_or_default()
    }

    /// `tok profile list -o json` as (name, current) pairs.
    pub fn profiles(&self) -> Vec<(String, bool)> {
        let list = self.ok_json(&["profile", "list"]);
        let name = |p: &Value| p["name"].as_str().unwrap().to_string();
        let current = |p: &Value| p["current"].as_bool().unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| (name(p), current(p)))
            .collect()
    }

    /// `tok jwt create --subject app-1 EXTRA…`: the token alone.
    pub fn mint(&self, extra: &[&str]) -> String {
        let mut args = vec!["jwt", "create", "--subject", "app-1"];
        args.extend_from_slice(extra);
        let token = self.ok(&args);
        assert_eq!(token.split('.').count(), 3, "one token on stdout: {token}");
        token
    }

    /// Runs `tok ARGS` under a pseudo-terminal (util-linux `script`) with `input` typed
    /// into it. stdout holds everything the terminal showed (stdout and stderr).
    /// Returns `None`, after saying so, when `script` is missing outside CI.
    pub fn pty(&self, args: &[&str], input: &str, extra_env: &[(&str, &str)]) -> Option<Output> {
        if !tool_available("script", &["--version"]) {
            skip_or_fail("util-linux `script` is needed for pseudo-terminal tests");
            return None;
        }
        let line: Vec<String> = std::iter::once(TOK)
            .chain(args.iter().copied())
            .map(sh_quote)
            .collect();
        // `timeout` only guards against a prompt that never returns; no assertion is timed.
        let mut cmd = self.command("timeout");
        cmd.args(["300", "script", "-qec", &line.join(" "), "/dev/null"])
            .env("TERM", "xterm-256color");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        Some(run_with_stdin(cmd, input.as_bytes()))
    }
}

/// Spawns `cmd`, writes `input` to its stdin, closes it, and collects its output.
fn run_with_stdin(mut cmd: std::process::Command, input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("command starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("command finishes")
}

/// Whether `program ARGS` runs and succeeds.
fn tool_available(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A missing third-party tool fails the test under CI (`CI` set) and skips it elsewhere.
pub fn skip_or_fail(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set, so this may not be skipped: {what}"
    );
    eprintln!("SKIPPED: {what}");
}

fn sh_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

pub fn path_str(path: &Path) -> String {
    path.to_str().expect("temp paths are UTF-8").to_string()
}

/// Parses stdout as JSON.
pub fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// stdout as a trimmed string.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// stderr as a string.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// Asserts the exit code, showing both streams when it differs.
#[track_caller]
pub fn expect_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}

/// The `{"error":{…}}` object `-o json` puts on stderr's last line, checked for shape.
/// stdout must be empty: an error carries no data.
#[track_caller]
pub fn json_error(output: &Output) -> Value {
    let err = stderr(output);
    let last = err.lines().last().unwrap_or_default();
    let doc: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("stderr's last line is not JSON ({e}):\n{err}"));
    let body = &doc["error"];
    assert!(body["code"].is_string(), "error.code: {doc}");
    assert!(
        !body["message"].as_str().unwrap_or_default().is_empty(),
        "error.message: {doc}"
    );
    assert!(
        body["hint"].is_string() || body["hint"].is_null(),
        "error.hint: {doc}"
    );
    assert!(
        output.stdout.is_empty(),
        "no data on stdout with an error: {}",
        stdout(output)
    );
    body.clone()
}

/// Asserts exit `code` and the JSON error `error_code`; returns the message.
#[track_caller]
pub fn expect_error(output: &Output, code: i32, error_code: &str) -> String {
    expect_exit(output, code);
    let body = json_error(output);
    assert_eq!(body["code"], error_code, "{body}");
    body["message"].as_str().unwrap_or_default().to_string()
}

/// Whether `text` contains an ANSI escape sequence.
pub fn has_ansi(text: &str) -> bool {
    text.contains("\x1b[")
}

/// Whether PyJWT and cryptography import (or the test may be skipped outside CI).
pub fn pyjwt_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import jwt, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip_or_fail("pip install pyjwt cryptography");
    }
    ok
}

/// Runs a Python script in the test dir with `args`; returns its stdout as JSON.
pub fn python(env: &TestEnv, script: &str, args: &[&str]) -> Value {
    let out = env
        .command("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "python failed:\n{}", stderr(&out));
    json(&out)
}

/// Runs a scenario against both backends: `mod NAME { fn embedded(); fn server(); }`, each
/// calling `fn NAME(env: &TestEnv)` defined in the same file.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn embedded() {
                    super::$name(&$crate::common::TestEnv::with_backend(
                        $crate::common::Backend::Embedded,
                    ));
                }
                #[test]
                fn server() {
                    super::$name(&$crate::common::TestEnv::with_backend(
                        $crate::common::Backend::Server,
                    ));
                }
            }
        )+
    };
}
