//! `/v1/orgs/{org}/tenants/{tenant}/tokens` (streaming tokens) and `/v1/orgs/{org}/tokens`
//! (every token; application tokens are created and revoked there).

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::{CreateAppToken, CreateToken, Token};

pub(super) fn create(c: &Client, tenant: &str, req: &CreateToken) -> Result<Token> {
    let path = c.org_url(&["tenants", tenant, "tokens"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn list(c: &Client, tenant: Option<&str>, kind: Option<&str>) -> Result<Vec<Token>> {
    let path = match tenant {
        Some(t) => c.org_url(&["tenants", t, "tokens"])?,
        None => c.org_url(&["tokens"])?,
    };
    let query: Vec<(&str, String)> = kind.map(|k| ("type", k.to_string())).into_iter().collect();
    c.list(&refs(&path), &query)
}

pub(super) fn create_app(c: &Client, req: &CreateAppToken) -> Result<Token> {
    let path = c.org_url(&["tokens"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn get_app(c: &Client, key: &str) -> Result<Token> {
    let path = c.org_url(&["tokens", key])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn revoke_app(c: &Client, key: &str) -> Result<Token> {
    let path = c.org_url(&["tokens", key])?;
    c.call(
        Method::DELETE,
        &refs(&path),
        &[],
        None::<&()>,
        Retry::ConnectOnly,
    )
}

pub(super) fn get(c: &Client, tenant: &str, name: &str) -> Result<Token> {
    let path = c.org_url(&["tenants", tenant, "tokens", name])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn revoke(c: &Client, tenant: &str, name: &str) -> Result<Token> {
    let path = c.org_url(&["tenants", tenant, "tokens", name])?;
    c.call(
        Method::DELETE,
        &refs(&path),
        &[],
        None::<&()>,
        Retry::ConnectOnly,
    )
}
