//! Open-files limit of database services: a systemd drop-in `LimitNOFILE=`, per service
//! guessed from the process name.
//!
//! The limit is what the server's own settings want when the finding says
//! (`os.expected.LimitNOFILE`: a MySQL/MariaDB server's open files for its connections
//! and table cache, docs/tuning.md), and never less than [`NOFILE`].

use std::fmt::Write as _;

use perfdiag_model::{Finding, Phase, Risk};

use super::{Context, Draft, StepDef, number, sh, verify};

/// The least limit the step sets: the usual recommendation for PostgreSQL and MySQL
/// hosts, and the rule's warning threshold.
const NOFILE: f64 = 65536.0;

/// The systemd unit a database process usually runs under, from its executable name.
/// A guess: the script says how to confirm it.
pub(crate) fn guess_unit(process: &str) -> String {
    match process {
        "postgres" | "postmaster" => "postgresql.service".to_owned(),
        "mysqld" => "mysql.service".to_owned(),
        "mariadbd" => "mariadb.service".to_owned(),
        "sqlservr" => "mssql-server.service".to_owned(),
        "mongod" => "mongod.service".to_owned(),
        "oracle" | "tnslsnr" => "oracle.service".to_owned(),
        other => format!("{other}.service"),
    }
}

pub(super) const NOFILE_LIMIT: StepDef = StepDef {
    id: "os.limits.nofile",
    rule_id: "os.limits.nofile",
    phase: Phase::Configuration,
    build: nofile,
};

fn nofile(_: &Context, findings: &[&Finding]) -> Draft {
    let mut script = String::new();
    let mut rollback = String::new();
    let mut least = f64::INFINITY;
    for f in findings {
        // What this server's settings want (a floor), at least the usual limit.
        let limit = number(f, "os.expected.LimitNOFILE").map_or(NOFILE, |e| e.ceil().max(NOFILE));
        least = least.min(limit);
        let process = f.subject.as_deref().unwrap_or("database");
        let unit = guess_unit(process);
        let dir = format!("/etc/systemd/system/{unit}.d");
        let pid =
            number(f, "process.pid").map_or_else(|| "<pid>".to_owned(), |p| format!("{p:.0}"));
        let before = number(f, "process.nofile_soft")
            .map_or_else(|| "unknown".to_owned(), |v| format!("{v:.0}"));
        let _ = write!(
            script,
            "# {process}: unit guessed from the process name; confirm with: ps -o unit= -p {pid}\n\
             mkdir -p {dir}\n\
             cat > {dir}/60-perfdiag-nofile.conf <<'EOF'\n[Service]\nLimitNOFILE={limit:.0}\nEOF\n\
             systemctl daemon-reload\n\
             # Takes effect at the next restart, in a maintenance window:\n\
             #   systemctl restart {unit}\n"
        );
        let _ = write!(
            rollback,
            "# {process}: soft open-files limit before the change: {before}\n\
             rm -f {dir}/60-perfdiag-nofile.conf\n\
             systemctl daemon-reload\n\
             # then, in a maintenance window: systemctl restart {unit}\n"
        );
    }
    Draft {
        script: sh(script),
        rollback: sh(rollback),
        risk: Risk::Low,
        needs_restart: true,
        verify: verify(
            "process.nofile_soft",
            &format!(">= {:.0}", if least.is_finite() { least } else { NOFILE }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use perfdiag_model::{Evidence, Severity, Unit, Value};

    use super::*;
    use crate::test_support::{finding, number as ev};

    #[test]
    fn the_limit_covers_what_the_servers_settings_want() {
        // mysqld with max_connections = 20000: 5 x 20000 open files.
        let mysqld = finding(
            "os.limits.nofile",
            Severity::Warning,
            Some("mysqld"),
            vec![
                ev("process.nofile_soft", 65536.0, Some("< 100000")),
                ev("process.pid", 900.0, None),
                Evidence {
                    metric: "os.expected.LimitNOFILE".to_owned(),
                    observed: Value::number(100_000.0, Unit::None),
                    threshold: None,
                },
            ],
        );
        let postgres = finding(
            "os.limits.nofile",
            Severity::Critical,
            Some("postgres"),
            vec![ev("process.nofile_soft", 1024.0, Some("< 4096"))],
        );
        let d = nofile(&Context::default(), &[&mysqld, &postgres]);
        let body = &d.script.body;
        assert!(
            body.contains(
                "mysql.service.d/60-perfdiag-nofile.conf <<'EOF'\n[Service]\nLimitNOFILE=100000\n"
            ),
            "{body}"
        );
        assert!(
            body.contains("postgresql.service.d/60-perfdiag-nofile.conf <<'EOF'\n[Service]\nLimitNOFILE=65536\n"),
            "{body}"
        );
        assert_eq!(d.verify.target, ">= 65536");
        // A server that wants fewer files still gets the usual limit.
        let small = finding(
            "os.limits.nofile",
            Severity::Warning,
            Some("mariadbd"),
            vec![Evidence {
                metric: "os.expected.LimitNOFILE".to_owned(),
                observed: Value::number(2500.0, Unit::None),
                threshold: None,
            }],
        );
        assert!(
            nofile(&Context::default(), &[&small])
                .script
                .body
                .contains("LimitNOFILE=65536\n")
        );
    }
}
