//! Parsing and generating signing keys: HMAC secrets as raw bytes, RSA and EC
//! private keys as PKCS#8 DER, public keys as X.509 SubjectPublicKeyInfo DER.
//! PEM is accepted wherever DER is.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{KeySize, PublicKey as RsaPublic};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, ParsedPublicKey, RsaKeyPair};
use aws_lc_rs::{hmac, signature::EcdsaSigningAlgorithm};

use super::KeyError;
use crate::jwt::{Algorithm, Family};

/// The smallest HMAC key, in bytes, each HS algorithm accepts (as jjwt enforces).
pub fn min_secret_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS512 => 64,
        Algorithm::HS384 => 48,
        _ => 32,
    }
}

/// A key that signs: an HMAC secret, or an RSA or EC private key.
pub enum PrivateKey {
    Hmac(Vec<u8>),
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, Algorithm),
}

/// A key that verifies: an HMAC secret, or an RSA or EC public key parsed once per algorithm.
pub enum PublicKey {
    /// An HMAC secret; `only` pins one algorithm (a JWK's `alg`), else the key length decides.
    Hmac {
        key: Vec<u8>,
        only: Option<Algorithm>,
    },
    Asymmetric {
        family: Family,
        /// X.509 SubjectPublicKeyInfo DER.
        spki: Vec<u8>,
        parsed: Vec<(Algorithm, ParsedPublicKey)>,
    },
}

/// Reads a raw HMAC secret (bytes used exactly as given).
pub fn parse_secret_key(bytes: &[u8]) -> Result<PrivateKey, KeyError> {
    if looks_like_pem(bytes) {
        return Err(KeyError::Invalid(
            "this is a PEM key, not an HMAC secret; pass it with --private-key or --public-key"
                .into(),
        ));
    }
    if bytes.len() < 32 {
        return Err(KeyError::Invalid(format!(
            "the HMAC secret key is {} bytes; HS256 needs at least 32, HS384 48, HS512 64 \
             (create one with `tok jwt create-secret-key`)",
            bytes.len()
        )));
    }
    Ok(PrivateKey::Hmac(bytes.to_vec()))
}

/// Reads an RSA (≥ 2048 bits) or EC (P-256/384/521) private key: PKCS#8 DER or PEM,
/// or PKCS#1 / SEC1 PEM.
pub fn parse_private_key(bytes: &[u8]) -> Result<PrivateKey, KeyError> {
    let (der, label) = der_of(bytes)?;
    if label.as_deref() == Some("PUBLIC KEY") {
        return Err(KeyError::Invalid(
            "this is a public key; signing needs the private key".into(),
        ));
    }
    if let Ok(k) = RsaKeyPair::from_pkcs8(&der).or_else(|_| RsaKeyPair::from_der(&der)) {
        return Ok(PrivateKey::Rsa(k));
    }
    for (alg, signing) in EC_SIGNING {
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(signing, &der)
            .or_else(|_| EcdsaKeyPair::from_private_key_der(signing, &der))
        {
            return Ok(PrivateKey::Ec(k, alg));
        }
    }
    if parse_public_key(&der).is_ok() {
        return Err(KeyError::Invalid(
            "this is a public key; signing needs the private key".into(),
        ));
    }
    if is_rsa_der(&der) {
        return Err(KeyError::Invalid(
            "the RSA private key was rejected: RSA keys must be at least 2048 bits".into(),
        ));
    }
    Err(KeyError::Invalid(
        "not a private key tok can use: expected PKCS#8 DER or PEM holding an RSA key \
         (≥ 2048 bits) or an EC key on P-256, P-384 or P-521"
            .into(),
    ))
}

/// Reads an RSA or EC public key: X.509 SubjectPublicKeyInfo DER or PEM (PKCS#1 RSA accepted).
pub fn parse_public_key(bytes: &[u8]) -> Result<PublicKey, KeyError> {
    let (der, label) = der_of(bytes)?;
    if label.as_deref().is_some_and(|l| l.contains("PRIVATE")) {
        return Err(KeyError::Invalid(
            "this is a private key; pass it with --private-key, or pass its public key here".into(),
        ));
    }
    if let Ok(rsa) = RsaPublic::from_der(&der) {
        let bits = rsa.modulus_len() * 8;
        if bits < 2048 {
            return Err(KeyError::Invalid(format!(
                "the RSA key is {bits} bits; at least 2048 are required"
            )));
        }
        let spki = rsa
            .as_der()
            .map_err(|_| KeyError::Invalid("cannot encode the RSA public key".into()))?;
        return asymmetric(Family::Rsa, spki.as_ref(), &RSA_VERIFY);
    }
    for (alg, verify) in EC_VERIFY {
        if ParsedPublicKey::new(verify, &der).is_ok() {
            return asymmetric(Family::Ec, &der, &[(alg, verify)]);
        }
    }
    Err(KeyError::Invalid(
        "not a public key tok can use: expected X.509 SubjectPublicKeyInfo DER or PEM \
         holding an RSA key (≥ 2048 bits) or an EC key on P-256, P-384 or P-521"
            .into(),
    ))
}

/// Generates a random HMAC secret sized for `alg`.
pub fn generate_secret(alg: Algorithm) -> Result<Vec<u8>, KeyError> {
    let mut bytes = vec![0u8; min_secret_len(alg)];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| KeyError::Invalid("the system random generator failed".into()))?;
    Ok(bytes)
}

/// Generates a key pair for `alg`: (PKCS#8 private DER, X.509 SPKI public DER).
/// RSA sizes follow jjwt: 2048 bits for RS256, 3072 for RS384, 4096 for RS512.
pub fn generate_key_pair(alg: Algorithm) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let failed = |_| KeyError::Invalid(format!("cannot generate a {alg} key pair"));
    match alg.family() {
        Family::Hmac => Err(KeyError::Invalid(format!(
            "{alg} uses a secret key, not a key pair; use `tok jwt create-secret-key`"
        ))),
        Family::Rsa => {
            let size = match alg {
                Algorithm::RS384 => KeySize::Rsa3072,
                Algorithm::RS512 => KeySize::Rsa4096,
                _ => KeySize::Rsa2048,
            };
            let pair = RsaKeyPair::generate(size).map_err(failed)?;
            let private: Pkcs8V1Der = pair.as_der().map_err(failed)?;
            let public: PublicKeyX509Der = pair.public_key().as_der().map_err(failed)?;
            Ok((private.as_ref().to_vec(), public.as_ref().to_vec()))
        }
        Family::Ec => {
            let signing = EC_SIGNING
                .iter()
                .find(|(a, _)| *a == alg)
                .map(|(_, s)| *s)
                .ok_or_else(|| KeyError::Invalid(format!("no curve for {alg}")))?;
            let pair = EcdsaKeyPair::generate(signing).map_err(failed)?;
            let private = pair.to_pkcs8v1().map_err(failed)?;
            let public: PublicKeyX509Der = pair.public_key().as_der().map_err(failed)?;
            Ok((private.as_ref().to_vec(), public.as_ref().to_vec()))
        }
    }
}

impl PrivateKey {
    pub fn family(&self) -> Family {
        match self {
            PrivateKey::Hmac(_) => Family::Hmac,
            PrivateKey::Rsa(_) => Family::Rsa,
            PrivateKey::Ec(..) => Family::Ec,
        }
    }

    /// The algorithms this key can sign with.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        match self {
            PrivateKey::Hmac(k) => hmac_algorithms(k.len()),
            PrivateKey::Rsa(_) => vec![Algorithm::RS256, Algorithm::RS384, Algorithm::RS512],
            PrivateKey::Ec(_, alg) => vec![*alg],
        }
    }

    /// The algorithm used when none is asked for: HS by key length (as `pulsar tokens
    /// create` does), RS256 for RSA, the curve's ES algorithm for EC.
    pub fn default_algorithm(&self) -> Algorithm {
        match self {
            PrivateKey::Hmac(k) if k.len() >= 64 => Algorithm::HS512,
            PrivateKey::Hmac(k) if k.len() >= 48 => Algorithm::HS384,
            PrivateKey::Hmac(_) => Algorithm::HS256,
            PrivateKey::Rsa(_) => Algorithm::RS256,
            PrivateKey::Ec(_, alg) => *alg,
        }
    }

    /// The verifying half of this key.
    pub fn public_key(&self) -> Result<PublicKey, KeyError> {
        let failed = |_| KeyError::Invalid("cannot encode the public key".into());
        let spki = match self {
            PrivateKey::Hmac(k) => {
                return Ok(PublicKey::Hmac {
                    key: k.clone(),
                    only: None,
                });
            }
            PrivateKey::Rsa(p) => p.public_key().as_der().map_err(failed)?.as_ref().to_vec(),
            PrivateKey::Ec(p, _) => p.public_key().as_der().map_err(failed)?.as_ref().to_vec(),
        };
        parse_public_key(&spki)
    }

    /// Signs `message` with `alg`, which must be one of `algorithms()`.
    pub fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |_| KeyError::Invalid(format!("signing with {alg} failed"));
        match (self, alg) {
            (PrivateKey::Hmac(k), _) if self.algorithms().contains(&alg) => {
                let key = hmac::Key::new(hmac_alg(alg), k);
                Ok(hmac::sign(&key, message).as_ref().to_vec())
            }
            (PrivateKey::Rsa(pair), _) if alg.family() == Family::Rsa => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(rsa_padding(alg), &SystemRandom::new(), message, &mut sig)
                    .map_err(failed)?;
                Ok(sig)
            }
            (PrivateKey::Ec(pair, own), _) if *own == alg => Ok(pair
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            _ => Err(mismatch(alg, self.family(), &self.algorithms())),
        }
    }
}

impl PublicKey {
    pub fn family(&self) -> Family {
        match self {
            PublicKey::Hmac { .. } => Family::Hmac,
            PublicKey::Asymmetric { family, .. } => *family,
        }
    }

    /// The algorithms this key can verify.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        match self {
            PublicKey::Hmac { key, only } => hmac_algorithms(key.len())
                .into_iter()
                .filter(|a| only.is_none_or(|o| o == *a))
                .collect(),
            PublicKey::Asymmetric { parsed, .. } => parsed.iter().map(|(a, _)| *a).collect(),
        }
    }

    /// Whether `signature` over `message` verifies under `alg` (constant-time for HMAC).
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Hmac { key, .. } => {
                self.algorithms().contains(&alg)
                    && hmac::verify(&hmac::Key::new(hmac_alg(alg), key), message, signature).is_ok()
            }
            PublicKey::Asymmetric { parsed, .. } => parsed
                .iter()
                .find(|(a, _)| *a == alg)
                .is_some_and(|(_, key)| key.verify_sig(message, signature).is_ok()),
        }
    }

    /// The X.509 SubjectPublicKeyInfo DER of an RSA or EC key.
    pub fn spki(&self) -> Option<&[u8]> {
        match self {
            PublicKey::Hmac { .. } => None,
            PublicKey::Asymmetric { spki, .. } => Some(spki),
        }
    }
}

/// The error for a key that cannot be used with `alg`.
pub fn mismatch(alg: Algorithm, family: Family, allowed: &[Algorithm]) -> KeyError {
    let allowed: Vec<_> = allowed.iter().map(|a| a.as_str()).collect();
    let need = match alg.family() {
        Family::Hmac => format!(
            "{alg} needs an HMAC secret key of at least {} bytes",
            min_secret_len(alg)
        ),
        f => format!("{alg} needs {}", f.describe()),
    };
    KeyError::Invalid(format!(
        "{need}, but the key given is {}; it allows {}",
        family.describe(),
        if allowed.is_empty() {
            "nothing".into()
        } else {
            allowed.join(", ")
        }
    ))
}

const EC_SIGNING: [(Algorithm, &EcdsaSigningAlgorithm); 3] = [
    (
        Algorithm::ES256,
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    ),
    (
        Algorithm::ES384,
        &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
    ),
    (
        Algorithm::ES512,
        &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
    ),
];

const EC_VERIFY: [(Algorithm, &signature::EcdsaVerificationAlgorithm); 3] = [
    (Algorithm::ES256, &signature::ECDSA_P256_SHA256_FIXED),
    (Algorithm::ES384, &signature::ECDSA_P384_SHA384_FIXED),
    (Algorithm::ES512, &signature::ECDSA_P521_SHA512_FIXED),
];

const RSA_VERIFY: [(Algorithm, &signature::RsaParameters); 3] = [
    (Algorithm::RS256, &signature::RSA_PKCS1_2048_8192_SHA256),
    (Algorithm::RS384, &signature::RSA_PKCS1_2048_8192_SHA384),
    (Algorithm::RS512, &signature::RSA_PKCS1_2048_8192_SHA512),
];

fn asymmetric<A: signature::VerificationAlgorithm>(
    family: Family,
    spki: &[u8],
    algs: &[(Algorithm, &'static A)],
) -> Result<PublicKey, KeyError> {
    let parsed = algs
        .iter()
        .map(|(alg, v)| {
            ParsedPublicKey::new(*v, spki)
                .map(|p| (*alg, p))
                .map_err(|e| KeyError::Invalid(format!("the public key was rejected: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PublicKey::Asymmetric {
        family,
        spki: spki.to_vec(),
        parsed,
    })
}

fn hmac_algorithms(len: usize) -> Vec<Algorithm> {
    [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512]
        .into_iter()
        .filter(|a| len >= min_secret_len(*a))
        .collect()
}

fn hmac_alg(alg: Algorithm) -> hmac::Algorithm {
    match alg {
        Algorithm::HS384 => hmac::HMAC_SHA384,
        Algorithm::HS512 => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    }
}

fn rsa_padding(alg: Algorithm) -> &'static dyn signature::RsaEncoding {
    match alg {
        Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
        _ => &signature::RSA_PKCS1_SHA256,
    }
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(b"-----BEGIN ")
}

/// The DER bytes of a key given as DER or PEM, with the PEM label when there was one.
fn der_of(bytes: &[u8]) -> Result<(Vec<u8>, Option<String>), KeyError> {
    if !looks_like_pem(bytes) {
        return Ok((bytes.to_vec(), None));
    }
    let block = pem::parse(bytes)
        .map_err(|e| KeyError::Invalid(format!("the PEM key cannot be read: {e}")))?;
    let label = block.tag().to_string();
    if label == "CERTIFICATE" || label == "ENCRYPTED PRIVATE KEY" {
        return Err(KeyError::Invalid(format!(
            "a PEM '{label}' is not accepted; give the bare public key or an unencrypted private key"
        )));
    }
    Ok((block.into_contents(), Some(label)))
}

/// Whether DER bytes name the rsaEncryption algorithm (for a precise error).
fn is_rsa_der(der: &[u8]) -> bool {
    const RSA_OID: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
    ];
    der.windows(RSA_OID.len()).any(|w| w == RSA_OID)
}
