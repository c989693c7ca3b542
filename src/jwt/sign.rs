//! Minting JWTs with a key parsed once and reused for every signature.

use base64::Engine;
use serde_json::{Map, Value};

use super::{Algorithm, B64URL};
use crate::keys::{KeyError, PrivateKey, mismatch};

/// `alg` (or the key's default) when the key can sign with it; an error that says why not.
pub fn check_algorithm(key: &PrivateKey, alg: Option<Algorithm>) -> Result<Algorithm, KeyError> {
    let alg = alg.unwrap_or_else(|| key.default_algorithm());
    if key.algorithms().contains(&alg) {
        Ok(alg)
    } else {
        Err(mismatch(alg, key.family(), &key.algorithms()))
    }
}

/// A parsed signing key with its algorithm checked against the key type.
pub struct Signer {
    key: PrivateKey,
    alg: Algorithm,
}

impl Signer {
    /// Pins `alg` (or the key's default) to `key`; a mismatch is an error that says why.
    pub fn new(key: PrivateKey, alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let alg = check_algorithm(&key, alg)?;
        Ok(Signer { key, alg })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// Signs `claims`; the header is `{"alg", "typ": "JWT"}` followed by `extra_header`.
    pub fn sign(
        &self,
        extra_header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<String, KeyError> {
        let mut header = Map::with_capacity(2 + extra_header.len());
        header.insert("alg".into(), Value::from(self.alg.as_str()));
        header.insert("typ".into(), Value::from("JWT"));
        for (k, v) in extra_header {
            if k != "alg" {
                header.insert(k.clone(), v.clone());
            }
        }
        let encode = |m: &Map<String, Value>| {
            serde_json::to_vec(m)
                .map(|json| B64URL.encode(json))
                .map_err(|e| KeyError::Invalid(format!("cannot encode JSON: {e}")))
        };
        let mut token = encode(&header)?;
        token.push('.');
        token.push_str(&encode(claims)?);
        let signature = self.key.sign(self.alg, token.as_bytes())?;
        token.push('.');
        token.push_str(&B64URL.encode(signature));
        Ok(token)
    }
}
