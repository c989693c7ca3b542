//! Roles: the built-in roles (the same in every org, never stored) and the org's custom
//! roles — create, list, get, update, delete — with every action and resource checked,
//! never silently dropped, and never granting more than their author holds.

use super::error::{ControlError, ControlResult};
use super::model::Role;
use super::policy::{Action, DEFAULT_ROLES, Policy, Resource, default_role};
use super::{ControlPlane, Store, Tx, ids};

/// What `role create` asks for: action and resource names as typed.
#[derive(Debug, Clone, Default)]
pub struct RoleSpec {
    pub name: String,
    pub description: Option<String>,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// What `role update` changes; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct RoleUpdate {
    pub description: Option<String>,
    pub actions: Option<Vec<String>>,
    pub resources: Option<Vec<String>>,
}

/// The id of a built-in role: `builtin:` and its name in lower case with dashes.
pub fn builtin_id(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("builtin:{slug}")
}

/// The built-in role named (case-insensitively) or identified by `name_or_id`.
pub(crate) fn builtin(org: &str, name_or_id: &str) -> Option<Role> {
    DEFAULT_ROLES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(name_or_id) || builtin_id(n) == name_or_id)
        .and_then(|n| {
            default_role(n, org).map(|policy| Role {
                id: builtin_id(n),
                org_id: String::new(),
                name: (*n).to_string(),
                description: Some(builtin_description(n).to_string()),
                policy,
                builtin: true,
                created_at: 0,
                updated_at: 0,
            })
        })
}

/// What a built-in role is for, in a line.
pub fn builtin_description(name: &str) -> &'static str {
    match name {
        "Organization Administrator" => "every action on everything in the org",
        "Read Only User" => "reads every management resource; consumes and reads data",
        "API Read Only User" => "reads data through the APIs (consume, db-read, db-rest, db-cql)",
        "API Read/Write User" => "reads and writes data through the APIs",
        "Database Administrator" => "every database action, including schema changes",
        "Tenant Administrator" => "manages tenants and their tokens, and every Pulsar action",
        "Billing Administrator" => "reads usage and billing",
        "Token Manager" => "manages tokens, API keys and their service accounts' keys",
        _ => "",
    }
}

/// Role names: 1-64 printable characters, not blank, not a built-in role's name.
fn validate_role_name(name: &str) -> ControlResult<()> {
    let trimmed = name.trim();
    if trimmed.is_empty()
        || name.len() > 64
        || name.chars().any(char::is_control)
        || trimmed.starts_with("builtin:")
    {
        return Err(ControlError::invalid(format!(
            "invalid role name '{name}': use 1-64 printable characters, not starting with \
             'builtin:'"
        )));
    }
    if DEFAULT_ROLES
        .iter()
        .any(|d| d.eq_ignore_ascii_case(trimmed))
    {
        return Err(ControlError::conflict(
            format!("'{trimmed}' is a built-in role"),
            Some("pick another name; built-in roles cannot be replaced".into()),
        ));
    }
    Ok(())
}

impl<S: Store> ControlPlane<S> {
    /// Parses and checks a policy for this org: known actions, well-formed resources,
    /// none outside the org, at least one of each.
    fn policy_for_org(&self, actions: &[String], resources: &[String]) -> ControlResult<Policy> {
        if actions.is_empty() {
            return Err(ControlError::invalid("a role needs at least one action"));
        }
        if resources.is_empty() {
            return Err(ControlError::invalid(format!(
                "a role needs at least one resource, e.g. drn:tok:{}",
                self.org
            )));
        }
        let mut parsed_actions: Vec<Action> = Vec::new();
        for a in actions {
            let action: Action = a.parse().map_err(ControlError::Invalid)?;
            if !parsed_actions.contains(&action) {
                parsed_actions.push(action);
            }
        }
        let mut parsed_resources: Vec<Resource> = Vec::new();
        for r in resources {
            let resource: Resource = r.parse().map_err(ControlError::Invalid)?;
            if resource.org != self.org {
                return Err(ControlError::invalid(format!(
                    "resource '{r}' is outside org '{}': resources start with drn:tok:{}",
                    self.org, self.org
                )));
            }
            if !parsed_resources.contains(&resource) {
                parsed_resources.push(resource);
            }
        }
        Ok(Policy {
            actions: parsed_actions,
            resources: parsed_resources,
        })
    }

    /// The roles `names` (names or ids; built-in names case-insensitively), each once.
    /// An unknown name is bad input that lists the roles there are.
    pub(super) fn resolve_roles(
        &self,
        tx: &mut dyn Tx,
        org_id: &str,
        names: &[String],
    ) -> ControlResult<Vec<Role>> {
        let mut roles: Vec<Role> = Vec::new();
        for name in names {
            let name = name.trim();
            let role = match builtin(&self.org, name) {
                Some(r) => r,
                None => match tx.role(org_id, name)? {
                    Some(r) => r,
                    None => {
                        let mut known: Vec<String> =
                            DEFAULT_ROLES.iter().map(|n| (*n).to_string()).collect();
                        known.extend(tx.roles(org_id)?.into_iter().map(|r| r.name));
                        return Err(ControlError::invalid(format!(
                            "unknown role '{name}'; roles are: {}",
                            known.join(", ")
                        )));
                    }
                },
            };
            if !roles.iter().any(|r| r.id == role.id) {
                roles.push(role);
            }
        }
        Ok(roles)
    }

    /// Built-in roles first (in their fixed order), then the org's custom roles by name.
    pub fn roles(&self) -> ControlResult<Vec<Role>> {
        self.require_org(Action::RoleRead)?;
        let mut all: Vec<Role> = DEFAULT_ROLES
            .iter()
            .filter_map(|n| builtin(&self.org, n))
            .collect();
        let custom = self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.roles(&org_id)
        })?;
        all.extend(custom);
        Ok(all)
    }

    /// A role by name or id (built-in names match case-insensitively).
    pub fn role(&self, name_or_id: &str) -> ControlResult<Role> {
        self.require_org(Action::RoleRead)?;
        if let Some(role) = builtin(&self.org, name_or_id) {
            return Ok(role);
        }
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.role(&org_id, name_or_id)?
                .ok_or_else(|| role_not_found(name_or_id))
        })
    }

    pub fn create_role(&self, spec: &RoleSpec, now: i64) -> ControlResult<Role> {
        self.require_org(Action::RoleWrite)?;
        validate_role_name(&spec.name)?;
        let policy = self.policy_for_org(&spec.actions, &spec.resources)?;
        self.require_within(&format!("create role '{}'", spec.name.trim()), &policy)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let name = spec.name.trim();
            if tx.role(&org_id, name)?.is_some() {
                return Err(ControlError::conflict(
                    format!("role '{name}' already exists"),
                    Some("change it with `tok role update`".into()),
                ));
            }
            let role = Role {
                id: ids::new_id("rol"),
                org_id: org_id.clone(),
                name: name.to_string(),
                description: spec.description.clone(),
                policy: policy.clone(),
                builtin: false,
                created_at: now,
                updated_at: now,
            };
            tx.insert_role(&role)?;
            let detail = policy_summary(&role.policy);
            self.audit_write(tx, &org_id, now, "role.create", name, Some(&detail))?;
            Ok(role)
        })
    }

    pub fn update_role(
        &self,
        name_or_id: &str,
        update: &RoleUpdate,
        now: i64,
    ) -> ControlResult<Role> {
        self.require_org(Action::RoleWrite)?;
        if builtin(&self.org, name_or_id).is_some() {
            return Err(ControlError::invalid(format!(
                "'{name_or_id}' is a built-in role and cannot be edited"
            )));
        }
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let mut role = tx
                .role(&org_id, name_or_id)?
                .ok_or_else(|| role_not_found(name_or_id))?;
            let actions: Vec<String> = match &update.actions {
                Some(a) => a.clone(),
                None => role.policy.actions.iter().map(|a| a.to_string()).collect(),
            };
            let resources: Vec<String> = match &update.resources {
                Some(r) => r.clone(),
                None => role
                    .policy
                    .resources
                    .iter()
                    .map(|r| r.to_string())
                    .collect(),
            };
            self.require_within(&format!("change role '{}'", role.name), &role.policy)?;
            role.policy = self.policy_for_org(&actions, &resources)?;
            self.require_within(
                &format!("widen role '{}' to this policy", role.name),
                &role.policy,
            )?;
            if update.description.is_some() {
                role.description.clone_from(&update.description);
            }
            role.updated_at = now;
            tx.update_role(&role)?;
            let detail = policy_summary(&role.policy);
            self.audit_write(tx, &org_id, now, "role.update", &role.name, Some(&detail))?;
            Ok(role)
        })
    }

    /// Deletes a custom role; refused while anyone holds it unless `force`, and the
    /// refusal names them. Returns its name and who held it.
    pub fn delete_role(
        &self,
        name_or_id: &str,
        force: bool,
        now: i64,
    ) -> ControlResult<(String, Vec<(String, String)>)> {
        self.require_org(Action::RoleWrite)?;
        if builtin(&self.org, name_or_id).is_some() {
            return Err(ControlError::invalid(format!(
                "'{name_or_id}' is a built-in role and cannot be deleted"
            )));
        }
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let role = tx
                .role(&org_id, name_or_id)?
                .ok_or_else(|| role_not_found(name_or_id))?;
            self.require_within(&format!("delete role '{}'", role.name), &role.policy)?;
            let holders = tx.role_holders(&role.id)?;
            if !holders.is_empty() && !force {
                let named: Vec<String> = holders.iter().map(|(k, n)| format!("{k} {n}")).collect();
                return Err(ControlError::conflict(
                    format!(
                        "role '{}' is held by {}: {}",
                        role.name,
                        holders.len(),
                        named.join(", ")
                    ),
                    Some("revoke it from them first, or pass --force".into()),
                ));
            }
            tx.delete_role(&role.id)?;
            let detail = format!("{} holder(s)", holders.len());
            self.audit_write(tx, &org_id, now, "role.delete", &role.name, Some(&detail))?;
            Ok((role.name, holders))
        })
    }
}

fn role_not_found(name: &str) -> ControlError {
    ControlError::NotFound {
        what: "role",
        name: name.to_string(),
        hint: Some("list roles with `tok role list`".into()),
    }
}

fn policy_summary(p: &Policy) -> String {
    let actions: Vec<&str> = p.actions.iter().map(|a| a.as_str()).collect();
    let resources: Vec<String> = p.resources.iter().map(ToString::to_string).collect();
    format!("{} on {}", actions.join(","), resources.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::test_store::{self, TestStore};
    use crate::control::{LOCAL_ORG, MasterKey, Sealer};

    const NOW: i64 = 1_800_000_000;

    fn plane(dir: &tempfile::TempDir) -> ControlPlane<TestStore> {
        let store = test_store::open(dir.path());
        let sealer = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
        let cp = ControlPlane::new(store, MasterKey::ready(sealer), LOCAL_ORG, "local:test");
        cp.bootstrap(None, NOW).unwrap();
        cp
    }

    fn spec(name: &str, actions: &[&str], resources: &[&str]) -> RoleSpec {
        RoleSpec {
            name: name.into(),
            description: Some("test".into()),
            actions: actions.iter().map(|s| s.to_string()).collect(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn invalid<T: std::fmt::Debug>(r: ControlResult<T>) -> String {
        match r {
            Err(ControlError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn builtin_roles_are_listed_first_and_cannot_change() {
        let dir = tempfile::tempdir().unwrap();
        let cp = plane(&dir);
        let roles = cp.roles().unwrap();
        let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, DEFAULT_ROLES);
        assert!(roles.iter().all(|r| r.builtin));
        let admin = cp.role("organization administrator").unwrap();
        assert_eq!(admin.id, "builtin:organization-administrator");
        assert_eq!(
            cp.role(&admin.id).unwrap().name,
            "Organization Administrator"
        );
        assert!(
            invalid(cp.update_role("Token Manager", &RoleUpdate::default(), NOW))
                .contains("cannot be edited")
        );
        assert!(invalid(cp.delete_role("Token Manager", true, NOW)).contains("cannot be deleted"));
        assert!(matches!(
            cp.create_role(
                &spec("Read Only User", &["org-read"], &["drn:tok:local"]),
                NOW
            ),
            Err(ControlError::Conflict { .. })
        ));
    }

    #[test]
    fn a_custom_role_round_trips_and_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let cp = plane(&dir);
        let created = cp
            .create_role(
                &spec(
                    "topic-reader",
                    &["consume", "consume", "tenant-read"],
                    &["drn:tok:local:tenant:acme:namespace:*"],
                ),
                NOW,
            )
            .unwrap();
        assert_eq!(
            created.policy.actions,
            [Action::Consume, Action::TenantRead],
            "deduplicated"
        );
        let got = cp.role("topic-reader").unwrap();
        assert_eq!(got, created);
        assert_eq!(cp.role(&created.id).unwrap(), created);
        assert_eq!(cp.roles().unwrap().last().unwrap(), &created);

        let updated = cp
            .update_role(
                "topic-reader",
                &RoleUpdate {
                    actions: Some(vec!["produce".into()]),
                    ..RoleUpdate::default()
                },
                NOW + 1,
            )
            .unwrap();
        assert_eq!(updated.policy.actions, [Action::Produce]);
        assert_eq!(updated.policy.resources, created.policy.resources, "kept");
        assert_eq!(updated.updated_at, NOW + 1);
        assert!(matches!(
            cp.create_role(&spec("topic-reader", &["consume"], &["drn:tok:local"]), NOW),
            Err(ControlError::Conflict { .. })
        ));

        let actions: Vec<String> = cp.audit(0).unwrap().into_iter().map(|a| a.action).collect();
        assert!(actions.ends_with(&["role.create".to_string(), "role.update".to_string()]));
    }

    #[test]
    fn unknown_actions_and_bad_or_foreign_resources_are_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let cp = plane(&dir);
        let m = invalid(cp.create_role(&spec("r", &["read-everything"], &["drn:tok:local"]), NOW));
        assert!(
            m.contains("read-everything") && m.contains("tenant-write"),
            "{m}"
        );
        let m = invalid(cp.create_role(&spec("r", &["consume"], &["drn:tok:local:bucket:b"]), NOW));
        assert!(m.contains("bucket") && m.contains("drn:tok:<org>"), "{m}");
        let m = invalid(cp.create_role(&spec("r", &["consume"], &["drn:tok:other"]), NOW));
        assert!(m.contains("outside org 'local'"), "{m}");
        let m = invalid(cp.create_role(&spec("r", &["consume"], &["drn:tok:*"]), NOW));
        assert!(
            m.contains("outside org"),
            "a wildcard org is another org: {m}"
        );
        assert!(
            invalid(cp.create_role(&spec("r", &[], &["drn:tok:local"]), NOW)).contains("action")
        );
        assert!(invalid(cp.create_role(&spec("r", &["consume"], &[]), NOW)).contains("resource"));
        assert!(
            invalid(cp.create_role(&spec(" ", &["consume"], &["drn:tok:local"]), NOW))
                .contains("role name")
        );
        assert_eq!(
            cp.roles().unwrap().len(),
            DEFAULT_ROLES.len(),
            "nothing was created"
        );
    }

    #[test]
    fn a_held_role_is_deleted_only_with_force_and_the_refusal_names_holders() {
        let dir = tempfile::tempdir().unwrap();
        let cp = plane(&dir);
        let role = cp
            .create_role(&spec("r", &["consume"], &["drn:tok:local"]), NOW)
            .unwrap();
        cp.store()
            .write(|tx| tx.assign_role(&role.id, "user", "usr_1", "alice"))
            .unwrap();
        match cp.delete_role("r", false, NOW) {
            Err(ControlError::Conflict { message, .. }) => {
                assert!(message.contains("user alice"), "{message}")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert!(cp.role("r").is_ok(), "still there");
        let (_, holders) = cp.delete_role("r", true, NOW).unwrap();
        assert_eq!(holders, [("user".to_string(), "alice".to_string())]);
        assert!(matches!(cp.role("r"), Err(ControlError::NotFound { .. })));
        assert!(matches!(
            cp.delete_role("r", true, NOW),
            Err(ControlError::NotFound { .. })
        ));
    }

    #[test]
    fn tokens_that_are_gone_or_revoked_do_not_hold_a_role() {
        use crate::control::{InstanceSpec, TokenSpec};
        use crate::duration::Expiry;
        let dir = tempfile::tempdir().unwrap();
        let cp = plane(&dir);
        let spec = InstanceSpec {
            name: "i".into(),
            algorithm: Some(crate::jwt::Algorithm::HS256),
            ..InstanceSpec::default()
        };
        cp.create_instance(&spec, NOW).unwrap();
        cp.create_role(&spec_of("r"), NOW).unwrap();
        let token = |tenant: &str| TokenSpec {
            tenant: tenant.into(),
            name: Some("t".into()),
            subject: None,
            description: None,
            expiry: Expiry::Never,
            roles: vec!["r".into()],
        };
        for tenant in ["gone", "kept"] {
            cp.create_tenant(tenant, None, None, NOW).unwrap();
            cp.create_token(&token(tenant), NOW).unwrap();
        }
        let held = |cp: &ControlPlane<TestStore>| match cp.delete_role("r", false, NOW) {
            Err(ControlError::Conflict { message, .. }) => message,
            other => panic!("expected a conflict, got {other:?}"),
        };
        assert!(held(&cp).contains("gone/t") && held(&cp).contains("kept/t"));
        cp.delete_tenant("gone", NOW).unwrap();
        let message = held(&cp);
        assert!(
            !message.contains("gone/t") && message.contains("kept/t"),
            "{message}"
        );
        cp.revoke_token("kept", "t", NOW).unwrap();
        let (name, holders) = cp.delete_role("r", false, NOW).unwrap();
        assert_eq!(
            (name.as_str(), holders.len()),
            ("r", 0),
            "a revoked token holds nothing"
        );
    }

    fn spec_of(name: &str) -> RoleSpec {
        spec(name, &["consume"], &["drn:tok:local"])
    }
}
