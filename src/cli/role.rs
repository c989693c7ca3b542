//! `tok role`: the built-in roles and the org's custom roles — named policies of actions
//! on resources — that users, application tokens and streaming tokens hold.

use clap::Subcommand;
use clap::builder::PossibleValuesParser;

use super::Ctx;
use crate::control::policy::{Action, DEFAULT_ROLES, RESOURCE_FORMS, default_role};
use crate::control::roles::builtin_description;
use crate::duration::{now, relative};
use crate::error::{Error, Result};
use crate::model::{CreateRole, Role, UpdateRole};
use crate::output::{Output, Render};

/// The long help of `tok role` (and its man page): the model, every action, and each
/// built-in role's exact policy — generated from the code that enforces them.
pub fn roles_help() -> String {
    let mut s = String::from(
        "A role is a named policy {effect: allow, actions, resources}. A principal (a user, an \
         application token) may do what any role it holds allows, and nothing else. Streaming \
         tokens record roles too: their Pulsar actions within the token's tenant are what \
         `tok token get` shows the token may do.\n\nResources: ",
    );
    s.push_str(RESOURCE_FORMS);
    s.push_str(
        ". A resource covers itself and everything below it; `*` matches any run of \
         characters within one name and never crosses a ':'.\n\nActions (management): ",
    );
    let names = |data: bool| -> String {
        Action::ALL
            .iter()
            .filter(|a| a.is_data_plane() == data)
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    s.push_str(&names(false));
    s.push_str(".\nActions (data plane): ");
    s.push_str(&names(true));
    s.push_str(
        ".\n\nNo escalation: nobody creates or changes a role, token or user that would \
         grant an action on a resource they do not hold themselves (403, exit 4, naming what \
         was missing).\n\nBuilt-in roles (immutable; <org> is the org's name):\n",
    );
    for name in DEFAULT_ROLES {
        if let Some(policy) = default_role(name, "<org>") {
            let actions: Vec<&str> = policy.actions.iter().map(|a| a.as_str()).collect();
            let all = policy.actions.len() == Action::ALL.len();
            s.push_str(&format!(
                "\n  {name} — {}\n    resources: drn:tok:<org>\n    actions: {}\n",
                builtin_description(name),
                if all {
                    "every action".to_string()
                } else {
                    actions.join(", ")
                }
            ));
        }
    }
    s.push_str(
        "\nJSON fields (-o json): id (builtin:<slug> for built-in roles), name, description, \
         builtin, policy {effect, actions, resources}, created_at and updated_at (null for \
         built-in roles); `delete` prints {name, holders}.",
    );
    s
}

fn action_values() -> PossibleValuesParser {
    PossibleValuesParser::new(Action::ALL.map(Action::as_str))
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a custom role; it may grant only what you hold yourself
    #[command(after_long_help = "\
Examples:
  tok role create topic-reader --action consume --resource 'drn:tok:acme:tenant:acme:namespace:*'
  tok role create ops --action tenant-read --action token-read --resource drn:tok:acme \\
      --description 'reads tenants and tokens'")]
    Create {
        name: String,
        /// An action the role allows; repeat for several
        #[arg(long = "action", value_name = "ACTION", required = true, value_parser = action_values())]
        actions: Vec<String>,
        /// A resource it allows them on (drn:tok:<org>…); repeat for several
        #[arg(long = "resource", value_name = "DRN", required = true)]
        resources: Vec<String>,
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// List the built-in roles, then the org's custom roles
    List,
    /// Show a role and its policy
    Get {
        /// Role name (built-in names in any case) or id
        name: String,
    },
    /// Change a custom role: the actions or resources given replace the current ones
    Update {
        /// Role name or id
        name: String,
        /// The actions it allows (replaces them all); repeat for several
        #[arg(long = "action", value_name = "ACTION", value_parser = action_values())]
        actions: Vec<String>,
        /// The resources it allows them on (replaces them all); repeat for several
        #[arg(long = "resource", value_name = "DRN")]
        resources: Vec<String>,
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// Delete a custom role (asks you to type its name); refused while anyone holds it
    Delete {
        /// Role name or id
        name: String,
        /// Delete it even while users or tokens hold it (they lose it)
        #[arg(long)]
        force: bool,
    },
}

fn actions_cell(r: &Role) -> String {
    if r.policy.actions.len() == Action::ALL.len() {
        "every action".into()
    } else {
        r.policy.actions.join(", ")
    }
}

impl Render for Role {
    fn columns() -> &'static [&'static str] {
        &["name", "type", "actions", "resources", "description"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            if self.builtin { "built-in" } else { "custom" }.into(),
            actions_cell(self),
            self.policy.resources.join(", "),
            self.description.clone().unwrap_or_default(),
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            if self.builtin { "built-in" } else { "custom" }.into(),
            self.policy.actions.join(";"),
            self.policy.resources.join(";"),
            self.description.clone().unwrap_or_default(),
        ]
    }
    fn table(&self, _out: &Output) -> String {
        let now = now();
        let stamp = |t: Option<i64>| t.map_or_else(|| "-".to_string(), |t| relative(t, now));
        let pairs = vec![
            ("name".to_string(), self.name.clone()),
            ("id".to_string(), self.id.clone()),
            (
                "type".to_string(),
                if self.builtin {
                    "built-in (immutable)"
                } else {
                    "custom"
                }
                .into(),
            ),
            (
                "description".to_string(),
                self.description.clone().unwrap_or_default(),
            ),
            (
                "allows".to_string(),
                format!(
                    "{}\non {}",
                    self.policy.actions.join(", "),
                    self.policy.resources.join("\n   ")
                ),
            ),
            ("created".to_string(), stamp(self.created_at)),
            ("updated".to_string(), stamp(self.updated_at)),
        ];
        crate::output::kv_table(&pairs)
    }
}

pub fn run(ctx: &Ctx, cmd: RoleCommand) -> Result<()> {
    match cmd {
        RoleCommand::Create {
            name,
            actions,
            resources,
            description,
        } => {
            let role = ctx.api()?.create_role(&CreateRole {
                name,
                description,
                actions,
                resources,
            })?;
            ctx.out.info(&format!("created role '{}'", role.name));
            ctx.out.item(&role)
        }
        RoleCommand::List => ctx.out.list(&ctx.api()?.roles()?),
        RoleCommand::Get { name } => ctx.out.item(&ctx.api()?.role(&name)?),
        RoleCommand::Update {
            name,
            actions,
            resources,
            description,
        } => {
            if actions.is_empty() && resources.is_empty() && description.is_none() {
                return Err(Error::usage(
                    "nothing to change: give --action, --resource or --description",
                ));
            }
            let req = UpdateRole {
                description,
                actions: (!actions.is_empty()).then_some(actions),
                resources: (!resources.is_empty()).then_some(resources),
            };
            let role = ctx.api()?.update_role(&name, &req)?;
            ctx.out.info(&format!(
                "updated role '{}'; whoever holds it has the new policy at once",
                role.name
            ));
            ctx.out.item(&role)
        }
        RoleCommand::Delete { name, force } => {
            let api = ctx.api()?;
            // Looked up to confirm by its real name; a caller who may delete roles but not
            // read them confirms the name it typed.
            let (shown, key) = match api.role(&name) {
                Ok(role) if role.builtin => {
                    return Err(Error::usage(format!(
                        "'{}' is a built-in role and cannot be deleted",
                        role.name
                    )));
                }
                Ok(role) => (role.name, role.id),
                Err(e) if e.kind == crate::error::ErrorKind::Denied => (name.clone(), name.clone()),
                Err(e) => return Err(e),
            };
            ctx.confirm(
                &format!("Type the role name '{shown}' to delete it"),
                &shown,
                &format!("delete role '{shown}'"),
            )?;
            let deleted = api.delete_role(&key, force)?;
            if deleted.holders.is_empty() {
                ctx.out.info(&format!("deleted role '{}'", deleted.name));
            } else {
                ctx.out.info(&format!(
                    "deleted role '{}'; {} lost it: {}",
                    deleted.name,
                    deleted.holders.len(),
                    deleted.holders.join(", ")
                ));
            }
            if ctx.out.is_json() {
                ctx.out.json(&deleted)?;
            }
            Ok(())
        }
    }
}
