//! Application tokens: org-level credentials that carry roles, created as three values at
//! once — a public client id, a client secret and a token — shown once and stored only as
//! HMACs under the pepper. Immutable: changing one's roles means a new token. Deleting one
//! revokes it (it stays listed, revoked) and ends the sessions it bought.

use super::error::{ControlError, ControlResult};
use super::model::{AppToken, HOLDER_APPLICATION, PrincipalKind};
use super::opaque::{self, Kind};
use super::policy::Action;
use super::tokens::{check_lifetime, validate_token_name};
use super::usage::billing::Metric;
use super::{ControlPlane, Store, Tx, ids};
use crate::duration::Expiry;

/// What `token create --role …` asks for.
#[derive(Debug, Clone)]
pub struct AppTokenSpec {
    /// Generated (`app-<6 hex>`) when not given.
    pub name: Option<String>,
    pub description: Option<String>,
    /// At least one role (names or ids).
    pub roles: Vec<String>,
    pub expiry: Expiry,
}

/// An application token as created: its record and its two secrets, shown once.
pub struct CreatedAppToken {
    pub record: AppToken,
    pub token: String,
    pub client_secret: String,
}

impl std::fmt::Debug for CreatedAppToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedAppToken")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

fn app_token_not_found(key: &str) -> ControlError {
    ControlError::NotFound {
        what: "application token",
        name: key.to_string(),
        hint: Some("list them with `tok token list --type application`".into()),
    }
}

impl<S: Store> ControlPlane<S> {
    pub fn create_app_token(
        &self,
        spec: &AppTokenSpec,
        now: i64,
    ) -> ControlResult<CreatedAppToken> {
        self.require_org(Action::TokenWrite)?;
        if spec.roles.is_empty() {
            return Err(ControlError::invalid(
                "an application token needs at least one --role; `tok role list` shows them",
            ));
        }
        let name = match &spec.name {
            Some(n) => n.trim().to_string(),
            None => format!("app-{}", ids::random_hex(3)),
        };
        validate_token_name(&name)?;
        if let Expiry::At(exp) = spec.expiry
            && exp <= now
        {
            return Err(ControlError::invalid("the expiry is not in the future"));
        }
        let roles = self
            .store
            .read(|tx| self.roles_within(tx, "give a token", &spec.roles))?;
        let pepper = self.master.get()?.pepper().to_vec();
        let token = opaque::generate(Kind::Application)?;
        let client_secret = opaque::generate(Kind::ClientSecret)?;
        let record = AppToken {
            id: ids::new_id("app"),
            org_id: String::new(),
            org: self.org.clone(),
            name: name.clone(),
            client_id: opaque::client_id()?,
            token_hash: opaque::digest(&pepper, &token),
            secret_hash: opaque::digest(&pepper, &client_secret),
            description: spec.description.clone(),
            created_at: now,
            expires_at: match spec.expiry {
                Expiry::At(exp) => Some(exp),
                Expiry::Never => None,
            },
            last_used_at: None,
            revoked_at: None,
            roles,
        };
        let record = self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            check_lifetime(tx.max_token_lifetime(&org_id)?, spec.expiry, now)?;
            if tx.app_token(&org_id, &name)?.is_some() {
                return Err(ControlError::conflict(
                    format!("an application token named '{name}' already exists"),
                    Some("list them with `tok token list --type application`".into()),
                ));
            }
            let record = AppToken {
                org_id: org_id.clone(),
                roles: self.roles_within(tx, "give a token", &spec.roles)?,
                ..record
            };
            tx.insert_app_token(&record)?;
            for role in &record.roles {
                tx.assign_role(&role.id, HOLDER_APPLICATION, &record.id, &name)?;
            }
            let names: Vec<&str> = record.roles.iter().map(|r| r.name.as_str()).collect();
            let detail = format!(
                "application token, client id {}, roles {}",
                record.client_id,
                names.join(", ")
            );
            self.audit_write(tx, &org_id, now, "token.create", &name, Some(&detail))?;
            Ok(record)
        })?;
        self.meter_count("", Metric::TokensIssued, now);
        Ok(CreatedAppToken {
            record,
            token,
            client_secret,
        })
    }

    /// The org's application tokens, revoked ones included, oldest first.
    pub fn app_tokens(&self) -> ControlResult<Vec<AppToken>> {
        self.require_org(Action::TokenRead)?;
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            let mut all = tx.app_tokens(&org_id)?;
            for t in &mut all {
                t.roles = tx.roles_of(&self.org, HOLDER_APPLICATION, &t.id)?;
            }
            Ok(all)
        })
    }

    /// An application token by name, client id or id.
    pub fn app_token(&self, key: &str) -> ControlResult<AppToken> {
        self.require_org(Action::TokenRead)?;
        self.store.read(|tx| self.app_token_in(tx, key))
    }

    fn app_token_in(&self, tx: &mut dyn Tx, key: &str) -> ControlResult<AppToken> {
        let org_id = self.org_id(tx)?;
        let mut t = tx
            .app_token(&org_id, key.trim())?
            .ok_or_else(|| app_token_not_found(key))?;
        t.roles = tx.roles_of(&self.org, HOLDER_APPLICATION, &t.id)?;
        Ok(t)
    }

    /// Revokes an application token (by name, client id or id): it stops working at
    /// once, the sessions it bought end, and it stays listed as revoked.
    pub fn revoke_app_token(&self, key: &str, now: i64) -> ControlResult<AppToken> {
        self.require_org(Action::TokenWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let mut t = self.app_token_in(tx, key)?;
            if t.revoked_at.is_some() {
                return Err(app_token_not_found(key));
            }
            // Nobody stops a credential that may do more than they may.
            for role in &t.roles {
                self.require_within(
                    &format!(
                        "revoke token '{}' (which holds role '{}')",
                        t.name, role.name
                    ),
                    &role.policy,
                )?;
            }
            tx.revoke_app_token(&t.id, now)?;
            tx.delete_sessions_of(PrincipalKind::Application, &t.id)?;
            t.revoked_at = Some(now);
            let detail = format!("application token, client id {}", t.client_id);
            self.audit_write(tx, &org_id, now, "token.delete", &t.name, Some(&detail))?;
            Ok(t)
        })
    }
}
