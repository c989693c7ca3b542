//! `tok org`: settings of the organization the profile acts in.

use clap::Subcommand;

use super::Ctx;
use crate::duration::{format_duration, parse_duration};
use crate::error::{Error, Result};
use crate::model::Org;
use crate::output::Render;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Show the org's settings
    #[command(after_long_help = "\
JSON fields (-o json): name, max_token_lifetime (e.g. \"90d\", null: no limit),
max_token_lifetime_seconds (null: no limit).")]
    Show,
    /// Set the longest lifetime a new token may have (`none` removes the limit)
    #[command(after_long_help = "\
While a maximum is set, `--expires never` and longer expiries are refused (exit 2).
Existing tokens are not changed.

Examples:
  tok org set-max-token-lifetime 90d
  tok org set-max-token-lifetime none")]
    SetMaxTokenLifetime {
        /// A duration such as 30d, 12h or 1y, or `none`
        #[arg(value_name = "DURATION|none")]
        lifetime: String,
    },
}

impl Render for Org {
    fn columns() -> &'static [&'static str] {
        &["name", "max_token_lifetime"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.max_token_lifetime
                .clone()
                .unwrap_or_else(|| "no limit".into()),
        ]
    }
}

pub fn run(ctx: &Ctx, cmd: OrgCommand) -> Result<()> {
    let api = ctx.api()?;
    if let OrgCommand::SetMaxTokenLifetime { lifetime } = &cmd {
        let secs = if lifetime.eq_ignore_ascii_case("none") {
            None
        } else {
            let secs = parse_duration(lifetime).map_err(Error::usage)?;
            Some(i64::try_from(secs).map_err(|_| Error::usage("the lifetime is too large"))?)
        };
        let org = api.set_max_token_lifetime(secs)?;
        ctx.out.info(&match secs {
            Some(s) => format!("new tokens may live at most {}", format_duration(s)),
            None => "new tokens have no maximum lifetime".to_string(),
        });
        return ctx.out.item(&org);
    }
    ctx.out.item(&api.org()?)
}
