//! Users of a server's org: Argon2id password hashes, a password policy, and the
//! built-in administrator role (the roles issue generalises it).

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::error::{ControlError, ControlResult};
use super::model::User;
use super::{ControlPlane, Store, ids};

/// The one role users hold until custom roles exist.
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
    /// Creates a user of this org with the administrator role.
    pub fn create_user(&self, username: &str, password: &str, now: i64) -> ControlResult<User> {
        validate_username(username)?;
        check_password(username, password)?;
        let hash = hash_password(password)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
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
            };
            tx.insert_user(&user)?;
            self.audit_write(tx, &org_id, now, "user.create", username, None)?;
            Ok(user)
        })
    }

    pub fn users(&self) -> ControlResult<Vec<User>> {
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.users(&org_id)
        })
    }

    pub fn user(&self, username: &str) -> ControlResult<User> {
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.user(&org_id, username)?
                .ok_or_else(|| user_not_found(username))
        })
    }

    /// Deletes a user and ends its sessions; the org's last user is kept (nobody could
    /// log in to manage it afterwards).
    pub fn delete_user(&self, username: &str, now: i64) -> ControlResult<()> {
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let user = tx
                .user(&org_id, username)?
                .ok_or_else(|| user_not_found(username))?;
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
            tx.delete_user(&user.id)?;
            self.audit_write(tx, &org_id, now, "user.delete", username, None)
        })
    }

    /// Replaces a user's password, unlocks the account and ends its sessions; returns how
    /// many sessions ended.
    pub fn set_password(&self, username: &str, password: &str, now: i64) -> ControlResult<usize> {
        check_password(username, password)?;
        let hash = hash_password(password)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let user = tx
                .user(&org_id, username)?
                .ok_or_else(|| user_not_found(username))?;
            tx.set_password_hash(&user.id, &hash)?;
            let ended = tx.delete_sessions_of(&user.id)?;
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
