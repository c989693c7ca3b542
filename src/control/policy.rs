//! The permission model (issue 5, first step): actions, scoped resource names with
//! per-segment wildcards, policies, and their evaluation — pure functions, no storage.
//!
//! A resource is `drn:tok:<org>` optionally followed by `tenant:<t>[:namespace:<ns>
//! [:topic:<topic>]]` or `db:<db>[:keyspace:<ks>[:table:<tbl>]]`. A name may hold `*`
//! wildcards, which match any run of characters *within* that one segment. A policy
//! resource covers the resource it names and everything under it, and nothing else.
//! Evaluation: allow when any policy of any role allows the action on a covering
//! resource; deny otherwise.

use std::fmt;
use std::str::FromStr;

/// Something a principal may do: management-plane actions, then data-plane ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    OrgRead,
    OrgWrite,
    TenantRead,
    TenantWrite,
    TokenRead,
    TokenWrite,
    ApikeyRead,
    ApikeyWrite,
    ServiceAccountRead,
    ServiceAccountWrite,
    RoleRead,
    RoleWrite,
    UserRead,
    UserWrite,
    InstanceRead,
    InstanceWrite,
    UsageRead,
    UsageWrite,
    BillingRead,
    BillingWrite,
    AuditRead,
    Introspect,
    Produce,
    Consume,
    Functions,
    Sources,
    Sinks,
    Packages,
    DbCql,
    DbRest,
    DbRead,
    DbWrite,
    DbSchema,
}

impl Action {
    /// Every action, in the order `tok role` lists them.
    pub const ALL: [Action; 33] = [
        Action::OrgRead,
        Action::OrgWrite,
        Action::TenantRead,
        Action::TenantWrite,
        Action::TokenRead,
        Action::TokenWrite,
        Action::ApikeyRead,
        Action::ApikeyWrite,
        Action::ServiceAccountRead,
        Action::ServiceAccountWrite,
        Action::RoleRead,
        Action::RoleWrite,
        Action::UserRead,
        Action::UserWrite,
        Action::InstanceRead,
        Action::InstanceWrite,
        Action::UsageRead,
        Action::UsageWrite,
        Action::BillingRead,
        Action::BillingWrite,
        Action::AuditRead,
        Action::Introspect,
        Action::Produce,
        Action::Consume,
        Action::Functions,
        Action::Sources,
        Action::Sinks,
        Action::Packages,
        Action::DbCql,
        Action::DbRest,
        Action::DbRead,
        Action::DbWrite,
        Action::DbSchema,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::OrgRead => "org-read",
            Action::OrgWrite => "org-write",
            Action::TenantRead => "tenant-read",
            Action::TenantWrite => "tenant-write",
            Action::TokenRead => "token-read",
            Action::TokenWrite => "token-write",
            Action::ApikeyRead => "apikey-read",
            Action::ApikeyWrite => "apikey-write",
            Action::ServiceAccountRead => "service-account-read",
            Action::ServiceAccountWrite => "service-account-write",
            Action::RoleRead => "role-read",
            Action::RoleWrite => "role-write",
            Action::UserRead => "user-read",
            Action::UserWrite => "user-write",
            Action::InstanceRead => "instance-read",
            Action::InstanceWrite => "instance-write",
            Action::UsageRead => "usage-read",
            Action::UsageWrite => "usage-write",
            Action::BillingRead => "billing-read",
            Action::BillingWrite => "billing-write",
            Action::AuditRead => "audit-read",
            Action::Introspect => "introspect",
            Action::Produce => "produce",
            Action::Consume => "consume",
            Action::Functions => "functions",
            Action::Sources => "sources",
            Action::Sinks => "sinks",
            Action::Packages => "packages",
            Action::DbCql => "db-cql",
            Action::DbRest => "db-rest",
            Action::DbRead => "db-read",
            Action::DbWrite => "db-write",
            Action::DbSchema => "db-schema",
        }
    }

    /// Whether this is a data-plane action (Pulsar or database), not a management one.
    pub fn is_data_plane(self) -> bool {
        self >= Action::Produce
    }

    /// Whether this is a Pulsar data-plane action (what a streaming token may be for).
    pub fn is_pulsar(self) -> bool {
        (Action::Produce..=Action::Packages).contains(&self)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase();
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == wanted)
            .ok_or_else(|| {
                let all: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
                format!("unknown action '{s}'; actions are {}", all.join(", "))
            })
    }
}

/// The kinds of segment under an org, and which may follow which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Tenant,
    Namespace,
    Topic,
    Db,
    Keyspace,
    Table,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Tenant => "tenant",
            Kind::Namespace => "namespace",
            Kind::Topic => "topic",
            Kind::Db => "db",
            Kind::Keyspace => "keyspace",
            Kind::Table => "table",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Tenant,
            Kind::Namespace,
            Kind::Topic,
            Kind::Db,
            Kind::Keyspace,
            Kind::Table,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The kind that may come after `prev` (`None`: right after the org).
    fn follows(self, prev: Option<Kind>) -> bool {
        matches!(
            (prev, self),
            (None, Kind::Tenant | Kind::Db)
                | (Some(Kind::Tenant), Kind::Namespace)
                | (Some(Kind::Namespace), Kind::Topic)
                | (Some(Kind::Db), Kind::Keyspace)
                | (Some(Kind::Keyspace), Kind::Table)
        )
    }
}

/// A scoped resource name, possibly with wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    /// The org's name (or a pattern).
    pub org: String,
    /// `(kind, name or pattern)` from the top down.
    pub path: Vec<(Kind, String)>,
}

/// The forms a resource takes, for error messages.
pub const RESOURCE_FORMS: &str = "drn:tok:<org>, then optionally tenant:<t>[:namespace:<ns>\
[:topic:<topic>]] or db:<db>[:keyspace:<ks>[:table:<tbl>]]; a name may use * within itself";

impl Resource {
    /// The whole org.
    pub fn org(org: &str) -> Resource {
        Resource {
            org: org.to_string(),
            path: Vec::new(),
        }
    }

    /// This resource with one more segment below it.
    pub fn child(mut self, kind: Kind, name: &str) -> Resource {
        self.path.push((kind, name.to_string()));
        self
    }

    /// Whether a policy naming `self` covers `other`: the same kinds from the top, each
    /// name matching its pattern, and `other` at or below `self`'s depth.
    pub fn covers(&self, other: &Resource) -> bool {
        if self.path.len() > other.path.len() || !glob(&self.org, &other.org) {
            return false;
        }
        self.path
            .iter()
            .zip(&other.path)
            .all(|((pk, pn), (ok, on))| pk == ok && glob(pn, on))
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "drn:tok:{}", self.org)?;
        for (kind, name) in &self.path {
            write!(f, ":{}:{name}", kind.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Resource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("invalid resource '{s}': {why}; use {RESOURCE_FORMS}");
        let rest = s
            .strip_prefix("drn:tok:")
            .ok_or_else(|| bad("it must start with drn:tok:"))?;
        let mut parts = rest.split(':');
        let org = parts.next().unwrap_or_default();
        check_name(org).map_err(|why| bad(&format!("the org {why}")))?;
        let mut path: Vec<(Kind, String)> = Vec::new();
        while let Some(kind) = parts.next() {
            let kind =
                Kind::parse(kind).ok_or_else(|| bad(&format!("'{kind}' is not a segment kind")))?;
            if !kind.follows(path.last().map(|(k, _)| *k)) {
                return Err(bad(&format!(
                    "{} cannot come {}",
                    kind.as_str(),
                    path.last()
                        .map_or("right after the org".to_string(), |(k, _)| format!(
                            "after {}",
                            k.as_str()
                        ))
                )));
            }
            let name = parts
                .next()
                .ok_or_else(|| bad(&format!("{} has no name", kind.as_str())))?;
            check_name(name).map_err(|why| bad(&format!("the {} {why}", kind.as_str())))?;
            path.push((kind, name.to_string()));
        }
        Ok(Resource {
            org: org.to_string(),
            path,
        })
    }
}

/// Names: 1-128 visible characters other than ':' (the separator).
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("name is empty");
    }
    if name.len() > 128 {
        return Err("name is longer than 128 characters");
    }
    if !name.chars().all(|c| c.is_ascii_graphic() && c != ':') {
        return Err("name has characters other than visible ASCII");
    }
    Ok(())
}

/// Whether `pattern` (with `*` matching any run of characters) matches all of `name`.
/// Names never hold ':', so a match never crosses a segment boundary.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|b| *b == b'*')
}

/// `{effect: allow, actions, resources}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub actions: Vec<Action>,
    pub resources: Vec<Resource>,
}

impl Policy {
    pub fn allows(&self, action: Action, resource: &Resource) -> bool {
        self.actions.contains(&action) && self.resources.iter().any(|r| r.covers(resource))
    }

    /// What this policy means for a streaming token of `tenant`: its Pulsar actions, on
    /// the part of its scope inside that tenant (a resource at or above the tenant becomes
    /// the tenant; one below it, with a tenant pattern that matches, keeps its deeper
    /// segments). `None` when nothing is left.
    pub fn within_tenant(&self, org: &str, tenant: &str) -> Option<Policy> {
        let actions: Vec<Action> = self
            .actions
            .iter()
            .copied()
            .filter(|a| a.is_pulsar())
            .collect();
        let mut resources: Vec<Resource> = Vec::new();
        for r in &self.resources {
            if !glob(&r.org, org) {
                continue;
            }
            let scoped = match r.path.first() {
                None => Resource::org(org).child(Kind::Tenant, tenant),
                Some((Kind::Tenant, pattern)) if glob(pattern, tenant) => {
                    let mut path = r.path.clone();
                    path[0].1 = tenant.to_string();
                    Resource {
                        org: org.to_string(),
                        path,
                    }
                }
                Some(_) => continue,
            };
            if !resources.contains(&scoped) {
                resources.push(scoped);
            }
        }
        (!actions.is_empty() && !resources.is_empty()).then_some(Policy { actions, resources })
    }
}

/// What a principal may do: the policies of the roles it holds. A resource pattern with
/// wildcards is covered only where every name it could match is covered (a `*` in the
/// pattern asked about is matched only by a `*` of a covering pattern), so checking a new
/// role, token or assignment against its creator's grants never lets it grant more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// The roles' names, for messages and `whoami`.
    pub roles: Vec<String>,
    pub policies: Vec<Policy>,
}

/// The first `(action, resource)` a policy grants that the grants do not.
pub type Missing = (Action, Resource);

impl Grants {
    pub fn new(roles: Vec<String>, policies: Vec<Policy>) -> Grants {
        Grants { roles, policies }
    }

    pub fn allows(&self, action: Action, resource: &Resource) -> bool {
        allowed(&self.policies, action, resource)
    }

    /// Whether any policy names `resource` or something above it, for any action: the
    /// resources the principal can see at all.
    pub fn reaches(&self, resource: &Resource) -> bool {
        self.policies
            .iter()
            .any(|p| p.resources.iter().any(|r| r.covers(resource)))
    }

    /// Whether any policy grants `action` on anything at all.
    pub fn holds_action(&self, action: Action) -> bool {
        self.policies.iter().any(|p| p.actions.contains(&action))
    }

    /// `Ok` when every action of `policy` on every one of its resources is granted here;
    /// else the first that is not.
    pub fn covers_policy(&self, policy: &Policy) -> Result<(), Missing> {
        for action in &policy.actions {
            for resource in &policy.resources {
                if !self.allows(*action, resource) {
                    return Err((*action, resource.clone()));
                }
            }
        }
        Ok(())
    }
}

/// Allow if any policy allows; deny otherwise.
pub fn allowed<'a>(
    policies: impl IntoIterator<Item = &'a Policy>,
    action: Action,
    resource: &Resource,
) -> bool {
    policies.into_iter().any(|p| p.allows(action, resource))
}

/// The built-in roles, in the order `tok role list` shows them.
pub const DEFAULT_ROLES: [&str; 8] = [
    "Organization Administrator",
    "Read Only User",
    "API Read Only User",
    "API Read/Write User",
    "Database Administrator",
    "Tenant Administrator",
    "Billing Administrator",
    "Token Manager",
];

/// A built-in role's policy in `org`: every default role is scoped to the whole org.
pub fn default_role(name: &str, org: &str) -> Option<Policy> {
    use Action::*;
    let actions: Vec<Action> = match name {
        "Organization Administrator" => Action::ALL.to_vec(),
        "Read Only User" => vec![
            OrgRead,
            TenantRead,
            TokenRead,
            ApikeyRead,
            ServiceAccountRead,
            RoleRead,
            UserRead,
            InstanceRead,
            UsageRead,
            AuditRead,
            Consume,
            DbRead,
        ],
        "API Read Only User" => vec![OrgRead, Consume, DbRead, DbRest, DbCql],
        "API Read/Write User" => vec![OrgRead, Produce, Consume, DbRead, DbWrite, DbRest, DbCql],
        "Database Administrator" => vec![
            OrgRead,
            InstanceRead,
            DbCql,
            DbRest,
            DbRead,
            DbWrite,
            DbSchema,
        ],
        "Tenant Administrator" => vec![
            OrgRead,
            InstanceRead,
            TenantRead,
            TenantWrite,
            TokenRead,
            TokenWrite,
            UsageRead,
            Produce,
            Consume,
            Functions,
            Sources,
            Sinks,
            Packages,
        ],
        "Billing Administrator" => vec![OrgRead, UsageRead, BillingRead, BillingWrite],
        "Token Manager" => vec![
            OrgRead,
            TenantRead,
            TokenRead,
            TokenWrite,
            ApikeyRead,
            ApikeyWrite,
            ServiceAccountRead,
            RoleRead,
        ],
        _ => return None,
    };
    Some(Policy {
        actions,
        resources: vec![Resource::org(org)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Resource {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_action_round_trips_and_unknown_ones_list_the_valid() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
        }
        let err = "produce-everything".parse::<Action>().unwrap_err();
        assert!(err.contains("unknown action 'produce-everything'"), "{err}");
        assert!(
            err.contains("tenant-write") && err.contains("db-schema"),
            "{err}"
        );
        assert!(!Action::TenantWrite.is_data_plane() && Action::Produce.is_data_plane());
    }

    #[test]
    fn resources_parse_in_every_documented_form() {
        for s in [
            "drn:tok:acme",
            "drn:tok:acme:tenant:t1",
            "drn:tok:acme:tenant:t1:namespace:ns",
            "drn:tok:acme:tenant:t1:namespace:ns:topic:orders",
            "drn:tok:acme:db:db1",
            "drn:tok:acme:db:db1:keyspace:ks",
            "drn:tok:acme:db:db1:keyspace:ks:table:users",
            "drn:tok:*:tenant:prod-*:namespace:*",
        ] {
            assert_eq!(r(s).to_string(), s);
        }
        for bad in [
            "",
            "drn:tok:",
            "arn:tok:acme",
            "drn:tok:acme:namespace:ns",
            "drn:tok:acme:tenant",
            "drn:tok:acme:tenant:",
            "drn:tok:acme:tenant:t:table:x",
            "drn:tok:acme:db:d:topic:x",
            "drn:tok:acme:bucket:b",
            "drn:tok:acme:tenant:t:namespace:n:topic:x:extra:y",
        ] {
            let err = bad.parse::<Resource>().unwrap_err();
            assert!(err.contains("invalid resource"), "{bad}: {err}");
            assert!(err.contains("drn:tok:<org>"), "names the forms: {err}");
        }
    }

    #[test]
    fn a_policy_covers_its_scope_and_nothing_else() {
        let tenant = r("drn:tok:acme:tenant:t1");
        assert!(tenant.covers(&r("drn:tok:acme:tenant:t1")));
        assert!(tenant.covers(&r("drn:tok:acme:tenant:t1:namespace:ns:topic:x")));
        assert!(!tenant.covers(&r("drn:tok:acme:tenant:t2")));
        assert!(!tenant.covers(&r("drn:tok:acme")), "not above its scope");
        assert!(!tenant.covers(&r("drn:tok:other:tenant:t1")));
        assert!(!tenant.covers(&r("drn:tok:acme:db:t1")), "not another kind");
        let wild = r("drn:tok:acme:tenant:*:namespace:ns");
        assert!(wild.covers(&r("drn:tok:acme:tenant:any:namespace:ns:topic:t")));
        assert!(!wild.covers(&r("drn:tok:acme:tenant:any:namespace:other")));
    }

    #[test]
    fn wildcards_match_within_one_segment_only() {
        assert!(glob("*", "anything"));
        assert!(glob("prod-*", "prod-eu"));
        assert!(glob("*-eu", "prod-eu"));
        assert!(glob("p*d*u", "prod-eu"));
        assert!(!glob("prod-*", "dev-eu"));
        assert!(!glob("a", "ab"));
        assert!(glob("a**", "a"));
        // A pattern segment never reaches into the next one.
        let p = r("drn:tok:acme:tenant:*");
        assert!(!p.covers(&r("drn:tok:acme:db:x")));
    }

    #[test]
    fn evaluation_allows_only_what_some_policy_grants() {
        let reader = Policy {
            actions: vec![Action::Consume],
            resources: vec![r("drn:tok:acme:tenant:acme:namespace:*")],
        };
        let topic = r("drn:tok:acme:tenant:acme:namespace:ns:topic:t");
        assert!(allowed([&reader], Action::Consume, &topic));
        assert!(!allowed([&reader], Action::Produce, &topic));
        assert!(!allowed([], Action::Consume, &topic), "no role: deny");
        let writer = Policy {
            actions: vec![Action::Produce],
            resources: vec![r("drn:tok:acme:tenant:acme")],
        };
        assert!(allowed([&reader, &writer], Action::Produce, &topic));
    }

    /// Every default role against every action, on the org and on a topic in it.
    #[test]
    fn default_roles_grant_exactly_their_table() {
        use Action::*;
        let org = r("drn:tok:acme");
        let topic = r("drn:tok:acme:tenant:t:namespace:n:topic:x");
        let other = r("drn:tok:other");
        let expected: &[(&str, &[Action])] = &[
            ("Organization Administrator", &Action::ALL),
            (
                "Read Only User",
                &[
                    OrgRead,
                    TenantRead,
                    TokenRead,
                    ApikeyRead,
                    ServiceAccountRead,
                    RoleRead,
                    UserRead,
                    InstanceRead,
                    UsageRead,
                    AuditRead,
                    Consume,
                    DbRead,
                ],
            ),
            (
                "API Read Only User",
                &[OrgRead, Consume, DbRead, DbRest, DbCql],
            ),
            (
                "API Read/Write User",
                &[OrgRead, Produce, Consume, DbRead, DbWrite, DbRest, DbCql],
            ),
            (
                "Database Administrator",
                &[
                    OrgRead,
                    InstanceRead,
                    DbCql,
                    DbRest,
                    DbRead,
                    DbWrite,
                    DbSchema,
                ],
            ),
            (
                "Tenant Administrator",
                &[
                    OrgRead,
                    InstanceRead,
                    TenantRead,
                    TenantWrite,
                    TokenRead,
                    TokenWrite,
                    UsageRead,
                    Produce,
                    Consume,
                    Functions,
                    Sources,
                    Sinks,
                    Packages,
                ],
            ),
            (
                "Billing Administrator",
                &[OrgRead, UsageRead, BillingRead, BillingWrite],
            ),
            (
                "Token Manager",
                &[
                    OrgRead,
                    TenantRead,
                    TokenRead,
                    TokenWrite,
                    ApikeyRead,
                    ApikeyWrite,
                    ServiceAccountRead,
                    RoleRead,
                ],
            ),
        ];
        assert_eq!(expected.len(), DEFAULT_ROLES.len());
        for (name, granted) in expected {
            let policy = default_role(name, "acme").unwrap();
            for action in Action::ALL {
                let want = granted.contains(&action);
                assert_eq!(
                    policy.allows(action, &org),
                    want,
                    "{name} {action} on the org"
                );
                assert_eq!(
                    policy.allows(action, &topic),
                    want,
                    "{name} {action} on a topic"
                );
                assert!(
                    !policy.allows(action, &other),
                    "{name} {action} in another org"
                );
            }
        }
        assert!(default_role("Superuser", "acme").is_none());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const CHAINS: [&[Kind]; 2] = [
        &[Kind::Tenant, Kind::Namespace, Kind::Topic],
        &[Kind::Db, Kind::Keyspace, Kind::Table],
    ];

    /// A concrete resource (no wildcards): an org, then 0-3 segments of one chain.
    fn resource() -> impl Strategy<Value = Resource> {
        (
            "[a-z][a-z0-9-]{0,8}",
            0usize..2,
            proptest::collection::vec("[a-zA-Z0-9_.-]{1,10}", 0..=3),
        )
            .prop_map(|(org, chain, names)| Resource {
                org,
                path: CHAINS[chain].iter().copied().zip(names).collect(),
            })
    }

    /// A pattern of the tenant chain over a tiny alphabet, so that stars meet names often.
    fn pattern() -> impl Strategy<Value = Resource> {
        proptest::collection::vec("[ab*]{1,4}", 0..=3).prop_map(|names| Resource {
            org: "o".into(),
            path: CHAINS[0].iter().copied().zip(names).collect(),
        })
    }

    /// `p` with each `*` replaced by the next of `fills`: one of the names it matches.
    fn instantiate(p: &Resource, fills: &[String]) -> Resource {
        let mut next = fills.iter().cycle();
        let path = p
            .path
            .iter()
            .map(|(kind, name)| {
                let mut concrete = String::new();
                for ch in name.chars() {
                    if ch == '*' {
                        concrete.push_str(next.next().map_or("", String::as_str));
                    } else {
                        concrete.push(ch);
                    }
                }
                (*kind, concrete)
            })
            .collect();
        Resource {
            org: p.org.clone(),
            path,
        }
    }

    proptest! {
        /// No escalation is sound: when a creator's pattern covers a new pattern, it covers
        /// every name the new pattern matches — so checking a new role, token or assignment
        /// against its creator's grants never lets it grant more.
        #[test]
        fn covering_a_pattern_covers_every_name_it_matches(
            c in pattern(),
            p in pattern(),
            fills in proptest::collection::vec("[ab]{0,3}", 1..6),
            action in 0usize..Action::ALL.len(),
        ) {
            let inst = instantiate(&p, &fills);
            prop_assert!(p.covers(&inst), "a pattern matches its instances");
            if c.covers(&p) {
                prop_assert!(c.covers(&inst), "{c} covers {p} but not {inst}");
            }
            let action = Action::ALL[action];
            let grants = Grants::new(
                vec!["creator".into()],
                vec![Policy { actions: vec![action], resources: vec![c.clone()] }],
            );
            let asked = Policy { actions: vec![action], resources: vec![p.clone()] };
            if grants.covers_policy(&asked).is_ok() {
                prop_assert!(grants.allows(action, &inst));
            }
        }

        #[test]
        fn display_and_parse_round_trip(r in resource()) {
            prop_assert_eq!(r.to_string().parse::<Resource>().unwrap(), r);
        }

        /// A policy covers every resource under its scope, itself included.
        #[test]
        fn a_resource_covers_everything_below_it(r in resource(), extra in "[a-z0-9]{1,8}") {
            prop_assert!(r.covers(&r));
            if r.path.len() < 3 {
                let chain = if r.path.first().is_some_and(|(k, _)| *k == Kind::Db) { 1 } else { 0 };
                let kind = CHAINS[chain][r.path.len()];
                let below = r.clone().child(kind, &extra);
                prop_assert!(r.covers(&below));
                prop_assert!(!below.covers(&r), "never above its scope");
            }
        }

        /// ...and nothing outside it: changing any name at or above its depth, or moving
        /// to another org, leaves the scope.
        #[test]
        fn a_resource_covers_nothing_outside_it(r in resource(), i in 0usize..4, other in "[a-z0-9]{1,8}") {
            let mut moved = r.clone();
            if i < r.path.len() {
                if moved.path[i].1 == other { return Ok(()); }
                moved.path[i].1 = other;
            } else {
                if moved.org == other { return Ok(()); }
                moved.org = other;
            }
            let covered = r.covers(&moved);
            prop_assert!(!covered, "{} covers {}", r, moved);
        }

        /// A `*` name matches every name of that one segment, never a different kind or
        /// depth above it.
        #[test]
        fn wildcards_never_cross_segments(r in resource(), i in 0usize..3) {
            if r.path.is_empty() { return Ok(()); }
            let i = i % r.path.len();
            let mut pattern = r.clone();
            pattern.path[i].1 = "*".into();
            pattern.path.truncate(i + 1);
            prop_assert!(pattern.covers(&r));
            // The same pattern under the other chain's kinds covers nothing of r.
            let mut crossed = pattern.clone();
            for (k, _) in crossed.path.iter_mut() {
                *k = match *k {
                    Kind::Tenant => Kind::Db,
                    Kind::Namespace => Kind::Keyspace,
                    Kind::Topic => Kind::Table,
                    Kind::Db => Kind::Tenant,
                    Kind::Keyspace => Kind::Namespace,
                    Kind::Table => Kind::Topic,
                };
            }
            prop_assert!(!crossed.covers(&r));
        }

        #[test]
        fn a_glob_without_stars_is_equality(a in "[a-z0-9-]{0,8}", b in "[a-z0-9-]{0,8}") {
            prop_assert_eq!(glob(&a, &b), a == b);
        }

        #[test]
        fn a_star_matches_any_infix(p in "[a-z]{0,4}", mid in "[a-z:]{0,6}", s in "[a-z]{0,4}") {
            let name = format!("{}{}{}", p, mid, s);
            let pattern = format!("{}*{}", p, s);
            prop_assert!(glob(&pattern, &name));
        }
    }
}
