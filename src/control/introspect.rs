//! Introspection (RFC 7662): whether a credential this control plane issued is active —
//! a streaming token or an API key (JWTs: signature, audience and expiry checked against
//! the instance key named by `kid`, then the `jti` looked up for revocation), an
//! application token or a session token (opaque: checksum, then the HMAC looked up).
//! Only credentials of the caller's org can be active; anything else — unknown, revoked,
//! expired, garbage, another org's — is `{"active": false}`, with a `reason` for the
//! authenticated caller. A use is recorded in `last_used_at`, at most once a minute.

use aws_lc_rs::digest;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::auth::{self, LAST_USED_GRANULARITY, Principal};
use super::error::{ControlError, ControlResult};
use super::model::{
    ApiKey, HOLDER_SERVICE_ACCOUNT, HOLDER_STREAMING_TOKEN, PrincipalKind, Role, Token,
};
use super::opaque::{self, Kind};
use super::policy::{Action, Policy};
use super::tokens::effective_permissions;
use super::usage::billing::Metric;
use super::{ControlPlane, MasterKey, Store};
use crate::jwt::{self, VerifyKey, VerifyOptions};
use crate::keys;

/// The reason given for a JWT signed by a key this org does not have.
const UNKNOWN_KEY: &str = "signed by a key this control plane does not have";

/// Seconds of clock skew tolerated on `exp` and `nbf`.
const LEEWAY: i64 = 30;

/// What a verified JWT's id names, with the roles it carries.
enum Found {
    Token(Token, Vec<Role>),
    Key(ApiKey, Vec<Role>),
}

/// The answer: RFC 7662's fields, plus `reason` when inactive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Introspection {
    pub active: bool,
    /// `streaming`, `apikey`, `application` or `session`.
    pub token_type: Option<&'static str>,
    pub sub: Option<String>,
    pub aud: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub tenant: Option<String>,
    pub service_account: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    /// The actions the credential's roles grant, space-separated.
    pub scope: Option<String>,
    /// Why it is not active (for the authenticated caller only).
    pub reason: Option<String>,
    /// A use to write down (`last_used_at`), when one is due: left to the caller so that
    /// a server can write it off the request's path.
    pub touch: Option<Touch>,
}

/// A credential whose `last_used_at` is due to be written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Touch {
    Token(String),
    ApiKey(String),
    Application(String),
}

impl Touch {
    /// Writes the use down (never moving `last_used_at` back).
    pub fn apply<S: Store>(&self, store: &S, now: i64) -> ControlResult<()> {
        store.write(|tx| match self {
            Touch::Token(id) => tx.touch_token(id, now),
            Touch::ApiKey(id) => tx.touch_api_key(id, now),
            Touch::Application(id) => tx.touch_app_token(id, now),
        })
    }
}

fn inactive(reason: impl Into<String>) -> Introspection {
    Introspection {
        reason: Some(reason.into()),
        ..Introspection::default()
    }
}

/// The actions some policies grant, space-separated, each once.
fn scope<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Option<String> {
    let mut actions: Vec<Action> = policies
        .into_iter()
        .flat_map(|p| p.actions.iter().copied())
        .collect();
    actions.sort();
    actions.dedup();
    (!actions.is_empty()).then(|| {
        actions
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn roles_scope(roles: &[Role]) -> Option<String> {
    scope(roles.iter().map(|r| &r.policy))
}

impl<S: Store> ControlPlane<S> {
    /// Introspects `token` at `now` for a caller holding `introspect`, and writes down the
    /// use.
    pub fn introspect(&self, token: &str, now: i64) -> ControlResult<Introspection> {
        let answer = self.introspect_with(token, now, None)?;
        if let Some(touch) = &answer.touch {
            touch.apply(&self.store, now)?;
        }
        Ok(answer)
    }

    /// [`Self::introspect`] with reads only: verified JWTs remembered in `cache` (a
    /// server's), and the use to write down left in the answer's `touch`.
    pub fn introspect_with(
        &self,
        token: &str,
        now: i64,
        cache: Option<&IssuedCache>,
    ) -> ControlResult<Introspection> {
        self.require_org(Action::Introspect)?;
        let token = token.trim();
        let answer = if opaque::is_kind(Kind::Session, token) {
            self.introspect_session(token, now)
        } else if opaque::is_kind(Kind::Application, token) {
            self.introspect_app_token(token, now)
        } else {
            self.introspect_jwt(token, now, cache)
        }?;
        let tenant = answer.tenant.as_deref().unwrap_or_default();
        self.meter_count(tenant, Metric::Introspections, now);
        Ok(answer)
    }

    fn introspect_session(&self, token: &str, now: i64) -> ControlResult<Introspection> {
        if let Err(why) = opaque::check(Kind::Session, token) {
            return Ok(inactive(format!("not a valid session token: {why}")));
        }
        let digest = opaque::digest(self.master.get()?.pepper(), token);
        let Some(session) = self.store.read(|tx| tx.session(&digest))? else {
            return Ok(inactive("unknown session (ended, or never issued here)"));
        };
        if session.org != self.org {
            // Another org's session is as unknown here as any.
            return Ok(inactive("unknown session (ended, or never issued here)"));
        }
        let lapses = session.expires_at.min(session.max_expires_at);
        if now >= lapses {
            return Ok(inactive("the session has expired"));
        }
        Ok(Introspection {
            active: true,
            token_type: Some("session"),
            sub: Some(session.principal_name.clone()),
            exp: Some(lapses),
            iat: Some(session.created_at),
            username: Some(session.principal_name.clone()),
            scope: scope(&session.grants.policies),
            ..Introspection::default()
        })
    }

    fn introspect_app_token(&self, token: &str, now: i64) -> ControlResult<Introspection> {
        let pepper = self.master.get()?.pepper().to_vec();
        if let Err(why) = opaque::check(Kind::Application, token) {
            return Ok(inactive(format!("not a valid application token: {why}")));
        }
        // Whose it is first: another org's token, revoked or not, is as unknown as any.
        let owner = self
            .store
            .read(|tx| tx.app_token_by_hash(&opaque::digest(&pepper, token)))?;
        if owner.as_ref().is_none_or(|a| a.org != self.org) {
            return Ok(inactive(
                "unknown application token (never issued in this org)",
            ));
        }
        let (principal, due) = match auth::check_app_token(&self.store, &pepper, token, now) {
            Ok(ok) => ok,
            Err(e) => return Ok(inactive(e.to_string())),
        };
        let app = owner;
        Ok(Introspection {
            touch: due.then(|| Touch::Application(principal.id.clone())),
            active: true,
            token_type: Some("application"),
            sub: Some(principal.name.clone()),
            exp: principal.expires_at,
            iat: app.as_ref().map(|a| a.created_at),
            client_id: app.map(|a| a.client_id),
            scope: scope(&principal.grants.policies),
            ..Introspection::default()
        })
    }

    fn introspect_jwt(
        &self,
        token: &str,
        now: i64,
        cache: Option<&IssuedCache>,
    ) -> ControlResult<Introspection> {
        let issued = match verify_issued_cached(
            &self.store,
            &self.master,
            token,
            now,
            cache,
            Some(&self.org),
        )? {
            Ok(issued) => issued,
            Err(reason) => return Ok(inactive(reason)),
        };
        let base = Introspection {
            active: true,
            sub: issued
                .claims
                .get("sub")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            aud: Some(issued.audience.clone()),
            exp: issued.expires_at,
            iat: jwt::numeric_date(&issued.claims, "iat").ok().flatten(),
            jti: Some(issued.jti.clone()),
            ..Introspection::default()
        };
        // One read transaction for the credential and its roles; ids say what they are
        // (`tok_…`, `key_…`), so one lookup, not two.
        let found = self.store.read(|tx| {
            if !issued.jti.starts_with("key_")
                && let Some((t, _)) = tx.token_by_id(&issued.jti)?
            {
                let roles = tx.roles_of(&self.org, HOLDER_STREAMING_TOKEN, &t.id)?;
                return Ok(Some(Found::Token(t, roles)));
            }
            if !issued.jti.starts_with("tok_")
                && let Some((k, _)) = tx.api_key_by_id(&issued.jti)?
            {
                let roles =
                    tx.roles_of(&self.org, HOLDER_SERVICE_ACCOUNT, &k.service_account_id)?;
                return Ok(Some(Found::Key(k, roles)));
            }
            Ok(None)
        })?;
        match found {
            Some(Found::Token(t, roles)) => {
                return self.streaming_answer(t, &roles, &issued.hash, base, now);
            }
            Some(Found::Key(k, roles)) => {
                return self.api_key_answer(k, &roles, &issued.hash, base, now);
            }
            None => {}
        }
        Ok(inactive(
            "no token or API key with this id (deleted, purged, or never issued here)",
        ))
    }

    fn streaming_answer(
        &self,
        t: Token,
        roles: &[Role],
        hash: &[u8],
        base: Introspection,
        now: i64,
    ) -> ControlResult<Introspection> {
        if t.token_hash != hash {
            return Ok(inactive("not the token issued with this id"));
        }
        if let Some(at) = t.revoked_at {
            return Ok(inactive(format!(
                "revoked at {}",
                crate::duration::rfc3339(at).unwrap_or_default()
            )));
        }
        let touch = t
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_GRANULARITY)
            .then(|| Touch::Token(t.id.clone()));
        let scoped = effective_permissions(roles, &self.org, &t.tenant);
        Ok(Introspection {
            touch,
            token_type: Some("streaming"),
            tenant: Some(t.tenant),
            scope: scope(&scoped),
            ..base
        })
    }

    fn api_key_answer(
        &self,
        k: ApiKey,
        roles: &[Role],
        hash: &[u8],
        base: Introspection,
        now: i64,
    ) -> ControlResult<Introspection> {
        if k.key_hash != hash {
            return Ok(inactive("not the key issued with this id"));
        }
        if let Some(at) = k.revoked_at {
            return Ok(inactive(format!(
                "revoked at {}",
                crate::duration::rfc3339(at).unwrap_or_default()
            )));
        }
        let touch = k
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_GRANULARITY)
            .then(|| Touch::ApiKey(k.id.clone()));
        Ok(Introspection {
            touch,
            token_type: Some("apikey"),
            service_account: Some(k.service_account),
            scope: roles_scope(roles),
            ..base
        })
    }
}

/// A JWT whose signature, audience and expiry check out against the instance key its `kid`
/// names: what it claims, and where it was issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub org: String,
    pub audience: String,
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub expires_at: Option<i64>,
    pub jti: String,
    /// SHA-256 of the JWT, as stored with the token or key.
    pub hash: Vec<u8>,
}

/// JWTs whose signature checked out recently, by SHA-256, so that a gateway introspecting
/// (or a client presenting) the same token again does not pay for the signature again. A
/// signature that verified once always will; what can change is checked on every use: the
/// expiry against the clock, and the `jti` against the store (revoked, deleted).
pub struct IssuedCache {
    ttl: std::time::Duration,
    entries: Mutex<HashMap<Vec<u8>, Remembered>>,
}

/// A verified JWT and when it was verified.
type Remembered = (Arc<Issued>, Instant);

/// How long a verified JWT is remembered unless told otherwise.
pub const ISSUED_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(300);
/// Entries kept before stale ones are swept out (and all, if none is stale).
const ISSUED_CACHE_MAX: usize = 100_000;

impl IssuedCache {
    pub fn new(ttl: std::time::Duration) -> IssuedCache {
        IssuedCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, hash: &[u8], now: Instant) -> Option<Arc<Issued>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|(_, at)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(issued, _)| Arc::clone(issued))
    }

    fn put(&self, issued: Arc<Issued>, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= ISSUED_CACHE_MAX {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| now.saturating_duration_since(*at) < ttl);
            if entries.len() >= ISSUED_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(issued.hash.clone(), (issued, now));
    }
}

/// [`verify_issued`] through `cache`: a token seen within its TTL skips the signature; its
/// expiry is checked against `now` all the same.
/// With `org`, a JWT signed by another org's key is answered exactly as one signed by an
/// unknown key, before anything else is checked: nothing about it is told.
pub fn verify_issued_cached<S: Store>(
    store: &S,
    master: &MasterKey,
    token: &str,
    now: i64,
    cache: Option<&IssuedCache>,
    org: Option<&str>,
) -> ControlResult<Result<Arc<Issued>, String>> {
    let Some(cache) = cache else {
        return Ok(verify_issued(store, master, token, now, org)?.map(Arc::new));
    };
    let hash = digest::digest(&digest::SHA256, token.as_bytes());
    if let Some(issued) = cache.get(hash.as_ref(), Instant::now()) {
        if org.is_some_and(|o| o != issued.org) {
            return Ok(Err(UNKNOWN_KEY.into()));
        }
        if let Some(exp) = issued.expires_at
            && now >= exp.saturating_add(LEEWAY)
        {
            return Ok(Err(format!(
                "the token expired at {}",
                crate::duration::rfc3339(exp).unwrap_or_default()
            )));
        }
        return Ok(Ok(issued));
    }
    let verified = verify_issued(store, master, token, now, org)?.map(Arc::new);
    if let Ok(issued) = &verified {
        cache.put(Arc::clone(issued), Instant::now());
    }
    Ok(verified)
}

/// Verifies a JWT against the signing key its header names; `Err(reason)` when it is not
/// a good token this control plane signed (the reason is for an authenticated caller).
pub fn verify_issued<S: Store>(
    store: &S,
    master: &MasterKey,
    token: &str,
    now: i64,
    org: Option<&str>,
) -> ControlResult<Result<Issued, String>> {
    let decoded = match jwt::decode(token) {
        Ok(d) => d,
        Err(e) => return Ok(Err(format!("not a token tok issued: {e}"))),
    };
    let Some(kid) = decoded.header.get("kid").and_then(|v| v.as_str()) else {
        return Ok(Err("the JWT names no key (kid): not one tok issued".into()));
    };
    let Some((key, instance, key_org)) = store.read(|tx| tx.key_by_kid(kid))? else {
        return Ok(Err(UNKNOWN_KEY.into()));
    };
    if org.is_some_and(|o| o != key_org) {
        return Ok(Err(UNKNOWN_KEY.into()));
    }
    let org = key_org;
    let public = match &key.public_der {
        Some(der) => keys::parse_public_key(der),
        None => {
            let secret = master.get()?.open(&key.kid, &key.sealed)?;
            keys::parse_secret_key(&secret).and_then(|k| k.public_key())
        }
    };
    let public = match public {
        Ok(p) => p,
        Err(e) => return Ok(Err(format!("the instance key is unusable: {e}"))),
    };
    let opts = VerifyOptions {
        algorithms: Some(vec![key.algorithm]),
        audience: Some(instance.audience.clone()),
        issuer: instance.issuer.clone(),
        leeway: LEEWAY,
        required: vec!["jti".into()],
        now,
    };
    let verify_key = VerifyKey {
        kid: Some(key.kid.clone()),
        key: public,
    };
    let verified = match jwt::verify(token, std::slice::from_ref(&verify_key), &opts) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let jti = verified
        .claims
        .get("jti")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    Ok(Ok(Issued {
        org,
        audience: instance.audience,
        expires_at: verified.expires_at,
        claims: verified.claims,
        jti,
        hash: digest::digest(&digest::SHA256, token.as_bytes())
            .as_ref()
            .to_vec(),
    }))
}

/// Checks an API key used as a bearer token for the tok API: a good signature, not
/// revoked, not expired. Returns its service account as the principal (with the account's
/// roles), and the key's id when its `last_used_at` is due to be written.
pub fn check_api_key<S: Store>(
    store: &S,
    master: &MasterKey,
    token: &str,
    now: i64,
) -> ControlResult<(Principal, Option<String>)> {
    check_api_key_with(store, master, token, now, None)
}

/// [`check_api_key`], remembering verified JWTs in `cache` (a server's).
pub fn check_api_key_with<S: Store>(
    store: &S,
    master: &MasterKey,
    token: &str,
    now: i64,
    cache: Option<&IssuedCache>,
) -> ControlResult<(Principal, Option<String>)> {
    let refused = |code: &'static str, message: String| ControlError::Unauthenticated {
        code,
        message,
        hint: Some("run `tok login`, or use a valid API key or application token".into()),
    };
    let issued = verify_issued_cached(store, master, token, now, cache, None)?.map_err(|why| {
        refused(
            "invalid_token",
            format!("the credential is not valid: {why}"),
        )
    })?;
    let found = store.read(|tx| {
        let Some((key, org)) = tx.api_key_by_id(&issued.jti)? else {
            return Ok(None);
        };
        let roles = tx.roles_of(&org, HOLDER_SERVICE_ACCOUNT, &key.service_account_id)?;
        Ok(Some((key, org, roles)))
    })?;
    let Some((key, org, roles)) = found.filter(|(k, _, _)| k.key_hash == issued.hash) else {
        return Err(refused(
            "invalid_token",
            "the credential is not an API key of this server (a streaming token, or a \
             deleted key)"
                .into(),
        ));
    };
    if let Some(at) = key.revoked_at {
        return Err(refused(
            "key_revoked",
            format!(
                "the API key '{}' was revoked at {}",
                key.name,
                crate::duration::rfc3339(at).unwrap_or_default()
            ),
        ));
    }
    let due = key
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_GRANULARITY)
        .then(|| key.id.clone());
    let principal = Principal {
        kind: PrincipalKind::ServiceAccount,
        id: key.service_account_id.clone(),
        name: key.service_account.clone(),
        org,
        session_id: None,
        expires_at: key.expires_at,
        max_expires_at: None,
        grants: Arc::new(auth::grants_of(&roles)),
    };
    Ok((principal, due))
}
