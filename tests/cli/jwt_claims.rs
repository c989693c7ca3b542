//! `tok jwt verify`, claims side: `exp`/`nbf`/`iat` types, required claims, time
//! boundaries and leeway, audience and issuer, and the order of checks.

use serde_json::{Value, json};
use tok::jwt::{VerifyError, VerifyKey, VerifyOptions, verify};

use crate::common::{TestEnv, expect_error, expect_exit};
use crate::tokens::{SECRET, b64, hmac_token, hs256, now};

/// `tok jwt verify TOKEN --secret-key SECRET EXTRA… -o json`.
fn check(env: &TestEnv, token: &str, extra: &[&str]) -> std::process::Output {
    let key = format!("data:;base64,{}", b64(SECRET));
    let mut args = vec!["jwt", "verify", token, "--secret-key", &key, "-o", "json"];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn time_claims_must_be_numbers() {
    let env = TestEnv::new();
    let later = now() + 3600;
    for claims in [
        json!({"sub": "a", "exp": later.to_string()}),
        json!({"sub": "a", "exp": later, "nbf": "0"}),
        json!({"sub": "a", "exp": later, "iat": "yesterday"}),
        json!({"sub": "a", "exp": true}),
        json!({"sub": "a", "exp": null}),
    ] {
        let message = expect_error(&check(&env, &hs256(&claims), &[]), 4, "invalid_claim");
        assert!(
            message.contains("must be a NumericDate"),
            "{claims}: {message}"
        );
    }
}

#[test]
fn required_claims_must_be_present() {
    let env = TestEnv::new();
    let forever = hs256(&json!({"sub": "a"}));
    expect_exit(&check(&env, &forever, &[]), 0); // no exp is allowed unless required
    let message = expect_error(
        &check(&env, &forever, &["--require", "exp"]),
        4,
        "missing_claim",
    );
    assert!(message.contains("'exp'"), "{message}");
    let message = expect_error(
        &check(&env, &forever, &["--require", "sub", "--require", "aud"]),
        4,
        "missing_claim",
    );
    assert!(message.contains("'aud'"), "{message}");
    let dated = hs256(&json!({"sub": "a", "exp": now() + 60}));
    expect_exit(
        &check(&env, &dated, &["--require", "exp", "--require", "sub"]),
        0,
    );
}

#[test]
fn expiry_and_not_before_at_the_edges() {
    let env = TestEnv::new();
    let t = now();
    let expired = hs256(&json!({"sub": "a", "exp": t - 1}));
    let message = expect_error(&check(&env, &expired, &[]), 4, "expired");
    assert!(message.contains("expired"), "{message}");
    expect_exit(
        &check(&env, &hs256(&json!({"sub": "a", "exp": t + 60})), &[]),
        0,
    );

    let early = hs256(&json!({"sub": "a", "exp": t + 600, "nbf": t + 60}));
    let message = expect_error(&check(&env, &early, &[]), 4, "not_yet_valid");
    assert!(message.contains("not valid before"), "{message}");
    expect_exit(&check(&env, &early, &["--leeway", "2m"]), 0);
    expect_exit(&check(&env, &early, &["--leeway", "120"]), 0);
    expect_error(
        &check(&env, &early, &["--leeway", "10s"]),
        4,
        "not_yet_valid",
    );

    let stale = hs256(&json!({"sub": "a", "exp": t - 60}));
    expect_exit(&check(&env, &stale, &["--leeway", "5m"]), 0);
    expect_error(&check(&env, &stale, &["--leeway", "1s"]), 4, "expired");
    for bad in ["soon", "-5", "1x"] {
        let out = check(&env, &stale, &[&format!("--leeway={bad}")]);
        let message = expect_error(&out, 2, "invalid_input");
        assert!(
            message.starts_with("--leeway: ") && message.contains("30m"),
            "{message}"
        );
    }
}

/// The exact second boundaries, with `now` pinned through the library.
#[test]
fn boundaries_to_the_second() {
    let key = tok::keys::parse_secret_key(SECRET)
        .unwrap()
        .public_key()
        .unwrap();
    let keys = [VerifyKey { kid: None, key }];
    let t = 2_000_000_000;
    let run = |claims: Value, now: i64, leeway: i64| {
        let opts = VerifyOptions {
            now,
            leeway,
            ..VerifyOptions::default()
        };
        verify(&hs256(&claims), &keys, &opts).map(|_| ())
    };
    let exp = json!({"exp": t});
    assert_eq!(run(exp.clone(), t - 1, 0), Ok(()));
    assert_eq!(
        run(exp.clone(), t, 0),
        Err(VerifyError::Expired { at: t, ago: 0 })
    );
    assert_eq!(
        run(exp.clone(), t + 1, 0),
        Err(VerifyError::Expired { at: t, ago: 1 })
    );
    assert_eq!(run(exp.clone(), t + 4, 5), Ok(()));
    assert!(matches!(
        run(exp, t + 5, 5),
        Err(VerifyError::Expired { .. })
    ));

    let nbf = json!({"nbf": t});
    assert_eq!(
        run(nbf.clone(), t - 1, 0),
        Err(VerifyError::NotYetValid { at: t, wait: 1 })
    );
    assert_eq!(run(nbf.clone(), t, 0), Ok(()));
    assert_eq!(run(nbf.clone(), t - 5, 5), Ok(()));
    assert!(matches!(
        run(nbf, t - 6, 5),
        Err(VerifyError::NotYetValid { .. })
    ));
}

#[test]
fn audience_and_issuer_must_match_when_asked() {
    let env = TestEnv::new();
    let exp = now() + 600;
    let token = hs256(&json!({"sub": "a", "aud": "urn:prod", "iss": "tok", "exp": exp}));
    expect_exit(
        &check(&env, &token, &["--audience", "urn:prod", "--issuer", "tok"]),
        0,
    );
    let message = expect_error(
        &check(&env, &token, &["--audience", "urn:dev"]),
        4,
        "wrong_audience",
    );
    assert!(
        message.contains("expected 'urn:dev'") && message.contains("urn:prod"),
        "{message}"
    );
    let message = expect_error(
        &check(&env, &token, &["--issuer", "other"]),
        4,
        "wrong_issuer",
    );
    assert!(message.contains("expected 'other'"), "{message}");

    let many = hs256(&json!({"sub": "a", "aud": ["urn:dev", "urn:prod"], "exp": exp}));
    expect_exit(&check(&env, &many, &["--audience", "urn:prod"]), 0);
    expect_error(
        &check(&env, &many, &["--audience", "urn:qa"]),
        4,
        "wrong_audience",
    );
    let none = hs256(&json!({"sub": "a", "exp": exp}));
    expect_error(
        &check(&env, &none, &["--audience", "urn:prod"]),
        4,
        "wrong_audience",
    );
    expect_error(&check(&env, &none, &["--issuer", "tok"]), 4, "wrong_issuer");
}

#[test]
fn the_signature_is_checked_before_the_claims() {
    let env = TestEnv::new();
    let other = [9u8; 32];
    let forged = hmac_token(
        "HS256",
        &other,
        &json!({"alg": "HS256"}),
        &json!({"exp": now() - 10}),
    );
    expect_error(
        &check(&env, &forged, &["--audience", "x"]),
        4,
        "bad_signature",
    );
}
