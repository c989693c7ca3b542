//! JSON Web Keys (RFC 7517): reading a key set for verification.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use base64::Engine;
use serde_json::Value;

use super::{KeyError, PublicKey, parse_public_key, parse_secret_key};
use crate::jwt::{Algorithm, VerifyKey};

/// Reads a JWKS (`{"keys": [...]}`) or a single JWK into verification keys.
/// Keys marked `"use": "enc"` are skipped; a key's `alg`, when given, pins it.
pub fn parse_jwks(bytes: &[u8]) -> Result<Vec<VerifyKey>, KeyError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| KeyError::Invalid(format!("the JWKS is not valid JSON: {e}")))?;
    let entries: Vec<&Value> = match doc.get("keys") {
        Some(Value::Array(keys)) => keys.iter().collect(),
        Some(_) => {
            return Err(KeyError::Invalid(
                "the JWKS 'keys' member is not an array".into(),
            ));
        }
        None if doc.get("kty").is_some() => vec![&doc],
        None => {
            return Err(KeyError::Invalid(
                "not a JWKS: expected {\"keys\": [...]} or a single JWK with \"kty\"".into(),
            ));
        }
    };
    let mut keys = Vec::new();
    for (i, jwk) in entries.into_iter().enumerate() {
        if jwk.get("use").and_then(Value::as_str) == Some("enc") {
            continue;
        }
        let key = parse_jwk(jwk).map_err(|e| KeyError::Invalid(format!("JWKS key #{i}: {e}")))?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(KeyError::Invalid("the JWKS holds no signing keys".into()));
    }
    Ok(keys)
}

fn parse_jwk(jwk: &Value) -> Result<VerifyKey, KeyError> {
    let field = |name: &str| -> Result<Vec<u8>, KeyError> {
        let text = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| KeyError::Invalid(format!("member '{name}' is missing")))?;
        crate::jwt::B64URL
            .decode(text)
            .map_err(|_| KeyError::Invalid(format!("member '{name}' is not base64url")))
    };
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
    let key = match kty {
        "oct" => parse_secret_key(&field("k")?).and_then(|k| k.public_key())?,
        "RSA" => {
            let (n, e) = (field("n")?, field("e")?);
            let spki = PublicKeyComponents {
                n: &n[..],
                e: &e[..],
            }
            .as_der()
            .map_err(|_| KeyError::Invalid("the RSA modulus or exponent is invalid".into()))?;
            parse_public_key(spki.as_ref())?
        }
        "EC" => {
            let verify = match jwk.get("crv").and_then(Value::as_str) {
                Some("P-256") => &signature::ECDSA_P256_SHA256_FIXED,
                Some("P-384") => &signature::ECDSA_P384_SHA384_FIXED,
                Some("P-521") => &signature::ECDSA_P521_SHA512_FIXED,
                other => {
                    return Err(KeyError::Invalid(format!(
                        "curve {other:?} is not supported; use P-256, P-384 or P-521"
                    )));
                }
            };
            let mut point = vec![0x04];
            point.extend(field("x")?);
            point.extend(field("y")?);
            let parsed = ParsedPublicKey::new(verify, &point)
                .map_err(|e| KeyError::Invalid(format!("the EC point is invalid: {e}")))?;
            let spki = parsed
                .as_der()
                .map_err(|_| KeyError::Invalid("cannot encode the EC key".into()))?;
            parse_public_key(spki.as_ref())?
        }
        other => {
            return Err(KeyError::Invalid(format!(
                "key type '{other}' is not supported; use RSA, EC or oct"
            )));
        }
    };
    if let Some(alg) = jwk.get("alg").and_then(Value::as_str) {
        let alg: Algorithm = alg.parse().map_err(KeyError::Invalid)?;
        if !key.algorithms().contains(&alg) {
            return Err(KeyError::Invalid(format!(
                "its 'alg' is {alg}, which does not fit its key type"
            )));
        }
        return Ok(VerifyKey {
            kid: kid_of(jwk),
            key: key.pinned(alg),
        });
    }
    Ok(VerifyKey {
        kid: kid_of(jwk),
        key,
    })
}

fn kid_of(jwk: &Value) -> Option<String> {
    jwk.get("kid").and_then(Value::as_str).map(str::to_string)
}

impl PublicKey {
    /// The same key, accepting only `alg` (a JWK's `alg` member).
    fn pinned(self, alg: Algorithm) -> PublicKey {
        match self {
            PublicKey::Hmac { key, .. } => PublicKey::Hmac {
                key,
                only: Some(alg),
            },
            PublicKey::Asymmetric {
                family,
                spki,
                parsed,
            } => PublicKey::Asymmetric {
                family,
                spki,
                parsed: parsed.into_iter().filter(|(a, _)| *a == alg).collect(),
            },
        }
    }
}

/// The JWK (RFC 7517) of a public key (X.509 SubjectPublicKeyInfo DER), with `kid`,
/// `alg` and `use: sig`. HMAC keys have no public JWK.
pub fn public_jwk(kid: &str, alg: Algorithm, der: &[u8]) -> Result<Value, KeyError> {
    let b64 = |b: &[u8]| crate::jwt::B64URL.encode(b);
    let mut map = serde_json::Map::new();
    map.insert("kid".into(), kid.into());
    map.insert("alg".into(), alg.as_str().into());
    map.insert("use".into(), "sig".into());
    match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            let rsa = aws_lc_rs::rsa::PublicKey::from_der(der)
                .map_err(|_| KeyError::Invalid("the RSA public key cannot be read".into()))?;
            map.insert("kty".into(), "RSA".into());
            map.insert(
                "n".into(),
                b64(rsa.modulus().big_endian_without_leading_zero()).into(),
            );
            map.insert(
                "e".into(),
                b64(rsa.exponent().big_endian_without_leading_zero()).into(),
            );
        }
        Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512 => {
            let (crv, n) = match alg {
                Algorithm::ES384 => ("P-384", 48),
                Algorithm::ES512 => ("P-521", 66),
                _ => ("P-256", 32),
            };
            // An EC SubjectPublicKeyInfo ends with the uncompressed point 04 || x || y.
            let point = der
                .get(der.len().saturating_sub(2 * n + 1)..)
                .filter(|p| p.len() == 2 * n + 1 && p[0] == 4)
                .ok_or_else(|| KeyError::Invalid("the EC public key cannot be read".into()))?;
            map.insert("kty".into(), "EC".into());
            map.insert("crv".into(), crv.into());
            map.insert("x".into(), b64(&point[1..=n]).into());
            map.insert("y".into(), b64(&point[n + 1..]).into());
        }
        _ => {
            return Err(KeyError::Invalid(format!(
                "{alg} signs with a shared secret: it has no public JWK"
            )));
        }
    }
    Ok(Value::Object(map))
}
