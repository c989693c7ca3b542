//! The HTTP side of the client: one blocking reqwest client (rustls, aws-lc-rs) per
//! command, retries only where a repeat cannot do harm, and problem+json answers mapped
//! to the CLI's error kinds and exit codes.

use std::cell::OnceCell;
use std::time::Duration;

use reqwest::blocking::{RequestBuilder, Response};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind, Result};
use crate::model::{Page, Problem};

/// How many times a retryable request is tried in all.
const ATTEMPTS: u32 = 3;

/// How to reach a server.
#[derive(Clone)]
pub struct ClientOptions {
    /// `http://host:port` or `https://host:port`, optionally with a path prefix.
    pub server: String,
    /// The org the profile acts in; learned from `/v1/whoami` when not known.
    pub org: Option<String>,
    /// The session or application token; `None` for `POST /v1/auth` only.
    pub token: Option<String>,
    /// Extra CA certificates (PEM) to trust, for servers with a private CA.
    pub ca_cert: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("server", &redact_url(&self.server))
            .field("org", &self.org)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A `tok server` client.
pub struct Client {
    opts: ClientOptions,
    base: Url,
    http: OnceCell<reqwest::blocking::Client>,
    org: OnceCell<String>,
}

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// Reads: retried on connection failures, timeouts and 502/503/504.
    Safe,
    /// A create with an `Idempotency-Key`: the server answers a repeat with the first
    /// response, so it is retried like a read.
    Keyed,
    /// Anything else: retried only when the connection was never made.
    ConnectOnly,
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Client> {
        let base = parse_server_url(&opts.server)?;
        let org = OnceCell::new();
        if let Some(o) = &opts.org {
            let _ = org.set(o.clone());
        }
        Ok(Client {
            opts,
            base,
            http: OnceCell::new(),
            org,
        })
    }

    /// The server URL as given.
    pub fn server(&self) -> &str {
        &self.opts.server
    }

    fn http(&self) -> Result<&reqwest::blocking::Client> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let mut builder = reqwest::blocking::Client::builder()
            .user_agent(concat!("tok/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(self.opts.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &self.opts.ca_cert {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::usage(format!("the CA certificate file is not PEM: {e}")))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| Error::other(format!("cannot set up the HTTP client: {e}")))?;
        Ok(self.http.get_or_init(|| client))
    }

    /// `/v1/<path>` under the server URL; each segment is percent-encoded.
    pub(super) fn url(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|_| {
                Error::usage(format!("'{}' cannot be a server URL", self.opts.server))
            })?;
            path.pop_if_empty();
            path.push("v1");
            for s in segments {
                path.push(s);
            }
        }
        Ok(url)
    }

    /// The org the client acts in; asks the server once when the profile does not say.
    pub(super) fn org_name(&self) -> Result<&str> {
        if let Some(org) = self.org.get() {
            return Ok(org);
        }
        let me: crate::model::WhoAmI =
            self.call(Method::GET, &["whoami"], &[], None::<&()>, Retry::Safe)?;
        Ok(self.org.get_or_init(|| me.org))
    }

    /// `/v1/orgs/{org}/<segments…>`.
    pub(super) fn org_url(&self, segments: &[&str]) -> Result<Vec<String>> {
        let org = self.org_name()?.to_string();
        let mut all = vec!["orgs".to_string(), org];
        all.extend(segments.iter().map(|s| s.to_string()));
        Ok(all)
    }

    /// Sends one request and decodes the JSON answer.
    pub(super) fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&impl Serialize>,
        retry: Retry,
    ) -> Result<T> {
        let response = self.send(method, segments, query, body, retry)?;
        decode(response)
    }

    /// Sends one request whose answer has no body worth reading (204).
    pub(super) fn call_empty(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&impl Serialize>,
        retry: Retry,
    ) -> Result<()> {
        self.send(method, segments, &[], body, retry).map(drop)
    }

    /// Every page of a list.
    pub(super) fn list<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("limit", "1000".into()));
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let page: Page<T> = self.call(Method::GET, segments, &q, None::<&()>, Retry::Safe)?;
            items.extend(page.items);
            match page.next_cursor {
                Some(c) if Some(&c) != cursor.as_ref() => cursor = Some(c),
                _ => return Ok(items),
            }
        }
    }

    fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&impl Serialize>,
        retry: Retry,
    ) -> Result<Response> {
        let url = self.url(segments)?;
        let http = self.http()?;
        // One key for every attempt of this create, so that a retry never mints twice.
        let idempotency_key = (retry == Retry::Keyed).then(crate::control::opaque::request_key);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req: RequestBuilder = http.request(method.clone(), url.clone());
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(token) = &self.opts.token {
                req = req.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            if let Some(key) = &idempotency_key {
                req = req.header("Idempotency-Key", key);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let last = attempt >= ATTEMPTS;
            match req.send() {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let transient = matches!(
                        resp.status(),
                        StatusCode::BAD_GATEWAY
                            | StatusCode::SERVICE_UNAVAILABLE
                            | StatusCode::GATEWAY_TIMEOUT
                    );
                    if transient && retry != Retry::ConnectOnly && !last {
                        backoff(attempt);
                        continue;
                    }
                    return Err(self.problem(resp));
                }
                Err(e) => {
                    let retryable = match retry {
                        // A read, or a create the server recognises by its key: any
                        // transport failure — refused, timed out, or the connection cut
                        // before the answer arrived — is worth another attempt.
                        Retry::Safe | Retry::Keyed => {
                            e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()
                        }
                        Retry::ConnectOnly => e.is_connect(),
                    };
                    if retryable && !last && !is_tls(&e) {
                        backoff(attempt);
                        continue;
                    }
                    return Err(self.transport_error(&e));
                }
            }
        }
    }

    /// Maps a non-2xx answer to the CLI error for its status.
    fn problem(&self, resp: Response) -> Error {
        let status = resp.status();
        let is_problem = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/problem+json"));
        let problem: Option<Problem> = if is_problem { resp.json().ok() } else { None };
        let Some(p) = problem else {
            return self.bare_error(status);
        };
        let kind = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ErrorKind::Denied,
            StatusCode::NOT_FOUND => ErrorKind::NotFound,
            StatusCode::CONFLICT => ErrorKind::Conflict,
            s if s.is_client_error() => ErrorKind::Usage,
            _ => ErrorKind::Other,
        };
        let mut err = Error::new(kind, p.detail).with_code(p.code);
        let hint = match (status, p.hint) {
            (_, Some(h)) => Some(h),
            (StatusCode::UNAUTHORIZED, None) => Some("run `tok login`".to_string()),
            _ => None,
        };
        if let Some(h) = hint {
            err = err.with_hint(h);
        }
        err
    }

    /// An error answer without problem+json: from a proxy in front of the server, or from
    /// something that is not a tok server at all. The status still picks the exit code
    /// where it is unambiguous.
    fn bare_error(&self, status: StatusCode) -> Error {
        let server = redact_url(&self.opts.server);
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::denied(format!(
                "{server} refused the request (HTTP {status}) before it reached tok"
            ))
            .with_hint("a proxy in front of the server may need its own credentials"),
            StatusCode::PAYLOAD_TOO_LARGE => Error::usage(format!(
                "{server} refused the request as too large (HTTP {status})"
            )),
            s if s.is_server_error() => Error::new(
                ErrorKind::Unreachable,
                format!(
                    "{server} answered HTTP {status}: the server or a proxy in front of it failed"
                ),
            )
            .with_code("server_unavailable"),
            _ => Error::new(
                ErrorKind::Unreachable,
                format!(
                    "{server} did not answer as a tok server (HTTP {status}); check the server URL"
                ),
            )
            .with_code("not_a_tok_server")
            .with_hint(
                "the URL is the address `tok server start` listens on, e.g. http://127.0.0.1:8420",
            ),
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> Error {
        let server = &self.opts.server;
        let cause = root_cause(e);
        let (code, message, hint) = if is_tls(e) {
            let hint = if cause.contains("CaUsedAsEndEntity") {
                "the server presents a CA certificate as its own: issue it a leaf certificate \
                 (basicConstraints CA:FALSE) signed by that CA, and trust the CA with --ca-cert"
            } else {
                "check that the server's certificate is valid for this name; trust a private CA \
                 with --ca-cert FILE or TOK_CA_CERT"
            };
            (
                "tls",
                format!("the TLS handshake with {server} failed: {cause}"),
                hint,
            )
        } else if e.is_timeout() {
            (
                "timeout",
                format!("{server} did not answer in time"),
                "check that the server is up and not overloaded",
            )
        } else if e.is_connect() {
            (
                "connection_failed",
                format!("cannot connect to {server}: {cause}"),
                "check the URL (--server, TOK_SERVER or the profile) and that `tok server start` \
                 is running there",
            )
        } else {
            (
                "unreachable",
                format!("the request to {server} failed: {cause}"),
                "check the URL and the network",
            )
        };
        Error::new(ErrorKind::Unreachable, message)
            .with_code(code)
            .with_hint(hint)
    }
}

fn decode<T: DeserializeOwned>(resp: Response) -> Result<T> {
    let url = resp.url().clone();
    let bytes = resp.bytes().map_err(|e| {
        Error::new(
            ErrorKind::Unreachable,
            format!("reading the answer from {url} failed: {e}"),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::other(format!(
            "the answer from {url} is not what this tok expects ({e}); are client and server \
             the same version?"
        ))
    })
}

fn backoff(attempt: u32) {
    std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
}

/// TLS failures are recognised by their messages: reqwest does not expose rustls's error type.
fn is_tls(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let text = s.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return true;
        }
        source = s.source();
    }
    false
}

/// The innermost cause's message, which names what actually failed.
fn root_cause(e: &reqwest::Error) -> String {
    let mut current: &dyn std::error::Error = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// A server URL fit for a message: any `user:password@` part is replaced by `***@`.
pub fn redact_url(text: &str) -> String {
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, text),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let redacted = match rest[..authority_end].rfind('@') {
        Some(at) => format!("***{}", &rest[at..]),
        None => rest.to_string(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{redacted}"),
        None => redacted,
    }
}

/// Parses and checks a server URL: http or https, a host, no query or credentials.
pub fn parse_server_url(text: &str) -> Result<Url> {
    let shown = redact_url(text);
    let bad = |why: &str| {
        Error::usage(format!("invalid server URL '{shown}': {why}"))
            .with_hint("use http://HOST:PORT or https://HOST:PORT, e.g. http://127.0.0.1:8420")
    };
    let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL; use `tok login`"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_never_reach_a_message() {
        assert_eq!(
            redact_url("https://u:secret@host:1/x"),
            "https://***@host:1/x"
        );
        assert_eq!(redact_url("u:secret@host"), "***@host");
        assert_eq!(redact_url("http://host/a@b"), "http://host/a@b");
        assert_eq!(redact_url("http://127.0.0.1:8420"), "http://127.0.0.1:8420");
        let err = parse_server_url("https://alice:hunter2hunter2@tok.example.com").unwrap_err();
        assert!(!err.message.contains("hunter2"), "{}", err.message);
        assert!(err.message.contains("credentials"), "{}", err.message);
    }
}
