//! `tok jwt verify`, signature side: a valid token, `alg: none`, HS/RS confusion and
//! tampering. Keys, `--alg` pins and JWKS are in `jwt_verify_keys`; claims in `jwt_claims`.

use serde_json::{Value, json};

use crate::common::{TestEnv, expect_error, expect_exit, json, path_str, stdout};
use crate::tokens::{
    SECRET, b64url, b64url_decode, hmac_token, now, part_json, parts, signing_input,
};

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
    let out = env.verify(&token, "--secret-key", &key);
    expect_exit(&out, 0);
    let doc = json(&out);
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
    assert!(stdout(&out).starts_with("subject,audience,expires_at,expired\napp-1,urn:x,"));
}

#[test]
fn alg_none_is_never_accepted() {
    let env = TestEnv::new();
    let secret = env.secret_file();
    let (_, public) = env.key_pair("RS256", "rsa");
    let jwks = json!({"keys": [{"kty": "oct", "k": b64url(SECRET)}]}).to_string();
    let jwks = path_str(&env.write("jwks.json", jwks.as_bytes()));
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
                ("--jwks", &jwks),
            ] {
                let message =
                    expect_error(&env.verify(token, flag, key), 4, "algorithm_not_allowed");
                assert!(message.contains("'none'"), "{message}");
            }
        }
    }
    // No alg at all, or an alg tok does not know, is no better.
    let no_alg = hmac_token("HS256", SECRET, &json!({"typ": "JWT"}), &claims);
    expect_error(
        &env.verify(&no_alg, "--secret-key", &secret),
        4,
        "algorithm_not_allowed",
    );
    let ps256 = hmac_token("HS256", SECRET, &json!({"alg": "PS256"}), &claims);
    expect_error(
        &env.verify(&ps256, "--secret-key", &secret),
        4,
        "algorithm_not_allowed",
    );
}

#[test]
fn an_hs256_token_keyed_with_the_rsa_public_key_is_rejected() {
    let env = TestEnv::new();
    let (private, public) = env.key_pair("RS256", "rsa");
    let pem_public = path_str(&env.path().join("rsa.pem"));
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
            &env.verify(&forged, "--public-key", public_path),
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
        &env.verify(&rs, "--secret-key", &env.secret_file()),
        4,
        "algorithm_not_allowed",
    );
    assert!(message.contains("HMAC secret key"), "{message}");
    // And an ES256 token against an RSA key.
    let (ec_private, _) = env.key_pair("ES256", "ec");
    let es = env.mint(&["--private-key", &ec_private]);
    expect_error(
        &env.verify(&es, "--public-key", &public),
        4,
        "algorithm_not_allowed",
    );
}

#[test]
fn tampered_tokens_are_rejected() {
    let env = TestEnv::new();
    let (private, public) = env.key_pair("RS256", "rsa");
    let token = env.mint(&["--private-key", &private]);
    expect_exit(&env.verify(&token, "--public-key", &public), 0);

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
            &env.verify(forged, "--public-key", &public),
            4,
            "bad_signature",
        );
        assert!(message.contains("bad signature"), "{message}");
    }
    // A header that now names an algorithm the key cannot do is refused before the signature.
    let hs = with_part(&token, 0, &encoded(&json!({"alg": "HS256", "typ": "JWT"})));
    expect_error(
        &env.verify(&hs, "--public-key", &public),
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
            &env.verify(&with_part(&token, index, junk), "--public-key", &public),
            2,
            "malformed_token",
        );
        assert!(message.contains(part), "{message}");
    }
    let message = expect_error(
        &env.verify(&format!("{token}.x"), "--public-key", &public),
        2,
        "malformed_token",
    );
    assert!(message.contains("has 4"), "{message}");
}
