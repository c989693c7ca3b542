//! `/v1/orgs/{org}/users`, `/v1/auth` (log in and out) and `/v1/whoami`.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::{
    AuthRequest, CreateUser, RoleGranted, Session, SetPassword, User, UserUpdate, WhoAmI,
};

pub(super) fn create(c: &Client, req: &CreateUser) -> Result<User> {
    let path = c.org_url(&["users"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn list(c: &Client) -> Result<Vec<User>> {
    let path = c.org_url(&["users"])?;
    c.list(&refs(&path), &[])
}

pub(super) fn get(c: &Client, username: &str) -> Result<User> {
    let path = c.org_url(&["users", username])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn delete(c: &Client, username: &str) -> Result<()> {
    let path = c.org_url(&["users", username])?;
    c.call_empty(
        Method::DELETE,
        &refs(&path),
        None::<&()>,
        Retry::ConnectOnly,
    )
}

pub(super) fn set_password(c: &Client, username: &str, password: &str) -> Result<()> {
    let path = c.org_url(&["users", username, "password"])?;
    let body = SetPassword {
        password: password.to_string(),
    };
    // Not retried once sent: it ends the user's sessions, the caller's own among them when
    // they change their own password, so a repeat could fail although the change happened.
    c.call_empty(Method::PUT, &refs(&path), Some(&body), Retry::ConnectOnly)
}

pub(super) fn grant_role(c: &Client, username: &str, role: &str) -> Result<RoleGranted> {
    let path = c.org_url(&["users", username, "roles", role])?;
    // Granting twice changes nothing: safe to retry.
    c.call(Method::PUT, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn revoke_role(c: &Client, username: &str, role: &str) -> Result<User> {
    let path = c.org_url(&["users", username, "roles", role])?;
    c.call(
        Method::DELETE,
        &refs(&path),
        &[],
        None::<&()>,
        Retry::ConnectOnly,
    )
}

pub(super) fn set_disabled(c: &Client, username: &str, disabled: bool) -> Result<User> {
    let path = c.org_url(&["users", username])?;
    let body = UserUpdate { disabled };
    c.call(Method::PATCH, &refs(&path), &[], Some(&body), Retry::Safe)
}

pub(super) fn whoami(c: &Client) -> Result<WhoAmI> {
    let mut me: WhoAmI = c.call(Method::GET, &["whoami"], &[], None::<&()>, Retry::Safe)?;
    me.server = Some(c.server().to_string());
    Ok(me)
}

impl Client {
    /// `POST /v1/auth`: exchanges a username and password for a session token.
    pub fn login(&self, username: &str, password: &str) -> Result<Session> {
        let body = AuthRequest {
            username: Some(username.to_string()),
            password: Some(password.to_string()),
            client_id: None,
            client_secret: None,
        };
        self.call(
            Method::POST,
            &["auth"],
            &[],
            Some(&body),
            Retry::ConnectOnly,
        )
    }

    /// `DELETE /v1/auth`: ends the session the client holds.
    pub fn logout(&self) -> Result<()> {
        self.call_empty(Method::DELETE, &["auth"], None::<&()>, Retry::ConnectOnly)
    }
}
