//! `tok jwt create`: mint a token offline, as `pulsar tokens create` does.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{key_error, parse_alg};
use crate::cli::Ctx;
use crate::duration::{Expiry, now, parse_expiry, rfc3339};
use crate::error::{Error, Result};
use crate::jwt::{Algorithm, Signer};
use crate::keys::{parse_private_key, parse_secret_key, read_keyref};
use crate::output::Render;

#[derive(Debug, clap::Args)]
#[command(
    group = clap::ArgGroup::new("key").required(true).args(["secret_key", "private_key"]),
    after_long_help = "\
KEYREF is file:///path, data:;base64,<b64>, a path, or a bare base64 string.
With a secret key and no --alg, the algorithm follows the key length (64 bytes or more:
HS512; 48: HS384; else HS256), as `pulsar tokens create` does.

The token goes to stdout alone (table output), ready for `TOKEN=$(tok jwt create …)`.
JSON output (-o json):
  {\"token\", \"algorithm\", \"header\": {…}, \"claims\": {…}, \"expires_at\": RFC 3339 or null}

Examples:
  tok jwt create --subject admin --secret-key file:///etc/pulsar/secret.key
  tok jwt create --subject app-1 --secret-key data:;base64,<b64> --expires 1h
  tok jwt create --subject app-1 --private-key p.key --alg RS256 --audience urn:pulsar:prod \\
      --claim tier=\\\"gold\\\" --claim admin=true --header kid=2026-11")]
pub struct CreateArgs {
    /// The `sub` claim: the role a Pulsar broker authorizes
    #[arg(long, value_name = "ROLE")]
    pub subject: String,

    /// HMAC secret key (raw bytes, at least 32)
    #[arg(long, value_name = "KEYREF")]
    pub secret_key: Option<String>,

    /// RSA (≥ 2048 bits) or EC private key, PKCS#8 DER or PEM
    #[arg(long, value_name = "KEYREF")]
    pub private_key: Option<String>,

    /// Signing algorithm; must fit the key [default: from the key]
    #[arg(long, value_parser = parse_alg, value_name = "ALG")]
    pub alg: Option<Algorithm>,

    /// When the token expires: 30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`
    #[arg(long, default_value = "30d", value_name = "DURATION")]
    pub expires: String,

    /// The `aud` claim (a broker with tokenAudience set requires it)
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,

    /// The `iss` claim
    #[arg(long, value_name = "ISS")]
    pub issuer: Option<String>,

    /// An extra claim, KEY=VALUE; VALUE is parsed as JSON when it can be (true, 42, "x", [1])
    #[arg(long = "claim", value_name = "KEY=VALUE")]
    pub claims: Vec<String>,

    /// An extra header field, KEY=VALUE (e.g. kid=2026-11), parsed like --claim
    #[arg(long = "header", value_name = "KEY=VALUE")]
    pub headers: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Created {
    token: String,
    algorithm: String,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    expires_at: Option<String>,
}

impl Render for Created {
    fn columns() -> &'static [&'static str] {
        &["token", "algorithm", "expires_at"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.token.clone(),
            self.algorithm.clone(),
            self.expires_at.clone().unwrap_or_default(),
        ]
    }
    fn table(&self, _: &crate::output::Output) -> String {
        self.token.clone()
    }
}

pub fn run(ctx: &Ctx, args: &CreateArgs) -> Result<()> {
    let now = now();
    let expiry = parse_expiry(&args.expires, now).map_err(Error::usage)?;
    let mut claims = Map::new();
    if args.subject.trim().is_empty() {
        return Err(Error::usage(
            "--subject is empty; give the role the token is for",
        ));
    }
    claims.insert("sub".into(), Value::from(args.subject.clone()));
    if let Some(aud) = &args.audience {
        claims.insert("aud".into(), Value::from(aud.clone()));
    }
    if let Some(iss) = &args.issuer {
        claims.insert("iss".into(), Value::from(iss.clone()));
    }
    claims.insert("iat".into(), Value::from(now));
    if let Expiry::At(exp) = expiry {
        claims.insert("exp".into(), Value::from(exp));
    }
    for pair in &args.claims {
        let (k, v) = key_value("--claim", pair)?;
        // `exp` is reserved even with `--expires never`, so it always passes the expiry checks.
        if claims.contains_key(&k) || k == "exp" {
            return Err(Error::usage(format!(
                "--claim {k}=… would replace the '{k}' claim; set it with --subject, --audience, \
                 --issuer or --expires instead"
            )));
        }
        claims.insert(k, v);
    }
    let mut header = Map::new();
    for pair in &args.headers {
        let (k, v) = key_value("--header", pair)?;
        if k == "alg" || k == "typ" {
            return Err(Error::usage(format!(
                "--header {k}=… is not allowed: 'alg' follows the key (use --alg) and 'typ' is JWT"
            )));
        }
        // A key id is a string (RFC 7515 §4.1.4), even when it looks like a number.
        let v = match (k.as_str(), v) {
            ("kid", Value::String(s)) => Value::String(s),
            ("kid", other) => Value::String(other.to_string()),
            (_, v) => v,
        };
        header.insert(k, v);
    }
    let signer = signer(args)?;
    let token = signer
        .sign(&header, &claims)
        .map_err(|e| key_error("signing failed", &e))?;
    if expiry == Expiry::Never {
        ctx.out.warn(
            "this token never expires (no exp claim): it stays valid until the key is rotated",
        );
    }
    // The header as signed (alg and typ first); decoding what we just encoded cannot fail.
    let header = crate::jwt::decode(&token)
        .map(|d| d.header)
        .unwrap_or_default();
    ctx.out.item(&Created {
        token,
        algorithm: signer.algorithm().to_string(),
        header,
        claims,
        expires_at: match expiry {
            Expiry::At(t) => rfc3339(t),
            Expiry::Never => None,
        },
    })
}

fn signer(args: &CreateArgs) -> Result<Signer> {
    let (flag, key) = match (&args.secret_key, &args.private_key) {
        (Some(r), _) => {
            let bytes = read_keyref(r).map_err(|e| key_error("--secret-key", &e))?;
            ("--secret-key", parse_secret_key(&bytes))
        }
        (None, Some(r)) => {
            let bytes = read_keyref(r).map_err(|e| key_error("--private-key", &e))?;
            ("--private-key", parse_private_key(&bytes))
        }
        (None, None) => return Err(Error::usage("give --secret-key or --private-key")),
    };
    let key = key.map_err(|e| key_error(flag, &e))?;
    Signer::new(key, args.alg).map_err(|e| key_error("--alg", &e))
}

/// `KEY=VALUE` with VALUE parsed as JSON when it parses, else kept as a string.
fn key_value(flag: &str, pair: &str) -> Result<(String, Value)> {
    let (k, v) = pair
        .split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .ok_or_else(|| Error::usage(format!("{flag} '{pair}' is not KEY=VALUE")))?;
    let value = serde_json::from_str(v).unwrap_or_else(|_| Value::from(v));
    Ok((k.trim().to_string(), value))
}
