//! The credentials module against a real Secret Service, and its file fallback when
//! no keyring answers.
//!
//! `.ci/run` starts a D-Bus session with gnome-keyring unlocked and sets
//! `TOK_TEST_KEYRING=required`; without it the real-keyring test says it was skipped.

use std::process::Command;

use tok::credentials::{Credentials, Location, StoreKind};

fn keyring_required() -> bool {
    std::env::var("TOK_TEST_KEYRING").is_ok_and(|v| v == "required")
}

#[test]
fn real_secret_service_stores_reads_and_deletes() {
    if !keyring_required() {
        eprintln!("SKIPPED: set TOK_TEST_KEYRING=required under a Secret Service (see .ci/run)");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let account = format!("test-{}", std::process::id());
    let store = Credentials::new(StoreKind::Keyring, data.path());

    let stored = store.set(&account, "s3cret-value").expect("keyring set");
    assert_eq!(stored.location, Location::Keyring);
    assert_eq!(stored.fallback, None);
    assert!(
        !store.file_path().exists(),
        "nothing may be written to the fallback file"
    );

    // Another process (libsecret's secret-tool) sees the secret: it really is in the keyring.
    let lookup = Command::new("secret-tool")
        .args(["lookup", "service", "tok", "username", &account])
        .output()
        .expect("secret-tool runs");
    assert_eq!(
        String::from_utf8_lossy(&lookup.stdout).trim(),
        "s3cret-value"
    );

    let (secret, location) = store.get(&account).unwrap().expect("found");
    assert_eq!(
        (secret.as_str(), location),
        ("s3cret-value", Location::Keyring)
    );

    // Auto mode reads the same entry.
    let auto = Credentials::new(StoreKind::Auto, data.path());
    assert_eq!(
        auto.get(&account).unwrap().map(|(s, _)| s).as_deref(),
        Some("s3cret-value")
    );

    assert!(store.delete(&account).unwrap());
    assert_eq!(store.get(&account).unwrap(), None);
    assert!(
        !store.delete(&account).unwrap(),
        "a second delete finds nothing"
    );
}

/// Runs in a child process whose D-Bus address points nowhere (see the test below).
#[test]
#[ignore = "run by fallback_file_is_used_when_no_keyring_answers in a child process"]
fn fallback_probe() {
    let data = std::path::PathBuf::from(std::env::var("TOK_PROBE_DATA").expect("probe data dir"));
    let store = Credentials::new(StoreKind::Auto, &data);
    let stored = store.set("ci", "fallback-secret").expect("fallback set");
    let path = data.join("credentials.json");
    assert_eq!(stored.location, Location::File(path.clone()));
    assert!(
        stored.fallback.is_some(),
        "the caller is told why, so it can warn"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert_eq!(
        store.get("ci").unwrap(),
        Some(("fallback-secret".to_string(), Location::File(path.clone())))
    );
    // Keyring-only mode refuses instead of falling back.
    let strict = Credentials::new(StoreKind::Keyring, &data);
    assert!(strict.set("other", "x").is_err());
    assert!(store.delete("ci").unwrap());
    assert_eq!(store.get("ci").unwrap(), None);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("fallback-secret"));
}

#[test]
fn fallback_file_is_used_when_no_keyring_answers() {
    let data = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "credentials::fallback_probe",
            "--ignored",
            "--nocapture",
        ])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/tok-test-bus",
        )
        .env("TOK_PROBE_DATA", data.path())
        .status()
        .expect("child test runs");
    assert!(
        status.success(),
        "the fallback probe failed; see its output above"
    );
}

#[test]
fn file_store_never_touches_the_keyring_and_keeps_mode_0600() {
    let data = tempfile::tempdir().unwrap();
    let store = Credentials::new(StoreKind::File, data.path());
    let stored = store.set("p1", "one").unwrap();
    assert_eq!(
        stored.fallback, None,
        "an explicit file store is not a fallback"
    );
    store.set("p2", "two").unwrap();
    assert_eq!(
        store.get("p1").unwrap().map(|(s, _)| s).as_deref(),
        Some("one")
    );
    assert!(store.delete("p1").unwrap());
    assert_eq!(
        store.get("p2").unwrap().map(|(s, _)| s).as_deref(),
        Some("two")
    );
}
