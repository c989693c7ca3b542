//! `tok user`: people who log in to a server with a password.

use clap::Subcommand;

use super::Ctx;
use crate::duration::{now, relative, rfc3339};
use crate::error::Result;
use crate::model::{CreateUser, User};
use crate::output::{Render, Style, read_secret};

const USER_JSON: &str = "\
JSON fields (-o json): username, roles, created_at, locked_until (null unless locked after
failed logins), disabled_at (null while enabled).

A user may do what its roles grant (`tok role list`); with none it can log in and see who it
is, nothing more. Nobody grants a role it does not hold itself, or changes a user who holds
more than it does; the org always keeps an enabled Organization Administrator.

Passwords are never taken from the command line: they are asked for (hidden, twice) or read
from stdin with --password-stdin. Policy: at least 12 characters, not the username.";

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user holding the roles given
    #[command(after_long_help = USER_JSON)]
    Create {
        username: String,
        /// A role (name or id) to grant; repeat for several
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
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
    /// Grant a role (name or id) to a user
    #[command(after_long_help = USER_JSON)]
    GrantRole { username: String, role: String },
    /// Take a role (name or id) from a user (asks you to type the username)
    #[command(after_long_help = USER_JSON)]
    RevokeRole { username: String, role: String },
    /// Disable an account: it cannot log in, and its sessions end at once
    #[command(after_long_help = USER_JSON)]
    Disable { username: String },
    /// Enable a disabled account
    #[command(after_long_help = USER_JSON)]
    Enable { username: String },
}

impl Render for User {
    fn columns() -> &'static [&'static str] {
        &[
            "username",
            "roles",
            "created_at",
            "locked_until",
            "disabled_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        let now = now();
        vec![
            self.username.clone(),
            if self.roles.is_empty() {
                "-".into()
            } else {
                self.roles.join(", ")
            },
            relative(self.created_at, now),
            self.locked_until
                .map_or_else(|| "-".into(), |t| format!("locked, {}", relative(t, now))),
            self.disabled_at
                .map_or_else(|| "-".into(), |t| format!("disabled {}", relative(t, now))),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.username.clone(),
            self.roles.join(";"),
            rfc3339(self.created_at).unwrap_or_default(),
            self.locked_until.and_then(rfc3339).unwrap_or_default(),
            self.disabled_at.and_then(rfc3339).unwrap_or_default(),
        ]
    }
    fn highlight(&self) -> Option<Style> {
        if self.disabled_at.is_some() {
            Some(Style::Error)
        } else {
            self.locked_until.map(|_| Style::Warn)
        }
    }
}

pub fn run(ctx: &Ctx, cmd: UserCommand) -> Result<()> {
    if ctx.is_embedded()? {
        return Err(super::embedded::no_users());
    }
    match cmd {
        UserCommand::Create {
            username,
            roles,
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
            let user = api.create_user(&CreateUser {
                username,
                password,
                roles,
            })?;
            if user.roles.is_empty() {
                ctx.out.info(&format!(
                    "created user '{}' with no roles: it can log in but do nothing else",
                    user.username
                ));
                ctx.out.hint(&format!(
                    "grant one with `tok user grant-role {} ROLE` (`tok role list` shows them)",
                    user.username
                ));
            } else {
                ctx.out.info(&format!(
                    "created user '{}' with roles {}",
                    user.username,
                    user.roles.join(", ")
                ));
            }
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
        UserCommand::GrantRole { username, role } => {
            let granted = ctx.api()?.grant_role(&username, &role)?;
            if granted.granted {
                ctx.out
                    .info(&format!("granted role '{role}' to '{username}'"));
            } else {
                ctx.out.info(&format!(
                    "'{username}' already held role '{role}'; nothing changed"
                ));
            }
            ctx.out.item(&granted.user)
        }
        UserCommand::RevokeRole { username, role } => {
            ctx.confirm(
                &format!("Type the username '{username}' to take role '{role}' from it"),
                &username,
                &format!("take role '{role}' from '{username}'"),
            )?;
            let user = ctx.api()?.revoke_role(&username, &role)?;
            ctx.out
                .info(&format!("took role '{role}' from '{username}'"));
            ctx.out.item(&user)
        }
        UserCommand::Disable { username } => {
            let api = ctx.api()?;
            let user = api.user(&username)?;
            if user.disabled_at.is_some() {
                ctx.out.info(&format!(
                    "'{username}' was already disabled; nothing changed"
                ));
                return ctx.out.item(&user);
            }
            ctx.confirm(
                &format!(
                    "Type the username '{}' to disable it and end its sessions",
                    user.username
                ),
                &user.username,
                &format!("disable user '{}'", user.username),
            )?;
            let user = api.set_user_disabled(&username, true)?;
            ctx.out.info(&format!(
                "disabled '{username}': it cannot log in, and its sessions ended"
            ));
            ctx.out.item(&user)
        }
        UserCommand::Enable { username } => {
            let user = ctx.api()?.set_user_disabled(&username, false)?;
            ctx.out.info(&format!("enabled '{username}'"));
            ctx.out.item(&user)
        }
    }
}
