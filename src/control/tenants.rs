//! Tenants: Pulsar tenants on an instance. Deleting one deletes its tokens.

use super::error::{ControlError, ControlResult};
use super::model::{Tenant, TenantRef};
use super::policy::Action;
use super::{ControlPlane, Store, Tx, ids};

/// Pulsar's rule for tenant names (`NamedEntity`): letters, digits and `_ - = : .`,
/// here also at most 64 characters and not `.` or `..`.
pub fn validate_tenant_name(name: &str) -> ControlResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-=:.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(format!(
            "invalid tenant name '{name}': Pulsar tenant names use letters, digits and _ - = : . \
             (1-64 characters, not '.' or '..')"
        )))
    }
}

pub(super) fn tenant_not_found(name: &str) -> ControlError {
    ControlError::NotFound {
        what: "tenant",
        name: name.to_string(),
        hint: Some(format!("create it with `tok tenant create {name}`")),
    }
}

impl<S: Store> ControlPlane<S> {
    pub fn create_tenant(
        &self,
        name: &str,
        instance: Option<&str>,
        description: Option<&str>,
        now: i64,
    ) -> ControlResult<Tenant> {
        validate_tenant_name(name)?;
        self.require(Action::TenantWrite, &self.tenant_resource(name))?;
        let instance = self.pick_instance(instance)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            if tx.tenant_ref(&org_id, name)?.is_some() {
                return Err(ControlError::conflict(
                    format!("tenant '{name}' already exists"),
                    Some("list tenants with `tok tenant list`".into()),
                ));
            }
            let tenant = Tenant {
                id: ids::new_id("ten"),
                instance_id: instance.id.clone(),
                instance: instance.name.clone(),
                name: name.to_string(),
                description: description.map(str::to_string),
                created_at: now,
                token_count: 0,
            };
            tx.insert_tenant(&org_id, &tenant)?;
            let detail = format!("on instance {}", instance.name);
            self.audit_write(tx, &org_id, now, "tenant.create", name, Some(&detail))?;
            Ok(tenant)
        })
    }

    /// The tenants the caller may read, of the org or of one instance.
    pub fn tenants(&self, instance: Option<&str>) -> ControlResult<Vec<Tenant>> {
        self.require_somewhere(Action::TenantRead)?;
        if instance.is_some() {
            // Whether the instance exists is for those who may read instances.
            self.require_org(Action::InstanceRead)?;
        }
        let all = self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            let instance_id = match instance {
                Some(name) => Some(self.instance_in(tx, name)?.id),
                None => None,
            };
            tx.tenants(&org_id, instance_id.as_deref())
        })?;
        Ok(all
            .into_iter()
            .filter(|t| self.may(Action::TenantRead, &self.tenant_resource(&t.name)))
            .collect())
    }

    pub fn tenant(&self, name: &str) -> ControlResult<Tenant> {
        self.require_on(Action::TenantRead, &self.tenant_resource(name), || {
            tenant_not_found(name)
        })?;
        self.store.read(|tx| self.tenant_in(tx, name))
    }

    pub(super) fn tenant_in(&self, tx: &mut dyn Tx, name: &str) -> ControlResult<Tenant> {
        let org_id = self.org_id(tx)?;
        tx.tenant(&org_id, name)?
            .ok_or_else(|| tenant_not_found(name))
    }

    /// The tenant `name` for the rules: no token count (see [`TenantRef`]).
    pub(super) fn tenant_ref_in(&self, tx: &mut dyn Tx, name: &str) -> ControlResult<TenantRef> {
        let org_id = self.org_id(tx)?;
        tx.tenant_ref(&org_id, name)?
            .ok_or_else(|| tenant_not_found(name))
    }

    /// Deletes a tenant and its tokens; returns how many live tokens went with it.
    pub fn delete_tenant(&self, name: &str, now: i64) -> ControlResult<i64> {
        // Whoever may delete a tenant may delete what is in it: its tokens go with it.
        self.require_on(Action::TenantWrite, &self.tenant_resource(name), || {
            tenant_not_found(name)
        })?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let tenant = self.tenant_in(tx, name)?;
            super::apikeys::feed_tenant_tokens(tx, &org_id, &tenant.id, now)?;
            super::usage::keep_token_days(tx, &org_id, &tenant, now)?;
            tx.delete_tenant(&tenant.id)?;
            let detail = format!("{} token(s) deleted with it", tenant.token_count);
            self.audit_write(tx, &org_id, now, "tenant.delete", name, Some(&detail))?;
            Ok(tenant.token_count)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::validate_tenant_name;

    #[test]
    fn tenant_names_follow_pulsar() {
        for ok in ["acme", "my-tenant_1", "a=b:c.d", "T"] {
            assert!(validate_tenant_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "ü", &"x".repeat(65)] {
            assert!(validate_tenant_name(bad).is_err(), "{bad}");
        }
    }
}
