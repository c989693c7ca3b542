//! ANSI styles for the few things that stand out: errors, warnings, expiry.

/// A named look; `paint` applies it only when colour is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Error,
    Warn,
    Hint,
    Bold,
    Dim,
    Good,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Error => "1;31",
            Style::Warn => "33",
            Style::Hint => "36",
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Good => "32",
        }
    }

    pub fn paint(self, text: &str, color: bool) -> String {
        if color {
            format!("\x1b[{}m{text}\x1b[0m", self.code())
        } else {
            text.to_string()
        }
    }
}
