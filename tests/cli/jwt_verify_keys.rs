//! `tok jwt verify` and its keys: the HMAC key length and `--alg` pin the algorithm,
//! malformed keys exit 2, and a JWKS picks its key by `kid`.

use serde_json::json;

use crate::common::{TestEnv, expect_error, expect_exit, json, path_str, stderr};
use crate::tokens::{SECRET, b64, b64url, hmac_token, hs256, now};

#[test]
fn the_hmac_key_length_bounds_the_algorithm() {
    let env = TestEnv::new();
    let short = env.secret_file(); // 32 bytes: HS256 only
    let claims = json!({"sub": "a", "exp": now() + 600});
    let hs512 = hmac_token("HS512", SECRET, &json!({"alg": "HS512"}), &claims);
    let message = expect_error(
        &env.verify(&hs512, "--secret-key", &short),
        4,
        "algorithm_not_allowed",
    );
    assert!(message.contains("allows only HS256"), "{message}");

    let long = [7u8; 64];
    let long_path = path_str(&env.write("long.key", &long));
    for alg in ["HS256", "HS384", "HS512"] {
        let token = hmac_token(alg, &long, &json!({"alg": alg}), &claims);
        let out = env.verify(&token, "--secret-key", &long_path);
        expect_exit(&out, 0);
        assert_eq!(json(&out)["verified_with"], alg);
    }
}

#[test]
fn alg_pins_the_accepted_algorithm() {
    let env = TestEnv::new();
    let (private, public) = env.key_pair("RS256", "rsa");
    let token = env.mint(&["--private-key", &private]);
    let pinned = |alg: &str| {
        let args = [
            "jwt",
            "verify",
            &token,
            "--public-key",
            &public,
            "--alg",
            alg,
        ];
        env.run(&[&args[..], &["-o", "json"]].concat())
    };
    expect_exit(&pinned("RS256"), 0);
    expect_exit(&pinned("rs256"), 0);
    for pin in ["RS384", "ES256", "HS256"] {
        let message = expect_error(&pinned(pin), 4, "algorithm_not_allowed");
        let expected = format!("only {pin} is accepted (--alg)");
        assert!(message.contains(&expected), "{message}");
    }
    let out = pinned("none");
    expect_error(&out, 2, "invalid_input");
    assert!(stderr(&out).contains("accepted: HS256"), "{}", stderr(&out));
}

#[test]
fn malformed_keys_exit_2() {
    let env = TestEnv::new();
    let token = hs256(&json!({"sub": "a"}));
    let garbage = path_str(&env.write("garbage.pub", b"\x30\x03\x02\x01\x01"));
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
            format!("data:;base64,{}", b64(br#"{"keys":[{"kty":"XYZ"}]}"#)),
            "XYZ",
        ),
        (
            "--jwks",
            format!("data:;base64,{}", b64(br#"{"keys":[]}"#)),
            "no signing keys",
        ),
    ];
    for (flag, key, why) in cases {
        let message = expect_error(&env.verify(&token, flag, &key), 2, "invalid_key");
        assert!(
            message.contains(why) && message.starts_with(flag),
            "{flag} {key}: {message}"
        );
    }
    // A private key is accepted where the public key is expected: its public half verifies.
    let (private, _) = env.key_pair("ES256", "ec");
    expect_exit(
        &env.verify(
            &env.mint(&["--private-key", &private]),
            "--public-key",
            &private,
        ),
        0,
    );
    // A public key given as --secret-key is only HMAC bytes: an RS256 token fails against it.
    let rs_token = env.mint(&["--private-key", &env.key_pair("RS256", "rsa2").0]);
    expect_error(
        &env.verify(&rs_token, "--secret-key", &rsa_public),
        4,
        "algorithm_not_allowed",
    );
}

#[test]
fn jwks_picks_the_key_by_kid() {
    let env = TestEnv::new();
    let (key_a, key_b) = ([1u8; 32], [2u8; 32]);
    let (ec_private, ec_public) = env.key_pair("ES256", "ec");
    let spki = std::fs::read(&ec_public).unwrap();
    let point = &spki[spki.len() - 64..]; // uncompressed P-256 point: x || y
    let long = [3u8; 64];
    let jwks = json!({"keys": [
        {"kty": "oct", "kid": "a", "k": b64url(&key_a)},
        {"kty": "oct", "kid": "b", "k": b64url(&key_b)},
        {"kty": "EC", "kid": "ec1", "crv": "P-256", "x": b64url(&point[..32]), "y": b64url(&point[32..])},
        {"kty": "oct", "kid": "pinned", "alg": "HS256", "k": b64url(&long)},
        {"kty": "oct", "kid": "enc", "use": "enc", "k": b64url(&[4u8; 32])},
    ]});
    let file = path_str(&env.write("jwks.json", jwks.to_string().as_bytes()));
    let claims = json!({"sub": "a", "exp": now() + 600});
    let run = |token: &str| env.run(&["jwt", "verify", token, "--jwks", &file, "-o", "json"]);
    let signed = |key: &[u8], kid: Option<&str>, alg: &str| {
        let mut header = json!({"alg": alg});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        hmac_token(alg, key, &header, &claims)
    };

    expect_exit(&run(&signed(&key_b, Some("b"), "HS256")), 0);
    expect_exit(&run(&signed(&key_a, None, "HS256")), 0); // no kid: any key may match
    expect_error(
        &run(&signed(&key_b, Some("a"), "HS256")),
        4,
        "bad_signature",
    );
    let message = expect_error(&run(&signed(&key_b, Some("c"), "HS256")), 4, "unknown_kid");
    assert!(message.contains("'c'"), "{message}");
    expect_error(
        &run(&signed(&[4u8; 32], Some("enc"), "HS256")),
        4,
        "unknown_kid",
    );
    expect_exit(&run(&signed(&long, Some("pinned"), "HS256")), 0);
    expect_error(
        &run(&signed(&long, Some("pinned"), "HS512")),
        4,
        "algorithm_not_allowed",
    );

    let es = env.mint(&["--private-key", &ec_private, "--header", "kid=ec1"]);
    let out = run(&es);
    expect_exit(&out, 0);
    assert_eq!(json(&out)["verified_with"], "ES256");
    let es_as_a = env.mint(&["--private-key", &ec_private, "--header", "kid=a"]);
    expect_error(&run(&es_as_a), 4, "algorithm_not_allowed");
    let hs_as_ec = signed(&key_a, Some("ec1"), "HS256");
    expect_error(&run(&hs_as_ec), 4, "algorithm_not_allowed");
}
