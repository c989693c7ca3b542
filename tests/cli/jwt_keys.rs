//! `tok jwt create-secret-key` and `create-key-pair`: sizes, encodings, file modes,
//! no silent overwrites, and keys that sign and verify.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::common::{TestEnv, expect_error, expect_exit, json_error, path_str, stderr, stdout};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn unbase64(text: &str) -> Vec<u8> {
    STANDARD.decode(text.trim()).expect("standard base64")
}

/// Signs with `private` under `alg` and verifies with `public`; both by path.
fn round_trip(env: &TestEnv, alg: &str, private: &str, public: &str) {
    let doc = env.ok_json(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--private-key",
        private,
        "--alg",
        alg,
    ]);
    assert_eq!(doc["header"]["alg"], alg);
    let token = doc["token"].as_str().unwrap();
    let verified = env.ok_json(&["jwt", "verify", token, "--public-key", public]);
    assert_eq!(verified["verified_with"], alg);
}

#[test]
fn a_secret_key_without_output_is_base64_on_stdout() {
    let env = TestEnv::new();
    for (alg, len) in [("HS256", 32), ("HS384", 48), ("HS512", 64)] {
        let out = env.run(&["jwt", "create-secret-key", "--alg", alg]);
        expect_exit(&out, 0);
        assert_eq!(unbase64(&stdout(&out)).len(), len, "{alg}");
        assert_eq!(stderr(&out), "");
    }
    let a = env.ok(&["jwt", "create-secret-key"]);
    assert_ne!(a, env.ok(&["jwt", "create-secret-key"]), "keys are random");

    let doc = env.ok_json(&["jwt", "create-secret-key", "--alg", "HS512"]);
    assert_eq!(doc["algorithm"], "HS512");
    assert_eq!(doc["bytes"], 64);
    assert_eq!(doc["encoding"], "base64");
    assert_eq!(doc["path"], Value::Null);
    let key = unbase64(doc["key"].as_str().unwrap());
    assert_eq!(key.len(), 64);
    // The printed key signs as data:;base64,… and picks HS512 by its length.
    let keyref = format!("data:;base64,{}", doc["key"].as_str().unwrap());
    let created = env.ok_json(&["jwt", "create", "--subject", "a", "--secret-key", &keyref]);
    assert_eq!(created["algorithm"], "HS512");

    let out = env.run(&["jwt", "create-secret-key", "--alg", "RS256", "-o", "json"]);
    let message = expect_error(&out, 2, "invalid_input");
    assert!(message.contains("create-key-pair"), "{message}");
}

#[test]
fn a_secret_key_file_holds_raw_bytes_or_base64_mode_0600() {
    let env = TestEnv::new();
    let out = env.run(&["jwt", "create-secret-key", "--output", "raw.key"]);
    expect_exit(&out, 0);
    assert!(
        out.stdout.is_empty(),
        "the key is in the file, not on stdout"
    );
    let raw = env.path().join("raw.key");
    assert_eq!(std::fs::read(&raw).unwrap().len(), 32);

    let doc = env.ok_json(&[
        "jwt",
        "create-secret-key",
        "--alg",
        "HS384",
        "--output",
        "text.key",
        "--base64",
    ]);
    let text = env.path().join("text.key");
    assert_eq!(unbase64(&std::fs::read_to_string(&text).unwrap()).len(), 48);
    assert_eq!(doc["encoding"], "base64");
    assert_eq!(doc["path"], path_str(&text));
    assert_eq!(
        doc["key"],
        Value::Null,
        "a key written to a file is not printed"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&raw), 0o600);
        assert_eq!(mode(&text), 0o600);
    }
    // The raw file is a broker's tokenSecretKey=file:///…: it signs as it is.
    let file_ref = format!("file://{}", path_str(&raw));
    let token = env.mint(&["--secret-key", &file_ref]);
    env.ok(&["jwt", "verify", &token, "--secret-key", &file_ref]);
}

#[test]
fn an_existing_file_is_kept_without_force() {
    let env = TestEnv::new();
    let path = env.write("secret.key", b"precious");
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = env.run(&[
        "jwt",
        "create-secret-key",
        "--output",
        "secret.key",
        "-o",
        "json",
    ]);
    let body = json_error(&out);
    expect_exit(&out, 5);
    assert_eq!(body["code"], "file_exists");
    assert_eq!(
        body["hint"],
        "pass --force to overwrite it, or choose another path"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");

    env.ok(&[
        "jwt",
        "create-secret-key",
        "--output",
        "secret.key",
        "--force",
    ]);
    assert_eq!(std::fs::read(&path).unwrap().len(), 32);
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600, "--force also tightens the mode");
}

#[test]
fn a_key_pair_is_der_by_default_and_signs_and_verifies() {
    let env = TestEnv::new();
    let doc = env.ok_json(&[
        "jwt",
        "create-key-pair",
        "--private-key",
        "p.key",
        "--public-key",
        "p.pub",
    ]);
    let (private, public) = (env.path().join("p.key"), env.path().join("p.pub"));
    assert_eq!(doc["algorithm"], "RS256");
    assert_eq!(doc["format"], "der");
    assert_eq!(doc["private_key"], path_str(&private));
    assert_eq!(doc["public_key"], path_str(&public));
    let (private_der, public_der) = (
        std::fs::read(&private).unwrap(),
        std::fs::read(&public).unwrap(),
    );
    assert_eq!(private_der[0], 0x30, "DER SEQUENCE");
    assert_eq!(public_der[0], 0x30, "DER SEQUENCE");
    assert_eq!(
        public_der.len(),
        294,
        "X.509 SubjectPublicKeyInfo of a 2048-bit RSA key"
    );
    #[cfg(unix)]
    assert_eq!(mode(&private), 0o600);
    round_trip(&env, "RS256", &path_str(&private), &path_str(&public));

    let out = env.run(&[
        "jwt",
        "create-key-pair",
        "--alg",
        "ES256",
        "--private-key",
        "e.key",
        "--public-key",
        "e.pub",
    ]);
    expect_exit(&out, 0);
    assert!(
        out.stdout.is_empty(),
        "table output: the files are the result"
    );
    let err = stderr(&out);
    assert!(
        err.contains("PKCS#8, mode 0600") && err.contains("tokenPublicAlg=ES256"),
        "{err}"
    );
}

#[test]
fn pem_format_on_request() {
    let env = TestEnv::new();
    env.ok(&[
        "jwt",
        "create-key-pair",
        "--alg",
        "ES384",
        "--format",
        "pem",
        "--private-key",
        "p.pem",
        "--public-key",
        "pub.pem",
    ]);
    let private = std::fs::read_to_string(env.path().join("p.pem")).unwrap();
    let public = std::fs::read_to_string(env.path().join("pub.pem")).unwrap();
    assert!(
        private.starts_with("-----BEGIN PRIVATE KEY-----"),
        "{private}"
    );
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"), "{public}");
    round_trip(&env, "ES384", "p.pem", "pub.pem");
}

#[test]
fn key_pair_files_are_not_overwritten_without_force() {
    let env = TestEnv::new();
    let public = env.write("taken.pub", b"old public key");
    let out = env.run(&[
        "jwt",
        "create-key-pair",
        "--private-key",
        "new.key",
        "--public-key",
        "taken.pub",
        "-o",
        "json",
    ]);
    expect_error(&out, 5, "file_exists");
    assert_eq!(std::fs::read(&public).unwrap(), b"old public key");
    assert!(
        !env.path().join("new.key").exists(),
        "nothing is written when one file is taken"
    );

    env.ok(&[
        "jwt",
        "create-key-pair",
        "--alg",
        "ES256",
        "--private-key",
        "new.key",
        "--public-key",
        "taken.pub",
        "--force",
    ]);
    assert_eq!(std::fs::read(&public).unwrap()[0], 0x30);
    round_trip(&env, "ES256", "new.key", "taken.pub");

    let out = env.run(&[
        "jwt",
        "create-key-pair",
        "--private-key",
        "same",
        "--public-key",
        "same",
        "-o",
        "json",
    ]);
    expect_error(&out, 2, "invalid_input");
    for alg in ["HS256", "HS512"] {
        let out = env.run(&[
            "jwt",
            "create-key-pair",
            "--alg",
            alg,
            "--private-key",
            "h.key",
            "--public-key",
            "h.pub",
            "-o",
            "json",
        ]);
        let message = expect_error(&out, 2, "invalid_input");
        assert!(message.contains("create-secret-key"), "{message}");
    }
    assert!(!env.path().join("h.key").exists());
}

#[test]
fn every_asymmetric_algorithm_round_trips() {
    let env = TestEnv::new();
    // Public key DER sizes pin the RSA modulus (2048/3072/4096) and the EC curve.
    for (alg, public_len) in [
        ("RS256", 294),
        ("RS384", 422),
        ("RS512", 550),
        ("ES256", 91),
        ("ES384", 120),
        ("ES512", 158),
    ] {
        let (private, public) = env.key_pair(alg, alg);
        assert_eq!(std::fs::read(&public).unwrap().len(), public_len, "{alg}");
        round_trip(&env, alg, &private, &public);
        #[cfg(unix)]
        assert_eq!(mode(std::path::Path::new(&private)), 0o600, "{alg}");
    }
}
