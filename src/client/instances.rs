//! `/v1/orgs/{org}/instances`: data-plane endpoints and their signing keys.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::{BrokerConfig, CreateInstance, Deleted, Instance, PublicKey, Rotation};

pub(super) fn create(c: &Client, req: &CreateInstance) -> Result<Instance> {
    let path = c.org_url(&["instances"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn list(c: &Client) -> Result<Vec<Instance>> {
    let path = c.org_url(&["instances"])?;
    c.list(&refs(&path), &[])
}

pub(super) fn get(c: &Client, name: &str) -> Result<Instance> {
    let path = c.org_url(&["instances", name])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn delete(c: &Client, name: &str, cascade: bool) -> Result<Deleted> {
    let path = c.org_url(&["instances", name])?;
    let query = [("cascade", cascade.to_string())];
    c.call(
        Method::DELETE,
        &refs(&path),
        &query,
        None::<&()>,
        Retry::ConnectOnly,
    )
}

pub(super) fn public_key(c: &Client, name: &str) -> Result<PublicKey> {
    let path = c.org_url(&["instances", name, "public-key"])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn broker_config(c: &Client, name: &str) -> Result<BrokerConfig> {
    let path = c.org_url(&["instances", name, "broker-config"])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn rotate_key(c: &Client, name: &str) -> Result<Rotation> {
    let path = c.org_url(&["instances", name, "rotate-key"])?;
    c.call(
        Method::POST,
        &refs(&path),
        &[],
        Some(&serde_json::json!({})),
        Retry::Keyed,
    )
}
