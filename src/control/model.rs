//! The control plane's records, as the store keeps them and the CLI shows them.

use serde::Serialize;

use crate::jwt::Algorithm;

/// A data-plane endpoint (a Pulsar cluster) with its own signing key and audience.
#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    #[serde(skip)]
    pub id: String,
    pub name: String,
    #[serde(serialize_with = "alg_str")]
    pub algorithm: Algorithm,
    pub audience: String,
    pub issuer: Option<String>,
    /// The active signing key's id.
    pub kid: String,
    pub created_at: i64,
}

/// One signing key of an instance; retired keys stay until nothing uses them.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub kid: String,
    pub instance_id: String,
    pub algorithm: Algorithm,
    /// The private key (or HMAC secret), sealed under the master key.
    pub sealed: Vec<u8>,
    /// X.509 SubjectPublicKeyInfo DER; `None` for HMAC.
    pub public_der: Option<Vec<u8>>,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// A Pulsar tenant on an instance.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub instance_id: String,
    pub instance: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    /// Live (not revoked) tokens.
    pub token_count: i64,
}

/// What the rules look a tenant up for (its id, name and instance), without
/// [`Tenant::token_count`], which costs a scan of the tenant's tokens: token operations
/// look their tenant up twice each, and a tenant may hold many thousands of tokens.
#[derive(Debug, Clone)]
pub struct TenantRef {
    pub id: String,
    pub name: String,
    /// The instance's name.
    pub instance: String,
}

/// An application token: an org-level credential that carries roles. Its token and client
/// secret are stored only as HMACs under the pepper; the client id is public.
#[derive(Clone)]
pub struct AppToken {
    pub id: String,
    pub org_id: String,
    pub org: String,
    pub name: String,
    pub client_id: String,
    pub token_hash: Vec<u8>,
    pub secret_hash: Vec<u8>,
    pub description: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The roles it carries (filled by the control plane, not stored here).
    pub roles: Vec<Role>,
}

impl std::fmt::Debug for AppToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppToken")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A streaming token's metadata; the token itself is never stored, only its hash.
#[derive(Debug, Clone)]
pub struct Token {
    /// Also the JWT's `jti`.
    pub id: String,
    pub tenant_id: String,
    pub tenant: String,
    pub instance: String,
    pub name: String,
    pub subject: String,
    pub description: Option<String>,
    pub kid: String,
    /// SHA-256 of the JWT.
    pub token_hash: Vec<u8>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The roles recorded for the token's subject (filled by the control plane).
    pub roles: Vec<Role>,
}

/// One change, written in the same transaction as the change itself.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
    /// The client address, for changes made through a server.
    pub source: Option<String>,
}

fn alg_str<S: serde::Serializer>(alg: &Algorithm, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(alg.as_str())
}

/// A person who logs in to a server with a password (Argon2id PHC string).
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub org: String,
    pub username: String,
    pub password_hash: String,
    pub created_at: i64,
    /// Consecutive failed logins since the last success or lock.
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    /// Set while the account is disabled: no login, no session.
    pub disabled_at: Option<i64>,
    /// The names of the roles the user holds (filled by the control plane, not stored here).
    pub roles: Vec<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// Who a credential belongs to: a person, or an application token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    User,
    Application,
    /// A service account, authenticating with one of its API keys.
    ServiceAccount,
}

impl PrincipalKind {
    /// The name stored with sessions and role assignments, and shown by `whoami`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Application => "application",
            PrincipalKind::ServiceAccount => "service-account",
        }
    }

    pub fn parse(s: &str) -> Option<PrincipalKind> {
        match s {
            "user" => Some(PrincipalKind::User),
            "application" => Some(PrincipalKind::Application),
            "service-account" => Some(PrincipalKind::ServiceAccount),
            _ => None,
        }
    }
}

/// The kinds of role holder, as `role_assignments.holder_kind` stores them: the two kinds
/// of principal, and streaming tokens, which record the roles their subject carries.
pub const HOLDER_USER: &str = PrincipalKind::User.as_str();
pub const HOLDER_APPLICATION: &str = PrincipalKind::Application.as_str();
pub const HOLDER_STREAMING_TOKEN: &str = "streaming-token";
pub const HOLDER_SERVICE_ACCOUNT: &str = PrincipalKind::ServiceAccount.as_str();

/// A non-human principal that owns API keys and carries roles.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    /// Keys not revoked (expired ones included).
    pub apikey_count: i64,
    /// The roles it holds (filled by the control plane, not stored here).
    pub roles: Vec<Role>,
}

/// An API key's metadata: a JWT for one service account and one instance. The key itself
/// is never stored, only its SHA-256 and its `jti` (the id).
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// Also the JWT's `jti`.
    pub id: String,
    pub org_id: String,
    pub service_account_id: String,
    pub service_account: String,
    pub instance_id: String,
    pub instance: String,
    pub name: String,
    pub description: Option<String>,
    pub kid: String,
    pub key_hash: Vec<u8>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// One entry of an org's revocation feed: a JWT (streaming token or API key) that brokers
/// and gateways should refuse although its signature and expiry are good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Position in the feed (increasing).
    pub seq: i64,
    pub jti: String,
    /// `streaming` or `apikey`.
    pub kind: String,
    pub revoked_at: i64,
    /// The JWT's own `exp`: after it, brokers refuse it anyway.
    pub expires_at: Option<i64>,
}

/// A session: its token is stored only as an HMAC under the server's pepper.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub principal_kind: PrincipalKind,
    /// The user's or the application token's id.
    pub principal_id: String,
    /// The username, or the application token's name.
    pub principal_name: String,
    pub org: String,
    pub created_at: i64,
    /// Moves forward with each use (the sliding TTL), never past `max_expires_at`.
    pub expires_at: i64,
    pub max_expires_at: i64,
    pub last_used_at: i64,
    /// What the principal's roles grant, read with the session (not stored with it) and
    /// shared by every request that reuses the row.
    pub grants: std::sync::Arc<super::policy::Grants>,
}

/// A stored answer to a creating request that carried an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    /// SHA-256 of method, path and body.
    pub request_hash: Vec<u8>,
    /// `None` while the first request is still running.
    pub status: Option<u16>,
    /// The response body, sealed under the master key (it may hold a secret shown once).
    pub sealed_response: Option<Vec<u8>>,
    pub created_at: i64,
}

/// A named policy. Built-in roles are not stored: they are the same in every org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// `builtin:<slug>` for built-in roles.
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: Option<String>,
    pub policy: super::policy::Policy,
    pub builtin: bool,
    pub created_at: i64,
    pub updated_at: i64,
}
