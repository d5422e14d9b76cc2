//! Open-files limit of database services: a systemd drop-in `LimitNOFILE=`, per service
//! guessed from the process name.

use std::fmt::Write as _;

use perfdiag_model::{Finding, Phase, Risk, Value};

use super::{Context, Draft, StepDef, sh, verify};

/// The limit the step sets: the usual recommendation for PostgreSQL and MySQL hosts.
const NOFILE: u64 = 65536;

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

fn number(f: &Finding, metric: &str) -> Option<f64> {
    f.evidence
        .iter()
        .find(|e| e.metric == metric)
        .and_then(|e| match e.observed {
            Value::Number { value, .. } => Some(value),
            Value::Text { .. } => None,
        })
}

fn nofile(_: &Context, findings: &[&Finding]) -> Draft {
    let mut script = String::new();
    let mut rollback = String::new();
    for f in findings {
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
             cat > {dir}/60-perfdiag-nofile.conf <<'EOF'\n[Service]\nLimitNOFILE={NOFILE}\nEOF\n\
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
        verify: verify("process.nofile_soft", &format!(">= {NOFILE}")),
    }
}
