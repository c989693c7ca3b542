//! `/v1/orgs/{org}/tenants/{tenant}/tokens` and `/v1/orgs/{org}/tokens`: streaming tokens.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::{CreateToken, Token};

pub(super) fn create(c: &Client, tenant: &str, req: &CreateToken) -> Result<Token> {
    let path = c.org_url(&["tenants", tenant, "tokens"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn list(c: &Client, tenant: Option<&str>) -> Result<Vec<Token>> {
    let path = match tenant {
        Some(t) => c.org_url(&["tenants", t, "tokens"])?,
        None => c.org_url(&["tokens"])?,
    };
    c.list(&refs(&path), &[])
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
