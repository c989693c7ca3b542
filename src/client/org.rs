//! `/v1/orgs/{org}` and its audit trail.

use reqwest::Method;

use super::Client;
use super::http::Retry;
use crate::duration::rfc3339;
use crate::error::Result;
use crate::model::{AuditEntry, Org, OrgUpdate};

pub(super) fn get(c: &Client) -> Result<Org> {
    let path = c.org_url(&[])?;
    c.call(Method::GET, &refs(&path), &[], None::<&()>, Retry::Safe)
}

pub(super) fn set_max_token_lifetime(c: &Client, secs: Option<i64>) -> Result<Org> {
    let path = c.org_url(&[])?;
    let body = OrgUpdate {
        max_token_lifetime_seconds: secs,
    };
    c.call(Method::PATCH, &refs(&path), &[], Some(&body), Retry::Safe)
}

pub(super) fn audit(c: &Client, since: i64) -> Result<Vec<AuditEntry>> {
    let path = c.org_url(&["audit"])?;
    let since = rfc3339(since).unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    c.list(&refs(&path), &[("since", since)])
}

/// Borrows owned path segments.
pub(super) fn refs(path: &[String]) -> Vec<&str> {
    path.iter().map(String::as_str).collect()
}
