//! The embedded control plane behind the `local` profile: a SQLite file in the data
//! dir and a master key in the OS keyring (or its mode-0600 fallback file). Built only
//! by the commands that need it.

use std::path::Path;

use crate::client::Api;
use crate::config::Paths;
use crate::control::sqlite::SqliteStore;
use crate::control::users::ADMIN_ROLE;
use crate::control::{
    ControlError, ControlPlane, ControlResult, LOCAL_INSTANCE, LOCAL_ORG, MasterKey, Sealer, Store,
    Tx,
};
use crate::credentials::{Credentials, Location};
use crate::duration::now;
use crate::error::{Error, Result};
use crate::model;
use crate::output::Output;

/// The keyring account that holds the embedded mode's master key.
pub const MASTER_KEY_ACCOUNT: &str = "embedded-master-key";

pub type Embedded = ControlPlane<SqliteStore>;

/// Opens the embedded control plane, creating the database, master key, org `local` and
/// instance `local` on first use. Afterwards the master key is read from the keyring only
/// by commands that seal or unseal a key (a keyring round trip costs ~15 ms over D-Bus).
pub fn open(paths: &Paths, out: &Output) -> Result<Embedded> {
    let db_path = paths.data_dir.join("tok.db");
    let credentials = Credentials::from_env(&paths.data_dir).map_err(Error::from)?;
    let store = SqliteStore::open(&db_path).map_err(Error::from)?;
    let initialised = store
        .read(|tx| tx.org_id(LOCAL_ORG))
        .map_err(Error::from)?
        .is_some();
    let master = if initialised {
        let out = out.clone();
        MasterKey::lazy(move || load_master_key(&credentials, &db_path, &out))
    } else {
        let sealer = match credentials.get(MASTER_KEY_ACCOUNT).map_err(Error::from)? {
            Some((encoded, _)) => Sealer::from_encoded(&encoded).map_err(Error::from)?,
            // Decided under the database's write lock, so that concurrent first runs agree on
            // one master key instead of each sealing keys under its own.
            None => store
                .write(|tx| Ok(first_master_key(tx, &credentials, &db_path, out)))
                .map_err(Error::from)??,
        };
        MasterKey::ready(sealer)
    };
    let plane = ControlPlane::new(store, master, LOCAL_ORG, &actor());
    plane
        .bootstrap(Some(LOCAL_INSTANCE), now())
        .map_err(Error::from)?;
    // Revoked API keys past their retention go (a read when there is nothing to purge). A
    // database made by this very command holds none; and a fresh one's first moments, with
    // other first runs racing to set it up, are no time for an extra transaction.
    if initialised
        && let Err(e) = crate::control::apikeys::purge(
            plane.store(),
            crate::control::apikeys::DEFAULT_RETENTION_SECS,
            now(),
        )
    {
        // A record to tidy, not a reason to refuse the command: the next start tries again.
        out.warn(&format!(
            "purging revoked API keys failed ({e}); will retry"
        ));
    }
    Ok(plane)
}

/// The stored master key of an initialised database; its absence is an error, never a
/// reason to make a new one (the signing keys are sealed under the old one).
fn load_master_key(
    credentials: &Credentials,
    db_path: &Path,
    out: &Output,
) -> ControlResult<Sealer> {
    let stored = credentials
        .get(MASTER_KEY_ACCOUNT)
        .map_err(|e| ControlError::MasterKey {
            message: e.to_string(),
            hint: None,
        })?;
    match stored {
        Some((encoded, location)) => {
            out.debug(&match location {
                Location::Keyring => "master key from the OS keyring".to_string(),
                Location::File(p) => format!("master key from {}", p.display()),
            });
            Sealer::from_encoded(&encoded)
        }
        None => Err(missing_master_key(credentials, db_path)),
    }
}

fn missing_master_key(credentials: &Credentials, db_path: &Path) -> ControlError {
    ControlError::MasterKey {
        message: format!(
            "the master key for {} is missing from the OS keyring and from {}; without it \
             the signing keys cannot be decrypted",
            db_path.display(),
            credentials.file_path().display()
        ),
        hint: Some(
            "unlock the keyring that held it (TOK_CREDENTIAL_STORE selects where tok looks), \
             or move the database aside to start afresh"
                .into(),
        ),
    }
}

/// The master key another process stored meanwhile, or a new one for a database that holds
/// no org yet; a database with an org but no master key is an error (its keys are sealed).
fn first_master_key(
    tx: &mut dyn Tx,
    credentials: &Credentials,
    db_path: &Path,
    out: &Output,
) -> Result<Sealer> {
    if let Some((encoded, _)) = credentials.get(MASTER_KEY_ACCOUNT).map_err(Error::from)? {
        return Sealer::from_encoded(&encoded).map_err(Error::from);
    }
    if tx.org_id(LOCAL_ORG).map_err(Error::from)?.is_some() {
        return Err(missing_master_key(credentials, db_path).into());
    }
    let encoded = Sealer::generate_master_key().map_err(Error::from)?;
    let stored = credentials
        .set(MASTER_KEY_ACCOUNT, &encoded)
        .map_err(Error::from)?;
    if let (Some(why), Location::File(path)) = (&stored.fallback, &stored.location) {
        out.warn(&format!(
            "no OS keyring answered ({why}); the master key that encrypts signing keys \
             is stored in {} (mode 0600)",
            path.display()
        ));
    }
    Sealer::from_encoded(&encoded).map_err(Error::from)
}

/// Who the embedded mode acts as: the local owner, with every right.
pub fn local_whoami() -> model::WhoAmI {
    model::WhoAmI {
        principal: actor(),
        kind: "local".into(),
        org: LOCAL_ORG.into(),
        server: None,
        roles: vec![ADMIN_ROLE.to_string()],
        expires_at: None,
        max_expires_at: None,
    }
}

/// Who the audit says made a change in the embedded mode: `local:<os user>`.
fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("local:{user}")
}

/// Users, passwords and sessions belong to servers; the embedded mode has one owner.
pub fn no_users() -> Error {
    Error::usage("users log in to a `tok server`; the embedded control plane has one local owner")
        .with_hint("start a server with `tok server start`, or use a server profile (`tok login`)")
}

/// Application tokens authenticate to a server; the embedded mode has no API to present
/// them to.
pub fn no_app_tokens() -> Error {
    Error::usage(
        "application tokens authenticate to a `tok server`; the embedded control plane has \
         one local owner and no API to present them to",
    )
    .with_hint(
        "use a server profile (`tok login`), or `tok token create --tenant` for a Pulsar token",
    )
}

impl Api for Embedded {
    fn org(&self) -> Result<model::Org> {
        Ok(self.org_info()?)
    }
    fn set_max_token_lifetime(&self, secs: Option<i64>) -> Result<model::Org> {
        let req = model::OrgUpdate {
            max_token_lifetime_seconds: secs,
        };
        Ok(self.update_org(&req, now())?)
    }
    fn audit(&self, since: i64) -> Result<Vec<model::AuditEntry>> {
        Ok(self.audit_entries(since)?)
    }
    fn create_instance(&self, req: &model::CreateInstance) -> Result<model::Instance> {
        Ok(self.create_instance_req(req, now())?)
    }
    fn instances(&self) -> Result<Vec<model::Instance>> {
        Ok(self.instances_info()?)
    }
    fn instance(&self, name: &str) -> Result<model::Instance> {
        Ok(self.instance_info(name)?)
    }
    fn delete_instance(&self, name: &str, cascade: bool) -> Result<model::Deleted> {
        Ok(self.delete_instance_req(name, cascade, now())?)
    }
    fn public_key(&self, name: &str) -> Result<model::PublicKey> {
        Ok(self.public_key_info(name)?)
    }
    fn broker_config(&self, name: &str) -> Result<model::BrokerConfig> {
        Ok(self.broker_config_info(name)?)
    }
    fn rotate_key(&self, name: &str) -> Result<model::Rotation> {
        Ok(self.rotate_key_info(name, now())?)
    }
    fn create_tenant(&self, req: &model::CreateTenant) -> Result<model::Tenant> {
        Ok(self.create_tenant_req(req, now())?)
    }
    fn tenants(&self, instance: Option<&str>) -> Result<Vec<model::Tenant>> {
        Ok(self.tenants_info(instance)?)
    }
    fn tenant(&self, name: &str) -> Result<model::Tenant> {
        Ok(self.tenant_info(name)?)
    }
    fn delete_tenant(&self, name: &str) -> Result<model::Deleted> {
        Ok(self.delete_tenant_req(name, now())?)
    }
    fn create_token(&self, tenant: &str, req: &model::CreateToken) -> Result<model::Token> {
        let token = self.create_token_req(tenant, req, now())?;
        flush_counts(self);
        Ok(token)
    }
    fn tokens(&self, tenant: Option<&str>, kind: Option<&str>) -> Result<Vec<model::Token>> {
        Ok(self.tokens_info(tenant, kind)?)
    }
    fn token(&self, tenant: &str, name: &str) -> Result<model::Token> {
        Ok(self.token_info(tenant, name)?)
    }
    fn revoke_token(&self, tenant: &str, name: &str) -> Result<model::Token> {
        Ok(self.revoke_token_req(tenant, name, now())?)
    }
    fn create_app_token(&self, _req: &model::CreateAppToken) -> Result<model::Token> {
        Err(no_app_tokens())
    }
    // The embedded mode never has application tokens: a lookup finds none.
    fn app_token(&self, key: &str) -> Result<model::Token> {
        Ok(self.app_token_info(key)?)
    }
    fn revoke_app_token(&self, key: &str) -> Result<model::Token> {
        Ok(self.revoke_app_token_req(key, now())?)
    }
    fn create_role(&self, req: &model::CreateRole) -> Result<model::Role> {
        Ok(self.create_role_req(req, now())?)
    }
    fn roles(&self) -> Result<Vec<model::Role>> {
        Ok(self.roles_info()?)
    }
    fn role(&self, name: &str) -> Result<model::Role> {
        Ok(self.role_info(name)?)
    }
    fn update_role(&self, name: &str, req: &model::UpdateRole) -> Result<model::Role> {
        Ok(self.update_role_req(name, req, now())?)
    }
    fn delete_role(&self, name: &str, force: bool) -> Result<model::RoleDeleted> {
        Ok(self.delete_role_req(name, force, now())?)
    }
    fn create_user(&self, _req: &model::CreateUser) -> Result<model::User> {
        Err(no_users())
    }
    fn users(&self) -> Result<Vec<model::User>> {
        Err(no_users())
    }
    fn user(&self, _username: &str) -> Result<model::User> {
        Err(no_users())
    }
    fn delete_user(&self, _username: &str) -> Result<()> {
        Err(no_users())
    }
    fn set_password(&self, _username: &str, _password: &str) -> Result<()> {
        Err(no_users())
    }
    fn grant_role(&self, _username: &str, _role: &str) -> Result<model::RoleGranted> {
        Err(no_users())
    }
    fn revoke_role(&self, _username: &str, _role: &str) -> Result<model::User> {
        Err(no_users())
    }
    fn set_user_disabled(&self, _username: &str, _disabled: bool) -> Result<model::User> {
        Err(no_users())
    }
    fn whoami(&self) -> Result<model::WhoAmI> {
        Ok(local_whoami())
    }
    fn create_service_account(
        &self,
        req: &model::CreateServiceAccount,
    ) -> Result<model::ServiceAccount> {
        Ok(self.create_service_account_req(req, now())?)
    }
    fn service_accounts(&self) -> Result<Vec<model::ServiceAccount>> {
        Ok(self.service_accounts_info()?)
    }
    fn service_account(&self, name: &str) -> Result<model::ServiceAccount> {
        Ok(self.service_account_info(name, now())?)
    }
    fn delete_service_account(&self, name: &str) -> Result<model::ServiceAccountDeleted> {
        Ok(self.delete_service_account_req(name, now())?)
    }
    fn create_api_key(&self, req: &model::CreateApiKey) -> Result<model::ApiKey> {
        let key = self.create_api_key_req(req, now())?;
        flush_counts(self);
        Ok(key)
    }
    fn api_keys(&self, filter: &model::ApiKeyFilter) -> Result<Vec<model::ApiKey>> {
        Ok(self.api_keys_info(filter, now())?)
    }
    fn api_key(&self, name: &str) -> Result<model::ApiKey> {
        Ok(self.api_key_info(name, now())?)
    }
    fn revoke_api_key(&self, name: &str) -> Result<model::ApiKey> {
        Ok(self.revoke_api_key_req(name, now())?.0)
    }
    fn delete_api_key(&self, name: &str) -> Result<model::ApiKey> {
        Ok(self.delete_api_key_req(name, now())?)
    }
    fn revocations(&self, since: Option<&str>, limit: u32) -> Result<model::RevocationFeed> {
        Ok(self.revocation_feed(since, limit as usize)?)
    }
    fn introspect(&self, token: &str) -> Result<model::Introspection> {
        // Reads, then writes the use down: the control plane's own introspect.
        let answer = ControlPlane::introspect(self, token, now())?.into();
        flush_counts(self);
        Ok(answer)
    }
    fn record_usage(&self, batch: &model::UsageBatch) -> Result<model::UsageBatchResult> {
        Ok(ControlPlane::record_usage(self, batch, now())?)
    }
    fn usage(&self, query: &model::UsageQuery) -> Result<Vec<model::UsagePoint>> {
        Ok(self.usage_report(query)?)
    }
    fn usage_bill(&self, month: &str, tenant: Option<&str>) -> Result<model::Bill> {
        Ok(ControlPlane::usage_bill(self, month, tenant, now())?)
    }
    fn rate_card(&self) -> Result<model::RateCard> {
        Ok(ControlPlane::rate_card(self)?)
    }
    fn update_rate_card(&self, update: &model::RateCardUpdate) -> Result<model::RateCard> {
        Ok(ControlPlane::update_rate_card(self, update, now())?)
    }
}

/// Writes the usage the command counted (a token issued, an introspection) once it is done:
/// the embedded mode's flush interval is one command. The work itself is done and shown, so
/// a failure here costs only that count, not the command.
fn flush_counts(plane: &Embedded) {
    let _ = plane.flush_usage();
}
