//! `tok jwt decode`: header, claims and what they mean. Never checks the signature
//! and never touches the network.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{TokenInput, malformed};
use crate::cli::Ctx;
use crate::duration::{now, relative, rfc3339};
use crate::error::Result;
use crate::jwt::{decode, numeric_date};
use crate::output::{Output, Render, Style, grid};

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
JSON output (-o json):
  {\"header\": {…}, \"claims\": {…}, \"expires_at\": RFC 3339 or null, \"expired\": bool,
   \"issued_at\": RFC 3339 or null, \"not_before\": RFC 3339 or null}

Examples:
  tok jwt decode eyJhbGciOi…
  pbpaste | tok jwt decode -
  tok jwt decode --file token.txt -o json | jq .claims.sub")]
pub struct DecodeArgs {
    #[command(flatten)]
    pub input: TokenInput,
}

/// A decoded token as printed by `decode` (and by `verify` once it checks out).
#[derive(Debug, Serialize)]
pub struct TokenView {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub expires_at: Option<String>,
    pub expired: bool,
    pub issued_at: Option<String>,
    pub not_before: Option<String>,
    /// The verified algorithm; only `verify` sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_with: Option<String>,
    #[serde(skip)]
    now: i64,
}

impl TokenView {
    pub fn new(header: Map<String, Value>, claims: Map<String, Value>, now: i64) -> TokenView {
        let date = |name: &str| numeric_date(&claims, name).ok().flatten();
        let exp = date("exp");
        TokenView {
            expires_at: exp.and_then(rfc3339),
            expired: exp.is_some_and(|e| now >= e),
            issued_at: date("iat").and_then(rfc3339),
            not_before: date("nbf").and_then(rfc3339),
            verified_with: None,
            header,
            claims,
            now,
        }
    }

    fn meaning(&self, name: &str, value: &Value) -> String {
        let when = |verb: &str| match numeric_date(&self.claims, name) {
            Ok(Some(t)) => format!(
                "{verb} {} ({})",
                rfc3339(t).unwrap_or_else(|| "out of range".into()),
                relative(t, self.now)
            ),
            _ => format!("not a NumericDate ({value}): brokers reject this token"),
        };
        match name {
            "sub" => "subject: the role a Pulsar broker authorizes".into(),
            "aud" => "audience: the cluster (instance) this token is for".into(),
            "iss" => "issuer".into(),
            "jti" => "token id".into(),
            "iat" => when("issued"),
            "nbf" => when("not valid before"),
            "exp" => when("expires"),
            _ => String::new(),
        }
    }

    fn status(&self) -> (String, Style) {
        match numeric_date(&self.claims, "exp") {
            Ok(Some(exp)) if self.now >= exp => {
                (format!("EXPIRED {}", relative(exp, self.now)), Style::Error)
            }
            Ok(Some(exp)) if exp - self.now < 7 * 86_400 => (
                format!("valid, expires {}", relative(exp, self.now)),
                Style::Warn,
            ),
            Ok(Some(exp)) => (
                format!("valid, expires {}", relative(exp, self.now)),
                Style::Good,
            ),
            Ok(None) => ("never expires (no exp claim)".into(), Style::Warn),
            Err(e) => (format!("invalid: {e}"), Style::Error),
        }
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Render for TokenView {
    fn columns() -> &'static [&'static str] {
        &["subject", "audience", "expires_at", "expired"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.claims.get("sub").map(show).unwrap_or_default(),
            self.claims.get("aud").map(show).unwrap_or_default(),
            self.expires_at.clone().unwrap_or_default(),
            self.expired.to_string(),
        ]
    }

    fn table(&self, out: &Output) -> String {
        let mut rows: Vec<Vec<String>> = vec![vec![Style::Bold.paint("Header", out.color)]];
        for (k, v) in &self.header {
            rows.push(vec![format!("  {k}"), show(v), String::new()]);
        }
        rows.push(vec![Style::Bold.paint("Claims", out.color)]);
        for (k, v) in &self.claims {
            rows.push(vec![format!("  {k}"), show(v), self.meaning(k, v)]);
        }
        let (status, style) = self.status();
        let signature = match &self.verified_with {
            Some(alg) => Style::Good.paint(&format!("valid ({alg})"), out.color),
            None => "not checked (use `tok jwt verify` with the key)".into(),
        };
        format!(
            "{}\n\nStatus:     {}\nSignature:  {signature}",
            grid(&rows),
            style.paint(&status, out.color)
        )
    }
}

pub fn run(ctx: &Ctx, args: &DecodeArgs) -> Result<()> {
    let token = args.input.read()?;
    let decoded = decode(&token).map_err(|e| malformed(&e))?;
    let view = TokenView::new(decoded.header, decoded.claims, now());
    ctx.out.item(&view)
}
