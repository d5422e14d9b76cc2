//! Security rules: the `sa` login enabled, surface-area options that run code outside
//! the engine, and SQL logins exempt from the password policy.

use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::facts::mssql::MssqlSecurity;
use perfdiag_model::{Comparison, Evidence, Threshold, Unit, Value};

use super::super::{RuleDef, context, crossed, finding};
use super::{listing, per_target};
use crate::baseline::Direction;
use crate::frames::{Missing, Need};

fn security(t: &MssqlFacts) -> Need<&MssqlSecurity> {
    t.security
        .as_ref()
        .ok_or_else(|| Missing("facts mssql.security (VIEW ANY DEFINITION)".into()))
}

fn named(metric: &str, names: &[String]) -> Vec<Evidence> {
    vec![
        crossed(
            metric,
            Value::number(names.len() as f64, Unit::None),
            Threshold::new(Comparison::Above, Value::number(0.0, Unit::None)),
        ),
        context(&format!("{metric}.names"), Value::text(listing(names, 50))),
    ]
}

/// The `sa` login (principal 1) is enabled while SQL logins are accepted: the one
/// sysadmin name every password-guessing attack tries first.
pub(in crate::rules) const SA_ENABLED: RuleDef = RuleDef {
    id: "mssql.security.sa_enabled",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let s = security(t)?;
            let enabled = s
                .sa_enabled
                .ok_or_else(|| Missing("facts mssql.security.sa_enabled".into()))?;
            if !enabled || s.windows_auth_only == Some(true) {
                return Ok(Vec::new());
            }
            let name = s.sa_name.clone().unwrap_or_else(|| "sa".to_owned());
            let mut evidence = vec![
                crossed(
                    "mssql.security.sa_enabled",
                    Value::text("yes"),
                    Threshold::new(Comparison::Equals, Value::text("yes")),
                ),
                context("mssql.security.sa_name", Value::text(name)),
            ];
            if !s.sysadmins.is_empty() {
                evidence.push(context(
                    "mssql.security.sysadmins",
                    Value::text(listing(&s.sysadmins, 10)),
                ));
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// Configuration options that let T-SQL run code outside the engine: an attacker
/// with sysadmin (or an injection running as it) gets the service account's shell.
/// `clr enabled` counts only without `clr strict security` (SQL Server 2017+).
pub(in crate::rules) const SURFACE_OPTIONS: [&str; 4] = [
    "xp_cmdshell",
    "Ole Automation Procedures",
    "clr enabled",
    "Ad Hoc Distributed Queries",
];

/// The surface-area options of [`SURFACE_OPTIONS`] that are on.
pub(in crate::rules) const SURFACE_AREA: RuleDef = RuleDef {
    id: "mssql.security.surface_area",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            if t.configurations.is_empty() {
                return Err(Missing("facts mssql.configurations".into()));
            }
            let strict_clr = t.config_in_use("clr strict security") == Some(1);
            let on: Vec<String> = SURFACE_OPTIONS
                .iter()
                .filter(|o| !(**o == "clr enabled" && strict_clr))
                .filter(|o| t.config_in_use(o) == Some(1))
                .map(|o| (*o).to_owned())
                .collect();
            if on.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                named("mssql.security.surface_area_options", &on),
            )])
        })
    },
};

/// Enabled SQL logins with `CHECK_POLICY = OFF`: their passwords escape the Windows
/// password policy (length, complexity, lockout after failed attempts).
pub(in crate::rules) const PASSWORD_POLICY: RuleDef = RuleDef {
    id: "mssql.security.password_policy",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let s = security(t)?;
            if s.logins_without_policy.is_empty() {
                // Without VIEW ANY DEFINITION the probe sees only its own login.
                if s.logins_visible != Some(true) {
                    return Err(Missing(
                        "every login in facts mssql.security (VIEW ANY DEFINITION)".into(),
                    ));
                }
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                named(
                    "mssql.security.logins_without_policy",
                    &s.logins_without_policy,
                ),
            )])
        })
    },
};

#[cfg(test)]
mod tests {
    use super::super::fixtures::MsFixture;
    use crate::test_support::{evidence_number, findings_of, only_finding};

    #[test]
    fn security_rules() {
        let a = MsFixture::healthy().assess();
        for id in [
            "mssql.security.sa_enabled",
            "mssql.security.surface_area",
            "mssql.security.password_policy",
        ] {
            assert!(findings_of(&a, id).is_empty(), "{id}");
        }
        let mut f = MsFixture::healthy();
        if let Some(s) = f.facts[0].security.as_mut() {
            s.sa_enabled = Some(true);
            s.logins_without_policy = vec!["erp_app".into(), "report".into()];
        }
        f.set_config("xp_cmdshell", 1);
        f.set_config("clr enabled", 1); // with clr strict security: not counted
        let a = f.assess();
        only_finding(&a, "mssql.security.sa_enabled");
        let surface = only_finding(&a, "mssql.security.surface_area");
        assert_eq!(
            evidence_number(surface, "mssql.security.surface_area_options"),
            1.0
        );
        let policy = only_finding(&a, "mssql.security.password_policy");
        assert_eq!(
            evidence_number(policy, "mssql.security.logins_without_policy"),
            2.0
        );
        // Windows authentication only: sa cannot log in.
        if let Some(s) = f.facts[0].security.as_mut() {
            s.windows_auth_only = Some(true);
        }
        assert!(findings_of(&f.assess(), "mssql.security.sa_enabled").is_empty());
        f.facts[0].security = None;
        f.assert_not_evaluated("mssql.security.sa_enabled", "facts mssql.security");
    }
}
