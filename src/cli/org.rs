//! `tok org`: settings of the organization the profile acts in.

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::duration::{format_duration, now, parse_duration};
use crate::error::{Error, Result};
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

#[derive(Debug, Serialize)]
struct OrgView {
    name: String,
    max_token_lifetime: Option<String>,
    max_token_lifetime_seconds: Option<i64>,
}

impl Render for OrgView {
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
    let cp = ctx.control()?;
    if let OrgCommand::SetMaxTokenLifetime { lifetime } = &cmd {
        let secs = if lifetime.eq_ignore_ascii_case("none") {
            None
        } else {
            let secs = parse_duration(lifetime).map_err(Error::usage)?;
            Some(i64::try_from(secs).map_err(|_| Error::usage("the lifetime is too large"))?)
        };
        cp.set_max_token_lifetime(secs, now())
            .map_err(Error::from)?;
        ctx.out.info(&match secs {
            Some(s) => format!("new tokens may live at most {}", format_duration(s)),
            None => "new tokens have no maximum lifetime".to_string(),
        });
    }
    let max = cp.max_token_lifetime().map_err(Error::from)?;
    ctx.out.item(&OrgView {
        name: cp.org().to_string(),
        max_token_lifetime: max.map(format_duration),
        max_token_lifetime_seconds: max,
    })
}
