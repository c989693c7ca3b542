//! `tok completion SHELL`: a completion script on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Ctx};
use crate::error::Result;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  tok completion bash > ~/.local/share/bash-completion/completions/tok
  tok completion zsh > \"${fpath[1]}/_tok\"
  tok completion fish > ~/.config/fish/completions/tok.fish")]
pub struct CompletionArgs {
    /// bash, zsh, fish, powershell or elvish
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(ctx: &Ctx, args: &CompletionArgs) -> Result<()> {
    ctx.out.bytes(&script(args.shell))
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tok", &mut buf);
    buf
}
