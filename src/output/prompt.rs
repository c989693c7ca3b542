//! The confirm-by-name prompt that guards every delete, revoke and cascade.

use std::io::IsTerminal;

use crate::error::{Error, Result};

/// What the person said on the command line about confirmation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Confirm {
    /// `-y/--yes`: skip the prompt.
    pub yes: bool,
    /// `--no-input` / `TOK_NO_INPUT`: never prompt.
    pub no_input: bool,
}

/// Asks the person to type `expected` to go ahead with `action` (e.g. "delete profile 'ci'").
///
/// `--yes` skips the prompt. Without a terminal on stdin, or with `--no-input`, this fails
/// with exit 2 and the hint `pass --yes to confirm`. A wrong answer cancels (exit 130).
pub fn confirm_by_name(
    confirm: Confirm,
    question: &str,
    expected: &str,
    action: &str,
) -> Result<()> {
    if confirm.yes {
        return Ok(());
    }
    let no_terminal = !std::io::stdin().is_terminal();
    if confirm.no_input || no_terminal {
        let why = if confirm.no_input {
            "--no-input is set"
        } else {
            "stdin is not a terminal"
        };
        return Err(Error::usage(format!(
            "confirmation required to {action} ({why}); nothing was changed"
        ))
        .with_code("confirmation_required")
        .with_hint("pass --yes to confirm"));
    }
    let answer: String = dialoguer::Input::new()
        .with_prompt(question)
        .allow_empty(true)
        .interact_text()
        .map_err(|e| Error::cancelled(format!("cancelled ({e}); nothing was changed")))?;
    if answer.trim() == expected {
        Ok(())
    } else {
        Err(Error::cancelled(format!(
            "cancelled: the name typed does not match '{expected}'; nothing was changed"
        )))
    }
}
