//! `tok token` (and the `tok create` shortcut): streaming tokens — Pulsar JWTs for a
//! tenant — and application tokens — client id, client secret and token, carrying roles —
//! shown once, stored only as metadata and a hash.

use clap::Subcommand;

use super::Ctx;
use crate::duration::{now, parse_expiry, relative, rfc3339};
use crate::error::{Error, Result};
use crate::jwt::{decode, numeric_date};
use crate::model::{CreateAppToken, CreateToken, Token};
use crate::output::{Output, Render, Style};

const TOKEN_JSON: &str = "\
JSON fields (-o json): id (a streaming token's JWT jti), name, type (\"streaming\" or
\"application\"), tenant, instance and subject (null for application tokens), roles,
permissions ([{action, resource}]: what the token may do — for a streaming token its roles'
Pulsar actions within its tenant), client_id (null for streaming tokens), description,
created_at, expires_at (null: never), last_used_at, revoked_at; `create` adds token (and
client_secret for an application token), shown only once.

A streaming token (--tenant) is a Pulsar JWT; --role records which roles its subject carries.
An application token (--role without --tenant) is an org-level credential for the tok API:
use the token as a bearer token (TOK_TOKEN, `tok login --with-token`), or exchange the client
id and client secret for a session (POST /v1/auth). It grants what its roles grant — when it
is created, never more than its creator holds. Which roles it carries cannot be changed (for
other roles, create another); a change to a custom role's policy reaches it as it reaches
every holder. It does not depend on its creator afterwards: revoke it to stop it.";

const INSPECT_JSON: &str = "\
JSON fields (-o json), RFC 7662's: active, and when active token_type (streaming, apikey,
application or session), sub, aud, exp and iat (Unix seconds), jti, tenant or service_account,
client_id or username, scope (the actions its roles grant, space-separated); when not active,
reason. Needs the `introspect` action (Organization Administrator holds it). The answer is
exit 0 either way: read `active`.";

const FEED_JSON: &str = "\
JSON fields (-o json): items ([{jti, kind (streaming or apikey), revoked_at, expires_at}]),
next_cursor (pass it as --since next time; the same cursor when nothing is new).

Brokers check a JWT's signature and expiry only. A gateway or broker plugin that polls this
feed every few seconds (GET /v1/orgs/{org}/revocations?since=CURSOR, with the `introspect`
action) can refuse revoked tokens long before they expire. Entries stay at least as long as
revoked API keys are kept (15 days by default), and until the JWT expires.";

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a streaming token (--tenant) or an application token (--role); secrets are
    /// shown only once
    #[command(after_long_help = TOKEN_JSON)]
    Create(CreateArgs),
    /// List tokens (live ones; --expired and --all show more)
    #[command(after_long_help = TOKEN_JSON)]
    List(ListArgs),
    /// Show a token's metadata and what it may do (never the token itself)
    #[command(after_long_help = TOKEN_JSON)]
    Get {
        /// Token name or id (an application token's client id too)
        name: String,
        /// The streaming token's tenant; leave out for an application token
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
    /// Ask the control plane whether a credential is active, and why not (`tok jwt decode`
    /// never asks): streaming tokens, API keys, application and session tokens
    #[command(after_long_help = INSPECT_JSON)]
    Inspect(super::jwt::TokenInput),
    /// The revocation feed: revoked streaming tokens and API keys, in the order revoked
    #[command(after_long_help = FEED_JSON)]
    Revocations {
        /// The next_cursor of a previous answer [default: from the beginning]
        #[arg(long, value_name = "CURSOR")]
        since: Option<String>,
        /// At most this many entries
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Revoke a token (asks you to type its name); it stays listed as revoked with --all
    #[command(visible_alias = "revoke")]
    Delete {
        /// Token name or id (an application token's client id too)
        name: String,
        /// The streaming token's tenant; leave out for an application token
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  tok token create --tenant acme --expires 7d
  tok create --tenant acme --name ci-producer --expires 30d -o json
  TOKEN=$(tok token create --tenant acme --name ci --subject ci-producer -q)
  tok token create --tenant acme --role topic-reader --name reader   # roles recorded
  tok token create --role \"API Read Only User\" --description dashboards -o json")]
pub struct CreateArgs {
    /// The tenant a streaming token is for; leave out (and give --role) for an
    /// application token
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// A role (name or id) the token carries; repeat for several. Required for an
    /// application token
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Unique per tenant [default: <tenant>-<6 hex digits>]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The `sub` claim, the role Pulsar authorizes [default: the token's name]
    #[arg(long, value_name = "ROLE")]
    pub subject: Option<String>,
    /// 30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never` [default: 30d for a
    /// streaming token, never for an application token]
    #[arg(long, value_name = "DURATION")]
    pub expires: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Only one kind of token
    #[arg(long = "type", value_name = "TYPE", value_parser = ["streaming", "application"])]
    pub kind: Option<String>,
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
            "type",
            "tenant",
            "subject",
            "roles",
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
            self.kind.clone(),
            self.tenant.clone().unwrap_or_else(|| "-".into()),
            self.subject.clone().unwrap_or_else(|| "-".into()),
            roles_cell(&self.roles, ", "),
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
            self.kind.clone(),
            self.tenant.clone().unwrap_or_default(),
            self.subject.clone().unwrap_or_default(),
            self.roles.join(";"),
            self.expires_at.and_then(rfc3339).unwrap_or_default(),
            status(self, now()).into(),
            rfc3339(self.created_at).unwrap_or_default(),
            self.id.clone(),
        ]
    }
    fn highlight(&self) -> Option<Style> {
        highlight(self)
    }
    fn extra_pairs(&self) -> Vec<(String, String)> {
        let now = now();
        let mut pairs = Vec::new();
        if let Some(instance) = &self.instance {
            pairs.push(("instance".into(), instance.clone()));
        }
        if let Some(client_id) = &self.client_id {
            pairs.push(("client id".into(), client_id.clone()));
        }
        pairs.push((
            "description".into(),
            self.description.clone().unwrap_or_default(),
        ));
        pairs.push((
            "last used".into(),
            self.last_used_at
                .map_or_else(|| "never".into(), |t| relative(t, now)),
        ));
        pairs.push(("may".into(), permissions_cell(self)));
        pairs
    }
    fn table(&self, _out: &Output) -> String {
        match (&self.token, &self.client_secret) {
            // On create, stdout carries the secrets alone: a streaming token's JWT, or an
            // application token's three values, one per line.
            (Some(token), Some(secret)) => format!(
                "client_id: {}\nclient_secret: {secret}\ntoken: {token}",
                self.client_id.as_deref().unwrap_or_default()
            ),
            (Some(jwt), None) => jwt.clone(),
            _ => crate::output::detail_table(self),
        }
    }
}

fn highlight(t: &Token) -> Option<Style> {
    match status(t, now()) {
        "expired" | "revoked" => Some(Style::Error),
        "expiring" => Some(Style::Warn),
        _ => None,
    }
}

fn roles_cell(roles: &[String], sep: &str) -> String {
    if roles.is_empty() {
        "-".into()
    } else {
        roles.join(sep)
    }
}

/// What a token may do, one `action on resource` per line.
fn permissions_cell(t: &Token) -> String {
    if t.permissions.is_empty() {
        return match t.kind.as_str() {
            "streaming" if t.roles.is_empty() => {
                "what the broker's authorization grants its subject (no roles recorded)".into()
            }
            _ => "nothing (its roles grant no action here)".into(),
        };
    }
    t.permissions
        .iter()
        .map(|p| format!("{} on {}", p.action, p.resource))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An application token as `tok token list --type application` shows it.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct AppRow(Token);

impl Render for AppRow {
    fn columns() -> &'static [&'static str] {
        &[
            "name",
            "client_id",
            "roles",
            "description",
            "expires_at",
            "last_used_at",
            "status",
            "created_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let (t, now) = (&self.0, now());
        vec![
            t.name.clone(),
            t.client_id.clone().unwrap_or_default(),
            roles_cell(&t.roles, ", "),
            t.description.clone().unwrap_or_else(|| "-".into()),
            t.expires_at
                .map_or_else(|| "never".into(), |at| relative(at, now)),
            t.last_used_at
                .map_or_else(|| "never".into(), |at| relative(at, now)),
            status(t, now).into(),
            relative(t.created_at, now),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        let t = &self.0;
        vec![
            t.name.clone(),
            t.client_id.clone().unwrap_or_default(),
            t.roles.join(";"),
            t.description.clone().unwrap_or_default(),
            t.expires_at.and_then(rfc3339).unwrap_or_default(),
            t.last_used_at.and_then(rfc3339).unwrap_or_default(),
            status(t, now()).into(),
            rfc3339(t.created_at).unwrap_or_default(),
        ]
    }
    fn highlight(&self) -> Option<Style> {
        highlight(&self.0)
    }
}

pub fn run(ctx: &Ctx, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create(args) => create(ctx, &args),
        TokenCommand::List(args) => {
            let now = now();
            let tokens: Vec<Token> = ctx
                .api()?
                .tokens(args.tenant.as_deref(), args.kind.as_deref())?
                .into_iter()
                .filter(|t| args.all || t.revoked_at.is_none())
                .filter(|t| args.all || args.expired || t.expires_at.is_none_or(|e| e > now))
                .collect();
            if args.kind.as_deref() == Some("application") {
                let rows: Vec<AppRow> = tokens.into_iter().map(AppRow).collect();
                return ctx.out.list(&rows);
            }
            ctx.out.list(&tokens)
        }
        TokenCommand::Get { name, tenant } => {
            let api = ctx.api()?;
            let token = match &tenant {
                Some(tenant) => api.token(tenant, &name)?,
                None => api.app_token(&name).map_err(streaming_hint)?,
            };
            ctx.out.item(&token)
        }
        TokenCommand::Inspect(input) => {
            let token = input.read()?;
            let answer = ctx.api()?.introspect(&token)?;
            ctx.out.item(&answer)
        }
        TokenCommand::Revocations { since, limit } => {
            let feed = ctx.api()?.revocations(since.as_deref(), limit)?;
            if ctx.out.is_json() {
                return ctx.out.json(&feed);
            }
            ctx.out.list(&feed.items)?;
            ctx.out.info(&format!(
                "next cursor: {} (pass it as --since)",
                feed.next_cursor
            ));
            Ok(())
        }
        TokenCommand::Delete { name, tenant } => match tenant {
            Some(tenant) => delete_streaming(ctx, &tenant, &name),
            None => delete_application(ctx, &name),
        },
    }
}

fn delete_streaming(ctx: &Ctx, tenant: &str, name: &str) -> Result<()> {
    let api = ctx.api()?;
    let token = api.token(tenant, name)?;
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
    api.revoke_token(tenant, &token.id)?;
    ctx.out
        .info(&format!("revoked token '{tenant}/{}'", token.name));
    ctx.out.warn(
        "Pulsar brokers check signatures and expiry only: this token keeps working on a \
         broker until it expires, unless the broker (or a gateway) polls the revocation feed \
         (`tok token revocations`) or you rotate the instance key (`tok instance rotate-key`)",
    );
    Ok(())
}

/// Without --tenant a name is looked up among application tokens; one that is not there
/// may be a streaming token.
fn streaming_hint(e: Error) -> Error {
    if e.kind == crate::error::ErrorKind::NotFound {
        e.with_hint(
            "for a streaming token, add --tenant TENANT (`tok token list` shows both kinds)",
        )
    } else {
        e
    }
}

fn delete_application(ctx: &Ctx, name: &str) -> Result<()> {
    let api = ctx.api()?;
    let token = api.app_token(name).map_err(streaming_hint)?;
    if token.revoked_at.is_some() {
        return Err(Error::not_found(format!(
            "application token '{name}' is already revoked"
        )));
    }
    let client_id = token.client_id.clone().unwrap_or_default();
    ctx.confirm_any(
        &format!(
            "Type the token name '{}' (or its client id) to revoke it",
            token.name
        ),
        &[&token.name, &client_id],
        &format!("revoke application token '{}'", token.name),
    )?;
    api.revoke_app_token(&token.id)?;
    ctx.out.info(&format!(
        "revoked application token '{}' (client id {client_id}); it and the sessions it \
         bought stopped working",
        token.name
    ));
    Ok(())
}

pub fn create(ctx: &Ctx, args: &CreateArgs) -> Result<()> {
    let Some(tenant) = &args.tenant else {
        return create_application(ctx, args);
    };
    let expires = args.expires.clone().unwrap_or_else(|| "30d".into());
    // Checked here too, so that a typo fails before any server is asked.
    let expiry = parse_expiry(&expires, now()).map_err(Error::usage)?;
    let req = CreateToken {
        name: args.name.clone(),
        subject: args.subject.clone(),
        description: args.description.clone(),
        expires,
        roles: args.roles.clone(),
    };
    let created = ctx.api()?.create_token(tenant, &req)?;
    check_minted(&created)?;
    if expiry == crate::duration::Expiry::Never {
        ctx.out.warn("this token never expires (no exp claim)");
    }
    ctx.out.info(&format!(
        "created token '{}' for tenant '{}' (subject {}); it is shown only once",
        created.name,
        created.tenant.as_deref().unwrap_or_default(),
        created.subject.as_deref().unwrap_or_default()
    ));
    ctx.out.item(&created)
}

fn create_application(ctx: &Ctx, args: &CreateArgs) -> Result<()> {
    if args.roles.is_empty() {
        return Err(Error::usage(
            "say which kind of token: --tenant TENANT for a streaming (Pulsar) token, or \
             --role ROLE for an application token",
        )
        .with_hint("`tok role list` shows the roles an application token can carry"));
    }
    if args.subject.is_some() {
        return Err(Error::usage(
            "--subject is for streaming tokens (with --tenant); an application token's \
             identity is its client id",
        ));
    }
    let expires = args.expires.clone().unwrap_or_else(|| "never".into());
    parse_expiry(&expires, now()).map_err(Error::usage)?;
    let req = CreateAppToken {
        name: args.name.clone(),
        description: args.description.clone(),
        roles: args.roles.clone(),
        expires: Some(expires),
    };
    let created = ctx.api()?.create_app_token(&req)?;
    ctx.out.info(&format!(
        "created application token '{}' with roles {}; its client secret and token are shown \
         only once",
        created.name,
        created.roles.join(", ")
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
    if claims.get("sub").and_then(|v| v.as_str()) != created.subject.as_deref() {
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

impl Render for crate::model::Introspection {
    fn columns() -> &'static [&'static str] {
        &["active", "token_type", "sub", "expires_at"]
    }
    fn cells(&self) -> Vec<String> {
        let now = now();
        vec![
            if self.active { "yes" } else { "no" }.into(),
            self.token_type.clone().unwrap_or_else(|| "-".into()),
            self.sub.clone().unwrap_or_else(|| "-".into()),
            self.exp.map_or_else(
                || {
                    if self.active {
                        "never".into()
                    } else {
                        "-".into()
                    }
                },
                |t| relative(t, now),
            ),
        ]
    }
    fn highlight(&self) -> Option<Style> {
        (!self.active).then_some(Style::Error)
    }
    fn extra_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                pairs.push((k.to_string(), v.clone()));
            }
        };
        add("why not", &self.reason);
        add("audience", &self.aud);
        add("id", &self.jti);
        add("tenant", &self.tenant);
        add("service account", &self.service_account);
        add("client id", &self.client_id);
        add("username", &self.username);
        add("may", &self.scope);
        if let Some(iat) = self.iat {
            pairs.push(("issued".into(), relative(iat, now())));
        }
        pairs
    }
}

impl Render for crate::model::Revocation {
    fn columns() -> &'static [&'static str] {
        &["jti", "kind", "revoked_at", "expires_at"]
    }
    fn cells(&self) -> Vec<String> {
        let now = now();
        vec![
            self.jti.clone(),
            self.kind.clone(),
            relative(self.revoked_at, now),
            self.expires_at
                .map_or_else(|| "never".into(), |t| relative(t, now)),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.jti.clone(),
            self.kind.clone(),
            rfc3339(self.revoked_at).unwrap_or_default(),
            self.expires_at.and_then(rfc3339).unwrap_or_default(),
        ]
    }
}
