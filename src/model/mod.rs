//! The wire types the server, the typed client and the embedded mode share: what
//! `-o json` prints is exactly what `/v1` answers, whichever backend a profile uses.
//! Timestamps are Unix seconds in memory and RFC 3339 UTC strings on the wire.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod ts;
pub mod usage;
pub use usage::{
    Bill, BillLine, Rate, RateCard, RateCardUpdate, RejectedRecord, TenantBill, UsageBatch,
    UsageBatchResult, UsagePoint, UsageQuery, UsageRecord,
};

/// The org a profile acts in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Org {
    pub name: String,
    /// The longest lifetime a new token may have, e.g. "90d"; null: no limit.
    pub max_token_lifetime: Option<String>,
    pub max_token_lifetime_seconds: Option<i64>,
}

/// `PATCH /v1/orgs/{org}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUpdate {
    /// Seconds; null removes the limit.
    pub max_token_lifetime_seconds: Option<i64>,
}

/// A data-plane endpoint (a Pulsar cluster) with its own signing key and audience.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Instance {
    pub name: String,
    pub algorithm: String,
    pub audience: String,
    pub issuer: Option<String>,
    /// The active signing key.
    pub kid: String,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Active and retired signing keys, newest first (on `get` and `rotate-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<SigningKey>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SigningKey {
    pub kid: String,
    pub algorithm: String,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub retired_at: Option<i64>,
}

/// `POST /v1/orgs/{org}/instances`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstance {
    pub name: String,
    /// HS256/384/512, RS256/384/512 or ES256/384/512 [default: RS256, or what the key implies].
    #[serde(default)]
    pub algorithm: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    /// An existing RSA/EC private key to keep (PKCS#8 DER or PEM, base64).
    #[serde(default)]
    pub private_key: Option<String>,
    /// An existing HMAC secret to keep (raw bytes, base64).
    #[serde(default)]
    pub secret_key: Option<String>,
}

/// The answer to `rotate-key`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rotation {
    pub instance: Instance,
    pub retired_kid: String,
    /// `tenant/name` of live tokens still signed with the retired key.
    pub still_using_old: Vec<String>,
}

/// An instance's active public key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicKey {
    pub instance: String,
    pub algorithm: String,
    pub kid: String,
    /// X.509 SubjectPublicKeyInfo DER, base64.
    pub der: String,
}

/// The `broker.conf` lines that make a broker accept an instance's tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BrokerConfig {
    pub lines: Vec<String>,
}

/// What a delete removed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deleted {
    /// Tenants deleted with an instance, or tokens revoked with a tenant.
    pub count: i64,
}

/// A Pulsar tenant on an instance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    pub name: String,
    pub instance: String,
    pub description: Option<String>,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Live (not revoked) tokens.
    pub token_count: i64,
}

/// `POST /v1/orgs/{org}/tenants`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    pub name: String,
    /// [default: the only instance]
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A token's metadata; `token` only in the response that creates it.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    /// Also the JWT's `jti`.
    pub id: String,
    pub name: String,
    /// `streaming` or `application`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Streaming tokens: their tenant; null for application tokens.
    pub tenant: Option<String>,
    /// Streaming tokens: their tenant's instance; null for application tokens.
    pub instance: Option<String>,
    /// Streaming tokens: the `sub` claim (the Pulsar role); null for application tokens.
    pub subject: Option<String>,
    /// Application tokens: the roles they carry. Streaming tokens: the roles recorded for
    /// their subject.
    pub roles: Vec<String>,
    /// What the token may do: for a streaming token, its roles' Pulsar actions within its
    /// tenant; for an application token, its roles' policies.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Application tokens: the public client id; null for streaming tokens.
    pub client_id: Option<String>,
    pub description: Option<String>,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// null: never.
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<i64>,
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<i64>,
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<i64>,
    /// The JWT (streaming) or opaque token (application), shown only once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Application tokens: the client secret, shown only once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token or the client secret.
        f.debug_struct("Token")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("type", &self.kind)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// One thing a token, user or role may do: an action on a resource (with `*` wildcards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Permission {
    pub action: String,
    pub resource: String,
}

/// `POST /v1/orgs/{org}/tokens`: an application token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAppToken {
    /// Generated (`app-<6 hex>`) when absent.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// At least one role, by name or id.
    pub roles: Vec<String>,
    /// `30m`, `12h`, `7d`, …, an RFC 3339 time, or `never` (the default).
    #[serde(default)]
    pub expires: Option<String>,
}

/// `{effect, actions, resources}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RolePolicy {
    /// Always `allow`: a principal may do what any of its roles allows, nothing else.
    pub effect: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// A role: built-in (immutable, the same in every org) or custom.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Role {
    /// `builtin:<slug>` for built-in roles.
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub builtin: bool,
    pub policy: RolePolicy,
    /// null for built-in roles.
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<i64>,
    /// null for built-in roles.
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<i64>,
}

/// `POST /v1/orgs/{org}/roles`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub actions: Vec<String>,
    /// `drn:tok:<org>[:tenant:<t>[:namespace:<ns>[:topic:<topic>]]]` or
    /// `drn:tok:<org>:db:<db>[:keyspace:<ks>[:table:<tbl>]]`, `*` within a name.
    pub resources: Vec<String>,
}

/// `PATCH /v1/orgs/{org}/roles/{role}`: absent fields keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    #[serde(default)]
    pub resources: Option<Vec<String>>,
}

/// `DELETE /v1/orgs/{org}/roles/{role}`: the role deleted and who held it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleDeleted {
    pub name: String,
    /// `kind name` pairs, e.g. `user alice`, `application dashboards`.
    pub holders: Vec<String>,
}

/// `PUT /v1/orgs/{org}/users/{username}/roles/{role}`: the user, and whether it newly
/// holds the role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleGranted {
    pub user: User,
    pub granted: bool,
}

/// `PATCH /v1/orgs/{org}/users/{username}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// true: disable the account (no login; its sessions end); false: enable it.
    pub disabled: bool,
}

/// `POST /v1/orgs/{org}/tenants/{tenant}/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Unique per tenant [default: <tenant>-<6 hex digits>].
    #[serde(default)]
    pub name: Option<String>,
    /// The `sub` claim [default: the token's name].
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// 30m, 12h, 7d, 2w, 1y, 1d12h, an RFC 3339 time, or "never".
    pub expires: String,
    /// Roles recorded for the token's subject (names or ids).
    #[serde(default)]
    pub roles: Vec<String>,
}

/// One change: who, what, when, from where. Never a secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
    /// The client address for changes made through a server; null when embedded.
    pub source: Option<String>,
}

/// A person who logs in with a password.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub username: String,
    pub roles: Vec<String>,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Set while the account is locked after failed logins.
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<i64>,
    /// When the account was disabled; null while enabled.
    #[serde(default, with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<i64>,
}

/// `POST /v1/orgs/{org}/users`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    /// Roles to grant, by name or id.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl std::fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `PUT /v1/orgs/{org}/users/{username}/password`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
}

impl std::fmt::Debug for SetPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetPassword { .. }")
    }
}

/// `POST /v1/auth`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthRequest {
    /// With `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// An application token's client id, with `client_secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRequest")
            .field("username", &self.username)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A session token (shown once) and when it lapses unless used.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub auth_token: String,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: i64,
    /// The end of the absolute maximum lifetime: no use extends the session past it.
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub max_expires_at: i64,
    pub org: String,
    /// The username, or the application token's name.
    pub username: String,
    /// `user` or `application`.
    #[serde(default)]
    pub kind: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Who the credential in use belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    pub principal: String,
    /// "user", "application" or "local".
    pub kind: String,
    pub org: String,
    /// null when embedded.
    pub server: Option<String>,
    pub roles: Vec<String>,
    /// When the session lapses unless used (null: embedded, no session).
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<i64>,
    #[serde(default, with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub max_expires_at: Option<i64>,
}

/// One page of a list; pass `next_cursor` back as `cursor` for the next one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// null on the last page.
    pub next_cursor: Option<String>,
}

/// An error as `application/problem+json` (RFC 9457) with a stable `code`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine code: not_found, conflict, invalid_input, unauthenticated, …
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The request field at fault, for invalid bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `GET /healthz` and `/readyz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// A service account: a non-human principal that owns API keys and carries roles.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccount {
    pub name: String,
    /// The `sub` of its API keys: `<name>@<org>`.
    pub principal: String,
    pub description: Option<String>,
    pub roles: Vec<String>,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// Keys not revoked (expired ones included).
    pub apikey_count: i64,
    /// `get` only: its keys, revoked ones included until purged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apikeys: Option<Vec<ApiKey>>,
}

/// `POST /v1/orgs/{org}/service-accounts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccount {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Roles, by name or id; each must be held by the caller.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `DELETE /v1/orgs/{org}/service-accounts/{name}`: what went with it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceAccountDeleted {
    pub name: String,
    /// API keys deleted with it (each revoked into the feed first).
    pub apikeys_deleted: i64,
}

/// An API key's metadata (the key itself only in the answer that creates it).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    /// Also the JWT's `jti`.
    pub id: String,
    pub name: String,
    pub service_account: String,
    pub instance: String,
    pub description: Option<String>,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// null: never.
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<i64>,
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<i64>,
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<i64>,
    /// The JWT, shown only once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("service_account", &self.service_account)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/orgs/{org}/apikeys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub service_account: String,
    /// The instance the key is for [default: the org's only one].
    #[serde(default)]
    pub instance: Option<String>,
    /// Unique per org [default: `<service account>-<6 hex>`].
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `30m`, `12h`, `7d`, …, an RFC 3339 time, or `never` [default: 30d].
    #[serde(default)]
    pub expires: Option<String>,
}

/// One revoked JWT in an org's revocation feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Revocation {
    pub jti: String,
    /// `streaming` or `apikey`.
    pub kind: String,
    #[serde(with = "ts")]
    #[schema(value_type = String, format = DateTime)]
    pub revoked_at: i64,
    /// The JWT's own expiry (null: never): after it, brokers refuse it anyway.
    #[serde(with = "ts::opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<i64>,
}

/// `GET /v1/orgs/{org}/revocations`: entries after the cursor, and the cursor to poll with
/// next (the same one when nothing is new).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevocationFeed {
    pub items: Vec<Revocation>,
    pub next_cursor: String,
}

/// `POST /v1/introspect` (RFC 7662): the credential to look at. A form-encoded
/// `token=…` body is accepted too.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct IntrospectRequest {
    pub token: String,
    /// RFC 7662's hint; accepted and ignored (every kind is tried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type_hint: Option<String>,
}

impl std::fmt::Debug for IntrospectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntrospectRequest { .. }")
    }
}

/// RFC 7662's answer; an inactive credential is `{"active": false}` and, for the
/// authenticated caller, a `reason`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Introspection {
    pub active: bool,
    /// `streaming`, `apikey`, `application` or `session`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Unix seconds (RFC 7662).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Unix seconds (RFC 7662).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The actions its roles grant, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Why it is not active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Filters of `apikey list` (`?service_account=&instance=&status=`).
#[derive(Debug, Clone, Default)]
pub struct ApiKeyFilter {
    /// A service account's name or id.
    pub service_account: Option<String>,
    /// An instance's name.
    pub instance: Option<String>,
    /// `active`, `revoked` or `expired`.
    pub status: Option<String>,
}

/// How a JSON value is named in messages: "a string", "an object", "null".
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
