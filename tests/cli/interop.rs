//! Interoperability with a real third-party JWT library, PyJWT (with `cryptography`):
//! tokens tok mints verify there, tokens PyJWT mints verify here, and PyJWT's expired,
//! wrong-key, wrong-audience and `alg: none` tokens are rejected by tok.
//!
//! Without PyJWT the tests say they were skipped, unless `CI` is set: then they fail.

use serde_json::Value;

use crate::common::{TestEnv, expect_error, expect_exit, json, path_str, pyjwt_available, python};

const AUDIENCE: &str = "urn:pulsar:interop";

const VERIFY_IN_PYJWT: &str = r#"
import json, sys, jwt
from cryptography.hazmat.primitives.serialization import load_der_public_key

aud, hs, rs, es = sys.argv[1:5]
der = lambda path: load_der_public_key(open(path, "rb").read())
opts = {"require": ["exp", "iat", "sub"]}
print(json.dumps({
    "HS256": jwt.decode(hs, open("hs.key", "rb").read(), algorithms=["HS256"], audience=aud, options=opts),
    "RS256": jwt.decode(rs, der("rsa.pub"), algorithms=["RS256"], audience=aud, options=opts),
    "ES256": jwt.decode(es, der("ec.pub"), algorithms=["ES256"], audience=aud, options=opts),
    "header": jwt.get_unverified_header(es),
}))
"#;

#[test]
fn tokens_tok_mints_verify_under_pyjwt() {
    if !pyjwt_available() {
        return;
    }
    let env = TestEnv::new();
    env.ok(&["jwt", "create-secret-key", "--output", "hs.key"]);
    let (rsa, _) = env.key_pair("RS256", "rsa");
    let (ec, _) = env.key_pair("ES256", "ec");
    let hs_ref = format!("file://{}", path_str(&env.path().join("hs.key")));
    let mut minted = Vec::new();
    for (flag, key) in [
        ("--secret-key", hs_ref.as_str()),
        ("--private-key", &rsa),
        ("--private-key", &ec),
    ] {
        minted.push(env.ok_json(&[
            "jwt",
            "create",
            "--subject",
            "app-1",
            flag,
            key,
            "--audience",
            AUDIENCE,
            "--expires",
            "1h",
            "--claim",
            "admin=true",
            "--header",
            "kid=k1",
        ]));
    }
    let tokens: Vec<&str> = minted
        .iter()
        .map(|d| d["token"].as_str().unwrap())
        .collect();
    let mut args = vec![AUDIENCE];
    args.extend(&tokens);
    let decoded = python(&env, VERIFY_IN_PYJWT, &args);
    for (doc, alg) in minted.iter().zip(["HS256", "RS256", "ES256"]) {
        assert_eq!(doc["algorithm"], alg);
        assert_eq!(
            decoded[alg], doc["claims"],
            "PyJWT reads the claims tok wrote ({alg})"
        );
    }
    assert_eq!(decoded["HS256"]["admin"], Value::Bool(true));
    assert_eq!(decoded["header"]["kid"], "k1");
    assert_eq!(decoded["header"]["typ"], "JWT");
}

const MINT_IN_PYJWT: &str = r#"
import json, os, sys, time, jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

aud = sys.argv[1]
now = int(time.time())
def public_der(key, path):
    with open(path, "wb") as f:
        f.write(key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))

secret, other_secret = os.urandom(32), os.urandom(32)
with open("hs.key", "wb") as f:
    f.write(secret)
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec_key = ec.generate_private_key(ec.SECP256R1())
public_der(rsa_key, "rsa.pub")
public_der(ec_key, "ec.pub")

valid = {"sub": "py-app", "aud": aud, "iat": now, "exp": now + 3600, "tier": "gold"}
expired = dict(valid, iat=now - 7200, exp=now - 3600)
print(json.dumps({
    "HS256": jwt.encode(valid, secret, algorithm="HS256"),
    "RS256": jwt.encode(valid, rsa_key, algorithm="RS256", headers={"kid": "py"}),
    "ES256": jwt.encode(valid, ec_key, algorithm="ES256"),
    "expired_rs": jwt.encode(expired, rsa_key, algorithm="RS256"),
    "expired_es": jwt.encode(expired, ec_key, algorithm="ES256"),
    "wrong_key_rs": jwt.encode(valid, other_rsa, algorithm="RS256"),
    "wrong_key_hs": jwt.encode(valid, other_secret, algorithm="HS256"),
    "wrong_aud_es": jwt.encode(dict(valid, aud="urn:elsewhere"), ec_key, algorithm="ES256"),
    "none": jwt.encode(valid, None, algorithm="none"),
}))
"#;

/// `tok jwt verify TOKEN FLAG KEY --audience AUDIENCE -o json`.
fn tok_verify(env: &TestEnv, token: &Value, flag: &str, key: &str) -> std::process::Output {
    let token = token.as_str().expect("token string");
    env.run(&[
        "jwt",
        "verify",
        token,
        flag,
        key,
        "--audience",
        AUDIENCE,
        "-o",
        "json",
    ])
}

#[test]
fn tokens_pyjwt_mints_verify_under_tok_and_bad_ones_are_rejected() {
    if !pyjwt_available() {
        return;
    }
    let env = TestEnv::new();
    let minted = python(&env, MINT_IN_PYJWT, &[AUDIENCE]);
    let hs = format!("file://{}", path_str(&env.path().join("hs.key")));
    let (rsa, ec) = ("rsa.pub", "ec.pub");

    for (alg, flag, key) in [
        ("HS256", "--secret-key", hs.as_str()),
        ("RS256", "--public-key", rsa),
        ("ES256", "--public-key", ec),
    ] {
        let out = tok_verify(&env, &minted[alg], flag, key);
        expect_exit(&out, 0);
        let doc = json(&out);
        assert_eq!(doc["verified_with"], alg);
        assert_eq!(doc["claims"]["sub"], "py-app");
        assert_eq!(doc["claims"]["tier"], "gold");
        assert_eq!(doc["expired"], false);
    }
    assert_eq!(
        json(&tok_verify(&env, &minted["RS256"], "--public-key", rsa))["header"]["kid"],
        "py"
    );

    let rejected = [
        ("expired_rs", "--public-key", rsa, "expired"),
        ("expired_es", "--public-key", ec, "expired"),
        ("wrong_key_rs", "--public-key", rsa, "bad_signature"),
        ("wrong_key_hs", "--secret-key", hs.as_str(), "bad_signature"),
        ("wrong_aud_es", "--public-key", ec, "wrong_audience"),
        ("none", "--public-key", rsa, "algorithm_not_allowed"),
        ("none", "--secret-key", hs.as_str(), "algorithm_not_allowed"),
        ("HS256", "--public-key", rsa, "algorithm_not_allowed"),
        ("ES256", "--public-key", rsa, "algorithm_not_allowed"),
    ];
    for (name, flag, key, code) in rejected {
        let out = tok_verify(&env, &minted[name], flag, key);
        let message = expect_error(&out, 4, code);
        assert!(message.starts_with("token rejected: "), "{name}: {message}");
    }
}
