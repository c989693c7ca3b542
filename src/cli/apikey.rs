//! `tok service-account` (alias `sa`) and `tok apikey`: service accounts and their API keys,
//! StreamNative's verbs — create, list, get, revoke, delete — over the same control plane.

use clap::Subcommand;

use super::Ctx;
use crate::duration::{now, parse_expiry, relative, rfc3339};
use crate::error::{Error, Result};
use crate::model::ApiKeyFilter;
use crate::model::{ApiKey, CreateApiKey, CreateServiceAccount, ServiceAccount};
use crate::output::{Output, Render, Style};

const SA_JSON: &str = "\
JSON fields (-o json): name, principal (the `sub` of its API keys: <name>@<org>), description,
roles, created_at, apikey_count (keys not revoked); `get` adds apikeys (its keys, revoked ones
included until purged). `delete` prints {name, apikeys_deleted}.

Against the tok API a service account acts with its roles: its API keys are bearer
credentials there (and introspection reports the roles' actions as `scope`). A Pulsar broker
knows only a key's `sub` (the principal) and authorizes that as it is configured to. Nobody
gives a service account roles, or mints a key of one, that grants more than they hold.";

const KEY_JSON: &str = "\
JSON fields (-o json): id (the JWT's jti), name, service_account, instance, description,
status (active, revoked or expired), created_at, expires_at (null: never), revoked_at,
last_used_at; `create` adds key (the JWT, shown only once).

An API key is a JWT signed by the instance's key: sub = the service account's principal,
aud = the instance audience, jti = the key id, iat, and exp unless it never expires. It is
immutable: to change one, delete it and create another. `revoke` keeps it, listed as revoked,
until the purge (15 days by default; `tok server start --apikey-retention`); `delete` removes
it at once. Either way brokers keep accepting it until it expires unless they poll the
revocation feed (`tok token revocations`, GET /v1/orgs/{org}/revocations).";

/// Days within which a key counts as "used recently" in a delete prompt.
const RECENT_SECS: i64 = 7 * 86_400;

#[derive(Debug, Subcommand)]
pub enum ServiceAccountCommand {
    /// Create a service account
    #[command(after_long_help = SA_JSON)]
    Create {
        name: String,
        /// A role (name or id) it holds; repeat for several
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// List service accounts
    #[command(after_long_help = SA_JSON)]
    List,
    /// Show a service account, its roles and its API keys
    #[command(after_long_help = SA_JSON)]
    Get { name: String },
    /// Delete a service account and all its API keys (asks you to type its name)
    #[command(after_long_help = SA_JSON)]
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key for a service account on an instance; the key is shown only once
    #[command(after_long_help = KEY_JSON)]
    Create(CreateKeyArgs),
    /// List API keys
    #[command(after_long_help = KEY_JSON)]
    List {
        /// Only this service account's keys
        #[arg(long, value_name = "NAME")]
        service_account: Option<String>,
        /// Only keys for this instance
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
        /// Only keys with this status
        #[arg(long, value_parser = ["active", "revoked", "expired"])]
        status: Option<String>,
    },
    /// Show an API key (never the key itself)
    #[command(after_long_help = KEY_JSON)]
    Get {
        /// Key name or id
        name: String,
    },
    /// Revoke an API key (asks you to type its name); it stays listed as revoked until purged
    #[command(after_long_help = KEY_JSON)]
    Revoke {
        /// Key name or id
        name: String,
    },
    /// Revoke and remove an API key at once (asks you to type its name)
    #[command(after_long_help = KEY_JSON)]
    Delete {
        /// Key name or id
        name: String,
    },
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  tok apikey create --service-account ingest --instance local --name ingest-1
  KEY=$(tok apikey create --service-account ingest --expires never -q)")]
pub struct CreateKeyArgs {
    /// The service account the key acts as
    #[arg(long, value_name = "NAME")]
    pub service_account: String,
    /// The instance whose key signs it [default: the org's only one]
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// Unique per org [default: <service account>-<6 hex digits>]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// 30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or `never`
    #[arg(long, default_value = "30d", value_name = "DURATION")]
    pub expires: String,
}

impl Render for ServiceAccount {
    fn columns() -> &'static [&'static str] {
        &["name", "roles", "apikey_count", "created_at", "description"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            if self.roles.is_empty() {
                "-".into()
            } else {
                self.roles.join(", ")
            },
            self.apikey_count.to_string(),
            relative(self.created_at, now()),
            self.description.clone().unwrap_or_default(),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.roles.join(";"),
            self.apikey_count.to_string(),
            rfc3339(self.created_at).unwrap_or_default(),
            self.description.clone().unwrap_or_default(),
        ]
    }
    fn extra_pairs(&self) -> Vec<(String, String)> {
        vec![("principal".into(), self.principal.clone())]
    }
    fn table(&self, out: &Output) -> String {
        let mut text = crate::output::detail_table(self);
        if let Some(keys) = &self.apikeys {
            text.push_str("\n\n");
            if keys.is_empty() {
                text.push_str("no API keys");
            } else {
                text.push_str(&crate::output::list_table(keys, out));
            }
        }
        text
    }
}

impl Render for ApiKey {
    fn columns() -> &'static [&'static str] {
        &[
            "name",
            "service_account",
            "instance",
            "status",
            "expires_at",
            "last_used_at",
            "created_at",
            "id",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let now = now();
        vec![
            self.name.clone(),
            self.service_account.clone(),
            self.instance.clone(),
            match self.revoked_at {
                Some(at) => format!("revoked {}", relative(at, now)),
                None => self.status.clone(),
            },
            self.expires_at
                .map_or_else(|| "never".into(), |t| relative(t, now)),
            self.last_used_at
                .map_or_else(|| "never".into(), |t| relative(t, now)),
            relative(self.created_at, now),
            self.id.clone(),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.service_account.clone(),
            self.instance.clone(),
            self.status.clone(),
            self.expires_at.and_then(rfc3339).unwrap_or_default(),
            self.last_used_at.and_then(rfc3339).unwrap_or_default(),
            rfc3339(self.created_at).unwrap_or_default(),
            self.id.clone(),
        ]
    }
    fn highlight(&self) -> Option<Style> {
        match self.status.as_str() {
            "active" => self
                .expires_at
                .filter(|e| *e - now() < 7 * 86_400)
                .map(|_| Style::Warn),
            _ => Some(Style::Error),
        }
    }
    fn extra_pairs(&self) -> Vec<(String, String)> {
        vec![(
            "description".into(),
            self.description.clone().unwrap_or_default(),
        )]
    }
    fn table(&self, _out: &Output) -> String {
        match &self.key {
            // On create, stdout carries the key alone.
            Some(jwt) => jwt.clone(),
            None => crate::output::detail_table(self),
        }
    }
}

const BROKERS: &str = "Pulsar brokers check signatures and expiry only: they refuse a revoked \
     key before it expires only if they poll the revocation feed (GET \
     /v1/orgs/{org}/revocations, `tok token revocations`); keep API keys short-lived where that \
     matters";

pub fn run_service_account(ctx: &Ctx, cmd: ServiceAccountCommand) -> Result<()> {
    let api = ctx.api()?;
    match cmd {
        ServiceAccountCommand::Create {
            name,
            roles,
            description,
        } => {
            let sa = api.create_service_account(&CreateServiceAccount {
                name,
                description,
                roles,
            })?;
            ctx.out.info(&format!(
                "created service account '{}' (principal {})",
                sa.name, sa.principal
            ));
            ctx.out.item(&sa)
        }
        ServiceAccountCommand::List => ctx.out.list(&api.service_accounts()?),
        ServiceAccountCommand::Get { name } => ctx.out.item(&api.service_account(&name)?),
        ServiceAccountCommand::Delete { name } => {
            let sa = api.service_account(&name)?;
            let keys = sa.apikeys.clone().unwrap_or_default();
            let now = now();
            let recent: Vec<&str> = keys
                .iter()
                .filter(|k| k.last_used_at.is_some_and(|t| now - t < RECENT_SECS))
                .map(|k| k.name.as_str())
                .collect();
            let mut question = format!(
                "Type the service account name '{}' to delete it and its {} API key(s) ({} not \
                 revoked)",
                sa.name,
                keys.len(),
                sa.apikey_count
            );
            if !recent.is_empty() {
                question.push_str(&format!(
                    " ({} used in the last 7 days: {})",
                    recent.len(),
                    recent.join(", ")
                ));
            }
            ctx.confirm(
                &question,
                &sa.name,
                &format!(
                    "delete service account '{}' and its {} API key(s)",
                    sa.name,
                    keys.len()
                ),
            )?;
            let deleted = api.delete_service_account(&sa.name)?;
            ctx.out.info(&format!(
                "deleted service account '{}' and {} API key(s)",
                deleted.name, deleted.apikeys_deleted
            ));
            if sa.apikey_count > 0 {
                ctx.out.warn(BROKERS);
            }
            if ctx.out.is_json() {
                ctx.out.json(&deleted)?;
            }
            Ok(())
        }
    }
}

pub fn run_apikey(ctx: &Ctx, cmd: ApiKeyCommand) -> Result<()> {
    match cmd {
        ApiKeyCommand::Create(args) => {
            // Checked here too, so that a typo fails before any server is asked.
            parse_expiry(&args.expires, now()).map_err(Error::usage)?;
            let key = ctx.api()?.create_api_key(&CreateApiKey {
                service_account: args.service_account,
                instance: args.instance,
                name: args.name,
                description: args.description,
                expires: Some(args.expires),
            })?;
            if key.expires_at.is_none() {
                ctx.out.warn("this API key never expires (no exp claim)");
            }
            ctx.out.info(&format!(
                "created API key '{}' for service account '{}' on instance '{}'; it is shown \
                 only once",
                key.name, key.service_account, key.instance
            ));
            ctx.out.item(&key)
        }
        ApiKeyCommand::List {
            service_account,
            instance,
            status,
        } => {
            let filter = ApiKeyFilter {
                service_account,
                instance,
                status,
            };
            ctx.out.list(&ctx.api()?.api_keys(&filter)?)
        }
        ApiKeyCommand::Get { name } => ctx.out.item(&ctx.api()?.api_key(&name)?),
        ApiKeyCommand::Revoke { name } => {
            let api = ctx.api()?;
            let key = api.api_key(&name)?;
            if let Some(at) = key.revoked_at {
                ctx.out.info(&format!(
                    "API key '{}' was already revoked ({}); nothing changed",
                    key.name,
                    rfc3339(at).unwrap_or_default()
                ));
                return ctx.out.item(&key);
            }
            ctx.confirm(
                &format!("Type the API key name '{}' to revoke it", key.name),
                &key.name,
                &format!("revoke API key '{}'", key.name),
            )?;
            let key = api.revoke_api_key(&key.id)?;
            ctx.out.info(&format!("revoked API key '{}'", key.name));
            ctx.out.warn(BROKERS);
            ctx.out.item(&key)
        }
        ApiKeyCommand::Delete { name } => {
            let api = ctx.api()?;
            let key = api.api_key(&name)?;
            ctx.confirm(
                &format!("Type the API key name '{}' to delete it", key.name),
                &key.name,
                &format!("delete API key '{}'", key.name),
            )?;
            let key = api.delete_api_key(&key.id)?;
            ctx.out.info(&format!("deleted API key '{}'", key.name));
            if key.revoked_at.is_none() {
                ctx.out.warn(BROKERS);
            }
            Ok(())
        }
    }
}
