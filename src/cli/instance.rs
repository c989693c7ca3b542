//! `tok instance`: Pulsar clusters (data-plane endpoints), each with its own signing key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Subcommand;

use super::Ctx;
use super::jwt::{key_error, parse_alg};
use crate::control::refuse_while_tenants;
use crate::duration::{now, relative, rfc3339};
use crate::error::{Error, Result};
use crate::jwt::Algorithm;
use crate::keys::read_keyref;
use crate::model::{CreateInstance, Instance};
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
    /// Delete an instance (asks you to type its name); refuses while tenants or API keys
    /// use it
    Delete {
        name: String,
        /// Also delete its tenants, their tokens and the API keys for it (each live one
        /// goes into the revocation feed)
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

impl Render for Instance {
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
            relative(self.created_at, now()),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.algorithm.clone(),
            self.audience.clone(),
            self.issuer.clone().unwrap_or_default(),
            self.kid.clone(),
            rfc3339(self.created_at).unwrap_or_default(),
        ]
    }
    fn extra_pairs(&self) -> Vec<(String, String)> {
        let keys = self.keys.iter().flatten();
        keys.map(|k| {
            let state = match k.retired_at.and_then(rfc3339) {
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
    let api = ctx.api()?;
    match cmd {
        InstanceCommand::Create(args) => {
            let read = |flag: &str, r: &str| {
                read_keyref(r)
                    .map(|bytes| STANDARD.encode(bytes))
                    .map_err(|e| key_error(flag, &e))
            };
            let req = CreateInstance {
                name: args.name.clone(),
                algorithm: args.alg.map(|a| a.to_string()),
                audience: args.audience.clone(),
                issuer: args.issuer.clone(),
                private_key: args
                    .private_key
                    .as_deref()
                    .map(|r| read("--private-key", r))
                    .transpose()?,
                secret_key: args
                    .secret_key
                    .as_deref()
                    .map(|r| read("--secret-key", r))
                    .transpose()?,
            };
            let instance = api.create_instance(&req)?;
            ctx.out.info(&format!(
                "created instance '{}' ({}, kid {})",
                instance.name, instance.algorithm, instance.kid
            ));
            ctx.out.hint(&format!(
                "configure brokers with `tok instance broker-config {}`",
                instance.name
            ));
            ctx.out.item(&instance)
        }
        InstanceCommand::List => ctx.out.list(&api.instances()?),
        InstanceCommand::Get { name } => ctx.out.item(&api.instance(&name)?),
        InstanceCommand::Delete { name, cascade } => {
            let instance = api.instance(&name)?;
            let tenants = api.tenants(Some(&instance.name))?;
            let names: Vec<String> = tenants.iter().map(|t| t.name.clone()).collect();
            refuse_while_tenants(&name, &names, cascade).map_err(Error::from)?;
            let tokens: i64 = tenants.iter().map(|t| t.token_count).sum();
            let question = if tenants.is_empty() {
                format!(
                    "Type the instance name '{name}' to delete it and its signing keys{}",
                    if cascade {
                        " (and any API keys for it)"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "Type the instance name '{name}' to delete it, its {} tenant(s) and their \
                     {tokens} token(s), and any API keys for it",
                    tenants.len()
                )
            };
            ctx.confirm(&question, &name, &format!("delete instance '{name}'"))?;
            let deleted = api.delete_instance(&name, cascade)?.count;
            ctx.out.info(&format!(
                "deleted instance '{name}' and {deleted} tenant(s)"
            ));
            Ok(())
        }
        InstanceCommand::PublicKey { name, format } => public_key(ctx, &name, format),
        InstanceCommand::BrokerConfig { name } => {
            let lines = api.broker_config(&name)?.lines;
            if ctx.out.is_json() {
                return ctx.out.json(&lines);
            }
            ctx.out.line(&lines.join("\n"))
        }
        InstanceCommand::RotateKey { name } => {
            let rotation = api.rotate_key(&name)?;
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
                    rotation.still_using_old.join(", ")
                ));
            }
            ctx.out.hint(&format!(
                "brokers accept only the key in broker.conf: update it with `tok instance broker-config {name}`"
            ));
            ctx.out.item(&rotation.instance)
        }
    }
}

fn public_key(ctx: &Ctx, name: &str, format: PublicKeyFormat) -> Result<()> {
    let key = ctx.api()?.public_key(name)?;
    let der = STANDARD
        .decode(&key.der)
        .map_err(|_| Error::other("the public key in the answer is not base64"))?;
    let alg: Algorithm = key
        .algorithm
        .parse()
        .map_err(|e: String| Error::other(format!("the answer names an unknown algorithm: {e}")))?;
    let bytes = match format {
        PublicKeyFormat::Der => der.clone(),
        PublicKeyFormat::Pem => pem::encode(&pem::Pem::new("PUBLIC KEY", der.clone())).into_bytes(),
        PublicKeyFormat::DataUrl => {
            format!("data:;base64,{}\n", STANDARD.encode(&der)).into_bytes()
        }
        PublicKeyFormat::Jwk => {
            let jwk = crate::keys::public_jwk(&key.kid, alg, &der)
                .map_err(|e| Error::other(e.to_string()))?;
            let mut text = serde_json::to_string_pretty(&jwk)
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
