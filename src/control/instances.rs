//! Instances and their signing keys: create (generated or imported key), list, get,
//! delete (cascade), public key, broker.conf lines, and key rotation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::{ControlError, ControlResult};
use super::model::{Instance, SigningKey, Token};
use super::policy::Action;
use super::{ControlPlane, Store, Tx, ids};
use crate::duration::Expiry;
use crate::jwt::{Algorithm, Family, Signer, check_algorithm};
use crate::keys;
use serde_json::{Map, Value};

/// What `instance create` asks for.
#[derive(Debug, Clone, Default)]
pub struct InstanceSpec {
    pub name: String,
    /// Default RS256, or what an imported key implies.
    pub algorithm: Option<Algorithm>,
    /// Default `urn:tok:<org>:<instance>`.
    pub audience: Option<String>,
    pub issuer: Option<String>,
    pub import: Option<KeyImport>,
}

/// An existing Pulsar key to keep, so tokens already issued stay valid.
#[derive(Debug, Clone)]
pub enum KeyImport {
    /// RSA or EC private key bytes (PKCS#8 DER or PEM).
    Private(Vec<u8>),
    /// Raw HMAC secret bytes.
    Secret(Vec<u8>),
}

/// The result of `rotate-key`.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub instance: Instance,
    pub retired_kid: String,
    /// Live tokens still signed with the retired key.
    pub still_using_old: Vec<Token>,
}

/// The rule for deleting an instance: not while tenants use it, unless `cascade`.
/// Public so a caller can apply it before asking anyone to confirm.
pub fn refuse_while_tenants(name: &str, tenants: &[String], cascade: bool) -> ControlResult<()> {
    if tenants.is_empty() || cascade {
        return Ok(());
    }
    Err(ControlError::conflict(
        format!(
            "instance '{name}' still has {} tenant(s): {}",
            tenants.len(),
            tenants.join(", ")
        ),
        Some("delete them first, or pass --cascade to delete them and their tokens".into()),
    ))
}

/// Instance names: 1-63 of a-z, 0-9 and '-', starting with a letter or digit.
pub fn validate_instance_name(name: &str) -> ControlResult<()> {
    validate_label("instance", name)
}

/// The name rule instances and orgs share: 1-63 of a-z, 0-9 and '-', starting with a
/// letter or digit (a DNS label, as they end up in audiences and URLs).
pub(super) fn validate_label(what: &str, name: &str) -> ControlResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(format!(
            "invalid {what} name '{name}': use 1-63 characters of a-z, 0-9 and '-', \
             starting with a letter or digit"
        )))
    }
}

impl<S: Store> ControlPlane<S> {
    pub fn create_instance(&self, spec: &InstanceSpec, now: i64) -> ControlResult<Instance> {
        self.require_org(Action::InstanceWrite)?;
        let (instance, key) = self.prepare_instance(spec, now)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            self.insert_instance(tx, &org_id, spec, &instance, &key, now)?;
            Ok(instance)
        })
    }

    /// Validates `spec` and makes (or imports) its key, outside any transaction: key
    /// generation is slow and must not hold the write lock.
    pub(super) fn prepare_instance(
        &self,
        spec: &InstanceSpec,
        now: i64,
    ) -> ControlResult<(Instance, SigningKey)> {
        validate_instance_name(&spec.name)?;
        let (private, algorithm) = instance_key(spec)?;
        let kid = format!("{}-{}", spec.name, ids::random_hex(6));
        let instance = Instance {
            id: ids::new_id("ins"),
            name: spec.name.clone(),
            algorithm,
            audience: spec
                .audience
                .clone()
                .unwrap_or_else(|| format!("urn:tok:{}:{}", self.org, spec.name)),
            issuer: spec.issuer.clone(),
            kid: kid.clone(),
            created_at: now,
        };
        if instance.audience.trim().is_empty() {
            return Err(ControlError::invalid("--audience is empty"));
        }
        let key = self.seal_key(&instance.id, &kid, algorithm, &private, now)?;
        Ok((instance, key))
    }

    /// Stores a prepared instance and its key, with its audit record.
    pub(super) fn insert_instance(
        &self,
        tx: &mut dyn Tx,
        org_id: &str,
        spec: &InstanceSpec,
        instance: &Instance,
        key: &SigningKey,
        now: i64,
    ) -> ControlResult<()> {
        if tx.instance(org_id, &spec.name)?.is_some() {
            return Err(ControlError::conflict(
                format!("instance '{}' already exists", spec.name),
                Some("list instances with `tok instance list`".into()),
            ));
        }
        tx.insert_instance(org_id, instance)?;
        tx.insert_key(key)?;
        let how = if spec.import.is_some() {
            "imported"
        } else {
            "generated"
        };
        let detail = format!("{} key {} ({how})", instance.algorithm, key.kid);
        self.audit_write(
            tx,
            org_id,
            now,
            "instance.create",
            &spec.name,
            Some(&detail),
        )
    }

    pub fn instances(&self) -> ControlResult<Vec<Instance>> {
        self.require_org(Action::InstanceRead)?;
        self.store.read(|tx| {
            let org_id = self.org_id(tx)?;
            tx.instances(&org_id)
        })
    }

    pub fn instance(&self, name: &str) -> ControlResult<Instance> {
        self.require_org(Action::InstanceRead)?;
        self.store.read(|tx| self.instance_in(tx, name))
    }

    /// The instance named, or — when `name` is `None` — the only one there is. Not an
    /// operation of its own: callers (tenant create) have checked what they do.
    pub(super) fn pick_instance(&self, name: Option<&str>) -> ControlResult<Instance> {
        match name {
            Some(n) => self.store.read(|tx| self.instance_in(tx, n)),
            None => {
                let all = self.store.read(|tx| {
                    let org_id = self.org_id(tx)?;
                    tx.instances(&org_id)
                })?;
                match all.as_slice() {
                    [one] => Ok(one.clone()),
                    [] => Err(ControlError::NotFound {
                        what: "instance",
                        name: "(any)".into(),
                        hint: Some("create one with `tok instance create NAME`".into()),
                    }),
                    many => Err(ControlError::invalid(format!(
                        "this org has several instances; pass --instance with one of: {}",
                        many.iter()
                            .map(|i| i.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))),
                }
            }
        }
    }

    pub(super) fn instance_in(&self, tx: &mut dyn Tx, name: &str) -> ControlResult<Instance> {
        let org_id = self.org_id(tx)?;
        tx.instance(&org_id, name)?
            .ok_or_else(|| ControlError::NotFound {
                what: "instance",
                name: name.to_string(),
                hint: Some(format!("create it with `tok instance create {name}`")),
            })
    }

    /// Every key of an instance, newest first (retired ones have `retired_at`).
    pub fn instance_keys(&self, name: &str) -> ControlResult<Vec<SigningKey>> {
        self.require_org(Action::InstanceRead)?;
        self.keys_of(name)
    }

    /// [`Self::instance_keys`] without a check: for the public JWKS.
    pub(super) fn keys_of(&self, name: &str) -> ControlResult<Vec<SigningKey>> {
        self.store.read(|tx| {
            let instance = self.instance_in(tx, name)?;
            tx.keys(&instance.id)
        })
    }

    /// Deletes an instance; with tenants on it, only with `cascade` (their tokens go too).
    /// Returns the number of tenants deleted.
    pub fn delete_instance(&self, name: &str, cascade: bool, now: i64) -> ControlResult<usize> {
        self.require_org(Action::InstanceWrite)?;
        if cascade {
            // A cascade deletes every tenant on the instance (and, with each, its tokens)
            // and the API keys for it.
            self.require_org(Action::TenantWrite)?;
        }
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let instance = self.instance_in(tx, name)?;
            let tenants = tx.tenants(&org_id, Some(&instance.id))?;
            let names: Vec<String> = tenants.iter().map(|t| t.name.clone()).collect();
            refuse_while_tenants(name, &names, cascade)?;
            let keys: Vec<_> = tx
                .api_keys(&org_id)?
                .into_iter()
                .filter(|k| k.instance_id == instance.id)
                .collect();
            if !keys.is_empty() && !cascade {
                return Err(ControlError::conflict(
                    format!(
                        "instance '{name}' still has {} API key(s): {}",
                        keys.len(),
                        keys.iter()
                            .map(|k| k.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Some(format!(
                        "delete them first (`tok apikey delete`), or pass --cascade to delete \
                         them with `{name}`"
                    )),
                ));
            }
            for t in &tenants {
                super::apikeys::feed_tenant_tokens(tx, &org_id, &t.id, now)?;
                super::usage::keep_token_days(tx, &org_id, t, now)?;
                tx.delete_tenant(&t.id)?;
                self.audit_write(tx, &org_id, now, "tenant.delete", &t.name, Some("cascade"))?;
            }
            if !keys.is_empty() {
                self.require_org(Action::ApikeyWrite)?;
            }
            for k in &keys {
                self.require_over_key(tx, k, "delete")?;
                if k.revoked_at.is_none() {
                    super::apikeys::feed(tx, &org_id, &k.id, "apikey", now, k.expires_at)?;
                }
                tx.delete_api_key(&k.id)?;
                self.audit_write(tx, &org_id, now, "apikey.delete", &k.name, Some("cascade"))?;
            }
            tx.delete_instance(&instance.id)?;
            let detail = format!("{} tenant(s) deleted with it", tenants.len());
            self.audit_write(tx, &org_id, now, "instance.delete", name, Some(&detail))?;
            Ok(tenants.len())
        })
    }

    /// The active key's public half (X.509 SPKI DER); HMAC instances have none.
    pub fn public_key(&self, name: &str) -> ControlResult<(Instance, Vec<u8>)> {
        let instance = self.instance(name)?;
        let key = self.active_key(&instance)?;
        match key.public_der {
            Some(der) => Ok((instance, der)),
            None => Err(ControlError::invalid(format!(
                "instance '{name}' signs with {} (a shared secret): it has no public key; \
                 `tok instance broker-config {name}` prints the secret for broker.conf",
                instance.algorithm
            ))),
        }
    }

    /// The `broker.conf` lines that make a Pulsar broker accept this instance's tokens.
    pub fn broker_config(&self, name: &str) -> ControlResult<Vec<String>> {
        let instance = self.instance(name)?;
        let key = self.active_key(&instance)?;
        let key_line = match &key.public_der {
            Some(der) => format!("tokenPublicKey=data:;base64,{}", STANDARD.encode(der)),
            None => {
                // The shared secret signs tokens: reading it is as good as minting them.
                self.require_org(Action::InstanceWrite)?;
                let secret = self.master.get()?.open(&key.kid, &key.sealed)?;
                format!("tokenSecretKey=data:;base64,{}", STANDARD.encode(secret))
            }
        };
        let mut lines = vec![
            "authenticationEnabled=true".to_string(),
            "authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderToken"
                .to_string(),
            key_line,
        ];
        if key.public_der.is_some() {
            lines.push(format!("tokenPublicAlg={}", instance.algorithm));
        }
        lines.push("tokenAudienceClaim=aud".to_string());
        lines.push(format!("tokenAudience={}", instance.audience));
        Ok(lines)
    }

    /// Creates a new key with a new `kid`; the old one is retired but kept.
    pub fn rotate_key(&self, name: &str, now: i64) -> ControlResult<Rotation> {
        self.require_org(Action::InstanceWrite)?;
        let instance = self.store.read(|tx| self.instance_in(tx, name))?;
        let spec = InstanceSpec {
            name: name.to_string(),
            algorithm: Some(instance.algorithm),
            ..InstanceSpec::default()
        };
        let (private, algorithm) = instance_key(&spec)?;
        let kid = format!("{name}-{}", ids::random_hex(6));
        let key = self.seal_key(&instance.id, &kid, algorithm, &private, now)?;
        self.store.write(|tx| {
            let org_id = self.org_id(tx)?;
            let current = self.instance_in(tx, name)?;
            tx.retire_key(&current.kid, now)?;
            tx.insert_key(&key)?;
            let detail = format!("{} retired, {kid} active", current.kid);
            self.audit_write(tx, &org_id, now, "instance.rotate-key", name, Some(&detail))?;
            Ok(Rotation {
                // Named only where the caller may read tokens.
                still_using_old: tx
                    .tokens_by_kid(&current.kid)?
                    .into_iter()
                    .filter(|t| self.may(Action::TokenRead, &self.tenant_resource(&t.tenant)))
                    .collect(),
                retired_kid: current.kid,
                instance: self.instance_in(tx, name)?,
            })
        })
    }

    /// A JWT signed by the instance's active key: `sub`, `aud` (the instance audience),
    /// `iss` when the instance has one, `jti`, `iat`, and `exp` unless it never expires;
    /// `kid` in the header. Returns it with its expiry.
    pub(super) fn mint(
        &self,
        instance: &Instance,
        subject: &str,
        jti: &str,
        expiry: Expiry,
        now: i64,
    ) -> ControlResult<(String, Option<i64>)> {
        let signer = self.signer(instance)?;
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::from(subject));
        claims.insert("aud".into(), Value::from(instance.audience.clone()));
        if let Some(iss) = &instance.issuer {
            claims.insert("iss".into(), Value::from(iss.clone()));
        }
        claims.insert("jti".into(), Value::from(jti));
        claims.insert("iat".into(), Value::from(now));
        let expires_at = match expiry {
            Expiry::At(exp) => {
                claims.insert("exp".into(), Value::from(exp));
                Some(exp)
            }
            Expiry::Never => None,
        };
        let mut header = Map::new();
        header.insert("kid".into(), Value::from(instance.kid.clone()));
        let jwt = signer
            .sign(&header, &claims)
            .map_err(|e| ControlError::Crypto(e.to_string()))?;
        Ok((jwt, expires_at))
    }

    /// The active signing key of an instance, unsealed and parsed.
    pub(super) fn signer(&self, instance: &Instance) -> ControlResult<Signer> {
        let key = self.active_key(instance)?;
        let bytes = self.master.get()?.open(&key.kid, &key.sealed)?;
        let private = match key.algorithm.family() {
            Family::Hmac => keys::parse_secret_key(&bytes),
            _ => keys::parse_private_key(&bytes),
        }
        .map_err(|e| {
            ControlError::Crypto(format!("the stored key {} is unusable: {e}", key.kid))
        })?;
        Signer::new(private, Some(key.algorithm)).map_err(|e| ControlError::Crypto(e.to_string()))
    }

    fn active_key(&self, instance: &Instance) -> ControlResult<SigningKey> {
        self.store
            .read(|tx| tx.keys(&instance.id))?
            .into_iter()
            .find(|k| k.kid == instance.kid)
            .ok_or_else(|| {
                ControlError::store(format!("instance '{}' has no active key", instance.name))
            })
    }

    fn seal_key(
        &self,
        instance_id: &str,
        kid: &str,
        algorithm: Algorithm,
        private: &[u8],
        now: i64,
    ) -> ControlResult<SigningKey> {
        let public_der = match algorithm.family() {
            Family::Hmac => None,
            _ => {
                let parsed = keys::parse_private_key(private)
                    .and_then(|k| k.public_key())
                    .map_err(|e| ControlError::Crypto(e.to_string()))?;
                parsed.spki().map(<[u8]>::to_vec)
            }
        };
        Ok(SigningKey {
            kid: kid.to_string(),
            instance_id: instance_id.to_string(),
            algorithm,
            sealed: self.master.get()?.seal(kid, private)?,
            public_der,
            created_at: now,
            retired_at: None,
        })
    }
}

/// The private key bytes (PKCS#8 DER or raw secret) and algorithm for a new instance key.
fn instance_key(spec: &InstanceSpec) -> ControlResult<(Vec<u8>, Algorithm)> {
    let bad = |flag: &str, e: keys::KeyError| ControlError::invalid(format!("{flag}: {e}"));
    match &spec.import {
        None => {
            let alg = spec.algorithm.unwrap_or(Algorithm::RS256);
            let private = match alg.family() {
                Family::Hmac => keys::generate_secret(alg),
                _ => keys::generate_key_pair(alg).map(|(private, _)| private),
            }
            .map_err(|e| ControlError::Crypto(e.to_string()))?;
            Ok((private, alg))
        }
        Some(KeyImport::Secret(bytes)) => {
            let key = keys::parse_secret_key(bytes).map_err(|e| bad("--secret-key", e))?;
            let alg = check_algorithm(&key, spec.algorithm).map_err(|e| bad("--alg", e))?;
            Ok((bytes.clone(), alg))
        }
        Some(KeyImport::Private(bytes)) => {
            let key = keys::parse_private_key(bytes).map_err(|e| bad("--private-key", e))?;
            let alg = check_algorithm(&key, spec.algorithm).map_err(|e| bad("--alg", e))?;
            // Stored as given (DER or PEM): the parser reads either form back.
            Ok((bytes.clone(), alg))
        }
    }
}
