//! Where tok keeps its files, and the profiles file (`config.toml`). Profiles say
//! which control plane to talk to; they never hold secrets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::output::Format;

/// The built-in profile: the embedded control plane, no server.
pub const LOCAL: &str = "local";

/// The settings a profile may hold, for `tok profile set` and its errors.
pub const KEYS: &[&str] = &["server", "org", "instance", "output", "ca_cert"];

/// The config and data directories (`TOK_CONFIG_DIR`, `TOK_DATA_DIR` override them).
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find a home directory for tok's files; set TOK_CONFIG_DIR and TOK_DATA_DIR")]
    NoHome,
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is not valid: {reason}")]
    Parse { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("profile '{0}' does not exist")]
    UnknownProfile(String),
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        let msg = e.to_string();
        match e {
            ConfigError::UnknownProfile(name) => Error::not_found(msg)
                .with_code("profile_not_found")
                .with_hint(format!(
                    "list profiles with `tok profile list`, or create this one with \
                     `tok profile set {name} server=URL`"
                )),
            ConfigError::Parse { path, .. } => {
                Error::other(msg).with_hint(format!("fix or remove {path}"))
            }
            _ => Error::other(msg),
        }
    }
}

impl Paths {
    pub fn from_env() -> Result<Paths, ConfigError> {
        let env_dir = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let (config_env, data_env) = (env_dir("TOK_CONFIG_DIR"), env_dir("TOK_DATA_DIR"));
        if let (Some(config_dir), Some(data_dir)) = (&config_env, &data_env) {
            return Ok(Paths {
                config_dir: config_dir.clone(),
                data_dir: data_dir.clone(),
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "tok").ok_or(ConfigError::NoHome)?;
        Ok(Paths {
            config_dir: config_env.unwrap_or_else(|| dirs.config_dir().to_path_buf()),
            data_dir: data_env.unwrap_or_else(|| dirs.data_dir().to_path_buf()),
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
}

/// `config.toml`: the current profile and every saved one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    /// The profile commands use when `--profile` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileSettings>,
}

/// One profile's settings. No secrets: credentials live in the OS keyring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSettings {
    /// Control-plane URL; none means the embedded control plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Default `--instance` for this profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Default `--output` for this profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Format>,
    /// A PEM file of CA certificates to trust for this profile's server (a private CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
}

/// The profile a command runs with.
#[derive(Debug, Clone)]
pub struct ResolvedProfile {
    pub name: String,
    pub settings: ProfileSettings,
    /// Whether this is the saved current profile.
    pub current: bool,
}

impl std::ops::Deref for ResolvedProfile {
    type Target = ProfileSettings;
    fn deref(&self) -> &ProfileSettings {
        &self.settings
    }
}

impl Config {
    /// Reads `config.toml`; a missing file is an empty config.
    pub fn load(paths: &Paths) -> Result<Config, ConfigError> {
        let path = paths.config_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(read_error(&path, &e)),
        };
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            reason: e.message().to_string(),
        })
    }

    /// Writes `config.toml` atomically (a temporary file, then a rename).
    pub fn save(&self, paths: &Paths) -> Result<(), ConfigError> {
        let path = paths.config_file();
        let write_err = |e: std::io::Error| ConfigError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&paths.config_dir).map_err(write_err)?;
        let text = toml::to_string(self).map_err(|e| ConfigError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        // A temporary name per process, so concurrent writers never rename each other's file.
        let tmp = path.with_extension(format!("toml.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text).map_err(write_err)?;
        std::fs::rename(&tmp, &path).map_err(write_err)
    }

    /// The saved current profile's name (`local` when none was chosen).
    pub fn current_name(&self) -> &str {
        self.current.as_deref().unwrap_or(LOCAL)
    }

    /// The profile named by `requested`, else the current one. `local` always exists.
    pub fn resolve(&self, requested: Option<&str>) -> Result<ResolvedProfile, ConfigError> {
        let name = requested.unwrap_or_else(|| self.current_name());
        let settings = match self.profiles.get(name) {
            Some(s) => s.clone(),
            None if name == LOCAL => ProfileSettings::default(),
            None => return Err(ConfigError::UnknownProfile(name.to_string())),
        };
        Ok(ResolvedProfile {
            name: name.to_string(),
            current: name == self.current_name(),
            settings,
        })
    }

    /// Every profile, `local` first.
    pub fn all(&self) -> Vec<ResolvedProfile> {
        let mut names: Vec<&str> = vec![LOCAL];
        names.extend(
            self.profiles
                .keys()
                .map(String::as_str)
                .filter(|n| *n != LOCAL),
        );
        names
            .into_iter()
            .filter_map(|n| self.resolve(Some(n)).ok())
            .collect()
    }
}

/// Checks a profile name: 1-64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter
/// or digit.
pub fn validate_profile_name(name: &str) -> Result<(), String> {
    let ok_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
    if ok_start && ok_chars && name.len() <= 64 {
        Ok(())
    } else {
        Err(format!(
            "invalid profile name '{name}': use 1-64 characters of a-z, 0-9, '-', '_' or '.', \
             starting with a letter or digit"
        ))
    }
}

impl ProfileSettings {
    /// Sets `key` to `value`; an empty value unsets it. Values are checked.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        let opt = (!value.is_empty()).then(|| value.to_string());
        match key {
            "server" => {
                if let Some(url) = &opt
                    && !(url.starts_with("http://") || url.starts_with("https://"))
                {
                    return Err(format!(
                        "invalid server '{url}': use an http:// or https:// URL, e.g. \
                         http://127.0.0.1:8420"
                    ));
                }
                self.server = opt.map(|u| u.trim_end_matches('/').to_string());
            }
            "org" => self.org = opt,
            "instance" => self.instance = opt,
            "ca_cert" => self.ca_cert = opt,
            "output" => {
                self.output = match opt {
                    None => None,
                    Some(v) => Some(<Format as clap::ValueEnum>::from_str(&v, true).map_err(
                        |_| format!("invalid output '{v}': use table, json, yaml or csv"),
                    )?),
                }
            }
            other => {
                return Err(format!(
                    "unknown profile setting '{other}'; settings are {}",
                    KEYS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

fn read_error(path: &Path, e: &std::io::Error) -> ConfigError {
    ConfigError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_always_resolves_and_unknown_profiles_do_not() {
        let config = Config::default();
        let p = config.resolve(None).unwrap();
        assert_eq!(p.name, LOCAL);
        assert!(p.current && p.server.is_none());
        assert!(matches!(
            config.resolve(Some("staging")),
            Err(ConfigError::UnknownProfile(_))
        ));
    }

    #[test]
    fn settings_are_checked() {
        let mut s = ProfileSettings::default();
        s.set("server", "http://127.0.0.1:8420/").unwrap();
        assert_eq!(s.server.as_deref(), Some("http://127.0.0.1:8420"));
        s.set("output", "JSON").unwrap();
        assert_eq!(s.output, Some(Format::Json));
        assert!(s.set("server", "ftp://x").unwrap_err().contains("http://"));
        assert!(
            s.set("token", "x")
                .unwrap_err()
                .contains("server, org, instance, output")
        );
        s.set("server", "").unwrap();
        assert!(s.server.is_none());
    }

    #[test]
    fn profile_names_are_checked() {
        assert!(validate_profile_name("prod-eu.1").is_ok());
        for bad in ["", "-x", "Prod", "a b", &"x".repeat(65)] {
            assert!(validate_profile_name(bad).is_err(), "{bad}");
        }
    }
}
