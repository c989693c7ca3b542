//! JSON Web Tokens without a network: decode, sign and verify with keys parsed once.
//! Algorithms are pinned to the key type; `none` is never accepted.

mod alg;
mod decode;
mod sign;
mod verify;

pub use alg::{Algorithm, Family};
pub use decode::{DecodeError, Decoded, Part, clean_input, decode, numeric_date};
pub use sign::{Signer, check_algorithm};
pub use verify::{Verified, VerifyError, VerifyKey, VerifyOptions, verify};

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// base64url as JWS uses it: no padding written, padding tolerated when read.
pub const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
