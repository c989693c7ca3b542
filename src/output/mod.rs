//! Owns stdout and stderr: data in the chosen format on stdout; warnings, hints,
//! progress and errors on stderr. Nothing else in the crate prints.

mod prompt;
mod style;
mod table;

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::error::{Error, Result};

pub use prompt::{Confirm, confirm_by_any, confirm_by_name, read_line, read_secret};
pub use style::Style;
pub use table::{Render, detail_table, grid, kv_table, list_table};

/// `-o/--output`: how data on stdout is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Aligned columns for people, relative times; not a parsing format.
    Table,
    /// One object for one resource, an array for a list.
    Json,
    /// The same document as JSON, in YAML.
    Yaml,
    /// A header row, then one row per resource.
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Csv => "csv",
        }
    }
}

/// `--color`: when to colour what a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour on a terminal unless `NO_COLOR` is set.
    #[default]
    Auto,
    Always,
    Never,
}

/// Where output goes and how it looks; built once in `main`.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    pub quiet: bool,
    /// Colours on stdout.
    pub color: bool,
    /// Colours on stderr.
    pub color_err: bool,
    /// Whether stdout is a terminal (tables and charts for people).
    pub stdout_tty: bool,
    /// Whether stderr is a terminal (progress lines redrawn in place).
    pub stderr_tty: bool,
    /// `-v` count: 1 says which files and stores a command uses.
    pub verbose: u8,
}

impl Output {
    pub fn new(format: Format, color: ColorChoice, quiet: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let decide = |tty: bool| match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color && !dumb,
        };
        Output {
            format,
            quiet,
            color: decide(stdout_tty),
            color_err: decide(stderr_tty),
            stdout_tty,
            stderr_tty,
            verbose: 0,
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Writes `text` and a newline to stdout.
    pub fn line(&self, text: &str) -> Result<()> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}")
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("writing to stdout", &e))
    }

    /// Writes raw bytes to stdout (used for key material the user asked for).
    pub fn bytes(&self, data: &[u8]) -> Result<()> {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(data)
            .and_then(|()| stdout.flush())
            .map_err(|e| Error::io("writing to stdout", &e))
    }

    /// Prints one resource in the chosen format.
    pub fn item<T: Render>(&self, item: &T) -> Result<()> {
        match self.format {
            Format::Table => self.line(item.table(self).trim_end()),
            Format::Csv => self.csv(std::slice::from_ref(item)),
            Format::Json => self.json(item),
            Format::Yaml => self.yaml(item),
        }
    }

    /// Prints a list of resources in the chosen format (`[]` in JSON when empty).
    pub fn list<T: Render>(&self, items: &[T]) -> Result<()> {
        match self.format {
            Format::Table if items.is_empty() => {
                self.info("no results");
                Ok(())
            }
            Format::Table => self.line(list_table(items, self).trim_end()),
            Format::Csv => self.csv(items),
            Format::Json => self.json(&items),
            Format::Yaml => self.yaml(&items),
        }
    }

    /// Prints any serialisable document as JSON (pretty on a terminal, compact when piped).
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let text = if self.stdout_tty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        }
        .map_err(|e| Error::other(format!("cannot encode JSON: {e}")))?;
        self.line(&text)
    }

    fn yaml<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let text = serde_yaml_ng::to_string(value)
            .map_err(|e| Error::other(format!("cannot encode YAML: {e}")))?;
        self.line(text.trim_end())
    }

    fn csv<T: Render>(&self, items: &[T]) -> Result<()> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let encode = |e: csv::Error| Error::other(format!("cannot encode CSV: {e}"));
        writer.write_record(T::columns()).map_err(encode)?;
        for item in items {
            writer.write_record(item.csv_row()).map_err(encode)?;
        }
        let data = writer
            .into_inner()
            .map_err(|e| Error::other(format!("cannot encode CSV: {e}")))?;
        self.bytes(&data)
    }

    /// A line for a person on stderr (progress, confirmations); silenced by `--quiet`.
    pub fn info(&self, msg: &str) {
        if !self.quiet {
            eprint_line(msg);
        }
    }

    /// A progress line on stderr: redrawn in place on a terminal, else one line each time;
    /// silenced by `--quiet`. End a run of them with [`Self::progress_done`].
    pub fn progress(&self, msg: &str) {
        if self.quiet {
            return;
        }
        if self.stderr_tty {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K{msg}").and_then(|()| stderr.flush());
        } else {
            eprint_line(msg);
        }
    }

    /// Ends a progress line drawn in place, so that what follows starts on a line of its own.
    pub fn progress_done(&self) {
        if !self.quiet && self.stderr_tty {
            eprint_line("");
        }
    }

    /// The width of the terminal on stdout (80 when it is not one or cannot say).
    pub fn width(&self) -> usize {
        terminal_size::terminal_size_of(std::io::stdout())
            .map(|(w, _)| usize::from(w.0))
            .filter(|w| *w >= 20)
            .unwrap_or(80)
    }

    /// `debug: …` on stderr, only with `-v`.
    pub fn debug(&self, msg: &str) {
        if self.verbose > 0 {
            let label = Style::Dim.paint("debug:", self.color_err);
            eprint_line(&format!("{label} {msg}"));
        }
    }

    /// `warning: …` on stderr; shown even with `--quiet`.
    pub fn warn(&self, msg: &str) {
        let label = Style::Warn.paint("warning:", self.color_err);
        eprint_line(&format!("{label} {msg}"));
    }

    /// `hint: …` on stderr; silenced by `--quiet`.
    pub fn hint(&self, msg: &str) {
        if !self.quiet {
            let label = Style::Hint.paint("hint:", self.color_err);
            eprint_line(&format!("{label} {msg}"));
        }
    }

    /// Reports an error on stderr: `error: …` and `hint: …`, plus the JSON object with `-o json`.
    pub fn error(&self, err: &Error) {
        let label = Style::Error.paint("error:", self.color_err);
        eprint_line(&format!("{label} {}", err.message));
        if let Some(hint) = &err.hint {
            let label = Style::Hint.paint("hint:", self.color_err);
            eprint_line(&format!("{label} {hint}"));
        }
        if self.is_json() {
            self.error_json_only(err);
        }
    }

    /// The JSON error object alone, on stderr: `{"error":{"code","message","hint"}}`.
    pub fn error_json_only(&self, err: &Error) {
        let body = serde_json::json!({
            "error": { "code": err.code, "message": err.message, "hint": err.hint }
        });
        eprint_line(&body.to_string());
    }
}

/// Writes one line to stderr; a closed stderr is not worth failing for.
fn eprint_line(msg: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{msg}");
}
