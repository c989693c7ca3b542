//! `/v1/orgs/{org}/roles`: built-in and custom roles.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::{CreateRole, Role, RoleDeleted, UpdateRole};

pub(super) fn create(c: &Client, req: &CreateRole) -> Result<Role> {
    let path = c.org_url(&["roles"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn list(c: &Client) -> Result<Vec<Role>> {
    let path = c.org_url(&["roles"])?;
    c.list(&refs(&path), &[])
}

pub(super) fn get(c: &Client, name: &str) -> Result<Role> {
    let path = c.org_url(&["roles", name])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn update(c: &Client, name: &str, req: &UpdateRole) -> Result<Role> {
    let path = c.org_url(&["roles", name])?;
    // The same update twice leaves the same role: safe to retry.
    c.call(Method::PATCH, &refs(&path), &[], Some(req), Retry::Safe)
}

pub(super) fn delete(c: &Client, name: &str, force: bool) -> Result<RoleDeleted> {
    let path = c.org_url(&["roles", name])?;
    let query: Vec<(&str, String)> = if force {
        vec![("force", "true".to_string())]
    } else {
        Vec::new()
    };
    c.call(
        Method::DELETE,
        &refs(&path),
        &query,
        None::<&()>,
        Retry::ConnectOnly,
    )
}
