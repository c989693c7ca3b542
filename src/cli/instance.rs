//! `tok instance`: Pulsar clusters (data-plane endpoints), each with its own signing key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use super::jwt::{key_error, parse_alg};
use crate::control::{Instance, InstanceSpec, KeyImport, SigningKey, refuse_while_tenants};
use crate::duration::{now, relative, rfc3339};
use crate::error::{Error, Result};
use crate::jwt::{Algorithm, B64URL};
use crate::keys::read_keyref;
use crate::output::Render;

const INSTANCE_JSON: &str = "\
JSON fields (-o json): name, algorithm, audience, issuer (null when not set), kid (the active
signing key), created_at; `get` adds keys: [{kid, algorithm, created_at, retired_at}].";

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Create an instance with a new signing key, or with a Pulsar cluster's existing key
    #[command(after_long_help = INSTANCE_JSON)]
    Create(CreateArgs),
    /// List instances
    #[command(after_long_help = INSTANCE_JSON)]
    List,
    /// Show an instance and its signing keys (active and retired)
    #[command(after_long_help = INSTANCE_JSON)]
    Get { name: String },
    /// Delete an instance (asks you to type its name); refuses while tenants use it
    Delete {
        name: String,
        /// Also delete its tenants and their tokens
        #[arg(long)]
        cascade: bool,
    },
    /// Print or save the active public key (der, pem, jwk or data-url)
    #[command(after_long_help = "\
--output FILE writes the key to FILE instead of stdout (DER is never written to a terminal).
HMAC instances have no public key: use `tok instance broker-config`.")]
    PublicKey {
        name: String,
        #[arg(long, value_enum, default_value_t = PublicKeyFormat::Pem)]
        format: PublicKeyFormat,
    },
    /// Print the broker.conf lines that make a Pulsar broker accept this instance's tokens
    BrokerConfig { name: String },
    /// Create a new signing key (new kid); the old one is kept as retired
    RotateKey { name: String },
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("import").args(["private_key", "secret_key"]))]
pub struct CreateArgs {
    /// Instance name: 1-63 of a-z, 0-9 and '-'
    pub name: String,
    /// Signing algorithm [default: RS256, or what an imported key implies]
    #[arg(long, value_parser = parse_alg, value_name = "ALG")]
    pub alg: Option<Algorithm>,
    /// The `aud` every token for this instance carries [default: urn:tok:<org>:<name>]
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    /// The `iss` every token for this instance carries
    #[arg(long, value_name = "ISS")]
    pub issuer: Option<String>,
    /// Keep the cluster's RSA/EC private key (KEYREF: file:///…, data:;base64,…, path, base64)
    #[arg(long, value_name = "KEYREF")]
    pub private_key: Option<String>,
    /// Keep the cluster's HMAC secret key (KEYREF)
    #[arg(long, value_name = "KEYREF")]
    pub secret_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PublicKeyFormat {
    /// X.509 SubjectPublicKeyInfo DER (binary; needs --output)
    Der,
    /// PEM ("BEGIN PUBLIC KEY")
    Pem,
    /// A JSON Web Key with kid, alg and use
    Jwk,
    /// data:;base64,<DER> as broker.conf's tokenPublicKey takes it
    DataUrl,
}

#[derive(Debug, Serialize)]
struct KeyView {
    kid: String,
    algorithm: String,
    created_at: Option<String>,
    retired_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct InstanceView {
    name: String,
    algorithm: String,
    audience: String,
    issuer: Option<String>,
    kid: String,
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<Vec<KeyView>>,
    #[serde(skip)]
    created: i64,
}

impl InstanceView {
    fn new(i: Instance, keys: Option<Vec<SigningKey>>) -> Self {
        InstanceView {
            name: i.name,
            algorithm: i.algorithm.to_string(),
            audience: i.audience,
            issuer: i.issuer,
            kid: i.kid,
            created_at: rfc3339(i.created_at),
            created: i.created_at,
            keys: keys.map(|ks| {
                ks.into_iter()
                    .map(|k| KeyView {
                        kid: k.kid,
                        algorithm: k.algorithm.to_string(),
                        created_at: rfc3339(k.created_at),
                        retired_at: k.retired_at.and_then(rfc3339),
                    })
                    .collect()
            }),
        }
    }
}

impl Render for InstanceView {
    fn columns() -> &'static [&'static str] {
        &[
            "name",
            "algorithm",
            "audience",
            "issuer",
            "kid",
            "created_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.algorithm.clone(),
            self.audience.clone(),
            self.issuer.clone().unwrap_or_else(|| "-".into()),
            self.kid.clone(),
            relative(self.created, now()),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.algorithm.clone(),
            self.audience.clone(),
            self.issuer.clone().unwrap_or_default(),
            self.kid.clone(),
            self.created_at.clone().unwrap_or_default(),
        ]
    }
    fn extra_pairs(&self) -> Vec<(String, String)> {
        let keys = self.keys.iter().flatten();
        keys.map(|k| {
            let state = match &k.retired_at {
                Some(at) => format!("retired {at}"),
                None => "active".into(),
            };
            (
                "key".into(),
                format!("{} ({}, {state})", k.kid, k.algorithm),
            )
        })
        .collect()
    }
}

pub fn run(ctx: &Ctx, cmd: InstanceCommand) -> Result<()> {
    let cp = ctx.control()?;
    match cmd {
        InstanceCommand::Create(args) => {
            let import = match (&args.private_key, &args.secret_key) {
                (Some(r), _) => Some(KeyImport::Private(
                    read_keyref(r).map_err(|e| key_error("--private-key", &e))?,
                )),
                (None, Some(r)) => Some(KeyImport::Secret(
                    read_keyref(r).map_err(|e| key_error("--secret-key", &e))?,
                )),
                (None, None) => None,
            };
            let spec = InstanceSpec {
                name: args.name.clone(),
                algorithm: args.alg,
                audience: args.audience.clone(),
                issuer: args.issuer.clone(),
                import,
            };
            let instance = cp.create_instance(&spec, now()).map_err(Error::from)?;
            ctx.out.info(&format!(
                "created instance '{}' ({}, kid {})",
                instance.name, instance.algorithm, instance.kid
            ));
            ctx.out.hint(&format!(
                "configure brokers with `tok instance broker-config {}`",
                instance.name
            ));
            ctx.out.item(&InstanceView::new(instance, None))
        }
        InstanceCommand::List => {
            let views: Vec<_> = cp
                .instances()
                .map_err(Error::from)?
                .into_iter()
                .map(|i| InstanceView::new(i, None))
                .collect();
            ctx.out.list(&views)
        }
        InstanceCommand::Get { name } => {
            let instance = cp.instance(&name).map_err(Error::from)?;
            let keys = cp.instance_keys(&name).map_err(Error::from)?;
            ctx.out.item(&InstanceView::new(instance, Some(keys)))
        }
        InstanceCommand::Delete { name, cascade } => {
            let instance = cp.instance(&name).map_err(Error::from)?;
            let tenants = cp.tenants(Some(&instance.name)).map_err(Error::from)?;
            refuse_while_tenants(&name, &tenants, cascade).map_err(Error::from)?;
            let tokens: i64 = tenants.iter().map(|t| t.token_count).sum();
            let question = if tenants.is_empty() {
                format!("Type the instance name '{name}' to delete it and its signing keys")
            } else {
                format!(
                    "Type the instance name '{name}' to delete it, its {} tenant(s) and their {tokens} token(s)",
                    tenants.len()
                )
            };
            ctx.confirm(&question, &name, &format!("delete instance '{name}'"))?;
            let deleted = cp
                .delete_instance(&name, cascade, now())
                .map_err(Error::from)?;
            ctx.out.info(&format!(
                "deleted instance '{name}' and {deleted} tenant(s)"
            ));
            Ok(())
        }
        InstanceCommand::PublicKey { name, format } => public_key(ctx, &name, format),
        InstanceCommand::BrokerConfig { name } => {
            let lines = cp.broker_config(&name).map_err(Error::from)?;
            if ctx.out.is_json() {
                return ctx.out.json(&lines);
            }
            ctx.out.line(&lines.join("\n"))
        }
        InstanceCommand::RotateKey { name } => {
            let rotation = cp.rotate_key(&name, now()).map_err(Error::from)?;
            ctx.out.info(&format!(
                "instance '{name}' now signs with {}; {} is retired",
                rotation.instance.kid, rotation.retired_kid
            ));
            if rotation.still_using_old.is_empty() {
                ctx.out.info("no live token uses the retired key");
            } else {
                ctx.out.warn(&format!(
                    "{} live token(s) still use the retired key: {}",
                    rotation.still_using_old.len(),
                    rotation
                        .still_using_old
                        .iter()
                        .map(|t| format!("{}/{}", t.tenant, t.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            ctx.out.hint(&format!(
                "brokers accept only the key in broker.conf: update it with `tok instance broker-config {name}`"
            ));
            let keys = cp.instance_keys(&name).map_err(Error::from)?;
            ctx.out
                .item(&InstanceView::new(rotation.instance, Some(keys)))
        }
    }
}

fn public_key(ctx: &Ctx, name: &str, format: PublicKeyFormat) -> Result<()> {
    let (instance, der) = ctx.control()?.public_key(name).map_err(Error::from)?;
    let bytes = match format {
        PublicKeyFormat::Der => der.clone(),
        PublicKeyFormat::Pem => pem::encode(&pem::Pem::new("PUBLIC KEY", der.clone())).into_bytes(),
        PublicKeyFormat::DataUrl => {
            format!("data:;base64,{}\n", STANDARD.encode(&der)).into_bytes()
        }
        PublicKeyFormat::Jwk => {
            let mut text = serde_json::to_string_pretty(&jwk(&instance, &der)?)
                .map_err(|e| Error::other(format!("cannot encode the JWK: {e}")))?;
            text.push('\n');
            text.into_bytes()
        }
    };
    match ctx.global.output_file() {
        Some(path) => {
            std::fs::write(path, &bytes)
                .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))?;
            ctx.out.info(&format!(
                "wrote the public key of '{name}' to {}",
                path.display()
            ));
            Ok(())
        }
        None if format == PublicKeyFormat::Der && ctx.out.stdout_tty => Err(Error::usage(
            "DER is binary and is not written to a terminal",
        )
        .with_hint("add --output FILE, or use --format pem")),
        None => ctx.out.bytes(&bytes),
    }
}

/// A JWK (RFC 7517) for the instance's active public key.
fn jwk(instance: &Instance, der: &[u8]) -> Result<serde_json::Value> {
    let b64 = |b: &[u8]| B64URL.encode(b);
    let base = serde_json::json!({
        "kid": instance.kid, "alg": instance.algorithm.as_str(), "use": "sig"
    });
    let mut map = base.as_object().cloned().unwrap_or_default();
    match instance.algorithm {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            let rsa = aws_lc_rs::rsa::PublicKey::from_der(der)
                .map_err(|_| Error::other("the stored RSA public key cannot be read"))?;
            map.insert("kty".into(), "RSA".into());
            map.insert(
                "n".into(),
                b64(rsa.modulus().big_endian_without_leading_zero()).into(),
            );
            map.insert(
                "e".into(),
                b64(rsa.exponent().big_endian_without_leading_zero()).into(),
            );
        }
        alg => {
            let (crv, n) = match alg {
                Algorithm::ES384 => ("P-384", 48),
                Algorithm::ES512 => ("P-521", 66),
                _ => ("P-256", 32),
            };
            // An EC SubjectPublicKeyInfo ends with the uncompressed point 04 || x || y.
            let point = der
                .get(der.len().saturating_sub(2 * n + 1)..)
                .filter(|p| p.len() == 2 * n + 1 && p[0] == 4)
                .ok_or_else(|| Error::other("the stored EC public key cannot be read"))?;
            map.insert("kty".into(), "EC".into());
            map.insert("crv".into(), crv.into());
            map.insert("x".into(), b64(&point[1..=n]).into());
            map.insert("y".into(), b64(&point[n + 1..]).into());
        }
    }
    Ok(serde_json::Value::Object(map))
}
