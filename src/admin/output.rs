//! What the admin commands print: the API's JSON for scripts (`--json`), aligned tables and
//! key/value blocks for people, and progress of long operations on standard error.

use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Prints a JSON document, pretty, on standard output.
pub fn print_json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        // A `Value` always serialises; keep the output honest if it ever does not.
        Err(e) => eprintln!("mxspool: cannot print JSON: {e}"),
    }
}

/// A cell for a field of a JSON object: strings as they are, `null` and missing as `-`.
pub fn cell(value: &Value, key: &str) -> String {
    text(value.get(key).unwrap_or(&Value::Null))
}

/// A JSON value as table text.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) if s.is_empty() => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// An RFC 3339 time from the API as `2026-11-28 10:00:00` (UTC, to the second).
pub fn time(value: &Value, key: &str) -> String {
    match value.get(key).and_then(Value::as_str) {
        Some(t) if t.len() >= 19 => {
            let (day, rest) = t.split_at(10);
            format!("{day} {}", &rest[1..9])
        }
        Some(t) => t.to_owned(),
        None => "-".to_owned(),
    }
}

/// `s` cut to `max` characters, with `…` when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Columns separated by two spaces, each as wide as its widest cell.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, header first.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, c) in row.iter().enumerate().take(columns) {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(c);
                if i + 1 < columns {
                    let pad = widths[i].saturating_sub(c.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table, or `empty` when it has no rows.
    pub fn print_or(&self, empty: &str) {
        if self.is_empty() {
            println!("{empty}");
        } else {
            print!("{}", self.render());
        }
    }
}

/// `key: value` lines with the values aligned.
pub fn print_fields(fields: &[(&str, String)]) {
    let width = fields
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in fields {
        println!("{k}:{}{v}", " ".repeat(width - k.chars().count() + 1));
    }
}

/// Progress of a long operation on standard error. On a terminal one line is redrawn in
/// place; otherwise (a log, a pipe) a line is written at each tenth of the work, or after each
/// page when the total is unknown. `--quiet` turns it off.
pub struct Progress {
    label: String,
    enabled: bool,
    tty: bool,
    total: Option<usize>,
    last_draw: Option<Instant>,
    last_tenth: usize,
    drawn: bool,
    /// The latest state on a terminal, when it came too soon after the previous to be drawn.
    pending: Option<String>,
}

impl Progress {
    pub fn new(label: impl Into<String>, total: Option<usize>, quiet: bool) -> Progress {
        Progress {
            label: label.into(),
            enabled: !quiet,
            tty: std::io::stderr().is_terminal(),
            total,
            last_draw: None,
            last_tenth: 0,
            drawn: false,
            pending: None,
        }
    }

    fn line(&self, done: usize, note: &str) -> String {
        let count = match self.total {
            Some(total) => format!("{done}/{total}"),
            None => done.to_string(),
        };
        if note.is_empty() {
            format!("{}: {count}", self.label)
        } else {
            format!("{}: {count} ({note})", self.label)
        }
    }

    /// Reports `done` units of work finished; `note` says something about them (may be empty).
    pub fn update(&mut self, done: usize, note: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let due = self
                .last_draw
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
            let line = self.line(done, note);
            if due || Some(done) == self.total {
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
                self.last_draw = Some(Instant::now());
                self.drawn = true;
                self.pending = None;
            } else {
                self.pending = Some(line);
            }
            return;
        }
        match self.total {
            Some(total) if total > 0 => {
                let tenth = done * 10 / total;
                if tenth > self.last_tenth {
                    self.last_tenth = tenth;
                    let _ = writeln!(err, "{}", self.line(done, note));
                }
            }
            _ => {
                let _ = writeln!(err, "{}", self.line(done, note));
            }
        }
    }

    /// Reports a state in words: redrawn on a terminal, a line each call otherwise.
    pub fn status(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let line = format!("{}: {text}", self.label);
        if self.tty {
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
            self.drawn = true;
        } else {
            eprintln!("{line}");
        }
    }

    /// Ends the redrawn line on a terminal, showing the last state if it was not drawn yet.
    pub fn finish(&mut self) {
        if let Some(line) = self.pending.take() {
            if self.enabled && self.tty {
                eprint!("\r\x1b[2K{line}");
                self.drawn = true;
            }
        }
        if self.enabled && self.tty && self.drawn {
            eprintln!();
        }
        self.drawn = false;
    }

    /// Prints a message on standard error on its own line, without garbling a redrawn
    /// progress line.
    pub fn message(&mut self, text: &str) {
        self.clear();
        eprintln!("{text}");
    }

    /// Like [`message`](Self::message), on standard output.
    pub fn say(&mut self, text: &str) {
        self.clear();
        println!("{text}");
    }

    fn clear(&mut self) {
        if self.enabled && self.tty && self.drawn {
            eprint!("\r\x1b[2K");
        }
        self.last_draw = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_columns_and_do_not_pad_the_last() {
        let mut t = Table::new(&["ID", "NAME", "TARGET"]);
        t.row(vec!["7".into(), "a.example".into(), "mx.a.example".into()]);
        t.row(vec!["1234".into(), "bb.example".into(), "-".into()]);
        assert_eq!(
            t.render(),
            "ID    NAME        TARGET\n7     a.example   mx.a.example\n1234  bb.example  -\n"
        );
    }

    #[test]
    fn cells_show_missing_and_empty_values_as_a_dash() {
        let v = json!({"a": null, "b": "", "c": [1, 2], "d": true, "e": 25, "f": []});
        assert_eq!(cell(&v, "a"), "-");
        assert_eq!(cell(&v, "b"), "-");
        assert_eq!(cell(&v, "c"), "1,2");
        assert_eq!(cell(&v, "d"), "yes");
        assert_eq!(cell(&v, "e"), "25");
        assert_eq!(cell(&v, "f"), "-");
        assert_eq!(cell(&v, "missing"), "-");
    }

    #[test]
    fn times_are_shown_to_the_second() {
        let v = json!({"t": "2026-11-28T10:00:00.123456Z"});
        assert_eq!(time(&v, "t"), "2026-11-28 10:00:00");
        assert_eq!(time(&v, "none"), "-");
    }

    #[test]
    fn long_text_is_cut_on_one_line() {
        assert_eq!(
            truncate("451 4.3.0\r\n try later", 40),
            "451 4.3.0 try later"
        );
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
