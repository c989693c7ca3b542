//! `tok tenant`: Pulsar tenants on an instance.

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use crate::control::Tenant;
use crate::duration::{now, relative, rfc3339};
use crate::error::{Error, Result};
use crate::output::Render;

const TENANT_JSON: &str = "\
JSON fields (-o json): name, instance, description (null when not set), created_at,
token_count (live tokens).";

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (Pulsar names: letters, digits, _ - = : .)
    #[command(after_long_help = TENANT_JSON)]
    Create {
        name: String,
        /// The instance it lives on [default: the profile's, or the only one]
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// List tenants
    #[command(after_long_help = TENANT_JSON)]
    List {
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
    },
    /// Show a tenant
    #[command(after_long_help = TENANT_JSON)]
    Get { name: String },
    /// Delete a tenant and all its tokens (asks you to type its name)
    Delete { name: String },
}

#[derive(Debug, Serialize)]
struct TenantView {
    name: String,
    instance: String,
    description: Option<String>,
    created_at: Option<String>,
    token_count: i64,
    #[serde(skip)]
    created: i64,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        TenantView {
            created_at: rfc3339(t.created_at),
            created: t.created_at,
            name: t.name,
            instance: t.instance,
            description: t.description,
            token_count: t.token_count,
        }
    }
}

impl Render for TenantView {
    fn columns() -> &'static [&'static str] {
        &[
            "name",
            "instance",
            "token_count",
            "created_at",
            "description",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.instance.clone(),
            self.token_count.to_string(),
            relative(self.created, now()),
            self.description.clone().unwrap_or_default(),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.instance.clone(),
            self.token_count.to_string(),
            self.created_at.clone().unwrap_or_default(),
            self.description.clone().unwrap_or_default(),
        ]
    }
}

pub fn run(ctx: &Ctx, cmd: TenantCommand) -> Result<()> {
    let cp = ctx.control()?;
    match cmd {
        TenantCommand::Create {
            name,
            instance,
            description,
        } => {
            let instance = ctx.instance(instance.as_deref())?;
            let tenant = cp
                .create_tenant(&name, instance.as_deref(), description.as_deref(), now())
                .map_err(Error::from)?;
            ctx.out.info(&format!(
                "created tenant '{}' on instance '{}'",
                tenant.name, tenant.instance
            ));
            ctx.out.item(&TenantView::from(tenant))
        }
        TenantCommand::List { instance } => {
            let views: Vec<TenantView> = cp
                .tenants(instance.as_deref())
                .map_err(Error::from)?
                .into_iter()
                .map(Into::into)
                .collect();
            ctx.out.list(&views)
        }
        TenantCommand::Get { name } => {
            let tenant = cp.tenant(&name).map_err(Error::from)?;
            ctx.out.item(&TenantView::from(tenant))
        }
        TenantCommand::Delete { name } => {
            let tenant = cp.tenant(&name).map_err(Error::from)?;
            ctx.confirm(
                &format!(
                    "Type the tenant name '{name}' to delete it and its {} token(s)",
                    tenant.token_count
                ),
                &name,
                &format!(
                    "delete tenant '{name}' and its {} token(s)",
                    tenant.token_count
                ),
            )?;
            let n = cp.delete_tenant(&name, now()).map_err(Error::from)?;
            ctx.out
                .info(&format!("deleted tenant '{name}' and {n} token(s)"));
            Ok(())
        }
    }
}
