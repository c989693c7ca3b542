//! Logging in and session tokens (Stargate's table-based auth): a password buys an
//! opaque token with a sliding TTL — each authenticated use moves the expiry forward,
//! never past an absolute maximum. Repeated failures lock the account for a while.
//! Every rule takes `now` (Unix seconds) so tests move the clock instead of sleeping.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::error::{ControlError, ControlResult};
use super::model::{AppToken, PrincipalKind, Role, Session, User};
use super::opaque::{self, Kind};
use super::policy::Grants;
use super::session_cache::SessionCache;
use super::users::{hash_password, verify_password};
use super::{AuditEvent, Store, ids};
use crate::duration::rfc3339;

/// How sessions and logins behave on a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthPolicy {
    /// Seconds a session stays valid after its last use (default 30 minutes).
    pub session_ttl: i64,
    /// Seconds after login beyond which no use extends a session (default 12 hours).
    pub session_max_lifetime: i64,
    /// Consecutive failed logins that lock an account (default 5).
    pub lockout_threshold: i64,
    /// Seconds an account stays locked (default 15 minutes).
    pub lockout_secs: i64,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            session_ttl: 30 * 60,
            session_max_lifetime: 12 * 3600,
            lockout_threshold: 5,
            lockout_secs: 15 * 60,
        }
    }
}

impl AuthPolicy {
    /// A used session's new expiry is written only when it moves by at least this much,
    /// so that a burst of requests costs one write, not one per request (1% of the TTL).
    pub fn slide_granularity(&self) -> i64 {
        (self.session_ttl / 100).max(1)
    }
}

/// The message for every failed login, whatever the cause (unknown user, wrong password,
/// locked account), so that a guesser learns nothing from it.
pub const LOGIN_FAILED: &str = "wrong username or password";

/// Who a credential belongs to, after it was checked (and a session extended).
#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The user's or the application token's id.
    pub id: String,
    /// The username, or the application token's name.
    pub name: String,
    pub org: String,
    /// The session, when the credential is a session token.
    pub session_id: Option<String>,
    /// When the credential lapses (unless used again, for a session); `None`: never.
    pub expires_at: Option<i64>,
    /// A session's absolute end.
    pub max_expires_at: Option<i64>,
    /// What its roles grant (and their names), shared with the session cache.
    pub grants: Arc<Grants>,
}

impl Principal {
    /// The audit's actor: `user:alice`, `application:dashboards`.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.name)
    }
}

/// The grants of a set of roles.
pub fn grants_of(roles: &[Role]) -> Grants {
    Grants::new(
        roles.iter().map(|r| r.name.clone()).collect(),
        roles.iter().map(|r| r.policy.clone()).collect(),
    )
}

/// Checks a username and password and starts a session; returns the token (shown once)
/// and the session.
pub fn login<S: Store>(
    store: &S,
    pepper: &[u8],
    policy: &AuthPolicy,
    username: &str,
    password: &str,
    source: Option<&str>,
    now: i64,
) -> ControlResult<(String, Session)> {
    let user = store.read(|tx| tx.user_anywhere(username))?;
    let Some(user) = user else {
        // Spend the same time as a real check so that timing does not reveal usernames.
        verify_password(password, dummy_hash());
        return Err(failed());
    };
    let matches = verify_password(password, &user.password_hash);
    let locked = user.locked_until.is_some_and(|until| until > now);
    if locked || !matches {
        if !locked {
            record_failure(store, policy, &user, source, now)?;
        }
        return Err(failed());
    }
    if user.disabled_at.is_some() {
        // Said only to someone who knows the password.
        return Err(ControlError::Unauthenticated {
            code: "account_disabled",
            message: format!("the account '{}' is disabled", user.username),
            hint: Some("an administrator can enable it with `tok user enable`".into()),
        });
    }
    let token = opaque::generate(Kind::Session)?;
    let session = Session {
        id: ids::new_id("ses"),
        principal_kind: PrincipalKind::User,
        principal_id: user.id.clone(),
        principal_name: user.username.clone(),
        org: user.org.clone(),
        created_at: now,
        expires_at: now + policy.session_ttl.min(policy.session_max_lifetime),
        max_expires_at: now + policy.session_max_lifetime,
        last_used_at: now,
        grants: Arc::default(),
    };
    store.write(|tx| {
        tx.set_login_state(&user.id, 0, None)?;
        tx.insert_session(&session, &opaque::digest(pepper, &token))?;
        tx.insert_audit(&AuditEvent {
            org_id: &user.org_id,
            at: now,
            actor: &format!("user:{}", user.username),
            action: "session.create",
            target: &user.username,
            detail: None,
            source,
        })
    })?;
    Ok((token, session))
}

/// The message for every failed client-credential exchange (unknown client id, wrong
/// secret, revoked or expired token).
pub const CLIENT_LOGIN_FAILED: &str = "wrong client id or client secret";

/// Exchanges an application token's client id and client secret for a session, as a
/// username and password would be. A secret that is malformed or fails its checksum is
/// refused before any lookup. The session never outlives the application token.
pub fn login_client<S: Store>(
    store: &S,
    pepper: &[u8],
    policy: &AuthPolicy,
    client_id: &str,
    client_secret: &str,
    source: Option<&str>,
    now: i64,
) -> ControlResult<(String, Session)> {
    opaque::check(Kind::ClientSecret, client_secret).map_err(|why| {
        ControlError::Unauthenticated {
            code: "invalid_credentials",
            message: format!("the client secret is malformed: {why}"),
            hint: Some("client secrets start with tokcs_ and are shown once, on creation".into()),
        }
    })?;
    let client_failed = || ControlError::Unauthenticated {
        code: "invalid_credentials",
        message: CLIENT_LOGIN_FAILED.into(),
        hint: None,
    };
    let app = store
        .read(|tx| tx.app_token_by_client_id(client_id.trim()))?
        .ok_or_else(client_failed)?;
    let digest = opaque::digest(pepper, client_secret);
    let matches =
        aws_lc_rs::constant_time::verify_slices_are_equal(&digest, &app.secret_hash).is_ok();
    if !matches || app.revoked_at.is_some() || app.expires_at.is_some_and(|e| e <= now) {
        return Err(client_failed());
    }
    let max_expires_at =
        (now + policy.session_max_lifetime).min(app.expires_at.unwrap_or(i64::MAX));
    let token = opaque::generate(Kind::Session)?;
    let session = Session {
        id: ids::new_id("ses"),
        principal_kind: PrincipalKind::Application,
        principal_id: app.id.clone(),
        principal_name: app.name.clone(),
        org: app.org.clone(),
        created_at: now,
        expires_at: (now + policy.session_ttl).min(max_expires_at),
        max_expires_at,
        last_used_at: now,
        grants: Arc::default(),
    };
    store.write(|tx| {
        tx.insert_session(&session, &opaque::digest(pepper, &token))?;
        tx.touch_app_token(&app.id, now)?;
        tx.insert_audit(&AuditEvent {
            org_id: &app.org_id,
            at: now,
            actor: &format!("application:{}", app.name),
            action: "session.create",
            target: &app.name,
            detail: Some("client credentials"),
            source,
        })
    })?;
    Ok((token, session))
}

/// How often a use of an application token is written down (`last_used_at`).
pub const LAST_USED_GRANULARITY: i64 = 60;

/// Checks an application token used as a bearer token: its format offline, then the
/// stored token (by HMAC), its revocation and expiry. Returns the principal and whether
/// its `last_used_at` is due to be written (at most once per [`LAST_USED_GRANULARITY`]).
pub fn check_app_token<S: Store>(
    store: &S,
    pepper: &[u8],
    token: &str,
    now: i64,
) -> ControlResult<(Principal, bool)> {
    opaque::check(Kind::Application, token).map_err(|why| ControlError::Unauthenticated {
        code: "invalid_token",
        message: format!("the credential is not a valid application token: {why}"),
        hint: Some("application tokens start with toka_ and are shown once, on creation".into()),
    })?;
    let digest = opaque::digest(pepper, token);
    let found: Option<AppToken> = store.read(|tx| {
        let Some(mut app) = tx.app_token_by_hash(&digest)? else {
            return Ok(None);
        };
        app.roles = tx.roles_of(&app.org, super::model::HOLDER_APPLICATION, &app.id)?;
        Ok(Some(app))
    })?;
    let app = found.ok_or_else(|| ControlError::Unauthenticated {
        code: "unknown_token",
        message: "the application token is not known to this server".into(),
        hint: Some("check TOK_TOKEN, or ask for a new token with `tok token create --role`".into()),
    })?;
    if let Some(at) = app.revoked_at {
        return Err(ControlError::Unauthenticated {
            code: "token_revoked",
            message: format!(
                "the application token '{}' was revoked at {}",
                app.name,
                rfc3339(at).unwrap_or_default()
            ),
            hint: None,
        });
    }
    if let Some(at) = app.expires_at.filter(|at| *at <= now) {
        return Err(ControlError::Unauthenticated {
            code: "token_expired",
            message: format!(
                "the application token '{}' expired at {}",
                app.name,
                rfc3339(at).unwrap_or_default()
            ),
            hint: None,
        });
    }
    let due = app
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_GRANULARITY);
    let principal = Principal {
        kind: PrincipalKind::Application,
        id: app.id,
        name: app.name,
        org: app.org,
        session_id: None,
        expires_at: app.expires_at,
        max_expires_at: None,
        grants: Arc::new(grants_of(&app.roles)),
    };
    Ok((principal, due))
}

/// Counts a failed login; the threshold-th consecutive failure locks the account.
fn record_failure<S: Store>(
    store: &S,
    policy: &AuthPolicy,
    user: &User,
    source: Option<&str>,
    now: i64,
) -> ControlResult<()> {
    store.write(|tx| {
        let Some(current) = tx.user_anywhere(&user.username)? else {
            return Ok(());
        };
        // A concurrent failure may have locked the account since it was read: a lock is
        // never undone (or extended) by a later failure.
        if current.locked_until.is_some_and(|until| until > now) {
            return Ok(());
        }
        let failed = current.failed_logins + 1;
        let actor = format!("user:{}", user.username);
        if failed >= policy.lockout_threshold {
            let until = now + policy.lockout_secs;
            tx.set_login_state(&user.id, 0, Some(until))?;
            let detail = format!(
                "{failed} failed logins; locked until {}",
                rfc3339(until).unwrap_or_default()
            );
            tx.insert_audit(&AuditEvent {
                org_id: &user.org_id,
                at: now,
                actor: &actor,
                action: "user.lock",
                target: &user.username,
                detail: Some(&detail),
                source,
            })
        } else {
            tx.set_login_state(&user.id, failed, None)?;
            tx.insert_audit(&AuditEvent {
                org_id: &user.org_id,
                at: now,
                actor: &actor,
                action: "session.login-failed",
                target: &user.username,
                detail: None,
                source,
            })
        }
    })
}

/// Checks a session token and slides its expiry; unknown, malformed and expired tokens
/// are `Unauthenticated` with a message that says which.
pub fn authenticate<S: Store>(
    store: &S,
    pepper: &[u8],
    policy: &AuthPolicy,
    token: &str,
    now: i64,
) -> ControlResult<Principal> {
    if opaque::is_kind(Kind::Application, token) {
        let (principal, due) = check_app_token(store, pepper, token, now)?;
        if due {
            super::introspect::Touch::Application(principal.id.clone()).apply(store, now)?;
        }
        return Ok(principal);
    }
    let (principal, slide) = check_session(store, pepper, policy, token, now, None)?;
    if let Some(slide) = slide {
        apply_slide(store, &slide, None)?;
    }
    Ok(principal)
}

/// A session's expiry to move forward, decided by [`check_session`].
#[derive(Debug, Clone)]
pub struct Slide {
    /// The token's HMAC, to update a session cache.
    pub digest: Vec<u8>,
    pub session_id: String,
    pub expires_at: i64,
    pub used_at: i64,
}

/// The read half of [`authenticate`]: checks the token with one read transaction and says
/// whether the expiry should be written forward (at most once per
/// [`AuthPolicy::slide_granularity`]), so that a server can run the read inline and only
/// the rare write on a blocking thread. The principal already carries the slid expiry.
pub fn check_session<S: Store>(
    store: &S,
    pepper: &[u8],
    policy: &AuthPolicy,
    token: &str,
    now: i64,
    cache: Option<&SessionCache>,
) -> ControlResult<(Principal, Option<Slide>)> {
    check_format(token)?;
    let digest = opaque::digest(pepper, token);
    if let Some(cache) = cache
        && let Some(cached) = cache.get(&digest, Instant::now())
    {
        match evaluate(&cached, &digest, policy, now) {
            Ok(ok) => return Ok(ok),
            // Never refuse on a cached row: another replica may have slid it since.
            Err(_) => cache.forget(&digest),
        }
    }
    let generation = cache.map(SessionCache::generation);
    let session = lookup_session(store, &digest)?;
    let result = evaluate(&session, &digest, policy, now)?;
    if let (Some(cache), Some(generation)) = (cache, generation) {
        cache.put(digest, session, Instant::now(), generation);
    }
    Ok(result)
}

/// Checks a session token's prefix, length and checksum, with no lookup.
pub fn check_format(token: &str) -> ControlResult<()> {
    opaque::check(Kind::Session, token).map_err(|why| ControlError::Unauthenticated {
        code: "invalid_token",
        message: format!("the credential is not a valid session token: {why}"),
        hint: Some("run `tok login` for a new one".into()),
    })
}

/// The session stored under `digest` (the token's HMAC).
pub fn lookup_session<S: Store>(store: &S, digest: &[u8]) -> ControlResult<Session> {
    store
        .read(|tx| tx.session(digest))?
        .ok_or_else(|| ControlError::Unauthenticated {
            code: "unknown_session",
            message: "the session is not known to this server: it was ended by logout or a \
                      password change, or belongs to another server"
                .into(),
            hint: Some("run `tok login` to start a new session".into()),
        })
}

/// Whether `session` is valid at `now`, and the slide to write if its expiry moves far
/// enough.
pub fn evaluate(
    session: &Session,
    digest: &[u8],
    policy: &AuthPolicy,
    now: i64,
) -> ControlResult<(Principal, Option<Slide>)> {
    let lapsed_at = session.expires_at.min(session.max_expires_at);
    if now >= lapsed_at {
        let why = if session.expires_at >= session.max_expires_at {
            "reached its maximum lifetime"
        } else {
            "expired after a period without use"
        };
        return Err(ControlError::Unauthenticated {
            code: "session_expired",
            message: format!(
                "the session {why} at {}",
                rfc3339(lapsed_at).unwrap_or_default()
            ),
            hint: Some("run `tok login` to start a new session".into()),
        });
    }
    let slid = (now + policy.session_ttl).min(session.max_expires_at);
    let (expires_at, slide) = if slid - session.expires_at >= policy.slide_granularity() {
        let slide = Slide {
            digest: digest.to_vec(),
            session_id: session.id.clone(),
            expires_at: slid,
            used_at: now,
        };
        (slid, Some(slide))
    } else {
        (session.expires_at, None)
    };
    let principal = Principal {
        kind: session.principal_kind,
        id: session.principal_id.clone(),
        name: session.principal_name.clone(),
        org: session.org.clone(),
        session_id: Some(session.id.clone()),
        expires_at: Some(expires_at),
        max_expires_at: Some(session.max_expires_at),
        grants: Arc::clone(&session.grants),
    };
    Ok((principal, slide))
}

/// Writes a slid expiry forward (never backward), and into `cache`.
pub fn apply_slide<S: Store>(
    store: &S,
    slide: &Slide,
    cache: Option<&SessionCache>,
) -> ControlResult<()> {
    store.write(|tx| tx.touch_session(&slide.session_id, slide.expires_at, slide.used_at))?;
    if let Some(cache) = cache {
        cache.slid(&slide.digest, slide.expires_at);
    }
    Ok(())
}

/// Ends the session `token` belongs to; an application token used directly has no
/// session to end (revoke it instead).
pub fn logout<S: Store>(store: &S, principal: &Principal) -> ControlResult<()> {
    match &principal.session_id {
        Some(id) => store.write(|tx| tx.delete_session(id)),
        None => Err(ControlError::invalid(
            "an application token has no session to end: revoke it with `tok token delete` \
             to stop it working",
        )),
    }
}

fn failed() -> ControlError {
    ControlError::Unauthenticated {
        code: "invalid_credentials",
        message: LOGIN_FAILED.into(),
        hint: None,
    }
}

/// A hash of a password nobody has, computed once per process.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("tok-no-such-user-placeholder").unwrap_or_default())
}
