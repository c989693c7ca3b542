//! Verifying a JWT the way a careful broker does: algorithm pinned to the key,
//! signature first, then `exp`/`nbf` (with leeway), `aud`, `iss` and required claims.

use serde_json::{Map, Value};

use super::{Algorithm, DecodeError, decode, numeric_date};
use crate::keys::PublicKey;

/// A verification key, optionally named by a `kid` (from a JWKS).
pub struct VerifyKey {
    pub kid: Option<String>,
    pub key: PublicKey,
}

/// What to check besides the signature. `now` is a parameter so tests pin time.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Only these algorithms are accepted (`--alg`); `None` means whatever the key allows.
    pub algorithms: Option<Vec<Algorithm>>,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    pub leeway: i64,
    /// Claims that must be present (e.g. `exp`).
    pub required: Vec<String>,
    /// Unix seconds.
    pub now: i64,
}

/// A token whose signature and claims checked out.
#[derive(Debug, Clone)]
pub struct Verified {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub algorithm: Algorithm,
    pub expires_at: Option<i64>,
}

/// Why a token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token: {0}")]
    Malformed(#[from] DecodeError),
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    #[error("no key with kid '{0}' in the key set")]
    UnknownKid(String),
    #[error("bad signature: the token was not signed by this key, or was altered")]
    BadSignature,
    #[error("token expired at {at} ({ago} seconds ago)")]
    Expired { at: i64, ago: i64 },
    #[error("token not valid before {at} (in {wait} seconds)")]
    NotYetValid { at: i64, wait: i64 },
    #[error("invalid claim: {0}")]
    InvalidClaim(String),
    #[error("missing required claim '{0}'")]
    MissingClaim(String),
    #[error("wrong audience: expected '{expected}', token has {found}")]
    WrongAudience { expected: String, found: String },
    #[error("wrong issuer: expected '{expected}', token has {found}")]
    WrongIssuer { expected: String, found: String },
}

impl VerifyError {
    /// A stable machine code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Malformed(_) => "malformed_token",
            VerifyError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            VerifyError::UnknownKid(_) => "unknown_kid",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::Expired { .. } => "expired",
            VerifyError::NotYetValid { .. } => "not_yet_valid",
            VerifyError::InvalidClaim(_) => "invalid_claim",
            VerifyError::MissingClaim(_) => "missing_claim",
            VerifyError::WrongAudience { .. } => "wrong_audience",
            VerifyError::WrongIssuer { .. } => "wrong_issuer",
        }
    }
}

/// Verifies `token` against `keys` under `opts`.
pub fn verify(
    token: &str,
    keys: &[VerifyKey],
    opts: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    let decoded = decode(token)?;
    let alg = header_algorithm(&decoded.header)?;
    if let Some(pinned) = &opts.algorithms
        && !pinned.contains(&alg)
    {
        let names: Vec<_> = pinned.iter().map(|a| a.as_str()).collect();
        return Err(VerifyError::AlgorithmNotAllowed(format!(
            "the token is signed with {alg}, but only {} is accepted (--alg)",
            names.join(", ")
        )));
    }
    let candidates = select_keys(keys, &decoded.header)?;
    let usable: Vec<&VerifyKey> = candidates
        .iter()
        .copied()
        .filter(|k| k.key.algorithms().contains(&alg))
        .collect();
    if usable.is_empty() {
        return Err(VerifyError::AlgorithmNotAllowed(describe_mismatch(
            alg,
            &candidates,
        )));
    }
    let message = decoded.signing_input.as_bytes();
    if !usable
        .iter()
        .any(|k| k.key.verify(alg, message, &decoded.signature))
    {
        return Err(VerifyError::BadSignature);
    }
    let expires_at = check_claims(&decoded.claims, opts)?;
    Ok(Verified {
        header: decoded.header,
        claims: decoded.claims,
        algorithm: alg,
        expires_at,
    })
}

fn header_algorithm(header: &Map<String, Value>) -> Result<Algorithm, VerifyError> {
    match header.get("alg") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("none") => Err(
            VerifyError::AlgorithmNotAllowed("'none' (an unsigned token) is never accepted".into()),
        ),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| VerifyError::AlgorithmNotAllowed(format!("'{s}' is not supported"))),
        Some(_) => Err(VerifyError::AlgorithmNotAllowed(
            "'alg' is not a string".into(),
        )),
        None => Err(VerifyError::AlgorithmNotAllowed(
            "the header has no 'alg'".into(),
        )),
    }
}

/// Keys named by the header's `kid` when the key set names its keys; otherwise all.
fn select_keys<'k>(
    keys: &'k [VerifyKey],
    header: &Map<String, Value>,
) -> Result<Vec<&'k VerifyKey>, VerifyError> {
    let kid = header.get("kid").and_then(Value::as_str);
    match kid {
        Some(kid) if keys.iter().any(|k| k.kid.is_some()) => {
            let named: Vec<_> = keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid))
                .collect();
            if named.is_empty() {
                Err(VerifyError::UnknownKid(kid.to_string()))
            } else {
                Ok(named)
            }
        }
        _ => Ok(keys.iter().collect()),
    }
}

fn describe_mismatch(alg: Algorithm, keys: &[&VerifyKey]) -> String {
    let mut allowed: Vec<&str> = keys
        .iter()
        .flat_map(|k| k.key.algorithms())
        .map(Algorithm::as_str)
        .collect();
    allowed.dedup();
    let kind = keys.first().map_or("no key", |k| k.key.family().describe());
    format!(
        "the token is signed with {alg}, but the key is {kind}, which allows only {}",
        if allowed.is_empty() {
            "nothing".to_string()
        } else {
            allowed.join(", ")
        }
    )
}

fn check_claims(
    claims: &Map<String, Value>,
    opts: &VerifyOptions,
) -> Result<Option<i64>, VerifyError> {
    let exp = numeric_date(claims, "exp").map_err(VerifyError::InvalidClaim)?;
    let nbf = numeric_date(claims, "nbf").map_err(VerifyError::InvalidClaim)?;
    numeric_date(claims, "iat").map_err(VerifyError::InvalidClaim)?;
    for name in &opts.required {
        if !claims.contains_key(name) {
            return Err(VerifyError::MissingClaim(name.clone()));
        }
    }
    if let Some(exp) = exp
        && opts.now >= exp.saturating_add(opts.leeway)
    {
        return Err(VerifyError::Expired {
            at: exp,
            ago: opts.now - exp,
        });
    }
    if let Some(nbf) = nbf
        && opts.now.saturating_add(opts.leeway) < nbf
    {
        return Err(VerifyError::NotYetValid {
            at: nbf,
            wait: nbf - opts.now,
        });
    }
    if let Some(expected) = &opts.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(s)) => s == expected,
            Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(expected)),
            _ => false,
        };
        if !ok {
            return Err(VerifyError::WrongAudience {
                expected: expected.clone(),
                found: shown(claims.get("aud")),
            });
        }
    }
    if let Some(expected) = &opts.issuer
        && claims.get("iss").and_then(Value::as_str) != Some(expected.as_str())
    {
        return Err(VerifyError::WrongIssuer {
            expected: expected.clone(),
            found: shown(claims.get("iss")),
        });
    }
    Ok(exp)
}

fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "none".to_string(), Value::to_string)
}
