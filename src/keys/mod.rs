//! Key material as a Pulsar broker reads it: key references (`file:///…`,
//! `data:;base64,…`, a path, bare base64), PKCS#8 / X.509 DER (PEM accepted),
//! raw HMAC secrets, and key generation.

mod jwk;
mod keyref;
mod parse;

pub use jwk::{parse_jwks, public_jwk};
pub use keyref::read_keyref;
pub use parse::{
    PrivateKey, PublicKey, generate_key_pair, generate_secret, min_secret_len, mismatch,
    parse_private_key, parse_public_key, parse_secret_key,
};

/// What is wrong with a key or a key reference. Messages never include key bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("cannot read key file '{path}': {reason}")]
    Unreadable { path: String, reason: String },
    #[error("invalid key reference '{shown}': {reason}")]
    BadReference { shown: String, reason: String },
    #[error("{0}")]
    Invalid(String),
}
