//! Index rules: the missing indexes the optimizer recorded as worth the most, merged
//! where they overlap, and nonclustered indexes never read but written heavily.

use perfdiag_model::{Evidence, Unit, Value, tables};

use super::super::{RuleDef, context, crossed, finding};
use super::{Rows, bracket, listing, per_target};
use crate::baseline::Direction;

/// How many indexes a finding names.
const NAMED: usize = 20;

/// One index to create: its table, key columns in order and included columns, with
/// the suggestions of `sys.dm_db_missing_index_details` it stands for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct MissingIndex {
    pub database: String,
    pub schema: String,
    pub table: String,
    /// Equality columns first, then inequality columns, as the DMV names them
    /// (`[customer_id]`).
    pub keys: Vec<String>,
    pub include: Vec<String>,
    /// The summed improvement measure of the merged suggestions.
    pub improvement: f64,
    pub merged: usize,
}

impl MissingIndex {
    /// `[schema].[table] ([a], [b])`: the target of a `CREATE INDEX`.
    pub fn candidate(&self) -> String {
        format!(
            "{}.{} ({})",
            bracket(&self.schema),
            bracket(&self.table),
            self.keys.join(", ")
        )
    }

    fn same_table(&self, other: &Self) -> bool {
        (&self.database, &self.schema, &self.table)
            == (&other.database, &other.schema, &other.table)
    }

    /// Whether `other` is served by this index: same table, and its key columns lead
    /// this one's (in order, or as the same set of equality columns).
    fn covers(&self, other: &Self) -> bool {
        if !self.same_table(other) || other.keys.len() > self.keys.len() {
            return false;
        }
        let lead = &self.keys[..other.keys.len()];
        lead == other.keys.as_slice() || {
            let mut a = lead.to_vec();
            let mut b = other.keys.clone();
            a.sort();
            b.sort();
            a == b
        }
    }

    /// Takes `other` in: its included columns (and key columns this index does not
    /// have as keys) become included columns, its improvement adds up.
    fn absorb(&mut self, other: &Self) {
        for c in other.include.iter().chain(&other.keys) {
            if !self.keys.contains(c) && !self.include.contains(c) {
                self.include.push(c.clone());
            }
        }
        self.improvement += other.improvement;
        self.merged += other.merged;
    }
}

/// A DMV column list (`[a], [b]`) as its column names, brackets kept.
fn columns(list: Option<&str>) -> Vec<String> {
    list.map(|l| {
        l.split(", ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// Merges suggestions on one table where one's key columns lead another's: the
/// longer key is created once, with the included columns of both. Most valuable
/// first.
pub(super) fn merge(mut all: Vec<MissingIndex>) -> Vec<MissingIndex> {
    // Longer keys first, so that each suggestion is absorbed by the widest index
    // that serves it.
    all.sort_by(|a, b| {
        b.keys
            .len()
            .cmp(&a.keys.len())
            .then_with(|| b.improvement.total_cmp(&a.improvement))
    });
    let mut out: Vec<MissingIndex> = Vec::new();
    for s in all {
        match out.iter_mut().find(|o| o.covers(&s)) {
            Some(o) => o.absorb(&s),
            None => out.push(s),
        }
    }
    out.sort_by(|a, b| b.improvement.total_cmp(&a.improvement));
    out
}

/// The missing indexes the optimizer recorded, worth the most first: suggestions
/// merged where they overlap, then graded by the summed improvement measure (seeks
/// and scans × the plans' cost × the estimated impact). One finding per target, with
/// every merged index above the warning threshold as `mssql.index.candidate` and its
/// database, included columns, improvement and number of suggestions.
pub(in crate::rules) const MISSING_INDEXES: RuleDef = RuleDef {
    id: "mssql.indexes.missing",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let rows = Rows::of(inputs, tables::MSSQL_MISSING_INDEXES, &t.target)?;
            let suggestions: Vec<MissingIndex> = rows
                .rows
                .iter()
                .filter_map(|&r| {
                    let mut keys = columns(rows.text("equality_columns", r));
                    keys.extend(columns(rows.text("inequality_columns", r)));
                    (!keys.is_empty()).then(|| MissingIndex {
                        database: rows.text("database", r).unwrap_or_default().to_owned(),
                        schema: rows.text("schema", r).unwrap_or("dbo").to_owned(),
                        table: rows.text("table", r).unwrap_or_default().to_owned(),
                        keys,
                        include: columns(rows.text("included_columns", r)),
                        improvement: rows.float("improvement", r).unwrap_or(0.0),
                        merged: 1,
                    })
                })
                .filter(|m| !m.table.is_empty())
                .collect();
            let merged = merge(suggestions);
            let valuable: Vec<&MissingIndex> = merged
                .iter()
                .filter(|m| spec.grade(m.improvement).is_some())
                .collect();
            let Some(top) = valuable.first() else {
                return Ok(Vec::new());
            };
            let Some((severity, threshold)) = spec.grade(top.improvement) else {
                return Ok(Vec::new());
            };
            let mut evidence = vec![
                crossed(
                    "mssql.index.improvement.max",
                    Value::number(top.improvement.round(), Unit::None),
                    threshold,
                ),
                context(
                    "mssql.index.candidates",
                    Value::number(valuable.len() as f64, Unit::None),
                ),
            ];
            for m in valuable.iter().take(NAMED) {
                evidence.extend(candidate_evidence(m));
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

/// The evidence of one index to create, in the order the plan step reads it:
/// the candidate first, then its details.
fn candidate_evidence(m: &MissingIndex) -> Vec<Evidence> {
    let mut out = vec![
        context("mssql.index.candidate", Value::text(m.candidate())),
        context("mssql.index.candidate.database", Value::text(&m.database)),
    ];
    if !m.include.is_empty() {
        out.push(context(
            "mssql.index.candidate.include",
            Value::text(m.include.join(", ")),
        ));
    }
    out.push(context(
        "mssql.index.candidate.improvement",
        Value::number(m.improvement.round(), Unit::None),
    ));
    out.push(context(
        "mssql.index.candidate.suggestions",
        Value::number(m.merged as f64, Unit::None),
    ));
    out
}

/// Nonclustered indexes (not unique, not a primary key) no query read since the
/// server started, graded by how often they were written: every insert, update and
/// delete maintains them for nothing. Judged only after `min_activity` hours of
/// uptime (usage counts restart with the server), so a month-end report's index is
/// not called unused after a restart.
pub(in crate::rules) const UNUSED_INDEXES: RuleDef = RuleDef {
    id: "mssql.indexes.unused_writes",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let uptime_h = t
                .uptime_secs
                .ok_or_else(|| crate::frames::Missing("facts mssql.uptime_secs".into()))?
                / 3600.0;
            if uptime_h < spec.min_activity.unwrap_or(0.0) {
                return Ok(Vec::new());
            }
            let rows = Rows::of(inputs, tables::MSSQL_INDEXES, &t.target)?;
            let mut unused: Vec<(String, f64, Option<i64>)> = rows
                .rows
                .iter()
                .filter(|&&r| {
                    rows.text("type_desc", r)
                        .is_some_and(|d| d.eq_ignore_ascii_case("NONCLUSTERED"))
                        && rows.flag("is_unique", r) != Some(true)
                        && rows.flag("is_primary_key", r) != Some(true)
                        && ["user_seeks", "user_scans", "user_lookups"]
                            .iter()
                            .all(|c| rows.int(c, r) == Some(0))
                })
                .filter_map(|&r| {
                    let writes = rows.float("user_updates", r)?;
                    spec.grade(writes)?;
                    let name = [
                        rows.text("database", r)?,
                        rows.text("schema", r)?,
                        rows.text("table", r)?,
                        rows.text("index", r)?,
                    ]
                    .map(bracket)
                    .join(".");
                    Some((name, writes, rows.int("size_bytes", r)))
                })
                .collect();
            unused.sort_by(|a, b| b.1.total_cmp(&a.1));
            let Some((_, most, _)) = unused.first() else {
                return Ok(Vec::new());
            };
            let Some((severity, threshold)) = spec.grade(*most) else {
                return Ok(Vec::new());
            };
            let bytes: i64 = unused.iter().filter_map(|u| u.2).sum();
            let names: Vec<String> = unused.iter().map(|u| u.0.clone()).collect();
            let mut evidence = vec![
                crossed(
                    "mssql.index.unused.writes.max",
                    Value::number(*most, Unit::None),
                    threshold,
                ),
                context(
                    "mssql.index.unused",
                    Value::number(unused.len() as f64, Unit::None),
                ),
                context(
                    "mssql.index.unused.bytes",
                    Value::number(bytes as f64, Unit::Bytes),
                ),
                context(
                    "mssql.uptime_hours",
                    Value::number(uptime_h.round(), Unit::None),
                ),
            ];
            evidence.push(context(
                "mssql.index.unused.names",
                Value::text(listing(&names, NAMED)),
            ));
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use super::super::fixtures::MsFixture;
    use super::*;
    use crate::test_support::{evidence_number, findings_of, only_finding};

    fn suggestion(keys: &[&str], include: &[&str], improvement: f64) -> MissingIndex {
        MissingIndex {
            database: "erp".into(),
            schema: "dbo".into(),
            table: "orders".into(),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            include: include.iter().map(|k| (*k).to_owned()).collect(),
            improvement,
            merged: 1,
        }
    }

    #[test]
    fn overlapping_suggestions_merge_into_the_widest_key() {
        let merged = merge(vec![
            suggestion(&["[customer_id]"], &["[total]"], 100.0),
            suggestion(&["[customer_id]", "[status]"], &["[created_at]"], 300.0),
            // Same equality set, other order: the same index.
            suggestion(&["[status]", "[customer_id]"], &[], 50.0),
            suggestion(&["[sku]"], &[], 10.0),
        ]);
        assert_eq!(merged.len(), 2);
        let m = &merged[0];
        assert_eq!(m.candidate(), "[dbo].[orders] ([customer_id], [status])");
        assert_eq!(m.include, ["[created_at]", "[total]"]);
        assert_eq!((m.improvement, m.merged), (450.0, 3));
        assert_eq!(merged[1].keys, ["[sku]"]);
        // Another table never merges.
        let other = MissingIndex {
            table: "items".into(),
            ..suggestion(&["[customer_id]"], &[], 1.0)
        };
        assert_eq!(
            merge(vec![suggestion(&["[customer_id]"], &[], 1.0), other]).len(),
            2
        );
    }

    #[test]
    fn missing_indexes_worth_the_most_are_named() {
        assert!(findings_of(&MsFixture::healthy().assess(), "mssql.indexes.missing").is_empty());
        let mut f = MsFixture::healthy();
        f.missing.push((
            "[customer_id]",
            Some("[created_at]"),
            Some("[total]"),
            2_000_000.0,
        ));
        f.missing
            .push(("[customer_id]", None, Some("[status]"), 500_000.0));
        let a = f.assess();
        let found = only_finding(&a, "mssql.indexes.missing");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(evidence_number(found, "mssql.index.candidates"), 1.0);
        let text = |m: &str| {
            found
                .evidence
                .iter()
                .find(|e| e.metric == m)
                .map(|e| e.observed.to_string())
        };
        assert_eq!(
            text("mssql.index.candidate").as_deref(),
            Some("[dbo].[orders] ([customer_id], [created_at])")
        );
        assert_eq!(
            text("mssql.index.candidate.include").as_deref(),
            Some("[total], [status]")
        );
        let mut f = MsFixture::healthy();
        f.with_tables = false;
        f.assert_not_evaluated("mssql.indexes.missing", "table mssql_missing_indexes");
    }

    #[test]
    fn unused_indexes_with_heavy_writes() {
        assert!(
            findings_of(
                &MsFixture::healthy().assess(),
                "mssql.indexes.unused_writes"
            )
            .is_empty()
        );
        let mut f = MsFixture::healthy();
        f.indexes
            .push(("ix_orders_note", "NONCLUSTERED", false, 0, 2_500_000));
        let a = f.assess();
        let found = only_finding(&a, "mssql.indexes.unused_writes");
        assert_eq!(found.severity, Severity::Critical);
        assert!(
            found
                .evidence
                .iter()
                .any(|e| e.observed.to_string() == "[erp].[dbo].[orders].[ix_orders_note]")
        );
        // After a restart the counts mean nothing yet.
        f.facts[0].uptime_secs = Some(3600.0);
        assert!(findings_of(&f.assess(), "mssql.indexes.unused_writes").is_empty());
    }
}
