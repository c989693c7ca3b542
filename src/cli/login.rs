//! `tok login`, `tok logout`, `tok whoami`: a session with a server, kept in the OS
//! keyring under the profile; the profile (no secrets) remembers the server and org.

use super::Ctx;
use super::ctx::{credential_account, new_client, read_ca_cert};
use crate::client::Api;
use crate::config::{LOCAL, validate_profile_name};
use crate::credentials::{Credentials, Location};
use crate::duration::{now, relative, rfc3339};
use crate::error::{Error, Result};
use crate::model::WhoAmI;
use crate::output::{Render, read_line, read_secret};

/// The profile `tok login` saves to when none is named.
pub const DEFAULT_PROFILE: &str = "default";

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Saves the server and org in the profile (default `default`; --profile names another), keeps
the session token in the OS keyring (never in the config file), and makes the profile current.
`tok profile use local` returns to the embedded control plane. TOK_TOKEN overrides the stored
credential for one command.

Examples:
  tok login --server http://127.0.0.1:8420 --username alice
  echo \"$PASSWORD\" | tok login --server https://tok.example.com --username alice --password-stdin
  echo \"$TOKEN\" | tok login --server https://tok.example.com --with-token

JSON fields (-o json): principal, kind, org, server, roles, expires_at, max_expires_at.")]
pub struct LoginArgs {
    /// The org you expect to log in to; refused when the account belongs to another
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// Username [default: asked]
    #[arg(long, value_name = "USERNAME", conflicts_with = "with_token")]
    pub username: Option<String>,
    /// Read the password from stdin instead of a hidden prompt
    #[arg(long, conflicts_with = "with_token")]
    pub password_stdin: bool,
    /// Read a session token, an application token or an API key from stdin instead of
    /// logging in with a password (for CI)
    #[arg(long)]
    pub with_token: bool,
    /// PEM CA certificates to trust for this server (a private CA); remembered in the profile
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
}

impl Render for WhoAmI {
    fn columns() -> &'static [&'static str] {
        &["principal", "kind", "org", "server", "roles", "expires_at"]
    }
    fn cells(&self) -> Vec<String> {
        let now = now();
        vec![
            self.principal.clone(),
            self.kind.clone(),
            self.org.clone(),
            self.server.clone().unwrap_or_else(|| "(embedded)".into()),
            self.roles.join(", "),
            self.expires_at
                .map_or_else(|| "-".into(), |t| relative(t, now)),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.principal.clone(),
            self.kind.clone(),
            self.org.clone(),
            self.server.clone().unwrap_or_default(),
            self.roles.join(";"),
            self.expires_at.and_then(rfc3339).unwrap_or_default(),
        ]
    }
}

pub fn login(ctx: &Ctx, args: &LoginArgs) -> Result<()> {
    let profile_name = ctx
        .global
        .profile
        .clone()
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
    validate_profile_name(&profile_name).map_err(Error::usage)?;
    if profile_name == LOCAL {
        return Err(Error::usage(
            "the 'local' profile is the embedded control plane and has no server",
        )
        .with_hint("log in with another --profile, e.g. --profile default"));
    }
    let (paths, config) = ctx.config()?;
    let existing = config
        .profiles
        .get(&profile_name)
        .cloned()
        .unwrap_or_default();
    let server = ctx
        .global
        .server
        .clone()
        .or_else(|| existing.server.clone())
        .ok_or_else(|| {
            Error::usage("which server? pass --server URL (or set TOK_SERVER)")
                .with_hint("e.g. tok login --server http://127.0.0.1:8420")
        })?;
    let server = server.trim().trim_end_matches('/').to_string();
    crate::client::parse_server_url(&server)?;
    let ca_cert_path = match &args.ca_cert {
        Some(p) => Some(
            std::path::absolute(p)
                .map_err(|e| Error::usage(format!("--ca-cert {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let ca_cert = read_ca_cert(ca_cert_path.as_deref(), existing.ca_cert.as_deref())?;
    let client_for = |token: Option<String>| new_client(&server, None, token, ca_cert.clone());

    let token = if args.with_token {
        read_secret("token", true, ctx.global.no_input, false, "--with-token")?
            .trim()
            .to_string()
    } else {
        let username = match &args.username {
            Some(u) => u.clone(),
            None => read_line("username", ctx.global.no_input, "--username USERNAME")?,
        };
        let password = read_secret(
            "password",
            args.password_stdin,
            ctx.global.no_input,
            false,
            "--password-stdin",
        )?;
        client_for(None)?
            .login(&username, &password)
            .map_err(|e| {
                if e.code == "invalid_credentials" {
                    e.with_hint(
                        "check the username and password; repeated failures lock the account \
                         for a while",
                    )
                } else {
                    e
                }
            })?
            .auth_token
    };
    let client = client_for(Some(token.clone()))?;
    let me = client.whoami().map_err(|e| {
        if args.with_token && e.kind == crate::error::ErrorKind::Denied {
            e.with_hint("the token on stdin is not valid on this server")
        } else {
            e
        }
    })?;
    if let Some(org) = &args.org
        && *org != me.org
    {
        let _ = client.logout();
        return Err(Error::denied(format!(
            "'{}' belongs to org '{}', not '{org}'; nothing was saved",
            me.principal, me.org
        ))
        .with_code("wrong_org"));
    }

    let credentials = Credentials::from_env(&paths.data_dir).map_err(Error::from)?;
    let stored = credentials
        .set(&credential_account(&profile_name), &token)
        .map_err(Error::from)?;
    if let (Some(why), Location::File(path)) = (&stored.fallback, &stored.location) {
        ctx.out.warn(&format!(
            "no OS keyring answered ({why}); the session token is stored in {} (mode 0600)",
            path.display()
        ));
    }
    let mut config = config.clone();
    let settings = config.profiles.entry(profile_name.clone()).or_default();
    settings.server = Some(server.clone());
    settings.org = Some(me.org.clone());
    if let Some(path) = ca_cert_path {
        settings.ca_cert = Some(path.display().to_string());
    }
    config.current = Some(profile_name.clone());
    config.save(paths).map_err(Error::from)?;

    ctx.out.info(&format!(
        "logged in to {server} as {} (org {}); profile '{profile_name}' is now current",
        me.principal, me.org
    ));
    match (me.expires_at, me.kind.as_str()) {
        (Some(exp), "application") if me.max_expires_at.is_none() => {
            ctx.out.info(&format!(
                "the application token expires {}",
                relative(exp, now())
            ));
        }
        (Some(exp), _) => ctx.out.info(&format!(
            "the session lapses {} unless used (each command extends it)",
            relative(exp, now())
        )),
        (None, _) => {}
    }
    ctx.out.item(&me)
}

pub fn logout(ctx: &Ctx) -> Result<()> {
    let profile = ctx.profile()?;
    if profile.name == LOCAL {
        return Err(Error::usage(
            "the 'local' profile is the embedded control plane: there is no session to end",
        ));
    }
    let (paths, _) = ctx.config()?;
    let credentials = Credentials::from_env(&paths.data_dir).map_err(Error::from)?;
    let account = credential_account(&profile.name);
    let Some((token, _)) = credentials.get(&account).map_err(Error::from)? else {
        ctx.out
            .info(&format!("profile '{}' is not logged in", profile.name));
        return Ok(());
    };
    if crate::control::opaque::is_kind(crate::control::opaque::Kind::Application, &token) {
        ctx.out.info(
            "the profile held an application token: it stays valid until it expires or is \
             revoked (`tok token delete NAME`)",
        );
    // Only the server the token was issued by is told: never --server / TOK_SERVER.
    } else if let Some(server) = profile.server.clone() {
        match ctx
            .client(&profile, &server, Some(token))
            .and_then(|c| c.logout())
        {
            Ok(()) => ctx.out.info(&format!("ended the session on {server}")),
            // An expired or unknown session is already over.
            Err(e) if e.kind == crate::error::ErrorKind::Denied => {}
            Err(e) => ctx.out.warn(&format!(
                "could not end the session on the server ({}); it lapses on its own",
                e.message
            )),
        }
    }
    credentials.delete(&account).map_err(Error::from)?;
    ctx.out.info(&format!(
        "removed the credential of profile '{}'",
        profile.name
    ));
    Ok(())
}

pub fn whoami(ctx: &Ctx) -> Result<()> {
    // The embedded owner is known without opening the database.
    let me = if ctx.is_embedded()? {
        super::embedded::local_whoami()
    } else {
        ctx.api()?.whoami()?
    };
    ctx.out.item(&me)
}
