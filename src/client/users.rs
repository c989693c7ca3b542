//! `/v1/orgs/{org}/users`, `/v1/auth` (log in and out) and `/v1/whoami`.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::{AuthRequest, CreateUser, Session, SetPassword, User, WhoAmI};

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

pub(super) fn whoami(c: &Client) -> Result<WhoAmI> {
    let mut me: WhoAmI = c.call(Method::GET, &["whoami"], &[], None::<&()>, Retry::Safe)?;
    me.server = Some(c.server().to_string());
    Ok(me)
}

impl Client {
    /// `POST /v1/auth`: exchanges a username and password for a session token.
    pub fn login(&self, username: &str, password: &str) -> Result<Session> {
        let body = AuthRequest {
            username: username.to_string(),
            password: password.to_string(),
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
