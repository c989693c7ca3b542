//! Man pages (one per command) and completion scripts, generated from the clap tree.
//! `tok generate-docs --out-dir .` writes `man/` and `completions/`; a test fails
//! when the committed copies are stale.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Ctx, EXIT_CODES_HELP};
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct GenerateDocsArgs {
    /// Directory that receives man/ and completions/
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
}

pub fn run(ctx: &Ctx, args: &GenerateDocsArgs) -> Result<()> {
    let files = render_all();
    for (rel, bytes) in &files {
        let path = args.out_dir.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::other(format!("cannot create {}: {e}", dir.display())))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))?;
    }
    ctx.out.info(&format!(
        "wrote {} files under {}",
        files.len(),
        args.out_dir.display()
    ));
    Ok(())
}

/// Every generated file: (path relative to the repository root, contents).
pub fn render_all() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for (shell, name) in [
        (Shell::Bash, "tok.bash"),
        (Shell::Zsh, "_tok"),
        (Shell::Fish, "tok.fish"),
        (Shell::PowerShell, "_tok.ps1"),
        (Shell::Elvish, "tok.elv"),
    ] {
        files.push((
            Path::new("completions").join(name),
            super::completion::script(shell),
        ));
    }
    let mut root = Cli::command();
    root.build();
    man_pages(&root, "tok", &mut files);
    files.push((
        PathBuf::from("openapi.json"),
        crate::server::openapi_json().into_bytes(),
    ));
    files
}

/// One page per command, named after its path: tok.1, tok-jwt.1, tok-jwt-create.1, …
fn man_pages(cmd: &clap::Command, name: &str, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    if cmd.is_hide_set() {
        return;
    }
    let page_cmd = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    let man = clap_mangen::Man::new(page_cmd);
    // Rendering into a Vec cannot fail.
    if man.render(&mut buf).is_ok() {
        append_exit_status(&mut buf, name != "tok");
        files.push((Path::new("man").join(format!("{name}.1")), buf));
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        man_pages(sub, &format!("{name}-{}", sub.get_name()), files);
    }
}

/// Every page documents the exit codes (the root page already has them in its help text).
fn append_exit_status(buf: &mut Vec<u8>, wanted: bool) {
    if !wanted {
        return;
    }
    buf.extend_from_slice(b".SH \"EXIT STATUS\"\n.nf\n");
    for line in EXIT_CODES_HELP.lines().skip(1) {
        buf.extend_from_slice(roff_escape(line).as_bytes());
        buf.push(b'\n');
    }
    buf.extend_from_slice(b".fi\n");
}

fn roff_escape(line: &str) -> String {
    let escaped = line.replace('\\', "\\\\");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
