//! Account rules: empty passwords, anonymous accounts and remote root, wildcard hosts
//! with global privileges and outdated authentication plugins.

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::facts::mysql::{Account, MysqlFlavor};
use perfdiag_model::{Comparison, Evidence, Threshold, Unit, Value};

use super::super::{RuleDef, context, crossed, finding};
use super::{listing, per_target};
use crate::baseline::Direction;
use crate::frames::Missing;

const LOCAL_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

fn accounts(t: &MysqlFacts) -> Result<&[Account], Missing> {
    t.accounts
        .as_deref()
        .ok_or_else(|| Missing("facts mysql.accounts (SELECT on the mysql schema)".into()))
}

fn name(a: &Account) -> String {
    format!("'{}'@'{}'", a.user, a.host)
}

fn named(metric: &str, names: &[String]) -> Vec<Evidence> {
    vec![
        crossed(
            metric,
            Value::number(names.len() as f64, Unit::None),
            Threshold::new(Comparison::Above, Value::number(0.0, Unit::None)),
        ),
        context(&format!("{metric}.names"), Value::text(listing(names, 10))),
    ]
}

/// Accounts that log in with no password.
pub(in crate::rules) const EMPTY_PASSWORD: RuleDef = RuleDef {
    id: "mysql.security.empty_password",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let names: Vec<String> = accounts(t)?
                .iter()
                .filter(|a| a.empty_password)
                .map(name)
                .collect();
            if names.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                named("mysql.accounts.empty_password", &names),
            )])
        })
    },
};

/// Anonymous accounts (any user name matches) and root reachable from other hosts.
pub(in crate::rules) const ANONYMOUS_OR_REMOTE_ROOT: RuleDef = RuleDef {
    id: "mysql.security.anonymous_or_remote_root",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let all = accounts(t)?;
            let anonymous: Vec<String> = all
                .iter()
                .filter(|a| a.user.is_empty() && !a.locked)
                .map(name)
                .collect();
            let remote_root: Vec<String> = all
                .iter()
                .filter(|a| {
                    a.user == "root" && !a.locked && !LOCAL_HOSTS.contains(&a.host.as_str())
                })
                .map(name)
                .collect();
            if anonymous.is_empty() && remote_root.is_empty() {
                return Ok(Vec::new());
            }
            let mut evidence = Vec::new();
            if !anonymous.is_empty() {
                evidence.extend(named("mysql.accounts.anonymous", &anonymous));
            }
            if !remote_root.is_empty() {
                evidence.extend(named("mysql.accounts.remote_root", &remote_root));
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

/// `%` hosts with global privileges, and outdated plugins: mysql_old_password (broken
/// hash) anywhere, mysql_native_password on MySQL 8+ (SHA-1, deprecated, removed in 9).
pub(in crate::rules) const WEAK_ACCOUNTS: RuleDef = RuleDef {
    id: "mysql.security.weak_accounts",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let all = accounts(t)?;
            let mysql8 = t.flavor != Some(MysqlFlavor::Mariadb)
                && t.version_triple().is_some_and(|v| v.0 >= 8);
            let wildcard: Vec<String> = all
                .iter()
                .filter(|a| a.host == "%" && a.global_privileges && !a.locked)
                .map(name)
                .collect();
            let old_plugin: Vec<String> = all
                .iter()
                .filter(|a| !a.locked)
                .filter(|a| {
                    a.plugin == "mysql_old_password"
                        || (mysql8 && a.plugin == "mysql_native_password")
                })
                .map(|a| format!("{} ({})", name(a), a.plugin))
                .collect();
            if wildcard.is_empty() && old_plugin.is_empty() {
                return Ok(Vec::new());
            }
            let mut evidence = Vec::new();
            if !wildcard.is_empty() {
                evidence.extend(named(
                    "mysql.accounts.wildcard_host_global_privileges",
                    &wildcard,
                ));
            }
            if !old_plugin.is_empty() {
                evidence.extend(named("mysql.accounts.outdated_auth_plugin", &old_plugin));
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

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::mysql::{Account, MysqlFlavor};

    use super::super::fixtures::MyFixture;
    use crate::test_support::{findings_of, only_finding};

    fn account(user: &str, host: &str, plugin: &str) -> Account {
        Account {
            user: user.into(),
            host: host.into(),
            plugin: plugin.into(),
            ..Account::default()
        }
    }

    #[test]
    fn account_rules() {
        let a = MyFixture::healthy().assess();
        for id in [
            "mysql.security.empty_password",
            "mysql.security.anonymous_or_remote_root",
            "mysql.security.weak_accounts",
        ] {
            assert!(findings_of(&a, id).is_empty(), "{id}");
        }
        let mut f = MyFixture::healthy();
        let accounts = f.facts[0].accounts.as_mut().expect("accounts");
        accounts.push(Account {
            empty_password: true,
            ..account("app", "10.0.0.%", "mysql_native_password")
        });
        accounts.push(account("", "localhost", ""));
        accounts.push(Account {
            global_privileges: true,
            ..account("admin", "%", "ed25519")
        });
        let a = f.assess();
        only_finding(&a, "mysql.security.empty_password");
        only_finding(&a, "mysql.security.anonymous_or_remote_root");
        only_finding(&a, "mysql.security.weak_accounts");

        // mysql_native_password is a warning on MySQL 8 only.
        let mut f = MyFixture::healthy();
        f.facts[0].flavor = Some(MysqlFlavor::Mysql);
        f.facts[0].version = Some("8.0.36".into());
        only_finding(&f.assess(), "mysql.security.weak_accounts");

        let mut f = MyFixture::healthy();
        f.facts[0].accounts = None;
        f.assert_not_evaluated("mysql.security.empty_password", "facts mysql.accounts");
    }
}
