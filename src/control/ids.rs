//! Random identifiers: a type prefix and 128 bits from the system CSPRNG, hex-encoded.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// `prefix_` followed by 32 hex digits.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_hex(16))
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The system RNG failing is unrecoverable for a credential tool.
    SystemRandom::new()
        .fill(&mut bytes)
        .unwrap_or_else(|_| panic!("the system random number generator failed"));
    hex(&bytes)
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
