//! `tok jwt create` and its keys: the HS algorithm from the key length, `--alg`
//! checked against the key type, and every KEYREF form a broker accepts.

use crate::common::{TestEnv, expect_error, expect_exit, path_str, stderr, stdout};
use crate::tokens::{SECRET, b64};

/// Verifies `token` with `key` (a KEYREF) and returns `verified_with`.
fn verified_with(env: &TestEnv, token: &str, flag: &str, key: &str) -> String {
    let doc = env.ok_json(&["jwt", "verify", token, flag, key]);
    doc["verified_with"].as_str().unwrap().to_string()
}

#[test]
fn the_hs_algorithm_follows_the_key_length() {
    let env = TestEnv::new();
    for (len, alg) in [
        (32, "HS256"),
        (40, "HS256"),
        (48, "HS384"),
        (63, "HS384"),
        (64, "HS512"),
        (100, "HS512"),
    ] {
        let key = format!("data:;base64,{}", b64(&vec![5u8; len]));
        let doc = env.ok_json(&["jwt", "create", "--subject", "a", "--secret-key", &key]);
        assert_eq!(doc["algorithm"], alg, "{len} bytes");
        assert_eq!(doc["header"]["alg"], alg);
        assert_eq!(
            verified_with(&env, doc["token"].as_str().unwrap(), "--secret-key", &key),
            alg
        );
    }
    let key = format!("data:;base64,{}", b64(&[5u8; 64]));
    let doc = env.ok_json(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        &key,
        "--alg",
        "HS256",
    ]);
    assert_eq!(
        doc["algorithm"], "HS256",
        "a longer key may sign with a shorter hash"
    );

    let message = expect_error(&env.create(&["--alg", "HS512"]), 2, "invalid_key");
    assert!(
        message.contains("HS512 needs an HMAC secret key of at least 64 bytes"),
        "{message}"
    );
    let short = format!("data:;base64,{}", b64(&[5u8; 31]));
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        &short,
        "-o",
        "json",
    ]);
    let message = expect_error(&out, 2, "invalid_key");
    assert!(
        message.contains("31 bytes") && message.contains("at least 32"),
        "{message}"
    );
}

#[test]
fn alg_is_checked_against_the_key_type() {
    let env = TestEnv::new();
    let message = expect_error(&env.create(&["--alg", "RS256"]), 2, "invalid_key");
    assert!(message.contains("RS256 needs an RSA key"), "{message}");
    let (rsa, _) = env.key_pair("RS256", "rsa");
    let (ec, _) = env.key_pair("ES256", "ec");
    for (key, alg, why) in [
        (&rsa, "HS256", "HMAC secret key"),
        (&rsa, "ES256", "an EC key"),
        (&ec, "ES384", "ES384 needs an EC key"),
        (&ec, "RS256", "RSA"),
    ] {
        let out = env.run(&[
            "jwt",
            "create",
            "--subject",
            "a",
            "--private-key",
            key,
            "--alg",
            alg,
            "-o",
            "json",
        ]);
        let message = expect_error(&out, 2, "invalid_key");
        assert!(
            message.starts_with("--alg: ") && message.contains(why),
            "{alg}: {message}"
        );
    }
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--private-key",
        &rsa,
        "--alg",
        "PS256",
    ]);
    expect_exit(&out, 2);
    assert!(
        stderr(&out).contains("accepted: HS256, HS384, HS512, RS256"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_keyref_form_signs_with_the_same_bytes() {
    let env = TestEnv::new();
    let path = env.secret_file();
    let data = format!("data:;base64,{}", b64(SECRET));
    for keyref in [
        format!("file://{path}"),
        data.clone(),
        "secret.key".to_string(),
        path.clone(),
        b64(SECRET),
    ] {
        let token = env.mint(&["--secret-key", &keyref]);
        assert_eq!(
            verified_with(&env, &token, "--secret-key", &data),
            "HS256",
            "{keyref}"
        );
    }
    // File bytes are used exactly as stored: a trailing newline is part of the key.
    let newline = path_str(&env.write("newline.key", &[SECRET.as_slice(), b"\n"].concat()));
    let token = env.mint(&["--secret-key", &newline]);
    let with_newline = format!("data:;base64,{}", b64(&[SECRET.as_slice(), b"\n"].concat()));
    assert_eq!(
        verified_with(&env, &token, "--secret-key", &with_newline),
        "HS256"
    );
    expect_error(
        &env.run(&["jwt", "verify", &token, "--secret-key", &data, "-o", "json"]),
        4,
        "bad_signature",
    );

    let (private, public) = env.key_pair("ES256", "ec");
    let der = std::fs::read(&private).unwrap();
    let pem_key = env.path().join("ec-pem.key");
    env.ok(&[
        "jwt",
        "create-key-pair",
        "--alg",
        "ES256",
        "--format",
        "pem",
        "--private-key",
        "ec-pem.key",
        "--public-key",
        "ec-pem.pub",
    ]);
    let pem_public = path_str(&env.path().join("ec-pem.pub"));
    for (keyref, public) in [
        (format!("file://{private}"), &public),
        (format!("data:;base64,{}", b64(&der)), &public),
        ("ec.key".to_string(), &public),
        (b64(&der), &public),
        (path_str(&pem_key), &pem_public),
    ] {
        let token = env.mint(&["--private-key", &keyref]);
        assert_eq!(
            verified_with(&env, &token, "--public-key", public),
            "ES256",
            "{keyref}"
        );
        assert_eq!(
            verified_with(&env, &token, "--public-key", &format!("file://{public}")),
            "ES256"
        );
    }
}

#[test]
fn bad_key_references_exit_2() {
    let env = TestEnv::new();
    let (_, public) = env.key_pair("RS256", "rsa");
    let pem = env.path().join("pub.pem");
    env.ok(&[
        "jwt",
        "create-key-pair",
        "--format",
        "pem",
        "--private-key",
        "p.pem",
        "--public-key",
        "pub.pem",
    ]);
    for (flag, keyref, why) in [
        (
            "--secret-key",
            "file://relative.key".to_string(),
            "absolute path",
        ),
        ("--secret-key", "./missing.key".to_string(), "no such file"),
        ("--private-key", public.clone(), "this is a public key"),
        ("--private-key", path_str(&pem), "this is a public key"),
        (
            "--private-key",
            "data:;base64,AAAA".to_string(),
            "not a private key",
        ),
    ] {
        let out = env.run(&[
            "jwt",
            "create",
            "--subject",
            "a",
            flag,
            &keyref,
            "-o",
            "json",
        ]);
        let message = expect_error(&out, 2, "invalid_key");
        assert!(
            message.starts_with(flag) && message.contains(why),
            "{keyref}: {message}"
        );
    }
    let out = env.run(&[
        "jwt",
        "create",
        "--subject",
        "a",
        "--secret-key",
        "k",
        "--private-key",
        "k",
    ]);
    expect_exit(&out, 2); // one key only
    assert!(stdout(&out).is_empty());
}
