//! Table and index rules: large tables read by sequential scans (with the indexes
//! asked for), unused and duplicate indexes, and dead tuples autovacuum left behind.

use perfdiag_model::{Comparison, Threshold, Unit, Value, tables};

use super::{Columns, per_target, window};
use crate::baseline::Direction;
use crate::frames::Missing;
use crate::rules::index_evidence::{self, Asked, Engine, parse_keys};
use crate::rules::{RuleDef, context, crossed, finding, graded_for};

/// Large tables read mostly by sequential scans during the window: rows read per
/// second by those scans, for tables of at least `min_activity` live rows where
/// sequential scans outnumbered index scans.
pub(super) const SEQ_SCAN_HEAVY: RuleDef = RuleDef {
    id: "pg.tables.seq_scan_heavy",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let t = Columns::of(inputs, tables::PG_TABLES)?;
        let (schema, name) = (t.text("schema")?, t.text("table")?);
        let (seq_rows, seq, idx, live) = (
            t.int("seq_tup_read_window")?,
            t.int("seq_scan_window")?,
            t.int("idx_scan_window")?,
            t.int("n_live_tup")?,
        );
        let min = spec.min_activity.unwrap_or(0.0);
        // Key columns of the table's indexes: absent in snapshots before 0.2.
        let keys = t.text("index_keys").ok();
        per_target(inputs, |facts| {
            let (_, _, secs) = window(facts)?;
            let mut asked: Option<Vec<Asked>> = None;
            let mut out = Vec::new();
            for i in t.rows_of(&facts.target)? {
                let (Some(rows), Some(live)) = (seq_rows[i], live[i]) else {
                    continue;
                };
                if (live as f64) < min || seq[i].unwrap_or(0) <= idx[i].unwrap_or(0) {
                    continue;
                }
                let rate = rows as f64 / secs;
                if let Some((severity, threshold)) = spec.grade(rate) {
                    let (schema, name) = (
                        schema[i].as_deref().unwrap_or("?"),
                        name[i].as_deref().unwrap_or("?"),
                    );
                    let table = format!("{schema}.{name}");
                    let mut evidence = vec![
                        crossed(
                            "pg.tables.seq_tup_read_per_s",
                            Value::number(rate, Unit::PerSecond),
                            threshold,
                        ),
                        context(
                            "pg.tables.seq_scan",
                            Value::number(seq[i].unwrap_or(0) as f64, Unit::None),
                        ),
                        context(
                            "pg.tables.idx_scan",
                            Value::number(idx[i].unwrap_or(0) as f64, Unit::None),
                        ),
                        context(
                            "pg.tables.n_live_tup",
                            Value::number(live as f64, Unit::None),
                        ),
                    ];
                    let asked = asked.get_or_insert_with(|| {
                        index_evidence::asked(inputs.snapshot, Engine::Postgres, &facts.target)
                    });
                    // The heaviest index asked for on this table; an unqualified name
                    // is taken to be this table (the search_path is not known).
                    if let Some(a) = asked.iter().find(|a| {
                        a.candidate.table == name
                            && a.candidate.schema.as_deref().is_none_or(|s| s == schema)
                    }) {
                        let mut a = a.clone();
                        a.candidate.schema = Some(schema.to_owned());
                        let existing = keys.and_then(|k| k[i].as_deref()).map(parse_keys);
                        evidence.extend(a.evidence(Engine::Postgres, existing.as_deref()));
                    }
                    out.push(finding(
                        spec,
                        severity,
                        Some(format!("{} {table}", facts.target)),
                        evidence,
                    ));
                }
            }
            Ok(out)
        })
    },
};

/// Indexes never scanned since the statistics were reset (not unique, not primary,
/// valid): they cost every write and vacuum and take cache, for nothing. Judged on
/// their total size per target, once the statistics are at least a week old.
pub(super) const INDEXES_UNUSED: RuleDef = RuleDef {
    id: "pg.indexes.unused",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let t = Columns::of(inputs, tables::PG_INDEXES)?;
        let (index, size, scans) = (t.text("index")?, t.int("size_bytes")?, t.int("idx_scan")?);
        let (unique, primary, valid) = (
            t.boolean("is_unique")?,
            t.boolean("is_primary")?,
            t.boolean("is_valid")?,
        );
        per_target(inputs, |facts| {
            let db = facts.database.as_deref().unwrap_or_default();
            let reset = facts
                .end
                .as_ref()
                .or(facts.start.as_ref())
                .and_then(|c| c.databases.iter().find(|d| d.datname == db))
                .and_then(|d| d.stats_reset);
            if let (Some(reset), Some(at)) = (reset, facts.end.as_ref().map(|c| c.at))
                && (at - reset).num_days() < 7
            {
                return Err(Missing(format!(
                    "index usage statistics of at least 7 days (reset {reset})"
                )));
            }
            let unused: Vec<usize> = t
                .rows_of(&facts.target)?
                .into_iter()
                .filter(|&i| {
                    scans[i] == Some(0)
                        && unique[i] == Some(false)
                        && primary[i] == Some(false)
                        && valid[i] == Some(true)
                })
                .collect();
            let bytes: i64 = unused.iter().filter_map(|&i| size[i]).sum();
            let largest = unused
                .iter()
                .max_by_key(|&&i| size[i].unwrap_or(0))
                .and_then(|&i| index[i].clone());
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.indexes.unused_bytes",
                bytes as f64,
                || {
                    vec![context(
                        "pg.indexes.unused_count",
                        Value::number(unused.len() as f64, Unit::None),
                    )]
                    .into_iter()
                    .chain(largest.map(|l| context("pg.indexes.largest_unused", Value::text(l))))
                    .collect()
                },
            ))
        })
    },
};

/// Indexes with the same columns, operator classes, expressions and predicate as
/// another index of the same table.
pub(super) const INDEXES_DUPLICATE: RuleDef = RuleDef {
    id: "pg.indexes.duplicate",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let t = Columns::of(inputs, tables::PG_INDEXES)?;
        let (schema, index, dup, size) = (
            t.text("schema")?,
            t.text("index")?,
            t.text("duplicate_of")?,
            t.int("size_bytes")?,
        );
        per_target(inputs, |facts| {
            let pairs: Vec<(String, i64)> = t
                .rows_of(&facts.target)?
                .into_iter()
                .filter_map(|i| {
                    let of = dup[i].as_deref()?;
                    let s = schema[i].as_deref().unwrap_or("?");
                    Some((
                        format!("{s}.{} = {s}.{of}", index[i].as_deref().unwrap_or("?")),
                        size[i].unwrap_or(0),
                    ))
                })
                .collect();
            if pairs.is_empty() {
                return Ok(Vec::new());
            }
            let bytes: i64 = pairs.iter().map(|p| p.1).sum();
            let list: Vec<&str> = pairs.iter().map(|p| p.0.as_str()).collect();
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(facts.target.clone()),
                vec![
                    crossed(
                        "pg.indexes.duplicate_count",
                        Value::number(pairs.len() as f64, Unit::None),
                        Threshold::new(Comparison::Above, Value::number(0.0, Unit::None)),
                    ),
                    context("pg.indexes.duplicates", Value::text(list.join(", "))),
                    context(
                        "pg.indexes.duplicate_bytes",
                        Value::number(bytes as f64, Unit::Bytes),
                    ),
                ],
            )])
        })
    },
};

/// Dead tuples as a share of a table's tuples, for tables of at least `min_activity`
/// tuples: autovacuum is not keeping up, scans read dead rows and the table bloats.
pub(super) const VACUUM_DEAD_TUPLES: RuleDef = RuleDef {
    id: "pg.vacuum.dead_tuples",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let t = Columns::of(inputs, tables::PG_TABLES)?;
        let (schema, name, live, dead, last_av) = (
            t.text("schema")?,
            t.text("table")?,
            t.int("n_live_tup")?,
            t.int("n_dead_tup")?,
            t.int("last_autovacuum")?,
        );
        let min = spec.min_activity.unwrap_or(0.0);
        per_target(inputs, |facts| {
            let mut out = Vec::new();
            for i in t.rows_of(&facts.target)? {
                let (Some(l), Some(d)) = (live[i], dead[i]) else {
                    continue;
                };
                let total = (l + d) as f64;
                if total < min.max(1.0) {
                    continue;
                }
                let pct = d as f64 * 100.0 / total;
                if let Some((severity, threshold)) = spec.grade(pct) {
                    let table = format!(
                        "{}.{}",
                        schema[i].as_deref().unwrap_or("?"),
                        name[i].as_deref().unwrap_or("?")
                    );
                    let last = last_av[i]
                        .and_then(chrono::DateTime::from_timestamp_micros)
                        .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
                    out.push(finding(
                        spec,
                        severity,
                        Some(format!("{} {table}", facts.target)),
                        vec![
                            crossed(
                                "pg.tables.dead_tuple_pct",
                                Value::number(pct, Unit::Percent),
                                threshold,
                            ),
                            context("pg.tables.n_dead_tup", Value::number(d as f64, Unit::None)),
                            context("pg.tables.last_autovacuum", Value::text(last)),
                        ],
                    ));
                }
            }
            Ok(out)
        })
    },
};
