//! `/v1/orgs/{org}/tenants`: Pulsar tenants.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::{CreateTenant, Deleted, Tenant};

pub(super) fn create(c: &Client, req: &CreateTenant) -> Result<Tenant> {
    let path = c.org_url(&["tenants"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn list(c: &Client, instance: Option<&str>) -> Result<Vec<Tenant>> {
    let path = c.org_url(&["tenants"])?;
    let query: Vec<(&str, String)> = instance
        .map(|i| vec![("instance", i.to_string())])
        .unwrap_or_default();
    c.list(&refs(&path), &query)
}

pub(super) fn get(c: &Client, name: &str) -> Result<Tenant> {
    let path = c.org_url(&["tenants", name])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn delete(c: &Client, name: &str) -> Result<Deleted> {
    let path = c.org_url(&["tenants", name])?;
    c.call(
        Method::DELETE,
        &refs(&path),
        &[],
        None::<&()>,
        Retry::ConnectOnly,
    )
}
