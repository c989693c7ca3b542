//! The control plane in wire terms: requests and answers as [`crate::model`] types.
//! The embedded mode and the server's handlers both call these, so the same request
//! gets the same answer — and the same JSON — from either backend.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::{ControlError, ControlResult};
use super::instances::{InstanceSpec, KeyImport};
use super::tokens::TokenSpec;
use super::users::ADMIN_ROLE;
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

impl From<rec::Token> for model::Token {
    fn from(t: rec::Token) -> Self {
        model::Token {
            id: t.id,
            name: t.name,
            kind: "streaming".into(),
            tenant: t.tenant,
            instance: t.instance,
            subject: t.subject,
            roles: Vec::new(),
            client_id: None,
            description: t.description,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            token: None,
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
        roles: vec![ADMIN_ROLE.to_string()],
        created_at: u.created_at,
        locked_until: u.locked_until.filter(|until| *until > now),
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
        self.org_info()
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
    pub fn jwks(&self, name: &str) -> ControlResult<serde_json::Value> {
        let keys = self.instance_keys(name)?;
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
        let keys = self.instance_keys(name)?;
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
        };
        let created = self.create_token(&spec, now)?;
        let mut view = model::Token::from(created.record);
        view.token = Some(created.jwt);
        Ok(view)
    }

    pub fn tokens_info(&self, tenant: Option<&str>) -> ControlResult<Vec<model::Token>> {
        Ok(self.tokens(tenant)?.into_iter().map(Into::into).collect())
    }

    pub fn token_info(&self, tenant: &str, name_or_id: &str) -> ControlResult<model::Token> {
        self.token(tenant, name_or_id).map(Into::into)
    }

    pub fn revoke_token_req(
        &self,
        tenant: &str,
        name_or_id: &str,
        now: i64,
    ) -> ControlResult<model::Token> {
        self.revoke_token(tenant, name_or_id, now).map(Into::into)
    }

    pub fn create_user_req(&self, req: &model::CreateUser, now: i64) -> ControlResult<model::User> {
        self.create_user(&req.username, &req.password, now)
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
