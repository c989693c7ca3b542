//! Pulsar compatibility, checked by a third party (PyJWT with `cryptography`): for every
//! algorithm, a token from `tok token create` verifies with the key exactly as
//! `tok instance broker-config` prints it, decoded the way a broker reads `data:;base64,`
//! (DER SubjectPublicKeyInfo, raw secret bytes). Imported cluster keys keep working.
//!
//! Without PyJWT the tests say they were skipped, unless `CI` is set: then they fail.

use serde_json::Value;

use crate::both_backends;
use crate::common::{TestEnv, expect_error, expect_exit, path_str};
use crate::common::{pyjwt_available, python};
use crate::embedded_helpers::{broker_conf, data_url_bytes, jwt_parts, new_token};

/// Verifies a token against broker.conf lines as a broker would, and proves a wrong
/// audience is refused. Arguments: the broker-config file, the token, the HS algorithm
/// (for `tokenSecretKey`), and the claims that must be present (comma-separated).
const BROKER_VERIFY: &str = r#"
import base64, json, sys, jwt
from cryptography.hazmat.primitives.serialization import load_der_public_key

conf_path, token, hs_alg, required = sys.argv[1:5]
conf = dict(line.split("=", 1) for line in open(conf_path).read().splitlines() if line)

def data_url(value):
    prefix = "data:;base64,"
    assert value.startswith(prefix), value
    return base64.b64decode(value[len(prefix):], validate=True)

if "tokenPublicKey" in conf:
    key = load_der_public_key(data_url(conf["tokenPublicKey"]))
    algorithms = [conf["tokenPublicAlg"]]
    size = key.key_size
else:
    key = data_url(conf["tokenSecretKey"])
    algorithms = [hs_alg]
    size = len(key) * 8
assert conf["tokenAudienceClaim"] == "aud", conf
audience = conf["tokenAudience"]
options = {"require": required.split(",")}
claims = jwt.decode(token, key, algorithms=algorithms, audience=audience, options=options)
try:
    jwt.decode(token, key, algorithms=algorithms, audience=audience + "-other")
    wrong_audience = "accepted"
except jwt.InvalidAudienceError:
    wrong_audience = "refused"
print(json.dumps({
    "claims": claims,
    "header": jwt.get_unverified_header(token),
    "algorithms": algorithms,
    "key_bits": size,
    "wrong_audience": wrong_audience,
}))
"#;

/// Writes `tok instance broker-config NAME` to a file, byte for byte as printed.
fn save_broker_config(env: &TestEnv, instance: &str) -> String {
    let out = env.run(&["instance", "broker-config", instance]);
    expect_exit(&out, 0);
    path_str(&env.write(&format!("{instance}.conf"), &out.stdout))
}

/// PyJWT's verdict on `token` with the broker-config of `instance`.
fn broker_verify(env: &TestEnv, instance: &str, token: &str, alg: &str, required: &str) -> Value {
    let conf = save_broker_config(env, instance);
    python(env, BROKER_VERIFY, &[&conf, token, alg, required])
}

fn epoch(text: &Value) -> i64 {
    let format = &time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(text.as_str().unwrap(), format)
        .unwrap()
        .unix_timestamp()
}

/// An instance with `alg`, a tenant on it and a 7-day token; PyJWT verifies it with the
/// broker-config key and sees the claims and `kid` that were asked for.
fn verifies_under_pyjwt(env: &TestEnv, alg: &str) {
    if !pyjwt_available() {
        return;
    }
    let name = format!("i-{}", alg.to_lowercase());
    let instance = env.ok_json(&["instance", "create", &name, "--alg", alg]);
    assert_eq!(instance["algorithm"], alg);
    env.ok(&["tenant", "create", "t1", "--instance", &name, "-q"]);
    let created = new_token(
        env,
        &["--tenant", "t1", "--expires", "7d", "--subject", "role-1"],
    );
    let token = created["token"].as_str().unwrap();

    let verdict = broker_verify(env, &name, token, alg, "sub,aud,jti,iat,exp");
    assert_eq!(verdict["algorithms"], serde_json::json!([alg]));
    assert_eq!(verdict["wrong_audience"], "refused");
    let bits = verdict["key_bits"].as_i64().unwrap();
    let minimum = match &alg[..2] {
        "RS" => 2048,
        "HS" => alg[2..].parse().unwrap(),
        _ => alg[2..].parse::<i64>().unwrap().min(521),
    };
    assert!(bits >= minimum, "{alg}: a {bits}-bit key");

    let claims = &verdict["claims"];
    assert_eq!(claims["sub"], "role-1");
    assert_eq!(claims["aud"], instance["audience"]);
    assert_eq!(claims["jti"], created["id"]);
    assert_eq!(claims["iat"].as_i64(), Some(epoch(&created["created_at"])));
    assert_eq!(claims["exp"].as_i64(), Some(epoch(&created["expires_at"])));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7 * 86_400
    );
    assert_eq!(verdict["header"]["kid"], instance["kid"]);
    assert_eq!(verdict["header"]["alg"], alg);
}

macro_rules! every_algorithm {
    ($($test:ident => $alg:literal),* $(,)?) => {
        $(
            fn $test(env: &TestEnv) {
                verifies_under_pyjwt(env, $alg);
            }
        )*
        both_backends!($($test),*);
    };
}

every_algorithm! {
    rs256_token_verifies_with_broker_config_in_pyjwt => "RS256",
    rs384_token_verifies_with_broker_config_in_pyjwt => "RS384",
    rs512_token_verifies_with_broker_config_in_pyjwt => "RS512",
    es256_token_verifies_with_broker_config_in_pyjwt => "ES256",
    es384_token_verifies_with_broker_config_in_pyjwt => "ES384",
    es512_token_verifies_with_broker_config_in_pyjwt => "ES512",
    hs256_token_verifies_with_broker_config_in_pyjwt => "HS256",
    hs384_token_verifies_with_broker_config_in_pyjwt => "HS384",
    hs512_token_verifies_with_broker_config_in_pyjwt => "HS512",
}

fn the_quick_start_token_verifies_with_broker_config_local_in_pyjwt(env: &TestEnv) {
    if !pyjwt_available() {
        return;
    }
    env.ok(&["tenant", "create", "acme", "-q"]);
    let token = env.ok(&["token", "create", "--tenant", "acme", "--expires", "7d"]);
    let verdict = broker_verify(env, "local", &token, "-", "sub,aud,jti,iat,exp");
    assert_eq!(verdict["algorithms"], serde_json::json!(["RS256"]));
    let never = env.ok(&["token", "create", "--tenant", "acme", "--expires", "never"]);
    let verdict = broker_verify(env, "local", &never, "-", "sub,aud,jti,iat");
    assert!(verdict["claims"].get("exp").is_none(), "{verdict}");
}

fn an_imported_key_pair_keeps_the_clusters_public_key(env: &TestEnv) {
    let (private, public) = env.key_pair("ES384", "cluster");
    let (rsa_private, rsa_public) = env.key_pair("RS256", "rsa");
    let rsa_ref = format!("file://{rsa_private}");
    for (name, keyref, public, alg) in [
        ("imp-ec", private.as_str(), &public, "ES384"),
        ("imp-rsa", rsa_ref.as_str(), &rsa_public, "RS256"),
    ] {
        let instance = env.ok_json(&["instance", "create", name, "--private-key", keyref]);
        assert_eq!(instance["algorithm"], alg, "the key implies the algorithm");
        let conf = broker_conf(env, name);
        let der = std::fs::read(public).unwrap();
        assert_eq!(
            data_url_bytes(&conf["tokenPublicKey"]),
            der,
            "the cluster's key"
        );
        env.ok(&[
            "tenant",
            "create",
            &format!("t-{name}"),
            "--instance",
            name,
            "-q",
        ]);
        let tenant = format!("t-{name}");
        let token = env.ok(&["token", "create", "--tenant", &tenant, "-q"]);
        let out = env.verify(&token, "--public-key", public);
        expect_exit(&out, 0);
        let (header, _) = jwt_parts(&token);
        assert_eq!(header["kid"], instance["kid"]);
    }
    let out = env.run(&[
        "instance",
        "create",
        "bad",
        "--private-key",
        &private,
        "--alg",
        "RS256",
        "-o",
        "json",
    ]);
    expect_error(&out, 2, "invalid_input");
}

fn an_imported_secret_key_keeps_the_clusters_secret(env: &TestEnv) {
    let file = path_str(&env.path().join("cluster-secret.key"));
    env.ok(&["jwt", "create-secret-key", "--output", &file]);
    let instance = env.ok_json(&["instance", "create", "imp-hs", "--secret-key", &file]);
    assert_eq!(instance["algorithm"], "HS256", "32 raw bytes: HS256");
    let conf = broker_conf(env, "imp-hs");
    let secret = std::fs::read(&file).unwrap();
    assert_eq!(data_url_bytes(&conf["tokenSecretKey"]), secret);
    env.ok(&["tenant", "create", "acme", "--instance", "imp-hs", "-q"]);
    let token = env.ok(&["token", "create", "--tenant", "acme", "-q"]);
    expect_exit(&env.verify(&token, "--secret-key", &file), 0);
    let other = env.write("other.key", &[7u8; 32]);
    expect_exit(&env.verify(&token, "--secret-key", &path_str(&other)), 4);
    if pyjwt_available() {
        let verdict = broker_verify(env, "imp-hs", &token, "HS256", "sub,aud,jti,iat,exp");
        assert_eq!(verdict["claims"]["aud"], instance["audience"]);
    }
}

/// Whether the JWK (argv[2]) and the PEM file (argv[3]) hold the same public key as the
/// broker-config file (argv[1]).
const SAME_KEY: &str = r#"
import base64, json, sys
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

conf = dict(line.split("=", 1) for line in open(sys.argv[1]).read().splitlines() if line)
der = base64.b64decode(conf["tokenPublicKey"].removeprefix("data:;base64,"), validate=True)
broker = load_der_public_key(der).public_numbers()
jwk = json.loads(sys.argv[2])
from_jwk = (RSAAlgorithm if jwk["kty"] == "RSA" else ECAlgorithm).from_jwk(jwk)
pem = load_pem_public_key(open(sys.argv[3], "rb").read()).public_numbers()
print(json.dumps({"jwk": from_jwk.public_numbers() == broker, "pem": pem == broker}))
"#;

fn public_key_jwk_and_pem_are_the_broker_config_key(env: &TestEnv) {
    if !pyjwt_available() {
        return;
    }
    env.ok(&["instance", "create", "ec", "--alg", "ES512", "-q"]);
    for name in ["local", "ec"] {
        let conf = save_broker_config(env, name);
        let jwk = env.ok(&["instance", "public-key", name, "--format", "jwk"]);
        let pem = env.ok(&["instance", "public-key", name, "--format", "pem"]);
        let pem_file = path_str(&env.write(&format!("{name}.pem"), pem.as_bytes()));
        let same = python(env, SAME_KEY, &[&conf, &jwk, &pem_file]);
        assert_eq!(
            same,
            serde_json::json!({"jwk": true, "pem": true}),
            "{name}"
        );
    }
}

both_backends!(
    the_quick_start_token_verifies_with_broker_config_local_in_pyjwt,
    an_imported_key_pair_keeps_the_clusters_public_key,
    an_imported_secret_key_keeps_the_clusters_secret,
    public_key_jwk_and_pem_are_the_broker_config_key,
);
