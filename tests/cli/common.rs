//! Shared test helpers: an isolated environment per test and the `tok` binary in it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// A temporary HOME-like directory with tok's config and data dirs inside it.
pub struct TestEnv {
    dir: TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
        }
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

    /// `tok` with every TOK_* variable pinned or cleared, no colour, the file credential
    /// store, and the temp dir as working directory. Stdin is empty (not a terminal).
    pub fn tok(&self) -> Command {
        let mut cmd = Command::cargo_bin("tok").expect("tok binary");
        for var in [
            "TOK_PROFILE",
            "TOK_OUTPUT",
            "TOK_SERVER",
            "TOK_TOKEN",
            "TOK_NO_INPUT",
            "NO_COLOR",
            "CLICOLOR_FORCE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("TOK_CONFIG_DIR", self.config_dir())
            .env("TOK_DATA_DIR", self.data_dir())
            .env("TOK_CREDENTIAL_STORE", "file")
            .current_dir(self.path())
            .write_stdin("");
        cmd
    }

    /// Writes `bytes` to a file in the temp dir and returns its absolute path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }
}

/// Parses stdout as JSON.
pub fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// stdout as a trimmed string.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// stderr as a string.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}
