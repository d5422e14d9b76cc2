//! Database option rules: auto shrink, auto close, page verification other than
//! CHECKSUM, databases without a recent full or log backup, and databases whose last
//! good integrity check (DBCC CHECKDB) is old.

use chrono::{DateTime, Utc};
use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::facts::mssql::MssqlDatabase;
use perfdiag_model::{Comparison, Evidence, Severity, Threshold, Unit, Value};

use super::super::{Inputs, Outcome, RuleDef, context, crossed, finding};
use super::{listing, per_target};
use crate::baseline::{Direction, RuleSpec};
use crate::frames::{Missing, Need};

/// How many databases a finding names (the plan step writes one statement for each).
const NAMED: usize = 50;

/// The databases whose options were read; missing when none was.
fn databases(t: &MssqlFacts) -> Need<&[MssqlDatabase]> {
    if t.databases.is_empty() {
        return Err(Missing("facts mssql.databases".into()));
    }
    Ok(&t.databases)
}

fn count_evidence(metric: &str, names: &[String]) -> Vec<Evidence> {
    vec![
        crossed(
            metric,
            Value::number(names.len() as f64, Unit::None),
            Threshold::new(Comparison::Above, Value::number(0.0, Unit::None)),
        ),
        context(
            &format!("{metric}.names"),
            Value::text(listing(names, NAMED)),
        ),
    ]
}

/// AUTO_SHRINK ON: the database is shrunk in the background whenever it has free
/// space, fragmenting every index it moves, and grows back at the next load.
pub(in crate::rules) const AUTO_SHRINK: RuleDef = RuleDef {
    id: "mssql.database.auto_shrink",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| option_on(inputs, spec, "auto_shrink", |d| d.auto_shrink),
};

/// AUTO_CLOSE ON: the database is shut down when its last connection closes and
/// opened again at the next one, emptying its pages from the buffer pool and its
/// plans from the cache each time (and logging a message each time).
pub(in crate::rules) const AUTO_CLOSE: RuleDef = RuleDef {
    id: "mssql.database.auto_close",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| option_on(inputs, spec, "auto_close", |d| d.auto_close),
};

/// The databases with a database option on (one finding per server naming them);
/// not evaluated when the option was read for none.
fn option_on(
    inputs: &Inputs<'_>,
    spec: &RuleSpec,
    option: &str,
    value: fn(&MssqlDatabase) -> Option<bool>,
) -> Outcome {
    per_target(inputs, |t| {
        let all = databases(t)?;
        if all.iter().all(|d| value(d).is_none()) {
            return Err(Missing(format!("facts mssql.databases.{option}")));
        }
        let names: Vec<String> = all
            .iter()
            .filter(|d| value(d) == Some(true))
            .map(|d| d.name.clone())
            .collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![finding(
            spec,
            spec.condition_severity(),
            Some(t.target.clone()),
            count_evidence(&format!("mssql.databases.{option}"), &names),
        )])
    })
}

/// Hours since the last good DBCC CHECKDB of each database (tempdb excepted), the
/// oldest graded: corruption found late is corruption already in the backups. A
/// database with no recorded check while others have one was never checked
/// (critical); when no database has one, the server does not report it (before SQL
/// Server 2016 SP2) and the rule is not evaluated.
pub(in crate::rules) const CHECKDB_OLD: RuleDef = RuleDef {
    id: "mssql.maintenance.checkdb_old",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let all: Vec<&MssqlDatabase> = databases(t)?
                .iter()
                .filter(|d| !d.name.eq_ignore_ascii_case("tempdb"))
                .filter(|d| {
                    d.state
                        .as_deref()
                        .is_none_or(|s| s.eq_ignore_ascii_case("ONLINE"))
                })
                .collect();
            if all.iter().all(|d| d.last_good_checkdb.is_none()) {
                return Err(Missing(
                    "facts mssql.databases.last_good_checkdb (SQL Server 2016 SP2+)".into(),
                ));
            }
            let now = t
                .end
                .as_ref()
                .map_or(inputs.snapshot.manifest().window.ended_at, |c| c.at);
            let mut old: Vec<(&MssqlDatabase, Option<f64>)> = all
                .iter()
                .map(|d| (*d, age_hours(d.last_good_checkdb, now)))
                .filter(|(_, h)| h.is_none_or(|h| spec.grade(h).is_some()))
                .collect();
            // Never checked first, then the oldest.
            old.sort_by(|a, b| {
                a.1.is_some()
                    .cmp(&b.1.is_some())
                    .then_with(|| b.1.unwrap_or(0.0).total_cmp(&a.1.unwrap_or(0.0)))
            });
            let Some(&(d, hours)) = old.first() else {
                return Ok(Vec::new());
            };
            let (severity, threshold, observed) = match hours {
                Some(h) => {
                    let Some((s, t)) = spec.grade(h) else {
                        return Ok(Vec::new());
                    };
                    (s, t, Value::number(h.round(), Unit::None))
                }
                None => {
                    let t = spec.levels.critical.or(spec.levels.warning).unwrap_or(0.0);
                    (
                        Severity::Critical,
                        Threshold::new(Comparison::Above, Value::number(t, Unit::None)),
                        Value::text("never"),
                    )
                }
            };
            let names: Vec<String> = old
                .iter()
                .map(|(d, h)| match h {
                    Some(h) => format!("{} ({h:.0} h)", d.name),
                    None => format!("{} (never)", d.name),
                })
                .collect();
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                vec![
                    crossed("mssql.checkdb.age_hours", observed, threshold),
                    context("mssql.checkdb.database", Value::text(&d.name)),
                    context(
                        "mssql.checkdb.databases.names",
                        Value::text(listing(&names, NAMED)),
                    ),
                ],
            )])
        })
    },
};

/// PAGE_VERIFY other than CHECKSUM (TORN_PAGE_DETECTION or NONE, left from databases
/// created before SQL Server 2005): corruption written by the storage goes unnoticed
/// until the page is needed, often past the last good backup. tempdb is judged too.
pub(in crate::rules) const PAGE_VERIFY: RuleDef = RuleDef {
    id: "mssql.database.page_verify",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let all = databases(t)?;
            if all.iter().all(|d| d.page_verify.is_none()) {
                return Err(Missing("facts mssql.databases.page_verify".into()));
            }
            let names: Vec<String> = all
                .iter()
                .filter_map(|d| {
                    let v = d.page_verify.as_deref()?;
                    (!v.eq_ignore_ascii_case("CHECKSUM")).then(|| format!("{} ({v})", d.name))
                })
                .collect();
            if names.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                count_evidence("mssql.databases.page_verify", &names),
            )])
        })
    },
};

/// Hours from `at` to `now`; `None` (never) stays `None`.
fn age_hours(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<f64> {
    at.map(|at| ((now - at).num_seconds().max(0) as f64) / 3600.0)
}

/// One database's backup verdict: (severity, threshold, what, age in hours or never).
type Verdict = (Severity, Threshold, &'static str, Option<f64>);

/// The worse of the full-backup and the log-backup verdicts of one database.
fn judge_backups(spec: &RuleSpec, d: &MssqlDatabase, now: DateTime<Utc>) -> Option<Verdict> {
    let never = |levels: &crate::baseline::Levels| {
        levels.critical.or(levels.warning).map(|t| {
            (
                Severity::Critical,
                Threshold::new(Comparison::Above, Value::number(t, Unit::None)),
            )
        })
    };
    let full = match age_hours(d.last_full_backup, now) {
        Some(h) => spec.grade(h).map(|(s, t)| (s, t, "full", Some(h))),
        None => never(&spec.levels).map(|(s, t)| (s, t, "full", None)),
    };
    // Logs are backed up only in the full and bulk-logged models, once a full backup
    // has started the log chain, and only while the database can be written.
    let logged = d
        .recovery_model
        .as_deref()
        .is_some_and(|m| !m.eq_ignore_ascii_case("SIMPLE"));
    let log = if logged && d.last_full_backup.is_some() && d.is_read_only != Some(true) {
        let levels = spec.variants.get("log").unwrap_or(&spec.levels);
        match age_hours(d.last_log_backup, now) {
            Some(h) => spec
                .grade_variant("log", h)
                .map(|(s, t)| (s, t, "log", Some(h))),
            None => never(levels).map(|(s, t)| (s, t, "log", None)),
        }
    } else {
        None
    };
    match (full, log) {
        (Some(a), Some(b)) => Some(if b.0 > a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Whether the probe said it could not read the backup history of `target` (msdb.dbo.
/// backupset needs more than VIEW SERVER STATE): its record (`mssql.databases`) is
/// then partial, skipped or failed with a message naming the backups. "No backup
/// recorded" means "unknown" then, not "never".
fn history_unreadable(inputs: &Inputs<'_>, target: &str) -> bool {
    inputs.snapshot.manifest().probes.iter().any(|p| {
        p.id.starts_with("mssql")
            && p.target.as_deref().is_none_or(|t| t == target)
            && !p.status.is_complete()
            && p.message
                .as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("backup"))
    })
}

/// Hours since the last full backup of each database (tempdb excepted; never backed
/// up is critical), and, in the full and bulk-logged recovery models, since the last
/// log backup against the `log` variant: a log that is never backed up also grows
/// until the disk is full.
pub(in crate::rules) const BACKUPS_MISSING: RuleDef = RuleDef {
    id: "mssql.backup.missing",
    direction: Direction::Above,
    variants: &["log"],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let all = databases(t)?;
            if history_unreadable(inputs, &t.target) {
                return Err(Missing(
                    "the backup history (msdb.dbo.backupset; see the probe record)".into(),
                ));
            }
            let now = t
                .end
                .as_ref()
                .map_or(inputs.snapshot.manifest().window.ended_at, |c| c.at);
            let mut verdicts: Vec<(&MssqlDatabase, Verdict)> = all
                .iter()
                .filter(|d| !d.name.eq_ignore_ascii_case("tempdb"))
                .filter(|d| {
                    d.state
                        .as_deref()
                        .is_none_or(|s| s.eq_ignore_ascii_case("ONLINE"))
                })
                .filter_map(|d| Some((d, judge_backups(spec, d, now)?)))
                .collect();
            if verdicts.is_empty() {
                return Ok(Vec::new());
            }
            // The worst first: severity, then never, then the oldest.
            verdicts.sort_by(|(_, a), (_, b)| {
                b.0.cmp(&a.0)
                    .then_with(|| a.3.is_some().cmp(&b.3.is_some()))
                    .then_with(|| b.3.unwrap_or(0.0).total_cmp(&a.3.unwrap_or(0.0)))
            });
            let (d, (severity, threshold, what, hours)) = &verdicts[0];
            let observed = match hours {
                Some(h) => Value::number(h.round(), Unit::None),
                None => Value::text("never"),
            };
            let names: Vec<String> = verdicts
                .iter()
                .map(|(d, (_, _, what, h))| match h {
                    Some(h) => format!("{} ({what}: {h:.0} h)", d.name),
                    None => format!("{} ({what}: never)", d.name),
                })
                .collect();
            let mut evidence = vec![
                crossed(
                    &format!("mssql.backup.{what}_age_hours"),
                    observed,
                    threshold.clone(),
                ),
                context("mssql.backup.database", Value::text(&d.name)),
                context(
                    "mssql.backup.databases",
                    Value::number(verdicts.len() as f64, Unit::None),
                ),
                context(
                    "mssql.backup.databases.names",
                    Value::text(listing(&names, NAMED)),
                ),
            ];
            if let Some(model) = &d.recovery_model {
                evidence.push(context("mssql.backup.recovery_model", Value::text(model)));
            }
            Ok(vec![finding(
                spec,
                *severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::{ProbeRecord, ProbeStatus, Severity};

    use super::super::fixtures::{MsFixture, TARGET};
    use crate::test_support::{evidence_threshold, findings_of, only_finding};

    #[test]
    fn auto_shrink_and_page_verify() {
        let a = MsFixture::healthy().assess();
        assert!(findings_of(&a, "mssql.database.auto_shrink").is_empty());
        assert!(findings_of(&a, "mssql.database.page_verify").is_empty());
        let mut f = MsFixture::healthy();
        f.database_mut("erp").auto_shrink = Some(true);
        f.database_mut("erp").page_verify = Some("TORN_PAGE_DETECTION".into());
        let a = f.assess();
        only_finding(&a, "mssql.database.auto_shrink");
        let pv = only_finding(&a, "mssql.database.page_verify");
        assert!(
            pv.evidence
                .iter()
                .any(|e| e.observed.to_string() == "erp (TORN_PAGE_DETECTION)")
        );
        for d in &mut f.facts[0].databases {
            d.auto_shrink = None;
        }
        f.assert_not_evaluated("mssql.database.auto_shrink", "auto_shrink");
    }

    #[test]
    fn auto_close_and_old_integrity_checks() {
        let a = MsFixture::healthy().assess();
        assert!(findings_of(&a, "mssql.database.auto_close").is_empty());
        assert!(findings_of(&a, "mssql.maintenance.checkdb_old").is_empty());
        let mut f = MsFixture::healthy();
        f.database_mut("erp").auto_close = Some(true);
        let at = f.now() - chrono::Duration::days(20);
        f.database_mut("erp").last_good_checkdb = Some(at);
        let a = f.assess();
        only_finding(&a, "mssql.database.auto_close");
        let found = only_finding(&a, "mssql.maintenance.checkdb_old");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(
            evidence_threshold(found, "mssql.checkdb.age_hours").as_deref(),
            Some("> 168")
        );
        // Never checked while the others were: critical.
        f.database_mut("model").last_good_checkdb = None;
        let a = f.assess();
        assert_eq!(
            only_finding(&a, "mssql.maintenance.checkdb_old").severity,
            Severity::Critical
        );
        // No database has the property (before SQL Server 2016 SP2): unknown.
        for d in &mut f.facts[0].databases {
            d.last_good_checkdb = None;
        }
        f.assert_not_evaluated("mssql.maintenance.checkdb_old", "last_good_checkdb");
    }

    #[test]
    fn backups_old_never_taken_or_without_log_backups() {
        assert!(findings_of(&MsFixture::healthy().assess(), "mssql.backup.missing").is_empty());
        let mut f = MsFixture::healthy();
        f.database_mut("erp").last_full_backup = None;
        let a = f.assess();
        let found = only_finding(&a, "mssql.backup.missing");
        assert_eq!(found.severity, Severity::Critical);
        assert!(
            found
                .evidence
                .iter()
                .any(|e| e.observed.to_string() == "never")
        );
        // Full recovery and a full backup, but the last log backup is 3 days old.
        let mut f = MsFixture::healthy();
        let at = f.now() - chrono::Duration::hours(72);
        f.database_mut("erp").last_log_backup = Some(at);
        let a = f.assess();
        let found = only_finding(&a, "mssql.backup.missing");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(
            evidence_threshold(found, "mssql.backup.log_age_hours").as_deref(),
            Some("> 24")
        );
        // The probe could not read msdb: unknown, not never.
        let mut f = MsFixture::healthy();
        f.database_mut("erp").last_full_backup = None;
        // As the probe records it (probes/src/mssql/probe.rs).
        f.probes.push(ProbeRecord {
            id: "mssql.databases".into(),
            target: Some(TARGET.into()),
            status: ProbeStatus::Partial,
            duration_ms: 3,
            message: Some("not collected: last backups (msdb.dbo.backupset)".into()),
            hint: Some("USE msdb; CREATE USER [perfdiag] FOR LOGIN [perfdiag];".into()),
        });
        f.assert_not_evaluated("mssql.backup.missing", "backup history");
    }
}
