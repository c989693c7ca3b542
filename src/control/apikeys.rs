//! Service accounts and their API keys (StreamNative semantics), and the revocation feed.
//!
//! An API key is a JWT signed by one instance's key: `sub` = its service account's
//! principal (`<name>@<org>`), `aud` = the instance audience, `jti` = the key id, `iat`, and
//! `exp` unless it never expires. It is shown once and immutable. *Revoke* marks it revoked
//! (kept and listed, purged after the retention period); *delete* revokes and removes it at
//! once. Every revocation — of an API key or a streaming token — is appended to the org's
//! feed, which brokers and gateways poll to refuse revoked JWTs before they expire.

use aws_lc_rs::digest;

use super::error::{ControlError, ControlResult};
use super::model::{ApiKey, HOLDER_SERVICE_ACCOUNT, Revocation, ServiceAccount, Token};
use super::policy::Action;
use super::tokens::{check_lifetime, validate_credential_name};
use super::usage::billing::Metric;
use super::{ControlPlane, Store, Tx, ids};
use crate::duration::Expiry;

/// How long a revoked API key stays listed before the purge removes it, unless a server
/// says otherwise (`--apikey-retention`).
pub const DEFAULT_RETENTION_SECS: i64 = 15 * 86_400;

/// What `apikey create` asks for.
#[derive(Debug, Clone)]
pub struct ApiKeySpec {
    pub service_account: String,
    /// `None`: the org's only instance.
    pub instance: Option<String>,
    /// Generated (`<service account>-<6 hex>`) when not given.
    pub name: Option<String>,
    pub description: Option<String>,
    pub expiry: Expiry,
}

/// An API key as created: its record and the JWT, shown once.
pub struct CreatedApiKey {
    pub record: ApiKey,
    pub jwt: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// A key's status at `now`.
pub fn status(key: &ApiKey, now: i64) -> &'static str {
    if key.revoked_at.is_some() {
        "revoked"
    } else if key.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    }
}

/// The principal (`sub`) of a service account's API keys.
pub fn principal_of(service_account: &str, org: &str) -> String {
    format!("{service_account}@{org}")
}

/// What a service account delete takes with it.
#[derive(Debug, Clone)]
pub struct DeletedServiceAccount {
    pub name: String,
    /// Keys deleted (revoked first, so they are in the feed).
    pub keys: Vec<ApiKey>,
}

fn sa_not_found(name: &str) -> ControlError {
    ControlError::NotFound {
        what: "service account",
        name: name.to_string(),
        hint: Some(format!(
            "create it with `tok service-account create {name}`"
        )),
    }
}

fn key_not_found(name: &str) -> ControlError {
    ControlError::NotFound {
        what: "API key",
        name: name.to_string(),
        hint: Some("list them with `tok apikey list`".into()),
    }
}

/// Service account names: 1-64 of a-z, 0-9, '-', '_' and '.', starting with a letter or
/// digit (they become part of the keys' `sub`).
pub fn validate_service_account_name(name: &str) -> ControlResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(format!(
            "invalid service account name '{name}': use 1-64 of a-z, 0-9, '-', '_' and '.', \
             starting with a letter or digit"
        )))
    }
}

impl<S: Store> ControlPlane<S> {
    pub fn create_service_account(
        &self,
        name: &str,
        description: Option<&str>,
        roles: &[String],
        now: i64,
    ) -> ControlResult<ServiceAccount> {
        self.require_org(Action::ServiceAccountWrite)?;
        validate_service_account_name(name)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let roles = self.roles_within(tx, "grant", roles)?;
            if tx.service_account(&org_id, name)?.is_some() {
                return Err(ControlError::conflict(
                    format!("service account '{name}' already exists"),
                    Some("list them with `tok service-account list`".into()),
                ));
            }
            let sa = ServiceAccount {
                id: ids::new_id("sa"),
                org_id: org_id.clone(),
                name: name.to_string(),
                description: description.map(str::to_string),
                created_at: now,
                apikey_count: 0,
                roles,
            };
            tx.insert_service_account(&sa)?;
            for role in &sa.roles {
                tx.assign_role(&role.id, HOLDER_SERVICE_ACCOUNT, &sa.id, name)?;
            }
            let names: Vec<&str> = sa.roles.iter().map(|r| r.name.as_str()).collect();
            let detail = format!("roles {}", names.join(", "));
            self.audit_write(
                tx,
                &org_id,
                now,
                "service-account.create",
                name,
                Some(&detail),
            )?;
            Ok(sa)
        })
    }

    pub fn service_accounts(&self) -> ControlResult<Vec<ServiceAccount>> {
        self.require_org(Action::ServiceAccountRead)?;
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            let mut all = tx.service_accounts(&org_id)?;
            for sa in &mut all {
                sa.roles = tx.roles_of(&self.org, HOLDER_SERVICE_ACCOUNT, &sa.id)?;
            }
            Ok(all)
        })
    }

    /// A service account and its keys (revoked ones included).
    pub fn service_account(&self, name: &str) -> ControlResult<(ServiceAccount, Vec<ApiKey>)> {
        self.require_org(Action::ServiceAccountRead)?;
        self.store.read(|tx| {
            let sa = self.service_account_in(tx, name)?;
            let keys = tx
                .api_keys(&sa.org_id)?
                .into_iter()
                .filter(|k| k.service_account_id == sa.id)
                .collect();
            Ok((sa, keys))
        })
    }

    fn service_account_in(&self, tx: &mut dyn Tx, name: &str) -> ControlResult<ServiceAccount> {
        let org_id = self.org_id(tx)?;
        let mut sa = tx
            .service_account(&org_id, name.trim())?
            .ok_or_else(|| sa_not_found(name))?;
        sa.roles = tx.roles_of(&self.org, HOLDER_SERVICE_ACCOUNT, &sa.id)?;
        Ok(sa)
    }

    /// Deletes a service account and every API key it owns (each revoked into the feed
    /// first). The caller must hold what its roles grant.
    pub fn delete_service_account(
        &self,
        name: &str,
        now: i64,
    ) -> ControlResult<DeletedServiceAccount> {
        self.require_org(Action::ServiceAccountWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let sa = self.service_account_in(tx, name)?;
            self.require_roles_within(
                &format!("delete service account '{}', which holds", sa.name),
                &sa.roles,
            )?;
            let keys: Vec<ApiKey> = tx
                .api_keys(&org_id)?
                .into_iter()
                .filter(|k| k.service_account_id == sa.id)
                .collect();
            for key in keys.iter().filter(|k| k.revoked_at.is_none()) {
                feed(tx, &org_id, &key.id, "apikey", now, key.expires_at)?;
            }
            tx.delete_service_account(&sa.id)?;
            let detail = format!("{} API key(s) deleted with it", keys.len());
            self.audit_write(
                tx,
                &org_id,
                now,
                "service-account.delete",
                &sa.name,
                Some(&detail),
            )?;
            Ok(DeletedServiceAccount {
                name: sa.name,
                keys,
            })
        })
    }

    /// Mints an API key for a service account on an instance. The caller must hold what
    /// the service account's roles grant (a key acts as its service account).
    pub fn create_api_key(&self, spec: &ApiKeySpec, now: i64) -> ControlResult<CreatedApiKey> {
        self.require_org(Action::ApikeyWrite)?;
        if let Expiry::At(exp) = spec.expiry
            && exp <= now
        {
            return Err(ControlError::invalid("the expiry is not in the future"));
        }
        let sa = self.store.read(|tx| {
            let sa = self.service_account_in(tx, &spec.service_account)?;
            self.require_roles_within("give a key of", &sa.roles)?;
            Ok(sa)
        })?;
        let instance = self.pick_instance(spec.instance.as_deref())?;
        let name = match &spec.name {
            Some(n) => n.trim().to_string(),
            None => format!("{}-{}", sa.name, ids::random_hex(3)),
        };
        validate_credential_name("API key", &name)?;
        let id = ids::new_id("key");
        let (jwt, expires_at) = self.mint(
            &instance,
            &principal_of(&sa.name, &self.org),
            &id,
            spec.expiry,
            now,
        )?;
        let record = ApiKey {
            id,
            org_id: sa.org_id.clone(),
            service_account_id: sa.id.clone(),
            service_account: sa.name.clone(),
            instance_id: instance.id.clone(),
            instance: instance.name.clone(),
            name: name.clone(),
            description: spec.description.clone(),
            kid: instance.kid.clone(),
            key_hash: digest::digest(&digest::SHA256, jwt.as_bytes())
                .as_ref()
                .to_vec(),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            check_lifetime(tx.max_token_lifetime(&org_id)?, spec.expiry, now)?;
            // Re-read inside the write lock: the account or its roles may have changed.
            let sa = self.service_account_in(tx, &spec.service_account)?;
            self.require_roles_within("give a key of", &sa.roles)?;
            if tx.api_key(&org_id, &name)?.is_some() {
                return Err(ControlError::conflict(
                    format!("an API key named '{name}' already exists"),
                    Some("list them with `tok apikey list`".into()),
                ));
            }
            tx.insert_api_key(&record)?;
            let detail = format!(
                "service account {}, instance {}, kid {}",
                record.service_account, record.instance, record.kid
            );
            self.audit_write(tx, &org_id, now, "apikey.create", &name, Some(&detail))
        })?;
        self.meter_count("", Metric::TokensIssued, now);
        Ok(CreatedApiKey { record, jwt })
    }

    /// The org's API keys (revoked ones until purged), oldest first.
    pub fn api_keys(&self) -> ControlResult<Vec<ApiKey>> {
        self.require_org(Action::ApikeyRead)?;
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.api_keys(&org_id)
        })
    }

    pub fn api_key(&self, name_or_id: &str) -> ControlResult<ApiKey> {
        self.require_org(Action::ApikeyRead)?;
        self.store.read(|tx| self.api_key_in(tx, name_or_id))
    }

    fn api_key_in(&self, tx: &mut dyn Tx, name_or_id: &str) -> ControlResult<ApiKey> {
        let org_id = self.org_id(tx)?;
        tx.api_key(&org_id, name_or_id.trim())?
            .ok_or_else(|| key_not_found(name_or_id))
    }

    /// Revokes an API key (it stays listed, revoked, until purged). Revoking a revoked key
    /// changes nothing; the answer says whether this call revoked it.
    pub fn revoke_api_key(&self, name_or_id: &str, now: i64) -> ControlResult<(ApiKey, bool)> {
        self.require_org(Action::ApikeyWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let mut key = self.api_key_in(tx, name_or_id)?;
            if key.revoked_at.is_some() {
                return Ok((key, false));
            }
            self.require_over_key(tx, &key, "revoke")?;
            tx.revoke_api_key(&key.id, now)?;
            feed(tx, &org_id, &key.id, "apikey", now, key.expires_at)?;
            key.revoked_at = Some(now);
            self.audit_write(tx, &org_id, now, "apikey.revoke", &key.name, Some(&key.id))?;
            Ok((key, true))
        })
    }

    /// Revokes (into the feed, unless it was already) and removes an API key at once.
    pub fn delete_api_key(&self, name_or_id: &str, now: i64) -> ControlResult<ApiKey> {
        self.require_org(Action::ApikeyWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let key = self.api_key_in(tx, name_or_id)?;
            self.require_over_key(tx, &key, "delete")?;
            if key.revoked_at.is_none() {
                feed(tx, &org_id, &key.id, "apikey", now, key.expires_at)?;
            }
            tx.delete_api_key(&key.id)?;
            self.audit_write(tx, &org_id, now, "apikey.delete", &key.name, Some(&key.id))?;
            Ok(key)
        })
    }

    /// Nobody stops a key that may do more than they may.
    pub(super) fn require_over_key(
        &self,
        tx: &mut dyn Tx,
        key: &ApiKey,
        verb: &str,
    ) -> ControlResult<()> {
        let roles = tx.roles_of(&self.org, HOLDER_SERVICE_ACCOUNT, &key.service_account_id)?;
        self.require_roles_within(
            &format!("{verb} API key '{}', of an account that holds", key.name),
            &roles,
        )
    }

    /// The org's revocation feed after position `after`: at most `limit` entries, in order.
    pub fn revocations(&self, after: i64, limit: usize) -> ControlResult<Vec<Revocation>> {
        self.require_org(Action::Introspect)?;
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.revocations(&org_id, after, limit)
        })
    }
}

/// Appends a revoked JWT to the org's feed.
pub(super) fn feed(
    tx: &mut dyn Tx,
    org_id: &str,
    jti: &str,
    kind: &str,
    now: i64,
    expires_at: Option<i64>,
) -> ControlResult<()> {
    tx.insert_revocation(
        org_id,
        &Revocation {
            seq: 0,
            jti: jti.to_string(),
            kind: kind.to_string(),
            revoked_at: now,
            expires_at,
        },
    )
}

/// Feeds the live streaming tokens of a tenant that is about to be deleted.
pub(super) fn feed_tenant_tokens(
    tx: &mut dyn Tx,
    org_id: &str,
    tenant_id: &str,
    now: i64,
) -> ControlResult<()> {
    let live: Vec<Token> = tx
        .tokens(org_id, Some(tenant_id))?
        .into_iter()
        .filter(|t| t.revoked_at.is_none())
        .collect();
    for t in live {
        feed(tx, org_id, &t.id, "streaming", now, t.expires_at)?;
    }
    Ok(())
}

/// The purge: API keys revoked more than `retention` seconds before `now` are removed, and
/// feed entries older than that whose JWT has expired are forgotten. Idempotent; safe to
/// run from any number of places. Returns (keys, feed entries) removed.
pub fn purge<S: Store>(store: &S, retention: i64, now: i64) -> ControlResult<(usize, usize)> {
    // A read first: most runs find nothing, and then write nothing.
    if !store.read(|tx| tx.purge_due(now - retention, now))? {
        return Ok((0, 0));
    }
    store.write(|tx| {
        let keys = tx.purge_api_keys(now - retention)?;
        let feed = tx.purge_revocations(now - retention, now)?;
        Ok((keys, feed))
    })
}
