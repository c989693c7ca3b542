//! Splitting a compact JWS into header, claims and signature, with errors that
//! say which part is wrong.

use std::fmt;

use base64::Engine;
use serde_json::{Map, Value};

use super::B64URL;

/// One of the three dot-separated parts of a compact JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Header,
    Payload,
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Header => "header (part 1)",
            Part::Payload => "payload (part 2)",
            Part::Signature => "signature (part 3)",
        })
    }
}

/// Why a string is not a well-formed JWT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("no token given")]
    Empty,
    #[error("a JWT has three base64url parts separated by '.', but this has {0}")]
    Segments(usize),
    #[error("the {0} is not valid base64url")]
    Base64(Part),
    #[error("the {part} is not valid JSON: {reason}")]
    Json { part: Part, reason: String },
    #[error("the {0} is not a JSON object")]
    NotObject(Part),
}

/// A JWT taken apart; nothing about it has been verified.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signature: Vec<u8>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
}

/// Trims whitespace and a leading `Bearer ` from pasted input.
pub fn clean_input(raw: &str) -> &str {
    let t = raw.trim();
    let lower = t.get(..7).map(str::to_ascii_lowercase);
    match lower.as_deref() {
        Some("bearer ") => t[7..].trim_start(),
        _ => t,
    }
}

/// Decodes a compact JWT without checking its signature.
pub fn decode(token: &str) -> Result<Decoded<'_>, DecodeError> {
    if token.is_empty() {
        return Err(DecodeError::Empty);
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(DecodeError::Segments(parts.len()));
    }
    let header = json_object(parts[0], Part::Header)?;
    let claims = json_object(parts[1], Part::Payload)?;
    let signature = B64URL
        .decode(parts[2])
        .map_err(|_| DecodeError::Base64(Part::Signature))?;
    let signing_input = &token[..parts[0].len() + 1 + parts[1].len()];
    Ok(Decoded {
        header,
        claims,
        signature,
        signing_input,
    })
}

fn json_object(segment: &str, part: Part) -> Result<Map<String, Value>, DecodeError> {
    if segment.is_empty() {
        return Err(DecodeError::Json {
            part,
            reason: "it is empty".into(),
        });
    }
    let bytes = B64URL
        .decode(segment)
        .map_err(|_| DecodeError::Base64(part))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DecodeError::NotObject(part)),
        Err(e) => Err(DecodeError::Json {
            part,
            reason: e.to_string(),
        }),
    }
}

/// A NumericDate claim (`exp`, `nbf`, `iat`) as whole Unix seconds.
/// `Ok(None)` when absent; `Err` when present but not a number.
pub fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or_else(|| format!("'{name}' is not a valid NumericDate")),
        Some(other) => Err(format!(
            "'{name}' must be a NumericDate (seconds since 1970), not {}",
            crate::model::json_kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2ln";

    #[test]
    fn decodes_header_claims_and_signature() {
        let d = decode(TOKEN).unwrap();
        assert_eq!(d.header["alg"], "HS256");
        assert_eq!(d.claims["sub"], "admin");
        assert_eq!(d.signature, b"sig");
        assert_eq!(d.signing_input, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9");
    }

    #[test]
    fn cleans_pasted_input() {
        assert_eq!(clean_input("  Bearer  abc \n"), "abc");
        assert_eq!(clean_input("bearer abc"), "abc");
        assert_eq!(clean_input("abc\n"), "abc");
    }

    #[test]
    fn names_the_part_that_is_wrong() {
        assert_eq!(decode("a.b").unwrap_err(), DecodeError::Segments(2));
        assert_eq!(
            decode("!!.e30.c2ln").unwrap_err(),
            DecodeError::Base64(Part::Header)
        );
        assert_eq!(
            decode("e30.!!.c2ln").unwrap_err(),
            DecodeError::Base64(Part::Payload)
        );
        assert_eq!(
            decode("e30.e30.!!").unwrap_err(),
            DecodeError::Base64(Part::Signature)
        );
        assert!(matches!(
            decode("bm90IGpzb24.e30.c2ln").unwrap_err(),
            DecodeError::Json {
                part: Part::Header,
                ..
            }
        ));
        assert_eq!(
            decode("e30.WzFd.c2ln").unwrap_err(),
            DecodeError::NotObject(Part::Payload)
        );
    }

    #[test]
    fn numeric_dates_must_be_numbers() {
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"exp": 10, "nbf": "10", "iat": 1.5}"#).unwrap();
        assert_eq!(numeric_date(&claims, "exp"), Ok(Some(10)));
        assert_eq!(numeric_date(&claims, "iat"), Ok(Some(1)));
        assert_eq!(numeric_date(&claims, "missing"), Ok(None));
        assert!(
            numeric_date(&claims, "nbf")
                .unwrap_err()
                .contains("a string")
        );
    }
}
