//! The one context every command gets: output settings, confirmation rules, and the
//! profile, resolved once. Nothing here opens a database, a keyring or a socket.

use std::cell::OnceCell;

use super::GlobalArgs;
use super::embedded;
use crate::client::{Api, Client, ClientOptions};
use crate::config::{Config, Paths, ResolvedProfile};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::output::{Confirm, Format, Output, confirm_by_name};

pub struct Ctx {
    pub out: Output,
    pub global: GlobalArgs,
    config: OnceCell<Result<(Paths, Config)>>,
    api: OnceCell<Box<dyn Api>>,
}

/// The keyring account that holds a profile's session or application token.
pub fn credential_account(profile: &str) -> String {
    format!("profile:{profile}")
}

/// How long a request to a server may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Ctx {
    /// Builds the context; the config file is read here only to learn the profile's
    /// default output format, and a broken config file fails only the commands that need it.
    pub fn new(global: &GlobalArgs) -> Ctx {
        let config = OnceCell::new();
        let format = match global.format() {
            Some(f) => f,
            None => {
                let loaded = config.get_or_init(load_config);
                loaded
                    .as_ref()
                    .ok()
                    .and_then(|(_, c)| c.resolve(global.profile.as_deref()).ok())
                    .and_then(|p| p.output)
                    .unwrap_or(Format::Table)
            }
        };
        let mut out = Output::new(format, global.color, global.quiet);
        out.verbose = global.verbose;
        Ctx {
            out,
            global: global.clone(),
            config,
            api: OnceCell::new(),
        }
    }

    /// The config file and where it lives.
    pub fn config(&self) -> Result<&(Paths, Config)> {
        self.config
            .get_or_init(load_config)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The profile this command runs with (`--profile`, `TOK_PROFILE`, or the current one).
    pub fn profile(&self) -> Result<ResolvedProfile> {
        let (_, config) = self.config()?;
        config
            .resolve(self.global.profile.as_deref())
            .map_err(Error::from)
    }

    /// The control plane this command talks to: the embedded one for a profile without a
    /// server (opened on first use, never for offline commands), else the profile's server.
    pub fn api(&self) -> Result<&dyn Api> {
        if let Some(api) = self.api.get() {
            return Ok(api.as_ref());
        }
        let profile = self.profile()?;
        let (paths, _) = self.config()?;
        let api: Box<dyn Api> = match self.server(&profile) {
            None => {
                self.out.debug(&format!(
                    "profile '{}' (from {}): embedded control plane in {}",
                    profile.name,
                    paths.config_file().display(),
                    paths.data_dir.display()
                ));
                Box::new(embedded::open(paths, &self.out)?)
            }
            Some(server) => {
                crate::client::parse_server_url(&server)?;
                let token = self.token(&profile, &server)?;
                self.out.debug(&format!(
                    "profile '{}' (from {}): server {server}",
                    profile.name,
                    paths.config_file().display()
                ));
                Box::new(self.client(&profile, &server, Some(token))?)
            }
        };
        Ok(self.api.get_or_init(|| api).as_ref())
    }

    /// Whether this command runs the embedded control plane (no server named anywhere),
    /// decided without opening it.
    pub fn is_embedded(&self) -> Result<bool> {
        let profile = self.profile()?;
        Ok(self.server(&profile).is_none())
    }

    /// The server this command talks to: `--server`/`TOK_SERVER`, else the profile's.
    pub fn server(&self, profile: &ResolvedProfile) -> Option<String> {
        self.global
            .server
            .clone()
            .or_else(|| profile.server.clone())
            .map(|s| s.trim_end_matches('/').to_string())
    }

    /// A client for `server` acting with `token`.
    pub fn client(
        &self,
        profile: &ResolvedProfile,
        server: &str,
        token: Option<String>,
    ) -> Result<Client> {
        let same_server =
            profile.server.as_deref().map(|s| s.trim_end_matches('/')) == Some(server);
        let org = if same_server {
            profile.org.clone()
        } else {
            None
        };
        let ca_cert = read_ca_cert(None, profile.ca_cert.as_deref())?;
        new_client(server, org, token, ca_cert)
    }

    /// The credential for `server`: `TOK_TOKEN`, else the one `tok login` kept for the profile.
    fn token(&self, profile: &ResolvedProfile, server: &str) -> Result<String> {
        if let Ok(token) = std::env::var("TOK_TOKEN") {
            let token = token.trim().to_string();
            if token.is_empty() {
                return Err(Error::usage("TOK_TOKEN is set but empty"));
            }
            return Ok(token);
        }
        let shown = crate::client::redact_url(server);
        let not_logged_in = || {
            Error::denied(format!(
                "not logged in to {shown} (profile '{}')",
                profile.name
            ))
            .with_code("not_logged_in")
            .with_hint(format!(
                "run `tok login --server {shown} --profile {}`, or set TOK_TOKEN",
                profile.name
            ))
        };
        if profile.server.as_deref().map(|s| s.trim_end_matches('/')) != Some(server) {
            return Err(not_logged_in());
        }
        let (paths, _) = self.config()?;
        let credentials = Credentials::from_env(&paths.data_dir).map_err(Error::from)?;
        match credentials
            .get(&credential_account(&profile.name))
            .map_err(Error::from)?
        {
            Some((token, _)) => Ok(token),
            None => Err(not_logged_in()),
        }
    }

    /// `--instance` if given, else the profile's default instance.
    pub fn instance(&self, given: Option<&str>) -> Result<Option<String>> {
        match given {
            Some(i) => Ok(Some(i.to_string())),
            None => Ok(self.profile()?.settings.instance),
        }
    }

    /// Asks the person to type `expected` before `action`; see [`confirm_by_name`].
    pub fn confirm(&self, question: &str, expected: &str, action: &str) -> Result<()> {
        let confirm = Confirm {
            yes: self.global.yes,
            no_input: self.global.no_input,
        };
        confirm_by_name(confirm, question, expected, action)
    }

    /// [`Ctx::confirm`] where any of `accepted` (a name, or an id) confirms.
    pub fn confirm_any(&self, question: &str, accepted: &[&str], action: &str) -> Result<()> {
        let confirm = Confirm {
            yes: self.global.yes,
            no_input: self.global.no_input,
        };
        crate::output::confirm_by_any(confirm, question, accepted, action)
    }
}

fn load_config() -> Result<(Paths, Config)> {
    let paths = Paths::from_env().map_err(Error::from)?;
    let config = Config::load(&paths).map_err(Error::from)?;
    Ok((paths, config))
}

/// A client for `server` with the standard timeout.
pub fn new_client(
    server: &str,
    org: Option<String>,
    token: Option<String>,
    ca_cert: Option<Vec<u8>>,
) -> Result<Client> {
    Client::new(ClientOptions {
        server: server.to_string(),
        org,
        token,
        ca_cert,
        timeout: REQUEST_TIMEOUT,
    })
}

/// The CA certificates to trust: `explicit` (a command's --ca-cert), else `TOK_CA_CERT`,
/// else the profile's `ca_cert`.
pub fn read_ca_cert(
    explicit: Option<&std::path::Path>,
    profile_ca: Option<&str>,
) -> Result<Option<Vec<u8>>> {
    let path = explicit
        .map(std::path::Path::to_path_buf)
        .or_else(|| std::env::var_os("TOK_CA_CERT").map(std::path::PathBuf::from))
        .or_else(|| profile_ca.map(std::path::PathBuf::from));
    match path {
        Some(path) => std::fs::read(&path).map(Some).map_err(|e| {
            Error::usage(format!(
                "cannot read the CA certificate {}: {e}",
                path.display()
            ))
        }),
        None => Ok(None),
    }
}
