//! SQL Server login steps: disable `sa`, and put SQL logins under the password policy.
//! (The surface-area options are server options: `mssql.rs`.)

use perfdiag_model::{Phase, Risk};

use super::mssql::{bracket, nstr, per_target};
use super::mssql_databases::names;
use super::{Draft, StepDef, text, verify};

/// The surface-area options the analyzers judge, as `sp_configure` names them.
pub(super) const SURFACE_OPTIONS: [&str; 4] = [
    "xp_cmdshell",
    "Ole Automation Procedures",
    "clr enabled",
    "Ad Hoc Distributed Queries",
];

pub(super) const DISABLE_SA: StepDef = StepDef {
    id: "mssql.security.disable_sa",
    rule_id: "mssql.security.sa_enabled",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let (script, rollback) = per_target(ctx, findings, |m, f| {
            let name = m
                .and_then(|m| m.security.as_ref())
                .and_then(|s| s.sa_name.clone())
                .or_else(|| text(f, "mssql.security.sa_name").map(str::to_owned))
                .unwrap_or_else(|| "sa".to_owned());
            (
                format!(
                    "-- First make sure no application, job or linked server logs in as {name}\n\
                     -- (the sessions below, and the Agent jobs' owners), and that another\n\
                     -- sysadmin login works.\n\
                     SELECT session_id, host_name, program_name FROM sys.dm_exec_sessions WHERE login_name = {n};\n\
                     IF EXISTS (SELECT 1 FROM sys.server_principals WHERE principal_id = 1 AND is_disabled = 0)\n\
                     BEGIN\n\
                     \x20   ALTER LOGIN {b} DISABLE;\n\
                     END;\n\
                     SELECT name, is_disabled FROM sys.server_principals WHERE principal_id = 1;\n",
                    n = nstr(&name),
                    b = bracket(&name),
                ),
                format!("ALTER LOGIN {} ENABLE;\n", bracket(&name)),
            )
        });
        Draft {
            script,
            rollback,
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("mssql.security.sa_enabled", "= no"),
        }
    },
};

pub(super) const CHECK_POLICY: StepDef = StepDef {
    id: "mssql.security.check_policy",
    rule_id: "mssql.security.password_policy",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let (script, rollback) = per_target(ctx, findings, |m, f| {
            let logins = match m.and_then(|m| m.security.as_ref()) {
                Some(s) if !s.logins_without_policy.is_empty() => s.logins_without_policy.clone(),
                _ => names(f, "mssql.security.logins_without_policy.names"),
            };
            let mut script = String::from(
                "-- The policy applies from the next password change: a login whose password\n\
                 -- does not meet it keeps working until then. Lockout after failed attempts\n\
                 -- applies at once: agree a reset procedure with the application owners.\n",
            );
            let mut rollback = String::new();
            for l in &logins {
                script.push_str(&format!(
                    "IF EXISTS (SELECT 1 FROM sys.sql_logins WHERE name = {} AND is_policy_checked = 0)\n\
                     BEGIN\n\
                     \x20   ALTER LOGIN {} WITH CHECK_POLICY = ON;\n\
                     END;\n",
                    nstr(l),
                    bracket(l)
                ));
                rollback.push_str(&format!(
                    "ALTER LOGIN {} WITH CHECK_POLICY = OFF;\n",
                    bracket(l)
                ));
            }
            if logins.is_empty() {
                rollback.push_str("-- Nothing to undo: no login is named.\n");
            }
            script.push_str(
                "SELECT name, is_policy_checked, is_expiration_checked FROM sys.sql_logins WHERE is_disabled = 0;\n",
            );
            (script, rollback)
        });
        Draft {
            script,
            rollback,
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("mssql.security.logins_without_policy", "= 0"),
        }
    },
};
