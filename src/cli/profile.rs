//! `tok profile`: named control-plane targets. `local` is built in and runs the
//! control plane embedded; other profiles name a server. No secrets are kept here.

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::config::{LOCAL, ResolvedProfile, validate_profile_name};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::output::{Render, Style};

const PROFILE_JSON: &str = "\
JSON fields (-o json): name, current (bool), mode (\"embedded\"|\"server\"), server, org,
instance, output — null when not set.";

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List profiles; the current one is marked
    #[command(after_long_help = PROFILE_JSON)]
    List,
    /// Show one profile (default: the one this command would use)
    #[command(after_long_help = PROFILE_JSON)]
    Show {
        /// Profile name
        name: Option<String>,
    },
    /// Make a profile the current one (`tok profile use local` returns to the embedded mode)
    Use {
        /// Profile name
        name: String,
    },
    /// Create a profile or change its settings: server, org, instance, output
    #[command(after_long_help = "\
Settings: server (http:// or https:// URL), org, instance (default --instance), output
(table|json|yaml|csv). An empty value unsets a setting. Secrets are never stored here:
credentials live in the OS keyring.

Examples:
  tok profile set staging server=https://tok.staging.example.com org=acme
  tok profile set local output=json
  tok profile set staging instance=")]
    Set {
        /// Profile name (created when it does not exist)
        name: String,
        /// KEY=VALUE pairs
        #[arg(required = true, value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// Delete a profile and its stored credential (asks you to type its name)
    Delete {
        /// Profile name
        name: String,
    },
}

#[derive(Debug, Serialize)]
struct ProfileView {
    name: String,
    current: bool,
    mode: &'static str,
    server: Option<String>,
    org: Option<String>,
    instance: Option<String>,
    output: Option<String>,
}

impl From<ResolvedProfile> for ProfileView {
    fn from(p: ResolvedProfile) -> Self {
        ProfileView {
            mode: if p.server.is_some() {
                "server"
            } else {
                "embedded"
            },
            current: p.current,
            server: p.settings.server,
            org: p.settings.org,
            instance: p.settings.instance,
            output: p.settings.output.map(|f| f.as_str().to_string()),
            name: p.name,
        }
    }
}

impl Render for ProfileView {
    fn columns() -> &'static [&'static str] {
        &[
            "current", "name", "mode", "server", "org", "instance", "output",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        vec![
            if self.current {
                "*".into()
            } else {
                String::new()
            },
            self.name.clone(),
            self.mode.into(),
            opt(&self.server),
            opt(&self.org),
            opt(&self.instance),
            opt(&self.output),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.current.to_string(),
            self.name.clone(),
            self.mode.into(),
            opt(&self.server),
            opt(&self.org),
            opt(&self.instance),
            opt(&self.output),
        ]
    }
    fn highlight(&self) -> Option<Style> {
        self.current.then_some(Style::Bold)
    }
}

pub fn run(ctx: &Ctx, cmd: ProfileCommand) -> Result<()> {
    match cmd {
        ProfileCommand::List => {
            let (_, config) = ctx.config()?;
            let views: Vec<ProfileView> = config.all().into_iter().map(Into::into).collect();
            ctx.out.list(&views)
        }
        ProfileCommand::Show { name } => {
            let (_, config) = ctx.config()?;
            let requested = name.as_deref().or(ctx.global.profile.as_deref());
            let profile = config.resolve(requested).map_err(Error::from)?;
            ctx.out.item(&ProfileView::from(profile))
        }
        ProfileCommand::Use { name } => {
            let (paths, config) = ctx.config()?;
            config.resolve(Some(&name)).map_err(Error::from)?;
            let mut config = config.clone();
            config.current = (name != LOCAL).then(|| name.clone());
            config.save(paths).map_err(Error::from)?;
            let mode = if name == LOCAL {
                " (embedded control plane)"
            } else {
                ""
            };
            ctx.out.info(&format!("now using profile '{name}'{mode}"));
            Ok(())
        }
        ProfileCommand::Set { name, settings } => set(ctx, &name, &settings),
        ProfileCommand::Delete { name } => delete(ctx, &name),
    }
}

fn set(ctx: &Ctx, name: &str, settings: &[String]) -> Result<()> {
    validate_profile_name(name).map_err(Error::usage)?;
    let (paths, config) = ctx.config()?;
    let mut config = config.clone();
    let created = !config.profiles.contains_key(name) && name != LOCAL;
    let entry = config.profiles.entry(name.to_string()).or_default();
    for pair in settings {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            Error::usage(format!(
                "'{pair}' is not KEY=VALUE; settings are server, org, instance, output"
            ))
        })?;
        if name == LOCAL && key.trim() == "server" {
            return Err(Error::usage(
                "the 'local' profile runs the control plane embedded and cannot have a server",
            )
            .with_hint(format!(
                "create another profile: tok profile set NAME {pair}"
            )));
        }
        entry.set(key.trim(), value).map_err(Error::usage)?;
    }
    config.save(paths).map_err(Error::from)?;
    let verb = if created { "created" } else { "updated" };
    ctx.out.info(&format!("{verb} profile '{name}'"));
    if created && config.current_name() != name {
        ctx.out
            .hint(&format!("make it current with `tok profile use {name}`"));
    }
    Ok(())
}

fn delete(ctx: &Ctx, name: &str) -> Result<()> {
    if name == LOCAL {
        return Err(Error::usage(
            "the built-in 'local' profile cannot be deleted",
        ));
    }
    let (paths, config) = ctx.config()?;
    config.resolve(Some(name)).map_err(Error::from)?;
    ctx.confirm(
        &format!("Type the profile name '{name}' to delete it and its stored credential"),
        name,
        &format!("delete profile '{name}'"),
    )?;
    let mut config = config.clone();
    config.profiles.remove(name);
    if config.current.as_deref() == Some(name) {
        config.current = None;
    }
    let credentials = Credentials::from_env(&paths.data_dir).map_err(Error::from)?;
    credentials
        .delete(&super::ctx::credential_account(name))
        .map_err(Error::from)?;
    config.save(paths).map_err(Error::from)?;
    ctx.out.info(&format!("deleted profile '{name}'"));
    Ok(())
}
