//! `tok tenant`: Pulsar tenants on an instance.

use clap::Subcommand;

use super::Ctx;
use crate::duration::{now, relative, rfc3339};
use crate::error::Result;
use crate::model::{CreateTenant, Tenant};
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

impl Render for Tenant {
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
            relative(self.created_at, now()),
            self.description.clone().unwrap_or_default(),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.instance.clone(),
            self.token_count.to_string(),
            rfc3339(self.created_at).unwrap_or_default(),
            self.description.clone().unwrap_or_default(),
        ]
    }
}

pub fn run(ctx: &Ctx, cmd: TenantCommand) -> Result<()> {
    let api = ctx.api()?;
    match cmd {
        TenantCommand::Create {
            name,
            instance,
            description,
        } => {
            let instance = ctx.instance(instance.as_deref())?;
            let tenant = api.create_tenant(&CreateTenant {
                name,
                instance,
                description,
            })?;
            ctx.out.info(&format!(
                "created tenant '{}' on instance '{}'",
                tenant.name, tenant.instance
            ));
            ctx.out.item(&tenant)
        }
        TenantCommand::List { instance } => ctx.out.list(&api.tenants(instance.as_deref())?),
        TenantCommand::Get { name } => {
            let tenant = api.tenant(&name)?;
            ctx.out.item(&tenant)
        }
        TenantCommand::Delete { name } => {
            let tenant = api.tenant(&name)?;
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
            let n = api.delete_tenant(&name)?.count;
            ctx.out
                .info(&format!("deleted tenant '{name}' and {n} token(s)"));
            Ok(())
        }
    }
}
