//! The typed API client: [`Api`] is every control-plane operation the CLI performs,
//! answered either by the embedded control plane (in-process) or by a `tok server`
//! over HTTP ([`Client`], one module per resource). Both return the same
//! [`crate::model`] types, so every command behaves the same against either.

mod apikeys;
mod http;
mod instances;
mod org;
mod roles;
mod tenants;
mod tokens;
mod usage;
mod users;

pub use http::{Client, ClientOptions, parse_server_url, redact_url};

use crate::error::Result;
use crate::model::ApiKeyFilter;
use crate::model::{
    ApiKey, CreateApiKey, CreateServiceAccount, Introspection, RevocationFeed, ServiceAccount,
    ServiceAccountDeleted,
};
use crate::model::{
    AuditEntry, BrokerConfig, CreateAppToken, CreateInstance, CreateRole, CreateTenant,
    CreateToken, CreateUser, Deleted, Instance, Org, PublicKey, Role, RoleDeleted, RoleGranted,
    Rotation, Tenant, Token, UpdateRole, User, WhoAmI,
};
use crate::model::{
    Bill, RateCard, RateCardUpdate, UsageBatch, UsageBatchResult, UsagePoint, UsageQuery,
};

/// The control plane as the CLI sees it.
pub trait Api {
    fn org(&self) -> Result<Org>;
    /// Seconds, or `None` for no limit.
    fn set_max_token_lifetime(&self, secs: Option<i64>) -> Result<Org>;
    /// Audit records from `since` (Unix seconds), oldest first.
    fn audit(&self, since: i64) -> Result<Vec<AuditEntry>>;

    fn create_instance(&self, req: &CreateInstance) -> Result<Instance>;
    fn instances(&self) -> Result<Vec<Instance>>;
    /// One instance with its signing keys.
    fn instance(&self, name: &str) -> Result<Instance>;
    fn delete_instance(&self, name: &str, cascade: bool) -> Result<Deleted>;
    fn public_key(&self, name: &str) -> Result<PublicKey>;
    fn broker_config(&self, name: &str) -> Result<BrokerConfig>;
    fn rotate_key(&self, name: &str) -> Result<Rotation>;

    fn create_tenant(&self, req: &CreateTenant) -> Result<Tenant>;
    fn tenants(&self, instance: Option<&str>) -> Result<Vec<Tenant>>;
    fn tenant(&self, name: &str) -> Result<Tenant>;
    fn delete_tenant(&self, name: &str) -> Result<Deleted>;

    fn create_token(&self, tenant: &str, req: &CreateToken) -> Result<Token>;
    /// Tokens of one tenant or of the org, revoked ones included.
    /// Streaming tokens of a tenant or of the org, and (without a tenant) application
    /// tokens; `kind` (`streaming` or `application`) keeps one kind.
    fn tokens(&self, tenant: Option<&str>, kind: Option<&str>) -> Result<Vec<Token>>;
    fn token(&self, tenant: &str, name: &str) -> Result<Token>;
    fn revoke_token(&self, tenant: &str, name: &str) -> Result<Token>;
    fn create_app_token(&self, req: &CreateAppToken) -> Result<Token>;
    /// An application token by name, client id or id.
    fn app_token(&self, key: &str) -> Result<Token>;
    fn revoke_app_token(&self, key: &str) -> Result<Token>;

    fn create_role(&self, req: &CreateRole) -> Result<Role>;
    fn roles(&self) -> Result<Vec<Role>>;
    fn role(&self, name: &str) -> Result<Role>;
    fn update_role(&self, name: &str, req: &UpdateRole) -> Result<Role>;
    fn delete_role(&self, name: &str, force: bool) -> Result<RoleDeleted>;

    fn create_user(&self, req: &CreateUser) -> Result<User>;
    fn users(&self) -> Result<Vec<User>>;
    fn user(&self, username: &str) -> Result<User>;
    fn delete_user(&self, username: &str) -> Result<()>;
    fn set_password(&self, username: &str, password: &str) -> Result<()>;
    fn grant_role(&self, username: &str, role: &str) -> Result<RoleGranted>;
    fn revoke_role(&self, username: &str, role: &str) -> Result<User>;
    fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<User>;

    fn whoami(&self) -> Result<WhoAmI>;

    fn create_service_account(&self, req: &CreateServiceAccount) -> Result<ServiceAccount>;
    fn service_accounts(&self) -> Result<Vec<ServiceAccount>>;
    /// A service account with its keys.
    fn service_account(&self, name: &str) -> Result<ServiceAccount>;
    fn delete_service_account(&self, name: &str) -> Result<ServiceAccountDeleted>;
    fn create_api_key(&self, req: &CreateApiKey) -> Result<ApiKey>;
    fn api_keys(&self, filter: &ApiKeyFilter) -> Result<Vec<ApiKey>>;
    fn api_key(&self, name: &str) -> Result<ApiKey>;
    fn revoke_api_key(&self, name: &str) -> Result<ApiKey>;
    fn delete_api_key(&self, name: &str) -> Result<ApiKey>;
    /// The revocation feed after `since`, at most `limit` entries.
    fn revocations(&self, since: Option<&str>, limit: u32) -> Result<RevocationFeed>;
    fn introspect(&self, token: &str) -> Result<Introspection>;

    /// Records a batch of data-plane usage (idempotent per batch id).
    fn record_usage(&self, batch: &UsageBatch) -> Result<UsageBatchResult>;
    fn usage(&self, query: &UsageQuery) -> Result<Vec<UsagePoint>>;
    fn usage_bill(&self, month: &str, tenant: Option<&str>) -> Result<Bill>;
    fn rate_card(&self) -> Result<RateCard>;
    fn update_rate_card(&self, update: &RateCardUpdate) -> Result<RateCard>;
}

impl Api for Client {
    fn org(&self) -> Result<Org> {
        org::get(self)
    }
    fn set_max_token_lifetime(&self, secs: Option<i64>) -> Result<Org> {
        org::set_max_token_lifetime(self, secs)
    }
    fn audit(&self, since: i64) -> Result<Vec<AuditEntry>> {
        org::audit(self, since)
    }
    fn create_instance(&self, req: &CreateInstance) -> Result<Instance> {
        instances::create(self, req)
    }
    fn instances(&self) -> Result<Vec<Instance>> {
        instances::list(self)
    }
    fn instance(&self, name: &str) -> Result<Instance> {
        instances::get(self, name)
    }
    fn delete_instance(&self, name: &str, cascade: bool) -> Result<Deleted> {
        instances::delete(self, name, cascade)
    }
    fn public_key(&self, name: &str) -> Result<PublicKey> {
        instances::public_key(self, name)
    }
    fn broker_config(&self, name: &str) -> Result<BrokerConfig> {
        instances::broker_config(self, name)
    }
    fn rotate_key(&self, name: &str) -> Result<Rotation> {
        instances::rotate_key(self, name)
    }
    fn create_tenant(&self, req: &CreateTenant) -> Result<Tenant> {
        tenants::create(self, req)
    }
    fn tenants(&self, instance: Option<&str>) -> Result<Vec<Tenant>> {
        tenants::list(self, instance)
    }
    fn tenant(&self, name: &str) -> Result<Tenant> {
        tenants::get(self, name)
    }
    fn delete_tenant(&self, name: &str) -> Result<Deleted> {
        tenants::delete(self, name)
    }
    fn create_token(&self, tenant: &str, req: &CreateToken) -> Result<Token> {
        tokens::create(self, tenant, req)
    }
    fn tokens(&self, tenant: Option<&str>, kind: Option<&str>) -> Result<Vec<Token>> {
        tokens::list(self, tenant, kind)
    }
    fn token(&self, tenant: &str, name: &str) -> Result<Token> {
        tokens::get(self, tenant, name)
    }
    fn revoke_token(&self, tenant: &str, name: &str) -> Result<Token> {
        tokens::revoke(self, tenant, name)
    }
    fn create_app_token(&self, req: &CreateAppToken) -> Result<Token> {
        tokens::create_app(self, req)
    }
    fn app_token(&self, key: &str) -> Result<Token> {
        tokens::get_app(self, key)
    }
    fn revoke_app_token(&self, key: &str) -> Result<Token> {
        tokens::revoke_app(self, key)
    }
    fn create_role(&self, req: &CreateRole) -> Result<Role> {
        roles::create(self, req)
    }
    fn roles(&self) -> Result<Vec<Role>> {
        roles::list(self)
    }
    fn role(&self, name: &str) -> Result<Role> {
        roles::get(self, name)
    }
    fn update_role(&self, name: &str, req: &UpdateRole) -> Result<Role> {
        roles::update(self, name, req)
    }
    fn delete_role(&self, name: &str, force: bool) -> Result<RoleDeleted> {
        roles::delete(self, name, force)
    }
    fn create_user(&self, req: &CreateUser) -> Result<User> {
        users::create(self, req)
    }
    fn users(&self) -> Result<Vec<User>> {
        users::list(self)
    }
    fn user(&self, username: &str) -> Result<User> {
        users::get(self, username)
    }
    fn delete_user(&self, username: &str) -> Result<()> {
        users::delete(self, username)
    }
    fn set_password(&self, username: &str, password: &str) -> Result<()> {
        users::set_password(self, username, password)
    }
    fn grant_role(&self, username: &str, role: &str) -> Result<RoleGranted> {
        users::grant_role(self, username, role)
    }
    fn revoke_role(&self, username: &str, role: &str) -> Result<User> {
        users::revoke_role(self, username, role)
    }
    fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<User> {
        users::set_disabled(self, username, disabled)
    }
    fn whoami(&self) -> Result<WhoAmI> {
        users::whoami(self)
    }
    fn create_service_account(&self, req: &CreateServiceAccount) -> Result<ServiceAccount> {
        apikeys::create_service_account(self, req)
    }
    fn service_accounts(&self) -> Result<Vec<ServiceAccount>> {
        apikeys::service_accounts(self)
    }
    fn service_account(&self, name: &str) -> Result<ServiceAccount> {
        apikeys::service_account(self, name)
    }
    fn delete_service_account(&self, name: &str) -> Result<ServiceAccountDeleted> {
        apikeys::delete_service_account(self, name)
    }
    fn create_api_key(&self, req: &CreateApiKey) -> Result<ApiKey> {
        apikeys::create_api_key(self, req)
    }
    fn api_keys(&self, filter: &ApiKeyFilter) -> Result<Vec<ApiKey>> {
        apikeys::api_keys(self, filter)
    }
    fn api_key(&self, name: &str) -> Result<ApiKey> {
        apikeys::api_key(self, name)
    }
    fn revoke_api_key(&self, name: &str) -> Result<ApiKey> {
        apikeys::revoke_api_key(self, name)
    }
    fn delete_api_key(&self, name: &str) -> Result<ApiKey> {
        apikeys::delete_api_key(self, name)
    }
    fn revocations(&self, since: Option<&str>, limit: u32) -> Result<RevocationFeed> {
        apikeys::revocations(self, since, limit)
    }
    fn introspect(&self, token: &str) -> Result<Introspection> {
        apikeys::introspect(self, token)
    }
    fn record_usage(&self, batch: &UsageBatch) -> Result<UsageBatchResult> {
        usage::record(self, batch)
    }
    fn usage(&self, query: &UsageQuery) -> Result<Vec<UsagePoint>> {
        usage::report(self, query)
    }
    fn usage_bill(&self, month: &str, tenant: Option<&str>) -> Result<Bill> {
        usage::bill(self, month, tenant)
    }
    fn rate_card(&self) -> Result<RateCard> {
        usage::rates(self)
    }
    fn update_rate_card(&self, update: &RateCardUpdate) -> Result<RateCard> {
        usage::update_rates(self, update)
    }
}
