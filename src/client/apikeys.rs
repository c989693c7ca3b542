//! `/v1/orgs/{org}/service-accounts`, `/v1/orgs/{org}/apikeys`, the revocation feed and
//! `/v1/introspect`.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use super::org::refs;
use crate::error::Result;
use crate::model::ApiKeyFilter;
use crate::model::{
    ApiKey, CreateApiKey, CreateServiceAccount, IntrospectRequest, Introspection, RevocationFeed,
    ServiceAccount, ServiceAccountDeleted,
};

pub(super) fn create_service_account(
    c: &Client,
    req: &CreateServiceAccount,
) -> Result<ServiceAccount> {
    let path = c.org_url(&["service-accounts"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn service_accounts(c: &Client) -> Result<Vec<ServiceAccount>> {
    let path = c.org_url(&["service-accounts"])?;
    c.list(&refs(&path), &[])
}

pub(super) fn service_account(c: &Client, name: &str) -> Result<ServiceAccount> {
    let path = c.org_url(&["service-accounts", name])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn delete_service_account(c: &Client, name: &str) -> Result<ServiceAccountDeleted> {
    let path = c.org_url(&["service-accounts", name])?;
    c.call(
        Method::DELETE,
        &refs(&path),
        &[],
        None::<&()>,
        Retry::ConnectOnly,
    )
}

pub(super) fn create_api_key(c: &Client, req: &CreateApiKey) -> Result<ApiKey> {
    let path = c.org_url(&["apikeys"])?;
    c.call(Method::POST, &refs(&path), &[], Some(req), Retry::Keyed)
}

pub(super) fn api_keys(c: &Client, filter: &ApiKeyFilter) -> Result<Vec<ApiKey>> {
    let path = c.org_url(&["apikeys"])?;
    let query: Vec<(&str, String)> = [
        ("service_account", &filter.service_account),
        ("instance", &filter.instance),
        ("status", &filter.status),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
    .collect();
    c.list(&refs(&path), &query)
}

pub(super) fn api_key(c: &Client, name: &str) -> Result<ApiKey> {
    let path = c.org_url(&["apikeys", name])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn revoke_api_key(c: &Client, name: &str) -> Result<ApiKey> {
    let path = c.org_url(&["apikeys", name, "revoke"])?;
    // Revoking twice changes nothing: safe to retry.
    c.call(Method::POST, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn delete_api_key(c: &Client, name: &str) -> Result<ApiKey> {
    let path = c.org_url(&["apikeys", name])?;
    c.call(
        Method::DELETE,
        &refs(&path),
        &[],
        None::<&()>,
        Retry::ConnectOnly,
    )
}

pub(super) fn revocations(c: &Client, since: Option<&str>, limit: u32) -> Result<RevocationFeed> {
    let path = c.org_url(&["revocations"])?;
    let mut query: Vec<(&str, String)> = vec![("limit", limit.to_string())];
    if let Some(s) = since {
        query.push(("since", s.to_string()));
    }
    c.call(Method::GET, &refs(&path), &query, None::<&()>, Retry::Safe)
}

pub(super) fn introspect(c: &Client, token: &str) -> Result<Introspection> {
    let body = IntrospectRequest {
        token: token.to_string(),
        token_type_hint: None,
    };
    // A read: safe to retry.
    c.call(Method::POST, &["introspect"], &[], Some(&body), Retry::Safe)
}
