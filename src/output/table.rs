//! How a resource shows itself: its columns and cells for tables and CSV, its
//! serde shape for JSON and YAML.

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use super::{Output, Style};

/// A resource that can be printed in every output format.
pub trait Render: Serialize {
    /// Column names for tables and the CSV header (lowercase, snake_case).
    fn columns() -> &'static [&'static str];

    /// Display cells for a table, in `columns()` order (relative times welcome).
    fn cells(&self) -> Vec<String>;

    /// Plain machine cells for CSV, in `columns()` order; defaults to the table cells.
    fn csv_row(&self) -> Vec<String> {
        self.cells()
    }

    /// A style for the whole table row (expired rows, say); colour only on a terminal.
    fn highlight(&self) -> Option<Style> {
        None
    }

    /// Rows the key/value view shows after the columns (details a list leaves out).
    fn extra_pairs(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The table view of one resource: [`detail_table`] by default.
    fn table(&self, _out: &Output) -> String {
        detail_table(self)
    }
}

/// One resource as key/value rows: each column and its cell, then its `extra_pairs()`.
pub fn detail_table<T: Render + ?Sized>(item: &T) -> String {
    let mut pairs: Vec<(String, String)> = T::columns()
        .iter()
        .map(|c| c.replace('_', " "))
        .zip(item.cells())
        .collect();
    pairs.extend(item.extra_pairs());
    kv_table(&pairs)
}

/// A borderless, aligned table with an upper-case header row.
pub fn list_table<T: Render>(items: &[T], out: &Output) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(
            T::columns()
                .iter()
                .map(|c| c.replace('_', " ").to_uppercase()),
        );
    for item in items {
        table.add_row(item.cells());
    }
    let rendered = trim_lines(&table.to_string());
    let mut lines = rendered.lines();
    let mut text = String::new();
    if let Some(header) = lines.next() {
        text.push_str(&Style::Bold.paint(header, out.color));
    }
    for (line, item) in lines.zip(items) {
        text.push('\n');
        match item.highlight() {
            Some(style) => text.push_str(&style.paint(line, out.color)),
            None => text.push_str(line),
        }
    }
    text
}

/// Two aligned columns: a key and its value.
pub fn kv_table(pairs: &[(String, String)]) -> String {
    let rows: Vec<Vec<String>> = pairs
        .iter()
        .map(|(k, v)| vec![format!("{k}:"), v.clone()])
        .collect();
    grid(&rows)
}

/// Aligned columns without a header or borders.
pub fn grid(rows: &[Vec<String>]) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    for row in rows {
        table.add_row(row.clone());
    }
    trim_lines(&table.to_string())
}

/// comfy-table pads every cell; drop the leading space and trailing blanks of each line.
fn trim_lines(text: &str) -> String {
    text.lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}
