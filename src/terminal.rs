//! Writing for a terminal: columns that count a CJK character as two, and colour only
//! where someone sees it. Piped or redirected output, `TERM=dumb` and `NO_COLOR` get
//! plain text (https://no-color.org); `CLICOLOR_FORCE` asks for colour anyway.

use std::io::IsTerminal;

/// `text` padded with spaces to `width` terminal columns; CJK characters take two.
pub fn pad(text: &str, width: usize) -> String {
    let columns: usize = text
        .chars()
        .map(|c| if u32::from(c) >= 0x2E80 { 2 } else { 1 })
        .sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(columns)))
}

/// Whether to colour, from the facts that decide it.
fn wants_colour(
    is_terminal: bool,
    no_color: Option<&str>,
    term: Option<&str>,
    force: Option<&str>,
) -> bool {
    let set = |v: Option<&str>| v.is_some_and(|v| !v.is_empty() && v != "0");
    if no_color.is_some_and(|v| !v.is_empty()) {
        return false;
    }
    set(force) || (is_terminal && term != Some("dumb"))
}

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    on: bool,
}

impl Paint {
    /// Colour when standard output is a terminal that shows it.
    pub fn for_stdout() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        Self {
            on: wants_colour(
                std::io::stdout().is_terminal(),
                var("NO_COLOR").as_deref(),
                var("TERM").as_deref(),
                var("CLICOLOR_FORCE").as_deref(),
            ),
        }
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// Critical in bold red, warning in yellow, anything else as it is.
    pub fn severity(self, severity: &str, text: &str) -> String {
        match severity {
            "critical" => self.wrap("1;31", text),
            "warning" => self.wrap("33", text),
            _ => text.to_owned(),
        }
    }

    /// A 0–100 score: red below 50, yellow below 75, green from 75.
    pub fn score(self, score: u8, text: &str) -> String {
        let code = match score {
            0..50 => "31",
            50..75 => "33",
            _ => "32",
        };
        self.wrap(code, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_where_it_is_seen() {
        assert!(wants_colour(true, None, Some("xterm-256color"), None));
        assert!(!wants_colour(false, None, Some("xterm"), None), "piped");
        assert!(!wants_colour(true, None, Some("dumb"), None));
        assert!(!wants_colour(true, Some("1"), Some("xterm"), None));
        assert!(
            wants_colour(true, Some(""), Some("xterm"), None),
            "empty NO_COLOR"
        );
        assert!(wants_colour(false, None, None, Some("1")), "forced");
        assert!(!wants_colour(false, None, None, Some("0")));
        assert!(
            !wants_colour(true, Some("1"), None, Some("1")),
            "NO_COLOR wins"
        );
    }

    #[test]
    fn painting_wraps_only_when_on() {
        let (on, off) = (Paint { on: true }, Paint { on: false });
        assert_eq!(on.severity("critical", "x"), "\x1b[1;31mx\x1b[0m");
        assert_eq!(on.severity("info", "x"), "x");
        assert_eq!(on.score(49, "49"), "\x1b[31m49\x1b[0m");
        assert_eq!(on.score(75, "75"), "\x1b[32m75\x1b[0m");
        assert_eq!(off.score(10, "10"), "10");
        assert_eq!(off.bold("b"), "b");
    }

    #[test]
    fn cjk_takes_two_columns() {
        assert_eq!(pad("CPU", 6), "CPU   ");
        assert_eq!(pad("内存", 6), "内存  ");
        assert_eq!(pad("toolong", 3), "toolong");
    }
}
