//! Users of a server's org: Argon2id password hashes, a password policy, the roles they
//! hold, and accounts disabled by an administrator.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::error::{ControlError, ControlResult};
use super::model::{HOLDER_USER, PrincipalKind, Role, User};
use super::policy::Action;
use super::roles::builtin_id;
use super::{ControlPlane, Store, Tx, ids};

/// The built-in role that may do everything in its org (a server's first user holds it).
pub const ADMIN_ROLE: &str = "Organization Administrator";

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted (Argon2 hashes anything; this bounds the work per login).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Usernames: 1-64 of a-z, A-Z, 0-9 and `. _ - @`, starting with a letter or digit.
pub fn validate_username(name: &str) -> ControlResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(format!(
            "invalid username '{name}': use 1-64 of a-z, A-Z, 0-9 and . _ - @, starting with a \
             letter or digit"
        )))
    }
}

/// The password policy: length, and not the username.
pub fn check_password(username: &str, password: &str) -> ControlResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(ControlError::invalid(format!(
            "the password is too short: {chars} characters; use at least {MIN_PASSWORD_LEN}"
        )));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(ControlError::invalid(format!(
            "the password is too long; use at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    if password.trim().eq_ignore_ascii_case(username) {
        return Err(ControlError::invalid(
            "the password must not be the username",
        ));
    }
    Ok(())
}

/// An Argon2id PHC string (default parameters: 19 MiB, 2 passes, random salt).
pub fn hash_password(password: &str) -> ControlResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ControlError::Crypto(format!("hashing the password failed: {e}")))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

impl<S: Store> ControlPlane<S> {
    /// Whether the caller is the user `username` (who may read itself and change its own
    /// password without `user-read` / `user-write`).
    fn is_self(&self, username: &str) -> bool {
        matches!(&self.principal, Some((PrincipalKind::User, name)) if name == username)
    }

    /// Creates a user of this org holding `roles` (names or ids), each of which the caller
    /// must hold the grants of itself.
    pub fn create_user(
        &self,
        username: &str,
        password: &str,
        roles: &[String],
        now: i64,
    ) -> ControlResult<User> {
        self.require_org(Action::UserWrite)?;
        validate_username(username)?;
        check_password(username, password)?;
        self.store
            .read(|tx| self.roles_within(tx, "grant", roles))?;
        let hash = hash_password(password)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let roles = self.roles_within(tx, "grant", roles)?;
            if let Some(existing) = tx.user_anywhere(username)? {
                let where_ = if existing.org_id == org_id {
                    String::new()
                } else {
                    " (usernames are unique on a server)".to_string()
                };
                return Err(ControlError::conflict(
                    format!("user '{username}' already exists{where_}"),
                    None,
                ));
            }
            let user = User {
                id: ids::new_id("usr"),
                org_id: org_id.clone(),
                org: self.org.clone(),
                username: username.to_string(),
                password_hash: hash,
                created_at: now,
                failed_logins: 0,
                locked_until: None,
                disabled_at: None,
                roles: roles.iter().map(|r| r.name.clone()).collect(),
            };
            tx.insert_user(&user)?;
            for role in &roles {
                tx.assign_role(&role.id, HOLDER_USER, &user.id, username)?;
            }
            let detail = roles_detail(&user.roles);
            self.audit_write(tx, &org_id, now, "user.create", username, Some(&detail))?;
            Ok(user)
        })
    }

    pub fn users(&self) -> ControlResult<Vec<User>> {
        self.require_org(Action::UserRead)?;
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            let mut users = tx.users(&org_id)?;
            for user in &mut users {
                user.roles = role_names(tx.roles_of(&self.org, HOLDER_USER, &user.id)?);
            }
            Ok(users)
        })
    }

    pub fn user(&self, username: &str) -> ControlResult<User> {
        if !self.is_self(username) {
            self.require_org(Action::UserRead)?;
        }
        self.store.read(|tx| {
            let (user, roles) = self.user_in(tx, username)?;
            Ok(User {
                roles: role_names(roles),
                ..user
            })
        })
    }

    /// A user of the org and the roles it holds.
    fn user_in(&self, tx: &mut dyn Tx, username: &str) -> ControlResult<(User, Vec<Role>)> {
        let org_id = self.org_id(tx)?;
        let user = tx
            .user(&org_id, username)?
            .ok_or_else(|| user_not_found(username))?;
        let roles = tx.roles_of(&self.org, HOLDER_USER, &user.id)?;
        Ok((user, roles))
    }

    /// Refuses a change to another user unless the caller holds everything that user's
    /// roles grant: nobody takes over or removes someone who may do more than they may.
    fn require_over(&self, doing: &str, username: &str, roles: &[Role]) -> ControlResult<()> {
        for role in roles {
            self.require_within(
                &format!("{doing} '{username}' (who holds role '{}')", role.name),
                &role.policy,
            )?;
        }
        Ok(())
    }

    /// Refuses to leave the org without an enabled user holding Organization
    /// Administrator once `user_id` stops counting.
    fn keep_an_admin(&self, tx: &mut dyn Tx, user_id: &str, doing: &str) -> ControlResult<()> {
        let org_id = self.org_id(tx)?;
        let admin_id = builtin_id(ADMIN_ROLE);
        let admins = tx.holders_of(&admin_id, HOLDER_USER)?;
        if !admins.iter().any(|id| id == user_id) {
            return Ok(());
        }
        let others = tx
            .users(&org_id)?
            .into_iter()
            .filter(|u| u.id != user_id && u.disabled_at.is_none() && admins.contains(&u.id))
            .count();
        if others == 0 {
            return Err(ControlError::conflict(
                format!(
                    "{doing} would leave org '{}' without an enabled user holding \
                     {ADMIN_ROLE}",
                    self.org
                ),
                Some(format!(
                    "grant {ADMIN_ROLE} to another user first with `tok user grant-role`"
                )),
            ));
        }
        Ok(())
    }

    /// Deletes a user and ends its sessions; the org's last user, and its last enabled
    /// administrator, are kept (nobody could manage the org afterwards).
    pub fn delete_user(&self, username: &str, now: i64) -> ControlResult<()> {
        self.require_org(Action::UserWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let (user, roles) = self.user_in(tx, username)?;
            self.require_over("delete user", username, &roles)?;
            if tx.users(&org_id)?.len() == 1 {
                return Err(ControlError::conflict(
                    format!(
                        "'{username}' is the last user of org '{}'; deleting it would leave \
                         nobody able to log in",
                        self.org
                    ),
                    Some("create another administrator first with `tok user create`".into()),
                ));
            }
            self.keep_an_admin(tx, &user.id, &format!("deleting '{username}'"))?;
            tx.delete_user(&user.id)?;
            self.audit_write(tx, &org_id, now, "user.delete", username, None)
        })
    }

    /// Replaces a user's password, unlocks the account and ends its sessions; returns how
    /// many sessions ended.
    pub fn set_password(&self, username: &str, password: &str, now: i64) -> ControlResult<usize> {
        let own = self.is_self(username);
        if !own {
            self.require_org(Action::UserWrite)?;
        }
        check_password(username, password)?;
        if !own {
            let (_, roles) = self.store.read(|tx| self.user_in(tx, username))?;
            self.require_over("set the password of", username, &roles)?;
        }
        let hash = hash_password(password)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let (user, roles) = self.user_in(tx, username)?;
            if !own {
                self.require_over("set the password of", username, &roles)?;
            }
            tx.set_password_hash(&user.id, &hash)?;
            let ended = tx.delete_sessions_of(PrincipalKind::User, &user.id)?;
            let detail = format!("{ended} session(s) ended");
            self.audit_write(
                tx,
                &org_id,
                now,
                "user.set-password",
                username,
                Some(&detail),
            )?;
            Ok(ended)
        })
    }

    /// Grants a role to a user; granting one it holds already changes nothing. Returns
    /// the user and whether the role was new to it.
    pub fn grant_role(&self, username: &str, role: &str, now: i64) -> ControlResult<(User, bool)> {
        self.require_org(Action::UserWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let (user, mut roles) = self.user_in(tx, username)?;
            self.require_over("grant a role to", username, &roles)?;
            let role = self
                .roles_within(tx, "grant", &[role.to_string()])?
                .remove(0);
            let new = !roles.iter().any(|r| r.id == role.id);
            if new {
                tx.assign_role(&role.id, HOLDER_USER, &user.id, username)?;
                self.audit_write(
                    tx,
                    &org_id,
                    now,
                    "user.grant-role",
                    username,
                    Some(&role.name),
                )?;
                roles = tx.roles_of(&self.org, HOLDER_USER, &user.id)?;
            }
            Ok((
                User {
                    roles: role_names(roles),
                    ..user
                },
                new,
            ))
        })
    }

    /// Takes a role from a user. The caller must hold what the role grants, and the org
    /// keeps an enabled administrator.
    pub fn revoke_role(&self, username: &str, role: &str, now: i64) -> ControlResult<User> {
        self.require_org(Action::UserWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let (user, held) = self.user_in(tx, username)?;
            self.require_over("revoke a role from", username, &held)?;
            let role = self
                .roles_within(tx, "revoke", &[role.to_string()])?
                .remove(0);
            if role.name == ADMIN_ROLE {
                self.keep_an_admin(
                    tx,
                    &user.id,
                    &format!("taking {ADMIN_ROLE} from '{username}'"),
                )?;
            }
            if !tx.unassign_role(&role.id, HOLDER_USER, &user.id)? {
                return Err(ControlError::NotFound {
                    what: "role assignment",
                    name: format!("{username}: {}", role.name),
                    hint: Some(format!(
                        "`tok user get {username}` lists the roles it holds"
                    )),
                });
            }
            self.audit_write(
                tx,
                &org_id,
                now,
                "user.revoke-role",
                username,
                Some(&role.name),
            )?;
            let roles = tx.roles_of(&self.org, HOLDER_USER, &user.id)?;
            Ok(User {
                roles: role_names(roles),
                ..user
            })
        })
    }

    /// Disables (`disable`) or enables an account. A disabled user cannot log in and its
    /// sessions end at once; the org keeps an enabled administrator.
    pub fn set_user_disabled(
        &self,
        username: &str,
        disable: bool,
        now: i64,
    ) -> ControlResult<User> {
        self.require_org(Action::UserWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let (mut user, roles) = self.user_in(tx, username)?;
            self.require_over("disable or enable", username, &roles)?;
            if disable {
                self.keep_an_admin(tx, &user.id, &format!("disabling '{username}'"))?;
            }
            let at = disable.then_some(user.disabled_at.unwrap_or(now));
            if at != user.disabled_at {
                tx.set_user_disabled(&user.id, at)?;
                let mut detail = None;
                if disable {
                    let ended = tx.delete_sessions_of(PrincipalKind::User, &user.id)?;
                    detail = Some(format!("{ended} session(s) ended"));
                }
                let action = if disable {
                    "user.disable"
                } else {
                    "user.enable"
                };
                self.audit_write(tx, &org_id, now, action, username, detail.as_deref())?;
                user.disabled_at = at;
            }
            Ok(User {
                roles: role_names(roles),
                ..user
            })
        })
    }
}

fn role_names(roles: Vec<Role>) -> Vec<String> {
    roles.into_iter().map(|r| r.name).collect()
}

fn roles_detail(roles: &[String]) -> String {
    if roles.is_empty() {
        "no roles".to_string()
    } else {
        format!("roles {}", roles.join(", "))
    }
}

fn user_not_found(username: &str) -> ControlError {
    ControlError::NotFound {
        what: "user",
        name: username.to_string(),
        hint: Some("list users with `tok user list`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy_names_the_rule() {
        assert!(check_password("alice", "short").is_err());
        assert!(check_password("alice-the-admin", "Alice-The-Admin").is_err());
        assert!(check_password("alice", &"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
        check_password("alice", "correct horse battery").unwrap();
        let err = check_password("alice", "short").unwrap_err().to_string();
        assert!(err.contains("at least 12"), "{err}");
    }

    #[test]
    fn usernames() {
        for ok in ["alice", "a", "bob.smith@example.com", "ci_bot-2"] {
            validate_username(ok).unwrap();
        }
        for bad in ["", "-x", "a b", "ä", &"a".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
