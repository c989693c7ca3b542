//! `tok token` (and the `tok create` shortcut): streaming tokens — Pulsar JWTs for a
//! tenant, shown once, stored only as metadata and a hash.

use clap::Subcommand;

use super::Ctx;
use crate::duration::{now, parse_expiry, relative, rfc3339};
use crate::error::{Error, Result};
use crate::jwt::{decode, numeric_date};
use crate::model::{CreateToken, Token};
use crate::output::{Output, Render, Style};

const TOKEN_JSON: &str = "\
JSON fields (-o json): id (also the JWT's jti), name, type (\"streaming\"), tenant, instance,
subject, roles ([] for streaming tokens), client_id (null), description, created_at,
expires_at (null: never), last_used_at, revoked_at; `create` adds token (shown only once).";

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a streaming token for a tenant; the token is shown only once
    #[command(after_long_help = TOKEN_JSON)]
    Create(CreateArgs),
    /// List tokens (live ones; --expired and --all show more)
    #[command(after_long_help = TOKEN_JSON)]
    List(ListArgs),
    /// Show a token's metadata (never the token itself)
    #[command(after_long_help = TOKEN_JSON)]
    Get {
        /// Token name or id
        name: String,
        #[arg(long, value_name = "TENANT")]
        tenant: String,
    },
    /// Revoke a token (asks you to type its name); it stays listed as revoked with --all
    #[command(visible_alias = "revoke")]
    Delete {
        /// Token name or id
        name: String,
        #[arg(long, value_name = "TENANT")]
        tenant: String,
    },
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  tok token create --tenant acme --expires 7d
  tok create --tenant acme --name ci-producer --expires 30d -o json
  TOKEN=$(tok token create --tenant acme --name ci --subject ci-producer -q)")]
pub struct CreateArgs {
    /// The tenant the token is for
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,
    /// Unique per tenant [default: <tenant>-<6 hex digits>]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The `sub` claim, the role Pulsar authorizes [default: the token's name]
    #[arg(long, value_name = "ROLE")]
    pub subject: Option<String>,
    /// 30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`
    #[arg(long, default_value = "30d", value_name = "DURATION")]
    pub expires: String,
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Include expired tokens
    #[arg(long)]
    pub expired: bool,
    /// Include expired and revoked tokens
    #[arg(long)]
    pub all: bool,
}

/// Active, expiring (within 7 days), expired or revoked.
fn status(t: &Token, now: i64) -> &'static str {
    match (t.revoked_at, t.expires_at) {
        (Some(_), _) => "revoked",
        (None, Some(exp)) if exp <= now => "expired",
        (None, Some(exp)) if exp - now < 7 * 86_400 => "expiring",
        _ => "active",
    }
}

impl Render for Token {
    fn columns() -> &'static [&'static str] {
        &[
            "name",
            "tenant",
            "subject",
            "expires_at",
            "status",
            "created_at",
            "id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let now = now();
        vec![
            self.name.clone(),
            self.tenant.clone(),
            self.subject.clone(),
            self.expires_at
                .map_or_else(|| "never".into(), |t| relative(t, now)),
            status(self, now).into(),
            relative(self.created_at, now),
            self.id.clone(),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.tenant.clone(),
            self.subject.clone(),
            self.expires_at.and_then(rfc3339).unwrap_or_default(),
            status(self, now()).into(),
            rfc3339(self.created_at).unwrap_or_default(),
            self.id.clone(),
        ]
    }
    fn highlight(&self) -> Option<Style> {
        match status(self, now()) {
            "expired" | "revoked" => Some(Style::Error),
            "expiring" => Some(Style::Warn),
            _ => None,
        }
    }
    fn extra_pairs(&self) -> Vec<(String, String)> {
        vec![
            ("instance".into(), self.instance.clone()),
            (
                "description".into(),
                self.description.clone().unwrap_or_default(),
            ),
        ]
    }
    fn table(&self, _out: &Output) -> String {
        match &self.token {
            // On create, stdout carries the token alone.
            Some(jwt) => jwt.clone(),
            None => crate::output::detail_table(self),
        }
    }
}

pub fn run(ctx: &Ctx, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create(args) => create(ctx, &args),
        TokenCommand::List(args) => {
            let now = now();
            let tokens: Vec<Token> = ctx
                .api()?
                .tokens(args.tenant.as_deref())?
                .into_iter()
                .filter(|t| args.all || t.revoked_at.is_none())
                .filter(|t| args.all || args.expired || t.expires_at.is_none_or(|e| e > now))
                .collect();
            ctx.out.list(&tokens)
        }
        TokenCommand::Get { name, tenant } => ctx.out.item(&ctx.api()?.token(&tenant, &name)?),
        TokenCommand::Delete { name, tenant } => {
            let api = ctx.api()?;
            let token = api.token(&tenant, &name)?;
            if token.revoked_at.is_some() {
                return Err(Error::not_found(format!(
                    "token '{tenant}/{name}' is already revoked"
                )));
            }
            ctx.confirm(
                &format!("Type the token name '{}' to revoke it", token.name),
                &token.name,
                &format!("revoke token '{tenant}/{}'", token.name),
            )?;
            api.revoke_token(&tenant, &token.id)?;
            ctx.out
                .info(&format!("revoked token '{tenant}/{}'", token.name));
            ctx.out.warn(
                "Pulsar brokers check signatures and expiry only: this token keeps working on a \
                 broker until it expires, unless you rotate the instance key \
                 (`tok instance rotate-key`)",
            );
            Ok(())
        }
    }
}

pub fn create(ctx: &Ctx, args: &CreateArgs) -> Result<()> {
    // Checked here too, so that a typo fails before any server is asked.
    let expiry = parse_expiry(&args.expires, now()).map_err(Error::usage)?;
    let req = CreateToken {
        name: args.name.clone(),
        subject: args.subject.clone(),
        description: args.description.clone(),
        expires: args.expires.clone(),
    };
    let created = ctx.api()?.create_token(&args.tenant, &req)?;
    check_minted(&created)?;
    if expiry == crate::duration::Expiry::Never {
        ctx.out.warn("this token never expires (no exp claim)");
    }
    ctx.out.info(&format!(
        "created token '{}' for tenant '{}' (subject {}); it is shown only once",
        created.name, created.tenant, created.subject
    ));
    ctx.out.item(&created)
}

/// Decodes the JWT the control plane returned and checks it says what was asked.
fn check_minted(created: &Token) -> Result<()> {
    let mismatch = |what: &str| {
        Error::other(format!(
            "the control plane returned a token whose {what} does not match the request; it was \
             not printed"
        ))
    };
    let jwt = created.token.as_deref().ok_or_else(|| mismatch("body"))?;
    let decoded = decode(jwt).map_err(|_| mismatch("encoding"))?;
    let claims = &decoded.claims;
    if claims.get("sub").and_then(|v| v.as_str()) != Some(created.subject.as_str()) {
        return Err(mismatch("subject"));
    }
    if claims.get("jti").and_then(|v| v.as_str()) != Some(created.id.as_str()) {
        return Err(mismatch("id"));
    }
    if numeric_date(claims, "exp").ok().flatten() != created.expires_at {
        return Err(mismatch("expiry"));
    }
    Ok(())
}
