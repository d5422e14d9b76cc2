//! Schema rules: tables without a primary key, MyISAM tables, redundant and unused
//! indexes. One finding per target, naming the first objects.

use perfdiag_model::{Comparison, Threshold, Unit, Value, tables};

use super::super::{RuleDef, context, crossed, finding};
use super::{Rows, listing, per_target};
use crate::baseline::Direction;
use crate::frames::Missing;

/// How many objects a finding names.
const NAMED: usize = 10;

fn count_evidence(metric: &str, n: usize, names: &[String]) -> Vec<perfdiag_model::Evidence> {
    vec![
        crossed(
            metric,
            Value::number(n as f64, Unit::None),
            Threshold::new(Comparison::Above, Value::number(0.0, Unit::None)),
        ),
        context(
            &format!("{metric}.names"),
            Value::text(listing(names, NAMED)),
        ),
    ]
}

/// InnoDB clusters rows by the primary key; without one it uses a hidden 6-byte row
/// id shared by all such tables (a global mutex), and row-based replication must scan
/// the whole table for every row changed on the source.
pub(in crate::rules) const NO_PRIMARY_KEY: RuleDef = RuleDef {
    id: "mysql.tables.no_primary_key",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            if t.data.is_none() {
                return Err(Missing("facts mysql.data (table list)".into()));
            }
            let rows = Rows::of(inputs, tables::MYSQL_TABLES, &t.target)?;
            let names: Vec<String> = rows
                .rows
                .iter()
                .filter(|&&r| rows.flag("has_primary_key", r) == Some(false))
                .map(|&r| rows.qualified(r))
                .collect();
            if names.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                count_evidence("mysql_tables.no_primary_key", names.len(), &names),
            )])
        })
    },
};

/// MyISAM: table-level locks, no crash recovery, no transactions.
pub(in crate::rules) const MYISAM: RuleDef = RuleDef {
    id: "mysql.tables.myisam",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let data = t
                .data
                .as_ref()
                .ok_or_else(|| Missing("facts mysql.data (table list)".into()))?;
            if data.myisam_tables == 0 {
                return Ok(Vec::new());
            }
            let names: Vec<String> = Rows::of(inputs, tables::MYSQL_TABLES, &t.target)
                .map(|rows| {
                    rows.rows
                        .iter()
                        .filter(|&&r| {
                            rows.text("engine", r)
                                .is_some_and(|e| e.eq_ignore_ascii_case("MyISAM"))
                        })
                        .map(|&r| rows.qualified(r))
                        .collect()
                })
                .unwrap_or_default();
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                count_evidence("mysql_tables.myisam", data.myisam_tables as usize, &names),
            )])
        })
    },
};

fn index_names(rows: &Rows<'_>, keep: impl Fn(usize) -> bool) -> Vec<String> {
    rows.rows
        .iter()
        .filter(|&&r| keep(r))
        .map(|&r| {
            format!(
                "{}.{}",
                rows.qualified(r),
                rows.text("index", r).unwrap_or("?")
            )
        })
        .collect()
}

/// An index whose columns lead another index: every write maintains it for nothing.
pub(in crate::rules) const REDUNDANT_INDEXES: RuleDef = RuleDef {
    id: "mysql.indexes.redundant",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            if t.data.is_none() {
                return Err(Missing("facts mysql.data (table list)".into()));
            }
            let rows = Rows::of(inputs, tables::MYSQL_INDEXES, &t.target)?;
            let names = index_names(&rows, |r| rows.text("redundant_with", r).is_some());
            if names.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                count_evidence("mysql_indexes.redundant", names.len(), &names),
            )])
        })
    },
};

/// Indexes never read since performance_schema started: judged only after a
/// representative uptime (`min_activity`, in hours), or month-end reports' indexes
/// would be called unused.
pub(in crate::rules) const UNUSED_INDEXES: RuleDef = RuleDef {
    id: "mysql.indexes.unused",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            if t.settings.performance_schema != Some(true) {
                return Err(Missing(
                    "performance_schema = ON (index usage statistics)".into(),
                ));
            }
            let hours = t
                .uptime_secs
                .ok_or_else(|| Missing("facts mysql.uptime_secs".into()))?
                as f64
                / 3600.0;
            if let Some(min) = spec.min_activity.filter(|m| hours < *m) {
                return Err(Missing(format!(
                    "an uptime of {min} h or more (index usage since startup; uptime {hours:.1} h)"
                )));
            }
            let rows = Rows::of(inputs, tables::MYSQL_INDEXES, &t.target)?;
            let names = index_names(&rows, |r| rows.flag("unused", r) == Some(true));
            if names.is_empty() {
                return Ok(Vec::new());
            }
            let mut evidence = count_evidence("mysql_indexes.unused", names.len(), &names);
            evidence.push(context(
                "mysql.uptime_hours",
                Value::number(hours.round(), Unit::None),
            ));
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
    use super::super::fixtures::MyFixture;
    use crate::test_support::{evidence_number, findings_of, only_finding};

    #[test]
    fn schema_rules_fire_on_their_objects() {
        let a = MyFixture::healthy().assess();
        for id in [
            "mysql.tables.no_primary_key",
            "mysql.tables.myisam",
            "mysql.indexes.redundant",
            "mysql.indexes.unused",
        ] {
            assert!(findings_of(&a, id).is_empty(), "{id}");
        }
        let mut f = MyFixture::healthy();
        f.tables.push(("app", "audit_log", "InnoDB", false));
        f.tables.push(("app", "legacy", "MyISAM", true));
        if let Some(d) = f.facts[0].data.as_mut() {
            d.myisam_tables = 1;
        }
        f.indexes.push((
            "app",
            "orders",
            "by_customer",
            Some("by_customer_date"),
            false,
        ));
        f.indexes.push(("app", "orders", "by_status", None, true));
        let a = f.assess();
        let np = only_finding(&a, "mysql.tables.no_primary_key");
        assert_eq!(evidence_number(np, "mysql_tables.no_primary_key"), 1.0);
        only_finding(&a, "mysql.tables.myisam");
        only_finding(&a, "mysql.indexes.redundant");
        only_finding(&a, "mysql.indexes.unused");
    }

    #[test]
    fn schema_rules_need_the_table_list() {
        let mut f = MyFixture::healthy();
        f.facts[0].data = None;
        f.assert_not_evaluated("mysql.tables.no_primary_key", "facts mysql.data");
        f.assert_not_evaluated("mysql.indexes.redundant", "facts mysql.data");
        let mut f = MyFixture::healthy();
        f.facts[0].uptime_secs = Some(600);
        f.assert_not_evaluated("mysql.indexes.unused", "uptime");
    }
}
