//! Private signing keys at rest: AES-256-GCM under a 256-bit master key, with a
//! random 96-bit nonce per seal and the key's identity as associated data, so a
//! sealed key cannot be swapped onto another instance unnoticed.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::{ControlError, ControlResult};

/// Length of a master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// Seals and opens key material under the master key.
pub struct Sealer {
    key: RandomizedNonceKey,
    /// The HMAC key opaque secrets are stored under, derived from the master key.
    pepper: [u8; 32],
}

impl Sealer {
    pub fn new(master_key: &[u8]) -> ControlResult<Sealer> {
        if master_key.len() != MASTER_KEY_LEN {
            return Err(ControlError::Crypto(format!(
                "the master key must be {MASTER_KEY_LEN} bytes, not {}",
                master_key.len()
            )));
        }
        let key = RandomizedNonceKey::new(&AES_256_GCM, master_key)
            .map_err(|_| ControlError::Crypto("the master key was rejected".into()))?;
        let derive = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, master_key);
        let tag = aws_lc_rs::hmac::sign(&derive, b"tok/opaque-secret-pepper/v1");
        let mut pepper = [0u8; 32];
        pepper.copy_from_slice(tag.as_ref());
        Ok(Sealer { key, pepper })
    }

    /// The server-side pepper for HMAC-stored secrets (never the master key itself).
    pub fn pepper(&self) -> &[u8] {
        &self.pepper
    }

    /// A new random master key, base64-encoded for the keyring or a file.
    pub fn generate_master_key() -> ControlResult<String> {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| ControlError::Crypto("the system random generator failed".into()))?;
        Ok(STANDARD.encode(bytes))
    }

    /// Decodes a base64 master key as stored.
    pub fn from_encoded(encoded: &str) -> ControlResult<Sealer> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| ControlError::Crypto("the stored master key is not base64".into()))?;
        Sealer::new(&bytes)
    }

    /// `nonce || ciphertext || tag`, bound to `context` (e.g. the key id).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> ControlResult<Vec<u8>> {
        let mut data = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| ControlError::Crypto("sealing the key failed".into()))?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&data);
        Ok(out)
    }

    /// Opens what `seal` produced with the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> ControlResult<Vec<u8>> {
        let failed = || {
            ControlError::Crypto(format!(
                "cannot decrypt the signing key '{context}': the master key does not match the \
                 one it was sealed with, or the database was altered"
            ))
        };
        if sealed.len() < NONCE_LEN {
            return Err(failed());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| failed())?;
        let mut data = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| failed())?;
        Ok(plain.to_vec())
    }
}

/// The master key as the control plane holds it: ready, or loaded on first use, so that
/// commands which never touch key material (listings) never ask the keyring.
pub struct MasterKey {
    cell: std::sync::OnceLock<Sealer>,
    load: Option<Loader>,
}

type Loader = Box<dyn Fn() -> ControlResult<Sealer> + Send + Sync>;

impl MasterKey {
    pub fn ready(sealer: Sealer) -> MasterKey {
        MasterKey {
            cell: std::sync::OnceLock::from(sealer),
            load: None,
        }
    }

    pub fn lazy(load: impl Fn() -> ControlResult<Sealer> + Send + Sync + 'static) -> MasterKey {
        MasterKey {
            cell: std::sync::OnceLock::new(),
            load: Some(Box::new(load)),
        }
    }

    /// The sealer, loading it the first time.
    pub fn get(&self) -> ControlResult<&Sealer> {
        if let Some(sealer) = self.cell.get() {
            return Ok(sealer);
        }
        let load = self
            .load
            .as_ref()
            .ok_or_else(|| ControlError::Crypto("no master key was configured".into()))?;
        let sealer = load()?;
        Ok(self.cell.get_or_init(|| sealer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_another_key_or_context() {
        let a = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
        let b = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
        let sealed = a.seal("kid-1", b"private key bytes").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"private"));
        assert_eq!(a.open("kid-1", &sealed).unwrap(), b"private key bytes");
        assert!(a.open("kid-2", &sealed).is_err());
        assert!(b.open("kid-1", &sealed).is_err());
        assert!(a.open("kid-1", &sealed[..5]).is_err());
    }
}
