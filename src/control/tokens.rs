//! Streaming tokens: Pulsar JWTs for a tenant, signed by the tenant's instance key.
//! The token is returned once; the store keeps its metadata, `jti` and a SHA-256 hash.

use aws_lc_rs::digest;

use super::error::{ControlError, ControlResult};
use super::model::{HOLDER_STREAMING_TOKEN, Role, Token};
use super::policy::{Action, Policy};
use super::tenants::tenant_not_found;
use super::usage::billing::Metric;
use super::{ControlPlane, Store, Tx, ids};
use crate::duration::Expiry;

/// What `token create` asks for.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub tenant: String,
    /// Generated (`<tenant>-<6 hex>`) when not given.
    pub name: Option<String>,
    /// The `sub` claim (the Pulsar role); defaults to the token's name.
    pub subject: Option<String>,
    pub description: Option<String>,
    pub expiry: Expiry,
    /// Roles recorded for the token's subject (names or ids).
    pub roles: Vec<String>,
}

/// A token as created: its record and the JWT, shown once.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub record: Token,
    pub jwt: String,
}

/// Token names: 1-64 of letters, digits, '-', '_' and '.'.
pub fn validate_token_name(name: &str) -> ControlResult<()> {
    validate_credential_name("token", name)
}

/// Names of tokens and API keys (`what` says which, in the message).
pub fn validate_credential_name(what: &str, name: &str) -> ControlResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(format!(
            "invalid {what} name '{name}': use 1-64 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// What a streaming token of `tenant` whose subject carries `roles` may do: each role's
/// Pulsar actions, within the tenant.
pub fn effective_permissions(roles: &[Role], org: &str, tenant: &str) -> Vec<Policy> {
    roles
        .iter()
        .filter_map(|r| r.policy.within_tenant(org, tenant))
        .collect()
}

/// Enforces the org's maximum lifetime: `never` and longer expiries are refused.
pub(super) fn check_lifetime(max: Option<i64>, expiry: Expiry, now: i64) -> ControlResult<()> {
    let Some(max) = max else { return Ok(()) };
    let too_long = match expiry {
        Expiry::Never => true,
        Expiry::At(exp) => exp - now > max,
    };
    if too_long {
        return Err(ControlError::invalid(format!(
            "this org allows tokens of at most {}; ask for a shorter --expires (`never` is not \
             allowed while a maximum is set)",
            crate::duration::format_duration(max)
        )));
    }
    Ok(())
}

fn token_not_found(tenant: &str, name_or_id: &str) -> ControlError {
    ControlError::NotFound {
        what: "token",
        name: format!("{tenant}/{name_or_id}"),
        hint: Some(format!(
            "list tokens with `tok token list --tenant {tenant}`"
        )),
    }
}

impl<S: Store> ControlPlane<S> {
    pub fn create_token(&self, spec: &TokenSpec, now: i64) -> ControlResult<CreatedToken> {
        self.require_on(
            Action::TokenWrite,
            &self.tenant_resource(&spec.tenant),
            || tenant_not_found(&spec.tenant),
        )?;
        let (tenant, roles) = self.store.read(|tx| {
            let tenant = self.tenant_ref_in(tx, &spec.tenant)?;
            let roles = self.token_roles_within(tx, &tenant.name, &spec.roles)?;
            Ok((tenant, roles))
        })?;
        let name = match &spec.name {
            Some(n) => n.clone(),
            None => format!("{}-{}", tenant.name, ids::random_hex(3)),
        };
        validate_token_name(&name)?;
        let subject = spec.subject.clone().unwrap_or_else(|| name.clone());
        if subject.trim().is_empty() {
            return Err(ControlError::invalid("--subject is empty"));
        }
        // `<name>@<org>` is a service account's principal (its API keys' `sub`): a broker
        // authorizes by `sub`, so a streaming token with it would act as that account.
        if subject.trim().ends_with(&format!("@{}", self.org)) {
            return Err(ControlError::invalid(format!(
                "the subject '{subject}' ends with '@{}', which names service accounts (their \
                 API keys' subject): pick another, or mint a key with `tok apikey create`",
                self.org
            )));
        }
        if let Expiry::At(exp) = spec.expiry
            && exp <= now
        {
            return Err(ControlError::invalid("the expiry is not in the future"));
        }
        let instance = self
            .store
            .read(|tx| self.instance_in(tx, &tenant.instance))?;
        let id = ids::new_id("tok");
        let (jwt, expires_at) = self.mint(&instance, &subject, &id, spec.expiry, now)?;
        let record = Token {
            id,
            tenant_id: tenant.id.clone(),
            tenant: tenant.name.clone(),
            instance: instance.name.clone(),
            name: name.clone(),
            subject,
            description: spec.description.clone(),
            kid: instance.kid.clone(),
            token_hash: digest::digest(&digest::SHA256, jwt.as_bytes())
                .as_ref()
                .to_vec(),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
            roles,
        };
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            check_lifetime(tx.max_token_lifetime(&org_id)?, spec.expiry, now)?;
            // Re-read inside the write lock: the tenant may have gone, the name been taken,
            // a role been changed.
            let tenant = self.tenant_ref_in(tx, &spec.tenant)?;
            self.token_roles_within(tx, &tenant.name, &spec.roles)?;
            if tx.token(&tenant.id, &name)?.is_some() {
                return Err(ControlError::conflict(
                    format!(
                        "tenant '{}' already has a token named '{name}'",
                        tenant.name
                    ),
                    Some(format!(
                        "list them with `tok token list --tenant {}`",
                        tenant.name
                    )),
                ));
            }
            tx.insert_token(&record)?;
            let target = format!("{}/{}", tenant.name, name);
            for role in &record.roles {
                tx.assign_role(&role.id, HOLDER_STREAMING_TOKEN, &record.id, &target)?;
            }
            let mut detail = format!("subject {}, kid {}", record.subject, record.kid);
            if !record.roles.is_empty() {
                let names: Vec<&str> = record.roles.iter().map(|r| r.name.as_str()).collect();
                detail.push_str(&format!(", roles {}", names.join(", ")));
            }
            self.audit_write(tx, &org_id, now, "token.create", &target, Some(&detail))?;
            Ok(())
        })?;
        self.meter_count(&record.tenant, Metric::TokensIssued, now);
        Ok(CreatedToken { record, jwt })
    }

    /// The roles `names` for a streaming token of `tenant`: each must mean something there
    /// (a Pulsar action within the tenant), and the caller must hold what it means.
    fn token_roles_within(
        &self,
        tx: &mut dyn Tx,
        tenant: &str,
        names: &[String],
    ) -> ControlResult<Vec<Role>> {
        let org_id = self.org_id(tx)?;
        let roles = self.resolve_roles(tx, &org_id, names)?;
        for role in &roles {
            let Some(scoped) = role.policy.within_tenant(&self.org, tenant) else {
                return Err(ControlError::invalid(format!(
                    "role '{}' grants no Pulsar action (produce, consume, functions, sources, \
                     sinks, packages) within tenant '{tenant}': a streaming token of it could \
                     do nothing the role allows",
                    role.name
                )));
            };
            self.require_within(
                &format!(
                    "record role '{}' on a token of tenant '{tenant}'",
                    role.name
                ),
                &scoped,
            )?;
        }
        Ok(roles)
    }

    /// Streaming tokens of one tenant, or of every tenant the caller may read tokens of;
    /// revoked ones included.
    pub fn tokens(&self, tenant: Option<&str>) -> ControlResult<Vec<Token>> {
        match tenant {
            Some(t) => self.require_on(Action::TokenRead, &self.tenant_resource(t), || {
                tenant_not_found(t)
            })?,
            None => self.require_somewhere(Action::TokenRead)?,
        }
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            let tenant_id = match tenant {
                Some(t) => Some(self.tenant_ref_in(tx, t)?.id),
                None => None,
            };
            let mut tokens = tx.tokens(&org_id, tenant_id.as_deref())?;
            tokens.retain(|k| self.may(Action::TokenRead, &self.tenant_resource(&k.tenant)));
            for token in &mut tokens {
                token.roles = tx.roles_of(&self.org, HOLDER_STREAMING_TOKEN, &token.id)?;
            }
            Ok(tokens)
        })
    }

    pub fn token(&self, tenant: &str, name_or_id: &str) -> ControlResult<Token> {
        self.require_on(Action::TokenRead, &self.tenant_resource(tenant), || {
            tenant_not_found(tenant)
        })?;
        self.store.read(|tx| {
            let mut token = self.token_in(tx, tenant, name_or_id)?;
            token.roles = tx.roles_of(&self.org, HOLDER_STREAMING_TOKEN, &token.id)?;
            Ok(token)
        })
    }

    fn token_in(&self, tx: &mut dyn Tx, tenant: &str, name_or_id: &str) -> ControlResult<Token> {
        // One lookup when it exists; otherwise find out which part is missing.
        if let Some(token) = tx.token_by_names(&self.org, tenant, name_or_id)? {
            return Ok(token);
        }
        let tenant = self.tenant_ref_in(tx, tenant)?;
        tx.token(&tenant.id, name_or_id)?
            .ok_or_else(|| token_not_found(&tenant.name, name_or_id))
    }

    /// Revokes a token: it stays listed with `revoked_at` (for the revocation feed).
    pub fn revoke_token(&self, tenant: &str, name_or_id: &str, now: i64) -> ControlResult<Token> {
        self.require_on(Action::TokenWrite, &self.tenant_resource(tenant), || {
            tenant_not_found(tenant)
        })?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let t = self.tenant_ref_in(tx, tenant)?;
            let mut token = tx
                .token(&t.id, name_or_id)?
                .filter(|k| k.revoked_at.is_none())
                .ok_or_else(|| token_not_found(&t.name, name_or_id))?;
            tx.revoke_token(&token.id, now)?;
            super::apikeys::feed(tx, &org_id, &token.id, "streaming", now, token.expires_at)?;
            token.revoked_at = Some(now);
            token.roles = tx.roles_of(&self.org, HOLDER_STREAMING_TOKEN, &token.id)?;
            let target = format!("{}/{}", t.name, token.name);
            self.audit_write(tx, &org_id, now, "token.delete", &target, Some(&token.id))?;
            Ok(token)
        })
    }
}
