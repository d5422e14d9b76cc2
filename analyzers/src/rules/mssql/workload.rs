//! Workload rules: the statements that take the largest share of the server's CPU.

use perfdiag_model::{Evidence, Unit, Value, tables};

use super::super::{RuleDef, context, crossed, finding};
use super::{Rows, per_target};
use crate::baseline::Direction;
use crate::expected::mssql::Processors;
use crate::frames::Missing;
use crate::sql::antipatterns::short;

/// How many statements a finding names.
const NAMED: usize = 5;

/// CPU time of each statement class (`mssql_statements.total_cpu_ms`) as a % of the
/// server's CPU capacity (its logical processors) over the time it was measured: the
/// window when `over_window`, else since the plan was cached. A statement that alone
/// takes a tenth of a server is where tuning pays first. One finding per target,
/// naming the statements over the warning threshold.
pub(in crate::rules) const TOP_CPU: RuleDef = RuleDef {
    id: "mssql.statements.top_cpu",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let p = Processors::of(t).ok_or_else(|| {
                Missing("facts mssql.system (cpu_count: the CPU capacity)".into())
            })?;
            let rows = Rows::of(inputs, tables::MSSQL_STATEMENTS, &t.target)?;
            let window = &inputs.snapshot.manifest().window;
            let end_us = window.ended_at.timestamp_micros();
            let window_s = window.duration_secs();
            let mut heavy: Vec<(f64, usize)> = rows
                .rows
                .iter()
                .filter_map(|&r| {
                    let cpu_ms = rows.float("total_cpu_ms", r)?;
                    let secs = if rows.flag("over_window", r) == Some(true) {
                        window_s
                    } else {
                        let cached = rows.int("cached_at", r)?;
                        (end_us - cached) as f64 / 1e6
                    };
                    if secs <= 0.0 {
                        return None;
                    }
                    let pct = cpu_ms * 100.0 / (secs * 1000.0 * p.logical as f64);
                    spec.grade(pct).map(|_| (pct, r))
                })
                .collect();
            heavy.sort_by(|a, b| b.0.total_cmp(&a.0));
            let Some(&(top, _)) = heavy.first() else {
                return Ok(Vec::new());
            };
            let Some((severity, threshold)) = spec.grade(top) else {
                return Ok(Vec::new());
            };
            let mut evidence = vec![
                crossed(
                    "mssql.statement.cpu_pct",
                    Value::number(top, Unit::Percent),
                    threshold,
                ),
                context(
                    "mssql.statements.heavy",
                    Value::number(heavy.len() as f64, Unit::None),
                ),
                context(
                    "mssql.system.logical_processors",
                    Value::number(p.logical as f64, Unit::None),
                ),
            ];
            for &(pct, r) in heavy.iter().take(NAMED) {
                evidence.extend(statement_evidence(&rows, r, pct));
            }
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// One statement's evidence, its query hash first (the plan step looks it up).
fn statement_evidence(rows: &Rows<'_>, r: usize, pct: f64) -> Vec<Evidence> {
    let mut out = Vec::new();
    let text = |c: &str| rows.text(c, r).map(str::to_owned);
    out.push(context(
        "mssql.statement.query_hash",
        Value::text(text("query_hash").unwrap_or_default()),
    ));
    if let Some(id) = text("fingerprint_id") {
        out.push(context("mssql.statement.fingerprint_id", Value::text(id)));
    }
    if let Some(db) = text("database") {
        out.push(context("mssql.statement.database", Value::text(db)));
    }
    out.push(context(
        "mssql.statement.query",
        Value::text(short(rows.text("query", r).unwrap_or_default())),
    ));
    out.push(context(
        "mssql.statement.share_of_cpu_pct",
        Value::number(pct, Unit::Percent),
    ));
    if let Some(calls) = rows.float("calls", r) {
        out.push(context(
            "mssql.statement.calls",
            Value::number(calls, Unit::None),
        ));
    }
    if let Some(reads) = rows.float("logical_reads", r) {
        out.push(context(
            "mssql.statement.logical_reads",
            Value::number(reads, Unit::None),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use super::super::fixtures::{MsFixture, Statement};
    use crate::test_support::{evidence_number, findings_of, only_finding};

    #[test]
    fn a_statement_taking_a_large_share_of_the_cpu() {
        assert!(findings_of(&MsFixture::healthy().assess(), "mssql.statements.top_cpu").is_empty());
        let mut f = MsFixture::healthy();
        // 32 processors for 60 s: 1 920 000 CPU ms; 576 000 of them is 30 %.
        f.statements.push(Statement {
            query_hash: "0x8F2C1D00AA00BB01",
            query: "SELECT o.id, o.total FROM dbo.orders AS o WHERE o.note LIKE @p1",
            calls: 9000,
            total_cpu_ms: 576_000.0,
        });
        let a = f.assess();
        let found = only_finding(&a, "mssql.statements.top_cpu");
        assert_eq!(found.severity, Severity::Critical);
        assert!((evidence_number(found, "mssql.statement.cpu_pct") - 30.0).abs() < 1e-9);
        let mut f = MsFixture::healthy();
        f.facts[0].system = None;
        f.assert_not_evaluated("mssql.statements.top_cpu", "cpu_count");
    }
}
