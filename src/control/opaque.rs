//! Opaque secrets (session tokens; application tokens and client secrets later):
//! `<prefix>_<32 base62 chars: 190 bits from the CSPRNG><6 base62 chars: CRC32>`, so a
//! typo or a truncated paste is caught offline and a secret scanner can recognise one.
//! Stored only as HMAC-SHA256 under the server's pepper.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use super::error::{ControlError, ControlResult};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Random characters after the prefix: 32 × log2(62) ≈ 190 bits.
const BODY_LEN: usize = 32;
/// CRC32 in base62 (62^6 > 2^32).
const CHECK_LEN: usize = 6;

/// The kinds of opaque secret and their prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Session,
    /// An application token, used as a bearer token.
    Application,
    /// An application token's client secret, exchanged with its client id for a session.
    ClientSecret,
}

impl Kind {
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Session => "toks",
            Kind::Application => "toka",
            Kind::ClientSecret => "tokcs",
        }
    }
}

/// Whether `secret` carries `kind`'s prefix (its format and checksum unchecked): which
/// kind of credential a bearer token claims to be.
pub fn is_kind(kind: Kind, secret: &str) -> bool {
    secret
        .strip_prefix(kind.prefix())
        .is_some_and(|rest| rest.starts_with('_'))
}

/// A new client id: public, so no checksum — `tokci_` and 24 base62 characters.
pub fn client_id() -> ControlResult<String> {
    Ok(format!("tokci_{}", random_base62(24)?))
}

/// A new secret of `kind`.
pub fn generate(kind: Kind) -> ControlResult<String> {
    let body = random_base62(BODY_LEN)?;
    let mut secret = format!("{}_{body}", kind.prefix());
    let check = base62_fixed(crc32fast::hash(secret.as_bytes()));
    secret.push_str(&check);
    Ok(secret)
}

/// `n` characters drawn uniformly from base62 by the system CSPRNG.
fn random_base62(n: usize) -> ControlResult<String> {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        rng.fill(&mut buf)
            .map_err(|_| ControlError::Crypto("the system random generator failed".into()))?;
        // Rejection sampling keeps every character equally likely: 248 = 4 × 62.
        for b in buf.iter().filter(|b| **b < 248).take(n - out.len()) {
            out.push(char::from(ALPHABET[usize::from(*b % 62)]));
        }
    }
    Ok(out)
}

/// A random password for a generated account: 24 base62 characters (≈143 bits).
pub fn random_password() -> ControlResult<String> {
    random_base62(24)
}

/// A fresh `Idempotency-Key` for one create request (128 random bits).
pub fn request_key() -> String {
    format!("req_{}", super::ids::random_hex(16))
}

/// Checks the shape and checksum of `secret` without any lookup.
pub fn check(kind: Kind, secret: &str) -> Result<(), &'static str> {
    let rest = secret
        .strip_prefix(kind.prefix())
        .and_then(|r| r.strip_prefix('_'))
        .ok_or("it does not start with the expected prefix")?;
    if rest.len() != BODY_LEN + CHECK_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("it has the wrong length or characters");
    }
    let (signed, check) = secret.split_at(secret.len() - CHECK_LEN);
    if base62_fixed(crc32fast::hash(signed.as_bytes())) != check {
        return Err("its checksum does not match (mistyped or truncated)");
    }
    Ok(())
}

/// HMAC-SHA256 of `secret` under `pepper`: what the database keeps.
pub fn digest(pepper: &[u8], secret: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, pepper);
    hmac::sign(&key, secret.as_bytes()).as_ref().to_vec()
}

fn base62_fixed(mut n: u32) -> String {
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|b| char::from(*b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_check_and_typos_do_not() {
        let s = generate(Kind::Session).unwrap();
        assert!(s.starts_with("toks_"));
        assert_eq!(s.len(), 5 + BODY_LEN + CHECK_LEN);
        check(Kind::Session, &s).unwrap();
        // Every single-character substitution in the body is caught.
        let bytes = s.as_bytes();
        for i in 5..s.len() {
            let mut typo = bytes.to_vec();
            typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(typo).unwrap();
            assert!(check(Kind::Session, &typo).is_err(), "{typo}");
        }
        assert!(check(Kind::Session, &s[..s.len() - 1]).is_err());
        assert!(check(Kind::Session, "toks_").is_err());
        assert!(check(Kind::Session, "").is_err());
        assert_ne!(generate(Kind::Session).unwrap(), s);
    }

    #[test]
    fn each_kind_checks_only_its_own_prefix() {
        for kind in [Kind::Session, Kind::Application, Kind::ClientSecret] {
            let s = generate(kind).unwrap();
            assert!(s.starts_with(&format!("{}_", kind.prefix())), "{s}");
            check(kind, &s).unwrap();
            for other in [Kind::Session, Kind::Application, Kind::ClientSecret] {
                if other != kind {
                    assert!(check(other, &s).is_err(), "{s} is not a {other:?}");
                }
            }
        }
        let id = client_id().unwrap();
        assert!(id.starts_with("tokci_") && id.len() == 30, "{id}");
    }

    #[test]
    fn digest_depends_on_pepper_and_secret() {
        assert_eq!(digest(b"p", "a"), digest(b"p", "a"));
        assert_ne!(digest(b"p", "a"), digest(b"q", "a"));
        assert_ne!(digest(b"p", "a"), digest(b"p", "b"));
        assert_eq!(digest(b"p", "a").len(), 32);
    }
}
