//! `tok jwt create-secret-key` and `create-key-pair`: key files a Pulsar broker loads
//! as they are. Private keys are written mode 0600 and nothing is overwritten
//! without `--force`.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::{key_error, parse_alg};
use crate::cli::Ctx;
use crate::credentials::write_private;
use crate::error::{Error, Result};
use crate::jwt::{Algorithm, Family};
use crate::keys::{generate_key_pair, generate_secret};
use crate::output::Render;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
--output FILE writes the key to FILE instead of printing it.
Without --output the key is printed base64-encoded (raw bytes never go to a terminal);
use it as --secret-key data:;base64,<key> or tokenSecretKey=data:;base64,<key>.
With --output the file holds the raw bytes (or base64 text with --base64), mode 0600.

JSON output (-o json):
  {\"algorithm\", \"bytes\", \"key\": base64 (only without --output), \"path\": file or null,
   \"encoding\": \"raw\"|\"base64\"}

Examples:
  tok jwt create-secret-key --output /etc/pulsar/secret.key      # tokenSecretKey=file:///etc/pulsar/secret.key
  tok jwt create-secret-key --alg HS512")]
pub struct SecretKeyArgs {
    // `--output FILE` is the global -o/--output option: a value that is not a format names
    // the key file, as in `pulsar tokens create-secret-key --output FILE`.
    /// Size the key for this algorithm: 32 bytes for HS256, 48 for HS384, 64 for HS512
    #[arg(long, value_parser = parse_alg, default_value = "HS256", value_name = "ALG")]
    pub alg: Algorithm,

    /// Write base64 text to the --output file instead of raw bytes
    #[arg(long)]
    pub base64: bool,

    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Writes the private key as PKCS#8 and the public key as X.509 SubjectPublicKeyInfo — DER by
default, exactly what `pulsar tokens create-key-pair` writes and a broker loads with
tokenPublicKey=file:///path. RSA sizes: 2048 bits (RS256), 3072 (RS384), 4096 (RS512).

JSON output (-o json):
  {\"algorithm\", \"format\": \"der\"|\"pem\", \"private_key\": path, \"public_key\": path}

Examples:
  tok jwt create-key-pair --private-key my-private.key --public-key my-public.key
  tok jwt create-key-pair --alg ES256 --private-key p.key --public-key pub.key --format pem")]
pub struct KeyPairArgs {
    /// RS256, RS384, RS512, ES256, ES384 or ES512
    #[arg(long, value_parser = parse_alg, default_value = "RS256", value_name = "ALG")]
    pub alg: Algorithm,

    /// Where to write the private key (mode 0600)
    #[arg(long, value_name = "FILE")]
    pub private_key: PathBuf,

    /// Where to write the public key
    #[arg(long, value_name = "FILE")]
    pub public_key: PathBuf,

    /// File encoding
    #[arg(long, value_enum, default_value_t = KeyFormat::Der)]
    pub format: KeyFormat,

    /// Overwrite existing files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyFormat {
    /// Binary DER, as Pulsar writes and reads it
    Der,
    /// PEM text ("BEGIN PRIVATE KEY" / "BEGIN PUBLIC KEY")
    Pem,
}

#[derive(Debug, Serialize)]
struct SecretKeyView {
    algorithm: String,
    bytes: usize,
    key: Option<String>,
    path: Option<String>,
    encoding: &'static str,
}

impl Render for SecretKeyView {
    fn columns() -> &'static [&'static str] {
        &["algorithm", "bytes", "key", "path", "encoding"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.algorithm.clone(),
            self.bytes.to_string(),
            self.key.clone().unwrap_or_default(),
            self.path.clone().unwrap_or_default(),
            self.encoding.to_string(),
        ]
    }
    fn table(&self, _: &crate::output::Output) -> String {
        self.key.clone().unwrap_or_default()
    }
}

#[derive(Debug, Serialize)]
struct KeyPairView {
    algorithm: String,
    format: KeyFormat,
    private_key: String,
    public_key: String,
}

impl Render for KeyPairView {
    fn columns() -> &'static [&'static str] {
        &["algorithm", "format", "private_key", "public_key"]
    }
    fn cells(&self) -> Vec<String> {
        let format = match self.format {
            KeyFormat::Der => "der",
            KeyFormat::Pem => "pem",
        };
        vec![
            self.algorithm.clone(),
            format.into(),
            self.private_key.clone(),
            self.public_key.clone(),
        ]
    }
}

pub fn secret_key(ctx: &Ctx, args: &SecretKeyArgs) -> Result<()> {
    if args.alg.family() != Family::Hmac {
        return Err(Error::usage(format!(
            "--alg {}: a secret key is for HS256, HS384 or HS512; use `tok jwt create-key-pair` \
             for {}",
            args.alg, args.alg
        )));
    }
    let key = generate_secret(args.alg).map_err(|e| key_error("key generation", &e))?;
    let encoded = STANDARD.encode(&key);
    let Some(path) = ctx.global.output_file() else {
        return ctx.out.item(&SecretKeyView {
            algorithm: args.alg.to_string(),
            bytes: key.len(),
            key: Some(encoded),
            path: None,
            encoding: "base64",
        });
    };
    check_writable(path, args.force)?;
    let contents = if args.base64 {
        encoded.as_bytes()
    } else {
        &key[..]
    };
    write_private(path, contents).map_err(|e| write_error(path, &e))?;
    let shown = absolute(path);
    ctx.out.info(&format!(
        "wrote a {}-byte {} secret key to {shown} (mode 0600{})",
        key.len(),
        args.alg,
        if args.base64 {
            ", base64 text"
        } else {
            ", raw bytes"
        }
    ));
    if !args.base64 {
        ctx.out.hint(&format!(
            "brokers load it with tokenSecretKey=file://{shown}; sign with --secret-key file://{shown}"
        ));
    }
    if ctx.out.format == crate::output::Format::Table {
        return Ok(());
    }
    ctx.out.item(&SecretKeyView {
        algorithm: args.alg.to_string(),
        bytes: key.len(),
        key: None,
        path: Some(shown),
        encoding: if args.base64 { "base64" } else { "raw" },
    })
}

pub fn key_pair(ctx: &Ctx, args: &KeyPairArgs) -> Result<()> {
    if args.alg.family() == Family::Hmac {
        return Err(Error::usage(format!(
            "--alg {}: HMAC uses a secret key, not a key pair; use `tok jwt create-secret-key \
             --alg {}`, or pick RS256, RS384, RS512, ES256, ES384 or ES512",
            args.alg, args.alg
        )));
    }
    if args.private_key == args.public_key {
        return Err(Error::usage(
            "--private-key and --public-key name the same file",
        ));
    }
    check_writable(&args.private_key, args.force)?;
    check_writable(&args.public_key, args.force)?;
    let (private, public) =
        generate_key_pair(args.alg).map_err(|e| key_error("key generation", &e))?;
    let (private, public) = match args.format {
        KeyFormat::Der => (private, public),
        KeyFormat::Pem => (
            pem::encode(&pem::Pem::new("PRIVATE KEY", private)).into_bytes(),
            pem::encode(&pem::Pem::new("PUBLIC KEY", public)).into_bytes(),
        ),
    };
    write_private(&args.private_key, &private).map_err(|e| write_error(&args.private_key, &e))?;
    std::fs::write(&args.public_key, &public).map_err(|e| write_error(&args.public_key, &e))?;
    let (private_path, public_path) = (absolute(&args.private_key), absolute(&args.public_key));
    ctx.out.info(&format!(
        "wrote a {} private key to {private_path} (PKCS#8, mode 0600) and its public key to \
         {public_path} (X.509)",
        args.alg
    ));
    ctx.out.hint(&format!(
        "brokers verify with tokenPublicKey=file://{public_path}{}",
        if args.alg == Algorithm::RS256 {
            String::new()
        } else {
            format!(" and tokenPublicAlg={}", args.alg)
        }
    ));
    if ctx.out.format == crate::output::Format::Table {
        return Ok(());
    }
    ctx.out.item(&KeyPairView {
        algorithm: args.alg.to_string(),
        format: args.format,
        private_key: private_path,
        public_key: public_path,
    })
}

/// Refuses to replace an existing file unless `--force` was given.
fn check_writable(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(
            Error::conflict(format!("{} already exists", path.display()))
                .with_code("file_exists")
                .with_hint("pass --force to overwrite it, or choose another path"),
        );
    }
    if path.is_dir() {
        return Err(Error::usage(format!("{} is a directory", path.display())));
    }
    Ok(())
}

fn write_error(path: &Path, e: &std::io::Error) -> Error {
    Error::other(format!("cannot write {}: {e}", path.display()))
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
