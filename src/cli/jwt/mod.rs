//! `tok jwt`: an offline JWT toolkit, a drop-in for `pulsar tokens` and `pulsarctl token`.

mod create;
mod decode;
mod keygen;
mod verify;

use std::io::{IsTerminal, Read};

use clap::Subcommand;

use super::Ctx;
use crate::error::{Error, Result};
use crate::jwt::{Algorithm, DecodeError, VerifyError, clean_input};
use crate::keys::KeyError;

#[derive(Debug, Subcommand)]
pub enum JwtCommand {
    /// Show a token's header and claims and what they mean; the signature is not checked
    Decode(decode::DecodeArgs),
    /// Check a token's signature and claims against a key, as a broker would
    Verify(verify::VerifyArgs),
    /// Mint a token signed with a secret or private key
    Create(create::CreateArgs),
    /// Create a random HMAC secret key (HS256/384/512), as a broker's tokenSecretKey
    CreateSecretKey(keygen::SecretKeyArgs),
    /// Create an RSA or EC key pair: PKCS#8 private key and X.509 public key
    CreateKeyPair(keygen::KeyPairArgs),
}

pub fn run(ctx: &Ctx, cmd: JwtCommand) -> Result<()> {
    match cmd {
        JwtCommand::Decode(args) => decode::run(ctx, &args),
        JwtCommand::Verify(args) => verify::run(ctx, &args),
        JwtCommand::Create(args) => create::run(ctx, &args),
        JwtCommand::CreateSecretKey(args) => keygen::secret_key(ctx, &args),
        JwtCommand::CreateKeyPair(args) => keygen::key_pair(ctx, &args),
    }
}

/// Where a command reads its token from.
#[derive(Debug, clap::Args)]
pub struct TokenInput {
    /// The token; `-` reads it from stdin (also read when stdin is piped and no token is given).
    /// A `Bearer ` prefix and surrounding whitespace are ignored
    #[arg(value_name = "TOKEN|-")]
    pub token: Option<String>,

    /// Read the token from a file
    #[arg(long, value_name = "PATH", conflicts_with = "token")]
    pub file: Option<std::path::PathBuf>,
}

impl TokenInput {
    /// The token text, cleaned of whitespace and a `Bearer ` prefix.
    pub fn read(&self) -> Result<String> {
        let raw = match (&self.token, &self.file) {
            (Some(t), _) if t != "-" => t.clone(),
            (_, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                Error::usage(format!("cannot read token file {}: {e}", path.display()))
            })?,
            (Some(_), None) => read_stdin()?,
            (None, None) if !std::io::stdin().is_terminal() => read_stdin()?,
            (None, None) => {
                return Err(Error::usage("no token given").with_hint(
                    "pass the token as an argument, `-` to read stdin, or --file PATH",
                ));
            }
        };
        let token = clean_input(&raw);
        if token.is_empty() {
            return Err(malformed(&DecodeError::Empty));
        }
        Ok(token.to_string())
    }
}

fn read_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::usage(format!("cannot read the token from stdin: {e}")))?;
    Ok(text)
}

/// `--alg` values, with the accepted list in the error.
pub fn parse_alg(s: &str) -> std::result::Result<Algorithm, String> {
    s.parse()
}

pub fn malformed(e: &DecodeError) -> Error {
    Error::usage(format!("malformed token: {e}")).with_code("malformed_token")
}

pub fn key_error(what: &str, e: &KeyError) -> Error {
    Error::usage(format!("{what}: {e}")).with_code("invalid_key")
}

impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Self {
        match &e {
            VerifyError::Malformed(d) => malformed(d),
            _ => Error::denied(format!("token rejected: {e}")).with_code(e.code()),
        }
    }
}
