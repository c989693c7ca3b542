//! Hand-made JWTs: the tokens `tok` refuses to mint (`alg: none`, string `exp`,
//! forged HMAC keys), built from base64url and aws-lc-rs HMAC.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// A 32-byte HMAC secret (HS256 only).
pub const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// `header.payload` from two JSON documents, encoded exactly as serde_json writes them.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// An HMAC-signed token; `mac` picks the hash whatever the header claims.
pub fn hmac_token(mac: &str, key: &[u8], header: &Value, claims: &Value) -> String {
    let algorithm = match mac {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("not an HMAC algorithm: {other}"),
    };
    let input = signing_input(header, claims);
    let tag = hmac::sign(&hmac::Key::new(algorithm, key), input.as_bytes());
    format!("{input}.{}", b64url(tag.as_ref()))
}

/// An HS256 token over `claims` with [`SECRET`].
pub fn hs256(claims: &Value) -> String {
    hmac_token(
        "HS256",
        SECRET,
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
    )
}

/// The three parts of a compact token.
pub fn parts(token: &str) -> Vec<String> {
    let parts: Vec<String> = token.split('.').map(str::to_string).collect();
    assert_eq!(parts.len(), 3, "{token}");
    parts
}

/// Decodes one JSON part (0 header, 1 payload) of a token.
pub fn part_json(token: &str, index: usize) -> Value {
    serde_json::from_slice(&b64url_decode(&parts(token)[index])).expect("JSON part")
}

/// Unix seconds now.
pub fn now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since.as_secs()).expect("seconds fit")
}
