//! `tok jwt verify`: signature and claims against a key, with the algorithm pinned
//! to the key type. Exit 0 when valid, 4 with the reason when not, 2 when malformed.

use super::decode::TokenView;
use super::{TokenInput, key_error, parse_alg};
use crate::cli::Ctx;
use crate::duration::{now, parse_duration};
use crate::error::{Error, Result};
use crate::jwt::{Algorithm, VerifyKey, VerifyOptions, verify};
use crate::keys::{
    KeyError, parse_jwks, parse_private_key, parse_public_key, parse_secret_key, read_keyref,
};

#[derive(Debug, clap::Args)]
#[command(
    group = clap::ArgGroup::new("key").required(true).args(["secret_key", "public_key", "jwks"]),
    after_long_help = "\
KEYREF is file:///path, data:;base64,<b64>, a path, or a bare base64 string — the forms
a Pulsar broker accepts; file bytes are used exactly as stored.

Exit status: 0 valid; 4 rejected (bad signature, expired, not yet valid, wrong audience or
issuer, algorithm not allowed for this key, missing required claim); 2 malformed token or key.

JSON output (-o json): the decoded token plus \"verified_with\": the algorithm.
  {\"header\", \"claims\", \"expires_at\", \"expired\", \"issued_at\", \"not_before\", \"verified_with\"}
On rejection, stderr carries {\"error\":{\"code\":\"bad_signature|expired|not_yet_valid|
wrong_audience|wrong_issuer|algorithm_not_allowed|unknown_kid|invalid_claim|missing_claim\",…}}.

Examples:
  tok jwt verify \"$TOKEN\" --public-key file:///etc/pulsar/public.key
  tok jwt verify - --secret-key data:;base64,$(cat secret.b64) --audience urn:pulsar:prod < token
  tok jwt verify \"$TOKEN\" --jwks ./jwks.json --require exp")]
pub struct VerifyArgs {
    #[command(flatten)]
    pub input: TokenInput,

    /// HMAC secret key (raw bytes), for HS256/384/512 tokens
    #[arg(long, value_name = "KEYREF")]
    pub secret_key: Option<String>,

    /// RSA or EC public key (X.509 DER or PEM), for RS*/ES* tokens
    #[arg(long, value_name = "KEYREF")]
    pub public_key: Option<String>,

    /// A JSON Web Key Set; the token's `kid` picks the key
    #[arg(long, value_name = "KEYREF")]
    pub jwks: Option<String>,

    /// Accept only this algorithm (default: any the key type allows)
    #[arg(long, value_parser = parse_alg, value_name = "ALG")]
    pub alg: Option<Algorithm>,

    /// Require this `aud` (a string, or one of the strings of an array)
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,

    /// Require this `iss`
    #[arg(long, value_name = "ISS")]
    pub issuer: Option<String>,

    /// Clock skew tolerated on exp and nbf: seconds, or a duration such as 30s or 2m
    #[arg(long, default_value = "0", value_name = "DURATION")]
    pub leeway: String,

    /// A claim that must be present, e.g. `--require exp` (repeatable)
    #[arg(long = "require", value_name = "CLAIM")]
    pub required: Vec<String>,
}

pub fn run(ctx: &Ctx, args: &VerifyArgs) -> Result<()> {
    let keys = load_keys(args)?;
    let leeway = parse_leeway(&args.leeway)?;
    let token = args.input.read()?;
    let opts = VerifyOptions {
        algorithms: args.alg.map(|a| vec![a]),
        audience: args.audience.clone(),
        issuer: args.issuer.clone(),
        leeway,
        required: args.required.clone(),
        now: now(),
    };
    let verified = verify(&token, &keys, &opts)?;
    let mut view = TokenView::new(verified.header, verified.claims, opts.now);
    view.verified_with = Some(verified.algorithm.to_string());
    ctx.out.item(&view)
}

fn load_keys(args: &VerifyArgs) -> Result<Vec<VerifyKey>> {
    let read = |flag: &str, r: &str| read_keyref(r).map_err(|e| key_error(flag, &e));
    let single = |key| Ok(vec![VerifyKey { kid: None, key }]);
    if let Some(r) = &args.secret_key {
        let key = parse_secret_key(&read("--secret-key", r)?)
            .and_then(|k| k.public_key())
            .map_err(|e| key_error("--secret-key", &e))?;
        return single(key);
    }
    if let Some(r) = &args.public_key {
        let bytes = read("--public-key", r)?;
        // A private key is accepted too: its public half verifies.
        let key = parse_public_key(&bytes)
            .or_else(|e| match parse_private_key(&bytes) {
                Ok(private) => private.public_key(),
                Err(_) => Err(e),
            })
            .map_err(|e| key_error("--public-key", &e))?;
        return single(key);
    }
    if let Some(r) = &args.jwks {
        return parse_jwks(&read("--jwks", r)?).map_err(|e| key_error("--jwks", &e));
    }
    Err(key_error(
        "no key",
        &KeyError::Invalid("give --secret-key, --public-key or --jwks".into()),
    ))
}

fn parse_leeway(s: &str) -> Result<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u32>() {
        return Ok(i64::from(secs));
    }
    parse_duration(s)
        .and_then(|secs| i64::try_from(secs).map_err(|_| "too large".to_string()))
        .map_err(|e| Error::usage(format!("--leeway: {e}")))
}
