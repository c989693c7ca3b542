//! `tok jwt verify`, signature side: `alg: none`, HS/RS confusion, tampering, `--alg`
//! pins, malformed keys. Claims (time, audience, issuer) are in `jwt_claims`.

use serde_json::{Value, json};

use crate::common::{
    SECRET, TestEnv, b64url, b64url_decode, expect_error, expect_exit, hmac_token, hs256, now,
    part_json, parts, signing_input,
};

/// `tok jwt verify TOKEN KEYFLAG KEY -o json`.
fn verify(env: &TestEnv, token: &str, flag: &str, key: &str) -> std::process::Output {
    env.run(&["jwt", "verify", token, flag, key, "-o", "json"])
}

/// `token` with part `index` replaced.
fn with_part(token: &str, index: usize, part: &str) -> String {
    let mut p = parts(token);
    p[index] = part.to_string();
    p.join(".")
}

fn encoded(doc: &Value) -> String {
    b64url(doc.to_string().as_bytes())
}

#[test]
fn a_valid_token_verifies_in_every_format() {
    let env = TestEnv::new();
    let key = env.secret_file();
    let token = env.mint(&["--secret-key", &key, "--audience", "urn:x"]);
    let out = verify(&env, &token, "--secret-key", &key);
    expect_exit(&out, 0);
    let doc = crate::common::json(&out);
    assert_eq!(doc["verified_with"], "HS256");
    assert_eq!(doc["claims"]["sub"], "app-1");
    assert_eq!(doc["expired"], false);
    assert!(doc["expires_at"].as_str().unwrap().ends_with('Z'), "{doc}");

    let table = env.ok(&["jwt", "verify", &token, "--secret-key", &key]);
    assert!(table.contains("Signature:  valid (HS256)"), "{table}");
    let out = env.run_stdin(
        &["jwt", "verify", "-", "--secret-key", &key, "-o", "csv"],
        &token,
    );
    expect_exit(&out, 0);
    assert!(
        crate::common::stdout(&out)
            .starts_with("subject,audience,expires_at,expired\napp-1,urn:x,")
    );
}

#[test]
fn alg_none_is_never_accepted() {
    let env = TestEnv::new();
    let secret = env.secret_file();
    let (_, public) = env.key_pair("RS256", "rsa");
    let jwks = env.write(
        "jwks.json",
        json!({"keys": [{"kty": "oct", "k": b64url(SECRET)}]})
            .to_string()
            .as_bytes(),
    );
    let claims = json!({"sub": "admin", "exp": now() + 3600});
    for alg in ["none", "None", "NONE"] {
        let unsigned = format!(
            "{}.",
            signing_input(&json!({"alg": alg, "typ": "JWT"}), &claims)
        );
        let with_mac = hmac_token("HS256", SECRET, &json!({"alg": alg}), &claims);
        for token in [&unsigned, &with_mac] {
            for (flag, key) in [
                ("--secret-key", &secret),
                ("--public-key", &public),
                ("--jwks", &jwks.to_str().unwrap().to_string()),
            ] {
                let message =
                    expect_error(&verify(&env, token, flag, key), 4, "algorithm_not_allowed");
                assert!(message.contains("'none'"), "{message}");
            }
        }
    }
    // No alg at all, or an alg tok does not know, is no better.
    let no_alg = hmac_token("HS256", SECRET, &json!({"typ": "JWT"}), &claims);
    expect_error(
        &verify(&env, &no_alg, "--secret-key", &secret),
        4,
        "algorithm_not_allowed",
    );
    let ps256 = hmac_token("HS256", SECRET, &json!({"alg": "PS256"}), &claims);
    expect_error(
        &verify(&env, &ps256, "--secret-key", &secret),
        4,
        "algorithm_not_allowed",
    );
}

#[test]
fn an_hs256_token_keyed_with_the_rsa_public_key_is_rejected() {
    let env = TestEnv::new();
    let (private, public) = env.key_pair("RS256", "rsa");
    let pem_public = crate::common::path_str(&env.path().join("rsa.pem"));
    env.ok(&[
        "jwt",
        "create-key-pair",
        "--format",
        "pem",
        "--private-key",
        "rsa-pem.key",
        "--public-key",
        &pem_public,
    ]);
    let claims = json!({"sub": "admin", "exp": now() + 3600});
    for public_path in [public.as_str(), pem_public.as_str()] {
        // The classic attack: the public key file's bytes used as an HMAC secret.
        let key_bytes = std::fs::read(public_path).unwrap();
        let forged = hmac_token(
            "HS256",
            &key_bytes,
            &json!({"alg": "HS256", "typ": "JWT"}),
            &claims,
        );
        let message = expect_error(
            &verify(&env, &forged, "--public-key", public_path),
            4,
            "algorithm_not_allowed",
        );
        assert!(
            message.contains("HS256") && message.contains("an RSA key"),
            "{message}"
        );
    }
    // The other way round: an RS256 token against a secret key.
    let rs = env.mint(&["--private-key", &private]);
    let message = expect_error(
        &verify(&env, &rs, "--secret-key", &env.secret_file()),
        4,
        "algorithm_not_allowed",
    );
    assert!(message.contains("HMAC secret key"), "{message}");
    // And an ES256 token against an RSA key.
    let (ec_private, _) = env.key_pair("ES256", "ec");
    let es = env.mint(&["--private-key", &ec_private]);
    expect_error(
        &verify(&env, &es, "--public-key", &public),
        4,
        "algorithm_not_allowed",
    );
}

#[test]
fn tampered_tokens_are_rejected() {
    let env = TestEnv::new();
    let (private, public) = env.key_pair("RS256", "rsa");
    let token = env.mint(&["--private-key", &private]);
    expect_exit(&verify(&env, &token, "--public-key", &public), 0);

    let mut header = part_json(&token, 0);
    header["kid"] = json!("other");
    let mut claims = part_json(&token, 1);
    claims["sub"] = json!("admin");
    let mut signature = b64url_decode(&parts(&token)[2]);
    signature[10] ^= 0x01;
    let short = b64url(&b64url_decode(&parts(&token)[2])[..255]);
    let bad_signature = [
        with_part(&token, 0, &encoded(&header)),
        with_part(&token, 0, &encoded(&json!({"alg": "RS384", "typ": "JWT"}))),
        with_part(&token, 1, &encoded(&claims)),
        with_part(&token, 2, &b64url(&signature)),
        with_part(&token, 2, &short),
        with_part(&token, 2, ""),
        with_part(
            &token,
            2,
            &parts(&env.mint(&["--private-key", &env.key_pair("RS256", "other").0]))[2],
        ),
    ];
    for forged in &bad_signature {
        let message = expect_error(
            &verify(&env, forged, "--public-key", &public),
            4,
            "bad_signature",
        );
        assert!(message.contains("bad signature"), "{message}");
    }
    // A header that now names an algorithm the key cannot do is refused before the signature.
    let hs = with_part(&token, 0, &encoded(&json!({"alg": "HS256", "typ": "JWT"})));
    expect_error(
        &verify(&env, &hs, "--public-key", &public),
        4,
        "algorithm_not_allowed",
    );
    // Damage that breaks the encoding is a malformed token (exit 2), naming the part.
    for (index, junk, part) in [
        (0, "e30x!", "header"),
        (1, "%%%", "payload"),
        (2, "ab+/", "signature"),
    ] {
        let message = expect_error(
            &verify(
                &env,
                &with_part(&token, index, junk),
                "--public-key",
                &public,
            ),
            2,
            "malformed_token",
        );
        assert!(message.contains(part), "{message}");
    }
    let message = expect_error(
        &verify(&env, &format!("{token}.x"), "--public-key", &public),
        2,
        "malformed_token",
    );
    assert!(message.contains("has 4"), "{message}");
}

#[test]
fn the_hmac_key_length_bounds_the_algorithm() {
    let env = TestEnv::new();
    let short = env.secret_file(); // 32 bytes: HS256 only
    let claims = json!({"sub": "a", "exp": now() + 600});
    let hs512 = hmac_token("HS512", SECRET, &json!({"alg": "HS512"}), &claims);
    let message = expect_error(
        &verify(&env, &hs512, "--secret-key", &short),
        4,
        "algorithm_not_allowed",
    );
    assert!(message.contains("allows only HS256"), "{message}");

    let long = [7u8; 64];
    let long_path = env.write("long.key", &long).to_str().unwrap().to_string();
    for alg in ["HS256", "HS384", "HS512"] {
        let token = hmac_token(alg, &long, &json!({"alg": alg}), &claims);
        let out = verify(&env, &token, "--secret-key", &long_path);
        expect_exit(&out, 0);
        assert_eq!(crate::common::json(&out)["verified_with"], alg);
    }
}

#[test]
fn alg_pins_the_accepted_algorithm() {
    let env = TestEnv::new();
    let (private, public) = env.key_pair("RS256", "rsa");
    let token = env.mint(&["--private-key", &private]);
    expect_exit(
        &env.run(&[
            "jwt",
            "verify",
            &token,
            "--public-key",
            &public,
            "--alg",
            "RS256",
        ]),
        0,
    );
    expect_exit(
        &env.run(&[
            "jwt",
            "verify",
            &token,
            "--public-key",
            &public,
            "--alg",
            "rs256",
        ]),
        0,
    );
    for pin in ["RS384", "ES256", "HS256"] {
        let out = env.run(&[
            "jwt",
            "verify",
            &token,
            "--public-key",
            &public,
            "--alg",
            pin,
            "-o",
            "json",
        ]);
        let message = expect_error(&out, 4, "algorithm_not_allowed");
        assert!(
            message.contains(&format!("only {pin} is accepted (--alg)")),
            "{message}"
        );
    }
    let out = env.run(&[
        "jwt",
        "verify",
        &token,
        "--public-key",
        &public,
        "--alg",
        "none",
    ]);
    expect_exit(&out, 2);
    assert!(
        crate::common::stderr(&out).contains("accepted: HS256"),
        "{}",
        crate::common::stderr(&out)
    );
}

#[test]
fn malformed_keys_exit_2() {
    let env = TestEnv::new();
    let token = hs256(&json!({"sub": "a"}));
    let garbage = env
        .write("garbage.pub", b"\x30\x03\x02\x01\x01")
        .to_str()
        .unwrap()
        .to_string();
    let bad_pem = env.write(
        "bad.pem",
        b"-----BEGIN PUBLIC KEY-----\n@@@@\n-----END PUBLIC KEY-----\n",
    );
    let (_, rsa_public) = env.key_pair("RS256", "rsa");
    let cases = [
        (
            "--public-key",
            "data:;base64,AAAA".to_string(),
            "not a public key",
        ),
        ("--public-key", garbage, "not a public key"),
        ("--public-key", bad_pem.to_str().unwrap().to_string(), "PEM"),
        ("--public-key", "./missing.pub".to_string(), "no such file"),
        (
            "--public-key",
            "file:///no/such/key.pub".to_string(),
            "cannot read key file",
        ),
        ("--public-key", "data:text/plain,abc".to_string(), "base64"),
        (
            "--secret-key",
            "data:;base64,c2hvcnQ=".to_string(),
            "5 bytes",
        ),
        (
            "--secret-key",
            bad_pem.to_str().unwrap().to_string(),
            "PEM key, not an HMAC secret",
        ),
        (
            "--jwks",
            "data:;base64,bm90IGpzb24=".to_string(),
            "not valid JSON",
        ),
        (
            "--jwks",
            format!(
                "data:;base64,{}",
                crate::common::b64(br#"{"keys":[{"kty":"XYZ"}]}"#)
            ),
            "XYZ",
        ),
        (
            "--jwks",
            format!("data:;base64,{}", crate::common::b64(br#"{"keys":[]}"#)),
            "no signing keys",
        ),
    ];
    for (flag, key, why) in cases {
        let message = expect_error(&verify(&env, &token, flag, &key), 2, "invalid_key");
        assert!(
            message.contains(why) && message.starts_with(flag),
            "{flag} {key}: {message}"
        );
    }
    // A private key is accepted where the public key is expected: its public half verifies.
    let (private, _) = env.key_pair("ES256", "ec");
    expect_exit(
        &verify(
            &env,
            &env.mint(&["--private-key", &private]),
            "--public-key",
            &private,
        ),
        0,
    );
    // But a public key cannot pose as a secret: it is HMAC material only if asked for.
    let rs_token = env.mint(&["--private-key", &env.key_pair("RS256", "rsa2").0]);
    expect_error(
        &verify(&env, &rs_token, "--secret-key", &rsa_public),
        4,
        "algorithm_not_allowed",
    );
}
