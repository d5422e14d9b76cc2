//! Scheduling unattended re-checks: the cron line, the systemd timer and service, and
//! the Windows `schtasks` command that run `perfdiag case recheck DIR --log` every
//! so often. perfdiag prints them; with `--install` it adds the cron line to the
//! current user's crontab (the one change it makes on a server, and only when asked).
//!
//! The re-check itself takes the case's lock (two runs never overlap), appends what
//! it did to `logs/recheck.log`, and records a failure in the case without changing
//! anything else.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// How often: every so many hours or days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Hours(u32),
    Days(u32),
}

/// Parses `7d`, `1d`, `12h`, `1w`.
pub fn parse_every(text: &str) -> Result<Every, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u32 = number
        .parse()
        .map_err(|_| format!("`{text}` is not an interval: try 7d, 1d or 12h"))?;
    let every = match unit {
        "h" => Every::Hours(n),
        "d" => Every::Days(n),
        "w" => Every::Days(n.saturating_mul(7)),
        _ => {
            return Err(format!(
                "unknown unit in `{text}`: use h (hours), d (days) or w (weeks)"
            ));
        }
    };
    match every {
        Every::Hours(1..=23) | Every::Days(1..=31) => Ok(every),
        Every::Hours(24) => Ok(Every::Days(1)),
        _ => Err(format!(
            "`{text}` is out of range: from 1h to 23h, or from 1d to 31d"
        )),
    }
}

/// Parses `03:17`.
pub fn parse_time_of_day(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}` is not a time of day: try 03:17");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok((h, m))
}

/// Everything the scheduled commands need.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub every: Every,
    /// Hour and minute of the run (the minute only, for hourly runs).
    pub at: (u32, u32),
    /// The perfdiag binary, absolute.
    pub exe: String,
    /// The case folder, absolute.
    pub dir: String,
}

impl Schedule {
    /// `perfdiag-recheck-<folder name>`: a name for the timer and the task.
    pub fn name(&self) -> String {
        let base = Path::new(&self.dir)
            .file_name()
            .map_or_else(|| "case".into(), |n| n.to_string_lossy().into_owned());
        let slug: String = base
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("perfdiag-recheck-{}", slug.trim_matches('-'))
    }

    fn args(&self) -> [&str; 5] {
        [&self.exe, "case", "recheck", &self.dir, "--log"]
    }

    /// The command for a POSIX shell (cron).
    pub fn shell_command(&self) -> String {
        self.args()
            .iter()
            .map(|a| sh_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn cron_line(&self) -> String {
        let (h, m) = self.at;
        let when = match self.every {
            Every::Hours(n) => format!("{m} */{n} * * *"),
            Every::Days(1) => format!("{m} {h} * * *"),
            Every::Days(7) => format!("{m} {h} * * 1"),
            Every::Days(n) => format!("{m} {h} */{n} * *"),
        };
        format!("{when} {}", self.shell_command())
    }

    /// The marker line above the cron line, to find it again.
    pub fn cron_marker(&self) -> String {
        format!("# perfdiag: unattended re-checks of the case {}", self.dir)
    }

    pub fn systemd_service(&self) -> String {
        let exec: Vec<String> = self.args().iter().map(|a| systemd_quote(a)).collect();
        format!(
            "[Unit]\n\
             Description=perfdiag re-check of the case {dir}\n\
             Wants=network-online.target\n\
             After=network-online.target\n\n\
             [Service]\n\
             Type=oneshot\n\
             # The database passwords: ~/.pgpass of the user below, or an EnvironmentFile\n\
             # (mode 600) holding PGPASSWORD= / MYSQL_PWD=. Never in this unit.\n\
             # User=perfdiag\n\
             # EnvironmentFile=/etc/perfdiag/{name}.env\n\
             ExecStart={exec}\n",
            dir = self.dir,
            name = self.name(),
            exec = exec.join(" ")
        )
    }

    pub fn systemd_timer(&self) -> String {
        let (h, m) = self.at;
        let calendar = match self.every {
            Every::Hours(n) => format!("*-*-* 00/{n}:{m:02}:00"),
            Every::Days(1) => format!("*-*-* {h:02}:{m:02}:00"),
            Every::Days(7) => format!("Mon *-*-* {h:02}:{m:02}:00"),
            Every::Days(n) => format!("*-*-01/{n} {h:02}:{m:02}:00"),
        };
        format!(
            "[Unit]\n\
             Description=Unattended perfdiag re-checks of the case {dir}\n\n\
             [Timer]\n\
             OnCalendar={calendar}\n\
             # A run missed while the machine was off runs at the next boot.\n\
             Persistent=true\n\n\
             [Install]\n\
             WantedBy=timers.target\n",
            dir = self.dir
        )
    }

    /// The Windows Task Scheduler command (run in an administrator prompt).
    pub fn schtasks(&self) -> String {
        let (h, m) = self.at;
        let (kind, n) = match self.every {
            Every::Hours(n) => ("HOURLY", n),
            Every::Days(n) => ("DAILY", n),
        };
        let run = format!(
            "\\\"{}\\\" case recheck \\\"{}\\\" --log",
            self.exe, self.dir
        );
        format!(
            "schtasks /Create /TN \"{}\" /SC {kind} /MO {n} /ST {h:02}:{m:02} /RU SYSTEM /TR \"{run}\"",
            self.name()
        )
    }

    /// All three, with how to install them, as `case schedule` prints them.
    pub fn instructions(&self) -> String {
        let name = self.name();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# cron (Linux, Unix): `crontab -e` and add these two lines,"
        );
        let _ = writeln!(s, "# or run `perfdiag case schedule … --install`:");
        let _ = writeln!(s, "{}", self.cron_marker());
        let _ = writeln!(s, "{}\n", self.cron_line());
        let _ = writeln!(
            s,
            "# systemd (Linux): save as /etc/systemd/system/{name}.service …"
        );
        s.push_str(&self.systemd_service());
        let _ = writeln!(
            s,
            "\n# … and /etc/systemd/system/{name}.timer, then `systemctl daemon-reload && systemctl enable --now {name}.timer`:"
        );
        s.push_str(&self.systemd_timer());
        let _ = writeln!(
            s,
            "\n# Windows Task Scheduler (paths as on this machine: run `perfdiag case schedule` on the Windows server itself):"
        );
        let _ = writeln!(s, "{}", self.schtasks());
        let _ = writeln!(
            s,
            "\n# Each run takes the case's lock (runs never overlap), appends to {}/logs/recheck.log,",
            self.dir
        );
        let _ = writeln!(
            s,
            "# and records a failed run in the case without changing anything else."
        );
        s
    }
}

/// The crontab `existing` with the entry for this case replaced by `marker` + `line`.
pub fn merge_crontab(existing: &str, marker: &str, line: &str) -> String {
    let mut out = String::new();
    let mut skip_next = false;
    for l in existing.lines() {
        if skip_next {
            skip_next = false;
            continue;
        }
        if l == marker {
            skip_next = true;
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    let _ = writeln!(out, "{marker}\n{line}");
    out
}

/// Installs the cron line for the current user with `crontab`.
pub fn install_cron(schedule: &Schedule) -> Result<()> {
    let listed = Command::new("crontab")
        .arg("-l")
        .stderr(Stdio::null())
        .output()
        .context("cannot run crontab: is cron installed? (or use the systemd timer)")?;
    // `crontab -l` fails when the user has no crontab yet: start from nothing.
    let existing = if listed.status.success() {
        String::from_utf8_lossy(&listed.stdout).into_owned()
    } else {
        String::new()
    };
    let merged = merge_crontab(&existing, &schedule.cron_marker(), &schedule.cron_line());
    let mut child = Command::new("crontab")
        .arg("-")
        .stdin(Stdio::piped())
        .spawn()
        .context("cannot run crontab")?;
    child
        .stdin
        .take()
        .context("crontab's input")?
        .write_all(merged.as_bytes())?;
    let status = child.wait()?;
    if !status.success() {
        bail!("crontab refused the new table ({status}); nothing was changed");
    }
    Ok(())
}

fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn systemd_quote(s: &str) -> String {
    if s.chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\\' || c == '\'')
    {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(every: &str) -> Schedule {
        Schedule {
            every: parse_every(every).unwrap(),
            at: (3, 17),
            exe: "/usr/local/bin/perfdiag".into(),
            dir: "/srv/cases/acme erp".into(),
        }
    }

    #[test]
    fn intervals_parse_and_map_to_each_scheduler() {
        assert_eq!(parse_every("7d"), Ok(Every::Days(7)));
        assert_eq!(parse_every("2w"), Ok(Every::Days(14)));
        assert_eq!(parse_every("24h"), Ok(Every::Days(1)));
        assert!(parse_every("0d").is_err() && parse_every("40d").is_err());
        assert!(parse_every("7 days").is_err() && parse_every("d").is_err());
        assert_eq!(parse_time_of_day("03:17"), Ok((3, 17)));
        assert!(parse_time_of_day("25:00").is_err());

        let weekly = schedule("7d");
        assert_eq!(
            weekly.cron_line(),
            "17 3 * * 1 /usr/local/bin/perfdiag case recheck '/srv/cases/acme erp' --log"
        );
        assert!(
            weekly
                .systemd_timer()
                .contains("OnCalendar=Mon *-*-* 03:17:00")
        );
        assert!(weekly.systemd_service().contains(
            "ExecStart=/usr/local/bin/perfdiag case recheck \"/srv/cases/acme erp\" --log"
        ));
        assert_eq!(weekly.name(), "perfdiag-recheck-acme-erp");
        assert!(
            weekly.schtasks().contains("/SC DAILY /MO 7 /ST 03:17"),
            "{}",
            weekly.schtasks()
        );
        assert_eq!(schedule("1d").cron_line()[..10].trim(), "17 3 * * *");
        assert!(schedule("3d").cron_line().starts_with("17 3 */3 * * "));
        assert!(schedule("6h").cron_line().starts_with("17 */6 * * * "));
        assert!(
            schedule("6h")
                .systemd_timer()
                .contains("OnCalendar=*-*-* 00/6:17:00")
        );
        assert!(schedule("6h").schtasks().contains("/SC HOURLY /MO 6"));
    }

    #[test]
    fn installing_twice_replaces_the_entry() {
        let s = schedule("7d");
        let once = merge_crontab(
            "MAILTO=ops\n0 1 * * * backup\n",
            &s.cron_marker(),
            &s.cron_line(),
        );
        let twice = merge_crontab(&once, &s.cron_marker(), &schedule("1d").cron_line());
        assert_eq!(twice.matches("perfdiag: unattended").count(), 1, "{twice}");
        assert!(
            twice.starts_with("MAILTO=ops\n0 1 * * * backup\n"),
            "{twice}"
        );
        assert!(
            twice.contains("17 3 * * * /usr/local/bin/perfdiag"),
            "{twice}"
        );
        assert!(!twice.contains("* * 1 "), "{twice}");
    }
}
