//! The clap command tree and its dispatch. Commands turn arguments into calls and
//! results into output, nothing more.

mod apikey;
mod audit;
mod completion;
mod ctx;
pub mod docs;
mod embedded;
mod instance;
mod jwt;
mod login;
mod org;
mod profile;
mod role;
mod server;
mod tenant;
mod token;
mod usage;
mod user;

use clap::{Parser, Subcommand};

pub use ctx::Ctx;

use crate::error::{Error, ErrorKind, Result};
use crate::output::{ColorChoice, Format, Output};

/// Credential admin for Apache Pulsar and database platforms: tokens, API keys, roles, usage.
#[derive(Debug, Parser)]
#[command(
    name = "tok",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_long_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes; each can also come from the environment.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Profile to use for this command only (default: the current profile, see `tok profile use`)
    #[arg(long, global = true, env = "TOK_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Output format for data on stdout: table, json, yaml or csv [default: the profile's,
    /// else table]. (`tok jwt create-secret-key --output FILE` names the key file instead.)
    #[arg(
        short = 'o',
        long,
        global = true,
        env = "TOK_OUTPUT",
        value_name = "FORMAT",
        value_parser = parse_output,
        action = clap::ArgAction::Append
    )]
    pub output: Vec<OutputArg>,

    /// Control-plane server URL for this command (overrides the profile's)
    #[arg(long, global = true, env = "TOK_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// Answer yes to confirmation prompts (deletes, revokes, cascades)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,

    /// Never prompt; a command that needs confirmation fails with exit 2 unless --yes is given
    #[arg(
        long,
        global = true,
        env = "TOK_NO_INPUT",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub no_input: bool,

    /// When to use colours (NO_COLOR is honoured by `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print only data: no progress lines or hints (warnings and errors still go to stderr)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Say more about what is happening, on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pulsar tenants on an instance
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Streaming tokens (Pulsar JWTs for a tenant) and application tokens, shown once
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Shortcut for `tok token create`
    Create(token::CreateArgs),
    /// Instances (Pulsar clusters), their signing keys and broker.conf lines
    #[command(subcommand)]
    Instance(instance::InstanceCommand),
    /// Org settings, such as the maximum token lifetime
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// The audit trail: every change, who made it and when
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// People who log in to a server with a password, and the roles they hold
    #[command(subcommand)]
    User(user::UserCommand),
    /// Service accounts: non-human principals that own API keys and carry roles
    #[command(subcommand, visible_alias = "sa")]
    ServiceAccount(apikey::ServiceAccountCommand),
    /// API keys: JWTs of a service account for one instance, shown once, immutable
    #[command(subcommand)]
    Apikey(apikey::ApiKeyCommand),
    /// Roles: built-in and custom policies of actions on resources
    #[command(subcommand, after_long_help = role::roles_help())]
    Role(role::RoleCommand),
    /// Usage by tenant and day, monthly bills, the rate card; import and collect broker usage
    #[command(subcommand)]
    Usage(usage::UsageCommand),
    /// Run the control plane over HTTP for a team (`tok server start`, `tok server init`)
    #[command(subcommand)]
    Server(server::ServerCommand),
    /// Log in to a server: the session token goes to the OS keyring, the server to the profile
    Login(login::LoginArgs),
    /// End the profile's session and remove its credential
    Logout,
    /// Show who the profile acts as: principal, org, server, roles, session expiry
    #[command(after_long_help = "\
JSON fields (-o json): principal, kind (user, application, service-account or local), org,
server (null when embedded), roles, expires_at (null when embedded), max_expires_at.")]
    Whoami,
    /// Decode, verify and mint JWTs, and create keys, offline (replaces `pulsar tokens`)
    #[command(subcommand)]
    Jwt(jwt::JwtCommand),
    /// Manage profiles: which control plane tok talks to, and as whom
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Print a shell completion script
    Completion(completion::CompletionArgs),
    /// Write the man pages and completion scripts into a directory (for packagers)
    #[command(hide = true)]
    GenerateDocs(docs::GenerateDocsArgs),
}

/// A value of `-o/--output`: a format, or (for `create-secret-key`, as in `pulsar tokens`) a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputArg {
    Format(Format),
    File(std::path::PathBuf),
}

fn parse_output(s: &str) -> std::result::Result<OutputArg, String> {
    match <Format as clap::ValueEnum>::from_str(s, true) {
        Ok(f) => Ok(OutputArg::Format(f)),
        Err(_) if s.is_empty() => Err("use table, json, yaml or csv".into()),
        Err(_) => Ok(OutputArg::File(s.into())),
    }
}

impl GlobalArgs {
    /// The last output format given, if any.
    pub fn format(&self) -> Option<Format> {
        self.output.iter().rev().find_map(|o| match o {
            OutputArg::Format(f) => Some(*f),
            OutputArg::File(_) => None,
        })
    }

    /// The file named by `--output FILE`, if any.
    pub fn output_file(&self) -> Option<&std::path::Path> {
        self.output.iter().rev().find_map(|o| match o {
            OutputArg::File(p) => Some(p.as_path()),
            OutputArg::Format(_) => None,
        })
    }
}

/// The exit-code table, shown in `tok --help` and every man page.
pub const EXIT_CODES_HELP: &str = "\
Exit status:
  0    success
  1    any other failure
  2    usage error, invalid input, or confirmation required but not given (nothing was changed)
  3    not found
  4    not authenticated or not allowed (including a token that does not verify)
  5    conflict / already exists
  6    cannot reach the server (connection, TLS, timeout)
  130  cancelled at a prompt (wrong name typed, Ctrl-C); nothing was changed

With -o json, an error is also printed on stderr as
  {\"error\":{\"code\":\"…\",\"message\":\"…\",\"hint\":\"…\"}}";

/// Runs tok with the process arguments and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    let ctx = Ctx::new(&cli.global);
    match run(&ctx, cli.command) {
        Ok(()) => 0,
        Err(err) if err.kind == ErrorKind::BrokenPipe => 0,
        Err(err) => {
            ctx.out.error(&err);
            err.kind.exit_code()
        }
    }
}

fn run(ctx: &Ctx, command: Command) -> Result<()> {
    let takes_file = matches!(
        &command,
        Command::Jwt(jwt::JwtCommand::CreateSecretKey(_))
            | Command::Instance(instance::InstanceCommand::PublicKey { .. })
    );
    if let Some(path) = ctx.global.output_file()
        && !takes_file
    {
        return Err(Error::usage(format!(
            "invalid --output '{}': use table, json, yaml or csv",
            path.display()
        )));
    }
    match command {
        Command::Tenant(cmd) => tenant::run(ctx, cmd),
        Command::Token(cmd) => token::run(ctx, cmd),
        Command::Role(cmd) => role::run(ctx, cmd),
        Command::ServiceAccount(cmd) => apikey::run_service_account(ctx, cmd),
        Command::Apikey(cmd) => apikey::run_apikey(ctx, cmd),
        Command::Create(args) => token::create(ctx, &args),
        Command::Instance(cmd) => instance::run(ctx, cmd),
        Command::Audit(cmd) => audit::run(ctx, cmd),
        Command::Org(cmd) => org::run(ctx, cmd),
        Command::Jwt(cmd) => jwt::run(ctx, cmd),
        Command::User(cmd) => user::run(ctx, cmd),
        Command::Usage(cmd) => usage::run(ctx, cmd),
        Command::Server(cmd) => server::run(ctx, cmd),
        Command::Login(args) => login::login(ctx, &args),
        Command::Logout => login::logout(ctx),
        Command::Whoami => login::whoami(ctx),
        Command::Profile(cmd) => profile::run(ctx, cmd),
        Command::Completion(args) => completion::run(ctx, &args),
        Command::GenerateDocs(args) => docs::run(ctx, &args),
    }
}

/// clap's own errors: help and version exit 0, usage errors exit 2, printed by clap.
fn clap_exit(err: &clap::Error) -> i32 {
    let code = match err.kind() {
        clap::error::ErrorKind::DisplayHelp
        | clap::error::ErrorKind::DisplayVersion
        | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
        _ => 2,
    };
    if err.print().is_err() {
        return code;
    }
    if code == 2 && wants_json_errors() {
        // clap's own first line names the bad value ("invalid value 'x' for '--action …'");
        // the list of valid values follows it.
        let rendered = err.render().to_string();
        let first = rendered
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid arguments")
            .trim_start_matches("error: ")
            .trim()
            .to_string();
        let valid = rendered
            .lines()
            .find_map(|l| l.trim().strip_prefix("[possible values: "))
            .map(|v| v.trim_end_matches(']').to_string());
        let msg = match valid {
            Some(v) => format!("{first}; valid values: {v}"),
            None => first,
        };
        let out = Output::new(Format::Json, ColorChoice::Never, true);
        out.error_json_only(&Error::usage(msg).with_hint("run `tok --help` for usage"));
    }
    code
}

/// Whether `-o json` / `--output json` / `TOK_OUTPUT=json` was asked for, read from raw argv
/// because clap failed to parse it.
fn wants_json_errors() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let flag = args
        .windows(2)
        .any(|w| (w[0] == "-o" || w[0] == "--output") && w[1] == "json")
        || args.iter().any(|a| a == "--output=json" || a == "-ojson");
    flag || std::env::var("TOK_OUTPUT").is_ok_and(|v| v == "json")
}
