//! The control plane's rules: names, expiry limits, cascades, what is shown once, and
//! an audit record with every change. Storage-agnostic (over [`Store`]) and clock-free:
//! every rule takes `now` (Unix seconds) as a parameter.

pub mod any;
pub mod apikeys;
pub mod apptokens;
pub mod auth;
mod authz;
mod error;
mod ids;
mod instances;
pub mod introspect;
pub mod migrate;
pub mod model;
pub mod opaque;
pub mod policy;
pub mod postgres;
pub mod purge;
#[cfg(test)]
mod purge_tests;
pub mod roles;
mod seal;
pub mod session_cache;
pub mod sqlite;
pub mod store;
mod tenants;
#[cfg(test)]
pub(crate) mod test_store;
mod tokens;
pub mod usage;
pub mod users;
mod wire;

pub use error::{ControlError, ControlResult};
pub use ids::hex;
pub use instances::{
    InstanceSpec, KeyImport, Rotation, refuse_while_tenants, validate_instance_name,
};
pub use model::{
    ApiKey, AppToken, AuditRecord, Instance, PrincipalKind, Revocation, Role, ServiceAccount,
    Session, SigningKey, Tenant, Token, User,
};
use policy::Grants;
pub use seal::{MASTER_KEY_LEN, MasterKey, Sealer};
use std::sync::Arc;
pub use store::{AuditEvent, DailyUsage, Store, StoredBatch, Tx, UsageDelta};
pub use tokens::{CreatedToken, TokenSpec};

/// The org of the embedded mode.
pub const LOCAL_ORG: &str = "local";
/// The instance the embedded mode creates on first use.
pub const LOCAL_INSTANCE: &str = "local";

/// What the owner of `org` holds: Organization Administrator.
fn owner_grants(org: &str) -> Grants {
    let name = users::ADMIN_ROLE;
    Grants::new(
        vec![name.to_string()],
        policy::default_role(name, org).into_iter().collect(),
    )
}

/// Org names: 1-63 of a-z, 0-9 and '-', starting with a letter or digit.
pub fn validate_org_name(name: &str) -> ControlResult<()> {
    instances::validate_label("org", name)
}

/// The control plane for one org, acting for one principal with its grants.
pub struct ControlPlane<S: Store> {
    store: S,
    master: Arc<MasterKey>,
    org: String,
    actor: String,
    /// What the actor may do: every operation checks it first.
    grants: Arc<Grants>,
    /// The principal acted for (`None`: the org's owner, or nobody).
    principal: Option<(PrincipalKind, String)>,
    /// Where the request came from (a server's client address), for the audit.
    source: Option<String>,
    /// Counts of the control plane's own work, written in batches (shared by `acting`).
    meter: Arc<usage::Meter>,
}

impl<S: Store> ControlPlane<S> {
    /// The control plane acting for the org's owner, who holds Organization Administrator:
    /// the embedded mode's local user, or a server's operator commands (`tok server init`).
    pub fn new(store: S, master: impl Into<Arc<MasterKey>>, org: &str, actor: &str) -> Self {
        ControlPlane {
            store,
            master: master.into(),
            org: org.to_string(),
            actor: actor.to_string(),
            grants: Arc::new(owner_grants(org)),
            principal: None,
            source: None,
            meter: Arc::default(),
        }
    }

    /// The same store and master key, acting in `org` for `principal` from `source`.
    pub fn acting(&self, org: &str, principal: &auth::Principal, source: Option<String>) -> Self
    where
        S: Clone,
    {
        ControlPlane {
            store: self.store.clone(),
            master: Arc::clone(&self.master),
            org: org.to_string(),
            actor: principal.actor(),
            grants: Arc::clone(&principal.grants),
            principal: Some((principal.kind, principal.name.clone())),
            source,
            meter: Arc::clone(&self.meter),
        }
    }

    /// The same store and master key, in `org` for nobody: no grants at all, for what is
    /// public (an instance's JWKS).
    pub fn anonymous(&self, org: &str) -> Self
    where
        S: Clone,
    {
        ControlPlane {
            store: self.store.clone(),
            master: Arc::clone(&self.master),
            org: org.to_string(),
            actor: "anonymous".to_string(),
            grants: Arc::default(),
            principal: None,
            source: None,
            meter: Arc::clone(&self.meter),
        }
    }

    /// The master key, for callers that seal their own records (idempotent responses).
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// The store, for callers that coordinate on it (the embedded mode's first run).
    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn org(&self) -> &str {
        &self.org
    }

    /// Creates the org — and, when `first_instance` is given, its first instance in the same
    /// transaction — unless the org exists. Idempotent: concurrent first runs create them once,
    /// and an org whose instances were all deleted does not get one back.
    pub fn bootstrap(&self, first_instance: Option<&str>, now: i64) -> ControlResult<()> {
        if self.store.read(|tx| tx.org_id(&self.org))?.is_some() {
            return Ok(());
        }
        let first = match first_instance {
            Some(name) => {
                let spec = InstanceSpec {
                    name: name.to_string(),
                    ..InstanceSpec::default()
                };
                let (instance, key) = self.prepare_instance(&spec, now)?;
                Some((spec, instance, key))
            }
            None => None,
        };
        self.store.write(|tx| {
            if tx.org_id(&self.org)?.is_some() {
                return Ok(()); // another process got here first
            }
            let id = ids::new_id("org");
            tx.insert_org(&id, &self.org, now)?;
            self.audit_write(tx, &id, now, "org.create", &self.org, None)?;
            if let Some((spec, instance, key)) = &first {
                self.insert_instance(tx, &id, spec, instance, key, now)?;
            }
            Ok(())
        })
    }

    /// The org's maximum token lifetime in seconds (`None`: no limit).
    pub fn max_token_lifetime(&self) -> ControlResult<Option<i64>> {
        self.require_org(policy::Action::OrgRead)?;
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.max_token_lifetime(&org_id)
        })
    }

    /// Sets or clears the org's maximum token lifetime.
    pub fn set_max_token_lifetime(&self, secs: Option<i64>, now: i64) -> ControlResult<()> {
        if secs.is_some_and(|s| s <= 0) {
            return Err(ControlError::invalid(
                "the maximum token lifetime must be positive",
            ));
        }
        self.require_org(policy::Action::OrgWrite)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            tx.set_max_token_lifetime(&org_id, secs)?;
            let detail = secs.map_or_else(|| "no limit".to_string(), |s| format!("{s} s"));
            self.audit_write(
                tx,
                &org_id,
                now,
                "org.set-max-token-lifetime",
                &self.org,
                Some(&detail),
            )
        })
    }

    /// Lists the audit trail from `since` (Unix seconds).
    pub fn audit(&self, since: i64) -> ControlResult<Vec<AuditRecord>> {
        self.require_org(policy::Action::AuditRead)?;
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.audit(&org_id, since)
        })
    }

    fn org_id(&self, tx: &mut dyn Tx) -> ControlResult<String> {
        tx.org_id(&self.org)?.ok_or_else(|| ControlError::NotFound {
            what: "org",
            name: self.org.clone(),
            hint: None,
        })
    }

    fn audit_write(
        &self,
        tx: &mut dyn Tx,
        org_id: &str,
        now: i64,
        action: &str,
        target: &str,
        detail: Option<&str>,
    ) -> ControlResult<()> {
        tx.insert_audit(&AuditEvent {
            org_id,
            at: now,
            actor: &self.actor,
            action,
            target,
            detail,
            source: self.source.as_deref(),
        })
    }
}

#[cfg(test)]
mod apikeys_tests;
#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod authz_tests;
#[cfg(test)]
mod tests;
