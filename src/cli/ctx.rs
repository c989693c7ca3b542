//! The one context every command gets: output settings, confirmation rules, and the
//! profile, resolved once. Nothing here opens a database, a keyring or a socket.

use std::cell::OnceCell;

use super::GlobalArgs;
use super::embedded::{self, Embedded};
use crate::config::{Config, Paths, ResolvedProfile};
use crate::error::{Error, Result};
use crate::output::{Confirm, Format, Output, confirm_by_name};

pub struct Ctx {
    pub out: Output,
    pub global: GlobalArgs,
    config: OnceCell<Result<(Paths, Config)>>,
    control: OnceCell<Embedded>,
}

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
            control: OnceCell::new(),
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

    /// The control plane this command talks to: the embedded one for the `local` profile
    /// (opened on first use, never for offline commands).
    pub fn control(&self) -> Result<&Embedded> {
        if let Some(plane) = self.control.get() {
            return Ok(plane);
        }
        let profile = self.profile()?;
        if let Some(server) = self.global.server.as_ref().or(profile.server.as_ref()) {
            return Err(Error::usage(format!(
                "profile '{}' names the server {server}, and this build of tok runs the control \
                 plane embedded only",
                profile.name
            ))
            .with_hint(
                "use the embedded control plane with `--profile local` or `tok profile use local`",
            ));
        }
        let (paths, _) = self.config()?;
        self.out.debug(&format!(
            "profile '{}' (from {}): embedded control plane in {}",
            profile.name,
            paths.config_file().display(),
            paths.data_dir.display()
        ));
        let plane = embedded::open(paths, &self.out)?;
        Ok(self.control.get_or_init(|| plane))
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
}

fn load_config() -> Result<(Paths, Config)> {
    let paths = Paths::from_env().map_err(Error::from)?;
    let config = Config::load(&paths).map_err(Error::from)?;
    Ok((paths, config))
}
