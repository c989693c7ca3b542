//! `tok user`: people who log in to a server with a password.

use clap::Subcommand;

use super::Ctx;
use crate::duration::{now, relative, rfc3339};
use crate::error::Result;
use crate::model::{CreateUser, User};
use crate::output::{Render, Style, read_secret};

const USER_JSON: &str = "\
JSON fields (-o json): username, roles, created_at, locked_until (null unless locked after
failed logins).

Passwords are never taken from the command line: they are asked for (hidden, twice) or read
from stdin with --password-stdin. Policy: at least 12 characters, not the username.";

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (an administrator of the org)
    #[command(after_long_help = USER_JSON)]
    Create {
        username: String,
        /// Read the password from stdin instead of a hidden prompt
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users
    #[command(after_long_help = USER_JSON)]
    List,
    /// Show a user
    #[command(after_long_help = USER_JSON)]
    Get { username: String },
    /// Delete a user and end its sessions (asks you to type the username)
    Delete { username: String },
    /// Set a user's password; unlocks the account and ends its sessions
    SetPassword {
        username: String,
        /// Read the password from stdin instead of a hidden prompt
        #[arg(long)]
        password_stdin: bool,
    },
}

impl Render for User {
    fn columns() -> &'static [&'static str] {
        &["username", "roles", "created_at", "locked_until"]
    }
    fn cells(&self) -> Vec<String> {
        let now = now();
        vec![
            self.username.clone(),
            self.roles.join(", "),
            relative(self.created_at, now),
            self.locked_until
                .map_or_else(|| "-".into(), |t| format!("locked, {}", relative(t, now))),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.username.clone(),
            self.roles.join(";"),
            rfc3339(self.created_at).unwrap_or_default(),
            self.locked_until.and_then(rfc3339).unwrap_or_default(),
        ]
    }
    fn highlight(&self) -> Option<Style> {
        self.locked_until.map(|_| Style::Warn)
    }
}

pub fn run(ctx: &Ctx, cmd: UserCommand) -> Result<()> {
    if ctx.is_embedded()? {
        return Err(super::embedded::no_users());
    }
    match cmd {
        UserCommand::Create {
            username,
            password_stdin,
        } => {
            let api = ctx.api()?;
            let password = read_secret(
                "password",
                password_stdin,
                ctx.global.no_input,
                true,
                "--password-stdin",
            )?;
            let user = api.create_user(&CreateUser { username, password })?;
            ctx.out.info(&format!("created user '{}'", user.username));
            ctx.out.item(&user)
        }
        UserCommand::List => ctx.out.list(&ctx.api()?.users()?),
        UserCommand::Get { username } => ctx.out.item(&ctx.api()?.user(&username)?),
        UserCommand::Delete { username } => {
            let api = ctx.api()?;
            let user = api.user(&username)?;
            ctx.confirm(
                &format!(
                    "Type the username '{}' to delete the user and end its sessions",
                    user.username
                ),
                &user.username,
                &format!("delete user '{}'", user.username),
            )?;
            api.delete_user(&user.username)?;
            ctx.out.info(&format!("deleted user '{}'", user.username));
            Ok(())
        }
        UserCommand::SetPassword {
            username,
            password_stdin,
        } => {
            let api = ctx.api()?;
            let password = read_secret(
                "new password",
                password_stdin,
                ctx.global.no_input,
                true,
                "--password-stdin",
            )?;
            api.set_password(&username, &password)?;
            ctx.out.info(&format!(
                "set the password of '{username}'; its sessions were ended"
            ));
            Ok(())
        }
    }
}
