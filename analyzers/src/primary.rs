//! The primary bottleneck: the one place to look first, named with its evidence.
//!
//! With sampled database sessions it is the wait class that takes the largest share
//! of the busiest target's database time (CPU, I/O, locks…), with the finding that
//! explains it best and the query class that takes the most statement time. Without
//! database samples it is the most saturated host resource that a finding flags; and
//! when nothing was measured, the most serious finding. None when nothing stands out.

use perfdiag_model::{
    Dimension, Finding, FindingRef, ImpactBasis, PrimaryBottleneck, Severity, Snapshot,
    WaitClassLoad,
};

use crate::statements::top_query;

/// Database time below this many average active sessions is an idle server: its
/// wait classes are noise, not a bottleneck.
pub const MIN_AAS: f64 = 0.1;

/// The dimension a wait class's time belongs to; `None` for classes that are not a
/// server bottleneck (sleeping in `pg_sleep`, background activity, extensions).
pub fn dimension_of(wait_class: &str) -> Option<Dimension> {
    Some(match wait_class {
        "CPU" => Dimension::Cpu,
        "IO" => Dimension::StorageIo,
        "Lock" | "BufferPin" => Dimension::SessionsLocking,
        "LWLock" | "IPC" => Dimension::DbConfig,
        "Client" => Dimension::Network,
        // MySQL's processlist does not tell CPU from I/O: statements running.
        "Running" => Dimension::SqlWorkload,
        // SQL Server's wait classes (probes/src/mssql/sessions.rs).
        "Buffer IO" | "Log" => Dimension::StorageIo,
        "Network" => Dimension::Network,
        "Buffer Latch" | "Parallelism" => Dimension::DbConfig,
        "Memory" => Dimension::Memory,
        _ => return None,
    })
}

/// Findings are sorted most important first (tier, impact, penalty).
pub fn find(
    findings: &[Finding],
    db_time: &[WaitClassLoad],
    snapshot: &Snapshot,
) -> Option<PrimaryBottleneck> {
    from_db_time(findings, db_time, snapshot)
        .or_else(|| from_saturation(findings))
        .or_else(|| from_findings(findings))
}

fn reference(f: &Finding) -> FindingRef {
    FindingRef {
        rule_id: f.rule_id.clone(),
        subject: f.subject.clone(),
    }
}

fn from_db_time(
    findings: &[Finding],
    db_time: &[WaitClassLoad],
    snapshot: &Snapshot,
) -> Option<PrimaryBottleneck> {
    let total = |target: &str| -> f64 {
        db_time
            .iter()
            .filter(|l| l.target == target)
            .map(|l| l.aas)
            .sum()
    };
    // The busiest target, then its largest class that is a bottleneck.
    let busiest = db_time
        .iter()
        .map(|l| l.target.as_str())
        .max_by(|a, b| total(a).total_cmp(&total(b)))?;
    if total(busiest) < MIN_AAS {
        return None;
    }
    let load = db_time
        .iter()
        .filter(|l| l.target == busiest)
        .filter(|l| dimension_of(&l.wait_class).is_some())
        .max_by(|a, b| a.aas.total_cmp(&b.aas))?;
    let dimension = dimension_of(&load.wait_class)?;
    let explains = |f: &&Finding| {
        f.impact
            .as_ref()
            .is_some_and(|i| i.wait_classes.contains(&load.wait_class))
    };
    let finding = findings
        .iter()
        .find(explains)
        .or_else(|| findings.iter().find(|f| f.dimension == dimension))
        .filter(|f| f.severity > Severity::Info)
        .map(reference);
    Some(PrimaryBottleneck {
        dimension,
        basis: Some(ImpactBasis::DbTime),
        share_pct: Some(load.share_pct),
        target: Some(busiest.to_owned()),
        wait_class: Some(load.wait_class.clone()),
        finding,
        top_query: top_query(snapshot, Some(busiest)),
    })
}

fn from_saturation(findings: &[Finding]) -> Option<PrimaryBottleneck> {
    let f = findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .filter_map(|f| {
            let i = f.impact.as_ref()?;
            (i.basis == ImpactBasis::Saturation).then_some((f, i.share_pct))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(PrimaryBottleneck {
        dimension: f.0.dimension,
        basis: Some(ImpactBasis::Saturation),
        share_pct: Some(f.1),
        target: None,
        wait_class: None,
        finding: Some(reference(f.0)),
        top_query: None,
    })
}

fn from_findings(findings: &[Finding]) -> Option<PrimaryBottleneck> {
    let f = findings.iter().find(|f| f.severity > Severity::Info)?;
    Some(PrimaryBottleneck {
        dimension: f.dimension,
        basis: None,
        share_pct: None,
        target: None,
        wait_class: None,
        finding: Some(reference(f)),
        top_query: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::bare_snapshot as snapshot;
    use perfdiag_model::{Impact, Tier};

    fn finding(
        rule: &str,
        dimension: Dimension,
        impact: Option<(ImpactBasis, &[&str], f64)>,
    ) -> Finding {
        Finding {
            rule_id: rule.to_owned(),
            dimension,
            severity: Severity::Warning,
            subject: None,
            evidence: Vec::new(),
            penalty: 10,
            impact: impact.map(|(basis, classes, share_pct)| Impact {
                basis,
                share_pct,
                wait_classes: classes.iter().map(|c| (*c).to_owned()).collect(),
            }),
            tier: Tier::MEDIUM,
        }
    }

    fn load(target: &str, class: &str, aas: f64, share_pct: f64) -> WaitClassLoad {
        WaitClassLoad {
            target: target.to_owned(),
            engine: "postgres".to_owned(),
            wait_class: class.to_owned(),
            aas,
            share_pct,
        }
    }

    #[test]
    fn the_largest_wait_class_of_the_busiest_target_names_the_bottleneck() {
        let findings = [
            finding("os.vm.swappiness", Dimension::OsConfig, None),
            finding(
                "pg.locks.blocking_chains",
                Dimension::SessionsLocking,
                Some((ImpactBasis::DbTime, &["Lock"], 60.0)),
            ),
        ];
        let db_time = [
            load("pg://quiet", "CPU", 0.2, 100.0),
            load("pg://busy", "Timeout", 3.0, 50.0),
            load("pg://busy", "Lock", 2.0, 33.0),
            load("pg://busy", "CPU", 1.0, 17.0),
        ];
        let p = find(&findings, &db_time, &snapshot()).expect("a bottleneck");
        // pg_sleep's Timeout is no bottleneck: Lock is the largest class that is.
        assert_eq!(p.dimension, Dimension::SessionsLocking);
        assert_eq!(
            (p.target.as_deref(), p.wait_class.as_deref(), p.share_pct),
            (Some("pg://busy"), Some("Lock"), Some(33.0))
        );
        assert_eq!(
            p.finding.map(|f| f.rule_id),
            Some("pg.locks.blocking_chains".to_owned())
        );
    }

    #[test]
    fn an_idle_server_falls_back_to_saturation_then_to_the_top_finding() {
        let idle = [load("pg://a", "CPU", 0.02, 100.0)];
        let findings = [
            finding("os.vm.swappiness", Dimension::OsConfig, None),
            finding(
                "host.disk.utilisation",
                Dimension::StorageIo,
                Some((ImpactBasis::Saturation, &[], 93.0)),
            ),
        ];
        let p = find(&findings, &idle, &snapshot()).expect("a bottleneck");
        assert_eq!(
            (p.dimension, p.basis),
            (Dimension::StorageIo, Some(ImpactBasis::Saturation))
        );
        let p = find(&findings[..1], &idle, &snapshot()).expect("a bottleneck");
        assert_eq!((p.dimension, p.basis), (Dimension::OsConfig, None));
        assert_eq!(find(&[], &idle, &snapshot()), None);
    }
}
