//! Workload rules over the window: buffer pool hit ratio, temporary tables on disk,
//! thread creation, and statement time spent in full scans.

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::facts::mysql::StatusWindow;
use perfdiag_model::{Evidence, Unit, Value, tables};

use super::super::index_evidence::{self, Engine, parse_keys};
use super::super::{Inputs, RuleDef, context, crossed, finding, graded_for};
use super::{Rows, per_target};
use crate::baseline::{Direction, RuleSpec};
use crate::expected;
use crate::frames::{Missing, Need};

fn window(t: &MysqlFacts) -> Need<&StatusWindow> {
    t.window
        .as_ref()
        .ok_or_else(|| Missing("facts mysql.window (two status readings)".into()))
}

/// A status counter's rate over the window, or the counter named as missing.
fn status_rate(w: &StatusWindow, name: &str) -> Need<f64> {
    w.rate(name)
        .ok_or_else(|| Missing(format!("status {name}")))
}

fn below_activity(spec: &RuleSpec, rate: f64) -> bool {
    spec.min_activity.is_some_and(|m| rate < m)
}

/// Buffer pool hit ratio over the window: reads that had to go to disk.
pub(in crate::rules) const HIT_RATIO: RuleDef = RuleDef {
    id: "mysql.buffer_pool.hit_ratio_low",
    direction: Direction::Below,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let w = window(t)?;
            let requests = status_rate(w, "Innodb_buffer_pool_read_requests")?;
            if below_activity(spec, requests) {
                return Ok(Vec::new());
            }
            let Some(hit) = w.buffer_pool_hit_pct() else {
                return Ok(Vec::new());
            };
            Ok(graded_for(
                spec,
                Some(t.target.clone()),
                "mysql.buffer_pool_hit_pct",
                hit,
                || {
                    vec![context(
                        "mysql.buffer_pool_reads_per_s",
                        Value::number(
                            w.rate("Innodb_buffer_pool_reads").unwrap_or(0.0),
                            Unit::PerSecond,
                        ),
                    )]
                },
            ))
        })
    },
};

/// Share of implicit temporary tables that went to disk.
pub(in crate::rules) const TMP_DISK: RuleDef = RuleDef {
    id: "mysql.tmp.disk_tables",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let w = window(t)?;
            let rate = status_rate(w, "Created_tmp_tables")?;
            if below_activity(spec, rate) {
                return Ok(Vec::new());
            }
            let Some(pct) = w.tmp_disk_pct() else {
                return Ok(Vec::new());
            };
            Ok(graded_for(
                spec,
                Some(t.target.clone()),
                "mysql.tmp_disk_pct",
                pct,
                || {
                    vec![
                        context(
                            "mysql.tmp_tables_per_s",
                            Value::number(rate, Unit::PerSecond),
                        ),
                        context(
                            "mysql.tmp_table_size",
                            Value::number(
                                t.settings.tmp_table_size_bytes.unwrap_or(0) as f64,
                                Unit::Bytes,
                            ),
                        ),
                    ]
                },
            ))
        })
    },
};

/// Threads created per second: each new connection without a cached thread costs a
/// thread creation (and its stack) on the server. The evidence adds the size MySQL 8
/// would give the cache for max_connections ([`expected::mysql::thread_cache_size`]).
pub(in crate::rules) const THREAD_CACHE: RuleDef = RuleDef {
    id: "mysql.threads.cache_misses",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let w = window(t)?;
            let rate = status_rate(w, "Threads_created")?;
            Ok(graded_for(
                spec,
                Some(t.target.clone()),
                "mysql.threads_created_per_s",
                rate,
                || {
                    let mut evidence = vec![context(
                        "mysql.thread_cache_size",
                        Value::number(t.settings.thread_cache_size.unwrap_or(0) as f64, Unit::None),
                    )];
                    if let Some(v) = expected::mysql::thread_cache_size(t) {
                        evidence.push(context(
                            "mysql.expected.thread_cache_size",
                            Value::number(v, Unit::None),
                        ));
                        evidence.push(context(
                            "mysql.expected.thread_cache_size.formula",
                            Value::text("mysql.thread_cache_autosize"),
                        ));
                    }
                    evidence
                },
            ))
        })
    },
};

/// Share of the window's statement time spent in statements that used no index (full
/// table scans), from the performance_schema digests.
pub(in crate::rules) const NO_INDEX: RuleDef = RuleDef {
    id: "mysql.statements.no_index",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let rows = Rows::of(inputs, tables::MYSQL_STATEMENTS, &t.target)?;
            if rows.rows.is_empty() {
                return Err(Missing(
                    "rows of mysql_statements (performance_schema digests)".into(),
                ));
            }
            let mut total = 0.0;
            let mut scans = 0.0;
            let mut worst: Option<(f64, usize)> = None;
            for &r in &rows.rows {
                let ms = rows.float("total_ms", r).unwrap_or(0.0);
                total += ms;
                if rows.int("no_index_used", r).unwrap_or(0) > 0 {
                    scans += ms;
                    if worst.is_none_or(|(w, _)| ms > w) {
                        worst = Some((ms, r));
                    }
                }
            }
            // min_activity: statement time (ms) in the window worth judging.
            if total <= 0.0 || spec.min_activity.is_some_and(|m| total < m) {
                return Ok(Vec::new());
            }
            let pct = scans * 100.0 / total;
            let Some((severity, threshold)) = spec.grade(pct) else {
                return Ok(Vec::new());
            };
            let mut evidence = vec![
                crossed(
                    "mysql.no_index_time_pct",
                    Value::number(pct, Unit::Percent),
                    threshold,
                ),
                context(
                    "mysql.statement_time_ms",
                    Value::number(total, Unit::Milliseconds),
                ),
            ];
            if let Some((ms, r)) = worst {
                evidence.push(context(
                    "mysql.top_full_scan.digest_text",
                    Value::text(rows.text("digest_text", r).unwrap_or("?")),
                ));
                evidence.push(context(
                    "mysql.top_full_scan.total_ms",
                    Value::number(ms, Unit::Milliseconds),
                ));
                if let Some(calls) = rows.int("calls", r) {
                    evidence.push(context(
                        "mysql.top_full_scan.calls",
                        Value::number(calls as f64, Unit::None),
                    ));
                }
            }
            evidence.extend(index_candidates(inputs, &t.target));
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// Most indexes suggested by one finding: the heaviest scans, the rest for later.
const MAX_CANDIDATES: usize = 3;

/// The indexes the full-scanning digests ask for, each with the indexes its table
/// already has when `mysql_tables` lists it.
fn index_candidates(inputs: &Inputs<'_>, target: &str) -> Vec<Evidence> {
    let tables = Rows::of(inputs, tables::MYSQL_TABLES, target).ok();
    let keys_of = |schema: Option<&str>, table: &str| {
        let t = tables.as_ref()?;
        let row = t.rows.iter().find(|&&r| {
            t.text("table", r) == Some(table)
                && schema.is_none_or(|s| t.text("schema", r) == Some(s))
        })?;
        t.text("index_keys", *row).map(parse_keys)
    };
    index_evidence::asked(inputs.snapshot, Engine::Mysql, target)
        .into_iter()
        .take(MAX_CANDIDATES)
        .flat_map(|a| {
            let existing = keys_of(a.candidate.schema.as_deref(), &a.candidate.table);
            a.evidence(Engine::Mysql, existing.as_deref())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use perfdiag_model::tables;

    use super::super::fixtures::{MyFixture, Statement};
    use crate::test_support::{evidence_number, findings_of, only_finding};

    #[test]
    fn window_rules_fire_on_their_counters() {
        let a = MyFixture::healthy().assess();
        for id in [
            "mysql.buffer_pool.hit_ratio_low",
            "mysql.tmp.disk_tables",
            "mysql.threads.cache_misses",
            "mysql.statements.no_index",
        ] {
            assert!(findings_of(&a, id).is_empty(), "{id}");
        }
        let mut f = MyFixture::healthy();
        f.set_delta("Innodb_buffer_pool_reads", 60_000); // 90 %
        f.set_delta("Created_tmp_disk_tables", 80); // 80 %
        f.set_delta("Threads_created", 1200); // 20/s
        let a = f.assess();
        let hit = only_finding(&a, "mysql.buffer_pool.hit_ratio_low");
        assert_eq!(hit.severity, Severity::Critical);
        assert!((evidence_number(hit, "mysql.buffer_pool_hit_pct") - 90.0).abs() < 1e-9);
        assert_eq!(
            only_finding(&a, "mysql.tmp.disk_tables").severity,
            Severity::Critical
        );
        assert_eq!(
            only_finding(&a, "mysql.threads.cache_misses").severity,
            Severity::Critical
        );
    }

    #[test]
    fn full_scans_fire_from_the_digests() {
        let mut f = MyFixture::healthy();
        f.statements[0].no_index_used = 40;
        let a = f.assess();
        let found = only_finding(&a, "mysql.statements.no_index");
        assert!(evidence_number(found, "mysql.no_index_time_pct") > 50.0);
        let mut f = MyFixture::healthy();
        f.statements.clear();
        f.assert_not_evaluated("mysql.statements.no_index", "rows of mysql_statements");
    }

    #[test]
    fn full_scans_name_the_indexes_their_digests_ask_for() {
        let texts = |f: &MyFixture, metric: &str| -> Vec<String> {
            only_finding(&f.assess(), "mysql.statements.no_index")
                .evidence
                .iter()
                .filter(|e| e.metric == metric)
                .map(|e| e.observed.to_string())
                .collect()
        };
        let mut f = MyFixture::healthy();
        f.statements[0].no_index_used = 40;
        f.statements.push(Statement {
            text: "SELECT `c`.`name` FROM `customers` `c` JOIN `orders` `o` ON `o`.`customer_id` = `c`.`id` WHERE `c`.`region` = ? AND `o`.`day` > ?",
            calls: 10,
            total_ms: 300.0,
            no_index_used: 10,
        });
        // The heaviest first; `(customer_id)` is served by `(customer_id, day)` and
        // merged into it; `SELECT * FROM settings` has no predicate to index.
        assert_eq!(
            texts(&f, "mysql.index.candidate"),
            [
                "`app`.`orders` (`customer_id`, `day`)",
                "`app`.`customers` (`region`, `id`)",
            ]
        );
        assert_eq!(
            texts(&f, "mysql.index.candidate.query")[0],
            "SELECT * FROM `orders` WHERE `customer_id` = ?"
        );
        assert_eq!(texts(&f, "mysql.index.candidate.total_ms")[0], "1200 ms");
        // An index leading with customer_id exists on orders: it is named, not added.
        let mut s = f.snapshot();
        let keys = perfdiag_model::col::utf8([Some("customer_id,day"), Some("id")]);
        let t = s
            .table(tables::MYSQL_TABLES)
            .expect("table")
            .columns()
            .iter()
            .fold(perfdiag_model::Table::new(), |t, c| match c.name.as_str() {
                "index_keys" => t.with("index_keys", keys.clone()),
                name => t.with(name, c.data.clone()),
            });
        s.put_table(tables::MYSQL_TABLES, t);
        let a = crate::assess(&s, &crate::Baseline::builtin()).expect("assess");
        let found = only_finding(&a, "mysql.statements.no_index");
        let covered: Vec<String> = found
            .evidence
            .iter()
            .filter(|e| e.metric == "mysql.index.covered_by")
            .map(|e| e.observed.to_string())
            .collect();
        assert_eq!(
            covered,
            ["`app`.`orders` (`customer_id`, `day`) (indexes: (customer_id, day))"]
        );
    }

    #[test]
    fn window_rules_need_two_readings() {
        let mut f = MyFixture::healthy();
        f.facts[0].window = None;
        for id in [
            "mysql.buffer_pool.hit_ratio_low",
            "mysql.tmp.disk_tables",
            "mysql.threads.cache_misses",
        ] {
            f.assert_not_evaluated(id, "facts mysql.window");
        }
    }
}
