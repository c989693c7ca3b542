//! Authorization: every operation of the control plane checks the caller's grants (the
//! policies of the roles it holds) before it reads or changes anything, in the embedded
//! mode and on a server alike.
//!
//! - An org-wide operation the caller's roles do not grant is `Forbidden` (403, exit 4),
//!   naming the action and resource missing.
//! - An operation on a named thing under the org (a tenant and its tokens) that the
//!   caller's roles do not cover is `NotFound` (404, exit 3) when the caller holds the
//!   action elsewhere and nothing over that name — so that whether it exists does not
//!   leak — and `Forbidden` when the caller holds the action nowhere, or can see the
//!   thing but not do this to it. Neither answer depends on whether the thing exists.
//! - No escalation: a role, token, user or assignment may grant only what its creator
//!   holds itself.

use super::error::{ControlError, ControlResult};
use super::model::{PrincipalKind, Role};
use super::policy::{Action, Kind, Policy, Resource};
use super::{ControlPlane, Store, Tx};

impl<S: Store> ControlPlane<S> {
    /// `drn:tok:<org>`.
    pub(super) fn org_resource(&self) -> Resource {
        Resource::org(&self.org)
    }

    /// `drn:tok:<org>:tenant:<tenant>`.
    pub(super) fn tenant_resource(&self, tenant: &str) -> Resource {
        Resource::org(&self.org).child(Kind::Tenant, tenant)
    }

    /// Refuses unless the caller may do `action` on the whole org.
    pub(super) fn require_org(&self, action: Action) -> ControlResult<()> {
        let org = self.org_resource();
        if self.grants.allows(action, &org) {
            Ok(())
        } else {
            Err(self.forbidden(action, &org))
        }
    }

    /// Refuses unless the caller may do `action` on `resource`, which it is creating.
    pub(super) fn require(&self, action: Action, resource: &Resource) -> ControlResult<()> {
        if self.grants.allows(action, resource) {
            Ok(())
        } else {
            Err(self.forbidden(action, resource))
        }
    }

    /// Refuses unless the caller may do `action` on `resource`, which exists or not:
    /// `hidden()` (a not-found error) when the caller's roles reach nothing at or above
    /// it but grant `action` elsewhere; else `Forbidden`.
    pub(super) fn require_on(
        &self,
        action: Action,
        resource: &Resource,
        hidden: impl FnOnce() -> ControlError,
    ) -> ControlResult<()> {
        if self.grants.allows(action, resource) {
            return Ok(());
        }
        if self.grants.holds_action(action) && !self.grants.reaches(resource) {
            Err(hidden())
        } else {
            Err(self.forbidden(action, resource))
        }
    }

    /// Refuses a list unless the caller holds `action` somewhere; the caller then keeps
    /// the items `visible` says it may see.
    pub(super) fn require_somewhere(&self, action: Action) -> ControlResult<()> {
        if self.grants.holds_action(action) {
            Ok(())
        } else {
            Err(self.forbidden(action, &self.org_resource()))
        }
    }

    /// Whether the caller may do `action` on `resource` (for filtering lists).
    pub(super) fn may(&self, action: Action, resource: &Resource) -> bool {
        self.grants.allows(action, resource)
    }

    /// Refuses to do something that hands out (or takes away, or rewrites) `policy` unless
    /// the caller holds all of it: `doing` says what was asked, e.g. "grant role 'x'".
    pub(super) fn require_within(&self, doing: &str, policy: &Policy) -> ControlResult<()> {
        self.grants
            .covers_policy(policy)
            .map_err(|(action, resource)| ControlError::Forbidden {
                message: format!(
                    "not allowed: {} may not {doing}: that takes {action} on {resource}, \
                     which it does not hold itself",
                    self.actor
                ),
                hint: Some(self.roles_hint()),
            })
    }

    /// [`Self::require_within`] for every role of `roles`; `verb` is what is done with them
    /// ("grant", "revoke").
    pub(super) fn require_roles_within(&self, verb: &str, roles: &[Role]) -> ControlResult<()> {
        for role in roles {
            self.require_within(&format!("{verb} role '{}'", role.name), &role.policy)?;
        }
        Ok(())
    }

    /// The roles `names`, resolved and checked against the caller's grants ([`Self::
    /// require_roles_within`]) in `tx`. Callers check before slow work (hashing, signing)
    /// and again in the write transaction that assigns them, so that a role changed in
    /// between is never assigned unchecked.
    pub(super) fn roles_within(
        &self,
        tx: &mut dyn Tx,
        verb: &str,
        names: &[String],
    ) -> ControlResult<Vec<Role>> {
        let org_id = self.org_id(tx)?;
        let roles = self.resolve_roles(tx, &org_id, names)?;
        self.require_roles_within(verb, &roles)?;
        Ok(roles)
    }

    fn forbidden(&self, action: Action, resource: &Resource) -> ControlError {
        ControlError::Forbidden {
            message: format!(
                "not allowed: {} holds no role that grants {action} on {resource}",
                self.actor
            ),
            hint: Some(self.roles_hint()),
        }
    }

    fn roles_hint(&self) -> String {
        let held = if self.grants.roles.is_empty() {
            "no role".to_string()
        } else {
            format!("roles {}", self.grants.roles.join(", "))
        };
        let next = match self.principal {
            Some((PrincipalKind::Application, _)) => {
                "application tokens are immutable: create another with the roles it needs"
            }
            Some((PrincipalKind::ServiceAccount, _)) => {
                "a service account's roles are set when it is created: use a key of an \
                 account that holds the role"
            }
            _ => "an administrator can grant another with `tok user grant-role`",
        };
        format!("it holds {held}; `tok role list` shows what each role grants; {next}")
    }
}
