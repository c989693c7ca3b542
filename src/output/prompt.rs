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
    confirm_by_any(confirm, question, &[expected], action)
}

/// [`confirm_by_name`] where any of `accepted` (a name, or an id) confirms.
pub fn confirm_by_any(
    confirm: Confirm,
    question: &str,
    accepted: &[&str],
    action: &str,
) -> Result<()> {
    let expected = accepted.first().copied().unwrap_or_default();
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
    if accepted
        .iter()
        .any(|a| !a.is_empty() && answer.trim() == *a)
    {
        Ok(())
    } else {
        Err(Error::cancelled(format!(
            "cancelled: the name typed does not match '{expected}'; nothing was changed"
        )))
    }
}

/// Reads a secret (a password or token): all of stdin when `from_stdin` (one trailing
/// newline dropped), else a hidden prompt — typed twice when `confirm` is set. Without a
/// terminal, or with `--no-input`, that is a usage error naming `stdin_flag`.
pub fn read_secret(
    what: &str,
    from_stdin: bool,
    no_input: bool,
    confirm: bool,
    stdin_flag: &str,
) -> Result<String> {
    let secret = if from_stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::usage(format!("cannot read the {what} from stdin: {e}")))?;
        let trimmed = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        trimmed.to_string()
    } else {
        if no_input || !std::io::stdin().is_terminal() {
            return Err(Error::usage(format!(
                "no terminal to ask for the {what} (and it is never taken from the command line)"
            ))
            .with_code("input_required")
            .with_hint(format!("pipe it in with {stdin_flag}")));
        }
        let mut prompt = dialoguer::Password::new().with_prompt(capitalise(what));
        if confirm {
            prompt = prompt.with_confirmation(
                format!("Repeat the {what}"),
                format!("the two {what}s differ"),
            );
        }
        prompt
            .interact()
            .map_err(|e| Error::cancelled(format!("cancelled ({e}); nothing was changed")))?
    };
    if secret.is_empty() {
        return Err(Error::usage(format!("the {what} is empty")));
    }
    Ok(secret)
}

/// Asks for a line of text (a username), or fails like [`read_secret`] without a terminal.
pub fn read_line(what: &str, no_input: bool, flag: &str) -> Result<String> {
    if no_input || !std::io::stdin().is_terminal() {
        return Err(Error::usage(format!("no terminal to ask for the {what}"))
            .with_code("input_required")
            .with_hint(format!("pass {flag}")));
    }
    dialoguer::Input::<String>::new()
        .with_prompt(capitalise(what))
        .interact_text()
        .map_err(|e| Error::cancelled(format!("cancelled ({e}); nothing was changed")))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
