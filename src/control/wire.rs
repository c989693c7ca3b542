//! The control plane in wire terms: requests and answers as [`crate::model`] types.
//! The embedded mode and the server's handlers both call these, so the same request
//! gets the same answer — and the same JSON — from either backend.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::apptokens::AppTokenSpec;
use super::error::{ControlError, ControlResult};
use super::instances::{InstanceSpec, KeyImport};
use super::policy::Policy;
use super::roles::{RoleSpec, RoleUpdate};
use super::tokens::{TokenSpec, effective_permissions};
use super::{ControlPlane, Store, model as rec};
use crate::duration::{format_duration, parse_expiry};
use crate::jwt::Algorithm;
use crate::model;

impl From<rec::Instance> for model::Instance {
    fn from(i: rec::Instance) -> Self {
        model::Instance {
            name: i.name,
            algorithm: i.algorithm.to_string(),
            audience: i.audience,
            issuer: i.issuer,
            kid: i.kid,
            created_at: i.created_at,
            keys: None,
        }
    }
}

impl From<rec::SigningKey> for model::SigningKey {
    fn from(k: rec::SigningKey) -> Self {
        model::SigningKey {
            kid: k.kid,
            algorithm: k.algorithm.to_string(),
            created_at: k.created_at,
            retired_at: k.retired_at,
        }
    }
}

impl From<rec::Tenant> for model::Tenant {
    fn from(t: rec::Tenant) -> Self {
        model::Tenant {
            name: t.name,
            instance: t.instance,
            description: t.description,
            created_at: t.created_at,
            token_count: t.token_count,
        }
    }
}

/// Every `(action, resource)` pair of some policies, each once, in order.
pub fn permissions<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Vec<model::Permission> {
    let mut out: Vec<model::Permission> = Vec::new();
    for p in policies {
        for r in &p.resources {
            for a in &p.actions {
                let perm = model::Permission {
                    action: a.to_string(),
                    resource: r.to_string(),
                };
                if !out.contains(&perm) {
                    out.push(perm);
                }
            }
        }
    }
    out
}

/// A streaming token as shown: its roles, and what they let it do within its tenant.
pub fn token_view(t: rec::Token, org: &str) -> model::Token {
    let scoped = effective_permissions(&t.roles, org, &t.tenant);
    model::Token {
        id: t.id,
        name: t.name,
        kind: "streaming".into(),
        tenant: Some(t.tenant),
        instance: Some(t.instance),
        subject: Some(t.subject),
        roles: t.roles.into_iter().map(|r| r.name).collect(),
        permissions: permissions(&scoped),
        client_id: None,
        description: t.description,
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
        revoked_at: t.revoked_at,
        token: None,
        client_secret: None,
    }
}

/// An application token as shown (never its secrets).
pub fn app_token_view(t: rec::AppToken) -> model::Token {
    let perms = permissions(t.roles.iter().map(|r| &r.policy));
    model::Token {
        id: t.id,
        name: t.name,
        kind: "application".into(),
        tenant: None,
        instance: None,
        subject: None,
        roles: t.roles.into_iter().map(|r| r.name).collect(),
        permissions: perms,
        client_id: Some(t.client_id),
        description: t.description,
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
        revoked_at: t.revoked_at,
        token: None,
        client_secret: None,
    }
}

impl From<rec::Role> for model::Role {
    fn from(r: rec::Role) -> Self {
        let stamp = |at: i64| (!r.builtin).then_some(at);
        model::Role {
            created_at: stamp(r.created_at),
            updated_at: stamp(r.updated_at),
            id: r.id,
            name: r.name,
            description: r.description,
            builtin: r.builtin,
            policy: model::RolePolicy {
                effect: "allow".into(),
                actions: r.policy.actions.iter().map(ToString::to_string).collect(),
                resources: r.policy.resources.iter().map(ToString::to_string).collect(),
            },
        }
    }
}

impl From<rec::AuditRecord> for model::AuditEntry {
    fn from(a: rec::AuditRecord) -> Self {
        model::AuditEntry {
            id: a.id,
            at: a.at,
            actor: a.actor,
            action: a.action,
            target: a.target,
            detail: a.detail,
            source: a.source,
        }
    }
}

/// The user as listed (never the password hash).
pub fn user_view(u: rec::User, now: i64) -> model::User {
    model::User {
        username: u.username,
        roles: u.roles,
        created_at: u.created_at,
        locked_until: u.locked_until.filter(|until| *until > now),
        disabled_at: u.disabled_at,
    }
}

impl<S: Store> ControlPlane<S> {
    pub fn org_info(&self) -> ControlResult<model::Org> {
        let max = self.max_token_lifetime()?;
        Ok(model::Org {
            name: self.org.clone(),
            max_token_lifetime: max.map(format_duration),
            max_token_lifetime_seconds: max,
        })
    }

    pub fn update_org(&self, req: &model::OrgUpdate, now: i64) -> ControlResult<model::Org> {
        self.set_max_token_lifetime(req.max_token_lifetime_seconds, now)?;
        Ok(model::Org {
            name: self.org.clone(),
            max_token_lifetime: req.max_token_lifetime_seconds.map(format_duration),
            max_token_lifetime_seconds: req.max_token_lifetime_seconds,
        })
    }

    pub fn audit_entries(&self, since: i64) -> ControlResult<Vec<model::AuditEntry>> {
        Ok(self.audit(since)?.into_iter().map(Into::into).collect())
    }

    pub fn create_instance_req(
        &self,
        req: &model::CreateInstance,
        now: i64,
    ) -> ControlResult<model::Instance> {
        let algorithm = match &req.algorithm {
            Some(a) => Some(
                a.parse::<Algorithm>()
                    .map_err(|e| ControlError::invalid(format!("algorithm: {e}")))?,
            ),
            None => None,
        };
        let decode = |field: &str, b64: &str| {
            STANDARD.decode(b64.trim()).map_err(|_| {
                ControlError::invalid(format!(
                    "{field}: not base64 (send the key's bytes base64-encoded)"
                ))
            })
        };
        let import = match (&req.private_key, &req.secret_key) {
            (Some(_), Some(_)) => {
                return Err(ControlError::invalid(
                    "give private_key or secret_key, not both",
                ));
            }
            (Some(k), None) => Some(KeyImport::Private(decode("private_key", k)?)),
            (None, Some(k)) => Some(KeyImport::Secret(decode("secret_key", k)?)),
            (None, None) => None,
        };
        let spec = InstanceSpec {
            name: req.name.clone(),
            algorithm,
            audience: req.audience.clone(),
            issuer: req.issuer.clone(),
            import,
        };
        self.create_instance(&spec, now).map(Into::into)
    }

    pub fn instances_info(&self) -> ControlResult<Vec<model::Instance>> {
        Ok(self.instances()?.into_iter().map(Into::into).collect())
    }

    /// An instance with its keys, newest first.
    pub fn instance_info(&self, name: &str) -> ControlResult<model::Instance> {
        let instance = self.instance(name)?;
        let keys = self.instance_keys(name)?;
        let mut view = model::Instance::from(instance);
        view.keys = Some(keys.into_iter().map(Into::into).collect());
        Ok(view)
    }

    pub fn delete_instance_req(
        &self,
        name: &str,
        cascade: bool,
        now: i64,
    ) -> ControlResult<model::Deleted> {
        let count = self.delete_instance(name, cascade, now)?;
        Ok(model::Deleted {
            count: count as i64,
        })
    }

    pub fn public_key_info(&self, name: &str) -> ControlResult<model::PublicKey> {
        let (instance, der) = self.public_key(name)?;
        Ok(model::PublicKey {
            instance: instance.name,
            algorithm: instance.algorithm.to_string(),
            kid: instance.kid,
            der: STANDARD.encode(der),
        })
    }

    /// The JSON Web Key Set of an instance: every key with a public half, active first.
    /// Public: no check (brokers and gateways fetch it without credentials).
    pub fn jwks(&self, name: &str) -> ControlResult<serde_json::Value> {
        let keys = self.keys_of(name)?;
        let mut jwks = Vec::new();
        for key in keys {
            if let Some(der) = &key.public_der {
                let jwk = crate::keys::public_jwk(&key.kid, key.algorithm, der)
                    .map_err(|e| ControlError::Crypto(e.to_string()))?;
                jwks.push(jwk);
            }
        }
        Ok(serde_json::json!({ "keys": jwks }))
    }

    pub fn broker_config_info(&self, name: &str) -> ControlResult<model::BrokerConfig> {
        Ok(model::BrokerConfig {
            lines: self.broker_config(name)?,
        })
    }

    pub fn rotate_key_info(&self, name: &str, now: i64) -> ControlResult<model::Rotation> {
        let rotation = self.rotate_key(name, now)?;
        // Answering with the keys is part of the rotation, not another read to authorize:
        // a refusal now would report as failed a rotation that happened.
        let keys = self.keys_of(name)?;
        let mut instance = model::Instance::from(rotation.instance);
        instance.keys = Some(keys.into_iter().map(Into::into).collect());
        Ok(model::Rotation {
            instance,
            retired_kid: rotation.retired_kid,
            still_using_old: rotation
                .still_using_old
                .iter()
                .map(|t| format!("{}/{}", t.tenant, t.name))
                .collect(),
        })
    }

    pub fn create_tenant_req(
        &self,
        req: &model::CreateTenant,
        now: i64,
    ) -> ControlResult<model::Tenant> {
        self.create_tenant(
            &req.name,
            req.instance.as_deref(),
            req.description.as_deref(),
            now,
        )
        .map(Into::into)
    }

    pub fn tenants_info(&self, instance: Option<&str>) -> ControlResult<Vec<model::Tenant>> {
        Ok(self
            .tenants(instance)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn tenant_info(&self, name: &str) -> ControlResult<model::Tenant> {
        self.tenant(name).map(Into::into)
    }

    pub fn delete_tenant_req(&self, name: &str, now: i64) -> ControlResult<model::Deleted> {
        let count = self.delete_tenant(name, now)?;
        Ok(model::Deleted { count })
    }

    /// Creates a streaming token; `expires` is read against this plane's clock (`now`).
    pub fn create_token_req(
        &self,
        tenant: &str,
        req: &model::CreateToken,
        now: i64,
    ) -> ControlResult<model::Token> {
        let expiry = parse_expiry(&req.expires, now).map_err(ControlError::Invalid)?;
        let spec = TokenSpec {
            tenant: tenant.to_string(),
            name: req.name.clone(),
            subject: req.subject.clone(),
            description: req.description.clone(),
            expiry,
            roles: req.roles.clone(),
        };
        let created = self.create_token(&spec, now)?;
        let mut view = token_view(created.record, &self.org);
        view.token = Some(created.jwt);
        Ok(view)
    }

    /// Streaming tokens (of one tenant, or of every tenant), then — when `kind` allows and
    /// no tenant is named — the org's application tokens.
    pub fn tokens_info(
        &self,
        tenant: Option<&str>,
        kind: Option<&str>,
    ) -> ControlResult<Vec<model::Token>> {
        let (streaming, application) = match kind {
            None => (true, tenant.is_none()),
            Some("streaming") => (true, false),
            Some("application") if tenant.is_none() => (false, true),
            Some("application") => {
                return Err(ControlError::invalid(
                    "application tokens belong to the org, not a tenant: leave out --tenant",
                ));
            }
            Some(other) => {
                return Err(ControlError::invalid(format!(
                    "unknown token type '{other}': use streaming or application"
                )));
            }
        };
        let mut out = Vec::new();
        if streaming {
            out.extend(
                self.tokens(tenant)?
                    .into_iter()
                    .map(|t| token_view(t, &self.org)),
            );
        }
        if application {
            // Someone who may read only some tenants' tokens still sees those.
            let org_wide = self.may(super::policy::Action::TokenRead, &self.org_resource());
            if org_wide || kind == Some("application") {
                out.extend(self.app_tokens()?.into_iter().map(app_token_view));
            }
        }
        Ok(out)
    }

    pub fn token_info(&self, tenant: &str, name_or_id: &str) -> ControlResult<model::Token> {
        self.token(tenant, name_or_id)
            .map(|t| token_view(t, &self.org))
    }

    pub fn revoke_token_req(
        &self,
        tenant: &str,
        name_or_id: &str,
        now: i64,
    ) -> ControlResult<model::Token> {
        self.revoke_token(tenant, name_or_id, now)
            .map(|t| token_view(t, &self.org))
    }

    pub fn create_app_token_req(
        &self,
        req: &model::CreateAppToken,
        now: i64,
    ) -> ControlResult<model::Token> {
        let expiry = parse_expiry(req.expires.as_deref().unwrap_or("never"), now)
            .map_err(ControlError::Invalid)?;
        let spec = AppTokenSpec {
            name: req.name.clone(),
            description: req.description.clone(),
            roles: req.roles.clone(),
            expiry,
        };
        let created = self.create_app_token(&spec, now)?;
        let mut view = app_token_view(created.record);
        view.token = Some(created.token);
        view.client_secret = Some(created.client_secret);
        Ok(view)
    }

    pub fn app_token_info(&self, key: &str) -> ControlResult<model::Token> {
        self.app_token(key).map(app_token_view)
    }

    pub fn revoke_app_token_req(&self, key: &str, now: i64) -> ControlResult<model::Token> {
        self.revoke_app_token(key, now).map(app_token_view)
    }

    pub fn roles_info(&self) -> ControlResult<Vec<model::Role>> {
        Ok(self.roles()?.into_iter().map(Into::into).collect())
    }

    pub fn role_info(&self, name_or_id: &str) -> ControlResult<model::Role> {
        self.role(name_or_id).map(Into::into)
    }

    pub fn create_role_req(&self, req: &model::CreateRole, now: i64) -> ControlResult<model::Role> {
        let spec = RoleSpec {
            name: req.name.clone(),
            description: req.description.clone(),
            actions: req.actions.clone(),
            resources: req.resources.clone(),
        };
        self.create_role(&spec, now).map(Into::into)
    }

    pub fn update_role_req(
        &self,
        name_or_id: &str,
        req: &model::UpdateRole,
        now: i64,
    ) -> ControlResult<model::Role> {
        let update = RoleUpdate {
            description: req.description.clone(),
            actions: req.actions.clone(),
            resources: req.resources.clone(),
        };
        self.update_role(name_or_id, &update, now).map(Into::into)
    }

    pub fn delete_role_req(
        &self,
        name_or_id: &str,
        force: bool,
        now: i64,
    ) -> ControlResult<model::RoleDeleted> {
        let (name, holders) = self.delete_role(name_or_id, force, now)?;
        Ok(model::RoleDeleted {
            name,
            holders: holders
                .into_iter()
                .map(|(kind, name)| format!("{kind} {name}"))
                .collect(),
        })
    }

    pub fn create_user_req(&self, req: &model::CreateUser, now: i64) -> ControlResult<model::User> {
        self.create_user(&req.username, &req.password, &req.roles, now)
            .map(|u| user_view(u, now))
    }

    pub fn grant_role_req(
        &self,
        username: &str,
        role: &str,
        now: i64,
    ) -> ControlResult<model::RoleGranted> {
        let (user, granted) = self.grant_role(username, role, now)?;
        Ok(model::RoleGranted {
            user: user_view(user, now),
            granted,
        })
    }

    pub fn revoke_role_req(
        &self,
        username: &str,
        role: &str,
        now: i64,
    ) -> ControlResult<model::User> {
        self.revoke_role(username, role, now)
            .map(|u| user_view(u, now))
    }

    pub fn update_user_req(
        &self,
        username: &str,
        req: &model::UserUpdate,
        now: i64,
    ) -> ControlResult<model::User> {
        self.set_user_disabled(username, req.disabled, now)
            .map(|u| user_view(u, now))
    }

    pub fn users_info(&self, now: i64) -> ControlResult<Vec<model::User>> {
        Ok(self
            .users()?
            .into_iter()
            .map(|u| user_view(u, now))
            .collect())
    }

    pub fn user_info(&self, username: &str, now: i64) -> ControlResult<model::User> {
        self.user(username).map(|u| user_view(u, now))
    }
}

/// A service account as shown.
pub fn service_account_view(sa: rec::ServiceAccount, org: &str) -> model::ServiceAccount {
    model::ServiceAccount {
        principal: super::apikeys::principal_of(&sa.name, org),
        name: sa.name,
        description: sa.description,
        roles: sa.roles.into_iter().map(|r| r.name).collect(),
        created_at: sa.created_at,
        apikey_count: sa.apikey_count,
        apikeys: None,
    }
}

/// An API key as shown at `now` (never the key).
pub fn api_key_view(k: rec::ApiKey, now: i64) -> model::ApiKey {
    model::ApiKey {
        status: super::apikeys::status(&k, now).to_string(),
        id: k.id,
        name: k.name,
        service_account: k.service_account,
        instance: k.instance,
        description: k.description,
        created_at: k.created_at,
        expires_at: k.expires_at,
        revoked_at: k.revoked_at,
        last_used_at: k.last_used_at,
        key: None,
    }
}

impl From<rec::Revocation> for model::Revocation {
    fn from(r: rec::Revocation) -> Self {
        model::Revocation {
            jti: r.jti,
            kind: r.kind,
            revoked_at: r.revoked_at,
            expires_at: r.expires_at,
        }
    }
}

impl From<super::introspect::Introspection> for model::Introspection {
    fn from(i: super::introspect::Introspection) -> Self {
        model::Introspection {
            active: i.active,
            token_type: i.token_type.map(str::to_string),
            sub: i.sub,
            aud: i.aud,
            exp: i.exp,
            iat: i.iat,
            jti: i.jti,
            tenant: i.tenant,
            service_account: i.service_account,
            client_id: i.client_id,
            username: i.username,
            scope: i.scope,
            reason: i.reason,
        }
    }
}

impl<S: Store> ControlPlane<S> {
    pub fn create_service_account_req(
        &self,
        req: &model::CreateServiceAccount,
        now: i64,
    ) -> ControlResult<model::ServiceAccount> {
        self.create_service_account(&req.name, req.description.as_deref(), &req.roles, now)
            .map(|sa| service_account_view(sa, &self.org))
    }

    pub fn service_accounts_info(&self) -> ControlResult<Vec<model::ServiceAccount>> {
        Ok(self
            .service_accounts()?
            .into_iter()
            .map(|sa| service_account_view(sa, &self.org))
            .collect())
    }

    /// A service account with its keys.
    pub fn service_account_info(
        &self,
        name: &str,
        now: i64,
    ) -> ControlResult<model::ServiceAccount> {
        let (sa, keys) = self.service_account(name)?;
        let mut view = service_account_view(sa, &self.org);
        view.apikeys = Some(keys.into_iter().map(|k| api_key_view(k, now)).collect());
        Ok(view)
    }

    pub fn delete_service_account_req(
        &self,
        name: &str,
        now: i64,
    ) -> ControlResult<model::ServiceAccountDeleted> {
        let deleted = self.delete_service_account(name, now)?;
        Ok(model::ServiceAccountDeleted {
            name: deleted.name,
            apikeys_deleted: deleted.keys.len() as i64,
        })
    }

    pub fn create_api_key_req(
        &self,
        req: &model::CreateApiKey,
        now: i64,
    ) -> ControlResult<model::ApiKey> {
        let expiry = parse_expiry(req.expires.as_deref().unwrap_or("30d"), now)
            .map_err(ControlError::Invalid)?;
        let spec = super::apikeys::ApiKeySpec {
            service_account: req.service_account.clone(),
            instance: req.instance.clone(),
            name: req.name.clone(),
            description: req.description.clone(),
            expiry,
        };
        let created = self.create_api_key(&spec, now)?;
        let mut view = api_key_view(created.record, now);
        view.key = Some(created.jwt);
        Ok(view)
    }

    pub fn api_keys_info(
        &self,
        filter: &model::ApiKeyFilter,
        now: i64,
    ) -> ControlResult<Vec<model::ApiKey>> {
        if let Some(s) = &filter.status
            && !["active", "revoked", "expired"].contains(&s.as_str())
        {
            return Err(ControlError::invalid(format!(
                "unknown status '{s}': use active, revoked or expired"
            )));
        }
        // A filter naming what does not exist is a mistake, not an empty answer; a name or
        // an id selects the same keys.
        let sa_id = match &filter.service_account {
            Some(sa) => Some(self.service_account(sa)?.0.id),
            None => None,
        };
        let instance_id = match &filter.instance {
            Some(i) => Some(self.store.read(|tx| self.instance_in(tx, i))?.id),
            None => None,
        };
        Ok(self
            .api_keys()?
            .into_iter()
            .filter(|k| sa_id.as_ref().is_none_or(|id| *id == k.service_account_id))
            .filter(|k| instance_id.as_ref().is_none_or(|id| *id == k.instance_id))
            .map(|k| api_key_view(k, now))
            .filter(|k| filter.status.as_ref().is_none_or(|s| *s == k.status))
            .collect())
    }

    pub fn api_key_info(&self, name_or_id: &str, now: i64) -> ControlResult<model::ApiKey> {
        self.api_key(name_or_id).map(|k| api_key_view(k, now))
    }

    /// The key, and whether this call revoked it (false: it already was).
    pub fn revoke_api_key_req(
        &self,
        name_or_id: &str,
        now: i64,
    ) -> ControlResult<(model::ApiKey, bool)> {
        self.revoke_api_key(name_or_id, now)
            .map(|(k, revoked)| (api_key_view(k, now), revoked))
    }

    pub fn delete_api_key_req(&self, name_or_id: &str, now: i64) -> ControlResult<model::ApiKey> {
        self.delete_api_key(name_or_id, now)
            .map(|k| api_key_view(k, now))
    }

    /// The feed after `since` (a cursor from a previous answer; none: from the start).
    pub fn revocation_feed(
        &self,
        since: Option<&str>,
        limit: usize,
    ) -> ControlResult<model::RevocationFeed> {
        let after = match since {
            None => 0,
            Some(c) => c
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ControlError::invalid(format!(
                        "invalid cursor '{c}': pass the next_cursor of a previous answer, or \
                     leave it out to start from the beginning"
                    ))
                })?,
        };
        let items = self.revocations(after, limit)?;
        let next = items.last().map_or(after, |r| r.seq);
        Ok(model::RevocationFeed {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor: next.to_string(),
        })
    }

    /// The answer, and the use it leaves to write down (reads only).
    pub fn introspect_req(
        &self,
        token: &str,
        now: i64,
        cache: Option<&super::introspect::IssuedCache>,
    ) -> ControlResult<(model::Introspection, Option<super::introspect::Touch>)> {
        let mut answer = self.introspect_with(token, now, cache)?;
        let touch = answer.touch.take();
        Ok((answer.into(), touch))
    }
}
