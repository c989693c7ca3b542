//! `tok audit list`: who changed what, when. Never holds a secret.

use clap::Subcommand;

use super::Ctx;
use crate::duration::{now, parse_duration, parse_instant, relative, rfc3339};
use crate::error::{Error, Result};
use crate::model::AuditEntry;
use crate::output::Render;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit records, oldest first
    #[command(after_long_help = "\
JSON fields (-o json): id, at (RFC 3339), actor, action (e.g. tenant.create, token.delete),
target, detail (null when none), source (the client address for changes made through
a server; null when embedded).")]
    List {
        /// Only records from this long ago (7d, 12h) or since an RFC 3339 time
        #[arg(long, value_name = "DURATION|TIME")]
        since: Option<String>,
    },
}

impl Render for AuditEntry {
    fn columns() -> &'static [&'static str] {
        &["at", "actor", "action", "target", "detail"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            relative(self.at, now()),
            self.actor.clone(),
            self.action.clone(),
            self.target.clone(),
            self.detail.clone().unwrap_or_default(),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            rfc3339(self.at).unwrap_or_default(),
            self.actor.clone(),
            self.action.clone(),
            self.target.clone(),
            self.detail.clone().unwrap_or_default(),
        ]
    }
}

pub fn run(ctx: &Ctx, cmd: AuditCommand) -> Result<()> {
    let AuditCommand::List { since } = cmd;
    let now = now();
    let since = match since.as_deref() {
        None => 0,
        Some(s) if s.contains('T') => {
            parse_instant(s).map_err(|e| Error::usage(format!("--since: {e}")))?
        }
        Some(s) => {
            let secs = parse_duration(s).map_err(|e| Error::usage(format!("--since: {e}")))?;
            now - secs as i64
        }
    };
    ctx.out.list(&ctx.api()?.audit(since)?)
}
