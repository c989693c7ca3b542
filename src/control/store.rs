//! The storage contract the control plane's rules run over. Every method runs inside
//! an explicit transaction; implementations use portable SQL so that a PostgreSQL
//! store can follow without changing the rules.

use super::error::ControlResult;
use super::model::{
    ApiKey, AppToken, AuditRecord, IdempotentRequest, Instance, PrincipalKind, Revocation, Role,
    ServiceAccount, Session, SigningKey, Tenant, TenantRef, Token, User,
};

/// One audit record to write: who, what, when, from where. Never a secret.
#[derive(Debug, Clone, Copy)]
pub struct AuditEvent<'a> {
    pub org_id: &'a str,
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: Option<&'a str>,
    /// The client address, for changes made through a server.
    pub source: Option<&'a str>,
}

/// One day's usage of one series to add: a counter's `value` adds to the day's, a gauge's
/// replaces it when `at` is later (see [`Tx::add_usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageDelta<'a> {
    /// The tenant's name; empty for the org's own (control-plane) usage.
    pub tenant: &'a str,
    /// The namespace's name; empty when none.
    pub namespace: &'a str,
    pub metric: &'a str,
    /// What a gauge's figure covers (a topic, a broker); empty when the record names none.
    /// A gauge keeps its latest value per source, and sources add up.
    pub source: &'a str,
    /// The UTC day number (days since 1970-01-01).
    pub day: i64,
    pub value: i64,
    /// When the value was observed (Unix seconds).
    pub at: i64,
    pub gauge: bool,
}

/// A day's usage of one metric of one tenant, summed over its namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyUsage {
    /// Empty for the org's own usage.
    pub tenant: String,
    pub metric: String,
    pub day: i64,
    pub value: i64,
    /// The latest observation that went into it.
    pub at: i64,
}

/// A batch of usage records as remembered: what was sent (its digest), what was answered,
/// and who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBatch {
    /// SHA-256 of the records (canonical JSON).
    pub digest: Vec<u8>,
    /// The answer, as JSON.
    pub result: String,
    pub actor: String,
}

/// A database the control plane can run on.
pub trait Store {
    /// Runs `f` in one write transaction: all of it commits, or none of it does.
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T>;

    /// Runs `f` in a read transaction (a consistent snapshot).
    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T>;
}

/// The operations available inside a transaction.
pub trait Tx {
    fn org_id(&mut self, org: &str) -> ControlResult<Option<String>>;
    fn insert_org(&mut self, id: &str, org: &str, now: i64) -> ControlResult<()>;
    /// The longest lifetime (seconds) a new token may have; `None` means no limit.
    fn max_token_lifetime(&mut self, org_id: &str) -> ControlResult<Option<i64>>;
    fn set_max_token_lifetime(&mut self, org_id: &str, secs: Option<i64>) -> ControlResult<()>;

    fn insert_instance(&mut self, org_id: &str, instance: &Instance) -> ControlResult<()>;
    fn instance(&mut self, org_id: &str, name: &str) -> ControlResult<Option<Instance>>;
    fn instances(&mut self, org_id: &str) -> ControlResult<Vec<Instance>>;
    fn delete_instance(&mut self, instance_id: &str) -> ControlResult<()>;

    fn insert_key(&mut self, key: &SigningKey) -> ControlResult<()>;
    /// Every key of an instance, newest first.
    fn keys(&mut self, instance_id: &str) -> ControlResult<Vec<SigningKey>>;
    fn retire_key(&mut self, kid: &str, now: i64) -> ControlResult<()>;

    fn insert_tenant(&mut self, org_id: &str, tenant: &Tenant) -> ControlResult<()>;
    /// A tenant with its live token count (a scan of its tokens: for showing it).
    fn tenant(&mut self, org_id: &str, name: &str) -> ControlResult<Option<Tenant>>;
    /// A tenant's id and instance, by name: an index lookup whatever it holds.
    fn tenant_ref(&mut self, org_id: &str, name: &str) -> ControlResult<Option<TenantRef>>;
    /// Tenants of the org, or of one instance.
    fn tenants(&mut self, org_id: &str, instance_id: Option<&str>) -> ControlResult<Vec<Tenant>>;
    /// Deletes a tenant and its tokens.
    fn delete_tenant(&mut self, tenant_id: &str) -> ControlResult<()>;

    fn insert_token(&mut self, token: &Token) -> ControlResult<()>;
    /// A tenant's token by name or id.
    fn token(&mut self, tenant_id: &str, name_or_id: &str) -> ControlResult<Option<Token>>;
    /// A token by org name, tenant name and token name or id, in one lookup.
    fn token_by_names(
        &mut self,
        org: &str,
        tenant: &str,
        name_or_id: &str,
    ) -> ControlResult<Option<Token>>;
    /// Tokens of the org or of one tenant, revoked ones included, oldest first.
    fn tokens(&mut self, org_id: &str, tenant_id: Option<&str>) -> ControlResult<Vec<Token>>;
    /// Live tokens signed with this key.
    fn tokens_by_kid(&mut self, kid: &str) -> ControlResult<Vec<Token>>;
    fn revoke_token(&mut self, token_id: &str, now: i64) -> ControlResult<()>;

    fn insert_audit(&mut self, event: &AuditEvent<'_>) -> ControlResult<()>;
    fn audit(&mut self, org_id: &str, since: i64) -> ControlResult<Vec<AuditRecord>>;

    /// Orgs by name, for a server's operator commands.
    fn orgs(&mut self) -> ControlResult<Vec<String>>;

    fn insert_user(&mut self, user: &User) -> ControlResult<()>;
    /// A user of the org.
    fn user(&mut self, org_id: &str, username: &str) -> ControlResult<Option<User>>;
    /// A user of any org (usernames are unique on a server): the login lookup.
    fn user_anywhere(&mut self, username: &str) -> ControlResult<Option<User>>;
    fn users(&mut self, org_id: &str) -> ControlResult<Vec<User>>;
    /// Deletes a user, its sessions and its role assignments.
    fn delete_user(&mut self, user_id: &str) -> ControlResult<()>;
    /// Disables (`Some(at)`) or enables (`None`) an account.
    fn set_user_disabled(&mut self, user_id: &str, disabled_at: Option<i64>) -> ControlResult<()>;
    fn set_password_hash(&mut self, user_id: &str, hash: &str) -> ControlResult<()>;
    /// Records the failed-login count and lock after a login attempt.
    fn set_login_state(
        &mut self,
        user_id: &str,
        failed_logins: i64,
        locked_until: Option<i64>,
    ) -> ControlResult<()>;

    fn insert_session(&mut self, session: &Session, token_hash: &[u8]) -> ControlResult<()>;
    /// The live session stored under `token_hash` with its principal's roles; `None` when
    /// unknown, or when its user is disabled or its application token revoked.
    fn session(&mut self, token_hash: &[u8]) -> ControlResult<Option<Session>>;
    fn touch_session(&mut self, id: &str, expires_at: i64, used_at: i64) -> ControlResult<()>;
    fn delete_session(&mut self, id: &str) -> ControlResult<()>;
    /// Ends every session of a principal (a password change, a revoked token); returns how many.
    fn delete_sessions_of(
        &mut self,
        kind: PrincipalKind,
        principal_id: &str,
    ) -> ControlResult<usize>;
    /// Removes sessions that ended before `now`.
    fn purge_sessions(&mut self, now: i64) -> ControlResult<usize>;

    fn idempotent_request(
        &mut self,
        principal: &str,
        key: &str,
    ) -> ControlResult<Option<IdempotentRequest>>;
    /// Claims `key` for a request; false when another request holds it.
    fn claim_idempotency_key(
        &mut self,
        principal: &str,
        key: &str,
        request_hash: &[u8],
        now: i64,
    ) -> ControlResult<bool>;
    fn complete_idempotent_request(
        &mut self,
        principal: &str,
        key: &str,
        status: u16,
        sealed_response: &[u8],
    ) -> ControlResult<()>;
    fn release_idempotency_key(&mut self, principal: &str, key: &str) -> ControlResult<()>;
    /// Forgets keys claimed before `before`.
    fn purge_idempotency_keys(&mut self, before: i64) -> ControlResult<usize>;

    fn insert_role(&mut self, role: &Role) -> ControlResult<()>;
    /// A custom role of the org by name or id.
    fn role(&mut self, org_id: &str, name_or_id: &str) -> ControlResult<Option<Role>>;
    /// The org's custom roles by name.
    fn roles(&mut self, org_id: &str) -> ControlResult<Vec<Role>>;
    fn update_role(&mut self, role: &Role) -> ControlResult<()>;
    /// Deletes a role and its assignments.
    fn delete_role(&mut self, role_id: &str) -> ControlResult<()>;
    /// Who holds a role: `(kind, name)` pairs such as `("user", "alice")`; revoked tokens
    /// are not holders.
    fn role_holders(&mut self, role_id: &str) -> ControlResult<Vec<(String, String)>>;
    fn assign_role(
        &mut self,
        role_id: &str,
        holder_kind: &str,
        holder_id: &str,
        holder_name: &str,
    ) -> ControlResult<()>;
    /// Takes a role away; false when the holder did not hold it.
    fn unassign_role(
        &mut self,
        role_id: &str,
        holder_kind: &str,
        holder_id: &str,
    ) -> ControlResult<bool>;
    /// The roles a holder holds, built-in ones (for `org`) first, then custom ones by name.
    fn roles_of(
        &mut self,
        org: &str,
        holder_kind: &str,
        holder_id: &str,
    ) -> ControlResult<Vec<Role>>;
    /// The ids of the holders of one kind that hold a role.
    fn holders_of(&mut self, role_id: &str, holder_kind: &str) -> ControlResult<Vec<String>>;

    fn insert_app_token(&mut self, token: &AppToken) -> ControlResult<()>;
    /// An application token of the org by name, client id or id.
    fn app_token(&mut self, org_id: &str, key: &str) -> ControlResult<Option<AppToken>>;
    /// The application token whose token has this HMAC (bearer authentication).
    fn app_token_by_hash(&mut self, token_hash: &[u8]) -> ControlResult<Option<AppToken>>;
    /// The application token with this client id, in any org (client-credential login).
    fn app_token_by_client_id(&mut self, client_id: &str) -> ControlResult<Option<AppToken>>;
    /// The org's application tokens, revoked ones included, oldest first.
    fn app_tokens(&mut self, org_id: &str) -> ControlResult<Vec<AppToken>>;
    fn revoke_app_token(&mut self, id: &str, now: i64) -> ControlResult<()>;
    /// Records a use (callers coalesce: at most one write per token per minute).
    fn touch_app_token(&mut self, id: &str, now: i64) -> ControlResult<()>;

    fn insert_service_account(&mut self, sa: &ServiceAccount) -> ControlResult<()>;
    /// A service account of the org by name or id, with its count of keys not revoked.
    fn service_account(
        &mut self,
        org_id: &str,
        name_or_id: &str,
    ) -> ControlResult<Option<ServiceAccount>>;
    fn service_accounts(&mut self, org_id: &str) -> ControlResult<Vec<ServiceAccount>>;
    /// Deletes a service account, its API keys and its role assignments.
    fn delete_service_account(&mut self, id: &str) -> ControlResult<()>;

    fn insert_api_key(&mut self, key: &ApiKey) -> ControlResult<()>;
    /// An API key of the org by name or id.
    fn api_key(&mut self, org_id: &str, name_or_id: &str) -> ControlResult<Option<ApiKey>>;
    /// An API key by id (its `jti`), in any org, with the org's name.
    fn api_key_by_id(&mut self, jti: &str) -> ControlResult<Option<(ApiKey, String)>>;
    /// The org's API keys, revoked ones included, oldest first.
    fn api_keys(&mut self, org_id: &str) -> ControlResult<Vec<ApiKey>>;
    fn revoke_api_key(&mut self, id: &str, now: i64) -> ControlResult<()>;
    fn delete_api_key(&mut self, id: &str) -> ControlResult<()>;
    /// Records a use (callers coalesce: at most one write per key per minute).
    fn touch_api_key(&mut self, id: &str, now: i64) -> ControlResult<()>;
    /// Removes keys revoked at or before `revoked_before`; returns how many.
    fn purge_api_keys(&mut self, revoked_before: i64) -> ControlResult<usize>;

    /// Appends to the org's revocation feed (once per `jti`).
    fn insert_revocation(&mut self, org_id: &str, revocation: &Revocation) -> ControlResult<()>;
    /// The feed after position `after`, in order, at most `limit` entries.
    fn revocations(
        &mut self,
        org_id: &str,
        after: i64,
        limit: usize,
    ) -> ControlResult<Vec<Revocation>>;
    /// Forgets entries revoked at or before `revoked_before` whose JWT has expired by `now`
    /// (a broker refuses those anyway); returns how many.
    fn purge_revocations(&mut self, revoked_before: i64, now: i64) -> ControlResult<usize>;
    /// Whether [`Tx::purge_api_keys`] or [`Tx::purge_revocations`] would remove anything
    /// (a read, so that an idle purge writes nothing).
    fn purge_due(&mut self, revoked_before: i64, now: i64) -> ControlResult<bool>;

    /// A signing key by `kid`, in any org, with its instance and the org's name.
    fn key_by_kid(&mut self, kid: &str) -> ControlResult<Option<(SigningKey, Instance, String)>>;
    /// A streaming token by id (its `jti`), in any org, with the org's name.
    fn token_by_id(&mut self, jti: &str) -> ControlResult<Option<(Token, String)>>;
    /// Records a use of a streaming token (callers coalesce).
    fn touch_token(&mut self, id: &str, now: i64) -> ControlResult<()>;

    /// Adds usage: per (day, tenant, namespace, metric, source), a counter's values add up
    /// (saturating), a gauge keeps the value observed latest (the larger one on a tie).
    fn add_usage(&mut self, org_id: &str, rows: &[UsageDelta<'_>]) -> ControlResult<()>;
    /// Usage from `from_day` to `to_day` (inclusive), summed over namespaces, ordered by day,
    /// tenant and metric; optionally of one tenant (`""`: the org's own) or one metric.
    fn usage_daily(
        &mut self,
        org_id: &str,
        from_day: i64,
        to_day: i64,
        tenant: Option<&str>,
        metric: Option<&str>,
    ) -> ControlResult<Vec<DailyUsage>>;
    /// A recorded batch, by batch id.
    fn usage_batch(&mut self, org_id: &str, batch_id: &str) -> ControlResult<Option<StoredBatch>>;
    fn insert_usage_batch(
        &mut self,
        org_id: &str,
        batch_id: &str,
        batch: &StoredBatch,
        now: i64,
    ) -> ControlResult<()>;
    /// Forgets batch ids recorded at or before `created_before`; returns how many.
    fn purge_usage_batches(&mut self, created_before: i64) -> ControlResult<usize>;
    /// Which replica last ran the fleet-wide job `name`, and when.
    fn job_run(&mut self, name: &str) -> ControlResult<Option<(String, i64)>>;
    /// Records that `holder` ran the job `name` at `now`.
    fn record_job_run(&mut self, name: &str, holder: &str, now: i64) -> ControlResult<()>;
    /// The org's rate card (JSON), if one was set.
    fn rate_card(&mut self, org_id: &str) -> ControlResult<Option<String>>;
    fn set_rate_card(&mut self, org_id: &str, card: &str, now: i64) -> ControlResult<()>;
}

/// A holder's roles in the order every store lists them: built-in roles in
/// [`super::policy::DEFAULT_ROLES`] order, then custom roles by name.
pub(crate) fn order_roles(roles: impl IntoIterator<Item = Role>) -> Vec<Role> {
    let (mut builtin, mut custom): (Vec<Role>, Vec<Role>) =
        roles.into_iter().partition(|r| r.builtin);
    builtin.sort_by_key(|r| {
        super::policy::DEFAULT_ROLES
            .iter()
            .position(|n| *n == r.name)
    });
    custom.sort_by(|a, b| a.name.cmp(&b.name));
    builtin.extend(custom);
    builtin
}

/// Rows of `usage_daily` ordered by day, tenant and metric, added up over namespaces and
/// sources (saturating: SQL's SUM would fail, or not saturate, on a 64-bit overflow).
pub(crate) fn sum_usage_rows(rows: Vec<DailyUsage>) -> Vec<DailyUsage> {
    let mut out: Vec<DailyUsage> = Vec::with_capacity(rows.len());
    for r in rows {
        match out.last_mut() {
            Some(l) if l.day == r.day && l.tenant == r.tenant && l.metric == r.metric => {
                l.value = l.value.saturating_add(r.value);
                l.at = l.at.max(r.at);
            }
            _ => out.push(r),
        }
    }
    out
}
